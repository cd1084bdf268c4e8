#!/usr/bin/env bash
# scripts/slurm-array.sh on a real single-node SLURM (Debian's slurmctld + slurmd + munge on localhost, private
# config, ports and state under a scratch directory; started and stopped by this test): a 3-shard job array of the
# real engine (uniform + SeViLA on a synthetic NExT-QA, random-weight demo-size bundles) plus the merge job give a
# database whose runs equal a single-process run (same verify hashes, sample counts, status complete).
# The SLURM packages are installed with apt-get when missing (as root, or with sudo); SKIP (77), with the reason,
# only where the daemons cannot be installed or cannot start (e.g. no root).
set -u
: "${VB_BIN:?VB_BIN not set}"
ROOT=$(cd "$(dirname "$0")/.." && pwd)
fail() { echo "FAIL: $*"; exit 1; }
skip() { echo "SKIP: slurm: $*"; exit 77; }
need=(); for c in slurmctld slurmd munged sbatch squeue; do command -v $c >/dev/null || need+=("$c"); done
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || { command -v sudo >/dev/null && sudo -n true 2>/dev/null && SUDO=sudo; } ||
    skip "${need[*]} missing and no root to install slurmctld slurmd munge slurm-client"
  { $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq &&
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
      slurmctld slurmd munge slurm-client; } >/tmp/vb-slurm-apt.log 2>&1 ||
    skip "apt-get could not install slurmctld slurmd munge slurm-client ($(tail -1 /tmp/vb-slurm-apt.log))"
fi
[ "$(id -u)" = 0 ] || skip "slurmd must run as root to launch jobs (not root here)"
T=$(mktemp -d); chmod 755 "$T"   # munged wants its socket directory reachable by all
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for f in "$T/ctld.pid" "$T/d.pid" "$T/munge/pid"; do [ -s "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
  sleep 0.5; rm -rf "$T"
}
trap cleanup EXIT

# ---- private munge + slurm on free-ish ports
mkdir -p "$T/munge" "$T/state" "$T/spool" "$T/out"
head -c 128 /dev/urandom > "$T/munge/munge.key"; chmod 600 "$T/munge/munge.key"
munged --socket="$T/munge/sock" --key-file="$T/munge/munge.key" --pid-file="$T/munge/pid" \
  --log-file="$T/munge/log" --seed-file="$T/munge/seed" 2>"$T/munged.err" || skip "munged did not start: $(cat "$T/munged.err")"
H=$(hostname)
P=$((20000 + ($$ % 20000)))
cat > "$T/slurm.conf" <<CONF
ClusterName=vbtest
SlurmctldHost=$H(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$P
SlurmdPort=$((P + 1))
AuthType=auth/munge
AuthInfo=socket=$T/munge/sock
CredType=cred/munge
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/ctld.pid
SlurmdPidFile=$T/d.pid
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
ReturnToService=2
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
SlurmctldLogFile=$T/ctld.log
SlurmdLogFile=$T/d.log
NodeName=$H NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=2000 State=UNKNOWN
PartitionName=vbtest Nodes=$H Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$T/slurm.conf
slurmctld -f "$T/slurm.conf" 2>"$T/ctld.err" || skip "slurmctld did not start: $(head -3 "$T/ctld.err")"
slurmd -f "$T/slurm.conf" -N "$H" 2>"$T/d.err" || skip "slurmd did not start: $(head -3 "$T/d.err")"
up=0
for _ in $(seq 1 40); do
  sinfo -h -o '%t' 2>/dev/null | grep -q idle && { up=1; break; }
  sleep 0.5
done
[ $up = 1 ] || skip "the node did not come up: $(tail -3 "$T/d.log" 2>/dev/null)"
echo "slurm up: $(sinfo -h -o '%P %D %t %c')"

# ---- data and models as make demo builds them (synthetic NExT-QA, demo tokenizers, random-weight bundles)
VB=$VB_BIN
"$VB" synth --out "$T/data" --videos 3 --questions 2 --seed 11 --frames 40 --fps 10 --size 96x64 2>/dev/null ||
  fail "synth"
mkdir -p "$T/tok"
"$VB" demo corpus --synth "$T/data" --out "$T/tok/corpus.txt" 2>/dev/null || fail "demo corpus"
(cd "$T/tok" && spm_train --input=corpus.txt --model_prefix=spiece --model_type=unigram --vocab_size=400 \
  --hard_vocab_limit=false --character_coverage=1.0 --pad_id=0 --eos_id=1 --unk_id=2 --bos_id=-1 --num_threads=1 \
  --random_seed=1 --minloglevel=1 >/dev/null 2>&1) || fail "spm_train"
"$VB" tokenize --spm-to-json "$T/tok/spiece.model" --out "$T/tok/tokenizer.json" --extra-ids 100 >/dev/null 2>&1 ||
  fail "spm-to-json"
"$VB" demo wordpiece --corpus "$T/tok/corpus.txt" --out "$T/tok/vocab.txt" --size 400 2>/dev/null || fail "wordpiece"
mkdir -p "$T/models"
for m in uniform sevila; do
  "$VB" init-model --config "$ROOT/configs/demo-blip2.json" --method $m --seed 1 --out "$T/models/$m" \
    --tokenizer-dir "$T/tok" >/dev/null 2>&1 || fail "init-model $m"
done
cat > "$T/run.json" <<CFG
{"dataset": "nextqa", "annotations": "$T/data/nextqa/val.csv", "map": "$T/data/nextqa/map_vid_vidorID.json",
 "videos": "$T/data/nextqa/videos",
 "methods": [{"name": "uniform", "model": "$T/models/uniform"}, {"name": "sevila", "model": "$T/models/sevila"}],
 "frames": [1, 2], "candidates": 8, "seed": 1, "warmup": 0, "threads": 1}
CFG

# ---- the job array (3 shards) and the merge job, as a user submits them
cd "$T/out"
VB="$VB" VB_SBATCH_OPTS="--cpus-per-task=1 --mem=500M --time=10" \
  bash "$ROOT/scripts/slurm-array.sh" --submit 3 "$T/run.json" "$T/out" > "$T/submit.out" 2>&1 ||
  fail "submit: $(cat "$T/submit.out")"
for _ in $(seq 1 600); do
  [ -z "$(squeue -h 2>/dev/null)" ] && break
  sleep 0.5
done
[ -z "$(squeue -h)" ] || fail "jobs still queued after 300 s: $(squeue)"
[ -s "$T/out/all.db" ] || fail "no merged database; job logs: $(tail -n 5 "$T"/out/vlapbench-*.log)"
ls "$T"/out/shard-*.db | wc -l | grep -qx 3 || fail "expected 3 shard databases"

# ---- the same configuration in one process
"$VB" run --config "$T/run.json" --db "$T/single.db" --quiet >/dev/null 2>&1 || fail "single-process run"
q() { sqlite3 -separator ' ' "$1" "SELECT method, frames, candidates, verify_hash, status, n_expected,
  (SELECT COUNT(*) FROM samples s WHERE s.run_id = runs.id) FROM runs ORDER BY method, frames"; }
a=$(q "$T/out/all.db"); b=$(q "$T/single.db")
echo "$a"
[ -n "$a" ] && [ "$a" = "$b" ] || fail "merged SLURM database differs from the single-process run:
$a
---
$b"
[ "$(echo "$a" | grep -c ' complete ')" = 4 ] || fail "expected 4 complete runs"
echo "ok: 3 SLURM array tasks + merge = single-process run (4 cells, same verify hashes)"
