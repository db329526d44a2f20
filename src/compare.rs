//! `flexsim regress` and `flexsim compare`: reading summaries back.

use anyhow::{Context, Result};
use flexsim_sim::output::regress::{self, Side, Status};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The summary file `path` names: itself, or `summary.json` in a run directory.
fn summary_file(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join("summary.json")
    } else {
        path.to_owned()
    }
}

/// A summary file, or a run directory holding `summary.json`.
pub fn load_summary(path: &Path) -> Result<Value> {
    let file = summary_file(path);
    let text =
        std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{}: not a JSON summary", file.display()))
}

fn show(v: Option<f64>) -> String {
    v.map_or_else(|| "null".to_owned(), |x| format!("{x:.4}"))
}

/// Prints the regression table; returns whether the run regressed.
pub fn regress(baseline: &Path, run: &Path, tolerances: &[String]) -> Result<bool> {
    let tol: BTreeMap<String, f64> = tolerances
        .iter()
        .map(|t| regress::parse_tolerance(t))
        .collect::<Result<_, _>>()
        .map_err(anyhow::Error::msg)?;
    let comparison = regress::compare_all(&load_summary(baseline)?, &load_summary(run)?, &tol)
        .map_err(|e| match e.side() {
            Some(Side::Golden) => anyhow::anyhow!("{}: {e}", summary_file(baseline).display()),
            Some(Side::Run) => anyhow::anyhow!("{}: {e}", summary_file(run).display()),
            None => e.into(),
        })?;
    if !comparison.only_in_run.is_empty() {
        eprintln!(
            "note: {} metric{} only in the run, not compared (update the golden file to check them): {}",
            comparison.only_in_run.len(),
            if comparison.only_in_run.len() == 1 { "" } else { "s" },
            comparison.only_in_run.join(", ")
        );
    }
    let rows = comparison.rows;
    outln!(
        "{:<40} {:>14} {:>14} {:>12} {:>10}  status",
        "metric",
        "baseline",
        "run",
        "delta",
        "tolerance"
    );
    for r in &rows {
        let delta = match (r.baseline, r.run) {
            (Some(b), Some(x)) => format!("{:+.4}", x - b),
            _ => String::new(),
        };
        let status = match r.status {
            Status::Same => "ok",
            Status::Better => "better (update the golden file?)",
            Status::Regression => "REGRESSION",
            Status::Missing => "MISSING",
        };
        outln!(
            "{:<40} {:>14} {:>14} {:>12} {:>10}  {status}",
            r.metric,
            show(r.baseline),
            show(r.run),
            delta,
            r.tolerance
        );
    }
    let failed = regress::has_regression(&rows);
    outln!(
        "{}",
        if failed {
            "regression: at least one metric moved beyond its tolerance"
        } else {
            "no regression"
        }
    );
    Ok(failed)
}

/// Prints several runs' summaries side by side.
pub fn compare(dirs: &[PathBuf]) -> Result<()> {
    let summaries: Vec<(String, Value)> = dirs
        .iter()
        .map(|d| {
            let name = d.file_name().map_or_else(
                || d.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            load_summary(d).map(|s| (name, s))
        })
        .collect::<Result<_>>()?;
    let width = summaries
        .iter()
        .map(|(n, _)| n.len())
        .max()
        .unwrap_or(10)
        .max(12);
    out!("{:<36}", "");
    for (n, _) in &summaries {
        out!(" {n:>width$}");
    }
    outln!();
    for key in ["protocol", "trace", "fleet", "policy", "seed"] {
        out!("{key:<36}");
        for (_, s) in &summaries {
            let v = s.get(key).map_or(String::new(), |v| match v {
                Value::String(t) => t.clone(),
                other => other.to_string(),
            });
            out!(" {v:>width$}");
        }
        outln!();
    }
    let leaves: Vec<BTreeMap<String, Option<f64>>> = summaries
        .iter()
        .map(|(_, s)| regress::numeric_leaves(s))
        .collect();
    let mut metrics: Vec<&String> = leaves.iter().flat_map(|l| l.keys()).collect();
    metrics.sort();
    metrics.dedup();
    for m in metrics {
        if m == "seed" {
            continue;
        }
        out!("{m:<36}");
        for l in &leaves {
            let v = l.get(m).copied().flatten();
            out!(
                " {:>width$}",
                v.map_or("-".to_owned(), |x| format!("{x:.2}"))
            );
        }
        outln!();
    }
    Ok(())
}
