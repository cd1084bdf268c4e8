#!/usr/bin/env bash
# test_demo_fidelity.sh — the C engine on the trained demo models (models/demo/, written by tools/train-demo) must
# reproduce the trainer's PyTorch evaluation of the demo split (models/demo/fidelity-demo.tsv): on the first
# VB_FIDELITY_N samples of each dataset (default 10; all = 0), for uniform BLIP-2, SeViLA and VLAP at k = 1, 2, 4,
# identical picked frames and predictions and every option score within 2e-3 (absolute, or relative to its size).
# The PyTorch side ran the same frames (vlapbench demo export) with the bundles' bf16 weights in f32 arithmetic.
# Over all 100 samples per dataset (VB_FIDELITY_N=0: 3,600 rows) every pick and prediction is identical too: the
# event's two card frames differ (the second shows a smaller card) and the trainer ranks the first above the second
# (graded relevance), so no selector faces a float-rounding tie between them (the earlier models had 38 such rows).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VB=${VB_BIN:-$ROOT/build/vlapbench}
MOD=${VB_FIDELITY_MODELS:-$ROOT/models/demo}
EXP=$MOD/fidelity-demo.tsv
N=${VB_FIDELITY_N:-10}
[ -x "$VB" ] || { echo "SKIP: $VB not built"; exit 77; }
[ -f "$EXP" ] || { echo "FAIL: $EXP missing (tools/train-demo writes it)"; exit 1; }
command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 not installed"; exit 77; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# the demo split, exactly as the trainer and scripts/demo.sh make it (the stamp in the TSV's manifest)
read -r videos questions seed < <(sed -n 's/^# split: videos=\([0-9]*\) questions=\([0-9]*\) seed=\([0-9]*\).*/\1 \2 \3/p' "$EXP")
[ -n "${seed:-}" ] || { echo "FAIL: $EXP has no '# split:' line"; exit 1; }
times=$(sed -n 's/^# split: .* event_times=\([a-z]*\).*/\1/p' "$EXP") # absent: iid (the synth default)
"$VB" synth --task event --out "$TMP/data" --videos "$videos" --questions "$questions" --seed "$seed" \
    --event-times "${times:-iid}" 2>/dev/null
lim=()
[ "$N" -gt 0 ] && lim=(--limit "$N")
run() { # dataset annotations map videos T
    local map=()
    [ -n "$3" ] && map=(--map "$TMP/data/$3")
    "$VB" run --dataset "$1" --annotations "$TMP/data/$2" "${map[@]}" --videos "$TMP/data/$4" \
        --method uniform="$MOD/uniform" --method sevila="$MOD/sevila" \
        --method "vlap@1=$MOD/vlap-k1-T$5" --method "vlap@2=$MOD/vlap-k2-T$5" --method "vlap@4=$MOD/vlap-k4-T$5" \
        --frames 1,2,4 --warmup 0 --threads 1 --quiet --db "$TMP/r.db" "${lim[@]}" >"$TMP/run-$1.log" 2>&1 ||
        { cat "$TMP/run-$1.log"; echo "FAIL: vlapbench run $1"; exit 1; }
}
run nextqa nextqa/val.csv nextqa/map_vid_vidorID.json nextqa/videos 32
run star star/STAR_val.json "" star/videos 32
run vlep vlep/vlep_dev_release.jsonl "" vlep/videos 32
run how2qa-value how2qa/how2qa_val_release.jsonl how2qa/how2_vid_mapping.json how2qa/videos 8
# C rows as "dataset key method k picked prediction scores" (JSON arrays flattened to comma lists)
sqlite3 -separator $'\t' "$TMP/r.db" \
    "SELECT CASE r.dataset WHEN 'how2qa' THEN 'how2qa-value' ELSE r.dataset END, s.sample_key, r.method, r.frames,
            s.picked, s.prediction, s.option_scores FROM samples s JOIN runs r ON r.id = s.run_id
     WHERE s.status = 'ok' ORDER BY 1, 2, 3, 4" | tr -d '[] ' >"$TMP/c.tsv"
n_c=$(wc -l <"$TMP/c.tsv")
[ "$n_c" -gt 0 ] || { echo "FAIL: the C runs stored no rows"; exit 1; }
awk -F'\t' -v tol=2e-3 '
    function abs(x) { return x < 0 ? -x : x }
    FNR == NR { if ($0 !~ /^#/) { k = $1 SUBSEP $2 SUBSEP $3 SUBSEP $4; pk[k] = $5; pr[k] = $6; sc[k] = $7 } next }
    { k = $1 SUBSEP $2 SUBSEP $3 SUBSEP $4
      if (!(k in pk)) { printf "FAIL: %s %s %s k=%s not in the PyTorch evaluation\n", $1, $2, $3, $4; bad++; next }
      n++
      if ($5 != pk[k]) { printf "FAIL: %s %s %s k=%s picked C %s, PyTorch %s\n", $1, $2, $3, $4, $5, pk[k]; bad++ }
      if ($6 != pr[k]) { printf "FAIL: %s %s %s k=%s prediction C %s, PyTorch %s\n", $1, $2, $3, $4, $6, pr[k]; bad++ }
      m = split($7, a, ","); m2 = split(sc[k], b, ",")
      if (m != m2) { printf "FAIL: %s %s %s k=%s %d scores, PyTorch %d\n", $1, $2, $3, $4, m, m2; bad++ }
      for (i = 1; i <= m; i++) { d = abs(a[i] - b[i]); if (d > worst) worst = d
          if (d > tol * (1 + abs(b[i]))) { printf "FAIL: %s %s %s k=%s score %d: C %s, PyTorch %s\n", $1, $2, $3, $4, i, a[i], b[i]; bad++ } } }
    END { printf "fidelity: %d rows compared (C engine vs PyTorch), largest score difference %.2e, %d mismatches\n", n, worst, bad
          exit (bad > 0 || n == 0) }' "$EXP" "$TMP/c.tsv"
