//! What a run writes: `summary.json` and `curve.csv`, into an output directory that never
//! silently overwrites earlier results.

use crate::engine::inflation::{InflationConfig, InflationOutcome};
use crate::engine::replay::ReplayConfig;
use crate::metrics::curve::{self, CurvePoint};
use crate::metrics::energy::ModelEnergy;
use crate::metrics::fairness::ClassOutcome;
use crate::metrics::replay_metrics::ReplayOutcome;
use crate::model::fleet::{Fleet, ModelMode};
use crate::output::replay_csv;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The headline figures and the exact configuration of one inflation run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InflationSummary {
    pub protocol: &'static str,
    pub trace: String,
    pub fleet: String,
    pub policy: String,
    /// The policy's parameters as resolved (given or default); absent for policies without.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub policy_params: BTreeMap<String, String>,
    pub seed: u64,
    pub tune: f64,
    pub pods_arrived: usize,
    pub pods_failed: usize,
    /// Of the failed pods, those that fit no node even of the empty cluster, per reason.
    pub pods_unplaceable: Unplaceables,
    pub gpu_capacity_milli: u64,
    /// Curve value at arrived = 100% and 130% (fgd-protocol §2.4); `null` if absent.
    pub alloc_pct_at_100: Option<f64>,
    pub alloc_pct_at_130: Option<f64>,
    pub frag_ratio_pct_at_100: Option<f64>,
    pub frag_pct_at_100: Option<f64>,
    /// Allocation after the last pod, unbucketed (the peer's final `MilliGpu` ratio).
    pub alloc_pct_final: f64,
    /// What the placed pods requested, % of capacity, at the end: equals `alloc_pct_final` in
    /// the openb share mode; lower when a slicing mode grants more than asked (rounding up,
    /// whole cards), so the difference is the padding.
    pub placed_request_pct_final: f64,
    /// Each device model's cards and the slicing mode they ran in.
    pub per_device_model: BTreeMap<String, ModelSlicing>,
    pub wall_ms: u64,
    pub flexsim_version: &'static str,
}

impl InflationSummary {
    pub fn new(
        trace: &str,
        fleet: &str,
        policy: &str,
        config: InflationConfig,
        outcome: &InflationOutcome,
        points: &[CurvePoint],
        wall_ms: u64,
    ) -> Self {
        let last = outcome.samples.last();
        InflationSummary {
            protocol: "inflation",
            trace: trace.to_owned(),
            fleet: fleet.to_owned(),
            policy: policy.to_owned(),
            policy_params: BTreeMap::new(),
            seed: config.seed,
            tune: config.tune_ratio,
            pods_arrived: outcome.pods_arrived,
            pods_failed: outcome.pods_failed,
            pods_unplaceable: Unplaceables::new(outcome.unplaceable_by_reason.clone()),
            gpu_capacity_milli: outcome.gpu_capacity_milli,
            alloc_pct_at_100: curve::at(points, 100).map(|p| p.alloc_pct),
            alloc_pct_at_130: curve::at(points, 130).map(|p| p.alloc_pct),
            frag_ratio_pct_at_100: curve::at(points, 100).map(|p| p.frag_ratio_pct),
            frag_pct_at_100: curve::at(points, 100).map(|p| p.frag_pct),
            alloc_pct_final: last.map_or(0.0, |s| {
                100.0 * s.used_gpu_milli as f64 / outcome.gpu_capacity_milli as f64
            }),
            placed_request_pct_final: 100.0 * outcome.placed_request_milli as f64
                / outcome.gpu_capacity_milli as f64,
            per_device_model: outcome
                .slicing
                .iter()
                .map(|(m, s)| (m.clone(), ModelSlicing::of(s)))
                .collect(),
            wall_ms,
            flexsim_version: env!("CARGO_PKG_VERSION"),
        }
    }
}

