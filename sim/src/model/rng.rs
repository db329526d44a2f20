//! The run's random generator.
//!
//! Explicit and portable (PCG-64, `rand_pcg`), seeded from the run's seed and owned by the run —
//! never a thread-local or OS generator inside the model — so that the same inputs and seed give
//! bit-identical results on every machine and thread count (DESIGN "Notes on the chosen crates").

/// The run's random generator: explicit, portable and seeded from the run's seed.
pub type SimRng = rand_pcg::Pcg64;
