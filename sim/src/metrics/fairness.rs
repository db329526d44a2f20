//! Fairness and per-class outcomes of a replay (issue 13, "Fairness and per-class outcomes").
//!
//! A job's *class* is its trace's QoS class where the trace has one (openb `qos`: `LS`, `BE`,
//! `Burstable`, `Guaranteed`), else its priority (`priority=N`; the native format's `priority`
//! column, 0 when absent) — [`class_of`]. Per class the replay reports the wait and JCT
//! percentiles, the share of GPU time the class received and the share it asked for.
//!
//! **Jain's fairness index** (R. Jain, D.-M. Chiu, W. Hawe, "A Quantitative Measure of Fairness
//! and Discrimination for Resource Allocation in Shared Computer Systems", DEC-TR-301, 1984):
//! for allocations x₁..xₙ, `J = (Σ xᵢ)² / (n · Σ xᵢ²)`, 1 when all are equal, 1/n when one
//! takes everything. Jain et al. apply it to *normalised* allocations xᵢ = Tᵢ / Oᵢ (what a user
//! got over what it should get, §3), and so does flexsim:
//! * over **classes**, xᵢ = the class's share of the GPU time received ÷ its share of the GPU
//!   time asked for (`jain_classes`): 1 when every class gets GPU time in proportion to its
//!   work; classes that ask for no GPU time are left out;
//! * over **finished jobs**, xᵢ = 1 / slowdown = solo work ÷ JCT, the job's progress rate
//!   relative to running alone on a reference card (`jain_jobs_slowdown`).
//!
//! GPU time is compute × time: a job's requested share of each card (`gpu_milli`) times its
//! number of cards times the time it held them (received), or times its solo work time
//! (asked for).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::metrics::replay_metrics::{JobRecord, Percentiles};
use crate::model::job::Pod;

/// What names a job's class: its QoS class, else its priority.
type ClassKey<'a> = (Option<&'a str>, i32);

fn class_key(pod: &Pod) -> ClassKey<'_> {
    match pod.qos.as_deref() {
        Some(q) => (Some(q), 0),
        None => (None, pod.priority),
    }
}

fn class_name((qos, priority): ClassKey<'_>) -> String {
    match qos {
        Some(q) => q.to_owned(),
        None => format!("priority={priority}"),
    }
}

/// The class a job is reported under (see the module docs).
pub fn class_of(pod: &Pod) -> String {
    class_name(class_key(pod))
}

/// The classes of `pods` sorted by name, and each pod's index among them; one name is built
/// per class, not per pod.
pub fn classes_of(pods: &[Pod]) -> (Vec<String>, Vec<u32>) {
    let keys: BTreeSet<ClassKey<'_>> = pods.iter().map(class_key).collect();
    let mut named: Vec<(String, ClassKey<'_>)> =
        keys.into_iter().map(|k| (class_name(k), k)).collect();
    named.sort();
    let index: BTreeMap<ClassKey<'_>, u32> = named
        .iter()
        .enumerate()
        .map(|(i, (_, k))| (*k, i as u32))
        .collect();
    let ids = pods.iter().map(|p| index[&class_key(p)]).collect();
    (named.into_iter().map(|(n, _)| n).collect(), ids)
}

/// Jain's fairness index of `xs` (module docs); `None` for an empty list or all zeros.
pub fn jain(xs: &[f64]) -> Option<f64> {
    let sum: f64 = xs.iter().sum();
    let squares: f64 = xs.iter().map(|x| x * x).sum();
    (!xs.is_empty() && squares > 0.0).then(|| sum * sum / (xs.len() as f64 * squares))
}

/// One class's outcomes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassOutcome {
    /// Jobs replayed (skipped ones left out) and finished.
    pub jobs: u64,
    pub jobs_finished: u64,
    /// Over replayed jobs, pending and unplaceable ones waiting until the end (as `wait_*`).
    pub wait_p50_s: Option<f64>,
    pub wait_p99_s: Option<f64>,
    /// Over finished jobs.
    pub jct_p50_s: Option<f64>,
    pub jct_p99_s: Option<f64>,
    /// The class's % of the GPU time all jobs received.
    pub gpu_time_share_pct: f64,
    /// The class's % of the GPU time all jobs asked for (solo work × cards × share).
    pub gpu_request_share_pct: f64,
}

/// Per-class outcomes and Jain's indices of a replay.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Fairness {
    pub per_class: BTreeMap<String, ClassOutcome>,
    /// Over classes of received ÷ asked GPU-time share; `None` with no GPU class.
    pub jain_classes: Option<f64>,
    /// Over finished jobs of 1 / slowdown; `None` with no finished job.
    pub jain_jobs_slowdown: Option<f64>,
}

