//! `gittins` — the Gittins index on two-dimensional service (GPUs × time), as Tiresias'
//! 2D-Gittins uses it when job lengths are unknown but their distribution is (Gu et al.,
//! NSDI'19; the index: Gittins, "Bandit processes and dynamic allocation indices", JRSS B
//! 41(2), 1979; for M/G/1 scheduling, Aalto, Ayesta & Righter, "On the Gittins index in the
//! M/G/1 queue", Queueing Systems 63, 2009). Preemptive, whole cards.
//!
//! * **Index.** For a job that has attained service `a`, with job service `S` drawn from the
//!   workload's distribution and a service quantum `Δ`:
//!   `G(a) = P(S − a ≤ Δ | S > a) / E[min(S − a, Δ) | S > a]` — the chance of finishing
//!   within the next quantum per unit of service that quantum costs. The distribution is the
//!   empirical one of the workload's job GPU times (work × GPUs of every pod with a work time,
//!   [`Setup::original_pods`]): the distribution knowledge the paper assumes, taken from the
//!   trace itself. A job past the largest sample has index 0.
//! * **Discretisation.** `a` is taken at the last multiple of `quantum` (GPU-seconds, default
//!   3,250, the Tiresias simulator's `gittins_delta`), so a job's index changes only when its
//!   service crosses a multiple of the quantum; the policy asks to be woken then (`next_wake`).
//!   (The peer re-evaluates its index at every event, with the unrounded service, and every
//!   `gittins_delta` seconds.)
//! * **Order and preemption.** Highest index first (ties: arrival, then id); a job that does
//!   not fit is skipped. A job that cannot start preempts running jobs of strictly lower
//!   index, the lowest first ([`crate::preemption`]). An index changes only at a quantum
//!   crossing of a running job, so jobs swap at most once per quantum of service and equal
//!   indices never preempt each other: no preempt-restart loops.
//! * Placement: `placement=best-fit` (default) or `first-fit` ([`crate::placement`]).
//!
//! [`Setup::original_pods`]: flexsim_sim::policy::Setup

use flexsim_sim::model::cluster::Cluster;
use flexsim_sim::model::job::{Pod, PodId};
use flexsim_sim::model::slicing::SlicingMode;
use flexsim_sim::policy::params::{ParamError, ParamSpec, Params};
use flexsim_sim::policy::{JobsView, Policy, QueuedJob, Setup};
use std::cmp::Reverse;

use crate::placement::{self, Placer};
use crate::preemption::lowest_priority_first;

/// `gittins[quantum=3250,placement=best-fit]`.
pub const PARAMS: &[ParamSpec] = &[
    ParamSpec {
        key: "quantum",
        default: "3250",
        help: "service quantum of the index, GPU-seconds; the index changes once per quantum",
    },
    placement::PARAM,
];

/// The Gittins index of an empirical service distribution for a fixed quantum.
#[derive(Debug, Clone, Default)]
pub struct GittinsIndex {
    quantum: u64,
    /// Job services, GPU-ms, ascending.
    samples: Vec<u64>,
    /// `prefix[i]` = Σ of the first `i` samples.
    prefix: Vec<u128>,
}

impl GittinsIndex {
    /// The index over `samples` (GPU-ms, any order) with quantum `quantum` GPU-ms (> 0).
    pub fn new(mut samples: Vec<u64>, quantum: u64) -> Self {
        assert!(quantum > 0, "a positive quantum");
        samples.sort_unstable();
        let mut prefix = Vec::with_capacity(samples.len() + 1);
        prefix.push(0u128);
        for &s in &samples {
            prefix.push(prefix.last().copied().unwrap_or(0) + u128::from(s));
        }
        GittinsIndex {
            quantum,
            samples,
            prefix,
        }
    }

    /// The service at which `attained`'s index is evaluated: its last multiple of the quantum.
    pub fn step(&self, attained: u64) -> u64 {
        attained / self.quantum * self.quantum
    }

