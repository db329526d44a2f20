//! What a pod (job) asks for.
//!
//! The request model covers the openb semantics (fgd-protocol §2.1): milli-CPU, memory in MiB,
//! a number of GPUs, the milli of *each* GPU, and an optional list of acceptable GPU models.

/// Index of a pod in the run's arrival list.
pub type PodId = usize;

/// The GPU models a pod accepts: empty means any (fgd-protocol §2.5, "type").
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GpuSpec {
    /// The spec as written in the trace (`V100M16|V100M32`), part of the FGD typical-pod key.
    pub text: String,
    /// The model names, split on `|` (duplicates are harmless).
    pub models: Vec<String>,
}

impl GpuSpec {
    pub fn parse(text: &str) -> GpuSpec {
        GpuSpec {
            text: text.to_owned(),
            models: text
                .split('|')
                .map(str::trim)
                .filter(|m| !m.is_empty())
                .map(str::to_owned)
                .collect(),
        }
    }

    /// Whether a card of `model` satisfies the spec (exact name match, §2.5).
    pub fn accepts(&self, model: &str) -> bool {
        self.models.is_empty() || self.models.iter().any(|m| m == model)
    }
}

/// One pod's request and trace metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pod {
    pub name: String,
    pub cpu_milli: u64,
    pub memory_mib: u64,
    /// Number of GPUs; 0 for a CPU-only pod.
    pub num_gpu: u32,
    /// Milli of *each* GPU, in 1..=1000; 0 for a CPU-only pod.
    pub gpu_milli: u32,
    pub gpu_spec: GpuSpec,
    /// QoS class from the trace (`LS`, `BE`, ...), if any.
    pub qos: Option<String>,
    /// Trace times in seconds from trace start, if the trace has them (unused by inflation).
    pub creation_time_s: Option<u64>,
    pub scheduled_time_s: Option<u64>,
    pub deletion_time_s: Option<u64>,

    // What the `replay` protocol uses (slicing-model §7.2); inflation ignores all of it.
    /// When the job arrives, ms from trace start.
    pub arrival_ms: u64,
    /// Work to do: ms of running alone on a whole card of relative speed 1.0 for its class.
    /// `None`: the trace does not say, and the job cannot be replayed.
    pub work_ms: Option<u64>,
    /// Share of one card the job keeps busy when alone, in milli (slicing-model §7.2 `u_i`).
    /// `None`: drawn from the run's demand distribution.
    pub demand_milli: Option<u32>,
    /// Priority: higher is more important. openb QoS: LS 3, Guaranteed 2, Burstable 1, BE 0.
    pub priority: i32,
    /// Device memory on each GPU, MiB. `None`: the same share of the card's memory as of its
    /// compute (`gpu_milli` / 1000 of the card as its slicing mode exposes it: under MIG, of
    /// the largest profile's memory — [`implied_memory_mib`]).
    ///
    /// [`implied_memory_mib`]: crate::model::slicing::implied_memory_mib
    pub gpu_memory_mib: Option<u64>,
    /// Job class for per-device speed (`training`, `inference`, `default`; see the catalog).
    pub class: String,
    /// Counted in SLO attainment (openb QoS LS; every DLRM instance).
    pub latency_sensitive: bool,
    /// Application the job belongs to, for per-app density limits.
    pub app: Option<String>,
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
    /// A pod asking for GPU milli on `num_gpu` cards, with no trace metadata.
    pub fn new(name: &str, cpu_milli: u64, memory_mib: u64, num_gpu: u32, gpu_milli: u32) -> Pod {
        let mut pod = Pod {
            name: name.to_owned(),
            cpu_milli,
            memory_mib,
            num_gpu,
            gpu_milli,
            gpu_spec: GpuSpec::default(),
            qos: None,
            creation_time_s: None,
            scheduled_time_s: None,
            deletion_time_s: None,
            arrival_ms: 0,
            work_ms: None,
            demand_milli: None,
            priority: 0,
            gpu_memory_mib: None,
            class: crate::model::catalog::CLASS_DEFAULT.to_owned(),
            latency_sensitive: false,
            app: None,
            max_per_node: None,
            rdma_pct: 0,
            gang: None,
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

    /// The scheduling-relevant shape: pods with the same shape get the same scores.
    pub fn shape(&self) -> PodShape {
        PodShape {
            cpu_milli: self.cpu_milli,
            gpu_milli: self.gpu_milli,
            num_gpu: self.num_gpu,
            gpu_spec: self.gpu_spec.text.clone(),
        }
    }
}

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
    fn converter_rules() {
        assert_eq!(Pod::new("p", 1, 1, 1, 1500).gpu_milli, 1000);
        let cpu_only = Pod::new("p", 1, 1, 2, 0);
        assert_eq!((cpu_only.num_gpu, cpu_only.total_gpu_milli()), (0, 0));
        assert!(Pod::new("p", 1, 1, 1, 400).is_sharing());
        assert!(!Pod::new("p", 1, 1, 2, 1000).is_sharing());
    }
}
