//! The greedy building block: "filter the feasible nodes, score each, take the best, pick GPUs
//! on it" — the Kubernetes scheduling cycle. Most policies are a [`NodeScorer`] wrapped in
//! [`Greedy`].

use crate::model::cluster::{Cluster, NodeId, Placement};
use crate::model::gang::GangPlacement;
use crate::model::job::{Pod, PodId};
use crate::model::slicing::SlicingMode;
use crate::policy::index::{NodeIndex, TieBreak};
use crate::policy::{gang, gpu_select, Policy, ReplayHints, Setup, SimRng};

/// Scores one feasible node for a pod; higher is better. Wrap in [`Greedy`] to get a policy.
pub trait NodeScorer: Send {
    fn name(&self) -> &str;

    fn prepare(&mut self, _setup: &Setup<'_>) {}

    /// The slicing mode the scorer is defined for; [`Greedy`] passes it on as
    /// [`Policy::preferred_slicing`].
    fn preferred_slicing(&self) -> Option<SlicingMode> {
        None
    }

    /// Called once per pod before its nodes are scored (the framework's PreScore): the place
    /// for per-pod work such as finding the pod's cache table.
    fn pre_score(&mut self, _cluster: &Cluster, _pod: &Pod) {}

    /// The score of feasible `node` for `pod`. Only called for nodes where the pod fits, after
    /// [`NodeScorer::pre_score`] for the same pod.
    fn score(&mut self, cluster: &Cluster, node: NodeId, pod: &Pod) -> i64;

    /// Whether scores go through the scheduler framework's integer min–max NormalizeScore
    /// (fgd-protocol §2.6). It never changes the winner (the highest scores, and only they,
    /// map to 100; see [`normalize_scores`]); it keeps the [0, 100] range honest.
    fn normalize(&self) -> bool {
        false
    }

    /// Whether [`NodeScorer::score`] is *local*: a function of the node's state and the pod's
    /// request alone (no other node, no clock, no state of the scorer that changes what a
    /// score is during a run; [`NodeScorer::pre_score`] may prepare per-pod work, and is then
    /// called for every pod, whatever the feasible count). [`Greedy`] then keeps the feasible nodes
    /// of each request shape ordered by score in a [`NodeIndex`] and rescores only the nodes
    /// changed since — the same winner as scoring every node, at O(changes × log nodes) per
    /// decision instead of O(nodes × cards).
    fn local(&self) -> bool {
        false
    }

    /// Whether a [`NodeScorer::local`] score also reads no node identity (id, name, place in
    /// a topology), so that two empty nodes alike in state
    /// ([`Node::empty_and_alike`](crate::model::cluster::Node::empty_and_alike)) score alike:
    /// the index then scores one node of each kind of empty node per full build
    /// ([`NodeIndex::set_alike_when_empty`]). Default `false`.
    fn alike_when_empty(&self) -> bool {
        false
    }

    /// The GPUs to use on the chosen node; by default tightest fit (fgd-protocol §2.7.7 `best`).
    fn select_gpus(
        &mut self,
        cluster: &Cluster,
        node: NodeId,
        pod: &Pod,
        _rng: &mut SimRng,
    ) -> Option<Vec<u16>> {
        gpu_select::best(cluster.node(node), pod)
    }
}

/// "Filter, score, take the best, pick GPUs": the Kubernetes scheduling cycle as a policy.
///
/// * every feasible node is scored (`percentageOfNodesToScore: 100`);
/// * if exactly one node is feasible it is chosen without scoring (fgd-protocol §2.6);
/// * the highest score wins; ties go to the earliest node in [`Cluster::by_priority`].
///
/// Cost per decision: O(nodes × cards) for the scan and the scoring; for a
/// [`NodeScorer::local`] scorer O(nodes changed since the request's shape was last asked ×
/// log nodes) through a [`NodeIndex`].
pub struct Greedy<S> {
    scorer: S,
    feasible: Vec<NodeId>,
    scores: Vec<i64>,
    index: NodeIndex,
}

impl<S: NodeScorer> Greedy<S> {
    pub fn new(scorer: S) -> Self {
        Greedy {
            scorer,
            feasible: Vec::new(),
            scores: Vec::new(),
            index: NodeIndex::new(TieBreak::Priority),
        }
    }

