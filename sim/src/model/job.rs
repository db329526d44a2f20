//! What a pod (job) asks for.
//!
//! The request model covers the openb semantics (fgd-protocol §2.1): milli-CPU, memory in MiB,
//! a number of GPUs, the milli of *each* GPU, and an optional list of acceptable GPU models.

/// Index of a pod in the run's arrival list.
pub type PodId = usize;

/// A short string held inline (up to 24 bytes, no heap allocation): job names, classes, QoS
/// and application names. A million-job trace holds four per job, so a `String` each (24 bytes
/// plus a heap block) would be a third of the run's memory (issue 9, "Memory").
pub type Text = compact_str::CompactString;

/// The GPU models a pod accepts: empty means any (fgd-protocol §2.5, "type").
///
/// Behind an `Arc`, so that copying a [`Request`] (copy-on-write) does not copy the names; the
/// empty spec holds nothing. Pods of one request share it through [`RequestSet`].
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GpuSpec(Option<std::sync::Arc<SpecText>>);

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct SpecText {
    text: String,
    models: Vec<String>,
}

impl GpuSpec {
    pub fn parse(text: &str) -> GpuSpec {
        if text.is_empty() {
            return GpuSpec(None);
        }
        GpuSpec(Some(std::sync::Arc::new(SpecText {
            text: text.to_owned(),
            models: text
                .split('|')
                .map(str::trim)
                .filter(|m| !m.is_empty())
                .map(str::to_owned)
                .collect(),
        })))
    }

    /// The spec as written in the trace (`V100M16|V100M32`), part of the FGD typical-pod key.
    pub fn text(&self) -> &str {
        self.0.as_ref().map_or("", |s| &s.text)
    }

    /// The model names, split on `|` (duplicates are harmless); empty: any model.
    pub fn models(&self) -> &[String] {
        self.0.as_ref().map_or(&[], |s| &s.models)
    }

    /// Whether a card of `model` satisfies the spec (exact name match, §2.5).
    pub fn accepts(&self, model: &str) -> bool {
        let models = self.models();
        models.is_empty() || models.iter().any(|m| m == model)
    }
}

/// One pod: its own trace data (name, times, work, busy share) and what it asks for.
///
/// The request ([`Request`]: resources, device models, class, priority, placement limits)
/// is shared by every pod that asks for the same thing — a million-job trace has a few
/// thousand distinct requests — and read through the pod (`pod.cpu_milli`, by [`Deref`]).
/// Changing a field of a shared request (`pod.cpu_milli = 2000`, by [`DerefMut`]) gives the
/// pod a copy of its own first (copy-on-write), so a pod never changes another. Readers share
/// requests as they read ([`RequestSet`]); a pod built by hand holds its own. Why: memory per
/// job (issue 9, "Memory": ≤ 300 bytes per job; the request alone was 160 bytes).
///
/// [`Deref`]: std::ops::Deref
/// [`DerefMut`]: std::ops::DerefMut
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pod {
    pub name: Text,
    /// The trace's own times, if it has any ([`Pod::creation_time_s`] and the like); boxed
    /// because most traces have none and the replay reads none of them.
    trace_times: Option<Box<TraceTimes>>,

    // What the `replay` protocol uses (slicing-model §7.2); inflation ignores all of it.
    /// When the job arrives, ms from trace start.
    pub arrival_ms: u64,
    /// Work to do: ms of running alone on a whole card of relative speed 1.0 for its class.
    /// `None`: the trace does not say, and the job cannot be replayed.
    pub work_ms: Option<u64>,
    /// Share of one card the job keeps busy when alone, in milli (slicing-model §7.2 `u_i`).
    /// `None`: drawn from the run's demand distribution.
    pub demand_milli: Option<u32>,
    request: std::sync::Arc<Request>,
}

/// Times a trace records for a pod, seconds from trace start (openb `creation_time`,
/// `scheduled_time`, `deletion_time`; a job trace's submit, start and end). Metadata: inflation
/// and replay use the arrival and work derived from them, not these.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TraceTimes {
    pub creation_s: Option<u64>,
    pub scheduled_s: Option<u64>,
    pub deletion_s: Option<u64>,
}

