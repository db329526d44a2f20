//! Stand-alone driver for `flexsim_calibrate::run`, the same wiring `flexsim calibrate` uses:
//!
//! ```text
//! cargo run -p flexsim-calibrate --example calibrate -- --backend nvml --workload "./bench" --seconds 30
//! ```

use clap::Parser;
use flexsim_calibrate::{exit_code, run, CalibrateArgs};

/// Calibrate one accelerator and write its device profile.
#[derive(Parser)]
#[command(name = "calibrate")]
struct Cli {
    #[command(flatten)]
    args: CalibrateArgs,
}

fn main() {
    let cli = Cli::parse();
    match run(&cli.args) {
        Ok(profile) => {
            eprintln!(
                "calibrated {} ({} device {}) in {:.1} s",
                profile.inventory.model,
                profile.inventory.backend,
                profile.inventory.device_index,
                profile.provenance.wall_seconds
            );
            for note in &profile.provenance.notes {
                eprintln!("note: {note}");
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(exit_code(&e));
        }
    }
}
