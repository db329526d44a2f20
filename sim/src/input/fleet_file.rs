//! Fleet files: the two formats that describe a [`Fleet`].
//!
//! * the openb node list CSV (`sn,cpu_milli,memory_mib,gpu,model`, fgd-protocol §2.1), read
//!   into a fleet with the openb conventions of [`Fleet::new`];
//! * fleets from the published traces' machine lists and from a cluster: Alibaba PAI 2020's
//!   `pai_machine_spec` ([`crate::input::pai_machine_spec`], by file name: it has no header),
//!   the spot-GPU 2026 node list ([`crate::input::spot_gpu_nodes`], by its header), and a
//!   Kubernetes snapshot's nodes ([`crate::input::k8s_nodes`], JSON);
//! * flexsim's TOML fleet file ([`Fleet::read_toml`], documented in `traces/README.md`): node
//!   groups, device models from the catalog with overrides, a slicing mode per device model,
//!   and optional calibration profiles.
//!
//! The readers are methods of [`Fleet`] so that `Fleet::read(path)` reads as what it does;
//! they live here, with the other file formats, so that the model never sees one.

use crate::error::InputError;
use crate::input::csv_rows::{CsvTable, Extra};
use crate::input::names::Unknowns;
use crate::input::topology_file::{expand, GroupSwitches, TopologyEntry};
use crate::input::trace::native::CLASSES;
use crate::input::Warnings;
use crate::model::catalog::Catalog;
use crate::model::catalog::{catalog_board, named_board, BOARD_NAMES};
use crate::model::fleet::{default_mode, Fleet, FleetDevice, NodeSpec};
use crate::model::perf::PerfParams;
use crate::model::power::{PowerSource, PowerSpec};
use crate::model::profile::DeviceProfile;
use crate::model::slicing::SlicingMode;
use crate::model::topology::{NetworkSpec, Topology, DEFAULT_NIC_GBPS};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The most devices, or nodes, a fleet file may describe unless the caller opts out
/// ([`Fleet::read_limited`] with `None`, `--yes` on the command line). Ten million cards is a
/// thousand times the fleets of the published cluster traces (openb: 6,212 GPUs); the cluster
/// state of such a fleet takes gigabytes and every placement scans it, so a file beyond it is
/// far more likely a typo (`count = 100000000`) than a plan.
pub const FLEET_LIMIT: u64 = 10_000_000;

impl Fleet {
    /// Reads a fleet file: TOML if the name ends in `.toml`; a Philly machine list if its name
    /// or header says so ([`crate::input::philly_machines`]); PAI 2020's machine table if the
    /// name starts with `pai_machine_spec`; a Kubernetes snapshot if the text is JSON; the
    /// spot-GPU node list if the header has `gpu_capacity_num,node_name`; else the openb node
    /// CSV. A fleet
    /// beyond [`FLEET_LIMIT`] devices or nodes is refused ([`Fleet::read_limited`] opts out).
    /// Warnings (columns the openb node list does not have) are dropped: see
    /// [`Fleet::read_noting`].
    pub fn read(path: &Path) -> Result<Fleet, InputError> {
        Fleet::read_limited_noting(path, Some(FLEET_LIMIT), &mut Warnings::new())
    }

    /// [`Fleet::read`], pushing what the reader warns of onto `warnings`.
    pub fn read_noting(path: &Path, warnings: &mut Warnings) -> Result<Fleet, InputError> {
        Fleet::read_limited_noting(path, Some(FLEET_LIMIT), warnings)
    }

    /// [`Fleet::read`] with another limit on devices and nodes; `None` reads any size.
    pub fn read_limited(path: &Path, limit: Option<u64>) -> Result<Fleet, InputError> {
        Fleet::read_limited_noting(path, limit, &mut Warnings::new())
    }

