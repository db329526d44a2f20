//! The fleet: the nodes of a cluster and the device models on them, before any job runs.
//!
//! This is the model only; the two file formats that describe a fleet (the openb node list
//! CSV and flexsim's TOML fleet file) are read by [`crate::input::fleet_file`].
//! A fleet read from the openb node list follows the openb conventions ([`Fleet::new`]):
//! every GPU is one card of 1000 milli, and every card runs at relative speed 1.0 (the
//! trace's durations were measured on them), in the openb GPU-share mode unless a run
//! overrides it.

use crate::error::SlicingChoiceError;
use crate::model::catalog::{Catalog, DeviceModel, Vendor, CLASS_DEFAULT};
use crate::model::perf::PerfParams;
use crate::model::power::{PowerSource, PowerSpec};
use crate::model::profile::DeviceProfile;
use crate::model::slicing::SlicingMode;
use crate::model::topology::Topology;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One node as the fleet file describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeSpec {
    pub name: String,
    pub cpu_milli: u64,
    pub memory_mib: u64,
    /// Number of accelerator cards, each of [`GPU_MILLI`](crate::model::units::GPU_MILLI).
    pub gpus: u32,
    /// Device model name (e.g. `V100M16`, `A100-80`); empty for a CPU-only node. A key of
    /// [`Fleet::devices`].
    pub model: String,
    /// Free-form labels (zone, rack, ...).
    pub labels: BTreeMap<String, String>,
    /// RDMA NIC bandwidth, percent of one NIC (100 = one NIC); `None` = not modelled.
    pub rdma_pct: Option<u32>,
}

impl NodeSpec {
    pub fn new(name: String, cpu_milli: u64, memory_mib: u64, gpus: u32, model: String) -> Self {
        NodeSpec {
            name,
            cpu_milli,
            memory_mib,
            gpus,
            model,
            labels: BTreeMap::new(),
            rdma_pct: None,
        }
    }
}

/// Where a device model's slicing mode comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum ModeSource {
    /// The fleet file's `slicing`, or the format's default (openb CSV: share; TOML: whole).
    #[default]
    Fleet,
    /// The policy's preferred mode ([`Policy::preferred_slicing`]), put in by the run.
    ///
    /// [`Policy::preferred_slicing`]: crate::policy::Policy::preferred_slicing
    Policy,
    /// Chosen for this run ([`Fleet::set_mode`], [`Fleet::choose`]; the CLI's `--slicing`):
    /// a policy's preferred mode never replaces it.
    Chosen,
}

impl ModeSource {
    /// The name summaries write: `fleet`, `policy` or `chosen`.
    pub fn name(self) -> &'static str {
        match self {
            ModeSource::Fleet => "fleet",
            ModeSource::Policy => "policy",
            ModeSource::Chosen => "chosen",
        }
    }
}

/// A device model as a fleet uses it: the model and the slicing mode its cards run in.
#[derive(Debug, Clone, PartialEq)]
pub struct FleetDevice {
    pub model: DeviceModel,
    pub mode: SlicingMode,
    /// Where `mode` comes from; [`ModeSource::Chosen`] keeps it whatever the policy prefers.
    pub mode_source: ModeSource,
    /// Calibration profile the model's parameters came from, if any.
    pub profile: Option<PathBuf>,
    /// Performance parameters of this model's cards when a profile measured them; `None`:
    /// the run's defaults (slicing-model §7.2).
    pub perf: Option<PerfParams>,
    /// Which parameters came from the profile (`memory_mib`, `interference`, ...).
    pub from_profile: Vec<String>,
}

impl FleetDevice {
    /// A device without a profile.
    pub fn new(model: DeviceModel, mode: SlicingMode) -> Self {
        FleetDevice {
            model,
            mode,
            mode_source: ModeSource::Fleet,
            profile: None,
            perf: None,
            from_profile: Vec::new(),
        }
    }

