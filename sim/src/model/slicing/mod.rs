//! Slicing model: how one card is shared (slicing-model §7.1).
//!
//! Every sharing mechanism is expressed as a *slice* with four attributes (slicing-model §7.1):
//! guaranteed compute `a`, compute cap `c`, a memory limit with its enforcement, and an
//! isolation kind. This module holds the mode-independent types and the three operations the
//! engine needs:
//!
//! * [`normalise`] — turn what a job asks of one card ([`CardRequest`]) into what the mode can
//!   grant ([`SliceRequest`]): round compute up to a unit, map to the smallest fitting MIG
//!   profile / vNPU template (the whole chip when no template is large enough), or refuse
//!   with a [`Refusal`]. [`implied_memory_mib`] is the memory a request implies when the job
//!   states none, so that a whole-card request is served by every mode on an empty card.
//! * [`fits`] — can this slice go on this card now, and where ([`Slot`])?
//! * [`allocate`] / [`release`] — update a [`CardState`].
//!
//! One file per mode holds the mode's rules: [`whole`], [`fractional`], [`mig`], [`vnpu`],
//! [`timeshare`]. Resource accounting is integer only (`*_milli` = thousandths of a card,
//! `*_mib` = MiB); floats appear only in [`crate::model::perf`].
//!
//! A `SliceRequest` produced for one device model must only be used with cards of that model:
//! MIG and vNPU slices refer to the model's profile/template tables by index.

pub mod fractional;
pub mod mig;
pub mod timeshare;
pub mod vnpu;
pub mod whole;

use serde::{Deserialize, Serialize};

use crate::model::catalog::DeviceModel;

pub use crate::model::catalog::{MigProfile, MigTable, ModeKind, VnpuTable, VnpuTemplate};
pub use fractional::{CapPolicy, FractionalParams};
pub use mig::{MigGeometry, MigInstance, MigParams, MigPlacement};
pub use timeshare::TimeshareParams;

/// Thousandths of a card in one whole card.
pub const WHOLE_CARD_MILLI: u32 = crate::model::units::GPU_MILLI;

/// How a card is shared; chosen per device model in the fleet file (DESIGN.md "Slicing modes").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlicingMode {
    /// One job per card (Kubernetes device plugin).
    Whole,
    /// Compute share in units plus memory (Flex:ai vGPU, HAMi vGPU) — slicing-model §1.1, §2.1.
    Fractional(FractionalParams),
    /// NVIDIA MIG profiles at legal start slots — slicing-model §3.1.
    Mig(MigParams),
    /// Ascend vNPU templates — slicing-model §4.1.
    Vnpu,
    /// Weighted time slices, compute oversubscribed, memory never — slicing-model §1.4.
    Timeshare(TimeshareParams),
}

impl SlicingMode {
    /// The parameter-free kind, used in the catalog's list of supported modes.
    pub fn kind(&self) -> ModeKind {
        match self {
            SlicingMode::Whole => ModeKind::Whole,
            SlicingMode::Fractional(_) => ModeKind::Fractional,
            SlicingMode::Mig(_) => ModeKind::Mig,
            SlicingMode::Vnpu => ModeKind::Vnpu,
            SlicingMode::Timeshare(_) => ModeKind::Timeshare,
        }
    }

    /// The openb / FGD GPU-share model — see [`FractionalParams::SHARE`].
    pub const SHARE: SlicingMode = SlicingMode::Fractional(FractionalParams::SHARE);
    /// Flex:ai vGPU defaults (5 % steps, 5 vGPUs a card, hard cap) — see [`FractionalParams::FLEXAI`].
    pub const FLEXAI_VGPU: SlicingMode = SlicingMode::Fractional(FractionalParams::FLEXAI);
    /// HAMi vGPU defaults (1 % steps, 10 tasks a card, priority caps) — see [`FractionalParams::HAMI`].
    pub const HAMI_VGPU: SlicingMode = SlicingMode::Fractional(FractionalParams::HAMI);
    /// MIG with first-free placement — see [`MigParams::DEFAULT`].
    pub const MIG: SlicingMode = SlicingMode::Mig(MigParams::DEFAULT);
    /// Flex:ai Ascend time slicing defaults — see [`TimeshareParams::FLEXAI_NPU`].
    pub const FLEXAI_TIMESHARE: SlicingMode = SlicingMode::Timeshare(TimeshareParams::FLEXAI_NPU);
}

