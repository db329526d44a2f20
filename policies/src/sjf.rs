//! `sjf` — shortest job first, non-preemptive: waiting jobs are offered shortest trace work
//! (`work_s`, the job's solo run time) first, ties by arrival then id, and every one that fits
//! starts; a job that does not fit is skipped. A started job runs to its end. The classic
//! non-preemptive size-based order (Conway, Maxwell & Miller, "Theory of Scheduling", 1967),
//! clairvoyant: the job length is known in advance (from the trace). Length, not GPU time: a
//! wide short job goes before a narrow long one. Node choice: `placement=best-fit` (default) or
//! `first-fit`.

use flexsim_sim::policy::params::{ParamError, ParamSpec, Params};
use flexsim_sim::policy::{JobsView, Policy, QueueKey, QueuedJob, ReplayHints};

use crate::placement::{self, Placer};

/// `sjf[placement=best-fit]`.
pub const PARAMS: &[ParamSpec] = &[placement::PARAM];

pub struct Sjf {
    placer: Placer,
}

impl Sjf {
    pub fn from_params(p: &Params) -> Result<Self, ParamError> {
        Ok(Sjf {
            placer: Placer::from_params(p)?,
        })
    }
}

impl Policy for Sjf {
    fn name(&self) -> &str {
        "sjf"
    }

    /// Shortest work first by key ([`Sjf::queue_key`]), no preemption, a job refused only
    /// when no node holds it.
    fn replay_hints(&self) -> ReplayHints {
        ReplayHints::PLACER
    }

    /// `order_queue`'s order: work, then arrival, then job id (a total order).
    fn queue_key(&mut self, jobs: &JobsView<'_>, job: &QueuedJob) -> QueueKey {
        let p = &jobs.pods[job.pod];
        QueueKey(p.work_ms.unwrap_or(u64::MAX), p.arrival_ms, job.pod as u64)
    }

    placement::place_with_placer!();

    fn order_queue(&mut self, jobs: &JobsView<'_>, queue: &mut [QueuedJob]) {
        queue.sort_by_key(|q| {
            let p = &jobs.pods[q.pod];
            (p.work_ms.unwrap_or(u64::MAX), p.arrival_ms, q.pod)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fifo::tests::{job, starts};

    #[test]
    fn shortest_waiting_job_first_and_no_preemption() {
        let mut s = Sjf::from_params(&Params::defaults("sjf", PARAMS)).unwrap();
        // 4 cards. a (4 cards, 10 s) runs and keeps them: a shorter job never preempts.
        let jobs = vec![
            job("a", 0, 10, 4),
            job("b", 1, 8, 4),
            job("c", 2, 3, 2),
            job("d", 3, 5, 2),
            job("e", 4, 1, 4),
        ];
        // At 10 s the shortest, e (1 s, 4 cards), goes first; at 11 s c (3 s) and d (5 s)
        // share the cards; b (8 s) waits for both: 16 s.
        assert_eq!(starts(&mut s, jobs), vec![0, 16, 11, 11, 10]);
    }
}
