#!/usr/bin/env bash
# Run one vlapbench configuration as a SLURM job array of N shards, then merge the shard databases.
#
#   sbatch --array=0-7 scripts/slurm-array.sh RUN.json OUTDIR         # 8 shards, one task each
#   sbatch --dependency=afterok:<jobid> scripts/slurm-array.sh --merge RUN.json OUTDIR
#
# or, to submit both steps at once:   scripts/slurm-array.sh --submit 8 RUN.json OUTDIR
# (VB_SBATCH_OPTS adds sbatch options to both submissions, e.g. "--partition=gpu --cpus-per-task=4 --mem=16G";
# options given there override the #SBATCH defaults below)
# (submit from the repository root, or set VB=/path/to/vlapbench).  --threads is part of a run's identity: compare
# runs made with the same thread count.
#
# Each task runs `vlapbench run --config RUN.json --shard i/N --db OUTDIR/shard-i.db` (a deterministic slice of the
# samples; re-submitting a failed task resumes it), and the merge step runs
# `vlapbench merge --out OUTDIR/all.db OUTDIR/shard-*.db`, which refuses shards of different configurations.
#SBATCH --job-name=vlapbench
#SBATCH --cpus-per-task=8
#SBATCH --mem=24G
#SBATCH --time=24:00:00
#SBATCH --output=vlapbench-%A_%a.log
set -euo pipefail
# Under sbatch the script runs from a copy in SLURM's spool directory: find the binary from the submit directory.
VB=${VB:-${SLURM_SUBMIT_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}/vlapbench}
if [ "${1:-}" = "--submit" ]; then
  n=$2 cfg=$3 out=$4
  mkdir -p "$out"
  read -r -a extra <<< "${VB_SBATCH_OPTS:-}"
  jid=$(sbatch --parsable "${extra[@]}" --array=0-$((n - 1)) "$0" "$cfg" "$out")
  sbatch --parsable "${extra[@]}" --dependency=afterok:"$jid" --array=0 --export=ALL,VB_NSHARDS="$n" "$0" --merge \
    "$cfg" "$out"
  exit 0
fi
if [ "${1:-}" = "--merge" ]; then
  out=$3
  exec "$VB" merge --out "$out/all.db" "$out"/shard-*.db
fi
cfg=$1 out=$2
n=${VB_NSHARDS:-${SLURM_ARRAY_TASK_COUNT:?run under sbatch --array or set VB_NSHARDS}}
i=${SLURM_ARRAY_TASK_ID:?run under sbatch --array}
mkdir -p "$out"
exec "$VB" run --config "$cfg" --shard "$i/$n" --db "$out/shard-$i.db" --threads "${SLURM_CPUS_PER_TASK:-0}" --quiet
