#!/usr/bin/env bash
# bench/grid.sh at tiny size (the golden tiny BLIP-2 / InstructBLIP method configs, 4 questions on 4 synthetic videos
# of 64 frames): the three runs complete, the table and the ratio lines are printed, and the grid ran exactly one ViT
# pass per distinct frame.  Known count: uniform_midbin over 64 frames gives the 32 SeViLA / VLAP candidates at the
# odd indices 1,3,..,63 and the uniform frames k=1,2,4,8 at even indices (32; 16,48; 8,..,56; 4,..,60), so every
# video needs 32 + 1 + 2 + 4 + 8 = 47 distinct frames: 188 for the grid, 128 for SeViLA alone.
set -u
. "$(dirname "$0")/lib.sh"
vb_models_setup
export VB_SHA256_CACHE=off
fail=0
die() { echo "FAIL: $*"; fail=1; }
out=$(VB_BIN=$VB_BIN bash "$VB_ROOT/bench/grid.sh" "$CFG_B" \
      "$CFG_I" --questions 4 --frames 64 --threads 1 --workdir "$tmp/w" \
      --tokenizer-dir "$TOK_T5" --tokenizer-dir "$TOK_BERT" 2>"$tmp/err"); rc=$?
echo "$out"
[ $rc -eq 0 ] || { cat "$tmp/err"; die "grid.sh exited $rc"; }
echo "$out" | grep -Eq "^ratio grid / sevila-k4 \(loop wall\): [0-9]+\.[0-9]{2} \(target <= 1\.5: (met|NOT met)\)$" \
  || die "no ratio line"
echo "$out" | grep -Eq "^ratio grid / sevila-k1 \(loop wall\): [0-9]+\.[0-9]{2} \(target <= 1\.5: (met|NOT met)\)$" \
  || die "no k=1 ratio line"
echo "$out" | grep -q "^grid: 9 cells, 0 error rows; distinct frames needed (union of the cells' candidates per video): 188; ViT frames computed: 188$" \
  || die "grid: expected 9 cells and 188 distinct frames = 188 ViT passes"
for r in sevila-k4 sevila-k1; do
  echo "$out" | grep -Eq "^$r +[0-9.]+ +[0-9.]+ +([0-9.]+|-) +128 +[0-9.]+$" \
    || die "$r: expected 128 ViT frames (32 x 4 videos)"
done
echo "$out" | grep -Eq "^grid +[0-9.]+ +[0-9.]+ +([0-9.]+|-) +188 +0\.[0-9]{2}$" || die "grid row"
# reuse: a second call finds the bundles and the dataset and reruns in fresh databases, 2 interleaved rounds
out2=$(VB_BIN=$VB_BIN bash "$VB_ROOT/bench/grid.sh" x y --questions 4 --frames 64 --threads 1 --workdir "$tmp/w" \
       --rounds 2 2>"$tmp/err2") || die "second call (reusing the work dir) failed"
echo "$out2"
echo "$out2" | grep -Eq "^ratio grid / sevila-k4 per round: [0-9.]+ [0-9.]+$" || die "--rounds 2: no per-round ratios"
[ "$(grep -c "run grid " "$tmp/err2")" = 2 ] || die "--rounds 2: grid not run twice"
grep -q "init-model\|synth:" "$tmp/err2" && die "second call rebuilt bundles or the dataset"
echo "$out2" | grep -q "ViT frames computed: 188$" || die "second call: grid not rerun in a fresh database"
[ $fail -eq 0 ] && echo "grid bench: ok"
exit $fail
