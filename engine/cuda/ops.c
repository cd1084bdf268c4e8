/* ops.c — the checked entry points of the CUDA kernels (engine/cuda/cuda.h), and the host half of the T5 bias. */
#include "base/common.h"
#include "engine/config.h"
#include "engine/cuda/internal.h"
#include "engine/t5.h"

#include <stdlib.h>

/* rows and columns fit the kernels' grid (rows <= 2^31 - 1) and index arithmetic (64-bit inside) */
static int shape_ok(const struct vb_cuda_ctx * c, const char * fn, int64_t n, int64_t d) {
    int st = vb_cuda_ctx_check_(c, fn);
    if (st != VB_OK) return st;
    if (n < 0 || d < 1 || n > INT32_MAX || d > INT32_MAX)
        return vb_fail(VB_ERR_ARG, "%s: bad shape (%lld, %lld)", fn, (long long)n, (long long)d);
    return VB_OK;
}

static int launched(int e, const char * fn) {
    return vb_cuda_check_((cudaError_t)e, fn);
}

int vb_cuda_layernorm(struct vb_cuda_ctx * c, const float * x, int64_t n, int64_t d, const float * w, const float * b,
                      float eps, float * y) {
    int st = shape_ok(c, "vb_cuda_layernorm", n, d);
    if (st != VB_OK || n == 0) return st;
    return launched(vb_k_layernorm(c->stream, x, n, d, w, b, eps, y), "layernorm");
}

int vb_cuda_rmsnorm(struct vb_cuda_ctx * c, const float * x, int64_t n, int64_t d, const float * w, float eps,
                    float * y) {
    int st = shape_ok(c, "vb_cuda_rmsnorm", n, d);
    if (st != VB_OK || n == 0) return st;
    if (!w) return vb_fail(VB_ERR_ARG, "vb_cuda_rmsnorm: weight missing");
    return launched(vb_k_rmsnorm(c->stream, x, n, d, w, eps, y), "rmsnorm");
}

static int act_ok(int32_t act) {
    return act == VB_ACT_GELU_ERF || act == VB_ACT_GELU_TANH || act == VB_ACT_RELU;
}

int vb_cuda_act(struct vb_cuda_ctx * c, float * x, int64_t n, int32_t act) {
    int st = vb_cuda_ctx_check_(c, "vb_cuda_act");
    if (st != VB_OK) return st;
    if (n < 0 || !act_ok(act)) return vb_fail(VB_ERR_ARG, "vb_cuda_act: bad n %lld or act %d", (long long)n, act);
    return n ? launched(vb_k_act(c->stream, x, n, act), "act") : VB_OK;
}

int vb_cuda_gated_act(struct vb_cuda_ctx * c, float * x, int64_t n, int64_t f, int32_t act) {
    int st = shape_ok(c, "vb_cuda_gated_act", n, f);
    if (st != VB_OK || n == 0) return st;
    if (!act_ok(act)) return vb_fail(VB_ERR_ARG, "vb_cuda_gated_act: bad act %d", act);
    return launched(vb_k_gated_act(c->stream, x, n, f, act), "gated act");
}

int vb_cuda_softmax_rows(struct vb_cuda_ctx * c, float * x, int64_t n, int64_t d) {
    int st = shape_ok(c, "vb_cuda_softmax_rows", n, d);
    if (st != VB_OK || n == 0) return st;
    return launched(vb_k_softmax_rows(c->stream, x, n, d), "softmax");
}

int vb_cuda_add(struct vb_cuda_ctx * c, float * y, const float * x, int64_t n) {
    int st = vb_cuda_ctx_check_(c, "vb_cuda_add");
    if (st != VB_OK) return st;
    if (n < 0) return vb_fail(VB_ERR_ARG, "vb_cuda_add: n %lld", (long long)n);
    return n ? launched(vb_k_add(c->stream, y, x, n), "add") : VB_OK;
}

