#!/usr/bin/env python3
"""Generate a Poisson-arrival workload from the Tiresias simulator's shipped distributions.

Our own code (not the peer's). Inputs, both from the peer's simulator/ folder:

* GPU-time: the peer's `yarn-gput10000.csv` (column `duration`; the peer's README calls the
  yarn-gput*.csv files "the GPU-time distribution of jobs from YARN"): each job's GPU-time G
  (GPU-seconds) is drawn uniformly with replacement from its 9,999 samples.
* Job size: the peer ships no separate size distribution, so (num_gpu, model_name) is drawn
  jointly, uniformly with replacement, from the 60 rows of the peer's `60_job.csv`
  (num_gpu 1 / 2 / 4 / 8 at 30 / 10 / 10 / 10 rows). model_name does not affect the schedulers
  run here; it is carried so that the peer's placement code finds a known model.
* Duration (wall seconds on num_gpu GPUs): max(1, round(G / num_gpu)).
* Arrivals: i.i.d. exponential gaps (a Poisson process), scaled so that the offered load

      load = sum(num_gpu * duration) / (GPUS * (last_arrival - first_arrival))

  is TARGET_LOAD; arrivals are rounded to whole seconds (the peer reads integer times) and
  forced strictly increasing (a tie is pushed 1 s later) so that arrival order is unambiguous.
  The load is then recomputed on the rounded times and printed.

Random numbers: numpy.random.RandomState(seed) (the legacy generator, whose streams numpy keeps
frozen across versions), draws in this order: size rows, GPU-times, gaps.

Writes the peer's trace format: job_id,num_gpu,submit_time,iterations,model_name,duration,interval
(iterations is unused by the peer's schedulers: written as the duration; interval = gap to the
next job, 0 for the last, as in the peer's 60_job.csv).
"""
import argparse
import csv
import os

import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--peer-dir", required=True, help="the peer's simulator/ folder")
    ap.add_argument("--jobs", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=20190226)
    ap.add_argument("--gpus", type=int, default=64, help="cluster size the load refers to")
    ap.add_argument("--load", type=float, default=0.9, help="target offered load")
    ap.add_argument("--out", required=True, help="peer-format trace CSV to write")
    a = ap.parse_args()

    with open(os.path.join(a.peer_dir, "yarn-gput10000.csv")) as f:
        gput = np.array([int(r["duration"]) for r in csv.DictReader(f)], dtype=np.int64)
    with open(os.path.join(a.peer_dir, "60_job.csv")) as f:
        rows = [(int(r["num_gpu"]), r["model_name"]) for r in csv.DictReader(f)]

    rng = np.random.RandomState(a.seed)
    size_idx = rng.randint(0, len(rows), size=a.jobs)
    g_samples = gput[rng.randint(0, len(gput), size=a.jobs)]
    gaps = rng.exponential(1.0, size=a.jobs - 1)

    num_gpu = np.array([rows[i][0] for i in size_idx], dtype=np.int64)
    model = [rows[i][1] for i in size_idx]
    duration = np.maximum(1, np.rint(g_samples / num_gpu).astype(np.int64))
    work = int(np.sum(num_gpu * duration))

    span = work / (a.gpus * a.load)
    t = np.concatenate([[0.0], np.cumsum(gaps) * (span / np.sum(gaps))])
    arrival = []
    for x in np.rint(t).astype(np.int64):
        x = int(x)
        if arrival and x <= arrival[-1]:
            x = arrival[-1] + 1
        arrival.append(x)

    real_span = arrival[-1] - arrival[0]
    load = work / (a.gpus * real_span)
    with open(a.out, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["job_id", "num_gpu", "submit_time", "iterations", "model_name", "duration", "interval"])
        for i in range(a.jobs):
            interval = arrival[i + 1] - arrival[i] if i + 1 < a.jobs else 0
            w.writerow([i, int(num_gpu[i]), arrival[i], int(duration[i]), model[i], int(duration[i]), interval])
    print(
        "jobs=%d seed=%d gpu_seconds=%d span_s=%d load=%.4f mean_gap_s=%.1f numpy=%s"
        % (a.jobs, a.seed, work, real_span, load, real_span / (a.jobs - 1), np.__version__)
    )


if __name__ == "__main__":
    main()
