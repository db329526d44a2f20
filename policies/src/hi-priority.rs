//! `hi-priority` — `hi-binpack` plus priority classes (a Hi Scheduler model).
//!
//! Published (slicing-model §1.4, §1.6): the Hi Scheduler "combines task priority, compute
//! demand and other parameters"; the Ascend README promises multi-level priorities with
//! queue-based preemption (排队抢占), but no priority field exists in the open artifacts, and the
//! shipped Volcano config has no `preempt` action. Our definition:
//!
//! * placement as `hi-binpack` (Flex:ai vGPU, Volcano binpack at node and card level);
//! * the queue is ordered by class (job priority, highest first), FIFO within a class;
//! * a job that cannot be placed preempts the *fewest* running jobs of strictly lower classes
//!   that make room for it on one node — checked with [`Node::without`] against the policy's
//!   own fit rule. Among sets of equal size: the lowest highest-victim priority, then the lowest
//!   sum of victim priorities, then the latest started; among nodes: fewest victims, then those
//!   keys, then node priority. The exact minimum is searched up to [`EXACT_UP_TO`] victims
//!   (and a budget of what-if checks); beyond that, victims are added lowest class first and
//!   unneeded ones dropped again. The engine requeues the victims (restart cost paid).
//!
//! Cost per decision: placement as `hi-binpack` (a scan of the feasible nodes); a job that
//! does not fit adds the victim search ([`VictimSearch`]). The first search of a fit class
//! (and any search after a running job started or stopped untold) groups the lower-class
//! running jobs by node once (O(running log running)), then on each node that has any runs a
//! copy-free bound (`Node::may_fit_without`: the node's residents and cards) and, only where
//! the bound allows a fit, up to a budget of what-if fit checks on a copy of the node. A later
//! search of the class at no higher a priority looks only at the nodes changed since and those
//! that had room then ([`RefusedSearches`]), and of those that had room it reuses the answer
//! of each node that has not changed since: in a saturated queue, it searches the few nodes an
//! event touched. A what-if check copies the node into one scratch node, and only for a victim
//! set the copy-free bound allows.

use flexsim_sim::model::cluster::{Cluster, Node, NodeId, Placement};
use flexsim_sim::model::gang::GangPlacement;
use flexsim_sim::model::job::{Pod, PodId};
use flexsim_sim::model::slicing::SlicingMode;
use flexsim_sim::policy::params::{ParamError, Params};
use flexsim_sim::policy::{
    JobChange, JobsView, Policy, QueueKey, QueuedJob, RefusedSearches, ReplayHints, SimRng,
};

use crate::hami::{priority_key, priority_then_fifo};
use crate::hi_binpack::HiCore;
use crate::preemption::{copy_without_into, fewest_victims_in};

/// Victim sets up to this size are searched exhaustively (within [`CHECK_BUDGET`]).
pub const EXACT_UP_TO: usize = 4;
/// What-if checks per node before falling back to the greedy victim order.
pub const CHECK_BUDGET: usize = 4096;

pub struct HiPriority {
    pub core: HiCore,
    name: &'static str,
    victims: VictimSearch,
}

impl HiPriority {
    /// Priority classes over `core`, registered as `name`.
    pub fn with(core: HiCore, name: &'static str) -> Self {
        HiPriority {
            core,
            name,
            victims: VictimSearch::default(),
        }
    }

    /// Flex:ai vGPU with `unit_milli` steps and `max_tenants` vGPUs a card.
    pub fn new(unit_milli: u32, max_tenants: u32) -> Self {
        HiPriority::with(HiCore::flexai(unit_milli, max_tenants), "hi-priority")
    }
}

impl HiPriority {
    /// `hi-priority[unit=5,vgpus=5]`: the parameters of `hi-binpack`.
    pub fn from_params(p: &Params) -> Result<Self, ParamError> {
        let (unit_milli, vgpus) = crate::hi_binpack::vgpu_params(p)?;
        Ok(HiPriority::new(unit_milli, vgpus))
    }
}

