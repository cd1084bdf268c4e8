/* gemm.c — device weight matrices (upload from the packed host matrix) and y = x W^T + b through cuBLASLt. */
#include "base/common.h"
#include "engine/cuda/internal.h"
#include "engine/weights.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- device weight matrices ---- */

int vb_cuda_wmat_upload(struct vb_cuda_ctx * c, struct vb_cuda_wmat * D, const struct vb_wmat * W, int32_t dt) {
    memset(D, 0, sizeof *D);
    int st = vb_cuda_ctx_check_(c, "vb_cuda_wmat_upload");
    if (st != VB_OK) return st;
    if (!W || !W->data || W->rows < 1 || W->cols < 1) return vb_fail(VB_ERR_ARG, "wmat upload: empty host matrix");
    if (dt != VB_DT_F32 && dt != VB_DT_BF16)
        return vb_fail(VB_ERR_ARG, "wmat upload: device dtype %s not supported (f32 or bf16)",
                       vb_dtype_name((enum vb_dtype)dt));
    size_t  es = dt == VB_DT_F32 ? 4 : 2;
    int64_t R = W->rows, K = W->cols;
    void *  d = NULL;
    st = vb_cuda_alloc(c, &d, (size_t)R * (size_t)K * es);
    if (st != VB_OK)
        return vb_fail_prefix(st, "wmat upload (%lld x %lld %s)", (long long)R, (long long)K,
                              vb_dtype_name((enum vb_dtype)dt));
    /* blocks of whole panels, about 16 MiB of host staging at a time */
    int64_t blk = VB_MAX((int64_t)VB_WMAT_NR, ((int64_t)16 << 20) / (K * (int64_t)es) / VB_WMAT_NR * VB_WMAT_NR);
    blk = VB_MIN(blk, R);
    void * h = vb_malloc((size_t)blk * (size_t)K * es);
    for (int64_t r = 0; r < R && st == VB_OK; r += blk) {
        int64_t nr = VB_MIN(blk, R - r);
        st = vb_cuda_wmat_unpack_rows(W, r, nr, dt, h);
        if (st == VB_OK) st = vb_cuda_upload(c, (char *)d + (size_t)r * (size_t)K * es, h, (size_t)nr * (size_t)K * es);
    }
    free(h);
    if (st != VB_OK) {
        vb_cuda_free(d);
        return st;
    }
    D->dt = dt, D->rows = R, D->cols = K, D->data = d;
    return VB_OK;
}

void vb_cuda_wmat_free(struct vb_cuda_wmat * D) {
    if (!D) return;
    vb_cuda_free(D->data);
    memset(D, 0, sizeof *D);
}

/* ---- one cuBLASLt matmul in the engine's row-major convention ----
** Row-major Y (n, m) = X (n, k) W^T with W (m, k) row-major is, column-major, Y^T (m, n) = W^T' X^T where W's
** buffer read column-major is (k, m) with ld k (so op A = T) and X's is (k, n) with ld ldx (op B = N); D = Y^T is
** (m, n) with ld ldy.  The bias (m) is the epilogue's per-row-of-D vector, the output feature. */
struct mm {
    cudaDataType_t ab, cd; /* A/B type, C/D type */
    int64_t        m, n, k, lda, ldb, ldd;
    const void *   A, *B;
    void *         D;
    const float *  bias;
    float          alpha, beta;
};

/* the largest power of two <= 256 dividing the address */
static uint32_t align_of(const void * p) {
    uintptr_t u = (uintptr_t)p;
    uint32_t  a = 256;
    while (a > 1 && u % a)
        a >>= 1;
    return a;
}

