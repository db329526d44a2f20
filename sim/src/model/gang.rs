//! Gang jobs: one job placed all-or-nothing as parts on several nodes (DESIGN "Policy API":
//! *place job on placement — one node, or a gang over several*; issue 8 item 5).
//!
//! * **Which jobs are gangs** ([`needs_gang`]): a job whose trace states a multi-node shape
//!   ([`GangShape`](crate::model::job::GangShape), `num_nodes` ≥ 2: exactly that many parts of `gpus_per_node` devices, on
//!   distinct nodes, as Slurm's `--nodes=N --gpus-per-node=G`), or a job that needs more
//!   devices than any node of a device model it accepts has (the placer chooses the split).
//!   Every other job is placed on one node, exactly as before gangs existed.
//! * **A part** is a request of its own ([`part_request`]): `k` of the job's devices, each card
//!   asked what the job asks of each card, and `k / num_gpu` of the job's CPU and host memory,
//!   rounded up — so a part's request depends only on its size, never on the order of the parts
//!   (the gang may hold up to one milli-CPU and one MiB per part more than the job states).
//!   RDMA share and app density apply per node, as each part has its own NIC and is a resident
//!   of its node.
//! * **All or nothing**: [`Cluster::place_gang`] checks every part ([`Cluster::check_gang`])
//!   before it places any; parts are on distinct nodes, so parts checked one by one cannot
//!   conflict. A gang is never partially placed. [`Cluster::remove`] takes each part off its
//!   node; the replay engine releases every part when a gang finishes or is preempted.
//! * **Feasibility** is the model's, as [`Node::fits`] is for one node: [`part_capacity`] is
//!   the largest part a node can take now, [`gang_fits`] whether some gang placement exists
//!   now. Parts on distinct nodes are independent, so a gang fits iff enough nodes can take a
//!   part (a stated shape) or the nodes' capacities add up to the job's devices (a split one).
//!
//! Inflation (the FGD protocol) does not place gangs: its pods are single-node by definition
//! (fgd-protocol §2.5), and its results stay the paper's.

use crate::error::PlacementError;
use crate::model::cluster::{Cluster, Node, Placement, Unplaceable};
use crate::model::job::Pod;

/// Where a gang job goes: one [`Placement`] per part, on distinct nodes, each naming its part's
/// cards. The first part is the job's "first node" wherever one node is reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GangPlacement {
    pub parts: Vec<Placement>,
}

impl GangPlacement {
    /// Devices over all parts.
    pub fn gpu_count(&self) -> usize {
        self.parts.iter().map(|p| p.gpus.len()).sum()
    }
}

/// Whether `pod` is placed as a gang on `cluster`'s fleet: a stated multi-node shape, or more
/// devices than any node of an accepted device model has (and at least one such node exists:
/// otherwise it is `gpu-models`-unplaceable, not a gang).
pub fn needs_gang(cluster: &Cluster, pod: &Pod) -> bool {
    if let Some(shape) = pod.gang {
        return shape.num_nodes >= 2;
    }
    if pod.num_gpu < 2 {
        return false;
    }
    let mut any_accepted = false;
    for n in cluster.nodes() {
        if n.gpu_count() > 0 && pod.gpu_spec.accepts(&n.model) {
            if n.gpu_count() >= pod.num_gpu as usize {
                return false;
            }
            any_accepted = true;
        }
    }
    any_accepted
}

/// One part of gang `pod` holding `gpus` of its devices: the job's per-card request, and the
/// `gpus / num_gpu` share of its CPU and host memory rounded up.
pub fn part_request(pod: &Pod, gpus: u32) -> Pod {
    let total = u128::from(pod.num_gpu.max(1));
    let share = |v: u64| -> u64 {
        let s = (u128::from(v) * u128::from(gpus)).div_ceil(total);
        u64::try_from(s).unwrap_or(u64::MAX)
    };
    let mut part = pod.clone();
    part.num_gpu = gpus;
    part.cpu_milli = share(pod.cpu_milli);
    part.memory_mib = share(pod.memory_mib);
    part.gang = None;
    part
}

/// The most devices one part of gang `pod` can hold on `node` now (0: none). A stated shape
/// takes exactly `gpus_per_node` or nothing; a split job at most `num_gpu − 1` (a part holding
/// them all would be a single-node job).
pub fn part_capacity(node: &Node, pod: &Pod) -> u32 {
    if let Some(shape) = pod.gang {
        let fits = node.fits(&part_request(pod, shape.gpus_per_node));
        return if fits { shape.gpus_per_node } else { 0 };
    }
    let cards = node.fitting_cards(pod).len() as u32;
    let mut k = cards.min(pod.num_gpu.saturating_sub(1));
    // The host share grows with k: the largest k whose part fits.
    while k > 0 && !node.fits(&part_request(pod, k)) {
        k -= 1;
    }
    k
}

