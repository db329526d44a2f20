//! Small hand-built clusters and replays for policy unit tests — the helpers the shipped
//! policies' tests use, public so that an out-of-tree policy crate pins its rule the same way.
//!
//! Nodes are `(name, cpu_milli, memory_mib, devices, model)` with `model` a catalog preset
//! name (`"V100M16"`, `"A100-80"`, `"Ascend910B3"`, ...), so devices have their real memory and
//! speed.
//!
//! ```
//! use flexsim_sim::model::job::Pod;
//! use flexsim_sim::model::slicing::SlicingMode;
//! use flexsim_sim::testing::{cluster_in, placed};
//!
//! let mut c = cluster_in(&[("a", 32_000, 65_536, 2, "T4")], SlicingMode::Whole);
//! placed(&mut c, 0, Pod::new("p0", 4000, 1024, 1, 1000), 0, &[0]);
//! assert_eq!(c.node(0).gpu_free_total(), 1000);
//! ```

use crate::engine::replay::{self, ReplayConfig};
use crate::metrics::replay_metrics::ReplayOutcome;
use crate::model::catalog::Catalog;
use crate::model::cluster::{Cluster, NodeId, Placement};
use crate::model::fleet::{Fleet, NodeSpec};
use crate::model::job::{Pod, PodId, Workload};
use crate::model::slicing::SlicingMode;
use crate::policy::{Policy, SimRng};
use rand::SeedableRng;

/// A fleet of `(name, cpu_milli, memory_mib, devices, model)` nodes whose device models are the
/// catalog presets (real memory and speeds), all in `mode`. Panics on a model the catalog does
/// not have or a mode it does not support: a test's own mistake.
pub fn fleet_in(nodes: &[(&str, u64, u64, u32, &str)], mode: SlicingMode) -> Fleet {
    let mut f = Fleet::new(
        "t".into(),
        nodes
            .iter()
            .map(|&(n, c, m, g, model)| NodeSpec::new(n.into(), c, m, g, model.into()))
            .collect(),
    );
    for (name, d) in f.devices.iter_mut() {
        d.model = Catalog::preset(name).expect("a catalog model");
    }
    f.set_mode(mode).expect("the models support the mode");
    f
}

/// The empty cluster of [`fleet_in`]'s fleet.
pub fn cluster_in(nodes: &[(&str, u64, u64, u32, &str)], mode: SlicingMode) -> Cluster {
    Cluster::new(&fleet_in(nodes, mode))
}

/// Whole-card nodes `(name, cpu_milli, memory_mib, devices)`, all of one model.
pub fn cluster_of(nodes: &[(&str, u64, u64, u32)], model: &str) -> Cluster {
    let n: Vec<_> = nodes
        .iter()
        .map(|&(a, b, c, d)| (a, b, c, d, model))
        .collect();
    cluster_in(&n, SlicingMode::Whole)
}

/// Places pod `id` on `node`'s devices `gpus`; panics when the cluster refuses (a test that
/// sets up an impossible state).
pub fn placed(c: &mut Cluster, id: PodId, pod: Pod, node: NodeId, gpus: &[u16]) {
    c.place(
        id,
        &pod,
        Placement {
            node,
            gpus: gpus.to_vec(),
        },
    )
    .unwrap();
}

/// A fixed-seed generator for policies that draw (seed 7).
pub fn rng() -> SimRng {
    SimRng::seed_from_u64(7)
}

/// Replays `pods` on the nodes in the policy's preferred mode (whole cards when it has none),
/// with the given restart cost and every other replay option at its default.
pub fn replay_on(
    nodes: &[(&str, u64, u64, u32, &str)],
    pods: Vec<Pod>,
    policy: &mut dyn Policy,
    restart_cost_ms: u64,
) -> ReplayOutcome {
    let f = fleet_in(
        nodes,
        policy.preferred_slicing().unwrap_or(SlicingMode::Whole),
    );
    let w = Workload {
        name: "w".into(),
        pods,
    };
    let config = ReplayConfig {
        restart_cost_ms,
        ..Default::default()
    };
    replay::run(&f, &w, policy, &config).unwrap()
}
