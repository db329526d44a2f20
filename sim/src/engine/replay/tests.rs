//! Whole replays on small hand-built fleets, by behaviour.

mod runs {
    use super::super::*;
    use crate::model::cluster::Placement;
    use crate::model::fleet::NodeSpec;
    use crate::model::slicing::SlicingMode;
    use crate::policy::gpu_select;
    use crate::policy::{JobsView, QueuedJob};

    /// First node (in fleet order) where the pod fits; tightest GPU.
    pub(super) struct FirstFit;
    impl Policy for FirstFit {
        fn name(&self) -> &str {
            "first-fit"
        }
        fn place(
            &mut self,
            cluster: &Cluster,
            _job: PodId,
            pod: &Pod,
            _: &mut SimRng,
        ) -> Option<Placement> {
            let node = (0..cluster.nodes().len()).find(|&n| cluster.node(n).fits(pod))?;
            let gpus = gpu_select::best(cluster.node(node), pod)?;
            Some(Placement { node, gpus })
        }
    }

    fn fleet(nodes: u32, gpus: u32, mode: SlicingMode) -> Fleet {
        let mut f = Fleet::new(
            "t".into(),
            (0..nodes)
                .map(|i| NodeSpec::new(format!("n{i}"), 64_000, 1 << 20, gpus, "V100M32".into()))
                .collect(),
        );
        f.set_mode(mode).unwrap();
        f
    }

    fn job(name: &str, arrival_ms: u64, work_ms: u64, gpu_milli: u32, demand_milli: u32) -> Pod {
        let mut p = Pod::new(name, 1000, 1024, 1, gpu_milli);
        p.arrival_ms = arrival_ms;
        p.work_ms = Some(work_ms);
        p.demand_milli = Some(demand_milli);
        p
    }

    fn replay(f: &Fleet, pods: Vec<Pod>, policy: &mut dyn Policy) -> ReplayOutcome {
        let w = Workload {
            name: "w".into(),
            pods,
        };
        run(f, &w, policy, &ReplayConfig::default()).unwrap()
    }

    /// First fit, and a timer: wakes at `at` (once), recording each pass's clock and the
    /// running jobs' attained service then.
    struct Timer {
        at: u64,
        passes: Vec<(u64, Vec<u64>)>,
    }
    impl Policy for Timer {
        fn name(&self) -> &str {
            "timer"
        }
        fn place(&mut self, c: &Cluster, job: PodId, p: &Pod, r: &mut SimRng) -> Option<Placement> {
            FirstFit.place(c, job, p, r)
        }
        fn order_queue(&mut self, jobs: &JobsView<'_>, _: &mut [QueuedJob]) {
            let attained = jobs
                .running
                .iter()
                .map(|r| jobs.attained_gpu_ms(r))
                .collect();
            self.passes.push((jobs.now_ms, attained));
        }
        fn next_wake(&mut self, jobs: &JobsView<'_>, _: &[QueuedJob]) -> Option<u64> {
            (jobs.now_ms < self.at).then_some(self.at)
        }
    }

    #[test]
    fn a_policy_is_called_at_the_time_it_asked_for_with_service_up_to_then() {
        // One card: `a` runs 0..10 s, `b` waits from 1 s. The timer asks for 4.5 s: a pass
        // happens then (b still waiting), seeing a's 4,500 GPU-ms, and nothing else changes.
        let f = fleet(1, 1, SlicingMode::Whole);
        let mut timer = Timer {
            at: 4_500,
            passes: Vec::new(),
        };
        let o = replay(
            &f,
            vec![
                job("a", 0, 10_000, 1000, 1000),
                job("b", 1_000, 1_000, 1000, 1000),
            ],
            &mut timer,
        );
        let at_wake: Vec<_> = timer.passes.iter().filter(|p| p.0 == 4_500).collect();
        assert_eq!(at_wake.len(), 1, "{:?}", timer.passes);
        assert_eq!(at_wake[0].1, vec![4_500]);
        assert_eq!(o.jobs[1].first_start_ms, Some(10_000));
        let without = replay(
            &f,
            vec![
                job("a", 0, 10_000, 1000, 1000),
                job("b", 1_000, 1_000, 1000, 1000),
            ],
            &mut FirstFit,
        );
        assert_eq!(o.jobs, without.jobs, "a wake-up alone changes nothing");
    }

    #[test]
    fn alone_on_a_whole_card_with_demand_one_takes_exactly_its_work() {
        let f = fleet(1, 1, SlicingMode::Whole);
        let o = replay(
            &f,
            vec![job("a", 5_000, 123_457, 1000, 1000)],
            &mut FirstFit,
        );
        let j = &o.jobs[0];
        assert_eq!(
            (j.first_start_ms, j.finish_ms),
            (Some(5_000), Some(128_457))
        );
        assert_eq!(j.slowdown(), Some(1.0));
        assert_eq!(o.figures.util_alloc_pct, 100.0);
        assert_eq!(o.figures.util_busy_pct, 100.0);
        assert_eq!(o.figures.util_goodput_pct, 100.0);
    }