    /// Applies a calibration profile (slicing-model §7.4): the measured memory and compute
    /// units replace the preset's; the measured spatial interference ι replaces ι₀ (with
    /// ι₁ = 0: the measurement already includes the workload's bandwidth-boundness); the
    /// measured time-slice overheads o_ts(k) give the switch cost as the mean of o_ts(k)/k
    /// times the period; the measured idle and full-load power replace the catalog's
    /// ([`crate::model::power`]). Demand and throughput describe the calibration workload, not the
    /// device, so they are reported but not applied (use `--demand fixed:U` to replay with it).
    pub fn apply_profile(&mut self, path: &Path, profile: &DeviceProfile, defaults: PerfParams) {
        let mut used = Vec::new();
        if let Some(m) = profile.inventory.memory_mib {
            self.model.memory_mib = m;
            used.push("memory_mib");
        }
        if let Some(c) = profile
            .inventory
            .sm_count
            .or(profile.inventory.ai_core_count)
        {
            self.model.compute_units = c;
            used.push("compute_units");
        }
        let mut perf = defaults;
        let mut perf_changed = false;
        if let Some(i) = profile.measured.interference {
            perf.interference_base = i.clamp(0.0, 1.0);
            perf.interference_bandwidth = 0.0;
            used.push("interference");
            perf_changed = true;
        }
        if let Some(o) = profile.measured.timeslice_overhead.as_deref() {
            let per_switch: Vec<f64> = o
                .iter()
                .filter(|p| p.copies >= 2 && p.value.is_finite())
                .map(|p| p.value.max(0.0) / f64::from(p.copies))
                .collect();
            if !per_switch.is_empty() {
                let mean = per_switch.iter().sum::<f64>() / per_switch.len() as f64;
                perf.switch_cost_ms = mean * perf.timeslice_period_ms;
                used.push("timeslice_overhead");
                perf_changed = true;
            }
        }
        if perf_changed {
            self.perf = Some(perf);
        }
        // Validated with the profile ([`DeviceProfile::validate`]): both or neither.
        if let (Some(idle), Some(full)) =
            (profile.measured.power_idle_w, profile.measured.power_full_w)
        {
            if let Ok(p) = PowerSpec::from_watts(idle, full, PowerSource::Profile) {
                self.model.power = p;
                used.push("power");
            }
        }
        self.profile = Some(path.to_owned());
        self.from_profile = used.into_iter().map(str::to_owned).collect();
    }
}

/// A named list of nodes and their device models.
#[derive(Debug, Clone, PartialEq)]
pub struct Fleet {
    /// File stem of the fleet file (`openb_node_list_gpu_node`).
    pub name: String,
    pub nodes: Vec<NodeSpec>,
    /// Every device model a node names, by name.
    pub devices: BTreeMap<String, FleetDevice>,
    /// The network and in-node links ([`crate::model::topology`]); `None`: the flat model.
    pub topology: Option<std::sync::Arc<Topology>>,
}

impl Fleet {
    /// A fleet of `nodes` whose device models follow the openb conventions: the catalog preset
    /// of the label when there is one (else a generic 32 GiB card), speed 1.0 for every class,
    /// in the openb GPU-share mode ([`SlicingMode::SHARE`]).
    pub fn new(name: String, nodes: Vec<NodeSpec>) -> Fleet {
        let mut devices = BTreeMap::new();
        for n in nodes.iter().filter(|n| n.gpus > 0) {
            devices
                .entry(n.model.clone())
                .or_insert_with(|| FleetDevice::new(openb_device(&n.model), SlicingMode::SHARE));
        }
        Fleet {
            name,
            nodes,
            devices,
            topology: None,
        }
    }

    /// Total number of GPU cards.
    pub fn gpu_count(&self) -> u64 {
        self.nodes.iter().map(|n| u64::from(n.gpus)).sum()
    }

    /// Runs every device model in `mode` ([`ModeSource::Chosen`]: a policy's preferred mode
    /// does not replace it), or says which model does not support it (the fleet unchanged).
    pub fn set_mode(&mut self, mode: SlicingMode) -> Result<(), SlicingChoiceError> {
        self.choose(&SlicingChoice {
            all: Some(mode),
            per_model: BTreeMap::new(),
        })
    }

