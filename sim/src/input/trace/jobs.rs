//! What the readers of the published *job* traces (Tiresias, Philly, Helios, Acme) share: the
//! resources a job gets when the trace does not say, the count of jobs a trace cannot replay,
//! and the shift of calendar times onto the trace's own clock.
//!
//! These traces record training jobs as a scheduler saw them — GPUs asked for, submitted,
//! started, ended — and little else. Every field of [`Pod`] they lack is set here, the same way
//! in each reader, so that their workloads compare with each other and with `trace synth`'s.

use crate::error::InputError;
use crate::input::csv_rows::Row;
use crate::input::Warnings;
use crate::model::catalog::CLASS_TRAINING;
use crate::model::job::{GangShape, Pod};
use crate::model::units::GPU_MILLI;
use std::collections::BTreeMap;
use std::path::Path;

/// Host CPU a job gets per GPU when the trace gives none: 10 cores, `trace synth`'s
/// `cpu_milli_per_gpu` default ([`crate::input::synth`]), so that a node's CPU never binds
/// before its GPUs on a fleet of the same ratio.
pub const CPU_MILLI_PER_GPU: u64 = 10_000;
/// Host memory a job gets per GPU when the trace gives none: 40 GiB, `trace synth`'s
/// `memory_mib_per_gpu` default.
pub const MEMORY_MIB_PER_GPU: u64 = 40_960;
/// Host memory per requested CPU core when a trace gives cores but no memory (Helios, Acme
/// Seren): 4 GiB, the ratio of the two defaults above.
pub const MEMORY_MIB_PER_CORE: u64 = MEMORY_MIB_PER_GPU * 1000 / CPU_MILLI_PER_GPU;
/// CPU and memory of a job that asks for no GPU and whose trace gives no CPU: `trace synth`'s
/// `cpu_milli_cpu_only` / `memory_mib_cpu_only` defaults.
pub const CPU_ONLY_CPU_MILLI: u64 = 12_000;
pub const CPU_ONLY_MEMORY_MIB: u64 = 51_200;

/// The largest time the readers accept, ms (2^53: where a decimal's rounding stays exact, and
/// far below u64 overflow).
pub const MAX_MS: u64 = 9_007_199_254_740_992;

/// A job of `num_gpu` whole GPUs as these traces state them: `gpu_milli` 1000 each, class
/// training (all four traces are of DL training clusters), priority 0, no QoS, no demand (drawn
/// by the run's distribution), CPU and memory from `cpu_milli` / `memory_mib` when the trace
/// gives them, else the defaults above.
pub fn training_job(
    name: &str,
    num_gpu: u32,
    cpu_milli: Option<u64>,
    memory_mib: Option<u64>,
) -> Pod {
    let (cpu_default, memory_default) = if num_gpu == 0 {
        (CPU_ONLY_CPU_MILLI, CPU_ONLY_MEMORY_MIB)
    } else {
        (
            CPU_MILLI_PER_GPU * u64::from(num_gpu),
            MEMORY_MIB_PER_GPU * u64::from(num_gpu),
        )
    };
    let cpu = cpu_milli.unwrap_or(cpu_default);
    let memory = memory_mib.unwrap_or_else(|| match cpu_milli {
        Some(c) => c.saturating_mul(MEMORY_MIB_PER_CORE) / 1000,
        None => memory_default,
    });
    let mut pod = Pod::new(name, cpu, memory, num_gpu, GPU_MILLI);
    pod.class = CLASS_TRAINING.into();
    pod
}

/// The gang shape of a job the trace says ran on `num_nodes` nodes with `num_gpu` GPUs in all:
/// `num_nodes` parts of `num_gpu / num_nodes` when that divides evenly and there are at least
/// two nodes; otherwise none (one node, or a split the trace does not pin down: the placer
/// splits it if no node holds it).
pub fn gang(num_nodes: u32, num_gpu: u32) -> Option<GangShape> {
    // `then`, not `then_some`: the division must not run when `num_nodes` is 0 (found by
    // fuzzing, fuzz/crashes/README.md).
    (num_nodes >= 2 && num_gpu > 0 && num_gpu.is_multiple_of(num_nodes)).then(|| GangShape {
        num_nodes,
        gpus_per_node: num_gpu / num_nodes,
    })
}

/// Jobs a reader leaves out because the trace cannot replay them, by reason; they become one
/// warning, so that no job disappears unannounced.
#[derive(Debug, Default)]
pub struct Skipped {
    reasons: BTreeMap<&'static str, u64>,
}

impl Skipped {
    pub fn note(&mut self, reason: &'static str) {
        *self.reasons.entry(reason).or_default() += 1;
    }

    pub fn total(&self) -> u64 {
        self.reasons.values().sum()
    }

