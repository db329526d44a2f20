//! The openb pod list (Alibaba cluster-trace-gpu-v2023, fgd-protocol §2.1).
//!
//! Columns `name,cpu_milli,memory_mib,num_gpu,gpu_milli` are required; `gpu_spec,qos,
//! pod_phase,creation_time,deletion_time,scheduled_time` are optional (the multigpu traces
//! lack them). GPU fields follow the converter's rules ([`Pod::normalise_gpu`]).

use crate::error::InputError;
use crate::input::csv_rows::CsvTable;
use crate::model::job::{GpuSpec, Pod, Workload};
use std::path::Path;

/// Reads an openb pod CSV from `path`.
pub fn read(path: &Path) -> Result<Workload, InputError> {
    parse(path, crate::input::csv_rows::open(path)?)
}

/// Parses an openb pod CSV; `path` names the source in messages and gives the trace name.
pub fn parse(path: &Path, source: impl std::io::Read) -> Result<Workload, InputError> {
    let mut table = CsvTable::new(path, source)?;
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
    let mut names = std::collections::BTreeSet::new();
    const SECONDS: &str = "seconds as a non-negative integer, or empty";
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
            .map(|c| row.text(c).to_owned())
            .filter(|q| !q.is_empty());
        pod.creation_time_s = row.parse_opt(created, SECONDS)?;
        pod.scheduled_time_s = row.parse_opt(scheduled, SECONDS)?;
        pod.deletion_time_s = row.parse_opt(deleted, SECONDS)?;
        set_replay_fields(&mut pod);
        pods.push(pod);
        Ok(())
    })?;
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

/// Replay fields from the openb columns. A pod arrives at its creation time and its work is
/// its scheduled→deletion span: how long it really ran. Pods that never ran (no scheduled or
/// deletion time: the trace's `Pending` pods) get no work and are left out of replay, which
/// reports how many it skipped. QoS LS is latency-sensitive; the GPU busy share is not in the
/// trace, so demand is drawn by the replay's distribution.
fn set_replay_fields(pod: &mut Pod) {
    pod.arrival_ms = pod.creation_time_s.unwrap_or(0) * 1000;
    pod.work_ms = match (pod.scheduled_time_s, pod.deletion_time_s) {
        (Some(s), Some(d)) if d >= s => Some((d - s) * 1000),
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
        assert_eq!(w.pods[0].gpu_spec.models, ["V100M16", "V100M32"]);
        assert_eq!(w.pods[0].deletion_time_s, Some(12));
        assert_eq!(w.pods[1].scheduled_time_s, None);
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
    fn ragged_row_is_reported_with_its_line() {
        let bad = "name,cpu_milli,memory_mib,num_gpu,gpu_milli\np0,1,2,3\n";
        let e = parse(Path::new("pods.csv"), bad.as_bytes()).unwrap_err();
        assert!(
            e.to_string().starts_with("pods.csv:2: expected 5 fields"),
            "{e}"
        );
    }
}
