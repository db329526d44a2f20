//! `k8s-default` — the Kubernetes default scheduler's spreading score on whole cards.
//!
//! kube-scheduler's `NodeResourcesFit` plugin with the `LeastAllocated` strategy (its default):
//! per resource `(capacity − (used + request)) · 100 / capacity` in integer arithmetic, then the
//! weighted mean over the scored resources, weights 1. The default scores CPU and memory only;
//! [`K8sDefault::with_gpu`] adds the GPU count (`nvidia.com/gpu`, weight 1) as a config that
//! lists it would. The other default score plugins (BalancedAllocation, ImageLocality, ...) are
//! not modelled. Cards are whole (the device plugin's one-pod-per-card model); the GPUs are the
//! lowest-index free ones; ties go to node priority ([`Greedy`](flexsim_sim::policy::Greedy)).
//!
//! Cost per decision: the feasible-node index of [`Greedy`](flexsim_sim::policy::Greedy) (a local
//! scorer): O(nodes changed since the pod's request shape was last placed × log nodes), plus
//! the GPU choice on the winner.

use flexsim_sim::model::cluster::{Cluster, Node, NodeId};
use flexsim_sim::model::job::Pod;
use flexsim_sim::model::slicing::SlicingMode;
use flexsim_sim::policy::NodeScorer;

#[derive(Debug, Clone, Copy, Default)]
pub struct K8sDefault {
    /// Also score the GPU count (weight 1).
    pub gpu: bool,
}

impl K8sDefault {
    pub fn with_gpu() -> Self {
        K8sDefault { gpu: true }
    }
}

/// `(capacity − used − request) · 100 / capacity`, 0 for no capacity (integer, as upstream).
fn least_allocated(capacity: u64, free: u64, request: u64) -> i64 {
    if capacity == 0 {
        return 0;
    }
    (free.saturating_sub(request) * 100 / capacity) as i64
}

/// The LeastAllocated score of `node` for `pod`.
pub fn score(node: &Node, pod: &Pod, gpu: bool) -> i64 {
    let mut sum = least_allocated(
        node.cpu_capacity_milli,
        node.cpu_free_milli(),
        pod.cpu_milli,
    ) + least_allocated(
        node.memory_capacity_mib,
        node.memory_free_mib(),
        pod.memory_mib,
    );
    let mut weights = 2;
    if gpu {
        let cards = node.gpu_count() as u64;
        let free = node.gpus_fully_free() as u64;
        sum += least_allocated(cards, free, u64::from(pod.num_gpu));
        weights += 1;
    }
    sum / weights
}

impl NodeScorer for K8sDefault {
    fn name(&self) -> &str {
        "k8s-default"
    }

    fn preferred_slicing(&self) -> Option<SlicingMode> {
        Some(SlicingMode::Whole)
    }

    /// The node's free resources and the pod's request (`gpu` is fixed for the run): nothing else.
    fn local(&self) -> bool {
        true
    }

    /// Reads the node's capacities, free CPU, memory and whole cards, never its identity.
    fn alike_when_empty(&self) -> bool {
        true
    }

    fn score(&mut self, cluster: &Cluster, node: NodeId, pod: &Pod) -> i64 {
        score(cluster.node(node), pod, self.gpu)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{cluster_of, placed};
    use flexsim_sim::policy::{Greedy, Policy};

    #[test]
    fn spreads_to_the_least_allocated_node() {
        // a: 16 cores / 64 GiB, 4 cores and 16 GiB used; b: 8 cores / 32 GiB, empty.
        let mut c = cluster_of(
            &[("a", 16_000, 65_536, 2), ("b", 8_000, 32_768, 2)],
            "V100M32",
        );
        placed(&mut c, 0, Pod::new("x", 4_000, 16_384, 1, 1000), 0, &[0]);
        let pod = Pod::new("p", 2_000, 8_192, 1, 1000);
        // a: cpu (16000−6000)·100/16000 = 62, mem (65536−24576)·100/65536 = 62 → 62
        // b: cpu (8000−2000)·100/8000 = 75, mem 75 → 75
        assert_eq!(score(c.node(0), &pod, false), 62);
        assert_eq!(score(c.node(1), &pod, false), 75);
        let mut p = Greedy::new(K8sDefault::default());
        assert_eq!(p.preferred_slicing(), Some(SlicingMode::Whole));
        assert_eq!(p.choose_node(&c, &pod), Some(1));
        // With the GPU count scored, a's one free card of two: (1−1)·100/2 = 0 → (62+62+0)/3.
        assert_eq!(score(c.node(0), &pod, true), 41);
    }
}
