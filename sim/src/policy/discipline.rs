//! Queue disciplines (DESIGN "Policy API": "a queue order or discipline (strict FIFO, FIFO with
//! skipping, backfill)"): what a replay scheduling pass does with the jobs behind a waiting job
//! that cannot start. The policy chooses one ([`Policy::discipline`]); the engine applies it
//! (`engine/replay/queue.rs`, the reservation in `engine/replay/backfill.rs`), so no policy
//! re-implements a discipline and every policy can be run under each.
//!
//! [`Policy::discipline`]: crate::policy::Policy::discipline

/// How a scheduling pass treats the jobs queued behind one that cannot start now.
///
/// "Cannot start" means: the policy found no place for it ([`Policy::place`], then
/// [`Policy::place_remote`]), and the preemptions it asked for ([`Policy::preempt`]) did not make
/// room. A job whose shape fits no node even of the empty cluster never blocks anyone under any
/// discipline: it can never start, so it is never queued (the run reports it unplaceable, with
/// its reason).
///
/// [`Policy::place`]: crate::policy::Policy::place
/// [`Policy::place_remote`]: crate::policy::Policy::place_remote
/// [`Policy::preempt`]: crate::policy::Policy::preempt
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Discipline {
    /// FIFO with skipping: every waiting job is offered in queue order and starts if it fits;
    /// a job that does not fit is skipped. Kubernetes' scheduling queue, and the Tiresias
    /// simulator's `fjf` ("fit job first") and `dlas-gpu` passes. The default.
    #[default]
    Skip,
    /// Strict order, head-of-line blocking: once a job cannot start, no job behind it starts in
    /// this pass. The head still asks for its preemptions, so a preemptive policy keeps its
    /// priorities. The Tiresias simulator's `fifo` (`one_queue_fifo_sim_jobs` breaks at the
    /// first job that does not fit), and FIFO as queueing theory defines it.
    Strict,
    /// EASY backfilling (Lifka, "The ANL/IBM SP scheduling system", JSSPP 1995; as analysed by
    /// Mu'alem & Feitelson, IEEE TPDS 12(6), 2001): the first job that cannot start (the head)
    /// gets a reservation — the earliest time it could start if running jobs end at their
    /// estimated ends (the *shadow time*), on the node where it could start then. A job behind
    /// it may start now only if it is estimated to end by the shadow time, or if it leaves the
    /// head's reservation intact: it goes on another node, or on the reserved node the head
    /// would still fit at the shadow time beside it. Only the head has a reservation, and jobs
    /// behind it never preempt.
    ///
    /// Estimates are the trace's work: a job's remaining solo work on the reference device
    /// (`work_ms`, plus restart costs, less the progress made), taken as wall time. That is
    /// exact for whole cards of speed 1 and optimistic when a job shares a card or runs on a
    /// slower one; it decides only who may backfill, never how long anything runs.
    EasyBackfill,
}

impl Discipline {
    /// The discipline's name as the docs and summaries write it.
    pub fn name(self) -> &'static str {
        match self {
            Discipline::Skip => "skip",
            Discipline::Strict => "strict",
            Discipline::EasyBackfill => "easy-backfill",
        }
    }
}
