#!/usr/bin/env bash
# vlapbench synth: same seed -> byte-identical annotation files (and videos); another seed -> different files; the
# files follow the official formats (NExT-QA header and 13 fields, How2QA raw RFC 4180 quoting, answers that match
# the pixels' frame numbers); the real loaders read every file and every sample's video opens.
set -eu
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
"$VB_BIN" synth --out "$T/a" --seed 7 --videos 4 --questions 2 --size 160x120 2>"$T/log" || { cat "$T/log"; fail "synth"; }
"$VB_BIN" synth --out "$T/b" --seed 7 --videos 4 --questions 2 --size 160x120 2>/dev/null || fail "synth (2nd)"
# the same seed from output paths of other lengths and with stderr to a pipe (x264's AVX-512 routines once made the
# bytes depend on the heap history, which both of these change): every video must equal run a's
LONG=$T/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
"$VB_BIN" synth --out "$LONG" --seed 7 --videos 4 --questions 2 --size 160x120 2>&1 | cat >/dev/null
"$VB_BIN" synth --out "$T/p" --seed 7 --videos 4 --questions 2 --size 160x120 2>&1 >/dev/null | cat >/dev/null
for v in "$T"/a/videos/*.mp4; do
  for o in "$LONG" "$T/p"; do
    cmp "$v" "$o/videos/$(basename "$v")" || fail "$(basename "$v") differs from $o (same seed; other path / stderr)"
  done
done
"$VB_BIN" synth --out "$T/c" --seed 8 --videos 4 --questions 2 --size 160x120 --no-videos 2>/dev/null || fail "synth seed 8"
FILES="manifest.json nextqa/val.csv nextqa/map_vid_vidorID.json star/STAR_val.json vlep/vlep_dev_release.jsonl
how2qa/how2QA_val_release.csv how2qa/how2qa_val_release.jsonl how2qa/how2_vid_mapping.json sevila/nextqa/val.json
sevila/star/val.json sevila/vlep/val.json sevila/how2qa/val.json"
for f in $FILES; do
  [ -s "$T/a/$f" ] || fail "$f missing or empty"
  cmp "$T/a/$f" "$T/b/$f" || fail "$f differs between two runs with the same seed"
done
n_vid=0
for v in "$T"/a/videos/*.mp4; do
  cmp "$v" "$T/b/videos/$(basename "$v")" || fail "$(basename "$v") differs between two runs with the same seed"
  n_vid=$((n_vid + 1))
done
[ $n_vid = 4 ] || fail "expected 4 videos, found $n_vid"
cmp -s "$T/a/nextqa/val.csv" "$T/c/nextqa/val.csv" && fail "seed 8 gives the same NExT-QA file as seed 7"
cmp -s "$T/a/manifest.json" "$T/c/manifest.json" && fail "seed 8 gives the same manifest as seed 7"
"$VB_BIN" synth --out "$T/x" 2>/dev/null --videos 0 && fail "--videos 0 accepted"
"$VB_BIN" synth 2>/dev/null && fail "missing --out accepted"

# NExT-QA: exact header, 13 fields, 8 rows; "what number is shown in frame K" -> option[answer] == K
csv=$T/a/nextqa/val.csv
[ "$(head -1 "$csv")" = "video,frame_count,width,height,question,answer,qid,type,a0,a1,a2,a3,a4" ] || fail "NExT-QA header"
[ "$(awk -F, 'NR>1' "$csv" | wc -l)" = 8 ] || fail "NExT-QA row count"
awk -F, 'NR>1 && NF!=13 {exit 1}' "$csv" || fail "NExT-QA row without 13 fields"
awk -F, 'NR>1 && $5 ~ /^what number is shown in frame / { n=split($5,w," "); k=w[n]; if ($(9+$6) != k) exit 1; c++ }
         END { if (c == 0) exit 2 }' "$csv" || fail "NExT-QA number questions: answer does not name the frame"
# frame_count in the CSV equals the packets in the file
if command -v ffprobe >/dev/null; then
  line=$(sed -n 2p "$csv"); vid=${line%%,*}; fc=$(echo "$line" | cut -d, -f2)
  rel=$(grep -o "\"$vid\": \"[^\"]*\"" "$T/a/nextqa/map_vid_vidorID.json" | sed 's/.*: "\(.*\)"/\1/')
  np=$(ffprobe -v error -count_packets -select_streams v -show_entries stream=nb_read_packets -of csv=p=0 \
       "$T/a/nextqa/videos/$rel.mp4")
  [ "$np" = "$fc" ] || fail "frame_count $fc in CSV, $np packets in $rel.mp4"
fi
# How2QA raw: no header, LF only, some rows use RFC 4180 quoting with doubled quotes
raw=$T/a/how2qa/how2QA_val_release.csv
grep -q $'\r' "$raw" && fail "How2QA raw val must use LF line ends"
head -1 "$raw" | grep -q '^SynthYT0000,\[[0-9.]*:[0-9.]*\],' || fail "How2QA raw first row: $(head -1 "$raw")"
# VLEP / VALUE: one JSON object per line
[ "$(wc -l < "$T/a/vlep/vlep_dev_release.jsonl")" = 8 ] || fail "VLEP line count"
grep -vq '^{"example_id": [0-9]*, "vid_name": ' "$T/a/vlep/vlep_dev_release.jsonl" && fail "VLEP line format"
grep -vq '^{"vid_name": "[0-9]*", "ts": "[0-9]*\.[0-9][0-9]-[0-9]*\.[0-9][0-9]", "qid": ' \
  "$T/a/how2qa/how2qa_val_release.jsonl" && fail "VALUE line format"

# the real loaders (datasets command) read every file, and every sample's video opens
if "$VB_BIN" datasets --help >/dev/null 2>&1; then
  A=$T/a
  check() { # dataset annotations videos [map]
    local m=(); [ -n "${4:-}" ] && m=(--map "$4")
    "$VB_BIN" datasets stats --dataset "$1" --annotations "$2" "${m[@]}" > "$T/stats.json" 2>"$T/err" ||
      { cat "$T/err"; fail "loader $1 rejects $2"; }
    grep -Eq '"total":[[:space:]]*8,' "$T/stats.json" || { cat "$T/stats.json"; fail "loader $1: total is not 8 for $2"; }
    "$VB_BIN" datasets check --dataset "$1" --annotations "$2" --videos "$3" "${m[@]}" >"$T/out" 2>&1 ||
      { cat "$T/out"; fail "videos of $2 missing or unreadable"; }
    echo "ok: $1 $(basename "$2")"
  }
  check nextqa "$A/nextqa/val.csv" "$A/nextqa/videos" "$A/nextqa/map_vid_vidorID.json"
  check star "$A/star/STAR_val.json" "$A/star/videos"
  check vlep "$A/vlep/vlep_dev_release.jsonl" "$A/vlep/videos"
  check how2qa "$A/how2qa/how2QA_val_release.csv" "$A/how2qa/raw_videos"
  check how2qa-value "$A/how2qa/how2qa_val_release.jsonl" "$A/how2qa/videos" "$A/how2qa/how2_vid_mapping.json"
  check sevila "$A/sevila/nextqa/val.json" "$A/nextqa/videos"
  check sevila "$A/sevila/star/val.json" "$A/star/videos"
  check sevila "$A/sevila/vlep/val.json" "$A/vlep/videos"
  check sevila "$A/sevila/how2qa/val.json" "$A/how2qa/videos"
  # end to end: loaders -> resolved paths -> segments -> uniform_midbin -> decode -> frame codes and answers
  "$VB_BIN" synth --verify "$A" >"$T/ver" 2>&1 || { cat "$T/ver"; fail "synth --verify"; }
  grep -q '^synth verify: 72 samples ok' "$T/ver" || { cat "$T/ver"; fail "synth --verify count"; }
  # ... and it notices a wrong label: shift the answer of the first NExT-QA row
  awk -F, -v OFS=, 'NR==2 { $6 = ($6 + 1) % 5 } { print }' "$A/nextqa/val.csv" > "$T/val.csv"
  cp "$T/val.csv" "$A/nextqa/val.csv"
  "$VB_BIN" synth --verify "$A" >"$T/ver" 2>&1 && fail "synth --verify accepted a wrong NExT-QA answer"
  grep -q 'nextqa/val.csv: sample 9000000000_0' "$T/ver" || { cat "$T/ver"; fail "verify message"; }
else
  echo "note: datasets command not built into $VB_BIN; loader round trip not checked"
fi

# bench-decode on tiny clips: every sampled frame verified from its pixels, decoded frames (no skipping) within 5 %
# of the minimum and never above it plus the decoder delay; with skipping no more than without
out=$("$VB_BIN" bench-decode --out "$T/clips" --seconds 4 --size 96x64 --reps 1 --gops 10,50 2>"$T/bd.err") ||
  { cat "$T/bd.err"; fail "bench-decode"; }
echo "$out"
echo "$out" | awk -F'|' '/^\| [0-9]/ { n++; gsub(/ /,""); min=$6; skip=$7; noskip=$8;
  if ($19 != "32/32") exit 1; if (noskip > min * 1.05 || skip > noskip) exit 2 } END { if (n != 2) exit 3 }' ||
  fail "bench-decode table: frames not verified or decoded counts off"

# --task event: every video shows its card on n/16 = 2 frames (manifest; the second one smaller), the card frames are
# saturated in the colour the answers name and the other frames are grey (pixels read back with the ffmpeg CLI),
# How2QA segments hold the card, and the same seed gives the same annotations
E=$T/ev
"$VB_BIN" synth --task event --out "$E" --seed 5 --videos 3 --questions 1 2>/dev/null || fail "synth --task event"
"$VB_BIN" synth --task event --out "$T/ev2" --seed 5 --videos 3 --questions 1 --no-videos 2>/dev/null
cmp -s "$E/nextqa/val.csv" "$T/ev2/nextqa/val.csv" || fail "event task: annotations not deterministic"
grep -q '"task": "event"' "$E/manifest.json" || fail "event task: manifest does not say so"
pixel() { # video frame x y -> "r g b" of that pixel
  ffmpeg -nostdin -v error -i "$1" -vf "select=eq(n\,$2),crop=2:2:$3:$4" -vsync 0 -frames:v 1 -f rawvideo -pix_fmt rgb24 - |
    od -An -tu1 | awk '{print $1, $2, $3; exit}'
}
center() { pixel "$1" "$2" 159 119; } # video frame -> "r g b" of the frame's central pixel
i=0
while read -r f0 f1 card; do
  [ $((f1 - f0)) = 2 ] || fail "event task: video $i card on frames [$f0, $f1), not 2 frames"
  read -r r g b < <(center "$E/videos/synth_00$i.mp4" "$f0")
  read -r r2 g2 b2 < <(center "$E/videos/synth_00$i.mp4" $(((f0 + 8) % 32)))
  case $card in
  red) ok=$((r > g + 100 && r > b + 100)) ;; green) ok=$((g > r + 80 && g > b + 80)) ;;
  blue) ok=$((b > r + 100 && b > g + 80)) ;; yellow) ok=$((r > b + 100 && g > b + 100)) ;; *) ok=0 ;;
  esac
  [ "$ok" = 1 ] || fail "event task: video $i frame $f0 is ($r, $g, $b), not a $card card"
  # the second card frame shows a smaller card, shifted to the lower right: at (80, 60) the first frame shows the
  # card, the second the white background (so the two card frames differ visibly)
  read -r r1 g1 b1 < <(pixel "$E/videos/synth_00$i.mp4" "$f0" 80 60)
  read -r r3 g3 b3 < <(pixel "$E/videos/synth_00$i.mp4" $((f0 + 1)) 80 60)
  [ $(((r1 + g1 + b1) < 600 && r3 > 200 && g3 > 200 && b3 > 200)) = 1 ] ||
    fail "event task: video $i card frames at (80, 60): ($r1, $g1, $b1), ($r3, $g3, $b3); want card, then white"
  spread=$(printf '%s\n' "$r2" "$g2" "$b2" | sort -n | awk 'NR==1{lo=$1} {hi=$1} END{print hi-lo}')
  [ "$spread" -le 24 ] || fail "event task: video $i distractor frame is ($r2, $g2, $b2), not grey"
  want=$(awk -F, -v v=$((9000000000 + i)) '$1 == v {print $(9 + $6); exit}' "$E/nextqa/val.csv")
  [ "$want" = "$card" ] || fail "event task: NExT-QA answer for video $i is '$want', the card is $card"
  i=$((i + 1))
done < <(sed -n 's/.*"event": \[\([0-9]*\), \([0-9]*\)\], "card": "\([a-z]*\)".*/\1 \2 \3/p' "$E/manifest.json")
[ "$i" = 3 ] || fail "event task: manifest lists $i card events, want 3"
awk -F'"' '/"ts"/ { split($8, t, "-"); if (t[2] - t[1] < 1.99 || t[2] - t[1] > 2.01) bad = 1 } END { exit bad }' \
  "$E/how2qa/how2qa_val_release.jsonl" || fail "event task: How2QA segments are not half-video windows"
