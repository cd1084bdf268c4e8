/* attention.cu — fused multi-head attention (scores, bias / mask / causal, softmax, weighted sum of v) and the T5
** relative position bias gather.
**
** Attention: one block of ATT_THREADS per (query i, head h).  The query row goes to shared memory; each warp takes
** keys j = warp, warp + nwarps, ..., its lanes splitting the dh products (coalesced), a shuffle tree summing them;
** the scores (nk floats) stay in shared memory for the softmax (max and sum over the block, fixed order); then each
** thread owns output dims d and sums p_j v[j][d] over j in order (coalesced across the threads), scaled by 1/sum
** at the end.  Deterministic.  Correct for any nk <= 16384 and dh <= 256; not yet the fast path (docs/cuda.md: the
** ViT / T5 encoder shapes want batched tensor-core GEMMs for the scores and the weighted sum). */
#include "engine/cuda/kernels.h"

#include <math.h>

#define ATT_THREADS 128
#define ATT_WARPS   (ATT_THREADS / 32)

__global__ void k_attention(const float * q, int64_t ldq, const float * k, int64_t ldk, const float * v, int64_t ldv,
                            int64_t nq, int64_t nk, int dh, float scale, const float * pos_bias,
                            const float * key_mask_add, int causal, int64_t q_off, float * out, int64_t ldo) {
    extern __shared__ float sm[]; /* qs (dh), scores (nk), red (ATT_WARPS) */
    float *                 qs = sm;
    float *                 sc = sm + dh;
    float *                 red = sc + nk;
    const int64_t           i = blockIdx.x;
    const int               h = blockIdx.y;
    const int               w = threadIdx.x >> 5, l = threadIdx.x & 31;
    for (int d = threadIdx.x; d < dh; d += ATT_THREADS)
        qs[d] = q[i * ldq + (int64_t)h * dh + d];
    __syncthreads();
    const int64_t jmax = causal ? q_off + i : nk - 1; /* last visible key */
    for (int64_t j = w; j < nk; j += ATT_WARPS) {
        const float * kr = k + j * ldk + (int64_t)h * dh;
        float         s = 0;
        for (int d = l; d < dh; d += 32)
            s += qs[d] * kr[d];
        for (int o = 16; o > 0; o >>= 1)
            s += __shfl_xor_sync(0xffffffffu, s, o);
        if (l == 0) {
            s *= scale;
            if (pos_bias) s += pos_bias[((int64_t)h * nq + i) * nk + j];
            if (key_mask_add) s += key_mask_add[j];
            if (j > jmax) s = -INFINITY;
            sc[j] = s;
        }
    }
    __syncthreads();
    /* max over the scores */
    float m = -INFINITY;
    for (int64_t j = threadIdx.x; j < nk; j += ATT_THREADS)
        m = fmaxf(m, sc[j]);
    for (int o = 16; o > 0; o >>= 1)
        m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, o));
    if (l == 0) red[w] = m;
    __syncthreads();
    m = red[0];
    for (int t = 1; t < ATT_WARPS; t++)
        m = fmaxf(m, red[t]);
    float * o = out + i * ldo + (int64_t)h * dh;
    if (m == -INFINITY) { /* every key masked: the CPU's softmax gives zeros, so does the output */
        for (int d = threadIdx.x; d < dh; d += ATT_THREADS)
            o[d] = 0.0f;
        return;
    }
    __syncthreads(); /* everyone has read red */
    float s = 0;
    for (int64_t j = threadIdx.x; j < nk; j += ATT_THREADS) {
        float e = expf(sc[j] - m);
        sc[j] = e;
        s += e;
    }
    for (int off = 16; off > 0; off >>= 1)
        s += __shfl_xor_sync(0xffffffffu, s, off);
    if (l == 0) red[w] = s;
    __syncthreads();
    float tot = 0;
    for (int t = 0; t < ATT_WARPS; t++)
        tot += red[t];
    const float inv = 1.0f / tot;
    for (int d = threadIdx.x; d < dh; d += ATT_THREADS) {
        const float * vc = v + (int64_t)h * dh + d;
        float         acc = 0;
        for (int64_t j = 0; j < nk; j++)
            acc += sc[j] * vc[j * ldv];
        o[d] = acc * inv;
    }
}

__global__ void k_t5_bias(const float * table, int heads, const int32_t * bucket, int64_t nq, int64_t q0, int64_t nk,
                          float * bias) {
    const int64_t total = (int64_t)heads * nq * nk, off = q0 + nq - 1;
    for (int64_t t = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; t < total; t += (int64_t)gridDim.x * blockDim.x) {
        int64_t j = t % nk, i = (t / nk) % nq, h = t / (nk * nq);
        bias[t] = table[(int64_t)bucket[j - (q0 + i) + off] * heads + h];
    }
}

extern "C" {

int vb_k_attention(cudaStream_t s, const float * q, int64_t ldq, const float * k, int64_t ldk, const float * v,
                   int64_t ldv, int64_t nq, int64_t nk, int32_t heads, int32_t dh, float scale, const float * pos_bias,
                   const float * key_mask_add, int causal, int64_t q_off, float * out, int64_t ldo) {
    size_t smem = sizeof(float) * (size_t)(dh + nk + ATT_WARPS);
    if (smem > 48 * 1024) {
        cudaError_t e = cudaFuncSetAttribute(k_attention, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
        if (e != cudaSuccess) return (int)e;
    }
    dim3 grid((unsigned)nq, (unsigned)heads);
    k_attention<<<grid, ATT_THREADS, smem, s>>>(q, ldq, k, ldk, v, ldv, nq, nk, dh, scale, pos_bias, key_mask_add,
                                                causal, q_off, out, ldo);
    return (int)cudaGetLastError();
}

int vb_k_t5_bias(cudaStream_t s, const float * table, int32_t heads, const int32_t * bucket, int64_t nq, int64_t q0,
                 int64_t nk, float * bias) {
    int64_t total = (int64_t)heads * nq * nk, g = (total + 255) / 256;
    k_t5_bias<<<(unsigned)(g > 65535 * 16 ? 65535 * 16 : g), 256, 0, s>>>(table, heads, bucket, nq, q0, nk, bias);
    return (int)cudaGetLastError();
}
}
