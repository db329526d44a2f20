//! `fifo-skip` — FIFO with skipping: waiting jobs are offered in arrival order and every one
//! that fits starts; a job that does not fit is skipped, not waited for
//! ([`Discipline::Skip`]). Never preempts. Node choice: `placement=best-fit` (default) or
//! `first-fit`.
//!
//! The Tiresias simulator's `fjf`, "fit job first" (`run_sim.py:fit_first_sim_jobs`: the
//! `fifo` walk with `continue` instead of `break`), and Kubernetes' scheduling queue. A blocked
//! large job can starve behind a stream of small ones; `easy-backfill` bounds that.

use flexsim_sim::policy::params::{ParamError, Params};
use flexsim_sim::policy::Discipline;

use crate::fifo::Fifo;
use crate::placement::Placer;

/// `fifo-skip[placement=...]`: the parameters of `fifo`.
pub use crate::fifo::PARAMS;

/// FIFO with skipping, with the node choice `PARAMS` resolved to.
pub fn from_params(p: &Params) -> Result<Fifo, ParamError> {
    Ok(Fifo::new(
        "fifo-skip",
        Discipline::Skip,
        Placer::from_params(p)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fifo::tests::{blocked_head, starts};
    use flexsim_sim::policy::Policy;

    #[test]
    fn a_job_that_fits_passes_the_blocked_head() {
        let mut f = from_params(&Params::defaults("fifo-skip", PARAMS)).unwrap();
        assert_eq!(f.discipline(), Discipline::Skip);
        assert_eq!(starts(&mut f, blocked_head()), vec![0, 10, 2]);
    }
}
