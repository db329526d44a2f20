//! `hi-binpack` — a Hi Scheduler model: Flex:ai vGPUs packed by Volcano's binpack formula.
//!
//! What is published (slicing-model §1.1–§1.3, §1.6): Flex:ai slices a card into vGPUs of
//! `huawei.com/vgpu-cores` in 5 % steps plus `vgpu-memory` in GiB, at most a configured number
//! of vGPUs a card (README "1–5"); the shipped Volcano config runs the `binpack` plugin; the
//! Hi Scheduler is described only as "resource-level scheduling of virtual cards such as
//! Binpack". What we chose (§7.3 "our definition"):
//!
//! * cards in the Flex:ai vGPU mode with a configurable unit (default 5 %, 10 % for the press's
//!   "10 % precision") and tenant limit (default 5), hard caps, memory admission-checked;
//! * node level: Volcano's binpack score (§2.6, weights 1) over the pod's CPU, memory, vGPU
//!   cores (Σ granted compute of the node's cards) and vGPU memory; highest first, ties by node
//!   priority;
//! * card level: the same formula over the card's cores and memory; the fullest cards that
//!   can take the slice win, ties to the lower index.
//!
//! Memory is accounted in MiB by the engine; Flex:ai's 1 GiB request unit is not rounded to.
//! [`HiCore`] is the shared engine of all `hi-*` policies.

use flexsim_sim::model::cluster::{Cluster, Node, NodeId, Placement};
use flexsim_sim::model::gang::GangPlacement;
use flexsim_sim::model::job::{Pod, PodId};
use flexsim_sim::model::slicing::{
    CapPolicy, FractionalParams, MemoryEnforcement, SliceRequest, SlicingMode,
};
use flexsim_sim::model::units::GPU_MILLI;
use flexsim_sim::policy::params::{ParamError, ParamSpec, Params};
use flexsim_sim::policy::{gang, topology, Policy, SimRng};

use crate::volcano_binpack::{binpack_score, host_terms, BinpackTerm};

/// The placement engine shared by the `hi-*` policies.
#[derive(Debug, Clone, Copy)]
pub struct HiCore {
    pub mode: SlicingMode,
    /// Time-sharing admission (see `hi-timeshare`): Σ nominal compute of a card's tenants may
    /// reach this many milli. Unused in other modes.
    pub oversubscribe_milli: u32,
}

impl HiCore {
    /// Flex:ai vGPU with `unit_milli` steps and at most `max_tenants` vGPUs a card.
    pub fn flexai(unit_milli: u32, max_tenants: u32) -> Self {
        HiCore {
            mode: SlicingMode::Fractional(FractionalParams {
                unit_milli,
                max_tenants,
                memory: MemoryEnforcement::Admission,
                cap: CapPolicy::Hard,
            }),
            oversubscribe_milli: GPU_MILLI,
        }
    }

    /// The policy's own admission rule on top of the slicing model's. Time-shared cards: the
    /// nominal shares of the tenants of the job's class and higher plus the job's fit in one
    /// card (they are served first, so the job gets its share), and all nominal shares plus the
    /// job's stay within `oversubscribe_milli`. Other modes: the slicing model decides alone.
    pub fn admits(&self, node: &Node, gpu: usize, slice: &SliceRequest) -> bool {
        let card = &node.cards()[gpu];
        match card.mode() {
            SlicingMode::Timeshare(_) => {
                let peers: u32 = card
                    .tenants()
                    .iter()
                    .filter(|t| t.slice.priority_class <= slice.priority_class)
                    .map(|t| t.slice.compute_milli)
                    .sum();
                peers + slice.compute_milli <= GPU_MILLI
                    && card.allocated_compute_milli() + slice.compute_milli
                        <= self.oversubscribe_milli
            }
            _ => true,
        }
    }

    /// Whether `pod` can go on `node` under this policy.
    pub fn fits(&self, node: &Node, pod: &Pod) -> bool {
        node.fits(pod) && self.can_take(node, pod)
    }

    /// (request, used, allocatable) of a card's compute: a time-shared card's allocatable
    /// grows with its oversubscription so the term stays ≤ 1.
    fn compute_term(node: &Node, gpu: usize, request: u32) -> (f64, f64, f64) {
        let used = f64::from(node.cards()[gpu].allocated_compute_milli());
        let req = f64::from(request);
        (req, used, f64::from(GPU_MILLI).max(req + used))
    }

