#!/usr/bin/env bash
# The CUDA backend at the command line, on any machine: `version` says whether the backend is built and which GPU
# it sees (or why none: "none (REASON)"); `--device` on check-golden and bench-engine accepts cpu (check-golden
# --device cpu on the repository's tiny golden set passes as without the flag), refuses other values (exit 2), and
# `--device cuda` fails clearly (exit 1) without a GPU: "CUDA backend not built" / "no CUDA GPU visible: REASON", on
# check-golden, bench-engine, run and answer (never a silent CPU run).  With a GPU: check-golden --device cuda on the
# tiny golden set passes (every tensor within the CPU's tolerance) and bench-engine --device cuda runs.
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
  echo "$name --device cuda -> exit $rc: $(echo "$err" | tail -n 1)"
  if [ $have_gpu = 1 ]; then
    [ $rc = 0 ] || fail "$name --device cuda on a GPU: exit $rc: $err"
    continue
  fi
  [ $rc = 1 ] || fail "$name --device cuda: exit $rc, want 1"
  if [ $built = 0 ]; then want="$name: --device cuda: CUDA backend not built"
  else want="$name: --device cuda: no "; fi
  [[ "$err" == "$want"* ]] || fail "$name --device cuda: want '$want...', got: $err"
done
if [ $have_gpu = 1 ]; then # the whole tiny set on the device, strict: nothing skipped, nothing failed
  out=$("$VB_BIN" check-golden --strict --device cuda "$tiny") || fail "check-golden --strict --device cuda: $out"
  echo "$out" | tail -n 1
fi

# run and answer: --device is parsed; cuda without a GPU stops before anything is loaded (exit 1, the reason)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
echo '{}' > "$tmp/ann.json"; mkdir -p "$tmp/videos"
err=$("$VB_BIN" run --dataset nextqa --annotations "$tmp/ann.json" --videos "$tmp/videos" --method uniform="$tmp" \
      --db "$tmp/r.db" --device gpu 2>&1); rc=$?
[ $rc = 2 ] || fail "run --device gpu: exit $rc, want 2: $err"
err=$("$VB_BIN" answer --method uniform --model "$tmp" --video "$tmp/v.mp4" --options 'a|b' --device gpu 2>&1); rc=$?
[ $rc = 2 ] || fail "answer --device gpu: exit $rc, want 2: $err"
if [ $have_gpu = 0 ]; then
  err=$("$VB_BIN" run --dataset nextqa --annotations "$tmp/ann.json" --videos "$tmp/videos" --method uniform="$tmp" \
        --db "$tmp/r.db" --device cuda 2>&1); rc=$?
  echo "run --device cuda -> exit $rc: $err"
  [ $rc = 1 ] || fail "run --device cuda: exit $rc, want 1"
  [[ "$err" == *"--device cuda: "*"$([ $built = 1 ] && echo "no " || echo "CUDA backend not built")"* ]] \
    || fail "run --device cuda: message: $err"
  [ ! -e "$tmp/r.db" ] || fail "run --device cuda created the database"
  err=$("$VB_BIN" answer --method uniform --model "$tmp" --video "$tmp/v.mp4" --options 'a|b' --device cuda 2>&1); rc=$?
  echo "answer --device cuda -> exit $rc: $err"
  [ $rc = 1 ] || fail "answer --device cuda: exit $rc, want 1"
  [[ "$err" == "answer: --device cuda: "* ]] || fail "answer --device cuda: message: $err"
fi
echo "ok: version reports the CUDA backend (built $built, GPU $have_gpu); --device cpu|cuda parsed on check-golden, bench-engine, run and answer"
