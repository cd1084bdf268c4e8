#!/usr/bin/env bash
# demo.sh — the bundled default benchmark (`make demo`): runs vlapbench's whole main job offline, on data that
# vlapbench generates itself and on the trained demo models committed in models/demo/, and writes the report.
#
#   1. `vlapbench synth --task event --event-times stratified`: the synthetic benchmark (small H.264 videos that show a
#      colour card on 1/16 of their frames, at a random time, the times stratified over the videos; every question
#      asks the card's colour) with annotation files in the official formats of NExT-QA, STAR, VLEP and How2QA (VALUE
#      release);
#   2. tokenizers: the ones the models were trained with (models/demo/tokenizer), checked against the benchmark's
#      text (`vlapbench demo check-tokenizer`: every piece the methods read, no <unk>);
#   3. model bundles: models/demo/ (tools/train-demo trained them, from scratch, on other seeds of the same task):
#      uniform BLIP-2, SeViLA, and one VLAP bundle per frame count (and per candidate count: How2QA uses 8);
#   4. `vlapbench run`: uniform, SeViLA and VLAP at 1, 2 and 4 frames on each dataset, into OUT/results.db;
#   5. `vlapbench report`: OUT/report.md, report.html, report.tex and the plots, with contact sheets (3 questions
#      per dataset: the candidate frames, the card frames outlined, each run's picks);
#   6. the regression gate (trained models): `vlapbench compare` of the VLAP runs (and SeViLA's, the latency
#      reference) against the stored baseline of the same runs (models/demo-baseline.db): every prediction must be
#      identical, and each run's median time relative to SeViLA's at the same k may rise by at most 100 %;
#      its lines go into OUT/gate.txt, the demo output and the report.  A failing gate fails the demo (exit 1) after
#      the report is written.
#
# Everything is stored under OUT and reused when present: a second run resumes (nothing left to compute) and only
# rewrites the report.
#
# Environment: VB_BIN (default: the build/vlapbench next to this script), VB_DEMO_OUT (default demo-out),
# VB_DEMO_SMALL=1 (the first 3 videos of the 50 instead of all: the quick variant tests/test_demo.sh runs), VB_DEMO_THREADS (BLAS threads,
# default 0 = all cores), VB_DEMO_MODELS=random (the earlier demo: the frame-index task, tokenizers built here and
# random-weight init-model bundles: chance accuracy, real-structure timings; no gate), VB_DEMO_SHEETS (contact
# sheets per dataset, default 3; 0 = none), VB_DEMO_GATE=0 (skip the regression gate), VB_DEMO_WRITE_BASELINE=1
# (write the gate's baseline, models/demo-baseline.db, from this run's VLAP and SeViLA runs: the full demo with the trained
# models only; run it after replacing the models in models/demo/, then commit the file).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
VB=${VB_BIN:-$ROOT/build/vlapbench}
OUT=${VB_DEMO_OUT:-$ROOT/demo-out}
THREADS=${VB_DEMO_THREADS:-0}
MODELS=${VB_DEMO_MODELS:-trained}
TRAINED=$ROOT/models/demo
# SYNTH_ARGS: the event task's card times are stratified (the demo split is an evaluation split: every card start is
# uniform over its video, as in training, but over the 50 videos the starts cover the video evenly, so that uniform
# sampling of k frames sees the card on its expected share of them; docs/demo.md); the small variant writes the
# first 3 videos of the same 50-video split (their questions are the full demo's)
case $MODELS in
trained) TASK=event; SYNTH_ARGS=(--videos 50 --event-times stratified)
    if [ "${VB_DEMO_SMALL:-0}" = 1 ]; then VIDEOS=3; SYNTH_ARGS+=(--first 3); else VIDEOS=50; fi ;;
random) TASK=index; if [ "${VB_DEMO_SMALL:-0}" = 1 ]; then VIDEOS=3; else VIDEOS=12; fi; SYNTH_ARGS=(--videos "$VIDEOS") ;;
*) printf 'demo: error: VB_DEMO_MODELS must be trained or random\n' >&2; exit 2 ;;
esac
QUESTIONS=2
SEED=1

