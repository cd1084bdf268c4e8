#!/usr/bin/env bash
# Runs that fail fast and can be repaired (issue 18):
#   - a missing video gives error rows; restored, a plain re-run changes nothing (resume skips stored rows) and
#     `--retry-errors` re-runs them: 0 error rows, and the run then equals an uninterrupted clean run (verify hash,
#     predictions);
#   - 22 samples whose videos are all missing: `run` stops with exit 1 after the first 20, naming the reason and the
#     expected video path pattern; with --keep-going it stores 22 error rows, exits 0, and the run is NOT complete
#     (a run of only error rows is incomplete);
#   - fail fast counts the run's stored rows: a resumed run whose stored rows are 20 identical failures stops at
#     once naming the reason (also after --videos was corrected, until --retry-errors); --keep-going runs on;
#     --retry-errors re-runs them (stopping again while the videos are missing, repairing once they are there);
#   - the subset label follows what is stored through merges and resumes: the larger selection wins, a run holding
#     every sample of the split is the whole split (also from --samples lists or shards), complete only when every
#     expected sample is stored;
#   - a --limit run is a labelled subset (runs.subset, `runs`, `runs --json` "subset"); the whole split is not; the
#     checkpoint name (bundle directory's basename) is recorded in runs.checkpoint.
set -u
. "$(dirname "$0")/lib.sh"
vb_models_setup
export VB_SHA256_CACHE=off
fail=0
die() { echo "FAIL: $*"; fail=1; }
q() { sqlite3 "$@"; }

"$VB_BIN" synth --out "$tmp/syn" --videos 3 --seed 2 --frames 40 --fps 10 --size 64x48 --questions 2 >/dev/null 2>&1 \
  || { echo "FAIL: synth"; exit 1; }
"$VB_BIN" init-model --config "$CFG_B" --method sevila --seed 5 --out "$tmp/blip2-tiny" \
  --tokenizer-dir "$TOK_T5" >/dev/null || { echo "FAIL: init-model"; exit 1; }
S=$tmp/syn/nextqa
run() { "$VB_BIN" run --dataset nextqa --annotations "$S/val.csv" --map "$S/map_vid_vidorID.json" \
        --method uniform="$tmp/blip2-tiny" --frames 1,2 --threads 1 --warmup 0 --quiet "$@"; }
