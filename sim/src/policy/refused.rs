//! Preemption searches that found no victims, remembered so that asking again costs the nodes
//! that changed since, not the fleet (DESIGN "Speed").
//!
//! In a saturated replay almost every preemption search fails: the engine asks once per fit
//! class and pass (`engine/replay/queue.rs`), the queue holds tens of classes, and the running
//! jobs that rank below the waiting one cannot make room on any node. A full search looks at
//! every such job and every node holding one; between two passes only the nodes an event
//! touched can answer differently. [`RefusedSearches`] keeps, per fit class ([`JobsView::fit_class`]:
//! the same request and priority), the last refusal: the waiting job's rank and the cluster's clock then. A later
//! search for a job of that class that ranks no higher need look only at the nodes changed
//! since ([`Cluster::changed_since`]) and at those where the policy says a running job's rank
//! changed ([`RefusedSearches::reranked`]): every other node refused it before, with the same
//! residents and at least the same candidates, and refuses it again.
//!
//! The promise a policy makes by using it:
//! * a node's answer depends only on the node's state and the candidates on it (the running
//!   jobs ranked strictly below the waiting one) — not on the clock or on other nodes;
//! * a job ranked lower than (or equal to) another of its class has no more candidates
//!   (candidates are "ranked below me"), and a node that cannot be made to fit with some
//!   candidates gone cannot with fewer gone (filling a node never makes it fit, as for
//!   [`Node::fits`]);
//! * every change of a running job's rank outside a start or stop is told with
//!   [`RefusedSearches::reranked`] (a start or stop changes its node, which the cluster logs).
//!
//! Cost: a lookup is O(1) plus the nodes changed since the refusal; recording is O(1).
//!
//! [`Node::fits`]: crate::model::cluster::Node::fits

use crate::model::cluster::{Cluster, NodeId};
use crate::model::job::PodId;
use crate::policy::JobsView;

/// The rank log is cleared (and every refusal forgotten, which costs one full search per
/// class) once it holds this many entries, so that a long run's memory stays bounded.
const RERANKED_CAP: usize = 1 << 20;

/// Refusals kept per class: a class's head alternates between a few ranks (a preemptive
/// policy's priority levels), and a refusal serves only jobs ranked no higher.
const PER_CLASS: usize = 4;

/// A search of one fit class: every node but `open` refused.
#[derive(Debug, Clone)]
struct Refusal<K> {
    /// The waiting job's rank: larger = lower priority.
    rank: K,
    /// [`Cluster::clock`] at the refusal.
    clock: u64,
    /// Length of the rank log at the refusal.
    reranked: usize,
    /// The nodes that did not refuse (where a set of victims made room).
    open: Vec<NodeId>,
}

/// Refused preemption searches, per fit class ([`JobsView::fit_class`]; see the module
/// docs). `K` is the policy's rank of a job, larger = lower priority, as the preemptive
/// policies order their candidates.
#[derive(Debug, Clone)]
pub struct RefusedSearches<K> {
    /// [`Cluster::uid`] of the cluster the refusals are about (another one: forgotten).
    cluster: u64,
    /// Per class, its last refusals at distinct ranks (at most [`PER_CLASS`]; none dominates
    /// another: a higher-ranked one is older).
    by_class: Vec<Vec<Refusal<K>>>,
    /// Nodes where a running job's rank changed, in order.
    reranked: Vec<NodeId>,
    /// Per node, the lookup that last listed it (to list a node once).
    listed: Vec<u64>,
    lookups: u64,
}

impl<K> Default for RefusedSearches<K> {
    fn default() -> Self {
        RefusedSearches {
            cluster: 0,
            by_class: Vec::new(),
            reranked: Vec::new(),
            listed: Vec::new(),
            lookups: 0,
        }
    }
}

impl<K: Ord + Copy> RefusedSearches<K> {
    /// Where a search for waiting job `job` (ranked `rank`) need look: `Some(())` with `out`
    /// the nodes changed since a search of its class at a rank no lower than `rank` and those
    /// that did not refuse then (every other node refuses it again), or `None` when nothing
    /// applies: search everywhere.
    pub fn nodes_to_search(
        &mut self,
        cluster: &Cluster,
        jobs: &JobsView<'_>,
        job: PodId,
        rank: K,
        out: &mut Vec<NodeId>,
    ) -> Option<()> {
        out.clear();
        if cluster.uid() != self.cluster {
            self.forget_all();
            self.cluster = cluster.uid();
            return None;
        }
        let class = jobs.fit_class(job)? as usize;
        // The newest refusal of a job ranked no lower (a higher-ranked job has candidates the
        // refused one did not).
        let refusal = self
            .by_class
            .get(class)?
            .iter()
            .filter(|r| r.rank <= rank)
            .max_by_key(|r| r.clock)?;
        let changed = cluster.changed_since(refusal.clock)?;
        let reranked = self.reranked.get(refusal.reranked..)?;
        if self.listed.len() < cluster.nodes().len() {
            self.listed.resize(cluster.nodes().len(), 0);
        }
        self.lookups += 1;
        let stamp = self.lookups;
        let open = refusal.open.iter().copied();
        for n in changed
            .iter()
            .map(|&n| n as NodeId)
            .chain(reranked.iter().copied())
            .chain(open)
        {
            if self.listed[n] != stamp {
                self.listed[n] = stamp;
                out.push(n);
            }
        }
        Some(())
    }

