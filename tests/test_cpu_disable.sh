#!/usr/bin/env bash
# VB_CPU_DISABLE (engine/cpu.h) takes instruction sets away from the engine and from OpenBLAS, so one machine runs
# the code paths of the others: `version` names what is taken away and the kernels, BLAS core and bf16 compute that
# remain.  Each part runs where the CPU has the feature it takes away (else a visible SKIP line naming it).
set -eu
unset OPENBLAS_CORETYPE VB_BLAS_REEXEC VB_WMAT_KERNEL VB_ATTN_KERNEL VB_WMAT_PORTABLE VB_CPU_DISABLE
ver() { VB_CPU_DISABLE="$1" "$VB_BIN" version 2>&1; }
field() { sed -n "s/^$1: //p"; }
base=$(ver "")
echo "$base"
echo "$base" | grep -q '^cpu_disabled: none ' || { echo "no 'cpu_disabled: none' line without VB_CPU_DISABLE"; exit 1; }
best=$(echo "$base" | field cpu_best_core)
k32=$(echo "$base" | field wmat_kernel | cut -d' ' -f1)
bf16=$(echo "$base" | field compute_bf16)

# an unknown name: one warning naming it and the accepted ones, nothing taken away
o=$(ver "avx1024")
echo "$o" | grep -q "VB_CPU_DISABLE: 'avx1024' is not a feature (avx2, avx512, avx512bf16, amx); ignored" ||
  { echo "unknown name not reported"; exit 1; }
[ "$(echo "$o" | grep -c 'is not a feature')" = 1 ] || { echo "unknown name reported more than once"; exit 1; }
echo "$o" | grep -q '^cpu_disabled: none ' || { echo "unknown name took something away"; exit 1; }
# the chain: avx512 takes avx512bf16 and amx with it; names are case-insensitive and may be separated by spaces
ver "AVX512" | grep -q '^cpu_disabled: avx512,avx512bf16,amx$' || { echo "avx512 does not take avx512bf16, amx"; exit 1; }
ver "amx avx2" | grep -q '^cpu_disabled: avx2,avx512,avx512bf16,amx$' || { echo "avx2 does not take the rest"; exit 1; }

if [ "$best" = SkylakeX ]; then # an AVX-512 CPU run as an AVX2-only one (Zen 3)
  o=$(ver avx512)
  echo "$o" | grep -q '^wmat_kernel: avx2 ' || { echo "avx512 taken away: GEMM kernel not avx2"; exit 1; }
  echo "$o" | grep -q '^attention_kernel: blas ' || { echo "avx512 taken away: attention kernel not blas"; exit 1; }
  echo "$o" | grep -q '^compute_bf16: no (needs AVX512_BF16; VB_CPU_DISABLE takes away avx512,avx512bf16,amx)' ||
    { echo "avx512 taken away: bf16 compute still offered"; exit 1; }
  echo "$o" | grep -q '^cpu_best_core: Haswell$' || { echo "avx512 taken away: best core not Haswell"; exit 1; }
  # OpenBLAS leaves its AVX-512 cores: re-executed as Haswell where it ran SkylakeX (an Intel Xeon); on a Zen 4 / Zen 5
  # it keeps the AVX2 core it picks by itself (Zen / Haswell)
  core=$(echo "$o" | field blas_core)
  case "$core" in SkylakeX | Cooperlake | SapphireRapids) echo "avx512 taken away: OpenBLAS still runs $core"; exit 1 ;; esac
  echo "$o" | grep -q '^blas_fallback: no$' || { echo "avx512 taken away: OpenBLAS runs a fallback core ($core)"; exit 1; }
  # bench-engine says so in its header, and its f32 peak is the 8-lane one (the AVX2 FMA loop)
  root=${VB_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
  o=$(VB_CPU_DISABLE=avx512 "$VB_BIN" bench-engine --config "$root/configs/demo-blip2.json" --threads 1 --reps 1 \
      --layers 1 --frames 2 --components qformer 2>&1) || { echo "bench-engine under VB_CPU_DISABLE=avx512 failed"; exit 1; }
  echo "$o" | grep -q '^VB_CPU_DISABLE: avx512,avx512bf16,amx taken away' || { echo "bench-engine: no VB_CPU_DISABLE line"; exit 1; }
  echo "$o" | grep -q '^engine GEMM kernel: avx2 (f32 compute)$' || { echo "bench-engine: GEMM kernel not avx2"; exit 1; }
  echo "$o" | grep -Eq '^theoretical peak: .* x 8 lanes x 2 FLOP' || { echo "bench-engine: peak not the 8-lane one"; exit 1; }
  # the user's OPENBLAS_CORETYPE is kept, with a warning naming what VB_CPU_DISABLE asks for
  o=$(OPENBLAS_CORETYPE=SkylakeX VB_CPU_DISABLE=avx512 "$VB_BIN" version 2>&1)
  echo "$o" | grep -q '^blas_core: SkylakeX$' || { echo "OPENBLAS_CORETYPE=SkylakeX not honoured"; exit 1; }
  echo "$o" | grep -q 'runs the SkylakeX kernel where VB_CPU_DISABLE (avx512,avx512bf16,amx taken away) asks for Haswell' ||
    { echo "SkylakeX under VB_CPU_DISABLE=avx512 not reported"; exit 1; }
else
  echo "SKIP part: VB_CPU_DISABLE=avx512: no AVX-512 F/BW/VL/DQ on this CPU (cpu_best_core $best)"
fi

case "$bf16" in
*"kernel amx"*) # an AMX CPU run as an AVX-512 + BF16 one without AMX (Zen 4 / Zen 5)
  o=$(ver amx)
  echo "$o" | grep -q '^compute_bf16: available (--compute bf16; kernel avx512bf16; attention avx512)$' ||
    { echo "amx taken away: bf16 compute not on avx512bf16"; exit 1; }
  echo "$o" | grep -q "^wmat_kernel: $k32 " || { echo "amx taken away: the f32 kernel changed"; exit 1; }
  ;;
*) echo "SKIP part: VB_CPU_DISABLE=amx: no AMX-BF16 on this CPU (compute_bf16: $bf16)" ;;
esac

if [ "$best" = SkylakeX ] || [ "$best" = Haswell ]; then # an AVX2 CPU run on the baseline ISA
  o=$(ver avx2)
  echo "$o" | grep -q '^wmat_kernel: portable ' || { echo "avx2 taken away: GEMM kernel not portable"; exit 1; }
  echo "$o" | grep -q '^blas_core: Nehalem$' || { echo "avx2 taken away: OpenBLAS not re-executed as Nehalem"; exit 1; }
else
  echo "SKIP part: VB_CPU_DISABLE=avx2: no AVX2 on this CPU"
fi
echo ok
