//! A per-shape index of the feasible nodes, ordered best first, kept current from the
//! cluster's change log ([`Cluster::changed_since`]) instead of rescanning the fleet for every
//! decision (DESIGN "Speed": update only the nodes a decision touched).
//!
//! For each pod *shape* (every request field [`Node::fits`] reads) the index holds every
//! node's score in a tournament tree over the tie-break ranks, whose root is the highest
//! score and, among equal scores, the lowest rank — exactly the winner of "score every
//! feasible node in rank order, keep the first strictly better one"
//! ([`Greedy`](crate::policy::Greedy)). A query re-examines only the nodes that changed since
//! that shape was last asked (a node changed several times is re-examined once, and one where
//! the shape did not fit and that has only filled since is not re-examined: fitting is
//! monotone, [`Node::released_at`]), so its cost is O(changes × log nodes) rather than
//! O(nodes × cards).
//!
//! The score must be a function of the node's state and the pod's shape alone
//! ([`NodeScorer::local`](crate::policy::NodeScorer::local)): a node that did not change keeps
//! its score. Results are the full scan's, byte for byte; the index only changes the cost.
//!
//! [`Node::fits`]: crate::model::cluster::Node::fits
//! [`Node::released_at`]: crate::model::cluster::Node::released_at

use crate::model::cluster::{priority_class, Cluster, FitProbe, NodeId};
use crate::model::job::{Pod, Request};
use std::sync::Arc;

/// Shapes kept at most; the least recently asked one is dropped beyond this (only the cost of
/// rebuilding it when it comes back depends on this, never a result).
const MAX_SHAPES: usize = 64;

/// Which order breaks score ties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TieBreak {
    /// The cluster's seeded node priority ([`Cluster::by_priority`]), as [`Greedy`] does.
    ///
    /// [`Greedy`]: crate::policy::Greedy
    Priority,
    /// Fleet index order (YARN's node walk).
    Fleet,
}

/// Everything in a pod that [`Node::fits`](crate::model::cluster::Node::fits) reads, and hence
/// (for a local scorer) its score: two pods with equal shapes fit and score alike everywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Shape {
    cpu_milli: u64,
    memory_mib: u64,
    num_gpu: u32,
    gpu_milli: u32,
    gpu_memory_mib: Option<u64>,
    priority_class: u8,
    rdma_pct: u32,
    max_per_node: Option<u32>,
    app: Option<String>,
    gpu_spec: String,
}

impl Shape {
    fn of(pod: &Pod) -> Shape {
        Shape {
            cpu_milli: pod.cpu_milli,
            memory_mib: pod.memory_mib,
            num_gpu: pod.num_gpu,
            gpu_milli: pod.gpu_milli,
            gpu_memory_mib: pod.gpu_memory_mib,
            priority_class: priority_class(pod.priority),
            rdma_pct: pod.rdma_pct,
            max_per_node: pod.max_per_node,
            app: pod.app.as_deref().map(str::to_owned),
            gpu_spec: pod.gpu_spec.text().to_owned(),
        }
    }

    /// A cheap summary of [`Shape::of`]`(pod)` without building it — its numbers and the
    /// lengths of its strings, mixed — so that a query runs [`Shape::is_of`] only on the
    /// entries whose fingerprint matches (equal shapes have equal fingerprints; a collision
    /// only costs one more comparison).
    fn fingerprint(pod: &Pod) -> u64 {
        [
            pod.cpu_milli,
            pod.memory_mib,
            u64::from(pod.num_gpu) << 32 | u64::from(pod.gpu_milli),
            pod.gpu_memory_mib.map_or(u64::MAX, |m| m),
            u64::from(priority_class(pod.priority)) << 32 | u64::from(pod.rdma_pct),
            pod.max_per_node.map_or(u64::MAX, u64::from),
            pod.app.as_ref().map_or(u64::MAX, |a| a.len() as u64) << 32
                | pod.gpu_spec.text().len() as u64,
        ]
        .iter()
        .fold(0u64, |h, &x| {
            (h.rotate_left(23) ^ x).wrapping_mul(0x9e37_79b9_7f4a_7c15)
        })
    }

    /// Equality with [`Shape::of`]`(pod)` without building it (no allocation per query).
    fn is_of(&self, pod: &Pod) -> bool {
        self.cpu_milli == pod.cpu_milli
            && self.memory_mib == pod.memory_mib
            && self.num_gpu == pod.num_gpu
            && self.gpu_milli == pod.gpu_milli
            && self.gpu_memory_mib == pod.gpu_memory_mib
            && self.priority_class == priority_class(pod.priority)
            && self.rdma_pct == pod.rdma_pct
            && self.max_per_node == pod.max_per_node
            && self.app.as_deref() == pod.app.as_deref()
            && self.gpu_spec == pod.gpu_spec.text()
    }
}