int vb_cuda_attention(struct vb_cuda_ctx * c, const float * q, int64_t ldq, const float * k, int64_t ldk,
                      const float * v, int64_t ldv, int64_t nq, int64_t nk, int32_t heads, int32_t dh, float scale,
                      const float * pos_bias, const float * key_mask_add, int causal, int64_t q_off, float * out,
                      int64_t ldo) {
    int st = vb_cuda_ctx_check_(c, "vb_cuda_attention");
    if (st != VB_OK) return st;
    int64_t hd = (int64_t)heads * dh;
    if (nq < 0 || nk < 1 || nk > 16384 || heads < 1 || dh < 1 || dh > 256 || nq > INT32_MAX / heads || ldq < hd ||
        ldk < hd || ldv < hd || ldo < hd || q_off < 0)
        return vb_fail(VB_ERR_ARG, "vb_cuda_attention: bad shape (nq %lld, nk %lld, heads %d, dh %d)", (long long)nq,
                       (long long)nk, heads, dh);
    if (nq == 0) return VB_OK;
    return launched(vb_k_attention(c->stream, q, ldq, k, ldk, v, ldv, nq, nk, heads, dh, scale, pos_bias, key_mask_add,
                                   causal, q_off, out, ldo),
                    "attention");
}

int vb_cuda_t5_bias(struct vb_cuda_ctx * c, const float * table, int32_t heads, int32_t n_buckets, int32_t max_distance,
                    int bidirectional, int64_t nq, int64_t q0, int64_t nk, float * bias) {
    int st = vb_cuda_ctx_check_(c, "vb_cuda_t5_bias");
    if (st != VB_OK) return st;
    if (heads < 1 || n_buckets < 2 || max_distance < 1 || nq < 1 || nk < 1 || q0 < 0 || nq + q0 > (1 << 24) ||
        nk > (1 << 24) || (int64_t)heads * nq * nk > ((int64_t)1 << 40))
        return vb_fail(VB_ERR_ARG, "vb_cuda_t5_bias: bad arguments (heads %d, buckets %d, nq %lld, q0 %lld, nk %lld)",
                       heads, n_buckets, (long long)nq, (long long)q0, (long long)nk);
    /* distances j - (q0 + i) run over [-(q0 + nq - 1), nk - 1] */
    int64_t   nrel = q0 + nq - 1 + nk, off = q0 + nq - 1;
    int32_t * bk = vb_malloc(sizeof *bk * (size_t)nrel);
    for (int64_t r = 0; r < nrel; r++)
        bk[r] = vb_t5_bucket(r - off, bidirectional, n_buckets, max_distance);
    st = vb_cuda_scratch_(c, sizeof *bk * (size_t)nrel);
    if (st == VB_OK) st = vb_cuda_upload(c, c->scratch, bk, sizeof *bk * (size_t)nrel);
    free(bk);
    if (st != VB_OK) return st;
    return launched(vb_k_t5_bias(c->stream, table, heads, c->scratch, nq, q0, nk, bias), "t5 bias");
}

int vb_cuda_scale(struct vb_cuda_ctx * c, float * x, int64_t n, float a) {
    int st = vb_cuda_ctx_check_(c, "vb_cuda_scale");
    if (st != VB_OK) return st;
    if (n < 0) return vb_fail(VB_ERR_ARG, "vb_cuda_scale: n %lld", (long long)n);
    return n ? launched(vb_k_scale(c->stream, x, n, a), "scale") : VB_OK;
}

int vb_cuda_argmax_rows(struct vb_cuda_ctx * c, const float * x, int64_t n, int64_t d, int32_t * out) {
    int st = shape_ok(c, "vb_cuda_argmax_rows", n, d);
    if (st != VB_OK || n == 0) return st;
    return launched(vb_k_argmax_rows(c->stream, x, n, d, out), "argmax");
}

int vb_cuda_copy_rows(struct vb_cuda_ctx * c, float * dst, int64_t ldd, const float * src, int64_t lds, int64_t n,
                      int64_t cols) {
    int st = vb_cuda_ctx_check_(c, "vb_cuda_copy_rows");
    if (st != VB_OK) return st;
    if (n < 0 || cols < 0 || ldd < cols || lds < cols)
        return vb_fail(VB_ERR_ARG, "vb_cuda_copy_rows: bad shape (%lld x %lld, ld %lld / %lld)", (long long)n,
                       (long long)cols, (long long)ldd, (long long)lds);
    if (n == 0 || cols == 0) return VB_OK;
    const size_t f = sizeof(float);
    return vb_cuda_check_(cudaMemcpy2DAsync(dst, (size_t)ldd * f, src, (size_t)lds * f, (size_t)cols * f, (size_t)n,
                                            cudaMemcpyDeviceToDevice, c->stream),
                          "copy rows");
}
