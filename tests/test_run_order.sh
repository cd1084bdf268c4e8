#!/usr/bin/env bash
# The run order grouped by video (issue 19; docs/runner.md §4 "Order", §6 "Fail fast"), on a NExT-QA annotation file
# whose questions interleave their videos (A B C D A B C D ...) and a ViT cache that holds fewer frames than two
# videos' (--vit-cache-mb 1; 263 KB per frame: a random bundle with a 224-px, 256-wide ViT):
#   (a) --order video (the default) computes each video's frames once: ViT frames computed = videos x k, and the
#       frames are computed by each video's first question in the file; --order file computes them per question
#       (questions x k); the same predictions and verification hash either way; the estimate's model predicts both
#       counts exactly ("ViT ... (N frames)"); the order is stored in the session's invocation;
#   (b) --limit N keeps the first N samples of the FILE (then groups them);
#   (c) shards hold the same keys under either order (disjoint, covering the selection);
#   (d) fail fast: one missing video with 30 questions (consecutive in video order) does not stop a run that would
#       otherwise succeed; 20+ identical failures on 5 videos stop it (on the 5th video's first question);
#       identical failures on fewer than 5 videos never stop it;
#   (e) a run killed under one order and resumed under the other completes and equals an uninterrupted run.
set -u
. "$(dirname "$0")/lib.sh"
vb_models_setup
export VB_SHA256_CACHE=off
fail=0
die() { echo "FAIL: $*"; fail=1; }
q() { sqlite3 "$@"; }

"$VB_BIN" synth --out "$tmp/syn" --videos 4 --seed 2 --frames 40 --fps 10 --size 64x48 --questions 3 >/dev/null 2>&1 \
  || { echo "FAIL: synth"; exit 1; }
S=$tmp/syn/nextqa
# interleave: every video's question 0, then every video's question 1, ... (qid is column 7; no commas in the text)
{ head -1 "$S/val.csv"; tail -n +2 "$S/val.csv" | sort -t, -k7,7n -s; } >"$tmp/il.csv"
[ "$(cut -d, -f1 "$tmp/il.csv" | sed -n 2,6p | tr '\n' ' ')" = \
  "9000000000 9000000001 9000000002 9000000003 9000000000 " ] || { echo "FAIL: interleaving: $(head -6 "$tmp/il.csv")"; exit 1; }
jq '.vision_config.image_size = 224 | .vision_config.hidden_size = 256 | .vision_config.intermediate_size = 512
    | .qformer_config.encoder_hidden_size = 256' "$CFG_B" >"$tmp/vit224.json" || { echo "FAIL: jq"; exit 1; }
"$VB_BIN" init-model --config "$tmp/vit224.json" --method sevila --seed 5 --out "$tmp/b" --tokenizer-dir "$TOK_T5" \
  >/dev/null || { echo "FAIL: init-model"; exit 1; }
run() { "$VB_BIN" run --dataset nextqa --annotations "$tmp/il.csv" --map "$S/map_vid_vidorID.json" \
        --videos "$S/videos" --method uniform="$tmp/b" --frames 2 --threads 1 --warmup 0 --vit-cache-mb 1 "$@"; }
vit_computed() { sed -nE 's/.*ViT frames computed ([0-9]+);.*/\1/p' "$1"; }
est_frames() { sed -nE 's/^  total: .*, ViT .* \(([0-9]+) frames\), methods .*/\1/p' "$1"; }
snap() { q "$1" "SELECT frames, verify_hash FROM runs ORDER BY frames"; }
rows() { q "$1" "SELECT s.sample_key, s.status, s.prediction, s.picked, s.option_scores FROM samples s ORDER BY 1"; }

# --- (a) the ViT once per video, and the estimate's model of it
run --db "$tmp/video.db" >"$tmp/video.out" 2>"$tmp/video.err" || die "video-order run: $(cat "$tmp/video.err")"
run --db "$tmp/file.db" --order file >"$tmp/file.out" 2>"$tmp/file.err" || die "file-order run: $(cat "$tmp/file.err")"
nv=$(vit_computed "$tmp/video.out"); nf=$(vit_computed "$tmp/file.out")
echo "ViT frames computed: video order $nv, file order $nf (4 videos x 3 questions, k = 2)"
[ "$nv" = 8 ] || die "video order: ViT frames computed $nv, want 8 (4 videos x 2 frames)"
[ "$nf" = 24 ] || die "file order: ViT frames computed $nf, want 24 (12 questions x 2 frames; cache of < 2 videos)"
grep -q "12 in this shard (4 videos, video order)" "$tmp/video.err" || die "no order line: $(grep 'run: ' "$tmp/video.err")"
grep -q "(4 videos, file order)" "$tmp/file.err" || die "no file-order line"
[ "$(est_frames "$tmp/video.err")" = 8 ] || die "estimate (video order): $(grep total: "$tmp/video.err")"
[ "$(est_frames "$tmp/file.err")" = 24 ] || die "estimate (file order): $(grep total: "$tmp/file.err")"
# one cell: run alone it is the whole grid, in either order (the "alone" column walks the same order and cache)
for o in video file; do
  tot=$(sed -nE 's/^  total: (.*) \([0-9.]+ s\) for the grid: .*/\1/p' "$tmp/$o.err")
  one=$(sed -nE 's/.*; the cells one by one: (.*)$/\1/p' "$tmp/$o.err")
  [ -n "$tot" ] && [ "$tot" = "$one" ] || die "$o order: one cell alone ($one) is not the grid's total ($tot)"