    /// Applies a slicing choice ([`ModeSource::Chosen`]): its per-model modes, and its mode
    /// for all the other models if it has one. Refuses, leaving the fleet unchanged, a model
    /// the fleet does not have (listing those it has) and a mode a model does not support.
    pub fn choose(&mut self, choice: &SlicingChoice) -> Result<(), SlicingChoiceError> {
        for model in choice.per_model.keys() {
            if !self.devices.contains_key(model) {
                return Err(SlicingChoiceError::UnknownModel {
                    model: model.clone(),
                    fleet: self.name.clone(),
                    known: self.devices.keys().cloned().collect::<Vec<_>>().join(", "),
                });
            }
        }
        let mut chosen = Vec::new();
        for (name, d) in &self.devices {
            let Some(mode) = choice.per_model.get(name).or(choice.all.as_ref()) else {
                continue;
            };
            if !d.model.supports(mode.kind()) {
                return Err(SlicingChoiceError::Unsupported {
                    model: name.clone(),
                    mode: mode.name(),
                    supported: d
                        .model
                        .slicing_modes
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
            chosen.push((name.clone(), *mode));
        }
        for (name, mode) in chosen {
            let d = self.devices.get_mut(&name).expect("checked above");
            d.mode = mode;
            d.mode_source = ModeSource::Chosen;
        }
        Ok(())
    }

    /// Puts every device model that supports `mode` and whose mode was not chosen
    /// ([`ModeSource::Chosen`]) in it ([`ModeSource::Policy`]); returns how many it put.
    pub fn prefer_mode(&mut self, mode: SlicingMode) -> usize {
        let mut n = 0;
        for d in self.devices.values_mut() {
            if d.mode_source != ModeSource::Chosen && d.model.supports(mode.kind()) {
                d.mode = mode;
                d.mode_source = ModeSource::Policy;
                n += 1;
            }
        }
        n
    }

    /// Each device model's mode, where it came from and its number of cards, by model name.
    pub fn modes(&self) -> BTreeMap<String, ModelMode> {
        self.devices
            .iter()
            .map(|(name, d)| {
                let cards = self
                    .nodes
                    .iter()
                    .filter(|n| n.model == *name)
                    .map(|n| u64::from(n.gpus))
                    .sum();
                let m = ModelMode {
                    mode: d.mode,
                    source: d.mode_source,
                    cards,
                };
                (name.clone(), m)
            })
            .collect()
    }
}

/// How one device model's cards ran: what a run reports per model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelMode {
    pub mode: SlicingMode,
    pub source: ModeSource,
    pub cards: u64,
}

/// A slicing-mode choice for a run: one mode for every device model, per-model modes, or
/// both (the per-model ones win). Read from `mig`, `A100-80=mig,Ascend910B3=vnpu` or
/// `whole,A100-80=mig` (mode names: [`SlicingMode::NAMES`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SlicingChoice {
    pub all: Option<SlicingMode>,
    pub per_model: BTreeMap<String, SlicingMode>,
}

impl std::str::FromStr for SlicingChoice {
    type Err = SlicingChoiceError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let err = |message: String| SlicingChoiceError::Syntax {
            text: text.to_owned(),
            message,
        };
        let mode = |name: &str| {
            SlicingMode::from_name(name.trim()).ok_or_else(|| {
                err(format!(
                    "unknown slicing mode {:?}; known: {}",
                    name.trim(),
                    SlicingMode::NAMES.join(", ")
                ))
            })
        };
        let mut choice = SlicingChoice::default();
        for item in text.split(',').map(str::trim) {
            if item.is_empty() {
                return Err(err(
                    "expected MODE or MODEL=MODE items separated by commas".into()
                ));
            }
            match item.split_once('=') {
                None => {
                    if choice.all.is_some() {
                        return Err(err(
                            "more than one mode for all models; name the others MODEL=MODE".into(),
                        ));
                    }
                    choice.all = Some(mode(item)?);
                }
                Some((model, m)) => {
                    let model = model.trim();
                    if model.is_empty() {
                        return Err(err(format!("{item:?}: no device model before '='")));
                    }
                    if choice
                        .per_model
                        .insert(model.to_owned(), mode(m)?)
                        .is_some()
                    {
                        return Err(err(format!("device model {model} named twice")));
                    }
                }
            }
        }
        Ok(choice)
    }
}

/// The device model behind an openb label: the catalog preset's memory and slicing support,
/// speed 1.0 for every class.
pub(crate) fn openb_device(label: &str) -> DeviceModel {
    let mut m = Catalog::preset(label).unwrap_or_else(|| DeviceModel {
        name: label.to_owned(),
        vendor: Vendor::Unknown,
        memory_mib: 32 * 1024,
        compute_units: 80,
        ai_cpus: 0,
        speed: BTreeMap::new(),
        slicing_modes: Catalog::preset("V100M32")
            .map(|v| v.slicing_modes)
            .unwrap_or_default(),
        mig: None,
        vnpu: None,
        power: crate::model::catalog::catalog_power(label),
    });
    m.speed = BTreeMap::from([(CLASS_DEFAULT.to_owned(), 1.0)]);
    m
}

