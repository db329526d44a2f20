//! Where multi-device jobs landed on a fleet with a topology (issue 10 item 3): per placed job
//! the tier its placement spans ([`Tier`]), and for the cluster the share of multi-device jobs
//! placed at their *best* tier — the tightest tier a job of its size could span on the empty
//! fleet ([`Topology::best_tier`](crate::model::topology::Topology::best_tier)). A policy that
//! spreads jobs it could have packed scores low here, and pays for it in speed.

use crate::metrics::replay_metrics::JobRecord;
use crate::model::topology::{Tier, Topology};
use serde::Serialize;
use std::collections::BTreeMap;

/// The tier figures of one replay.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TierFigures {
    /// Jobs of more than one device that ran (their last placement counts).
    pub multi_device_jobs: u64,
    /// Of those, the ones whose placement spanned their best tier.
    pub at_best_tier: u64,
    /// `at_best_tier` as a percentage of `multi_device_jobs` (absent when there are none).
    pub at_best_tier_pct: Option<f64>,
    /// Per tier name (`board`, `node`, `rack`, ...): multi-device jobs whose placement spans it.
    pub by_tier: BTreeMap<String, u64>,
    /// Tier names, tightest first (`device`, `board`, `node`, then the network levels).
    #[serde(skip)]
    pub names: Vec<String>,
}

/// The index of a tier in [`TierFigures::names`].
fn index(t: Tier) -> usize {
    match t {
        Tier::Device => 0,
        Tier::Board => 1,
        Tier::Node => 2,
        Tier::Net(k) => 3 + usize::from(k),
    }
}

impl TierFigures {
    /// The figures of `jobs` on a fleet of topology `topo`.
    pub fn of(jobs: &[JobRecord], topo: &Topology) -> TierFigures {
        let mut names: Vec<String> = ["device", "board", "node"].map(String::from).to_vec();
        names.extend(topo.levels.iter().cloned());
        let mut f = TierFigures {
            multi_device_jobs: 0,
            at_best_tier: 0,
            at_best_tier_pct: None,
            by_tier: BTreeMap::new(),
            names,
        };
        for j in jobs {
            let (Some(t), Some(best)) = (j.tier, j.best_tier) else {
                continue;
            };
            if best == Tier::Device {
                continue;
            }
            f.multi_device_jobs += 1;
            if t <= best {
                f.at_best_tier += 1;
            }
            *f.by_tier.entry(f.name(t).to_owned()).or_insert(0) += 1;
        }
        f.at_best_tier_pct = (f.multi_device_jobs > 0)
            .then(|| 100.0 * f.at_best_tier as f64 / f.multi_device_jobs as f64);
        f
    }

    /// The name of a tier.
    pub fn name(&self, t: Tier) -> &str {
        self.names.get(index(t)).map_or("network", String::as_str)
    }
}
