//! A Kubernetes cluster snapshot, `kubectl get nodes,pods -A -o json`: one JSON `List` whose
//! `items` are `Node` and `Pod` objects. Its pods are a trace (this module); its nodes are a
//! fleet ([`crate::input::k8s_nodes`]). "Replay my cluster" is one file given twice:
//!
//! ```text
//! kubectl get nodes,pods -A -o json > snap.json
//! flexsim run --protocol replay --trace snap.json --fleet snap.json
//! ```
//!
//! The file is read as a stream: each item is converted as it is parsed and then dropped, so
//! annotations such as `kubectl.kubernetes.io/last-applied-configuration` never accumulate.
//! A malformed file is reported at serde's line and column (`snap.json:12: column 30: ...`),
//! a bad value inside an item names the item (`Pod default/train-0: ...`).
//!
//! ## Mapping a pod onto a job
//!
//! | pod | job field | rule |
//! |---|---|---|
//! | `metadata.namespace`, `.name` | `name` | `NAMESPACE/NAME` |
//! | `status.phase` | `arrival_ms` | `Running` ⇒ 0 (present at the start); `Pending` ⇒ [`PENDING_ARRIVAL_MS`], just after every running pod; `Succeeded`, `Failed`, `Unknown` ⇒ not a job: skipped and counted in a warning |
//! | containers' `resources` | `cpu_milli`, `memory_mib`, devices | a container's request, or its limit where it states no request (Kubernetes' defaulting); the pod's request is the sum over its containers, or the largest init container's where that is larger (the scheduler's rule); CPU rounded up to a milli-core, memory up to a MiB |
//! | device resources | `num_gpu`, `gpu_milli`, `gpu_memory_mib` | table below |
//! | `spec.nodeSelector["nvidia.com/gpu.product"]` | `gpu_spec` | through the GPU-name table ([`crate::input::gpu_names`]); unmapped names are an error listing all |
//! | `spec.priority` | `priority` | as is (the admission controller's value from `priorityClassName`); absent ⇒ 0 |
//! | `status.qosClass` | `qos` | `Guaranteed`, `Burstable`, `BestEffort`, for per-class reports |
//! | annotation `flexsim.io/work-s` | `work_ms` | seconds of work, when the user states it; absent ⇒ [`DEFAULT_WORK_MS`] (a snapshot says nothing about how long a pod will run) |
//! | `spec.nodeName` | — | **not kept**: a flexsim job carries no node binding, so a running pod is placed again at t = 0 by the policy under test (on its old node or not). The replay answers "what would this policy make of this cluster's load", not "what happens next on the current placement". |
//!
//! Demand is drawn by the run (a snapshot has no utilisation); class `default`.
//!
//! ## Device resources
//!
//! | resource (pod request) | who registers it | job |
//! |---|---|---|
//! | `nvidia.com/gpu` | NVIDIA k8s-device-plugin (whole cards); HAMi (vGPUs, one per card) | `num_gpu` |
//! | `nvidia.com/gpucores` | HAMi: percent of each card's compute | `gpu_milli` = % × 10; absent or 0 ⇒ 1000 |
//! | `nvidia.com/gpumem` | HAMi: MiB of each card | `gpu_memory_mib` |
//! | `volcano.sh/vgpu-number`, `-cores`, `-memory` | Volcano vGPU device plugin (count, %, MiB) | as HAMi's |
//! | `huawei.com/vgpu-number`, `-cores`, `vgpu-memory.1Gi` | Flex:ai device plugin (count, % in 5 % steps, GiB) | as HAMi's; memory × 1024 |
//! | `huawei.com/Ascend910`, `Ascend910B`, `Ascend910B3` | Ascend device plugin, HAMi Ascend | whole NPUs, `gpu_spec = Ascend910B3`; HAMi's `-memory` (MiB) and `-core` (%) as above |
//! | `huawei.com/Ascend310P`, `Ascend310P3` | the same | whole NPUs, `gpu_spec = Ascend310P3` |
//!
//! A pod asking for compute or memory of a family without its count asks for one device (HAMi's
//! `defaultGPUNum`). A pod asking for two families is an error, as is a pod (or node) listed
//! twice. Sources: HAMi
//! `docs/config.md` and `examples/nvidia/` (Project-HAMi/HAMi), Volcano's vGPU user guide
//! (`volcano-sh/devices`), Flex:ai `GPU-device-plugin/pkg/plugin/xpu/gpu.go` (the resource
//! names registered, `ModelEngine-Group/flexai`), HAMi `docs/ascend910b-support.md`; the
//! project's digest of them is `slicing-model.md` §1.1, §2.1, §2.4. Other extended resources
//! (`nvidia.com/mig-*`, `rdma/*`, HAMi's `gpumem-percentage`, ...) are not read, and named in
//! one warning.

