//! The Flex:ai claim as a map (issue 13, README "The Flex:ai claim"): the gain in busy
//! utilization and goodput of each policy over a baseline (`k8s-default`, whole cards) across
//! a grid of offered load × share of sub-card jobs, several seeds a cell — so that "+30 %
//! utilization" is read as the function of load and job mix it is, with its cost in waiting,
//! slowdown and SLOs beside it.
//!
//! A cell's workload is a synthetic trace ([`SynthParams`], a preset plus overrides) whose GPU
//! jobs are a share `s` of sub-card (sharing) jobs and `1 − s` of one-GPU jobs, no CPU-only or
//! multi-GPU jobs (they would blur the axis), its arrival times scaled so that the **offered
//! load** — Σ whole cards asked × solo run time on the fleet / (cards × arrival span) — is the
//! cell's exactly: a sub-card job counts as one card, as it does under whole-card scheduling, so
//! load 1.0 is what `k8s-default` can just serve. The seed draws the trace (and the run): the
//! cells of one seed share their random streams, so neighbouring cells differ by the mix and
//! the load, not by noise. A policy's gain in a cell is computed per seed against the baseline
//! on the same trace, then averaged: `100 · (policy / baseline − 1)`.
//!
//! Outputs: `map.csv` (one row per run), `gain.csv` (one row per cell and policy: mean ± std of
//! the gains over seeds, and the costs), and per policy `map_busy_gain_<policy>.svg` and
//! `map_goodput_gain_<policy>.svg` — heatmaps with the +30 % contour drawn.

use crate::plot::heatmap;
use crate::run::replay_run;
use crate::sweep::mean_std;
use anyhow::{bail, Context, Result};
use flexsim_sim::engine::replay::ReplayConfig;
use flexsim_sim::input::synth::{self, SynthParams};
use flexsim_sim::model::fleet::Fleet;
use flexsim_sim::model::job::Workload;
use flexsim_sim::output::report::ReplaySummary;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

/// The gain a cell is marked against on the heatmaps: Flex:ai's "+30 %" (slicing-model §1.7).
pub const CLAIM_GAIN_PCT: f64 = 30.0;

/// A map to run.
pub struct MapSpec {
    pub fleet: Fleet,
    /// The trace generator before the cell's mix, load and seed are applied (`jobs` included).
    pub base: SynthParams,
    /// Offered loads, as shares of whole-card capacity (rows of the map).
    pub loads: Vec<f64>,
    /// Shares of sub-card jobs among GPU jobs, in [0, 1] (columns of the map).
    pub sub_card_shares: Vec<f64>,
    pub seeds: Vec<u64>,
    /// Policies, canonical requests; the baseline among them.
    pub policies: Vec<String>,
    pub baseline: String,
    /// Replay options (its seed is replaced per run).
    pub config: ReplayConfig,
    pub threads: Option<usize>,
    pub progress: bool,
}

/// One cell of the grid, for one seed.
#[derive(Clone, Copy, PartialEq, PartialOrd)]
struct Cell {
    load: f64,
    share: f64,
    seed: u64,
}

/// The figures a run contributes to the map.
#[derive(Clone)]
struct RunFigures {
    busy: f64,
    goodput: f64,
    alloc: f64,
    wait_p50_s: f64,
    slowdown_p99: f64,
    slo_pct: Option<f64>,
    finished: u64,
    total: u64,
}

impl RunFigures {
    fn of(s: &ReplaySummary) -> RunFigures {
        RunFigures {
            busy: s.util_busy_pct,
            goodput: s.util_goodput_pct,
            alloc: s.util_alloc_pct,
            wait_p50_s: s.wait_p50_s.unwrap_or(f64::NAN),
            slowdown_p99: s.slowdown_p99.unwrap_or(f64::NAN),
            slo_pct: s.slo_attainment_pct,
            finished: s.jobs_finished,
            total: s.jobs_total,
        }
    }
}

