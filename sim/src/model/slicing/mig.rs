//! MIG mode: NVIDIA Multi-Instance GPU profiles at legal start slots (slicing-model §3.1;
//! §7.1 row "MIG profile p": a = c = SM(p)/SM(full card, MIG off), memory hard, partition).
//!
//! A GPU instance occupies `memory_slices` consecutive slices of an 8-wide memory axis starting
//! at one of the profile's legal starts, and `compute_slices` of the card's 7 compute slices.
//! A placement is legal when its memory slices are free, the compute slices suffice, the
//! profile's instance limit is not reached and at most one `+me` instance exists.

use serde::{Deserialize, Serialize};

use super::{
    CardRequest, CardState, Isolation, MemoryEnforcement, Refusal, SliceKind, SliceRequest, Slot,
    WHOLE_CARD_MILLI,
};
use crate::model::catalog::{DeviceModel, MigProfile, MigTable};

/// How a start slot is chosen among the free legal ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MigPlacement {
    /// Lowest free legal start. Order of creation then matters, as on real GPUs: 3g first
    /// lands at 0 and blocks 4g and the 3g+2g+1g+1g geometry.
    FirstFree,
    /// The free legal start that leaves the most legal placements (of all profiles) free
    /// afterwards; ties to the lowest start. A scheduler choosing placements explicitly (NVML
    /// create-with-placement) can do this; it keeps zero-waste geometries reachable in any order.
    LeastLoss,
    /// A static geometry: every card is pre-partitioned into the geometry's instances, and a
    /// slice may only take a free instance of its own size (lowest start first). Requests
    /// normalise to the smallest profile the geometry has (see [`normalise_in`]). Models a
    /// cluster whose MIG layout an administrator fixed in advance (slicing-model §7.3 "static
    /// MIG geometries").
    Static(MigGeometry),
}

/// One GPU instance of a [`MigGeometry`]: a profile named by its size (compute slices,
/// memory slices) — not by table index, so one geometry serves every device model with the
/// A100/H100/H200 layout — at a start slot of the 8-wide memory axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MigInstance {
    pub compute_slices: u8,
    pub memory_slices: u8,
    pub start: u8,
}

impl MigInstance {
    pub const fn new(compute_slices: u8, memory_slices: u8, start: u8) -> Self {
        MigInstance {
            compute_slices,
            memory_slices,
            start,
        }
    }

    /// Whether `profile` is an instance of this size.
    pub fn is_profile(&self, profile: &MigProfile) -> bool {
        profile.compute_slices == self.compute_slices && profile.memory_slices == self.memory_slices
    }
}

/// A fixed MIG layout of one card: up to 8 non-overlapping instances (`Copy`, so it can live
/// in a [`SlicingMode`](super::SlicingMode)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MigGeometry {
    instances: [MigInstance; 8],
    len: u8,
}

impl MigGeometry {
    /// 2g@0 + 1g@2 + 1g@3 + 3g@4: the zero-waste {3g+2g+1g+1g} set (slicing-model §3.1) in
    /// its only legal layout (3g@0 would leave 1g a start of 7, which is not legal).
    pub const G3_2_1_1: MigGeometry = MigGeometry::fixed(&[
        MigInstance::new(2, 2, 0),
        MigInstance::new(1, 1, 2),
        MigInstance::new(1, 1, 3),
        MigInstance::new(3, 4, 4),
    ]);
    /// 2g@0 + 2g@2 + 3g@4: the zero-waste {3g+2g+2g} set.
    pub const G3_2_2: MigGeometry = MigGeometry::fixed(&[
        MigInstance::new(2, 2, 0),
        MigInstance::new(2, 2, 2),
        MigInstance::new(3, 4, 4),
    ]);
    /// 4g@0 + 3g@4: the zero-waste {4g+3g} set.
    pub const G4_3: MigGeometry =
        MigGeometry::fixed(&[MigInstance::new(4, 4, 0), MigInstance::new(3, 4, 4)]);
    /// 7g@0: one instance, the whole card.
    pub const G7: MigGeometry = MigGeometry::fixed(&[MigInstance::new(7, 8, 0)]);