say() { printf 'demo: %s\n' "$*" >&2; }
die() { printf 'demo: error: %s\n' "$*" >&2; exit 1; }

[ -x "$VB" ] || die "$VB not found or not executable (run 'make' first, or set VB_BIN)"
command -v spm_train >/dev/null 2>&1 || die "spm_train not found (Debian package sentencepiece; 'make deps')"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
T0=$(date +%s.%N)
elapsed() { awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'; }

# A step's outputs are reused when its stamp file records the same parameters.
stamp_ok() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }

# ---- 1. synthetic benchmark
DATA=$OUT/data
SYNTH_ID="synth task=$TASK videos=$VIDEOS questions=$QUESTIONS seed=$SEED ${SYNTH_ARGS[*]}"
if stamp_ok "$DATA/.stamp" "$SYNTH_ID"; then
    say "synthetic benchmark: reusing $DATA"
else
    say "synthetic benchmark: $VIDEOS videos, $QUESTIONS questions each per dataset -> $DATA"
    rm -rf "$DATA"
    "$VB" synth --task "$TASK" --out "$DATA" "${SYNTH_ARGS[@]}" --questions "$QUESTIONS" --seed "$SEED" \
        2>"$OUT/synth.log" ||
        { cat "$OUT/synth.log" >&2; die "vlapbench synth failed"; }
    echo "$SYNTH_ID" > "$DATA/.stamp"
fi

# ---- 2. tokenizers: trained models bring theirs (checked against this benchmark's text); random ones get new ones
TOK=$OUT/tokenizer
TOK_ID="$SYNTH_ID spm=unigram,400 wordpiece=400"
[ "$MODELS" = trained ] && TOK_ID="$SYNTH_ID trained=$(cat "$TRAINED/tokenizer/spiece.model" "$TRAINED/tokenizer/tokenizer.json" \
    "$TRAINED/tokenizer/vocab.txt" | cksum)"
if stamp_ok "$TOK/.stamp" "$TOK_ID"; then
    say "tokenizers: reusing $TOK"
elif [ "$MODELS" = trained ]; then
    say "tokenizers: the trained models' (models/demo/tokenizer), checked against the benchmark's prompts -> $TOK"
    rm -rf "$TOK"
    mkdir -p "$TOK"
    cp "$TRAINED/tokenizer/spiece.model" "$TRAINED/tokenizer/tokenizer.json" "$TRAINED/tokenizer/vocab.txt" "$TOK/"
    "$VB" demo corpus --synth "$DATA" --out "$TOK/corpus.txt" 2>>"$TOK/build.log" ||
        { cat "$TOK/build.log" >&2; die "demo corpus failed"; }
    "$VB" demo check-tokenizer --t5 "$TOK/tokenizer.json" --bert "$TOK/vocab.txt" --corpus "$TOK/corpus.txt" \
        >>"$TOK/build.log" 2>&1 || { tail "$TOK/build.log" >&2; die "the trained models' tokenizers fail their check"; }
    echo "$TOK_ID" > "$TOK/.stamp"
else
    say "tokenizers: SentencePiece unigram (spm_train) and WordPiece from the benchmark's prompts -> $TOK"
    rm -rf "$TOK"
    mkdir -p "$TOK"
    "$VB" demo corpus --synth "$DATA" --out "$TOK/corpus.txt" 2>>"$TOK/build.log" ||
        { cat "$TOK/build.log" >&2; die "demo corpus failed"; }
    # T5's special ids (pad 0, </s> 1, <unk> 2, no BOS); one thread and a fixed seed: the same model every time
    # (relative paths: the model file records its trainer options, input and prefix included)
    (cd "$TOK" && spm_train --input=corpus.txt --model_prefix=spiece --model_type=unigram --vocab_size=400 \
        --hard_vocab_limit=false --character_coverage=1.0 --pad_id=0 --eos_id=1 --unk_id=2 --bos_id=-1 \
        --num_threads=1 --random_seed=1 --minloglevel=1 >>build.log 2>&1) ||
        { tail -20 "$TOK/build.log" >&2; die "spm_train failed"; }
    "$VB" tokenize --spm-to-json "$TOK/spiece.model" --out "$TOK/tokenizer.json" --extra-ids 100 \
        >>"$TOK/build.log" 2>&1 || { tail "$TOK/build.log" >&2; die "tokenize --spm-to-json failed"; }
    "$VB" demo wordpiece --corpus "$TOK/corpus.txt" --out "$TOK/vocab.txt" --size 400 2>>"$TOK/build.log" ||
        { tail "$TOK/build.log" >&2; die "demo wordpiece failed"; }
    "$VB" demo check-tokenizer --t5 "$TOK/tokenizer.json" --bert "$TOK/vocab.txt" --corpus "$TOK/corpus.txt" \
        >>"$TOK/build.log" 2>&1 || { tail "$TOK/build.log" >&2; die "the demo tokenizers fail their check"; }
    echo "$TOK_ID" > "$TOK/.stamp"
