//! What a run measures: the inflation protocol's allocation curve, the cluster fragmentation
//! over a run, and the replay's utilization integrals, waits, JCTs, slowdowns and SLOs, its energy, and
//! fairness across classes.

pub mod curve;
pub mod energy;
pub mod fairness;
pub mod frag_tracker;
pub mod replay_metrics;
pub mod tiers;
