//! Fuzz targets for every reader of flexsim's inputs, shared by the AFL++ binary (`afl`,
//! feature `afl`) and the plain corpus replay (`replay-corpus`, and `tests/corpus.rs`), so
//! that CI runs exactly the code the fuzzer runs.
//!
//! A target takes arbitrary bytes and must never panic. Besides "no panic", each checks what
//! its reader promises of what it accepts (the oracles are in each function's doc): a fuzzer
//! then finds wrong answers, not only crashes.

pub mod mutate;

use flexsim_sim::input::trace::{
    acme, detect_source, dlrm, helios, k8s, native, openb, pai, philly, spot_gpu, tiresias,
};
use flexsim_sim::model::catalog::Catalog;
use flexsim_sim::model::cluster::Cluster;
use flexsim_sim::model::fleet::{Fleet, FleetDevice};
use flexsim_sim::model::job::{Pod, Workload};
use flexsim_sim::model::perf::PerfParams;
use flexsim_sim::model::profile::DeviceProfile;
use flexsim_sim::model::slicing::SlicingMode;
use flexsim_sim::model::units::GPU_MILLI;
use flexsim_sim::output::regress::{self, Direction, Status};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// One reader under fuzzing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    /// `input::trace::native::parse`
    Native,
    /// `input::trace::openb::parse`
    Openb,
    /// `input::trace::dlrm::parse`
    Dlrm,
    /// `input::trace::pai::parse` (the task table alone: no sibling tables beside it)
    Pai,
    /// `input::trace::spot_gpu::parse` and the spot-GPU node list as a fleet
    SpotGpu,
    /// `input::trace::k8s::parse` and the snapshot's nodes as a fleet
    K8s,
    /// `Fleet::parse_toml`
    FleetToml,
    /// `Fleet::parse_openb_csv`
    FleetCsv,
    /// `DeviceProfile::from_toml_str`
    ProfileToml,
    /// a golden summary: JSON parse, then `output::regress::compare` against a fixed run
    Golden,
    /// `input::trace::tiresias::parse`
    Tiresias,
    /// `input::trace::philly::parse` (JSON)
    Philly,
    /// `input::trace::helios::parse`
    Helios,
    /// `input::trace::acme::parse`
    Acme,
    /// `input::philly_machines::parse_noting` (a fleet)
    PhillyMachines,
}

/// What a target made of one input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The reader accepted it (and the oracles held).
    Accepted,
    /// The reader refused it with an error.
    Refused,
    /// The harness did not hand it to the reader (see [`Target::run`]).
    Skipped,
}

impl Target {
    pub const ALL: [Target; 15] = [
        Target::Native,
        Target::Openb,
        Target::Dlrm,
        Target::Pai,
        Target::SpotGpu,
        Target::K8s,
        Target::FleetToml,
        Target::FleetCsv,
        Target::ProfileToml,
        Target::Golden,
        Target::Tiresias,
        Target::Philly,
        Target::Helios,
        Target::Acme,
        Target::PhillyMachines,
    ];

    /// The target's name: its corpus folder and the `afl` binary's argument.
    pub fn name(self) -> &'static str {
        match self {
            Target::Native => "native",
            Target::Openb => "openb",
            Target::Dlrm => "dlrm",
            Target::Pai => "pai",
            Target::SpotGpu => "spot_gpu",
            Target::K8s => "k8s",
            Target::FleetToml => "fleet_toml",
            Target::FleetCsv => "fleet_csv",
            Target::ProfileToml => "profile_toml",
            Target::Golden => "golden",
            Target::Tiresias => "tiresias",
            Target::Philly => "philly",
            Target::Helios => "helios",
            Target::Acme => "acme",
            Target::PhillyMachines => "philly_machines",
        }
    }

    pub fn from_name(name: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Feeds `data` to the target's reader and checks its oracles; panics on a violation.
    pub fn run(self, data: &[u8]) -> Verdict {
        match self {
            Target::Native => native_trace(data),
            Target::Openb => openb_trace(data),
            Target::Dlrm => dlrm_trace(data),
            Target::Pai => pai_trace(data),
            Target::SpotGpu => spot_gpu_trace(data),
            Target::K8s => k8s_snapshot(data),
            Target::FleetToml => fleet_toml(data),
            Target::FleetCsv => fleet_csv(data),
            Target::ProfileToml => profile_toml(data),
            Target::Golden => golden(data),
            Target::Tiresias => job_trace(
                data,
                "fuzz/tiresias.csv",
                |p, d| tiresias::parse(p, d),
                false,
            ),
            Target::Philly => job_trace(
                data,
                "fuzz/cluster_job_log",
                |p, d| philly::parse(p, d),
                true,
            ),
            Target::Helios => job_trace(
                data,
                "fuzz/cluster_log.csv",
                |p, d| helios::parse(p, d),
                true,
            ),
            Target::Acme => job_trace(data, "fuzz/trace_seren.csv", |p, d| acme::parse(p, d), true),
            Target::PhillyMachines => philly_machines(data),
        }
    }
}