/// Not a candidate (a leaf of `ranked` that never wins).
const NONE: i64 = i64::MIN;

/// Kinds of empty node remembered per query at most (a fleet of more kinds examines the
/// others node by node, as without the promise).
const MAX_ALIKE: usize = 16;

/// The fit test of `pod` on `node` and, where it fits, the score; `None` where it does not
/// fit. `alike` holds the empty nodes this build examined (`None`: the scorer made no
/// promise): an empty node alike in state to one of them gets its answer.
#[inline(always)]
fn examine<S: FnMut(&Cluster, NodeId, &Pod) -> i64>(
    cluster: &Cluster,
    node: NodeId,
    pod: &Pod,
    probe: &mut FitProbe,
    alike: Option<&mut Vec<(NodeId, Option<i64>)>>,
    score: &mut S,
) -> Option<i64> {
    let state = cluster.node(node);
    let fits_and_score = |probe: &mut FitProbe, score: &mut S| {
        state
            .fits_probed(pod, probe)
            .then(|| score(cluster, node, pod))
    };
    let Some(seen) = alike.filter(|_| state.residents().is_empty()) else {
        return fits_and_score(probe, score);
    };
    if let Some(&(_, s)) = seen
        .iter()
        .find(|(other, _)| cluster.node(*other).empty_and_alike(state))
    {
        return s;
    }
    let s = fits_and_score(probe, score);
    if seen.len() < MAX_ALIKE {
        seen.push((node, s));
    }
    s
}

/// The score a [`NodeIndex::best`] scorer returns for a node its policy refuses although the
/// job fits there (a policy's own admission rule): the node is left out, as one where the job
/// does not fit.
pub const REFUSED: i64 = NONE;

struct Entry {
    shape: Shape,
    /// [`Shape::fingerprint`] of the shape.
    fingerprint: u64,
    /// The shared request ([`Pod::shared_request`]) of the last pod found to be of this shape:
    /// a pod holding the same one is of it without reading its request. Held, so that its
    /// address is not reused while the entry lives.
    request: Arc<Request>,
    /// The shape's per-device feasibility work, done once.
    probe: FitProbe,
    /// The cluster clock this entry reflects.
    synced: u64,
    /// The feasible nodes' scores, best first ([`Tournament`], by tie-break rank).
    ranked: Tournament,
    /// Per rank: the shape did not fit there when last examined (as opposed to a score, or a
    /// refusal by the scorer). Such a node that has only filled since is not re-examined.
    unfit: Vec<bool>,
    /// When it was last asked (for dropping the least recently asked).
    used: u64,
}

/// A tournament tree over the nodes in tie-break rank order: leaf `r` holds rank `r`'s score
/// ([`NONE`] where the shape is not a candidate), every inner slot the rank that wins its two
/// halves — the higher score, the left (lower) rank on a tie — so the root is exactly "the
/// highest score, ties to the lowest rank". A changed score replays only the matches on its
/// path to the root, and stops as soon as a match's winner and that winner's score are what
/// they were: O(log nodes) array steps, no allocation.
struct Tournament {
    /// Leaves: a power of two ≥ the node count (the padding is [`NONE`]).
    size: usize,
    /// Score per rank (`size` entries).
    score: Vec<i64>,
    /// `win[i]` for inner slot `i ∈ [1, size)`: the winning rank of its subtree; slot
    /// `size + r` is leaf `r` (so `win[size + r] == r`).
    win: Vec<u32>,
}

impl Tournament {
    fn empty() -> Tournament {
        Tournament {
            size: 0,
            score: Vec::new(),
            win: Vec::new(),
        }
    }

    /// All matches played afresh over `score` (one entry per rank).
    fn build(&mut self, mut score: Vec<i64>) {
        let size = score.len().next_power_of_two().max(1);
        score.resize(size, NONE);
        self.size = size;
        self.score = score;
        self.win.clear();
        self.win.resize(2 * size, 0);
        for r in 0..size {
            self.win[size + r] = r as u32;
        }
        for i in (1..size).rev() {
            self.win[i] = self.play(i);
        }
    }

