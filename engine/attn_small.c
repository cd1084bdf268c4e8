/* attn_small.c — many small multi-head attentions in one pool dispatch (see attn_small.h). */
#include "engine/attn_small.h"

#include "engine/attn_pair.h"

#include "base/common.h"
#include "engine/cpu.h"
#include "engine/ops.h"
#include "engine/pool.h"
#include "engine/wmat.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Below this many multiply-adds in all (about 0.1-0.2 ms of one core with the avx512 kernel) the batch runs on the
** calling thread: a hand-off costs ~2-5 us on a quiet machine but a scheduler time slice (~2-3 ms measured) when the
** other worker is preempted on a loaded one.  The Q-Former's self-attention of 8 frames (12.6 M) stays on one thread
** as it did before this file (vb_attention below 2^20 per frame); its cross-attention (101 M for 8 frames) and the
** self-attention of 32 frames are split, as is the ViT's (1.5 G for 8 frames per block). */
#define BATCH_PAR_MIN ((int64_t)1 << 24)
/* Widest head the avx512 kernel takes: its weighted-sum tiles hold at most 8 vectors of 16 per query row. */
#define AVX512_MAX_DH 128
/* Keys from which the avx512 kernel's weighted sum runs transposed (see pair_avx512): below, the value rows stay in
** L1 between the tiles of query rows and the transposes would cost more than they save (the Q-Former's 32 x 32
** self-attention: 0.39 ms per 8 frames in query rows, 0.51 ms transposed); the ViT's 257 keys in query-row tiles
** re-read all value rows, each on its own page, from L2 for every 3 queries (0.55x the time transposed). */
#define PVT_MIN_NK 65

/* ---- kernel blas: the products through OpenBLAS (one thread), softmax rows of engine/ops.c ---- */

/* scratch (floats): S (nq, nk) scores; with two key blocks also K and V gathered (nk, dh) each */
static size_t blas_scratch_floats(const struct vb_attn_batch * a) {
    return (size_t)(a->nq * a->nk) + (a->nk1 < a->nk ? 2 * (size_t)(a->nk * a->dh) : 0);
}

static void pair_blas(const struct vb_attn_batch * a, const struct pair * p, float * S) {
    const int64_t nq = a->nq, nk = a->nk, nk1 = a->nk1, dh = a->dh;
    const float * k = p->k, *v = p->v;
    int64_t       ldk = a->ldk, ldv = a->ldv;
    if (nk1 < nk) { /* two key blocks: gathered, so each product is one BLAS call over all keys as one sequence */
        float *K = S + nq * nk, *V = K + nk * dh;
        for (int64_t j = 0; j < nk; j++) {
            const float * kj = j < nk1 ? p->k + j * a->ldk : p->k2 + (j - nk1) * a->ldk;
            const float * vj = j < nk1 ? p->v + j * a->ldv : p->v2 + (j - nk1) * a->ldv;
            memcpy(K + j * dh, kj, sizeof(float) * (size_t)dh);
            memcpy(V + j * dh, vj, sizeof(float) * (size_t)dh);
        }
        k = K, v = V, ldk = ldv = dh;
    }
    for (int blk = 0; blk < 2; blk++) { /* the query blocks one after the other, each as vb_attention would */
        const int64_t m = blk == 0 ? p->nq1 : nq - p->nq1;
        if (m < 1) continue;
        vb_gemm_nt(m, nk, dh, a->scale, blk == 0 ? p->q : p->q2, a->ldq, k, ldk, 0.0f, S, nk);
        for (int64_t i = 0; i < m; i++) { /* bias, then mask: ops.c's order */
            if (p->bias) vb_add(S + i * nk, p->bias + ((blk == 0 ? 0 : p->nq1) + i) * nk, nk);
            if (p->mask) vb_add(S + i * nk, p->mask, nk);
        }
        vb_softmax_rows(S, m, nk);
        vb_gemm_nn(m, dh, nk, 1.0f, S, nk, v, ldv, 0.0f, blk == 0 ? p->out : p->out2, a->ldo);
    }
}

