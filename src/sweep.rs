//! `flexsim sweep`: a grid of traces × policies × seeds, one run per rayon task.
//!
//! Both protocols: `--protocol inflation` (the FGD experiment; `sweep.csv` of allocation
//! figures, `alloc_vs_arrived.svg`) and `--protocol replay` (`sweep.csv` of utilization, wait
//! and JCT figures, `busy_util.svg`). Runs never split across threads and each run's seed is its own identity, so results are the
//! same whatever the thread count (DESIGN "Speed").

use crate::plot::{self, Bar, Series};
use crate::run::{inflation_run, pct, replay_run, write_replay, RunResult};
use anyhow::{Context, Result};
use flexsim_sim::csv_record;
use flexsim_sim::engine::inflation::InflationConfig;
use flexsim_sim::engine::replay::ReplayConfig;
use flexsim_sim::model::fleet::Fleet;
use flexsim_sim::model::job::Workload;
use flexsim_sim::output::csv_out::{CsvOut, OptFixed};
use flexsim_sim::output::report::{self, ReplaySummary};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

/// The most runs a sweep grid may have unless `--yes`: each run writes its own directory of
/// files, and at the openb trace's ~0.2 s a run 10^5 runs are already hours of cores; a grid
/// beyond it is more likely a typo in `--seeds` (`42..4200000`) than a plan, and a planned one
/// is better split with `--seeds` ranges across machines.
pub const GRID_LIMIT: u64 = 100_000;

pub struct SweepSpec<'a> {
    pub workloads: &'a [Workload],
    pub fleet: &'a Fleet,
    pub policies: &'a [String],
    pub seeds: &'a [u64],
    pub tune_ratio: f64,
    pub slicing: Option<flexsim_sim::model::fleet::SlicingChoice>,
    /// `Some`: replay protocol with this configuration (its seed is replaced per run);
    /// `None`: the inflation protocol.
    pub replay: Option<ReplayConfig>,
    pub threads: Option<usize>,
    pub progress: bool,
}

/// Refuses two `--trace` files that go by the same name (`a/x.csv` and `b/x.csv`, or one file
/// listed twice): their runs would be written into one folder and share rows of `sweep.csv`.
pub fn check_unique_traces(paths: &[std::path::PathBuf]) -> Result<()> {
    let name = |p: &Path| flexsim_sim::input::file_stem(p);
    for (i, p) in paths.iter().enumerate() {
        if let Some(q) = paths[..i].iter().find(|q| name(q) == name(p)) {
            anyhow::bail!(
                "--trace: {} and {} both go by the name {:?} (their runs would share the folder \
                 {}/ and rows of sweep.csv); rename one file, or run them in separate sweeps",
                q.display(),
                p.display(),
                name(p),
                name(p)
            );
        }
    }
    Ok(())
}

