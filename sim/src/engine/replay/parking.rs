//! Parking: which fit classes wait for a release before the policy is asked again, and which
//! classes a keyed pass must look at ([`ReplayHints`]).
//!
//! A class the policy found no place for is *parked*: offering it again before resources are
//! released could only fail, since placements only fill the cluster (Kubernetes parks
//! unschedulable pods the same way). By default any release unparks every class. A policy whose
//! refusals only a release on a fitting node lifts ([`Refusals::OnANodeThatFits`]) lets the
//! engine unpark only the classes whose *shape* fits a freed node: per shape, `usable_at` is the
//! latest release epoch that freed a node it fits, and a class is parked while it last failed
//! at or after that epoch. A release tests each shape with waiting jobs once against the freed
//! nodes — O(shapes) per release, not O(classes) — and a pass of a policy that never preempts
//! looks only at the classes a release or an arrival may have made offerable (the *offer list*),
//! not at every class with waiting jobs.
//!
//! [`ReplayHints`]: crate::policy::ReplayHints

use super::Engine;
use crate::model::cluster::NodeId;
use crate::policy::Refusals;

impl Engine<'_> {
    /// Whether class `c` waits for a release before it is offered again.
    pub(super) fn is_parked(&self, c: usize) -> bool {
        let failed_at = self.unplaceable_epoch[c];
        if failed_at == u64::MAX {
            return false;
        }
        if self.keyed.is_none() || self.hints.refusals == Refusals::Anywhere || self.gang_class[c] {
            return failed_at == self.release_epoch;
        }
        failed_at >= self.usable_at[self.shape_of_class[c] as usize]
    }

    /// A job of class `c` joined the keyed queue: its class may be offered, and its shape, if
    /// it had no waiting job, is judged as if released since (its `usable_at` was not kept up
    /// while nothing of it waited).
    pub(super) fn note_queued(&mut self, c: usize) {
        self.offer_list.push(c as u32);
        let s = self.shape_of_class[c] as usize;
        self.waiting_in_shape[s] += 1;
        if self.waiting_in_shape[s] == 1 {
            self.usable_at[s] = self.release_epoch;
            if !self.shape_listed[s] {
                self.shape_listed[s] = true;
                self.active_shapes.push(s as u32);
            }
        }
    }

    /// A job of class `c` left the keyed queue (it started).
    pub(super) fn note_started(&mut self, c: usize) {
        self.waiting_in_shape[self.shape_of_class[c] as usize] -= 1;
    }

    /// Resources on `nodes` were released (epoch `release_epoch`): the classes that may be
    /// placeable now join the offer list, and with node-local refusals each waiting shape that
    /// fits a freed node (whole, or a part for a policy that places remotely) is unparked.
    pub(super) fn note_release(&mut self, nodes: &[NodeId]) {
        let Some(kq) = self.keyed.as_ref() else {
            return;
        };
        if self.hints.refusals == Refusals::Anywhere {
            self.offer_list.extend_from_slice(kq.active());
            return;
        }
        let epoch = self.release_epoch;
        let (waiting, listed) = (&self.waiting_in_shape, &mut self.shape_listed);
        self.active_shapes.retain(|&s| {
            let keep = waiting[s as usize] > 0;
            listed[s as usize] = keep;
            keep
        });
        for &s in &self.active_shapes {
            let s = s as usize;
            let pod = &self.pods[self.shape_rep[s]];
            let split = self.split_rep[s].as_ref();
            // The per-device part of the fit test (model, slice normalisation) is the shape's,
            // kept in its probes ([`FitProbe`](crate::model::cluster::FitProbe)).
            let [whole, part] = &mut self.shape_probes[s];
            let fits = nodes.iter().any(|&n| {
                let node = self.cluster.node(n);
                node.fits_probed(pod, whole)
                    || split.is_some_and(|(host, device)| {
                        node.fits(host) || node.fits_probed(device, part)
                    })
            });
            if fits {
                self.usable_at[s] = epoch;
                self.offer_list.extend_from_slice(&self.classes_of_shape[s]);
            }
        }
        // A gang may use a freed node with others: every release may make it placeable.
        self.offer_list.extend_from_slice(&self.gang_classes);
    }
}
