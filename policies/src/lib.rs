//! # flexsim-policies: every policy shipped with flexsim
//!
//! One file per policy, named after its CLI name, written only against `flexsim_sim`'s public
//! API — the same API an outside author gets. [`registry`] maps names to constructors.
//!
//! ## Adding a policy
//!
//! 1. Write `src/<cli-name>.rs` with a type implementing
//!    [`NodeScorer`](flexsim_sim::policy::NodeScorer) (filter/score/tie-break/GPU choice come
//!    from [`Greedy`]) or [`Policy`].
//!    A policy defined for one slicing mode says so with `preferred_slicing` (on the
//!    [`NodeScorer`](flexsim_sim::policy::NodeScorer) too, which `Greedy` passes on); replay
//!    policies may also order the queue (`order_queue`), preempt (`preempt`), split a job over
//!    two nodes when nothing fits locally (`place_remote`) and ask to be called at a time
//!    (`next_wake`: a demotion or a starvation guard on time). Every call names the job it is
//!    about by id.
//! 2. Declare the module below and add one [`PolicyInfo`] line to [`registry`]. A policy with
//!    parameters lists them as a `const PARAMS: &[ParamSpec]` (key, default, one line of help)
//!    and builds itself from the resolved [`Params`] (`from_params`); the registry checks a
//!    request `name[key=value,...]` against that list before `make` sees it, so `make` only
//!    checks values (`Params::parse`, `list`, `choice`, `bad`).
//! 3. Pin the rule with unit tests on small hand-built clusters;
//!    [`flexsim_sim::testing`] (`cluster_in`, `placed`, `replay_on`) builds them from catalog
//!    models.
//! 4. `flexsim run --policy <cli-name>` runs it; `flexsim policies` lists it.
//!
//! A policy kept outside this repository is registered in its own binary instead, through the
//! `flexsim` library's [`Registry`] (`flexsim::Cli::new().with_policy(..).run()`; README
//! "Writing a policy").
//!
//! ```
//! use flexsim_sim::model::cluster::{Cluster, NodeId};
//! use flexsim_sim::model::job::Pod;
//! use flexsim_sim::policy::{Greedy, NodeScorer, Policy};
//!
//! /// Fewest free GPU milli first: a one-line binpack.
//! struct TightestNode;
//! impl NodeScorer for TightestNode {
//!     fn name(&self) -> &str { "tightest-node" }
//!     fn score(&mut self, cluster: &Cluster, node: NodeId, _pod: &Pod) -> i64 {
//!         -(cluster.node(node).gpu_free_total() as i64)
//!     }
//! }
//! let policy: Box<dyn Policy> = Box::new(Greedy::new(TightestNode));
//! assert_eq!(policy.name(), "tightest-node");
//! ```

use flexsim_sim::policy::params::{ParamError, ParamSpec, Params, PolicyRequest};
use flexsim_sim::policy::{Greedy, Policy};

#[path = "best-fit.rs"]
pub mod best_fit;
#[path = "dot-product.rs"]
pub mod dot_product;
#[path = "easy-backfill.rs"]
pub mod easy_backfill;
pub mod fgd;
pub mod fifo;
#[path = "fifo-skip.rs"]
pub mod fifo_skip;
#[path = "first-fit.rs"]
pub mod first_fit;
pub mod gittins;
#[path = "gpu-clustering.rs"]
pub mod gpu_clustering;
#[path = "gpu-packing.rs"]
pub mod gpu_packing;
pub mod hami;
pub mod hi;
#[path = "hi-binpack.rs"]
pub mod hi_binpack;
#[path = "hi-hetero.rs"]
pub mod hi_hetero;
#[path = "hi-priority.rs"]
pub mod hi_priority;
#[path = "hi-remote.rs"]
pub mod hi_remote;
#[path = "hi-timeshare.rs"]
pub mod hi_timeshare;
#[path = "k8s-default.rs"]
pub mod k8s_default;
pub mod las;
#[path = "mig-static.rs"]
pub mod mig_static;
pub mod placement;
pub mod preemption;
pub mod random;
pub mod sjf;
pub mod srtf;
pub mod tiresias;
#[path = "topo-aware.rs"]
pub mod topo_aware;
#[path = "volcano-binpack.rs"]
pub mod volcano_binpack;

