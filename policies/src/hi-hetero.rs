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
//!
//! Cost per decision ([`HeteroIndex`]): two lookups in per-shape node indexes
//! ([`NodeIndex`]) — the fastest candidate's speed, then the best score for that `S_max` —
//! each rescoring only the nodes changed since (a binpack card choice per changed node, O(cards
//! log cards)), plus O(log nodes). `S_max` is a whole-set term, but it takes one value per
//! device model: one index per (job class, `S_max`) keeps every node's score a function of
//! that node alone. On a fleet where every node has the same speed for the job's class (one
//! device model), `S_max` is that speed and the first lookup is skipped: one index lookup per
//! decision. [`hetero_place`] is the same rule as a scan of every node, kept as the reference
//! the index is tested against.

use flexsim_sim::model::cluster::{Cluster, NodeId, Placement};
use flexsim_sim::model::gang::GangPlacement;
use flexsim_sim::model::job::{Pod, PodId, Text};
use flexsim_sim::model::slicing::SlicingMode;
use flexsim_sim::model::units::GPU_MILLI;
use flexsim_sim::policy::{NodeIndex, Policy, SimRng, TieBreak, REFUSED};

use crate::hi_binpack::{CardScratch, HiCore};

pub struct HiHetero {
    pub core: HiCore,
    /// Weight of relative speed against packing, in [0, 1].
    pub speed_weight: f64,
    pub index: HeteroIndex,
}

impl HiHetero {
    pub fn new(unit_milli: u32, max_tenants: u32, speed_weight: f64) -> Self {
        HiHetero {
            core: HiCore::flexai(unit_milli, max_tenants),
            speed_weight: speed_weight.clamp(0.0, 1.0),
            index: HeteroIndex::default(),
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
        self.index
            .place(&self.core, self.speed_weight, cluster, pod)
    }
}

/// [`hetero_place`]'s choice, by node indexes (module docs, "Cost per decision").
#[derive(Default)]
pub struct HeteroIndex {
    /// Per job class: candidates scored by their speed (the bits of a non-negative `f64`
    /// order as the value), whose best gives `S_max`.
    fastest: Vec<(Text, NodeIndex)>,
    /// Per (job class, `S_max` bits): candidates by the hetero score.
    scored: Vec<(Text, u64, NodeIndex)>,
    /// Per (job class, cluster): the one speed every node has for the class, if they agree.
    uniform: Vec<(Text, u64, Option<u64>)>,
    /// Buffers reused while the indexes rescore nodes.
    scratch: CardScratch,
    gpus: Vec<u16>,
}

impl HeteroIndex {
    /// The highest-scoring candidate and its binpack cards, as [`hetero_place`] chooses.
    pub fn place(
        &mut self,
        core: &HiCore,
        speed_weight: f64,
        cluster: &Cluster,
        pod: &Pod,
    ) -> Option<Placement> {
        // Without a topology both scores read a node's state alone (binpack's cards, the
        // model's speed, the free shares): empty nodes alike score alike. With one, a
        // multi-card job's cards depend on the node's fabric domains.
        let alike = cluster.topology().is_none();
        // One speed for the class on every node (a fleet of one device model): `S_max` is
        // that speed whichever node is the fastest candidate, and the scored index has a
        // candidate exactly when the fastest-model index does, so that index is not needed.
        let uniform = match self
            .uniform
            .iter()
            .find(|(c, uid, _)| *uid == cluster.uid() && *c == pod.class)
        {
            Some(&(_, _, u)) => u,
            None => {
                let mut speeds =
                    (0..cluster.nodes().len()).map(|n| speed(cluster, n, pod).to_bits());
                let first = speeds.next();
                let u = first.filter(|&f| speeds.all(|s| s == f));
                self.uniform.push((pod.class.clone(), cluster.uid(), u));
                u
            }
        };
        let key = match uniform {
            Some(bits) => bits,
            None => self.fastest_speed(core, alike, cluster, pod)?.to_bits(),
        };
        let s_max = f64::from_bits(key);
        let scratch = &mut self.scratch;
        let at = match self
            .scored
            .iter()
            .position(|(c, k, _)| *k == key && *c == pod.class)
        {
            Some(at) => at,
            None => {
                self.scored
                    .push((pod.class.clone(), key, NodeIndex::new(TieBreak::Priority)));
                self.scored.len() - 1
            }
        };
        let gpus = &mut self.gpus;
        self.scored[at].2.set_alike_when_empty(alike);
        let node = self.scored[at].2.best(cluster, pod, |cluster, n, pod| {
            if core.select_on_into(cluster, n, pod, scratch, gpus) {
                rounded(hetero_score(speed_weight, s_max, cluster, n, pod, gpus))
            } else {
                REFUSED
            }
        })?;
        let gpus = core
            .select_on(cluster, node, pod)
            .expect("the index holds candidates only");
        Some(Placement { node, gpus })
    }

