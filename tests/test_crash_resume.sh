#!/usr/bin/env bash
# The crash-resume trial (issue 17's audit, kept running): a small grid (uniform + SeViLA x k = 1, 2 on 20
# samples) is SIGKILLed from outside at seeded random moments, re-run until done, and must then equal an
# uninterrupted run.  Kills alternate between a random number of stored rows (+ 0-49 ms) and a random time (most of
# the start-up + a random fraction of the loop; commit intervals 1 / 4 / 64 rows, so uncommitted tails are lost).
# Checked: same verification hash and status per run, same predictions / picks / candidates / option
# scores per (run, sample), every row stored once, no error rows, integrity_check ok, and a final re-run with
# nothing to do.  VB_CRASH_SEED picks the delays (default 17; printed, so a failure replays); VB_CRASH_KILLS the
# number of kill attempts (default 8).  Bounded: at most kills + 10 runs of about a second each.
set -u
. "$(dirname "$0")/lib.sh"
vb_models_setup
export VB_SHA256_CACHE=$tmp/sha256-cache.tsv
fail=0
die() { echo "FAIL: $*"; fail=1; }
q() { sqlite3 "$@"; }
SEED=${VB_CRASH_SEED:-17}
KILLS=${VB_CRASH_KILLS:-8}
RANDOM=$SEED
echo "crash-resume: seed $SEED, $KILLS kill attempts"

"$VB_BIN" synth --out "$tmp/syn" --videos 10 --seed 4 --frames 40 --fps 10 --size 64x48 --questions 2 >/dev/null \
  2>&1 || { echo "FAIL: synth"; exit 1; }
"$VB_BIN" init-model --config "$CFG_B" --method sevila --seed 6 --out "$tmp/b" --tokenizer-dir "$TOK_T5" \
  >/dev/null || { echo "FAIL: init-model"; exit 1; }
S=$tmp/syn/nextqa
ARGS=(--dataset nextqa --annotations "$S/val.csv" --map "$S/map_vid_vidorID.json" --videos "$S/videos"
      --method "uniform=$tmp/b,sevila=$tmp/b" --frames 1,2 --candidates 8 --seed 9 --threads 1 --quiet)
N_CELLS=4 N_ROWS=80
now_ms() { date +%s%3N; }

t0=$(now_ms)
"$VB_BIN" run "${ARGS[@]}" --db "$tmp/ref.db" >/dev/null || { echo "FAIL: reference run"; exit 1; }
T_REF=$(( $(now_ms) - t0 ))
[ "$(q "$tmp/ref.db" "SELECT COUNT(*) FROM samples WHERE status='ok'")" = $N_ROWS ] || die "reference: $N_ROWS ok rows"
t0=$(now_ms)
"$VB_BIN" run "${ARGS[@]}" --db "$tmp/ref.db" >/dev/null || { echo "FAIL: re-run of the reference"; exit 1; }
T_SETUP=$(( $(now_ms) - t0 ))   # a run with nothing to do: start-up (bundle, hashes, store)
T_LOOP=$(( T_REF > T_SETUP ? T_REF - T_SETUP : 100 ))
echo "reference run: ${T_REF} ms (start-up ${T_SETUP} ms)"

rows_of() { q "$1" 'SELECT COUNT(*) FROM samples' 2>/dev/null || echo 0; }
n_killed=0 n_mid=0
for i in $(seq "$KILLS"); do
  before=$(rows_of "$tmp/r.db")
  [ "${before:-0}" -ge $N_ROWS ] && break
  rem=$(( N_ROWS - ${before:-0} ))
  if [ $((i % 2)) = 1 ] && [ $rem -gt 2 ]; then
    # at a random number of stored rows (commit every row, so they are visible), then 0-49 ms later
    flush=1 target=$(( ${before:-0} + 1 + RANDOM % (rem - 1) )) extra=$(( RANDOM % 50 ))
    how="after row $target + ${extra} ms"
    "$VB_BIN" run "${ARGS[@]}" --db "$tmp/r.db" --flush-rows 1 >/dev/null 2>&1 & pid=$!
    for _ in $(seq 1500); do
      [ "$(rows_of "$tmp/r.db")" -ge $target ] 2>/dev/null && break
      kill -0 $pid 2>/dev/null || break
      sleep 0.01
    done
    sleep "0.0$(printf '%02d' $extra)"
  else
    # after a random time: 80 % of the start-up + 0 .. 119 % of the loop time the rows still to do took
    flush=$(( (RANDOM % 3 == 0) ? 64 : (RANDOM % 2 ? 4 : 1) ))
    delay_ms=$(( T_SETUP * 8 / 10 + T_LOOP * (RANDOM % 120) / 100 * rem / N_ROWS ))
    how="flush $flush, after ${delay_ms} ms"
    "$VB_BIN" run "${ARGS[@]}" --db "$tmp/r.db" --flush-rows "$flush" >/dev/null 2>&1 & pid=$!
    sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
  fi
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null; rc=$?
  after=$(rows_of "$tmp/r.db")
  [ $rc = 137 ] && n_killed=$((n_killed + 1))
  [ $rc = 137 ] && [ "${after:-0}" -gt "${before:-0}" ] && n_mid=$((n_mid + 1))
  echo "attempt $i: kill $how: exit $rc, rows $before -> $after"
done
[ $n_killed -ge 2 ] || die "only $n_killed of the attempts were killed while running (need 2)"
[ $n_mid -ge 1 ] || die "no kill landed after rows were stored"
echo "killed $n_killed sessions, $n_mid of them after rows were stored"
# resume until done (bounded)
for i in $(seq 10); do
  [ "$(q "$tmp/r.db" "SELECT COUNT(*) FROM runs WHERE status='complete'" 2>/dev/null)" = $N_CELLS ] && break
  "$VB_BIN" run "${ARGS[@]}" --db "$tmp/r.db" >/dev/null || die "resume $i failed"
done
[ "$(q "$tmp/r.db" "PRAGMA integrity_check")" = ok ] || die "integrity_check"
[ "$(q "$tmp/r.db" "SELECT COUNT(*) FROM runs")" = $N_CELLS ] || die "resumes created new runs"
[ "$(q "$tmp/r.db" "SELECT COUNT(*) FROM samples")" = $N_ROWS ] || die "rows lost or duplicated"
[ "$(q "$tmp/r.db" "SELECT COUNT(*) FROM samples WHERE status != 'ok'")" = 0 ] || die "error rows after the kills"
snap() { q "$1" "SELECT method, frames, verify_hash, status FROM runs ORDER BY method, frames"; }
rows() { q "$1" "SELECT r.method, r.frames, s.sample_key, s.status, s.prediction, s.picked, s.candidates, s.option_scores,
                 s.step0_token FROM samples s JOIN runs r ON r.id = s.run_id ORDER BY r.method, r.frames, s.sample_key"; }
[ "$(snap "$tmp/r.db")" = "$(snap "$tmp/ref.db")" ] || { die "verify hashes / status differ"; diff <(snap "$tmp/ref.db") <(snap "$tmp/r.db"); }
[ "$(rows "$tmp/r.db")" = "$(rows "$tmp/ref.db")" ] || die "predictions / picks / scores differ from the uninterrupted run"
out=$("$VB_BIN" run "${ARGS[@]}" --db "$tmp/r.db") || die "final re-run"
echo "$out" | grep -q "0 processed" || die "a complete database still had work"
echo "sessions per run: $(q "$tmp/r.db" "SELECT group_concat(c) FROM (SELECT COUNT(*) c FROM sessions GROUP BY run_id)")"
[ $fail = 0 ] && echo PASS
exit $fail