echo "ok: event task"

# --event-times stratified (the demo's evaluation split; the sweep over seeds is tests/test_synth_strata.c): recorded
# in the manifest; --first K writes exactly the first K videos' questions of the whole benchmark; refused on the index
# task and for an unknown value; --uniform-hits on the demo split drawn iid (seed 1) gives the counts that kept the
# trained demo's uniform runs flat from k = 1 to 2 (6 of 50 videos at k = 1 and at k = 2, 10 at k = 4: 12, 12, 20
# of 100 questions), and the stratified split rises
"$VB_BIN" synth --task event --no-videos --out "$T/st50" --videos 50 --seed 1 --event-times stratified 2>/dev/null ||
  fail "synth --event-times stratified"
"$VB_BIN" synth --task event --no-videos --out "$T/st3" --videos 50 --first 3 --seed 1 --event-times stratified \
  2>/dev/null || fail "synth --first 3"
grep -q '"event_times": "stratified"' "$T/st50/manifest.json" || fail "stratified: manifest does not say so"
! grep -q '"event_times"' "$E/manifest.json" || fail "iid manifest names event_times (it must stay unchanged)"
[ "$(grep -c '"event": \[' "$T/st3/manifest.json")" = 3 ] || fail "--first 3: manifest does not list 3 videos"
[ "$(sed -n '2,7p' "$T/st3/nextqa/val.csv")" = "$(sed -n '2,7p' "$T/st50/nextqa/val.csv")" ] &&
  [ "$(wc -l <"$T/st3/nextqa/val.csv")" = 7 ] || fail "--first 3: not the first 3 videos' questions"
