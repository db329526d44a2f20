//! What a replay measures (DESIGN "Utilization"; issue 3 "Metrics"): time-weighted allocated
//! and busy utilization, cluster-wide and per device model, fragmentation over time, waits,
//! JCT, slowdown, SLO attainment, preemptions, and per-job records.
//!
//! Utilization is averaged over the *arrival window* — from the first arrival to the last —
//! the same window for every policy on a workload, so that a policy that drains slowly is not
//! credited (or blamed) for a longer tail. Utilization is accounted exactly: every card contributes its current allocated and busy
//! shares in integer micro-cards, and the cluster sums are integrated over time in `u128`
//! card-microunit-milliseconds, so nothing drifts and results do not depend on event order.

use serde::Serialize;
use std::collections::BTreeMap;

use crate::metrics::energy::{EnergyFigures, EnergyMeter};
use crate::metrics::fairness::Fairness;

/// The cluster at one timeseries sample, besides utilization.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimePoint {
    pub frag_ratio_pct: f64,
    pub running: u64,
    pub waiting: u64,
}

/// One row of `timeseries.csv`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeRow {
    pub time_ms: u64,
    pub util_alloc_pct: f64,
    pub util_busy_pct: f64,
    pub point: TimePoint,
}

/// Why a job is still pending when a replay ends, judged on the cluster as it ended. The names
/// ([`PendingReason::name`]) are stable: `summary.json` and `jobs.csv` write them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PendingReason {
    /// `no-fit-now`: no node of the cluster as it ended holds it, whole or split for remote
    /// placement: it waits for resources still held at the end (the empty fleet holds it).
    NoFitNow,
    /// `remote-only`: the cluster as it ended holds it only split over two nodes (host part
    /// and devices), as the empty fleet does: a policy that never places remotely never runs it.
    RemoteOnly,
    /// `starved`: a node of the cluster as it ended holds it whole, yet the policy placed it
    /// nowhere in the last scheduling pass — the policy declines it (its own rule, e.g. a
    /// static MIG geometry's instance sizes), not the resources.
    Starved,
}

impl PendingReason {
    pub fn name(self) -> &'static str {
        match self {
            PendingReason::NoFitNow => "no-fit-now",
            PendingReason::RemoteOnly => "remote-only",
            PendingReason::Starved => "starved",
        }
    }
}

/// What `jobs.csv` writes as the reason of a skipped job (the trace gives it no work).
pub const SKIPPED_REASON: &str = "no-work";

/// Where a job stood when the run ended (`jobs.csv` `state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum JobState {
    Finished,
    Running,
    /// Waiting, or not yet arrived.
    Pending,
    /// The trace gives it no work: not replayed.
    Skipped,
    /// Fits no node of the empty fleet: never queued.
    Unplaceable,
}

impl JobState {
    /// The stable name `jobs.csv` and `summary.json` write.
    pub fn name(self) -> &'static str {
        match self {
            JobState::Finished => "finished",
            JobState::Running => "running",
            JobState::Pending => "pending",
            JobState::Skipped => "skipped",
            JobState::Unplaceable => "unplaceable",
        }
    }
}

/// Why a job is where it stands at the end ([`JobRecord::reason`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum JobReason {
    /// Running or finished: nothing to explain.
    None,
    /// Skipped: the trace gives it no work ([`SKIPPED_REASON`]).
    NoWork,
    /// Unplaceable: why no node of the empty fleet fits it.
    Unplaceable(crate::model::cluster::Unplaceable),
    /// Pending: why it still waits.
    Pending(PendingReason),
}

impl JobReason {
    /// The stable name `jobs.csv` writes; empty for [`JobReason::None`].
    pub fn name(self) -> &'static str {
        match self {
            JobReason::None => "",
            JobReason::NoWork => SKIPPED_REASON,
            JobReason::Unplaceable(u) => u.name(),
            JobReason::Pending(p) => p.name(),
        }
    }

    pub fn is_empty(self) -> bool {
        self == JobReason::None
    }
}

