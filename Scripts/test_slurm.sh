#!/usr/bin/env bash
# The split-and-merge evaluation on a real Slurm: a one-node cluster started here (munge,
# slurmctld, slurmd with their own socket, ports and state folder, stopped at the end),
# the shipped job scripts (Scripts/slurm/) run as a 4-task array on CIFAR-10 test images,
# the merge checked against one process over the same images; then one task killed
# mid-run, rerun alone, and the merge checked again.
#
#   Scripts/test_slurm.sh [SNNKIT_BINARY]
#
# Needs root and Debian's slurm-wlm and munge (installed here when missing and possible),
# and the CIFAR-10 test set of ../shared/datasets (Tests/Fixtures/e2e's 16 images
# otherwise). Where Slurm cannot be had it says SKIPPED and exits 0, unless
# SNNKIT_REQUIRE_SLURM=1 (CI), where that is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
binary=$(realpath "${1:-.build/debug/snnkit}")
python=${SNNKIT_PYTHON:-python3}

skip() {
    echo "SKIPPED: the Slurm split-and-merge test: $1"
    if [ "${SNNKIT_REQUIRE_SLURM:-0}" = 1 ]; then echo "SNNKIT_REQUIRE_SLURM=1: a skip is a failure here" >&2; exit 1; fi
    exit 0
}
[ -x "$binary" ] || { echo "no snnkit binary at $binary: build first (swift build)" >&2; exit 1; }
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "== installing Slurm and munge (Debian's slurm-wlm, munge)"
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge) >/dev/null 2>&1 || true
    fi
    command -v slurmctld >/dev/null && command -v munged >/dev/null || skip "slurm-wlm and munge are not installed and cannot be (needs root and apt)"
fi
[ "$(id -u)" = 0 ] || skip "a one-node cluster needs root (slurmd runs jobs as their users)"

