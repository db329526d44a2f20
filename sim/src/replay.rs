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

use crate::cluster::{Cluster, NodeId, Placement};
use crate::demand::DemandDistribution;
use crate::error::{EngineError, PlacementError};
use crate::event_queue::EventQueue;
use crate::fleet::{Fleet, GPU_MILLI};
use crate::fragmentation::{FragTracker, TypicalPods};
use crate::job::{Pod, PodId, Workload};
use crate::perf::{self, PerfParams, PerfTenant, TenantRate};
use crate::policy::{JobsView, Policy, QueuedJob, RemotePlacement, RunningJob, Setup, SimRng};
use crate::replay_metrics::{JobRecord, Metrics, ReplayOutcome, TimePoint};
use rand::SeedableRng;
use std::collections::{BTreeMap, HashMap};

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

/// Runs the replay protocol for one policy and seed.
pub fn run(
    fleet: &Fleet,
    workload: &Workload,
    policy: &mut dyn Policy,
    config: &ReplayConfig,
) -> Result<ReplayOutcome, EngineError> {
    let pods = &workload.pods;
    let mut cluster = Cluster::new(fleet);
    if cluster.gpu_capacity_milli() == 0 {
        return Err(EngineError::NoGpuCapacity);
    }
    let mut rng = SimRng::seed_from_u64(config.seed);
    // The node tie-break order is seeded as in the inflation protocol (fgd-protocol §2.6).
    cluster.set_priority(&crate::inflation::node_ranks(fleet, &mut rng));
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
    Ok(engine.finish())
}

