//! Ascend backend: AscendCL first, DCMI for what ACL cannot give (calibration.md §4.3, §4.4;
//! slicing-model.md §7.4, inventory and `u` rows). Read-only.

use std::path::Path;

use flexsim_sim::model::profile::{Backend, Inventory};

use crate::acl::{
    AclLib, ACL_DEV_ATTR_AICORE_CORE_NUM, ACL_DEV_ATTR_IS_VIRTUAL,
    ACL_DEV_ATTR_TOTAL_GLOBAL_MEM_SIZE,
};
use crate::dcmi::{ChipAddr, DcmiLib, DCMI_UTIL_AI_CORE, DCMI_UTIL_NPU};
use crate::derive::percent_to_fraction;
use crate::error::CalibrateError;
use crate::sampler::UtilSampler;

fn device_err(message: String) -> CalibrateError {
    CalibrateError::Device {
        backend: "acl",
        message,
    }
}

/// The Ascend libraries that could be loaded, initialised; at least one is present.
pub struct Ascend {
    pub acl: Option<AclLib>,
    pub dcmi: Option<DcmiLib>,
    /// The chip DCMI calls the requested device, when DCMI can address it.
    pub dcmi_chip: Option<ChipAddr>,
    pub device: u32,
}

/// Loads libascendcl.so and libdcmi.so; fails (exit code 2) only when neither loads.
pub fn open(
    acl_path: Option<&Path>,
    dcmi_path: Option<&Path>,
    device: u32,
    notes: &mut Vec<String>,
) -> Result<Ascend, CalibrateError> {
    let acl = AclLib::open(acl_path);
    let dcmi = DcmiLib::open(dcmi_path);
    let (mut acl, dcmi) = match (acl, dcmi) {
        (Err(acl_err), Err(dcmi_err)) => {
            return Err(CalibrateError::MissingLibrary {
                library: "libascendcl.so and libdcmi.so".into(),
                provider: "the Ascend CANN toolkit (libascendcl.so, in \
                           /usr/local/Ascend/ascend-toolkit/latest/lib64) and the Ascend NPU \
                           driver package (libdcmi.so, in /usr/local/Ascend/driver/lib64/driver)"
                    .into(),
                hint: "--acl-lib/--dcmi-lib PATH or FLEXSIM_ACL_LIB/FLEXSIM_DCMI_LIB".into(),
                detail: format!("libascendcl.so: {acl_err}; libdcmi.so: {dcmi_err}"),
            })
        }
        (acl, dcmi) => (
            acl.map_err(|e| notes.push(format!("acl: libascendcl.so not loaded: {e}")))
                .ok(),
            dcmi.map_err(|e| notes.push(format!("dcmi: libdcmi.so not loaded: {e}")))
                .ok(),
        ),
    };
    for (lib, missing) in [
        ("acl", acl.as_ref().map(|a| &a.missing)),
        ("dcmi", dcmi.as_ref().map(|d| &d.missing)),
    ] {
        if let Some(m) = missing.filter(|m| !m.is_empty()) {
            notes.push(format!("{lib}: symbols not found: {}", m.join(", ")));
        }
    }
    if let Some(a) = acl.as_mut() {
        if let Err(e) = a.initialise() {
            notes.push(format!("acl: not used: {e}"));
            acl = None;
        }
    }
    let mut dcmi_chip = None;
    let dcmi = dcmi.and_then(|d| match d.initialise().and_then(|_| d.locate(device)) {
        Ok(chip) => {
            dcmi_chip = Some(chip);
            Some(d)
        }
        Err(e) => {
            notes.push(format!("dcmi: not used: {e}"));
            None
        }
    });
    if acl.is_none() && dcmi.is_none() {
        return Err(device_err(
            "neither libascendcl.so nor libdcmi.so could be initialised (see notes above)".into(),
        ));
    }
    Ok(Ascend {
        acl,
        dcmi,
        dcmi_chip,
        device,
    })
}

