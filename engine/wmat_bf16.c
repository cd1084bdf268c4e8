/* wmat_bf16.c — the AVX512_BF16 micro-kernel of the packed GEMM (vb_wmat_set_compute(VB_COMPUTE_BF16)): MR x 16
** tiles, activations and weights as bf16 pairs, one vdpbf16ps per pair of k (products of bf16 values are exact in
** f32; accumulation in f32), and the panel conversion to pairs (see engine/wmat_kern.h). */
#include "engine/wmat_kern.h"

#include "engine/cpu.h"
#include "engine/weights.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#include "engine/wmat_zmm.h"

#define MR 12
#define NR 16
#ifndef A_BLOCK
#define A_BLOCK ((size_t)1 << 20)
#endif
/* bytes of weight panels per chunk: in L2 while every activation group runs over them (engine/wmat_gemm.c) */
#ifndef B_BLOCK
#define B_BLOCK ((size_t)768 << 10)
#endif
#ifndef K_BLOCK
#define K_BLOCK 384
#endif
#define VB_BF16_T      "avx512f,avx512bw,avx512vl,avx512dq,avx512bf16"
#define VB_BF16        __attribute__((target(VB_BF16_T)))
#define VB_BF16_INLINE static inline __attribute__((always_inline, target(VB_BF16_T)))

VB_BF16_INLINE void kern_body(const int mr, int64_t kc, const uint32_t * a, const uint32_t * b, float * c, int64_t ldc,
                              int load, const float * bias) {
    __m512 acc[MR];
#pragma GCC unroll 16
    for (int i = 0; i < mr; i++)
        acc[i] = load ? _mm512_loadu_ps(c + i * ldc) : _mm512_setzero_ps();
    for (int64_t t = 0; t < kc; t++) {
        __m512bh w = (__m512bh)_mm512_loadu_si512(b);
#pragma GCC unroll 16
        for (int i = 0; i < mr; i++)
            acc[i] = _mm512_dpbf16_ps(acc[i], (__m512bh)_mm512_set1_epi32((int)a[i]), w);
        a += mr;
        b += NR;
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

/* an mr x 32 tile over two panels (b, b + bstride bytes): each broadcast activation pair feeds two vdpbf16ps, so a k
** pair step loads 2 + mr values for 2 mr products (the one-panel tile: 1 + mr for mr, more loads than the two load
** ports serve where vdpbf16ps runs at the FMA rate, as on Zen 4 / Zen 5); each output the same chain as kern_body's.
** Prefetches: the next call's C tile (mr > 4) and the npf lines at pf (the next work unit's weights) into L2
** (struct vb_wk_pf, engine/wmat_kern.h). */
VB_BF16_INLINE void kern_body2(const int mr, int64_t kc, const uint32_t * a, const uint32_t * b, int64_t bstride,
                               float * c, int64_t ldc, int load, const float * bias, const void * pf, int64_t npf) {
    __m512 acc0[MR], acc1[MR];
    vb_zmm_tile2_load(mr, acc0, acc1, c, ldc, load);
    const uint32_t * b1 = (const uint32_t *)((const char *)b + bstride);
    struct vb_wk_pf  ps = vb_wk_pf_start(c, ldc, pf, npf, kc);
    for (int64_t t = 0; t < kc; t++) {
        vb_wk_pf_step(&ps, t, mr, mr > 4);
        __m512bh w0 = (__m512bh)_mm512_loadu_si512(b), w1 = (__m512bh)_mm512_loadu_si512(b1);
#pragma GCC unroll 16
        for (int i = 0; i < mr; i++) {
            __m512bh x = (__m512bh)_mm512_set1_epi32((int)a[i]);
            acc0[i] = _mm512_dpbf16_ps(acc0[i], x, w0);
            acc1[i] = _mm512_dpbf16_ps(acc1[i], x, w1);
        }
        a += mr;
        b += NR;
        b1 += NR;
    }
    vb_zmm_tile2_store(mr, acc0, acc1, c, ldc, bias);
}

typedef void (*kern_fn)(int64_t, const uint32_t *, const uint32_t *, float *, int64_t, int, const float *);
typedef void (*kern2_fn)(int64_t, const uint32_t *, const uint32_t *, int64_t, float *, int64_t, int, const float *,
                         const void *, int64_t);
#define KERN(MRV)                                                                                                      \
    static VB_BF16 void k##MRV(int64_t kc, const uint32_t * a, const uint32_t * b, float * c, int64_t ldc, int load,   \
                               const float * bias) {                                                                   \
        kern_body(MRV, kc, a, b, c, ldc, load, bias);                                                                  \
    }
KERN(1)
KERN(2)
KERN(3)
KERN(4)
KERN(5)
KERN(6)
KERN(7)
KERN(8)
KERN(9)
KERN(10)
KERN(11)
KERN(12)
static const kern_fn KERNS[MR] = {k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11, k12};

#define KERN2(MRV)                                                                                                     \
    static VB_BF16 void q##MRV(int64_t kc, const uint32_t * a, const uint32_t * b, int64_t bs, float * c, int64_t ldc, \
                               int load, const float * bias, const void * pf, int64_t npf) {                           \
        kern_body2(MRV, kc, a, b, bs, c, ldc, load, bias, pf, npf);                                                    \
    }
