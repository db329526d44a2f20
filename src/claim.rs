//! The claim report (`report = "claim"`): the experiment that tests Flex:ai's headline claim —
//! "+30 % average utilization where jobs cannot fill a whole card" (slicing-model §1.7) — by
//! replaying workloads under the baselines and every Hi Scheduler variant, several seeds each.
//! `experiments/flexai-claim.toml` names them (`flexsim claim-check` runs that file); this
//! module runs the grid and writes its report.
//!
//! Workloads of the shipped file:
//! * `openb` — the openb default trace on the openb fleet, as recorded (light in time: see the
//!   README's replay notes);
//! * `small-model-heavy` — a synthetic trace of mostly small, low-demand sharing jobs
//!   (`SynthParams::small_model_heavy`, one trace per seed: the seed draws the workload as well
//!   as the run) on `traces/fleets/flexai-claim.toml` (192 A100-80 + 128 T4 + CPU-only front
//!   ends), loaded so that whole cards saturate;
//! * `openb-mix` — the same, but with the openb default trace's job mix (`SynthParams::default`:
//!   half of the GPU jobs want a whole card), at half the arrival rate: the mix in which
//!   slicing has less to gain.
//!
//! Outputs under `--out`: `summary.csv` (one row per run), `table.md` (means ± std and the gain
//! of `hi` and the best Hi variant over `k8s-default`), and SVG plots.

use crate::plot::{self, Bar, Series};
use crate::run::replay_run;
use crate::sweep::Case;
use crate::sweep::{fmt_mean_std, mean_std};
use anyhow::{Context, Result};
use flexsim_sim::engine::replay::ReplayConfig;
use flexsim_sim::input::synth::{self, SynthParams};
use flexsim_sim::metrics::replay_metrics::TimeRow;
use flexsim_sim::model::job::Workload;
use flexsim_sim::output::report::ReplaySummary;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use std::fmt::Write as _;
use std::path::Path;

/// Parameters of the experiment: its workloads, policies (baselines first) and seeds, from
/// `experiments/flexai-claim.toml` (or another `report = "claim"` experiment file).
pub struct ClaimSpec<'a> {
    pub cases: &'a [Case],
    pub policies: &'a [String],
    pub seeds: Vec<u64>,
    /// The replay options (the seed is replaced per run).
    pub config: ReplayConfig,
    pub threads: Option<usize>,
    pub progress: bool,
}

struct Outcome<'a> {
    workload: &'a str,
    policy: &'a str,
    seed: u64,
    result: Result<(ReplaySummary, Vec<TimeRow>), String>,
}

/// A synthetic workload of the check for one seed: the preset, its `set` overrides
/// (`key=value`), then the job count, seed and mean gap between arrivals.
pub fn synthetic(
    preset: &str,
    jobs: u64,
    interarrival_s: f64,
    set: &[String],
    seed: u64,
) -> Result<Workload> {
    let mut p = SynthParams::preset(preset).map_err(anyhow::Error::msg)?;
    for a in set {
        p.apply_assignment(a).map_err(anyhow::Error::msg)?;
    }
    for (k, v) in [
        ("jobs", jobs.to_string()),
        ("seed", seed.to_string()),
        ("interarrival_s", interarrival_s.to_string()),
    ] {
        p.apply_override(k, &v).map_err(anyhow::Error::msg)?;
    }
    p.validate().map_err(anyhow::Error::msg)?;
    let mut w = synth::generate(&p);
    w.name = preset.into();
    Ok(w)
}

