//! `random` — the FGD paper's Random baseline (fgd-protocol §2.7.1).
//!
//! One uniform draw picks a feasible node (none when only one is feasible, §2.6), then a random
//! fitting GPU for a sharing pod. Unlike the peer, whose feasible list comes from parallel
//! workers, the candidate order here is fleet order, so runs are reproducible.

use flexsim_sim::model::cluster::{Cluster, NodeId, Placement};
use flexsim_sim::model::job::{Pod, PodId};
use flexsim_sim::policy::gpu_select;
use flexsim_sim::policy::{Policy, SimRng};
use rand::RngExt;

#[derive(Default)]
pub struct Random {
    feasible: Vec<NodeId>,
}

impl Policy for Random {
    fn name(&self) -> &str {
        "random"
    }

    /// FIFO, no preemption, a job refused only when no node holds it (`ReplayHints`).
    fn replay_hints(&self) -> flexsim_sim::policy::ReplayHints {
        flexsim_sim::policy::ReplayHints::PLACER
    }

    fn place(
        &mut self,
        cluster: &Cluster,
        _job: PodId,
        pod: &Pod,
        rng: &mut SimRng,
    ) -> Option<Placement> {
        self.feasible.clear();
        self.feasible
            .extend((0..cluster.nodes().len()).filter(|&n| cluster.node(n).fits(pod)));
        let node = match self.feasible.len() {
            0 => return None,
            1 => self.feasible[0],
            n => self.feasible[rng.random_range(0..n)],
        };
        let gpus = gpu_select::random(cluster.node(node), pod, rng)?;
        Some(Placement { node, gpus })
    }
}
