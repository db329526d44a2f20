//! Cross-validation against the Tiresias authors' own simulator (the "peer",
//! `tests/crossval/README.md`): flexsim replays each `tests/crossval/*/trace.csv` with the peer's
//! settings — restart cost 0, whole cards, and for the GPU-counting schedulers one node holding
//! every GPU (`fleet-pool.toml`) — and every job's completion time is compared with the peer's.
//!
//! The bar (issue 8): at least 99 % of the jobs with the same JCT within 1 s, and the mean JCT
//! within 0.5 % of the peer's. The schedulers and what they are compared with:
//!
//! | flexsim | peer |
//! |---|---|
//! | `fifo` (strict, head-of-line blocking) | `fifo --scheme=count` (`fifo-count.csv`) |
//! | `fifo-skip` | `fjf --scheme=count` (`fjf-count.csv`) |
//! | `tiresias[order=running-first]` | `dlas-gpu-exact` (3 queues, 3,250:7,200 GPU-s) |
//! | `tiresias[thresholds=3600,order=running-first]` | `dlas-gpu-2q-exact` |
//!
//! flexsim demotes at the exact instant, so its `tiresias` is held to the `-exact` references
//! (the peer with its demotion-time bug fixed); against the plain peer, the jobs that differ are
//! shown to be exactly those the peer's own fix moves — and `tiresias[demotion=peer]`, which
//! applies the peer's rule, is held to the plain peer (`dlas-gpu`, `dlas-gpu-2q`). The `yarn`
//! runs (`fifo.csv`, `fjf.csv`) place jobs larger than a 4-GPU node as gangs over several
//! nodes: `fifo[placement=first-fit]` and `fifo-skip[placement=first-fit]` are held to them on
//! the real nodes (`fleet.toml`), with the peer's gang rule ([`flexsim_sim::policy::gang::yarn`])
//! and no cross-node slowdown. `cargo test --release --test crossval -- --nocapture` prints the
//! agreement table of `tests/crossval/README.md` ("Agreement with flexsim").

use flexsim_sim::engine::replay::{self, ReplayConfig};
use flexsim_sim::model::fleet::Fleet;
use flexsim_sim::model::slicing::SlicingMode;
use std::path::{Path, PathBuf};

fn dir(trace: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/crossval")
        .join(trace)
}

/// Each job's name and JCT in seconds (`None`: did not finish), in trace order.
type Jcts = Vec<(String, Option<f64>)>;

/// flexsim's JCTs for `policy` on `trace`'s pool fleet, restart cost 0.
fn flexsim(trace: &str, policy: &str) -> Jcts {
    flexsim_on(trace, "fleet-pool.toml", policy)
}

/// flexsim's JCTs for `policy` on `trace`'s `fleet` file, restart cost 0 and no cross-node
/// slowdown (the peer has none). Only the pool fleets are one node.
fn flexsim_on(trace: &str, fleet: &str, policy: &str) -> Jcts {
    let d = dir(trace);
    let workload = flexsim_sim::input::trace::read_any(&d.join("trace.csv")).unwrap();
    let mut fleet_model = Fleet::read(&d.join(fleet)).unwrap();
    let mut p = flexsim_policies::build(policy).unwrap().policy;
    if let Some(mode) = p.preferred_slicing() {
        fleet_model.prefer_mode(mode);
    }
    for device in fleet_model.devices.values() {
        assert_eq!(device.mode, SlicingMode::Whole, "the peer runs whole cards");
    }
    if fleet == "fleet-pool.toml" {
        assert_eq!(
            fleet_model.nodes.len(),
            1,
            "the peer's dlas-gpu and count schemes see one pool"
        );
    }
    let mut config = ReplayConfig {
        restart_cost_ms: 0,
        ..Default::default()
    };
    config.perf.cross_node_factor = 1.0;
    let o = replay::run(&fleet_model, &workload, p.as_mut(), &config).unwrap();
    o.jobs
        .iter()
        .zip(&workload.pods)
        .map(|(j, pod)| {
            (
                pod.name.to_string(),
                j.jct_ms().map(|ms| ms as f64 / 1000.0),
            )
        })
        .collect()
}