impl Ascend {
    /// Reads the inventory, ACL first, DCMI as fallback; each missing field gets a note.
    pub fn inventory(&self, notes: &mut Vec<String>) -> Result<Inventory, CalibrateError> {
        let d = self.device;
        if let Some(acl) = &self.acl {
            match acl.device_count() {
                Ok(n) if d >= n => {
                    return Err(device_err(format!("no device {d}: ACL sees {n} device(s)")))
                }
                Ok(_) => {}
                Err(e) => notes.push(format!("acl: device count unavailable: {e}")),
            }
        }
        let dcmi = self.dcmi.as_ref().zip(self.dcmi_chip);
        let dcmi_chip_info = dcmi.map(|(lib, at)| lib.chip_info(at));
        if let Some(Err(e)) = &dcmi_chip_info {
            notes.push(format!("dcmi: chip info unavailable: {e}"));
        }
        let dcmi_chip_info = dcmi_chip_info.and_then(Result::ok);

        let model = match self.acl.as_ref().map(|a| a.soc_name()) {
            Some(Ok(name)) if !name.is_empty() => Some(name),
            other => {
                if let Some(Err(e)) = other {
                    notes.push(format!("acl: SoC name unavailable: {e}"));
                }
                dcmi_chip_info.as_ref().and_then(|(name, _)| name.clone())
            }
        };
        let model = model.ok_or_else(|| {
            device_err(format!(
                "cannot read the model name of device {d} from aclrtGetSocName or dcmi_get_device_chip_info"
            ))
        })?;

        let acl_attr = |attr, what: &str, notes: &mut Vec<String>| {
            let a = self.acl.as_ref()?;
            match a.device_info(d, attr) {
                Ok(v) => Some(v),
                Err(e) => {
                    notes.push(format!("acl: {what} unavailable: {e}"));
                    None
                }
            }
        };
        let ai_core_count = acl_attr(ACL_DEV_ATTR_AICORE_CORE_NUM, "AI-core count", notes)
            .and_then(|v| u32::try_from(v).ok())
            .or_else(|| dcmi_chip_info.as_ref().map(|(_, cores)| *cores))
            .filter(|&c| c > 0);
        let is_virtual = acl_attr(ACL_DEV_ATTR_IS_VIRTUAL, "IS_VIRTUAL", notes).map(|v| v != 0);
        let memory_bytes = acl_attr(ACL_DEV_ATTR_TOTAL_GLOBAL_MEM_SIZE, "total memory", notes)
            .and_then(|v| u64::try_from(v).ok())
            .or_else(|| {
                let a = self.acl.as_ref()?;
                a.hbm_total_bytes_via_context(d)
                    .map_err(|e| notes.push(format!("acl: HBM size unavailable: {e}")))
                    .ok()
            });
        let cann_version = self.acl.as_ref().and_then(|a| {
            a.cann_version()
                .map_err(|e| notes.push(format!("acl: CANN version unavailable: {e}")))
                .ok()
        });
        if memory_bytes.is_none() {
            notes.push("memory_mib unknown: DCMI memory structs are not bound".into());
        }

        Ok(Inventory {
            backend: Backend::Acl,
            device_index: d,
            model,
            memory_mib: memory_bytes.map(|b| b / (1024 * 1024)),
            sm_count: None,
            ai_core_count,
            architecture: None,
            driver_version: None,
            cuda_driver_version: None,
            cann_version,
            mig_supported: Some(false),
            mig_enabled: None,
            // A device in compute-splitting mode is a vNPU, so the chip supports vNPU; whether a
            // whole chip could be split is read by `npu-smi` (slicing-model.md §7.4), not here.
            vnpu_supported: is_virtual.filter(|&v| v),
            is_virtual,
            mig_profiles: Vec::new(),
        })
    }

    /// A sampler using the best counter that answers now: DCMI whole-NPU (type 13), else ACL
    /// `max(cube, vector)`, else DCMI AI Core (type 2); `None` when none answers.
    pub fn sampler(&self) -> Option<AscendSampler<'_>> {
        let candidates = [
            Counter::DcmiNpu,
            Counter::AclCubeVector,
            Counter::DcmiAiCore,
        ];
        candidates
            .into_iter()
            .map(|counter| AscendSampler {
                ascend: self,
                counter,
            })
            .find_map(|mut s| s.sample().map(|_| s))
    }
}

#[derive(Debug, Clone, Copy)]
enum Counter {
    DcmiNpu,
    AclCubeVector,
    DcmiAiCore,
}

/// Reads one Ascend utilisation counter (calibration.md §4.3, §4.4).
pub struct AscendSampler<'a> {
    ascend: &'a Ascend,
    counter: Counter,
}

impl UtilSampler for AscendSampler<'_> {
    fn sample(&mut self) -> Option<f64> {
        let a = self.ascend;
        let percent = match self.counter {
            Counter::DcmiNpu | Counter::DcmiAiCore => {
                let ty = match self.counter {
                    Counter::DcmiNpu => DCMI_UTIL_NPU,
                    _ => DCMI_UTIL_AI_CORE,
                };
                let (lib, at) = a.dcmi.as_ref().zip(a.dcmi_chip)?;
                lib.utilization(at, ty).ok()? as f64
            }
            Counter::AclCubeVector => {
                let u = a.acl.as_ref()?.utilization(a.device).ok()?;
                u.cube_utilization.max(u.vector_utilization) as f64
            }
        };
        Some(percent_to_fraction(percent))
    }

    fn source(&self) -> String {
        match self.counter {
            Counter::DcmiNpu => "dcmi utilization type 13 (whole NPU)",
            Counter::AclCubeVector => "acl aclrtGetDeviceUtilizationRate max(cube, vector)",
            Counter::DcmiAiCore => "dcmi utilization type 2 (AI Core)",
        }
        .into()
    }
}
