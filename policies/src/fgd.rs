//! `fgd` — Fragmentation Gradient Descent (fgd-protocol §2.7.6).
//!
//! A node's score is how much placing the pod *lowers* that node's expected fragmentation
//! F(n) under the typical-pod distribution: int(100 · σ(ΔF / 1000)). For a sharing pod every
//! fitting GPU is tried and the first GPU reaching the best score is the one used.
//!
//! Scores depend only on the node's state and the pod's shape, so they are cached per
//! (shape, node) and recomputed only when the node's generation changed: one placement
//! invalidates one node (DESIGN "Speed").
//!
//! Cost per decision: the feasible-node index of [`Greedy`](flexsim_sim::policy::Greedy) (a local
//! scorer): O(nodes changed since the pod's request shape was last placed × log nodes), each such node rescored by
//! F(n) (O(cards × typical pods)), plus the GPU choice on the winner.

use flexsim_sim::model::cluster::{Cluster, Node, NodeId};
use flexsim_sim::model::fragmentation::TypicalPods;
use flexsim_sim::model::job::{Pod, PodShape};
use flexsim_sim::policy::gpu_select;
use flexsim_sim::policy::{NodeScorer, Setup, SimRng};
use std::collections::HashMap;

#[derive(Default)]
pub struct Fgd {
    typical: TypicalPods,
    /// F(n) of each node at the generation it was computed.
    frag_before: Vec<Cached<f64>>,
    /// Per pod shape (index into `tables`), per node: the score and the GPU a sharing pod
    /// would use.
    shapes: HashMap<PodShape, usize>,
    tables: Vec<Vec<Cached<(i64, u16)>>>,
    /// The table of the pod being scored: looked up once per pod, in `pre_score`.
    current: usize,
    after: Vec<u32>,
}

#[derive(Clone, Copy)]
struct Cached<T> {
    generation: u64,
    value: T,
}

const NEVER: u64 = u64::MAX;

/// int(100 · σ(Δ/1000)), truncated toward zero.
pub fn fgd_score(frag_before: f64, frag_after: f64) -> i64 {
    let delta = frag_before - frag_after;
    (100.0 / (1.0 + (-delta / 1000.0).exp())) as i64
}

impl Fgd {
    fn frag_before(&mut self, node: &Node, id: NodeId) -> f64 {
        let c = &mut self.frag_before[id];
        if c.generation != node.generation() {
            c.value =
                self.typical
                    .node_frag(node.cpu_free_milli(), node.gpu_free_milli(), &node.model);
            c.generation = node.generation();
        }
        c.value
    }

    /// The node's score and, for a sharing pod, the first GPU that reaches it.
    fn evaluate(&mut self, node: &Node, id: NodeId, pod: &Pod) -> (i64, u16) {
        let before = self.frag_before(node, id);
        let cpu_after = node.cpu_free_milli().saturating_sub(pod.cpu_milli);
        let free = node.gpu_free_milli();
        self.after.clear();
        self.after.extend_from_slice(free);
        if pod.is_sharing() {
            let mut best = (i64::MIN, 0u16);
            for card in node.fitting_cards(pod) {
                let (i, g) = (card as usize, free[card as usize]);
                // A time-shared card (slicing-model.md, timeshare) may take more compute than
                // it has free: it is then fully allocated, 0 left, not a wrapped-around count.
                self.after[i] = g.saturating_sub(pod.gpu_milli);
                let f = self.typical.node_frag(cpu_after, &self.after, &node.model);
                self.after[i] = g;
                let s = fgd_score(before, f);
                if s > best.0 {
                    best = (s, i as u16);
                }
            }
            return best;
        }
        // Whole, multi-GPU or CPU-only: take k fitting GPUs in ascending-free order.
        for _ in 0..pod.num_gpu {
            let pick = (0..self.after.len())
                .filter(|&i| self.after[i] >= pod.gpu_milli && self.after[i] == free[i])
                .min_by_key(|&i| self.after[i]);
            if let Some(i) = pick {
                self.after[i] -= pod.gpu_milli;
            }
        }
        let f = self.typical.node_frag(cpu_after, &self.after, &node.model);
        (fgd_score(before, f), 0)
    }

    /// Makes `pod`'s shape the current score table.
    fn select_table(&mut self, pod: &Pod, n_nodes: usize) {
        let next = self.tables.len();
        self.current = *self.shapes.entry(pod.shape()).or_insert(next);
        if self.current == next {
            let empty = Cached {
                generation: NEVER,
                value: (0, 0),
            };
            self.tables.push(vec![empty; n_nodes]);
        }
    }

    /// The score of `id` for the pod whose table is current.
    fn cached(&mut self, cluster: &Cluster, id: NodeId, pod: &Pod) -> (i64, u16) {
        let node = cluster.node(id);
        let t = self.current;
        let c = self.tables[t][id];
        if c.generation == node.generation() {
            return c.value;
        }
        let value = self.evaluate(node, id, pod);
        self.tables[t][id] = Cached {
            generation: node.generation(),
            value,
        };
        value
    }
}

impl NodeScorer for Fgd {
    fn name(&self) -> &str {
        "fgd"
    }

