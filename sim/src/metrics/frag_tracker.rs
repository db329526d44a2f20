//! The cluster's fragmentation over a run: Σ F(n), kept current cheaply.
//!
//! F(n) itself — the FGD paper's node fragmentation for the typical-pod distribution — is part
//! of the model ([`crate::model::fragmentation`]), because the `fgd` policy scores by it too;
//! this tracker is how the protocols report it after every event (fgd-protocol §2.8).

use crate::model::cluster::Cluster;
use crate::model::fragmentation::TypicalPods;

/// Σ F(n) over a cluster's nodes, recomputing only the nodes whose generation changed since
/// the last call (§2.8: the fragmentation is reported after every event).
#[derive(Debug, Clone)]
pub struct FragTracker {
    typical: TypicalPods,
    /// (generation, F) per node.
    cache: Vec<(u64, f64)>,
}

impl FragTracker {
    pub fn new(typical: TypicalPods, nodes: usize) -> Self {
        FragTracker {
            typical,
            cache: vec![(u64::MAX, 0.0); nodes],
        }
    }

    /// Σ F(n) now, milli-GPU, summed in node order.
    pub fn total(&mut self, cluster: &Cluster) -> f64 {
        let mut frag = 0.0;
        for (n, cache) in cluster.nodes().iter().zip(&mut self.cache) {
            if cache.0 != n.generation() {
                *cache = (
                    n.generation(),
                    self.typical
                        .node_frag(n.cpu_free_milli(), n.gpu_free_milli(), &n.model),
                );
            }
            frag += cache.1;
        }
        frag
    }
}
