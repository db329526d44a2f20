//! `hami` — HAMi's scheduler on HAMi vGPUs (slicing-model §2.1–§2.3).
//!
//! * Cards are in HAMi's vGPU mode ([`SlicingMode::HAMI_VGPU`]: 1 % compute units,
//!   `deviceSplitCount` 10, memory admission-checked).
//! * Node score (`node_policy.go` `ComputeDefaultScore`): `10 · (Σused/Σcount +
//!   ΣusedCores/ΣtotalCores + ΣusedMem/ΣtotalMem)` over the node's cards, where `used` is the
//!   number of tasks on a card and `count` its split count. `binpack` (default) prefers the
//!   highest score, `spread` the lowest.
//! * Card score (`gpu_policy.go` `ComputeScore`, weights 1): `10 · ((1+used)/count +
//!   (reqCores+usedCores)/totalCores + (reqMem+usedMem)/totalMem)`. `spread` (default)
//!   prefers the lowest, `binpack` the highest; ties to the lower index.
//! * Priority: HAMi's `nvidia.com/priority` only changes compute caps at run time (high
//!   priority is held to its share only beside another high-priority task, low priority only
//!   when not alone — §2.1); the vGPU mode models that from the job's priority class. It does
//!   not change placement. The queue is kube-scheduler's `PrioritySort`: higher pod priority
//!   first, then arrival (FIFO). HAMi never preempts.
//!
//! Cost per decision: the feasible-node index of [`Greedy`] (a local
//! scorer): O(nodes changed since the pod's request shape was last placed × log nodes), plus
//! the GPU choice on the winner.

use flexsim_sim::model::cluster::{Cluster, Node, NodeId, Placement};
use flexsim_sim::model::job::{Pod, PodId};
use flexsim_sim::model::slicing::{CardState, SlicingMode};
use flexsim_sim::policy::params::{ParamError, ParamSpec, Params};
use flexsim_sim::policy::{
    Greedy, JobsView, NodeScorer, Policy, QueueKey, QueuedJob, ReplayHints, SimRng,
};

/// Which end of a score HAMi prefers at one level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Binpack,
    Spread,
}

/// The split count of a card (`count` in HAMi's scores): the mode's tenant limit.
fn split_count(card: &CardState) -> f64 {
    match card.mode() {
        SlicingMode::Fractional(p) => f64::from(p.max_tenants.min(1_000)),
        SlicingMode::Timeshare(p) => f64::from(p.max_tenants),
        _ => 1.0,
    }
}

fn card_memory(node: &Node) -> f64 {
    node.device().map_or(0.0, |d| d.model.memory_mib as f64)
}

/// HAMi's node score (no request term, as in the code).
pub fn node_score(node: &Node) -> f64 {
    let mem = card_memory(node);
    let (mut used, mut count, mut cores, mut used_mem) = (0.0, 0.0, 0.0, 0.0);
    for card in node.cards() {
        used += card.tenants().len() as f64;
        count += split_count(card);
        cores += f64::from(card.allocated_compute_milli());
        used_mem += card.allocated_memory_mib() as f64;
    }
    let n = node.cards().len() as f64;
    if n == 0.0 {
        return 0.0;
    }
    let mem_term = if mem > 0.0 { used_mem / (mem * n) } else { 0.0 };
    10.0 * (used / count + cores / (1000.0 * n) + mem_term)
}

/// HAMi's card score for `pod` on card `gpu` of `node`.
pub fn card_score(node: &Node, gpu: usize, pod: &Pod) -> f64 {
    let card = &node.cards()[gpu];
    let (req_cores, req_mem) = match node.slice_for(pod) {
        Some(Ok(s)) => (f64::from(s.compute_milli), s.memory_mib as f64),
        _ => (0.0, 0.0),
    };
    let mem = card_memory(node);
    let mem_term = if mem > 0.0 {
        (req_mem + card.allocated_memory_mib() as f64) / mem
    } else {
        0.0
    };
    10.0 * ((1.0 + card.tenants().len() as f64) / split_count(card)
        + (req_cores + f64::from(card.allocated_compute_milli())) / 1000.0
        + mem_term)
}

