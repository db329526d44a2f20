//! The `flexsim` binary: the library's command line with the shipped policies.

fn main() -> std::process::ExitCode {
    flexsim::Cli::new().run()
}