/// The solo speed of `class` on the fleet: device-weighted mean of its models' speeds (1.0
/// where a model does not say), so offered load is in the fleet's own card-seconds.
fn fleet_speed(fleet: &Fleet, class: &str) -> f64 {
    let (mut cards, mut sum) = (0f64, 0f64);
    for n in &fleet.nodes {
        if n.gpus == 0 {
            continue;
        }
        let speed = fleet
            .devices
            .get(&n.model)
            .and_then(|d| d.model.speed(class))
            .unwrap_or(1.0);
        cards += f64::from(n.gpus);
        sum += f64::from(n.gpus) * speed;
    }
    if cards == 0.0 {
        1.0
    } else {
        sum / cards
    }
}

/// The offered load of `w` on `fleet` (module doc): whole cards asked × solo time on the fleet,
/// over cards × arrival span.
pub fn offered_load(w: &Workload, fleet: &Fleet) -> f64 {
    let cards = fleet.gpu_count() as f64;
    let first = w.pods.iter().map(|p| p.arrival_ms).min().unwrap_or(0);
    let last = w.pods.iter().map(|p| p.arrival_ms).max().unwrap_or(0);
    let span = (last - first) as f64;
    let mut speeds = BTreeMap::new();
    let card_ms: f64 = w
        .pods
        .iter()
        .map(|p| {
            let s = *speeds
                .entry(p.class.clone())
                .or_insert_with(|| fleet_speed(fleet, &p.class));
            f64::from(p.num_gpu) * p.work_ms.unwrap_or(0) as f64 / s
        })
        .sum();
    if cards == 0.0 || span == 0.0 {
        return f64::INFINITY;
    }
    card_ms / (cards * span)
}

/// The workload of a cell: the base generator with the cell's mix and seed, arrivals scaled to
/// the cell's offered load.
fn cell_workload(base: &SynthParams, fleet: &Fleet, cell: Cell) -> Result<Workload> {
    let mut p = base.clone();
    p.share_cpu_only = 0.0;
    p.share_multi_gpu = 0.0;
    p.share_sharing = cell.share;
    p.share_one_gpu = 1.0 - cell.share;
    p.seed = cell.seed;
    p.validate().map_err(anyhow::Error::msg)?;
    let mut w = synth::generate(&p);
    let now = offered_load(&w, fleet);
    if !now.is_finite() || now <= 0.0 {
        bail!(
            "the map's trace has no arrival span or no GPU work to scale (jobs = {})",
            p.jobs
        );
    }
    // Stretching arrivals by now/target scales the span, so the load becomes the target.
    let stretch = now / cell.load;
    for pod in &mut w.pods {
        pod.arrival_ms = (pod.arrival_ms as f64 * stretch).round() as u64;
    }
    w.name = format!("load{}-sub{}-s{}", cell.load, cell.share, cell.seed);
    Ok(w)
}

