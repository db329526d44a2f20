#!/usr/bin/env python3
"""Apply a named configuration edit to a private copy of the peer's simulator/ folder.

The peer has no command-line knob for its MLFQ queues: its README says to edit `num_queue` and
`queue_limit` in jobs.py (class _TFJobs). This script makes exactly such edits, each an
exact-string replacement that must match once, in a throw-away copy; the peer's code is never
committed here.

  peer_config.py DIR 2q      _TFJobs: num_queue 3 -> 2, queue_limit [3250, 7200, 18000] -> [3600]
                             (two queues split at 3600 GPU-seconds: the peer README's two-queue
                             example, the peer's g_job class default, and flexsim's default)
  peer_config.py DIR exact   NOT the peer's behaviour: in run_sim.py:dlas_sim_jobs, compute the
                             next demotion time from GPU-seconds,
                               ceil((limit - executed_time*num_gpu) / num_gpu)
                             instead of the peer's (limit - executed_time)/num_gpu (integer
                             division under Python 2, so the ceil is a no-op). See README.md,
                             "demotion timing".
"""
import os
import sys


def edit(path, old, new, start_marker=None, end_marker=None):
    with open(path) as f:
        src = f.read()
    lo, hi = 0, len(src)
    if start_marker is not None:
        lo = src.index(start_marker)
        hi = src.index(end_marker, lo)
    region = src[lo:hi]
    n = region.count(old)
    if n != 1:
        sys.exit("%s: expected exactly one %r in the region, found %d" % (path, old, n))
    with open(path, "w") as f:
        f.write(src[:lo] + region.replace(old, new) + src[hi:])


def main():
    d, what = sys.argv[1], sys.argv[2]
    if what == "2q":
        jobs = os.path.join(d, "jobs.py")
        # _TFJobs.__init__ (the nested g_job class has its own num_queue = 2 / [3600, ...]).
        edit(jobs, "self.num_queue = 3\n", "self.num_queue = 2\n",
             "    def __init__(self):\n        self.num_job = 0", "def get_job_model")
        edit(jobs, "self.queue_limit = [3250, 7200, 18000]\n", "self.queue_limit = [3600]\n",
             "    def __init__(self):\n        self.num_job = 0", "def get_job_model")
    elif what == "exact":
        edit(os.path.join(d, "run_sim.py"),
             "math.ceil((JOBS.queue_limit[qid] - rjob['executed_time'])/rjob['num_gpu'])",
             "math.ceil((JOBS.queue_limit[qid] - rjob['executed_time'] * rjob['num_gpu'])"
             " / float(rjob['num_gpu']))",
             "def dlas_sim_jobs(", "def get_gittins_index(")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
