//! The cluster while a run is in progress: free resources per node and per GPU, who runs where.
//!
//! Only the engine mutates it ([`Cluster::place`] checks every placement first); policies get a
//! shared reference. Every mutation stamps the node with a fresh *generation*, so a policy can
//! cache per-node scores and recompute only the nodes a decision touched (DESIGN "Speed").
//!
//! Each card keeps a [`CardState`] under its device model's slicing mode, which decides what a
//! request really gets (rounded up to a unit, a whole card, a MIG profile, ...) and whether it
//! fits; `gpu_free_milli` is the compute not yet granted on each card, the view scorers use.

use crate::error::PlacementError;
use crate::model::fleet::{Fleet, FleetDevice};
use crate::model::job::{Pod, PodId, Text};
use crate::model::slicing::{self, CardRequest, CardState, SliceRequest, SlicingMode};
use crate::model::topology::{Tier, Topology};
use crate::model::units::GPU_MILLI;
use std::sync::Arc;

/// Index of a node in the fleet's order.
pub type NodeId = usize;

/// Where a pod goes: a node and, for a GPU pod, exactly `num_gpu` distinct GPU indices on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub node: NodeId,
    pub gpus: Vec<u16>,
}

/// A pod resident on a node, with what it holds.
#[derive(Debug, PartialEq, Eq)]
pub struct Resident {
    pub pod: PodId,
    pub cpu_milli: u64,
    pub memory_mib: u64,
    /// Compute granted on each of `gpus`, milli (the normalised request).
    pub gpu_milli: u32,
    pub gpus: Vec<u16>,
    pub app: Option<Text>,
    pub rdma_pct: u32,
}

/// One node's capacity and current free resources.
#[derive(Debug)]
pub struct Node {
    pub name: String,
    pub model: String,
    pub cpu_capacity_milli: u64,
    pub memory_capacity_mib: u64,
    cpu_free_milli: u64,
    memory_free_mib: u64,
    gpu_free_milli: Vec<u32>,
    cards: Vec<CardState>,
    device: Option<Arc<FleetDevice>>,
    rdma_capacity_pct: Option<u32>,
    rdma_used_pct: u32,
    residents: Vec<Resident>,
    /// Resident jobs per app, for per-app density limits.
    apps: std::collections::BTreeMap<String, u32>,
    generation: u64,
    /// The generation of the node's last release (a pod removed), 0 if none: since then it
    /// has only filled, and filling never makes a pod fit that did not ([`Node::fits`] is
    /// monotone in what the node holds), which lets an index skip re-testing it.
    released: u64,
}

/// Written out (not derived) for `clone_from`, which reuses the target's allocations: a
/// preemption search copies a node for every victim set it tries ([`Node::copy_without`]).
/// The destructuring makes a new field a compile error here, not a field left uncopied.
impl Clone for Resident {
    fn clone(&self) -> Self {
        let Resident {
            pod,
            cpu_milli,
            memory_mib,
            gpu_milli,
            gpus,
            app,
            rdma_pct,
        } = self;
        Resident {
            pod: *pod,
            cpu_milli: *cpu_milli,
            memory_mib: *memory_mib,
            gpu_milli: *gpu_milli,
            gpus: gpus.clone(),
            app: app.clone(),
            rdma_pct: *rdma_pct,
        }
    }

    fn clone_from(&mut self, source: &Self) {
        let Resident {
            pod,
            cpu_milli,
            memory_mib,
            gpu_milli,
            gpus,
            app,
            rdma_pct,
        } = source;
        self.pod = *pod;
        self.cpu_milli = *cpu_milli;
        self.memory_mib = *memory_mib;
        self.gpu_milli = *gpu_milli;
        self.gpus.clone_from(gpus);
        self.app.clone_from(app);
        self.rdma_pct = *rdma_pct;
    }
}

/// As for [`Resident`]: `clone_from` reuses the target's allocations.
impl Clone for Node {
    fn clone(&self) -> Self {
        let Node {
            name,
            model,
            cpu_capacity_milli,
            memory_capacity_mib,
            cpu_free_milli,
            memory_free_mib,
            gpu_free_milli,
            cards,
            device,
            rdma_capacity_pct,
            rdma_used_pct,
            residents,
            apps,
            generation,
            released,
        } = self;
        Node {
            name: name.clone(),
            model: model.clone(),
            cpu_capacity_milli: *cpu_capacity_milli,
            memory_capacity_mib: *memory_capacity_mib,
            cpu_free_milli: *cpu_free_milli,
            memory_free_mib: *memory_free_mib,
            gpu_free_milli: gpu_free_milli.clone(),
            cards: cards.clone(),
            device: device.clone(),
            rdma_capacity_pct: *rdma_capacity_pct,
            rdma_used_pct: *rdma_used_pct,
            residents: residents.clone(),
            apps: apps.clone(),
            generation: *generation,
            released: *released,
        }
    }

    fn clone_from(&mut self, source: &Self) {
        let Node {
            name,
            model,
            cpu_capacity_milli,
            memory_capacity_mib,
            cpu_free_milli,
            memory_free_mib,
            gpu_free_milli,
            cards,
            device,
            rdma_capacity_pct,
            rdma_used_pct,
            residents,
            apps,
            generation,
            released,
        } = source;
        self.name.clone_from(name);
        self.model.clone_from(model);
        self.cpu_capacity_milli = *cpu_capacity_milli;
        self.memory_capacity_mib = *memory_capacity_mib;
        self.cpu_free_milli = *cpu_free_milli;
        self.memory_free_mib = *memory_free_mib;
        self.gpu_free_milli.clone_from(gpu_free_milli);
        self.cards.clone_from(cards);
        self.device.clone_from(device);
        self.rdma_capacity_pct = *rdma_capacity_pct;
        self.rdma_used_pct = *rdma_used_pct;
        self.residents.clone_from(residents);
        self.apps.clone_from(apps);
        self.generation = *generation;
        self.released = *released;
    }
}

impl Node {
    /// The device model and slicing mode of the node's cards (`None` for a CPU-only node).
    pub fn device(&self) -> Option<&FleetDevice> {
        self.device.as_deref()
    }

    /// The slicing state of each card, in index order.
    pub fn cards(&self) -> &[CardState] {
        &self.cards
    }

    /// What `pod` would be granted on each of its cards here, or why the mode can never serve
    /// it (normalisation, slicing-model §7.1). `None` for a CPU-only pod or node.
    #[inline]
    pub fn slice_for(&self, pod: &Pod) -> Option<Result<SliceRequest, slicing::Refusal>> {
        let d = self.device.as_deref()?;
        if !pod.is_gpu_pod() {
            return None;
        }
        Some(slicing::normalise(
            &d.mode,
            &d.model,
            &self.card_request(pod),
        ))
    }

    /// What `pod` asks of each of its cards here (a GPU node): its compute share and its
    /// device memory, stated or implied ([`slicing::implied_memory_mib`]).
    fn card_request(&self, pod: &Pod) -> CardRequest {
        let memory_mib = pod.gpu_memory_mib.unwrap_or_else(|| {
            self.device.as_deref().map_or(0, |d| {
                slicing::implied_memory_mib(&d.mode, &d.model, pod.gpu_milli)
            })
        });
        CardRequest {
            compute_milli: pod.gpu_milli,
            memory_mib,
            weight_milli: 0,
            priority_class: priority_class(pod.priority),
        }
    }

    /// Whether card `gpu` can take `slice` (the pod's slice here, [`Node::slice_for`]) now,
    /// by the slicing model: the per-card test of [`Node::fitting_cards`].
    #[inline]
    pub fn card_fits(&self, gpu: usize, slice: &SliceRequest) -> bool {
        let Some(d) = self.device.as_deref() else {
            return false;
        };
        // Cheap necessary test first: only time-sharing may grant more compute than is free.
        let oversubscribes = matches!(d.mode, SlicingMode::Timeshare(_));
        if !oversubscribes && self.gpu_free_milli[gpu] < slice.compute_milli {
            return false;
        }
        slicing::fits(&self.cards[gpu], &d.model, slice).is_ok()
    }

