//! Trace readers: one module per format, each turning a file into a [`Workload`], and
//! [`read_any`], which picks the reader from the file's header line — or, for the formats
//! that have none, from the file's name (Alibaba PAI 2020) or its first character (a JSON
//! object: a Kubernetes snapshot; a JSON array: Philly's job log). [`info`] computes a trace's
//! shape for `flexsim trace info`.
//!
//! [`Workload`]: crate::model::job::Workload

pub mod acme;
pub mod dlrm;
pub mod helios;
pub mod info;
pub mod jobs;
pub mod k8s;
pub mod native;
pub mod openb;
pub mod pai;
pub mod philly;
pub mod spot_gpu;
pub mod tiresias;

use crate::error::InputError;
use crate::input::Warnings;
use crate::model::job::Workload;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

/// A trace format flexsim reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TraceFormat {
    /// flexsim's own format ([`native`]): has `arrival_s`.
    Native,
    /// Alibaba cluster-trace-gpu-v2023 pod lists ([`openb`]).
    Openb,
    /// Alibaba cluster-trace-gpu-v2025 DLRM instances ([`dlrm`]): has `instance_sn,role`.
    Dlrm,
    /// Alibaba cluster-trace-gpu-v2020 (PAI) tasks ([`pai`]): no header line; a file named
    /// `pai_task_table*.csv`, its sibling tables found by name.
    Pai,
    /// Alibaba cluster-trace-v2026-spot-gpu jobs ([`spot_gpu`]): has `job_name,worker_num,
    /// job_type`.
    SpotGpu,
    /// A Kubernetes snapshot, `kubectl get nodes,pods -o json` ([`k8s`]): JSON, not CSV.
    K8s,
    /// The Tiresias simulator's job CSV ([`tiresias`]): `job_id,num_gpu,submit_time,duration`.
    Tiresias,
    /// Microsoft Philly's `cluster_job_log` ([`philly`]): a JSON array, the only non-CSV format.
    Philly,
    /// SenseTime Helios `cluster_log.csv` ([`helios`]): Slurm jobs with a `vc`.
    Helios,
    /// Shanghai AI Lab Acme (Seren, Kalos) job traces ([`acme`]): Slurm jobs with a `type`.
    Acme,
}

impl TraceFormat {
    pub const ALL: [TraceFormat; 10] = [
        TraceFormat::Native,
        TraceFormat::Openb,
        TraceFormat::Dlrm,
        TraceFormat::Pai,
        TraceFormat::SpotGpu,
        TraceFormat::K8s,
        TraceFormat::Tiresias,
        TraceFormat::Philly,
        TraceFormat::Helios,
        TraceFormat::Acme,
    ];

