//! NVIDIA backend through `nvml-wrapper` (calibration.md §5.1), read-only.
//!
//! NVML is dlopened at run time by `Nvml::init`, which returns `LibloadingError` when
//! libnvidia-ml.so.1 is absent (measured, calibration.md §5.1), so the binary runs on machines
//! without a driver. Only query functions are called: never `set_mig_mode`, clocks, power limits,
//! compute mode or reset.

use std::path::Path;

use flexsim_sim::model::profile::{Backend, Inventory, MigPlacement, MigProfile};
use nvml_wrapper::error::NvmlError;
use nvml_wrapper::{Device, Nvml};

use crate::derive::{percent_to_fraction, sm_count_from_cores};
use crate::error::CalibrateError;
use crate::sampler::UtilSampler;

/// The NVML soname `Nvml::init` loads.
pub const NVML_LIBRARY: &str = "libnvidia-ml.so.1";
/// `NVML_GPU_INSTANCE_PROFILE_COUNT` in nvml-wrapper-sys 0.10: profile indices 0..17 are queried.
pub const GPU_INSTANCE_PROFILE_COUNT: u32 = 17;

fn device_err(message: String) -> CalibrateError {
    CalibrateError::Device {
        backend: "nvml",
        message,
    }
}

/// Loads and initialises NVML, from `lib` if given.
pub fn open(lib: Option<&Path>) -> Result<Nvml, CalibrateError> {
    let result = match lib {
        Some(path) => Nvml::builder().lib_path(path.as_os_str()).init(),
        None => Nvml::init(),
    };
    let library = lib
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| NVML_LIBRARY.to_string());
    result.map_err(|e| match e {
        NvmlError::LibloadingError(le) => CalibrateError::MissingLibrary {
            library,
            provider: "the NVIDIA driver package (e.g. nvidia-driver / libnvidia-compute), \
                       which installs libnvidia-ml.so.1"
                .into(),
            hint: "--nvml-lib PATH or FLEXSIM_NVML_LIB".into(),
            detail: le.to_string(),
        },
        NvmlError::DriverNotLoaded => device_err(format!(
            "{library} loaded but the NVIDIA kernel driver is not loaded"
        )),
        NvmlError::NoPermission => {
            device_err(format!("{library}: no permission to initialise NVML"))
        }
        other => device_err(format!("{library}: NVML initialisation failed: {other}")),
    })
}

/// The device at `index`, with a clear error when there is no such device.
pub fn device(nvml: &Nvml, index: u32) -> Result<Device<'_>, CalibrateError> {
    let count = nvml
        .device_count()
        .map_err(|e| device_err(format!("cannot count devices: {e}")))?;
    if index >= count {
        return Err(device_err(format!(
            "no device {index}: NVML sees {count} device(s)"
        )));
    }
    nvml.device_by_index(index)
        .map_err(|e| device_err(format!("cannot open device {index}: {e}")))
}

