//! The replay engine against adversarial policies, as property tests (issue 12 item 9: proven
//! as classes, not cases).
//!
//! Each case is a random fleet (1–8 nodes, random CPU and memory, device models from the
//! catalog, each in a random slicing mode it supports: whole, the fractional presets and
//! random fractional parameters, MIG with every placement rule and static geometry, vNPU,
//! time slicing with preset and random parameters; CPU-only nodes too), a random workload
//! (requests, arrivals, work, demand, priorities, multi-GPU, GPU-model constraints, per-app
//! density limits, RDMA) and an [`Adversary`] policy that mixes legal placements with illegal
//! ones (nodes and GPUs that do not exist, wrong GPU counts, duplicate GPUs, cards or nodes
//! already full), remote placements (legal and not), preemptions of random ids (running or
//! not, existing or not, repeated) and queue reordering or tampering.
//!
//! What must hold, every case:
//!
//! * at every policy call (the policy sees `&Cluster`: the probe), the books are exact and
//!   nothing is over-allocated: node CPU, memory, RDMA and per-app density within capacity,
//!   every card within its mode's limits (compute, memory, tenant count, MIG slots and
//!   geometry, vNPU cores and AI CPUs), every resident where the running list says;
//! * feasibility and the placement check agree: `fits`, `fitting_cards`, `feasible_nodes`
//!   and `check` never contradict each other;
//! * an illegal action ends the run with `EngineError::Refused` carrying exactly the
//!   placement error `Cluster::check` predicted, and a legal one is never refused;
//! * a run that completes accounts for every job (finished + running + pending + skipped =
//!   total), counts exactly the preemptions of running jobs the policy asked for, and keeps
//!   0 ≤ busy ≤ 100 % and 0 ≤ allocated ≤ 100 % at every timeseries sample (busy ≤ allocated
//!   where every mode caps a tenant at its allocation);
//! * the same inputs give the same outcome.
//!
//! The runner's configuration and seed are fixed in [`runner`], so CI sees the same cases
//! every run whatever `PROPTEST_*` says. Operations (placement attempts, preemption requests,
//! queue orderings and engine events) are counted and printed.

use flexsim_sim::engine::replay::{self, ReplayConfig};
use flexsim_sim::error::{EngineError, PlacementError};
use flexsim_sim::metrics::replay_metrics::ReplayOutcome;
use flexsim_sim::model::catalog::{Catalog, DeviceModel, ModeKind};
use flexsim_sim::model::cluster::{Cluster, NodeId, Placement, Resident};
use flexsim_sim::model::fleet::{Fleet, NodeSpec};
use flexsim_sim::model::gang::{needs_gang, part_request};
use flexsim_sim::model::job::{GpuSpec, Pod, PodId, Workload};
use flexsim_sim::model::slicing::{
    CapPolicy, CardState, FractionalParams, MemoryEnforcement, MigGeometry, MigParams,
    MigPlacement, SliceKind, SlicingMode, Slot, TimeshareParams,
};
use flexsim_sim::model::units::GPU_MILLI;
use flexsim_sim::policy::{gpu_select, JobsView, Policy, QueuedJob, RemotePlacement, SimRng};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use rand::{RngExt, SeedableRng};
use std::cell::Cell;
use std::collections::BTreeSet;

// ---------------------------------------------------------------------------------------------
// Generated inputs
// ---------------------------------------------------------------------------------------------

/// One device model of the fleet and the knobs that pick its slicing mode.
#[derive(Debug, Clone)]
struct ModelGen {
    /// Index into [`Catalog::names`].
    preset: usize,
    /// Which of the mode variants the model supports (modulo their number).
    variant: u8,
    unit_milli: u32,
    max_tenants: u32,
    memory: u8,
    cap: u8,
    share_in_idle: bool,
}

#[derive(Debug, Clone)]
struct NodeGen {
    /// Index into the fleet's models (modulo their number), or `None`: a CPU-only node.
    model: Option<u8>,
    gpus: u32,
    cpu_milli: u64,
    memory_mib: u64,
    rdma_pct: Option<u32>,
}

#[derive(Debug, Clone)]
struct PodGen {
    cpu_milli: u64,
    memory_mib: u64,
    num_gpu: u32,
    gpu_milli: u32,
    gpu_memory_mib: Option<u64>,
    /// Bit i: accepts the fleet's model i; bit 7: also names a model no node has.
    spec: u8,
    arrival_gap_ms: u64,
    work_ms: Option<u64>,
    demand_milli: Option<u32>,
    priority: i32,
    app: Option<u8>,
    rdma_pct: u32,
    class: u8,
    latency_sensitive: bool,
}

/// How the adversary behaves; its choices come from its own generator seeded with `seed`.
#[derive(Debug, Clone)]
struct Knobs {
    seed: u64,
    /// Per mille of placement calls answered with an illegal placement (the run then ends).
    illegal_per_mille: u32,
    /// Percent of calls answered "no place" although a place exists.
    none_pct: u32,
    /// Percent of remote-placement calls answered with a remote placement.
    remote_pct: u32,
    /// Percent of preemption calls answered with victims.
    preempt_pct: u32,
    /// 0: the queue is only reordered; 1: entries are also copied over others; 2: entries are
    /// also overwritten with ids that are no job of the run.
    tamper: u8,
}

#[derive(Debug, Clone)]
struct Scenario {
    models: Vec<ModelGen>,
    nodes: Vec<NodeGen>,
    pods: Vec<PodGen>,
    knobs: Knobs,
    seed: u64,
    restart_cost_ms: u64,
    timeseries_points: u64,
}

const UNITS: &[u32] = &[0, 1, 5, 10, 25, 50, 100, 125, 250, 333, 500, 1000];
const CLASSES: &[&str] = &["default", "training", "inference", "unheard-of"];
/// Per-app density limits: app i allows `APP_MAX[i]` jobs a node (`None`: unlimited).
const APP_MAX: &[Option<u32>] = &[Some(1), Some(2), None];

fn model_gen() -> impl Strategy<Value = ModelGen> {
    (
        // Few presets have vNPU or MIG: give them a fair share.
        prop_oneof![
            4 => 0..Catalog::names().len(),
            1 => prop::sample::select(presets_with(ModeKind::Vnpu)),
            1 => prop::sample::select(presets_with(ModeKind::Mig)),
        ],
        any::<u8>(),
        prop::sample::select(UNITS),
        0..=25u32,
        0..3u8,
        0..3u8,
        any::<bool>(),
    )
        .prop_map(
            |(preset, variant, unit_milli, max_tenants, memory, cap, share_in_idle)| ModelGen {
                preset,
                variant,
                unit_milli,
                max_tenants,
                memory,
                cap,
                share_in_idle,
            },
        )
}