/// Runs `f` on every (workload, policy, seed) of the grid in parallel, one run per task, and
/// returns the results in grid order.
fn run_grid<T: Send>(
    spec: &SweepSpec<'_>,
    f: impl Fn(&Workload, &str, u64) -> Result<T> + Sync,
) -> Result<Vec<T>> {
    let mut tasks = Vec::new();
    for w in spec.workloads {
        for p in spec.policies {
            for &s in spec.seeds {
                tasks.push((w, p.as_str(), s));
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
    let run_all = || -> Result<Vec<T>> {
        tasks
            .par_iter()
            .map(|&(w, p, seed)| {
                let r = f(w, p, seed).with_context(|| format!("{} / {p} / seed {seed}", w.name))?;
                bar.inc(1);
                Ok(r)
            })
            .collect()
    };
    let results = match spec.threads {
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .context("starting the thread pool")?
            .install(run_all)?,
        None => run_all()?,
    };
    bar.finish_and_clear();
    Ok(results)
}

/// Runs the grid and writes everything under `out` (which must be ready for writing); returns
/// the table of means to print once the results are in place.
pub fn sweep(spec: &SweepSpec<'_>, out: &Path) -> Result<String> {
    let run_dir = |w: &Workload, p: &str, seed: u64| -> Result<std::path::PathBuf> {
        let dir = out.join(&w.name).join(p).join(format!("s{seed}"));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(dir)
    };
    if let Some(template) = &spec.replay {
        let demand = template.demand.to_string();
        let results = run_grid(spec, |w, p, seed| {
            let config = ReplayConfig {
                seed,
                ..template.clone()
            };
            let r = replay_run(w, spec.fleet, p, spec.slicing.as_ref(), &config, &demand)?;
            let dir = run_dir(w, p, seed)?;
            write_replay(&dir, w, &r).with_context(|| format!("writing {}", dir.display()))?;
            Ok(r.summary)
        })?;
        write_replay_csv(&out.join("sweep.csv"), &results)?;
        plot_replay_means(
            &out.join("busy_util.svg"),
            &results,
            spec.workloads.len() > 1,
        )?;
        print_notes(results.iter().map(|s| {
            let notes = crate::run::replay_notes(s);
            ((s.trace.clone(), s.policy.clone()), notes)
        }));
        return Ok(replay_means(&results));
    }
    let results = run_grid(spec, |w, p, seed| {
        let config = InflationConfig {
            seed,
            tune_ratio: spec.tune_ratio,
        };
        let r = inflation_run(w, spec.fleet, p, spec.slicing.as_ref(), config)?;
        let dir = run_dir(w, p, seed)?;
        report::write_inflation_run(&dir, &r.summary, &r.curve)
            .with_context(|| format!("writing {}", dir.display()))?;
        Ok(r)
    })?;
    write_sweep_csv(&out.join("sweep.csv"), &results)?;
    plot_means(
        &out.join("alloc_vs_arrived.svg"),
        &results,
        spec.workloads.len() > 1,
    )?;
    print_notes(results.iter().map(|r| {
        let notes = crate::run::inflation_notes(&r.summary);
        ((r.summary.trace.clone(), r.summary.policy.clone()), notes)
    }));
    Ok(means(&results))
}

/// Prints the slicing and unplaceable lines of the runs on stderr, each distinct line once (they
/// do not depend on the seed; a replay's pending line does, and is left to its summary). A line
/// that holds for every (trace, policy) of the grid is printed bare; one that holds for some
/// names them.
fn print_notes(runs: impl Iterator<Item = ((String, String), Vec<String>)>) {
    let mut seen = std::collections::BTreeSet::new();
    // Lines in first-seen order, each with the (trace, policy) pairs it holds for.
    let mut lines: Vec<(String, Vec<String>)> = Vec::new();
    for (key, notes) in runs {
        if !seen.insert(key.clone()) {
            continue;
        }
        for line in notes.into_iter().filter(|l| !l.starts_with("pending:")) {
            let who = format!("{} / {}", key.0, key.1);
            match lines.iter_mut().find(|(l, _)| *l == line) {
                Some((_, keys)) => keys.push(who),
                None => lines.push((line, vec![who])),
            }
        }
    }
    for (line, keys) in &lines {
        if keys.len() == seen.len() {
            eprintln!("{line}");
        } else {
            let shown = keys.iter().take(3).cloned().collect::<Vec<_>>().join(", ");
            let more = keys.len().saturating_sub(3);
            let more = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            eprintln!("{line} ({shown}{more})");
        }
    }
}

/// `sweep.csv` of a replay sweep: one row per run, in grid order.
fn write_replay_csv(path: &Path, results: &[ReplaySummary]) -> Result<()> {
    let file =
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut w = CsvOut::new(std::io::BufWriter::new(file));
    w.header(&[
        "trace",
        "policy",
        "seed",
        "util_busy_pct",
        "util_alloc_pct",
        "util_goodput_pct",
        "wait_p50_s",
        "wait_p99_s",
        "jct_p50_s",
        "jct_p99_s",
        "slowdown_p99",
        "slo_attainment_pct",
        "preemptions",
        "jobs_finished",
        "jobs_pending",
        "jobs_skipped",
        "jobs_unplaceable",
        "energy_kwh",
        "power_avg_w",
        "kwh_per_busy_gpu_h",
        "kwh_per_goodput_gpu_h",
        "idle_off_saved_kwh",
        "jain_classes",
        "jain_jobs_slowdown",
    ])?;
    let o = |v: Option<f64>| OptFixed(v, 3);
    for s in results {
        csv_record!(w,
            "{}", s.trace;
            "{}", s.policy;
            "{}", s.seed;
            "{:.3}", s.util_busy_pct;
            "{:.3}", s.util_alloc_pct;
            "{:.3}", s.util_goodput_pct;
            "{}", o(s.wait_p50_s);
            "{}", o(s.wait_p99_s);
            "{}", o(s.jct_p50_s);
            "{}", o(s.jct_p99_s);
            "{}", o(s.slowdown_p99);
            "{}", o(s.slo_attainment_pct);
            "{}", s.preemptions;
            "{}", s.jobs_finished;
            "{}", s.jobs_pending;
            "{}", s.jobs_skipped;
            "{}", s.jobs_unplaceable.total;
            "{:.6}", s.energy_kwh;
            "{:.3}", s.power_avg_w;
            "{}", OptFixed(s.kwh_per_busy_gpu_h, 6);
            "{}", OptFixed(s.kwh_per_goodput_gpu_h, 6);
            "{}", OptFixed(s.idle_off_saved_kwh, 6);
            "{}", OptFixed(s.jain_classes, 4);
            "{}", OptFixed(s.jain_jobs_slowdown, 4)
        )?;
    }
    w.flush()?;
    Ok(())
}

fn replay_means(results: &[ReplaySummary]) -> String {
    means_table(
        results,
        |s| (s.trace.clone(), s.policy.clone()),
        &[
            ("util busy %", |s| Some(s.util_busy_pct)),
            ("util alloc %", |s| Some(s.util_alloc_pct)),
            ("wait p50 s", |s| s.wait_p50_s),
            ("JCT p99 s", |s| s.jct_p99_s),
        ],
    )
}

fn plot_replay_means(path: &Path, results: &[ReplaySummary], label_trace: bool) -> Result<()> {
    let bars: Vec<Bar> = groups(results, |s| (s.trace.clone(), s.policy.clone()))
        .into_iter()
        .map(|((trace, policy), runs)| {
            let (value, err) = mean_std(&runs.iter().map(|s| s.util_busy_pct).collect::<Vec<_>>());
            Bar {
                label: if label_trace {
                    format!("{trace} / {policy}")
                } else {
                    policy
                },
                value,
                err,
            }
        })
        .collect();
    plot::bars(
        path,
        "Mean busy utilization (± std over seeds)",
        "busy % of GPU capacity",
        &bars,
    )
}

fn write_sweep_csv(path: &Path, results: &[RunResult]) -> Result<()> {
    let file =
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut w = CsvOut::new(std::io::BufWriter::new(file));
    w.header(&[
        "trace",
        "policy",
        "seed",
        "alloc_pct_at_100",
        "alloc_pct_at_130",
        "frag_ratio_pct_at_100",
        "frag_pct_at_100",
        "pods_arrived",
        "pods_failed",
        "alloc_pct_final",
        "placed_request_pct_final",
    ])?;
    let opt = |v: Option<f64>| OptFixed(v, 2);
    for r in results {
        let s = &r.summary;
        csv_record!(w,
            "{}", s.trace;
            "{}", s.policy;
            "{}", s.seed;
            "{}", opt(s.alloc_pct_at_100);
            "{}", opt(s.alloc_pct_at_130);
            "{}", opt(s.frag_ratio_pct_at_100);
            "{}", opt(s.frag_pct_at_100);
            "{}", s.pods_arrived;
            "{}", s.pods_failed;
            "{:.2}", s.alloc_pct_final;
            "{:.2}", s.placed_request_pct_final
        )?;
    }
    w.flush()?;
    Ok(())
}

/// Groups results by (trace, policy), keeping the grid's order.
fn groups<T>(
    results: &[T],
    key: impl Fn(&T) -> (String, String),
) -> Vec<((String, String), Vec<&T>)> {
    let mut order: Vec<(String, String)> = Vec::new();
    let mut map: BTreeMap<(String, String), Vec<&T>> = BTreeMap::new();
    for r in results {
        let k = key(r);
        if !map.contains_key(&k) {
            order.push(k.clone());
        }
        map.entry(k).or_default().push(r);
    }
    order
        .into_iter()
        .map(|k| {
            let v = map.remove(&k).unwrap_or_default();
            (k, v)
        })
        .collect()
}

fn inflation_key(r: &RunResult) -> (String, String) {
    (r.summary.trace.clone(), r.summary.policy.clone())
}

/// Mean and sample standard deviation.
pub fn mean_std(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = if xs.len() > 1 {
        xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    (mean, var.sqrt())
}

fn means(results: &[RunResult]) -> String {
    means_table(
        results,
        inflation_key,
        &[
            ("alloc@100 %", |r| r.summary.alloc_pct_at_100),
            ("alloc@130 %", |r| r.summary.alloc_pct_at_130),
            ("frag ratio@100", |r| r.summary.frag_ratio_pct_at_100),
        ],
    )
}

/// "mean ± std" of `xs`, or `None` when empty.
pub fn fmt_mean_std(xs: &[f64]) -> Option<String> {
    (!xs.is_empty()).then(|| {
        let (m, s) = mean_std(xs);
        format!("{m:.2} ± {s:.2}")
    })
}

/// A column of a means table: its title and the figure it reads from a run.
type Column<'a, T> = (&'a str, fn(&T) -> Option<f64>);

/// One row per (trace, policy) with the mean ± std of each column over its runs.
fn means_table<T>(
    results: &[T],
    key: impl Fn(&T) -> (String, String),
    columns: &[Column<'_, T>],
) -> String {
    use std::fmt::Write as _;
    let mut t = format!("{:<32} {:<16} {:>5}", "trace", "policy", "runs");
    for (name, _) in columns {
        let _ = write!(t, "  {name:>16}");
    }
    t.push('\n');
    for ((trace, policy), runs) in groups(results, key) {
        let _ = write!(t, "{trace:<32} {policy:<16} {:>5}", runs.len());
        for (_, f) in columns {
            let xs: Vec<f64> = runs.iter().filter_map(|r| f(r)).collect();
            let _ = write!(
                t,
                "  {:>16}",
                fmt_mean_std(&xs).unwrap_or_else(|| pct(None))
            );
        }
        t.push('\n');
    }
    t
}

fn plot_means(path: &Path, results: &[RunResult], label_trace: bool) -> Result<()> {
    let mut series = Vec::new();
    for ((trace, policy), runs) in groups(results, inflation_key) {
        let mut by_x: BTreeMap<u32, Vec<f64>> = BTreeMap::new();
        for r in &runs {
            for p in &r.curve {
                by_x.entry(p.arrived_pct).or_default().push(p.alloc_pct);
            }
        }
        series.push(Series {
            label: if label_trace {
                format!("{trace} / {policy}")
            } else {
                policy
            },
            points: by_x
                .into_iter()
                .map(|(x, ys)| (f64::from(x), mean_std(&ys).0))
                .collect(),
        });
    }
    plot::alloc_vs_arrived(
        path,
        "GPU allocation vs arrived workload (mean over seeds)",
        &series,
    )
}