/// Reads the inventory of `dev` (slicing-model.md §7.4, inventory and MIG rows). Fields the
/// driver cannot give are `None`, with a note saying why.
pub fn inventory(
    nvml: &Nvml,
    dev: &Device<'_>,
    index: u32,
    notes: &mut Vec<String>,
) -> Result<Inventory, CalibrateError> {
    let model = dev
        .name()
        .map_err(|e| device_err(format!("cannot read the name of device {index}: {e}")))?;
    let mut note = |what: &str, e: &NvmlError| notes.push(format!("nvml: {what} unavailable: {e}"));

    let memory_mib = match dev.memory_info() {
        Ok(m) => Some(m.total / (1024 * 1024)),
        Err(e) => {
            note("memory_info", &e);
            None
        }
    };
    let architecture = match dev.architecture() {
        Ok(a) => Some(a.to_string()),
        Err(e) => {
            note("architecture", &e);
            None
        }
    };
    let driver_version = match nvml.sys_driver_version() {
        Ok(v) => Some(v),
        Err(e) => {
            note("driver version", &e);
            None
        }
    };
    let cuda_driver_version = match nvml.sys_cuda_driver_version() {
        Ok(v) => Some(format!("{}.{}", v / 1000, (v % 1000) / 10)),
        Err(e) => {
            note("CUDA driver version", &e);
            None
        }
    };
    // NVML has no SM count; derive it from CUDA cores and compute capability when the
    // cores-per-SM table knows the architecture (calibration.md §5.2 names cudarc's
    // MULTIPROCESSOR_COUNT as the direct source, which would need libcuda).
    let sm_count = match (dev.num_cores(), dev.cuda_compute_capability()) {
        (Ok(cores), Ok(cc)) => {
            let sm = sm_count_from_cores(cores, cc.major, cc.minor);
            match sm {
                Some(n) => notes.push(format!(
                    "nvml: sm_count {n} derived from {cores} CUDA cores at compute capability {}.{}",
                    cc.major, cc.minor
                )),
                None => notes.push(format!(
                    "nvml: sm_count unknown: no cores-per-SM entry for compute capability {}.{}",
                    cc.major, cc.minor
                )),
            }
            sm
        }
        (Err(e), _) | (_, Err(e)) => {
            notes.push(format!("nvml: sm_count unavailable: {e}"));
            None
        }
    };

    let (mig_supported, mig_enabled) = match dev.mig_mode() {
        Ok(m) => (Some(true), Some(m.current == 1)),
        Err(NvmlError::NotSupported) => (Some(false), None),
        Err(e) => {
            notes.push(format!("nvml: MIG mode unavailable: {e}"));
            (None, None)
        }
    };
    let mig_profiles = if mig_supported == Some(true) {
        mig_profiles(dev, notes)
    } else {
        Vec::new()
    };
    if mig_supported == Some(true) && mig_profiles.is_empty() {
        notes.push(format!(
            "nvml: no GPU-instance profile answered (MIG mode {}); calibration never changes MIG mode",
            if mig_enabled == Some(true) { "on" } else { "off" }
        ));
    }

    match dev.running_compute_processes() {
        Ok(p) if !p.is_empty() => notes.push(format!(
            "nvml: {} other compute process(es) were on the device at start; measurements may be skewed",
            p.len()
        )),
        _ => {}
    }

    Ok(Inventory {
        backend: Backend::Nvml,
        device_index: index,
        model,
        memory_mib,
        sm_count,
        ai_core_count: None,
        architecture,
        driver_version,
        cuda_driver_version,
        cann_version: None,
        mig_supported,
        mig_enabled,
        vnpu_supported: Some(false),
        is_virtual: None,
        mig_profiles,
    })
}

/// Every GPU-instance profile the card answers for, with its legal placements.
fn mig_profiles(dev: &Device<'_>, notes: &mut Vec<String>) -> Vec<MigProfile> {
    let mut out = Vec::new();
    for idx in 0..GPU_INSTANCE_PROFILE_COUNT {
        let info = match dev.profile_info(idx) {
            Ok(i) => i,
            Err(NvmlError::NotSupported | NvmlError::InvalidArg | NvmlError::NotFound) => continue,
            Err(e) => {
                notes.push(format!("nvml: profile_info({idx}) failed: {e}"));
                continue;
            }
        };
        let placements = match dev.possible_placements(idx) {
            Ok(p) => p
                .into_iter()
                .map(|p| MigPlacement {
                    start: p.start,
                    size: p.size,
                })
                .collect(),
            Err(e) => {
                notes.push(format!("nvml: possible_placements({idx}) failed: {e}"));
                Vec::new()
            }
        };
        out.push(MigProfile {
            profile_index: idx,
            profile_id: info.id,
            slice_count: info.slice_count,
            instance_count: info.instance_count,
            sm_count: info.multiprocessor_count,
            memory_mib: info.memory_size_mb,
            copy_engine_count: info.copy_engine_count,
            placements,
        });
    }
    out
}

/// Device busy share from `utilization_rates().gpu` ("fraction of the last sample period in
/// which at least one kernel ran", calibration.md §5.1; the §7.2 demand `u`).
pub struct NvmlSampler<'a> {
    device: &'a Device<'a>,
}

impl<'a> NvmlSampler<'a> {
    pub fn new(device: &'a Device<'a>) -> Self {
        NvmlSampler { device }
    }
}

impl UtilSampler for NvmlSampler<'_> {
    fn sample(&mut self) -> Option<f64> {
        self.device
            .utilization_rates()
            .ok()
            .map(|u| percent_to_fraction(u.gpu as f64))
    }
    fn source(&self) -> String {
        "nvml utilization_rates.gpu".into()
    }
    /// `nvmlDeviceGetPowerUsage`: milliwatts for the whole board, averaged by the driver over
    /// about a second (calibration.md §5.1).
    fn power_w(&mut self) -> Option<f64> {
        self.device
            .power_usage()
            .ok()
            .map(|mw| f64::from(mw) / 1000.0)
    }
}
