//! `hi-hetero` — `hi-binpack` plus heterogeneity (a Hi Scheduler model).
//!
//! Published (slicing-model §1.6): the Hi Scheduler "perceives the load and state of
//! multi-brand, multi-spec accelerators" and combines "task priority, compute demand and other
//! parameters" — no formula. Our definition, on Flex:ai vGPUs like `hi-binpack`:
//!
//! For each feasible node (cards chosen as in `hi-binpack`), with `S` the job's speed on the
//! node's device model ([`DeviceModel::speed`](flexsim_sim::model::catalog::DeviceModel::speed) for
//! its class, 1.0 if unknown):
//!
//! ```text
//! score = 100 · ( w · S / S_max  +  (1 − w) · (1 − left / 1000) )
//! ```
//!
//! where `S_max` is the best speed among the feasible nodes, `left` the compute (milli) the
//! chosen cards would have free after the job, averaged over them (the capacity the job would
//! strand beside itself: 0 when it fills its card exactly), and `w` = 0.6 by default
//! ([`HiHetero::new`]). Highest wins, ties by node priority. So a job goes to a faster model
//! unless a slower one has a card it fills much better.

use flexsim_sim::model::cluster::{Cluster, Placement};
use flexsim_sim::model::gang::GangPlacement;
use flexsim_sim::model::job::{Pod, PodId};
use flexsim_sim::model::slicing::SlicingMode;
use flexsim_sim::model::units::GPU_MILLI;
use flexsim_sim::policy::{Policy, SimRng};

use crate::hi_binpack::HiCore;

pub struct HiHetero {
    pub core: HiCore,
    /// Weight of relative speed against packing, in [0, 1].
    pub speed_weight: f64,
}

impl HiHetero {
    pub fn new(unit_milli: u32, max_tenants: u32, speed_weight: f64) -> Self {
        HiHetero {
            core: HiCore::flexai(unit_milli, max_tenants),
            speed_weight: speed_weight.clamp(0.0, 1.0),
        }
    }
}

impl Default for HiHetero {
    fn default() -> Self {
        HiHetero::new(50, 5, 0.6)
    }
}

/// The job's speed on `node`'s device model.
fn speed(cluster: &Cluster, node: usize, pod: &Pod) -> f64 {
    cluster
        .node(node)
        .device()
        .and_then(|d| d.model.speed(&pod.class))
        .unwrap_or(1.0)
}

impl Policy for HiHetero {
    fn name(&self) -> &str {
        "hi-hetero"
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
        hetero_place(&self.core, self.speed_weight, cluster, pod)
    }
}

/// The `hi-hetero` choice: among `core`'s candidates, the highest
/// `100·(w·S/S_max + (1 − w)·(1 − left/1000))` (module docs).
pub fn hetero_place(
    core: &HiCore,
    speed_weight: f64,
    cluster: &Cluster,
    pod: &Pod,
) -> Option<Placement> {
    let candidates = core.candidates(cluster, pod);
    let s_max = candidates
        .iter()
        .map(|(n, _)| speed(cluster, *n, pod))
        .fold(0.0f64, f64::max);
    let w = speed_weight;
    HiCore::best(candidates, |n, gpus| {
        let node = cluster.node(n);
        let grant = match node.slice_for(pod) {
            Some(Ok(s)) => s.compute_milli,
            _ => 0,
        };
        let left = if gpus.is_empty() {
            0.0
        } else {
            gpus.iter()
                .map(|&g| {
                    let free = node.gpu_free_milli()[usize::from(g)];
                    f64::from(free.saturating_sub(grant))
                })
                .sum::<f64>()
                / gpus.len() as f64
        };
        let rel = if s_max > 0.0 {
            speed(cluster, n, pod) / s_max
        } else {
            1.0
        };
        100.0 * (w * rel + (1.0 - w) * (1.0 - left / f64::from(GPU_MILLI)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{cluster_in, placed, rng};

    #[test]
    fn faster_model_unless_a_slower_card_is_filled_much_better() {
        let mode = HiHetero::default().core.mode;
        // t4: T4 (speed 0.35 default class), a10: A10 (0.6).
        let mut c = cluster_in(
            &[
                ("t4", 64_000, 1 << 20, 1, "T4"),
                ("a10", 64_000, 1 << 20, 1, "A10"),
            ],
            mode,
        );
        let mut p = HiHetero::default();
        let pod = Pod::new("p", 1000, 1024, 1, 500);
        // Both empty: a10 = 100·(0.6 + 0.4·0.5) = 80; t4 = 100·(0.6·0.35/0.6 + 0.2) = 55.
        assert_eq!(p.place(&c, 0, &pod, &mut rng()).unwrap().node, 1);
        // t4's card half full: t4 = 100·(0.35 + 0.4) = 75 < 80 — still a10.
        placed(&mut c, 0, Pod::new("x", 1000, 1024, 1, 500), 0, &[0]);
        assert_eq!(p.place(&c, 0, &pod, &mut rng()).unwrap().node, 1);
        // With packing weighted more (w = 0.3): t4 = 100·(0.3·0.583 + 0.7) = 87.5 >
        // a10 = 100·(0.3 + 0.35) = 65 — the T4 card it fills wins.
        let mut packer = HiHetero::new(50, 5, 0.3);
        assert_eq!(packer.place(&c, 0, &pod, &mut rng()).unwrap().node, 0);
        // Inference class: T4 0.6 vs A10 0.8 narrows the speed gap, so at w = 0.6
        // t4 = 100·(0.6·0.75 + 0.4) = 85 > a10 = 80 — now the filled T4 card wins.
        let mut inf = pod.clone();
        inf.class = "inference".into();
        assert_eq!(p.place(&c, 0, &inf, &mut rng()).unwrap().node, 0);
    }
}