    /// "12 never started, 3 still running at the end of the trace".
    pub fn describe(&self) -> String {
        let mut by_count: Vec<_> = self.reasons.iter().collect();
        by_count.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        by_count
            .iter()
            .map(|(reason, n)| format!("{n} {reason}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The warning, if any job was skipped: "FILE: skipped 15 of 100 jobs that cannot be
    /// replayed: ...". With no job kept at all it is an error instead.
    pub fn finish(
        &self,
        path: &Path,
        kept: usize,
        warnings: &mut Warnings,
    ) -> Result<(), InputError> {
        let skipped = self.total();
        if kept == 0 {
            let why = if skipped == 0 {
                String::new()
            } else {
                format!(" (skipped {skipped}: {})", self.describe())
            };
            return Err(InputError::Invalid {
                file: path.to_owned(),
                message: format!("the trace has no job that can be replayed{why}"),
            });
        }
        if skipped > 0 {
            warnings.push(format!(
                "{}: skipped {skipped} of {} jobs that cannot be replayed: {}",
                path.display(),
                skipped + kept as u64,
                self.describe()
            ));
        }
        Ok(())
    }
}

/// A job's times as absolute seconds (calendar or trace clock), before the trace's start is
/// known.
#[derive(Debug, Clone, Copy)]
pub struct Span {
    pub submit_s: i64,
    pub start_s: i64,
    pub end_s: i64,
}

/// Puts each job on the trace's clock: time 0 is the earliest submission, arrival is the
/// submission, and the trace times (`creation_time_s`, `scheduled_time_s`, `deletion_time_s`)
/// are kept relative to it. `spans[i]` belongs to `pods[i]`.
pub fn rebase(pods: &mut [Pod], spans: &[Span]) {
    let Some(origin) = spans.iter().map(|s| s.submit_s).min() else {
        return;
    };
    for (pod, s) in pods.iter_mut().zip(spans) {
        let rel = |t: i64| u64::try_from(t - origin).unwrap_or(0);
        pod.arrival_ms = rel(s.submit_s) * 1000;
        pod.set_trace_times(crate::model::job::TraceTimes {
            creation_s: Some(rel(s.submit_s)),
            scheduled_s: Some(rel(s.start_s)),
            deletion_s: Some(rel(s.end_s)),
        });
    }
}

/// The calendar time in column `col` as seconds since 1970 ([`crate::input::datetime`]); empty
/// (or `None`, `NaN`, as pandas writes a missing time) is `None`.
pub fn calendar_s(row: &Row<'_>, col: usize) -> Result<Option<i64>, InputError> {
    match row.text(col) {
        "" | "None" | "NaN" | "nan" | "NaT" => Ok(None),
        text => crate::input::datetime::parse_seconds(text)
            .map(Some)
            .ok_or_else(|| row.error(col, CALENDAR)),
    }
}

/// How a calendar time must look, for errors.
pub const CALENDAR: &str = "a time as YYYY-MM-DD HH:MM:SS (optionally with a UTC offset), or empty";

/// A non-negative decimal number of seconds in column `col` as integer ms, or the error.
pub fn seconds_ms(row: &Row<'_>, col: usize, expected: &str) -> Result<u64, InputError> {
    let x: f64 = row.parse(col, expected)?;
    let ms = (x * 1000.0).round();
    if !(0.0..=MAX_MS as f64).contains(&ms) {
        return Err(row.error(col, expected));
    }
    Ok(ms as u64)
}

/// A non-negative integer count in column `col`, also accepting the `8.0` that pandas writes for
/// an integer column with gaps.
pub fn count(row: &Row<'_>, col: usize, expected: &str) -> Result<u32, InputError> {
    let text = row.text(col);
    if let Ok(n) = text.parse::<u32>() {
        return Ok(n);
    }
    match text.strip_suffix(".0").map(str::parse::<u32>) {
        Some(Ok(n)) => Ok(n),
        _ => Err(row.error(col, expected)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_synth_and_gangs_need_an_even_split() {
        let p = training_job("j", 4, None, None);
        assert_eq!(
            (p.cpu_milli, p.memory_mib, p.total_gpu_milli()),
            (40_000, 163_840, 4000)
        );
        let p = training_job("j", 1, Some(16_000), None);
        assert_eq!((p.cpu_milli, p.memory_mib), (16_000, 65_536));
        let p = training_job("j", 0, None, None);
        assert_eq!((p.cpu_milli, p.num_gpu), (12_000, 0));
        assert_eq!(
            gang(2, 16),
            Some(GangShape {
                num_nodes: 2,
                gpus_per_node: 8
            })
        );
        assert_eq!((gang(1, 8), gang(3, 8), gang(2, 0)), (None, None, None));
        assert_eq!(
            gang(0, 8),
            None,
            "no node count is no gang, not a division by zero"
        );
    }

    #[test]
    fn skipped_jobs_are_one_warning_or_an_error_when_none_is_left() {
        let mut s = Skipped::default();
        s.note("never started");
        s.note("still running");
        s.note("never started");
        let mut w = Warnings::new();
        s.finish(Path::new("t.csv"), 5, &mut w).unwrap();
        assert_eq!(
            w,
            ["t.csv: skipped 3 of 8 jobs that cannot be replayed: 2 never started, 1 still running"]
        );
        let e = s.finish(Path::new("t.csv"), 0, &mut w).unwrap_err();
        assert!(
            e.to_string()
                .contains("no job that can be replayed (skipped 3"),
            "{e}"
        );
    }
}
