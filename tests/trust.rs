//! Results you can trust: the library and the CLI give the same numbers, a job that can never
//! run is never silent, and no shipped trace is refused by a shipped fleet's slicing.

use flexsim_sim::engine::{fleet_for, inflation, replay};
use flexsim_sim::error::EngineError;
use flexsim_sim::model::cluster::{Cluster, Unplaceable};
use flexsim_sim::model::fleet::Fleet;
use flexsim_sim::model::job::Workload;
use std::collections::BTreeMap;
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

const OPENB: [&str; 4] = [
    "traces/openb/openb_pod_list_default.csv",
    "traces/openb/openb_pod_list_gpushare40.csv",
    "traces/openb/openb_pod_list_gpuspec33.csv",
    "traces/openb/openb_pod_list_multigpu50.csv",
];
const DLRM: &str = "traces/alibaba-dlrm-2025/disaggregated_DLRM_trace.csv";
const FLEETS: [&str; 3] = [
    "traces/fleets/flexai-claim.toml",
    "traces/fleets/mixed.toml",
    "traces/fleets/synth-10k.toml",
];

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

#[test]
fn unplaceable_jobs_are_reported_per_reason_and_strict_refuses_them_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let t = arg(&repo("traces/openb/openb_pod_list_gpuspec33.csv"));
    let f = arg(&repo("traces/fleets/mixed.toml"));
    let run = |out: &Path, strict: bool| {
        let mut args = vec![
            "run".to_owned(),
            "--protocol".into(),
            "replay".into(),
            "--trace".into(),
            t.clone(),
            "--fleet".into(),
            f.clone(),
            "--out".into(),
            arg(out),
        ];
        if strict {
            args.push("--strict".into());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        flexsim(&args)
    };
    let out = dir.path().join("lenient");
    let o = run(&out, false);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("unplaceable: 607 jobs fit no node of the empty fleet: gpu-models 607"),
        "{}",
        stderr(&o)
    );
    let s = summary(&out);
    assert_eq!(s["jobs_unplaceable"]["total"], 607);
    assert_eq!(s["jobs_unplaceable"]["by_reason"]["gpu-models"], 607);
    let n = |k: &str| s[k].as_u64().unwrap();
    assert_eq!(
        n("jobs_finished") + n("jobs_running") + n("jobs_pending") + n("jobs_skipped") + 607,
        n("jobs_total")
    );
    assert_eq!(n("pods_failed"), n("jobs_pending") + 607);
    // jobs.csv: a reason column, and every unplaceable row names its reason.
    let csv = std::fs::read_to_string(out.join("jobs.csv")).unwrap();
    let mut lines = csv.lines();
    assert!(lines.next().unwrap().ends_with(",node,reason"));
    let mut states: BTreeMap<(String, String), u64> = BTreeMap::new();
    for l in lines {
        let cols: Vec<&str> = l.split(',').collect();
        *states
            .entry((cols[1].to_owned(), cols[cols.len() - 1].to_owned()))
            .or_insert(0) += 1;
    }
    assert_eq!(
        states[&("unplaceable".to_owned(), "gpu-models".to_owned())],
        607
    );
    assert_eq!(
        states[&("skipped".to_owned(), "no-work".to_owned())],
        n("jobs_skipped")
    );

    let o = run(&dir.path().join("strict"), true);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(
            "607 jobs fit no node of the empty fleet (gpu-models 607), e.g. openb-pod-0013, openb-pod-0017"
        ),
        "{}",
        stderr(&o)
    );
    let o = flexsim(&[
        "run",
        "--strict",
        "--out",
        &arg(&dir.path().join("inflation")),
    ]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("--strict applies only to --protocol replay"),
        "{}",
        stderr(&o)
    );
}

fn is_slicing(u: Unplaceable) -> bool {
    matches!(
        u,
        Unplaceable::DeviceMemory
            | Unplaceable::NoMigProfile
            | Unplaceable::NoVnpuTemplate
            | Unplaceable::SlicingRefused
    )
}

