/* wmat_avx2.c — the AVX2 + FMA (+ F16C) micro-kernel of the packed GEMM: 6 x 16 tiles, 12 ymm accumulators (see
** engine/wmat_kern.h for the contract). */
#include "engine/wmat_kern.h"

#include "engine/cpu.h"
#include "engine/weights.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define MR             6
#define NR             16
#define VB_AVX2        __attribute__((target("avx2,fma,f16c")))
#define VB_AVX2_INLINE static inline __attribute__((always_inline, target("avx2,fma,f16c")))

/* half a bf16 pair line (32 bytes: 8 panel columns of rows k and k + 1 interleaved, engine/wmat.h) as f32: row k
** (the low halves) and row k + 1 (the high halves) */
VB_AVX2_INLINE __m256 pair_lo(__m256i v) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
}
VB_AVX2_INLINE __m256 pair_hi(__m256i v) {
    return _mm256_castsi256_ps(_mm256_and_si256(v, _mm256_set1_epi32((int)0xffff0000u)));
}

/* 8 weights of dtype dt at p as f32 (bf16: row k even of the 8 columns whose pairs start at p) */
VB_AVX2_INLINE __m256 ld8(const int32_t dt, const void * p) {
    if (dt == VB_DT_F32) return _mm256_loadu_ps((const float *)p);
    if (dt == VB_DT_BF16) return pair_lo(_mm256_loadu_si256((const __m256i *)p));
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}

/* c0[i] = a[i] w0 + c0[i], c1[i] = a[i] w1 + c1[i], i < mr: one k step of an mr x 16 tile */
VB_AVX2_INLINE void fma_rows(const int mr, __m256 * c0, __m256 * c1, const float * a, __m256 w0, __m256 w1) {
    int i = 0; /* (a statement before the pragma keeps clang-format 14 from mangling the body) */
#pragma GCC unroll 6
    for (; i < mr; i++) {
        __m256 x = _mm256_broadcast_ss(a + i);
        c0[i] = _mm256_fmadd_ps(x, w0, c0[i]);
        c1[i] = _mm256_fmadd_ps(x, w1, c1[i]);
    }
}

/* An mr x 16 tile, 2 * mr accumulators in registers (mr and dt are constants after inlining). */
VB_AVX2_INLINE void kern_body(const int mr, const int32_t dt, int64_t kc, const float * a, const void * bp, float * c,
                              int64_t ldc, int load, const float * bias) {
    __m256 c0[MR], c1[MR];
#pragma GCC unroll 6
    for (int i = 0; i < mr; i++) {
        c0[i] = load ? _mm256_loadu_ps(c + i * ldc) : _mm256_setzero_ps();
        c1[i] = load ? _mm256_loadu_ps(c + i * ldc + 8) : _mm256_setzero_ps();
    }
    const size_t es = dt == VB_DT_F32 ? 4 : 2;
    const char * b = bp;
    int64_t      k = 0;
    if (dt == VB_DT_BF16) /* a pair line (columns 0-7, 8-15) per two k steps (the same FMAs in the same order) */
        for (; k + 1 < kc; k += 2) {
            const __m256i v0 = _mm256_loadu_si256((const __m256i *)b);
            const __m256i v1 = _mm256_loadu_si256((const __m256i *)(b + 32));
            fma_rows(mr, c0, c1, a, pair_lo(v0), pair_lo(v1));
            fma_rows(mr, c0, c1, a + mr, pair_hi(v0), pair_hi(v1));
            a += 2 * mr;
            b += 2 * NR * es;
        }
    for (; k < kc; k++) {
        /* bf16 (the last, even k): the second 8 columns' pairs start 32 bytes on */
        fma_rows(mr, c0, c1, a, ld8(dt, b), ld8(dt, b + (dt == VB_DT_BF16 ? 32 : 8 * es)));
        a += mr;
        b += NR * es;
    }
    if (bias) {
        __m256 b0 = _mm256_loadu_ps(bias), b1 = _mm256_loadu_ps(bias + 8);
#pragma GCC unroll 6
        for (int i = 0; i < mr; i++)
            c0[i] = _mm256_add_ps(c0[i], b0), c1[i] = _mm256_add_ps(c1[i], b1);
    }
#pragma GCC unroll 6
    for (int i = 0; i < mr; i++) {
        _mm256_storeu_ps(c + i * ldc, c0[i]);
        _mm256_storeu_ps(c + i * ldc + 8, c1[i]);
    }
}

