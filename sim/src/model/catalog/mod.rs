//! Device model catalog: one record per accelerator SKU (slicing-model §7.1 `DeviceType`).
//!
//! Datasheet facts (memory, SM / AI-core counts, MIG and vNPU tables) come from slicing-model
//! §3.1 and §4.1. Relative speeds are *defaults* that calibration replaces (§7.4); each preset
//! says where its numbers come from and which are assumptions.
//!
//! Speeds are relative to the **reference device V100 = 1.0** per job class, so that a trace's
//! service time on a V100 (the openb cluster's best-known GPU) converts directly. Memory is the
//! nominal datasheet capacity with GB read as GiB (× 1024 MiB) unless a measured value is cited.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::power::PowerSpec;

mod board_table;
mod mig_table;
mod power_table;
mod vnpu_table;

pub use board_table::{catalog_board, named_board, BOARD_NAMES};
pub use mig_table::{a100_40gb, a100_80gb, h100_80gb, h200_141gb, MigProfile, MigTable};
pub use power_table::{catalog_power, IDLE_PCT_OF_FULL};
pub use vnpu_table::{ascend_310p3, ascend_910b3, VnpuTable, VnpuTemplate};

/// Job class key for training jobs.
pub const CLASS_TRAINING: &str = "training";
/// Job class key for inference jobs.
pub const CLASS_INFERENCE: &str = "inference";
/// Fallback job class, used when a job's class has no entry.
pub const CLASS_DEFAULT: &str = "default";

/// Parameter-free name of a slicing mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModeKind {
    Whole,
    Fractional,
    Mig,
    Vnpu,
    Timeshare,
}

impl std::fmt::Display for ModeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = match self {
            ModeKind::Whole => "whole",
            ModeKind::Fractional => "fractional",
            ModeKind::Mig => "mig",
            ModeKind::Vnpu => "vnpu",
            ModeKind::Timeshare => "timeshare",
        };
        f.write_str(s)
    }
}

/// Accelerator vendor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Vendor {
    Nvidia,
    Huawei,
    /// Undisclosed (openb G1–G3).
    Unknown,
}

/// One accelerator model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceModel {
    pub name: String,
    pub vendor: Vendor,
    /// Device memory, MiB.
    pub memory_mib: u64,
    /// SMs (NVIDIA, MIG off) or AI cores (Ascend).
    pub compute_units: u32,
    /// AI CPUs (Ascend; 0 elsewhere). Binding for vNPU placement on 310P3 (§4.1).
    pub ai_cpus: u32,
    /// Relative speed per job class (V100 = 1.0); see [`DeviceModel::speed`].
    pub speed: BTreeMap<String, f64>,
    /// Slicing modes this model can be run in, sorted.
    pub slicing_modes: Vec<ModeKind>,
    pub mig: Option<MigTable>,
    pub vnpu: Option<VnpuTable>,
    /// Idle and full-load board power of one card ([`crate::model::power`]); the catalog's
    /// figures and their sources are in `power_table.rs`.
    #[serde(default = "power_table::reference_power")]
    pub power: PowerSpec,
}

impl DeviceModel {
    /// Solo speed `S` for a job class (slicing-model §7.2): the class's entry, else the
    /// `default` entry, else `None`.
    pub fn speed(&self, class: &str) -> Option<f64> {
        self.speed
            .get(class)
            .or_else(|| self.speed.get(CLASS_DEFAULT))
            .copied()
    }

    /// Whether the model can be sliced in this mode.
    pub fn supports(&self, mode: ModeKind) -> bool {
        self.slicing_modes.contains(&mode)
    }
}

/// Lookup of the preset device models.
pub struct Catalog;

/// Preset names, sorted (must match [`Catalog::preset`]).
const NAMES: &[&str] = &[
    "A10",
    "A100-40",
    "A100-80",
    "Ascend310P3",
    "Ascend910B3",
    "G1",
    "G2",
    "G3",
    "H100-80",
    "H200",
    "K80",
    "P100",
    "T4",
    "V100M16",
    "V100M32",
];