use crate::error::InputError;
use crate::input::Warnings;
use crate::model::fleet::NodeSpec;
use crate::model::job::{GpuSpec, Pod, Text, Workload};
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::BufRead;
use std::path::Path;

/// Arrival of a pending pod: 1 ms, after every running pod (which arrive at 0) has been offered
/// to the policy, so the snapshot's running load is in place first.
pub const PENDING_ARRIVAL_MS: u64 = 1;

/// Work of a pod whose annotation [`WORK_ANNOTATION`] does not state one: one hour.
pub const DEFAULT_WORK_MS: u64 = 3_600_000;

/// The pod annotation a user may set to state a pod's work, in seconds.
pub const WORK_ANNOTATION: &str = "flexsim.io/work-s";

/// GPU feature discovery's labels: the card's product name, and the physical card count
/// (NVIDIA/k8s-device-plugin, `docs/gpu-feature-discovery`).
pub const PRODUCT_LABEL: &str = "nvidia.com/gpu.product";
pub const COUNT_LABEL: &str = "nvidia.com/gpu.count";

/// Whether the text `source` is about to give starts a JSON object: its first byte after
/// blanks (and a UTF-8 byte-order mark) is `{`. Consumes only those blanks.
pub fn starts_as_json(source: &mut impl BufRead) -> std::io::Result<bool> {
    let mut first = true;
    loop {
        let buf = source.fill_buf()?;
        if buf.is_empty() {
            return Ok(false);
        }
        if first && buf.starts_with(&[0xEF, 0xBB, 0xBF]) {
            source.consume(3);
            first = false;
            continue;
        }
        first = false;
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => {
                let json = buf[i] == b'{';
                source.consume(i);
                return Ok(json);
            }
            None => {
                let n = buf.len();
                source.consume(n);
            }
        }
    }
}

/// A device family: the resources a pod asks for it with, and the catalog model it implies.
struct Family {
    name: &'static str,
    count: &'static [&'static str],
    cores: &'static [&'static str],
    /// Memory resources and MiB per unit.
    memory: &'static [(&'static str, u64)],
    /// The device model when the family implies one (Ascend); `None`: from the node selector.
    model: Option<&'static str>,
}

const FAMILIES: [Family; 5] = [
    Family {
        name: "NVIDIA / HAMi",
        count: &["nvidia.com/gpu"],
        cores: &["nvidia.com/gpucores"],
        memory: &[("nvidia.com/gpumem", 1)],
        model: None,
    },
    Family {
        name: "Volcano vGPU",
        count: &["volcano.sh/vgpu-number"],
        cores: &["volcano.sh/vgpu-cores"],
        memory: &[("volcano.sh/vgpu-memory", 1)],
        model: None,
    },
    Family {
        name: "Flex:ai vGPU",
        count: &["huawei.com/vgpu-number"],
        cores: &["huawei.com/vgpu-cores"],
        memory: &[("huawei.com/vgpu-memory.1Gi", 1024)],
        model: None,
    },
    Family {
        name: "Ascend 910",
        count: &[
            "huawei.com/Ascend910",
            "huawei.com/Ascend910B",
            "huawei.com/Ascend910B3",
        ],
        cores: &[
            "huawei.com/Ascend910-core",
            "huawei.com/Ascend910B-core",
            "huawei.com/Ascend910B3-core",
        ],
        memory: &[
            ("huawei.com/Ascend910-memory", 1),
            ("huawei.com/Ascend910B-memory", 1),
            ("huawei.com/Ascend910B3-memory", 1),
        ],
        model: Some("Ascend910B3"),
    },
    Family {
        name: "Ascend 310P",
        count: &["huawei.com/Ascend310P", "huawei.com/Ascend310P3"],
        cores: &["huawei.com/Ascend310P-core", "huawei.com/Ascend310P3-core"],
        memory: &[
            ("huawei.com/Ascend310P-memory", 1),
            ("huawei.com/Ascend310P3-memory", 1),
        ],
        model: Some("Ascend310P3"),
    },
];

/// Resources every node or pod may carry that flexsim does not model and need no warning.
fn is_standard(resource: &str) -> bool {
    matches!(resource, "cpu" | "memory" | "pods" | "ephemeral-storage")
        || resource.starts_with("hugepages-")
        || resource.starts_with("attachable-volumes-")
}

fn is_device_resource(resource: &str) -> bool {
    FAMILIES.iter().any(|f| {
        f.count.contains(&resource)
            || f.cores.contains(&resource)
            || f.memory.iter().any(|(m, _)| *m == resource)
    })
}

/// A Kubernetes resource quantity (`500m`, `4Gi`, `1.5`, `2e3`), exactly, in billionths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Quantity {
    pub nano: u128,
}

const NANO: u128 = 1_000_000_000;