/// The fuzz crate's folder (corpus, crashes).
pub fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn verdict<T, E: std::fmt::Display>(r: &Result<T, E>) -> Verdict {
    match r {
        Ok(_) => Verdict::Accepted,
        Err(e) => {
            // Error messages are part of the contract: building one must not panic either.
            let _ = e.to_string();
            Verdict::Refused
        }
    }
}

/// What every trace reader promises of the pods it returns: at least one, unique names, the
/// converter's GPU rules (milli ≤ 1000, CPU-only iff no GPUs or no milli), demand in
/// 1..=1000 milli, RDMA ≤ 100 %, no zero density limit.
fn check_workload(w: &Workload) {
    assert!(!w.pods.is_empty(), "an accepted trace has jobs");
    let mut names = BTreeSet::new();
    for p in &w.pods {
        assert!(names.insert(p.name.as_str()), "{}: name twice", p.name);
        assert!(!p.name.is_empty());
        assert!(
            p.gpu_milli <= GPU_MILLI,
            "{}: {} milli",
            p.name,
            p.gpu_milli
        );
        assert_eq!(
            p.num_gpu == 0,
            p.gpu_milli == 0,
            "{}: CPU-only rule",
            p.name
        );
        if let Some(d) = p.demand_milli {
            assert!((1..=GPU_MILLI).contains(&d), "{}: demand {d}", p.name);
        }
        assert!(p.rdma_pct <= 100, "{}: RDMA {} %", p.name, p.rdma_pct);
        assert_ne!(p.max_per_node, Some(0), "{}: density limit 0", p.name);
    }
    // Feasibility on a small fleet must not trip on an accepted request (the first few: the
    // readers' output, not the cluster, is under test here).
    for p in w.pods.iter().take(4) {
        let c = small_cluster();
        let mut out = Vec::new();
        c.feasible_nodes(p, &mut out);
        for &n in &out {
            let gpus = flexsim_sim::policy::gpu_select::best(c.node(n), p).expect("fits");
            let placement = flexsim_sim::model::cluster::Placement { node: n, gpus };
            assert!(
                c.check(p, &placement).is_ok(),
                "{}: fits but refused",
                p.name
            );
        }
    }
}

/// Two nodes, MIG A100s and fractional T4s, for feasibility checks of accepted pods.
fn small_cluster() -> &'static Cluster {
    static C: OnceLock<Cluster> = OnceLock::new();
    C.get_or_init(|| {
        let text = r#"
[models.A100-40]
slicing = "mig"
[models.T4]
slicing = "hami"
[[groups]]
name = "a"
count = 1
cpu_milli = 64000
memory_mib = 262144
model = "A100-40"
devices = 4
[[groups]]
name = "t"
count = 1
cpu_milli = 32000
memory_mib = 131072
model = "T4"
devices = 2
"#;
        Cluster::new(&Fleet::parse_toml(Path::new("small.toml"), text).expect("small fleet"))
    })
}