    /// The cards (index order) that can take `pod`'s slice now; empty for a CPU-only pod or
    /// when the mode cannot serve it. GPU selection chooses among these.
    pub fn fitting_cards(&self, pod: &Pod) -> Vec<u16> {
        let mut cards = Vec::new();
        if let Some(Ok(slice)) = self.slice_for(pod) {
            self.fitting_cards_into(pod, &slice, &mut cards);
        }
        cards
    }

    /// [`Node::fitting_cards`] into `out` (cleared first), given the pod's slice here
    /// (`slice`, from [`Node::slice_for`]): for a policy that examines many nodes per decision
    /// and keeps one buffer, instead of an allocation and a normalisation per node.
    pub fn fitting_cards_into(&self, pod: &Pod, slice: &SliceRequest, out: &mut Vec<u16>) {
        out.clear();
        if !pod.gpu_spec.accepts(&self.model) {
            return;
        }
        out.extend(
            (0..self.gpu_free_milli.len())
                .filter(|&g| self.card_fits(g, slice))
                .map(|g| g as u16),
        );
    }

    /// A copy of this node with the residents `pods` removed: what-if for preemption rules
    /// ("would the pod fit if these jobs left?"). Unknown ids are ignored.
    pub fn without(&self, pods: &[PodId]) -> Node {
        let mut n = self.clone();
        for &id in pods {
            n.release(id);
        }
        n
    }

    /// `*into = self.without(pods)`, reusing what `into` holds (its allocations): a
    /// preemption search trying many victim sets on a node copies it into one scratch node.
    pub fn copy_without(&self, pods: &[PodId], into: &mut Node) {
        into.clone_from(self);
        for &id in pods {
            into.release(id);
        }
    }

    /// On a what-if copy ([`Node::without`], [`Node::copy_without`]): takes `pods` off it too,
    /// so that `n.without(a)` then `also_without(b)` is `n.without(a ++ b)` — a search that
    /// adds victims one at a time needs one copy, not one per set. (A cluster lends its own
    /// nodes only as `&Node`: only a copy can be changed.) Unknown ids are ignored.
    pub fn also_without(&mut self, pods: &[PodId]) {
        for &id in pods {
            self.release(id);
        }
    }

    /// Whether `pod` may fit here once `pods` are gone: `false` only where
    /// `self.without(pods).fits(pod)` is false, found without copying the node — for a
    /// preemption search, which asks it of every node holding candidates and where most nodes
    /// cannot be made to fit. Removing residents frees exactly their CPU and memory, and
    /// changes only the cards they held: a card none of them held fits after as it fits now,
    /// so at most the cards that fit now plus the held ones that do not can take the slice.
    /// (App density and RDMA are not looked at: they can only say no more often.)
    pub fn may_fit_without(&self, pods: &[PodId], pod: &Pod) -> bool {
        let (mut cpu, mut memory) = (self.cpu_free_milli, self.memory_free_mib);
        let mut held: u64 = 0;
        let mut many_cards = self.gpu_free_milli.len() > 64;
        for r in self.residents.iter().filter(|r| pods.contains(&r.pod)) {
            cpu += r.cpu_milli;
            memory += r.memory_mib;
            for &g in &r.gpus {
                match 1u64.checked_shl(u32::from(g)) {
                    Some(bit) => held |= bit,
                    None => many_cards = true,
                }
            }
        }
        if pod.cpu_milli > cpu || pod.memory_mib > memory {
            return false;
        }
        if !pod.is_gpu_pod() {
            return true;
        }
        if self.gpu_free_milli.len() < pod.num_gpu as usize || !pod.gpu_spec.accepts(&self.model) {
            return false;
        }
        let Some(Ok(slice)) = self.slice_for(pod) else {
            return false;
        };
        if many_cards {
            return true;
        }
        let could = (0..self.gpu_free_milli.len())
            .filter(|&g| held & (1 << g) != 0 || self.card_fits(g, &slice))
            .count();
        could >= pod.num_gpu as usize
    }

    /// A copy of this node with pod `id` placed on cards `gpus`, checked as [`Cluster::place`]
    /// checks it: what-if for reservations ("would the reserved job still fit beside this
    /// one?"), the counterpart of [`Node::without`].
    pub fn with(&self, id: PodId, pod: &Pod, gpus: &[u16]) -> Result<Node, PlacementError> {
        let mut one = Cluster {
            nodes: vec![self.clone()],
            by_priority: vec![0],
            gpu_capacity_milli: 0,
            gpu_used_milli: 0,
            clock: self.generation,
            log_start: self.generation,
            changes: Vec::new(),
            uid: fresh_uid(),
            topology: None,
        };
        let placement = Placement {
            node: 0,
            gpus: gpus.to_vec(),
        };
        one.place(id, pod, placement)?;
        Ok(one.nodes.pop().expect("one node"))
    }

    /// Takes resident `id` off the node; returns it and the GPU milli this freed.
    fn release(&mut self, id: PodId) -> Option<(Resident, u64)> {
        let at = self.residents.iter().position(|r| r.pod == id)?;
        let r = self.residents.remove(at);
        if let Some(app) = &r.app {
            let n = self
                .apps
                .get_mut(app.as_str())
                .expect("a resident's app is counted");
            *n -= 1;
            if *n == 0 {
                self.apps.remove(app.as_str());
            }
        }
        self.cpu_free_milli += r.cpu_milli;
        self.memory_free_mib += r.memory_mib;
        self.rdma_used_pct -= r.rdma_pct;
        let mut freed = 0;
        if let Some(device) = self.device.clone() {
            for &g in &r.gpus {
                let card = &mut self.cards[g as usize];
                let before = clamped(card);
                slicing::release(card, &device.model, id as u64)
                    .expect("a resident's cards hold its tenant");
                let after = clamped(card);
                self.gpu_free_milli[g as usize] = GPU_MILLI - after;
                freed += u64::from(before - after);
            }
        }
        Some((r, freed))
    }

