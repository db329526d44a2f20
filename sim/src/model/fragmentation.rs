//! GPU fragmentation as the FGD paper defines it (fgd-protocol §2.7.6, §2.8).
//!
//! The *typical-pod distribution* is the popular part of the original workload; a node's
//! fragmentation F(n) is the GPU milli that the next typical pod is expected not to be able to
//! use. Both the `fgd` policy and the reported fragmentation curve use it.

use crate::model::job::{PerRequest, Pod, PodShape};
use std::collections::BTreeMap;

/// One typical pod: a request shape and its probability.
#[derive(Debug, Clone, PartialEq)]
pub struct TypicalPod {
    pub cpu_milli: u64,
    /// Per-GPU milli; 0 for a CPU-only typical pod.
    pub gpu_milli: u32,
    pub num_gpu: u32,
    /// Acceptable models; empty = any.
    pub models: Vec<String>,
    pub probability: f64,
}

/// The typical pods of a workload, most popular first.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TypicalPods {
    pub pods: Vec<TypicalPod>,
}

/// Share of all pods the kept keys must cover (`podPopularityThreshold = 95`).
const POPULARITY_THRESHOLD_PCT: u64 = 95;

impl TypicalPods {
    /// Builds the distribution from the *original* pods (§2.7.6 steps 1–6): group by
    /// (cpu, per-GPU milli, GPU count, spec text), memory ignored; sort by count descending,
    /// ties descending by key; keep keys until they cover ≥ 95% of pods (the check happens
    /// before each addition, so the crossing key is kept); renormalise.
    pub fn from_pods(pods: &[Pod]) -> TypicalPods {
        // Pods asking alike share a request ([`Pod::shared_request`]), and a shape is a
        // function of the request: count each shared request first, in order of first
        // appearance, then group those (building a shape per pod was 3 % of a 10^6-job replay).
        let mut per_request: PerRequest<usize> = PerRequest::default();
        let mut requests: Vec<(&Pod, u64)> = Vec::new();
        for p in pods {
            let at = *per_request.entry(p.request_id()).or_insert_with(|| {
                requests.push((p, 0));
                requests.len() - 1
            });
            requests[at].1 += 1;
        }
        let mut counts: BTreeMap<PodShape, u64> = BTreeMap::new();
        let mut models: BTreeMap<PodShape, Vec<String>> = BTreeMap::new();
        for (p, n) in requests {
            let shape = p.shape();
            *counts.entry(shape.clone()).or_default() += n;
            models
                .entry(shape)
                .or_insert_with(|| p.gpu_spec.models().to_vec());
        }
        let mut keys: Vec<(PodShape, u64)> = counts.into_iter().collect();
        keys.sort_by(|(ka, ca), (kb, cb)| cb.cmp(ca).then_with(|| kb.cmp(ka)));
        let total = pods.len() as u64;
        let mut kept = Vec::new();
        let mut covered = 0u64;
        for (key, count) in keys {
            if covered * 100 >= POPULARITY_THRESHOLD_PCT * total {
                break;
            }
            covered += count;
            kept.push((key, count));
        }
        TypicalPods {
            pods: kept
                .into_iter()
                .map(|(key, count)| TypicalPod {
                    models: models[&key].clone(),
                    cpu_milli: key.cpu_milli,
                    gpu_milli: key.gpu_milli,
                    num_gpu: key.num_gpu,
                    probability: count as f64 / covered as f64,
                })
                .collect(),
        }
    }

