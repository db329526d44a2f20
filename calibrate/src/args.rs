//! Command-line arguments of `flexsim calibrate`, as a `clap::Args` struct the CLI flattens in.

use std::path::PathBuf;

use crate::error::CalibrateError;

/// Which driver stack to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendKind {
    /// NVIDIA GPUs through NVML (libnvidia-ml.so.1).
    Nvml,
    /// Huawei Ascend NPUs through AscendCL (libascendcl.so), DCMI (libdcmi.so) as fallback.
    Acl,
}

/// `flexsim calibrate` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct CalibrateArgs {
    /// Driver stack to read.
    #[arg(long, value_enum)]
    pub backend: BackendKind,
    /// Device index (NVML index, or ACL logical device id).
    #[arg(long, default_value_t = 0)]
    pub device: u32,
    /// Where to write the profile (default: traces/profiles/MODEL.toml, MODEL the measured one).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Shell command to measure; run with `sh -c` alone and as k concurrent copies. It may print
    /// `FLEXSIM_THROUGHPUT=<float>` lines on stdout (the last one counts); otherwise throughput is
    /// 1 / completion seconds.
    #[arg(long)]
    pub workload: Option<String>,
    /// Copy counts to run concurrently on the device (1 is always run).
    #[arg(long, value_delimiter = ',', default_value = "1,2,4")]
    pub colocate: Vec<u32>,
    /// Stop each run after this many seconds (SIGTERM, then SIGKILL after 2 s); the workload must
    /// then print `FLEXSIM_THROUGHPUT=<float>` lines.
    #[arg(long)]
    pub seconds: Option<f64>,
    /// Path of libnvidia-ml.so.1 to load instead of the loader's search.
    #[arg(long, env = "FLEXSIM_NVML_LIB")]
    pub nvml_lib: Option<PathBuf>,
    /// Path of libascendcl.so to load instead of the default search.
    #[arg(long, env = "FLEXSIM_ACL_LIB")]
    pub acl_lib: Option<PathBuf>,
    /// Path of libdcmi.so to load instead of the default search.
    #[arg(long, env = "FLEXSIM_DCMI_LIB")]
    pub dcmi_lib: Option<PathBuf>,
}

/// Upper bound on concurrent copies: more is almost surely a typo and would fork-bomb a host.
pub const MAX_COPIES: u32 = 64;

impl CalibrateArgs {
    /// Arguments for `backend` with every other option at its default.
    pub fn new(backend: BackendKind) -> Self {
        CalibrateArgs {
            backend,
            device: 0,
            out: None,
            workload: None,
            colocate: vec![1, 2, 4],
            seconds: None,
            nvml_lib: None,
            acl_lib: None,
            dcmi_lib: None,
        }
    }

    /// The copy counts to run: sorted, deduplicated, always starting with 1 (the solo run that
    /// every relative number divides by).
    pub fn copy_counts(&self) -> Result<Vec<u32>, CalibrateError> {
        let mut ks = self.colocate.clone();
        if let Some(bad) = ks.iter().find(|&&k| k == 0 || k > MAX_COPIES) {
            return Err(CalibrateError::InvalidArgs(format!(
                "--colocate {bad}: copy counts must be in 1..={MAX_COPIES}"
            )));
        }
        ks.push(1);
        ks.sort_unstable();
        ks.dedup();
        Ok(ks)
    }

    /// `--workload`, refused when it is empty or blank: `sh -c ""` succeeds at once and prints
    /// nothing, which would time the shell, not a workload.
    pub fn workload_command(&self) -> Result<Option<&str>, CalibrateError> {
        match self.workload.as_deref() {
            Some(w) if w.trim().is_empty() => Err(CalibrateError::InvalidArgs(format!(
                "--workload {w:?} is empty: give the shell command to measure, e.g. --workload 'python train.py'"
            ))),
            w => Ok(w),
        }
    }

    /// `--seconds` checked to be a positive finite number.
    pub fn time_limit_seconds(&self) -> Result<Option<f64>, CalibrateError> {
        match self.seconds {
            Some(s) if !(s.is_finite() && s > 0.0) => Err(CalibrateError::InvalidArgs(format!(
                "--seconds {s}: must be a positive number of seconds"
            ))),
            s => Ok(s),
        }
    }

    /// The equivalent command line, recorded in the profile's provenance.
    pub fn command_line(&self) -> String {
        let backend = match self.backend {
            BackendKind::Nvml => "nvml",
            BackendKind::Acl => "acl",
        };
        let mut s = format!(
            "flexsim calibrate --backend {backend} --device {}",
            self.device
        );
        if let Some(out) = &self.out {
            s += &format!(" --out {}", shell_quote(&out.display().to_string()));
        }
        if let Some(w) = &self.workload {
            s += &format!(" --workload {}", shell_quote(w));
            let ks: Vec<String> = self.colocate.iter().map(u32::to_string).collect();
            s += &format!(" --colocate {}", ks.join(","));
            if let Some(secs) = self.seconds {
                s += &format!(" --seconds {secs}");
            }
        }
        s
    }
}

/// Quotes a word for a POSIX shell when it needs it.
fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./,:=+".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: CalibrateArgs,
    }

    #[test]
    fn parses_the_documented_flags() {
        let cli = Cli::try_parse_from([
            "calibrate",
            "--backend",
            "acl",
            "--device",
            "3",
            "--workload",
            "python train.py",
            "--colocate",
            "4,2",
            "--seconds",
            "30",
        ])
        .unwrap();
        let a = cli.args;
        assert_eq!(a.backend, BackendKind::Acl);
        assert_eq!(a.device, 3);
        assert_eq!(a.copy_counts().unwrap(), vec![1, 2, 4]);
        assert_eq!(a.time_limit_seconds().unwrap(), Some(30.0));
        assert_eq!(
            a.command_line(),
            "flexsim calibrate --backend acl --device 3 --workload 'python train.py' --colocate 4,2 --seconds 30"
        );
    }

    #[test]
    fn rejects_bad_counts_and_seconds() {
        let mut a = CalibrateArgs::new(BackendKind::Nvml);
        a.colocate = vec![0, 2];
        assert!(a.copy_counts().is_err());
        a.colocate = vec![1000];
        assert!(a.copy_counts().is_err());
        a.seconds = Some(-1.0);
        assert!(a.time_limit_seconds().is_err());
        a.seconds = Some(f64::NAN);
        assert!(a.time_limit_seconds().is_err());
    }

    #[test]
    fn empty_workload_is_an_error() {
        let mut a = CalibrateArgs::new(BackendKind::Nvml);
        assert_eq!(a.workload_command().unwrap(), None);
        for blank in ["", "  \t"] {
            a.workload = Some(blank.into());
            let e = a.workload_command().unwrap_err();
            assert!(matches!(e, CalibrateError::InvalidArgs(_)), "{e}");
            assert!(e.to_string().contains("is empty"), "{e}");
        }
        a.workload = Some("true".into());
        assert_eq!(a.workload_command().unwrap(), Some("true"));
    }

    #[test]
    fn quotes_only_when_needed() {
        assert_eq!(shell_quote("a.toml"), "a.toml");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