/// Groups jobs that fit exactly the same places (same request in every dimension feasibility
/// looks at), so a scheduling pass tries each group at most once after a failure.
fn fit_classes(pods: &[Pod]) -> (Vec<u32>, usize) {
    type Key<'a> = (
        u64,
        u64,
        u32,
        u32,
        Option<u64>,
        &'a str,
        Option<&'a str>,
        u32,
        i32,
    );
    let mut ids: BTreeMap<Key<'_>, u32> = BTreeMap::new();
    let class = pods
        .iter()
        .map(|p| {
            let key = (
                p.cpu_milli,
                p.memory_mib,
                p.num_gpu,
                p.gpu_milli,
                p.gpu_memory_mib,
                p.gpu_spec.text.as_str(),
                p.app.as_deref().filter(|_| p.max_per_node.is_some()),
                p.rdma_pct,
                p.priority,
            );
            let next = ids.len() as u32;
            *ids.entry(key).or_insert(next)
        })
        .collect();
    (class, ids.len())
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

    /// Moves the clock to `t`, accounting utilization and timeseries samples on the way.
    fn advance(&mut self, t: u64) {
        if t <= self.now {
            return;
        }
        while let Some(at) = self.metrics.next_sample_before(t) {
            let frag = self.frag_ratio_pct();
            self.metrics.sample(
                at,
                TimePoint {
                    frag_ratio_pct: frag,
                    running: self.running.len() as u64,
                    waiting: self.waiting.len() as u64,
                },
            );
        }
        self.metrics.integrate(self.now, t);
        self.now = t;
    }

    fn frag_ratio_pct(&mut self) -> f64 {
        let frag = self.frag.total(&self.cluster);
        let idle = self.cluster.gpu_capacity_milli() - self.cluster.gpu_used_milli();
        if idle == 0 {
            0.0
        } else {
            100.0 * frag / idle as f64
        }
    }

    fn enqueue(&mut self, id: PodId) {
        let j = &mut self.jobs[id];
        j.state = State::Waiting;
        j.enqueued_at = self.now;
        self.waiting.push(QueuedJob {
            pod: id,
            since_ms: self.now,
            attained_gpu_ms: j.attained_gpu_ms,
        });
    }

    /// One scheduling pass over the queue in the policy's order.
    fn schedule(&mut self, policy: &mut dyn Policy, rng: &mut SimRng) -> Result<(), EngineError> {
        if self.waiting.is_empty() {
            return Ok(());
        }
        let mut queue = std::mem::take(&mut self.waiting);
        {
            let view = JobsView {
                now_ms: self.now,
                pods: self.pods,
                running: &self.running,
            };
            policy.order_queue(&view, &mut queue);
        }
        self.pass += 1;
        let mut still_waiting = Vec::with_capacity(queue.len());
        for q in queue {
            let id = q.pod;
            if self.jobs[id].state != State::Waiting {
                continue; // defensive: a job is queued once
            }
            let class = self.fit_class[id] as usize;
            if self.failed_in_pass[class] == self.pass || self.never_fits[class] {
                still_waiting.push(q);
                continue;
            }
            let pod = &self.pods[id];
            // Like Kubernetes' unschedulable queue: a class the policy found no place for is
            // not offered again until resources are released (a job finished or was
            // preempted); placements since then only filled the cluster.
            if self.unplaceable_epoch[class] != self.release_epoch {
                if let Some(p) = policy.place(&self.cluster, pod, rng) {
                    self.start(id, p, policy)?;
                    continue;
                }
                if let Some(rp) = policy.place_remote(&self.cluster, pod, rng) {
                    self.start_remote(id, rp, policy)?;
                    continue;
                }
                self.unplaceable_epoch[class] = self.release_epoch;
            }
            let victims = {
                let view = JobsView {
                    now_ms: self.now,
                    pods: self.pods,
                    running: &self.running,
                };
                policy.preempt(&self.cluster, pod, &view)
            };
            let mut preempted = false;
            for v in victims {
                if self.jobs.get(v).map(|j| j.state) == Some(State::Running) {
                    self.preempt(v);
                    preempted = true;
                }
            }
            if preempted {
                // Resources were freed: earlier failures may now fit.
                self.pass += 1;
                if let Some(p) = policy.place(&self.cluster, pod, rng) {
                    self.start(id, p, policy)?;
                    continue;
                }
            }
            self.failed_in_pass[class] = self.pass;
            still_waiting.push(q);
        }
        // Preempted jobs were queued while we iterated; they go behind the ones that waited.
        still_waiting.append(&mut self.waiting);
        self.waiting = still_waiting;
        Ok(())
    }

    fn start(&mut self, id: PodId, p: Placement, policy: &dyn Policy) -> Result<(), EngineError> {
        let (node, gpus) = (p.node, p.gpus.clone());
        self.cluster
            .place(id, &self.pods[id], p)
            .map_err(|source| self.refused(id, policy, source))?;
        self.bind(id, node, gpus, None);
        Ok(())
    }

    fn start_remote(
        &mut self,
        id: PodId,
        rp: RemotePlacement,
        policy: &dyn Policy,
    ) -> Result<(), EngineError> {
        let (node, gpus) = (rp.device.node, rp.device.gpus.clone());
        self.cluster
            .place_remote(id, &self.pods[id], rp.host, rp.device)
            .map_err(|source| self.refused(id, policy, source))?;
        self.bind(id, node, gpus, Some(rp.host));
        Ok(())
    }

    fn refused(&self, id: PodId, policy: &dyn Policy, source: PlacementError) -> EngineError {
        EngineError::Refused {
            policy: policy.name().to_owned(),
            pod: self.pods[id].name.clone(),
            source,
        }
    }

    /// Marks a job placed on `node` (cards `gpus`; CPU and memory on `host` if remote) as
    /// running now, and recomputes the rates on its cards.
    fn bind(&mut self, id: PodId, node: NodeId, gpus: Vec<u16>, host: Option<NodeId>) {
        let now = self.now;
        let j = &mut self.jobs[id];
        j.state = State::Running;
        j.waited_ms += now - j.enqueued_at;
        j.first_start.get_or_insert(now);
        j.node = node;
        j.gpus = gpus;
        j.host = host;
        j.since = now;
        j.started_at = now;
        j.rate = 0.0;
        self.running_slot[id] = self.running.len();
        self.running.push(RunningJob {
            pod: id,
            node,
            started_ms: now,
            attained_gpu_ms: j.attained_gpu_ms,
        });
        self.refresh(id);
    }

    /// Removes a running job from its cards, settling its progress and its co-tenants' rates.
    fn unbind(&mut self, id: PodId) {
        self.settle(id);
        self.release_epoch += 1;
        let node = self.jobs[id].node;
        self.cluster
            .remove(id, node)
            .expect("a running job is on its node");
        if let Some(host) = self.jobs[id].host.take() {
            self.cluster
                .remove(id, host)
                .expect("a remote job's host part is on its host");
        }
        let at = self.running_slot[id];
        self.running.swap_remove(at);
        if let Some(moved) = self.running.get(at) {
            self.running_slot[moved.pod] = at;
        }
        let j = &mut self.jobs[id];
        j.generation += 1;
        j.rate = 0.0;
        self.refresh_cards(id);
        self.jobs[id].gpus.clear();
    }

    fn complete(&mut self, id: PodId) {
        self.unbind(id);
        let j = &mut self.jobs[id];
        j.state = State::Done;
        j.remaining = 0.0;
        j.finish = Some(self.now);
    }

    fn preempt(&mut self, id: PodId) {
        self.unbind(id);
        let j = &mut self.jobs[id];
        j.preemptions += 1;
        j.remaining += self.config.restart_cost_ms as f64;
        self.metrics.preemptions += 1;
        self.enqueue(id);
    }

    /// Brings a running job's remaining work and attained service up to now.
    fn settle(&mut self, id: PodId) {
        let now = self.now;
        let j = &mut self.jobs[id];
        if j.state != State::Running {
            return;
        }
        let dt = now - j.since;
        self.metrics
            .add_goodput(j.since, now, j.rate, j.demand, j.gpus.len());
        j.remaining = (j.remaining - j.rate * dt as f64).max(0.0);
        j.attained_gpu_ms += dt * j.gpus.len().max(1) as u64;
        j.since = now;
    }

    /// Recomputes the rates of `id` and of every co-tenant on its cards.
    fn refresh(&mut self, id: PodId) {
        self.refresh_cards(id);
        if self.jobs[id].gpus.is_empty() {
            // CPU-only job: runs at solo speed.
            self.set_rate(id, 1.0);
        }
    }

    fn refresh_cards(&mut self, id: PodId) {
        let node = self.jobs[id].node;
        let cards: Vec<u16> = self.jobs[id].gpus.clone();
        let mut affected: Vec<PodId> = Vec::new();
        for &g in &cards {
            for t in self.cluster.node(node).cards()[g as usize].tenants() {
                let tid = t.tenant_id as PodId;
                if !affected.contains(&tid) {
                    affected.push(tid);
                }
            }
            self.update_card_use((node, g));
        }
        for tid in affected {
            let rate = self.job_rate(tid);
            self.set_rate(tid, rate);
        }
    }

    /// A job's progress rate: the slowest of its cards (a gang advances together).
    fn job_rate(&mut self, id: PodId) -> f64 {
        let node = self.jobs[id].node;
        let mut rate = f64::INFINITY;
        for k in 0..self.jobs[id].gpus.len() {
            let g = self.jobs[id].gpus[k];
            self.card_rates((node, g));
            let card = &self.cluster.node(node).cards()[g as usize];
            let at = card
                .tenants()
                .iter()
                .position(|t| t.tenant_id as PodId == id)
                .expect("tenant on its card");
            rate = rate.min(self.perf_out[at].rate);
        }
        if rate.is_finite() {
            rate
        } else {
            1.0
        }
    }

    /// Computes the rates of every tenant on a card into `perf_out` (tenant order) and
    /// returns the card's busy and allocated shares (slicing-model §7.2).
    fn card_rates(&mut self, (node, g): CardRef) -> perf::CardRates {
        let n = self.cluster.node(node);
        let device = n.device().expect("a card has a device");
        let card = &n.cards()[g as usize];
        self.perf_in.clear();
        for (i, t) in card.tenants().iter().enumerate() {
            let share = card.share(i).expect("index in range");
            let pod = &self.pods[t.tenant_id as PodId];
            let speed = device.model.speed(&pod.class).unwrap_or(1.0);
            let job = &self.jobs[t.tenant_id as PodId];
            let mut tenant = PerfTenant::from_share(&share, job.demand, speed);
            tenant.remote = job.host.is_some();
            self.perf_in.push(tenant);
        }
        let params = device.perf.as_ref().unwrap_or(&self.config.perf);
        perf::card_rates_into(&self.perf_in, params, &mut self.perf_out)
    }

    fn update_card_use(&mut self, card: CardRef) {
        let rates = self.card_rates(card);
        let allocated = u64::from(
            self.cluster.node(card.0).cards()[card.1 as usize]
                .allocated_compute_milli()
                .min(GPU_MILLI),
        ) * 1000;
        let busy = (rates.busy.clamp(0.0, 1.0) * 1e6).round() as u64;
        let old = if busy == 0 && allocated == 0 {
            self.card_use.remove(&card)
        } else {
            self.card_use.insert(card, (busy, allocated))
        }
        .unwrap_or((0, 0));
        let model = self.node_model[card.0];
        self.metrics.change_use(model, old, (busy, allocated));
    }

    fn set_rate(&mut self, id: PodId, rate: f64) {
        self.settle(id);
        let now = self.now;
        let j = &mut self.jobs[id];
        j.rate = rate;
        j.generation += 1;
        if rate > 0.0 {
            let left = (j.remaining / rate).ceil();
            let at = now
                + if left.is_finite() {
                    left as u64
                } else {
                    u64::MAX / 4
                };
            self.queue.push(at, Event::Finish(id, j.generation));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::NodeSpec;
    use crate::gpu_select;
    use crate::slicing::SlicingMode;

    /// First node (in fleet order) where the pod fits; tightest GPU.
    pub(super) struct FirstFit;
    impl Policy for FirstFit {
        fn name(&self) -> &str {
            "first-fit"
        }
        fn place(&mut self, cluster: &Cluster, pod: &Pod, _: &mut SimRng) -> Option<Placement> {
            let node = (0..cluster.nodes().len()).find(|&n| cluster.node(n).fits(pod))?;
            let gpus = gpu_select::best(cluster.node(node), pod)?;
            Some(Placement { node, gpus })
        }
    }

    fn fleet(nodes: u32, gpus: u32, mode: SlicingMode) -> Fleet {
        let mut f = Fleet::new(
            "t".into(),
            (0..nodes)
                .map(|i| NodeSpec::new(format!("n{i}"), 64_000, 1 << 20, gpus, "V100M32".into()))
                .collect(),
        );
        f.set_mode(mode).unwrap();
        f
    }

    fn job(name: &str, arrival_ms: u64, work_ms: u64, gpu_milli: u32, demand_milli: u32) -> Pod {
        let mut p = Pod::new(name, 1000, 1024, 1, gpu_milli);
        p.arrival_ms = arrival_ms;
        p.work_ms = Some(work_ms);
        p.demand_milli = Some(demand_milli);
        p
    }

    fn replay(f: &Fleet, pods: Vec<Pod>, policy: &mut dyn Policy) -> ReplayOutcome {
        let w = Workload {
            name: "w".into(),
            pods,
        };
        run(f, &w, policy, &ReplayConfig::default()).unwrap()
    }

    #[test]
    fn alone_on_a_whole_card_with_demand_one_takes_exactly_its_work() {
        let f = fleet(1, 1, SlicingMode::Whole);
        let o = replay(
            &f,
            vec![job("a", 5_000, 123_457, 1000, 1000)],
            &mut FirstFit,
        );
        let j = &o.jobs[0];
        assert_eq!(
            (j.first_start_ms, j.finish_ms),
            (Some(5_000), Some(128_457))
        );
        assert_eq!(j.slowdown(), Some(1.0));
        assert_eq!(o.figures.util_alloc_pct, 100.0);
        assert_eq!(o.figures.util_busy_pct, 100.0);
        assert_eq!(o.figures.util_goodput_pct, 100.0);
    }

    #[test]
    fn whole_cards_queue_and_the_wait_is_the_first_jobs_work() {
        let f = fleet(1, 1, SlicingMode::Whole);
        // Both ask 30 % of a card; whole mode gives each the full card, one at a time.
        let o = replay(
            &f,
            vec![job("a", 0, 10_000, 300, 300), job("b", 0, 10_000, 300, 300)],
            &mut FirstFit,
        );
        assert_eq!(o.jobs[1].first_start_ms, Some(10_000));
        assert_eq!(o.jobs[1].waited_ms, 10_000);
        assert_eq!(o.jobs[1].finish_ms, Some(20_000));
        // Allocated a whole card for 20 s, busy 30 % of it.
        assert_eq!(o.figures.util_alloc_pct, 100.0);
        assert!((o.figures.util_busy_pct - 30.0).abs() < 1e-9);
    }

    #[test]
    fn fractional_cards_share_and_hard_caps_slow_a_job_down() {
        // Flex:ai vGPU: a 300-milli slice with demand 600 is capped at 300: half speed.
        // Computed by hand: rate = min(1, 0.3/0.6) = 0.5, so 10 s of work takes 20 s; the
        // second job (demand 300) runs at full speed beside it (spatial interference aside).
        let f = fleet(1, 1, SlicingMode::FLEXAI_VGPU);
        let mut params = ReplayConfig::default();
        params.perf.interference_base = 0.0;
        params.perf.interference_bandwidth = 0.0;
        let w = Workload {
            name: "w".into(),
            pods: vec![job("a", 0, 10_000, 300, 600), job("b", 0, 10_000, 300, 300)],
        };
        let o = run(&f, &w, &mut FirstFit, &params).unwrap();
        assert_eq!(o.jobs[0].first_start_ms, Some(0));
        assert_eq!(o.jobs[1].first_start_ms, Some(0));
        assert_eq!(o.jobs[0].finish_ms, Some(20_000));
        assert_eq!(o.jobs[1].finish_ms, Some(10_000));
    }

    #[test]
    fn busy_never_exceeds_allocated_in_partitioned_modes() {
        for mode in [SlicingMode::Whole, SlicingMode::MIG] {
            let mut f = Fleet::new(
                "t".into(),
                vec![NodeSpec::new(
                    "n".into(),
                    64_000,
                    1 << 20,
                    2,
                    "A100-40".into(),
                )],
            );
            f.devices.get_mut("A100-40").unwrap().model =
                crate::catalog::Catalog::preset("A100-40").unwrap();
            f.set_mode(mode).unwrap();
            let pods: Vec<Pod> = (0..40)
                .map(|i| {
                    job(
                        &format!("j{i}"),
                        i * 700,
                        5_000 + i * 300,
                        100 + (i as u32 * 97) % 800,
                        200 + (i as u32 * 131) % 800,
                    )
                })
                .collect();
            let o = replay(&f, pods, &mut FirstFit);
            assert_eq!(o.figures.jobs_finished, 40, "{mode:?}");
            for r in &o.timeseries {
                assert!(r.util_busy_pct <= r.util_alloc_pct + 1e-9, "{mode:?} {r:?}");
                assert!(r.util_alloc_pct <= 100.0 + 1e-9);
            }
            assert!(o.figures.util_busy_pct <= o.figures.util_alloc_pct);
        }
    }

    /// Places like FirstFit; when a job of priority ≥ 3 finds nothing, preempts the most
    /// recently started lower-priority job.
    struct Preempting(FirstFit);
    impl Policy for Preempting {
        fn name(&self) -> &str {
            "preempting"
        }
        fn place(&mut self, c: &Cluster, p: &Pod, r: &mut SimRng) -> Option<Placement> {
            self.0.place(c, p, r)
        }
        fn preempt(&mut self, _: &Cluster, pod: &Pod, jobs: &JobsView<'_>) -> Vec<PodId> {
            if pod.priority < 3 {
                return vec![];
            }
            jobs.running
                .iter()
                .filter(|r| jobs.pods[r.pod].priority < pod.priority)
                .max_by_key(|r| r.started_ms)
                .map(|r| vec![r.pod])
                .unwrap_or_default()
        }
    }

    #[test]
    fn preemption_requeues_with_restart_cost_and_loses_nothing() {
        let f = fleet(1, 1, SlicingMode::Whole);
        let low = job("low", 0, 10_000, 1000, 1000);
        let mut high = job("high", 4_000, 5_000, 1000, 1000);
        high.priority = 3;
        let w = Workload {
            name: "w".into(),
            pods: vec![low, high],
        };
        let config = ReplayConfig {
            restart_cost_ms: 2_000,
            ..Default::default()
        };
        let o = run(&f, &w, &mut Preempting(FirstFit), &config).unwrap();
        assert_eq!(o.figures.preemptions, 1);
        assert_eq!(o.jobs[1].first_start_ms, Some(4_000));
        assert_eq!(o.jobs[1].finish_ms, Some(9_000));
        // low ran 4 s, kept 6 s of work + 2 s restart cost, restarts at 9 s → done at 17 s.
        assert_eq!(o.jobs[0].preemptions, 1);
        assert_eq!(o.jobs[0].finish_ms, Some(17_000));
        assert_eq!(o.jobs[0].waited_ms, 5_000);
        assert_eq!(o.figures.jobs_finished, 2);
    }

    #[test]
    fn every_job_is_finished_pending_or_skipped_and_runs_repeat_exactly() {
        let f = fleet(2, 2, SlicingMode::FLEXAI_VGPU);
        let mut pods: Vec<Pod> = (0..200)
            .map(|i| {
                job(
                    &format!("j{i}"),
                    i * 250,
                    20_000 + (i * 7919) % 50_000,
                    50 + (i as u32 * 53) % 950,
                    1000,
                )
            })
            .collect();
        pods.push(Pod::new("no-times", 1000, 1, 1, 500));
        let mut big = job("too-big", 0, 1000, 1000, 1000);
        big.num_gpu = 4;
        pods.push(big);
        let a = replay(&f, pods.clone(), &mut FirstFit);
        let fig = &a.figures;
        assert_eq!(fig.jobs_total, 202);
        assert_eq!(fig.jobs_skipped, 1);
        assert_eq!(fig.jobs_pending, 1, "the 4-GPU job never fits 2-GPU nodes");
        assert_eq!(
            fig.jobs_finished + fig.jobs_pending + fig.jobs_running + fig.jobs_skipped,
            202
        );
        let b = replay(&f, pods, &mut FirstFit);
        assert_eq!(a.jobs, b.jobs);
        assert_eq!(a.figures, b.figures);
        assert_eq!(a.timeseries, b.timeseries);
    }
}

#[cfg(test)]
mod profile_tests {
    use super::tests::FirstFit;
    use super::*;
    use std::path::Path;

    /// A hand-written calibration profile: ι measured at 0.5, and 32,510 MiB of memory.
    const PROFILE: &str = r#"
format_version = 1

[inventory]
backend = "nvml"
device_index = 0
model = "Tesla V100-SXM2-32GB"
memory_mib = 32510
sm_count = 80

[measured]
demand = 0.5
interference = 0.5

[provenance]
backend = "nvml"
command = "written by hand for this test"
wall_seconds = 0.0
date = "2026-11-25T00:00:00Z"
flexsim_version = "0.1.0"
"#;

    const FLEET: &str = r#"
[models.V100M32]
slicing = "flexai"
PROFILE_LINE

[[groups]]
name = "g"
count = 1
cpu_milli = 64000
memory_mib = 262144
model = "V100M32"
devices = 1
"#;

    fn two_halves(fleet: &Fleet) -> ReplayOutcome {
        let job = |name: &str| {
            let mut p = Pod::new(name, 1000, 1024, 1, 500);
            p.work_ms = Some(9_000);
            p.demand_milli = Some(500);
            p
        };
        let w = Workload {
            name: "w".into(),
            pods: vec![job("a"), job("b")],
        };
        run(fleet, &w, &mut FirstFit, &ReplayConfig::default()).unwrap()
    }

    #[test]
    fn a_fleet_using_a_profile_runs_at_the_measured_interference() {
        let dir = std::env::temp_dir().join(format!("flexsim-profile-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("profiles")).unwrap();
        std::fs::write(dir.join("profiles/v100.toml"), PROFILE).unwrap();
        let with = FLEET.replace("PROFILE_LINE", "profile = \"profiles/v100.toml\"");
        let fleet = Fleet::parse_toml(&dir.join("fleet.toml"), &with).unwrap();
        let d = &fleet.devices["V100M32"];
        assert_eq!(d.model.memory_mib, 32_510);
        assert_eq!(
            d.from_profile,
            ["memory_mib", "compute_units", "interference"]
        );
        // Two 50 % vGPUs, demand 0.5 each, ι = 0.5 (ι₁ = 0): by hand,
        // rate = 1.0 · min(1, 0.5/0.5) · (1 − 0.5 · 0.5) = 0.75, so 9 s of work takes 12 s.
        let o = two_halves(&fleet);
        assert_eq!(o.jobs[0].finish_ms, Some(12_000));
        assert_eq!(o.jobs[1].finish_ms, Some(12_000));
        // Without the profile, the defaults (ι₀ = 0.1, κ = 0): 1 − 0.1 · 0.5 = 0.95 → 9474 ms.
        let without =
            Fleet::parse_toml(&dir.join("fleet.toml"), &FLEET.replace("PROFILE_LINE", "")).unwrap();
        assert_eq!(two_halves(&without).jobs[0].finish_ms, Some(9_474));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_profile_names_the_model_and_file() {
        let with = FLEET.replace("PROFILE_LINE", "profile = \"nope.toml\"");
        let e = Fleet::parse_toml(Path::new("/tmp/f.toml"), &with)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("models.V100M32.profile") && e.contains("nope.toml"),
            "{e}"
        );
    }
}

#[cfg(test)]
mod remote_tests {
    use super::*;
    use crate::fleet::NodeSpec;
    use crate::gpu_select;
    use crate::slicing::SlicingMode;

    /// First fit locally; else host on the first node the host part fits, devices on the first
    /// other node the device part fits.
    struct RemoteFirstFit;
    impl Policy for RemoteFirstFit {
        fn name(&self) -> &str {
            "remote-first-fit"
        }
        fn place(&mut self, c: &Cluster, pod: &Pod, _: &mut SimRng) -> Option<Placement> {
            let node = (0..c.nodes().len()).find(|&n| c.node(n).fits(pod))?;
            Some(Placement {
                node,
                gpus: gpu_select::best(c.node(node), pod)?,
            })
        }
        fn place_remote(
            &mut self,
            c: &Cluster,
            pod: &Pod,
            _: &mut SimRng,
        ) -> Option<RemotePlacement> {
            let (h, d) = Cluster::split_remote(pod);
            let host = (0..c.nodes().len()).find(|&n| c.node(n).fits(&h))?;
            let node = (0..c.nodes().len()).find(|&n| n != host && c.node(n).fits(&d))?;
            Some(RemotePlacement {
                host,
                device: Placement {
                    node,
                    gpus: gpu_select::best(c.node(node), &d)?,
                },
            })
        }
    }

    #[test]
    fn a_job_too_big_for_the_gpu_node_runs_remotely_at_rho() {
        let mut f = Fleet::new(
            "t".into(),
            vec![
                NodeSpec::new("front".into(), 96_000, 1 << 20, 0, String::new()),
                NodeSpec::new("gpu".into(), 8_000, 1 << 16, 1, "V100M32".into()),
            ],
        );
        f.set_mode(SlicingMode::Whole).unwrap();
        // 32 cores: more than the GPU node has, so it must run its front end on "front".
        let mut p = Pod::new("big-front-end", 32_000, 4096, 1, 1000);
        p.work_ms = Some(9_000);
        p.demand_milli = Some(1000);
        let w = Workload {
            name: "w".into(),
            pods: vec![p],
        };
        let o = run(&f, &w, &mut RemoteFirstFit, &ReplayConfig::default()).unwrap();
        // Remote penalty ρ = 0.9 by default: 9 s of work takes 10 s.
        assert_eq!(o.jobs[0].finish_ms, Some(10_000));
        assert_eq!(o.jobs[0].node.as_deref(), Some("gpu"));
        assert_eq!(o.figures.jobs_finished, 1);
    }
}
