//! Topology-aware placement as a building block (DESIGN "Policy API": the engine offers the
//! feasible placements of a job "as a gang ranked by the topology tier it spans"; issue 10
//! item 3), so no policy re-implements it:
//!
//! * [`gang_options`]: every network switch whose nodes can hold a gang job now, tightest first
//!   — lowest level (one rack before one spine), then the fewest nodes the gang needs under it
//!   (largest free parts first), then the fewest free devices under the switch (best fit: the
//!   job takes the fullest group that holds it, keeping emptier racks whole for larger gangs),
//!   then the switch's index;
//! * [`tightest_gang`]: the first of those options on which the engine's greedy gang placer
//!   ([`gang::greedy_among`]: fewest nodes, the scorer among equals) builds a complete gang —
//!   "the tightest gang placement"; with a level limit it is Volcano's *hard* mode (no gang
//!   beyond that level), without one its *soft* mode;
//! * [`tightest_cards`]: on one node, the cards of one fabric domain (an NVSwitch board, an
//!   HCCS ring) for a multi-device job, the fullest domain that holds it first.
//!
//! On a fleet without a topology each returns `None` (the caller keeps its flat rule), so a
//! policy using them is unchanged there.
//!
//! Cost: [`gang_options`] one pass over the nodes (their part capacity) and one per level over
//! the candidates, O(nodes × levels); [`tightest_gang`] adds the greedy placer's cost on the
//! nodes of each option tried. [`tightest_cards`]: O(cards of the node).

use crate::model::cluster::{Cluster, NodeId};
use crate::model::gang::GangPlacement;
use crate::model::job::Pod;
use crate::model::topology::Tier;
use crate::policy::gang::{self, gang_candidates, GangCandidate};
use crate::policy::{NodeScorer, SimRng};

/// A network switch under which a gang job fits now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GangOption {
    /// The network level (0: rack).
    pub level: usize,
    /// The switch's index at that level ([`Topology::switches`](crate::model::topology::Topology::switches)).
    pub switch: u32,
    /// Devices the candidate nodes under it can take for this job now.
    pub capacity: u64,
    /// The fewest of its candidate nodes that hold the job (largest parts first).
    pub nodes: usize,
}

impl GangOption {
    /// The tier a gang placed under this switch spans at most.
    pub fn tier(&self) -> Tier {
        Tier::Net(self.level as u8)
    }
}

/// Whether candidates holding `capacity` devices on `nodes` nodes can take gang `pod`.
fn enough(pod: &Pod, nodes: usize, capacity: u64) -> bool {
    match pod.gang {
        Some(s) => nodes >= s.num_nodes as usize,
        None => capacity >= u64::from(pod.num_gpu),
    }
}

/// Every switch under which gang job `pod` fits now (`cands`: [`gang_candidates`]), ranked
/// tightest first (module notes). Empty on a fleet without a topology. Cost: O(candidates ×
/// log candidates) per network level.
pub fn gang_options(cluster: &Cluster, pod: &Pod, cands: &[GangCandidate]) -> Vec<GangOption> {
    let Some(topo) = cluster.topology() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for level in 0..topo.levels.len() {
        let switches = topo.switches[level].len();
        let mut parts: Vec<Vec<u32>> = vec![Vec::new(); switches];
        for c in cands {
            parts[topo.switch_of(c.node, level) as usize].push(c.max_gpus);
        }
        let mut fitting: Vec<GangOption> = Vec::new();
        for (s, caps) in parts.iter_mut().enumerate() {
            let capacity: u64 = caps.iter().map(|&k| u64::from(k)).sum();
            if !enough(pod, caps.len(), capacity) {
                continue;
            }
            let nodes = match pod.gang {
                Some(shape) => shape.num_nodes as usize,
                None => {
                    caps.sort_unstable_by(|a, b| b.cmp(a));
                    let mut held = 0u64;
                    caps.iter()
                        .take_while(|&&k| {
                            let short = held < u64::from(pod.num_gpu);
                            held += u64::from(k);
                            short
                        })
                        .count()
                }
            };
            fitting.push(GangOption {
                level,
                switch: s as u32,
                capacity,
                nodes,
            });
        }
        fitting.sort_by_key(|o| (o.nodes, o.capacity, o.switch));
        out.extend(fitting);
    }
    out
}

