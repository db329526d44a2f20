//! The Alibaba PAI GPU cluster trace of 2020 (`alibaba/clusterdata`,
//! `cluster-trace-gpu-v2020`; "MLaaS in the Wild", Weng et al., NSDI'22 — cite it when used).
//!
//! The trace is a set of tables without header lines (each header is published beside its
//! table as `*.header`, and in `cluster-trace-gpu-v2020/README.md`). flexsim reads the task
//! table as the trace and finds the others beside it by name:
//!
//! ```text
//! --trace DIR/pai_task_table.csv     the jobs (required)
//!         DIR/pai_job_table.csv      submission times (optional)
//!         DIR/pai_instance_table.csv which machines each instance ran on (optional)
//!         DIR/pai_sensor_table.csv   each instance's measured GPU use (optional)
//! ```
//!
//! A sibling's name is the trace's with `pai_task_table` replaced (`pai_task_table_1k.csv`
//! ⇒ `pai_job_table_1k.csv`), so cut-down copies keep their tables together. The fleet is
//! `pai_machine_spec.csv`, given as `--fleet` ([`crate::input::pai_machine_spec`]).
//!
//! ## Mapping to [`Pod`]
//!
//! **A job is a task** (a row of `pai_task_table`): the unit that states a resource plan. A PAI
//! job's tasks (a parameter server and its workers, say) have different plans and instance
//! counts, so each task is a job of its own, named `JOB/TASK`; tasks of one job arrive
//! together and are not co-scheduled (flexsim has no cross-job gang).
//!
//! | column | pod field | rule |
//! |---|---|---|
//! | `job_name`, `task_name` | `name` | `JOB/TASK`, unique; both required |
//! | `plan_gpu` | `num_gpu`, `gpu_milli` | percent of a GPU per instance × 10 = milli: 50 ⇒ one card at 500; above 100, the fewest whole cards, shared equally (800 ⇒ 8 × 1000, 150 ⇒ 2 × 750); empty or 0 ⇒ CPU-only |
//! | `plan_cpu` | `cpu_milli` | percent of a core per instance × 10 (600 ⇒ 6000 milli), × instances; empty ⇒ 0 |
//! | `plan_mem` | `memory_mib` | GB per instance × 1024, × instances; empty ⇒ 0 |
//! | `inst_num` | `gang` | instances; see below; empty ⇒ 1 |
//! | `start_time`, `end_time` | `work_ms` | `end − start`, seconds → ms, whatever the `status` (a failed task held its GPUs that long); either empty, or end before start ⇒ no work: replay skips it, and the reader warns how many |
//! | job table `start_time` | `arrival_ms` | the job's submission (README: the gap to the task's start is its wait), never after the task's own start; without the job table, the task's start; neither ⇒ 0 |
//! | sensor `gpu_wrk_util` | `demand_milli` | see below |
//! | `status`, `gpu_type` | — | not read: the times say how long a task ran; `gpu_type` is the card it got, not a constraint it stated (that is `pai_group_tag_table`'s `gpu_type_spec`, not read) |
//!
//! **Instances.** A GPU task of `inst_num` ≥ 2 instances is a gang of `inst_num` parts, one
//! instance's cards each, on distinct nodes ([`GangShape`]) — unless the instance table is
//! present and shows every instance of the task on one machine: then it is a one-node job of
//! `inst_num` × the instance's cards (its instances shared a machine in the trace). A CPU-only
//! task of several instances becomes one job per instance, `JOB/TASK/I`, as nothing ties CPU
//! instances together on a GPU cluster. A CPU-only task of more than [`MAX_CPU_INSTANCES`]
//! instances is left out, and counted in a warning.
//!
//! **Demand.** With the sensor table present, each GPU task's demand is the mean of its
//! instances' `gpu_wrk_util` (percent of a GPU an instance kept busy), per card of the
//! instance, as milli, capped at the plan's milli per card (a task that used more than it was
//! planned ran at its plan in the trace) and at least 1. Tasks without a sensor row keep
//! `demand_milli = None` and get one drawn by the run. The paper's finding, that most tasks
//! use a small share of what they plan, is what this makes visible to a sharing policy.
//!
//! Priority 0, not latency-sensitive, class `default`, no device-memory request (the card's
//! share), no GPU-model constraint.

use crate::error::InputError;
use crate::input::csv_rows::{CsvTable, Row};
use crate::input::Warnings;
use crate::model::job::{GangShape, Pod, Workload};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The task table's file-name prefix, which identifies the format.
pub const TASK_TABLE: &str = "pai_task_table";

