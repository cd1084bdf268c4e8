/* wmat_avx512.c — the AVX-512 f32 micro-kernel of the packed GEMM: MR x 16 tiles, one zmm accumulator per activation
** row (a panel row of 16 weights is one zmm), bf16 / f16 weights widened in registers (see engine/wmat_kern.h).
** Every output is the same chain of fused multiply-adds in k order as in the AVX2 kernel: the same bits. */
#include "engine/wmat_kern.h"

#include "engine/cpu.h"
#include "engine/weights.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#include "engine/wmat_zmm.h"

/* Rows per tile: MR accumulators + the weight vector + broadcasts fit the 32 zmm registers; 12 keeps 12 independent
** FMA chains in flight (2 FMA ports x 4-cycle latency needs >= 8). */
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
/* GEMV-like tiles (at most PF_MR rows) prefetch the weight stream PF_BYTES ahead (0: no prefetch) */
#ifndef PF_BYTES
#define PF_BYTES 2048
#endif
#ifndef PF_HINT
#define PF_HINT _MM_HINT_T0
#endif
#define PF_MR            4
#define VB_AVX512        __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))
#define VB_AVX512_INLINE static inline __attribute__((always_inline, target("avx512f,avx512bw,avx512vl,avx512dq")))

/* a bf16 pair line (64 bytes: panel rows k and k + 1 interleaved, engine/wmat.h) as f32: row k (the low halves) and
** row k + 1 (the high halves) */
VB_AVX512_INLINE __m512 pair_lo(__m512i v) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));
}
VB_AVX512_INLINE __m512 pair_hi(__m512i v) {
    return _mm512_castsi512_ps(_mm512_and_si512(v, _mm512_set1_epi32((int)0xffff0000u)));
}

/* the 16 weights of panel row k (dtype dt) at p as f32; bf16: k even, p the start of its pair line */
VB_AVX512_INLINE __m512 ld16(const int32_t dt, const void * p) {
    if (dt == VB_DT_F32) return _mm512_loadu_ps(p);
    if (dt == VB_DT_BF16) return pair_lo(_mm512_loadu_si512(p));
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p));
}

/* acc[i] = a[i] w + acc[i], i < mr: one k step of an mr-row tile */
VB_AVX512_INLINE void fma_rows(const int mr, __m512 * acc, const float * a, __m512 w) {
    int i = 0; /* (a statement before the pragma keeps clang-format 14 from mangling the body) */
#pragma GCC unroll 16
    for (; i < mr; i++)
        acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(a[i]), w, acc[i]);
}