/// A state or reason compares equal to its name (`record.state == "finished"`).
macro_rules! equal_to_its_name {
    ($t:ty) => {
        impl PartialEq<&str> for $t {
            fn eq(&self, name: &&str) -> bool {
                self.name() == *name
            }
        }
        impl PartialEq<str> for $t {
            fn eq(&self, name: &str) -> bool {
                self.name() == name
            }
        }
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}
equal_to_its_name!(JobState);
equal_to_its_name!(JobReason);

/// One row of `jobs.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRecord {
    pub pod: usize,
    pub arrival_ms: u64,
    pub work_ms: Option<u64>,
    /// Busy share used by the model (the trace's or drawn).
    pub demand: f64,
    pub first_start_ms: Option<u64>,
    pub finish_ms: Option<u64>,
    /// Time spent queued, requeues included; for a pending job, until the end of the run.
    pub waited_ms: u64,
    pub preemptions: u32,
    /// Last node it ran on; a gang's nodes joined by `|`, in part order. Shared with the
    /// other records of the node (one name per node, not per job).
    pub node: Option<std::sync::Arc<str>>,
    /// `finished`, `running`, `pending`, `skipped` or `unplaceable`.
    pub state: JobState,
    /// Why an unplaceable job fits no node of the empty fleet (`gpu-models`, ...), why a
    /// pending job still waits (`no-fit-now`, `remote-only`, `starved`), `no-work` for a
    /// skipped job; empty for running and finished jobs.
    pub reason: JobReason,
    pub latency_sensitive: bool,
    /// Index of the job's class ([`crate::metrics::fairness::class_of`]) in
    /// [`ReplayOutcome::classes`].
    pub class: u32,
    /// Time it held its cards, ms (a CPU-only job: time run).
    pub held_ms: u64,
    /// What it asks of the fleet's cards at once: requested milli of each card × cards
    /// (0 for a CPU-only job). [`JobRecord::gpu_milli_ms`] and
    /// [`JobRecord::request_milli_ms`] are products of this, kept as factors so that a record
    /// needs no 16-byte integers (176 → 128 bytes; issue 9's per-job memory).
    pub card_milli: u64,
    /// On a fleet with a topology, the tier its (last) placement spanned; `None` on a flat
    /// fleet or for a job that never ran ([`crate::metrics::tiers`]).
    pub tier: Option<crate::model::topology::Tier>,
    /// On a fleet with a topology, the tightest tier a job of its shape can span there.
    pub best_tier: Option<crate::model::topology::Tier>,
}

impl JobRecord {
    /// GPU time received: requested milli of each card × cards × time held, milli-card-ms.
    pub fn gpu_milli_ms(&self) -> u128 {
        u128::from(self.held_ms) * u128::from(self.card_milli)
    }

    /// GPU time asked for: requested milli × cards × solo work time, milli-card-ms.
    pub fn request_milli_ms(&self) -> u128 {
        u128::from(self.work_ms.unwrap_or(0)) * u128::from(self.card_milli)
    }

    pub fn jct_ms(&self) -> Option<u64> {
        self.finish_ms.map(|f| f - self.arrival_ms)
    }

    /// JCT over solo work time (ideal: alone on a whole reference card).
    pub fn slowdown(&self) -> Option<f64> {
        match (self.jct_ms(), self.work_ms) {
            (Some(jct), Some(w)) if w > 0 => Some(jct as f64 / w as f64),
            _ => None,
        }
    }
}

/// Time-weighted use of one device model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelUse {
    pub model: String,
    pub cards: u64,
    pub util_alloc_pct: f64,
    pub util_busy_pct: f64,
}

/// Percentiles of a distribution (nearest rank); `None` when empty.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Percentiles {
    pub p50: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
}

impl Percentiles {
    pub fn of(mut xs: Vec<f64>) -> Percentiles {
        // Unstable is exact here: values equal under `total_cmp` are the same bits.
        xs.sort_unstable_by(f64::total_cmp);
        let at = |q: f64| {
            if xs.is_empty() {
                return None;
            }
            let rank = ((q * xs.len() as f64).ceil() as usize).clamp(1, xs.len());
            Some(xs[rank - 1])
        };
        Percentiles {
            p50: at(0.50),
            p95: at(0.95),
            p99: at(0.99),
        }
    }
}

/// The headline figures of a replay.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplayFigures {
    pub util_alloc_pct: f64,
    pub util_busy_pct: f64,
    /// Useful busy work: the busy card-time the work done in the window would have taken alone
    /// on reference cards (speed 1.0), % of capacity. Unlike `util_busy_pct` it does not grow
    /// when co-tenants slow each other down, and it credits faster devices for their speed.
    pub util_goodput_pct: f64,
    pub frag_ratio_pct_mean: f64,
    pub wait_s: Percentiles,
    pub jct_s: Percentiles,
    pub slowdown: Percentiles,
    pub slo_attainment_pct: Option<f64>,
    pub preemptions: u64,
    /// Replayed jobs placed as gangs over several nodes (a stated multi-node shape, or more
    /// devices than any node has), whether they ran or not.
    pub gang_jobs: u64,
    pub jobs_total: u64,
    pub jobs_finished: u64,
    pub jobs_pending: u64,
    pub jobs_running: u64,
    pub jobs_skipped: u64,
    /// Jobs that fit no node of the empty fleet; finished + running + pending + skipped +
    /// unplaceable = total.
    pub jobs_unplaceable: u64,
    /// Unplaceable jobs per reason name.
    pub unplaceable_by_reason: BTreeMap<String, u64>,
    /// Pending jobs per reason name.
    pub pending_by_reason: BTreeMap<String, u64>,
    /// The utilization window (first to last arrival).
    pub start_s: f64,
    pub window_end_s: f64,
    /// When the last job finished (or the run stopped).
    pub end_s: f64,
    pub events: u64,
}

