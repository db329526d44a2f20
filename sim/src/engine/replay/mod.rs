//! The `replay` protocol: a time-faithful run of a cluster (DESIGN "Experiment protocols").
//!
//! Jobs arrive at their trace times and wait in a queue the policy orders; the policy places
//! them (the engine checks every placement against the slicing model); each running job
//! progresses at the rate the performance model gives it on its cards (slicing-model §7.2) and
//! leaves when its work is done. Rates are piecewise constant: whenever a card's tenants change
//! the engine settles every tenant's progress and recomputes its finish time; stale finish
//! events are dropped by a per-job generation counter. A policy may preempt running jobs; they
//! go back to the queue and pay the configured restart cost.
//!
//! Jobs the trace gives no work for (`work_ms == None`) are not replayed and are counted as
//! skipped. A job whose demand is unknown gets one drawn from [`ReplayConfig::demand`].
//!
//! Before the replay starts, every job that fits no node of the empty fleet — whole, or split
//! into a host part and a device part on two nodes for remote placement — is classified
//! *unplaceable* with the reason ([`Unplaceable`]): it can never run, is never offered to the
//! policy and never waits in its queue, and is reported as such (state `unplaceable`, never
//! `pending`). With [`ReplayConfig::strict`] the run refuses to start instead
//! ([`EngineError::Unplaceable`]). Like pending jobs, unplaceable jobs count as waiting until
//! the end in the wait percentiles, the timeseries' `waiting` column and SLO attainment, so
//! that a configuration that cannot run some jobs is not flattered by them.
//!
//! A job still pending at the end gets a reason ([`PendingReason`]), judged on the cluster as
//! it ended.

mod backfill;
mod gang;
mod keyed_queue;
mod lifecycle;
mod parking;
mod queue;
mod rates;
mod sampling;
#[cfg(test)]
mod tests;

use crate::engine::event_queue::EventQueue;
use crate::engine::fit_classes;
use crate::error::EngineError;
use crate::metrics::energy::EnergyMeter;
use crate::metrics::fairness::classes_of;
use crate::metrics::frag_tracker::FragTracker;
use crate::metrics::replay_metrics::{
    JobReason, JobRecord, JobState, Metrics, ReplayOutcome, TimePoint,
};
use crate::metrics::tiers::TierFigures;
use crate::model::cluster::{Cluster, FitProbe, NodeId, Placement, Unplaceable};
use crate::model::demand::DemandDistribution;
use crate::model::fleet::Fleet;
use crate::model::fragmentation::TypicalPods;
use crate::model::job::{Pod, PodId, Workload};
use crate::model::perf::{PerfParams, PerfTenant, TenantRate};
use crate::model::topology::{Tier, Topology};
use crate::model::units::GPU_MILLI;
use crate::policy::{
    JobsView, Policy, QueuedJob, Refusals, ReplayHints, RunningJob, Setup, SimRng,
};
use keyed_queue::KeyedQueue;
use rand::SeedableRng;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::sync::Arc;

/// What defines one replay besides the inputs and the policy.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayConfig {
    pub seed: u64,
    pub perf: PerfParams,
    /// Work added to a preempted job (ms of solo work): the restart cost.
    pub restart_cost_ms: u64,
    /// Where the busy share of jobs without one comes from.
    pub demand: DemandDistribution,
    /// A latency-sensitive job meets its SLO when JCT ≤ this × its solo work time.
    pub slo_slowdown: f64,
    /// About how many rows `timeseries.csv` gets.
    pub timeseries_points: u64,
    /// Refuse to run ([`EngineError::Unplaceable`]) when a job fits no node of the empty fleet,
    /// instead of reporting it unplaceable.
    pub strict: bool,
    /// Idle-off accounting ([`crate::metrics::energy`]): a card with no tenant for this long,
    /// ms, is counted as powered down until its next tenant; `None`: cards are always on. Only
    /// reported figures change, never the schedule.
    pub idle_off_ms: Option<u64>,
}

pub use crate::metrics::replay_metrics::{PendingReason, SKIPPED_REASON};