    fn card_memory(node: &Node) -> f64 {
        node.device().map_or(0.0, |d| d.model.memory_mib as f64)
    }

    /// Volcano's binpack formula over one card's cores and memory, [0, 100].
    pub fn card_score(node: &Node, gpu: usize, slice: &SliceRequest) -> f64 {
        let (r, u, a) = Self::compute_term(node, gpu, slice.compute_milli);
        let mem = (
            slice.memory_mib as f64,
            node.cards()[gpu].allocated_memory_mib() as f64,
            Self::card_memory(node),
            1.0,
        );
        binpack_score(&[(r, u, a, 1.0), mem])
    }

    /// The `num_gpu` cards binpack chooses on `node` (fullest first, ties to the lower index),
    /// ascending, or `None`.
    pub fn select(&self, node: &Node, pod: &Pod) -> Option<Vec<u16>> {
        let mut gpus = Vec::new();
        self.select_into(node, pod, &mut CardScratch::default(), &mut gpus)
            .then_some(gpus)
    }

    /// [`HiCore::select`] into `out` (cleared first), reusing `scratch`: whether it found
    /// cards. No allocation per node, for an index that rescores many.
    fn select_into(
        &self,
        node: &Node,
        pod: &Pod,
        scratch: &mut CardScratch,
        out: &mut Vec<u16>,
    ) -> bool {
        out.clear();
        if !pod.is_gpu_pod() {
            return true;
        }
        let need = pod.num_gpu as usize;
        if !self.rank_into(node, pod, scratch) || scratch.scored.len() < need {
            return false;
        }
        out.extend(scratch.scored[..need].iter().map(|&(_, g)| g));
        out.sort_unstable();
        true
    }

    /// The cards that admit `pod` on `node`, fullest first (binpack's card order).
    fn ranked_cards(&self, node: &Node, pod: &Pod) -> Option<Vec<u16>> {
        let mut scratch = CardScratch::default();
        self.rank_into(node, pod, &mut scratch)
            .then(|| scratch.scored.iter().map(|&(_, g)| g).collect())
    }

    /// Ranks the cards of `node` that take `pod` by the slicing model and [`HiCore::admits`]
    /// into `scratch.scored`, fullest first (binpack's card order): false when the mode
    /// cannot serve the pod here.
    fn rank_into(&self, node: &Node, pod: &Pod, scratch: &mut CardScratch) -> bool {
        let Some(Ok(slice)) = node.slice_for(pod) else {
            return false;
        };
        node.fitting_cards_into(pod, &slice, &mut scratch.cards);
        scratch.scored.clear();
        scratch.scored.extend(
            scratch
                .cards
                .iter()
                .filter(|&&g| self.admits(node, usize::from(g), &slice))
                .map(|&g| {
                    let s = (Self::card_score(node, usize::from(g), &slice) * 1e6).round() as i64;
                    (-s, g)
                }),
        );
        scratch.scored.sort_unstable();
        true
    }

    /// Whether [`HiCore::select`] finds cards for `pod` on `node` (and hence
    /// [`HiCore::select_on`]: a topology only chooses among binpack's cards), without ranking
    /// them.
    pub fn can_take(&self, node: &Node, pod: &Pod) -> bool {
        if !pod.is_gpu_pod() {
            return true;
        }
        let Some(Ok(slice)) = node.slice_for(pod) else {
            return false;
        };
        if !pod.gpu_spec.accepts(&node.model) {
            return false;
        }
        // Stops at the `num_gpu`-th card that takes it.
        (0..node.cards().len())
            .filter(|&g| node.card_fits(g, &slice) && self.admits(node, g, &slice))
            .nth(pod.num_gpu as usize - 1)
            .is_some()
    }

    /// [`HiCore::select_on`] into `out` (cleared first), reusing `scratch`: whether it found
    /// cards. The same cards in the same order, without an allocation per node (an index
    /// rescoring many nodes calls it for each).
    pub fn select_on_into(
        &self,
        cluster: &Cluster,
        node: NodeId,
        pod: &Pod,
        scratch: &mut CardScratch,
        out: &mut Vec<u16>,
    ) -> bool {
        if pod.num_gpu >= 2 && cluster.topology().is_some() {
            out.clear();
            return match self.select_on(cluster, node, pod) {
                Some(gpus) => {
                    out.extend(gpus);
                    true
                }
                None => false,
            };
        }
        self.select_into(cluster.node(node), pod, scratch, out)
    }

