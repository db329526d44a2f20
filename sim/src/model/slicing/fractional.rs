//! Fractional mode: a compute share in fixed units plus memory, several tenants per card
//! (Flex:ai vGPU — slicing-model §1.1/§1.2; HAMi vGPU — §2.1/§2.2; §7.1 rows "Flex:ai vGPU",
//! "HAMi vGPU").
//!
//! Placement rules: at most `max_tenants` slices a card, Σ compute ≤ 1000 milli, and with
//! admission-enforced memory Σ memory ≤ card memory.

use serde::{Deserialize, Serialize};

use super::{
    round_up, CardRequest, CardState, Isolation, MemoryEnforcement, Refusal, SliceKind,
    SliceRequest, Slot, Tenant, WHOLE_CARD_MILLI,
};
use crate::model::catalog::DeviceModel;

/// How the compute cap `c` behaves (slicing-model §7.1 column `c`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CapPolicy {
    /// c = a, enforced even on an idle card (Flex:ai's PID limiter is non-work-conserving,
    /// slicing-model §1.2). A request with compute 0 is uncapped (c = 1000: Flex:ai "0 means no
    /// compute limit", §1.1).
    Hard,
    /// HAMi: high priority (class 0) is held to c = a only while another high-priority tenant
    /// shares the card, else c = 1000; low priority (class ≥ 1) gets c = 1000 alone, else a
    /// (slicing-model §2.1 `nvidia.com/priority`, §2.2).
    HamiPriority,
    /// c = 1000: idle compute is always redistributed.
    WorkConserving,
}

/// Parameters of fractional slicing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FractionalParams {
    /// Compute unit, thousandths of a card; requests are rounded up to a multiple
    /// (should divide 1000; a rounded value above 1000 is clamped to 1000).
    pub unit_milli: u32,
    /// Most slices on one card (Flex:ai split count, HAMi `deviceSplitCount`).
    pub max_tenants: u32,
    /// Admission (checked at placement) or None (KAI-like, unchecked).
    pub memory: MemoryEnforcement,
    pub cap: CapPolicy,
}

impl FractionalParams {
    /// Flex:ai vGPU: 5 % steps (`huawei.com/vgpu-cores` multiples of 5, §1.1), up to 5 vGPUs a
    /// card (README "1–5 vGPUs"; the plugin flag defaults to 2 and the helm chart to 20, so this
    /// is a parameter), memory admission-checked, hard cap (§1.2).
    pub const FLEXAI: FractionalParams = FractionalParams {
        unit_milli: 50,
        max_tenants: 5,
        memory: MemoryEnforcement::Admission,
        cap: CapPolicy::Hard,
    };

    /// The openb / FGD GPU-share model (fgd-protocol §2.5): any milli, no tenant cap, no GPU
    /// memory accounting. The inflation protocol's mode.
    pub const SHARE: FractionalParams = FractionalParams {
        unit_milli: 1,
        max_tenants: u32::MAX,
        memory: MemoryEnforcement::None,
        cap: CapPolicy::WorkConserving,
    };

    /// HAMi vGPU: 1 % steps (`nvidia.com/gpucores` 0–100), `deviceSplitCount` 10, memory
    /// admission-checked, priority-dependent caps (§2.1, §2.2).
    pub const HAMI: FractionalParams = FractionalParams {
        unit_milli: 10,
        max_tenants: 10,
        memory: MemoryEnforcement::Admission,
        cap: CapPolicy::HamiPriority,
    };
}

/// Round compute up to the unit; refuse memory beyond the card.
pub fn normalise(
    params: &FractionalParams,
    device: &DeviceModel,
    request: &CardRequest,
) -> Result<SliceRequest, Refusal> {
    super::memory_within(request.memory_mib, device.memory_mib)?;
    let compute_milli = round_up(request.compute_milli, params.unit_milli).min(WHOLE_CARD_MILLI);
    let cap_milli = match params.cap {
        CapPolicy::Hard | CapPolicy::HamiPriority if compute_milli > 0 => compute_milli,
        _ => WHOLE_CARD_MILLI,
    };
    Ok(SliceRequest {
        kind: SliceKind::Fractional,
        compute_milli,
        cap_milli,
        memory_mib: request.memory_mib,
        memory: params.memory,
        isolation: Isolation::Spatial,
        weight_milli: 0,
        priority_class: request.priority_class,
    })
}

