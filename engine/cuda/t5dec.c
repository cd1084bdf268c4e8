/* t5dec.c — the whole T5 on the device: the encoder (engine/cuda/t5enc.c), per-sequence device state (key mask,
** cross K/V of every decoder block, self-attention K/V cache) and the decoder: engine/t5.c's vb_t5_decode (n new
** positions of one sequence) and vb_t5_decode_batch (one position of each of several sequences, every GEMM over all
** rows) step for step, then lm_head and, on request, the argmax of each logits row on the device. */
#include "base/common.h"
#include "engine/config.h"
#include "engine/cuda/internal.h"
#include "engine/t5.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct cuda_dec_block {
    float *             ln_sa, *ln_ca, *ln_ff; /* (d) */
    struct vb_cuda_wmat qkv, o, cq, co, ffi, ffo;
};

struct vb_cuda_t5 {
    struct vb_t5_config     cfg;
    int32_t                 inner;
    struct vb_cuda_t5enc *  enc;
    struct cuda_dec_block * dec;      /* n_dec */
    struct vb_cuda_wmat     cross_kv; /* (n_dec * 2 * inner, d) */
    struct vb_cuda_wmat     head;     /* (vocab, d) */
    float *                 dec_rel;  /* (n_buckets, heads) */
    float *                 dec_final_ln;
    int64_t                 bytes;
    /* decoder activations (grown on demand) */
    int64_t   max_rows, max_bias;
    float *   h, *x, *qkv, *att, *ff, *logits, *bias;
    int32_t * ids; /* (max_rows) argmax */
};

struct vb_cuda_t5seq {
    int64_t max_enc, max_dec, n_enc;
    float * mask_add; /* (max_enc) 0 or -FLT_MAX */
    float * cross_kv; /* (max_enc, n_dec * 2 * inner) */
    float * self_k;   /* (n_dec, max_dec, inner) */
    float * self_v;
};

static int vec(struct vb_cuda_ctx * c, struct vb_cuda_t5 * t, float ** d, const float * h, int64_t n) {
    *d = NULL;
    int st = vb_cuda_alloc(c, (void **)d, sizeof(float) * (size_t)n);
    if (st == VB_OK) st = vb_cuda_upload(c, *d, h, sizeof(float) * (size_t)n);
    if (st == VB_OK) t->bytes += (int64_t)sizeof(float) * n;
    return st;
}

static int mat(struct vb_cuda_ctx * c, struct vb_cuda_t5 * t, struct vb_cuda_wmat * D, const struct vb_wmat * W,
               int32_t dt) {
    int st = vb_cuda_wmat_upload(c, D, W, dt);
    if (st == VB_OK) t->bytes += D->rows * D->cols * (dt == VB_DT_F32 ? 4 : 2);
    return st;
}

static void free_acts(struct vb_cuda_t5 * t) {
    float * ps[] = {t->h, t->x, t->qkv, t->att, t->ff, t->logits, t->bias};
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++)
        vb_cuda_free(ps[i]);
    vb_cuda_free(t->ids);
    t->h = t->x = t->qkv = t->att = t->ff = t->logits = t->bias = NULL;
    t->ids = NULL;
    t->max_rows = t->max_bias = 0;
}

void vb_cuda_t5_free(struct vb_cuda_t5 * t) {
    if (!t) return;
    free_acts(t);
    vb_cuda_t5enc_free(t->enc);
    for (int32_t l = 0; t->dec && l < t->cfg.n_dec; l++) {
        struct cuda_dec_block * b = &t->dec[l];
        vb_cuda_free(b->ln_sa), vb_cuda_free(b->ln_ca), vb_cuda_free(b->ln_ff);
        struct vb_cuda_wmat * ws[] = {&b->qkv, &b->o, &b->cq, &b->co, &b->ffi, &b->ffo};
        for (size_t i = 0; i < sizeof ws / sizeof ws[0]; i++)
            vb_cuda_wmat_free(ws[i]);
    }
    free(t->dec);
    vb_cuda_wmat_free(&t->cross_kv), vb_cuda_wmat_free(&t->head);
    vb_cuda_free(t->dec_rel), vb_cuda_free(t->dec_final_ln);
    free(t);
}