    /// [`Fleet::read_limited`], pushing what the reader warns of onto `warnings`.
    pub fn read_limited_noting(
        path: &Path,
        limit: Option<u64>,
        warnings: &mut Warnings,
    ) -> Result<Fleet, InputError> {
        if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(path).map_err(|source| InputError::Io {
                file: path.to_owned(),
                source,
            })?;
            Fleet::parse_toml_limited(path, &text, limit)
        } else if crate::input::philly_machines::is_machine_list(path) {
            let source = crate::input::csv_rows::open(path)?;
            let fleet = crate::input::philly_machines::parse_noting(path, source, warnings)?;
            Fleet::check_size(path, fleet.gpu_count(), fleet.nodes.len() as u64, limit)?;
            Ok(fleet)
        } else if let Some(nodes) = Fleet::read_trace_nodes(path, warnings)? {
            let devices = nodes.iter().map(|n| u64::from(n.gpus)).sum();
            Fleet::check_size(path, devices, nodes.len() as u64, limit)?;
            if nodes.is_empty() {
                return Err(InputError::Invalid {
                    file: path.to_owned(),
                    message: "the fleet has no nodes".to_owned(),
                });
            }
            Ok(Fleet::new(crate::input::file_stem(path), nodes))
        } else {
            Fleet::parse_openb_csv_limited(
                path,
                crate::input::csv_rows::open(path)?,
                limit,
                warnings,
            )
        }
    }

    /// The nodes of a fleet read from a trace's machine list or a cluster snapshot, when `path`
    /// is one (see [`Fleet::read_limited_noting`]); `None` for any other file.
    fn read_trace_nodes(
        path: &Path,
        warnings: &mut Warnings,
    ) -> Result<Option<Vec<NodeSpec>>, InputError> {
        let open = || crate::input::csv_rows::open(path);
        if crate::input::pai_machine_spec::is_machine_spec(path) {
            return crate::input::pai_machine_spec::parse_noting(path, open()?, warnings).map(Some);
        }
        let io = |source| InputError::Io {
            file: path.to_owned(),
            source,
        };
        let mut source = open()?;
        if crate::input::trace::k8s::starts_as_json(&mut source).map_err(io)? {
            return crate::input::k8s_nodes::parse_noting(path, source, warnings).map(Some);
        }
        // Bytes, not a String: a file that is not UTF-8 gets the CSV reader's own message.
        let mut first = Vec::new();
        std::io::BufRead::read_until(&mut source, b'\n', &mut first).map_err(io)?;
        let first = String::from_utf8_lossy(&first);
        let header: Vec<&str> = first.trim_end().split(',').map(str::trim).collect();
        if crate::input::spot_gpu_nodes::SIGNATURE
            .iter()
            .all(|c| header.contains(c))
        {
            return crate::input::spot_gpu_nodes::parse_noting(path, open()?, warnings).map(Some);
        }
        Ok(None)
    }

    /// Reads an openb node CSV from `path`.
    pub fn read_openb_csv(path: &Path) -> Result<Fleet, InputError> {
        Fleet::parse_openb_csv(path, crate::input::csv_rows::open(path)?)
    }

    /// Refuses a fleet of `devices` cards on `nodes` nodes beyond `limit` of either.
    fn check_size(
        path: &Path,
        devices: u64,
        nodes: u64,
        limit: Option<u64>,
    ) -> Result<(), InputError> {
        match limit {
            Some(limit) if devices > limit || nodes > limit => Err(InputError::FleetTooLarge {
                file: path.to_owned(),
                devices,
                nodes,
                limit,
            }),
            _ => Ok(()),
        }
    }

    /// Parses an openb node CSV; `path` names the source in messages and gives the fleet name.
    pub fn parse_openb_csv(path: &Path, source: impl std::io::Read) -> Result<Fleet, InputError> {
        Fleet::parse_openb_csv_noting(path, source, &mut Warnings::new())
    }

    /// [`Fleet::parse_openb_csv`], pushing a warning for columns the openb node list does not
    /// have onto `warnings`. A `model` that is no catalog preset is an error (every unknown one
    /// of the file at once, with suggestions): the node would otherwise get made-up defaults.
    pub fn parse_openb_csv_noting(
        path: &Path,
        source: impl std::io::Read,
        warnings: &mut Warnings,
    ) -> Result<Fleet, InputError> {
        Fleet::parse_openb_csv_limited(path, source, Some(FLEET_LIMIT), warnings)
    }

    fn parse_openb_csv_limited(
        path: &Path,
        source: impl std::io::Read,
        limit: Option<u64>,
        warnings: &mut Warnings,
    ) -> Result<Fleet, InputError> {
        let mut table = CsvTable::new(path, source)?;
        table.check_columns("openb node list", &NODE_COLUMNS, Extra::Warn, warnings)?;
        let sn = table.column("sn")?;
        let cpu = table.column("cpu_milli")?;
        let mem = table.column("memory_mib")?;
        let gpu = table.column("gpu")?;
        let model = table.column("model")?;
        let mut nodes = Vec::new();
        let mut names = crate::input::csv_rows::NameSet::default();
        let mut unknown_models = Unknowns::default();
        table.for_each_row(|row| {
            let name = row.unique_name(sn, &mut names, "a node name")?;
            let node = NodeSpec::new(
                name,
                row.parse(cpu, "milli-CPU as a non-negative integer")?,
                row.parse(mem, "memory in MiB as a non-negative integer")?,
                row.parse(gpu, "a GPU count as a non-negative integer")?,
                row.text(model).to_owned(),
            );
            if node.gpus > 0 && node.model.is_empty() {
                return Err(row.error(model, "a GPU model name for a node with GPUs"));
            }
            if !node.model.is_empty() && Catalog::preset(&node.model).is_none() {
                unknown_models.note(&node.model, row.line());
            }
            nodes.push(node);
            Ok(())
        })?;
        let expected = format!("a catalog device model ({})", Catalog::names().join(", "));
        table.unknown_values(model, &unknown_models, &expected, Catalog::names())?;
        if nodes.is_empty() {
            return Err(InputError::Invalid {
                file: path.to_owned(),
                message: "the fleet has no nodes".to_owned(),
            });
        }
        let devices = nodes.iter().map(|n| u64::from(n.gpus)).sum();
        Fleet::check_size(path, devices, nodes.len() as u64, limit)?;
        Ok(Fleet::new(crate::input::file_stem(path), nodes))
    }

    /// Reads a TOML fleet file (format in `traces/README.md`).
    pub fn read_toml(path: &Path) -> Result<Fleet, InputError> {
        let text = std::fs::read_to_string(path).map_err(|source| InputError::Io {
            file: path.to_owned(),
            source,
        })?;
        Fleet::parse_toml(path, &text)
    }

    /// Parses a TOML fleet; `path` names the source in messages, gives the default name and
    /// anchors relative profile paths. A fleet beyond [`FLEET_LIMIT`] devices or nodes is
    /// refused before any node is built.
    pub fn parse_toml(path: &Path, text: &str) -> Result<Fleet, InputError> {
        Fleet::parse_toml_limited(path, text, Some(FLEET_LIMIT))
    }

    fn parse_toml_limited(
        path: &Path,
        text: &str,
        limit: Option<u64>,
    ) -> Result<Fleet, InputError> {
        let invalid = |message: String| InputError::Invalid {
            file: path.to_owned(),
            message,
        };
        let file: FleetFile = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        check_groups(&file).map_err(invalid)?;
        let mut devices = BTreeMap::new();
        for (name, m) in &file.models {
            devices.insert(name.clone(), m.build(name, path).map_err(invalid)?);
        }
        // Sized from the group counts, before a single node is built: `count = 100000000` must
        // be an error, not minutes of allocation.
        let node_total: u64 = file.groups.iter().map(|g| u64::from(g.count)).sum();
        let device_total: u64 = file
            .groups
            .iter()
            .map(|g| u64::from(g.count) * u64::from(g.devices))
            .sum();
        Fleet::check_size(path, device_total, node_total, limit)?;
        let mut nodes = Vec::new();
        for g in &file.groups {
            if g.devices > 0 && !devices.contains_key(&g.model) {
                // check_groups saw that every group's model is under [models] or a preset.
                let model = Catalog::preset(&g.model).ok_or_else(|| {
                    invalid(format!(
                        "group {}: unknown device model {:?}",
                        g.name, g.model
                    ))
                })?;
                let mode = default_mode(&model);
                devices.insert(g.model.clone(), FleetDevice::new(model, mode));
            }
            for i in 0..g.count {
                let mut n = NodeSpec::new(
                    format!("{}-{i:04}", g.name),
                    g.cpu_milli,
                    g.memory_mib,
                    g.devices,
                    if g.devices > 0 {
                        g.model.clone()
                    } else {
                        String::new()
                    },
                );
                n.labels = g.labels.clone();
                n.rdma_pct = g.rdma_pct;
                nodes.push(n);
            }
        }
        if nodes.is_empty() {
            return Err(invalid(
                "the fleet has no nodes (add a [[groups]] entry with count ≥ 1)".into(),
            ));
        }
        let mut node_names = std::collections::BTreeSet::new();
        if let Some(n) = nodes.iter().find(|n| !node_names.insert(n.name.as_str())) {
            return Err(invalid(format!(
                "two nodes are named {:?}; rename a group so that node names are unique",
                n.name
            )));
        }
        let topology = read_topology(&file)
            .map_err(invalid)?
            .map(std::sync::Arc::new);
        Ok(Fleet {
            name: file.name.unwrap_or_else(|| crate::input::file_stem(path)),
            nodes,
            devices,
            topology,
        })
    }
}

