#!/usr/bin/env bash
# AFL++ campaign over every fuzz target (fuzz/README.md).
#   fuzz/campaign.sh SECONDS [TARGET ...]
# Builds the instrumented harness (cargo afl build), runs one afl-fuzz per target in parallel
# at nice 19 for SECONDS each, then prints execs, run time, coverage and crashes per target
# from each fuzzer_stats. Findings land in fuzz/out/<target>/default/{crashes,hangs}.
# Needs cargo-afl (cargo install cargo-afl; it builds AFL++ itself).
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:?usage: campaign.sh SECONDS [TARGET ...]}
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(native openb dlrm fleet_toml fleet_csv profile_toml golden)
nice -n 19 cargo afl build --release --features afl --target-dir target/afl --quiet
export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1
export AFL_NO_AFFINITY=1 AFL_SKIP_CRASHES=1
mkdir -p out
pids=()
for t in "${targets[@]}"; do
  # -t: generous per-input timeout, the machine may be busy; -m: memory cap per input (MiB).
  nice -n 19 cargo afl fuzz -V "$seconds" -t 2000 -m 4096 -i "corpus/$t" -o "out/$t" \
    -- target/afl/release/afl "$t" > "out/$t.log" 2>&1 &
  pids+=($!)
done
status=0
for p in "${pids[@]}"; do wait "$p" || status=1; done
printf '%-13s %12s %8s %10s %12s %8s %6s\n' target execs seconds exec/s edges bitmap crashes
for t in "${targets[@]}"; do
  s="out/$t/default/fuzzer_stats"
  if [ ! -f "$s" ]; then echo "$t: no fuzzer_stats (see out/$t.log)"; status=1; continue; fi
  get() { awk -F' *: *' -v k="$1" '$1==k {print $2}' "$s"; }
  printf '%-13s %12s %8s %10s %12s %8s %6s\n' "$t" "$(get execs_done)" "$(get run_time)" \
    "$(get execs_per_sec)" "$(get edges_found)/$(get total_edges)" "$(get bitmap_cvg)" \
    "$(get saved_crashes)+$(get saved_hangs)h"
done
exit $status
