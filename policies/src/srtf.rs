//! `srtf` — shortest remaining time first (Schrage, "A proof of the optimality of the shortest
//! remaining processing time discipline", Operations Research 16(3), 1968), on GPU time:
//! remaining GPU time = the trace's work × GPUs − the service attained (the Tiresias paper's
//! SRTF baseline, which knows job lengths; Gu et al., NSDI'19). Preemptive, whole cards.
//!
//! * The waiting job with the least remaining GPU time goes first (ties: arrival, then id);
//!   a job that does not fit is skipped.
//! * A job that cannot start preempts running jobs with strictly more remaining GPU time, the
//!   most remaining first ([`crate::preemption`]).
//! * No preempt-restart loops: a running job's remaining time only shrinks and a waiting one's
//!   stays, so a preempted job can never preempt its preemptor back; ties never preempt.
//! * The remaining time is what the policy can see: work from the trace, service as GPUs ×
//!   time run. On whole cards of speed 1 that is the true remaining work; the restart cost the
//!   engine adds after a preemption is not counted.
//! * Placement: `placement=best-fit` (default) or `first-fit` ([`crate::placement`]).

use flexsim_sim::model::cluster::Cluster;
use flexsim_sim::model::job::{Pod, PodId};
use flexsim_sim::model::slicing::SlicingMode;
use flexsim_sim::policy::params::{ParamError, ParamSpec, Params};
use flexsim_sim::policy::{JobsView, Policy, QueuedJob};

use crate::placement::{self, Placer};
use crate::preemption::lowest_priority_first;

/// `srtf[placement=best-fit]`.
pub const PARAMS: &[ParamSpec] = &[placement::PARAM];

pub struct Srtf {
    placer: Placer,
    /// Remaining GPU time of each waiting job at the pass's start, by job id.
    waiting_remaining: Vec<u64>,
}

/// The GPU-ms job `pod` still needs by the trace, having attained `attained`.
pub fn remaining_gpu_ms(pod: &Pod, attained: u64) -> u64 {
    let total = pod.work_ms.unwrap_or(0) * u64::from(pod.num_gpu.max(1));
    total.saturating_sub(attained)
}

impl Srtf {
    pub fn new(placer: Placer) -> Self {
        Srtf {
            placer,
            waiting_remaining: Vec::new(),
        }
    }

    pub fn from_params(p: &Params) -> Result<Self, ParamError> {
        Ok(Srtf::new(Placer::from_params(p)?))
    }
}

impl Policy for Srtf {
    fn name(&self) -> &str {
        "srtf"
    }

    fn preferred_slicing(&self) -> Option<SlicingMode> {
        Some(SlicingMode::Whole)
    }

    placement::place_with_placer!();

    fn order_queue(&mut self, jobs: &JobsView<'_>, queue: &mut [QueuedJob]) {
        self.waiting_remaining.resize(jobs.pods.len(), 0);
        for q in queue.iter() {
            self.waiting_remaining[q.pod] = remaining_gpu_ms(&jobs.pods[q.pod], q.attained_gpu_ms);
        }
        queue.sort_by_key(|q| {
            (
                self.waiting_remaining[q.pod],
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
        let mine = self.waiting_remaining.get(job).copied().unwrap_or(0);
        let lower = jobs
            .running
            .iter()
            .map(|r| {
                (
                    remaining_gpu_ms(&jobs.pods[r.pod], jobs.attained_gpu_ms(r)),
                    r,
                )
            })
            .filter(|&(rem, _)| rem > mine);
        lowest_priority_first(cluster, pod, lower)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::replay_on;

    fn job(name: &str, arrival_ms: u64, work_ms: u64, gpus: u32) -> Pod {
        let mut p = Pod::new(name, 1000, 1024, gpus, 1000);
        p.arrival_ms = arrival_ms;
        p.work_ms = Some(work_ms);
        p.demand_milli = Some(1000);
        p
    }

    const NODE2: &[(&str, u64, u64, u32, &str)] = &[("n", 64_000, 1 << 20, 2, "V100M32")];

    #[test]
    fn a_shorter_remainder_preempts_and_gpu_time_counts_gpus() {
        // Two cards; long (10 s) and mid (8 s) run from 0. At 4 s long has 6 GPU-s left and
        // mid 4; short (5 s) arrives with 5: it preempts long (6 > 5), not mid (4). mid ends
        // at 8 s and long resumes there with 6 s left: 14 s.
        let o = replay_on(
            NODE2,
            vec![
                job("long", 0, 10_000, 1),
                job("mid", 0, 8_000, 1),
                job("short", 4_000, 5_000, 1),
            ],
            &mut Srtf::new(Placer::best_fit()),
            0,
        );
        assert_eq!(o.jobs[2].first_start_ms, Some(4_000));
        assert_eq!(o.jobs[1].finish_ms, Some(8_000));
        assert_eq!(o.jobs[0].finish_ms, Some(14_000));
        assert_eq!(o.figures.preemptions, 1);
        // A 2-GPU job of 4 s has 8 GPU-s: it does not preempt long (6 left) at 4 s.
        let o = replay_on(
            NODE2,
            vec![
                job("long", 0, 10_000, 1),
                job("mid", 0, 8_000, 1),
                job("wide", 4_000, 4_000, 2),
            ],
            &mut Srtf::new(Placer::best_fit()),
            0,
        );
        assert_eq!(o.figures.preemptions, 0);
        assert_eq!(o.jobs[2].first_start_ms, Some(10_000));
    }

    #[test]
    fn equal_remainders_do_not_preempt() {
        // One card: a (0 s, 10 s) has 5 s left at 5 s, when b (5 s of work) arrives: a tie.
        let o = replay_on(
            &[("n", 64_000, 1 << 20, 1, "V100M32")],
            vec![job("a", 0, 10_000, 1), job("b", 5_000, 5_000, 1)],
            &mut Srtf::new(Placer::best_fit()),
            0,
        );
        assert_eq!(o.figures.preemptions, 0);
        assert_eq!(o.jobs[1].first_start_ms, Some(10_000));
    }
}
