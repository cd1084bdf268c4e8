/* kernels.cu — row-wise and elementwise kernels: LayerNorm, T5 RMSNorm, GELU (erf, tanh), ReLU, gated activation,
** softmax, add, scale, f32 -> bf16, fill,
** argmax per row.  One block per row for the row-wise ones (sums in double, as engine/ops.c's
** LayerNorm / RMSNorm, combined in a fixed order: deterministic); a grid-stride loop for the elementwise ones. */
#include "engine/cuda/kernels.h"

#include <cuda_bf16.h>
#include <math.h>

#define ROW_THREADS 256

/* Sum of v over the block (ROW_THREADS threads); every thread gets the result.  sh: ROW_THREADS / 32 doubles. */
template <typename T> __device__ T block_sum(T v, T * sh) {
    for (int o = 16; o > 0; o >>= 1)
        v += __shfl_xor_sync(0xffffffffu, v, o);
    int w = threadIdx.x >> 5, l = threadIdx.x & 31;
    __syncthreads(); /* sh may still be read from a previous reduction */
    if (l == 0) sh[w] = v;
    __syncthreads();
    T t = 0;
    for (int i = 0; i < ROW_THREADS / 32; i++)
        t += sh[i];
    return t;
}

__device__ float block_max(float v, float * sh) {
    for (int o = 16; o > 0; o >>= 1)
        v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    int w = threadIdx.x >> 5, l = threadIdx.x & 31;
    __syncthreads();
    if (l == 0) sh[w] = v;
    __syncthreads();
    float t = -INFINITY;
    for (int i = 0; i < ROW_THREADS / 32; i++)
        t = fmaxf(t, sh[i]);
    return t;
}

__global__ void k_layernorm(const float * x, int64_t d, const float * w, const float * b, float eps, float * y) {
    __shared__ double sh[ROW_THREADS / 32];
    const float *     r = x + (int64_t)blockIdx.x * d;
    float *           o = y + (int64_t)blockIdx.x * d;
    double            s = 0;
    for (int64_t j = threadIdx.x; j < d; j += ROW_THREADS)
        s += r[j];
    double mean = block_sum(s, sh) / (double)d;
    double s2 = 0;
    for (int64_t j = threadIdx.x; j < d; j += ROW_THREADS) {
        double t = r[j] - mean;
        s2 += t * t;
    }
    s2 = block_sum(s2, sh);
    float inv = (float)(1.0 / sqrt(s2 / (double)d + (double)eps)), mf = (float)mean;
    for (int64_t j = threadIdx.x; j < d; j += ROW_THREADS) /* y == x: each element read before it is written */
        o[j] = (r[j] - mf) * inv * (w ? w[j] : 1.0f) + (b ? b[j] : 0.0f);
}

__global__ void k_rmsnorm(const float * x, int64_t d, const float * w, float eps, float * y) {
    __shared__ double sh[ROW_THREADS / 32];
    const float *     r = x + (int64_t)blockIdx.x * d;
    float *           o = y + (int64_t)blockIdx.x * d;
    double            s2 = 0;
    for (int64_t j = threadIdx.x; j < d; j += ROW_THREADS)
        s2 += (double)r[j] * r[j];
    s2 = block_sum(s2, sh);
    float inv = (float)(1.0 / sqrt(s2 / (double)d + (double)eps));
    for (int64_t j = threadIdx.x; j < d; j += ROW_THREADS)
        o[j] = w[j] * (r[j] * inv);
}

__global__ void k_softmax(float * x, int64_t d) {
    __shared__ float  shf[ROW_THREADS / 32];
    __shared__ double shd[ROW_THREADS / 32];
    float *           r = x + (int64_t)blockIdx.x * d;
    float             m = -INFINITY;
    for (int64_t j = threadIdx.x; j < d; j += ROW_THREADS)
        m = fmaxf(m, r[j]);
    m = block_max(m, shf);
    if (m == -INFINITY) { /* an all -inf row: zeros, as the CPU */
        for (int64_t j = threadIdx.x; j < d; j += ROW_THREADS)
            r[j] = 0.0f;
        return;
    }
    double s = 0;
    for (int64_t j = threadIdx.x; j < d; j += ROW_THREADS) {
        float e = expf(r[j] - m);
        r[j] = e;
        s += e;
    }
    float inv = (float)(1.0 / block_sum(s, shd));
    for (int64_t j = threadIdx.x; j < d; j += ROW_THREADS)
        r[j] *= inv;
}

