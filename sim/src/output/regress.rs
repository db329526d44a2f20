//! Golden-figure regression checks (DESIGN "Results"): compare a run's `summary.json` with a
//! committed golden one, metric by metric, within stated tolerances.
//!
//! Each metric has a direction: utilization and allocation are better higher; waits, JCT,
//! slowdown, fragmentation, failures and pending jobs are better lower; everything else
//! (counts, configuration figures) must not move. A move beyond the tolerance in the bad
//! direction — or any move of a neutral metric — is a regression. A move in the good direction
//! is reported as `better` (time to update the golden file) but does not fail.

use serde_json::Value;
use std::collections::BTreeMap;

/// Keys that identify the run; they must be equal or the comparison is meaningless.
pub const IDENTITY_KEYS: &[&str] = &["protocol", "trace", "fleet", "policy", "seed", "tune"];

/// Keys that vary from run to run by nature and are never compared.
pub const IGNORED_KEYS: &[&str] = &["wall_ms", "events_per_s", "flexsim_version"];

/// Default absolute tolerance: summaries are deterministic, so only rounding is allowed for.
pub const DEFAULT_TOLERANCE: f64 = 1e-6;

/// Which way a metric should move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    HigherIsBetter,
    LowerIsBetter,
    MustNotMove,
}

/// The direction of a (flattened) metric name.
pub fn direction(metric: &str) -> Direction {
    let leaf = metric.rsplit('.').next().unwrap_or(metric);
    if leaf.starts_with("util_")
        || leaf.starts_with("alloc_pct")
        || leaf.starts_with("slo_attainment")
        || leaf == "jobs_finished"
    {
        Direction::HigherIsBetter
    } else if leaf.starts_with("wait_")
        || leaf.starts_with("jct_")
        || leaf.starts_with("slowdown_")
        || leaf.starts_with("frag_")
        || leaf == "pods_failed"
        || leaf == "jobs_pending"
        || leaf == "preemptions"
    {
        Direction::LowerIsBetter
    } else {
        Direction::MustNotMove
    }
}

/// Verdict on one metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Same,
    Better,
    Regression,
    /// In the baseline but not in the run (or not a number there).
    Missing,
}

/// One row of the comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub metric: String,
    pub baseline: Option<f64>,
    pub run: Option<f64>,
    pub tolerance: f64,
    pub status: Status,
}

/// Flattens the numeric leaves of a summary: `per_device_model.G2.util_busy_pct` → value.
/// `null` leaves are kept as `None` so that a metric that appears or vanishes is noticed.
pub fn numeric_leaves(v: &Value) -> BTreeMap<String, Option<f64>> {
    fn walk(prefix: &str, v: &Value, out: &mut BTreeMap<String, Option<f64>>) {
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&key, child, out);
                }
            }
            Value::Number(n) => {
                out.insert(prefix.to_owned(), n.as_f64());
            }
            Value::Null => {
                out.insert(prefix.to_owned(), None);
            }
            _ => {}
        }
    }
    let mut out = BTreeMap::new();
    walk("", v, &mut out);
    out
}

/// Why two summaries cannot be compared.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CompareError {
    #[error("the summaries describe different runs: {key} is {baseline} in the baseline, {run} in the run")]
    DifferentRun {
        key: String,
        baseline: String,
        run: String,
    },
    #[error("--tolerance {0}: no such metric in the baseline")]
    UnknownMetric(String),
}

