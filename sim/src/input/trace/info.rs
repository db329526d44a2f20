//! The shape of a trace, for `flexsim trace info`: how many jobs, how much GPU time, what sizes,
//! over what span, and how hard it would load a fleet — so a user sees at once whether a trace
//! will contend on a fleet before spending a replay on it.
//!
//! It lives with the readers because it describes what a reader produced (any format, through
//! [`super::read_any`]); the CLI only prints it. Accounting is in integers (milli-GPU × ms);
//! the ratios are floats, as everywhere else in reports.
//!
//! **Offered load** = GPU time the jobs ask for ÷ (fleet GPUs × arrival span), the span being
//! last arrival − first arrival. About 1 or more: the trace keeps every card of the fleet busy
//! on average and queues will grow; well below 1: it will hardly contend (bursts aside). Jobs
//! without work (the trace's pending pods) add nothing.

use crate::model::job::Workload;
use std::collections::BTreeMap;

/// One bar of the size histogram: how many GPUs a job asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Size {
    /// No GPU.
    CpuOnly,
    /// Part of one card (`gpu_milli` < 1000 on one GPU).
    Fractional,
    /// Whole GPUs, `lo..=hi` of them: 1, 2, 3–4, 5–8, 9–16, ... (powers of two).
    Gpus { lo: u32, hi: u32 },
}

impl Size {
    fn of(num_gpu: u32, gpu_milli: u32) -> Size {
        match num_gpu {
            0 => Size::CpuOnly,
            1 if gpu_milli < 1000 => Size::Fractional,
            n => {
                let hi = n.checked_next_power_of_two().unwrap_or(u32::MAX);
                let lo = if hi <= 2 { hi } else { hi / 2 + 1 };
                Size::Gpus { lo, hi }
            }
        }
    }

    /// "cpu-only", "<1 GPU", "1 GPU", "3-4 GPUs".
    pub fn label(self) -> String {
        match self {
            Size::CpuOnly => "cpu-only".to_owned(),
            Size::Fractional => "<1 GPU".to_owned(),
            Size::Gpus { lo: 1, .. } => "1 GPU".to_owned(),
            Size::Gpus { lo, hi } if lo == hi => format!("{lo} GPUs"),
            Size::Gpus { lo, hi } => format!("{lo}-{hi} GPUs"),
        }
    }
}

/// What `flexsim trace info` reports of a workload.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceShape {
    pub jobs: u64,
    /// Jobs with no work: replay skips them (and counts them).
    pub without_work: u64,
    /// Jobs per size, smallest first.
    pub sizes: BTreeMap<Size, u64>,
    /// Jobs with a multi-node shape stated by the trace (`Pod::gang`).
    pub gangs: u64,
    /// Σ GPU milli × work ms over the jobs with work.
    pub gpu_milli_ms: u128,
    /// First and last arrival, ms (`None` for an empty workload).
    pub arrivals_ms: Option<(u64, u64)>,
}

impl TraceShape {
    pub fn of(workload: &Workload) -> TraceShape {
        let mut shape = TraceShape {
            jobs: 0,
            without_work: 0,
            sizes: BTreeMap::new(),
            gangs: 0,
            gpu_milli_ms: 0,
            arrivals_ms: None,
        };
        for p in &workload.pods {
            shape.jobs += 1;
            *shape
                .sizes
                .entry(Size::of(p.num_gpu, p.gpu_milli))
                .or_default() += 1;
            shape.gangs += u64::from(p.gang.is_some());
            match p.work_ms {
                Some(w) => shape.gpu_milli_ms += u128::from(p.total_gpu_milli()) * u128::from(w),
                None => shape.without_work += 1,
            }
            let (lo, hi) = shape.arrivals_ms.unwrap_or((p.arrival_ms, p.arrival_ms));
            shape.arrivals_ms = Some((lo.min(p.arrival_ms), hi.max(p.arrival_ms)));
        }
        shape
    }

    /// GPU-hours the jobs ask for (on the trace's cards).
    pub fn gpu_hours(&self) -> f64 {
        self.gpu_milli_ms as f64 / 1000.0 / 3_600_000.0
    }

    /// Last arrival − first arrival, ms.
    pub fn span_ms(&self) -> u64 {
        self.arrivals_ms.map_or(0, |(lo, hi)| hi - lo)
    }

    /// Of the jobs that ask for a GPU, the share that ask for part of one card.
    pub fn fractional_share(&self) -> f64 {
        let gpu_jobs = self.jobs - self.sizes.get(&Size::CpuOnly).copied().unwrap_or(0);
        let fractional = self.sizes.get(&Size::Fractional).copied().unwrap_or(0);
        if gpu_jobs == 0 {
            0.0
        } else {
            fractional as f64 / gpu_jobs as f64
        }
    }

    /// The module doc's offered load on a fleet of `fleet_gpus` cards; `None` when the fleet
    /// has no GPU or all jobs arrive at once (no span to spread them over).
    pub fn offered_load(&self, fleet_gpus: u64) -> Option<f64> {
        let span = self.span_ms();
        (fleet_gpus > 0 && span > 0)
            .then(|| self.gpu_milli_ms as f64 / 1000.0 / (fleet_gpus as f64 * span as f64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::job::{GangShape, Pod};

    #[test]
    fn shape_of_a_small_workload() {
        let job = |name, num_gpu, milli, arrival_ms, work_ms| {
            let mut p = Pod::new(name, 1000, 1024, num_gpu, milli);
            p.arrival_ms = arrival_ms;
            p.work_ms = work_ms;
            p
        };
        let mut gang = job("g", 16, 1000, 3_600_000, Some(3_600_000));
        gang.gang = Some(GangShape {
            num_nodes: 2,
            gpus_per_node: 8,
        });
        let w = Workload {
            name: "t".into(),
            pods: vec![
                job("cpu", 0, 0, 0, Some(1_000)),
                job("half", 1, 500, 600_000, Some(7_200_000)),
                job("one", 1, 1000, 1_200_000, None),
                job("three", 3, 1000, 1_800_000, Some(1_200_000)),
                gang,
            ],
        };
        let s = TraceShape::of(&w);
        assert_eq!((s.jobs, s.without_work, s.gangs), (5, 1, 1));
        let sizes: Vec<_> = s.sizes.iter().map(|(k, n)| (k.label(), *n)).collect();
        assert_eq!(
            sizes,
            [
                ("cpu-only".to_owned(), 1),
                ("<1 GPU".to_owned(), 1),
                ("1 GPU".to_owned(), 1),
                ("3-4 GPUs".to_owned(), 1),
                ("9-16 GPUs".to_owned(), 1),
            ]
        );
        // 0.5 × 2 h + 3 × 1/3 h + 16 × 1 h = 18 GPU-hours.
        assert!((s.gpu_hours() - 18.0).abs() < 1e-9, "{}", s.gpu_hours());
        assert_eq!(s.span_ms(), 3_600_000);
        assert!((s.fractional_share() - 0.25).abs() < 1e-12);
        // 18 GPU-hours over 1 h on 36 GPUs: half loaded.
        assert!((s.offered_load(36).unwrap() - 0.5).abs() < 1e-12);
        assert_eq!(s.offered_load(0), None);
        assert_eq!(Size::of(2, 1000).label(), "2 GPUs");
        assert_eq!(Size::of(8, 1000).label(), "5-8 GPUs");
    }
}
