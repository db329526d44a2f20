//! Shanghai AI Lab's Acme job traces, the LLM-era clusters Seren and Kalos
//! (`InternLM/AcmeTrace`, `data/job_trace/trace_seren.csv`, `trace_kalos.csv`; NSDI'24, Hu et
//! al., "Characterization of Large Language Model Development in the Datacenter" — cite it when
//! used; CC BY 4.0).
//!
//! Columns as the repository's README gives them ("Job Trace", "Schema"): Seren `job_id,user,
//! node_num,gpu_num,cpu_num,type,state,submit_time,start_time,end_time,duration,queue,gpu_time`;
//! Kalos adds `mem_per_pod_GB,shared_mem_per_pod,fail_time,stop_time`. `job_id`, `type`,
//! `gpu_num`, `node_num`, `submit_time`, `start_time` and `end_time` identify the format (Helios
//! has `vc` where Acme has `type`). Times carry a UTC offset (`2023-03-01 00:18:22+08:00`).
//!
//! ## Mapping to [`Pod`](crate::model::job::Pod)
//!
//! The rules of the Helios reader ([`super::helios`]), with these columns:
//!
//! | Acme column | pod field | rule |
//! |---|---|---|
//! | `job_id` | `name` | required, unique |
//! | `gpu_num` | `num_gpu`, `gpu_milli` | whole GPUs, 1000 milli each; 0 ⇒ CPU-only |
//! | `cpu_num` | `cpu_milli` | cores × 1000 |
//! | `mem_per_pod_GB` (Kalos) | `memory_mib` | GB × 1024 per pod, one pod per node (× `node_num`); absent or empty (Seren) ⇒ 4 GiB per requested core |
//! | `node_num` | `gang` | ≥ 2 nodes and `gpu_num` divisible by it ⇒ a gang of `node_num` × `gpu_num / node_num` |
//! | `type` | `class` | `Evaluation` ⇒ `inference`; every other type (`Pretrain`, `SFT`, `MLLM`, `Debug`, `Other`) ⇒ `training` |
//! | `submit_time` | `arrival_ms` | time 0 = the earliest submission in the file |
//! | `start_time`, `end_time` | `work_ms` | `end − start` on the trace's GPUs |
//!
//! Jobs with no start or end time, times out of order or a zero run time are skipped and
//! counted in one warning. `user`, `state`, `shared_mem_per_pod`, `fail_time`, `stop_time`
//! (both at or before `end_time`), `duration`, `queue` and `gpu_time` (derived) are not read.
//! Priority 0, no app, demand drawn.

use crate::error::InputError;
use crate::input::trace::helios::{parse_slurm, Layout};
use crate::input::Warnings;
use crate::model::job::Workload;
use std::path::Path;

/// The columns of the published traces (Kalos's, which include Seren's).
pub const COLUMNS: [&str; 17] = [
    "job_id",
    "user",
    "node_num",
    "gpu_num",
    "cpu_num",
    "mem_per_pod_GB",
    "shared_mem_per_pod",
    "type",
    "state",
    "submit_time",
    "start_time",
    "end_time",
    "fail_time",
    "stop_time",
    "duration",
    "queue",
    "gpu_time",
];

const ACME: Layout = Layout {
    format: "acme",
    columns: &COLUMNS,
    app: None,
    kind: Some("type"),
    memory_per_pod_gb: Some("mem_per_pod_GB"),
};

/// Reads an Acme job trace from `path`.
pub fn read(path: &Path) -> Result<Workload, InputError> {
    parse(path, crate::input::csv_rows::open(path)?)
}

/// Parses an Acme job trace; `path` names the source in messages and gives the trace name.
pub fn parse(path: &Path, source: impl std::io::Read) -> Result<Workload, InputError> {
    parse_noting(path, source, &mut Warnings::new())
}

/// [`parse`], pushing onto `warnings` the columns the format does not have and the jobs skipped.
pub fn parse_noting(
    path: &Path,
    source: impl std::io::Read,
    warnings: &mut Warnings,
) -> Result<Workload, InputError> {
    parse_slurm(path, source, warnings, &ACME)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::trace::TraceFormat;

    fn fixture(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../traces/fixtures/acme")
            .join(name)
    }

    #[test]
    fn parses_the_seren_fixture() {
        let path = fixture("trace_seren.csv");
        assert_eq!(
            crate::input::trace::detect_file(&path).unwrap(),
            TraceFormat::Acme
        );
        let mut warnings = Warnings::new();
        let w = read_noting(&path, &mut warnings);
        let got: Vec<_> = w
            .pods
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.num_gpu,
                    p.arrival_ms,
                    p.work_ms,
                    p.class.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("5778432", 8, 0, Some(117_000), "training"),
                ("5778469", 8, 336_000, Some(2_693_000), "training"),
                ("5778470", 256, 400_000, Some(36_000_000), "training"),
                ("5778472", 1, 460_000, Some(600_000), "inference"),
            ]
        );
        let gang = w.pods[2].gang.unwrap();
        assert_eq!((gang.num_nodes, gang.gpus_per_node), (32, 8));
        assert_eq!(
            (w.pods[0].cpu_milli, w.pods[0].memory_mib),
            (128_000, 128 * 4096)
        );
        assert_eq!(
            warnings,
            [format!(
                "{}: skipped 1 of 5 jobs that cannot be replayed: 1 never started",
                path.display()
            )]
        );
    }

    #[test]
    fn parses_the_kalos_fixture() {
        let path = fixture("trace_kalos.csv");
        assert_eq!(
            crate::input::trace::detect_file(&path).unwrap(),
            TraceFormat::Acme
        );
        let w = read_noting(&path, &mut Warnings::new());
        let got: Vec<_> = w
            .pods
            .iter()
            .map(|p| {
                (
                    p.num_gpu,
                    p.arrival_ms,
                    p.work_ms,
                    p.memory_mib,
                    p.gang.map(|g| g.num_nodes),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (64, 0, Some(8_000), 8 * 1000 * 1024, Some(8)),
                (64, 1_664_000, Some(70_000), 8 * 1000 * 1024, Some(8)),
                (8, 1_700_000, Some(3_600_000), 180 * 1024, None),
            ]
        );
    }

    fn read_noting(path: &Path, warnings: &mut Warnings) -> Workload {
        TraceFormat::Acme.read_noting(path, warnings).unwrap()
    }

    #[test]
    fn malformed_copy_names_file_line_and_column() {
        let path = fixture("trace_seren_bad.csv");
        let e = read(&path).unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "{}:3: column gpu_num: expected a non-negative integer, got \"8x\"",
                path.display()
            )
        );
    }
}