fn node_gen() -> impl Strategy<Value = NodeGen> {
    (
        prop_oneof![1 => Just(None), 6 => any::<u8>().prop_map(Some)],
        prop_oneof![1 => Just(0u32), 8 => 1..=8u32],
        prop_oneof![1 => 0..=4_000u64, 4 => 4_000..=128_000u64],
        prop_oneof![1 => 0..=8_192u64, 4 => 8_192..=1_048_576u64],
        prop_oneof![3 => Just(None), 1 => (0..=200u32).prop_map(Some)],
    )
        .prop_map(|(model, gpus, cpu_milli, memory_mib, rdma_pct)| NodeGen {
            model,
            gpus,
            cpu_milli,
            memory_mib,
            rdma_pct,
        })
}

fn pod_gen() -> impl Strategy<Value = PodGen> {
    (
        (
            prop_oneof![4 => 0..=8_000u64, 1 => 8_000..=200_000u64],
            prop_oneof![4 => 0..=32_768u64, 1 => 32_768..=2_000_000u64],
            prop_oneof![2 => Just(0u32), 6 => Just(1u32), 2 => 2..=4u32, 1 => 5..=10u32],
            prop_oneof![3 => 1..=999u32, 1 => Just(1000u32), 1 => Just(0u32)],
            prop_oneof![2 => Just(None), 1 => (0..=160_000u64).prop_map(Some)],
            prop_oneof![3 => Just(0u8), 1 => any::<u8>()],
            prop_oneof![2 => Just(0u64), 3 => 0..=20_000u64],
        ),
        (
            prop_oneof![1 => Just(None), 12 => (0..=300_000u64).prop_map(Some)],
            prop_oneof![1 => Just(None), 3 => (0..=1_500u32).prop_map(Some)],
            -2..=5i32,
            prop_oneof![3 => Just(None), 1 => (0..APP_MAX.len() as u8).prop_map(Some)],
            prop_oneof![3 => Just(0u32), 1 => 0..=120u32],
            0..CLASSES.len() as u8,
            any::<bool>(),
        ),
    )
        .prop_map(
            |(
                (cpu_milli, memory_mib, num_gpu, gpu_milli, gpu_memory_mib, spec, arrival_gap_ms),
                (work_ms, demand_milli, priority, app, rdma_pct, class, latency_sensitive),
            )| PodGen {
                cpu_milli,
                memory_mib,
                num_gpu,
                gpu_milli,
                gpu_memory_mib,
                spec,
                arrival_gap_ms,
                work_ms,
                demand_milli,
                priority,
                app,
                rdma_pct,
                class,
                latency_sensitive,
            },
        )
}

fn knobs() -> impl Strategy<Value = Knobs> {
    (
        any::<u64>(),
        prop_oneof![2 => Just(0u32), 1 => 1..=4u32],
        0..=20u32,
        0..=60u32,
        0..=40u32,
        0..=2u8,
    )
        .prop_map(
            |(seed, illegal_per_mille, none_pct, remote_pct, preempt_pct, tamper)| Knobs {
                seed,
                illegal_per_mille,
                none_pct,
                remote_pct,
                preempt_pct,
                tamper,
            },
        )
}

fn scenario(max_pods: usize) -> impl Strategy<Value = Scenario> {
    (
        prop::collection::vec(model_gen(), 1..=3),
        prop::collection::vec(node_gen(), 1..=8),
        prop::collection::vec(pod_gen(), 1..=max_pods),
        knobs(),
        any::<u64>(),
        prop_oneof![Just(0u64), 0..=100_000u64],
        1..=300u64,
    )
        .prop_map(
            |(models, nodes, pods, knobs, seed, restart_cost_ms, timeseries_points)| Scenario {
                models,
                nodes,
                pods,
                knobs,
                seed,
                restart_cost_ms,
                timeseries_points,
            },
        )
}

fn presets_with(kind: ModeKind) -> Vec<usize> {
    (0..Catalog::names().len())
        .filter(|&i| Catalog::preset(Catalog::names()[i]).is_some_and(|m| m.supports(kind)))
        .collect()
}

/// A mode `model` supports: `g.variant` picks the kind (uniformly among the model's), then one
/// of that kind's variants.
fn mode_for(model: &DeviceModel, g: &ModelGen) -> SlicingMode {
    let kinds = &model.slicing_modes;
    let kind = kinds[usize::from(g.variant) % kinds.len()];
    let mut candidates = Vec::new();
    {
        match kind {
            ModeKind::Whole => candidates.push(SlicingMode::Whole),
            ModeKind::Fractional => candidates.extend([
                SlicingMode::SHARE,
                SlicingMode::FLEXAI_VGPU,
                SlicingMode::HAMI_VGPU,
                SlicingMode::Fractional(FractionalParams {
                    unit_milli: g.unit_milli,
                    max_tenants: g.max_tenants,
                    memory: [
                        MemoryEnforcement::Admission,
                        MemoryEnforcement::None,
                        MemoryEnforcement::Hard,
                    ][usize::from(g.memory)],
                    cap: [
                        CapPolicy::Hard,
                        CapPolicy::HamiPriority,
                        CapPolicy::WorkConserving,
                    ][usize::from(g.cap)],
                }),
            ]),
            ModeKind::Mig => candidates.extend(
                [
                    MigPlacement::FirstFree,
                    MigPlacement::LeastLoss,
                    MigPlacement::Static(MigGeometry::G3_2_1_1),
                    MigPlacement::Static(MigGeometry::G3_2_2),
                    MigPlacement::Static(MigGeometry::G4_3),
                    MigPlacement::Static(MigGeometry::G7),
                ]
                .map(|placement| SlicingMode::Mig(MigParams { placement })),
            ),
            ModeKind::Vnpu => candidates.push(SlicingMode::Vnpu),
            ModeKind::Timeshare => candidates.extend([
                SlicingMode::FLEXAI_TIMESHARE,
                SlicingMode::Timeshare(TimeshareParams {
                    max_tenants: g.max_tenants,
                    unit_milli: g.unit_milli,
                    share_in_idle: g.share_in_idle,
                }),
            ]),
        }
    }
    candidates[usize::from(g.variant) / kinds.len() % candidates.len()]
}

/// Whether a mode holds every tenant to at most its allocation, so that busy ≤ allocated.
fn caps_at_allocation(mode: &SlicingMode) -> bool {
    match mode {
        SlicingMode::Whole | SlicingMode::Mig(_) | SlicingMode::Vnpu => true,
        SlicingMode::Fractional(p) => p.cap == CapPolicy::Hard,
        SlicingMode::Timeshare(_) => false,
    }
}

