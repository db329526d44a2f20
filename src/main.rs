//! `flexsim`: the command line.

mod claim;
mod compare;
mod inputs;
mod plot;
mod run;
mod seeds;
mod sweep;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use flexsim_sim::engine::inflation::InflationConfig;
use flexsim_sim::output::report;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "flexsim",
    version,
    about = "Simulate schedulers on sliceable GPU/NPU clusters"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Experiment protocol.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Protocol {
    /// The FGD paper's snapshot experiment: pods arrive, never leave (fgd-protocol).
    Inflation,
    /// Time-faithful: jobs arrive at trace times, queue, run at modelled speed, finish.
    Replay,
}

/// Options of the replay protocol.
#[derive(clap::Args)]
struct ReplayArgs {
    /// Experiment protocol.
    #[arg(long, value_enum, default_value = "inflation")]
    protocol: Protocol,
    /// Slicing mode of every device model (whole, share, fractional (= flexai), flexai, hami,
    /// mig, vnpu, timeshare), or per model: A100-80=mig,Ascend910B3=vnpu (both: whole,A100-80=mig).
    /// Default: the policy's preferred mode where a model supports it, else the fleet file's
    /// (openb CSV: share).
    #[arg(long)]
    slicing: Option<String>,
    /// Work added to a preempted job, seconds (replay).
    #[arg(long, default_value_t = 60.0)]
    restart_cost_s: f64,
    /// A latency-sensitive job meets its SLO when JCT <= this x its solo work (replay).
    #[arg(long, default_value_t = 1.5)]
    slo_slowdown: f64,
    /// Busy share of jobs whose trace does not give one (replay): default, genai,
    /// genai-empirical, fixed:F, lognormal:MU,SIGMA, beta:A,B[,SCALE].
    #[arg(long, default_value = "default")]
    demand: String,
    /// Replay: refuse to run (exit 2) when a job fits no node of the empty fleet, instead of
    /// reporting it unplaceable.
    #[arg(long)]
    strict: bool,
}

/// Trace tools.
#[derive(Subcommand)]
enum TraceCommand {
    /// Generate a synthetic trace in flexsim's native CSV format.
    Synth {
        /// Number of jobs.
        #[arg(long, default_value_t = 10_000)]
        jobs: u64,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Start from a preset: openb (the openb default trace's mix) or small-model-heavy.
        #[arg(long, default_value = "openb")]
        preset: String,
        /// Override one parameter, key=value (repeatable); an unknown key lists the known ones.
        #[arg(long = "set")]
        set: Vec<String>,
        /// Output CSV file (refused if it exists, unless --force).
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand)]
enum Command {
    /// Run one policy on one trace (default: the embedded openb trace and fleet, fgd, seed 42).
    Run {
        /// Pod list CSV (openb format); default: the embedded openb_pod_list_default.
        #[arg(long)]
        trace: Option<PathBuf>,
        /// Node list CSV (openb format); default: the embedded openb_node_list_gpu_node.
        #[arg(long)]
        fleet: Option<PathBuf>,
        /// Policy, with parameters if any: `fgd`, `hami[node=spread]` (see `flexsim policies -v`).
        #[arg(long, default_value = "fgd")]
        policy: String,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Tune arrived GPU requests to this share of capacity (fgd-protocol §2.2).
        #[arg(long, default_value_t = 1.3)]
        tune: f64,
        /// Output directory; default out/<trace>-<policy>-s<seed> (replay: ...-replay-s<seed>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Overwrite an output directory that already holds results.
        #[arg(long)]
        force: bool,
        /// Run a fleet beyond 10,000,000 devices or nodes (refused without it).
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        replay: ReplayArgs,
    },
    /// Run a grid of traces × policies × seeds in parallel.
    Sweep {
        /// Comma-separated pod list CSVs; default: the embedded openb default trace.
        #[arg(long)]
        trace: Option<String>,
        /// Node list CSV; default: the embedded openb GPU node list.
        #[arg(long)]
        fleet: Option<PathBuf>,
        /// Comma-separated policies, each with parameters if any (`fgd,tiresias[thresholds=1800:7200]`).
        #[arg(
            long,
            default_value = "random,dot-product,gpu-clustering,gpu-packing,best-fit,fgd"
        )]
        policy: String,
        /// Seeds: an inclusive range a..b or a comma list.
        #[arg(long, default_value = "42..51")]
        seeds: String,
        #[arg(long, default_value_t = 1.3)]
        tune: f64,
        /// Output directory.
        #[arg(long, default_value = "out/sweep")]
        out: PathBuf,
        #[arg(long)]
        force: bool,
        /// Worker threads (default: one per core; at most the cores available). Results do not
        /// depend on it.
        #[arg(long)]
        threads: Option<usize>,
        /// Hide the progress bar.
        #[arg(long)]
        quiet: bool,
        /// Run a grid beyond 100,000 runs, or a fleet beyond 10,000,000 devices or nodes
        /// (refused without it).
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        replay: ReplayArgs,
    },
    /// List the policies with a one-line description each (`--verbose`: and their parameters,
    /// set as `name[key=value,...]`, with defaults).
    Policies {
        #[arg(long, short)]
        verbose: bool,
    },
    /// Compare a run's summary with a golden one; exit 1 on a regression, 2 on bad input.
    Regress {
        /// Golden summary.json (or a run directory).
        baseline: PathBuf,
        /// Run directory (or its summary.json).
        run: PathBuf,
        /// Absolute tolerance for one metric, metric=abs (repeatable), e.g.
        /// util_busy_pct=0.5 or per_device_model.G2.util_alloc_pct=1.
        #[arg(long = "tolerance")]
        tolerances: Vec<String>,
    },
    /// The Flex:ai utilization claim check: replay openb and a synthetic small-model-heavy
    /// workload under the baselines and every Hi variant (results/flexai-claim).
    ClaimCheck {
        #[arg(long, default_value = "results/flexai-claim")]
        out: PathBuf,
        /// Seeds: an inclusive range a..b or a comma list.
        #[arg(long, default_value = "42..46")]
        seeds: String,
        /// Jobs in the synthetic workload.
        #[arg(long, default_value_t = 20_000)]
        synth_jobs: u64,
        /// Mean seconds between synthetic arrivals (small-model-heavy; openb-mix gets twice).
        #[arg(long, default_value_t = 4.0)]
        synth_interarrival_s: f64,
        #[arg(long)]
        force: bool,
        #[arg(long)]
        threads: Option<usize>,
        #[arg(long)]
        quiet: bool,
    },
    /// Trace tools: `flexsim trace synth ...`.
    #[command(subcommand)]
    Trace(TraceCommand),
    /// Print several runs' summaries side by side.
    Compare {
        /// Run directories (or summary.json files).
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
    },
    /// Measure a real GPU (NVML) or Ascend NPU (ACL/DCMI) and write a device profile.
    Calibrate {
        #[command(flatten)]
        args: flexsim_calibrate::CalibrateArgs,
    },
}

