//! Runs the user's workload alone and as k concurrent copies on one device, sampling
//! utilisation meanwhile (slicing-model.md §7.4: `u`, `ι`, `o_ts(k)` rows).
//!
//! Conventions (documented for users in the crate docs):
//! * the command runs as `sh -c CMD` in its own process group, with `CUDA_VISIBLE_DEVICES` or
//!   `ASCEND_RT_VISIBLE_DEVICES` set to the device, `FLEXSIM_COPIES=k` and
//!   `FLEXSIM_COPY_INDEX=0..k-1`;
//! * a line `FLEXSIM_THROUGHPUT=<float>` on stdout reports throughput in the workload's own units
//!   per second; the last such line of each copy counts. Without one, throughput is
//!   1 / completion seconds;
//! * with `--seconds S` each run is stopped after S seconds (SIGTERM to the group, SIGKILL 2 s
//!   later), so completion time means nothing and the printed line is required; a last line the
//!   stop cut off (no newline) does not count;
//! * a `FLEXSIM_THROUGHPUT=` line whose value is not a finite number > 0 (`abc`, `NaN`, `inf`,
//!   `0`, `-3`) is an error, not a line to skip: a profile from the other lines (or from
//!   completion time) would not be what the workload meant to report;
//! * completion time is throughput only for runs of at least [`MIN_TIMED_SECONDS`].

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::error::CalibrateError;
use crate::sampler::UtilSampler;

/// The stdout line prefix a workload prints to report its throughput.
pub const THROUGHPUT_PREFIX: &str = "FLEXSIM_THROUGHPUT=";
/// How often utilisation is read while copies run.
pub const SAMPLE_PERIOD: Duration = Duration::from_millis(200);
/// Time between SIGTERM and SIGKILL when `--seconds` runs out.
pub const KILL_GRACE: Duration = Duration::from_secs(2);
/// Lines of stderr kept for error messages.
const STDERR_TAIL_LINES: usize = 12;
/// Shortest run whose completion time is taken as its throughput. A copy's end is noticed at
/// the next poll, up to [`SAMPLE_PERIOD`] (0.2 s) late, and starting `sh` costs milliseconds:
/// from 2 s on that is at most 10 % error; a run that ends sooner (`true`, a command that fails
/// to start its real work) measures the poll, not the workload.
pub const MIN_TIMED_SECONDS: f64 = 2.0;

/// What to run and where.
#[derive(Debug, Clone)]
pub struct WorkloadSpec {
    pub command: String,
    /// `CUDA_VISIBLE_DEVICES` or `ASCEND_RT_VISIBLE_DEVICES`.
    pub visible_devices_var: &'static str,
    pub device: u32,
    pub time_limit_seconds: Option<f64>,
}

/// What one copy did.
#[derive(Debug, Clone)]
pub struct CopyOutcome {
    /// Last `FLEXSIM_THROUGHPUT=` value printed, if any.
    pub printed_throughput: Option<f64>,
    pub elapsed_seconds: f64,
    /// Whether the copy was stopped by the time limit.
    pub stopped: bool,
}

/// What one run of k concurrent copies did.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub copies: u32,
    pub outcomes: Vec<CopyOutcome>,
    /// Busy-share samples (0..=1) taken while at least one copy ran.
    pub util_samples: Vec<f64>,
    /// Board power samples (W) taken at the same moments, where the backend reads power.
    pub power_samples: Vec<f64>,
}

/// The value of a `FLEXSIM_THROUGHPUT=<float>` line: `None` for other lines, `Some(Err(text))`
/// when the value is not a finite number > 0.
pub fn throughput_line(line: &str) -> Option<Result<f64, String>> {
    let raw = line.trim().strip_prefix(THROUGHPUT_PREFIX)?.trim();
    Some(
        raw.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v > 0.0)
            .ok_or_else(|| raw.to_owned()),
    )
}

/// Parses a `FLEXSIM_THROUGHPUT=<float>` line; `None` for other lines and for values that are
/// not finite numbers > 0 (see [`throughput_line`] to tell those apart).
pub fn parse_throughput_line(line: &str) -> Option<f64> {
    throughput_line(line)?.ok()
}