impl Quantity {
    /// Parses the quantity grammar of `k8s.io/apimachinery/pkg/api/resource` (a decimal
    /// number, then a binary suffix `Ki`..`Ei`, a decimal one `n`, `u`, `m`, `k`, `M`..`E`, or an
    /// exponent `e3`); a fraction below a billionth is rounded up, as Kubernetes rounds up.
    /// Negative quantities are refused (no resource is negative).
    pub fn parse(text: &str) -> Option<Quantity> {
        let s = text.trim();
        let s = s.strip_prefix('+').unwrap_or(s);
        let num_end = s
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(s.len());
        let (number, suffix) = s.split_at(num_end);
        let (int, frac) = number.split_once('.').unwrap_or((number, ""));
        if int.is_empty() && frac.is_empty() || frac.contains('.') {
            return None;
        }
        let (binary, mut exp10): (u32, i32) = match suffix {
            "" => (0, 0),
            "n" => (0, -9),
            "u" => (0, -6),
            "m" => (0, -3),
            "k" => (0, 3),
            "M" => (0, 6),
            "G" => (0, 9),
            "T" => (0, 12),
            "P" => (0, 15),
            "E" => (0, 18),
            "Ki" => (10, 0),
            "Mi" => (20, 0),
            "Gi" => (30, 0),
            "Ti" => (40, 0),
            "Pi" => (50, 0),
            "Ei" => (60, 0),
            e if e.starts_with(['e', 'E']) => (0, e[1..].parse::<i32>().ok()?),
            _ => return None,
        };
        let digits = frac.len().min(40);
        let mut mantissa: u128 = 0;
        for c in int.chars().chain(frac[..digits].chars()) {
            mantissa = mantissa
                .checked_mul(10)?
                .checked_add(u128::from(c.to_digit(10)?))?;
        }
        exp10 = exp10
            .checked_add(9)?
            .checked_sub(i32::try_from(digits).ok()?)?;
        let mut nano = mantissa.checked_mul(1u128.checked_shl(binary)?)?;
        if exp10 >= 0 {
            nano = nano.checked_mul(10u128.checked_pow(exp10.unsigned_abs())?)?;
        } else if exp10 >= -38 {
            nano = nano.div_ceil(10u128.pow(exp10.unsigned_abs()));
        } else {
            nano = u128::from(nano > 0);
        }
        Some(Quantity { nano })
    }

    /// Whole units, if the quantity is a whole number that fits.
    fn whole(self) -> Option<u64> {
        self.nano
            .is_multiple_of(NANO)
            .then(|| u64::try_from(self.nano / NANO).ok())
            .flatten()
    }

    /// Thousandths, rounded up (milli-CPU).
    fn milli_up(self) -> u64 {
        u64::try_from(self.nano.div_ceil(1_000_000)).unwrap_or(u64::MAX)
    }

    /// Units of `unit` bytes, rounded up (a request) or down (a capacity).
    fn in_units(self, unit: u128, up: bool) -> u64 {
        let d = NANO * unit;
        let v = if up {
            self.nano.div_ceil(d)
        } else {
            self.nano / d
        };
        u64::try_from(v).unwrap_or(u64::MAX)
    }
}

