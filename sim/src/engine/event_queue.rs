//! The engine's clock: events ordered by (time, sequence number).
//!
//! Time is an integer (milliseconds); events at the same time come out in the order they were
//! pushed, so a run is bit-for-bit deterministic for a seed (DESIGN "Model").
//!
//! Events known before the run starts (a replay's arrivals) can be [`EventQueue::preload`]ed:
//! they are served from a sorted list through a cursor instead of sitting in the heap, which
//! keeps the heap as small as the events in flight (finishes, wake-ups) — O(log running) per
//! operation instead of O(log jobs), and no heap entry per job — in the same order as if they
//! had been pushed first.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Simulated time in milliseconds.
pub type TimeMs = u64;

/// A min-queue of events keyed by (time, push order).
#[derive(Debug)]
pub struct EventQueue<E> {
    heap: BinaryHeap<Reverse<(TimeMs, u64, Slot<E>)>>,
    /// Preloaded events, sorted by (time, push order) *descending*, so the next one is the
    /// last; their push order precedes every heap event's, so at equal times they come first.
    preloaded: Vec<(TimeMs, E)>,
    next_seq: u64,
}

/// Wrapper that keeps the payload out of the ordering (the key is unique already).
#[derive(Debug)]
struct Slot<E>(E);

impl<E> PartialEq for Slot<E> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl<E> Eq for Slot<E> {}
impl<E> PartialOrd for Slot<E> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Slot<E> {
    fn cmp(&self, _: &Self) -> std::cmp::Ordering {
        std::cmp::Ordering::Equal
    }
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            preloaded: Vec::new(),
            next_seq: 0,
        }
    }
}

impl<E> EventQueue<E> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_capacity(n: usize) -> Self {
        EventQueue {
            heap: BinaryHeap::with_capacity(n),
            preloaded: Vec::new(),
            next_seq: 0,
        }
    }

    /// Puts `events` (in push order) in an empty queue, as if each had been [`pushed`] in
    /// that order; they come out in the same order as pushed ones would.
    ///
    /// [`pushed`]: EventQueue::push
    pub fn preload(&mut self, mut events: Vec<(TimeMs, E)>) {
        assert!(
            self.heap.is_empty() && self.preloaded.is_empty() && self.next_seq == 0,
            "preload an empty queue"
        );
        // Stable: equal times keep their push order.
        events.sort_by_key(|&(t, _)| t);
        events.reverse();
        self.next_seq = events.len() as u64;
        self.preloaded = events;
    }

    pub fn push(&mut self, time: TimeMs, event: E) {
        self.heap.push(Reverse((time, self.next_seq, Slot(event))));
        self.next_seq += 1;
    }

    /// The earliest event, ties in push order.
    pub fn pop(&mut self) -> Option<(TimeMs, E)> {
        let heap = self.heap.peek().map(|Reverse((t, _, _))| *t);
        match (self.preloaded.last().map(|&(t, _)| t), heap) {
            // A preloaded event precedes a heap event of the same time (pushed earlier).
            (Some(p), h) if h.is_none_or(|h| p <= h) => {
                let next = self.preloaded.pop();
                // Give back what the consumed arrivals held (a million-job trace's are 24 MB),
                // a halving at a time: amortised O(1) per pop.
                let (len, cap) = (self.preloaded.len(), self.preloaded.capacity());
                if cap >= 1 << 12 && len < cap / 4 {
                    self.preloaded.shrink_to(2 * len);
                }
                next
            }
            _ => self.heap.pop().map(|Reverse((t, _, Slot(e)))| (t, e)),
        }
    }

    pub fn peek_time(&self) -> Option<TimeMs> {
        let heap = self.heap.peek().map(|Reverse((t, _, _))| *t);
        let preloaded = self.preloaded.last().map(|&(t, _)| t);
        match (preloaded, heap) {
            (Some(p), Some(h)) => Some(p.min(h)),
            (p, h) => p.or(h),
        }
    }

    pub fn len(&self) -> usize {
        self.heap.len() + self.preloaded.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_by_time_then_push_order() {
        let mut q = EventQueue::new();
        q.push(5, "c");
        q.push(1, "a");
        q.push(5, "d");
        q.push(1, "b");
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(order, vec![(1, "a"), (1, "b"), (5, "c"), (5, "d")]);
    }

    #[test]
    fn preloaded_events_come_out_as_if_pushed_first() {
        let events = [(5, "p5a"), (1, "p1a"), (5, "p5b"), (3, "p3"), (1, "p1b")];
        let mut pushed = EventQueue::new();
        for &(t, e) in &events {
            pushed.push(t, e);
        }
        let mut pre = EventQueue::new();
        pre.preload(events.to_vec());
        assert_eq!(pre.len(), 5);
        // Later pushes, some at the preloaded times, interleaved with pops.
        let mut a = Vec::new();
        let mut b = Vec::new();
        for (q, out) in [(&mut pushed, &mut a), (&mut pre, &mut b)] {
            out.push((q.peek_time(), q.pop()));
            q.push(1, "h1");
            q.push(5, "h5");
            q.push(2, "h2");
            while !q.is_empty() {
                out.push((q.peek_time(), q.pop()));
            }
            out.push((q.peek_time(), q.pop()));
        }
        assert_eq!(a, b);
        assert_eq!(b[1], (Some(1), Some((1, "p1b"))));
        assert_eq!(b[2], (Some(1), Some((1, "h1"))));
    }
}
