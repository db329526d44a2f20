//! The policy API: what a scheduling policy implements, and the building blocks that make the
//! common shapes a few lines.
//!
//! A policy sees the cluster read-only and answers "where does this pod go?". The engine checks
//! every answer against the cluster ([`Cluster::place`]), so a buggy policy gets a typed error,
//! never a corrupted cluster. Feasibility is the engine's ([`Node::fits`]); policies only choose.
//!
//! Most policies are "filter the feasible nodes, score each, take the best, pick GPUs on it":
//! implement [`NodeScorer`] and wrap it in [`Greedy`]. Ties go to the node that comes first in
//! [`Cluster::by_priority`] (fgd-protocol §2.6).
//!
//! [`Node::fits`]: crate::model::cluster::Node::fits

mod discipline;
pub mod explain;
pub mod gang;
pub mod gpu_select;
mod greedy;
mod hints;
mod index;
pub mod observe;
pub mod params;
mod refused;
pub mod topology;

use crate::model::cluster::{Cluster, NodeId, Placement};
use crate::model::fragmentation::TypicalPods;
use crate::model::gang::GangPlacement;
use crate::model::job::{Pod, PodId};

pub use discipline::Discipline;
pub use greedy::{normalize_scores, Greedy, NodeScorer};
pub use hints::{QueueKey, Refusals, ReplayHints};
pub use index::{NodeIndex, TieBreak, REFUSED};
pub use refused::RefusedSearches;

pub use crate::model::rng::SimRng;

/// What a policy may look at once, before the first pod arrives.
pub struct Setup<'a> {
    pub cluster: &'a Cluster,
    /// The trace's pods as read, before shuffling and tuning.
    pub original_pods: &'a [Pod],
    /// The typical-pod distribution of the original pods (fgd-protocol §2.7.6).
    pub typical: &'a TypicalPods,
}

/// A scheduling policy.
pub trait Policy: Send {
    /// The CLI name (`best-fit`).
    fn name(&self) -> &str;