int64_t vb_cuda_t5_bytes(const struct vb_cuda_t5 * t) {
    return t ? t->bytes + vb_cuda_t5enc_bytes(t->enc) : 0;
}

int vb_cuda_t5_upload(struct vb_cuda_ctx * c, struct vb_cuda_t5 ** out, const struct vb_t5_model * m, int32_t dt) {
    *out = NULL;
    int st = vb_cuda_ctx_check_(c, "vb_cuda_t5_upload");
    if (st != VB_OK) return st;
    if (!m || m->cfg.n_dec < 1 || m->cfg.d_model < 1) return vb_fail(VB_ERR_ARG, "vb_cuda_t5_upload: no model");
    struct vb_cuda_t5 * t = vb_calloc(1, sizeof *t);
    t->cfg = m->cfg;
    t->inner = m->inner;
    const int64_t d = m->cfg.d_model;
    t->dec = vb_calloc((size_t)m->cfg.n_dec, sizeof *t->dec);
    st = vb_cuda_t5enc_upload(c, &t->enc, m, dt);
    if (st == VB_OK) st = vec(c, t, &t->dec_rel, m->dec_rel, (int64_t)m->cfg.n_buckets * m->cfg.heads);
    if (st == VB_OK) st = vec(c, t, &t->dec_final_ln, m->dec_final_ln, d);
    if (st == VB_OK) st = mat(c, t, &t->cross_kv, &m->cross_kv, dt);
    if (st == VB_OK) st = mat(c, t, &t->head, &m->head, dt);
    for (int32_t l = 0; l < m->cfg.n_dec && st == VB_OK; l++) {
        const struct vb_t5_block * s = &m->dec[l];
        struct cuda_dec_block *    b = &t->dec[l];
        st = vec(c, t, &b->ln_sa, s->ln_sa, d);
        if (st == VB_OK) st = vec(c, t, &b->ln_ca, s->ln_ca, d);
        if (st == VB_OK) st = vec(c, t, &b->ln_ff, s->ln_ff, d);
        if (st == VB_OK) st = mat(c, t, &b->qkv, &s->qkv, dt);
        if (st == VB_OK) st = mat(c, t, &b->o, &s->o, dt);
        if (st == VB_OK) st = mat(c, t, &b->cq, &s->cq, dt);
        if (st == VB_OK) st = mat(c, t, &b->co, &s->co, dt);
        if (st == VB_OK) st = mat(c, t, &b->ffi, &s->ffi, dt);
        if (st == VB_OK) st = mat(c, t, &b->ffo, &s->ffo, dt);
    }
    if (st != VB_OK) {
        vb_cuda_t5_free(t);
        return vb_fail_prefix(st, "t5 upload");
    }
    *out = t;
    return VB_OK;
}

struct vb_cuda_t5enc * vb_cuda_t5_encoder(struct vb_cuda_t5 * t) {
    return t ? t->enc : NULL;
}

static int grow(struct vb_cuda_ctx * c, struct vb_cuda_t5 * t, int64_t rows, int64_t bias) {
    if (rows <= t->max_rows && bias <= t->max_bias) return VB_OK;
    rows = VB_MAX(rows, t->max_rows), bias = VB_MAX(bias, t->max_bias);
    free_acts(t);
    const size_t f = sizeof(float), R = (size_t)rows, d = (size_t)t->cfg.d_model, in = (size_t)t->inner;
    int          st = vb_cuda_alloc(c, (void **)&t->h, f * R * d);
    if (st == VB_OK) st = vb_cuda_alloc(c, (void **)&t->x, f * R * d);
    if (st == VB_OK) st = vb_cuda_alloc(c, (void **)&t->qkv, f * R * 3 * in);
    if (st == VB_OK) st = vb_cuda_alloc(c, (void **)&t->att, f * R * in);
    if (st == VB_OK) st = vb_cuda_alloc(c, (void **)&t->ff, f * R * 2 * (size_t)t->cfg.d_ff);
    if (st == VB_OK) st = vb_cuda_alloc(c, (void **)&t->logits, f * R * (size_t)t->cfg.vocab);
    if (st == VB_OK) st = vb_cuda_alloc(c, (void **)&t->bias, f * (size_t)bias);
    if (st == VB_OK) st = vb_cuda_alloc(c, (void **)&t->ids, sizeof(int32_t) * R);
    if (st != VB_OK) {
        free_acts(t);
        return st;
    }
    t->max_rows = rows, t->max_bias = bias;
    return VB_OK;
}

