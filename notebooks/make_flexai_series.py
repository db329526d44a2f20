#!/usr/bin/env python3
"""Per-run time series and job-latency CDFs of the Flex:ai claim check, for one seed.

`flexsim claim-check` writes one summary row per run (results/flexai-claim/summary.csv) but
keeps neither the runs' timeseries.csv nor their jobs.csv. This script replays the same runs
for one seed with the CLI (`flexsim trace synth` + `flexsim run --protocol replay`, the
settings of src/claim.rs: 20,000 synthetic jobs, mean interarrival 4 s for small-model-heavy
and 8 s for openb-mix, the openb default trace and fleet for openb) and writes two small CSVs:

* timeseries_s<SEED>.csv — workload,policy + every column of the runs' timeseries.csv
  (time_s,util_alloc_pct,util_busy_pct,frag_ratio_pct,running,waiting);
* jobs_cdf_s<SEED>.csv — workload,policy,metric,q,value_s: the q-quantiles (q = 0, 0.01, ...,
  1) of wait_s over every replayed job (skipped ones left out; a job that never started has an
  infinite wait, written as an empty value, so a CDF that never reaches 1 shows the jobs that
  never ran) and of jct_s over the finished jobs;
* runs_s<SEED>.csv — workload,policy + the run's span and job counts from its summary.json
  (start_s = first arrival, window_end_s = last arrival, end_s = end of the run).

It checks each run's util_busy_pct / util_alloc_pct against summary.csv (same seed) and fails
on a difference, so the curves are those of the committed claim check.

Only the Python standard library is needed:

    python3 notebooks/make_flexai_series.py [--flexsim target/release/flexsim]
        [--seed 42] [--out results/flexai-claim]
"""

import argparse
import csv
import json
import math
import os
import subprocess
import sys
import tempfile

POLICIES = [
    "k8s-default", "hami", "mig-static", "fgd", "hi-binpack",
    "hi-priority", "hi-timeshare", "hi-remote", "hi-hetero", "hi",
]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLAIM_FLEET = os.path.join(ROOT, "traces", "fleets", "flexai-claim.toml")
SYNTH_JOBS = 20000
SYNTH_INTERARRIVAL_S = 4.0
RUN_KEYS = ["start_s", "window_end_s", "end_s", "jobs_total", "jobs_finished",
            "jobs_pending", "jobs_unplaceable", "jobs_skipped"]
QS = [k / 100 for k in range(101)]


def workloads(flexsim, seed, work):
    """(name, extra `run` arguments) of each workload of the claim check."""
    out = [("openb", [])]
    for name, preset, ia in [
        ("small-model-heavy", "small-model-heavy", SYNTH_INTERARRIVAL_S),
        ("openb-mix", "openb", 2 * SYNTH_INTERARRIVAL_S),
    ]:
        trace = os.path.join(work, f"{name}-s{seed}.csv")
        subprocess.run(
            [flexsim, "trace", "synth", "--jobs", str(SYNTH_JOBS), "--seed", str(seed),
             "--preset", preset, "--set", f"interarrival_s={ia:g}", "--out", trace],
            check=True, stdout=subprocess.DEVNULL,
        )
        out.append((name, ["--trace", trace, "--fleet", CLAIM_FLEET]))
    return out


def quantiles(values):
    """The QS-quantiles (inverse ECDF) of values; inf for those beyond the finite ones."""
    xs = sorted(values)
    n = len(xs)
    if n == 0:
        return [None] * len(QS)
    return [xs[max(0, math.ceil(q * n) - 1)] for q in QS]


def fmt(x):
    return "" if x is None or math.isinf(x) else f"{x:.1f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--flexsim", default=os.path.join(ROOT, "target", "release", "flexsim"))
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", default=os.path.join(ROOT, "results", "flexai-claim"))
    a = ap.parse_args()

    ref = {}
    with open(os.path.join(a.out, "summary.csv"), newline="") as f:
        for r in csv.DictReader(f):
            if r["seed"] == str(a.seed) and r["util_busy_pct"]:
                ref[(r["workload"], r["policy"])] = r

    ts_rows, cdf_rows, run_rows = [], [], []
    with tempfile.TemporaryDirectory() as work:
        for name, args in workloads(a.flexsim, a.seed, work):
            for p in POLICIES:
                d = os.path.join(work, name, p)
                r = subprocess.run(
                    [a.flexsim, "run", "--protocol", "replay", "--policy", p,
                     "--seed", str(a.seed), "--out", d] + args,
                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                )
                if r.returncode != 0:
                    if (name, p) in ref:
                        sys.exit(f"{name}/{p} failed but summary.csv has it:\n{r.stderr}")
                    print(f"{name}/{p}: no run ({r.stderr.strip().splitlines()[-1]})")
                    continue
                with open(os.path.join(d, "summary.json")) as f:
                    s = json.load(f)
                want = ref.get((name, p))
                for k in ["util_busy_pct", "util_alloc_pct"]:
                    if want is None or abs(float(want[k]) - s[k]) > 0.0015:
                        sys.exit(f"{name}/{p}: {k} {s[k]} differs from summary.csv "
                                 f"{want and want[k]}")
                run_rows.append([name, p] + [
                    s[k]["total"] if isinstance(s[k], dict) else s[k] for k in RUN_KEYS])
                with open(os.path.join(d, "timeseries.csv"), newline="") as f:
                    rd = csv.reader(f)
                    ts_header = next(rd)
                    ts_rows += [[name, p] + row for row in rd]
                waits, jcts = [], []
                with open(os.path.join(d, "jobs.csv"), newline="") as f:
                    for j in csv.DictReader(f):
                        if j["state"] == "skipped":
                            continue
                        waits.append(float(j["wait_s"]) if j["start_s"] else math.inf)
                        if j["state"] == "finished":
                            jcts.append(float(j["jct_s"]))
                for metric, xs in [("wait_s", waits), ("jct_s", jcts)]:
                    for q, v in zip(QS, quantiles(xs)):
                        cdf_rows.append([name, p, metric, f"{q:.2f}", fmt(v)])
                print(f"{name}/{p}: {len(waits)} jobs, {len(jcts)} finished")

    with open(os.path.join(a.out, f"timeseries_s{a.seed}.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["workload", "policy"] + ts_header)
        w.writerows(ts_rows)
    with open(os.path.join(a.out, f"jobs_cdf_s{a.seed}.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["workload", "policy", "metric", "q", "value_s"])
        w.writerows(cdf_rows)
    with open(os.path.join(a.out, f"runs_s{a.seed}.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["workload", "policy"] + RUN_KEYS)
        w.writerows(run_rows)


if __name__ == "__main__":
    main()
