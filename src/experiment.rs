//! Experiment files: `experiments/*.toml` names the grid of a published table or figure —
//! workloads (trace files, or synthetic traces drawn per seed) on fleets, policies with
//! parameters, seeds, the protocol and its options — so that `flexsim sweep FILE` reruns it
//! exactly and `--shard i/n` splits it over machines (DESIGN "Results").
//!
//! Paths in a file are relative to the directory the command runs in, as the flags' are (the
//! shipped files are run from the repository root). The shipped traces and fleets compiled into
//! the binary (the openb default trace, the openb GPU node list, the claim check's fleet) are
//! used from the binary when the file is not on disk, so `flexsim claim-check` works from any
//! directory. Every key is checked: an unknown one is refused with its line and the known keys.

use crate::shard::Shard;
use crate::sweep::{self, Case, Kind, RunRecord, SweepSpec};
use anyhow::{anyhow, bail, Context, Result};
use flexsim_sim::output::report;
use serde::Deserialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The claim check's experiment file, compiled in for `flexsim claim-check`.
pub const CLAIM_EXPERIMENT: &str = include_str!("../experiments/flexai-claim.toml");
/// Where that file lives in the repository (for messages and the recorded copy's origin).
pub const CLAIM_EXPERIMENT_PATH: &str = "experiments/flexai-claim.toml";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExperimentToml {
    /// Results go to `results/<name>/` unless `out` says otherwise; default: the file stem.
    name: Option<String>,
    description: Option<String>,
    out: Option<PathBuf>,
    #[serde(default)]
    protocol: Protocol,
    #[serde(default)]
    report: ReportKind,
    /// Trace files, each run on `fleet` (the `--trace A,B --fleet F` grid).
    traces: Option<Vec<toml::Spanned<String>>>,
    /// The fleet of `traces`, and of workloads that name none; default: the openb GPU nodes.
    fleet: Option<String>,
    #[serde(default)]
    workloads: Vec<toml::Spanned<WorkloadToml>>,
    policies: Vec<toml::Spanned<String>>,
    seeds: toml::Spanned<Seeds>,
    slicing: Option<String>,
    inflation: Option<InflationToml>,
    replay: Option<ReplayToml>,
    /// The axes of `report = "map"` (src/map.rs).
    map: Option<MapToml>,
}

/// `[map]`: the grid of the claim map, over the one synthetic workload.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MapToml {
    /// Offered loads, shares of whole-card capacity (the map's rows).
    loads: Vec<f64>,
    /// Shares of sub-card jobs among GPU jobs (the map's columns).
    sub_card_shares: Vec<f64>,
    /// The policy the others' gains are measured against; one of `policies`.
    baseline: String,
}

/// The axes of a claim map, checked.
#[derive(Clone, Debug)]
pub struct MapAxes {
    pub loads: Vec<f64>,
    pub sub_card_shares: Vec<f64>,
    /// Canonical request of the baseline policy.
    pub baseline: String,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Default, Debug)]
#[serde(rename_all = "lowercase")]
enum Protocol {
    #[default]
    Inflation,
    Replay,
}

/// What the experiment writes: `sweep` (each run's folder, `sweep.csv`, the means plot,
/// `report.md`) or `claim` (the claim check's `summary.csv`, `table.md` and plots).
#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Default, Debug)]
#[serde(rename_all = "lowercase")]
pub enum ReportKind {
    #[default]
    Sweep,
    Claim,
    /// The claim map (src/map.rs): `map.csv`, `gain.csv` and heatmaps.
    Map,
}

