/* qformer.c (engine/cuda) — the BLIP-2 / InstructBLIP Q-Former and the language projection on the device:
** engine/qformer.c's vb_qformer_run step for step (embedding LayerNorm; per layer the fused q|k|v GEMM over all rows,
** self-attention per batch row over [queries; text] with the padded text keys masked, dense + residual + LayerNorm,
** cross-attention of the query rows to the image tokens, the query / text FFNs), in the same two-block row layout
** (all query rows, then all text rows), and vb_projection_run. */
#include "engine/qformer.h"
#include "base/common.h"
#include "engine/config.h"
#include "engine/cuda/internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* BERT extended attention mask value for padded keys, as engine/qformer.c */
#define QF_MASK_NEG (-10000.0f)

struct cuda_qf_layer {
    int32_t             has_cross;
    struct vb_cuda_wmat qkv, ao, cq, ckv, co, iq, oq, it, ot;
    float *             qkv_b, *ao_b, *ao_ln_w, *ao_ln_b, *cq_b, *ckv_b, *co_b, *co_ln_w, *co_ln_b; /* f32 vectors */
    float *             iq_b, *oq_b, *oq_ln_w, *oq_ln_b, *it_b, *ot_b, *ot_ln_w, *ot_ln_b;
};

struct vb_cuda_qformer {
    const struct vb_qformer * host; /* the word embeddings are gathered on the host (vb_wmat_row) */
    struct vb_qformer_config  cfg;
    int32_t                   Q;
    float *                   emb_ln_w, *emb_ln_b;
    struct cuda_qf_layer *    layers;
    int64_t                   bytes;
    /* activations (grown on demand): R = B * (Q + L) rows, image rows B * n_img */
    int64_t max_rows, max_img_rows, max_B, max_S;
    float * h, *qkv, *att, *kv_seq, *ckv, *ffn, *mask_add, *image;
    float * stage; /* host staging (max_rows, D) */
};

static int vec(struct vb_cuda_ctx * c, int64_t * bytes, float ** d, const float * h, int64_t n) {
    *d = NULL;
    if (!h || n <= 0) return VB_OK;
    int st = vb_cuda_alloc(c, (void **)d, sizeof(float) * (size_t)n);
    if (st == VB_OK) st = vb_cuda_upload(c, *d, h, sizeof(float) * (size_t)n);
    if (st == VB_OK) *bytes += (int64_t)sizeof(float) * n;
    return st;
}

static int mat(struct vb_cuda_ctx * c, int64_t * bytes, struct vb_cuda_wmat * D, const struct vb_wmat * W, int32_t dt) {
    if (!W->data) return VB_OK; /* absent (no cross-attention, no text FFN) */
    int st = vb_cuda_wmat_upload(c, D, W, dt);
    if (st == VB_OK) *bytes += D->rows * D->cols * (dt == VB_DT_F32 ? 4 : 2);
    return st;
}

static void free_acts(struct vb_cuda_qformer * q) {
    float * ps[] = {q->h, q->qkv, q->att, q->kv_seq, q->ckv, q->ffn, q->mask_add, q->image};
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++)
        vb_cuda_free(ps[i]);
    q->h = q->qkv = q->att = q->kv_seq = q->ckv = q->ffn = q->mask_add = q->image = NULL;
    free(q->stage);
    q->stage = NULL;
    q->max_rows = q->max_img_rows = q->max_B = q->max_S = 0;
}

void vb_cuda_qformer_free(struct vb_cuda_qformer * q) {
    if (!q) return;
    free_acts(q);
    vb_cuda_free(q->emb_ln_w), vb_cuda_free(q->emb_ln_b);
    for (int32_t l = 0; q->layers && l < q->cfg.layers; l++) {
        struct cuda_qf_layer * y = &q->layers[l];
        float *                ps[] = {y->qkv_b,   y->ao_b,    y->ao_ln_w, y->ao_ln_b, y->cq_b,   y->ckv_b,
                                       y->co_b,    y->co_ln_w, y->co_ln_b, y->iq_b,    y->oq_b,   y->oq_ln_w,
                                       y->oq_ln_b, y->it_b,    y->ot_b,    y->ot_ln_w, y->ot_ln_b};
        for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++)
            vb_cuda_free(ps[i]);
        struct vb_cuda_wmat * ws[] = {&y->qkv, &y->ao, &y->cq, &y->ckv, &y->co, &y->iq, &y->oq, &y->it, &y->ot};
        for (size_t i = 0; i < sizeof ws / sizeof ws[0]; i++)
            vb_cuda_wmat_free(ws[i]);
    }
    free(q->layers);
    free(q);
}