/// What one copy printed on stdout.
#[derive(Debug, Default)]
struct Printed {
    /// The last well-formed throughput value.
    last: Option<f64>,
    /// The first `FLEXSIM_THROUGHPUT=` line with a bad value, as printed.
    bad: Option<String>,
    /// A last line without a newline: counted only if the copy was not stopped.
    unterminated: Option<String>,
}

impl Printed {
    fn note(&mut self, line: &str) {
        match throughput_line(line) {
            Some(Ok(v)) => self.last = Some(v),
            Some(Err(_)) if self.bad.is_none() => self.bad = Some(line.trim().to_owned()),
            _ => {}
        }
    }

    fn read(stdout: impl Read) -> Printed {
        let mut printed = Printed::default();
        let mut reader = BufReader::new(stdout);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            let line = String::from_utf8_lossy(&buf);
            if line.ends_with('\n') {
                printed.note(&line);
            } else {
                printed.unterminated = Some(line.into_owned());
            }
        }
        printed
    }
}

struct Running {
    child: Child,
    started: Instant,
    stdout: Option<JoinHandle<Printed>>,
    stderr: Option<JoinHandle<Vec<String>>>,
    done: Option<(ExitStatus, f64)>,
    stopped: bool,
}

/// Sends `signal` to the process group led by `pid`. Errors (group already gone) are ignored.
fn signal_group(pid: u32, signal: libc::c_int) {
    if let Ok(pgid) = libc::pid_t::try_from(pid) {
        // SAFETY: kill(2) with a negative pid signals a process group; no memory is touched.
        unsafe {
            libc::kill(-pgid, signal);
        }
    }
}

fn spawn_copy(spec: &WorkloadSpec, copies: u32, index: u32) -> Result<Running, CalibrateError> {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(&spec.command)
        .env(spec.visible_devices_var, spec.device.to_string())
        .env("FLEXSIM_COPIES", copies.to_string())
        .env("FLEXSIM_COPY_INDEX", index.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| CalibrateError::Workload(format!("cannot start `sh -c`: {e}")))?;
    let out = child
        .stdout
        .take()
        .map(|s| std::thread::spawn(move || Printed::read(s)));
    let err = child.stderr.take().map(|mut s| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = s.read_to_end(&mut buf);
            let text = String::from_utf8_lossy(&buf);
            let lines: Vec<String> = text.lines().map(str::to_string).collect();
            let from = lines.len().saturating_sub(STDERR_TAIL_LINES);
            lines[from..].to_vec()
        })
    });
    Ok(Running {
        child,
        started: Instant::now(),
        stdout: out,
        stderr: err,
        done: None,
        stopped: false,
    })
}

