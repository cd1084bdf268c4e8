/* ops.h — the tensor kernels every model component uses.  Row-major float32 throughout.
**
** GEMM convention (written down once): activations are (n_rows, in) row-major; a Linear weight is stored as
** PyTorch/HF store it, (out, in) row-major; y = x W^T + b is one cblas_sgemm(RowMajor, NoTrans, Trans).
** None of these allocate except where stated; callers own every buffer.
*/
#ifndef VB_OPS_H
#define VB_OPS_H

#include <stdint.h>

/* y (n, out) = x (n, in) W^T (W: (out, in)) + b (out, nullable).  y must not alias x. */
void vb_linear(const float * x, int64_t n, int64_t in, const float * W, const float * b, int64_t out, float * y);
/* Same with strides: x rows are ldx apart, y rows ldy apart; beta=1 accumulates into y (bias then added too). */
void vb_linear_ex(const float * x, int64_t ldx, int64_t n, int64_t in, const float * W, const float * b, int64_t out,
                  float * y, int64_t ldy, float beta);
/* C (m, n) = alpha * A (m, k) B^T (B: (n, k)) + beta * C, with leading dimensions. */
void vb_gemm_nt(int64_t m, int64_t n, int64_t k, float alpha, const float * A, int64_t lda, const float * B,
                int64_t ldb, float beta, float * C, int64_t ldc);
/* C (m, n) = alpha * A (m, k) B (B: (k, n)) + beta * C. */
void vb_gemm_nn(int64_t m, int64_t n, int64_t k, float alpha, const float * A, int64_t lda, const float * B,
                int64_t ldb, float beta, float * C, int64_t ldc);

/* LayerNorm over the last dim d of x (n, d), in place allowed (y == x): (x - mean)/sqrt(var + eps) * w + b.
** Mean/variance accumulated in double. */
void vb_layernorm(const float * x, int64_t n, int64_t d, const float * w, const float * b, float eps, float * y);
/* T5 RMS norm: y = w * x / sqrt(mean(x^2) + eps) (no mean subtraction, no bias). y == x allowed. */
void vb_rmsnorm(const float * x, int64_t n, int64_t d, const float * w, float eps, float * y);
/* In-place activations over n values. */
void vb_gelu_erf(float * x, int64_t n); /* 0.5 x (1 + erf(x / sqrt 2)); vectorised erf, |err| <= 1.5e-7 */
/* vb_gelu_erf on one thread with one code path (tests): "base" (8-lane vectors of the baseline ISA), "avx2", "avx512"
** (16 lanes, then 8, same bits as avx2).  Returns 0, or -1 (x untouched) for a path this CPU or build lacks. */
int  vb_gelu_erf_kernel(float * x, int64_t n, const char * kernel);
void vb_gelu_tanh(float * x, int64_t n); /* 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) ("gelu_new") */
void vb_relu(float * x, int64_t n);
/* In-place softmax over each row of x (n, d), max-subtracted (vectorised exp, ~2 ulp); a row of all -inf gives
** zeros, -inf entries give exact zeros. */
void vb_softmax_rows(float * x, int64_t n, int64_t d);
/* x[i] = exp(x[i]) in place (vectorised Cephes expf, ~2 ulp for x in [-87.3, 88.4]; below gives 0, above is
** clamped to exp(88.37)). */
void vb_exp_inplace(float * x, int64_t n);
/* y += x over n values. */
void vb_add(float * y, const float * x, int64_t n);
/* y = a * b elementwise (n). */
void vb_mul(float * y, const float * a, const float * b, int64_t n);

/* Multi-head attention of nq queries over nk keys.
**   q: head h of query i at q[i*ldq + h*dh .. +dh]; likewise k (ldk), v (ldv); out (nq, heads*dh) rows ldo apart.
**   scale multiplies q.k (T5: 1.0; ViT/BERT: dh^-0.5).
**   pos_bias: (heads, nq, nk) added to the scores, or NULL (T5 relative position bias).
**   key_mask_add: (nk) additive per key (0 or a large negative), or NULL.
**   causal: if nonzero, query i (at absolute position q_off + i) sees keys j <= q_off + i only.
**   scratch: at least nq * nk floats.
** When heads * nq * nk * dh >= 2^20 the heads are split over the engine's threads (engine/pool.h; threads past
** the first use their own scores buffer, vb_pool_scratch), each calling BLAS, which runs one thread.  Results are
** identical.
*/
void vb_attention(const float * q, int64_t ldq, const float * k, int64_t ldk, const float * v, int64_t ldv, int64_t nq,
                  int64_t nk, int32_t heads, int32_t dh, float scale, const float * pos_bias,
                  const float * key_mask_add, int causal, int64_t q_off, float * out, int64_t ldo, float * scratch);

#endif
