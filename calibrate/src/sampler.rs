//! The one thing the workload runner needs from a backend: how busy the device is right now.

/// Reads the device's current busy share. Implemented by the NVML and the Ascend backends.
pub trait UtilSampler {
    /// Busy share of the whole device, 0..=1, or `None` when this read failed (the run goes on;
    /// a run with no successful read reports no demand).
    fn sample(&mut self) -> Option<f64>;
    /// Which counter is read, recorded in the profile's provenance.
    fn source(&self) -> String;
    /// Board power now, watts, or `None` when the backend has no power reading (the catalog's
    /// figures then stay; calibration.md §5.1 names NVML's `power_usage`).
    fn power_w(&mut self) -> Option<f64> {
        None
    }
}

/// A sampler for when no utilisation counter is available: every read fails.
pub struct NoSampler;

impl UtilSampler for NoSampler {
    fn sample(&mut self) -> Option<f64> {
        None
    }
    fn source(&self) -> String {
        "none".into()
    }
}