    const fn fixed(list: &[MigInstance]) -> MigGeometry {
        let mut instances = [MigInstance::new(0, 0, 0); 8];
        let mut i = 0;
        while i < list.len() {
            instances[i] = list[i];
            i += 1;
        }
        MigGeometry {
            instances,
            len: list.len() as u8,
        }
    }

    /// A geometry of these instances, or `None` if there are more than 8, one is empty, one
    /// leaves the 8-slice axis, two overlap, or they need more than 7 compute slices. Whether
    /// each start is legal for its profile is the device table's business: an instance at an
    /// illegal start is never used.
    pub fn new(list: &[MigInstance]) -> Option<MigGeometry> {
        if list.len() > 8 {
            return None;
        }
        let (mut mask, mut compute) = (0u8, 0u32);
        for i in list {
            if i.memory_slices == 0 || u16::from(i.start) + u16::from(i.memory_slices) > 8 {
                return None;
            }
            let m = slot_mask(i.start, i.memory_slices);
            if m & mask != 0 {
                return None;
            }
            mask |= m;
            compute += u32::from(i.compute_slices);
        }
        (compute <= 7).then(|| MigGeometry::fixed(list))
    }

    /// The instances, in the order given.
    pub fn instances(&self) -> &[MigInstance] {
        &self.instances[..usize::from(self.len)]
    }

    /// Whether the geometry has an instance the size of `profile`.
    pub fn has_profile(&self, profile: &MigProfile) -> bool {
        self.instances().iter().any(|i| i.is_profile(profile))
    }
}

/// Parameters of MIG mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MigParams {
    pub placement: MigPlacement,
}

impl MigParams {
    /// First free legal start slot (the rule).
    pub const DEFAULT: MigParams = MigParams {
        placement: MigPlacement::FirstFree,
    };
}

impl Default for MigParams {
    fn default() -> Self {
        MigParams::DEFAULT
    }
}

/// Bitmask of `size` memory slices starting at `start`.
pub(crate) fn slot_mask(start: u8, size: u8) -> u8 {
    let bits: u16 = ((1u16 << size.min(8)) - 1) << start.min(8);
    (bits & 0xff) as u8
}

/// The smallest profile (by compute slices, then memory slices, then memory) whose compute
/// share `compute_slices / 7` covers the request and whose memory covers the request. `+me`
/// profiles are never chosen automatically.
///
/// A whole-card request maps to 7g, the whole GPU in MIG mode (slicing-model §3.1, the {7g}
/// geometry): compute is matched in compute slices rather than in SM fraction, because 7g.40gb
/// exposes only 98 of the A100's 108 SMs, and a request that states no memory implies the 7g's
/// memory, not the card's nominal memory, which MIG never hands out whole
/// ([`super::implied_memory_mib`]). A request that *states* more memory than the largest
/// profile holds is refused ([`Refusal::MemoryTooLarge`]): no MIG instance can give it.
pub fn normalise(device: &DeviceModel, request: &CardRequest) -> Result<SliceRequest, Refusal> {
    normalise_among(device, request, |_| true)
}

/// Memory of the largest profile (`+me` variants aside) — all MIG mode can give one job
/// (slicing-model §3.1: 7g.40gb = 40192 MiB on a 40960 MiB A100-40GB); `None` without a table.
pub fn largest_memory_mib(device: &DeviceModel) -> Option<u64> {
    device
        .mig
        .as_ref()?
        .profiles
        .iter()
        .filter(|p| !p.media_extensions)
        .map(|p| p.memory_mib)
        .max()
}

