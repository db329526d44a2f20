#!/usr/bin/env bash
# The canonical suite that CI regresses against the golden summaries in this folder.
#   results/golden/suite.sh            run the suite, compare with the golden files (exit 1 on a regression)
#   results/golden/suite.sh --update   run the suite and overwrite the golden files (review the diff!)
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=target/release/flexsim
[ -x "$bin" ] || cargo build --release --quiet
trace=traces/openb/openb_pod_list_default.csv
fleet=traces/openb/openb_node_list_gpu_node.csv
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# name | flexsim run arguments
suite=(
  "inflation-openb-default-fgd-s42|run"
  "replay-openb-default-best-fit-whole-s42|run --protocol replay --trace $trace --fleet $fleet --policy best-fit --slicing whole"
  "replay-openb-default-best-fit-fractional-s42|run --protocol replay --trace $trace --fleet $fleet --policy best-fit --slicing fractional"
)

status=0
for entry in "${suite[@]}"; do
  name=${entry%%|*}
  args=${entry#*|}
  # shellcheck disable=SC2086
  "$bin" $args --out "$work/$name" >/dev/null
  if [ "${1:-}" = "--update" ]; then
    cp "$work/$name/summary.json" "results/golden/$name.json"
    echo "updated results/golden/$name.json"
  else
    if out=$("$bin" regress "results/golden/$name.json" "$work/$name"); then
      echo "$name: $(tail -n 1 <<<"$out")"
    else
      printf '%s: REGRESSION\n%s\n' "$name" "$out"
      status=1
    fi
  fi
done
exit $status
