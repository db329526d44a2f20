//! Results you can trust: the library and the CLI give the same numbers, a job that can never
//! run is never silent, and no shipped trace is refused by a shipped fleet's slicing.

use flexsim_sim::engine::{inflation, replay};
use flexsim_sim::model::fleet::Fleet;
use flexsim_sim::model::job::Workload;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn flexsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flexsim"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn arg(p: &Path) -> String {
    p.display().to_string()
}

fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn trace(name: &str) -> Workload {
    flexsim_sim::input::trace::read_any(&repo(name)).unwrap()
}

fn fleet(name: &str) -> Fleet {
    Fleet::read(&repo(name)).unwrap()
}

#[test]
fn a_replay_through_the_library_gives_the_cli_figures_in_the_policys_preferred_mode() {
    let t = "traces/openb/openb_pod_list_default.csv";
    let f = "traces/fleets/mixed.toml";
    for policy in ["hami", "k8s-default"] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("run");
        let args = [
            "run",
            "--protocol",
            "replay",
            "--trace",
            &arg(&repo(t)),
            "--fleet",
            &arg(&repo(f)),
            "--policy",
            policy,
            "--out",
            &arg(&out),
        ];
        let o = flexsim(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        let cli = summary(&out);
        let mut p = flexsim_policies::by_name(policy).unwrap();
        let lib = replay::run(&fleet(f), &trace(t), p.as_mut(), &Default::default()).unwrap();
        let g = &lib.figures;
        // serde_json reads a float back to within one unit in the last place.
        let same = |key: &str, v: f64| {
            let c = cli[key].as_f64().unwrap();
            assert!(
                (c - v).abs() <= 1e-12 * v.abs().max(1.0),
                "{policy} {key}: {c} vs {v}"
            );
        };
        same("util_alloc_pct", g.util_alloc_pct);
        same("util_busy_pct", g.util_busy_pct);
        same("frag_ratio_pct_mean", g.frag_ratio_pct_mean);
        same("wait_p99_s", g.wait_s.p99.unwrap());
        same("jct_p50_s", g.jct_s.p50.unwrap());
        same("jobs_finished", g.jobs_finished as f64);
        same("jobs_pending", g.jobs_pending as f64);
        same("events", g.events as f64);
        let preferred = p.preferred_slicing().unwrap().name();
        for (model, m) in &lib.slicing {
            let s = &cli["per_device_model"][model];
            assert_eq!(s["slicing"], m.mode.name().as_str(), "{policy} {model}");
            assert_eq!(s["slicing_from"], m.source.name(), "{policy} {model}");
            if m.source.name() == "policy" {
                assert_eq!(m.mode.name(), preferred);
            }
        }
        // The policy's mode was applied (hami: every model but the 310P3 has a vGPU mode).
        let ran_preferred = lib.slicing.values().filter(|m| m.mode.name() == preferred);
        assert!(ran_preferred.count() >= 5, "{policy}: {:?}", lib.slicing);
        assert!(
            stderr(&o).contains(&format!("T4 {preferred} (the policy's)")),
            "{}",
            stderr(&o)
        );
    }
}

#[test]
fn an_inflation_run_through_the_library_gives_the_cli_figures_in_the_policys_preferred_mode() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let o = flexsim(&["run", "--policy", "k8s-default", "--out", &arg(&out)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let cli = summary(&out);
    let w = trace("traces/openb/openb_pod_list_default.csv");
    let f = fleet("traces/openb/openb_node_list_gpu_node.csv");
    let mut p = flexsim_policies::by_name("k8s-default").unwrap();
    let lib = inflation::run(&f, &w, p.as_mut(), Default::default()).unwrap();
    assert_eq!(cli["pods_failed"].as_u64(), Some(lib.pods_failed as u64));
    let last = lib.samples.last().unwrap();
    let alloc = 100.0 * last.used_gpu_milli as f64 / lib.gpu_capacity_milli as f64;
    assert_eq!(cli["alloc_pct_final"].as_f64(), Some(alloc));
    for (model, m) in &lib.slicing {
        assert_eq!(m.mode.name(), "whole", "{model}");
        assert_eq!(cli["per_device_model"][model]["slicing"], "whole");
        assert_eq!(cli["per_device_model"][model]["slicing_from"], "policy");
    }
}

#[test]
fn slicing_per_device_model_runs_each_in_its_mode_and_refuses_unknown_models_and_modes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let mixed = arg(&repo("traces/fleets/mixed.toml"));
    let t = arg(&repo("traces/openb/openb_pod_list_default.csv"));
    let run = |slicing: &str, out: &Path| {
        flexsim(&[
            "run",
            "--protocol",
            "replay",
            "--trace",
            &t,
            "--fleet",
            &mixed,
            "--policy",
            "best-fit",
            "--slicing",
            slicing,
            "--out",
            &arg(out),
        ])
    };
    let o = run("A100-80=whole, Ascend910B3=timeshare", &out);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = summary(&out);
    let m = &s["per_device_model"];
    assert_eq!(
        (&m["A100-80"]["slicing"], &m["A100-80"]["slicing_from"]),
        (&"whole".into(), &"chosen".into())
    );
    assert_eq!(m["Ascend910B3"]["slicing"], "timeshare");
    assert_eq!(
        (&m["H100-80"]["slicing"], &m["H100-80"]["slicing_from"]),
        (&"mig".into(), &"fleet".into())
    );
    assert!(
        stderr(&o).contains("A100-80 whole (--slicing)"),
        "{}",
        stderr(&o)
    );
    let o = run("B200=mig", &dir.path().join("b"));
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("fleet mixed has no device model B200 (its device models: A100-80, Ascend310P3, Ascend910B3, H100-80, T4, V100M32)"),
        "{}",
        stderr(&o)
    );
    let o = run("whole,T4=mig", &dir.path().join("c"));
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("device model T4 does not support slicing mode mig (it supports: whole, fractional, timeshare)"),
        "{}",
        stderr(&o)
    );
}