fi

# ---- 3. model bundles: the trained ones, or random-weight ones (one seed for all: the frozen ViT and T5 are the same weights in every bundle,
#         as EVA ViT-g and Flan-T5-XL are in the real methods, so the runner shares ViT features between them)
MOD=$OUT/models
bundle() { # name config method [init-model options...]
    local name=$1 cfg=$2 method=$3
    shift 3
    local id
    id="$(cat "$ROOT/configs/$cfg") $method $* seed=$SEED $(cat "$TOK/.stamp")"
    if stamp_ok "$MOD/$name/.stamp" "$id"; then return 0; fi
    rm -rf "${MOD:?}/$name"
    "$VB" init-model --config "$ROOT/configs/$cfg" --method "$method" --seed "$SEED" --out "$MOD/$name" \
        --tokenizer-dir "$TOK" "$@" >>"$OUT/models.log" 2>&1 || { tail "$OUT/models.log" >&2; die "init-model $name"; }
    echo "$id" > "$MOD/$name/.stamp"
}
mkdir -p "$MOD"
if [ "$MODELS" = trained ]; then
    say "model bundles: the trained ones in $TRAINED"
    for b in uniform sevila vlap-k1-T32 vlap-k2-T32 vlap-k4-T32 vlap-k1-T8 vlap-k2-T8 vlap-k4-T8; do
        [ -f "$TRAINED/$b/model.safetensors" ] || die "$TRAINED/$b missing (tools/train-demo writes it)"
        id="trained $(cksum <"$TRAINED/$b/model.safetensors") $(cksum <"$TRAINED/$b/config.json")"
        stamp_ok "$MOD/$b/.stamp" "$id" && continue
        rm -rf "${MOD:?}/$b"
        mkdir -p "$MOD/$b"
        cp "$TRAINED/$b/config.json" "$TRAINED/$b/model.safetensors" "$TRAINED/$b/tokenizer.json" "$MOD/$b/"
        [ -f "$TRAINED/$b/vocab.txt" ] && cp "$TRAINED/$b/vocab.txt" "$MOD/$b/"
        echo "$id" > "$MOD/$b/.stamp"
    done
else
    say "model bundles (random weights) -> $MOD"
    bundle uniform demo-blip2.json uniform
    bundle sevila demo-blip2.json sevila
    for T in 32 8; do
        for k in 1 2 4; do bundle "vlap-k$k-T$T" demo-instructblip.json vlap --frames "$k" --candidates "$T"; done
    done
fi

# ---- 4. the benchmark: one run configuration per dataset, all into one database
CFG=$OUT/configs
mkdir -p "$CFG"
write_config() { # dataset annotations map videos vlap_T
    local map=""
    [ -n "$3" ] && map="\"map\": \"../data/$3\","
    cat > "$CFG/run-$1.json" <<EOF
{
  "dataset": "$1",
  "annotations": "../data/$2",
  $map
  "videos": "../data/$4",
  "methods": [
    {"name": "uniform", "model": "../models/uniform"},
    {"name": "sevila", "model": "../models/sevila"},
    {"name": "vlap", "models": {"1": "../models/vlap-k1-T$5", "2": "../models/vlap-k2-T$5",
                                "4": "../models/vlap-k4-T$5"}}
  ],
  "frames": [1, 2, 4],
  "sampling": "uniform_midbin",
  "interp": "bilinear",
  "selection": "argmax",
  "decode_mode": "minimal",
  "seed": $SEED,
  "warmup": 1,
  "db": "../results.db"
}
EOF
}
write_config nextqa nextqa/val.csv nextqa/map_vid_vidorID.json nextqa/videos 32
write_config star star/STAR_val.json "" star/videos 32
write_config vlep vlep/vlep_dev_release.jsonl "" vlep/videos 32
write_config how2qa-value how2qa/how2qa_val_release.jsonl how2qa/how2_vid_mapping.json how2qa/videos 8

