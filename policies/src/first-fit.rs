//! `first-fit` — YARN's placement: the first node in fleet index order with room, and on it the
//! lowest-index cards with room; the queue is FIFO with skipping (every waiting job that fits
//! starts, in arrival order).
//!
//! This is the node choice of the Tiresias simulator's `yarn` scheme for a job that fits on
//! one node (`cluster.py:ms_yarn_placement` → `switch.py:try_single_node_alloc`: the first node,
//! by index, with enough free GPUs — first fit, not best fit), and of Hadoop YARN's default
//! node walk. Fleet index order, not the run's seeded node priority: YARN walks its nodes in a
//! fixed order. A job more than one node holds is placed as that scheme's gangs are
//! (`switch.py:try_cross_node_alloc`, [`gang::yarn`]): wholly idle nodes in fleet order, the
//! rest on the first other node with room. Cost per decision: O(nodes × cards).

use flexsim_sim::model::cluster::{Cluster, Placement};
use flexsim_sim::model::gang::GangPlacement;
use flexsim_sim::model::job::{Pod, PodId};
use flexsim_sim::policy::{gang, gpu_select, Policy, SimRng};

/// First fit in fleet order, FIFO with skipping.
#[derive(Debug, Default, Clone, Copy)]
pub struct FirstFit;

/// The first node in fleet index order where `pod` fits, with its lowest-index fitting cards.
pub fn first_fit(cluster: &Cluster, pod: &Pod) -> Option<Placement> {
    let node = (0..cluster.nodes().len()).find(|&n| cluster.node(n).fits(pod))?;
    let gpus = gpu_select::lowest_index(cluster.node(node), pod)?;
    Some(Placement { node, gpus })
}

impl Policy for FirstFit {
    fn name(&self) -> &str {
        "first-fit"
    }

    /// FIFO, no preemption, a job refused only when no node holds it (`ReplayHints`).
    fn replay_hints(&self) -> flexsim_sim::policy::ReplayHints {
        flexsim_sim::policy::ReplayHints::PLACER
    }

    fn place(
        &mut self,
        cluster: &Cluster,
        _job: PodId,
        pod: &Pod,
        _rng: &mut SimRng,
    ) -> Option<Placement> {
        first_fit(cluster, pod)
    }

    /// YARN's gang placement ([`gang::yarn`]).
    fn place_gang(
        &mut self,
        cluster: &Cluster,
        _job: PodId,
        pod: &Pod,
        _rng: &mut SimRng,
    ) -> Option<GangPlacement> {
        gang::yarn(cluster, pod)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{cluster_of, placed, rng};

    #[test]
    fn first_node_in_fleet_order_with_room_and_its_lowest_free_cards() {
        let mut c = cluster_of(
            &[
                ("a", 64_000, 1 << 20, 2),
                ("b", 64_000, 1 << 20, 4),
                ("c", 64_000, 1 << 20, 4),
            ],
            "V100M32",
        );
        // The seeded priority order must not matter: reverse it.
        c.set_priority(&[2, 1, 0]);
        placed(&mut c, 0, Pod::new("x", 1000, 1024, 1, 1000), 1, &[0]);
        let two = Pod::new("two", 1000, 1024, 2, 1000);
        let p = FirstFit.place(&c, 1, &two, &mut rng()).unwrap();
        assert_eq!((p.node, p.gpus), (0, vec![0, 1]), "a has room: first");
        let three = Pod::new("three", 1000, 1024, 3, 1000);
        let p = FirstFit.place(&c, 2, &three, &mut rng()).unwrap();
        assert_eq!(
            (p.node, p.gpus),
            (1, vec![1, 2, 3]),
            "b before the emptier c"
        );
        let five = Pod::new("five", 1000, 1024, 5, 1000);
        assert_eq!(FirstFit.place(&c, 3, &five, &mut rng()), None);
    }
}
