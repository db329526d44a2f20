//! What a run writes and how runs are compared: summaries, CSV files, and the golden-figure
//! regression check.

pub mod csv_out;
pub mod decisions_csv;
pub mod regress;
pub mod replay_csv;
pub mod report;
pub mod topology_dot;
