#!/usr/bin/env bash
# Regenerates the data the notebooks read, with the release CLI (cargo build --release first):
#   results/fgd-repro/          fgd-fig9.ipynb
#   results/flexai-claim/*_s42  flexai-claim.ipynb (summary.csv itself: flexsim claim-check)
#   results/my-fleet-example/   my-fleet-my-trace.ipynb
# Each part runs into a temp dir and copies back only the files the notebooks read, so the
# READMEs in those folders survive. Results are bit-identical for the same inputs and seeds.
# Usage: notebooks/make_data.sh [fgd|claim|example]...   (default: all three)
set -euo pipefail
cd "$(dirname "$0")/.."
FLEXSIM=${FLEXSIM:-target/release/flexsim}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
parts=${*:-fgd claim example}

# copy the files of $1 matching the find expression $3... into $2, keeping the tree
keep() {
  local from=$1 to=$2
  shift 2
  (cd "$from" && find . -type f \( "$@" \) -print0) | while IFS= read -r -d '' f; do
    mkdir -p "$to/$(dirname "$f")"
    cp "$from/$f" "$to/$f"
  done
}

for part in $parts; do
  case $part in
  fgd)
    # README "The FGD reproduction": experiments/fgd-repro.toml, the six FGD-paper policies
    # on the four openb traces
    "$FLEXSIM" sweep experiments/fgd-repro.toml --quiet --out "$TMP/fgd-repro"
    find results/fgd-repro -mindepth 1 ! -name README.md -delete
    keep "$TMP/fgd-repro" results/fgd-repro -name sweep.csv -o -name alloc_vs_arrived.svg -o -name curve.csv \
      -o -name report.md -o -name experiment.toml -o -name version.txt
    ;;
  claim)
    python3 notebooks/make_flexai_series.py --flexsim "$FLEXSIM" --seed 42 --out results/flexai-claim
    ;;
  example)
    "$FLEXSIM" trace synth --jobs 2000 --seed 42 --preset small-model-heavy \
      --set interarrival_s=1.5 --out "$TMP/my-trace.csv"
    "$FLEXSIM" sweep --protocol replay --trace "$TMP/my-trace.csv" \
      --fleet traces/fleets/flexai-claim.toml --policy k8s-default,hami --seeds 42..43 \
      --quiet --out "$TMP/my-fleet-example"
    find results/my-fleet-example -mindepth 1 ! -name README.md -delete
    keep "$TMP/my-fleet-example" results/my-fleet-example -name '*.csv' -o -name summary.json
    ;;
  *)
    echo "unknown part $part (fgd, claim, example)" >&2
    exit 2
    ;;
  esac
done
