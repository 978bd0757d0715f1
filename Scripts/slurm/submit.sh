#!/usr/bin/env bash
# Submits a split `snnkit simulate`: an array of N parts, then the merge once every part
# has succeeded.
#
#   Scripts/slurm/submit.sh N PARTS_DIR REPORT_DIR MODEL.snn.onnx --data test.npz --preset cifar10 -T 256
#
# Prints the two job ids (array, merge). Extra sbatch options (partition, account, time
# limit) go in SBATCH_* environment variables, e.g. SBATCH_PARTITION=cpu, which sbatch
# reads itself. If a task fails, the merge never starts (afterok): rerun that task with
#   sbatch --array=K Scripts/slurm/simulate-part.sbatch N PARTS_DIR MODEL ...
# and then the merge alone with
#   sbatch Scripts/slurm/merge.sbatch N PARTS_DIR REPORT_DIR
set -euo pipefail
if [ $# -lt 4 ]; then
    echo "usage: $0 N PARTS_DIR REPORT_DIR MODEL [snnkit simulate arguments...]" >&2
    exit 64
fi
parts=$1 folder=$2 report=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
array=$(sbatch --parsable --array="0-$((parts - 1))" "$here/simulate-part.sbatch" "$parts" "$folder" "$@")
array=${array%%;*}
merge=$(sbatch --parsable --dependency="afterok:$array" "$here/merge.sbatch" "$parts" "$folder" "$report")
echo "array job $array ($parts parts), merge job ${merge%%;*}"