    /// `S_max`: the speed of the fastest candidate (the fastest-model index), or `None`
    /// when no node can take the pod.
    fn fastest_speed(
        &mut self,
        core: &HiCore,
        alike: bool,
        cluster: &Cluster,
        pod: &Pod,
    ) -> Option<f64> {
        let at = match self.fastest.iter().position(|(c, _)| *c == pod.class) {
            Some(at) => at,
            None => {
                self.fastest
                    .push((pod.class.clone(), NodeIndex::new(TieBreak::Priority)));
                self.fastest.len() - 1
            }
        };
        self.fastest[at].1.set_alike_when_empty(alike);
        let fastest = self.fastest[at].1.best(cluster, pod, |cluster, n, pod| {
            if core.can_take(cluster.node(n), pod) {
                speed(cluster, n, pod).to_bits() as i64
            } else {
                REFUSED
            }
        })?;
        Some(speed(cluster, fastest, pod))
    }
}

/// A score as [`HiCore::best`] compares it: micro-units, rounded.
fn rounded(score: f64) -> i64 {
    (score * 1e6).round() as i64
}

/// `100·(w·S/S_max + (1 − w)·(1 − left/1000))` of `node` with its chosen `gpus`.
fn hetero_score(w: f64, s_max: f64, cluster: &Cluster, n: NodeId, pod: &Pod, gpus: &[u16]) -> f64 {
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
}

/// The `hi-hetero` choice: among `core`'s candidates, the highest
/// `100·(w·S/S_max + (1 − w)·(1 − left/1000))` (module docs), by a scan of every node.
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
    HiCore::best(candidates, |n, gpus| {
        hetero_score(speed_weight, s_max, cluster, n, pod, gpus)
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

    /// The index chooses what the scan chooses, step by step, while jobs come and go on a
    /// mixed fleet, in both the Flex:ai and the time-shared (`hi`) modes.
    #[test]
    fn the_index_chooses_as_the_scan_does() {
        use rand::RngExt;
        // Three device models, and one: there every node has the same speed for a class and
        // the index skips its fastest-model lookup.
        for models in [&["T4", "A10", "V100M32"][..], &["V100M32"][..]] {
            let nodes: Vec<(String, &str)> = (0..12)
                .map(|i| (format!("n{i}"), models[i % models.len()]))
                .collect();
            let spec: Vec<(&str, u64, u64, u32, &str)> = nodes
                .iter()
                .map(|(n, m)| (n.as_str(), 32_000, 1 << 18, 4, *m))
                .collect();
            for core in [HiCore::flexai(50, 5), crate::hi::Hi::default().core] {
                for w in [0.6, 0.3] {
                    let mut c = cluster_in(&spec, core.mode);
                    // A node priority unlike the fleet order: ties must follow it.
                    let ranks: Vec<usize> =
                        (0..spec.len()).map(|i| (i * 7 + 3) % spec.len()).collect();
                    c.set_priority(&ranks);
                    let mut index = HeteroIndex::default();
                    let mut r = rng();
                    let mut running: Vec<(PodId, NodeId)> = Vec::new();
                    let (mut placed_count, mut refused) = (0, 0);
                    for id in 0..400 {
                        if !running.is_empty() && r.random_range(0..3) == 0 {
                            let (job, node) = running.swap_remove(r.random_range(0..running.len()));
                            c.remove(job, node).unwrap();
                        }
                        let mut pod = Pod::new(
                            "p",
                            r.random_range(1..8) * 1000,
                            1024,
                            r.random_range(1..3),
                            [200, 350, 500, 1000][r.random_range(0..4)],
                        );
                        pod.class =
                            ["default", "inference", "training"][r.random_range(0..3)].into();
                        pod.priority = r.random_range(0..4);
                        let scan = hetero_place(&core, w, &c, &pod);
                        let indexed = index.place(&core, w, &c, &pod);
                        assert_eq!(indexed, scan, "job {id}");
                        match scan {
                            Some(p) => {
                                placed(&mut c, id, pod, p.node, &p.gpus);
                                running.push((id, p.node));
                                placed_count += 1;
                            }
                            None => refused += 1,
                        }
                    }
                    assert!(
                        placed_count > 100 && refused > 10,
                        "{models:?}: {placed_count} / {refused}"
                    );
                }
            }
        }
    }
}