/// Max specs that DotProd and BestFit divide by, whatever the node (fgd-protocol §2.7:
/// 128 cores, 8 GPUs).
pub(crate) const MAX_SPEC_CPU_MILLI: f64 = 128_000.0;
pub(crate) const MAX_SPEC_GPU_MILLI: f64 = 8_000.0;

/// A registered policy: its CLI name, a one-line description, its parameters and a
/// constructor from their resolved values.
pub struct PolicyInfo {
    pub name: &'static str,
    pub description: &'static str,
    /// The parameters `name[key=value,...]` may set, with their defaults.
    pub params: &'static [ParamSpec],
    pub make: fn(&Params) -> Result<Box<dyn Policy>, ParamError>,
}

/// For policies that take no parameters.
const NO_PARAMS: &[ParamSpec] = &[];

/// A policy built from a request such as `tiresias[thresholds=3250:7200]`.
pub struct Built {
    pub policy: Box<dyn Policy>,
    /// What was asked for; its canonical form names the run.
    pub request: PolicyRequest,
    /// Every parameter with the value used (given or default), for the run's summary.
    pub params: Params,
}

/// Every shipped policy: the FGD paper's baselines in its order, the cluster baselines (the
/// classic queue disciplines and size- and service-based schedulers after Tiresias), then the
/// Hi Scheduler variants.
pub fn registry() -> Vec<PolicyInfo> {
    vec![
        PolicyInfo {
            name: "random",
            description: "FGD baseline: a uniformly random feasible node and GPU",
            params: NO_PARAMS,
            make: |_| Ok(Box::new(random::Random::default())),
        },
        PolicyInfo {
            name: "dot-product",
            description: "FGD baseline: smallest dot product of free resources and request",
            params: NO_PARAMS,
            make: |_| Ok(Box::new(Greedy::new(dot_product::DotProduct))),
        },
        PolicyInfo {
            name: "gpu-clustering",
            description: "FGD baseline: pack pods with the same GPU-count tag together",
            params: NO_PARAMS,
            make: |_| Ok(Box::new(Greedy::new(gpu_clustering::GpuClustering))),
        },
        PolicyInfo {
            name: "gpu-packing",
            description: "FGD baseline: fill shared GPUs, then used nodes, then idle nodes",
            params: NO_PARAMS,
            make: |_| Ok(Box::new(Greedy::new(gpu_packing::GpuPacking::default()))),
        },
        PolicyInfo {
            name: "best-fit",
            description: "FGD baseline: node left with the least free CPU + GPU",
            params: NO_PARAMS,
            make: |_| Ok(Box::new(Greedy::new(best_fit::BestFit))),
        },
        PolicyInfo {
            name: "fgd",
            description: "Fragmentation Gradient Descent (Weng et al., ATC'23)",
            params: NO_PARAMS,
            make: |_| Ok(Box::new(Greedy::new(fgd::Fgd::default()))),
        },
        PolicyInfo {
            name: "k8s-default",
            description: "Kubernetes default: whole cards, spread by LeastAllocated",
            params: NO_PARAMS,
            make: |_| Ok(Box::new(Greedy::new(k8s_default::K8sDefault::default()))),
        },
        PolicyInfo {
            name: "volcano-binpack",
            description: "Volcano binpack plugin (default weights) on whole cards",
            params: NO_PARAMS,
            make: |_| {
                Ok(Box::new(Greedy::new(
                    volcano_binpack::VolcanoBinpack::default(),
                )))
            },
        },
        PolicyInfo {
            name: "hami",
            description: "HAMi vGPU: node binpack, card spread, priority queue",
            params: hami::PARAMS,
            make: |p| Ok(Box::new(hami::Hami::from_params(p)?)),
        },
        PolicyInfo {
            name: "mig-static",
            description: "MIG with a fixed zero-waste geometry (3g+2g+1g+1g) on every card",
            params: NO_PARAMS,
            make: |_| Ok(Box::new(mig_static::MigStatic::default())),
        },
        PolicyInfo {
            name: "tiresias",
            description: "Tiresias discretised 2D-LAS (NSDI'19): queues by attained GPU time, \
                          preemptive, whole cards",
            params: tiresias::PARAMS,
            make: |p| Ok(Box::new(tiresias::Tiresias::from_params(p)?)),
        },
        PolicyInfo {
            name: "fifo",
            description: "strict FIFO: arrival order, head-of-line blocking, no preemption",
            params: fifo::PARAMS,
            make: |p| Ok(Box::new(fifo::Fifo::from_params(p)?)),
        },
        PolicyInfo {
            name: "fifo-skip",
            description: "FIFO with skipping: every waiting job that fits starts, in arrival order",
            params: fifo_skip::PARAMS,
            make: |p| Ok(Box::new(fifo_skip::from_params(p)?)),
        },
        PolicyInfo {
            name: "easy-backfill",
            description: "FIFO with EASY backfilling: the blocked head's start is reserved",
            params: easy_backfill::PARAMS,
            make: |p| Ok(Box::new(easy_backfill::from_params(p)?)),
        },
        PolicyInfo {
            name: "first-fit",
            description: "YARN: first node in fleet order with room, FIFO with skipping",
            params: NO_PARAMS,
            make: |_| Ok(Box::new(first_fit::FirstFit)),
        },
        PolicyInfo {
            name: "sjf",
            description: "shortest job (trace work) first, non-preemptive",
            params: sjf::PARAMS,
            make: |p| Ok(Box::new(sjf::Sjf::from_params(p)?)),
        },
        PolicyInfo {
            name: "srtf",
            description: "shortest remaining GPU time first, preemptive, whole cards",
            params: srtf::PARAMS,
            make: |p| Ok(Box::new(srtf::Srtf::from_params(p)?)),
        },
        PolicyInfo {
            name: "las",
            description: "least attained GPU time first, preemptive with a quantum, whole cards",
            params: las::PARAMS,
            make: |p| Ok(Box::new(las::Las::from_params(p)?)),
        },
        PolicyInfo {
            name: "gittins",
            description:
                "Gittins index of the trace's GPU-time distribution, preemptive, whole cards",
            params: gittins::PARAMS,
            make: |p| Ok(Box::new(gittins::Gittins::from_params(p)?)),
        },
        PolicyInfo {
            name: "hi-binpack",
            description: "Hi Scheduler model: Flex:ai vGPU (5 %), binpack at node and card",
            params: hi_binpack::PARAMS,
            make: |p| Ok(Box::new(hi_binpack::HiBinpack::from_params(p)?)),
        },
        PolicyInfo {
            name: "hi-priority",
            description: "hi-binpack + priority classes, preempting the fewest lower-class jobs",
            params: hi_binpack::PARAMS,
            make: |p| Ok(Box::new(hi_priority::HiPriority::from_params(p)?)),
        },
        PolicyInfo {
            name: "hi-timeshare",
            description: "hi-priority + Flex:ai time-sharing: low classes oversubscribe compute",
            params: NO_PARAMS,
            make: |_| Ok(Box::new(hi_timeshare::hi_timeshare())),
        },
        PolicyInfo {
            name: "hi-hetero",
            description: "hi-binpack + heterogeneity: job speed per device model vs stranded share",
            params: NO_PARAMS,
            make: |_| Ok(Box::new(hi_hetero::HiHetero::default())),
        },
        PolicyInfo {
            name: "hi-remote",
            description:
                "hi-binpack + remote pooling: a job that fits nowhere uses a slice elsewhere",
            params: NO_PARAMS,
            make: |_| Ok(Box::new(hi_remote::HiRemote::default())),
        },
        PolicyInfo {
            name: "hi",
            description: "Hi Scheduler model, all together: timeshare, priority, hetero, remote",
            params: NO_PARAMS,
            make: |_| Ok(Box::new(hi::Hi::default())),
        },
        PolicyInfo {
            name: "topo-aware",
            description: "Volcano network-topology-aware: a gang in the lowest tier that fits \
                          (mode=soft|hard), multi-device jobs in one fabric domain, else best-fit",
            params: topo_aware::PARAMS,
            make: |p| Ok(Box::new(topo_aware::TopoAware::from_params(p)?)),
        },
    ]
}

