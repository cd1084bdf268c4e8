/* kernels.c — the engine's kernel choices as one line (see kernels.h). */
#include "harness/kernels.h"

#include "base/common.h"
#include "engine/attn_small.h"
#include "engine/cpu.h"
#include "engine/wmat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vb_kernels_of(int compute, const char ** gemm, const char ** attn) {
    const int was = vb_wmat_compute();
    *gemm = *attn = NULL;
    if (vb_wmat_set_compute(compute) == VB_OK) *gemm = vb_wmat_kernel(), *attn = vb_attention_batch_kernel(64);
    vb_wmat_set_compute(was);
}

void vb_kernels_describe(int compute, char * buf, size_t n) {
    size_t len = 0;
    buf[0] = 0;
#define ADD(...)                                                                                                       \
    do {                                                                                                               \
        if (len < n) {                                                                                                 \
            int w_ = snprintf(buf + len, n - len, __VA_ARGS__);                                                        \
            len += w_ > 0 ? (size_t)w_ : 0;                                                                            \
        }                                                                                                              \
    } while (0)
    const char *k32, *a32, *k16, *a16;
    vb_kernels_of(VB_COMPUTE_F32, &k32, &a32);
    if (compute == VB_COMPUTE_BF16) {
        vb_kernels_of(VB_COMPUTE_BF16, &k16, &a16);
        if (!k16)
            ADD("compute bf16 not available");
        else {
            ADD("gemm %s (%s up to %d rows), attention %s", k16, k32, VB_WMAT_BF16_MIN_N, a16);
            if (!strcmp(a16, "amx")) ADD(" from %d tokens (%s below)", VB_ATTN_AMX_MIN, a32);
        }
    } else
        ADD("gemm %s, attention %s", k32, a32);
    if (vb_cpu_disabled()[0]) ADD("; VB_CPU_DISABLE %s", vb_cpu_disabled());
    const char * e = getenv("VB_WMAT_KERNEL");
    if (e && *e) ADD("; VB_WMAT_KERNEL %s", e);
    e = getenv("VB_ATTN_KERNEL");
    if (e && *e) ADD("; VB_ATTN_KERNEL %s", e);
#undef ADD
}
