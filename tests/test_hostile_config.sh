#!/usr/bin/env bash
# Hostile config.json values in a model bundle (issue 17): absurd sizes (1e9 layers of the ViT / Q-Former / T5,
# T5 d_ff 1e9, Q-Former encoder_hidden_size / hidden_size 1e9, a huge image_size), sizes whose product overflows
# (T5 num_heads x d_kv, grid^2) and in-range sizes that disagree with the tensors are `exit 1` with the file and the
# field (or the tensor) named; never an abort, a sanitizer report or an allocation sized from the config before the
# tensor shapes are checked (the in-range cases run under `ulimit -v` 4 GiB in a plain build, where the old code
# allocated the config's matrices first).  Self-contained: the bundle is `init-model` on configs/demo-blip2.json
# with a small SentencePiece tokenizer trained here, the video comes from `vlapbench synth`.
set -u
command -v python3 >/dev/null || { echo "SKIP: python3 absent (edits config.json)"; exit 77; }
VB=$VB_BIN
ROOT=${VB_ROOT:-$PWD}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
die() { echo "FAIL: $*"; fail=1; }

# ---- a bundle and a video
"$VB" synth --out "$tmp/syn" --videos 1 --questions 1 --frames 20 --fps 10 --size 64x48 >/dev/null 2>&1 ||
  { echo "FAIL: synth"; exit 1; }
. "$(dirname "$0")/lib_tok.sh"
vb_tiny_tokenizer "$tmp"
"$VB" init-model --config "$ROOT/configs/demo-blip2.json" --method uniform --seed 3 --out "$tmp/good" \
  --tokenizer-dir "$tmp" >/dev/null || { echo "FAIL: init-model"; exit 1; }
answer() { # bundle dir
  "$VB" answer --method uniform --model "$1" --video "$tmp/syn/videos/synth_000.mp4" --question "what is it" \
    --options 'A|B|C' --frames 2
}
answer "$tmp/good" > "$tmp/good.out" 2>&1 || { cat "$tmp/good.out"; echo "FAIL: the unedited bundle does not answer"; exit 1; }

# ---- case NAME 'python edit of the dict c' NEEDLE... : a copy of the bundle with the edited config.json must exit 1
#      with a message naming config.json and every needle
n=0
case_() {
  local name=$1 edit=$2; shift 2
  n=$((n+1))
  local d=$tmp/b$n
  mkdir -p "$d"
  ln -s "$tmp/good/model.safetensors" "$d/model.safetensors"
  cp "$tmp/good/tokenizer.json" "$d/"
  python3 - "$tmp/good/config.json" "$d/config.json" "$edit" <<'PY' || { die "$name: python edit"; return; }
import json, sys
c = json.load(open(sys.argv[1]))
exec(sys.argv[3])
json.dump(c, open(sys.argv[2], "w"), indent=1)
PY
  local out rc
  if [ -z "${VB_SANITIZED:-}" ]; then
    out=$( (ulimit -v 4194304; answer "$d") 2>&1); rc=$?
  else
    out=$(answer "$d" 2>&1); rc=$?
  fi
  local bad=0
  if [ $rc -ne 1 ]; then die "$name: exit $rc, expected 1: $(echo "$out" | tail -3)"; return; fi
  echo "$out" | grep -q "$d/config.json\|$d/model.safetensors" || { die "$name: no file named in: $out"; bad=1; }
  for s in "$@"; do
    echo "$out" | grep -qF -- "$s" || { die "$name: message lacks '$s': $out"; bad=1; }
  done
  echo "$out" | grep -q "VB_ASSERT\|runtime error\|AddressSanitizer\|out of memory" && { die "$name: $out"; bad=1; }
  [ $bad -eq 0 ] && echo "ok   $name: $(echo "$out" | tail -1 | cut -c1-200)"
}

# the reproducers of the issue (each used to abort with exit 134)
case_ "vision layers 1e9" 'c["vision_config"]["num_hidden_layers"] = 1000000000' \
  "config.json" "vision_config.num_hidden_layers" "out of range"
case_ "qformer layers 1e9" 'c["qformer_config"]["num_hidden_layers"] = 1000000000' \
  "config.json" "qformer_config.num_hidden_layers" "out of range"
