#!/usr/bin/env python3
"""Convert between the Tiresias simulator's files and flexsim's (our own code, stdlib only).

  convert.py trace   PEER_TRACE.csv  NATIVE_OUT.csv
      peer trace (job_id,num_gpu,submit_time,...,duration,...) -> flexsim native CSV
  convert.py result  PEER_JOB.csv    PEER_TRACE.csv  REF_OUT.csv
      the peer's per-job log (<log_path>/job.csv) -> reference CSV, one row per job of the
      trace, in trace order; fails if a job is missing or duplicated
  convert.py summary TRACE_DIR SCHEDULER...
      TRACE_DIR/<scheduler>.csv for each scheduler -> TRACE_DIR/summary.csv
"""
import csv
import sys

NATIVE_COLS = ["name", "arrival_s", "work_s", "cpu_milli", "memory_mib", "num_gpu", "gpu_milli",
               "priority", "class", "latency_sensitive"]
REF_COLS = ["name", "num_gpu", "submit_s", "start_s", "end_s", "jct_s", "wait_s", "preemptions"]


def read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def write(path, cols, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(cols)
        w.writerows(rows)


def peer_trace(path):
    """The peer's trace in the order its simulator uses: stable sort by submit_time
    (jobs.py:_TFJobs.sort_all_jobs)."""
    rows = read(path)
    for r in rows:
        # The peer keeps a field as int only if it is all digits (jobs.py:add_job); the
        # traces here have integer job_id, num_gpu, submit_time and duration.
        for k in ("job_id", "num_gpu", "submit_time"):
            assert r[k].isdigit(), (k, r)
        r["duration_i"] = int(float(r["duration"]))  # jobs.py:add_job: int(float(duration))
    rows.sort(key=lambda r: int(r["submit_time"]))
    return rows


def cmd_trace(src, dst):
    out = []
    for r in peer_trace(src):
        g = int(r["num_gpu"])
        out.append(["job-%s" % r["job_id"], int(r["submit_time"]), r["duration_i"],
                    1000 * max(g, 1), 1024 * max(g, 1), g, 1000, 0, "default", "false"])
    write(dst, NATIVE_COLS, out)


def cmd_result(job_csv, trace, dst):
    jobs = read(job_csv)
    by_id = {}
    for j in jobs:
        assert j["job_id"] not in by_id, ("duplicate job in peer log", j["job_id"])
        by_id[j["job_id"]] = j
    out = []
    for r in peer_trace(trace):
        j = by_id.pop(r["job_id"], None)
        assert j is not None, ("job missing from peer log (never completed)", r["job_id"])
        submit, start, end = int(j["submit_time"]), int(j["start_time"]), int(j["end_time"])
        jct = end - submit
        assert jct == int(j["JCT"]), j
        assert int(j["num_gpu"]) == int(r["num_gpu"]) and submit == int(r["submit_time"]), j
        # wait = the peer's pending_time: total time the job was not running between submit and
        # end (fifo/fjf: start - submit). Every job must satisfy jct = duration + wait.
        wait = int(j["pending_time"])
        assert jct == r["duration_i"] + wait, ("jct != duration + pending", j)
        out.append(["job-%s" % r["job_id"], int(j["num_gpu"]), submit, start, end, jct, wait,
                    int(j["preempt"])])
    assert not by_id, ("peer log has jobs not in the trace", sorted(by_id)[:5])
    write(dst, REF_COLS, out)


def cmd_summary(trace_dir, scheds):
    out = []
    for s in scheds:
        rows = read("%s/%s.csv" % (trace_dir, s))
        n = len(rows)
        jct = sum(int(r["jct_s"]) for r in rows)
        wait = sum(int(r["wait_s"]) for r in rows)
        makespan = max(int(r["end_s"]) for r in rows) - min(int(r["submit_s"]) for r in rows)
        pre = sum(int(r["preemptions"]) for r in rows)
        out.append([s, n, "%.4f" % (jct / n), makespan, "%.4f" % (wait / n), pre])
    write("%s/summary.csv" % trace_dir,
          ["scheduler", "jobs", "mean_jct_s", "makespan_s", "mean_wait_s", "preemptions"], out)


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "trace" and len(args) == 2:
        cmd_trace(*args)
    elif cmd == "result" and len(args) == 3:
        cmd_result(*args)
    elif cmd == "summary" and len(args) >= 2:
        cmd_summary(args[0], args[1:])
    else:
        sys.exit(__doc__)