/// Runs the map and writes its files under `out`; returns the table to print (the gain of each
/// policy per cell) once they are in place.
pub fn run(spec: &MapSpec, out: &Path) -> Result<String> {
    if !spec.policies.contains(&spec.baseline) {
        bail!(
            "the map's baseline {} is not among its policies ({})",
            spec.baseline,
            spec.policies.join(", ")
        );
    }
    for &l in &spec.loads {
        if !(l.is_finite() && l > 0.0 && l <= 10.0) {
            bail!("map load {l}: expected a share of whole-card capacity in (0, 10]");
        }
    }
    for &s in &spec.sub_card_shares {
        if !(0.0..=1.0).contains(&s) {
            bail!("map sub-card share {s}: expected a share in [0, 1]");
        }
    }
    let mut cells = Vec::new();
    for &load in &spec.loads {
        for &share in &spec.sub_card_shares {
            for &seed in &spec.seeds {
                cells.push(Cell { load, share, seed });
            }
        }
    }
    let runs: Vec<(usize, &String)> = (0..cells.len())
        .flat_map(|c| spec.policies.iter().map(move |p| (c, p)))
        .collect();
    let bar = if spec.progress {
        let b = ProgressBar::new(runs.len() as u64);
        b.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} runs, {elapsed} elapsed, eta {eta}")
                .expect("a valid template"),
        );
        b
    } else {
        ProgressBar::hidden()
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(spec.threads.unwrap_or(0))
        .build()
        .context("starting the worker threads")?;
    // One trace per cell (shared by its policies), made on the workers too.
    let workloads: Vec<Workload> = pool.install(|| {
        cells
            .par_iter()
            .map(|&c| cell_workload(&spec.base, &spec.fleet, c))
            .collect::<Result<_>>()
    })?;
    let figures: Vec<RunFigures> = pool.install(|| {
        runs.par_iter()
            .map(|&(c, policy)| {
                let config = ReplayConfig {
                    seed: cells[c].seed,
                    ..spec.config.clone()
                };
                let demand = config.demand.to_string();
                let r = replay_run(&workloads[c], &spec.fleet, policy, None, &config, &demand)
                    .with_context(|| format!("{} with {policy}", workloads[c].name))?;
                bar.inc(1);
                Ok(RunFigures::of(&r.summary))
            })
            .collect::<Result<_>>()
    })?;
    bar.finish_and_clear();
    let at = |c: usize, p: &str| {
        let i = spec
            .policies
            .iter()
            .position(|q| q == p)
            .expect("a listed policy");
        &figures[c * spec.policies.len() + i]
    };

    let mut runs_csv = vec![strings(&[
        "load",
        "sub_card_share",
        "seed",
        "policy",
        "util_busy_pct",
        "util_goodput_pct",
        "util_alloc_pct",
        "wait_p50_s",
        "slowdown_p99",
        "slo_attainment_pct",
        "jobs_finished",
        "jobs_total",
    ])];
    for (c, cell) in cells.iter().enumerate() {
        for p in &spec.policies {
            let f = at(c, p);
            runs_csv.push(vec![
                cell.load.to_string(),
                cell.share.to_string(),
                cell.seed.to_string(),
                p.clone(),
                format!("{:.3}", f.busy),
                format!("{:.3}", f.goodput),
                format!("{:.3}", f.alloc),
                format!("{:.3}", f.wait_p50_s),
                format!("{:.3}", f.slowdown_p99),
                f.slo_pct.map_or(String::new(), |v| format!("{v:.3}")),
                f.finished.to_string(),
                f.total.to_string(),
            ]);
        }
    }
    write_csv(&out.join("map.csv"), &runs_csv)?;

    // Per cell and policy: gains over the baseline per seed, then mean ± std.
    let others: Vec<&String> = spec
        .policies
        .iter()
        .filter(|p| **p != spec.baseline)
        .collect();
    let per_seed = spec.seeds.len();
    let mut gain_csv = vec![strings(&[
        "load",
        "sub_card_share",
        "policy",
        "busy_gain_pct",
        "busy_gain_std",
        "goodput_gain_pct",
        "goodput_gain_std",
        "util_busy_pct",
        "baseline_util_busy_pct",
        "wait_p50_s",
        "baseline_wait_p50_s",
        "slowdown_p99",
        "baseline_slowdown_p99",
        "slo_attainment_pct",
        "baseline_slo_attainment_pct",
    ])];
    // gains[policy][(row, col)] = (busy mean, goodput mean)
    let mut gains: BTreeMap<&str, Vec<Vec<(f64, f64)>>> = BTreeMap::new();
    let mut table = format!(
        "busy-utilization gain over {} (%, mean of {} seeds); rows: offered load, columns: \
         sub-card share\n",
        spec.baseline, per_seed
    );
    for p in &others {
        let grid = gains.entry(p.as_str()).or_default();
        for (li, &load) in spec.loads.iter().enumerate() {
            grid.push(Vec::new());
            for (si, &share) in spec.sub_card_shares.iter().enumerate() {
                let first = (li * spec.sub_card_shares.len() + si) * per_seed;
                let seeds = first..first + per_seed;
                let rel = |f: &dyn Fn(&RunFigures) -> f64| -> Vec<f64> {
                    seeds
                        .clone()
                        .map(|c| 100.0 * (f(at(c, p)) / f(at(c, &spec.baseline)) - 1.0))
                        .filter(|g| g.is_finite())
                        .collect()
                };
                let mean_of = |who: &str, f: &dyn Fn(&RunFigures) -> f64| -> f64 {
                    let xs: Vec<f64> = seeds
                        .clone()
                        .map(|c| f(at(c, who)))
                        .filter(|v| v.is_finite())
                        .collect();
                    mean_std(&xs).0
                };
                let (bg, bs) = mean_std(&rel(&|f| f.busy));
                let (gg, gs) = mean_std(&rel(&|f| f.goodput));
                let slo = |f: &RunFigures| f.slo_pct.unwrap_or(f64::NAN);
                gain_csv.push(vec![
                    load.to_string(),
                    share.to_string(),
                    p.to_string(),
                    format!("{bg:.2}"),
                    format!("{bs:.2}"),
                    format!("{gg:.2}"),
                    format!("{gs:.2}"),
                    format!("{:.3}", mean_of(p, &|f| f.busy)),
                    format!("{:.3}", mean_of(&spec.baseline, &|f| f.busy)),
                    format!("{:.3}", mean_of(p, &|f| f.wait_p50_s)),
                    format!("{:.3}", mean_of(&spec.baseline, &|f| f.wait_p50_s)),
                    format!("{:.3}", mean_of(p, &|f| f.slowdown_p99)),
                    format!("{:.3}", mean_of(&spec.baseline, &|f| f.slowdown_p99)),
                    format!("{:.3}", mean_of(p, &slo)),
                    format!("{:.3}", mean_of(&spec.baseline, &slo)),
                ]);
                grid[li].push((bg, gg));
            }
        }
    }
    write_csv(&out.join("gain.csv"), &gain_csv)?;

    let cols: Vec<String> = spec
        .sub_card_shares
        .iter()
        .map(|s| format!("{s}"))
        .collect();
    let rows: Vec<String> = spec.loads.iter().map(|l| format!("{l}")).collect();
    for (p, grid) in &gains {
        for (what, pick) in [("busy", 0usize), ("goodput", 1)] {
            let values: Vec<Vec<f64>> = grid
                .iter()
                .map(|r| {
                    r.iter()
                        .map(|g| if pick == 0 { g.0 } else { g.1 })
                        .collect()
                })
                .collect();
            let file = out.join(format!("map_{what}_gain_{}.svg", file_safe(p)));
            heatmap(
                &file,
                &format!(
                    "{p}: {what} utilization gain over {} (%), +{CLAIM_GAIN_PCT} % contour",
                    spec.baseline
                ),
                ("share of sub-card jobs", &cols),
                ("offered load (x whole-card capacity)", &rows),
                &values,
                CLAIM_GAIN_PCT,
            )?;
        }
        table.push_str(&format!("\n{p}\n{:>8}", "load"));
        for c in &cols {
            table.push_str(&format!(" {c:>8}"));
        }
        table.push('\n');
        for (r, row) in rows.iter().zip(grid) {
            table.push_str(&format!("{r:>8}"));
            for g in row {
                table.push_str(&format!(" {:>8.1}", g.0));
            }
            table.push('\n');
        }
    }
    Ok(table)
}