case_ "t5 layers 1e9" 'c["text_config"]["num_layers"] = 1000000000' "config.json" "text_config.num_layers"
case_ "t5 decoder layers 1e9" 'c["text_config"]["num_decoder_layers"] = 1000000000' \
  "config.json" "text_config.num_decoder_layers"
case_ "t5 d_ff 1e9" 'c["text_config"]["d_ff"] = 1000000000' "config.json" "text_config.d_ff" "out of range"
case_ "qformer encoder_hidden_size 1e9" 'c["qformer_config"]["encoder_hidden_size"] = 1000000000' \
  "config.json" "qformer_config.encoder_hidden_size"
case_ "qformer hidden_size 1e9" 'c["qformer_config"]["hidden_size"] = 1000000000' \
  "config.json" "qformer_config.hidden_size"
case_ "image_size 1e9" 'c["vision_config"]["image_size"] = 1000000000' "config.json" "vision_config.image_size"
# products: grid^2 and heads x d_kv (signed overflow before), each factor in range
case_ "grid^2" 'c["vision_config"]["image_size"] = 8192; c["vision_config"]["patch_size"] = 1' \
  "config.json" "vision_config.image_size 8192 / patch_size 1" "67108864 patches"
case_ "heads x d_kv" 'c["text_config"]["num_heads"] = 4096; c["text_config"]["d_kv"] = 65536' \
  "config.json" "text_config: num_heads 4096 x d_kv 65536"
case_ "frame_prompter segments 1e20" 'c["methods_bundle"]["frame_prompter"] = {"segments": 1e20}' \
  "config.json" "methods_bundle.frame_prompter.segments"
case_ "ln_vision_eps inf-like" 'c["methods_bundle"]["ln_vision_eps"] = 5.0' "config.json" "methods_bundle.ln_vision_eps"
# cross-checks and other bad values
case_ "encoder_hidden != vision hidden" 'c["qformer_config"]["encoder_hidden_size"] = 1408' \
  "config.json" "qformer_config.encoder_hidden_size 1408 differs from vision_config.hidden_size 64"
case_ "eos id >= vocab" 'c["text_config"]["eos_token_id"] = 512' "config.json" "text_config.eos_token_id 512"
case_ "fractional layers" 'c["vision_config"]["num_hidden_layers"] = 2.5' "vision_config.num_hidden_layers"
case_ "zero heads" 'c["text_config"]["num_heads"] = 0' "text_config.num_heads"
case_ "negative eps" 'c["vision_config"]["layer_norm_eps"] = -1e-6' "vision_config.layer_norm_eps"
case_ "NaN eps (not JSON)" 'c["text_config"]["layer_norm_epsilon"] = float("nan")' "config.json" "not a JSON object"
# in range, but the tensors say otherwise: the shapes are checked before anything is allocated from the config
# (before: T5 d_ff 1048576 allocated 2 x 1048576 x 64 floats for the gated wi first; Q-Former hidden 65536 its
# fused q|k|v, 3 x 65536^2 floats = 48 GiB)
case_ "t5 d_ff in range, not the file's" 'c["text_config"]["d_ff"] = 1048576' \
  "model.safetensors" "wi_0.weight" "[1048576, 64]"
case_ "qformer hidden in range, not the file's" \
  'c["qformer_config"]["hidden_size"] = 65536; c["qformer_config"]["intermediate_size"] = 262144' \
  "model.safetensors" "'query_tokens'" "[1, 32, 65536]"
case_ "vision layers in range, not the file's" 'c["vision_config"]["num_hidden_layers"] = 1024' \
  "model.safetensors" "missing tensor" "encoder.layers.2."
case_ "t5 layers in range, not the file's" 'c["text_config"]["num_layers"] = 1024' \
  "model.safetensors" "missing tensor" "encoder.block.2."
case_ "vision width in range, not the file's" \
  'c["vision_config"]["hidden_size"] = 65536; c["vision_config"]["intermediate_size"] = 262144; c["qformer_config"]["encoder_hidden_size"] = 65536' \
  "model.safetensors" "vision_model." "65536"
[ $fail -eq 0 ] && echo "all $n hostile configs: exit 1 with the file and field named"
exit $fail
