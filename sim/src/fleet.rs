//! The fleet: the nodes of a cluster and the device models on them, before any job runs.
//!
//! Two file formats:
//! * the openb node list CSV (`sn,cpu_milli,memory_mib,gpu,model`, fgd-protocol §2.1): every
//!   GPU is one card of 1000 milli; the model label only matters for `gpu_spec` constraints and
//!   every card runs at relative speed 1.0 (the trace's durations were measured on them), in the
//!   openb GPU-share mode unless a run overrides it;
//! * flexsim's TOML fleet file ([`Fleet::read_toml`], documented in `traces/README.md`): node
//!   groups, device models from the catalog with overrides, a slicing mode per device model.

use crate::catalog::{Catalog, DeviceModel, Vendor, CLASS_DEFAULT};
use crate::error::InputError;
use crate::perf::PerfParams;
use crate::profile::DeviceProfile;
use crate::slicing::SlicingMode;
use crate::trace::csv_rows::CsvTable;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Compute capacity of one card, in milli-GPU (fgd-protocol §2.1: every GPU has 1000).
pub const GPU_MILLI: u32 = 1000;

/// One node as the fleet file describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeSpec {
    pub name: String,
    pub cpu_milli: u64,
    pub memory_mib: u64,
    /// Number of accelerator cards, each of [`GPU_MILLI`].
    pub gpus: u32,
    /// Device model name (e.g. `V100M16`, `A100-80`); empty for a CPU-only node. A key of
    /// [`Fleet::devices`].
    pub model: String,
    /// Free-form labels (zone, rack, ...).
    pub labels: BTreeMap<String, String>,
    /// RDMA NIC bandwidth, percent of one NIC (100 = one NIC); `None` = not modelled.
    pub rdma_pct: Option<u32>,
}

impl NodeSpec {
    pub fn new(name: String, cpu_milli: u64, memory_mib: u64, gpus: u32, model: String) -> Self {
        NodeSpec {
            name,
            cpu_milli,
            memory_mib,
            gpus,
            model,
            labels: BTreeMap::new(),
            rdma_pct: None,
        }
    }
}

/// A device model as a fleet uses it: the model and the slicing mode its cards run in.
#[derive(Debug, Clone, PartialEq)]
pub struct FleetDevice {
    pub model: DeviceModel,
    pub mode: SlicingMode,
    /// Calibration profile the model's parameters came from, if any.
    pub profile: Option<PathBuf>,
    /// Performance parameters of this model's cards when a profile measured them; `None`:
    /// the run's defaults (slicing-model §7.2).
    pub perf: Option<PerfParams>,
    /// Which parameters came from the profile (`memory_mib`, `interference`, ...).
    pub from_profile: Vec<String>,
}

impl FleetDevice {
    /// A device without a profile.
    pub fn new(model: DeviceModel, mode: SlicingMode) -> Self {
        FleetDevice {
            model,
            mode,
            profile: None,
            perf: None,
            from_profile: Vec::new(),
        }
    }

    /// Applies a calibration profile (slicing-model §7.4): the measured memory and compute
    /// units replace the preset's; the measured spatial interference ι replaces ι₀ (with
    /// ι₁ = 0: the measurement already includes the workload's bandwidth-boundness); the
    /// measured time-slice overheads o_ts(k) give the switch cost as the mean of o_ts(k)/k
    /// times the period. Demand and throughput describe the calibration workload, not the
    /// device, so they are reported but not applied (use `--demand fixed:U` to replay with it).
    pub fn apply_profile(&mut self, path: &Path, profile: &DeviceProfile, defaults: PerfParams) {
        let mut used = Vec::new();
        if let Some(m) = profile.inventory.memory_mib {
            self.model.memory_mib = m;
            used.push("memory_mib");
        }
        if let Some(c) = profile
            .inventory
            .sm_count
            .or(profile.inventory.ai_core_count)
        {
            self.model.compute_units = c;
            used.push("compute_units");
        }
        let mut perf = defaults;
        let mut perf_changed = false;
        if let Some(i) = profile.measured.interference {
            perf.interference_base = i.clamp(0.0, 1.0);
            perf.interference_bandwidth = 0.0;
            used.push("interference");
            perf_changed = true;
        }
        if let Some(o) = profile.measured.timeslice_overhead.as_deref() {
            let per_switch: Vec<f64> = o
                .iter()
                .filter(|p| p.copies >= 2 && p.value.is_finite())
                .map(|p| p.value.max(0.0) / f64::from(p.copies))
                .collect();
            if !per_switch.is_empty() {
                let mean = per_switch.iter().sum::<f64>() / per_switch.len() as f64;
                perf.switch_cost_ms = mean * perf.timeslice_period_ms;
                used.push("timeslice_overhead");
                perf_changed = true;
            }
        }
        if perf_changed {
            self.perf = Some(perf);
        }
        self.profile = Some(path.to_owned());
        self.from_profile = used.into_iter().map(str::to_owned).collect();
    }
}