/// Whether some gang placement of `pod` exists on `cluster` now.
pub fn gang_fits(cluster: &Cluster, pod: &Pod) -> bool {
    match pod.gang {
        Some(shape) => {
            let need = shape.num_nodes as usize;
            cluster
                .nodes()
                .iter()
                .filter(|n| part_capacity(n, pod) > 0)
                .take(need)
                .count()
                == need
        }
        None => {
            let mut held = 0u64;
            for n in cluster.nodes() {
                held += u64::from(part_capacity(n, pod));
                if held >= u64::from(pod.num_gpu) {
                    return true;
                }
            }
            false
        }
    }
}

/// Why gang `pod` has no placement on `cluster` (the engine asks on the empty cluster, so the
/// job can never run), or `None` if it has one. The reason is the one-part reason where one
/// part already fits no node (a stated part's shape; a one-device part of a split job), else
/// `too-many-gpus`: the fleet's nodes cannot hold that many devices together.
pub fn unplaceable_reason(cluster: &Cluster, pod: &Pod) -> Option<Unplaceable> {
    if gang_fits(cluster, pod) {
        return None;
    }
    let smallest = pod.gang.map_or(1, |s| s.gpus_per_node);
    Some(
        cluster
            .unplaceable_reason(&part_request(pod, smallest))
            .unwrap_or(Unplaceable::TooManyGpus),
    )
}

impl Cluster {
    /// Checks that `gang` is a legal placement of gang job `pod` now: at least two parts, on
    /// distinct nodes, holding `num_gpu` devices in all (a stated shape: `num_nodes` parts of
    /// `gpus_per_node`), each part legal for its [`part_request`] ([`Cluster::check`]). The
    /// cluster is unchanged.
    pub fn check_gang(&self, pod: &Pod, gang: &GangPlacement) -> Result<(), PlacementError> {
        let named = || {
            let sizes: Vec<String> = gang
                .parts
                .iter()
                .map(|p| p.gpus.len().to_string())
                .collect();
            format!(
                "{} part(s) of {} device(s)",
                gang.parts.len(),
                sizes.join("+")
            )
        };
        let shape_ok = match pod.gang {
            Some(s) => {
                gang.parts.len() == s.num_nodes as usize
                    && gang
                        .parts
                        .iter()
                        .all(|p| p.gpus.len() == s.gpus_per_node as usize)
            }
            None => {
                gang.parts.len() >= 2
                    && gang.parts.iter().all(|p| !p.gpus.is_empty())
                    && gang.gpu_count() == pod.num_gpu as usize
            }
        };
        if !shape_ok {
            let expected = match pod.gang {
                Some(s) => format!(
                    "{} parts of {} device(s) on distinct nodes",
                    s.num_nodes, s.gpus_per_node
                ),
                None => format!(
                    "at least 2 parts of at least one device, {} in all",
                    pod.num_gpu
                ),
            };
            return Err(PlacementError::GangShape {
                expected,
                named: named(),
            });
        }
        for (i, p) in gang.parts.iter().enumerate() {
            if p.node >= self.nodes().len() {
                return Err(PlacementError::NoSuchNode(p.node));
            }
            if gang.parts[..i].iter().any(|q| q.node == p.node) {
                return Err(PlacementError::GangNodeTwice {
                    node: self.node(p.node).name.clone(),
                });
            }
        }
        for p in &gang.parts {
            self.check(&part_request(pod, p.gpus.len() as u32), p)?;
        }
        Ok(())
    }