    /// Jobs of `app` on this node.
    fn app_count(&self, app: &str) -> u32 {
        self.apps.get(app).copied().unwrap_or(0)
    }
    pub fn cpu_free_milli(&self) -> u64 {
        self.cpu_free_milli
    }
    pub fn memory_free_mib(&self) -> u64 {
        self.memory_free_mib
    }
    /// Free milli of each GPU, in index order.
    pub fn gpu_free_milli(&self) -> &[u32] {
        &self.gpu_free_milli
    }
    pub fn gpu_count(&self) -> usize {
        self.gpu_free_milli.len()
    }
    /// Σ free milli over the node's GPUs.
    #[inline]
    pub fn gpu_free_total(&self) -> u64 {
        self.gpu_free_milli.iter().map(|&g| u64::from(g)).sum()
    }
    /// Number of GPUs with nothing allocated.
    pub fn gpus_fully_free(&self) -> usize {
        self.gpu_free_milli
            .iter()
            .filter(|&&g| g == GPU_MILLI)
            .count()
    }
    /// Whether this node and `other` are both empty and alike in everything a placement reads:
    /// the same device (model and slicing mode), capacities and card states — they differ at
    /// most in name and place. A pod then fits both or neither, and a scorer that reads only
    /// a node's state gives both the same score ([`crate::policy::NodeIndex`] uses this).
    pub fn empty_and_alike(&self, other: &Node) -> bool {
        // An empty node is in its spec's state: removing a pod gives back exactly what placing
        // it took, on the node and on every card (test `an_emptied_node_is_as_new`), so only
        // the spec is compared.
        let same_device = match (&self.device, &other.device) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        };
        self.residents.is_empty()
            && other.residents.is_empty()
            && same_device
            && self.cpu_capacity_milli == other.cpu_capacity_milli
            && self.memory_capacity_mib == other.memory_capacity_mib
            && self.rdma_capacity_pct == other.rdma_capacity_pct
            && self.cards.len() == other.cards.len()
            && self.model == other.model
    }

    /// The pods on this node, in placement order.
    pub fn residents(&self) -> &[Resident] {
        &self.residents
    }
    /// Changes whenever anything on the node changes; unique across nodes and time.
    pub fn generation(&self) -> u64 {
        self.generation
    }
    /// The [`Node::generation`] of the node's last release (a pod removed; 0 if none). A pod
    /// that did not fit at generation `g ≥ released_at()` still does not: every change since
    /// only filled the node.
    pub fn released_at(&self) -> u64 {
        self.released
    }

    /// Per-node feasibility (fgd-protocol §2.5, generalised): CPU, memory, the per-app density
    /// limit and RDMA share where modelled, the GPU model, and `num_gpu` distinct cards whose
    /// slicing state can take the normalised request.
    #[inline]
    pub fn fits(&self, pod: &Pod) -> bool {
        if !self.fits_host(pod) {
            return false;
        }
        if !pod.is_gpu_pod() {
            return true;
        }
        match self.slice_for(pod) {
            Some(Ok(slice)) => self.fits_cards(&slice, pod.num_gpu),
            _ => false,
        }
    }

    /// Why `pod` does not fit here now, in the order [`Node::fits`] checks — `None` when it
    /// fits. For `--explain` (never on the hot path): each reason names the resource or the
    /// slicing rule and the numbers, e.g. `cpu: needs 14000 milli, 4000 free` or `cards: 1 of
    /// 8 cards can take the slice, needs 2 (card 0: compute 600 milli requested, only 200 milli
    /// free)`.
    pub fn why_not(&self, pod: &Pod) -> Option<String> {
        if pod.cpu_milli > self.cpu_free_milli {
            return Some(format!(
                "cpu: needs {} milli, {} free",
                pod.cpu_milli, self.cpu_free_milli
            ));
        }
        if pod.memory_mib > self.memory_free_mib {
            return Some(format!(
                "memory: needs {} MiB, {} free",
                pod.memory_mib, self.memory_free_mib
            ));
        }
        if let (Some(app), Some(max)) = (&pod.app, pod.max_per_node) {
            if self.app_count(app) >= max {
                return Some(format!("app-density: {max} of app {app} already here"));
            }
        }
        if let Some(cap) = self.rdma_capacity_pct {
            if self.rdma_used_pct + pod.rdma_pct > cap {
                return Some(format!(
                    "rdma: needs {} %, {} % of {cap} % free",
                    pod.rdma_pct,
                    cap.saturating_sub(self.rdma_used_pct)
                ));
            }
        }
        if !pod.is_gpu_pod() {
            return None;
        }
        if !pod.gpu_spec.accepts(&self.model) {
            return Some(if self.gpu_free_milli.is_empty() {
                "gpu-model: a CPU-only node".into()
            } else {
                format!(
                    "gpu-model: the job accepts {}, the node has {}",
                    pod.gpu_spec.models().join("|"),
                    self.model
                )
            });
        }
        if self.gpu_free_milli.len() < pod.num_gpu as usize {
            return Some(format!(
                "gpu-count: needs {} cards, the node has {}",
                pod.num_gpu,
                self.gpu_free_milli.len()
            ));
        }
        let slice = match self.slice_for(pod) {
            Some(Ok(slice)) => slice,
            Some(Err(r)) => return Some(format!("slicing: {r}")),
            None => return Some("gpu-model: no device".into()),
        };
        let fitting = (0..self.gpu_free_milli.len())
            .filter(|&g| self.card_fits(g, &slice))
            .count();
        if fitting >= pod.num_gpu as usize {
            return None;
        }
        let d = self.device.as_deref()?;
        let first = (0..self.cards.len()).find_map(|g| {
            let r = slicing::fits(&self.cards[g], &d.model, &slice).err();
            let r = r.map(|r| r.to_string()).or_else(|| {
                (self.gpu_free_milli[g] < slice.compute_milli).then(|| {
                    format!(
                        "compute {} milli requested, only {} milli free",
                        slice.compute_milli, self.gpu_free_milli[g]
                    )
                })
            });
            r.map(|r| format!("card {g}: {r}"))
        });
        Some(format!(
            "cards: {fitting} of {} cards can take the slice, needs {}{}",
            self.gpu_free_milli.len(),
            pod.num_gpu,
            first.map_or(String::new(), |f| format!(" ({f})"))
        ))
    }

    /// [`Node::fits`] with the per-device work (the model check and the request's
    /// normalisation, which depend on the node's device alone) taken from `probe`, prepared
    /// for this `pod` on this node's cluster: the same answer, without normalising per node.
    #[inline]
    pub fn fits_probed(&self, pod: &Pod, probe: &mut FitProbe) -> bool {
        if pod.cpu_milli > self.cpu_free_milli || pod.memory_mib > self.memory_free_mib {
            return false;
        }
        if let (Some(app), Some(max)) = (&pod.app, pod.max_per_node) {
            if self.app_count(app) >= max {
                return false;
            }
        }
        if let Some(cap) = self.rdma_capacity_pct {
            if self.rdma_used_pct + pod.rdma_pct > cap {
                return false;
            }
        }
        if !pod.is_gpu_pod() {
            return true;
        }
        if self.gpu_free_milli.len() < pod.num_gpu as usize {
            return false;
        }
        let Some(device) = self.device.as_ref() else {
            return false;
        };
        let key = Arc::as_ptr(device) as usize;
        let slice = match probe.slices.iter().find(|(k, _)| *k == key) {
            Some((_, s)) => *s,
            None => {
                let s = if pod.gpu_spec.accepts(&self.model) {
                    self.slice_for(pod).and_then(Result::ok)
                } else {
                    None
                };
                probe.slices.push((key, s));
                s
            }
        };
        slice.is_some_and(|s| self.fits_cards(&s, pod.num_gpu))
    }

    /// The node-level half of [`Node::fits`]: CPU, memory, app density, RDMA, and for a GPU
    /// pod the model and the card count.
    #[inline]
    fn fits_host(&self, pod: &Pod) -> bool {
        if pod.cpu_milli > self.cpu_free_milli || pod.memory_mib > self.memory_free_mib {
            return false;
        }
        if let (Some(app), Some(max)) = (&pod.app, pod.max_per_node) {
            if self.app_count(app) >= max {
                return false;
            }
        }
        if let Some(cap) = self.rdma_capacity_pct {
            if self.rdma_used_pct + pod.rdma_pct > cap {
                return false;
            }
        }
        !pod.is_gpu_pod()
            || (self.gpu_free_milli.len() >= pod.num_gpu as usize
                && pod.gpu_spec.accepts(&self.model))
    }

    /// Whether `need` distinct cards can take `slice` now.
    #[inline]
    fn fits_cards(&self, slice: &SliceRequest, need: u32) -> bool {
        let mut found = 0;
        for gpu in 0..self.gpu_free_milli.len() {
            if self.card_fits(gpu, slice) {
                found += 1;
                if found == need {
                    return true;
                }
            }
        }
        false
    }
}

/// One pod's per-device feasibility work, kept between calls of [`Node::fits_probed`]: for
/// each device (model and slicing mode) of the cluster met so far, the slice the pod gets
/// there, or `None` when the model is not one the pod accepts or the mode refuses it. Valid
/// for one pod shape and the nodes of one cluster (and its clones, which share devices).
#[derive(Debug, Clone, Default)]
pub struct FitProbe {
    /// (device address, its slice): an address is only compared, never followed.
    slices: Vec<(usize, Option<SliceRequest>)>,
}

