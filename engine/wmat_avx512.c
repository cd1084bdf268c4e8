/* wmat_avx512.c — the AVX-512 f32 micro-kernel of the packed GEMM: MR x 16 tiles, one zmm accumulator per activation
** row (a panel row of 16 weights is one zmm), bf16 / f16 weights widened in registers (see engine/wmat_kern.h).
** Every output is the same chain of fused multiply-adds in k order as in the AVX2 kernel: the same bits. */
#include "engine/wmat_kern.h"

#include "engine/weights.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/* Rows per tile: MR accumulators + the weight vector + broadcasts fit the 32 zmm registers; 12 keeps 12 independent
** FMA chains in flight (2 FMA ports x 4-cycle latency needs >= 8). */
#define MR 12
#define NR 16
#ifndef A_BLOCK
#define A_BLOCK ((size_t)1 << 20)
#endif
#ifndef K_BLOCK
#define K_BLOCK 384
#endif
#define VB_AVX512        __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))
#define VB_AVX512_INLINE static inline __attribute__((always_inline, target("avx512f,avx512bw,avx512vl,avx512dq")))

/* the 16 weights of panel row k (dtype dt) at p as f32 */
VB_AVX512_INLINE __m512 ld16(const int32_t dt, const void * p) {
    if (dt == VB_DT_F32) return _mm512_loadu_ps(p);
    __m256i h = _mm256_loadu_si256((const __m256i *)p);
    if (dt == VB_DT_BF16) return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    return _mm512_cvtph_ps(h);
}

VB_AVX512_INLINE void kern_body(const int mr, const int32_t dt, int64_t kc, const float * a, const void * bp, float * c,
                                int64_t ldc, int load, const float * bias) {
    __m512 acc[MR];
#pragma GCC unroll 16
    for (int i = 0; i < mr; i++)
        acc[i] = load ? _mm512_loadu_ps(c + i * ldc) : _mm512_setzero_ps();
    const size_t es = dt == VB_DT_F32 ? 4 : 2;
    const char * b = bp;
    for (int64_t k = 0; k < kc; k++) {
        __m512 w = ld16(dt, b);
#pragma GCC unroll 16
        for (int i = 0; i < mr; i++)
            acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(a[i]), w, acc[i]);
        a += mr;
        b += NR * es;
    }
    if (bias) {
        __m512 bv = _mm512_loadu_ps(bias);
#pragma GCC unroll 16
        for (int i = 0; i < mr; i++)
            acc[i] = _mm512_add_ps(acc[i], bv);
    }
#pragma GCC unroll 16
    for (int i = 0; i < mr; i++)
        _mm512_storeu_ps(c + i * ldc, acc[i]);
}

typedef void (*kern_fn)(int64_t, const float *, const void *, float *, int64_t, int, const float *);
#define KERN(MRV, DT, NAME)                                                                                            \
    static VB_AVX512 void NAME(int64_t kc, const float * a, const void * b, float * c, int64_t ldc, int load,          \
                               const float * bias) {                                                                   \
        kern_body(MRV, DT, kc, a, b, c, ldc, load, bias);                                                              \
    }
#define KERNS_OF(DT, S)                                                                                                \
    KERN(1, DT, k1_##S)                                                                                                \
    KERN(2, DT, k2_##S)                                                                                                \
    KERN(3, DT, k3_##S)                                                                                                \
    KERN(4, DT, k4_##S)                                                                                                \
    KERN(5, DT, k5_##S)                                                                                                \
    KERN(6, DT, k6_##S)                                                                                                \
    KERN(7, DT, k7_##S)                                                                                                \
    KERN(8, DT, k8_##S)                                                                                                \
    KERN(9, DT, k9_##S)                                                                                                \
    KERN(10, DT, k10_##S)                                                                                              \
    KERN(11, DT, k11_##S)                                                                                              \
    KERN(12, DT, k12_##S)
KERNS_OF(VB_DT_F32, f32)
KERNS_OF(VB_DT_BF16, bf16)
KERNS_OF(VB_DT_F16, f16)
#define ROW_OF(S)                                                                                                      \
    { k1_##S, k2_##S, k3_##S, k4_##S, k5_##S, k6_##S, k7_##S, k8_##S, k9_##S, k10_##S, k11_##S, k12_##S }
static const kern_fn KERNS[3][MR] = {ROW_OF(f32), ROW_OF(bf16), ROW_OF(f16)};

static void tile_avx512(int mr, int32_t bdt, int64_t kc, const void * a, const void * bp, float * c, int64_t ldc,
                        int load, const float * bias) {
    int d = bdt == VB_DT_F32 ? 0 : bdt == VB_DT_BF16 ? 1 : 2;
    KERNS[d][mr - 1](kc, a, bp, c, ldc, load, bias);
}

static VB_AVX512 void panel_avx512(int32_t dt, const void * p, int64_t kc, void * dst) {
    const uint16_t * s = p;
    float *          d = dst;
    if (dt == VB_DT_BF16)
        for (int64_t i = 0; i < kc * NR; i += 16)
            _mm512_store_ps(d + i, ld16(VB_DT_BF16, s + i));
    else
        for (int64_t i = 0; i < kc * NR; i += 16)
            _mm512_store_ps(d + i, ld16(VB_DT_F16, s + i));
}

int vb_wk_cpu_avx512(void) {
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
}

const struct vb_wk vb_wk_avx512 = {"avx512", MR, 0, 1, A_BLOCK, K_BLOCK, tile_avx512, panel_avx512, 0, 1};
#else
const struct vb_wk vb_wk_avx512 = {"avx512", 12, 0, 1, (size_t)1 << 20, 0, NULL, NULL, 0, 1};
int                vb_wk_cpu_avx512(void) {
                   return 0;
}
#endif