cmp -s "$T/st3/how2qa/how2qa_val_release.jsonl" <(head -6 "$T/st50/how2qa/how2qa_val_release.jsonl") ||
  fail "--first 3: How2QA questions differ from the whole benchmark's"
"$VB_BIN" synth --out "$T/bad" --event-times stratified >/dev/null 2>"$T/bad.err" && fail "stratified index task accepted"
grep -q 'need the event task' "$T/bad.err" || fail "stratified index task: wrong message: $(cat "$T/bad.err")"
rc=0
"$VB_BIN" synth --task event --out "$T/bad" --event-times sometimes >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "--event-times sometimes: exit $rc, not a usage error (2)"
"$VB_BIN" synth --task event --no-videos --out "$T/iid50" --videos 50 --seed 1 2>/dev/null
h=$("$VB_BIN" synth --uniform-hits "$T/iid50") || fail "synth --uniform-hits"
echo "$h" | grep -q '^nextqa: 100 questions; uniform frames hold the card: k=1 12 (expected 6.45), k=2 12 (12.90), k=4 20 (25.81)$' ||
  fail "--uniform-hits on the iid demo split: $h"
"$VB_BIN" synth --uniform-hits "$T/st50" | awk '{ gsub(/[(),]/, ""); if (!($10 < $14 && $14 < $17)) bad = 1 }
  END { exit bad }' || fail "stratified demo split: uniform hits do not rise: $("$VB_BIN" synth --uniform-hits "$T/st50")"
"$VB_BIN" synth --uniform-hits "$T/nonexistent" >/dev/null 2>&1 && fail "--uniform-hits on a missing directory passed"
echo "ok: stratified event times"
echo ok
