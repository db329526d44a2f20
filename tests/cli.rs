//! Whole runs through the `flexsim` binary: outputs, determinism, and bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn flexsim(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flexsim"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the binary runs")
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temp dir")
}

fn repo(path: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(path)
        .display()
        .to_string()
}

/// The `summary.json` of run directory `dir`.
fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn default_run_works_from_any_directory_and_writes_both_files() {
    let d = tmp();
    let o = flexsim(&["run"], d.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let out = d.path().join("out/openb_pod_list_default-fgd-s42");
    let summary = summary(&out);
    for key in [
        "protocol",
        "trace",
        "fleet",
        "policy",
        "seed",
        "tune",
        "pods_arrived",
        "pods_failed",
        "alloc_pct_at_100",
        "alloc_pct_at_130",
        "frag_ratio_pct_at_100",
        "wall_ms",
        "flexsim_version",
    ] {
        assert!(summary.get(key).is_some(), "summary.json lacks {key}");
    }
    assert_eq!(summary["trace"], "openb_pod_list_default");
    assert_eq!(summary["policy"], "fgd");
    let curve = std::fs::read_to_string(out.join("curve.csv")).unwrap();
    let mut lines = curve.lines();
    assert_eq!(
        lines.next(),
        Some("arrived_pct,alloc_pct,frag_pct,frag_ratio_pct")
    );
    let xs: Vec<u32> = lines
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(xs.last(), Some(&130));
    assert!(xs.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn same_run_twice_gives_identical_curve() {
    let d = tmp();
    for out in ["a", "b"] {
        let o = flexsim(
            &["run", "--policy", "best-fit", "--seed", "7", "--out", out],
            d.path(),
        );
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let a = std::fs::read(d.path().join("a/curve.csv")).unwrap();
    let b = std::fs::read(d.path().join("b/curve.csv")).unwrap();
    assert_eq!(a, b);
}

#[test]
fn sweep_is_identical_with_one_and_two_threads() {
    let d = tmp();
    let mut csv = Vec::new();
    for threads in ["1", "2"] {
        let out = format!("sweep{threads}");
        let o = flexsim(
            &[
                "sweep",
                "--policy",
                "random,fgd",
                "--seeds",
                "42..43",
                "--threads",
                threads,
                "--quiet",
                "--out",
                &out,
            ],
            d.path(),
        );
        assert!(o.status.success(), "{}", stderr(&o));
        csv.push(std::fs::read_to_string(d.path().join(&out).join("sweep.csv")).unwrap());
        let svg = d.path().join(&out).join("alloc_vs_arrived.svg");
        assert!(std::fs::read_to_string(svg).unwrap().contains("<svg"));
        let run = d
            .path()
            .join(&out)
            .join("openb_pod_list_default/fgd/s43/curve.csv");
        assert!(run.exists());
    }
    assert_eq!(csv[0], csv[1]);
    assert!(csv[0]
        .starts_with("trace,policy,seed,alloc_pct_at_100,alloc_pct_at_130,frag_ratio_pct_at_100"));
    assert_eq!(csv[0].lines().count(), 1 + 4);
}

#[test]
fn malformed_trace_row_is_named_and_fails() {
    let d = tmp();
    let trace = d.path().join("bad.csv");
    std::fs::write(
        &trace,
        "name,cpu_milli,memory_mib,num_gpu,gpu_milli\np0,1000,10,1,500\np1,1000,10,1,half\n",
    )
    .unwrap();
    let o = flexsim(&["run", "--trace", trace.to_str().unwrap()], d.path());
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("bad.csv:3: column gpu_milli: expected per-GPU milli as a non-negative integer, got \"half\""),
        "{e}"
    );
    assert!(!e.contains("panicked"), "{e}");
}

#[test]
fn unknown_policy_lists_known_ones() {
    let o = flexsim(&["run", "--policy", "fdg"], tmp().path());
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("unknown policy \"fdg\"") && e.contains("best-fit, fgd"),
        "{e}"
    );
}

#[test]
fn bad_seeds_say_the_accepted_forms() {
    let o = flexsim(&["sweep", "--seeds", "51..42"], tmp().path());
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("inclusive range a..b"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn existing_results_are_not_overwritten_without_force() {
    let d = tmp();
    let args = ["run", "--policy", "best-fit", "--out", "res"];
    assert!(flexsim(&args, d.path()).status.success());
    let o = flexsim(&args, d.path());
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    let mut forced = args.to_vec();
    forced.push("--force");
    assert!(flexsim(&forced, d.path()).status.success());
}

#[test]
fn explicit_trace_and_fleet_files_name_the_run() {
    let d = tmp();
    let trace = repo("traces/openb/openb_pod_list_multigpu50.csv");
    let fleet = repo("traces/openb/openb_node_list_gpu_node.csv");
    let o = flexsim(
        &[
            "run",
            "--trace",
            &trace,
            "--fleet",
            &fleet,
            "--policy",
            "gpu-packing",
        ],
        d.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(d
        .path()
        .join("out/openb_pod_list_multigpu50-gpu-packing-s42/summary.json")
        .exists());
}

#[test]
fn policies_lists_all_six() {
    let o = flexsim(&["policies"], tmp().path());
    let text = String::from_utf8_lossy(&o.stdout);
    for name in [
        "random",
        "dot-product",
        "gpu-clustering",
        "gpu-packing",
        "best-fit",
        "fgd",
    ] {
        assert!(text.contains(name), "{text}");
    }
}

#[test]
fn calibrate_without_vendor_libraries_exits_2_naming_them() {
    for (backend, names) in [("nvml", "libnvidia-ml"), ("acl", "libascendcl")] {
        let o = Command::new(env!("CARGO_BIN_EXE_flexsim"))
            .args(["calibrate", "--backend", backend])
            .env("FLEXSIM_NVML_LIB", "/nonexistent/libnvidia-ml.so.1")
            .env("FLEXSIM_ACL_LIB", "/nonexistent/libascendcl.so")
            .env("FLEXSIM_DCMI_LIB", "/nonexistent/libdcmi.so")
            .current_dir(tmp().path())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{backend}: {}", stderr(&o));
        assert!(stderr(&o).contains(names), "{backend}: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"));
    }
}

#[test]
fn regress_fails_when_a_golden_figure_is_nudged_beyond_its_tolerance() {
    let d = tmp();
    assert!(flexsim(&["run", "--out", "run"], d.path()).status.success());
    let golden = summary(&d.path().join("run"));
    // Identical: passes.
    let same = flexsim(&["regress", "run/summary.json", "run"], d.path());
    assert_eq!(same.status.code(), Some(0), "{}", stderr(&same));
    // The golden says allocation was 0.3 points higher: the run regressed.
    let mut nudged = golden.clone();
    let v = nudged["alloc_pct_at_130"].as_f64().unwrap();
    nudged["alloc_pct_at_130"] = serde_json::json!(v + 0.3);
    std::fs::write(d.path().join("golden.json"), nudged.to_string()).unwrap();
    let o = flexsim(&["regress", "golden.json", "run"], d.path());
    assert_eq!(o.status.code(), Some(1));
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(
        table.contains("alloc_pct_at_130") && table.contains("REGRESSION"),
        "{table}"
    );
    // Within a stated tolerance it passes.
    let o = flexsim(
        &[
            "regress",
            "golden.json",
            "run",
            "--tolerance",
            "alloc_pct_at_130=0.5",
        ],
        d.path(),
    );
    assert_eq!(o.status.code(), Some(0));
    // A different run is bad input, not a regression.
    let mut other = golden;
    other["policy"] = serde_json::json!("best-fit");
    std::fs::write(d.path().join("other.json"), other.to_string()).unwrap();
    assert_eq!(
        flexsim(&["regress", "other.json", "run"], d.path())
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn regress_refuses_damaged_golden_files_and_lists_run_only_metrics() {
    let d = tmp();
    assert!(flexsim(&["run", "--out", "run"], d.path()).status.success());
    let golden = summary(&d.path().join("run"));
    let check = |name: &str, damaged: &serde_json::Value, says: &str| {
        std::fs::write(d.path().join(name), damaged.to_string()).unwrap();
        let o = flexsim(&["regress", name, "run"], d.path());
        assert_eq!(o.status.code(), Some(2), "{name}: {}", stderr(&o));
        let e = stderr(&o);
        assert!(e.contains(says), "{name}: {e}");
        assert!(!e.contains("panicked"), "{e}");
    };
    // No metrics at all.
    let mut bare = serde_json::json!({});
    for k in ["protocol", "trace", "fleet", "policy", "seed", "tune"] {
        bare[k] = golden[k].clone();
    }
    check("bare.json", &bare, "bare.json: no metrics");
    // A headline metric deleted.
    let mut missing = golden.clone();
    missing.as_object_mut().unwrap().remove("alloc_pct_at_130");
    check(
        "missing.json",
        &missing,
        "missing.json: missing metric alloc_pct_at_130: every inflation summary has it",
    );
    // Wrong types: a string, a boolean, a null where a number is always written.
    for (i, bad) in [
        serde_json::json!("95.5"),
        serde_json::json!(true),
        serde_json::json!(null),
    ]
    .into_iter()
    .enumerate()
    {
        let mut typed = golden.clone();
        typed["pods_failed"] = bad.clone();
        let name = format!("typed{i}.json");
        let got = match &bad {
            serde_json::Value::String(t) => format!("string \"{t}\""),
            serde_json::Value::Bool(b) => format!("boolean {b}"),
            _ => "null".to_owned(),
        };
        check(
            &name,
            &typed,
            &format!("{name}: metric pods_failed: expected a number, got {got}"),
        );
    }
    // The golden has a metric the run lacks.
    let mut extra = golden.clone();
    extra["gpu_hours"] = serde_json::json!(12.5);
    check(
        "extra.json",
        &extra,
        "summary.json: missing metric gpu_hours: the golden has it (value 12.5), the run does not",
    );
    // A metric only the run has (a newer flexsim's) is listed on stderr and does not fail.
    let mut newer = golden;
    newer["gpu_hours"] = serde_json::json!(3.0);
    std::fs::write(d.path().join("newer.json"), newer.to_string()).unwrap();
    let o = flexsim(&["regress", "run", "newer.json"], d.path());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("note: 1 metric only in the run, not compared")
            && stderr(&o).contains(": gpu_hours"),
        "{}",
        stderr(&o)
    );
    assert!(!String::from_utf8_lossy(&o.stdout).contains("gpu_hours"));
}

#[test]
fn replay_run_writes_its_files_and_compare_reads_them() {
    let d = tmp();
    let trace = repo("traces/openb/openb_pod_list_default.csv");
    for mode in ["whole", "fractional"] {
        let out = format!("r-{mode}");
        let o = flexsim(
            &[
                "run",
                "--protocol",
                "replay",
                "--trace",
                &trace,
                "--policy",
                "best-fit",
                "--slicing",
                mode,
                "--out",
                &out,
            ],
            d.path(),
        );
        assert!(o.status.success(), "{}", stderr(&o));
        for f in [
            "summary.json",
            "timeseries.csv",
            "jobs.csv",
            "utilization.svg",
            "jct_cdf.svg",
        ] {
            assert!(d.path().join(&out).join(f).exists(), "{mode}: {f}");
        }
        let s = summary(&d.path().join(&out));
        let total = s["jobs_total"].as_u64().unwrap();
        let accounted = [
            "jobs_finished",
            "jobs_pending",
            "jobs_running",
            "jobs_skipped",
        ]
        .iter()
        .map(|k| s[k].as_u64().unwrap())
        .sum::<u64>();
        assert_eq!(total, accounted, "{mode}: every job is accounted for");
        assert!(s["per_device_model"]["G2"]["util_busy_pct"].is_number());
    }
    let o = flexsim(&["compare", "r-whole", "r-fractional"], d.path());
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("util_busy_pct"));
}

#[test]
fn claim_check_writes_every_workload_policy_and_seed() {
    let d = tmp();
    let o = flexsim(
        &[
            "claim-check",
            "--out",
            "claim",
            "--seeds",
            "42,43",
            "--synth-jobs",
            "300",
            "--quiet",
        ],
        d.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let csv = std::fs::read_to_string(d.path().join("claim/summary.csv")).unwrap();
    assert!(
        csv.starts_with("workload,policy,seed,util_busy_pct,util_alloc_pct,wait_p50_s,jct_p99_s")
    );
    // 3 workloads × 10 policies × 2 seeds.
    assert_eq!(csv.lines().count(), 1 + 3 * 10 * 2);
    for policy in [
        "k8s-default",
        "hami",
        "mig-static",
        "fgd",
        "hi-binpack",
        "hi-priority",
        "hi-timeshare",
        "hi-remote",
        "hi-hetero",
        ",hi,",
    ] {
        assert!(csv.contains(policy), "{policy}");
    }
    // mig-static cannot run on the openb fleet (no MIG-capable model): said, not hidden.
    assert!(csv
        .lines()
        .any(|l| l.starts_with("openb,mig-static,42,") && l.contains("n/a:")));
    for f in [
        "table.md",
        "small-model-heavy_busy_util.svg",
        "openb_busy_over_time.svg",
        "openb-mix_jct_p99.svg",
        "small-model-heavy_wait_p50.svg",
        "small-model-heavy_alloc_over_time.svg",
    ] {
        assert!(d.path().join("claim").join(f).exists(), "{f}");
    }
}

#[test]
fn trace_synth_writes_a_native_trace_that_replays() {
    let d = tmp();
    let o = flexsim(
        &[
            "trace",
            "synth",
            "--jobs",
            "200",
            "--out",
            "s.csv",
            "--set",
            "interarrival_s=5",
        ],
        d.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let again = flexsim(
        &["trace", "synth", "--jobs", "200", "--out", "s.csv"],
        d.path(),
    );
    assert!(
        !again.status.success(),
        "an existing file is not overwritten"
    );
    let bad = flexsim(
        &["trace", "synth", "--out", "t.csv", "--set", "nope=1"],
        d.path(),
    );
    assert!(stderr(&bad).contains("known: jobs"), "{}", stderr(&bad));
    let fleet = repo("traces/fleets/mixed.toml");
    let o = flexsim(
        &[
            "run",
            "--protocol",
            "replay",
            "--trace",
            "s.csv",
            "--fleet",
            &fleet,
            "--policy",
            "best-fit",
            "--out",
            "r",
        ],
        d.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let s = summary(&d.path().join("r"));
    assert_eq!(s["jobs_total"], 200);
    assert_eq!(s["per_device_model"]["A100-80"]["slicing"], "mig");
}

#[test]
fn replay_sweep_is_identical_with_one_and_two_threads() {
    let d = tmp();
    let mut csv = Vec::new();
    for threads in ["1", "2"] {
        let out = format!("rs{threads}");
        let o = flexsim(
            &[
                "sweep",
                "--protocol",
                "replay",
                "--policy",
                "best-fit,hami",
                "--seeds",
                "42..43",
                "--threads",
                threads,
                "--quiet",
                "--out",
                &out,
            ],
            d.path(),
        );
        assert!(o.status.success(), "{}", stderr(&o));
        csv.push(std::fs::read_to_string(d.path().join(&out).join("sweep.csv")).unwrap());
        assert!(d.path().join(&out).join("busy_util.svg").exists());
        assert!(d
            .path()
            .join(&out)
            .join("openb_pod_list_default/hami/s43/timeseries.csv")
            .exists());
    }
    assert_eq!(csv[0], csv[1]);
    assert!(csv[0].starts_with("trace,policy,seed,util_busy_pct,util_alloc_pct"));
    assert_eq!(csv[0].lines().count(), 1 + 4);
}

#[test]
fn replay_reports_energy_classes_and_idle_off_savings() {
    let d = tmp();
    let o = flexsim(
        &[
            "run",
            "--protocol",
            "replay",
            "--idle-off-min",
            "30",
            "--out",
            "e",
        ],
        d.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    for line in ["energy ", "idle-off ", "classes "] {
        assert!(out.lines().any(|l| l.starts_with(line)), "{line}: {out}");
    }
    let s = summary(&d.path().join("e"));
    let energy = s["energy_kwh"].as_f64().unwrap();
    let saved = s["idle_off_saved_kwh"].as_f64().unwrap();
    assert!(
        energy > 0.0 && saved > 0.0 && saved < energy,
        "{energy} {saved}"
    );
    assert_eq!(s["idle_off_min"], 30.0);
    assert!(s["power_avg_w"].as_f64().unwrap() > 0.0);
    let v100 = &s["per_device_model"]["V100M16"];
    assert_eq!(
        (v100["power_idle_w"].as_f64(), v100["power_full_w"].as_f64()),
        (Some(53.0), Some(300.0))
    );
    assert_eq!(v100["power_from"], "catalog");
    // openb has QoS classes: they are the classes.
    assert!(
        s["per_class"]["LS"]["jobs"].as_u64().unwrap() > 0,
        "{}",
        s["per_class"]
    );
    assert!(s["jain_jobs_slowdown"].as_f64().unwrap() <= 1.0);

    // Without the flag the keys are there, null.
    let o = flexsim(&["run", "--protocol", "replay", "--out", "n"], d.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let n = summary(&d.path().join("n"));
    assert!(n["idle_off_saved_kwh"].is_null() && n["idle_off_min"].is_null());
    assert_eq!(n["energy_kwh"], s["energy_kwh"]);

    // It is a replay flag; a negative time is refused.
    let o = flexsim(&["run", "--idle-off-min", "30"], d.path());
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("--idle-off-min applies only to --protocol replay"),
        "{}",
        stderr(&o)
    );
    let o = flexsim(
        &["run", "--protocol", "replay", "--idle-off-min=-1"],
        d.path(),
    );
    assert!(
        stderr(&o).contains("invalid --idle-off-min -1"),
        "{}",
        stderr(&o)
    );

    // A replay sweep's sweep.csv carries the energy and fairness columns.
    let o = flexsim(
        &[
            "sweep",
            "--protocol",
            "replay",
            "--policy",
            "best-fit",
            "--seeds",
            "42",
            "--quiet",
            "--out",
            "s",
        ],
        d.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let csv = std::fs::read_to_string(d.path().join("s/sweep.csv")).unwrap();
    assert!(
        csv.lines().next().unwrap().ends_with(
            ",jobs_unplaceable,energy_kwh,power_avg_w,kwh_per_busy_gpu_h,kwh_per_goodput_gpu_h,\
             idle_off_saved_kwh,jain_classes,jain_jobs_slowdown"
        ),
        "{csv}"
    );
}

#[test]
fn flag_of_the_other_protocol_is_refused_naming_both() {
    let d = tmp();
    let o = flexsim(&["run", "--protocol", "replay", "--tune", "1.2"], d.path());
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "error: --tune applies only to --protocol inflation, and this run is --protocol replay; \
         drop it\n"
    );
    let o = flexsim(
        &["sweep", "--demand", "fixed:0.5", "--restart-cost-s", "0"],
        d.path(),
    );
    assert_eq!(
        stderr(&o),
        "error: --restart-cost-s, --demand apply only to --protocol replay, and this run is \
         --protocol inflation (the default); drop them\n"
    );
    // A flag left at its default is no mistake.
    assert!(!d.path().join("out").exists());
}

#[test]
fn sweep_traces_with_the_same_name_are_refused() {
    let d = tmp();
    let trace = "name,cpu_milli,memory_mib,num_gpu,gpu_milli\np0,1000,10,1,500\n";
    for dir in ["a", "b"] {
        std::fs::create_dir(d.path().join(dir)).unwrap();
        std::fs::write(d.path().join(dir).join("x.csv"), trace).unwrap();
    }
    let o = flexsim(
        &["sweep", "--trace", "a/x.csv,b/x.csv", "--out", "s"],
        d.path(),
    );
    assert!(!o.status.success());
    assert_eq!(
        stderr(&o),
        "error: --trace: a/x.csv and b/x.csv both go by the name \"x\" (their runs would share \
         the folder x/ and rows of sweep.csv); rename one file, or run them in separate sweeps\n"
    );
    let o = flexsim(
        &["sweep", "--trace", "a/x.csv,a/x.csv", "--out", "s"],
        d.path(),
    );
    assert!(
        stderr(&o).contains("a/x.csv and a/x.csv both go by"),
        "{}",
        stderr(&o)
    );
    assert!(!d.path().join("s").exists());
}

#[test]
fn sweep_policy_listed_twice_is_refused() {
    let d = tmp();
    let o = flexsim(
        &["sweep", "--policy", "fgd,random,fgd", "--out", "s"],
        d.path(),
    );
    assert_eq!(
        stderr(&o),
        "error: --policy lists fgd twice; its runs would share one folder\n"
    );
    let o = flexsim(&["sweep", "--seeds", "42,43,42", "--out", "s"], d.path());
    assert!(
        stderr(&o).contains("a seed is listed twice"),
        "{}",
        stderr(&o)
    );
    assert!(!d.path().join("s").exists());
}

#[test]
fn trace_device_models_unknown_to_fleet_and_catalog_are_refused_with_suggestions() {
    let d = tmp();
    let trace = d.path().join("t.csv");
    std::fs::write(
        &trace,
        "name,arrival_s,work_s,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_models\n\
         a,0,10,1000,1024,1,500,V100M61\nb,1,10,1000,1024,1,500,T4|G9\nc,2,10,1000,1024,1,500,V100M61\n",
    )
    .unwrap();
    let o = flexsim(
        &[
            "run",
            "--protocol",
            "replay",
            "--trace",
            "t.csv",
            "--out",
            "r",
        ],
        d.path(),
    );
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.starts_with(
            "error: trace t: jobs accept device models that fleet openb_node_list_gpu_node does \
             not have and no catalog preset is: \"V100M61\" (job \"a\" and 1 more) (did you mean \
             \"V100M16\"?), \"G9\" (job \"b\") (did you mean \"G2\"?); the fleet has: A10, G2, G3, \
             P100, T4, V100M16, V100M32; catalog presets: A10,"
        ),
        "{e}"
    );
    assert!(!d.path().join("r").exists());
}

#[test]
fn openb_trace_with_an_unknown_column_warns_once_and_runs() {
    let d = tmp();
    std::fs::write(
        d.path().join("p.csv"),
        "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spce\np0,1000,10,1,500,T4\np1,1000,10,1,500,\n",
    )
    .unwrap();
    let o = flexsim(&["run", "--trace", "p.csv", "--out", "r"], d.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let e = stderr(&o);
    assert_eq!(e.matches("warning:").count(), 1, "{e}");
    assert!(
        e.starts_with(
            "warning: p.csv:1: ignoring column the openb format does not have: \"gpu_spce\" (did \
             you mean \"gpu_spec\"?)"
        ),
        "{e}"
    );
}

/// The names in `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn forced_run_replaces_the_directory_wholesale() {
    let d = tmp();
    let o = flexsim(&["run", "--out", "r"], d.path());
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::create_dir(d.path().join("r/s43")).unwrap();
    let o = flexsim(
        &["run", "--protocol", "replay", "--out", "r", "--force"],
        d.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // No stale inflation curve.csv or s43/ beside the replay's files.
    assert_eq!(
        listing(&d.path().join("r")),
        [
            "jct_cdf.svg",
            "jobs.csv",
            "summary.json",
            "timeseries.csv",
            "utilization.svg"
        ]
    );
    assert_eq!(summary(&d.path().join("r"))["protocol"], "replay");
    assert_eq!(listing(d.path()), ["r"]);
}

#[test]
fn failed_sweep_leaves_the_previous_results_untouched_and_nothing_else() {
    let d = tmp();
    let args = [
        "sweep", "--policy", "random", "--seeds", "1", "--quiet", "--out", "s",
    ];
    assert!(flexsim(&args, d.path()).status.success());
    let before = std::fs::read(d.path().join("s/sweep.csv")).unwrap();
    // random runs and writes; mig-static then fails (no MIG card in the openb fleet).
    let o = flexsim(
        &[
            "sweep",
            "--policy",
            "random,mig-static",
            "--seeds",
            "1..2",
            "--quiet",
            "--out",
            "s",
            "--force",
        ],
        d.path(),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("mig-static"), "{}", stderr(&o));
    assert_eq!(std::fs::read(d.path().join("s/sweep.csv")).unwrap(), before);
    assert_eq!(
        listing(&d.path().join("s/openb_pod_list_default")),
        ["random"]
    );
    assert_eq!(listing(d.path()), ["s"]);
    // A first run that fails leaves no directory at all.
    let o = flexsim(
        &[
            "sweep",
            "--policy",
            "mig-static",
            "--seeds",
            "1",
            "--quiet",
            "--out",
            "new",
        ],
        d.path(),
    );
    assert!(!o.status.success());
    assert_eq!(listing(d.path()), ["s"]);
}

#[test]
fn forced_run_never_replaces_a_directory_without_results() {
    let d = tmp();
    std::fs::create_dir(d.path().join("notes")).unwrap();
    std::fs::write(d.path().join("notes/thesis.tex"), "precious").unwrap();
    let o = flexsim(&["run", "--out", "notes", "--force"], d.path());
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("notes holds files but no flexsim results"),
        "{}",
        stderr(&o)
    );
    assert_eq!(listing(&d.path().join("notes")), ["thesis.tex"]);
    let o = flexsim(&["run", "--out", ".", "--force"], d.path());
    assert!(stderr(&o).contains("names no directory"), "{}", stderr(&o));
}

#[test]
fn interrupted_sweep_exits_130_and_leaves_the_previous_results() {
    let d = tmp();
    let args = [
        "sweep", "--policy", "random", "--seeds", "1", "--quiet", "--out", "s",
    ];
    assert!(flexsim(&args, d.path()).status.success());
    let before = std::fs::read(d.path().join("s/sweep.csv")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_flexsim"))
        .args([
            "sweep",
            "--protocol",
            "replay",
            "--policy",
            "fgd,best-fit",
            "--seeds",
            "1..40",
            "--threads",
            "1",
            "--quiet",
            "--out",
            "s",
            "--force",
        ])
        .current_dir(d.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until it is writing its staged directory, then press Ctrl-C.
    let staged = || {
        listing(d.path())
            .iter()
            .any(|n| n.starts_with("s.partial-"))
    };
    let start = std::time::Instant::now();
    while !staged() {
        assert!(
            start.elapsed().as_secs() < 60,
            "no staging directory appeared"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert_eq!(listing(d.path()), ["s"]);
    assert_eq!(std::fs::read(d.path().join("s/sweep.csv")).unwrap(), before);
}

/// Runs flexsim with its stdout a pipe whose reading end is closed before it starts.
fn with_closed_stdout(args: &[&str], dir: &Path) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    Command::new(env!("CARGO_BIN_EXE_flexsim"))
        .args(args)
        .current_dir(dir)
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap()
}

#[test]
fn closed_stdout_ends_quietly_with_141() {
    let d = tmp();
    assert!(flexsim(&["run", "--out", "r"], d.path()).status.success());
    for args in [
        &["policies"][..],
        &["compare", "r", "r"],
        &["trace", "synth", "--jobs", "1000", "--out", "-"],
        &["run", "--policy", "best-fit", "--out", "r2"],
    ] {
        let o = with_closed_stdout(args, d.path());
        assert_eq!(o.status.code(), Some(141), "{args:?}: {}", stderr(&o));
        // Quietly: no error, no panic; only a run's slicing note (it goes to stderr before
        // the summary is printed) may be there.
        assert!(
            stderr(&o).lines().all(|l| l.starts_with("slicing: ")),
            "{args:?}: {}",
            stderr(&o)
        );
    }
    // The run's results were complete before it printed: they stay.
    assert_eq!(summary(&d.path().join("r2"))["policy"], "best-fit");
}

#[test]
fn job_names_with_commas_or_quotes_are_quoted_in_jobs_csv() {
    let d = tmp();
    std::fs::write(
        d.path().join("t.csv"),
        "name,arrival_s,work_s,cpu_milli,memory_mib,num_gpu,gpu_milli\n\
         \"train, big\",0,10,1000,1024,1,500\n\"say \"\"hi\"\"\",1,10,1000,1024,1,500\n",
    )
    .unwrap();
    let o = flexsim(
        &[
            "run",
            "--protocol",
            "replay",
            "--trace",
            "t.csv",
            "--out",
            "r",
        ],
        d.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let jobs = std::fs::read_to_string(d.path().join("r/jobs.csv")).unwrap();
    let mut lines = jobs.lines().skip(1);
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("\"train, big\",finished,0.000,10.000,"),
        "{jobs}"
    );
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("\"say \"\"hi\"\"\",finished,1.000,"),
        "{jobs}"
    );
    let mut r = csv::Reader::from_reader(jobs.as_bytes());
    let names: Vec<String> = r.records().map(|x| x.unwrap()[0].to_owned()).collect();
    assert_eq!(names, ["train, big", "say \"hi\""]);
}

#[test]
fn policy_parameters_name_the_run_and_are_recorded_in_its_summary() {
    let d = tmp();
    let o = flexsim(
        &[
            "sweep",
            "--protocol",
            "replay",
            "--policy",
            "hami[gpu=binpack,node=spread],hami",
            "--seeds",
            "42",
            "--out",
            "s",
        ],
        d.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let run = d
        .path()
        .join("s/openb_pod_list_default/hami[gpu=binpack,node=spread]/s42");
    let s = summary(&run);
    assert_eq!(s["policy"], "hami[gpu=binpack,node=spread]");
    assert_eq!(s["policy_params"]["node"], "spread");
    assert_eq!(s["policy_params"]["gpu"], "binpack");
    let default = summary(&d.path().join("s/openb_pod_list_default/hami/s42"));
    assert_eq!(default["policy_params"]["node"], "binpack");
    // Policies without parameters record none.
    assert!(flexsim(&["run", "--out", "r"], d.path()).status.success());
    assert!(summary(&d.path().join("r")).get("policy_params").is_none());
}

#[test]
fn unknown_policy_parameter_is_an_error_listing_the_valid_ones() {
    let o = flexsim(&["run", "--policy", "tiresias[strave=2]"], tmp().path());
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains(
            "policy tiresias: unknown parameter \"strave\"; valid (with defaults): thresholds="
        ),
        "{e}"
    );
    assert_eq!(e.matches("unknown parameter").count(), 1, "said once: {e}");
}

#[test]
fn policies_verbose_lists_parameters_with_defaults() {
    let o = flexsim(&["policies", "--verbose"], tmp().path());
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("node=binpack"), "{text}");
    assert!(text.contains("thresholds="), "{text}");
}

#[test]
fn tune_refuses_nonpositive_ratios_and_tunes_that_produce_no_pods() {
    let d = tmp();
    for bad in ["0", "-1", "nan"] {
        let o = flexsim(&["run", &format!("--tune={bad}"), "--out", "x"], d.path());
        assert_eq!(o.status.code(), Some(1), "{bad}");
        assert!(
            stderr(&o).contains(&format!("invalid --tune {}", bad.replace("nan", "NaN"))),
            "{bad}: {}",
            stderr(&o)
        );
    }
    let o = flexsim(&["run", "--tune", "0.00001", "--out", "y"], d.path());
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("tune 0.00001 leaves no GPU pod to arrive"),
        "{}",
        stderr(&o)
    );
    let header = "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time";
    std::fs::write(
        d.path().join("cpu.csv"),
        format!("{header}\ncpu-0,1000,1024,0,0,,LS,Running,0,10,0\ncpu-1,1000,1024,0,0,,LS,Running,0,10,0\n"),
    )
    .unwrap();
    let o = flexsim(&["run", "--trace", "cpu.csv", "--out", "z"], d.path());
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("the trace's 2 pods request no GPU"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn limits_refuse_huge_fleets_and_grids_unless_yes() {
    let d = tmp();
    // 1,250,001 nodes of 8 cards: 8 devices over the limit.
    std::fs::write(
        d.path().join("huge.toml"),
        "[[groups]]\nname = \"g\"\ncount = 1250001\ncpu_milli = 1000\nmemory_mib = 1024\nmodel = \"T4\"\ndevices = 8\n",
    )
    .unwrap();
    for cmd in ["run", "sweep"] {
        let o = flexsim(&[cmd, "--fleet", "huge.toml", "--out", "o"], d.path());
        assert_eq!(o.status.code(), Some(1), "{cmd}");
        assert!(
            stderr(&o).contains(
                "huge.toml: the fleet has 10000008 devices on 1250001 nodes, beyond the limit of 10000000 devices or nodes; pass --yes to run it anyway"
            ),
            "{cmd}: {}",
            stderr(&o)
        );
    }
    // With --yes the fleet is read; the run then stops at the missing trace.
    let o = flexsim(
        &[
            "run",
            "--fleet",
            "huge.toml",
            "--trace",
            "absent.csv",
            "--yes",
            "--out",
            "o",
        ],
        d.path(),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("absent.csv") && !stderr(&o).contains("limit"),
        "{}",
        stderr(&o)
    );
    // A grid of 2 x 100,000 runs is refused before a seed list is built; --yes lets it past.
    let o = flexsim(
        &[
            "sweep",
            "--policy",
            "best-fit,fgd",
            "--seeds",
            "1..100000",
            "--out",
            "s",
        ],
        d.path(),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains(
            "the sweep grid has 200000 runs (1 trace x 2 policies x 100000 seeds), beyond the limit of 100000 runs; pass --yes"
        ),
        "{}",
        stderr(&o)
    );
    let o = flexsim(
        &[
            "sweep",
            "--seeds",
            "0..18446744073709551615",
            "--trace",
            "absent.csv",
            "--out",
            "s",
        ],
        d.path(),
    );
    assert!(
        stderr(&o).contains("beyond the limit of 100000 runs"),
        "{}",
        stderr(&o)
    );
    let o = flexsim(
        &[
            "sweep",
            "--policy",
            "best-fit,fgd",
            "--seeds",
            "1..100000",
            "--trace",
            "absent.csv",
            "--yes",
            "--out",
            "s",
        ],
        d.path(),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("absent.csv") && !stderr(&o).contains("limit"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn threads_are_capped_at_the_available_cores_with_a_note() {
    let d = tmp();
    let o = flexsim(
        &[
            "sweep",
            "--policy",
            "best-fit",
            "--seeds",
            "42",
            "--threads",
            "100000",
            "--quiet",
            "--out",
            "s",
        ],
        d.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let cores = std::thread::available_parallelism().unwrap().get();
    let note =
        format!("note: --threads 100000 capped at {cores}, the cores available to this process");
    assert_eq!(
        stderr(&o).lines().filter(|l| *l == note).count(),
        1,
        "{}",
        stderr(&o)
    );
    let o = flexsim(
        &[
            "sweep",
            "--policy",
            "best-fit",
            "--seeds",
            "42",
            "--threads",
            "1",
            "--quiet",
            "--out",
            "t",
        ],
        d.path(),
    );
    assert!(
        o.status.success() && !stderr(&o).contains("capped"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        std::fs::read(d.path().join("s/sweep.csv")).unwrap(),
        std::fs::read(d.path().join("t/sweep.csv")).unwrap()
    );
}

#[test]
fn sweep_notes_are_printed_once_per_distinct_line() {
    let d = tmp();
    let o = flexsim(
        &[
            "sweep",
            "--policy",
            "best-fit,fgd",
            "--seeds",
            "1..2",
            "--quiet",
            "--out",
            "s",
        ],
        d.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // Both policies run the fleet's own slicing: one bare line for the whole grid.
    let e = stderr(&o);
    let slicing: Vec<&str> = e.lines().filter(|l| l.starts_with("slicing:")).collect();
    assert_eq!(slicing.len(), 1, "{e}");
    assert!(slicing[0].ends_with("(the fleet's)"), "{e}");
}

#[test]
fn explain_records_the_named_jobs_decisions_without_changing_the_run() {
    let dir = tmp();
    let base = ["run", "--protocol", "replay", "--policy", "best-fit"];
    let plain = flexsim(&[&base[..], &["--out", "plain"]].concat(), dir.path());
    assert!(plain.status.success(), "{}", stderr(&plain));
    let named = "openb-pod-0001,openb-pod-0017";
    let explained = flexsim(
        &[&base[..], &["--out", "explained", "--explain", named]].concat(),
        dir.path(),
    );
    assert!(explained.status.success(), "{}", stderr(&explained));
    assert!(
        stderr(&explained).contains("explain: 2 decisions"),
        "{}",
        stderr(&explained)
    );
    // The schedule is the same, file for file.
    for f in ["jobs.csv", "timeseries.csv"] {
        let a = std::fs::read(dir.path().join("plain").join(f)).unwrap();
        let b = std::fs::read(dir.path().join("explained").join(f)).unwrap();
        assert!(a == b, "{f} differs with --explain");
    }
    let mut r = csv::Reader::from_path(dir.path().join("explained/decisions.csv")).unwrap();
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    let nodes = std::fs::read_to_string(repo("traces/openb/openb_node_list_gpu_node.csv"))
        .unwrap()
        .lines()
        .count()
        - 1;
    // Every node once per decision: a score where it fits, a reason where it does not.
    assert_eq!(rows.len(), 2 * nodes);
    for row in &rows {
        assert!(named.split(',').any(|n| n == &row[0]));
        assert_eq!(&row[2], "placed");
        assert!(
            row[5].is_empty() != row[6].is_empty(),
            "score xor reason: {row:?}"
        );
    }
    // One chosen node a job, the one jobs.csv places it on.
    let jobs = std::fs::read_to_string(dir.path().join("plain/jobs.csv")).unwrap();
    for name in named.split(',') {
        let chosen: Vec<&str> = rows
            .iter()
            .filter(|r| &r[0] == name && &r[4] == "1")
            .map(|r| r.get(3).unwrap())
            .collect();
        assert_eq!(chosen.len(), 1, "{name}");
        let line = jobs
            .lines()
            .find(|l| l.starts_with(&format!("{name},")))
            .unwrap();
        assert!(
            line.contains(&format!(",{},", chosen[0])),
            "{line} vs {}",
            chosen[0]
        );
    }
    // Bad names and an unbounded explain are refused before anything runs.
    let bad = flexsim(
        &[&base[..], &["--out", "bad", "--explain", "openb-pod-x"]].concat(),
        dir.path(),
    );
    assert!(!bad.status.success());
    assert!(
        stderr(&bad).contains("no job named \"openb-pod-x\""),
        "{}",
        stderr(&bad)
    );
    let all = flexsim(
        &[&base[..], &["--out", "all", "--explain"]].concat(),
        dir.path(),
    );
    assert!(!all.status.success());
    assert!(stderr(&all).contains("--yes"), "{}", stderr(&all));
    assert!(!dir.path().join("bad").exists() && !dir.path().join("all").exists());
    // Inflation has no decisions to explain.
    let inflation = flexsim(&["run", "--out", "inf", "--explain", named], dir.path());
    assert!(!inflation.status.success());
    assert!(
        stderr(&inflation).contains("--explain"),
        "{}",
        stderr(&inflation)
    );
}

/// `flexsim fleet show`: the topology summary and the DOT graph; a flat fleet says it is flat
/// and refuses `--dot`; a replay on a topology fleet writes the tier columns.
#[test]
fn fleet_show_prints_the_topology_and_writes_dot_and_replays_report_tiers() {
    let d = tmp();
    let fleet = repo("traces/fleets/topo-64x16.toml");
    let o = flexsim(&["fleet", "show", &fleet, "--dot", "t.dot"], d.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("1024 nodes, 8192 devices"), "{text}");
    assert!(
        text.contains("rack         64 switch(es), 16–16 nodes each"),
        "{text}"
    );
    assert!(text.contains("spine          0.6619"), "{text}");
    let dot = std::fs::read_to_string(d.path().join("t.dot")).unwrap();
    assert!(dot.starts_with("graph \"topo-64x16\" {"), "{}", &dot[..80]);
    assert!(dot.contains("label = \"nvswitch 600 GB/s\""));
    // Refused over an existing file, and for a flat fleet.
    let again = flexsim(&["fleet", "show", &fleet, "--dot", "t.dot"], d.path());
    assert!(!again.status.success() && stderr(&again).contains("--force"));
    let flat = flexsim(
        &[
            "fleet",
            "show",
            &repo("traces/fleets/mixed.toml"),
            "--dot",
            "m.dot",
        ],
        d.path(),
    );
    assert!(!flat.status.success());
    assert!(
        stderr(&flat).contains("has no topology to draw"),
        "{}",
        stderr(&flat)
    );
    assert!(String::from_utf8_lossy(&flat.stdout).contains("topology: none"));
    // A short gang-heavy replay: jobs.csv gets tier and best_tier.
    let synth = flexsim(
        &[
            "trace",
            "synth",
            "--jobs",
            "300",
            "--set",
            "share_multi_gpu=1",
            "--set",
            "multi_gpu_counts=16:1",
            "--set",
            "share_cpu_only=0",
            "--set",
            "share_sharing=0",
            "--out",
            "g.csv",
        ],
        d.path(),
    );
    assert!(synth.status.success(), "{}", stderr(&synth));
    let run = flexsim(
        &[
            "run",
            "--protocol",
            "replay",
            "--trace",
            "g.csv",
            "--fleet",
            &fleet,
            "--policy",
            "topo-aware",
            "--out",
            "r",
        ],
        d.path(),
    );
    assert!(run.status.success(), "{}", stderr(&run));
    let jobs = std::fs::read_to_string(d.path().join("r/jobs.csv")).unwrap();
    assert!(jobs
        .lines()
        .next()
        .unwrap()
        .ends_with(",reason,tier,best_tier"));
    assert!(jobs.contains(",rack,rack"), "16-GPU gangs in one rack");
    let s = summary(&d.path().join("r"));
    assert_eq!(s["placement_tiers"]["at_best_tier_pct"], 100.0);
    assert!(s.get("topology_note").is_none());
    // On a flat fleet topo-aware is best-fit, and the run says so.
    let flat = flexsim(
        &[
            "run",
            "--protocol",
            "replay",
            "--trace",
            "g.csv",
            "--fleet",
            &repo("traces/fleets/mixed.toml"),
            "--policy",
            "topo-aware",
            "--out",
            "f",
        ],
        d.path(),
    );
    assert!(flat.status.success(), "{}", stderr(&flat));
    assert!(stderr(&flat).contains(
        "topology: policy topo-aware places by the fleet's topology, but fleet mixed has none"
    ));
    let s = summary(&d.path().join("f"));
    assert!(s["topology_note"]
        .as_str()
        .unwrap()
        .contains("ran its flat rule"));
    assert!(s.get("placement_tiers").is_none());
}

#[test]
fn replay_my_cluster_from_one_kubernetes_snapshot() {
    // "Replay my cluster": `kubectl get nodes,pods -A -o json` given as trace and fleet.
    let d = tmp();
    let snap = repo("traces/fixtures/k8s/snapshot.json");
    let o = flexsim(
        &[
            "run",
            "--protocol",
            "replay",
            "--trace",
            &snap,
            "--fleet",
            &snap,
            "--policy",
            "best-fit",
            "--out",
            "r",
        ],
        d.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("running pods arrive at t=0 and are placed by the policy"),
        "{e}"
    );
    assert!(
        e.contains("skipping 1 unschedulable (cordoned) nodes"),
        "{e}"
    );
    let s = summary(&d.path().join("r"));
    assert_eq!(s["jobs_total"].as_u64(), Some(5), "{s}");
    assert_eq!(s["jobs_finished"].as_u64(), Some(5), "{s}");
    let jobs = std::fs::read_to_string(d.path().join("r/jobs.csv")).unwrap();
    assert!(
        jobs.contains("ml/train-0") && jobs.contains("npu/llm-0"),
        "{jobs}"
    );
}

#[test]
fn pai_and_spot_gpu_traces_replay_on_their_fleets() {
    let d = tmp();
    let cases = [
        (
            "traces/fixtures/pai/pai_task_table.csv",
            "traces/fixtures/pai/pai_machine_spec.csv",
        ),
        (
            "traces/fixtures/spot-gpu/job_info_df.csv",
            "traces/alibaba-spot-gpu-2026/node_info_df.csv",
        ),
    ];
    for (i, (trace, fleet)) in cases.iter().enumerate() {
        let out = format!("r{i}");
        let o = flexsim(
            &[
                "run",
                "--protocol",
                "replay",
                "--trace",
                &repo(trace),
                "--fleet",
                &repo(fleet),
                "--policy",
                "best-fit",
                "--out",
                &out,
            ],
            d.path(),
        );
        assert!(o.status.success(), "{trace}: {}", stderr(&o));
        let s = summary(&d.path().join(&out));
        assert_eq!(s["jobs_skipped"].as_u64(), Some(1), "{trace}: {s}");
    }
    // A PAI table other than the task table points at it.
    let o = flexsim(
        &[
            "run",
            "--protocol",
            "replay",
            "--trace",
            &repo("traces/fixtures/pai/pai_sensor_table.csv"),
            "--out",
            "x",
        ],
        d.path(),
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("the trace is"), "{}", stderr(&o));
}

#[test]
fn trace_info_prints_the_shape_of_every_format() {
    let d = tmp();
    let stdout = |o: &Output| String::from_utf8_lossy(&o.stdout).into_owned();
    // Philly on its own machine list: format, skipped jobs with reasons, sizes, gangs, load.
    let o = flexsim(
        &[
            "trace",
            "info",
            &repo("traces/fixtures/philly/cluster_job_log"),
            "--nodes",
            &repo("traces/fixtures/philly/cluster_machine_list"),
        ],
        d.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for want in [
        "(philly)",
        "jobs          4 (0 without work",
        "skipped 3 of 7 jobs that cannot be replayed: 1 never scheduled (no attempts)",
        "  9-16 GPUs           1   25.0%",
        "gangs         1 (25.0%)",
        "arrivals      0 .. 141 s, span 2 min",
        ": 30 GPUs on 5 nodes",
        // 445.7 GPU-hours over 141 s on 30 GPUs.
        "offered load  379.",
    ] {
        assert!(out.contains(want), "{want:?} not in\n{out}");
    }
    // Every other format, against the default fleet (the embedded openb GPU node list).
    for (file, format) in [
        ("traces/openb/openb_pod_list_default.csv", "openb"),
        (
            "traces/alibaba-dlrm-2025/disaggregated_DLRM_trace.csv",
            "dlrm",
        ),
        ("traces/fixtures/tiresias/tiresias_job.csv", "tiresias"),
        ("traces/fixtures/helios/cluster_log.csv", "helios"),
        ("traces/fixtures/acme/trace_seren.csv", "acme"),
    ] {
        let o = flexsim(&["trace", "info", &repo(file)], d.path());
        assert!(o.status.success(), "{file}: {}", stderr(&o));
        let out = stdout(&o);
        assert!(out.contains(&format!("({format})")), "{out}");
        assert!(out.contains("6212 GPUs on 1213 nodes"), "{out}");
        assert!(out.contains("offered load  "), "{out}");
    }
    let o = flexsim(
        &[
            "trace",
            "info",
            &repo("traces/openb/openb_pod_list_default.csv"),
        ],
        d.path(),
    );
    assert!(
        stdout(&o).contains("jobs          8152 (897 without work"),
        "{}",
        stdout(&o)
    );
    // A malformed trace is an error naming file, line and column.
    let o = flexsim(
        &[
            "trace",
            "info",
            &repo("traces/fixtures/helios/cluster_log_bad.csv"),
        ],
        d.path(),
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("cluster_log_bad.csv:3: column start_time: expected a time"),
        "{}",
        stderr(&o)
    );
}
