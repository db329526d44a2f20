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
    /// A number in the baseline, `null` in the run (a nullable metric lost its value).
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

/// Leaves that are text or lists describing the run, never metrics: the identity strings and
/// the configuration a summary records (`demand`, each device model's `slicing`, `profile`,
/// `from_profile` and `power_from`). Matched on the last segment of the flattened name.
pub const TEXT_KEYS: &[&str] = &[
    "protocol",
    "trace",
    "fleet",
    "policy",
    "demand",
    "slicing",
    "slicing_from",
    "profile",
    "from_profile",
    "power_from",
    "flexsim_version",
];

/// Objects whose leaves are all configuration text, never metrics: the policy's resolved
/// parameters (`policy_params.node = "spread"`; the `policy` identity key already names them).
pub const TEXT_OBJECTS: &[&str] = &["policy_params"];

/// Metrics a summary writes as `null` when there is no value: a curve that never reached
/// 100 % / 130 % of capacity, percentiles and SLO attainment with no finished job, the
/// inflation-only figures of a replay, energy per busy or useful card-hour with none, the
/// idle-off figures of a run without `--idle-off-min`, and Jain's indices with nothing to index.
/// Every other metric is always a number, so a `null` there is damage, not an absent value.
pub const NULLABLE_METRICS: &[&str] = &[
    "alloc_pct_at_100",
    "alloc_pct_at_130",
    "frag_ratio_pct_at_100",
    "frag_pct_at_100",
    "wait_p50_s",
    "wait_p95_s",
    "wait_p99_s",
    "jct_p50_s",
    "jct_p95_s",
    "jct_p99_s",
    "slowdown_p50",
    "slowdown_p95",
    "slowdown_p99",
    "slo_attainment_pct",
    "kwh_per_busy_gpu_h",
    "kwh_per_goodput_gpu_h",
    "idle_off_min",
    "idle_off_energy_kwh",
    "idle_off_saved_kwh",
    "idle_off_saved_pct",
    "jain_classes",
    "jain_jobs_slowdown",
];

/// The headline metrics every summary of `protocol` has (`report::InflationSummary`,
/// `report::ReplaySummary`): a golden file without one of them is damaged, whatever the run
/// says. Other metrics (per device model, configuration figures) are compared when present.
pub fn required_metrics(protocol: &str) -> &'static [&'static str] {
    match protocol {
        "inflation" => &[
            "pods_arrived",
            "pods_failed",
            "gpu_capacity_milli",
            "alloc_pct_at_100",
            "alloc_pct_at_130",
            "frag_ratio_pct_at_100",
            "frag_pct_at_100",
            "alloc_pct_final",
            "placed_request_pct_final",
        ],
        "replay" => &[
            "pods_arrived",
            "pods_failed",
            "util_alloc_pct",
            "util_busy_pct",
            "util_goodput_pct",
            "frag_ratio_pct_mean",
            "wait_p50_s",
            "wait_p95_s",
            "wait_p99_s",
            "jct_p50_s",
            "jct_p95_s",
            "jct_p99_s",
            "slowdown_p50",
            "slowdown_p95",
            "slowdown_p99",
            "slo_attainment_pct",
            "preemptions",
            "jobs_total",
            "jobs_finished",
            "jobs_pending",
            "jobs_running",
            "jobs_skipped",
        ],
        _ => &[],
    }
}

/// Which summary a problem was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Golden,
    Run,
}

impl std::fmt::Display for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Side::Golden => "golden",
            Side::Run => "run",
        })
    }
}

/// Why two summaries cannot be compared. Every one of these is bad input (exit 2), never a
/// pass: a damaged golden file must not let a regression through.
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
    /// The file is JSON but not an object of metrics.
    #[error("expected a JSON object of metrics, got {got}")]
    NotAnObject { side: Side, got: String },
    /// The golden file has identity keys at most: nothing would be compared.
    #[error("no metrics: the golden summary has nothing to compare the run against")]
    NoMetrics,
    /// A metric whose value is not a number (or `null`, where [`NULLABLE_METRICS`] allow it).
    #[error("metric {metric}: expected {expected}, got {got}")]
    WrongType {
        side: Side,
        metric: String,
        expected: &'static str,
        got: String,
    },
    /// The golden lacks a metric every summary of its protocol has.
    #[error("missing metric {metric}: every {protocol} summary has it")]
    MissingMetric { metric: String, protocol: String },
    /// The golden has a metric the run does not: it cannot be checked.
    #[error("missing metric {metric}: the golden has it (value {golden}), the run does not")]
    RunLacksMetric { metric: String, golden: String },
}

