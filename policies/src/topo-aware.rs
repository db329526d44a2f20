//! `topo-aware` — network-topology-aware scheduling as Volcano does it (Volcano v1.12
//! "network topology aware scheduling": HyperNodes form a tree of network tiers, tier 1 the
//! lowest; a job's `networkTopology` says `mode: hard | soft` and `highestTierAllowed`).
//!
//! * **Gangs** (jobs spanning nodes) go into the lowest tier that holds them
//!   ([`topology::tightest_gang`]): one rack before one spine; among racks, the one where the
//!   gang needs the fewest nodes, then the fullest that holds it (best fit, so emptier racks
//!   stay whole for larger gangs); within it the fewest nodes, ties by best-fit.
//!   * `mode=soft` (default): the lowest tier that fits now, else anywhere — the job never
//!     waits for a tighter placement.
//!   * `mode=hard`: only within one switch of tier `tier` or below (`tier=1`: one rack); a gang
//!     that does not fit there now waits; one larger than every such switch never runs (it
//!     stays `pending`, `no-fit-now`: the rule, not the fleet, keeps it out).
//! * **Multi-device jobs on one node** take the cards of one fabric domain (an NVSwitch board,
//!   an HCCS ring): among the feasible nodes where a domain holds the job, best-fit's choice,
//!   the fullest domain first ([`topology::tightest_cards`]); if no node has such a domain,
//!   best-fit's node and cards.
//! * **Everything else** is best-fit (`best-fit`, FGD's BestFit).
//!
//! On a fleet without a topology it is `best-fit` exactly (gangs by the engine's greedy placer
//! with best-fit's scores).
//!
//! Parameters: `mode=soft|hard`, `tier=N` (hard mode's highest tier, 1-based as Volcano's;
//! tiers beyond the fleet's top mean the whole fleet).
//!
//! Cost per decision: a gang, one pass over the nodes and one per network level over the
//! candidates ([`topology::gang_options`]) plus the greedy placer on the chosen switch's nodes;
//! a multi-device job, the feasible nodes × their cards; any other job, best-fit's indexed
//! choice.

use flexsim_sim::model::cluster::{Cluster, NodeId, Placement};
use flexsim_sim::model::gang::GangPlacement;
use flexsim_sim::model::job::{Pod, PodId};
use flexsim_sim::policy::params::{ParamError, ParamSpec, Params};
use flexsim_sim::policy::{normalize_scores, topology, Greedy, NodeScorer, Policy, SimRng};

use crate::best_fit::BestFit;

pub const PARAMS: &[ParamSpec] = &[
    ParamSpec {
        key: "mode",
        default: "soft",
        help: "soft: a gang takes the lowest network tier that fits now, else anywhere; hard: \
               only within one switch of tier `tier` or below, else it waits",
    },
    ParamSpec {
        key: "tier",
        default: "1",
        help: "mode=hard: the highest network tier a gang may span, 1-based (1 = one rack)",
    },
];

pub struct TopoAware {
    /// Hard mode's highest network level (0-based: 0 = rack); `None` in soft mode.
    max_level: Option<usize>,
    greedy: Greedy<BestFit>,
    feasible: Vec<NodeId>,
    scores: Vec<i64>,
}

impl TopoAware {
    pub fn new(max_level: Option<usize>) -> Self {
        TopoAware {
            max_level,
            greedy: Greedy::new(BestFit),
            feasible: Vec::new(),
            scores: Vec::new(),
        }
    }

    pub fn from_params(p: &Params) -> Result<Self, ParamError> {
        let tier: usize = p.parse("tier", "a tier number, at least 1")?;
        if tier == 0 {
            return Err(p.bad("tier", "a tier number, at least 1 (1 = one rack)"));
        }
        match p.choice("mode", &["soft", "hard"])? {
            "hard" => Ok(TopoAware::new(Some(tier - 1))),
            _ if tier != 1 => Err(p.bad(
                "tier",
                "tier applies to mode=hard only (soft mode always takes the lowest tier that \
                 fits); add mode=hard",
            )),
            _ => Ok(TopoAware::new(None)),
        }
    }

    /// Best-fit among the feasible nodes where one fabric domain holds `pod`, with those cards.
    fn in_one_domain(&mut self, cluster: &Cluster, pod: &Pod) -> Option<Placement> {
        cluster.feasible_nodes(pod, &mut self.feasible);
        let mut domain_cards: Vec<(NodeId, Vec<u16>)> = self
            .feasible
            .iter()
            .filter_map(|&n| topology::tightest_cards(cluster, n, pod).map(|g| (n, g)))
            .collect();
        if domain_cards.is_empty() {
            return None;
        }
        let mut scorer = BestFit;
        self.scores.clear();
        self.scores.extend(
            domain_cards
                .iter()
                .map(|(n, _)| scorer.score(cluster, *n, pod)),
        );
        normalize_scores(&mut self.scores);
        let mut best = 0;
        for i in 1..self.scores.len() {
            if self.scores[i] > self.scores[best] {
                best = i;
            }
        }
        let (node, gpus) = domain_cards.swap_remove(best);
        Some(Placement { node, gpus })
    }
}

impl Default for TopoAware {
    fn default() -> Self {
        TopoAware::new(None)
    }
}

