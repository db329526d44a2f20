//! The replay's CSV files: `timeseries.csv` (one row per sample) and `jobs.csv` (one row per
//! job of the trace). Columns are documented in the README ("The replay protocol"). Written
//! through [`CsvOut`], so that a job or node name with a comma or a quote is quoted.

use crate::csv_record;
use crate::metrics::replay_metrics::{JobRecord, TimeRow};
use crate::metrics::tiers::TierFigures;
use crate::output::csv_out::{CsvOut, Millis};
use std::io::Write;

/// Writes `timeseries.csv`.
pub fn write_timeseries(out: &mut impl Write, rows: &[TimeRow]) -> std::io::Result<()> {
    let mut w = CsvOut::new(out);
    w.header(&[
        "time_s",
        "util_alloc_pct",
        "util_busy_pct",
        "frag_ratio_pct",
        "running",
        "waiting",
    ])?;
    for r in rows {
        csv_record!(w,
            "{}", Millis(Some(r.time_ms));
            "{:.3}", r.util_alloc_pct;
            "{:.3}", r.util_busy_pct;
            "{:.3}", r.point.frag_ratio_pct;
            "{}", r.point.running;
            "{}", r.point.waiting
        )?;
    }
    w.flush()
}

/// `jobs.csv`'s columns without a topology.
const JOB_COLUMNS: [&str; 13] = [
    "name",
    "state",
    "arrival_s",
    "work_s",
    "demand",
    "start_s",
    "finish_s",
    "wait_s",
    "jct_s",
    "slowdown",
    "preemptions",
    "node",
    "reason",
];

/// Writes `jobs.csv`; `names[pod]` is the job's name. On a fleet with a topology (`tiers`),
/// two more columns: `tier`, the tier the job's last placement spanned, and `best_tier`, the
/// tightest its shape can span on the fleet ([`crate::metrics::tiers`]).
pub fn write_jobs(
    out: &mut impl Write,
    jobs: &[JobRecord],
    names: &[impl AsRef<str> + Sync],
    tiers: Option<&TierFigures>,
) -> std::io::Result<()> {
    use rayon::prelude::*;
    let mut header = JOB_COLUMNS.to_vec();
    if tiers.is_some() {
        header.extend(["tier", "best_tier"]);
    }
    let mut w = CsvOut::new(&mut *out);
    w.header(&header)?;
    w.flush()?;
    drop(w);
    // Rows are formatted in chunks on every thread and written in job order: a row's bytes
    // depend on its record alone, so the file is the same whatever the thread count. A batch
    // of chunks at a time bounds the memory held (about 100 bytes a row).
    const CHUNK: usize = 16_384;
    let batch = CHUNK * rayon::current_num_threads().max(1);
    for jobs in jobs.chunks(batch) {
        let texts: Vec<std::io::Result<Vec<u8>>> = jobs
            .par_chunks(CHUNK)
            .map(|rows| {
                let mut text = Vec::with_capacity(rows.len() * 112);
                let mut w = CsvOut::new(&mut text);
                for j in rows {
                    write_job(&mut w, j, names, tiers)?;
                }
                w.flush()?;
                drop(w);
                Ok(text)
            })
            .collect();
        for text in texts {
            out.write_all(&text?)?;
        }
    }
    out.flush()
}

/// One row of `jobs.csv`.
fn write_job<W: Write>(
    w: &mut CsvOut<W>,
    j: &JobRecord,
    names: &[impl AsRef<str>],
    tiers: Option<&TierFigures>,
) -> std::io::Result<()> {
    // Strings and integers are written directly, not through `format_args!`: with a
    // million jobs the formatting machinery was most of writing this file.
    w.text(names[j.pod].as_ref())?
        .text(j.state.name())?
        .millis(Some(j.arrival_ms))?
        .millis(j.work_ms)?
        .thousandths(j.demand)?
        .millis(j.first_start_ms)?
        .millis(j.finish_ms)?
        .millis(Some(j.waited_ms))?
        .millis(j.jct_ms())?
        .quotient_or_empty(j.jct_ms().zip(j.work_ms.filter(|&w| w > 0)), 4)?
        .int(j.preemptions)?
        .text(j.node.as_deref().unwrap_or(""))?
        .text(j.reason.name())?;
    if let Some(t) = tiers {
        w.text(j.tier.map_or("", |x| t.name(x)))?
            .text(j.best_tier.map_or("", |x| t.name(x)))?;
    }
    w.end()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(pod: usize) -> JobRecord {
        JobRecord {
            pod,
            arrival_ms: 1500 + 7 * pod as u64,
            work_ms: (!pod.is_multiple_of(5)).then_some(2000 + pod as u64),
            demand: 0.25,
            first_start_ms: (!pod.is_multiple_of(3)).then_some(1500 + 9 * pod as u64),
            finish_ms: (pod % 3 == 1).then_some(4000 + 11 * pod as u64),
            waited_ms: pod as u64,
            preemptions: (pod % 4) as u32,
            node: Some(format!("node-{}", pod % 17).into()),
            state: crate::metrics::replay_metrics::JobState::Finished,
            reason: crate::metrics::replay_metrics::JobReason::None,
            latency_sensitive: false,
            class: 0,
            held_ms: 0,
            card_milli: 0,
            tier: None,
            best_tier: None,
        }
    }

    /// Rows are formatted in parallel chunks: the file must be the one a single thread writes
    /// row after row, for any thread count (DESIGN "Deterministic").
    #[test]
    fn jobs_csv_is_the_same_whatever_the_thread_count() {
        let rows: Vec<JobRecord> = (0..50_000).map(record).collect();
        let names: Vec<String> = (0..rows.len()).map(|i| format!("job-{i}")).collect();
        let write = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let mut out = Vec::new();
            pool.install(|| write_jobs(&mut out, &rows, &names, None))
                .unwrap();
            out
        };
        let one = write(1);
        // Row by row, as the writer did before it formatted chunks in parallel.
        let mut serial = Vec::new();
        {
            let mut w = CsvOut::new(&mut serial);
            w.header(&JOB_COLUMNS).unwrap();
            for j in &rows {
                write_job(&mut w, j, &names, None).unwrap();
            }
            w.flush().unwrap();
        }
        assert_eq!(one, serial);
        assert_eq!(write(3), one);
        assert_eq!(write(8), one);
        assert_eq!(
            String::from_utf8(one).unwrap().lines().count(),
            rows.len() + 1
        );
    }

    #[test]
    fn job_names_with_commas_or_quotes_are_quoted() {
        let rows = [JobRecord {
            work_ms: Some(2000),
            first_start_ms: Some(1500),
            finish_ms: Some(4000),
            node: Some("node, 1".into()),
            ..record(0)
        }];
        let mut out = Vec::new();
        write_jobs(&mut out, &rows, &["a,\"b\"".to_owned()], None).unwrap();
        let text = String::from_utf8(out).unwrap();
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let row = r.records().next().unwrap().unwrap();
        assert_eq!(&row[0], "a,\"b\"");
        assert_eq!(row.len(), 13);
        assert_eq!(
            text.lines().nth(1).unwrap(),
            "\"a,\"\"b\"\"\",finished,1.500,2.000,0.250,1.500,4.000,0.000,2.500,1.2500,0,\"node, 1\","
        );
    }
}