fn strings(xs: &[&str]) -> Vec<String> {
    xs.iter().map(|x| x.to_string()).collect()
}

/// Writes `rows` (the first one the header) as `\n`-terminated CSV.
fn write_csv(path: &Path, rows: &[Vec<String>]) -> Result<()> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_path(path)
        .with_context(|| format!("creating {}", path.display()))?;
    for r in rows {
        w.write_record(r)?;
    }
    w.flush()
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// `report.md` of a map: what ran, the gain tables, and the heatmaps.
pub fn report_md(spec: &MapSpec, name: &str, description: Option<&str>, table: &str) -> String {
    let mut md = format!("# {name}\n\n");
    if let Some(d) = description {
        md.push_str(d.trim());
        md.push_str("\n\n");
    }
    let list = |xs: &[f64]| xs.iter().map(f64::to_string).collect::<Vec<_>>().join(", ");
    md.push_str(&format!(
        "flexsim {}: offered loads {} × sub-card shares {} × seeds {} × policies {} = {} \
         replays of {} jobs each on fleet {} ({} cards). Gains are per seed against {} on the \
         same trace, then averaged; every run is in [map.csv](map.csv), every cell in \
         [gain.csv](gain.csv) (with std and the costs), the experiment file is \
         [experiment.toml](experiment.toml).\n\n```\n{}```\n\n## Heatmaps\n\n",
        env!("CARGO_PKG_VERSION"),
        list(&spec.loads),
        list(&spec.sub_card_shares),
        spec.seeds
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        spec.policies.join(", "),
        spec.loads.len() * spec.sub_card_shares.len() * spec.seeds.len() * spec.policies.len(),
        spec.base.jobs,
        spec.fleet.name,
        spec.fleet.gpu_count(),
        spec.baseline,
        table,
    ));
    for p in spec.policies.iter().filter(|p| **p != spec.baseline) {
        for what in ["busy", "goodput"] {
            let f = format!("map_{what}_gain_{}.svg", file_safe(p));
            md.push_str(&format!("![{p} {what} gain]({f})\n\n"));
        }
    }
    md
}

