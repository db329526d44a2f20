//! EASY backfilling ([`Discipline::EasyBackfill`](crate::policy::Discipline::EasyBackfill); Lifka, JSSPP 1995; Mu'alem & Feitelson,
//! IEEE TPDS 2001): the reservation of the first job that cannot start, and the test a job
//! behind it passes to start now.
//!
//! EASY was defined for one pool of identical processors. Our placements are single-node, so
//! the reservation names a node:
//!
//! * **Shadow time and reserved node.** Running jobs are taken in order of estimated end
//!   (ties by job id); each one's end frees its resources on its node (and on its host node if
//!   it runs remotely). The shadow time is the first such end after which the head fits on the
//!   node that end freed ([`Node::fits`]: CPU, memory and cards, as if the jobs ending by then
//!   were gone); that node is the reserved node. Where the head would really go at that time is
//!   its policy's choice; the reservation only promises that it can go somewhere.
//! * **Reserved resources** are what the head needs on the reserved node at the shadow time:
//!   a job placed on the reserved node leaves them untouched if the head still fits there at the
//!   shadow time with that job added — EASY's "extra processors", per node.
//! * **A job behind the head may start now** when its estimated end is not after the shadow
//!   time (it is gone, by estimate, before the head needs anything), or it goes on another node
//!   (and, if remote, its host part too), or it goes on the reserved node and leaves the
//!   reserved resources untouched. A remote job that touches the reserved node and ends after
//!   the shadow time is refused: the what-if for a split job is not worth its complexity.
//! * Estimates are solo work at the reference speed (see `Discipline::EasyBackfill`); the
//!   reservation is recomputed at every pass, so an estimate that proves optimistic only moves
//!   the shadow time later.
//!
//! If no end of a running job lets the head fit anywhere (it can start only remotely, or its
//! policy declines nodes where it fits), the head gets no reservation and the next job that
//! cannot start is considered instead.
//!
//! [`Node::fits`]: crate::model::cluster::Node::fits

use super::{Engine, State};
use crate::error::EngineError;
use crate::model::cluster::{NodeId, Placement};
use crate::model::job::PodId;
use crate::policy::{Policy, SimRng};
use std::collections::BTreeMap;

/// The head's reservation in one pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Reservation {
    pub head: PodId,
    /// The node the head can start on at the shadow time.
    pub node: NodeId,
    /// The earliest time the head can start, by the running jobs' estimated ends, ms.
    pub shadow_ms: u64,
    /// The jobs on `node` (or hosted there) estimated to end by the shadow time, including
    /// those that backfilled this pass: gone when the head starts.
    pub ending: Vec<PodId>,
}

impl Engine<'_> {
    /// When job `id` ends if it runs at solo reference speed from now on (a waiting job: if it
    /// started now).
    pub(super) fn estimated_end(&self, id: PodId) -> u64 {
        let j = &self.jobs[id];
        let left = if j.state == State::Running {
            (j.remaining - j.rate * (self.now - j.since) as f64).max(0.0)
        } else {
            j.remaining
        };
        self.now + left.ceil() as u64
    }

    /// Whether job `id` holds resources on `node` (its cards, its host part, or a gang part).
    fn touches(&self, id: PodId, node: NodeId) -> bool {
        let j = &self.jobs[id];
        j.node == node || j.host() == Some(node) || j.rest().iter().any(|p| p.node == node)
    }

    /// The reservation of `head`, which cannot start now, or `None` if no end of a running job
    /// makes room for it.
    pub(super) fn reserve(&self, head: PodId) -> Option<Reservation> {
        if self.is_gang(head) {
            return None; // the reservation names one node (see `gang.rs`)
        }
        let pod = &self.pods[head];
        let mut ends: Vec<(u64, PodId)> = self
            .running
            .iter()
            .map(|r| (self.estimated_end(r.pod), r.pod))
            .collect();
        ends.sort_unstable();
        let mut freed: BTreeMap<NodeId, Vec<PodId>> = BTreeMap::new();
        for &(t, id) in &ends {
            let j = &self.jobs[id];
            let parts = j.rest().iter().map(|p| p.node);
            for n in std::iter::once(j.node).chain(j.host()).chain(parts) {
                let gone = freed.entry(n).or_default();
                gone.push(id);
                if self.cluster.node(n).without(gone).fits(pod) {
                    let ending = ends
                        .iter()
                        .filter(|&&(e, v)| e <= t && self.touches(v, n))
                        .map(|&(_, v)| v)
                        .collect();
                    return Some(Reservation {
                        head,
                        node: n,
                        shadow_ms: t,
                        ending,
                    });
                }
            }
        }
        None
    }

    /// Whether waiting job `id` may start now on `device` (its host part on `host` if remote)
    /// without delaying the reservation.
    pub(super) fn backfill_admits(
        &self,
        res: &Reservation,
        id: PodId,
        device: &Placement,
        host: Option<NodeId>,
    ) -> bool {
        if self.estimated_end(id) <= res.shadow_ms {
            return true;
        }
        if device.node != res.node && host != Some(res.node) {
            return true;
        }
        if host.is_some() {
            return false;
        }
        let at_shadow = self.cluster.node(res.node).without(&res.ending);
        at_shadow
            .with(id, &self.pods[id], &device.gpus)
            .is_ok_and(|n| n.fits(&self.pods[res.head]))
    }

    /// Offers job `id`, queued behind the reserved head, to the policy: it starts if the policy
    /// places it and the placement passes [`Engine::backfill_admits`]. Jobs behind the head
    /// never preempt. Whether it started.
    pub(super) fn try_backfill(
        &mut self,
        res: &mut Reservation,
        id: PodId,
        policy: &mut dyn Policy,
        rng: &mut SimRng,
    ) -> Result<bool, EngineError> {
        if self.is_gang(id) {
            return self.try_start_gang(id, Some(res), policy, rng);
        }
        let class = self.fit_class[id] as usize;
        if self.unplaceable_epoch[class] == self.release_epoch {
            return Ok(false);
        }
        let pod = &self.pods[id];
        let ends_by_shadow = self.estimated_end(id) <= res.shadow_ms;
        if let Some(p) = policy.place(&self.cluster, id, pod, rng) {
            if !self.backfill_admits(res, id, &p, None) {
                return Ok(false);
            }
            let on_reserved = p.node == res.node;
            self.start(id, p, policy)?;
            if on_reserved && ends_by_shadow {
                res.ending.push(id);
            }
            return Ok(true);
        }
        if let Some(rp) = policy.place_remote(&self.cluster, id, pod, rng) {
            if !self.backfill_admits(res, id, &rp.device, Some(rp.host)) {
                return Ok(false);
            }
            let on_reserved = rp.device.node == res.node || rp.host == res.node;
            self.start_remote(id, rp, policy)?;
            if on_reserved && ends_by_shadow {
                res.ending.push(id);
            }
            return Ok(true);
        }
        self.unplaceable_epoch[class] = self.release_epoch;
        self.failed_in_pass[class] = self.pass;
        Ok(false)
    }
}
