//! The Alibaba GPU-disaggregated DLRM serving trace (cluster-trace-gpu-v2025,
//! `traces/alibaba-dlrm-2025/`; NSDI'25, Yang et al. — cite it when used).
//!
//! 23,871 inference instances of 156 services. It exercises what openb does not: CPU-only front
//! ends that call remote GPU back ends (the shape Flex:ai's remote pooling targets,
//! slicing-model §1.5), per-app density limits, and a network resource.
//!
//! ## Mapping to [`Pod`]
//!
//! | DLRM column | pod field | rule |
//! |---|---|---|
//! | `instance_sn` | `name` | required, unique |
//! | `role` | — | `CN` (CPU node) must ask for no GPU; `HN` (GPU node) asks for `gpu_request` |
//! | `gpu_request` | `num_gpu`, `gpu_milli` | whole GPUs: `gpu_milli` 1000 each; 0 ⇒ CPU-only |
//! | `cpu_request` | `cpu_milli` | vCPUs × 1000, rounded |
//! | `memory_request` | `memory_mib` | GiB × 1024, rounded |
//! | `app_name` | `app` | empty ⇒ none |
//! | `max_instance_per_node` | `max_per_node` | −1 ⇒ no limit; otherwise a positive count |
//! | `rdma_request` | `rdma_pct` | percent of one node's RDMA NIC, 0..=100 |
//! | `creation_time` | `arrival_ms` | seconds → ms; empty ⇒ the instance existed before the window: 0 |
//! | `scheduled_time`, `deletion_time` | `work_ms` | see below |
//!
//! `*_limit` and `disk_*` columns are read by nobody (requests equal limits throughout the trace;
//! flexsim has no disk resource).
//!
//! **Work.** An instance runs from `start = max(creation, scheduled)` to its deletion, so
//! `work = deletion − start`. Empty times follow the README ("outside the trace window"):
//! empty creation *and* scheduled ⇒ it was already running: start 0; a creation time with an
//! empty scheduled time ⇒ it never started in the window, and like openb's pending pods it gets
//! no work (replay skips it); empty deletion ⇒ it was still running at the window's end, taken as
//! the trace's largest timestamp in any of the three time columns (2,677,541 s ≈ 31 days in the
//! shipped file), so its work is `end − start`. The work of instances that outlive the window is
//! therefore a lower bound, as it is in the trace itself.
//!
//! **Everything else.** Every instance is a latency-sensitive online service (README), so
//! `latency_sensitive = true`, `class = inference`, and `priority = 3`, the same as openb's LS
//! class ([`crate::model::job::openb_priority`]) so that mixed experiments rank them alike. `qos` stays
//! empty (the trace has no such column). No GPU-model constraint, no device-memory request
//! (whole cards), and no busy share: `demand_milli` is drawn by the run's
//! [`DemandDistribution`](crate::model::demand::DemandDistribution).

use crate::error::InputError;
use crate::input::csv_rows::{CsvTable, Extra, Row};
use crate::input::Warnings;
use crate::model::catalog::CLASS_INFERENCE;
use crate::model::job::{Pod, Text, Workload};
use crate::model::units::GPU_MILLI;
use std::path::Path;

/// Priority given to every DLRM instance: openb's LS level.
pub const DLRM_PRIORITY: i32 = 3;

/// Reads the DLRM trace CSV from `path`.
pub fn read(path: &Path) -> Result<Workload, InputError> {
    parse(path, crate::input::csv_rows::open(path)?)
}

/// One row's times, in ms, before the window end is known.
struct Times {
    created: Option<u64>,
    scheduled: Option<u64>,
    deleted: Option<u64>,
    line: u64,
}

/// The columns of the published trace; the `*_limit` and `disk_*` ones are read by nobody.
pub const COLUMNS: [&str; 17] = [
    "instance_sn",
    "role",
    "app_name",
    "cpu_request",
    "cpu_limit",
    "gpu_request",
    "gpu_limit",
    "rdma_request",
    "rdma_limit",
    "memory_request",
    "memory_limit",
    "disk_request",
    "disk_limit",
    "max_instance_per_node",
    "creation_time",
    "scheduled_time",
    "deletion_time",
];

/// Parses the DLRM trace CSV; `path` names the source in messages and gives the trace name.
pub fn parse(path: &Path, source: impl std::io::Read) -> Result<Workload, InputError> {
    parse_noting(path, source, &mut Warnings::new())
}

