//! What a run writes: `summary.json` and `curve.csv`, into an output directory that never
//! silently overwrites earlier results.

use crate::engine::inflation::{InflationConfig, InflationOutcome};
use crate::engine::replay::ReplayConfig;
use crate::metrics::curve::{self, CurvePoint};
use crate::metrics::replay_metrics::ReplayOutcome;
use crate::model::fleet::{Fleet, ModelMode};
use crate::output::replay_csv;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

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
    pub restart_cost_s: f64,
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
            .map(|m| {
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
                    },
                )
            })
            .collect();
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
            restart_cost_s: run.config.restart_cost_ms as f64 / 1000.0,
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

/// Writes a replay's `summary.json`, `timeseries.csv` and `jobs.csv` into `dir`.
pub fn write_replay_run(
    dir: &Path,
    summary: &ReplaySummary,
    outcome: &ReplayOutcome,
    names: &[String],
) -> std::io::Result<()> {
    let mut ts = std::io::BufWriter::new(std::fs::File::create(dir.join("timeseries.csv"))?);
    replay_csv::write_timeseries(&mut ts, &outcome.timeseries)?;
    ts.flush()?;
    let mut jobs = std::io::BufWriter::new(std::fs::File::create(dir.join("jobs.csv"))?);
    replay_csv::write_jobs(&mut jobs, &outcome.jobs, names)?;
    jobs.flush()?;
    let json = serde_json::to_string_pretty(summary).map_err(std::io::Error::other)?;
    std::fs::write(dir.join("summary.json"), json + "\n")
}

/// Writes `curve.csv`: `arrived_pct,alloc_pct,frag_pct,frag_ratio_pct`, two decimals.
pub fn write_curve(out: &mut impl Write, points: &[CurvePoint]) -> std::io::Result<()> {
    writeln!(out, "arrived_pct,alloc_pct,frag_pct,frag_ratio_pct")?;
    for p in points {
        writeln!(
            out,
            "{},{:.2},{:.2},{:.2}",
            p.arrived_pct, p.alloc_pct, p.frag_pct, p.frag_ratio_pct
        )?;
    }
    Ok(())
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
}

/// Creates `dir`, refusing a non-empty one unless `force` (README "nothing is lost").
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
