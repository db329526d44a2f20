//! What a run writes: `summary.json` and `curve.csv`, into an output directory that never
//! silently overwrites earlier results.

use crate::curve::{self, CurvePoint};
use crate::inflation::{InflationConfig, InflationOutcome};
use serde::Serialize;
use std::io::Write;
use std::path::Path;

/// The headline figures and the exact configuration of one inflation run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InflationSummary {
    pub protocol: &'static str,
    pub trace: String,
    pub fleet: String,
    pub policy: String,
    pub seed: u64,
    pub tune: f64,
    pub pods_arrived: usize,
    pub pods_failed: usize,
    pub gpu_capacity_milli: u64,
    /// Curve value at arrived = 100% and 130% (fgd-protocol §2.4); `null` if absent.
    pub alloc_pct_at_100: Option<f64>,
    pub alloc_pct_at_130: Option<f64>,
    pub frag_ratio_pct_at_100: Option<f64>,
    pub frag_pct_at_100: Option<f64>,
    /// Allocation after the last pod, unbucketed (the peer's final `MilliGpu` ratio).
    pub alloc_pct_final: f64,
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
            seed: config.seed,
            tune: config.tune_ratio,
            pods_arrived: outcome.pods_arrived,
            pods_failed: outcome.pods_failed,
            gpu_capacity_milli: outcome.gpu_capacity_milli,
            alloc_pct_at_100: curve::at(points, 100).map(|p| p.alloc_pct),
            alloc_pct_at_130: curve::at(points, 130).map(|p| p.alloc_pct),
            frag_ratio_pct_at_100: curve::at(points, 100).map(|p| p.frag_ratio_pct),
            frag_pct_at_100: curve::at(points, 100).map(|p| p.frag_pct),
            alloc_pct_final: last.map_or(0.0, |s| {
                100.0 * s.used_gpu_milli as f64 / outcome.gpu_capacity_milli as f64
            }),
            wall_ms,
            flexsim_version: env!("CARGO_PKG_VERSION"),
        }
    }
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
