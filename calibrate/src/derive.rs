//! Pure derivations from measured numbers to the model parameters of slicing-model.md §7.2,
//! following the measurement recipes of §7.4. No I/O here, so every formula is unit-tested on
//! hand-made numbers.
//!
//! Model recap (§7.2): k identical tenants of solo demand `u` share one device. With
//! time-slicing the capacity is `1 − o_ts(k)`, each tenant gets `x = min(u, (1 − o)/k)` and runs
//! at `min(1, x/u)` of its solo speed. With spatial sharing `o = 0`, `x = min(u, 1/k)`, and each
//! tenant runs at `min(1, x/u) · (1 − ι · Σ_{j≠i} x_j)`.

/// Tolerance when deciding whether k copies saturate the device.
const SATURATION_EPS: f64 = 1e-9;

/// Largest plausible speed of one co-located copy relative to the solo run. A copy that shares
/// the device can at best run as fast as it ran alone (1.0, when the device had room for all
/// copies); up to 2.0 is let through as noise between runs (a solo run slowed by warm-up or a
/// neighbour, clock boost). Beyond it the solo run or the units of the printed throughput are
/// wrong, and so would be every number relative to it.
pub const MAX_SPEED_REL: f64 = 2.0;

/// How far below 0 a fitted time-slice overhead or interference coefficient may fall and still
/// be read as 0 (clamped, with a note): noise of a few percent of throughput between runs.
/// Further below, the co-located copies together delivered more than the solo run and the busy
/// share say the device can — the counter overstates demand, or the solo run was disturbed —
/// and no value of the parameter describes that.
pub const NOISE_BELOW_ZERO: f64 = 0.05;

/// Time-slice overhead `o_ts(k)` must stay below 1: the time-sliced capacity is `1 − o_ts(k)`,
/// and at 1 the copies would make no progress at all.
pub const MAX_TIMESLICE_OVERHEAD: f64 = 1.0;

/// The interference coefficient ι must stay below 1: a copy runs at `1 − ι · Σ x_j` of its
/// speed, so at ι ≥ 1 a copy whose co-tenants hold the rest of the device would stop, and
/// the simulated jobs would never finish.
pub const MAX_INTERFERENCE: f64 = 1.0;

/// The most board power a reading may give, W: above every shipped accelerator's TDP (H200
/// SXM 700 W, 910B 400 W) with room, so a misread unit (mW as W) is refused, not recorded.
pub const MAX_BOARD_POWER_W: f64 = 2000.0;

/// Idle and full-load board power (W) from an idle reading and runs at measured busy shares,
/// for the linear power model `P(u) = idle + u · (full − idle)` (`flexsim_sim::model::power`):
/// `idle` is the median of the idle samples; `full − idle` the least-squares slope through the
/// origin of `P − idle` against `u` over the runs `(mean busy share, mean power)` that were busy
/// at all (u ≥ 0.05, below which the slope is noise). The reason when it cannot be had.
pub fn board_power(idle_samples: &[f64], runs: &[(f64, f64)]) -> Result<(f64, f64), String> {
    let mut idle: Vec<f64> = idle_samples
        .iter()
        .copied()
        .filter(|w| w.is_finite() && *w >= 0.0)
        .collect();
    if idle.is_empty() {
        return Err("no idle power reading".into());
    }
    idle.sort_by(f64::total_cmp);
    let mid = idle.len() / 2;
    let idle = if idle.len() % 2 == 1 {
        idle[mid]
    } else {
        (idle[mid - 1] + idle[mid]) / 2.0
    };
    let busy: Vec<(f64, f64)> = runs
        .iter()
        .copied()
        .filter(|(u, p)| u.is_finite() && p.is_finite() && *u >= 0.05)
        .collect();
    if busy.is_empty() {
        return Err("no run kept the device at least 5 % busy".into());
    }
    let (num, den) = busy
        .iter()
        .fold((0.0, 0.0), |(n, d), (u, p)| (n + u * (p - idle), d + u * u));
    let full = idle + num / den;
    if !(full.is_finite() && full >= idle && full <= MAX_BOARD_POWER_W) {
        return Err(format!(
            "full-load power {full:.1} W from idle {idle:.1} W is implausible (expected \
             idle..{MAX_BOARD_POWER_W} W)"
        ));
    }
    Ok((idle, full))
}

/// True for a finite number above zero (false for NaN), the guard before dividing by a measurement.
pub fn is_positive(x: f64) -> bool {
    x.is_finite() && x > 0.0
}

