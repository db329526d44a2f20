//! AscendCL runtime binding (calibration.md §4.3), through `libloading`, read-only.
//!
//! Every symbol is resolved on its own: `aclrtGetDeviceInfo` and the utilisation API are newer
//! than the rest and absent from older CANN releases, which then give fewer fields.
//! `aclrtSetDevice` is called only when the memory size cannot be read otherwise
//! (`aclrtGetMemInfo` works on the current device); the matching `aclrtResetDevice` releases
//! this process's context on the device, it does not reset the hardware.

use std::collections::BTreeMap;
use std::ffi::{c_char, c_int, c_void, CStr};
use std::path::Path;
use std::ptr;
use std::sync::Mutex;

use crate::dynlib::{self, c_buf_to_string, DynLib};

/// Library soname, and the CANN toolkit's default install path (calibration.md §4.3).
pub const ACL_LIBRARY_DEFAULTS: &[&str] = &[
    "libascendcl.so",
    "/usr/local/Ascend/ascend-toolkit/latest/lib64/libascendcl.so",
];

/// `ACL_SUCCESS` (acl_base_rt.h).
pub const ACL_SUCCESS: c_int = 0;
/// `ACL_ERROR_REPEAT_INITIALIZE`: aclInit already called in this process; not a failure.
pub const ACL_ERROR_REPEAT_INITIALIZE: c_int = 100_002;
/// `aclrtMemAttr::ACL_HBM_MEM`.
pub const ACL_HBM_MEM: c_int = 1;
/// `aclrtDevAttr` values (acl_rt.h).
pub const ACL_DEV_ATTR_AICORE_CORE_NUM: c_int = 101;
pub const ACL_DEV_ATTR_TOTAL_GLOBAL_MEM_SIZE: c_int = 301;
pub const ACL_DEV_ATTR_IS_VIRTUAL: c_int = 501;
/// Package name passed to `aclsysGetVersionStr` / `aclsysGetVersionNum`.
pub const CANN_PACKAGE: &CStr = c"CANN";
/// Output buffer for `aclsysGetVersionStr` (the header's maximum is 128; twice that is safe).
const VERSION_BUF_BYTES: usize = 256;

/// `aclInit`/`aclFinalize` are process-wide, so sessions in one process (concurrent `run`
/// calls, tests) share one initialisation per library path: (live sessions, whether flexsim
/// made the `aclInit` call and so owns the `aclFinalize`).
static ACL_INITS: Mutex<BTreeMap<String, (usize, bool)>> = Mutex::new(BTreeMap::new());

/// `aclrtUtilizationInfo` (acl_rt.h): percentages; the extension pointer must be NULL.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct AclrtUtilizationInfo {
    pub cube_utilization: i32,
    pub vector_utilization: i32,
    pub aicpu_utilization: i32,
    pub memory_utilization: i32,
    pub utilization_extend: *mut c_void,
}

type FnInit = unsafe extern "C" fn(*const c_char) -> c_int;
type FnVoid = unsafe extern "C" fn() -> c_int;
type FnGetDeviceCount = unsafe extern "C" fn(*mut u32) -> c_int;
type FnDeviceId = unsafe extern "C" fn(i32) -> c_int;
type FnGetMemInfo = unsafe extern "C" fn(c_int, *mut usize, *mut usize) -> c_int;
type FnGetSocName = unsafe extern "C" fn() -> *const c_char;
type FnGetUtil = unsafe extern "C" fn(i32, *mut AclrtUtilizationInfo) -> c_int;
type FnGetDeviceInfo = unsafe extern "C" fn(u32, c_int, *mut i64) -> c_int;
type FnVersionStr = unsafe extern "C" fn(*mut c_char, *mut c_char) -> c_int;
type FnVersionNum = unsafe extern "C" fn(*mut c_char, *mut i32) -> c_int;
type FnErrMsg = unsafe extern "C" fn() -> *const c_char;

/// Why an ACL call gave nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AclCallError {
    /// The symbol is not in this CANN release.
    Missing(&'static str),
    /// The call returned a non-zero `aclError`.
    Failed {
        function: &'static str,
        code: i32,
        message: Option<String>,
    },
}

impl std::fmt::Display for AclCallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AclCallError::Missing(name) => write!(f, "{name} is not in this libascendcl"),
            AclCallError::Failed {
                function,
                code,
                message,
            } => {
                write!(f, "{function} returned aclError {code}")?;
                if let Some(m) = message {
                    write!(f, " ({m})")?;
                }
                Ok(())
            }
        }
    }
}

