//! flexsim's own trace format: one CSV row per job carrying every field the model uses
//! (DESIGN "Jobs"; slicing-model §7.2), so that a converted or synthetic workload replays
//! exactly as written. `traces/README.md` documents it for users; this is the reference.
//!
//! | column | required | meaning | when empty or absent |
//! |---|---|---|---|
//! | `name` | yes | unique job name | — |
//! | `arrival_s` | yes | arrival, decimal seconds from trace start (→ integer ms) | — |
//! | `work_s` | no | solo run time on a whole card of speed 1.0 for its class, decimal s | not replayable (skipped) |
//! | `cpu_milli` | yes | milli-CPU | — |
//! | `memory_mib` | yes | host memory, MiB | — |
//! | `num_gpu` | yes | number of devices; 0 = CPU-only | — |
//! | `gpu_milli` | yes | milli of *each* device, 1..=1000 (0 iff `num_gpu` is 0) | — |
//! | `gpu_memory_mib` | no | device memory on each device, MiB | the `gpu_milli` share of the card |
//! | `demand` | no | busy share when alone, `u_i` (§7.2), a fraction in (0, 1] (→ milli) | drawn by the run's demand distribution |
//! | `priority` | no | integer, higher is more important | 0 |
//! | `class` | no | job class for per-device speed (`training`, `inference`, `default`) | `default` |
//! | `latency_sensitive` | no | `true`/`false` (or `1`/`0`): counted in SLO attainment | false |
//! | `gpu_models` | no | accepted device models, `|`-separated | any |
//! | `app` | no | application, for per-app density limits | none |
//! | `max_per_node` | no | at most this many jobs of `app` on one node, positive | no limit |
//! | `rdma_pct` | no | percent of one node's RDMA NIC, 0..=100 | 0 |
//! | `num_nodes` | no | a multi-node job: this many parts on distinct nodes, positive (with `gpus_per_node`; `num_gpu` = `num_nodes` × `gpus_per_node`) | one node if one holds it, else a gang the placer splits |
//! | `gpus_per_node` | no | devices of each part, positive (with `num_nodes`) | — |
//!
//! A row with `num_nodes` ≥ 2 is a gang ([`crate::model::gang`]); its `cpu_milli` and
//! `memory_mib` are the job's totals, shared by the parts. `num_nodes` 1 is an ordinary job.
//! [`write()`] emits the two gang columns only when some job has a multi-node shape, so traces
//! without gangs keep their 16 columns.
//!
//! Times are written with at most three decimals (ms resolution) so that [`write()`] then
//! [`parse`] gives back the same [`Pod`]s (trace metadata that the model does not use — openb's
//! `qos` and raw creation/scheduled/deletion seconds — is not carried).

use crate::error::InputError;
use crate::input::csv_rows::{CsvTable, Extra, Row};
use crate::input::names::Unknowns;
use crate::input::Warnings;
use crate::model::catalog::{CLASS_DEFAULT, CLASS_INFERENCE, CLASS_TRAINING};
use crate::model::job::{GangShape, GpuSpec, Pod, Text, Workload};
use crate::model::units::{milli_decimal, GPU_MILLI};
use std::io::Write;
use std::path::Path;

/// The format's columns, in the order [`write()`] emits them (the last two, [`GANG_COLUMNS`],
/// only for a workload with a multi-node job).
pub const COLUMNS: [&str; 18] = [
    "name",
    "arrival_s",
    "work_s",
    "cpu_milli",
    "memory_mib",
    "num_gpu",
    "gpu_milli",
    "gpu_memory_mib",
    "demand",
    "priority",
    "class",
    "latency_sensitive",
    "gpu_models",
    "app",
    "max_per_node",
    "rdma_pct",
    "num_nodes",
    "gpus_per_node",
];

/// The columns of a multi-node shape ([`GangShape`]), written only when a job has one.
pub const GANG_COLUMNS: usize = 2;

/// Reads a native trace CSV from `path`.
pub fn read(path: &Path) -> Result<Workload, InputError> {
    parse(path, crate::input::csv_rows::open(path)?)
}

const SECONDS: &str = "seconds as a non-negative decimal";

