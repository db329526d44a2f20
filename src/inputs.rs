//! Loading traces and fleets, including the openb defaults compiled into the binary. What a
//! reader warns of (columns a published format does not have) goes to stderr.

use anyhow::{anyhow, Result};
use flexsim_sim::error::InputError;
use flexsim_sim::input::fleet_file::FLEET_LIMIT;
use flexsim_sim::input::trace::openb;
use flexsim_sim::input::Warnings;
use flexsim_sim::model::fleet::Fleet;
use flexsim_sim::model::job::Workload;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The openb default pod list (CC BY 4.0, Alibaba; see traces/openb/README.md).
const DEFAULT_TRACE: &str = include_str!("../traces/openb/openb_pod_list_default.csv");
/// The openb GPU node list the FGD paper uses.
const DEFAULT_FLEET: &str = include_str!("../traces/openb/openb_node_list_gpu_node.csv");

/// The claim check's fleet (`traces/fleets/flexai-claim.toml`).
const CLAIM_FLEET: &str = include_str!("../traces/fleets/flexai-claim.toml");

pub const DEFAULT_TRACE_NAME: &str = "openb_pod_list_default.csv";
pub const DEFAULT_FLEET_NAME: &str = "openb_node_list_gpu_node.csv";

/// The trace at `path`, or the embedded default.
pub fn trace(path: Option<&Path>) -> Result<Workload> {
    let mut warnings = Warnings::new();
    let w = match path {
        Some(p) => flexsim_sim::input::trace::read_any_noting(p, &mut warnings),
        None => openb::parse(Path::new(DEFAULT_TRACE_NAME), DEFAULT_TRACE.as_bytes()),
    };
    warn(&warnings);
    Ok(w?)
}

/// The fleet at `path`, or the embedded default. Beyond [`FLEET_LIMIT`] devices or nodes it is
/// refused unless `yes` (`--yes`).
pub fn fleet(path: Option<&Path>, yes: bool) -> Result<Fleet> {
    let mut warnings = Warnings::new();
    let f = match path {
        Some(p) => Fleet::read_limited_noting(p, (!yes).then_some(FLEET_LIMIT), &mut warnings),
        None => Fleet::parse_openb_csv(Path::new(DEFAULT_FLEET_NAME), DEFAULT_FLEET.as_bytes()),
    };
    warn(&warnings);
    f.map_err(|e| match e {
        InputError::FleetTooLarge { .. } => anyhow!("{e}; pass --yes to run it anyway"),
        e => e.into(),
    })
}

/// The fleet at `path` (`None`: the embedded default), or — when `path` is not on disk and is
/// one of the shipped fleets compiled into the binary — that copy, so that an experiment file
/// naming a shipped fleet runs from any directory.
pub fn fleet_or_shipped(path: Option<&Path>, yes: bool) -> Result<Fleet> {
    let shipped = |p: &Path| {
        let p = p.to_string_lossy().replace('\\', "/");
        let p = p.trim_start_matches("./");
        if p == "traces/fleets/flexai-claim.toml" {
            Some(Fleet::parse_toml(
                Path::new("flexai-claim.toml"),
                CLAIM_FLEET,
            ))
        } else if p == format!("traces/openb/{DEFAULT_FLEET_NAME}") {
            Some(Fleet::parse_openb_csv(
                Path::new(DEFAULT_FLEET_NAME),
                DEFAULT_FLEET.as_bytes(),
            ))
        } else {
            None
        }
    };
    match path {
        Some(p) if !p.exists() => match shipped(p) {
            Some(f) => Ok(f?),
            None => fleet(Some(p), yes),
        },
        p => fleet(p, yes),
    }
}

/// Refuses a trace whose jobs accept device models that neither the fleet nor the catalog has.
pub fn check_models(workload: &Workload, fleet: &Fleet) -> Result<()> {
    flexsim_sim::input::names::check_trace_models(workload, fleet).map_err(anyhow::Error::msg)
}

/// Prints each warning on stderr, before any error of the same file (a closed stderr loses
/// them, never panics).
fn warn(warnings: &Warnings) {
    let mut err = std::io::stderr().lock();
    for w in warnings {
        let _ = writeln!(err, "warning: {w}");
    }
}

/// Splits a comma-separated list of paths.
pub fn path_list(text: &str) -> Vec<PathBuf> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .collect()
}