/// A policy request as a file-name part: brackets and separators become `_`.
fn file_safe(policy: &str) -> String {
    policy
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fleet() -> Fleet {
        let text = "name = \"m\"\n[[groups]]\nname = \"a\"\ncount = 4\ncpu_milli = 128000\n\
                    memory_mib = 1048576\nmodel = \"V100M32\"\ndevices = 8\n";
        Fleet::parse_toml(Path::new("m.toml"), text).unwrap()
    }

    #[test]
    fn a_cell_trace_has_the_cells_mix_and_exactly_its_offered_load() {
        let f = fleet();
        let mut base = SynthParams::small_model_heavy();
        base.jobs = 2000;
        for (load, share) in [(0.3, 0.0), (1.5, 1.0), (0.9, 0.4)] {
            let w = cell_workload(
                &base,
                &f,
                Cell {
                    load,
                    share,
                    seed: 42,
                },
            )
            .unwrap();
            let l = offered_load(&w, &f);
            assert!((l - load).abs() < 1e-3 * load, "load {load}: got {l}");
            let gpu = w.pods.iter().filter(|p| p.num_gpu > 0).count();
            assert_eq!(gpu, w.pods.len(), "no CPU-only jobs");
            assert!(w.pods.iter().all(|p| p.num_gpu == 1));
            let sub = w.pods.iter().filter(|p| p.gpu_milli < 1000).count() as f64 / gpu as f64;
            assert!((sub - share).abs() < 0.05, "share {share}: got {sub}");
        }
    }

    #[test]
    fn offered_load_counts_a_sub_card_job_as_a_card_at_the_fleets_speed() {
        let f = fleet(); // 32 V100 (speed 1.0)
        let mut a = flexsim_sim::model::job::Pod::new("a", 1000, 1024, 1, 250);
        a.work_ms = Some(3_600_000);
        let mut b = a.clone();
        b.arrival_ms = 3_600_000;
        let w = Workload {
            name: "w".into(),
            pods: vec![a, b],
        };
        // 2 card-hours over 32 cards × 1 hour.
        assert!((offered_load(&w, &f) - 2.0 / 32.0).abs() < 1e-12);
    }
}