/* ---- kernel avx512 ---- (left out with VB_NO_AVX512_ATTN: the fuzz build, whose CPU-feature queries all answer 0,
** so it would never run; clang -O1 with the sanitizers takes minutes on its unrolled intrinsics) */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(VB_NO_AVX512_ATTN)
#include <immintrin.h>
#define HAVE_AVX512_KERNEL 1
#define VB_A512            __attribute__((target("avx512f")))

/* Scores of keys j0 .. j0+R-1 (row pointers kr) against the 16 * NC queries from column c0 of Qt (dh, nqp):
** ST[j][c] = scale * (k_j . q_c) (+ ST[j][c], the bias transposed there, when bias) + mask[j], written to ST (nk,
** nqp) rows j; the running column maxima MX (nqp) updated. */
VB_A512_INLINE void st_tile(const int R, const int NC, const float * const * kr, const float * Qt, int64_t nqp,
                            int64_t c0, int64_t dh, float scale, int bias, const float * mask, float * ST, float * MX) {
    __m512 acc[12][2];
#pragma GCC unroll 12
    for (int r = 0; r < R; r++)
        acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    const float * qp = Qt + c0;
    for (int64_t d = 0; d < dh; d++, qp += nqp) {
        __m512 q0 = _mm512_loadu_ps(qp), q1 = NC > 1 ? _mm512_loadu_ps(qp + 16) : q0;
#pragma GCC unroll 12
        for (int r = 0; r < R; r++) {
            __m512 kb = _mm512_set1_ps(kr[r][d]);
            acc[r][0] = _mm512_fmadd_ps(kb, q0, acc[r][0]);
            if (NC > 1) acc[r][1] = _mm512_fmadd_ps(kb, q1, acc[r][1]);
        }
    }
    const __m512 sc = _mm512_set1_ps(scale);
    __m512       m0 = _mm512_loadu_ps(MX + c0), m1 = NC > 1 ? _mm512_loadu_ps(MX + c0 + 16) : m0;
#pragma GCC unroll 12
    for (int r = 0; r < R; r++) {
        /* scale * (q . k) as BLAS's alpha, then the bias and the mask added (ops.c's order) */
        __m512 s0 = _mm512_mul_ps(acc[r][0], sc);
        if (bias) s0 = _mm512_add_ps(s0, _mm512_loadu_ps(ST + r * nqp + c0));
        if (mask) s0 = _mm512_add_ps(s0, _mm512_set1_ps(mask[r]));
        _mm512_storeu_ps(ST + r * nqp + c0, s0);
        m0 = _mm512_max_ps(m0, s0);
        if (NC > 1) {
            __m512 s1 = _mm512_mul_ps(acc[r][1], sc);
            if (bias) s1 = _mm512_add_ps(s1, _mm512_loadu_ps(ST + r * nqp + c0 + 16));
            if (mask) s1 = _mm512_add_ps(s1, _mm512_set1_ps(mask[r]));
            _mm512_storeu_ps(ST + r * nqp + c0 + 16, s1);
            m1 = _mm512_max_ps(m1, s1);
        }
    }
    _mm512_storeu_ps(MX + c0, m0);
    if (NC > 1) _mm512_storeu_ps(MX + c0 + 16, m1);
}