impl Catalog {
    /// Names of all presets, sorted.
    pub fn names() -> &'static [&'static str] {
        NAMES
    }

    /// The preset called `name` (exact, case-sensitive; openb codes as written in the trace),
    /// or `None`.
    pub fn preset(name: &str) -> Option<DeviceModel> {
        use ModeKind::{Fractional, Mig, Timeshare, Vnpu, Whole};
        const GPU: &[ModeKind] = &[Whole, Fractional, Timeshare];
        const MIG_GPU: &[ModeKind] = &[Whole, Fractional, Mig, Timeshare];
        let d = match name {
            // Gavel (§6.1): all-families median V100/K80 = 4.05 ⇒ K80 = 1/4.05 of the reference.
            "K80" => nvidia(name, 12, 13, &[(CLASS_DEFAULT, 1.0 / 4.05)], GPU),
            // Gavel (§6.1): all-families median P100/K80 3.32 vs V100/K80 4.05 ⇒ 3.32/4.05 = 0.82.
            // Memory 16 GB (the 12 GB variant exists; openb does not say which).
            "P100" => nvidia(name, 16, 56, &[(CLASS_DEFAULT, 3.32 / 4.05)], GPU),
            // Reference device (speed 1.0). openb V100M16 / V100M32 = V100 16 / 32 GB, 80 SMs.
            "V100M16" => nvidia(name, 16, 80, &[(CLASS_DEFAULT, 1.0)], GPU),
            "V100M32" => nvidia(name, 32, 80, &[(CLASS_DEFAULT, 1.0)], GPU),
            // ASSUMED (not in the spec): T4 is an inference card, ~1/3 of a V100 in training
            // and ~0.6 in inference. Calibrate.
            "T4" => nvidia(
                name,
                16,
                40,
                &[
                    (CLASS_DEFAULT, 0.35),
                    (CLASS_TRAINING, 0.35),
                    (CLASS_INFERENCE, 0.6),
                ],
                GPU,
            ),
            // ASSUMED (not in the spec): A10 ~0.6 of a V100 in training, ~0.8 in inference.
            "A10" => nvidia(
                name,
                24,
                72,
                &[
                    (CLASS_DEFAULT, 0.6),
                    (CLASS_TRAINING, 0.6),
                    (CLASS_INFERENCE, 0.8),
                ],
                GPU,
            ),
            // ASSUMED (not in the spec): A100 = 2.0 × V100 for every class. 108 SMs with MIG off
            // (§3.1). The 910B3 entry below is defined relative to this value (§6.3).
            "A100-40" => with_mig(
                nvidia(name, 40, 108, &[(CLASS_DEFAULT, A100)], MIG_GPU),
                a100_40gb(),
            ),
            "A100-80" => with_mig(
                nvidia(name, 80, 108, &[(CLASS_DEFAULT, A100)], MIG_GPU),
                a100_80gb(),
            ),
            // ASSUMED (not in the spec): H100 = 2 × A100 = 4.0. 132 SMs (§3.1 log: 7g.80gb 132).
            "H100-80" => with_mig(
                nvidia(name, 80, 132, &[(CLASS_DEFAULT, 4.0)], MIG_GPU),
                h100_80gb(),
            ),
            // ASSUMED (not in the spec): H200 = H100 in training (same GH100 die), 1.2 × H100 in
            // inference (more memory bandwidth). 141 GB.
            "H200" => with_mig(
                nvidia(
                    name,
                    141,
                    132,
                    &[
                        (CLASS_DEFAULT, 4.0),
                        (CLASS_TRAINING, 4.0),
                        (CLASS_INFERENCE, 4.8),
                    ],
                    MIG_GPU,
                ),
                h200_141gb(),
            ),
            // §6.3 placeholder: 910B ≈ 0.8 × A100 for training, ≈ 1.0 × A100 for inference
            // (vendor claim, wide uncertainty). 20 AI cores, 7 AI CPUs, 64 GB (§4.1). HAMi's
            // hami-vnpu-core soft slicing supports 910B3 (§2.2), hence `Fractional`.
            "Ascend910B3" => DeviceModel {
                name: name.to_string(),
                vendor: Vendor::Huawei,
                memory_mib: 64 * 1024,
                compute_units: 20,
                ai_cpus: 7,
                speed: speeds(&[
                    (CLASS_DEFAULT, 0.8 * A100),
                    (CLASS_TRAINING, 0.8 * A100),
                    (CLASS_INFERENCE, A100),
                ]),
                slicing_modes: vec![Whole, Fractional, Vnpu, Timeshare],
                mig: None,
                vnpu: Some(ascend_910b3()),
                power: catalog_power(name),
            },
            // ASSUMED speed (not in the spec): an inference card, 0.5 × V100 (T4-class). 8 AI
            // cores, 7 AI CPUs, 24 GB nominal (§4.1; HAMi allocates 21527 MB — nominal is kept
            // so that §4.1's "6 × vir01 + vir02_1c" example fits).
            "Ascend310P3" => DeviceModel {
                name: name.to_string(),
                vendor: Vendor::Huawei,
                memory_mib: 24 * 1024,
                compute_units: 8,
                ai_cpus: 7,
                speed: speeds(&[(CLASS_DEFAULT, 0.5), (CLASS_INFERENCE, 0.5)]),
                slicing_modes: vec![Whole, Vnpu, Timeshare],
                mig: None,
                vnpu: Some(ascend_310p3()),
                power: catalog_power(name),
            },
            // openb G1/G2/G3: undisclosed models (traces/openb/README.md). The FGD protocol gives
            // every GPU 1000 milli and uses the model only to match `gpu_spec` constraints, so
            // the neutral default is the reference device: speed 1.0, 32 GB, 80 SMs (a
            // V100M32), no MIG. Override in the fleet file if the model becomes known.
            "G1" | "G2" | "G3" => DeviceModel {
                vendor: Vendor::Unknown,
                ..nvidia(name, 32, 80, &[(CLASS_DEFAULT, 1.0)], GPU)
            },
            _ => return None,
        };
        Some(d)
    }
}