/// What a pod asks for: the part of a [`Pod`] that many pods share.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Request {
    pub cpu_milli: u64,
    pub memory_mib: u64,
    /// Number of GPUs; 0 for a CPU-only pod.
    pub num_gpu: u32,
    /// Milli of *each* GPU, in 1..=1000; 0 for a CPU-only pod.
    pub gpu_milli: u32,
    pub gpu_spec: GpuSpec,
    /// QoS class from the trace (`LS`, `BE`, ...), if any.
    pub qos: Option<Text>,
    /// Priority: higher is more important. openb QoS: LS 3, Guaranteed 2, Burstable 1, BE 0.
    pub priority: i32,
    /// Device memory on each GPU, MiB. `None`: the same share of the card's memory as of its
    /// compute (`gpu_milli` / 1000 of the card as its slicing mode exposes it: under MIG, of
    /// the largest profile's memory — [`implied_memory_mib`]).
    ///
    /// [`implied_memory_mib`]: crate::model::slicing::implied_memory_mib
    pub gpu_memory_mib: Option<u64>,
    /// Job class for per-device speed (`training`, `inference`, `default`; see the catalog).
    pub class: Text,
    /// Counted in SLO attainment (openb QoS LS; every DLRM instance).
    pub latency_sensitive: bool,
    /// Application the job belongs to, for per-app density limits.
    pub app: Option<Text>,
    /// At most this many jobs of `app` on one node (DLRM `max_instance_per_node`).
    pub max_per_node: Option<u32>,
    /// Share of one node's RDMA NIC bandwidth, percent (DLRM `rdma_request`).
    pub rdma_pct: u32,
    /// The trace's multi-node shape (`num_nodes` × `gpus_per_node`, native format), when it
    /// names more than one node: the job then runs as a gang of exactly that many parts on
    /// distinct nodes ([`crate::model::gang`]). `None`: one node if one can hold it, else a gang
    /// the placer splits (a job needing more devices than any node has).
    pub gang: Option<GangShape>,
}

/// A pod as text is its name: the outputs take `&[Pod]` where they need job names, without a
/// list of names copied beside the pods.
impl AsRef<str> for Pod {
    fn as_ref(&self) -> &str {
        &self.name
    }
}

impl std::ops::Deref for Pod {
    type Target = Request;
    fn deref(&self) -> &Request {
        &self.request
    }
}

impl std::ops::DerefMut for Pod {
    /// Copy-on-write: a shared request is copied before it changes.
    fn deref_mut(&mut self) -> &mut Request {
        std::sync::Arc::make_mut(&mut self.request)
    }
}

/// Something per shared request ([`Pod::request_id`]), for work that is a function of the
/// request and need be done once per distinct request, not per pod. Valid while the pods live.
pub type PerRequest<V> = std::collections::HashMap<*const Request, V, foldhash::fast::FixedState>;

/// The distinct requests read so far, so that pods asking for the same thing share one
/// ([`Pod`]). A reader keeps one while it reads a trace.
#[derive(Debug, Default)]
pub struct RequestSet(
    std::collections::HashSet<std::sync::Arc<Request>, foldhash::fast::FixedState>,
);

impl RequestSet {
    /// `pod`, its request now the set's copy of an equal one (added if new).
    pub fn share(&mut self, mut pod: Pod) -> Pod {
        match self.0.get(&pod.request) {
            Some(known) => pod.request = std::sync::Arc::clone(known),
            None => {
                self.0.insert(std::sync::Arc::clone(&pod.request));
            }
        }
        pod
    }
}

/// A multi-node request as a trace states it: `num_nodes` parts of `gpus_per_node` devices
/// each, on distinct nodes (Slurm's `--nodes=N --gpus-per-node=G`). `num_gpu` of its pod is
/// their product; CPU and memory are the job's totals, shared by the parts
/// ([`crate::model::gang::part_request`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GangShape {
    /// At least 2.
    pub num_nodes: u32,
    /// At least 1.
    pub gpus_per_node: u32,
}

/// Priority of an openb QoS class (slicing-model §1.6: LS > Guaranteed/Burstable > BE).
pub fn openb_priority(qos: Option<&str>) -> i32 {
    match qos {
        Some("LS") => 3,
        Some("Guaranteed") => 2,
        Some("Burstable") => 1,
        _ => 0,
    }
}