    /// F(n) for a node with `cpu_free_milli`, GPUs `gpu_free_milli` and model `model`
    /// (§2.7.6 "Node fragmentation"): summed over typical pods in order.
    pub fn node_frag(&self, cpu_free_milli: u64, gpu_free_milli: &[u32], model: &str) -> f64 {
        let idle: u64 = gpu_free_milli.iter().map(|&g| u64::from(g)).sum();
        if idle == 0 {
            return 0.0;
        }
        let idle = idle as f64;
        let mut frag = 0.0;
        for m in &self.pods {
            let all_idle =
                m.gpu_milli == 0 || (!m.models.is_empty() && !m.models.iter().any(|x| x == model));
            let amount = if all_idle {
                idle
            } else {
                let mut fitting = 0u32;
                let mut too_small = 0u64;
                for &g in gpu_free_milli {
                    if g >= m.gpu_milli {
                        fitting += 1;
                    } else {
                        too_small += u64::from(g);
                    }
                }
                if fitting >= m.num_gpu && cpu_free_milli >= m.cpu_milli {
                    too_small as f64 // Q3: only the GPUs too small for this pod
                } else {
                    idle // Q1, Q2, Q4
                }
            };
            frag += m.probability * amount;
        }
        frag
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The typical pods of fgd-protocol §2.9.
    fn example() -> TypicalPods {
        let tp = |cpu, gpu, n, p| TypicalPod {
            cpu_milli: cpu,
            gpu_milli: gpu,
            num_gpu: n,
            models: vec![],
            probability: p,
        };
        TypicalPods {
            pods: vec![
                tp(4000, 500, 1, 0.5),
                tp(8000, 1000, 1, 0.3),
                tp(2000, 0, 0, 0.2),
            ],
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn worked_example_node_1() {
        // §2.9 Node 1: c = 16000, GPUs [1000, 600]: F = 0 + 180 + 320 = 500.
        let t = example();
        assert!(close(t.node_frag(16000, &[1000, 600], "X"), 500.0));
        // After P on GPU 0: [600, 600], c = 12000: F = 0 + 360 + 240 = 600.
        assert!(close(t.node_frag(12000, &[600, 600], "X"), 600.0));
        // After P on GPU 1: [1000, 200]: F = 100 + 60 + 240 = 400.
        assert!(close(t.node_frag(12000, &[1000, 200], "X"), 400.0));
    }

    #[test]
    fn worked_example_node_2() {
        // §2.9 Node 2: c = 8000, [1000]: F = 200; after P: [600], c = 4000: F = 300.
        let t = example();
        assert!(close(t.node_frag(8000, &[1000], "X"), 200.0));
        assert!(close(t.node_frag(4000, &[600], "X"), 300.0));
    }

    #[test]
    fn type_mismatch_counts_all_idle_and_full_node_has_none() {
        let mut t = example();
        t.pods[1].models = vec!["T4".into()];
        // B cannot use a P100 node: 0.3 · 1600 instead of 0.3 · 600.
        assert!(close(t.node_frag(16000, &[1000, 600], "P100"), 800.0));
        assert_eq!(t.node_frag(16000, &[0, 0], "P100"), 0.0);
    }

    #[test]
    fn distribution_keeps_keys_up_to_95_percent() {
        // 20 pods of A, 1 pod each of B (19 distinct smaller keys): A alone is 20/39 = 51%.
        let mut pods: Vec<Pod> = (0..20)
            .map(|i| Pod::new(&format!("a{i}"), 4000, 1, 1, 500))
            .collect();
        for i in 0..19 {
            pods.push(Pod::new(&format!("b{i}"), 100 + i, 1, 0, 0));
        }
        let t = TypicalPods::from_pods(&pods);
        // covered before each addition must be < 95% of 39 = 37.05: 20 + 17 = 37 < 37.05, so
        // the 18th single is added (covered 38) and then the walk stops.
        assert_eq!(t.pods.len(), 1 + 18);
        assert_eq!(t.pods[0].gpu_milli, 500);
        // Ties in count go descending by key: the largest CPU single comes first.
        assert_eq!(t.pods[1].cpu_milli, 118);
        let sum: f64 = t.pods.iter().map(|p| p.probability).sum();
        assert!(close(sum, 1.0));
        assert!(close(t.pods[0].probability, 20.0 / 38.0));
    }
}
