//! Progress of one long replay on a terminal (`flexsim run --protocol replay`; a sweep shows
//! runs done instead): a [`Policy`] wrapper that reads the simulated clock whenever the engine
//! asks the policy for a wake-up — once a scheduling pass — and shows how far through the
//! trace's arrival span the run is, the passes per second and the ETA. Only built when stderr
//! is a terminal, so a piped or CI run takes the plain path.

use flexsim_sim::model::cluster::{Cluster, NodeId, Placement};
use flexsim_sim::model::gang::GangPlacement;
use flexsim_sim::model::job::{Pod, PodId};
use flexsim_sim::model::slicing::SlicingMode;
use flexsim_sim::policy::{
    Discipline, JobsView, Policy, QueuedJob, RemotePlacement, Setup, SimRng,
};
use indicatif::{ProgressBar, ProgressStyle};
use std::time::Instant;

/// How many passes go by between two looks at the clock (a pass costs ~1 µs at best).
const PASSES_PER_TICK: u64 = 4096;

pub struct Progress<'a> {
    inner: &'a mut dyn Policy,
    bar: ProgressBar,
    last_arrival_ms: u64,
    passes: u64,
    started: Instant,
}

impl<'a> Progress<'a> {
    /// A bar over the arrival span `[0, last_arrival_ms]`, in permille.
    pub fn new(inner: &'a mut dyn Policy, last_arrival_ms: u64) -> Self {
        let bar = ProgressBar::new(1000);
        bar.set_style(
            ProgressStyle::with_template(
                "{bar:40} {percent:>3}% of the arrival span, {msg}, {elapsed} elapsed, eta {eta}",
            )
            .expect("a valid template"),
        );
        Progress {
            inner,
            bar,
            last_arrival_ms: last_arrival_ms.max(1),
            passes: 0,
            started: Instant::now(),
        }
    }

    /// Removes the bar (call when the run is over).
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Policy for Progress<'_> {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn prepare(&mut self, setup: &Setup<'_>) {
        self.inner.prepare(setup)
    }
    fn preferred_slicing(&self) -> Option<SlicingMode> {
        self.inner.preferred_slicing()
    }
    fn place(
        &mut self,
        cluster: &Cluster,
        job: PodId,
        pod: &Pod,
        rng: &mut SimRng,
    ) -> Option<Placement> {
        self.inner.place(cluster, job, pod, rng)
    }
    fn place_gang(
        &mut self,
        cluster: &Cluster,
        job: PodId,
        pod: &Pod,
        rng: &mut SimRng,
    ) -> Option<GangPlacement> {
        self.inner.place_gang(cluster, job, pod, rng)
    }
    fn place_remote(
        &mut self,
        cluster: &Cluster,
        job: PodId,
        pod: &Pod,
        rng: &mut SimRng,
    ) -> Option<RemotePlacement> {
        self.inner.place_remote(cluster, job, pod, rng)
    }
    fn order_queue(&mut self, jobs: &JobsView<'_>, queue: &mut [QueuedJob]) {
        self.inner.order_queue(jobs, queue)
    }
    fn discipline(&self) -> Discipline {
        self.inner.discipline()
    }
    fn preempt(
        &mut self,
        cluster: &Cluster,
        job: PodId,
        pod: &Pod,
        jobs: &JobsView<'_>,
    ) -> Vec<PodId> {
        self.inner.preempt(cluster, job, pod, jobs)
    }
    fn next_wake(&mut self, jobs: &JobsView<'_>, waiting: &[QueuedJob]) -> Option<u64> {
        self.passes += 1;
        if self.passes.is_multiple_of(PASSES_PER_TICK) {
            let permille = (jobs.now_ms.min(self.last_arrival_ms) as u128 * 1000
                / self.last_arrival_ms as u128) as u64;
            self.bar.set_position(permille);
            let secs = self.started.elapsed().as_secs_f64().max(1e-9);
            self.bar.set_message(format!(
                "{:.0} k passes/s, {} waiting",
                self.passes as f64 / secs / 1000.0,
                waiting.len()
            ));
        }
        self.inner.next_wake(jobs, waiting)
    }
    fn explain_scores(
        &mut self,
        cluster: &Cluster,
        job: PodId,
        pod: &Pod,
    ) -> Option<Vec<(NodeId, i64)>> {
        self.inner.explain_scores(cluster, job, pod)
    }
    fn tie_break(&self) -> &str {
        self.inner.tie_break()
    }
}