/// The tightest gang placement of `pod` now (module notes) with `scorer` choosing among nodes,
/// no higher than network level `max_level` if given; `None` if there is none within it, or
/// the fleet has no topology.
pub fn tightest_gang<S: NodeScorer + ?Sized>(
    cluster: &Cluster,
    pod: &Pod,
    scorer: &mut S,
    rng: &mut SimRng,
    max_level: Option<usize>,
) -> Option<GangPlacement> {
    let topo = cluster.topology()?;
    let mut cands = Vec::new();
    gang_candidates(cluster, pod, &mut cands);
    for option in gang_options(cluster, pod, &cands) {
        if max_level.is_some_and(|l| option.level > l) {
            break;
        }
        let under: Vec<GangCandidate> = cands
            .iter()
            .copied()
            .filter(|c| topo.switch_of(c.node, option.level) == option.switch)
            .collect();
        if let Some(g) = gang::greedy_among(cluster, pod, under, scorer, rng) {
            return Some(g);
        }
    }
    None
}

/// For a multi-device job `pod` on `node`: `num_gpu` cards of one fabric domain that can take
/// it — the domain with the fewest fitting cards that still holds it, lowest index among equals
/// (best fit: whole domains stay free for larger jobs) — or `None` when no domain holds it, the
/// node's board has no fabric, the job has one device, or the fleet has no topology.
pub fn tightest_cards(cluster: &Cluster, node: NodeId, pod: &Pod) -> Option<Vec<u16>> {
    let fitting = cluster.node(node).fitting_cards(pod);
    domain_pick(cluster, node, &fitting, pod.num_gpu as usize)
}