# A run's identity includes the program's commit, the data and the weights, so after a rebuild from another commit or
# with other demo data or models the stored runs cannot be resumed: start a new database then (the old one is kept
# as results.prev.db) rather than report old and new runs side by side.
RES_ID="$("$VB" version 2>/dev/null | grep -E '^(commit|build):' | tr '\n' ' ')$TOK_ID models=$(cat "$MOD"/*/.stamp |
    cksum) models_kind=$MODELS"
if [ -f "$OUT/results.db" ] && ! stamp_ok "$OUT/.results-stamp" "$RES_ID"; then
    say "vlapbench, the demo data or the models changed since results.db was written: starting a new one" \
        "(the old one is now results.prev.db)"
    for x in "" -wal -shm; do
        rm -f "$OUT/results.prev.db$x"
        if [ -f "$OUT/results.db$x" ]; then mv "$OUT/results.db$x" "$OUT/results.prev.db$x"; fi
    done
fi
echo "$RES_ID" > "$OUT/.results-stamp"

for ds in nextqa star vlep how2qa-value; do
    say "run $ds: uniform, SeViLA, VLAP x frames 1, 2, 4 ($(elapsed) s so far)"
    "$VB" run --config "$CFG/run-$ds.json" --threads "$THREADS" --quiet >"$OUT/run-$ds.log" 2>&1 ||
        { tail -20 "$OUT/run-$ds.log" >&2; die "vlapbench run failed on $ds (log: $OUT/run-$ds.log)"; }
    grep -m1 '^rows:' "$OUT/run-$ds.log" | sed 's/; db .*//; s/^/demo:   /' >&2 || true
done

# ---- 5. the report
NOTE_TRAINED=()
[ "$MODELS" = trained ] && NOTE_TRAINED=(--trained "$TRAINED/manifest.json")
say "report ($(elapsed) s so far)"
rm -f "$OUT"/contact_sheet_*.png
"$VB" report --db "$OUT/results.db" --out "$OUT" --format md,tex,html --contact-sheets "${VB_DEMO_SHEETS:-3}" \
    >"$OUT/report.log" 2>&1 ||
    { tail -20 "$OUT/report.log" >&2; die "vlapbench report failed (log: $OUT/report.log)"; }
"$VB" demo note --dir "$OUT" --tokenizer-dir "$TOK" --models "$MOD" --videos "$VIDEOS" --questions "$QUESTIONS" \
    ${NOTE_TRAINED[@]+"${NOTE_TRAINED[@]}"} >>"$OUT/report.log" 2>&1 || { tail "$OUT/report.log" >&2; die "demo note failed"; }
for f in report.md report.html report.tex results.db; do
    [ -s "$OUT/$f" ] || die "$OUT/$f was not written"
done
grep -q '^report: warning: contact sheets skipped' "$OUT/report.log" &&
    say "warning: some contact sheets were skipped (see $OUT/report.log)"