/// Compares `run` against `baseline`; `tolerances` overrides the absolute tolerance per metric.
pub fn compare(
    baseline: &Value,
    run: &Value,
    tolerances: &BTreeMap<String, f64>,
) -> Result<Vec<Row>, CompareError> {
    for key in IDENTITY_KEYS {
        let (b, r) = (baseline.get(key), run.get(key));
        if b != r {
            let show = |v: Option<&Value>| v.map_or("absent".to_owned(), Value::to_string);
            return Err(CompareError::DifferentRun {
                key: (*key).to_owned(),
                baseline: show(b),
                run: show(r),
            });
        }
    }
    let base = numeric_leaves(baseline);
    let got = numeric_leaves(run);
    if let Some(unknown) = tolerances.keys().find(|k| !base.contains_key(*k)) {
        return Err(CompareError::UnknownMetric(unknown.clone()));
    }
    let mut rows = Vec::new();
    for (metric, &b) in &base {
        if IGNORED_KEYS.contains(&metric.as_str()) || IDENTITY_KEYS.contains(&metric.as_str()) {
            continue;
        }
        let tolerance = tolerances.get(metric).copied().unwrap_or(DEFAULT_TOLERANCE);
        let r = got.get(metric).copied().flatten();
        let status = match (b, r) {
            (None, None) => Status::Same,
            (Some(_), None) => Status::Missing,
            (None, Some(_)) => Status::Regression,
            (Some(b), Some(r)) => {
                let delta = r - b;
                if delta.abs() <= tolerance {
                    Status::Same
                } else {
                    match (direction(metric), delta > 0.0) {
                        (Direction::HigherIsBetter, true) | (Direction::LowerIsBetter, false) => {
                            Status::Better
                        }
                        _ => Status::Regression,
                    }
                }
            }
        };
        rows.push(Row {
            metric: metric.clone(),
            baseline: b,
            run: r,
            tolerance,
            status,
        });
    }
    Ok(rows)
}

/// Whether any row fails the check.
pub fn has_regression(rows: &[Row]) -> bool {
    rows.iter()
        .any(|r| matches!(r.status, Status::Regression | Status::Missing))
}

/// Parses `metric=abs` tolerance arguments.
pub fn parse_tolerance(arg: &str) -> Result<(String, f64), String> {
    let (k, v) = arg.split_once('=').ok_or_else(|| {
        format!("invalid --tolerance {arg:?}: expected metric=abs, e.g. util_busy_pct=0.5")
    })?;
    let v: f64 = v
        .trim()
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite() && *v >= 0.0)
        .ok_or_else(|| {
            format!("invalid --tolerance {arg:?}: the tolerance must be a number >= 0")
        })?;
    Ok((k.trim().to_owned(), v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn golden() -> Value {
        json!({"protocol": "replay", "trace": "t", "fleet": "f", "policy": "p", "seed": 42,
               "tune": null, "util_busy_pct": 40.0, "wait_p99_s": 10.0, "jobs_total": 100,
               "per_device_model": {"G2": {"util_alloc_pct": 50.0}}, "wall_ms": 5})
    }

    #[test]
    fn identical_passes_and_wall_time_is_ignored() {
        let mut run = golden();
        run["wall_ms"] = json!(999);
        let rows = compare(&golden(), &run, &BTreeMap::new()).unwrap();
        assert!(!has_regression(&rows));
        assert!(rows.iter().all(|r| r.status == Status::Same));
    }

    #[test]
    fn a_nudge_beyond_tolerance_in_the_bad_direction_fails() {
        let mut run = golden();
        run["util_busy_pct"] = json!(39.6);
        let rows = compare(&golden(), &run, &BTreeMap::new()).unwrap();
        assert!(has_regression(&rows));
        let tol = BTreeMap::from([("util_busy_pct".to_owned(), 0.5)]);
        assert!(!has_regression(&compare(&golden(), &run, &tol).unwrap()));
        run["per_device_model"]["G2"]["util_alloc_pct"] = json!(49.0);
        assert!(has_regression(&compare(&golden(), &run, &tol).unwrap()));
    }

    #[test]
    fn better_is_reported_not_failed_and_neutral_moves_fail() {
        let mut run = golden();
        run["wait_p99_s"] = json!(5.0);
        let rows = compare(&golden(), &run, &BTreeMap::new()).unwrap();
        assert!(!has_regression(&rows));
        assert!(rows
            .iter()
            .any(|r| r.metric == "wait_p99_s" && r.status == Status::Better));
        run["jobs_total"] = json!(101);
        assert!(has_regression(
            &compare(&golden(), &run, &BTreeMap::new()).unwrap()
        ));
    }

    #[test]
    fn different_runs_and_unknown_tolerances_are_errors() {
        let mut run = golden();
        run["policy"] = json!("q");
        assert!(matches!(
            compare(&golden(), &run, &BTreeMap::new()),
            Err(CompareError::DifferentRun { .. })
        ));
        let tol = BTreeMap::from([("nope".to_owned(), 1.0)]);
        assert_eq!(
            compare(&golden(), &golden(), &tol),
            Err(CompareError::UnknownMetric("nope".into()))
        );
        assert!(parse_tolerance("util_busy_pct").is_err());
        assert_eq!(parse_tolerance("a=0.5").unwrap(), ("a".to_owned(), 0.5));
    }
}