/// Parses a native trace CSV; `path` names the source in messages and gives the trace name.
pub fn parse(path: &Path, source: impl std::io::Read) -> Result<Workload, InputError> {
    parse_noting(path, source, &mut Warnings::new())
}

/// The job classes a `class` value may name.
pub const CLASSES: [&str; 3] = [CLASS_DEFAULT, CLASS_TRAINING, CLASS_INFERENCE];

/// [`parse`], for the uniform reader signature: the native format, flexsim's own, has no
/// warnings — an unknown column is an error (with "did you mean"), as is an unknown `class`.
pub fn parse_noting(
    path: &Path,
    source: impl std::io::Read,
    warnings: &mut Warnings,
) -> Result<Workload, InputError> {
    let mut table = CsvTable::new(path, source)?;
    table.check_columns("native", &COLUMNS, Extra::Refuse, warnings)?;
    let name = table.column("name")?;
    let arrival = table.column("arrival_s")?;
    let cpu = table.column("cpu_milli")?;
    let mem = table.column("memory_mib")?;
    let num_gpu = table.column("num_gpu")?;
    let gpu_milli = table.column("gpu_milli")?;
    let work = table.optional_column("work_s");
    let gpu_mem = table.optional_column("gpu_memory_mib");
    let demand = table.optional_column("demand");
    let priority = table.optional_column("priority");
    let class = table.optional_column("class");
    let ls = table.optional_column("latency_sensitive");
    let models = table.optional_column("gpu_models");
    let app = table.optional_column("app");
    let per_node = table.optional_column("max_per_node");
    let rdma = table.optional_column("rdma_pct");
    let num_nodes = table.optional_column("num_nodes");
    let per_node_gpus = table.optional_column("gpus_per_node");
    let mut pods = Vec::new();
    let mut requests = crate::model::job::RequestSet::default();
    let mut names = crate::input::csv_rows::NameSet::default();
    let mut unknown_classes = Unknowns::default();
    table.for_each_row(|row| {
        let pod_name = row.unique_name(name, &mut names, "a job name")?;
        let n: u32 = row.parse(num_gpu, "a GPU count as a non-negative integer")?;
        let m: u32 = row.parse(gpu_milli, "per-GPU milli, an integer from 0 to 1000")?;
        if m > GPU_MILLI || (n == 0) != (m == 0) {
            return Err(row.error(
                gpu_milli,
                "per-GPU milli from 1 to 1000 when num_gpu > 0, and 0 when num_gpu is 0",
            ));
        }
        let mut pod = Pod::new(
            &pod_name,
            row.parse(cpu, "milli-CPU as a non-negative integer")?,
            row.parse(mem, "memory in MiB as a non-negative integer")?,
            n,
            m,
        );
        pod.arrival_ms = seconds_ms(row, arrival)?;
        pod.work_ms = match work {
            Some(c) if !row.text(c).is_empty() => Some(seconds_ms(row, c)?),
            _ => None,
        };
        pod.gpu_memory_mib = row.parse_opt(gpu_mem, "device memory in MiB, or empty")?;
        pod.demand_milli = match demand {
            Some(c) if !row.text(c).is_empty() => Some(demand_milli(row, c)?),
            _ => None,
        };
        pod.priority = row
            .parse_opt(priority, "an integer priority, or empty")?
            .unwrap_or(0);
        pod.class = class
            .map(|c| row.text(c))
            .filter(|c| !c.is_empty())
            .unwrap_or(CLASS_DEFAULT)
            .into();
        if !CLASSES.contains(&pod.class.as_str()) {
            unknown_classes.note(&pod.class, row.line());
        }
        pod.latency_sensitive = match ls.map_or("", |c| row.text(c)) {
            "" | "false" | "0" => false,
            "true" | "1" => true,
            _ => return Err(row.error(ls.unwrap_or(0), "true, false, 1, 0 or empty")),
        };
        pod.gpu_spec = GpuSpec::parse(models.map_or("", |c| row.text(c)));
        pod.app = app
            .map(|c| Text::from(row.text(c)))
            .filter(|a| !a.is_empty());
        const PER_NODE: &str = "a positive count, or empty for no limit";
        pod.max_per_node = row.parse_opt(per_node, PER_NODE)?;
        if pod.max_per_node == Some(0) {
            return Err(row.error(per_node.unwrap_or(0), PER_NODE));
        }
        const RDMA: &str = "percent of one RDMA NIC, an integer from 0 to 100, or empty";
        pod.rdma_pct = row.parse_opt(rdma, RDMA)?.unwrap_or(0);
        if pod.rdma_pct > 100 {
            return Err(row.error(rdma.unwrap_or(0), RDMA));
        }
        pod.gang = gang_shape(row, num_nodes, per_node_gpus, num_gpu, n)?;
        pods.push(requests.share(pod));
        Ok(())
    })?;
    if let Some(c) = class {
        let expected = format!("a job class ({}) or empty", CLASSES.join(", "));
        table.unknown_values(c, &unknown_classes, &expected, &CLASSES)?;
    }
    if pods.is_empty() {
        return Err(InputError::Invalid {
            file: path.to_owned(),
            message: "the trace has no jobs".to_owned(),
        });
    }
    Ok(Workload {
        name: crate::input::file_stem(path),
        pods,
    })
}