/// The fleet and workload a scenario describes.
fn build(s: &Scenario) -> (Fleet, Workload) {
    let mut names: Vec<&str> = Vec::new();
    for m in &s.models {
        let name = Catalog::names()[m.preset];
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let nodes = s
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let (gpus, model) = match n.model {
                Some(m) if n.gpus > 0 => (n.gpus, names[usize::from(m) % names.len()].to_owned()),
                _ => (0, String::new()),
            };
            let mut spec = NodeSpec::new(format!("n{i}"), n.cpu_milli, n.memory_mib, gpus, model);
            spec.rdma_pct = n.rdma_pct;
            spec
        })
        .collect();
    let mut fleet = Fleet::new("adversarial".into(), nodes);
    for (name, d) in fleet.devices.iter_mut() {
        d.model = Catalog::preset(name).expect("a catalog preset");
        let g = s
            .models
            .iter()
            .find(|m| Catalog::names()[m.preset] == name.as_str())
            .expect("every fleet model was generated");
        d.mode = mode_for(&d.model, g);
        assert!(d.model.supports(d.mode.kind()));
    }
    let mut arrival = 0u64;
    let pods = s
        .pods
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let mut p = Pod::new(
                &format!("p{i}"),
                g.cpu_milli,
                g.memory_mib,
                g.num_gpu,
                g.gpu_milli,
            );
            arrival += g.arrival_gap_ms;
            p.arrival_ms = arrival;
            p.work_ms = g.work_ms;
            p.demand_milli = g.demand_milli;
            p.priority = g.priority;
            p.gpu_memory_mib = g.gpu_memory_mib;
            let mut spec: Vec<&str> = names
                .iter()
                .enumerate()
                .filter(|(b, _)| g.spec & (1 << b) != 0)
                .map(|(_, n)| *n)
                .collect();
            if g.spec & 0x80 != 0 {
                spec.push("NoSuchCard");
            }
            p.gpu_spec = GpuSpec::parse(&spec.join("|"));
            if let Some(a) = g.app {
                p.app = Some(format!("app{a}").into());
                p.max_per_node = APP_MAX[usize::from(a)];
            }
            p.rdma_pct = g.rdma_pct;
            p.class = CLASSES[usize::from(g.class)].into();
            p.latency_sensitive = g.latency_sensitive;
            p
        })
        .collect();
    (
        fleet,
        Workload {
            name: "adversarial".into(),
            pods,
        },
    )
}

// ---------------------------------------------------------------------------------------------
// The adversary and its probe
// ---------------------------------------------------------------------------------------------

/// What the adversary did, for the operation count.
#[derive(Debug, Clone, Copy, Default)]
struct Ops {
    place_calls: u64,
    remote_calls: u64,
    preempt_calls: u64,
    victims_named: u64,
    order_calls: u64,
    illegal: u64,
    probes: u64,
    events: u64,
    runs: u64,
    refused_runs: u64,
    /// Runs with a device model in each mode kind (whole, fractional, MIG, vNPU, timeshare).
    modes: [u64; 5],
}

impl Ops {
    fn add(&mut self, o: &Ops) {
        self.place_calls += o.place_calls;
        self.remote_calls += o.remote_calls;
        self.preempt_calls += o.preempt_calls;
        self.victims_named += o.victims_named;
        self.order_calls += o.order_calls;
        self.illegal += o.illegal;
        self.probes += o.probes;
        self.events += o.events;
        self.runs += o.runs;
        self.refused_runs += o.refused_runs;
        for (a, b) in self.modes.iter_mut().zip(o.modes) {
            *a += b;
        }
    }

    /// Placement attempts + preemption requests + queue orderings + engine events.
    fn total(&self) -> u64 {
        self.place_calls + self.remote_calls + self.victims_named + self.order_calls + self.events
    }
}

/// The last action the adversary proposed, and what `Cluster::check` said of it.
#[derive(Debug, Clone)]
struct Proposal {
    pod: String,
    predicted: Result<(), PlacementError>,
}

struct Adversary {
    rng: SimRng,
    knobs: Knobs,
    pods: Vec<Pod>,
    /// Per node: its RDMA capacity, from the fleet file.
    rdma: Vec<Option<u32>>,
    ops: Ops,
    last: Option<Proposal>,
    /// An illegal action was proposed (the engine must have ended the run on it).
    illegal_made: bool,
    /// Distinct running jobs named as victims: what the engine must have preempted.
    expected_preemptions: u64,
    buf: Vec<NodeId>,
    /// Probe scratch: per pod where its parts are, and the pods found this probe.
    holders: Vec<Holder>,
    touched: Vec<PodId>,
    /// Per pod: its index in [`APP_MAX`].
    app_of: Vec<Option<usize>>,
}

impl Adversary {
    fn new(knobs: &Knobs, fleet: &Fleet, workload: &Workload) -> Adversary {
        Adversary {
            rng: SimRng::seed_from_u64(knobs.seed),
            knobs: knobs.clone(),
            pods: workload.pods.clone(),
            rdma: fleet.nodes.iter().map(|n| n.rdma_pct).collect(),
            ops: Ops::default(),
            last: None,
            illegal_made: false,
            expected_preemptions: 0,
            buf: Vec::new(),
            holders: vec![Holder::default(); workload.pods.len()],
            touched: Vec::new(),
            app_of: workload
                .pods
                .iter()
                .map(|p| p.app.as_ref().map(|a| a[3..].parse().expect("app<i>")))
                .collect(),
        }
    }

    fn percent(&mut self, pct: u32) -> bool {
        self.rng.random_range(0..100) < pct
    }

    fn per_mille(&mut self, n: u32) -> bool {
        self.rng.random_range(0..1000) < n
    }

    fn propose(&mut self, pod: &Pod, predicted: Result<(), PlacementError>) {
        if predicted.is_err() {
            self.illegal_made = true;
            self.ops.illegal += 1;
        }
        self.last = Some(Proposal {
            pod: pod.name.to_string(),
            predicted,
        });
    }

    /// `num_gpu` distinct cards among `cards`, chosen at random.
    fn pick(&mut self, cards: &[u16], num_gpu: usize) -> Vec<u16> {
        let mut c = cards.to_vec();
        for i in 0..num_gpu.min(c.len()) {
            let j = self.rng.random_range(i..c.len());
            c.swap(i, j);
        }
        c.truncate(num_gpu);
        c
    }

    /// A legal choice of cards on `node`, which `fits` the pod.
    fn legal_gpus(
        &mut self,
        cluster: &Cluster,
        node: NodeId,
        pod: &Pod,
        rng: &mut SimRng,
    ) -> Vec<u16> {
        let n = cluster.node(node);
        let gpus = match self.rng.random_range(0..4) {
            0 => gpu_select::best(n, pod),
            1 => gpu_select::lowest_index(n, pod),
            2 => gpu_select::random(n, pod, rng),
            _ => Some(self.pick(&n.fitting_cards(pod), pod.num_gpu as usize)),
        };
        gpus.unwrap_or_else(|| panic!("{}: fits node {node} but no cards chosen", pod.name))
    }