/// [`normalise`] under `params`: with a [`MigPlacement::Static`] geometry only the geometry's
/// profile sizes are candidates (a 1g job on a 3g+2g+1g+1g card maps to 1g, a 1g.10gb
/// double-memory request to 2g); otherwise the same as [`normalise`].
pub fn normalise_in(
    params: &MigParams,
    device: &DeviceModel,
    request: &CardRequest,
) -> Result<SliceRequest, Refusal> {
    match &params.placement {
        MigPlacement::Static(g) => normalise_among(device, request, |p| g.has_profile(p)),
        _ => normalise(device, request),
    }
}

fn normalise_among(
    device: &DeviceModel,
    request: &CardRequest,
    allowed: impl Fn(&MigProfile) -> bool,
) -> Result<SliceRequest, Refusal> {
    let table = device.mig.as_ref().ok_or(Refusal::NoMigTable)?;
    let want = u64::from(request.compute_milli) * u64::from(table.compute_slices);
    let best = table
        .profiles
        .iter()
        .enumerate()
        .filter(|(_, p)| !p.media_extensions && allowed(p))
        .filter(|(_, p)| want <= u64::from(p.compute_slices) * u64::from(WHOLE_CARD_MILLI))
        .filter(|(_, p)| request.memory_mib <= p.memory_mib)
        .min_by_key(|(i, p)| (p.compute_slices, p.memory_slices, p.memory_mib, *i));
    let Some((index, profile)) = best else {
        let largest = table
            .profiles
            .iter()
            .map(|p| p.memory_mib)
            .max()
            .unwrap_or(0);
        return Err(super::no_fit(
            request.memory_mib,
            largest,
            Refusal::NoProfileFits,
        ));
    };
    let profile_index = u8::try_from(index).map_err(|_| Refusal::UnknownSlice)?;
    Ok(slice_for(
        table,
        profile,
        profile_index,
        request.priority_class,
    ))
}

/// The slice of an explicitly named profile (e.g. "1g.5gb+me"), for requests that name one.
pub fn normalise_named(
    device: &DeviceModel,
    name: &str,
    priority_class: u8,
) -> Result<SliceRequest, Refusal> {
    let table = device.mig.as_ref().ok_or(Refusal::NoMigTable)?;
    let index = table.profile_index(name).ok_or(Refusal::NoProfileFits)?;
    let profile = &table.profiles[usize::from(index)];
    Ok(slice_for(table, profile, index, priority_class))
}

fn slice_for(
    table: &MigTable,
    profile: &MigProfile,
    profile_index: u8,
    priority_class: u8,
) -> SliceRequest {
    let a = table.compute_milli(profile);
    SliceRequest {
        kind: SliceKind::Mig { profile_index },
        compute_milli: a,
        cap_milli: a,
        memory_mib: profile.memory_mib,
        memory: MemoryEnforcement::Hard,
        isolation: Isolation::Partition,
        weight_milli: 0,
        priority_class,
    }
}

