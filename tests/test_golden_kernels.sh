#!/usr/bin/env bash
# Every engine GEMM kernel against the golden references: tests/test_golden_vision.sh and test_golden_t5.sh (and
# test_conf_golden_methods.sh for avx2, the AVX2-only machines' kernel; the default kernel runs it in its own test) with
# VB_WMAT_KERNEL forcing portable, avx2 and avx512 in turn: every check stays within its f32 tolerance with each.
# A kernel this CPU lacks prints "SKIP: kernel K: no FEATURE" (the others still run).  Then --compute bf16 with the
# kernels avx512bf16 and amx: check-golden on the tiny set must compare every tensor the f32 run compares, each within 15 % of
# max(1, max|reference|) (bf16 rounding of the activations; docs/performance.md lists the deviations), and on a CPU
# without AVX512_BF16 the flag must be refused naming the feature.
set -u
: "${VB_BIN:?VB_BIN not set}"
: "${VB_ROOT:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${VB_SHARED:=$VB_ROOT/../shared}"
export VB_BIN VB_ROOT VB_SHARED
status=0
feature() {
  case $1 in avx2) echo "AVX2+FMA+F16C" ;; avx512) echo "AVX512F/BW/VL/DQ" ;; avx512bf16) echo "AVX512_BF16" ;;
    amx) echo "AMX-BF16" ;; esac
}
for k in portable avx2 avx512; do
  got=$(VB_WMAT_KERNEL=$k "$VB_BIN" version 2>/dev/null | sed -n 's/^wmat_kernel: \([a-z0-9]*\).*/\1/p')
  if [ "$got" != "$k" ]; then
    echo "SKIP: kernel $k: no $(feature $k) on this CPU (version reports wmat_kernel $got)"
    continue
  fi
  tests="golden_vision golden_t5"
  # the method-level goldens are conformance data (../shared): tests/test_conf_golden_methods.sh exits 77 without it
  [ $k = avx2 ] && tests="golden_vision golden_t5 conf_golden_methods"
  for t in $tests; do
    if VB_WMAT_KERNEL=$k bash "$VB_ROOT/tests/test_$t.sh" >"${TMPDIR:-/tmp}/vb_golden_kern.$$" 2>&1; then
      echo "kernel $k: test_$t ok"
    else
      rc=$?
      if [ $rc = 77 ]; then echo "note: kernel $k: test_$t not run: $(grep -m1 -i skip "${TMPDIR:-/tmp}/vb_golden_kern.$$")"
      else echo "FAIL: kernel $k: test_$t (exit $rc):"; tail -n 20 "${TMPDIR:-/tmp}/vb_golden_kern.$$"; status=1; fi
    fi
  done
done
rm -f "${TMPDIR:-/tmp}/vb_golden_kern.$$"
# bf16 compute on the tiny set
dir=""
for cand in "$VB_SHARED/golden/tiny" "$VB_ROOT/tests/golden/tiny"; do
  [ -f "$cand/cases.json" ] && { dir=$cand; break; }
done
if [ -z "$dir" ]; then echo "FAIL: no tiny golden set"; exit 1; fi
got=$("$VB_BIN" version | sed -n 's/^compute_bf16: //p')
case $got in
  available*)
    f32=$("$VB_BIN" check-golden "$dir" | grep -c ' ok$')
    for k in avx512bf16 amx; do
      kk=$(VB_WMAT_KERNEL=$k "$VB_BIN" version 2>/dev/null | sed -n 's/^wmat_kernel: \([a-z0-9]*\).*/\1/p')
      # VB_WMAT_KERNEL=amx is reported as amx only where the CPU has it
      if [ "$kk" != "$k" ]; then echo "SKIP: bf16 compute kernel $k: no $(feature $k) on this CPU"; continue; fi
      out=$(VB_WMAT_KERNEL=$k "$VB_BIN" check-golden --compute bf16 "$dir")
      n=$(echo "$out" | grep -c -E ' (ok|FAIL)( |$)')
      [ "$n" -ge "$f32" ] && [ "$f32" -gt 10 ] || { echo "FAIL: $k: bf16 compute compared $n tensors, f32 $f32"; status=1; }
      # column 3: max abs error, column 4: tolerance = 1e-4 * max(1, max|ref|)
      bad=$(echo "$out" | awk '!/^#/ && $4 > 0 && ($3 + 0) > 0.15 * ($4 / 1e-4) {print}')
      [ -z "$bad" ] || { echo "FAIL: $k: bf16 compute beyond 15 % of max|ref|:"; echo "$bad"; status=1; }
      worst=$(echo "$out" | awk '!/^#/ && $4 > 0 {r = $3 / ($4 / 1e-4); if (r > m) {m = r; w = $2}} END {printf "%.4f (%s)", m, w}')
      echo "bf16 compute, kernel $k: $n tensors compared, largest deviation / max(1, max|ref|) = $worst"
    done ;;
  *)
    if "$VB_BIN" check-golden --compute bf16 "$dir" >/dev/null 2>"${TMPDIR:-/tmp}/vb_bf16.$$"; then
      echo "FAIL: --compute bf16 accepted on a CPU without AVX512_BF16"; status=1
    else
      grep -q AVX512_BF16 "${TMPDIR:-/tmp}/vb_bf16.$$" || { echo "FAIL: refusal does not name AVX512_BF16"; status=1; }
      echo "SKIP: bf16 compute: no AVX512_BF16 on this CPU (refused as expected)"
    fi
    rm -f "${TMPDIR:-/tmp}/vb_bf16.$$" ;;
esac
[ $status = 0 ] && echo ok
exit $status
