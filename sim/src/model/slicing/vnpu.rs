//! vNPU mode: Ascend hard-partition templates (slicing-model §4.1; §7.1 row "Ascend vNPU
//! template t": a = c = cores(t)/cores(chip), memory hard, partition).
//!
//! Placement rules: Σ AI cores ≤ chip AI cores, Σ AI CPUs ≤ chip AI CPUs (the binding limit on
//! 310P3: 8 cores but 7 AI CPUs), Σ memory ≤ chip memory, at most `max_instances` vNPUs.

use super::{
    CardRequest, CardState, Isolation, MemoryEnforcement, Refusal, SliceKind, SliceRequest, Slot,
    WHOLE_CARD_MILLI,
};
use crate::model::catalog::{DeviceModel, VnpuTemplate};

/// Guaranteed compute of a template on `device`, thousandths of the chip.
pub fn compute_milli(device: &DeviceModel, template: &VnpuTemplate) -> u32 {
    if device.compute_units == 0 {
        return 0;
    }
    let m = u64::from(template.ai_cores) * u64::from(WHOLE_CARD_MILLI)
        / u64::from(device.compute_units);
    m.min(u64::from(WHOLE_CARD_MILLI)) as u32
}

/// The smallest template (by AI cores, then AI CPUs, then memory, then table order) with at
/// least `ceil(compute × chip cores)` AI cores and enough memory. HAMi rounds memory up to the
/// smallest template with enough memory (§2.4); we round both dimensions. Fewer AI CPUs win
/// ties because AI CPUs bind on 310P3.
pub fn normalise(device: &DeviceModel, request: &CardRequest) -> Result<SliceRequest, Refusal> {
    let table = device.vnpu.as_ref().ok_or(Refusal::NoVnpuTable)?;
    let cores_needed = (u64::from(request.compute_milli) * u64::from(device.compute_units))
        .div_ceil(u64::from(WHOLE_CARD_MILLI));
    let best = table
        .templates
        .iter()
        .enumerate()
        .filter(|(_, t)| {
            u64::from(t.ai_cores) >= cores_needed && t.memory_mib >= request.memory_mib
        })
        .min_by_key(|(i, t)| (t.ai_cores, t.ai_cpus, t.memory_mib, *i));
    let Some((index, _)) = best else {
        let largest = table
            .templates
            .iter()
            .map(|t| t.memory_mib)
            .max()
            .unwrap_or(0);
        return Err(super::no_fit(
            request.memory_mib,
            largest,
            Refusal::NoTemplateFits,
        ));
    };
    let index = u8::try_from(index).map_err(|_| Refusal::UnknownSlice)?;
    slice_for(device, index, request.priority_class)
}

/// The slice of an explicitly named template (e.g. "vir02_1c").
pub fn normalise_named(
    device: &DeviceModel,
    name: &str,
    priority_class: u8,
) -> Result<SliceRequest, Refusal> {
    let table = device.vnpu.as_ref().ok_or(Refusal::NoVnpuTable)?;
    let index = table.template_index(name).ok_or(Refusal::NoTemplateFits)?;
    slice_for(device, index, priority_class)
}

fn slice_for(
    device: &DeviceModel,
    template_index: u8,
    priority_class: u8,
) -> Result<SliceRequest, Refusal> {
    let t = device
        .vnpu
        .as_ref()
        .and_then(|v| v.templates.get(usize::from(template_index)))
        .ok_or(Refusal::UnknownSlice)?;
    let a = compute_milli(device, t);
    Ok(SliceRequest {
        kind: SliceKind::Vnpu { template_index },
        compute_milli: a,
        cap_milli: a,
        memory_mib: t.memory_mib,
        memory: MemoryEnforcement::Hard,
        isolation: Isolation::Partition,
        weight_milli: 0,
        priority_class,
    })
}