/* softmax along the keys of the 16 query columns from c0, in place in ST, with the operations of ops.c's softmax row
** in its order, lane by lane: e_j = exp(s_j - max) (the vector exp for j below nk rounded down to 8, libm expf for the
** rest, as ops.c's tail), the sum of the vector part in 8 float partial sums (j mod 8) added in double in order, the
** tail added in double, p_j = e_j * (float)(1 / sum); a column of all -inf scores gives zeros. */
VB_A512_INLINE void softmax_cols(int64_t nk, float * ST, int64_t nqp, int64_t c0, const float * MX) {
    const __m512    m = _mm512_loadu_ps(MX + c0);
    const __mmask16 dead = _mm512_cmp_ps_mask(m, _mm512_set1_ps(-INFINITY), _CMP_EQ_OQ);
    const int64_t   nk8 = nk / 8 * 8;
    __m512          acc[8];
    for (int k = 0; k < 8; k++)
        acc[k] = _mm512_setzero_ps();
    float * p = ST + c0;
    for (int64_t j = 0; j < nk8; j += 8)
#pragma GCC unroll 8
        for (int k = 0; k < 8; k++) {
            float * pj = p + (j + k) * nqp;
            __m512  e = exp16(_mm512_sub_ps(_mm512_loadu_ps(pj), m));
            _mm512_storeu_ps(pj, e);
            acc[k] = _mm512_add_ps(acc[k], e);
        }
    float  a[8][16], mm[16], inv[16];
    double sum[16];
    for (int k = 0; k < 8; k++)
        _mm512_storeu_ps(a[k], acc[k]);
    _mm512_storeu_ps(mm, m);
    for (int c = 0; c < 16; c++) {
        double t = 0;
        for (int k = 0; k < 8; k++)
            t += a[k][c];
        sum[c] = t;
    }
    for (int64_t j = nk8; j < nk; j++) {
        float * pj = p + j * nqp;
        for (int c = 0; c < 16; c++) {
            pj[c] = expf(pj[c] - mm[c]);
            sum[c] += pj[c];
        }
    }
    for (int c = 0; c < 16; c++)
        inv[c] = (float)(1.0 / sum[c]);
    const __m512 iv = _mm512_loadu_ps(inv);
    for (int64_t j = 0; j < nk; j++)
        _mm512_storeu_ps(p + j * nqp, _mm512_maskz_mul_ps((__mmask16)~dead, _mm512_loadu_ps(p + j * nqp), iv));
}

/* o_i = sum_j P[j][i] v_j (one fused multiply-add per j, j in order: BLAS's chain) for queries i0 .. i0+R-1 over NV
** vectors of 16 (the last one masked by tm): P = ST (nk, nqp) after softmax_cols; v rows v (j < nk1) / v2
** (j >= nk1), ldv apart. */
VB_A512_INLINE void pv_tile(const int R, const int NV, __mmask16 tm, const float * P, int64_t nqp, int64_t i0,
                            int64_t nk, int64_t nk1, const float * v, const float * v2, int64_t ldv,
                            float * const * orow) {
    __m512 acc[6][8];
#pragma GCC unroll 6
    for (int r = 0; r < R; r++)
#pragma GCC unroll 8
        for (int t = 0; t < NV; t++)
            acc[r][t] = _mm512_setzero_ps();
    const float * pr = P + i0;
    for (int blk = 0; blk < 2; blk++) {
        const float * vr = blk == 0 ? v : v2;
        int64_t       n = blk == 0 ? nk1 : nk - nk1;
        for (int64_t j = 0; j < n; j++, pr += nqp, vr += ldv) {
            __m512 vv[8];
#pragma GCC unroll 8
            for (int t = 0; t < NV; t++)
                vv[t] = t == NV - 1 ? _mm512_maskz_loadu_ps(tm, vr + 16 * t) : _mm512_loadu_ps(vr + 16 * t);
#pragma GCC unroll 6
            for (int r = 0; r < R; r++) {
                __m512 pb = _mm512_set1_ps(pr[r]);
#pragma GCC unroll 8
                for (int t = 0; t < NV; t++)
                    acc[r][t] = _mm512_fmadd_ps(pb, vv[t], acc[r][t]);
            }
        }
    }
#pragma GCC unroll 6
    for (int r = 0; r < R; r++) {
        float * o = orow[r];
#pragma GCC unroll 8
        for (int t = 0; t < NV; t++) {
            if (t == NV - 1)
                _mm512_mask_storeu_ps(o + 16 * t, tm, acc[r][t]);
            else
                _mm512_storeu_ps(o + 16 * t, acc[r][t]);
        }
    }
}