impl Default for HiPriority {
    fn default() -> Self {
        HiPriority::new(50, 5)
    }
}

/// Ranking key of a victim set: (size, highest victim priority, Σ priorities, −Σ start times).
type SetKey = (usize, i32, i64, i64);

/// The best victim set on `node` for `pod` among `cands` (pod id, priority, started_ms),
/// ordered lowest priority first, latest started first. The what-if copies go into `scratch`
/// (kept by the caller across nodes), and only for the sets the copy-free bound
/// (`Node::may_fit_without`) allows: `core.fits` implies `Node::fits`, so a set the bound
/// rules out cannot make room (it still counts against [`CHECK_BUDGET`], so the search and its
/// answer are what they were without the bound).
fn best_set(
    core: &HiCore,
    node: &Node,
    pod: &Pod,
    cands: &[(PodId, i32, u64)],
    scratch: &mut Option<Node>,
) -> Option<(SetKey, Vec<PodId>)> {
    let ids: Vec<PodId> = cands.iter().map(|c| c.0).collect();
    // Most nodes cannot be made to fit even with every candidate gone.
    if ids.is_empty() || !node.may_fit_without(&ids, pod) {
        return None;
    }
    let whole = copy_without_into(node, &ids, scratch);
    if !core.fits(whole, pod) {
        return None;
    }
    let key = |set: &[usize]| -> SetKey {
        let max = set.iter().map(|&i| cands[i].1).max().unwrap_or(i32::MIN);
        let sum = set.iter().map(|&i| i64::from(cands[i].1)).sum();
        let late = set.iter().map(|&i| cands[i].2 as i64).sum::<i64>();
        (set.len(), max, sum, -late)
    };
    let mut checks = 0usize;
    let mut set: Vec<PodId> = Vec::with_capacity(EXACT_UP_TO);
    for k in 1..=EXACT_UP_TO.min(cands.len()) {
        let mut best: Option<(SetKey, Vec<usize>)> = None;
        let mut idx: Vec<usize> = (0..k).collect();
        loop {
            checks += 1;
            if checks > CHECK_BUDGET {
                break;
            }
            set.clear();
            set.extend(idx.iter().map(|&i| cands[i].0));
            if node.may_fit_without(&set, pod) {
                let scratch = copy_without_into(node, &set, scratch);
                if core.fits(scratch, pod) {
                    let kk = key(&idx);
                    if best.as_ref().is_none_or(|b| kk < b.0) {
                        best = Some((kk, idx.clone()));
                    }
                }
            }
            // Next combination in lexicographic order.
            let mut i = k;
            while i > 0 && idx[i - 1] == cands.len() - k + i - 1 {
                i -= 1;
            }
            if i == 0 {
                break;
            }
            idx[i - 1] += 1;
            for j in i..k {
                idx[j] = idx[j - 1] + 1;
            }
        }
        if let Some((kk, set)) = best {
            return Some((kk, set.iter().map(|&i| cands[i].0).collect()));
        }
        if checks > CHECK_BUDGET {
            break;
        }
    }
    let set = fewest_victims_in(node, pod, &ids, |n, p| core.fits(n, p), scratch)?;
    let at: Vec<usize> = set
        .iter()
        .map(|v| ids.iter().position(|i| i == v).expect("a candidate"))
        .collect();
    Some((key(&at), set))
}

/// The fewest lower-class victims that make room for `pod` on one node (see the module docs).
pub fn choose_victims(
    core: &HiCore,
    cluster: &Cluster,
    pod: &Pod,
    jobs: &JobsView<'_>,
) -> Vec<PodId> {
    choose_victims_open(core, cluster, pod, jobs, &mut Vec::new())
}

