#!/usr/bin/env bash
# Runs a few vlapbench CLI paths under valgrind memcheck (errors = invalid access, uninitialised use, definite
# leaks): check-golden on tests/golden/tiny, datasets stats, score (NExT-QA HGA), tokenize, synth, run on a tiny
# grid (2 videos x 2 questions; uniform, SeViLA, VLAP at 1 frame), report on the resulting db.  Prints one line
# per command and "N clean, N with errors"; exit 1 if any had errors or failed.
# Data: the committed tokenizers (models/tokenizers/) and tiny configs (tests/configs/); the real NExT-QA annotation
# files of ../shared when present, else the fixtures in tests/data.
# Env: VB_BIN (default build/vlapbench), VB_SHARED (default ../shared).  Logs in a temp dir printed at the end.
set -u
cd "$(dirname "$0")/.."
: "${VB_BIN:=$PWD/build/vlapbench}"
: "${VB_SHARED:=$(cd .. && pwd)/shared}"
export OPENBLAS_NUM_THREADS=1 VB_SANITIZED=1
# can valgrind run here at all? (exit 77 with one clear message where it dies with SIGILL on this CPU; make
# test-valgrind probes once and sets VB_VG_PROBED=1)
if [ "${VB_VG_PROBED:-0}" != 1 ]; then bash scripts/valgrind-probe.sh "$VB_BIN"; rc=$?; [ $rc -eq 0 ] || exit $rc; fi
TOK_T5=$PWD/models/tokenizers/flan-t5; TOK_BERT=$PWD/models/tokenizers/bert-base-uncased
CFG_B=$PWD/tests/configs/tiny-blip2.json; CFG_I=$PWD/tests/configs/tiny-instructblip.json
D=$VB_SHARED/datasets
if [ -f "$D/nextqa/val.csv" ]; then
  NQ_ANN=$D/nextqa/val.csv NQ_MAP=$D/nextqa/map_vid_vidorID.json NQ_PRED=$D/nextqa/HGA-bert-ft-h256-val.json
else
  NQ_ANN=$PWD/tests/data/nextqa_small.csv NQ_MAP=$PWD/tests/data/nextqa_map.json NQ_PRED=$PWD/tests/data/nextqa_pred.json
fi
tmp=$(mktemp -d); export VB_SHA256_CACHE=$tmp/sha256-cache.tsv
clean=0; bad=0
vg() { # vg NAME ARGS... — run $VB_BIN ARGS under valgrind, stdin from $tmp/NAME.in when present
  local n=$1; shift; [ -f "$tmp/$n.in" ] || : >"$tmp/$n.in"
  valgrind --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite --track-origins=yes \
    --log-file="$tmp/$n.vg" "$VB_BIN" "$@" >"$tmp/$n.out" 2>&1 <"$tmp/$n.in"
  local rc=$? e; e=$(grep -m1 'ERROR SUMMARY' "$tmp/$n.vg" | sed 's/.*ERROR SUMMARY: \([0-9]*\).*/\1/')
  if [ $rc -eq 0 ]; then clean=$((clean+1)); echo "CLEAN    $n (${e:-?} errors)"
  else bad=$((bad+1)); echo "BAD      $n (exit $rc, ${e:-?} valgrind errors) — $tmp/$n.vg"
    grep -m6 -E '^==[0-9]+== (Invalid|Conditional|Use of uninit|[0-9,]+ bytes in .* definitely)' "$tmp/$n.vg" \
      | sed 's/^/      /'
  fi
}
vg check-golden check-golden "$PWD/tests/golden/tiny"
vg datasets-stats datasets stats --dataset nextqa --annotations "$NQ_ANN" --map "$NQ_MAP"
vg score score --dataset nextqa --annotations "$NQ_ANN" --predictions "$NQ_PRED"
printf '%s\n' '"Question: why did the boy pick up the ball? Option A: to throw it."' '"中文 \u00e9t\u00e9"' >"$tmp/tokenize-t5.in"
vg tokenize-t5 tokenize --t5 "$TOK_T5/tokenizer.json" --max-length 12
printf '%s\n' '"Ünï 42x café, Hello! zzz"' '"[DEC] why?"' >"$tmp/tokenize-bert.in"
vg tokenize-bert tokenize --bert "$TOK_BERT/vocab.txt"
printf '%s\n' '363 19 8 1' '0 1 2 32099' >"$tmp/tokenize-decode.in"
vg tokenize-decode tokenize --t5 "$TOK_T5/tokenizer.json" --decode
vg synth synth --out "$tmp/syn" --videos 2 --seed 3 --frames 40 --fps 10 --size 64x48 --questions 2
mkdir -p "$tmp/b"
"$VB_BIN" init-model --config "$CFG_B" --method sevila --seed 5 --out "$tmp/b/blip2" \
  --tokenizer-dir "$TOK_T5" >/dev/null 2>&1 || echo "init-model blip2 failed"
"$VB_BIN" init-model --config "$CFG_I" --method vlap --frames 1 --candidates 8 \
  --seed 5 --out "$tmp/b/vlap1" --tokenizer-dir "$TOK_T5" --tokenizer-dir "$TOK_BERT" >/dev/null 2>&1 \
  || echo "init-model vlap failed"
cat > "$tmp/run.json" <<J
{"dataset": "nextqa", "annotations": "syn/nextqa/val.csv", "map": "syn/nextqa/map_vid_vidorID.json",
 "videos": "syn/nextqa/videos", "frames": [1], "candidates": 8, "warmup": 0,
 "methods": [{"name": "uniform", "model": "b/blip2"}, {"name": "sevila", "model": "b/blip2"},
             {"name": "vlap", "models": {"1": "b/vlap1"}}]}
J
vg run run --config "$tmp/run.json" --db "$tmp/a.db" --threads 1
vg report report --db "$tmp/a.db" --out "$tmp/rep" --plots png --boot 200
echo
echo "$clean clean, $bad with errors or failed (logs: $tmp)"
[ $bad -eq 0 ]
