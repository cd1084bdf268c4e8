#!/usr/bin/env bash
# The vision half against the Hugging Face transformers 4.35.2 references: `check-golden --case C` for the cases
# vision, qformer, projection of the sets tiny, odd, instruct-tiny and prompter, gumbel of frame-prompter.  Every
# compared tensor must print "ok", each case must compare at least the expected tensors, and no line may say FAIL
# or SKIP.  Data: $VB_SHARED/golden/<set>, else tests/golden/<set> (the random-weight copies in the repository), so
# this test does not skip in a clean clone.
set -u
: "${VB_BIN:?VB_BIN not set}"
: "${VB_ROOT:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${VB_SHARED:=$VB_ROOT/../shared}"
status=0
ran=0
# minimum number of "ok" lines per case (tensors compared), by set
want_lines() {
  case "$1:$2" in
    tiny:vision|instruct-tiny:vision) echo 5 ;;          # embeddings, 2 layers, last_hidden_state, pooler
    odd:vision) echo 6 ;;                                # 3 layers
    tiny:qformer) echo 5 ;;                              # query_tokens, embeddings, 2 layers, last_hidden_state
    odd:qformer) echo 6 ;;
    instruct-tiny:qformer) echo 6 ;;                     # + query_output
    *:projection) echo 1 ;;
    frame-prompter:prompter) echo 10 ;;
    frame-prompter:gumbel) echo 6 ;;
  esac
}
for set in tiny odd instruct-tiny frame-prompter; do
  dir=""
  for cand in "$VB_SHARED/golden/$set" "$VB_ROOT/tests/golden/$set"; do
    if [ -f "$cand/cases.json" ] && [ -f "$cand/model.safetensors" ]; then dir=$cand; break; fi
  done
  if [ -z "$dir" ]; then
    echo "missing golden set $set (neither \$VB_SHARED/golden/$set nor tests/golden/$set)"
    status=1
    continue
  fi
  ran=$((ran+1))
  case $set in
    frame-prompter) cases="prompter gumbel" ;;
    *) cases="vision qformer projection" ;;
  esac
  for c in $cases; do
    out=$("$VB_BIN" check-golden --strict --case "$c" "$dir" 2>&1)
    rc=$?
    echo "$out"
    [ $rc -eq 0 ] || { echo "$set/$c: check-golden exit $rc"; status=1; }
    echo "$out" | grep -v "^#" | grep -Eq " (FAIL|SKIP)( |$)" && { echo "$set/$c: FAIL or SKIP lines"; status=1; }
    n_ok=$(echo "$out" | grep -c "^$c .* ok$")
    n_all=$(echo "$out" | grep -vc "^#")
    [ "$n_ok" -eq "$n_all" ] || { echo "$set/$c: $n_ok of $n_all lines ok"; status=1; }
    [ "$n_ok" -ge "$(want_lines $set $c)" ] || { echo "$set/$c: only $n_ok tensors compared"; status=1; }
  done
done
if [ $ran -eq 0 ]; then echo "SKIP: no golden sets found"; exit 77; fi
[ $status -eq 0 ] && echo "all vision golden cases ok"
exit $status
