//! The `inflation` protocol: the FGD paper's snapshot experiment (fgd-protocol §2.0–§2.4).
//!
//! Pods arrive one at a time in a seeded shuffled order, tuned to a target share of the
//! cluster's GPU capacity (130% in the paper) with random clones; they never leave and a pod
//! that finds no place is dropped. After every pod the cluster is sampled for the curves.

use crate::engine::event_queue::EventQueue;
use crate::error::EngineError;
use crate::metrics::curve::Sample;
use crate::metrics::frag_tracker::FragTracker;
use crate::model::cluster::{Cluster, Unplaceable};
use crate::model::fleet::{Fleet, ModelMode};
use crate::model::fragmentation::TypicalPods;
use crate::model::job::{Pod, Workload};
use crate::policy::{Policy, Setup, SimRng};
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use std::collections::BTreeMap;

/// What defines one inflation run besides the inputs and the policy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InflationConfig {
    pub seed: u64,
    /// Target arrived GPU request as a share of cluster capacity (`-tune 1.3`), in (0, 10].
    pub tune_ratio: f64,
}

impl Default for InflationConfig {
    fn default() -> Self {
        InflationConfig {
            seed: 42,
            tune_ratio: 1.3,
        }
    }
}

/// What an inflation run produced.
#[derive(Debug, Clone)]
pub struct InflationOutcome {
    /// One sample after each arrived pod, in arrival order.
    pub samples: Vec<Sample>,
    pub pods_arrived: usize,
    pub pods_failed: usize,
    pub gpu_capacity_milli: u64,
    /// Σ GPU milli the placed pods *requested* (without a slicing mode's rounding or whole
    /// cards): what allocation would be if every grant were exactly the request.
    pub placed_request_milli: u64,
    /// The slicing mode each device model ran in, and where it came from.
    pub slicing: BTreeMap<String, ModelMode>,
    /// Arrived pods that fit no node even of the empty cluster, per reason name
    /// ([`Unplaceable::name`]): part of `pods_failed`, whatever the policy.
    pub unplaceable_by_reason: BTreeMap<String, u64>,
}

/// The arrival list (§2.3 then §2.2): originals sorted by name and shuffled, then tuned to
/// `target` total GPU milli by appending clones (or by removing random pods when above it).
///
/// Linear in the trace apart from the sort and an O(log n) step per removed pod: the list is
/// built from indices into `original`, so only pods that arrive are cloned, and tune-down finds
/// the pod at a random position among those left with `Remaining` instead of `Vec::remove`
/// (quadratic: a 2.7M-pod trace against the openb fleet removes 99.6 % of its pods). The random
/// draws, and so the list, are those of the peer's algorithm.
pub fn arrival_list(original: &[Pod], target_gpu_milli: u64, rng: &mut SimRng) -> Vec<Pod> {
    // Stable sort by name, as sorting the pods themselves was; the shuffle's draws depend on
    // the length only, so shuffling indices permutes exactly as shuffling pods did.
    let mut sorted: Vec<usize> = (0..original.len()).collect();
    sorted.sort_by(|&a, &b| original[a].name.cmp(&original[b].name));
    let mut order = sorted.clone();
    order.shuffle(rng);
    let mut total: u64 = original.iter().map(Pod::total_gpu_milli).sum();
    if total < target_gpu_milli {
        let mut list: Vec<Pod> = order.iter().map(|&i| original[i].clone()).collect();
        // Clones that request no GPU never move the total: without any GPU pod the loop below
        // would never end.
        if !original.iter().any(|p| p.total_gpu_milli() > 0) {
            return list;
        }
        // tuneUpPods: the stop test uses the clone's *per-GPU* milli (a quirk kept on purpose),
        // and the loop ends at the first clone that fails it.
        let mut i = 0usize;
        loop {
            let pick = &original[sorted[rng.random_range(0..sorted.len())]];
            if total + u64::from(pick.gpu_milli) > target_gpu_milli {
                break;
            }
            let mut clone = pick.clone();
            clone.name = compact_str::format_compact!("{}-tuned-{i}", pick.name);
            total += clone.total_gpu_milli();
            list.push(clone);
            i += 1;
        }
        list
    } else {
        // tuneDownPods: delete a uniformly random position while above the target. The
        // requests, in list order, sit in one compact array: one random read per removal.
        let milli: Vec<u64> = order
            .iter()
            .map(|&i| original[i].total_gpu_milli())
            .collect();
        let mut remaining = Remaining::new(order.len());
        let mut left = order.len();
        while total > target_gpu_milli && left > 0 {
            let at = remaining.take(rng.random_range(0..left));
            total -= milli[at];
            left -= 1;
        }
        (0..order.len())
            .filter(|&at| remaining.contains(at))
            .map(|at| original[order[at]].clone())
            .collect()
    }
}