impl Fairness {
    /// From the job records; `classes[j.class]` names job `j`'s class.
    pub fn of(jobs: &[JobRecord], classes: &[String]) -> Fairness {
        let mut groups: Vec<Vec<&JobRecord>> = vec![Vec::new(); classes.len()];
        for j in jobs.iter().filter(|j| j.state != "skipped") {
            if let Some(g) = groups.get_mut(j.class as usize) {
                g.push(j);
            }
        }
        let received: u128 = groups.iter().flatten().map(|j| j.gpu_milli_ms()).sum();
        let asked: u128 = groups.iter().flatten().map(|j| j.request_milli_ms()).sum();
        let pct = |x: u128, of: u128| {
            if of == 0 {
                0.0
            } else {
                100.0 * x as f64 / of as f64
            }
        };
        let mut per_class = BTreeMap::new();
        let mut ratios = Vec::new();
        for (name, g) in classes.iter().zip(&groups) {
            if g.is_empty() {
                continue;
            }
            let got: u128 = g.iter().map(|j| j.gpu_milli_ms()).sum();
            let want: u128 = g.iter().map(|j| j.request_milli_ms()).sum();
            let wait = Percentiles::of(g.iter().map(|j| j.waited_ms as f64 / 1000.0).collect());
            let jct = Percentiles::of(
                g.iter()
                    .filter_map(|j| j.jct_ms())
                    .map(|x| x as f64 / 1000.0)
                    .collect(),
            );
            let c = ClassOutcome {
                jobs: g.len() as u64,
                jobs_finished: g.iter().filter(|j| j.finish_ms.is_some()).count() as u64,
                wait_p50_s: wait.p50,
                wait_p99_s: wait.p99,
                jct_p50_s: jct.p50,
                jct_p99_s: jct.p99,
                gpu_time_share_pct: pct(got, received),
                gpu_request_share_pct: pct(want, asked),
            };
            if want > 0 && asked > 0 {
                ratios.push(c.gpu_time_share_pct / c.gpu_request_share_pct);
            }
            per_class.insert(name.clone(), c);
        }
        let rates: Vec<f64> = jobs
            .iter()
            .filter_map(JobRecord::slowdown)
            .filter(|s| *s > 0.0)
            .map(|s| 1.0 / s)
            .collect();
        Fairness {
            per_class,
            jain_classes: jain(&ratios),
            jain_jobs_slowdown: jain(&rates),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::replay_metrics::{JobReason, JobState};

    #[test]
    fn classes_are_the_qos_else_the_priority_sorted_by_name() {
        let pod = |qos: Option<&str>, priority: i32| {
            let mut p = Pod::new("p", 1, 1, 1, 1000);
            p.qos = qos.map(Into::into);
            p.priority = priority;
            p
        };
        let pods = [
            pod(Some("LS"), 3),
            pod(None, 2),
            pod(Some("BE"), 0),
            pod(None, -1),
            pod(Some("LS"), 3),
        ];
        let (names, ids) = classes_of(&pods);
        assert_eq!(names, ["BE", "LS", "priority=-1", "priority=2"]);
        assert_eq!(ids, [1, 3, 0, 2, 1]);
        assert_eq!(class_of(&pods[1]), "priority=2");
    }

    #[test]
    fn jain_worked_examples() {
        // Equal shares: (4·0.25)² / (4 · 4·0.0625) = 1 / 1 = 1.
        assert_eq!(jain(&[0.25; 4]), Some(1.0));
        // One takes all of n = 4: 1² / (4 · 1²) = 1/4.
        assert_eq!(jain(&[1.0, 0.0, 0.0, 0.0]), Some(0.25));
        // Jain et al.'s example shape: x = (1, 2, 3): 36 / (3 · 14) = 6/7.
        assert!((jain(&[1.0, 2.0, 3.0]).unwrap() - 6.0 / 7.0).abs() < 1e-15);
        // Scale-free.
        assert_eq!(jain(&[2.0, 2.0]), jain(&[7.0, 7.0]));
        assert_eq!(jain(&[]), None);
        assert_eq!(jain(&[0.0, 0.0]), None);
    }

    fn job(class: u32, work: u64, wait: u64, jct: Option<u64>, got: u128) -> JobRecord {
        JobRecord {
            pod: 0,
            arrival_ms: 0,
            work_ms: Some(work),
            demand: 1.0,
            first_start_ms: jct.map(|_| wait),
            finish_ms: jct,
            waited_ms: wait,
            preemptions: 0,
            node: None,
            state: if jct.is_some() {
                JobState::Finished
            } else {
                JobState::Pending
            },
            reason: JobReason::None,
            latency_sensitive: false,
            class,
            // One whole card: received = held × 1000, asked = work × 1000.
            held_ms: u64::try_from(got / 1000).unwrap(),
            card_milli: 1000,
            tier: None,
            best_tier: None,
        }
    }

    #[test]
    fn classes_get_percentiles_shares_and_jain() {
        let classes = vec!["BE".to_string(), "LS".to_string()];
        // LS: one job, 10 s of work, ran at once (JCT 10 s, slowdown 1).
        // BE: two jobs of 10 s; one waited 10 s (JCT 20 s, slowdown 2), one never ran.
        let jobs = vec![
            job(1, 10_000, 0, Some(10_000), 10_000_000),
            job(0, 10_000, 10_000, Some(20_000), 10_000_000),
            job(0, 10_000, 30_000, None, 0),
        ];
        let f = Fairness::of(&jobs, &classes);
        let be = &f.per_class["BE"];
        let ls = &f.per_class["LS"];
        assert_eq!((be.jobs, be.jobs_finished, ls.jobs), (2, 1, 1));
        assert_eq!((be.wait_p50_s, be.wait_p99_s), (Some(10.0), Some(30.0)));
        assert_eq!(be.jct_p99_s, Some(20.0));
        // Received 50 % / 50 %; asked 2/3 / 1/3.
        assert_eq!(be.gpu_time_share_pct, 50.0);
        assert!((be.gpu_request_share_pct - 200.0 / 3.0).abs() < 1e-12);
        // Ratios 0.75 and 1.5: (2.25)² / (2 · (0.5625 + 2.25)) = 5.0625 / 5.625 = 0.9.
        assert!((f.jain_classes.unwrap() - 0.9).abs() < 1e-12);
        // 1/slowdown of finished jobs: 1 and 0.5: 2.25 / (2 · 1.25) = 0.9.
        assert!((f.jain_jobs_slowdown.unwrap() - 0.9).abs() < 1e-12);
    }
}
