//! The Tiresias simulator's job CSV (`SymbioticLab/Tiresias`, `simulator/*_job.csv`; NSDI'19,
//! Gu et al. — cite it when used), also the input format of simulators built on it (Blox,
//! `msr-fiddle/blox`, reads Philly-derived traces into the same fields).
//!
//! Columns as in `simulator/60_job.csv` (`job_id,num_gpu,submit_time,iterations,model_name,
//! duration,interval`) and `simulator/tf_job.csv` (`job_id,num_gpu,submit_time,start_time,
//! duration,model_size,aggr_interval,model_name,model_scale`); `job_id,num_gpu,submit_time,
//! duration` identify the format and are required.
//!
//! ## Mapping to [`Pod`](crate::model::job::Pod)
//!
//! | Tiresias column | pod field | rule |
//! |---|---|---|
//! | `job_id` | `name` | required, non-empty; a repeated id (`tf_job.csv` repeats them) becomes `ID@LINE`, counted in a warning |
//! | `num_gpu` | `num_gpu`, `gpu_milli` | whole GPUs, 1000 milli each; 0 ⇒ CPU-only |
//! | `submit_time` | `arrival_ms` | seconds from the trace's start (the simulator's clock starts at 0), decimal, kept to the ms |
//! | `duration` | `work_ms` | seconds the job ran on the trace's GPUs, decimal, kept to the ms; 0 ⇒ skipped (counted) |
//! | `model_name` | `app` | empty ⇒ none (no density limit: `max_per_node` stays unset) |
//!
//! `iterations`, `interval` (submission gap, redundant with `submit_time`), `start_time` (an
//! output of the simulator), `model_size`, `aggr_interval` and `model_scale` (inputs of its
//! network model) are not read. The trace gives no host resources and no node count: CPU and
//! memory are [`jobs::CPU_MILLI_PER_GPU`] / [`jobs::MEMORY_MIB_PER_GPU`] per GPU, and a job
//! larger than a node is split by the placer. Class training, priority 0, demand drawn.

use crate::error::InputError;
use crate::input::csv_rows::{CsvTable, Extra, NameSet};
use crate::input::trace::jobs::{self, Skipped};
use crate::input::Warnings;
use crate::model::job::Workload;
use std::path::Path;

/// The columns of the published job files (both layouts).
pub const COLUMNS: [&str; 11] = [
    "job_id",
    "num_gpu",
    "submit_time",
    "duration",
    "iterations",
    "model_name",
    "interval",
    "start_time",
    "model_size",
    "aggr_interval",
    "model_scale",
];

/// Reads a Tiresias job CSV from `path`.
pub fn read(path: &Path) -> Result<Workload, InputError> {
    parse(path, crate::input::csv_rows::open(path)?)
}

/// Parses a Tiresias job CSV; `path` names the source in messages and gives the trace name.
pub fn parse(path: &Path, source: impl std::io::Read) -> Result<Workload, InputError> {
    parse_noting(path, source, &mut Warnings::new())
}

