//! The per-job *demand* distribution: the share of one card a job keeps busy when alone
//! (slicing-model §7.2 `u_i`), drawn for jobs whose trace does not say.
//!
//! Replay needs `u_i` for every GPU job (the rate is `S · min(1, x_i/u_i) · ...`, §7.2 step 3,
//! and the *busy* utilisation of §7.2 step 5 sums `min(granted, demand)`), but request traces
//! (openb, DLRM) carry only what a job *asked for*. This module supplies the missing values.
//!
//! ## The fit to the Alibaba GenAI 2026 trace (`genai`, [`DemandDistribution::default_fit`])
//!
//! `traces/alibaba-genai-2026/fit_demand.py` reads `pod_gpu_duty_cycle_anon.csv` (157,417
//! samples of 143 Stable-Diffusion serving pods), takes each pod's mean duty cycle, and fits:
//!
//! * a **beta by moments** on the 143 per-pod means (as fractions of a card): mean 0.0645,
//!   sd 0.0479 ⇒ `alpha = 1.6298, beta = 23.6305`;
//! * a lognormal by maximum likelihood: `mu = -3.3020, sigma = 1.6133` (ln of the fraction).
//!
//! Quantiles, data vs fits (fraction of one card). Kolmogorov–Smirnov distance to the data:
//! beta 0.28, lognormal 0.39 (n = 143) — neither is a good fit, see below:
//!
//! | q    | data    | beta    | lognormal |
//! |------|---------|---------|-----------|
//! | p5   | 0.00059 | 0.00907 | 0.00259   |
//! | p10  | 0.00374 | 0.01453 | 0.00466   |
//! | p25  | 0.05309 | 0.02864 | 0.01240   |
//! | p50  | 0.05781 | 0.05330 | 0.03681   |
//! | p75  | 0.06318 | 0.08864 | 0.10927   |
//! | p90  | 0.11623 | 0.12981 | 0.29096   |
//! | p95  | 0.13333 | 0.15847 | 0.52285   |
//! | p99  | 0.26851 | 0.21942 | 1.56983   |
//!
//! The data are bimodal: ~15 % of pods are idle (< 1 %), the bulk sits tightly at 5–6 %, and a
//! tail reaches 28 %. The lognormal, pulled down by the idle pods, is far too wide (its p99 is
//! above a whole card), so the default fit is the **beta**: right median and upper tail, with
//! too little mass near zero and too much spread in the 5–6 % cluster. Anyone who wants the data
//! themselves gets them as `genai-empirical` ([`DemandDistribution::genai_empirical`]).
//!
//! ## The replay default (`default`, [`DemandDistribution::replay_default`])
//!
//! The GenAI README warns that the publisher anonymised the metric by *scaling*: a median of
//! 5.8 % busy is implausibly low for a GPU job. If the anonymisation multiplied every value by an
//! unknown constant, the shape survives and only the scale is lost, so the replay default is the
//! beta fit *rescaled*. The scale we choose is the largest one the data allow: the busiest pod
//! (27.9 %) keeps a whole card busy, i.e. factor `1 / 0.279 = 3.584`. The result has median 0.19,
//! mean 0.23 and p99 0.79, and 0.17 % of draws are clipped at a whole card. Check against a
//! published production figure: MuxFlow (ByteDance, > 20k GPUs, slicing-model §6.2) measured 26 %
//! GPU utilisation on dedicated cards before sharing; on dedicated cards the busy share is the mean
//! demand, and ours is 23 %. The press figure "industry average 30–40 %" (§1.7) is of the same
//! order. The raw fit stays available as `genai` so a run can show how much the answer depends
//! on this choice.
//!
//! Sampling is deterministic: [`fill_missing`] draws in pod order from a `Pcg64` seeded from
//! the run's seed, so the same seed and trace give the same demands on every machine.

use crate::model::job::Pod;
use crate::model::rng::SimRng;
use crate::model::units::milli_decimal;
use rand::{RngExt, SeedableRng};
use rand_distr::Distribution;
use std::fmt;
use std::str::FromStr;