/// Builds the shipped policy a request names (`fgd`, `hami[node=spread]`): an unknown name
/// lists the known ones, an unknown parameter or a bad value lists the policy's parameters
/// with their defaults. [`Registry::build`] does the same over shipped and added policies.
pub fn build(spec: &str) -> Result<Built, PolicyError> {
    Registry::shipped().build(spec)
}

/// The policies a command line knows: the shipped ones ([`registry`]) and any that a binary
/// embedding the `flexsim` CLI adds (an out-of-tree policy crate). Names are unique: a request
/// `name[...]` must mean one policy, in every run of a sweep.
pub struct Registry {
    infos: Vec<PolicyInfo>,
}

impl Registry {
    /// Every shipped policy, in [`registry`]'s order.
    pub fn shipped() -> Self {
        Registry { infos: registry() }
    }

    /// Adds a policy after the shipped ones. Refused when its name is taken or is not a plain
    /// name a request can spell (ASCII letters, digits, `-`, `_`).
    pub fn with(mut self, info: PolicyInfo) -> Result<Self, PolicyError> {
        let spelled = !info.name.is_empty()
            && info
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !spelled {
            return Err(PolicyError::BadName(info.name.to_string()));
        }
        if self.infos.iter().any(|p| p.name == info.name) {
            return Err(PolicyError::Duplicate(info.name.to_string()));
        }
        self.infos.push(info);
        Ok(self)
    }