/// Everything a replay produced.
#[derive(Debug, Clone)]
pub struct ReplayOutcome {
    pub figures: ReplayFigures,
    pub per_model: Vec<ModelUse>,
    pub timeseries: Vec<TimeRow>,
    pub jobs: Vec<JobRecord>,
    /// The slicing mode each device model ran in, and where it came from.
    pub slicing: std::collections::BTreeMap<String, crate::model::fleet::ModelMode>,
    /// Energy over the run (empty when the metrics had no [`EnergyMeter`]).
    pub energy: EnergyFigures,
    /// Per-class outcomes and Jain's indices.
    pub fairness: Fairness,
    /// Class names, indexed by [`JobRecord::class`].
    pub classes: Vec<String>,
    /// Where multi-device jobs landed, on a fleet with a topology; `None` on a flat one.
    pub tiers: Option<crate::metrics::tiers::TierFigures>,
}

/// Accumulates utilization and samples while a replay runs.
#[derive(Debug, Clone)]
pub struct Metrics {
    start_ms: u64,
    /// Utilization is integrated over [start_ms, window_end_ms).
    window_end_ms: u64,
    interval_ms: u64,
    next_sample_ms: u64,
    cards: u64,
    models: Vec<String>,
    cards_per_model: Vec<u64>,
    /// Current Σ busy and Σ allocated, micro-cards (1e6 = one card).
    busy_now: u64,
    alloc_now: u64,
    model_now: Vec<(u64, u64)>,
    busy_integral: u128,
    alloc_integral: u128,
    /// Σ solo-equivalent busy card-ms done inside the window (see `util_goodput_pct`).
    goodput_card_ms: f64,
    model_integral: Vec<(u128, u128)>,
    pub preemptions: u64,
    /// Replayed jobs placed as gangs over several nodes (see `ReplayFigures::gang_jobs`).
    pub gang_jobs: u64,
    rows: Vec<TimeRow>,
    /// Σ solo-equivalent busy card-ms done over the whole run (energy per goodput).
    goodput_run_card_ms: f64,
    energy: Option<EnergyMeter>,
}

const MICRO: f64 = 1e6;

impl Metrics {
    pub fn new(
        start_ms: u64,
        window_end_ms: u64,
        interval_ms: u64,
        cards: u64,
        models: Vec<String>,
        cards_per_model: Vec<u64>,
    ) -> Metrics {
        let n = models.len();
        Metrics {
            start_ms,
            window_end_ms: window_end_ms.max(start_ms + 1),
            interval_ms: interval_ms.max(1),
            next_sample_ms: start_ms,
            cards,
            models,
            cards_per_model,
            busy_now: 0,
            alloc_now: 0,
            model_now: vec![(0, 0); n],
            busy_integral: 0,
            alloc_integral: 0,
            goodput_card_ms: 0.0,
            model_integral: vec![(0, 0); n],
            preemptions: 0,
            gang_jobs: 0,
            rows: Vec::new(),
            goodput_run_card_ms: 0.0,
            energy: None,
        }
    }

    /// Meters energy with `meter` (its span starts where the meter says).
    pub fn with_energy(mut self, meter: EnergyMeter) -> Metrics {
        self.energy = Some(meter);
        self
    }

    /// Card `card` of node `node` has a tenant or none at `now` (idle-off accounting).
    pub fn card_tenancy(&mut self, node: usize, card: usize, occupied: bool, now: u64) {
        if let Some(e) = &mut self.energy {
            e.tenancy(node, card, occupied, now);
        }
    }

    /// The next sample time strictly before `t`, advancing the grid; `None` if there is none.
    pub fn next_sample_before(&mut self, t: u64) -> Option<u64> {
        (self.next_sample_ms < t).then(|| {
            let at = self.next_sample_ms;
            self.next_sample_ms += self.interval_ms;
            at
        })
    }