impl Pod {
    /// The request this pod shares with every pod of its trace that asks for the same thing
    /// ([`RequestSet`]): two pods holding the same one ([`std::sync::Arc::ptr_eq`]) ask
    /// alike, which an index can tell without reading the request (issue 9: comparing a
    /// cold request's strings was a fifth of a saturated best-fit replay).
    pub fn shared_request(&self) -> &std::sync::Arc<Request> {
        &self.request
    }

    /// Its shared request's identity, the key of a [`PerRequest`] map.
    pub fn request_id(&self) -> *const Request {
        std::sync::Arc::as_ptr(&self.request)
    }

    /// A pod asking for GPU milli on `num_gpu` cards, with no trace metadata.
    pub fn new(name: &str, cpu_milli: u64, memory_mib: u64, num_gpu: u32, gpu_milli: u32) -> Pod {
        let mut pod = Pod {
            name: name.into(),
            trace_times: None,
            arrival_ms: 0,
            work_ms: None,
            demand_milli: None,
            request: std::sync::Arc::new(Request {
                cpu_milli,
                memory_mib,
                num_gpu,
                gpu_milli,
                gpu_spec: GpuSpec::default(),
                qos: None,
                priority: 0,
                gpu_memory_mib: None,
                class: crate::model::catalog::CLASS_DEFAULT.into(),
                latency_sensitive: false,
                app: None,
                max_per_node: None,
                rdma_pct: 0,
                gang: None,
            }),
        };
        pod.normalise_gpu();
        pod
    }

    /// Applies the openb converter's rules (fgd-protocol §2.1): a per-GPU milli above 1000
    /// means 1000, and a pod with no GPUs or no milli is CPU-only.
    pub fn normalise_gpu(&mut self) {
        self.gpu_milli = self.gpu_milli.min(crate::model::units::GPU_MILLI);
        if self.num_gpu == 0 || self.gpu_milli == 0 {
            self.num_gpu = 0;
            self.gpu_milli = 0;
        }
    }

    /// When the trace says the pod was created, s from trace start.
    pub fn creation_time_s(&self) -> Option<u64> {
        self.trace_times.as_ref().and_then(|t| t.creation_s)
    }

    /// When the trace says the pod was scheduled, s from trace start.
    pub fn scheduled_time_s(&self) -> Option<u64> {
        self.trace_times.as_ref().and_then(|t| t.scheduled_s)
    }

    /// When the trace says the pod was deleted, s from trace start.
    pub fn deletion_time_s(&self) -> Option<u64> {
        self.trace_times.as_ref().and_then(|t| t.deletion_s)
    }

    /// Records the trace's times (none at all: nothing is held).
    pub fn set_trace_times(&mut self, times: TraceTimes) {
        self.trace_times = (times != TraceTimes::default()).then(|| Box::new(times));
    }

    pub fn is_gpu_pod(&self) -> bool {
        self.num_gpu > 0
    }

    /// A pod that shares one GPU with others (one GPU, less than all of it).
    pub fn is_sharing(&self) -> bool {
        self.num_gpu == 1 && self.gpu_milli < crate::model::units::GPU_MILLI
    }

    /// Total GPU request: per-GPU milli × GPU count.
    pub fn total_gpu_milli(&self) -> u64 {
        u64::from(self.gpu_milli) * u64::from(self.num_gpu)
    }

    /// Every request field that feasibility ([`Node::fits`]) reads, but the priority (a
    /// time-shared slicing mode also reads its class): pods with equal keys and priorities fit
    /// exactly the same places. The replay engine groups its queue by it, and a policy may
    /// key what it remembers about refusals by it.
    ///
    /// [`Node::fits`]: crate::model::cluster::Node::fits
    pub fn fit_key(&self) -> FitKey<'_> {
        (
            self.cpu_milli,
            self.memory_mib,
            self.num_gpu,
            self.gpu_milli,
            self.gpu_memory_mib,
            self.gpu_spec.text(),
            self.app.as_deref().filter(|_| self.max_per_node.is_some()),
            self.max_per_node,
            self.rdma_pct,
            self.gang,
        )
    }

    /// The scheduling-relevant shape: pods with the same shape get the same scores.
    pub fn shape(&self) -> PodShape {
        PodShape {
            cpu_milli: self.cpu_milli,
            gpu_milli: self.gpu_milli,
            num_gpu: self.num_gpu,
            gpu_spec: self.gpu_spec.text().to_owned(),
        }
    }
}

