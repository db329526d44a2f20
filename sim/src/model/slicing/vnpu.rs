//! vNPU mode: Ascend hard-partition templates (slicing-model §4.1; §7.1 row "Ascend vNPU
//! template t": a = c = cores(t)/cores(chip), memory hard, partition).
//!
//! Placement rules: Σ AI cores ≤ chip AI cores, Σ AI CPUs ≤ chip AI CPUs (the binding limit on
//! 310P3: 8 cores but 7 AI CPUs), Σ memory ≤ chip memory, at most `max_instances` vNPUs. A
//! request larger than every template gets the whole chip, which needs a chip with no vNPU
//! ([`normalise`], [`fits_whole_chip`]).

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
///
/// A request no template holds — more AI cores or memory than the largest template, a whole
/// card above all — gets the whole chip, unsplit ([`SliceKind::Whole`]: every AI core, AI CPU
/// and MiB, on a chip with no vNPU on it), as the real stack does: HAMi's Ascend device
/// (`pkg/device/ascend/device.go`, `trimMemory`) maps a memory request above every template
/// but within the chip to the chip's whole allocatable memory with no template, i.e. the
/// whole NPU (slicing-model §2.4), and a job asking for no memory gets the whole NPU there
/// too. Only a request for more memory than the chip has is refused.
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
        super::memory_within(request.memory_mib, device.memory_mib)?;
        return Ok(whole_chip(device, request.priority_class));
    };
    let index = u8::try_from(index).map_err(|_| Refusal::UnknownSlice)?;
    slice_for(device, index, request.priority_class)
}

/// The unsplit chip: all of its compute and memory, a hard partition of its own.
fn whole_chip(device: &DeviceModel, priority_class: u8) -> SliceRequest {
    SliceRequest {
        kind: SliceKind::Whole,
        compute_milli: WHOLE_CARD_MILLI,
        cap_milli: WHOLE_CARD_MILLI,
        memory_mib: device.memory_mib,
        memory: MemoryEnforcement::Hard,
        isolation: Isolation::Partition,
        weight_milli: 0,
        priority_class,
    }
}

/// The whole chip fits only a chip with no vNPU on it: all AI cores, AI CPUs and memory free.
pub fn fits_whole_chip(card: &CardState, device: &DeviceModel) -> Result<Slot, Refusal> {
    let free_cores = device.compute_units.saturating_sub(card.ai_cores);
    if free_cores < device.compute_units || !card.is_empty() {
        return Err(Refusal::AiCoresExhausted {
            requested: device.compute_units,
            free: free_cores,
        });
    }
    super::memory_free(card, device, device.memory_mib)?;
    Ok(Slot::Card)
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
                                                 // 12 cores: more than the largest template (vir10) → the whole chip.
        let whole = normalise_any(&SlicingMode::Vnpu, &b, &CardRequest::new(600, 0)).unwrap();
        assert_eq!(
            (whole.kind, whole.compute_milli, whole.memory_mib),
            (SliceKind::Whole, 1000, 65536)
        );
        let p = Catalog::preset("Ascend310P3").unwrap();
        let s = normalise_any(&SlicingMode::Vnpu, &p, &CardRequest::new(250, 0)).unwrap();
        // 2 cores: vir02_1c beats vir02 (fewer AI CPUs).
        assert_eq!(s.kind, SliceKind::Vnpu { template_index: 2 });
    }

    #[test]
    fn request_no_template_holds_gets_the_whole_chip_or_is_refused_above_its_memory() {
        let b = Catalog::preset("Ascend910B3").unwrap();
        let whole = |c, m| {
            let s = normalise_any(&SlicingMode::Vnpu, &b, &CardRequest::new(c, m)).unwrap();
            (s.kind, s.compute_milli, s.memory_mib)
        };
        // A whole card, a 40 GiB request (over vir10's 32 GiB) and a full-memory request.
        for (c, m) in [(1000, 65536), (1000, 0), (100, 40960), (510, 0)] {
            assert_eq!(whole(c, m), (SliceKind::Whole, 1000, 65536), "{c} {m}");
        }
        assert_eq!(
            normalise_any(&SlicingMode::Vnpu, &b, &CardRequest::new(1000, 65537)),
            Err(Refusal::MemoryTooLarge {
                requested_mib: 65537,
                limit_mib: 65536
            })
        );
    }

    #[test]
    fn whole_chip_needs_an_unsplit_chip_and_blocks_templates() {
        let b = Catalog::preset("Ascend910B3").unwrap();
        let chip = normalise_any(&SlicingMode::Vnpu, &b, &CardRequest::new(1000, 0)).unwrap();
        let quarter = named(&b, "vir05_1c_16g");
        // A vNPU on the chip: the whole chip no longer fits.
        let mut card = CardState::new(SlicingMode::Vnpu);
        allocate(&mut card, &b, 1, &quarter).unwrap();
        assert_eq!(
            fits_any(&card, &b, &chip),
            Err(Refusal::AiCoresExhausted {
                requested: 20,
                free: 15
            })
        );
        release(&mut card, &b, 1).unwrap();
        // The whole chip takes every core, CPU and MiB; nothing else fits beside it.
        assert_eq!(allocate(&mut card, &b, 2, &chip), Ok(Slot::Card));
        assert_eq!(card.vnpu_used(), (20, 7));
        assert_eq!(card.allocated_compute_milli(), 1000);
        assert_eq!(card.allocated_memory_mib(), 65536);
        assert!(fits_any(&card, &b, &quarter).is_err());
        assert!(fits_any(&card, &b, &chip).is_err());
        release(&mut card, &b, 2).unwrap();
        assert_eq!(card.vnpu_used(), (0, 0));
        assert_eq!(allocate(&mut card, &b, 3, &quarter), Ok(Slot::Card));
    }
}