/// Unplaceable pods of `w` on `cluster` (whole; the replay also tries remote splits, which
/// cannot help a pod the slicing refuses), per reason.
fn reasons(cluster: &Cluster, w: &Workload) -> BTreeMap<Unplaceable, u64> {
    let mut out = BTreeMap::new();
    let mut seen: BTreeMap<String, Option<Unplaceable>> = BTreeMap::new();
    for p in &w.pods {
        let key = format!(
            "{} {} {} {} {:?} {} {:?} {:?} {}",
            p.cpu_milli,
            p.memory_mib,
            p.num_gpu,
            p.gpu_milli,
            p.gpu_memory_mib,
            p.gpu_spec.text(),
            p.app,
            p.max_per_node,
            p.rdma_pct
        );
        let why = *seen
            .entry(key)
            .or_insert_with(|| cluster.unplaceable_reason(p));
        if let Some(u) = why {
            *out.entry(u).or_insert(0) += 1;
        }
    }
    out
}

#[test]
fn no_shipped_trace_is_refused_by_the_slicing_of_a_shipped_fleet_in_any_policys_mode() {
    let traces: Vec<Workload> = OPENB.iter().chain([&DLRM]).map(|t| trace(t)).collect();
    let mut refused = Vec::new();
    for f in FLEETS {
        let base = fleet(f);
        // The fleet's own modes, then every shipped policy's preferred ones.
        let mut runs = vec![("(fleet's modes)".to_owned(), base.clone())];
        for info in flexsim_policies::registry() {
            let p = flexsim_policies::by_name(info.name).unwrap();
            match fleet_for(&base, p.as_ref()) {
                Ok(fl) => runs.push((info.name.to_owned(), fl)),
                // A policy whose mode no model supports is refused loudly (mig-static on a
                // V100 fleet), not run.
                Err(EngineError::PreferredModeUnsupported { .. }) => {}
                Err(e) => panic!("{f} / {}: {e}", info.name),
            }
        }
        for (policy, fl) in &runs {
            let cluster = Cluster::new(fl);
            for w in &traces {
                for (u, n) in reasons(&cluster, w) {
                    // mig-static's fixed 3g+2g+1g+1g geometry has no instance above 3g, by its
                    // definition: whole-card and 4g requests never fit it (policies/mig-static).
                    let by_design = policy == "mig-static" && u == Unplaceable::NoMigProfile;
                    if is_slicing(u) && !by_design {
                        refused.push(format!("{f} / {policy} / {}: {} {n}", w.name, u.name()));
                    }
                }
            }
        }
    }
    assert!(
        refused.is_empty(),
        "refused by slicing:\n{}",
        refused.join("\n")
    );
}

#[test]
fn the_mixed_fleet_runs_every_openb_job_that_fits_it() {
    let f = fleet("traces/fleets/mixed.toml");
    for t in OPENB {
        let w = trace(t);
        let mut p = flexsim_policies::by_name("best-fit").unwrap();
        let o = replay::run(&f, &w, p.as_mut(), &Default::default()).unwrap();
        let g = &o.figures;
        assert_eq!((g.jobs_pending, g.jobs_running), (0, 0), "{t}");
        assert_eq!(
            g.jobs_finished + g.jobs_skipped + g.jobs_unplaceable,
            g.jobs_total,
            "{t}"
        );
        // What never fits is only a model the fleet lacks, never its slicing.
        assert!(
            g.unplaceable_by_reason.keys().all(|r| r == "gpu-models"),
            "{t}: {:?}",
            g.unplaceable_by_reason
        );
    }
}

/// Gang jobs across nodes (issue 8 item 5), through the shipped policies and the CLI.
mod gang_jobs {
    use super::*;
    use flexsim_sim::model::fleet::NodeSpec;
    use flexsim_sim::model::job::Pod;
    use flexsim_sim::model::slicing::SlicingMode;