/// Tenant cap, then Σ compute ≤ 1000, then (if admission-enforced) Σ memory ≤ card memory.
pub fn fits(
    params: &FractionalParams,
    card: &CardState,
    device: &DeviceModel,
    slice: &SliceRequest,
) -> Result<Slot, Refusal> {
    if card.tenants().len() >= params.max_tenants as usize {
        return Err(Refusal::TenantLimit {
            max_tenants: params.max_tenants,
        });
    }
    let free_milli = WHOLE_CARD_MILLI.saturating_sub(card.allocated_compute_milli());
    if slice.compute_milli > free_milli {
        return Err(Refusal::ComputeExhausted {
            requested_milli: slice.compute_milli,
            free_milli,
        });
    }
    if slice.memory != MemoryEnforcement::None {
        super::memory_free(card, device, slice.memory_mib)?;
    }
    Ok(Slot::Card)
}

/// Effective (a, c) of tenant `index` among `tenants` (see [`CapPolicy`]).
pub(crate) fn share(params: &FractionalParams, tenants: &[Tenant], index: usize) -> (u32, u32) {
    let me = &tenants[index].slice;
    let a = me.compute_milli;
    if a == 0 {
        return (0, WHOLE_CARD_MILLI);
    }
    let c = match params.cap {
        CapPolicy::Hard => me.cap_milli,
        CapPolicy::WorkConserving => WHOLE_CARD_MILLI,
        CapPolicy::HamiPriority => {
            let others = tenants.len() > 1;
            let other_high = tenants
                .iter()
                .enumerate()
                .any(|(j, t)| j != index && t.slice.priority_class == 0);
            let held = if me.priority_class == 0 {
                other_high
            } else {
                others
            };
            if held {
                a
            } else {
                WHOLE_CARD_MILLI
            }
        }
    };
    (a, c)
}

#[cfg(test)]
mod tests {
    use crate::model::catalog::Catalog;
    use crate::model::slicing::*;

    fn flexai(compute_milli: u32, memory_mib: u64) -> SliceRequest {
        let a10 = Catalog::preset("A10").unwrap();
        normalise(
            &SlicingMode::FLEXAI_VGPU,
            &a10,
            &CardRequest::new(compute_milli, memory_mib),
        )
        .unwrap()
    }

    #[test]
    fn unit_rounding_flexai_5pct_and_hami_1pct() {
        let a10 = Catalog::preset("A10").unwrap();
        let r = CardRequest::new(120, 0);
        assert_eq!(
            normalise(&SlicingMode::FLEXAI_VGPU, &a10, &r)
                .unwrap()
                .compute_milli,
            150
        );
        assert_eq!(
            normalise(&SlicingMode::HAMI_VGPU, &a10, &r)
                .unwrap()
                .compute_milli,
            120
        );
        let r = CardRequest::new(121, 0);
        assert_eq!(
            normalise(&SlicingMode::HAMI_VGPU, &a10, &r)
                .unwrap()
                .compute_milli,
            130
        );
        let r = CardRequest::new(1000, 0);
        assert_eq!(
            normalise(&SlicingMode::FLEXAI_VGPU, &a10, &r)
                .unwrap()
                .compute_milli,
            1000
        );
    }

    #[test]
    fn tenant_cap_refuses_the_sixth_flexai_vgpu() {
        // Flex:ai: 5 vGPUs a card. Five 100-milli slices fit; the sixth is refused although
        // compute (500 of 1000) and memory are free.
        let a10 = Catalog::preset("A10").unwrap();
        let mut card = CardState::new(SlicingMode::FLEXAI_VGPU);
        let s = flexai(100, 1024);
        for id in 0..5 {
            allocate(&mut card, &a10, id, &s).unwrap();
        }
        assert_eq!(
            allocate(&mut card, &a10, 5, &s),
            Err(Refusal::TenantLimit { max_tenants: 5 })
        );
    }

    #[test]
    fn tenant_cap_refuses_the_eleventh_hami_vgpu() {
        let a10 = Catalog::preset("A10").unwrap();
        let mut card = CardState::new(SlicingMode::HAMI_VGPU);
        let s = normalise(&SlicingMode::HAMI_VGPU, &a10, &CardRequest::new(10, 0)).unwrap();
        for id in 0..10 {
            allocate(&mut card, &a10, id, &s).unwrap();
        }
        assert_eq!(
            fits(&card, &a10, &s),
            Err(Refusal::TenantLimit { max_tenants: 10 })
        );
    }