    fn pct(used: u64, cards: u64) -> f64 {
        if cards == 0 {
            0.0
        } else {
            100.0 * used as f64 / (cards as f64 * MICRO)
        }
    }

    /// Records a timeseries row with the current utilization.
    pub fn sample(&mut self, time_ms: u64, point: TimePoint) {
        self.rows.push(TimeRow {
            time_ms,
            util_alloc_pct: Self::pct(self.alloc_now, self.cards),
            util_busy_pct: Self::pct(self.busy_now, self.cards),
            point,
        });
    }

    /// Adds the current state's contribution over [from, to) ∩ the window.
    pub fn integrate(&mut self, from: u64, to: u64) {
        if let Some(e) = &mut self.energy {
            e.integrate(from, to);
        }
        let (from, to) = (from.max(self.start_ms), to.min(self.window_end_ms));
        let dt = u128::from(to.saturating_sub(from));
        self.busy_integral += u128::from(self.busy_now) * dt;
        self.alloc_integral += u128::from(self.alloc_now) * dt;
        for (acc, now) in self.model_integral.iter_mut().zip(&self.model_now) {
            acc.0 += u128::from(now.0) * dt;
            acc.1 += u128::from(now.1) * dt;
        }
    }

    /// A job progressed at `rate` (work-ms per ms) over [from, to) on `cards` cards with solo
    /// demand `demand`: adds the part inside the window to the goodput.
    pub fn add_goodput(&mut self, from: u64, to: u64, rate: f64, demand: f64, cards: usize) {
        if to > from {
            self.goodput_run_card_ms += rate * (to - from) as f64 * demand * cards as f64;
        }
        let (from, to) = (from.max(self.start_ms), to.min(self.window_end_ms));
        if to > from {
            self.goodput_card_ms += rate * (to - from) as f64 * demand * cards as f64;
        }
    }

    /// A card's (busy, allocated) went from `old` to `new`.
    pub fn change_use(&mut self, model: Option<usize>, old: (u64, u64), new: (u64, u64)) {
        self.busy_now = self.busy_now + new.0 - old.0;
        self.alloc_now = self.alloc_now + new.1 - old.1;
        if let Some(e) = &mut self.energy {
            e.change_busy(model, old.0, new.0);
        }
        if let Some(m) = model {
            let now = &mut self.model_now[m];
            now.0 = now.0 + new.0 - old.0;
            now.1 = now.1 + new.1 - old.1;
        }
    }

    fn span_ms(&self, end_ms: u64) -> u128 {
        u128::from(
            end_ms
                .min(self.window_end_ms)
                .saturating_sub(self.start_ms)
                .max(1),
        )
    }

    fn integral_pct(integral: u128, cards: u64, span: u128) -> f64 {
        if cards == 0 {
            0.0
        } else {
            100.0 * integral as f64 / (cards as f64 * MICRO * span as f64)
        }
    }