/// Per-pod mean GPU duty cycle of the 143 GenAI 2026 pods, in milli of a card (1 = < 0.15 %),
/// sorted; printed by `traces/alibaba-genai-2026/fit_demand.py`.
pub const GENAI_POD_MEANS_MILLI: [u32; 143] = [
    1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 3, 3, 3, 4, 4, 4, 4, 4, 6, 6, 7, 7, 16, 25, 39, 48, 49, 49, 50,
    51, 51, 51, 52, 53, 53, 53, 53, 53, 53, 53, 54, 54, 54, 55, 55, 55, 55, 56, 56, 56, 56, 56, 56,
    56, 57, 57, 57, 57, 57, 57, 57, 57, 57, 57, 58, 58, 58, 58, 58, 58, 58, 58, 58, 58, 58, 58, 58,
    58, 58, 58, 59, 59, 59, 59, 59, 59, 59, 59, 59, 60, 60, 60, 60, 61, 61, 61, 61, 61, 62, 62, 62,
    62, 62, 62, 62, 63, 63, 63, 63, 64, 64, 65, 70, 80, 84, 93, 93, 95, 97, 97, 98, 98, 99, 104,
    111, 113, 114, 115, 117, 117, 117, 122, 126, 126, 131, 134, 136, 177, 204, 206, 266, 270, 279,
];

/// Beta shape fitted by moments to [`GENAI_POD_MEANS_MILLI`] (see the module doc).
pub const GENAI_BETA_ALPHA: f64 = 1.6298;
pub const GENAI_BETA_BETA: f64 = 23.6305;
/// Lognormal fitted by maximum likelihood to the same pods (ln of the fraction of a card).
pub const GENAI_LOGNORMAL_MU: f64 = -3.3020;
pub const GENAI_LOGNORMAL_SIGMA: f64 = 1.6133;
/// The replay default's rescaling: the busiest GenAI pod (0.279 of a card) becomes a whole card.
pub const REPLAY_DEFAULT_SCALE: f64 = 1.0 / 0.279;

/// A distribution of demand `u_i` in milli of a card; every sample is in `1..=1000`.
#[derive(Debug, Clone, PartialEq)]
pub enum DemandDistribution {
    /// Every job the same demand (milli, clipped to `1..=1000`).
    Fixed(u32),
    /// `exp(N(mu, sigma))` as a fraction of a card, clipped to `[0.001, 1]`.
    LogNormal { mu: f64, sigma: f64 },
    /// `scale · Beta(alpha, beta)` as a fraction of a card, clipped to `[0.001, 1]`.
    Beta { alpha: f64, beta: f64, scale: f64 },
    /// Uniform choice among these values (milli); empty means a whole card.
    Empirical(Vec<u32>),
}

impl Default for DemandDistribution {
    fn default() -> Self {
        Self::replay_default()
    }
}

impl DemandDistribution {
    /// The beta fit to the GenAI 2026 per-pod mean duty cycles, at the trace's own (scaled) levels.
    pub fn default_fit() -> Self {
        DemandDistribution::Beta {
            alpha: GENAI_BETA_ALPHA,
            beta: GENAI_BETA_BETA,
            scale: 1.0,
        }
    }

    /// What replay uses when nothing else is asked for: the GenAI shape rescaled so the busiest
    /// pod keeps a whole card busy (median ≈ 0.19; reasoning in the module doc).
    pub fn replay_default() -> Self {
        DemandDistribution::Beta {
            alpha: GENAI_BETA_ALPHA,
            beta: GENAI_BETA_BETA,
            scale: REPLAY_DEFAULT_SCALE,
        }
    }

    /// The GenAI 2026 per-pod means themselves.
    pub fn genai_empirical() -> Self {
        DemandDistribution::Empirical(GENAI_POD_MEANS_MILLI.to_vec())
    }