/// libascendcl.so with its symbols resolved. Fn pointers stay valid while `lib` lives, and
/// `lib` is only dropped with the struct.
pub struct AclLib {
    init: Option<FnInit>,
    finalize: Option<FnVoid>,
    get_device_count: Option<FnGetDeviceCount>,
    set_device: Option<FnDeviceId>,
    reset_device: Option<FnDeviceId>,
    get_mem_info: Option<FnGetMemInfo>,
    get_soc_name: Option<FnGetSocName>,
    get_util: Option<FnGetUtil>,
    get_device_info: Option<FnGetDeviceInfo>,
    version_str: Option<FnVersionStr>,
    version_num: Option<FnVersionNum>,
    recent_err_msg: Option<FnErrMsg>,
    /// Symbols this library lacks.
    pub missing: Vec<&'static str>,
    initialised: bool,
    /// Keeps the code behind the pointers above mapped.
    pub lib: DynLib,
}

type AclResult<T> = Result<T, AclCallError>;

impl AclLib {
    /// Loads libascendcl.so (from `explicit`, else the defaults) and resolves every symbol.
    pub fn open(explicit: Option<&Path>) -> Result<AclLib, String> {
        let lib = dynlib::load(explicit, ACL_LIBRARY_DEFAULTS)?;
        let mut missing = Vec::new();
        let l = &lib.lib;
        // SAFETY: each type alias above is the C signature from calibration.md §4.3.
        unsafe {
            Ok(AclLib {
                init: dynlib::optional(l, "aclInit", &mut missing),
                finalize: dynlib::optional(l, "aclFinalize", &mut missing),
                get_device_count: dynlib::optional(l, "aclrtGetDeviceCount", &mut missing),
                set_device: dynlib::optional(l, "aclrtSetDevice", &mut missing),
                reset_device: dynlib::optional(l, "aclrtResetDevice", &mut missing),
                get_mem_info: dynlib::optional(l, "aclrtGetMemInfo", &mut missing),
                get_soc_name: dynlib::optional(l, "aclrtGetSocName", &mut missing),
                get_util: dynlib::optional(l, "aclrtGetDeviceUtilizationRate", &mut missing),
                get_device_info: dynlib::optional(l, "aclrtGetDeviceInfo", &mut missing),
                version_str: dynlib::optional(l, "aclsysGetVersionStr", &mut missing),
                version_num: dynlib::optional(l, "aclsysGetVersionNum", &mut missing),
                recent_err_msg: dynlib::optional(l, "aclGetRecentErrMsg", &mut missing),
                missing,
                initialised: false,
                lib,
            })
        }
    }

    fn check(&self, function: &'static str, code: c_int) -> AclResult<()> {
        if code == ACL_SUCCESS {
            return Ok(());
        }
        let message = self.recent_err_msg.and_then(|f| {
            // SAFETY: returns NULL or a NUL-terminated string owned by ACL.
            let p = unsafe { f() };
            (!p.is_null())
                .then(|| {
                    unsafe { CStr::from_ptr(p) }
                        .to_string_lossy()
                        .trim()
                        .to_string()
                })
                .filter(|s| !s.is_empty())
        });
        Err(AclCallError::Failed {
            function,
            code,
            message,
        })
    }

    /// `aclInit(NULL)`, once per process and library (see `ACL_INITS`); an initialisation
    /// made by someone else in the process counts as success and is left to its owner.
    /// Paired with `aclFinalize` when the last session drops.
    pub fn initialise(&mut self) -> AclResult<()> {
        let f = self.init.ok_or(AclCallError::Missing("aclInit"))?;
        let mut inits = ACL_INITS.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((count, _)) = inits.get_mut(&self.lib.path).filter(|(c, _)| *c > 0) {
            *count += 1;
        } else {
            // SAFETY: NULL config path is documented as "no config".
            let code = unsafe { f(ptr::null()) };
            let owned = code != ACL_ERROR_REPEAT_INITIALIZE;
            if owned {
                self.check("aclInit", code)?;
            }
            inits.insert(self.lib.path.clone(), (1, owned));
        }
        self.initialised = true;
        Ok(())
    }

    pub fn device_count(&self) -> AclResult<u32> {
        let f = self
            .get_device_count
            .ok_or(AclCallError::Missing("aclrtGetDeviceCount"))?;
        let mut n = 0u32;
        // SAFETY: valid out-pointer.
        self.check("aclrtGetDeviceCount", unsafe { f(&mut n) })?;
        Ok(n)
    }

    /// SoC name, e.g. "Ascend910B3".
    pub fn soc_name(&self) -> AclResult<String> {
        let f = self
            .get_soc_name
            .ok_or(AclCallError::Missing("aclrtGetSocName"))?;
        // SAFETY: returns NULL on failure or a static NUL-terminated string.
        let p = unsafe { f() };
        if p.is_null() {
            return Err(AclCallError::Failed {
                function: "aclrtGetSocName",
                code: -1,
                message: Some("returned NULL".into()),
            });
        }
        Ok(unsafe { CStr::from_ptr(p) }
            .to_string_lossy()
            .trim()
            .to_string())
    }