/// The peer's JCTs from `trace/<scheduler>.csv`.
fn peer(trace: &str, scheduler: &str) -> Jcts {
    let path = dir(trace).join(format!("{scheduler}.csv"));
    let mut r = csv::Reader::from_path(&path).unwrap();
    let header = r.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (name, jct) = (col("name"), col("jct_s"));
    r.records()
        .map(|row| {
            let row = row.unwrap();
            (row[name].to_owned(), Some(row[jct].parse().unwrap()))
        })
        .collect()
}

/// How two runs of one trace agree.
struct Agreement {
    jobs: usize,
    /// Jobs whose JCTs differ by at most 1 s.
    within: usize,
    mean_ours: f64,
    mean_peer: f64,
    /// (job, ours, peer) for the others.
    residuals: Vec<(String, Option<f64>, Option<f64>)>,
}

impl Agreement {
    fn of(ours: &Jcts, theirs: &Jcts) -> Agreement {
        assert_eq!(ours.len(), theirs.len(), "one row per job");
        let mut a = Agreement {
            jobs: ours.len(),
            within: 0,
            mean_ours: 0.0,
            mean_peer: 0.0,
            residuals: Vec::new(),
        };
        for ((name, o), (peer_name, t)) in ours.iter().zip(theirs) {
            assert_eq!(name, peer_name, "both in trace order");
            match (o, t) {
                (Some(o), Some(t)) if (o - t).abs() <= 1.0 => a.within += 1,
                _ => a.residuals.push((name.clone(), *o, *t)),
            }
            // An unfinished job counts as infinitely late: the mean becomes infinite.
            a.mean_ours += o.unwrap_or(f64::INFINITY);
            a.mean_peer += t.unwrap_or(f64::INFINITY);
        }
        a.mean_ours /= a.jobs as f64;
        a.mean_peer /= a.jobs as f64;
        a
    }

    fn within_pct(&self) -> f64 {
        100.0 * self.within as f64 / self.jobs as f64
    }

    fn mean_diff_pct(&self) -> f64 {
        100.0 * (self.mean_ours - self.mean_peer) / self.mean_peer
    }

    /// One row of the README's agreement table.
    fn row(&self, trace: &str, ours: &str, theirs: &str) -> String {
        format!(
            "| {trace} | `{ours}` | `{theirs}` | {:.2} % ({}/{}) | {:.2} | {:.2} | {:+.3} % | {} |",
            self.within_pct(),
            self.within,
            self.jobs,
            self.mean_ours,
            self.mean_peer,
            self.mean_diff_pct(),
            self.residuals.len()
        )
    }

    /// Meets the bar: ≥ 99 % within 1 s, mean within 0.5 %.
    fn assert_meets_the_bar(&self, what: &str) {
        assert!(
            self.within_pct() >= 99.0 && self.mean_diff_pct().abs() <= 0.5,
            "{what}: {:.2} % within 1 s, mean {:.2} vs {:.2} ({:+.3} %); residuals: {:?}",
            self.within_pct(),
            self.mean_ours,
            self.mean_peer,
            self.mean_diff_pct(),
            &self.residuals[..self.residuals.len().min(20)]
        );
    }
}

/// The three traces: the peer's 60-job trace on its 128 GPUs (no job ever waits), the same on
/// 16 GPUs, and the 5,000-job Poisson workload at load 0.9 on 64 GPUs.
const TRACES: [&str; 3] = ["tiresias60", "tiresias60-n4g4", "poisson5000"];

