#!/usr/bin/env bash
# vlapbench run: resume after SIGKILL.  An uninterrupted grid run is the reference; the same configuration is then
# killed at several points (self-SIGKILL after N stored rows with small and larger commit intervals, and an external
# kill -9 while it runs) and re-run until complete.  The result must equal the reference: same verification hash
# per run, same predictions / picks / option scores for every (run, sample), each row stored once, and a final
# re-run finds nothing to do.
set -u
. "$(dirname "$0")/lib.sh"
vb_models_setup
export VB_SHA256_CACHE=$tmp/sha256-cache.tsv
fail=0
die() { echo "FAIL: $*"; fail=1; }
q() { sqlite3 "$@"; }

"$VB_BIN" synth --out "$tmp/syn" --videos 4 --seed 4 --frames 40 --fps 10 --size 64x48 --questions 2 >/dev/null \
  || { echo "FAIL: synth"; exit 1; }
mkdir -p "$tmp/b"
"$VB_BIN" init-model --config "$CFG_B" --method sevila --seed 6 --out "$tmp/b/blip2" \
  --tokenizer-dir "$TOK_T5" >/dev/null || { echo "FAIL: init-model"; exit 1; }
"$VB_BIN" init-model --config "$CFG_I" --method vlap --frames 2 --candidates 8 \
  --seed 6 --out "$tmp/b/vlap2" --tokenizer-dir "$TOK_T5" --tokenizer-dir "$TOK_BERT" >/dev/null \
  || { echo "FAIL: init-model vlap"; exit 1; }
S=$tmp/syn/nextqa
ARGS=(--dataset nextqa --annotations "$S/val.csv" --map "$S/map_vid_vidorID.json" --videos "$S/videos"
      --method "uniform=$tmp/b/blip2,sevila=$tmp/b/blip2" --method "vlap@2=$tmp/b/vlap2" --frames 1,2 --candidates 8
      --selection gumbel --seed 9 --threads 1 --quiet)
# uniform k=1,2, sevila k=1,2 and vlap k=2 (vlap k=1 has no bundle here: give it one)
ARGS+=(--method "vlap@1=$tmp/b/vlap2")
"$VB_BIN" init-model --config "$CFG_I" --method vlap --frames 1 --candidates 8 \
  --seed 6 --out "$tmp/b/vlap1" --tokenizer-dir "$TOK_T5" --tokenizer-dir "$TOK_BERT" >/dev/null
ARGS[${#ARGS[@]}-1]="vlap@1=$tmp/b/vlap1"
N_CELLS=6; N_ROWS=$((8 * N_CELLS))

"$VB_BIN" run "${ARGS[@]}" --db "$tmp/ref.db" >/dev/null || { echo "FAIL: reference run"; exit 1; }
[ "$(q "$tmp/ref.db" "SELECT COUNT(*) FROM samples WHERE status='ok'")" = $N_ROWS ] || die "reference: expected $N_ROWS rows"

snap() { q "$1" "SELECT r.method, r.frames, r.verify_hash, r.status FROM runs r ORDER BY r.method, r.frames"; }
rows() { q "$1" "SELECT r.method, r.frames, s.sample_key, s.status, s.prediction, s.picked, s.candidates, s.option_scores,
                 s.step0_token FROM samples s JOIN runs r ON r.id = s.run_id ORDER BY r.method, r.frames, s.sample_key"; }

# self-kill at several points; flush every row (nothing lost) and every 4 rows (the uncommitted tail is lost)
n_kill=0
for spec in "1:1" "7:4" "13:1" "5:4"; do
  k=${spec%%:*} f=${spec#*:}
  "$VB_BIN" run "${ARGS[@]}" --db "$tmp/r.db" --flush-rows "$f" --kill-after "$k" 2>/dev/null; rc=$?
  [ $rc -eq 137 ] && n_kill=$((n_kill + 1))
  echo "kill-after $k flush $f: exit $rc, rows $(q "$tmp/r.db" 'SELECT COUNT(*) FROM samples')"
done
[ $n_kill -eq 4 ] || die "expected 4 SIGKILLed sessions, got $n_kill"
# external kill -9 while running
"$VB_BIN" run "${ARGS[@]}" --db "$tmp/r.db" --flush-rows 1 2>/dev/null & pid=$!
before=$(q "$tmp/r.db" 'SELECT COUNT(*) FROM samples')
for _ in $(seq 200); do
  n=$(q "$tmp/r.db" 'SELECT COUNT(*) FROM samples' 2>/dev/null || echo 0)
  [ "${n:-0}" -ge $((before + 3)) ] && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.02
done
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
echo "external kill: rows $(q "$tmp/r.db" 'SELECT COUNT(*) FROM samples')"
n=$(q "$tmp/r.db" 'SELECT COUNT(*) FROM samples')
[ "$n" -lt $N_ROWS ] || echo "note: the external kill came after the end"
# finish
out=$("$VB_BIN" run "${ARGS[@]}" --db "$tmp/r.db" --flush-rows 4) || die "final resume failed"
echo "$out"
echo "$out" | grep -qE "^uniform +1 +1 +[0-9]+ +[1-9]" || die "the resumed session did not see stored samples"
[ "$(q "$tmp/r.db" "PRAGMA integrity_check")" = ok ] || die "integrity_check"
[ "$(q "$tmp/r.db" "SELECT COUNT(*) FROM runs")" = $N_CELLS ] || die "resume created new runs"
[ "$(q "$tmp/r.db" "SELECT COUNT(*) FROM samples")" = $N_ROWS ] || die "rows lost or duplicated"
[ "$(q "$tmp/r.db" "SELECT COUNT(*) FROM samples WHERE status != 'ok'")" = 0 ] || die "error rows after resume"
[ "$(snap "$tmp/r.db")" = "$(snap "$tmp/ref.db")" ] || { die "verification hashes differ"; diff <(snap "$tmp/ref.db") <(snap "$tmp/r.db"); }
[ "$(rows "$tmp/r.db")" = "$(rows "$tmp/ref.db")" ] || die "predictions / picks / scores differ from the uninterrupted run"
[ "$(q "$tmp/r.db" "SELECT MIN(c) FROM (SELECT COUNT(*) c FROM sessions GROUP BY run_id)")" -ge 6 ] || die "sessions not recorded"
# nothing left: a further run processes no sample and adds no row
out=$("$VB_BIN" run "${ARGS[@]}" --db "$tmp/r.db") || die "idempotent re-run failed"
echo "$out" | grep -q "0 processed" || die "re-run of a complete configuration processed samples"
[ "$(q "$tmp/r.db" "SELECT COUNT(*) FROM samples")" = $N_ROWS ] || die "re-run added rows"
# a different configuration (seed) is a different run, not a resume
"$VB_BIN" run "${ARGS[@]}" --db "$tmp/r.db" --seed 10 --frames 2 --methods vlap >/dev/null || die "other seed"
[ "$(q "$tmp/r.db" "SELECT COUNT(*) FROM runs")" = $((N_CELLS + 1)) ] || die "another seed did not make a new run"
[ $fail -eq 0 ] && echo "ok"
exit $fail