    /// An illegal placement of `pod`, and whether its kind of error is certain.
    fn illegal(&mut self, cluster: &Cluster, pod: &Pod) -> (Placement, Option<&'static str>) {
        let nodes = cluster.nodes().len();
        let feasible: Vec<NodeId> = (0..nodes).filter(|&n| cluster.node(n).fits(pod)).collect();
        let infeasible: Vec<NodeId> = (0..nodes).filter(|&n| !cluster.node(n).fits(pod)).collect();
        let need = pod.num_gpu as usize;
        match self.rng.random_range(0..6) {
            // Wrong GPU count on a node where everything else fits.
            1 if !feasible.is_empty() => {
                let node = feasible[self.rng.random_range(0..feasible.len())];
                let count = cluster.node(node).gpu_count();
                let named = if need > 0 && self.rng.random_bool(0.5) {
                    need - 1
                } else {
                    need + 1
                };
                let gpus = (0..named).map(|g| (g % count.max(1)) as u16).collect();
                (Placement { node, gpus }, Some("GpuCount"))
            }
            // A GPU index the node does not have.
            2 if need > 0 && !feasible.is_empty() => {
                let node = feasible[self.rng.random_range(0..feasible.len())];
                let n = cluster.node(node);
                let mut gpus = self.pick(&n.fitting_cards(pod), need - 1);
                gpus.push((n.gpu_count() + self.rng.random_range(0..3)) as u16);
                (Placement { node, gpus }, Some("NoSuchGpu"))
            }
            // The same card twice.
            3 if need >= 2 && !feasible.is_empty() => {
                let node = feasible[self.rng.random_range(0..feasible.len())];
                let mut gpus = self.pick(&cluster.node(node).fitting_cards(pod), need - 1);
                gpus.push(gpus[0]);
                (Placement { node, gpus }, Some("DuplicateGpu"))
            }
            // A card whose capacity is already taken, on a node where the rest fits.
            4 if need > 0 && !feasible.is_empty() => {
                let node = feasible[self.rng.random_range(0..feasible.len())];
                let n = cluster.node(node);
                let fitting = n.fitting_cards(pod);
                let full: Vec<u16> = (0..n.gpu_count() as u16)
                    .filter(|g| !fitting.contains(g))
                    .collect();
                if full.is_empty() {
                    return self.out_of_range(cluster, pod);
                }
                let mut gpus = self.pick(&fitting, need - 1);
                gpus.push(full[self.rng.random_range(0..full.len())]);
                (Placement { node, gpus }, Some("Card"))
            }
            // A node where the pod does not fit (CPU, memory, model, density, RDMA or cards).
            5 if !infeasible.is_empty() => {
                let node = infeasible[self.rng.random_range(0..infeasible.len())];
                let count = cluster.node(node).gpu_count() as u16;
                let cards: Vec<u16> = (0..count).collect();
                let mut gpus = self.pick(&cards, need);
                while gpus.len() < need {
                    gpus.push(count + gpus.len() as u16);
                }
                (Placement { node, gpus }, None)
            }
            _ => self.out_of_range(cluster, pod),
        }
    }

    fn out_of_range(&mut self, cluster: &Cluster, pod: &Pod) -> (Placement, Option<&'static str>) {
        let node = if self.rng.random_bool(0.1) {
            usize::MAX
        } else {
            cluster.nodes().len() + self.rng.random_range(0..3)
        };
        let gpus = (0..pod.num_gpu as u16).collect();
        (Placement { node, gpus }, Some("NoSuchNode"))
    }

    /// Feasibility and the placement check must agree on every node.
    fn check_feasibility_agrees(&mut self, cluster: &Cluster, pod: &Pod) {
        let mut fits_everywhere = Vec::new();
        for &id in cluster.by_priority() {
            let n = cluster.node(id);
            let fits = n.fits(pod);
            if fits {
                fits_everywhere.push(id);
            }
            let at = |gpus: Vec<u16>| cluster.check(pod, &Placement { node: id, gpus });
            if !pod.is_gpu_pod() {
                assert_eq!(
                    fits,
                    at(Vec::new()).is_ok(),
                    "{}: CPU pod on node {id}",
                    pod.name
                );
            } else if pod.num_gpu == 1 {
                let ok: Vec<u16> = (0..n.gpu_count() as u16)
                    .filter(|&g| at(vec![g]).is_ok())
                    .collect();
                assert_eq!(
                    fits,
                    !ok.is_empty(),
                    "{}: fits vs check on node {id}",
                    pod.name
                );
                if fits {
                    assert_eq!(ok, n.fitting_cards(pod), "{}: node {id}", pod.name);
                }
            } else {
                let cards = n.fitting_cards(pod);
                let need = pod.num_gpu as usize;
                if fits {
                    assert!(cards.len() >= need, "{}: fits without cards", pod.name);
                }
                if cards.len() >= need {
                    let lowest = cards[..need].to_vec();
                    assert_eq!(fits, at(lowest).is_ok(), "{}: node {id}", pod.name);
                }
            }
        }
        cluster.feasible_nodes(pod, &mut self.buf);
        assert_eq!(
            self.buf, fits_everywhere,
            "{}: feasible_nodes vs fits",
            pod.name
        );
    }

