//! Energy and per-class outcomes of whole replays, checked against hand computations (issue 13,
//! acceptance: "Energy per run is within 1 % of a hand computation on a two-card, two-job
//! test").

use flexsim_sim::engine::replay::{self, ReplayConfig};
use flexsim_sim::metrics::replay_metrics::ReplayOutcome;
use flexsim_sim::model::cluster::{Cluster, Placement};
use flexsim_sim::model::fleet::{Fleet, NodeSpec};
use flexsim_sim::model::job::{Pod, PodId, Workload};
use flexsim_sim::model::slicing::SlicingMode;
use flexsim_sim::policy::{gpu_select, Policy, SimRng};

/// First node where the pod fits, tightest card.
struct FirstFit;
impl Policy for FirstFit {
    fn name(&self) -> &str {
        "first-fit"
    }
    fn place(&mut self, c: &Cluster, _: PodId, pod: &Pod, _: &mut SimRng) -> Option<Placement> {
        let node = (0..c.nodes().len()).find(|&n| c.node(n).fits(pod))?;
        Some(Placement {
            node,
            gpus: gpu_select::best(c.node(node), pod)?,
        })
    }
}

/// One node with two whole V100M32 cards (catalog power: idle 53 W, full load 300 W).
fn two_cards() -> Fleet {
    let mut f = Fleet::new(
        "two".into(),
        vec![NodeSpec::new(
            "n0".into(),
            64_000,
            1 << 20,
            2,
            "V100M32".into(),
        )],
    );
    f.set_mode(SlicingMode::Whole).unwrap();
    f
}

/// A whole-card job arriving at `arrival_s` with `work_s` of solo work and busy share
/// `demand_milli` / 1000.
fn job(name: &str, arrival_s: u64, work_s: u64, demand_milli: u32, qos: &str) -> Pod {
    let mut p = Pod::new(name, 1000, 1024, 1, 1000);
    p.arrival_ms = arrival_s * 1000;
    p.work_ms = Some(work_s * 1000);
    p.demand_milli = Some(demand_milli);
    p.qos = Some(qos.into());
    p
}

/// Job `a` (LS): arrives at 0, one hour of work, keeps half a card busy. Job `b` (BE): arrives
/// at 1800 s, 1800 s of work, keeps a whole card busy. Alone on whole cards both run at speed
/// 1.0 and both finish at 3600 s.
fn two_jobs(idle_off_ms: Option<u64>) -> ReplayOutcome {
    let w = Workload {
        name: "two-jobs".into(),
        pods: vec![
            job("a", 0, 3600, 500, "LS"),
            job("b", 1800, 1800, 1000, "BE"),
        ],
    };
    let config = ReplayConfig {
        idle_off_ms,
        ..ReplayConfig::default()
    };
    replay::run(&two_cards(), &w, &mut FirstFit, &config).unwrap()
}

fn close(got: f64, want: f64, rel: f64) -> bool {
    (got - want).abs() <= rel * want.abs()
}

#[test]
fn two_card_two_job_energy_matches_the_hand_computation() {
    let o = two_jobs(None);
    // The schedule the hand computation assumes: both finish at 3600 s, nobody waits.
    assert_eq!(o.figures.jobs_finished, 2);
    assert_eq!(o.figures.end_s, 3600.0);
    assert_eq!(o.jobs[0].finish_ms, Some(3_600_000));
    assert_eq!(o.jobs[1].finish_ms, Some(3_600_000));

    // By hand, V100M32: P_idle = 53 W, P_full = 300 W, so P_full − P_idle = 247 W; span
    // 0..3600 s.
    //   idle part, both cards the whole span:   2 × 53 W × 3600 s        = 381,600 J
    //   card of a, busy 0.5 for 0..3600 s:       247 W × 0.5 × 3600 s     = 444,600 J
    //   card of b, busy 1.0 for 1800..3600 s:    247 W × 1.0 × 1800 s     = 444,600 J
    //   total                                                             = 1,270,800 J
    //                                          = 1,270,800 / 3.6e6 kWh    = 0.353 kWh
    //   mean power 1,270,800 J / 3600 s = 353 W; busy card-hours 0.5 + 0.5 = 1.0, so
    //   0.353 kWh per busy GPU-hour; goodput (solo reference-card work × demand) is the same
    //   1.0 card-hour here, so 0.353 kWh per goodput GPU-hour too.
    let e = &o.energy;
    let hand_kwh = 1_270_800.0 / 3.6e6;
    assert!(
        close(e.energy_kwh, hand_kwh, 0.01),
        "{} vs {hand_kwh}",
        e.energy_kwh
    );
    // The integration is exact at event boundaries, so it agrees far better than 1 %.
    assert!(close(e.energy_kwh, 0.353, 1e-12), "{}", e.energy_kwh);
    assert!(close(e.power_avg_w, 353.0, 1e-12), "{}", e.power_avg_w);
    assert!(close(e.busy_gpu_h, 1.0, 1e-12), "{}", e.busy_gpu_h);
    assert!(close(e.kwh_per_busy_gpu_h.unwrap(), 0.353, 1e-12));
    assert!(close(e.goodput_gpu_h, 1.0, 1e-9), "{}", e.goodput_gpu_h);
    assert!(close(e.kwh_per_goodput_gpu_h.unwrap(), 0.353, 1e-9));
    assert_eq!(e.per_model.len(), 1);
    assert_eq!(e.per_model[0].model, "V100M32");
    assert!(close(e.per_model[0].energy_kwh, 0.353, 1e-12));
    assert!(e.idle_off.is_none());
}

