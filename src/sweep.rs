//! `flexsim sweep`: a grid of traces × policies × seeds, one run per rayon task.
//!
//! Both protocols: `--protocol inflation` (the FGD experiment; `sweep.csv` of allocation
//! figures, `alloc_vs_arrived.svg`) and `--protocol replay` (`sweep.csv` of utilization, wait
//! and JCT figures, `busy_util.svg`). Runs never split across threads and each run's seed is its own identity, so results are the
//! same whatever the thread count (DESIGN "Speed").

use crate::plot::{self, Bar, Series};
use crate::run::{inflation_run, pct, replay_run, write_replay, RunResult};
use crate::shard::Shard;
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
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// The most runs a sweep grid may have unless `--yes`: each run writes its own directory of
/// files, and at the openb trace's ~0.2 s a run 10^5 runs are already hours of cores; a grid
/// beyond it is more likely a typo in `--seeds` (`42..4200000`) than a plan, and a planned one
/// is better split with `--seeds` ranges across machines.
pub const GRID_LIMIT: u64 = 100_000;

/// One workload of a grid: a trace (or one synthetic trace per seed) on a fleet. Its name is
/// the folder of its runs and the `trace` column of `sweep.csv`.
pub struct Case {
    pub name: String,
    /// The trace of each seed (`None`: one trace for every seed, the first entry).
    pub traces: Vec<(Option<u64>, Workload)>,
    pub fleet: Arc<Fleet>,
}

impl Case {
    /// The trace run with `seed`.
    pub fn trace(&self, seed: u64) -> &Workload {
        self.traces
            .iter()
            .find(|(s, _)| *s == Some(seed))
            .map_or(&self.traces[0].1, |(_, w)| w)
    }
}

/// The cases of a `--trace A,B --fleet F` sweep: each trace on the one fleet, named after it.
pub fn cases_of(workloads: Vec<Workload>, fleet: Fleet) -> Vec<Case> {
    let fleet = Arc::new(fleet);
    workloads
        .into_iter()
        .map(|w| Case {
            name: w.name.clone(),
            traces: vec![(None, w)],
            fleet: Arc::clone(&fleet),
        })
        .collect()
}

pub struct SweepSpec<'a> {
    pub cases: &'a [Case],
    pub policies: &'a [String],
    pub seeds: &'a [u64],
    pub tune_ratio: f64,
    pub slicing: Option<flexsim_sim::model::fleet::SlicingChoice>,
    /// `Some`: replay protocol with this configuration (its seed is replaced per run);
    /// `None`: the inflation protocol.
    pub replay: Option<ReplayConfig>,
    pub threads: Option<usize>,
    pub progress: bool,
    /// `Some`: run only this shard's part of the grid (`--shard i/n`).
    pub shard: Option<Shard>,
}

impl SweepSpec<'_> {
    /// The whole grid in its order (cases, then policies, then seeds) — the row order of
    /// `sweep.csv`, whether the grid runs in one process or in shards.
    pub fn grid(&self) -> Vec<(&Case, &str, u64)> {
        let mut tasks = Vec::new();
        for c in self.cases {
            for p in self.policies {
                for &s in self.seeds {
                    tasks.push((c, p.as_str(), s));
                }
            }
        }
        tasks
    }
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