    /// Checks the parameters; the CLI reports the message. Invalid distributions still sample
    /// (as a whole card, see [`DemandDistribution::sample`]) so that user input never panics.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            DemandDistribution::Fixed(m) if !(1..=1000).contains(m) => {
                Err(format!("fixed demand must be in 1..=1000 milli, got {m}"))
            }
            DemandDistribution::LogNormal { mu, sigma }
                if !(mu.is_finite() && sigma.is_finite() && *sigma >= 0.0) =>
            {
                Err(format!(
                    "lognormal needs a finite mu and sigma >= 0, got mu {mu}, sigma {sigma}"
                ))
            }
            DemandDistribution::Beta { alpha, beta, scale }
                if ![alpha, beta, scale]
                    .iter()
                    .all(|x| x.is_finite() && **x > 0.0) =>
            {
                Err(format!(
                    "beta needs alpha, beta and scale > 0, got {alpha}, {beta}, {scale}"
                ))
            }
            DemandDistribution::Empirical(v) if v.is_empty() => {
                Err("an empirical demand needs at least one value".to_owned())
            }
            DemandDistribution::Empirical(v) if v.iter().any(|m| !(1..=1000).contains(m)) => {
                Err("empirical demands must be in 1..=1000 milli".to_owned())
            }
            _ => Ok(()),
        }
    }

    /// Builds the sampler once, for drawing many values.
    pub fn sampler(&self) -> DemandSampler {
        let whole_card = DemandSampler(SamplerKind::Fixed(1000));
        if self.validate().is_err() {
            return whole_card;
        }
        let kind = match self {
            DemandDistribution::Fixed(m) => SamplerKind::Fixed(*m),
            DemandDistribution::LogNormal { mu, sigma } => {
                match rand_distr::LogNormal::new(*mu, *sigma) {
                    Ok(d) => SamplerKind::LogNormal(d),
                    Err(_) => return whole_card,
                }
            }
            DemandDistribution::Beta { alpha, beta, scale } => {
                match rand_distr::Beta::new(*alpha, *beta) {
                    Ok(d) => SamplerKind::Beta(d, *scale),
                    Err(_) => return whole_card,
                }
            }
            DemandDistribution::Empirical(v) => SamplerKind::Empirical(v.clone()),
        };
        DemandSampler(kind)
    }

    /// One demand in milli, in `1..=1000`. An invalid distribution (see
    /// [`DemandDistribution::validate`]) gives a whole card, 1000.
    pub fn sample(&self, rng: &mut impl rand::Rng) -> u32 {
        self.sampler().sample(rng)
    }
}

/// A [`DemandDistribution`] with its `rand_distr` state built, for drawing many values.
#[derive(Debug, Clone)]
pub struct DemandSampler(SamplerKind);

#[derive(Debug, Clone)]
enum SamplerKind {
    Fixed(u32),
    LogNormal(rand_distr::LogNormal<f64>),
    Beta(rand_distr::Beta<f64>, f64),
    Empirical(Vec<u32>),
}

impl DemandSampler {
    /// One demand in milli, in `1..=1000`.
    pub fn sample(&self, rng: &mut impl rand::Rng) -> u32 {
        match &self.0 {
            SamplerKind::Fixed(m) => (*m).clamp(1, 1000),
            SamplerKind::LogNormal(d) => fraction_to_milli(d.sample(rng)),
            SamplerKind::Beta(d, scale) => fraction_to_milli(scale * d.sample(rng)),
            SamplerKind::Empirical(v) if v.is_empty() => 1000,
            SamplerKind::Empirical(v) => v[rng.random_range(0..v.len())].clamp(1, 1000),
        }
    }
}

/// A fraction of a card as milli, rounded and clipped to `1..=1000` (NaN gives a whole card).
fn fraction_to_milli(x: f64) -> u32 {
    if x.is_nan() {
        return 1000;
    }
    // The clamp bounds the value, so the cast cannot truncate.
    (x * 1000.0).round().clamp(1.0, 1000.0) as u32
}

/// Draws a demand for every pod with `demand_milli == None`, in pod order, from a `Pcg64`
/// seeded with `seed`; pods whose trace gave a demand keep it. CPU-only pods get one too (it
/// is unused) so that a pod's draw does not depend on whether earlier pods had GPUs.
pub fn fill_missing(pods: &mut [Pod], dist: &DemandDistribution, seed: u64) {
    let mut rng = SimRng::seed_from_u64(seed);
    let sampler = dist.sampler();
    for pod in pods.iter_mut().filter(|p| p.demand_milli.is_none()) {
        pod.demand_milli = Some(sampler.sample(&mut rng));
    }
}

