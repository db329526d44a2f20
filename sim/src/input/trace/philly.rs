//! Microsoft Philly's job log (`msr-fiddle/philly-traces`, `trace-data.tar.gz`:
//! `cluster_job_log`; ATC'19, Jeon et al., "Analysis of Large-Scale Multi-Tenant GPU Clusters for
//! DNN Training Workloads" — cite it when used; CC BY 4.0). The machine list of the same
//! archive is a fleet ([`crate::input::philly_machines`]).
//!
//! The log is one JSON array of 117,325 jobs (6.6 GB with the utilisation files), each
//! `{"status", "vc", "jobid", "attempts": [{"start_time", "end_time", "detail": [{"ip",
//! "gpus": [...]}]}], "submitted_time", "user"}` (the repository's README, "Schema"). It is
//! read streaming: serde visits the array one job at a time, and only the mapped jobs stay in
//! memory. A file whose first non-blank character is `[` is taken as this format.
//!
//! ## Mapping to [`Pod`]
//!
//! | Philly key | pod field | rule |
//! |---|---|---|
//! | `jobid` | `name` | required, unique |
//! | `attempts[-1].detail` | `num_gpu`, `gpu_milli` | the GPUs of the last attempt (the one that ran to the job's end, as Blox's parser takes them; the repository's notebook counts the first attempt's — they differ only for jobs whose retries changed size), summed over its machines; whole GPUs, 1000 milli each |
//! | `attempts[-1].detail` | `gang` | more than one machine, each with the same number of GPUs ⇒ a gang of (machines × GPUs per machine); uneven machines ⇒ no shape (the placer splits the job if no node holds it) |
//! | `submitted_time` | `arrival_ms` | `YYYY-MM-DD HH:MM:SS` as written (the cluster's local time; no zone in the log); time 0 = the earliest submission of the file |
//! | `attempts[*]` | `work_ms` | the sum over attempts of `end_time − start_time`: the GPU time the job really held, retries included — each retry restarts the job's work, and the trace does not say how much of a failed attempt survived, so the replay offers the same GPU time the cluster served (Blox's `helpers/parse_philly_jobs.py` with `sum_attempts` does the same). Attempts lacking a time (`null`, or the string `"None"` the log also writes) are left out of the sum |
//! | `vc` | `app` | the virtual cluster (no density limit: `max_per_node` stays unset) |
//!
//! **Skipped jobs**, counted by reason in one warning (never silently): no attempts (never
//! scheduled); no submission time; first attempt without a start time (a logging gap the README
//! names); last attempt without an end time (still running when the log was taken); no GPU in
//! the last attempt's detail; an attempt that ends before it starts; the first start before
//! the submission; zero GPU time.
//!
//! `status` (`Pass`, `Killed`, `Failed`: all held their GPUs for the attempts' time, so all are
//! replayed alike) and `user` are not read; a key the format does not have is one warning. The
//! trace gives no host resources: CPU and memory are [`jobs::CPU_MILLI_PER_GPU`] /
//! [`jobs::MEMORY_MIB_PER_GPU`] per GPU. Class training (Philly ran DNN training), priority 0,
//! demand drawn. A bad value is reported as `FILE:LINE: column KEY: expected ..., got "..."`,
//! the line being the JSON text's where the value ends (for a repeated `jobid`: where its job
//! ends); malformed JSON as serde_json words it, with its line and character.

use crate::error::InputError;
use crate::input::trace::jobs::{self, Skipped, Span};
use crate::input::Warnings;
use crate::model::job::{Pod, Text, Workload};
use serde::de::{self, Deserializer as _, IgnoredAny, SeqAccess, Visitor};
use serde::Deserialize;
use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::rc::Rc;

/// The keys of a job, of an attempt and of a machine entry in the published log.
pub const JOB_KEYS: [&str; 6] = [
    "status",
    "vc",
    "jobid",
    "attempts",
    "submitted_time",
    "user",
];
pub const ATTEMPT_KEYS: [&str; 3] = ["start_time", "end_time", "detail"];
pub const DETAIL_KEYS: [&str; 2] = ["ip", "gpus"];

/// Reads a Philly `cluster_job_log` from `path`.
pub fn read(path: &Path) -> Result<Workload, InputError> {
    parse(path, crate::input::csv_rows::open(path)?)
}

