//! `flexsim-calibrate`: reads real accelerators into a [`DeviceProfile`] that fleet files use
//! in place of the defaults of slicing-model.md (§7.4 lists which measurement fills which
//! parameter). All FFI of flexsim lives in this crate.
//!
//! # Read-only
//! Calibration only reads and runs the user's workload. It never changes a device's settings
//! (MIG mode, clocks, power limits, compute mode) and never resets a device (calibration.md,
//! "Rules"): only query functions of NVML, AscendCL and DCMI are bound or called. The one ACL
//! call with a side effect is `aclrtSetDevice`, used only when the memory size cannot be read
//! otherwise; it creates this process's context, which `aclrtResetDevice` releases.
//!
//! # Libraries
//! Every library is loaded at run time, so flexsim builds and runs without any driver:
//!
//! | backend | library | installed by | override |
//! |---|---|---|---|
//! | `nvml` | `libnvidia-ml.so.1` | NVIDIA driver package | `--nvml-lib` / `FLEXSIM_NVML_LIB` |
//! | `acl` | `libascendcl.so` | Ascend CANN toolkit | `--acl-lib` / `FLEXSIM_ACL_LIB` |
//! | `acl` | `libdcmi.so` | Ascend NPU driver | `--dcmi-lib` / `FLEXSIM_DCMI_LIB` |
//!
//! A missing library is [`CalibrateError::MissingLibrary`] (exit code 2); the `acl` backend
//! needs at least one of its two libraries. ACL and DCMI symbols are resolved one by one: a
//! symbol missing from an older release leaves its field `None` and adds a note to the
//! profile's provenance, never an invented number.
//!
//! # Workload convention
//! `--workload CMD` runs `sh -c CMD` alone and then as k concurrent copies for each k of
//! `--colocate` (default 1,2,4), each copy in its own process group, with
//! `CUDA_VISIBLE_DEVICES` (nvml) or `ASCEND_RT_VISIBLE_DEVICES` (acl) set to `--device`, and
//! `FLEXSIM_COPIES=k`, `FLEXSIM_COPY_INDEX=i`. Throughput per copy is the number on the last
//! stdout line `FLEXSIM_THROUGHPUT=<float>` (any unit per second, the same for every run), or
//! 1 / completion seconds when the solo run prints none. With `--seconds S` each run is stopped
//! after S seconds (SIGTERM to the group, SIGKILL 2 s later), so the printed line is required:
//! print a running rate periodically. Utilisation is sampled every 200 ms while copies run;
//! the device should otherwise be idle. See [`measure`] for the derivations.
//!
//! # Refused measurements
//! A calibration never writes a profile from numbers it cannot stand behind; these are errors
//! (exit code 4, [`CalibrateError::Workload`] or [`CalibrateError::Implausible`]), never a
//! profile: a copy that exits non-zero; a `FLEXSIM_THROUGHPUT=` value that is not a finite
//! number > 0; a run timed by completion that took under [`workload::MIN_TIMED_SECONDS`]; a
//! per-copy speed relative to solo above [`derive::MAX_SPEED_REL`]; a time-slice overhead or
//! interference coefficient below −[`derive::NOISE_BELOW_ZERO`] or at/above 1. An empty
//! `--workload` is an argument error (exit code 1).

pub mod acl;
pub mod args;
pub mod ascend;
pub mod clock;
pub mod dcmi;
pub mod derive;
pub mod dynlib;
pub mod error;
pub mod measure;
pub mod nvml;
pub mod sampler;
pub mod workload;

use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

pub use args::{BackendKind, CalibrateArgs};
pub use error::{exit_code, CalibrateError};
pub use flexsim_sim::model::profile::DeviceProfile;
use flexsim_sim::model::profile::{
    Backend, Inventory, Measured, Provenance, PROFILE_FORMAT_VERSION,
};

use crate::sampler::{NoSampler, UtilSampler};
use crate::workload::WorkloadSpec;

/// Directory of default profile paths, relative to the working directory.
pub const DEFAULT_PROFILE_DIR: &str = "traces/profiles";

/// Runs a calibration, writes the profile to `--out` (default
/// [`default_out_path`]) and returns it.
pub fn run(args: &CalibrateArgs) -> Result<DeviceProfile, CalibrateError> {
    let profile = calibrate(args)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| default_out_path(&profile.inventory.model));
    profile.save(&out)?;
    Ok(profile)
}

