//! `best-fit` — the FGD paper's BestFit baseline (fgd-protocol §2.7.5).
//!
//! The node left with the least free CPU + GPU after placing the pod wins (each dimension
//! divided by the constant max spec, weight ½ each), then the framework's integer min–max
//! normalisation; GPU choice is tightest fit.
//!
//! Cost per decision: the feasible-node index of [`Greedy`](flexsim_sim::policy::Greedy) (a local
//! scorer): O(nodes changed since the pod's request shape was last placed × log nodes), plus
//! the GPU choice on the winner.

use flexsim_sim::model::cluster::{Cluster, NodeId};
use flexsim_sim::model::job::Pod;
use flexsim_sim::policy::NodeScorer;

use crate::{MAX_SPEC_CPU_MILLI, MAX_SPEC_GPU_MILLI};

#[derive(Default)]
pub struct BestFit;

impl NodeScorer for BestFit {
    fn name(&self) -> &str {
        "best-fit"
    }

    fn score(&mut self, cluster: &Cluster, node: NodeId, pod: &Pod) -> i64 {
        let n = cluster.node(node);
        score(n.cpu_free_milli(), n.gpu_free_total(), pod)
    }

    fn normalize(&self) -> bool {
        true
    }

    /// The node's free CPU and GPU and the pod's request: nothing else.
    fn local(&self) -> bool {
        true
    }

    /// Reads the node's free CPU and GPU, never its identity.
    fn alike_when_empty(&self) -> bool {
        true
    }
}

/// int(100 · (1 − [½·(c − cr)/128000 + ½·(Gfree − u·k)/8000])).
fn score(cpu_free_milli: u64, gpu_free_milli: u64, pod: &Pod) -> i64 {
    let cpu_left = cpu_free_milli as f64 - pod.cpu_milli as f64;
    let gpu_left = gpu_free_milli as f64 - pod.total_gpu_milli() as f64;
    let left = 0.5 * cpu_left / MAX_SPEC_CPU_MILLI + 0.5 * gpu_left / MAX_SPEC_GPU_MILLI;
    (100.0 * (1.0 - left)) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tighter_node_scores_higher() {
        let pod = Pod::new("p", 8000, 0, 1, 500);
        // 0.5·(64000−8000)/128000 + 0.5·(8000−500)/8000 = 0.21875 + 0.46875 → int(31.25) = 31
        assert_eq!(score(64000, 8000, &pod), 31);
        // 0.5·0/128000 + 0.5·(1000−500)/8000 = 0.03125 → int(96.875) = 96
        assert_eq!(score(8000, 1000, &pod), 96);
    }
}