    #[test]
    fn whole_cards_queue_and_the_wait_is_the_first_jobs_work() {
        let f = fleet(1, 1, SlicingMode::Whole);
        // Both ask 30 % of a card; whole mode gives each the full card, one at a time.
        let o = replay(
            &f,
            vec![job("a", 0, 10_000, 300, 300), job("b", 0, 10_000, 300, 300)],
            &mut FirstFit,
        );
        assert_eq!(o.jobs[1].first_start_ms, Some(10_000));
        assert_eq!(o.jobs[1].waited_ms, 10_000);
        assert_eq!(o.jobs[1].finish_ms, Some(20_000));
        // Allocated a whole card for 20 s, busy 30 % of it.
        assert_eq!(o.figures.util_alloc_pct, 100.0);
        assert!((o.figures.util_busy_pct - 30.0).abs() < 1e-9);
    }

    #[test]
    fn fractional_cards_share_and_hard_caps_slow_a_job_down() {
        // Flex:ai vGPU: a 300-milli slice with demand 600 is capped at 300: half speed.
        // Computed by hand: rate = min(1, 0.3/0.6) = 0.5, so 10 s of work takes 20 s; the
        // second job (demand 300) runs at full speed beside it (spatial interference aside).
        let f = fleet(1, 1, SlicingMode::FLEXAI_VGPU);
        let mut params = ReplayConfig::default();
        params.perf.interference_base = 0.0;
        params.perf.interference_bandwidth = 0.0;
        let w = Workload {
            name: "w".into(),
            pods: vec![job("a", 0, 10_000, 300, 600), job("b", 0, 10_000, 300, 300)],
        };
        let o = run(&f, &w, &mut FirstFit, &params).unwrap();
        assert_eq!(o.jobs[0].first_start_ms, Some(0));
        assert_eq!(o.jobs[1].first_start_ms, Some(0));
        assert_eq!(o.jobs[0].finish_ms, Some(20_000));
        assert_eq!(o.jobs[1].finish_ms, Some(10_000));
    }

    #[test]
    fn busy_never_exceeds_allocated_in_partitioned_modes() {
        for mode in [SlicingMode::Whole, SlicingMode::MIG] {
            let mut f = Fleet::new(
                "t".into(),
                vec![NodeSpec::new(
                    "n".into(),
                    64_000,
                    1 << 20,
                    2,
                    "A100-40".into(),
                )],
            );
            f.devices.get_mut("A100-40").unwrap().model =
                crate::model::catalog::Catalog::preset("A100-40").unwrap();
            f.set_mode(mode).unwrap();
            let pods: Vec<Pod> = (0..40)
                .map(|i| {
                    job(
                        &format!("j{i}"),
                        i * 700,
                        5_000 + i * 300,
                        100 + (i as u32 * 97) % 800,
                        200 + (i as u32 * 131) % 800,
                    )
                })
                .collect();
            let o = replay(&f, pods, &mut FirstFit);
            assert_eq!(o.figures.jobs_finished, 40, "{mode:?}");
            for r in &o.timeseries {
                assert!(r.util_busy_pct <= r.util_alloc_pct + 1e-9, "{mode:?} {r:?}");
                assert!(r.util_alloc_pct <= 100.0 + 1e-9);
            }
            assert!(o.figures.util_busy_pct <= o.figures.util_alloc_pct);
        }
    }

    /// Places like FirstFit; when a job of priority ≥ 3 finds nothing, preempts the most
    /// recently started lower-priority job.
    struct Preempting(FirstFit);
    impl Policy for Preempting {
        fn name(&self) -> &str {
            "preempting"
        }
        fn place(&mut self, c: &Cluster, job: PodId, p: &Pod, r: &mut SimRng) -> Option<Placement> {
            self.0.place(c, job, p, r)
        }
        fn preempt(
            &mut self,
            _: &Cluster,
            _job: PodId,
            pod: &Pod,
            jobs: &JobsView<'_>,
        ) -> Vec<PodId> {
            if pod.priority < 3 {
                return vec![];
            }
            jobs.running
                .iter()
                .filter(|r| jobs.pods[r.pod].priority < pod.priority)
                .max_by_key(|r| r.started_ms)
                .map(|r| vec![r.pod])
                .unwrap_or_default()
        }
    }

    #[test]
    fn preemption_requeues_with_restart_cost_and_loses_nothing() {
        let f = fleet(1, 1, SlicingMode::Whole);
        let low = job("low", 0, 10_000, 1000, 1000);
        let mut high = job("high", 4_000, 5_000, 1000, 1000);
        high.priority = 3;
        let w = Workload {
            name: "w".into(),
            pods: vec![low, high],
        };
        let config = ReplayConfig {
            restart_cost_ms: 2_000,
            ..Default::default()
        };
        let o = run(&f, &w, &mut Preempting(FirstFit), &config).unwrap();
        assert_eq!(o.figures.preemptions, 1);
        assert_eq!(o.jobs[1].first_start_ms, Some(4_000));
        assert_eq!(o.jobs[1].finish_ms, Some(9_000));
        // low ran 4 s, kept 6 s of work + 2 s restart cost, restarts at 9 s → done at 17 s.
        assert_eq!(o.jobs[0].preemptions, 1);
        assert_eq!(o.jobs[0].finish_ms, Some(17_000));
        assert_eq!(o.jobs[0].waited_ms, 5_000);
        assert_eq!(o.figures.jobs_finished, 2);
    }