    /// Two nodes of 8 whole V100s.
    fn two_nodes() -> Fleet {
        let mut f = Fleet::new(
            "two".into(),
            (0..2)
                .map(|i| NodeSpec::new(format!("n{i}"), 96_000, 786_432, 8, "V100M32".into()))
                .collect(),
        );
        f.set_mode(SlicingMode::Whole).unwrap();
        f
    }

    fn job(name: &str, arrival_s: u64, work_s: u64, gpus: u32) -> Pod {
        let mut p = Pod::new(name, 8_000, 10_240, gpus, 1000);
        p.arrival_ms = arrival_s * 1000;
        p.work_ms = Some(work_s * 1000);
        p.demand_milli = Some(1000);
        p
    }

    fn workload() -> Workload {
        Workload {
            name: "gang".into(),
            pods: vec![job("gang", 0, 100, 16), job("short", 10, 20, 8)],
        }
    }

    fn config(factor: f64) -> replay::ReplayConfig {
        let mut c = replay::ReplayConfig {
            restart_cost_ms: 0,
            ..Default::default()
        };
        c.perf.cross_node_factor = factor;
        c
    }

    /// The acceptance test: a 16-GPU gang on 8-GPU nodes runs, is preempted whole, and
    /// finishes when the cross-node factor says.
    #[test]
    fn a_16_gpu_gang_runs_on_two_8_gpu_nodes_is_preempted_whole_and_finishes_on_time() {
        // srtf. 0 s: the gang (16 GPUs, 100 s of work) takes both nodes at factor 0.75. 10 s:
        // short (8 GPUs, 160 GPU-s) has less remaining GPU time than the gang (1600 − 16 × 10
        // = 1440 GPU-s) and no room: it preempts the gang, which has done 10 × 0.75 = 7.5 s of
        // work, and both of the gang's nodes are released — short starts at once. The gang
        // cannot restart on the one node left (8 < 16). 30 s: short ends; the gang restarts
        // whole with 92.5 s of work: 92.5 / 0.75 = 123.333… s, rounded up to the ms: it ends
        // at 30 + 123.334 = 153.334 s.
        let mut p = flexsim_policies::by_name("srtf").unwrap();
        let o = replay::run(&two_nodes(), &workload(), p.as_mut(), &config(0.75)).unwrap();
        let (gang, short) = (&o.jobs[0], &o.jobs[1]);
        assert_eq!(o.figures.preemptions, 1);
        assert_eq!(gang.preemptions, 1);
        assert_eq!(
            (short.first_start_ms, short.finish_ms),
            (Some(10_000), Some(30_000))
        );
        assert_eq!(gang.finish_ms, Some(153_334));
        let mut nodes: Vec<&str> = gang.node.as_deref().unwrap().split('|').collect();
        nodes.sort_unstable();
        assert_eq!(nodes, ["n0", "n1"]);
        assert_eq!(o.figures.gang_jobs, 1);
    }

    /// Every shipped policy places the gang (the engine's gang placer) and it finishes, never
    /// running in part: by 100 s of work at most 16 cards are used and the gang ends no
    /// earlier than 100 / 0.75 s.
    #[test]
    fn every_shipped_policy_places_a_gang_whole() {
        let (mut ran, registry) = (0, flexsim_policies::registry());
        for info in &registry {
            let mut p = flexsim_policies::by_name(info.name).unwrap();
            let o = match replay::run(&two_nodes(), &workload(), p.as_mut(), &config(0.75)) {
                Ok(o) => o,
                // A policy defined for a slicing mode V100s lack (MIG, vNPU) cannot run here.
                Err(EngineError::PreferredModeUnsupported { .. }) => continue,
                Err(e) => panic!("{}: {e}", info.name),
            };
            let gang = &o.jobs[0];
            assert_eq!(gang.state, "finished", "{}", info.name);
            assert!(
                gang.finish_ms.unwrap() >= 133_334,
                "{}: {:?}",
                info.name,
                gang.finish_ms
            );
            assert_eq!(gang.node.as_deref().unwrap().split('|').count(), 2);
            ran += 1;
        }
        assert!(
            ran + 3 >= registry.len(),
            "{ran} of {} policies ran",
            registry.len()
        );
    }