/// Native traces. Oracles: [`check_workload`], and the module's promise that
/// [`native::write`] then [`native::parse`] gives back the same pods.
pub fn native_trace(data: &[u8]) -> Verdict {
    let path = Path::new("fuzz/native.csv");
    let _ = detect_source(path, data);
    let r = native::parse(path, data);
    if let Ok(w) = &r {
        check_workload(w);
        let mut out = Vec::new();
        native::write(w, &mut out).expect("writing to memory");
        let back = native::parse(path, out.as_slice())
            .unwrap_or_else(|e| panic!("a written trace does not read back: {e}"));
        assert_eq!(&back, w, "write then parse changed the pods");
    }
    verdict(&r)
}

/// openb pod lists. Oracles: [`check_workload`]; arrival is the creation time and work the
/// scheduled→deletion span, in ms.
pub fn openb_trace(data: &[u8]) -> Verdict {
    let path = Path::new("fuzz/openb.csv");
    let _ = detect_source(path, data);
    let r = openb::parse(path, data);
    if let Ok(w) = &r {
        check_workload(w);
        for p in &w.pods {
            let created = p.creation_time_s().unwrap_or(0).checked_mul(1000);
            assert_eq!(Some(p.arrival_ms), created, "{}: arrival", p.name);
            if let (Some(s), Some(d), Some(work)) =
                (p.scheduled_time_s(), p.deletion_time_s(), p.work_ms)
            {
                let span = d.checked_sub(s).and_then(|x| x.checked_mul(1000));
                assert_eq!(Some(work), span, "{}: work", p.name);
            }
        }
    }
    verdict(&r)
}

/// DLRM instances. Oracles: [`check_workload`]; whole GPUs only; CN instances are CPU-only.
pub fn dlrm_trace(data: &[u8]) -> Verdict {
    let path = Path::new("fuzz/dlrm.csv");
    let _ = detect_source(path, data);
    let r = dlrm::parse(path, data);
    if let Ok(w) = &r {
        check_workload(w);
        for p in &w.pods {
            assert!(p.num_gpu == 0 || p.gpu_milli == GPU_MILLI, "{}", p.name);
            assert!(p.latency_sensitive && p.priority == dlrm::DLRM_PRIORITY);
        }
    }
    verdict(&r)
}

/// The published job traces (Tiresias, Philly, Helios, Acme). Oracles: [`check_workload`];
/// every job kept has work (the readers skip, and count, those without); a stated gang has at
/// least two parts whose GPUs make up the job's; where the reader puts time 0 at the earliest
/// submission (`rebased`), some job arrives at 0 and its trace times are on that clock.
pub fn job_trace(
    data: &[u8],
    name: &str,
    parse: fn(&Path, &[u8]) -> Result<Workload, flexsim_sim::error::InputError>,
    rebased: bool,
) -> Verdict {
    let path = Path::new(name);
    let _ = detect_source(path, data);
    let r = parse(path, data);
    if let Ok(w) = &r {
        check_workload(w);
        for p in &w.pods {
            assert!(p.work_ms.is_some_and(|w| w > 0), "{}: no work", p.name);
            if let Some(g) = p.gang {
                assert!(
                    g.num_nodes >= 2 && g.gpus_per_node >= 1,
                    "{}: {g:?}",
                    p.name
                );
                assert_eq!(g.num_nodes * g.gpus_per_node, p.num_gpu, "{}: gang", p.name);
            }
            if rebased {
                assert_eq!(p.creation_time_s().map(|s| s * 1000), Some(p.arrival_ms));
                assert!(
                    p.scheduled_time_s() >= p.creation_time_s(),
                    "{}: start",
                    p.name
                );
            }
        }
        if rebased {
            assert_eq!(w.pods.iter().map(|p| p.arrival_ms).min(), Some(0));
        }
    }
    verdict(&r)
}

/// Philly machine lists. Oracles as for [`fleet_toml`]; every GPU model is one of the
/// mapping's, with its memory.
pub fn philly_machines(data: &[u8]) -> Verdict {
    let path = Path::new("fuzz/cluster_machine_list");
    let r = flexsim_sim::input::philly_machines::parse_noting(path, data, &mut Vec::new());
    if let Ok(f) = &r {
        check_fleet(f);
        for (name, d) in &f.devices {
            let mapped = flexsim_sim::input::philly_machines::MODELS
                .iter()
                .find(|(_, m, _)| m == name);
            assert_eq!(mapped.map(|m| m.2), Some(d.model.memory_mib), "{name}");
        }
    }
    verdict(&r)
}

