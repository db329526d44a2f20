//! `easy-backfill` — FIFO with EASY backfilling (Lifka, "The ANL/IBM SP scheduling system",
//! JSSPP 1995; Mu'alem & Feitelson, IEEE TPDS 12(6), 2001): the first job in arrival order that
//! cannot start gets a reservation at the earliest time running jobs' estimated ends make room
//! for it (the shadow time, on one node); a later job starts now only if it is estimated to end
//! by then or leaves the reservation intact ([`Discipline::EasyBackfill`], the engine's
//! `backfill.rs` defines the reservation per node). Estimates are the trace's work at solo
//! speed, so they are exact on whole cards of speed 1. Never preempts. Node choice:
//! `placement=best-fit` (default) or `first-fit`.

use flexsim_sim::policy::params::{ParamError, Params};
use flexsim_sim::policy::Discipline;

use crate::fifo::Fifo;
use crate::placement::Placer;

/// `easy-backfill[placement=...]`: the parameters of `fifo`.
pub use crate::fifo::PARAMS;

/// EASY backfilling, with the node choice `PARAMS` resolved to.
pub fn from_params(p: &Params) -> Result<Fifo, ParamError> {
    Ok(Fifo::new(
        "easy-backfill",
        Discipline::EasyBackfill,
        Placer::from_params(p)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fifo::tests::{blocked_head, job, starts};
    use flexsim_sim::policy::Policy;

    #[test]
    fn short_jobs_backfill_and_long_ones_wait_for_the_reserved_head() {
        let mut f = from_params(&Params::defaults("easy-backfill", PARAMS)).unwrap();
        assert_eq!(f.discipline(), Discipline::EasyBackfill);
        // b is reserved at 10 s (a's end) on the only node, needing 2 of the 4 cards; c (1
        // card, ends at 5 s) backfills at 2 s.
        assert_eq!(starts(&mut f, blocked_head()), vec![0, 10, 2]);
        // a holds 2 cards to 10 s and b needs 3: reserved at 10 s. A long c (1 card to 102 s)
        // leaves b its 3 cards at 10 s (a's 2 and the last free one): it backfills. A second
        // long one, d, would leave b only 2: it waits, and b's end (15 s) lets it in.
        let jobs = vec![
            job("a", 0, 10, 2),
            job("b", 1, 5, 3),
            job("c", 2, 100, 1),
            job("d", 3, 100, 1),
        ];
        assert_eq!(starts(&mut f, jobs), vec![0, 10, 2, 15]);
    }
}
