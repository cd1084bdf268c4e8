/* unpack.c — the packed host weight matrix (engine/wmat.h's 16-row panels, bf16 in pairs of k) back to row-major
** f32 / bf16 rows, the layout the device matrices use.  Host code, linked in every build (the tests check it without
** a GPU). */
#include "base/common.h"
#include "engine/cuda/cuda.h"
#include "engine/weights.h"

#include <string.h>

/* element (r, k) of W as f32 (exact) */
static inline float elem(const struct vb_wmat * W, size_t i) {
    switch (W->dt) {
    case VB_DT_F32:
        return ((const float *)W->data)[i];
    case VB_DT_BF16:
        return vb_bf16_to_f32(((const uint16_t *)W->data)[i]);
    default:
        return vb_f16_to_f32(((const uint16_t *)W->data)[i]);
    }
}

int vb_cuda_wmat_unpack_rows(const struct vb_wmat * W, int64_t r0, int64_t n, int32_t dt, void * out) {
    if (!W || !W->data || r0 < 0 || n < 0 || r0 + n > W->rows)
        return vb_fail(VB_ERR_ARG, "wmat unpack: rows [%lld, %lld) outside the matrix (%lld rows)", (long long)r0,
                       (long long)(r0 + n), W ? (long long)W->rows : 0LL);
    if (dt != VB_DT_F32 && dt != VB_DT_BF16)
        return vb_fail(VB_ERR_ARG, "wmat unpack: device dtype %s not supported (f32 or bf16)",
                       vb_dtype_name((enum vb_dtype)dt));
    if (W->dt != VB_DT_F32 && W->dt != VB_DT_BF16 && W->dt != VB_DT_F16)
        return vb_fail(VB_ERR_ARG, "wmat unpack: host dtype %d not supported", (int)W->dt);
    const int64_t K = W->cols;
    /* one panel of 16 rows at a time: its block is read in k order, each value going to its row */
    for (int64_t r = r0; r < r0 + n;) {
        int64_t g = W->row0 + r; /* row in the panel layout */
        int64_t lanes = VB_MIN((int64_t)VB_WMAT_NR - g % VB_WMAT_NR, r0 + n - r);
        for (int64_t k = 0; k < K; k++)
            for (int64_t l = 0; l < lanes; l++) {
                float   v = elem(W, vb_wmat_index(W, g + l, k));
                int64_t o = (r - r0 + l) * K + k;
                if (dt == VB_DT_F32)
                    ((float *)out)[o] = v;
                else
                    ((uint16_t *)out)[o] = vb_f32_to_bf16(v);
            }
        r += lanes;
    }
    return VB_OK;
}