/// The scorer: node level and card level.
#[derive(Debug, Clone, Copy)]
pub struct HamiScorer {
    pub node: Level,
    pub card: Level,
}

impl NodeScorer for HamiScorer {
    fn name(&self) -> &str {
        "hami"
    }

    fn preferred_slicing(&self) -> Option<SlicingMode> {
        Some(SlicingMode::HAMI_VGPU)
    }

    /// The node's card state alone (`node` is fixed for the run).
    fn local(&self) -> bool {
        true
    }

    /// Reads the node's allocation shares, never its identity.
    fn alike_when_empty(&self) -> bool {
        true
    }

    fn score(&mut self, cluster: &Cluster, node: NodeId, _pod: &Pod) -> i64 {
        let s = (node_score(cluster.node(node)) * 1e6).round() as i64;
        match self.node {
            Level::Binpack => s,
            Level::Spread => -s,
        }
    }

    fn select_gpus(
        &mut self,
        cluster: &Cluster,
        node: NodeId,
        pod: &Pod,
        _rng: &mut SimRng,
    ) -> Option<Vec<u16>> {
        let n = cluster.node(node);
        if !pod.is_gpu_pod() {
            return Some(Vec::new());
        }
        let mut scored: Vec<(i64, u16)> = n
            .fitting_cards(pod)
            .into_iter()
            .map(|g| {
                let s = (card_score(n, usize::from(g), pod) * 1e6).round() as i64;
                let key = match self.card {
                    Level::Binpack => -s,
                    Level::Spread => s,
                };
                (key, g)
            })
            .collect();
        scored.sort_unstable();
        let need = pod.num_gpu as usize;
        if scored.len() < need {
            return None;
        }
        let mut gpus: Vec<u16> = scored[..need].iter().map(|&(_, g)| g).collect();
        gpus.sort_unstable();
        Some(gpus)
    }
}

/// HAMi: node binpack + card spread by default.
pub struct Hami {
    greedy: Greedy<HamiScorer>,
}

impl Hami {
    pub fn new(node: Level, card: Level) -> Self {
        Hami {
            greedy: Greedy::new(HamiScorer { node, card }),
        }
    }
}

/// `hami[node=binpack|spread,gpu=binpack|spread]`: HAMi's `node-scheduler-policy` and
/// `gpu-scheduler-policy` (its defaults: binpack, spread).
pub const PARAMS: &[ParamSpec] = &[
    ParamSpec {
        key: "node",
        default: "binpack",
        help: "node level: binpack (highest node score) or spread (lowest)",
    },
    ParamSpec {
        key: "gpu",
        default: "spread",
        help: "card level: binpack (highest card score) or spread (lowest)",
    },
];

impl Hami {
    /// HAMi with the levels `PARAMS` resolved to.
    pub fn from_params(p: &Params) -> Result<Self, ParamError> {
        let level = |key| {
            p.choice(key, &["binpack", "spread"]).map(|c| match c {
                "binpack" => Level::Binpack,
                _ => Level::Spread,
            })
        };
        Ok(Hami::new(level("node")?, level("gpu")?))
    }
}

impl Default for Hami {
    fn default() -> Self {
        Hami::new(Level::Binpack, Level::Spread)
    }
}

/// kube-scheduler's `PrioritySort`: higher priority first, FIFO among equals (stable sort).
pub fn priority_then_fifo(jobs: &JobsView<'_>, queue: &mut [QueuedJob]) {
    queue.sort_by_key(|q| std::cmp::Reverse(jobs.pods[q.pod].priority));
}

/// [`priority_then_fifo`]'s order as a queue key (the engine keeps the queue in it,
/// [`ReplayHints::keyed_queue`]): higher priority first; equal keys stay FIFO.
pub fn priority_key(jobs: &JobsView<'_>, job: &QueuedJob) -> QueueKey {
    QueueKey(QueueKey::higher_first(jobs.pods[job.pod].priority), 0, 0)
}

