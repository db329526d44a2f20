//! `flexsim merge DIR... --out D`: joins the outputs of `flexsim sweep FILE --shard i/n`
//! (one per shard) into what one process running the whole grid writes — the same
//! `sweep.csv` (rows in grid order), plot and `report.md`, byte for byte, and every run's
//! folder.
//!
//! Each shard writes `shard.json`: which shard of how many, the size of the grid, and per run
//! everything the joined outputs read ([`RunRecord`], floats as their bits). The merge refuses
//! shards of different experiment files (their `experiment.toml` copies must be the same
//! bytes), a shard given twice, a missing shard, or a grid whose runs do not add up.

use crate::experiment::{self, Experiment};
use crate::shard::Shard;
use crate::sweep::{self, Kind, RunRecord};
use anyhow::{bail, Context, Result};
use flexsim_sim::output::report;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The file a shard writes beside its runs.
pub const SHARD_FILE: &str = "shard.json";

#[derive(Serialize, Deserialize)]
struct ShardFile {
    experiment: String,
    shard: u64,
    of: u64,
    grid_runs: u64,
    kind: Kind,
    runs: Vec<RunRecord>,
}

/// Writes `dir/shard.json` for shard `shard` of `exp`'s grid.
pub fn write_shard_file(
    dir: &Path,
    exp: &Experiment,
    shard: Shard,
    kind: Kind,
    records: &[RunRecord],
) -> Result<()> {
    let f = ShardFile {
        experiment: exp.name.clone(),
        shard: shard.index,
        of: shard.count,
        grid_runs: exp.runs(),
        kind,
        runs: records.to_vec(),
    };
    let path = dir.join(SHARD_FILE);
    let json = serde_json::to_string(&f).context("encoding the shard's runs")?;
    std::fs::write(&path, json + "\n").with_context(|| format!("writing {}", path.display()))
}

/// Copies the directory tree `from` to `to` (which must not exist yet).
fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    let mut entries: Vec<_> = std::fs::read_dir(from)
        .with_context(|| format!("reading {}", from.display()))?
        .collect::<std::io::Result<_>>()
        .with_context(|| format!("reading {}", from.display()))?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for e in entries {
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if e.file_type()?.is_dir() {
            copy_tree(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst)
                .with_context(|| format!("copying {} to {}", src.display(), dst.display()))?;
        }
    }
    Ok(())
}

/// `flexsim merge`.
pub fn merge(dirs: &[PathBuf], out: &Path, force: bool) -> Result<()> {
    let mut shards: Vec<(PathBuf, ShardFile)> = Vec::new();
    let mut text: Option<(PathBuf, String)> = None;
    for d in dirs {
        let path = d.join(SHARD_FILE);
        let json = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "reading {} (is {} the output of `flexsim sweep FILE --shard i/n`?)",
                path.display(),
                d.display()
            )
        })?;
        let f: ShardFile = serde_json::from_str(&json)
            .with_context(|| format!("{}: not a flexsim shard file", path.display()))?;
        let copy = d.join("experiment.toml");
        let t = std::fs::read_to_string(&copy)
            .with_context(|| format!("reading {}", copy.display()))?;
        match &text {
            Some((first, t0)) if *t0 != t => bail!(
                "{} and {} ran different experiment files (their experiment.toml differ); \
                 merge only the shards of one experiment",
                first.display(),
                d.display()
            ),
            Some(_) => {}
            None => text = Some((d.clone(), t)),
        }
        shards.push((d.clone(), f));
    }
    let Some((first, text)) = text else {
        bail!("merge: name the shard directories to join");
    };
    let exp = Experiment::parse(&first.join("experiment.toml"), &text)?;
    let of = shards[0].1.of;
    let mut seen: Vec<Option<&Path>> = vec![None; of as usize];
    for (d, f) in &shards {
        if f.of != of || f.kind != exp.kind || f.grid_runs != exp.runs() {
            bail!(
                "{} is shard {}/{} of a {}-run grid, {} shard {}/{} of a {}-run grid; merge the \
                 shards of one split",
                d.display(),
                f.shard,
                f.of,
                f.grid_runs,
                shards[0].0.display(),
                shards[0].1.shard,
                of,
                shards[0].1.grid_runs
            );
        }
        match seen.get_mut(f.shard as usize) {
            Some(Some(other)) => bail!(
                "{} and {} are both shard {}/{of}",
                other.display(),
                d.display(),
                f.shard
            ),
            Some(slot) => *slot = Some(d),
            None => bail!("{}: shard {}/{of} is out of range", d.display(), f.shard),
        }
    }
    let missing: Vec<String> = seen
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_none())
        .map(|(i, _)| format!("{i}/{of}"))
        .collect();
    if !missing.is_empty() {
        bail!(
            "shard{} {} missing: run `flexsim sweep FILE --shard i/n` for {} and pass {} too",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", "),
            if missing.len() == 1 { "it" } else { "them" },
            if missing.len() == 1 {
                "its folder"
            } else {
                "their folders"
            }
        );
    }
    let kind = shards[0].1.kind;
    let mut records: Vec<(&Path, &RunRecord)> = shards
        .iter()
        .flat_map(|(d, f)| f.runs.iter().map(move |r| (d.as_path(), r)))
        .collect();
    records.sort_by_key(|(_, r)| r.index);
    let complete = records.len() as u64 == exp.runs()
        && records
            .iter()
            .enumerate()
            .all(|(i, (_, r))| r.index == i as u64);
    if !complete {
        bail!(
            "the shards hold {} runs, the grid of {} has {}: a shard was cut short or run \
             with another build",
            records.len(),
            exp.name,
            exp.runs()
        );
    }
    let staged = report::Staged::new(out, force)?;
    for (d, r) in &records {
        let rel = Path::new(&r.trace)
            .join(&r.policy)
            .join(format!("s{}", r.seed));
        copy_tree(&d.join(&rel), &staged.path().join(&rel))?;
    }
    let records: Vec<RunRecord> = records.into_iter().map(|(_, r)| r.clone()).collect();
    experiment::record_experiment(staged.path(), &exp)?;
    experiment::finish(staged.path(), &exp, kind, &records)?;
    staged.commit()?;
    sweep::print_notes(&records);
    out!("{}", sweep::means(kind, &records));
    outln!(
        "merged {} shards ({} runs) of {} into {}",
        shards.len(),
        records.len(),
        exp.name,
        out.display()
    );
    Ok(())
}
