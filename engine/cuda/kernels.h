/* kernels.h — the launchers of the CUDA kernels (engine/cuda/kernels.cu, attention.cu), callable from C.  Each
** enqueues on `s` and returns the launch's cudaError_t as an int (0 = success).  Arguments are trusted: the checked
** entry points are in engine/cuda/ops.c.  Shapes as engine/cuda/cuda.h states them.
*/
#ifndef VB_CUDA_KERNELS_H
#define VB_CUDA_KERNELS_H

#include <cuda_runtime.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

int vb_k_layernorm(cudaStream_t s, const float * x, int64_t n, int64_t d, const float * w, const float * b, float eps,
                   float * y);
int vb_k_rmsnorm(cudaStream_t s, const float * x, int64_t n, int64_t d, const float * w, float eps, float * y);
int vb_k_act(cudaStream_t s, float * x, int64_t n, int32_t act);
int vb_k_gated_act(cudaStream_t s, float * x, int64_t n, int64_t f, int32_t act);
int vb_k_softmax_rows(cudaStream_t s, float * x, int64_t n, int64_t d);
int vb_k_add(cudaStream_t s, float * y, const float * x, int64_t n);
/* x (n) *= a */
int vb_k_scale(cudaStream_t s, float * x, int64_t n, float a);
/* out[i] = index of the first maximum of row i of x (n, d) (vb_gen_argmax's semantics, NaN never picked). */
int vb_k_argmax_rows(cudaStream_t s, const float * x, int64_t n, int64_t d, int32_t * out);
/* x (n, cols) f32 rows ldx apart -> y (n, cols) bf16 (uint16 bits), dense, round to nearest even. */
int vb_k_to_bf16(cudaStream_t s, const float * x, int64_t ldx, int64_t n, int64_t cols, uint16_t * y);
/* n deterministic pseudo-random values in [-1, 1) (seeded) as f32 (bf16 = 0) or bf16 (bf16 = 1). */
int vb_k_fill(cudaStream_t s, void * p, int64_t n, int bf16, uint32_t seed);
int vb_k_attention(cudaStream_t s, const float * q, int64_t ldq, const float * k, int64_t ldk, const float * v,
                   int64_t ldv, int64_t nq, int64_t nk, int32_t heads, int32_t dh, float scale, const float * pos_bias,
                   const float * key_mask_add, int causal, int64_t q_off, float * out, int64_t ldo);
/* bias (heads, nq, nk): bias[h][i][j] = table[bucket[j - (q0 + i) + (q0 + nq - 1)] * heads + h]. */
int vb_k_t5_bias(cudaStream_t s, const float * table, int32_t heads, const int32_t * bucket, int64_t nq, int64_t q0,
                 int64_t nk, float * bias);

/* ViT patch unfold (engine/vit.c's im2col): pixels (F, 3, S, S) -> cols (F * G * G, 3 * p * p), G = S / p. */
int vb_k_im2col(cudaStream_t s, const float * pixels, int64_t F, int64_t S, int64_t p, float * cols);
/* ViT embeddings: h (F, T, D): token 0 = cls + pos[0], token t = patches[f * (T - 1) + t - 1] + pos[t]. */
int vb_k_vit_embed(cudaStream_t s, const float * patches, const float * cls, const float * pos, int64_t F, int64_t T,
                   int64_t D, float * h);

#ifdef __cplusplus
}
#endif

#endif