state=$(mktemp -d -t snnkit-slurm.XXXXXX)
work=$state/work
mkdir -p "$state/ctld" "$state/d" "$state/munge" "$work"
pids=()
stop() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for f in "$state"/*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true; done
    sleep 1
    rm -rf "$state"
}
trap stop EXIT

# munge with its own key, socket and files.
dd if=/dev/urandom of="$state/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$state/munge/munge.key"
munged --force --key-file="$state/munge/munge.key" --socket="$state/munge/munge.socket" --pid-file="$state/munged.pid" \
    --log-file="$state/munge/munged.log" --seed-file="$state/munge/seed"

# Two free ports for slurmctld and slurmd.
read -r ctld_port slurmd_port < <("$python" - <<'PY'
import socket
ports = []
for _ in range(2):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); ports.append(s.getsockname()[1]); s.close()
print(*ports)
PY
)
host=$(hostname -s)
cpus=$(nproc)
cat > "$state/slurm.conf" <<CONF
ClusterName=snnkit-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
AuthType=auth/munge
AuthInfo=socket=$state/munge/munge.socket
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/d
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/slurmctld.log
SlurmdLogFile=$state/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$state/slurm.conf
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF" -N "$host"
for _ in $(seq 1 30); do
    sinfo -h -o %T 2>/dev/null | grep -qE '^idle' && break
    sleep 1
done
sinfo -h -o %T | grep -qE '^idle' || { tail -20 "$state/slurmctld.log" "$state/slurmd.log" >&2; echo "the one-node cluster did not come up" >&2; exit 1; }
echo "== one-node Slurm cluster up: $(sinfo -h -o '%P %D node, %c CPUs, %T') (slurmctld port $ctld_port)"

# The model: the CIFAR-shaped fixture, converted here; the data: CIFAR-10 test images.
cifar=${SNNKIT_DATASETS:-$root/../shared/datasets}/cifar10
if [ -f "$cifar/test_images.npy" ] && [ -f "$cifar/test_labels.npy" ]; then
    images=(--data "$cifar/test_images.npy" --labels "$cifar/test_labels.npy" --limit 320)
    preset=(--preset cifar10)
    batch=8 long_steps=4096
    model_in=$root/Tests/Fixtures/onnx/net_f_cifar/model.onnx
    calib=$cifar/test_images.npy
    echo "== data: 320 CIFAR-10 test images"
else
    images=(--data "$root/Tests/Fixtures/e2e/vgg_data.npz")
    preset=(--preset none)
    batch=2 long_steps=32768
    model_in=$root/Tests/Fixtures/onnx/net_c_vgg/model.onnx
    calib=$root/Tests/Fixtures/e2e/vgg_data.npz
    echo "== data: the CIFAR-10 test set is absent: Tests/Fixtures/e2e's 16 images"
fi
model=$work/model.snn.onnx
"$binary" convert "$model_in" --calib "$calib" "${preset[@]}" --calib-batches 2 --batch-size 8 -o "$model" --quiet > /dev/null
args=("$model" "${images[@]}" "${preset[@]}" --batch-size "$batch")
export SNNKIT=$binary

wait_for() {  # job id: waits until it has left the queue, prints its final state
    for _ in $(seq 1 600); do
        squeue -h -j "$1" 2>/dev/null | grep -q . || break
        sleep 1
    done
    scontrol show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | sort | uniq -c | tr '\n' ' '
}
same_report() {  # two report.json files: equal apart from the date and timings
    "$python" "$root/Scripts/compare_reports.py" "$1" "$2" | sed 's/^/   /'
    [ "${PIPESTATUS[0]}" = 0 ]
}

echo "== one process over all the images"
"$binary" simulate "${args[@]}" -T 32 --quiet --report "$work/single" > /dev/null

echo "== Scripts/slurm/submit.sh: a 4-task array, then the merge (afterok)"
cd "$work"
submitted=$("$root/Scripts/slurm/submit.sh" 4 "$work/parts" "$work/merged" "${args[@]}" -T 32)
echo "   $submitted"
array=$(echo "$submitted" | awk '{print $3}') merge=$(echo "$submitted" | awk '{print $NF}')
echo "   array: $(wait_for "$array")"
echo "   merge: $(wait_for "$merge")"
ls "$work/parts" | sed 's/^/   /'
[ -f "$work/merged/report.json" ] || { cat "$work"/snnkit-*.out >&2; echo "the merge job wrote no report" >&2; exit 1; }
same_report "$work/single/report.json" "$work/merged/report.json"

echo "== a task killed mid-run, rerun alone, then merged"
rm -rf "$work/parts" "$work/merged"
# Task 2 of a fresh array (long enough to be caught running) is killed while it runs; the
# others finish.
long=(-T "$long_steps" --checkpoints "32,256,$long_steps")
array=$(sbatch --parsable --array=0-3 "$root/Scripts/slurm/simulate-part.sbatch" 4 "$work/parts" "${args[@]}" "${long[@]}")
array=${array%%;*}
running=0
for _ in $(seq 1 600); do
    if squeue -h -j "$array" -t RUNNING -o %i 2>/dev/null | grep -qx "${array}_2"; then running=1; break; fi
    sleep 0.1
done
[ "$running" = 1 ] || { echo "task 2 was never seen running" >&2; exit 1; }
scancel --signal=KILL "${array}_2"
echo "   array with task 2 killed: $(wait_for "$array")"
[ ! -e "$work/parts/part-2-of-4.json" ] || { echo "the killed task left a part file" >&2; exit 1; }
leftovers=$(find "$work/parts" -name '.*tmp*' | wc -l)
echo "   part files after the kill: $(ls "$work/parts" | tr '\n' ' ')(temporary files: $leftovers)"
if "$binary" merge "$work"/parts/part-*.json > "$work/refused.txt" 2>&1; then echo "merge accepted 3 of 4 parts" >&2; exit 1; fi
echo "   merge of the 3 parts refused: $(tail -1 "$work/refused.txt")"
rerun=$(sbatch --parsable --array=2 "$root/Scripts/slurm/simulate-part.sbatch" 4 "$work/parts" "${args[@]}" "${long[@]}")
echo "   rerun of task 2: $(wait_for "${rerun%%;*}")"
merge=$(sbatch --parsable "$root/Scripts/slurm/merge.sbatch" 4 "$work/parts" "$work/merged")
echo "   merge: $(wait_for "${merge%%;*}")"
"$binary" simulate "${args[@]}" "${long[@]}" --quiet --report "$work/single-long" > /dev/null
same_report "$work/single-long/report.json" "$work/merged/report.json"
echo "== Slurm split-and-merge test passed"
