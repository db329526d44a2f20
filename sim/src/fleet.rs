//! The fleet: the nodes of a cluster as a fleet file describes them, before any pod runs.
//!
//! The foundation reads the openb node list (`sn,cpu_milli,memory_mib,gpu,model`); every GPU
//! there is one card of 1000 milli whatever its model, and the model only matters for the
//! pods' `gpu_spec` constraints (fgd-protocol §2.1).

use crate::error::InputError;
use crate::trace::csv_rows::CsvTable;
use std::path::Path;

/// Compute capacity of one card, in milli-GPU (fgd-protocol §2.1: every GPU has 1000).
pub const GPU_MILLI: u32 = 1000;

/// One node as the fleet file describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeSpec {
    pub name: String,
    pub cpu_milli: u64,
    pub memory_mib: u64,
    /// Number of GPU cards, each of [`GPU_MILLI`].
    pub gpus: u32,
    /// GPU model label (e.g. `V100M16`, `G2`); empty for a CPU-only node.
    pub model: String,
}

/// A named list of nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fleet {
    /// File stem of the fleet file (`openb_node_list_gpu_node`).
    pub name: String,
    pub nodes: Vec<NodeSpec>,
}

impl Fleet {
    /// Total number of GPU cards.
    pub fn gpu_count(&self) -> u64 {
        self.nodes.iter().map(|n| u64::from(n.gpus)).sum()
    }

    /// Reads an openb node CSV from `path`.
    pub fn read_openb_csv(path: &Path) -> Result<Fleet, InputError> {
        let file = std::fs::File::open(path).map_err(|source| InputError::Io {
            file: path.to_owned(),
            source,
        })?;
        Fleet::parse_openb_csv(path, std::io::BufReader::new(file))
    }

    /// Parses an openb node CSV; `path` names the source in messages and gives the fleet name.
    pub fn parse_openb_csv(path: &Path, source: impl std::io::Read) -> Result<Fleet, InputError> {
        let mut table = CsvTable::new(path, source)?;
        let sn = table.column("sn")?;
        let cpu = table.column("cpu_milli")?;
        let mem = table.column("memory_mib")?;
        let gpu = table.column("gpu")?;
        let model = table.column("model")?;
        let mut nodes = Vec::new();
        let mut names = std::collections::BTreeSet::new();
        table.for_each_row(|row| {
            let name = row.text(sn).to_owned();
            if name.is_empty() {
                return Err(row.error(sn, "a node name"));
            }
            if !names.insert(name.clone()) {
                return Err(row.error(sn, "a node name not used on an earlier line"));
            }
            let node = NodeSpec {
                name,
                cpu_milli: row.parse(cpu, "milli-CPU as a non-negative integer")?,
                memory_mib: row.parse(mem, "memory in MiB as a non-negative integer")?,
                gpus: row.parse(gpu, "a GPU count as a non-negative integer")?,
                model: row.text(model).to_owned(),
            };
            if node.gpus > 0 && node.model.is_empty() {
                return Err(row.error(model, "a GPU model name for a node with GPUs"));
            }
            nodes.push(node);
            Ok(())
        })?;
        if nodes.is_empty() {
            return Err(InputError::Invalid {
                file: path.to_owned(),
                message: "the fleet has no nodes".to_owned(),
            });
        }
        Ok(Fleet {
            name: crate::trace::file_stem(path),
            nodes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_openb_nodes() {
        let csv = "sn,cpu_milli,memory_mib,gpu,model\nn0,64000,262144,2,P100\nn1,32000,1024,0,\n";
        let f = Fleet::parse_openb_csv(Path::new("x/nodes.csv"), csv.as_bytes()).unwrap();
        assert_eq!(f.name, "nodes");
        assert_eq!(f.nodes.len(), 2);
        assert_eq!(f.gpu_count(), 2);
        assert_eq!(f.nodes[0].model, "P100");
    }

    #[test]
    fn bad_field_names_file_line_and_column() {
        let csv = "sn,cpu_milli,memory_mib,gpu,model\nn0,64000,262144,2,P100\nn1,lots,1024,0,\n";
        let e = Fleet::parse_openb_csv(Path::new("nodes.csv"), csv.as_bytes()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "nodes.csv:3: column cpu_milli: expected milli-CPU as a non-negative integer, got \"lots\""
        );
    }

    #[test]
    fn missing_column_is_named() {
        let csv = "sn,cpu_milli,gpu,model\nn0,1,2,P100\n";
        let e = Fleet::parse_openb_csv(Path::new("nodes.csv"), csv.as_bytes()).unwrap_err();
        assert!(e.to_string().contains("missing column memory_mib"), "{e}");
    }
}