/* a 1 x 64 tile over four panels (bp + j * bstride bytes, j = 0..3) for GEMV steps of one activation row: four
** weight streams, eight independent FMA chains per k (the one-row tile above has two, which bounds it to one k per
** FMA latency: 32 bytes of bf16 weights per ~5 cycles on a Zen 3), each output the same chain of fused multiply-adds
** in k order as in kern_body, so the same bits; the streams are prefetched PF4_BYTES ahead */
#ifndef PF4_BYTES
#define PF4_BYTES 2048
#endif
VB_AVX2_INLINE void kern_body4(const int32_t dt, int64_t kc, const float * a, const void * bp, int64_t bstride,
                               float * c, int load, const float * bias) {
    __m256 acc[8];
#pragma GCC unroll 8
    for (int j = 0; j < 8; j++)
        acc[j] = load ? _mm256_loadu_ps(c + j * 8) : _mm256_setzero_ps();
    const size_t es = dt == VB_DT_F32 ? 4 : 2;
    const char * b = bp;
    int64_t      k = 0;
    if (dt == VB_DT_BF16) /* a pair line per panel and two k steps (the same FMAs in the same order) */
        for (; k + 1 < kc; k += 2) {
            __m256 x0 = _mm256_broadcast_ss(a + k), x1 = _mm256_broadcast_ss(a + k + 1);
#pragma GCC unroll 4
            for (int j = 0; j < 4; j++) {
                const char * bj = b + j * bstride;
                if (PF4_BYTES) _mm_prefetch(bj + PF4_BYTES, _MM_HINT_T0);
                const __m256i v0 = _mm256_loadu_si256((const __m256i *)bj);
                const __m256i v1 = _mm256_loadu_si256((const __m256i *)(bj + 32));
                acc[2 * j] = _mm256_fmadd_ps(x0, pair_lo(v0), acc[2 * j]);
                acc[2 * j + 1] = _mm256_fmadd_ps(x0, pair_lo(v1), acc[2 * j + 1]);
                acc[2 * j] = _mm256_fmadd_ps(x1, pair_hi(v0), acc[2 * j]);
                acc[2 * j + 1] = _mm256_fmadd_ps(x1, pair_hi(v1), acc[2 * j + 1]);
            }
            b += 2 * NR * es;
        }
    for (; k < kc; k++) {
        __m256 x = _mm256_broadcast_ss(a + k);
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) {
            const char * bj = b + j * bstride;
            if (PF4_BYTES && (dt == VB_DT_F32 || (k & 1) == 0)) _mm_prefetch(bj + PF4_BYTES, _MM_HINT_T0);
            acc[2 * j] = _mm256_fmadd_ps(x, ld8(dt, bj), acc[2 * j]);
            acc[2 * j + 1] = _mm256_fmadd_ps(x, ld8(dt, bj + (dt == VB_DT_BF16 ? 32 : 8 * es)), acc[2 * j + 1]);
        }
        b += NR * es;
    }
    if (bias)
#pragma GCC unroll 8
        for (int j = 0; j < 8; j++)
            acc[j] = _mm256_add_ps(acc[j], _mm256_loadu_ps(bias + j * 8));
#pragma GCC unroll 8
    for (int j = 0; j < 8; j++)
        _mm256_storeu_ps(c + j * 8, acc[j]);
}

static VB_AVX2 void p4_f32(int64_t kc, const float * a, const void * b, int64_t bs, float * c, int load,
                           const float * bias) {
    kern_body4(VB_DT_F32, kc, a, b, bs, c, load, bias);
}
static VB_AVX2 void p4_bf16(int64_t kc, const float * a, const void * b, int64_t bs, float * c, int load,
                            const float * bias) {
    kern_body4(VB_DT_BF16, kc, a, b, bs, c, load, bias);
}
static VB_AVX2 void p4_f16(int64_t kc, const float * a, const void * b, int64_t bs, float * c, int load,
                           const float * bias) {
    kern_body4(VB_DT_F16, kc, a, b, bs, c, load, bias);
}

static void tile4_avx2(int32_t bdt, int64_t kc, const float * a, const void * bp, int64_t bstride, float * c, int load,
                       const float * bias) {
    if (bdt == VB_DT_F32)
        p4_f32(kc, a, bp, bstride, c, load, bias);
    else if (bdt == VB_DT_BF16)
        p4_bf16(kc, a, bp, bstride, c, load, bias);
    else
        p4_f16(kc, a, bp, bstride, c, load, bias);
}

