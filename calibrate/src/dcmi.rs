//! DCMI binding, the Ascend driver's NVML counterpart (calibration.md §4.4), through
//! `libloading`, read-only: only enumeration, chip information and utilisation are called.
//!
//! Not bound: `dcmi_get_device_hbm_info` and `dcmi_get_device_memory_info_v3`, whose struct
//! layouts calibration.md does not give; memory comes from ACL.

use std::ffi::{c_int, c_uint};
use std::path::Path;

use crate::dynlib::{self, c_buf_to_string, DynLib};

/// Library soname and the driver's install path (calibration.md §4.4).
pub const DCMI_LIBRARY_DEFAULTS: &[&str] = &[
    "libdcmi.so",
    "/usr/local/Ascend/driver/lib64/driver/libdcmi.so",
];
/// `input_type` of `dcmi_get_device_utilization_rate`: AI Core.
pub const DCMI_UTIL_AI_CORE: c_int = 2;
/// `input_type`: whole-NPU utilisation.
pub const DCMI_UTIL_NPU: c_int = 13;
/// `MAX_CHIP_NAME_LEN` of `struct dcmi_chip_info`.
pub const CHIP_NAME_BYTES: usize = 32;
/// Most cards asked of `dcmi_get_card_list`.
const MAX_CARDS: usize = 64;

/// `struct dcmi_chip_info` (dcmi_interface_api.h).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct DcmiChipInfo {
    pub chip_type: [u8; CHIP_NAME_BYTES],
    pub chip_name: [u8; CHIP_NAME_BYTES],
    pub chip_ver: [u8; CHIP_NAME_BYTES],
    pub aicore_cnt: c_uint,
}

type FnInit = unsafe extern "C" fn() -> c_int;
type FnCardList = unsafe extern "C" fn(*mut c_int, *mut c_int, c_int) -> c_int;
type FnDeviceNum = unsafe extern "C" fn(c_int, *mut c_int) -> c_int;
type FnChipInfo = unsafe extern "C" fn(c_int, c_int, *mut DcmiChipInfo) -> c_int;
type FnLogicId = unsafe extern "C" fn(*mut c_int, c_int, c_int) -> c_int;
type FnUtil = unsafe extern "C" fn(c_int, c_int, c_int, *mut c_uint) -> c_int;

/// Why a DCMI call gave nothing: the symbol is missing, or it returned this (negative) code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DcmiCallError {
    Missing(&'static str),
    Failed {
        function: &'static str,
        code: i32,
    },
    /// No (card, chip) has this logical id.
    NoSuchDevice(u32),
}

impl std::fmt::Display for DcmiCallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DcmiCallError::Missing(n) => write!(f, "{n} is not in this libdcmi"),
            DcmiCallError::Failed { function, code } => write!(f, "{function} returned {code}"),
            DcmiCallError::NoSuchDevice(d) => write!(f, "no NPU with logical id {d}"),
        }
    }
}

type DcmiResult<T> = Result<T, DcmiCallError>;

/// A DCMI chip address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChipAddr {
    pub card_id: c_int,
    pub device_id: c_int,
}

/// libdcmi.so with its symbols resolved; pointers valid while `lib` lives.
pub struct DcmiLib {
    init: Option<FnInit>,
    card_list: Option<FnCardList>,
    device_num: Option<FnDeviceNum>,
    chip_info: Option<FnChipInfo>,
    logic_id: Option<FnLogicId>,
    util: Option<FnUtil>,
    pub missing: Vec<&'static str>,
    pub lib: DynLib,
}

fn check(function: &'static str, code: c_int) -> DcmiResult<()> {
    if code == 0 {
        Ok(())
    } else {
        Err(DcmiCallError::Failed { function, code })
    }
}

impl DcmiLib {
    /// Loads libdcmi.so (from `explicit`, else the defaults) and resolves every symbol.
    pub fn open(explicit: Option<&Path>) -> Result<DcmiLib, String> {
        let lib = dynlib::load(explicit, DCMI_LIBRARY_DEFAULTS)?;
        let mut missing = Vec::new();
        let l = &lib.lib;
        // SAFETY: each alias is the C signature from calibration.md §4.4.
        unsafe {
            Ok(DcmiLib {
                init: dynlib::optional(l, "dcmi_init", &mut missing),
                card_list: dynlib::optional(l, "dcmi_get_card_list", &mut missing),
                device_num: dynlib::optional(l, "dcmi_get_device_num_in_card", &mut missing),
                chip_info: dynlib::optional(l, "dcmi_get_device_chip_info", &mut missing),
                logic_id: dynlib::optional(l, "dcmi_get_device_logic_id", &mut missing),
                util: dynlib::optional(l, "dcmi_get_device_utilization_rate", &mut missing),
                missing,
                lib,
            })
        }
    }

