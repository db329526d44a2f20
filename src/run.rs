//! One inflation run: `flexsim run`, and the unit of work of `flexsim sweep`.

use anyhow::{Context, Result};
use flexsim_sim::engine::inflation::{self, InflationConfig};
use flexsim_sim::metrics::curve::{self, CurvePoint};
use flexsim_sim::model::fleet::{Fleet, SlicingChoice};
use flexsim_sim::model::job::Workload;
use flexsim_sim::output::report::{InflationSummary, ReplaySummary};
use flexsim_sim::policy::observe::Observed;
use std::time::Instant;

/// The outcome of one run, ready to write.
pub struct RunResult {
    pub summary: InflationSummary,
    pub curve: Vec<CurvePoint>,
}

/// Parses `--slicing`: one mode for every device model (`mig`), modes per model
/// (`A100-80=mig,Ascend910B3=vnpu`), or both (`whole,A100-80=mig`).
pub fn slicing_choice(text: Option<&str>) -> Result<Option<SlicingChoice>> {
    text.map(|t| {
        t.parse::<SlicingChoice>()
            .map_err(|e| anyhow::anyhow!("invalid --slicing {e}"))
    })
    .transpose()
}

/// `fleet` with the `--slicing` choice applied: an unknown model (the error lists the
/// fleet's) or a mode a model does not support is an error. The library's run functions put
/// the policy's preferred mode on the models not chosen ([`flexsim_sim::engine::fleet_for`]).
pub fn chosen_fleet(fleet: &Fleet, slicing: Option<&SlicingChoice>) -> Result<Fleet> {
    let mut f = fleet.clone();
    if let Some(choice) = slicing {
        f.choose(choice).context("--slicing")?;
    }
    Ok(f)
}

/// The line that says which slicing mode each device model ran in, and why.
fn slicing_line<'a>(per_model: impl Iterator<Item = (&'a String, &'a str, &'a str)>) -> String {
    let models: Vec<String> = per_model
        .map(|(model, mode, from)| {
            let why = match from {
                "policy" => "the policy's",
                "chosen" => "--slicing",
                _ => "the fleet's",
            };
            format!("{model} {mode} ({why})")
        })
        .collect();
    format!("slicing: {}", models.join(", "))
}

/// What a replay says on stderr: the slicing mode of each device model; the jobs that can
/// never run (unplaceable), per reason; the jobs still pending at the end, per reason.
pub fn replay_notes(s: &ReplaySummary) -> Vec<String> {
    let mut lines = vec![slicing_line(
        s.per_device_model
            .iter()
            .map(|(m, u)| (m, u.slicing.as_str(), u.slicing_from)),
    )];
    lines.extend(s.jobs_unplaceable.line("jobs"));
    lines.extend(s.topology_note.iter().map(|n| format!("topology: {n}")));
    if s.jobs_pending > 0 {
        let reasons: Vec<String> = s
            .jobs_pending_by_reason
            .iter()
            .map(|(r, n)| format!("{r} {n}"))
            .collect();
        lines.push(format!(
            "pending: {} jobs still wait at the end: {}",
            s.jobs_pending,
            reasons.join(", ")
        ));
    }
    lines
}

/// What an inflation run says on stderr: the slicing modes and the unplaceable pods.
pub fn inflation_notes(s: &InflationSummary) -> Vec<String> {
    let mut lines = vec![slicing_line(
        s.per_device_model
            .iter()
            .map(|(m, u)| (m, u.slicing.as_str(), u.slicing_from)),
    )];
    lines.extend(s.pods_unplaceable.line("pods"));
    lines
}

/// Runs `policy` on `workload` and `fleet` with the inflation protocol.
pub fn inflation_run(
    workload: &Workload,
    fleet: &Fleet,
    policy: &str,
    slicing: Option<&SlicingChoice>,
    config: InflationConfig,
) -> Result<RunResult> {
    let start = Instant::now();
    let built = crate::registry::build(policy)?;
    let policy = &built.request.canonical();
    let mut p = built.policy;
    let fleet = &chosen_fleet(fleet, slicing)?;
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
    /// `--explain`'s records (empty without it).
    pub decisions: Vec<flexsim_sim::policy::explain::Decision>,
}

/// Runs `policy` on `workload` and `fleet` with the replay protocol.
pub fn replay_run(
    workload: &Workload,
    fleet: &Fleet,
    policy: &str,
    slicing: Option<&SlicingChoice>,
    config: &flexsim_sim::engine::replay::ReplayConfig,
    demand: &str,
) -> Result<ReplayResult> {
    replay_run_explained(
        workload, fleet, policy, slicing, config, demand, None, false,
    )
}

