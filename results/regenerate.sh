#!/usr/bin/env bash
# Regenerates every published result — each table of the README and of results/ comes from
# one experiment file — in one command:
#
#   results/regenerate.sh            every experiments/*.toml, then the notebooks' data
#   results/regenerate.sh FILE...    just those experiment files
#
# Each experiment runs into a temporary folder; then exactly the files committed under its
# `out` (default results/<name>/) are refreshed from it — what is published stays what is
# published (no per-run folders the repository does not keep), and `git diff --stat results/`
# shows what moved. Results are bit-identical for the same inputs and seeds, so on an unchanged
# tree only the timing keys of committed run summaries (`wall_ms`, `events_per_s`) and, after a
# version bump, `version.txt` and `flexsim_version` change. About 10 minutes on 2 cores
# (the FGD reproduction and the claim check are most of it). The golden summaries are not
# touched: `results/golden/suite.sh --update` rewrites them, after review.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/flexsim
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
files=("$@")
[ ${#files[@]} -gt 0 ] || files=(experiments/*.toml)
for f in "${files[@]}"; do
  stem=$(basename "$f" .toml)
  name=$(sed -n 's/^name = "\(.*\)"/\1/p' "$f" | head -1)
  out=$(sed -n 's/^out = "\(.*\)"/\1/p' "$f" | head -1)
  out=${out:-results/${name:-$stem}}
  echo "== $f -> $out"
  "$bin" sweep "$f" --quiet --out "$tmp/$stem" >/dev/null
  published=$(git ls-files "$out" | sed "s|^$out/||")
  if [ -z "$published" ]; then
    echo "   nothing of $out is committed yet: commit what should be published from $tmp/$stem" >&2
    continue
  fi
  n=0
  while IFS= read -r rel; do
    if [ -f "$tmp/$stem/$rel" ]; then
      mkdir -p "$out/$(dirname "$rel")"
      cp "$tmp/$stem/$rel" "$out/$rel"
      n=$((n + 1))
    fi
  done <<<"$published"
  echo "   refreshed $n committed files"
done
if [ $# -eq 0 ]; then
  # What the notebooks read beyond the experiments' own files (notebooks/make_data.sh).
  notebooks/make_data.sh claim example
fi
git status --short results/