/* The weighted sum transposed, O^T = V^T P: o_i[d] = sum_j P[j][i] v_j[d] (one fused multiply-add per j, j in
** order: BLAS's chain) for head columns d0 .. d0+R-1 (Vd = the packed values Vp (nk, dh) from column d0)
** and the 16 * NC query columns from c0 of P = ST (nk, nqp) after softmax_cols; the tile goes to
** OT (R rows, nqp apart) from column c0. */
VB_A512_INLINE void pvt_tile(const int R, const int NC, const float * Vd, int64_t ldv, const float * P, int64_t nqp,
                             int64_t c0, int64_t nk, float * OT) {
    OT += c0;
    __m512 acc[12][2];
#pragma GCC unroll 12
    for (int r = 0; r < R; r++)
        acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    const float * pr = P + c0;
    const float * vr = Vd;
    for (int64_t j = 0; j < nk; j++, pr += nqp, vr += ldv) {
        __m512 p0 = _mm512_loadu_ps(pr), p1 = NC > 1 ? _mm512_loadu_ps(pr + 16) : p0;
#pragma GCC unroll 12
        for (int r = 0; r < R; r++) {
            __m512 vb = _mm512_set1_ps(vr[r]);
            acc[r][0] = _mm512_fmadd_ps(vb, p0, acc[r][0]);
            if (NC > 1) acc[r][1] = _mm512_fmadd_ps(vb, p1, acc[r][1]);
        }
    }
#pragma GCC unroll 12
    for (int r = 0; r < R; r++) {
        _mm512_storeu_ps(OT + r * nqp, acc[r][0]);
        if (NC > 1) _mm512_storeu_ps(OT + r * nqp + 16, acc[r][1]);
    }
}

/* Dispatch to the instantiations with constant tile sizes. */
#define ST_CASES(NC)                                                                                                   \
    switch (R) {                                                                                                       \
    case 1:                                                                                                            \
        st_tile(1, NC, kr, Qt, nqp, c0, dh, a->scale, hb, mk, STj, MX);                                                \
        break;                                                                                                         \
    case 2:                                                                                                            \
        st_tile(2, NC, kr, Qt, nqp, c0, dh, a->scale, hb, mk, STj, MX);                                                \
        break;                                                                                                         \
    case 3:                                                                                                            \
        st_tile(3, NC, kr, Qt, nqp, c0, dh, a->scale, hb, mk, STj, MX);                                                \
        break;                                                                                                         \
    case 4:                                                                                                            \
        st_tile(4, NC, kr, Qt, nqp, c0, dh, a->scale, hb, mk, STj, MX);                                                \
        break;                                                                                                         \
    case 5:                                                                                                            \
        st_tile(5, NC, kr, Qt, nqp, c0, dh, a->scale, hb, mk, STj, MX);                                                \
        break;                                                                                                         \
    case 6:                                                                                                            \
        st_tile(6, NC, kr, Qt, nqp, c0, dh, a->scale, hb, mk, STj, MX);                                                \
        break;                                                                                                         \
    case 7:                                                                                                            \
        st_tile(7, NC, kr, Qt, nqp, c0, dh, a->scale, hb, mk, STj, MX);                                                \
        break;                                                                                                         \
    case 8:                                                                                                            \
        st_tile(8, NC, kr, Qt, nqp, c0, dh, a->scale, hb, mk, STj, MX);                                                \
        break;                                                                                                         \
    case 9:                                                                                                            \
        st_tile(9, NC, kr, Qt, nqp, c0, dh, a->scale, hb, mk, STj, MX);                                                \
        break;                                                                                                         \
    case 10:                                                                                                           \
        st_tile(10, NC, kr, Qt, nqp, c0, dh, a->scale, hb, mk, STj, MX);                                               \
        break;                                                                                                         \
    case 11:                                                                                                           \
        st_tile(11, NC, kr, Qt, nqp, c0, dh, a->scale, hb, mk, STj, MX);                                               \
        break;                                                                                                         \
    default:                                                                                                           \
        st_tile(12, NC, kr, Qt, nqp, c0, dh, a->scale, hb, mk, STj, MX);                                               \
        break;                                                                                                         \
    }