/// A device's mode when the fleet file does not say: whole cards (the Kubernetes default).
pub(crate) fn default_mode(_model: &DeviceModel) -> SlicingMode {
    SlicingMode::Whole
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_with_measured_power_replaces_the_catalog_figures() {
        let text = r#"
format_version = 1
[inventory]
backend = "nvml"
device_index = 0
model = "NVIDIA A100-SXM4-40GB"
[measured]
power_idle_w = 56.5
power_full_w = 398.0
[provenance]
backend = "nvml"
command = "flexsim calibrate --backend nvml"
wall_seconds = 1.0
date = "2026-11-03T09:12:44Z"
flexsim_version = "0.1.0"
"#;
        let profile = DeviceProfile::from_toml_str(text, Path::new("a100.toml")).unwrap();
        let mut d = FleetDevice::new(Catalog::preset("A100-40").unwrap(), SlicingMode::Whole);
        assert_eq!(d.model.power.source, PowerSource::Catalog);
        d.apply_profile(Path::new("a100.toml"), &profile, PerfParams::DEFAULT);
        assert_eq!(
            d.model.power,
            PowerSpec {
                idle_mw: 56_500,
                full_mw: 398_000,
                source: PowerSource::Profile
            }
        );
        assert_eq!(d.from_profile, ["power"]);
    }

    fn fleet() -> Fleet {
        let node = |n: &str, model: &str| NodeSpec::new(n.into(), 1000, 1024, 2, model.into());
        let mut f = Fleet::new("f".into(), vec![node("a", "A100-80"), node("b", "T4")]);
        for (name, d) in f.devices.iter_mut() {
            d.model = Catalog::preset(name).unwrap();
        }
        f
    }

    #[test]
    fn slicing_choice_reads_plain_per_model_and_mixed_forms() {
        let c: SlicingChoice = "mig".parse().unwrap();
        assert_eq!((c.all, c.per_model.len()), (Some(SlicingMode::MIG), 0));
        let c: SlicingChoice = "A100-80=mig, Ascend910B3=vnpu".parse().unwrap();
        assert_eq!(c.all, None);
        assert_eq!(c.per_model["A100-80"], SlicingMode::MIG);
        assert_eq!(c.per_model["Ascend910B3"], SlicingMode::Vnpu);
        let c: SlicingChoice = "whole,A100-80=mig".parse().unwrap();
        assert_eq!(c.all, Some(SlicingMode::Whole));
        for bad in [
            "",
            "mig,,whole",
            "mig,whole",
            "=mig",
            "A100-80=nope",
            "A=mig,A=whole",
        ] {
            let e = bad.parse::<SlicingChoice>().unwrap_err();
            assert!(matches!(e, SlicingChoiceError::Syntax { .. }), "{bad}: {e}");
        }
        let e = "A100-80=nope".parse::<SlicingChoice>().unwrap_err();
        assert!(e.to_string().contains("known: whole, share"), "{e}");
    }

    #[test]
    fn chosen_modes_are_kept_and_the_rest_take_the_preferred_mode() {
        let mut f = fleet();
        f.choose(&"A100-80=mig".parse().unwrap()).unwrap();
        assert_eq!(f.prefer_mode(SlicingMode::Whole), 1);
        let m = f.modes();
        assert_eq!(
            (m["A100-80"].mode, m["A100-80"].source, m["A100-80"].cards),
            (SlicingMode::MIG, ModeSource::Chosen, 2)
        );
        assert_eq!(
            (m["T4"].mode, m["T4"].source),
            (SlicingMode::Whole, ModeSource::Policy)
        );
    }

    #[test]
    fn unknown_model_or_unsupported_mode_is_refused_and_changes_nothing() {
        let mut f = fleet();
        let before = f.clone();
        let e = f
            .choose(&"A100-80=mig,H100-80=mig".parse().unwrap())
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "fleet f has no device model H100-80 (its device models: A100-80, T4)"
        );
        let e = f.set_mode(SlicingMode::MIG).unwrap_err();
        assert_eq!(
            e.to_string(),
            "device model T4 does not support slicing mode mig (it supports: whole, fractional, timeshare)"
        );
        assert_eq!(f, before);
    }
}
