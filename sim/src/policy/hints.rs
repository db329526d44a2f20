//! What a policy may promise the replay engine so that a long queue costs little
//! ([`Policy::replay_hints`], DESIGN "Speed").
//!
//! A scheduling pass offers the waiting jobs to the policy in its order. Without promises the
//! engine must hand the policy the whole queue to order every pass, and offer every parked job
//! again after any release: with 10^4 jobs waiting that walk, not the placements, is the cost
//! of an event. Each promise below lets the engine skip work whose outcome the promise already
//! fixes, so the results are those of the full walk, byte for byte; only the cost changes. A
//! promise that does not hold gives wrong results, which is why every promise is off by
//! default and why the shipped policies' promises are checked against the full walk
//! (`policies` test `hints_change_only_the_cost`).
//!
//! [`Policy::replay_hints`]: crate::policy::Policy::replay_hints

/// A waiting job's place in a queue ordered by key ([`ReplayHints::keyed_queue`]): compared
/// field by field, smaller first; jobs with equal keys keep the order in which they were
/// queued (a preempted job re-queues behind the jobs that waited), which is exactly what a
/// stable sort of the queue by this key every pass gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct QueueKey(pub u64, pub u64, pub u64);

impl QueueKey {
    /// Every job alike: the order in which they were queued (FIFO).
    pub const FIFO: QueueKey = QueueKey(0, 0, 0);

    /// A key field that puts higher priorities first.
    pub fn higher_first(priority: i32) -> u64 {
        (i64::from(i32::MAX) - i64::from(priority)) as u64
    }
}

/// When a job the policy found no place for can find one again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Refusals {
    /// After any release of resources anywhere (the default; always correct): the engine
    /// offers every parked job again after every finish or preemption.
    #[default]
    Anywhere,
    /// The policy refuses a job only on the nodes' own state — no node it would take holds
    /// the job ([`Node::fits`] and the policy's own per-node filter) — and a refusal changes
    /// nothing (no draw from the generator, no state): a refused job can be placed again only
    /// after a release on a node that now holds it whole. Filling a node never makes it
    /// acceptable. True of every filter-then-score placer ([`Greedy`]).
    ///
    /// [`Node::fits`]: crate::model::cluster::Node::fits
    /// [`Greedy`]: crate::policy::Greedy
    OnANodeThatFits,
    /// As [`Refusals::OnANodeThatFits`], for a policy that also places remotely
    /// ([`Policy::place_remote`]): a release on a node that holds the job whole, its host part
    /// or its device part.
    ///
    /// [`Policy::place_remote`]: crate::policy::Policy::place_remote
    OnANodeThatFitsAPart,
}

/// The promises a policy makes ([`Policy::replay_hints`](crate::policy::Policy::replay_hints)). [`ReplayHints::NONE`] (the default)
/// promises nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReplayHints {
    /// The queue's order is [`Policy::queue_key`]'s, and a job's key does not change while it
    /// waits: the engine keeps the queue in that order and never calls
    /// [`Policy::order_queue`]. A pass then costs the jobs it starts and one offer per shape,
    /// not the queue's length. Ignored under [`Discipline::EasyBackfill`], whose backfill
    /// test is per job (its work), not per shape. [`Policy::next_wake`] then sees the waiting
    /// jobs in no particular order.
    ///
    /// [`Policy::queue_key`]: crate::policy::Policy::queue_key
    /// [`Policy::order_queue`]: crate::policy::Policy::order_queue
    /// [`Policy::next_wake`]: crate::policy::Policy::next_wake
    /// [`Discipline::EasyBackfill`]: crate::policy::Discipline::EasyBackfill
    pub keyed_queue: bool,
    /// [`Policy::preempt`] never names a victim (the default `preempt`): a job whose shape is
    /// parked is not offered at all.
    ///
    /// [`Policy::preempt`]: crate::policy::Policy::preempt
    pub never_preempts: bool,
    /// When a refused job can be placed again. Used with `keyed_queue`.
    pub refusals: Refusals,
}

impl ReplayHints {
    /// No promise: the engine asks the policy everything.
    pub const NONE: ReplayHints = ReplayHints {
        keyed_queue: false,
        never_preempts: false,
        refusals: Refusals::Anywhere,
    };

    /// A FIFO (or keyed) filter-then-score placer that never preempts nor places remotely:
    /// every promise ([`Greedy`](crate::policy::Greedy)'s).
    pub const PLACER: ReplayHints = ReplayHints {
        keyed_queue: true,
        never_preempts: true,
        refusals: Refusals::OnANodeThatFits,
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn higher_priorities_sort_first_and_the_default_promises_nothing() {
        let mut keys = [
            QueueKey(QueueKey::higher_first(-3), 0, 0),
            QueueKey(QueueKey::higher_first(i32::MAX), 0, 0),
            QueueKey(QueueKey::higher_first(0), 0, 0),
            QueueKey(QueueKey::higher_first(i32::MIN), 0, 0),
        ];
        keys.sort();
        let order: Vec<u64> = keys.iter().map(|k| k.0).collect();
        assert_eq!(
            order,
            [0, i32::MAX as u64, i32::MAX as u64 + 3, u32::MAX as u64]
        );
        assert_eq!(ReplayHints::default(), ReplayHints::NONE);
        assert_eq!(QueueKey::default(), QueueKey::FIFO);
    }
}
