//! `--explain`: why this node, why still pending (issue 11). [`Explainer`] observes any policy
//! ([`Observed`]) and, for the jobs asked about, records each decision the policy makes — every node of the
//! cluster as it was when the policy chose, with the score the policy gave it or the reason it
//! could not take the job ([`Node::why_not`]), the node(s) chosen and the policy's tie-break —
//! and, for a job the policy found no place for, its last failed attempt, which is why a job
//! still pending at the end never started.
//!
//! It observes, it is not an engine mode, so it costs nothing when off: a run without
//! `--explain` never constructs it. When on, each recorded decision costs one feasibility check
//! and one score per node (the policy's [`Policy::explain_scores`]).
//!
//! ```
//! use flexsim_sim::policy::explain::{Explainer, ExplainJobs};
//! use flexsim_sim::policy::observe::Observed;
//! # use flexsim_sim::policy::Policy;
//! # fn demo(policy: &mut dyn Policy) {
//! let mut watched = Observed::new(policy, Explainer::new(ExplainJobs::All));
//! // flexsim_sim::engine::replay::run(&fleet, &workload, &mut watched, &config)?;
//! let decisions = watched.observer.into_decisions();
//! # }
//! ```
//!
//! [`Node::why_not`]: crate::model::cluster::Node::why_not
//! [`Observed`]: crate::policy::observe::Observed

use crate::model::cluster::{Cluster, NodeId};
use crate::model::job::{Pod, PodId};
use crate::policy::observe::{Answer, Observer};
use crate::policy::{JobsView, Policy, QueuedJob};
use std::collections::BTreeSet;

/// Which jobs to explain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExplainJobs {
    All,
    /// By the trace's job name (`jobs.csv`'s `job` column).
    Named(BTreeSet<String>),
}

impl ExplainJobs {
    /// Whether the job named `name` is explained.
    pub fn wants(&self, name: &str) -> bool {
        match self {
            ExplainJobs::All => true,
            ExplainJobs::Named(names) => names.contains(name),
        }
    }
}

/// What the policy did with a job at one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It proposed a placement (the engine validates it; under EASY backfilling it may hold a
    /// job behind the reserved head back).
    Placed,
    /// Its cards here, its CPU and memory on another node (remote pooling).
    PlacedRemote,
    /// Every part of a gang.
    PlacedGang,
    /// No place: the job keeps waiting. Only the last such attempt of a job is kept.
    NoPlace,
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Placed => "placed",
            Outcome::PlacedRemote => "placed-remote",
            Outcome::PlacedGang => "placed-gang",
            Outcome::NoPlace => "no-place",
        }
    }
}

/// One node as the policy saw it for one job.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub node: NodeId,
    pub node_name: String,
    /// The policy's score (higher wins) where the node could take the job and the policy scores
    /// nodes; `None` otherwise.
    pub score: Option<i64>,
    /// Why the node could not take the job, or `None` when it could.
    pub infeasible: Option<String>,
    /// The node (or one of the nodes) chosen.
    pub chosen: bool,
}

/// One recorded decision.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub job: PodId,
    pub job_name: String,
    /// The replay's clock at the scheduling pass (ms).
    pub time_ms: u64,
    pub outcome: Outcome,
    /// Every node of the cluster, in the cluster's tie-break order.
    pub candidates: Vec<Candidate>,
    /// How the policy breaks ties between equal scores.
    pub tie_break: String,
}

/// Records the decisions of the policy it observes for the chosen jobs ([module doc](self)).
pub struct Explainer {
    jobs: ExplainJobs,
    now_ms: u64,
    decisions: Vec<Decision>,
    /// Index in `decisions` of each job's last `NoPlace`, replaced by the next one.
    last_failure: std::collections::BTreeMap<PodId, usize>,
}

impl Explainer {
    pub fn new(jobs: ExplainJobs) -> Self {
        Explainer {
            jobs,
            now_ms: 0,
            decisions: Vec::new(),
            last_failure: Default::default(),
        }
    }