# ---- 6. the regression gate: the VLAP runs (and SeViLA's) against the stored baseline of the same runs
BASELINE=${VB_DEMO_BASELINE:-$ROOT/models/demo-baseline.db}
# Accuracy: every paired question must keep its prediction (--max-changed 0) and no significant drop is allowed
# (--max-acc-drop 0).  Latency: the baseline was measured on another machine, and wall-clock times on a shared machine
# vary several-fold with its load, so each run's median is taken relative to SeViLA's median at the same dataset and
# k in the same database (--latency-ref sevila: the runner computes every cell of a question together, so both see
# the same machine and load) and that ratio may rise by at most 100 %.  The cells are matched without their BLAS
# thread count, which is the machine's core count here (--threads 0).
# The small demo (VB_DEMO_SMALL=1) asks the first questions of the full demo's (same keys, same videos), but its map
# files list 3 videos instead of 50, so its cells are matched without the map's hash too.
IGNORE=blas_threads
[ "$VIDEOS" = 50 ] || IGNORE=blas_threads,config.map_sha256
GATE=(compare --db "$OUT/results.db" --baseline-db "$BASELINE" --max-acc-drop 0 --max-changed 0
    --latency-ref sevila --max-latency-rise 100 --ignore-key "$IGNORE")
gate_rc=0
if [ "$MODELS" = trained ] && [ "${VB_DEMO_WRITE_BASELINE:-0}" = 1 ]; then
    [ "$VIDEOS" = 50 ] || die "VB_DEMO_WRITE_BASELINE=1 needs the full demo (not VB_DEMO_SMALL=1)"
    command -v sqlite3 >/dev/null 2>&1 || die "sqlite3 not found (Debian package sqlite3; 'make deps')"
    say "writing the gate's baseline (the VLAP and SeViLA runs of this database) -> $BASELINE"
    rm -f "$BASELINE.tmp"
    sqlite3 "$OUT/results.db" ".backup '$BASELINE.tmp'"
    # the runs' rows as stored, without the optional per-row provenance (`extra`: seeds, sharing counters)
    sqlite3 "$BASELINE.tmp" "PRAGMA journal_mode=DELETE;
        DELETE FROM samples WHERE run_id IN (SELECT id FROM runs WHERE method NOT IN ('vlap', 'sevila'));
        DELETE FROM sessions WHERE run_id IN (SELECT id FROM runs WHERE method NOT IN ('vlap', 'sevila'));
        DELETE FROM runs WHERE method NOT IN ('vlap', 'sevila'); UPDATE samples SET extra = NULL; VACUUM;" >/dev/null
    [ "$(sqlite3 "$BASELINE.tmp" "SELECT count(*) FROM runs WHERE status = 'complete'")" = 24 ] ||
        die "the baseline should hold the 24 complete VLAP and SeViLA runs (4 datasets x k = 1, 2, 4)"
    mv "$BASELINE.tmp" "$BASELINE"
fi
if [ "$MODELS" != trained ] || [ "${VB_DEMO_GATE:-1}" = 0 ]; then
    say "regression gate: skipped ($([ "$MODELS" != trained ] && echo "random-weight models" || echo "VB_DEMO_GATE=0"))"
elif [ ! -f "$BASELINE" ]; then
    say "regression gate: skipped: no baseline $BASELINE (write one with VB_DEMO_WRITE_BASELINE=1 $0)"
else
    say "regression gate: vlapbench ${GATE[*]/#$ROOT\//}"
    "$VB" "${GATE[@]}" >"$OUT/gate.txt" 2>&1 || gate_rc=$?
    grep -E ' (vlap|sevila) k=|^cells:|^gate:|^verdict:|^compare:' "$OUT/gate.txt" >"$OUT/gate-lines.txt" || true
    sed 's/^/demo:   /' "$OUT/gate-lines.txt" >&2
    "$VB" demo gate --dir "$OUT" --lines "$OUT/gate-lines.txt" --status "$gate_rc" \
        --command "vlapbench ${GATE[*]/#$ROOT\//}" >>"$OUT/report.log" 2>&1 ||
        { tail "$OUT/report.log" >&2; die "demo gate failed"; }
fi
say "done in $(elapsed) s"
echo "The report is in $OUT/report.html (also report.md, report.tex; plots and results.db beside them)."
if [ "$gate_rc" != 0 ]; then
    say "regression gate FAILED (exit $gate_rc; $OUT/gate.txt): the VLAP runs differ from the baseline $BASELINE." \
        "If the models in models/demo/ were replaced on purpose, write a new baseline: VB_DEMO_WRITE_BASELINE=1 $0"
    exit 1
fi
