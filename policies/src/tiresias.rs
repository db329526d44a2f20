//! `tiresias` — Tiresias' discretised two-dimensional least-attained-service scheduler
//! (Gu et al., NSDI'19, "2D-LAS"), on whole cards.
//!
//! * Attained service = GPUs × time run (the engine's `attained_gpu_ms`; for a running job plus
//!   what it ran since its last start).
//! * Queues by thresholds: a job with attained service below `thresholds[0]` is in queue 0 (the
//!   highest), below `thresholds[1]` in queue 1, ... Default: two queues split at one GPU-hour
//!   (our choice; the paper tunes thresholds per trace). Within a queue, FIFO by arrival time.
//! * Preemptive: a waiting job that cannot be placed preempts running jobs of strictly lower
//!   queues (larger attained service first) on the one node where the fewest such victims make
//!   room; ties by node priority. Victims are requeued by the engine.
//! * Placement: first node in priority order where the job fits, lowest-index free cards (the
//!   consolidation Tiresias prefers for skewed models is not modelled).
//!
//! Not modelled: the starvation guard (promote a job that waited too long back to queue 0) and
//! periodic re-evaluation: the engine schedules at arrivals and completions, so a job crossing a
//! threshold is demoted at the next such event.

use flexsim_sim::model::cluster::{Cluster, Node, Placement};
use flexsim_sim::model::job::{Pod, PodId};
use flexsim_sim::model::slicing::SlicingMode;
use flexsim_sim::policy::gpu_select;
use flexsim_sim::policy::params::{ParamError, ParamSpec, Params};
use flexsim_sim::policy::{JobsView, Policy, QueuedJob, SimRng};

/// One GPU-hour in GPU-milliseconds.
pub const GPU_HOUR_MS: u64 = 3_600_000;

pub struct Tiresias {
    /// Ascending queue thresholds, GPU-ms; `n` thresholds make `n + 1` queues.
    thresholds: Vec<u64>,
    /// Attained service of each waiting job, as its queue entry said (by pod id).
    waiting_attained: Vec<u64>,
}

impl Tiresias {
    pub fn new(mut thresholds: Vec<u64>) -> Self {
        thresholds.sort_unstable();
        Tiresias {
            thresholds,
            waiting_attained: Vec::new(),
        }
    }

    /// The queue of a job with `attained` GPU-ms, 0 = highest priority.
    pub fn queue_of(&self, attained: u64) -> usize {
        self.thresholds.partition_point(|&t| t <= attained)
    }
}

/// `tiresias[thresholds=3600]`: the queue thresholds in GPU-seconds, ascending, `:`-separated;
/// K−1 thresholds make K queues.
pub const PARAMS: &[ParamSpec] = &[ParamSpec {
    key: "thresholds",
    default: "3600",
    help: "queue thresholds, GPU-seconds, ascending, `:`-separated (K-1 for K queues)",
}];

impl Tiresias {
    pub fn from_params(p: &Params) -> Result<Self, ParamError> {
        let expected = "ascending positive GPU-seconds separated by `:`";
        let secs: Vec<u64> = p.list("thresholds", expected)?;
        if secs.is_empty() || secs.contains(&0) || !secs.windows(2).all(|w| w[0] < w[1]) {
            return Err(p.bad("thresholds", expected));
        }
        Ok(Tiresias::new(secs.iter().map(|s| s * 1000).collect()))
    }
}

impl Default for Tiresias {
    fn default() -> Self {
        Tiresias::new(vec![GPU_HOUR_MS])
    }
}

/// The victims on `node` (taken in `order`) that make room for `pod`: the shortest prefix of
/// `order` after which `fits` holds, with victims that turn out not to be needed dropped again
/// (last added first). `None` if even all of them do not make room.
pub fn fewest_victims(
    node: &Node,
    pod: &Pod,
    order: &[PodId],
    fits: impl Fn(&Node, &Pod) -> bool,
) -> Option<Vec<PodId>> {
    if order.is_empty() || !fits(&node.without(order), pod) {
        return None;
    }
    let mut chosen: Vec<PodId> = Vec::new();
    for &v in order {
        chosen.push(v);
        if fits(&node.without(&chosen), pod) {
            break;
        }
    }
    // Drop victims that are not needed (a later, larger one may have made room alone).
    let mut i = chosen.len();
    while i > 0 {
        i -= 1;
        let mut fewer = chosen.clone();
        fewer.remove(i);
        if !fewer.is_empty() && fits(&node.without(&fewer), pod) {
            chosen = fewer;
        }
    }
    Some(chosen)
}

impl Policy for Tiresias {
    fn name(&self) -> &str {
        "tiresias"
    }

    fn preferred_slicing(&self) -> Option<SlicingMode> {
        Some(SlicingMode::Whole)
    }

    fn place(
        &mut self,
        cluster: &Cluster,
        _job: PodId,
        pod: &Pod,
        _rng: &mut SimRng,
    ) -> Option<Placement> {
        let node = cluster
            .by_priority()
            .iter()
            .copied()
            .find(|&n| cluster.node(n).fits(pod))?;
        let gpus = gpu_select::lowest_index(cluster.node(node), pod)?;
        Some(Placement { node, gpus })
    }

    fn order_queue(&mut self, jobs: &JobsView<'_>, queue: &mut [QueuedJob]) {
        self.waiting_attained.resize(jobs.pods.len(), 0);
        for q in queue.iter() {
            self.waiting_attained[q.pod] = q.attained_gpu_ms;
        }
        queue.sort_by_key(|q| {
            (
                self.queue_of(q.attained_gpu_ms),
                jobs.pods[q.pod].arrival_ms,
                q.pod,
            )
        });
    }