/// A named list of nodes and their device models.
#[derive(Debug, Clone, PartialEq)]
pub struct Fleet {
    /// File stem of the fleet file (`openb_node_list_gpu_node`).
    pub name: String,
    pub nodes: Vec<NodeSpec>,
    /// Every device model a node names, by name.
    pub devices: BTreeMap<String, FleetDevice>,
}

/// The most devices, or nodes, a fleet file may describe unless the caller opts out
/// ([`Fleet::read_limited`] with `None`, `--yes` on the command line). Ten million cards is a
/// thousand times the fleets of the published cluster traces (openb: 6,212 GPUs); the cluster
/// state of such a fleet takes gigabytes and every placement scans it, so a file beyond it is
/// far more likely a typo (`count = 100000000`) than a plan.
pub const FLEET_LIMIT: u64 = 10_000_000;

impl Fleet {
    /// A fleet of `nodes` whose device models follow the openb conventions: the catalog preset
    /// of the label when there is one (else a generic 32 GiB card), speed 1.0 for every class,
    /// in the openb GPU-share mode ([`SlicingMode::SHARE`]).
    pub fn new(name: String, nodes: Vec<NodeSpec>) -> Fleet {
        let mut devices = BTreeMap::new();
        for n in nodes.iter().filter(|n| n.gpus > 0) {
            devices
                .entry(n.model.clone())
                .or_insert_with(|| FleetDevice::new(openb_device(&n.model), SlicingMode::SHARE));
        }
        Fleet {
            name,
            nodes,
            devices,
        }
    }

    /// Total number of GPU cards.
    pub fn gpu_count(&self) -> u64 {
        self.nodes.iter().map(|n| u64::from(n.gpus)).sum()
    }

    /// Runs every device model in `mode`, or says which model does not support it.
    pub fn set_mode(&mut self, mode: SlicingMode) -> Result<(), String> {
        for (name, d) in &mut self.devices {
            if !d.model.supports(mode.kind()) {
                return Err(format!(
                    "device model {name} does not support slicing mode {:?}",
                    mode.kind()
                ));
            }
            d.mode = mode;
        }
        Ok(())
    }

    /// Puts every device model that supports `mode` in it; returns how many do.
    pub fn prefer_mode(&mut self, mode: SlicingMode) -> usize {
        let mut n = 0;
        for d in self.devices.values_mut() {
            if d.model.supports(mode.kind()) {
                d.mode = mode;
                n += 1;
            }
        }
        n
    }

    /// Reads a fleet file: TOML if the name ends in `.toml`, else the openb node CSV. A fleet
    /// beyond [`FLEET_LIMIT`] devices or nodes is refused ([`Fleet::read_limited`] opts out).
    pub fn read(path: &Path) -> Result<Fleet, InputError> {
        Fleet::read_limited(path, Some(FLEET_LIMIT))
    }

