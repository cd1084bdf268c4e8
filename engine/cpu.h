/* cpu.h — which instruction sets the engine may use: those the CPU (and its OS) has, less the ones VB_CPU_DISABLE
** takes away.
**
** Why: machines of this project's kind come as AVX2-only Zen 3, AVX-512 + AVX512_BF16 Zen 4 / Zen 5 (no AMX) and
** Xeons with AVX-512 and AMX.  VB_CPU_DISABLE lets one machine run the code paths of the others natively (the whole
** test suite included: `make test-isa`), instead of only the kernels forced one at a time (VB_WMAT_KERNEL,
** VB_ATTN_KERNEL).  It is a comma-separated list of avx2, avx512, avx512bf16, amx; each name also takes away what
** needs it (avx2 -> every AVX-512 set and AMX; avx512 -> avx512bf16 and amx; avx512bf16 -> amx):
**   VB_CPU_DISABLE=amx      an AVX-512 + BF16 CPU without AMX (Zen 4 / Zen 5): bf16 compute on vdpbf16ps;
**   VB_CPU_DISABLE=avx512   an AVX2-only CPU (Zen 3): the avx2 kernels, OpenBLAS's Haswell core (engine/blas.c);
**   VB_CPU_DISABLE=avx2     the portable / baseline (SSE2) code.
** An unknown name is reported once (a warning naming the accepted ones) and ignored.  The variable is read once per
** process.  It never adds a feature the CPU lacks. */
#ifndef VB_CPU_H
#define VB_CPU_H

enum vb_cpu_feature {
    VB_CPU_AVX2,       /* AVX2 + FMA (the avx2 sets also ask for F16C) */
    VB_CPU_AVX512,     /* AVX-512 F (the GEMM's sets also ask for BW / VL / DQ) */
    VB_CPU_AVX512BF16, /* AVX512_BF16 */
    VB_CPU_AMX,        /* AMX-TILE + AMX-BF16 */
    VB_CPU_NFEATURES
};

/* 1 if VB_CPU_DISABLE leaves feature f to the engine (it does not say whether the CPU has it: each caller asks the
** CPU for the exact instructions its code needs, and uses them only where this is 1 too); 0 if it takes f away. */
int vb_cpu_allowed(int f);
/* The features VB_CPU_DISABLE takes away, with those that need them, as a comma-separated list in the order of
** enum vb_cpu_feature ("avx512,avx512bf16,amx"), or "" where it takes none.  Static string. */
const char * vb_cpu_disabled(void);

#endif