/// [`choose_victims`]; `open` gets every node where some set of victims makes room.
fn choose_victims_open(
    core: &HiCore,
    cluster: &Cluster,
    pod: &Pod,
    jobs: &JobsView<'_>,
    open: &mut Vec<NodeId>,
) -> Vec<PodId> {
    open.clear();
    let mut best: Option<(SetKey, Vec<PodId>)> = None;
    // The lower-class running jobs, grouped by node in one pass (not a pass per node); a
    // node without any has no victim set.
    let mut by_node: Vec<(NodeId, PodId, i32, u64)> = jobs
        .running
        .iter()
        .filter(|r| jobs.pods[r.pod].priority < pod.priority)
        .map(|r| (r.node, r.pod, jobs.pods[r.pod].priority, r.started_ms))
        .collect();
    by_node.sort_unstable_by_key(|&(n, id, p, started)| (n, p, std::cmp::Reverse(started), id));
    let mut on_node: Vec<Option<std::ops::Range<usize>>> = vec![None; cluster.nodes().len()];
    let mut start = 0;
    for i in 1..=by_node.len() {
        if i == by_node.len() || by_node[i].0 != by_node[start].0 {
            on_node[by_node[start].0] = Some(start..i);
            start = i;
        }
    }
    let mut cands: Vec<(PodId, i32, u64)> = Vec::new();
    let mut scratch: Option<Node> = None;
    for &n in cluster.by_priority() {
        let Some(range) = on_node[n].clone() else {
            continue;
        };
        cands.clear();
        cands.extend(
            by_node[range]
                .iter()
                .map(|&(_, id, p, started)| (id, p, started)),
        );
        if let Some((key, set)) = best_set(core, cluster.node(n), pod, &cands, &mut scratch) {
            open.push(n);
            if best.as_ref().is_none_or(|b| key < b.0) {
                best = Some((key, set));
            }
        }
    }
    best.map(|(_, v)| v).unwrap_or_default()
}

/// [`choose_victims`] with memory between calls: the running jobs as told
/// ([`Policy::jobs_changed`]) and the searches that found nothing ([`RefusedSearches`]). A
/// class's priority is fixed, so a refused search stays refused on every node that has not
/// changed since: a saturated queue's repeated searches look only at the changed nodes, in
/// node-priority order as the full search does (the same victims, byte for byte).
#[derive(Debug, Default)]
pub struct VictimSearch {
    refused: RefusedSearches<std::cmp::Reverse<i32>>,
    /// Per job, when it last started and on which node (`NOT_RUNNING`: it is not running).
    started_ms: Vec<u64>,
    node_of: Vec<u32>,
    /// Running jobs told; a view with another count (a wrapper that does not pass
    /// [`Policy::jobs_changed`] on) gets the full search.
    told_running: usize,
    /// Each node's place in the cluster's node priority, for the cluster `ranked_for` (uid).
    node_rank: Vec<u32>,
    ranked_for: u64,
    to_search: Vec<NodeId>,
    /// Per fit class, the answers of its last search on the nodes where a set made room, in
    /// node priority order: (node, its [`Node::generation`] then, the set's key, the set). A
    /// class is one request at one priority, so a node that has not changed since has the same
    /// candidates and gives the same answer: a saturated queue's repeated searches of a class
    /// look up the nodes that had room instead of searching them again.
    answers: Vec<Vec<Answer>>,
}

/// A node's answer to a search of a class: (node, its generation then, the set's key, the set).
type Answer = (NodeId, u64, SetKey, Vec<PodId>);

/// A [`VictimSearch::started_ms`] of a job that is not running.
const NOT_RUNNING: u64 = u64::MAX;