    /// The winner of inner slot `i`'s match: its left child's winner unless the right one's
    /// score is strictly higher.
    #[inline]
    fn play(&self, i: usize) -> u32 {
        let (a, b) = (self.win[2 * i], self.win[2 * i + 1]);
        if self.score[b as usize] > self.score[a as usize] {
            b
        } else {
            a
        }
    }

    fn set(&mut self, r: usize, s: i64) {
        if self.score[r] == s {
            return;
        }
        self.score[r] = s;
        let mut i = (self.size + r) >> 1;
        while i >= 1 {
            let before = self.win[i];
            let now = self.play(i);
            self.win[i] = now;
            // Same winner, and not the leaf whose score moved: nothing above can change.
            if now == before && now as usize != r {
                break;
            }
            i >>= 1;
        }
    }

    /// The winning rank, if it is a candidate.
    fn first(&self) -> Option<u32> {
        let w = *self.win.get(1).unwrap_or(&0);
        (self.size > 0 && self.score[w as usize] != NONE).then_some(w)
    }
}

/// The index; one per policy instance, bound to one cluster at a time (a query against another
/// cluster, or the same one after its priority order changed, rebuilds it).
pub struct NodeIndex {
    tie: TieBreak,
    /// The scorer's promise that empty nodes alike in state ([`Node::empty_and_alike`]) score
    /// alike ([`NodeIndex::set_alike_when_empty`]).
    ///
    /// [`Node::empty_and_alike`]: crate::model::cluster::Node::empty_and_alike
    alike_when_empty: bool,
    /// Within one full build: the empty nodes examined and their answers (kept for its
    /// allocation).
    alike: Vec<(NodeId, Option<i64>)>,
    cluster: u64,
    /// Per node, its tie-break rank; and per rank, its node.
    rank: Vec<u32>,
    node_at: Vec<NodeId>,
    entries: Vec<Entry>,
    queries: u64,
}

impl NodeIndex {
    pub fn new(tie: TieBreak) -> NodeIndex {
        NodeIndex {
            tie,
            alike_when_empty: false,
            alike: Vec::new(),
            cluster: 0,
            rank: Vec::new(),
            node_at: Vec::new(),
            entries: Vec::new(),
            queries: 0,
        }
    }

    /// The scorer promises (or no longer does) that it gives two empty nodes alike in state
    /// ([`Node::empty_and_alike`]: same device, capacities and card states) the same score —
    /// it reads no node identity, name or place in a topology. A full build (a shape's first
    /// query, or one whose change log no longer reaches back) then examines one empty node of
    /// each such kind and gives the others its answer: on a large fleet that is mostly empty,
    /// it tests and scores a few nodes instead of all. Results are unchanged when the promise
    /// holds.
    ///
    /// [`Node::empty_and_alike`]: crate::model::cluster::Node::empty_and_alike
    pub fn set_alike_when_empty(&mut self, alike: bool) {
        self.alike_when_empty = alike;
    }