/// PAI 2020 task tables. Oracles: [`check_workload`]; a gang's devices are its parts' product.
pub fn pai_trace(data: &[u8]) -> Verdict {
    // A directory with no sibling tables: the fuzzer must not read the machine's files.
    let path = Path::new("fuzz/no-such-dir/pai_task_table.csv");
    let _ = detect_source(path, data);
    let r = pai::parse(path, data);
    if let Ok(w) = &r {
        check_workload(w);
        check_gangs(w);
    }
    verdict(&r)
}

/// Spot-GPU job files, and the same bytes as a node list. Oracles: [`check_workload`]; gangs
/// multiply out; HP jobs are latency-sensitive at priority 3, Spot jobs at 0.
pub fn spot_gpu_trace(data: &[u8]) -> Verdict {
    let path = Path::new("fuzz/job_info_df.csv");
    let _ = detect_source(path, data);
    let nodes = flexsim_sim::input::spot_gpu_nodes::parse_noting(path, data, &mut Vec::new());
    if let Ok(n) = &nodes {
        check_nodes(n);
    }
    let r = spot_gpu::parse(path, data);
    if let Ok(w) = &r {
        check_workload(w);
        check_gangs(w);
        for p in &w.pods {
            let hp = p.qos.as_deref() == Some("HP");
            assert_eq!(p.latency_sensitive, hp, "{}", p.name);
            assert_eq!(p.priority, if hp { 3 } else { 0 }, "{}", p.name);
        }
    }
    // The corpus holds both files of the format: either reader accepting is acceptance.
    match (verdict(&r), verdict(&nodes)) {
        (Verdict::Refused, Verdict::Refused) => Verdict::Refused,
        _ => Verdict::Accepted,
    }
}

/// Kubernetes snapshots: the pods as a trace, the nodes as a fleet. Oracles:
/// [`check_workload`] on the pods; every node with devices names a catalog model; what the
/// pods reader accepts, the nodes reader parses the same way (both read one stream).
pub fn k8s_snapshot(data: &[u8]) -> Verdict {
    let path = Path::new("fuzz/snapshot.json");
    let _ = detect_source(path, data);
    let nodes = flexsim_sim::input::k8s_nodes::parse_noting(path, data, &mut Vec::new());
    if let Ok(n) = &nodes {
        check_nodes(n);
    }
    let r = k8s::parse(path, data);
    if let Ok(w) = &r {
        check_workload(w);
        for p in &w.pods {
            assert!(
                p.work_ms.is_some(),
                "{}: every snapshot pod has work",
                p.name
            );
        }
    }
    verdict(&r)
}

fn check_gangs(w: &Workload) {
    for p in &w.pods {
        if let Some(g) = p.gang {
            assert!(
                g.num_nodes >= 2 && g.gpus_per_node >= 1,
                "{}: {g:?}",
                p.name
            );
            assert_eq!(
                u64::from(g.num_nodes) * u64::from(g.gpus_per_node),
                u64::from(p.num_gpu),
                "{}: gang shape",
                p.name
            );
        }
    }
}

/// Nodes read from a trace's machine list: unique names; a node with devices names a catalog
/// model.
fn check_nodes(nodes: &[flexsim_sim::model::fleet::NodeSpec]) {
    let mut names = BTreeSet::new();
    for n in nodes {
        assert!(names.insert(n.name.as_str()), "{}: node twice", n.name);
        if n.gpus > 0 {
            assert!(
                Catalog::preset(&n.model).is_some(),
                "{}: {}",
                n.name,
                n.model
            );
        }
    }
}

/// At most this many nodes in a fleet the harness hands to the TOML reader: `count` is a u32
/// per group and the reader builds every node, so a large count is a (known, reported)
/// out-of-memory rather than a finding worth re-finding on every run.
pub const MAX_FLEET_NODES: u64 = 100_000;