    /// Called once per run before any pod arrives.
    fn prepare(&mut self, _setup: &Setup<'_>) {}

    /// The slicing mode this policy is defined for (e.g. whole cards for Kubernetes' default,
    /// HAMi's vGPU for `hami`). The run puts every device model that supports it in this mode
    /// unless the user chose one; `None` keeps the fleet's modes.
    fn preferred_slicing(&self) -> Option<crate::model::slicing::SlicingMode> {
        None
    }

    /// Whether the policy's rule is about the fleet's topology ([`topology`]), so that on a
    /// fleet without one it is just its fallback: the run then says so (summary
    /// `topology_note`, and on stderr) instead of reporting a topology policy's figures that no
    /// topology shaped. Default `false`: the policy means the same on any fleet.
    fn uses_topology(&self) -> bool {
        false
    }

    /// Where job `job` (its request: `pod`) should go now, or `None` if the policy finds no
    /// place. The engine validates the answer. `rng` is the run's generator: draw from it,
    /// never from a global one. `job` indexes the run's jobs ([`JobsView::pods`] in replay;
    /// the arrival list in inflation), so a policy can keep per-job state without searching.
    ///
    /// Under [`Discipline::EasyBackfill`] the engine may decline a placement for a job queued
    /// behind the reserved head (it would delay the head); the job then just keeps waiting.
    ///
    /// In replay, a `None` (with no remote placement either) parks the job's shape until
    /// resources are released — a job finishes or is preempted — as Kubernetes parks
    /// unschedulable pods until a cluster event: the engine assumes a policy that found no
    /// place finds none while the cluster only fills up.
    fn place(
        &mut self,
        cluster: &Cluster,
        job: PodId,
        pod: &Pod,
        rng: &mut SimRng,
    ) -> Option<Placement>;

    /// Replay only: where gang job `job` (`pod`: a stated multi-node shape, or more devices
    /// than any node has — [`crate::model::gang`]) should go now: every part, or `None`. The
    /// engine asks this instead of [`Policy::place`] for gang jobs and checks the answer
    /// ([`Cluster::check_gang`]); a gang is placed whole or not at all. The default is the
    /// engine's greedy gang placer ([`gang::greedy`]: fewest nodes, then node priority);
    /// [`Greedy`] ranks nodes with its scorer. Gang jobs neither run remotely nor ask for
    /// preemptions: they wait until a gang fits.
    fn place_gang(
        &mut self,
        cluster: &Cluster,
        _job: PodId,
        pod: &Pod,
        rng: &mut SimRng,
    ) -> Option<GangPlacement> {
        gang::greedy(cluster, pod, &mut gang::Unscored, rng)
    }

    /// Replay only: `pod` found no place with [`Policy::place`]; may its host part (CPU,
    /// memory) and its device part (the GPU slices) go on two different nodes? The job then
    /// runs remotely and pays the remote penalty ρ (slicing-model §1.5, §7.2). The default
    /// never places remotely.
    fn place_remote(
        &mut self,
        _cluster: &Cluster,
        _job: PodId,
        _pod: &Pod,
        _rng: &mut SimRng,
    ) -> Option<RemotePlacement> {
        None
    }

    /// Replay only: the order in which waiting jobs are offered to [`Policy::place`]. `queue`
    /// arrives in enqueue order (FIFO); the default keeps it.
    fn order_queue(&mut self, _jobs: &JobsView<'_>, _queue: &mut [QueuedJob]) {}

    /// Replay only: a scheduling pass begins at `jobs.now_ms` (before the queue is ordered and
    /// any job is offered). The default does nothing; an observer learns the clock here.
    fn begin_pass(&mut self, _jobs: &JobsView<'_>) {}

    /// Replay only: the jobs that started and stopped (finished or were preempted) since the
    /// policy was last told, in the order it happened — told before the engine next hands the
    /// policy a [`JobsView`] (a pass, a preemption request, a wake-up request). A policy that
    /// keeps per-running-job state (a timer per job, a heap of due times) learns here what it
    /// would otherwise find out by scanning [`JobsView::running`] at every call. The default
    /// ignores it.
    fn jobs_changed(&mut self, _jobs: &JobsView<'_>, _changes: &[JobChange]) {}

    /// Replay only: what this policy promises the engine so that a long queue costs little
    /// ([`ReplayHints`]: a queue ordered by [`Policy::queue_key`], no preemption, refusals
    /// that only a release on a fitting node can lift). The default promises nothing, which is
    /// always correct; a promise that does not hold gives wrong results.
    fn replay_hints(&self) -> ReplayHints {
        ReplayHints::NONE
    }

    /// Replay only, with [`ReplayHints::keyed_queue`]: waiting job `job`'s place in the queue
    /// ([`QueueKey`], smaller first, equal keys in the order queued). It must not change while
    /// the job waits. The default puts every job alike: FIFO.
    fn queue_key(&mut self, _jobs: &JobsView<'_>, _job: &QueuedJob) -> QueueKey {
        QueueKey::FIFO
    }

    /// Replay only: what a scheduling pass does with the jobs behind one that cannot start
    /// ([`Discipline`]): skip it (the default, FIFO with skipping), block behind it (strict), or
    /// give it a reservation that later jobs may backfill around (EASY).
    fn discipline(&self) -> Discipline {
        Discipline::Skip
    }

    /// Replay only: job `job` (`pod`) found no place; the running jobs to preempt so that it
    /// can be placed (the engine requeues them, paying its restart cost, then offers `job`
    /// again). The default never preempts.
    fn preempt(
        &mut self,
        _cluster: &Cluster,
        _job: PodId,
        _pod: &Pod,
        _jobs: &JobsView<'_>,
    ) -> Vec<PodId> {
        Vec::new()
    }

    /// Replay only: the next time this policy wants to be called although no job arrives or
    /// finishes then — `wake me at t` (DESIGN "Policy API"). Asked after every scheduling
    /// pass; the engine then runs a pass at that instant, with every running job's attained
    /// service brought up to it, so a time-based rule (a demotion at a service threshold, a
    /// starvation guard, a lease) takes effect exactly on time. `None` (the default): no
    /// wake-up. A time not after `jobs.now_ms` is ignored.
    fn next_wake(&mut self, _jobs: &JobsView<'_>, _waiting: &[QueuedJob]) -> Option<u64> {
        None
    }

    /// `--explain` only ([`explain::Explainer`]): the score this policy gives each node it
    /// would consider for job `job` now, higher better, or `None` when it does not rank nodes
    /// by a per-node score. Asked right after [`Policy::place`] on the same cluster; it must not
    /// change what later calls decide. [`Greedy`] answers with its scorer's scores.
    fn explain_scores(
        &mut self,
        _cluster: &Cluster,
        _job: PodId,
        _pod: &Pod,
    ) -> Option<Vec<(NodeId, i64)>> {
        None
    }

    /// `--explain` only: how this policy breaks ties between equally good nodes, in words.
    fn tie_break(&self) -> &str {
        "the policy's own rule (see its file in policies/src/)"
    }
}

/// A job split over two nodes: CPU and memory on `host`, GPU slices on `device.node`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemotePlacement {
    pub host: NodeId,
    pub device: Placement,
}

/// A job waiting in the replay queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueuedJob {
    pub pod: PodId,
    /// When it (re-)entered the queue, ms.
    pub since_ms: u64,
    /// Service received so far, GPU-milliseconds (GPUs × ms run), for least-attained-service
    /// orders.
    pub attained_gpu_ms: u64,
}

/// A job running in the replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunningJob {
    pub pod: PodId,
    /// Its node; for a gang, the node of its first part (it holds cards on others too:
    /// preempting it releases every part).
    pub node: NodeId,
    /// When it last started, ms.
    pub started_ms: u64,
    pub attained_gpu_ms: u64,
}

/// A job that started or stopped running ([`Policy::jobs_changed`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobChange {
    /// It started (or resumed after a preemption): as [`JobsView::running`] lists it.
    Started(RunningJob),
    /// It stopped at `at_ms`: finished, or preempted (it is then waiting again).
    Stopped { pod: PodId, at_ms: u64 },
}