done
# the frames are computed by each video's first question in the file (qid 0): grouped in order of first appearance
got=$(q "$tmp/video.db" "SELECT group_concat(sample_key, ' ') FROM (SELECT sample_key FROM samples
      WHERE json_extract(extra, '\$.n_vit_run') > 0 ORDER BY 1)")
[ "$got" = "9000000000_0 9000000001_0 9000000002_0 9000000003_0" ] || die "ViT computed by $got, want each video's qid 0"
[ "$(q "$tmp/file.db" "SELECT COUNT(*) FROM samples WHERE json_extract(extra, '\$.n_vit_run') = 2")" = 12 ] \
  || die "file order: every question should compute its 2 frames"
[ "$(snap "$tmp/video.db")" = "$(snap "$tmp/file.db")" ] || die "verify hashes differ between the orders"
[ "$(rows "$tmp/video.db")" = "$(rows "$tmp/file.db")" ] || die "predictions / scores differ between the orders"
[ "$(q "$tmp/video.db" "SELECT json_extract(invocation, '\$.order') FROM sessions")" = video ] || die "order not stored"
[ "$(q "$tmp/file.db" "SELECT json_extract(invocation, '\$.order') FROM sessions")" = file ] || die "file order not stored"
rc=0; run --db "$tmp/bad.db" --order random >/dev/null 2>"$tmp/bad.err" || rc=$?
[ $rc = 2 ] && grep -q -- "--order" "$tmp/bad.err" || die "--order random: exit $rc: $(cat "$tmp/bad.err")"
echo "ok: ViT once per video in video order (8 vs 24 frames), the estimate predicts both, same results"

# --- (b) --limit takes the first N of the file, then groups them
run --db "$tmp/lim.db" --limit 5 >"$tmp/lim.out" 2>/dev/null || die "--limit 5 run"
got=$(q "$tmp/lim.db" "SELECT group_concat(sample_key, ' ') FROM (SELECT sample_key FROM samples ORDER BY 1)")
[ "$got" = "9000000000_0 9000000000_1 9000000001_0 9000000002_0 9000000003_0" ] || die "--limit 5 stored $got"
[ "$(vit_computed "$tmp/lim.out")" = 8 ] || die "--limit 5: ViT frames computed $(vit_computed "$tmp/lim.out"), want 8"
echo "ok: --limit 5 = the file's first 5 samples"

# --- (c) shards: the same keys under either order, disjoint, covering
keys() { q "$1" "SELECT sample_key FROM samples ORDER BY 1"; }
for i in 0 1 2; do
  run --db "$tmp/sv$i.db" --shard $i/3 --quiet >/dev/null || die "shard $i (video order)"
  run --db "$tmp/sf$i.db" --shard $i/3 --quiet --order file >/dev/null || die "shard $i (file order)"
  [ "$(keys "$tmp/sv$i.db")" = "$(keys "$tmp/sf$i.db")" ] || die "shard $i holds other keys under the two orders"
done
[ "$(for i in 0 1 2; do keys "$tmp/sv$i.db"; done | sort)" = "$(keys "$tmp/file.db")" ] \
  || die "the shards do not partition the selection"
echo "ok: shards partition the same keys in both orders"

# --- (d) fail fast counts videos
"$VB_BIN" synth --out "$tmp/many" --videos 3 --seed 3 --frames 40 --fps 10 --size 64x48 --questions 15 >/dev/null 2>&1 \
  || { echo "FAIL: synth (15 questions per video)"; exit 1; }
M=$tmp/many/nextqa
A=$(sed -n 2p "$M/val.csv" | cut -d, -f1); B=$(sed -n 17p "$M/val.csv" | cut -d, -f1)
# video A gets B's questions too (qid + 100): 30 questions; interleaved with C's 15 by qid (A A C A A C ...)
{ head -1 "$M/val.csv"; tail -n +2 "$M/val.csv" | awk -F, -v OFS=, -v a="$A" -v b="$B" '$1 == b { $1 = a; $7 += 100 } 1' \
  | sort -t, -k7,7n -s; } >"$tmp/many.csv"
