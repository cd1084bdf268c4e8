#!/usr/bin/env bash
# The CUDA backend at the command line, on any machine: `version` says whether the backend is built and which GPU
# it sees (or why none: "none (REASON)"); `--device` on check-golden and bench-engine accepts cpu (check-golden
# --device cpu on the repository's tiny golden set passes as without the flag), refuses other values (exit 2), and
# `--device cuda` fails clearly (exit 1): "CUDA backend not built" / "no CUDA GPU visible: REASON" without a GPU, and
# "not yet wired" with one (the model path is not wired to the device yet: docs/cuda.md).
set -u
: "${VB_BIN:?VB_BIN not set}"
root=${VB_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
fail() { echo "FAIL: $*"; exit 1; }

out=$("$VB_BIN" version) || fail "version exited $?"
echo "$out" | tail -n 2
be=$(echo "$out" | grep '^cuda_backend: ') || fail "no cuda_backend line"
gpu=$(echo "$out" | grep '^cuda_gpu: ') || fail "no cuda_gpu line"
case "$be" in
  "cuda_backend: built (CUDA runtime "*) built=1 ;;
  "cuda_backend: not built"*) built=0 ;;
  *) fail "cuda_backend line malformed: $be" ;;
esac
if [[ "$gpu" == "cuda_gpu: none ("*")" ]]; then
  have_gpu=0
  [ $built = 1 ] && { [[ "$gpu" == *"no CUDA GPU visible"* || "$gpu" == *"no usable CUDA GPU"* ]] || fail "no reason: $gpu"; }
  [ $built = 0 ] && { [[ "$gpu" == *"CUDA backend not built"* ]] || fail "not-built reason missing: $gpu"; }
else
  have_gpu=1
  [ $built = 1 ] || fail "a GPU reported by a build without the backend: $gpu"
  echo "$gpu" | grep -Eq '^cuda_gpu: .+, sm_[0-9]+, [0-9]+ SMs, [0-9.]+ GiB, driver [0-9]+\.[0-9]+, CUDA runtime [0-9]+\.[0-9]+$' \
    || fail "cuda_gpu line malformed: $gpu"
fi

tiny=$root/tests/golden/tiny
# --device cpu: the same as without the flag
a=$("$VB_BIN" check-golden --case vision "$tiny") || fail "check-golden (no --device) exited $?"
b=$("$VB_BIN" check-golden --device cpu --case vision "$tiny") || fail "check-golden --device cpu exited $?"
[ "$a" = "$b" ] || fail "--device cpu changed check-golden's output"
echo "$b" | grep -q ' ok$' || fail "check-golden --device cpu compared nothing"

for cmd in "check-golden --case vision $tiny" "bench-engine --config $root/configs/demo-blip2.json --layers 1 --reps 1"; do
  name=${cmd%% *}
  err=$("$VB_BIN" $cmd --device gpu 2>&1); rc=$?
  [ $rc = 2 ] || fail "$name --device gpu: exit $rc, want 2"
  echo "$err" | grep -q "expected cpu or cuda" || fail "$name --device gpu: message: $err"
  err=$("$VB_BIN" $cmd --device cuda 2>&1); rc=$?
  echo "$name --device cuda -> exit $rc: $err"
  [ $rc = 1 ] || fail "$name --device cuda: exit $rc, want 1"
  if [ $built = 0 ]; then want="$name: --device cuda: CUDA backend not built"
  elif [ $have_gpu = 0 ]; then want="$name: --device cuda: no "
  else want="$name: --device cuda: the CUDA model path is not yet wired"; fi
  [[ "$err" == "$want"* ]] || fail "$name --device cuda: want '$want...', got: $err"
done
echo "ok: version reports the CUDA backend (built $built, GPU $have_gpu); --device cpu|cuda parsed on check-golden and bench-engine"