impl SlicingMode {
    /// The names [`SlicingMode::from_name`] accepts.
    pub const NAMES: &'static [&'static str] = &[
        "whole",
        "share",
        "fractional",
        "flexai",
        "hami",
        "mig",
        "vnpu",
        "timeshare",
    ];

    /// The mode's name as [`SlicingMode::from_name`] reads it, or a description for modes with
    /// non-preset parameters.
    pub fn name(&self) -> String {
        match self {
            SlicingMode::Whole => "whole".into(),
            m if *m == SlicingMode::SHARE => "share".into(),
            m if *m == SlicingMode::FLEXAI_VGPU => "flexai".into(),
            m if *m == SlicingMode::HAMI_VGPU => "hami".into(),
            SlicingMode::Fractional(p) => {
                format!(
                    "fractional(unit={},tenants={})",
                    p.unit_milli, p.max_tenants
                )
            }
            SlicingMode::Mig(_) => "mig".into(),
            SlicingMode::Vnpu => "vnpu".into(),
            SlicingMode::Timeshare(_) => "timeshare".into(),
        }
    }

    /// A mode by its CLI / fleet-file name: `whole`; `share` (openb/FGD: any milli, no cap);
    /// `fractional` or `flexai` (Flex:ai vGPU: 5 % units, 5 tenants, memory admission);
    /// `hami` (1 % units, 10 tenants); `mig`; `vnpu`; `timeshare` (Flex:ai NPU time slices).
    pub fn from_name(name: &str) -> Option<SlicingMode> {
        Some(match name {
            "whole" => SlicingMode::Whole,
            "share" => SlicingMode::SHARE,
            "fractional" | "flexai" => SlicingMode::FLEXAI_VGPU,
            "hami" => SlicingMode::HAMI_VGPU,
            "mig" => SlicingMode::MIG,
            "vnpu" => SlicingMode::Vnpu,
            "timeshare" => SlicingMode::FLEXAI_TIMESHARE,
            _ => return None,
        })
    }
}

/// How device memory is enforced for a slice (slicing-model §7.1 attribute 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemoryEnforcement {
    /// Hardware partition (MIG, vNPU, whole card).
    Hard,
    /// Checked at placement: Σ memory ≤ card memory (Flex:ai, HAMi, time slicing).
    Admission,
    /// Not checked at placement (KAI-like); the engine may model OOM (slicing-model §7.2 step 4).
    None,
}

/// Isolation of a slice; decides interference in [`crate::model::perf`] (slicing-model §7.1 attribute 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Isolation {
    /// Own sub-device; no interference (whole card, MIG, vNPU).
    Partition,
    /// Kernels of co-tenants run at the same time (MPS, soft vGPU caps): interference ι.
    Spatial,
    /// Co-tenants take turns (time slices): switch overhead, no interference.
    Temporal,
}

/// What a job asks of one card, before the mode normalises it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CardRequest {
    /// Compute share wanted, thousandths of a card (1..=1000). 0 = no compute share asked
    /// (Flex:ai: "no compute limit"; HAMi: "fits anywhere").
    pub compute_milli: u32,
    /// Device memory wanted, MiB. 0 = none: fractional and timeshare slices then account
    /// 0 MiB, whole cards take all memory, MIG/vNPU take the chosen profile's memory. A job
    /// that states no memory asks for [`implied_memory_mib`] (the cluster does this).
    pub memory_mib: u64,
    /// Time-slice weight for [`SlicingMode::Timeshare`], in thousandths; 0 = derive from
    /// `compute_milli`. Ignored by other modes.
    pub weight_milli: u32,
    /// Priority class, 0 = highest; lower classes are served first on a shared card
    /// (HAMi `nvidia.com/priority` 0 = high, 1 = low — slicing-model §2.1).
    pub priority_class: u8,
}

impl CardRequest {
    /// A request for `compute_milli` thousandths of a card and `memory_mib` MiB.
    pub fn new(compute_milli: u32, memory_mib: u64) -> Self {
        CardRequest {
            compute_milli,
            memory_mib,
            weight_milli: 0,
            priority_class: 0,
        }
    }
}