    /// The registered policies, shipped first.
    pub fn infos(&self) -> &[PolicyInfo] {
        &self.infos
    }

    /// Builds the policy a request names; errors as [`build`]'s.
    pub fn build(&self, spec: &str) -> Result<Built, PolicyError> {
        let request = PolicyRequest::parse(spec)?;
        let Some(info) = self.infos.iter().find(|p| p.name == request.name) else {
            return Err(PolicyError::Unknown(UnknownPolicy {
                name: request.name,
                known: self.infos.iter().map(|p| p.name).collect(),
            }));
        };
        let params = Params::resolve(&request, info.params)?;
        let policy = (info.make)(&params)?;
        Ok(Built {
            policy,
            request,
            params,
        })
    }
}

/// The policy named `name` with its default parameters, or an error listing the known names.
pub fn by_name(name: &str) -> Result<Box<dyn Policy>, PolicyError> {
    build(name).map(|b| b.policy)
}

/// Why a policy request cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error(transparent)]
    Unknown(UnknownPolicy),
    #[error(transparent)]
    Params(#[from] ParamError),
    /// A policy added under a name already registered.
    #[error("a policy named \"{0}\" is already registered; pick another name")]
    Duplicate(String),
    /// A policy added under a name a request cannot spell.
    #[error(
        "\"{0}\" cannot name a policy: a name is letters, digits, '-' and '_' (requests \
         read `name[key=value,...]`, sweeps split lists on ',')"
    )]
    BadName(String),
}

/// A policy name nobody registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownPolicy {
    pub name: String,
    pub known: Vec<&'static str>,
}

impl std::fmt::Display for UnknownPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "unknown policy \"{}\"; known policies: {}",
            self.name,
            self.known.join(", ")
        )
    }
}

