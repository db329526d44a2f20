//! The node choice the queue-discipline and classic baselines share, as their `placement`
//! parameter: `best-fit` (the default) or `first-fit`.
//!
//! * `best-fit` — the FGD paper's BestFit (fgd-protocol §2.7.5, [`BestFit`]): the node left
//!   with the least free CPU + GPU, ties to the run's seeded node priority, tightest cards. It
//!   packs, so whole nodes stay free for large jobs.
//! * `first-fit` — YARN's ([`first_fit`]): the first node in fleet order with room.
//!
//! A job one node can hold is always placed on one node: its cards are consolidated, the
//! placement the Tiresias paper prefers for models with skewed tensor sizes (Gu et al.,
//! NSDI'19, its profile-based placement; it places other models anywhere). A gang job (more
//! devices than a node has, or a stated shape) is split as [`Placer::place_gang`] says.
//!
//! On a fleet with a topology, `best-fit` consolidates by the graph too
//! ([`flexsim_sim::policy::topology`]): a multi-device job's cards in one fabric domain (an
//! NVSwitch board, an HCCS ring) when the chosen node has one that holds it, and a gang in the
//! fewest racks, then the fewest nodes (the tightest gang). `first-fit` stays YARN's. On a flat
//! fleet both are unchanged.

use flexsim_sim::model::cluster::{Cluster, Placement};
use flexsim_sim::model::gang::GangPlacement;
use flexsim_sim::model::job::{Pod, PodId};
use flexsim_sim::policy::params::{ParamError, ParamSpec, Params};
use flexsim_sim::policy::{gang, topology, Greedy, Policy, SimRng};

use crate::best_fit::BestFit;
use crate::first_fit::first_fit;

/// `placement=best-fit|first-fit`.
pub const PARAM: ParamSpec = ParamSpec {
    key: "placement",
    default: "best-fit",
    help: "node choice: best-fit (least free CPU + GPU left, FGD's BestFit) or first-fit \
           (first node in fleet order with room, YARN's)",
};

/// A node choice.
pub enum Placer {
    BestFit(Greedy<BestFit>),
    FirstFit,
}

impl Placer {
    pub fn best_fit() -> Placer {
        Placer::BestFit(Greedy::new(BestFit))
    }

    /// The choice `placement` resolved to.
    pub fn from_params(p: &Params) -> Result<Placer, ParamError> {
        Ok(match p.choice(PARAM.key, &["best-fit", "first-fit"])? {
            "best-fit" => Placer::best_fit(),
            _ => Placer::FirstFit,
        })
    }

    pub fn place(
        &mut self,
        cluster: &Cluster,
        job: PodId,
        pod: &Pod,
        rng: &mut SimRng,
    ) -> Option<Placement> {
        match self {
            Placer::BestFit(g) => {
                let mut p = g.place(cluster, job, pod, rng)?;
                // Consolidated on a fleet with a topology: one fabric domain if one holds it.
                if let Some(gpus) = topology::tightest_cards(cluster, p.node, pod) {
                    p.gpus = gpus;
                }
                Some(p)
            }
            Placer::FirstFit => first_fit(cluster, pod),
        }
    }

    /// A gang job's parts: best-fit ranks nodes with the engine's greedy gang placer
    /// ([`gang::greedy`]: fewest nodes, tightest first among equals); first-fit is YARN's
    /// ([`gang::yarn`]: wholly idle nodes in fleet order, then the rest first-fit).
    pub fn place_gang(
        &mut self,
        cluster: &Cluster,
        job: PodId,
        pod: &Pod,
        rng: &mut SimRng,
    ) -> Option<GangPlacement> {
        match self {
            Placer::BestFit(_) if cluster.topology().is_some() => {
                topology::tightest_gang(cluster, pod, &mut BestFit, rng, None)
            }
            Placer::BestFit(g) => g.place_gang(cluster, job, pod, rng),
            Placer::FirstFit => gang::yarn(cluster, pod),
        }
    }
}

impl Default for Placer {
    fn default() -> Self {
        Placer::best_fit()
    }
}

/// The `place` and `place_gang` of a policy whose node choice is its `placer` field: expands,
/// inside an `impl Policy for ...` block, to both methods delegating to the [`Placer`], so that
/// every policy with a `placement` parameter places single-node and gang jobs alike.
macro_rules! place_with_placer {
    () => {
        fn place(
            &mut self,
            cluster: &::flexsim_sim::model::cluster::Cluster,
            job: ::flexsim_sim::model::job::PodId,
            pod: &::flexsim_sim::model::job::Pod,
            rng: &mut ::flexsim_sim::policy::SimRng,
        ) -> Option<::flexsim_sim::model::cluster::Placement> {
            self.placer.place(cluster, job, pod, rng)
        }

        fn place_gang(
            &mut self,
            cluster: &::flexsim_sim::model::cluster::Cluster,
            job: ::flexsim_sim::model::job::PodId,
            pod: &::flexsim_sim::model::job::Pod,
            rng: &mut ::flexsim_sim::policy::SimRng,
        ) -> Option<::flexsim_sim::model::gang::GangPlacement> {
            self.placer.place_gang(cluster, job, pod, rng)
        }
    };
}
pub(crate) use place_with_placer;
