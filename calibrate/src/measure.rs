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
    // Idle board power first, before any copy runs (calibration.md §4.4).
    let mut idle_power = Vec::new();
    for _ in 0..IDLE_POWER_SAMPLES {
        match sampler.power_w() {
            Some(w) => idle_power.push(w),
            None => break,
        }
        std::thread::sleep(std::time::Duration::from_millis(IDLE_POWER_GAP_MS));
    }
    let mut runs: Vec<RunOutcome> = Vec::with_capacity(copy_counts.len());
    for &k in copy_counts {
        let pb = workload::progress_for(k, spec.time_limit_seconds);
        let run = workload::run_copies(spec, k, sampler, &pb);
        pb.finish_and_clear();
        runs.push(run?);
    }
    let mut m = derive_from_runs(
        &runs,
        spec.time_limit_seconds.is_some(),
        sampler.source(),
        notes,
    )?;
    fill_power(&mut m.measured, &idle_power, &runs, notes);
    Ok(m)
}

/// Idle readings taken before the runs, and their spacing: the driver averages
/// `power_usage` over about a second, so five readings 0.4 s apart span two windows.
const IDLE_POWER_SAMPLES: usize = 5;
const IDLE_POWER_GAP_MS: u64 = 400;

/// Fills `power_idle_w` / `power_full_w` from the idle readings and each run's mean busy share
/// and mean power ([`derive::board_power`]); a backend without power readings leaves them
/// `None` (the catalog's figures stay), and one whose readings give no fit says why in the notes.
pub fn fill_power(m: &mut Measured, idle: &[f64], runs: &[RunOutcome], notes: &mut Vec<String>) {
    if idle.is_empty() && runs.iter().all(|r| r.power_samples.is_empty()) {
        notes.push(
            "no board power reading from this backend: the catalog's power figures stay".into(),
        );
        return;
    }
    let points: Vec<(f64, f64)> = runs
        .iter()
        .filter_map(|r| {
            Some((
                derive::mean(&r.util_samples)?,
                derive::mean(&r.power_samples)?,
            ))
        })
        .collect();
    match derive::board_power(idle, &points) {
        Ok((idle_w, full_w)) => {
            m.power_idle_w = Some(idle_w);
            m.power_full_w = Some(full_w);
        }
        Err(why) => notes.push(format!(
            "board power not derived ({why}): the catalog's power figures stay"
        )),
    }
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
        .filter(|r| r.copies == 1 && r.outcomes.len() == 1)
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
            if !(rel.is_finite() && rel > 0.0 && rel <= derive::MAX_SPEED_REL) {
                return Err(CalibrateError::Implausible(format!(
                    "speed_rel({k}) = {rel:.4}: each of {k} co-located cop{ies} ran at {rel:.3}x the solo run's throughput (solo {solo}, copies {}, in the workload's units per second); above {} that is not sharing a device but a disturbed solo run or throughput lines in different units",
                    list(&per_copy),
                    derive::MAX_SPEED_REL,
                    k = run.copies,
                    ies = if run.copies == 1 { "y" } else { "ies" },
                )));
            }
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
                    let measured = || {
                        format!(
                            "from solo throughput {solo}, {k} copies totalling {total} ({}) and demand u = {u_for_fit:.3}",
                            list(&per_copy),
                            k = run.copies
                        )
                    };
                    if !(o.is_finite() && o >= -derive::NOISE_BELOW_ZERO) {
                        return Err(CalibrateError::Implausible(format!(
                            "o_ts({}) = {o:.4} {}: below -{}, the copies together delivered more than the solo run and the busy share allow (at most {:.3}x solo); the utilisation counter may overstate demand, or the solo run was disturbed",
                            run.copies,
                            measured(),
                            derive::NOISE_BELOW_ZERO,
                            1.0 / u_for_fit
                        )));
                    }
                    if o >= derive::MAX_TIMESLICE_OVERHEAD {
                        return Err(CalibrateError::Implausible(format!(
                            "o_ts({}) = {o:.4} {}: an overhead of {} or more leaves no capacity",
                            run.copies,
                            measured(),
                            derive::MAX_TIMESLICE_OVERHEAD
                        )));
                    }
                    let clamped = o.max(0.0);
                    if clamped != o {
                        notes.push(format!(
                            "o_ts({}) fitted as {o:.4} (within -{} of 0: noise), clamped to {clamped}",
                            run.copies,
                            derive::NOISE_BELOW_ZERO
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
    let interference = match derive::fit_interference(u_for_fit, &points) {
        None => None,
        Some(i) => {
            let measured = || {
                let speeds: Vec<String> = points
                    .iter()
                    .filter(|(k, _)| *k >= 2)
                    .map(|(k, rel)| format!("k={k}: {rel:.4}"))
                    .collect();
                format!(
                    "fitted from demand u = {u_for_fit:.3} and per-copy speeds relative to solo {}",
                    speeds.join(", ")
                )
            };
            if !(i.is_finite() && i >= -derive::NOISE_BELOW_ZERO) {
                return Err(CalibrateError::Implausible(format!(
                    "ι = {i:.4} {}: below -{}, the copies ran faster together than the spatial model allows at any interference; the utilisation counter may overstate demand, or the solo run was disturbed",
                    measured(),
                    derive::NOISE_BELOW_ZERO
                )));
            }
            if i >= derive::MAX_INTERFERENCE {
                return Err(CalibrateError::Implausible(format!(
                    "ι = {i:.4} {}: at {} or more a copy whose co-tenants hold the rest of the device would stop",
                    measured(),
                    derive::MAX_INTERFERENCE
                )));
            }
            let clamped = i.max(0.0);
            if clamped != i {
                notes.push(format!(
                    "ι fitted as {i:.4} (within -{} of 0: noise), clamped to {clamped}",
                    derive::NOISE_BELOW_ZERO
                ));
            }
            Some(clamped)
        }
    };
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
            // Filled by `measure` from the backend's power readings (`fill_power`).
            power_idle_w: None,
            power_full_w: None,
        },
        throughput_source: source,
        utilization_source,
    })
}

