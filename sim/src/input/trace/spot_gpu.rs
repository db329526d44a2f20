//! The Alibaba spot-GPU job trace (`alibaba/clusterdata`, `cluster-trace-v2026-spot-gpu/
//! job_info_df.csv`; GFS, Duan et al., ASPLOS'26 — cite it when used). Its node list,
//! `node_info_df.csv`, is a fleet ([`crate::input::spot_gpu_nodes`], shipped under
//! `traces/alibaba-spot-gpu-2026/`).
//!
//! AI jobs of two kinds on 4,278 nodes of six GPU models: high-priority (HP) jobs with strict
//! SLOs, and Spot jobs that run on capacity HP jobs leave idle and are preempted when HP jobs
//! need it back.
//!
//! ## Mapping to [`Pod`]
//!
//! | column | pod field | rule |
//! |---|---|---|
//! | `job_name` | `name` | required, unique |
//! | `worker_num` | `gang` | ≥ 1; more than one worker with GPUs ⇒ a gang of `worker_num` parts on distinct nodes |
//! | `gpu_request` | `num_gpu`, `gpu_milli` | GPUs of *each* worker ([`gpu_per_instance`]); 0 ⇒ CPU-only |
//! | `cpu_request` | `cpu_milli` | vCPUs of each worker × 1000 × `worker_num` (the job's total; each part gets its share) |
//! | `gpu_model` | `gpu_spec` | through the GPU-name table ([`crate::input::gpu_names`]); empty ⇒ any model; a name the table lacks is an error listing every such name |
//! | `submit_time` | `arrival_ms` | seconds from the first submission → ms |
//! | `duration` | `work_ms` | seconds → ms; empty ⇒ no work: replay skips the job, and the reader warns how many |
//! | `job_type` | `priority`, `qos`, `latency_sensitive` | `HP` ⇒ priority 3, latency-sensitive; `Spot` ⇒ priority 0 (any other value is an error) |
//! | `organization` | — | not read (flexsim has no per-tenant quotas) |
//!
//! **Why per worker.** The README calls `gpu_request` "Number of GPU requested by the job" and
//! `worker_num` "Number of instances", but its example rows have jobs of 16 and 94 workers
//! asking `gpu_request = 1`: a 94-worker job cannot share one GPU, so the request is read as
//! each worker's (the GFS paper's jobs are gangs of identical workers).
//!
//! **Gangs.** flexsim places a gang's parts on distinct nodes ([`crate::model::gang`]); a
//! Kubernetes scheduler may put two workers of a job on one node. Where that matters (1-GPU
//! workers on 8-GPU nodes), the replay spreads such jobs more than the cluster did.
//!
//! **Priority and preemption.** HP gets openb's LS level (3) and Spot BE's (0), so that a
//! preempting policy (`hi-priority`: a job may preempt strictly lower priorities) lets HP jobs
//! take back GPUs from Spot jobs and never the reverse — the trace's contract. `qos` keeps the
//! trace's word (`HP`, `Spot`), so fairness reports group by it. HP jobs count in SLO
//! attainment.
//!
//! **What the trace lacks.** Memory: jobs ask for none (`memory_mib = 0`), and the node list
//! has none either ([`crate::input::spot_gpu_nodes`]). Device memory: the card's share (whole
//! cards). Demand (busy share): drawn by the run's demand distribution. Class: `default`.
//! The duration was measured on the requested model; fleets read from the node list run every
//! card at speed 1.0, as openb's do, so a job replays in its traced time.

use crate::error::InputError;
use crate::input::csv_rows::{CsvTable, Extra, Row};
use crate::input::names::Unknowns;
use crate::input::Warnings;
use crate::model::job::{GangShape, GpuSpec, Pod, Workload};
use std::path::Path;

/// The columns of the published job file (README, "Dataset Details").
pub const COLUMNS: [&str; 9] = [
    "job_name",
    "organization",
    "gpu_model",
    "cpu_request",
    "gpu_request",
    "worker_num",
    "submit_time",
    "duration",
    "job_type",
];

/// The job types of the trace and the priority each gets.
pub const JOB_TYPES: [(&str, i32); 2] = [("HP", 3), ("Spot", 0)];

/// Reads a spot-GPU job file from `path`.
pub fn read(path: &Path) -> Result<Workload, InputError> {
    parse(path, crate::input::csv_rows::open(path)?)
}

/// Parses a spot-GPU job file; `path` names it in messages and gives the trace name.
pub fn parse(path: &Path, source: impl std::io::Read) -> Result<Workload, InputError> {
    parse_noting(path, source, &mut Warnings::new())
}