/// ASSUMED A100 speed relative to V100 (not in the spec); the 910B3 entry scales from it.
const A100: f64 = 2.0;

fn speeds(entries: &[(&str, f64)]) -> BTreeMap<String, f64> {
    entries.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

fn nvidia(
    name: &str,
    memory_gib: u64,
    sms: u32,
    speed: &[(&str, f64)],
    modes: &[ModeKind],
) -> DeviceModel {
    DeviceModel {
        name: name.to_string(),
        vendor: Vendor::Nvidia,
        memory_mib: memory_gib * 1024,
        compute_units: sms,
        ai_cpus: 0,
        speed: speeds(speed),
        slicing_modes: modes.to_vec(),
        mig: None,
        vnpu: None,
        power: catalog_power(name),
    }
}

fn with_mig(d: DeviceModel, table: MigTable) -> DeviceModel {
    DeviceModel {
        mig: Some(table),
        ..d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_has_a_preset_and_names_are_sorted() {
        let names = Catalog::names();
        assert!(names.windows(2).all(|w| w[0] < w[1]));
        for n in names {
            let d = Catalog::preset(n).unwrap_or_else(|| panic!("no preset {n}"));
            assert_eq!(d.name, *n);
            assert!(d.memory_mib > 0 && d.compute_units > 0);
            assert!(d.speed(CLASS_DEFAULT).unwrap() > 0.0);
            assert!(d.slicing_modes.windows(2).all(|w| w[0] < w[1]));
            assert!(d.supports(ModeKind::Whole));
            assert_eq!(d.supports(ModeKind::Mig), d.mig.is_some());
            assert_eq!(d.supports(ModeKind::Vnpu), d.vnpu.is_some());
        }
        assert!(Catalog::preset("nope").is_none());
    }

    #[test]
    fn required_presets_exist() {
        for n in [
            "V100M16",
            "V100M32",
            "T4",
            "P100",
            "A10",
            "A100-40",
            "A100-80",
            "H100-80",
            "H200",
            "Ascend910B3",
            "Ascend310P3",
            "G1",
            "G2",
            "G3",
        ] {
            assert!(Catalog::preset(n).is_some(), "{n}");
        }
    }

    #[test]
    fn speeds_follow_the_spec() {
        let s = |n: &str, c: &str| Catalog::preset(n).unwrap().speed(c).unwrap();
        assert_eq!(s("V100M16", CLASS_TRAINING), 1.0); // falls back to default
        assert!((s("P100", CLASS_DEFAULT) - 0.8198).abs() < 1e-3); // Gavel 3.32/4.05
        assert!(
            (s("Ascend910B3", CLASS_TRAINING) - 0.8 * s("A100-40", CLASS_TRAINING)).abs() < 1e-12
        );
        assert_eq!(
            s("Ascend910B3", CLASS_INFERENCE),
            s("A100-40", CLASS_INFERENCE)
        );
    }

    #[test]
    fn mig_tables_are_within_the_card() {
        for n in ["A100-40", "A100-80", "H100-80", "H200"] {
            let d = Catalog::preset(n).unwrap();
            let t = d.mig.as_ref().unwrap();
            assert_eq!((t.memory_slices, t.compute_slices), (8, 7));
            for p in &t.profiles {
                assert!(p.memory_mib <= d.memory_mib, "{n} {}", p.name);
                assert!(p.sm_count <= t.full_card_sm_count);
                assert!(p.legal_starts.iter().all(|s| s + p.memory_slices <= 8));
            }
        }
    }
}
