//! `flexsim trace info`: prints the shape of a trace ([`flexsim_sim::input::trace::info`], where
//! it is computed) and its offered load on a fleet.

use crate::inputs;
use anyhow::Result;
use std::path::Path;

/// `flexsim trace info`: the shape ([`flexsim_sim::input::trace::info`]) of the trace at
/// `file`, and its offered load on the fleet at `nodes` (default: the embedded openb GPU node
/// list). What the reader warns of — jobs it skipped and why, columns it ignores — is part of
/// the answer, so it is printed here on stdout rather than on stderr.
pub(crate) fn print(file: &Path, nodes: Option<&Path>) -> Result<()> {
    use flexsim_sim::input::trace::{self, info::TraceShape};
    let format = trace::detect_file(file)?;
    let mut warnings = flexsim_sim::input::Warnings::new();
    let workload = format.read_noting(file, &mut warnings)?;
    let fleet = inputs::fleet(nodes, false)?;
    let shape = TraceShape::of(&workload);
    let pct = |n: u64| 100.0 * n as f64 / shape.jobs.max(1) as f64;
    outln!("trace         {} ({format})", file.display());
    outln!(
        "jobs          {} ({} without work, which replay skips)",
        shape.jobs,
        shape.without_work
    );
    for w in &warnings {
        outln!("reader        {w}");
    }
    outln!("GPU-hours     {:.1}", shape.gpu_hours());
    outln!("sizes         GPUs per job:");
    for (size, n) in &shape.sizes {
        outln!("  {:<11} {n:>9} {:>6.1}%", size.label(), pct(*n));
    }
    outln!(
        "fractional    {:.1}% of the GPU jobs ask for part of one card",
        100.0 * shape.fractional_share()
    );
    let (first, last) = shape.arrivals_ms.unwrap_or((0, 0));
    outln!(
        "arrivals      {} .. {} s, span {}",
        first / 1000,
        last / 1000,
        human_span(shape.span_ms())
    );
    outln!(
        "gangs         {} ({:.1}%) with a multi-node shape",
        shape.gangs,
        pct(shape.gangs)
    );
    let gpus = fleet.gpu_count();
    let fleet_name = nodes.map_or_else(
        || inputs::DEFAULT_FLEET_NAME.to_owned(),
        |p| p.display().to_string(),
    );
    outln!(
        "fleet         {fleet_name}: {gpus} GPUs on {} nodes",
        fleet.nodes.len()
    );
    match shape.offered_load(gpus) {
        Some(load) => {
            let verdict = if load >= 1.0 {
                "more GPU time than the fleet serves: queues will grow"
            } else if load >= 0.7 {
                "heavy: expect queueing"
            } else {
                "light: little contention outside bursts"
            };
            outln!("offered load  {load:.3} = GPU-hours / (fleet GPUs x arrival span): {verdict}")
        }
        None => outln!("offered load  - (no GPU in the fleet, or every job arrives at once)"),
    }
    Ok(())
}

/// "3.2 h", "41 min", "12 s", "5.1 days".
fn human_span(ms: u64) -> String {
    let s = ms as f64 / 1000.0;
    if s < 120.0 {
        format!("{s:.0} s")
    } else if s < 7200.0 {
        format!("{:.0} min", s / 60.0)
    } else if s < 172_800.0 {
        format!("{:.1} h", s / 3600.0)
    } else {
        format!("{:.1} days", s / 86_400.0)
    }
}
