//! Board power of each catalog model: idle and full load (issue 13, "Energy";
//! [`crate::model::power`] says how the two figures are used).
//!
//! **Full load** is the vendor's maximum board power (NVIDIA: "Max thermal design power" /
//! "Max power consumption" of the product datasheet; Huawei: the product's maximum power
//! consumption). Where a model is sold both as an SXM (HGX/DGX) module and as a PCIe card, the
//! SXM figure is used — the training nodes these catalog entries stand for are SXM boards — and
//! the PCIe figure is noted; a fleet of PCIe cards gives its own figures with a calibration
//! profile (`measured.power_idle_w` / `power_full_w`).
//!
//! **Idle** is a published reading where one exists (V100-SXM2), otherwise the stated rule
//! [`IDLE_PCT_OF_FULL`]: 15 % of full load. Two published idle readings with a CUDA context and
//! no work bracket it: a V100-SXM2 at 53 W of 300 W (17.7 %; `nvidia-smi` output in
//! github.com/zai-org/GLM-130B issue #32, "P0 53W / 300W ... 0%") and a B200 at 137 W of
//! 1000 W (13.7 %; github.com/ROCm/legacy-rocm-build issue #5219, "air cooled B200 idle power
//! draw 137W"). Cards without a context idle lower (arXiv:2605.23918, "The Model Parking Tax":
//! the CUDA context costs 26–50 W over bare idle on A100 and H100), so 15 % is an upper-side
//! figure for an empty card; calibration replaces it.

use crate::model::power::PowerSpec;

/// Idle power as a share of full-load power where no idle reading is published, percent:
/// between the two published readings cited above (13.7 % and 17.7 %).
pub const IDLE_PCT_OF_FULL: u64 = 15;

/// Full-load figure in watts with idle by the [`IDLE_PCT_OF_FULL`] rule.
const fn by_rule(full_w: u64) -> PowerSpec {
    let full = PowerSpec::catalog_w(0, full_w);
    PowerSpec {
        idle_mw: full.full_mw * IDLE_PCT_OF_FULL / 100,
        ..full
    }
}

/// The reference device's figures (V100-SXM2; see [`catalog_power`]): the neutral default for
/// models the catalog does not know, as for speed and memory.
pub fn reference_power() -> PowerSpec {
    // NVIDIA Tesla V100 datasheet (2017/2020, "V100 SXM2: Max Power Consumption 300 W; V100
    // PCIe: 250 W"); idle 53 W read with nvidia-smi on a V100-SXM2 with a CUDA context and 0 %
    // utilization (github.com/zai-org/GLM-130B issue #32).
    PowerSpec::catalog_w(53, 300)
}

/// The catalog's idle and full-load power of device model `name`; a name the catalog does not
/// know gets `reference_power`.
pub fn catalog_power(name: &str) -> PowerSpec {
    match name {
        // NVIDIA Tesla K80 datasheet: 300 W for the dual-GPU board; a catalog K80 is one of its
        // two GK210 GPUs (12 GB, 13 SMs), so half: 150 W. Idle by rule.
        "K80" => by_rule(150),
        // NVIDIA Tesla P100 datasheet: SXM2 300 W (PCIe 250 W). Idle by rule.
        "P100" => by_rule(300),
        // See `reference_power`.
        "V100M16" | "V100M32" => reference_power(),
        // NVIDIA T4 datasheet: 70 W max power (PCIe only). Idle by rule.
        "T4" => by_rule(70),
        // NVIDIA A10 datasheet: 150 W max TDP (PCIe only). Idle by rule.
        "A10" => by_rule(150),
        // NVIDIA A100 datasheet (40GB and 80GB): SXM4 400 W max TDP (PCIe 250 W for 40GB, 300 W
        // for 80GB). Idle by rule.
        "A100-40" | "A100-80" => by_rule(400),
        // NVIDIA H100 datasheet: SXM5 up to 700 W max TDP (PCIe 300–350 W). Idle by rule.
        "H100-80" => by_rule(700),
        // NVIDIA H200 datasheet: SXM up to 700 W max TDP (NVL 600 W); MLCommons inference v4.1
        // system description H200-SXM-141GBx8 ("H200 TGP 700W"). Idle by rule.
        "H200" => by_rule(700),
        // ASSUMED 400 W: no Huawei datasheet figure for the Ascend 910B3 module was found.
        // Huawei announced the first Ascend 910 at 310 W maximum (Huawei Connect 2019); 910B
        // modules of the Atlas 800T A2 are reported at about 400 W. Calibrate (DCMI
        // `dcmi_get_device_power_info`, calibration.md §4.4). Idle by rule.
        "Ascend910B3" => by_rule(400),
        // Huawei Atlas 300I Pro inference card datasheet (one Ascend 310P3): 72 W maximum power
        // consumption. Idle by rule.
        "Ascend310P3" => by_rule(72),
        // openb G1/G2/G3 are undisclosed models; like their speed and memory, their power is the
        // reference device's.
        _ => reference_power(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::catalog::Catalog;

    #[test]
    fn every_preset_has_power_with_idle_below_full_load() {
        for n in Catalog::names() {
            let p = Catalog::preset(n).unwrap().power;
            assert!(p.idle_mw > 0 && p.idle_mw < p.full_mw, "{n}: {p:?}");
        }
        assert_eq!(catalog_power("T4").idle_mw, 10_500); // 15 % of 70 W
        assert_eq!(catalog_power("H100-80").full_w(), 700.0);
        assert_eq!(catalog_power("G2"), reference_power());
    }
}