/// The headline figures and the exact configuration of one replay. Keeps the inflation
/// summary's keys (those that have no meaning here are `null`) so scripts read both.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplaySummary {
    pub protocol: &'static str,
    pub trace: String,
    pub fleet: String,
    pub policy: String,
    /// The policy's parameters as resolved (given or default); absent for policies without.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub policy_params: BTreeMap<String, String>,
    pub seed: u64,
    pub tune: Option<f64>,
    /// Jobs replayed (the trace's jobs less the skipped ones).
    pub pods_arrived: u64,
    /// Jobs that never finished: still waiting at the end, pending or unplaceable.
    pub pods_failed: u64,
    pub alloc_pct_at_100: Option<f64>,
    pub alloc_pct_at_130: Option<f64>,
    pub frag_ratio_pct_at_100: Option<f64>,
    pub util_alloc_pct: f64,
    pub util_busy_pct: f64,
    /// Useful busy work in reference-device units (see `ReplayFigures::util_goodput_pct`).
    pub util_goodput_pct: f64,
    pub frag_ratio_pct_mean: f64,
    pub wait_p50_s: Option<f64>,
    pub wait_p95_s: Option<f64>,
    pub wait_p99_s: Option<f64>,
    pub jct_p50_s: Option<f64>,
    pub jct_p95_s: Option<f64>,
    pub jct_p99_s: Option<f64>,
    pub slowdown_p50: Option<f64>,
    pub slowdown_p95: Option<f64>,
    pub slowdown_p99: Option<f64>,
    pub slo_attainment_pct: Option<f64>,
    pub preemptions: u64,
    /// finished + running + pending + skipped + unplaceable.
    pub jobs_total: u64,
    pub jobs_finished: u64,
    /// Jobs waiting at the end that fit the empty fleet (not the unplaceable ones).
    pub jobs_pending: u64,
    /// Pending jobs per reason: `no-fit-now`, `remote-only`, `starved`.
    pub jobs_pending_by_reason: BTreeMap<String, u64>,
    pub jobs_running: u64,
    pub jobs_skipped: u64,
    /// Jobs that fit no node of the empty fleet, per reason.
    pub jobs_unplaceable: Unplaceables,
    pub per_device_model: BTreeMap<String, ModelSummary>,
    /// Energy of the cards over the run, first arrival to end (`crate::metrics::energy`), kWh.
    pub energy_kwh: f64,
    /// Mean power of all cards over that span, W.
    pub power_avg_w: f64,
    /// The span energy is integrated over, s.
    pub energy_span_s: f64,
    /// Busy card-hours over the span, and energy per busy card-hour (kWh; `null` if none).
    pub busy_gpu_h: f64,
    pub kwh_per_busy_gpu_h: Option<f64>,
    /// Useful work over the span in reference card-hours, and energy per such hour.
    pub goodput_gpu_h: f64,
    pub kwh_per_goodput_gpu_h: Option<f64>,
    /// `--idle-off-min`: idle cards off after this many minutes (`null`: always on), the energy
    /// with it, what it saves (kWh, % of `energy_kwh`).
    pub idle_off_min: Option<f64>,
    pub idle_off_energy_kwh: Option<f64>,
    pub idle_off_saved_kwh: Option<f64>,
    pub idle_off_saved_pct: Option<f64>,
    /// Outcomes per class (QoS class, else priority; `crate::metrics::fairness`).
    pub per_class: BTreeMap<String, ClassOutcome>,
    /// Jain's index over classes of received ÷ asked GPU-time share.
    pub jain_classes: Option<f64>,
    /// Jain's index over finished jobs of 1 / slowdown.
    pub jain_jobs_slowdown: Option<f64>,
    pub restart_cost_s: f64,
    /// Jobs placed as gangs over several nodes, and the cross-node speed factor they ran at;
    /// both absent when the run had no gang job (the factor then changed nothing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gang_jobs: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cross_node_factor: Option<f64>,
    /// On a fleet with a topology: where multi-device jobs landed ([`crate::metrics::tiers`])
    /// and the communication share the link factors used ([`crate::model::topology`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub placement_tiers: Option<crate::metrics::tiers::TierFigures>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topology_comm_share: Option<f64>,
    /// A policy that places by topology ran on a flat fleet (set by the caller that knows the
    /// policy; `flexsim run` / `sweep`): what it means for the figures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topology_note: Option<String>,
    pub slo_slowdown: f64,
    pub demand: String,
    pub start_s: f64,
    pub window_end_s: f64,
    pub end_s: f64,
    pub events: u64,
    pub events_per_s: f64,
    pub wall_ms: u64,
    pub flexsim_version: &'static str,
}

/// Jobs (or pods) that fit no node of the empty fleet: how many, and how many per reason
/// ([`Unplaceable::name`](crate::model::cluster::Unplaceable::name)).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Unplaceables {
    pub total: u64,
    pub by_reason: BTreeMap<String, u64>,
}