/// Measured numbers for a message: `60, 60`.
fn list(values: &[f64]) -> String {
    let shown: Vec<String> = values.iter().map(f64::to_string).collect();
    shown.join(", ")
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
            power_samples: Vec::new(),
        }
    }

    #[test]
    fn power_readings_fill_the_profile_and_their_absence_is_said() {
        let mut a = run(1, 10.0, 0.5);
        a.power_samples = vec![229.0, 231.0];
        let mut b = run(2, 5.0, 1.0);
        b.power_samples = vec![400.0];
        let mut m = Measured::default();
        let mut notes = Vec::new();
        fill_power(&mut m, &[60.0, 60.0, 60.0], &[a, b], &mut notes);
        assert_eq!((m.power_idle_w, m.power_full_w), (Some(60.0), Some(400.0)));
        assert!(notes.is_empty(), "{notes:?}");
        let mut m = Measured::default();
        fill_power(&mut m, &[], &[run(1, 10.0, 0.5)], &mut notes);
        assert_eq!((m.power_idle_w, m.power_full_w), (None, None));
        assert!(notes[0].contains("no board power reading"), "{notes:?}");
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

    fn runs_with(solo: f64, u: f64, copies: &[(u32, f64)]) -> Vec<RunOutcome> {
        let mut runs = vec![run(1, solo, u)];
        runs.extend(copies.iter().map(|&(k, thr)| run(k, thr, 1.0)));
        runs
    }

    fn implausible(runs: &[RunOutcome]) -> String {
        match derive_from_runs(runs, false, "test".into(), &mut Vec::new()) {
            Err(CalibrateError::Implausible(m)) => m,
            Err(e) => panic!("expected Implausible, got {e}"),
            Ok(_) => panic!("expected Implausible, got a profile"),
        }
    }

    #[test]
    fn implausible_fits_are_refused_with_the_measured_numbers() {
        // Each of two copies three times as fast as alone: not sharing.
        let m = implausible(&runs_with(10.0, 1.0, &[(2, 30.0)]));
        assert!(
            m.starts_with("speed_rel(2) = 3.0000: each of 2 co-located copies ran at 3.000x the solo run's throughput (solo 10, copies 30, 30,"),
            "{m}"
        );
        // Two copies deliver 160 % of a compute-bound solo run: overhead −0.6.
        let m = implausible(&runs_with(100.0, 1.0, &[(2, 80.0)]));
        assert!(
            m.starts_with("o_ts(2) = -0.6000 from solo throughput 100, 2 copies totalling 160 (80, 80) and demand u = 1.000: below -0.05"),
            "{m}"
        );
        // Two copies at 20 % of solo each: ι = 1.2 would stop tenants.
        let m = implausible(&runs_with(100.0, 1.0, &[(2, 20.0)]));
        assert!(
            m.starts_with("ι = 1.2000 fitted from demand u = 1.000 and per-copy speeds relative to solo k=2: 0.2000: at 1 or more"),
            "{m}"
        );
        // A light workload (u = 0.25) whose copies each ran 1.5x solo: ι = −2.
        let m = implausible(&runs_with(100.0, 0.25, &[(2, 150.0)]));
        assert!(
            m.starts_with("ι = -2.0000 fitted from demand u = 0.250"),
            "{m}"
        );
    }

    #[test]
    fn noise_just_below_zero_is_clamped_with_a_note() {
        // 2 % more than solo in total: o = −0.02, ι = −0.04, both noise.
        let mut notes = Vec::new();
        let m = derive_from_runs(
            &runs_with(100.0, 1.0, &[(2, 51.0)]),
            false,
            "t".into(),
            &mut notes,
        )
        .unwrap();
        assert_eq!(m.measured.timeslice_overhead.unwrap()[0].value, 0.0);
        assert_eq!(m.measured.interference, Some(0.0));
        assert!(
            notes
                .iter()
                .any(|n| n.starts_with("o_ts(2) fitted as -0.0200")),
            "{notes:?}"
        );
        assert!(
            notes.iter().any(|n| n.starts_with("ι fitted as -0.0400")),
            "{notes:?}"
        );
    }

    fn spec(cmd: &str) -> WorkloadSpec {
        WorkloadSpec {
            command: cmd.into(),
            visible_devices_var: "CUDA_VISIBLE_DEVICES",
            device: 0,
            time_limit_seconds: None,
        }
    }

    fn measure_cmd(cmd: &str) -> Result<Measurement, CalibrateError> {
        measure(
            &spec(cmd),
            &[1, 2],
            &mut crate::sampler::NoSampler,
            &mut Vec::new(),
        )
    }

    #[test]
    fn bad_workloads_are_errors_never_a_profile() {
        let cases = [
            (
                "echo FLEXSIM_THROUGHPUT=abc",
                "printed `FLEXSIM_THROUGHPUT=abc`",
            ),
            (
                "echo FLEXSIM_THROUGHPUT=NaN",
                "printed `FLEXSIM_THROUGHPUT=NaN`",
            ),
            (
                "echo FLEXSIM_THROUGHPUT=inf",
                "printed `FLEXSIM_THROUGHPUT=inf`",
            ),
            (
                "echo FLEXSIM_THROUGHPUT=0",
                "printed `FLEXSIM_THROUGHPUT=0`",
            ),
            ("false", "exited with exit status: 1"),
            (
                "true",
                "printed no `FLEXSIM_THROUGHPUT=<number>` line and finished in",
            ),
            // Copies report more the more of them run: 40 each at k = 2 against 10 alone.
            (
                "echo FLEXSIM_THROUGHPUT=$((10 * FLEXSIM_COPIES * FLEXSIM_COPIES))",
                "speed_rel(2) = 4.0000",
            ),
        ];
        for (cmd, says) in cases {
            let e = measure_cmd(cmd)
                .err()
                .unwrap_or_else(|| panic!("{cmd}: a profile"));
            assert_eq!(crate::exit_code(&e), 4, "{cmd}: {e}");
            assert!(e.to_string().contains(says), "{cmd}: {e}");
        }
        // The same machinery accepts a workload that follows the convention.
        let m = measure_cmd("echo FLEXSIM_THROUGHPUT=$((120 / FLEXSIM_COPIES))").unwrap();
        assert_eq!(m.measured.solo_throughput, Some(120.0));
        assert_eq!(m.measured.speed_rel.unwrap()[1].value, 0.5);
    }
}
