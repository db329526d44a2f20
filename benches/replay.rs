//! Replay speed: the openb default trace on the openb fleet (best-fit, whole and Flex:ai
//! fractional cards), and a synthetic 100,000-job trace on the 10,000-GPU fleet. The
//! 1,000,000-job figure of the README is a whole-process timing (`/usr/bin/time -v`).

use criterion::{criterion_group, criterion_main, Criterion};
use flexsim_sim::engine::replay::{self, ReplayConfig};
use flexsim_sim::input::synth::{self, SynthParams};
use flexsim_sim::input::trace::openb;
use flexsim_sim::model::fleet::Fleet;
use flexsim_sim::model::slicing::SlicingMode;
use std::path::Path;

fn bench(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("traces");
    let openb_fleet = Fleet::read(&root.join("openb/openb_node_list_gpu_node.csv")).unwrap();
    let openb_trace = openb::read(&root.join("openb/openb_pod_list_default.csv")).unwrap();
    let mut group = c.benchmark_group("replay");
    group.sample_size(10);
    for (name, mode) in [
        ("whole", SlicingMode::Whole),
        ("fractional", SlicingMode::FLEXAI_VGPU),
    ] {
        let mut fleet = openb_fleet.clone();
        fleet.set_mode(mode).unwrap();
        group.bench_function(format!("openb_default_best_fit_{name}"), |b| {
            b.iter(|| {
                let mut p = flexsim_policies::by_name("best-fit").unwrap();
                replay::run(&fleet, &openb_trace, p.as_mut(), &ReplayConfig::default()).unwrap()
            })
        });
    }
    let big_fleet = Fleet::read(&root.join("fleets/synth-10k.toml")).unwrap();
    let mut params = SynthParams::default();
    params.apply_override("jobs", "100000").unwrap();
    params.apply_override("interarrival_s", "0.4").unwrap();
    let synthetic = synth::generate(&params);
    group.bench_function("synth_100k_jobs_10k_gpus_best_fit", |b| {
        b.iter(|| {
            let mut p = flexsim_policies::by_name("best-fit").unwrap();
            replay::run(&big_fleet, &synthetic, p.as_mut(), &ReplayConfig::default()).unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
