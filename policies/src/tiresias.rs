//! `tiresias` — Tiresias' discretised two-dimensional least-attained-service scheduler
//! (Gu et al., "Tiresias: A GPU Cluster Manager for Distributed Deep Learning", NSDI'19,
//! "Discretized 2D-LAS"), on whole cards.
//!
//! * **Service** is two-dimensional: GPUs × time run (the engine's `attained_gpu_ms`), counted
//!   from the job's last promotion.
//! * **K queues** split by K−1 ascending thresholds (`thresholds`, GPU-seconds; default
//!   `3250:7200`, the Tiresias simulator's shipped values: three queues). A new job enters
//!   queue 0, the highest. A job is **demoted the instant** its service reaches the threshold of
//!   its queue: the policy asks to be woken (`next_wake`) at the earliest such crossing among
//!   running jobs, so the demotion takes effect then and not at the next arrival or completion.
//! * **Within a queue, FIFO** by the time the job entered that queue (arrival, demotion or
//!   promotion instant; ties by job id; `order=entry`, the default). Queues are served in
//!   order; a job that does not fit is skipped ([`Discipline::Skip`]), as in the paper's pass
//!   and the peer's.
//! * **Preemptive across queues**: a job that cannot start preempts running jobs of lower
//!   queues, the lowest-priority first (the last job of the lowest queue;
//!   [`crate::preemption`]). Within a queue FIFO does not preempt: a job holding cards keeps
//!   them against the jobs of its own queue — except at the instant it is demoted, when it
//!   enters its new queue behind the jobs already waiting there, which may take its cards.
//!   Priorities are a strict order, a job's priority only drops while it runs (a demotion) and
//!   only rises while it waits (a promotion), and a same-queue job never preempts: two jobs
//!   never preempt each other back and forth without a threshold or a promotion in between,
//!   so there are no preempt-restart loops at any restart cost.
//! * `order=running-first` reproduces the Tiresias simulator's queue lists instead
//!   (`run_sim.py:dlas_sim_jobs`): a job entering a queue goes to its tail, and after every
//!   pass the jobs holding cards move ahead of the waiting ones, each group keeping its order;
//!   a job preempts only jobs behind it in the lists. So the most recently preempted job of a
//!   queue resumes first, and the most recently (re)started one is the first victim. This is
//!   the order that agrees with the peer job for job (`tests/crossval.rs`).
//! * **Starvation guard** (the paper's PROMOTEKNOB, `starve=F`): a waiting job below queue 0
//!   that has waited F × its executed time (run time since its last promotion) since it last
//!   entered the queue goes back to queue 0, its service counted afresh. `0` (the default, and
//!   the peer's `dlas-gpu`) turns it off.
//! * **Placement** on one node, so a job's cards are always consolidated (the paper
//!   consolidates models with skewed tensor sizes and places others anywhere; flexsim has no
//!   model profiles, and single-node placements are consolidated by construction):
//!   `placement=best-fit` (default) or `first-fit` ([`crate::placement`]). On a fleet with a
//!   topology, `best-fit` consolidates by the graph as the paper's rule asks: a job's cards in
//!   one fabric domain, a gang in the fewest racks, then the fewest nodes
//!   ([`flexsim_sim::policy::topology`]).
//!
//! Cost per decision (the default `demotion=instant`, `order=entry`; R running, W waiting, C
//! candidates): ordering the queue sorts the W waiting jobs; the running jobs' next threshold
//! crossings are a heap fed by [`Policy::jobs_changed`] (O(log R) a start, stop or demotion; a
//! wake-up reads its top); a preemption search takes its candidates from the running jobs kept
//! by key (O(log R + C)), groups them by node (O(C log C)), rules out without a copy each node
//! that cannot be made to fit (`Node::may_fit_without`), and elsewhere copies the node into one
//! scratch node for the victim sets that bound allows (adding victims one at a time to one
//! copy); a later search of the same fit class at no higher a rank takes its
//! candidates only from the nodes changed since, demoted on, or with room at that search
//! ([`RefusedSearches`]: in a saturated queue, the few nodes an event touched). Under FIFO by
//! entry without a starvation guard the engine keeps the queue by key ([`Policy::queue_key`]):
//! a pass costs the jobs it offers, not the queue. The peer's rules (`demotion=peer`, `order=running-first`) look at every
//! running job at every call instead, by definition.
//!
//! Against the Tiresias simulator (`tests/crossval/`): its `dlas-gpu` counts GPUs cluster-wide
//! (compare on a one-node pool fleet), charges no restart cost, and demotes only at events, late
//! for multi-GPU jobs; its `-exact` variant demotes at the crossing, to the second.
//! `tiresias[order=running-first]` with restart cost 0 on the pool fleet reproduces every job of
//! `dlas-gpu-exact` (and of `dlas-gpu-2q-exact` with `thresholds=3600`). The differences are
//! listed in `tests/crossval/README.md`.

use flexsim_sim::model::cluster::{Cluster, NodeId};
use flexsim_sim::model::job::{Pod, PodId};
use flexsim_sim::model::slicing::SlicingMode;
use flexsim_sim::policy::params::{ParamError, ParamSpec, Params};
use flexsim_sim::policy::{
    Discipline, JobChange, JobsView, Policy, QueueKey, QueuedJob, Refusals, RefusedSearches,
    ReplayHints, RunningJob,
};

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::ops::Bound::{Excluded, Unbounded};

use crate::placement::{self, Placer};
use crate::preemption::{lowest_priority_first, lowest_priority_first_among};

/// One GPU-hour in GPU-milliseconds.
pub const GPU_HOUR_MS: u64 = 3_600_000;

