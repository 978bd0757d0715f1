#!/usr/bin/env bash
# Times a split evaluation against one process on the same machine and checks that the
# merged report equals the single run's.
#
#   Benchmarks/split_evaluation.sh N OUT_DIR MODEL.snn.onnx [snnkit simulate arguments...]
#
# Runs `snnkit simulate` once over all the data (every core), then the N parts as
# separate processes, as many at a time as there are cores, one thread each (as N
# one-CPU Slurm tasks on this machine would), then `snnkit merge`. Prints the wall time
# of each step and the comparison of report.json (date and timings aside). SNNKIT names
# the binary (default .build/release/snnkit).
set -euo pipefail
if [ $# -lt 3 ]; then echo "usage: $0 N OUT_DIR MODEL [snnkit simulate arguments...]" >&2; exit 64; fi
parts=$1 out=$2
shift 2
snnkit=${SNNKIT:-$(dirname "$0")/../.build/release/snnkit}
cores=$(nproc)
mkdir -p "$out/parts"
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $cores cores; $(date -u +%Y-%m-%d)"
echo "command: snnkit simulate $*"

start=$(now)
"$snnkit" simulate "$@" --quiet --report "$out/single" > "$out/single.txt"
single=$(since "$start")
echo "one process, $cores threads: $single s"

start=$(now)
for ((k = 0; k < parts; k++)); do
    ( s=$(now)
      "$snnkit" simulate "$@" --threads 1 --quiet --part "$k/$parts" --part-file "$out/parts/part-$k-of-$parts.json" > "$out/parts/part-$k.txt" 2>&1
      echo "part $k/$parts: $(since "$s") s" ) &
    if (( (k + 1) % cores == 0 )); then wait; fi
done
wait
for ((k = 0; k < parts; k++)); do
    [ -f "$out/parts/part-$k-of-$parts.json" ] || { echo "part $k/$parts failed: $(tail -1 "$out/parts/part-$k.txt")" >&2; exit 1; }
done
all=$(since "$start")
echo "$parts parts, $cores at a time, 1 thread each: $all s"

start=$(now)
"$snnkit" merge "$out"/parts/part-*-of-"$parts".json --report "$out/merged" > "$out/merged.txt"
echo "merge: $(since "$start") s ($(du -ch "$out"/parts/*.json | tail -1 | cut -f1) of part files)"

python3 "$(dirname "$0")/../Scripts/compare_reports.py" "$out/single/report.json" "$out/merged/report.json"
for f in curves.csv top1.svg energy.svg firing-rates.svg; do
    [ -f "$out/single/$f" ] && { cmp -s "$out/single/$f" "$out/merged/$f" && echo "$f: identical" || echo "$f: DIFFERS"; }
done