/// [`parse`], pushing onto `warnings` the columns the format does not have and how many jobs
/// replay will skip (no duration).
pub fn parse_noting(
    path: &Path,
    source: impl std::io::Read,
    warnings: &mut Warnings,
) -> Result<Workload, InputError> {
    let mut table = CsvTable::new(path, source)?;
    table.check_columns("spot-gpu", &COLUMNS, Extra::Warn, warnings)?;
    let name = table.column("job_name")?;
    let model = table.optional_column("gpu_model");
    let cpu = table.column("cpu_request")?;
    let gpu = table.column("gpu_request")?;
    let workers = table.column("worker_num")?;
    let submit = table.column("submit_time")?;
    let duration = table.column("duration")?;
    let job_type = table.column("job_type")?;
    let mut pods = Vec::new();
    let mut requests = crate::model::job::RequestSet::default();
    let mut names = crate::input::csv_rows::NameSet::default();
    let mut unknown_models = Unknowns::default();
    let mut no_duration = 0usize;
    table.for_each_row(|row| {
        let job = row.unique_name(name, &mut names, "a job name")?;
        let n: u32 = row.parse(workers, "a worker count as a positive integer")?;
        if n == 0 {
            return Err(row.error(workers, "a worker count as a positive integer"));
        }
        let per_worker = row.scaled(gpu, 1000.0, GPUS)?;
        let (cards, milli) = gpu_per_instance(per_worker).ok_or_else(|| row.error(gpu, GPUS))?;
        let cpu_one = row.scaled(cpu, 1000.0, "vCPUs per worker as a non-negative number")?;
        let total_cards = cards
            .checked_mul(n)
            .ok_or_else(|| row.error(workers, "a worker count whose GPUs fit in 32 bits"))?;
        let cpu_total = cpu_one
            .checked_mul(u64::from(n))
            .ok_or_else(|| row.error(cpu, "vCPUs per worker whose job total fits in 64 bits"))?;
        let mut pod = Pod::new(&job, cpu_total, 0, total_cards, milli);
        if n >= 2 && cards > 0 {
            pod.gang = Some(GangShape {
                num_nodes: n,
                gpus_per_node: cards,
            });
        }
        if let Some(c) = model {
            let m = row.text(c);
            if !m.is_empty() {
                match crate::input::gpu_names::catalog_model(m) {
                    Some(catalog) => pod.gpu_spec = GpuSpec::parse(catalog),
                    None => unknown_models.note(m, row.line()),
                }
            }
        }
        pod.arrival_ms = row.scaled(submit, 1000.0, SECONDS)?;
        pod.work_ms = if row.text(duration).is_empty() {
            no_duration += 1;
            None
        } else {
            Some(row.scaled(duration, 1000.0, SECONDS)?)
        };
        set_priority(row, job_type, &mut pod)?;
        pods.push(requests.share(pod));
        Ok(())
    })?;
    if let Some(c) = model {
        crate::input::gpu_names::refuse_unmapped(&table, c, &unknown_models)?;
    }
    if pods.is_empty() {
        return Err(InputError::Invalid {
            file: path.to_owned(),
            message: "the trace has no jobs".to_owned(),
        });
    }
    if no_duration > 0 {
        warnings.push(format!(
            "{}: {no_duration} of {} jobs have no duration; replay skips them",
            path.display(),
            pods.len()
        ));
    }
    Ok(Workload {
        name: crate::input::file_stem(path),
        pods,
    })
}

const GPUS: &str = "GPUs per worker as a non-negative number";
const SECONDS: &str = "seconds as a non-negative number";

fn set_priority(row: &Row<'_>, col: usize, pod: &mut Pod) -> Result<(), InputError> {
    let t = row.text(col);
    let (name, priority) = JOB_TYPES
        .iter()
        .find(|(n, _)| *n == t)
        .ok_or_else(|| row.error(col, "a job type, HP or Spot"))?;
    pod.priority = *priority;
    pod.latency_sensitive = *name == "HP";
    pod.qos = Some((*name).into());
    Ok(())
}