/// Runs the claim check and writes its files under `out`; returns the table to print once
/// they are in place.
pub fn run(spec: &ClaimSpec, out: &Path) -> Result<String> {
    let cases = spec.cases;
    let mut tasks = Vec::new();
    for c in cases {
        for p in spec.policies {
            for &s in &spec.seeds {
                tasks.push((c, p.as_str(), s));
            }
        }
    }
    let bar = if spec.progress {
        ProgressBar::new(tasks.len() as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} runs, {elapsed} elapsed, eta {eta}")
            .expect("static template"),
    );
    let run_all = || -> Vec<Outcome> {
        tasks
            .par_iter()
            .map(|&(c, policy, seed)| {
                let config = ReplayConfig {
                    seed,
                    ..spec.config.clone()
                };
                let demand = config.demand.to_string();
                let result = replay_run(c.trace(seed), &c.fleet, policy, None, &config, &demand)
                    .map(|r| (r.summary, r.outcome.timeseries))
                    .map_err(|e| format!("{e:#}"));
                bar.inc(1);
                Outcome {
                    workload: c.name.as_str(),
                    policy,
                    seed,
                    result,
                }
            })
            .collect()
    };
    let outcomes = match spec.threads {
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .context("starting the thread pool")?
            .install(run_all),
        None => run_all(),
    };
    bar.finish_and_clear();
    write_summary_csv(&out.join("summary.csv"), &outcomes)?;
    let table = table(&outcomes, cases, spec);
    std::fs::write(out.join("table.md"), &table)
        .with_context(|| format!("writing {}", out.join("table.md").display()))?;
    plots(out, &outcomes, cases, spec.policies)?;
    Ok(table)
}

fn write_summary_csv(path: &Path, outcomes: &[Outcome<'_>]) -> Result<()> {
    let mut s = String::from(
        "workload,policy,seed,util_busy_pct,util_alloc_pct,wait_p50_s,jct_p99_s,util_goodput_pct,wait_p99_s,jct_p50_s,slowdown_p99,slo_attainment_pct,preemptions,jobs_finished,jobs_pending,energy_kwh,kwh_per_goodput_gpu_h,idle_off_saved_pct,jain_classes,note\n",
    );
    let o = |v: Option<f64>| v.map_or(String::new(), |x| format!("{x:.3}"));
    for r in outcomes {
        match &r.result {
            Ok((m, _)) => writeln!(
                s,
                "{},{},{},{:.3},{:.3},{},{},{:.3},{},{},{},{},{},{},{},{:.3},{},{},{},",
                r.workload,
                r.policy,
                r.seed,
                m.util_busy_pct,
                m.util_alloc_pct,
                o(m.wait_p50_s),
                o(m.jct_p99_s),
                m.util_goodput_pct,
                o(m.wait_p99_s),
                o(m.jct_p50_s),
                o(m.slowdown_p99),
                o(m.slo_attainment_pct),
                m.preemptions,
                m.jobs_finished,
                m.jobs_pending,
                m.energy_kwh,
                o(m.kwh_per_goodput_gpu_h),
                o(m.idle_off_saved_pct),
                o(m.jain_classes),
            )?,
            Err(e) => writeln!(
                s,
                "{},{},{},,,,,,,,,,,,,,,,,\"n/a: {}\"",
                r.workload,
                r.policy,
                r.seed,
                e.replace('"', "'")
            )?,
        }
    }
    std::fs::write(path, s).with_context(|| format!("writing {}", path.display()))
}

/// Per (workload, policy): the successful summaries.
fn by_policy<'a>(
    outcomes: &'a [Outcome<'_>],
    policies: &'a [String],
    workload: &str,
) -> Vec<(&'a str, Vec<&'a ReplaySummary>, Option<&'a str>)> {
    policies
        .iter()
        .map(|p| {
            let p = p.as_str();
            let runs: Vec<&Outcome> = outcomes
                .iter()
                .filter(|o| o.workload == workload && o.policy == p)
                .collect();
            let ok = runs
                .iter()
                .filter_map(|o| o.result.as_ref().ok().map(|(s, _)| s))
                .collect();
            let err = runs
                .iter()
                .find_map(|o| o.result.as_ref().err().map(String::as_str));
            (p, ok, err)
        })
        .collect()
}

fn stat(xs: &[f64]) -> String {
    fmt_mean_std(xs).unwrap_or_else(|| "n/a".into())
}