/// Positions `0..n` of a list from which positions are removed one by one: finds and removes
/// the k-th position still there in O(log n). A bitmap marks the positions left, 64 to a word,
/// and a Fenwick tree counts them per word; the tree (n/64 entries) stays in cache where a tree
/// over every position would not, which is what makes a 2.7M-pod tune-down take well under a
/// second.
struct Remaining {
    /// Bit `i % 64` of word `i / 64` is set while position `i` is there.
    words: Vec<u64>,
    /// Fenwick tree (1-based) of the set bits per word: `tree[j]` counts the words
    /// `(j - lowbit(j), j]`.
    tree: Vec<u32>,
    /// The highest power of two ≤ the number of words (0 for none): the descent's first step.
    top: usize,
}

impl Remaining {
    fn new(n: usize) -> Self {
        let mut words = vec![u64::MAX; n.div_ceil(64)];
        if let Some(last) = words.last_mut() {
            if !n.is_multiple_of(64) {
                *last = (1u64 << (n % 64)) - 1;
            }
        }
        let mut tree = vec![0u32; words.len() + 1];
        for (j, w) in words.iter().enumerate() {
            tree[j + 1] += w.count_ones();
            let parent = (j + 1) + ((j + 1) & (j + 1).wrapping_neg());
            if parent < tree.len() {
                tree[parent] += tree[j + 1];
            }
        }
        let top = match words.len() {
            0 => 0,
            m => 1 << (usize::BITS - 1 - m.leading_zeros()),
        };
        Remaining { words, tree, top }
    }

    /// Whether position `i` is still there.
    fn contains(&self, i: usize) -> bool {
        self.words[i / 64] & (1u64 << (i % 64)) != 0
    }

    /// Removes the `k`-th (0-based) position still there and returns it; `k` must be below the
    /// number of positions left.
    fn take(&mut self, k: usize) -> usize {
        // The word holding it: the last word whose prefix count is ≤ k, plus one.
        let mut k = k as u64;
        let mut pos = 0;
        let mut step = self.top;
        while step > 0 {
            let next = pos + step;
            if next < self.tree.len() && u64::from(self.tree[next]) <= k {
                pos = next;
                k -= u64::from(self.tree[next]);
            }
            step >>= 1;
        }
        let word = pos;
        // The k-th set bit of that word: skip whole bytes, then clear the lower bits.
        let mut bits = self.words[word];
        let mut base = 0;
        loop {
            let in_byte = u64::from((bits & 0xff).count_ones());
            if k < in_byte {
                break;
            }
            k -= in_byte;
            bits >>= 8;
            base += 8;
        }
        for _ in 0..k {
            bits &= bits - 1;
        }
        let bit = base + bits.trailing_zeros() as usize;
        self.words[word] &= !(1u64 << bit);
        let mut j = word + 1;
        while j < self.tree.len() {
            self.tree[j] -= 1;
            j += j & j.wrapping_neg();
        }
        word * 64 + bit
    }
}

/// The seeded node priority (§2.6): nodes sorted by name get ranks from a random permutation,
/// as the peer's random 4-digit name prefix does. Returns `rank[node]` in fleet order.
pub fn node_ranks(fleet: &Fleet, rng: &mut SimRng) -> Vec<usize> {
    let mut by_name: Vec<usize> = (0..fleet.nodes.len()).collect();
    by_name.sort_by(|&a, &b| fleet.nodes[a].name.cmp(&fleet.nodes[b].name));
    let mut perm: Vec<usize> = (0..fleet.nodes.len()).collect();
    perm.shuffle(rng);
    let mut rank = vec![0; fleet.nodes.len()];
    for (i, &node) in by_name.iter().enumerate() {
        rank[node] = perm[i];
    }
    rank
}

