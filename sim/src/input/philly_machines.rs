//! Microsoft Philly's machine list (`msr-fiddle/philly-traces`, `trace-data.tar.gz`:
//! `cluster_machine_list`; ATC'19, Jeon et al. — cite it when used; CC BY 4.0) as a
//! [`Fleet`]: the cluster the Philly job log ([`crate::input::trace::philly`]) ran on.
//!
//! A CSV of `machineId,number of GPUs,single GPU mem` (the repository's README: "Lists the
//! number of GPUs and per-GPU memory available on each server"; example row `m31,8, 24GB`).
//! [`Fleet::read`] takes a file as this format when its header starts with `machineId` or its
//! name starts with `cluster_machine_list`.
//!
//! ## Mapping to [`NodeSpec`]
//!
//! | column | node field | rule |
//! |---|---|---|
//! | `machineId` | `name` | required, unique |
//! | `number of GPUs` | `gpus` | non-negative integer; 0 ⇒ CPU-only node |
//! | `single GPU mem` | `model` | by the table below; any other size is an error listing every unmapped one |
//! | — | `cpu_milli`, `memory_mib` | not in the list: [`jobs::CPU_MILLI_PER_GPU`] and [`jobs::MEMORY_MIB_PER_GPU`] per GPU (a CPU-only node: one GPU's worth), the same defaults the job reader gives each job, so GPUs bind first as they did in Philly |
//!
//! The list names no GPU model, only its memory. The ATC'19 paper describes GPUs of two memory
//! sizes; the catalog entries they map onto:
//!
//! | `single GPU mem` | device model | catalog entry |
//! |---|---|---|
//! | `12GB` | `K80` | the `K80` preset (12 GB) |
//! | `24GB` | `P40` | not a preset: the catalog's generic card with 24 GiB of memory (the Tesla P40, the 24 GB part of that generation) |
//!
//! As with the openb node list ([`Fleet::new`]), every card runs at relative speed 1.0 for
//! every job class — the job log's run times were measured on these cards, and the job reader
//! takes them as the work — in the openb GPU-share mode unless `--slicing` says otherwise.

use crate::error::InputError;
use crate::input::csv_rows::{CsvTable, Extra, NameSet};
use crate::input::names::Unknowns;
use crate::input::trace::jobs;
use crate::input::Warnings;
use crate::model::fleet::{Fleet, NodeSpec};
use std::path::Path;

/// The columns of the published machine list.
pub const COLUMNS: [&str; 3] = ["machineId", "number of GPUs", "single GPU mem"];

/// GPU memory as the list writes it → the device model it maps onto, and its memory in MiB.
pub const MODELS: [(&str, &str, u64); 2] = [("12GB", "K80", 12 * 1024), ("24GB", "P40", 24 * 1024)];

/// Whether the file at `path` is a Philly machine list: its name, or its header's first column.
pub fn is_machine_list(path: &Path) -> bool {
    if crate::input::file_stem(path).starts_with("cluster_machine_list") {
        return true;
    }
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    let mut line = String::new();
    use std::io::{BufRead, Read};
    let _ = std::io::BufReader::new(file)
        .take(4096)
        .read_line(&mut line);
    line.trim_start_matches('\u{feff}')
        .trim_start()
        .starts_with("machineId")
}

/// Reads a Philly machine list from `path`.
pub fn read(path: &Path) -> Result<Fleet, InputError> {
    parse_noting(
        path,
        crate::input::csv_rows::open(path)?,
        &mut Warnings::new(),
    )
}

/// Parses a Philly machine list, pushing a warning for columns it does not have onto
/// `warnings`; `path` names the source in messages and gives the fleet name.
pub fn parse_noting(
    path: &Path,
    source: impl std::io::Read,
    warnings: &mut Warnings,
) -> Result<Fleet, InputError> {
    let mut table = CsvTable::new(path, source)?;
    table.check_columns("philly machine list", &COLUMNS, Extra::Warn, warnings)?;
    let id = table.column("machineId")?;
    let gpus = table.column("number of GPUs")?;
    let memory = table.column("single GPU mem")?;
    let mut nodes = Vec::new();
    let mut names = NameSet::default();
    let mut unknown = Unknowns::default();
    table.for_each_row(|row| {
        let name = row.unique_name(id, &mut names, "a machine id")?;
        let count = jobs::count(row, gpus, "a GPU count as a non-negative integer")?;
        let text = row.text(memory);
        let model = match MODELS.iter().find(|(m, ..)| *m == text) {
            Some((_, model, _)) => *model,
            None if count == 0 && text.is_empty() => "",
            None => {
                unknown.note(text, row.line());
                ""
            }
        };
        let per = u64::from(count.max(1));
        nodes.push(NodeSpec::new(
            name,
            jobs::CPU_MILLI_PER_GPU * per,
            jobs::MEMORY_MIB_PER_GPU * per,
            count,
            model.to_owned(),
        ));
        Ok(())
    })?;
    let known: Vec<&str> = MODELS.iter().map(|(m, ..)| *m).collect();
    let expected = format!("a GPU memory size the mapping knows ({})", known.join(", "));
    table.unknown_values(memory, &unknown, &expected, &known)?;
    if nodes.is_empty() {
        return Err(InputError::Invalid {
            file: path.to_owned(),
            message: "the machine list has no machines".to_owned(),
        });
    }
    let mut fleet = Fleet::new(crate::input::file_stem(path), nodes);
    for (_, model, memory_mib) in MODELS {
        if let Some(d) = fleet.devices.get_mut(model) {
            d.model.memory_mib = memory_mib;
        }
    }
    Ok(fleet)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../traces/fixtures/philly")
            .join(name)
    }

    #[test]
    fn parses_the_fixture_as_a_fleet() {
        let path = fixture("cluster_machine_list");
        assert!(is_machine_list(&path));
        let fleet = Fleet::read(&path).unwrap();
        let got: Vec<_> = fleet
            .nodes
            .iter()
            .map(|n| (n.name.as_str(), n.gpus, n.model.as_str(), n.cpu_milli))
            .collect();
        assert_eq!(
            got,
            [
                ("m31", 8, "P40", 80_000),
                ("m32", 8, "P40", 80_000),
                ("m47", 8, "K80", 80_000),
                ("m12", 4, "K80", 40_000),
                ("m101", 2, "P40", 20_000),
            ]
        );
        assert_eq!(fleet.gpu_count(), 30);
        assert_eq!(fleet.devices["K80"].model.memory_mib, 12 * 1024);
        assert_eq!(fleet.devices["P40"].model.memory_mib, 24 * 1024);
        assert_eq!(fleet.devices["P40"].model.speed.get("default"), Some(&1.0));
    }

    #[test]
    fn malformed_copy_names_file_line_and_column() {
        let path = fixture("cluster_machine_list_bad");
        let e = Fleet::read(&path).unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "{}:4: column number of GPUs: expected a GPU count as a non-negative integer, \
                 got \"eight\"",
                path.display()
            )
        );
        let text = "machineId,number of GPUs,single GPU mem\nm1,8,16GB\nm2,8,24GB\nm3,2,32GB\n";
        let e = parse_noting(Path::new("m.csv"), text.as_bytes(), &mut Warnings::new())
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "m.csv:2: column single GPU mem: expected a GPU memory size the mapping knows (12GB, \
             24GB), got \"16GB\" (did you mean \"12GB\"?); also unknown: \"32GB\" (line 4; did you mean \"12GB\"?)"
        );
    }
}