    #[test]
    fn every_job_is_finished_pending_skipped_or_unplaceable_and_runs_repeat_exactly() {
        let f = fleet(2, 2, SlicingMode::FLEXAI_VGPU);
        let mut pods: Vec<Pod> = (0..200)
            .map(|i| {
                job(
                    &format!("j{i}"),
                    i * 250,
                    20_000 + (i * 7919) % 50_000,
                    50 + (i as u32 * 53) % 950,
                    1000,
                )
            })
            .collect();
        pods.push(Pod::new("no-times", 1000, 1, 1, 500));
        let mut big = job("too-big", 0, 1000, 1000, 1000);
        big.num_gpu = 5;
        pods.push(big);
        let a = replay(&f, pods.clone(), &mut FirstFit);
        let fig = &a.figures;
        assert_eq!(fig.jobs_total, 202);
        assert_eq!(fig.jobs_skipped, 1);
        assert_eq!(fig.jobs_pending, 0);
        assert_eq!(
            fig.jobs_unplaceable, 1,
            "the 5-GPU job never fits two 2-GPU nodes, even as a gang"
        );
        assert_eq!(fig.unplaceable_by_reason["too-many-gpus"], 1);
        assert_eq!(
            fig.jobs_finished
                + fig.jobs_pending
                + fig.jobs_running
                + fig.jobs_skipped
                + fig.jobs_unplaceable,
            202
        );
        assert_eq!(
            (a.jobs[200].state.name(), a.jobs[200].reason.name()),
            ("skipped", "no-work")
        );
        assert_eq!(
            (a.jobs[201].state.name(), a.jobs[201].reason.name()),
            ("unplaceable", "too-many-gpus")
        );
        let b = replay(&f, pods, &mut FirstFit);
        assert_eq!(a.jobs, b.jobs);
        assert_eq!(a.figures, b.figures);
        assert_eq!(a.timeseries, b.timeseries);
    }
}

mod unplaceable {
    use super::super::*;
    use super::runs::FirstFit;
    use crate::model::cluster::Placement;
    use crate::model::fleet::NodeSpec;
    use crate::model::job::GpuSpec;
    use crate::model::slicing::SlicingMode;

    /// Two nodes of two V100s, whole cards.
    fn fleet() -> Fleet {
        let mut f = Fleet::new(
            "t".into(),
            (0..2)
                .map(|i| NodeSpec::new(format!("n{i}"), 8_000, 1 << 16, 2, "V100M32".into()))
                .collect(),
        );
        f.set_mode(SlicingMode::Whole).unwrap();
        f
    }

    fn job(name: &str, arrival_ms: u64, cpu_milli: u64, num_gpu: u32) -> Pod {
        let mut p = Pod::new(name, cpu_milli, 1024, num_gpu, 1000);
        p.arrival_ms = arrival_ms;
        p.work_ms = Some(10_000);
        p.demand_milli = Some(1000);
        p
    }

    fn jobs() -> Vec<Pod> {
        let mut t4 = job("wants-t4", 0, 1000, 1);
        t4.gpu_spec = GpuSpec::parse("T4");
        vec![
            job("fine", 0, 1000, 1),
            t4,
            job("five-gpus", 1_000, 1000, 5),
            job("many-cores", 2_000, 9_000, 1),
            job("fine-too", 3_000, 1000, 2),
        ]
    }

    /// FirstFit that records every job it was asked to place.
    #[derive(Default)]
    struct Spy {
        asked: Vec<String>,
    }
    impl Policy for Spy {
        fn name(&self) -> &str {
            "spy"
        }
        fn place(
            &mut self,
            c: &Cluster,
            job: PodId,
            pod: &Pod,
            r: &mut SimRng,
        ) -> Option<Placement> {
            self.asked.push(pod.name.to_string());
            FirstFit.place(c, job, pod, r)
        }
    }

    #[test]
    fn a_job_no_empty_node_holds_is_unplaceable_with_its_reason_never_pending_nor_offered() {
        let w = Workload {
            name: "w".into(),
            pods: jobs(),
        };
        let mut spy = Spy::default();
        let o = run(&fleet(), &w, &mut spy, &ReplayConfig::default()).unwrap();
        let states: Vec<(&str, &str)> = o
            .jobs
            .iter()
            .map(|j| (j.state.name(), j.reason.name()))
            .collect();
        assert_eq!(
            states,
            [
                ("finished", ""),
                ("unplaceable", "gpu-models"),
                ("unplaceable", "too-many-gpus"),
                ("unplaceable", "cpu"),
                ("finished", ""),
            ]
        );
        assert!(
            spy.asked.iter().all(|n| n.starts_with("fine")),
            "{:?}",
            spy.asked
        );
        let f = &o.figures;
        assert_eq!(
            (f.jobs_unplaceable, f.jobs_pending, f.jobs_finished),
            (3, 0, 2)
        );
        assert_eq!(
            f.unplaceable_by_reason,
            [("cpu", 1), ("gpu-models", 1), ("too-many-gpus", 1)]
                .map(|(k, v)| (k.to_owned(), v))
                .into()
        );
        // They count as waiting to the end, like pending jobs: 13 s end − their arrival.
        assert_eq!(o.figures.end_s, 13.0);
        assert_eq!(o.jobs[2].waited_ms, 12_000);
        assert_eq!(o.timeseries.last().unwrap().point.waiting, 3);
    }

