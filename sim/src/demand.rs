//! Placeholder demand distribution (replaced by the fitted one from the workloads branch).

use rand::RngExt;

/// Where the busy share of a job without one comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum DemandDistribution {
    /// Every job keeps this many milli of a card busy.
    Fixed(u32),
    /// Uniform in [lo, hi] milli.
    Uniform(u32, u32),
}

impl Default for DemandDistribution {
    fn default() -> Self {
        DemandDistribution::Fixed(1000)
    }
}

impl DemandDistribution {
    /// One draw, milli in 1..=1000.
    pub fn sample(&self, rng: &mut impl rand::Rng) -> u32 {
        match *self {
            DemandDistribution::Fixed(m) => m.clamp(1, 1000),
            DemandDistribution::Uniform(lo, hi) => rng.random_range(lo..=hi).clamp(1, 1000),
        }
    }
}
