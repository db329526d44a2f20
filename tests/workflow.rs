//! The research workflow through the `flexsim` binary: experiment files, sharded sweeps joined
//! by `flexsim merge` (byte for byte what one process writes), and the per-experiment report.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn flexsim(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flexsim"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the binary runs")
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    assert!(!o.status.success(), "expected a failure");
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn repo(path: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(path)
        .display()
        .to_string()
}

/// Every file under `dir`, relative, sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    fn walk(base: &Path, d: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().to_owned());
            }
        }
    }
    let mut v = Vec::new();
    walk(dir, dir, &mut v);
    v.sort();
    v
}

/// `a` and `b` hold the same files with the same bytes, but for the lines of `summary.json`
/// that differ between any two runs (wall time).
fn assert_same_tree(a: &Path, b: &Path) {
    let (fa, fb) = (files(a), files(b));
    assert_eq!(
        fa,
        fb,
        "{} and {} hold different files",
        a.display(),
        b.display()
    );
    let volatile = |t: String| -> String {
        t.lines()
            .filter(|l| !l.contains("\"wall_ms\"") && !l.contains("\"events_per_s\""))
            .collect::<Vec<_>>()
            .join("\n")
    };
    for f in &fa {
        let (x, y) = (
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
        );
        if f.file_name().unwrap() == "summary.json" {
            let (x, y) = (String::from_utf8(x).unwrap(), String::from_utf8(y).unwrap());
            assert_eq!(volatile(x), volatile(y), "{} differs", f.display());
        } else {
            assert!(x == y, "{} differs", f.display());
        }
    }
}

mod experiment_files {
    use super::*;

    #[test]
    fn unknown_key_is_refused_with_file_line_and_the_known_keys() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(
            d.path().join("x.toml"),
            "policies = [\"fgd\"]\nseeds = \"42\"\n\n[inflation]\ntune = 1.3\nratio = 2\n",
        )
        .unwrap();
        let e = err(&flexsim(&["sweep", "x.toml"], d.path()));
        assert!(e.contains("x.toml:6:1: unknown key `ratio`"), "{e}");
        assert!(e.contains("`tune`"), "{e}");
        assert!(!d.path().join("results").exists());
    }

    #[test]
    fn grid_flags_beside_a_file_are_refused() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(
            d.path().join("x.toml"),
            "policies = [\"fgd\"]\nseeds = \"42\"\n",
        )
        .unwrap();
        let e = err(&flexsim(
            &["sweep", "x.toml", "--policy", "random"],
            d.path(),
        ));
        assert!(
            e.contains("--policy sets what the experiment file x.toml sets"),
            "{e}"
        );
        let e = err(&flexsim(&["sweep", "--shard", "0/2"], d.path()));
        assert!(e.contains("--shard needs an experiment file"), "{e}");
    }

    #[test]
    fn results_go_to_results_name_with_the_file_version_and_report_and_are_not_overwritten() {
        let d = tempfile::tempdir().unwrap();
        let text = "name = \"tiny\"\npolicies = [\"best-fit\", \"fgd\"]\nseeds = [1, 2]\n";
        std::fs::write(d.path().join("x.toml"), text).unwrap();
        // Piped stderr: no progress bar drawn, though --quiet is not given.
        let o = flexsim(&["sweep", "x.toml"], d.path());
        let out = ok(&o);
        assert!(out.contains("best-fit") && out.contains("fgd"), "{out}");
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(
            !stderr.contains("runs,") && !stderr.contains("eta"),
            "{stderr}"
        );
        let r = d.path().join("results/tiny");
        assert_eq!(
            std::fs::read_to_string(r.join("experiment.toml")).unwrap(),
            text
        );
        assert_eq!(
            std::fs::read_to_string(r.join("version.txt")).unwrap(),
            format!("flexsim {}\n", env!("CARGO_PKG_VERSION"))
        );
        let csv = std::fs::read_to_string(r.join("sweep.csv")).unwrap();
        assert_eq!(csv.lines().count(), 1 + 4);
        let md = std::fs::read_to_string(r.join("report.md")).unwrap();
        assert!(md.starts_with("# tiny\n"), "{md}");
        assert!(
            md.contains("[![alloc_vs_arrived.svg](alloc_vs_arrived.svg)]"),
            "{md}"
        );
        assert!(md.contains("| openb_pod_list_default | fgd | 2 |"), "{md}");
        assert!(r
            .join("openb_pod_list_default/fgd/s2/summary.json")
            .exists());
        let e = err(&flexsim(&["sweep", "x.toml"], d.path()));
        assert!(e.contains("--force"), "{e}");
        ok(&flexsim(
            &["sweep", "x.toml", "--force", "--quiet"],
            d.path(),
        ));
    }

    #[test]
    fn the_fgd_experiment_file_is_the_flag_sweep() {
        // The shipped file's grid, cut to one seed: the same sweep.csv and plot as the flags.
        let d = tempfile::tempdir().unwrap();
        let text = std::fs::read_to_string(repo("experiments/fgd-repro.toml"))
            .unwrap()
            .replace("seeds = \"42..51\"", "seeds = \"42\"")
            .replace("\"traces/", &format!("\"{}/", repo("traces")));
        std::fs::write(d.path().join("fgd.toml"), text).unwrap();
        ok(&flexsim(
            &["sweep", "fgd.toml", "--out", "file", "--quiet"],
            d.path(),
        ));
        let o = "traces/openb/openb_pod_list";
        let traces: Vec<String> = ["default", "gpushare40", "gpuspec33", "multigpu50"]
            .iter()
            .map(|t| repo(&format!("{o}_{t}.csv")))
            .collect();
        ok(&flexsim(
            &[
                "sweep",
                "--trace",
                &traces.join(","),
                "--seeds",
                "42",
                "--out",
                "flags",
                "--quiet",
            ],
            d.path(),
        ));
        for f in ["sweep.csv", "alloc_vs_arrived.svg"] {
            assert!(
                std::fs::read(d.path().join("file").join(f)).unwrap()
                    == std::fs::read(d.path().join("flags").join(f)).unwrap(),
                "{f} differs"
            );
        }
    }
}