    #[test]
    fn strict_replay_refuses_to_start_naming_counts_and_examples() {
        let w = Workload {
            name: "w".into(),
            pods: jobs(),
        };
        let config = ReplayConfig {
            strict: true,
            ..Default::default()
        };
        let err = run(&fleet(), &w, &mut FirstFit, &config).unwrap_err();
        assert_eq!(
            err.to_string(),
            "3 jobs fit no node of the empty fleet (cpu 1, gpu-models 1, too-many-gpus 1), \
             e.g. wants-t4, five-gpus, many-cores"
        );
        // Nothing unplaceable: strict runs as usual.
        let fine = Workload {
            name: "w".into(),
            pods: vec![job("fine", 0, 1000, 1)],
        };
        assert_eq!(
            run(&fleet(), &fine, &mut FirstFit, &config)
                .unwrap()
                .figures
                .jobs_finished,
            1
        );
    }

    /// Places nothing but CPU-only jobs: every GPU job starves.
    struct CpuOnly;
    impl Policy for CpuOnly {
        fn name(&self) -> &str {
            "cpu-only"
        }
        fn place(
            &mut self,
            c: &Cluster,
            job: PodId,
            pod: &Pod,
            r: &mut SimRng,
        ) -> Option<Placement> {
            (!pod.is_gpu_pod())
                .then(|| FirstFit.place(c, job, pod, r))
                .flatten()
        }
    }

    #[test]
    fn a_job_left_waiting_on_a_cluster_that_holds_it_is_starved() {
        let w = Workload {
            name: "w".into(),
            pods: vec![job("gpu", 0, 1000, 1)],
        };
        let o = run(&fleet(), &w, &mut CpuOnly, &ReplayConfig::default()).unwrap();
        assert_eq!(
            (o.jobs[0].state.name(), o.jobs[0].reason.name()),
            ("pending", "starved")
        );
        assert_eq!(o.figures.pending_by_reason["starved"], 1);
    }

    #[test]
    fn pending_reason_tells_no_room_now_from_remote_only_from_starved() {
        let mut f = fleet();
        f.nodes.push(NodeSpec::new(
            "front".into(),
            64_000,
            1 << 20,
            0,
            String::new(),
        ));
        let mut c = Cluster::new(&f);
        let one = job("one", 0, 1000, 1);
        assert_eq!(pending_reason(&c, &one), PendingReason::Starved);
        // 9 cores: only the CPU node has them, so only split over two nodes.
        let split = job("split", 0, 9_000, 1);
        assert_eq!(pending_reason(&c, &split), PendingReason::RemoteOnly);
        // All four cards taken: no room for either now.
        for (id, node) in [(10, 0), (11, 1)] {
            let two = job("two", 0, 1000, 2);
            let gpus = vec![0, 1];
            c.place(id, &two, Placement { node, gpus }).unwrap();
        }
        assert_eq!(pending_reason(&c, &one), PendingReason::NoFitNow);
        assert_eq!(pending_reason(&c, &split), PendingReason::NoFitNow);
    }
}

mod profiles {
    use super::super::*;
    use super::runs::FirstFit;
    use std::path::Path;

    /// A hand-written calibration profile: ι measured at 0.5, and 32,510 MiB of memory.
    const PROFILE: &str = r#"
format_version = 1

[inventory]
backend = "nvml"
device_index = 0
model = "Tesla V100-SXM2-32GB"
memory_mib = 32510
sm_count = 80

[measured]
demand = 0.5
interference = 0.5

[provenance]
backend = "nvml"
command = "written by hand for this test"
wall_seconds = 0.0
date = "2026-11-25T00:00:00Z"
flexsim_version = "0.1.0"
"#;

    const FLEET: &str = r#"
[models.V100M32]
slicing = "flexai"
PROFILE_LINE

[[groups]]
name = "g"
count = 1
cpu_milli = 64000
memory_mib = 262144
model = "V100M32"
devices = 1
"#;

    fn two_halves(fleet: &Fleet) -> ReplayOutcome {
        let job = |name: &str| {
            let mut p = Pod::new(name, 1000, 1024, 1, 500);
            p.work_ms = Some(9_000);
            p.demand_milli = Some(500);
            p
        };
        let w = Workload {
            name: "w".into(),
            pods: vec![job("a"), job("b")],
        };
        run(fleet, &w, &mut FirstFit, &ReplayConfig::default()).unwrap()
    }