/// [`replay_run`], recording the policy's decisions for the `explain` jobs
/// ([`flexsim_sim::policy::explain`]) into [`ReplayResult::decisions`]; `None` runs the policy
/// unwrapped, exactly as `replay_run`. `progress`: show a progress bar ([`crate::progress`]).
#[allow(clippy::too_many_arguments)]
pub fn replay_run_explained(
    workload: &Workload,
    fleet: &Fleet,
    policy: &str,
    slicing: Option<&SlicingChoice>,
    config: &flexsim_sim::engine::replay::ReplayConfig,
    demand: &str,
    explain: Option<&flexsim_sim::policy::explain::ExplainJobs>,
    progress: bool,
) -> Result<ReplayResult> {
    let start = Instant::now();
    let built = crate::registry::build(policy)?;
    let policy = &built.request.canonical();
    let mut p = built.policy;
    let fleet = &chosen_fleet(fleet, slicing)?;
    let last_arrival = workload
        .pods
        .iter()
        .map(|p| p.arrival_ms)
        .max()
        .unwrap_or(0);
    let run = |policy: &mut dyn flexsim_sim::policy::Policy| {
        if progress {
            let bar = crate::progress::Progress::new(last_arrival);
            let mut watched = Observed::new(policy, bar);
            let o = flexsim_sim::engine::replay::run(fleet, workload, &mut watched, config);
            watched.observer.finish();
            o
        } else {
            flexsim_sim::engine::replay::run(fleet, workload, policy, config)
        }
    };
    let (outcome, decisions) = match explain {
        None => (run(p.as_mut())?, Vec::new()),
        Some(jobs) => {
            let explainer = flexsim_sim::policy::explain::Explainer::new(jobs.clone());
            let mut watched = Observed::new(p.as_mut(), explainer);
            let o = run(&mut watched)?;
            (o, watched.observer.into_decisions())
        }
    };
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
    if p.uses_topology() && fleet.topology.is_none() {
        summary.topology_note = Some(format!(
            "policy {policy} places by the fleet's topology, but fleet {} has none: it ran its \
             flat rule (add a [topology] table and the groups' racks; traces/README.md \
             \"Topology\")",
            fleet.name
        ));
    }
    Ok(ReplayResult {
        summary,
        outcome,
        decisions,
    })
}

/// The most rows `--explain` with no job list may write (jobs × nodes) unless `--yes`: a
/// decision lists every node (~100 bytes a row), so explaining every job of a large run is
/// gigabytes.
pub const EXPLAIN_ROW_LIMIT: u64 = 1_000_000;

/// `--explain`'s job list: empty for every job (refused beyond [`EXPLAIN_ROW_LIMIT`] rows
/// unless `yes`), else comma-separated job names, each of which the trace must have.
pub fn explain_jobs(
    list: &str,
    workload: &Workload,
    fleet: &Fleet,
    yes: bool,
) -> Result<flexsim_sim::policy::explain::ExplainJobs> {
    use flexsim_sim::policy::explain::ExplainJobs;
    let names: std::collections::BTreeSet<String> = list
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect();
    if names.is_empty() {
        let rows = (workload.pods.len() as u64).saturating_mul(fleet.nodes.len() as u64);
        if rows > EXPLAIN_ROW_LIMIT && !yes {
            anyhow::bail!(
                "--explain with no job list explains all {} jobs on {} nodes: up to {rows} rows \
                 of decisions.csv, beyond the limit of {EXPLAIN_ROW_LIMIT}; name the jobs \
                 (--explain JOB,...) or pass --yes",
                workload.pods.len(),
                fleet.nodes.len()
            );
        }
        return Ok(ExplainJobs::All);
    }
    let known: std::collections::BTreeSet<&str> =
        workload.pods.iter().map(|p| p.name.as_str()).collect();
    if let Some(missing) = names.iter().find(|n| !known.contains(n.as_str())) {
        let examples: Vec<&str> = workload
            .pods
            .iter()
            .take(3)
            .map(|p| p.name.as_str())
            .collect();
        anyhow::bail!(
            "--explain: trace {} has no job named {missing:?} (jobs go by jobs.csv's `job` \
             names, e.g. {})",
            workload.name,
            examples.join(", ")
        );
    }
    Ok(ExplainJobs::Named(names))
}

/// Writes `decisions.csv` into `dir`; the number of rows written.
pub fn write_decisions(
    dir: &std::path::Path,
    workload: &Workload,
    r: &ReplayResult,
    jobs: &flexsim_sim::policy::explain::ExplainJobs,
) -> Result<u64> {
    let names: Vec<String> = workload.pods.iter().map(|p| p.name.to_string()).collect();
    let path = dir.join("decisions.csv");
    let file = std::fs::File::create(&path)?;
    Ok(flexsim_sim::output::decisions_csv::write(
        std::io::BufWriter::new(file),
        &r.decisions,
        &r.outcome,
        jobs,
        &names,
    )?)
}

