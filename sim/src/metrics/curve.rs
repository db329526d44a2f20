//! The FGD paper's curves: per-event samples bucketed by arrived workload (fgd-protocol §2.4,
//! §2.8).

/// The cluster after one pod was processed (placed or failed).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Σ total GPU request of every pod processed so far, failed ones included.
    pub arrived_gpu_milli: u64,
    /// GPU milli allocated.
    pub used_gpu_milli: u64,
    /// Σ over nodes of F(n) (fgd-protocol §2.7.6), milli-GPU.
    pub frag_gpu_milli: f64,
    /// Total free GPU milli.
    pub idle_gpu_milli: u64,
}

/// One point of the curve at an integer arrived %.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CurvePoint {
    pub arrived_pct: u32,
    /// Mean GPU allocation ratio over the bucket, % of capacity, 2 decimals (Fig. 9a).
    pub alloc_pct: f64,
    /// Mean fragment amount over the bucket, % of capacity, 2 decimals (Fig. 7a).
    pub frag_pct: f64,
    /// Mean fragmentation ratio (frag / idle) over the bucket, %, 2 decimals (Fig. 7b).
    pub frag_ratio_pct: f64,
}

/// Highest x of the curve (the protocol tunes to 130%).
pub const MAX_ARRIVED_PCT: u32 = 130;

/// Python's `round(x, 2)` for the values here (half to even on the scaled value).
fn round2(x: f64) -> f64 {
    (x * 100.0).round_ties_even() / 100.0
}

/// Buckets `samples` (fgd-protocol §2.4): event a = round(arrived/capacity·100); for each
/// x in 0..=130 take the events with a = x, else those with x−1 ≤ a ≤ x+1, else skip x; y is
/// the mean over the chosen events. Allocation is rounded to 2 decimals per event first, as the
/// peer's log does; fragmentation is averaged unrounded (§2.8).
pub fn bucket(samples: &[Sample], capacity_gpu_milli: u64) -> Vec<CurvePoint> {
    let cap = capacity_gpu_milli as f64;
    let a: Vec<i64> = samples
        .iter()
        .map(|s| (s.arrived_gpu_milli as f64 / cap * 100.0).round_ties_even() as i64)
        .collect();
    let mut points = Vec::new();
    for x in 0..=MAX_ARRIVED_PCT {
        let xi = i64::from(x);
        let mut chosen: Vec<&Sample> = samples
            .iter()
            .zip(&a)
            .filter(|&(_, &ai)| ai == xi)
            .map(|(s, _)| s)
            .collect();
        if chosen.is_empty() {
            chosen = samples
                .iter()
                .zip(&a)
                .filter(|&(_, &ai)| (xi - 1..=xi + 1).contains(&ai))
                .map(|(s, _)| s)
                .collect();
        }
        if chosen.is_empty() {
            continue;
        }
        let n = chosen.len() as f64;
        let alloc = chosen
            .iter()
            .map(|s| round2(s.used_gpu_milli as f64 / cap * 100.0))
            .sum::<f64>()
            / n;
        let frag = chosen.iter().map(|s| s.frag_gpu_milli).sum::<f64>() / n;
        let ratio = chosen.iter().map(|s| frag_ratio_pct(s)).sum::<f64>() / n;
        points.push(CurvePoint {
            arrived_pct: x,
            alloc_pct: round2(alloc),
            frag_pct: round2(100.0 * frag / cap),
            frag_ratio_pct: round2(ratio),
        });
    }
    points
}

/// 100 · frag / idle for one event; 0 when nothing is idle.
pub fn frag_ratio_pct(s: &Sample) -> f64 {
    if s.idle_gpu_milli == 0 {
        0.0
    } else {
        100.0 * s.frag_gpu_milli / s.idle_gpu_milli as f64
    }
}

/// The point at `x`, if the curve has it.
pub fn at(points: &[CurvePoint], x: u32) -> Option<&CurvePoint> {
    points.iter().find(|p| p.arrived_pct == x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(arrived: u64, used: u64) -> Sample {
        Sample {
            arrived_gpu_milli: arrived,
            used_gpu_milli: used,
            frag_gpu_milli: 0.0,
            idle_gpu_milli: 1000 - used,
        }
    }

    #[test]
    fn buckets_average_events_with_window_fallback() {
        // capacity 1000: arrived 0, 0.4 → a = 0; 2.0 → a = 2; nothing at 1 → window 0..=2.
        let samples = [s(0, 0), s(4, 4), s(20, 10)];
        let c = bucket(&samples, 1000);
        assert_eq!(c.len(), 4); // x = 0, 1, 2, and 3 via the window around 2
        assert_eq!(c[0].arrived_pct, 0);
        assert_eq!(c[0].alloc_pct, 0.2); // mean of 0.0 and 0.4
        assert_eq!(c[1].arrived_pct, 1);
        assert_eq!(c[1].alloc_pct, round2((0.0 + 0.4 + 1.0) / 3.0));
        assert_eq!(c[2].alloc_pct, 1.0);
        assert_eq!(c[3].arrived_pct, 3);
        assert_eq!(c[3].alloc_pct, 1.0);
    }
}