    #[test]
    fn compute_sum_never_exceeds_one_card() {
        let a10 = Catalog::preset("A10").unwrap();
        let mut card = CardState::new(SlicingMode::FLEXAI_VGPU);
        allocate(&mut card, &a10, 1, &flexai(600, 0)).unwrap();
        assert_eq!(
            fits(&card, &a10, &flexai(450, 0)),
            Err(Refusal::ComputeExhausted {
                requested_milli: 450,
                free_milli: 400
            })
        );
        assert_eq!(fits(&card, &a10, &flexai(400, 0)), Ok(Slot::Card));
    }

    #[test]
    fn memory_admission() {
        // A10: 24576 MiB. 20000 + 4000 fit; a further 1000 MiB does not, although compute is free.
        let a10 = Catalog::preset("A10").unwrap();
        let mut card = CardState::new(SlicingMode::FLEXAI_VGPU);
        allocate(&mut card, &a10, 1, &flexai(100, 20000)).unwrap();
        allocate(&mut card, &a10, 2, &flexai(100, 4000)).unwrap();
        assert_eq!(
            fits(&card, &a10, &flexai(100, 1000)),
            Err(Refusal::MemoryExhausted {
                requested_mib: 1000,
                free_mib: 576
            })
        );
        // Unenforced memory (KAI-like) co-locates anyway.
        let kai = SlicingMode::Fractional(FractionalParams {
            memory: MemoryEnforcement::None,
            ..FractionalParams::FLEXAI
        });
        let mut card = CardState::new(kai);
        let big = normalise(&kai, &a10, &CardRequest::new(100, 20000)).unwrap();
        allocate(&mut card, &a10, 1, &big).unwrap();
        assert_eq!(allocate(&mut card, &a10, 2, &big), Ok(Slot::Card));
        // A single request larger than the card is refused at normalisation.
        assert!(matches!(
            normalise(
                &SlicingMode::FLEXAI_VGPU,
                &a10,
                &CardRequest::new(100, 24577)
            ),
            Err(Refusal::MemoryTooLarge { .. })
        ));
    }

    #[test]
    fn flexai_cap_is_hard_and_zero_compute_is_uncapped() {
        let a10 = Catalog::preset("A10").unwrap();
        let mut card = CardState::new(SlicingMode::FLEXAI_VGPU);
        allocate(&mut card, &a10, 1, &flexai(300, 0)).unwrap();
        allocate(&mut card, &a10, 2, &flexai(0, 0)).unwrap();
        let s0 = card.share(0).unwrap();
        assert_eq!((s0.alloc_milli, s0.cap_milli), (300, 300));
        let s1 = card.share(1).unwrap();
        assert_eq!((s1.alloc_milli, s1.cap_milli), (0, 1000));
    }

    #[test]
    fn hami_priority_caps() {
        // slicing-model §2.1: high priority is held to gpucores only when another high-priority
        // task shares; low priority is unlimited only when alone.
        let a10 = Catalog::preset("A10").unwrap();
        let req = |c, p| CardRequest {
            priority_class: p,
            ..CardRequest::new(c, 0)
        };
        let hi = normalise(&SlicingMode::HAMI_VGPU, &a10, &req(300, 0)).unwrap();
        let lo = normalise(&SlicingMode::HAMI_VGPU, &a10, &req(200, 1)).unwrap();
        let mut card = CardState::new(SlicingMode::HAMI_VGPU);
        allocate(&mut card, &a10, 1, &lo).unwrap();
        assert_eq!(card.share(0).unwrap().cap_milli, 1000); // low, alone
        allocate(&mut card, &a10, 2, &hi).unwrap();
        assert_eq!(card.share(0).unwrap().cap_milli, 200); // low, shared
        assert_eq!(card.share(1).unwrap().cap_milli, 1000); // high, no other high
        allocate(&mut card, &a10, 3, &hi).unwrap();
        assert_eq!(card.share(1).unwrap().cap_milli, 300); // high with another high
        assert_eq!(card.share(2).unwrap().cap_milli, 300);
    }
}
