//! # flexsim-policies: every policy shipped with flexsim
//!
//! One file per policy, named after its CLI name, written only against `flexsim_sim`'s public
//! API — the same API an outside author gets. [`registry`] maps names to constructors.
//!
//! ## Adding a policy
//!
//! 1. Write `src/<cli-name>.rs` with a type implementing
//!    [`NodeScorer`](flexsim_sim::policy::NodeScorer) (filter/score/tie-break/GPU choice come
//!    from [`Greedy`](flexsim_sim::policy::Greedy)) or [`Policy`](flexsim_sim::policy::Policy).
//! 2. Declare the module below and add one [`PolicyInfo`] line to [`registry`].
//! 3. `flexsim run --policy <cli-name>` runs it; `flexsim policies` lists it.
//!
//! ```
//! use flexsim_sim::cluster::{Cluster, NodeId};
//! use flexsim_sim::job::Pod;
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

use flexsim_sim::policy::{Greedy, Policy};

#[path = "best-fit.rs"]
pub mod best_fit;
#[path = "dot-product.rs"]
pub mod dot_product;
pub mod fgd;
#[path = "gpu-clustering.rs"]
pub mod gpu_clustering;
#[path = "gpu-packing.rs"]
pub mod gpu_packing;
pub mod random;

/// Max specs that DotProd and BestFit divide by, whatever the node (fgd-protocol §2.7:
/// 128 cores, 8 GPUs).
pub(crate) const MAX_SPEC_CPU_MILLI: f64 = 128_000.0;
pub(crate) const MAX_SPEC_GPU_MILLI: f64 = 8_000.0;

/// A registered policy: its CLI name, a one-line description and a constructor.
pub struct PolicyInfo {
    pub name: &'static str,
    pub description: &'static str,
    pub make: fn() -> Box<dyn Policy>,
}

/// Every shipped policy, in the order the FGD paper lists its baselines.
pub fn registry() -> Vec<PolicyInfo> {
    vec![
        PolicyInfo {
            name: "random",
            description: "FGD baseline: a uniformly random feasible node and GPU",
            make: || Box::new(random::Random::default()),
        },
        PolicyInfo {
            name: "dot-product",
            description: "FGD baseline: smallest dot product of free resources and request",
            make: || Box::new(Greedy::new(dot_product::DotProduct)),
        },
        PolicyInfo {
            name: "gpu-clustering",
            description: "FGD baseline: pack pods with the same GPU-count tag together",
            make: || Box::new(Greedy::new(gpu_clustering::GpuClustering)),
        },
        PolicyInfo {
            name: "gpu-packing",
            description: "FGD baseline: fill shared GPUs, then used nodes, then idle nodes",
            make: || Box::new(Greedy::new(gpu_packing::GpuPacking::default())),
        },
        PolicyInfo {
            name: "best-fit",
            description: "FGD baseline: node left with the least free CPU + GPU",
            make: || Box::new(Greedy::new(best_fit::BestFit)),
        },
        PolicyInfo {
            name: "fgd",
            description: "Fragmentation Gradient Descent (Weng et al., ATC'23)",
            make: || Box::new(Greedy::new(fgd::Fgd::default())),
        },
    ]
}

/// The policy named `name`, or an error listing the known names.
pub fn by_name(name: &str) -> Result<Box<dyn Policy>, UnknownPolicy> {
    registry()
        .into_iter()
        .find(|p| p.name == name)
        .map(|p| (p.make)())
        .ok_or_else(|| UnknownPolicy {
            name: name.to_owned(),
            known: registry().iter().map(|p| p.name).collect(),
        })
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

    #[test]
    fn every_registered_name_builds_a_policy_of_that_name() {
        for info in registry() {
            assert_eq!((info.make)().name(), info.name);
        }
    }

    #[test]
    fn unknown_policy_lists_known_ones() {
        let e = by_name("fdg").err().unwrap();
        assert_eq!(
            e.to_string(),
            "unknown policy \"fdg\"; known policies: random, dot-product, gpu-clustering, gpu-packing, best-fit, fgd"
        );
    }
}
