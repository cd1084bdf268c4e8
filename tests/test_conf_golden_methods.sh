#!/usr/bin/env bash
# Conformance (needs ../shared): check-golden --strict on the method-level goldens (uniform, SeViLA, VLAP end to end),
# read from $VB_SHARED/golden/methods (never copied into the repository: their cases quote dataset text), with the
# tokenizers committed in models/tokenizers/.  Every case must pass, including the as-released and
# localizer-reuse reruns, and a bundle with a wrong ln_vision eps must fail (the check can fail).
set -u
G=$VB_SHARED/golden/methods
: "${VB_ROOT:=$(cd "$(dirname "$0")/.." && pwd)}"
if [ ! -d "$G/methods-blip2" ] || [ ! -d "$G/methods-instructblip" ]; then
  echo "SKIP: $G absent (conformance data, only in ../shared)"; exit 77
fi
export VB_T5_TOKENIZER=$VB_ROOT/models/tokenizers/flan-t5/tokenizer.json
export VB_BERT_VOCAB=$VB_ROOT/models/tokenizers/bert-base-uncased/vocab.txt
fail=0
for d in methods-blip2 methods-instructblip; do
  out=$("$VB_BIN" check-golden --strict "$G/$d" 2>&1); rc=$?
  echo "$out" | grep -v ' ok$'
  [ $rc -eq 0 ] || { echo "FAIL: check-golden $d exit $rc"; fail=1; }
  # every case ran and compared its decisions
  for c in $(python3 -c "import json,sys; print(' '.join(json.load(open(sys.argv[1]))['cases']))" "$G/$d/cases.json" 2>/dev/null); do
    echo "$out" | grep -q "^$c $c.prediction 0 0 ok$" || { echo "FAIL: $d case $c: no passing prediction line"; fail=1; }
    echo "$out" | grep -q "^$c prediction(as-released) 0 0 ok$" || { echo "FAIL: $d case $c: as-released differs"; fail=1; }
  done
  n_ok=$(echo "$out" | grep -c ' ok$')
  [ "$n_ok" -ge 100 ] || { echo "FAIL: $d: only $n_ok comparisons"; fail=1; }
done
# negative control: the same bundle with ln_vision_eps 0.5 must not pass
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for f in model.safetensors cases.safetensors cases.json; do ln -s "$G/methods-blip2/$f" "$tmp/$f"; done
sed 's/"ln_vision_eps": 1e-05/"ln_vision_eps": 0.5/' "$G/methods-blip2/config.json" > "$tmp/config.json"
grep -q '"ln_vision_eps": 0.5' "$tmp/config.json" || { echo "FAIL: could not build the negative control"; exit 1; }
if "$VB_BIN" check-golden --strict --case uniform "$tmp" >"$tmp/neg.log" 2>&1; then
  echo "FAIL: a wrong ln_vision eps still passes"; fail=1
else
  grep -q 'vit_ln .* FAIL' "$tmp/neg.log" || { echo "FAIL: negative control failed for another reason:"; cat "$tmp/neg.log"; fail=1; }
fi
[ $fail -eq 0 ] && echo ok
exit $fail
