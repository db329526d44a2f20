//! The replay's CSV files: `timeseries.csv` (one row per sample) and `jobs.csv` (one row per
//! job of the trace). Columns are documented in the README ("The replay protocol").

use crate::metrics::replay_metrics::{JobRecord, TimeRow};
use std::io::Write;

/// Writes `timeseries.csv`.
pub fn write_timeseries(out: &mut impl Write, rows: &[TimeRow]) -> std::io::Result<()> {
    writeln!(
        out,
        "time_s,util_alloc_pct,util_busy_pct,frag_ratio_pct,running,waiting"
    )?;
    for r in rows {
        writeln!(
            out,
            "{:.3},{:.3},{:.3},{:.3},{},{}",
            r.time_ms as f64 / 1000.0,
            r.util_alloc_pct,
            r.util_busy_pct,
            r.point.frag_ratio_pct,
            r.point.running,
            r.point.waiting
        )?;
    }
    Ok(())
}

/// Writes `jobs.csv`; `names[pod]` is the job's name.
pub fn write_jobs(
    out: &mut impl Write,
    jobs: &[JobRecord],
    names: &[String],
) -> std::io::Result<()> {
    writeln!(
        out,
        "name,state,arrival_s,work_s,demand,start_s,finish_s,wait_s,jct_s,slowdown,preemptions,node,reason"
    )?;
    let s = |v: Option<u64>| v.map_or(String::new(), |x| format!("{:.3}", x as f64 / 1000.0));
    for j in jobs {
        writeln!(
            out,
            "{},{},{:.3},{},{:.3},{},{},{:.3},{},{},{},{},{}",
            names[j.pod],
            j.state,
            j.arrival_ms as f64 / 1000.0,
            s(j.work_ms),
            j.demand,
            s(j.first_start_ms),
            s(j.finish_ms),
            j.waited_ms as f64 / 1000.0,
            s(j.jct_ms()),
            j.slowdown().map_or(String::new(), |x| format!("{x:.4}")),
            j.preemptions,
            j.node.as_deref().unwrap_or(""),
            j.reason
        )?;
    }
    Ok(())
}