VB_AVX512_INLINE void kern_body(const int mr, const int32_t dt, int64_t kc, const float * a, const void * bp, float * c,
                                int64_t ldc, int load, const float * bias) {
    __m512 acc[MR];
#pragma GCC unroll 16
    for (int i = 0; i < mr; i++)
        acc[i] = load ? _mm512_loadu_ps(c + i * ldc) : _mm512_setzero_ps();
    const size_t es = dt == VB_DT_F32 ? 4 : 2;
    const char * b = bp;
    int64_t      k = 0;
    if (dt == VB_DT_BF16) /* a pair line per two k steps (the same FMAs in the same order) */
        for (; k + 1 < kc; k += 2) {
            if (PF_BYTES && mr <= PF_MR) _mm_prefetch(b + PF_BYTES, PF_HINT);
            const __m512i v = _mm512_loadu_si512(b);
            fma_rows(mr, acc, a, pair_lo(v));
            fma_rows(mr, acc, a + mr, pair_hi(v));
            a += 2 * mr;
            b += 2 * NR * es;
        }
    for (; k < kc; k++) {
        if (PF_BYTES && mr <= PF_MR) _mm_prefetch(b + PF_BYTES, PF_HINT);
        fma_rows(mr, acc, a, ld16(dt, b));
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

/* acc0[i] = a[i] w0 + acc0[i], acc1[i] = a[i] w1 + acc1[i], i < mr: one k step of an mr x 32 tile */
VB_AVX512_INLINE void fma2_rows(const int mr, __m512 * acc0, __m512 * acc1, const float * a, __m512 w0, __m512 w1) {
    int i = 0; /* (a statement before the pragma keeps clang-format 14 from mangling the body) */
#pragma GCC unroll 16
    for (; i < mr; i++) {
        __m512 x = _mm512_set1_ps(a[i]);
        acc0[i] = _mm512_fmadd_ps(x, w0, acc0[i]);
        acc1[i] = _mm512_fmadd_ps(x, w1, acc1[i]);
    }
}

/* an mr x 32 tile over two panels (bp, bp + bstride bytes): each broadcast activation feeds two FMAs, so a k step
** loads 2 + mr values for 2 mr FMAs (the one-panel tile loads 1 + mr for mr: more loads than the two load ports
** serve next to the two FMA ports).  Prefetches: GEMV-like tiles (mr <= PF_MR) their own weight streams PF_BYTES
** ahead; larger ones the C tile of the next call; and the npf lines at pf (the next work unit's weights) into L2
** (struct vb_wk_pf, engine/wmat_kern.h). */
VB_AVX512_INLINE void kern_body2(const int mr, const int32_t dt, int64_t kc, const float * a, const void * bp,
                                 int64_t bstride, float * c, int64_t ldc, int load, const float * bias, const char * pf,
                                 int64_t npf) {
    __m512 acc0[MR], acc1[MR];
    vb_zmm_tile2_load(mr, acc0, acc1, c, ldc, load);
    const size_t    es = dt == VB_DT_F32 ? 4 : 2;
    const char *    b = bp;
    struct vb_wk_pf ps = vb_wk_pf_start(c, ldc, pf, npf, kc);
    int64_t         k = 0;
    if (dt == VB_DT_BF16) /* a pair line per panel and two k steps (the same FMAs in the same order) */
        for (; k + 1 < kc; k += 2) {
            if (PF_BYTES && mr <= PF_MR) {
                _mm_prefetch(b + PF_BYTES, PF_HINT);
                _mm_prefetch(b + bstride + PF_BYTES, PF_HINT);
            }
            vb_wk_pf_step(&ps, k, mr, mr > PF_MR);
            vb_wk_pf_step(&ps, k + 1, mr, mr > PF_MR);
            const __m512i v0 = _mm512_loadu_si512(b), v1 = _mm512_loadu_si512(b + bstride);
            fma2_rows(mr, acc0, acc1, a, pair_lo(v0), pair_lo(v1));
            fma2_rows(mr, acc0, acc1, a + mr, pair_hi(v0), pair_hi(v1));
            a += 2 * mr;
            b += 2 * NR * es;
        }
    for (; k < kc; k++) {
        if (PF_BYTES && mr <= PF_MR) {
            _mm_prefetch(b + PF_BYTES, PF_HINT);
            _mm_prefetch(b + bstride + PF_BYTES, PF_HINT);
        }
        vb_wk_pf_step(&ps, k, mr, mr > PF_MR);
        fma2_rows(mr, acc0, acc1, a, ld16(dt, b), ld16(dt, b + bstride));
        a += mr;
        b += NR * es;
    }
    vb_zmm_tile2_store(mr, acc0, acc1, c, ldc, bias);
}

/* a 1 x 64 tile over four panels (bp + j * bstride bytes, j = 0..3) for GEMV steps of one activation row: four
** weight streams and four independent FMA chains per k (the two-panel tile of one row has two), each output the same
** chain of fused multiply-adds in k order as in kern_body, so the same bits */
VB_AVX512_INLINE void kern_body4(const int32_t dt, int64_t kc, const float * a, const void * bp, int64_t bstride,
                                 float * c, int load, const float * bias) {
    __m512 acc[4];
#pragma GCC unroll 4
    for (int j = 0; j < 4; j++)
        acc[j] = load ? _mm512_loadu_ps(c + j * NR) : _mm512_setzero_ps();
    const size_t es = dt == VB_DT_F32 ? 4 : 2;
    const char * b = bp;
    int64_t      k = 0;
    if (dt == VB_DT_BF16) /* a pair line per panel and two k steps (the same FMAs in the same order) */
        for (; k + 1 < kc; k += 2) {
            __m512 x0 = _mm512_set1_ps(a[k]), x1 = _mm512_set1_ps(a[k + 1]);
#pragma GCC unroll 4
            for (int j = 0; j < 4; j++) {
                if (PF_BYTES) _mm_prefetch(b + j * bstride + PF_BYTES, PF_HINT);
                const __m512i v = _mm512_loadu_si512(b + j * bstride);
                acc[j] = _mm512_fmadd_ps(x0, pair_lo(v), acc[j]);
                acc[j] = _mm512_fmadd_ps(x1, pair_hi(v), acc[j]);
            }
            b += 2 * NR * es;
        }
    for (; k < kc; k++) {
        __m512 x = _mm512_set1_ps(a[k]);
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) {
            if (PF_BYTES) _mm_prefetch(b + j * bstride + PF_BYTES, PF_HINT);
            acc[j] = _mm512_fmadd_ps(x, ld16(dt, b + j * bstride), acc[j]);
        }
        b += NR * es;
    }
    if (bias)
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++)
            acc[j] = _mm512_add_ps(acc[j], _mm512_loadu_ps(bias + j * NR));
#pragma GCC unroll 4
    for (int j = 0; j < 4; j++)
        _mm512_storeu_ps(c + j * NR, acc[j]);
}

