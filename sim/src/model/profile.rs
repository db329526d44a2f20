//! Device profiles: what `flexsim calibrate` measured on a real accelerator.
//!
//! The type lives in the sim crate (not in `flexsim-calibrate`) so that fleet files can read a
//! profile without linking any FFI (DESIGN.md, "Dependencies point one way"). A profile has three
//! parts, written as TOML by
//! [`crate::input::profile_file`]:
//!
//! * `[inventory]` — datasheet-like facts read from the driver (slicing-model.md §7.4, first rows);
//! * `[measured]` — the model parameters of slicing-model.md §7.2 that a workload run fills:
//!   demand `u`, relative per-copy speed, the spatial interference coefficient ι and the
//!   time-slice overhead `o_ts(k)`. Every one is optional: a profile without a workload run has
//!   none, and the simulator keeps its defaults for what is missing;
//! * `[provenance]` — how, when and with which backend the numbers were obtained.
//!
//! Units are in the field names (`memory_mib`, `seconds`); fractions are in 0..=1.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Version of the profile format written by this code; bumped on incompatible changes.
pub const PROFILE_FORMAT_VERSION: u32 = 1;

/// Which driver library the profile was read through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// NVIDIA, through NVML (calibration.md §5.1).
    Nvml,
    /// Huawei Ascend, through AscendCL with DCMI as fallback (calibration.md §4.3, §4.4).
    Acl,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Nvml => "nvml",
            Backend::Acl => "acl",
        })
    }
}

/// One calibrated device (one card, or one NPU chip).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceProfile {
    /// [`PROFILE_FORMAT_VERSION`] at the time of writing.
    pub format_version: u32,
    pub inventory: Inventory,
    #[serde(default)]
    pub measured: Measured,
    pub provenance: Provenance,
}

/// Facts read from the driver. Fields a driver or library version cannot give are `None`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inventory {
    pub backend: Backend,
    /// Device index as the backend numbers it (NVML index, ACL logical device id).
    pub device_index: u32,
    /// Model name as the driver reports it, e.g. "NVIDIA H100 80GB HBM3" or "Ascend910B3".
    pub model: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_mib: Option<u64>,
    /// Streaming multiprocessors (NVIDIA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sm_count: Option<u32>,
    /// AI cores (Ascend).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ai_core_count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cuda_driver_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cann_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mig_supported: Option<bool>,
    /// Whether MIG mode was on when read (never changed by calibration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mig_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vnpu_supported: Option<bool>,
    /// Whether the device itself is a vNPU (ACL `IS_VIRTUAL`, calibration.md §4.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_virtual: Option<bool>,
    /// MIG GPU-instance profiles with their legal placements (slicing-model.md §3.1, §7.4).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mig_profiles: Vec<MigProfile>,
}

/// One NVML GPU-instance profile (`nvmlDeviceGetGpuInstanceProfileInfo`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MigProfile {
    /// The `NVML_GPU_INSTANCE_PROFILE_*` index the profile was queried with.
    pub profile_index: u32,
    /// NVML's profile id (the one `nvidia-smi mig -lgip` shows).
    pub profile_id: u32,
    pub slice_count: u32,
    /// How many instances of this profile fit on the card.
    pub instance_count: u32,
    pub sm_count: u32,
    /// NVML calls it `memorySizeMB`; the value is in MiB.
    pub memory_mib: u64,
    pub copy_engine_count: u32,
    /// Legal (start, size) placements in memory slices.
    #[serde(default)]
    pub placements: Vec<MigPlacement>,
}

/// A legal placement of a MIG profile: `size` memory slices starting at slice `start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MigPlacement {
    pub start: u32,
    pub size: u32,
}

/// A value measured with `copies` concurrent copies of the workload on one device.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerCopies {
    pub copies: u32,
    pub value: f64,
}