/// `pai_task_table.header`.
pub const TASK_COLUMNS: [&str; 10] = [
    "job_name",
    "task_name",
    "inst_num",
    "status",
    "start_time",
    "end_time",
    "plan_cpu",
    "plan_mem",
    "plan_gpu",
    "gpu_type",
];

/// `pai_job_table.header`.
pub const JOB_COLUMNS: [&str; 6] = [
    "job_name",
    "inst_id",
    "user",
    "status",
    "start_time",
    "end_time",
];

/// `pai_instance_table.header`.
pub const INSTANCE_COLUMNS: [&str; 9] = [
    "job_name",
    "task_name",
    "inst_name",
    "worker_name",
    "inst_id",
    "status",
    "start_time",
    "end_time",
    "machine",
];

/// `pai_sensor_table.header`.
pub const SENSOR_COLUMNS: [&str; 16] = [
    "job_name",
    "task_name",
    "worker_name",
    "inst_id",
    "machine",
    "gpu_name",
    "cpu_usage",
    "gpu_wrk_util",
    "avg_mem",
    "max_mem",
    "avg_gpu_wrk_mem",
    "max_gpu_wrk_mem",
    "read",
    "write",
    "read_count",
    "write_count",
];

/// The other tables of the trace: what each is, for the message when one is given as the
/// trace.
const OTHER_TABLES: [(&str, &str); 6] = [
    (
        "pai_job_table",
        "read beside the task table for submission times",
    ),
    (
        "pai_instance_table",
        "read beside the task table for gang shapes",
    ),
    (
        "pai_sensor_table",
        "read beside the task table for measured demand",
    ),
    ("pai_group_tag_table", "not read"),
    ("pai_machine_metric", "not read"),
    ("pai_machine_spec", "a fleet: pass it as --fleet"),
];

/// [`TraceFormat::Pai`](super::TraceFormat::Pai) when `path` is named like the task table;
/// an error naming the task table when it is named like another PAI table; `None` otherwise.
pub fn detect_name(path: &Path) -> Result<Option<super::TraceFormat>, InputError> {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return Ok(None);
    };
    if name.starts_with(TASK_TABLE) {
        return Ok(Some(super::TraceFormat::Pai));
    }
    match OTHER_TABLES.iter().find(|(t, _)| name.starts_with(t)) {
        Some((table, what)) => Err(InputError::Invalid {
            file: path.to_owned(),
            message: format!(
                "this is PAI 2020's {table} ({what}); the trace is {}, whose tasks are its jobs",
                sibling(path, TASK_TABLE).display()
            ),
        }),
        None => Ok(None),
    }
}

/// The table `table` beside the task table `path`: its file name with [`TASK_TABLE`] replaced.
pub fn sibling(path: &Path, table: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let rest = name.strip_prefix(TASK_TABLE).unwrap_or(".csv");
    path.with_file_name(format!("{table}{rest}"))
}

/// Reads a PAI task table and its siblings from `path`.
pub fn read(path: &Path) -> Result<Workload, InputError> {
    parse(path, crate::input::csv_rows::open(path)?)
}

/// Parses the task table `source`; `path` names it in messages, gives the trace name and
/// locates the sibling tables.
pub fn parse(path: &Path, source: impl std::io::Read) -> Result<Workload, InputError> {
    parse_noting(path, source, &mut Warnings::new())
}

/// A task as read, before the sibling tables complete it.
struct Task {
    pod: Pod,
    /// Length of the job name at the start of `pod.name`.
    job_len: usize,
    /// The task's own start, ms.
    start_ms: Option<u64>,
    /// Instances (≥ 1) and cards of each.
    instances: u32,
    cards: u32,
}