/// Which mode-specific object a slice is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SliceKind {
    /// The whole card: in whole mode, and in vNPU mode the unsplit chip a request no template
    /// holds gets ([`vnpu::normalise`]).
    Whole,
    Fractional,
    /// Index into the device model's [`MigTable::profiles`].
    Mig {
        profile_index: u8,
    },
    /// Index into the device model's [`VnpuTable::templates`].
    Vnpu {
        template_index: u8,
    },
    Timeshare,
}

/// A normalised request: what the mode will grant if the card has room (slicing-model §7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SliceRequest {
    pub kind: SliceKind,
    /// Guaranteed compute `a`, thousandths of a card. For timeshare this is the nominal share
    /// the job asked for; the guarantee at run time is `weight / Σ weights`
    /// (see [`CardState::share`]).
    pub compute_milli: u32,
    /// Static compute cap `c`, thousandths of a card. Some modes make the cap depend on the
    /// co-tenants (HAMi priorities); [`CardState::share`] gives the effective one.
    pub cap_milli: u32,
    /// Device memory granted, MiB.
    pub memory_mib: u64,
    pub memory: MemoryEnforcement,
    pub isolation: Isolation,
    /// Time-slice weight, thousandths (timeshare only; 0 elsewhere).
    pub weight_milli: u32,
    /// Priority class, 0 = highest.
    pub priority_class: u8,
}

/// Where on the card a slice was placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Slot {
    /// No position: the card is shared as a whole (whole, fractional, vNPU, timeshare).
    Card,
    /// MIG GPU instance at this start index on the 8-wide memory-slice axis (slicing-model §3.1).
    Mig { start_slot: u8 },
}

/// Why a request cannot be normalised or placed. `Copy` and allocation-free so the engine can
/// return it from the hot path; `Display` gives the human reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    #[error("slicing mode {mode} is not supported by this device model")]
    ModeNotSupported { mode: ModeKind },
    #[error("compute request {requested_milli} milli exceeds one card (1000)")]
    ComputeTooLarge { requested_milli: u32 },
    #[error("memory request {requested_mib} MiB exceeds the {limit_mib} MiB this mode can give")]
    MemoryTooLarge { requested_mib: u64, limit_mib: u64 },
    #[error("device model has no MIG profile table")]
    NoMigTable,
    #[error("device model has no vNPU template table")]
    NoVnpuTable,
    #[error("no MIG profile is large enough for the request")]
    NoProfileFits,
    #[error("no vNPU template is large enough for the request")]
    NoTemplateFits,
    #[error("slice of kind {slice:?} cannot be placed on a card in mode {card}")]
    WrongMode { slice: SliceKind, card: ModeKind },
    #[error("slice refers to a profile/template index the device model does not have")]
    UnknownSlice,
    #[error("card already holds its maximum of {max_tenants} tenants")]
    TenantLimit { max_tenants: u32 },
    #[error("compute {requested_milli} milli requested, only {free_milli} milli free")]
    ComputeExhausted {
        requested_milli: u32,
        free_milli: u32,
    },
    #[error("memory {requested_mib} MiB requested, only {free_mib} MiB free")]
    MemoryExhausted { requested_mib: u64, free_mib: u64 },
    #[error("MIG profile {profile_id} already has its maximum of {max_instances} instances")]
    ProfileInstanceLimit { profile_id: u8, max_instances: u8 },
    #[error("only one +me (media extensions) MIG instance is allowed per GPU")]
    MediaExtensionTaken,
    #[error("MIG compute slices exhausted: {requested} needed, {free} free")]
    ComputeSlicesExhausted { requested: u8, free: u8 },
    #[error("no legal start slot is free for MIG profile {profile_id}")]
    NoLegalStartSlot { profile_id: u8 },
    #[error("AI cores exhausted: {requested} needed, {free} free")]
    AiCoresExhausted { requested: u32, free: u32 },
    #[error("AI CPUs exhausted: {requested} needed, {free} free")]
    AiCpusExhausted { requested: u32, free: u32 },
    #[error("tenant {tenant_id} is already on this card")]
    DuplicateTenant { tenant_id: u64 },
    #[error("tenant {tenant_id} is not on this card")]
    UnknownTenant { tenant_id: u64 },
}