#[test]
fn idle_off_saves_exactly_the_idle_power_of_the_empty_card() {
    // T = 10 min = 600 s. Card 0 holds a over 0..3600 s: never off. Card 1 is empty 0..1800 s
    // (b arrives at 1800 s): off 600..1800 s = 1200 s, then holds b until the end.
    //   saved = 53 W × 1200 s = 63,600 J = 63,600 / 3.6e6 kWh = 0.017666… kWh
    //   energy with idle-off = 1,270,800 − 63,600 = 1,207,200 J = 0.335333… kWh
    //   saved share = 63,600 / 1,270,800 = 5.0047… %
    let o = two_jobs(Some(600_000));
    let off = o.energy.idle_off.as_ref().unwrap();
    assert_eq!(off.after_min, 10.0);
    assert!(
        close(off.saved_kwh, 63_600.0 / 3.6e6, 1e-12),
        "{}",
        off.saved_kwh
    );
    assert!(close(off.energy_kwh, 1_207_200.0 / 3.6e6, 1e-12));
    assert!(close(off.saved_pct, 100.0 * 63_600.0 / 1_270_800.0, 1e-12));
    assert!(close(
        o.energy.per_model[0].idle_off_saved_kwh.unwrap(),
        63_600.0 / 3.6e6,
        1e-12
    ));
    // The schedule and the always-on energy are the same as without idle-off.
    assert_eq!(o.figures, two_jobs(None).figures);
    assert!(close(o.energy.energy_kwh, 0.353, 1e-12));

    // T longer than any empty stretch: nothing is saved.
    let o = two_jobs(Some(3_600_000));
    assert_eq!(o.energy.idle_off.unwrap().saved_kwh, 0.0);
}

#[test]
fn per_class_outcomes_follow_the_qos_column() {
    let o = two_jobs(None);
    let f = &o.fairness;
    assert_eq!(o.classes, vec!["BE".to_string(), "LS".to_string()]);
    let ls = &f.per_class["LS"];
    let be = &f.per_class["BE"];
    assert_eq!((ls.jobs, be.jobs), (1, 1));
    assert_eq!((ls.jct_p50_s, be.jct_p50_s), (Some(3600.0), Some(1800.0)));
    assert_eq!((ls.wait_p99_s, be.wait_p99_s), (Some(0.0), Some(0.0)));
    // GPU time received: a 3600 card-s, b 1800 card-s (2/3 and 1/3), as they asked.
    assert!(close(ls.gpu_time_share_pct, 200.0 / 3.0, 1e-12));
    assert!(close(be.gpu_time_share_pct, 100.0 / 3.0, 1e-12));
    assert!(close(ls.gpu_request_share_pct, 200.0 / 3.0, 1e-12));
    // Each class got what it asked and each job ran at solo speed: both indices are 1.
    assert!(close(f.jain_classes.unwrap(), 1.0, 1e-12));
    assert!(close(f.jain_jobs_slowdown.unwrap(), 1.0, 1e-12));
}
