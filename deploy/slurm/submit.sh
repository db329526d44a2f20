#!/usr/bin/env bash
# Queues a sharded flexsim sweep on Slurm: an array of SHARDS tasks (sweep.sbatch), then a
# merge job (merge.sbatch) that runs once all of them succeeded.
#
#   deploy/slurm/submit.sh EXPERIMENT SHARDS OUT [PARTS]
#   deploy/slurm/submit.sh experiments/fgd-repro.toml 4 results/fgd-repro
#
# Run it from the repository root (or set FLEXSIM to the binary); prints the two job ids.
# FORCE=1 lets the merge replace an existing OUT. Extra sbatch options: SBATCH_EXTRA.
set -euo pipefail
exp=${1:?usage: submit.sh EXPERIMENT SHARDS OUT [PARTS]}
shards=${2:?usage: submit.sh EXPERIMENT SHARDS OUT [PARTS]}
out=${3:?usage: submit.sh EXPERIMENT SHARDS OUT [PARTS]}
parts=${4:-parts/$(basename "$exp" .toml)}
here=$(dirname "$0")
env="ALL,EXPERIMENT=$exp,SHARDS=$shards,PARTS=$parts,OUT=$out,FLEXSIM=${FLEXSIM:-target/release/flexsim}${FORCE:+,FORCE=1}"
# shellcheck disable=SC2086
array=$(sbatch --parsable ${SBATCH_EXTRA:-} --array="0-$((shards - 1))" --export="$env" \
  "$here/sweep.sbatch")
array=${array%%;*}
# shellcheck disable=SC2086
merge=$(sbatch --parsable ${SBATCH_EXTRA:-} --dependency="afterok:$array" --kill-on-invalid-dep=yes \
  --export="$env" "$here/merge.sbatch")
echo "array $array ($shards shards of $exp), merge $merge -> $out"
