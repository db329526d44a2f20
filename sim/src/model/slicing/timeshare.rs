//! Timeshare mode: tenants take turns in weighted time slices (Flex:ai Ascend dispatcher,
//! slicing-model §1.4; §7.1 row "Flex:ai Ascend flexnpu (weight w)": a = w/Σw, c = a unless
//! idle share is redistributed, memory admission, temporal).
//!
//! Compute may be oversubscribed — Σ nominal shares may exceed one card, the weights then just
//! divide the card — up to `max_tenants` tenants. Memory is never oversubscribed: Σ memory ≤
//! card memory is checked at placement (DESIGN.md "Slicing modes").

use serde::{Deserialize, Serialize};

use super::{
    round_up, CardRequest, CardState, Isolation, MemoryEnforcement, Refusal, SliceKind,
    SliceRequest, Slot, Tenant, WHOLE_CARD_MILLI,
};
use crate::model::catalog::DeviceModel;

/// Parameters of time slicing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeshareParams {
    /// Most tenants on one card.
    pub max_tenants: u32,
    /// Minimum share / rounding unit of the nominal share, thousandths of a card.
    pub unit_milli: u32,
    /// Whether a tenant may use time slices others leave idle (work-conserving). Flex:ai's
    /// `share_in_idle = false` default makes the cap equal the weighted share.
    pub share_in_idle: bool,
}

impl TimeshareParams {
    /// Flex:ai NPU time slicing: minimum share 5 % ⇒ at most 20 tenants a card
    /// (`NpuTimesliceScheduler`, §1.4b), idle share not redistributed (`flexnpud.conf`
    /// `share_in_idle = false`, §1.4a).
    pub const FLEXAI_NPU: TimeshareParams = TimeshareParams {
        max_tenants: 20,
        unit_milli: 50,
        share_in_idle: false,
    };
}

/// Round the nominal share up to the unit (at least one unit); the weight is the request's
/// `weight_milli`, or the rounded share when the request gives none.
pub fn normalise(
    params: &TimeshareParams,
    device: &DeviceModel,
    request: &CardRequest,
) -> Result<SliceRequest, Refusal> {
    super::memory_within(request.memory_mib, device.memory_mib)?;
    let compute_milli = round_up(request.compute_milli, params.unit_milli)
        .max(params.unit_milli)
        .min(WHOLE_CARD_MILLI);
    let weight_milli = if request.weight_milli > 0 {
        request.weight_milli
    } else {
        compute_milli.max(1)
    };
    Ok(SliceRequest {
        kind: SliceKind::Timeshare,
        compute_milli,
        cap_milli: WHOLE_CARD_MILLI,
        memory_mib: request.memory_mib,
        memory: MemoryEnforcement::Admission,
        isolation: Isolation::Temporal,
        weight_milli,
        priority_class: request.priority_class,
    })
}

/// Tenant cap and memory only: compute is not checked (oversubscription by time slices).
pub fn fits(
    params: &TimeshareParams,
    card: &CardState,
    device: &DeviceModel,
    slice: &SliceRequest,
) -> Result<Slot, Refusal> {
    if card.tenants().len() >= params.max_tenants as usize {
        return Err(Refusal::TenantLimit {
            max_tenants: params.max_tenants,
        });
    }
    super::memory_free(card, device, slice.memory_mib)?;
    Ok(Slot::Card)
}

/// Effective (a, c): a = w_i / Σw of the card, c = a, or 1000 with `share_in_idle`.
pub(crate) fn share(
    params: &TimeshareParams,
    tenants: &[Tenant],
    total_weight_milli: u64,
    index: usize,
) -> (u32, u32) {
    let w = u64::from(tenants[index].slice.weight_milli);
    let a = (w * u64::from(WHOLE_CARD_MILLI))
        .checked_div(total_weight_milli)
        .unwrap_or(0) as u32;
    let c = if params.share_in_idle {
        WHOLE_CARD_MILLI
    } else {
        a
    };
    (a, c)
}

#[cfg(test)]
mod tests {
    use crate::model::catalog::Catalog;
    use crate::model::slicing::*;

    #[test]
    fn compute_oversubscribed_memory_never() {
        // 910B3: 65536 MiB. Three tenants asking 600 milli each (Σ 1800 > 1000) all fit;
        // memory 30000 + 30000 fits, a further 6000 MiB (Σ 66000 > 65536) does not.
        let b = Catalog::preset("Ascend910B3").unwrap();
        let mode = SlicingMode::FLEXAI_TIMESHARE;
        let mut card = CardState::new(mode);
        let big = normalise(&mode, &b, &CardRequest::new(600, 30000)).unwrap();
        let small = normalise(&mode, &b, &CardRequest::new(600, 0)).unwrap();
        allocate(&mut card, &b, 1, &big).unwrap();
        allocate(&mut card, &b, 2, &big).unwrap();
        allocate(&mut card, &b, 3, &small).unwrap();
        assert_eq!(card.allocated_compute_milli(), 1800);
        let more = normalise(&mode, &b, &CardRequest::new(50, 6000)).unwrap();
        assert_eq!(
            fits(&card, &b, &more),
            Err(Refusal::MemoryExhausted {
                requested_mib: 6000,
                free_mib: 5536
            })
        );
        // Weighted shares: equal weights 600 each → a = 333 each, capped (share_in_idle off).
        let s = card.share(0).unwrap();
        assert_eq!(
            (s.alloc_milli, s.cap_milli, s.isolation),
            (333, 333, Isolation::Temporal)
        );
    }

    #[test]
    fn tenant_cap_is_the_only_compute_limit() {
        let b = Catalog::preset("Ascend910B3").unwrap();
        let mode = SlicingMode::FLEXAI_TIMESHARE;
        let mut card = CardState::new(mode);
        let s = normalise(&mode, &b, &CardRequest::new(1000, 0)).unwrap();
        for id in 0..20 {
            allocate(&mut card, &b, id, &s).unwrap();
        }
        assert_eq!(card.allocated_compute_milli(), 20_000);
        assert_eq!(
            fits(&card, &b, &s),
            Err(Refusal::TenantLimit { max_tenants: 20 })
        );
    }

    #[test]
    fn weights_and_rounding() {
        let b = Catalog::preset("Ascend910B3").unwrap();
        let mode = SlicingMode::Timeshare(TimeshareParams {
            share_in_idle: true,
            ..TimeshareParams::FLEXAI_NPU
        });
        let r = normalise(&mode, &b, &CardRequest::new(120, 0)).unwrap();
        assert_eq!((r.compute_milli, r.weight_milli), (150, 150));
        let r0 = normalise(&mode, &b, &CardRequest::new(0, 0)).unwrap();
        assert_eq!(r0.compute_milli, 50); // minimum share 5 %
        let w = normalise(
            &mode,
            &b,
            &CardRequest {
                weight_milli: 450,
                ..CardRequest::new(120, 0)
            },
        )
        .unwrap();
        let mut card = CardState::new(mode);
        allocate(&mut card, &b, 1, &r).unwrap();
        allocate(&mut card, &b, 2, &w).unwrap();
        // a = 150/600 and 450/600 of the card; share_in_idle lifts the cap to the card.
        assert_eq!(card.share(0).unwrap().alloc_milli, 250);
        assert_eq!(card.share(1).unwrap().alloc_milli, 750);
        assert_eq!(card.share(1).unwrap().cap_milli, 1000);
        assert_eq!(card.share(1).unwrap().weight_milli, 450);
    }
}