/// Why a job fits no node of the fleet even when the cluster is empty — it can never run
/// ([`Cluster::unplaceable_reason`]). The names ([`Unplaceable::name`]) are stable: they are
/// what `summary.json` and `jobs.csv` write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Unplaceable {
    /// `gpu-models`: no GPU node of the fleet has a device model the job accepts (its
    /// `gpu_models` / openb `gpu_spec` names none of the fleet's).
    GpuModels,
    /// `too-many-gpus`: more devices than any node of an accepted model has.
    TooManyGpus,
    /// `device-memory`: more device memory than the slicing mode of every accepted model can
    /// give one job ([`Refusal::MemoryTooLarge`]).
    ///
    /// [`Refusal::MemoryTooLarge`]: crate::model::slicing::Refusal::MemoryTooLarge
    DeviceMemory,
    /// `slicing-no-mig-profile`: no MIG profile the mode offers (a static geometry's) is large
    /// enough ([`Refusal::NoProfileFits`]).
    ///
    /// [`Refusal::NoProfileFits`]: crate::model::slicing::Refusal::NoProfileFits
    NoMigProfile,
    /// `slicing-no-vnpu-template`: no vNPU template is large enough
    /// ([`Refusal::NoTemplateFits`]).
    ///
    /// [`Refusal::NoTemplateFits`]: crate::model::slicing::Refusal::NoTemplateFits
    NoVnpuTemplate,
    /// `slicing-refused`: the slicing mode refuses the request on an empty card for another
    /// reason (the [`Refusal`](crate::model::slicing::Refusal) says which).
    SlicingRefused,
    /// `cpu`: more CPU than any node that could hold its devices (any node, for a CPU-only
    /// job) has.
    Cpu,
    /// `memory`: more host memory than any node that passes the checks above has.
    Memory,
    /// `rdma`: more RDMA NIC bandwidth than any such node has.
    Rdma,
    /// `app-density`: its app may have no job on a node (`max_per_node` 0).
    AppDensity,
}

impl Unplaceable {
    /// Every reason, in check order.
    pub const ALL: [Unplaceable; 10] = [
        Unplaceable::GpuModels,
        Unplaceable::TooManyGpus,
        Unplaceable::DeviceMemory,
        Unplaceable::NoMigProfile,
        Unplaceable::NoVnpuTemplate,
        Unplaceable::SlicingRefused,
        Unplaceable::Cpu,
        Unplaceable::Memory,
        Unplaceable::Rdma,
        Unplaceable::AppDensity,
    ];

    /// The stable kebab-case name.
    pub fn name(self) -> &'static str {
        match self {
            Unplaceable::GpuModels => "gpu-models",
            Unplaceable::TooManyGpus => "too-many-gpus",
            Unplaceable::DeviceMemory => "device-memory",
            Unplaceable::NoMigProfile => "slicing-no-mig-profile",
            Unplaceable::NoVnpuTemplate => "slicing-no-vnpu-template",
            Unplaceable::SlicingRefused => "slicing-refused",
            Unplaceable::Cpu => "cpu",
            Unplaceable::Memory => "memory",
            Unplaceable::Rdma => "rdma",
            Unplaceable::AppDensity => "app-density",
        }
    }

    fn of_refusal(refusal: slicing::Refusal) -> Unplaceable {
        match refusal {
            slicing::Refusal::MemoryTooLarge { .. } => Unplaceable::DeviceMemory,
            slicing::Refusal::NoProfileFits => Unplaceable::NoMigProfile,
            slicing::Refusal::NoTemplateFits => Unplaceable::NoVnpuTemplate,
            _ => Unplaceable::SlicingRefused,
        }
    }
}

/// How far a pod gets through one node's checks on the empty cluster, in check order: the
/// first check it fails, or `Fits`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum EmptyCheck {
    GpuModel,
    GpuCount,
    Slicing(Unplaceable),
    Cpu,
    Memory,
    Rdma,
    AppDensity,
    Fits,
}

impl Node {
    /// The first of [`Node::fits`]'s checks `pod` fails on this node when it is empty (from its
    /// capacities, whatever runs on it now). `slicing` caches the empty-card verdict per
    /// device model.
    fn empty_check(
        &self,
        pod: &Pod,
        slicing: &mut Vec<(*const FleetDevice, Option<Unplaceable>)>,
    ) -> EmptyCheck {
        if pod.is_gpu_pod() {
            let Some(device) = self.device.as_ref() else {
                return EmptyCheck::GpuModel;
            };
            if !pod.gpu_spec.accepts(&self.model) {
                return EmptyCheck::GpuModel;
            }
            if self.gpu_free_milli.len() < pod.num_gpu as usize {
                return EmptyCheck::GpuCount;
            }
            let key = Arc::as_ptr(device);
            let refused = match slicing.iter().find(|(k, _)| *k == key) {
                Some((_, r)) => *r,
                None => {
                    let empty = CardState::new(device.mode);
                    let r =
                        slicing::normalise(&device.mode, &device.model, &self.card_request(pod))
                            .and_then(|s| slicing::fits(&empty, &device.model, &s))
                            .err()
                            .map(Unplaceable::of_refusal);
                    slicing.push((key, r));
                    r
                }
            };
            if let Some(r) = refused {
                return EmptyCheck::Slicing(r);
            }
        }
        if pod.cpu_milli > self.cpu_capacity_milli {
            return EmptyCheck::Cpu;
        }
        if pod.memory_mib > self.memory_capacity_mib {
            return EmptyCheck::Memory;
        }
        if self.rdma_capacity_pct.is_some_and(|cap| pod.rdma_pct > cap) {
            return EmptyCheck::Rdma;
        }
        if pod.app.is_some() && pod.max_per_node == Some(0) {
            return EmptyCheck::AppDensity;
        }
        EmptyCheck::Fits
    }
}

/// Slicing priority class of a job priority: 0 is served first. openb LS (3) → 0, Guaranteed
/// (2) → 1, Burstable (1) → 2, BE (0) → 3.
pub fn priority_class(priority: i32) -> u8 {
    (3 - priority.min(3)).min(255) as u8
}

/// All nodes of a run, plus the tie-break priority order.
#[derive(Debug)]
pub struct Cluster {
    nodes: Vec<Node>,
    by_priority: Vec<NodeId>,
    gpu_capacity_milli: u64,
    gpu_used_milli: u64,
    /// Mutations so far; each stamps the node it changed with the new value.
    clock: u64,
    /// The clock when [`Cluster::changes`] began: `changes[i]` is the node the mutation that
    /// set the clock to `log_start + i + 1` changed.
    log_start: u64,
    /// The node each mutation changed, in order: the change log that lets an index kept
    /// outside the cluster (a policy's per-shape feasible set, [`crate::policy::NodeIndex`])
    /// re-examine only the nodes touched since it last looked. 4 bytes per mutation.
    changes: Vec<u32>,
    /// This instance's identity (fresh for every new cluster, clone and priority change), so
    /// an index built against one cluster is never consulted for another.
    uid: u64,
    /// The fleet's topology, if it has one ([`crate::model::topology`]).
    topology: Option<Arc<Topology>>,
}

/// A process-wide fresh identity for [`Cluster::uid`]. Only ever compared for equality, so
/// results never depend on its value.
fn fresh_uid() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl Clone for Cluster {
    /// A copy with a fresh [`Cluster::uid`]: the copy's future mutations are not the
    /// original's.
    fn clone(&self) -> Cluster {
        Cluster {
            nodes: self.nodes.clone(),
            by_priority: self.by_priority.clone(),
            gpu_capacity_milli: self.gpu_capacity_milli,
            gpu_used_milli: self.gpu_used_milli,
            clock: self.clock,
            log_start: self.log_start,
            changes: self.changes.clone(),
            uid: fresh_uid(),
            topology: self.topology.clone(),
        }
    }
}

impl Cluster {
    /// An empty cluster of the fleet's nodes; priority order = fleet order until
    /// [`Cluster::set_priority`] is called.
    pub fn new(fleet: &Fleet) -> Cluster {
        let devices: std::collections::BTreeMap<&str, Arc<FleetDevice>> = fleet
            .devices
            .iter()
            .map(|(name, d)| (name.as_str(), Arc::new(d.clone())))
            .collect();
        let nodes: Vec<Node> = fleet
            .nodes
            .iter()
            .map(|n| {
                let device = (n.gpus > 0)
                    .then(|| devices.get(n.model.as_str()).cloned())
                    .flatten();
                let mode = device.as_ref().map_or(SlicingMode::Whole, |d| d.mode);
                Node {
                    name: n.name.clone(),
                    model: n.model.clone(),
                    cpu_capacity_milli: n.cpu_milli,
                    memory_capacity_mib: n.memory_mib,
                    cpu_free_milli: n.cpu_milli,
                    memory_free_mib: n.memory_mib,
                    gpu_free_milli: vec![GPU_MILLI; n.gpus as usize],
                    cards: vec![CardState::new(mode); n.gpus as usize],
                    device,
                    rdma_capacity_pct: n.rdma_pct,
                    rdma_used_pct: 0,
                    residents: Vec::new(),
                    apps: std::collections::BTreeMap::new(),
                    generation: 0,
                    released: 0,
                }
            })
            .collect();
        Cluster {
            by_priority: (0..nodes.len()).collect(),
            gpu_capacity_milli: fleet.gpu_count() * u64::from(GPU_MILLI),
            gpu_used_milli: 0,
            nodes,
            clock: 0,
            log_start: 0,
            changes: Vec::new(),
            uid: fresh_uid(),
            topology: fleet.topology.clone(),
        }
    }