/// Runs a calibration without writing anything.
pub fn calibrate(args: &CalibrateArgs) -> Result<DeviceProfile, CalibrateError> {
    let started = Instant::now();
    let date = clock::rfc3339_utc(SystemTime::now());
    let copy_counts = args.copy_counts()?;
    let time_limit_seconds = args.time_limit_seconds()?;
    let workload = args.workload_command()?;
    let mut notes = Vec::new();
    let spec = |var: &'static str| {
        workload.map(|cmd| WorkloadSpec {
            command: cmd.to_owned(),
            visible_devices_var: var,
            device: args.device,
            time_limit_seconds,
        })
    };
    let measure_with =
        |spec: Option<WorkloadSpec>, sampler: &mut dyn UtilSampler, notes: &mut Vec<String>| {
            spec.map(|s| measure::measure(&s, &copy_counts, sampler, notes))
                .transpose()
        };

    let (backend, inventory, measurement): (Backend, Inventory, _) = match args.backend {
        BackendKind::Nvml => {
            let nvml = nvml::open(args.nvml_lib.as_deref())?;
            let dev = nvml::device(&nvml, args.device)?;
            let inventory = nvml::inventory(&nvml, &dev, args.device, &mut notes)?;
            let mut sampler = nvml::NvmlSampler::new(&dev);
            let m = measure_with(spec("CUDA_VISIBLE_DEVICES"), &mut sampler, &mut notes)?;
            (Backend::Nvml, inventory, m)
        }
        BackendKind::Acl => {
            let ascend = ascend::open(
                args.acl_lib.as_deref(),
                args.dcmi_lib.as_deref(),
                args.device,
                &mut notes,
            )?;
            let inventory = ascend.inventory(&mut notes)?;
            let spec = spec("ASCEND_RT_VISIBLE_DEVICES");
            let m = match ascend.sampler() {
                Some(mut s) => measure_with(spec, &mut s, &mut notes)?,
                None => {
                    if spec.is_some() {
                        notes.push("acl: no utilisation counter answered".into());
                    }
                    measure_with(spec, &mut NoSampler, &mut notes)?
                }
            };
            (Backend::Acl, inventory, m)
        }
    };

    let (measured, throughput_source, utilization_source) = match measurement {
        Some(m) => (
            m.measured,
            Some(m.throughput_source.as_str().to_string()),
            m.utilization_source,
        ),
        None => (Measured::default(), None, None),
    };
    Ok(DeviceProfile {
        format_version: PROFILE_FORMAT_VERSION,
        inventory,
        measured,
        provenance: Provenance {
            backend,
            command: args.command_line(),
            workload: args.workload.clone(),
            colocate: if args.workload.is_some() {
                copy_counts
            } else {
                Vec::new()
            },
            seconds: args.workload.as_ref().and(time_limit_seconds),
            wall_seconds: started.elapsed().as_secs_f64(),
            date,
            throughput_source,
            utilization_source,
            flexsim_version: env!("CARGO_PKG_VERSION").to_string(),
            notes,
        },
    })
}

/// `traces/profiles/<model slug>.toml`.
pub fn default_out_path(model: &str) -> PathBuf {
    Path::new(DEFAULT_PROFILE_DIR).join(format!("{}.toml", model_slug(model)))
}

/// A model name as a file name: lowercase ASCII letters and digits, other runs as one '-'.
pub fn model_slug(model: &str) -> String {
    let mut s = String::new();
    for c in model.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.ends_with('-') {
            s.push('-');
        }
    }
    let s = s.trim_matches('-');
    if s.is_empty() {
        "device".into()
    } else {
        s.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_model_names() {
        assert_eq!(model_slug("NVIDIA H100 80GB HBM3"), "nvidia-h100-80gb-hbm3");
        assert_eq!(model_slug("Ascend910B3"), "ascend910b3");
        assert_eq!(model_slug("A100-SXM4-40GB (MIG)"), "a100-sxm4-40gb-mig");
        assert_eq!(model_slug("../.."), "device");
        assert_eq!(
            default_out_path("Ascend910B3"),
            Path::new("traces/profiles/ascend910b3.toml")
        );
    }
}