#define PVT_CASES(NC)                                                                                                  \
    switch (R) {                                                                                                       \
    case 1:                                                                                                            \
        pvt_tile(1, NC, Vp + d0, dh, ST, nqp, c0, nk, OT);                                                             \
        break;                                                                                                         \
    case 2:                                                                                                            \
        pvt_tile(2, NC, Vp + d0, dh, ST, nqp, c0, nk, OT);                                                             \
        break;                                                                                                         \
    case 3:                                                                                                            \
        pvt_tile(3, NC, Vp + d0, dh, ST, nqp, c0, nk, OT);                                                             \
        break;                                                                                                         \
    case 4:                                                                                                            \
        pvt_tile(4, NC, Vp + d0, dh, ST, nqp, c0, nk, OT);                                                             \
        break;                                                                                                         \
    case 5:                                                                                                            \
        pvt_tile(5, NC, Vp + d0, dh, ST, nqp, c0, nk, OT);                                                             \
        break;                                                                                                         \
    case 6:                                                                                                            \
        pvt_tile(6, NC, Vp + d0, dh, ST, nqp, c0, nk, OT);                                                             \
        break;                                                                                                         \
    case 7:                                                                                                            \
        pvt_tile(7, NC, Vp + d0, dh, ST, nqp, c0, nk, OT);                                                             \
        break;                                                                                                         \
    case 8:                                                                                                            \
        pvt_tile(8, NC, Vp + d0, dh, ST, nqp, c0, nk, OT);                                                             \
        break;                                                                                                         \
    case 9:                                                                                                            \
        pvt_tile(9, NC, Vp + d0, dh, ST, nqp, c0, nk, OT);                                                             \
        break;                                                                                                         \
    case 10:                                                                                                           \
        pvt_tile(10, NC, Vp + d0, dh, ST, nqp, c0, nk, OT);                                                            \
        break;                                                                                                         \
    case 11:                                                                                                           \
        pvt_tile(11, NC, Vp + d0, dh, ST, nqp, c0, nk, OT);                                                            \
        break;                                                                                                         \
    default:                                                                                                           \
        pvt_tile(12, NC, Vp + d0, dh, ST, nqp, c0, nk, OT);                                                            \
        break;                                                                                                         \
    }

#define PV_CALL(R_, NV_) pv_tile(R_, NV_, tm, ST, nqp, i0, nk, nk1, p->v, p->v2, a->ldv, orow)
#define PV_R6(NV_)                                                                                                     \
    switch (R) {                                                                                                       \
    case 1:                                                                                                            \
        PV_CALL(1, NV_);                                                                                               \
        break;                                                                                                         \
    case 2:                                                                                                            \
        PV_CALL(2, NV_);                                                                                               \
        break;                                                                                                         \
    case 3:                                                                                                            \
        PV_CALL(3, NV_);                                                                                               \
        break;                                                                                                         \
    case 4:                                                                                                            \
        PV_CALL(4, NV_);                                                                                               \
        break;                                                                                                         \
    case 5:                                                                                                            \
        PV_CALL(5, NV_);                                                                                               \
        break;                                                                                                         \
    default:                                                                                                           \
        PV_CALL(6, NV_);                                                                                               \
        break;                                                                                                         \
    }
#define PV_R3(NV_)                                                                                                     \
    switch (R) {                                                                                                       \
    case 1:                                                                                                            \
        PV_CALL(1, NV_);                                                                                               \
        break;                                                                                                         \
    case 2:                                                                                                            \
        PV_CALL(2, NV_);                                                                                               \
        break;                                                                                                         \
    default:                                                                                                           \
        PV_CALL(3, NV_);                                                                                               \
        break;                                                                                                         \
    }

/* scratch (floats): QO (dh, nqp), ST (nk, nqp), MX (nqp), Vp (nk, dh); nqp = nq rounded up to 16 */
static size_t avx512_scratch_floats(const struct vb_attn_batch * a) {
    const size_t nqp = (size_t)((a->nq + 15) / 16 * 16);
    return nqp * ((size_t)a->dh + (size_t)a->nk + 1) + (size_t)(a->nk * a->dh);
}