fn table(outcomes: &[Outcome<'_>], cases: &[Case], spec: &ClaimSpec<'_>) -> String {
    let mut t = String::new();
    let seeds: Vec<String> = spec.seeds.iter().map(u64::to_string).collect();
    let _ = writeln!(
        t,
        "# Flex:ai claim check\n\nGenerated by `flexsim claim-check` (seeds {}; mean ± sample std over seeds).\n",
        seeds.join(", ")
    );
    for c in cases {
        let _ = writeln!(
            t,
            "## {} ({} jobs, fleet {}, {} GPUs)\n",
            c.name,
            c.traces[0].1.pods.len(),
            c.fleet.name,
            c.fleet.gpu_count()
        );
        let _ = writeln!(
            t,
            "| policy | util busy % | util goodput % | util alloc % | wait p50 s | wait p99 s | JCT p99 s | slowdown p99 | SLO % | pending |\n|---|---|---|---|---|---|---|---|---|---|"
        );
        let rows = by_policy(outcomes, spec.policies, &c.name);
        for (p, runs, err) in &rows {
            if runs.is_empty() {
                let _ = writeln!(t, "| {p} | n/a: {} |||||||||", err.unwrap_or("no run"));
                continue;
            }
            let col = |f: fn(&ReplaySummary) -> Option<f64>| {
                stat(&runs.iter().filter_map(|s| f(s)).collect::<Vec<_>>())
            };
            let _ = writeln!(
                t,
                "| {p} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                col(|s| Some(s.util_busy_pct)),
                col(|s| Some(s.util_goodput_pct)),
                col(|s| Some(s.util_alloc_pct)),
                col(|s| s.wait_p50_s),
                col(|s| s.wait_p99_s),
                col(|s| s.jct_p99_s),
                col(|s| s.slowdown_p99),
                col(|s| s.slo_attainment_pct),
                col(|s| Some(s.jobs_pending as f64)),
            );
        }
        let mean_of = |name: &str, f: fn(&ReplaySummary) -> f64| {
            rows.iter()
                .find(|(p, runs, _)| *p == name && !runs.is_empty())
                .map(|(_, runs, _)| mean_std(&runs.iter().map(|s| f(s)).collect::<Vec<_>>()).0)
        };
        for (what, f) in [
            (
                "Busy",
                (|s: &ReplaySummary| s.util_busy_pct) as fn(&ReplaySummary) -> f64,
            ),
            ("Goodput", |s: &ReplaySummary| s.util_goodput_pct),
        ] {
            let Some(base) = mean_of("k8s-default", f).filter(|b| *b > 0.0) else {
                continue;
            };
            let gain = |name: &str| mean_of(name, f).map(|m| 100.0 * (m / base - 1.0));
            let best = spec
                .policies
                .iter()
                .filter(|p| p.starts_with("hi"))
                .filter_map(|p| gain(p).map(|g| (p, g)))
                .max_by(|a, b| a.1.total_cmp(&b.1));
            let _ = writeln!(
                t,
                "\n{what}-utilization gain over k8s-default: hi {}; best Hi variant {}.",
                gain("hi").map_or("n/a".into(), |g| format!("{g:+.1} %")),
                best.map_or("n/a".into(), |(p, g)| format!("{p} {g:+.1} %"))
            );
        }
        energy_and_fairness(&mut t, &rows);
        let _ = writeln!(t);
    }
    t
}

/// The energy and per-class table of one workload (issue 13 items 3–4): what each policy's
/// schedule costs in kWh and per unit of goodput, what powering idle cards down would save
/// (the `[replay] idle_off_min` setting; `n/a` without it), Jain's index over the classes'
/// shares of GPU time, and each class's p99 wait.
fn energy_and_fairness(t: &mut String, rows: &[(&str, Vec<&ReplaySummary>, Option<&str>)]) {
    let classes: std::collections::BTreeSet<&str> = rows
        .iter()
        .flat_map(|(_, runs, _)| runs.iter().flat_map(|s| s.per_class.keys()))
        .map(String::as_str)
        .collect();
    let idle_off = rows
        .iter()
        .flat_map(|(_, runs, _)| runs.iter())
        .find_map(|s| s.idle_off_min);
    let _ = writeln!(
        t,
        "\nEnergy and fairness (idle cards off after {}; Jain's index over the classes' shares of \
         GPU time; p99 wait per class):\n",
        idle_off.map_or("— (not set)".into(), |m| format!("{m} min"))
    );
    let mut head = String::from(
        "| policy | energy kWh | kWh per goodput GPU-h | idle-off saving % | Jain (classes) |",
    );
    let mut rule = String::from("|---|---|---|---|---|");
    for c in &classes {
        let _ = write!(head, " wait p99 s, {c} |");
        rule.push_str("---|");
    }
    let _ = writeln!(t, "{head}\n{rule}");
    for (p, runs, err) in rows {
        if runs.is_empty() {
            let _ = writeln!(t, "| {p} | n/a: {} ||||", err.unwrap_or("no run"));
            continue;
        }
        let col = |f: &dyn Fn(&ReplaySummary) -> Option<f64>| {
            stat(&runs.iter().filter_map(|s| f(s)).collect::<Vec<_>>())
        };
        let _ = write!(
            t,
            "| {p} | {} | {} | {} | {} |",
            col(&|s| Some(s.energy_kwh)),
            col(&|s| s.kwh_per_goodput_gpu_h),
            col(&|s| s.idle_off_saved_pct),
            col(&|s| s.jain_classes),
        );
        for c in &classes {
            let _ = write!(
                t,
                " {} |",
                col(&|s| s.per_class.get(*c).and_then(|k| k.wait_p99_s))
            );
        }
        let _ = writeln!(t);
    }
}

fn plots(out: &Path, outcomes: &[Outcome<'_>], cases: &[Case], policies: &[String]) -> Result<()> {
    let first_seed = outcomes.iter().map(|o| o.seed).min().unwrap_or(0);
    for c in cases {
        let w = c.name.as_str();
        let rows = by_policy(outcomes, policies, w);
        // Utilization over time (first seed), busy and allocated.
        for (what, pick) in [
            (
                "busy",
                (|r: &TimeRow| r.util_busy_pct) as fn(&TimeRow) -> f64,
            ),
            ("alloc", |r: &TimeRow| r.util_alloc_pct),
        ] {
            let series: Vec<Series> = outcomes
                .iter()
                .filter(|o| o.workload == w && o.seed == first_seed)
                .filter_map(|o| {
                    o.result.as_ref().ok().map(|(_, ts)| Series {
                        label: o.policy.to_owned(),
                        points: ts
                            .iter()
                            .map(|r| (r.time_ms as f64 / 3_600_000.0, pick(r)))
                            .collect(),
                    })
                })
                .collect();
            plot::lines(
                &out.join(format!("{w}_{what}_over_time.svg")),
                &format!("{w}: {what} utilization over time (seed {first_seed})"),
                "time (h)",
                &format!("{what} % of GPU capacity"),
                &series,
            )?;
        }
        let bars = |f: fn(&ReplaySummary) -> Option<f64>| -> Vec<Bar> {
            rows.iter()
                .map(|(p, runs, _)| {
                    let xs: Vec<f64> = runs.iter().filter_map(|s| f(s)).collect();
                    let (m, s) = if xs.is_empty() {
                        (0.0, 0.0)
                    } else {
                        mean_std(&xs)
                    };
                    Bar {
                        label: (*p).to_owned(),
                        value: m,
                        err: s,
                    }
                })
                .collect()
        };
        plot::bars(
            &out.join(format!("{w}_busy_util.svg")),
            &format!("{w}: mean busy utilization (± std over seeds)"),
            "busy % of GPU capacity",
            &bars(|s| Some(s.util_busy_pct)),
        )?;
        plot::bars(
            &out.join(format!("{w}_wait_p50.svg")),
            &format!("{w}: median queueing delay"),
            "wait p50 (s)",
            &bars(|s| s.wait_p50_s),
        )?;
        plot::bars(
            &out.join(format!("{w}_jct_p99.svg")),
            &format!("{w}: p99 job completion time"),
            "JCT p99 (s)",
            &bars(|s| s.jct_p99_s),
        )?;
    }
    Ok(())
}
