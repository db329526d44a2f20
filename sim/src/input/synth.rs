//! Synthetic workloads for users with no trace (`flexsim trace synth`).
//!
//! A job stream is described by a handful of knobs ([`SynthParams`]) whose defaults reproduce
//! the *shape* of the openb default trace (`traces/openb/openb_pod_list_default.csv`, 8,152
//! pods; measured with the openb reader's rules):
//!
//! | knob | default | openb default trace |
//! |---|---|---|
//! | job-size mix | 13.3 % CPU-only, 37.8 % sharing (one GPU, < 1000 milli), 48.0 % one whole GPU, 0.9 % multi-GPU | same |
//! | multi-GPU counts | 2: 21 %, 4: 20 %, 8: 59 % | 16, 15 and 44 pods |
//! | sharing milli | openb's 20 values with their frequencies (810: 35 %, 470: 24 %, 320: 11 %, ...) | same |
//! | duration (work) | lognormal, median 616 s, σ 1.88 (of ln s) | scheduled→deletion: median 616 s, σ of ln 1.88 |
//! | latency-sensitive | 57 %, priority 3 (openb LS); others priority 0 (BE) | LS 57 %, BE 42 %, Burstable/Guaranteed 1.3 % |
//! | CPU / memory | CPU-only 12 cores, 50 GiB; sharing 4 cores, 15 GiB; per whole GPU 10 cores, 40 GiB | medians 12.5/50, 4/14.9, 11.4/47 (one GPU), 8.1/32 per GPU (multi) |
//! | demand `u_i` (§7.2) | [`DemandDistribution::replay_default`] | not in the trace |
//! | class | all `default` (`share_training = share_inference = 0`) | openb has no class |
//! | arrivals | Poisson, mean inter-arrival 60 s, no diurnal swing | one pod per 1,583 s (a sample of the cluster) |
//!
//! The openb inter-arrival time is not a useful default: that trace is a sample of its cluster's
//! pods. 60 s instead gives, with the duration above (mean e^(ln 616 + 1.88²/2) ≈ 3,600 s) and
//! the size mix (0.76 GPUs a job on average), about 46 GPUs requested at any time — a 64-GPU
//! fleet at ~70 % allocation. Scale `interarrival_s` with the fleet.
//!
//! Request and demand are drawn independently: a job's busy share does not depend on the slice
//! it asked for (the openb trace gives no evidence either way).
//!
//! **Determinism.** Each aspect (arrivals, size, duration, demand, priority/class) has its own
//! `Pcg64` stream derived from the seed, and every job takes the same number of draws from
//! the size, duration, demand and priority streams, so changing one aspect's knobs leaves the
//! others' draws as they were (e.g. a different size mix keeps every arrival time and duration).

use crate::model::catalog::{CLASS_DEFAULT, CLASS_INFERENCE, CLASS_TRAINING};
use crate::model::demand::DemandDistribution;
use crate::model::job::{Pod, Workload};
use crate::model::rng::SimRng;
use crate::model::units::GPU_MILLI;
use rand::{RngExt, SeedableRng};
use rand_distr::Distribution;

/// Priority of a latency-sensitive synthetic job (openb's LS level); others get 0 (BE).
pub const LS_PRIORITY: i32 = 3;

/// The knobs of the synthetic generator; see the module doc for the defaults' sources.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthParams {
    pub jobs: usize,
    pub seed: u64,
    /// Mean time between arrivals, s (Poisson process).
    pub interarrival_s: f64,
    /// Relative swing of the arrival rate over a day, in [0, 1]: rate ∝ 1 + A·sin(2πt/period).
    pub diurnal_amplitude: f64,
    pub diurnal_period_s: f64,
    /// Job-size mix: relative weights (normalised by their sum).
    pub share_cpu_only: f64,
    pub share_sharing: f64,
    pub share_one_gpu: f64,
    pub share_multi_gpu: f64,
    /// GPU counts of multi-GPU jobs, with relative weights.
    pub multi_gpu_counts: Vec<(u32, f64)>,
    /// Per-GPU milli of sharing jobs (1..=999), with relative weights.
    pub sharing_milli: Vec<(u32, f64)>,
    /// Work (solo duration on a speed-1.0 card): lognormal with this median, s ...
    pub duration_median_s: f64,
    /// ... and this σ of ln(duration).
    pub duration_sigma: f64,
    /// Demand of GPU jobs; `None` leaves it to the replay's distribution.
    pub demand: Option<DemandDistribution>,
    /// Share of jobs that are latency-sensitive (priority [`LS_PRIORITY`]).
    pub share_latency_sensitive: f64,
    /// Shares of GPU jobs of class `training` and `inference`; the rest are `default`.
    pub share_training: f64,
    pub share_inference: f64,
    pub cpu_milli_per_gpu: u64,
    pub memory_mib_per_gpu: u64,
    pub cpu_milli_sharing: u64,
    pub memory_mib_sharing: u64,
    pub cpu_milli_cpu_only: u64,
    pub memory_mib_cpu_only: u64,
}

