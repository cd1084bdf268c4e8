/* attn_amx.c — the AMX-BF16 kernel of vb_attention_batch (engine/attn_small.h) for bf16 compute: per (problem, head)
** pair the two products on AMX tiles, bf16 operands multiplied exactly and summed in f32, the softmax in f32 between
** them.
**
** Per pair (dh <= 128, any nq / nk, both query blocks and both key blocks, bias and mask as attn_small.h):
**   1. Q (nq, dh) and K (nk, dh) rounded to bf16 (nearest even, vb_f32_to_bf16's rounding); Q as activation tiles
**      (rows of 32 bf16 of k), K as weight tiles (16 pairs of k x 16 keys), dh padded with zeros to a multiple of 32;
**   2. S = Q K^T on 2 x 2 blocks of 16 x 16 f32 accumulator tiles (tdpbf16ps per 32 values of dh);
**   3. per query row s_j = scale * S_ij (+ bias_ij) (+ mask_j) (attn_small.h's order) and the softmax numerators
**      e_j = exp(s_j - max) (exp_fast) rounded to bf16 as activation rows of keys, padded with zeros to a multiple of
**      32; their sum (16 float lanes added in double) kept per row (a row of all -inf scores gives zeros, as the
**      other kernels);
**   4. O = E V with V rounded to bf16 as weight tiles (16 pairs of keys x 16 head columns), each row multiplied by
**      1 / its sum on the way to the query rows (the normalisation after the product, as flash attention does: one
**      pass over the scores less, and the rounded numerators are exactly what is summed).
** Every output depends on its own pair only, so a pair gives the same bits in any batch and on any thread.  The
** results are those of the f32 attention on bf16-rounded Q, K, P and V up to the f32 summation order inside the
** tiles (measured against the f32 kernels in tests/test_attn_small.c). */
#include "engine/attn_pair.h"

#include "base/common.h"
#include "engine/wmat_kern.h"

#include <math.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(VB_NO_AVX512_ATTN)
#include <immintrin.h>

#include "engine/wmat_zmm.h"

#define VB_AMXA __attribute__((target("amx-tile,amx-bf16,avx512f,avx512bw,avx512vl,avx512dq")))

static inline int64_t up(int64_t x, int64_t m) {
    return (x + m - 1) / m * m;
}

/* The scratch of one pair, in bytes from a 64-byte aligned base: Qb (nqp, dhp) bf16; Kb (nkp / 16 blocks of dhp / 2
** pair rows x 16 keys) u32; S (nqp, nkp) f32; Pb (nqp, nkp) bf16; Vb (dhp / 16 blocks of nkp / 2 pair rows x 16
** columns) u32; O (nqp, dhp) f32; E (nkp) f32, one row's scores (also 16 rows of K pairs, (16, dhp / 2) u32, before);
** R (nqp) f32, the rows' 1 / sum.  Each size rounded up to 32, the k of a tile step and two tiles of 16: nqp = nq
** (activation rows), nkp = nk (key columns of S, k of P V), dhp = dh (k of Q K^T, columns of O). */
struct amx_layout {
    int64_t nqp, nkp, dhp;
    size_t  qb, kb, s, pb, vb, o, e, r, bytes;
};

static struct amx_layout layout(const struct vb_attn_batch * a) {
    struct amx_layout L;
    L.nqp = up(a->nq, 32), L.nkp = up(a->nk, 32), L.dhp = up(a->dh, 32);
    size_t o = 0;
    L.qb = o, o += (size_t)(L.nqp * L.dhp * 2);
    L.kb = o, o += (size_t)(L.nkp * L.dhp * 2);
    L.s = o, o += (size_t)(L.nqp * L.nkp * 4);
    L.pb = o, o += (size_t)(L.nqp * L.nkp * 2);
    L.vb = o, o += (size_t)(L.nkp * L.dhp * 2);
    L.o = o, o += (size_t)(L.nqp * L.dhp * 4);
    L.e = o, o += (size_t)(VB_MAX(L.nkp, 8 * L.dhp) * 4); /* also 16 K rows of pairs while K is packed */
    L.r = o, o += (size_t)(L.nqp * 4);
    L.bytes = o;
    return L;
}

