//! Device profiles: what `flexsim calibrate` measured on a real accelerator.
//!
//! The type lives in the sim crate (not in `flexsim-calibrate`) so that fleet files can read a
//! profile without linking any FFI (DESIGN.md, "Dependencies point one way"). A profile has three
//! parts, written as TOML:
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
use std::path::{Path, PathBuf};

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
pub struct MigPlacement {
    pub start: u32,
    pub size: u32,
}

/// A value measured with `copies` concurrent copies of the workload on one device.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PerCopies {
    pub copies: u32,
    pub value: f64,
}

/// Parameters of slicing-model.md §7.2 filled by a workload run (§7.4). All optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
}

/// How the profile was produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

/// Errors reading or writing a profile; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("cannot read device profile {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("device profile {} is not valid TOML for a profile: {source}", path.display())]
    Parse {
        path: PathBuf,
        #[source]
        source: Box<toml::de::Error>,
    },
    #[error("device profile {}: {reason}", path.display())]
    Invalid { path: PathBuf, reason: String },
    #[error("cannot encode device profile for {}: {source}", path.display())]
    Encode {
        path: PathBuf,
        #[source]
        source: toml::ser::Error,
    },
    #[error("cannot write device profile {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl DeviceProfile {
    /// Reads and validates a profile.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ProfileError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ProfileError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml_str(&text, path)
    }

    /// Parses and validates a profile; `path` is used only in error messages.
    pub fn from_toml_str(text: &str, path: &Path) -> Result<Self, ProfileError> {
        let profile: DeviceProfile = toml::from_str(text).map_err(|e| ProfileError::Parse {
            path: path.to_path_buf(),
            source: Box::new(e),
        })?;
        profile.validate().map_err(|reason| ProfileError::Invalid {
            path: path.to_path_buf(),
            reason,
        })?;
        Ok(profile)
    }

    /// The profile as TOML text.
    pub fn to_toml_string(&self, path: &Path) -> Result<String, ProfileError> {
        toml::to_string_pretty(self).map_err(|source| ProfileError::Encode {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Writes the profile, creating parent directories.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), ProfileError> {
        let path = path.as_ref();
        let text = self.to_toml_string(path)?;
        let write_err = |source| ProfileError::Write {
            path: path.to_path_buf(),
            source,
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(write_err)?;
        }
        std::fs::write(path, text).map_err(write_err)
    }

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
        per_k("speed_rel", &m.speed_rel, f64::MAX)?;
        per_k("busy_share", &m.busy_share, 1.0)?;
        per_k("timeslice_overhead", &m.timeslice_overhead, 1.0)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> DeviceProfile {
        DeviceProfile {
            format_version: PROFILE_FORMAT_VERSION,
            inventory: Inventory {
                backend: Backend::Nvml,
                device_index: 0,
                model: "NVIDIA A100-SXM4-40GB".into(),
                memory_mib: Some(40_960),
                sm_count: Some(108),
                ai_core_count: None,
                architecture: Some("Ampere".into()),
                driver_version: Some("550.54.15".into()),
                cuda_driver_version: Some("12.4".into()),
                cann_version: None,
                mig_supported: Some(true),
                mig_enabled: Some(false),
                vnpu_supported: Some(false),
                is_virtual: None,
                mig_profiles: vec![MigProfile {
                    profile_index: 0,
                    profile_id: 19,
                    slice_count: 1,
                    instance_count: 7,
                    sm_count: 14,
                    memory_mib: 4864,
                    copy_engine_count: 1,
                    placements: vec![
                        MigPlacement { start: 0, size: 1 },
                        MigPlacement { start: 1, size: 1 },
                    ],
                }],
            },
            measured: Measured {
                demand: Some(0.93),
                solo_throughput: Some(1520.5),
                speed_rel: Some(vec![
                    PerCopies {
                        copies: 1,
                        value: 1.0,
                    },
                    PerCopies {
                        copies: 2,
                        value: 0.47,
                    },
                ]),
                busy_share: None,
                interference: Some(0.12),
                timeslice_overhead: Some(vec![PerCopies {
                    copies: 2,
                    value: 0.06,
                }]),
            },
            provenance: Provenance {
                backend: Backend::Nvml,
                command: "flexsim calibrate --backend nvml --device 0".into(),
                workload: Some("python bench.py".into()),
                colocate: vec![1, 2],
                seconds: Some(30.0),
                wall_seconds: 95.25,
                date: "2026-11-03T09:12:44Z".into(),
                throughput_source: Some("printed".into()),
                utilization_source: Some("nvml utilization_rates.gpu".into()),
                flexsim_version: "0.1.0".into(),
                notes: vec!["sm_count derived".into()],
            },
        }
    }

    #[test]
    fn profile_round_trips_through_toml_file() {
        let dir = std::env::temp_dir().join(format!("flexsim-profile-{}", std::process::id()));
        let path = dir.join("nested").join("a100.toml");
        let p = sample();
        p.save(&path).unwrap();
        let back = DeviceProfile::load(&path).unwrap();
        assert_eq!(p, back);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn inventory_only_profile_round_trips() {
        let mut p = sample();
        p.measured = Measured::default();
        p.inventory.mig_profiles.clear();
        p.inventory.sm_count = None;
        let text = p.to_toml_string(Path::new("x.toml")).unwrap();
        assert!(!text.contains("demand"));
        let back = DeviceProfile::from_toml_str(&text, Path::new("x.toml")).unwrap();
        assert_eq!(p, back);
    }

    #[test]
    fn errors_name_the_file() {
        let missing = Path::new("/nonexistent/dir/h100.toml");
        let e = DeviceProfile::load(missing).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/dir/h100.toml"), "{e}");

        let e = DeviceProfile::from_toml_str("format_version = 1\n", Path::new("bad.toml"))
            .unwrap_err();
        assert!(matches!(e, ProfileError::Parse { .. }));
        assert!(e.to_string().contains("bad.toml"), "{e}");

        let mut p = sample();
        p.measured.demand = Some(1.5);
        let text = toml::to_string(&p).unwrap();
        let e = DeviceProfile::from_toml_str(&text, Path::new("range.toml")).unwrap_err();
        assert!(e.to_string().contains("range.toml"), "{e}");
        assert!(e.to_string().contains("measured.demand"), "{e}");
    }
}
