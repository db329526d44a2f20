//! `flexsim fleet show FILE [--dot OUT]`: a fleet and its topology at a glance — nodes and
//! devices per model, and for a fleet with a topology the network levels, each model's board,
//! and what each tier costs under the default cost model (`flexsim_sim::model::topology`);
//! `--dot` writes the graph for Graphviz.

use anyhow::{Context, Result};
use flexsim_sim::model::fleet::Fleet;
use flexsim_sim::model::perf::PerfParams;
use flexsim_sim::model::topology::{comm_share, remote_penalty_for_hops, speed_factor, Topology};
use std::collections::BTreeMap;
use std::path::Path;

/// Prints `fleet`'s summary; with `dot`, writes its graph there (refused if it exists, unless
/// `force`).
pub fn show(fleet: &Fleet, dot: Option<&Path>, force: bool) -> Result<()> {
    let mut per_model: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for n in &fleet.nodes {
        let key = if n.gpus == 0 {
            "(cpu only)"
        } else {
            n.model.as_str()
        };
        let e = per_model.entry(key).or_insert((0, 0));
        e.0 += 1;
        e.1 += u64::from(n.gpus);
    }
    outln!(
        "fleet {}: {} nodes, {} devices",
        fleet.name,
        fleet.nodes.len(),
        fleet.gpu_count()
    );
    for (model, (nodes, devices)) in &per_model {
        let mode = fleet
            .devices
            .get(*model)
            .map_or(String::new(), |d| format!(", {}", d.mode.name()));
        outln!("  {model:<14} {nodes:>7} nodes {devices:>8} devices{mode}");
    }
    match &fleet.topology {
        None => outln!(
            "topology: none (flat: in-node links free, every gang across nodes at the \
             cross-node factor)"
        ),
        Some(t) => print_topology(t),
    }
    if let Some(path) = dot {
        let t = fleet.topology.as_deref().with_context(|| {
            format!(
                "--dot: fleet {} has no topology to draw (add a [topology] table and the \
                 groups' racks; traces/README.md \"Topology\")",
                fleet.name
            )
        })?;
        if path.exists() && !force {
            anyhow::bail!("{} exists; pass --force to overwrite it", path.display());
        }
        let (text, vertices, links) = flexsim_sim::output::topology_dot::dot(fleet, t);
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
        outln!(
            "wrote {} ({} vertices, {} links)",
            path.display(),
            vertices,
            links
        );
    }
    Ok(())
}

fn print_topology(t: &Topology) {
    outln!(
        "topology: {} (lowest first); node uplink {} GB/s",
        t.levels.join(" < "),
        t.nic_gb_s
    );
    for (k, level) in t.levels.iter().enumerate() {
        let per_switch = t.nodes_under(k);
        let (lo, hi) = (
            per_switch.iter().min().copied().unwrap_or(0),
            per_switch.iter().max().copied().unwrap_or(0),
        );
        let across = if k == 0 {
            format!("{} GB/s a node (its uplink)", t.level_gb_s[k])
        } else {
            format!(
                "oversubscription {}:1, {} GB/s a node across it",
                t.oversubscription[k], t.level_gb_s[k]
            )
        };
        outln!(
            "  {level:<8} {:>6} switch(es), {lo}–{hi} nodes each, {across}",
            t.switches[k].len()
        );
    }
    outln!("boards:");
    for (model, b) in &t.boards {
        outln!(
            "  {model:<14} {} in domains of {}, {} GB/s; PCIe {} GB/s ({})",
            b.fabric.name(),
            b.domain,
            b.fabric_gb_s,
            b.pcie_gb_s,
            b.source
        );
    }
    let f = PerfParams::DEFAULT.cross_node_factor;
    let c = comm_share(f);
    outln!(
        "speed factor by tier (cross-node factor {f} ⇒ communication share c = {c:.5}; \
         1 / (1 − c + c · 600 / B)):"
    );
    for (model, b) in &t.boards {
        outln!(
            "  {model:<14} board {:.4}  node (PCIe) {:.4}",
            speed_factor(b.fabric_gb_s, c),
            speed_factor(b.pcie_gb_s, c)
        );
    }
    for (k, level) in t.levels.iter().enumerate() {
        outln!(
            "  {level:<14} {:.4}  (remote pooling across it: ρ = {:.4})",
            speed_factor(t.level_gb_s[k], c),
            remote_penalty_for_hops(PerfParams::DEFAULT.remote_penalty, 2 * (k as u32 + 1))
        );
    }
}