/// TOML fleet files. Relative profile paths resolve in `corpus/profile_toml/` (so the
/// fuzzer reaches the profile code with real profiles); inputs naming an absolute or `..`
/// profile path, or more than [`MAX_FLEET_NODES`] nodes, are skipped. Oracles: at least one
/// node; every node with devices has its model, in a mode the model supports; the fleet
/// builds a cluster of the right capacity.
pub fn fleet_toml(data: &[u8]) -> Verdict {
    let Ok(text) = std::str::from_utf8(data) else {
        return Verdict::Skipped;
    };
    if let Ok(table) = text.parse::<toml::Table>() {
        let nodes: u64 = table
            .get("groups")
            .and_then(|g| g.as_array())
            .into_iter()
            .flatten()
            .filter_map(|g| g.get("count").and_then(|c| c.as_integer()))
            .map(|c| c.max(0) as u64)
            .sum();
        let escapes = table
            .get("models")
            .and_then(|m| m.as_table())
            .into_iter()
            .flat_map(|m| m.values())
            .filter_map(|m| m.get("profile").and_then(|p| p.as_str()))
            .any(|p| {
                let p = Path::new(p);
                p.is_absolute() || p.components().any(|c| c.as_os_str() == "..")
            });
        if nodes > MAX_FLEET_NODES || escapes {
            return Verdict::Skipped;
        }
    }
    let path: PathBuf = crate_dir().join("corpus/profile_toml/fleet.toml");
    let r = Fleet::parse_toml(&path, text);
    if let Ok(f) = &r {
        check_fleet(f);
    }
    verdict(&r)
}

/// openb node lists. Oracles as for [`fleet_toml`], and the openb conventions: every device
/// model in the GPU-share mode.
pub fn fleet_csv(data: &[u8]) -> Verdict {
    let r = Fleet::parse_openb_csv(Path::new("fuzz/nodes.csv"), data);
    if let Ok(f) = &r {
        check_fleet(f);
        assert!(f.devices.values().all(|d| d.mode == SlicingMode::SHARE));
    }
    verdict(&r)
}

fn check_fleet(f: &Fleet) {
    assert!(!f.nodes.is_empty(), "an accepted fleet has nodes");
    let mut names = BTreeSet::new();
    for n in &f.nodes {
        assert!(names.insert(n.name.as_str()), "node {} twice", n.name);
        if n.gpus > 0 {
            let d = f.devices.get(&n.model).unwrap_or_else(|| {
                panic!("node {} names model {:?} the fleet lacks", n.name, n.model)
            });
            assert!(
                d.model.supports(d.mode.kind()),
                "{}: unsupported mode",
                n.model
            );
        }
    }
    // The readers accept up to u32::MAX devices on a node and nodes in a group, and the
    // cluster allocates per card (a known, reported out-of-memory: crashes/README.md): build
    // one only for fleets of a sane size.
    if f.nodes.len() <= 1_000 && f.gpu_count() <= 10_000 {
        let c = Cluster::new(f);
        assert_eq!(c.gpu_capacity_milli(), f.gpu_count() * u64::from(GPU_MILLI));
        let probe = Pod::new("probe", 1000, 1024, 1, 500);
        let mut out = Vec::new();
        c.feasible_nodes(&probe, &mut out);
        for &n in &out {
            assert!(c.node(n).fits(&probe));
        }
    }
}