/// Runs the protocol for one policy and seed, on the fleet in the policy's preferred slicing
/// mode where the fleet's mode was not chosen ([`crate::engine::fleet_for`]).
pub fn run(
    fleet: &Fleet,
    workload: &Workload,
    policy: &mut dyn Policy,
    config: InflationConfig,
) -> Result<InflationOutcome, EngineError> {
    let fleet = &crate::engine::fleet_for(fleet, policy)?;
    let mut cluster = Cluster::new(fleet);
    let capacity = cluster.gpu_capacity_milli();
    if capacity == 0 {
        return Err(EngineError::NoGpuCapacity);
    }
    // §2.0: the typical pods come from the original list, before anything else.
    let typical = TypicalPods::from_pods(&workload.pods);
    if !(config.tune_ratio.is_finite() && config.tune_ratio > 0.0 && config.tune_ratio <= 10.0) {
        return Err(EngineError::InvalidTune(config.tune_ratio));
    }
    let requested = workload.total_gpu_milli();
    if requested == 0 {
        return Err(EngineError::NothingToTune {
            pods: workload.pods.len(),
        });
    }
    let mut rng = SimRng::seed_from_u64(config.seed);
    let target = (config.tune_ratio * capacity as f64).round() as u64;
    let pods = arrival_list(&workload.pods, target, &mut rng);
    if pods.iter().all(|p| p.total_gpu_milli() == 0) {
        return Err(EngineError::TunedToNothing {
            tune: config.tune_ratio,
            target_milli: target,
            capacity_milli: capacity,
            smallest_milli: workload
                .pods
                .iter()
                .map(Pod::total_gpu_milli)
                .filter(|&m| m > 0)
                .min()
                .unwrap_or(0),
        });
    }
    cluster.set_priority(&node_ranks(fleet, &mut rng));
    policy.prepare(&Setup {
        cluster: &cluster,
        original_pods: &workload.pods,
        typical: &typical,
    });

    // Pods no node of the empty cluster holds: the policy is still asked (the protocol
    // counts them failed), but they are counted apart.
    let (class, classes) = crate::engine::fit_classes(&pods);
    let mut why: Vec<Option<Option<Unplaceable>>> = vec![None; classes];
    let mut unplaceable_by_reason = BTreeMap::new();
    for (id, p) in pods.iter().enumerate() {
        let c = class[id] as usize;
        if let Some(r) = *why[c].get_or_insert_with(|| cluster.unplaceable_reason(p)) {
            *unplaceable_by_reason
                .entry(r.name().to_owned())
                .or_insert(0) += 1;
        }
    }

    // Every pod arrives at time 0; the queue's sequence numbers keep the list order.
    let mut queue = EventQueue::with_capacity(pods.len());
    for id in 0..pods.len() {
        queue.push(0, id);
    }
    let mut frag = FragTracker::new(typical, cluster.nodes().len());
    let mut samples = Vec::with_capacity(pods.len());
    let mut arrived = 0u64;
    let mut failed = 0usize;
    let mut placed_request = 0u64;
    while let Some((_, id)) = queue.pop() {
        let pod = &pods[id];
        arrived += pod.total_gpu_milli();
        match policy.place(&cluster, id, pod, &mut rng) {
            Some(placement) => {
                cluster
                    .place(id, pod, placement)
                    .map_err(|source| EngineError::Refused {
                        policy: policy.name().to_owned(),
                        pod: pod.name.to_string(),
                        source,
                    })?;
                placed_request += pod.total_gpu_milli();
            }
            None => failed += 1,
        }
        samples.push(Sample {
            arrived_gpu_milli: arrived,
            used_gpu_milli: cluster.gpu_used_milli(),
            frag_gpu_milli: frag.total(&cluster),
            idle_gpu_milli: capacity - cluster.gpu_used_milli(),
        });
    }
    Ok(InflationOutcome {
        samples,
        pods_arrived: pods.len(),
        pods_failed: failed,
        gpu_capacity_milli: capacity,
        placed_request_milli: placed_request,
        slicing: fleet.modes(),
        unplaceable_by_reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fleet::NodeSpec;

    fn pods() -> Vec<Pod> {
        vec![
            Pod::new("c", 1000, 1, 1, 500),
            Pod::new("a", 1000, 1, 8, 1000),
            Pod::new("b", 1000, 1, 0, 0),
        ]
    }

    #[test]
    fn tune_up_appends_clones_and_stops_on_per_gpu_test() {
        let mut rng = SimRng::seed_from_u64(7);
        let list = arrival_list(&pods(), 20_000, &mut rng);
        let originals: Vec<_> = list[..3].iter().map(|p| p.name.as_str()).collect();
        let mut sorted = originals.clone();
        sorted.sort();
        assert_eq!(sorted, ["a", "b", "c"]);
        assert!(list[3..].iter().all(|p| p.name.contains("-tuned-")));
        let total: u64 = list.iter().map(Pod::total_gpu_milli).sum();
        // Each accepted clone passed total + per-GPU milli ≤ target, so the total can overshoot
        // by at most one 8-GPU clone's extra 7000.
        assert!(total <= 20_000 + 7000, "{total}");
        assert!(total > 20_000 - 1000, "stopped too early: {total}");
    }

    #[test]
    fn tune_down_removes_until_at_most_target() {
        let mut rng = SimRng::seed_from_u64(7);
        let list = arrival_list(&pods(), 600, &mut rng);
        let total: u64 = list.iter().map(Pod::total_gpu_milli).sum();
        assert!(total <= 600);
    }

    /// First node where the pod fits, tightest GPU.
    struct FirstFit;
    impl Policy for FirstFit {
        fn name(&self) -> &str {
            "first-fit"
        }
        fn place(
            &mut self,
            c: &Cluster,
            _job: crate::model::job::PodId,
            pod: &Pod,
            _: &mut SimRng,
        ) -> Option<crate::model::cluster::Placement> {
            let node = (0..c.nodes().len()).find(|&n| c.node(n).fits(pod))?;
            let gpus = crate::policy::gpu_select::best(c.node(node), pod)?;
            Some(crate::model::cluster::Placement { node, gpus })
        }
    }

    #[test]
    fn pods_no_empty_node_holds_are_counted_unplaceable_among_the_failed() {
        let fleet = Fleet::new(
            "f".into(),
            (0..4)
                .map(|i| NodeSpec::new(format!("n{i}"), 64_000, 1 << 20, 2, "T4".into()))
                .collect(),
        );
        let mut v100 = Pod::new("v100", 1000, 1, 1, 500);
        v100.gpu_spec = crate::model::job::GpuSpec::parse("V100M16");
        let workload = Workload {
            name: "w".into(),
            pods: vec![
                Pod::new("t4", 1000, 1, 1, 500),
                v100,
                Pod::new("x", 1000, 1, 4, 1000),
            ],
        };
        let config = InflationConfig::default();
        let o = run(&fleet, &workload, &mut FirstFit, config).unwrap();
        // The same arrival list as the run's (its generator's first use).
        let mut rng = SimRng::seed_from_u64(config.seed);
        let target = (config.tune_ratio * 8000.0).round() as u64;
        let list = arrival_list(&workload.pods, target, &mut rng);
        let named = |prefix: &str| list.iter().filter(|p| p.name.starts_with(prefix)).count();
        assert!(named("v100") > 0 && named("x") > 0);
        let u = &o.unplaceable_by_reason;
        assert_eq!(u["gpu-models"], named("v100") as u64);
        assert_eq!(u["too-many-gpus"], named("x") as u64);
        assert!(o.pods_failed as u64 >= u.values().sum::<u64>());
    }

    #[test]
    fn same_seed_same_order_and_ranks() {
        let fleet = Fleet::new(
            "f".into(),
            (0..5)
                .map(|i| NodeSpec::new(format!("n{i}"), 1, 1, 1, "T4".into()))
                .collect(),
        );
        let draw = |seed| {
            let mut rng = SimRng::seed_from_u64(seed);
            let l: Vec<String> = arrival_list(&pods(), 20_000, &mut rng)
                .into_iter()
                .map(|p| p.name.to_string())
                .collect();
            (l, node_ranks(&fleet, &mut rng))
        };
        assert_eq!(draw(3), draw(3));
        let mut ranks = draw(3).1;
        ranks.sort();
        assert_eq!(ranks, vec![0, 1, 2, 3, 4]);
    }

    /// The arrival list as the peer builds it (and as this file did before tune-down used
    /// [`Remaining`]): pods cloned up front, `Vec::remove` at random positions.
    fn reference_arrival_list(original: &[Pod], target: u64, rng: &mut SimRng) -> Vec<Pod> {
        let mut sorted: Vec<Pod> = original.to_vec();
        sorted.sort_by(|a, b| a.name.cmp(&b.name));
        let mut list = sorted.clone();
        list.shuffle(rng);
        let mut total: u64 = list.iter().map(Pod::total_gpu_milli).sum();
        if total < target {
            let mut i = 0usize;
            loop {
                let pick = &sorted[rng.random_range(0..sorted.len())];
                if total + u64::from(pick.gpu_milli) > target {
                    break;
                }
                let mut clone = pick.clone();
                clone.name = compact_str::format_compact!("{}-tuned-{i}", pick.name);
                total += clone.total_gpu_milli();
                list.push(clone);
                i += 1;
            }
        } else {
            while total > target && !list.is_empty() {
                let at = rng.random_range(0..list.len());
                total -= list.remove(at).total_gpu_milli();
            }
        }
        list
    }

    fn many_pods(n: usize, seed: u64) -> Vec<Pod> {
        let mut rng = SimRng::seed_from_u64(seed);
        (0..n)
            .map(|i| {
                Pod::new(
                    &format!(
                        "p{:05}",
                        rng.random_range(0..1_000_000u32) * 8 + (i % 8) as u32
                    ),
                    1000,
                    1,
                    rng.random_range(0..3u32),
                    rng.random_range(1..=1000u32),
                )
            })
            .collect()
    }

    #[test]
    fn tune_is_the_peers_algorithm_without_its_quadratic_removal() {
        for seed in 0..6 {
            let pods = many_pods(3000, seed);
            let total: u64 = pods.iter().map(Pod::total_gpu_milli).sum();
            for target in [
                0,
                1,
                total / 100,
                total / 3,
                total - 1,
                total,
                total + 1,
                total * 2,
            ] {
                let mut a = SimRng::seed_from_u64(seed ^ target);
                let mut b = SimRng::seed_from_u64(seed ^ target);
                let fast = arrival_list(&pods, target, &mut a);
                let slow = reference_arrival_list(&pods, target, &mut b);
                assert_eq!(fast, slow, "seed {seed}, target {target}");
                // The generators are left in the same state too (node ranks draw next).
                assert_eq!(a.random::<u64>(), b.random::<u64>());
            }
        }
    }

    #[test]
    fn remaining_finds_the_kth_position_left() {
        let mut rng = SimRng::seed_from_u64(1);
        for n in [
            0usize, 1, 2, 3, 63, 64, 65, 100, 128, 129, 1000, 4096, 4097, 10_000,
        ] {
            let mut naive: Vec<usize> = (0..n).collect();
            let mut fast = Remaining::new(n);
            while !naive.is_empty() {
                let k = rng.random_range(0..naive.len());
                assert_eq!(fast.take(k), naive.remove(k), "n {n}");
                if let Some(&i) = naive.get(naive.len() / 2) {
                    assert!(fast.contains(i));
                }
            }
            assert!((0..n).all(|i| !fast.contains(i)));
        }
    }

    #[test]
    fn tune_refuses_bad_ratios_and_tunes_that_leave_nothing() {
        struct FirstNode;
        impl crate::policy::NodeScorer for FirstNode {
            fn name(&self) -> &str {
                "first"
            }
            fn score(&mut self, _: &Cluster, _: crate::model::cluster::NodeId, _: &Pod) -> i64 {
                0
            }
        }
        let fleet = Fleet::new(
            "f".into(),
            (0..4)
                .map(|i| NodeSpec::new(format!("n{i}"), 64_000, 1 << 20, 8, "T4".into()))
                .collect(),
        );
        let workload = |pods: Vec<Pod>| Workload {
            name: "w".into(),
            pods,
        };
        let run_with = |w: &Workload, tune_ratio: f64| {
            let mut policy = crate::policy::Greedy::new(FirstNode);
            run(
                &fleet,
                w,
                &mut policy,
                InflationConfig {
                    seed: 1,
                    tune_ratio,
                },
            )
        };
        let w = workload(pods());
        for bad in [0.0, -1.3, f64::NAN, f64::INFINITY, 10.5] {
            let e = run_with(&w, bad).unwrap_err();
            assert!(matches!(e, EngineError::InvalidTune(_)), "{bad}: {e}");
            assert!(
                e.to_string()
                    .contains("expected a share of GPU capacity in (0, 10]"),
                "{e}"
            );
        }
        assert!(run_with(&w, 1.3).is_ok());
        // CPU-only pods: nothing to tune (tune-up would never reach the target).
        let cpu_only = workload(vec![
            Pod::new("a", 1000, 1, 0, 0),
            Pod::new("b", 1000, 1, 0, 0),
        ]);
        let e = run_with(&cpu_only, 1.3).unwrap_err();
        assert!(matches!(e, EngineError::NothingToTune { pods: 2 }), "{e}");
        assert!(e.to_string().contains("2 pods request no GPU"), "{e}");
        assert!(run_with(&workload(Vec::new()), 1.3).is_err());
        // 0.00001 of 32 GPUs rounds to 0 milli: tuning down removes every GPU pod.
        let e = run_with(&w, 0.00001).unwrap_err();
        assert!(
            matches!(
                e,
                EngineError::TunedToNothing {
                    target_milli: 0,
                    capacity_milli: 32_000,
                    smallest_milli: 500,
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("leaves no GPU pod to arrive"), "{e}");
        // The library's arrival list itself never loops on pods without GPUs.
        let mut rng = SimRng::seed_from_u64(3);
        assert_eq!(arrival_list(&cpu_only.pods, 1000, &mut rng).len(), 2);
    }
}