impl Unplaceables {
    pub fn new(by_reason: BTreeMap<String, u64>) -> Self {
        Unplaceables {
            total: by_reason.values().sum(),
            by_reason,
        }
    }

    /// `12 jobs fit no node of the empty fleet: gpu-models 10, cpu 2`, or `None` when none.
    pub fn line(&self, what: &str) -> Option<String> {
        (self.total > 0).then(|| {
            let reasons: Vec<String> = self
                .by_reason
                .iter()
                .map(|(r, n)| format!("{r} {n}"))
                .collect();
            format!(
                "unplaceable: {} {what} fit no node of the empty fleet: {}",
                self.total,
                reasons.join(", ")
            )
        })
    }
}

/// One device model's cards and the slicing mode they ran in (inflation summary).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelSlicing {
    pub cards: u64,
    /// The mode's name ([`SlicingMode::name`](crate::model::slicing::SlicingMode::name)).
    pub slicing: String,
    /// `fleet` (the fleet file's), `policy` (the policy's preferred mode) or `chosen`
    /// (`--slicing`).
    pub slicing_from: &'static str,
}

impl ModelSlicing {
    fn of(m: &ModelMode) -> Self {
        ModelSlicing {
            cards: m.cards,
            slicing: m.mode.name(),
            slicing_from: m.source.name(),
        }
    }
}

/// One device model's part of a replay summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelSummary {
    pub cards: u64,
    pub slicing: String,
    /// `fleet`, `policy` or `chosen`, as in [`ModelSlicing::slicing_from`].
    pub slicing_from: &'static str,
    /// The calibration profile the model's parameters came from, and which ones.
    pub profile: Option<String>,
    pub from_profile: Vec<String>,
    pub util_alloc_pct: f64,
    pub util_busy_pct: f64,
    /// Idle and full-load board power of one card, W, and where they come from (`catalog`,
    /// `fleet`, `profile`).
    pub power_idle_w: f64,
    pub power_full_w: f64,
    pub power_from: &'static str,
    /// The model's cards over the run: energy (kWh), mean power (W, all cards), busy
    /// card-hours, kWh per busy card-hour, and what idle-off saves (kWh; `null` without it).
    pub energy_kwh: f64,
    pub power_avg_w: f64,
    pub busy_gpu_h: f64,
    pub kwh_per_busy_gpu_h: Option<f64>,
    pub idle_off_saved_kwh: Option<f64>,
}

/// The run a replay summary describes.
pub struct ReplayRun<'a> {
    pub trace: &'a str,
    pub fleet: &'a Fleet,
    pub policy: &'a str,
    pub config: &'a ReplayConfig,
    pub demand: &'a str,
    pub wall_ms: u64,
}

