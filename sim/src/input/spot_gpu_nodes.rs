//! The Alibaba spot-GPU node list as a fleet (`alibaba/clusterdata`,
//! `cluster-trace-v2026-spot-gpu/node_info_df.csv`, shipped as
//! `traces/alibaba-spot-gpu-2026/node_info_df.csv`; GFS, ASPLOS'26).
//!
//! | column | node field | rule |
//! |---|---|---|
//! | `node_name` | `name` | required, unique |
//! | `gpu_model` | `model` | through the GPU-name table ([`crate::input::gpu_names`]); a name it lacks is an error listing every such name |
//! | `gpu_capacity_num` | `gpus` | whole cards |
//! | `cpu_num` | `cpu_milli` | vCPUs × 1000 |
//! | — | `memory_mib` | the file has no memory: [`MIB_PER_VCPU`] per vCPU, a nominal size that never binds, since the job file asks for no memory either |
//!
//! The fleet follows the trace-replay conventions of
//! [`Fleet::new`](crate::model::fleet::Fleet::new) (as the openb node list
//! does): every card 1000 milli at relative speed 1.0 (the trace's durations were measured
//! on these cards), in the GPU-share mode unless a run chooses another.

use crate::error::InputError;
use crate::input::csv_rows::{CsvTable, Extra};
use crate::input::names::Unknowns;
use crate::input::Warnings;
use crate::model::fleet::NodeSpec;
use std::path::Path;

/// The columns of the published node list.
pub const COLUMNS: [&str; 4] = ["gpu_model", "gpu_capacity_num", "cpu_num", "node_name"];

/// The header columns that identify the node list among fleet files.
pub const SIGNATURE: [&str; 2] = ["gpu_capacity_num", "node_name"];

/// Host memory given each node per vCPU, MiB (4 GiB: the ratio of Alibaba Cloud's general
/// GPU instance families). Nominal: the trace states no memory for nodes or jobs.
pub const MIB_PER_VCPU: u64 = 4 * 1024;

/// Parses a spot-GPU node list; `path` names it in messages and gives the fleet name.
pub fn parse_noting(
    path: &Path,
    source: impl std::io::Read,
    warnings: &mut Warnings,
) -> Result<Vec<NodeSpec>, InputError> {
    let mut table = CsvTable::new(path, source)?;
    table.check_columns("spot-gpu node list", &COLUMNS, Extra::Warn, warnings)?;
    let name = table.column("node_name")?;
    let model = table.column("gpu_model")?;
    let gpus = table.column("gpu_capacity_num")?;
    let cpu = table.column("cpu_num")?;
    let mut nodes = Vec::new();
    let mut names = crate::input::csv_rows::NameSet::default();
    let mut unknown = Unknowns::default();
    table.for_each_row(|row| {
        let node_name = row.unique_name(name, &mut names, "a node name")?;
        let count: u32 = row.parse(gpus, "a GPU count as a non-negative integer")?;
        let vcpus: u64 = row.parse(cpu, "vCPUs as a non-negative integer")?;
        let cpu_milli = vcpus
            .checked_mul(1000)
            .ok_or_else(|| row.error(cpu, "vCPUs as a non-negative integer up to 2^54"))?;
        let mapped = crate::input::gpu_names::node_model(
            row,
            model,
            count,
            &mut unknown,
            "a GPU model name for a node with GPUs",
        )?;
        nodes.push(NodeSpec::new(
            node_name,
            cpu_milli,
            vcpus.saturating_mul(MIB_PER_VCPU),
            count,
            mapped,
        ));
        Ok(())
    })?;
    crate::input::gpu_names::refuse_unmapped(&table, model, &unknown)?;
    Ok(nodes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fleet::Fleet;

    fn shipped() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../traces/alibaba-spot-gpu-2026/node_info_df.csv")
    }

    #[test]
    fn reads_the_shipped_node_list() {
        let f = Fleet::read(&shipped()).unwrap();
        assert_eq!(f.name, "node_info_df");
        assert_eq!(f.nodes.len(), 4278);
        let n3 = &f.nodes[3];
        assert_eq!((n3.name.as_str(), n3.model.as_str()), ("3", "A100-80"));
        assert_eq!((n3.gpus, n3.cpu_milli), (8, 128_000));
        assert_eq!(n3.memory_mib, 128 * MIB_PER_VCPU);
        let models: Vec<&str> = f.devices.keys().map(String::as_str).collect();
        assert_eq!(models, ["A10", "A100-80", "G1", "G2", "H100-80"]);
        // Upstream README: 6 card types (A800 shares A100-80's catalog model).
        let gpus: u64 = f.gpu_count();
        assert_eq!(
            gpus,
            2494 + 902 + 77 * 8 + 10 * 4 + 432 * 8 + 219 * 8 + 122 * 8 + 22 * 8
        );
    }

    #[test]
    fn malformed_copy_names_file_line_and_column() {
        let text = std::fs::read_to_string(shipped()).unwrap();
        let bad = text.replacen("A10,1,128,2\n", "A10,1,12B,2\n", 1);
        let mut w = Warnings::new();
        let e = parse_noting(Path::new("node_info_df.csv"), bad.as_bytes(), &mut w).unwrap_err();
        assert_eq!(
            e.to_string(),
            "node_info_df.csv:4: column cpu_num: expected vCPUs as a non-negative integer, got \
             \"12B\""
        );
        let bad = text.replacen("A10,1,128,2\n", "RTX-4090,1,128,2\n", 1);
        let e = parse_noting(Path::new("n.csv"), bad.as_bytes(), &mut w).unwrap_err();
        assert!(
            e.to_string().starts_with(
                "n.csv:4: column gpu_model: expected a GPU name of the trace-name table"
            ),
            "{e}"
        );
    }
}
