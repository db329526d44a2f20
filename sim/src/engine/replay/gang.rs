//! A gang job's life in the replay ([`crate::model::gang`]): offered to the policy's gang
//! placer, started with every part at once, and — through the common lifecycle — advancing at
//! its slowest card's rate times the cross-node factor
//! ([`PerfParams::cross_node_factor`](crate::model::perf::PerfParams::cross_node_factor)),
//! finishing or preempted as a whole (every part released at once).
//!
//! A gang job never runs remotely and never asks the policy for preemptions: the shipped
//! preemption rules make room on one node ([`Policy::preempt`]), which cannot make room for a
//! job spread over several. It waits, like any job that found no place, until resources are
//! released. Under EASY backfilling a gang gets no reservation (the reservation names one
//! node) and a gang behind the head starts only if it ends by the shadow time or leaves the
//! reserved node alone.

use super::backfill::Reservation;
use super::Engine;
use crate::error::EngineError;
use crate::model::gang::GangPlacement;
use crate::model::job::PodId;
use crate::policy::{Policy, SimRng};

impl Engine<'_> {
    /// Whether job `id` is placed as a gang.
    pub(super) fn is_gang(&self, id: PodId) -> bool {
        self.gang_class[self.fit_class[id] as usize]
    }

    /// Offers gang job `id` to the policy's gang placer; whether it started. A class the
    /// placer found no gang for is not offered again until resources are released, as for
    /// single-node jobs.
    pub(super) fn try_start_gang(
        &mut self,
        id: PodId,
        reservation: Option<&mut Reservation>,
        policy: &mut dyn Policy,
        rng: &mut SimRng,
    ) -> Result<bool, EngineError> {
        let class = self.fit_class[id] as usize;
        if self.is_parked(class) {
            return Ok(false);
        }
        let Some(g) = policy.place_gang(&self.cluster, id, &self.pods[id], rng) else {
            self.unplaceable_epoch[class] = self.release_epoch;
            return Ok(false);
        };
        if let Some(res) = reservation {
            let ends_by_shadow = self.estimated_end(id) <= res.shadow_ms;
            let on_reserved = g.parts.iter().any(|p| p.node == res.node);
            if on_reserved && !ends_by_shadow {
                return Ok(false);
            }
            self.start_gang(id, g, policy)?;
            if on_reserved {
                res.ending.push(id);
            }
            return Ok(true);
        }
        self.start_gang(id, g, policy)?;
        Ok(true)
    }

    /// Places gang job `id` on every part of `g` (checked by the cluster: all or nothing) and
    /// marks it running.
    fn start_gang(
        &mut self,
        id: PodId,
        mut g: GangPlacement,
        policy: &dyn Policy,
    ) -> Result<(), EngineError> {
        self.cluster
            .place_gang(id, &self.pods[id], g.clone())
            .map_err(|source| self.refused(id, policy, source))?;
        let first = g.parts.remove(0);
        self.bind(id, first.node, first.gpus, None, g.parts);
        Ok(())
    }
}