    /// Places gang job `id` (`pod`) after [`Cluster::check_gang`]: every part or, on error,
    /// none.
    pub fn place_gang(
        &mut self,
        id: crate::model::job::PodId,
        pod: &Pod,
        gang: GangPlacement,
    ) -> Result<(), PlacementError> {
        self.check_gang(pod, &gang)?;
        for p in gang.parts {
            let part = part_request(pod, p.gpus.len() as u32);
            self.place(id, &part, p)
                .expect("checked: parts on distinct nodes do not conflict");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::cluster::NodeId;
    use crate::model::fleet::{Fleet, NodeSpec};
    use crate::model::job::GangShape;

    /// `nodes` nodes of 8 whole V100s, 64 cores, 512 GiB each.
    fn cluster(nodes: usize) -> Cluster {
        let specs = (0..nodes)
            .map(|i| NodeSpec::new(format!("n{i}"), 64_000, 512 * 1024, 8, "V100M32".into()))
            .collect();
        Cluster::new(&Fleet::new("g".into(), specs))
    }

    fn job(gpus: u32) -> Pod {
        Pod::new("g", 16_000, 100_000, gpus, 1000)
    }

    fn part(node: NodeId, gpus: std::ops::Range<u16>) -> Placement {
        Placement {
            node,
            gpus: gpus.collect(),
        }
    }

    #[test]
    fn only_jobs_larger_than_every_node_or_with_a_stated_shape_are_gangs() {
        let c = cluster(3);
        assert!(!needs_gang(&c, &job(8)));
        assert!(needs_gang(&c, &job(9)));
        let mut spec = job(16);
        spec.gpu_spec = crate::model::job::GpuSpec::parse("T4");
        assert!(
            !needs_gang(&c, &spec),
            "no accepted node: gpu-models, not a gang"
        );
        let mut shaped = job(4);
        shaped.gang = Some(GangShape {
            num_nodes: 2,
            gpus_per_node: 2,
        });
        assert!(
            needs_gang(&c, &shaped),
            "a stated shape is a gang even if one node holds it"
        );
    }

    #[test]
    fn a_part_takes_its_share_of_host_resources_rounded_up() {
        let p = part_request(&Pod::new("g", 1001, 10, 3, 1000), 1);
        assert_eq!((p.num_gpu, p.cpu_milli, p.memory_mib), (1, 334, 4));
        let p = part_request(&job(16), 8);
        assert_eq!((p.cpu_milli, p.memory_mib), (8_000, 50_000));
    }

    #[test]
    fn capacity_and_feasibility_follow_free_cards_and_host_share() {
        let mut c = cluster(2);
        assert_eq!(part_capacity(c.node(0), &job(16)), 8);
        assert!(gang_fits(&c, &job(16)));
        assert!(!gang_fits(&c, &job(17)));
        assert_eq!(
            unplaceable_reason(&c, &job(17)),
            Some(Unplaceable::TooManyGpus)
        );
        c.place(9, &Pod::new("x", 1000, 10, 1, 1000), part(1, 0..1))
            .unwrap();
        assert_eq!(part_capacity(c.node(1), &job(16)), 7);
        assert!(!gang_fits(&c, &job(16)) && gang_fits(&c, &job(15)));
        // Host share: 60 cores for 12 devices is 5 cores a device; node 0 has 64 cores → 12
        // devices by cores, but at most 8 cards and num_gpu − 1.
        let cpu_heavy = Pod::new("h", 60_000, 10, 12, 1000);
        assert_eq!(part_capacity(c.node(0), &cpu_heavy), 8);
        let cpu_bound = Pod::new("h", 120_000, 10, 12, 1000);
        assert_eq!(
            part_capacity(c.node(0), &cpu_bound),
            6,
            "6 × 10 cores = 60 ≤ 64"
        );
    }

    #[test]
    fn placement_is_all_or_nothing_and_checked() {
        let mut c = cluster(3);
        let g = job(16);
        c.place(9, &Pod::new("x", 1000, 10, 1, 1000), part(1, 0..1))
            .unwrap();
        let before = (c.gpu_used_milli(), c.node(0).generation());
        // Part 2 names a busy card: nothing is placed, not even part 1.
        let bad = GangPlacement {
            parts: vec![part(0, 0..8), part(1, 0..8)],
        };
        assert!(matches!(
            c.place_gang(5, &g, bad),
            Err(PlacementError::Card { gpu: 0, .. })
        ));
        assert_eq!((c.gpu_used_milli(), c.node(0).generation()), before);
        let twice = GangPlacement {
            parts: vec![part(0, 0..4), part(0, 4..8), part(2, 0..8)],
        };
        assert_eq!(
            c.check_gang(&g, &twice),
            Err(PlacementError::GangNodeTwice { node: "n0".into() })
        );
        let short = GangPlacement {
            parts: vec![part(0, 0..8), part(2, 0..7)],
        };
        assert_eq!(
            c.check_gang(&g, &short).unwrap_err().to_string(),
            "a gang placement must be at least 2 parts of at least one device, 16 in all; it is \
             2 part(s) of 8+7 device(s)"
        );
        let ok = GangPlacement {
            parts: vec![part(0, 0..8), part(2, 0..8)],
        };
        c.place_gang(5, &g, ok).unwrap();
        assert_eq!(c.gpu_used_milli(), 17_000);
        assert_eq!(c.node(0).cpu_free_milli(), 56_000);
        c.remove(5, 0).unwrap();
        c.remove(5, 2).unwrap();
        assert_eq!(c.gpu_used_milli(), 1000);
    }

    #[test]
    fn a_stated_shape_needs_that_many_parts_of_that_size() {
        let mut c = cluster(3);
        let mut g = job(8);
        g.gang = Some(GangShape {
            num_nodes: 2,
            gpus_per_node: 4,
        });
        let three = GangPlacement {
            parts: vec![part(0, 0..4), part(1, 0..2), part(2, 0..2)],
        };
        assert!(matches!(
            c.check_gang(&g, &three),
            Err(PlacementError::GangShape { .. })
        ));
        c.place(9, &Pod::new("x", 1000, 10, 5, 1000), part(0, 0..5))
            .unwrap();
        c.place(8, &Pod::new("x", 1000, 10, 5, 1000), part(1, 0..5))
            .unwrap();
        assert_eq!(part_capacity(c.node(0), &g), 0, "3 free cards < 4");
        assert!(!gang_fits(&c, &g));
        assert_eq!(
            unplaceable_reason(&cluster(1), &g),
            Some(Unplaceable::TooManyGpus),
            "one node cannot hold two parts"
        );
    }
}
