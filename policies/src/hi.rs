//! `hi` — every Hi Scheduler behaviour we model, together: time-shared Flex:ai cards where
//! low classes may oversubscribe (`hi-timeshare`), a class-ordered queue with fewest-victim
//! preemption (`hi-priority`), device-model choice by job speed against stranded share
//! (`hi-hetero`), and remote placement when nothing fits locally (`hi-remote`). Each part's
//! module documents what is published and what is our choice.
//!
//! Cost per decision: placement as `hi-hetero`'s index ([`HeteroIndex`]: the nodes changed
//! since the last query are rescored, O(cards log cards) each, plus O(log nodes)); a job that
//! does not fit adds `hi-priority`'s victim search ([`VictimSearch`]: the nodes changed since
//! its class's last search, once a class has been searched) and `hi-remote`'s split
//! ([`RemoteIndex`]: O(log nodes) when no node takes the device part, two scans of the fleet
//! otherwise).

use flexsim_sim::model::cluster::{Cluster, Placement};
use flexsim_sim::model::gang::GangPlacement;
use flexsim_sim::model::job::{Pod, PodId};
use flexsim_sim::model::slicing::SlicingMode;
use flexsim_sim::policy::{
    JobChange, JobsView, Policy, QueueKey, QueuedJob, Refusals, RemotePlacement, ReplayHints,
    SimRng,
};

use crate::hami::{priority_key, priority_then_fifo};
use crate::hi_binpack::HiCore;
use crate::hi_hetero::HeteroIndex;
use crate::hi_priority::VictimSearch;
use crate::hi_remote::RemoteIndex;
use crate::hi_timeshare::OVERSUBSCRIBE_MILLI;

pub struct Hi {
    pub core: HiCore,
    pub speed_weight: f64,
    pub index: HeteroIndex,
    pub victims: VictimSearch,
    pub remote: RemoteIndex,
}

impl Default for Hi {
    fn default() -> Self {
        Hi {
            core: HiCore {
                mode: SlicingMode::FLEXAI_TIMESHARE,
                oversubscribe_milli: OVERSUBSCRIBE_MILLI,
            },
            speed_weight: 0.6,
            index: HeteroIndex::default(),
            victims: VictimSearch::default(),
            remote: RemoteIndex::default(),
        }
    }
}

impl Policy for Hi {
    fn name(&self) -> &str {
        "hi"
    }

    /// Priority order by key ([`priority_key`]); it preempts, and refuses a job only when no
    /// node holds it whole or a part of it (host or devices) for a remote placement.
    fn replay_hints(&self) -> ReplayHints {
        ReplayHints {
            keyed_queue: true,
            never_preempts: false,
            refusals: Refusals::OnANodeThatFitsAPart,
        }
    }

    fn queue_key(&mut self, jobs: &JobsView<'_>, job: &QueuedJob) -> QueueKey {
        priority_key(jobs, job)
    }

    /// Gangs: the tightest placement on a fleet with a topology ([`HiCore::place_gang`]).
    fn place_gang(
        &mut self,
        cluster: &Cluster,
        _job: PodId,
        pod: &Pod,
        rng: &mut SimRng,
    ) -> Option<GangPlacement> {
        self.core.place_gang(cluster, pod, rng)
    }

    fn preferred_slicing(&self) -> Option<SlicingMode> {
        Some(self.core.mode)
    }

    fn place(
        &mut self,
        cluster: &Cluster,
        _job: PodId,
        pod: &Pod,
        _rng: &mut SimRng,
    ) -> Option<Placement> {
        self.index
            .place(&self.core, self.speed_weight, cluster, pod)
    }

    fn place_remote(
        &mut self,
        cluster: &Cluster,
        _job: PodId,
        pod: &Pod,
        _rng: &mut SimRng,
    ) -> Option<RemotePlacement> {
        self.remote.place(&self.core, cluster, pod)
    }

    fn order_queue(&mut self, jobs: &JobsView<'_>, queue: &mut [QueuedJob]) {
        priority_then_fifo(jobs, queue);
    }

    fn preempt(
        &mut self,
        cluster: &Cluster,
        job: PodId,
        pod: &Pod,
        jobs: &JobsView<'_>,
    ) -> Vec<PodId> {
        self.victims.choose(&self.core, cluster, job, pod, jobs)
    }

    fn jobs_changed(&mut self, jobs: &JobsView<'_>, changes: &[JobChange]) {
        self.victims.jobs_changed(jobs, changes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{cluster_in, replay_on, rng};

    #[test]
    fn combines_timeshare_hetero_priority_and_remote() {
        let nodes: &[(&str, u64, u64, u32, &str)] = &[
            ("t4", 8_000, 65_536, 1, "T4"),
            ("a10", 8_000, 65_536, 1, "A10"),
            ("front", 96_000, 393_216, 0, ""),
        ];
        let c = cluster_in(nodes, SlicingMode::FLEXAI_TIMESHARE);
        let mut hi = Hi::default();
        // Heterogeneity: on empty cards the faster A10 wins for an inference job.
        let mut p = Pod::new("j", 1_000, 1024, 1, 300);
        p.class = "inference".into();
        let placed = hi.place(&c, 0, &p, &mut rng()).unwrap();
        assert_eq!(c.node(placed.node).name, "a10");
        // Remote: a front end too big for either GPU node goes on the CPU node.
        let big = Pod::new("big", 32_000, 1024, 1, 300);
        assert!(hi.place(&c, 0, &big, &mut rng()).is_none());
        let rp = hi.place_remote(&c, 0, &big, &mut rng()).unwrap();
        assert_eq!(c.node(rp.host).name, "front");
        // Priority: a high-class job preempts a low one when the card is full for it.
        let job = |name: &str, arrival_ms: u64, priority: i32| {
            let mut p = Pod::new(name, 1_000, 1024, 1, 1000);
            p.arrival_ms = arrival_ms;
            p.work_ms = Some(10_000);
            p.demand_milli = Some(1000);
            p.priority = priority;
            p
        };
        let one_card: &[(&str, u64, u64, u32, &str)] = &[("t4", 8_000, 65_536, 1, "T4")];
        let o = replay_on(
            one_card,
            vec![job("low", 0, 0), job("high", 1_000, 3)],
            &mut Hi::default(),
            0,
        );
        assert_eq!(o.figures.preemptions, 1);
        assert_eq!(o.figures.jobs_finished, 2);
    }
}