impl Policy for Hami {
    fn name(&self) -> &str {
        "hami"
    }

    /// Priority order by key ([`priority_key`]), no preemption, a job refused only when no
    /// node holds it.
    fn replay_hints(&self) -> ReplayHints {
        ReplayHints::PLACER
    }

    fn queue_key(&mut self, jobs: &JobsView<'_>, job: &QueuedJob) -> QueueKey {
        priority_key(jobs, job)
    }

    fn preferred_slicing(&self) -> Option<SlicingMode> {
        Some(SlicingMode::HAMI_VGPU)
    }

    fn place(
        &mut self,
        cluster: &Cluster,
        job: PodId,
        pod: &Pod,
        rng: &mut SimRng,
    ) -> Option<Placement> {
        self.greedy.place(cluster, job, pod, rng)
    }

    fn order_queue(&mut self, jobs: &JobsView<'_>, queue: &mut [QueuedJob]) {
        priority_then_fifo(jobs, queue);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{cluster_in, placed, rng};

    fn two_nodes() -> Cluster {
        let mut c = cluster_in(
            &[
                ("a", 64_000, 1 << 20, 2, "A10"),
                ("b", 64_000, 1 << 20, 2, "A10"),
            ],
            SlicingMode::HAMI_VGPU,
        );
        // b, card 1: one task of 30 % and 6 GiB.
        let mut x = Pod::new("x", 1000, 1024, 1, 300);
        x.gpu_memory_mib = Some(6144);
        placed(&mut c, 0, x, 1, &[1]);
        c
    }

    #[test]
    fn node_binpack_card_spread_by_default() {
        let c = two_nodes();
        // b: 10·(1/20 + 300/2000 + 6144/(2·24576)) = 10·(0.05 + 0.15 + 0.125) = 3.25
        assert!((node_score(c.node(1)) - 3.25).abs() < 1e-9);
        let mut pod = Pod::new("p", 1000, 1024, 1, 200);
        pod.gpu_memory_mib = Some(2048);
        // card 0 empty: 10·(1/10 + 0.2 + 2048/24576); card 1: 10·(2/10 + 0.5 + 8192/24576).
        let c0 = 10.0 * (0.1 + 0.2 + 2048.0 / 24576.0);
        assert!((card_score(c.node(1), 0, &pod) - c0).abs() < 1e-9);
        let mut h = Hami::default();
        let p = h.place(&c, 0, &pod, &mut rng()).unwrap();
        assert_eq!((p.node, p.gpus), (1, vec![0]), "fuller node, emptier card");
        let mut h = Hami::new(Level::Binpack, Level::Binpack);
        assert_eq!(h.place(&c, 0, &pod, &mut rng()).unwrap().gpus, vec![1]);
        let mut h = Hami::new(Level::Spread, Level::Spread);
        assert_eq!(h.place(&c, 0, &pod, &mut rng()).unwrap().node, 0);
    }

    #[test]
    fn queue_by_priority_then_fifo() {
        let mut pods: Vec<Pod> = (0..4)
            .map(|i| Pod::new(&format!("j{i}"), 1, 1, 1, 100))
            .collect();
        pods[2].priority = 3;
        pods[3].priority = 1;
        let jobs = JobsView {
            now_ms: 0,
            pods: &pods,
            running: &[],
            fit_class: &[],
        };
        let mut q: Vec<QueuedJob> = (0..4)
            .map(|i| QueuedJob {
                pod: i,
                since_ms: i as u64,
                attained_gpu_ms: 0,
            })
            .collect();
        Hami::default().order_queue(&jobs, &mut q);
        assert_eq!(
            q.iter().map(|q| q.pod).collect::<Vec<_>>(),
            vec![2, 3, 0, 1]
        );
    }
}