/// Arithmetic mean; `None` for no samples.
pub fn mean(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        None
    } else {
        Some(values.iter().sum::<f64>() / values.len() as f64)
    }
}

/// Throughput per copy relative to solo: mean(per-copy throughput) / solo throughput.
pub fn speed_rel(solo_throughput: f64, per_copy_throughput: &[f64]) -> Option<f64> {
    if !is_positive(solo_throughput) {
        return None;
    }
    mean(per_copy_throughput).map(|m| m / solo_throughput)
}

/// Time-slice overhead `o_ts(k)` from k copies' total throughput.
///
/// §7.4 gives `o = 1 − Σ throughput_k / solo throughput` for compute-bound probes (`u = 1`).
/// For a workload of demand `u`, the model saturates only when `k·u ≥ 1`; there
/// `Σ rate / S = (1 − o)/u`, so `o = 1 − u · Σ throughput_k / solo`, which is §7.4's formula
/// at `u = 1`. Below saturation the overhead does not show in throughput and is not
/// identifiable: `None`.
pub fn timeslice_overhead(
    demand: f64,
    copies: u32,
    solo_throughput: f64,
    total_throughput: f64,
) -> Option<f64> {
    if copies < 2 || !is_positive(solo_throughput) || !is_positive(demand) {
        return None;
    }
    if (copies as f64) * demand < 1.0 - SATURATION_EPS {
        return None;
    }
    Some(1.0 - demand * total_throughput / solo_throughput)
}

/// Share each of k spatially-sharing copies of demand `u` is granted: `min(u, 1/k)` (§7.2 step 2
/// with `o = 0`, equal weights).
pub fn spatial_share(demand: f64, copies: u32) -> f64 {
    demand.min(1.0 / copies.max(1) as f64)
}

/// Least-squares fit of the spatial interference coefficient ι over runs with k ≥ 2 copies.
///
/// Each point is `(k, speed_rel_k)`. With `x = min(u, 1/k)`, `c = min(1, x/u)` and
/// `z = (k − 1)·x`, the model says `speed_rel = c·(1 − ι·z)`, i.e. `y = 1 − speed_rel/c = ι·z`;
/// the fit through the origin is `ι = Σ y·z / Σ z²`. `None` when no point has k ≥ 2.
/// The value is not clamped; callers decide what to do with a negative fit.
pub fn fit_interference(demand: f64, points: &[(u32, f64)]) -> Option<f64> {
    if !is_positive(demand) {
        return None;
    }
    let (mut yz, mut zz) = (0.0, 0.0);
    for &(k, rel) in points.iter().filter(|(k, _)| *k >= 2) {
        let x = spatial_share(demand, k);
        let c = (x / demand).min(1.0);
        let z = (k - 1) as f64 * x;
        let y = 1.0 - rel / c;
        yz += y * z;
        zz += z * z;
    }
    if zz > 0.0 {
        Some(yz / zz)
    } else {
        None
    }
}

/// Converts a utilisation percentage to a 0..=1 fraction, clamping counters that overshoot.
pub fn percent_to_fraction(percent: f64) -> f64 {
    (percent / 100.0).clamp(0.0, 1.0)
}