    /// The probe: the cluster's books are exact and nothing is over-allocated.
    fn probe(&mut self, cluster: &Cluster, view: Option<&JobsView<'_>>) {
        self.ops.probes += 1;
        let mut used = 0u64;
        // Per pod: the node holding its part with cards, and the one holding its part without.
        for &p in &self.touched {
            self.holders[p] = Holder::default();
        }
        self.touched.clear();
        for (id, n) in cluster.nodes().iter().enumerate() {
            let cpu: u64 = n.residents().iter().map(|r| r.cpu_milli).sum();
            let mem: u64 = n.residents().iter().map(|r| r.memory_mib).sum();
            assert_eq!(
                n.cpu_free_milli() + cpu,
                n.cpu_capacity_milli,
                "node {id} CPU"
            );
            assert_eq!(
                n.memory_free_mib() + mem,
                n.memory_capacity_mib,
                "node {id} memory"
            );
            if let Some(cap) = self.rdma[id] {
                let rdma: u32 = n.residents().iter().map(|r| r.rdma_pct).sum();
                assert!(rdma <= cap, "node {id}: RDMA {rdma} % > {cap} %");
            }
            let mut apps = [0u32; APP_MAX.len()];
            for r in n.residents() {
                let pod = &self.pods[r.pod];
                let h = &mut self.holders[r.pod];
                if h.with.is_none() && h.without.is_none() {
                    self.touched.push(r.pod);
                }
                if !r.gpus.is_empty() && needs_gang(cluster, pod) {
                    // A gang: one part with cards per node, each holding its share.
                    h.with.get_or_insert(id);
                    h.gang_parts += 1;
                    h.gang_gpus += r.gpus.len() as u32;
                    let part = part_request(pod, r.gpus.len() as u32);
                    assert_eq!(
                        (r.cpu_milli, r.memory_mib),
                        (part.cpu_milli, part.memory_mib),
                        "{}: gang part",
                        pod.name
                    );
                } else {
                    let slot = if r.gpus.is_empty() {
                        &mut h.without
                    } else {
                        &mut h.with
                    };
                    assert!(slot.is_none(), "{}: two parts of one kind", pod.name);
                    *slot = Some(id);
                    assert!(
                        r.cpu_milli == pod.cpu_milli || r.cpu_milli == 0,
                        "{}",
                        pod.name
                    );
                    assert!(r.gpus.len() == pod.num_gpu as usize || r.gpus.is_empty());
                }
                for (i, g) in r.gpus.iter().enumerate() {
                    assert!(usize::from(*g) < n.gpu_count(), "{}: card {g}", pod.name);
                    assert!(!r.gpus[..i].contains(g), "{}: card {g} twice", pod.name);
                }
                if !r.gpus.is_empty() {
                    let slice = n.slice_for(pod).expect("a GPU pod on a GPU node").unwrap();
                    assert_eq!(r.gpu_milli, slice.compute_milli, "{}: grant", pod.name);
                }
                if let Some(app) = &r.app {
                    assert_eq!(pod.app.as_ref(), Some(app));
                    apps[self.app_of[r.pod].expect("an app job")] += 1;
                }
            }
            for (i, &count) in apps.iter().enumerate() {
                if let Some(max) = APP_MAX[i] {
                    assert!(count <= max, "node {id}: {count} jobs of app{i}, max {max}");
                }
            }
            let Some(device) = n.device() else {
                assert_eq!(n.gpu_count(), 0, "node {id}: cards without a device");
                continue;
            };
            for (g, card) in n.cards().iter().enumerate() {
                let tenants = card.tenants();
                let on_card = |r: &&Resident| r.gpus.contains(&(g as u16));
                let holding = n.residents().iter().filter(on_card).count();
                assert_eq!(holding, tenants.len(), "node {id} card {g}: residents");
                for (i, t) in tenants.iter().enumerate() {
                    assert!(
                        tenants[..i].iter().all(|o| o.tenant_id != t.tenant_id),
                        "node {id} card {g}: tenant {} twice",
                        t.tenant_id
                    );
                    assert!(
                        n.residents()
                            .iter()
                            .filter(on_card)
                            .any(|r| r.pod as u64 == t.tenant_id),
                        "node {id} card {g}: tenant {} is no resident",
                        t.tenant_id
                    );
                }
                let compute: u32 = tenants.iter().map(|t| t.slice.compute_milli).sum();
                let memory: u64 = tenants.iter().map(|t| t.slice.memory_mib).sum();
                assert_eq!(
                    compute,
                    card.allocated_compute_milli(),
                    "node {id} card {g}"
                );
                assert_eq!(memory, card.allocated_memory_mib(), "node {id} card {g}");
                let granted = compute.min(GPU_MILLI);
                assert_eq!(
                    n.gpu_free_milli()[g],
                    GPU_MILLI - granted,
                    "node {id} card {g}"
                );
                used += u64::from(granted);
                assert_eq!(card.mode(), &device.mode, "node {id} card {g}");
                check_card_limits((id, g), &device.model, card);
            }
        }
        assert_eq!(used, cluster.gpu_used_milli(), "Σ cards vs gpu_used_milli");
        assert!(cluster.gpu_used_milli() <= cluster.gpu_capacity_milli());
        for &pod in &self.touched {
            let (h, p) = (self.holders[pod], &self.pods[pod]);
            let ok = match (h.with, h.without) {
                // A gang is held whole (every device, on at least two nodes) or not at all.
                _ if h.gang_parts > 0 => {
                    h.without.is_none() && h.gang_parts >= 2 && h.gang_gpus == p.num_gpu
                }
                (Some(d), Some(host)) => d != host && p.is_gpu_pod(),
                (Some(_), None) => p.is_gpu_pod(),
                (None, Some(_)) => !p.is_gpu_pod(),
                (None, None) => false,
            };
            assert!(ok, "{}: held as {h:?}", p.name);
        }
        if let Some(view) = view {
            assert_eq!(
                view.running.len(),
                self.touched.len(),
                "running list vs residents"
            );
            for r in view.running {
                let h = self.holders[r.pod];
                if h.gang_parts > 0 {
                    // A gang runs where its first part is: any of its nodes.
                    let on = cluster
                        .node(r.node)
                        .residents()
                        .iter()
                        .any(|x| x.pod == r.pod);
                    assert!(on, "{}: gang runs where?", self.pods[r.pod].name);
                    continue;
                }
                let node = h.with.or(h.without);
                assert_eq!(node, Some(r.node), "{}: runs where?", self.pods[r.pod].name);
            }
        }
    }
}

/// Where a pod's parts are resident.
#[derive(Debug, Clone, Copy, Default)]
struct Holder {
    with: Option<NodeId>,
    without: Option<NodeId>,
    /// A gang's parts with cards, and their devices in all.
    gang_parts: u32,
    gang_gpus: u32,
}