    /// [`HiCore::select`], topology-aware: on a fleet with a topology (Flex:ai registers each
    /// node's GPU topology, `huawei.com/node-gpu-topology` — slicing-model "Node
    /// registration"), a multi-device job takes cards of one fabric domain when one holds it
    /// ([`topology::domain_pick`] over binpack's card order); otherwise, and on a flat fleet,
    /// binpack's choice.
    pub fn select_on(&self, cluster: &Cluster, node: NodeId, pod: &Pod) -> Option<Vec<u16>> {
        let n = cluster.node(node);
        if pod.num_gpu >= 2 && cluster.topology().is_some() {
            if let Some(ranked) = self.ranked_cards(n, pod) {
                if let Some(g) = topology::domain_pick(cluster, node, &ranked, pod.num_gpu as usize)
                {
                    return Some(g);
                }
            }
        }
        self.select(n, pod)
    }

    /// A gang's parts: on a fleet with a topology the tightest gang
    /// ([`topology::tightest_gang`]: fewest racks, then fewest nodes); on a flat fleet the
    /// engine's default greedy gang placer, as before.
    pub fn place_gang(
        &self,
        cluster: &Cluster,
        pod: &Pod,
        rng: &mut SimRng,
    ) -> Option<GangPlacement> {
        if cluster.topology().is_some() {
            topology::tightest_gang(cluster, pod, &mut gang::Unscored, rng, None)
        } else {
            gang::greedy(cluster, pod, &mut gang::Unscored, rng)
        }
    }

    /// Volcano's binpack node score for `pod` on `node`: CPU, memory, vGPU cores and vGPU
    /// memory, weights 1, [0, 100].
    pub fn node_score(node: &Node, pod: &Pod) -> f64 {
        let [cpu, mem] = host_terms(node, pod);
        let mut terms: Vec<BinpackTerm> = vec![cpu, mem];
        if let Some(Ok(slice)) = node.slice_for(pod) {
            let k = f64::from(pod.num_gpu);
            let (mut used, mut alloc, mut used_mem) = (0.0, 0.0, 0.0);
            for g in 0..node.cards().len() {
                let (_, u, a) = Self::compute_term(node, g, 0);
                used += u;
                alloc += a;
                used_mem += node.cards()[g].allocated_memory_mib() as f64;
            }
            terms.push((k * f64::from(slice.compute_milli), used, alloc, 1.0));
            let mem_cap = Self::card_memory(node) * node.cards().len() as f64;
            terms.push((k * slice.memory_mib as f64, used_mem, mem_cap, 1.0));
        }
        binpack_score(&terms)
    }

    /// The feasible nodes in priority order, each with the cards binpack would use.
    pub fn candidates(&self, cluster: &Cluster, pod: &Pod) -> Vec<(NodeId, Vec<u16>)> {
        let mut feasible = Vec::new();
        cluster.feasible_nodes(pod, &mut feasible);
        feasible
            .into_iter()
            .filter_map(|n| self.select_on(cluster, n, pod).map(|g| (n, g)))
            .collect()
    }

    /// The candidate with the highest `score` (first in priority order on ties).
    pub fn best(
        candidates: Vec<(NodeId, Vec<u16>)>,
        mut score: impl FnMut(NodeId, &[u16]) -> f64,
    ) -> Option<Placement> {
        let mut best: Option<(i64, NodeId, Vec<u16>)> = None;
        for (n, gpus) in candidates {
            let s = (score(n, &gpus) * 1e6).round() as i64;
            if best.as_ref().is_none_or(|b| s > b.0) {
                best = Some((s, n, gpus));
            }
        }
        best.map(|(_, node, gpus)| Placement { node, gpus })
    }

    /// Binpack at node and card level.
    pub fn place(&self, cluster: &Cluster, pod: &Pod) -> Option<Placement> {
        let candidates = self.candidates(cluster, pod);
        Self::best(candidates, |n, _| Self::node_score(cluster.node(n), pod))
    }
}

/// Buffers [`HiCore::select_on_into`] reuses between nodes.
#[derive(Debug, Default, Clone)]
pub struct CardScratch {
    cards: Vec<u16>,
    scored: Vec<(i64, u16)>,
}

pub struct HiBinpack {
    pub core: HiCore,
}