/// Runs `f` on every (case, policy, seed) of the grid — of this shard's part when sharded — in
/// parallel, one run per task, and returns the results in grid order with each run's position
/// in the whole grid.
fn run_grid<T: Send>(
    spec: &SweepSpec<'_>,
    f: impl Fn(&Case, &str, u64) -> Result<T> + Sync,
) -> Result<Vec<(u64, T)>> {
    let tasks: Vec<(u64, (&Case, &str, u64))> = spec
        .grid()
        .into_iter()
        .enumerate()
        .map(|(i, t)| (i as u64, t))
        .filter(|(_, (c, p, s))| {
            spec.shard
                .is_none_or(|sh| sh.selects(&run_identity(&c.name, &c.fleet.name, p, *s)))
        })
        .collect();
    // Hidden unless asked for; indicatif itself draws nothing when stderr is not a terminal,
    // so a piped or logged sweep (a Slurm task) prints no bar.
    let bar = if spec.progress {
        ProgressBar::new(tasks.len() as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} runs, {elapsed} elapsed, eta {eta}")
            .expect("static template"),
    );
    let run_all = || -> Result<Vec<(u64, T)>> {
        tasks
            .par_iter()
            .map(|&(i, (c, p, seed))| {
                let r = f(c, p, seed).with_context(|| format!("{} / {p} / seed {seed}", c.name))?;
                bar.inc(1);
                Ok((i, r))
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

/// A run's identity, the input of its shard choice: what it runs, never where it sits in the
/// grid, so adding a policy or a seed moves no other run to another shard.
pub fn run_identity(trace: &str, fleet: &str, policy: &str, seed: u64) -> String {
    format!("{trace}\u{0}{fleet}\u{0}{policy}\u{0}{seed}")
}

/// Which protocol a sweep ran; its `sweep.csv` columns, means table and plot follow.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Inflation,
    Replay,
}

/// What the outputs of a sweep need of one run: everything `sweep.csv`, the means table, the
/// plot and the notes read, so that a merge of shards writes them exactly as one process does.
/// Floats are kept as their bits: a decimal round trip could move a mean in its last digit.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunRecord {
    /// Position in the whole grid (the row order of `sweep.csv`).
    pub index: u64,
    pub trace: String,
    pub fleet: String,
    pub policy: String,
    pub seed: u64,
    /// The run's `sweep.csv` record, newline included.
    pub row: String,
    /// The figures of the means table's columns ([`Kind::columns`]), as `f64::to_bits`.
    pub means: Vec<Option<u64>>,
    /// Inflation: the allocation curve (arrived %, allocation % bits).
    pub curve: Vec<(u32, u64)>,
    /// Replay: busy utilization % (bits), the bar of `busy_util.svg`.
    pub busy: Option<u64>,
    /// The run's slicing and unplaceable lines.
    pub notes: Vec<String>,
    /// Replay on a fleet with a topology: the row ends with [`TIER_COLUMNS`] and `means` with
    /// the share of multi-device jobs at their best tier.
    #[serde(default)]
    pub tiers: bool,
}

/// The columns `sweep.csv` gains when a run's fleet has a topology (`metrics::tiers`): jobs of
/// several devices that ran, the share placed at their best tier, and how many spanned more
/// than one switch of the first network level (one rack).
pub const TIER_COLUMNS: [&str; 3] = ["multi_device_jobs", "at_best_tier_pct", "beyond_rack_jobs"];

impl RunRecord {
    fn mean(&self, i: usize) -> Option<f64> {
        self.means.get(i).copied().flatten().map(f64::from_bits)
    }
}

fn bits(v: Option<f64>) -> Option<u64> {
    v.map(f64::to_bits)
}

impl Kind {
    /// The titles of the means table's columns.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Kind::Inflation => &["alloc@100 %", "alloc@130 %", "frag ratio@100"],
            Kind::Replay => &["util busy %", "util alloc %", "wait p50 s", "JCT p99 s"],
        }
    }

    /// [`Kind::columns`] for these records: a replay on a fleet with a topology adds the share
    /// of multi-device jobs placed at their best tier.
    pub fn columns_for(self, records: &[RunRecord]) -> Vec<&'static str> {
        let mut c = self.columns().to_vec();
        if records.iter().any(|r| r.tiers) {
            c.push("at best tier %");
        }
        c
    }

    /// The header of `sweep.csv`.
    fn header(self) -> &'static [&'static str] {
        match self {
            Kind::Inflation => &[
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
            ],
            Kind::Replay => &[
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
            ],
        }
    }

    /// The file of the sweep's plot.
    pub fn plot_file(self) -> &'static str {
        match self {
            Kind::Inflation => "alloc_vs_arrived.svg",
            Kind::Replay => "busy_util.svg",
        }
    }
}

/// Runs the grid (or this shard's part of it) and writes each run's directory under `out`
/// (which must be ready for writing); returns the records of the runs, in grid order.
pub fn run(spec: &SweepSpec<'_>, out: &Path) -> Result<(Kind, Vec<RunRecord>)> {
    let run_dir = |c: &Case, p: &str, seed: u64| -> Result<std::path::PathBuf> {
        let dir = out.join(&c.name).join(p).join(format!("s{seed}"));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(dir)
    };
    if let Some(template) = &spec.replay {
        let demand = template.demand.to_string();
        let results = run_grid(spec, |c, p, seed| {
            let config = ReplayConfig {
                seed,
                ..template.clone()
            };
            let w = c.trace(seed);
            let r = replay_run(w, &c.fleet, p, spec.slicing.as_ref(), &config, &demand)?;
            let dir = run_dir(c, p, seed)?;
            write_replay(&dir, w, &r).with_context(|| format!("writing {}", dir.display()))?;
            Ok(r.summary)
        })?;
        let records = results
            .into_iter()
            .map(|(i, s)| replay_record(i, &s))
            .collect::<Result<_>>()?;
        return Ok((Kind::Replay, records));
    }
    let results = run_grid(spec, |c, p, seed| {
        let config = InflationConfig {
            seed,
            tune_ratio: spec.tune_ratio,
        };
        let r = inflation_run(c.trace(seed), &c.fleet, p, spec.slicing.as_ref(), config)?;
        let dir = run_dir(c, p, seed)?;
        report::write_inflation_run(&dir, &r.summary, &r.curve)
            .with_context(|| format!("writing {}", dir.display()))?;
        Ok(r)
    })?;
    let records = results
        .into_iter()
        .map(|(i, r)| inflation_record(i, &r))
        .collect::<Result<_>>()?;
    Ok((Kind::Inflation, records))
}