    /// The best feasible node for `pod` on `cluster` — the highest `score`, ties to the lowest
    /// rank — or `None` if it fits nowhere. `score` is called only for nodes where `pod` fits
    /// and must depend on nothing but that node's state and the pod's shape; [`REFUSED`]
    /// leaves a node out.
    pub fn best(
        &mut self,
        cluster: &Cluster,
        pod: &Pod,
        mut score: impl FnMut(&Cluster, NodeId, &Pod) -> i64,
    ) -> Option<NodeId> {
        self.bind(cluster);
        self.queries += 1;
        // Pods of one request share it: a pointer comparison finds their entry. Otherwise
        // (another request of the same shape, or a new shape) the shape is compared.
        let request = pod.shared_request();
        let at = match self
            .entries
            .iter()
            .position(|e| Arc::ptr_eq(&e.request, request))
        {
            Some(at) => at,
            None => self.entry_of_shape(pod),
        };
        let e = &mut self.entries[at];
        e.used = self.queries;
        let n = cluster.nodes().len();
        match cluster.changed_since(e.synced) {
            // Re-examine each changed node once (at its last change): never more work than
            // the rebuild below, which is for a log that no longer reaches back.
            Some(changed) if changed.len() <= 4 * n => {
                let base = e.synced;
                for (i, &node) in changed.iter().enumerate() {
                    let node = node as NodeId;
                    let state = cluster.node(node);
                    if state.generation() != base + i as u64 + 1 {
                        continue; // changed again later: re-examined then
                    }
                    let r = self.rank[node] as usize;
                    // It did not fit and has only filled since: it still does not.
                    if e.unfit[r] && state.released_at() <= base {
                        continue;
                    }
                    // A few changed nodes, mostly occupied: the memo of empty nodes would cost
                    // more comparisons than it saves (+2 % instructions, best-fit on 10^4
                    // GPUs); it pays in a full build, which examines every node.
                    let s = state
                        .fits_probed(pod, &mut e.probe)
                        .then(|| score(cluster, node, pod));
                    let was_unfit = std::mem::replace(&mut e.unfit[r], s.is_none());
                    if let Some(s) = s {
                        e.ranked.set(r, s);
                    } else if !was_unfit {
                        // An unfit node's leaf already holds NONE: only a change is replayed.
                        e.ranked.set(r, NONE);
                    }
                }
            }
            _ => {
                e.probe = FitProbe::default();
                // The probe does the per-device part of the fit test once per device, not per
                // node. This full build is the first query of each shape: on 10^4 nodes it is
                // most of a short run's placement cost.
                e.unfit.clear();
                e.unfit.resize(n, true);
                let mut scores = vec![NONE; n];
                // Empty nodes alike in state are examined once (when the scorer promised it).
                let mut seen = std::mem::take(&mut self.alike);
                seen.clear();
                let mut alike = self.alike_when_empty.then_some(&mut seen);
                for (r, &node) in self.node_at.iter().enumerate() {
                    let s = examine(
                        cluster,
                        node,
                        pod,
                        &mut e.probe,
                        alike.as_deref_mut(),
                        &mut score,
                    );
                    if let Some(s) = s {
                        e.unfit[r] = false;
                        scores[r] = s;
                    }
                }
                self.alike = seen;
                e.ranked.build(scores);
            }
        }
        e.synced = cluster.clock();
        e.ranked.first().map(|r| self.node_at[r as usize])
    }

    /// Forgets everything if `cluster` is not the one the index was built for.
    fn bind(&mut self, cluster: &Cluster) {
        if self.cluster == cluster.uid() {
            return;
        }
        self.cluster = cluster.uid();
        self.entries.clear();
        self.node_at = match self.tie {
            TieBreak::Priority => cluster.by_priority().to_vec(),
            TieBreak::Fleet => (0..cluster.nodes().len()).collect(),
        };
        self.rank = vec![0; self.node_at.len()];
        for (r, &node) in self.node_at.iter().enumerate() {
            self.rank[node] = r as u32;
        }
    }

    /// The entry of `pod`'s shape, found by comparing shapes (it then remembers `pod`'s
    /// request), or a new one.
    fn entry_of_shape(&mut self, pod: &Pod) -> usize {
        let fingerprint = Shape::fingerprint(pod);
        let found = self
            .entries
            .iter()
            .position(|e| e.fingerprint == fingerprint && e.shape.is_of(pod));
        match found {
            Some(at) => {
                self.entries[at].request = Arc::clone(pod.shared_request());
                at
            }
            None => self.insert(pod, fingerprint),
        }
    }

