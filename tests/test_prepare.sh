#!/usr/bin/env bash
# scripts/prepare-how2qa.sh and prepare-vlep.sh on synthetic releases: How2QA clips cut from "full YouTube videos"
# through how2_vid_mapping.json give exactly the layout `datasets check --dataset how2qa-value` accepts (and the
# clip of a mapping [start, end] window has end - start seconds); TVQA-style 3 fps frame folders become
# tvqa/videos_3fps_with_audio/<clip>.mp4 with one video frame per JPEG; bad arguments fail with a message.
set -eu
: "${VB_BIN:?VB_BIN not set}"
cd "${VB_ROOT:-$(dirname "$0")/..}"
command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || { echo "FAIL: ffmpeg/ffprobe missing (make deps)"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
"$VB_BIN" synth --out "$T/s" --seed 3 --videos 3 --questions 2 --size 96x64 2>/dev/null || fail "synth"
H=$T/s/how2qa
# a mapping whose windows cut inside the synthetic "YouTube" videos: 1.0 .. 2.5 s of each
python3 - "$H/how2_vid_mapping.json" "$T/map.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
json.dump({k: v.rsplit("_", 2)[0] + "_1_2.5" for k, v in m.items()}, open(sys.argv[2], "w"))
PY
bash scripts/prepare-how2qa.sh --mapping "$T/map.json" --youtube "$H/raw_videos" --out "$T/clips" 2>"$T/log" ||
  { cat "$T/log"; fail "prepare-how2qa"; }
n=$(ls "$T/clips"/*.mp4 | wc -l)
[ "$n" = "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$T/map.json")" ] ||
  fail "expected one clip per mapping entry, found $n"
for c in "$T/clips"/*.mp4; do
  d=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$c")
  awk -v d="$d" 'BEGIN { exit !(d > 1.3 && d < 1.7) }' || fail "$(basename "$c"): duration $d, expected 1.5 s"
done
"$VB_BIN" datasets check --dataset how2qa-value --annotations "$H/how2qa_val_release.jsonl" --map "$T/map.json" \
  --videos "$T/clips" > "$T/check.out" 2>&1 || { cat "$T/check.out"; fail "datasets check on the cut clips"; }
# rerun resumes (keeps what is there); a missing YouTube video is reported, not fatal while others exist
bash scripts/prepare-how2qa.sh --mapping "$T/map.json" --youtube "$H/raw_videos" --out "$T/clips" 2>"$T/log2"
grep -q "0 clip(s) cut, $n already there" "$T/log2" || fail "rerun: $(cat "$T/log2")"
bash scripts/prepare-how2qa.sh --mapping "$T/nope.json" --youtube "$H/raw_videos" --out "$T/x" 2>"$T/err" &&
  fail "missing mapping accepted"
grep -q "nope.json: no such mapping file" "$T/err" || fail "missing mapping message: $(cat "$T/err")"

# VLEP: frames of one synthetic clip at 3 fps in a TVQA-style folder -> tvqa/videos_3fps_with_audio/<clip>.mp4
clip=bbt_frames/s01e01_seg01_clip_00
mkdir -p "$T/frames/$clip"
ffmpeg -nostdin -v error -i "$(ls "$T"/s/videos/*.mp4 | head -1)" -vf fps=3 "$T/frames/$clip/%05d.jpg" || fail "frames"
nj=$(ls "$T/frames/$clip"/*.jpg | wc -l)
bash scripts/prepare-vlep.sh --tvqa-frames "$T/frames" --out "$T/vlep" 2>"$T/log3" || { cat "$T/log3"; fail "prepare-vlep"; }
v=$T/vlep/tvqa/videos_3fps_with_audio/s01e01_seg01_clip_00.mp4
[ -s "$v" ] || fail "no $v"
nf=$(ffprobe -v error -count_frames -select_streams v -show_entries stream=nb_read_frames -of csv=p=0 "$v")
[ "$nf" = "$nj" ] || fail "$nj JPEGs but $nf frames in $v"
echo "ok: $n How2QA clips, VLEP clip with $nf frames"
