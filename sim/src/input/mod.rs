//! Everything that turns a file into the model: trace readers (one file per format), fleet
//! files, device profile files, and synthetic workloads. Every reader reports a bad field as
//! `FILE:LINE: column NAME: expected ..., got "..."`.

pub mod csv_rows;
pub mod datetime;
pub mod fleet_file;
pub mod gpu_names;
pub mod k8s_nodes;
pub mod names;
pub mod pai_machine_spec;
pub mod philly_machines;
pub mod profile_file;
pub mod spot_gpu_nodes;
pub mod synth;
pub mod topology_file;
pub mod trace;

/// The name a trace or fleet goes by in outputs: its file stem.
pub fn file_stem(path: &std::path::Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// What a reader noticed that does not stop it, one message each (columns of a published
/// format that flexsim does not read, ...); the CLI prints them on stderr.
pub type Warnings = Vec<String>;