    #[test]
    fn a_fleet_using_a_profile_runs_at_the_measured_interference() {
        let dir = std::env::temp_dir().join(format!("flexsim-profile-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("profiles")).unwrap();
        std::fs::write(dir.join("profiles/v100.toml"), PROFILE).unwrap();
        let with = FLEET.replace("PROFILE_LINE", "profile = \"profiles/v100.toml\"");
        let fleet = Fleet::parse_toml(&dir.join("fleet.toml"), &with).unwrap();
        let d = &fleet.devices["V100M32"];
        assert_eq!(d.model.memory_mib, 32_510);
        assert_eq!(
            d.from_profile,
            ["memory_mib", "compute_units", "interference"]
        );
        // Two 50 % vGPUs, demand 0.5 each, ι = 0.5 (ι₁ = 0): by hand,
        // rate = 1.0 · min(1, 0.5/0.5) · (1 − 0.5 · 0.5) = 0.75, so 9 s of work takes 12 s.
        let o = two_halves(&fleet);
        assert_eq!(o.jobs[0].finish_ms, Some(12_000));
        assert_eq!(o.jobs[1].finish_ms, Some(12_000));
        // Without the profile, the defaults (ι₀ = 0.1, κ = 0): 1 − 0.1 · 0.5 = 0.95 → 9474 ms.
        let without =
            Fleet::parse_toml(&dir.join("fleet.toml"), &FLEET.replace("PROFILE_LINE", "")).unwrap();
        assert_eq!(two_halves(&without).jobs[0].finish_ms, Some(9_474));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_profile_names_the_model_and_file() {
        let with = FLEET.replace("PROFILE_LINE", "profile = \"nope.toml\"");
        let e = Fleet::parse_toml(Path::new("/tmp/f.toml"), &with)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("models.V100M32.profile") && e.contains("nope.toml"),
            "{e}"
        );
    }
}

mod remote {
    use super::super::*;
    use crate::model::cluster::Placement;
    use crate::model::fleet::NodeSpec;
    use crate::model::slicing::SlicingMode;
    use crate::policy::gpu_select;
    use crate::policy::RemotePlacement;

    /// First fit locally; else host on the first node the host part fits, devices on the first
    /// other node the device part fits.
    struct RemoteFirstFit;
    impl Policy for RemoteFirstFit {
        fn name(&self) -> &str {
            "remote-first-fit"
        }
        fn place(
            &mut self,
            c: &Cluster,
            _job: PodId,
            pod: &Pod,
            _: &mut SimRng,
        ) -> Option<Placement> {
            let node = (0..c.nodes().len()).find(|&n| c.node(n).fits(pod))?;
            Some(Placement {
                node,
                gpus: gpu_select::best(c.node(node), pod)?,
            })
        }
        fn place_remote(
            &mut self,
            c: &Cluster,
            _job: PodId,
            pod: &Pod,
            _: &mut SimRng,
        ) -> Option<RemotePlacement> {
            let (h, d) = Cluster::split_remote(pod);
            let host = (0..c.nodes().len()).find(|&n| c.node(n).fits(&h))?;
            let node = (0..c.nodes().len()).find(|&n| n != host && c.node(n).fits(&d))?;
            Some(RemotePlacement {
                host,
                device: Placement {
                    node,
                    gpus: gpu_select::best(c.node(node), &d)?,
                },
            })
        }
    }

    #[test]
    fn a_job_too_big_for_the_gpu_node_runs_remotely_at_rho() {
        let mut f = Fleet::new(
            "t".into(),
            vec![
                NodeSpec::new("front".into(), 96_000, 1 << 20, 0, String::new()),
                NodeSpec::new("gpu".into(), 8_000, 1 << 16, 1, "V100M32".into()),
            ],
        );
        f.set_mode(SlicingMode::Whole).unwrap();
        // 32 cores: more than the GPU node has, so it must run its front end on "front".
        let mut p = Pod::new("big-front-end", 32_000, 4096, 1, 1000);
        p.work_ms = Some(9_000);
        p.demand_milli = Some(1000);
        let w = Workload {
            name: "w".into(),
            pods: vec![p],
        };
        let o = run(&f, &w, &mut RemoteFirstFit, &ReplayConfig::default()).unwrap();
        // Remote penalty ρ = 0.9 by default: 9 s of work takes 10 s.
        assert_eq!(o.jobs[0].finish_ms, Some(10_000));
        assert_eq!(o.jobs[0].node.as_deref(), Some("gpu"));
        assert_eq!(o.figures.jobs_finished, 1);
    }
}

/// Gang jobs across nodes (issue 8 item 5): placed whole on several nodes, preempted whole,
/// advancing at the cross-node factor; every time computed by hand.
mod gangs {
    use super::super::*;
    use super::runs::FirstFit;
    use crate::model::cluster::Placement;
    use crate::model::fleet::NodeSpec;
    use crate::model::job::GangShape;
    use crate::model::slicing::SlicingMode;

    /// `nodes` nodes of 8 whole V100s.
    fn fleet(nodes: u32) -> Fleet {
        let mut f = Fleet::new(
            "t".into(),
            (0..nodes)
                .map(|i| NodeSpec::new(format!("n{i}"), 64_000, 1 << 20, 8, "V100M32".into()))
                .collect(),
        );
        f.set_mode(SlicingMode::Whole).unwrap();
        f
    }

    fn job(name: &str, arrival_s: u64, work_s: u64, gpus: u32) -> Pod {
        let mut p = Pod::new(name, 8_000, 1024, gpus, 1000);
        p.arrival_ms = arrival_s * 1000;
        p.work_ms = Some(work_s * 1000);
        p.demand_milli = Some(1000);
        p
    }

    /// First fit, the default gang placer; jobs named `hi*` preempt every running `v*`.
    struct Preempting;
    impl Policy for Preempting {
        fn name(&self) -> &str {
            "preempting"
        }
        fn place(&mut self, c: &Cluster, job: PodId, p: &Pod, r: &mut SimRng) -> Option<Placement> {
            FirstFit.place(c, job, p, r)
        }
        fn preempt(&mut self, _: &Cluster, _: PodId, pod: &Pod, jobs: &JobsView<'_>) -> Vec<PodId> {
            if !pod.name.starts_with("hi") {
                return Vec::new();
            }
            let running = jobs.running.iter().map(|r| r.pod);
            running
                .filter(|&v| jobs.pods[v].name.starts_with('v'))
                .collect()
        }
    }

    fn replay(nodes: u32, pods: Vec<Pod>, factor: f64, restart_s: u64) -> ReplayOutcome {
        let w = Workload {
            name: "w".into(),
            pods,
        };
        let mut config = ReplayConfig {
            restart_cost_ms: restart_s * 1000,
            ..Default::default()
        };
        config.perf.cross_node_factor = factor;
        run(&fleet(nodes), &w, &mut Preempting, &config).unwrap()
    }

    fn sorted_nodes(j: &crate::metrics::replay_metrics::JobRecord) -> Vec<String> {
        let mut n: Vec<String> = j
            .node
            .as_deref()
            .unwrap()
            .split('|')
            .map(str::to_owned)
            .collect();
        n.sort();
        n
    }

    #[test]
    fn a_gang_larger_than_a_node_runs_on_two_at_the_cross_node_factor() {
        // 16 GPUs on 8-GPU nodes, 100 s of work at factor 0.5: 200 s.
        let o = replay(2, vec![job("v-gang", 0, 100, 16)], 0.5, 0);
        let g = &o.jobs[0];
        assert_eq!((g.state.name(), g.finish_ms), ("finished", Some(200_000)));
        assert_eq!(sorted_nodes(g), ["n0", "n1"]);
        assert_eq!((o.figures.gang_jobs, o.figures.jobs_unplaceable), (1, 0));
        // Both nodes fully allocated for 200 s.
        assert_eq!(o.figures.util_alloc_pct, 100.0);
    }

    #[test]
    fn a_gang_is_preempted_whole_and_restarts_only_whole() {
        // v-gang takes all 16 cards at 0 s (rate 0.5). hi (8 cards, 20 s) arrives at 10 s and
        // preempts it: the gang did 5 s of work; 95 s + 5 s restart = 100 s left. Both parts
        // are released: small (8 cards, 12 s, 10 s of work) gets the other node at once. The
        // gang never restarts on one free node: at 22 s only 8 cards are free; at 30 s (hi
        // done) it restarts whole and needs 100 / 0.5 = 200 s: it finishes at 230 s.
        let pods = vec![
            job("v-gang", 0, 100, 16),
            job("hi", 10, 20, 8),
            job("small", 12, 10, 8),
        ];
        let o = replay(2, pods, 0.5, 5);
        let [g, hi, small] = &o.jobs[..] else {
            panic!()
        };
        assert_eq!(o.figures.preemptions, 1);
        assert_eq!(g.preemptions, 1);
        assert_eq!(
            (hi.first_start_ms, hi.finish_ms),
            (Some(10_000), Some(30_000))
        );
        assert_eq!(
            (small.first_start_ms, small.finish_ms),
            (Some(12_000), Some(22_000))
        );
        assert_eq!(g.finish_ms, Some(230_000));
        assert_eq!(g.waited_ms, 20_000, "queued 10 s → 30 s");
        assert_eq!(sorted_nodes(g), ["n0", "n1"]);
    }

    #[test]
    fn a_stated_shape_goes_on_that_many_nodes_even_if_one_would_hold_it() {
        // 2 × 4 on 8-GPU nodes: two nodes, so it pays the factor: 30 s / 0.5 = 60 s.
        let mut g = job("g", 0, 30, 8);
        g.gang = Some(GangShape {
            num_nodes: 2,
            gpus_per_node: 4,
        });
        let o = replay(2, vec![g.clone(), job("one", 0, 30, 8)], 0.5, 0);
        assert_eq!(o.jobs[0].finish_ms, Some(60_000));
        assert_eq!(o.jobs[0].node.as_deref().unwrap().split('|').count(), 2);
        // The single-node 8-GPU job finds no node with 8 free cards until the gang ends.
        assert_eq!(o.jobs[1].first_start_ms, Some(60_000));
        // 3 × 4 on two nodes can never run: one part per node.
        g.gang = Some(GangShape {
            num_nodes: 3,
            gpus_per_node: 4,
        });
        g.num_gpu = 12;
        let o = replay(2, vec![g], 0.5, 0);
        assert_eq!(
            (o.jobs[0].state.name(), o.jobs[0].reason.name()),
            ("unplaceable", "too-many-gpus")
        );
    }

    #[test]
    fn a_job_one_node_holds_is_never_a_gang() {
        let o = replay(3, vec![job("eight", 0, 10, 8)], 0.5, 0);
        assert_eq!(o.jobs[0].finish_ms, Some(10_000), "no cross-node factor");
        assert_eq!(o.figures.gang_jobs, 0);
    }
}

/// Topology costs (issue 10 acceptance): a 4-GPU job on an HGX board and on a PCIe box, a
/// 16-GPU gang within one rack and across two, remote pooling by path; every figure by hand
/// from the model in `crate::model::topology`.
mod topology {
    use super::super::*;
    use crate::model::cluster::Placement;
    use crate::model::gang::GangPlacement;
    use std::path::Path;

    /// Four HGX A100 nodes, two a rack; one A10 PCIe box and one CPU node in rack r0. Every
    /// model at speed 1.0 so that only the link factor shows.
    const FLEET: &str = r#"
[topology]
nic_gbps = 200

[models.A100-80]
speed = { default = 1.0 }

[models.A10]
speed = { default = 1.0 }

[[groups]]
name = "hgx"
count = 4
cpu_milli = 128000
memory_mib = 1048576
model = "A100-80"
devices = 8
rack = "r{i/2}"

[[groups]]
name = "pcie"
count = 1
cpu_milli = 64000
memory_mib = 262144
model = "A10"
devices = 4
rack = "r0"

[[groups]]
name = "cpu"
count = 1
cpu_milli = 64000
memory_mib = 262144
rack = "r1"
"#;

    fn fleet() -> Fleet {
        Fleet::parse_toml(Path::new("topo.toml"), FLEET).unwrap()
    }

    fn job(name: &str, gpus: u32, model: &str) -> Pod {
        let mut p = Pod::new(name, 8_000, 1024, gpus, 1000);
        p.work_ms = Some(100_000);
        p.demand_milli = Some(1000);
        p.gpu_spec = crate::model::job::GpuSpec::parse(model);
        p
    }

    /// Places each job on the nodes it names (by index) from card 0; gangs split evenly.
    struct Pinned(Vec<Vec<usize>>);
    impl Policy for Pinned {
        fn name(&self) -> &str {
            "pinned"
        }
        fn place(&mut self, c: &Cluster, job: PodId, p: &Pod, _: &mut SimRng) -> Option<Placement> {
            if p.name.starts_with("remote") {
                return None;
            }
            let node = self.0[job][0];
            let gpus = (0..p.num_gpu as u16).collect();
            c.node(node).fits(p).then_some(Placement { node, gpus })
        }
        fn place_gang(
            &mut self,
            c: &Cluster,
            job: PodId,
            p: &Pod,
            _: &mut SimRng,
        ) -> Option<GangPlacement> {
            let per = p.num_gpu as usize / self.0[job].len();
            let parts = self.0[job]
                .iter()
                .map(|&node| Placement {
                    node,
                    gpus: (0..per as u16).collect(),
                })
                .collect();
            let g = GangPlacement { parts };
            c.check_gang(p, &g).is_ok().then_some(g)
        }
        /// Jobs named `remote*`: host part on the first node named, devices on the second.
        fn place_remote(
            &mut self,
            _: &Cluster,
            job: PodId,
            p: &Pod,
            _: &mut SimRng,
        ) -> Option<crate::policy::RemotePlacement> {
            let nodes = &self.0[job];
            Some(crate::policy::RemotePlacement {
                host: nodes[0],
                device: Placement {
                    node: nodes[1],
                    gpus: (0..p.num_gpu as u16).collect(),
                },
            })
        }
    }

    fn replay(pods: Vec<Pod>, nodes: Vec<Vec<usize>>) -> ReplayOutcome {
        let w = Workload {
            name: "w".into(),
            pods,
        };
        run(&fleet(), &w, &mut Pinned(nodes), &ReplayConfig::default()).unwrap()
    }

    /// c = (1/0.8 − 1) / (600/25 − 1), the communication share of the default model.
    fn c() -> f64 {
        0.25 / 23.0
    }

    /// ms to do 100 s of work at `factor` (the engine rounds finish times up to the ms).
    fn finish(factor: f64) -> Option<u64> {
        Some((100_000.0 / factor).ceil() as u64)
    }

    #[test]
    fn a_four_gpu_job_runs_at_full_speed_on_an_hgx_board_and_slower_over_pcie() {
        let o = replay(
            vec![job("hgx", 4, "A100-80"), job("pcie", 4, "A10")],
            vec![vec![0], vec![4]],
        );
        // NVSwitch 600 GB/s is the reference: factor 1, 100 s.
        assert_eq!(o.jobs[0].finish_ms, Some(100_000));
        // PCIe Gen4 64 GB/s: f = 1 / (1 + c (600/64 − 1)) = 0.91656: 109.104 s.
        let f = 1.0 / (1.0 + c() * (600.0 / 64.0 - 1.0));
        assert!((f - 0.916_56).abs() < 1e-5);
        assert_eq!(o.jobs[1].finish_ms, finish(f));
        assert_eq!(o.jobs[1].finish_ms, Some(109_104));
        assert_eq!(
            (o.jobs[0].tier, o.jobs[1].tier),
            (Some(Tier::Board), Some(Tier::Node))
        );
        let t = o.tiers.as_ref().unwrap();
        // The A10 box has no fabric: across PCIe is the best a 4-GPU job gets there.
        assert_eq!((t.multi_device_jobs, t.at_best_tier), (2, 2));
        assert_eq!(o.jobs[1].best_tier, Some(Tier::Node));
    }

    #[test]
    fn a_sixteen_gpu_gang_within_one_rack_and_across_two() {
        let o = replay(
            vec![job("rack", 16, "A100-80"), job("spine", 16, "A100-80")],
            vec![vec![0, 1], vec![2, 0]],
        );
        // Second gang waits for the first (node 0 is busy): it starts when the first ends.
        // One rack, 200 Gb/s NICs (25 GB/s): f = 1 / (1 + 23c) = 0.8 — the flat model's
        // cross-node factor, exactly: 125 s.
        assert_eq!(o.jobs[0].finish_ms, finish(0.8));
        assert_eq!(o.jobs[0].finish_ms, Some(125_000));
        assert_eq!(o.jobs[0].tier, Some(Tier::Net(0)));
        // Across racks through the 2:1 spine (12.5 GB/s): f = 1 / (1 + 47c) = 0.66187,
        // 100 s × (1 + 47c) = 151.087 s after its start at 125 s.
        let f = 1.0 / (1.0 + c() * 47.0);
        let spine = o.jobs[1].finish_ms.unwrap() - o.jobs[1].first_start_ms.unwrap();
        assert_eq!(Some(spine), finish(f));
        assert_eq!(spine, 151_087);
        assert_eq!(o.jobs[1].tier, Some(Tier::Net(1)));
        let t = o.tiers.as_ref().unwrap();
        assert_eq!((t.multi_device_jobs, t.at_best_tier), (2, 1));
        assert_eq!(t.by_tier["rack"], 1);
        assert_eq!(t.by_tier["spine"], 1);
    }

    #[test]
    fn remote_pooling_pays_by_path() {
        // Host part on the CPU node (rack r1, node 5); devices on hgx-0002 (r1: 2 links,
        // ρ = 0.9) and on hgx-0000 (r0: 4 links through the spine,
        // ρ = 1 / (1 + (1/0.9 − 1) · 2) = 0.81818).
        let o = replay(
            vec![
                job("remote-rack", 1, "A100-80"),
                job("remote-spine", 1, "A100-80"),
            ],
            vec![vec![5, 2], vec![5, 0]],
        );
        assert_eq!(o.jobs[0].finish_ms, finish(0.9));
        let rho = 1.0 / (1.0 + (1.0 / 0.9 - 1.0) * 2.0);
        assert_eq!(o.jobs[1].finish_ms, finish(rho));
        assert_eq!(o.jobs[1].finish_ms, Some(122_223));
    }

    #[test]
    fn without_a_topology_the_same_gangs_pay_the_flat_factor() {
        let flat = FLEET
            .replace("[topology]\nnic_gbps = 200\n", "")
            .replace("rack = \"r{i/2}\"\n", "")
            .replace("rack = \"r0\"\n", "")
            .replace("rack = \"r1\"\n", "");
        let fleet = Fleet::parse_toml(Path::new("flat.toml"), &flat).unwrap();
        assert!(fleet.topology.is_none());
        let w = Workload {
            name: "w".into(),
            pods: vec![job("spine", 16, "A100-80"), job("pcie", 4, "A10")],
        };
        let mut p = Pinned(vec![vec![2, 0], vec![4]]);
        let o = run(&fleet, &w, &mut p, &ReplayConfig::default()).unwrap();
        assert_eq!(
            o.jobs[0].finish_ms,
            Some(125_000),
            "0.8 wherever the nodes are"
        );
        assert_eq!(o.jobs[1].finish_ms, Some(100_000), "in-node links are free");
        assert!(o.tiers.is_none() && o.jobs[0].tier.is_none());
    }
}

mod memory {
    use super::super::*;

    #[test]
    fn a_jobs_engine_state_is_at_most_120_bytes_and_an_unset_instant_reads_none() {
        // 10^6 of them live through a 10^6-job replay (issue 9: ≤ 300 MB in all).
        let size = std::mem::size_of::<Job>();
        assert!(size <= 120, "{size}");
        let mut t = MaybeMs::NONE;
        assert_eq!(t.get(), None);
        t.get_or_insert(0);
        t.get_or_insert(5);
        assert_eq!(t.get(), Some(0));
        assert!(MaybeMs::at(7).is_some());
    }
}