KERN2(1)
KERN2(2)
KERN2(3)
KERN2(4)
KERN2(5)
KERN2(6)
KERN2(7)
KERN2(8)
KERN2(9)
KERN2(10)
KERN2(11)
KERN2(12)
static const kern2_fn KERNS2[MR] = {q1, q2, q3, q4, q5, q6, q7, q8, q9, q10, q11, q12};

static void tile2_bf16(int mr, int32_t bdt, int64_t kc, const void * a, const void * bp, int64_t bstride, float * c,
                       int64_t ldc, int load, const float * bias, const void * pf, int64_t npf) {
    (void)bdt;
    KERNS2[mr - 1](kc, a, bp, bstride, c, ldc, load, bias, pf, npf);
}

static void tile_bf16(int mr, int32_t bdt, int64_t kc, const void * a, const void * bp, float * c, int64_t ldc,
                      int load, const float * bias) {
    (void)bdt;
    KERNS[mr - 1](kc, a, bp, c, ldc, load, bias);
}

/* lanes j of the result: (bf16 of lo[j]) | (bf16 of hi[j]) << 16, from two rows of 16 bf16 in one vector (lo in
** the low 256 bits) */
VB_BF16_INLINE __m512i interleave(__m512i rows) {
    const __m512i idx = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22, 6, 21,
                                         5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    return _mm512_permutexvar_epi16(idx, rows);
}

VB_BF16_INLINE __m512 row_f32(int32_t dt, const void * p) {
    if (dt == VB_DT_F32) return _mm512_loadu_ps(p);
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p)); /* f16 */
}

static VB_BF16 void panel_bf16(int32_t dt, const void * p, int64_t K, void * dst) {
    uint32_t *    d = dst;
    const int64_t K2 = (K + 1) / 2;
    for (int64_t t = 0; t < K2; t++) {
        const int64_t k = 2 * t;
        __m512i       v;
        if (dt == VB_DT_BF16) /* the resident pair line as it is (a zero past an odd end already) */
            v = _mm512_loadu_si512((const uint16_t *)p + k * NR);
        else {
            const size_t es = dt == VB_DT_F32 ? 4 : 2;
            const char * s = (const char *)p + (size_t)(k * NR) * es;
            __m512       lo = row_f32(dt, s), hi = k + 1 < K ? row_f32(dt, s + NR * es) : _mm512_setzero_ps();
            v = interleave((__m512i)_mm512_cvtne2ps_pbh(hi, lo));
        }
        _mm512_storeu_si512(d + t * NR, v);
    }
}

int vb_wk_cpu_avx512bf16(void) {
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512bf16") && vb_cpu_allowed(VB_CPU_AVX512BF16);
}

const struct vb_wk vb_wk_avx512bf16 = {.name = "avx512bf16",
                                       .mr = MR,
                                       .bf16 = 1,
                                       .a_block = A_BLOCK,
                                       .k_block = K_BLOCK,
                                       .b_block = B_BLOCK,
                                       .tile = tile_bf16,
                                       .panel = panel_bf16,
                                       .kc_align = 1,
                                       .tile2 = tile2_bf16};
#else
const struct vb_wk vb_wk_avx512bf16 = {
    .name = "avx512bf16", .mr = 12, .bf16 = 1, .a_block = (size_t)1 << 20, .kc_align = 1};
int vb_wk_cpu_avx512bf16(void) {
    return 0;
}
#endif