const QUANTITY: &str = "a Kubernetes quantity: a non-negative number with an optional suffix \
                        (m, k, M, G, Ki, Mi, Gi, ...)";

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Quantity;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(QUANTITY)
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Quantity, E> {
                Quantity::parse(s)
                    .ok_or_else(|| E::custom(format!("expected {QUANTITY}, got {s:?}")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Quantity, E> {
                Ok(Quantity {
                    nano: u128::from(v) * NANO,
                })
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Quantity, E> {
                u64::try_from(v)
                    .map_err(|_| E::custom(format!("expected {QUANTITY}, got {v}")))
                    .and_then(|v| self.visit_u64(v))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Quantity, E> {
                self.visit_str(&v.to_string())
            }
        }
        d.deserialize_any(V)
    }
}

type Resources = BTreeMap<String, Quantity>;

#[derive(Deserialize, Default)]
#[serde(default)]
struct Meta {
    name: String,
    namespace: Option<String>,
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ContainerResources {
    requests: Resources,
    limits: Resources,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Container {
    resources: ContainerResources,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Spec {
    containers: Vec<Container>,
    init_containers: Vec<Container>,
    node_selector: BTreeMap<String, String>,
    priority: Option<i32>,
    unschedulable: bool,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Status {
    phase: Option<String>,
    qos_class: Option<String>,
    capacity: Resources,
    allocatable: Resources,
}

#[derive(Deserialize)]
struct Item {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    metadata: Meta,
    #[serde(default)]
    spec: Spec,
    #[serde(default)]
    status: Status,
}

/// What to convert: the pods (a trace) or the nodes (a fleet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Want {
    Pods,
    Nodes,
}

/// What reading a snapshot gave, and what it noticed.
#[derive(Default)]
pub(crate) struct Snapshot {
    pub pods: Vec<Pod>,
    requests: crate::model::job::RequestSet,
    pub nodes: Vec<NodeSpec>,
    /// GPU names that map onto no catalog model, with where (`node a`, `pod ns/x`).
    unmapped: Vec<(String, String)>,
    /// Pods not replayed, by phase.
    finished: BTreeMap<String, usize>,
    running: usize,
    cordoned: usize,
    unread: BTreeSet<String>,
    other_kinds: BTreeMap<String, usize>,
    want: Option<Want>,
    /// Names taken so far, of pods or nodes (what `want` converts).
    names: crate::input::csv_rows::NameSet,
}

impl Snapshot {
    fn take(&mut self, item: Item) -> Result<(), String> {
        match (item.kind.as_str(), self.want) {
            ("Pod", Some(Want::Pods)) => self.pod(item),
            ("Node", Some(Want::Nodes)) => self.node(item),
            ("Pod" | "Node", _) => Ok(()),
            (other, _) => {
                *self.other_kinds.entry(other.to_owned()).or_default() += 1;
                Ok(())
            }
        }
    }

    fn note_unread<'r>(&mut self, resources: impl Iterator<Item = &'r String>) {
        for r in resources {
            if !is_standard(r) && !is_device_resource(r) {
                self.unread.insert(r.clone());
            }
        }
    }

    fn pod(&mut self, item: Item) -> Result<(), String> {
        let name = match &item.metadata.namespace {
            Some(ns) => format!("{ns}/{}", item.metadata.name),
            None => item.metadata.name.clone(),
        };
        let what = format!("Pod {name}");
        let phase = item.status.phase.clone().unwrap_or_default();
        let arrival_ms = match phase.as_str() {
            "Running" => 0,
            "Pending" => PENDING_ARRIVAL_MS,
            _ => {
                *self.finished.entry(phase).or_default() += 1;
                return Ok(());
            }
        };
        if item.metadata.name.is_empty() {
            return Err("a Pod without metadata.name".to_owned());
        }
        if !self.names.insert(&name) {
            return Err(format!("{what}: listed twice"));
        }
        // Effective request per resource: Σ containers, or the largest init container.
        let mut request: BTreeMap<&str, u128> = BTreeMap::new();
        fn effective(c: &Container) -> BTreeMap<&str, u128> {
            let r = &c.resources;
            let mut m: BTreeMap<&str, u128> = BTreeMap::new();
            for (k, q) in r.limits.iter().chain(r.requests.iter()) {
                // Requests come second and replace limits.
                m.insert(k.as_str(), q.nano);
            }
            m
        }
        for c in &item.spec.containers {
            for (k, v) in effective(c) {
                let e = request.entry(k).or_default();
                *e = e.saturating_add(v);
            }
        }
        for c in &item.spec.init_containers {
            for (k, v) in effective(c) {
                let e = request.entry(k).or_default();
                *e = (*e).max(v);
            }
        }
        let q = |k: &str| request.get(k).map(|&nano| Quantity { nano });
        let cpu_milli = q("cpu").map_or(0, Quantity::milli_up);
        let memory_mib = q("memory").map_or(0, |m| m.in_units(1 << 20, true));
        let mut device: Option<(&Family, u64)> = None;
        for f in &FAMILIES {
            let count = f.count.iter().filter_map(|r| q(r)).next();
            let asks = count.is_some_and(|c| c.nano > 0)
                || f.cores
                    .iter()
                    .chain(f.memory.iter().map(|(m, _)| m))
                    .any(|r| q(r).is_some_and(|v| v.nano > 0));
            if !asks {
                continue;
            }
            if let Some((other, _)) = device {
                return Err(format!(
                    "{what}: asks for devices of two families, {} and {}; flexsim places a job \
                     on one device model",
                    other.name, f.name
                ));
            }
            let n = match count {
                Some(c) => c.whole().ok_or_else(|| {
                    format!("{what}: {}: expected a whole device count", f.count[0])
                })?,
                None => 1,
            };
            device = Some((f, n));
        }
        let (num_gpu, gpu_milli, gpu_memory_mib, family_model) = match device {
            None => (0, 0, None, None),
            Some((f, n)) => {
                let num = u32::try_from(n)
                    .map_err(|_| format!("{what}: {} devices: expected at most 2^32", n))?;
                let cores = f.cores.iter().filter_map(|r| q(r)).next();
                let milli = match cores {
                    None => 1000,
                    Some(c) => match c.whole() {
                        Some(0) => 1000,
                        Some(p) if p <= 100 => p as u32 * 10,
                        _ => {
                            return Err(format!(
                                "{what}: device cores: expected a whole percent 0..=100"
                            ))
                        }
                    },
                };
                let mem = f
                    .memory
                    .iter()
                    .find_map(|(r, unit)| q(r).map(|v| (v, *unit)))
                    .map(|(v, unit)| {
                        v.whole().and_then(|m| m.checked_mul(unit)).ok_or_else(|| {
                            format!("{what}: device memory: expected a whole number")
                        })
                    })
                    .transpose()?;
                (num, milli, mem, f.model)
            }
        };
        let mut pod = Pod::new(&name, cpu_milli, memory_mib, num_gpu, gpu_milli);
        pod.gpu_memory_mib = gpu_memory_mib.filter(|_| num_gpu > 0);
        if let Some(m) = family_model.filter(|_| num_gpu > 0) {
            pod.gpu_spec = GpuSpec::parse(m);
        } else if let Some(product) = item.spec.node_selector.get(PRODUCT_LABEL) {
            match crate::input::gpu_names::catalog_model(product) {
                Some(m) => pod.gpu_spec = GpuSpec::parse(m),
                None => self.unmapped.push((product.clone(), format!("pod {name}"))),
            }
        }
        pod.priority = item.spec.priority.unwrap_or(0);
        pod.qos = item.status.qos_class.as_deref().map(Text::from);
        pod.arrival_ms = arrival_ms;
        pod.work_ms = Some(match item.metadata.annotations.get(WORK_ANNOTATION) {
            None => DEFAULT_WORK_MS,
            Some(s) => s
                .trim()
                .parse::<f64>()
                .ok()
                .map(|v| (v * 1000.0).round())
                .filter(|v| (0.0..=9.007_199_254_740_992e15).contains(v))
                .map(|v| v as u64)
                .ok_or_else(|| {
                    format!(
                        "{what}: annotation {WORK_ANNOTATION}: expected seconds as a \
                         non-negative number, got {s:?}"
                    )
                })?,
        });
        if arrival_ms == 0 {
            self.running += 1;
        }
        let keys: Vec<String> = request.keys().map(|k| (*k).to_owned()).collect();
        self.note_unread(keys.iter());
        self.pods.push(self.requests.share(pod));
        Ok(())
    }

    fn node(&mut self, item: Item) -> Result<(), String> {
        let name = item.metadata.name.clone();
        if name.is_empty() {
            return Err("a Node without metadata.name".to_owned());
        }
        if !self.names.insert(&name) {
            return Err(format!("Node {name}: listed twice"));
        }
        if item.spec.unschedulable {
            self.cordoned += 1;
            return Ok(());
        }
        let what = format!("Node {name}");
        let status = &item.status;
        let get = |k: &str| {
            status
                .allocatable
                .get(k)
                .or_else(|| status.capacity.get(k))
                .copied()
        };
        let cpu_milli = get("cpu").map_or(0, |c| c.nano / 1_000_000);
        let cpu_milli = u64::try_from(cpu_milli).unwrap_or(u64::MAX);
        let memory_mib = get("memory").map_or(0, |m| m.in_units(1 << 20, false));
        let labels = &item.metadata.labels;
        let mut devices: Vec<(&Family, u64)> = Vec::new();
        for f in &FAMILIES {
            let count = f.count.iter().filter_map(|r| get(r)).next();
            let vgpu_only = count.is_none() && f.cores.iter().any(|r| get(r).is_some());
            let n = if count.is_some_and(|c| c.nano == 0) {
                // The device plugin advertises none (GPUs unhealthy or not yet registered),
                // whatever the labels say.
                0
            } else if f.model.is_none() && (count.is_some() || vgpu_only) {
                // NVIDIA-side families: the physical count from GPU feature discovery when it
                // labels the node (HAMi, Volcano and Flex:ai advertise vGPUs, not cards).
                match labels.get(COUNT_LABEL) {
                    Some(l) => l.trim().parse::<u64>().map_err(|_| {
                        format!("{what}: label {COUNT_LABEL}: expected a whole count, got {l:?}")
                    })?,
                    None if f.name == "NVIDIA / HAMi" => count
                        .and_then(Quantity::whole)
                        .ok_or_else(|| format!("{what}: {}: expected a whole count", f.count[0]))?,
                    None => {
                        return Err(format!(
                            "{what}: advertises {} resources but has no label {COUNT_LABEL}: \
                             its physical card count is unknown",
                            f.name
                        ))
                    }
                }
            } else {
                match count {
                    Some(c) => c
                        .whole()
                        .ok_or_else(|| format!("{what}: {}: expected a whole count", f.count[0]))?,
                    None => 0,
                }
            };
            if n > 0
                && !devices
                    .iter()
                    .any(|(d, _)| d.model.is_none() && f.model.is_none())
            {
                devices.push((f, n));
            }
        }
        if devices.len() > 1 {
            return Err(format!(
                "{what}: holds devices of two families, {} and {}; a flexsim node holds one \
                 device model",
                devices[0].0.name, devices[1].0.name
            ));
        }
        let (gpus, model) = match devices.first() {
            None => (0, String::new()),
            Some((f, n)) => {
                let gpus = u32::try_from(*n)
                    .map_err(|_| format!("{what}: {n} devices: expected at most 2^32"))?;
                let model = match f.model {
                    Some(m) => m.to_owned(),
                    None => {
                        let product = labels.get(PRODUCT_LABEL).cloned().unwrap_or_default();
                        match crate::input::gpu_names::catalog_model(&product) {
                            Some(m) => m.to_owned(),
                            None => {
                                self.unmapped.push((product, format!("node {name}")));
                                String::new()
                            }
                        }
                    }
                };
                (gpus, model)
            }
        };
        let keys: Vec<String> = status
            .allocatable
            .keys()
            .chain(status.capacity.keys())
            .cloned()
            .collect();
        self.note_unread(keys.iter());
        let mut node = NodeSpec::new(name, cpu_milli, memory_mib, gpus, model);
        node.labels = item.metadata.labels;
        self.nodes.push(node);
        Ok(())
    }

    /// The warnings of a read: skipped items, unread resources, and the node binding.
    fn warnings(&self, path: &Path, warnings: &mut Warnings) {
        let file = path.display();
        if !self.finished.is_empty() {
            let listed: Vec<String> = self
                .finished
                .iter()
                .map(|(p, n)| format!("{n} {}", if p.is_empty() { "without a phase" } else { p }))
                .collect();
            warnings.push(format!(
                "{file}: skipping pods that neither run nor wait: {}",
                listed.join(", ")
            ));
        }
        if self.running > 0 {
            warnings.push(format!(
                "{file}: {} running pods arrive at t=0 and are placed by the policy; their \
                 node bindings (spec.nodeName) are not kept",
                self.running
            ));
        }
        if self.cordoned > 0 {
            warnings.push(format!(
                "{file}: skipping {} unschedulable (cordoned) nodes",
                self.cordoned
            ));
        }
        if !self.unread.is_empty() {
            let listed: Vec<&str> = self.unread.iter().map(String::as_str).collect();
            warnings.push(format!(
                "{file}: ignoring resources flexsim does not model: {}",
                listed.join(", ")
            ));
        }
        if !self.other_kinds.is_empty() {
            let listed: Vec<String> = self
                .other_kinds
                .iter()
                .map(|(k, n)| format!("{n} {}", if k.is_empty() { "without a kind" } else { k }))
                .collect();
            warnings.push(format!(
                "{file}: ignoring items that are neither Node nor Pod: {}",
                listed.join(", ")
            ));
        }
    }
}

struct ListSeed<'s>(&'s mut Snapshot);

impl<'de> DeserializeSeed<'de> for ListSeed<'_> {
    type Value = bool;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ListSeed<'_> {
    /// Whether the object had `items`.
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Kubernetes List object, as `kubectl get nodes,pods -o json` writes")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let snapshot = self.0;
        let mut items = false;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "kind" => {
                    let kind: String = map.next_value()?;
                    if kind != "List" {
                        return Err(de::Error::custom(format!(
                            "kind {kind:?}: expected a List of Nodes and Pods (kubectl get \
                             nodes,pods -o json)"
                        )));
                    }
                }
                "items" => {
                    map.next_value_seed(ItemsSeed(&mut *snapshot))?;
                    items = true;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(items)
    }
}

struct ItemsSeed<'s>(&'s mut Snapshot);

impl<'de> DeserializeSeed<'de> for ItemsSeed<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ItemsSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of Kubernetes objects")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(item) = seq.next_element::<Item>()? {
            self.0.take(item).map_err(de::Error::custom)?;
        }
        Ok(())
    }
}