int64_t vb_cuda_qformer_bytes(const struct vb_cuda_qformer * q) {
    return q ? q->bytes : 0;
}

static int upload_layer(struct vb_cuda_ctx * c, int64_t * by, struct cuda_qf_layer * y,
                        const struct vb_qformer_layer * s, const struct vb_qformer_config * C, int32_t dt) {
    const int64_t D = C->hidden, I = C->intermediate;
    y->has_cross = s->has_cross;
    int st = mat(c, by, &y->qkv, &s->qkv, dt);
    if (st == VB_OK) st = vec(c, by, &y->qkv_b, s->qkv_b, 3 * D);
    if (st == VB_OK) st = mat(c, by, &y->ao, &s->ao, dt);
    if (st == VB_OK) st = vec(c, by, &y->ao_b, s->ao_b, D);
    if (st == VB_OK) st = vec(c, by, &y->ao_ln_w, s->ao_ln_w, D);
    if (st == VB_OK) st = vec(c, by, &y->ao_ln_b, s->ao_ln_b, D);
    if (st == VB_OK && s->has_cross) {
        st = mat(c, by, &y->cq, &s->cq, dt);
        if (st == VB_OK) st = vec(c, by, &y->cq_b, s->cq_b, D);
        if (st == VB_OK) st = mat(c, by, &y->ckv, &s->ckv, dt);
        if (st == VB_OK) st = vec(c, by, &y->ckv_b, s->ckv_b, 2 * D);
        if (st == VB_OK) st = mat(c, by, &y->co, &s->co, dt);
        if (st == VB_OK) st = vec(c, by, &y->co_b, s->co_b, D);
        if (st == VB_OK) st = vec(c, by, &y->co_ln_w, s->co_ln_w, D);
        if (st == VB_OK) st = vec(c, by, &y->co_ln_b, s->co_ln_b, D);
    }
    if (st == VB_OK) st = mat(c, by, &y->iq, &s->iq, dt);
    if (st == VB_OK) st = vec(c, by, &y->iq_b, s->iq_b, I);
    if (st == VB_OK) st = mat(c, by, &y->oq, &s->oq, dt);
    if (st == VB_OK) st = vec(c, by, &y->oq_b, s->oq_b, D);
    if (st == VB_OK) st = vec(c, by, &y->oq_ln_w, s->oq_ln_w, D);
    if (st == VB_OK) st = vec(c, by, &y->oq_ln_b, s->oq_ln_b, D);
    if (st == VB_OK && C->has_text) {
        st = mat(c, by, &y->it, &s->it, dt);
        if (st == VB_OK) st = vec(c, by, &y->it_b, s->it_b, I);
        if (st == VB_OK) st = mat(c, by, &y->ot, &s->ot, dt);
        if (st == VB_OK) st = vec(c, by, &y->ot_b, s->ot_b, D);
        if (st == VB_OK) st = vec(c, by, &y->ot_ln_w, s->ot_ln_w, D);
        if (st == VB_OK) st = vec(c, by, &y->ot_ln_b, s->ot_ln_b, D);
    }
    return st;
}

