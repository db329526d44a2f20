#!/usr/bin/env bash
# Builds this out-of-tree policy crate as its author would and runs it in a sweep against fgd
# through the real CLI (`.ci/run` calls this). Exit 1 if the sweep lacks either policy's rows
# or its plot. Shares the repository's target/ so flexsim's crates are compiled once. Its
# Cargo.lock pins what flexsim's does; after changing flexsim's dependencies, refresh it:
# cp Cargo.lock examples/out-of-tree-policy/ and build it once without --locked.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export CARGO_TARGET_DIR="$root/target"
cargo build --release --locked --manifest-path "$here/Cargo.toml"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$CARGO_TARGET_DIR/release/worst-fit-policy" sweep --policy 'worst-fit,fgd' --seeds 42..43 \
  --out "$work/cmp" --quiet
for policy in worst-fit fgd; do
  rows=$(grep -c "^openb_pod_list_default,$policy," "$work/cmp/sweep.csv" || true)
  [ "$rows" = 2 ] || { echo "sweep.csv has $rows rows of $policy, expected 2" >&2; exit 1; }
done
[ -s "$work/cmp/alloc_vs_arrived.svg" ] || { echo "no alloc_vs_arrived.svg" >&2; exit 1; }
echo "out-of-tree policy: built, and swept against fgd (sweep.csv, alloc_vs_arrived.svg)"