size_t vb_attn_amx_scratch_floats(const struct vb_attn_batch * a) {
    return (layout(a).bytes + 63) / 4 + 16; /* + room to align the base to 64 bytes */
}

/* one row of n floats -> bf16 at d, zeros from n up to np (np a multiple of 16 >= n) */
static VB_AMXA void row_bf16(const float * x, int64_t n, int64_t np, uint16_t * d) {
    for (int64_t c = 0; c < np; c += 16) {
        __m512 v = _mm512_maskz_loadu_ps(lanes(n - c), x + c);
        _mm256_storeu_si256((__m256i *)(d + c), _mm512_cvtepi32_epi16(vb_zmm_bf16_rne(v)));
    }
}

/* C (16 ni rows x 16 nj columns, f32, ldc bytes apart) = A (16 ni rows of 32 * steps bf16, lda bytes apart) . B
** (nj weight-tile columns: B0 and B1 = B0 + bstride bytes, each steps x (16 pair rows x 64 bytes)); ni, nj in 1..2 */
static VB_AMXA void mm(int ni, int nj, const char * A, long lda, const char * B0, long bstride, int64_t steps, char * C,
                       long ldc) {
    const char *A1 = A + 16 * lda, *B1 = B0 + bstride;
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    for (int64_t s = 0; s < steps; s++) {
        _tile_loadd(4, A + s * 64, lda);
        _tile_loadd(6, B0 + s * 1024, 64);
        _tile_dpbf16ps(0, 4, 6);
        if (nj > 1) {
            _tile_loadd(7, B1 + s * 1024, 64);
            _tile_dpbf16ps(1, 4, 7);
        }
        if (ni > 1) {
            _tile_loadd(5, A1 + s * 64, lda);
            _tile_dpbf16ps(2, 5, 6);
            if (nj > 1) _tile_dpbf16ps(3, 5, 7);
        }
    }
    _tile_stored(0, C, ldc);
    if (nj > 1) _tile_stored(1, C + 64, ldc);
    if (ni > 1) {
        _tile_stored(2, C + 16 * ldc, ldc);
        if (nj > 1) _tile_stored(3, C + 16 * ldc + 64, ldc);
    }
}

/* e^x for 16 floats, |relative error| < 3e-6 (2^(x log2 e): the nearest integer n by roundscale, 2^f on
** f in [-1/2, 1/2] by the degree-5 Taylor polynomial, scalef by n); x below -100 (masked keys) as -100: about 4e-44.
** Enough for probabilities rounded to bf16 (2^-9); not the ops.c exp of the f32 kernels. */
static inline __attribute__((always_inline, target("avx512f"))) __m512 exp_fast(__m512 x) {
    x = _mm512_max_ps(x, _mm512_set1_ps(-100.0f));
    const __m512 t = _mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f));
    const __m512 n = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m512 f = _mm512_sub_ps(t, n);
    __m512       y = _mm512_set1_ps(1.3333558146e-3f);
    y = _mm512_fmadd_ps(y, f, _mm512_set1_ps(9.6181291076e-3f));
    y = _mm512_fmadd_ps(y, f, _mm512_set1_ps(5.5504108665e-2f));
    y = _mm512_fmadd_ps(y, f, _mm512_set1_ps(2.4022650696e-1f));
    y = _mm512_fmadd_ps(y, f, _mm512_set1_ps(6.9314718056e-1f));
    y = _mm512_fmadd_ps(y, f, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(y, n);
}