static int matmul(struct vb_cuda_ctx * c, const struct mm * p) {
    const struct vb_cublaslt * L = vb_cublaslt_;
    cublasLtMatmulDesc_t       op = NULL;
    cublasLtMatrixLayout_t     la = NULL, lb = NULL, ld = NULL;
    cublasLtMatmulPreference_t pref = NULL;
    int                        st = vb_cublaslt_check_(L->desc_create(&op, CUBLAS_COMPUTE_32F, CUDA_R_32F), "desc");
    cublasOperation_t          ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
    if (st == VB_OK) st = vb_cublaslt_check_(L->desc_set(op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta), "transa");
    if (st == VB_OK) st = vb_cublaslt_check_(L->desc_set(op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb), "transb");
    if (st == VB_OK && p->bias) {
        cublasLtEpilogue_t epi = CUBLASLT_EPILOGUE_BIAS; /* bias type = D type (f32) by default */
        st = vb_cublaslt_check_(L->desc_set(op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof epi), "epilogue");
        if (st == VB_OK)
            st = vb_cublaslt_check_(L->desc_set(op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &p->bias, sizeof p->bias),
                                    "bias");
    }
    if (st == VB_OK)
        st = vb_cublaslt_check_(L->layout_create(&la, p->ab, (uint64_t)p->k, (uint64_t)p->m, p->lda), "layout A");
    if (st == VB_OK)
        st = vb_cublaslt_check_(L->layout_create(&lb, p->ab, (uint64_t)p->k, (uint64_t)p->n, p->ldb), "layout B");
    if (st == VB_OK)
        st = vb_cublaslt_check_(L->layout_create(&ld, p->cd, (uint64_t)p->m, (uint64_t)p->n, p->ldd), "layout D");
    if (st == VB_OK) st = vb_cublaslt_check_(L->pref_create(&pref), "preference");
    if (st == VB_OK) {
        uint64_t ws = c->ws_bytes;
        st = vb_cublaslt_check_(L->pref_set(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws),
                                "workspace");
    }
    /* the heuristic assumes 256-byte aligned operands unless told: say how aligned these are (views such as q|k|v
    ** column slices are only 4-byte aligned) */
    const void *                               ptr[4] = {p->A, p->B, p->D, p->D};
    const cublasLtMatmulPreferenceAttributes_t attr[4] = {
        CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
        CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES};
    for (int i = 0; i < 4 && st == VB_OK; i++) {
        uint32_t a = align_of(ptr[i]);
        st = vb_cublaslt_check_(L->pref_set(pref, attr[i], &a, sizeof a), "alignment");
    }
    cublasLtMatmulHeuristicResult_t hr;
    int                             found = 0;
    if (st == VB_OK)
        st = vb_cublaslt_check_(L->heuristic(c->lt, op, la, lb, ld, ld, pref, 1, &hr, &found), "heuristic");
    if (st == VB_OK && found < 1)
        st = vb_fail(VB_ERR_UNSUPPORTED, "cublasLt: no algorithm for %lld x %lld x %lld", (long long)p->m,
                     (long long)p->n, (long long)p->k);
    if (st == VB_OK)
        st = vb_cublaslt_check_(L->matmul(c->lt, op, &p->alpha, p->A, la, p->B, lb, &p->beta, p->D, ld, p->D, ld,
                                          &hr.algo, c->workspace, c->ws_bytes, c->stream),
                                "matmul");
    if (pref) L->pref_destroy(pref);
    if (ld) L->layout_destroy(ld);
    if (lb) L->layout_destroy(lb);
    if (la) L->layout_destroy(la);
    if (op) L->desc_destroy(op);
    return st;
}

int vb_cuda_linear(struct vb_cuda_ctx * c, const float * x, int64_t ldx, int64_t n, const struct vb_cuda_wmat * W,
                   const float * b, float * y, int64_t ldy, float beta) {
    int st = vb_cuda_ctx_check_(c, "vb_cuda_linear");
    if (st != VB_OK) return st;
    if (!W || !W->data || !x || !y || n < 1 || ldx < W->cols || ldy < W->rows)
        return vb_fail(VB_ERR_ARG, "vb_cuda_linear: bad arguments (n %lld, ldx %lld, ldy %lld, W %lld x %lld)",
                       (long long)n, (long long)ldx, (long long)ldy, W ? (long long)W->rows : 0LL,
                       W ? (long long)W->cols : 0LL);
    struct mm p = {.cd = CUDA_R_32F,
                   .m = W->rows,
                   .n = n,
                   .k = W->cols,
                   .lda = W->cols,
                   .ldd = ldy,
                   .A = W->data,
                   .D = y,
                   .bias = b,
                   .alpha = 1.0f,
                   .beta = beta};
    if (W->dt == VB_DT_F32) {
        p.ab = CUDA_R_32F, p.B = x, p.ldb = ldx;
    } else if (W->dt == VB_DT_BF16) {
        st = vb_cuda_scratch_(c, (size_t)n * (size_t)W->cols * 2);
        if (st != VB_OK) return st;
        st = vb_cuda_check_((cudaError_t)vb_k_to_bf16(c->stream, x, ldx, n, W->cols, c->scratch), "x to bf16");
        if (st != VB_OK) return st;
        p.ab = CUDA_R_16BF, p.B = c->scratch, p.ldb = W->cols;
    } else
        return vb_fail(VB_ERR_ARG, "vb_cuda_linear: device matrix dtype %d", (int)W->dt);
    return matmul(c, &p);
}