/// Reads a snapshot, converting the items `want` asks for.
pub(crate) fn read_snapshot(
    path: &Path,
    source: impl std::io::Read,
    want: Want,
) -> Result<Snapshot, InputError> {
    let mut snapshot = Snapshot {
        want: Some(want),
        ..Snapshot::default()
    };
    let mut de = serde_json::Deserializer::from_reader(source);
    let had_items = ListSeed(&mut snapshot)
        .deserialize(&mut de)
        .and_then(|items| de.end().map(|()| items))
        .map_err(|e| json_error(path, &e))?;
    if !had_items {
        return Err(InputError::Invalid {
            file: path.to_owned(),
            message: "the JSON object has no \"items\": expected a List of Nodes and Pods \
                      (kubectl get nodes,pods -o json)"
                .to_owned(),
        });
    }
    let what = match want {
        Want::Pods => "nvidia.com/gpu.product node selector",
        Want::Nodes => "nvidia.com/gpu.product label",
    };
    if let Some(e) = crate::input::gpu_names::unmapped_error(path, what, &snapshot.unmapped) {
        return Err(e);
    }
    Ok(snapshot)
}

/// A serde_json error as `FILE:LINE: column COL: MESSAGE`.
fn json_error(path: &Path, e: &serde_json::Error) -> InputError {
    let text = e.to_string();
    let message = match text.rfind(" at line ") {
        Some(i) => &text[..i],
        None => &text,
    };
    InputError::Row {
        file: path.to_owned(),
        line: e.line() as u64,
        message: format!("column {}: {message}", e.column()),
    }
}

