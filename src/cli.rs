//! The command line: its arguments (clap) and what each command does. [`crate::Cli`] is the
//! entry point that runs it.

use crate::{compare, experiment, inputs, merge, registry, run, seeds, stdout, sweep, trace_info};
use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use flexsim_sim::engine::inflation::InflationConfig;
use flexsim_sim::output::report;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "flexsim",
    version,
    about = "Simulate schedulers on sliceable GPU/NPU clusters"
)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

/// Experiment protocol.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Protocol {
    /// The FGD paper's snapshot experiment: pods arrive, never leave (fgd-protocol).
    Inflation,
    /// Time-faithful: jobs arrive at trace times, queue, run at modelled speed, finish.
    Replay,
}

/// Options of the replay protocol.
#[derive(clap::Args)]
pub(crate) struct ReplayArgs {
    /// Experiment protocol.
    #[arg(long, value_enum, default_value = "inflation")]
    pub(crate) protocol: Protocol,
    /// Slicing mode of every device model (whole, share, fractional (= flexai), flexai, hami,
    /// mig, vnpu, timeshare), or per model: A100-80=mig,Ascend910B3=vnpu (both: whole,A100-80=mig).
    /// Default: the policy's preferred mode where a model supports it, else the fleet file's
    /// (openb CSV: share).
    #[arg(long)]
    pub(crate) slicing: Option<String>,
    /// Work added to a preempted job, seconds (replay).
    #[arg(long, default_value_t = 60.0)]
    pub(crate) restart_cost_s: f64,
    /// A latency-sensitive job meets its SLO when JCT <= this x its solo work (replay).
    #[arg(long, default_value_t = 1.5)]
    pub(crate) slo_slowdown: f64,
    /// Speed factor in (0, 1] of a gang job whose parts span several nodes (replay): it runs
    /// at its slowest card's rate times this. Default 0.8, from published data-parallel
    /// scaling (see PerfParams::cross_node_factor).
    #[arg(long, default_value_t = flexsim_sim::model::perf::PerfParams::DEFAULT.cross_node_factor)]
    pub(crate) cross_node_factor: f64,
    /// Busy share of jobs whose trace does not give one (replay): default, genai,
    /// genai-empirical, fixed:F, lognormal:MU,SIGMA, beta:A,B[,SCALE].
    #[arg(long, default_value = "default")]
    pub(crate) demand: String,
    /// Replay: refuse to run (exit 2) when a job fits no node of the empty fleet, instead of
    /// reporting it unplaceable.
    #[arg(long)]
    pub(crate) strict: bool,
    /// Replay: report what powering idle cards down would save — a card with no tenant for
    /// this many minutes draws 0 W until its next tenant (the schedule is unchanged).
    #[arg(long, value_name = "MINUTES")]
    pub(crate) idle_off_min: Option<f64>,
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
        /// Output CSV file (refused if it exists, unless --force); `-`: standard output.
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        force: bool,
    },
    /// Print a trace's shape: its format, jobs (and those the reader skipped, with reasons),
    /// GPU-hours, size mix, arrival span, gangs, and the offered load on a fleet — whether it
    /// will contend there.
    Info {
        /// Trace file in any format flexsim reads (told by its header).
        file: PathBuf,
        /// Fleet for the offered load (any fleet file); default: the embedded openb GPU node
        /// list, as `run` uses.
        #[arg(long)]
        nodes: Option<PathBuf>,
    },
}