    /// The fleet's topology; `None` for a flat fleet (no `[topology]` in its file).
    pub fn topology(&self) -> Option<&Topology> {
        self.topology.as_deref()
    }

    /// The tier and slowest bandwidth a placement spans (`parts`: node and cards), or `None`
    /// on a flat fleet ([`Topology::spread`]).
    pub fn spread(&self, parts: &[(NodeId, &[u16])]) -> Option<(Tier, f64)> {
        let t = self.topology()?;
        let parts: Vec<(usize, &str, &[u16])> = parts
            .iter()
            .map(|&(n, cards)| (n, self.nodes[n].model.as_str(), cards))
            .collect();
        Some(t.spread(&parts))
    }

    /// Identity of this cluster instance: equal only for the same instance with the same
    /// priority order (a clone or [`Cluster::set_priority`] gives a new one).
    pub fn uid(&self) -> u64 {
        self.uid
    }

    /// Number of mutations so far ([`Node::generation`] is the value it had after the last
    /// mutation of that node).
    pub fn clock(&self) -> u64 {
        self.clock
    }

    /// The nodes changed by the mutations after clock value `since` (oldest first, a node as
    /// often as it changed), or `None` when the log does not reach back that far.
    pub fn changed_since(&self, since: u64) -> Option<&[u32]> {
        if since < self.log_start || since > self.clock {
            return None;
        }
        Some(&self.changes[(since - self.log_start) as usize..])
    }

    /// One mutation of `node`: advance the clock, stamp the node, log it.
    fn touch(&mut self, node: NodeId) {
        self.clock += 1;
        self.nodes[node].generation = self.clock;
        self.changes.push(node as u32);
    }

    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id]
    }

    /// Node ids from the highest tie-break priority to the lowest. Among equally scored nodes,
    /// policies choose the first in this order (fgd-protocol §2.6: the seeded name prefix).
    pub fn by_priority(&self) -> &[NodeId] {
        &self.by_priority
    }

    /// Sets the tie-break order: `rank[node]` is the node's rank, 0 first. The ranks must be a
    /// permutation of 0..n.
    pub fn set_priority(&mut self, rank: &[usize]) {
        assert_eq!(rank.len(), self.nodes.len(), "one rank per node");
        let mut order: Vec<NodeId> = (0..self.nodes.len()).collect();
        order.sort_by_key(|&n| rank[n]);
        self.by_priority = order;
        self.uid = fresh_uid();
    }

    /// The nodes where `pod` fits ([`Node::fits`]), in priority order, into `out` (cleared
    /// first). Faster than asking every node: the request is normalised once per device model.
    pub fn feasible_nodes(&self, pod: &Pod, out: &mut Vec<NodeId>) {
        out.clear();
        // (device, its normalised slice or None when the mode refuses the pod)
        let mut slices: Vec<(*const FleetDevice, Option<SliceRequest>)> = Vec::new();
        for &id in &self.by_priority {
            let n = &self.nodes[id];
            if !n.fits_host(pod) {
                continue;
            }
            if !pod.is_gpu_pod() {
                out.push(id);
                continue;
            }
            let Some(device) = n.device.as_ref() else {
                continue;
            };
            let key = Arc::as_ptr(device);
            let slice = match slices.iter().find(|(k, _)| *k == key) {
                Some((_, s)) => *s,
                None => {
                    let s = n.slice_for(pod).and_then(Result::ok);
                    slices.push((key, s));
                    s
                }
            };
            if slice.is_some_and(|s| n.fits_cards(&s, pod.num_gpu)) {
                out.push(id);
            }
        }
    }

    /// Why `pod` fits no node of this cluster when it is empty — from the nodes' capacities,
    /// whatever runs on them now — or `None` if some node of the empty cluster holds it
    /// ([`Node::fits`] there). The reason is the check that stopped the node that got
    /// furthest through [`Node::fits`]'s checks, in the order device model, device count,
    /// slicing (normalised and placed on an empty card), CPU, memory, RDMA, app density: a
    /// job whose 8 GPUs fit only nodes with too little CPU is `cpu`, not `too-many-gpus`.
    /// Among slicing refusals, the first node's (fleet order) is named.
    pub fn unplaceable_reason(&self, pod: &Pod) -> Option<Unplaceable> {
        let mut furthest = EmptyCheck::GpuModel;
        let mut slicing = Vec::new();
        for n in &self.nodes {
            let check = n.empty_check(pod, &mut slicing);
            if check == EmptyCheck::Fits {
                return None;
            }
            // Slicing refusals rank by check order only; keep the first one met.
            let further = match (check, furthest) {
                (EmptyCheck::Slicing(_), EmptyCheck::Slicing(_)) => false,
                _ => check > furthest,
            };
            if further {
                furthest = check;
            }
        }
        Some(match furthest {
            EmptyCheck::GpuModel => Unplaceable::GpuModels,
            EmptyCheck::GpuCount => Unplaceable::TooManyGpus,
            EmptyCheck::Slicing(r) => r,
            EmptyCheck::Cpu => Unplaceable::Cpu,
            EmptyCheck::Memory => Unplaceable::Memory,
            EmptyCheck::Rdma => Unplaceable::Rdma,
            EmptyCheck::AppDensity | EmptyCheck::Fits => Unplaceable::AppDensity,
        })
    }

    /// Total GPU capacity in milli.
    pub fn gpu_capacity_milli(&self) -> u64 {
        self.gpu_capacity_milli
    }
    /// GPU milli allocated to pods (fgd-protocol §2.4 "Used GPU Milli").
    pub fn gpu_used_milli(&self) -> u64 {
        self.gpu_used_milli
    }

    /// Checks that `placement` is legal for `pod` now and returns the slice each named card
    /// grants; the cluster is unchanged.
    pub fn check(
        &self,
        pod: &Pod,
        placement: &Placement,
    ) -> Result<Option<SliceRequest>, PlacementError> {
        let node = self
            .nodes
            .get(placement.node)
            .ok_or(PlacementError::NoSuchNode(placement.node))?;
        let name = || node.name.clone();
        if pod.cpu_milli > node.cpu_free_milli {
            return Err(PlacementError::Cpu {
                node: name(),
                needed: pod.cpu_milli,
                free: node.cpu_free_milli,
            });
        }
        if pod.memory_mib > node.memory_free_mib {
            return Err(PlacementError::Memory {
                node: name(),
                needed: pod.memory_mib,
                free: node.memory_free_mib,
            });
        }
        if let (Some(app), Some(max)) = (&pod.app, pod.max_per_node) {
            if node.app_count(app) >= max {
                return Err(PlacementError::AppDensity {
                    node: name(),
                    app: app.to_string(),
                    max,
                });
            }
        }
        if let Some(cap) = node.rdma_capacity_pct {
            if node.rdma_used_pct + pod.rdma_pct > cap {
                return Err(PlacementError::Rdma {
                    node: name(),
                    needed: pod.rdma_pct,
                    free: cap - node.rdma_used_pct.min(cap),
                });
            }
        }
        if placement.gpus.len() != pod.num_gpu as usize {
            return Err(PlacementError::GpuCount {
                node: name(),
                needed: pod.num_gpu as usize,
                named: placement.gpus.len(),
            });
        }
        if !pod.is_gpu_pod() {
            return Ok(None);
        }
        if !pod.gpu_spec.accepts(&node.model) {
            return Err(PlacementError::GpuModel {
                node: name(),
                model: node.model.clone(),
            });
        }
        let slice = match node.slice_for(pod) {
            Some(Ok(s)) => s,
            Some(Err(refusal)) => {
                return Err(PlacementError::Refused {
                    node: name(),
                    refusal,
                })
            }
            // A node without cards: the first GPU the placement names does not exist.
            None => {
                return Err(PlacementError::NoSuchGpu {
                    node: name(),
                    gpu: usize::from(placement.gpus[0]),
                })
            }
        };
        let device = node.device.as_deref().expect("a GPU node has a device");
        for (i, &g) in placement.gpus.iter().enumerate() {
            let gpu = g as usize;
            if gpu >= node.cards.len() {
                return Err(PlacementError::NoSuchGpu { node: name(), gpu });
            }
            if placement.gpus[..i].contains(&g) {
                return Err(PlacementError::DuplicateGpu { node: name(), gpu });
            }
            if let Err(refusal) = slicing::fits(&node.cards[gpu], &device.model, &slice) {
                return Err(PlacementError::Card {
                    node: name(),
                    gpu,
                    refusal,
                });
            }
        }
        Ok(Some(slice))
    }

    /// Places pod `id` after [`Cluster::check`]ing it; on error nothing changes.
    pub fn place(
        &mut self,
        id: PodId,
        pod: &Pod,
        placement: Placement,
    ) -> Result<(), PlacementError> {
        let slice = self.check(pod, &placement)?;
        self.touch(placement.node);
        let node = &mut self.nodes[placement.node];
        node.cpu_free_milli -= pod.cpu_milli;
        node.memory_free_mib -= pod.memory_mib;
        node.rdma_used_pct += pod.rdma_pct;
        let mut granted = 0;
        if let Some(slice) = slice {
            granted = slice.compute_milli;
            let device = node.device.clone().expect("checked: a GPU node");
            for &g in &placement.gpus {
                let card = &mut node.cards[g as usize];
                let before = clamped(card);
                slicing::allocate(card, &device.model, id as u64, &slice)
                    .expect("checked by Cluster::check");
                let after = clamped(card);
                node.gpu_free_milli[g as usize] = GPU_MILLI - after;
                self.gpu_used_milli += u64::from(after - before);
            }
        }
        if let Some(app) = &pod.app {
            *node.apps.entry(app.to_string()).or_insert(0) += 1;
        }
        node.residents.push(Resident {
            pod: id,
            cpu_milli: pod.cpu_milli,
            memory_mib: pod.memory_mib,
            gpu_milli: granted,
            gpus: placement.gpus,
            app: pod.app.clone(),
            rdma_pct: pod.rdma_pct,
        });
        Ok(())
    }

    /// The two halves of a pod split for remote placement: the host part (CPU, memory, app and
    /// RDMA, no GPU) and the device part (the GPU request alone).
    pub fn split_remote(pod: &Pod) -> (Pod, Pod) {
        let mut host = pod.clone();
        host.num_gpu = 0;
        host.gpu_milli = 0;
        let mut device = pod.clone();
        device.cpu_milli = 0;
        device.memory_mib = 0;
        device.app = None;
        device.max_per_node = None;
        device.rdma_pct = 0;
        (host, device)
    }

    /// Checks a remote placement of `pod`: the host part on `host`, the device part on
    /// `device` (two different nodes); the cluster is unchanged.
    pub fn check_remote(
        &self,
        pod: &Pod,
        host: NodeId,
        device: &Placement,
    ) -> Result<(), PlacementError> {
        if host == device.node || !pod.is_gpu_pod() {
            return Err(PlacementError::NotRemote);
        }
        let (h, d) = Cluster::split_remote(pod);
        self.check(
            &h,
            &Placement {
                node: host,
                gpus: Vec::new(),
            },
        )?;
        self.check(&d, device).map(|_| ())
    }

    /// Places `pod` split over two nodes after [`Cluster::check_remote`]; on error nothing
    /// changes. [`Cluster::remove`] takes each half off its node.
    pub fn place_remote(
        &mut self,
        id: PodId,
        pod: &Pod,
        host: NodeId,
        device: Placement,
    ) -> Result<(), PlacementError> {
        self.check_remote(pod, host, &device)?;
        let (h, d) = Cluster::split_remote(pod);
        self.place(
            id,
            &h,
            Placement {
                node: host,
                gpus: Vec::new(),
            },
        )?;
        self.place(id, &d, device)
    }

    /// Removes pod `id` from `node`, returning what it held; `None` if it is not there.
    pub fn remove(&mut self, id: PodId, node: NodeId) -> Option<Resident> {
        let n = self.nodes.get_mut(node)?;
        let (r, freed) = n.release(id)?;
        self.gpu_used_milli -= freed;
        self.touch(node);
        self.nodes[node].released = self.clock;
        Some(r)
    }
}