/// Parses a Philly job log; `path` names the source in messages and gives the trace name.
pub fn parse(path: &Path, source: impl std::io::Read) -> Result<Workload, InputError> {
    parse_noting(path, source, &mut Warnings::new())
}

/// Whether `head` (the first bytes of a file) starts a JSON array, after blanks.
pub fn looks_like_job_log(head: &[u8]) -> bool {
    head.iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b'[')
}

#[derive(Deserialize)]
struct RawJob {
    #[serde(default)]
    vc: Option<String>,
    jobid: String,
    #[serde(default)]
    attempts: Vec<RawAttempt>,
    #[serde(default, deserialize_with = "submitted_time")]
    submitted_time: Option<i64>,
    #[serde(flatten)]
    other: BTreeMap<String, IgnoredAny>,
}

#[derive(Deserialize)]
struct RawAttempt {
    #[serde(default, deserialize_with = "start_time")]
    start_time: Option<i64>,
    #[serde(default, deserialize_with = "end_time")]
    end_time: Option<i64>,
    #[serde(default)]
    detail: Vec<RawDetail>,
    #[serde(flatten)]
    other: BTreeMap<String, IgnoredAny>,
}

#[derive(Deserialize)]
struct RawDetail {
    #[serde(default)]
    gpus: Vec<IgnoredAny>,
    #[serde(flatten)]
    other: BTreeMap<String, IgnoredAny>,
}

/// Marks a message that is already `column KEY: expected ..., got "..."`.
const FIELD: &str = "column ";

fn time<'de, D: de::Deserializer<'de>>(d: D, key: &str) -> Result<Option<i64>, D::Error> {
    let text: Option<String> = Option::deserialize(d)?;
    match text.as_deref() {
        None | Some("" | "None") => Ok(None),
        Some(t) => crate::input::datetime::parse_seconds(t)
            .map(Some)
            .ok_or_else(|| {
                de::Error::custom(format!(
                    "{FIELD}{key}: expected a time as YYYY-MM-DD HH:MM:SS, or null, got {t:?}"
                ))
            }),
    }
}

fn submitted_time<'de, D: de::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    time(d, "submitted_time")
}
fn start_time<'de, D: de::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    time(d, "start_time")
}
fn end_time<'de, D: de::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    time(d, "end_time")
}

/// A reader that counts the newlines it has handed out, so a job can be named by its line.
struct Lines<R> {
    inner: R,
    newlines: Rc<Cell<u64>>,
}

impl<R: std::io::Read> std::io::Read for Lines<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let seen = buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
        self.newlines.set(self.newlines.get() + seen);
        Ok(n)
    }
}

/// What the visitor builds, job by job.
struct Jobs<'a> {
    path: &'a Path,
    newlines: Rc<Cell<u64>>,
    pods: Vec<Pod>,
    requests: crate::model::job::RequestSet,
    spans: Vec<Span>,
    names: crate::input::csv_rows::NameSet,
    skipped: Skipped,
    unknown_keys: BTreeSet<String>,
    /// A problem of a job that parsed (a repeated id): reported after serde returns.
    error: Option<InputError>,
}

impl<'de> Visitor<'de> for &mut Jobs<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON array of Philly jobs")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(job) = seq.next_element::<RawJob>()? {
            if let Err(e) = self.add(job) {
                self.error = Some(e);
                return Err(de::Error::custom("stopped"));
            }
        }
        Ok(())
    }
}

impl Jobs<'_> {
    fn add(&mut self, job: RawJob) -> Result<(), InputError> {
        let line = self.newlines.get() + 1;
        // `other` holds the keys not mapped: those the format has (`status`, `user`, `ip`) are
        // read by nobody; the rest are worth a warning.
        let keys = |other: &BTreeMap<String, IgnoredAny>, known: &[&str], set: &mut BTreeSet<_>| {
            set.extend(
                other
                    .keys()
                    .filter(|k| !known.contains(&k.as_str()))
                    .cloned(),
            );
        };
        keys(&job.other, &JOB_KEYS, &mut self.unknown_keys);
        for a in &job.attempts {
            keys(&a.other, &ATTEMPT_KEYS, &mut self.unknown_keys);
            for d in &a.detail {
                keys(&d.other, &DETAIL_KEYS, &mut self.unknown_keys);
            }
        }
        if job.jobid.is_empty() || !self.names.insert(&job.jobid) {
            return Err(InputError::Field {
                file: self.path.to_owned(),
                line,
                column: "jobid".to_owned(),
                expected: "a job id not used by an earlier job".to_owned(),
                got: job.jobid,
            });
        }
        match mapped(&job) {
            Ok((pod, span)) => {
                self.pods.push(self.requests.share(pod));
                self.spans.push(span);
            }
            Err(reason) => self.skipped.note(reason),
        }
        Ok(())
    }
}

