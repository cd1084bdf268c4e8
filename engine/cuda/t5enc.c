/* t5enc.c — the T5 encoder on the device: engine/t5.c's vb_t5_encode step for step (RMSNorm, fused q|k|v GEMM,
** attention with the relative position bias and the key mask, o GEMM into the residual, (gated) feed-forward, final
** RMSNorm), batched over B equal-length sequences. */
#include "base/common.h"
#include "engine/config.h"
#include "engine/cuda/internal.h"
#include "engine/t5.h"

#include <float.h>
#include <stdlib.h>
#include <string.h>

struct cuda_t5_block {
    float *             ln_sa, *ln_ff; /* (d) */
    struct vb_cuda_wmat qkv, o, ffi, ffo;
};

struct vb_cuda_t5enc {
    struct vb_t5_config    cfg;
    int32_t                inner;
    float *                rel;      /* (n_buckets, heads) */
    float *                final_ln; /* (d) */
    struct cuda_t5_block * blk;      /* n_enc */
    int64_t                bytes;
    /* activations for up to max_rows = B * n rows and max_n tokens per sequence (grown on demand) */
    int64_t max_rows, max_n;
    float * h, *x, *qkv, *att, *ff, *bias, *mask_add;
};

static int vec(struct vb_cuda_ctx * c, struct vb_cuda_t5enc * e, float ** d, const float * h, int64_t n) {
    *d = NULL;
    int st = vb_cuda_alloc(c, (void **)d, sizeof(float) * (size_t)n);
    if (st == VB_OK) st = vb_cuda_upload(c, *d, h, sizeof(float) * (size_t)n);
    if (st == VB_OK) e->bytes += (int64_t)sizeof(float) * n;
    return st;
}

static int mat(struct vb_cuda_ctx * c, struct vb_cuda_t5enc * e, struct vb_cuda_wmat * D, const struct vb_wmat * W,
               int32_t dt) {
    int st = vb_cuda_wmat_upload(c, D, W, dt);
    if (st == VB_OK) e->bytes += D->rows * D->cols * (dt == VB_DT_F32 ? 4 : 2);
    return st;
}

static void free_acts(struct vb_cuda_t5enc * e) {
    vb_cuda_free(e->h), vb_cuda_free(e->x), vb_cuda_free(e->qkv), vb_cuda_free(e->att), vb_cuda_free(e->ff);
    vb_cuda_free(e->bias), vb_cuda_free(e->mask_add);
    e->h = e->x = e->qkv = e->att = e->ff = e->bias = e->mask_add = NULL;
    e->max_rows = e->max_n = 0;
}

void vb_cuda_t5enc_free(struct vb_cuda_t5enc * e) {
    if (!e) return;
    free_acts(e);
    vb_cuda_free(e->rel), vb_cuda_free(e->final_ln);
    for (int32_t l = 0; e->blk && l < e->cfg.n_enc; l++) {
        struct cuda_t5_block * b = &e->blk[l];
        vb_cuda_free(b->ln_sa), vb_cuda_free(b->ln_ff);
        vb_cuda_wmat_free(&b->qkv), vb_cuda_wmat_free(&b->o), vb_cuda_wmat_free(&b->ffi), vb_cuda_wmat_free(&b->ffo);
    }
    free(e->blk);
    free(e);
}

int64_t vb_cuda_t5enc_bytes(const struct vb_cuda_t5enc * e) {
    return e ? e->bytes : 0;
}

int vb_cuda_t5enc_upload(struct vb_cuda_ctx * c, struct vb_cuda_t5enc ** out, const struct vb_t5_model * m,
                         int32_t dt) {
    *out = NULL;
    int st = vb_cuda_ctx_check_(c, "vb_cuda_t5enc_upload");
    if (st != VB_OK) return st;
    if (!m || m->cfg.n_enc < 1 || m->cfg.d_model < 1) return vb_fail(VB_ERR_ARG, "vb_cuda_t5enc_upload: no model");
    struct vb_cuda_t5enc * e = vb_calloc(1, sizeof *e);
    e->cfg = m->cfg;
    e->inner = m->inner;
    const int64_t d = m->cfg.d_model;
    e->blk = vb_calloc((size_t)m->cfg.n_enc, sizeof *e->blk);
    st = vec(c, e, &e->rel, m->enc_rel, (int64_t)m->cfg.n_buckets * m->cfg.heads);
    if (st == VB_OK) st = vec(c, e, &e->final_ln, m->enc_final_ln, d);
    for (int32_t l = 0; l < m->cfg.n_enc && st == VB_OK; l++) {
        const struct vb_t5_block * s = &m->enc[l];
        struct cuda_t5_block *     b = &e->blk[l];
        st = vec(c, e, &b->ln_sa, s->ln_sa, d);
        if (st == VB_OK) st = vec(c, e, &b->ln_ff, s->ln_ff, d);
        if (st == VB_OK) st = mat(c, e, &b->qkv, &s->qkv, dt);
        if (st == VB_OK) st = mat(c, e, &b->o, &s->o, dt);
        if (st == VB_OK) st = mat(c, e, &b->ffi, &s->ffi, dt);
        if (st == VB_OK) st = mat(c, e, &b->ffo, &s->ffo, dt);
    }
    if (st != VB_OK) {
        vb_cuda_t5enc_free(e);
        return vb_fail_prefix(st, "t5 encoder upload");
    }
    *out = e;
    return VB_OK;
}

