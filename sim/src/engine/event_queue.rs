//! The engine's clock: events ordered by (time, sequence number).
//!
//! Time is an integer (milliseconds); events at the same time come out in the order they were
//! pushed, so a run is bit-for-bit deterministic for a seed (DESIGN "Model").

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Simulated time in milliseconds.
pub type TimeMs = u64;

/// A min-queue of events keyed by (time, push order).
#[derive(Debug)]
pub struct EventQueue<E> {
    heap: BinaryHeap<Reverse<(TimeMs, u64, Slot<E>)>>,
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
            next_seq: 0,
        }
    }

    pub fn push(&mut self, time: TimeMs, event: E) {
        self.heap.push(Reverse((time, self.next_seq, Slot(event))));
        self.next_seq += 1;
    }

    /// The earliest event, ties in push order.
    pub fn pop(&mut self) -> Option<(TimeMs, E)> {
        self.heap.pop().map(|Reverse((t, _, Slot(e)))| (t, e))
    }

    pub fn peek_time(&self) -> Option<TimeMs> {
        self.heap.peek().map(|Reverse((t, _, _))| *t)
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
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
}