/// A card's tenants within its mode's limits.
fn check_card_limits((node, g): (NodeId, usize), model: &DeviceModel, card: &CardState) {
    let tenants = card.tenants();
    let mode = card.mode();
    let memory: u64 = tenants.iter().map(|t| t.slice.memory_mib).sum();
    let compute = card.allocated_compute_milli();
    match mode {
        SlicingMode::Whole => {
            assert!(
                tenants.len() <= 1,
                "node {node} card {g}: {} tenants",
                tenants.len()
            );
            assert!(tenants.iter().all(|t| t.slice.kind == SliceKind::Whole));
        }
        SlicingMode::Fractional(p) => {
            assert!(
                tenants.len() <= p.max_tenants as usize,
                "node {node} card {g}: tenants"
            );
            assert!(
                compute <= GPU_MILLI,
                "node {node} card {g}: {compute} milli allocated"
            );
            if p.memory != MemoryEnforcement::None {
                assert!(
                    memory <= model.memory_mib,
                    "node {node} card {g}: {memory} MiB allocated"
                );
            }
            assert!(tenants
                .iter()
                .all(|t| t.slice.kind == SliceKind::Fractional));
        }
        SlicingMode::Timeshare(p) => {
            assert!(
                tenants.len() <= p.max_tenants as usize,
                "node {node} card {g}: tenants"
            );
            assert!(
                memory <= model.memory_mib,
                "node {node} card {g}: {memory} MiB allocated"
            );
            assert!(tenants.iter().all(|t| t.slice.kind == SliceKind::Timeshare));
        }
        SlicingMode::Vnpu => {
            let table = model.vnpu.as_ref().expect("vNPU mode has a table");
            assert!(
                tenants.len() <= table.max_instances as usize,
                "node {node} card {g}: tenants"
            );
            let (mut cores, mut cpus) = (0, 0);
            for t in tenants {
                match t.slice.kind {
                    SliceKind::Vnpu { template_index } => {
                        let tpl = &table.templates[usize::from(template_index)];
                        cores += tpl.ai_cores;
                        cpus += tpl.ai_cpus;
                    }
                    // A whole-card job on a vNPU chip takes it unsplit, alone.
                    SliceKind::Whole => {
                        assert_eq!(tenants.len(), 1, "node {node} card {g}: whole chip shared");
                        cores += model.compute_units;
                        cpus += model.ai_cpus;
                    }
                    other => panic!("node {node} card {g}: a {other:?} slice"),
                }
            }
            assert_eq!(card.vnpu_used(), (cores, cpus), "node {node} card {g}");
            assert!(
                cores <= model.compute_units,
                "node {node} card {g}: {cores} AI cores"
            );
            assert!(
                cpus <= model.ai_cpus,
                "node {node} card {g}: {cpus} AI CPUs"
            );
            assert!(
                memory <= model.memory_mib,
                "node {node} card {g}: {memory} MiB allocated"
            );
        }
        SlicingMode::Mig(p) => {
            let table = model.mig.as_ref().expect("MIG mode has a table");
            let (mut mask, mut compute_slices, mut media) = (0u16, 0u32, 0);
            let mut per_profile = vec![0u8; table.profiles.len()];
            for t in tenants {
                let (SliceKind::Mig { profile_index }, Slot::Mig { start_slot }) =
                    (t.slice.kind, t.slot)
                else {
                    panic!(
                        "node {node} card {g}: a {:?} slice at {:?}",
                        t.slice.kind, t.slot
                    );
                };
                let prof = &table.profiles[usize::from(profile_index)];
                assert!(
                    prof.legal_starts.contains(&start_slot),
                    "node {node} card {g}: start {start_slot}"
                );
                let end = u16::from(start_slot) + u16::from(prof.memory_slices);
                assert!(
                    end <= u16::from(table.memory_slices),
                    "node {node} card {g}: past the last slice"
                );
                let m = ((1u16 << prof.memory_slices) - 1) << start_slot;
                assert_eq!(
                    mask & m,
                    0,
                    "node {node} card {g}: overlapping MIG instances"
                );
                mask |= m;
                compute_slices += u32::from(prof.compute_slices);
                media += u32::from(prof.media_extensions);
                per_profile[usize::from(profile_index)] += 1;
                if let MigPlacement::Static(geometry) = p.placement {
                    assert!(
                        geometry.instances().iter().any(|i| i.start == start_slot
                            && i.memory_slices == prof.memory_slices
                            && i.compute_slices == prof.compute_slices),
                        "node {node} card {g}: {} at {start_slot} is not an instance of the geometry",
                        prof.name
                    );
                }
            }
            assert_eq!(
                u16::from(card.mig_memory_mask()),
                mask,
                "node {node} card {g}: mask"
            );
            assert!(
                compute_slices <= u32::from(table.compute_slices),
                "node {node} card {g}: {compute_slices} compute slices"
            );
            assert!(media <= 1, "node {node} card {g}: {media} +me instances");
            for (prof, &count) in table.profiles.iter().zip(&per_profile) {
                assert!(
                    count <= prof.max_instances,
                    "node {node} card {g}: {count} × {}",
                    prof.name
                );
            }
            assert!(
                memory <= model.memory_mib,
                "node {node} card {g}: {memory} MiB allocated"
            );
        }
    }
}

impl Policy for Adversary {
    fn name(&self) -> &str {
        "adversary"
    }

    fn place(
        &mut self,
        cluster: &Cluster,
        _job: PodId,
        pod: &Pod,
        rng: &mut SimRng,
    ) -> Option<Placement> {
        self.ops.place_calls += 1;
        self.probe(cluster, None);
        self.check_feasibility_agrees(cluster, pod);
        let illegal_per_mille = self.knobs.illegal_per_mille;
        if !self.illegal_made && self.per_mille(illegal_per_mille) {
            let (p, kind) = self.illegal(cluster, pod);
            let predicted = cluster.check(pod, &p).map(|_| ());
            let got = format!("{predicted:?}");
            assert!(
                predicted.is_err(),
                "{}: illegal {p:?} passes the check",
                pod.name
            );
            if let Some(kind) = kind {
                assert!(
                    got.starts_with(&format!("Err({kind}")),
                    "{kind} expected: {got}"
                );
            }
            self.propose(pod, predicted);
            return Some(p);
        }
        cluster.feasible_nodes(pod, &mut self.buf);
        let none_pct = self.knobs.none_pct;
        if self.buf.is_empty() || self.percent(none_pct) {
            return None;
        }
        let node = self.buf[self.rng.random_range(0..self.buf.len())];
        let gpus = self.legal_gpus(cluster, node, pod, rng);
        let p = Placement { node, gpus };
        let predicted = cluster.check(pod, &p).map(|_| ());
        assert!(
            predicted.is_ok(),
            "{}: legal {p:?} refused: {predicted:?}",
            pod.name
        );
        self.propose(pod, predicted);
        Some(p)
    }

    fn place_remote(
        &mut self,
        cluster: &Cluster,
        _job: PodId,
        pod: &Pod,
        rng: &mut SimRng,
    ) -> Option<RemotePlacement> {
        self.ops.remote_calls += 1;
        let illegal_per_mille = self.knobs.illegal_per_mille;
        if !self.illegal_made && self.per_mille(illegal_per_mille) {
            // Host and device on one node, a host that does not exist, or a CPU-only pod.
            let nodes = cluster.nodes().len();
            let node = self.rng.random_range(0..nodes);
            let host = if self.rng.random_bool(0.5) {
                node
            } else {
                nodes + self.rng.random_range(0..3)
            };
            let gpus = (0..pod.num_gpu as u16).collect();
            let rp = RemotePlacement {
                host,
                device: Placement { node, gpus },
            };
            let predicted = cluster.check_remote(pod, rp.host, &rp.device);
            assert!(predicted.is_err(), "{}: illegal {rp:?} passes", pod.name);
            if host == node || !pod.is_gpu_pod() {
                assert_eq!(predicted, Err(PlacementError::NotRemote));
            }
            self.propose(pod, predicted);
            return Some(rp);
        }
        let remote_pct = self.knobs.remote_pct;
        if !pod.is_gpu_pod() || !self.percent(remote_pct) {
            return None;
        }
        let (host_part, device_part) = Cluster::split_remote(pod);
        let mut hosts = Vec::new();
        cluster.feasible_nodes(&host_part, &mut hosts);
        cluster.feasible_nodes(&device_part, &mut self.buf);
        let devices = std::mem::take(&mut self.buf);
        let pairs: Vec<(NodeId, NodeId)> = devices
            .iter()
            .flat_map(|&d| hosts.iter().filter(move |&&h| h != d).map(move |&h| (h, d)))
            .collect();
        self.buf = devices;
        if pairs.is_empty() {
            return None;
        }
        let (host, node) = pairs[self.rng.random_range(0..pairs.len())];
        let gpus = self.legal_gpus(cluster, node, &device_part, rng);
        let rp = RemotePlacement {
            host,
            device: Placement { node, gpus },
        };
        let predicted = cluster.check_remote(pod, rp.host, &rp.device);
        assert!(
            predicted.is_ok(),
            "{}: legal {rp:?} refused: {predicted:?}",
            pod.name
        );
        self.propose(pod, predicted);
        Some(rp)
    }