static int grow(struct vb_cuda_ctx * c, struct vb_cuda_t5enc * e, int64_t rows, int64_t n) {
    if (rows <= e->max_rows && n <= e->max_n) return VB_OK;
    rows = VB_MAX(rows, e->max_rows), n = VB_MAX(n, e->max_n);
    free_acts(e);
    const size_t f = sizeof(float), R = (size_t)rows, d = (size_t)e->cfg.d_model, in = (size_t)e->inner;
    int          st = vb_cuda_alloc(c, (void **)&e->h, f * R * d);
    if (st == VB_OK) st = vb_cuda_alloc(c, (void **)&e->x, f * R * d);
    if (st == VB_OK) st = vb_cuda_alloc(c, (void **)&e->qkv, f * R * 3 * in);
    if (st == VB_OK) st = vb_cuda_alloc(c, (void **)&e->att, f * R * in);
    if (st == VB_OK) st = vb_cuda_alloc(c, (void **)&e->ff, f * R * 2 * (size_t)e->cfg.d_ff);
    if (st == VB_OK) st = vb_cuda_alloc(c, (void **)&e->bias, f * (size_t)e->cfg.heads * (size_t)(n * n));
    if (st == VB_OK) st = vb_cuda_alloc(c, (void **)&e->mask_add, f * R);
    if (st != VB_OK) {
        free_acts(e);
        return st;
    }
    e->max_rows = rows, e->max_n = n;
    return VB_OK;
}

int vb_cuda_t5_encode(struct vb_cuda_ctx * c, struct vb_cuda_t5enc * e, int32_t B, int64_t n, const float * embeds,
                      const uint8_t * mask, float * block_out, float * out) {
    int st = vb_cuda_ctx_check_(c, "vb_cuda_t5_encode");
    if (st != VB_OK) return st;
    if (!e || !embeds || !out || B < 1 || n < 1 || n > 16384)
        return vb_fail(VB_ERR_ARG, "t5 encoder (cuda): %d sequences of %lld tokens", B, (long long)n);
    const struct vb_t5_config * C = &e->cfg;
    const int64_t               d = C->d_model, inner = e->inner, f = C->d_ff, R = (int64_t)B * n;
    const int64_t               wdt = C->gated ? 2 * f : f;
    const size_t                fl = sizeof(float);
    st = grow(c, e, R, n);
    if (st != VB_OK) return vb_fail_prefix(st, "t5 encoder (cuda): activations for %lld rows", (long long)R);
    /* the key masks as additive rows (0 or -FLT_MAX, as t5.c's set_mask) */
    float * madd = vb_malloc(fl * (size_t)R);
    for (int64_t i = 0; i < R; i++)
        madd[i] = (!mask || mask[i]) ? 0.0f : -FLT_MAX;
    st = vb_cuda_upload(c, e->mask_add, madd, fl * (size_t)R);
    free(madd);
    if (st == VB_OK) st = vb_cuda_upload(c, e->h, embeds, fl * (size_t)(R * d));
    if (st == VB_OK) st = vb_cuda_t5_bias(c, e->rel, C->heads, C->n_buckets, C->max_distance, 1, n, 0, n, e->bias);
    for (int32_t l = 0; l < C->n_enc && st == VB_OK; l++) {
        const struct cuda_t5_block * b = &e->blk[l];
        st = vb_cuda_rmsnorm(c, e->h, R, d, b->ln_sa, C->eps, e->x);
        if (st == VB_OK) st = vb_cuda_linear(c, e->x, d, R, &b->qkv, NULL, e->qkv, 3 * inner, 0.0f);
        for (int32_t s = 0; s < B && st == VB_OK; s++) {
            const float * q = e->qkv + (int64_t)s * n * 3 * inner;
            st = vb_cuda_attention(c, q, 3 * inner, q + inner, 3 * inner, q + 2 * inner, 3 * inner, n, n, C->heads,
                                   C->d_kv, 1.0f, e->bias, e->mask_add + (int64_t)s * n, 0, 0,
                                   e->att + (int64_t)s * n * inner, inner);
        }
        if (st == VB_OK) st = vb_cuda_linear(c, e->att, inner, R, &b->o, NULL, e->h, d, 1.0f);
        /* h += FF(rmsnorm(h)) */
        if (st == VB_OK) st = vb_cuda_rmsnorm(c, e->h, R, d, b->ln_ff, C->eps, e->x);
        if (st == VB_OK) st = vb_cuda_linear(c, e->x, d, R, &b->ffi, NULL, e->ff, wdt, 0.0f);
        if (st == VB_OK)
            st = C->gated ? vb_cuda_gated_act(c, e->ff, R, f, (int32_t)C->act)
                          : vb_cuda_act(c, e->ff, R * f, (int32_t)C->act);
        if (st == VB_OK) st = vb_cuda_linear(c, e->ff, wdt, R, &b->ffo, NULL, e->h, d, 1.0f);
        if (st == VB_OK && block_out)
            st = vb_cuda_download(c, block_out + (int64_t)l * R * d, e->h, fl * (size_t)(R * d));
    }
    if (st == VB_OK) st = vb_cuda_rmsnorm(c, e->h, R, d, e->final_ln, C->eps, e->x);
    if (st == VB_OK) st = vb_cuda_download(c, out, e->x, fl * (size_t)(R * d));
    if (st == VB_OK) st = vb_cuda_sync(c);
    return st;
}
