#!/usr/bin/env bash
# vlapbench run --shard i/N + vlapbench merge: the shards are disjoint, cover the selection, follow the documented
# rule (FNV-1a 64 of the sample key mod N, checked against an independent implementation), and the merged database
# equals a single-process run (verification hash, predictions, picks, scores; status complete).  Also: --limit is
# applied before sharding, and scripts/slurm-array.sh drives the same flags (task and merge steps, no sbatch).
set -u
. "$(dirname "$0")/lib.sh"
vb_models_setup
if [ -n "${KEEP_TMP:-}" ]; then rm -rf "$tmp"; trap - EXIT; tmp=$KEEP_TMP; mkdir -p "$tmp"; fi
export VB_SHA256_CACHE=$tmp/sha256-cache.tsv
fail=0
die() { echo "FAIL: $*"; fail=1; }
q() { sqlite3 "$@"; }

"$VB_BIN" synth --out "$tmp/syn" --videos 5 --seed 5 --frames 30 --fps 10 --size 64x48 --questions 2 >/dev/null \
  || { echo "FAIL: synth"; exit 1; }
mkdir -p "$tmp/b"
"$VB_BIN" init-model --config "$CFG_B" --method sevila --seed 7 --out "$tmp/b/blip2" \
  --tokenizer-dir "$TOK_T5" >/dev/null || { echo "FAIL: init-model"; exit 1; }
# a config file with relative paths (the SLURM script takes one)
cat > "$tmp/run.json" <<J
{"dataset": "star", "annotations": "syn/star/STAR_val.json", "videos": "syn/star/videos", "frames": [1, 2],
 "candidates": 8, "threads": 1, "methods": [{"name": "uniform", "model": "b/blip2"}, {"name": "sevila", "model": "b/blip2"}]}
J
N_ROWS=$((10 * 4))
"$VB_BIN" run --config "$tmp/run.json" --db "$tmp/one.db" --quiet >/dev/null || { echo "FAIL: single run"; exit 1; }
[ "$(q "$tmp/one.db" "SELECT COUNT(*) FROM samples WHERE status='ok'")" = $N_ROWS ] || die "single run: expected $N_ROWS rows"

for i in 0 1 2; do
  "$VB_BIN" run --config "$tmp/run.json" --shard $i/3 --db "$tmp/shard-$i.db" --quiet >/dev/null || die "shard $i"
done
tot=0
for i in 0 1 2; do
  n=$(q "$tmp/shard-$i.db" "SELECT COUNT(DISTINCT sample_key) FROM samples")
  echo "shard $i: $n samples"; tot=$((tot + n))
  [ "$(q "$tmp/shard-$i.db" "SELECT COUNT(*) FROM samples WHERE shard != $i")" = 0 ] || die "shard column of shard $i"
  [ "$(q "$tmp/shard-$i.db" "SELECT COUNT(*) FROM runs WHERE status='incomplete' AND n_expected=10")" = 4 ] \
    || [ "$n" = 10 ] || die "shard $i runs should be incomplete with n_expected 10"
done
[ $tot -eq 10 ] || die "shards hold $tot samples, expected 10 (disjoint cover)"
# the documented rule, computed independently
if command -v python3 >/dev/null; then
  for i in 0 1 2; do
    want=$(q "$tmp/one.db" "SELECT DISTINCT sample_key FROM samples ORDER BY 1" | python3 -c '
import sys
for k in sys.stdin.read().split():
    h = 14695981039346656037
    for b in k.encode(): h = ((h ^ b) * 1099511628211) % (1 << 64)
    if h % 3 == '$i': print(k)')
    got=$(q "$tmp/shard-$i.db" "SELECT DISTINCT sample_key FROM samples ORDER BY 1")
    [ "$want" = "$got" ] || die "shard $i does not hold the keys with FNV-1a(key) % 3 == $i"
  done
fi
"$VB_BIN" merge --out "$tmp/all.db" "$tmp"/shard-*.db >/dev/null || die "merge"
snap() { q "$1" "SELECT method, frames, candidates, verify_hash, status FROM runs ORDER BY method, frames"; }
rows() { q "$1" "SELECT r.method, r.frames, s.sample_key, s.status, s.prediction, s.picked, s.candidates, s.option_scores
                 FROM samples s JOIN runs r ON r.id = s.run_id ORDER BY r.method, r.frames, s.sample_key"; }
echo "single: $(snap "$tmp/one.db" | tr '\n' ' ')"
echo "merged: $(snap "$tmp/all.db" | tr '\n' ' ')"
[ "$(snap "$tmp/all.db")" = "$(snap "$tmp/one.db")" ] || die "merged runs differ from the single-process run"
[ "$(rows "$tmp/all.db")" = "$(rows "$tmp/one.db")" ] || die "merged rows differ from the single-process run"
[ "$(q "$tmp/all.db" "SELECT COUNT(*) FROM runs WHERE status='complete'")" = 4 ] || die "merged runs not complete"
[ "$(q "$tmp/all.db" "SELECT COUNT(*) FROM sessions")" = 12 ] || die "merged sessions: expected 3 per run"

# --limit before sharding: the union of the shards of --limit 6 is the unsharded --limit 6
"$VB_BIN" run --config "$tmp/run.json" --limit 6 --frames 1 --methods uniform --db "$tmp/l.db" --quiet >/dev/null || die "limit"
for i in 0 1; do
  "$VB_BIN" run --config "$tmp/run.json" --limit 6 --frames 1 --methods uniform --shard $i/2 --db "$tmp/ls$i.db" --quiet \
    >/dev/null || die "limit shard $i"
done
u=$( (q "$tmp/ls0.db" "SELECT sample_key FROM samples"; q "$tmp/ls1.db" "SELECT sample_key FROM samples") | sort)
[ "$u" = "$(q "$tmp/l.db" "SELECT sample_key FROM samples ORDER BY 1" | sort)" ] || die "--limit then --shard: union differs"
"$VB_BIN" run --config "$tmp/run.json" --shard 3/3 --db "$tmp/x.db" 2>/dev/null; [ $? -eq 2 ] || die "--shard 3/3 accepted"

# scripts/slurm-array.sh: two array tasks and the merge step, driven through its environment (no sbatch)
if [ -f "$VB_ROOT/scripts/slurm-array.sh" ]; then
  for i in 0 1; do
    VB=$VB_BIN VB_NSHARDS=2 SLURM_ARRAY_TASK_ID=$i SLURM_CPUS_PER_TASK=1 bash "$VB_ROOT/scripts/slurm-array.sh" \
      "$tmp/run.json" "$tmp/slurm" >/dev/null || die "slurm-array.sh task $i"
  done
  VB=$VB_BIN bash "$VB_ROOT/scripts/slurm-array.sh" --merge "$tmp/run.json" "$tmp/slurm" >/dev/null || die "slurm-array.sh --merge"
  [ "$(snap "$tmp/slurm/all.db")" = "$(snap "$tmp/one.db")" ] || die "slurm-array.sh result differs from the single run"
fi
[ $fail -eq 0 ] && echo "ok"
exit $fail