/// Instance cap, then AI cores, then AI CPUs, then memory.
pub fn fits(card: &CardState, device: &DeviceModel, template_index: u8) -> Result<Slot, Refusal> {
    let table = device.vnpu.as_ref().ok_or(Refusal::NoVnpuTable)?;
    let t = table
        .templates
        .get(usize::from(template_index))
        .ok_or(Refusal::UnknownSlice)?;
    if card.tenants().len() >= table.max_instances as usize {
        return Err(Refusal::TenantLimit {
            max_tenants: table.max_instances,
        });
    }
    let free_cores = device.compute_units.saturating_sub(card.ai_cores);
    if t.ai_cores > free_cores {
        return Err(Refusal::AiCoresExhausted {
            requested: t.ai_cores,
            free: free_cores,
        });
    }
    let free_cpus = device.ai_cpus.saturating_sub(card.ai_cpus);
    if t.ai_cpus > free_cpus {
        return Err(Refusal::AiCpusExhausted {
            requested: t.ai_cpus,
            free: free_cpus,
        });
    }
    super::memory_free(card, device, t.memory_mib)?;
    Ok(Slot::Card)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::catalog::Catalog;
    use crate::model::slicing::{
        allocate, fits as fits_any, normalise as normalise_any, release, SlicingMode,
    };

    fn named(d: &DeviceModel, n: &str) -> SliceRequest {
        normalise_named(d, n, 0).unwrap()
    }

    #[test]
    fn ai_cpu_limit_binds_on_310p3() {
        // §4.1: after 6 × vir01 only one more vir01 or vir02_1c fits. vir02 (2 cores, 2 CPUs)
        // fits the cores (6 + 2 = 8 ≤ 8) but not the AI CPUs (6 + 2 = 8 > 7).
        let p = Catalog::preset("Ascend310P3").unwrap();
        let mut card = CardState::new(SlicingMode::Vnpu);
        for id in 0..6 {
            allocate(&mut card, &p, id, &named(&p, "vir01")).unwrap();
        }
        assert_eq!(card.vnpu_used(), (6, 6));
        assert_eq!(
            fits_any(&card, &p, &named(&p, "vir02")),
            Err(Refusal::AiCpusExhausted {
                requested: 2,
                free: 1
            })
        );
        assert_eq!(fits_any(&card, &p, &named(&p, "vir01")), Ok(Slot::Card));
        assert_eq!(
            allocate(&mut card, &p, 6, &named(&p, "vir02_1c")),
            Ok(Slot::Card)
        );
        assert_eq!(card.vnpu_used(), (8, 7));

        // Two vir04 = 8 cores (fits) but 8 AI CPUs (does not); vir04 + vir04_3c = 7 CPUs fits.
        let mut card = CardState::new(SlicingMode::Vnpu);
        allocate(&mut card, &p, 0, &named(&p, "vir04")).unwrap();
        assert_eq!(
            fits_any(&card, &p, &named(&p, "vir04")),
            Err(Refusal::AiCpusExhausted {
                requested: 4,
                free: 3
            })
        );
        assert_eq!(
            allocate(&mut card, &p, 1, &named(&p, "vir04_3c")),
            Ok(Slot::Card)
        );
        release(&mut card, &p, 0).unwrap();
        assert_eq!(card.vnpu_used(), (4, 3));
    }

    #[test]
    fn seven_vir01_then_instance_limit_on_310p3() {
        let p = Catalog::preset("Ascend310P3").unwrap();
        let mut card = CardState::new(SlicingMode::Vnpu);
        for id in 0..7 {
            allocate(&mut card, &p, id, &named(&p, "vir01")).unwrap();
        }
        // 7 cores and 7 CPUs used; the 8th is refused by the instance cap first.
        assert_eq!(
            fits_any(&card, &p, &named(&p, "vir01")),
            Err(Refusal::TenantLimit { max_tenants: 7 })
        );
    }

    #[test]
    fn ai_core_sum_bounded_on_910b3() {
        let b = Catalog::preset("Ascend910B3").unwrap();
        let mut card = CardState::new(SlicingMode::Vnpu);
        allocate(&mut card, &b, 0, &named(&b, "vir10_3c_32g")).unwrap();
        allocate(&mut card, &b, 1, &named(&b, "vir05_1c_16g")).unwrap();
        assert_eq!(
            fits_any(&card, &b, &named(&b, "vir10_3c_32g")),
            Err(Refusal::AiCoresExhausted {
                requested: 10,
                free: 5
            })
        );
        allocate(&mut card, &b, 2, &named(&b, "vir05_1c_16g")).unwrap();
        assert_eq!(card.vnpu_used(), (20, 5));
        assert_eq!(card.allocated_memory_mib(), 65536);
        assert_eq!(card.allocated_compute_milli(), 1000);
    }

    #[test]
    fn request_normalises_to_smallest_template() {
        let b = Catalog::preset("Ascend910B3").unwrap();
        let t = |c, m| {
            let s = normalise_any(&SlicingMode::Vnpu, &b, &CardRequest::new(c, m)).unwrap();
            (s.compute_milli, s.memory_mib)
        };
        assert_eq!(t(100, 0), (250, 16384)); // 2 cores → vir05
        assert_eq!(t(250, 0), (250, 16384));
        assert_eq!(t(260, 0), (500, 32768)); // 5.2 cores → vir10
        assert_eq!(t(100, 20000), (500, 32768)); // memory rounds up (HAMi §2.4)
        assert_eq!(
            normalise_any(&SlicingMode::Vnpu, &b, &CardRequest::new(600, 0)),
            Err(Refusal::NoTemplateFits)
        );
        let p = Catalog::preset("Ascend310P3").unwrap();
        let s = normalise_any(&SlicingMode::Vnpu, &p, &CardRequest::new(250, 0)).unwrap();
        // 2 cores: vir02_1c beats vir02 (fewer AI CPUs).
        assert_eq!(s.kind, SliceKind::Vnpu { template_index: 2 });
    }
}