/// Writes a replay's files and plots into `dir`.
pub fn write_replay(dir: &std::path::Path, workload: &Workload, r: &ReplayResult) -> Result<()> {
    flexsim_sim::output::report::write_replay_run(dir, &r.summary, &r.outcome, &workload.pods)?;
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
    outln!("protocol        replay");
    outln!(
        "trace           {} ({} jobs, {} skipped: no work in the trace)",
        s.trace,
        s.jobs_total,
        s.jobs_skipped
    );
    outln!("fleet           {}", s.fleet);
    for (m, u) in &s.per_device_model {
        outln!(
            "  {m:<13} {} cards, {}: alloc {:.1}%, busy {:.1}%",
            u.cards,
            u.slicing,
            u.util_alloc_pct,
            u.util_busy_pct
        );
        if let Some(p) = &u.profile {
            outln!(
                "  {:<13} from profile {p}: {}",
                "",
                u.from_profile.join(", ")
            );
        }
    }
    outln!("policy / seed   {} / {}", s.policy, s.seed);
    outln!(
        "utilization     allocated {:.2}%, busy {:.2}%",
        s.util_alloc_pct,
        s.util_busy_pct
    );
    outln!("frag ratio      {:.2}% (time mean)", s.frag_ratio_pct_mean);
    outln!(
        "wait s          p50 {}  p99 {}",
        o(s.wait_p50_s),
        o(s.wait_p99_s)
    );
    outln!(
        "JCT s           p50 {}  p99 {}",
        o(s.jct_p50_s),
        o(s.jct_p99_s)
    );
    outln!(
        "slowdown        p50 {}  p99 {}",
        o(s.slowdown_p50),
        o(s.slowdown_p99)
    );
    outln!("SLO attainment  {}%", o(s.slo_attainment_pct));
    outln!(
        "jobs            {} finished, {} running, {} pending, {} unplaceable; {} preemptions",
        s.jobs_finished,
        s.jobs_running,
        s.jobs_pending,
        s.jobs_unplaceable.total,
        s.preemptions
    );
    for line in energy_lines(s) {
        outln!("{line}");
    }
    outln!(
        "wall            {} ms ({} events, {:.0} events/s)",
        s.wall_ms,
        s.events,
        s.events_per_s
    );
    if s.jobs_total > 0 && s.jobs_skipped == s.jobs_total {
        outln!(
            "note            no job of this trace has a work time (does the format carry times?)"
        );
    }
    outln!(
        "wrote           {}/summary.json, timeseries.csv, jobs.csv, *.svg",
        out.display()
    );
}

/// The run summary's energy and per-class lines.
pub fn energy_lines(s: &flexsim_sim::output::report::ReplaySummary) -> Vec<String> {
    let o = |v: Option<f64>, d: usize| v.map_or_else(|| "-".to_owned(), |x| format!("{x:.d$}"));
    let mut lines = vec![format!(
        "energy          {:.3} kWh over {:.2} h, mean {:.0} W; {} kWh per busy GPU-h, {} per \
         goodput GPU-h",
        s.energy_kwh,
        s.energy_span_s / 3600.0,
        s.power_avg_w,
        o(s.kwh_per_busy_gpu_h, 3),
        o(s.kwh_per_goodput_gpu_h, 3)
    )];
    for (m, u) in &s.per_device_model {
        lines.push(format!(
            "  {m:<13} {:.3} kWh, mean {:.0} W ({:.0}-{:.0} W a card, {})",
            u.energy_kwh, u.power_avg_w, u.power_idle_w, u.power_full_w, u.power_from
        ));
    }
    if let (Some(t), Some(saved), Some(pct)) =
        (s.idle_off_min, s.idle_off_saved_kwh, s.idle_off_saved_pct)
    {
        lines.push(format!(
            "idle-off        cards off after {t} min idle: {saved:.3} kWh saved ({pct:.1} %)"
        ));
    }
    let classes: Vec<String> = s
        .per_class
        .iter()
        .map(|(c, x)| {
            format!(
                "{c} {} jobs, wait p50/p99 {}/{} s, JCT p50/p99 {}/{} s, GPU {:.1} % (asked {:.1} %)",
                x.jobs,
                o(x.wait_p50_s, 1),
                o(x.wait_p99_s, 1),
                o(x.jct_p50_s, 1),
                o(x.jct_p99_s, 1),
                x.gpu_time_share_pct,
                x.gpu_request_share_pct
            )
        })
        .collect();
    lines.push(format!(
        "classes         {}; Jain over classes {}, over jobs (1/slowdown) {}",
        classes.join("; "),
        o(s.jain_classes, 3),
        o(s.jain_jobs_slowdown, 3)
    ));
    lines
}