/// Runs `copies` concurrent copies to completion (or to the time limit), sampling utilisation.
pub fn run_copies(
    spec: &WorkloadSpec,
    copies: u32,
    sampler: &mut dyn UtilSampler,
    progress: &ProgressBar,
) -> Result<RunOutcome, CalibrateError> {
    let mut running = Vec::with_capacity(copies as usize);
    for i in 0..copies {
        match spawn_copy(spec, copies, i) {
            Ok(r) => running.push(r),
            Err(e) => {
                for r in &mut running {
                    signal_group(r.child.id(), libc::SIGKILL);
                    let _ = r.child.wait();
                }
                return Err(e);
            }
        }
    }
    let start = Instant::now();
    let limit = spec.time_limit_seconds.map(Duration::from_secs_f64);
    let mut term_sent_at: Option<Instant> = None;
    let mut util_samples = Vec::new();
    let mut power_samples = Vec::new();
    loop {
        let mut alive = 0;
        for r in running.iter_mut().filter(|r| r.done.is_none()) {
            match r.child.try_wait() {
                Ok(Some(status)) => {
                    r.done = Some((status, r.started.elapsed().as_secs_f64()));
                    // Reap stragglers the shell left in its group.
                    signal_group(r.child.id(), libc::SIGKILL);
                }
                Ok(None) => alive += 1,
                Err(e) => {
                    return Err(CalibrateError::Workload(format!(
                        "cannot wait for copy: {e}"
                    )))
                }
            }
        }
        if alive == 0 {
            break;
        }
        if let Some(u) = sampler.sample() {
            util_samples.push(u);
        }
        if let Some(w) = sampler.power_w() {
            power_samples.push(w);
        }
        let elapsed = start.elapsed();
        progress.set_position(elapsed.as_millis() as u64);
        progress.set_message(match util_samples.last() {
            Some(u) => format!(
                "{copies} cop{} running, busy {:.0}%",
                plural(copies),
                u * 100.0
            ),
            None => format!("{copies} cop{} running", plural(copies)),
        });
        if let Some(limit) = limit {
            match term_sent_at {
                None if elapsed >= limit => {
                    for r in running.iter_mut().filter(|r| r.done.is_none()) {
                        r.stopped = true;
                        signal_group(r.child.id(), libc::SIGTERM);
                    }
                    term_sent_at = Some(Instant::now());
                }
                Some(t) if t.elapsed() >= KILL_GRACE => {
                    for r in running.iter().filter(|r| r.done.is_none()) {
                        signal_group(r.child.id(), libc::SIGKILL);
                    }
                }
                _ => {}
            }
        }
        std::thread::sleep(SAMPLE_PERIOD);
    }

    let mut outcomes = Vec::with_capacity(running.len());
    for (i, r) in running.into_iter().enumerate() {
        let mut printed = r.stdout.and_then(|h| h.join().ok()).unwrap_or_default();
        let stderr_tail = r.stderr.and_then(|h| h.join().ok()).unwrap_or_default();
        let Some((status, elapsed_seconds)) = r.done else {
            return Err(CalibrateError::Workload(format!(
                "copy {i} of {copies} was never seen to finish"
            )));
        };
        if !r.stopped && !status.success() {
            return Err(CalibrateError::Workload(if stderr_tail.is_empty() {
                format!("copy {i} of {copies} exited with {status} and wrote nothing to stderr")
            } else {
                format!(
                    "copy {i} of {copies} exited with {status}; last stderr lines:\n{}",
                    stderr_tail.join("\n")
                )
            }));
        }
        // A line the stop cut off mid-write is not a report; one the copy ended on is.
        if let Some(line) = printed.unterminated.take().filter(|_| !r.stopped) {
            printed.note(&line);
        }
        if let Some(bad) = printed.bad {
            return Err(CalibrateError::Workload(format!(
                "copy {i} of {copies} printed `{bad}`: expected `{THROUGHPUT_PREFIX}<number>` with a finite number > 0 (throughput in the workload's units per second)"
            )));
        }
        outcomes.push(CopyOutcome {
            printed_throughput: printed.last,
            elapsed_seconds,
            stopped: r.stopped,
        });
    }
    Ok(RunOutcome {
        copies,
        outcomes,
        util_samples,
        power_samples,
    })
}

fn plural(k: u32) -> &'static str {
    if k == 1 {
        "y"
    } else {
        "ies"
    }
}

/// A progress bar for one run: a bar over `--seconds` when given, else a spinner with elapsed
/// time. indicatif hides it when stderr is not a terminal.
pub fn progress_for(copies: u32, time_limit_seconds: Option<f64>) -> ProgressBar {
    let pb = match time_limit_seconds {
        Some(s) => {
            let pb = ProgressBar::new((s * 1000.0) as u64);
            if let Ok(style) =
                ProgressStyle::with_template("{prefix} [{bar:30}] {elapsed_precise} {msg}")
            {
                pb.set_style(style.progress_chars("=> "));
            }
            pb
        }
        None => {
            let pb = ProgressBar::new_spinner();
            if let Ok(style) =
                ProgressStyle::with_template("{prefix} {spinner} {elapsed_precise} {msg}")
            {
                pb.set_style(style);
            }
            pb
        }
    };
    pb.set_prefix(format!("calibrate k={copies}"));
    pb
}