/// openb default trace: per-GPU milli of the sharing pods and how many pods asked for each.
const OPENB_SHARING_MILLI: [(u32, f64); 20] = [
    (810, 1078.0),
    (470, 750.0),
    (320, 328.0),
    (650, 253.0),
    (230, 140.0),
    (460, 128.0),
    (590, 75.0),
    (160, 74.0),
    (550, 72.0),
    (220, 62.0),
    (370, 47.0),
    (110, 24.0),
    (480, 19.0),
    (50, 7.0),
    (330, 7.0),
    (350, 6.0),
    (270, 4.0),
    (440, 2.0),
    (140, 1.0),
    (290, 1.0),
];

impl Default for SynthParams {
    fn default() -> Self {
        SynthParams {
            jobs: 10_000,
            seed: 1,
            interarrival_s: 60.0,
            diurnal_amplitude: 0.0,
            diurnal_period_s: 86_400.0,
            share_cpu_only: 0.133,
            share_sharing: 0.378,
            share_one_gpu: 0.480,
            share_multi_gpu: 0.009,
            multi_gpu_counts: vec![(2, 0.21), (4, 0.20), (8, 0.59)],
            sharing_milli: OPENB_SHARING_MILLI.to_vec(),
            duration_median_s: 616.0,
            duration_sigma: 1.88,
            demand: Some(DemandDistribution::replay_default()),
            share_latency_sensitive: 0.57,
            share_training: 0.0,
            share_inference: 0.0,
            cpu_milli_per_gpu: 10_000,
            memory_mib_per_gpu: 40_960,
            cpu_milli_sharing: 4_000,
            memory_mib_sharing: 15_360,
            cpu_milli_cpu_only: 12_000,
            memory_mib_cpu_only: 51_200,
        }
    }
}

/// Every key [`SynthParams::apply_override`] knows, in the order [`SynthParams::overrides`]
/// writes them.
pub const KEYS: [&str; 23] = [
    "jobs",
    "seed",
    "interarrival_s",
    "diurnal_amplitude",
    "diurnal_period_s",
    "share_cpu_only",
    "share_sharing",
    "share_one_gpu",
    "share_multi_gpu",
    "multi_gpu_counts",
    "sharing_milli",
    "duration_median_s",
    "duration_sigma",
    "demand",
    "share_latency_sensitive",
    "share_training",
    "share_inference",
    "cpu_milli_per_gpu",
    "memory_mib_per_gpu",
    "cpu_milli_sharing",
    "memory_mib_sharing",
    "cpu_milli_cpu_only",
    "memory_mib_cpu_only",
];

impl SynthParams {
    /// Mostly small sharing jobs with low demand: the "small-model training/inference" setting
    /// in which Flex:ai claims ~30 % higher utilisation (slicing-model §1.7). 85 % sharing jobs
    /// asking for 10–50 % of a card, 10 % one-GPU jobs, 5 % CPU-only; all GPU jobs `inference`;
    /// 80 % latency-sensitive; demand is the replay default's shape at half its scale
    /// (median ≈ 0.10 of a card): small models keep a card even less busy than the average job.
    pub fn small_model_heavy() -> Self {
        SynthParams {
            share_cpu_only: 0.05,
            share_sharing: 0.85,
            share_one_gpu: 0.10,
            share_multi_gpu: 0.0,
            sharing_milli: vec![
                (100, 0.20),
                (200, 0.30),
                (250, 0.20),
                (300, 0.15),
                (500, 0.15),
            ],
            demand: Some(DemandDistribution::Beta {
                alpha: crate::model::demand::GENAI_BETA_ALPHA,
                beta: crate::model::demand::GENAI_BETA_BETA,
                scale: crate::model::demand::REPLAY_DEFAULT_SCALE / 2.0,
            }),
            share_latency_sensitive: 0.8,
            share_inference: 1.0,
            ..SynthParams::default()
        }
    }