/// The most device memory a job can get from one card in `mode`, MiB — the card as the mode
/// exposes it, and what a whole-card request implies ([`implied_memory_mib`]):
///
/// * MIG: the largest profile's memory. In MIG mode the 7g instance *is* the whole GPU; MIG
///   keeps the rest for itself (slicing-model §3.1: 7g.40gb holds 40192 of the A100-40GB's
///   40960 MiB; §2.5: HAMi's allow-list calls the A100-80GB's full profile "7g.79gb").
/// * vNPU: the chip's memory: a request no template holds gets the unsplit chip
///   (slicing-model §2.4, [`vnpu::normalise`]).
/// * whole, fractional, timeshare: the card's memory.
pub fn card_memory_mib(mode: &SlicingMode, device: &DeviceModel) -> u64 {
    match mode {
        SlicingMode::Mig(_) => mig::largest_memory_mib(device).unwrap_or(device.memory_mib),
        _ => device.memory_mib,
    }
}

/// Device memory implied by a request for `compute_milli` of a card that states no memory:
/// the same share of the card's memory as of its compute, the card as `mode` exposes it
/// ([`card_memory_mib`]). A whole-card request (1000 milli) thus asks for exactly what the
/// mode's whole card holds, and is served on an empty card in every mode: MIG gives it the 7g
/// profile (slicing-model §3.1), vNPU the whole chip (§2.4). For whole, fractional and
/// timeshare cards this is `compute_milli / 1000` of the card's memory.
pub fn implied_memory_mib(mode: &SlicingMode, device: &DeviceModel, compute_milli: u32) -> u64 {
    u64::from(compute_milli) * card_memory_mib(mode, device) / u64::from(WHOLE_CARD_MILLI)
}

/// Normalise a request for `device` under `mode` (slicing-model §7.1 mapping table).
///
/// Refuses when the device model does not support the mode, or when no slice of this mode
/// can ever satisfy the request on this device (whatever the card's occupancy).
pub fn normalise(
    mode: &SlicingMode,
    device: &DeviceModel,
    request: &CardRequest,
) -> Result<SliceRequest, Refusal> {
    if !device.supports(mode.kind()) {
        return Err(Refusal::ModeNotSupported { mode: mode.kind() });
    }
    if request.compute_milli > WHOLE_CARD_MILLI {
        return Err(Refusal::ComputeTooLarge {
            requested_milli: request.compute_milli,
        });
    }
    match mode {
        SlicingMode::Whole => whole::normalise(device, request),
        SlicingMode::Fractional(p) => fractional::normalise(p, device, request),
        SlicingMode::Mig(p) => mig::normalise_in(p, device, request),
        SlicingMode::Vnpu => vnpu::normalise(device, request),
        SlicingMode::Timeshare(p) => timeshare::normalise(p, device, request),
    }
}

/// One job bound to a card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    /// The engine's id for the job (or job × device index); unique on a card.
    pub tenant_id: u64,
    pub slice: SliceRequest,
    pub slot: Slot,
}

/// What is allocated on one card. Sums are kept incrementally so that [`fits`] is O(tenants)
/// at worst (O(1) for most modes).
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardState {
    mode: SlicingMode,
    tenants: Vec<Tenant>,
    /// Σ guaranteed compute `a` (timeshare: Σ nominal shares, may exceed 1000).
    compute_milli: u32,
    /// Σ memory granted.
    memory_mib: u64,
    /// Σ timeshare weights.
    weight_milli: u64,
    /// MIG: bit i set = memory slice i taken.
    mig_memory_mask: u8,
    /// MIG: compute slices taken (of 7).
    mig_compute_slices: u8,
    /// MIG: a `+me` instance exists.
    mig_media_taken: bool,
    /// vNPU: AI cores and AI CPUs taken.
    ai_cores: u32,
    ai_cpus: u32,
}

/// Written out (not derived) for `clone_from`, which keeps the target's tenant list
/// allocation: a preemption search copies a node for every victim set it tries
/// ([`Node::copy_without`](crate::model::cluster::Node::copy_without)). The destructuring
/// makes a new field a compile error here, not a field left uncopied.
impl Clone for CardState {
    fn clone(&self) -> Self {
        let mut c = CardState::new(self.mode);
        c.clone_from(self);
        c
    }

