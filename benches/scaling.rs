//! Replay scaling (issue 9): synthetic traces (`flexsim trace synth`'s library side, openb mix,
//! seed 42) on fleets scaled from `traces/fleets/synth-10k.toml` (same 8-card node, `count`
//! scaled to 10^3, 10^4 and 10^5 GPUs), for best-fit, fgd, hi, hami, k8s-default and tiresias.
//!
//! - `unsaturated/<policy>/<gpus>`: 2,000 jobs, interarrival 0.4 s × 10^4 / GPUs (the same
//!   offered load per GPU on every fleet, as in `benches/scale-table.sh`); the fleet-size
//!   dependence of the per-event cost is the ratio of the 10^5 and 10^3 points. `hi` on 10^5
//!   GPUs is left out: ~35 s of CPU per 2,000-job iteration (issue 9's per-event scan), so it
//!   is measured whole-process only (`results/bench/README.md`).
//! - `saturated/<policy>/1000`: 5,000 jobs on 10^3 GPUs, interarrival 0.2 s (20× the
//!   unsaturated rate): the queue peaks above 2,000 jobs and holds ≥ 10^3 for about a third of
//!   the run's events (best-fit; measured from jobs.csv) — as saturated as criterion's repeated
//!   samples allow; the fully saturated big points are in `results/bench/README.md`.
//!
//! Criterion throughput is in jobs. Sizes are small so that `cargo bench --bench scaling`
//! finishes in a few minutes (`-- --quick` for fewer samples); the whole-process grid
//! (10^4–10^6 jobs) is `benches/scale-table.sh`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use flexsim_sim::engine::replay::{self, ReplayConfig};
use flexsim_sim::input::synth::{self, SynthParams};
use flexsim_sim::model::fleet::Fleet;
use flexsim_sim::model::job::Workload;
use std::path::Path;
use std::time::Duration;

const POLICIES: [&str; 6] = ["best-fit", "fgd", "hi", "hami", "k8s-default", "tiresias"];

/// `traces/fleets/synth-10k.toml` with its node count scaled to `gpus` (8 cards a node).
fn fleet(gpus: u64) -> Fleet {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("traces/fleets/synth-10k.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("count = 1250"),
        "synth-10k.toml changed shape"
    );
    let scaled = text.replace("count = 1250", &format!("count = {}", gpus / 8));
    let fleet = Fleet::parse_toml(&path, &scaled).unwrap();
    assert_eq!(fleet.gpu_count(), gpus);
    fleet
}

fn trace(jobs: usize, interarrival_s: f64) -> Workload {
    let mut params = SynthParams::default();
    params.apply_override("jobs", &jobs.to_string()).unwrap();
    params
        .apply_override("interarrival_s", &interarrival_s.to_string())
        .unwrap();
    synth::generate(&params)
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("scaling/unsaturated");
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
    let jobs = 2_000;
    group.throughput(Throughput::Elements(jobs as u64));
    for gpus in [1_000u64, 10_000, 100_000] {
        let fleet = fleet(gpus);
        let workload = trace(jobs, 0.4 * 1e4 / gpus as f64);
        for policy in POLICIES {
            if policy == "hi" && gpus == 100_000 {
                // ~35 s of CPU per iteration (its per-event scan grows with the node count):
                // measured whole-process in results/bench/ instead.
                continue;
            }
            group.bench_with_input(BenchmarkId::new(policy, gpus), &gpus, |b, _| {
                b.iter(|| {
                    let mut p = flexsim_policies::by_name(policy).unwrap();
                    replay::run(&fleet, &workload, p.as_mut(), &ReplayConfig::default()).unwrap()
                })
            });
        }
    }
    group.finish();

    let mut group = c.benchmark_group("scaling/saturated");
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
    let jobs = 5_000;
    group.throughput(Throughput::Elements(jobs as u64));
    let fleet = fleet(1_000);
    let workload = trace(jobs, 0.2);
    for policy in POLICIES {
        group.bench_with_input(BenchmarkId::new(policy, 1_000), &1_000, |b, _| {
            b.iter(|| {
                let mut p = flexsim_policies::by_name(policy).unwrap();
                replay::run(&fleet, &workload, p.as_mut(), &ReplayConfig::default()).unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