impl CompareError {
    /// The summary the problem is in, when it is in one (the CLI names that file).
    pub fn side(&self) -> Option<Side> {
        match self {
            CompareError::NotAnObject { side, .. } | CompareError::WrongType { side, .. } => {
                Some(*side)
            }
            CompareError::NoMetrics | CompareError::MissingMetric { .. } => Some(Side::Golden),
            CompareError::RunLacksMetric { .. } => Some(Side::Run),
            CompareError::DifferentRun { .. } | CompareError::UnknownMetric(_) => None,
        }
    }
}

/// A JSON value as an error message shows it: its kind, then its text (cut at 60 characters).
fn describe(v: &Value) -> String {
    let kind = match v {
        Value::Null => return "null".to_owned(),
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let mut text = v.to_string();
    if text.chars().count() > 60 {
        text = text.chars().take(57).collect::<String>() + "...";
    }
    format!("{kind} {text}")
}

/// Whether a flattened leaf is a metric: not an identity key, not an ignored key, not text.
pub fn is_metric(path: &str) -> bool {
    let leaf = path.rsplit('.').next().unwrap_or(path);
    let top = path.split('.').next().unwrap_or(path);
    !(IDENTITY_KEYS.contains(&path)
        || IGNORED_KEYS.contains(&path)
        || TEXT_KEYS.contains(&leaf)
        || TEXT_OBJECTS.contains(&top))
}

/// The metrics of one summary, each checked to be a number (or `null` where allowed).
fn metric_values(side: Side, v: &Value) -> Result<BTreeMap<String, Option<f64>>, CompareError> {
    fn walk<'a>(prefix: &str, v: &'a Value, out: &mut Vec<(String, &'a Value)>) {
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
            leaf => out.push((prefix.to_owned(), leaf)),
        }
    }
    if !v.is_object() {
        return Err(CompareError::NotAnObject {
            side,
            got: describe(v),
        });
    }
    let mut leaves = Vec::new();
    walk("", v, &mut leaves);
    let mut out = BTreeMap::new();
    for (path, value) in leaves.into_iter().filter(|(p, _)| is_metric(p)) {
        let leaf = path.rsplit('.').next().unwrap_or(&path);
        let nullable = NULLABLE_METRICS.contains(&leaf);
        let number = match value {
            Value::Number(n) => n.as_f64(),
            Value::Null if nullable => None,
            other => {
                return Err(CompareError::WrongType {
                    side,
                    expected: if nullable {
                        "a number or null"
                    } else {
                        "a number"
                    },
                    got: describe(other),
                    metric: path,
                })
            }
        };
        out.insert(path, number);
    }
    Ok(out)
}

/// A comparison: one row per golden metric, and the metrics only the run has (not compared;
/// listed so that a golden file that predates them gets updated).
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub rows: Vec<Row>,
    pub only_in_run: Vec<String>,
}

/// Compares `run` against `baseline`; `tolerances` overrides the absolute tolerance per metric.
pub fn compare(
    baseline: &Value,
    run: &Value,
    tolerances: &BTreeMap<String, f64>,
) -> Result<Vec<Row>, CompareError> {
    compare_all(baseline, run, tolerances).map(|c| c.rows)
}