    /// G at `attained` (taken at [`GittinsIndex::step`]), per GPU-ms; 0 past the last sample.
    pub fn index(&self, attained: u64) -> f64 {
        let a = self.step(attained);
        let n = self.samples.len();
        let above = |x: u64| self.samples.partition_point(|&s| s <= x);
        let (lo, hi) = (above(a), above(a.saturating_add(self.quantum)));
        if lo == n {
            return 0.0;
        }
        // Among the jobs still running at a: those ending within the quantum contribute
        // their remaining service, the others a whole quantum.
        let done = (hi - lo) as u128;
        let ending = self.prefix[hi] - self.prefix[lo] - done * u128::from(a);
        let expected = ending + u128::from(self.quantum) * (n - hi) as u128;
        done as f64 / expected as f64
    }

    /// When a job at `attained`, gaining `gpus` GPU-ms per ms from `now`, next changes index.
    pub fn next_step(&self, now: u64, attained: u64, gpus: u64) -> u64 {
        let next = self.step(attained) + self.quantum;
        now + (next - attained).div_ceil(gpus)
    }
}

pub struct Gittins {
    quantum_gpu_ms: u64,
    index: GittinsIndex,
    placer: Placer,
    /// Index of each waiting job at the pass's start, by job id.
    waiting_index: Vec<f64>,
    /// Each job's last computed index and the service step it was computed at.
    memo: Vec<Option<(u64, f64)>>,
}

/// A priority that sorts highest index first, then arrival, then id.
type Rank = (Reverse<u64>, u64, PodId);

fn rank(index: f64, pod: &Pod, id: PodId) -> Rank {
    // Non-negative finite floats order like their bit patterns.
    (Reverse(index.to_bits()), pod.arrival_ms, id)
}

impl Gittins {
    pub fn new(quantum_gpu_ms: u64, placer: Placer) -> Self {
        Gittins {
            quantum_gpu_ms,
            index: GittinsIndex::new(Vec::new(), quantum_gpu_ms),
            placer,
            waiting_index: Vec::new(),
            memo: Vec::new(),
        }
    }

    /// Job `id`'s index at `attained`, computed once per service step.
    fn index_of(&mut self, id: PodId, attained: u64) -> f64 {
        if self.memo.len() <= id {
            self.memo.resize(id + 1, None);
        }
        let step = self.index.step(attained);
        match self.memo[id] {
            Some((at, g)) if at == step => g,
            _ => {
                let g = self.index.index(attained);
                self.memo[id] = Some((step, g));
                g
            }
        }
    }

    pub fn from_params(p: &Params) -> Result<Self, ParamError> {
        let expected = "positive GPU-seconds";
        let q: f64 = p.parse("quantum", expected)?;
        let ms = (q * 1000.0).round();
        if !(q.is_finite() && ms >= 1.0) {
            return Err(p.bad("quantum", expected));
        }
        Ok(Gittins::new(ms as u64, Placer::from_params(p)?))
    }
}

/// The GPU time a pod needs by the trace, GPU-ms.
fn gpu_time(pod: &Pod) -> Option<u64> {
    pod.work_ms.map(|w| w * u64::from(pod.num_gpu.max(1)))
}

impl Policy for Gittins {
    fn name(&self) -> &str {
        "gittins"
    }

    fn preferred_slicing(&self) -> Option<SlicingMode> {
        Some(SlicingMode::Whole)
    }

    fn prepare(&mut self, setup: &Setup<'_>) {
        let samples = setup.original_pods.iter().filter_map(gpu_time).collect();
        self.index = GittinsIndex::new(samples, self.quantum_gpu_ms);
    }

    placement::place_with_placer!();