/// [`Pod::fit_key`]: CPU milli, memory MiB, GPU count, per-GPU milli, GPU memory MiB, GPU
/// spec text, the app (only where a per-node density limit applies to it), that limit, RDMA
/// percent, gang shape.
pub type FitKey<'a> = (
    u64,
    u64,
    u32,
    u32,
    Option<u64>,
    &'a str,
    Option<&'a str>,
    Option<u32>,
    u32,
    Option<GangShape>,
);

/// (CPU, per-GPU milli, GPU count, spec text): the FGD typical-pod key (§2.7.6) and a cache key
/// for scorers that ignore memory.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PodShape {
    pub cpu_milli: u64,
    pub gpu_milli: u32,
    pub num_gpu: u32,
    pub gpu_spec: String,
}

/// A named list of pods in trace order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workload {
    /// File stem of the trace (`openb_pod_list_default`).
    pub name: String,
    pub pods: Vec<Pod>,
}

impl Workload {
    pub fn total_gpu_milli(&self) -> u64 {
        self.pods.iter().map(Pod::total_gpu_milli).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_matching_is_exact_and_empty_accepts_all() {
        let s = GpuSpec::parse("V100M16|V100M32|V100M32");
        assert!(s.accepts("V100M32"));
        assert!(!s.accepts("V100"));
        assert!(GpuSpec::parse("").accepts("T4"));
    }

    #[test]
    fn equal_requests_are_shared_and_a_change_copies_first() {
        let mut set = RequestSet::default();
        let a = set.share(Pod::new("a", 1000, 10, 1, 500));
        let b = set.share(Pod::new("b", 1000, 10, 1, 500));
        let c = set.share(Pod::new("c", 2000, 10, 1, 500));
        assert!(std::sync::Arc::ptr_eq(&a.request, &b.request));
        assert!(!std::sync::Arc::ptr_eq(&a.request, &c.request));
        let mut b = b;
        b.cpu_milli = 3000;
        assert_eq!(
            (a.cpu_milli, b.cpu_milli),
            (1000, 3000),
            "a keeps its request"
        );
        assert!(!std::sync::Arc::ptr_eq(&a.request, &b.request));
    }

    #[test]
    fn a_spec_keeps_its_text_and_models_and_the_empty_one_holds_nothing() {
        let a = GpuSpec::parse("T4|A10");
        assert_eq!(a, GpuSpec::parse("T4|A10"));
        assert_eq!(
            (a.text(), a.models()),
            ("T4|A10", &["T4".to_owned(), "A10".to_owned()][..])
        );
        assert!(GpuSpec::parse("").0.is_none());
    }

    /// Per-job memory (issue 9: ≤ 300 bytes per job in all): a pod is its name, times, work
    /// and a shared request, not a copy of the request.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn a_pod_stays_small() {
        assert!(
            std::mem::size_of::<Pod>() <= 72,
            "{}",
            std::mem::size_of::<Pod>()
        );
    }

    #[test]
    fn trace_times_are_held_only_when_given() {
        let mut p = Pod::new("p", 1, 1, 0, 0);
        p.set_trace_times(TraceTimes::default());
        assert!(p.trace_times.is_none() && p.creation_time_s().is_none());
        p.set_trace_times(TraceTimes {
            scheduled_s: Some(5),
            ..Default::default()
        });
        assert_eq!((p.creation_time_s(), p.scheduled_time_s()), (None, Some(5)));
    }

    #[test]
    fn converter_rules() {
        assert_eq!(Pod::new("p", 1, 1, 1, 1500).gpu_milli, 1000);
        let cpu_only = Pod::new("p", 1, 1, 2, 0);
        assert_eq!((cpu_only.num_gpu, cpu_only.total_gpu_milli()), (0, 0));
        assert!(Pod::new("p", 1, 1, 1, 400).is_sharing());
        assert!(!Pod::new("p", 1, 1, 2, 1000).is_sharing());
    }
}
