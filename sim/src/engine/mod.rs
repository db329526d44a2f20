//! How time runs: the event queue and the two protocols — [`inflation`] (the FGD paper's
//! snapshot experiment) and [`replay`] (time-faithful, with its queue, job lifecycle, rates
//! and sampling). The engine asks the policy (through [`crate::policy`]) and checks every
//! answer against the model's cluster state.

pub mod event_queue;
pub mod inflation;
pub mod replay;