    fn order_queue(&mut self, jobs: &JobsView<'_>, queue: &mut [QueuedJob]) {
        self.waiting_index.resize(jobs.pods.len(), 0.0);
        for q in queue.iter() {
            self.waiting_index[q.pod] = self.index_of(q.pod, q.attained_gpu_ms);
        }
        queue.sort_by_key(|q| rank(self.waiting_index[q.pod], &jobs.pods[q.pod], q.pod));
    }

    fn preempt(
        &mut self,
        cluster: &Cluster,
        job: PodId,
        pod: &Pod,
        jobs: &JobsView<'_>,
    ) -> Vec<PodId> {
        let mine = self.waiting_index.get(job).copied().unwrap_or(0.0);
        let mut lower = Vec::new();
        for r in jobs.running {
            let g = self.index_of(r.pod, jobs.attained_gpu_ms(r));
            if g < mine {
                lower.push((rank(g, &jobs.pods[r.pod], r.pod), r));
            }
        }
        lowest_priority_first(cluster, pod, lower)
    }

    fn next_wake(&mut self, jobs: &JobsView<'_>, waiting: &[QueuedJob]) -> Option<u64> {
        if waiting.is_empty() {
            return None;
        }
        jobs.running
            .iter()
            .map(|r| {
                let gpus = u64::from(jobs.pods[r.pod].num_gpu.max(1));
                self.index
                    .next_step(jobs.now_ms, jobs.attained_gpu_ms(r), gpus)
            })
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::replay_on;

    #[test]
    fn the_index_by_hand() {
        // Services 1, 2, 10 (GPU-ms), quantum 2.
        let g = GittinsIndex::new(vec![10, 1, 2], 2);
        // a = 0: all three alive; 1 and 2 end within 2 (P = 2/3), E = (1 + 2 + 2)/3.
        assert!((g.index(0) - 2.0 / 5.0).abs() < 1e-12);
        // a = 1 → step 0: the same.
        assert_eq!(g.index(1), g.index(0));
        // a = 2: only 10 alive, it does not end by 4: P = 0.
        assert_eq!(g.index(2), 0.0);
        // a = 8: 10 ends within 2: P = 1, E = 2: 1/2.
        assert!((g.index(8) - 0.5).abs() < 1e-12);
        // Past the last sample.
        assert_eq!(g.index(10), 0.0);
        assert_eq!(g.next_step(100, 3, 1), 101);
        assert_eq!(g.next_step(100, 4, 2), 101);
    }

    fn job(name: &str, arrival_ms: u64, work_ms: u64) -> Pod {
        let mut p = Pod::new(name, 1000, 1024, 1, 1000);
        p.arrival_ms = arrival_ms;
        p.work_ms = Some(work_ms);
        p.demand_milli = Some(1000);
        p
    }

    #[test]
    fn a_job_likely_to_end_soon_preempts_one_unlikely_to() {
        // Services 20 s and 2 s (twice), quantum 2 GPU-s: G(0) = (2/3) / ((2 + 2 + 2)/3) =
        // 1/3 per GPU-s; G(2 s) = 0 (the 20-s job does not end by 4 s). long starts at 0; s1
        // waits from 1 s with G(0), a tie with long's: no preemption. At 2 s long crosses to
        // G(2 s) = 0 and s1 preempts it (2..4 s). s2 (2.5 s) ties with the running s1 and
        // waits; it runs 4..6 s; long resumes at 6 s with 18 s left: 24 s.
        let o = replay_on(
            &[("n", 64_000, 1 << 20, 1, "V100M32")],
            vec![
                job("long", 0, 20_000),
                job("s1", 1_000, 2_000),
                job("s2", 2_500, 2_000),
            ],
            &mut Gittins::new(2_000, Placer::best_fit()),
            0,
        );
        assert_eq!(o.jobs[1].first_start_ms, Some(2_000));
        assert_eq!(o.jobs[2].first_start_ms, Some(4_000));
        assert_eq!(o.jobs[0].finish_ms, Some(24_000));
        assert_eq!(o.figures.preemptions, 1);
    }
}
