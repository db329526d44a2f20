//! One `fgd` inflation run of the openb default trace, the foundation's speed target (≤ 1 s
//! whole process), plus `best-fit` for comparison.

use criterion::{criterion_group, criterion_main, Criterion};
use flexsim_sim::engine::inflation::{self, InflationConfig};
use flexsim_sim::input::trace::openb;
use flexsim_sim::model::fleet::Fleet;
use std::path::Path;

fn bench(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("traces/openb");
    let fleet = Fleet::read_openb_csv(&root.join("openb_node_list_gpu_node.csv")).unwrap();
    let workload = openb::read(&root.join("openb_pod_list_default.csv")).unwrap();
    let mut group = c.benchmark_group("inflation_openb_default");
    group.sample_size(10);
    for policy in ["fgd", "best-fit"] {
        group.bench_function(policy, |b| {
            b.iter(|| {
                let mut p = flexsim_policies::by_name(policy).unwrap();
                inflation::run(&fleet, &workload, p.as_mut(), InflationConfig::default()).unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