/// The row's multi-node shape: `None` without `num_nodes` or with `num_nodes` 1; both columns
/// must be given together, positive, and `num_gpu` must be their product.
fn gang_shape(
    row: &Row<'_>,
    nodes_col: Option<usize>,
    per_col: Option<usize>,
    num_gpu_col: usize,
    num_gpu: u32,
) -> Result<Option<GangShape>, InputError> {
    const NODES: &str = "a node count, a positive integer, or empty";
    const PER: &str = "devices on each node, a positive integer, given with num_nodes";
    let nodes: Option<u32> = row.parse_opt(nodes_col, NODES)?;
    let per: Option<u32> = row.parse_opt(per_col, PER)?;
    let (nodes_at, per_at) = (nodes_col.unwrap_or(0), per_col.unwrap_or(0));
    let (nodes, per) = match (nodes, per) {
        (None, None) => return Ok(None),
        (Some(0), _) => return Err(row.error(nodes_at, NODES)),
        (Some(_), None) => {
            return Err(match per_col {
                Some(c) => row.error(c, PER),
                None => row.error(nodes_at, "a node count given with a gpus_per_node column"),
            })
        }
        (None, Some(_)) => return Err(row.error(per_at, "empty without num_nodes (a node count)")),
        (Some(_), Some(0)) => return Err(row.error(per_at, PER)),
        (Some(k), Some(g)) => (k, g),
    };
    let total = u64::from(nodes) * u64::from(per);
    if total != u64::from(num_gpu) {
        return Err(row.error(
            num_gpu_col,
            &format!("num_nodes × gpus_per_node = {nodes} × {per} = {total} devices"),
        ));
    }
    Ok((nodes >= 2).then_some(GangShape {
        num_nodes: nodes,
        gpus_per_node: per,
    }))
}

/// Decimal seconds as integer ms, rounded.
fn seconds_ms(row: &Row<'_>, col: usize) -> Result<u64, InputError> {
    let s: f64 = row.parse(col, SECONDS)?;
    let ms = (s * 1000.0).round();
    // Below 2^53 ms (285,000 years) the rounding is exact.
    if !(0.0..=9.007_199_254_740_992e15).contains(&ms) {
        return Err(row.error(col, SECONDS));
    }
    Ok(ms as u64)
}

/// A demand fraction in (0, 1] as milli, at least 1.
fn demand_milli(row: &Row<'_>, col: usize) -> Result<u32, InputError> {
    const DEMAND: &str = "a busy share in (0, 1], or empty";
    let f: f64 = row.parse(col, DEMAND)?;
    if !(f > 0.0 && f <= 1.0) {
        return Err(row.error(col, DEMAND));
    }
    // In (0, 1000] after the check, so the cast is exact.
    Ok((f * 1000.0).round().max(1.0) as u32)
}