int vb_cuda_qformer_upload(struct vb_cuda_ctx * c, struct vb_cuda_qformer ** out, const struct vb_qformer * m,
                           int32_t dt) {
    *out = NULL;
    int st = vb_cuda_ctx_check_(c, "vb_cuda_qformer_upload");
    if (st != VB_OK) return st;
    if (!m || m->cfg.layers < 1 || m->cfg.hidden < 1 || m->cfg.heads < 1 || m->cfg.hidden % m->cfg.heads ||
        m->n_query < 1)
        return vb_fail(VB_ERR_ARG, "vb_cuda_qformer_upload: no model");
    struct vb_cuda_qformer * q = vb_calloc(1, sizeof *q);
    q->host = m;
    q->cfg = m->cfg;
    q->Q = m->n_query;
    q->layers = vb_calloc((size_t)m->cfg.layers, sizeof *q->layers);
    st = vec(c, &q->bytes, &q->emb_ln_w, m->emb_ln_w, m->cfg.hidden);
    if (st == VB_OK) st = vec(c, &q->bytes, &q->emb_ln_b, m->emb_ln_b, m->cfg.hidden);
    for (int32_t l = 0; l < m->cfg.layers && st == VB_OK; l++)
        st = upload_layer(c, &q->bytes, &q->layers[l], &m->layers[l], &m->cfg, dt);
    if (st != VB_OK) {
        vb_cuda_qformer_free(q);
        return vb_fail_prefix(st, "qformer upload");
    }
    *out = q;
    return VB_OK;
}

static int grow(struct vb_cuda_ctx * c, struct vb_cuda_qformer * q, int64_t B, int64_t S, int64_t img_rows) {
    const int64_t R = B * S;
    if (R <= q->max_rows && img_rows <= q->max_img_rows && B <= q->max_B && S <= q->max_S) return VB_OK;
    int64_t nR = VB_MAX(R, q->max_rows), nI = VB_MAX(img_rows, q->max_img_rows), nB = VB_MAX(B, q->max_B);
    int64_t nS = VB_MAX(S, q->max_S);
    free_acts(q);
    const size_t f = sizeof(float), D = (size_t)q->cfg.hidden, I = (size_t)q->cfg.intermediate;
    const size_t Dv = (size_t)q->cfg.encoder_hidden;
    int          st = vb_cuda_alloc(c, (void **)&q->h, f * (size_t)nR * D);
    if (st == VB_OK) st = vb_cuda_alloc(c, (void **)&q->qkv, f * (size_t)nR * 3 * D);
    if (st == VB_OK) st = vb_cuda_alloc(c, (void **)&q->att, f * (size_t)nR * D);
    if (st == VB_OK) st = vb_cuda_alloc(c, (void **)&q->kv_seq, f * (size_t)nS * 2 * D);
    if (st == VB_OK) st = vb_cuda_alloc(c, (void **)&q->ckv, f * (size_t)nI * 2 * D);
    if (st == VB_OK) st = vb_cuda_alloc(c, (void **)&q->ffn, f * (size_t)nR * I);
    if (st == VB_OK) st = vb_cuda_alloc(c, (void **)&q->mask_add, f * (size_t)nR);
    if (st == VB_OK) st = vb_cuda_alloc(c, (void **)&q->image, f * (size_t)nI * Dv);
    if (st != VB_OK) {
        free_acts(q);
        return st;
    }
    q->stage = vb_malloc(f * (size_t)nR * D);
    q->max_rows = nR, q->max_img_rows = nI, q->max_B = nB, q->max_S = nS;
    return VB_OK;
}

/* h (n, D) = LayerNorm(h + act(h W_i^T + b_i) W_o^T + b_o) over n contiguous device rows (engine/qformer.c's
** ffn_block) */
static int ffn_block(struct vb_cuda_ctx * c, struct vb_cuda_qformer * q, float * h, int64_t n,
                     const struct vb_cuda_wmat * wi, const float * bi, const struct vb_cuda_wmat * wo, const float * bo,
                     const float * ln_w, const float * ln_b) {
    const int64_t D = q->cfg.hidden, I = q->cfg.intermediate;
    if (n == 0) return VB_OK;
    int st = vb_cuda_linear(c, h, D, n, wi, bi, q->ffn, I, 0.0f);
    if (st == VB_OK) st = vb_cuda_act(c, q->ffn, n * I, (int32_t)q->cfg.act);
    if (st == VB_OK) st = vb_cuda_linear(c, q->ffn, I, n, wo, bo, h, D, 1.0f);
    if (st == VB_OK) st = vb_cuda_layernorm(c, h, n, D, ln_w, ln_b, q->cfg.ln_eps, h);
    return st;
}