/// What a replay policy may look at besides the cluster: the clock and every job.
pub struct JobsView<'a> {
    pub now_ms: u64,
    /// Every job of the run, indexed by [`PodId`].
    pub pods: &'a [Pod],
    /// The running jobs, in no particular order (sort by `started_ms` if order matters).
    pub running: &'a [RunningJob],
    /// Per job, indexed by [`PodId`], its fit class: jobs of one class ask for the same thing
    /// in every dimension feasibility reads ([`Pod::fit_key`]) and have the same priority, so
    /// they fit exactly the same places — the engine's grouping of its queue. Empty in a view
    /// built by hand ([`JobsView::fit_class`] is then `None`).
    pub fit_class: &'a [u32],
}

impl JobsView<'_> {
    /// Job `job`'s fit class ([`JobsView::fit_class`](field@JobsView::fit_class)), if the
    /// view has them.
    pub fn fit_class(&self, job: PodId) -> Option<u32> {
        self.fit_class.get(job).copied()
    }

    /// Service a running job has received up to now, GPU-milliseconds (GPUs × ms run, a
    /// CPU-only job counting as one): what it had when it last started plus what it ran since.
    pub fn attained_gpu_ms(&self, r: &RunningJob) -> u64 {
        let gpus = u64::from(self.pods[r.pod].num_gpu.max(1));
        r.attained_gpu_ms + self.now_ms.saturating_sub(r.started_ms) * gpus
    }
}
