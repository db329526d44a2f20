//! Watching a policy without changing it: [`Observed`] wraps any [`Policy`], passes every call
//! through unchanged, and tells an [`Observer`] what the policy answered and what the clock
//! said. `--explain` ([`crate::policy::explain`]) and the CLI's progress bar are observers; an
//! author's own tracing or counters can be too. A run that observes nothing does not build the
//! wrapper, so it costs nothing then.

use crate::model::cluster::{Cluster, NodeId, Placement};
use crate::model::gang::GangPlacement;
use crate::model::job::{Pod, PodId};
use crate::model::slicing::SlicingMode;
use crate::policy::{
    Discipline, JobChange, JobsView, Policy, QueueKey, QueuedJob, RemotePlacement, ReplayHints,
    Setup, SimRng,
};

/// What a policy answered for one job.
#[derive(Debug, Clone, Copy)]
pub enum Answer<'a> {
    /// [`Policy::place`]: a node, or no place.
    Local(Option<&'a Placement>),
    /// [`Policy::place_gang`]: every part, or no place.
    Gang(Option<&'a GangPlacement>),
    /// [`Policy::place_remote`] (asked only after `place` found none): a split, or none.
    Remote(Option<&'a RemotePlacement>),
}

/// Told about a policy's decisions. Every method has a default that ignores the call.
pub trait Observer {
    /// The policy answered `answer` for job `job` on `cluster` (as it saw it, before the engine
    /// applies the answer). `policy` may be asked further read-only questions, such as
    /// [`Policy::explain_scores`].
    fn answered(
        &mut self,
        _policy: &mut dyn Policy,
        _cluster: &Cluster,
        _job: PodId,
        _pod: &Pod,
        _answer: Answer<'_>,
    ) {
    }

    /// The replay's clock when the engine hands the policy the jobs view: beginning a pass,
    /// ordering the queue, asking for preemptions, or (`waiting` given) asking for a wake-up
    /// after a pass.
    fn clock(&mut self, _jobs: &JobsView<'_>, _waiting: Option<&[QueuedJob]>) {}
}

/// `inner`, observed by `observer` ([module doc](self)).
pub struct Observed<'a, O> {
    pub inner: &'a mut dyn Policy,
    pub observer: O,
}

impl<'a, O: Observer> Observed<'a, O> {
    pub fn new(inner: &'a mut dyn Policy, observer: O) -> Self {
        Observed { inner, observer }
    }
}

impl<O: Observer + Send> Policy for Observed<'_, O> {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn prepare(&mut self, setup: &Setup<'_>) {
        self.inner.prepare(setup)
    }
    fn preferred_slicing(&self) -> Option<SlicingMode> {
        self.inner.preferred_slicing()
    }

    fn uses_topology(&self) -> bool {
        self.inner.uses_topology()
    }
    fn place(
        &mut self,
        cluster: &Cluster,
        job: PodId,
        pod: &Pod,
        rng: &mut SimRng,
    ) -> Option<Placement> {
        let p = self.inner.place(cluster, job, pod, rng);
        let answer = Answer::Local(p.as_ref());
        self.observer
            .answered(self.inner, cluster, job, pod, answer);
        p
    }
    fn place_gang(
        &mut self,
        cluster: &Cluster,
        job: PodId,
        pod: &Pod,
        rng: &mut SimRng,
    ) -> Option<GangPlacement> {
        let g = self.inner.place_gang(cluster, job, pod, rng);
        let answer = Answer::Gang(g.as_ref());
        self.observer
            .answered(self.inner, cluster, job, pod, answer);
        g
    }
    fn place_remote(
        &mut self,
        cluster: &Cluster,
        job: PodId,
        pod: &Pod,
        rng: &mut SimRng,
    ) -> Option<RemotePlacement> {
        let r = self.inner.place_remote(cluster, job, pod, rng);
        let answer = Answer::Remote(r.as_ref());
        self.observer
            .answered(self.inner, cluster, job, pod, answer);
        r
    }
    fn begin_pass(&mut self, jobs: &JobsView<'_>) {
        self.observer.clock(jobs, None);
        self.inner.begin_pass(jobs)
    }
    fn jobs_changed(&mut self, jobs: &JobsView<'_>, changes: &[JobChange]) {
        self.inner.jobs_changed(jobs, changes)
    }
    fn order_queue(&mut self, jobs: &JobsView<'_>, queue: &mut [QueuedJob]) {
        self.observer.clock(jobs, None);
        self.inner.order_queue(jobs, queue)
    }
    fn discipline(&self) -> Discipline {
        self.inner.discipline()
    }
    /// The inner policy's promises: an observer sees the calls the engine makes, and with
    /// promises the engine makes fewer (a parked job is not asked again in vain).
    fn replay_hints(&self) -> ReplayHints {
        self.inner.replay_hints()
    }
    fn queue_key(&mut self, jobs: &JobsView<'_>, job: &QueuedJob) -> QueueKey {
        self.inner.queue_key(jobs, job)
    }
    fn preempt(
        &mut self,
        cluster: &Cluster,
        job: PodId,
        pod: &Pod,
        jobs: &JobsView<'_>,
    ) -> Vec<PodId> {
        self.observer.clock(jobs, None);
        self.inner.preempt(cluster, job, pod, jobs)
    }
    fn next_wake(&mut self, jobs: &JobsView<'_>, waiting: &[QueuedJob]) -> Option<u64> {
        self.observer.clock(jobs, Some(waiting));
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