impl VictimSearch {
    /// Keeps the running jobs as told.
    pub fn jobs_changed(&mut self, jobs: &JobsView<'_>, changes: &[JobChange]) {
        if self.started_ms.len() < jobs.pods.len() {
            self.started_ms.resize(jobs.pods.len(), NOT_RUNNING);
            self.node_of.resize(jobs.pods.len(), 0);
        }
        for c in changes {
            match *c {
                JobChange::Started(r) => {
                    self.started_ms[r.pod] = r.started_ms;
                    self.node_of[r.pod] = r.node as u32;
                    self.told_running += 1;
                }
                JobChange::Stopped { pod, .. } => {
                    self.started_ms[pod] = NOT_RUNNING;
                    self.told_running = self.told_running.saturating_sub(1);
                }
            }
        }
    }

    /// The victims for waiting job `job` ([`choose_victims`]'s answer).
    pub fn choose(
        &mut self,
        core: &HiCore,
        cluster: &Cluster,
        job: PodId,
        pod: &Pod,
        jobs: &JobsView<'_>,
    ) -> Vec<PodId> {
        let rank = std::cmp::Reverse(pod.priority);
        let mut nodes = std::mem::take(&mut self.to_search);
        let remembered = self.told_running == jobs.running.len()
            && self
                .refused
                .nodes_to_search(cluster, jobs, job, rank, &mut nodes)
                .is_some();
        let class = jobs.fit_class(job).map(|c| c as usize);
        let victims = match class {
            Some(class) if remembered => {
                self.choose_on(core, cluster, pod, jobs, class, &mut nodes)
            }
            _ => {
                if let Some(answers) = class.and_then(|c| self.answers.get_mut(c)) {
                    answers.clear();
                }
                choose_victims_open(core, cluster, pod, jobs, &mut nodes)
            }
        };
        self.refused.searched(cluster, jobs, job, rank, &nodes);
        self.to_search = nodes;
        victims
    }

    /// [`choose_victims`] on `nodes` only (sorted here into node priority) for a job of fit
    /// class `class`; `nodes` is left holding those where some set of victims makes room.
    fn choose_on(
        &mut self,
        core: &HiCore,
        cluster: &Cluster,
        pod: &Pod,
        jobs: &JobsView<'_>,
        class: usize,
        nodes: &mut Vec<NodeId>,
    ) -> Vec<PodId> {
        if self.ranked_for != cluster.uid() || self.node_rank.len() != cluster.nodes().len() {
            self.node_rank = vec![0; cluster.nodes().len()];
            for (i, &n) in cluster.by_priority().iter().enumerate() {
                self.node_rank[n] = i as u32;
            }
            self.ranked_for = cluster.uid();
            self.answers.clear();
        }
        if self.answers.len() <= class {
            self.answers.resize_with(class + 1, Vec::new);
        }
        let known = std::mem::take(&mut self.answers[class]);
        if nodes.is_empty() {
            return Vec::new();
        }
        nodes.sort_unstable_by_key(|&n| self.node_rank[n]);
        let mut best: Option<(SetKey, Vec<PodId>)> = None;
        let mut cands: Vec<(PodId, i32, u64)> = Vec::new();
        let mut scratch: Option<Node> = None;
        let mut answers: Vec<Answer> = Vec::new();
        // `known` is in node priority order too: walked alongside.
        let mut known = known.into_iter().peekable();
        let mut open = 0;
        for i in 0..nodes.len() {
            let n = nodes[i];
            let generation = cluster.node(n).generation();
            while known
                .peek()
                .is_some_and(|a| self.node_rank[a.0] < self.node_rank[n])
            {
                known.next();
            }
            if let Some(a) = known.next_if(|a| a.0 == n && a.1 == generation) {
                nodes[open] = n;
                open += 1;
                if best.as_ref().is_none_or(|b| a.2 < b.0) {
                    best = Some((a.2, a.3.clone()));
                }
                answers.push(a);
                continue;
            }
            cands.clear();
            // The lower-class jobs that run on `n` (their placement's node: a gang's other
            // parts are not victims there, as in the full search).
            cands.extend(cluster.node(n).residents().iter().filter_map(|res| {
                let id = res.pod;
                let started = *self.started_ms.get(id)?;
                let p = jobs.pods[id].priority;
                (started != NOT_RUNNING && self.node_of[id] as usize == n && p < pod.priority)
                    .then_some((id, p, started))
            }));
            if cands.is_empty() {
                continue;
            }
            cands.sort_unstable_by_key(|&(id, p, started)| (p, std::cmp::Reverse(started), id));
            if let Some((key, set)) = best_set(core, cluster.node(n), pod, &cands, &mut scratch) {
                nodes[open] = n;
                open += 1;
                if best.as_ref().is_none_or(|b| key < b.0) {
                    best = Some((key, set.clone()));
                }
                answers.push((n, generation, key, set));
            }
        }
        nodes.truncate(open);
        self.answers[class] = answers;
        best.map(|(_, v)| v).unwrap_or_default()
    }
}