/* ---- per-sequence state ---- */

void vb_cuda_t5seq_free(struct vb_cuda_t5seq * s) {
    if (!s) return;
    vb_cuda_free(s->mask_add), vb_cuda_free(s->cross_kv), vb_cuda_free(s->self_k), vb_cuda_free(s->self_v);
    free(s);
}

int vb_cuda_t5seq_new(struct vb_cuda_ctx * c, const struct vb_cuda_t5 * t, int64_t max_enc, int64_t max_dec,
                      struct vb_cuda_t5seq ** out) {
    *out = NULL;
    int st = vb_cuda_ctx_check_(c, "vb_cuda_t5seq_new");
    if (st != VB_OK) return st;
    if (!t || max_enc < 1 || max_dec < 1 || max_enc > 16384 || max_dec > 16384)
        return vb_fail(VB_ERR_ARG, "t5 sequence (cuda): max_enc %lld, max_dec %lld", (long long)max_enc,
                       (long long)max_dec);
    struct vb_cuda_t5seq * s = vb_calloc(1, sizeof *s);
    s->max_enc = max_enc, s->max_dec = max_dec;
    const size_t f = sizeof(float), nd = (size_t)t->cfg.n_dec, in = (size_t)t->inner;
    st = vb_cuda_alloc(c, (void **)&s->mask_add, f * (size_t)max_enc);
    if (st == VB_OK) st = vb_cuda_alloc(c, (void **)&s->cross_kv, f * (size_t)max_enc * nd * 2 * in);
    if (st == VB_OK) st = vb_cuda_alloc(c, (void **)&s->self_k, f * nd * (size_t)max_dec * in);
    if (st == VB_OK) st = vb_cuda_alloc(c, (void **)&s->self_v, f * nd * (size_t)max_dec * in);
    if (st != VB_OK) {
        vb_cuda_t5seq_free(s);
        return vb_fail_prefix(st, "t5 sequence (cuda)");
    }
    *out = s;
    return VB_OK;
}

int64_t vb_cuda_t5seq_n_enc(const struct vb_cuda_t5seq * s) {
    return s ? s->n_enc : 0;
}

int vb_cuda_t5seq_set_encoder(struct vb_cuda_ctx * c, struct vb_cuda_t5 * t, struct vb_cuda_t5seq * s,
                              const float * enc, const uint8_t * mask, int64_t n) {
    int st = vb_cuda_ctx_check_(c, "vb_cuda_t5seq_set_encoder");
    if (st != VB_OK) return st;
    if (!t || !s || !enc || n < 1 || n > s->max_enc)
        return vb_fail(VB_ERR_ARG, "t5 encoder output (cuda): %lld tokens, the sequence holds 1..%lld", (long long)n,
                       s ? (long long)s->max_enc : 0LL);
    const int64_t d = t->cfg.d_model, cols = (int64_t)t->cfg.n_dec * 2 * t->inner;
    st = grow(c, t, n, t->max_bias);
    if (st != VB_OK) return vb_fail_prefix(st, "t5 encoder output (cuda)");
    float * madd = vb_malloc(sizeof(float) * (size_t)n);
    for (int64_t i = 0; i < n; i++)
        madd[i] = (!mask || mask[i]) ? 0.0f : -FLT_MAX; /* as t5.c's set_mask */
    st = vb_cuda_upload(c, s->mask_add, madd, sizeof(float) * (size_t)n);
    free(madd);
    if (st == VB_OK) st = vb_cuda_upload(c, t->x, enc, sizeof(float) * (size_t)(n * d));
    if (st == VB_OK) st = vb_cuda_linear(c, t->x, d, n, &t->cross_kv, NULL, s->cross_kv, cols, 0.0f);
    if (st == VB_OK) st = vb_cuda_sync(c);
    s->n_enc = st == VB_OK ? n : 0;
    return st;
}

