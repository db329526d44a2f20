//! The openb pod list (Alibaba cluster-trace-gpu-v2023, fgd-protocol §2.1).
//!
//! Columns `name,cpu_milli,memory_mib,num_gpu,gpu_milli` are required; `gpu_spec,qos,
//! pod_phase,creation_time,deletion_time,scheduled_time` are optional (the multigpu traces
//! lack them). GPU fields follow the converter's rules ([`Pod::normalise_gpu`]).

use crate::error::InputError;
use crate::input::csv_rows::{CsvTable, Extra};
use crate::input::names::Unknowns;
use crate::input::Warnings;
use crate::model::job::{GpuSpec, Pod, Workload};
use std::path::Path;

/// Reads an openb pod CSV from `path`.
pub fn read(path: &Path) -> Result<Workload, InputError> {
    parse(path, crate::input::csv_rows::open(path)?)
}

/// The columns of the published openb pod lists; `pod_phase` is read by nobody (the times say
/// whether a pod ran).
pub const COLUMNS: [&str; 11] = [
    "name",
    "cpu_milli",
    "memory_mib",
    "num_gpu",
    "gpu_milli",
    "gpu_spec",
    "qos",
    "pod_phase",
    "creation_time",
    "deletion_time",
    "scheduled_time",
];

/// The largest time a trace may give, seconds: 2^53 ms, where the readers' ms stay exact.
const MAX_S: u64 = 9_007_199_254_740;

/// The QoS classes of the openb traces, most important first
/// ([`crate::model::job::openb_priority`]).
pub const QOS: [&str; 4] = ["LS", "Guaranteed", "Burstable", "BE"];

/// Parses an openb pod CSV; `path` names the source in messages and gives the trace name.
pub fn parse(path: &Path, source: impl std::io::Read) -> Result<Workload, InputError> {
    parse_noting(path, source, &mut Warnings::new())
}

/// [`parse`], pushing a warning for columns the openb format does not have onto `warnings`.
/// An unknown `qos` value is an error (it sets priority and SLO accounting), as are times out
/// of order (scheduled before creation, deletion before either).
pub fn parse_noting(
    path: &Path,
    source: impl std::io::Read,
    warnings: &mut Warnings,
) -> Result<Workload, InputError> {
    let mut table = CsvTable::new(path, source)?;
    table.check_columns("openb", &COLUMNS, Extra::Warn, warnings)?;
    let name = table.column("name")?;
    let cpu = table.column("cpu_milli")?;
    let mem = table.column("memory_mib")?;
    let num_gpu = table.column("num_gpu")?;
    let gpu_milli = table.column("gpu_milli")?;
    let spec = table.optional_column("gpu_spec");
    let qos = table.optional_column("qos");
    let created = table.optional_column("creation_time");
    let scheduled = table.optional_column("scheduled_time");
    let deleted = table.optional_column("deletion_time");
    let mut pods = Vec::new();
    let mut requests = crate::model::job::RequestSet::default();
    let mut names = crate::input::csv_rows::NameSet::default();
    let mut unknown_qos = Unknowns::default();
    const SECONDS: &str = "seconds as a non-negative integer up to 9007199254740, or empty";
    let seconds = |row: &crate::input::csv_rows::Row<'_>, col| -> Result<_, InputError> {
        let s: Option<u64> = row.parse_opt(col, SECONDS)?;
        // Kept to the ms as u64 arithmetic (arrival, work): refuse what would overflow it.
        match (s, col) {
            (Some(v), Some(c)) if v > MAX_S => Err(row.error(c, SECONDS)),
            _ => Ok(s),
        }
    };
    table.for_each_row(|row| {
        let pod_name = row.unique_name(name, &mut names, "a pod name")?;
        let mut pod = Pod::new(
            &pod_name,
            row.parse(cpu, "milli-CPU as a non-negative integer")?,
            row.parse(mem, "memory in MiB as a non-negative integer")?,
            row.parse(num_gpu, "a GPU count as a non-negative integer")?,
            row.parse(gpu_milli, "per-GPU milli as a non-negative integer")?,
        );
        pod.gpu_spec = GpuSpec::parse(spec.map_or("", |c| row.text(c)));
        pod.qos = qos
            .map(|c| crate::model::job::Text::from(row.text(c)))
            .filter(|q| !q.is_empty());
        if let Some(q) = pod.qos.as_deref().filter(|q| !QOS.contains(q)) {
            unknown_qos.note(q, row.line());
        }
        pod.set_trace_times(crate::model::job::TraceTimes {
            creation_s: seconds(row, created)?,
            scheduled_s: seconds(row, scheduled)?,
            deletion_s: seconds(row, deleted)?,
        });
        let times = [
            ("creation_time", pod.creation_time_s()),
            ("scheduled_time", pod.scheduled_time_s()),
            ("deletion_time", pod.deletion_time_s()),
        ];
        if let Some(message) = out_of_order(&times) {
            return Err(row.invalid(message));
        }
        set_replay_fields(&mut pod);
        pods.push(requests.share(pod));
        Ok(())
    })?;
    if let Some(c) = qos {
        let expected = format!("a QoS class ({}) or empty", QOS.join(", "));
        table.unknown_values(c, &unknown_qos, &expected, &QOS)?;
    }
    if pods.is_empty() {
        return Err(InputError::Invalid {
            file: path.to_owned(),
            message: "the trace has no pods".to_owned(),
        });
    }
    Ok(Workload {
        name: crate::input::file_stem(path),
        pods,
    })
}