/// [`compare`], also returning the metrics only the run has.
///
/// Refused (never passed): a summary that is not an object, a golden with no metrics, a golden
/// without one of its protocol's [`required_metrics`], a metric that is not a number (or not
/// `null` where [`NULLABLE_METRICS`] allow it) on either side, and a golden metric the run
/// lacks.
pub fn compare_all(
    baseline: &Value,
    run: &Value,
    tolerances: &BTreeMap<String, f64>,
) -> Result<Comparison, CompareError> {
    for (side, v) in [(Side::Golden, baseline), (Side::Run, run)] {
        if !v.is_object() {
            return Err(CompareError::NotAnObject {
                side,
                got: describe(v),
            });
        }
    }
    // The golden file's own soundness first: a damaged golden is the error to report.
    let base = metric_values(Side::Golden, baseline)?;
    if base.is_empty() {
        return Err(CompareError::NoMetrics);
    }
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
    let protocol = baseline
        .get("protocol")
        .and_then(Value::as_str)
        .unwrap_or("");
    if let Some(m) = required_metrics(protocol)
        .iter()
        .find(|m| !base.contains_key(**m))
    {
        return Err(CompareError::MissingMetric {
            metric: (*m).to_owned(),
            protocol: protocol.to_owned(),
        });
    }
    let got = metric_values(Side::Run, run)?;
    if let Some(unknown) = tolerances.keys().find(|k| !base.contains_key(*k)) {
        return Err(CompareError::UnknownMetric(unknown.clone()));
    }
    let mut rows = Vec::new();
    for (metric, &b) in &base {
        let tolerance = tolerances.get(metric).copied().unwrap_or(DEFAULT_TOLERANCE);
        let r = match got.get(metric) {
            Some(&r) => r,
            None => {
                return Err(CompareError::RunLacksMetric {
                    metric: metric.clone(),
                    golden: b.map_or_else(|| "null".to_owned(), |x| x.to_string()),
                })
            }
        };
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
    let only_in_run = got
        .keys()
        .filter(|k| !base.contains_key(*k))
        .cloned()
        .collect();
    Ok(Comparison { rows, only_in_run })
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

    /// A complete replay summary (every required metric), as `flexsim run` writes one.
    fn golden() -> Value {
        let mut g = json!({"protocol": "replay", "trace": "t", "fleet": "f", "policy": "p",
               "seed": 42, "tune": null, "util_busy_pct": 40.0, "wait_p99_s": 10.0,
               "jobs_total": 100, "slo_attainment_pct": null,
               "per_device_model": {"G2": {"util_alloc_pct": 50.0, "slicing": "flexai",
                                           "profile": null, "from_profile": []}},
               "demand": "default", "wall_ms": 5, "flexsim_version": "0.1.0"});
        for m in required_metrics("replay") {
            if g.get(*m).is_none() {
                g[*m] = json!(1.0);
            }
        }
        g
    }

    fn err(baseline: &Value, run: &Value) -> CompareError {
        compare(baseline, run, &BTreeMap::new()).unwrap_err()
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

    #[test]
    fn regress_refuses_golden_with_no_metrics() {
        let bare = json!({"protocol": "replay", "trace": "t", "fleet": "f", "policy": "p",
                          "seed": 42, "tune": null, "wall_ms": 5, "flexsim_version": "0.1.0"});
        assert_eq!(err(&bare, &golden()), CompareError::NoMetrics);
        assert_eq!(err(&json!({}), &golden()), CompareError::NoMetrics);
        let e = err(&json!([1, 2]), &golden());
        assert_eq!(
            e,
            CompareError::NotAnObject {
                side: Side::Golden,
                got: "array [1,2]".into()
            }
        );
        assert_eq!(
            e.to_string(),
            "expected a JSON object of metrics, got array [1,2]"
        );
        assert!(matches!(
            err(&golden(), &json!("x")),
            CompareError::NotAnObject {
                side: Side::Run,
                ..
            }
        ));
    }

    #[test]
    fn regress_refuses_golden_with_missing_metric() {
        let mut g = golden();
        g.as_object_mut().unwrap().remove("util_busy_pct");
        let e = err(&g, &golden());
        assert_eq!(
            e,
            CompareError::MissingMetric {
                metric: "util_busy_pct".into(),
                protocol: "replay".into()
            }
        );
        assert_eq!(e.side(), Some(Side::Golden));
        assert_eq!(
            e.to_string(),
            "missing metric util_busy_pct: every replay summary has it"
        );
        // A nullable headline metric must be there too, as null.
        let mut g = golden();
        g.as_object_mut().unwrap().remove("slo_attainment_pct");
        assert!(
            matches!(err(&g, &golden()), CompareError::MissingMetric { metric, .. } if metric == "slo_attainment_pct")
        );
    }

    #[test]
    fn regress_refuses_golden_with_wrong_metric_type() {
        let cases = [
            (
                "util_busy_pct",
                json!("40.0"),
                "a number",
                "string \"40.0\"",
            ),
            ("jobs_total", json!(true), "a number", "boolean true"),
            ("jobs_total", json!(null), "a number", "null"),
            (
                "wait_p99_s",
                json!("10"),
                "a number or null",
                "string \"10\"",
            ),
            ("util_goodput_pct", json!([1.0]), "a number", "array [1.0]"),
        ];
        for (metric, value, expected, got) in cases {
            let mut g = golden();
            g[metric] = value.clone();
            let e = err(&g, &golden());
            assert_eq!(
                e,
                CompareError::WrongType {
                    side: Side::Golden,
                    metric: metric.into(),
                    expected,
                    got: got.into()
                },
                "{metric} = {value}"
            );
            assert_eq!(
                e.to_string(),
                format!("metric {metric}: expected {expected}, got {got}")
            );
        }
        // Nested metrics are checked too; text fields are not metrics.
        let mut g = golden();
        g["per_device_model"]["G2"]["util_alloc_pct"] = json!("50");
        assert!(
            matches!(err(&g, &golden()), CompareError::WrongType { metric, .. } if metric == "per_device_model.G2.util_alloc_pct")
        );
        // The same check holds for the run's summary.
        let mut run = golden();
        run["util_busy_pct"] = json!("40.0");
        assert!(matches!(
            err(&golden(), &run),
            CompareError::WrongType {
                side: Side::Run,
                ..
            }
        ));
        // null where the metric may be null is a value, not damage.
        let mut g = golden();
        g["wait_p99_s"] = json!(null);
        let rows = compare(&g, &g, &BTreeMap::new()).unwrap();
        assert!(!has_regression(&rows));
    }

    #[test]
    fn regress_refuses_run_that_lacks_a_golden_metric() {
        let mut run = golden();
        run.as_object_mut().unwrap().remove("jobs_total");
        let e = err(&golden(), &run);
        assert_eq!(
            e,
            CompareError::RunLacksMetric {
                metric: "jobs_total".into(),
                golden: "100".into()
            }
        );
        assert_eq!(e.side(), Some(Side::Run));
        assert_eq!(
            e.to_string(),
            "missing metric jobs_total: the golden has it (value 100), the run does not"
        );
        let mut run = golden();
        run["per_device_model"]["G2"]
            .as_object_mut()
            .unwrap()
            .remove("util_alloc_pct");
        assert!(
            matches!(err(&golden(), &run), CompareError::RunLacksMetric { metric, .. } if metric == "per_device_model.G2.util_alloc_pct")
        );
    }

    #[test]
    fn regress_lists_metrics_only_in_the_run_without_failing() {
        let mut run = golden();
        run["new_metric"] = json!(3.0);
        run["per_device_model"]["G2"]["util_busy_pct"] = json!(1.0);
        let c = compare_all(&golden(), &run, &BTreeMap::new()).unwrap();
        assert!(!has_regression(&c.rows));
        assert_eq!(
            c.only_in_run,
            vec!["new_metric", "per_device_model.G2.util_busy_pct"]
        );
        assert!(compare_all(&golden(), &golden(), &BTreeMap::new())
            .unwrap()
            .only_in_run
            .is_empty());
    }

    #[test]
    fn summaries_flexsim_writes_fit_the_schema() {
        // An inflation summary whose curve never reached 100 %: its optional figures are null.
        let outcome = crate::engine::inflation::InflationOutcome {
            samples: Vec::new(),
            pods_arrived: 0,
            pods_failed: 0,
            gpu_capacity_milli: 1000,
            placed_request_milli: 0,
            slicing: Default::default(),
            unplaceable_by_reason: Default::default(),
        };
        let s = crate::output::report::InflationSummary::new(
            "t",
            "f",
            "p",
            crate::engine::inflation::InflationConfig::default(),
            &outcome,
            &[],
            1,
        );
        let mut s = s;
        s.policy_params
            .insert("node".to_owned(), "spread".to_owned());
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["policy_params"]["node"], "spread");
        // Every null it writes is an allowed null, every required metric is there, and the
        // policy's parameters are not taken for metrics.
        let c = compare_all(&v, &v, &BTreeMap::new()).unwrap();
        assert!(!has_regression(&c.rows));
        assert!(c.only_in_run.is_empty());
        let metrics: Vec<&str> = c.rows.iter().map(|r| r.metric.as_str()).collect();
        for m in required_metrics("inflation") {
            assert!(metrics.contains(m), "{m}");
        }
    }
}
