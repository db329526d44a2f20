//! SenseTime's Helios job logs (`S-Lab-System-Group/HeliosData`, `data/{Earth,Saturn,Uranus,
//! Venus}/cluster_log.csv`; SC'21, Hu et al., "Characterization and Prediction of Deep Learning
//! Workloads in Large-Scale GPU Datacenters" — cite it when used; CC BY 4.0).
//!
//! One row per Slurm job: `job_id,user,vc,gpu_num,cpu_num,node_num,state,submit_time,
//! start_time,end_time,duration,queue` (the repository's README, "Schema"). `job_id`, `vc`,
//! `gpu_num`, `submit_time`, `start_time` and `end_time` identify the format and are required;
//! `cpu_num` and `node_num` may be absent (as in logs converted to this layout from other
//! clusters, e.g. HeliosArtifact's Philly comparison): then CPU and memory are the per-GPU
//! defaults of [`jobs`] and no job has a gang shape.
//!
//! ## Mapping to [`Pod`](crate::model::job::Pod)
//!
//! | Helios column | pod field | rule |
//! |---|---|---|
//! | `job_id` | `name` | required, unique |
//! | `gpu_num` | `num_gpu`, `gpu_milli` | whole GPUs, 1000 milli each; 0 ⇒ CPU-only |
//! | `cpu_num` | `cpu_milli` | cores × 1000 |
//! | — | `memory_mib` | not in the trace: [`jobs::MEMORY_MIB_PER_CORE`] (4 GiB) per requested core |
//! | `node_num` | `gang` | ≥ 2 nodes and `gpu_num` divisible by it ⇒ a gang of `node_num` × `gpu_num / node_num`; else none |
//! | `vc` | `app` | the virtual cluster (no density limit: `max_per_node` stays unset) |
//! | `submit_time` | `arrival_ms` | `YYYY-MM-DD HH:MM:SS`, taken as written (no zone); time 0 = the earliest submission in the file |
//! | `start_time`, `end_time` | `work_ms` | `end − start`: how long the job held its GPUs, as the trace's GPUs ran it |
//!
//! A job with no start time (cancelled while queued), no end time, start before submission or end
//! before start (clock glitches), or a zero run time cannot be replayed: it is skipped, and the
//! skipped jobs are counted by reason in one warning. `user`, `state` (every terminal state
//! held its GPUs for the time between start and end, so all are replayed alike), `duration` and
//! `queue` (derived from the times) are not read. Class training, priority 0, demand drawn.

use crate::error::InputError;
use crate::input::csv_rows::{CsvTable, Extra, NameSet, Row};
use crate::input::trace::jobs::{self, Skipped, Span};
use crate::input::Warnings;
use crate::model::catalog::CLASS_INFERENCE;
use crate::model::job::{Text, Workload};
use std::path::Path;

/// The columns of the published `cluster_log.csv` files.
pub const COLUMNS: [&str; 12] = [
    "job_id",
    "user",
    "vc",
    "gpu_num",
    "cpu_num",
    "node_num",
    "state",
    "submit_time",
    "start_time",
    "end_time",
    "duration",
    "queue",
];

/// Reads a Helios `cluster_log.csv` from `path`.
pub fn read(path: &Path) -> Result<Workload, InputError> {
    parse(path, crate::input::csv_rows::open(path)?)
}

/// Parses a Helios job log; `path` names the source in messages and gives the trace name.
pub fn parse(path: &Path, source: impl std::io::Read) -> Result<Workload, InputError> {
    parse_noting(path, source, &mut Warnings::new())
}

/// [`parse`], pushing onto `warnings` the columns the format does not have and the jobs skipped.
pub fn parse_noting(
    path: &Path,
    source: impl std::io::Read,
    warnings: &mut Warnings,
) -> Result<Workload, InputError> {
    parse_slurm(path, source, warnings, &HELIOS)
}

