//! Errors of a calibration run and the process exit codes they map to.

use flexsim_sim::input::profile_file::ProfileError;

/// Everything that can stop a calibration. None of these is a panic: a missing driver, a
/// missing symbol or a failing workload is an ordinary outcome on most machines
/// (calibration.md, "Rules").
#[derive(Debug, thiserror::Error)]
pub enum CalibrateError {
    /// A driver library could not be loaded. Exit code 2.
    #[error("cannot load {library}: {detail}. Provided by {provider}; install it, or point flexsim at it with {hint}")]
    MissingLibrary {
        /// The library (or libraries) that were looked for.
        library: String,
        /// What installs it.
        provider: String,
        /// How to point flexsim at a library in an unusual place.
        hint: String,
        /// The loader's own message(s).
        detail: String,
    },
    /// The library loaded but the device could not be queried. Exit code 3.
    #[error("{backend}: {message}")]
    Device {
        backend: &'static str,
        message: String,
    },
    /// The user's workload failed or did not follow the throughput convention. Exit code 4.
    #[error("workload: {0}")]
    Workload(String),
    /// The workload ran, but a parameter fitted from its numbers is outside physical bounds
    /// (the bounds and their reasons are in `derive`). The message shows the measurements.
    /// Exit code 4.
    #[error("implausible measurement: {0}")]
    Implausible(String),
    /// Arguments that cannot be run. Exit code 1.
    #[error("invalid arguments: {0}")]
    InvalidArgs(String),
    /// The profile could not be written. Exit code 1.
    #[error(transparent)]
    Profile(#[from] ProfileError),
}

/// Process exit code for an error: 2 missing library, 3 device query failed, 4 workload failed
/// or measured implausibly, 1 anything else (bad arguments, profile not writable).
pub fn exit_code(err: &CalibrateError) -> i32 {
    match err {
        CalibrateError::MissingLibrary { .. } => 2,
        CalibrateError::Device { .. } => 3,
        CalibrateError::Workload(_) | CalibrateError::Implausible(_) => 4,
        CalibrateError::InvalidArgs(_) | CalibrateError::Profile(_) => 1,
    }
}