/// Compute granted on a card, at most one card (time-sharing may grant more).
fn clamped(card: &CardState) -> u32 {
    card.allocated_compute_milli().min(GPU_MILLI)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fleet::NodeSpec;

    fn fleet() -> Fleet {
        Fleet::new(
            "t".into(),
            vec![
                NodeSpec::new("a".into(), 16000, 1000, 2, "T4".into()),
                NodeSpec::new("b".into(), 8000, 1000, 1, "P100".into()),
            ],
        )
    }

    /// T4 (flexai), A100-40 in a static 3g+2g+1g+1g MIG geometry, a CPU node with an RDMA NIC.
    fn mixed() -> Cluster {
        let mut front = NodeSpec::new("front".into(), 96_000, 400_000, 0, String::new());
        front.rdma_pct = Some(100);
        let mut f = Fleet::new(
            "m".into(),
            vec![
                NodeSpec::new("t4".into(), 32_000, 128_000, 4, "T4".into()),
                NodeSpec::new("a100".into(), 64_000, 256_000, 2, "A100-40".into()),
                front,
            ],
        );
        f.devices.get_mut("T4").unwrap().mode = SlicingMode::FLEXAI_VGPU;
        f.devices.get_mut("A100-40").unwrap().mode = SlicingMode::Mig(slicing::MigParams {
            placement: slicing::MigPlacement::Static(slicing::MigGeometry::G3_2_1_1),
        });
        Cluster::new(&f)
    }

    #[test]
    fn unplaceable_reason_agrees_with_fits_on_the_empty_cluster() {
        let c = mixed();
        let mut checked = 0;
        for cpu in [0, 30_000, 60_000, 100_000] {
            for mem in [0, 200_000, 500_000] {
                for (num_gpu, milli) in
                    [(0, 0), (1, 100), (1, 1000), (2, 500), (4, 1000), (8, 1000)]
                {
                    for spec in ["", "T4", "A100-40", "V100M16"] {
                        for gpu_mem in [None, Some(10_000), Some(30_000)] {
                            for rdma in [0, 150] {
                                let mut p = Pod::new("p", cpu, mem, num_gpu, milli);
                                p.gpu_spec = crate::model::job::GpuSpec::parse(spec);
                                p.gpu_memory_mib = gpu_mem;
                                p.rdma_pct = rdma;
                                let fits = c.nodes().iter().any(|n| n.fits(&p));
                                assert_eq!(
                                    c.unplaceable_reason(&p).is_none(),
                                    fits,
                                    "{p:?}: {:?}",
                                    c.unplaceable_reason(&p)
                                );
                                checked += 1;
                            }
                        }
                    }
                }
            }
        }
        assert_eq!(checked, 4 * 3 * 6 * 4 * 3 * 2);
    }

    /// A device model and slicing mode for each way a card can be sliced, for the tests that
    /// must hold in every mode.
    fn every_slicing_mode() -> Vec<(&'static str, SlicingMode)> {
        let mig = |placement| SlicingMode::Mig(slicing::MigParams { placement });
        vec![
            ("T4", SlicingMode::Whole),
            ("T4", SlicingMode::SHARE),
            ("T4", SlicingMode::FLEXAI_VGPU),
            ("T4", SlicingMode::HAMI_VGPU),
            ("A100-40", mig(slicing::MigPlacement::FirstFree)),
            ("A100-40", mig(slicing::MigPlacement::LeastLoss)),
            ("Ascend910B3", SlicingMode::Vnpu),
            ("Ascend910B3", SlicingMode::FLEXAI_TIMESHARE),
        ]
    }

    #[test]
    fn filling_a_node_never_makes_a_pod_fit() {
        // What `Node::released_at` promises an index: between releases a node only fills, and a
        // pod that did not fit still does not. Checked in every slicing mode, on a node filled
        // pod by pod with a mix of shapes.
        let mut cases = every_slicing_mode();
        cases.push((
            "A100-40",
            SlicingMode::Mig(slicing::MigParams {
                placement: slicing::MigPlacement::Static(slicing::MigGeometry::G3_2_1_1),
            }),
        ));
        let shapes: Vec<Pod> = [
            (1, 100),
            (1, 250),
            (1, 300),
            (1, 500),
            (2, 500),
            (1, 1000),
            (4, 1000),
            (0, 0),
        ]
        .iter()
        .flat_map(|&(g, m)| {
            [None, Some(4_000), Some(20_000)].map(|mem| {
                let mut p = Pod::new("p", 2_000, 4_000, g, m);
                p.gpu_memory_mib = mem;
                p
            })
        })
        .collect();
        for (model, mode) in cases {
            let mut f = Fleet::new(
                "m".into(),
                vec![NodeSpec::new("n".into(), 64_000, 256_000, 4, model.into())],
            );
            f.devices.get_mut(model).unwrap().mode = mode;
            let mut c = Cluster::new(&f);
            let mut placed = 0;
            for step in 0..60 {
                let pod = &shapes[(step * 7) % shapes.len()];
                let before: Vec<bool> = shapes.iter().map(|p| c.node(0).fits(p)).collect();
                let cards = c.node(0).fitting_cards(pod);
                if !c.node(0).fits(pod) || cards.len() < pod.num_gpu as usize {
                    continue;
                }
                let gpus = cards[..pod.num_gpu as usize].to_vec();
                if c.place(step, pod, Placement { node: 0, gpus }).is_err() {
                    continue;
                }
                placed += 1;
                for (p, was) in shapes.iter().zip(before) {
                    assert!(
                        was || !c.node(0).fits(p),
                        "{model} {mode:?}: {p:?} fits only after a fill"
                    );
                }
            }
            assert!(placed >= 3, "{model} {mode:?}: only {placed} placements");
        }
    }

    /// What `Node::empty_and_alike` relies on: a node whose pods have all left is exactly a
    /// new node of its spec — free CPU, memory, RDMA, per-card free compute and every card's
    /// state — after any sequence of placements and removals, in every slicing mode.
    #[test]
    fn an_emptied_node_is_as_new() {
        let cases = every_slicing_mode();
        let shapes: Vec<Pod> = [
            (1, 100, 2_000, 0),
            (1, 300, 2_000, 3),
            (1, 500, 30_000, 0),
            (2, 500, 2_000, 0),
            (1, 1000, 2_000, 3),
            (3, 1000, 2_000, 0),
            (0, 0, 50_000, 0),
        ]
        .iter()
        .map(|&(g, m, cpu, priority)| {
            let mut p = Pod::new("p", cpu, 4_000, g, m);
            p.priority = priority;
            p.rdma_pct = 10;
            p.app = Some("a".into());
            p
        })
        .collect();
        for (model, mode) in cases {
            let mut spec = NodeSpec::new("n".into(), 64_000, 256_000, 4, model.into());
            spec.rdma_pct = Some(100);
            let mut f = Fleet::new("m".into(), vec![spec.clone(), spec]);
            f.devices.get_mut(model).unwrap().mode = mode;
            let mut c = Cluster::new(&f);
            let fresh = c.node(1).clone();
            let mut placed = Vec::new();
            let mut ever = 0;
            for step in 0..40 {
                // Mostly placements early, removals late, in a scrambled order.
                if step % 3 == 2 || (step > 20 && !placed.is_empty()) {
                    if !placed.is_empty() {
                        let id = placed.remove((step * 7) % placed.len());
                        c.remove(id, 0).expect("resident");
                    }
                    continue;
                }
                let pod = &shapes[(step * 5) % shapes.len()];
                let cards = c.node(0).fitting_cards(pod);
                let n = pod.num_gpu as usize;
                if !c.node(0).fits(pod) || cards.len() < n {
                    continue;
                }
                let gpus = if step % 2 == 0 {
                    cards[..n].to_vec()
                } else {
                    cards[cards.len() - n..].to_vec()
                };
                if c.place(step, pod, Placement { node: 0, gpus }).is_ok() {
                    placed.push(step);
                    ever += 1;
                }
            }
            assert!(ever >= 4, "{model} {mode:?}: only {ever} placed");
            for id in placed {
                c.remove(id, 0).expect("resident");
            }
            let n = c.node(0);
            assert!(n.residents().is_empty());
            assert_eq!(
                (n.cpu_free_milli, n.memory_free_mib, n.rdma_used_pct),
                (
                    fresh.cpu_free_milli,
                    fresh.memory_free_mib,
                    fresh.rdma_used_pct
                ),
                "{model} {mode:?}"
            );
            assert_eq!(n.gpu_free_milli, fresh.gpu_free_milli, "{model} {mode:?}");
            assert_eq!(n.cards, fresh.cards, "{model} {mode:?}");
            assert!(n.apps.values().all(|&k| k == 0) || n.apps.is_empty());
            assert!(n.empty_and_alike(&fresh));
        }
    }

    #[test]
    fn may_fit_without_never_refuses_what_fits_once_the_pods_are_gone() {
        // The bound a preemption search prunes nodes with: wherever removing some residents
        // makes a pod fit, `may_fit_without` must say it may — checked for every subset of the
        // residents of a node filled in every slicing mode, for every shape. And it must prune
        // (say no) somewhere, or it would be no bound at all.
        let cases = every_slicing_mode();
        let shapes: Vec<Pod> = [
            (1, 100, 2_000),
            (1, 300, 2_000),
            (1, 500, 30_000),
            (2, 500, 2_000),
            (1, 1000, 2_000),
            (3, 1000, 2_000),
            (4, 1000, 2_000),
            (0, 0, 50_000),
        ]
        .iter()
        .map(|&(g, m, cpu)| Pod::new("p", cpu, 4_000, g, m))
        .collect();
        let mut pruned = 0;
        for (model, mode) in cases {
            let mut f = Fleet::new(
                "m".into(),
                vec![NodeSpec::new("n".into(), 64_000, 256_000, 4, model.into())],
            );
            f.devices.get_mut(model).unwrap().mode = mode;
            let mut c = Cluster::new(&f);
            let mut ids = Vec::new();
            for step in 0..12 {
                let pod = &shapes[(step * 5) % shapes.len()];
                let cards = c.node(0).fitting_cards(pod);
                let n = pod.num_gpu as usize;
                if !c.node(0).fits(pod) || cards.len() < n {
                    continue;
                }
                // Alternate the lowest and the highest fitting cards, so tenants spread.
                let gpus = if step % 2 == 0 {
                    cards[..n].to_vec()
                } else {
                    cards[cards.len() - n..].to_vec()
                };
                if c.place(step, pod, Placement { node: 0, gpus }).is_ok() {
                    ids.push(step);
                }
            }
            assert!(
                ids.len() >= 3,
                "{model} {mode:?}: only {} placed",
                ids.len()
            );
            for mask in 0u32..(1 << ids.len()) {
                let gone: Vec<PodId> = (0..ids.len())
                    .filter(|&i| mask & (1 << i) != 0)
                    .map(|i| ids[i])
                    .collect();
                let after = c.node(0).without(&gone);
                for p in &shapes {
                    let may = c.node(0).may_fit_without(&gone, p);
                    assert!(
                        may || !after.fits(p),
                        "{model} {mode:?}: {p:?} fits without {gone:?} but was refused"
                    );
                    pruned += usize::from(!may);
                }
            }
        }
        assert!(pruned > 0, "the bound never said no");
    }

    #[test]
    fn fits_probed_agrees_with_fits() {
        let mut c = mixed();
        // Part of the T4 and of the A100 taken, so card states differ.
        c.place(
            1,
            &Pod::new("x", 1000, 1000, 1, 500),
            Placement {
                node: 0,
                gpus: vec![2],
            },
        )
        .unwrap();
        let mig = Pod::new("y", 1000, 1000, 1, 300);
        let gpus = c.node(1).fitting_cards(&mig)[..1].to_vec();
        c.place(2, &mig, Placement { node: 1, gpus }).unwrap();
        for cpu in [0, 30_000, 100_000] {
            for (num_gpu, milli) in [(0, 0), (1, 100), (1, 1000), (2, 500), (4, 1000)] {
                for spec in ["", "T4", "A100-40", "V100M16"] {
                    for gpu_mem in [None, Some(10_000), Some(30_000)] {
                        for rdma in [0, 150] {
                            let mut p = Pod::new("p", cpu, 1000, num_gpu, milli);
                            p.gpu_spec = crate::model::job::GpuSpec::parse(spec);
                            p.gpu_memory_mib = gpu_mem;
                            p.rdma_pct = rdma;
                            let mut probe = FitProbe::default();
                            for _ in 0..2 {
                                for n in c.nodes() {
                                    assert_eq!(n.fits_probed(&p, &mut probe), n.fits(&p), "{p:?}");
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn unplaceable_reason_names_the_check_that_stopped_the_furthest_node() {
        let c = mixed();
        let why = |p: &Pod| c.unplaceable_reason(p).map(Unplaceable::name);
        let pod = |cpu, num_gpu, milli, spec: &str| {
            let mut p = Pod::new("p", cpu, 1024, num_gpu, milli);
            p.gpu_spec = crate::model::job::GpuSpec::parse(spec);
            p
        };
        assert_eq!(why(&pod(1000, 1, 500, "")), None);
        assert_eq!(why(&pod(1000, 1, 500, "V100M16")), Some("gpu-models"));
        assert_eq!(why(&pod(1000, 8, 1000, "")), Some("too-many-gpus"));
        // 3 GPUs: only the T4 node has them, and its CPU is too small → cpu.
        assert_eq!(why(&pod(40_000, 3, 1000, "")), Some("cpu"));
        // The static geometry has no 7g: a whole A100 is never served.
        assert_eq!(
            why(&pod(1000, 1, 1000, "A100-40")),
            Some("slicing-no-mig-profile")
        );
        let mut big = pod(1000, 1, 100, "T4");
        big.gpu_memory_mib = Some(17_000);
        assert_eq!(why(&big), Some("device-memory"));
        let mut host = pod(1000, 0, 0, "");
        host.memory_mib = 500_000;
        assert_eq!(why(&host), Some("memory"));
        // Only the front node has the memory, and its NIC is too small.
        host.memory_mib = 300_000;
        host.rdma_pct = 101;
        assert_eq!(why(&host), Some("rdma"));
        host.rdma_pct = 0;
        host.app = Some("a".into());
        host.max_per_node = Some(0);
        assert_eq!(why(&host), Some("app-density"));
        let names: std::collections::BTreeSet<&str> =
            Unplaceable::ALL.iter().map(|u| u.name()).collect();
        assert_eq!(names.len(), Unplaceable::ALL.len(), "names are distinct");
    }

    #[test]
    fn multi_gpu_needs_distinct_fully_free_gpus() {
        let mut c = Cluster::new(&fleet());
        let share = Pod::new("s", 1000, 10, 1, 300);
        c.place(
            0,
            &share,
            Placement {
                node: 0,
                gpus: vec![0],
            },
        )
        .unwrap();
        let two = Pod::new("w", 1000, 10, 2, 1000);
        assert!(!c.node(0).fits(&two));
        assert_eq!(
            c.check(
                &two,
                &Placement {
                    node: 0,
                    gpus: vec![1, 1]
                }
            ),
            Err(PlacementError::DuplicateGpu {
                node: "a".into(),
                gpu: 1
            })
        );
    }

    #[test]
    fn refused_placement_changes_nothing() {
        let mut c = Cluster::new(&fleet());
        let big = Pod::new("big", 9000, 10, 1, 500);
        let before = c.node(1).generation();
        let err = c.place(
            0,
            &big,
            Placement {
                node: 1,
                gpus: vec![0],
            },
        );
        assert!(matches!(err, Err(PlacementError::Cpu { .. })));
        assert_eq!(c.node(1).cpu_free_milli(), 8000);
        assert_eq!(c.node(1).generation(), before);
        assert_eq!(c.gpu_used_milli(), 0);
    }

    #[test]
    fn without_is_a_what_if_copy() {
        let mut c = Cluster::new(&fleet());
        let p = Pod::new("p", 1000, 10, 1, 1000);
        c.place(
            3,
            &p,
            Placement {
                node: 1,
                gpus: vec![0],
            },
        )
        .unwrap();
        assert!(!c.node(1).fits(&p));
        assert!(c.node(1).without(&[3]).fits(&p));
        assert!(!c.node(1).fits(&p), "the cluster is unchanged");
    }

    #[test]
    fn copy_without_into_a_used_scratch_node_is_without() {
        let mut c = Cluster::new(&fleet());
        let p = Pod::new("p", 1000, 10, 1, 500);
        for (id, node, gpu) in [(3, 0, 0), (4, 0, 0), (5, 0, 1), (6, 1, 0)] {
            let at = Placement {
                node,
                gpus: vec![gpu],
            };
            c.place(id, &p, at).unwrap();
        }
        // The scratch node held another node, with other residents and cards.
        let mut scratch = c.node(1).clone();
        c.node(0).copy_without(&[4], &mut scratch);
        assert_eq!(
            format!("{scratch:?}"),
            format!("{:?}", c.node(0).without(&[4]))
        );
        assert_eq!(scratch.residents().len(), 2);
        c.node(1).copy_without(&[], &mut scratch);
        assert_eq!(format!("{scratch:?}"), format!("{:?}", c.node(1)));
    }

    #[test]
    fn victims_taken_off_a_copy_one_at_a_time_are_the_set_taken_off_at_once() {
        let mut c = Cluster::new(&fleet());
        let p = Pod::new("p", 1000, 10, 1, 300);
        for (id, gpu) in [(3, 0), (4, 0), (5, 1), (6, 0)] {
            let at = Placement {
                node: 0,
                gpus: vec![gpu],
            };
            c.place(id, &p, at).unwrap();
        }
        let mut copy = c.node(0).without(&[4]);
        copy.also_without(&[6]);
        copy.also_without(&[5, 99]);
        assert_eq!(
            format!("{copy:?}"),
            format!("{:?}", c.node(0).without(&[4, 6, 5]))
        );
        assert_eq!(copy.residents().len(), 1);
        assert_eq!(copy.gpu_free_milli(), &[700, 1000]);
    }

    #[test]
    fn with_is_a_checked_what_if_copy() {
        let c = Cluster::new(&fleet());
        let p = Pod::new("p", 1000, 10, 1, 1000);
        let one = c.node(0).with(5, &p, &[1]).unwrap();
        assert_eq!(one.gpu_free_milli(), &[1000, 0]);
        assert_eq!(one.residents()[0].pod, 5);
        assert!(one.fits(&p) && !one.with(6, &p, &[0]).unwrap().fits(&p));
        assert!(matches!(
            one.with(6, &p, &[1]),
            Err(PlacementError::Card { gpu: 1, .. })
        ));
        assert_eq!(c.node(0).gpu_free_milli(), &[1000, 1000], "unchanged");
        assert!(one.without(&[5]).fits(&Pod::new("two", 1000, 10, 2, 1000)));
    }

    #[test]
    fn model_constraint_and_removal() {
        let mut c = Cluster::new(&fleet());
        let mut p = Pod::new("p", 1000, 10, 1, 1000);
        p.gpu_spec = crate::model::job::GpuSpec::parse("P100");
        assert!(!c.node(0).fits(&p) && c.node(1).fits(&p));
        c.place(
            7,
            &p,
            Placement {
                node: 1,
                gpus: vec![0],
            },
        )
        .unwrap();
        assert_eq!(c.gpu_used_milli(), 1000);
        let r = c.remove(7, 1).unwrap();
        assert_eq!(r.gpus, vec![0]);
        assert_eq!(c.gpu_used_milli(), 0);
        assert_eq!(c.node(1).gpu_free_milli(), &[1000]);
    }
}