    fn order_queue(&mut self, jobs: &JobsView<'_>, queue: &mut [QueuedJob]) {
        self.ops.order_calls += 1;
        let running: BTreeSet<PodId> = jobs.running.iter().map(|r| r.pod).collect();
        let mut seen = BTreeSet::new();
        for q in queue.iter() {
            assert!(
                q.pod < jobs.pods.len(),
                "queued job {} does not exist",
                q.pod
            );
            assert!(q.since_ms <= jobs.now_ms);
            // A tampered queue may keep a stale copy of an entry whose job has started since
            // (the engine skips it); an honest one never does.
            if self.knobs.tamper == 0 {
                assert!(
                    !running.contains(&q.pod),
                    "job {} queued and running",
                    q.pod
                );
                assert!(seen.insert(q.pod), "job {} queued twice", q.pod);
            }
        }
        for i in (1..queue.len()).rev() {
            let j = self.rng.random_range(0..=i);
            queue.swap(i, j);
        }
        if self.knobs.tamper >= 1 && queue.len() >= 2 && self.percent(10) {
            // Overwrite one entry with another: one job twice, one job gone from the queue.
            let (i, j) = (
                self.rng.random_range(0..queue.len()),
                self.rng.random_range(0..queue.len()),
            );
            queue[i] = queue[j];
        }
        if self.knobs.tamper >= 2 && !queue.is_empty() && self.percent(5) {
            let i = self.rng.random_range(0..queue.len());
            queue[i].pod = if self.rng.random_bool(0.5) {
                usize::MAX
            } else {
                jobs.pods.len() + self.rng.random_range(0..3)
            };
        }
    }

    fn preempt(
        &mut self,
        cluster: &Cluster,
        _job: PodId,
        _pod: &Pod,
        jobs: &JobsView<'_>,
    ) -> Vec<PodId> {
        self.ops.preempt_calls += 1;
        self.probe(cluster, Some(jobs));
        let preempt_pct = self.knobs.preempt_pct;
        if !self.percent(preempt_pct) {
            return Vec::new();
        }
        let mut victims = Vec::new();
        for _ in 0..self.rng.random_range(0..=3) {
            if !jobs.running.is_empty() {
                victims.push(jobs.running[self.rng.random_range(0..jobs.running.len())].pod);
            }
        }
        for _ in 0..self.rng.random_range(0..=2) {
            victims.push(match self.rng.random_range(0..3) {
                0 => usize::MAX - self.rng.random_range(0..2),
                1 => jobs.pods.len() + self.rng.random_range(0..5),
                _ => self.rng.random_range(0..jobs.pods.len()),
            });
        }
        if let Some(&v) = victims.first() {
            if self.rng.random_bool(0.3) {
                victims.push(v);
            }
        }
        let running: BTreeSet<PodId> = jobs.running.iter().map(|r| r.pod).collect();
        let named: BTreeSet<PodId> = victims.iter().copied().collect();
        self.expected_preemptions += named.intersection(&running).count() as u64;
        self.ops.victims_named += victims.len() as u64;
        victims
    }
}

// ---------------------------------------------------------------------------------------------
// One case, and the runner
// ---------------------------------------------------------------------------------------------

const EPS: f64 = 1e-6;

fn check_outcome(fleet: &Fleet, w: &Workload, adv: &Adversary, o: &ReplayOutcome) {
    let f = &o.figures;
    let total = w.pods.len() as u64;
    assert_eq!(o.jobs.len() as u64, total);
    assert_eq!(f.jobs_total, total);
    assert_eq!(
        f.jobs_finished + f.jobs_running + f.jobs_pending + f.jobs_skipped + f.jobs_unplaceable,
        total,
        "every job accounted for: {f:?}"
    );
    assert_eq!(f.preemptions, adv.expected_preemptions, "preemptions");
    let preempted: u64 = o.jobs.iter().map(|j| u64::from(j.preemptions)).sum();
    assert_eq!(preempted, f.preemptions);
    for (id, j) in o.jobs.iter().enumerate() {
        let p = &w.pods[id];
        assert_eq!(j.pod, id);
        assert_eq!(j.state == "skipped", p.work_ms.is_none(), "{}", p.name);
        match j.state.name() {
            "finished" => {
                let (start, end) = (j.first_start_ms.unwrap(), j.finish_ms.unwrap());
                assert!(p.arrival_ms <= start && start <= end, "{}: {j:?}", p.name);
                assert!(j.node.is_some());
            }
            "running" => assert!(j.first_start_ms.is_some() && j.node.is_some()),
            "pending" | "skipped" => assert!(j.finish_ms.is_none() && j.node.is_none()),
            // No node of the empty fleet holds it: never started, and says why.
            "unplaceable" => assert!(
                j.first_start_ms.is_none() && j.node.is_none() && !j.reason.is_empty(),
                "{}: {j:?}",
                p.name
            ),
            other => panic!("{}: state {other}", p.name),
        }
    }
    let capped = fleet.devices.values().all(|d| caps_at_allocation(&d.mode));
    let pct = |x: f64| (-EPS..=100.0 + EPS).contains(&x);
    let mut last = 0;
    for r in &o.timeseries {
        assert!(
            pct(r.util_alloc_pct) && pct(r.util_busy_pct),
            "sample {r:?}"
        );
        if capped {
            assert!(
                r.util_busy_pct <= r.util_alloc_pct + EPS,
                "busy > allocated: {r:?}"
            );
        }
        assert!(r.time_ms >= last, "timeseries goes back");
        last = r.time_ms;
        assert!(r.point.running + r.point.waiting <= total);
        assert!(r.point.frag_ratio_pct.is_finite());
    }
    assert!(pct(f.util_alloc_pct) && pct(f.util_busy_pct), "{f:?}");
    if capped {
        assert!(f.util_busy_pct <= f.util_alloc_pct + EPS, "{f:?}");
    }
    for m in &o.per_model {
        assert!(pct(m.util_alloc_pct) && pct(m.util_busy_pct), "{m:?}");
        if caps_at_allocation(&fleet.devices[&m.model].mode) {
            assert!(m.util_busy_pct <= m.util_alloc_pct + EPS, "{m:?}");
        }
    }
}