/// Parameters of slicing-model.md §7.2 filled by a workload run (§7.4). All optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Measured {
    /// Solo demand `u`: mean busy share of the device while one copy runs, 0..=1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub demand: Option<f64>,
    /// Solo throughput in the workload's own units per second (or 1/completion seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub solo_throughput: Option<f64>,
    /// Throughput per copy relative to solo, for each k copies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed_rel: Option<Vec<PerCopies>>,
    /// Mean device busy share while k copies ran, 0..=1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub busy_share: Option<Vec<PerCopies>>,
    /// Spatial interference coefficient ι (§7.2 step 3), fitted over all k ≥ 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interference: Option<f64>,
    /// Time-slice overhead `o_ts(k)` (§7.2 step 2, §7.4), for each k where the device was saturated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeslice_overhead: Option<Vec<PerCopies>>,
    /// Board power with no work on the device, watts (NVML `nvmlDeviceGetPowerUsage`, mW / 1000;
    /// DCMI `dcmi_get_device_power_info` on Ascend — calibration.md §4.4, §5.1). With
    /// `power_full_w` it replaces the catalog's figures ([`crate::model::power`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power_idle_w: Option<f64>,
    /// Board power with the device saturated (busy share 1), watts, read as `power_idle_w`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power_full_w: Option<f64>,
}

/// How the profile was produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    pub backend: Backend,
    /// The calibrate command line that produced the profile.
    pub command: String,
    /// The user's workload command, if one was run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<String>,
    /// Copy counts that were run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub colocate: Vec<u32>,
    /// The `--seconds` limit per run, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
    /// Wall-clock seconds the whole calibration took.
    pub wall_seconds: f64,
    /// UTC time of the run, RFC 3339 (e.g. "2026-11-03T09:12:44Z").
    pub date: String,
    /// Where throughput numbers came from: "printed" (`FLEXSIM_THROUGHPUT=`) or "completion-time".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throughput_source: Option<String>,
    /// Which utilisation counter gave demand and busy share.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utilization_source: Option<String>,
    /// flexsim version that wrote the profile.
    pub flexsim_version: String,
    /// Degradations and caveats: missing symbols, values derived rather than read, clamps.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl DeviceProfile {
    /// Checks ranges the simulator relies on; the message says which field is wrong.
    pub fn validate(&self) -> Result<(), String> {
        if self.format_version != PROFILE_FORMAT_VERSION {
            return Err(format!(
                "format_version {} is not supported (this flexsim reads {})",
                self.format_version, PROFILE_FORMAT_VERSION
            ));
        }
        let m = &self.measured;
        let fraction = |name: &str, v: f64| {
            if v.is_finite() && (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(format!("measured.{name} = {v} is outside 0..=1"))
            }
        };
        if let Some(d) = m.demand {
            fraction("demand", d)?;
        }
        if let Some(i) = m.interference {
            fraction("interference", i)?;
        }
        if let Some(t) = m.solo_throughput {
            if !(t.is_finite() && t > 0.0) {
                return Err(format!("measured.solo_throughput = {t} must be > 0"));
            }
        }
        let per_k = |name: &str, list: &Option<Vec<PerCopies>>, max: f64| {
            for p in list.iter().flatten() {
                if p.copies == 0 {
                    return Err(format!("measured.{name}: copies must be >= 1"));
                }
                if !(p.value.is_finite() && p.value >= 0.0 && p.value <= max) {
                    return Err(format!(
                        "measured.{name} for {} copies = {} is outside 0..={max}",
                        p.copies, p.value
                    ));
                }
            }
            Ok(())
        };
        if m.power_idle_w.is_some() || m.power_full_w.is_some() {
            match (m.power_idle_w, m.power_full_w) {
                (Some(idle), Some(full)) => {
                    crate::model::power::PowerSpec::from_watts(
                        idle,
                        full,
                        crate::model::power::PowerSource::Profile,
                    )
                    .map_err(|e| format!("measured.power_idle_w / power_full_w: {e}"))?;
                }
                _ => {
                    return Err(
                        "measured.power_idle_w and measured.power_full_w come together: \
                         one without the other cannot replace the catalog's two figures"
                            .into(),
                    )
                }
            }
        }
        per_k("speed_rel", &m.speed_rel, f64::MAX)?;
        per_k("busy_share", &m.busy_share, 1.0)?;
        per_k("timeslice_overhead", &m.timeslice_overhead, 1.0)?;
        Ok(())
    }
}