/// Reads the pods of a snapshot at `path`.
pub fn read(path: &Path) -> Result<Workload, InputError> {
    parse(path, crate::input::csv_rows::open(path)?)
}

/// Parses the pods of the snapshot `source`; `path` names it and gives the trace name.
pub fn parse(path: &Path, source: impl std::io::Read) -> Result<Workload, InputError> {
    parse_noting(path, source, &mut Warnings::new())
}

/// [`parse`], pushing onto `warnings` what was skipped or not read.
pub fn parse_noting(
    path: &Path,
    source: impl std::io::Read,
    warnings: &mut Warnings,
) -> Result<Workload, InputError> {
    let snapshot = read_snapshot(path, source, Want::Pods)?;
    snapshot.warnings(path, warnings);
    if snapshot.pods.is_empty() {
        return Err(InputError::Invalid {
            file: path.to_owned(),
            message: "the snapshot has no Running or Pending pods".to_owned(),
        });
    }
    Ok(Workload {
        name: crate::input::file_stem(path),
        pods: snapshot.pods,
    })
}

/// The nodes of the snapshot `source`, and its warnings, for [`crate::input::k8s_nodes`].
pub(crate) fn nodes_noting(
    path: &Path,
    source: impl std::io::Read,
    warnings: &mut Warnings,
) -> Result<Vec<NodeSpec>, InputError> {
    let snapshot = read_snapshot(path, source, Want::Nodes)?;
    snapshot.warnings(path, warnings);
    Ok(snapshot.nodes)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn fixture() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../traces/fixtures/k8s/snapshot.json")
    }

    fn by_name<'w>(w: &'w Workload, name: &str) -> &'w Pod {
        w.pods.iter().find(|p| p.name == name).unwrap()
    }

    #[test]
    fn quantities_parse_exactly() {
        let q = |s: &str| Quantity::parse(s).map(|q| q.nano);
        assert_eq!(q("500m"), Some(500_000_000));
        assert_eq!(q("2"), Some(2 * NANO));
        assert_eq!(q("1.5"), Some(1_500_000_000));
        assert_eq!(q("4Gi"), Some(4 * (1 << 30) * NANO));
        assert_eq!(q("128974848"), Some(128_974_848 * NANO));
        assert_eq!(q("129e6"), Some(129_000_000 * NANO));
        assert_eq!(q("123Mi"), Some(123 * (1 << 20) * NANO));
        assert_eq!(q("1E"), Some(NANO * 1_000_000_000_000_000_000));
        assert_eq!(q("1n"), Some(1));
        assert_eq!(q("0.1n"), Some(1));
        assert_eq!(q("-1"), None);
        assert_eq!(q("abc"), None);
        assert_eq!(q("1.2.3"), None);
        assert_eq!(q("99999999999999999999999999999999Ei"), None);
        assert_eq!(Quantity::parse("250m").unwrap().milli_up(), 250);
        assert_eq!(
            Quantity::parse("1Gi").unwrap().in_units(1 << 20, true),
            1024
        );
    }

    #[test]
    fn parses_the_fixture_pods() {
        let mut warnings = Warnings::new();
        let w = crate::input::trace::read_any_noting(&fixture(), &mut warnings).unwrap();
        assert_eq!(w.name, "snapshot");
        assert_eq!(
            w.pods.len(),
            5,
            "{:?}",
            w.pods.iter().map(|p| &p.name).collect::<Vec<_>>()
        );
        // Whole cards from the NVIDIA device plugin, running: at t=0.
        let train = by_name(&w, "ml/train-0");
        assert_eq!((train.num_gpu, train.gpu_milli), (8, 1000));
        assert_eq!((train.cpu_milli, train.memory_mib), (32_000, 256 * 1024));
        assert_eq!((train.arrival_ms, train.work_ms), (0, Some(7_200_000)));
        assert_eq!(train.gpu_spec.models(), ["A100-80"]);
        assert_eq!(
            (train.priority, train.qos.as_deref()),
            (1000, Some("Guaranteed"))
        );
        // HAMi: 30 % of a card and 4000 MiB, pending: after the running pods.
        let hami = by_name(&w, "ml/infer-hami");
        assert_eq!(
            (hami.num_gpu, hami.gpu_milli, hami.gpu_memory_mib),
            (1, 300, Some(4000))
        );
        assert_eq!(
            (hami.arrival_ms, hami.work_ms),
            (PENDING_ARRIVAL_MS, Some(DEFAULT_WORK_MS))
        );
        // The sidecar's limit stands in for its request; the init container is smaller.
        assert_eq!((hami.cpu_milli, hami.memory_mib), (2_500, 4096 + 128));
        // Flex:ai: 25 % and 2 GiB.
        let flexai = by_name(&w, "ml/infer-flexai");
        assert_eq!((flexai.gpu_milli, flexai.gpu_memory_mib), (250, Some(2048)));
        // Volcano vGPU and Ascend.
        let volcano = by_name(&w, "batch/vc-job");
        assert_eq!(
            (volcano.num_gpu, volcano.gpu_milli, volcano.gpu_memory_mib),
            (2, 500, Some(10240))
        );
        let npu = by_name(&w, "npu/llm-0");
        assert_eq!(
            (npu.num_gpu, npu.gpu_spec.models().to_vec()),
            (4, vec!["Ascend910B3".to_owned()])
        );
        let file = fixture().display().to_string();
        assert_eq!(
            warnings,
            [
                format!("{file}: skipping pods that neither run nor wait: 1 Succeeded"),
                format!(
                    "{file}: 2 running pods arrive at t=0 and are placed by the policy; their \
                     node bindings (spec.nodeName) are not kept"
                ),
                format!("{file}: ignoring resources flexsim does not model: rdma/hca"),
            ]
        );
    }

    #[test]
    fn malformed_copies_name_file_line_and_column() {
        let text = std::fs::read_to_string(fixture()).unwrap();
        let bad = text.replacen("\"cpu\": \"2\"", "\"cpu\": \"two\"", 1);
        assert_ne!(bad, text);
        let line = bad.lines().position(|l| l.contains("\"two\"")).unwrap() + 1;
        let e = parse(Path::new("snap.json"), bad.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(e.starts_with(&format!("snap.json:{line}: column ")), "{e}");
        assert!(
            e.ends_with(&format!("expected {QUANTITY}, got \"two\"")),
            "{e}"
        );
        let cut = &text[..text.len() / 2];
        let e = parse(Path::new("snap.json"), cut.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(e.contains("EOF while parsing"), "{e}");
        let e = parse(
            Path::new("p.json"),
            br#"{"kind": "Pod", "items": []}"#.as_slice(),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "p.json:1: column 15: kind \"Pod\": expected a List of Nodes and Pods (kubectl get \
             nodes,pods -o json)"
        );
    }

    #[test]
    fn items_listed_twice_are_errors_naming_them() {
        let pod = r#"{"kind":"Pod","metadata":{"name":"p","namespace":"n"},"status":{"phase":"Pending"}}"#;
        let text = format!(r#"{{"kind":"List","items":[{pod},{pod}]}}"#);
        let e = parse(Path::new("s.json"), text.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("s.json:1: column ") && e.ends_with("Pod n/p: listed twice"),
            "{e}"
        );
        let node =
            r#"{"kind":"Node","metadata":{"name":"a"},"status":{"allocatable":{"cpu":"4"}}}"#;
        let text = format!(r#"{{"kind":"List","items":[{node},{node}]}}"#);
        let e = nodes_noting(Path::new("s.json"), text.as_bytes(), &mut Vec::new())
            .unwrap_err()
            .to_string();
        assert!(e.ends_with("Node a: listed twice"), "{e}");
    }

    #[test]
    fn unmapped_products_and_two_families_are_errors() {
        let pod = |sel: &str, res: &str| {
            format!(
                r#"{{"kind":"List","items":[{{"kind":"Pod","metadata":{{"name":"p"}},
                "spec":{{"nodeSelector":{{"nvidia.com/gpu.product":"{sel}"}},
                "containers":[{{"resources":{{"limits":{res}}}}}]}},
                "status":{{"phase":"Pending"}}}}]}}"#
            )
        };
        let e = parse(
            Path::new("s.json"),
            pod("RTX-4090", r#"{"nvidia.com/gpu":1}"#).as_bytes(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with(
                "s.json: 1 nvidia.com/gpu.product node selector value maps onto no catalog \
                 device model: \"RTX-4090\" (pod p)"
            ),
            "{e}"
        );
        let two = pod(
            "Tesla-T4",
            r#"{"nvidia.com/gpu":1,"huawei.com/Ascend910":1}"#,
        );
        let e = parse(Path::new("s.json"), two.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("Pod p: asks for devices of two families, NVIDIA / HAMi and Ascend 910"),
            "{e}"
        );
    }
}