static int cmp_float(const void * a, const void * b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

int vb_cuda_gemm_rate(struct vb_cuda_ctx * c, int64_t m, int64_t n, int64_t k, int32_t dt, int reps, double * tflops) {
    *tflops = 0;
    int st = vb_cuda_ctx_check_(c, "vb_cuda_gemm_rate");
    if (st != VB_OK) return st;
    if (m < 1 || n < 1 || k < 1 || reps < 1 || reps > 1000 || (dt != VB_DT_F32 && dt != VB_DT_BF16))
        return vb_fail(VB_ERR_ARG, "vb_cuda_gemm_rate: bad arguments");
    size_t es = dt == VB_DT_F32 ? 4 : 2;
    void * A = NULL, *B = NULL, *D = NULL;
    st = vb_cuda_alloc(c, &A, (size_t)m * (size_t)k * es);
    if (st == VB_OK) st = vb_cuda_alloc(c, &B, (size_t)n * (size_t)k * es);
    if (st == VB_OK) st = vb_cuda_alloc(c, &D, (size_t)m * (size_t)n * es);
    if (st == VB_OK) st = vb_cuda_check_((cudaError_t)vb_k_fill(c->stream, A, m * k, dt == VB_DT_BF16, 1), "fill");
    if (st == VB_OK) st = vb_cuda_check_((cudaError_t)vb_k_fill(c->stream, B, n * k, dt == VB_DT_BF16, 2), "fill");
    cudaDataType_t t = dt == VB_DT_F32 ? CUDA_R_32F : CUDA_R_16BF;
    struct mm      p = {.ab = t,
                        .cd = t,
                        .m = m,
                        .n = n,
                        .k = k,
                        .lda = k,
                        .ldb = k,
                        .ldd = m,
                        .A = A,
                        .B = B,
                        .D = D,
                        .alpha = 1.0f,
                        .beta = 0.0f};
    float *        ms = vb_calloc((size_t)reps, sizeof *ms);
    cudaEvent_t    e0 = NULL, e1 = NULL;
    if (st == VB_OK) st = vb_cuda_check_(cudaEventCreate(&e0), "event");
    if (st == VB_OK) st = vb_cuda_check_(cudaEventCreate(&e1), "event");
    for (int i = 0; i < 2 && st == VB_OK; i++)
        st = matmul(c, &p);
    for (int i = 0; i < reps && st == VB_OK; i++) {
        st = vb_cuda_check_(cudaEventRecord(e0, c->stream), "record");
        if (st == VB_OK) st = matmul(c, &p);
        if (st == VB_OK) st = vb_cuda_check_(cudaEventRecord(e1, c->stream), "record");
        if (st == VB_OK) st = vb_cuda_check_(cudaEventSynchronize(e1), "sync");
        if (st == VB_OK) st = vb_cuda_check_(cudaEventElapsedTime(&ms[i], e0, e1), "elapsed");
    }
    if (st == VB_OK) {
        qsort(ms, (size_t)reps, sizeof *ms, cmp_float);
        double med = ms[reps / 2];
        *tflops = med > 0 ? 2.0 * (double)m * (double)n * (double)k / (med * 1e-3) / 1e12 : 0;
    }
    if (e0) cudaEventDestroy(e0);
    if (e1) cudaEventDestroy(e1);
    free(ms);
    vb_cuda_free(A), vb_cuda_free(B), vb_cuda_free(D);
    return st;
}
