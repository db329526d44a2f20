//! The nodes of a Kubernetes snapshot (`kubectl get nodes,pods -A -o json`) as a fleet; the
//! snapshot's pods are a trace ([`crate::input::trace::k8s`], whose module doc has the device
//! resources and their sources).
//!
//! | node | fleet field | rule |
//! |---|---|---|
//! | `metadata.name` | `name` | required |
//! | `status.allocatable` (else `capacity`) `cpu` | `cpu_milli` | milli-cores, rounded down |
//! | `status.allocatable` (else `capacity`) `memory` | `memory_mib` | MiB, rounded down |
//! | label `nvidia.com/gpu.count`, else `nvidia.com/gpu` | `gpus` | physical cards: GPU feature discovery's count wins, because HAMi, Volcano and Flex:ai advertise vGPUs (cards × split count) under their resources; a node advertising only vGPU resources without the label is an error |
//! | label `nvidia.com/gpu.product` | `model` | through the GPU-name table ([`crate::input::gpu_names`]); a GPU node without the label, or with a name the table lacks, is an error listing every such node |
//! | `huawei.com/Ascend910*`, `huawei.com/Ascend310P*` | `gpus`, `model` | whole NPUs of `Ascend910B3` / `Ascend310P3`, the catalog's 910 and 310P |
//! | `metadata.labels` | `labels` | kept as they are |
//! | `spec.unschedulable` | — | cordoned nodes are left out, and counted in a warning |
//!
//! Taints are not read (flexsim has no tolerations). The fleet follows the trace conventions of
//! [`Fleet::new`](crate::model::fleet::Fleet::new): every card at relative speed 1.0, in the
//! GPU-share mode unless a run or a policy chooses another.

use crate::error::InputError;
use crate::input::Warnings;
use crate::model::fleet::NodeSpec;
use std::path::Path;

/// The schedulable nodes of the snapshot `source`; `path` names it in messages.
pub fn parse_noting(
    path: &Path,
    source: impl std::io::Read,
    warnings: &mut Warnings,
) -> Result<Vec<NodeSpec>, InputError> {
    crate::input::trace::k8s::nodes_noting(path, source, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fleet::Fleet;

    fn fixture() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../traces/fixtures/k8s/snapshot.json")
    }

    #[test]
    fn reads_the_fixture_nodes_as_a_fleet() {
        let mut warnings = Warnings::new();
        let f = Fleet::read_noting(&fixture(), &mut warnings).unwrap();
        assert_eq!(f.name, "snapshot");
        let shape: Vec<(&str, u32, &str, u64, u64)> = f
            .nodes
            .iter()
            .map(|n| {
                (
                    n.name.as_str(),
                    n.gpus,
                    n.model.as_str(),
                    n.cpu_milli,
                    n.memory_mib,
                )
            })
            .collect();
        assert_eq!(
            shape,
            [
                ("gpu-a100-0", 8, "A100-80", 127_500, 1_055_827_968 / 1024),
                // HAMi advertises 40 vGPUs; GPU feature discovery counts 4 cards.
                ("gpu-t4-0", 4, "T4", 64_000, 263_921_712 / 1024),
                ("npu-910b-0", 8, "Ascend910B3", 192_000, 1584 * 1024),
            ]
        );
        assert_eq!(f.nodes[0].labels["topology.kubernetes.io/zone"], "zone-a");
        let file = fixture().display().to_string();
        assert_eq!(
            warnings,
            [
                format!("{file}: skipping 1 unschedulable (cordoned) nodes"),
                format!("{file}: ignoring resources flexsim does not model: rdma/hca"),
            ]
        );
    }

    #[test]
    fn nodes_without_a_known_product_are_listed_together() {
        let text = std::fs::read_to_string(fixture()).unwrap();
        let bad = text
            .replacen("\"NVIDIA-A100-SXM4-80GB\"", "\"NVIDIA-B200\"", 1)
            .replacen(
                "\"nvidia.com/gpu.product\": \"Tesla-T4\"",
                "\"x\": \"y\"",
                1,
            );
        let e = parse_noting(Path::new("s.json"), bad.as_bytes(), &mut Vec::new())
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(
                "s.json: 2 nvidia.com/gpu.product label values map onto no catalog device \
                 model: \"NVIDIA-B200\" (node gpu-a100-0) (did you mean \"NVIDIA-H200\"?), \"\" (node \
                 gpu-t4-0); expected"
            ),
            "{e}"
        );
    }

    #[test]
    fn malformed_copy_names_file_line_and_column() {
        let text = std::fs::read_to_string(fixture()).unwrap();
        let bad = text.replacen("\"cpu\": \"64\"", "\"cpu\": \"64 cores\"", 1);
        let line = bad.lines().position(|l| l.contains("64 cores")).unwrap() + 1;
        let e = parse_noting(Path::new("s.json"), bad.as_bytes(), &mut Vec::new())
            .unwrap_err()
            .to_string();
        assert!(e.starts_with(&format!("s.json:{line}: column ")), "{e}");
        assert!(e.ends_with("got \"64 cores\""), "{e}");
    }
}