/// What the policy remembers of a job.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct JobState {
    known: bool,
    /// 0 = the highest.
    queue: u32,
    /// When it entered `queue`, ms.
    entered_ms: u64,
    /// Its attained service at its last promotion (0 if never promoted), GPU-ms.
    base_gpu_ms: u64,
    /// When it was last seen demoted while running, ms ([`NEVER`] if not): at that instant
    /// it is behind its new queue's waiting jobs, which may take its cards.
    demoted_ms: u64,
}

/// No such instant (a [`JobState::demoted_ms`] of a job never demoted while running).
const NEVER: u64 = u64::MAX;

/// The order within a queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// FIFO by the time the job entered the queue (the paper's FIFO; the default).
    Entry,
    /// The Tiresias simulator's list: a job entering a queue goes to its tail, and after every
    /// pass the jobs holding cards move ahead of the waiting ones, both keeping their order
    /// (`run_sim.py:dlas_sim_jobs`, "sort based on the job start time").
    RunningFirst,
}

/// When a running job's demotion takes effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Demotion {
    /// The instant its service reaches the threshold (the paper's rule; the default).
    Instant,
    /// As the Tiresias simulator does it (`run_sim.py:dlas_sim_jobs`): the threshold is checked
    /// only when the policy is called (an arrival, a completion or its own jump time), a job
    /// moves at most one queue per call, and the jump time it asks to be woken at is
    /// ⌊(threshold − run seconds) / GPUs⌋ s after the call — run seconds subtracted from
    /// GPU-seconds, so late for a multi-GPU job (a 4-GPU job reaches 3,250 GPU-s at 812.5 s but
    /// is demoted at 1,421 s; `tests/crossval/README.md`, "Demotion timing"). For
    /// cross-validation against the peer as shipped, not for experiments.
    Peer,
}

pub struct Tiresias {
    /// Ascending queue thresholds, GPU-ms; `n` thresholds make `n + 1` queues.
    thresholds: Vec<u64>,
    demotion: Demotion,
    /// Starvation knob F; 0 = off.
    starve: f64,
    placer: Placer,
    order: Order,
    state: Vec<JobState>,
    /// Per job, its place in its queue's list under [`Order::RunningFirst`] (larger =
    /// further back; empty under the default order, which does not use it).
    pos: Vec<u64>,
    /// The next list place: a queue's tail ([`Order::RunningFirst`]).
    next_pos: u64,
    /// Per job, a ticket that changes at every start, stop and demotion, odd while the job
    /// runs: an entry of `due` with another ticket is stale.
    ticket: Vec<u32>,
    /// The running jobs' next threshold crossings, earliest first ([`Tiresias::fast`]; told
    /// by [`Policy::jobs_changed`]).
    due: BinaryHeap<Reverse<Crossing>>,
    /// Running jobs as told by [`Policy::jobs_changed`]; and whether that count ever differed
    /// from the view's (a wrapper that does not pass the call on): the heap is then not
    /// trusted and every call looks at every running job, as without the heap.
    told_running: usize,
    untold: bool,
    /// The running jobs told (and seen: a known queue state), by key ([`Tiresias::fast`]
    /// only): a preemption search takes the jobs ranked below the waiting one from the end of
    /// this map, not from a look at every running job — O(log R + candidates) a search.
    running_by_key: BTreeMap<Key, RunningJob>,
    /// Running jobs told that had no queue state when they started (never offered through
    /// this policy), until their first look (at once: their crossing is due at the start).
    unseen: Vec<RunningJob>,
    /// Preemption searches that found nothing ([`Tiresias::fast`] only; told of every
    /// demotion, the only rank change of a running job): a saturated queue's repeated
    /// searches look only at the nodes changed since.
    refused: RefusedSearches<Key>,
    /// Scratch: the nodes a remembered refusal leaves to search, and the candidates on them.
    to_search: Vec<NodeId>,
    candidates: Vec<(NodeId, Key, PodId)>,
    /// Per job, the node it last started on (its [`RunningJob::node`]; told).
    node_of: Vec<u32>,
}

/// A running job's next threshold crossing: (instant, job, ticket, last start, service at
/// that start).
type Crossing = (u64, PodId, u32, u64, u64);

/// A job's priority: (queue, entered or list place, id); smaller is served first.
type Key = (usize, u64, PodId);

/// `tiresias[thresholds=3250:7200,starve=0,placement=best-fit]`.
pub const PARAMS: &[ParamSpec] = &[
    ParamSpec {
        key: "thresholds",
        default: "3250:7200",
        help: "queue thresholds, GPU-seconds, ascending, `:`-separated (K-1 for K queues)",
    },
    ParamSpec {
        key: "starve",
        default: "0",
        help: "promote a waiting job to queue 0 once it waited this x its run time; 0 = off",
    },
    ParamSpec {
        key: "order",
        default: "entry",
        help:
            "within a queue: entry (FIFO by the time a job entered it) or running-first (the \
               Tiresias simulator's: jobs holding cards move ahead of waiting ones after each pass)",
    },
    ParamSpec {
        key: "demotion",
        default: "instant",
        help: "instant (at the threshold crossing, the paper's) or peer (the Tiresias \
               simulator's: checked at events, one queue per event, late for multi-GPU jobs)",
    },
    placement::PARAM,
];

impl Tiresias {
    /// Tiresias with these thresholds (GPU-ms), no starvation guard, best-fit placement.
    pub fn new(mut thresholds: Vec<u64>) -> Self {
        thresholds.sort_unstable();
        Tiresias {
            thresholds,
            demotion: Demotion::Instant,
            starve: 0.0,
            placer: Placer::best_fit(),
            order: Order::Entry,
            state: Vec::new(),
            pos: Vec::new(),
            next_pos: 0,
            ticket: Vec::new(),
            due: BinaryHeap::new(),
            told_running: 0,
            untold: false,
            running_by_key: BTreeMap::new(),
            unseen: Vec::new(),
            refused: RefusedSearches::default(),
            to_search: Vec::new(),
            candidates: Vec::new(),
            node_of: Vec::new(),
        }
    }