/// [`parse`], pushing a warning for columns the DLRM trace does not have onto `warnings`.
/// Times out of order (scheduled before creation, deletion before either) are an error.
pub fn parse_noting(
    path: &Path,
    source: impl std::io::Read,
    warnings: &mut Warnings,
) -> Result<Workload, InputError> {
    let mut table = CsvTable::new(path, source)?;
    table.check_columns("dlrm", &COLUMNS, Extra::Warn, warnings)?;
    let sn = table.column("instance_sn")?;
    let role = table.column("role")?;
    let app = table.column("app_name")?;
    let cpu = table.column("cpu_request")?;
    let gpu = table.column("gpu_request")?;
    let rdma = table.column("rdma_request")?;
    let mem = table.column("memory_request")?;
    let max_per_node = table.column("max_instance_per_node")?;
    let created = table.column("creation_time")?;
    let scheduled = table.column("scheduled_time")?;
    let deleted = table.column("deletion_time")?;
    let mut pods = Vec::new();
    let mut requests = crate::model::job::RequestSet::default();
    let mut times = Vec::new();
    let mut names = crate::input::csv_rows::NameSet::default();
    table.for_each_row(|row| {
        let name = row.unique_name(sn, &mut names, "an instance name")?;
        let num_gpu: u32 = row.parse(gpu, "a GPU count as a non-negative integer")?;
        match row.text(role) {
            "CN" if num_gpu > 0 => {
                return Err(row.invalid(format!(
                    "role CN (CPU node) with gpu_request {num_gpu}: a CN instance has no GPU"
                )))
            }
            "CN" | "HN" => {}
            _ => return Err(row.error(role, "CN or HN")),
        }
        let cpu_milli = scaled(row, cpu, 1000.0, "vCPUs as a non-negative number")?;
        let memory_mib = scaled(row, mem, 1024.0, "memory in GiB as a non-negative number")?;
        let mut pod = Pod::new(&name, cpu_milli, memory_mib, num_gpu, GPU_MILLI);
        pod.app = Some(row.text(app).into()).filter(|a: &Text| !a.is_empty());
        pod.max_per_node = match row.parse::<i64>(max_per_node, PER_NODE)? {
            -1 => None,
            n => Some(
                u32::try_from(n)
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or_else(|| row.error(max_per_node, PER_NODE))?,
            ),
        };
        pod.rdma_pct = row.parse(rdma, RDMA)?;
        if pod.rdma_pct > 100 {
            return Err(row.error(rdma, RDMA));
        }
        pod.class = CLASS_INFERENCE.into();
        pod.latency_sensitive = true;
        pod.priority = DLRM_PRIORITY;
        let t = Times {
            created: time_ms(row, created)?,
            scheduled: time_ms(row, scheduled)?,
            deleted: time_ms(row, deleted)?,
            line: row.line(),
        };
        let s = |t: Option<u64>| t.map(|ms| ms as f64 / 1000.0);
        let order = [
            ("creation_time", s(t.created)),
            ("scheduled_time", s(t.scheduled)),
            ("deletion_time", s(t.deleted)),
        ];
        if let Some(message) = crate::input::trace::openb::out_of_order(&order) {
            return Err(row.invalid(message));
        }
        pod.set_trace_times(crate::model::job::TraceTimes {
            creation_s: t.created.map(ms_to_s),
            scheduled_s: t.scheduled.map(ms_to_s),
            deletion_s: t.deleted.map(ms_to_s),
        });
        pod.arrival_ms = t.created.unwrap_or(0);
        pods.push(requests.share(pod));
        times.push(t);
        Ok(())
    })?;
    if pods.is_empty() {
        return Err(InputError::Invalid {
            file: path.to_owned(),
            message: "the trace has no instances".to_owned(),
        });
    }
    let end_ms = times
        .iter()
        .flat_map(|t| [t.created, t.scheduled, t.deleted])
        .flatten()
        .max()
        .unwrap_or(0);
    for (pod, t) in pods.iter_mut().zip(&times) {
        pod.work_ms = work_ms(t, end_ms).map_err(|message| InputError::Row {
            file: path.to_owned(),
            line: t.line,
            message,
        })?;
    }
    Ok(Workload {
        name: crate::input::file_stem(path),
        pods,
    })
}

const PER_NODE: &str = "a positive instance count, or -1 for no limit";
const RDMA: &str = "percent of one RDMA NIC, an integer from 0 to 100";
const SECONDS: &str = "seconds from trace start as a non-negative number, or empty";