    /// The name used on the command line and in messages.
    pub fn name(self) -> &'static str {
        match self {
            TraceFormat::Native => "native",
            TraceFormat::Openb => "openb",
            TraceFormat::Dlrm => "dlrm",
            TraceFormat::Pai => "pai",
            TraceFormat::SpotGpu => "spot-gpu",
            TraceFormat::K8s => "k8s",
            TraceFormat::Tiresias => "tiresias",
            TraceFormat::Philly => "philly",
            TraceFormat::Helios => "helios",
            TraceFormat::Acme => "acme",
        }
    }

    /// Whether the format is JSON (Philly's job log, a Kubernetes snapshot), told by its first
    /// character rather than a CSV header.
    pub fn is_json(self) -> bool {
        matches!(self, TraceFormat::Philly | TraceFormat::K8s)
    }

    /// The header columns that identify the format (all must be present); for Philly the keys
    /// of each job; empty for the formats without a header line, which
    /// [`TraceFormat::detect`] never picks.
    pub fn signature(self) -> &'static [&'static str] {
        match self {
            TraceFormat::Native => &["name", "arrival_s"],
            TraceFormat::Openb => &["name", "cpu_milli", "memory_mib", "num_gpu", "gpu_milli"],
            TraceFormat::Dlrm => &["instance_sn", "role"],
            TraceFormat::Tiresias => &["job_id", "num_gpu", "submit_time", "duration"],
            TraceFormat::Philly => &["jobid", "attempts"],
            TraceFormat::Helios => &[
                "job_id",
                "vc",
                "gpu_num",
                "submit_time",
                "start_time",
                "end_time",
            ],
            TraceFormat::Acme => &[
                "job_id",
                "type",
                "gpu_num",
                "node_num",
                "submit_time",
                "start_time",
                "end_time",
            ],
            TraceFormat::SpotGpu => &["job_name", "worker_num", "job_type"],
            TraceFormat::Pai | TraceFormat::K8s => &[],
        }
    }

    /// What identifies the format, for messages: its signature columns, or how a headerless
    /// format is recognised.
    pub fn identified_by(self) -> String {
        match self {
            TraceFormat::Pai => format!(
                "no header line: a file named {}*.csv, its header published as {}",
                pai::TASK_TABLE,
                pai::TASK_COLUMNS.join(",")
            ),
            TraceFormat::K8s => {
                "JSON: a List of Node and Pod objects, as `kubectl get nodes,pods -o json` writes"
                    .to_owned()
            }
            TraceFormat::Philly => {
                format!("a JSON array of jobs with {}", self.signature().join(","))
            }
            f => f.signature().join(","),
        }
    }

    /// The CSV format whose signature the header has. Native is tried first: its required
    /// columns include openb's. (Helios and Acme differ in `vc` / `type`; Tiresias writes
    /// `num_gpu` where they write `gpu_num`.)
    pub fn detect<S: AsRef<str>>(header: &[S]) -> Option<TraceFormat> {
        TraceFormat::ALL.into_iter().find(|f| {
            !f.is_json()
                && !f.signature().is_empty()
                && f.signature()
                    .iter()
                    .all(|col| header.iter().any(|h| h.as_ref().trim() == *col))
        })
    }

    /// Reads `path` with this format's reader.
    pub fn read(self, path: &Path) -> Result<Workload, InputError> {
        self.read_noting(path, &mut Warnings::new())
    }

    /// Reads `path` with this format's reader, pushing what it warns of onto `warnings`.
    pub fn read_noting(self, path: &Path, warnings: &mut Warnings) -> Result<Workload, InputError> {
        let source = crate::input::csv_rows::open(path)?;
        let mut workload = match self {
            TraceFormat::Native => native::parse_noting(path, source, warnings),
            TraceFormat::Openb => openb::parse_noting(path, source, warnings),
            TraceFormat::Dlrm => dlrm::parse_noting(path, source, warnings),
            TraceFormat::Pai => pai::parse_noting(path, source, warnings),
            TraceFormat::SpotGpu => spot_gpu::parse_noting(path, source, warnings),
            TraceFormat::K8s => k8s::parse_noting(path, source, warnings),
            TraceFormat::Tiresias => tiresias::parse_noting(path, source, warnings),
            TraceFormat::Philly => philly::parse_noting(path, source, warnings),
            TraceFormat::Helios => helios::parse_noting(path, source, warnings),
            TraceFormat::Acme => acme::parse_noting(path, source, warnings),
        }?;
        // The list grew by doubling: give back the unused tail (up to half of it).
        workload.pods.shrink_to_fit();
        Ok(workload)
    }

    /// "native (name,arrival_s), openb (...), dlrm (...)", for error messages.
    pub fn known() -> String {
        TraceFormat::ALL
            .iter()
            .map(|f| format!("{} ({})", f.name(), f.identified_by()))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

impl fmt::Display for TraceFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for TraceFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        TraceFormat::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                format!(
                    "unknown trace format {s:?}; known: {}",
                    TraceFormat::known()
                )
            })
    }
}

/// The format of the trace at `path`: from its name for PAI 2020's headerless tables, else
/// from its content ([`detect_source`]).
pub fn detect_file(path: &Path) -> Result<TraceFormat, InputError> {
    if let Some(f) = pai::detect_name(path)? {
        return Ok(f);
    }
    detect_source(path, crate::input::csv_rows::open(path)?)
}

