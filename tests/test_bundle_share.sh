#!/usr/bin/env bash
# Component sharing between the bundles of one run (vlap/bundle.h): a BLIP-2 + localizer bundle (SeViLA, uniform)
# and an InstructBLIP + Frame-Prompter bundle (VLAP k=4) made by init-model with the same --seed have byte-identical
# vision_model.* and language_model.* tensors, so the VLAP bundle borrows the ViT blocks and the T5.  Checks:
#   - the same seed shares ViT and T5 (stderr line, summary counts) and gives exactly the predictions, option scores
#     and picked frames of unshared runs (each bundle alone in its own process);
#   - another seed shares nothing;
#   - one byte changed in a ViT block tensor: the ViT is not shared (T5 still is), two vision groups are computed,
#     and the VLAP results equal the unshared run of that bundle;
#   - one byte changed in vision_model.post_layernorm (not part of the shared blocks): the ViT is still shared, the
#     VLAP results equal the unshared run of that bundle and differ from the unchanged bundle's (its own norm is used);
#   - the summary prints the peak RSS and the weights dtype, and every session stores its peak RSS.
set -u
. "$(dirname "$0")/lib.sh"
vb_models_setup
export VB_SHA256_CACHE=off
fail=0
die() { echo "FAIL: $*"; fail=1; }
q() { sqlite3 "$@"; }

"$VB_BIN" synth --out "$tmp/syn" --videos 3 --seed 4 --frames 40 --fps 10 --size 64x48 --questions 2 >/dev/null 2>&1 \
  || { echo "FAIL: synth"; exit 1; }
mk_vlap() { # seed out
  "$VB_BIN" init-model --config "$CFG_I" --method vlap --frames 4 --candidates 8 \
    --seed "$1" --out "$2" --tokenizer-dir "$TOK_T5" --tokenizer-dir "$TOK_BERT" >/dev/null \
    || { echo "FAIL: init-model vlap $2"; exit 1; }
}
"$VB_BIN" init-model --config "$CFG_B" --method sevila --seed 5 --out "$tmp/blip2" \
  --tokenizer-dir "$TOK_T5" >/dev/null || { echo "FAIL: init-model blip2"; exit 1; }
mk_vlap 5 "$tmp/vlap4"
mk_vlap 6 "$tmp/vlap4s6"

# flip one bit of byte `rel` of tensor `name` in a copy of a bundle
flip() { # src dst name rel
  cp -r "$1" "$2"
  local f=$2/model.safetensors hlen ent begin off b
  hlen=$(od -An -t u8 -N8 "$f" | tr -d ' ')
  ent=$(head -c $((8 + hlen)) "$f" | tail -c "$hlen" | grep -o "\"$3\":{[^}]*}")
  begin=$(printf '%s' "$ent" | sed -n 's/.*"data_offsets":\[\([0-9]*\),.*/\1/p')
  [ -n "$begin" ] || { echo "FAIL: tensor $3 not in $f"; exit 1; }
  off=$((8 + hlen + begin + $4))
  b=$(od -An -t u1 -j "$off" -N1 "$f" | tr -d ' ')
  printf "$(printf '\\%03o' $((b ^ 1)))" | dd of="$f" bs=1 seek="$off" conv=notrunc 2>/dev/null
  cmp -s "$1/model.safetensors" "$f" && { echo "FAIL: flip did not change $f"; exit 1; }
}
flip "$tmp/vlap4" "$tmp/vlap4blk" vision_model.encoder.layers.0.mlp.fc1.weight 0
flip "$tmp/vlap4" "$tmp/vlap4post" vision_model.post_layernorm.weight 3 # exponent bit: a large change

S=$tmp/syn/nextqa
base=(--dataset nextqa --annotations "$S/val.csv" --map "$S/map_vid_vidorID.json" --videos "$S/videos"
      --candidates 8 --threads 1 --warmup 0)