    pub fn from_params(p: &Params) -> Result<Self, ParamError> {
        let expected = "ascending positive GPU-seconds separated by `:`";
        let secs: Vec<u64> = p.list("thresholds", expected)?;
        if secs.is_empty() || secs.contains(&0) || !secs.windows(2).all(|w| w[0] < w[1]) {
            return Err(p.bad("thresholds", expected));
        }
        let starve: f64 = p.parse("starve", "a factor >= 0")?;
        if !(starve.is_finite() && starve >= 0.0) {
            return Err(p.bad("starve", "a factor >= 0"));
        }
        let mut t = Tiresias::new(secs.iter().map(|s| s * 1000).collect());
        t.starve = starve;
        t.placer = Placer::from_params(p)?;
        t.order = match p.choice("order", &["entry", "running-first"])? {
            "entry" => Order::Entry,
            _ => Order::RunningFirst,
        };
        t.demotion = match p.choice("demotion", &["instant", "peer"])? {
            "instant" => Demotion::Instant,
            _ => Demotion::Peer,
        };
        Ok(t)
    }

    /// The queue of a job with `service` GPU-ms since its last promotion, 0 = highest.
    pub fn queue_of(&self, service: u64) -> usize {
        self.thresholds.partition_point(|&t| t <= service)
    }

    /// Job `id`'s key, if this policy has seen it.
    fn known_key(&self, id: PodId) -> Option<Key> {
        self.state.get(id).filter(|s| s.known).map(|_| self.key(id))
    }

    fn key(&self, id: PodId) -> Key {
        let s = &self.state[id];
        match self.order {
            Order::Entry => (s.queue as usize, s.entered_ms, id),
            Order::RunningFirst => (s.queue as usize, self.pos[id], id),
        }
    }

    /// A place at the tail of a queue.
    fn tail(&mut self) -> u64 {
        self.next_pos += 1;
        self.next_pos
    }

    /// Brings job `id`'s queue up to now: first sight (queue 0 since its arrival), demotions
    /// at each threshold its service has reached (entered at the crossing instant), and for a
    /// waiting job the starvation promotion. `running`: its GPUs and last start, if running.
    fn observe(
        &mut self,
        now: u64,
        pod: &Pod,
        id: PodId,
        attained: u64,
        running: Option<(u64, u64)>,
        since_ms: u64,
    ) {
        if self.state.len() <= id {
            self.state.resize(id + 1, JobState::default());
        }
        let mut s = self.state[id];
        // Whether it entered a queue now, so goes to that queue's tail (its list place).
        let mut to_tail = false;
        if !s.known {
            s = JobState {
                known: true,
                queue: 0,
                entered_ms: pod.arrival_ms,
                base_gpu_ms: 0,
                demoted_ms: NEVER,
            };
            to_tail = true;
        }
        // Under the peer's rule only a running job is checked, and it moves one queue a call.
        let peer = self.demotion == Demotion::Peer;
        let mut moves = if peer && running.is_none() {
            0
        } else {
            usize::MAX
        };
        while (s.queue as usize) < self.thresholds.len() && moves > 0 {
            let service = attained.saturating_sub(s.base_gpu_ms);
            let threshold = self.thresholds[s.queue as usize];
            if service < threshold {
                break;
            }
            // The first millisecond at which the service reached the threshold (the peer:
            // the event at which it looked).
            s.entered_ms = match running {
                _ if peer => now,
                Some((gpus, started)) => (now - (service - threshold) / gpus).max(started),
                None => since_ms.min(now),
            };
            s.queue += 1;
            to_tail = true;
            if running.is_some() {
                s.demoted_ms = now;
            }
            moves = if peer { 0 } else { moves };
        }
        if running.is_none() && s.queue > 0 {
            if let Some(due) = self.promotion_due(pod, attained, &s, since_ms) {
                if due <= now {
                    s = JobState {
                        known: true,
                        queue: 0,
                        entered_ms: due,
                        base_gpu_ms: attained,
                        demoted_ms: NEVER,
                    };
                    to_tail = true;
                }
            }
        }
        self.state[id] = s;
        if to_tail && self.order == Order::RunningFirst {
            if self.pos.len() <= id {
                self.pos.resize(id + 1, 0);
            }
            self.pos[id] = self.tail();
        }
    }

    /// When a waiting job (queued since `since_ms`) is due for promotion, if the guard is on
    /// and it has run since its last promotion.
    fn promotion_due(&self, pod: &Pod, attained: u64, s: &JobState, since_ms: u64) -> Option<u64> {
        if self.starve <= 0.0 || s.queue == 0 {
            return None;
        }
        let executed_ms = attained.saturating_sub(s.base_gpu_ms) / gpus_of(pod);
        (executed_ms > 0).then(|| since_ms + (self.starve * executed_ms as f64).ceil() as u64)
    }