__device__ __forceinline__ float act_f(float v, int act) {
    switch (act) {
    case 0: /* VB_ACT_GELU_ERF */
        return 0.5f * v * (1.0f + erff(v * 0.70710678118654752440f));
    case 1: /* VB_ACT_GELU_TANH */
        return 0.5f * v * (1.0f + tanhf(0.79788456080286535588f * (v + 0.044715f * v * v * v)));
    default: /* VB_ACT_RELU */
        return v > 0.0f ? v : 0.0f;
    }
}

__global__ void k_act(float * x, int64_t n, int act) {
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        x[i] = act_f(x[i], act);
}

__global__ void k_gated(float * x, int64_t n, int64_t f, int act) {
    int64_t total = n * f;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
        int64_t r = i / f, j = i % f;
        float * row = x + r * 2 * f;
        row[j] = act_f(row[j], act) * row[f + j];
    }
}

__global__ void k_add(float * y, const float * x, int64_t n) {
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        y[i] += x[i];
}

__global__ void k_to_bf16(const float * x, int64_t ldx, int64_t n, int64_t cols, __nv_bfloat16 * y) {
    int64_t total = n * cols;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x)
        y[i] = __float2bfloat16_rn(x[(i / cols) * ldx + i % cols]);
}

__global__ void k_fill(void * p, int64_t n, int bf16, uint32_t seed) {
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        uint32_t h = (uint32_t)i * 2654435761u ^ seed * 0x9e3779b9u; /* a cheap integer hash */
        h ^= h >> 16, h *= 0x7feb352du, h ^= h >> 15, h *= 0x846ca68bu, h ^= h >> 16;
        float v = (float)(h >> 8) * (1.0f / 8388608.0f) - 1.0f; /* [-1, 1) */
        if (bf16)
            ((__nv_bfloat16 *)p)[i] = __float2bfloat16_rn(v);
        else
            ((float *)p)[i] = v;
    }
}

__global__ void k_im2col(const float * pixels, int64_t F, int64_t S, int64_t p, float * cols) {
    const int64_t G = S / p, K = 3 * p * p, total = F * G * G * K;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
        int64_t k = i % K, row = i / K; /* row = (f * G + gy) * G + gx; k = (ch * p + ky) * p + kx */
        int64_t gx = row % G, gy = (row / G) % G, f = row / (G * G);
        int64_t kx = k % p, ky = (k / p) % p, ch = k / (p * p);
        cols[i] = pixels[((f * 3 + ch) * S + gy * p + ky) * S + gx * p + kx];
    }
}

__global__ void k_vit_embed(const float * patches, const float * cls, const float * pos, int64_t F, int64_t T,
                            int64_t D, float * h) {
    const int64_t total = F * T * D;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
        int64_t j = i % D, t = (i / D) % T, f = i / (T * D);
        h[i] = (t == 0 ? cls[j] : patches[(f * (T - 1) + t - 1) * D + j]) + pos[t * D + j];
    }
}