/// Device profiles. Oracles: what the reader accepts passes `validate`, serialises back to
/// TOML that reads back to the same TOML (byte-identical on the second round, which also
/// holds for NaN fields where `==` would not), and applies to a fleet device with finite
/// performance parameters in range.
pub fn profile_toml(data: &[u8]) -> Verdict {
    let Ok(text) = std::str::from_utf8(data) else {
        return Verdict::Skipped;
    };
    let path = Path::new("fuzz/profile.toml");
    let r = DeviceProfile::from_toml_str(text, path);
    if let Ok(p) = &r {
        p.validate().expect("an accepted profile is valid");
        let once = p
            .to_toml_string(path)
            .expect("an accepted profile serialises");
        let back = DeviceProfile::from_toml_str(&once, path)
            .unwrap_or_else(|e| panic!("a written profile does not read back: {e}\n{once}"));
        let twice = back.to_toml_string(path).expect("serialises again");
        assert_eq!(once, twice, "profile TOML round trip is not stable");
        let model = Catalog::preset("A100-40").expect("preset");
        let mut d = FleetDevice::new(model, SlicingMode::FLEXAI_VGPU);
        d.apply_profile(path, p, PerfParams::DEFAULT);
        if let Some(perf) = d.perf {
            assert!((0.0..=1.0).contains(&perf.interference_base), "{perf:?}");
            assert!(perf.switch_cost_ms.is_finite() && perf.switch_cost_ms >= 0.0);
        }
    }
    verdict(&r)
}

/// The fixed run summary a fuzzed golden file is compared with (a shipped golden).
fn fixed_run() -> &'static Value {
    static V: OnceLock<Value> = OnceLock::new();
    V.get_or_init(|| {
        serde_json::from_str(include_str!(
            "../../results/golden/replay-openb-default-best-fit-whole-s42.json"
        ))
        .expect("the shipped golden is JSON")
    })
}

/// Golden summaries, as `flexsim regress` reads them: JSON, then
/// [`regress::compare`] against a fixed run both ways, with and without tolerances from the
/// input's lines. Oracles: a summary compared with itself has no regression; moving a
/// compared metric (when no two leaves share a flattened name) by 1000 is seen, as
/// a regression or an improvement according to its direction — or, under an identity key,
/// as a different run.
pub fn golden(data: &[u8]) -> Verdict {
    if let Ok(text) = std::str::from_utf8(data) {
        for line in text.lines().take(64) {
            let _ = regress::parse_tolerance(line);
        }
    }
    let r = serde_json::from_slice::<Value>(data);
    let Ok(v) = &r else {
        return verdict(&r);
    };
    let none = BTreeMap::new();
    let _ = regress::compare(fixed_run(), v, &none).map(|rows| regress::has_regression(&rows));
    let _ = regress::compare(v, fixed_run(), &none).map(|rows| regress::has_regression(&rows));
    let leaves = regress::numeric_leaves(v);
    let some: BTreeMap<String, f64> = leaves.keys().take(8).map(|k| (k.clone(), 0.5)).collect();
    let _ = regress::compare(v, fixed_run(), &some);
    // A damaged summary (no metrics, a headline metric missing, a non-number) is refused as
    // a golden file; anything else is the same run as itself, with no regression.
    let rows = match regress::compare(v, v, &none) {
        Ok(rows) => rows,
        Err(e) if e.side().is_some() => return Verdict::Refused,
        Err(e) => panic!("a summary is not the same run as itself: {e:?}"),
    };
    assert!(
        !regress::has_regression(&rows),
        "a summary regresses against itself"
    );
    // Move numeric leaves one at a time, by JSON path: three per input, from a place the
    // input chooses, so that over many inputs every leaf is moved.
    let mut paths = Vec::new();
    numeric_paths(v, &mut Vec::new(), &mut paths);
    let unique = paths.len() == leaves.len();
    let from = data.len() % paths.len().max(1);
    let chosen = paths.iter().cycle().skip(from).take(3.min(paths.len()));
    for path in chosen.filter(|_| unique) {
        let flat = path.join(".");
        let under_identity = regress::IDENTITY_KEYS.contains(&path[0].as_str());
        // Text leaves (a profile name, null when there is none) are not metrics either.
        if regress::IGNORED_KEYS.contains(&flat.as_str())
            || regress::IDENTITY_KEYS.contains(&flat.as_str())
            || (!under_identity && !regress::is_metric(&flat))
        {
            continue;
        }
        let mut moved = v.clone();
        let leaf = path
            .iter()
            .try_fold(&mut moved, |at, k| at.get_mut(k.as_str()))
            .expect("the path exists");
        let old = leaf.as_f64();
        let new = match old {
            Some(b) if b.abs() < 1e12 => b + 1000.0,
            Some(_) => 0.0,
            None => 1.0,
        };
        *leaf = serde_json::Number::from_f64(new).expect("finite").into();
        match regress::compare(v, &moved, &none) {
            Err(regress::CompareError::DifferentRun { .. }) if under_identity => {}
            Err(e) => panic!("{flat}: moving a metric made the runs incomparable: {e}"),
            Ok(_) if under_identity => panic!("{flat}: moved an identity leaf unnoticed"),
            Ok(rows) => {
                let row = rows
                    .iter()
                    .find(|r| r.metric == flat)
                    .unwrap_or_else(|| panic!("{flat}: the moved metric is not compared"));
                let expected = match (old, regress::direction(&flat)) {
                    (None, _) => Status::Regression,
                    (Some(_), Direction::MustNotMove) => Status::Regression,
                    (Some(b), d) => {
                        let up = new > b;
                        if (d == Direction::HigherIsBetter) == up {
                            Status::Better
                        } else {
                            Status::Regression
                        }
                    }
                };
                assert_eq!(row.status, expected, "{flat}: {old:?} → {new}");
            }
        }
    }
    Verdict::Accepted
}