impl ReportKind {
    /// As the file spells it.
    pub fn name(self) -> &'static str {
        match self {
            ReportKind::Sweep => "sweep",
            ReportKind::Claim => "claim",
            ReportKind::Map => "map",
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Seeds {
    Text(String),
    List(Vec<u64>),
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct WorkloadToml {
    /// Folder and `trace` column of its runs; default: the trace's file stem or the preset.
    name: Option<String>,
    trace: Option<String>,
    synth: Option<SynthToml>,
    fleet: Option<String>,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct SynthToml {
    preset: String,
    jobs: u64,
    /// Required, except in a map (whose loads set the arrivals).
    interarrival_s: Option<f64>,
    /// Further generator settings, `key=value` as `flexsim trace synth --set` takes them.
    #[serde(default)]
    set: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InflationToml {
    tune: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplayToml {
    restart_cost_s: Option<f64>,
    slo_slowdown: Option<f64>,
    cross_node_factor: Option<f64>,
    demand: Option<String>,
    strict: Option<bool>,
    idle_off_min: Option<f64>,
}

/// Where a workload's jobs come from.
#[derive(Clone, Debug, PartialEq)]
pub enum TraceSource {
    /// The openb default trace compiled into the binary.
    Default,
    File(PathBuf),
    /// A synthetic trace, drawn anew for each seed of the grid.
    Synth {
        preset: String,
        jobs: u64,
        /// `None` only in a map, which scales arrivals to each cell's load.
        interarrival_s: Option<f64>,
        /// `key=value` generator settings applied after the preset.
        set: Vec<String>,
    },
}

/// One workload of the grid, before its files are read.
#[derive(Clone, Debug)]
pub struct WorkloadSpec {
    pub name: String,
    pub trace: TraceSource,
    /// `None`: the openb GPU node list compiled into the binary.
    pub fleet: Option<PathBuf>,
}

/// A checked experiment file.
pub struct Experiment {
    /// The file's text, copied into the results as `experiment.toml`.
    pub text: String,
    pub name: String,
    pub description: Option<String>,
    pub out: PathBuf,
    pub kind: Kind,
    pub report: ReportKind,
    pub workloads: Vec<WorkloadSpec>,
    /// Canonical policy requests (`name[key=value,...]`), in the file's order.
    pub policies: Vec<String>,
    pub seeds: Vec<u64>,
    pub tune: f64,
    pub slicing: Option<String>,
    /// The replay protocol's options (`Some` exactly when the protocol is replay).
    pub replay: Option<flexsim_sim::engine::replay::ReplayConfig>,
    /// `Some` exactly when `report = "map"`.
    pub map: Option<MapAxes>,
}

/// `FILE:LINE:COL` of byte `offset` in `text`.
fn location(file: &Path, text: &str, offset: usize) -> String {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    format!("{}:{line}:{col}", file.display())
}

impl Experiment {
    /// Reads and checks the experiment file at `path`.
    pub fn load(path: &Path) -> Result<Experiment> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Experiment::parse(path, &text)
    }

    /// Checks the experiment `text` (read from `path`, named in every error). Reads no trace
    /// or fleet: a merge checks the copy in the results without them.
    pub fn parse(path: &Path, text: &str) -> Result<Experiment> {
        let file: ExperimentToml = toml::from_str(text).map_err(|e| {
            let at = e.span().map_or_else(
                || path.display().to_string(),
                |s| location(path, text, s.start),
            );
            // toml's message names the key and, for an unknown one, every known key.
            let msg = e.message().replace("unknown field", "unknown key");
            anyhow!("{at}: {msg}")
        })?;
        let at = |offset: usize| location(path, text, offset);
        let name = match file.name {
            Some(n) => n,
            None => flexsim_sim::input::file_stem(path),
        };
        if name.is_empty() || name.contains(['/', '\\']) || name == "." || name == ".." {
            bail!(
                "{}: name {name:?} must be a plain folder name (results/<name>/)",
                path.display()
            );
        }
        let kind = match file.protocol {
            Protocol::Inflation => Kind::Inflation,
            Protocol::Replay => Kind::Replay,
        };
        if kind == Kind::Inflation && file.replay.is_some() {
            bail!(
                "{}: a [replay] table, but protocol is \"inflation\" (the default); set \
                 protocol = \"replay\" or drop the table",
                path.display()
            );
        }
        if kind == Kind::Replay && file.inflation.is_some() {
            bail!(
                "{}: an [inflation] table, but protocol is \"replay\"; drop the table",
                path.display()
            );
        }
        if file.report == ReportKind::Claim && kind != Kind::Replay {
            bail!(
                "{}: report = \"claim\" needs protocol = \"replay\"",
                path.display()
            );
        }
        let fleet = file.fleet.map(PathBuf::from);
        let mut workloads = Vec::new();
        match (&file.traces, file.workloads.is_empty()) {
            (Some(_), false) => bail!(
                "{}: both `traces` and [[workloads]]; list the traces as workloads (each \
                 `trace = ...`), or use `traces` alone",
                path.display()
            ),
            (Some(traces), true) => {
                if traces.is_empty() {
                    bail!("{}: `traces` names no file", path.display());
                }
                for t in traces {
                    let p = PathBuf::from(t.get_ref());
                    workloads.push(WorkloadSpec {
                        name: flexsim_sim::input::file_stem(&p),
                        trace: TraceSource::File(p),
                        fleet: fleet.clone(),
                    });
                }
            }
            (None, true) => workloads.push(WorkloadSpec {
                name: flexsim_sim::input::file_stem(Path::new(crate::inputs::DEFAULT_TRACE_NAME)),
                trace: TraceSource::Default,
                fleet: fleet.clone(),
            }),
            (None, false) => {
                for w in &file.workloads {
                    let loc = at(w.span().start);
                    let w = w.get_ref();
                    let trace = match (&w.trace, &w.synth) {
                        (Some(_), Some(_)) => {
                            bail!("{loc}: a workload with both `trace` and `synth`; keep one")
                        }
                        (Some(t), None) => TraceSource::File(PathBuf::from(t)),
                        (None, None) => TraceSource::Default,
                        (None, Some(s)) => {
                            let map = file.report == ReportKind::Map;
                            match s.interarrival_s {
                                Some(_) if map => bail!(
                                    "{loc}: synth.interarrival_s in a map: its [map] loads set \
                                     the arrivals of every cell; drop it"
                                ),
                                Some(i) if !(i.is_finite() && i > 0.0) => {
                                    bail!("{loc}: synth.interarrival_s must be seconds > 0")
                                }
                                None if !map => {
                                    bail!("{loc}: synth needs interarrival_s (seconds > 0)")
                                }
                                _ => {}
                            }
                            let mut params =
                                flexsim_sim::input::synth::SynthParams::preset(&s.preset)
                                    .map_err(|e| anyhow!("{loc}: synth.preset: {e}"))?;
                            for a in &s.set {
                                let key = a.split('=').next().unwrap_or("").trim();
                                if ["jobs", "seed", "interarrival_s"].contains(&key) {
                                    bail!(
                                        "{loc}: synth.set {a:?}: {key} is not a `set` key here \
                                         (jobs and interarrival_s are synth keys of their own; \
                                         the seed is each run's)"
                                    );
                                }
                                params
                                    .apply_assignment(a)
                                    .map_err(|e| anyhow!("{loc}: synth.set {a:?}: {e}"))?;
                            }
                            params
                                .validate()
                                .map_err(|e| anyhow!("{loc}: synth: {e}"))?;
                            TraceSource::Synth {
                                preset: s.preset.clone(),
                                jobs: s.jobs,
                                interarrival_s: s.interarrival_s,
                                set: s.set.clone(),
                            }
                        }
                    };
                    let name = w.name.clone().unwrap_or_else(|| match &trace {
                        TraceSource::Default => flexsim_sim::input::file_stem(Path::new(
                            crate::inputs::DEFAULT_TRACE_NAME,
                        )),
                        TraceSource::File(p) => flexsim_sim::input::file_stem(p),
                        TraceSource::Synth { preset, .. } => preset.clone(),
                    });
                    workloads.push(WorkloadSpec {
                        name,
                        trace,
                        fleet: w.fleet.clone().map(PathBuf::from).or_else(|| fleet.clone()),
                    });
                }
            }
        }
        for (i, w) in workloads.iter().enumerate() {
            if workloads[..i].iter().any(|v| v.name == w.name) {
                bail!(
                    "{}: two workloads go by the name {:?} (their runs would share the folder \
                     {0:?}/ and rows of sweep.csv); give one a `name`",
                    path.display(),
                    w.name
                );
            }
        }
        let mut policies = Vec::new();
        for p in &file.policies {
            let canonical = crate::registry::build(p.get_ref())
                .map_err(|e| anyhow!("{}: policies: {e:#}", at(p.span().start)))?
                .request
                .canonical();
            if policies.contains(&canonical) {
                bail!(
                    "{}: policies list {canonical} twice; its runs would share one folder",
                    at(p.span().start)
                );
            }
            policies.push(canonical);
        }
        if policies.is_empty() {
            bail!("{}: `policies` names no policy", path.display());
        }
        let seeds_at = at(file.seeds.span().start);
        let seeds = match file.seeds.into_inner() {
            Seeds::Text(t) => {
                crate::seeds::parse(&t).map_err(|e| anyhow!("{seeds_at}: seeds: {e}"))?
            }
            Seeds::List(l) => {
                let mut u = l.clone();
                u.sort_unstable();
                u.dedup();
                if u.len() != l.len() || l.is_empty() {
                    bail!("{seeds_at}: seeds: a list of distinct seeds, at least one");
                }
                l
            }
        };
        let tune = file.inflation.and_then(|i| i.tune).unwrap_or(1.3);
        crate::cli::check_tune(tune)
            .map_err(|e| anyhow!("{}: inflation.tune: {e}", path.display()))?;
        if let Some(s) = &file.slicing {
            crate::run::slicing_choice(Some(s))
                .map_err(|e| anyhow!("{}: slicing: {e:#}", path.display()))?;
        }
        let replay = if kind == Kind::Replay {
            let r = file.replay.unwrap_or(ReplayToml {
                restart_cost_s: None,
                slo_slowdown: None,
                cross_node_factor: None,
                demand: None,
                strict: None,
                idle_off_min: None,
            });
            let args = crate::cli::ReplayArgs {
                protocol: crate::cli::Protocol::Replay,
                slicing: file.slicing.clone(),
                restart_cost_s: r.restart_cost_s.unwrap_or(60.0),
                slo_slowdown: r.slo_slowdown.unwrap_or(1.5),
                cross_node_factor: r
                    .cross_node_factor
                    .unwrap_or(flexsim_sim::model::perf::PerfParams::DEFAULT.cross_node_factor),
                demand: r.demand.unwrap_or_else(|| "default".into()),
                strict: r.strict.unwrap_or(false),
                idle_off_min: r.idle_off_min,
            };
            Some(
                crate::cli::replay_config(&args, 0)
                    .map_err(|e| anyhow!("{}: [replay]: {e:#}", path.display()))?,
            )
        } else {
            None
        };
        let map = match (file.report, file.map) {
            (ReportKind::Map, None) => bail!(
                "{}: report = \"map\" needs a [map] table (loads, sub_card_shares, baseline)",
                path.display()
            ),
            (ReportKind::Map, Some(m)) => {
                let synth_only = workloads.len() == 1
                    && matches!(workloads[0].trace, TraceSource::Synth { .. })
                    && workloads[0].fleet.is_some();
                if !synth_only {
                    bail!(
                        "{}: a map has exactly one [[workloads]], a `synth` one with a `fleet` \
                         (its cells vary that generator's mix and load)",
                        path.display()
                    );
                }
                if kind != Kind::Replay {
                    bail!(
                        "{}: report = \"map\" needs protocol = \"replay\"",
                        path.display()
                    );
                }
                if m.loads.is_empty() || m.sub_card_shares.is_empty() {
                    bail!(
                        "{}: [map] loads and sub_card_shares name no value",
                        path.display()
                    );
                }
                let baseline = crate::registry::build(&m.baseline)
                    .map_err(|e| anyhow!("{}: map.baseline: {e:#}", path.display()))?
                    .request
                    .canonical();
                if !policies.contains(&baseline) {
                    bail!(
                        "{}: map.baseline {baseline} is not among the policies ({})",
                        path.display(),
                        policies.join(", ")
                    );
                }
                Some(MapAxes {
                    loads: m.loads,
                    sub_card_shares: m.sub_card_shares,
                    baseline,
                })
            }
            (_, Some(_)) => bail!(
                "{}: a [map] table, but report is not \"map\"; set report = \"map\" or drop \
                 the table",
                path.display()
            ),
            (_, None) => None,
        };
        if file.report != ReportKind::Sweep && file.slicing.is_some() {
            bail!(
                "{}: report = \"{}\" runs each policy in its own slicing mode; drop `slicing`",
                path.display(),
                file.report.name()
            );
        }
        Ok(Experiment {
            text: text.to_owned(),
            out: file
                .out
                .unwrap_or_else(|| PathBuf::from("results").join(&name)),
            name,
            description: file.description,
            kind,
            report: file.report,
            workloads,
            policies,
            seeds,
            tune,
            slicing: file.slicing,
            replay,
            map,
        })
    }

    /// Runs in the whole grid.
    pub fn runs(&self) -> u64 {
        (self.workloads.len() as u64)
            .saturating_mul(self.policies.len() as u64)
            .saturating_mul(self.seeds.len() as u64)
    }

    /// Reads the traces and fleets (drawing the synthetic traces, one per seed) and checks
    /// that every trace's device models are known to its fleet.
    pub fn cases(&self, yes: bool) -> Result<Vec<Case>> {
        let mut fleets: Vec<(Option<PathBuf>, Arc<flexsim_sim::model::fleet::Fleet>)> = Vec::new();
        let slicing = crate::run::slicing_choice(self.slicing.as_deref())?;
        let mut cases = Vec::new();
        for w in &self.workloads {
            let fleet = match fleets.iter().find(|(p, _)| *p == w.fleet) {
                Some((_, f)) => Arc::clone(f),
                None => {
                    let f = Arc::new(crate::inputs::fleet_or_shipped(w.fleet.as_deref(), yes)?);
                    crate::run::chosen_fleet(&f, slicing.as_ref())?;
                    fleets.push((w.fleet.clone(), Arc::clone(&f)));
                    f
                }
            };
            let traces = match &w.trace {
                TraceSource::Default => vec![(None, crate::inputs::trace(None)?)],
                TraceSource::File(p) => vec![(None, crate::inputs::trace(Some(p))?)],
                TraceSource::Synth {
                    preset,
                    jobs,
                    interarrival_s,
                    set,
                } => self
                    .seeds
                    .iter()
                    .map(|&s| {
                        let gap = interarrival_s.context("a synthetic trace without arrivals")?;
                        let mut t = crate::claim::synthetic(preset, *jobs, gap, set, s)?;
                        t.name.clone_from(&w.name);
                        Ok((Some(s), t))
                    })
                    .collect::<Result<_>>()?,
            };
            for (_, t) in &traces {
                crate::inputs::check_models(t, &fleet)?;
            }
            let mut case = Case {
                name: w.name.clone(),
                traces,
                fleet,
            };
            // A trace file's runs go by the workload's name (its file stem unless renamed).
            for (_, t) in &mut case.traces {
                t.name.clone_from(&w.name);
            }
            cases.push(case);
        }
        Ok(cases)
    }
}

/// How `flexsim sweep FILE` was asked to run.
pub struct FileRun<'a> {
    pub file: &'a Path,
    /// `--out` when given on the command line (else the file's `out`, or results/<name>).
    pub out: Option<PathBuf>,
    pub force: bool,
    pub threads: Option<usize>,
    pub quiet: bool,
    pub yes: bool,
    pub shard: Option<&'a str>,
}

/// The flags of `flexsim sweep` that an experiment file sets; given with a file they would be
/// ignored or fight it, so they are refused.
const GRID_FLAGS: &[&str] = &[
    "trace",
    "fleet",
    "policy",
    "seeds",
    "tune",
    "protocol",
    "slicing",
    "restart_cost_s",
    "slo_slowdown",
    "cross_node_factor",
    "demand",
    "strict",
    "idle_off_min",
];

/// Refuses grid flags given beside an experiment file, and `--shard` without one.
pub fn check_flags(args: Option<&clap::ArgMatches>, file: Option<&Path>) -> Result<()> {
    let Some(args) = args else { return Ok(()) };
    let given = |id: &str| args.value_source(id) == Some(clap::parser::ValueSource::CommandLine);
    match file {
        Some(file) => {
            let flags: Vec<String> = GRID_FLAGS
                .iter()
                .filter(|id| given(id))
                .map(|id| format!("--{}", id.replace('_', "-")))
                .collect();
            if !flags.is_empty() {
                bail!(
                    "{} set{} what the experiment file {} sets; edit the file, or drop {}",
                    flags.join(", "),
                    if flags.len() == 1 { "s" } else { "" },
                    file.display(),
                    if flags.len() == 1 { "it" } else { "them" }
                );
            }
        }
        None if given("shard") => bail!(
            "--shard needs an experiment file (flexsim sweep experiments/X.toml --shard i/n): \
             the shards of a grid must agree on the grid, which the file fixes"
        ),
        None => {}
    }
    Ok(())
}

/// `flexsim sweep FILE [--shard i/n]`.
pub fn sweep_file(run: &FileRun<'_>) -> Result<()> {
    let exp = Experiment::load(run.file)?;
    let out = run.out.clone().unwrap_or_else(|| exp.out.clone());
    let shard = run.shard.map(Shard::parse).transpose()?;
    let threads = crate::cli::cap_threads(run.threads)?;
    let runs = exp.runs();
    if runs > sweep::GRID_LIMIT && !run.yes {
        bail!(
            "{}: the grid has {runs} runs, beyond the limit of {} runs; pass --yes to run it \
             anyway, or split it with --shard",
            run.file.display(),
            sweep::GRID_LIMIT
        );
    }
    if exp.report == ReportKind::Map {
        if shard.is_some() {
            bail!(
                "{}: report = \"map\" cannot be sharded yet (a cell's gain needs every policy's \
                 run of it); run it in one process",
                run.file.display()
            );
        }
        let table = map(&exp, &out, run.force, threads, !run.quiet)?;
        out!("{table}");
        outln!(
            "wrote {}/map.csv, gain.csv, report.md and heatmaps",
            out.display()
        );
        return Ok(());
    }
    if exp.report == ReportKind::Claim {
        if shard.is_some() {
            bail!(
                "{}: report = \"claim\" cannot be sharded yet (its plots need every run's time \
                 series); run it in one process",
                run.file.display()
            );
        }
        let table = claim(&exp, &out, run.force, threads, !run.quiet, true)?;
        out!("{table}");
        outln!(
            "wrote {}/summary.csv, table.md, report.md and plots",
            out.display()
        );
        return Ok(());
    }
    let cases = exp.cases(run.yes)?;
    let staged = report::Staged::new(&out, run.force)?;
    let spec = SweepSpec {
        cases: &cases,
        policies: &exp.policies,
        seeds: &exp.seeds,
        tune_ratio: exp.tune,
        slicing: crate::run::slicing_choice(exp.slicing.as_deref())?,
        replay: exp.replay.clone(),
        threads,
        progress: !run.quiet,
        shard,
    };
    record_experiment(staged.path(), &exp)?;
    if let Some(shard) = shard {
        let (kind, records) = sweep::run(&spec, staged.path())?;
        sweep::write_csv(&staged.path().join("sweep.csv"), kind, &records)?;
        crate::merge::write_shard_file(staged.path(), &exp, shard, kind, &records)?;
        staged.commit()?;
        sweep::print_notes(&records);
        outln!(
            "shard {shard}: {} of the {runs} runs of {}; wrote {} (join the shards with \
             flexsim merge)",
            records.len(),
            exp.name,
            out.display()
        );
        return Ok(());
    }
    let (kind, records) = sweep::run(&spec, staged.path())?;
    finish(staged.path(), &exp, kind, &records)?;
    staged.commit()?;
    sweep::print_notes(&records);
    out!("{}", sweep::means(kind, &records));
    outln!("wrote {}/sweep.csv, report.md and plots", out.display());
    Ok(())
}

/// Writes what a whole grid's records give (`sweep.csv`, the plot, `report.md`) into `dir`:
/// the same bytes from one process and from a merge of shards.
pub fn finish(dir: &Path, exp: &Experiment, kind: Kind, records: &[RunRecord]) -> Result<()> {
    sweep::write_outputs(dir, kind, records, exp.workloads.len() > 1)?;
    let path = dir.join("report.md");
    std::fs::write(&path, report_md(exp, kind, records))
        .with_context(|| format!("writing {}", path.display()))
}

/// Records the experiment file (verbatim) and the flexsim version that ran it.
pub fn record_experiment(dir: &Path, exp: &Experiment) -> Result<()> {
    let copy = dir.join("experiment.toml");
    std::fs::write(&copy, &exp.text).with_context(|| format!("writing {}", copy.display()))?;
    let version = dir.join("version.txt");
    std::fs::write(&version, format!("flexsim {}\n", env!("CARGO_PKG_VERSION")))
        .with_context(|| format!("writing {}", version.display()))
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `report.md`: what ran, the means table and the plot — readable on its own, with links
/// only to files in the same folder. Nothing in it depends on timing or on sharding.
pub fn report_md(exp: &Experiment, kind: Kind, records: &[RunRecord]) -> String {
    let mut t = format!("# {}\n\n", exp.name);
    if let Some(d) = &exp.description {
        let _ = writeln!(t, "{}\n", d.trim());
    }
    let seeds: Vec<String> = exp.seeds.iter().map(u64::to_string).collect();
    let _ = writeln!(
        t,
        "flexsim {}, protocol {}: {} × {} × {} = {} runs (seeds {}). The experiment file is \
         [experiment.toml](experiment.toml); every run's figures are in [sweep.csv](sweep.csv), \
         its files under `<workload>/<policy>/s<seed>/`.\n",
        env!("CARGO_PKG_VERSION"),
        match kind {
            Kind::Inflation => format!("inflation (tune {})", exp.tune),
            Kind::Replay => "replay".to_owned(),
        },
        plural(exp.workloads.len(), "workload", "workloads"),
        plural(exp.policies.len(), "policy", "policies"),
        plural(exp.seeds.len(), "seed", "seeds"),
        records.len(),
        seeds.join(", ")
    );
    let _ = writeln!(t, "## Means over seeds (± sample std)\n");
    let columns = kind.columns_for(records);
    let columns = columns.as_slice();
    let _ = write!(t, "| workload | policy | runs |");
    for c in columns {
        let _ = write!(t, " {c} |");
    }
    let _ = write!(t, "\n|---|---|---|");
    for _ in columns {
        let _ = write!(t, "---|");
    }
    t.push('\n');
    for (trace, policy, runs, cells) in sweep::means_rows(records, columns.len()) {
        let _ = write!(t, "| {trace} | {policy} | {runs} |");
        for c in cells {
            let _ = write!(t, " {} |", c.unwrap_or_else(|| "-".into()));
        }
        t.push('\n');
    }
    let plot = kind.plot_file();
    let _ = writeln!(t, "\n## Plot\n\n[![{plot}]({plot})]({plot})");
    t
}

/// Runs a `report = "claim"` experiment into `out`: the claim check's files, and with
/// `record` the experiment copy, version and `report.md`.
fn claim(
    exp: &Experiment,
    out: &Path,
    force: bool,
    threads: Option<usize>,
    progress: bool,
    record: bool,
) -> Result<String> {
    let cases = exp.cases(false)?;
    let staged = report::Staged::new(out, force)?;
    let spec = crate::claim::ClaimSpec {
        cases: &cases,
        policies: &exp.policies,
        seeds: exp.seeds.clone(),
        config: exp.replay.clone().unwrap_or_default(),
        threads,
        progress,
    };
    let table = crate::claim::run(&spec, staged.path())?;
    if record {
        record_experiment(staged.path(), exp)?;
        let mut md = table.clone();
        md.push_str("## Plots\n\n");
        for c in &cases {
            for what in [
                "busy_over_time",
                "alloc_over_time",
                "busy_util",
                "wait_p50",
                "jct_p99",
            ] {
                let f = format!("{}_{what}.svg", c.name);
                let _ = writeln!(md, "* [{f}]({f})");
            }
        }
        let _ = writeln!(
            md,
            "\nflexsim {}; experiment file [experiment.toml](experiment.toml), every run in \
             [summary.csv](summary.csv).",
            env!("CARGO_PKG_VERSION")
        );
        std::fs::write(staged.path().join("report.md"), md)
            .with_context(|| format!("writing {}/report.md", out.display()))?;
    }
    staged.commit()?;
    Ok(table)
}

/// Runs a `report = "map"` experiment into `out` (module doc of src/map.rs); the gain table.
fn map(
    exp: &Experiment,
    out: &Path,
    force: bool,
    threads: Option<usize>,
    progress: bool,
) -> Result<String> {
    let axes = exp.map.as_ref().context("a map experiment without [map]")?;
    let w = &exp.workloads[0];
    let TraceSource::Synth {
        preset, jobs, set, ..
    } = &w.trace
    else {
        bail!("a map's workload is synthetic (checked when the file was read)");
    };
    let mut base =
        flexsim_sim::input::synth::SynthParams::preset(preset).map_err(anyhow::Error::msg)?;
    base.apply_override("jobs", &jobs.to_string())
        .map_err(anyhow::Error::msg)?;
    for a in set {
        base.apply_assignment(a).map_err(anyhow::Error::msg)?;
    }
    let fleet = crate::inputs::fleet_or_shipped(w.fleet.as_deref(), false)?;
    let staged = report::Staged::new(out, force)?;
    let spec = crate::map::MapSpec {
        fleet,
        base,
        loads: axes.loads.clone(),
        sub_card_shares: axes.sub_card_shares.clone(),
        seeds: exp.seeds.clone(),
        policies: exp.policies.clone(),
        baseline: axes.baseline.clone(),
        config: exp.replay.clone().unwrap_or_default(),
        threads,
        progress,
    };
    let table = crate::map::run(&spec, staged.path())?;
    record_experiment(staged.path(), exp)?;
    let md = crate::map::report_md(&spec, &exp.name, exp.description.as_deref(), &table);
    std::fs::write(staged.path().join("report.md"), md)
        .with_context(|| format!("writing {}/report.md", out.display()))?;
    staged.commit()?;
    Ok(table)
}

/// `flexsim claim-check`: the compiled-in `experiments/flexai-claim.toml`, with the flags'
/// seeds and synthetic workload size. Writes exactly the files it always wrote (no experiment
/// copy: `results/flexai-claim/` stays as published); `flexsim sweep
/// experiments/flexai-claim.toml` writes the same files plus the copy, version and report.md.
pub struct ClaimCheck {
    pub out: PathBuf,
    pub seeds: String,
    pub synth_jobs: u64,
    /// Mean seconds between arrivals of the first synthetic workload; the others keep their
    /// ratio to it (openb-mix: twice).
    pub synth_interarrival_s: f64,
    pub force: bool,
    pub threads: Option<usize>,
    pub quiet: bool,
}

pub fn claim_check(c: &ClaimCheck) -> Result<()> {
    let mut exp = Experiment::parse(Path::new(CLAIM_EXPERIMENT_PATH), CLAIM_EXPERIMENT)?;
    exp.seeds = crate::seeds::parse(&c.seeds).map_err(anyhow::Error::msg)?;
    let threads = crate::cli::cap_threads(c.threads)?;
    if !(c.synth_interarrival_s.is_finite() && c.synth_interarrival_s > 0.0) {
        bail!("invalid --synth-interarrival-s: expected seconds > 0");
    }
    let base = exp.workloads.iter().find_map(|w| match w.trace {
        TraceSource::Synth { interarrival_s, .. } => interarrival_s,
        _ => None,
    });
    for w in &mut exp.workloads {
        if let TraceSource::Synth {
            jobs,
            interarrival_s,
            ..
        } = &mut w.trace
        {
            *jobs = c.synth_jobs;
            if let (Some(base), Some(gap)) = (base, interarrival_s.as_mut()) {
                // Exact for the shipped ratios: 8 / 4 * x = 2x.
                *gap = *gap / base * c.synth_interarrival_s;
            }
        }
    }
    let table = claim(&exp, &c.out, c.force, threads, !c.quiet, false)?;
    out!("{table}");
    outln!("wrote {}/summary.csv, table.md and plots", c.out.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Experiment> {
        Experiment::parse(Path::new("experiments/x.toml"), text)
    }

    #[test]
    fn unknown_key_names_file_line_and_the_known_keys() {
        let e = parse("policies = [\"fgd\"]\nseeds = \"1..2\"\npolicy = \"x\"\n")
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.starts_with("experiments/x.toml:3:1: unknown key `policy`"),
            "{e}"
        );
        assert!(e.contains("`policies`") && e.contains("`seeds`"), "{e}");
        let e =
            parse("policies = [\"fgd\"]\nseeds = \"1\"\n[replay]\ndemand = \"genai\"\nslo = 2\n")
                .err()
                .unwrap()
                .to_string();
        assert!(
            e.starts_with("experiments/x.toml:5:1: unknown key `slo`"),
            "{e}"
        );
        assert!(e.contains("slo_slowdown"), "{e}");
    }

    #[test]
    fn bad_values_name_where_they_are() {
        let e = parse("policies = [\"fgd\", \"nope\"]\nseeds = \"1\"\n")
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.starts_with("experiments/x.toml:1:20: policies: unknown policy \"nope\""),
            "{e}"
        );
        let e = parse("policies = [\"fgd\"]\nseeds = \"5..1\"\n")
            .err()
            .unwrap()
            .to_string();
        assert!(e.starts_with("experiments/x.toml:2:9: seeds"), "{e}");
        let e = parse("policies = [\"fgd\"]\nseeds = \"1\"\n[replay]\n")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("protocol = \"replay\""), "{e}");
    }

    #[test]
    fn defaults_are_the_cli_defaults() {
        let e = parse("policies = [\"fgd\"]\nseeds = [42, 43]\n").unwrap();
        assert_eq!(e.name, "x");
        assert_eq!(e.out, Path::new("results/x"));
        assert_eq!(e.kind, Kind::Inflation);
        assert_eq!(e.tune, 1.3);
        assert_eq!(e.seeds, [42, 43]);
        assert_eq!(e.workloads.len(), 1);
        assert_eq!(e.workloads[0].trace, TraceSource::Default);
        assert_eq!(e.workloads[0].name, "openb_pod_list_default");
        let r = parse("protocol = \"replay\"\npolicies = [\"fgd\"]\nseeds = \"1\"\n").unwrap();
        let (got, want) = (
            r.replay.unwrap(),
            flexsim_sim::engine::replay::ReplayConfig {
                seed: 0,
                ..Default::default()
            },
        );
        assert_eq!(format!("{got:?}"), format!("{want:?}"));
    }

    #[test]
    fn shipped_experiments_parse() {
        for f in ["fgd-repro", "hi-snapshot", "flexai-claim"] {
            let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("experiments")
                .join(format!("{f}.toml"));
            let e = Experiment::load(&path).unwrap_or_else(|e| panic!("{f}: {e:#}"));
            assert_eq!(e.name, f);
            assert_eq!(e.out, Path::new("results").join(f));
        }
    }
}
