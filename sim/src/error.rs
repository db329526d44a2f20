//! Errors of the simulator's inputs and actions.
//!
//! Input errors carry the file, line and column so that a user can fix a trace without
//! reading our code (README "bad input"); placement errors are typed so that a policy that
//! proposes something illegal is told exactly why, and the cluster is never corrupted.

use std::path::PathBuf;

/// A trace, fleet or configuration file that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{file}: {source}")]
    Io {
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// One field of one row is not what the format expects.
    #[error("{file}:{line}: column {column}: expected {expected}, got \"{got}\"")]
    Field {
        file: PathBuf,
        line: u64,
        column: String,
        expected: String,
        got: String,
    },
    /// The header lacks a column the format needs.
    #[error("{file}:1: missing column {column} (header has: {header})")]
    MissingColumn {
        file: PathBuf,
        column: String,
        header: String,
    },
    /// A row that the CSV parser itself rejects (wrong number of fields, bad quoting).
    #[error("{file}:{line}: {message}")]
    Row {
        file: PathBuf,
        line: u64,
        message: String,
    },
    /// A whole-file problem (empty trace, duplicate names, ...).
    #[error("{file}: {message}")]
    Invalid { file: PathBuf, message: String },
    /// Values of a column that name nothing flexsim knows (a QoS class, a device model, ...):
    /// `got` is the first, quoted, at its line, then every other one of the file, with
    /// suggestions.
    #[error("{file}:{line}: column {column}: expected {expected}, got {got}")]
    Unknown {
        file: PathBuf,
        line: u64,
        column: String,
        expected: String,
        got: String,
    },
    /// A fleet beyond the size limit (`fleet::FLEET_LIMIT` unless the caller chose another).
    #[error("{file}: the fleet has {devices} devices on {nodes} nodes, beyond the limit of {limit} devices or nodes")]
    FleetTooLarge {
        file: PathBuf,
        devices: u64,
        nodes: u64,
        limit: u64,
    },
}

/// Why the engine refused a placement a policy proposed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlacementError {
    #[error("node index {0} does not exist")]
    NoSuchNode(usize),
    #[error("node {node}: needs {needed} milli-CPU, {free} free")]
    Cpu {
        node: String,
        needed: u64,
        free: u64,
    },
    #[error("node {node}: needs {needed} MiB memory, {free} free")]
    Memory {
        node: String,
        needed: u64,
        free: u64,
    },
    #[error("node {node}: GPU model {model} is not one the pod accepts")]
    GpuModel { node: String, model: String },
    #[error("node {node}: pod needs {needed} GPUs, placement names {named}")]
    GpuCount {
        node: String,
        needed: usize,
        named: usize,
    },
    #[error("node {node}: GPU {gpu} does not exist")]
    NoSuchGpu { node: String, gpu: usize },
    #[error("node {node}: GPU {gpu} named twice")]
    DuplicateGpu { node: String, gpu: usize },
    #[error("node {node}: GPU {gpu}: {refusal}")]
    Card {
        node: String,
        gpu: usize,
        refusal: crate::model::slicing::Refusal,
    },
    #[error("node {node}: the slicing mode cannot serve the request: {refusal}")]
    Refused {
        node: String,
        refusal: crate::model::slicing::Refusal,
    },
    #[error("node {node}: already holds {max} jobs of app {app}")]
    AppDensity { node: String, app: String, max: u32 },
    #[error("a remote placement needs a GPU pod and two different nodes")]
    NotRemote,
    #[error("node {node}: needs {needed}% RDMA bandwidth, {free}% free")]
    Rdma {
        node: String,
        needed: u32,
        free: u32,
    },
    #[error("a gang's parts must be on distinct nodes; node {node} is named twice")]
    GangNodeTwice { node: String },
    #[error("a gang placement must be {expected}; it is {named}")]
    GangShape { expected: String, named: String },
}

/// A slicing-mode choice (`--slicing`) that cannot be read or that the fleet cannot take.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlicingChoiceError {
    #[error("{text:?}: {message}")]
    Syntax { text: String, message: String },
    #[error("fleet {fleet} has no device model {model} (its device models: {known})")]
    UnknownModel {
        model: String,
        fleet: String,
        known: String,
    },
    #[error(
        "device model {model} does not support slicing mode {mode} (it supports: {supported})"
    )]
    Unsupported {
        model: String,
        mode: String,
        supported: String,
    },
}

/// A run (of either protocol) that could not complete.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("policy {policy} proposed an illegal placement for pod {pod}: {source}")]
    Refused {
        policy: String,
        pod: String,
        #[source]
        source: PlacementError,
    },
    #[error("the fleet has no GPU capacity")]
    NoGpuCapacity,
    /// The inflation protocol's tune ratio is not a share of capacity in (0, 10].
    #[error("invalid tune {0}: expected a share of GPU capacity in (0, 10], e.g. 1.3")]
    InvalidTune(f64),
    /// The inflation protocol tunes GPU requests; a trace without any has none to tune.
    #[error("the trace's {pods} pods request no GPU: the inflation protocol tunes arrived GPU requests to a share of capacity, and there are none to tune")]
    NothingToTune { pods: usize },
    /// Tuning down removed every GPU pod: the target is too small for the trace's pods.
    #[error("tune {tune} leaves no GPU pod to arrive: tuning down to its target of {target_milli} milli-GPU (capacity {capacity_milli}) removed every GPU pod (the smallest requests {smallest_milli}); use a larger tune")]
    TunedToNothing {
        tune: f64,
        target_milli: u64,
        capacity_milli: u64,
        smallest_milli: u64,
    },
    #[error("{total} jobs fit no node of the empty fleet ({by_reason}), e.g. {examples}")]
    Unplaceable {
        total: u64,
        /// `reason count` pairs, comma-separated, by reason name.
        by_reason: String,
        /// The first few such jobs' names.
        examples: String,
    },
    #[error("policy {policy} runs cards in slicing mode {mode}, which no device model of fleet {fleet} supports")]
    PreferredModeUnsupported {
        policy: String,
        mode: String,
        fleet: String,
    },
}