typedef void (*kern_fn)(int64_t, const float *, const void *, float *, int64_t, int, const float *);
#define KERN(MRV, DT, NAME)                                                                                            \
    static VB_AVX2 void NAME(int64_t kc, const float * a, const void * b, float * c, int64_t ldc, int load,            \
                             const float * bias) {                                                                     \
        kern_body(MRV, DT, kc, a, b, c, ldc, load, bias);                                                              \
    }
KERN(1, VB_DT_F32, k1_f32)
KERN(2, VB_DT_F32, k2_f32)
KERN(3, VB_DT_F32, k3_f32)
KERN(4, VB_DT_F32, k4_f32)
KERN(5, VB_DT_F32, k5_f32)
KERN(6, VB_DT_F32, k6_f32)
KERN(1, VB_DT_BF16, k1_bf16)
KERN(2, VB_DT_BF16, k2_bf16)
KERN(3, VB_DT_BF16, k3_bf16)
KERN(4, VB_DT_BF16, k4_bf16)
KERN(5, VB_DT_BF16, k5_bf16)
KERN(6, VB_DT_BF16, k6_bf16)
KERN(1, VB_DT_F16, k1_f16)
KERN(2, VB_DT_F16, k2_f16)
KERN(3, VB_DT_F16, k3_f16)
KERN(4, VB_DT_F16, k4_f16)
KERN(5, VB_DT_F16, k5_f16)
KERN(6, VB_DT_F16, k6_f16)
static const kern_fn KERNS[3][MR] = {{k1_f32, k2_f32, k3_f32, k4_f32, k5_f32, k6_f32},
                                     {k1_bf16, k2_bf16, k3_bf16, k4_bf16, k5_bf16, k6_bf16},
                                     {k1_f16, k2_f16, k3_f16, k4_f16, k5_f16, k6_f16}};

static void tile_avx2(int mr, int32_t bdt, int64_t kc, const void * a, const void * bp, float * c, int64_t ldc,
                      int load, const float * bias) {
    int d = bdt == VB_DT_F32 ? 0 : bdt == VB_DT_BF16 ? 1 : 2;
    KERNS[d][mr - 1](kc, a, bp, c, ldc, load, bias);
}

static VB_AVX2 void panel_avx2(int32_t dt, const void * p, int64_t kc, void * dst) {
    const uint16_t * s = p;
    float *          d = dst;
    if (dt == VB_DT_BF16) /* pair lines: rows k, k + 1 from each (row k only past an odd end) */
        for (int64_t k = 0; k < kc; k += 2)
            for (int h = 0; h < 2; h++) { /* columns 0-7, 8-15 */
                const __m256i v = _mm256_loadu_si256((const __m256i *)(s + k * NR + 16 * h));
                _mm256_store_ps(d + k * NR + 8 * h, pair_lo(v));
                if (k + 1 < kc) _mm256_store_ps(d + (k + 1) * NR + 8 * h, pair_hi(v));
            }
    else
        for (int64_t i = 0; i < kc * NR; i += 8)
            _mm256_store_ps(d + i, ld8(VB_DT_F16, s + i));
}

int vb_wk_cpu_avx2(void) {
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c") &&
           vb_cpu_allowed(VB_CPU_AVX2);
}

/* Blocks of the whole k range, 4 MiB of packed rows: measured on the 2-core Zen 3, f32, at 128 x 10240 x 2048 and
** 2056 x 4224 x 1408, 0.85-0.93x the time of 256-deep k blocks (a C tile reloaded per k block costs more than B
** panels streamed from L2); 1 MiB vs 4 MiB blocks: within noise (0.96-1.05). */
const struct vb_wk vb_wk_avx2 = {.name = "avx2",
                                 .mr = MR,
                                 .half_regs = 1,
                                 .a_block = (size_t)4 << 20,
                                 .tile = tile_avx2,
                                 .panel = panel_avx2,
                                 .kc_align = 1,
                                 .tile4 = tile4_avx2};
#else
const struct vb_wk vb_wk_avx2 = {.name = "avx2", .mr = 6, .half_regs = 1, .a_block = (size_t)4 << 20, .kc_align = 1};
int                vb_wk_cpu_avx2(void) {
                   return 0;
}
#endif
