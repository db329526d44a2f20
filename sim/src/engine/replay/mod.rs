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

mod lifecycle;
mod queue;
mod rates;
mod sampling;
#[cfg(test)]
mod tests;

use crate::engine::event_queue::EventQueue;
use crate::error::EngineError;
use crate::metrics::frag_tracker::FragTracker;
use crate::metrics::replay_metrics::{JobRecord, Metrics, ReplayOutcome, TimePoint};
use crate::model::cluster::{Cluster, NodeId};
use crate::model::demand::DemandDistribution;
use crate::model::fleet::Fleet;
use crate::model::fragmentation::TypicalPods;
use crate::model::job::{Pod, PodId, Workload};
use crate::model::perf::{PerfParams, PerfTenant, TenantRate};
use crate::model::units::GPU_MILLI;
use crate::policy::{Policy, QueuedJob, RunningJob, Setup, SimRng};
use queue::fit_classes;
use rand::SeedableRng;
use std::collections::HashMap;

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
}

impl Default for ReplayConfig {
    fn default() -> Self {
        ReplayConfig {
            seed: 42,
            perf: PerfParams::DEFAULT,
            restart_cost_ms: 60_000,
            demand: DemandDistribution::default(),
            slo_slowdown: 1.5,
            timeseries_points: 500,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Event {
    Arrive(PodId),
    /// The job's work is done, if its generation still matches.
    Finish(PodId, u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Skipped,
    NotArrived,
    Waiting,
    Running,
    Done,
}

/// Run-time state of one job.
#[derive(Debug, Clone)]
struct Job {
    state: State,
    demand: f64,
    /// Solo work left, ms.
    remaining: f64,
    /// Progress per ms of simulated time.
    rate: f64,
    /// Time of the last progress settlement, ms.
    since: u64,
    generation: u32,
    node: NodeId,
    gpus: Vec<u16>,
    /// The node holding the job's CPU and memory when it runs remotely.
    host: Option<NodeId>,
    first_start: Option<u64>,
    finish: Option<u64>,
    enqueued_at: u64,
    waited_ms: u64,
    preemptions: u32,
    attained_gpu_ms: u64,
    started_at: u64,
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
    running: Vec<RunningJob>,
    /// Position of each running job in `running`.
    running_slot: Vec<usize>,
    now: u64,
    /// Fit class of each job: jobs of one class fit exactly the same places.
    fit_class: Vec<u32>,
    failed_in_pass: Vec<u64>,
    /// Classes that fit nowhere even on the empty cluster.
    never_fits: Vec<bool>,
    /// Counts releases of resources (finishes and preemptions).
    release_epoch: u64,
    /// The release epoch at which each class last found no place.
    unplaceable_epoch: Vec<u64>,
    pass: u64,
    metrics: Metrics,
    /// Per card: the (busy, allocated) it contributes now, micro-cards.
    card_use: HashMap<CardRef, (u64, u64)>,
    node_model: Vec<Option<usize>>,
    perf_in: Vec<PerfTenant>,
    perf_out: Vec<TenantRate>,
    frag: FragTracker,
    events: u64,
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
    let mut queue = EventQueue::with_capacity(pods.len());
    let mut horizon = 0u64;
    let mut last_arrival = 0u64;
    for (id, p) in pods.iter().enumerate() {
        let drawn = config.demand.sample(&mut demand_rng);
        let demand = f64::from(p.demand_milli.unwrap_or(drawn).clamp(1, GPU_MILLI)) / 1000.0;
        let state = if p.work_ms.is_some() {
            queue.push(p.arrival_ms, Event::Arrive(id));
            horizon = horizon.max(p.arrival_ms + p.work_ms.unwrap_or(0));
            last_arrival = last_arrival.max(p.arrival_ms);
            State::NotArrived
        } else {
            State::Skipped
        };
        jobs.push(Job {
            state,
            demand,
            remaining: p.work_ms.unwrap_or(0) as f64,
            rate: 0.0,
            since: 0,
            generation: 0,
            node: 0,
            gpus: Vec::new(),
            host: None,
            first_start: None,
            finish: None,
            enqueued_at: 0,
            waited_ms: 0,
            preemptions: 0,
            attained_gpu_ms: 0,
            started_at: 0,
        });
    }

    let (fit_class, classes) = fit_classes(pods);
    // A class that fits no node of the empty cluster, whole or split for remote placement,
    // never will: its jobs wait to the end (reported pending) without being offered again.
    let mut never_fits = vec![false; classes];
    let mut checked = vec![false; classes];
    for (id, p) in pods.iter().enumerate() {
        let c = fit_class[id] as usize;
        if checked[c] || jobs[id].state == State::Skipped {
            continue;
        }
        checked[c] = true;
        let fits_whole = cluster.nodes().iter().any(|n| n.fits(p));
        let fits_split = p.is_gpu_pod() && {
            let (host, device) = Cluster::split_remote(p);
            let hosts: Vec<usize> = (0..cluster.nodes().len())
                .filter(|&n| cluster.node(n).fits(&host))
                .collect();
            (0..cluster.nodes().len())
                .any(|n| cluster.node(n).fits(&device) && hosts.iter().any(|&h| h != n))
        };
        never_fits[c] = !fits_whole && !fits_split;
    }
    let models: Vec<String> = fleet.devices.keys().cloned().collect();
    let node_model: Vec<Option<usize>> = cluster
        .nodes()
        .iter()
        .map(|n| {
            n.device()
                .and_then(|_| models.iter().position(|m| *m == n.model))
        })
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
    let metrics = Metrics::new(
        first_arrival,
        window_end,
        interval,
        cluster.gpu_capacity_milli() / u64::from(GPU_MILLI),
        models,
        cards_per_model,
    );
    let frag = FragTracker::new(typical, cluster.nodes().len());
    let mut engine = Engine {
        pods,
        config,
        cluster,
        jobs,
        queue,
        waiting: Vec::new(),
        running: Vec::new(),
        running_slot: vec![usize::MAX; pods.len()],
        now: first_arrival,
        fit_class,
        failed_in_pass: vec![0; classes],
        never_fits,
        release_epoch: 0,
        unplaceable_epoch: vec![u64::MAX; classes],
        pass: 0,
        metrics,
        card_use: HashMap::new(),
        node_model,
        perf_in: Vec::new(),
        perf_out: Vec::new(),
        frag,
        events: 0,
    };
    engine.run(policy, &mut rng)?;
    let mut outcome = engine.finish();
    outcome.slicing = fleet.modes();
    Ok(outcome)
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
                        self.enqueue(id);
                        changed = true;
                    }
                    Event::Finish(id, generation) => {
                        let j = &self.jobs[id];
                        if j.state == State::Running && j.generation == generation {
                            self.complete(id);
                            changed = true;
                        }
                    }
                }
            }
            if changed {
                self.schedule(policy, rng)?;
            }
        }
        Ok(())
    }

    fn finish(mut self) -> ReplayOutcome {
        let end = self.now;
        let frag = self.frag_ratio_pct();
        self.metrics.sample(
            end,
            TimePoint {
                frag_ratio_pct: frag,
                running: self.running.len() as u64,
                waiting: self.waiting.len() as u64,
            },
        );
        let records: Vec<JobRecord> = self
            .jobs
            .iter()
            .enumerate()
            .map(|(id, j)| {
                let p = &self.pods[id];
                JobRecord {
                    pod: id,
                    arrival_ms: p.arrival_ms,
                    work_ms: p.work_ms,
                    demand: j.demand,
                    first_start_ms: j.first_start,
                    finish_ms: j.finish,
                    waited_ms: j.waited_ms
                        + if j.state == State::Waiting {
                            end - j.enqueued_at
                        } else {
                            0
                        },
                    preemptions: j.preemptions,
                    node: (j.state == State::Running || j.finish.is_some())
                        .then(|| self.cluster.node(j.node).name.clone()),
                    state: match j.state {
                        State::Skipped => "skipped",
                        State::NotArrived | State::Waiting => "pending",
                        State::Running => "running",
                        State::Done => "finished",
                    },
                    latency_sensitive: p.latency_sensitive,
                }
            })
            .collect();
        self.metrics
            .into_outcome(end, records, self.events, self.config.slo_slowdown)
    }
}