/// How a Slurm-style job log (Helios, Acme) lays out what the shared reader needs.
pub(crate) struct Layout {
    pub format: &'static str,
    pub columns: &'static [&'static str],
    /// The column that becomes `app` (Helios `vc`).
    pub app: Option<&'static str>,
    /// The column of the workload type whose `Evaluation` value makes an inference job (Acme
    /// `type`).
    pub kind: Option<&'static str>,
    /// The column of host memory per pod, GB (Acme Kalos `mem_per_pod_GB`), if present.
    pub memory_per_pod_gb: Option<&'static str>,
}

const HELIOS: Layout = Layout {
    format: "helios",
    columns: &COLUMNS,
    app: Some("vc"),
    kind: None,
    memory_per_pod_gb: None,
};

/// The reader of Helios and Acme: the module doc's rules, with the [`Layout`]'s extra columns.
pub(crate) fn parse_slurm(
    path: &Path,
    source: impl std::io::Read,
    warnings: &mut Warnings,
    layout: &Layout,
) -> Result<Workload, InputError> {
    let mut table = CsvTable::new(path, source)?;
    table.check_columns(layout.format, layout.columns, Extra::Warn, warnings)?;
    let id = table.column("job_id")?;
    let gpus = table.column("gpu_num")?;
    let cpus = table.optional_column("cpu_num");
    let nodes = table.optional_column("node_num");
    let submit = table.column("submit_time")?;
    let start = table.column("start_time")?;
    let end = table.column("end_time")?;
    let app = layout.app.map(|c| table.column(c)).transpose()?;
    let kind = layout.kind.and_then(|c| table.optional_column(c));
    let memory = layout
        .memory_per_pod_gb
        .and_then(|c| table.optional_column(c));
    let mut pods = Vec::new();
    let mut requests = crate::model::job::RequestSet::default();
    let mut spans = Vec::new();
    let mut names = NameSet::default();
    let mut skipped = Skipped::default();
    table.for_each_row(|row| {
        let name = row.unique_name(id, &mut names, "a job id")?;
        let num_gpu = jobs::count(row, gpus, COUNT)?;
        let cpu_milli = match cpus {
            Some(c) => Some(u64::from(jobs::count(row, c, COUNT)?) * 1000),
            None => None,
        };
        let num_nodes = match nodes {
            Some(c) => jobs::count(row, c, COUNT)?,
            None => 1,
        };
        let memory_mib = memory
            .map(|c| memory_mib(row, c, num_nodes))
            .transpose()?
            .flatten();
        let submit_s =
            jobs::calendar_s(row, submit)?.ok_or_else(|| row.error(submit, jobs::CALENDAR))?;
        let (start_s, end_s) = (jobs::calendar_s(row, start)?, jobs::calendar_s(row, end)?);
        let span = match (start_s, end_s) {
            (Some(start_s), Some(end_s)) if submit_s <= start_s && start_s < end_s => Span {
                submit_s,
                start_s,
                end_s,
            },
            (start_s, end_s) => {
                skipped.note(match (start_s, end_s) {
                    (None, _) => "never started",
                    (_, None) => "with no end time",
                    (Some(s), _) if s < submit_s => "started before submission",
                    (Some(s), Some(e)) if e < s => "ended before starting",
                    _ => "ran for 0 s",
                });
                return Ok(());
            }
        };
        let work_ms = u64::try_from(span.end_s - span.start_s).unwrap_or(0) * 1000;
        if work_ms > jobs::MAX_MS {
            return Err(row.error(end, "an end time within 2^53 ms of the start"));
        }
        let mut pod = jobs::training_job(&name, num_gpu, cpu_milli, memory_mib);
        pod.work_ms = Some(work_ms);
        pod.gang = jobs::gang(num_nodes, num_gpu);
        pod.app = app
            .map(|c| Text::from(row.text(c)))
            .filter(|a| !a.is_empty());
        if kind.is_some_and(|c| row.text(c) == "Evaluation") {
            pod.class = CLASS_INFERENCE.into();
        }
        pods.push(requests.share(pod));
        spans.push(span);
        Ok(())
    })?;
    skipped.finish(path, pods.len(), warnings)?;
    jobs::rebase(&mut pods, &spans);
    Ok(Workload {
        name: crate::input::file_stem(path),
        pods,
    })
}