static VB_AVX512 void p4_f32(int64_t kc, const float * a, const void * b, int64_t bs, float * c, int load,
                             const float * bias) {
    kern_body4(VB_DT_F32, kc, a, b, bs, c, load, bias);
}
static VB_AVX512 void p4_bf16(int64_t kc, const float * a, const void * b, int64_t bs, float * c, int load,
                              const float * bias) {
    kern_body4(VB_DT_BF16, kc, a, b, bs, c, load, bias);
}
static VB_AVX512 void p4_f16(int64_t kc, const float * a, const void * b, int64_t bs, float * c, int load,
                             const float * bias) {
    kern_body4(VB_DT_F16, kc, a, b, bs, c, load, bias);
}

static void tile4_avx512(int32_t bdt, int64_t kc, const float * a, const void * bp, int64_t bstride, float * c,
                         int load, const float * bias) {
    if (bdt == VB_DT_F32)
        p4_f32(kc, a, bp, bstride, c, load, bias);
    else if (bdt == VB_DT_BF16)
        p4_bf16(kc, a, bp, bstride, c, load, bias);
    else
        p4_f16(kc, a, bp, bstride, c, load, bias);
}

typedef void (*kern_fn)(int64_t, const float *, const void *, float *, int64_t, int, const float *);
typedef void (*kern2_fn)(int64_t, const float *, const void *, int64_t, float *, int64_t, int, const float *,
                         const void *, int64_t);
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

#define KERN2(MRV, DT, NAME)                                                                                           \
    static VB_AVX512 void NAME(int64_t kc, const float * a, const void * b, int64_t bs, float * c, int64_t ldc,        \
                               int load, const float * bias, const void * pf, int64_t npf) {                           \
        kern_body2(MRV, DT, kc, a, b, bs, c, ldc, load, bias, pf, npf);                                                \
    }