/// [`tightest_cards`] among `cards` (the cards a policy would accept on `node`, in the order it
/// prefers them): `need` of them in one fabric domain — the domain with the fewest of `cards`
/// that still holds `need`, lowest index among equals — taken in `cards`' order and returned
/// ascending; `None` when no domain holds them (or no topology, no fabric, `need` < 2).
pub fn domain_pick(
    cluster: &Cluster,
    node: NodeId,
    cards: &[u16],
    need: usize,
) -> Option<Vec<u16>> {
    let topo = cluster.topology()?;
    let n = cluster.node(node);
    let board = topo.boards.get(&n.model)?;
    let domain = usize::from(board.domain);
    if need < 2 || domain <= 1 || need > domain {
        return None;
    }
    let domains = n.gpu_count().div_ceil(domain);
    let mut count = vec![0usize; domains];
    for &g in cards {
        count[usize::from(g) / domain] += 1;
    }
    let best = (0..domains)
        .filter(|&d| count[d] >= need)
        .min_by_key(|&d| (count[d], d))?;
    let mut picked: Vec<u16> = cards
        .iter()
        .copied()
        .filter(|&g| usize::from(g) / domain == best)
        .take(need)
        .collect();
    picked.sort_unstable();
    Some(picked)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::cluster::Placement;
    use crate::model::fleet::Fleet;
    use crate::policy::gang::Unscored;
    use rand::SeedableRng;
    use std::path::Path;

    /// Three racks: r0 with 2 HGX nodes, r1 with 3, r2 with 1 Atlas 800 (two HCCS rings).
    fn cluster() -> Cluster {
        let toml = r#"
[[groups]]
name = "a"
count = 5
cpu_milli = 128000
memory_mib = 1048576
model = "A100-80"
devices = 8
rack = "r{i/2}"

[[groups]]
name = "npu"
count = 1
cpu_milli = 128000
memory_mib = 1048576
model = "Ascend910B3"
devices = 8
rack = "r9"
"#;
        Cluster::new(&Fleet::parse_toml(Path::new("t.toml"), toml).unwrap())
    }

    fn job(gpus: u32) -> Pod {
        let mut p = Pod::new("g", 8_000, 1024, gpus, 1000);
        p.gpu_spec = crate::model::job::GpuSpec::parse("A100-80");
        p
    }

    fn with_gpus(p: &Pod, k: u32) -> Pod {
        let mut q = p.clone();
        q.num_gpu = k;
        q
    }

    fn nodes(g: &GangPlacement) -> Vec<usize> {
        let mut n: Vec<usize> = g.parts.iter().map(|p| p.node).collect();
        n.sort_unstable();
        n
    }

    #[test]
    fn gangs_go_to_the_fullest_rack_that_holds_them_then_up_a_level() {
        let mut c = cluster();
        let mut rng = SimRng::seed_from_u64(1);
        // Racks: r0 = nodes 0, 1; r1 = 2, 3; r2 = 4 (the A100s, `{i/2}`); r9 = the NPU node.
        // 16 GPUs: r0 and r1 both hold it with 16 free; r0 first (index).
        let g = tightest_gang(&c, &job(16), &mut Unscored, &mut rng, None).unwrap();
        assert_eq!(nodes(&g), [0, 1]);
        // One card busy on node 0: r0 now holds 15, r1 still 16 → r1.
        c.place(
            99,
            &job(1),
            Placement {
                node: 0,
                gpus: vec![0],
            },
        )
        .unwrap();
        let g = tightest_gang(&c, &job(16), &mut Unscored, &mut rng, None).unwrap();
        assert_eq!(nodes(&g), [2, 3]);
        // 24 GPUs fit in no rack: across the spine; with a rack limit (hard mode): none.
        let g = tightest_gang(&c, &job(24), &mut Unscored, &mut rng, None).unwrap();
        assert_eq!(g.gpu_count(), 24);
        assert_eq!(
            c.spread(
                &g.parts
                    .iter()
                    .map(|p| (p.node, &p.gpus[..]))
                    .collect::<Vec<_>>()
            )
            .unwrap()
            .0,
            Tier::Net(1)
        );
        assert!(tightest_gang(&c, &job(24), &mut Unscored, &mut rng, Some(0)).is_none());
        let opts = {
            let mut cands = Vec::new();
            gang_candidates(&c, &job(16), &mut cands);
            gang_options(&c, &job(16), &cands)
        };
        // r1 (16 free) is the only rack holding 16; then the spine.
        assert_eq!(
            opts.iter().map(|o| (o.level, o.switch)).collect::<Vec<_>>(),
            [(0, 1), (1, 0)]
        );
    }

    #[test]
    fn fewer_nodes_rank_before_a_fuller_rack() {
        let toml = "[[groups]]\nname = \"a\"\ncount = 6\ncpu_milli = 128000\nmemory_mib = \
                    1048576\nmodel = \"A100-80\"\ndevices = 8\nrack = \"r{i/3}\"\n";
        let mut c = Cluster::new(&Fleet::parse_toml(Path::new("t.toml"), toml).unwrap());
        let busy = |c: &mut Cluster, id: usize, node: usize, k: u16| {
            c.place(
                id,
                &with_gpus(&job(1), u32::from(k)),
                Placement {
                    node,
                    gpus: (0..k).collect(),
                },
            )
            .unwrap();
        };
        // r0 = nodes 0, 1, 2 with 8, 8, 1 free (17: two nodes hold 16); r1 = 3, 4, 5 with
        // 6, 6, 4 free (16: the fuller rack, but three nodes).
        busy(&mut c, 90, 2, 7);
        busy(&mut c, 91, 3, 2);
        busy(&mut c, 92, 4, 2);
        busy(&mut c, 93, 5, 4);
        let mut cands = Vec::new();
        gang_candidates(&c, &job(16), &mut cands);
        let opts = gang_options(&c, &job(16), &cands);
        assert_eq!(
            opts.iter()
                .map(|o| (o.level, o.switch, o.nodes))
                .collect::<Vec<_>>(),
            [(0, 0, 2), (0, 1, 3), (1, 0, 2)]
        );
        let g = tightest_gang(
            &c,
            &job(16),
            &mut Unscored,
            &mut SimRng::seed_from_u64(1),
            None,
        )
        .unwrap();
        assert_eq!(nodes(&g), [0, 1]);
    }

    #[test]
    fn multi_device_jobs_take_one_fabric_domain_the_fullest_first() {
        let mut c = cluster();
        let npu = 5;
        let mut p = Pod::new("n", 1000, 1024, 3, 1000);
        p.gpu_spec = crate::model::job::GpuSpec::parse("Ascend910B3");
        // Both rings empty: the first.
        assert_eq!(tightest_cards(&c, npu, &p), Some(vec![0, 1, 2]));
        // Ring 0 has one card busy: 3 fit in it (the fullest that holds 3), not in ring 1.
        c.place(
            98,
            &with_gpus(&p, 1),
            Placement {
                node: npu,
                gpus: vec![1],
            },
        )
        .unwrap();
        assert_eq!(tightest_cards(&c, npu, &p), Some(vec![0, 2, 3]));
        // Five never fit in a ring of four; one device needs no domain.
        assert_eq!(tightest_cards(&c, npu, &with_gpus(&p, 5)), None);
        assert_eq!(tightest_cards(&c, npu, &with_gpus(&p, 1)), None);
    }
}