/* the device two-block activations -> HF order dst (B, Q + L, D) on the host, through the staging buffer */
static int to_hf(struct vb_cuda_ctx * c, struct vb_cuda_qformer * q, int64_t B, int64_t L, float * dst) {
    const int64_t Q = q->Q, D = q->cfg.hidden;
    int           st = vb_cuda_download(c, q->stage, q->h, sizeof(float) * (size_t)(B * (Q + L) * D));
    if (st != VB_OK) return st;
    for (int64_t b = 0; b < B; b++) {
        memcpy(dst + b * (Q + L) * D, q->stage + b * Q * D, sizeof(float) * (size_t)(Q * D));
        if (L > 0) memcpy(dst + (b * (Q + L) + Q) * D, q->stage + (B * Q + b * L) * D, sizeof(float) * (size_t)(L * D));
    }
    return VB_OK;
}

/* self-attention of one layer over [queries; text] of every batch row (engine/qformer.c's loop) */
static int self_attention(struct vb_cuda_ctx * c, struct vb_cuda_qformer * q, int64_t B, int64_t L,
                          const uint8_t * any_pad) {
    const int64_t Q = q->Q, D = q->cfg.hidden, Rq = B * Q, S = Q + L;
    const int32_t H = q->cfg.heads, dh = (int32_t)(D / H);
    const float   scale = 1.0f / sqrtf((float)dh);
    int           st = VB_OK;
    for (int64_t b = 0; b < B && st == VB_OK; b++) {
        const float * qq = q->qkv + b * Q * 3 * D;
        if (L == 0) { /* queries only: keys are contiguous in qkv */
            st = vb_cuda_attention(c, qq, 3 * D, qq + D, 3 * D, qq + 2 * D, 3 * D, Q, Q, H, dh, scale, NULL, NULL, 0, 0,
                                   q->att + b * Q * D, D);
            continue;
        }
        /* keys | values of this row gathered from both blocks */
        st = vb_cuda_copy_rows(c, q->kv_seq, 2 * D, q->qkv + b * Q * 3 * D + D, 3 * D, Q, 2 * D);
        if (st == VB_OK)
            st = vb_cuda_copy_rows(c, q->kv_seq + Q * 2 * D, 2 * D, q->qkv + (Rq + b * L) * 3 * D + D, 3 * D, L, 2 * D);
        const float * madd = any_pad[b] ? q->mask_add + b * S : NULL;
        if (st == VB_OK)
            st = vb_cuda_attention(c, qq, 3 * D, q->kv_seq, 2 * D, q->kv_seq + D, 2 * D, Q, S, H, dh, scale, NULL, madd,
                                   0, 0, q->att + b * Q * D, D);
        const float * qt = q->qkv + (Rq + b * L) * 3 * D;
        if (st == VB_OK)
            st = vb_cuda_attention(c, qt, 3 * D, q->kv_seq, 2 * D, q->kv_seq + D, 2 * D, L, S, H, dh, scale, NULL, madd,
                                   0, 0, q->att + (Rq + b * L) * D, D);
    }
    return st;
}

/* the embeddings (query tokens; word + position rows of the text) and the key masks on the host, then uploaded */
static int embed(struct vb_cuda_ctx * c, struct vb_cuda_qformer * q, int64_t B, int64_t L, const int32_t * ids,
                 const int32_t * text_mask, uint8_t * any_pad) {
    const struct vb_qformer * m = q->host;
    const int64_t             Q = q->Q, D = q->cfg.hidden, Rq = B * Q, S = Q + L;
    float *                   hs = q->stage;
    for (int64_t b = 0; b < B; b++)
        memcpy(hs + b * Q * D, m->query_tokens, sizeof(float) * (size_t)(Q * D));
    for (int64_t b = 0; b < B; b++)
        for (int64_t j = 0; j < L; j++) {
            const float * pe = m->pos_emb + j * D;
            float *       dst = hs + (Rq + b * L + j) * D;
            vb_wmat_row(&m->word_emb, ids[b * L + j], dst);
            for (int64_t k = 0; k < D; k++)
                dst[k] += pe[k];
        }
    int st = vb_cuda_upload(c, q->h, hs, sizeof(float) * (size_t)((Rq + B * L) * D));
    if (st != VB_OK || L == 0) return st;
    float * madd = hs; /* (B, S) additive key masks, reusing the staging buffer after the upload */
    for (int64_t b = 0; b < B; b++) {
        any_pad[b] = 0;
        for (int64_t i = 0; i < S; i++) {
            int keep = i < Q || !text_mask || text_mask[b * L + (i - Q)] != 0;
            madd[b * S + i] = keep ? 0.0f : QF_MASK_NEG;
            any_pad[b] |= !keep;
        }
    }
    return vb_cuda_upload(c, q->mask_add, madd, sizeof(float) * (size_t)(B * S));
}

