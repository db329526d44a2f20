//! `hi-remote` — `hi-binpack` plus remote pooling (a Hi Scheduler model).
//!
//! Published (slicing-model §1.5, §1.6): Flex:ai's "拉远" (remote) virtualization lets a job on
//! one node use an idle vGPU slice on another over the network, so cards stranded on nodes
//! without free CPU or memory become usable, and CPU-only servers can host the front ends of
//! GPU services (the DLRM trace's CN/HN shape); no performance figure is published. Our
//! definition:
//!
//! * placement as `hi-binpack` first (a local placement is always preferred);
//! * a GPU job that fits nowhere locally is split: its host part (CPU, memory) goes on the
//!   node with the fewest free milli-CPU that can hold it, CPU-only nodes first (they exist to
//!   host front ends, and a GPU node's CPU is better kept for local jobs); its device part
//!   (the vGPU slices) goes where `hi-binpack` would put a job asking only for them, on another
//!   node;
//! * the job then runs at the remote penalty ρ (`PerfParams::remote_penalty`, default 0.9 — a
//!   scenario parameter, no published number).
//!
//! Cost per decision: placement as `hi-binpack`; a job refused locally adds the split
//! ([`RemoteIndex`]): O(log nodes) plus the nodes changed since the last query when no node
//! takes its device part (a saturated fleet), else a scan of the fleet for the host and one
//! for the device part.

use flexsim_sim::model::cluster::{Cluster, NodeId, Placement};
use flexsim_sim::model::gang::GangPlacement;
use flexsim_sim::model::job::{Pod, PodId};
use flexsim_sim::model::slicing::SlicingMode;
use flexsim_sim::policy::{
    NodeIndex, Policy, Refusals, RemotePlacement, ReplayHints, SimRng, TieBreak, REFUSED,
};

use crate::hi_binpack::HiCore;

pub struct HiRemote {
    pub core: HiCore,
    pub remote: RemoteIndex,
}

impl Default for HiRemote {
    fn default() -> Self {
        HiRemote {
            core: HiCore::flexai(50, 5),
            remote: RemoteIndex::default(),
        }
    }
}

/// The remote split of `pod` under `core`'s rules (module docs), or `None`.
pub fn remote_place(core: &HiCore, cluster: &Cluster, pod: &Pod) -> Option<RemotePlacement> {
    if !pod.is_gpu_pod() {
        return None;
    }
    let (host_part, device_part) = Cluster::split_remote(pod);
    let host: NodeId = cluster
        .by_priority()
        .iter()
        .copied()
        .filter(|&n| cluster.node(n).fits(&host_part))
        .min_by_key(|&n| {
            let node = cluster.node(n);
            (node.gpu_count() > 0, node.cpu_free_milli())
        })?;
    let candidates: Vec<(NodeId, Vec<u16>)> = core
        .candidates(cluster, &device_part)
        .into_iter()
        .filter(|(n, _)| *n != host)
        .collect();
    let device = HiCore::best(candidates, |n, _| {
        HiCore::node_score(cluster.node(n), &device_part)
    })?;
    Some(RemotePlacement { host, device })
}

/// [`remote_place`] behind an index of the nodes that take a device part (`HiCore::can_take`
/// where [`Node::fits`](flexsim_sim::model::cluster::Node::fits)): where none does, there is no
/// split and the two scans of the fleet are skipped — the common case in a saturated replay,
/// where every refused job is offered remotely after each release. Cost: O(log nodes) plus
/// the nodes changed since the last query when no node takes the device part; the scans
/// otherwise.
pub struct RemoteIndex {
    devices: NodeIndex,
}

impl Default for RemoteIndex {
    fn default() -> Self {
        let mut devices = NodeIndex::new(TieBreak::Priority);
        // Whether binpack finds cards reads the node's state alone.
        devices.set_alike_when_empty(true);
        RemoteIndex { devices }
    }
}

impl RemoteIndex {
    /// [`remote_place`]'s answer.
    pub fn place(
        &mut self,
        core: &HiCore,
        cluster: &Cluster,
        pod: &Pod,
    ) -> Option<RemotePlacement> {
        if !pod.is_gpu_pod() {
            return None;
        }
        let (_, device_part) = Cluster::split_remote(pod);
        self.devices
            .best(cluster, &device_part, |cluster, n, part| {
                if core.can_take(cluster.node(n), part) {
                    0
                } else {
                    REFUSED
                }
            })?;
        remote_place(core, cluster, pod)
    }
}

impl Policy for HiRemote {
    fn name(&self) -> &str {
        "hi-remote"
    }

    /// FIFO, no preemption; a job is refused only when no node holds it whole or a part of
    /// it (host or devices) for a remote placement.
    fn replay_hints(&self) -> ReplayHints {
        ReplayHints {
            refusals: Refusals::OnANodeThatFitsAPart,
            ..ReplayHints::PLACER
        }
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

    fn place_remote(
        &mut self,
        cluster: &Cluster,
        _job: PodId,
        pod: &Pod,
        _rng: &mut SimRng,
    ) -> Option<RemotePlacement> {
        self.remote.place(&self.core, cluster, pod)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{cluster_in, replay_on, rng};
    use flexsim_sim::model::slicing::SlicingMode;

    const NODES: &[(&str, u64, u64, u32, &str)] = &[
        ("gpu-a", 8_000, 65_536, 2, "V100M32"),
        ("front", 96_000, 393_216, 0, ""),
        ("gpu-b", 8_000, 65_536, 2, "V100M32"),
    ];

    fn job(cpu: u64, milli: u32) -> Pod {
        let mut p = Pod::new("j", cpu, 1024, 1, milli);
        p.work_ms = Some(9_000);
        p.demand_milli = Some(milli);
        p
    }

    #[test]
    fn local_first_then_front_end_on_a_cpu_node() {
        let c = cluster_in(NODES, SlicingMode::FLEXAI_VGPU);
        let mut p = HiRemote::default();
        // Fits locally: no remote split.
        assert!(p.place(&c, 0, &job(4_000, 500), &mut rng()).is_some());
        // 16 cores fit no GPU node: host on the CPU-only node, slices on a GPU node.
        let big = job(16_000, 500);
        assert!(p.place(&c, 0, &big, &mut rng()).is_none());
        let rp = p.place_remote(&c, 0, &big, &mut rng()).unwrap();
        assert_eq!(c.node(rp.host).name, "front");
        assert!(c.node(rp.device.node).name.starts_with("gpu-"));
        assert!(c.check_remote(&big, rp.host, &rp.device).is_ok());
    }

    #[test]
    fn a_remote_job_runs_at_the_remote_penalty_and_finishes() {
        let o = replay_on(NODES, vec![job(16_000, 1000)], &mut HiRemote::default(), 0);
        // ρ = 0.9: 9 s of work in 10 s.
        assert_eq!(o.jobs[0].finish_ms, Some(10_000));
        assert_eq!(o.figures.jobs_finished, 1);
    }
}