/// Where the throughput numbers of a whole calibration come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThroughputSource {
    /// `FLEXSIM_THROUGHPUT=` lines.
    Printed,
    /// 1 / completion seconds.
    CompletionTime,
}

impl ThroughputSource {
    pub fn as_str(self) -> &'static str {
        match self {
            ThroughputSource::Printed => "printed",
            ThroughputSource::CompletionTime => "completion-time",
        }
    }
}

/// Per-copy throughputs of one run under `source`. Mixing units across copies or runs would make
/// the ratios meaningless, so a copy that does not fit the chosen source is an error.
pub fn throughputs(run: &RunOutcome, source: ThroughputSource) -> Result<Vec<f64>, CalibrateError> {
    run.outcomes
        .iter()
        .enumerate()
        .map(|(i, o)| match source {
            ThroughputSource::Printed => o.printed_throughput.ok_or_else(|| {
                CalibrateError::Workload(format!(
                    "copy {i} of {} printed no `{THROUGHPUT_PREFIX}<float>` line on stdout{}",
                    run.copies,
                    if o.stopped {
                        " before it was stopped; with --seconds the workload must print its throughput"
                    } else {
                        ", though the solo run did"
                    }
                ))
            }),
            ThroughputSource::CompletionTime => {
                if o.elapsed_seconds.is_finite() && o.elapsed_seconds >= MIN_TIMED_SECONDS {
                    Ok(1.0 / o.elapsed_seconds)
                } else {
                    Err(CalibrateError::Workload(format!(
                        "copy {i} of {} printed no `{THROUGHPUT_PREFIX}<number>` line and finished in {:.2} s: completion time is throughput only for runs of at least {MIN_TIMED_SECONDS} s (the end is seen up to {} s late); print the throughput, or run more work",
                        run.copies,
                        o.elapsed_seconds,
                        SAMPLE_PERIOD.as_secs_f64()
                    )))
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampler::NoSampler;

    #[test]
    fn parses_throughput_lines() {
        assert_eq!(parse_throughput_line("FLEXSIM_THROUGHPUT=12.5"), Some(12.5));
        assert_eq!(
            parse_throughput_line("  FLEXSIM_THROUGHPUT= 3e2 \n"),
            Some(300.0)
        );
        assert_eq!(parse_throughput_line("FLEXSIM_THROUGHPUT=abc"), None);
        assert_eq!(parse_throughput_line("FLEXSIM_THROUGHPUT=-1"), None);
        assert_eq!(parse_throughput_line("FLEXSIM_THROUGHPUT=inf"), None);
        assert_eq!(parse_throughput_line("throughput 12"), None);
        for bad in ["abc", "NaN", "inf", "-inf", "0", "-3", ""] {
            assert_eq!(
                throughput_line(&format!("FLEXSIM_THROUGHPUT={bad}")),
                Some(Err(bad.to_owned())),
                "{bad}"
            );
        }
        assert_eq!(throughput_line("loss 0.3"), None);
    }

    #[test]
    fn workload_printing_a_bad_throughput_is_an_error() {
        for (value, line) in [
            ("abc", "FLEXSIM_THROUGHPUT=abc"),
            ("NaN", "FLEXSIM_THROUGHPUT=NaN"),
            ("inf", "FLEXSIM_THROUGHPUT=inf"),
            ("0", "FLEXSIM_THROUGHPUT=0"),
            ("-3", "FLEXSIM_THROUGHPUT=-3"),
        ] {
            // Even after a good line: the bad one is what the workload meant.
            let s = spec(
                &format!("echo FLEXSIM_THROUGHPUT=5; echo FLEXSIM_THROUGHPUT={value}"),
                None,
            );
            let e = run_copies(&s, 1, &mut NoSampler, &ProgressBar::hidden()).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!("workload: copy 0 of 1 printed `{line}`: expected `FLEXSIM_THROUGHPUT=<number>` with a finite number > 0 (throughput in the workload's units per second)")
            );
        }
        // A last line without a newline counts when the copy ended by itself.
        let s = spec("printf FLEXSIM_THROUGHPUT=7", None);
        let run = run_copies(&s, 1, &mut NoSampler, &ProgressBar::hidden()).unwrap();
        assert_eq!(run.outcomes[0].printed_throughput, Some(7.0));
        let s = spec("printf FLEXSIM_THROUGHPUT=", None);
        assert!(run_copies(&s, 1, &mut NoSampler, &ProgressBar::hidden()).is_err());
    }

    #[test]
    fn failing_workload_is_an_error_even_when_silent() {
        let e = run_copies(
            &spec("false", None),
            1,
            &mut NoSampler,
            &ProgressBar::hidden(),
        )
        .unwrap_err();
        assert!(matches!(e, CalibrateError::Workload(_)));
        assert_eq!(
            e.to_string(),
            "workload: copy 0 of 1 exited with exit status: 1 and wrote nothing to stderr"
        );
    }

    #[test]
    fn too_short_to_time_without_a_printed_line_is_an_error() {
        let run = run_copies(
            &spec("true", None),
            1,
            &mut NoSampler,
            &ProgressBar::hidden(),
        )
        .unwrap();
        let e = throughputs(&run, ThroughputSource::CompletionTime).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.starts_with("workload: copy 0 of 1 printed no `FLEXSIM_THROUGHPUT=<number>` line and finished in 0."),
            "{msg}"
        );
        assert!(msg.contains("at least 2 s"), "{msg}");
    }

    fn spec(cmd: &str, secs: Option<f64>) -> WorkloadSpec {
        WorkloadSpec {
            command: cmd.into(),
            visible_devices_var: "CUDA_VISIBLE_DEVICES",
            device: 5,
            time_limit_seconds: secs,
        }
    }

    #[test]
    fn copies_see_device_and_index_and_last_line_counts() {
        let s = spec(
            r#"test "$CUDA_VISIBLE_DEVICES" = 5 || exit 9; echo FLEXSIM_THROUGHPUT=1; echo FLEXSIM_THROUGHPUT=$((10 + FLEXSIM_COPY_INDEX * FLEXSIM_COPIES))"#,
            None,
        );
        let run = run_copies(&s, 2, &mut NoSampler, &ProgressBar::hidden()).unwrap();
        let t = throughputs(&run, ThroughputSource::Printed).unwrap();
        assert_eq!(t, vec![10.0, 12.0]);
    }

    #[test]
    fn failing_copy_reports_stderr() {
        let s = spec("echo boom >&2; exit 3", None);
        let e = run_copies(&s, 1, &mut NoSampler, &ProgressBar::hidden()).unwrap_err();
        assert!(e.to_string().contains("boom"), "{e}");
    }

    #[test]
    fn time_limit_stops_copies_and_requires_printed_throughput() {
        let s = spec(
            "while true; do echo FLEXSIM_THROUGHPUT=50; sleep 0.05; done",
            Some(0.3),
        );
        let t0 = Instant::now();
        let run = run_copies(&s, 2, &mut NoSampler, &ProgressBar::hidden()).unwrap();
        assert!(t0.elapsed() < Duration::from_secs(5));
        assert!(run.outcomes.iter().all(|o| o.stopped));
        assert_eq!(
            throughputs(&run, ThroughputSource::Printed).unwrap(),
            vec![50.0, 50.0]
        );

        let s = spec("sleep 30", Some(0.2));
        let run = run_copies(&s, 1, &mut NoSampler, &ProgressBar::hidden()).unwrap();
        let e = throughputs(&run, ThroughputSource::Printed).unwrap_err();
        assert!(e.to_string().contains("--seconds"), "{e}");
    }

    #[test]
    fn completion_time_without_printed_line() {
        let s = spec("sleep 2.1", None);
        let run = run_copies(&s, 1, &mut NoSampler, &ProgressBar::hidden()).unwrap();
        let t = throughputs(&run, ThroughputSource::CompletionTime).unwrap();
        // 1 / (2.1 s + up to one poll period).
        assert!(t[0] > 0.35 && t[0] < 0.48, "{t:?}");
    }
}