int vb_cuda_qformer_run(struct vb_cuda_ctx * c, struct vb_cuda_qformer * q, const float * image, int32_t B,
                        int32_t n_img, const int32_t * ids, const int32_t * text_mask, int32_t L, float * query_out,
                        float * full_out, float * embeddings, float * layer_out) {
    int st = vb_cuda_ctx_check_(c, "vb_cuda_qformer_run");
    if (st != VB_OK) return st;
    if (!q || !image || B < 1 || n_img < 1 || L < 0 || (L > 0 && (!ids || !q->cfg.has_text)) ||
        (L > 0 && L > q->cfg.max_pos))
        return vb_fail(VB_ERR_ARG, "qformer (cuda): batch %d, image tokens %d, text %d not usable", B, n_img, L);
    for (int64_t i = 0; i < (int64_t)B * L; i++)
        if (ids[i] < 0 || ids[i] >= q->cfg.vocab)
            return vb_fail(VB_ERR_ARG,
                           "qformer (cuda): text id %d at row %lld position %lld outside the vocabulary (%d)", ids[i],
                           (long long)(i / L), (long long)(i % L), q->cfg.vocab);
    const int64_t Q = q->Q, D = q->cfg.hidden, Dv = q->cfg.encoder_hidden, N = n_img;
    const int64_t Rq = (int64_t)B * Q, Rt = (int64_t)B * L, R = Rq + Rt;
    const int32_t H = q->cfg.heads, dh = (int32_t)(D / H);
    const float   scale = 1.0f / sqrtf((float)dh), eps = q->cfg.ln_eps;
    st = grow(c, q, B, Q + L, (int64_t)B * N);
    if (st != VB_OK) return vb_fail_prefix(st, "qformer (cuda): activations for %d rows", B);
    uint8_t * any_pad = vb_calloc((size_t)B, 1);
    float *   hq = q->h, *ht = q->h + Rq * D;
    st = embed(c, q, B, L, ids, text_mask, any_pad);
    if (st == VB_OK) st = vb_cuda_upload(c, q->image, image, sizeof(float) * (size_t)(B * N * Dv)); /* once */
    if (st == VB_OK) st = vb_cuda_layernorm(c, q->h, R, D, q->emb_ln_w, q->emb_ln_b, eps, q->h);
    if (st == VB_OK && embeddings) st = to_hf(c, q, B, L, embeddings);
    for (int32_t l = 0; l < q->cfg.layers && st == VB_OK; l++) {
        const struct cuda_qf_layer * y = &q->layers[l];
        st = vb_cuda_linear(c, q->h, D, R, &y->qkv, y->qkv_b, q->qkv, 3 * D, 0.0f);
        if (st == VB_OK) st = self_attention(c, q, B, L, any_pad);
        if (st == VB_OK) st = vb_cuda_linear(c, q->att, D, R, &y->ao, y->ao_b, q->h, D, 1.0f);
        if (st == VB_OK) st = vb_cuda_layernorm(c, q->h, R, D, y->ao_ln_w, y->ao_ln_b, eps, q->h);
        if (st == VB_OK && y->has_cross) { /* query rows only, keys / values from the row's image tokens */
            float * cq = q->qkv;           /* (B*Q, D) */
            st = vb_cuda_linear(c, hq, D, Rq, &y->cq, y->cq_b, cq, D, 0.0f);
            if (st == VB_OK)
                st = vb_cuda_linear(c, q->image, Dv, (int64_t)B * N, &y->ckv, y->ckv_b, q->ckv, 2 * D, 0.0f);
            for (int64_t b = 0; b < B && st == VB_OK; b++) {
                const float * kv = q->ckv + b * N * 2 * D;
                st = vb_cuda_attention(c, cq + b * Q * D, D, kv, 2 * D, kv + D, 2 * D, Q, N, H, dh, scale, NULL, NULL,
                                       0, 0, q->att + b * Q * D, D);
            }
            if (st == VB_OK) st = vb_cuda_linear(c, q->att, D, Rq, &y->co, y->co_b, hq, D, 1.0f);
            if (st == VB_OK) st = vb_cuda_layernorm(c, hq, Rq, D, y->co_ln_w, y->co_ln_b, eps, hq);
        }
        if (st == VB_OK) st = ffn_block(c, q, hq, Rq, &y->iq, y->iq_b, &y->oq, y->oq_b, y->oq_ln_w, y->oq_ln_b);
        if (st == VB_OK && Rt > 0)
            st = ffn_block(c, q, ht, Rt, &y->it, y->it_b, &y->ot, y->ot_b, y->ot_ln_w, y->ot_ln_b);
        if (st == VB_OK && layer_out) st = to_hf(c, q, B, L, layer_out + (int64_t)l * R * D);
    }
    if (st == VB_OK && query_out) st = vb_cuda_download(c, query_out, hq, sizeof(float) * (size_t)(Rq * D));
    if (st == VB_OK && full_out) st = to_hf(c, q, B, L, full_out);
    if (st == VB_OK) st = vb_cuda_sync(c);
    free(any_pad);
    return st;
}