/* Softmax numerators of one query row: s_j = scale * S_j (+ bias_j) (+ mask_j) over j < nk (attn_small.h's order),
** e_j = exp(s_j - max) rounded to bf16 into P (zeros from nk up to nkp); returns 1 / sum_j e_j (the float lanes added
** in double), by which the row's output is multiplied; 0 for a row of all -inf scores (its output: zeros, as the
** other kernels). */
static VB_AMXA float softmax_row(const float * S, int64_t nk, int64_t nkp, float scale, const float * bias,
                                 const float * mask, float * e, uint16_t * P) {
    const __m512 sc = _mm512_set1_ps(scale);
    __m512       mx = _mm512_set1_ps(-INFINITY);
    for (int64_t j = 0; j < nk; j += 16) {
        const __mmask16 m = lanes(nk - j);
        __m512          s = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, S + j), sc);
        if (bias) s = _mm512_add_ps(s, _mm512_maskz_loadu_ps(m, bias + j));
        if (mask) s = _mm512_add_ps(s, _mm512_maskz_loadu_ps(m, mask + j));
        _mm512_storeu_ps(e + j, s);
        mx = _mm512_mask_max_ps(mx, m, mx, s);
    }
    const float max = _mm512_reduce_max_ps(mx);
    if (max == -INFINITY) {
        memset(P, 0, sizeof(uint16_t) * (size_t)nkp);
        return 0.0f;
    }
    const __m512 vm = _mm512_set1_ps(max);
    __m512       acc = _mm512_setzero_ps();
    for (int64_t j = 0; j < nkp; j += 16) {
        const __mmask16 m = lanes(nk - j);
        const __m512    x = _mm512_maskz_mov_ps(m, exp_fast(_mm512_sub_ps(_mm512_loadu_ps(e + j), vm)));
        const __m512i   h = vb_zmm_bf16_rne(x);
        _mm256_storeu_si256((__m256i *)(P + j), _mm512_cvtepi32_epi16(h));
        acc = _mm512_add_ps(acc, _mm512_castsi512_ps(_mm512_slli_epi32(h, 16))); /* the sum of what P holds */
    }
    float part[16];
    _mm512_storeu_ps(part, acc);
    double sum = 0;
    for (int l = 0; l < 16; l++)
        sum += part[l];
    return (float)(1.0 / sum);
}