/// The work rule of the module doc; `Err` when the deletion precedes the start.
fn work_ms(t: &Times, end_ms: u64) -> Result<Option<u64>, String> {
    let start = match (t.created, t.scheduled) {
        (Some(_), None) => return Ok(None),
        (c, s) => c.unwrap_or(0).max(s.unwrap_or(0)),
    };
    let end = t.deleted.unwrap_or(end_ms);
    end.checked_sub(start).map(Some).ok_or_else(|| {
        format!(
            "deletion_time {} s is before the instance started at {} s",
            end as f64 / 1000.0,
            start as f64 / 1000.0
        )
    })
}

fn ms_to_s(ms: u64) -> u64 {
    (ms + 500) / 1000
}

/// An optional time in seconds (decimal) as integer ms.
fn time_ms(row: &Row<'_>, col: usize) -> Result<Option<u64>, InputError> {
    if row.text(col).is_empty() {
        return Ok(None);
    }
    scaled(row, col, 1000.0, SECONDS).map(Some)
}

/// A non-negative decimal times `factor`, rounded to an integer.
fn scaled(row: &Row<'_>, col: usize, factor: f64, expected: &str) -> Result<u64, InputError> {
    let x: f64 = row.parse(col, expected)?;
    let v = (x * factor).round();
    // 2^53: beyond it the rounding above is no longer exact; no real trace comes close.
    if !(0.0..=9.007_199_254_740_992e15).contains(&v) {
        return Err(row.error(col, expected));
    }
    Ok(v as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "instance_sn,role,app_name,cpu_request,cpu_limit,gpu_request,gpu_limit,rdma_request,rdma_limit,memory_request,memory_limit,disk_request,disk_limit,max_instance_per_node,creation_time,scheduled_time,deletion_time\n";

    fn parse_str(body: &str) -> Result<Workload, InputError> {
        parse(Path::new("t/dlrm.csv"), format!("{HEAD}{body}").as_bytes())
    }

    #[test]
    fn maps_roles_resources_and_limits() {
        let w = parse_str(
            "i0,HN,app_0,12,12,1,1,25,25,120.0,120.0,640.0,800.0,8,,,\n\
             i1,CN,app_1,64,64,0,0,1,1,320.0,320.0,544.0,640.0,-1,475.00000000000006,623.0,\n\
             i2,HN,app_0,12,12,2,2,100,100,0.5,0.5,1,1,2,10,20,30.5\n",
        )
        .unwrap();
        assert_eq!(w.name, "dlrm");
        let (hn, cn, two) = (&w.pods[0], &w.pods[1], &w.pods[2]);
        assert_eq!((hn.num_gpu, hn.gpu_milli, hn.cpu_milli), (1, 1000, 12_000));
        assert_eq!(hn.memory_mib, 120 * 1024);
        assert_eq!(
            (hn.app.as_deref(), hn.max_per_node, hn.rdma_pct),
            (Some("app_0"), Some(8), 25)
        );
        assert_eq!((cn.num_gpu, cn.gpu_milli, cn.max_per_node), (0, 0, None));
        assert_eq!(
            (two.num_gpu, two.total_gpu_milli(), two.memory_mib),
            (2, 2000, 512)
        );
        for p in &w.pods {
            assert!(p.latency_sensitive);
            assert_eq!(
                (p.class.as_str(), p.priority),
                (CLASS_INFERENCE, DLRM_PRIORITY)
            );
            assert_eq!(p.demand_milli, None);
        }
    }

    #[test]
    fn times_follow_the_window_rules() {
        let w = parse_str(
            "before,HN,a,1,1,1,1,1,1,1,1,1,1,-1,,,\n\
             before_gone,HN,a,1,1,1,1,1,1,1,1,1,1,-1,,,75\n\
             after,CN,a,1,1,0,0,1,1,1,1,1,1,-1,475.00000000000006,623.0,\n\
             inside,CN,a,1,1,0,0,1,1,1,1,1,1,-1,610,683,91730.25\n\
             pending,CN,a,1,1,0,0,1,1,1,1,1,1,-1,700,,\n",
        )
        .unwrap();
        let got: Vec<_> = w.pods.iter().map(|p| (p.arrival_ms, p.work_ms)).collect();
        let end = 91_730_250;
        assert_eq!(
            got,
            [
                (0, Some(end)),
                (0, Some(75_000)),
                (475_000, Some(end - 623_000)),
                (610_000, Some(91_730_250 - 683_000)),
                (700_000, None),
            ]
        );
        assert_eq!(w.pods[2].creation_time_s(), Some(475));
    }

    #[test]
    fn bad_rows_name_file_line_and_column() {
        let cases = [
            ("i0,XN,a,1,1,0,0,1,1,1,1,1,1,-1,,,\n", "t/dlrm.csv:2: column role: expected CN or HN, got \"XN\""),
            ("i0,CN,a,1,1,1,1,1,1,1,1,1,1,-1,,,\n", "t/dlrm.csv:2: role CN (CPU node) with gpu_request 1: a CN instance has no GPU"),
            ("i0,HN,a,1,1,1,1,1,1,1,1,1,1,0,,,\n", "t/dlrm.csv:2: column max_instance_per_node: expected a positive instance count, or -1 for no limit, got \"0\""),
            ("i0,HN,a,1,1,1,1,101,1,1,1,1,1,-1,,,\n", "t/dlrm.csv:2: column rdma_request: expected percent of one RDMA NIC, an integer from 0 to 100, got \"101\""),
            ("i0,HN,a,-2,1,1,1,1,1,1,1,1,1,-1,,,\n", "t/dlrm.csv:2: column cpu_request: expected vCPUs as a non-negative number, got \"-2\""),
            ("i0,HN,a,1,1,1,1,1,1,1,1,1,1,-1,5,6,x\n", "t/dlrm.csv:2: column deletion_time: expected seconds from trace start as a non-negative number, or empty, got \"x\""),
            ("i0,HN,a,1,1,1,1,1,1,1,1,1,1,-1,5,6,\ni1,HN,a,1,1,1,1,1,1,1,1,1,1,-1,5,9,8\n", "t/dlrm.csv:3: deletion_time 8 s is before scheduled_time 9 s"),
            ("i0,HN,a,1,1,1,1,1,1,1,1,1,1,-1,,,\ni0,HN,a,1,1,1,1,1,1,1,1,1,1,-1,,,\n", "t/dlrm.csv:3: column instance_sn: expected an instance name not used on an earlier line, got \"i0\""),
        ];
        for (body, want) in cases {
            assert_eq!(parse_str(body).unwrap_err().to_string(), want);
        }
        let e = parse(Path::new("x.csv"), "instance_sn,role\n".as_bytes()).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("x.csv:1: missing column app_name"),
            "{e}"
        );
    }

    #[test]
    fn unknown_column_is_one_warning_naming_it() {
        let head = HEAD.trim_end().replace("disk_limit", "disk_limt");
        let text = format!("{head}\ni0,HN,a,1,1,1,1,1,1,1,1,1,1,-1,,,\n");
        let mut warnings = Warnings::new();
        parse_noting(Path::new("d.csv"), text.as_bytes(), &mut warnings).unwrap();
        assert_eq!(warnings.len(), 1);
        assert!(
            warnings[0].starts_with(
                "d.csv:1: ignoring column the dlrm format does not have: \"disk_limt\" (did you \
                 mean \"disk_limit\"?)"
            ),
            "{warnings:?}"
        );
    }

    #[test]
    fn times_out_of_order_are_refused() {
        let cases = [
            ("-1,9,5,", "scheduled_time 5 s is before creation_time 9 s"),
            (
                "-1,9,,4.5",
                "deletion_time 4.5 s is before creation_time 9 s",
            ),
        ];
        for (tail, want) in cases {
            let body = format!("i0,HN,a,1,1,1,1,1,1,1,1,1,1,{tail}\n");
            assert_eq!(
                parse_str(&body).unwrap_err().to_string(),
                format!("t/dlrm.csv:2: {want}")
            );
        }
    }

    #[test]
    fn reads_the_shipped_trace() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../traces/alibaba-dlrm-2025/disaggregated_DLRM_trace.csv");
        let w = read(&path).unwrap();
        assert_eq!(w.pods.len(), 23_871);
        let gpu = w.pods.iter().filter(|p| p.is_gpu_pod()).count();
        assert_eq!(gpu, 7_386);
        let apps: std::collections::BTreeSet<_> =
            w.pods.iter().filter_map(|p| p.app.as_deref()).collect();
        assert_eq!(apps.len(), 156);
        assert!(w.pods.iter().all(|p| p.work_ms.is_some()));
        let longest = w.pods.iter().filter_map(|p| p.work_ms).max().unwrap();
        assert_eq!(longest, 2_677_541_000);
    }
}
