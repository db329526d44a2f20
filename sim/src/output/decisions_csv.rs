//! `decisions.csv` (`flexsim run --protocol replay --explain`): one row per node per recorded
//! decision ([`crate::policy::explain`]), then one row per explained job that the fleet can
//! never hold. Columns:
//!
//! `job,time_s,outcome,node,chosen,score,infeasible,final_state,final_reason,tie_break`
//!
//! * `outcome` — `placed`, `placed-remote`, `placed-gang`, or `no-place` (the job's last failed
//!   attempt; it started later if `final_state` says so), or `unplaceable` (never offered: no
//!   node of the empty fleet holds it; `final_reason` says why);
//! * `chosen` — 1 on the node(s) the policy chose;
//! * `score` — the policy's score of a node that could take the job (empty when the policy
//!   ranks nodes otherwise); `infeasible` — why a node could not (empty when it could);
//! * `final_state`, `final_reason` — the job's state and reason at the end, as in `jobs.csv`;
//! * `tie_break` — how the policy breaks ties, once a decision (on the chosen node's row).

use crate::metrics::replay_metrics::ReplayOutcome;
use crate::output::csv_out::CsvOut;
use crate::policy::explain::{Decision, ExplainJobs};
use std::io::Write;

/// Writes `decisions.csv` for `decisions`, taking each job's final state from `outcome`; the
/// number of rows written (header not counted).
pub fn write<W: Write>(
    out: W,
    decisions: &[Decision],
    outcome: &ReplayOutcome,
    explained: &ExplainJobs,
    job_names: &[String],
) -> std::io::Result<u64> {
    let mut rows = 0;
    let mut w = CsvOut::new(out);
    w.header(&[
        "job",
        "time_s",
        "outcome",
        "node",
        "chosen",
        "score",
        "infeasible",
        "final_state",
        "final_reason",
        "tie_break",
    ])?;
    let record = |job: usize| {
        outcome
            .jobs
            .get(job)
            .filter(|r| r.pod == job)
            .or_else(|| outcome.jobs.iter().find(|r| r.pod == job))
    };
    for d in decisions {
        let (state, reason) = record(d.job).map_or(("", ""), |r| (r.state.name(), r.reason.name()));
        let chosen_any = d.candidates.iter().any(|c| c.chosen);
        for (i, c) in d.candidates.iter().enumerate() {
            // The tie-break once a decision: on the chosen node's row (the first row when none).
            let tie_break = if c.chosen || (!chosen_any && i == 0) {
                d.tie_break.as_str()
            } else {
                ""
            };
            w.field(format_args!("{}", d.job_name))?
                .field(format_args!("{:.3}", d.time_ms as f64 / 1000.0))?
                .field(format_args!("{}", d.outcome.name()))?
                .field(format_args!("{}", c.node_name))?
                .field(format_args!("{}", u8::from(c.chosen)))?
                .field(format_args!(
                    "{}",
                    c.score.map_or(String::new(), |s| s.to_string())
                ))?
                .field(format_args!("{}", c.infeasible.as_deref().unwrap_or("")))?
                .field(format_args!("{state}"))?
                .field(format_args!("{reason}"))?
                .field(format_args!("{tie_break}"))?;
            w.end()?;
            rows += 1;
        }
    }
    for r in &outcome.jobs {
        let name = job_names.get(r.pod).map_or("", String::as_str);
        if r.state == "unplaceable" && explained.wants(name) {
            for v in [
                name,
                "",
                "unplaceable",
                "",
                "",
                "",
                "",
                r.state.name(),
                r.reason.name(),
                "",
            ] {
                w.field(format_args!("{v}"))?;
            }
            w.end()?;
            rows += 1;
        }
    }
    w.flush()?;
    Ok(rows)
}
