//! MIG geometries: the GPU-instance profiles a device model offers and their legal start
//! slots — datasheet facts of the device (slicing-model §3.1), which the MIG slicing mode
//! ([`crate::model::slicing::mig`]) places instances by.

use serde::{Deserialize, Serialize};

use crate::model::units::GPU_MILLI;

/// One GPU-instance profile (a row of `nvidia-smi mig -lgip` / `-lgipp`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MigProfile {
    /// nvidia-smi profile ID (19, 20, 15, 14, 9, 5, 0) — not NVML's profile index (§3.1 pitfall).
    pub profile_id: u8,
    pub name: String,
    pub compute_slices: u8,
    pub memory_slices: u8,
    /// SMs exposed by the instance.
    pub sm_count: u32,
    pub memory_mib: u64,
    /// Legal start indices on the memory axis, ascending.
    pub legal_starts: Vec<u8>,
    pub max_instances: u8,
    /// `+me` profile (media extensions): at most one per GPU.
    pub media_extensions: bool,
}

/// A device model's MIG geometry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MigTable {
    /// Width of the memory axis (8 on A100/H100/H200).
    pub memory_slices: u8,
    /// Compute slices (7 on A100/H100/H200).
    pub compute_slices: u8,
    /// SMs of the card with MIG off; `a` of a profile is `sm_count / full_card_sm_count`.
    pub full_card_sm_count: u32,
    pub profiles: Vec<MigProfile>,
}

impl MigTable {
    /// Guaranteed compute of a profile, thousandths of the MIG-off card (rounded down so that
    /// zero-waste geometries never sum above 1000).
    pub fn compute_milli(&self, profile: &MigProfile) -> u32 {
        if self.full_card_sm_count == 0 {
            return 0;
        }
        let m =
            u64::from(profile.sm_count) * u64::from(GPU_MILLI) / u64::from(self.full_card_sm_count);
        m.min(u64::from(GPU_MILLI)) as u32
    }

    /// Index of the profile called `name` (e.g. "3g.20gb", "1g.5gb+me").
    pub fn profile_index(&self, name: &str) -> Option<u8> {
        self.profiles
            .iter()
            .position(|p| p.name == name)
            .and_then(|i| u8::try_from(i).ok())
    }
}

#[allow(clippy::too_many_arguments)]
fn profile(
    profile_id: u8,
    name: &str,
    compute_slices: u8,
    memory_slices: u8,
    sm_count: u32,
    memory_mib: u64,
    legal_starts: &[u8],
    max_instances: u8,
) -> MigProfile {
    MigProfile {
        profile_id,
        name: name.to_string(),
        compute_slices,
        memory_slices,
        sm_count,
        memory_mib,
        legal_starts: legal_starts.to_vec(),
        max_instances,
        media_extensions: name.ends_with("+me"),
    }
}

const ANY_1G: &[u8] = &[0, 1, 2, 3, 4, 5, 6];
const EVEN_1G2X: &[u8] = &[0, 2, 4, 6];
const STARTS_2G: &[u8] = &[0, 2, 4];
const STARTS_3G: &[u8] = &[0, 4];
const STARTS_0: &[u8] = &[0];

/// Geometry shared by A100/H100/H200 (slicing-model §3.1 placement table and max instances:
/// 1g 7, 1g+me 1, 1g double-memory 4, 2g 3, 3g 2, 4g 1, 7g 1). `names` = the seven profile
/// names in ID order 19, 20, 15, 14, 9, 5, 0; `sm` and `mib` likewise.
fn geometry(full_card_sm_count: u32, names: [&str; 7], sm: [u32; 7], mib: [u64; 7]) -> MigTable {
    MigTable {
        memory_slices: 8,
        compute_slices: 7,
        full_card_sm_count,
        profiles: vec![
            profile(19, names[0], 1, 1, sm[0], mib[0], ANY_1G, 7),
            profile(20, names[1], 1, 1, sm[1], mib[1], ANY_1G, 1),
            profile(15, names[2], 1, 2, sm[2], mib[2], EVEN_1G2X, 4),
            profile(14, names[3], 2, 2, sm[3], mib[3], STARTS_2G, 3),
            profile(9, names[4], 3, 4, sm[4], mib[4], STARTS_3G, 2),
            profile(5, names[5], 4, 4, sm[5], mib[5], STARTS_0, 1),
            profile(0, names[6], 7, 8, sm[6], mib[6], STARTS_0, 1),
        ],
    }
}

/// A100-40GB: 14 SMs per compute slice, 108 SMs with MIG off (7g exposes 98); memory as
/// reported by NVML (slicing-model §3.1, third-party, "verify").
pub fn a100_40gb() -> MigTable {
    geometry(
        108,
        [
            "1g.5gb",
            "1g.5gb+me",
            "1g.10gb",
            "2g.10gb",
            "3g.20gb",
            "4g.20gb",
            "7g.40gb",
        ],
        [14, 14, 14, 28, 42, 56, 98],
        [4864, 4864, 9856, 9856, 19968, 19968, 40192],
    )
}

/// A100-80GB: SMs as A100-40GB (14 per slice, 108 full). The spec gives no A100-80 memory
/// sizes; we assume the H100-80GB log's values (same 80 GB / 8-slice layout) — calibrate.
/// HAMi's allow-list spells the full profile "7g.79gb"; §3.1's table says 7g.80gb.
pub fn a100_80gb() -> MigTable {
    geometry(
        108,
        [
            "1g.10gb",
            "1g.10gb+me",
            "1g.20gb",
            "2g.20gb",
            "3g.40gb",
            "4g.40gb",
            "7g.80gb",
        ],
        [14, 14, 14, 28, 42, 56, 98],
        H100_80_MIB,
    )
}

/// H100-80GB memory per profile from the real `nvidia-smi mig -lgip` log (§3.1): 9.75, 9.75,
/// 19.62, 19.62, 39.50, 39.50, 79.25 GiB (19.62 taken as 19.625 GiB = 20096 MiB).
const H100_80_MIB: [u64; 7] = [9984, 9984, 20096, 20096, 40448, 40448, 81152];

/// H100-80GB: SM counts and memory from the real `nvidia-smi mig -lgip` log in §3.1
/// (1g 16, 1g.20gb 26, 2g 32, 3g 60, 4g 64, 7g 132 of 132 SMs).
pub fn h100_80gb() -> MigTable {
    geometry(
        132,
        [
            "1g.10gb",
            "1g.10gb+me",
            "1g.20gb",
            "2g.20gb",
            "3g.40gb",
            "4g.40gb",
            "7g.80gb",
        ],
        [16, 16, 26, 32, 60, 64, 132],
        H100_80_MIB,
    )
}

/// H200-141GB: names from §3.1 (1g.18gb+me, 1g.35gb and 4g.71gb are third-party, "verify").
/// SM counts assumed equal to H100-80GB (same GH100 die, 132 SMs). Memory assumed proportional
/// to memory slices: 1/8 of the card's nominal 141 GiB per slice (the rounded names would
/// overfill the card: 4g.71gb + 3g.71gb > 141). Assumptions until calibrated.
pub fn h200_141gb() -> MigTable {
    geometry(
        132,
        [
            "1g.18gb",
            "1g.18gb+me",
            "1g.35gb",
            "2g.35gb",
            "3g.71gb",
            "4g.71gb",
            "7g.141gb",
        ],
        [16, 16, 26, 32, 60, 64, 132],
        [18048, 18048, 36096, 36096, 72192, 72192, 144384],
    )
}