static VB_A512 void pair_avx512(const struct vb_attn_batch * a, const struct pair * p, float * scratch) {
    const int64_t nq = a->nq, nk = a->nk, nk1 = a->nk1, dh = a->dh, nqp = (nq + 15) / 16 * 16;
    float *       QO = scratch;       /* (dh, nqp) the head's queries transposed (zero past nq), later its output */
    float *       ST = QO + dh * nqp; /* (nk, nqp) scores, then probabilities */
    float *       MX = ST + nk * nqp; /* (nqp) column maxima */
    float *       Vp = MX + nqp;      /* (nk, dh) the head's values packed */
    const float * sr[16];
    float *       dr[16];
    /* the queries transposed, 16 x 16 blocks */
    for (int64_t i0 = 0; i0 < nqp; i0 += 16) {
        const int nr = (int)VB_MIN(16, nq - i0);
        for (int64_t d0 = 0; d0 < dh; d0 += 16) {
            const int nw = (int)VB_MIN(16, dh - d0);
            for (int r = 0; r < nr; r++)
                sr[r] = q_row(a, p, i0 + r) + d0;
            for (int k = 0; k < nw; k++)
                dr[k] = QO + (d0 + k) * nqp + i0;
            tr_block(sr, nr, lanes(nw), dr, nw, 0xFFFF);
        }
    }
    /* the head's bias (nq, nk) transposed into the scores' rows (nk, nqp), columns past nq zero: 16 x 16 blocks */
    const int hb = p->bias != NULL;
    if (hb)
        for (int64_t i0 = 0; i0 < nqp; i0 += 16) {
            const int nr = (int)VB_MIN(16, nq - i0);
            for (int64_t j0 = 0; j0 < nk; j0 += 16) {
                const int nw = (int)VB_MIN(16, nk - j0);
                for (int r = 0; r < nr; r++)
                    sr[r] = p->bias + (i0 + r) * nk + j0;
                for (int k = 0; k < nw; k++)
                    dr[k] = ST + (j0 + k) * nqp + i0;
                tr_block(sr, nr, lanes(nw), dr, nw, 0xFFFF);
            }
        }
    for (int64_t c = 0; c < nqp; c++)
        MX[c] = -INFINITY;
    /* scores: 12 keys x 32 (or 16) query columns per tile */
    for (int64_t j0 = 0; j0 < nk; j0 += 12) {
        const int     R = (int)VB_MIN(12, nk - j0);
        const float * kr[12];
        for (int r = 0; r < R; r++) {
            int64_t j = j0 + r;
            kr[r] = j < nk1 ? p->k + j * a->ldk : p->k2 + (j - nk1) * a->ldk;
        }
        const float * mk = p->mask ? p->mask + j0 : NULL;
        float *       STj = ST + j0 * nqp;
        const float * Qt = QO;
        int64_t       c0 = 0;
        for (; c0 + 32 <= nqp; c0 += 32)
            ST_CASES(2)
        if (c0 < nqp) ST_CASES(1)
    }
    for (int64_t c0 = 0; c0 < nqp; c0 += 16)
        softmax_cols(nk, ST, nqp, c0, MX);
    if (nk < PVT_MIN_NK) {
        /* weighted sum in query rows: 6 (dh <= 64) or 3 (dh <= 128) queries x dh per tile, written in place */
        const int       NV = (int)((dh + 15) / 16);
        const __mmask16 tm = lanes(dh % 16 ? dh % 16 : 16);
        const int       RM = NV <= 4 ? 6 : 3;
        for (int64_t i0 = 0; i0 < nq; i0 += RM) {
            const int R = (int)VB_MIN(RM, nq - i0);
            float *   orow[6];
            for (int r = 0; r < R; r++)
                orow[r] = o_row(a, p, i0 + r);
            switch (NV) {
            case 1:
                PV_R6(1) break;
            case 2:
                PV_R6(2) break;
            case 3:
                PV_R6(3) break;
            case 4:
                PV_R6(4) break;
            case 5:
                PV_R3(5) break;
            case 6:
                PV_R3(6) break;
            case 7:
                PV_R3(7) break;
            default:
                PV_R3(8) break;
            }
        }
        return;
    }
    /* weighted sum, transposed (O^T = V^T P, into QO): the values packed (nk, dh), then per block of 32 (or 16) query
    ** columns tiles of up to 12 head columns (dh split evenly), and the block's output rows written from QO */
    for (int64_t j = 0; j < nk; j++) {
        const float * vj = j < nk1 ? p->v + j * a->ldv : p->v2 + (j - nk1) * a->ldv;
        for (int64_t d = 0; d < dh; d += 16)
            _mm512_mask_storeu_ps(Vp + j * dh + d, lanes(dh - d), _mm512_maskz_loadu_ps(lanes(dh - d), vj + d));
    }
    const int64_t nt = (dh + 11) / 12;
    for (int64_t c0 = 0; c0 < nqp; c0 += 32) {
        for (int64_t t = 0; t < nt; t++) {
            const int64_t d0 = dh * t / nt;
            const int     R = (int)(dh * (t + 1) / nt - d0);
            float *       OT = QO + d0 * nqp;
            if (c0 + 32 <= nqp)
                PVT_CASES(2)
            else
                PVT_CASES(1)
        }
        /* 16 x 16 blocks: the stores overlap the next block's products */
        for (int64_t i0 = c0; i0 < VB_MIN(c0 + 32, nq); i0 += 16) {
            const int nw = (int)VB_MIN(16, nq - i0);
            for (int64_t d0 = 0; d0 < dh; d0 += 16) {
                const int nr = (int)VB_MIN(16, dh - d0);
                for (int r = 0; r < nr; r++)
                    sr[r] = QO + (d0 + r) * nqp + i0;
                for (int k = 0; k < nw; k++)
                    dr[k] = o_row(a, p, i0 + k) + d0;
                tr_block(sr, nr, 0xFFFF, dr, nw, lanes(nr));
            }
        }
    }
}

