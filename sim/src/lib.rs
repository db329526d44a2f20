//! # flexsim-sim: the model, the engine, trace readers, metrics and reports
//!
//! Data flows one way: a trace file becomes a [`Workload`](job::Workload) ([`trace`], or
//! [`synth`] for a synthetic one), a fleet file a [`Fleet`](fleet::Fleet) (device models from
//! the [`catalog`], each in a [`slicing`] mode, optionally calibrated by a [`profile`]); a
//! protocol drives the engine — [`inflation`] (the FGD paper's snapshot experiment) or
//! [`replay`] (time-faithful, with the [`perf`] rate model) — which asks a
//! [`Policy`](policy::Policy) where each job goes, checks the answer against the
//! [`Cluster`](cluster::Cluster), and samples metrics ([`curve`], [`replay_metrics`]) that
//! [`report`] writes out and [`regress`] compares with golden ones.
//! This crate never depends on the policies, the CLI or any FFI.
//!
//! ## A complete policy
//!
//! A policy author implements [`NodeScorer`](policy::NodeScorer) (or [`Policy`](policy::Policy)
//! for full control) against this public API. This one puts each pod on the feasible node with
//! the most free CPU; [`Greedy`](policy::Greedy) supplies filtering, tie-breaking and GPU choice:
//!
//! ```
//! use flexsim_sim::cluster::{Cluster, NodeId};
//! use flexsim_sim::fleet::{Fleet, NodeSpec};
//! use flexsim_sim::inflation::{self, InflationConfig};
//! use flexsim_sim::job::{Pod, Workload};
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

pub mod catalog;
pub mod cluster;
pub mod curve;
pub mod demand;
pub mod error;
pub mod event_queue;
pub mod fleet;
pub mod fragmentation;
pub mod gpu_select;
pub mod inflation;
pub mod job;
pub mod perf;
pub mod policy;
pub mod profile;
pub mod regress;
pub mod replay;
pub mod replay_metrics;
pub mod report;
pub mod slicing;
pub mod synth;
pub mod trace;