    /// The CLI: a stated `num_nodes` × `gpus_per_node` row, `--cross-node-factor`, `jobs.csv`
    /// naming both nodes and `summary.json` recording the factor.
    #[test]
    fn the_cli_runs_a_stated_gang_at_the_given_factor_and_lists_its_nodes() {
        let dir = tempfile::tempdir().unwrap();
        let trace = dir.path().join("gang.csv");
        std::fs::write(
            &trace,
            "name,arrival_s,work_s,cpu_milli,memory_mib,num_gpu,gpu_milli,demand,num_nodes,gpus_per_node\n\
             g,0,30,16000,20480,8,1000,1,2,4\n\
             one,0,30,8000,10240,1,1000,1,,\n",
        )
        .unwrap();
        let fleet = dir.path().join("fleet.toml");
        std::fs::write(
            &fleet,
            "name = \"two\"\n[models.V100M32]\nslicing = \"whole\"\n[[groups]]\nname = \"n\"\n\
             count = 2\ncpu_milli = 96000\nmemory_mib = 786432\nmodel = \"V100M32\"\ndevices = 8\n",
        )
        .unwrap();
        let out = dir.path().join("run");
        let o = flexsim(&[
            "run",
            "--protocol",
            "replay",
            "--trace",
            &arg(&trace),
            "--fleet",
            &arg(&fleet),
            "--policy",
            "best-fit",
            "--cross-node-factor",
            "0.5",
            "--out",
            &arg(&out),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let s = summary(&out);
        assert_eq!(
            (s["gang_jobs"].as_u64(), s["cross_node_factor"].as_f64()),
            (Some(1), Some(0.5))
        );
        let jobs = std::fs::read_to_string(out.join("jobs.csv")).unwrap();
        let g = jobs.lines().find(|l| l.starts_with("g,")).unwrap();
        // 30 s of work at 0.5: finishes at 60 s, on both nodes.
        assert!(g.contains(",finished,") && g.contains(",60.000,"), "{g}");
        assert!(
            g.contains("n-0000|n-0001") || g.contains("n-0001|n-0000"),
            "{g}"
        );
        let bad = flexsim(&[
            "run",
            "--protocol",
            "replay",
            "--trace",
            &arg(&trace),
            "--fleet",
            &arg(&fleet),
            "--cross-node-factor",
            "1.5",
            "--out",
            &arg(&dir.path().join("bad")),
        ]);
        assert!(!bad.status.success());
        assert!(
            stderr(&bad).contains("invalid --cross-node-factor 1.5"),
            "{}",
            stderr(&bad)
        );
    }
}

/// A policy's replay promises ([`ReplayHints`]) change what the engine skips, never what
/// happens: every shipped policy, on contended replays, gives the same outcome with its
/// promises as with none (the engine's full walk of the queue every pass).
mod replay_hints {
    use super::*;
    use flexsim_sim::input::synth::{generate, SynthParams};
    use flexsim_sim::model::cluster::{Cluster, Placement};
    use flexsim_sim::model::gang::GangPlacement;
    use flexsim_sim::model::job::{Pod, PodId};
    use flexsim_sim::model::slicing::SlicingMode;
    use flexsim_sim::policy::{
        Discipline, JobChange, JobsView, Policy, QueueKey, QueuedJob, RemotePlacement, ReplayHints,
        Setup, SimRng,
    };

    /// `inner` with every call passed through, but without what the flags take away: its
    /// promises ([`ReplayHints`]; `hints: false`), or the fit classes of every view it is
    /// given (`classes: false`: a policy that remembers refused preemption searches by class,
    /// [`flexsim_sim::policy::RefusedSearches`], then searches in full every time).
    struct Without {
        inner: Box<dyn Policy>,
        hints: bool,
        classes: bool,
    }

    /// `inner` without its promises.
    fn no_hints(inner: Box<dyn Policy>) -> Without {
        Without {
            inner,
            hints: false,
            classes: true,
        }
    }

    /// `inner` without fit classes in its views.
    fn no_classes(inner: Box<dyn Policy>) -> Without {
        Without {
            inner,
            hints: true,
            classes: false,
        }
    }

    impl Without {
        fn view<'a>(&self, v: &JobsView<'a>) -> JobsView<'a> {
            JobsView {
                fit_class: if self.classes { v.fit_class } else { &[] },
                ..*v
            }
        }
    }