    /// Brings every job's queue up to now, in the Tiresias simulator's order of events: new
    /// jobs join queue 0 (in arrival order), then running jobs are demoted (by job id), then
    /// waiting ones promoted (by job id).
    fn observe_all(&mut self, jobs: &JobsView<'_>, waiting: &[QueuedJob]) {
        let now = jobs.now_ms;
        self.check_told(jobs);
        if self.state.len() < jobs.pods.len() {
            // Every job's state at once, allocated to size (not grown by doubling).
            self.state.resize(jobs.pods.len(), JobState::default());
        }
        for q in waiting {
            let pod = &jobs.pods[q.pod];
            if self.state.get(q.pod).is_none_or(|s| !s.known) {
                self.observe(now, pod, q.pod, q.attained_gpu_ms, None, q.since_ms);
            }
        }
        // Only the jobs whose queue changes now are observed, in job order: for the others
        // `observe` is a no-op, so leaving them out changes nothing, and the sort is of the
        // few that move, not of every running job each pass.
        if self.fast() {
            // The running jobs whose service reached their queue's threshold are exactly
            // those whose crossing in `due` is not after now.
            let mut crossed: Vec<(PodId, u64, u64)> = Vec::new();
            while let Some(&Reverse((at, id, ticket, started, attained))) = self.due.peek() {
                if at > now {
                    break;
                }
                self.due.pop();
                if self.ticket[id] == ticket {
                    crossed.push((id, started, attained));
                }
            }
            crossed.sort_unstable();
            for (id, started, attained0) in crossed {
                let pod = &jobs.pods[id];
                let attained = attained0 + (now - started) * gpus_of(pod);
                let was = self.known_key(id);
                self.observe(now, pod, id, attained, Some((gpus_of(pod), started)), 0);
                if let Some(r) = was.and_then(|k| self.running_by_key.remove(&k)) {
                    self.running_by_key.insert(self.key(id), r);
                    self.refused.reranked(r.node);
                } else if let Some(at) = self.unseen.iter().position(|r| r.pod == id) {
                    // Started before this policy saw it: keyed from now on.
                    let r = self.unseen.swap_remove(at);
                    self.running_by_key.insert(self.key(id), r);
                    self.refused.reranked(r.node);
                }
                self.ticket[id] = self.ticket[id].wrapping_add(2);
                self.push_crossing(now, pod, id, started, attained0);
            }
        } else {
            let mut running: Vec<(&RunningJob, u64)> = jobs
                .running
                .iter()
                .map(|r| (r, jobs.attained_gpu_ms(r)))
                .filter(|&(r, attained)| {
                    self.changes(now, &jobs.pods[r.pod], r.pod, attained, true, 0)
                })
                .collect();
            running.sort_unstable_by_key(|(r, _)| r.pod);
            for (r, attained) in running {
                let pod = &jobs.pods[r.pod];
                let run = Some((gpus_of(pod), r.started_ms));
                self.observe(now, pod, r.pod, attained, run, 0);
            }
        }
        let mut queued: Vec<&QueuedJob> = waiting
            .iter()
            .filter(|q| {
                let pod = &jobs.pods[q.pod];
                self.changes(now, pod, q.pod, q.attained_gpu_ms, false, q.since_ms)
            })
            .collect();
        queued.sort_unstable_by_key(|q| q.pod);
        for q in queued {
            let pod = &jobs.pods[q.pod];
            self.observe(now, pod, q.pod, q.attained_gpu_ms, None, q.since_ms);
        }
    }

    /// Whether the running jobs' crossings come from the heap `due` (kept from
    /// [`Policy::jobs_changed`]) rather than a look at every running job each call: under the
    /// paper's instant demotion and FIFO-by-entry order, where a running job's next crossing
    /// is fixed from its start until it crosses. The simulator's rule (`demotion=peer`: the
    /// wake time is counted from each call) and its list order (`order=running-first`: every
    /// job re-placed after each pass) are per-call scans by definition and keep them.
    fn fast(&self) -> bool {
        self.demotion == Demotion::Instant && self.order == Order::Entry && !self.untold
    }

    /// Whether the queue is kept by key ([`Policy::replay_hints`]): FIFO by entry and no
    /// starvation guard, so that a waiting job's key is fixed from when it is queued.
    fn keyed(&self) -> bool {
        self.order == Order::Entry && self.starve == 0.0
    }

    /// Stops trusting the heap for good if the starts and stops told do not account for the
    /// running jobs of `jobs` (checked at every call that reads the heap, so before a crossing
    /// could be missed: a job that started untold is seen at the next call, its start).
    fn check_told(&mut self, jobs: &JobsView<'_>) {
        if self.told_running != jobs.running.len() {
            self.untold = true;
            self.due.clear();
            self.running_by_key.clear();
            self.unseen.clear();
        }
    }

    /// Puts running job `id`'s next threshold crossing into `due` (none above the last
    /// queue; `started`, `attained`: its last start and its service then): the start plus the
    /// GPU-ms left to the threshold over its GPUs, rounded up — the instant
    /// [`Tiresias::next_demotion`] gives at any call before it.
    fn push_crossing(&mut self, now: u64, pod: &Pod, id: PodId, started: u64, attained: u64) {
        let ticket = self.ticket[id];
        let Some(s) = self.state.get(id).filter(|s| s.known) else {
            // Never seen waiting (not a job this policy ordered): look at it at once.
            self.due.push(Reverse((now, id, ticket, started, attained)));
            return;
        };
        let Some(&threshold) = self.thresholds.get(s.queue as usize) else {
            return;
        };
        let service = attained.saturating_sub(s.base_gpu_ms);
        let at = started + threshold.saturating_sub(service).div_ceil(gpus_of(pod));
        self.due.push(Reverse((at, id, ticket, started, attained)));
    }

    /// Whether [`Tiresias::observe`] would change job `id` now: a job seen for the first time,
    /// one whose service reached its queue's threshold (a running one, or any under the
    /// simulator's rule), or a waiting one due for promotion.
    fn changes(
        &self,
        now: u64,
        pod: &Pod,
        id: PodId,
        attained: u64,
        running: bool,
        since_ms: u64,
    ) -> bool {
        let Some(s) = self.state.get(id).filter(|s| s.known) else {
            return true;
        };
        let can_demote = running || self.demotion != Demotion::Peer;
        if can_demote
            && (s.queue as usize) < self.thresholds.len()
            && attained.saturating_sub(s.base_gpu_ms) >= self.thresholds[s.queue as usize]
        {
            return true;
        }
        !running
            && s.queue > 0
            && self
                .promotion_due(pod, attained, s, since_ms)
                .is_some_and(|due| due <= now)
    }

