//! Device profile files: a [`DeviceProfile`] as TOML, read by fleet files and written by
//! `flexsim calibrate`. The profile's fields and their ranges are the model's
//! ([`crate::model::profile`]); this file is only the format.

use std::path::{Path, PathBuf};

use crate::model::profile::DeviceProfile;

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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::profile::*;

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
                power_idle_w: Some(56.5),
                power_full_w: Some(398.0),
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
    fn misspelt_profile_field_is_refused() {
        let text = toml::to_string(&sample())
            .unwrap()
            .replace("interference =", "interferense =");
        assert!(text.contains("interferense"), "{text}");
        let e = DeviceProfile::from_toml_str(&text, Path::new("p.toml")).unwrap_err();
        let e = e.to_string();
        assert!(
            e.contains("p.toml") && e.contains("unknown field `interferense`"),
            "{e}"
        );
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

        let mut p = sample();
        p.measured.power_full_w = None;
        let text = toml::to_string(&p).unwrap();
        let e = DeviceProfile::from_toml_str(&text, Path::new("power.toml")).unwrap_err();
        assert!(e.to_string().contains("power_full_w come together"), "{e}");
        p.measured.power_full_w = Some(40.0);
        let text = toml::to_string(&p).unwrap();
        let e = DeviceProfile::from_toml_str(&text, Path::new("power.toml")).unwrap_err();
        assert!(e.to_string().contains("exceeds full-load"), "{e}");
    }
}