/// Runs one scenario; returns what the adversary did.
fn run_case(s: &Scenario, check_determinism: bool) -> Ops {
    let (fleet, w) = build(s);
    let config = ReplayConfig {
        seed: s.seed,
        restart_cost_ms: s.restart_cost_ms,
        timeseries_points: s.timeseries_points,
        ..ReplayConfig::default()
    };
    let mut adv = Adversary::new(&s.knobs, &fleet, &w);
    let result = replay::run(&fleet, &w, &mut adv, &config);
    adv.ops.runs += 1;
    for d in fleet.devices.values() {
        adv.ops.modes[d.mode.kind() as usize] += 1;
    }
    match &result {
        Ok(o) => {
            assert!(
                !adv.illegal_made,
                "an illegal action did not end the run: {:?}",
                adv.last
            );
            adv.ops.events += o.figures.events;
            check_outcome(&fleet, &w, &adv, o);
        }
        Err(EngineError::Refused {
            policy,
            pod,
            source,
        }) => {
            adv.ops.refused_runs += 1;
            let last = adv.last.as_ref().expect("refused without a proposal");
            assert_eq!(policy, "adversary");
            assert_eq!(pod, &last.pod, "refused another pod than proposed");
            assert_eq!(
                Err(source.clone()),
                last.predicted,
                "refused a legal placement"
            );
        }
        Err(EngineError::NoGpuCapacity) => assert_eq!(fleet.gpu_count(), 0),
        // The campaign's configs never ask for a tune, --strict or a preferred mode.
        Err(e) => panic!("an engine error the campaign cannot cause: {e}"),
    }
    if check_determinism {
        let mut again = Adversary::new(&s.knobs, &fleet, &w);
        let second = replay::run(&fleet, &w, &mut again, &config);
        match (&result, &second) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a.figures, b.figures, "same inputs, other figures");
                assert_eq!(a.jobs, b.jobs, "same inputs, other jobs");
                assert_eq!(a.timeseries, b.timeseries, "same inputs, other samples");
            }
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
            _ => panic!("same inputs, one run failed and one did not"),
        }
    }
    adv.ops
}

/// A runner whose cases do not depend on the environment: fixed case count, fixed ChaCha
/// seed, no failure files.
fn runner(cases: u32, seed: u8) -> TestRunner {
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 2048,
        rng_algorithm: RngAlgorithm::ChaCha,
        ..Config::default()
    };
    TestRunner::new_with_rng(
        config,
        TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]),
    )
}

/// Runs `cases` scenarios of up to `max_pods` jobs; returns the summed operations.
fn campaign(name: &str, cases: u32, max_pods: usize, seed: u8) -> Ops {
    let total = Cell::new(Ops::default());
    let case = Cell::new(0u64);
    let started = std::time::Instant::now();
    let result = runner(cases, seed).run(&scenario(max_pods), |s| {
        let n = case.get();
        case.set(n + 1);
        let ops = std::panic::catch_unwind(|| run_case(&s, n.is_multiple_of(4)))
            .map_err(|e| TestCaseError::fail(panic_message(&e)))?;
        let mut t = total.get();
        t.add(&ops);
        total.set(t);
        Ok(())
    });
    let t = total.get();
    eprintln!(
        "{name}: {} operations ({} placement attempts, {} remote, {} preemption ids, {} queue \
         orderings, {} engine events) in {} runs ({} ended by an illegal action), {} probes, \
         {:.1} s; runs per mode kind (whole, fractional, mig, vnpu, timeshare): {:?}",
        t.total(),
        t.place_calls,
        t.remote_calls,
        t.victims_named,
        t.order_calls,
        t.events,
        t.runs,
        t.refused_runs,
        t.probes,
        started.elapsed().as_secs_f64(),
        t.modes
    );
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
    t
}

fn panic_message(e: &Box<dyn std::any::Any + Send>) -> String {
    e.downcast_ref::<String>()
        .cloned()
        .or_else(|| e.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "panic".to_owned())
}

/// Release builds (CI) run the full campaign; debug builds a tenth of it.
fn scaled(cases: u32) -> u32 {
    if cfg!(debug_assertions) {
        (cases / 10).max(8)
    } else {
        cases
    }
}

#[test]
fn adversarial_policies_never_corrupt_the_cluster() {
    let ops = campaign("adversarial replay", scaled(450), 300, 7);
    assert!(
        ops.illegal > 0 && ops.refused_runs > 0,
        "illegal actions were tried"
    );
    assert!(ops.victims_named > 0 && ops.remote_calls > 0);
    assert!(
        ops.modes.iter().all(|&n| n > 0),
        "every mode kind ran: {:?}",
        ops.modes
    );
    if !cfg!(debug_assertions) {
        assert!(ops.total() >= 1_000_000, "{} operations", ops.total());
    }
}

/// `order_queue` gets the queue as a mutable slice; a policy that writes a job id there that
/// is no job of the run must not crash the engine. (Found by this file's adversary: the
/// engine indexed its job table with the id unchecked.) The entry is ignored; the job it
/// overwrote is still accounted for (pending).
#[test]
fn a_queue_entry_naming_no_job_is_not_a_panic() {
    struct Scribbler;
    impl Policy for Scribbler {
        fn name(&self) -> &str {
            "scribbler"
        }
        fn place(
            &mut self,
            cluster: &Cluster,
            _job: PodId,
            pod: &Pod,
            _: &mut SimRng,
        ) -> Option<Placement> {
            let node = (0..cluster.nodes().len()).find(|&n| cluster.node(n).fits(pod))?;
            let gpus = gpu_select::best(cluster.node(node), pod)?;
            Some(Placement { node, gpus })
        }
        fn order_queue(&mut self, _: &JobsView<'_>, queue: &mut [QueuedJob]) {
            if let Some(q) = queue.last_mut() {
                q.pod = usize::MAX;
            }
        }
    }
    let fleet = Fleet::new(
        "f".into(),
        vec![NodeSpec::new("n".into(), 8_000, 8_192, 1, "V100M32".into())],
    );
    let pods = (0..3)
        .map(|i| {
            let mut p = Pod::new(&format!("p{i}"), 1_000, 1_024, 1, 1_000);
            p.work_ms = Some(1_000);
            p
        })
        .collect();
    let w = Workload {
        name: "w".into(),
        pods,
    };
    let o = replay::run(&fleet, &w, &mut Scribbler, &ReplayConfig::default()).unwrap();
    let f = &o.figures;
    assert_eq!(
        f.jobs_finished + f.jobs_pending + f.jobs_running,
        3,
        "{f:?}"
    );
}