[ "$(grep -c "^$A," "$tmp/many.csv")" = 30 ] || { echo "FAIL: many.csv: $(head -4 "$tmp/many.csv")"; exit 1; }
rm "$M/videos/1000/$A.mp4" || die "remove video $A"
runm() { "$VB_BIN" run --dataset nextqa --annotations "$tmp/many.csv" --map "$M/map_vid_vidorID.json" \
         --method uniform="$tmp/b" --frames 1 --threads 1 --warmup 0 --quiet "$@"; }
rc=0; runm --videos "$M/videos" --db "$tmp/one-bad.db" >/dev/null 2>"$tmp/one-bad.err" || rc=$?
[ $rc = 0 ] || die "one missing video with 30 questions stopped the run: exit $rc: $(cat "$tmp/one-bad.err")"
[ "$(q "$tmp/one-bad.db" "SELECT status || ':' || COUNT(*) FROM samples GROUP BY status ORDER BY 1" | tr '\n' ' ')" \
  = "error:30 ok:15 " ] || die "one missing video: $(q "$tmp/one-bad.db" "SELECT status, COUNT(*) FROM samples GROUP BY 1")"
# the same failure on every video: 6 videos x 8 questions, no video files -> stops at the 5th video's first question
"$VB_BIN" synth --out "$tmp/nov" --videos 6 --seed 4 --questions 8 --size 64x48 --no-videos >/dev/null 2>&1 \
  || { echo "FAIL: synth --no-videos"; exit 1; }
mkdir -p "$tmp/empty"
runn() { "$VB_BIN" run --dataset nextqa --annotations "$tmp/nov/nextqa/val.csv" --method uniform="$tmp/b" --frames 1 \
         --map "$tmp/nov/nextqa/map_vid_vidorID.json" --videos "$tmp/empty" --threads 1 --warmup 0 --quiet "$@"; }
rc=0; runn --db "$tmp/nov.db" >/dev/null 2>"$tmp/nov.err" || rc=$?
[ $rc = 1 ] || die "6 missing videos: exit $rc, want 1"
grep -q "stopped: the first 33 samples all failed the same way, on 5 videos" "$tmp/nov.err" \
  || die "6 missing videos: $(cat "$tmp/nov.err")"
[ "$(q "$tmp/nov.db" "SELECT COUNT(*) FROM samples")" = 33 ] || die "6 missing videos: want 33 stored rows (4 x 8 + 1)"
# resumed: the 33 stored failures on 5 videos stop it at once
rc=0; runn --db "$tmp/nov.db" >/dev/null 2>"$tmp/nov.err" || rc=$?
[ $rc = 1 ] && grep -q "stopped at once .*: the first 33 samples all failed the same way, on 5 videos" "$tmp/nov.err" \
  || die "resumed 33 failures: exit $rc: $(cat "$tmp/nov.err")"
# fewer than 5 videos: 4 x 8 = 32 identical failures run to the end
rc=0; runn --db "$tmp/nov4.db" --limit 32 >/dev/null 2>"$tmp/nov4.err" || rc=$?
[ $rc = 0 ] && [ "$(q "$tmp/nov4.db" "SELECT COUNT(*) FROM samples")" = 32 ] \
  || die "32 failures on 4 videos: exit $rc, $(q "$tmp/nov4.db" "SELECT COUNT(*) FROM samples") rows"
echo "ok: fail fast needs 5 videos: one bad video of 30 questions runs on; 6 bad videos stop at 33"

# --- (e) killed under one order, resumed under the other
for a in file video; do
  b=video; [ $a = video ] && b=file
  rc=0; run --db "$tmp/k-$a.db" --order $a --flush-rows 1 --kill-after 5 --quiet >/dev/null 2>&1 || rc=$?
  [ $rc = 137 ] || [ $rc -gt 128 ] || die "--kill-after 5 ($a order): exit $rc"
  [ "$(q "$tmp/k-$a.db" "SELECT COUNT(*) FROM samples")" = 5 ] || die "killed ($a order): 5 rows expected"
  run --db "$tmp/k-$a.db" --order $b >"$tmp/k.out" 2>&1 || die "resume under $b order: $(cat "$tmp/k.out")"
  grep -q "7 to do" "$tmp/k.out" || die "resume under $b order: $(grep 'run: ' "$tmp/k.out")"
  [ "$(q "$tmp/k-$a.db" "SELECT COUNT(*) || ' ' || COUNT(DISTINCT sample_key) FROM samples")" = "12 12" ] \
    || die "resume under $b order: rows lost or duplicated"
  [ "$(snap "$tmp/k-$a.db")" = "$(snap "$tmp/video.db")" ] || die "killed in $a order, resumed in $b: verify hash differs"
  [ "$(rows "$tmp/k-$a.db")" = "$(rows "$tmp/video.db")" ] || die "killed in $a order, resumed in $b: rows differ"
  [ "$(q "$tmp/k-$a.db" "SELECT status FROM runs")" = complete ] || die "resumed ($a -> $b) not complete"
done
echo "ok: killed under one order, resumed under the other: complete, equal to an uninterrupted run"
[ $fail = 0 ] && echo PASS
exit $fail