    /// The named presets, for the CLI's `--preset`.
    pub const PRESETS: [&'static str; 2] = ["openb", "small-model-heavy"];

    /// A preset by name: `openb` (the defaults) or `small-model-heavy`; the error lists them.
    pub fn preset(name: &str) -> Result<SynthParams, String> {
        match name {
            "openb" => Ok(SynthParams::default()),
            "small-model-heavy" => Ok(SynthParams::small_model_heavy()),
            _ => Err(format!(
                "unknown synth preset {name:?}; known: {}",
                SynthParams::PRESETS.join(", ")
            )),
        }
    }

    /// Sets one knob from its `key=value` text form (the CLI's `--set`). Lists are
    /// `value:weight,value:weight,...`; `demand` takes the forms of
    /// [`DemandDistribution`]'s `FromStr`, or `none`.
    pub fn apply_override(&mut self, key: &str, value: &str) -> Result<(), String> {
        let value = value.trim();
        let bad = |what: &str| format!("{key}={value}: expected {what}");
        let real = |lo: f64, hi: f64, what: &str| -> Result<f64, String> {
            value
                .parse::<f64>()
                .ok()
                .filter(|x| (lo..=hi).contains(x))
                .ok_or_else(|| bad(what))
        };
        let share = || real(0.0, 1.0, "a share from 0 to 1");
        let positive = || real(f64::MIN_POSITIVE, f64::MAX, "a positive number");
        let whole = || {
            value
                .parse::<u64>()
                .map_err(|_| bad("a non-negative integer"))
        };
        match key {
            "jobs" => self.jobs = value.parse().map_err(|_| bad("a non-negative integer"))?,
            "seed" => self.seed = whole()?,
            "interarrival_s" => self.interarrival_s = positive()?,
            "diurnal_amplitude" => self.diurnal_amplitude = share()?,
            "diurnal_period_s" => self.diurnal_period_s = positive()?,
            "share_cpu_only" => self.share_cpu_only = real(0.0, f64::MAX, "a weight >= 0")?,
            "share_sharing" => self.share_sharing = real(0.0, f64::MAX, "a weight >= 0")?,
            "share_one_gpu" => self.share_one_gpu = real(0.0, f64::MAX, "a weight >= 0")?,
            "share_multi_gpu" => self.share_multi_gpu = real(0.0, f64::MAX, "a weight >= 0")?,
            "multi_gpu_counts" => {
                self.multi_gpu_counts = weighted_list(value, 2..=u32::MAX)
                    .map_err(|e| bad(&format!("COUNT:WEIGHT,... with counts >= 2 ({e})")))?
            }
            "sharing_milli" => {
                self.sharing_milli = weighted_list(value, 1..=GPU_MILLI - 1)
                    .map_err(|e| bad(&format!("MILLI:WEIGHT,... with milli 1 to 999 ({e})")))?
            }
            "duration_median_s" => self.duration_median_s = positive()?,
            "duration_sigma" => self.duration_sigma = real(0.0, 20.0, "a sigma from 0 to 20")?,
            "demand" => {
                self.demand = match value {
                    "none" => None,
                    _ => Some(value.parse().map_err(|e| format!("{key}={value}: {e}"))?),
                }
            }
            "share_latency_sensitive" => self.share_latency_sensitive = share()?,
            "share_training" => self.share_training = share()?,
            "share_inference" => self.share_inference = share()?,
            "cpu_milli_per_gpu" => self.cpu_milli_per_gpu = whole()?,
            "memory_mib_per_gpu" => self.memory_mib_per_gpu = whole()?,
            "cpu_milli_sharing" => self.cpu_milli_sharing = whole()?,
            "memory_mib_sharing" => self.memory_mib_sharing = whole()?,
            "cpu_milli_cpu_only" => self.cpu_milli_cpu_only = whole()?,
            "memory_mib_cpu_only" => self.memory_mib_cpu_only = whole()?,
            _ => {
                return Err(format!(
                    "unknown synth parameter {key:?}; known: {}",
                    KEYS.join(", ")
                ))
            }
        }
        Ok(())
    }

    /// Applies `key=value` (one `--set` argument).
    pub fn apply_assignment(&mut self, assignment: &str) -> Result<(), String> {
        let (key, value) = assignment
            .split_once('=')
            .ok_or_else(|| format!("{assignment:?}: expected KEY=VALUE"))?;
        self.apply_override(key.trim(), value)
    }

    /// Every knob as `(key, value)` text: applied to any params, they reproduce these
    /// (for `summary.json` and for a user to see the defaults).
    pub fn overrides(&self) -> Vec<(&'static str, String)> {
        let list = |v: &[(u32, f64)]| {
            v.iter()
                .map(|(x, w)| format!("{x}:{w}"))
                .collect::<Vec<_>>()
                .join(",")
        };
        let values = [
            self.jobs.to_string(),
            self.seed.to_string(),
            self.interarrival_s.to_string(),
            self.diurnal_amplitude.to_string(),
            self.diurnal_period_s.to_string(),
            self.share_cpu_only.to_string(),
            self.share_sharing.to_string(),
            self.share_one_gpu.to_string(),
            self.share_multi_gpu.to_string(),
            list(&self.multi_gpu_counts),
            list(&self.sharing_milli),
            self.duration_median_s.to_string(),
            self.duration_sigma.to_string(),
            self.demand
                .as_ref()
                .map_or_else(|| "none".to_owned(), ToString::to_string),
            self.share_latency_sensitive.to_string(),
            self.share_training.to_string(),
            self.share_inference.to_string(),
            self.cpu_milli_per_gpu.to_string(),
            self.memory_mib_per_gpu.to_string(),
            self.cpu_milli_sharing.to_string(),
            self.memory_mib_sharing.to_string(),
            self.cpu_milli_cpu_only.to_string(),
            self.memory_mib_cpu_only.to_string(),
        ];
        KEYS.into_iter().zip(values).collect()
    }

    /// Checks the knobs together (the per-key checks of [`SynthParams::apply_override`] plus
    /// those across keys). [`generate`] never panics on invalid params, but what it makes of
    /// them is unspecified; the CLI calls this first.
    pub fn validate(&self) -> Result<(), String> {
        let mut fresh = SynthParams::default();
        for (key, value) in self.overrides() {
            fresh.apply_override(key, &value)?;
        }
        let mix = [
            self.share_cpu_only,
            self.share_sharing,
            self.share_one_gpu,
            self.share_multi_gpu,
        ];
        if mix.iter().sum::<f64>() <= 0.0 {
            return Err(
                "the job-size shares (share_cpu_only, share_sharing, share_one_gpu, \
                        share_multi_gpu) must not all be 0"
                    .to_owned(),
            );
        }
        if self.share_training + self.share_inference > 1.0 + 1e-9 {
            return Err(format!(
                "share_training + share_inference must be at most 1, got {}",
                self.share_training + self.share_inference
            ));
        }
        Ok(())
    }
}

/// `value:weight,...` with values in `range` and positive weights, at least one entry.
fn weighted_list(
    text: &str,
    range: std::ops::RangeInclusive<u32>,
) -> Result<Vec<(u32, f64)>, String> {
    let list = text
        .split(',')
        .map(|item| {
            let (v, w) = item.split_once(':').unwrap_or((item, "1"));
            let v: u32 = v
                .trim()
                .parse()
                .ok()
                .filter(|v| range.contains(v))
                .ok_or_else(|| format!("bad value {:?}", v.trim()))?;
            let w: f64 = w
                .trim()
                .parse()
                .ok()
                .filter(|w: &f64| w.is_finite() && *w > 0.0)
                .ok_or_else(|| format!("bad weight {:?}", w.trim()))?;
            Ok((v, w))
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(list)
}

/// Picks an index with probability proportional to its weight, from one uniform draw.
struct Weighted {
    cumulative: Vec<f64>,
}

impl Weighted {
    /// Negative or non-finite weights count as 0; all-zero weights pick index 0.
    fn new(weights: impl IntoIterator<Item = f64>) -> Weighted {
        let mut total = 0.0;
        let cumulative = weights
            .into_iter()
            .map(|w| {
                total += if w.is_finite() && w > 0.0 { w } else { 0.0 };
                total
            })
            .collect();
        Weighted { cumulative }
    }

    fn pick(&self, u: f64) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let x = u * total;
        self.cumulative.iter().position(|&c| x < c).unwrap_or(0)
    }
}

/// A stream of the run's seed for one aspect (see the module doc).
fn stream(seed: u64, aspect: u64) -> SimRng {
    SimRng::seed_from_u64(seed ^ aspect.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// `x` if it is a positive finite number, else `fallback`.
fn positive_or(x: f64, fallback: f64) -> f64 {
    if x.is_finite() && x > 0.0 {
        x
    } else {
        fallback
    }
}

/// Generates `params.jobs` jobs, named `job-0`, `job-1`, ... in arrival order; the same params
/// give the same workload.
pub fn generate(params: &SynthParams) -> Workload {
    let p = params;
    let mut arrivals = stream(p.seed, 1);
    let mut sizes = stream(p.seed, 2);
    let mut durations = stream(p.seed, 3);
    let mut demands = stream(p.seed, 4);
    let mut labels = stream(p.seed, 5);

    let amplitude = if p.diurnal_amplitude.is_finite() {
        p.diurnal_amplitude.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let period_s = positive_or(p.diurnal_period_s, 86_400.0);
    // Thinning (Lewis–Shedler): candidates at the peak rate, kept with probability rate/peak,
    // so the mean inter-arrival over a period stays `interarrival_s`.
    let peak_rate = (1.0 + amplitude) / positive_or(p.interarrival_s, 60.0);
    let gap = rand_distr::Exp::new(peak_rate)
        .unwrap_or_else(|_| rand_distr::Exp::new(1.0 / 60.0).expect("positive rate"));
    let median_s = positive_or(p.duration_median_s, 616.0);
    let sigma = if p.duration_sigma.is_finite() {
        p.duration_sigma.clamp(0.0, 20.0)
    } else {
        0.0
    };
    let duration = rand_distr::LogNormal::new(median_s.ln(), sigma)
        .unwrap_or_else(|_| rand_distr::LogNormal::new(616f64.ln(), 0.0).expect("valid"));
    let demand = p.demand.as_ref().map(DemandDistribution::sampler);
    let kind = Weighted::new([
        p.share_cpu_only,
        p.share_sharing,
        p.share_one_gpu,
        p.share_multi_gpu,
    ]);
    let multi_counts: Vec<u32> = p.multi_gpu_counts.iter().map(|&(n, _)| n.max(2)).collect();
    let multi = Weighted::new(p.multi_gpu_counts.iter().map(|&(_, w)| w));
    let milli: Vec<u32> = p
        .sharing_milli
        .iter()
        .map(|&(m, _)| m.clamp(1, GPU_MILLI - 1))
        .collect();
    let sharing = Weighted::new(p.sharing_milli.iter().map(|&(_, w)| w));

    let mut pods = Vec::with_capacity(p.jobs);

    let mut requests = crate::model::job::RequestSet::default();
    let mut t_s = 0.0_f64;
    for i in 0..p.jobs {
        loop {
            t_s += gap.sample(&mut arrivals);
            let phase = std::f64::consts::TAU * t_s / period_s;
            if amplitude == 0.0
                || arrivals.random::<f64>() * (1.0 + amplitude) < 1.0 + amplitude * phase.sin()
            {
                break;
            }
        }
        // Fixed draws per job in every stream (see the module doc).
        let (u_kind, u_sub) = (sizes.random::<f64>(), sizes.random::<f64>());
        let work_s = duration.sample(&mut durations);
        let u = demand.as_ref().map(|d| d.sample(&mut demands));
        let (u_ls, u_class) = (labels.random::<f64>(), labels.random::<f64>());

        let (num_gpu, gpu_milli, cpu, mem) = match kind.pick(u_kind) {
            0 => (0, 0, p.cpu_milli_cpu_only, p.memory_mib_cpu_only),
            1 => {
                let m = milli.get(sharing.pick(u_sub)).copied().unwrap_or(500);
                (1, m, p.cpu_milli_sharing, p.memory_mib_sharing)
            }
            2 => (1, GPU_MILLI, p.cpu_milli_per_gpu, p.memory_mib_per_gpu),
            _ => {
                let n = multi_counts.get(multi.pick(u_sub)).copied().unwrap_or(8);
                let k = u64::from(n);
                (
                    n,
                    GPU_MILLI,
                    p.cpu_milli_per_gpu.saturating_mul(k),
                    p.memory_mib_per_gpu.saturating_mul(k),
                )
            }
        };
        let mut pod = Pod::new(&format!("job-{i}"), cpu, mem, num_gpu, gpu_milli);
        // Rounding is monotone, so arrivals stay non-decreasing; 2^53 ms caps absurd inputs.
        pod.arrival_ms = (t_s * 1000.0).round().min(9.007_199_254_740_992e15) as u64;
        pod.work_ms = Some(
            (work_s * 1000.0)
                .round()
                .clamp(1.0, 9.007_199_254_740_992e15) as u64,
        );
        if pod.is_gpu_pod() {
            pod.demand_milli = u;
            pod.class = if u_class < p.share_training {
                CLASS_TRAINING
            } else if u_class < p.share_training + p.share_inference {
                CLASS_INFERENCE
            } else {
                CLASS_DEFAULT
            }
            .into();
        }
        pod.latency_sensitive = u_ls < p.share_latency_sensitive;
        pod.priority = if pod.latency_sensitive {
            LS_PRIORITY
        } else {
            0
        };
        pods.push(requests.share(pod));
    }
    Workload {
        name: format!("synth-seed{}", p.seed),
        pods,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(jobs: usize) -> SynthParams {
        SynthParams {
            jobs,
            ..SynthParams::default()
        }
    }

    #[test]
    fn same_seed_same_workload_other_seed_other() {
        let a = generate(&params(2000));
        assert_eq!(a, generate(&params(2000)));
        let b = generate(&SynthParams {
            seed: 2,
            ..params(2000)
        });
        assert_ne!(a.pods, b.pods);
    }

    #[test]
    fn mix_shares_match_the_parameters() {
        let n = 100_000;
        let w = generate(&params(n));
        let share =
            |f: &dyn Fn(&Pod) -> bool| w.pods.iter().filter(|p| f(p)).count() as f64 / n as f64;
        let near = |got: f64, want: f64| assert!((got - want).abs() < 0.006, "{got} vs {want}");
        near(share(&|p| !p.is_gpu_pod()), 0.133);
        near(share(&|p| p.is_sharing()), 0.378);
        near(share(&|p| p.num_gpu == 1 && p.gpu_milli == 1000), 0.480);
        near(share(&|p| p.num_gpu > 1), 0.009);
        near(share(&|p| p.latency_sensitive), 0.57);
        near(
            share(&|p| p.is_sharing() && p.gpu_milli == 810) / 0.378,
            1078.0 / 3078.0,
        );
        let multi: Vec<_> = w.pods.iter().filter(|p| p.num_gpu > 1).collect();
        let eights = multi.iter().filter(|p| p.num_gpu == 8).count() as f64 / multi.len() as f64;
        assert!((eights - 0.59).abs() < 0.05, "{eights}");
        let mut work: Vec<u64> = w.pods.iter().filter_map(|p| p.work_ms).collect();
        work.sort_unstable();
        let median_s = work[n / 2] as f64 / 1000.0;
        assert!((median_s / 616.0 - 1.0).abs() < 0.03, "{median_s}");
        let mean_gap_s = w.pods[n - 1].arrival_ms as f64 / 1000.0 / n as f64;
        assert!((mean_gap_s / 60.0 - 1.0).abs() < 0.02, "{mean_gap_s}");
        assert!(w
            .pods
            .iter()
            .all(|p| p.is_gpu_pod() == p.demand_milli.is_some()));
    }

    #[test]
    fn arrivals_never_go_back_even_with_a_diurnal_swing() {
        let w = generate(&SynthParams {
            diurnal_amplitude: 0.8,
            interarrival_s: 30.0,
            ..params(20_000)
        });
        assert!(w
            .pods
            .windows(2)
            .all(|p| p[0].arrival_ms <= p[1].arrival_ms));
        // Peak quarter of the day gets more arrivals than the trough quarter.
        let in_phase = |lo: f64, hi: f64| {
            w.pods
                .iter()
                .filter(|p| {
                    let f = (p.arrival_ms as f64 / 1000.0 / 86_400.0).fract();
                    (lo..hi).contains(&f)
                })
                .count()
        };
        assert!(in_phase(0.125, 0.375) > 3 * in_phase(0.625, 0.875));
        let mean_gap_s = w.pods[w.pods.len() - 1].arrival_ms as f64 / 1000.0 / 20_000.0;
        assert!((mean_gap_s / 30.0 - 1.0).abs() < 0.1, "{mean_gap_s}");
    }

    #[test]
    fn changing_the_mix_keeps_arrivals_and_durations() {
        let a = generate(&params(500));
        let b = generate(&SynthParams {
            share_multi_gpu: 0.5,
            ..params(500)
        });
        let times =
            |w: &Workload| -> Vec<_> { w.pods.iter().map(|p| (p.arrival_ms, p.work_ms)).collect() };
        assert_eq!(times(&a), times(&b));
        assert_ne!(a.pods, b.pods);
    }

    #[test]
    fn small_model_heavy_is_mostly_small_low_demand_sharing() {
        let w = generate(&SynthParams {
            jobs: 20_000,
            ..SynthParams::small_model_heavy()
        });
        let sharing = w.pods.iter().filter(|p| p.is_sharing()).count() as f64 / 20_000.0;
        assert!((sharing - 0.85).abs() < 0.01, "{sharing}");
        assert!(w
            .pods
            .iter()
            .filter(|p| p.is_sharing())
            .all(|p| p.gpu_milli <= 500));
        let mut d: Vec<u32> = w.pods.iter().filter_map(|p| p.demand_milli).collect();
        d.sort_unstable();
        assert!(d[d.len() / 2] < 120, "{}", d[d.len() / 2]);
        assert!(w
            .pods
            .iter()
            .filter(|p| p.is_gpu_pod())
            .all(|p| p.class == CLASS_INFERENCE));
        assert_eq!(SynthParams::small_model_heavy().validate(), Ok(()));
        assert_eq!(
            SynthParams::preset("small-model-heavy"),
            Ok(SynthParams::small_model_heavy())
        );
        assert!(SynthParams::preset("x")
            .unwrap_err()
            .contains("openb, small-model-heavy"));
    }

    #[test]
    fn overrides_set_knobs_and_name_the_keys_on_error() {
        let mut p = SynthParams::default();
        p.apply_override("jobs", "5").unwrap();
        p.apply_assignment("demand=fixed:0.5").unwrap();
        p.apply_assignment("multi_gpu_counts=2:1,8:3").unwrap();
        p.apply_assignment("sharing_milli = 250").unwrap();
        assert_eq!(
            (p.jobs, p.demand.clone()),
            (5, Some(DemandDistribution::Fixed(500)))
        );
        assert_eq!(p.multi_gpu_counts, [(2, 1.0), (8, 3.0)]);
        assert_eq!(p.sharing_milli, [(250, 1.0)]);
        p.apply_override("demand", "none").unwrap();
        assert_eq!(p.demand, None);
        let e = p.apply_override("jbos", "5").unwrap_err();
        assert!(
            e.contains("unknown synth parameter \"jbos\"") && e.contains("interarrival_s"),
            "{e}"
        );
        let e = p.apply_override("share_sharing", "-1").unwrap_err();
        assert_eq!(e, "share_sharing=-1: expected a weight >= 0");
        let e = p.apply_override("sharing_milli", "1000:1").unwrap_err();
        assert!(
            e.contains("milli 1 to 999") && e.contains("bad value \"1000\""),
            "{e}"
        );
        let e = p.apply_override("demand", "fixed:2").unwrap_err();
        assert!(e.contains("(0, 1]"), "{e}");
        assert!(p
            .apply_assignment("jobs")
            .unwrap_err()
            .contains("KEY=VALUE"));
    }

    #[test]
    fn overrides_reproduce_the_params_and_validate_checks_across_keys() {
        for p in [SynthParams::default(), SynthParams::small_model_heavy()] {
            let mut q = SynthParams {
                jobs: 1,
                seed: 99,
                demand: None,
                ..SynthParams::default()
            };
            for (k, v) in p.overrides() {
                q.apply_override(k, &v).unwrap();
            }
            assert_eq!(q, p);
            assert_eq!(p.validate(), Ok(()));
        }
        let p = SynthParams {
            share_training: 0.7,
            share_inference: 0.7,
            ..SynthParams::default()
        };
        assert!(p.validate().unwrap_err().contains("at most 1"));
        let zero = SynthParams {
            share_cpu_only: 0.0,
            share_sharing: 0.0,
            share_one_gpu: 0.0,
            share_multi_gpu: 0.0,
            ..params(10)
        };
        assert!(zero.validate().is_err());
        // Invalid params still generate without panicking.
        let odd = SynthParams {
            interarrival_s: -1.0,
            duration_sigma: f64::NAN,
            diurnal_period_s: 0.0,
            multi_gpu_counts: vec![],
            sharing_milli: vec![],
            ..zero
        };
        assert_eq!(generate(&odd).pods.len(), 10);
    }
}