/// The format of a trace whose text is `source`; `path` names it in messages. A text whose
/// first non-blank byte opens a JSON object is a Kubernetes snapshot, one that opens a JSON
/// array Philly's job log; any other is CSV, recognised by its header line.
pub fn detect_source(path: &Path, source: impl std::io::Read) -> Result<TraceFormat, InputError> {
    use std::io::BufRead;
    let mut source = std::io::BufReader::new(source);
    let io = |e| InputError::Io {
        file: path.to_owned(),
        source: e,
    };
    if k8s::starts_as_json(&mut source).map_err(io)? {
        return Ok(TraceFormat::K8s);
    }
    if philly::looks_like_job_log(source.fill_buf().map_err(io)?) {
        return Ok(TraceFormat::Philly);
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(source);
    let header = reader.headers().map_err(|e| InputError::Row {
        file: path.to_owned(),
        line: 1,
        message: format!("cannot read the header: {e}"),
    })?;
    let header: Vec<&str> = header.iter().collect();
    TraceFormat::detect(&header).ok_or_else(|| InputError::Row {
        file: path.to_owned(),
        line: 1,
        message: format!(
            "header ({}) matches no known trace format; known formats and the columns that \
             identify them: {}",
            header.join(","),
            TraceFormat::known()
        ),
    })
}

/// Reads a trace in any known format, chosen by its header ([`TraceFormat::detect`]).
/// Warnings (columns a published format does not have) are dropped: see [`read_any_noting`].
pub fn read_any(path: &Path) -> Result<Workload, InputError> {
    detect_file(path)?.read(path)
}

/// [`read_any`], pushing what the reader warns of onto `warnings`.
pub fn read_any_noting(path: &Path, warnings: &mut Warnings) -> Result<Workload, InputError> {
    detect_file(path)?.read_noting(path, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect(text: &str) -> Result<TraceFormat, InputError> {
        detect_source(Path::new("t.csv"), text.as_bytes())
    }

    #[test]
    fn detects_each_format_by_its_header() {
        let openb = "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos\np,1,1,1,1,,\n";
        assert_eq!(detect(openb).unwrap(), TraceFormat::Openb);
        let native = format!("{}\n", native::COLUMNS.join(","));
        assert_eq!(detect(&native).unwrap(), TraceFormat::Native);
        let dlrm = "instance_sn,role,app_name,cpu_request\n";
        assert_eq!(detect(dlrm).unwrap(), TraceFormat::Dlrm);
        let spot = "job_name,organization,gpu_model,cpu_request,gpu_request,worker_num,\
                    submit_time,duration,job_type\n";
        assert_eq!(detect(spot).unwrap(), TraceFormat::SpotGpu);
        // JSON after blanks and a byte-order mark: a Kubernetes snapshot.
        assert_eq!(
            detect("\u{feff}\n  {\"kind\": \"List\"}").unwrap(),
            TraceFormat::K8s
        );
        // The headerless formats are never matched by a header.
        assert_eq!(TraceFormat::detect::<&str>(&[]), None);

        let tiresias = "job_id,num_gpu,submit_time,iterations,model_name,duration,interval\n";
        assert_eq!(detect(tiresias).unwrap(), TraceFormat::Tiresias);
        let helios = format!("{}\n", helios::COLUMNS.join(","));
        assert_eq!(detect(&helios).unwrap(), TraceFormat::Helios);
        let seren = "job_id,user,node_num,gpu_num,cpu_num,type,state,submit_time,start_time,\
                     end_time,duration,queue,gpu_time\n";
        assert_eq!(detect(seren).unwrap(), TraceFormat::Acme);
        let kalos = format!("{}\n", acme::COLUMNS.join(","));
        assert_eq!(detect(&kalos).unwrap(), TraceFormat::Acme);
        assert_eq!(detect(" \n[{\"jobid\": 1}]").unwrap(), TraceFormat::Philly);
    }

    #[test]
    fn every_fixture_is_detected_as_its_format() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../traces/fixtures");
        for (file, format) in [
            ("tiresias/tiresias_job.csv", TraceFormat::Tiresias),
            ("philly/cluster_job_log", TraceFormat::Philly),
            ("helios/cluster_log.csv", TraceFormat::Helios),
            ("acme/trace_seren.csv", TraceFormat::Acme),
            ("acme/trace_kalos.csv", TraceFormat::Acme),
        ] {
            assert_eq!(detect_file(&root.join(file)).unwrap(), format, "{file}");
            assert!(read_any(&root.join(file)).is_ok(), "{file}");
        }
    }

    #[test]
    fn unknown_header_lists_the_known_formats() {
        let e = detect("sn,cpu,gpu\n1,2,3\n").unwrap_err().to_string();
        assert!(
            e.starts_with("t.csv:1: header (sn,cpu,gpu) matches no known trace format"),
            "{e}"
        );
        assert!(
            e.contains("native (name,arrival_s)") && e.contains("dlrm (instance_sn,role)"),
            "{e}"
        );
        assert!(
            e.contains("openb (name,cpu_milli,memory_mib,num_gpu,gpu_milli)"),
            "{e}"
        );
        assert!(
            e.contains("pai (no header line: a file named pai_task_table*.csv")
                && e.contains("spot-gpu (job_name,worker_num,job_type)")
                && e.contains("k8s (JSON: a List of Node and Pod objects"),
            "{e}"
        );
    }

    #[test]
    fn format_names_parse() {
        for f in TraceFormat::ALL {
            assert_eq!(f.name().parse::<TraceFormat>().unwrap(), f);
        }
        assert!("csv".parse::<TraceFormat>().unwrap_err().contains("known"));
    }

    #[test]
    fn read_any_reads_the_shipped_traces() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../traces");
        let openb = read_any(&root.join("openb/openb_pod_list_default.csv")).unwrap();
        assert_eq!(openb.pods.len(), 8152);
        let dlrm = read_any(&root.join("alibaba-dlrm-2025/disaggregated_DLRM_trace.csv")).unwrap();
        assert_eq!(dlrm.pods.len(), 23_871);
        let e = read_any(&root.join("no-such-file.csv")).unwrap_err();
        assert!(e.to_string().contains("no-such-file.csv"), "{e}");
    }
}