fn main() -> ExitCode {
    match real_main() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            // Exit codes are part of the interface: 2 = --strict found unplaceable jobs.
            let strict = matches!(
                e.downcast_ref::<flexsim_sim::error::EngineError>(),
                Some(flexsim_sim::error::EngineError::Unplaceable { .. })
            );
            if strict {
                eprintln!("error: --strict: no run for a trace with jobs the fleet can never hold");
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// `--threads` capped at the cores this process may use: more threads only add switching, and
/// results do not depend on the count. Says so on stderr when it caps.
fn cap_threads(threads: Option<usize>) -> Result<Option<usize>> {
    if threads == Some(0) {
        bail!("--threads must be at least 1");
    }
    let available = std::thread::available_parallelism().map(std::num::NonZeroUsize::get);
    Ok(match (threads, available) {
        (Some(n), Ok(cores)) if n > cores => {
            eprintln!("note: --threads {n} capped at {cores}, the cores available to this process");
            Some(cores)
        }
        (t, _) => t,
    })
}

fn check_strict(args: &ReplayArgs) -> Result<()> {
    if args.strict && args.protocol != Protocol::Replay {
        bail!("--strict applies to --protocol replay (inflation reports pods_unplaceable in summary.json)");
    }
    Ok(())
}

fn check_tune(tune: f64) -> Result<()> {
    if !(tune.is_finite() && tune > 0.0 && tune <= 10.0) {
        bail!("invalid --tune {tune}: expected a share of capacity in (0, 10], e.g. 1.3");
    }
    Ok(())
}

/// The replay configuration the flags describe.
fn replay_config(
    args: &ReplayArgs,
    seed: u64,
) -> Result<flexsim_sim::engine::replay::ReplayConfig> {
    if !(args.restart_cost_s.is_finite() && args.restart_cost_s >= 0.0) {
        bail!("invalid --restart-cost-s: expected seconds >= 0");
    }
    if !(args.slo_slowdown.is_finite() && args.slo_slowdown >= 1.0) {
        bail!("invalid --slo-slowdown: expected a factor >= 1");
    }
    let demand: flexsim_sim::model::demand::DemandDistribution =
        args.demand.parse().map_err(anyhow::Error::msg)?;
    Ok(flexsim_sim::engine::replay::ReplayConfig {
        seed,
        demand,
        strict: args.strict,
        restart_cost_ms: (args.restart_cost_s * 1000.0).round() as u64,
        slo_slowdown: args.slo_slowdown,
        ..Default::default()
    })
}

fn real_main() -> Result<()> {
    match Cli::parse().command {
        Command::Calibrate { args } => match flexsim_calibrate::run(&args) {
            Ok(profile) => {
                println!(
                    "calibrated {} ({} device {}) in {:.1} s",
                    profile.inventory.model,
                    profile.inventory.backend,
                    profile.inventory.device_index,
                    profile.provenance.wall_seconds
                );
                for note in &profile.provenance.notes {
                    println!("note: {note}");
                }
            }
            Err(e) => {
                // Exit codes are part of the interface: 2 = a vendor library is missing.
                eprintln!("error: {e}");
                std::process::exit(flexsim_calibrate::exit_code(&e));
            }
        },
        Command::Regress {
            baseline,
            run,
            tolerances,
        } => match compare::regress(&baseline, &run, &tolerances) {
            Ok(false) => {}
            Ok(true) => std::process::exit(1),
            Err(e) => {
                eprintln!("error: {e:#}");
                std::process::exit(2);
            }
        },
        Command::Compare { dirs } => compare::compare(&dirs)?,
        Command::ClaimCheck {
            out,
            seeds,
            synth_jobs,
            synth_interarrival_s,
            force,
            threads,
            quiet,
        } => {
            let seeds = seeds::parse(&seeds).map_err(anyhow::Error::msg)?;
            let threads = cap_threads(threads)?;
            if !(synth_interarrival_s.is_finite() && synth_interarrival_s > 0.0) {
                bail!("invalid --synth-interarrival-s: expected seconds > 0");
            }
            report::prepare_out_dir(&out, force)?;
            let spec = claim::ClaimSpec {
                seeds,
                synth_jobs,
                synth_interarrival_s,
                threads,
                progress: !quiet,
            };
            claim::run(&spec, &out)?;
            println!("wrote {}/summary.csv, table.md and plots", out.display());
        }
        Command::Trace(TraceCommand::Synth {
            jobs,
            seed,
            preset,
            set,
            out,
            force,
        }) => {
            use flexsim_sim::input::synth::SynthParams;
            let mut params = SynthParams::preset(&preset).map_err(anyhow::Error::msg)?;
            params
                .apply_override("jobs", &jobs.to_string())
                .and_then(|()| params.apply_override("seed", &seed.to_string()))
                .map_err(anyhow::Error::msg)?;
            for a in &set {
                params.apply_assignment(a).map_err(anyhow::Error::msg)?;
            }
            params.validate().map_err(anyhow::Error::msg)?;
            if out.exists() && !force {
                bail!("{} exists; pass --force to overwrite it", out.display());
            }
            let w = flexsim_sim::input::synth::generate(&params);
            let file = std::fs::File::create(&out)
                .with_context(|| format!("creating {}", out.display()))?;
            flexsim_sim::input::trace::native::write(&w, std::io::BufWriter::new(file))
                .with_context(|| format!("writing {}", out.display()))?;
            println!("wrote {} jobs to {}", w.pods.len(), out.display());
        }
        Command::Policies { verbose } => {
            for p in flexsim_policies::registry() {
                println!("{:<16} {}", p.name, p.description);
                if verbose {
                    for s in p.params {
                        let setting = format!("{}={}", s.key, s.default);
                        println!("{:<16}   {setting:<18} {}", "", s.help);
                    }
                }
            }
        }
        Command::Run {
            trace,
            fleet,
            policy,
            seed,
            tune,
            out,
            force,
            yes,
            replay,
        } => {
            check_tune(tune)?;
            let policy = flexsim_policies::build(&policy)?.request.canonical();
            let fleet = inputs::fleet(fleet.as_deref(), yes)?;
            let workload = inputs::trace(trace.as_deref())?;
            let slicing = run::slicing_choice(replay.slicing.as_deref())?;
            run::chosen_fleet(&fleet, slicing.as_ref())?;
            check_strict(&replay)?;
            if replay.protocol == Protocol::Replay {
                let out = out.unwrap_or_else(|| {
                    PathBuf::from("out").join(format!("{}-{policy}-replay-s{seed}", workload.name))
                });
                let config = replay_config(&replay, seed)?;
                report::prepare_out_dir(&out, force)?;
                let demand = config.demand.to_string();
                let r = run::replay_run(
                    &workload,
                    &fleet,
                    &policy,
                    slicing.as_ref(),
                    &config,
                    &demand,
                )?;
                run::write_replay(&out, &workload, &r)
                    .with_context(|| format!("writing {}", out.display()))?;
                for line in run::replay_notes(&r.summary) {
                    eprintln!("{line}");
                }
                run::print_replay(&r.summary, &out);
                return Ok(());
            }
            let out = out.unwrap_or_else(|| {
                PathBuf::from("out").join(format!("{}-{policy}-s{seed}", workload.name))
            });
            report::prepare_out_dir(&out, force)?;
            let config = InflationConfig {
                seed,
                tune_ratio: tune,
            };
            let r = run::inflation_run(&workload, &fleet, &policy, slicing.as_ref(), config)?;
            report::write_inflation_run(&out, &r.summary, &r.curve)
                .with_context(|| format!("writing {}", out.display()))?;
            for line in run::inflation_notes(&r.summary) {
                eprintln!("{line}");
            }
            let s = &r.summary;
            println!("protocol        inflation (fgd-protocol), tune {}", s.tune);
            println!(
                "trace           {} ({} pods arrived)",
                s.trace, s.pods_arrived
            );
            println!(
                "fleet           {} ({} GPUs)",
                s.fleet,
                s.gpu_capacity_milli / 1000
            );
            println!("policy / seed   {} / {}", s.policy, s.seed);
            println!("pods failed     {}", s.pods_failed);
            println!("alloc @100 %    {}", run::pct(s.alloc_pct_at_100));
            println!("alloc @130 %    {}", run::pct(s.alloc_pct_at_130));
            println!("frag ratio @100 {}", run::pct(s.frag_ratio_pct_at_100));
            println!("wall            {} ms", s.wall_ms);
            println!("wrote           {}/summary.json, curve.csv", out.display());
        }
        Command::Sweep {
            trace,
            fleet,
            policy,
            seeds,
            tune,
            out,
            force,
            threads,
            quiet,
            yes,
            replay,
        } => {
            check_tune(tune)?;
            check_strict(&replay)?;
            let slicing = run::slicing_choice(replay.slicing.as_deref())?;
            let replay_config = (replay.protocol == Protocol::Replay)
                .then(|| replay_config(&replay, 0))
                .transpose()?;
            let seed_count = seeds::count(&seeds).map_err(anyhow::Error::msg)?;
            let mut policies = Vec::new();
            for p in flexsim_sim::policy::params::split_requests(&policy)? {
                policies.push(flexsim_policies::build(&p)?.request.canonical());
            }
            if policies.is_empty() {
                bail!("--policy names no policy");
            }
            let threads = cap_threads(threads)?;
            let paths = trace.as_deref().map(inputs::path_list);
            if paths.as_ref().is_some_and(Vec::is_empty) {
                bail!("--trace names no file");
            }
            // Sized before anything is read or listed.
            let traces = paths.as_ref().map_or(1, Vec::len) as u64;
            let runs = traces
                .saturating_mul(policies.len() as u64)
                .saturating_mul(seed_count);
            if runs > sweep::GRID_LIMIT && !yes {
                bail!(
                    "the sweep grid has {runs} runs ({traces} trace{} x {} polic{} x {seed_count} seed{}), beyond the limit of {} runs; pass --yes to run it anyway, or split it",
                    if traces == 1 { "" } else { "s" },
                    policies.len(),
                    if policies.len() == 1 { "y" } else { "ies" },
                    if seed_count == 1 { "" } else { "s" },
                    sweep::GRID_LIMIT
                );
            }
            let seeds = seeds::parse(&seeds).map_err(anyhow::Error::msg)?;
            let fleet = inputs::fleet(fleet.as_deref(), yes)?;
            let workloads = match &paths {
                None => vec![inputs::trace(None)?],
                Some(paths) => paths
                    .iter()
                    .map(|p| inputs::trace(Some(p)))
                    .collect::<Result<_>>()?,
            };
            run::chosen_fleet(&fleet, slicing.as_ref())?;
            report::prepare_out_dir(&out, force)?;
            let spec = sweep::SweepSpec {
                workloads: &workloads,
                fleet: &fleet,
                policies: &policies,
                seeds: &seeds,
                tune_ratio: tune,
                slicing,
                replay: replay_config,
                threads,
                progress: !quiet,
            };
            sweep::sweep(&spec, &out)?;
            println!("wrote {}/sweep.csv and plots", out.display());
        }
    }
    Ok(())
}
