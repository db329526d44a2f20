//! `gpu-clustering` — the FGD paper's GpuClustering baseline (fgd-protocol §2.7.3).
//!
//! Pods of the same kind (`share-gpu`, `1-gpu`, `8-gpu`, ...) are packed together: a node
//! whose GPU pods all share the arriving pod's tag scores highest, then mixed nodes with the
//! tag, then GPU-empty nodes, then nodes with only other tags; fuller nodes win within a class.
//!
//! Cost per decision: the feasible-node index of [`Greedy`](flexsim_sim::policy::Greedy) (a local
//! scorer): O(nodes changed since the pod's request shape was last placed × log nodes), plus
//! the GPU choice on the winner.

use flexsim_sim::model::cluster::{Cluster, NodeId};
use flexsim_sim::model::job::Pod;
use flexsim_sim::policy::NodeScorer;

use crate::MAX_SPEC_GPU_MILLI;

#[derive(Default)]
pub struct GpuClustering;

/// The affinity tag of a GPU pod: `share-gpu` for a fraction of one GPU, else its GPU count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Share,
    Whole(u32),
}

fn tag(num_gpu: u32, gpu_milli: u32) -> Option<Tag> {
    match num_gpu {
        0 => None, // `no-gpu` pods are not counted
        1 if gpu_milli < 1000 => Some(Tag::Share),
        k => Some(Tag::Whole(k)),
    }
}

impl NodeScorer for GpuClustering {
    fn name(&self) -> &str {
        "gpu-clustering"
    }

    /// The node's free GPU and its residents' shapes, and the pod's request: nothing else.
    fn local(&self) -> bool {
        true
    }

    fn score(&mut self, cluster: &Cluster, node: NodeId, pod: &Pod) -> i64 {
        let Some(own) = tag(pod.num_gpu, pod.gpu_milli) else {
            return 0; // CPU-only: a pure tie, decided by node priority
        };
        let n = cluster.node(node);
        let used = MAX_SPEC_GPU_MILLI as i64 - n.gpu_free_total() as i64;
        // Integer arithmetic, multiply first; 8000 whatever the node's GPU count (§2.10.9).
        let base = 25 * used / MAX_SPEC_GPU_MILLI as i64;
        let (mut has_own, mut has_other) = (false, false);
        for r in n.residents() {
            match tag(r.gpus.len() as u32, r.gpu_milli) {
                Some(t) if t == own => has_own = true,
                Some(_) => has_other = true,
                None => {}
            }
        }
        base + match (has_own, has_other) {
            (true, false) => 75,
            (true, true) => 50,
            (false, false) => 25,
            (false, true) => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flexsim_sim::model::cluster::Placement;
    use flexsim_sim::model::fleet::{Fleet, NodeSpec};

    fn cluster() -> Cluster {
        let node = |name: &str, gpus| NodeSpec::new(name.into(), 96000, 1 << 20, gpus, "G2".into());
        Cluster::new(&Fleet::new(
            "t".into(),
            vec![
                node("idle2", 2),
                node("idle8", 8),
                node("share", 8),
                node("mixed", 8),
            ],
        ))
    }

    #[test]
    fn classes_and_base() {
        let mut c = cluster();
        let share = Pod::new("s", 1000, 1, 1, 500);
        let whole = Pod::new("w", 1000, 1, 1, 1000);
        c.place(
            0,
            &share,
            Placement {
                node: 2,
                gpus: vec![0],
            },
        )
        .unwrap();
        c.place(
            1,
            &share,
            Placement {
                node: 3,
                gpus: vec![0],
            },
        )
        .unwrap();
        c.place(
            2,
            &whole,
            Placement {
                node: 3,
                gpus: vec![1],
            },
        )
        .unwrap();
        let mut s = GpuClustering;
        // idle 2-GPU node: base 25·6000/8000 = 18, + 25 for a GPU-empty node.
        assert_eq!(s.score(&c, 0, &share), 18 + 25);
        assert_eq!(s.score(&c, 1, &share), 25);
        // only share-gpu pods: base 25·500/8000 = 1, + 75.
        assert_eq!(s.score(&c, 2, &share), 1 + 75);
        // mixed: base 25·1500/8000 = 4; with the tag 50, without it 0.
        assert_eq!(s.score(&c, 3, &share), 4 + 50);
        assert_eq!(s.score(&c, 2, &whole), 1);
        assert_eq!(s.score(&c, 3, &Pod::new("c", 1, 1, 0, 0)), 0);
    }
}