    /// A new, empty entry for `pod`'s shape (its `synced` predates every log, so the first
    /// query builds it with a full scan); drops the least recently asked one when full.
    fn insert(&mut self, pod: &Pod, fingerprint: u64) -> usize {
        let e = Entry {
            shape: Shape::of(pod),
            fingerprint,
            request: Arc::clone(pod.shared_request()),
            probe: FitProbe::default(),
            synced: u64::MAX,
            ranked: Tournament::empty(),
            unfit: Vec::new(),
            used: 0,
        };
        if self.entries.len() < MAX_SHAPES {
            self.entries.push(e);
            return self.entries.len() - 1;
        }
        let at = (0..self.entries.len())
            .min_by_key(|&i| self.entries[i].used)
            .expect("full, so not empty");
        self.entries[at] = e;
        at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::cluster::Placement;
    use crate::model::fleet::{Fleet, NodeSpec};
    use crate::model::slicing::SlicingMode;
    use crate::policy::gpu_select;
    use proptest::prelude::*;

    /// 12 nodes of 4 cards in Flex:ai vGPU mode (fractional cards, so many distinct states).
    fn cluster() -> Cluster {
        let specs = (0..12)
            .map(|i| {
                NodeSpec::new(
                    format!("n{i}"),
                    16_000 + 8_000 * (i % 3),
                    1 << 16,
                    4,
                    "T4".into(),
                )
            })
            .collect();
        let mut f = Fleet::new("t".into(), specs);
        f.devices.get_mut("T4").unwrap().mode = SlicingMode::FLEXAI_VGPU;
        let mut c = Cluster::new(&f);
        let rank: Vec<usize> = (0..12).map(|i| (i * 5) % 12).collect();
        c.set_priority(&rank);
        c
    }

    fn pods() -> Vec<Pod> {
        vec![
            Pod::new("a", 2_000, 1024, 1, 250),
            Pod::new("b", 4_000, 2048, 2, 500),
            Pod::new("c", 1_000, 512, 1, 1000),
            Pod::new("d", 8_000, 4096, 4, 1000),
            Pod::new("e", 3_000, 0, 0, 0),
        ]
    }

    /// A score with many ties, from node state alone.
    fn score(c: &Cluster, n: NodeId, _: &Pod) -> i64 {
        let node = c.node(n);
        -((node.cpu_free_milli() / 4_000 + node.gpu_free_total() / 500) as i64)
    }

    /// The full scan the index replaces: first strictly better in `order`.
    fn scan(c: &Cluster, pod: &Pod, order: &[NodeId]) -> Option<NodeId> {
        let mut best: Option<(i64, NodeId)> = None;
        for &n in order {
            if c.node(n).fits(pod) {
                let s = score(c, n, pod);
                if best.is_none_or(|(b, _)| s > b) {
                    best = Some((s, n));
                }
            }
        }
        best.map(|(_, n)| n)
    }

    proptest! {
        /// After any sequence of placements and removals, the index answers what the full
        /// scan answers, for every shape and both tie-breaks.
        #[test]
        fn index_agrees_with_a_full_scan(ops in proptest::collection::vec((0usize..5, 0usize..12, any::<bool>()), 1..120)) {
            let mut c = cluster();
            let pods = pods();
            let fleet_order: Vec<NodeId> = (0..12).collect();
            let mut by_prio = NodeIndex::new(TieBreak::Priority);
            let mut by_fleet = NodeIndex::new(TieBreak::Fleet);
            // The test score reads node state alone, so it may promise that empty nodes alike
            // (three kinds here: the CPU sizes) score alike.
            let mut alike = NodeIndex::new(TieBreak::Priority);
            alike.set_alike_when_empty(true);
            let mut running: Vec<(usize, NodeId)> = Vec::new();
            for (step, &(p, n, remove)) in ops.iter().enumerate() {
                if remove && !running.is_empty() {
                    let (id, node) = running.remove(n % running.len());
                    c.remove(id, node).expect("resident");
                } else if let Some(gpus) = gpu_select::best(c.node(n), &pods[p]).or_else(|| (!pods[p].is_gpu_pod()).then(Vec::new)) {
                    if c.place(step, &pods[p], Placement { node: n, gpus }).is_ok() {
                        running.push((step, n));
                    }
                }
                // Ask only some shapes each step, so entries fall behind by several changes.
                for (k, pod) in pods.iter().enumerate() {
                    if (step + k) % 3 == 0 {
                        let prio = c.by_priority().to_vec();
                        prop_assert_eq!(by_prio.best(&c, pod, score), scan(&c, pod, &prio));
                        prop_assert_eq!(by_fleet.best(&c, pod, score), scan(&c, pod, &fleet_order));
                        prop_assert_eq!(alike.best(&c, pod, score), scan(&c, pod, &prio));
                    }
                }
            }
        }
    }

    #[test]
    fn another_cluster_or_priority_order_rebuilds() {
        let mut c = cluster();
        let pod = &pods()[0];
        let mut idx = NodeIndex::new(TieBreak::Priority);
        let prio = c.by_priority().to_vec();
        let first = idx.best(&c, pod, score);
        assert_eq!(first, scan(&c, pod, &prio));
        let mut copy = c.clone();
        let gpus = gpu_select::best(copy.node(first.unwrap()), pod).unwrap();
        copy.place(
            0,
            pod,
            Placement {
                node: first.unwrap(),
                gpus,
            },
        )
        .unwrap();
        // The copy's change is not the original's: each answers for itself.
        let prio = copy.by_priority().to_vec();
        assert_eq!(idx.best(&copy, pod, score), scan(&copy, pod, &prio));
        let prio = c.by_priority().to_vec();
        assert_eq!(idx.best(&c, pod, score), scan(&c, pod, &prio));
        c.set_priority(&(0..12).rev().collect::<Vec<_>>());
        // Among the tightest nodes 0, 3, 6, 9, the reversed order puts 9 first.
        assert_eq!(idx.best(&c, pod, score), Some(9));
    }
}
