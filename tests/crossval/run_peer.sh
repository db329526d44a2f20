#!/usr/bin/env bash
# Regenerate every file of tests/crossval from the Tiresias authors' simulator (see README.md).
#
#   PEER_GIT=/path/to/Tiresias/.git tests/crossval/run_peer.sh
#
# PEER_GIT  a git dir holding the peer commit below (default: bare clone from GitHub into $WORK)
# PY2       Python 2.7 (default: pyenv's 2.7.18); numpy 1.16.6 is pip-installed for it into
#           $WORK/py2site if it has none (the peer imports numpy)
# PY3       Python 3 with numpy, for gen_poisson_trace.py only (default: python3)
# WORK      scratch folder (default: /tmp/crossval-peer); the peer's code only ever lives here
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
PEER_COMMIT=959f9b08f44fa1b4f2b3aed79b01e4d439264a94
WORK=${WORK:-/tmp/crossval-peer}
PY2=${PY2:-$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")/versions/2.7.18/bin/python2.7}
PY3=${PY3:-python3}

rm -rf "$WORK/peer" "$WORK/run" "$WORK/out"
mkdir -p "$WORK/peer" "$WORK/run" "$WORK/out"
if [ -z "${PEER_GIT:-}" ]; then
    PEER_GIT="$WORK/peer.git"
    [ -d "$PEER_GIT" ] || git clone --bare https://github.com/SymbioticLab/Tiresias "$PEER_GIT"
fi
git --git-dir="$PEER_GIT" archive "$PEER_COMMIT" | tar -x -C "$WORK/peer"
SIM="$WORK/peer/simulator"

"$PY2" --version
PY2PATH=
if ! "$PY2" -c 'import numpy' 2>/dev/null; then
    [ -d "$WORK/py2site/numpy" ] || "$PY2" -m pip install --target "$WORK/py2site" numpy==1.16.6
    PY2PATH="$WORK/py2site"  # for the peer only: Python 3 must not see it
fi

# run TRACE_DIR PEER_TRACE "CLUSTER_FLAGS" NAME SCHEDULE SCHEME [CONFIG_EDIT...]
run() {
    local tdir=$1 trace=$2 cluster=$3 name=$4 schedule=$5 scheme=$6
    shift 6
    local d="$WORK/run/$tdir/$name"
    mkdir -p "$(dirname "$d")"
    cp -r "$SIM" "$d"
    for c in "$@"; do "$PY3" "$HERE/peer_config.py" "$d" "$c"; done
    cp "$trace" "$d/trace.csv"
    (cd "$d" && PYTHONPATH="$PY2PATH" "$PY2" run_sim.py $cluster --scheme="$scheme" \
        --trace_file=trace.csv --schedule="$schedule" --log_path="$WORK/out/$tdir/$name" \
        > "$WORK/out/$tdir-$name.stdout" 2>&1)
    "$PY3" "$HERE/convert.py" result "$WORK/out/$tdir/$name/job.csv" "$trace" "$HERE/$tdir/$name.csv"
    echo "$tdir/$name: --schedule=$schedule --scheme=$scheme $cluster${*:+ (edits: $*)}"
}

# all schedulers of one trace; the dlas-gpu check: the peer's dlas-gpu ignores --scheme
run_all() {
    local tdir=$1 trace=$2 cluster=$3
    "$PY3" "$HERE/convert.py" trace "$trace" "$HERE/$tdir/trace.csv"
    run "$tdir" "$trace" "$cluster" fifo         fifo     yarn
    run "$tdir" "$trace" "$cluster" fifo-count   fifo     count
    run "$tdir" "$trace" "$cluster" fjf          fjf      yarn
    run "$tdir" "$trace" "$cluster" fjf-count    fjf      count
    run "$tdir" "$trace" "$cluster" dlas-gpu     dlas-gpu yarn
    run "$tdir" "$trace" "$cluster" dlas-gpu-2q  dlas-gpu yarn 2q
    run "$tdir" "$trace" "$cluster" dlas-gpu-exact    dlas-gpu yarn exact
    run "$tdir" "$trace" "$cluster" dlas-gpu-2q-exact dlas-gpu yarn 2q exact
    run "$tdir" "$trace" "$cluster" .dlas-gpu-count dlas-gpu count
    cmp "$HERE/$tdir/dlas-gpu.csv" "$HERE/$tdir/.dlas-gpu-count.csv"
    rm "$HERE/$tdir/.dlas-gpu-count.csv"
    "$PY3" "$HERE/convert.py" summary "$HERE/$tdir" fifo fifo-count fjf fjf-count \
        dlas-gpu dlas-gpu-2q dlas-gpu-exact dlas-gpu-2q-exact
}

# a. the peer's shipped 60-job trace on its n32g4 cluster (the README's example cluster)
run_all tiresias60 "$SIM/60_job.csv" --cluster_spec=n32g4.csv

# a'. the same trace on 16 GPUs (1 switch x 4 nodes x 4 GPUs, the peer's command-line cluster
#     flags; no shipped spec file), where it has a load of 0.94 and the schedulers differ
run_all tiresias60-n4g4 "$SIM/60_job.csv" \
    "--num_switch=1 --num_node_p_switch=4 --num_gpu_p_node=4 --num_cpu_p_node=64 --mem_p_node=256"

# b. 5,000 jobs from the peer's GPU-time and job-size distributions, load 0.9 on 64 GPUs, on the
#    peer's shipped 64-GPU spec cluster_spec.csv (1 switch x 16 nodes x 4 GPUs)
"$PY3" "$HERE/gen_poisson_trace.py" --peer-dir "$SIM" --jobs 5000 --seed 20190226 \
    --gpus 64 --load 0.9 --out "$HERE/poisson5000/peer_trace.csv"
run_all poisson5000 "$HERE/poisson5000/peer_trace.csv" --cluster_spec=cluster_spec.csv

# c. the demotion-timing probe: two 4-GPU jobs at t=0 on the peer's n1g4 (one 4-GPU node)
"$PY3" "$HERE/convert.py" trace "$HERE/probe/peer_trace.csv" "$HERE/probe/trace.csv"
run probe "$HERE/probe/peer_trace.csv" --cluster_spec=n1g4.csv dlas-gpu       dlas-gpu yarn
run probe "$HERE/probe/peer_trace.csv" --cluster_spec=n1g4.csv dlas-gpu-exact dlas-gpu yarn exact
"$PY3" "$HERE/convert.py" summary "$HERE/probe" dlas-gpu dlas-gpu-exact

cat "$HERE"/*/summary.csv