    fn prepare(&mut self, setup: &Setup<'_>) {
        self.typical = setup.typical.clone();
        let n = setup.cluster.nodes().len();
        self.frag_before = vec![
            Cached {
                generation: NEVER,
                value: 0.0
            };
            n
        ];
        self.shapes.clear();
        self.tables.clear();
        self.current = 0;
    }

    fn pre_score(&mut self, cluster: &Cluster, pod: &Pod) {
        self.select_table(pod, cluster.nodes().len());
    }

    /// ΔF of the node under the fixed typical-pod distribution: the node's state and the
    /// pod's shape alone (the module comment; the per-node cache is only a cache).
    fn local(&self) -> bool {
        true
    }

    /// ΔF reads the node's free CPU, free GPU per card and model: no identity.
    fn alike_when_empty(&self) -> bool {
        true
    }

    fn score(&mut self, cluster: &Cluster, node: NodeId, pod: &Pod) -> i64 {
        self.cached(cluster, node, pod).0
    }

    fn select_gpus(
        &mut self,
        cluster: &Cluster,
        node: NodeId,
        pod: &Pod,
        _rng: &mut SimRng,
    ) -> Option<Vec<u16>> {
        if pod.is_sharing() {
            self.select_table(pod, cluster.nodes().len());
            Some(vec![self.cached(cluster, node, pod).1])
        } else {
            gpu_select::lowest_index(cluster.node(node), pod)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flexsim_sim::model::cluster::Placement;
    use flexsim_sim::model::fleet::{Fleet, NodeSpec};
    use flexsim_sim::model::fragmentation::TypicalPod;
    use flexsim_sim::policy::{Greedy, Policy};
    use rand::SeedableRng;

    /// The cluster and typical pods of fgd-protocol §2.9.
    fn example() -> (Cluster, TypicalPods) {
        let node =
            |name: &str, cpu, gpus| NodeSpec::new(name.into(), cpu, 1 << 20, gpus, "X".into());
        let mut c = Cluster::new(&Fleet::new(
            "t".into(),
            vec![node("node1", 20000, 2), node("node2", 8000, 1)],
        ));
        // Node 1: c = 16000, GPUs [1000, 600].
        c.place(
            0,
            &Pod::new("pre", 4000, 0, 1, 400),
            Placement {
                node: 0,
                gpus: vec![1],
            },
        )
        .unwrap();
        let tp = |cpu, gpu, n, p| TypicalPod {
            cpu_milli: cpu,
            gpu_milli: gpu,
            num_gpu: n,
            models: vec![],
            probability: p,
        };
        let typical = TypicalPods {
            pods: vec![
                tp(4000, 500, 1, 0.5),
                tp(8000, 1000, 1, 0.3),
                tp(2000, 0, 0, 0.2),
            ],
        };
        (c, typical)
    }

    #[test]
    fn worked_example_scores() {
        // σ(−0.1)·100 = 47.50 → 47; σ(0.1)·100 = 52.50 → 52.
        assert_eq!(fgd_score(500.0, 600.0), 47);
        assert_eq!(fgd_score(500.0, 400.0), 52);
        assert_eq!(fgd_score(200.0, 300.0), 47);
        let (c, typical) = example();
        let mut fgd = Fgd::default();
        fgd.prepare(&Setup {
            cluster: &c,
            original_pods: &[],
            typical: &typical,
        });
        let p = Pod::new("P", 4000, 0, 1, 400);
        fgd.pre_score(&c, &p);
        assert_eq!(fgd.score(&c, 0, &p), 52);
        assert_eq!(fgd.score(&c, 1, &p), 47);
        let mut rng = SimRng::seed_from_u64(0);
        // Node 1 wins and the pod uses GPU 1.
        let mut policy = Greedy::new(fgd);
        policy.prepare(&Setup {
            cluster: &c,
            original_pods: &[],
            typical: &typical,
        });
        let placement = policy.place(&c, 0, &p, &mut rng).unwrap();
        assert_eq!((placement.node, placement.gpus), (0, vec![1]));
    }

    #[test]
    fn cache_follows_node_changes() {
        let (mut c, typical) = example();
        let mut fgd = Fgd::default();
        fgd.prepare(&Setup {
            cluster: &c,
            original_pods: &[],
            typical: &typical,
        });
        let p = Pod::new("P", 4000, 0, 1, 400);
        fgd.pre_score(&c, &p);
        assert_eq!(fgd.score(&c, 1, &p), 47);
        // Fill node 2's GPU to 600 free: now P leaves [200]; recomputed, not the stale 47.
        c.place(
            1,
            &Pod::new("q", 0, 0, 1, 400),
            Placement {
                node: 1,
                gpus: vec![0],
            },
        )
        .unwrap();
        let fresh = {
            let mut f = Fgd::default();
            f.prepare(&Setup {
                cluster: &c,
                original_pods: &[],
                typical: &typical,
            });
            f.pre_score(&c, &p);
            f.score(&c, 1, &p)
        };
        assert_eq!(fgd.score(&c, 1, &p), fresh);
    }
}