VB_AMXA void vb_attn_pair_amx(const struct vb_attn_batch * a, const struct pair * p, float * scratch) {
    vb_wk_amx_tiles(); /* the GEMM's tile configuration (engine/wmat_amx.c) */
    const struct amx_layout L = layout(a);
    char *                  base = (char *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
    uint16_t *              Qb = (uint16_t *)(base + L.qb);
    uint32_t *              Kb = (uint32_t *)(base + L.kb);
    float *                 S = (float *)(base + L.s);
    uint16_t *              Pb = (uint16_t *)(base + L.pb);
    uint32_t *              Vb = (uint32_t *)(base + L.vb);
    float *                 O = (float *)(base + L.o);
    float *                 E = (float *)(base + L.e);
    const int64_t           nq = a->nq, nk = a->nk, nk1 = a->nk1, dh = a->dh;
    const int64_t           kp = L.dhp / 2; /* pair rows of a K block */
    /* 1. Q rows; K as (block of 16 keys, pair row t, key, pair) */
    for (int64_t i = 0; i < L.nqp; i++) {
        if (i < nq)
            row_bf16(q_row(a, p, i), dh, L.dhp, Qb + i * L.dhp);
        else
            memset(Qb + i * L.dhp, 0, sizeof(uint16_t) * (size_t)L.dhp);
    }
    for (int64_t j0 = 0; j0 < L.nkp; j0 += 16) {             /* 16 keys: their rows of pairs, then 16 x 16 transposes */
        uint32_t * T = (uint32_t *)(void *)E;                /* (16, kp) pairs; E is free until the softmax */
        const int  nr = (int)VB_MAX(0, VB_MIN(16, nk - j0)); /* keys past nk: zero rows (tr_block) */
        for (int r = 0; r < nr; r++) {
            const int64_t j = j0 + r;
            row_bf16(j < nk1 ? p->k + j * a->ldk : p->k2 + (j - nk1) * a->ldk, dh, L.dhp, (uint16_t *)(T + r * kp));
        }
        uint32_t * blk = Kb + (j0 / 16) * kp * 16;
        for (int64_t t0 = 0; t0 < kp; t0 += 16) {
            const float * sr[16];
            float *       dr[16];
            for (int r = 0; r < 16; r++)
                sr[r] = (const float *)(const void *)(T + r * kp + t0);
            for (int k = 0; k < 16; k++)
                dr[k] = (float *)(void *)(blk + (t0 + k) * 16);
            tr_block(sr, nr, 0xFFFF, dr, 16, 0xFFFF);
        }
    }
    /* 2. S = Q K^T, 32 x 32 blocks */
    const long lq = (long)(L.dhp * 2), ls = (long)(L.nkp * 4), kblk = (long)(kp * 64);
    for (int64_t i0 = 0; i0 < nq; i0 += 32)
        for (int64_t j0 = 0; j0 < nk; j0 += 32)
            mm(nq - i0 > 16 ? 2 : 1, nk - j0 > 16 ? 2 : 1, (const char *)(Qb + i0 * L.dhp), lq,
               (const char *)Kb + (j0 / 16) * kblk, kblk, L.dhp / 32, (char *)(S + i0 * L.nkp + j0), ls);
    /* 3. softmax rows into P */
    float * R = (float *)(base + L.r);
    for (int64_t i = 0; i < nq; i++)
        R[i] = softmax_row(S + i * L.nkp, nk, L.nkp, a->scale, p->bias ? p->bias + i * nk : NULL, p->mask, E,
                           Pb + i * L.nkp);
    for (int64_t i = nq; i < L.nqp; i++)
        memset(Pb + i * L.nkp, 0, sizeof(uint16_t) * (size_t)L.nkp);
    /* 4. V as (block of 16 columns, pair row t = keys 2t and 2t + 1, column, pair), then O = P V */
    const int64_t vp = L.nkp / 2;
    for (int64_t t = 0; t < vp; t++) {
        const int64_t j0 = 2 * t, j1 = 2 * t + 1;
        const float * v0 = j0 < nk ? (j0 < nk1 ? p->v + j0 * a->ldv : p->v2 + (j0 - nk1) * a->ldv) : NULL;
        const float * v1 = j1 < nk ? (j1 < nk1 ? p->v + j1 * a->ldv : p->v2 + (j1 - nk1) * a->ldv) : NULL;
        for (int64_t c = 0; c < L.dhp; c += 16) {
            const __mmask16 m = lanes(dh - c);
            __m512i         lo = v0 ? vb_zmm_bf16_rne(_mm512_maskz_loadu_ps(m, v0 + c)) : _mm512_setzero_si512();
            __m512i         hi = v1 ? vb_zmm_bf16_rne(_mm512_maskz_loadu_ps(m, v1 + c)) : _mm512_setzero_si512();
            _mm512_storeu_si512(Vb + (c / 16) * vp * 16 + t * 16, _mm512_or_si512(lo, _mm512_slli_epi32(hi, 16)));
        }
    }
    const long lp = (long)(L.nkp * 2), lo = (long)(L.dhp * 4), vblk = (long)(vp * 64);
    for (int64_t i0 = 0; i0 < nq; i0 += 32)
        for (int64_t c0 = 0; c0 < dh; c0 += 32)
            mm(nq - i0 > 16 ? 2 : 1, dh - c0 > 16 ? 2 : 1, (const char *)(Pb + i0 * L.nkp), lp,
               (const char *)Vb + (c0 / 16) * vblk, vblk, L.nkp / 32, (char *)(O + i0 * L.dhp + c0), lo);
    for (int64_t i = 0; i < nq; i++) {
        float *      o = o_row(a, p, i);
        const __m512 r = _mm512_set1_ps(R[i]);
        for (int64_t c = 0; c < dh; c += 16)
            _mm512_mask_storeu_ps(o + c, lanes(dh - c), _mm512_mul_ps(_mm512_loadu_ps(O + i * L.dhp + c), r));
    }
}

#else
size_t vb_attn_amx_scratch_floats(const struct vb_attn_batch * a) {
    (void)a;
    return 1;
}
void vb_attn_pair_amx(const struct vb_attn_batch * a, const struct pair * p, float * scratch) {
    (void)a, (void)p, (void)scratch;
    VB_ASSERT(!"the amx attention kernel is not built here");
}
#endif
