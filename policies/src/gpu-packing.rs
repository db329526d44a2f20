//! `gpu-packing` — the FGD paper's GpuPacking baseline (fgd-protocol §2.7.4).
//!
//! Prefer, in this order: filling already-shared GPUs (tightest first), then opening fresh GPUs
//! on a used node, then a GPU-idle node (smaller idle nodes first).
//!
//! Cost per decision: the feasible-node index of [`Greedy`](flexsim_sim::policy::Greedy) (a local
//! scorer): O(nodes changed since the pod's request shape was last placed × log nodes), plus
//! the GPU choice on the winner.

use flexsim_sim::model::cluster::{Cluster, NodeId};
use flexsim_sim::model::job::Pod;
use flexsim_sim::policy::NodeScorer;

#[derive(Default)]
pub struct GpuPacking {
    order: Vec<usize>,
}

impl NodeScorer for GpuPacking {
    fn name(&self) -> &str {
        "gpu-packing"
    }

    /// The node's free milli per card and the pod's request (`order` is scratch): nothing else.
    fn local(&self) -> bool {
        true
    }

    fn score(&mut self, cluster: &Cluster, node: NodeId, pod: &Pod) -> i64 {
        if !pod.is_gpu_pod() {
            return 0; // pure tie, decided by node priority
        }
        let n = cluster.node(node);
        let free = n.gpu_free_milli();
        let fully_free = n.gpus_fully_free() as i64;
        if fully_free == free.len() as i64 {
            return (33 - fully_free).max(fully_free);
        }
        // Stable sort of GPU indices by free milli; the first k that fit are the chosen ones.
        self.order.clear();
        self.order.extend(0..free.len());
        self.order.sort_by_key(|&i| free[i]);
        let chosen = self
            .order
            .iter()
            .map(|&i| free[i])
            .filter(|&g| g >= pod.gpu_milli)
            .take(pod.num_gpu as usize);
        let (mut fresh, mut s) = (0i64, 0i64);
        for g in chosen {
            if g == 1000 {
                fresh += 1;
            }
            s += i64::from(g) * 100 / 1000;
        }
        if fresh > 0 {
            (50 - fresh).max(33)
        } else {
            (100 - s / 10).max(50)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flexsim_sim::model::cluster::Placement;
    use flexsim_sim::model::fleet::{Fleet, NodeSpec};

    #[test]
    fn cases_in_order() {
        let node = |name: &str, gpus| NodeSpec::new(name.into(), 96000, 1 << 20, gpus, "G2".into());
        let mut c = Cluster::new(&Fleet::new(
            "t".into(),
            vec![node("i1", 1), node("i8", 8), node("used", 4)],
        ));
        let mut s = GpuPacking::default();
        let share = Pod::new("s", 0, 0, 1, 200);
        // idle nodes: max(33 − F, F): 1 GPU → 32, 8 GPUs → 25.
        assert_eq!(s.score(&c, 0, &share), 32);
        assert_eq!(s.score(&c, 1, &share), 25);
        // GPU 0 at 300 free, GPU 1 at 990 free (10 used): the share pod takes GPU 0: 100 − 3 = 97.
        c.place(
            0,
            &Pod::new("a", 0, 0, 1, 700),
            Placement {
                node: 2,
                gpus: vec![0],
            },
        )
        .unwrap();
        c.place(
            1,
            &Pod::new("b", 0, 0, 1, 10),
            Placement {
                node: 2,
                gpus: vec![1],
            },
        )
        .unwrap();
        assert_eq!(s.score(&c, 2, &share), 97);
        // a 400-milli pod fits only GPU 1 (990): 100 − 9 = 91.
        assert_eq!(s.score(&c, 2, &Pod::new("t", 0, 0, 1, 400)), 91);
        // a whole GPU opens one fresh GPU: max(50 − 1, 33) = 49; two: 48.
        assert_eq!(s.score(&c, 2, &Pod::new("w", 0, 0, 1, 1000)), 49);
        assert_eq!(s.score(&c, 2, &Pod::new("w2", 0, 0, 2, 1000)), 48);
    }
}
