//! `las` — least attained service first (LAS, also Foreground-Background: Kleinrock,
//! "Queueing Systems" vol. 2, 1976; Rai, Urvoy-Keller & Biersack, SIGMETRICS'03), on
//! two-dimensional service — GPUs × time run, as Tiresias' 2D-LAS counts it (Gu et al.,
//! NSDI'19) — without Tiresias' discretisation into queues. Preemptive, whole cards.
//!
//! * The waiting job with the least attained service goes first (ties: arrival, then id);
//!   a job that does not fit is skipped ([`Discipline::Skip`](flexsim_sim::policy::Discipline)).
//! * A job that cannot start preempts running jobs that have attained at least `quantum`
//!   GPU-seconds more than it, most attained first ([`crate::preemption`]).
//! * Continuous LAS shares the cards equally among the jobs with the least service; with whole
//!   cards that is round-robin, and `quantum` is its time slice: a job that took the cards from
//!   another gives them back only once it has `quantum` more service than that one. It is what
//!   keeps equal jobs from swapping at every instant (and paying the restart cost each time):
//!   a swap needs a `quantum` of service, so each job runs at least `quantum` / GPUs between
//!   preemptions. The policy asks to be woken (`next_wake`) when a running job's service first
//!   reaches the least-served waiting job's plus `quantum`, so the rule holds at all times, not
//!   only at arrivals and completions. Default 600 GPU-s: ten times the engine's default
//!   restart cost of 60 s, so a preemption costs at most about a tenth of the service between
//!   two.
//! * Placement: `placement=best-fit` (default) or `first-fit` ([`crate::placement`]).

use flexsim_sim::model::cluster::Cluster;
use flexsim_sim::model::job::{Pod, PodId};
use flexsim_sim::model::slicing::SlicingMode;
use flexsim_sim::policy::params::{ParamError, ParamSpec, Params};
use flexsim_sim::policy::{JobsView, Policy, QueuedJob};

use crate::placement::{self, Placer};
use crate::preemption::lowest_priority_first;

/// `las[quantum=600,placement=best-fit]`.
pub const PARAMS: &[ParamSpec] = &[
    ParamSpec {
        key: "quantum",
        default: "600",
        help: "service lead, GPU-seconds, a running job needs over a waiting one to be preempted",
    },
    placement::PARAM,
];

pub struct Las {
    quantum_gpu_ms: u64,
    placer: Placer,
    /// Attained service of each waiting job at the pass's start, by job id.
    waiting_attained: Vec<u64>,
}

impl Las {
    pub fn new(quantum_gpu_ms: u64, placer: Placer) -> Self {
        assert!(quantum_gpu_ms > 0, "a positive quantum");
        Las {
            quantum_gpu_ms,
            placer,
            waiting_attained: Vec::new(),
        }
    }

    pub fn from_params(p: &Params) -> Result<Self, ParamError> {
        let expected = "positive GPU-seconds";
        let q: f64 = p.parse("quantum", expected)?;
        let ms = (q * 1000.0).round();
        if !(q.is_finite() && ms >= 1.0) {
            return Err(p.bad("quantum", expected));
        }
        Ok(Las::new(ms as u64, Placer::from_params(p)?))
    }
}

impl Policy for Las {
    fn name(&self) -> &str {
        "las"
    }

    fn preferred_slicing(&self) -> Option<SlicingMode> {
        Some(SlicingMode::Whole)
    }

    placement::place_with_placer!();

    fn order_queue(&mut self, jobs: &JobsView<'_>, queue: &mut [QueuedJob]) {
        self.waiting_attained.resize(jobs.pods.len(), 0);
        for q in queue.iter() {
            self.waiting_attained[q.pod] = q.attained_gpu_ms;
        }
        queue.sort_by_key(|q| (q.attained_gpu_ms, jobs.pods[q.pod].arrival_ms, q.pod));
    }

    fn preempt(
        &mut self,
        cluster: &Cluster,
        job: PodId,
        pod: &Pod,
        jobs: &JobsView<'_>,
    ) -> Vec<PodId> {
        let mine = self.waiting_attained.get(job).copied().unwrap_or(0);
        let bar = mine.saturating_add(self.quantum_gpu_ms);
        let lower = jobs
            .running
            .iter()
            .map(|r| (jobs.attained_gpu_ms(r), r))
            .filter(|&(a, _)| a >= bar);
        lowest_priority_first(cluster, pod, lower)
    }

    fn next_wake(&mut self, jobs: &JobsView<'_>, waiting: &[QueuedJob]) -> Option<u64> {
        let least = waiting.iter().map(|q| q.attained_gpu_ms).min()?;
        let bar = least.saturating_add(self.quantum_gpu_ms);
        jobs.running
            .iter()
            .filter_map(|r| {
                let a = jobs.attained_gpu_ms(r);
                let gpus = u64::from(jobs.pods[r.pod].num_gpu.max(1));
                (a < bar).then(|| jobs.now_ms + (bar - a).div_ceil(gpus))
            })
            .min()
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

    const NODE1: &[(&str, u64, u64, u32, &str)] = &[("n", 64_000, 1 << 20, 1, "V100M32")];

    #[test]
    fn equal_jobs_take_turns_of_one_quantum_lead() {
        // One card, quantum 2 GPU-s, no restart cost. a (0 s, 5 s of work), b (0 s, 5 s).
        // a runs first (arrival tie → id); b preempts it once a leads by 2 GPU-s (2 s), then
        // b runs until it leads a by 2 (4 s of its own: 2 → 6 s), a again to 10 s (a: 2 + 4
        // = 6 > 5: a ends at 9 s), and b finishes its last 1 s at 10 s.
        let mut las = Las::new(2_000, Placer::best_fit());
        let o = replay_on(
            NODE1,
            vec![job("a", 0, 5_000, 1), job("b", 0, 5_000, 1)],
            &mut las,
            0,
        );
        assert_eq!(o.jobs[1].first_start_ms, Some(2_000));
        assert_eq!(o.jobs[0].finish_ms, Some(9_000));
        assert_eq!(o.jobs[1].finish_ms, Some(10_000));
        assert_eq!(o.figures.preemptions, 2);
    }

    #[test]
    fn a_new_job_preempts_the_most_served_and_gpu_time_counts_gpus() {
        // Two cards. big (2 GPUs) runs 0..; at 3 s it has 6 GPU-s. small (1 GPU, 3 s) and
        // tiny (1 GPU, 4 s) arrive then with 0: small preempts big (quantum 1 GPU-s) and tiny
        // takes the other card; big resumes when both end.
        let mut las = Las::new(1_000, Placer::best_fit());
        let o = replay_on(
            &[("n", 64_000, 1 << 20, 2, "V100M32")],
            vec![
                job("big", 0, 10_000, 2),
                job("small", 3_000, 3_000, 1),
                job("tiny", 3_000, 4_000, 1),
            ],
            &mut las,
            0,
        );
        assert_eq!(o.jobs[1].first_start_ms, Some(3_000));
        assert_eq!(o.jobs[2].first_start_ms, Some(3_000));
        // small ends at 6 s, tiny at 7 s; big (7 s left) needs both cards: 7 + 7 = 14 s.
        assert_eq!(o.jobs[0].finish_ms, Some(14_000));
        assert_eq!(o.figures.preemptions, 1);
    }

    #[test]
    fn quantum_must_be_positive() {
        let e = crate::build("las[quantum=0]").err().unwrap().to_string();
        assert!(e.contains("expected positive GPU-seconds"), "{e}");
        assert_eq!(
            crate::build("las").unwrap().params.resolved()["quantum"],
            "600"
        );
    }
}
