//! `dot-product` — the FGD paper's DotProd baseline, dimExt = merge, norm = max
//! (fgd-protocol §2.7.2).
//!
//! Node vector = free (CPU, GPU) before placement, pod vector = request, both divided by the
//! constant max specs; the smaller the dot product, the higher the score: pods go where the
//! *remaining* resources they ask for are scarce. GPU choice is tightest fit.
//!
//! Cost per decision: the feasible-node index of [`Greedy`](flexsim_sim::policy::Greedy) (a local
//! scorer): O(nodes changed since the pod's request shape was last placed × log nodes), plus
//! the GPU choice on the winner.

use flexsim_sim::model::cluster::{Cluster, NodeId};
use flexsim_sim::model::job::Pod;
use flexsim_sim::policy::NodeScorer;

use crate::{MAX_SPEC_CPU_MILLI, MAX_SPEC_GPU_MILLI};

#[derive(Default)]
pub struct DotProduct;

impl NodeScorer for DotProduct {
    fn name(&self) -> &str {
        "dot-product"
    }

    /// The node's free CPU and GPU and the pod's request: nothing else.
    fn local(&self) -> bool {
        true
    }

    fn score(&mut self, cluster: &Cluster, node: NodeId, pod: &Pod) -> i64 {
        let n = cluster.node(node);
        score(n.cpu_free_milli(), n.gpu_free_total(), pod)
    }
}

/// int(100 · (1 − N·P / 2)) with N, P normalised by the max specs.
fn score(cpu_free_milli: u64, gpu_free_milli: u64, pod: &Pod) -> i64 {
    if cpu_free_milli < pod.cpu_milli {
        return 0;
    }
    let node = [
        cpu_free_milli as f64 / MAX_SPEC_CPU_MILLI,
        gpu_free_milli as f64 / MAX_SPEC_GPU_MILLI,
    ];
    let req = [
        pod.cpu_milli as f64 / MAX_SPEC_CPU_MILLI,
        pod.total_gpu_milli() as f64 / MAX_SPEC_GPU_MILLI,
    ];
    let dot = node[0] * req[0] + node[1] * req[1];
    (100.0 * (1.0 - dot / 2.0)) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worked_example() {
        // fgd-protocol §2.7.2: pod 8000 m CPU, 1 × 1000. A (64000, 8000) → 92; B (16000, 1000) → 98.
        let pod = Pod::new("p", 8000, 0, 1, 1000);
        assert_eq!(score(64000, 8000, &pod), 92);
        assert_eq!(score(16000, 1000, &pod), 98);
    }
}