fn compare(pairs: &[(&str, &str)]) {
    for trace in TRACES {
        for &(ours, theirs) in pairs {
            let a = Agreement::of(&flexsim(trace, ours), &peer(trace, theirs));
            println!("{}", a.row(trace, ours, theirs));
            a.assert_meets_the_bar(&format!("{trace}: {ours} vs the peer's {theirs}"));
        }
    }
}

#[test]
fn strict_fifo_matches_the_peers_fifo() {
    compare(&[("fifo", "fifo-count")]);
}

#[test]
fn fifo_with_skipping_matches_the_peers_fit_job_first() {
    compare(&[("fifo-skip", "fjf-count")]);
}

/// The peer's `yarn` scheme on its real nodes (`fleet.toml`, 4-GPU nodes on the n4g4 and
/// poisson traces): a job of up to one node goes first-fit; a larger one as a gang over wholly
/// idle nodes plus one for the rest ([`flexsim_sim::policy::gang::yarn`]), with no slowdown.
#[test]
fn fifo_with_yarn_gangs_matches_the_peers_yarn_runs() {
    for trace in TRACES {
        for (ours, theirs) in [
            ("fifo[placement=first-fit]", "fifo"),
            ("fifo-skip[placement=first-fit]", "fjf"),
        ] {
            let a = Agreement::of(&flexsim_on(trace, "fleet.toml", ours), &peer(trace, theirs));
            println!("{}", a.row(trace, ours, theirs));
            a.assert_meets_the_bar(&format!("{trace}: {ours} vs the peer's {theirs} (yarn)"));
        }
    }
}

#[test]
fn tiresias_matches_the_peers_dlas_gpu_with_its_demotion_time_fixed() {
    compare(&[
        ("tiresias[order=running-first]", "dlas-gpu-exact"),
        (
            "tiresias[thresholds=3600,order=running-first]",
            "dlas-gpu-2q-exact",
        ),
    ]);
}

#[test]
fn tiresias_with_the_peers_demotion_rule_matches_the_peer_as_shipped() {
    compare(&[
        ("tiresias[order=running-first,demotion=peer]", "dlas-gpu"),
        (
            "tiresias[thresholds=3600,order=running-first,demotion=peer]",
            "dlas-gpu-2q",
        ),
    ]);
}

#[test]
fn against_the_unfixed_peer_the_residuals_are_the_jobs_its_demotion_bug_moves() {
    for (ours, plain, exact) in [
        (
            "tiresias[order=running-first]",
            "dlas-gpu",
            "dlas-gpu-exact",
        ),
        (
            "tiresias[thresholds=3600,order=running-first]",
            "dlas-gpu-2q",
            "dlas-gpu-2q-exact",
        ),
    ] {
        for trace in TRACES {
            let a = Agreement::of(&flexsim(trace, ours), &peer(trace, plain));
            println!("{}", a.row(trace, ours, plain));
            let bug = Agreement::of(&peer(trace, exact), &peer(trace, plain));
            let names = |a: &Agreement| a.residuals.iter().map(|r| r.0.clone()).collect::<Vec<_>>();
            assert_eq!(names(&a), names(&bug), "{trace}: {ours} vs {plain}");
        }
    }
}

#[test]
fn tiresias_in_fifo_by_entry_order_differs_from_the_peer_as_documented() {
    // The default within-queue order (FIFO by queue entry) is not the peer's list order; the
    // README reports these figures, pinned here so that they cannot go stale silently.
    for (trace, ours, theirs, within) in [
        ("tiresias60-n4g4", "tiresias", "dlas-gpu-exact", 60),
        ("poisson5000", "tiresias", "dlas-gpu-exact", 4799),
        (
            "poisson5000",
            "tiresias[thresholds=3600]",
            "dlas-gpu-2q-exact",
            4697,
        ),
    ] {
        let a = Agreement::of(&flexsim(trace, ours), &peer(trace, theirs));
        println!("{}", a.row(trace, ours, theirs));
        assert_eq!(a.within, within, "{trace}: {ours} vs {theirs}");
    }
}
