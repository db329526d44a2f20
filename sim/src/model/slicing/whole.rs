//! Whole-card mode: one job per card, all of its compute and memory (Kubernetes device
//! plugin; slicing-model §7.1 row "Whole card": a = c = 1, full memory, partition).

use super::{
    CardRequest, CardState, Isolation, MemoryEnforcement, Refusal, SliceKind, SliceRequest, Slot,
    WHOLE_CARD_MILLI,
};
use crate::model::catalog::DeviceModel;

/// Any compute request becomes the whole card; memory beyond the card is refused.
pub fn normalise(device: &DeviceModel, request: &CardRequest) -> Result<SliceRequest, Refusal> {
    super::memory_within(request.memory_mib, device.memory_mib)?;
    Ok(SliceRequest {
        kind: SliceKind::Whole,
        compute_milli: WHOLE_CARD_MILLI,
        cap_milli: WHOLE_CARD_MILLI,
        memory_mib: device.memory_mib,
        memory: MemoryEnforcement::Hard,
        isolation: Isolation::Partition,
        weight_milli: 0,
        priority_class: request.priority_class,
    })
}

/// Fits only on an empty card.
pub fn fits(
    card: &CardState,
    _device: &DeviceModel,
    _slice: &SliceRequest,
) -> Result<Slot, Refusal> {
    if card.is_empty() {
        Ok(Slot::Card)
    } else {
        Err(Refusal::TenantLimit { max_tenants: 1 })
    }
}

#[cfg(test)]
mod tests {
    use crate::model::catalog::Catalog;
    use crate::model::slicing::*;

    #[test]
    fn whole_card_takes_everything_and_admits_one_tenant() {
        let v100 = Catalog::preset("V100M16").unwrap();
        let s = normalise(&SlicingMode::Whole, &v100, &CardRequest::new(200, 1024)).unwrap();
        assert_eq!(s.compute_milli, 1000);
        assert_eq!(s.memory_mib, v100.memory_mib);
        let mut card = CardState::new(SlicingMode::Whole);
        assert_eq!(allocate(&mut card, &v100, 1, &s), Ok(Slot::Card));
        assert_eq!(
            allocate(&mut card, &v100, 2, &s),
            Err(Refusal::TenantLimit { max_tenants: 1 })
        );
        release(&mut card, &v100, 1).unwrap();
        assert_eq!(allocate(&mut card, &v100, 2, &s), Ok(Slot::Card));
    }

    #[test]
    fn whole_card_refuses_more_memory_than_the_card() {
        let v100 = Catalog::preset("V100M16").unwrap();
        let err =
            normalise(&SlicingMode::Whole, &v100, &CardRequest::new(1000, 16385)).unwrap_err();
        assert!(matches!(err, Refusal::MemoryTooLarge { .. }));
    }
}