impl ReplaySummary {
    pub fn new(run: &ReplayRun<'_>, outcome: &ReplayOutcome) -> Self {
        let f = &outcome.figures;
        let per_device_model = outcome
            .per_model
            .iter()
            .zip(per_model_energy(outcome))
            .map(|(m, e)| {
                let device = run.fleet.devices.get(&m.model);
                let ran = outcome.slicing.get(&m.model);
                (
                    m.model.clone(),
                    ModelSummary {
                        cards: m.cards,
                        slicing: ran.map_or_else(String::new, |r| r.mode.name()),
                        slicing_from: ran.map_or("", |r| r.source.name()),
                        profile: device
                            .and_then(|d| d.profile.as_ref())
                            .map(|p| p.display().to_string()),
                        from_profile: device.map_or_else(Vec::new, |d| d.from_profile.clone()),
                        util_alloc_pct: m.util_alloc_pct,
                        util_busy_pct: m.util_busy_pct,
                        power_idle_w: e.power.idle_w(),
                        power_full_w: e.power.full_w(),
                        power_from: e.power.source.name(),
                        energy_kwh: e.energy_kwh,
                        power_avg_w: e.power_avg_w,
                        busy_gpu_h: e.busy_gpu_h,
                        kwh_per_busy_gpu_h: e.kwh_per_busy_gpu_h,
                        idle_off_saved_kwh: e.idle_off_saved_kwh,
                    },
                )
            })
            .collect();
        let energy = &outcome.energy;
        let off = energy.idle_off.as_ref();
        let fair = &outcome.fairness;
        ReplaySummary {
            protocol: "replay",
            trace: run.trace.to_owned(),
            fleet: run.fleet.name.clone(),
            policy: run.policy.to_owned(),
            policy_params: BTreeMap::new(),
            seed: run.config.seed,
            tune: None,
            pods_arrived: f.jobs_total - f.jobs_skipped,
            pods_failed: f.jobs_pending + f.jobs_unplaceable,
            alloc_pct_at_100: None,
            alloc_pct_at_130: None,
            frag_ratio_pct_at_100: None,
            util_alloc_pct: f.util_alloc_pct,
            util_busy_pct: f.util_busy_pct,
            util_goodput_pct: f.util_goodput_pct,
            frag_ratio_pct_mean: f.frag_ratio_pct_mean,
            wait_p50_s: f.wait_s.p50,
            wait_p95_s: f.wait_s.p95,
            wait_p99_s: f.wait_s.p99,
            jct_p50_s: f.jct_s.p50,
            jct_p95_s: f.jct_s.p95,
            jct_p99_s: f.jct_s.p99,
            slowdown_p50: f.slowdown.p50,
            slowdown_p95: f.slowdown.p95,
            slowdown_p99: f.slowdown.p99,
            slo_attainment_pct: f.slo_attainment_pct,
            preemptions: f.preemptions,
            jobs_total: f.jobs_total,
            jobs_finished: f.jobs_finished,
            jobs_pending: f.jobs_pending,
            jobs_pending_by_reason: f.pending_by_reason.clone(),
            jobs_running: f.jobs_running,
            jobs_skipped: f.jobs_skipped,
            jobs_unplaceable: Unplaceables::new(f.unplaceable_by_reason.clone()),
            per_device_model,
            energy_kwh: energy.energy_kwh,
            power_avg_w: energy.power_avg_w,
            energy_span_s: energy.span_s,
            busy_gpu_h: energy.busy_gpu_h,
            kwh_per_busy_gpu_h: energy.kwh_per_busy_gpu_h,
            goodput_gpu_h: energy.goodput_gpu_h,
            kwh_per_goodput_gpu_h: energy.kwh_per_goodput_gpu_h,
            idle_off_min: off.map(|o| o.after_min),
            idle_off_energy_kwh: off.map(|o| o.energy_kwh),
            idle_off_saved_kwh: off.map(|o| o.saved_kwh),
            idle_off_saved_pct: off.map(|o| o.saved_pct),
            per_class: fair.per_class.clone(),
            jain_classes: fair.jain_classes,
            jain_jobs_slowdown: fair.jain_jobs_slowdown,
            restart_cost_s: run.config.restart_cost_ms as f64 / 1000.0,
            gang_jobs: (f.gang_jobs > 0).then_some(f.gang_jobs),
            cross_node_factor: (f.gang_jobs > 0 || outcome.tiers.is_some())
                .then_some(run.config.perf.cross_node_factor),
            placement_tiers: outcome.tiers.clone(),
            topology_note: None,
            topology_comm_share: outcome
                .tiers
                .as_ref()
                .map(|_| crate::model::topology::comm_share(run.config.perf.cross_node_factor)),
            slo_slowdown: run.config.slo_slowdown,
            demand: run.demand.to_owned(),
            start_s: f.start_s,
            window_end_s: f.window_end_s,
            end_s: f.end_s,
            events: f.events,
            events_per_s: f.events as f64 / (run.wall_ms.max(1) as f64 / 1000.0),
            wall_ms: run.wall_ms,
            flexsim_version: env!("CARGO_PKG_VERSION"),
        }
    }
}

/// The energy of each of `outcome.per_model`'s models, in its order (a model the meter did
/// not see gets zeros with the reference power).
fn per_model_energy(outcome: &ReplayOutcome) -> Vec<ModelEnergy> {
    outcome
        .per_model
        .iter()
        .map(|m| {
            outcome
                .energy
                .per_model
                .iter()
                .find(|e| e.model == m.model)
                .cloned()
                .unwrap_or_else(|| ModelEnergy {
                    model: m.model.clone(),
                    power: crate::model::catalog::catalog_power(&m.model),
                    energy_kwh: 0.0,
                    power_avg_w: 0.0,
                    busy_gpu_h: 0.0,
                    kwh_per_busy_gpu_h: None,
                    idle_off_saved_kwh: None,
                })
        })
        .collect()
}

