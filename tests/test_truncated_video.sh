#!/usr/bin/env bash
# Truncated and bit-rotted videos (issue 17): on a synthetic NExT-QA benchmark (40-frame videos, 10 fps) one video is
# cut at 90 % (`head -c`), one at 50 %, one has 200 bytes flipped in the middle, one is intact.
#  1. `datasets check` decodes every video to the end: exit 1, the three damaged ones listed with both frame counts
#     (container vs readable / decoded), the intact one not listed.
#  2. `vlapbench run` (uniform BLIP-2, k = 2, a random-weight bundle): the samples of the truncated videos are error
#     rows naming both counts, the intact video's sample is `ok` with the known picks [10,30]; no row computed from
#     a truncated file is `ok`.
# Self-contained: bundle from configs/demo-blip2.json, tokenizer trained here (tests/lib_tok.sh).
set -u
command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 command absent"; exit 77; }
VB=$VB_BIN
ROOT=${VB_ROOT:-$PWD}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
die() { echo "FAIL: $*"; fail=1; }
. "$(dirname "$0")/lib_tok.sh"

"$VB" synth --out "$tmp/syn" --videos 4 --seed 2 --questions 1 --frames 40 --fps 10 --size 64x48 >/dev/null 2>&1 ||
  { echo "FAIL: synth"; exit 1; }
V=$tmp/syn/videos
cut_at() { # file percent: keep the first percent of the bytes
  local n; n=$(stat -c %s "$1")
  head -c $((n * $2 / 100)) "$1" > "$1.tmp" && mv "$1.tmp" "$1"
}
cut_at "$V/synth_000.mp4" 90
cut_at "$V/synth_001.mp4" 50
python3 - "$V/synth_002.mp4" <<'PY' || { echo "FAIL: flip bytes"; exit 1; }
import sys
b = bytearray(open(sys.argv[1], "rb").read())
for i in range(len(b) // 2, len(b) // 2 + 200):
    b[i] ^= 0x5A
open(sys.argv[1], "wb").write(b)
PY
S=$tmp/syn/nextqa
NQ=(--dataset nextqa --annotations "$S/val.csv" --map "$S/map_vid_vidorID.json" --videos "$S/videos")

# ---- 1. datasets check
out=$("$VB" datasets check "${NQ[@]}" 2>"$tmp/check.err"); rc=$?
echo "$out"; cat "$tmp/check.err"
[ $rc -eq 1 ] || die "datasets check exited $rc, expected 1"
[ "$(echo "$out" | grep -c .)" = 3 ] || die "datasets check: expected 3 listed samples"
echo "$out" | grep -q "9000000000.mp4.*truncated or damaged: the container says 40 frames, only [0-9]* could be read" ||
  die "the 90 % cut is not reported with both counts"
n90=$(echo "$out" | sed -n 's/.*9000000000.mp4.*only \([0-9]*\) could be read/\1/p')
n50=$(echo "$out" | sed -n 's/.*9000000001.mp4.*only \([0-9]*\) could be read/\1/p')
[ -n "$n90" ] && [ -n "$n50" ] && [ "$n90" -lt 40 ] && [ "$n50" -lt "$n90" ] && [ "$n50" -le 24 ] ||
  die "readable counts: 90 % cut $n90, 50 % cut $n50 (want 50 % < 90 % < 40)"
echo "$out" | grep -q "9000000002.mp4.*damaged" || die "the bit-rotted video is not reported"
echo "$out" | grep -q "9000000003" && die "the intact video is reported"
grep -q "4 videos checked (decoded to the end): 3 videos" "$tmp/check.err" || die "summary line"

# ---- 2. vlapbench run: error rows naming both counts
vb_tiny_tokenizer "$tmp/tok"
"$VB" init-model --config "$ROOT/configs/demo-blip2.json" --method uniform --seed 3 --out "$tmp/b" \
  --tokenizer-dir "$tmp/tok" >/dev/null || { echo "FAIL: init-model"; exit 1; }
cat > "$tmp/run.json" <<J
{"dataset": "nextqa", "annotations": "syn/nextqa/val.csv", "map": "syn/nextqa/map_vid_vidorID.json",
 "videos": "syn/nextqa/videos", "frames": [2], "warmup": 0, "methods": [{"name": "uniform", "model": "b"}]}
J
"$VB" run --config "$tmp/run.json" --db "$tmp/r.db" --threads 1 >"$tmp/run.out" 2>&1 || true
cat "$tmp/run.out"
q() { sqlite3 "$tmp/r.db" "$@"; }
q "SELECT sample_key, status, picked, error FROM samples ORDER BY sample_key"
[ "$(q "SELECT COUNT(*) FROM samples")" = 4 ] || die "expected 4 rows"
for v in 9000000000 9000000001; do
  row=$(q "SELECT status || '|' || error FROM samples WHERE video_id = '$v'")
  echo "$row" | grep -q "^error|.*the container says 40 frames, only [0-9]* could be read" ||
    die "video $v: row '$row' is not an error naming both counts"
done
[ "$(q "SELECT status || picked FROM samples WHERE video_id = '9000000003'")" = "ok[10,30]" ] ||
  die "the intact video's row is not ok with picks [10,30]"
# the bit-rotted video: an error row, or ok only where the frames it reads were decoded intact (picks [10,30])
row=$(q "SELECT status || '|' || COALESCE(picked, '') || '|' || COALESCE(error, '') FROM samples WHERE video_id = '9000000002'")
echo "bit-rotted video: $row"
case "$row" in error\|*) ;; "ok|[10,30]|") ;; *) die "bit-rotted video: row '$row'";; esac
[ $fail -eq 0 ] && echo "truncated videos: datasets check reports 3 of 4, run stores error rows naming both counts"
exit $fail