    fn preempt(
        &mut self,
        cluster: &Cluster,
        job: PodId,
        pod: &Pod,
        jobs: &JobsView<'_>,
    ) -> Vec<PodId> {
        let attained = self.waiting_attained.get(job).copied().unwrap_or(0);
        let my_queue = self.queue_of(attained);
        let mut best: Option<(usize, usize, Vec<PodId>)> = None;
        for (rank, &n) in cluster.by_priority().iter().enumerate() {
            let mut victims: Vec<(usize, u64, PodId)> = jobs
                .running
                .iter()
                .filter(|r| r.node == n)
                .map(|r| {
                    let a = jobs.attained_gpu_ms(r);
                    (self.queue_of(a), a, r.pod)
                })
                .filter(|&(q, _, _)| q > my_queue)
                .collect();
            // Lowest queue (most service) first, then most attained, then latest id.
            victims.sort_by_key(|&(q, a, id)| std::cmp::Reverse((q, a, id)));
            let order: Vec<PodId> = victims.iter().map(|&(_, _, id)| id).collect();
            if let Some(v) = fewest_victims(cluster.node(n), pod, &order, |n, p| n.fits(p)) {
                if best.as_ref().is_none_or(|b| v.len() < b.0) {
                    best = Some((v.len(), rank, v));
                }
            }
        }
        best.map(|(_, _, v)| v).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{cluster_in, placed, replay_on};
    use flexsim_sim::policy::RunningJob;

    fn job(name: &str, arrival_ms: u64, work_ms: u64, gpus: u32) -> Pod {
        let mut p = Pod::new(name, 1000, 1024, gpus, 1000);
        p.arrival_ms = arrival_ms;
        p.work_ms = Some(work_ms);
        p.demand_milli = Some(1000);
        p
    }

    #[test]
    fn higher_queue_preempts_lower_and_same_queue_waits() {
        // Threshold 5 GPU-s: at 10 s job a (10 GPU-s attained) is in queue 1, b in queue 0.
        let o = replay_on(
            &[("n", 64_000, 1 << 20, 1, "V100M32")],
            vec![job("a", 0, 20_000, 1), job("b", 10_000, 3_000, 1)],
            &mut Tiresias::new(vec![5_000]),
            2_000,
        );
        assert_eq!(o.figures.preemptions, 1);
        assert_eq!(o.jobs[1].first_start_ms, Some(10_000));
        assert_eq!(o.jobs[1].finish_ms, Some(13_000));
        // a: 10 s left + 2 s restart cost from 13 s.
        assert_eq!(o.jobs[0].finish_ms, Some(25_000));
        assert_eq!(o.figures.jobs_finished, 2);
        // c arrives while a is still in queue 0 (2 GPU-s): no preemption, FIFO.
        let o = replay_on(
            &[("n", 64_000, 1 << 20, 1, "V100M32")],
            vec![job("a", 0, 20_000, 1), job("c", 2_000, 3_000, 1)],
            &mut Tiresias::new(vec![5_000]),
            2_000,
        );
        assert_eq!(o.figures.preemptions, 0);
        assert_eq!(o.jobs[1].first_start_ms, Some(20_000));
    }

    #[test]
    fn queue_then_arrival_order_and_fewest_victims_node() {
        let t = Tiresias::new(vec![5_000, 50_000]);
        assert_eq!(
            (t.queue_of(0), t.queue_of(5_000), t.queue_of(60_000)),
            (0, 1, 2)
        );
        let pods = vec![
            job("l0", 0, 1, 1),
            job("l1", 1, 1, 1),
            job("l2", 2, 1, 2),
            job("hi", 3, 1, 2),
        ];
        let mut c = cluster_in(
            &[
                ("a", 64_000, 1 << 20, 2, "V100M32"),
                ("b", 64_000, 1 << 20, 2, "V100M32"),
            ],
            SlicingMode::Whole,
        );
        placed(&mut c, 0, pods[0].clone(), 0, &[0]);
        placed(&mut c, 1, pods[1].clone(), 0, &[1]);
        placed(&mut c, 2, pods[2].clone(), 1, &[0, 1]);
        let running: Vec<RunningJob> = [(0, 0), (1, 0), (2, 1)]
            .iter()
            .map(|&(pod, node)| RunningJob {
                pod,
                node,
                started_ms: 0,
                attained_gpu_ms: 10_000,
            })
            .collect();
        let view = JobsView {
            now_ms: 0,
            pods: &pods,
            running: &running,
        };
        let mut t = Tiresias::new(vec![5_000]);
        let mut q = vec![QueuedJob {
            pod: 3,
            since_ms: 9,
            attained_gpu_ms: 0,
        }];
        t.order_queue(&view, &mut q);
        // Node a needs two victims, node b one: b's 2-GPU job goes.
        assert_eq!(t.preempt(&c, 3, &pods[3], &view), vec![2]);
        // A job in the victims' own queue preempts nobody.
        t.waiting_attained[3] = 6_000;
        assert_eq!(t.preempt(&c, 3, &pods[3], &view), Vec::<PodId>::new());
        let mut q = vec![
            QueuedJob {
                pod: 1,
                since_ms: 0,
                attained_gpu_ms: 7_000,
            },
            QueuedJob {
                pod: 2,
                since_ms: 1,
                attained_gpu_ms: 0,
            },
            QueuedJob {
                pod: 0,
                since_ms: 2,
                attained_gpu_ms: 6_000,
            },
        ];
        t.order_queue(&view, &mut q);
        assert_eq!(q.iter().map(|q| q.pod).collect::<Vec<_>>(), vec![2, 0, 1]);
    }
}