/// [`parse`], pushing onto `warnings` which sibling tables were read and how many tasks replay
/// will skip.
pub fn parse_noting(
    path: &Path,
    source: impl std::io::Read,
    warnings: &mut Warnings,
) -> Result<Workload, InputError> {
    let mut table = CsvTable::headless(path, &TASK_COLUMNS, source);
    let col = |name: &str| TASK_COLUMNS.iter().position(|c| *c == name).unwrap_or(0);
    let (job, task, inst) = (col("job_name"), col("task_name"), col("inst_num"));
    let (start, end) = (col("start_time"), col("end_time"));
    let (cpu, mem, gpu) = (col("plan_cpu"), col("plan_mem"), col("plan_gpu"));
    let mut tasks: Vec<Task> = Vec::new();
    let mut names = crate::input::csv_rows::NameSet::default();
    let mut no_work = 0usize;
    let mut too_many = 0usize;
    table.for_each_row(|row| {
        if header_line(row, &TASK_COLUMNS)? {
            return Ok(());
        }
        for c in [job, task] {
            if row.text(c).is_empty() {
                return Err(row.error(c, "a name"));
            }
        }
        let name = format!("{}/{}", row.text(job), row.text(task));
        if !names.insert(&name) {
            return Err(row.error(task, "a task name not used for this job on an earlier line"));
        }
        let instances = match row.text(inst) {
            "" => 1,
            _ => {
                let n = row.scaled(inst, 1.0, INSTANCES)?;
                match u32::try_from(n) {
                    Ok(n) if n >= 1 && row.parse::<f64>(inst, INSTANCES)? == f64::from(n) => n,
                    _ => return Err(row.error(inst, INSTANCES)),
                }
            }
        };
        let opt = |c: usize, factor: f64, what: &str| -> Result<u64, InputError> {
            match row.text(c) {
                "" => Ok(0),
                _ => row.scaled(c, factor, what),
            }
        };
        let per_gpu = opt(
            gpu,
            10.0,
            "percent of a GPU as a non-negative number, or empty",
        )?;
        let (cards, milli) = super::spot_gpu::gpu_per_instance(per_gpu)
            .ok_or_else(|| row.error(gpu, "percent of a GPU up to 2^32 cards"))?;
        let cpu_one = opt(
            cpu,
            10.0,
            "percent of a core as a non-negative number, or empty",
        )?;
        let mem_one = opt(mem, 1024.0, "GB as a non-negative number, or empty")?;
        let start_ms = time_ms(row, start)?;
        let end_ms = time_ms(row, end)?;
        let work_ms = match (start_ms, end_ms) {
            (Some(s), Some(e)) if e >= s => Some(e - s),
            _ => None,
        };
        if work_ms.is_none() {
            no_work += 1;
        }
        let too_big = || row.error(inst, "an instance count whose request fits in 64 bits");
        if cards == 0 && instances > MAX_CPU_INSTANCES {
            too_many += 1;
            return Ok(());
        }
        let copies = if cards == 0 { 1 } else { instances };
        let cpu_total = cpu_one.checked_mul(u64::from(copies)).ok_or_else(too_big)?;
        let mem_total = mem_one.checked_mul(u64::from(copies)).ok_or_else(too_big)?;
        let num_gpu = cards.checked_mul(instances).ok_or_else(too_big)?;
        let mut pod = Pod::new(&name, cpu_total, mem_total, num_gpu, milli);
        pod.work_ms = work_ms;
        pod.arrival_ms = start_ms.unwrap_or(0);
        if cards > 0 && instances >= 2 {
            pod.gang = Some(GangShape {
                num_nodes: instances,
                gpus_per_node: cards,
            });
        }
        tasks.push(Task {
            pod,
            job_len: row.text(job).len(),
            start_ms,
            instances,
            cards,
        });
        Ok(())
    })?;
    if tasks.is_empty() {
        return Err(InputError::Invalid {
            file: path.to_owned(),
            message: "the trace has no tasks".to_owned(),
        });
    }
    if too_many > 0 {
        warnings.push(format!(
            "{}: leaving out {too_many} CPU-only tasks of more than {MAX_CPU_INSTANCES} instances \
             (each instance would be a job)",
            path.display()
        ));
    }
    let mut read = Vec::new();
    if submissions(path, &mut tasks)? {
        read.push("pai_job_table");
    }
    if machines(path, &mut tasks)? {
        read.push("pai_instance_table");
    }
    if demands(path, &mut tasks)? {
        read.push("pai_sensor_table");
    }
    let total = tasks.len();
    let mut pods = Vec::with_capacity(total);
    let mut requests = crate::model::job::RequestSet::default();
    for t in tasks {
        if t.cards == 0 && t.instances >= 2 {
            for i in 0..t.instances {
                let mut p = t.pod.clone();
                p.name = compact_str::format_compact!("{}/{i}", t.pod.name);
                pods.push(requests.share(p));
            }
        } else {
            pods.push(requests.share(t.pod));
        }
    }
    let siblings = if read.is_empty() {
        "none".to_owned()
    } else {
        read.join(", ")
    };
    warnings.push(format!(
        "{}: PAI 2020 tables read beside the task table: {siblings}",
        path.display()
    ));
    if no_work > 0 {
        warnings.push(format!(
            "{}: {no_work} of {total} tasks have no start or end time, or end before they \
             start (waiting or running when the trace ended); replay skips them",
            path.display()
        ));
    }
    Ok(Workload {
        name: crate::input::file_stem(path),
        pods,
    })
}