    /// After a pass ([`Order::RunningFirst`]): in every queue, the jobs holding cards move
    /// ahead of the waiting ones, each group keeping its order.
    fn running_first(&mut self, jobs: &JobsView<'_>, waiting: &[QueuedJob]) {
        let mut all: Vec<(u32, bool, u64, PodId)> = jobs
            .running
            .iter()
            .map(|r| r.pod)
            .map(|id| (true, id))
            .chain(waiting.iter().map(|q| (false, q.pod)))
            .map(|(run, id)| {
                let s = &self.state[id];
                (s.queue, !run, self.pos[id], id)
            })
            .collect();
        all.sort_unstable();
        for (_, _, _, id) in all {
            self.pos[id] = self.tail();
        }
    }

    /// When running job `r` next reaches a threshold, if it is above the last queue.
    fn next_demotion(&self, jobs: &JobsView<'_>, r: &RunningJob) -> Option<u64> {
        let s = &self.state[r.pod];
        let threshold = *self.thresholds.get(s.queue as usize)?;
        let service = jobs.attained_gpu_ms(r).saturating_sub(s.base_gpu_ms);
        let gpus = gpus_of(&jobs.pods[r.pod]);
        match self.demotion {
            Demotion::Instant => {
                Some(jobs.now_ms + threshold.saturating_sub(service).div_ceil(gpus))
            }
            Demotion::Peer => {
                // `int(math.ceil((limit - executed_time) / num_gpu) + event_time)` under
                // Python 2: integer seconds, floor division. At least a second ahead, so that a
                // job that crossed two thresholds in one step moves on at the next second.
                let run_s = service / gpus / 1000;
                let jump_s = (threshold / 1000).saturating_sub(run_s) / gpus;
                Some(jobs.now_ms + jump_s.max(1) * 1000)
            }
        }
    }
}

/// GPUs a job's service counts per ms (a CPU-only job counts as one).
fn gpus_of(pod: &Pod) -> u64 {
    u64::from(pod.num_gpu.max(1))
}

impl Default for Tiresias {
    fn default() -> Self {
        Tiresias::from_params(&Params::defaults("tiresias", PARAMS)).expect("valid defaults")
    }
}

impl Policy for Tiresias {
    fn name(&self) -> &str {
        "tiresias"
    }

    fn preferred_slicing(&self) -> Option<SlicingMode> {
        Some(SlicingMode::Whole)
    }

    placement::place_with_placer!();

    /// Under FIFO-by-entry with no starvation guard a waiting job's key never changes (only
    /// a running job is demoted, only a waiting one promoted): the engine keeps the queue in
    /// key order ([`Policy::queue_key`]). Placement refuses only where no node holds the job
    /// ([`Placer`]).
    fn replay_hints(&self) -> ReplayHints {
        ReplayHints {
            keyed_queue: self.keyed(),
            never_preempts: false,
            refusals: Refusals::OnANodeThatFits,
        }
    }

    /// Under the keyed queue, the demotions due now are brought in at the start of the pass
    /// (the full walk's `order_queue` does it before ordering).
    fn begin_pass(&mut self, jobs: &JobsView<'_>) {
        if self.keyed() {
            self.observe_all(jobs, &[]);
        }
    }

    /// (queue, entry instant, id); a job seen for the first time joins queue 0 at its arrival.
    fn queue_key(&mut self, jobs: &JobsView<'_>, job: &QueuedJob) -> QueueKey {
        if self.state.get(job.pod).is_none_or(|s| !s.known) {
            let pod = &jobs.pods[job.pod];
            let (attained, since) = (job.attained_gpu_ms, job.since_ms);
            self.observe(jobs.now_ms, pod, job.pod, attained, None, since);
        }
        let (queue, entered, id) = self.key(job.pod);
        QueueKey(queue as u64, entered, id as u64)
    }

    fn order_queue(&mut self, jobs: &JobsView<'_>, queue: &mut [QueuedJob]) {
        self.observe_all(jobs, queue);
        queue.sort_by_key(|q| self.key(q.pod));
    }

    fn discipline(&self) -> Discipline {
        Discipline::Skip
    }

    fn preempt(
        &mut self,
        cluster: &Cluster,
        job: PodId,
        pod: &Pod,
        jobs: &JobsView<'_>,
    ) -> Vec<PodId> {
        let Some(mine) = self
            .state
            .get(job)
            .filter(|s| s.known)
            .map(|_| self.key(job))
        else {
            return Vec::new();
        };
        let now = jobs.now_ms;
        // A lower queue, or this queue entered at this instant by a demotion (under the list
        // order: anything behind in the list).
        let below = |s: &JobState| {
            s.queue as usize > mine.0
                || (s.queue as usize == mine.0
                    && (self.order == Order::RunningFirst || s.demoted_ms == now))
        };
        if self.fast() && self.told_running == jobs.running.len() {
            // The same candidates as the look at every running job below (the search sorts
            // them itself): the told running jobs ranked after this one — only on the nodes
            // that changed or had room at the last search of its class at no higher a rank,
            // where one is remembered (the other nodes refuse it again: `RefusedSearches`).
            let mut nodes = std::mem::take(&mut self.to_search);
            let mut cands = std::mem::take(&mut self.candidates);
            cands.clear();
            if self
                .refused
                .nodes_to_search(cluster, jobs, job, mine, &mut nodes)
                .is_some()
            {
                // A running job is keyed (in `running_by_key`) exactly when it is known and
                // its ticket is odd; it is a candidate on the node it started on (a gang's
                // other parts are not searched, as in the full search).
                for &n in &nodes {
                    for res in cluster.node(n).residents() {
                        let id = res.pod;
                        let lower = self.state.get(id).is_some_and(|s| s.known && below(s));
                        if lower && self.ticket[id] & 1 == 1 && self.node_of[id] as usize == n {
                            let k = self.key(id);
                            debug_assert!(self.running_by_key.contains_key(&k));
                            if k > mine {
                                cands.push((n, k, id));
                            }
                        }
                    }
                }
            } else {
                cands.extend(
                    self.running_by_key
                        .range((Excluded(mine), Unbounded))
                        .filter(|(_, r)| below(&self.state[r.pod]))
                        .map(|(&k, r)| (r.node, k, r.pod)),
                );
            }
            let victims = lowest_priority_first_among(cluster, pod, &mut cands, &mut nodes);
            self.refused.searched(cluster, jobs, job, mine, &nodes);
            self.to_search = nodes;
            self.candidates = cands;
            return victims;
        }
        let lower = jobs
            .running
            .iter()
            .filter(|r| self.state.get(r.pod).is_some_and(|s| s.known && below(s)))
            .map(|r| (self.key(r.pod), r))
            .filter(|&(k, _)| k > mine);
        lowest_priority_first(cluster, pod, lower)
    }

