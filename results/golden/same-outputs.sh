#!/usr/bin/env bash
# Do two flexsim binaries give the same outputs? The check behind "behaviour unchanged" and
# "byte-identical" claims of refactors and speed work.
#
#   results/golden/same-outputs.sh OLD_BIN NEW_BIN [--claim] [--allow-new-keys]
#
# Runs the same experiments with both binaries and compares every file they write, byte for
# byte, except the lines that must differ between two runs (`wall_ms`, `events_per_s`,
# `flexsim_version`). With --allow-new-keys, a JSON file may gain keys (a change that adds
# figures): every key of the old file must still be there with the same value and in the same
# order, keys only the new file has are ignored and counted; every other file stays byte for
# byte. The runs:
#   * the FGD reproduction on all four openb traces, every FGD policy, seeds 42..43 (sweep);
#   * openb default replays with best-fit in whole and fractional mode;
#   * a contended 4,000-job small-model-heavy replay under every shipped policy
#     (summary.json, jobs.csv, timeseries.csv);
#   * with --claim, the whole claim check (about a minute on 2 cores).
# Exit 0 when everything matches, 1 with the differing files listed.
set -euo pipefail
cd "$(dirname "$0")/../.."
old=$(realpath "$1")
new=$(realpath "$2")
shift 2
claim=
new_keys=
for opt in "$@"; do
  case $opt in
    --claim) claim=--claim ;;
    --allow-new-keys) new_keys=1 ;;
    *) echo "unknown option $opt (expected --claim, --allow-new-keys)" >&2; exit 2 ;;
  esac
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
openb=traces/openb
fleet=$openb/openb_node_list_gpu_node.csv

experiments() {
  local bin=$1 out=$2
  mkdir -p "$out"
  "$bin" sweep --trace "$openb/openb_pod_list_default.csv,$openb/openb_pod_list_gpushare40.csv,$openb/openb_pod_list_gpuspec33.csv,$openb/openb_pod_list_multigpu50.csv" \
    --fleet "$fleet" --policy random,dot-product,gpu-clustering,gpu-packing,best-fit,fgd \
    --seeds 42..43 --out "$out/fgd" >/dev/null
  for mode in whole fractional; do
    "$bin" run --protocol replay --trace "$openb/openb_pod_list_default.csv" --fleet "$fleet" \
      --policy best-fit --slicing "$mode" --out "$out/openb-$mode" >/dev/null
  done
  "$bin" trace synth --jobs 4000 --preset small-model-heavy --set interarrival_s=4 --seed 7 \
    --out "$out/smh.csv" >/dev/null
  local policies
  policies=$("$bin" policies | awk '{print $1}')
  for p in $policies; do
    "$bin" run --protocol replay --trace "$out/smh.csv" --fleet traces/fleets/flexai-claim.toml \
      --policy "$p" --out "$out/smh-$p" >/dev/null 2>"$out/smh-$p.stderr" || echo "exit $?" >"$out/smh-$p.exit"
  done
  if [ "$claim" = "--claim" ]; then
    "$bin" claim-check --out "$out/claim" --quiet >/dev/null
  fi
}

experiments "$old" "$work/old"
experiments "$new" "$work/new"

# same_json OLD NEW: OLD's keys all in NEW, same values, same order (NEW's extra keys, and the
# keys that differ between any two runs, left out); prints how many keys only NEW has.
same_json() {
  python3 - "$1" "$2" <<'PY'
import json, sys
volatile = {"wall_ms", "flexsim_version", "events_per_s"}
extra = 0
def strip(new, old):
    global extra
    if isinstance(new, dict) and isinstance(old, dict):
        kept = {}
        for k, v in new.items():
            if k in volatile:
                continue
            if k in old:
                kept[k] = strip(v, old[k])
            else:
                extra += 1
        return kept
    return new
def drop(old):
    if isinstance(old, dict):
        return {k: drop(v) for k, v in old.items() if k not in volatile}
    return old
old = json.load(open(sys.argv[1]))
new = json.load(open(sys.argv[2]))
same = json.dumps(strip(new, old)) == json.dumps(drop(old))
print(extra)
sys.exit(0 if same else 1)
PY
}

status=0
added=0
while IFS= read -r f; do
  a="$work/old/$f" b="$work/new/$f"
  if [ ! -f "$b" ]; then
    echo "only in old: $f"; status=1; continue
  fi
  if [ -n "$new_keys" ] && [ "${f%.json}" != "$f" ]; then
    if n=$(same_json "$a" "$b"); then
      added=$((added + n))
    else
      echo "differs: $f"; status=1
    fi
    continue
  fi
  if ! cmp -s <(grep -v '"wall_ms"\|"flexsim_version"\|"events_per_s"' "$a") <(grep -v '"wall_ms"\|"flexsim_version"\|"events_per_s"' "$b"); then
    echo "differs: $f"; status=1
  fi
done < <(cd "$work/old" && find . -type f | sort)
while IFS= read -r f; do
  [ -f "$work/old/$f" ] || { echo "only in new: $f"; status=1; }
done < <(cd "$work/new" && find . -type f | sort)
n=$(cd "$work/old" && find . -type f | wc -l)
if [ $status = 0 ]; then
  if [ -n "$new_keys" ]; then
    echo "same outputs: $n files identical but for $added keys only the new JSON files have"
  else
    echo "same outputs: $n files identical"
  fi
fi
exit $status