impl Policy for HiPriority {
    fn name(&self) -> &str {
        self.name
    }

    /// Priority order by key ([`priority_key`]); it preempts, and refuses a job only when no
    /// node holds it.
    fn replay_hints(&self) -> ReplayHints {
        ReplayHints {
            never_preempts: false,
            ..ReplayHints::PLACER
        }
    }

    fn queue_key(&mut self, jobs: &JobsView<'_>, job: &QueuedJob) -> QueueKey {
        priority_key(jobs, job)
    }

    /// Gangs: the tightest placement on a fleet with a topology ([`HiCore::place_gang`]).
    fn place_gang(
        &mut self,
        cluster: &Cluster,
        _job: PodId,
        pod: &Pod,
        rng: &mut SimRng,
    ) -> Option<GangPlacement> {
        self.core.place_gang(cluster, pod, rng)
    }

    fn preferred_slicing(&self) -> Option<SlicingMode> {
        Some(self.core.mode)
    }

    fn place(
        &mut self,
        cluster: &Cluster,
        _job: PodId,
        pod: &Pod,
        _rng: &mut SimRng,
    ) -> Option<Placement> {
        self.core.place(cluster, pod)
    }

    fn order_queue(&mut self, jobs: &JobsView<'_>, queue: &mut [QueuedJob]) {
        priority_then_fifo(jobs, queue);
    }

    fn preempt(
        &mut self,
        cluster: &Cluster,
        job: PodId,
        pod: &Pod,
        jobs: &JobsView<'_>,
    ) -> Vec<PodId> {
        self.victims.choose(&self.core, cluster, job, pod, jobs)
    }