const COUNT: &str = "a non-negative integer";
const GB: &str = "memory per pod in GB as a non-negative number, or empty";

/// Host memory of the whole job from a per-pod GB column: one pod per node. Empty ⇒ `None`.
fn memory_mib(row: &Row<'_>, col: usize, num_nodes: u32) -> Result<Option<u64>, InputError> {
    if row.text(col).is_empty() {
        return Ok(None);
    }
    let gb: f64 = row.parse(col, GB)?;
    let mib = (gb * 1024.0).round();
    if !(0.0..=1e12).contains(&mib) {
        return Err(row.error(col, GB));
    }
    (mib as u64)
        .checked_mul(u64::from(num_nodes.max(1)))
        .map(Some)
        .ok_or_else(|| row.error(col, "memory per pod that, times node_num, fits in 64 bits"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../traces/fixtures/helios")
            .join(name)
    }

    #[test]
    fn parses_the_fixture() {
        let path = fixture("cluster_log.csv");
        let mut warnings = Warnings::new();
        let w = crate::input::trace::TraceFormat::Helios
            .read_noting(&path, &mut warnings)
            .unwrap();
        let got: Vec<_> = w
            .pods
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.num_gpu,
                    p.cpu_milli,
                    p.arrival_ms,
                    p.work_ms,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("1425511", 1, 1000, 0, Some(36_848_000)),
                ("1425512", 4, 16_000, 26_000, Some(249_000)),
                ("1425513", 1, 1000, 27_000, Some(675_233_000)),
                ("1425515", 16, 64_000, 119_000, Some(7_200_000)),
                ("1425516", 0, 4000, 179_000, Some(60_000)),
            ]
        );
        let gang = w.pods[3].gang.unwrap();
        assert_eq!((gang.num_nodes, gang.gpus_per_node), (2, 8));
        assert!(w
            .pods
            .iter()
            .filter(|p| p.name != "1425515")
            .all(|p| p.gang.is_none()));
        assert_eq!(w.pods[1].memory_mib, 16 * 4096);
        assert_eq!(w.pods[1].app.as_deref(), Some("vchbv"));
        assert_eq!(
            warnings,
            [format!(
                "{}: skipped 2 of 7 jobs that cannot be replayed: 1 never started, 1 ran for 0 s",
                path.display()
            )]
        );
    }

    #[test]
    fn cpu_and_node_counts_may_be_absent() {
        let text = "job_id,user,vc,gpu_num,state,submit_time,start_time,end_time\n\
                    7,u1,vc1,16,COMPLETED,2017-10-03 00:00:00,2017-10-03 00:01:00,2017-10-03 01:01:00\n";
        assert_eq!(
            crate::input::trace::detect_source(Path::new("p.csv"), text.as_bytes()).unwrap(),
            crate::input::trace::TraceFormat::Helios
        );
        let w = parse(Path::new("p.csv"), text.as_bytes()).unwrap();
        let p = &w.pods[0];
        assert_eq!(
            (p.cpu_milli, p.memory_mib, p.gang),
            (160_000, 655_360, None)
        );
        assert_eq!((p.arrival_ms, p.work_ms), (0, Some(3_600_000)));
    }

    #[test]
    fn malformed_copy_names_file_line_and_column() {
        let path = fixture("cluster_log_bad.csv");
        let e = read(&path).unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "{}:3: column start_time: expected {}, got \"2020-06-09 18:41\"",
                path.display(),
                jobs::CALENDAR
            )
        );
    }
}