    fn jobs_changed(&mut self, jobs: &JobsView<'_>, changes: &[JobChange]) {
        if !self.fast() {
            return;
        }
        if self.ticket.len() < jobs.pods.len() {
            self.ticket.resize(jobs.pods.len(), 0);
            self.node_of.resize(jobs.pods.len(), 0);
        }
        for c in changes {
            match *c {
                JobChange::Started(r) => {
                    self.told_running += 1;
                    // Odd from now on (it may already be, if it stopped unseen: never).
                    self.ticket[r.pod] = self.ticket[r.pod].wrapping_add(1) | 1;
                    self.node_of[r.pod] = r.node as u32;
                    let pod = &jobs.pods[r.pod];
                    self.push_crossing(jobs.now_ms, pod, r.pod, r.started_ms, r.attained_gpu_ms);
                    match self.known_key(r.pod) {
                        Some(k) => {
                            self.running_by_key.insert(k, r);
                        }
                        None => self.unseen.push(r),
                    }
                }
                JobChange::Stopped { pod, .. } => {
                    match self.known_key(pod) {
                        Some(k) => {
                            self.running_by_key.remove(&k);
                        }
                        None => self.unseen.retain(|r| r.pod != pod),
                    }
                    self.told_running = self.told_running.saturating_sub(1);
                    // Even: not running.
                    self.ticket[pod] = self.ticket[pod].wrapping_add(1) & !1;
                }
            }
        }
    }

