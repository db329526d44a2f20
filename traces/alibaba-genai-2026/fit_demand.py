#!/usr/bin/env python3
"""Fit flexsim's default demand distribution (slicing-model §7.2 u_i) to the GenAI 2026 trace.

Reads pod_gpu_duty_cycle_anon.tar.gz (not shipped: see README.md here for where it comes from),
computes each pod's mean GPU duty cycle over all its samples, and fits
  * a lognormal by maximum likelihood (mu, sigma of ln(mean duty as a fraction of the card)),
  * a beta by moments on the same fractions,
then prints the data's quantiles beside both fits'. Standard library only, deterministic.

    python3 fit_demand.py /path/to/pod_gpu_duty_cycle_anon.tar.gz

The numbers it prints are the ones quoted in sim/src/demand.rs.
"""
import csv
import io
import math
import statistics
import sys
import tarfile
from collections import defaultdict

QUANTILES = [0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95, 0.99]


def per_pod_means(path):
    sums = defaultdict(float)
    counts = defaultdict(int)
    with tarfile.open(path) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith(".csv"))
        text = io.TextIOWrapper(tar.extractfile(member), encoding="utf-8")
        for row in csv.DictReader(text):
            pod = row["container_ip"]
            sums[pod] += float(row["value"])
            counts[pod] += 1
    # percent -> fraction of one card, pods in sorted order (determinism)
    return [sums[p] / counts[p] / 100.0 for p in sorted(sums)], sum(counts.values())


def empirical_quantile(sorted_xs, q):
    """Linear interpolation between order statistics (numpy's default, 'type 7')."""
    pos = q * (len(sorted_xs) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_xs) - 1)
    return sorted_xs[lo] + (sorted_xs[hi] - sorted_xs[lo]) * (pos - lo)


def beta_cdf(a, b, x):
    """Regularised incomplete beta by Simpson's rule after x = t^(1/a), which removes the
    x^(a-1) singularity at 0 (the integrand becomes (1-x)^(b-1) / (a B(a,b)))."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_norm = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) - math.log(a)
    n = 2000
    h = x ** a / n
    total = 0.0
    for i in range(n + 1):
        xi = (i * h) ** (1.0 / a)
        f = math.exp(log_norm + (b - 1) * math.log1p(-min(xi, 1.0 - 1e-15)))
        total += (1 if i in (0, n) else (4 if i % 2 else 2)) * f
    return total * h / 3


def beta_quantile(a, b, q):
    lo, hi = 0.0, 1.0
    for _ in range(50):
        mid = (lo + hi) / 2
        if beta_cdf(a, b, mid) < q:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def ks_distance(cdf, sorted_xs):
    n = len(sorted_xs)
    return max(max(abs(cdf(x) - i / n), abs(cdf(x) - (i + 1) / n)) for i, x in enumerate(sorted_xs))


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "pod_gpu_duty_cycle_anon.tar.gz"
    means, samples = per_pod_means(path)
    xs = sorted(means)
    positive = [x for x in xs if x > 0]
    print(f"samples {samples}, pods {len(xs)}, pods with mean 0: {len(xs) - len(positive)}")
    print(f"mean {statistics.fmean(xs):.5f}, sd {statistics.pstdev(xs):.5f}, max {xs[-1]:.5f}")

    logs = [math.log(x) for x in positive]
    mu = statistics.fmean(logs)
    sigma = statistics.pstdev(logs)  # the MLE uses the population (1/n) variance
    print(f"lognormal MLE on the {len(positive)} pods with mean > 0: mu = {mu:.4f}, sigma = {sigma:.4f}"
          f" (median {math.exp(mu):.5f})")

    m = statistics.fmean(xs)
    v = statistics.pvariance(xs)
    common = m * (1 - m) / v - 1
    a, b = m * common, (1 - m) * common
    print(f"beta by moments on all {len(xs)} pods: alpha = {a:.4f}, beta = {b:.4f}")

    nd = statistics.NormalDist(mu, sigma)
    print()
    print("quantile    data   lognormal   beta   (fraction of one card)")
    for q in QUANTILES:
        d = empirical_quantile(xs, q)
        ln = math.exp(nd.inv_cdf(q))
        bq = beta_quantile(a, b, q)
        print(f"  p{int(q * 100):<3}   {d:8.5f}  {ln:8.5f}  {bq:8.5f}")
    ks_ln = ks_distance(lambda x: nd.cdf(math.log(x)), positive)
    ks_beta = ks_distance(lambda x: beta_cdf(a, b, x), xs)
    print(f"\nKS distance: lognormal {ks_ln:.4f}, beta {ks_beta:.4f} (n = {len(xs)})")

    # The replay default rescales the beta so that the busiest pod keeps a whole card busy.
    scale = 1.0 / round(xs[-1], 3)
    median = beta_quantile(a, b, 0.5) * scale
    clipped = 1.0 - beta_cdf(a, b, 1.0 / scale)
    print(f"replay default: scale {scale:.4f}, median {median:.4f}, mean {m * scale:.4f},"
          f" p99 {beta_quantile(a, b, 0.99) * scale:.4f}, share clipped at a whole card {clipped:.4%}")
    print("\nper-pod means in milli (for an Empirical distribution):")
    print(",".join(str(max(1, round(x * 1000))) for x in xs))


if __name__ == "__main__":
    main()