/// Fleet tools.
#[derive(Subcommand)]
enum FleetCommand {
    /// Print a fleet's nodes, device models and topology (network levels, each model's
    /// board, the speed factor of each tier); --dot writes the graph for Graphviz.
    Show {
        /// Fleet file (TOML or openb node list CSV); default: the embedded openb GPU node list.
        file: Option<PathBuf>,
        /// Write the topology as Graphviz DOT here (refused if it exists, unless --force).
        #[arg(long)]
        dot: Option<PathBuf>,
        #[arg(long)]
        force: bool,
        /// Read a fleet beyond 10,000,000 devices or nodes (refused without it).
        #[arg(long)]
        yes: bool,
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
        /// Replay: write decisions.csv — for each placement of the named jobs (comma list of
        /// jobs.csv's `job` names; no value: every job), every node with its score or why it
        /// could not take the job, and the winner; a job that never started keeps its last
        /// failed attempt.
        #[arg(long, value_name = "JOBS", num_args = 0..=1, default_missing_value = "")]
        explain: Option<String>,
        #[command(flatten)]
        replay: ReplayArgs,
    },
    /// Run a grid of traces × policies × seeds in parallel: an experiment file
    /// (`flexsim sweep experiments/fgd-repro.toml`), or the grid the flags give.
    Sweep {
        /// Experiment file (experiments/*.toml): its grid, protocol and options replace the
        /// grid flags; results go to its `out` (default results/<name>/) unless --out.
        experiment: Option<PathBuf>,
        /// Run only shard i of n of the experiment file's grid (0 <= i < n), chosen by each
        /// run's identity; join the shards' folders with `flexsim merge`.
        #[arg(long, value_name = "I/N")]
        shard: Option<String>,
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
    /// Join the folders of `flexsim sweep FILE --shard i/n` into what one process writes.
    Merge {
        /// The shards' output folders, every shard of the split once.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        force: bool,
    },
    /// Trace tools: `flexsim trace synth ...`.
    #[command(subcommand)]
    Trace(TraceCommand),
    /// Fleet tools: `flexsim fleet show FILE [--dot OUT]`.
    #[command(subcommand)]
    Fleet(FleetCommand),
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

/// Exit code of a run ended by Ctrl-C (SIGINT) or SIGTERM, after removing what it was writing.
const INTERRUPTED_EXIT: i32 = 130;

/// Runs the command line `std::env::args` gives, with the registry already installed; the
/// process's exit code.
pub(crate) fn main() -> ExitCode {
    // Ctrl-C or a job scheduler's SIGTERM: remove the half-written output, keep the old one.
    let _ = ctrlc::set_handler(|| {
        report::remove_unfinished();
        std::process::exit(INTERRUPTED_EXIT);
    });
    match real_main() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if let Some(io) = e.chain().find_map(stdout::broken_pipe) {
                stdout::closed(io);
            }
            let _ = writeln!(std::io::stderr(), "error: {e:#}");
            // Exit codes are part of the interface: 2 = --strict found unplaceable jobs.
            let strict = matches!(
                e.downcast_ref::<flexsim_sim::error::EngineError>(),
                Some(flexsim_sim::error::EngineError::Unplaceable { .. })
            );
            if strict {
                let _ = writeln!(
                    std::io::stderr(),
                    "error: --strict: no run for a trace with jobs the fleet can never hold"
                );
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// The protocol each flag of `run` and `sweep` belongs to (`None`: both). A flag given on the
/// command line for the other protocol is an error: it would silently do nothing. Every flag
/// of the two commands must be listed (a test checks).
const FLAG_PROTOCOL: &[(&str, Option<Protocol>)] = &[
    ("tune", Some(Protocol::Inflation)),
    ("restart_cost_s", Some(Protocol::Replay)),
    ("slo_slowdown", Some(Protocol::Replay)),
    ("cross_node_factor", Some(Protocol::Replay)),
    ("demand", Some(Protocol::Replay)),
    ("protocol", None),
    ("slicing", None),
    ("trace", None),
    ("fleet", None),
    ("policy", None),
    ("seed", None),
    ("seeds", None),
    ("out", None),
    ("force", None),
    ("threads", None),
    ("quiet", None),
    ("yes", None),
    ("strict", Some(Protocol::Replay)),
    ("explain", Some(Protocol::Replay)),
    ("idle_off_min", Some(Protocol::Replay)),
    ("experiment", None),
    ("shard", None),
];

/// Refuses flags given for the protocol `protocol` does not run (see [`FLAG_PROTOCOL`]).
fn check_protocol_flags(args: Option<&clap::ArgMatches>, protocol: Protocol) -> Result<()> {
    let Some(args) = args else { return Ok(()) };
    let (this, other) = match protocol {
        Protocol::Inflation => ("inflation", "replay"),
        Protocol::Replay => ("replay", "inflation"),
    };
    let given: Vec<String> = FLAG_PROTOCOL
        .iter()
        .filter(|(id, p)| {
            // Not every command has every flag (`--explain` is `run`'s): ask only for its own,
            // as clap's debug builds panic on an id the command does not define.
            p.is_some_and(|p| p != protocol)
                && matches!(args.try_contains_id(id), Ok(true))
                && args.value_source(id) == Some(clap::parser::ValueSource::CommandLine)
        })
        .map(|(id, _)| format!("--{}", id.replace('_', "-")))
        .collect();
    if !given.is_empty() {
        let one = given.len() == 1;
        let default =
            if args.value_source("protocol") == Some(clap::parser::ValueSource::CommandLine) {
                ""
            } else {
                " (the default)"
            };
        bail!(
            "{} appl{} only to --protocol {other}, and this run is --protocol {this}{default}; \
             drop {}",
            given.join(", "),
            if one { "ies" } else { "y" },
            if one { "it" } else { "them" }
        );
    }
    Ok(())
}

/// `--threads` capped at the cores this process may use: more threads only add switching, and
/// results do not depend on the count. Says so on stderr when it caps.
pub(crate) fn cap_threads(threads: Option<usize>) -> Result<Option<usize>> {
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

pub(crate) fn check_tune(tune: f64) -> Result<()> {
    if !(tune.is_finite() && tune > 0.0 && tune <= 10.0) {
        bail!("invalid --tune {tune}: expected a share of capacity in (0, 10], e.g. 1.3");
    }
    Ok(())
}

/// The replay configuration the flags describe.
pub(crate) fn replay_config(
    args: &ReplayArgs,
    seed: u64,
) -> Result<flexsim_sim::engine::replay::ReplayConfig> {
    if !(args.restart_cost_s.is_finite() && args.restart_cost_s >= 0.0) {
        bail!("invalid --restart-cost-s: expected seconds >= 0");
    }
    if !(args.slo_slowdown.is_finite() && args.slo_slowdown >= 1.0) {
        bail!("invalid --slo-slowdown: expected a factor >= 1");
    }
    if !(args.cross_node_factor > 0.0 && args.cross_node_factor <= 1.0) {
        bail!(
            "invalid --cross-node-factor {}: expected a speed factor in (0, 1], e.g. 0.8",
            args.cross_node_factor
        );
    }
    let perf = flexsim_sim::model::perf::PerfParams {
        cross_node_factor: args.cross_node_factor,
        ..flexsim_sim::model::perf::PerfParams::DEFAULT
    };
    let demand: flexsim_sim::model::demand::DemandDistribution =
        args.demand.parse().map_err(anyhow::Error::msg)?;
    let idle_off_ms = match args.idle_off_min {
        Some(m) if m.is_finite() && (0.0..=1e9).contains(&m) => Some((m * 60_000.0).round() as u64),
        Some(m) => bail!("invalid --idle-off-min {m}: expected minutes >= 0"),
        None => None,
    };
    Ok(flexsim_sim::engine::replay::ReplayConfig {
        seed,
        demand,
        strict: args.strict,
        restart_cost_ms: (args.restart_cost_s * 1000.0).round() as u64,
        slo_slowdown: args.slo_slowdown,
        idle_off_ms,
        perf,
        ..Default::default()
    })
}

fn real_main() -> Result<()> {
    use clap::{CommandFactory, FromArgMatches};
    let matches = Args::command().get_matches();
    let cli = Args::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let sub = matches.subcommand().map(|(_, m)| m);
    match cli.command {
        Command::Calibrate { args } => match flexsim_calibrate::run(&args) {
            Ok(profile) => {
                outln!(
                    "calibrated {} ({} device {}) in {:.1} s",
                    profile.inventory.model,
                    profile.inventory.backend,
                    profile.inventory.device_index,
                    profile.provenance.wall_seconds
                );
                for note in &profile.provenance.notes {
                    outln!("note: {note}");
                }
            }
            Err(e) => {
                // Exit codes are part of the interface: 2 = a vendor library is missing.
                let _ = writeln!(std::io::stderr(), "error: {e}");
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
                let _ = writeln!(std::io::stderr(), "error: {e:#}");
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
        } => experiment::claim_check(&experiment::ClaimCheck {
            out,
            seeds,
            synth_jobs,
            synth_interarrival_s,
            force,
            threads,
            quiet,
        })?,
        Command::Merge { dirs, out, force } => merge::merge(&dirs, &out, force)?,
        Command::Fleet(FleetCommand::Show {
            file,
            dot,
            force,
            yes,
        }) => {
            crate::fleet_show::show(&inputs::fleet(file.as_deref(), yes)?, dot.as_deref(), force)?
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
            if out.as_os_str() == "-" && force {
                bail!("--force does nothing with --out - (standard output); drop it");
            }
            let w = flexsim_sim::input::synth::generate(&params);
            if out.as_os_str() == "-" {
                let stdout = std::io::stdout().lock();
                if let Err(e) = flexsim_sim::input::trace::native::write(&w, stdout) {
                    stdout::closed(&e);
                }
                return Ok(());
            }
            let staged = report::StagedFile::new(&out, force)?;
            let file = std::fs::File::create(staged.path())
                .with_context(|| format!("creating {}", staged.path().display()))?;
            flexsim_sim::input::trace::native::write(&w, std::io::BufWriter::new(file))
                .with_context(|| format!("writing {}", staged.path().display()))?;
            staged.commit()?;
            outln!("wrote {} jobs to {}", w.pods.len(), out.display());
        }
        Command::Trace(TraceCommand::Info { file, nodes }) => {
            trace_info::print(&file, nodes.as_deref())?
        }
        Command::Policies { verbose } => {
            for p in registry::get().infos() {
                outln!("{:<16} {}", p.name, p.description);
                if verbose {
                    for s in p.params {
                        let setting = format!("{}={}", s.key, s.default);
                        outln!("{:<16}   {setting:<18} {}", "", s.help);
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
            explain,
            replay,
        } => {
            check_protocol_flags(sub, replay.protocol)?;
            check_tune(tune)?;
            let policy = registry::build(&policy)?.request.canonical();
            let fleet = inputs::fleet(fleet.as_deref(), yes)?;
            let workload = inputs::trace(trace.as_deref())?;
            inputs::check_models(&workload, &fleet)?;
            let slicing = run::slicing_choice(replay.slicing.as_deref())?;
            run::chosen_fleet(&fleet, slicing.as_ref())?;
            if replay.protocol == Protocol::Replay {
                let out = out.unwrap_or_else(|| {
                    PathBuf::from("out").join(format!("{}-{policy}-replay-s{seed}", workload.name))
                });
                let config = replay_config(&replay, seed)?;
                let explain = explain
                    .as_deref()
                    .map(|e| run::explain_jobs(e, &workload, &fleet, yes))
                    .transpose()?;
                let staged = report::Staged::new(&out, force)?;
                let demand = config.demand.to_string();
                let r = run::replay_run_explained(
                    &workload,
                    &fleet,
                    &policy,
                    slicing.as_ref(),
                    &config,
                    &demand,
                    explain.as_ref(),
                    std::io::IsTerminal::is_terminal(&std::io::stderr()),
                )?;
                run::write_replay(staged.path(), &workload, &r)
                    .with_context(|| format!("writing {}", out.display()))?;
                if let Some(jobs) = &explain {
                    let rows = run::write_decisions(staged.path(), &workload, &r, jobs)
                        .with_context(|| format!("writing {}/decisions.csv", out.display()))?;
                    eprintln!(
                        "explain: {} decisions, {rows} rows in {}/decisions.csv",
                        r.decisions.len(),
                        out.display()
                    );
                }
                staged.commit()?;
                for line in run::replay_notes(&r.summary) {
                    eprintln!("{line}");
                }
                run::print_replay(&r.summary, &out);
                return Ok(());
            }
            let out = out.unwrap_or_else(|| {
                PathBuf::from("out").join(format!("{}-{policy}-s{seed}", workload.name))
            });
            let staged = report::Staged::new(&out, force)?;
            let config = InflationConfig {
                seed,
                tune_ratio: tune,
            };
            let r = run::inflation_run(&workload, &fleet, &policy, slicing.as_ref(), config)?;
            report::write_inflation_run(staged.path(), &r.summary, &r.curve)
                .with_context(|| format!("writing {}", out.display()))?;
            staged.commit()?;
            for line in run::inflation_notes(&r.summary) {
                eprintln!("{line}");
            }
            let s = &r.summary;
            outln!("protocol        inflation (fgd-protocol), tune {}", s.tune);
            outln!(
                "trace           {} ({} pods arrived)",
                s.trace,
                s.pods_arrived
            );
            outln!(
                "fleet           {} ({} GPUs)",
                s.fleet,
                s.gpu_capacity_milli / 1000
            );
            outln!("policy / seed   {} / {}", s.policy, s.seed);
            outln!("pods failed     {}", s.pods_failed);
            outln!("alloc @100 %    {}", run::pct(s.alloc_pct_at_100));
            outln!("alloc @130 %    {}", run::pct(s.alloc_pct_at_130));
            outln!("frag ratio @100 {}", run::pct(s.frag_ratio_pct_at_100));
            outln!("wall            {} ms", s.wall_ms);
            outln!("wrote           {}/summary.json, curve.csv", out.display());
        }
        Command::Sweep {
            experiment: Some(file),
            shard,
            out,
            force,
            threads,
            quiet,
            yes,
            ..
        } => {
            experiment::check_flags(sub, Some(&file))?;
            let out_given = sub.and_then(|m| m.value_source("out"))
                == Some(clap::parser::ValueSource::CommandLine);
            experiment::sweep_file(&experiment::FileRun {
                file: &file,
                out: out_given.then_some(out),
                force,
                threads,
                quiet,
                yes,
                shard: shard.as_deref(),
            })?;
        }
        Command::Sweep {
            experiment: None,
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
            ..
        } => {
            experiment::check_flags(sub, None)?;
            check_protocol_flags(sub, replay.protocol)?;
            check_tune(tune)?;
            let slicing = run::slicing_choice(replay.slicing.as_deref())?;
            let replay_config = (replay.protocol == Protocol::Replay)
                .then(|| replay_config(&replay, 0))
                .transpose()?;
            let seed_count = seeds::count(&seeds).map_err(anyhow::Error::msg)?;
            let mut policies = Vec::new();
            for p in flexsim_sim::policy::params::split_requests(&policy)? {
                policies.push(registry::build(&p)?.request.canonical());
            }
            if policies.is_empty() {
                bail!("--policy names no policy");
            }
            for (i, p) in policies.iter().enumerate() {
                if policies[..i].contains(p) {
                    bail!("--policy lists {p} twice; its runs would share one folder");
                }
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
                Some(paths) => {
                    sweep::check_unique_traces(paths)?;
                    paths
                        .iter()
                        .map(|p| inputs::trace(Some(p)))
                        .collect::<Result<_>>()?
                }
            };
            for w in &workloads {
                inputs::check_models(w, &fleet)?;
            }
            run::chosen_fleet(&fleet, slicing.as_ref())?;
            let staged = report::Staged::new(&out, force)?;
            let spec = sweep::SweepSpec {
                cases: &sweep::cases_of(workloads, fleet),
                policies: &policies,
                seeds: &seeds,
                tune_ratio: tune,
                slicing,
                replay: replay_config,
                threads,
                progress: !quiet,
                shard: None,
            };
            let table = sweep::sweep(&spec, staged.path())?;
            staged.commit()?;
            out!("{table}");
            outln!("wrote {}/sweep.csv and plots", out.display());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn every_run_and_sweep_flag_is_classified_by_protocol() {
        let cli = Args::command();
        for name in ["run", "sweep"] {
            let cmd = cli.find_subcommand(name).unwrap();
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if id == "help" {
                    continue;
                }
                assert!(
                    FLAG_PROTOCOL.iter().any(|(f, _)| *f == id),
                    "flexsim {name} --{id}: add it to FLAG_PROTOCOL (which protocol uses it?)"
                );
            }
        }
    }
}