    /// [`Fleet::read`] with another limit on devices and nodes; `None` reads any size.
    pub fn read_limited(path: &Path, limit: Option<u64>) -> Result<Fleet, InputError> {
        if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(path).map_err(|source| InputError::Io {
                file: path.to_owned(),
                source,
            })?;
            Fleet::parse_toml_limited(path, &text, limit)
        } else {
            Fleet::parse_openb_csv_limited(path, crate::trace::csv_rows::open(path)?, limit)
        }
    }

    /// Reads an openb node CSV from `path`.
    pub fn read_openb_csv(path: &Path) -> Result<Fleet, InputError> {
        Fleet::parse_openb_csv(path, crate::trace::csv_rows::open(path)?)
    }

    /// Refuses a fleet of `devices` cards on `nodes` nodes beyond `limit` of either.
    fn check_size(
        path: &Path,
        devices: u64,
        nodes: u64,
        limit: Option<u64>,
    ) -> Result<(), InputError> {
        match limit {
            Some(limit) if devices > limit || nodes > limit => Err(InputError::FleetTooLarge {
                file: path.to_owned(),
                devices,
                nodes,
                limit,
            }),
            _ => Ok(()),
        }
    }

    /// Parses an openb node CSV; `path` names the source in messages and gives the fleet name.
    pub fn parse_openb_csv(path: &Path, source: impl std::io::Read) -> Result<Fleet, InputError> {
        Fleet::parse_openb_csv_limited(path, source, Some(FLEET_LIMIT))
    }

    fn parse_openb_csv_limited(
        path: &Path,
        source: impl std::io::Read,
        limit: Option<u64>,
    ) -> Result<Fleet, InputError> {
        let mut table = CsvTable::new(path, source)?;
        let sn = table.column("sn")?;
        let cpu = table.column("cpu_milli")?;
        let mem = table.column("memory_mib")?;
        let gpu = table.column("gpu")?;
        let model = table.column("model")?;
        let mut nodes = Vec::new();
        let mut names = std::collections::BTreeSet::new();
        table.for_each_row(|row| {
            let name = row.unique_name(sn, &mut names, "a node name")?;
            let node = NodeSpec::new(
                name,
                row.parse(cpu, "milli-CPU as a non-negative integer")?,
                row.parse(mem, "memory in MiB as a non-negative integer")?,
                row.parse(gpu, "a GPU count as a non-negative integer")?,
                row.text(model).to_owned(),
            );
            if node.gpus > 0 && node.model.is_empty() {
                return Err(row.error(model, "a GPU model name for a node with GPUs"));
            }
            nodes.push(node);
            Ok(())
        })?;
        if nodes.is_empty() {
            return Err(InputError::Invalid {
                file: path.to_owned(),
                message: "the fleet has no nodes".to_owned(),
            });
        }
        let devices = nodes.iter().map(|n| u64::from(n.gpus)).sum();
        Fleet::check_size(path, devices, nodes.len() as u64, limit)?;
        Ok(Fleet::new(crate::trace::file_stem(path), nodes))
    }

    /// Reads a TOML fleet file (format in `traces/README.md`).
    pub fn read_toml(path: &Path) -> Result<Fleet, InputError> {
        let text = std::fs::read_to_string(path).map_err(|source| InputError::Io {
            file: path.to_owned(),
            source,
        })?;
        Fleet::parse_toml(path, &text)
    }

    /// Parses a TOML fleet; `path` names the source in messages, gives the default name and
    /// anchors relative profile paths. A fleet beyond [`FLEET_LIMIT`] devices or nodes is
    /// refused before any node is built.
    pub fn parse_toml(path: &Path, text: &str) -> Result<Fleet, InputError> {
        Fleet::parse_toml_limited(path, text, Some(FLEET_LIMIT))
    }

    fn parse_toml_limited(
        path: &Path,
        text: &str,
        limit: Option<u64>,
    ) -> Result<Fleet, InputError> {
        let invalid = |message: String| InputError::Invalid {
            file: path.to_owned(),
            message,
        };
        let file: FleetFile = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let mut devices = BTreeMap::new();
        for (name, m) in &file.models {
            devices.insert(name.clone(), m.build(name, path).map_err(invalid)?);
        }
        // Sized from the group counts, before a single node is built: `count = 100000000` must
        // be an error, not minutes of allocation.
        let node_total: u64 = file.groups.iter().map(|g| u64::from(g.count)).sum();
        let device_total: u64 = file
            .groups
            .iter()
            .map(|g| u64::from(g.count) * u64::from(g.devices))
            .sum();
        Fleet::check_size(path, device_total, node_total, limit)?;
        let mut nodes = Vec::new();
        for g in &file.groups {
            if g.devices > 0 && !devices.contains_key(&g.model) {
                let model = match Catalog::preset(&g.model) {
                    Some(m) => m,
                    None => {
                        return Err(invalid(format!(
                            "group {}: device model {:?} is neither under [models] nor a catalog preset ({})",
                            g.name,
                            g.model,
                            Catalog::names().join(", ")
                        )))
                    }
                };
                let mode = default_mode(&model);
                devices.insert(g.model.clone(), FleetDevice::new(model, mode));
            }
            for i in 0..g.count {
                let mut n = NodeSpec::new(
                    format!("{}-{i:04}", g.name),
                    g.cpu_milli,
                    g.memory_mib,
                    g.devices,
                    if g.devices > 0 {
                        g.model.clone()
                    } else {
                        String::new()
                    },
                );
                n.labels = g.labels.clone();
                n.rdma_pct = g.rdma_pct;
                nodes.push(n);
            }
        }
        if nodes.is_empty() {
            return Err(invalid(
                "the fleet has no nodes (add a [[groups]] entry with count ≥ 1)".into(),
            ));
        }
        Ok(Fleet {
            name: file.name.unwrap_or_else(|| crate::trace::file_stem(path)),
            nodes,
            devices,
        })
    }
}

