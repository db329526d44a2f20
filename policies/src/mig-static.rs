//! `mig-static` — NVIDIA MIG with one fixed, zero-waste geometry on every card
//! (slicing-model §3.1, §7.3 "static MIG geometries").
//!
//! How the geometry is enforced: the policy asks for MIG mode with
//! [`MigPlacement::Static`]`(geometry)` (default 2g@0 + 1g@2 + 1g@3 + 3g@4, the
//! {3g+2g+1g+1g} set, the only legal layout of it), so the engine normalises each request to
//! the smallest profile *of the geometry* that covers it and places it only at a free instance
//! of that size. The policy checks the same rule itself before naming a card — it asks the
//! slicing model which (profile, start) the card would grant ([`slicing::fits`]) and accepts
//! the card only if that instance belongs to the geometry — so the restriction also holds when
//! a run overrides the mode with plain `--slicing mig` (then a job may wait where first-free
//! would pick a slot outside the geometry).
//!
//! Among legal cards: the node and card with the fewest free instances of the job's size left
//! (pack instances of one size together), ties by node priority, then lowest card index.
//! Choices that are ours: the default geometry (a constructor parameter), and that a job only
//! takes an instance of its own normalised size — when those are all busy it waits rather than
//! taking a larger free instance (the engine grants the profile the request maps to).
//! Requests larger than the geometry's largest instance (whole cards, 4g) never fit.

use flexsim_sim::model::cluster::{Cluster, Node, NodeId, Placement};
use flexsim_sim::model::job::{Pod, PodId};
use flexsim_sim::model::slicing::{
    self, MigGeometry, MigParams, MigPlacement, SliceKind, SlicingMode, Slot,
};
use flexsim_sim::policy::{Policy, SimRng};

pub struct MigStatic {
    geometry: MigGeometry,
}

impl MigStatic {
    pub fn new(geometry: MigGeometry) -> Self {
        MigStatic { geometry }
    }

    /// The cards of `node` on which `pod` would get an instance of the geometry, each with the
    /// number of free instances of that size on the card.
    pub fn legal_cards(&self, node: &Node, pod: &Pod) -> Vec<(u16, usize)> {
        let Some(device) = node.device() else {
            return Vec::new();
        };
        let Some(table) = device.model.mig.as_ref() else {
            return Vec::new();
        };
        let Some(Ok(slice)) = node.slice_for(pod) else {
            return Vec::new();
        };
        let SliceKind::Mig { profile_index } = slice.kind else {
            return Vec::new();
        };
        let profile = &table.profiles[usize::from(profile_index)];
        node.fitting_cards(pod)
            .into_iter()
            .filter_map(|g| {
                let card = &node.cards()[usize::from(g)];
                let Ok(Slot::Mig { start_slot }) = slicing::fits(card, &device.model, &slice)
                else {
                    return None;
                };
                let ours = self
                    .geometry
                    .instances()
                    .iter()
                    .any(|i| i.is_profile(profile) && i.start == start_slot);
                if !ours {
                    return None;
                }
                let free = self
                    .geometry
                    .instances()
                    .iter()
                    .filter(|i| i.is_profile(profile))
                    .filter(|i| {
                        !card.tenants().iter().any(|t| {
                            t.slot
                                == Slot::Mig {
                                    start_slot: i.start,
                                }
                        })
                    })
                    .count();
                Some((g, free))
            })
            .collect()
    }
}

impl Default for MigStatic {
    fn default() -> Self {
        MigStatic::new(MigGeometry::G3_2_1_1)
    }
}

impl Policy for MigStatic {
    fn name(&self) -> &str {
        "mig-static"
    }

    /// FIFO, no preemption, a job refused only when no node holds it (`ReplayHints`).
    fn replay_hints(&self) -> flexsim_sim::policy::ReplayHints {
        flexsim_sim::policy::ReplayHints::PLACER
    }

    fn preferred_slicing(&self) -> Option<SlicingMode> {
        Some(SlicingMode::Mig(MigParams {
            placement: MigPlacement::Static(self.geometry),
        }))
    }

