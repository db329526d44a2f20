//! One inflation run: `flexsim run`, and the unit of work of `flexsim sweep`.

use anyhow::Result;
use flexsim_sim::curve::{self, CurvePoint};
use flexsim_sim::fleet::Fleet;
use flexsim_sim::inflation::{self, InflationConfig};
use flexsim_sim::job::Workload;
use flexsim_sim::report::InflationSummary;
use std::time::Instant;

/// The outcome of one run, ready to write.
pub struct RunResult {
    pub summary: InflationSummary,
    pub curve: Vec<CurvePoint>,
}

/// Runs `policy` on `workload` and `fleet` with the inflation protocol.
pub fn inflation_run(
    workload: &Workload,
    fleet: &Fleet,
    policy: &str,
    config: InflationConfig,
) -> Result<RunResult> {
    let start = Instant::now();
    let mut p = flexsim_policies::by_name(policy)?;
    let outcome = inflation::run(fleet, workload, p.as_mut(), config)?;
    let points = curve::bucket(&outcome.samples, outcome.gpu_capacity_milli);
    let wall_ms = start.elapsed().as_millis() as u64;
    let summary = InflationSummary::new(
        &workload.name,
        &fleet.name,
        policy,
        config,
        &outcome,
        &points,
        wall_ms,
    );
    Ok(RunResult {
        summary,
        curve: points,
    })
}

/// Formats an optional percentage for tables.
pub fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), |x| format!("{x:.2}"))
}