/// The JSON paths of every numeric or null leaf under objects (arrays are not walked, as
/// [`regress::numeric_leaves`] does not walk them).
fn numeric_paths(v: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                at.push(k.clone());
                numeric_paths(child, at, out);
                at.pop();
            }
        }
        Value::Number(_) | Value::Null if !at.is_empty() => out.push(at.clone()),
        _ => {}
    }
}

/// The corpus files of `target`, sorted by name.
pub fn corpus(target: Target) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = crate_dir().join("corpus").join(target.name());
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let data = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, data)
        })
        .collect()
}

/// What a corpus replay did for one target.
#[derive(Debug, Clone, Default)]
pub struct ReplayStats {
    pub files: usize,
    pub execs: u64,
    pub accepted: u64,
    pub refused: u64,
    pub skipped: u64,
    /// Inputs that panicked, saved under `crashes/`.
    pub crashes: Vec<PathBuf>,
    pub seconds: f64,
}

/// Feeds every corpus file of `target`, then `mutations` deterministic mutants of each
/// ([`mutate::mutate`], seeded by target, file and index), through the target. A panicking
/// input is saved as `crashes/<target>-<hash>` and counted; the replay goes on.
pub fn replay(target: Target, mutations: u32) -> ReplayStats {
    let files = corpus(target);
    let mut stats = ReplayStats {
        files: files.len(),
        ..ReplayStats::default()
    };
    let started = std::time::Instant::now();
    let all: Vec<&[u8]> = files.iter().map(|(_, d)| d.as_slice()).collect();
    // For an input that aborts the process (out of memory, stack overflow), which no
    // `catch_unwind` sees: FLEXSIM_FUZZ_LAST=FILE keeps the input being run in FILE.
    let last = std::env::var_os("FLEXSIM_FUZZ_LAST").map(PathBuf::from);
    for (i, (_, data)) in files.iter().enumerate() {
        let mut one = |input: &[u8]| {
            stats.execs += 1;
            if let Some(last) = &last {
                let _ = std::fs::write(last, input);
            }
            match std::panic::catch_unwind(|| target.run(input)) {
                Ok(Verdict::Accepted) => stats.accepted += 1,
                Ok(Verdict::Refused) => stats.refused += 1,
                Ok(Verdict::Skipped) => stats.skipped += 1,
                Err(_) => stats.crashes.push(save_crash(target, input)),
            }
        };
        one(data);
        for m in 0..mutations {
            let seed = (target as u64) << 48 | (i as u64) << 32 | u64::from(m);
            one(&mutate::mutate(data, &all, seed));
        }
    }
    stats.seconds = started.elapsed().as_secs_f64();
    stats
}

fn save_crash(target: Target, input: &[u8]) -> PathBuf {
    // FNV-1a: a stable name for the same input.
    let hash = input.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let dir = crate_dir().join("crashes");
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(format!("{}-{hash:016x}", target.name()));
    let _ = std::fs::write(&path, input);
    path
}
