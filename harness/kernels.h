/* kernels.h — the engine's kernel choices on this machine as one line, stored with every run session
** (sessions.kernels, docs/schema.md) and printed by `bench-engine`: which GEMM and attention kernels a compute
** mode runs, and what VB_CPU_DISABLE takes away.  Together with blas_core and blas_threads this says which code
** computed a result: f32 kernels give the same bits as each other, but bf16 compute on AMX (a Xeon) and on
** vdpbf16ps (a Zen 4 / Zen 5) do not. */
#ifndef VB_KERNELS_H
#define VB_KERNELS_H

#include <stddef.h>

/* The line for compute mode `compute` (VB_COMPUTE_F32 / VB_COMPUTE_BF16, engine/wmat.h) into buf (n bytes, always
** terminated), e.g. "gemm avx512, attention avx512" or "gemm amx (avx512 up to 24 rows), attention amx from 64
** tokens (avx512 below)", followed by "; VB_CPU_DISABLE avx512,avx512bf16,amx" where features are taken away, and by
** "; VB_WMAT_KERNEL avx2" / "; VB_ATTN_KERNEL blas" where those variables are set.  The engine's compute mode is the
** same after the call as before it (it is switched to ask the kernel choice of the other mode: call it from one
** thread, between runs).  A mode this CPU cannot run gives "compute bf16 not available". */
void vb_kernels_describe(int compute, char * buf, size_t n);
/* The kernels compute mode `compute` runs now: *gemm that of products of more than VB_WMAT_BF16_MIN_N rows, *attn
** that of large pairs (vb_attention_batch_kernel); both NULL where this CPU cannot run the mode.  Switches the
** engine's compute mode to ask and restores it (one thread, between runs), as vb_kernels_describe. */
void vb_kernels_of(int compute, const char ** gemm, const char ** attn);

#endif
