//! # flexsim: the command line, as a library an out-of-tree policy crate embeds
//!
//! The `flexsim` binary is [`Cli::new`]`().run()`. A policy author's binary is the same line
//! with their policies added, and gets every command for them — `run`, `sweep` (both
//! protocols, plots, `sweep.csv`), `regress`, `compare`, `policies`:
//!
//! ```no_run
//! use flexsim::sim::model::cluster::{Cluster, NodeId};
//! use flexsim::sim::model::job::Pod;
//! use flexsim::sim::policy::{Greedy, NodeScorer};
//! use flexsim::PolicyInfo;
//!
//! /// The node with the most free GPU milli first: spread, the opposite of binpacking.
//! struct Spread;
//! impl NodeScorer for Spread {
//!     fn name(&self) -> &str { "spread" }
//!     fn score(&mut self, cluster: &Cluster, node: NodeId, _pod: &Pod) -> i64 {
//!         cluster.node(node).gpu_free_total() as i64
//!     }
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     flexsim::Cli::new()
//!         .with_policy(PolicyInfo {
//!             name: "spread",
//!             description: "most free GPU first",
//!             params: &[],
//!             make: |_| Ok(Box::new(Greedy::new(Spread))),
//!         })
//!         .run()
//! }
//! ```
//!
//! Then `my-binary sweep --policy spread,fgd --seeds 42..46 --out out/cmp` runs the FGD
//! experiment for both and draws `out/cmp/alloc_vs_arrived.svg`. `examples/out-of-tree-policy/`
//! in the repository is this as a separate cargo project; the README's "Writing a policy"
//! goes from zero to that plot.
//!
//! ## Where things are
//!
//! - [`sim`] (the `flexsim-sim` crate) is the simulator and the policy API: implement
//!   [`sim::policy::NodeScorer`] (and get filtering, tie-breaking and GPU choice from
//!   [`sim::policy::Greedy`]) or the whole [`sim::policy::Policy`] trait for a replay policy
//!   with its own queue order, preemption or wake-ups.
//! - [`sim::testing`] has the helpers the shipped policies' unit tests use: small clusters of
//!   catalog models, a placed pod, a replay on a few nodes.
//! - A policy with parameters lists them in `params` ([`ParamSpec`]) and reads them in `make`
//!   from the resolved [`Params`]; `name[key=value]` on the command line sets them, and an
//!   unknown key or bad value is refused with the list of valid ones.

#[macro_use]
mod stdout;
mod claim;
mod cli;
mod compare;
mod experiment;
mod fleet_show;
mod inputs;
mod map;
mod merge;
mod plot;
mod progress;
mod registry;
mod run;
mod seeds;
mod shard;
mod sweep;
mod trace_info;

pub use flexsim_policies::{PolicyInfo, Registry};
pub use flexsim_sim as sim;
pub use flexsim_sim::policy::params::{ParamError, ParamSpec, Params};

use std::io::Write;
use std::process::ExitCode;

/// The `flexsim` command line with the shipped policies and any added to it.
pub struct Cli {
    /// The registry so far, or the first policy that could not be added.
    registry: Result<Registry, flexsim_policies::PolicyError>,
}

impl Default for Cli {
    fn default() -> Self {
        Cli::new()
    }
}

impl Cli {
    /// The command line with every shipped policy.
    pub fn new() -> Cli {
        Cli {
            registry: Ok(Registry::shipped()),
        }
    }

    /// Adds a policy under its `name`, after the shipped ones (`flexsim policies` lists it
    /// last). A name already taken, or one a request cannot spell, makes [`Cli::run`] exit with
    /// that error before any command runs.
    pub fn with_policy(self, info: PolicyInfo) -> Cli {
        Cli {
            registry: self.registry.and_then(|r| r.with(info)),
        }
    }

    /// Parses the process's arguments and runs the command; the exit code to return from
    /// `main` (0 success, 1 error, 2 refused input as each command documents, 130 interrupted,
    /// 141 closed stdout).
    pub fn run(self) -> ExitCode {
        match self.registry {
            Ok(registry) => {
                registry::install(registry);
                cli::main()
            }
            Err(e) => {
                let _ = writeln!(std::io::stderr(), "error: {e}");
                ExitCode::FAILURE
            }
        }
    }
}
