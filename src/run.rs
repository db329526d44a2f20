//! One inflation run: `flexsim run`, and the unit of work of `flexsim sweep`.

use anyhow::{bail, Context, Result};
use flexsim_sim::engine::inflation::{self, InflationConfig};
use flexsim_sim::metrics::curve::{self, CurvePoint};
use flexsim_sim::model::fleet::Fleet;
use flexsim_sim::model::job::Workload;
use flexsim_sim::model::slicing::SlicingMode;
use flexsim_sim::output::report::InflationSummary;
use flexsim_sim::policy::Policy;
use std::time::Instant;

/// The outcome of one run, ready to write.
pub struct RunResult {
    pub summary: InflationSummary,
    pub curve: Vec<CurvePoint>,
}

/// The fleet a run uses: the user's slicing mode on every device model if given (an error if
/// one does not support it), else the policy's preferred mode where supported, else the
/// fleet's own.
pub fn fleet_for(
    fleet: &Fleet,
    policy: &dyn Policy,
    slicing: Option<SlicingMode>,
) -> Result<Fleet> {
    let mut f = fleet.clone();
    match (slicing, policy.preferred_slicing()) {
        (Some(mode), _) => f.set_mode(mode).map_err(anyhow::Error::msg)?,
        (None, Some(mode)) => {
            if f.prefer_mode(mode) == 0 {
                bail!(
                    "policy {} runs cards in slicing mode {}, which no device model of fleet {} supports",
                    policy.name(),
                    mode.name(),
                    fleet.name
                );
            }
        }
        (None, None) => {}
    }
    Ok(f)
}

/// Parses a `--slicing` name.
pub fn slicing_mode(name: Option<&str>) -> Result<Option<SlicingMode>> {
    name.map(|n| {
        SlicingMode::from_name(n).with_context(|| {
            format!(
                "unknown --slicing {n:?}; known: {}",
                SlicingMode::NAMES.join(", ")
            )
        })
    })
    .transpose()
}

/// Runs `policy` on `workload` and `fleet` with the inflation protocol.
pub fn inflation_run(
    workload: &Workload,
    fleet: &Fleet,
    policy: &str,
    slicing: Option<SlicingMode>,
    config: InflationConfig,
) -> Result<RunResult> {
    let start = Instant::now();
    let built = flexsim_policies::build(policy)?;
    let policy = &built.request.canonical();
    let mut p = built.policy;
    let fleet = &fleet_for(fleet, p.as_ref(), slicing)?;
    let outcome = inflation::run(fleet, workload, p.as_mut(), config)?;
    let points = curve::bucket(&outcome.samples, outcome.gpu_capacity_milli);
    let wall_ms = start.elapsed().as_millis() as u64;
    let mut summary = InflationSummary::new(
        &workload.name,
        &fleet.name,
        policy,
        config,
        &outcome,
        &points,
        wall_ms,
    );
    summary.policy_params = built.params.resolved();
    Ok(RunResult {
        summary,
        curve: points,
    })
}

/// Formats an optional percentage for tables.
pub fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), |x| format!("{x:.2}"))
}

/// The outcome of one replay, ready to write.
pub struct ReplayResult {
    pub summary: flexsim_sim::output::report::ReplaySummary,
    pub outcome: flexsim_sim::metrics::replay_metrics::ReplayOutcome,
}

/// Runs `policy` on `workload` and `fleet` with the replay protocol.
pub fn replay_run(
    workload: &Workload,
    fleet: &Fleet,
    policy: &str,
    slicing: Option<SlicingMode>,
    config: &flexsim_sim::engine::replay::ReplayConfig,
    demand: &str,
) -> Result<ReplayResult> {
    let start = Instant::now();
    let built = flexsim_policies::build(policy)?;
    let policy = &built.request.canonical();
    let mut p = built.policy;
    let fleet = &fleet_for(fleet, p.as_ref(), slicing)?;
    let outcome = flexsim_sim::engine::replay::run(fleet, workload, p.as_mut(), config)?;
    let wall_ms = start.elapsed().as_millis() as u64;
    let mut summary = flexsim_sim::output::report::ReplaySummary::new(
        &flexsim_sim::output::report::ReplayRun {
            trace: &workload.name,
            fleet,
            policy,
            config,
            demand,
            wall_ms,
        },
        &outcome,
    );
    summary.policy_params = built.params.resolved();
    Ok(ReplayResult { summary, outcome })
}

/// Writes a replay's files and plots into `dir`.
pub fn write_replay(dir: &std::path::Path, workload: &Workload, r: &ReplayResult) -> Result<()> {
    let names: Vec<String> = workload.pods.iter().map(|p| p.name.clone()).collect();
    flexsim_sim::output::report::write_replay_run(dir, &r.summary, &r.outcome, &names)?;
    crate::plot::utilization_over_time(&dir.join("utilization.svg"), &r.outcome.timeseries)?;
    let jcts: Vec<f64> = r
        .outcome
        .jobs
        .iter()
        .filter_map(|j| j.jct_ms())
        .map(|x| x as f64 / 1000.0)
        .collect();
    crate::plot::jct_cdf(&dir.join("jct_cdf.svg"), &jcts)?;
    Ok(())
}

/// Prints the replay summary table.
pub fn print_replay(s: &flexsim_sim::output::report::ReplaySummary, out: &std::path::Path) {
    let o = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |x| format!("{x:.1}"));
    println!("protocol        replay");
    println!(
        "trace           {} ({} jobs, {} skipped: no work in the trace)",
        s.trace, s.jobs_total, s.jobs_skipped
    );
    println!("fleet           {}", s.fleet);
    for (m, u) in &s.per_device_model {
        println!(
            "  {m:<13} {} cards, {}: alloc {:.1}%, busy {:.1}%",
            u.cards, u.slicing, u.util_alloc_pct, u.util_busy_pct
        );
        if let Some(p) = &u.profile {
            println!(
                "  {:<13} from profile {p}: {}",
                "",
                u.from_profile.join(", ")
            );
        }
    }
    println!("policy / seed   {} / {}", s.policy, s.seed);
    println!(
        "utilization     allocated {:.2}%, busy {:.2}%",
        s.util_alloc_pct, s.util_busy_pct
    );
    println!("frag ratio      {:.2}% (time mean)", s.frag_ratio_pct_mean);
    println!(
        "wait s          p50 {}  p99 {}",
        o(s.wait_p50_s),
        o(s.wait_p99_s)
    );
    println!(
        "JCT s           p50 {}  p99 {}",
        o(s.jct_p50_s),
        o(s.jct_p99_s)
    );
    println!(
        "slowdown        p50 {}  p99 {}",
        o(s.slowdown_p50),
        o(s.slowdown_p99)
    );
    println!("SLO attainment  {}%", o(s.slo_attainment_pct));
    println!(
        "jobs            {} finished, {} running, {} pending; {} preemptions",
        s.jobs_finished, s.jobs_running, s.jobs_pending, s.preemptions
    );
    println!(
        "wall            {} ms ({} events, {:.0} events/s)",
        s.wall_ms, s.events, s.events_per_s
    );
    if s.jobs_total > 0 && s.jobs_skipped == s.jobs_total {
        println!(
            "note            no job of this trace has a work time (does the format carry times?)"
        );
    }
    println!(
        "wrote           {}/summary.json, timeseries.csv, jobs.csv, *.svg",
        out.display()
    );
}
