#!/usr/bin/env bash
# vlapbench run: the full grid (uniform, SeViLA, VLAP x 1,2,4 frames) on the synthetic benchmark with tiny
# random-weight bundles.  Checks: one row per sample and cell; known frame indices (uniform_midbin over 40 frames);
# stage times positive, stages <= total, a cell's summed totals <= the loop's wall time; warm-up rows untimed;
# the shared ViT cache changes no result (verification hashes equal with --vit-cache-mb 0) and cached features
# are charged; damaged / missing videos give error rows while the other samples are answered; config errors.
set -u
. "$(dirname "$0")/lib.sh"
vb_models_setup
export VB_SHA256_CACHE=$tmp/sha256-cache.tsv
fail=0
die() { echo "FAIL: $*"; fail=1; }
q() { sqlite3 "$@"; }

# --- benchmark: 4 videos x 2 questions, 40 frames at 10 fps; bundles: BLIP-2 (+localizer), VLAP per k
"$VB_BIN" synth --out "$tmp/syn" --videos 4 --seed 3 --frames 40 --fps 10 --size 64x48 --questions 2 >/dev/null \
  || { echo "FAIL: synth"; exit 1; }
mkdir -p "$tmp/b"
"$VB_BIN" init-model --config "$CFG_B" --method sevila --seed 5 --out "$tmp/b/blip2" \
  --tokenizer-dir "$TOK_T5" >/dev/null || { echo "FAIL: init-model blip2"; exit 1; }
for k in 1 2 4; do
  "$VB_BIN" init-model --config "$CFG_I" --method vlap --frames $k \
    --candidates 8 --seed 5 --out "$tmp/b/vlap$k" --tokenizer-dir "$TOK_T5" --tokenizer-dir "$TOK_BERT" \
    >/dev/null || { echo "FAIL: init-model vlap $k"; exit 1; }
done
S=$tmp/syn/nextqa
cat > "$tmp/run.json" <<J
{"dataset": "nextqa", "annotations": "syn/nextqa/val.csv", "map": "syn/nextqa/map_vid_vidorID.json",
 "videos": "syn/nextqa/videos", "frames": [1, 2, 4], "candidates": 8, "warmup": 1,
 "methods": [{"name": "uniform", "model": "b/blip2"}, {"name": "sevila", "model": "b/blip2"},
             {"name": "vlap", "models": {"1": "b/vlap1", "2": "b/vlap2", "4": "b/vlap4"}}]}
J

# --- 1. the grid
out=$("$VB_BIN" run --config "$tmp/run.json" --db "$tmp/a.db" --threads 1 2>"$tmp/err.txt"); rc=$?
echo "$out"; cat "$tmp/err.txt"; out_a=$out
[ $rc -eq 0 ] || die "run exited $rc"
[ "$(q "$tmp/a.db" "SELECT COUNT(*) FROM runs")" = 9 ] || die "expected 9 runs"
[ "$(q "$tmp/a.db" "SELECT COUNT(*) FROM samples WHERE status='ok'")" = 72 ] || die "expected 72 ok rows (8 x 9)"
[ "$(q "$tmp/a.db" "SELECT COUNT(DISTINCT run_id || sample_key) FROM samples")" = 72 ] || die "rows not one per cell"
[ "$(q "$tmp/a.db" "SELECT COUNT(*) FROM runs WHERE status='complete' AND n_expected=8")" = 9 ] || die "runs not complete"
q "$tmp/a.db" "SELECT GROUP_CONCAT(method || frames || ':' || candidates, ' ') FROM runs ORDER BY id" | \
  grep -qx "uniform1:1 uniform2:2 uniform4:4 sevila1:8 sevila2:8 sevila4:8 vlap1:8 vlap2:8 vlap4:8" || die "grid cells"
# known frames: uniform_midbin over [0, 40): k=1 [20], k=2 [10,30], k=4 [5,15,25,35]; T=8 candidates
for kp in "1:[20]" "2:[10,30]" "4:[5,15,25,35]"; do
  n=$(q "$tmp/a.db" "SELECT COUNT(*) FROM samples s JOIN runs r ON r.id=s.run_id WHERE r.method='uniform' AND r.frames=${kp%%:*} AND s.picked='${kp#*:}'")
  [ "$n" = 8 ] || die "uniform k=${kp%%:*}: picked != ${kp#*:} ($n of 8)"
