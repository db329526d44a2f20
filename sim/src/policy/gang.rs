//! Gang placement as a building block: the nodes that can take a part of a gang job now, and
//! the default greedy gang placer ([`greedy`]) that [`Policy::place_gang`]'s default and the
//! [`Greedy`] block use, so no policy re-implements gang feasibility (DESIGN "Policy API").
//!
//! The placer fills as few nodes as it can — the consolidation Tiresias (Gu et al., NSDI'19
//! §4.2.1) and Gandiva prefer, since every node a job spans adds network traffic — and lets
//! the node scorer choose among nodes that would take parts of the same size:
//!
//! 1. every node that can take a part now, with the most devices it can hold
//!    ([`gang_candidates`], [`part_capacity`]), in the run's node priority order;
//! 2. a job with a stated shape takes the `num_nodes` best-scored of them; a split job takes
//!    nodes by capacity (largest first), best score first among equal capacities, each part as
//!    large as the node allows, the last one the remainder;
//! 3. the scorer's GPU choice on each node ([`NodeScorer::select_gpus`]); a node where it
//!    declines is passed over.
//!
//! Ties go to the earlier node in [`Cluster::by_priority`], as for single-node placement. The
//! result is complete or `None`: a gang is never proposed in part.
//!
//! [`Policy::place_gang`]: crate::policy::Policy::place_gang
//! [`Greedy`]: crate::policy::Greedy

use crate::model::cluster::{Cluster, NodeId, Placement};
use crate::model::gang::{part_capacity, part_request, GangPlacement};
use crate::model::job::Pod;
use crate::policy::{gpu_select, normalize_scores, NodeScorer, SimRng};

/// A node that can take a part of a gang job now, and the most devices that part may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GangCandidate {
    pub node: NodeId,
    pub max_gpus: u32,
}

/// The nodes that can take a part of gang job `pod` now, in priority order, into `out`
/// (cleared first).
pub fn gang_candidates(cluster: &Cluster, pod: &Pod, out: &mut Vec<GangCandidate>) {
    out.clear();
    for &node in cluster.by_priority() {
        let max_gpus = part_capacity(cluster.node(node), pod);
        if max_gpus > 0 {
            out.push(GangCandidate { node, max_gpus });
        }
    }
}

/// Scores nothing: every node ties, so [`greedy`] orders by capacity and node priority. The
/// scorer of [`Policy::place_gang`](crate::policy::Policy::place_gang)'s default.
pub struct Unscored;

impl NodeScorer for Unscored {
    fn name(&self) -> &str {
        "unscored"
    }
    fn score(&mut self, _: &Cluster, _: NodeId, _: &Pod) -> i64 {
        0
    }
}

/// The default greedy gang placement of `pod` on `cluster` now, nodes scored by `scorer`
/// (see the module notes), or `None` if no complete gang exists.
pub fn greedy<S: NodeScorer + ?Sized>(
    cluster: &Cluster,
    pod: &Pod,
    scorer: &mut S,
    rng: &mut SimRng,
) -> Option<GangPlacement> {
    let mut cands = Vec::new();
    gang_candidates(cluster, pod, &mut cands);
    greedy_among(cluster, pod, cands, scorer, rng)
}

/// [`greedy`] over the candidate nodes `cands` only (in priority order; e.g. the nodes of one
/// rack, [`crate::policy::topology::tightest_gang`]).
pub fn greedy_among<S: NodeScorer + ?Sized>(
    cluster: &Cluster,
    pod: &Pod,
    mut cands: Vec<GangCandidate>,
    scorer: &mut S,
    rng: &mut SimRng,
) -> Option<GangPlacement> {
    let held: u64 = cands.iter().map(|c| u64::from(c.max_gpus)).sum();
    let enough = match pod.gang {
        Some(s) => cands.len() >= s.num_nodes as usize,
        None => held >= u64::from(pod.num_gpu),
    };
    if !enough {
        return None;
    }
    // Largest parts first (stable: node priority kept among equals); a stated shape has one
    // size.
    cands.sort_by_key(|c| std::cmp::Reverse(c.max_gpus));
    let mut order: Vec<GangCandidate> = Vec::with_capacity(cands.len());
    let mut scores: Vec<i64> = Vec::new();
    for group in cands.chunk_by(|a, b| a.max_gpus == b.max_gpus) {
        let part = part_request(pod, group[0].max_gpus);
        scorer.pre_score(cluster, &part);
        scores.clear();
        scores.extend(group.iter().map(|c| scorer.score(cluster, c.node, &part)));
        if scorer.normalize() {
            normalize_scores(&mut scores);
        }
        let mut ranked: Vec<(i64, GangCandidate)> =
            scores.iter().copied().zip(group.iter().copied()).collect();
        ranked.sort_by_key(|&(s, _)| std::cmp::Reverse(s));
        order.extend(ranked.iter().map(|&(_, c)| c));
    }
    let mut parts = Vec::new();
    let mut left = pod.num_gpu;
    for &GangCandidate { node, max_gpus } in &order {
        if left == 0 {
            break;
        }
        let k = max_gpus.min(left);
        let part = part_request(pod, k);
        if let Some(gpus) = scorer.select_gpus(cluster, node, &part, rng) {
            if gpus.len() == k as usize {
                parts.push(Placement { node, gpus });
                left -= k;
            }
        }
    }
    let complete = match pod.gang {
        Some(s) => parts.len() == s.num_nodes as usize && left == 0,
        None => left == 0,
    };
    complete.then_some(GangPlacement { parts })
}