run() { # db err-file args...
  local db=$1 err=$2; shift 2
  "$VB_BIN" run "${base[@]}" --db "$db" "$@" 2>"$err"
}
grid() { # vlap-bundle db err
  run "$2" "$3" --method uniform="$tmp/blip2" --method sevila="$tmp/blip2" --method vlap@4="$1" \
    --method-frames vlap=4 --frames 1,2
}
# rows of one method in db a equal to those in db b (prediction, scores, picked, candidates), all ok
same_rows() { # a b method
  q "$1" "ATTACH '$2' AS o; SELECT COUNT(*) FROM samples s JOIN runs r ON r.id=s.run_id JOIN o.runs r2 ON
      r2.method=r.method AND r2.frames=r.frames JOIN o.samples s2 ON s2.run_id=r2.id AND s2.sample_key=s.sample_key
      WHERE r.method='$3' AND s.status='ok' AND s2.status='ok' AND s.prediction=s2.prediction AND
      s.option_scores=s2.option_scores AND s.picked=s2.picked AND s.candidates=s2.candidates"
}
n_rows() { q "$1" "SELECT COUNT(*) FROM samples s JOIN runs r ON r.id=s.run_id WHERE r.method='$2' AND s.status='ok'"; }

# --- 1. same seed: ViT and T5 shared; results = unshared runs
out=$(grid "$tmp/vlap4" "$tmp/g.db" "$tmp/g.err"); rc=$?
echo "$out"; cat "$tmp/g.err"
[ $rc -eq 0 ] || die "grid run exited $rc"
grep -q "bundle $tmp/vlap4: ViT and T5 shared with $tmp/blip2" "$tmp/g.err" || die "no 'ViT and T5 shared' line"
echo "$out" | grep -q "bundles 2, ViT shared by 1, T5 shared by 1" || die "summary: not 1 ViT + 1 T5 shared"
echo "$out" | grep -Eq "^memory: peak RSS [0-9]+\.[0-9]{2} GiB \(weights f32\)" || die "no peak RSS line"
[ "$(q "$tmp/g.db" "SELECT COUNT(*) FROM runs")" = 5 ] || die "expected 5 cells (uniform 1,2 sevila 1,2 vlap 4)"
[ "$(q "$tmp/g.db" "SELECT COUNT(*) FROM runs WHERE method='vlap' AND frames=4")" = 1 ] || die "vlap not at k=4 only"
[ "$(q "$tmp/g.db" "SELECT COUNT(*) FROM sessions WHERE peak_rss_kb > 1000")" = 5 ] || die "sessions without peak RSS"
[ "$(q "$tmp/g.db" "SELECT COUNT(*) FROM runs WHERE weights_dtype='f32'")" = 5 ] || die "runs.weights_dtype not f32"
# one vision group: distinct frames per video = uniform {20} + {10,30} + candidates midbin(8) = 11, 3 videos
echo "$out" | grep -q "ViT frames computed 33;" || die "shared ViT: expected 33 frames computed (one vision group)"
run "$tmp/u.db" /dev/null --method uniform="$tmp/blip2" --method sevila="$tmp/blip2" --frames 1,2 >/dev/null \
  || die "unshared blip2 run"
run "$tmp/v.db" /dev/null --method vlap="$tmp/vlap4" --frames 4 >/dev/null || die "unshared vlap run"
for m in uniform sevila; do
  [ "$(same_rows "$tmp/g.db" "$tmp/u.db" $m)" = 12 ] || die "$m: shared-run rows differ from the unshared run"
done
[ "$(n_rows "$tmp/g.db" vlap)" = 6 ] || die "vlap: expected 6 rows"
[ "$(same_rows "$tmp/g.db" "$tmp/v.db" vlap)" = 6 ] || die "vlap: shared-run rows differ from the unshared run"

# the same grid from a JSON file (methods[].frames) resumes every cell of the flag-made run
cat > "$tmp/grid.json" <<J
{"frames": [1, 2], "methods": [{"name": "uniform", "model": "blip2"}, {"name": "sevila", "model": "blip2"},
 {"name": "vlap", "models": {"4": "vlap4"}, "frames": [4]}]}