snap() { q "$1" "SELECT frames, verify_hash FROM runs ORDER BY frames"; }
rows() { q "$1" "SELECT r.frames, s.sample_key, s.status, s.prediction, s.picked FROM samples s JOIN runs r
                 ON r.id = s.run_id ORDER BY 1, 2"; }

# --- reference: a clean run of the whole split
run --videos "$S/videos" --db "$tmp/ref.db" >/dev/null || die "reference run"
[ "$(q "$tmp/ref.db" "SELECT COUNT(*) FROM samples WHERE status='ok'")" = 12 ] || die "reference: 12 ok rows expected"
[ "$(q "$tmp/ref.db" "SELECT group_concat(DISTINCT status) FROM runs")" = complete ] || die "reference not complete"
q "$tmp/ref.db" "SELECT COUNT(*) FROM runs WHERE subset IS NULL" | grep -qx 2 || die "whole split stored as a subset"
[ "$(q "$tmp/ref.db" "SELECT DISTINCT json_extract(checkpoint, '\$.dir') FROM runs")" = blip2-tiny ] \
  || die "checkpoint name not recorded: $(q "$tmp/ref.db" "SELECT checkpoint FROM runs")"

# --- a missing video, then restored
mv "$S/videos/1000/9000000001.mp4" "$tmp/held.mp4"
run --videos "$S/videos" --db "$tmp/r.db" >/dev/null || die "run with one missing video"
n_err=$(q "$tmp/r.db" "SELECT COUNT(*) FROM samples WHERE status='error'")
[ "$n_err" = 4 ] || die "missing video: expected 4 error rows (2 questions x 2 cells), got $n_err"
q "$tmp/r.db" "SELECT error FROM samples WHERE status='error' LIMIT 1" | grep -q "9000000001.mp4" \
  || die "error row does not name the video"
mv "$tmp/held.mp4" "$S/videos/1000/9000000001.mp4"
run --videos "$S/videos" --db "$tmp/r.db" >/dev/null || die "plain re-run"
[ "$(q "$tmp/r.db" "SELECT COUNT(*) FROM samples WHERE status='error'")" = 4 ] || die "plain re-run changed error rows"
run --videos "$S/videos" --db "$tmp/r.db" --retry-errors >/dev/null || die "--retry-errors run"
[ "$(q "$tmp/r.db" "SELECT COUNT(*) FROM samples WHERE status='error'")" = 0 ] || die "--retry-errors left error rows"
[ "$(q "$tmp/r.db" "SELECT COUNT(*) FROM samples")" = 12 ] || die "--retry-errors: rows lost or duplicated"
[ "$(snap "$tmp/r.db")" = "$(snap "$tmp/ref.db")" ] || die "verify hashes differ from the clean run"
[ "$(rows "$tmp/r.db")" = "$(rows "$tmp/ref.db")" ] || die "predictions differ from the clean run"
[ "$(q "$tmp/r.db" "SELECT group_concat(DISTINCT status) FROM runs")" = complete ] || die "repaired run not complete"
echo "ok: missing video -> 4 error rows -> --retry-errors -> 0 error rows, equal to the clean run"

# --- fail fast: 22 samples, no video anywhere
"$VB_BIN" synth --out "$tmp/nov" --videos 11 --seed 3 --questions 2 --size 64x48 --no-videos >/dev/null 2>&1 \
  || { echo "FAIL: synth --no-videos"; exit 1; }
N=$tmp/nov/nextqa
mkdir -p "$tmp/empty"
runn() { "$VB_BIN" run --dataset nextqa --annotations "$N/val.csv" --map "$N/map_vid_vidorID.json" \
         --videos "$tmp/empty" --method uniform="$tmp/blip2-tiny" --frames 1 --threads 1 --warmup 0 --quiet "$@"; }
runn --db "$tmp/ff.db" >/dev/null 2>"$tmp/ff.err"; rc=$?
[ $rc = 1 ] || die "all-missing run: exit $rc, want 1"
grep -q "stopped: the first 20 samples all failed the same way" "$tmp/ff.err" || die "no fail-fast reason: $(cat "$tmp/ff.err")"
grep -qF "expected video paths like $tmp/empty/" "$tmp/ff.err" || die "no expected path: $(cat "$tmp/ff.err")"
grep -qF "<video_id>.mp4" "$tmp/ff.err" || die "no path pattern: $(cat "$tmp/ff.err")"
[ "$(q "$tmp/ff.db" "SELECT COUNT(*) FROM samples")" = 20 ] || die "fail fast: expected 20 stored rows"
[ "$(q "$tmp/ff.db" "SELECT status FROM runs")" != complete ] || die "a stopped run is complete"
head -3 "$tmp/ff.err"
runn --db "$tmp/kg.db" --keep-going >/dev/null 2>&1 || die "--keep-going: exit $?"
[ "$(q "$tmp/kg.db" "SELECT COUNT(*) FROM samples WHERE status='error'")" = 22 ] || die "--keep-going: 22 error rows"
st=$(q "$tmp/kg.db" "SELECT status FROM runs")
[ "$st" = incomplete ] || die "a run of only error rows has status '$st' (want incomplete)"
"$VB_BIN" runs --db "$tmp/kg.db" | grep -qw complete && die "runs shows an all-error run as complete"
# fewer than 20 failures of one kind do not stop a run (3 samples, all missing)
runn --db "$tmp/few.db" --limit 3 >/dev/null 2>&1 || die "3 failing samples stopped the run"
echo "ok: fail fast after 20, --keep-going, all-error run incomplete"

# --- fail fast counts the run's stored rows, not a session's: 22 samples whose videos are there, --videos wrong
"$VB_BIN" synth --out "$tmp/ff2" --videos 11 --seed 4 --frames 16 --fps 8 --size 64x48 --questions 2 >/dev/null 2>&1 \
  || { echo "FAIL: synth (22 samples)"; exit 1; }
F=$tmp/ff2/nextqa
runf() { "$VB_BIN" run --dataset nextqa --annotations "$F/val.csv" --map "$F/map_vid_vidorID.json" \
         --method uniform="$tmp/blip2-tiny" --frames 1 --threads 1 --warmup 0 --quiet "$@"; }
rc=0; runf --videos "$tmp/empty" --db "$tmp/ff2.db" >/dev/null 2>&1 || rc=$?
[ $rc = 1 ] && [ "$(q "$tmp/ff2.db" "SELECT COUNT(*) FROM samples WHERE status='error'")" = 20 ] \
  || die "wrong --videos: exit $rc, want 1 with 20 error rows"
cp "$tmp/ff2.db" "$tmp/ff2b.db"; cp "$tmp/ff2.db" "$tmp/ff2c.db"
# resumed (same wrong --videos): stops at once with the reason; no row added (before, the session counted only the
# 2 samples it ran, so it went on and stored 2 more failures with exit 0)
rc=0; runf --videos "$tmp/empty" --db "$tmp/ff2.db" >/dev/null 2>"$tmp/ff2.err" || rc=$?
[ $rc = 1 ] || die "resumed run of 20 stored identical failures: exit $rc, want 1"
grep -q "stopped at once (the samples were stored by earlier sessions of this run): the first 20 samples all failed" \
  "$tmp/ff2.err" || die "resumed stop: no reason: $(cat "$tmp/ff2.err")"
grep -qF "expected video paths like $tmp/empty/" "$tmp/ff2.err" || die "resumed stop: no path: $(cat "$tmp/ff2.err")"
[ "$(q "$tmp/ff2.db" "SELECT COUNT(*) FROM samples")" = 20 ] || die "resumed stop: rows were added"
[ "$(q "$tmp/ff2.db" "SELECT status FROM runs")" = failed ] || die "resumed stop: run not marked failed"
# --videos corrected but no --retry-errors: the stored rows (under the old root) still stop it, naming the fix
rc=0; runf --videos "$F/videos" --db "$tmp/ff2.db" >/dev/null 2>"$tmp/ff2.err" || rc=$?
[ $rc = 1 ] && grep -q "stopped at once" "$tmp/ff2.err" && grep -q -- "--retry-errors" "$tmp/ff2.err" \
  || die "corrected --videos without --retry-errors: exit $rc: $(cat "$tmp/ff2.err")"
# --keep-going on a resumed run: runs the 2 remaining samples (22 error rows), exit 0
runf --videos "$tmp/empty" --db "$tmp/ff2b.db" --keep-going >/dev/null 2>&1 || die "resumed --keep-going: exit $?"
[ "$(q "$tmp/ff2b.db" "SELECT COUNT(*) FROM samples WHERE status='error'")" = 22 ] || die "resumed --keep-going: 22 rows"
# --retry-errors with the videos still missing: the 20 rows are run again and stop the run again after 20
rc=0; runf --videos "$tmp/empty" --db "$tmp/ff2c.db" --retry-errors >/dev/null 2>"$tmp/ff2.err" || rc=$?
[ $rc = 1 ] && grep -q "^run: stopped: the first 20 samples all failed" "$tmp/ff2.err" \
  || die "--retry-errors, videos still missing: exit $rc: $(cat "$tmp/ff2.err")"
[ "$(q "$tmp/ff2c.db" "SELECT COUNT(*) FROM samples WHERE status='error'")" = 20 ] || die "--retry-errors: 20 rows"
# --retry-errors with the right --videos: every sample ok, complete, exit 0
runf --videos "$F/videos" --db "$tmp/ff2.db" --retry-errors >/dev/null 2>&1 || die "--retry-errors repair: exit $?"
[ "$(q "$tmp/ff2.db" "SELECT COUNT(*) FROM samples WHERE status='ok'")" = 22 ] || die "repair: 22 ok rows expected"
[ "$(q "$tmp/ff2.db" "SELECT status FROM runs")" = complete ] || die "repaired run not complete"
# a run whose stored rows hold an ok row never stops on later failures (the check ended with it)
runf --videos "$F/videos" --db "$tmp/ff3.db" --limit 1 >/dev/null 2>&1 || die "1-sample run"
runf --videos "$tmp/empty" --db "$tmp/ff3.db" >/dev/null 2>&1 || die "an ok stored row did not end the check: exit $?"
[ "$(q "$tmp/ff3.db" "SELECT COUNT(*) FROM samples WHERE status='error'")" = 21 ] || die "ok-first run: 21 error rows"
echo "ok: fail fast over the run's stored rows (resume stops at once), --keep-going, --retry-errors"

# --- a --limit run is a labelled subset
run --videos "$S/videos" --db "$tmp/lim.db" --limit 2 >/dev/null || die "--limit run"
[ "$(q "$tmp/lim.db" "SELECT DISTINCT subset FROM runs")" = "--limit 2: 2 of 6 samples" ] \
  || die "runs.subset: $(q "$tmp/lim.db" "SELECT subset FROM runs")"
"$VB_BIN" runs --db "$tmp/lim.db" | grep -q "subset (not the whole split): --limit 2: 2 of 6 samples" \
  || die "runs does not show the subset"
j=$("$VB_BIN" runs --db "$tmp/lim.db" --json)
[ "$(echo "$j" | jq -r '.[0].subset')" = "--limit 2: 2 of 6 samples" ] || die "runs --json subset: $j"
[ "$(echo "$j" | jq -r '.[0].checkpoint.dir')" = blip2-tiny ] || die "runs --json checkpoint: $j"
[ "$("$VB_BIN" runs --db "$tmp/ref.db" --json | jq -r '.[0].subset')" = null ] || die "whole split: subset not null"
# growing the selection to the whole split resumes the cell and clears the label
run --videos "$S/videos" --db "$tmp/lim.db" >/dev/null || die "resume to the whole split"
[ "$(q "$tmp/lim.db" "SELECT COUNT(*) FROM runs WHERE subset IS NULL AND status='complete'")" = 2 ] \
  || die "resumed whole-split run still labelled a subset"
echo "ok: --limit is a labelled subset"
# --- the subset label and n_expected after merges and resumes: the larger selection wins, a run that holds every
#     sample of the split is the whole split, complete only when every expected sample is stored
sel() { q "$1" "SELECT DISTINCT COALESCE(subset, 'WHOLE') || '|' || n_expected || '|' || status FROM runs"; }
merge() { "$VB_BIN" merge "$@" >/dev/null 2>&1; }
run --videos "$S/videos" --db "$tmp/l2.db" --limit 2 >/dev/null || die "--limit 2 run"
run --videos "$S/videos" --db "$tmp/l4.db" --limit 4 >/dev/null || die "--limit 4 run"
[ "$(sel "$tmp/l2.db")" = "--limit 2: 2 of 6 samples|2|complete" ] || die "--limit 2 run: $(sel "$tmp/l2.db")"
cp "$tmp/l2.db" "$tmp/m1.db"; merge --out "$tmp/m1.db" "$tmp/ref.db" || die "merge whole into subset"
[ "$(sel "$tmp/m1.db")" = "WHOLE|6|complete" ] || die "whole split merged into a --limit run: $(sel "$tmp/m1.db")"
cp "$tmp/ref.db" "$tmp/m2.db"; merge --out "$tmp/m2.db" "$tmp/l2.db" || die "merge subset into whole"
[ "$(sel "$tmp/m2.db")" = "WHOLE|6|complete" ] || die "--limit run merged into the whole split: $(sel "$tmp/m2.db")"
cp "$tmp/l2.db" "$tmp/m3.db"; merge --out "$tmp/m3.db" "$tmp/l4.db" || die "merge --limit 4 into --limit 2"
[ "$(sel "$tmp/m3.db")" = "--limit 4: 4 of 6 samples|4|complete" ] || die "--limit 4 into --limit 2: $(sel "$tmp/m3.db")"
cp "$tmp/l4.db" "$tmp/m4.db"; merge --out "$tmp/m4.db" "$tmp/l2.db" || die "merge --limit 2 into --limit 4"
[ "$(sel "$tmp/m4.db")" = "--limit 4: 4 of 6 samples|4|complete" ] || die "--limit 2 into --limit 4: $(sel "$tmp/m4.db")"
# one shard of the whole split merged into a --limit run: the whole split, complete only if all 6 are stored
run --videos "$S/videos" --db "$tmp/sh.db" --shard 0/2 >/dev/null || die "shard run"
cp "$tmp/l2.db" "$tmp/m5.db"; merge --out "$tmp/m5.db" "$tmp/sh.db" || die "merge shard into subset"
n5=$(q "$tmp/m5.db" "SELECT COUNT(*) FROM samples s JOIN runs r ON r.id = s.run_id WHERE r.frames = 1")
want=incomplete; [ "$n5" = 6 ] && want=complete
[ "$n5" -ge 2 ] && [ "$(sel "$tmp/m5.db")" = "WHOLE|6|$want" ] || die "shard into --limit run ($n5 rows): $(sel "$tmp/m5.db")"
merge --out "$tmp/m5.db" "$tmp/ref.db" || die "completing merge"
[ "$(sel "$tmp/m5.db")" = "WHOLE|6|complete" ] || die "completed by the whole split: $(sel "$tmp/m5.db")"
# two --samples lists that together hold every sample: the whole split; overlapping ones: several selections
q "$tmp/ref.db" "SELECT DISTINCT sample_key FROM samples ORDER BY 1" >"$tmp/keys"
head -3 "$tmp/keys" >"$tmp/ka"; tail -3 "$tmp/keys" >"$tmp/kb"; sed -n 4,5p "$tmp/keys" >"$tmp/kc"
run --videos "$S/videos" --db "$tmp/sa.db" --samples "$tmp/ka" >/dev/null || die "--samples a"
run --videos "$S/videos" --db "$tmp/sb.db" --samples "$tmp/kb" >/dev/null || die "--samples b"
run --videos "$S/videos" --db "$tmp/sc.db" --samples "$tmp/kc" >/dev/null || die "--samples c"
merge --out "$tmp/m6.db" "$tmp/sa.db" "$tmp/sb.db" || die "merge --samples a + b"
[ "$(sel "$tmp/m6.db")" = "WHOLE|6|complete" ] || die "--samples lists covering the split: $(sel "$tmp/m6.db")"
[ "$(snap "$tmp/m6.db")" = "$(snap "$tmp/ref.db")" ] || die "--samples a + b: verify hashes differ from the whole run"
merge --out "$tmp/m7.db" "$tmp/sa.db" "$tmp/sc.db" || die "merge --samples a + c"
[ "$(sel "$tmp/m7.db")" = "several selections: 5 of 6 samples|5|complete" ] || die "a + c: $(sel "$tmp/m7.db")"
# resuming the whole split with a smaller --limit keeps the whole-split label and n_expected
cp "$tmp/ref.db" "$tmp/r2.db"
run --videos "$S/videos" --db "$tmp/r2.db" --limit 2 >/dev/null || die "--limit 2 resume of the whole split"
[ "$(sel "$tmp/r2.db")" = "WHOLE|6|complete" ] || die "--limit 2 resume relabelled the whole split: $(sel "$tmp/r2.db")"
# a --limit run completed by resuming with the whole split (the label follows what is stored)
cp "$tmp/l2.db" "$tmp/r3.db"
run --videos "$S/videos" --db "$tmp/r3.db" --limit 4 >/dev/null || die "--limit 4 resume"
[ "$(sel "$tmp/r3.db")" = "--limit 4: 4 of 6 samples|4|complete" ] || die "--limit 2 resumed with 4: $(sel "$tmp/r3.db")"
echo "ok: subset labels after merge / resume: larger selection wins, all samples stored = whole split"
[ $fail = 0 ] && echo PASS
exit $fail
