#!/usr/bin/env bash
# A merge that fails leaves nothing behind (issue 17): into a NEW output, a merge that fails half-way (two inputs
# holding different results for the same run and sample) or before it starts (a missing input, mismatched inputs)
# exits 1 and no OUT.db, OUT.db-wal, OUT.db-shm or OUT.db-journal remains; into an EXISTING output the file is left
# byte-identical; a good merge still creates its output.
set -u
. "$(dirname "$0")/lib.sh"
vb_models_setup
export VB_SHA256_CACHE=off
fail=0
die() { echo "FAIL: $*"; fail=1; }
q() { sqlite3 "$@"; }
leftovers() { ls "$1" "$1-wal" "$1-shm" "$1-journal" 2>/dev/null; }

"$VB_BIN" synth --out "$tmp/syn" --videos 2 --seed 2 --frames 40 --fps 10 --size 64x48 --questions 2 >/dev/null 2>&1 \
  || { echo "FAIL: synth"; exit 1; }
"$VB_BIN" init-model --config "$CFG_B" --method sevila --seed 5 --out "$tmp/b" --tokenizer-dir "$TOK_T5" >/dev/null \
  || { echo "FAIL: init-model"; exit 1; }
S=$tmp/syn/nextqa
"$VB_BIN" run --dataset nextqa --annotations "$S/val.csv" --map "$S/map_vid_vidorID.json" --videos "$S/videos" \
  --method uniform="$tmp/b" --frames 1 --threads 1 --warmup 0 --quiet --db "$tmp/a.db" >/dev/null || die "run"
sqlite3 "$tmp/a.db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
cp "$tmp/a.db" "$tmp/b.db"
# the same run and sample with another prediction: the merge fails at the second input, after writing the first
q "$tmp/b.db" "UPDATE samples SET prediction = (prediction + 1) % n_options WHERE sample_key =
               (SELECT MIN(sample_key) FROM samples)" 2>/dev/null \
  || q "$tmp/b.db" "UPDATE samples SET prediction = (prediction + 1) % 5 WHERE sample_key = (SELECT MIN(sample_key) FROM samples)"

"$VB_BIN" merge --out "$tmp/new.db" "$tmp/a.db" "$tmp/b.db" >/dev/null 2>"$tmp/err"; rc=$?
[ $rc = 1 ] || die "conflicting merge: exit $rc, want 1"
cat "$tmp/err"
[ -z "$(leftovers "$tmp/new.db")" ] || die "a failed merge left files: $(leftovers "$tmp/new.db")"
"$VB_BIN" merge --out "$tmp/new2.db" "$tmp/a.db" "$tmp/missing.db" >/dev/null 2>&1 && die "missing input accepted"
[ -z "$(leftovers "$tmp/new2.db")" ] || die "a merge with a missing input left files"
# an existing output is left as it was
"$VB_BIN" merge --out "$tmp/old.db" "$tmp/a.db" >/dev/null 2>&1 || die "good merge"
[ "$(q "$tmp/old.db" "SELECT COUNT(*) FROM samples")" = 4 ] || die "good merge: 4 rows"
sqlite3 "$tmp/old.db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
sum=$(sha256sum < "$tmp/old.db")
"$VB_BIN" merge --out "$tmp/old.db" "$tmp/b.db" >/dev/null 2>&1 && die "conflicting merge into an existing output"
[ -f "$tmp/old.db" ] || die "a failed merge removed an existing output"
[ "$(sha256sum < "$tmp/old.db")" = "$sum" ] || die "a failed merge changed the existing output"
[ $fail = 0 ] && echo PASS
exit $fail
