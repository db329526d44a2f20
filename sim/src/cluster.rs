//! The cluster while a run is in progress: free resources per node and per GPU, who runs where.
//!
//! Only the engine mutates it ([`Cluster::place`] checks every placement first); policies get a
//! shared reference. Every mutation stamps the node with a fresh *generation*, so a policy can
//! cache per-node scores and recompute only the nodes a decision touched (DESIGN "Speed").

use crate::error::PlacementError;
use crate::fleet::{Fleet, GPU_MILLI};
use crate::job::{Pod, PodId};

/// Index of a node in the fleet's order.
pub type NodeId = usize;

/// Where a pod goes: a node and, for a GPU pod, exactly `num_gpu` distinct GPU indices on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub node: NodeId,
    pub gpus: Vec<u16>,
}

/// A pod resident on a node, with what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resident {
    pub pod: PodId,
    pub cpu_milli: u64,
    pub memory_mib: u64,
    /// Milli held on each of `gpus`.
    pub gpu_milli: u32,
    pub gpus: Vec<u16>,
}

/// One node's capacity and current free resources.
#[derive(Debug, Clone)]
pub struct Node {
    pub name: String,
    pub model: String,
    pub cpu_capacity_milli: u64,
    pub memory_capacity_mib: u64,
    cpu_free_milli: u64,
    memory_free_mib: u64,
    gpu_free_milli: Vec<u32>,
    residents: Vec<Resident>,
    generation: u64,
}

impl Node {
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
    /// The pods on this node, in placement order.
    pub fn residents(&self) -> &[Resident] {
        &self.residents
    }
    /// Changes whenever anything on the node changes; unique across nodes and time.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Per-node feasibility (fgd-protocol §2.5): CPU, memory, GPU model, and enough GPUs with
    /// room. A k-GPU pod needs k distinct GPUs with at least the per-GPU milli free.
    pub fn fits(&self, pod: &Pod) -> bool {
        if pod.cpu_milli > self.cpu_free_milli || pod.memory_mib > self.memory_free_mib {
            return false;
        }
        if !pod.is_gpu_pod() {
            return true;
        }
        if !pod.gpu_spec.accepts(&self.model) {
            return false;
        }
        let fitting = self
            .gpu_free_milli
            .iter()
            .filter(|&&g| g >= pod.gpu_milli)
            .count();
        fitting >= pod.num_gpu as usize
    }
}

/// All nodes of a run, plus the tie-break priority order.
#[derive(Debug, Clone)]
pub struct Cluster {
    nodes: Vec<Node>,
    by_priority: Vec<NodeId>,
    gpu_capacity_milli: u64,
    gpu_used_milli: u64,
    clock: u64,
}

impl Cluster {
    /// An empty cluster of the fleet's nodes; priority order = fleet order until
    /// [`Cluster::set_priority`] is called.
    pub fn new(fleet: &Fleet) -> Cluster {
        let nodes: Vec<Node> = fleet
            .nodes
            .iter()
            .map(|n| Node {
                name: n.name.clone(),
                model: n.model.clone(),
                cpu_capacity_milli: n.cpu_milli,
                memory_capacity_mib: n.memory_mib,
                cpu_free_milli: n.cpu_milli,
                memory_free_mib: n.memory_mib,
                gpu_free_milli: vec![GPU_MILLI; n.gpus as usize],
                residents: Vec::new(),
                generation: 0,
            })
            .collect();
        Cluster {
            by_priority: (0..nodes.len()).collect(),
            gpu_capacity_milli: fleet.gpu_count() * u64::from(GPU_MILLI),
            gpu_used_milli: 0,
            nodes,
            clock: 0,
        }
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
    }

    /// Total GPU capacity in milli.
    pub fn gpu_capacity_milli(&self) -> u64 {
        self.gpu_capacity_milli
    }
    /// GPU milli allocated to pods (fgd-protocol §2.4 "Used GPU Milli").
    pub fn gpu_used_milli(&self) -> u64 {
        self.gpu_used_milli
    }

    /// Checks that `placement` is legal for `pod` now; the cluster is unchanged.
    pub fn check(&self, pod: &Pod, placement: &Placement) -> Result<(), PlacementError> {
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
        if placement.gpus.len() != pod.num_gpu as usize {
            return Err(PlacementError::GpuCount {
                node: name(),
                needed: pod.num_gpu as usize,
                named: placement.gpus.len(),
            });
        }
        if pod.is_gpu_pod() && !pod.gpu_spec.accepts(&node.model) {
            return Err(PlacementError::GpuModel {
                node: name(),
                model: node.model.clone(),
            });
        }
        for (i, &g) in placement.gpus.iter().enumerate() {
            let gpu = g as usize;
            let free = *node
                .gpu_free_milli
                .get(gpu)
                .ok_or_else(|| PlacementError::NoSuchGpu { node: name(), gpu })?;
            if placement.gpus[..i].contains(&g) {
                return Err(PlacementError::DuplicateGpu { node: name(), gpu });
            }
            if free < pod.gpu_milli {
                return Err(PlacementError::GpuFull {
                    node: name(),
                    gpu,
                    needed: pod.gpu_milli,
                    free,
                });
            }
        }
        Ok(())
    }

    /// Places pod `id` after [`Cluster::check`]ing it; on error nothing changes.
    pub fn place(
        &mut self,
        id: PodId,
        pod: &Pod,
        placement: Placement,
    ) -> Result<(), PlacementError> {
        self.check(pod, &placement)?;
        self.clock += 1;
        let node = &mut self.nodes[placement.node];
        node.cpu_free_milli -= pod.cpu_milli;
        node.memory_free_mib -= pod.memory_mib;
        for &g in &placement.gpus {
            node.gpu_free_milli[g as usize] -= pod.gpu_milli;
        }
        node.generation = self.clock;
        node.residents.push(Resident {
            pod: id,
            cpu_milli: pod.cpu_milli,
            memory_mib: pod.memory_mib,
            gpu_milli: pod.gpu_milli,
            gpus: placement.gpus,
        });
        self.gpu_used_milli += pod.total_gpu_milli();
        Ok(())
    }

    /// Removes pod `id` from `node`, returning what it held; `None` if it is not there.
    pub fn remove(&mut self, id: PodId, node: NodeId) -> Option<Resident> {
        let n = self.nodes.get_mut(node)?;
        let at = n.residents.iter().position(|r| r.pod == id)?;
        let r = n.residents.remove(at);
        n.cpu_free_milli += r.cpu_milli;
        n.memory_free_mib += r.memory_mib;
        for &g in &r.gpus {
            n.gpu_free_milli[g as usize] += r.gpu_milli;
        }
        self.clock += 1;
        n.generation = self.clock;
        self.gpu_used_milli -= u64::from(r.gpu_milli) * r.gpus.len() as u64;
        Some(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::NodeSpec;

    fn fleet() -> Fleet {
        Fleet {
            name: "t".into(),
            nodes: vec![
                NodeSpec {
                    name: "a".into(),
                    cpu_milli: 16000,
                    memory_mib: 1000,
                    gpus: 2,
                    model: "T4".into(),
                },
                NodeSpec {
                    name: "b".into(),
                    cpu_milli: 8000,
                    memory_mib: 1000,
                    gpus: 1,
                    model: "P100".into(),
                },
            ],
        }
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
    fn model_constraint_and_removal() {
        let mut c = Cluster::new(&fleet());
        let mut p = Pod::new("p", 1000, 10, 1, 1000);
        p.gpu_spec = crate::job::GpuSpec::parse("P100");
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
