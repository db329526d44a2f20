//! # flexsim-sim: the model, the engine, the policy API, metrics and outputs
//!
//! The modules are the data flow, in order — each sees only those before it (the engine and
//! the policy API call each other through the [`policy::Policy`] trait, which the engine owns
//! no part of):
//!
//! | module | what | e.g. |
//! |---|---|---|
//! | [`input`] | files → model: trace readers (one per format), fleet files, profile files, synthetic workloads | [`input::trace::read_any`], [`Fleet::read`](model::fleet::Fleet::read), [`input::synth`] |
//! | [`model`] | what is simulated: catalog, fleet, jobs, slicing, perf model, demand, profiles, fragmentation, the cluster state | [`model::cluster::Cluster`], [`model::slicing`], [`model::perf`] |
//! | [`engine`] | how time runs: event queue, the [`inflation`](engine::inflation) and [`replay`](engine::replay) protocols | [`engine::replay::run`] |
//! | [`policy`] | the policy API: the trait, the views it gets, building blocks | [`policy::Policy`], [`policy::Greedy`], [`policy::gpu_select`] |
//! | [`metrics`] | what a run measures | [`metrics::curve`], [`metrics::replay_metrics`] |
//! | [`output`] | what a run writes, and the golden-figure check | [`output::report`], [`output::regress`] |
//!
//! [`error`] holds the typed errors of every stage. The model sees no file format and no
//! engine; the policy API and metrics see the model, never the engine. This crate never
//! depends on the policies, the CLI or any FFI.
//!
//! ## A complete policy
//!
//! A policy author implements [`NodeScorer`](policy::NodeScorer) (or [`Policy`](policy::Policy)
//! for full control) against this public API. This one puts each pod on the feasible node with
//! the most free CPU; [`Greedy`](policy::Greedy) supplies filtering, tie-breaking and GPU choice:
//!
//! ```
//! use flexsim_sim::model::cluster::{Cluster, NodeId};
//! use flexsim_sim::model::fleet::{Fleet, NodeSpec};
//! use flexsim_sim::engine::inflation::{self, InflationConfig};
//! use flexsim_sim::model::job::{Pod, Workload};
//! use flexsim_sim::policy::{Greedy, NodeScorer};
//!
//! struct MostFreeCpu;
//!
//! impl NodeScorer for MostFreeCpu {
//!     fn name(&self) -> &str {
//!         "most-free-cpu"
//!     }
//!     fn score(&mut self, cluster: &Cluster, node: NodeId, _pod: &Pod) -> i64 {
//!         cluster.node(node).cpu_free_milli() as i64
//!     }
//! }
//!
//! let node = |name: &str, cpus| NodeSpec::new(name.into(), cpus, 65536, 2, "T4".into());
//! let fleet = Fleet::new("tiny".into(), vec![node("a", 8000), node("b", 32000)]);
//! let workload = Workload {
//!     name: "two-pods".into(),
//!     pods: vec![Pod::new("p0", 4000, 1024, 1, 500), Pod::new("p1", 4000, 1024, 1, 1000)],
//! };
//! let mut policy = Greedy::new(MostFreeCpu);
//! let run = inflation::run(&fleet, &workload, &mut policy, InflationConfig::default()).unwrap();
//! // Tuned to 130% of 4 GPUs with clones; every arrival was processed and sampled.
//! assert_eq!(run.samples.len(), run.pods_arrived);
//! assert!(run.samples.last().unwrap().used_gpu_milli <= 4000);
//! ```

pub mod engine;
pub mod error;
pub mod input;
pub mod metrics;
pub mod model;
pub mod output;
pub mod policy;
pub mod testing;