/// The fleet's topology, if its file describes one: a `[topology]` table or a group naming a
/// switch. Every group then names its switches (a node outside the network would be a guess).
fn read_topology(file: &FleetFile) -> Result<Option<Topology>, String> {
    let named = file.groups.iter().any(|g| g.switches().any());
    if file.topology.is_none() && !named {
        if let Some((m, _)) = file.models.iter().find(|(_, m)| m.board.is_some()) {
            return Err(format!(
                "models.{m}.board: a board matters only in a fleet with a topology; add a \
                 [topology] table and the groups' racks, or drop the board"
            ));
        }
        return Ok(None);
    }
    let entry = file.topology.as_ref();
    let levels = match entry.and_then(|t| t.levels.clone()) {
        Some(l) => l,
        None if file.groups.iter().any(|g| g.spine.is_some()) => {
            vec!["rack".to_owned(), "spine".to_owned()]
        }
        None => vec!["rack".to_owned()],
    };
    if levels.is_empty() || levels.iter().any(|l| l.trim().is_empty()) {
        return Err("[topology] levels: expected level names, lowest first (\"rack\",                     \"spine\"), none empty"
            .into());
    }
    let mut switch_of = Vec::new();
    let mut n = 0u64;
    for g in &file.groups {
        let templates = g.switches().templates(&g.name, &levels)?;
        for i in 0..u64::from(g.count) {
            let names = templates
                .iter()
                .map(|t| expand(t, i, n))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("group {}: {e}", g.name))?;
            switch_of.push(names);
            n += 1;
        }
    }
    let mut boards = BTreeMap::new();
    for g in file.groups.iter().filter(|g| g.devices > 0) {
        let entry = file.models.get(&g.model);
        let board = match entry.and_then(|m| m.board.as_deref()) {
            Some(b) => named_board(b).ok_or_else(|| {
                format!(
                    "models.{}.board: unknown board {b:?}{}; known: {}",
                    g.model,
                    crate::input::names::did_you_mean(b, BOARD_NAMES),
                    BOARD_NAMES.join(", ")
                )
            })?,
            None => catalog_board(
                entry
                    .and_then(|m| m.preset.as_deref())
                    .unwrap_or(g.model.as_str()),
            ),
        };
        boards.insert(g.model.clone(), board);
    }
    let spec = NetworkSpec {
        levels,
        switch_of,
        nic_gbps: entry.and_then(|t| t.nic_gbps).unwrap_or(DEFAULT_NIC_GBPS),
        oversubscription: entry
            .map(|t| t.oversubscription.clone())
            .unwrap_or_default(),
    };
    Topology::new(spec, boards).map(Some)
}