/// SMs from NVML's CUDA core count and the compute capability, using the cores-per-SM table
/// of the CUDA samples (`_ConvertSMVer2Cores`); `None` for architectures not in the table,
/// so an unknown chip never gets an invented number.
pub fn sm_count_from_cores(cuda_cores: u32, cc_major: i32, cc_minor: i32) -> Option<u32> {
    let per_sm = match (cc_major, cc_minor) {
        (3, _) => 192,
        (5, _) => 128,
        (6, 0) => 64,
        (6, 1) | (6, 2) => 128,
        (7, 0) | (7, 2) | (7, 5) => 64,
        (8, 0) => 64,
        (8, 6) | (8, 7) | (8, 9) => 128,
        (9, 0) => 128,
        _ => return None,
    };
    if cuda_cores == 0 || !cuda_cores.is_multiple_of(per_sm) {
        return None;
    }
    Some(cuda_cores / per_sm)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn mean_and_speed_rel() {
        assert_eq!(mean(&[]), None);
        assert!(close(mean(&[0.8, 0.9, 1.0]).unwrap(), 0.9));
        assert!(close(speed_rel(100.0, &[48.0, 52.0]).unwrap(), 0.5));
        assert_eq!(speed_rel(0.0, &[1.0]), None);
        assert_eq!(speed_rel(10.0, &[]), None);
    }

    #[test]
    fn overhead_is_spec_formula_for_compute_bound_probes() {
        // §7.4: two compute-bound copies reach 94 % of solo in total ⇒ 6 % overhead.
        assert!(close(
            timeslice_overhead(1.0, 2, 100.0, 94.0).unwrap(),
            0.06
        ));
        // Four copies at 22 each: 1 − 88/100.
        assert!(close(
            timeslice_overhead(1.0, 4, 100.0, 88.0).unwrap(),
            0.12
        ));
    }

    #[test]
    fn overhead_accounts_for_demand_and_saturation() {
        // u = 0.9, two copies deliver exactly solo throughput in total: the ideal would have been
        // 1/0.9 of solo, so 10 % of capacity was lost.
        assert!(close(
            timeslice_overhead(0.9, 2, 120.0, 120.0).unwrap(),
            0.1
        ));
        // u = 0.3, two copies: 0.6 < 1, the device is not saturated ⇒ not identifiable.
        assert_eq!(timeslice_overhead(0.3, 2, 10.0, 20.0), None);
        // Solo has no overhead to measure.
        assert_eq!(timeslice_overhead(1.0, 1, 10.0, 10.0), None);
    }

    #[test]
    fn interference_fit_recovers_a_known_coefficient() {
        // Build points from the model with ι = 0.2, u = 0.9.
        let (u, iota) = (0.9, 0.2);
        let points: Vec<(u32, f64)> = [2u32, 3, 4]
            .iter()
            .map(|&k| {
                let x = spatial_share(u, k);
                let c = (x / u).min(1.0);
                (k, c * (1.0 - iota * (k - 1) as f64 * x))
            })
            .collect();
        let mut with_solo = vec![(1, 1.0)];
        with_solo.extend(points);
        assert!(close(fit_interference(u, &with_solo).unwrap(), iota));
    }

    #[test]
    fn interference_by_hand() {
        // u = 0.9, k = 2: x = 0.5, c = 5/9, z = 0.5; speed_rel 0.5 ⇒ y = 0.1 ⇒ ι = 0.2.
        assert!(close(fit_interference(0.9, &[(2, 0.5)]).unwrap(), 0.2));
        // Small demand, no slowdown at all ⇒ ι = 0.
        assert!(close(
            fit_interference(0.25, &[(2, 1.0), (4, 1.0)]).unwrap(),
            0.0
        ));
        assert_eq!(fit_interference(0.9, &[(1, 1.0)]), None);
        assert_eq!(fit_interference(0.0, &[(2, 0.5)]), None);
    }

    #[test]
    fn sm_counts_from_cores() {
        assert_eq!(sm_count_from_cores(6912, 8, 0), Some(108)); // A100
        assert_eq!(sm_count_from_cores(16896, 9, 0), Some(132)); // H100 SXM
        assert_eq!(sm_count_from_cores(5120, 7, 0), Some(80)); // V100
        assert_eq!(sm_count_from_cores(2560, 7, 5), Some(40)); // T4
        assert_eq!(sm_count_from_cores(1000, 12, 0), None);
        assert_eq!(sm_count_from_cores(100, 8, 0), None); // not a multiple
    }

    #[test]
    fn percent_clamps() {
        assert!(close(percent_to_fraction(42.0), 0.42));
        assert!(close(percent_to_fraction(104.0), 1.0));
        assert!(close(percent_to_fraction(-3.0), 0.0));
    }

    #[test]
    fn board_power_fits_the_linear_model_through_the_idle_reading() {
        // Worked example: idle 60 W; solo at u = 0.5 draws 230 W, two copies at u = 1.0 draw
        // 400 W: slope (0.5·170 + 1·340) / (0.25 + 1) = 340 W, so full load is 400 W.
        let (idle, full) = board_power(&[61.0, 59.0, 60.0], &[(0.5, 230.0), (1.0, 400.0)]).unwrap();
        assert!(close(idle, 60.0) && close(full, 400.0), "{idle} {full}");
        // Even sample count: the median is the mean of the middle two.
        let (idle, _) = board_power(&[50.0, 70.0], &[(1.0, 300.0)]).unwrap();
        assert!(close(idle, 60.0));
        // An idle-only run carries no slope; a unit slip (mW read as W) is refused.
        assert!(board_power(&[60.0], &[(0.01, 61.0)]).is_err());
        assert!(board_power(&[], &[(1.0, 300.0)]).is_err());
        let e = board_power(&[60.0], &[(1.0, 300_000.0)]).unwrap_err();
        assert!(e.contains("implausible"), "{e}");
    }
}