static int cpu_avx512(void) {
    static int v = -1;
    if (v < 0) {
        __builtin_cpu_init();
        v = __builtin_cpu_supports("avx512f") && vb_cpu_allowed(VB_CPU_AVX512);
    }
    return v;
}
#else
#define HAVE_AVX512_KERNEL 0
static int cpu_avx512(void) {
    return 0;
}
#endif

/* 1: the avx512 kernel for head width dh; 0: blas */
static int use_avx512(int32_t dh) {
    if (!cpu_avx512() || dh > AVX512_MAX_DH) return 0;
    const char * e = getenv("VB_ATTN_KERNEL");
    if (e && !strcmp(e, "blas")) return 0;
    if (e && (!strcmp(e, "avx512") || !strcmp(e, "amx"))) return 1;
    /* follow the GEMM kernel: a forced avx2 / portable run keeps the attention off AVX-512 too */
    const char * k = vb_wmat_kernel();
    return !strncmp(k, "avx512", 6) || !strcmp(k, "amx");
}

/* The kernel of a batch: KERN_AMX in bf16 compute where the GEMM's kernel is amx (the CPU has AMX-BF16 and
** VB_WMAT_KERNEL does not force another), for pairs of at least VB_ATTN_AMX_MIN queries and keys (attn_small.h)
** and dh up to AVX512_MAX_DH, or when VB_ATTN_KERNEL=amx forces it where the CPU has AMX; else KERN_AVX512
** (use_avx512) or KERN_BLAS. */
enum { KERN_BLAS, KERN_AVX512, KERN_AMX };
static int choose_kernel(const struct vb_attn_batch * a) {
    if (!use_avx512(a->dh)) return KERN_BLAS;
#if HAVE_AVX512_KERNEL
    const char * e = getenv("VB_ATTN_KERNEL");
    if (e && !strcmp(e, "avx512")) return KERN_AVX512;
    if (e && !strcmp(e, "amx")) return vb_wmat_kernel_available("amx", NULL) == 1 ? KERN_AMX : KERN_AVX512;
    /* (vb_wmat_kernel names amx only where the CPU has it) */
    if (vb_wmat_compute() == VB_COMPUTE_BF16 && a->nq >= VB_ATTN_AMX_MIN && a->nk >= VB_ATTN_AMX_MIN &&
        !strcmp(vb_wmat_kernel(), "amx"))
        return KERN_AMX;
#else
    (void)a;
#endif
    return KERN_AVX512;
}

