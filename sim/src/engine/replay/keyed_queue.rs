//! The queue of a policy that promised a keyed order ([`ReplayHints::keyed_queue`]): the
//! waiting jobs of each fit class in `(key, queued order)`, so that a scheduling pass visits
//! one job per class it offers and the jobs it starts, never the whole queue.
//!
//! A full pass walks the queue in the policy's order and, once a job of a class found no place,
//! skips the rest of that class (`queue.rs`). With the order fixed by a key, that walk is a
//! merge of the classes' own ordered lists: the next job offered is the smallest head among the
//! classes still offered, and a class that failed simply leaves the merge. The entries are
//! `(key, sequence number, job)`: the sequence number counts enqueues, so equal keys keep the
//! order in which the jobs were queued, exactly as a stable sort of the whole queue every pass
//! keeps it (the jobs that waited stay ahead of those queued after them).
//!
//! [`ReplayHints::keyed_queue`]: crate::policy::ReplayHints::keyed_queue

use crate::model::job::PodId;
use crate::policy::QueueKey;
use std::collections::BTreeSet;
use std::ops::Bound;

/// One waiting job in the merge order.
pub(super) type Entry = (QueueKey, u64, PodId);

pub(super) struct KeyedQueue {
    /// Per fit class, its waiting jobs in merge order.
    by_class: Vec<BTreeSet<Entry>>,
    /// The classes that have waiting jobs, each once (`listed` marks them).
    active: Vec<u32>,
    listed: Vec<bool>,
    /// Jobs queued since the last pass began, with their sequence numbers: they get their key
    /// and join their class when the next pass begins (a job preempted during a pass is thus
    /// not offered again in that pass, as in the full walk).
    pending: Vec<(PodId, u64)>,
    next_seq: u64,
}

impl KeyedQueue {
    pub(super) fn new(classes: usize) -> Self {
        KeyedQueue {
            by_class: vec![BTreeSet::new(); classes],
            active: Vec::new(),
            listed: vec![false; classes],
            pending: Vec::new(),
            next_seq: 0,
        }
    }

    /// Job `id` entered the queue: it is ordered behind every job queued before it.
    pub(super) fn push(&mut self, id: PodId) {
        self.pending.push((id, self.next_seq));
        self.next_seq += 1;
    }

    /// The jobs queued since the last pass, emptied: the caller keys them and [`Self::insert`]s
    /// each.
    pub(super) fn take_pending(&mut self) -> Vec<(PodId, u64)> {
        std::mem::take(&mut self.pending)
    }

    /// Gives back the (emptied) buffer of [`Self::take_pending`], to save an allocation.
    pub(super) fn return_pending(&mut self, mut buffer: Vec<(PodId, u64)>) {
        if self.pending.is_empty() {
            buffer.clear();
            self.pending = buffer;
        }
    }

    pub(super) fn insert(&mut self, class: usize, entry: Entry) {
        self.by_class[class].insert(entry);
        if !self.listed[class] {
            self.listed[class] = true;
            self.active.push(class as u32);
        }
    }

    /// Drops the classes left without waiting jobs from the active list.
    pub(super) fn compact(&mut self) {
        let (by_class, listed) = (&self.by_class, &mut self.listed);
        self.active.retain(|&c| {
            let keep = !by_class[c as usize].is_empty();
            listed[c as usize] = keep;
            keep
        });
    }

    /// The classes with waiting jobs (and, until the next [`Self::compact`], some emptied).
    pub(super) fn active(&self) -> &[u32] {
        &self.active
    }

    /// Class `class`'s first job after `after` in merge order (its first job for `None`).
    pub(super) fn next(&self, class: usize, after: Option<&Entry>) -> Option<Entry> {
        let set = &self.by_class[class];
        match after {
            None => set.first().copied(),
            Some(e) => set
                .range((Bound::Excluded(*e), Bound::Unbounded))
                .next()
                .copied(),
        }
    }

    /// The job of `entry` started: it leaves the queue.
    pub(super) fn remove(&mut self, class: usize, entry: &Entry) {
        let removed = self.by_class[class].remove(entry);
        debug_assert!(removed, "a started job was queued");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_keys_keep_the_queued_order_and_next_skips_past_the_cursor() {
        let mut q = KeyedQueue::new(2);
        for id in [5, 3, 9] {
            q.push(id);
        }
        let pending = q.take_pending();
        assert_eq!(pending, vec![(5, 0), (3, 1), (9, 2)]);
        for &(id, seq) in &pending {
            let key = if id == 9 {
                QueueKey(0, 0, 0)
            } else {
                QueueKey(1, 0, 0)
            };
            q.insert(usize::from(id == 3), (key, seq, id));
        }
        // Class 0: 9 (key 0) before 5 (key 1); class 1: 3.
        assert_eq!(q.next(0, None).map(|e| e.2), Some(9));
        let nine = q.next(0, None).unwrap();
        assert_eq!(q.next(0, Some(&nine)).map(|e| e.2), Some(5));
        q.remove(0, &nine);
        assert_eq!(q.next(0, None).map(|e| e.2), Some(5));
        // A cursor past every entry of a class: nothing after it.
        let three = q.next(1, None).unwrap();
        assert_eq!(q.next(1, Some(&three)), None);
        q.remove(1, &three);
        assert_eq!(q.active(), &[0, 1]);
        q.compact();
        assert_eq!(q.active(), &[0]);
    }
}