    /// `aclrtGetDeviceInfo(device, attr)`.
    pub fn device_info(&self, device: u32, attr: c_int) -> AclResult<i64> {
        let f = self
            .get_device_info
            .ok_or(AclCallError::Missing("aclrtGetDeviceInfo"))?;
        let mut v = 0i64;
        // SAFETY: valid out-pointer; attr is an aclrtDevAttr value.
        self.check("aclrtGetDeviceInfo", unsafe { f(device, attr, &mut v) })?;
        Ok(v)
    }

    /// Total HBM bytes through `aclrtSetDevice` + `aclrtGetMemInfo(ACL_HBM_MEM)`, releasing the
    /// context afterwards with `aclrtResetDevice` (this process's resources only).
    pub fn hbm_total_bytes_via_context(&self, device: u32) -> AclResult<u64> {
        let set = self
            .set_device
            .ok_or(AclCallError::Missing("aclrtSetDevice"))?;
        let get = self
            .get_mem_info
            .ok_or(AclCallError::Missing("aclrtGetMemInfo"))?;
        let id = i32::try_from(device).map_err(|_| AclCallError::Failed {
            function: "aclrtSetDevice",
            code: -1,
            message: Some(format!("device id {device} out of range")),
        })?;
        // SAFETY: plain integer argument.
        self.check("aclrtSetDevice", unsafe { set(id) })?;
        let (mut free, mut total) = (0usize, 0usize);
        // SAFETY: valid out-pointers; ACL_HBM_MEM is an aclrtMemAttr value.
        let r = self.check("aclrtGetMemInfo", unsafe {
            get(ACL_HBM_MEM, &mut free, &mut total)
        });
        if let Some(reset) = self.reset_device {
            // SAFETY: releases the context this process created above.
            unsafe { reset(id) };
        }
        r.map(|_| total as u64)
    }

    /// CANN version: `aclsysGetVersionStr("CANN")`, else `aclsysGetVersionNum("CANN")`.
    pub fn cann_version(&self) -> AclResult<String> {
        let mut pkg = CANN_PACKAGE.to_bytes_with_nul().to_vec();
        if let Some(f) = self.version_str {
            let mut buf = [0u8; VERSION_BUF_BYTES];
            // SAFETY: pkg is NUL-terminated; buf is larger than the header's maximum.
            let code = unsafe { f(pkg.as_mut_ptr().cast(), buf.as_mut_ptr().cast()) };
            if code == ACL_SUCCESS {
                if let Some(s) = c_buf_to_string(&buf) {
                    return Ok(s);
                }
            }
        }
        let f = self.version_num.ok_or(AclCallError::Missing(
            "aclsysGetVersionStr/aclsysGetVersionNum",
        ))?;
        let mut n = 0i32;
        // SAFETY: pkg is NUL-terminated; valid out-pointer.
        self.check("aclsysGetVersionNum", unsafe {
            f(pkg.as_mut_ptr().cast(), &mut n)
        })?;
        Ok(n.to_string())
    }

    /// `aclrtGetDeviceUtilizationRate` for `device`.
    pub fn utilization(&self, device: u32) -> AclResult<AclrtUtilizationInfo> {
        let f = self
            .get_util
            .ok_or(AclCallError::Missing("aclrtGetDeviceUtilizationRate"))?;
        let id = i32::try_from(device).map_err(|_| AclCallError::Failed {
            function: "aclrtGetDeviceUtilizationRate",
            code: -1,
            message: Some(format!("device id {device} out of range")),
        })?;
        let mut info = AclrtUtilizationInfo {
            cube_utilization: 0,
            vector_utilization: 0,
            aicpu_utilization: 0,
            memory_utilization: 0,
            utilization_extend: ptr::null_mut(),
        };
        // SAFETY: valid out-pointer to the documented struct, extension NULL as required.
        self.check("aclrtGetDeviceUtilizationRate", unsafe { f(id, &mut info) })?;
        Ok(info)
    }
}

impl Drop for AclLib {
    fn drop(&mut self) {
        if !self.initialised {
            return;
        }
        let mut inits = ACL_INITS.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((count, owned)) = inits.get_mut(&self.lib.path) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                let owned = *owned;
                inits.remove(&self.lib.path);
                if let (true, Some(f)) = (owned, self.finalize) {
                    // SAFETY: pairs the aclInit this process made in `initialise`.
                    unsafe { f() };
                }
            }
        }
    }
}