impl Default for ReplayConfig {
    fn default() -> Self {
        ReplayConfig {
            seed: 42,
            perf: PerfParams::DEFAULT,
            restart_cost_ms: 60_000,
            demand: DemandDistribution::default(),
            slo_slowdown: 1.5,
            timeseries_points: 500,
            strict: false,
            idle_off_ms: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Event {
    Arrive(PodId),
    /// The job's work is done, if its generation still matches.
    Finish(PodId, u32),
    /// The policy asked to be called now ([`Policy::next_wake`]), if no later request
    /// replaced this one (the generation still matches).
    Wake(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Skipped,
    NotArrived,
    Waiting,
    Running,
    Done,
    /// Arrived, and fits no node of the empty fleet: never queued.
    Unplaceable,
}

/// Run-time state of one job.
#[derive(Debug, Clone)]
struct Job {
    state: State,
    /// Busy share when alone, milli ([`Job::demand`]).
    demand_milli: u16,
    /// Solo work left, ms.
    remaining: f64,
    /// Progress per ms of simulated time.
    rate: f64,
    /// Time of the last progress settlement, ms.
    since: u64,
    generation: u32,
    node: NodeId,
    gpus: Box<[u16]>,
    /// A remote job's host or a gang's further parts ([`Job::host`], [`Job::rest`]); boxed
    /// since most jobs have neither (memory per job, issue 9).
    parts: Option<Box<Parts>>,
    first_start: MaybeMs,
    finish: MaybeMs,
    enqueued_at: u64,
    waited_ms: u64,
    preemptions: u32,
    attained_gpu_ms: u64,
    started_at: u64,
}

/// An instant that may not have come, ms: an `Option<u64>` in 8 bytes (`u64::MAX` = none; no
/// replay reaches that millisecond), for the per-job state (issue 9: memory per job).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct MaybeMs(u64);

impl MaybeMs {
    const NONE: MaybeMs = MaybeMs(u64::MAX);

    fn at(ms: u64) -> MaybeMs {
        debug_assert!(ms != u64::MAX, "an instant a replay reaches");
        MaybeMs(ms)
    }

    fn get(self) -> Option<u64> {
        (self != MaybeMs::NONE).then_some(self.0)
    }

    fn is_some(self) -> bool {
        self != MaybeMs::NONE
    }

    /// Sets it to `ms` unless it is already set.
    fn get_or_insert(&mut self, ms: u64) {
        if !self.is_some() {
            *self = MaybeMs::at(ms);
        }
    }
}

/// Where a job runs beyond its first node.
#[derive(Debug, Clone)]
struct Parts {
    /// The node holding the job's CPU and memory when it runs remotely.
    host: Option<NodeId>,
    /// A gang's parts after the first (`node`, `gpus`), of its current or last placement;
    /// empty for a single-node job.
    rest: Box<[Placement]>,
}

impl Job {
    /// Busy share when alone (slicing-model §7.2 `u_i`).
    fn demand(&self) -> f64 {
        f64::from(self.demand_milli) / 1000.0
    }

    /// The node holding the job's CPU and memory when it runs remotely.
    fn host(&self) -> Option<NodeId> {
        self.parts.as_ref().and_then(|p| p.host)
    }

    /// A gang's parts after the first, of its current or last placement; empty for a
    /// single-node job.
    fn rest(&self) -> &[Placement] {
        self.parts.as_ref().map_or(&[], |p| &p.rest)
    }

    fn set_parts(&mut self, host: Option<NodeId>, rest: Vec<Placement>) {
        self.parts = (host.is_some() || !rest.is_empty()).then(|| {
            Box::new(Parts {
                host,
                rest: rest.into_boxed_slice(),
            })
        });
    }

    /// Forgets the remote host (released); a gang keeps its parts as where it last ran.
    fn take_host(&mut self) -> Option<NodeId> {
        let host = self.parts.as_mut().and_then(|p| p.host.take());
        if self.parts.as_ref().is_some_and(|p| p.rest.is_empty()) {
            self.parts = None;
        }
        host
    }
}

/// A card whose tenants' rates must be recomputed.
type CardRef = (NodeId, u16);

struct Engine<'a> {
    pods: &'a [Pod],
    config: &'a ReplayConfig,
    cluster: Cluster,
    jobs: Vec<Job>,
    queue: EventQueue<Event>,
    waiting: Vec<QueuedJob>,
    /// The buffer the last scheduling pass walked, kept (empty) for the next pass: a
    /// saturated queue is rebuilt every pass, and reusing two buffers saves an allocation
    /// and a regrowth copy each time.
    spare_queue: Vec<QueuedJob>,
    /// Starts and stops not yet told to the policy ([`Policy::jobs_changed`]).
    job_changes: Vec<crate::policy::JobChange>,
    running: Vec<RunningJob>,
    /// Position of each running job in `running`.
    running_slot: Vec<u32>,
    now: u64,
    /// Fit class of each job: jobs of one class fit exactly the same places.
    fit_class: Vec<u32>,
    failed_in_pass: Vec<u64>,
    /// Classes that fit nowhere even on the empty cluster, whole or split: why, per class.
    never_fits: Vec<Option<Unplaceable>>,
    /// Classes placed as gangs over several nodes ([`crate::model::gang::needs_gang`]).
    gang_class: Vec<bool>,
    /// Unplaceable jobs that have arrived (counted as waiting in the timeseries).
    unplaceable_arrived: u64,
    /// Counts releases of resources (finishes and preemptions).
    release_epoch: u64,
    /// The release epoch at which each class last found no place.
    unplaceable_epoch: Vec<u64>,
    /// The policy's promises as this run uses them ([`ReplayHints`]; a keyed queue is not
    /// used under EASY backfilling).
    hints: ReplayHints,
    /// With a keyed queue: the waiting jobs by class in the policy's order; `waiting` then
    /// holds them in no particular order, job `id` at `waiting_slot[id]`.
    keyed: Option<KeyedQueue>,
    waiting_slot: Vec<u32>,
    /// The keyed pass's merge (`queue.rs`): one head per class in it, and which classes are
    /// (`in_merge[class] == merge_stamp`).
    merge_heads: BinaryHeap<Reverse<keyed_queue::Entry>>,
    in_merge: Vec<u64>,
    merge_stamp: u64,
    /// Parking (`parking.rs`): each class's shape ([`crate::engine::fit_shapes`]); per shape
    /// one job of it, with [`Refusals::OnANodeThatFitsAPart`] its host and device parts
    /// ([`Cluster::split_remote`]), its classes, its waiting jobs, and the latest release
    /// epoch that freed a node it fits; the shapes with waiting jobs; the gang classes; the
    /// classes the next keyed pass looks at.
    shape_of_class: Vec<u32>,
    shape_rep: Vec<PodId>,
    split_rep: Vec<Option<(Pod, Pod)>>,
    classes_of_shape: Vec<Vec<u32>>,
    waiting_in_shape: Vec<u32>,
    usable_at: Vec<u64>,
    active_shapes: Vec<u32>,
    shape_listed: Vec<bool>,
    gang_classes: Vec<u32>,
    offer_list: Vec<u32>,
    released_scratch: Vec<NodeId>,
    /// Per shape, the fit test's per-device work for it whole and for its device part.
    shape_probes: Vec<[FitProbe; 2]>,
    pass: u64,
    metrics: Metrics,
    /// Per card: the (busy, allocated) it contributes now, micro-cards; node `n`'s cards
    /// start at `card_base[n]`.
    card_use: Vec<(u64, u64)>,
    card_base: Vec<u32>,
    /// The card rates of the refresh under way ([`Engine::refresh_cards`]), and its list of
    /// the tenants whose rate it recomputes.
    rate_cache: sampling::RateCache,
    affected_scratch: Vec<PodId>,
    node_model: Vec<Option<usize>>,
    perf_in: Vec<PerfTenant>,
    perf_out: Vec<TenantRate>,
    frag: FragTracker,
    events: u64,
    /// The policy's pending wake-up, and the generation that marks older ones stale.
    wake_at: Option<u64>,
    wake_generation: u32,
    /// On a fleet with a topology, per job: the tier its current or last placement spans and
    /// the speed factor that placement costs ([`crate::model::topology`]); empty on a flat
    /// fleet, whose gangs pay `cross_node_factor` as before.
    spread: Vec<(Tier, f64)>,
    /// The communication share the topology's speed factors use
    /// ([`crate::model::topology::comm_share`] of `cross_node_factor`).
    comm_share: f64,
}

/// Runs the replay protocol for one policy and seed, on the fleet in the policy's preferred
/// slicing mode where the fleet's mode was not chosen ([`crate::engine::fleet_for`]).
pub fn run(
    fleet: &Fleet,
    workload: &Workload,
    policy: &mut dyn Policy,
    config: &ReplayConfig,
) -> Result<ReplayOutcome, EngineError> {
    let fleet = &crate::engine::fleet_for(fleet, policy)?;
    let pods = &workload.pods;
    let mut cluster = Cluster::new(fleet);
    if cluster.gpu_capacity_milli() == 0 {
        return Err(EngineError::NoGpuCapacity);
    }
    let mut rng = SimRng::seed_from_u64(config.seed);
    // The node tie-break order is seeded as in the inflation protocol (fgd-protocol §2.6).
    cluster.set_priority(&crate::engine::inflation::node_ranks(fleet, &mut rng));
    let typical = TypicalPods::from_pods(pods);
    policy.prepare(&Setup {
        cluster: &cluster,
        original_pods: pods,
        typical: &typical,
    });

    // Demand: the trace's, else drawn in pod order from a generator of its own, so that the
    // draws do not depend on the policy.
    let mut demand_rng = SimRng::seed_from_u64(config.seed ^ 0xdead_beef_0d15_ea5e);
    let mut jobs = Vec::with_capacity(pods.len());
    let mut queue = EventQueue::new();
    let mut arrivals = Vec::with_capacity(pods.len());
    let mut horizon = 0u64;
    let mut last_arrival = 0u64;
    for (id, p) in pods.iter().enumerate() {
        let drawn = config.demand.sample(&mut demand_rng);
        // At most GPU_MILLI (1000): fits 16 bits.
        let demand_milli = p.demand_milli.unwrap_or(drawn).clamp(1, GPU_MILLI) as u16;
        let state = if p.work_ms.is_some() {
            arrivals.push((p.arrival_ms, Event::Arrive(id)));
            horizon = horizon.max(p.arrival_ms + p.work_ms.unwrap_or(0));
            last_arrival = last_arrival.max(p.arrival_ms);
            State::NotArrived
        } else {
            State::Skipped
        };
        jobs.push(Job {
            state,
            demand_milli,
            remaining: p.work_ms.unwrap_or(0) as f64,
            rate: 0.0,
            since: 0,
            generation: 0,
            node: 0,
            gpus: Box::default(),
            parts: None,
            first_start: MaybeMs::NONE,
            finish: MaybeMs::NONE,
            enqueued_at: 0,
            waited_ms: 0,
            preemptions: 0,
            attained_gpu_ms: 0,
            started_at: 0,
        });
    }

    // Arrivals are known now: a sorted cursor, not heap entries (same order, smaller heap).
    queue.preload(arrivals);

    let (fit_class, classes) = fit_classes(pods);
    // A class that fits no node of the empty cluster, whole or split for remote placement,
    // never will: its jobs are unplaceable, never queued nor offered to the policy.
    // A gang class never fits when no gang of it fits the empty cluster.
    let mut never_fits: Vec<Option<Unplaceable>> = vec![None; classes];
    let mut gang_class = vec![false; classes];
    let mut checked = vec![false; classes];
    for (id, p) in pods.iter().enumerate() {
        let c = fit_class[id] as usize;
        if checked[c] || jobs[id].state == State::Skipped {
            continue;
        }
        checked[c] = true;
        gang_class[c] = crate::model::gang::needs_gang(&cluster, p);
        never_fits[c] = if gang_class[c] {
            crate::model::gang::unplaceable_reason(&cluster, p)
        } else {
            cluster
                .unplaceable_reason(p)
                .filter(|_| !fits_split(&cluster, p))
        };
    }
    if config.strict {
        strict_check(pods, &jobs, &fit_class, &never_fits)?;
    }
    let mut class_rep = vec![0; classes];
    for (id, &c) in fit_class.iter().enumerate().rev() {
        class_rep[c as usize] = id;
    }
    let shape_of_class = crate::engine::fit_shapes(pods, &class_rep);
    let shapes = shape_of_class.iter().max().map_or(0, |&s| s as usize + 1);
    let mut shape_rep = vec![0; shapes];
    let mut classes_of_shape = vec![Vec::new(); shapes];
    for (c, &s) in shape_of_class.iter().enumerate() {
        if classes_of_shape[s as usize].is_empty() {
            shape_rep[s as usize] = class_rep[c];
        }
        classes_of_shape[s as usize].push(c as u32);
    }
    // EASY's backfill test is per job (its work), so its pass visits every job.
    let hints = {
        let mut h = policy.replay_hints();
        h.keyed_queue &= policy.discipline() != crate::policy::Discipline::EasyBackfill;
        h
    };
    let models: Vec<String> = fleet.devices.keys().cloned().collect();
    let node_model: Vec<Option<usize>> = cluster
        .nodes()
        .iter()
        .map(|n| {
            n.device()
                .and_then(|_| models.iter().position(|m| *m == n.model))
        })
        .collect();
    // Prefix sums of the cards per node, one more entry than nodes: the flat card-use table.
    let card_base: Vec<u32> = std::iter::once(0)
        .chain(cluster.nodes().iter().scan(0u32, |total, n| {
            *total += n.cards().len() as u32;
            Some(*total)
        }))
        .collect();
    let mut cards_per_model = vec![0u64; models.len()];
    for (n, m) in cluster.nodes().iter().zip(&node_model) {
        if let Some(m) = m {
            cards_per_model[*m] += n.gpu_count() as u64;
        }
    }
    let first_arrival = queue.peek_time().unwrap_or(0);
    let interval = (horizon.saturating_sub(first_arrival) / config.timeseries_points.max(1)).max(1);
    // A trace whose jobs all arrive at once has no arrival window: use the horizon.
    let window_end = if last_arrival > first_arrival {
        last_arrival
    } else {
        horizon
    };
    let powers: Vec<_> = fleet.devices.values().map(|d| d.model.power).collect();
    let meter = EnergyMeter::new(
        first_arrival,
        &powers,
        cluster
            .nodes()
            .iter()
            .zip(&node_model)
            .map(|(n, m)| (*m, n.gpu_count())),
        config.idle_off_ms,
    );
    let mut metrics = Metrics::new(
        first_arrival,
        window_end,
        interval,
        cluster.gpu_capacity_milli() / u64::from(GPU_MILLI),
        models,
        cards_per_model,
    )
    .with_energy(meter);
    metrics.gang_jobs = (0..pods.len())
        .filter(|&id| jobs[id].state != State::Skipped && gang_class[fit_class[id] as usize])
        .count() as u64;
    let frag = FragTracker::new(typical, cluster.nodes().len());
    let gang_classes: Vec<u32> = (0..classes as u32)
        .filter(|&c| gang_class[c as usize])
        .collect();
    let mut engine = Engine {
        pods,
        config,
        cluster,
        jobs,
        queue,
        waiting: Vec::new(),
        spare_queue: Vec::new(),
        job_changes: Vec::new(),
        running: Vec::new(),
        running_slot: vec![u32::MAX; pods.len()],
        now: first_arrival,
        fit_class,
        failed_in_pass: vec![0; classes],
        never_fits,
        gang_class,
        unplaceable_arrived: 0,
        release_epoch: 0,
        unplaceable_epoch: vec![u64::MAX; classes],
        hints,
        keyed: hints.keyed_queue.then(|| KeyedQueue::new(classes)),
        waiting_slot: if hints.keyed_queue {
            vec![u32::MAX; pods.len()]
        } else {
            Vec::new()
        },
        merge_heads: BinaryHeap::new(),
        in_merge: vec![0; classes],
        merge_stamp: 0,
        split_rep: shape_rep
            .iter()
            .map(|&id| {
                let p = &pods[id];
                (hints.refusals == Refusals::OnANodeThatFitsAPart && p.is_gpu_pod())
                    .then(|| Cluster::split_remote(p))
            })
            .collect(),
        shape_rep,
        classes_of_shape,
        waiting_in_shape: vec![0; shapes],
        usable_at: vec![0; shapes],
        active_shapes: Vec::new(),
        shape_listed: vec![false; shapes],
        gang_classes,
        offer_list: Vec::new(),
        released_scratch: Vec::new(),
        shape_probes: (0..shapes).map(|_| Default::default()).collect(),
        shape_of_class,
        pass: 0,
        metrics,
        card_use: vec![(0, 0); card_base.last().copied().unwrap_or(0) as usize],
        card_base,
        rate_cache: Default::default(),
        affected_scratch: Vec::new(),
        node_model,
        perf_in: Vec::new(),
        perf_out: Vec::new(),
        frag,
        events: 0,
        wake_at: None,
        wake_generation: 0,
        spread: if fleet.topology.is_some() {
            vec![(Tier::Device, 1.0); pods.len()]
        } else {
            Vec::new()
        },
        comm_share: crate::model::topology::comm_share(config.perf.cross_node_factor),
    };
    engine.run(policy, &mut rng)?;
    let mut outcome = engine.finish();
    outcome.slicing = fleet.modes();
    Ok(outcome)
}

/// Whether `pod`'s host part (CPU, memory) and device part fit two different nodes of
/// `cluster` now (remote placement, slicing-model §1.5).
fn fits_split(cluster: &Cluster, pod: &Pod) -> bool {
    pod.is_gpu_pod() && {
        let (host, device) = Cluster::split_remote(pod);
        let hosts: Vec<usize> = (0..cluster.nodes().len())
            .filter(|&n| cluster.node(n).fits(&host))
            .collect();
        (0..cluster.nodes().len())
            .any(|n| cluster.node(n).fits(&device) && hosts.iter().any(|&h| h != n))
    }
}

/// Why `pod` (which fits the empty fleet) is not running on `cluster` ([`PendingReason`]).
pub(crate) fn pending_reason(cluster: &Cluster, pod: &Pod) -> PendingReason {
    if cluster.nodes().iter().any(|n| n.fits(pod)) {
        PendingReason::Starved
    } else if fits_split(cluster, pod) {
        PendingReason::RemoteOnly
    } else {
        PendingReason::NoFitNow
    }
}

/// [`ReplayConfig::strict`]: an error naming the unplaceable jobs' count per reason and a few
/// of them, if there are any.
fn strict_check(
    pods: &[Pod],
    jobs: &[Job],
    fit_class: &[u32],
    never_fits: &[Option<Unplaceable>],
) -> Result<(), EngineError> {
    let mut by_reason: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut examples = Vec::new();
    for (id, p) in pods.iter().enumerate() {
        if jobs[id].state == State::Skipped {
            continue;
        }
        if let Some(why) = never_fits[fit_class[id] as usize] {
            *by_reason.entry(why.name()).or_insert(0) += 1;
            if examples.len() < 5 {
                examples.push(p.name.clone());
            }
        }
    }
    if by_reason.is_empty() {
        return Ok(());
    }
    Err(EngineError::Unplaceable {
        total: by_reason.values().sum(),
        by_reason: by_reason
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", "),
        examples: examples.join(", "),
    })
}

impl Engine<'_> {
    fn run(&mut self, policy: &mut dyn Policy, rng: &mut SimRng) -> Result<(), EngineError> {
        while let Some(t) = self.queue.peek_time() {
            self.advance(t);
            let mut changed = false;
            while self.queue.peek_time() == Some(t) {
                let (_, event) = self.queue.pop().expect("peeked");
                self.events += 1;
                match event {
                    Event::Arrive(id) => {
                        if self.never_fits[self.fit_class[id] as usize].is_some() {
                            let j = &mut self.jobs[id];
                            j.state = State::Unplaceable;
                            j.enqueued_at = self.now;
                            self.unplaceable_arrived += 1;
                        } else {
                            self.enqueue(id);
                        }
                        // Any arrival wakes the scheduler, as a pod creation does.
                        changed = true;
                    }
                    Event::Finish(id, generation) => {
                        let j = &self.jobs[id];
                        if j.state == State::Running && j.generation == generation {
                            self.complete(id);
                            changed = true;
                        }
                    }
                    Event::Wake(generation) => {
                        if generation == self.wake_generation {
                            self.wake_at = None;
                            changed = true;
                        }
                    }
                }
            }
            if changed {
                self.schedule(policy, rng)?;
                self.ask_wake(policy);
            }
        }
        Ok(())
    }

    /// Asks the policy when it next wants to be called and keeps one wake-up event for the
    /// earliest such time. With nothing running, no wake-up is kept: the cluster cannot change
    /// until a job arrives, so a policy's timer could only spin.
    fn ask_wake(&mut self, policy: &mut dyn Policy) {
        self.tell_changes(policy);
        let view = JobsView {
            now_ms: self.now,
            pods: self.pods,
            running: &self.running,
            fit_class: &self.fit_class,
        };
        let want = policy
            .next_wake(&view, &self.waiting)
            .filter(|&t| t > self.now && !self.running.is_empty());
        if want != self.wake_at {
            self.wake_generation += 1;
            self.wake_at = want;
            if let Some(t) = want {
                self.queue.push(t, Event::Wake(self.wake_generation));
            }
        }
    }

    /// Tells the policy the jobs that started and stopped since it was last told
    /// ([`Policy::jobs_changed`]); called before each call that hands it a [`JobsView`].
    pub(super) fn tell_changes(&mut self, policy: &mut dyn Policy) {
        if self.job_changes.is_empty() {
            return;
        }
        let view = JobsView {
            now_ms: self.now,
            pods: self.pods,
            running: &self.running,
            fit_class: &self.fit_class,
        };
        policy.jobs_changed(&view, &self.job_changes);
        self.job_changes.clear();
    }

    /// Why pending job `id` still waits at the end ([`pending_reason`] on the cluster as it
    /// ended); `cache` holds the answer per fit class.
    fn pending_reason(&self, id: PodId, cache: &mut [Option<PendingReason>]) -> PendingReason {
        let class = self.fit_class[id] as usize;
        let gang = self.gang_class[class];
        *cache[class].get_or_insert_with(|| {
            let pod = &self.pods[id];
            if !gang {
                pending_reason(&self.cluster, pod)
            } else if crate::model::gang::gang_fits(&self.cluster, pod) {
                PendingReason::Starved
            } else {
                PendingReason::NoFitNow
            }
        })
    }

    /// The name of the node job `j` runs or last ran on; a gang's nodes joined by `|`, in
    /// part order. `names[node]` is the node's name, shared by every single-node job's record.
    fn node_names(j: &Job, names: &[Arc<str>]) -> Arc<str> {
        if j.rest().is_empty() {
            return names[j.node].clone();
        }
        let mut joined = String::from(&*names[j.node]);
        for p in j.rest() {
            joined.push('|');
            joined.push_str(&names[p.node]);
        }
        Arc::from(joined)
    }

    /// The record of job `id` (`j`) at the end of the run (`end`).
    fn record(
        &self,
        id: PodId,
        j: &Job,
        end: u64,
        node_names: &[Arc<str>],
        job_class: &[u32],
        (pending_cache, best): (&mut [Option<PendingReason>], &mut BestTiers),
    ) -> JobRecord {
        let p = &self.pods[id];
        let (tier, best_tier) = match self.cluster.topology() {
            None => (None, None),
            Some(topo) => (
                j.first_start.get().map(|_| self.spread[id].0),
                best.of(topo, self.fit_class[id] as usize, p),
            ),
        };
        JobRecord {
            tier,
            best_tier,
            pod: id,
            arrival_ms: p.arrival_ms,
            work_ms: p.work_ms,
            demand: j.demand(),
            first_start_ms: j.first_start.get(),
            finish_ms: j.finish.get(),
            waited_ms: j.waited_ms
                + if matches!(j.state, State::Waiting | State::Unplaceable) {
                    end - j.enqueued_at
                } else {
                    0
                },
            preemptions: j.preemptions,
            node: (j.state == State::Running || j.finish.is_some())
                .then(|| Self::node_names(j, node_names)),
            state: match j.state {
                State::Skipped => JobState::Skipped,
                State::NotArrived | State::Waiting => JobState::Pending,
                State::Running => JobState::Running,
                State::Done => JobState::Finished,
                State::Unplaceable => JobState::Unplaceable,
            },
            reason: match j.state {
                State::Skipped => JobReason::NoWork,
                State::Unplaceable => self.never_fits[self.fit_class[id] as usize]
                    .map_or(JobReason::None, JobReason::Unplaceable),
                State::NotArrived | State::Waiting => {
                    JobReason::Pending(self.pending_reason(id, pending_cache))
                }
                State::Running | State::Done => JobReason::None,
            },
            latency_sensitive: p.latency_sensitive,
            class: job_class[id],
            // attained GPU-ms count a CPU-only job's time once: held time × cards.
            held_ms: j.attained_gpu_ms / u64::from(p.num_gpu.max(1)),
            card_milli: u64::from(p.num_gpu) * u64::from(p.gpu_milli),
        }
    }

    fn finish(mut self) -> ReplayOutcome {
        let end = self.now;
        let frag = self.frag_ratio_pct();
        self.metrics.sample(
            end,
            TimePoint {
                frag_ratio_pct: frag,
                running: self.running.len() as u64,
                waiting: self.waiting_count(),
            },
        );
        // Free what the run needed and the records do not, before they are built (the peak).
        self.queue = EventQueue::new();
        self.running_slot = Vec::new();
        self.spare_queue = Vec::new();
        self.card_use = Vec::new();
        let node_names: Vec<Arc<str>> = self
            .cluster
            .nodes()
            .iter()
            .map(|n| Arc::from(n.name.as_str()))
            .collect();
        // A class's pending reason is judged on its first pending job, in job order.
        let mut pending_cache = vec![None; self.failed_in_pass.len()];
        for id in 0..self.jobs.len() {
            if matches!(self.jobs[id].state, State::NotArrived | State::Waiting) {
                self.pending_reason(id, &mut pending_cache);
            }
        }
        let (classes, job_class) = classes_of(self.pods);
        let mut best = BestTiers::new(&self.cluster, self.failed_in_pass.len());
        // Records are built from the last job back, and the job list shrinks as they are, so
        // that the two lists never both hold every job (the run's peak memory).
        const CHUNK: usize = 1 << 16;
        let mut jobs = std::mem::take(&mut self.jobs);
        let mut records: Vec<JobRecord> = Vec::with_capacity(jobs.len());
        while let Some(j) = jobs.pop() {
            let id = jobs.len();
            records.push(self.record(
                id,
                &j,
                end,
                &node_names,
                &job_class,
                (&mut pending_cache, &mut best),
            ));
            if id.is_multiple_of(CHUNK) {
                jobs.shrink_to_fit();
            }
        }
        records.reverse();
        let mut outcome =
            self.metrics
                .into_outcome(end, records, self.events, self.config.slo_slowdown, classes);
        outcome.tiers = self
            .cluster
            .topology()
            .map(|t| TierFigures::of(&outcome.jobs, t));
        outcome
    }
}

/// The tightest tier a job's shape can span on the fleet ([`Topology::best_tier`]), per fit
/// class, for the records' `best_tier`: the most devices a node of each model has, found once,
/// then per class the best over the models the job accepts.
struct BestTiers {
    /// Device model ⇒ the most devices one node of it has.
    per_model: BTreeMap<String, u32>,
    by_class: Vec<Option<Option<Tier>>>,
}

impl BestTiers {
    fn new(cluster: &Cluster, classes: usize) -> Self {
        let mut per_model: BTreeMap<String, u32> = BTreeMap::new();
        if cluster.topology().is_some() {
            for n in cluster.nodes().iter().filter(|n| n.gpu_count() > 0) {
                let e = per_model.entry(n.model.clone()).or_insert(0);
                *e = (*e).max(n.gpu_count() as u32);
            }
        }
        BestTiers {
            per_model,
            by_class: vec![None; classes],
        }
    }

    /// The best tier of `pod` (of fit class `class`) on `topo`; `None` if no node takes it.
    fn of(&mut self, topo: &Topology, class: usize, pod: &Pod) -> Option<Tier> {
        let per_model = &self.per_model;
        *self.by_class[class].get_or_insert_with(|| {
            per_model
                .iter()
                .filter(|(model, _)| pod.gpu_spec.accepts(model))
                .map(|(model, &per_node)| {
                    let per_node = match pod.gang {
                        Some(s) if s.num_nodes >= 2 => per_node.min(s.gpus_per_node),
                        _ => per_node,
                    };
                    topo.best_tier(pod.num_gpu, topo.boards.get(model), per_node)
                })
                .min()
        })
    }
}
