#!/usr/bin/env bash
# init-model: exact tensor layout of the method bundles, real-size parameter counts, determinism from the seed, and
# `answer` end to end on random bundles of all three methods (finite scores, identical predictions minimal vs
# as-released, Gumbel selection replays from its seed, clear errors for a bundle that lacks what a method needs).
set -u
. "$(dirname "$0")/lib.sh"
vb_models_setup
fail=0
die() { echo "FAIL: $*"; fail=1; }

# 1. real-size parameter counts (configs/real/params.json): BLIP-2 3,942,446,592; InstructBLIP
#    4,022,969,088 + Frame-Prompter 16,544 (32 frames, 257 tokens); SeViLA adds the localizer (106,739,968)
chk() { out=$("$VB_BIN" init-model --dry-run --config "$VB_ROOT/configs/real/$2" --method "$1"); echo "$out"
        echo "$out" | grep -q " $3 parameters" || die "$1 $2: expected $3 parameters"; }
chk uniform blip2-flan-t5-xl.config.json 3942446592
chk sevila blip2-flan-t5-xl.config.json 4049186560
chk vlap instructblip-flan-t5-xl.config.json 4022985632

# 2. layout = the golden bundles' (names and shapes of their state_dict_keys.txt, committed beside the tiny configs)
for m in sevila:tiny-blip2 vlap:tiny-instructblip; do
  meth=${m%%:*}; d=${m#*:}
  "$VB_BIN" init-model --config "$VB_ROOT/tests/configs/$d.json" --method "$meth" --seed 11 --out "$tmp/$meth" \
     --tokenizer-dir "$TOK_T5" --tokenizer-dir "$TOK_BERT" || die "init-model $meth"
  if command -v python3 >/dev/null; then
    python3 - "$tmp/$meth/model.safetensors" "$VB_ROOT/tests/configs/$d.state_dict_keys.txt" <<'PY' || die "layout $meth"
import json, struct, sys
b = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', b[:8])[0]; h = json.loads(b[8:8 + n]); h.pop('__metadata__', None)
mine = {k: v['shape'] for k, v in h.items()}
ref = {}
for l in open(sys.argv[2]):
    if 'not stored' in l: continue
    k, s = l.split(' ', 1); ref[k] = json.loads(s.strip())
bad = sorted(set(mine) ^ set(ref)) + [k for k in ref if k in mine and mine[k] != ref[k]]
print(len(mine), 'tensors;', 'differences:', bad[:10])
sys.exit(1 if bad else 0)
PY
  fi
done
[ -f "$tmp/vlap/vocab.txt" ] && [ -f "$tmp/vlap/tokenizer.json" ] || die "tokenizer files not copied"

# 3. deterministic from the seed
"$VB_BIN" init-model --config "$CFG_B" --method uniform --seed 11 --out "$tmp/u1" >/dev/null
"$VB_BIN" init-model --config "$CFG_B" --method uniform --seed 11 --out "$tmp/u2" >/dev/null
"$VB_BIN" init-model --config "$CFG_B" --method uniform --seed 12 --out "$tmp/u3" >/dev/null
cmp -s "$tmp/u1/model.safetensors" "$tmp/u2/model.safetensors" || die "same seed, different files"
cmp -s "$tmp/u1/model.safetensors" "$tmp/u3/model.safetensors" && die "different seeds, same file"
"$VB_BIN" init-model --config "$CFG_B" --method vlap --seed 1 --out "$tmp/x" 2>/dev/null \
  && die "vlap accepted a BLIP-2 config"

# 4. answer end to end on a synthetic video
if ! command -v ffmpeg >/dev/null; then echo "SKIP part: no ffmpeg for the answer checks"; [ $fail -eq 0 ] && echo ok; exit $fail; fi
ffmpeg -loglevel error -f lavfi -i testsrc=size=96x64:rate=10 -t 5 -pix_fmt yuv420p "$tmp/v.mp4" || die ffmpeg
Q=(--question "what is shown?" --options "a dog.|a cat.|a car.|a tree.|a boat.")
ans() { "$VB_BIN" answer --video "$tmp/v.mp4" "$@"; }
for spec in "uniform sevila" "sevila sevila" "vlap vlap"; do
  set -- $spec
  a=$(ans --method $1 --model "$tmp/$2" "${Q[@]}") || { die "answer $1"; continue; }
  b=$(ans --method $1 --model "$tmp/$2" "${Q[@]}" --decode as-released) || { die "answer $1 as-released"; continue; }
  echo "$a"
  echo "$a" | grep -q '^prediction: [0-4] ' || die "$1: no prediction"
  echo "$a$b" | grep -qiE 'nan|inf' && die "$1: non-finite numbers"
  [ "$(echo "$a" | grep '^prediction')" = "$(echo "$b" | grep '^prediction')" ] || die "$1: minimal and as-released differ"
  [ "$(echo "$a" | grep '^picked')" = "$(echo "$b" | grep '^picked')" ] || die "$1: picks differ between decode modes"
  echo "$a" | grep -q '^generated_tokens: 2$' || die "$1: minimal should run 2 decoder steps"
  echo "$b" | grep -qE '^generated_tokens: ([3-9]|[1-9][0-9]+)$' || die "$1: as-released generated too little"
  echo "$a" | grep -qE '^time_us: decode [0-9]+ preprocess [0-9]+ vit [1-9]' || die "$1: stage times missing"
done
# uniform_midbin over 50 frames: k = 4 -> 6 18 31 43
ans --method uniform --model "$tmp/sevila" "${Q[@]}" | grep -q '^picked (4): 6 18 31 43$' || die "uniform frames"
# Gumbel: the same seed replays, the pick is recorded
g1=$(ans --method vlap --model "$tmp/vlap" "${Q[@]}" --select gumbel --seed 7 | grep -E '^(picked|candidate_scores)')
g2=$(ans --method vlap --model "$tmp/vlap" "${Q[@]}" --select gumbel --seed 7 | grep -E '^(picked|candidate_scores)')
[ -n "$g1" ] && [ "$g1" = "$g2" ] || die "gumbel selection does not replay from its seed"
# VLEP prompts (no question, 2 options)
ans --method vlap --model "$tmp/vlap" --dataset vlep --options "He leaves. |She sits." | grep -q '^prediction' || die vlep
# errors: SeViLA on a bundle without localizer; a tokenizer without the letter pieces
out=$(ans --method sevila --model "$tmp/u1" --t5-tokenizer "$TOK_T5/tokenizer.json" "${Q[@]}" 2>&1) && die "sevila ran without localizer"
echo "$out" | grep -q 'localizer' || die "no clear message for a missing localizer: $out"
sed 's/^        "\xe2\x96\x81A",$/        "\xe2\x96\x81A_gone",/' "$TOK_T5/tokenizer.json" > "$tmp/tok-noA.json"
cmp -s "$tmp/tok-noA.json" "$TOK_T5/tokenizer.json" && die "could not build the tokenizer without ▁A"
out=$(ans --method uniform --model "$tmp/sevila" --t5-tokenizer "$tmp/tok-noA.json" "${Q[@]}" 2>&1) && die "accepted a vocabulary without ▁A"
echo "$out" | grep -q 'no piece' || die "unclear message for a missing letter piece: $out"
[ $fail -eq 0 ] && echo ok
exit $fail