/* Index of the first maximum of each row (engine/generate.c's vb_gen_argmax, a sequential `x[i] > x[best]` scan):
** NaNs are never picked, and a row starting with NaN gives 0 as the scan does. */
__global__ void k_argmax(const float * x, int64_t d, int32_t * out) {
    __shared__ float   shv[ROW_THREADS];
    __shared__ int64_t shi[ROW_THREADS];
    const float *      r = x + (int64_t)blockIdx.x * d;
    float              bv = -INFINITY;
    int64_t            bi = INT64_MAX;
    for (int64_t j = threadIdx.x; j < d; j += ROW_THREADS) {
        float v = r[j];
        if (v > bv || (v == bv && j < bi)) bv = v, bi = j; /* NaN: both comparisons false */
    }
    shv[threadIdx.x] = bv, shi[threadIdx.x] = bi;
    __syncthreads();
    for (int o = ROW_THREADS / 2; o > 0; o >>= 1) {
        if ((int)threadIdx.x < o) {
            float   v = shv[threadIdx.x + o];
            int64_t i = shi[threadIdx.x + o];
            if (v > shv[threadIdx.x] || (v == shv[threadIdx.x] && i < shi[threadIdx.x]))
                shv[threadIdx.x] = v, shi[threadIdx.x] = i;
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) out[blockIdx.x] = (isnan(r[0]) || shi[0] == INT64_MAX) ? 0 : (int32_t)shi[0];
}

__global__ void k_scale(float * x, int64_t n, float a) {
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        x[i] *= a;
}

static unsigned grid_for(int64_t n) {
    int64_t g = (n + 255) / 256;
    return (unsigned)(g < 1 ? 1 : g > 65535 * 16 ? 65535 * 16 : g);
}

extern "C" {

int vb_k_layernorm(cudaStream_t s, const float * x, int64_t n, int64_t d, const float * w, const float * b, float eps,
                   float * y) {
    k_layernorm<<<(unsigned)n, ROW_THREADS, 0, s>>>(x, d, w, b, eps, y);
    return (int)cudaGetLastError();
}

int vb_k_rmsnorm(cudaStream_t s, const float * x, int64_t n, int64_t d, const float * w, float eps, float * y) {
    k_rmsnorm<<<(unsigned)n, ROW_THREADS, 0, s>>>(x, d, w, eps, y);
    return (int)cudaGetLastError();
}

int vb_k_act(cudaStream_t s, float * x, int64_t n, int32_t act) {
    k_act<<<grid_for(n), 256, 0, s>>>(x, n, act);
    return (int)cudaGetLastError();
}

int vb_k_gated_act(cudaStream_t s, float * x, int64_t n, int64_t f, int32_t act) {
    k_gated<<<grid_for(n * f), 256, 0, s>>>(x, n, f, act);
    return (int)cudaGetLastError();
}

int vb_k_softmax_rows(cudaStream_t s, float * x, int64_t n, int64_t d) {
    k_softmax<<<(unsigned)n, ROW_THREADS, 0, s>>>(x, d);
    return (int)cudaGetLastError();
}

int vb_k_add(cudaStream_t s, float * y, const float * x, int64_t n) {
    k_add<<<grid_for(n), 256, 0, s>>>(y, x, n);
    return (int)cudaGetLastError();
}

int vb_k_to_bf16(cudaStream_t s, const float * x, int64_t ldx, int64_t n, int64_t cols, uint16_t * y) {
    k_to_bf16<<<grid_for(n * cols), 256, 0, s>>>(x, ldx, n, cols, (__nv_bfloat16 *)y);
    return (int)cudaGetLastError();
}

int vb_k_im2col(cudaStream_t s, const float * pixels, int64_t F, int64_t S, int64_t p, float * cols) {
    int64_t G = S / p;
    k_im2col<<<grid_for(F * G * G * 3 * p * p), 256, 0, s>>>(pixels, F, S, p, cols);
    return (int)cudaGetLastError();
}

int vb_k_vit_embed(cudaStream_t s, const float * patches, const float * cls, const float * pos, int64_t F, int64_t T,
                   int64_t D, float * h) {
    k_vit_embed<<<grid_for(F * T * D), 256, 0, s>>>(patches, cls, pos, F, T, D, h);
    return (int)cudaGetLastError();
}

int vb_k_argmax_rows(cudaStream_t s, const float * x, int64_t n, int64_t d, int32_t * out) {
    k_argmax<<<(unsigned)n, ROW_THREADS, 0, s>>>(x, d, out);
    return (int)cudaGetLastError();
}

int vb_k_scale(cudaStream_t s, float * x, int64_t n, float a) {
    k_scale<<<grid_for(n), 256, 0, s>>>(x, n, a);
    return (int)cudaGetLastError();
}

int vb_k_fill(cudaStream_t s, void * p, int64_t n, int bf16, uint32_t seed) {
    k_fill<<<grid_for(n), 256, 0, s>>>(p, n, bf16, seed);
    return (int)cudaGetLastError();
}
}