done
n=$(q "$tmp/a.db" "SELECT COUNT(*) FROM samples s JOIN runs r ON r.id=s.run_id WHERE r.method!='uniform' AND s.candidates='[2,7,12,17,22,27,32,37]'")
[ "$n" = 48 ] || die "SeViLA/VLAP candidates not midbin(8) of 40 ($n of 48)"
# picks: SeViLA k frames among the candidates; VLAP one per segment (k segments of 8/k candidates)
n=$(q "$tmp/a.db" "SELECT COUNT(*) FROM samples s JOIN runs r ON r.id=s.run_id WHERE r.method!='uniform' AND
     json_array_length(s.picked)=r.frames AND NOT EXISTS (SELECT 1 FROM json_each(s.picked) p WHERE p.value NOT IN
     (SELECT value FROM json_each(s.candidates)))")
[ "$n" = 48 ] || die "picked frames not k of the candidates ($n of 48)"
n=$(q "$tmp/a.db" "SELECT COUNT(*) FROM samples s JOIN runs r ON r.id=s.run_id, json_each(s.picked) p WHERE
     r.method='vlap' AND (p.value - 2) / 5 / (8 / r.frames) != p.key")
[ "$n" = 0 ] || die "VLAP picks not one per segment ($n)"
# timings: warm-up sample (the first processed) untimed in every cell, the rest timed
[ "$(q "$tmp/a.db" "SELECT COUNT(*) FROM samples WHERE t_total_us IS NULL")" = 9 ] || die "expected 9 untimed warm-up rows"
[ "$(q "$tmp/a.db" "SELECT COUNT(DISTINCT sample_key) FROM samples WHERE t_total_us IS NULL")" = 1 ] || die "warm-up not one sample"
q "$tmp/a.db" "SELECT COUNT(*) FROM samples WHERE json_extract(extra,'$.warmup')=1 AND t_total_us IS NOT NULL" | grep -qx 0 \
  || die "warm-up flag and NULL times disagree"
bad=$(q "$tmp/a.db" "SELECT COUNT(*) FROM samples s JOIN runs r ON r.id=s.run_id WHERE t_total_us IS NOT NULL AND NOT (
     t_decode_us > 0 AND t_preprocess_us > 0 AND t_vit_us > 0 AND t_qformer_us > 0 AND t_t5_enc_us > 0 AND
     t_t5_dec_us > 0 AND (t_select_us > 0 OR (r.method='uniform' AND t_select_us = 0)) AND
     t_decode_us + t_preprocess_us + t_vit_us + t_select_us + t_qformer_us + t_t5_enc_us + t_t5_dec_us <= t_total_us)")
[ "$bad" = 0 ] || die "$bad rows with non-positive stage times or stages > total"
bad=$(q "$tmp/a.db" "SELECT COUNT(*) FROM runs r WHERE (SELECT SUM(t_total_us) FROM samples WHERE run_id=r.id) / 1e6 > r.wall_s
     OR r.wall_s <= 0")
[ "$bad" = 0 ] || die "a cell's summed cold totals exceed the loop's wall time"
# sharing: SeViLA k=2,4 reuse the localizer and are charged its time; cached ViT frames are charged
n=$(q "$tmp/a.db" "SELECT COUNT(*) FROM samples s JOIN runs r ON r.id=s.run_id WHERE r.method='sevila' AND r.frames>1 AND
     json_extract(extra,'$.loc_reused')=1 AND json_extract(extra,'$.select_charged_us')>0")
[ "$n" = 16 ] || die "SeViLA localizer not reused / charged ($n of 16)"
n=$(q "$tmp/a.db" "SELECT COUNT(*) FROM samples WHERE json_extract(extra,'$.n_vit_cached')>0 AND
     json_extract(extra,'$.vit_charged_us')<=0")
[ "$n" = 0 ] || die "$n rows took cached ViT features without being charged"
echo "$out" | grep -qE "ViT cache [1-9][0-9]* hits" || die "no ViT cache hits reported"
# provenance
row=$(q "$tmp/a.db" "SELECT git_commit!='' AND length(weights)>60 AND length(annotations_sha256)=64 AND blas_core!='' AND
     cpu_model!='' AND host!='' AND sws_flags LIKE '%swscale%' AND build_flags IS NOT NULL AND blas_threads=1 AND
     json_extract(config,'\$.config.interp')='bilinear' AND config NOT LIKE '%invocation%' FROM runs WHERE id=1")
[ "$row" = 1 ] || die "provenance fields missing: $(q "$tmp/a.db" 'SELECT * FROM runs WHERE id=1')"
# the whole invocation is kept per session, outside the identity
row=$(q "$tmp/a.db" "SELECT COUNT(*) FROM sessions WHERE run_id=1 AND json_extract(invocation,'$.dataset')='nextqa'")
[ "$row" -ge 1 ] || die "invocation not stored with the session"
"$VB_BIN" runs --db "$tmp/a.db" | grep -qE "vlap +4 +8" || die "runs does not list the vlap k=4 cell"
# weights provenance: the file's sha256 (known answer from sha256sum), served from the sha cache on later runs
if command -v sha256sum >/dev/null; then
  want=$(sha256sum "$tmp/b/blip2/model.safetensors" | cut -c1-64)
  got=$(q "$tmp/a.db" "SELECT json_extract(weights, '$.weights') FROM runs WHERE method='uniform' AND frames=1")
  [ "$want" = "$got" ] || die "weights sha256 $got != $want"
  grep -q "$want" "$VB_SHA256_CACHE" || die "sha256 cache not written"
  sed -i "s/$want/$(printf 'f%.0s' $(seq 64))/" "$VB_SHA256_CACHE"   # a poisoned entry proves the cache is read
  "$VB_BIN" run --config "$tmp/run.json" --methods uniform --frames 1 --limit 1 --db "$tmp/sc.db" --quiet >/dev/null
  q "$tmp/sc.db" "SELECT json_extract(weights, '$.weights') FROM runs" | grep -q '^f\{64\}$' || die "sha256 cache not used"
  touch "$tmp/b/blip2/model.safetensors"   # a new mtime invalidates the entry
  "$VB_BIN" run --config "$tmp/run.json" --methods uniform --frames 1 --limit 1 --db "$tmp/sc2.db" --quiet >/dev/null
  [ "$(q "$tmp/sc2.db" "SELECT json_extract(weights, '$.weights') FROM runs")" = "$want" ] || die "stale sha256 cache entry used"
fi

# progress: plain lines on a non-terminal stderr, ending at 8/8; nothing with --quiet
grep -qE "^run: 8/8 \(100.0%\) [0-9.]+/s elapsed .* ETA" "$tmp/err.txt" || die "no final progress line on stderr"
grep -q "8/8" <<<"$out" && die "progress went to stdout"

# --- 2. the ViT cache changes no answer: same predictions with sharing disabled (and a tiny cache that evicts)
out_nc=$("$VB_BIN" run --config "$tmp/run.json" --db "$tmp/nocache.db" --threads 1 --vit-cache-mb 0 --quiet) \
  || die "run --vit-cache-mb 0"
"$VB_BIN" run --config "$tmp/run.json" --db "$tmp/small.db" --threads 1 --vit-cache-mb 1 --quiet >/dev/null \
  || die "run --vit-cache-mb 1"
h1=$(q "$tmp/a.db" "SELECT GROUP_CONCAT(verify_hash) FROM (SELECT verify_hash FROM runs ORDER BY id)")
h2=$(q "$tmp/nocache.db" "SELECT GROUP_CONCAT(verify_hash) FROM (SELECT verify_hash FROM runs ORDER BY id)")
h3=$(q "$tmp/small.db" "SELECT GROUP_CONCAT(verify_hash) FROM (SELECT verify_hash FROM runs ORDER BY id)")
[ -n "$h1" ] && [ "$h1" = "$h2" ] && [ "$h1" = "$h3" ] || die "ViT cache changed results"
s1=$(q "$tmp/a.db" "SELECT GROUP_CONCAT(option_scores, ';') FROM (SELECT option_scores FROM samples ORDER BY run_id, sample_key)")
s2=$(q "$tmp/nocache.db" "SELECT GROUP_CONCAT(option_scores, ';') FROM (SELECT option_scores FROM samples ORDER BY run_id, sample_key)")
[ "$s1" = "$s2" ] || die "option scores differ with and without the ViT cache"
# ViT work: shared, each distinct (video, frame) once: 4 videos x (7 uniform frames + 8 candidates) = 60 (the VLAP
# bundles have the BLIP-2 bundle's ViT weights: init-model draws them from the same seed); unshared, every cell its
# own: 8 samples x (1+2+4 + 3x8 + 3x8) = 440
echo "$out_a" | grep -q "ViT frames computed 60;" || die "shared run: expected 60 ViT frames computed"
echo "$out_nc" | grep -q "ViT frames computed 440;" || die "--vit-cache-mb 0: expected 440 ViT frames computed"

# --- 3. damaged and missing videos: error rows, the rest answered, the report counts them
cp -rL "$tmp/syn/nextqa" "$tmp/dmg"
head -c 3000 /dev/urandom > "$tmp/dmg/videos/1000/9000000001.mp4"
rm "$tmp/dmg/videos/1000/9000000002.mp4"
out=$("$VB_BIN" run --config "$tmp/run.json" --videos "$tmp/dmg/videos" --db "$tmp/d.db" --threads 1 --quiet 2>"$tmp/q.txt"); rc=$?
[ -s "$tmp/q.txt" ] && die "--quiet wrote to stderr: $(head -3 "$tmp/q.txt")"
echo "$out"
[ $rc -eq 0 ] || die "run with damaged videos exited $rc"
[ "$(q "$tmp/d.db" "SELECT COUNT(*) FROM samples WHERE status='error' AND prediction IS NULL AND error LIKE '%9000000001.mp4%'")" = 18 ] \
  || die "expected 18 error rows for the garbage video"
[ "$(q "$tmp/d.db" "SELECT COUNT(*) FROM samples WHERE status='error' AND error LIKE '%9000000002%'")" = 18 ] \
  || die "expected 18 error rows for the missing video"
[ "$(q "$tmp/d.db" "SELECT COUNT(*) FROM samples WHERE status='ok' AND video_id IN ('9000000000','9000000003')")" = 36 ] \
  || die "the intact videos were not all answered"
echo "$out" | grep -q "rows: 36 ok, 36 error" || die "report does not count the error rows"
# the answers on intact videos equal the clean run's
p1=$(q "$tmp/a.db" "SELECT GROUP_CONCAT(prediction || picked, ';') FROM (SELECT prediction, picked FROM samples WHERE video_id IN ('9000000000','9000000003') ORDER BY run_id, sample_key)")
p2=$(q "$tmp/d.db" "SELECT GROUP_CONCAT(prediction || picked, ';') FROM (SELECT prediction, picked FROM samples WHERE video_id IN ('9000000000','9000000003') ORDER BY run_id, sample_key)")
[ "$p1" = "$p2" ] || die "damaged videos changed the answers on the intact ones"

# --- 4. subsets and config errors
printf '9000000003_1\n9000000000_0\n' > "$tmp/keys.txt"
"$VB_BIN" run --config "$tmp/run.json" --samples "$tmp/keys.txt" --frames 2 --db "$tmp/k.db" --quiet >/dev/null || die "--samples"
[ "$(q "$tmp/k.db" "SELECT GROUP_CONCAT(sample_key) FROM (SELECT DISTINCT sample_key FROM samples ORDER BY 1)")" = \
  "9000000000_0,9000000003_1" ] || die "--samples selected the wrong keys"
"$VB_BIN" run --config "$tmp/run.json" --limit 3 --frames 4 --methods uniform --db "$tmp/l.db" --quiet >/dev/null || die "--limit"
[ "$(q "$tmp/l.db" "SELECT GROUP_CONCAT(sample_key) FROM (SELECT sample_key FROM samples WHERE run_id=1 ORDER BY 1)")" = \
  "9000000000_0,9000000000_1,9000000001_0" ] || die "--limit 3 is not the first 3 samples"
# a cell's identity is the cell, not the invocation: growing the grid / limit resumes the stored cells
"$VB_BIN" run --config "$tmp/run.json" --limit 5 --frames 4,2 --methods uniform --db "$tmp/l.db" --quiet >/dev/null || die "grown grid"
[ "$(q "$tmp/l.db" "SELECT COUNT(*) FROM runs")" = 2 ] || die "grown grid: expected the k=4 cell resumed plus a k=2 cell"
[ "$(q "$tmp/l.db" "SELECT COUNT(*) FROM samples WHERE run_id=1")" = 5 ] || die "grown limit: k=4 cell not completed to 5"
[ "$(q "$tmp/l.db" "SELECT COUNT(*) FROM sessions WHERE run_id=1")" = 2 ] || die "grown grid: k=4 cell not resumed"
"$VB_BIN" run --config "$tmp/run.json" --method vlap=$tmp/b/vlap4 --frames 2 --db "$tmp/x.db" --quiet 2>"$tmp/e.txt"
[ $? -ne 0 ] && grep -q "segments" "$tmp/e.txt" || die "VLAP bundle of 4 segments accepted for k=2: $(cat "$tmp/e.txt")"
[ ! -s "$tmp/x.db" ] || [ "$(q "$tmp/x.db" "SELECT COUNT(*) FROM runs")" = 0 ] || die "a failed set-up wrote runs"
"$VB_BIN" run --config "$tmp/run.json" --frames 1,x --db "$tmp/x.db" 2>/dev/null; [ $? -eq 2 ] || die "bad --frames not a usage error"
"$VB_BIN" run --dataset nextqa --annotations "$S/val.csv" 2>/dev/null; [ $? -eq 2 ] || die "no method not a usage error"
"$VB_BIN" run --config "$tmp/run.json" --samples /nonexistent --db "$tmp/x.db" 2>/dev/null; [ $? -eq 1 ] || die "missing --samples file"
[ $fail -eq 0 ] && echo "ok"
exit $fail