/// Runs the grid and writes everything under `out` (which must be ready for writing); returns
/// the table of means to print once the results are in place.
pub fn sweep(spec: &SweepSpec<'_>, out: &Path) -> Result<String> {
    let (kind, records) = run(spec, out)?;
    write_outputs(out, kind, &records, spec.cases.len() > 1)?;
    print_notes(&records);
    Ok(means(kind, &records))
}

/// Writes `sweep.csv` and the plot of a complete grid's records (in grid order).
pub fn write_outputs(
    out: &Path,
    kind: Kind,
    records: &[RunRecord],
    label_trace: bool,
) -> Result<()> {
    write_csv(&out.join("sweep.csv"), kind, records)?;
    match kind {
        Kind::Inflation => plot_means(&out.join(kind.plot_file()), records, label_trace),
        Kind::Replay => plot_replay_means(&out.join(kind.plot_file()), records, label_trace),
    }
}

/// One CSV record as text, formatted as `sweep.csv` writes it.
fn csv_line(fill: impl FnOnce(&mut CsvOut<&mut Vec<u8>>) -> std::io::Result<()>) -> Result<String> {
    let mut buf = Vec::new();
    {
        let mut w = CsvOut::new(&mut buf);
        fill(&mut w)?;
        w.flush()?;
    }
    Ok(String::from_utf8(buf).expect("CSV of UTF-8 fields"))
}

fn replay_record(index: u64, s: &ReplaySummary) -> Result<RunRecord> {
    let o = |v: Option<f64>| OptFixed(v, 3);
    let row = csv_line(|w| {
        csv_record!(*w,
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
        )
    })?;
    let mut row = row;
    let tiers = s.placement_tiers.as_ref();
    if let Some(t) = tiers {
        // The row's newline goes after the tier fields.
        row.pop();
        // Tiers past the first network level: `names` is device, board, node, then the levels.
        let beyond: u64 = t
            .names
            .iter()
            .skip(4)
            .filter_map(|name| t.by_tier.get(name))
            .sum();
        row.push_str(&format!(
            ",{},{},{beyond}\n",
            t.multi_device_jobs,
            OptFixed(t.at_best_tier_pct, 3)
        ));
    }
    Ok(RunRecord {
        index,
        trace: s.trace.clone(),
        fleet: s.fleet.clone(),
        policy: s.policy.clone(),
        seed: s.seed,
        row,
        means: vec![
            bits(Some(s.util_busy_pct)),
            bits(Some(s.util_alloc_pct)),
            bits(s.wait_p50_s),
            bits(s.jct_p99_s),
            bits(tiers.and_then(|t| t.at_best_tier_pct)),
        ],
        curve: Vec::new(),
        busy: bits(Some(s.util_busy_pct)),
        notes: crate::run::replay_notes(s),
        tiers: tiers.is_some(),
    })
}

fn inflation_record(index: u64, r: &RunResult) -> Result<RunRecord> {
    let s = &r.summary;
    let opt = |v: Option<f64>| OptFixed(v, 2);
    let row = csv_line(|w| {
        csv_record!(*w,
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
        )
    })?;
    Ok(RunRecord {
        index,
        trace: s.trace.clone(),
        fleet: s.fleet.clone(),
        policy: s.policy.clone(),
        seed: s.seed,
        row,
        means: vec![
            bits(s.alloc_pct_at_100),
            bits(s.alloc_pct_at_130),
            bits(s.frag_ratio_pct_at_100),
        ],
        curve: r
            .curve
            .iter()
            .map(|p| (p.arrived_pct, p.alloc_pct.to_bits()))
            .collect(),
        busy: None,
        notes: crate::run::inflation_notes(s),
        tiers: false,
    })
}

