//! Alibaba PAI 2020's machine table as a fleet (`alibaba/clusterdata`,
//! `cluster-trace-gpu-v2020`, `pai_machine_spec`; NSDI'22). Like every PAI table it has no
//! header line (published as `pai_machine_spec.header`), so it is recognised by its file name,
//! `pai_machine_spec*.csv`.
//!
//! | column | node field | rule |
//! |---|---|---|
//! | `machine` | `name` | required, unique |
//! | `gpu_type` | `model` | through the GPU-name table ([`crate::input::gpu_names`]: `V100` ⇒ `V100M16`, `MISC` ⇒ `K80`, ...); a name it lacks is an error listing every such name; ignored on a machine without GPUs |
//! | `cap_gpu` | `gpus` | whole cards |
//! | `cap_cpu` | `cpu_milli` | cores × 1000 |
//! | `cap_mem` | `memory_mib` | GB × 1024 |
//!
//! The fleet follows the trace-replay conventions of [`Fleet::new`](crate::model::fleet::Fleet::new),
//! as the openb node list does: every card 1000 milli at relative speed 1.0 (the trace's
//! durations were measured on these cards), in the GPU-share mode unless a run chooses another.

use crate::error::InputError;
use crate::input::csv_rows::CsvTable;
use crate::input::names::Unknowns;
use crate::input::Warnings;
use crate::model::fleet::NodeSpec;
use std::path::Path;

/// `pai_machine_spec.header`.
pub const COLUMNS: [&str; 5] = ["machine", "gpu_type", "cap_cpu", "cap_mem", "cap_gpu"];

/// Whether `path` is named like the machine table.
pub fn is_machine_spec(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("pai_machine_spec"))
}

/// Parses a PAI machine table; `path` names it in messages. A first line that is the published
/// header is skipped. Nothing to warn of: the table has no header of its own to carry extra
/// columns (a row of another width is an error).
pub fn parse_noting(
    path: &Path,
    source: impl std::io::Read,
    _warnings: &mut Warnings,
) -> Result<Vec<NodeSpec>, InputError> {
    let mut table = CsvTable::headless(path, &COLUMNS, source);
    let (name, model, cpu, mem, gpus) = (0, 1, 2, 3, 4);
    let mut nodes = Vec::new();
    let mut names = crate::input::csv_rows::NameSet::default();
    let mut unknown = Unknowns::default();
    table.for_each_row(|row| {
        if row.line() == 1 && (0..COLUMNS.len()).all(|i| row.text(i) == COLUMNS[i]) {
            return Ok(());
        }
        let node_name = row.unique_name(name, &mut names, "a machine name")?;
        let count: u32 = row.parse(gpus, "a GPU count as a non-negative integer")?;
        let cpu_milli = row.scaled(cpu, 1000.0, "cores as a non-negative number")?;
        let memory_mib = row.scaled(mem, 1024.0, "GB as a non-negative number")?;
        let mapped = crate::input::gpu_names::node_model(
            row,
            model,
            count,
            &mut unknown,
            "a GPU type for a machine with GPUs",
        )?;
        nodes.push(NodeSpec::new(
            node_name, cpu_milli, memory_mib, count, mapped,
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

    fn fixture() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../traces/fixtures/pai/pai_machine_spec.csv")
    }

    #[test]
    fn reads_the_fixture_as_a_fleet() {
        let f = Fleet::read(&fixture()).unwrap();
        assert_eq!(f.name, "pai_machine_spec");
        assert_eq!(f.nodes.len(), 7);
        // The README's example machine: T4, 96 cores, 512 GB, 2 GPUs.
        let t4 = &f.nodes[0];
        assert_eq!(t4.name, "82e5af3cd5c4af3f56c62c54");
        assert_eq!((t4.model.as_str(), t4.gpus), ("T4", 2));
        assert_eq!((t4.cpu_milli, t4.memory_mib), (96_000, 512 * 1024));
        let models: Vec<&str> = f.nodes.iter().map(|n| n.model.as_str()).collect();
        assert_eq!(
            models,
            ["T4", "P100", "T4", "K80", "V100M16", "V100M32", ""]
        );
        assert_eq!(f.gpu_count(), 2 + 2 + 2 + 8 + 8 + 8);
        assert_eq!(f.nodes[5].memory_mib, 384 * 1024);
        // Trace-replay conventions: speed 1.0 on every card.
        assert_eq!(f.devices["K80"].model.speed.get("default"), Some(&1.0));
    }

    #[test]
    fn reads_the_shipped_machine_table() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../traces/alibaba-pai-2020/pai_machine_spec.csv");
        let f = Fleet::read(&path).unwrap();
        assert_eq!(f.nodes.len(), 1897);
        // The upstream README: "over 6,500 GPUs (on ~1800 machines)".
        assert_eq!(f.gpu_count(), 798 * 2 + 497 * 2 + (280 + 135 + 104) * 8);
        let models: Vec<&str> = f.devices.keys().map(String::as_str).collect();
        assert_eq!(models, ["K80", "P100", "T4", "V100M16", "V100M32"]);
        // Its first rows are CPU machines: gpu_type "CPU", no GPUs.
        let first = &f.nodes[0];
        assert_eq!(
            (first.name.as_str(), first.gpus, first.model.as_str()),
            ("7399a758eb02bae1a3621236", 0, "")
        );
        assert_eq!((first.cpu_milli, first.memory_mib), (96_000, 512 * 1024));
    }

    #[test]
    fn malformed_copy_names_file_line_and_column() {
        let text = std::fs::read_to_string(fixture()).unwrap();
        let bad = text.replacen("V100,96,512,8", "V100,96,512,eight", 1);
        let e = parse_noting(
            Path::new("pai_machine_spec.csv"),
            bad.as_bytes(),
            &mut Vec::new(),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "pai_machine_spec.csv:5: column cap_gpu: expected a GPU count as a non-negative \
             integer, got \"eight\""
        );
        let bad = text.replacen("P100", "A100", 1).replacen("MISC", "K40m", 1);
        let e = parse_noting(Path::new("m.csv"), bad.as_bytes(), &mut Vec::new()).unwrap_err();
        let e = e.to_string();
        assert!(
            e.starts_with("m.csv:2: column gpu_type: expected a GPU name of the trace-name table"),
            "{e}"
        );
        assert!(
            e.ends_with("got \"A100\" (did you mean \"V100\"?); also unknown: \"K40m\" (line 4)"),
            "{e}"
        );
    }
}