/// Where profile `profile_index` would go on `card`, or why it cannot.
pub fn fits(
    params: &MigParams,
    card: &CardState,
    device: &DeviceModel,
    profile_index: u8,
) -> Result<Slot, Refusal> {
    let table = device.mig.as_ref().ok_or(Refusal::NoMigTable)?;
    let profile = table
        .profiles
        .get(usize::from(profile_index))
        .ok_or(Refusal::UnknownSlice)?;
    let instances = card
        .tenants()
        .iter()
        .filter(|t| t.slice.kind == SliceKind::Mig { profile_index })
        .count();
    if instances >= usize::from(profile.max_instances) {
        return Err(Refusal::ProfileInstanceLimit {
            profile_id: profile.profile_id,
            max_instances: profile.max_instances,
        });
    }
    if profile.media_extensions && card.mig_media_taken {
        return Err(Refusal::MediaExtensionTaken);
    }
    let free_compute = table.compute_slices.saturating_sub(card.mig_compute_slices);
    if profile.compute_slices > free_compute {
        return Err(Refusal::ComputeSlicesExhausted {
            requested: profile.compute_slices,
            free: free_compute,
        });
    }
    let used = card.mig_memory_mask;
    let mut candidates = free_starts(table, profile, used);
    let start = match params.placement {
        MigPlacement::FirstFree => candidates.next(),
        MigPlacement::LeastLoss => candidates
            .map(|s| {
                (
                    s,
                    free_placements(table, used | slot_mask(s, profile.memory_slices)),
                )
            })
            // max by remaining placements, ties to the lowest start
            .fold(None, |best: Option<(u8, u32)>, (s, n)| match best {
                Some((_, bn)) if bn >= n => best,
                _ => Some((s, n)),
            })
            .map(|(s, _)| s),
        MigPlacement::Static(g) => g
            .instances()
            .iter()
            .filter(|i| i.is_profile(profile))
            .map(|i| i.start)
            .filter(|&s| {
                profile.legal_starts.contains(&s)
                    && u16::from(s) + u16::from(profile.memory_slices)
                        <= u16::from(table.memory_slices)
                    && slot_mask(s, profile.memory_slices) & used == 0
            })
            .min(),
    };
    start
        .map(|start_slot| Slot::Mig { start_slot })
        .ok_or(Refusal::NoLegalStartSlot {
            profile_id: profile.profile_id,
        })
}

/// Legal starts of `profile` whose memory slices are all free in `used`.
fn free_starts<'a>(
    table: &'a MigTable,
    profile: &'a MigProfile,
    used: u8,
) -> impl Iterator<Item = u8> + 'a {
    profile.legal_starts.iter().copied().filter(move |&s| {
        u16::from(s) + u16::from(profile.memory_slices) <= u16::from(table.memory_slices)
            && slot_mask(s, profile.memory_slices) & used == 0
    })
}

