#!/usr/bin/env bash
# Bundles by name (issue 18):
#   - a directory holding only pytorch_model.bin (an HF download) is refused with a message that says how to convert
#     it (tools/convert-lavis, or save_pretrained with safetensors), not "model.safetensors: cannot open"; the same
#     for a sharded pytorch_model.bin.index.json;
#   - runs.checkpoint records the checkpoint's name beside the hashes: the bundle directory's basename and the
#     config's _name_or_path when present (null otherwise).
set -u
. "$(dirname "$0")/lib.sh"
vb_models_setup
command -v jq >/dev/null || { echo "SKIP: jq absent (edits config.json)"; exit 77; }
export VB_SHA256_CACHE=off
fail=0
die() { echo "FAIL: $*"; fail=1; }
q() { sqlite3 "$@"; }

"$VB_BIN" synth --out "$tmp/syn" --videos 1 --seed 2 --frames 40 --fps 10 --size 64x48 --questions 2 >/dev/null 2>&1 \
  || { echo "FAIL: synth"; exit 1; }
"$VB_BIN" init-model --config "$CFG_B" --method sevila --seed 5 --out "$tmp/blip2-x" --tokenizer-dir "$TOK_T5" \
  >/dev/null || { echo "FAIL: init-model"; exit 1; }
S=$tmp/syn/nextqa
run() { "$VB_BIN" run --dataset nextqa --annotations "$S/val.csv" --map "$S/map_vid_vidorID.json" --videos "$S/videos" \
        --frames 1 --threads 1 --warmup 0 --quiet "$@"; }

# --- pytorch_model.bin only
cp -r "$tmp/blip2-x" "$tmp/hf"
mv "$tmp/hf/model.safetensors" "$tmp/hf/pytorch_model.bin"
run --method uniform="$tmp/hf" --db "$tmp/a.db" >/dev/null 2>"$tmp/err"; rc=$?
[ $rc = 1 ] || die "pytorch_model.bin bundle: exit $rc, want 1"
grep -q "pytorch_model.bin (PyTorch pickle) but no model.safetensors" "$tmp/err" || die "message: $(cat "$tmp/err")"
grep -qF "tools/convert-lavis" "$tmp/err" || die "message does not say how to convert: $(cat "$tmp/err")"
grep -q "cannot open" "$tmp/err" && die "message is the bare 'cannot open': $(cat "$tmp/err")"
head -c 300 "$tmp/err"; echo
mv "$tmp/hf/pytorch_model.bin" "$tmp/hf/pytorch_model-00001-of-00001.bin"
echo '{"weight_map": {}}' > "$tmp/hf/pytorch_model.bin.index.json"
run --method uniform="$tmp/hf" --db "$tmp/a.db" >/dev/null 2>"$tmp/err" && die "sharded .bin bundle accepted"
grep -q "pytorch_model.bin.index.json (PyTorch pickle)" "$tmp/err" || die "sharded message: $(cat "$tmp/err")"

# --- checkpoint names
cp -r "$tmp/blip2-x" "$tmp/named"
jq '. + {"_name_or_path": "Salesforce/blip2-flan-t5-xl"}' "$tmp/blip2-x/config.json" > "$tmp/named/config.json"
run --method uniform="$tmp/blip2-x" --method sevila="$tmp/named" --db "$tmp/n.db" >/dev/null || die "run"
got=$(q "$tmp/n.db" "SELECT method, checkpoint FROM runs ORDER BY method")
want='sevila|{"dir":"named","name_or_path":"Salesforce/blip2-flan-t5-xl"}
uniform|{"dir":"blip2-x","name_or_path":null}'
[ "$got" = "$want" ] || die "runs.checkpoint: got $got"
q "$tmp/n.db" "SELECT COUNT(*) FROM runs WHERE json_extract(weights, '\$.weights') IS NOT NULL" | grep -qx 2 \
  || die "hashes no longer in runs.weights"
"$VB_BIN" runs --db "$tmp/n.db" --long | grep -qF 'checkpoint {"dir":"named","name_or_path":"Salesforce/blip2-flan-t5-xl"}' \
  || die "runs --long does not show the checkpoint"
[ $fail = 0 ] && echo PASS
exit $fail