    fn clone_from(&mut self, source: &Self) {
        let CardState {
            mode,
            tenants,
            compute_milli,
            memory_mib,
            weight_milli,
            mig_memory_mask,
            mig_compute_slices,
            mig_media_taken,
            ai_cores,
            ai_cpus,
        } = source;
        self.mode = *mode;
        self.tenants.clone_from(tenants);
        self.compute_milli = *compute_milli;
        self.memory_mib = *memory_mib;
        self.weight_milli = *weight_milli;
        self.mig_memory_mask = *mig_memory_mask;
        self.mig_compute_slices = *mig_compute_slices;
        self.mig_media_taken = *mig_media_taken;
        self.ai_cores = *ai_cores;
        self.ai_cpus = *ai_cpus;
    }
}

impl CardState {
    /// An empty card shared under `mode`.
    pub fn new(mode: SlicingMode) -> Self {
        CardState {
            mode,
            tenants: Vec::new(),
            compute_milli: 0,
            memory_mib: 0,
            weight_milli: 0,
            mig_memory_mask: 0,
            mig_compute_slices: 0,
            mig_media_taken: false,
            ai_cores: 0,
            ai_cpus: 0,
        }
    }

    pub fn mode(&self) -> &SlicingMode {
        &self.mode
    }

    /// Tenants in allocation order.
    pub fn tenants(&self) -> &[Tenant] {
        &self.tenants
    }

    pub fn is_empty(&self) -> bool {
        self.tenants.is_empty()
    }

    /// Σ guaranteed compute, thousandths of a card (the *allocated* utilisation numerator,
    /// DESIGN.md "Utilization"). Timeshare: Σ nominal shares, which may exceed 1000.
    pub fn allocated_compute_milli(&self) -> u32 {
        self.compute_milli
    }

    /// Σ memory granted, MiB.
    pub fn allocated_memory_mib(&self) -> u64 {
        self.memory_mib
    }

    /// MIG memory-slice occupancy bitmask (bit i = slice i), for fragmentation measures.
    pub fn mig_memory_mask(&self) -> u8 {
        self.mig_memory_mask
    }

    /// vNPU AI cores and AI CPUs taken.
    pub fn vnpu_used(&self) -> (u32, u32) {
        (self.ai_cores, self.ai_cpus)
    }

    /// Effective guarantee `a` and cap `c` of tenant `index` given its current co-tenants,
    /// in thousandths of a card — the inputs [`crate::model::perf`] needs (slicing-model §7.1 table).
    /// `None` if `index` is out of range.
    pub fn share(&self, index: usize) -> Option<Share> {
        let t = self.tenants.get(index)?;
        let (alloc_milli, cap_milli) = match &self.mode {
            SlicingMode::Whole | SlicingMode::Mig(_) | SlicingMode::Vnpu => {
                (t.slice.compute_milli, t.slice.cap_milli)
            }
            SlicingMode::Fractional(p) => fractional::share(p, &self.tenants, index),
            SlicingMode::Timeshare(p) => {
                timeshare::share(p, &self.tenants, self.weight_milli, index)
            }
        };
        Some(Share {
            alloc_milli,
            cap_milli,
            isolation: t.slice.isolation,
            weight_milli: if t.slice.weight_milli > 0 {
                t.slice.weight_milli
            } else {
                alloc_milli
            },
            priority_class: t.slice.priority_class,
        })
    }
}

/// A tenant's effective slice attributes, for the rate computation (slicing-model §7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Share {
    /// Guaranteed compute `a`, thousandths of a card.
    pub alloc_milli: u32,
    /// Compute cap `c`, thousandths of a card.
    pub cap_milli: u32,
    pub isolation: Isolation,
    /// Water-filling weight: the time-slice weight, else `a`.
    pub weight_milli: u32,
    pub priority_class: u8,
}

/// Can `slice` be placed on `card` now, and where? Does not change the card.
pub fn fits(card: &CardState, device: &DeviceModel, slice: &SliceRequest) -> Result<Slot, Refusal> {
    match (&card.mode, slice.kind) {
        (SlicingMode::Whole, SliceKind::Whole) => whole::fits(card, device, slice),
        (SlicingMode::Fractional(p), SliceKind::Fractional) => {
            fractional::fits(p, card, device, slice)
        }
        (SlicingMode::Mig(p), SliceKind::Mig { profile_index }) => {
            mig::fits(p, card, device, profile_index)
        }
        (SlicingMode::Vnpu, SliceKind::Vnpu { template_index }) => {
            vnpu::fits(card, device, template_index)
        }
        (SlicingMode::Vnpu, SliceKind::Whole) => vnpu::fits_whole_chip(card, device),
        (SlicingMode::Timeshare(p), SliceKind::Timeshare) => {
            timeshare::fits(p, card, device, slice)
        }
        // Built only here: this test runs for every card of every node a placement looks at.
        _ => Err(Refusal::WrongMode {
            slice: slice.kind,
            card: card.mode.kind(),
        }),
    }
}

