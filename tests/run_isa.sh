#!/usr/bin/env bash
# make test-isa: the whole suite (tests/run.sh) once more for each CPU class this machine can stand in for, with
# VB_CPU_DISABLE (engine/cpu.h) taking the newer instruction sets away from the engine and from OpenBLAS:
#   no-amx   VB_CPU_DISABLE=amx, where the CPU has AMX-BF16: an AVX-512 + AVX512_BF16 CPU without AMX (AMD Zen 4 /
#            Zen 5): bf16 compute on vdpbf16ps (the avx512bf16 set), the avx512 f32 kernels, OpenBLAS SkylakeX;
#   avx2     VB_CPU_DISABLE=avx512, where the CPU has AVX-512: an AVX2-only CPU (AMD Zen 3): the avx2 kernels, the
#            blas attention, no bf16 compute, OpenBLAS Haswell.
# OPENBLAS_CORETYPE is set to the core vlapbench picks for the class (its cpu_best_core under the mask), so the test
# programs, which do not re-execute themselves as vlapbench does, run that core too.  A class this CPU cannot stand in
# for is one visible SKIP line.  Logs: $VB_BUILD/test-logs-<class>/.  Exits 1 if any class had a failure.
set -u
cd "$(dirname "$0")/.."
: "${VB_BIN:=$PWD/build/vlapbench}"
: "${VB_BUILD:=$PWD/build}"
export VB_BIN VB_BUILD
unset OPENBLAS_CORETYPE VB_BLAS_REEXEC VB_CPU_DISABLE VB_WMAT_KERNEL VB_ATTN_KERNEL VB_WMAT_PORTABLE
ver=$("$VB_BIN" version) || { echo "vlapbench version failed"; exit 1; }
best=$(echo "$ver" | sed -n 's/^cpu_best_core: //p')
bf16=$(echo "$ver" | sed -n 's/^compute_bf16: //p')
rc=0; ran=0
run_class() { # name mask
  local name=$1 mask=$2 core
  core=$(VB_CPU_DISABLE=$mask "$VB_BIN" version | sed -n 's/^cpu_best_core: //p')
  echo "=== class $name: VB_CPU_DISABLE=$mask OPENBLAS_CORETYPE=$core"
  VB_CPU_DISABLE=$mask OPENBLAS_CORETYPE=$core VB_TEST_LOGS=$VB_BUILD/test-logs-$name bash tests/run.sh || rc=1
  ran=$((ran + 1))
  echo
}
case "$bf16" in
*"kernel amx"*) run_class no-amx amx ;;
*) echo "SKIP  class no-amx (Zen 4 / Zen 5): no AMX-BF16 on this CPU to take away (compute_bf16: $bf16)" ;;
esac
if [ "$best" = SkylakeX ]; then
  run_class avx2 avx512
else
  echo "SKIP  class avx2 (Zen 3): no AVX-512 F/BW/VL/DQ on this CPU to take away (cpu_best_core: $best)"
fi
echo "test-isa: $ran class(es) run; $([ $rc = 0 ] && echo 'all passed' || echo 'FAILURES above')"
exit $rc