/* h += FF(rmsnorm(h)) over R device rows (t5.c's ff_rows) */
static int ff_rows(struct vb_cuda_ctx * c, struct vb_cuda_t5 * t, const struct cuda_dec_block * b, int64_t R) {
    const struct vb_t5_config * C = &t->cfg;
    const int64_t               d = C->d_model, f = C->d_ff, wdt = C->gated ? 2 * f : f;
    int                         st = vb_cuda_rmsnorm(c, t->h, R, d, b->ln_ff, C->eps, t->x);
    if (st == VB_OK) st = vb_cuda_linear(c, t->x, d, R, &b->ffi, NULL, t->ff, wdt, 0.0f);
    if (st == VB_OK)
        st = C->gated ? vb_cuda_gated_act(c, t->ff, R, f, (int32_t)C->act)
                      : vb_cuda_act(c, t->ff, R * f, (int32_t)C->act);
    if (st == VB_OK) st = vb_cuda_linear(c, t->ff, wdt, R, &b->ffo, NULL, t->h, d, 1.0f);
    return st;
}

/* final norm, tied scaling, lm_head and the outputs of R rows (t5.c's tail of vb_t5_decode) */
static int head_out(struct vb_cuda_ctx * c, struct vb_cuda_t5 * t, int64_t R, float * logits, int32_t * argmax,
                    float * last_hidden) {
    const struct vb_t5_config * C = &t->cfg;
    const int64_t               d = C->d_model;
    int                         st = vb_cuda_rmsnorm(c, t->h, R, d, t->dec_final_ln, C->eps, t->x);
    if (st == VB_OK && last_hidden) st = vb_cuda_download(c, last_hidden, t->x, sizeof(float) * (size_t)(R * d));
    if (st == VB_OK && C->tie) st = vb_cuda_scale(c, t->x, R * d, (float)(1.0 / sqrt((double)d)));
    if (st == VB_OK && (logits || argmax))
        st = vb_cuda_linear(c, t->x, d, R, &t->head, NULL, t->logits, C->vocab, 0.0f);
    if (st == VB_OK && logits) st = vb_cuda_download(c, logits, t->logits, sizeof(float) * (size_t)(R * C->vocab));
    if (st == VB_OK && argmax) st = vb_cuda_argmax_rows(c, t->logits, R, C->vocab, t->ids);
    if (st == VB_OK && argmax) st = vb_cuda_download(c, argmax, t->ids, sizeof(int32_t) * (size_t)R);
    return st;
}