/// The device model behind an openb label: the catalog preset's memory and slicing support,
/// speed 1.0 for every class.
fn openb_device(label: &str) -> DeviceModel {
    let mut m = Catalog::preset(label).unwrap_or_else(|| DeviceModel {
        name: label.to_owned(),
        vendor: Vendor::Unknown,
        memory_mib: 32 * 1024,
        compute_units: 80,
        ai_cpus: 0,
        speed: BTreeMap::new(),
        slicing_modes: Catalog::preset("V100M32")
            .map(|v| v.slicing_modes)
            .unwrap_or_default(),
        mig: None,
        vnpu: None,
    });
    m.speed = BTreeMap::from([(CLASS_DEFAULT.to_owned(), 1.0)]);
    m
}

/// A device's mode when the fleet file does not say: whole cards (the Kubernetes default).
fn default_mode(_model: &DeviceModel) -> SlicingMode {
    SlicingMode::Whole
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FleetFile {
    name: Option<String>,
    #[serde(default)]
    models: BTreeMap<String, ModelEntry>,
    #[serde(default)]
    groups: Vec<GroupEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelEntry {
    /// Catalog preset to start from (default: the entry's own name).
    preset: Option<String>,
    /// Slicing mode name (see [`SlicingMode::from_name`]); default `whole`.
    slicing: Option<String>,
    memory_mib: Option<u64>,
    compute_units: Option<u32>,
    /// Relative speed per job class, replacing the preset's entries it names.
    #[serde(default)]
    speed: BTreeMap<String, f64>,
    /// Calibration profile, relative to the fleet file.
    profile: Option<PathBuf>,
}

impl ModelEntry {
    fn build(&self, name: &str, fleet_path: &Path) -> Result<FleetDevice, String> {
        let preset = self.preset.as_deref().unwrap_or(name);
        let mut model = Catalog::preset(preset).ok_or_else(|| {
            format!(
                "models.{name}: unknown preset {preset:?}; known: {}",
                Catalog::names().join(", ")
            )
        })?;
        model.name = name.to_owned();
        if let Some(m) = self.memory_mib {
            model.memory_mib = m;
        }
        if let Some(c) = self.compute_units {
            model.compute_units = c;
        }
        for (class, &s) in &self.speed {
            if !(s.is_finite() && s > 0.0) {
                return Err(format!(
                    "models.{name}.speed.{class}: expected a positive number, got {s}"
                ));
            }
            model.speed.insert(class.clone(), s);
        }
        let mode = match &self.slicing {
            None => default_mode(&model),
            Some(s) => SlicingMode::from_name(s).ok_or_else(|| {
                format!(
                    "models.{name}.slicing: unknown mode {s:?}; known: {}",
                    SlicingMode::NAMES.join(", ")
                )
            })?,
        };
        if !model.supports(mode.kind()) {
            return Err(format!(
                "models.{name}: device model does not support slicing mode {:?} (it supports {:?})",
                mode.kind(),
                model.slicing_modes
            ));
        }
        let mut device = FleetDevice::new(model, mode);
        if let Some(p) = &self.profile {
            let path = fleet_path.parent().unwrap_or(Path::new(".")).join(p);
            let profile =
                DeviceProfile::load(&path).map_err(|e| format!("models.{name}.profile: {e}"))?;
            device.apply_profile(&path, &profile, PerfParams::DEFAULT);
        }
        Ok(device)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupEntry {
    name: String,
    count: u32,
    cpu_milli: u64,
    memory_mib: u64,
    #[serde(default)]
    model: String,
    #[serde(default)]
    devices: u32,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    rdma_pct: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_openb_nodes() {
        let csv = "sn,cpu_milli,memory_mib,gpu,model\nn0,64000,262144,2,P100\nn1,32000,1024,0,\n";
        let f = Fleet::parse_openb_csv(Path::new("x/nodes.csv"), csv.as_bytes()).unwrap();
        assert_eq!(f.name, "nodes");
        assert_eq!(f.nodes.len(), 2);
        assert_eq!(f.gpu_count(), 2);
        assert_eq!(f.nodes[0].model, "P100");
        let p100 = &f.devices["P100"];
        assert_eq!(p100.mode, SlicingMode::SHARE);
        assert_eq!(p100.model.speed("training"), Some(1.0));
    }

    #[test]
    fn bad_field_names_file_line_and_column() {
        let csv = "sn,cpu_milli,memory_mib,gpu,model\nn0,64000,262144,2,P100\nn1,lots,1024,0,\n";
        let e = Fleet::parse_openb_csv(Path::new("nodes.csv"), csv.as_bytes()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "nodes.csv:3: column cpu_milli: expected milli-CPU as a non-negative integer, got \"lots\""
        );
    }

    #[test]
    fn missing_column_is_named() {
        let csv = "sn,cpu_milli,gpu,model\nn0,1,2,P100\n";
        let e = Fleet::parse_openb_csv(Path::new("nodes.csv"), csv.as_bytes()).unwrap_err();
        assert!(e.to_string().contains("missing column memory_mib"), "{e}");
    }

    const TOML: &str = r#"
name = "mixed"

[models.A100-80]
slicing = "mig"

[models.T4]
slicing = "flexai"
speed = { inference = 0.7 }

[[groups]]
name = "a100"
count = 2
cpu_milli = 128000
memory_mib = 1048576
model = "A100-80"
devices = 8
labels = { zone = "a" }

[[groups]]
name = "t4"
count = 3
cpu_milli = 64000
memory_mib = 262144
model = "T4"
devices = 2

[[groups]]
name = "cpu"
count = 1
cpu_milli = 96000
memory_mib = 393216
rdma_pct = 100
"#;

    #[test]
    fn fleet_beyond_the_device_limit_is_refused_before_it_is_built() {
        // 4e9 nodes of 8 cards: refused from the group counts, without building a node.
        let huge = "[[groups]]\nname = \"g\"\ncount = 4000000000\ncpu_milli = 1\nmemory_mib = 1\nmodel = \"T4\"\ndevices = 8\n";
        let e = Fleet::parse_toml(Path::new("huge.toml"), huge).unwrap_err();
        assert_eq!(
            e.to_string(),
            "huge.toml: the fleet has 32000000000 devices on 4000000000 nodes, beyond the limit of 10000000 devices or nodes"
        );
        // Just at the limit is fine to describe; one more card is not.
        let at = |devices: u64| {
            format!("[[groups]]\nname = \"g\"\ncount = 1\ncpu_milli = 1\nmemory_mib = 1\nmodel = \"T4\"\ndevices = {devices}\n")
        };
        assert!(Fleet::parse_toml_limited(Path::new("f.toml"), &at(9), Some(8)).is_err());
        assert!(Fleet::parse_toml_limited(Path::new("f.toml"), &at(8), Some(8)).is_ok());
        assert!(Fleet::parse_toml_limited(Path::new("f.toml"), &at(9), None).is_ok());
        // One CSV row can claim billions of cards too.
        let csv = "sn,cpu_milli,memory_mib,gpu,model\nn0,64000,262144,4000000000,P100\n";
        let e = Fleet::parse_openb_csv(Path::new("nodes.csv"), csv.as_bytes()).unwrap_err();
        assert!(
            matches!(
                e,
                InputError::FleetTooLarge {
                    devices: 4_000_000_000,
                    nodes: 1,
                    limit: FLEET_LIMIT,
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn reads_toml_groups_models_and_modes() {
        let f = Fleet::parse_toml(Path::new("fleets/mixed.toml"), TOML).unwrap();
        assert_eq!(f.name, "mixed");
        assert_eq!(f.nodes.len(), 6);
        assert_eq!(f.gpu_count(), 16 + 6);
        assert_eq!(f.nodes[0].name, "a100-0000");
        assert_eq!(f.nodes[0].labels["zone"], "a");
        assert_eq!(f.nodes[5].rdma_pct, Some(100));
        assert_eq!(f.devices["A100-80"].mode, SlicingMode::MIG);
        assert_eq!(f.devices["T4"].mode, SlicingMode::FLEXAI_VGPU);
        assert_eq!(f.devices["T4"].model.speed("inference"), Some(0.7));
    }

    #[test]
    fn toml_errors_say_what_is_known() {
        let bad = TOML.replace("slicing = \"mig\"", "slicing = \"migg\"");
        let e = Fleet::parse_toml(Path::new("f.toml"), &bad)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("unknown mode \"migg\"") && e.contains("timeshare"),
            "{e}"
        );
        let unsupported = TOML.replace("slicing = \"flexai\"", "slicing = \"mig\"");
        let e = Fleet::parse_toml(Path::new("f.toml"), &unsupported)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("models.T4") && e.contains("does not support"),
            "{e}"
        );
        let e = Fleet::parse_toml(Path::new("f.toml"), "[[groups]]\nname=1").unwrap_err();
        assert!(e.to_string().starts_with("f.toml: "), "{e}");
    }
}