    fn jobs_changed(&mut self, jobs: &JobsView<'_>, changes: &[JobChange]) {
        self.victims.jobs_changed(jobs, changes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{cluster_in, placed, replay_on};
    use flexsim_sim::policy::RunningJob;

    fn job(name: &str, arrival_ms: u64, work_ms: u64, milli: u32, priority: i32) -> Pod {
        let mut p = Pod::new(name, 1000, 1024, 1, milli);
        p.arrival_ms = arrival_ms;
        p.work_ms = Some(work_ms);
        p.demand_milli = Some(milli);
        p.gpu_memory_mib = Some(1024);
        p.priority = priority;
        p
    }

    const ONE: [(&str, u64, u64, u32, &str); 1] = [("n", 64_000, 1 << 20, 1, "V100M32")];

    #[test]
    fn preempts_one_big_job_rather_than_two_small_and_loses_nothing() {
        // The card is full: 200 + 600 + 200 of class BE. A Burstable 400 needs the 600 gone
        // (one victim); two 200s would be two.
        let pods = vec![
            job("b2", 0, 100_000, 200, 0),
            job("b1", 0, 100_000, 600, 0),
            job("b3", 0, 100_000, 200, 0),
            job("bu", 10_000, 5_000, 400, 1),
        ];
        let o = replay_on(&ONE, pods, &mut HiPriority::default(), 1_000);
        let pre: Vec<u32> = o.jobs.iter().map(|j| j.preemptions).collect();
        assert_eq!(pre, vec![0, 1, 0, 0]);
        assert_eq!(o.figures.preemptions, 1);
        assert_eq!(o.jobs[3].first_start_ms, Some(10_000));
        assert_eq!(o.figures.jobs_finished, 4, "nothing lost");
        assert!(
            o.jobs[1].finish_ms > o.jobs[3].finish_ms,
            "the victim restarted later"
        );
    }

    #[test]
    fn among_equals_the_latest_started_goes() {
        let pods = vec![
            job("a1", 0, 100_000, 500, 0),
            job("a2", 1_000, 100_000, 500, 0),
            job("ls", 10_000, 5_000, 400, 3),
        ];
        let o = replay_on(&ONE, pods, &mut HiPriority::default(), 1_000);
        let pre: Vec<u32> = o.jobs.iter().map(|j| j.preemptions).collect();
        assert_eq!(pre, vec![0, 1, 0]);
        assert_eq!(o.figures.jobs_finished, 3);
    }

    #[test]
    fn equal_class_never_preempts_and_queue_is_class_first() {
        let pods = vec![
            job("x", 0, 10_000, 1000, 1),
            job("y", 1_000, 1_000, 1000, 1),
            job("z", 2_000, 1_000, 1000, 2),
        ];
        let o = replay_on(&ONE, pods, &mut HiPriority::default(), 1_000);
        // z (class 2) preempts x (class 1); y (class 1) never preempts x, and runs after z,
        // before x (both class 1, y queued first).
        assert_eq!(o.jobs[0].preemptions, 1);
        assert_eq!(o.jobs[1].preemptions, 0);
        assert_eq!(o.jobs[2].first_start_ms, Some(2_000));
        assert_eq!(o.jobs[1].first_start_ms, Some(3_000));
        assert_eq!(o.jobs[0].finish_ms, Some(4_000 + 8_000 + 1_000));
        assert_eq!(o.figures.jobs_finished, 3);
    }

    #[test]
    fn the_node_needing_fewest_victims_wins_over_node_priority() {
        let core = HiCore::flexai(50, 5);
        let mut c = cluster_in(
            &[
                ("a", 64_000, 1 << 20, 1, "V100M32"),
                ("b", 64_000, 1 << 20, 1, "V100M32"),
            ],
            core.mode,
        );
        // a: 4 × 250 (two must go for 400); b: 600 + 200 + 200 (the 600 alone).
        let mut pods: Vec<Pod> = vec![];
        for (i, (milli, node)) in [
            (250, 0),
            (250, 0),
            (250, 0),
            (250, 0),
            (600, 1),
            (200, 1),
            (200, 1),
        ]
        .into_iter()
        .enumerate()
        {
            let p = job("j", 0, 1, milli, 0);
            placed(&mut c, i, p.clone(), node, &[0]);
            pods.push(p);
        }
        pods.push(job("ls", 0, 1, 400, 3));
        let running: Vec<RunningJob> = (0..7)
            .map(|i| RunningJob {
                pod: i,
                node: if i < 4 { 0 } else { 1 },
                started_ms: i as u64,
                attained_gpu_ms: 0,
            })
            .collect();
        let view = JobsView {
            now_ms: 10,
            pods: &pods,
            running: &running,
            fit_class: &[],
        };
        assert_eq!(choose_victims(&core, &c, &pods[7], &view), vec![4]);
        // Without b, a gives up its two latest-started 250s.
        let view_a = JobsView {
            running: &running[..4],
            ..view
        };
        let mut v = choose_victims(&core, &c, &pods[7], &view_a);
        v.sort_unstable();
        assert_eq!(v, vec![2, 3]);
        // A BE job preempts nobody.
        assert!(choose_victims(&core, &c, &job("be", 0, 1, 400, 0), &view).is_empty());
    }
}