/// The forms [`DemandDistribution::from_str`] accepts, for error messages and `--help`.
pub const DEMAND_FORMS: &str = "default, genai, genai-empirical, fixed:FRACTION (e.g. fixed:0.6), \
     lognormal:MU,SIGMA (ln of the fraction), beta:ALPHA,BETA[,SCALE], \
     empirical:FRACTION,FRACTION,...";

impl FromStr for DemandDistribution {
    type Err = String;

    /// Parses the CLI form: `default`, `genai`, `genai-empirical`, `fixed:0.6`,
    /// `lognormal:mu,sigma`, `beta:alpha,beta[,scale]`, `empirical:0.05,0.2,...`.
    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (kind, args) = text.split_once(':').unwrap_or((text, ""));
        let numbers = || -> Result<Vec<f64>, String> {
            args.split(',')
                .map(|a| {
                    a.trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|x| x.is_finite())
                        .ok_or_else(|| format!("demand {text:?}: {a:?} is not a number"))
                })
                .collect()
        };
        let arity = |want: &str| format!("demand {text:?}: expected {want}");
        let dist = match kind {
            "default" if args.is_empty() => DemandDistribution::replay_default(),
            "genai" if args.is_empty() => DemandDistribution::default_fit(),
            "genai-empirical" if args.is_empty() => DemandDistribution::genai_empirical(),
            "fixed" => match numbers()?[..] {
                [f] => DemandDistribution::Fixed(fraction_arg(f, text)?),
                _ => return Err(arity("fixed:FRACTION")),
            },
            "lognormal" => match numbers()?[..] {
                [mu, sigma] => DemandDistribution::LogNormal { mu, sigma },
                _ => return Err(arity("lognormal:MU,SIGMA")),
            },
            "beta" => match numbers()?[..] {
                [alpha, beta] => DemandDistribution::Beta {
                    alpha,
                    beta,
                    scale: 1.0,
                },
                [alpha, beta, scale] => DemandDistribution::Beta { alpha, beta, scale },
                _ => return Err(arity("beta:ALPHA,BETA[,SCALE]")),
            },
            "empirical" => DemandDistribution::Empirical(
                numbers()?
                    .into_iter()
                    .map(|f| fraction_arg(f, text))
                    .collect::<Result<_, _>>()?,
            ),
            _ => {
                return Err(format!(
                    "unknown demand distribution {text:?}; known forms: {DEMAND_FORMS}"
                ))
            }
        };
        dist.validate()
            .map_err(|e| format!("demand {text:?}: {e}"))?;
        Ok(dist)
    }
}

/// A demand given as a fraction in (0, 1], as milli (at least 1).
fn fraction_arg(f: f64, text: &str) -> Result<u32, String> {
    if f > 0.0 && f <= 1.0 {
        Ok(fraction_to_milli(f))
    } else {
        Err(format!(
            "demand {text:?}: a demand is a fraction of a card in (0, 1], got {f}"
        ))
    }
}