    impl Policy for Without {
        fn name(&self) -> &str {
            self.inner.name()
        }
        fn prepare(&mut self, setup: &Setup<'_>) {
            self.inner.prepare(setup)
        }
        fn preferred_slicing(&self) -> Option<SlicingMode> {
            self.inner.preferred_slicing()
        }
        fn uses_topology(&self) -> bool {
            self.inner.uses_topology()
        }
        fn place(&mut self, c: &Cluster, j: PodId, p: &Pod, r: &mut SimRng) -> Option<Placement> {
            self.inner.place(c, j, p, r)
        }
        fn place_gang(
            &mut self,
            c: &Cluster,
            j: PodId,
            p: &Pod,
            r: &mut SimRng,
        ) -> Option<GangPlacement> {
            self.inner.place_gang(c, j, p, r)
        }
        fn place_remote(
            &mut self,
            c: &Cluster,
            j: PodId,
            p: &Pod,
            r: &mut SimRng,
        ) -> Option<RemotePlacement> {
            self.inner.place_remote(c, j, p, r)
        }
        /// Without promises: the promised key order as the full walk's sort (stable: equal
        /// keys keep their order), for a policy that orders by key instead of in
        /// `order_queue`.
        fn order_queue(&mut self, jobs: &JobsView<'_>, queue: &mut [QueuedJob]) {
            let jobs = &self.view(jobs);
            if !self.hints && self.inner.replay_hints().keyed_queue {
                let keys: std::collections::HashMap<PodId, _> = queue
                    .iter()
                    .map(|q| (q.pod, self.inner.queue_key(jobs, q)))
                    .collect();
                queue.sort_by_key(|q| keys[&q.pod]);
            } else {
                self.inner.order_queue(jobs, queue)
            }
        }
        fn discipline(&self) -> Discipline {
            self.inner.discipline()
        }
        fn begin_pass(&mut self, jobs: &JobsView<'_>) {
            let jobs = &self.view(jobs);
            self.inner.begin_pass(jobs)
        }
        fn queue_key(&mut self, jobs: &JobsView<'_>, job: &QueuedJob) -> QueueKey {
            let jobs = &self.view(jobs);
            self.inner.queue_key(jobs, job)
        }
        fn preempt(&mut self, c: &Cluster, j: PodId, p: &Pod, v: &JobsView<'_>) -> Vec<PodId> {
            let v = &self.view(v);
            self.inner.preempt(c, j, p, v)
        }
        fn next_wake(&mut self, jobs: &JobsView<'_>, waiting: &[QueuedJob]) -> Option<u64> {
            let jobs = &self.view(jobs);
            self.inner.next_wake(jobs, waiting)
        }
        fn jobs_changed(&mut self, jobs: &JobsView<'_>, changes: &[JobChange]) {
            let jobs = &self.view(jobs);
            self.inner.jobs_changed(jobs, changes)
        }
        fn replay_hints(&self) -> ReplayHints {
            if self.hints {
                self.inner.replay_hints()
            } else {
                ReplayHints::NONE
            }
        }
    }