/// The columns of the published openb node lists.
pub const NODE_COLUMNS: [&str; 5] = ["sn", "cpu_milli", "memory_mib", "gpu", "model"];

/// The checks of a TOML fleet's groups that need the whole file: unique names, counts and
/// devices that mean something, known device models (every unknown one at once), and no
/// `[models]` entry that no group uses (a misspelt entry would silently leave its group on
/// the preset's defaults).
fn check_groups(file: &FleetFile) -> Result<(), String> {
    let mut seen = std::collections::BTreeSet::new();
    let mut known: Vec<&str> = file.models.keys().map(String::as_str).collect();
    known.extend(
        Catalog::names()
            .iter()
            .filter(|n| !file.models.contains_key(**n)),
    );
    let mut unknown: Vec<String> = Vec::new();
    for g in &file.groups {
        let name = &g.name;
        if name.is_empty() {
            return Err("a group has an empty name".into());
        }
        if !seen.insert(name.as_str()) {
            return Err(format!(
                "two groups are named {name:?} (their nodes would share names {name}-0000, ...); \
                 give each group its own name"
            ));
        }
        if g.count == 0 {
            return Err(format!(
                "group {name}: count = 0 gives no nodes; expected at least 1 (remove the group to \
                 leave it out)"
            ));
        }
        if let Some(r) = g.rdma_pct.filter(|&r| r > 100) {
            return Err(format!(
                "group {name}: rdma_pct = {r}: expected percent of one RDMA NIC, 0 to 100"
            ));
        }
        match (g.devices, g.model.is_empty()) {
            (0, false) => {
                return Err(format!(
                    "group {name}: model = {:?} but devices is 0 or absent, so the nodes would be \
                     CPU-only; set devices = the cards per node, or drop model",
                    g.model
                ))
            }
            (_, true) if g.devices > 0 => {
                return Err(format!(
                    "group {name}: devices = {} but no model; set model = a [models] entry or a \
                     catalog preset ({})",
                    g.devices,
                    Catalog::names().join(", ")
                ))
            }
            _ => {}
        }
        if g.devices > 0 && !known.contains(&g.model.as_str()) && !unknown.contains(&g.model) {
            unknown.push(g.model.clone());
        }
    }
    if !unknown.is_empty() {
        return Err(format!(
            "unknown device model{} {} in [[groups]]: expected a [models] entry or a catalog \
             preset ({})",
            if unknown.len() > 1 { "s" } else { "" },
            crate::input::names::quoted_with_suggestions(&unknown, &known),
            known.join(", ")
        ));
    }
    let used: Vec<&str> = file.groups.iter().map(|g| g.model.as_str()).collect();
    let unused: Vec<String> = file
        .models
        .keys()
        .filter(|m| !used.contains(&m.as_str()))
        .cloned()
        .collect();
    if !unused.is_empty() {
        let used: Vec<&str> = used.into_iter().filter(|m| !m.is_empty()).collect();
        return Err(format!(
            "[models] entr{} {} used by no group (the groups use: {}); a group whose model is \
             misspelt here runs on the preset's defaults",
            if unused.len() > 1 { "ies" } else { "y" },
            crate::input::names::quoted_with_suggestions(&unused, &used),
            used.join(", ")
        ));
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FleetFile {
    name: Option<String>,
    #[serde(default)]
    models: BTreeMap<String, ModelEntry>,
    #[serde(default)]
    groups: Vec<GroupEntry>,
    /// The network above the nodes (`input::topology_file`); absent, with no group naming a
    /// switch: no topology, the flat model.
    topology: Option<TopologyEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelEntry {
    /// Catalog preset to start from (default: the entry's own name).
    preset: Option<String>,
    /// Slicing mode name (see [`SlicingMode::from_name`]); default `whole`.
    slicing: Option<String>,
    memory_mib: Option<u64>,
    compute_units: Option<u32>,
    /// Relative speed per job class, replacing the preset's entries it names.
    #[serde(default)]
    speed: BTreeMap<String, f64>,
    /// Calibration profile, relative to the fleet file.
    profile: Option<PathBuf>,
    /// Idle and full-load board power of one card, watts, replacing the catalog's (both or
    /// neither; a profile's measured power replaces these in turn).
    power_idle_w: Option<f64>,
    power_full_w: Option<f64>,
    /// In-node topology, one of `catalog::BOARD_NAMES`, replacing the preset's (a PCIe A100:
    /// `board = "pcie-gen4"`). Used only when the fleet has a topology.
    board: Option<String>,
}

impl ModelEntry {
    fn build(&self, name: &str, fleet_path: &Path) -> Result<FleetDevice, String> {
        let preset = self.preset.as_deref().unwrap_or(name);
        let mut model = Catalog::preset(preset).ok_or_else(|| {
            format!(
                "models.{name}: unknown preset {preset:?}{}; known: {}",
                crate::input::names::did_you_mean(preset, Catalog::names()),
                Catalog::names().join(", ")
            )
        })?;
        if preset != name && Catalog::preset(name).is_some() {
            return Err(format!(
                "models.{name}: named after the catalog preset {name} but starts from preset \
                 {preset:?}, so traces asking for {name} would get a {preset}; give the entry \
                 another name"
            ));
        }
        model.name = name.to_owned();
        if let Some(m) = self.memory_mib {
            if m == 0 {
                return Err(format!(
                    "models.{name}.memory_mib: expected device memory in MiB, at least 1, got 0"
                ));
            }
            model.memory_mib = m;
        }
        if let Some(c) = self.compute_units {
            if c == 0 {
                return Err(format!(
                    "models.{name}.compute_units: expected SMs or AI cores, at least 1, got 0"
                ));
            }
            model.compute_units = c;
        }
        for (class, &s) in &self.speed {
            if !CLASSES.contains(&class.as_str()) {
                return Err(format!(
                    "models.{name}.speed: unknown job class {class:?}{}; known: {}",
                    crate::input::names::did_you_mean(class, &CLASSES),
                    CLASSES.join(", ")
                ));
            }
            if !(s.is_finite() && s > 0.0) {
                return Err(format!(
                    "models.{name}.speed.{class}: expected a positive number, got {s}"
                ));
            }
            model.speed.insert(class.clone(), s);
        }
        match (self.power_idle_w, self.power_full_w) {
            (Some(idle), Some(full)) => {
                model.power = PowerSpec::from_watts(idle, full, PowerSource::Fleet)
                    .map_err(|e| format!("models.{name}.power_idle_w / power_full_w: {e}"))?;
            }
            (None, None) => {}
            _ => {
                return Err(format!(
                    "models.{name}: power_idle_w and power_full_w come together (one alone \
                     cannot replace the catalog's two figures)"
                ))
            }
        }
        let mode = match &self.slicing {
            None => default_mode(&model),
            Some(s) => SlicingMode::from_name(s).ok_or_else(|| {
                format!(
                    "models.{name}.slicing: unknown mode {s:?}; known: {}",
                    SlicingMode::NAMES.join(", ")
                )
            })?,
        };
        if !model.supports(mode.kind()) {
            return Err(format!(
                "models.{name}: device model does not support slicing mode {:?} (it supports {:?})",
                mode.kind(),
                model.slicing_modes
            ));
        }
        let mut device = FleetDevice::new(model, mode);
        if let Some(p) = &self.profile {
            let path = fleet_path.parent().unwrap_or(Path::new(".")).join(p);
            let profile =
                DeviceProfile::load(&path).map_err(|e| format!("models.{name}.profile: {e}"))?;
            device.apply_profile(&path, &profile, PerfParams::DEFAULT);
        }
        Ok(device)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupEntry {
    name: String,
    count: u32,
    cpu_milli: u64,
    memory_mib: u64,
    #[serde(default)]
    model: String,
    #[serde(default)]
    devices: u32,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    rdma_pct: Option<u32>,
    /// The rack switch above each node, a template (`"r{i/16}"`; `input::topology_file`).
    rack: Option<String>,
    /// The spine switch above each node's rack, a template.
    spine: Option<String>,
    /// The switch at each network level, lowest first, for topologies of any depth.
    switches: Option<Vec<String>>,
}

impl GroupEntry {
    fn switches(&self) -> GroupSwitches {
        GroupSwitches {
            rack: self.rack.clone(),
            spine: self.spine.clone(),
            switches: self.switches.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_openb_nodes() {
        let csv = "sn,cpu_milli,memory_mib,gpu,model\nn0,64000,262144,2,P100\nn1,32000,1024,0,\n";
        let f = Fleet::parse_openb_csv(Path::new("x/nodes.csv"), csv.as_bytes()).unwrap();
        assert_eq!(f.name, "nodes");
        assert_eq!(f.nodes.len(), 2);
        assert_eq!(f.gpu_count(), 2);
        assert_eq!(f.nodes[0].model, "P100");
        let p100 = &f.devices["P100"];
        assert_eq!(p100.mode, SlicingMode::SHARE);
        assert_eq!(p100.model.speed("training"), Some(1.0));
    }

    #[test]
    fn bad_field_names_file_line_and_column() {
        let csv = "sn,cpu_milli,memory_mib,gpu,model\nn0,64000,262144,2,P100\nn1,lots,1024,0,\n";
        let e = Fleet::parse_openb_csv(Path::new("nodes.csv"), csv.as_bytes()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "nodes.csv:3: column cpu_milli: expected milli-CPU as a non-negative integer, got \"lots\""
        );
    }

    #[test]
    fn missing_column_is_named() {
        let csv = "sn,cpu_milli,gpu,model\nn0,1,2,P100\n";
        let e = Fleet::parse_openb_csv(Path::new("nodes.csv"), csv.as_bytes()).unwrap_err();
        assert!(e.to_string().contains("missing column memory_mib"), "{e}");
    }

    #[test]
    fn openb_node_unknown_models_are_reported_together() {
        let csv = "sn,cpu_milli,memory_mib,gpu,model\nn0,1,1,2,V100M61\nn1,1,1,2,T4\n\
                   n2,1,1,0,\nn3,1,1,8,H800\nn4,1,1,2,V100M61\n";
        let e = Fleet::parse_openb_csv(Path::new("nodes.csv"), csv.as_bytes()).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "nodes.csv:2: column model: expected a catalog device model ({}), got \
                 \"V100M61\" (did you mean \"V100M16\"?); also unknown: \"H800\" (line 5; did \
                 you mean \"H200\"?)",
                Catalog::names().join(", ")
            )
        );
    }

    #[test]
    fn openb_node_unknown_column_is_one_warning_and_duplicates_are_refused() {
        let csv = "sn,cpu_milli,memory_mib,gpu,model,rack\nn0,1,1,2,T4,r1\n";
        let mut warnings = Warnings::new();
        Fleet::parse_openb_csv_noting(Path::new("nodes.csv"), csv.as_bytes(), &mut warnings)
            .unwrap();
        assert_eq!(
            warnings,
            [
                "nodes.csv:1: ignoring column the openb node list format does not have: \"rack\" \
              (its columns: sn, cpu_milli, memory_mib, gpu, model)"
            ]
        );
        let csv = "sn,cpu_milli,memory_mib,gpu,gpu,model\nn0,1,1,2,2,T4\n";
        let e = Fleet::parse_openb_csv(Path::new("nodes.csv"), csv.as_bytes()).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("nodes.csv:1: column \"gpu\" appears twice"),
            "{e}"
        );
    }

    const TOML: &str = r#"
name = "mixed"

[models.A100-80]
slicing = "mig"

[models.T4]
slicing = "flexai"
speed = { inference = 0.7 }

[[groups]]
name = "a100"
count = 2
cpu_milli = 128000
memory_mib = 1048576
model = "A100-80"
devices = 8
labels = { zone = "a" }

[[groups]]
name = "t4"
count = 3
cpu_milli = 64000
memory_mib = 262144
model = "T4"
devices = 2

[[groups]]
name = "cpu"
count = 1
cpu_milli = 96000
memory_mib = 393216
rdma_pct = 100
"#;

    #[test]
    fn fleet_beyond_the_device_limit_is_refused_before_it_is_built() {
        // 4e9 nodes of 8 cards: refused from the group counts, without building a node.
        let huge = "[[groups]]\nname = \"g\"\ncount = 4000000000\ncpu_milli = 1\nmemory_mib = 1\nmodel = \"T4\"\ndevices = 8\n";
        let e = Fleet::parse_toml(Path::new("huge.toml"), huge).unwrap_err();
        assert_eq!(
            e.to_string(),
            "huge.toml: the fleet has 32000000000 devices on 4000000000 nodes, beyond the limit of 10000000 devices or nodes"
        );
        // Just at the limit is fine to describe; one more card is not.
        let at = |devices: u64| {
            format!("[[groups]]\nname = \"g\"\ncount = 1\ncpu_milli = 1\nmemory_mib = 1\nmodel = \"T4\"\ndevices = {devices}\n")
        };
        assert!(Fleet::parse_toml_limited(Path::new("f.toml"), &at(9), Some(8)).is_err());
        assert!(Fleet::parse_toml_limited(Path::new("f.toml"), &at(8), Some(8)).is_ok());
        assert!(Fleet::parse_toml_limited(Path::new("f.toml"), &at(9), None).is_ok());
        // One CSV row can claim billions of cards too.
        let csv = "sn,cpu_milli,memory_mib,gpu,model\nn0,64000,262144,4000000000,P100\n";
        let e = Fleet::parse_openb_csv(Path::new("nodes.csv"), csv.as_bytes()).unwrap_err();
        assert!(
            matches!(
                e,
                InputError::FleetTooLarge {
                    devices: 4_000_000_000,
                    nodes: 1,
                    limit: FLEET_LIMIT,
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn reads_toml_groups_models_and_modes() {
        let f = Fleet::parse_toml(Path::new("fleets/mixed.toml"), TOML).unwrap();
        assert_eq!(f.name, "mixed");
        assert_eq!(f.nodes.len(), 6);
        assert_eq!(f.gpu_count(), 16 + 6);
        assert_eq!(f.nodes[0].name, "a100-0000");
        assert_eq!(f.nodes[0].labels["zone"], "a");
        assert_eq!(f.nodes[5].rdma_pct, Some(100));
        assert_eq!(f.devices["A100-80"].mode, SlicingMode::MIG);
        assert_eq!(f.devices["T4"].mode, SlicingMode::FLEXAI_VGPU);
        assert_eq!(f.devices["T4"].model.speed("inference"), Some(0.7));
        assert_eq!(f.devices["T4"].model.power.source, PowerSource::Catalog);
        let with_power = TOML.replace(
            "speed = { inference = 0.7 }",
            "power_idle_w = 9.5\npower_full_w = 70",
        );
        let f = Fleet::parse_toml(Path::new("fleets/mixed.toml"), &with_power).unwrap();
        let p = f.devices["T4"].model.power;
        assert_eq!(
            (p.idle_mw, p.full_mw, p.source),
            (9_500, 70_000, PowerSource::Fleet)
        );
    }

    #[test]
    fn toml_errors_say_what_is_known() {
        let bad = TOML.replace("slicing = \"mig\"", "slicing = \"migg\"");
        let e = Fleet::parse_toml(Path::new("f.toml"), &bad)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("unknown mode \"migg\"") && e.contains("timeshare"),
            "{e}"
        );
        let unsupported = TOML.replace("slicing = \"flexai\"", "slicing = \"mig\"");
        let e = Fleet::parse_toml(Path::new("f.toml"), &unsupported)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("models.T4") && e.contains("does not support"),
            "{e}"
        );
        let e = Fleet::parse_toml(Path::new("f.toml"), "[[groups]]\nname=1").unwrap_err();
        assert!(e.to_string().starts_with("f.toml: "), "{e}");
    }

    #[test]
    fn every_shipped_fleet_reads() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut files = Vec::new();
        for dir in ["traces/fleets", "traces/openb"] {
            for e in std::fs::read_dir(root.join(dir)).unwrap() {
                files.push(e.unwrap().path());
            }
        }
        for e in std::fs::read_dir(root.join("tests/crossval")).unwrap() {
            let d = e.unwrap().path();
            if d.is_dir() {
                for f in std::fs::read_dir(d).unwrap() {
                    files.push(f.unwrap().path());
                }
            }
        }
        let fleets = files.iter().filter(|f| {
            let name = f.file_name().unwrap().to_string_lossy();
            name.ends_with(".toml") || name.contains("node_list")
        });
        let mut n = 0;
        for f in fleets {
            let mut warnings = Warnings::new();
            Fleet::read_noting(f, &mut warnings).unwrap_or_else(|e| panic!("{e}"));
            assert!(warnings.is_empty(), "{warnings:?}");
            n += 1;
        }
        assert!(n >= 12, "{n}");
    }

    #[test]
    fn a_topology_names_every_node_switch_and_board() {
        let topo = format!("{TOML}\n[topology]\nnic_gbps = 400\n")
            .replace(
                "labels = { zone = \"a\" }",
                "labels = { zone = \"a\" }\nrack = \"r{i}\"",
            )
            .replace("devices = 2\n", "devices = 2\nrack = \"r{i/2}\"\n")
            .replace("rdma_pct = 100\n", "rdma_pct = 100\nrack = \"r0\"\n")
            .replace(
                "slicing = \"flexai\"",
                "slicing = \"flexai\"\nboard = \"pcie-gen4\"",
            );
        let f = Fleet::parse_toml(Path::new("f.toml"), &topo).unwrap();
        let t = f.topology.as_ref().unwrap();
        // a100: r0, r1; t4: r0, r0, r1; cpu: r0 — two racks, so a spine above them.
        assert_eq!(t.levels, ["rack", "spine"]);
        assert_eq!(t.switches[0], ["r0", "r1"]);
        assert_eq!(
            (t.switch_of(1, 0), t.switch_of(4, 0), t.switch_of(5, 0)),
            (1, 1, 0)
        );
        assert_eq!(t.nic_gb_s, 50.0);
        assert_eq!(t.boards["A100-80"].domain, 8, "the catalog's HGX board");
        assert_eq!(t.boards["T4"].pcie_gb_s, 64.0, "the entry's board");
        // A group without a switch, a board without a topology, an unknown board.
        let e = Fleet::parse_toml(
            Path::new("f.toml"),
            &topo.replacen("rack = \"r0\"\n", "", 1),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("group cpu: the fleet has a topology"), "{e}");
        let e = toml_error(
            "slicing = \"flexai\"",
            "slicing = \"flexai\"\nboard = \"pcie-gen4\"",
        );
        assert!(
            e.contains("models.T4.board: a board matters only in a fleet with a topology"),
            "{e}"
        );
        let e = Fleet::parse_toml(Path::new("f.toml"), &topo.replace("pcie-gen4", "pcie4"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("unknown board \"pcie4\"") && e.contains("pcie-gen4"),
            "{e}"
        );
        // No topology: none.
        assert!(Fleet::parse_toml(Path::new("f.toml"), TOML)
            .unwrap()
            .topology
            .is_none());
    }

    fn toml_error(from: &str, to: &str) -> String {
        assert!(TOML.contains(from), "{from}");
        let bad = TOML.replacen(from, to, 1);
        Fleet::parse_toml(Path::new("f.toml"), &bad)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn toml_values_outside_their_domain_are_refused() {
        let cases = [
            (
                "slicing = \"mig\"",
                "slicing = \"mig\"\ncompute_units = 0",
                "f.toml: models.A100-80.compute_units: expected SMs or AI cores, at least 1, got 0",
            ),
            (
                "slicing = \"mig\"",
                "slicing = \"mig\"\nmemory_mib = 0",
                "f.toml: models.A100-80.memory_mib: expected device memory in MiB, at least 1, got 0",
            ),
            (
                "rdma_pct = 100",
                "rdma_pct = 101",
                "f.toml: group cpu: rdma_pct = 101: expected percent of one RDMA NIC, 0 to 100",
            ),
            (
                "count = 3",
                "count = 0",
                "f.toml: group t4: count = 0 gives no nodes; expected at least 1 (remove the group \
                 to leave it out)",
            ),
            (
                "devices = 2",
                "",
                "f.toml: group t4: model = \"T4\" but devices is 0 or absent, so the nodes would be \
                 CPU-only; set devices = the cards per node, or drop model",
            ),
            (
                "speed = { inference = 0.7 }",
                "speed = { inferense = 0.7 }",
                "f.toml: models.T4.speed: unknown job class \"inferense\" (did you mean \
                 \"inference\"?); known: default, training, inference",
            ),
            (
                "speed = { inference = 0.7 }",
                "speed = { inference = -1.0 }",
                "f.toml: models.T4.speed.inference: expected a positive number, got -1",
            ),
            (
                "speed = { inference = 0.7 }",
                "power_idle_w = 9",
                "f.toml: models.T4: power_idle_w and power_full_w come together (one alone \
                 cannot replace the catalog's two figures)",
            ),
            (
                "speed = { inference = 0.7 }",
                "power_idle_w = 90\npower_full_w = 70",
                "f.toml: models.T4.power_idle_w / power_full_w: idle power 90 W exceeds \
                 full-load power 70 W",
            ),
        ];
        for (from, to, want) in cases {
            assert_eq!(toml_error(from, to), want, "{to}");
        }
        let e = toml_error("count = 3", "count = -3");
        assert!(e.starts_with("f.toml: ") && e.contains("count"), "{e}");
    }

    #[test]
    fn toml_duplicate_group_names_and_model_entries_are_refused() {
        let e = toml_error("[models.T4]", "[models.T4]\n[models.T4]");
        assert!(e.starts_with("f.toml: ") && e.contains("duplicate"), "{e}");
        assert_eq!(
            toml_error("name = \"t4\"", "name = \"a100\""),
            "f.toml: two groups are named \"a100\" (their nodes would share names a100-0000, \
             ...); give each group its own name"
        );
    }

    #[test]
    fn toml_unknown_device_models_are_reported_together() {
        let bad = TOML
            .replace("model = \"T4\"", "model = \"T5\"")
            .replace("[models.T4]", "[models.T5]\npreset = \"T4\"")
            .replace("model = \"A100-80\"", "model = \"A100-8O\"")
            .replace("[models.A100-80]\nslicing = \"mig\"\n", "")
            + "\n[[groups]]\nname = \"h\"\ncount = 1\ncpu_milli = 1\nmemory_mib = 1\nmodel = \"H20\"\ndevices = 8\n";
        let e = Fleet::parse_toml(Path::new("f.toml"), &bad)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(
                "f.toml: unknown device models \"A100-8O\" (did you mean \"A100-80\"?), \"H20\" \
                 (did you mean \"H200\"?) in [[groups]]: expected a [models] entry or a catalog \
                 preset (T5, A10, A100-40,"
            ),
            "{e}"
        );
    }

    #[test]
    fn toml_models_entry_no_group_uses_is_refused() {
        // The group asks for "A100-80"; the entry meant for it is misspelt, so the group would
        // silently run whole cards instead of MIG.
        assert_eq!(
            toml_error("[models.A100-80]", "[models.A100-8O]"),
            "f.toml: [models] entry \"A100-8O\" (did you mean \"A100-80\"?) used by no group \
             (the groups use: A100-80, T4); a group whose model is misspelt here runs on the \
             preset's defaults"
        );
    }

    #[test]
    fn toml_models_entry_named_after_another_preset_is_refused() {
        let e = toml_error("[models.T4]", "[models.T4]\npreset = \"A10\"");
        assert_eq!(
            e,
            "f.toml: models.T4: named after the catalog preset T4 but starts from preset \"A10\", \
             so traces asking for T4 would get a A10; give the entry another name"
        );
    }
}
