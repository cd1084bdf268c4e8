/* attn_pair.h — internal to the attention kernels (engine/attn_small.c, engine/attn_amx.c): one (problem, head) pair
** of a vb_attn_batch (engine/attn_small.h), its row accessors and the vector exp of the softmax. */
#ifndef VB_ATTN_PAIR_H
#define VB_ATTN_PAIR_H

#include "engine/attn_small.h"

#include <stddef.h>
#include <stdint.h>

/* The rows of one (problem, head) pair: the head's first element of query / key / value / output row 0. */
struct pair {
    const float *q, *k, *v, *k2, *v2, *mask, *q2, *bias; /* bias: the head's (nq, nk) score bias, or NULL */
    float *      out, *out2;
    int64_t      nq1; /* queries from q / to out; the rest from q2 / to out2 */
};

/* query row i / output row i of a pair (used by the avx512 kernel only: unused where it is left out) */
__attribute__((unused)) static inline const float * q_row(const struct vb_attn_batch * a, const struct pair * p,
                                                          int64_t i) {
    return i < p->nq1 ? p->q + i * a->ldq : p->q2 + (i - p->nq1) * a->ldq;
}
__attribute__((unused)) static inline float * o_row(const struct vb_attn_batch * a, const struct pair * p, int64_t i) {
    return i < p->nq1 ? p->out + i * a->ldo : p->out2 + (i - p->nq1) * a->ldo;
}

static inline struct pair pair_at(const struct vb_attn_batch * a, int64_t b, int32_t h) {
    const int64_t o = (int64_t)h * a->dh;
    struct pair   p = {a->q + b * a->sq + o,
                       a->k + b * a->sk + o,
                       a->v + b * a->sv + o,
                     a->k2 ? a->k2 + b * a->sk2 + o : NULL,
                     a->v2 ? a->v2 + b * a->sv2 + o : NULL,
                     a->mask ? a->mask + b * a->smask : NULL,
                     a->q2 ? a->q2 + b * a->sq2 + o : NULL,
                     a->bias ? a->bias + b * a->sbias + (int64_t)h * a->nq * a->nk : NULL,
                       a->out + b * a->so + o,
                     a->q2 ? a->out2 + b * a->so2 + o : NULL,
                     a->q2 ? a->nq1 : a->nq};
    return p;
}

/* The AMX-BF16 kernel (engine/attn_amx.c; bf16 compute): the scratch floats one pair needs, and one pair. */
size_t vb_attn_amx_scratch_floats(const struct vb_attn_batch * a);
void   vb_attn_pair_amx(const struct vb_attn_batch * a, const struct pair * p, float * scratch);

#if defined(__x86_64__) && defined(__GNUC__) && !defined(VB_NO_AVX512_ATTN)
#include <immintrin.h>
#define VB_A512_INLINE static inline __attribute__((always_inline, target("avx512f")))

/* exp of 16 floats: engine/ops.c's exp8 (Cephes expf: n = floor(x log2 e + 1/2), r = x - n ln 2 in two parts,
** degree-6 polynomial, 2^n from the exponent bits) operation for operation, without fused multiply-adds as ops.c is
** compiled (ISO C: no contraction), so every lane gives the bits of ops.c's softmax; x < -87.33654 gives 0, NaN stays
** NaN. */
VB_A512_INLINE __m512 exp16(__m512 x) {
#define C_(v) _mm512_set1_ps(v)
    __mmask16 under = _mm512_cmp_ps_mask(x, C_(-87.33654f), _CMP_LT_OQ);
    x = _mm512_mask_blend_ps(under, x, C_(-87.0f));
    x = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, C_(88.37626f), _CMP_GT_OQ), x, C_(88.37626f));
    __m512 fx = _mm512_add_ps(_mm512_mul_ps(x, C_(1.44269504088896341f)), C_(0.5f));
    __m512 tf = _mm512_roundscale_ps(fx, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC); /* = ops.c's truncate-adjust */
    __m512 r =
        _mm512_add_ps(_mm512_sub_ps(x, _mm512_mul_ps(tf, C_(0.693359375f))), _mm512_mul_ps(tf, C_(2.12194440e-4f)));
    __m512 r2 = _mm512_mul_ps(r, r);
    __m512 y = C_(1.9875691500e-4f);
    y = _mm512_add_ps(_mm512_mul_ps(y, r), C_(1.3981999507e-3f));
    y = _mm512_add_ps(_mm512_mul_ps(y, r), C_(8.3333519073e-3f));
    y = _mm512_add_ps(_mm512_mul_ps(y, r), C_(4.1665795894e-2f));
    y = _mm512_add_ps(_mm512_mul_ps(y, r), C_(1.6666665459e-1f));
    y = _mm512_add_ps(_mm512_mul_ps(y, r), C_(5.0000001201e-1f));
    y = _mm512_add_ps(_mm512_add_ps(_mm512_mul_ps(y, r2), r), C_(1.0f));
    __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvttps_epi32(tf), _mm512_set1_epi32(127)), 23);
    return _mm512_maskz_mov_ps((__mmask16)~under, _mm512_mul_ps(y, _mm512_castsi512_ps(e)));
#undef C_
}

/* Transpose of one 16 x 16 block: dst row k, column c = src row c, column k.  Source rows sr[0 .. nr-1] (rows past
** nr read as zeros), columns under lm (loaded as zeros elsewhere); destination rows dr[0 .. nw-1], stored under sm.
** In registers: 32-bit interleave of row pairs, 64-bit interleave of pairs of those, then 128-bit lanes twice. */
VB_A512_INLINE void tr_block(const float * const * sr, int nr, __mmask16 lm, float * const * dr, int nw, __mmask16 sm) {
    __m512 r[16], t[16];
#pragma GCC unroll 16
    for (int i = 0; i < 16; i++)
        r[i] = i < nr ? _mm512_maskz_loadu_ps(lm, sr[i]) : _mm512_setzero_ps();
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
        const __m512d a0 = _mm512_castps_pd(t[4 * i]), a1 = _mm512_castps_pd(t[4 * i + 1]);
        const __m512d a2 = _mm512_castps_pd(t[4 * i + 2]), a3 = _mm512_castps_pd(t[4 * i + 3]);
        r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a0, a2));
        r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a0, a2));
        r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(a1, a3));
        r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(a1, a3));
    }
#pragma GCC unroll 2
    for (int i = 0; i < 2; i++)
#pragma GCC unroll 4
        for (int k = 0; k < 4; k++) {
            t[8 * i + k] = _mm512_shuffle_f32x4(r[8 * i + k], r[8 * i + 4 + k], 0x88);
            t[8 * i + 4 + k] = _mm512_shuffle_f32x4(r[8 * i + k], r[8 * i + 4 + k], 0xdd);
        }
#pragma GCC unroll 8
    for (int k = 0; k < 8; k++) {
        r[k] = _mm512_shuffle_f32x4(t[k], t[k + 8], 0x88);
        r[k + 8] = _mm512_shuffle_f32x4(t[k], t[k + 8], 0xdd);
    }
#pragma GCC unroll 16
    for (int k = 0; k < 16; k++)
        if (k < nw) _mm512_mask_storeu_ps(dr[k], sm, r[k]);
}

/* mask of the first n lanes (none for n <= 0, all 16 for n >= 16) */
static inline __mmask16 lanes(int64_t n) {
    return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1);
}

#endif

#endif