/// Writes a replay's `summary.json`, `timeseries.csv` and `jobs.csv` into `dir`.
pub fn write_replay_run(
    dir: &Path,
    summary: &ReplaySummary,
    outcome: &ReplayOutcome,
    names: &[impl AsRef<str> + Sync],
) -> std::io::Result<()> {
    let mut ts = std::io::BufWriter::new(std::fs::File::create(dir.join("timeseries.csv"))?);
    replay_csv::write_timeseries(&mut ts, &outcome.timeseries)?;
    ts.flush()?;
    let mut jobs = std::io::BufWriter::new(std::fs::File::create(dir.join("jobs.csv"))?);
    replay_csv::write_jobs(&mut jobs, &outcome.jobs, names, outcome.tiers.as_ref())?;
    jobs.flush()?;
    let json = serde_json::to_string_pretty(summary).map_err(std::io::Error::other)?;
    std::fs::write(dir.join("summary.json"), json + "\n")
}

/// Writes `curve.csv`: `arrived_pct,alloc_pct,frag_pct,frag_ratio_pct`, two decimals.
pub fn write_curve(out: &mut impl Write, points: &[CurvePoint]) -> std::io::Result<()> {
    let mut w = crate::output::csv_out::CsvOut::new(out);
    w.header(&["arrived_pct", "alloc_pct", "frag_pct", "frag_ratio_pct"])?;
    for p in points {
        crate::csv_record!(w,
            "{}", p.arrived_pct;
            "{:.2}", p.alloc_pct;
            "{:.2}", p.frag_pct;
            "{:.2}", p.frag_ratio_pct
        )?;
    }
    w.flush()
}

/// Writes a run's `summary.json` and `curve.csv` into `dir` (which must exist).
pub fn write_inflation_run(
    dir: &Path,
    summary: &InflationSummary,
    points: &[CurvePoint],
) -> std::io::Result<()> {
    let mut curve_file = std::io::BufWriter::new(std::fs::File::create(dir.join("curve.csv"))?);
    write_curve(&mut curve_file, points)?;
    curve_file.flush()?;
    let json = serde_json::to_string_pretty(summary).map_err(std::io::Error::other)?;
    std::fs::write(dir.join("summary.json"), json + "\n")
}

/// Why an output directory cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum OutDirError {
    #[error("{0} already holds results; pass --force to overwrite them, or choose another --out")]
    NotEmpty(std::path::PathBuf),
    #[error("{path}: {source}")]
    Io {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{0} holds files but no flexsim results (no summary.json, sweep.csv, summary.csv or map.csv); \
         --force replaces only an earlier output directory: choose another --out, or remove it \
         yourself"
    )]
    NotResults(PathBuf),
    #[error("--out {0} names no directory to create (give a path ending in a directory name)")]
    NoName(PathBuf),
    #[error("{0} exists and is not a directory")]
    NotADirectory(PathBuf),
    #[error("{0} exists; pass --force to overwrite it")]
    Exists(PathBuf),
}

/// The files whose presence marks a directory as an earlier run's output, which `--force` may
/// replace: a run's `summary.json`, a sweep's `sweep.csv`, the claim check's `summary.csv`, the
/// claim map's `map.csv`.
const RESULT_MARKERS: [&str; 4] = ["summary.json", "sweep.csv", "summary.csv", "map.csv"];

/// A results folder's hand-written description (how it was produced, what reads it): kept when
/// the folder's results are replaced, unless the new run writes one itself.
const FOLDER_README: &str = "README.md";

/// The sub-folders of `dir` that hold another experiment's results (an `experiment.toml`
/// beside a result marker): `results/flexai-claim/map/` inside the claim check's folder.
/// Replacing `dir` keeps them — they are not its outputs, and rerunning one experiment must not
/// delete another's.
fn nested_results(dir: &Path) -> Vec<std::ffi::OsString> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<std::ffi::OsString> = entries
        .filter_map(Result::ok)
        .filter(|e| {
            let p = e.path();
            p.is_dir()
                && p.join("experiment.toml").is_file()
                && RESULT_MARKERS.iter().any(|m| p.join(m).exists())
        })
        .map(|e| e.file_name())
        .collect();
    names.sort();
    names
}

/// Temporary directories and files of [`Staged`] and [`StagedFile`] outputs not yet
/// committed, for [`remove_unfinished`].
static UNFINISHED: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