/// [`parse`], pushing onto `warnings` the columns the format does not have, the repeated ids
/// and the jobs skipped.
pub fn parse_noting(
    path: &Path,
    source: impl std::io::Read,
    warnings: &mut Warnings,
) -> Result<Workload, InputError> {
    let mut table = CsvTable::new(path, source)?;
    table.check_columns("tiresias", &COLUMNS, Extra::Warn, warnings)?;
    let id = table.column("job_id")?;
    let gpus = table.column("num_gpu")?;
    let submit = table.column("submit_time")?;
    let duration = table.column("duration")?;
    let model = table.optional_column("model_name");
    let mut pods = Vec::new();
    let mut requests = crate::model::job::RequestSet::default();
    let mut names = NameSet::default();
    let mut repeated = 0u64;
    let mut skipped = Skipped::default();
    table.for_each_row(|row| {
        let job_id = row.text(id);
        if job_id.is_empty() {
            return Err(row.error(id, "a job id"));
        }
        let num_gpu = jobs::count(row, gpus, "a GPU count as a non-negative integer")?;
        let arrival_ms = jobs::seconds_ms(row, submit, SECONDS)?;
        let work_ms = jobs::seconds_ms(row, duration, SECONDS)?;
        if work_ms == 0 {
            skipped.note("ran for 0 s");
            return Ok(());
        }
        let name = if names.insert(job_id) {
            job_id.to_owned()
        } else {
            repeated += 1;
            format!("{job_id}@{}", row.line())
        };
        let mut pod = jobs::training_job(&name, num_gpu, None, None);
        pod.arrival_ms = arrival_ms;
        pod.work_ms = Some(work_ms);
        pod.set_trace_times(crate::model::job::TraceTimes {
            creation_s: Some(arrival_ms / 1000),
            ..Default::default()
        });
        pod.app = model
            .map(|c| crate::model::job::Text::from(row.text(c)))
            .filter(|m| !m.is_empty());
        pods.push(requests.share(pod));
        Ok(())
    })?;
    if repeated > 0 {
        warnings.push(format!(
            "{}: {repeated} job ids repeat an earlier line's; those jobs are named ID@LINE",
            path.display()
        ));
    }
    skipped.finish(path, pods.len(), warnings)?;
    Ok(Workload {
        name: crate::input::file_stem(path),
        pods,
    })
}

const SECONDS: &str = "seconds as a non-negative number";

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../traces/fixtures/tiresias")
            .join(name)
    }

    #[test]
    fn parses_the_fixture() {
        let mut warnings = Warnings::new();
        let w = crate::input::trace::TraceFormat::Tiresias
            .read_noting(&fixture("tiresias_job.csv"), &mut warnings)
            .unwrap();
        assert_eq!(w.name, "tiresias_job");
        let got: Vec<_> = w
            .pods
            .iter()
            .map(|p| (p.name.as_str(), p.num_gpu, p.arrival_ms, p.work_ms, p.gang))
            .collect();
        assert_eq!(
            got,
            [
                ("0", 1, 0, Some(164_000), None),
                ("1", 8, 30_000, Some(147_000), None),
                ("2", 2, 53_000, Some(127_500), None),
                ("3", 16, 79_000, Some(3_600_000), None),
                ("3@6", 4, 90_000, Some(60_000), None),
            ]
        );
        let p = &w.pods[1];
        assert_eq!(
            (p.cpu_milli, p.memory_mib, p.gpu_milli),
            (80_000, 327_680, 1000)
        );
        assert_eq!(
            (p.app.as_deref(), p.class.as_str()),
            (Some("vgg11"), "training")
        );
        assert_eq!(
            warnings,
            [
                format!(
                    "{}: 1 job ids repeat an earlier line's; those jobs are named ID@LINE",
                    fixture("tiresias_job.csv").display()
                ),
                format!(
                    "{}: skipped 1 of 6 jobs that cannot be replayed: 1 ran for 0 s",
                    fixture("tiresias_job.csv").display()
                ),
            ]
        );
    }

    #[test]
    fn malformed_copy_names_file_line_and_column() {
        let path = fixture("tiresias_job_bad.csv");
        let e = read(&path).unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "{}:4: column duration: expected seconds as a non-negative number, got \"-3\"",
                path.display()
            )
        );
        let e = parse(
            Path::new("t.csv"),
            "job_id,num_gpu,submit_time,duration\n0,two,0,1\n".as_bytes(),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.csv:2: column num_gpu: expected a GPU count as a non-negative integer, got \"two\""
        );
    }

    #[test]
    fn unknown_column_is_one_warning() {
        let mut warnings = Warnings::new();
        let text = "job_id,num_gpu,submit_time,duration,modle_name\n0,1,0,5,x\n";
        parse_noting(Path::new("t.csv"), text.as_bytes(), &mut warnings).unwrap();
        assert_eq!(warnings.len(), 1);
        assert!(
            warnings[0].starts_with(
                "t.csv:1: ignoring column the tiresias format does not have: \"modle_name\" (did you mean \"model_name\"?)"
            ),
            "{warnings:?}"
        );
    }
}
