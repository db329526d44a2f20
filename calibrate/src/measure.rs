//! Turns workload runs into the `[measured]` section (slicing-model.md §7.4 rows `u`, `ι`,
//! `o_ts(k)`), using the pure formulas of [`crate::derive`].

use flexsim_sim::model::profile::{Measured, PerCopies};

use crate::derive;
use crate::error::CalibrateError;
use crate::sampler::UtilSampler;
use crate::workload::{self, RunOutcome, ThroughputSource, WorkloadSpec};

/// Result of measuring: the parameters plus provenance strings.
pub struct Measurement {
    pub measured: Measured,
    pub throughput_source: ThroughputSource,
    pub utilization_source: Option<String>,
}

/// Runs the solo and co-located copies (`copy_counts` starts with 1) and derives parameters.
pub fn measure(
    spec: &WorkloadSpec,
    copy_counts: &[u32],
    sampler: &mut dyn UtilSampler,
    notes: &mut Vec<String>,
) -> Result<Measurement, CalibrateError> {
    let mut runs: Vec<RunOutcome> = Vec::with_capacity(copy_counts.len());
    for &k in copy_counts {
        let pb = workload::progress_for(k, spec.time_limit_seconds);
        let run = workload::run_copies(spec, k, sampler, &pb);
        pb.finish_and_clear();
        runs.push(run?);
    }
    derive_from_runs(
        &runs,
        spec.time_limit_seconds.is_some(),
        sampler.source(),
        notes,
    )
}

/// Derivation from finished runs; `runs[0]` is the solo run. Separate from [`measure`] so it is
/// tested without processes.
pub fn derive_from_runs(
    runs: &[RunOutcome],
    time_limited: bool,
    sampler_source: String,
    notes: &mut Vec<String>,
) -> Result<Measurement, CalibrateError> {
    let solo_run = runs
        .first()
        .filter(|r| r.copies == 1)
        .ok_or_else(|| CalibrateError::Workload("no solo run".into()))?;
    let source = if time_limited || solo_run.outcomes[0].printed_throughput.is_some() {
        ThroughputSource::Printed
    } else {
        ThroughputSource::CompletionTime
    };
    let solo = workload::throughputs(solo_run, source)?[0];
    if !derive::is_positive(solo) {
        return Err(CalibrateError::Workload(
            "the solo run's throughput is 0; nothing can be relative to it".into(),
        ));
    }

    let demand = derive::mean(&solo_run.util_samples);
    let utilization_source = demand.is_some().then_some(sampler_source);
    let u_for_fit = match demand {
        Some(u) if u > 0.0 => u,
        Some(_) => {
            notes.push(
                "demand measured as 0 (the counter saw no activity); ι and o_ts computed assuming \
                 a compute-bound workload (u = 1)"
                    .into(),
            );
            1.0
        }
        None => {
            notes.push(
                "no utilisation counter answered: demand unknown; ι and o_ts computed assuming a \
                 compute-bound workload (u = 1), as slicing-model §7.4 does for probes"
                    .into(),
            );
            1.0
        }
    };

    let mut speed_rel = Vec::new();
    let mut busy_share = Vec::new();
    let mut overhead = Vec::new();
    for run in runs {
        let per_copy = workload::throughputs(run, source)?;
        let total: f64 = per_copy.iter().sum();
        if let Some(rel) = derive::speed_rel(solo, &per_copy) {
            speed_rel.push(PerCopies {
                copies: run.copies,
                value: rel,
            });
        }
        if let Some(b) = derive::mean(&run.util_samples) {
            busy_share.push(PerCopies {
                copies: run.copies,
                value: b,
            });
        }
        if run.copies >= 2 {
            match derive::timeslice_overhead(u_for_fit, run.copies, solo, total) {
                Some(o) => {
                    let clamped = o.clamp(0.0, 1.0);
                    if clamped != o {
                        notes.push(format!(
                            "o_ts({}) fitted as {o:.4}, clamped to {clamped}",
                            run.copies
                        ));
                    }
                    overhead.push(PerCopies {
                        copies: run.copies,
                        value: clamped,
                    });
                }
                None => notes.push(format!(
                    "o_ts({}) not identifiable: {} copies of demand {u_for_fit:.3} do not saturate the device",
                    run.copies, run.copies
                )),
            }
        }
    }
    let points: Vec<(u32, f64)> = speed_rel.iter().map(|p| (p.copies, p.value)).collect();
    let interference = derive::fit_interference(u_for_fit, &points).map(|i| {
        let clamped = i.clamp(0.0, 1.0);
        if clamped != i {
            notes.push(format!("ι fitted as {i:.4}, clamped to {clamped}"));
        }
        clamped
    });
    if runs.len() > 1 {
        notes.push(
            "co-located copies ran as separate processes: without MPS that is time-slicing, so \
             timeslice_overhead applies; interference is the ι the spatial model would need to \
             reproduce the same throughputs (meaningful when MPS or a soft vGPU was active)"
                .into(),
        );
    }
    let non_empty = |v: Vec<PerCopies>| (!v.is_empty()).then_some(v);
    Ok(Measurement {
        measured: Measured {
            demand,
            solo_throughput: Some(solo),
            speed_rel: non_empty(speed_rel),
            busy_share: non_empty(busy_share),
            interference,
            timeslice_overhead: non_empty(overhead),
        },
        throughput_source: source,
        utilization_source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::CopyOutcome;

    fn run(copies: u32, thr: f64, util: f64) -> RunOutcome {
        RunOutcome {
            copies,
            outcomes: (0..copies)
                .map(|_| CopyOutcome {
                    printed_throughput: Some(thr),
                    elapsed_seconds: 1.0,
                    stopped: false,
                })
                .collect(),
            util_samples: vec![util, util],
        }
    }

    #[test]
    fn derives_all_parameters_from_hand_made_runs() {
        let runs = [run(1, 120.0, 0.9), run(2, 60.0, 1.0), run(4, 27.0, 1.0)];
        let mut notes = Vec::new();
        let m = derive_from_runs(&runs, false, "test".into(), &mut notes).unwrap();
        let p = m.measured;
        assert_eq!(m.throughput_source, ThroughputSource::Printed);
        assert!((p.demand.unwrap() - 0.9).abs() < 1e-12);
        let rel = p.speed_rel.unwrap();
        assert_eq!(rel.len(), 3);
        assert!((rel[1].value - 0.5).abs() < 1e-12);
        assert!((rel[2].value - 0.225).abs() < 1e-12);
        let o = p.timeslice_overhead.unwrap();
        // k = 2: 1 − 0.9·120/120 = 0.1; k = 4: 1 − 0.9·108/120 = 0.19.
        assert!((o[0].value - 0.1).abs() < 1e-12);
        assert!((o[1].value - 0.19).abs() < 1e-12);
        assert!(p.interference.unwrap() > 0.0);
        assert_eq!(p.busy_share.unwrap()[1].value, 1.0);
    }

    #[test]
    fn no_counter_means_no_demand_and_a_note() {
        let mut runs = [run(1, 10.0, 0.0), run(2, 5.0, 0.0)];
        for r in &mut runs {
            r.util_samples.clear();
        }
        let mut notes = Vec::new();
        let m = derive_from_runs(&runs, false, "none".into(), &mut notes).unwrap();
        assert_eq!(m.measured.demand, None);
        assert_eq!(m.utilization_source, None);
        assert!(notes.iter().any(|n| n.contains("u = 1")));
        // Compute-bound assumption: 1 − 10/10 = 0.
        assert_eq!(m.measured.timeslice_overhead.unwrap()[0].value, 0.0);
    }
}