/// The most instances of a CPU-only task, each of which becomes a job: a bound on what one
/// row can make the reader allocate (a typo of `inst_num` must not mean 10^9 jobs). The
/// NSDI'22 analysis (`cluster-trace-gpu-v2020/analysis/utils.py`) counts tasks of up to 512
/// instances and more; CPU-only ones beyond this bound are left out and counted.
pub const MAX_CPU_INSTANCES: u32 = 1024;

const INSTANCES: &str = "an instance count as a positive whole number, or empty";
const SECONDS: &str = "seconds as a non-negative number, or empty";

/// Whether `row` is a header line a user put on a table that has none (line 1, the published
/// columns): skipped. Line 1 starting with the first published column but differing from the
/// header is an error naming it.
fn header_line(row: &Row<'_>, columns: &[&str]) -> Result<bool, InputError> {
    if row.line() != 1 || row.text(0) != columns[0] {
        return Ok(false);
    }
    if (0..columns.len()).all(|i| row.text(i) == columns[i]) {
        return Ok(true);
    }
    Err(row.invalid(format!(
        "a header line that is not the published one ({})",
        columns.join(",")
    )))
}

fn time_ms(row: &Row<'_>, col: usize) -> Result<Option<u64>, InputError> {
    match row.text(col) {
        "" => Ok(None),
        _ => row.scaled(col, 1000.0, SECONDS).map(Some),
    }
}

/// Streams the sibling `table` of `path`, if it exists, calling `f` on each data row; false
/// when there is no such file.
fn each_sibling_row(
    path: &Path,
    table: &str,
    columns: &[&str],
    mut f: impl FnMut(&Row<'_>) -> Result<(), InputError>,
) -> Result<bool, InputError> {
    let file = sibling(path, table);
    if !file.is_file() {
        return Ok(false);
    }
    let mut t = CsvTable::headless(&file, columns, crate::input::csv_rows::open(&file)?);
    t.for_each_row(|row| {
        if header_line(row, columns)? {
            return Ok(());
        }
        f(row)
    })?;
    Ok(true)
}

/// Task index by `JOB/TASK`, for the tasks `keep` selects.
fn index(tasks: &[Task], keep: impl Fn(&Task) -> bool) -> HashMap<&str, usize> {
    tasks
        .iter()
        .enumerate()
        .filter(|(_, t)| keep(t))
        .map(|(i, t)| (t.pod.name.as_str(), i))
        .collect()
}

/// Arrival from the job table's submission times; false without a job table. Only the jobs
/// of the task table are looked up as the table streams by: nothing of the others is kept.
fn submissions(path: &Path, tasks: &mut [Task]) -> Result<bool, InputError> {
    let mut submitted: Vec<(usize, u64)> = Vec::new();
    let start = JOB_COLUMNS
        .iter()
        .position(|c| *c == "start_time")
        .unwrap_or(0);
    let found = {
        let mut by_job: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, t) in tasks.iter().enumerate() {
            by_job.entry(&t.pod.name[..t.job_len]).or_default().push(i);
        }
        each_sibling_row(path, "pai_job_table", &JOB_COLUMNS, |row| {
            if let Some(indices) = by_job.get(row.text(0)) {
                if let Some(ms) = time_ms(row, start)? {
                    submitted.extend(indices.iter().map(|&i| (i, ms)));
                }
            }
            Ok(())
        })?
    };
    for (i, s) in submitted {
        let t = &mut tasks[i];
        t.pod.arrival_ms = t.start_ms.map_or(s, |start| s.min(start));
    }
    Ok(found)
}