/// Cards and milli per card of one instance asking for `milli` milli-GPUs in all (a trace's
/// fractional GPU count × 1000): none for 0; one card of `milli` up to a whole card; above it,
/// the fewest cards that hold it, each asked an equal share rounded up (1500 ⇒ 2 × 750,
/// 8000 ⇒ 8 × 1000). `None` beyond 2^32 cards.
pub fn gpu_per_instance(milli: u64) -> Option<(u32, u32)> {
    const CARD: u64 = crate::model::units::GPU_MILLI as u64;
    if milli == 0 {
        return Some((0, 0));
    }
    let cards = milli.div_ceil(CARD);
    let per = milli.div_ceil(cards);
    Some((u32::try_from(cards).ok()?, u32::try_from(per).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../traces/fixtures/spot-gpu/job_info_df.csv")
    }

    #[test]
    fn parses_the_fixture_from_the_readme_rows() {
        let mut warnings = Warnings::new();
        let w = parse_noting(
            &fixture(),
            crate::input::csv_rows::open(&fixture()).unwrap(),
            &mut warnings,
        )
        .unwrap();
        assert_eq!(w.name, "job_info_df");
        let hp = &w.pods[0];
        assert_eq!(hp.name, "239255");
        assert_eq!((hp.num_gpu, hp.gpu_milli, hp.cpu_milli), (1, 1000, 20_000));
        assert_eq!(hp.gpu_spec.models(), ["A10"]);
        assert_eq!((hp.arrival_ms, hp.work_ms), (0, Some(2_764_799_000)));
        assert_eq!((hp.priority, hp.latency_sensitive), (3, true));
        assert_eq!(hp.qos.as_deref(), Some("HP"));
        assert_eq!(hp.gang, None);
        let spot = &w.pods[2];
        assert_eq!(spot.name, "437260");
        assert_eq!(spot.gpu_spec.models(), ["A100-80"]);
        assert_eq!((spot.num_gpu, spot.cpu_milli), (16, 16 * 15_000));
        assert_eq!(
            spot.gang,
            Some(GangShape {
                num_nodes: 16,
                gpus_per_node: 1
            })
        );
        assert_eq!((spot.priority, spot.latency_sensitive), (0, false));
        assert_eq!(spot.arrival_ms, 9_589_663_000);
        assert_eq!(w.pods[3].gang.map(|g| g.num_nodes), Some(94));
        // The fixture's last rows: an undisclosed model, and a job with no duration.
        let last = w.pods.last().unwrap();
        assert_eq!(last.work_ms, None);
        assert_eq!(w.pods[w.pods.len() - 2].gpu_spec.models(), ["G1"]);
        assert_eq!(
            warnings,
            [format!(
                "{}: 1 of {} jobs have no duration; replay skips them",
                fixture().display(),
                w.pods.len()
            )]
        );
    }

    #[test]
    fn detected_by_its_header() {
        let text = std::fs::read_to_string(fixture()).unwrap();
        let f = crate::input::trace::detect_source(Path::new("j.csv"), text.as_bytes()).unwrap();
        assert_eq!(f, crate::input::trace::TraceFormat::SpotGpu);
    }

    #[test]
    fn malformed_copy_names_file_line_and_column() {
        let text = std::fs::read_to_string(fixture()).unwrap();
        let bad = text.replacen(",20,1,1,0,", ",20,1,one,0,", 1);
        assert_ne!(bad, text);
        let e = parse(Path::new("job_info_df.csv"), bad.as_bytes()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "job_info_df.csv:2: column worker_num: expected a worker count as a positive \
             integer, got \"one\""
        );
        let bad = text.replacen(",HP\n", ",High\n", 1);
        let e = parse(Path::new("job_info_df.csv"), bad.as_bytes()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "job_info_df.csv:2: column job_type: expected a job type, HP or Spot, got \"High\""
        );
    }

    #[test]
    fn unmapped_gpu_models_are_listed_together() {
        let head = COLUMNS.join(",");
        let text = format!(
            "{head}\n1,1,RTX-4090,1,1,1,0,5,HP\n2,1,A10,1,1,1,0,5,HP\n3,1,B200,1,1,1,0,5,Spot\n"
        );
        let e = parse(Path::new("j.csv"), text.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("j.csv:2: column gpu_model: expected a GPU name of the trace-name table"),
            "{e}"
        );
        assert!(
            e.ends_with(
                "got \"RTX-4090\"; also unknown: \"B200\" (line 4; did you mean \"H200\"?)"
            ),
            "{e}"
        );
    }

    #[test]
    fn fractional_and_multi_card_requests() {
        assert_eq!(gpu_per_instance(0), Some((0, 0)));
        assert_eq!(gpu_per_instance(500), Some((1, 500)));
        assert_eq!(gpu_per_instance(1000), Some((1, 1000)));
        assert_eq!(gpu_per_instance(1500), Some((2, 750)));
        assert_eq!(gpu_per_instance(8000), Some((8, 1000)));
        assert_eq!(gpu_per_instance(u64::MAX), None);
    }
}
