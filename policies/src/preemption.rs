//! Preemption by priority, shared by the preemptive classic baselines (`tiresias`, `las`,
//! `srtf`, `gittins`): a job that cannot start takes resources from running jobs of strictly
//! lower priority, the lowest first.
//!
//! * Each policy ranks running jobs (larger rank = lower priority) and offers only those
//!   ranked strictly below the waiting job as candidates. Equal priorities never preempt each
//!   other, which is what keeps the preemptive policies from preempt-restart loops at ties.
//! * On each node, candidates are taken lowest priority first until the job fits
//!   ([`Node::without`]), then those not needed are put back, highest priority first
//!   ([`fewest_victims`]). On one pool of identical cards this is exactly a re-pack of the
//!   node in priority order that skips what does not fit: the lower-priority jobs keep their
//!   cards, in priority order, as long as they fit beside the job — the Tiresias simulator's
//!   `dlas-gpu` pass (`run_sim.py`, its loop over the queues after `CLUSTER.empty_infra()`).
//! * A node that cannot be made to fit even with all its candidates gone is ruled out without
//!   copying it ([`Node::may_fit_without`]); the others are searched on copies.
//! * Among nodes where the job can be made to fit, the one whose highest-priority victim has
//!   the lowest priority wins, then the fewest victims, then the run's node priority.

use flexsim_sim::model::cluster::{Cluster, Node, NodeId};
use flexsim_sim::model::job::{Pod, PodId};
use flexsim_sim::policy::RunningJob;

/// The victims on `node` (taken in `order`) that make room for `pod`: the shortest prefix of
/// `order` after which `fits` holds, with victims that turn out not to be needed dropped again
/// (last added first). `None` if even all of them do not make room. `fits` must imply
/// [`Node::fits`]: a set the copy-free bound ([`Node::may_fit_without`]) rules out is not
/// copied and checked.
pub fn fewest_victims(
    node: &Node,
    pod: &Pod,
    order: &[PodId],
    fits: impl Fn(&Node, &Pod) -> bool,
) -> Option<Vec<PodId>> {
    fewest_victims_in(node, pod, order, fits, &mut None)
}

/// [`fewest_victims`] with a scratch node the caller keeps between searches: the what-if
/// copies go into it (`Node::copy_without`), reusing its allocations.
pub fn fewest_victims_in(
    node: &Node,
    pod: &Pod,
    order: &[PodId],
    fits: impl Fn(&Node, &Pod) -> bool,
    scratch: &mut Option<Node>,
) -> Option<Vec<PodId>> {
    if order.is_empty() || !node.may_fit_without(order, pod) {
        return None;
    }
    let scratch = copy_without_into(node, order, scratch);
    if !fits(scratch, pod) {
        return None;
    }
    // Victims are added one at a time to one copy (`Node::also_without`): the same states as
    // a copy per prefix, with one copy.
    let mut chosen: Vec<PodId> = Vec::new();
    node.copy_without(&[], scratch);
    for &v in order {
        chosen.push(v);
        scratch.also_without(&[v]);
        if fits(scratch, pod) {
            break;
        }
    }
    // Drop victims that are not needed (a later, larger one may have made room alone).
    // `fits` implies `Node::fits`, which the bound can only over-approve: a set it rules out
    // does not make room, so its copy is skipped (the answer is unchanged).
    let room = |set: &[PodId], scratch: &mut Node| {
        node.may_fit_without(set, pod) && {
            node.copy_without(set, scratch);
            fits(scratch, pod)
        }
    };
    let mut fewer: Vec<PodId> = Vec::new();
    let mut i = chosen.len();
    while i > 0 {
        i -= 1;
        fewer.clone_from(&chosen);
        fewer.remove(i);
        if fewer.is_empty() {
            continue;
        }
        if room(&fewer, scratch) {
            std::mem::swap(&mut chosen, &mut fewer);
        }
    }
    Some(chosen)
}