#define KERNS2_OF(DT, S)                                                                                               \
    KERN2(1, DT, q1_##S)                                                                                               \
    KERN2(2, DT, q2_##S)                                                                                               \
    KERN2(3, DT, q3_##S)                                                                                               \
    KERN2(4, DT, q4_##S)                                                                                               \
    KERN2(5, DT, q5_##S)                                                                                               \
    KERN2(6, DT, q6_##S)                                                                                               \
    KERN2(7, DT, q7_##S)                                                                                               \
    KERN2(8, DT, q8_##S)                                                                                               \
    KERN2(9, DT, q9_##S)                                                                                               \
    KERN2(10, DT, q10_##S)                                                                                             \
    KERN2(11, DT, q11_##S)                                                                                             \
    KERN2(12, DT, q12_##S)
KERNS2_OF(VB_DT_F32, f32)
KERNS2_OF(VB_DT_BF16, bf16)
KERNS2_OF(VB_DT_F16, f16)
#define ROW2_OF(S)                                                                                                     \
    { q1_##S, q2_##S, q3_##S, q4_##S, q5_##S, q6_##S, q7_##S, q8_##S, q9_##S, q10_##S, q11_##S, q12_##S }
static const kern2_fn KERNS2[3][MR] = {ROW2_OF(f32), ROW2_OF(bf16), ROW2_OF(f16)};

static void tile2_avx512(int mr, int32_t bdt, int64_t kc, const void * a, const void * bp, int64_t bstride, float * c,
                         int64_t ldc, int load, const float * bias, const void * pf, int64_t npf) {
    int d = bdt == VB_DT_F32 ? 0 : bdt == VB_DT_BF16 ? 1 : 2;
    KERNS2[d][mr - 1](kc, a, bp, bstride, c, ldc, load, bias, pf, npf);
}

static void tile_avx512(int mr, int32_t bdt, int64_t kc, const void * a, const void * bp, float * c, int64_t ldc,
                        int load, const float * bias) {
    int d = bdt == VB_DT_F32 ? 0 : bdt == VB_DT_BF16 ? 1 : 2;
    KERNS[d][mr - 1](kc, a, bp, c, ldc, load, bias);
}

static VB_AVX512 void panel_avx512(int32_t dt, const void * p, int64_t kc, void * dst) {
    const uint16_t * s = p;
    float *          d = dst;
    if (dt == VB_DT_BF16) /* pair lines: rows k, k + 1 from each (row k only past an odd end) */
        for (int64_t k = 0; k < kc; k += 2) {
            const __m512i v = _mm512_loadu_si512(s + k * NR);
            _mm512_store_ps(d + k * NR, pair_lo(v));
            if (k + 1 < kc) _mm512_store_ps(d + (k + 1) * NR, pair_hi(v));
        }
    else
        for (int64_t i = 0; i < kc * NR; i += 16)
            _mm512_store_ps(d + i, ld16(VB_DT_F16, s + i));
}

/* the [kl][mr] packing of a group: for a whole group of 12 rows, 16 values of k (192 floats, 12 vectors of the
** packed layout) per step, each vector gathered from the 12 rows; the rest element by element */
static VB_AVX512 void pack_avx512(const float * x, int64_t ldx, int mr, int64_t kl, float * dst) {
    int64_t k = 0;
    if (mr == MR && ldx * MR + 16 < ((int64_t)1 << 31)) {
        __m512i idx[MR];
        for (int j = 0; j < MR; j++) {
            int32_t v[16];
            for (int m = 0; m < 16; m++) {
                int e = 16 * j + m; /* element e of the 16 x 12 block: k = e / 12, row e % 12 */
                v[m] = (int32_t)((e % MR) * ldx + e / MR);
            }
            idx[j] = _mm512_loadu_si512(v);
        }
        for (; k + 16 <= kl; k += 16)
#pragma GCC unroll 12
            for (int j = 0; j < MR; j++)
                _mm512_storeu_ps(dst + k * MR + 16 * j, _mm512_i32gather_ps(idx[j], x + k, 4));
    }
    for (; k < kl; k++)
        for (int i = 0; i < mr; i++)
            dst[k * mr + i] = x[i * ldx + k];
}

int vb_wk_cpu_avx512(void) {
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") && vb_cpu_allowed(VB_CPU_AVX512);
}

const struct vb_wk vb_wk_avx512 = {.name = "avx512",
                                   .mr = MR,
                                   .half_regs = 1,
                                   .a_block = A_BLOCK,
                                   .k_block = K_BLOCK,
                                   .b_block = B_BLOCK,
                                   .tile = tile_avx512,
                                   .panel = panel_avx512,
                                   .kc_align = 1,
                                   .tile2 = tile2_avx512,
                                   .pack = pack_avx512,
                                   .tile4 = tile4_avx512};
#else
const struct vb_wk vb_wk_avx512 = {
    .name = "avx512", .mr = 12, .half_regs = 1, .a_block = (size_t)1 << 20, .kc_align = 1};
int vb_wk_cpu_avx512(void) {
    return 0;
}
#endif
