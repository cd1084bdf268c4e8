#!/usr/bin/env bash
# NExT-QA's annotation frame_count against the video (issue 17): when the annotation's frame_count differs from the
# frame count of the video file, every row of that video records it in its extra JSON ("ann_frame_count" and a
# "warning" naming both counts); rows of videos whose count agrees carry neither.  The rows stay ok (a recorded
# warning, not an error: NExT-QA's counts come from its own frame extraction).
set -u
. "$(dirname "$0")/lib.sh"
vb_models_setup
export VB_SHA256_CACHE=off
fail=0
die() { echo "FAIL: $*"; fail=1; }
q() { sqlite3 "$@"; }
"$VB_BIN" synth --out "$tmp/syn" --videos 2 --seed 2 --frames 40 --fps 10 --size 64x48 --questions 2 >/dev/null 2>&1 \
  || { echo "FAIL: synth"; exit 1; }
"$VB_BIN" init-model --config "$CFG_B" --method sevila --seed 5 --out "$tmp/b" --tokenizer-dir "$TOK_T5" >/dev/null \
  || { echo "FAIL: init-model"; exit 1; }
S=$tmp/syn/nextqa
grep -c '^9000000000,40,' "$S/val.csv" | grep -qx 2 || { echo "FAIL: synth's val.csv changed shape"; exit 1; }
sed 's/^9000000000,40,/9000000000,45,/' "$S/val.csv" > "$tmp/val.csv"
"$VB_BIN" run --dataset nextqa --annotations "$tmp/val.csv" --map "$S/map_vid_vidorID.json" --videos "$S/videos" \
  --method uniform="$tmp/b" --frames 1 --threads 1 --warmup 0 --quiet --db "$tmp/r.db" >/dev/null || die "run"
got=$(q "$tmp/r.db" "SELECT video_id, status, json_extract(extra, '\$.ann_frame_count'), json_extract(extra, '\$.warning')
                     FROM samples ORDER BY sample_key")
want='9000000000|ok|45|annotation frame_count 45 != 40 frames in the video
9000000000|ok|45|annotation frame_count 45 != 40 frames in the video
9000000001|ok||
9000000001|ok||'
[ "$got" = "$want" ] || die "rows: $got"
[ $fail = 0 ] && echo PASS
exit $fail