impl HiBinpack {
    /// `unit_milli` compute steps (50 = 5 %, 100 = 10 %), at most `max_tenants` vGPUs a card.
    pub fn new(unit_milli: u32, max_tenants: u32) -> Self {
        HiBinpack {
            core: HiCore::flexai(unit_milli, max_tenants),
        }
    }
}

/// `hi-binpack[unit=5,vgpus=5]` (also `hi-priority`): the vGPU step in percent of a card and
/// the most vGPUs a card holds.
pub const PARAMS: &[ParamSpec] = &[
    ParamSpec {
        key: "unit",
        default: "5",
        help: "vGPU compute step, percent of a card (Flex:ai: 5; its press: 10)",
    },
    ParamSpec {
        key: "vgpus",
        default: "5",
        help: "most vGPUs on one card",
    },
];

/// The vGPU step (milli) and tenant limit of [`PARAMS`]: a step that divides 100 %, at least
/// one vGPU a card.
pub fn vgpu_params(p: &Params) -> Result<(u32, u32), ParamError> {
    let unit: u32 = p.parse("unit", "a whole percent")?;
    if unit == 0 || 100 % unit != 0 {
        return Err(p.bad(
            "unit",
            "a whole percent that divides 100 (1, 2, 4, 5, 10, 20, 25, 50, 100)",
        ));
    }
    let vgpus: u32 = p.parse("vgpus", "a positive count")?;
    if vgpus == 0 {
        return Err(p.bad("vgpus", "a positive count"));
    }
    Ok((unit * 10, vgpus))
}

impl HiBinpack {
    pub fn from_params(p: &Params) -> Result<Self, ParamError> {
        let (unit_milli, vgpus) = vgpu_params(p)?;
        Ok(HiBinpack::new(unit_milli, vgpus))
    }
}

impl Default for HiBinpack {
    fn default() -> Self {
        HiBinpack::new(50, 5)
    }
}

impl Policy for HiBinpack {
    fn name(&self) -> &str {
        "hi-binpack"
    }

    /// FIFO, no preemption, a job refused only when no node holds it (`ReplayHints`).
    fn replay_hints(&self) -> flexsim_sim::policy::ReplayHints {
        flexsim_sim::policy::ReplayHints::PLACER
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{cluster_in, placed, rng};

    fn vgpu(name: &str, milli: u32, mib: u64) -> Pod {
        let mut p = Pod::new(name, 1000, 1024, 1, milli);
        p.gpu_memory_mib = Some(mib);
        p
    }

    #[test]
    fn flexai_units_and_binpack_at_both_levels() {
        let p = HiBinpack::default();
        assert_eq!(p.preferred_slicing(), Some(SlicingMode::FLEXAI_VGPU));
        let ten = HiBinpack::new(100, 5);
        let mut c = cluster_in(
            &[
                ("a", 32_000, 65_536, 2, "A10"),
                ("b", 32_000, 65_536, 2, "A10"),
            ],
            ten.core.mode,
        );
        // 10 % units: 120 milli becomes 200.
        let s = c.node(0).slice_for(&vgpu("x", 120, 1024)).unwrap().unwrap();
        assert_eq!(s.compute_milli, 200);
        let mut c5 = cluster_in(
            &[
                ("a", 32_000, 65_536, 2, "A10"),
                ("b", 32_000, 65_536, 2, "A10"),
            ],
            p.core.mode,
        );
        placed(&mut c5, 0, vgpu("x", 300, 6144), 1, &[1]);
        placed(&mut c, 0, vgpu("x", 300, 6144), 1, &[1]);
        // The pod goes to the used node b, onto its used card 1.
        let pod = vgpu("p", 200, 2048);
        let mut p = HiBinpack::default();
        let pl = p.place(&c5, 0, &pod, &mut rng()).unwrap();
        assert_eq!((pl.node, pl.gpus), (1, vec![1]));
        // Card scores: used card (500/1000 + 8192/24576)/2·100 = 41.67 vs empty 14.17.
        let slice = c5.node(1).slice_for(&pod).unwrap().unwrap();
        let used = HiCore::card_score(c5.node(1), 1, &slice);
        assert!((used - (0.5 + 8192.0 / 24576.0) / 2.0 * 100.0).abs() < 1e-9);
        // A card with 5 vGPUs is full whatever its free compute.
        for i in 1..5 {
            placed(&mut c5, i, vgpu("t", 50, 100), 1, &[1]);
        }
        assert_eq!(p.place(&c5, 0, &pod, &mut rng()).unwrap().gpus, vec![0]);
    }
}
