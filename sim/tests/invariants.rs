//! Invariants of the model's cluster state and of the replay engine, driven through the public
//! API: one test binary, one module per behaviour.
//!
//! * [`cluster_accounting`] — random place/remove sequences on the cluster itself.
//! * [`adversarial_replay`] — property tests (proptest): random fleets in every slicing mode,
//!   random jobs, and policies that mix legal placements with illegal ones, bogus preemptions
//!   and queue tampering; the engine must answer each illegal action with a typed error and
//!   never over-allocate, lose a job or panic.

#[path = "invariants/adversarial_replay.rs"]
mod adversarial_replay;

mod cluster_accounting {
    use flexsim_sim::model::catalog::Catalog;
    use flexsim_sim::model::cluster::{Cluster, NodeId, Placement};
    use flexsim_sim::model::fleet::Fleet;
    use flexsim_sim::model::fleet::NodeSpec;
    use flexsim_sim::model::job::{Pod, PodId};
    use flexsim_sim::model::slicing::SlicingMode;
    use flexsim_sim::model::units::GPU_MILLI;
    use flexsim_sim::policy::gpu_select;
    use flexsim_sim::policy::SimRng;
    use rand::{RngExt, SeedableRng};

    /// Random place/remove sequences in every slicing mode keep the books straight: what a
    /// node has free plus what its residents hold is its capacity, the cluster's used milli is
    /// the sum over cards, and whenever `fits` says yes the tightest-fit placement is accepted.
    #[test]
    fn random_place_remove_sequences_keep_accounting_exact() {
        for mode in [
            SlicingMode::Whole,
            SlicingMode::SHARE,
            SlicingMode::FLEXAI_VGPU,
            SlicingMode::HAMI_VGPU,
            SlicingMode::MIG,
            SlicingMode::FLEXAI_TIMESHARE,
        ] {
            let mut fleet = Fleet::new(
                "t".into(),
                (0..4)
                    .map(|i| NodeSpec::new(format!("n{i}"), 32_000, 256_000, 4, "A100-40".into()))
                    .collect(),
            );
            fleet.devices.get_mut("A100-40").unwrap().model = Catalog::preset("A100-40").unwrap();
            fleet.set_mode(mode).unwrap();
            let mut c = Cluster::new(&fleet);
            let mut rng = SimRng::seed_from_u64(11);
            let mut placed: Vec<(PodId, NodeId)> = Vec::new();
            for step in 0..3000 {
                if !placed.is_empty() && rng.random_range(0..3) == 0 {
                    let (id, node) = placed.swap_remove(rng.random_range(0..placed.len()));
                    assert!(c.remove(id, node).is_some());
                } else {
                    let num_gpu = [0, 1, 1, 1, 2][rng.random_range(0..5)];
                    let milli = if num_gpu > 1 {
                        1000
                    } else {
                        rng.random_range(1..=1000)
                    };
                    let pod = Pod::new(
                        "p",
                        rng.random_range(0..4000),
                        rng.random_range(0..8000),
                        num_gpu,
                        milli,
                    );
                    let node = (0..c.nodes().len()).find(|&n| c.node(n).fits(&pod));
                    if let Some(node) = node {
                        let gpus = gpu_select::best(c.node(node), &pod)
                            .unwrap_or_else(|| panic!("{mode:?}: fits but no cards"));
                        c.place(step, &pod, Placement { node, gpus })
                            .unwrap_or_else(|e| panic!("{mode:?}: fits but refused: {e}"));
                        placed.push((step, node));
                    }
                }
                let mut used = 0u64;
                for n in c.nodes() {
                    let cpu: u64 = n.residents().iter().map(|r| r.cpu_milli).sum();
                    let mem: u64 = n.residents().iter().map(|r| r.memory_mib).sum();
                    assert_eq!(n.cpu_free_milli() + cpu, n.cpu_capacity_milli, "{mode:?}");
                    assert_eq!(n.memory_free_mib() + mem, n.memory_capacity_mib, "{mode:?}");
                    for (g, card) in n.cards().iter().enumerate() {
                        let holders = n
                            .residents()
                            .iter()
                            .filter(|r| r.gpus.contains(&(g as u16)))
                            .count();
                        assert_eq!(card.tenants().len(), holders, "{mode:?}");
                        assert_eq!(
                            n.gpu_free_milli()[g],
                            GPU_MILLI - card.allocated_compute_milli().min(GPU_MILLI),
                            "{mode:?}"
                        );
                        used += u64::from(GPU_MILLI - n.gpu_free_milli()[g]);
                    }
                }
                assert_eq!(used, c.gpu_used_milli(), "{mode:?}");
            }
            assert!(!placed.is_empty(), "{mode:?}: something was placed");
        }
    }
}
