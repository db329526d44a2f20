//! `fifo` — strict first-in-first-out: jobs start in arrival order and a job that cannot start
//! blocks every job behind it ([`Discipline::Strict`], head-of-line blocking). Never preempts.
//! Node choice: `placement=best-fit` (default) or `first-fit`.
//!
//! This is FIFO (first come, first served) as queueing theory defines it, and the Tiresias
//! simulator's `fifo` (`run_sim.py:one_queue_fifo_sim_jobs` walks the pending jobs in arrival
//! order and breaks at the first one that does not fit; `tests/crossval.rs` matches it job for
//! job). FIFO with skipping is `fifo-skip`; with a reservation for the blocked head,
//! `easy-backfill`.

use flexsim_sim::policy::params::{ParamError, ParamSpec, Params};
use flexsim_sim::policy::{Discipline, Policy};

use crate::placement::{self, Placer};

/// `fifo[placement=best-fit|first-fit]` (and `fifo-skip`, `easy-backfill`).
pub const PARAMS: &[ParamSpec] = &[placement::PARAM];

/// Arrival order under a discipline: `fifo`, `fifo-skip` and `easy-backfill` differ only in it.
pub struct Fifo {
    name: &'static str,
    discipline: Discipline,
    placer: Placer,
}

impl Fifo {
    pub fn new(name: &'static str, discipline: Discipline, placer: Placer) -> Self {
        Fifo {
            name,
            discipline,
            placer,
        }
    }

    /// Strict FIFO with the node choice `PARAMS` resolved to.
    pub fn from_params(p: &Params) -> Result<Self, ParamError> {
        Ok(Fifo::new(
            "fifo",
            Discipline::Strict,
            Placer::from_params(p)?,
        ))
    }
}

impl Policy for Fifo {
    fn name(&self) -> &str {
        self.name
    }

    /// FIFO, no preemption, a job refused only when no node holds it (`ReplayHints`).
    fn replay_hints(&self) -> flexsim_sim::policy::ReplayHints {
        flexsim_sim::policy::ReplayHints::PLACER
    }

    placement::place_with_placer!();

    fn discipline(&self) -> Discipline {
        self.discipline
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::tests::replay_on;
    use flexsim_sim::model::job::Pod;

    pub(crate) fn job(name: &str, arrival_s: u64, work_s: u64, gpus: u32) -> Pod {
        let mut p = Pod::new(name, 1000, 1024, gpus, 1000);
        p.arrival_ms = arrival_s * 1000;
        p.work_ms = Some(work_s * 1000);
        p.demand_milli = Some(1000);
        p
    }

    /// First starts in seconds of `jobs` on one 4-card node.
    pub(crate) fn starts(policy: &mut dyn Policy, jobs: Vec<Pod>) -> Vec<u64> {
        let o = replay_on(&[("n", 64_000, 1 << 20, 4, "V100M32")], jobs, policy, 0);
        o.jobs
            .iter()
            .map(|j| j.first_start_ms.unwrap() / 1000)
            .collect()
    }

    /// a holds 3 of 4 cards 0..10 s; b (2 cards, 1 s) cannot start; c (1 card, 2 s) could.
    pub(crate) fn blocked_head() -> Vec<Pod> {
        vec![job("a", 0, 10, 3), job("b", 1, 5, 2), job("c", 2, 3, 1)]
    }

    #[test]
    fn strict_order_blocks_behind_the_head() {
        let mut f = Fifo::from_params(&Params::defaults("fifo", PARAMS)).unwrap();
        assert_eq!(f.discipline(), Discipline::Strict);
        // c waits behind b although a card is free; both start when a ends.
        assert_eq!(starts(&mut f, blocked_head()), vec![0, 10, 10]);
    }

    #[test]
    fn placement_parameter_chooses_the_node() {
        let first = crate::build("fifo[placement=first-fit]").unwrap();
        assert_eq!(first.params.resolved()["placement"], "first-fit");
        assert_eq!(
            crate::build("fifo").unwrap().params.resolved()["placement"],
            "best-fit"
        );
        let e = crate::build("fifo[placement=worst-fit]").err().unwrap();
        assert!(
            e.to_string()
                .contains("expected one of best-fit, first-fit, got \"worst-fit\""),
            "{e}"
        );
    }
}