/* ---- the language projection ---- */

struct vb_cuda_proj {
    int32_t             d_in, d_out;
    struct vb_cuda_wmat w;
    float *             b;
    int64_t             max_rows;
    float *             x, *y; /* (max_rows, d_in), (max_rows, d_out) */
};

void vb_cuda_proj_free(struct vb_cuda_proj * p) {
    if (!p) return;
    vb_cuda_wmat_free(&p->w);
    vb_cuda_free(p->b), vb_cuda_free(p->x), vb_cuda_free(p->y);
    free(p);
}

int vb_cuda_proj_upload(struct vb_cuda_ctx * c, struct vb_cuda_proj ** out, const struct vb_projection * p,
                        int32_t dt) {
    *out = NULL;
    int st = vb_cuda_ctx_check_(c, "vb_cuda_proj_upload");
    if (st != VB_OK) return st;
    if (!p || p->d_in < 1 || p->d_out < 1) return vb_fail(VB_ERR_ARG, "vb_cuda_proj_upload: no projection");
    struct vb_cuda_proj * d = vb_calloc(1, sizeof *d);
    int64_t               by = 0;
    d->d_in = p->d_in, d->d_out = p->d_out;
    st = mat(c, &by, &d->w, &p->w, dt);
    if (st == VB_OK) st = vec(c, &by, &d->b, p->b, p->d_out);
    if (st != VB_OK) {
        vb_cuda_proj_free(d);
        return vb_fail_prefix(st, "projection upload");
    }
    *out = d;
    return VB_OK;
}

int vb_cuda_proj_run(struct vb_cuda_ctx * c, struct vb_cuda_proj * p, const float * x, int64_t n, float * y) {
    int st = vb_cuda_ctx_check_(c, "vb_cuda_proj_run");
    if (st != VB_OK) return st;
    if (!p || !x || !y || n < 0) return vb_fail(VB_ERR_ARG, "projection (cuda): %lld rows", (long long)n);
    if (n == 0) return VB_OK;
    if (n > p->max_rows) {
        vb_cuda_free(p->x), vb_cuda_free(p->y);
        p->x = p->y = NULL, p->max_rows = 0;
        st = vb_cuda_alloc(c, (void **)&p->x, sizeof(float) * (size_t)(n * p->d_in));
        if (st == VB_OK) st = vb_cuda_alloc(c, (void **)&p->y, sizeof(float) * (size_t)(n * p->d_out));
        if (st != VB_OK) return vb_fail_prefix(st, "projection (cuda): %lld rows", (long long)n);
        p->max_rows = n;
    }
    st = vb_cuda_upload(c, p->x, x, sizeof(float) * (size_t)(n * p->d_in));
    if (st == VB_OK) st = vb_cuda_linear(c, p->x, p->d_in, n, &p->w, p->b, p->y, p->d_out, 0.0f);
    if (st == VB_OK) st = vb_cuda_download(c, y, p->y, sizeof(float) * (size_t)(n * p->d_out));
    return st;
}