impl fmt::Display for DemandDistribution {
    /// The form [`DemandDistribution::from_str`] reads back (for `summary.json`); the named
    /// presets print as their names.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == DemandDistribution::replay_default() {
            return f.write_str("default");
        }
        if *self == DemandDistribution::default_fit() {
            return f.write_str("genai");
        }
        if *self == DemandDistribution::genai_empirical() {
            return f.write_str("genai-empirical");
        }
        match self {
            DemandDistribution::Fixed(m) => write!(f, "fixed:{}", milli_decimal(u64::from(*m))),
            DemandDistribution::LogNormal { mu, sigma } => write!(f, "lognormal:{mu},{sigma}"),
            DemandDistribution::Beta { alpha, beta, scale } => {
                write!(f, "beta:{alpha},{beta},{scale}")
            }
            DemandDistribution::Empirical(v) => {
                f.write_str("empirical:")?;
                for (i, m) in v.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    f.write_str(&milli_decimal(u64::from(*m)))?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draws(dist: &DemandDistribution, n: usize) -> Vec<u32> {
        let mut rng = SimRng::seed_from_u64(7);
        let s = dist.sampler();
        let mut v: Vec<u32> = (0..n).map(|_| s.sample(&mut rng)).collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn samples_stay_in_range() {
        for d in [
            DemandDistribution::Fixed(5000),
            DemandDistribution::LogNormal {
                mu: 0.0,
                sigma: 3.0,
            },
            DemandDistribution::replay_default(),
            DemandDistribution::genai_empirical(),
            DemandDistribution::Empirical(vec![]),
        ] {
            let v = draws(&d, 2000);
            assert!(v[0] >= 1 && v[v.len() - 1] <= 1000, "{d:?}");
        }
    }

    #[test]
    fn the_fit_reproduces_the_data_median_and_the_default_rescales_it() {
        let fit = draws(&DemandDistribution::default_fit(), 20_000);
        let median = fit[fit.len() / 2];
        // beta(1.63, 23.6) median 0.0533; the data's 0.0578
        assert!((50..=57).contains(&median), "{median}");
        let replay = draws(&DemandDistribution::replay_default(), 20_000);
        let median = replay[replay.len() / 2];
        assert!((180..=203).contains(&median), "{median}");
        let mean = replay.iter().map(|&m| f64::from(m)).sum::<f64>() / replay.len() as f64;
        assert!((215.0..=245.0).contains(&mean), "{mean}");
    }

    #[test]
    fn fill_missing_is_deterministic_and_keeps_given_demands() {
        let mut pods: Vec<Pod> = (0..50)
            .map(|i| Pod::new(&format!("p{i}"), 1, 1, 1, 500))
            .collect();
        pods[3].demand_milli = Some(777);
        let mut again = pods.clone();
        let dist = DemandDistribution::replay_default();
        fill_missing(&mut pods, &dist, 42);
        fill_missing(&mut again, &dist, 42);
        assert_eq!(pods, again);
        assert_eq!(pods[3].demand_milli, Some(777));
        assert!(pods.iter().all(|p| p.demand_milli.is_some()));
        let mut other = again.clone();
        for p in &mut other {
            p.demand_milli = None;
        }
        other[3].demand_milli = Some(777);
        fill_missing(&mut other, &dist, 43);
        assert_ne!(pods, other);
    }

    #[test]
    fn parses_and_prints_the_cli_forms() {
        for (text, want) in [
            ("fixed:0.6", DemandDistribution::Fixed(600)),
            (
                "lognormal:-1.5,0.5",
                DemandDistribution::LogNormal {
                    mu: -1.5,
                    sigma: 0.5,
                },
            ),
            ("genai", DemandDistribution::default_fit()),
            ("default", DemandDistribution::replay_default()),
            ("genai-empirical", DemandDistribution::genai_empirical()),
            (
                "beta:2,5,0.5",
                DemandDistribution::Beta {
                    alpha: 2.0,
                    beta: 5.0,
                    scale: 0.5,
                },
            ),
            (
                "empirical:0.05,0.25,1",
                DemandDistribution::Empirical(vec![50, 250, 1000]),
            ),
        ] {
            let d: DemandDistribution = text.parse().unwrap();
            assert_eq!(d, want, "{text}");
            assert_eq!(d.to_string(), text);
            assert_eq!(d.to_string().parse::<DemandDistribution>().unwrap(), d);
        }
    }

    #[test]
    fn bad_forms_say_what_is_expected() {
        let e = "gamma:1".parse::<DemandDistribution>().unwrap_err();
        assert!(
            e.contains("known forms") && e.contains("lognormal:MU,SIGMA"),
            "{e}"
        );
        let e = "fixed:1.5".parse::<DemandDistribution>().unwrap_err();
        assert!(e.contains("(0, 1]"), "{e}");
        let e = "lognormal:1".parse::<DemandDistribution>().unwrap_err();
        assert!(e.contains("lognormal:MU,SIGMA"), "{e}");
        let e = "lognormal:1,-2".parse::<DemandDistribution>().unwrap_err();
        assert!(e.contains("sigma >= 0"), "{e}");
        let e = "fixed:x".parse::<DemandDistribution>().unwrap_err();
        assert!(e.contains("not a number"), "{e}");
    }
}