    /// The search for waiting job `job` (ranked `rank`) on `cluster` as it is now found no
    /// victims anywhere.
    pub fn refused(&mut self, cluster: &Cluster, jobs: &JobsView<'_>, job: PodId, rank: K) {
        self.searched(cluster, jobs, job, rank, &[]);
    }

    /// The search for waiting job `job` (ranked `rank`) on `cluster` as it is now found a set
    /// of victims that makes room on the nodes `open` and on no other (whichever it chose).
    /// Nothing is kept for a job without a fit class.
    pub fn searched(
        &mut self,
        cluster: &Cluster,
        jobs: &JobsView<'_>,
        job: PodId,
        rank: K,
        open: &[NodeId],
    ) {
        if cluster.uid() != self.cluster {
            self.forget_all();
            self.cluster = cluster.uid();
        }
        let Some(class) = jobs.fit_class(job).map(|c| c as usize) else {
            return;
        };
        if self.by_class.len() <= class {
            self.by_class.resize(class + 1, Vec::new());
        }
        let kept = &mut self.by_class[class];
        // The new refusal serves every job an older one of a rank no higher would.
        kept.retain(|r| r.rank < rank);
        if kept.len() == PER_CLASS {
            let oldest = (0..kept.len())
                .min_by_key(|&i| kept[i].clock)
                .expect("kept");
            kept.swap_remove(oldest);
        }
        kept.push(Refusal {
            rank,
            clock: cluster.clock(),
            reranked: self.reranked.len(),
            open: open.to_vec(),
        });
    }

    /// A running job on `node` changed its rank (not by starting or stopping): searches that
    /// were refused before may now find victims there.
    pub fn reranked(&mut self, node: NodeId) {
        if self.reranked.len() >= RERANKED_CAP {
            self.forget_all();
        }
        self.reranked.push(node);
    }

    /// Forgets every refusal.
    pub fn forget_all(&mut self) {
        self.by_class.clear();
        self.reranked.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::cluster::Placement;
    use crate::model::fleet::{Fleet, NodeSpec};
    use crate::model::job::Pod;

    fn cluster(nodes: usize) -> Cluster {
        let specs: Vec<NodeSpec> = (0..nodes)
            .map(|i| NodeSpec::new(format!("n{i}"), 64_000, 1 << 20, 2, "V100M32".into()))
            .collect();
        Cluster::new(&Fleet::new("t".into(), specs))
    }

    #[test]
    fn a_refusal_limits_the_next_search_to_the_nodes_changed_since() {
        let mut c = cluster(4);
        let pods = vec![
            Pod::new("a", 1000, 1024, 2, 1000),
            Pod::new("b", 1000, 1024, 2, 1000),
            Pod::new("other-class", 1000, 1024, 1, 1000),
            Pod::new("filler", 1000, 1024, 1, 1000),
        ];
        let jobs = JobsView {
            now_ms: 0,
            pods: &pods,
            running: &[],
            fit_class: &[0, 0, 1, 2],
        };
        let mut memo = RefusedSearches::<u64>::default();
        let mut out = Vec::new();
        assert!(memo.nodes_to_search(&c, &jobs, 0, 5, &mut out).is_none());
        memo.refused(&c, &jobs, 0, 5);
        // Nothing changed: nowhere to look, for this job or one of its class ranked lower.
        assert!(memo.nodes_to_search(&c, &jobs, 0, 5, &mut out).is_some());
        assert!(out.is_empty());
        assert!(memo.nodes_to_search(&c, &jobs, 1, 9, &mut out).is_some());
        // Ranked higher, or another class: everywhere.
        assert!(memo.nodes_to_search(&c, &jobs, 1, 4, &mut out).is_none());
        // A newer refusal of a lower-ranked job is kept beside the older one (it serves fewer
        // jobs); one of a job ranked no lower than both replaces them (it serves every job
        // they served, and is newer).
        memo.refused(&c, &jobs, 1, 8);
        assert_eq!(memo.by_class[0].len(), 2);
        memo.refused(&c, &jobs, 1, 3);
        assert_eq!(memo.by_class[0].len(), 1);
        assert!(memo.nodes_to_search(&c, &jobs, 1, 4, &mut out).is_some());
        memo.refused(&c, &jobs, 0, 5);
        assert!(memo.nodes_to_search(&c, &jobs, 2, 5, &mut out).is_none());
        // A placement on node 2 and rank changes on nodes 3 and 2 (listed once each).
        let p = Placement {
            node: 2,
            gpus: vec![0],
        };
        c.place(3, &pods[3], p).unwrap();
        memo.reranked(3);
        memo.reranked(2);
        memo.nodes_to_search(&c, &jobs, 0, 5, &mut out).unwrap();
        assert_eq!(out, vec![2, 3]);
        // A new refusal starts from now.
        memo.refused(&c, &jobs, 0, 5);
        memo.nodes_to_search(&c, &jobs, 0, 5, &mut out).unwrap();
        assert!(out.is_empty());
        // A search that found room on nodes 1 and 3: those are searched again.
        memo.searched(&c, &jobs, 0, 5, &[3, 1]);
        memo.nodes_to_search(&c, &jobs, 1, 5, &mut out).unwrap();
        assert_eq!(out, vec![3, 1]);
        // A view without fit classes, or another cluster instance: everywhere.
        let bare = JobsView {
            fit_class: &[],
            ..jobs
        };
        assert!(memo.nodes_to_search(&c, &bare, 0, 5, &mut out).is_none());
        let copy = c.clone();
        assert!(memo.nodes_to_search(&copy, &jobs, 0, 5, &mut out).is_none());
    }
}