int vb_cuda_t5_decode(struct vb_cuda_ctx * c, struct vb_cuda_t5 * t, struct vb_cuda_t5seq * s, int64_t n_past,
                      const float * embeds, int64_t n, float * logits, int32_t * argmax, float * last_hidden,
                      float * block_out) {
    int st = vb_cuda_ctx_check_(c, "vb_cuda_t5_decode");
    if (st != VB_OK) return st;
    if (!t || !s || !embeds) return vb_fail(VB_ERR_ARG, "t5 decoder (cuda): no model or sequence");
    if (s->n_enc < 1) return vb_fail(VB_ERR_ARG, "t5 decoder (cuda): no encoder output");
    if (n < 1 || n_past < 0 || n_past + n > s->max_dec)
        return vb_fail(VB_ERR_ARG, "t5 decoder (cuda): %lld positions after %lld exceed the sequence's %lld",
                       (long long)n, (long long)n_past, (long long)s->max_dec);
    const struct vb_t5_config * C = &t->cfg;
    const int64_t d = C->d_model, inner = t->inner, t0 = n_past, nk = t0 + n, ldkv = (int64_t)C->n_dec * 2 * inner;
    st = grow(c, t, n, (int64_t)C->heads * n * nk);
    if (st != VB_OK) return vb_fail_prefix(st, "t5 decoder (cuda): activations");
    st = vb_cuda_upload(c, t->h, embeds, sizeof(float) * (size_t)(n * d));
    if (st == VB_OK)
        st = vb_cuda_t5_bias(c, t->dec_rel, C->heads, C->n_buckets, C->max_distance, 0, n, t0, nk, t->bias);
    for (int32_t l = 0; l < C->n_dec && st == VB_OK; l++) {
        const struct cuda_dec_block * b = &t->dec[l];
        float *                       K = s->self_k + (int64_t)l * s->max_dec * inner;
        float *                       V = s->self_v + (int64_t)l * s->max_dec * inner;
        /* self-attention: q | k | v in one GEMM, k / v rows into the cache at t0.. */
        st = vb_cuda_rmsnorm(c, t->h, n, d, b->ln_sa, C->eps, t->x);
        if (st == VB_OK) st = vb_cuda_linear(c, t->x, d, n, &b->qkv, NULL, t->qkv, 3 * inner, 0.0f);
        if (st == VB_OK) st = vb_cuda_copy_rows(c, K + t0 * inner, inner, t->qkv + inner, 3 * inner, n, inner);
        if (st == VB_OK) st = vb_cuda_copy_rows(c, V + t0 * inner, inner, t->qkv + 2 * inner, 3 * inner, n, inner);
        if (st == VB_OK)
            st = vb_cuda_attention(c, t->qkv, 3 * inner, K, inner, V, inner, n, nk, C->heads, C->d_kv, 1.0f, t->bias,
                                   NULL, 1, t0, t->att, inner);
        if (st == VB_OK) st = vb_cuda_linear(c, t->att, inner, n, &b->o, NULL, t->h, d, 1.0f);
        /* cross-attention over the encoder output */
        if (st == VB_OK) st = vb_cuda_rmsnorm(c, t->h, n, d, b->ln_ca, C->eps, t->x);
        if (st == VB_OK) st = vb_cuda_linear(c, t->x, d, n, &b->cq, NULL, t->qkv, inner, 0.0f);
        const float * CK = s->cross_kv + (int64_t)l * 2 * inner;
        if (st == VB_OK)
            st = vb_cuda_attention(c, t->qkv, inner, CK, ldkv, CK + inner, ldkv, n, s->n_enc, C->heads, C->d_kv, 1.0f,
                                   NULL, s->mask_add, 0, 0, t->att, inner);
        if (st == VB_OK) st = vb_cuda_linear(c, t->att, inner, n, &b->co, NULL, t->h, d, 1.0f);
        if (st == VB_OK) st = ff_rows(c, t, b, n);
        if (st == VB_OK && block_out)
            st = vb_cuda_download(c, block_out + (int64_t)l * n * d, t->h, sizeof(float) * (size_t)(n * d));
    }
    if (st == VB_OK) st = head_out(c, t, n, logits, argmax, last_hidden);
    if (st == VB_OK) st = vb_cuda_sync(c);
    return st;
}

