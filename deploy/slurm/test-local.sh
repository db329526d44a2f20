#!/usr/bin/env bash
# A real Slurm run of a sharded sweep on this machine: installs Debian's slurm-wlm and munge
# (root; once), starts a one-node cluster on localhost (munged, slurmctld, slurmd with a minimal
# slurm.conf in a temporary folder), submits the shard array and the dependent merge with
# submit.sh, waits, and compares the merged results with a one-process run, byte for byte.
#
#   deploy/slurm/test-local.sh [EXPERIMENT] [SHARDS]
#
# Default: experiments/fgd-repro.toml cut to seeds 42..43 (48 runs), 3 shards.
#
# Needs a release build (cargo build --release) or FLEXSIM=path. Exit 0 when the files match.
# Stops the daemons it started on exit; leaves the packages installed.
set -euo pipefail
cd "$(dirname "$0")/../.."
exp=${1:-}
shards=${2:-3}
flexsim=$(realpath "${FLEXSIM:-target/release/flexsim}")
[ -x "$flexsim" ] || { echo "no flexsim binary at $flexsim (cargo build --release)" >&2; exit 2; }
start=$(date +%s)

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  echo "== installing slurm-wlm and munge"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi
echo "== $(slurmctld -V), $(munged -V 2>&1 | head -1)"

work=$(mktemp -d /tmp/flexsim-slurm.XXXXXX)
chmod 755 "$work"
if [ -z "$exp" ]; then
  exp=$work/fgd-repro-2seeds.toml
  sed 's/^seeds = .*/seeds = "42..43"/' experiments/fgd-repro.toml >"$exp"
fi
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

# munge: a fresh key and socket in the work folder, so no system munged is touched.
mkdir -p "$work/munge"
chown munge:munge "$work/munge" 2>/dev/null || true
chmod 700 "$work/munge"
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chown munge:munge "$work/munge/munge.key" 2>/dev/null || true
chmod 400 "$work/munge/munge.key"
sock=$work/munge/munge.socket
munge_user=root
id munge >/dev/null 2>&1 && munge_user=munge
runuser -u "$munge_user" -- munged --force --key-file="$work/munge/munge.key" \
  --socket="$sock" --pid-file="$work/munge/munged.pid" --log-file="$work/munge/munged.log" \
  --seed-file="$work/munge/munged.seed"
pids+=("$(cat "$work/munge/munged.pid")")

host=$(hostname -s)
cpus=$(nproc)
mem=$(awk '/MemTotal/ {print int($2 / 1024 / 2)}' /proc/meminfo)
mkdir -p "$work/state" "$work/spool"
cat >"$work/slurm.conf" <<CONF
ClusterName=flexsim-test
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmctldPort=16817
SlurmdPort=16818
AuthType=auth/munge
AuthInfo=socket=$sock
CredType=cred/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
CONF
export SLURM_CONF=$work/slurm.conf
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 60); do
  [ -f "$work/slurmctld.pid" ] && [ -f "$work/slurmd.pid" ] && break
  sleep 0.5
done
pids+=("$(cat "$work/slurmctld.pid")" "$(cat "$work/slurmd.pid")")
for _ in $(seq 60); do
  sinfo -h -o %T 2>/dev/null | grep -q idle && break
  sleep 1
done
echo "== cluster up: $(sinfo -h -o '%P %D %T %c cpus')"

# The array and the merge, as a user would submit them (from the repository root).
sub=$(FLEXSIM=$flexsim SBATCH_EXTRA="--chdir=$PWD --output=$work/%x-%j.out --cpus-per-task=1" \
  deploy/slurm/submit.sh "$exp" "$shards" "$work/merged" "$work/parts")
echo "== submitted: $sub"
merge_id=$(echo "$sub" | sed -n 's/.*merge \([0-9]*\).*/\1/p')
for _ in $(seq 900); do
  [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
  sleep 1
done
squeue -h | grep . && { echo "jobs still queued after 15 min" >&2; exit 1; }
state=$(scontrol show job "$merge_id" 2>/dev/null | sed -n 's/.*JobState=\([A-Z]*\).*/\1/p')
echo "== merge job $merge_id: ${state:-gone}"
for f in "$work"/flexsim-*.out; do echo "-- $(basename "$f"):"; tail -n 3 "$f"; done
[ -f "$work/merged/sweep.csv" ] || { echo "no merged sweep.csv" >&2; tail -20 "$work/slurmctld.log" >&2; exit 1; }

echo "== one-process run"
"$flexsim" sweep "$exp" --out "$work/one" --quiet >/dev/null
status=0
for f in sweep.csv report.md experiment.toml version.txt $(cd "$work/one" && ls -- *.svg); do
  if cmp -s "$work/one/$f" "$work/merged/$f"; then
    echo "same: $f ($(wc -c <"$work/one/$f") bytes)"
  else
    echo "DIFFERS: $f"; status=1
  fi
done
# Every run's folder: the same files, the same bytes but for the wall time.
if diff -r -q -x summary.json "$work/one" "$work/merged" >/dev/null \
  && diff -r -I '"wall_ms"' "$work/one" "$work/merged" >/dev/null; then
  echo "same: all $(cd "$work/one" && find . -type f | wc -l) files (summary.json but for wall_ms)"
else
  echo "DIFFERS: run folders"; status=1
fi
echo "== $([ $status = 0 ] && echo PASS || echo FAIL) in $(($(date +%s) - start)) s ($shards shards of $exp)"
exit $status
