//! Standard output that a closed pipe cannot crash (`flexsim policies | head -1`).
//!
//! `println!` panics when stdout is a pipe whose reader has gone. Everything the CLI prints
//! goes through [`out!`] and [`outln!`] instead: on a closed pipe the process ends quietly
//! with [`CLOSED_PIPE_EXIT`] (128 + SIGPIPE, what a shell reports for a tool that the pipe's
//! signal ended), after removing any output directory still being written; files already
//! committed stay. Any other write error ends it with exit 1 and a message.

use std::io::Write;

/// The exit code when stdout is a closed pipe (README "What flexsim refuses, and why").
pub const CLOSED_PIPE_EXIT: i32 = 141;

/// Writes `args` to stdout, ending the process as the module doc says if that fails.
pub fn write(args: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.flush()) {
        closed(&e);
    }
}

/// Ends the process after a failed write to stdout (never returns).
pub fn closed(e: &std::io::Error) -> ! {
    flexsim_sim::output::report::remove_unfinished();
    if broken_pipe(e).is_some() {
        std::process::exit(CLOSED_PIPE_EXIT);
    }
    let _ = writeln!(std::io::stderr(), "error: writing to stdout: {e}");
    std::process::exit(1);
}

/// The broken-pipe error in `e`, if it is one: an `io::Error` of that kind, or one that a csv
/// writer wrapped.
pub fn broken_pipe<'e>(e: &'e (dyn std::error::Error + 'static)) -> Option<&'e std::io::Error> {
    if let Some(io) = e.downcast_ref::<std::io::Error>() {
        if io.kind() == std::io::ErrorKind::BrokenPipe {
            return Some(io);
        }
        return io.get_ref().and_then(|inner| broken_pipe(inner));
    }
    match e.downcast_ref::<csv::Error>().map(csv::Error::kind) {
        Some(csv::ErrorKind::Io(io)) if io.kind() == std::io::ErrorKind::BrokenPipe => Some(io),
        _ => None,
    }
}

/// `print!` that a closed pipe cannot crash.
macro_rules! out {
    ($($arg:tt)*) => { $crate::stdout::write(format_args!($($arg)*)) };
}

/// `println!` that a closed pipe cannot crash.
macro_rules! outln {
    () => { $crate::stdout::write(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::stdout::write(format_args!("{}\n", format_args!($($arg)*))) };
}