/// `node` without `pods`, in `scratch` (made on first use, then reused).
pub fn copy_without_into<'s>(
    node: &Node,
    pods: &[PodId],
    scratch: &'s mut Option<Node>,
) -> &'s mut Node {
    match scratch {
        Some(s) => {
            node.copy_without(pods, s);
            s
        }
        None => scratch.insert(node.without(pods)),
    }
}

/// The running jobs to preempt so that `pod` fits: `candidates` are the running jobs of lower
/// priority than it, each with its rank (larger = lower priority, preempted first; ties by
/// larger job id). Empty if no node can be made to fit.
pub fn lowest_priority_first<'r, K: Ord + Copy>(
    cluster: &Cluster,
    pod: &Pod,
    candidates: impl IntoIterator<Item = (K, &'r RunningJob)>,
) -> Vec<PodId> {
    let mut cands: Vec<(NodeId, K, PodId)> = candidates
        .into_iter()
        .map(|(k, r)| (r.node, k, r.pod))
        .collect();
    lowest_priority_first_among(cluster, pod, &mut cands, &mut Vec::new())
}

/// [`lowest_priority_first`] with the candidates given as (node, rank, job) — the node the
/// job runs on — in any order (sorted here); `open` gets every node where a set of victims
/// makes room (whichever wins).
pub fn lowest_priority_first_among<K: Ord + Copy>(
    cluster: &Cluster,
    pod: &Pod,
    cands: &mut [(NodeId, K, PodId)],
    open: &mut Vec<NodeId>,
) -> Vec<PodId> {
    open.clear();
    // By node, and on each node lowest priority first.
    cands.sort_unstable_by(|a, b| a.0.cmp(&b.0).then((b.1, b.2).cmp(&(a.1, a.2))));
    // Compared: the highest-priority victim's rank (larger wins, so reversed), then the number
    // of victims, then the node's place in the run's node priority (looked up on ties only).
    let node_rank = |n: NodeId| cluster.by_priority().iter().position(|&m| m == n);
    type Choice<K> = (std::cmp::Reverse<(K, PodId)>, usize, NodeId, Vec<PodId>);
    let mut best: Option<Choice<K>> = None;
    let mut order: Vec<PodId> = Vec::new();
    let mut scratch: Option<Node> = None;
    for group in cands.chunk_by(|a, b| a.0 == b.0) {
        let n = group[0].0;
        order.clear();
        order.extend(group.iter().map(|&(_, _, id)| id));
        // Most nodes cannot be made to fit even with every candidate gone: the search says so
        // without copying the node (it copies it, into one scratch node, only for the victim
        // sets the copy-free bound allows).
        let Some(v) =
            fewest_victims_in(cluster.node(n), pod, &order, |n, p| n.fits(p), &mut scratch)
        else {
            continue;
        };
        open.push(n);
        let top = group
            .iter()
            .filter(|(_, _, id)| v.contains(id))
            .map(|&(_, k, id)| (k, id))
            .min()
            .expect("victims are candidates");
        let key = (std::cmp::Reverse(top), v.len());
        let better = match &best {
            None => true,
            Some(b) => match key.cmp(&(b.0, b.1)) {
                std::cmp::Ordering::Less => true,
                std::cmp::Ordering::Greater => false,
                std::cmp::Ordering::Equal => node_rank(n) < node_rank(b.2),
            },
        };
        if better {
            best = Some((key.0, key.1, n, v));
        }
    }
    best.map(|b| b.3).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{cluster_of, placed};

    fn gpus(n: u32) -> Pod {
        Pod::new("p", 1000, 1024, n, 1000)
    }

    /// One pool of `cards`, running jobs of the given GPU counts on it (ids 0..), ranked by id
    /// (a larger id is a lower priority); the victims for a job of `need` GPUs.
    fn pool_victims(cards: u32, running: &[u32], need: u32) -> Vec<PodId> {
        let mut c = cluster_of(&[("pool", 64_000, 1 << 20, cards)], "V100M32");
        let mut next = 0u16;
        for (id, &g) in running.iter().enumerate() {
            let cards: Vec<u16> = (next..next + g as u16).collect();
            next += g as u16;
            placed(&mut c, id, gpus(g), 0, &cards);
        }
        let run: Vec<RunningJob> = (0..running.len())
            .map(|pod| RunningJob {
                pod,
                node: 0,
                started_ms: 0,
                attained_gpu_ms: 0,
            })
            .collect();
        let mut v = lowest_priority_first(&c, &gpus(need), run.iter().map(|r| (r.pod, r)));
        v.sort_unstable();
        v
    }

    /// The Tiresias simulator's re-pack: the waiting job first, then the running jobs in
    /// priority order, each kept if it still fits; the dropped ones are the victims.
    fn repack(cards: u32, running: &[u32], need: u32) -> Vec<PodId> {
        let mut free = cards - need;
        let mut dropped = Vec::new();
        for (id, &g) in running.iter().enumerate() {
            if g <= free {
                free -= g;
            } else {
                dropped.push(id);
            }
        }
        dropped
    }

    #[test]
    fn on_a_pool_the_victims_are_those_a_priority_order_repack_drops() {
        // Hand-checked cases: priority order = job order.
        assert_eq!(
            pool_victims(7, &[1, 5, 1], 3),
            vec![1],
            "the 5 goes, the 1s stay"
        );
        assert_eq!(
            pool_victims(9, &[1, 5, 1], 3),
            vec![2],
            "the last one is enough"
        );
        assert_eq!(pool_victims(6, &[2, 1, 1, 2], 2), vec![3]);
        assert_eq!(pool_victims(5, &[2, 1, 2], 3), vec![1, 2]);
        // Every small case against the re-pack.
        for cards in 1..=6u32 {
            let mut shapes = vec![vec![]];
            for _ in 0..3 {
                shapes = shapes
                    .into_iter()
                    .flat_map(|s: Vec<u32>| {
                        (1..=cards).map(move |g| {
                            let mut t = s.clone();
                            t.push(g);
                            t
                        })
                    })
                    .collect();
                for running in &shapes {
                    if running.iter().sum::<u32>() > cards {
                        continue;
                    }
                    let free = cards - running.iter().sum::<u32>();
                    for need in free + 1..=cards {
                        assert_eq!(
                            pool_victims(cards, running, need),
                            repack(cards, running, need),
                            "{cards} cards, running {running:?}, need {need}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn the_node_with_the_lowest_priority_victims_wins() {
        let mut c = cluster_of(
            &[("a", 64_000, 1 << 20, 2), ("b", 64_000, 1 << 20, 2)],
            "V100M32",
        );
        // a: job 0 (rank 5, 2 GPUs); b: jobs 1 and 2 (ranks 7 and 6, one GPU each).
        placed(&mut c, 0, gpus(2), 0, &[0, 1]);
        placed(&mut c, 1, gpus(1), 1, &[0]);
        placed(&mut c, 2, gpus(1), 1, &[1]);
        let run: Vec<RunningJob> = [(0, 0), (1, 1), (2, 1)]
            .iter()
            .map(|&(pod, node)| RunningJob {
                pod,
                node,
                started_ms: 0,
                attained_gpu_ms: 0,
            })
            .collect();
        let ranked = |ranks: &[(u64, usize)]| -> Vec<(u64, &RunningJob)> {
            ranks.iter().map(|&(k, i)| (k, &run[i])).collect()
        };
        let cands = [(5u64, 0), (7, 1), (6, 2)];
        // Two victims on b (best rank 6) beat one on a (rank 5): lower priority goes first.
        let mut v = lowest_priority_first(&c, &gpus(2), ranked(&cands));
        v.sort_unstable();
        assert_eq!(v, vec![1, 2]);
        // A one-GPU job needs only b's lowest (rank 7).
        assert_eq!(lowest_priority_first(&c, &gpus(1), ranked(&cands)), vec![1]);
        // Without candidates on b, a's job goes.
        assert_eq!(
            lowest_priority_first(&c, &gpus(2), ranked(&[(5, 0)])),
            vec![0]
        );
        assert!(lowest_priority_first(&c, &gpus(2), ranked(&[])).is_empty());
    }
}