    /// The node a pod would go to, or `None` if none is feasible.
    pub fn choose_node(&mut self, cluster: &Cluster, pod: &Pod) -> Option<NodeId> {
        if self.scorer.local() {
            // Normalisation is skipped: it never changes the winner. `pre_score` is per-pod
            // preparation (a cache table), so calling it whatever the feasible count is
            // harmless.
            self.scorer.pre_score(cluster, pod);
            self.index
                .set_alike_when_empty(self.scorer.alike_when_empty());
            let scorer = &mut self.scorer;
            return self
                .index
                .best(cluster, pod, |c, n, p| scorer.score(c, n, p));
        }
        cluster.feasible_nodes(pod, &mut self.feasible);
        match self.feasible.len() {
            0 => return None,
            1 => return Some(self.feasible[0]),
            _ => {}
        }
        self.scorer.pre_score(cluster, pod);
        self.scores.clear();
        for &n in &self.feasible {
            let s = self.scorer.score(cluster, n, pod);
            self.scores.push(s);
        }
        if self.scorer.normalize() {
            normalize_scores(&mut self.scores);
        }
        let mut best = 0;
        for i in 1..self.scores.len() {
            if self.scores[i] > self.scores[best] {
                best = i;
            }
        }
        Some(self.feasible[best])
    }
}

impl<S: NodeScorer> Policy for Greedy<S> {
    fn name(&self) -> &str {
        self.scorer.name()
    }

    /// Every feasible node's score as [`Greedy::choose_node`] ranks it — normalised where the
    /// scorer normalises and is not [`NodeScorer::local`] (the index skips normalisation, which
    /// never changes the winner) — also when a single feasible node is chosen without scoring.
    fn explain_scores(
        &mut self,
        cluster: &Cluster,
        _job: PodId,
        pod: &Pod,
    ) -> Option<Vec<(NodeId, i64)>> {
        let mut feasible = Vec::new();
        cluster.feasible_nodes(pod, &mut feasible);
        self.scorer.pre_score(cluster, pod);
        let mut scores: Vec<i64> = feasible
            .iter()
            .map(|&n| self.scorer.score(cluster, n, pod))
            .collect();
        if self.scorer.normalize() && !self.scorer.local() {
            normalize_scores(&mut scores);
        }
        Some(feasible.into_iter().zip(scores).collect())
    }

    fn tie_break(&self) -> &str {
        "highest score; equal scores go to the node first in the cluster's seeded priority \
         order (fgd-protocol 2.6); a single feasible node is taken without scoring"
    }

    fn prepare(&mut self, setup: &Setup<'_>) {
        self.scorer.prepare(setup);
    }

    fn preferred_slicing(&self) -> Option<SlicingMode> {
        self.scorer.preferred_slicing()
    }

    /// FIFO, no preemption, and a job is refused only when no node fits it: every promise.
    fn replay_hints(&self) -> ReplayHints {
        ReplayHints::PLACER
    }

    fn place(
        &mut self,
        cluster: &Cluster,
        _job: PodId,
        pod: &Pod,
        rng: &mut SimRng,
    ) -> Option<Placement> {
        let node = self.choose_node(cluster, pod)?;
        let gpus = self.scorer.select_gpus(cluster, node, pod, rng)?;
        Some(Placement { node, gpus })
    }

    /// The engine's greedy gang placer with this scorer ranking nodes of equal capacity and
    /// choosing each part's GPUs.
    fn place_gang(
        &mut self,
        cluster: &Cluster,
        _job: PodId,
        pod: &Pod,
        rng: &mut SimRng,
    ) -> Option<GangPlacement> {
        gang::greedy(cluster, pod, &mut self.scorer, rng)
    }
}

/// The framework's integer min–max rescale to [0, 100] (fgd-protocol §2.6): s' = (s − min)·100
/// / (max − min) with integer division, all 0 when max = min.
pub fn normalize_scores(scores: &mut [i64]) {
    let (Some(&min), Some(&max)) = (scores.iter().min(), scores.iter().max()) else {
        return;
    };
    for s in scores.iter_mut() {
        *s = if max == min {
            0
        } else {
            (*s - min) * 100 / (max - min)
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_is_integer_min_max() {
        let mut s = vec![40, 70, 55];
        normalize_scores(&mut s);
        assert_eq!(s, vec![0, 100, 50]);
        let mut same = vec![7, 7];
        normalize_scores(&mut same);
        assert_eq!(same, vec![0, 0]);
    }
}