/// The job and its times, or why it cannot be replayed (the module doc's rules).
fn mapped(job: &RawJob) -> Result<(Pod, Span), &'static str> {
    let (Some(first), Some(last)) = (job.attempts.first(), job.attempts.last()) else {
        return Err("never scheduled (no attempts)");
    };
    let submit_s = job.submitted_time.ok_or("with no submission time")?;
    let start_s = first.start_time.ok_or("with no start time recorded")?;
    let end_s = last
        .end_time
        .ok_or("still running when the log was taken")?;
    if start_s < submit_s {
        return Err("started before submission");
    }
    let mut work_s: i64 = 0;
    for a in &job.attempts {
        if let (Some(s), Some(e)) = (a.start_time, a.end_time) {
            if e < s {
                return Err("with an attempt that ends before it starts");
            }
            work_s = work_s.saturating_add(e - s);
        }
    }
    if work_s == 0 {
        return Err("ran for 0 s");
    }
    let per_machine: Vec<u32> = last
        .detail
        .iter()
        .map(|d| u32::try_from(d.gpus.len()).unwrap_or(u32::MAX))
        .collect();
    let num_gpu = per_machine.iter().fold(0u32, |a, &b| a.saturating_add(b));
    if num_gpu == 0 {
        return Err("with no GPU recorded");
    }
    let work_ms = u64::try_from(work_s).unwrap_or(0).saturating_mul(1000);
    if work_ms > jobs::MAX_MS {
        return Err("running beyond 2^53 ms");
    }
    let mut pod = jobs::training_job(&job.jobid, num_gpu, None, None);
    pod.work_ms = Some(work_ms);
    let machines = u32::try_from(per_machine.len()).unwrap_or(u32::MAX);
    if per_machine.iter().all(|&g| g == per_machine[0]) {
        pod.gang = jobs::gang(machines, num_gpu);
    }
    pod.app = job.vc.as_deref().filter(|v| !v.is_empty()).map(Text::from);
    Ok((
        pod,
        Span {
            submit_s,
            start_s,
            end_s,
        },
    ))
}

/// [`parse`], pushing onto `warnings` the keys the format does not have and the jobs skipped.
pub fn parse_noting(
    path: &Path,
    source: impl std::io::Read,
    warnings: &mut Warnings,
) -> Result<Workload, InputError> {
    let newlines = Rc::new(Cell::new(0));
    let reader = Lines {
        inner: source,
        newlines: Rc::clone(&newlines),
    };
    let mut de = serde_json::Deserializer::from_reader(reader);
    let mut jobs = Jobs {
        path,
        newlines,
        pods: Vec::new(),
        requests: Default::default(),
        spans: Vec::new(),
        names: Default::default(),
        skipped: Skipped::default(),
        unknown_keys: BTreeSet::new(),
        error: None,
    };
    let result = de.deserialize_seq(&mut jobs).and_then(|()| de.end());
    if let Some(e) = jobs.error.take() {
        return Err(e);
    }
    result.map_err(|e| json_error(path, &e))?;
    if !jobs.unknown_keys.is_empty() {
        let unknown: Vec<String> = jobs.unknown_keys.into_iter().collect();
        let known: Vec<&str> = JOB_KEYS
            .iter()
            .chain(&ATTEMPT_KEYS)
            .chain(&DETAIL_KEYS)
            .copied()
            .collect();
        warnings.push(format!(
            "{}: ignoring keys the philly format does not have: {} (its keys: {})",
            path.display(),
            crate::input::names::quoted_with_suggestions(&unknown, &known),
            known.join(", ")
        ));
    }
    jobs.skipped.finish(path, jobs.pods.len(), warnings)?;
    jobs::rebase(&mut jobs.pods, &jobs.spans);
    Ok(Workload {
        name: crate::input::file_stem(path),
        pods: jobs.pods,
    })
}