    /// The preemptive policies answer a repeated search from what they remember of the last
    /// refused one (only the nodes changed since are searched; `hi` also keeps each unchanged
    /// node's victim set from the class's last search): every job and figure must be the same
    /// as when they search in full every time. Saturated runs, where most searches are
    /// repeats.
    #[test]
    fn remembered_refusals_give_the_same_replay_as_full_searches() {
        let cases = [
            (small_synth_fleet(), contended(1500, 2.0)),
            (fleet("traces/fleets/mixed.toml"), contended(1500, 1.0)),
        ];
        let registry = flexsim_policies::Registry::shipped();
        let mut preempted = 0;
        for name in ["tiresias", "hi", "hi-priority"] {
            for (f, w) in &cases {
                let build = || registry.build(name).unwrap().policy;
                let config = replay::ReplayConfig::default();
                let a = replay::run(f, w, build().as_mut(), &config).unwrap();
                let b = replay::run(f, w, &mut no_classes(build()), &config).unwrap();
                preempted += a.jobs.iter().filter(|j| j.preemptions > 0).count();
                if let Some((x, y)) = a
                    .jobs
                    .iter()
                    .zip(&b.jobs)
                    .find(|(x, y)| format!("{x:?}") != format!("{y:?}"))
                {
                    panic!(
                        "{name} on {}: job {} differs:\n remembered {x:?}\n full {y:?}",
                        f.name, x.pod
                    );
                }
                assert_eq!(
                    format!("{:?}", (a.figures, a.timeseries)),
                    format!("{:?}", (b.figures, b.timeseries)),
                    "{name} on {}: the figures differ",
                    f.name
                );
            }
        }
        // The runs preempt (the searches found victims, not only refusals).
        assert!(preempted >= 100, "{preempted} preempted jobs");
    }

    /// A saturated synthetic trace: `jobs` jobs arriving 10× faster than `fleet` drains them.
    fn contended(jobs: usize, interarrival_s: f64) -> Workload {
        generate(&SynthParams {
            jobs,
            seed: 7,
            interarrival_s,
            share_latency_sensitive: 0.3,
            ..SynthParams::default()
        })
    }

    fn small_synth_fleet() -> Fleet {
        let path = repo("traces/fleets/synth-10k.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("count = 1250"));
        Fleet::parse_toml(&path, &text.replace("count = 1250", "count = 6")).unwrap()
    }

    #[test]
    fn every_shipped_policy_gives_the_same_replay_with_its_promises_as_without() {
        let cases = [
            (small_synth_fleet(), contended(1500, 2.0)),
            (fleet("traces/fleets/mixed.toml"), contended(1500, 1.0)),
        ];
        let registry = flexsim_policies::Registry::shipped();
        let (mut promised, mut compared, mut contended) = (0, 0, 0);
        for info in registry.infos() {
            for (f, w) in &cases {
                let build = || registry.build(info.name).unwrap().policy;
                let mut with = build();
                if with.replay_hints() != ReplayHints::NONE {
                    promised += 1;
                }
                let config = replay::ReplayConfig::default();
                let a = replay::run(f, w, with.as_mut(), &config);
                let b = replay::run(f, w, &mut no_hints(build()), &config);
                // A policy whose slicing mode the fleet lacks is refused alike.
                let (a, b) = match (a, b) {
                    (Ok(a), Ok(b)) => (a, b),
                    (a, b) => {
                        assert_eq!(format!("{:?}", a.err()), format!("{:?}", b.err()));
                        continue;
                    }
                };
                compared += 1;
                contended += u32::from(a.timeseries.iter().any(|r| r.point.waiting >= 100));
                let waited = a.figures.clone();
                if let Some((x, y)) = a
                    .jobs
                    .iter()
                    .zip(&b.jobs)
                    .find(|(x, y)| format!("{x:?}") != format!("{y:?}"))
                {
                    panic!(
                        "{} on {}: job {} differs:\n with promises {x:?}\n without {y:?}",
                        info.name, f.name, x.pod
                    );
                }
                assert_eq!(
                    format!("{:?}", (waited, a.timeseries, a.energy)),
                    format!("{:?}", (b.figures, b.timeseries, b.energy)),
                    "{} on {}: the figures differ",
                    info.name,
                    f.name
                );
            }
        }
        // The check means something: most shipped policies promise something, and most
        // runs had a long queue.
        assert!(promised >= 2 * 12, "{promised} promising runs");
        assert!(
            contended * 4 >= compared * 3,
            "{contended} of {compared} contended"
        );
    }
}