/// YARN's gang placement as the Tiresias simulator's `yarn` scheme does it
/// (`switch.py:try_cross_node_alloc`): a job of n devices on nodes of g takes ⌊n / g⌋ wholly
/// idle nodes in fleet order, all their cards, and the rest (n mod g) on the first other node
/// in fleet order with room — or nothing, if either is missing; it never splits over partly
/// used nodes. A stated shape takes the first `num_nodes` nodes in fleet order with room for a
/// part. Cards are the lowest-index fitting ones. The gang counterpart of first-fit
/// placement; cost O(nodes × cards).
pub fn yarn(cluster: &Cluster, pod: &Pod) -> Option<GangPlacement> {
    let nodes = cluster.nodes().len();
    let mut parts: Vec<Placement> = Vec::new();
    let take = |node: NodeId, k: u32, parts: &mut Vec<Placement>| {
        let part = part_request(pod, k);
        let n = cluster.node(node);
        if !n.fits(&part) {
            return false;
        }
        match gpu_select::lowest_index(n, &part) {
            Some(gpus) => {
                parts.push(Placement { node, gpus });
                true
            }
            None => false,
        }
    };
    if let Some(shape) = pod.gang {
        for node in 0..nodes {
            if parts.len() == shape.num_nodes as usize {
                break;
            }
            take(node, shape.gpus_per_node, &mut parts);
        }
        return (parts.len() == shape.num_nodes as usize).then_some(GangPlacement { parts });
    }
    let mut left = pod.num_gpu;
    for node in 0..nodes {
        let n = cluster.node(node);
        let cards = n.gpu_free_milli().len() as u32;
        // Wholly idle: every card can take a part of the job.
        let idle = cards > 0 && n.fitting_cards(pod).len() as u32 == cards;
        if idle && left >= cards && take(node, cards, &mut parts) {
            left -= cards;
        }
    }
    if left > 0 {
        let taken: Vec<NodeId> = parts.iter().map(|p| p.node).collect();
        (0..nodes)
            .filter(|node| !taken.contains(node))
            .find(|&node| take(node, left, &mut parts))?;
    }
    (parts.len() >= 2).then_some(GangPlacement { parts })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fleet::{Fleet, NodeSpec};
    use crate::model::job::GangShape;
    use rand::SeedableRng;

    /// Nodes of `cards` whole V100s each.
    fn cluster(cards: &[u32]) -> Cluster {
        let specs = cards
            .iter()
            .enumerate()
            .map(|(i, &g)| NodeSpec::new(format!("n{i}"), 64_000, 512 * 1024, g, "V100M32".into()))
            .collect();
        Cluster::new(&Fleet::new("g".into(), specs))
    }

    fn rng() -> SimRng {
        SimRng::seed_from_u64(1)
    }

    fn nodes(g: &GangPlacement) -> Vec<(NodeId, usize)> {
        g.parts.iter().map(|p| (p.node, p.gpus.len())).collect()
    }

    /// Scores a node by its index: the last node is best.
    struct ByIndex;
    impl NodeScorer for ByIndex {
        fn name(&self) -> &str {
            "by-index"
        }
        fn score(&mut self, _: &Cluster, node: NodeId, _: &Pod) -> i64 {
            node as i64
        }
    }

    #[test]
    fn a_split_job_fills_the_fewest_nodes_largest_first() {
        let c = cluster(&[4, 8, 8, 2]);
        let g = greedy(
            &c,
            &Pod::new("g", 1000, 10, 12, 1000),
            &mut Unscored,
            &mut rng(),
        )
        .unwrap();
        assert_eq!(nodes(&g), vec![(1, 8), (2, 4)]);
        c.check_gang(&Pod::new("g", 1000, 10, 12, 1000), &g)
            .unwrap();
        // The scorer chooses among nodes of equal capacity: n2 scores higher.
        let g = greedy(
            &c,
            &Pod::new("g", 1000, 10, 12, 1000),
            &mut ByIndex,
            &mut rng(),
        )
        .unwrap();
        assert_eq!(nodes(&g), vec![(2, 8), (1, 4)]);
        assert!(greedy(
            &c,
            &Pod::new("g", 1000, 10, 23, 1000),
            &mut Unscored,
            &mut rng()
        )
        .is_none());
        let all = greedy(
            &c,
            &Pod::new("g", 1000, 10, 22, 1000),
            &mut Unscored,
            &mut rng(),
        )
        .unwrap();
        assert_eq!(nodes(&all), vec![(1, 8), (2, 8), (0, 4), (3, 2)]);
    }

    #[test]
    fn a_stated_shape_takes_that_many_best_nodes() {
        let c = cluster(&[4, 8, 8, 2]);
        let mut pod = Pod::new("g", 1000, 10, 8, 1000);
        pod.gang = Some(GangShape {
            num_nodes: 2,
            gpus_per_node: 4,
        });
        let g = greedy(&c, &pod, &mut Unscored, &mut rng()).unwrap();
        assert_eq!(nodes(&g), vec![(0, 4), (1, 4)], "node priority");
        let g = greedy(&c, &pod, &mut ByIndex, &mut rng()).unwrap();
        assert_eq!(nodes(&g), vec![(2, 4), (1, 4)]);
        pod.gang = Some(GangShape {
            num_nodes: 4,
            gpus_per_node: 2,
        });
        pod.num_gpu = 8;
        assert_eq!(
            greedy(&c, &pod, &mut Unscored, &mut rng())
                .unwrap()
                .parts
                .len(),
            4
        );
        pod.gang = Some(GangShape {
            num_nodes: 4,
            gpus_per_node: 3,
        });
        pod.num_gpu = 12;
        assert!(
            greedy(&c, &pod, &mut Unscored, &mut rng()).is_none(),
            "n3 has 2 cards"
        );
    }

    #[test]
    fn yarn_takes_wholly_idle_nodes_in_fleet_order_and_the_rest_first_fit() {
        // Four nodes of 4 cards; n0 has one card taken. A 6-card job: one wholly idle node
        // (n1, the first), then its 2 others on the first other node with room (n0).
        let mut c = cluster(&[4, 4, 4, 4]);
        let one = Placement {
            node: 0,
            gpus: vec![0],
        };
        c.place(0, &Pod::new("x", 1000, 10, 1, 1000), one).unwrap();
        let six = Pod::new("six", 1000, 10, 6, 1000);
        let g = yarn(&c, &six).unwrap();
        assert_eq!(nodes(&g), vec![(1, 4), (0, 2)]);
        assert_eq!(g.parts[1].gpus, vec![1, 2], "the lowest free cards");
        c.check_gang(&six, &g).unwrap();
        // With a card of n1 taken too, 12 cards need three wholly idle nodes and only n2, n3
        // are: none — though 3 + 3 + 4 + 4 cards are free (greedy splits over them).
        let one = Placement {
            node: 1,
            gpus: vec![0],
        };
        c.place(1, &Pod::new("y", 1000, 10, 1, 1000), one).unwrap();
        let twelve = Pod::new("twelve", 1000, 10, 12, 1000);
        assert!(yarn(&c, &twelve).is_none());
        assert!(greedy(&c, &twelve, &mut Unscored, &mut rng()).is_some());
        // A stated shape: the first nodes in fleet order with room for a part.
        let mut pod = Pod::new("g", 1000, 10, 6, 1000);
        pod.gang = Some(GangShape {
            num_nodes: 2,
            gpus_per_node: 3,
        });
        assert_eq!(nodes(&yarn(&c, &pod).unwrap()), vec![(0, 3), (1, 3)]);
        assert_eq!(nodes(&yarn(&c, &six).unwrap()), vec![(2, 4), (0, 2)]);
    }
}
