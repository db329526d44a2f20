//! What is simulated, and nothing about time or files: the device catalog, the fleet, jobs,
//! the slicing modes and their legality, the performance model, demand, device profiles, the
//! FGD fragmentation measure, and the cluster state — who holds what now.

pub mod catalog;
pub mod cluster;
pub mod demand;
pub mod fleet;
pub mod fragmentation;
pub mod gang;
pub mod job;
pub mod perf;
pub mod power;
pub mod profile;
pub mod rng;
pub mod slicing;
pub mod topology;
pub mod units;