    /// The decisions recorded, in the order they were made; a job's last failed attempt stays
    /// where it was made.
    pub fn into_decisions(self) -> Vec<Decision> {
        self.decisions
    }

    fn record(
        &mut self,
        policy: &mut dyn Policy,
        cluster: &Cluster,
        job: PodId,
        pod: &Pod,
        outcome: Outcome,
        chosen: &[NodeId],
    ) {
        let scores = policy.explain_scores(cluster, job, pod);
        let candidates = cluster
            .by_priority()
            .iter()
            .map(|&n| {
                let infeasible = cluster.node(n).why_not(pod);
                let score = match (&scores, &infeasible) {
                    (Some(s), None) => s.iter().find(|(m, _)| *m == n).map(|(_, v)| *v),
                    _ => None,
                };
                Candidate {
                    node: n,
                    node_name: cluster.node(n).name.clone(),
                    score,
                    infeasible,
                    chosen: chosen.contains(&n),
                }
            })
            .collect();
        let d = Decision {
            job,
            job_name: pod.name.to_string(),
            time_ms: self.now_ms,
            outcome,
            candidates,
            tie_break: policy.tie_break().to_owned(),
        };
        if outcome == Outcome::NoPlace {
            if let Some(&i) = self.last_failure.get(&job) {
                self.decisions[i] = d;
                return;
            }
            self.last_failure.insert(job, self.decisions.len());
        } else {
            self.last_failure.remove(&job);
        }
        self.decisions.push(d);
    }
}

impl Observer for Explainer {
    fn answered(
        &mut self,
        policy: &mut dyn Policy,
        cluster: &Cluster,
        job: PodId,
        pod: &Pod,
        answer: Answer<'_>,
    ) {
        if !self.jobs.wants(&pod.name) {
            return;
        }
        let (outcome, chosen): (Outcome, Vec<NodeId>) = match answer {
            Answer::Local(Some(p)) => (Outcome::Placed, vec![p.node]),
            Answer::Gang(Some(g)) => (
                Outcome::PlacedGang,
                g.parts.iter().map(|p| p.node).collect(),
            ),
            Answer::Remote(Some(r)) => (Outcome::PlacedRemote, vec![r.host, r.device.node]),
            Answer::Local(None) | Answer::Gang(None) => (Outcome::NoPlace, Vec::new()),
            // `place` already found none and was recorded; a failed remote try adds nothing.
            Answer::Remote(None) => return,
        };
        self.record(policy, cluster, job, pod, outcome, &chosen);
    }

