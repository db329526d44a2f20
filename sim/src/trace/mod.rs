//! Trace readers: one module per format, each turning a file into a [`Workload`].
//!
//! [`Workload`]: crate::job::Workload

pub mod csv_rows;
pub mod openb;

/// The name a trace or fleet goes by in outputs: its file stem.
pub fn file_stem(path: &std::path::Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}