fn unfinished() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    UNFINISHED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Removes the temporary directory (or file) of every output still being written: what a Ctrl-C
/// handler calls before exiting, so that an interrupted run leaves the previous results and
/// nothing else. Retries a few times, as threads may still be writing into them.
pub fn remove_unfinished() {
    let dirs = unfinished().clone();
    for dir in dirs {
        if dir.is_file() {
            let _ = std::fs::remove_file(&dir);
            continue;
        }
        for _ in 0..5 {
            if std::fs::remove_dir_all(&dir).is_ok() || !dir.exists() {
                break;
            }
        }
    }
}

/// An output directory being written (README "nothing is lost or mixed"). Files go into a
/// temporary directory beside the target, `NAME.partial-PID`; [`Staged::commit`] moves it into
/// place only when everything is written, replacing the earlier directory wholesale (so no
/// stale file of an earlier run survives beside the new ones). Dropped uncommitted — a run
/// that failed part-way — it removes the temporary directory, and the previous results are
/// untouched. A directory that holds files is refused unless `force`, and even then unless it
/// holds an earlier run's results (`summary.json`, `sweep.csv`, `summary.csv` or `map.csv`).
#[derive(Debug)]
pub struct Staged {
    target: PathBuf,
    tmp: PathBuf,
    committed: bool,
}

impl Staged {
    /// Checks `target` and creates the temporary directory beside it.
    pub fn new(target: &Path, force: bool) -> Result<Staged, OutDirError> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| OutDirError::Io { path, source }
        };
        let name = target
            .file_name()
            .filter(|n| *n != "." && *n != "..")
            .ok_or_else(|| OutDirError::NoName(target.to_owned()))?;
        if target.exists() {
            if !target.is_dir() {
                return Err(OutDirError::NotADirectory(target.to_owned()));
            }
            let nested = nested_results(target);
            let mut entries = std::fs::read_dir(target).map_err(io(target))?;
            // Other experiments' results nested inside do not make it an earlier output (they
            // are carried over on commit).
            if entries.any(|e| e.map_or(true, |e| !nested.contains(&e.file_name()))) {
                if !force {
                    return Err(OutDirError::NotEmpty(target.to_owned()));
                }
                if !RESULT_MARKERS.iter().any(|m| target.join(m).exists()) {
                    return Err(OutDirError::NotResults(target.to_owned()));
                }
            }
        }
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).map_err(io(&parent))?;
        let mut tmp_name = name.to_owned();
        tmp_name.push(format!(".partial-{}", std::process::id()));
        let tmp = parent.join(tmp_name);
        if tmp.exists() {
            // Left by an earlier process with our id that was killed outright.
            std::fs::remove_dir_all(&tmp).map_err(io(&tmp))?;
        }
        std::fs::create_dir(&tmp).map_err(io(&tmp))?;
        unfinished().push(tmp.clone());
        Ok(Staged {
            target: target.to_owned(),
            tmp,
            committed: false,
        })
    }

    /// Where to write the files.
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// Moves the written directory into place, replacing an earlier one.
    pub fn commit(mut self) -> Result<(), OutDirError> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| OutDirError::Io { path, source }
        };
        // Held across the two renames, so that an interrupt's clean-up sees either the old
        // directory in place or the new one, never neither.
        let mut pending = unfinished();
        let old = if self.target.exists() {
            let mut old_name = self.tmp.file_name().unwrap_or_default().to_owned();
            old_name.push(".old");
            let old = self.tmp.with_file_name(old_name);
            std::fs::rename(&self.target, &old).map_err(io(&self.target))?;
            Some(old)
        } else {
            None
        };
        if let Err(e) = std::fs::rename(&self.tmp, &self.target) {
            if let Some(old) = &old {
                let _ = std::fs::rename(old, &self.target);
            }
            return Err(io(&self.target)(e));
        }
        self.committed = true;
        pending.retain(|d| *d != self.tmp);
        // The replaced results are now what an interrupt should remove.
        pending.extend(old.clone());
        drop(pending);
        if let Some(old) = old {
            let readme = std::ffi::OsString::from(FOLDER_README);
            let keep = nested_results(&old)
                .into_iter()
                .chain(old.join(FOLDER_README).is_file().then_some(readme));
            for name in keep {
                let to = self.target.join(&name);
                if !to.exists() {
                    std::fs::rename(old.join(&name), &to).map_err(io(&to))?;
                }
            }
            std::fs::remove_dir_all(&old).map_err(io(&old))?;
            unfinished().retain(|d| *d != old);
        }
        Ok(())
    }
}