mod shards {
    use super::*;

    /// Runs `text` in one process and as shards 0/3, 1/3, 2/3 joined by `flexsim merge`, and
    /// checks the two results are the same files, byte for byte.
    fn one_process_equals_three_shards(text: &str) {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("x.toml"), text).unwrap();
        ok(&flexsim(
            &["sweep", "x.toml", "--out", "one", "--quiet"],
            d.path(),
        ));
        let mut counts = Vec::new();
        for i in 0..3 {
            let out = ok(&flexsim(
                &[
                    "sweep",
                    "x.toml",
                    "--shard",
                    &format!("{i}/3"),
                    "--out",
                    &format!("p{i}"),
                ],
                d.path(),
            ));
            counts.push(out);
        }
        // The merge joins the shards in any order given.
        ok(&flexsim(
            &["merge", "p2", "p0", "p1", "--out", "merged"],
            d.path(),
        ));
        assert_same_tree(&d.path().join("one"), &d.path().join("merged"));
        // Each run was in exactly one shard.
        let runs: usize = (0..3)
            .map(|i| {
                let csv =
                    std::fs::read_to_string(d.path().join(format!("p{i}/sweep.csv"))).unwrap();
                csv.lines().count() - 1
            })
            .sum();
        let one = std::fs::read_to_string(d.path().join("one/sweep.csv")).unwrap();
        assert_eq!(runs, one.lines().count() - 1, "{counts:?}");
    }

    #[test]
    fn inflation_shards_merge_to_the_one_process_sweep() {
        one_process_equals_three_shards(&format!(
            "name = \"t\"\ntraces = [\"{}\", \"{}\"]\npolicies = [\"best-fit\", \"fgd\", \
             \"random\"]\nseeds = \"1..3\"\n",
            repo("traces/openb/openb_pod_list_default.csv"),
            repo("traces/openb/openb_pod_list_gpushare40.csv")
        ));
    }

    #[test]
    fn replay_shards_merge_to_the_one_process_sweep() {
        one_process_equals_three_shards(&format!(
            "name = \"r\"\nprotocol = \"replay\"\npolicies = [\"k8s-default\", \"hi\"]\n\
             seeds = \"1..3\"\n[[workloads]]\nname = \"smh\"\nsynth = {{ preset = \
             \"small-model-heavy\", jobs = 300, interarrival_s = 4.0 }}\nfleet = \"{}\"\n",
            repo("traces/fleets/flexai-claim.toml")
        ));
    }

    #[test]
    fn merge_refuses_a_missing_a_repeated_or_a_foreign_shard() {
        let d = tempfile::tempdir().unwrap();
        let text = "policies = [\"fgd\", \"random\"]\nseeds = \"1..2\"\n";
        std::fs::write(d.path().join("x.toml"), text).unwrap();
        std::fs::write(d.path().join("y.toml"), text.replace("1..2", "1..3")).unwrap();
        for (f, i, out) in [("x", 0, "a0"), ("x", 1, "a1"), ("y", 1, "b1")] {
            ok(&flexsim(
                &[
                    "sweep",
                    &format!("{f}.toml"),
                    "--shard",
                    &format!("{i}/2"),
                    "--out",
                    out,
                ],
                d.path(),
            ));
        }
        let e = err(&flexsim(&["merge", "a0", "--out", "m"], d.path()));
        assert!(e.contains("shard 1/2 missing"), "{e}");
        let e = err(&flexsim(&["merge", "a0", "a0", "--out", "m"], d.path()));
        assert!(e.contains("are both shard 0/2"), "{e}");
        let e = err(&flexsim(&["merge", "a0", "b1", "--out", "m"], d.path()));
        assert!(e.contains("different experiment files"), "{e}");
        let e = err(&flexsim(&["merge", "x.toml", "--out", "m"], d.path()));
        assert!(e.contains("shard.json"), "{e}");
        assert!(!d.path().join("m").exists());
    }
}