/// A serde_json error as `FILE:LINE: ...`: a bad value as `column KEY: expected ..., got
/// "..."`, anything else (bad JSON, a missing `jobid`) with the character where it was seen.
fn json_error(path: &Path, e: &serde_json::Error) -> InputError {
    if e.is_io() {
        return InputError::Io {
            file: path.to_owned(),
            source: std::io::Error::other(e.to_string()),
        };
    }
    let text = e.to_string();
    let message = text
        .rfind(" at line ")
        .map_or(text.as_str(), |at| &text[..at]);
    let message = if message.starts_with(FIELD) {
        message.to_owned()
    } else {
        format!("{message} (character {})", e.column())
    };
    InputError::Row {
        file: path.to_owned(),
        line: e.line() as u64,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::trace::TraceFormat;

    fn fixture(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../traces/fixtures/philly")
            .join(name)
    }

    #[test]
    fn parses_the_fixture() {
        let path = fixture("cluster_job_log");
        assert_eq!(
            crate::input::trace::detect_file(&path).unwrap(),
            TraceFormat::Philly
        );
        let mut warnings = Warnings::new();
        let w = TraceFormat::Philly
            .read_noting(&path, &mut warnings)
            .unwrap();
        assert_eq!(w.name, "cluster_job_log");
        let got: Vec<_> = w
            .pods
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.num_gpu,
                    p.arrival_ms,
                    p.work_ms,
                    p.app.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                // Two attempts: 74 s + 193,182 s of GPU time.
                (
                    "application_1506638472019_14199",
                    8,
                    0,
                    Some(193_256_000),
                    Some("ee9e8c")
                ),
                (
                    "application_1506638472019_14200",
                    1,
                    21_000,
                    Some(600_000),
                    Some("ee9e8c")
                ),
                (
                    "application_1506638472019_14201",
                    16,
                    81_000,
                    Some(3_600_000),
                    Some("b436b2")
                ),
                (
                    "application_1506638472019_14202",
                    3,
                    141_000,
                    Some(120_000),
                    Some("b436b2")
                ),
            ]
        );
        let gang = w.pods[2].gang.unwrap();
        assert_eq!((gang.num_nodes, gang.gpus_per_node), (2, 8));
        assert_eq!(
            w.pods[3].gang, None,
            "2 + 1 GPUs: an uneven split pins no shape"
        );
        assert_eq!(
            (w.pods[1].cpu_milli, w.pods[1].memory_mib),
            (10_000, 40_960)
        );
        assert_eq!(
            warnings,
            [format!(
                "{}: skipped 3 of 7 jobs that cannot be replayed: 1 never scheduled (no \
                 attempts), 1 still running when the log was taken, 1 with no start time \
                 recorded",
                path.display()
            )]
        );
    }

    #[test]
    fn malformed_copy_names_file_line_and_column() {
        let path = fixture("cluster_job_log_bad");
        let e = read(&path).unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "{}:11: column end_time: expected a time as YYYY-MM-DD HH:MM:SS, or null, got \
                 \"2017-10-07 01:22:3\"",
                path.display()
            )
        );
        let e = parse(
            Path::new("j.json"),
            "[{\"jobid\": \"a\", \"attempts\": 3}]".as_bytes(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("j.json:1: invalid type: integer `3`, expected a sequence"),
            "{e}"
        );
        let twice = "[{\"jobid\": \"a\"},\n{\"jobid\": \"a\"}]";
        let e = parse(Path::new("j.json"), twice.as_bytes())
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "j.json:2: column jobid: expected a job id not used by an earlier job, got \"a\""
        );
    }

    #[test]
    fn unknown_keys_are_one_warning() {
        let text = "[{\"jobid\": \"a\", \"vcc\": \"x\", \"submitted_time\": \"2017-10-07 01:00:00\", \
                    \"attempts\": [{\"start_time\": \"2017-10-07 01:00:00\", \"end_time\": \
                    \"2017-10-07 01:00:09\", \"detail\": [{\"ip\": \"m1\", \"gpus\": [\"gpu0\"]}]}]}]";
        let mut warnings = Warnings::new();
        let w = parse_noting(Path::new("j.json"), text.as_bytes(), &mut warnings).unwrap();
        assert_eq!(w.pods[0].work_ms, Some(9000));
        assert_eq!(warnings.len(), 1);
        assert!(
            warnings[0].starts_with(
                "j.json: ignoring keys the philly format does not have: \"vcc\" (did you mean \"vc\"?)"
            ),
            "{warnings:?}"
        );
    }
}