int vb_cuda_t5_decode_batch(struct vb_cuda_ctx * c, struct vb_cuda_t5 * t, struct vb_cuda_t5seq ** s,
                            const int64_t * n_past, int32_t n_seq, const float * embeds, float * logits,
                            int32_t * argmax) {
    int st = vb_cuda_ctx_check_(c, "vb_cuda_t5_decode_batch");
    if (st != VB_OK) return st;
    if (!t || !s || !n_past || !embeds || n_seq < 1) return vb_fail(VB_ERR_ARG, "t5 decoder batch (cuda): no input");
    const struct vb_t5_config * C = &t->cfg;
    const int64_t               d = C->d_model, inner = t->inner, R = n_seq, ldkv = (int64_t)C->n_dec * 2 * inner;
    int64_t                     nbias = 0;
    for (int32_t i = 0; i < n_seq; i++) {
        if (!s[i] || s[i]->n_enc < 1)
            return vb_fail(VB_ERR_ARG, "t5 decoder batch (cuda): sequence %d has no encoder output", i);
        if (n_past[i] < 0 || n_past[i] + 1 > s[i]->max_dec)
            return vb_fail(VB_ERR_ARG, "t5 decoder batch (cuda): sequence %d: cache full (%lld positions)", i,
                           (long long)s[i]->max_dec);
        nbias += (int64_t)C->heads * (n_past[i] + 1);
    }
    st = grow(c, t, R, nbias);
    if (st != VB_OK) return vb_fail_prefix(st, "t5 decoder batch (cuda): activations");
    st = vb_cuda_upload(c, t->h, embeds, sizeof(float) * (size_t)(R * d));
    int64_t * boff = vb_malloc(sizeof(int64_t) * (size_t)n_seq); /* each sequence's (heads, 1, t + 1) bias */
    for (int32_t i = 0, o = 0; i < n_seq && st == VB_OK; o += C->heads * (int32_t)(n_past[i] + 1), i++) {
        boff[i] = o;
        st = vb_cuda_t5_bias(c, t->dec_rel, C->heads, C->n_buckets, C->max_distance, 0, 1, n_past[i], n_past[i] + 1,
                             t->bias + o);
    }
    for (int32_t l = 0; l < C->n_dec && st == VB_OK; l++) {
        const struct cuda_dec_block * b = &t->dec[l];
        st = vb_cuda_rmsnorm(c, t->h, R, d, b->ln_sa, C->eps, t->x);
        if (st == VB_OK) st = vb_cuda_linear(c, t->x, d, R, &b->qkv, NULL, t->qkv, 3 * inner, 0.0f);
        for (int32_t i = 0; i < n_seq && st == VB_OK; i++) {
            const int64_t tp = n_past[i];
            float *       K = s[i]->self_k + (int64_t)l * s[i]->max_dec * inner;
            float *       V = s[i]->self_v + (int64_t)l * s[i]->max_dec * inner;
            const float * q = t->qkv + (int64_t)i * 3 * inner;
            st = vb_cuda_copy_rows(c, K + tp * inner, inner, q + inner, 3 * inner, 1, inner);
            if (st == VB_OK) st = vb_cuda_copy_rows(c, V + tp * inner, inner, q + 2 * inner, 3 * inner, 1, inner);
            if (st == VB_OK)
                st = vb_cuda_attention(c, q, 3 * inner, K, inner, V, inner, 1, tp + 1, C->heads, C->d_kv, 1.0f,
                                       t->bias + boff[i], NULL, 1, tp, t->att + (int64_t)i * inner, inner);
        }
        if (st == VB_OK) st = vb_cuda_linear(c, t->att, inner, R, &b->o, NULL, t->h, d, 1.0f);
        if (st == VB_OK) st = vb_cuda_rmsnorm(c, t->h, R, d, b->ln_ca, C->eps, t->x);
        if (st == VB_OK) st = vb_cuda_linear(c, t->x, d, R, &b->cq, NULL, t->qkv, inner, 0.0f);
        for (int32_t i = 0; i < n_seq && st == VB_OK; i++) {
            const float * CK = s[i]->cross_kv + (int64_t)l * 2 * inner;
            st = vb_cuda_attention(c, t->qkv + (int64_t)i * inner, inner, CK, ldkv, CK + inner, ldkv, 1, s[i]->n_enc,
                                   C->heads, C->d_kv, 1.0f, NULL, s[i]->mask_add, 0, 0, t->att + (int64_t)i * inner,
                                   inner);
        }
        if (st == VB_OK) st = vb_cuda_linear(c, t->att, inner, R, &b->co, NULL, t->h, d, 1.0f);
        if (st == VB_OK) st = ff_rows(c, t, b, R);
    }
    free(boff);
    if (st == VB_OK) st = head_out(c, t, R, logits, argmax, NULL);
    if (st == VB_OK) st = vb_cuda_sync(c);
    return st;
}