    fn place(
        &mut self,
        cluster: &Cluster,
        _job: PodId,
        pod: &Pod,
        _rng: &mut SimRng,
    ) -> Option<Placement> {
        let need = pod.num_gpu as usize;
        let mut best: Option<(usize, NodeId, Vec<u16>)> = None;
        for &n in cluster.by_priority() {
            let node = cluster.node(n);
            if !node.fits(pod) {
                continue;
            }
            if !pod.is_gpu_pod() {
                return Some(Placement {
                    node: n,
                    gpus: Vec::new(),
                });
            }
            let mut cards = self.legal_cards(node, pod);
            if cards.len() < need {
                continue;
            }
            cards.sort_by_key(|&(g, free)| (free, g));
            let free: usize = cards[..need].iter().map(|&(_, f)| f).sum();
            if best.as_ref().is_none_or(|b| free < b.0) {
                let mut gpus: Vec<u16> = cards[..need].iter().map(|&(g, _)| g).collect();
                gpus.sort_unstable();
                best = Some((free, n, gpus));
            }
        }
        best.map(|(_, node, gpus)| Placement { node, gpus })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{cluster_in, rng};
    use flexsim_sim::model::slicing::MigInstance;

    /// Places and removes jobs of mixed sizes; every tenant ever on a card is an instance of the
    /// geometry, under the static mode and under plain first-free MIG.
    #[test]
    fn only_legal_instances_are_ever_used() {
        let geometry = MigGeometry::G3_2_1_1;
        let static_mode = MigStatic::default().preferred_slicing().unwrap();
        for mode in [static_mode, SlicingMode::MIG] {
            let mut c = cluster_in(
                &[
                    ("a", 64_000, 1 << 20, 2, "A100-40"),
                    ("b", 64_000, 1 << 20, 1, "A100-40"),
                ],
                mode,
            );
            let mut p = MigStatic::default();
            let sizes = [100, 250, 400, 100, 130, 280, 90, 420, 140, 1000];
            let mut running: Vec<(usize, NodeId)> = Vec::new();
            let mut placed_any = 0;
            for step in 0..200usize {
                let mut pod = Pod::new("j", 100, 100, 1, sizes[step % sizes.len()]);
                pod.gpu_memory_mib = Some(1000);
                if let Some(pl) = p.place(&c, 0, &pod, &mut rng()) {
                    let node = pl.node;
                    c.place(step, &pod, pl).unwrap();
                    running.push((step, node));
                    placed_any += 1;
                }
                if step % 3 == 2 && !running.is_empty() {
                    let (id, node) = running.remove((step * 7) % running.len());
                    c.remove(id, node).unwrap();
                }
                for n in c.nodes() {
                    let table = n.device().unwrap().model.mig.as_ref().unwrap();
                    for card in n.cards() {
                        for t in card.tenants() {
                            let (SliceKind::Mig { profile_index }, Slot::Mig { start_slot }) =
                                (t.slice.kind, t.slot)
                            else {
                                panic!("not a MIG tenant")
                            };
                            let prof = &table.profiles[usize::from(profile_index)];
                            assert!(
                                geometry
                                    .instances()
                                    .iter()
                                    .any(|i| i.is_profile(prof) && i.start == start_slot),
                                "{mode:?}: {} at {start_slot}",
                                prof.name
                            );
                        }
                    }
                }
            }
            // First-free MIG blocks some legal instances (a 1g on an empty card would take
            // slot 0), so fewer jobs get placed there.
            assert!(placed_any > 20, "{mode:?}: {placed_any}");
        }
    }

    #[test]
    fn smallest_instance_and_packing() {
        let mode = MigStatic::default().preferred_slicing().unwrap();
        let mut c = cluster_in(&[("a", 64_000, 1 << 20, 2, "A100-40")], mode);
        let mut p = MigStatic::default();
        let small = Pod::new("s", 100, 100, 1, 100);
        let pl = p.place(&c, 0, &small, &mut rng()).unwrap();
        assert_eq!(pl.gpus, vec![0]);
        c.place(0, &small, pl).unwrap();
        // The second 1g packs beside the first: card 0 has one free 1g left, card 1 two.
        let pl = p.place(&c, 0, &small, &mut rng()).unwrap();
        assert_eq!(pl.gpus, vec![0]);
        c.place(1, &small, pl).unwrap();
        let t = c.node(0).cards()[0].tenants();
        assert_eq!(
            t.iter().map(|t| t.slot).collect::<Vec<_>>(),
            vec![Slot::Mig { start_slot: 2 }, Slot::Mig { start_slot: 3 }]
        );
        // The third goes to card 1; a whole card fits nowhere.
        assert_eq!(p.place(&c, 0, &small, &mut rng()).unwrap().gpus, vec![1]);
        assert_eq!(
            p.place(&c, 0, &Pod::new("w", 1, 1, 1, 1000), &mut rng()),
            None
        );
        // Another geometry: 4g + 3g takes a 1g request as 3g.
        let g = MigGeometry::new(&[MigInstance::new(4, 4, 0), MigInstance::new(3, 4, 4)]).unwrap();
        let p2 = MigStatic::new(g);
        let c2 = cluster_in(
            &[("a", 64_000, 1 << 20, 1, "A100-40")],
            p2.preferred_slicing().unwrap(),
        );
        let s = c2.node(0).slice_for(&small).unwrap().unwrap();
        assert_eq!(s.kind, SliceKind::Mig { profile_index: 4 });
        assert_eq!(p2.legal_cards(c2.node(0), &small), vec![(0, 1)]);
    }
}
