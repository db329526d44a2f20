//! `volcano-binpack` — Volcano's `binpack` plugin on whole cards (slicing-model §2.6,
//! volcano-sh/volcano:pkg/scheduler/plugins/binpack/binpack.go).
//!
//! Per requested resource r with a weight: `s_r = w_r · (request_r + used_r) / allocatable_r`;
//! a resource that would overflow makes the node score 0; resources the pod does not request
//! are skipped. Node score = `Σ s_r / Σ w_r · 100 · binpack.weight`, truncated to an integer,
//! highest first. Weights are Volcano's defaults: `binpack.weight = 1`, `binpack.cpu = 1`,
//! `binpack.memory = 1`, no extended resource (a config listing `nvidia.com/gpu` gets
//! [`VolcanoBinpack::with_gpu`]: GPU count, weight 1). Cards are whole, lowest index first.
//!
//! Cost per decision: the feasible-node index of [`Greedy`](flexsim_sim::policy::Greedy) (a local
//! scorer): O(nodes changed since the pod's request shape was last placed × log nodes), plus
//! the GPU choice on the winner.

use flexsim_sim::model::cluster::{Cluster, Node, NodeId};
use flexsim_sim::model::job::Pod;
use flexsim_sim::model::slicing::SlicingMode;
use flexsim_sim::policy::NodeScorer;

/// One resource of the binpack formula: (request, used, allocatable, weight).
pub type BinpackTerm = (f64, f64, f64, f64);

/// Volcano's binpack node score over `terms` in [0, 100]: terms with request 0 or weight 0
/// are skipped; any overflowing term makes it 0; no scored term gives 0.
pub fn binpack_score(terms: &[BinpackTerm]) -> f64 {
    let (mut sum, mut weights) = (0.0, 0.0);
    for &(request, used, allocatable, weight) in terms {
        if request <= 0.0 || weight <= 0.0 {
            continue;
        }
        if allocatable <= 0.0 || request + used > allocatable {
            return 0.0;
        }
        sum += weight * (request + used) / allocatable;
        weights += weight;
    }
    if weights == 0.0 {
        0.0
    } else {
        sum / weights * 100.0
    }
}

/// The CPU and memory terms of a node, weight 1 each (Volcano's defaults).
pub fn host_terms(node: &Node, pod: &Pod) -> [BinpackTerm; 2] {
    let cpu = node.cpu_capacity_milli as f64;
    let mem = node.memory_capacity_mib as f64;
    [
        (
            pod.cpu_milli as f64,
            cpu - node.cpu_free_milli() as f64,
            cpu,
            1.0,
        ),
        (
            pod.memory_mib as f64,
            mem - node.memory_free_mib() as f64,
            mem,
            1.0,
        ),
    ]
}

#[derive(Debug, Clone, Copy, Default)]
pub struct VolcanoBinpack {
    /// Weight of the GPU count (`nvidia.com/gpu`); 0 = not listed (Volcano's default).
    pub gpu_weight: u32,
}

impl VolcanoBinpack {
    pub fn with_gpu() -> Self {
        VolcanoBinpack { gpu_weight: 1 }
    }
}

/// The node's score, truncated as Volcano's `int64(score)`.
pub fn score(node: &Node, pod: &Pod, gpu_weight: u32) -> i64 {
    let [cpu, mem] = host_terms(node, pod);
    let cards = node.gpu_count() as f64;
    let used = cards - node.gpus_fully_free() as f64;
    let gpu = (f64::from(pod.num_gpu), used, cards, f64::from(gpu_weight));
    binpack_score(&[cpu, mem, gpu]) as i64
}

impl NodeScorer for VolcanoBinpack {
    fn name(&self) -> &str {
        "volcano-binpack"
    }

    fn preferred_slicing(&self) -> Option<SlicingMode> {
        Some(SlicingMode::Whole)
    }

    /// The node's free resources and the pod's request (`gpu_weight` is fixed for the run): nothing else.
    fn local(&self) -> bool {
        true
    }

    fn score(&mut self, cluster: &Cluster, node: NodeId, pod: &Pod) -> i64 {
        score(cluster.node(node), pod, self.gpu_weight)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{cluster_of, placed};
    use flexsim_sim::policy::Greedy;

    #[test]
    fn packs_onto_the_fuller_node_and_zero_on_overflow() {
        let mut c = cluster_of(
            &[("a", 16_000, 65_536, 2), ("b", 16_000, 65_536, 2)],
            "V100M32",
        );
        placed(&mut c, 0, Pod::new("x", 8_000, 16_384, 1, 1000), 1, &[0]);
        let pod = Pod::new("p", 4_000, 16_384, 1, 1000);
        // a empty: (4000/16000 + 16384/65536)/2·100 = 25; b: (12000/16000 + 32768/65536)/2 = 62.5
        assert_eq!(score(c.node(0), &pod, 0), 25);
        assert_eq!(score(c.node(1), &pod, 0), 62);
        // GPU listed: b's cards (1+1)/2 → (0.75+0.5+1)/3·100 = 75.
        assert_eq!(score(c.node(1), &pod, 1), 75);
        assert_eq!(
            Greedy::new(VolcanoBinpack::default()).choose_node(&c, &pod),
            Some(1)
        );
        assert_eq!(
            binpack_score(&[(5.0, 10.0, 12.0, 1.0), (1.0, 0.0, 2.0, 1.0)]),
            0.0
        );
        assert_eq!(
            binpack_score(&[(0.0, 10.0, 12.0, 1.0)]),
            0.0,
            "nothing requested"
        );
    }
}