/// Place `slice` for `tenant_id` on `card` (checks [`fits`] first; the card is unchanged on
/// refusal).
pub fn allocate(
    card: &mut CardState,
    device: &DeviceModel,
    tenant_id: u64,
    slice: &SliceRequest,
) -> Result<Slot, Refusal> {
    if card.tenants.iter().any(|t| t.tenant_id == tenant_id) {
        return Err(Refusal::DuplicateTenant { tenant_id });
    }
    let slot = fits(card, device, slice)?;
    card.add(device, tenant_id, *slice, slot);
    Ok(slot)
}

/// Remove `tenant_id` from `card`, returning what it held.
pub fn release(
    card: &mut CardState,
    device: &DeviceModel,
    tenant_id: u64,
) -> Result<Tenant, Refusal> {
    let index = card
        .tenants
        .iter()
        .position(|t| t.tenant_id == tenant_id)
        .ok_or(Refusal::UnknownTenant { tenant_id })?;
    let t = card.tenants.remove(index);
    card.compute_milli -= t.slice.compute_milli;
    card.memory_mib -= t.slice.memory_mib;
    card.weight_milli -= u64::from(t.slice.weight_milli);
    match (t.slice.kind, t.slot) {
        (SliceKind::Mig { profile_index }, Slot::Mig { start_slot }) => {
            if let Some(p) = device
                .mig
                .as_ref()
                .and_then(|m| m.profiles.get(usize::from(profile_index)))
            {
                card.mig_memory_mask &= !mig::slot_mask(start_slot, p.memory_slices);
                card.mig_compute_slices -= p.compute_slices;
                if p.media_extensions {
                    card.mig_media_taken = false;
                }
            }
        }
        (SliceKind::Vnpu { template_index }, _) => {
            if let Some(v) = device
                .vnpu
                .as_ref()
                .and_then(|v| v.templates.get(usize::from(template_index)))
            {
                card.ai_cores -= v.ai_cores;
                card.ai_cpus -= v.ai_cpus;
            }
        }
        (SliceKind::Whole, _) if card.mode == SlicingMode::Vnpu => {
            card.ai_cores -= device.compute_units;
            card.ai_cpus -= device.ai_cpus;
        }
        _ => {}
    }
    Ok(t)
}

impl CardState {
    fn add(&mut self, device: &DeviceModel, tenant_id: u64, slice: SliceRequest, slot: Slot) {
        self.compute_milli += slice.compute_milli;
        self.memory_mib += slice.memory_mib;
        self.weight_milli += u64::from(slice.weight_milli);
        match (slice.kind, slot) {
            (SliceKind::Mig { profile_index }, Slot::Mig { start_slot }) => {
                if let Some(p) = device
                    .mig
                    .as_ref()
                    .and_then(|m| m.profiles.get(usize::from(profile_index)))
                {
                    self.mig_memory_mask |= mig::slot_mask(start_slot, p.memory_slices);
                    self.mig_compute_slices += p.compute_slices;
                    if p.media_extensions {
                        self.mig_media_taken = true;
                    }
                }
            }
            (SliceKind::Vnpu { template_index }, _) => {
                if let Some(v) = device
                    .vnpu
                    .as_ref()
                    .and_then(|v| v.templates.get(usize::from(template_index)))
                {
                    self.ai_cores += v.ai_cores;
                    self.ai_cpus += v.ai_cpus;
                }
            }
            // The whole chip of a vNPU-mode card takes every AI core and AI CPU.
            (SliceKind::Whole, _) if self.mode == SlicingMode::Vnpu => {
                self.ai_cores += device.compute_units;
                self.ai_cpus += device.ai_cpus;
            }
            _ => {}
        }
        self.tenants.push(Tenant {
            tenant_id,
            slice,
            slot,
        });
    }
}

