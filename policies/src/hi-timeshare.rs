//! `hi-timeshare` — `hi-priority` plus time-sharing (a Hi Scheduler model).
//!
//! Published (slicing-model §1.4, §1.6): Flex:ai's Ascend dispatcher shares a card by weighted
//! time slices (5 % minimum share, so up to 20 tenants), memory is admission-checked; the README
//! says high-priority tasks get compute first under time-sharing and low-load tasks may share a
//! card "beyond the physical partition count". Our definition:
//!
//! * cards in [`SlicingMode::FLEXAI_TIMESHARE`] (weighted slices, compute oversubscribable,
//!   memory never), the rate model serving higher classes first;
//! * a job may go on a card when the nominal shares of the tenants of its own and higher
//!   classes plus its own fit in one card (so it is guaranteed its share) and all nominal shares
//!   plus its own stay within [`OVERSUBSCRIBE_MILLI`] (2 cards' worth): the highest class never
//!   oversubscribes its peers, lower classes fill what the higher ones leave, up to 2×;
//! * otherwise as `hi-priority`: Volcano binpack at node and card level, class-ordered queue,
//!   fewest-victims preemption of lower classes.

use flexsim_sim::model::slicing::SlicingMode;

use crate::hi_binpack::HiCore;
use crate::hi_priority::HiPriority;

/// Σ nominal compute a time-shared card may carry, milli (our choice: 2×).
pub const OVERSUBSCRIBE_MILLI: u32 = 2000;

/// The `hi-timeshare` policy.
pub fn hi_timeshare() -> HiPriority {
    HiPriority::with(
        HiCore {
            mode: SlicingMode::FLEXAI_TIMESHARE,
            oversubscribe_milli: OVERSUBSCRIBE_MILLI,
        },
        "hi-timeshare",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{cluster_in, rng};
    use flexsim_sim::model::job::Pod;
    use flexsim_sim::policy::Policy;

    fn job(milli: u32, mib: u64, priority: i32) -> Pod {
        let mut p = Pod::new("j", 100, 100, 1, milli);
        p.gpu_memory_mib = Some(mib);
        p.priority = priority;
        p
    }

    #[test]
    fn low_classes_oversubscribe_compute_memory_never() {
        let mut p = hi_timeshare();
        assert_eq!(p.preferred_slicing(), Some(SlicingMode::FLEXAI_TIMESHARE));
        let mut c = cluster_in(
            &[("a", 640_000, 1 << 30, 2, "A10")],
            SlicingMode::FLEXAI_TIMESHARE,
        );
        let card_mib = c.node(0).device().unwrap().model.memory_mib;
        let mut id = 0;
        let mut placed = 0;
        // A mix of classes and sizes until nothing fits any more.
        for round in 0..200u32 {
            let pod = job(
                100 + (round * 137) % 700,
                1024 + u64::from(round % 5) * 1500,
                (round % 4) as i32,
            );
            if let Some(pl) = p.place(&c, 0, &pod, &mut rng()) {
                c.place(id, &pod, pl).unwrap();
                id += 1;
                placed += 1;
            }
            for card in c.node(0).cards() {
                assert!(
                    card.allocated_memory_mib() <= card_mib,
                    "memory oversubscribed"
                );
                assert!(card.allocated_compute_milli() <= OVERSUBSCRIBE_MILLI);
                let top: u32 = card
                    .tenants()
                    .iter()
                    .filter(|t| t.slice.priority_class == 0)
                    .map(|t| t.slice.compute_milli)
                    .sum();
                assert!(
                    top <= 1000,
                    "the highest class never oversubscribes its peers"
                );
            }
        }
        assert!(placed > 4);
        let oversubscribed = c
            .node(0)
            .cards()
            .iter()
            .any(|card| card.allocated_compute_milli() > 1000);
        assert!(
            oversubscribed,
            "low classes used time-sharing beyond one card"
        );
    }

    #[test]
    fn a_high_job_is_admitted_beside_low_ones_a_low_job_is_not() {
        let mut p = hi_timeshare();
        let mut c = cluster_in(
            &[("a", 64_000, 1 << 30, 1, "A10")],
            SlicingMode::FLEXAI_TIMESHARE,
        );
        // Low class (BE) holds 900 nominal on the card.
        c.place(
            0,
            &job(900, 1000, 0),
            flexsim_sim::model::cluster::Placement {
                node: 0,
                gpus: vec![0],
            },
        )
        .unwrap();
        // LS 800: its class has nothing on the card → admitted (Σ 1700 ≤ 2000).
        assert!(p.place(&c, 0, &job(800, 1000, 3), &mut rng()).is_some());
        // Another BE 800: its class already holds 900 → refused.
        assert!(p.place(&c, 0, &job(800, 1000, 0), &mut rng()).is_none());
        // BE 100 fits its class (900 + 100).
        assert!(p.place(&c, 0, &job(100, 1000, 0), &mut rng()).is_some());
    }
}