struct vb_attn_batch vb_attn_batch_self(int64_t n, int64_t t, int32_t heads, int32_t dh, float scale, const float * qkv,
                                        float * out) {
    const int64_t d = (int64_t)heads * dh, ld = 3 * d;
    return (struct vb_attn_batch){.n = n,
                                  .nq = t,
                                  .nk = t,
                                  .nk1 = t,
                                  .heads = heads,
                                  .dh = dh,
                                  .scale = scale,
                                  .q = qkv,
                                  .ldq = ld,
                                  .sq = t * ld,
                                  .k = qkv + d,
                                  .ldk = ld,
                                  .sk = t * ld,
                                  .v = qkv + 2 * d,
                                  .ldv = ld,
                                  .sv = t * ld,
                                  .out = out,
                                  .ldo = d,
                                  .so = t * d};
}

const char * vb_attention_batch_kernel(int32_t dh) {
    static const char * const  name[] = {"blas", "avx512", "amx"};
    const struct vb_attn_batch a = {.nq = INT64_MAX, .nk = INT64_MAX, .dh = dh};
    return name[choose_kernel(&a)];
}

struct batch_job {
    const struct vb_attn_batch * a;
    int                          kernel; /* KERN_* */
    atomic_llong                 next;   /* the next (problem, head) pair, problem-major */
};

/* pool task: pairs taken one at a time from the shared counter (vb_pool_run_dynamic: a thread the machine delays
** computes fewer pairs instead of holding up the call); every pair start to end on the thread that took it */
static void batch_part(void * ctx, int ith, int nth) {
    (void)ith, (void)nth;
    struct batch_job *           J = ctx;
    const struct vb_attn_batch * a = J->a;
    const int64_t                np = a->n * a->heads;
    size_t                       floats = blas_scratch_floats(a);
#if HAVE_AVX512_KERNEL
    if (J->kernel == KERN_AVX512) floats = avx512_scratch_floats(a);
    if (J->kernel == KERN_AMX) floats = vb_attn_amx_scratch_floats(a);
#endif
    float * scratch = NULL;
    for (int64_t pi; (pi = atomic_fetch_add(&J->next, 1)) < np;) {
        if (!scratch) scratch = vb_pool_scratch(VB_SCRATCH_ATTN, sizeof(float) * floats);
        struct pair p = pair_at(a, pi / a->heads, (int32_t)(pi % a->heads));
#if HAVE_AVX512_KERNEL
        if (J->kernel == KERN_AVX512) {
            pair_avx512(a, &p, scratch);
            continue;
        }
        if (J->kernel == KERN_AMX) {
            vb_attn_pair_amx(a, &p, scratch);
            continue;
        }
#endif
        pair_blas(a, &p, scratch);
    }
}

void vb_attention_batch(const struct vb_attn_batch * a) {
    if (a->n < 1 || a->nq < 1 || a->nk < 1 || a->heads < 1) return;
    VB_ASSERT(a->dh >= 1 && a->nk1 >= 0 && a->nk1 <= a->nk && (a->nk1 == a->nk || (a->k2 && a->v2)));
    VB_ASSERT(!a->q2 || (a->nq1 >= 0 && a->nq1 <= a->nq && a->out2));
    struct batch_job J = {a, choose_kernel(a), 0};
    atomic_init(&J.next, 0);
    const int64_t np = a->n * a->heads, fma = np * a->nq * a->nk * a->dh * 2;
    int           nth = fma >= BATCH_PAR_MIN ? (int)VB_MIN(np, (int64_t)1 << 30) : 1;
    vb_pool_run_dynamic(nth, batch_part, &J);
}