/// Refuses a request for more memory than `limit_mib`, the most any slice of the mode can give.
pub(crate) fn memory_within(requested_mib: u64, limit_mib: u64) -> Result<(), Refusal> {
    if requested_mib > limit_mib {
        return Err(Refusal::MemoryTooLarge {
            requested_mib,
            limit_mib,
        });
    }
    Ok(())
}

/// Memory admission: the card's unallocated memory must hold `requested_mib`.
pub(crate) fn memory_free(
    card: &CardState,
    device: &DeviceModel,
    requested_mib: u64,
) -> Result<(), Refusal> {
    let free_mib = device
        .memory_mib
        .saturating_sub(card.allocated_memory_mib());
    if requested_mib > free_mib {
        return Err(Refusal::MemoryExhausted {
            requested_mib,
            free_mib,
        });
    }
    Ok(())
}

/// Why no profile/template of a table serves a request: too much memory for the largest one
/// (`largest_mib`), else `none_fits`.
pub(crate) fn no_fit(requested_mib: u64, largest_mib: u64, none_fits: Refusal) -> Refusal {
    memory_within(requested_mib, largest_mib)
        .err()
        .unwrap_or(none_fits)
}

/// Round `value` up to a multiple of `unit` (`unit` 0 or 1 = no rounding).
pub(crate) fn round_up(value: u32, unit: u32) -> u32 {
    if unit <= 1 {
        value
    } else {
        value.div_ceil(unit).saturating_mul(unit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::catalog::Catalog;

    #[test]
    fn unsupported_mode_is_refused() {
        let t4 = Catalog::preset("T4").unwrap();
        let err = normalise(&SlicingMode::MIG, &t4, &CardRequest::new(100, 0)).unwrap_err();
        assert_eq!(
            err,
            Refusal::ModeNotSupported {
                mode: ModeKind::Mig
            }
        );
    }

    #[test]
    fn compute_over_one_card_is_refused() {
        let t4 = Catalog::preset("T4").unwrap();
        let err =
            normalise(&SlicingMode::FLEXAI_VGPU, &t4, &CardRequest::new(1001, 0)).unwrap_err();
        assert_eq!(
            err,
            Refusal::ComputeTooLarge {
                requested_milli: 1001
            }
        );
    }

    #[test]
    fn wrong_mode_slice_is_refused_not_panicking() {
        let a100 = Catalog::preset("A100-40").unwrap();
        let frac = normalise(&SlicingMode::FLEXAI_VGPU, &a100, &CardRequest::new(100, 0)).unwrap();
        let card = CardState::new(SlicingMode::MIG);
        assert!(matches!(
            fits(&card, &a100, &frac),
            Err(Refusal::WrongMode { .. })
        ));
    }

    #[test]
    fn release_restores_sums_and_unknown_tenant_is_an_error() {
        let a100 = Catalog::preset("A100-40").unwrap();
        let mut card = CardState::new(SlicingMode::FLEXAI_VGPU);
        let s = normalise(
            &SlicingMode::FLEXAI_VGPU,
            &a100,
            &CardRequest::new(300, 4096),
        )
        .unwrap();
        allocate(&mut card, &a100, 7, &s).unwrap();
        assert_eq!(
            allocate(&mut card, &a100, 7, &s),
            Err(Refusal::DuplicateTenant { tenant_id: 7 })
        );
        assert_eq!(card.allocated_compute_milli(), 300);
        assert_eq!(card.allocated_memory_mib(), 4096);
        release(&mut card, &a100, 7).unwrap();
        assert!(card.is_empty());
        assert_eq!(card.allocated_compute_milli(), 0);
        assert_eq!(card.allocated_memory_mib(), 0);
        assert_eq!(
            release(&mut card, &a100, 7),
            Err(Refusal::UnknownTenant { tenant_id: 7 })
        );
    }

    /// Every mode a catalog model supports, with its preset parameters (MIG: both dynamic
    /// placement rules).
    fn every_mode_of(device: &DeviceModel) -> Vec<(String, SlicingMode)> {
        let least_loss = SlicingMode::Mig(MigParams {
            placement: mig::MigPlacement::LeastLoss,
        });
        SlicingMode::NAMES
            .iter()
            .map(|n| (n.to_string(), SlicingMode::from_name(n).unwrap()))
            .chain([("mig least-loss".to_string(), least_loss)])
            .filter(|(_, m)| device.supports(m.kind()))
            .collect()
    }

    fn served_on_an_empty_card(
        mode: &SlicingMode,
        device: &DeviceModel,
        request: &CardRequest,
    ) -> Result<SliceRequest, Refusal> {
        let slice = normalise(mode, device, request)?;
        fits(&CardState::new(*mode), device, &slice)?;
        Ok(slice)
    }

    #[test]
    fn every_request_within_the_card_is_served_on_an_empty_card_by_every_catalog_model_and_mode() {
        let mut never_servable = Vec::new();
        for name in Catalog::names() {
            let d = Catalog::preset(name).unwrap();
            for (mode_name, mode) in every_mode_of(&d) {
                let card_mib = card_memory_mib(&mode, &d);
                // Any compute share with the memory it implies, the whole card included.
                for milli in 1..=WHOLE_CARD_MILLI {
                    let memory = implied_memory_mib(&mode, &d, milli);
                    let request = CardRequest::new(milli, memory);
                    if let Err(r) = served_on_an_empty_card(&mode, &d, &request) {
                        never_servable.push(format!("{name} {mode_name} {milli} milli: {r}"));
                    }
                }
                // Stated memory up to all the mode's card holds, at several compute shares.
                for milli in [1, 100, 500, 999, 1000] {
                    for k in 0..=16 {
                        let request = CardRequest::new(milli, card_mib * k / 16);
                        if let Err(r) = served_on_an_empty_card(&mode, &d, &request) {
                            never_servable.push(format!(
                                "{name} {mode_name} {milli} milli {} MiB: {r}",
                                request.memory_mib
                            ));
                        }
                    }
                }
                // Only what truly exceeds the card is refused, and said so.
                assert_eq!(
                    normalise(&mode, &d, &CardRequest::new(1000, card_mib + 1)),
                    Err(Refusal::MemoryTooLarge {
                        requested_mib: card_mib + 1,
                        limit_mib: card_mib
                    }),
                    "{name} {mode_name}"
                );
            }
        }
        assert!(
            never_servable.is_empty(),
            "never servable on an empty card:\n{}",
            never_servable.join("\n")
        );
    }

    #[test]
    fn whole_card_request_gets_7g_under_mig_and_the_whole_chip_under_vnpu() {
        for name in ["A100-40", "A100-80", "H100-80", "H200"] {
            let d = Catalog::preset(name).unwrap();
            let implied = implied_memory_mib(&SlicingMode::MIG, &d, 1000);
            let s = normalise(&SlicingMode::MIG, &d, &CardRequest::new(1000, implied)).unwrap();
            let table = d.mig.as_ref().unwrap();
            let SliceKind::Mig { profile_index } = s.kind else {
                panic!("{name}: not a MIG slice");
            };
            let profile = &table.profiles[usize::from(profile_index)];
            assert_eq!(profile.compute_slices, 7, "{name}");
            assert_eq!(implied, profile.memory_mib, "{name}");
            // What MIG keeps for itself is a small part of the card (≤ 2 %).
            assert!(
                implied <= d.memory_mib && implied * 50 >= d.memory_mib * 49,
                "{name}"
            );
        }
        for name in ["Ascend910B3", "Ascend310P3"] {
            let d = Catalog::preset(name).unwrap();
            let implied = implied_memory_mib(&SlicingMode::Vnpu, &d, 1000);
            assert_eq!(implied, d.memory_mib);
            let s = normalise(&SlicingMode::Vnpu, &d, &CardRequest::new(1000, implied)).unwrap();
            assert_eq!(
                (s.kind, s.compute_milli),
                (SliceKind::Whole, 1000),
                "{name}"
            );
        }
        // Other modes: the implied memory is the card's share, as before.
        let t4 = Catalog::preset("T4").unwrap();
        assert_eq!(
            implied_memory_mib(&SlicingMode::FLEXAI_VGPU, &t4, 250),
            t4.memory_mib / 4
        );
    }

    #[test]
    fn round_up_units() {
        assert_eq!(round_up(120, 50), 150);
        assert_eq!(round_up(150, 50), 150);
        assert_eq!(round_up(120, 10), 120);
        assert_eq!(round_up(121, 10), 130);
        assert_eq!(round_up(0, 50), 0);
        assert_eq!(round_up(7, 0), 7);
    }
}