/// One-node jobs for the multi-instance GPU tasks whose instances all ran on one machine;
/// false without an instance table.
fn machines(path: &Path, tasks: &mut [Task]) -> Result<bool, InputError> {
    // Per gang task: the first machine seen, and whether another one was.
    let mut seen: HashMap<usize, (String, bool)> = HashMap::new();
    let found = {
        let idx = index(tasks, |t| t.pod.gang.is_some());
        let machine = INSTANCE_COLUMNS
            .iter()
            .position(|c| *c == "machine")
            .unwrap_or(0);
        let mut key = String::new();
        each_sibling_row(path, "pai_instance_table", &INSTANCE_COLUMNS, |row| {
            key.clear();
            key.push_str(row.text(0));
            key.push('/');
            key.push_str(row.text(1));
            if let Some(&i) = idx.get(key.as_str()) {
                let m = row.text(machine);
                match seen.get_mut(&i) {
                    None => {
                        seen.insert(i, (m.to_owned(), false));
                    }
                    Some((first, multi)) => *multi |= first != m,
                }
            }
            Ok(())
        })?
    };
    for (i, (_, multi)) in seen {
        if !multi {
            tasks[i].pod.gang = None;
        }
    }
    Ok(found)
}

/// Measured demand from the sensor table; false without one.
fn demands(path: &Path, tasks: &mut [Task]) -> Result<bool, InputError> {
    let mut sums: HashMap<usize, (f64, u32)> = HashMap::new();
    let found = {
        let idx = index(tasks, |t| t.cards > 0);
        let util = SENSOR_COLUMNS
            .iter()
            .position(|c| *c == "gpu_wrk_util")
            .unwrap_or(0);
        let mut key = String::new();
        each_sibling_row(path, "pai_sensor_table", &SENSOR_COLUMNS, |row| {
            key.clear();
            key.push_str(row.text(0));
            key.push('/');
            key.push_str(row.text(1));
            if let Some(&i) = idx.get(key.as_str()) {
                if row.text(util).is_empty() {
                    return Ok(());
                }
                let u: f64 = row.parse(util, UTIL)?;
                if !(0.0..=1e9).contains(&u) {
                    return Err(row.error(util, UTIL));
                }
                let e = sums.entry(i).or_insert((0.0, 0));
                e.0 += u;
                e.1 += 1;
            }
            Ok(())
        })?
    };
    for (i, (sum, n)) in sums {
        let t = &mut tasks[i];
        let per_card_milli = sum / f64::from(n) * 10.0 / f64::from(t.cards);
        let cap = f64::from(t.pod.gpu_milli.max(1));
        // Bounded by the clamp, so the cast cannot truncate.
        t.pod.demand_milli = Some(per_card_milli.round().clamp(1.0, cap) as u32);
    }
    Ok(found)
}