    /// The figures of the run that ended at `end_ms`; `classes` names the jobs' classes
    /// ([`JobRecord::class`]).
    pub fn into_outcome(
        mut self,
        end_ms: u64,
        jobs: Vec<JobRecord>,
        events: u64,
        slo_slowdown: f64,
        classes: Vec<String>,
    ) -> ReplayOutcome {
        let energy = self.energy.take().map_or_else(EnergyFigures::default, |e| {
            EnergyMeter::with_goodput(e.figures(end_ms, &self.models), self.goodput_run_card_ms)
        });
        let fairness = Fairness::of(&jobs, &classes);
        let span = self.span_ms(end_ms);
        let per_model = self
            .models
            .iter()
            .enumerate()
            .map(|(i, m)| ModelUse {
                model: m.clone(),
                cards: self.cards_per_model[i],
                util_alloc_pct: Self::integral_pct(
                    self.model_integral[i].1,
                    self.cards_per_model[i],
                    span,
                ),
                util_busy_pct: Self::integral_pct(
                    self.model_integral[i].0,
                    self.cards_per_model[i],
                    span,
                ),
            })
            .collect();
        let count = |s: JobState| jobs.iter().filter(|j| j.state == s).count() as u64;
        let by_reason = |s: JobState| {
            let mut m = BTreeMap::new();
            for j in jobs.iter().filter(|j| j.state == s) {
                *m.entry(j.reason.name().to_owned()).or_insert(0) += 1;
            }
            m
        };
        let replayed = jobs.iter().filter(|j| j.state != JobState::Skipped);
        let wait_s = Percentiles::of(
            replayed
                .clone()
                .map(|j| j.waited_ms as f64 / 1000.0)
                .collect(),
        );
        let jct_s = Percentiles::of(
            jobs.iter()
                .filter_map(|j| j.jct_ms())
                .map(|x| x as f64 / 1000.0)
                .collect(),
        );
        let slowdown = Percentiles::of(jobs.iter().filter_map(JobRecord::slowdown).collect());
        let ls: Vec<&JobRecord> = replayed.filter(|j| j.latency_sensitive).collect();
        let met = ls
            .iter()
            .filter(|j| j.slowdown().is_some_and(|s| s <= slo_slowdown))
            .count();
        let frag_ratio_pct_mean = if self.rows.is_empty() {
            0.0
        } else {
            self.rows
                .iter()
                .map(|r| r.point.frag_ratio_pct)
                .sum::<f64>()
                / self.rows.len() as f64
        };
        let figures = ReplayFigures {
            util_alloc_pct: Self::integral_pct(self.alloc_integral, self.cards, span),
            util_busy_pct: Self::integral_pct(self.busy_integral, self.cards, span),
            util_goodput_pct: if self.cards == 0 {
                0.0
            } else {
                100.0 * self.goodput_card_ms / (self.cards as f64 * span as f64)
            },
            frag_ratio_pct_mean,
            wait_s,
            jct_s,
            slowdown,
            slo_attainment_pct: (!ls.is_empty()).then(|| 100.0 * met as f64 / ls.len() as f64),
            preemptions: self.preemptions,
            gang_jobs: self.gang_jobs,
            jobs_total: jobs.len() as u64,
            jobs_finished: count(JobState::Finished),
            jobs_pending: count(JobState::Pending),
            jobs_running: count(JobState::Running),
            jobs_skipped: count(JobState::Skipped),
            jobs_unplaceable: count(JobState::Unplaceable),
            unplaceable_by_reason: by_reason(JobState::Unplaceable),
            pending_by_reason: by_reason(JobState::Pending),
            start_s: self.start_ms as f64 / 1000.0,
            window_end_s: self.window_end_ms as f64 / 1000.0,
            end_s: end_ms as f64 / 1000.0,
            events,
        };
        ReplayOutcome {
            figures,
            per_model,
            timeseries: self.rows,
            jobs,
            slicing: std::collections::BTreeMap::new(),
            energy,
            fairness,
            classes,
            tiers: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_record_is_at_most_128_bytes_and_its_gpu_time_is_the_product() {
        // 10^6 records are most of a 10^6-job replay's peak memory (issue 9: ≤ 300 MB).
        assert!(
            std::mem::size_of::<JobRecord>() <= 128,
            "{}",
            std::mem::size_of::<JobRecord>()
        );
        let r = JobRecord {
            pod: 0,
            arrival_ms: 0,
            work_ms: Some(u64::MAX),
            demand: 1.0,
            first_start_ms: Some(0),
            finish_ms: None,
            waited_ms: 0,
            preemptions: 0,
            node: None,
            state: JobState::Running,
            reason: JobReason::None,
            latency_sensitive: false,
            class: 0,
            held_ms: 3,
            card_milli: u64::from(u32::MAX) * 1000,
            tier: None,
            best_tier: None,
        };
        // Products that overflow 64 bits stay exact.
        assert_eq!(r.gpu_milli_ms(), 3 * u128::from(u32::MAX) * 1000);
        assert_eq!(
            r.request_milli_ms(),
            u128::from(u64::MAX) * u128::from(u32::MAX) * 1000
        );
    }

    #[test]
    fn nearest_rank_percentiles() {
        let p = Percentiles::of((1..=100).map(f64::from).collect());
        assert_eq!((p.p50, p.p95, p.p99), (Some(50.0), Some(95.0), Some(99.0)));
        assert_eq!(Percentiles::of(vec![]).p50, None);
    }

    #[test]
    fn integration_is_time_weighted() {
        // One card: fully allocated, half busy for 10 ms, then idle for 30 ms → 25 %, 12.5 %.
        let mut m = Metrics::new(0, 40, 100, 1, vec!["X".into()], vec![1]);
        m.change_use(Some(0), (0, 0), (500_000, 1_000_000));
        m.integrate(0, 10);
        m.change_use(Some(0), (500_000, 1_000_000), (0, 0));
        m.integrate(10, 40);
        let o = m.into_outcome(40, vec![], 0, 1.5, vec![]);
        assert_eq!(o.figures.util_alloc_pct, 25.0);
        assert_eq!(o.figures.util_busy_pct, 12.5);
        assert_eq!(o.per_model[0].util_busy_pct, 12.5);
    }
}