/// Prints the slicing and unplaceable lines of the runs on stderr, each distinct line once (they
/// do not depend on the seed; a replay's pending line does, and is left to its summary). A line
/// that holds for every (trace, policy) of the grid is printed bare; one that holds for some
/// names them.
pub fn print_notes(records: &[RunRecord]) {
    let mut seen = std::collections::BTreeSet::new();
    // Lines in first-seen order, each with the (trace, policy) pairs it holds for.
    let mut lines: Vec<(String, Vec<String>)> = Vec::new();
    for r in records {
        let key = (r.trace.clone(), r.policy.clone());
        if !seen.insert(key.clone()) {
            continue;
        }
        for line in r.notes.iter().filter(|l| !l.starts_with("pending:")) {
            let who = format!("{} / {}", key.0, key.1);
            match lines.iter_mut().find(|(l, _)| l == line) {
                Some((_, keys)) => keys.push(who),
                None => lines.push((line.clone(), vec![who])),
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

/// `sweep.csv`: the protocol's header, then one row per run in the records' (grid) order.
pub fn write_csv(path: &Path, kind: Kind, records: &[RunRecord]) -> Result<()> {
    let tiers = records.iter().any(|r| r.tiers);
    let mut header = kind.header().to_vec();
    if tiers {
        header.extend(TIER_COLUMNS);
    }
    let mut text = csv_line(|w| w.header(&header))?;
    for r in records {
        if tiers && !r.tiers {
            // A flat fleet's run in a grid with topology runs: empty tier fields.
            text.push_str(r.row.trim_end_matches('\n'));
            text.push_str(&",".repeat(TIER_COLUMNS.len()));
            text.push('\n');
        } else {
            text.push_str(&r.row);
        }
    }
    std::fs::write(path, text).with_context(|| format!("creating {}", path.display()))
}

fn plot_replay_means(path: &Path, records: &[RunRecord], label_trace: bool) -> Result<()> {
    let bars: Vec<Bar> = groups(records)
        .into_iter()
        .map(|((trace, policy), runs)| {
            let busy: Vec<f64> = runs
                .iter()
                .filter_map(|r| r.busy.map(f64::from_bits))
                .collect();
            let (value, err) = mean_std(&busy);
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

/// Groups records by (trace, policy), keeping the grid's order.
pub fn groups(records: &[RunRecord]) -> Vec<((String, String), Vec<&RunRecord>)> {
    let mut order: Vec<(String, String)> = Vec::new();
    let mut map: BTreeMap<(String, String), Vec<&RunRecord>> = BTreeMap::new();
    for r in records {
        let k = (r.trace.clone(), r.policy.clone());
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

/// "mean ± std" of `xs`, or `None` when empty.
pub fn fmt_mean_std(xs: &[f64]) -> Option<String> {
    (!xs.is_empty()).then(|| {
        let (m, s) = mean_std(xs);
        format!("{m:.2} ± {s:.2}")
    })
}

/// Per (trace, policy): its run count and the mean ± std text of each column of the means
/// table (`None` where no run has the figure).
pub fn means_rows(
    records: &[RunRecord],
    columns: usize,
) -> Vec<(String, String, usize, Vec<Option<String>>)> {
    groups(records)
        .into_iter()
        .map(|((trace, policy), runs)| {
            let cells = (0..columns)
                .map(|i| fmt_mean_std(&runs.iter().filter_map(|r| r.mean(i)).collect::<Vec<_>>()))
                .collect();
            (trace, policy, runs.len(), cells)
        })
        .collect()
}

/// The table of means printed at the end: one row per (trace, policy) with the mean ± std of
/// each column over its runs.
pub fn means(kind: Kind, records: &[RunRecord]) -> String {
    use std::fmt::Write as _;
    let columns = kind.columns_for(records);
    let columns = columns.as_slice();
    let mut t = format!("{:<32} {:<16} {:>5}", "trace", "policy", "runs");
    for name in columns {
        let _ = write!(t, "  {name:>16}");
    }
    t.push('\n');
    for (trace, policy, runs, cells) in means_rows(records, columns.len()) {
        let _ = write!(t, "{trace:<32} {policy:<16} {runs:>5}");
        for cell in cells {
            let _ = write!(t, "  {:>16}", cell.unwrap_or_else(|| pct(None)));
        }
        t.push('\n');
    }
    t
}

fn plot_means(path: &Path, records: &[RunRecord], label_trace: bool) -> Result<()> {
    let mut series = Vec::new();
    for ((trace, policy), runs) in groups(records) {
        let mut by_x: BTreeMap<u32, Vec<f64>> = BTreeMap::new();
        for r in &runs {
            for &(x, y) in &r.curve {
                by_x.entry(x).or_default().push(f64::from_bits(y));
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