J
out=$(run "$tmp/g.db" /dev/null --config "$tmp/grid.json") || die "JSON grid run"
[ "$(echo "$out" | grep -Ec " yes$")" = 5 ] || die "JSON grid (methods[].frames) did not resume the 5 cells"
echo '{"methods": [{"name": "vlap", "models": {"4": "vlap4"}, "frames": []}]}' > "$tmp/bad.json"
run "$tmp/bad.db" /dev/null --config "$tmp/bad.json" >/dev/null && die "methods[].frames = [] accepted"
run "$tmp/bad.db" /dev/null --method vlap@4="$tmp/vlap4" --method-frames vlap=2 >/dev/null \
  && die "--method-frames vlap=2 without a k=2 bundle accepted"

# --- 2. another seed: nothing shared, two vision groups
out=$(grid "$tmp/vlap4s6" "$tmp/s6.db" "$tmp/s6.err") || die "seed-6 grid run"
grep -q "shared with" "$tmp/s6.err" && die "seed 6: something was shared"
echo "$out" | grep -q "bundles 2, ViT shared by 0, T5 shared by 0" || die "seed 6: summary counts"
echo "$out" | grep -q "ViT frames computed 57;" || die "seed 6: expected 33 + 24 frames computed (two groups)"

# --- 3. one byte of a ViT block changed: T5 shared, ViT not; VLAP results = its unshared run
out=$(grid "$tmp/vlap4blk" "$tmp/blk.db" "$tmp/blk.err") || die "block-changed grid run"
grep -q "bundle $tmp/vlap4blk: T5 shared with $tmp/blip2" "$tmp/blk.err" || die "changed block: T5 not shared"
echo "$out" | grep -q "bundles 2, ViT shared by 0, T5 shared by 1" || die "changed block: summary counts"
echo "$out" | grep -q "ViT frames computed 57;" || die "changed block: expected two vision groups (57 frames)"
run "$tmp/vblk.db" /dev/null --method vlap="$tmp/vlap4blk" --frames 4 >/dev/null || die "unshared vlap4blk run"
[ "$(same_rows "$tmp/blk.db" "$tmp/vblk.db" vlap)" = 6 ] || die "changed block: vlap rows differ from its unshared run"

# --- 4. post_layernorm changed: blocks still shared, the bundle's own norm used
out=$(grid "$tmp/vlap4post" "$tmp/post.db" "$tmp/post.err") || die "post-LN-changed grid run"
grep -q "bundle $tmp/vlap4post: ViT and T5 shared with" "$tmp/post.err" || die "changed post-LN: blocks not shared"
echo "$out" | grep -q "ViT frames computed 33;" || die "changed post-LN: expected one vision group (33 frames)"
run "$tmp/vpost.db" /dev/null --method vlap="$tmp/vlap4post" --frames 4 >/dev/null || die "unshared vlap4post run"
[ "$(same_rows "$tmp/post.db" "$tmp/vpost.db" vlap)" = 6 ] || die "changed post-LN: rows differ from its unshared run"
[ "$(same_rows "$tmp/post.db" "$tmp/v.db" vlap)" = 0 ] || die "changed post-LN: scores equal the unchanged bundle's"

# --- 5. answer --weights: the dtype named with the peak RSS; a bad dtype is a usage error
v=$(ls "$tmp"/syn/videos/*.mp4 | head -1)
out=$("$VB_BIN" answer --method sevila --model "$tmp/blip2" --video "$v" --question "what?" --options "a|b|c"       --frames 2 --candidates 4 --weights bf16 --threads 1) || die "answer --weights bf16"
echo "$out" | grep -Eq "^memory: peak RSS [0-9]+\.[0-9]{2} GiB \(weights bf16\)$" || die "answer: no peak RSS / dtype line"
"$VB_BIN" answer --method sevila --model "$tmp/blip2" --video "$v" --options "a|b" --weights f8 >/dev/null 2>&1
[ $? -eq 2 ] || die "answer --weights f8: expected exit 2"

[ $fail -eq 0 ] && echo "bundle sharing: ok"
exit $fail