/// Writes `workload` in the native format: every column of [`COLUMNS`], less the gang columns
/// when no job has a multi-node shape.
pub fn write(workload: &Workload, out: impl Write) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let gangs = workload.pods.iter().any(|p| p.gang.is_some());
    let width = if gangs {
        COLUMNS.len()
    } else {
        COLUMNS.len() - GANG_COLUMNS
    };
    w.write_record(&COLUMNS[..width])?;
    let opt = |v: Option<String>| v.unwrap_or_default();
    for p in &workload.pods {
        let shape = |f: fn(&GangShape) -> u32| opt(p.gang.as_ref().map(|g| f(g).to_string()));
        let fields = [
            p.name.as_str(),
            &milli_decimal(p.arrival_ms),
            &opt(p.work_ms.map(milli_decimal)),
            &p.cpu_milli.to_string(),
            &p.memory_mib.to_string(),
            &p.num_gpu.to_string(),
            &p.gpu_milli.to_string(),
            &opt(p.gpu_memory_mib.map(|m| m.to_string())),
            &opt(p.demand_milli.map(|m| milli_decimal(m.into()))),
            &p.priority.to_string(),
            &p.class,
            if p.latency_sensitive { "true" } else { "false" },
            p.gpu_spec.text(),
            p.app.as_deref().unwrap_or(""),
            &opt(p.max_per_node.map(|m| m.to_string())),
            &p.rdma_pct.to_string(),
            &shape(|g| g.num_nodes),
            &shape(|g| g.gpus_per_node),
        ];
        w.write_record(&fields[..width])?;
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pods() -> Vec<Pod> {
        let mut a = Pod::new("a", 4000, 15258, 1, 470);
        a.arrival_ms = 1_234_567;
        a.work_ms = Some(616_001);
        a.demand_milli = Some(191);
        a.priority = 3;
        a.class = "inference".into();
        a.latency_sensitive = true;
        a.gpu_spec = GpuSpec::parse("V100M16|V100M32");
        a.gpu_memory_mib = Some(8192);
        a.app = Some("app, with comma".into());
        a.max_per_node = Some(4);
        a.rdma_pct = 25;
        let b = Pod::new("b", 12500, 51200, 0, 0);
        let mut c = Pod::new("c", 64000, 263168, 8, 1000);
        c.arrival_ms = 1_234_567;
        c.work_ms = Some(0);
        c.demand_milli = Some(1000);
        c.priority = -1;
        c.class = "training".into();
        vec![a, b, c]
    }

    #[test]
    fn write_then_parse_round_trips() {
        let w = Workload {
            name: "round".into(),
            pods: pods(),
        };
        let mut out = Vec::new();
        write(&w, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let base = &COLUMNS[..COLUMNS.len() - GANG_COLUMNS];
        assert!(text.starts_with(&format!("{}\n", base.join(","))), "{text}");
        assert!(text.contains("a,1234.567,616.001,4000,15258,1,470,8192,0.191,3,inference,true,V100M16|V100M32,\"app, with comma\",4,25\n"), "{text}");
        let back = parse(Path::new("d/round.csv"), text.as_bytes()).unwrap();
        assert_eq!(back, w);
    }

    #[test]
    fn round_trips_the_dlrm_trace_fields_the_model_uses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../traces/alibaba-dlrm-2025/disaggregated_DLRM_trace.csv");
        let mut w = crate::input::trace::dlrm::read(&path).unwrap();
        w.pods.truncate(3000);
        for p in &mut w.pods {
            p.set_trace_times(Default::default());
        }
        let mut out = Vec::new();
        write(&w, &mut out).unwrap();
        let back = parse(Path::new("disaggregated_DLRM_trace.csv"), out.as_slice()).unwrap();
        assert_eq!(back, w);
    }

    #[test]
    fn optional_columns_may_be_absent() {
        let text = "name,arrival_s,cpu_milli,memory_mib,num_gpu,gpu_milli\nj,1.5,1000,1024,1,250\n";
        let w = parse(Path::new("min.csv"), text.as_bytes()).unwrap();
        let p = &w.pods[0];
        assert_eq!(
            (p.arrival_ms, p.work_ms, p.demand_milli),
            (1500, None, None)
        );
        assert_eq!(
            (p.priority, p.class.as_str(), p.latency_sensitive),
            (0, CLASS_DEFAULT, false)
        );
        assert!(p.gpu_spec.models().is_empty() && p.app.is_none() && p.max_per_node.is_none());
    }

    #[test]
    fn bad_fields_name_file_line_and_column() {
        let head = "name,arrival_s,work_s,cpu_milli,memory_mib,num_gpu,gpu_milli,demand,latency_sensitive,max_per_node,rdma_pct\n";
        let cases = [
            ("j,-1,1,1,1,1,500,,,,", "column arrival_s: expected seconds as a non-negative decimal, got \"-1\""),
            ("j,1,x,1,1,1,500,,,,", "column work_s: expected seconds as a non-negative decimal, got \"x\""),
            ("j,1,1,1,1,1,1500,,,,", "column gpu_milli: expected per-GPU milli from 1 to 1000 when num_gpu > 0, and 0 when num_gpu is 0, got \"1500\""),
            ("j,1,1,1,1,0,500,,,,", "column gpu_milli: expected per-GPU milli from 1 to 1000 when num_gpu > 0, and 0 when num_gpu is 0, got \"500\""),
            ("j,1,1,1,1,1,500,0,,,", "column demand: expected a busy share in (0, 1], or empty, got \"0\""),
            ("j,1,1,1,1,1,500,1.2,,,", "column demand: expected a busy share in (0, 1], or empty, got \"1.2\""),
            ("j,1,1,1,1,1,500,,yes,,", "column latency_sensitive: expected true, false, 1, 0 or empty, got \"yes\""),
            ("j,1,1,1,1,1,500,,,0,", "column max_per_node: expected a positive count, or empty for no limit, got \"0\""),
            ("j,1,1,1,1,1,500,,,,101", "column rdma_pct: expected percent of one RDMA NIC, an integer from 0 to 100, or empty, got \"101\""),
        ];
        for (row, want) in cases {
            let text = format!("{head}ok,0,1,1,1,0,0,,,,\n{row}\n");
            let e = parse(Path::new("n.csv"), text.as_bytes()).unwrap_err();
            assert_eq!(e.to_string(), format!("n.csv:3: {want}"));
        }
    }

    #[test]
    fn misspelt_optional_column_is_refused_with_did_you_mean() {
        let text = "name,arrival_s,cpu_milli,memory_mib,num_gpu,gpu_milli,demnad,colour\nj,1,1,1,1,500,0.5,red\n";
        let e = parse(Path::new("n.csv"), text.as_bytes()).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "n.csv:1: unknown columns \"demnad\" (did you mean \"demand\"?), \"colour\"; \
                 the native format's columns are: {}",
                COLUMNS.join(", ")
            )
        );
    }

    #[test]
    fn duplicate_column_is_refused() {
        let text = "name,arrival_s,cpu_milli,memory_mib,num_gpu,gpu_milli,demand,demand\nj,1,1,1,1,500,0.5,0.9\n";
        let e = parse(Path::new("n.csv"), text.as_bytes()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "n.csv:1: column \"demand\" appears twice in the header (fields 7 and 8); which one to \
             read is ambiguous"
        );
    }

    #[test]
    fn unknown_class_values_are_reported_together() {
        let text = "name,arrival_s,cpu_milli,memory_mib,num_gpu,gpu_milli,class\n\
                    a,1,1,1,1,500,trainig\nb,1,1,1,1,500,inference\nc,1,1,1,1,500,batch\n\
                    d,1,1,1,1,500,trainig\n";
        let e = parse(Path::new("n.csv"), text.as_bytes()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "n.csv:2: column class: expected a job class (default, training, inference) or empty, \
             got \"trainig\" (did you mean \"training\"?); also unknown: \"batch\" (line 4)"
        );
    }

    #[test]
    fn negative_and_non_numbers_are_refused() {
        let head = "name,arrival_s,work_s,cpu_milli,memory_mib,num_gpu,gpu_milli,demand,priority\n";
        let cases = [
            ("j,NaN,1,1,1,1,500,,", "arrival_s", "NaN"),
            ("j,inf,1,1,1,1,500,,", "arrival_s", "inf"),
            ("j,1,-0.5,1,1,1,500,,", "work_s", "-0.5"),
            ("j,1,1,-1,1,1,500,,", "cpu_milli", "-1"),
            ("j,1,1,1,1e3,1,500,,", "memory_mib", "1e3"),
            ("j,1,1,1,1,-1,500,,", "num_gpu", "-1"),
            ("j,1,1,1,1,1,500,NaN,", "demand", "NaN"),
            ("j,1,1,1,1,1,500,-0.2,", "demand", "-0.2"),
            ("j,1,1,1,1,1,500,,1.5", "priority", "1.5"),
        ];
        for (row, column, got) in cases {
            let text = format!("{head}{row}\n");
            let e = parse(Path::new("n.csv"), text.as_bytes())
                .unwrap_err()
                .to_string();
            assert!(
                e.starts_with(&format!("n.csv:2: column {column}: expected "))
                    && e.ends_with(&format!("got \"{got}\"")),
                "{row}: {e}"
            );
        }
    }

    #[test]
    fn gang_columns_round_trip_and_appear_only_with_a_gang() {
        let mut w = Workload {
            name: "g".into(),
            pods: pods(),
        };
        let mut out = Vec::new();
        write(&w, &mut out).unwrap();
        let header = String::from_utf8(out).unwrap();
        assert!(!header.contains("num_nodes"), "{header}");
        w.pods[2].num_gpu = 16;
        w.pods[2].gang = Some(GangShape {
            num_nodes: 2,
            gpus_per_node: 8,
        });
        let mut out = Vec::new();
        write(&w, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with(&COLUMNS.join(",")), "{text}");
        assert!(text.contains(",0,2,8\n"), "{text}");
        assert_eq!(parse(Path::new("g.csv"), text.as_bytes()).unwrap(), w);
        // num_nodes 1 is an ordinary job.
        let one = "name,arrival_s,cpu_milli,memory_mib,num_gpu,gpu_milli,num_nodes,gpus_per_node\n\
                   j,0,1,1,4,1000,1,4\n";
        assert_eq!(
            parse(Path::new("o.csv"), one.as_bytes()).unwrap().pods[0].gang,
            None
        );
    }

    #[test]
    fn bad_gang_fields_name_file_line_and_column() {
        let head =
            "name,arrival_s,cpu_milli,memory_mib,num_gpu,gpu_milli,num_nodes,gpus_per_node\n";
        let cases = [
            ("j,0,1,1,16,1000,0,8", "column num_nodes: expected a node count, a positive integer, or empty, got \"0\""),
            ("j,0,1,1,16,1000,x,8", "column num_nodes: expected a node count, a positive integer, or empty, got \"x\""),
            ("j,0,1,1,16,1000,2,", "column gpus_per_node: expected devices on each node, a positive integer, given with num_nodes, got \"\""),
            ("j,0,1,1,16,1000,2,0", "column gpus_per_node: expected devices on each node, a positive integer, given with num_nodes, got \"0\""),
            ("j,0,1,1,16,1000,,8", "column gpus_per_node: expected empty without num_nodes (a node count), got \"8\""),
            ("j,0,1,1,8,1000,2,8", "column num_gpu: expected num_nodes × gpus_per_node = 2 × 8 = 16 devices, got \"8\""),
        ];
        for (row, want) in cases {
            let text = format!("{head}{row}\n");
            let e = parse(Path::new("n.csv"), text.as_bytes()).unwrap_err();
            assert_eq!(e.to_string(), format!("n.csv:2: {want}"));
        }
        let no_per =
            "name,arrival_s,cpu_milli,memory_mib,num_gpu,gpu_milli,num_nodes\nj,0,1,1,16,1000,2\n";
        assert_eq!(
            parse(Path::new("n.csv"), no_per.as_bytes()).unwrap_err().to_string(),
            "n.csv:2: column num_nodes: expected a node count given with a gpus_per_node column, got \"2\""
        );
    }

    #[test]
    fn decimals_are_short() {
        assert_eq!(milli_decimal(50), "0.05");
    }
}