/// A single output file being written ([`Staged`] for one file): written beside the target as
/// `NAME.partial-PID` and renamed over it by [`StagedFile::commit`]; removed if dropped first.
#[derive(Debug)]
pub struct StagedFile {
    target: PathBuf,
    tmp: PathBuf,
    committed: bool,
}

impl StagedFile {
    /// Refuses an existing `target` unless `force` (and always a directory).
    pub fn new(target: &Path, force: bool) -> Result<StagedFile, OutDirError> {
        let name = target
            .file_name()
            .ok_or_else(|| OutDirError::NoName(target.to_owned()))?;
        if target.is_dir() {
            return Err(OutDirError::Io {
                path: target.to_owned(),
                source: std::io::Error::other("is a directory, not a file"),
            });
        }
        if target.exists() && !force {
            return Err(OutDirError::Exists(target.to_owned()));
        }
        let mut tmp_name = name.to_owned();
        tmp_name.push(format!(".partial-{}", std::process::id()));
        let tmp = target.with_file_name(tmp_name);
        unfinished().push(tmp.clone());
        Ok(StagedFile {
            target: target.to_owned(),
            tmp,
            committed: false,
        })
    }

    /// Where to write the file.
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// Renames the written file over the target.
    pub fn commit(mut self) -> Result<(), OutDirError> {
        std::fs::rename(&self.tmp, &self.target).map_err(|source| OutDirError::Io {
            path: self.target.clone(),
            source,
        })?;
        self.committed = true;
        unfinished().retain(|d| *d != self.tmp);
        Ok(())
    }
}

impl Drop for StagedFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.tmp);
            unfinished().retain(|d| *d != self.tmp);
        }
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.tmp);
            unfinished().retain(|d| *d != self.tmp);
        }
    }
}