    fn clock(&mut self, jobs: &JobsView<'_>, _waiting: Option<&[QueuedJob]>) {
        self.now_ms = jobs.now_ms;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::replay::{self, ReplayConfig};
    use crate::model::job::Workload;
    use crate::model::slicing::SlicingMode;
    use crate::policy::observe::Observed;
    use crate::policy::{Greedy, NodeScorer};
    use crate::testing::fleet_in;

    /// Fewest free GPU milli first.
    struct Tightest;
    impl NodeScorer for Tightest {
        fn name(&self) -> &str {
            "tightest"
        }
        fn score(&mut self, cluster: &Cluster, node: NodeId, _pod: &Pod) -> i64 {
            -(cluster.node(node).gpu_free_total() as i64)
        }
    }

    fn job(name: &str, cpu: u64, gpus: u32, milli: u32, at_s: u64, work_s: u64) -> Pod {
        let mut p = Pod::new(name, cpu, 1024, gpus, milli);
        p.arrival_ms = at_s * 1000;
        p.work_ms = Some(work_s * 1000);
        p
    }

    #[test]
    fn a_placement_lists_every_node_with_its_score_or_reason_and_the_winner() {
        // a: 2 T4, 8 cores; b: 4 T4, 32 cores; c: 4 T4, 2 cores. "big" (4 GPUs, 4 cores) fits
        // only b; "small" (1 GPU) later fits a and b, and "tight" prefers the fuller one.
        let fleet = fleet_in(
            &[
                ("a", 8000, 65536, 2, "T4"),
                ("b", 32000, 65536, 4, "T4"),
                ("c", 2000, 65536, 4, "T4"),
            ],
            SlicingMode::SHARE,
        );
        let w = Workload {
            name: "w".into(),
            pods: vec![
                job("big", 4000, 4, 1000, 0, 100),
                job("small", 4000, 1, 500, 10, 100),
            ],
        };
        let mut inner = Greedy::new(Tightest);
        let mut p = Observed::new(&mut inner, Explainer::new(ExplainJobs::All));
        replay::run(&fleet, &w, &mut p, &ReplayConfig::default()).unwrap();
        let d = p.observer.into_decisions();
        assert_eq!(d.len(), 2, "{d:#?}");
        let big = &d[0];
        assert_eq!(
            (big.job_name.as_str(), big.outcome),
            ("big", Outcome::Placed)
        );
        let by_name = |d: &Decision, n: &str| {
            d.candidates
                .iter()
                .find(|c| c.node_name == n)
                .cloned()
                .unwrap()
        };
        assert_eq!(
            by_name(big, "a").infeasible.as_deref(),
            Some("gpu-count: needs 4 cards, the node has 2")
        );
        assert_eq!(
            by_name(big, "c").infeasible.as_deref(),
            Some("cpu: needs 4000 milli, 2000 free")
        );
        // One feasible node: chosen without scoring, as Greedy does (fgd-protocol §2.6).
        let b = by_name(big, "b");
        assert!(b.chosen && b.infeasible.is_none());
        assert_eq!(big.candidates.len(), 3);
        let small = &d[1];
        assert_eq!(small.time_ms, 10_000);
        let (a, b) = (by_name(small, "a"), by_name(small, "b"));
        assert_eq!(a.score, Some(-2000));
        assert!(a.chosen, "{small:#?}");
        // b's four cards are held by "big": its reason names the cards, and it has no score.
        assert_eq!(b.score, None);
        let why = b.infeasible.unwrap();
        assert!(
            why.starts_with("cards: 0 of 4 cards can take the slice, needs 1"),
            "{why}"
        );
        assert!(small.tie_break.contains("priority"), "{}", small.tie_break);
    }

    #[test]
    fn a_job_that_never_starts_keeps_its_last_failed_attempt() {
        let fleet = fleet_in(&[("a", 8000, 65536, 1, "T4")], SlicingMode::Whole);
        let w = Workload {
            name: "w".into(),
            pods: vec![
                job("long", 1000, 1, 1000, 0, 1_000_000),
                job("waits", 1000, 1, 1000, 5, 10),
                job("other", 1000, 1, 1000, 6, 10),
            ],
        };
        let mut inner = Greedy::new(Tightest);
        let names = ["waits".to_string()].into_iter().collect();
        let mut p = Observed::new(&mut inner, Explainer::new(ExplainJobs::Named(names)));
        replay::run(&fleet, &w, &mut p, &ReplayConfig::default()).unwrap();
        let d = p.observer.into_decisions();
        // Only the named job; it waits behind "long" and then starts when it finishes.
        assert!(d.iter().all(|d| d.job_name == "waits"), "{d:#?}");
        let last = d.last().unwrap();
        assert_eq!(last.outcome, Outcome::Placed);
        let failed: Vec<_> = d.iter().filter(|d| d.outcome == Outcome::NoPlace).collect();
        assert_eq!(failed.len(), 1, "one kept failed attempt: {d:#?}");
        let why = failed[0].candidates[0].infeasible.as_deref().unwrap();
        assert!(
            why.starts_with("cards: 0 of 1 cards can take the slice, needs 1"),
            "{why}"
        );
    }
}