const UTIL: &str = "percent of a GPU as a non-negative number, or empty";

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../traces/fixtures/pai/pai_task_table.csv")
    }

    fn by_name<'w>(w: &'w Workload, name: &str) -> &'w Pod {
        w.pods.iter().find(|p| p.name == name).unwrap()
    }

    #[test]
    fn parses_the_fixture_with_its_sibling_tables() {
        let mut warnings = Warnings::new();
        let w = crate::input::trace::read_any_noting(&fixture(), &mut warnings).unwrap();
        assert_eq!(w.name, "pai_task_table");
        // The README's example task: 50 % of a GPU, 6 cores, 29.3 GB, on MISC cards.
        let t = by_name(&w, "4f057009a5d481acec67b088/tensorflow");
        assert_eq!((t.num_gpu, t.gpu_milli), (1, 500));
        assert_eq!((t.cpu_milli, t.memory_mib), (6000, 30_000));
        assert_eq!(t.work_ms, Some(38_000));
        // Submitted at 1739150 (job table), started at 1739162.
        assert_eq!(t.arrival_ms, 1_739_150_000);
        // Sensor: 16.0625 % of a GPU ⇒ 161 milli, under the 500 planned.
        assert_eq!(t.demand_milli, Some(161));
        assert_eq!(t.gang, None);
        // An 8-GPU instance whose sensor says 600 %: 750 milli a card.
        let big = by_name(&w, "6a7b0c1d2e3f405162738495/worker");
        assert_eq!(
            (big.num_gpu, big.gpu_milli, big.demand_milli),
            (8, 1000, Some(750))
        );
        // Two 1-GPU workers on two machines: a gang; their CPU and memory are the total.
        let gang = by_name(&w, "af724763f4f5d0beef445849/worker");
        assert_eq!(
            gang.gang,
            Some(GangShape {
                num_nodes: 2,
                gpus_per_node: 1
            })
        );
        assert_eq!(
            (gang.num_gpu, gang.gpu_milli, gang.cpu_milli),
            (2, 500, 2 * 4000)
        );
        // Usage above the plan is capped at the plan: 50 % planned, 85 % measured (mean).
        assert_eq!(gang.demand_milli, Some(500));
        // Two 50 % instances on one machine: one node, two half cards.
        let shared = by_name(&w, "af724763f4f5d0beef445849/evaluator");
        assert_eq!(
            (shared.gang, shared.num_gpu, shared.gpu_milli),
            (None, 2, 500)
        );
        assert_eq!(shared.demand_milli, None);
        // A CPU-only parameter server task of 2 instances: one job each.
        assert_eq!(
            by_name(&w, "af724763f4f5d0beef445849/ps/1").cpu_milli,
            600 * 10
        );
        // A waiting task: no work.
        let waiting = by_name(&w, "b1c2d3e4f5a6b7c8d9e0f1a2/worker");
        assert_eq!(waiting.work_ms, None);
        let file = fixture().display().to_string();
        assert_eq!(
            warnings,
            [
                format!(
                    "{file}: PAI 2020 tables read beside the task table: pai_job_table, \
                     pai_instance_table, pai_sensor_table"
                ),
                format!(
                    "{file}: 1 of 6 tasks have no start or end time, or end before they start \
                     (waiting or running when the trace ended); replay skips them"
                )
            ]
        );
    }

    #[test]
    fn without_siblings_arrival_is_the_task_start_and_gangs_stay() {
        let text = std::fs::read_to_string(fixture()).unwrap();
        let mut warnings = Warnings::new();
        let w = parse_noting(
            Path::new("/nowhere/pai_task_table.csv"),
            text.as_bytes(),
            &mut warnings,
        )
        .unwrap();
        let t = by_name(&w, "4f057009a5d481acec67b088/tensorflow");
        assert_eq!((t.arrival_ms, t.demand_milli), (1_739_162_000, None));
        assert!(by_name(&w, "af724763f4f5d0beef445849/evaluator")
            .gang
            .is_some());
        assert!(
            warnings[0].ends_with("beside the task table: none"),
            "{warnings:?}"
        );
    }

    #[test]
    fn huge_cpu_only_tasks_are_left_out_and_counted() {
        let text =
            "j,ps,2000.0,Terminated,1,2,600.0,1.0,,\nj,w,1.0,Terminated,1,2,600.0,1.0,50.0,T4\n";
        let mut warnings = Warnings::new();
        let w = parse_noting(
            Path::new("d/pai_task_table.csv"),
            text.as_bytes(),
            &mut warnings,
        )
        .unwrap();
        assert_eq!(w.pods.len(), 1);
        assert_eq!(
            warnings[0],
            "d/pai_task_table.csv: leaving out 1 CPU-only tasks of more than 1024 instances \
             (each instance would be a job)"
        );
    }

    #[test]
    fn detected_by_name_and_other_tables_point_at_the_task_table() {
        use crate::input::trace::{detect_file, TraceFormat};
        assert_eq!(detect_file(&fixture()).unwrap(), TraceFormat::Pai);
        let e = detect_file(Path::new("d/pai_sensor_table.csv")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "d/pai_sensor_table.csv: this is PAI 2020's pai_sensor_table (read beside the task \
             table for measured demand); the trace is d/pai_task_table.csv, whose tasks are its \
             jobs"
        );
        assert_eq!(
            sibling(Path::new("d/pai_task_table_1k.csv"), "pai_job_table"),
            Path::new("d/pai_job_table_1k.csv")
        );
    }

    #[test]
    fn malformed_copy_names_file_line_and_column() {
        let text = std::fs::read_to_string(fixture()).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        let bad = lines[1].replacen(",1200.0,", ",twelve,", 1);
        assert_ne!(bad, lines[1]);
        lines[1] = &bad;
        let bad = lines.join("\n");
        let e = parse(Path::new("pai_task_table.csv"), bad.as_bytes()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "pai_task_table.csv:2: column plan_cpu: expected percent of a core as a \
             non-negative number, or empty, got \"twelve\""
        );
        let short = "j,t,1.0,Terminated,1,2,600.0,1.0,50.0\n";
        let e = parse(Path::new("pai_task_table.csv"), short.as_bytes()).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "pai_task_table.csv:1: expected 10 fields ({}), got 9",
                TASK_COLUMNS.join(",")
            )
        );
        let header = format!(
            "{}\nj,t,1.5,Terminated,1,2,600.0,1.0,50.0,T4\n",
            TASK_COLUMNS.join(",")
        );
        let e = parse(Path::new("pai_task_table.csv"), header.as_bytes()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "pai_task_table.csv:2: column inst_num: expected an instance count as a positive \
             whole number, or empty, got \"1.5\""
        );
    }
}