    fn next_wake(&mut self, jobs: &JobsView<'_>, waiting: &[QueuedJob]) -> Option<u64> {
        // Under the keyed queue no waiting job changes (no guard, keys fixed; a job not yet
        // keyed is seen when it is, with the same result) and none is due for promotion.
        let waiting = if self.keyed() { &[][..] } else { waiting };
        self.observe_all(jobs, waiting);
        if self.order == Order::RunningFirst {
            self.running_first(jobs, waiting);
        }
        let fast = self.fast().then(|| {
            while let Some(&Reverse((_, id, ticket, _, _))) = self.due.peek() {
                if self.ticket[id] == ticket {
                    break;
                }
                self.due.pop();
            }
            self.due
                .peek()
                .map(|&Reverse((at, ..))| at.max(jobs.now_ms))
        });
        let demotions: Box<dyn Iterator<Item = u64>> = match fast {
            Some(first) => Box::new(first.into_iter()),
            None => Box::new(
                jobs.running
                    .iter()
                    .filter_map(|r| self.next_demotion(jobs, r)),
            ),
        };
        let promotions = waiting.iter().filter_map(|q| {
            let s = &self.state[q.pod];
            self.promotion_due(&jobs.pods[q.pod], q.attained_gpu_ms, s, q.since_ms)
        });
        demotions.chain(promotions).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::replay_on;

    fn job(name: &str, arrival_ms: u64, work_ms: u64, gpus: u32) -> Pod {
        let mut p = Pod::new(name, 1000, 1024, gpus, 1000);
        p.arrival_ms = arrival_ms;
        p.work_ms = Some(work_ms);
        p.demand_milli = Some(1000);
        p
    }

    const NODE4: &[(&str, u64, u64, u32, &str)] = &[("n", 64_000, 1 << 20, 4, "V100M32")];
    const NODE1: &[(&str, u64, u64, u32, &str)] = &[("n", 64_000, 1 << 20, 1, "V100M32")];

    #[test]
    fn under_the_peers_demotion_rule_the_short_job_waits_until_1421_s() {
        // The probe again, with `demotion=peer`: the long 4-GPU job asks to be woken
        // ⌊3,250 / 4⌋ = 812 s in; then it has 812 × 4 = 3,248 GPU-s, short of 3,250, and asks
        // for ⌊(3,250 − 812) / 4⌋ = 609 s more: at 1,421 s it is demoted and the short job
        // preempts it. The peer's own output (tests/crossval/probe/dlas-gpu.csv): job-1 starts
        // at 1,421 and ends at 1,521, job-0 ends at 5,100 with one preemption.
        let mut t = crate::build("tiresias[demotion=peer,order=running-first]")
            .unwrap()
            .policy;
        let o = replay_on(
            NODE4,
            vec![job("long", 0, 5_000_000, 4), job("short", 0, 100_000, 4)],
            t.as_mut(),
            0,
        );
        assert_eq!(o.jobs[1].first_start_ms, Some(1_421_000));
        assert_eq!(o.jobs[1].finish_ms, Some(1_521_000));
        assert_eq!(o.jobs[0].finish_ms, Some(5_100_000));
        assert_eq!(o.figures.preemptions, 1);
    }

    #[test]
    fn a_short_job_waits_exactly_until_the_long_one_crosses_the_threshold() {
        // The crossval probe: two 4-GPU jobs at 0 on one 4-GPU node, a long (5,000 s) then a
        // short (100 s) one; default thresholds 3,250 and 7,200 GPU-s. Both are in queue 0,
        // the long one first (same entry time, lower id). Its service reaches 3,250 GPU-s after
        // 3,250 / 4 = 812.5 s: it is demoted to queue 1 then, and the short job (queue 0)
        // preempts it at that instant — not at the next arrival or completion (there is none).
        let o = replay_on(
            NODE4,
            vec![job("long", 0, 5_000_000, 4), job("short", 0, 100_000, 4)],
            &mut Tiresias::default(),
            0,
        );
        assert_eq!(o.jobs[1].first_start_ms, Some(812_500));
        assert_eq!(o.jobs[1].waited_ms, 812_500);
        assert_eq!(o.jobs[1].finish_ms, Some(912_500));
        // The long job resumes at 912.5 s with 4,187.5 s left.
        assert_eq!(o.jobs[0].finish_ms, Some(5_100_000));
        assert_eq!(o.figures.preemptions, 1);
        // With a restart cost the long job pays it once; the short job's wait is unchanged.
        let o = replay_on(
            NODE4,
            vec![job("long", 0, 5_000_000, 4), job("short", 0, 100_000, 4)],
            &mut Tiresias::default(),
            60_000,
        );
        assert_eq!(o.jobs[1].first_start_ms, Some(812_500));
        assert_eq!(o.jobs[0].finish_ms, Some(5_160_000));
        // The peer's list order changes nothing here.
        let mut t = crate::build("tiresias[order=running-first]")
            .unwrap()
            .policy;
        let o = replay_on(
            NODE4,
            vec![job("long", 0, 5_000_000, 4), job("short", 0, 100_000, 4)],
            &mut *t,
            0,
        );
        assert_eq!(o.jobs[1].first_start_ms, Some(812_500));
        assert_eq!(o.jobs[0].finish_ms, Some(5_100_000));
    }

    #[test]
    fn a_demoted_job_queues_behind_the_jobs_already_in_its_new_queue() {
        // Thresholds 4 and 10 GPU-s on one card. a (0 s, 20 s of work) runs; b (1 s, 14 s)
        // waits in queue 0 (entered after a). At 4 s a is demoted to queue 1 and b preempts
        // it. b reaches 4 GPU-s at 8 s and enters queue 1 behind a (entered at 4 s): a
        // resumes. a reaches 10 GPU-s at 14 s, queue 2: b preempts it, reaches 10 GPU-s at
        // 20 s and enters queue 2 behind a (entered at 14 s): a runs its last 10 s to 30 s,
        // then b its last 4 s to 34 s.
        let o = replay_on(
            NODE1,
            vec![job("a", 0, 20_000, 1), job("b", 1_000, 14_000, 1)],
            &mut Tiresias::new(vec![4_000, 10_000]),
            0,
        );
        assert_eq!(o.jobs[1].first_start_ms, Some(4_000));
        assert_eq!(o.jobs[0].finish_ms, Some(30_000));
        assert_eq!(o.jobs[1].finish_ms, Some(34_000));
        assert_eq!((o.jobs[0].preemptions, o.jobs[1].preemptions), (2, 2));
    }

    #[test]
    fn a_job_never_preempts_one_that_entered_its_queue_earlier() {
        // One card, one threshold (1 GPU-s). a is in queue 1 from 1 s. b arrives at 2 s in
        // queue 0 and preempts a; at 3 s b enters queue 1, behind a, so a resumes and keeps
        // the card to its end (11 s) although b now has less service: within a queue it is
        // FIFO, and b never gets ahead of a again. b's last 9 s end at 20 s.
        let o = replay_on(
            NODE1,
            vec![job("a", 0, 10_000, 1), job("b", 2_000, 10_000, 1)],
            &mut Tiresias::new(vec![1_000]),
            0,
        );
        assert_eq!(o.jobs[1].first_start_ms, Some(2_000));
        assert_eq!(o.jobs[0].finish_ms, Some(11_000));
        assert_eq!(o.jobs[1].finish_ms, Some(20_000));
        assert_eq!(o.figures.preemptions, 2);
    }

    /// a (0 s, 20 s of work) is demoted at 10 s (threshold 10 GPU-s) by a stream of 4-s jobs
    /// arriving every 4 s from 10 s to 26 s, each staying in queue 0.
    fn starving() -> Vec<Pod> {
        let mut jobs = vec![job("a", 0, 20_000, 1)];
        for i in 0..5 {
            jobs.push(job(&format!("c{i}"), 10_000 + 4_000 * i, 4_000, 1));
        }
        jobs
    }

    #[test]
    fn the_starvation_guard_promotes_a_job_that_waited_f_times_its_run_time() {
        // Without the guard a waits for the whole stream (to 30 s) and ends at 40 s.
        let o = replay_on(NODE1, starving(), &mut Tiresias::new(vec![10_000]), 0);
        assert_eq!(o.jobs[0].finish_ms, Some(40_000));
        assert_eq!(o.jobs[4].first_start_ms, Some(22_000));
        // starve = 1: a ran 10 s and has waited 10 s at 20 s: promoted to queue 0, entered at
        // 20 s. c2 (entered at 18 s) keeps the card; at 22 s a goes before c3 (entered at 22 s)
        // and runs its last 10 s to 32 s; c3 and c4 follow.
        let mut t = crate::build("tiresias[thresholds=10,starve=1]")
            .unwrap()
            .policy;
        let o = replay_on(NODE1, starving(), &mut *t, 0);
        assert_eq!(o.jobs[0].finish_ms, Some(32_000));
        assert_eq!(o.jobs[4].first_start_ms, Some(32_000));
        assert_eq!(o.jobs[5].first_start_ms, Some(36_000));
        assert_eq!(o.figures.preemptions, 1);
    }

    #[test]
    fn running_first_keeps_the_peers_list_and_entry_keeps_fifo_by_entry() {
        // Three cards, one threshold (10 GPU-s). x (2 cards) and y (1 card) start at 0; x
        // enters queue 1 at 5 s, y at 10 s. z (2 cards, queue 0) arrives at 11 s: preempting y
        // alone is not enough, x alone is (the fewest lowest-priority victims), so x goes. x
        // resumes when z ends (14 s). At 15 s w (1 card, queue 0) needs one card:
        // * entry: the lowest priority is y (entered queue 1 last): y goes;
        // * running-first: after x's preemption the peer's list put y (running) ahead of x,
        //   and x resumed behind it: x is the last job of the list and goes again.
        let jobs = || {
            vec![
                job("x", 0, 100_000, 2),
                job("y", 0, 100_000, 1),
                job("z", 11_000, 3_000, 2),
                job("w", 15_000, 2_000, 1),
            ]
        };
        let node3 = &[("n", 64_000, 1 << 20, 3, "V100M32")];
        let preempted = |spec: &str| {
            let mut t = crate::build(spec).unwrap().policy;
            let o = replay_on(node3, jobs(), &mut *t, 0);
            (o.jobs[0].preemptions, o.jobs[1].preemptions)
        };
        assert_eq!(preempted("tiresias[thresholds=10]"), (1, 1));
        assert_eq!(
            preempted("tiresias[thresholds=10,order=running-first]"),
            (2, 0)
        );
    }

    /// Tiresias behind a wrapper that passes every call on except [`Policy::jobs_changed`]
    /// (an author's wrapper written before that call existed).
    struct Untold(Tiresias);

    impl Policy for Untold {
        fn name(&self) -> &str {
            self.0.name()
        }
        fn preferred_slicing(&self) -> Option<SlicingMode> {
            self.0.preferred_slicing()
        }
        fn place(
            &mut self,
            c: &Cluster,
            j: PodId,
            p: &Pod,
            r: &mut flexsim_sim::policy::SimRng,
        ) -> Option<flexsim_sim::model::cluster::Placement> {
            self.0.place(c, j, p, r)
        }
        fn order_queue(&mut self, jobs: &JobsView<'_>, queue: &mut [QueuedJob]) {
            self.0.order_queue(jobs, queue)
        }
        fn discipline(&self) -> Discipline {
            self.0.discipline()
        }
        fn preempt(&mut self, c: &Cluster, j: PodId, p: &Pod, v: &JobsView<'_>) -> Vec<PodId> {
            self.0.preempt(c, j, p, v)
        }
        fn next_wake(&mut self, jobs: &JobsView<'_>, waiting: &[QueuedJob]) -> Option<u64> {
            self.0.next_wake(jobs, waiting)
        }
    }

    #[test]
    fn the_crossing_heap_demotes_as_a_look_at_every_running_job_does() {
        // 40 jobs of 1-3 cards, arriving every 2 s with 5-60 s of work, on three 4-card
        // nodes; thresholds 20 and 60 GPU-s: jobs are demoted and preempt each other. The
        // heap (told starts and stops) and the fallback (a wrapper that drops the call, so
        // every running job is looked at each call) must give the same run, job for job.
        let jobs = || -> Vec<Pod> {
            (0..40u64)
                .map(|i| {
                    let gpus = 1 + (i * 7 % 3) as u32;
                    job(
                        &format!("j{i}"),
                        2_000 * i,
                        5_000 + (i * 13_000) % 55_000,
                        gpus,
                    )
                })
                .collect()
        };
        let nodes = &[
            ("a", 64_000, 1 << 20, 4, "V100M32"),
            ("b", 64_000, 1 << 20, 4, "V100M32"),
            ("c", 64_000, 1 << 20, 4, "V100M32"),
        ];
        let told = replay_on(nodes, jobs(), &mut Tiresias::new(vec![20_000, 60_000]), 0);
        let mut untold = Untold(Tiresias::new(vec![20_000, 60_000]));
        let scanned = replay_on(nodes, jobs(), &mut untold, 0);
        assert!(untold.0.untold, "the wrapper's missing call is noticed");
        assert!(
            told.figures.preemptions >= 5,
            "{}",
            told.figures.preemptions
        );
        assert_eq!(format!("{:?}", told.jobs), format!("{:?}", scanned.jobs));
        assert_eq!(told.figures.preemptions, scanned.figures.preemptions);
    }

    #[test]
    fn parameters_are_checked() {
        for (spec, expected) in [
            ("tiresias[thresholds=7200:1800]", "expected ascending"),
            ("tiresias[thresholds=0]", "expected ascending"),
            ("tiresias[starve=-1]", "expected a factor >= 0"),
            (
                "tiresias[placement=spread]",
                "expected one of best-fit, first-fit",
            ),
            (
                "tiresias[order=lifo]",
                "expected one of entry, running-first",
            ),
        ] {
            let e = crate::build(spec).err().unwrap().to_string();
            assert!(e.contains(expected), "{spec}: {e}");
        }
        let b = crate::build("tiresias").unwrap();
        assert_eq!(b.params.resolved()["thresholds"], "3250:7200");
        assert_eq!(b.params.resolved()["starve"], "0");
        assert_eq!(b.params.resolved()["placement"], "best-fit");
        assert_eq!(b.params.resolved()["order"], "entry");
    }
}
