//! `worst-fit`: most GPU, then CPU, left after the pod lands (spread); O(1) per feasible node.
use flexsim::sim::model::cluster::{Cluster, NodeId};
use flexsim::sim::model::job::Pod;
use flexsim::sim::policy::{Greedy, NodeScorer};
use flexsim::{ParamSpec, PolicyInfo};

struct WorstFit {
    cpu_weight: i64,
}

impl NodeScorer for WorstFit {
    fn name(&self) -> &str {
        "worst-fit"
    }
    fn score(&mut self, cluster: &Cluster, node: NodeId, pod: &Pod) -> i64 {
        let n = cluster.node(node);
        let gpu_left = n.gpu_free_total() as i64 - pod.total_gpu_milli() as i64;
        gpu_left * self.cpu_weight + n.cpu_free_milli() as i64
    }
}

const PARAMS: &[ParamSpec] = &[ParamSpec {
    key: "cpu_weight",
    default: "1000",
    help: "CPU milli-cores worth one milli-GPU of headroom",
}];

fn main() -> std::process::ExitCode {
    let info = PolicyInfo {
        name: "worst-fit",
        description: "most GPU left after placement, then CPU (spread); out-of-tree example",
        params: PARAMS,
        make: |p| {
            Ok(Box::new(Greedy::new(WorstFit {
                cpu_weight: p.parse("cpu_weight", "an integer")?,
            })))
        },
    };
    flexsim::Cli::new().with_policy(info).run()
}
