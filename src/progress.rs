//! Progress of one long replay on a terminal (`flexsim run --protocol replay`; a sweep shows
//! runs done instead): an [`Observer`] of the policy that reads the simulated clock whenever
//! the engine asks the policy for a wake-up — once a scheduling pass — and shows how far
//! through the trace's arrival span the run is, the passes per second and the ETA. Only built
//! when stderr is a terminal, so a piped or CI run takes the plain path.

use flexsim_sim::policy::observe::Observer;
use flexsim_sim::policy::{JobsView, QueuedJob};
use indicatif::{ProgressBar, ProgressStyle};
use std::time::Instant;

/// How many passes go by between two looks at the clock (a pass costs ~1 µs at best).
const PASSES_PER_TICK: u64 = 4096;

pub struct Progress {
    bar: ProgressBar,
    last_arrival_ms: u64,
    passes: u64,
    started: Instant,
}

impl Progress {
    /// A bar over the arrival span `[0, last_arrival_ms]`, in permille.
    pub fn new(last_arrival_ms: u64) -> Self {
        let bar = ProgressBar::new(1000);
        bar.set_style(
            ProgressStyle::with_template(
                "{bar:40} {percent:>3}% of the arrival span, {msg}, {elapsed} elapsed, eta {eta}",
            )
            .expect("a valid template"),
        );
        Progress {
            bar,
            last_arrival_ms: last_arrival_ms.max(1),
            passes: 0,
            started: Instant::now(),
        }
    }

    /// Removes the bar (call when the run is over).
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Observer for Progress {
    fn clock(&mut self, jobs: &JobsView<'_>, waiting: Option<&[QueuedJob]>) {
        let Some(waiting) = waiting else { return };
        self.passes += 1;
        if self.passes.is_multiple_of(PASSES_PER_TICK) {
            let permille = (jobs.now_ms.min(self.last_arrival_ms) as u128 * 1000
                / self.last_arrival_ms as u128) as u64;
            self.bar.set_position(permille);
            let secs = self.started.elapsed().as_secs_f64().max(1e-9);
            self.bar.set_message(format!(
                "{:.0} k passes/s, {} waiting",
                self.passes as f64 / secs / 1000.0,
                waiting.len()
            ));
        }
    }
}