impl Policy for TopoAware {
    fn name(&self) -> &str {
        "topo-aware"
    }

    /// FIFO, no preemption, a job refused only when no node holds it (`ReplayHints`).
    fn replay_hints(&self) -> flexsim_sim::policy::ReplayHints {
        flexsim_sim::policy::ReplayHints::PLACER
    }

    fn uses_topology(&self) -> bool {
        true
    }

    fn place(
        &mut self,
        cluster: &Cluster,
        job: PodId,
        pod: &Pod,
        rng: &mut SimRng,
    ) -> Option<Placement> {
        if pod.num_gpu >= 2 && cluster.topology().is_some() {
            if let Some(p) = self.in_one_domain(cluster, pod) {
                return Some(p);
            }
        }
        self.greedy.place(cluster, job, pod, rng)
    }

    fn place_gang(
        &mut self,
        cluster: &Cluster,
        job: PodId,
        pod: &Pod,
        rng: &mut SimRng,
    ) -> Option<GangPlacement> {
        if cluster.topology().is_none() {
            return self.greedy.place_gang(cluster, job, pod, rng);
        }
        let levels = cluster.topology().map_or(1, |t| t.levels.len());
        let limit = self.max_level.map(|l| l.min(levels - 1));
        topology::tightest_gang(cluster, pod, &mut BestFit, rng, limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flexsim_sim::model::fleet::Fleet;
    use flexsim_sim::model::job::GpuSpec;
    use flexsim_sim::testing::rng;
    use std::path::Path;

    /// Two racks: r0 with one HGX node, r1 with two; one Atlas 800 in r0.
    fn cluster() -> Cluster {
        let toml = "[[groups]]\nname = \"a\"\ncount = 3\ncpu_milli = 128000\nmemory_mib = \
                    1048576\nmodel = \"A100-80\"\ndevices = 8\nrack = \"r{i/2}\"\n\n[[groups]]\n\
                    name = \"npu\"\ncount = 1\ncpu_milli = 128000\nmemory_mib = 1048576\nmodel = \
                    \"Ascend910B3\"\ndevices = 8\nrack = \"r0\"\n";
        Cluster::new(&Fleet::parse_toml(Path::new("t.toml"), toml).unwrap())
    }

    fn job(gpus: u32, model: &str) -> Pod {
        let mut p = Pod::new("j", 1000, 1024, gpus, 1000);
        p.gpu_spec = GpuSpec::parse(model);
        p
    }

    #[test]
    fn a_gang_takes_one_rack_when_one_holds_it_and_hard_mode_waits_for_one() {
        let mut c = cluster();
        // a-0000, a-0001 in r0; a-0002 in r1 (`{i/2}`). 16 GPUs: r0 holds them.
        let g = TopoAware::default()
            .place_gang(&c, 0, &job(16, "A100-80"), &mut rng())
            .unwrap();
        let mut nodes: Vec<usize> = g.parts.iter().map(|p| p.node).collect();
        nodes.sort_unstable();
        assert_eq!(nodes, [0, 1]);
        // One card busy in r0: soft spreads over the spine, hard waits.
        c.place(
            9,
            &job(1, "A100-80"),
            Placement {
                node: 0,
                gpus: vec![0],
            },
        )
        .unwrap();
        let soft = TopoAware::default().place_gang(&c, 0, &job(16, "A100-80"), &mut rng());
        assert_eq!(soft.unwrap().gpu_count(), 16);
        let mut hard = TopoAware::new(Some(0));
        assert!(hard
            .place_gang(&c, 0, &job(16, "A100-80"), &mut rng())
            .is_none());
    }

    #[test]
    fn a_four_npu_job_takes_one_hccs_ring() {
        let mut c = cluster();
        let npu = 3;
        // Two NPUs busy, one in each ring: no ring holds 4 → best-fit's cards; then with ring 1
        // free again, ring 1.
        c.place(
            7,
            &job(1, "Ascend910B3"),
            Placement {
                node: npu,
                gpus: vec![1],
            },
        )
        .unwrap();
        let p = TopoAware::default()
            .place(&c, 0, &job(4, "Ascend910B3"), &mut rng())
            .unwrap();
        assert_eq!((p.node, p.gpus), (npu, vec![4, 5, 6, 7]));
        c.place(
            8,
            &job(1, "Ascend910B3"),
            Placement {
                node: npu,
                gpus: vec![5],
            },
        )
        .unwrap();
        let p = TopoAware::default()
            .place(&c, 0, &job(4, "Ascend910B3"), &mut rng())
            .unwrap();
        assert_eq!(
            p.gpus.len(),
            4,
            "no ring holds it: best-fit's cards across PCIe"
        );
    }

    #[test]
    fn tier_is_refused_in_soft_mode_and_zero_everywhere() {
        let req = |s: &str| {
            let r = flexsim_sim::policy::params::PolicyRequest::parse(s).unwrap();
            Params::resolve(&r, PARAMS).unwrap()
        };
        assert!(TopoAware::from_params(&req("topo-aware[tier=2]")).is_err());
        assert!(TopoAware::from_params(&req("topo-aware[mode=hard,tier=0]")).is_err());
        let t = TopoAware::from_params(&req("topo-aware[mode=hard,tier=2]")).unwrap();
        assert_eq!(t.max_level, Some(1));
    }
}