    pub fn initialise(&self) -> DcmiResult<()> {
        let f = self.init.ok_or(DcmiCallError::Missing("dcmi_init"))?;
        // SAFETY: no arguments.
        check("dcmi_init", unsafe { f() })
    }

    /// Every (card, chip) in enumeration order.
    pub fn chips(&self) -> DcmiResult<Vec<ChipAddr>> {
        let list = self
            .card_list
            .ok_or(DcmiCallError::Missing("dcmi_get_card_list"))?;
        let num = self
            .device_num
            .ok_or(DcmiCallError::Missing("dcmi_get_device_num_in_card"))?;
        let mut cards = [0 as c_int; MAX_CARDS];
        let mut n: c_int = 0;
        // SAFETY: the buffer holds MAX_CARDS ints and that length is passed.
        check("dcmi_get_card_list", unsafe {
            list(&mut n, cards.as_mut_ptr(), MAX_CARDS as c_int)
        })?;
        let n = (n.max(0) as usize).min(MAX_CARDS);
        let mut out = Vec::new();
        for &card_id in &cards[..n] {
            let mut chips: c_int = 0;
            // SAFETY: valid out-pointer.
            check("dcmi_get_device_num_in_card", unsafe {
                num(card_id, &mut chips)
            })?;
            out.extend((0..chips.max(0)).map(|device_id| ChipAddr { card_id, device_id }));
        }
        Ok(out)
    }

    /// The chip whose logical id (= the ACL device id) is `logic`. Without
    /// `dcmi_get_device_logic_id`, enumeration order stands in for the logical id.
    pub fn locate(&self, logic: u32) -> DcmiResult<ChipAddr> {
        let chips = self.chips()?;
        match self.logic_id {
            Some(f) => {
                for c in &chips {
                    let mut id: c_int = -1;
                    // SAFETY: valid out-pointer.
                    check("dcmi_get_device_logic_id", unsafe {
                        f(&mut id, c.card_id, c.device_id)
                    })?;
                    if u32::try_from(id) == Ok(logic) {
                        return Ok(*c);
                    }
                }
                Err(DcmiCallError::NoSuchDevice(logic))
            }
            None => chips
                .get(logic as usize)
                .copied()
                .ok_or(DcmiCallError::NoSuchDevice(logic)),
        }
    }

    /// `dcmi_get_device_chip_info`: (model name such as "Ascend910B3", AI-core count).
    pub fn chip_info(&self, at: ChipAddr) -> DcmiResult<(Option<String>, u32)> {
        let f = self
            .chip_info
            .ok_or(DcmiCallError::Missing("dcmi_get_device_chip_info"))?;
        let mut info = DcmiChipInfo {
            chip_type: [0; CHIP_NAME_BYTES],
            chip_name: [0; CHIP_NAME_BYTES],
            chip_ver: [0; CHIP_NAME_BYTES],
            aicore_cnt: 0,
        };
        // SAFETY: valid out-pointer to the documented struct.
        check("dcmi_get_device_chip_info", unsafe {
            f(at.card_id, at.device_id, &mut info)
        })?;
        let name = match (
            c_buf_to_string(&info.chip_type),
            c_buf_to_string(&info.chip_name),
        ) {
            (Some(t), Some(n)) => Some(format!("{t}{n}")),
            (None, Some(n)) => Some(n),
            _ => None,
        };
        Ok((name, info.aicore_cnt))
    }

    /// `dcmi_get_device_utilization_rate(input_type)` in percent.
    pub fn utilization(&self, at: ChipAddr, input_type: c_int) -> DcmiResult<u32> {
        let f = self
            .util
            .ok_or(DcmiCallError::Missing("dcmi_get_device_utilization_rate"))?;
        let mut rate: c_uint = 0;
        // SAFETY: valid out-pointer.
        check("dcmi_get_device_utilization_rate", unsafe {
            f(at.card_id, at.device_id, input_type, &mut rate)
        })?;
        Ok(rate)
    }
}