/// Number of (profile, start) placements still free on the memory axis.
fn free_placements(table: &MigTable, used: u8) -> u32 {
    table
        .profiles
        .iter()
        .map(|p| free_starts(table, p, used).count() as u32)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::catalog::Catalog;
    use crate::model::slicing::{
        allocate, fits as fits_any, normalise as normalise_any, release, SlicingMode,
    };

    fn named(device: &DeviceModel, name: &str) -> SliceRequest {
        normalise_named(device, name, 0).unwrap()
    }

    const LEAST_LOSS: SlicingMode = SlicingMode::Mig(MigParams {
        placement: MigPlacement::LeastLoss,
    });

    #[test]
    fn two_4g_never_fit_on_one_a100_40() {
        let a100 = Catalog::preset("A100-40").unwrap();
        for mode in [SlicingMode::MIG, LEAST_LOSS] {
            let mut card = CardState::new(mode);
            let g4 = named(&a100, "4g.20gb");
            assert_eq!(
                allocate(&mut card, &a100, 1, &g4),
                Ok(Slot::Mig { start_slot: 0 })
            );
            assert!(allocate(&mut card, &a100, 2, &g4).is_err());
        }
    }

    #[test]
    fn zero_waste_3g_2g_1g_1g_fits_on_a100_40() {
        // slicing-model §3.1: {3g+2g+1g+1g} uses all 7 compute and 8 memory slices.
        let a100 = Catalog::preset("A100-40").unwrap();
        let order = ["3g.20gb", "2g.10gb", "1g.5gb", "1g.5gb"];
        // LeastLoss places them in the given (largest first) order: 3g@4, 2g@0, 1g@2, 1g@3.
        let mut card = CardState::new(LEAST_LOSS);
        let starts: Vec<Slot> = order
            .iter()
            .enumerate()
            .map(|(i, n)| allocate(&mut card, &a100, i as u64, &named(&a100, n)).unwrap())
            .collect();
        let mig = |s| Slot::Mig { start_slot: s };
        assert_eq!(starts, vec![mig(4), mig(0), mig(2), mig(3)]);
        assert_eq!(card.mig_memory_mask(), 0xff);
        assert_eq!(card.allocated_memory_mib(), 19968 + 9856 + 4864 + 4864);
        // Nothing else fits now.
        assert!(fits_any(&card, &a100, &named(&a100, "1g.5gb")).is_err());

        // FirstFree reaches it when the small instances come first (1g@0, 1g@1, 2g@2, 3g@4)...
        let mut card = CardState::new(SlicingMode::MIG);
        for (i, n) in ["1g.5gb", "1g.5gb", "2g.10gb", "3g.20gb"]
            .iter()
            .enumerate()
        {
            allocate(&mut card, &a100, i as u64, &named(&a100, n)).unwrap();
        }
        assert_eq!(card.mig_memory_mask(), 0xff);
        // ...but not largest-first: 3g@0, 2g@4, 1g@6, and the last 1g would need start 7.
        let mut card = CardState::new(SlicingMode::MIG);
        for (i, n) in order[..3].iter().enumerate() {
            allocate(&mut card, &a100, i as u64, &named(&a100, n)).unwrap();
        }
        assert_eq!(
            fits_any(&card, &a100, &named(&a100, "1g.5gb")),
            Err(Refusal::NoLegalStartSlot { profile_id: 19 })
        );
    }

    #[test]
    fn placements_only_at_legal_start_slots() {
        let a100 = Catalog::preset("A100-40").unwrap();
        let table = a100.mig.as_ref().unwrap();
        for mode in [SlicingMode::MIG, LEAST_LOSS] {
            for (pi, p) in table.profiles.iter().enumerate() {
                // Fill the card with this profile alone; every start must be legal.
                let mut card = CardState::new(mode);
                let s = normalise_named(&a100, &p.name, 0).unwrap();
                assert_eq!(
                    s.kind,
                    SliceKind::Mig {
                        profile_index: pi as u8
                    }
                );
                let mut id = 0;
                while let Ok(Slot::Mig { start_slot }) = allocate(&mut card, &a100, id, &s) {
                    assert!(
                        p.legal_starts.contains(&start_slot),
                        "{} at {}",
                        p.name,
                        start_slot
                    );
                    id += 1;
                }
                assert!(id >= 1 && id <= u64::from(p.max_instances));
            }
        }
        // 7 × 1g.5gb: starts 0..6, slice 7 left unusable (§3.1).
        let mut card = CardState::new(SlicingMode::MIG);
        let g1 = named(&a100, "1g.5gb");
        for id in 0..7 {
            assert_eq!(
                allocate(&mut card, &a100, id, &g1),
                Ok(Slot::Mig {
                    start_slot: id as u8
                })
            );
        }
        assert_eq!(card.mig_memory_mask(), 0x7f);
        // 2g after a 1g at 1: start 0 is blocked, next legal start is 2 (not 1).
        let mut card = CardState::new(SlicingMode::MIG);
        let mut c2 = CardState::new(SlicingMode::MIG);
        allocate(&mut c2, &a100, 0, &g1).unwrap();
        allocate(&mut c2, &a100, 1, &g1).unwrap(); // 1g@0, 1g@1
        release(&mut c2, &a100, 0).unwrap(); // leaves slice 0 free, slice 1 taken
        assert_eq!(
            allocate(&mut c2, &a100, 2, &named(&a100, "2g.10gb")),
            Ok(Slot::Mig { start_slot: 2 })
        );
        // 4g only at 0: blocked by anything in slices 0..3.
        allocate(&mut card, &a100, 0, &named(&a100, "1g.10gb")).unwrap(); // @0
        assert_eq!(
            fits_any(&card, &a100, &named(&a100, "4g.20gb")),
            Err(Refusal::NoLegalStartSlot { profile_id: 5 })
        );
    }

    #[test]
    fn compute_slices_and_instance_limits() {
        let a100 = Catalog::preset("A100-40").unwrap();
        // 4 × 1g.10gb use all 8 memory slices but only 4 compute slices; limit 4 instances.
        let mut card = CardState::new(SlicingMode::MIG);
        let g = named(&a100, "1g.10gb");
        for id in 0..4 {
            allocate(&mut card, &a100, id, &g).unwrap();
        }
        assert_eq!(
            fits_any(&card, &a100, &g),
            Err(Refusal::ProfileInstanceLimit {
                profile_id: 15,
                max_instances: 4
            })
        );
        // Only one +me instance per GPU.
        let mut card = CardState::new(SlicingMode::MIG);
        let me = named(&a100, "1g.5gb+me");
        allocate(&mut card, &a100, 0, &me).unwrap();
        assert!(fits_any(&card, &a100, &me).is_err());
        // Compute slices bind before memory: 3 × 2g (6 compute, memory 0..5) + 1g@6 use all 7
        // compute slices while memory slice 7 is still free.
        let mut card = CardState::new(SlicingMode::MIG);
        let g2 = named(&a100, "2g.10gb");
        for id in 0..3 {
            allocate(&mut card, &a100, id, &g2).unwrap();
        }
        assert_eq!(card.mig_memory_mask(), 0x3f);
        assert_eq!(
            allocate(&mut card, &a100, 3, &g1(&a100)),
            Ok(Slot::Mig { start_slot: 6 })
        );
        assert_eq!(
            fits_any(&card, &a100, &g1(&a100)),
            Err(Refusal::ComputeSlicesExhausted {
                requested: 1,
                free: 0
            })
        );
    }

    fn g1(d: &DeviceModel) -> SliceRequest {
        named(d, "1g.5gb")
    }

    #[test]
    fn request_normalises_to_smallest_fitting_profile() {
        let a100 = Catalog::preset("A100-40").unwrap();
        let table = a100.mig.clone().unwrap();
        let name = |c: u32, m: u64| {
            let s = normalise_any(&SlicingMode::MIG, &a100, &CardRequest::new(c, m)).unwrap();
            match s.kind {
                SliceKind::Mig { profile_index } => {
                    table.profiles[usize::from(profile_index)].name.clone()
                }
                _ => unreachable!(),
            }
        };
        assert_eq!(name(100, 1000), "1g.5gb"); // 100 ≤ 1000/7
        assert_eq!(name(143, 0), "2g.10gb"); // 143 > 142.86 = 1/7 card
        assert_eq!(name(100, 8000), "1g.10gb"); // memory needs 2 slices, compute 1
        assert_eq!(name(300, 0), "3g.20gb");
        assert_eq!(name(500, 0), "4g.20gb");
        assert_eq!(name(300, 19968), "3g.20gb");
        assert_eq!(name(300, 19969), "7g.40gb");
        assert_eq!(name(1000, 0), "7g.40gb");
        assert!(matches!(
            normalise_any(&SlicingMode::MIG, &a100, &CardRequest::new(1000, 40193)),
            Err(Refusal::MemoryTooLarge {
                limit_mib: 40192,
                ..
            })
        ));
        // a = SM fraction of the MIG-off card: 7g.40gb = 98/108.
        let s = normalise_any(&SlicingMode::MIG, &a100, &CardRequest::new(1000, 0)).unwrap();
        assert_eq!(s.compute_milli, 907);
        let h100 = Catalog::preset("H100-80").unwrap();
        let s = normalise_any(&SlicingMode::MIG, &h100, &CardRequest::new(1000, 0)).unwrap();
        assert_eq!(s.compute_milli, 1000);
    }

    #[test]
    fn zero_waste_geometries_on_every_mig_preset() {
        // slicing-model §3.1: {7g}, {4g+3g}, {3g+2g+2g}, {3g+2g+1g+1g} fill all 8 memory slices.
        for name in ["A100-40", "A100-80", "H100-80", "H200"] {
            let d = Catalog::preset(name).unwrap();
            let t = d.mig.clone().unwrap();
            let p = |i: usize| t.profiles[i].name.clone(); // ID order 19, 20, 15, 14, 9, 5, 0
            let sets = [
                vec![p(6)],
                vec![p(5), p(4)],
                vec![p(4), p(3), p(3)],
                vec![p(4), p(3), p(0), p(0)],
            ];
            for set in sets {
                let mut card = CardState::new(LEAST_LOSS);
                for (i, n) in set.iter().enumerate() {
                    allocate(&mut card, &d, i as u64, &named(&d, n)).unwrap();
                }
                assert_eq!(card.mig_memory_mask(), 0xff, "{name} {set:?}");
                assert!(card.allocated_compute_milli() <= 1000);
                assert!(card.allocated_memory_mib() <= d.memory_mib);
            }
        }
    }

    #[test]
    fn static_geometry_takes_only_its_instances_in_any_order() {
        let a100 = Catalog::preset("A100-40").unwrap();
        let mode = SlicingMode::Mig(MigParams {
            placement: MigPlacement::Static(MigGeometry::G3_2_1_1),
        });
        let req = |milli| normalise_any(&mode, &a100, &CardRequest::new(milli, 0)).unwrap();
        // 1g, 2g and 3g requests in the order that breaks first-free (a 1g would take slot 0).
        let mut card = CardState::new(mode);
        let mig = |s| Slot::Mig { start_slot: s };
        assert_eq!(allocate(&mut card, &a100, 1, &req(100)), Ok(mig(2)));
        assert_eq!(allocate(&mut card, &a100, 2, &req(400)), Ok(mig(4)));
        assert_eq!(allocate(&mut card, &a100, 3, &req(100)), Ok(mig(3)));
        assert_eq!(allocate(&mut card, &a100, 4, &req(250)), Ok(mig(0)));
        assert_eq!(card.mig_memory_mask(), 0xff);
        // With the 3g gone, a third 1g still has no instance (slots 4..8 are the 3g's),
        // though the 1g profile allows 7 instances.
        release(&mut card, &a100, 2).unwrap();
        assert_eq!(
            fits_any(&card, &a100, &req(100)),
            Err(Refusal::NoLegalStartSlot { profile_id: 19 })
        );
        // Released instances are reused at the same slot.
        release(&mut card, &a100, 1).unwrap();
        assert_eq!(allocate(&mut card, &a100, 5, &req(100)), Ok(mig(2)));
        assert_eq!(allocate(&mut card, &a100, 6, &req(300)), Ok(mig(4)));
        // A double-memory 1g request maps to the geometry's 2g; a whole card fits nowhere.
        let big_mem = CardRequest::new(100, 8000);
        let s = normalise_any(&mode, &a100, &big_mem).unwrap();
        assert_eq!(s.kind, SliceKind::Mig { profile_index: 3 });
        assert_eq!(
            normalise_any(&mode, &a100, &CardRequest::new(1000, 0)),
            Err(Refusal::NoProfileFits)
        );
    }

    #[test]
    fn geometry_validation() {
        let i = MigInstance::new;
        assert!(MigGeometry::new(&[i(4, 4, 0), i(3, 4, 4)]).is_some());
        assert!(
            MigGeometry::new(&[i(4, 4, 0), i(3, 4, 2)]).is_none(),
            "overlap"
        );
        assert!(
            MigGeometry::new(&[i(4, 4, 0), i(4, 4, 4)]).is_none(),
            "8 compute slices"
        );
        assert!(MigGeometry::new(&[i(1, 2, 7)]).is_none(), "off the axis");
        assert_eq!(
            MigGeometry::new(MigGeometry::G3_2_1_1.instances()),
            Some(MigGeometry::G3_2_1_1)
        );
    }
}