/// "deletion_time 5 s is before scheduled_time 9 s": the first pair of present times, in the
/// order given (creation, scheduled, deletion), where a later one is earlier. Shared with the
/// DLRM reader, whose times are the same three columns.
pub(crate) fn out_of_order<T: PartialOrd + std::fmt::Display>(
    times: &[(&str, Option<T>)],
) -> Option<String> {
    for (i, (later, b)) in times.iter().enumerate() {
        for (earlier, a) in &times[..i] {
            if let (Some(a), Some(b)) = (a, b) {
                if b < a {
                    return Some(format!("{later} {b} s is before {earlier} {a} s"));
                }
            }
        }
    }
    None
}

/// Replay fields from the openb columns. A pod arrives at its creation time and its work is
/// its scheduled→deletion span: how long it really ran. Pods that never ran (no scheduled or
/// deletion time: the trace's `Pending` pods) get no work and are left out of replay, which
/// reports how many it skipped. QoS LS is latency-sensitive; the GPU busy share is not in the
/// trace, so demand is drawn by the replay's distribution.
fn set_replay_fields(pod: &mut Pod) {
    pod.arrival_ms = pod.creation_time_s().unwrap_or(0) * 1000;
    pod.work_ms = match (pod.scheduled_time_s(), pod.deletion_time_s()) {
        // Out-of-order times were refused by the reader.
        (Some(s), Some(d)) => Some(d.saturating_sub(s) * 1000),
        _ => None,
    };
    pod.priority = crate::model::job::openb_priority(pod.qos.as_deref());
    pod.latency_sensitive = pod.qos.as_deref() == Some("LS");
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\n";

    #[test]
    fn reads_rows_with_and_without_optional_columns() {
        let full = format!("{HEAD}p0,12000,16384,1,460,V100M16|V100M32,LS,Running,0,12,3\np1,6000,1,0,0,,BE,Running,,,\n");
        let w = parse(Path::new("t/openb_x.csv"), full.as_bytes()).unwrap();
        assert_eq!(w.name, "openb_x");
        assert_eq!(w.pods[0].gpu_spec.models(), ["V100M16", "V100M32"]);
        assert_eq!(w.pods[0].deletion_time_s(), Some(12));
        assert_eq!(w.pods[1].scheduled_time_s(), None);
        assert_eq!((w.pods[0].arrival_ms, w.pods[0].work_ms), (0, Some(9000)));
        assert_eq!((w.pods[0].priority, w.pods[0].latency_sensitive), (3, true));
        assert_eq!((w.pods[1].work_ms, w.pods[1].priority), (None, 0));
        let short = "name,cpu_milli,memory_mib,num_gpu,gpu_milli\np0,1,2,8,1000\n";
        let w = parse(Path::new("m.csv"), short.as_bytes()).unwrap();
        assert_eq!(w.total_gpu_milli(), 8000);
    }

    #[test]
    fn malformed_row_names_file_line_column() {
        let bad = format!("{HEAD}p0,12000,16384,1,460,,LS,Running,0,12,3\np1,6000,12288,one,460,,LS,Running,0,1,1\n");
        let e = parse(Path::new("pods.csv"), bad.as_bytes()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "pods.csv:3: column num_gpu: expected a GPU count as a non-negative integer, got \"one\""
        );
    }

    #[test]
    fn times_beyond_2_pow_53_ms_are_refused_not_overflowed() {
        // Found by fuzzing (fuzz/README.md): 18446744073709552 s × 1000 overflowed u64.
        for (created, scheduled, deleted) in [
            ("18446744073709552", "", ""),
            ("0", "0", "18446744073709552"),
            ("9007199254741", "", ""),
        ] {
            let row = format!("{HEAD}p0,1,1,1,500,,LS,Running,{created},{deleted},{scheduled}\n");
            let e = parse(Path::new("pods.csv"), row.as_bytes()).unwrap_err();
            assert!(e.to_string().contains("up to 9007199254740"), "{e}");
        }
        // The largest accepted: created and scheduled at 0, deleted at 2^53 ms.
        let max = format!("{HEAD}p0,1,1,1,500,,LS,Running,0,9007199254740,0\n");
        let w = parse(Path::new("pods.csv"), max.as_bytes()).unwrap();
        assert_eq!(w.pods[0].arrival_ms, 0);
        assert_eq!(w.pods[0].work_ms, Some(9_007_199_254_740_000));
    }

    #[test]
    fn unknown_column_is_one_warning_naming_it() {
        let text = "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spce,qos,owner\np0,1,2,1,500,T4,LS,x\n";
        let mut warnings = Warnings::new();
        let w = parse_noting(Path::new("pods.csv"), text.as_bytes(), &mut warnings).unwrap();
        assert_eq!(w.pods[0].gpu_spec.models(), Vec::<String>::new());
        assert_eq!(
            warnings,
            [format!(
                "pods.csv:1: ignoring columns the openb format does not have: \"gpu_spce\" (did \
                 you mean \"gpu_spec\"?), \"owner\" (its columns: {})",
                COLUMNS.join(", ")
            )]
        );
        let mut none = Warnings::new();
        parse_noting(Path::new("p.csv"), HEAD.as_bytes(), &mut none).unwrap_err();
        assert!(none.is_empty(), "{none:?}");
    }

    #[test]
    fn duplicate_column_is_refused() {
        let text = "name,cpu_milli,memory_mib,num_gpu,gpu_milli,qos,qos\np0,1,2,1,500,LS,BE\n";
        let e = parse(Path::new("pods.csv"), text.as_bytes()).unwrap_err();
        assert!(
            e.to_string().starts_with(
                "pods.csv:1: column \"qos\" appears twice in the header (fields 6 and 7)"
            ),
            "{e}"
        );
    }

    #[test]
    fn unknown_qos_values_are_reported_together() {
        let bad = format!(
            "{HEAD}p0,1,1,1,460,,Ls,Running,0,12,3\np1,1,1,1,460,,BE,Running,0,1,1\n\
             p2,1,1,1,460,,Gold,Running,0,1,1\np3,1,1,1,460,,Ls,Running,0,1,1\n"
        );
        let e = parse(Path::new("pods.csv"), bad.as_bytes()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "pods.csv:2: column qos: expected a QoS class (LS, Guaranteed, Burstable, BE) or \
             empty, got \"Ls\" (did you mean \"LS\"?); also unknown: \"Gold\" (line 4)"
        );
    }

    #[test]
    fn times_out_of_order_are_refused() {
        let cases = [
            ("9,20,5", "scheduled_time 5 s is before creation_time 9 s"),
            ("0,4,6", "deletion_time 4 s is before scheduled_time 6 s"),
            ("9,4,", "deletion_time 4 s is before creation_time 9 s"),
        ];
        for (times, want) in cases {
            let bad = format!("{HEAD}p0,1,1,1,460,,LS,Running,{times}\n");
            let e = parse(Path::new("pods.csv"), bad.as_bytes()).unwrap_err();
            assert_eq!(e.to_string(), format!("pods.csv:2: {want}"));
        }
        let huge = format!("{HEAD}p0,1,1,1,460,,LS,Running,0,99999999999999999,0\n");
        let e = parse(Path::new("pods.csv"), huge.as_bytes()).unwrap_err();
        assert!(e.to_string().contains("column deletion_time"), "{e}");
    }

    #[test]
    fn ragged_row_is_reported_with_its_line() {
        let bad = "name,cpu_milli,memory_mib,num_gpu,gpu_milli\np0,1,2,3\n";
        let e = parse(Path::new("pods.csv"), bad.as_bytes()).unwrap_err();
        assert!(
            e.to_string().starts_with("pods.csv:2: expected 5 fields"),
            "{e}"
        );
    }
}
