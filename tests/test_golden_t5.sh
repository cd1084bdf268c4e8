#!/usr/bin/env bash
# check-golden --strict on the BLIP-2 sets tiny, odd and the InstructBLIP set instruct-tiny: every case (vision,
# qformer, projection, T5 encoder / decoder / long / prefixed / buckets, generate, generate_eos, image, video) must
# run and match the Hugging Face references; any FAIL or SKIP fails this test.
# Data: $VB_SHARED/golden/<set>, else tests/golden/<set> (random-weight copies in the repository).
set -u
: "${VB_BIN:?VB_BIN not set}"
: "${VB_ROOT:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${VB_SHARED:=$VB_ROOT/../shared}"
status=0
ran=0
for set in tiny odd instruct-tiny; do
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
  out=$("$VB_BIN" check-golden --strict "$dir" 2>&1)
  rc=$?
  echo "$out"
  if [ $rc -ne 0 ]; then echo "check-golden --strict $dir: exit $rc"; status=1; continue; fi
  # belt and braces: the summary line must say 0 FAIL, 0 SKIP and the T5 / pipeline cases must have been compared
  echo "$out" | grep -q "^# .*: [1-9][0-9]* ok, 0 FAIL, 0 SKIP$" || { echo "$set: bad summary line"; status=1; }
  echo "$out" | grep -v "^#" | grep -Eq " (FAIL|SKIP)( |$)" && { echo "$set: FAIL/SKIP lines"; status=1; }
  case $set in
    instruct-tiny) want="image video" ;;
    *) want="t5_encoder t5_decoder t5_encoder_prefixed generate generate_eos t5_long t5_long_dec buckets" ;;
  esac
  for c in $want; do
    echo "$out" | grep -q "^$c .* ok$" || { echo "$set: case $c compared nothing"; status=1; }
  done
done
if [ $ran -eq 0 ]; then echo "SKIP: no golden sets found"; exit 77; fi
exit $status