/// Creates `dir`, refusing a non-empty one unless `force`. Writing into it directly mixes new
/// files with an earlier run's and leaves half-written results on failure: use [`Staged`].
pub fn prepare_out_dir(dir: &Path, force: bool) -> Result<(), OutDirError> {
    let io = |source| OutDirError::Io {
        path: dir.to_owned(),
        source,
    };
    if dir.exists() {
        let mut entries = std::fs::read_dir(dir).map_err(io)?;
        if entries.next().is_some() && !force {
            return Err(OutDirError::NotEmpty(dir.to_owned()));
        }
    }
    std::fs::create_dir_all(dir).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curve_csv_format() {
        let mut out = Vec::new();
        let p = CurvePoint {
            arrived_pct: 7,
            alloc_pct: 6.5,
            frag_pct: 0.125,
            frag_ratio_pct: 10.0,
        };
        write_curve(&mut out, &[p]).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "arrived_pct,alloc_pct,frag_pct,frag_ratio_pct\n7,6.50,0.12,10.00\n"
        );
    }

    /// Held by the tests that stage outputs: [`remove_unfinished`] removes every staging
    /// directory of the process, so they must not run side by side.
    static STAGING: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn staging() -> std::sync::MutexGuard<'static, ()> {
        STAGING
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn scratch(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("flexsim-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn listing(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn forced_output_replaces_the_earlier_directory_wholesale() {
        let _lock = staging();
        let root = scratch("staged-force");
        let out = root.join("run");
        std::fs::create_dir_all(out.join("s43")).unwrap();
        std::fs::write(out.join("summary.json"), "old").unwrap();
        std::fs::write(out.join("curve.csv"), "old").unwrap();
        assert!(matches!(
            Staged::new(&out, false),
            Err(OutDirError::NotEmpty(_))
        ));
        let staged = Staged::new(&out, true).unwrap();
        std::fs::write(staged.path().join("summary.json"), "new").unwrap();
        assert_eq!(listing(&out), ["curve.csv", "s43", "summary.json"]);
        staged.commit().unwrap();
        assert_eq!(listing(&out), ["summary.json"]);
        assert_eq!(
            std::fs::read_to_string(out.join("summary.json")).unwrap(),
            "new"
        );
        assert_eq!(listing(&root), ["run"]);
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn replacing_a_directory_keeps_another_experiments_results_nested_in_it() {
        let _lock = staging();
        let root = scratch("staged-nested");
        let out = root.join("claim");
        // Another experiment's results inside (experiment.toml + a marker) ...
        std::fs::create_dir_all(out.join("map")).unwrap();
        std::fs::write(out.join("map/experiment.toml"), "map").unwrap();
        std::fs::write(out.join("map/map.csv"), "cells").unwrap();
        // ... do not make the folder an earlier output: no --force needed for the first run.
        let staged = Staged::new(&out, false).unwrap();
        std::fs::write(staged.path().join("summary.csv"), "first").unwrap();
        staged.commit().unwrap();
        assert_eq!(listing(&out), ["map", "summary.csv"]);
        // A forced rerun replaces its own files and the run folders it wrote, keeps the map
        // and the folder's hand-written README.
        std::fs::write(out.join("README.md"), "how this was made").unwrap();
        std::fs::create_dir_all(out.join("s42")).unwrap();
        std::fs::write(out.join("s42/summary.json"), "old run").unwrap();
        let staged = Staged::new(&out, true).unwrap();
        std::fs::write(staged.path().join("summary.csv"), "second").unwrap();
        staged.commit().unwrap();
        assert_eq!(listing(&out), ["README.md", "map", "summary.csv"]);
        assert_eq!(
            std::fs::read_to_string(out.join("map/map.csv")).unwrap(),
            "cells"
        );
        // What the new run wrote under the same name wins.
        let staged = Staged::new(&out, true).unwrap();
        std::fs::create_dir_all(staged.path().join("map")).unwrap();
        std::fs::write(staged.path().join("map/map.csv"), "new cells").unwrap();
        std::fs::write(staged.path().join("summary.csv"), "third").unwrap();
        staged.commit().unwrap();
        assert_eq!(
            std::fs::read_to_string(out.join("map/map.csv")).unwrap(),
            "new cells"
        );
        assert_eq!(listing(&root), ["claim"]);
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn failed_output_leaves_the_earlier_directory_untouched_and_nothing_else() {
        let _lock = staging();
        let root = scratch("staged-fail");
        let out = root.join("run");
        std::fs::create_dir_all(&out).unwrap();
        std::fs::write(out.join("summary.json"), "old").unwrap();
        {
            let staged = Staged::new(&out, true).unwrap();
            std::fs::write(staged.path().join("summary.json"), "half").unwrap();
            // Dropped without commit: the run failed.
        }
        assert_eq!(listing(&root), ["run"]);
        assert_eq!(
            std::fs::read_to_string(out.join("summary.json")).unwrap(),
            "old"
        );
        // A fresh target that fails leaves no directory at all.
        drop(Staged::new(&root.join("fresh"), false).unwrap());
        assert_eq!(listing(&root), ["run"]);
        // Interrupted: the handler's clean-up removes what is being written.
        let staged = Staged::new(&root.join("fresh"), false).unwrap();
        remove_unfinished();
        assert!(!staged.path().exists());
        drop(staged);
        assert_eq!(listing(&root), ["run"]);
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn forced_output_never_replaces_a_directory_without_results() {
        let _lock = staging();
        let root = scratch("staged-foreign");
        std::fs::write(root.join("thesis.tex"), "precious").unwrap();
        assert!(matches!(
            Staged::new(&root, true),
            Err(OutDirError::NotResults(_))
        ));
        for bad in [".", "..", "/"] {
            assert!(
                matches!(
                    Staged::new(Path::new(bad), true),
                    Err(OutDirError::NoName(_))
                ),
                "{bad}"
            );
        }
        let file = root.join("thesis.tex");
        assert!(matches!(
            Staged::new(&file, true),
            Err(OutDirError::NotADirectory(_))
        ));
        assert_eq!(listing(&root), ["thesis.tex"]);
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn non_empty_out_dir_is_refused_unless_forced() {
        let dir = std::env::temp_dir().join(format!("flexsim-outdir-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        prepare_out_dir(&dir, false).unwrap();
        prepare_out_dir(&dir, false).unwrap(); // empty: fine
        std::fs::write(dir.join("summary.json"), "{}").unwrap();
        assert!(matches!(
            prepare_out_dir(&dir, false),
            Err(OutDirError::NotEmpty(_))
        ));
        prepare_out_dir(&dir, true).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
