//! The fleet: the nodes of a cluster and the device models on them, before any job runs.
//!
//! This is the model only; the two file formats that describe a fleet (the openb node list
//! CSV and flexsim's TOML fleet file) are read by [`crate::input::fleet_file`].
//! A fleet read from the openb node list follows the openb conventions ([`Fleet::new`]):
//! every GPU is one card of 1000 milli, and every card runs at relative speed 1.0 (the
//! trace's durations were measured on them), in the openb GPU-share mode unless a run
//! overrides it.

use crate::model::catalog::{Catalog, DeviceModel, Vendor, CLASS_DEFAULT};
use crate::model::perf::PerfParams;
use crate::model::profile::DeviceProfile;
use crate::model::slicing::SlicingMode;
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

/// A device model as a fleet uses it: the model and the slicing mode its cards run in.
#[derive(Debug, Clone, PartialEq)]
pub struct FleetDevice {
    pub model: DeviceModel,
    pub mode: SlicingMode,
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
            profile: None,
            perf: None,
            from_profile: Vec::new(),
        }
    }

    /// Applies a calibration profile (slicing-model §7.4): the measured memory and compute
    /// units replace the preset's; the measured spatial interference ι replaces ι₀ (with
    /// ι₁ = 0: the measurement already includes the workload's bandwidth-boundness); the
    /// measured time-slice overheads o_ts(k) give the switch cost as the mean of o_ts(k)/k
    /// times the period. Demand and throughput describe the calibration workload, not the
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
        }
    }

    /// Total number of GPU cards.
    pub fn gpu_count(&self) -> u64 {
        self.nodes.iter().map(|n| u64::from(n.gpus)).sum()
    }

    /// Runs every device model in `mode`, or says which model does not support it.
    pub fn set_mode(&mut self, mode: SlicingMode) -> Result<(), String> {
        for (name, d) in &mut self.devices {
            if !d.model.supports(mode.kind()) {
                return Err(format!(
                    "device model {name} does not support slicing mode {:?}",
                    mode.kind()
                ));
            }
            d.mode = mode;
        }
        Ok(())
    }

    /// Puts every device model that supports `mode` in it; returns how many do.
    pub fn prefer_mode(&mut self, mode: SlicingMode) -> usize {
        let mut n = 0;
        for d in self.devices.values_mut() {
            if d.model.supports(mode.kind()) {
                d.mode = mode;
                n += 1;
            }
        }
        n
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
    });
    m.speed = BTreeMap::from([(CLASS_DEFAULT.to_owned(), 1.0)]);
    m
}

/// A device's mode when the fleet file does not say: whole cards (the Kubernetes default).
pub(crate) fn default_mode(_model: &DeviceModel) -> SlicingMode {
    SlicingMode::Whole
}