impl std::error::Error for UnknownPolicy {}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) use flexsim_sim::testing::{cluster_in, cluster_of, placed, replay_on, rng};

    #[test]
    fn every_registered_name_builds_a_policy_of_that_name() {
        for info in registry() {
            let params = Params::defaults(info.name, info.params);
            assert_eq!((info.make)(&params).unwrap().name(), info.name);
        }
    }

    #[test]
    fn an_added_policy_builds_with_its_parameters_and_is_listed_last() {
        const P: &[ParamSpec] = &[ParamSpec {
            key: "k",
            default: "3",
            help: "a number",
        }];
        let r = Registry::shipped()
            .with(PolicyInfo {
                name: "my-policy",
                description: "added",
                params: P,
                make: |p| {
                    let _: u32 = p.parse("k", "a number")?;
                    Ok(Box::new(Greedy::new(best_fit::BestFit)))
                },
            })
            .unwrap();
        assert_eq!(r.infos().last().unwrap().name, "my-policy");
        let b = r.build("my-policy[k=5]").unwrap();
        assert_eq!(b.params.resolved()["k"], "5");
        let e = r.build("my-policy[k=x]").err().unwrap().to_string();
        assert!(e.contains("a number"), "{e}");
        let e = r.build("my-polcy").err().unwrap().to_string();
        assert!(e.ends_with(", hi, topo-aware, my-policy"), "{e}");
    }

    #[test]
    fn an_added_policy_may_not_take_a_used_or_unspellable_name() {
        let info = |name| PolicyInfo {
            name,
            description: "",
            params: NO_PARAMS,
            make: |_| Ok(Box::new(Greedy::new(best_fit::BestFit))),
        };
        let e = Registry::shipped().with(info("fgd")).err().unwrap();
        assert_eq!(e, PolicyError::Duplicate("fgd".into()));
        for bad in ["", "a,b", "a[x=1]", "two words", "k=v"] {
            let e = Registry::shipped().with(info(bad)).err().unwrap();
            assert_eq!(e, PolicyError::BadName(bad.into()));
        }
    }

    #[test]
    fn unknown_policy_lists_known_ones() {
        let e = by_name("fdg").err().unwrap();
        assert_eq!(
            e.to_string(),
            "unknown policy \"fdg\"; known policies: random, dot-product, gpu-clustering, \
             gpu-packing, best-fit, fgd, k8s-default, volcano-binpack, hami, mig-static, \
             tiresias, fifo, fifo-skip, easy-backfill, first-fit, sjf, srtf, las, gittins, \
             hi-binpack, hi-priority, hi-timeshare, hi-hetero, hi-remote, hi, topo-aware"
        );
    }

    #[test]
    fn parameters_reach_the_policy_and_are_recorded() {
        let b = build("tiresias[thresholds=1800:7200]").unwrap();
        assert_eq!(b.request.canonical(), "tiresias[thresholds=1800:7200]");
        assert_eq!(b.params.resolved()["thresholds"], "1800:7200");
        let t = tiresias::Tiresias::from_params(&b.params).unwrap();
        // 1,800 and 7,200 GPU-seconds: three queues.
        assert_eq!(t.queue_of(1_799_999), 0);
        assert_eq!(t.queue_of(1_800_000), 1);
        assert_eq!(t.queue_of(7_200_000), 2);
        let d = build("hami").unwrap();
        assert_eq!(d.params.resolved()["node"], "binpack");
        assert_eq!(d.params.resolved()["gpu"], "spread");
    }

    #[test]
    fn bad_parameter_values_are_errors_that_list_the_parameters() {
        for (spec, expected) in [
            (
                "tiresias[thresholds=7200:1800]",
                "parameter thresholds: expected ascending",
            ),
            (
                "tiresias[thresholds=0]",
                "parameter thresholds: expected ascending",
            ),
            (
                "hami[gpu=pack]",
                "parameter gpu: expected one of binpack, spread, got \"pack\"",
            ),
            (
                "hi-binpack[unit=3]",
                "parameter unit: expected a whole percent that divides 100",
            ),
            (
                "hi-priority[vgpus=0]",
                "parameter vgpus: expected a positive count",
            ),
            (
                "fgd[alpha=1]",
                "unknown parameter \"alpha\"; it takes no parameters",
            ),
        ] {
            let e = build(spec).err().unwrap().to_string();
            assert!(e.contains(expected), "{spec}: {e}");
        }
        let e = build("hami[gpu=pack]").err().unwrap().to_string();
        assert!(
            e.ends_with("valid (with defaults): node=binpack, gpu=spread"),
            "{e}"
        );
    }
}
