/* t5.c — T5 encoder-decoder (see t5.h). */
#include "engine/t5.h"

#include "base/common.h"
#include "engine/attn_small.h"
#include "engine/cuda/cuda.h"
#include "engine/ops.h"
#include "engine/pool.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* ---------------------------------------------------------------- loading */

struct loader {
    const struct vb_weights * w;
    const char *              prefix;
    int32_t                   dt;    /* resident dtype of the matrices */
    int32_t                   check; /* 1: only check every tensor's shape, allocate nothing */
    int                       rc;
    float **                  owned; /* every buffer allocated, for cleanup */
    int32_t                   n_owned, cap_owned;
};

static void own(struct loader * L, float * p) {
    if (L->n_owned == L->cap_owned) {
        L->cap_owned = L->cap_owned ? 2 * L->cap_owned : 64;
        L->owned = vb_realloc(L->owned, sizeof(float *) * (size_t)L->cap_owned);
    }
    L->owned[L->n_owned++] = p;
}

/* Load "<prefix><name>" of shape (a) or (a, b) (b < 0: 1-D). NULL after the first error. */
static float * ld(struct loader * L, const char * name, int64_t a, int64_t b) {
    if (L->rc != VB_OK) return NULL;
    char full[512];
    snprintf(full, sizeof full, "%s%s", L->prefix, name);
    int64_t shape[2] = {a, b};
    float * p = NULL;
    if (L->check) {
        L->rc = vb_weights_check(L->w, full, b < 0 ? 1 : 2, shape);
        return NULL;
    }
    L->rc = vb_weights_load_f32(L->w, full, b < 0 ? 1 : 2, shape, &p);
    if (L->rc != VB_OK) return NULL;
    own(L, p);
    return p;
}

/* Allocate the matrix W (rows, cols) in the resident dtype (freed by vb_t5_free). */
static void alloc_mat(struct loader * L, struct vb_wmat * W, int64_t rows, int64_t cols) {
    if (L->rc != VB_OK || L->check) return;
    L->rc = vb_wmat_alloc(W, rows, cols, L->dt);
}

/* Load "<prefix><name>" (rows, cols) into rows [row0, row0 + rows) of W (allocated). */
static void ld_rows(struct loader * L, struct vb_wmat * W, int64_t row0, const char * name, int64_t rows,
                    int64_t cols) {
    if (L->rc != VB_OK) return;
    char full[512];
    snprintf(full, sizeof full, "%s%s", L->prefix, name);
    int64_t shape[2] = {rows, cols};
    L->rc = L->check ? vb_weights_check(L->w, full, 2, shape) : vb_wmat_load_rows(W, row0, L->w, full, 2, shape);
}

/* Load "<prefix><name>" (rows, cols) as a matrix of its own. */
static void ld_mat(struct loader * L, struct vb_wmat * W, const char * name, int64_t rows, int64_t cols) {
    if (L->rc != VB_OK) return;
    char full[512];
    snprintf(full, sizeof full, "%s%s", L->prefix, name);
    int64_t shape[2] = {rows, cols};
    L->rc = L->check ? vb_weights_check(L->w, full, 2, shape) : vb_wmat_load(W, L->dt, L->w, full, 2, shape);
}

static int has(const struct loader * L, const char * name) {
    char full[512];
    snprintf(full, sizeof full, "%s%s", L->prefix, name);
    return vb_weights_find(L->w, full) != NULL;
}

/* vb_t5_model keeps the list of owned buffers right after it (hidden from the header). */
struct t5_model_full {
    struct vb_t5_model m;
    float **           owned;
    int32_t            n_owned;
};

static void load_ff(struct loader * L, const struct vb_t5_config * C, const char * base, struct vb_t5_block * b) {
    char    n[256];
    int64_t d = C->d_model, f = C->d_ff;
    if (C->gated) {
        alloc_mat(L, &b->ffi, 2 * f, d);
        snprintf(n, sizeof n, "%s.DenseReluDense.wi_0.weight", base);
        ld_rows(L, &b->ffi, 0, n, f, d);
        snprintf(n, sizeof n, "%s.DenseReluDense.wi_1.weight", base);
        ld_rows(L, &b->ffi, f, n, f, d);
    } else {
        snprintf(n, sizeof n, "%s.DenseReluDense.wi.weight", base);
        ld_mat(L, &b->ffi, n, f, d);
    }
    snprintf(n, sizeof n, "%s.DenseReluDense.wo.weight", base);
    ld_mat(L, &b->ffo, n, d, f);
    snprintf(n, sizeof n, "%s.layer_norm.weight", base);
    b->ln_ff = ld(L, n, d, -1);
}

static void load_self_attn(struct loader * L, const struct vb_t5_config * C, int32_t inner, const char * base,
                           struct vb_t5_block * b) {
    char    n[256];
    int64_t d = C->d_model;
    alloc_mat(L, &b->qkv, 3 * (int64_t)inner, d);
    const char * qkv[3] = {"q", "k", "v"};
    for (int i = 0; i < 3; i++) {
        snprintf(n, sizeof n, "%s.SelfAttention.%s.weight", base, qkv[i]);
        ld_rows(L, &b->qkv, (int64_t)i * inner, n, inner, d);
    }
    snprintf(n, sizeof n, "%s.SelfAttention.o.weight", base);
    ld_mat(L, &b->o, n, d, inner);
    snprintf(n, sizeof n, "%s.layer_norm.weight", base);
    b->ln_sa = ld(L, n, d, -1);
}

/* Every tensor of the model, in file order: with L->check only their shapes are checked (nothing allocated; m->enc /
** m->dec must exist), else they are loaded into m. */
static void t5_walk(struct loader * L, struct vb_t5_model * m) {
    const struct vb_t5_config * C = &m->cfg;
    int64_t                     d = C->d_model, inner = m->inner;
    char                        n[256];
    ld_mat(L, &m->emb, has(L, "shared.weight") ? "shared.weight" : "encoder.embed_tokens.weight", C->vocab, d);
    if (C->tie) {
        if (L->rc == VB_OK && !L->check) m->head = vb_wmat_rows(&m->emb, 0, C->vocab); /* a view */
    } else
        ld_mat(L, &m->head, "lm_head.weight", C->vocab, d);
    m->enc_rel = ld(L, "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", C->n_buckets, C->heads);
    m->dec_rel = ld(L, "decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", C->n_buckets, C->heads);
    m->enc_final_ln = ld(L, "encoder.final_layer_norm.weight", d, -1);
    m->dec_final_ln = ld(L, "decoder.final_layer_norm.weight", d, -1);
    for (int32_t l = 0; l < C->n_enc && L->rc == VB_OK; l++) {
        char base[128];
        snprintf(base, sizeof base, "encoder.block.%d.layer.0", l);
        load_self_attn(L, C, m->inner, base, &m->enc[l]);
        snprintf(base, sizeof base, "encoder.block.%d.layer.1", l);
        load_ff(L, C, base, &m->enc[l]);
    }
    alloc_mat(L, &m->cross_kv, (int64_t)C->n_dec * 2 * inner, d);
    for (int32_t l = 0; l < C->n_dec && L->rc == VB_OK; l++) {
        struct vb_t5_block * b = &m->dec[l];
        char                 base[128];
        snprintf(base, sizeof base, "decoder.block.%d.layer.0", l);
        load_self_attn(L, C, m->inner, base, b);
        snprintf(n, sizeof n, "decoder.block.%d.layer.1.EncDecAttention.q.weight", l);
        ld_mat(L, &b->cq, n, inner, d);
        snprintf(n, sizeof n, "decoder.block.%d.layer.1.EncDecAttention.k.weight", l);
        ld_rows(L, &m->cross_kv, (int64_t)l * 2 * inner, n, inner, d);
        snprintf(n, sizeof n, "decoder.block.%d.layer.1.EncDecAttention.v.weight", l);
        ld_rows(L, &m->cross_kv, (int64_t)l * 2 * inner + inner, n, inner, d);
        snprintf(n, sizeof n, "decoder.block.%d.layer.1.EncDecAttention.o.weight", l);
        ld_mat(L, &b->co, n, d, inner);
        snprintf(n, sizeof n, "decoder.block.%d.layer.1.layer_norm.weight", l);
        b->ln_ca = ld(L, n, d, -1);
        snprintf(base, sizeof base, "decoder.block.%d.layer.2", l);
        load_ff(L, C, base, b);
    }
}

int vb_t5_load(struct vb_t5_model ** out, const struct vb_weights * w, const char * prefix,
               const struct vb_t5_config * cfg) {
    *out = NULL;
    const struct vb_t5_config * C = cfg;
    if (C->d_model <= 0 || C->d_kv <= 0 || C->heads <= 0 || C->d_ff <= 0 || C->vocab <= 0 || C->n_enc <= 0 ||
        C->n_dec <= 0 || C->n_buckets <= 1 || C->max_distance <= 0 || (int64_t)C->heads * C->d_kv > INT32_MAX / 4)
        return vb_fail(VB_ERR_ARG,
                       "t5: unusable config (d_model %d, d_kv %d, heads %d, d_ff %d, vocab %d, layers %d/%d)",
                       C->d_model, C->d_kv, C->heads, C->d_ff, C->vocab, C->n_enc, C->n_dec);
    struct loader          L = {w, prefix ? prefix : "", C->weight_dtype, 1, VB_OK, NULL, 0, 0};
    struct t5_model_full * F = vb_calloc(1, sizeof *F);
    struct vb_t5_model *   m = &F->m;
    m->cfg = *C;
    m->inner = (int32_t)((int64_t)C->heads * C->d_kv);
    m->enc = vb_calloc((size_t)C->n_enc, sizeof *m->enc);
    m->dec = vb_calloc((size_t)C->n_dec, sizeof *m->dec);
    t5_walk(&L, m); /* every shape the config implies, before any weight is allocated */
    if (L.rc == VB_OK) {
        L.check = 0;
        t5_walk(&L, m);
    }
    F->owned = L.owned;
    F->n_owned = L.n_owned;
    if (L.rc != VB_OK) {
        vb_t5_free(m);
        return vb_fail_prefix(L.rc, "t5 weights");
    }
    if (cfg->device == VB_DEVICE_CUDA && (L.rc = vb_cuda_t5_attach(m)) != VB_OK) { /* CUDA: upload */
        vb_t5_free(m);
        return L.rc;
    }
    *out = m;
    return VB_OK;
}

void vb_t5_free(struct vb_t5_model * m) {
    if (!m) return;
    vb_cuda_t5_detach(m);
    struct t5_model_full * F = (struct t5_model_full *)m;
    for (int32_t i = 0; i < F->n_owned; i++)
        free(F->owned[i]);
    free(F->owned);
    for (int32_t part = 0; part < 2; part++) {
        struct vb_t5_block * blk = part ? m->dec : m->enc;
        int32_t              nb = part ? m->cfg.n_dec : m->cfg.n_enc;
        for (int32_t l = 0; blk && l < nb; l++) {
            struct vb_wmat * ws[] = {&blk[l].qkv, &blk[l].o, &blk[l].cq, &blk[l].co, &blk[l].ffi, &blk[l].ffo};
            for (size_t i = 0; i < sizeof ws / sizeof ws[0]; i++)
                vb_wmat_free(ws[i]);
        }
    }
    vb_wmat_free(&m->head); /* a view when tied: only emptied */
    vb_wmat_free(&m->emb);
    vb_wmat_free(&m->cross_kv);
    free(m->enc);
    free(m->dec);
    free(F);
}

/* ---------------------------------------------------------------- pieces */

/* y (n, out) [ldy] = x (n, in) [ldx] W^T (+ beta * y): the packed GEMM / GEMV of engine/wmat. */
static void lin(const float * x, int64_t ldx, int64_t n, const struct vb_wmat * W, float * y, int64_t ldy, float beta) {
    vb_wmat_linear_ex(x, ldx, n, W, NULL, y, ldy, beta);
}

int64_t vb_t5_resident_bytes(const struct vb_t5_model * m) {
    const struct vb_t5_config * C = &m->cfg;
    int64_t                     n = (int64_t)(vb_wmat_bytes(&m->emb) + vb_wmat_bytes(&m->cross_kv));
    if (!C->tie) n += (int64_t)vb_wmat_bytes(&m->head);
    for (int32_t part = 0; part < 2; part++) {
        const struct vb_t5_block * blk = part ? m->dec : m->enc;
        for (int32_t l = 0; l < (part ? C->n_dec : C->n_enc); l++) {
            const struct vb_wmat * ws[] = {&blk[l].qkv, &blk[l].o, &blk[l].cq, &blk[l].co, &blk[l].ffi, &blk[l].ffo};
            for (size_t i = 0; i < sizeof ws / sizeof ws[0]; i++)
                n += (int64_t)vb_wmat_bytes(ws[i]);
            n += (int64_t)sizeof(float) * C->d_model * (part ? 3 : 2); /* the RMS norms */
        }
    }
    n += (int64_t)sizeof(float) * (2 * (int64_t)C->n_buckets * C->heads + 2 * C->d_model);
    return n;
}

int32_t vb_t5_bucket(int64_t rel, int bidirectional, int32_t n_buckets, int32_t max_distance) {
    int32_t nb = n_buckets;
    int32_t ret = 0;
    int64_t r = rel;
    if (bidirectional) {
        nb /= 2;
        if (r > 0) ret += nb;
        r = r < 0 ? -r : r;
    } else {
        r = r < 0 ? -r : 0;
    }
    int32_t max_exact = nb / 2;
    if (r < max_exact) return ret + (int32_t)r;
    /* float32 as torch: log(rp.float() / max_exact) / math.log(max_distance / max_exact) * (nb - max_exact) */
    float v = logf((float)r / (float)max_exact);
    v = v / (float)log((double)max_distance / (double)max_exact);
    v = v * (float)(nb - max_exact);
    int64_t large = max_exact + (int64_t)v;
    if (large > nb - 1) large = nb - 1;
    return ret + (int32_t)large;
}

int vb_t5_embed(const struct vb_t5_model * m, const int32_t * ids, int64_t n, float * out) {
    int64_t d = m->cfg.d_model;
    for (int64_t i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= m->cfg.vocab)
            return vb_fail(VB_ERR_ARG, "t5 embed: token id %d at position %lld outside the vocabulary (%d)", ids[i],
                           (long long)i, m->cfg.vocab);
        vb_wmat_row(&m->emb, ids[i], out + i * d);
    }
    return VB_OK;
}

int vb_t5_ctx_new(struct vb_t5_ctx ** out, const struct vb_t5_model * m, int64_t max_enc, int64_t max_dec) {
    *out = NULL;
    if (max_enc < 1 || max_dec < 1 || max_enc > (1 << 20) || max_dec > (1 << 20))
        return vb_fail(VB_ERR_ARG, "t5 context: bad sizes max_enc %lld max_dec %lld", (long long)max_enc,
                       (long long)max_dec);
    const struct vb_t5_config * C = &m->cfg;
    struct vb_t5_ctx *          c = vb_calloc(1, sizeof *c);
    c->m = m;
    c->max_enc = max_enc;
    c->max_dec = max_dec;
    int64_t T = c->max_tok = VB_MAX(max_enc, max_dec);
    int64_t d = C->d_model, inner = m->inner;
    size_t  f = sizeof(float);
    c->h = vb_malloc(f * (size_t)(T * d));
    c->x = vb_malloc(f * (size_t)(T * d));
    c->qkv = vb_malloc(f * (size_t)(T * 3 * inner));
    c->att = vb_malloc(f * (size_t)(T * inner));
    c->ff = vb_malloc(f * (size_t)(T * 2 * C->d_ff));
    c->bias = vb_malloc(f * (size_t)(C->heads * T * T));
    c->scratch = vb_malloc(f * (size_t)(T * T));
    c->mask_add = vb_malloc(f * (size_t)max_enc);
    c->enc_out = vb_malloc(f * (size_t)(max_enc * d));
    c->cross_kv = vb_malloc(f * (size_t)(max_enc * C->n_dec * 2 * inner));
    c->self_k = vb_malloc(f * (size_t)(C->n_dec * max_dec * inner));
    c->self_v = vb_malloc(f * (size_t)(C->n_dec * max_dec * inner));
    int rc = m->dev ? vb_cuda_t5_ctx_attach(c) : VB_OK; /* CUDA: the device state */
    if (rc != VB_OK) {
        vb_t5_ctx_free(c);
        return rc;
    }
    *out = c;
    return VB_OK;
}

void vb_t5_ctx_free(struct vb_t5_ctx * c) {
    if (!c) return;
    vb_cuda_t5_ctx_detach(c);
    free(c->h);
    free(c->x);
    free(c->qkv);
    free(c->att);
    free(c->ff);
    free(c->bias);
    free(c->scratch);
    free(c->mask_add);
    free(c->enc_out);
    free(c->cross_kv);
    free(c->self_k);
    free(c->self_v);
    free(c);
}

/* bias (heads, nq, nk) for queries at positions q0.. and keys 0..nk-1 from table (n_buckets, heads). */
static void fill_bias(const struct vb_t5_model * m, const float * table, int bidirectional, int64_t nq, int64_t q0,
                      int64_t nk, float * bias) {
    const struct vb_t5_config * C = &m->cfg;
    int32_t                     H = C->heads;
    /* the bucket depends on j - (q0 + i) only: one per relative position rel = j - q0 - i in [r0, nk - 1 - q0]
    ** (the same values as one call per element; measured 1.3 % of a T5-XL encoder run per element, with the
    ** writes nq * nk floats apart) */
    const int64_t r0 = -(q0 + nq - 1), nr = nk - 1 - q0 - r0 + 1;
    int32_t *     bk = vb_malloc(sizeof(int32_t) * (size_t)nr);
    for (int64_t r = 0; r < nr; r++)
        bk[r] = vb_t5_bucket(r0 + r, bidirectional, C->n_buckets, C->max_distance);
    for (int32_t h = 0; h < H; h++)
        for (int64_t i = 0; i < nq; i++) {
            float *         dst = bias + ((int64_t)h * nq + i) * nk;
            const int32_t * b = bk + (-q0 - i - r0); /* b[j]: the bucket of rel = j - q0 - i */
            for (int64_t j = 0; j < nk; j++)
                dst[j] = table[(int64_t)b[j] * H + h];
        }
    free(bk);
}

static void ff_rows(const struct vb_t5_model * m, const struct vb_t5_block * blk, float * h, float * x, float * ff,
                    int64_t n);

/* h += FF(rmsnorm(h)) over the context's n rows */
static void ff_layer(struct vb_t5_ctx * c, const struct vb_t5_block * b, int64_t n) {
    ff_rows(c->m, b, c->h, c->x, c->ff, n);
}

/* ---------------------------------------------------------------- encoder */

static int set_mask(struct vb_t5_ctx * c, const uint8_t * mask, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        c->mask_add[i] = (!mask || mask[i]) ? 0.0f : -FLT_MAX;
    return VB_OK;
}

static void cross_kv(struct vb_t5_ctx * c) {
    const struct vb_t5_model * m = c->m;
    int64_t                    cols = (int64_t)m->cfg.n_dec * 2 * m->inner;
    lin(c->enc_out, m->cfg.d_model, c->n_enc, &m->cross_kv, c->cross_kv, cols, 0.0f);
    c->n_past = 0;
}

/* The encoder's self-attention of n_seq sequences of n tokens each, consecutive in qkv (n_seq * n, 3 * inner) = q | k
** | v rows: out (n_seq * n, inner) rows; bias (heads, n, n) shared by all, mask_add (n_seq, n).  One
** vb_attention_batch: every (sequence, head) pair in one pool dispatch, each pair vb_attention's operations in its
** order (engine/attn_small.h). */
static void enc_attention(const struct vb_t5_model * m, const float * qkv, int64_t n_seq, int64_t n, const float * bias,
                          const float * mask_add, float * out) {
    struct vb_attn_batch a = vb_attn_batch_self(n_seq, n, m->cfg.heads, m->cfg.d_kv, 1.0f, qkv, out);
    a.mask = mask_add, a.smask = n, a.bias = bias, a.sbias = 0;
    vb_attention_batch(&a);
}

int vb_t5_encode(struct vb_t5_ctx * c, const float * embeds, const uint8_t * mask, int64_t n, float * block_out) {
    if (c->dev) return vb_cuda_t5_encode_ctx(c, embeds, mask, n, block_out); /* CUDA */
    const struct vb_t5_model *  m = c->m;
    const struct vb_t5_config * C = &m->cfg;
    if (n < 1 || n > c->max_enc)
        return vb_fail(VB_ERR_ARG, "t5 encoder: %lld tokens, context holds 1..%lld", (long long)n,
                       (long long)c->max_enc);
    int64_t d = C->d_model, inner = m->inner;
    set_mask(c, mask, n);
    memcpy(c->h, embeds, sizeof(float) * (size_t)(n * d));
    fill_bias(m, m->enc_rel, 1, n, 0, n, c->bias);
    for (int32_t l = 0; l < C->n_enc; l++) {
        const struct vb_t5_block * b = &m->enc[l];
        vb_rmsnorm(c->h, n, d, b->ln_sa, C->eps, c->x);
        lin(c->x, d, n, &b->qkv, c->qkv, 3 * inner, 0.0f);
        enc_attention(m, c->qkv, 1, n, c->bias, c->mask_add, c->att);
        lin(c->att, inner, n, &b->o, c->h, d, 1.0f);
        ff_layer(c, b, n);
        if (block_out) memcpy(block_out + (int64_t)l * n * d, c->h, sizeof(float) * (size_t)(n * d));
    }
    vb_rmsnorm(c->h, n, d, m->enc_final_ln, C->eps, c->enc_out);
    c->n_enc = n;
    cross_kv(c);
    return VB_OK;
}

int vb_t5_set_encoder_output(struct vb_t5_ctx * c, const float * enc, const uint8_t * mask, int64_t n) {
    if (c->dev) return vb_cuda_t5_set_encoder_ctx(c, enc, mask, n); /* CUDA */
    if (n < 1 || n > c->max_enc)
        return vb_fail(VB_ERR_ARG, "t5 encoder output: %lld tokens, context holds 1..%lld", (long long)n,
                       (long long)c->max_enc);
    set_mask(c, mask, n);
    memcpy(c->enc_out, enc, sizeof(float) * (size_t)(n * c->m->cfg.d_model));
    c->n_enc = n;
    cross_kv(c);
    return VB_OK;
}

void vb_t5_reset_decoder(struct vb_t5_ctx * c) {
    c->n_past = 0;
}

/* ---------------------------------------------------------------- decoder */

/* Decoder profile (vb_t5_profile_*): wall time, calls and weight bytes per op class, summed over the vb_t5_decode
** calls while on.  Plain globals: meant for one decoding thread (bench-engine --profile). */
static const char * const PR_NAME[VB_T5_PROF_N] = {"embed + position bias",
                                                   "rms norms",
                                                   "self q|k|v gemv",
                                                   "self attention (cache)",
                                                   "self o gemv",
                                                   "cross q gemv",
                                                   "cross attention (encoder K/V)",
                                                   "cross o gemv",
                                                   "ffn wi gemv",
                                                   "ffn activation",
                                                   "ffn wo gemv",
                                                   "final norm + lm_head gemv"};
static struct {
    int     on;
    double  sec[VB_T5_PROF_N], bytes[VB_T5_PROF_N];
    int64_t calls[VB_T5_PROF_N];
} g_prof;

void vb_t5_profile_start(void) {
    memset(&g_prof, 0, sizeof g_prof);
    g_prof.on = 1;
}

void vb_t5_profile_stop(struct vb_t5_profile * out) {
    g_prof.on = 0;
    for (int i = 0; i < VB_T5_PROF_N; i++) {
        out->name[i] = PR_NAME[i];
        out->sec[i] = g_prof.sec[i];
        out->bytes[i] = g_prof.bytes[i];
        out->calls[i] = g_prof.calls[i];
    }
}

/* the clock when profiling, else 0 */
static inline double prof_clock(void) {
    if (!g_prof.on) return 0.0;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* charge the time since *t to class cls (with the weight bytes of W, nullable) and restart *t */
static inline void prof_add(double * t, int cls, const struct vb_wmat * W) {
    if (!g_prof.on || !t) return;
    double now = prof_clock();
    g_prof.sec[cls] += now - *t;
    g_prof.calls[cls]++;
    if (W) g_prof.bytes[cls] += (double)W->rows * (double)W->cols * (W->dt == VB_DT_F32 ? 4.0 : 2.0);
    *t = now;
}

/* Cross-attention of decoder rows over the encoder K/V with the heads split over the engine's threads: groups of
** heads taken from a shared counter (vb_pool_run_dynamic: a thread the machine delays does fewer groups instead of
** holding up the step), each group one vb_attention call on its range of heads (every head the same calls as in one
** vb_attention over all heads: the same bits).  vb_attention keeps products under ~1 M multiply-adds on one
** thread; a decoder step's 32 heads over 160 encoder tokens are 0.3 M but read 2.6 MB of K/V per block (measured
** 5.5 % of a T5-XL step on one thread). */
struct xattn_job {
    const float *q, *k, *v, *mask_add;
    int64_t      ldq, ldk, nq, nk, ldo;
    int32_t      heads, dh, group; /* heads per group */
    float *      out, *scratch;
    atomic_int   next; /* the next group */
};

static void xattn_part(void * ctx, int ith, int nth) {
    (void)nth;
    struct xattn_job * J = ctx;
    float * S = ith == 0 ? J->scratch : vb_pool_scratch(VB_SCRATCH_ATTN, sizeof(float) * (size_t)(J->nq * J->nk));
    for (int32_t g; (g = atomic_fetch_add(&J->next, 1)) * J->group < J->heads;) {
        const int32_t h0 = g * J->group, h1 = h0 + J->group < J->heads ? h0 + J->group : J->heads;
        const int64_t o = (int64_t)h0 * J->dh;
        vb_attention(J->q + o, J->ldq, J->k + o, J->ldk, J->v + o, J->ldk, J->nq, J->nk, h1 - h0, J->dh, 1.0f, NULL,
                     J->mask_add, 0, 0, J->out + o, J->ldo, S);
    }
}

/* vb_attention(q, ldq, k, ldk, v, ldk, nq, nk, heads, dh, 1, NULL, mask_add, 0, 0, out, ldo, scratch), split by heads
** when there is more than ~64 K multiply-adds of it (below: one call) */
static void cross_attention(const float * q, int64_t ldq, const float * k, const float * v, int64_t ldk, int64_t nq,
                            int64_t nk, int32_t heads, int32_t dh, const float * mask_add, float * out, int64_t ldo,
                            float * scratch) {
    int              split = (int64_t)heads * nq * nk * dh >= (1 << 16);
    struct xattn_job J = {q,   k,       v, mask_add, ldq, ldk, nq, nk, ldo, heads, dh, split ? (heads + 7) / 8 : heads,
                          out, scratch, 0};
    atomic_init(&J.next, 0);
    vb_pool_run_dynamic(split ? 0 : 1, xattn_part, &J);
}

/* the feed-forward sub-layer of a decoder step: h += FF(rmsnorm(h)) over n rows, profiled per part (the operations
** of ff_rows); t NULL: not profiled */
static void ff_rows_prof(const struct vb_t5_model * m, const struct vb_t5_block * blk, float * h, float * x, float * ff,
                         int64_t n, double * t);

int vb_t5_decode(struct vb_t5_ctx * c, const int32_t * ids, int64_t n, float * logits, float * last_hidden,
                 float * block_out) {
    if (c->dev) return vb_cuda_t5_decode_ctx(c, ids, n, logits, last_hidden, block_out); /* CUDA */
    const struct vb_t5_model *  m = c->m;
    const struct vb_t5_config * C = &m->cfg;
    if (c->n_enc < 1) return vb_fail(VB_ERR_ARG, "t5 decoder: no encoder output");
    if (n < 1 || c->n_past + n > c->max_dec)
        return vb_fail(VB_ERR_ARG, "t5 decoder: %lld positions after %lld exceed the context's %lld", (long long)n,
                       (long long)c->n_past, (long long)c->max_dec);
    double t = prof_clock();
    int    rc = vb_t5_embed(m, ids, n, c->h);
    if (rc != VB_OK) return rc;
    int64_t d = C->d_model, inner = m->inner, t0 = c->n_past, nk = t0 + n;
    int64_t ldkv = (int64_t)C->n_dec * 2 * inner;
    fill_bias(m, m->dec_rel, 0, n, t0, nk, c->bias);
    prof_add(&t, VB_T5_PROF_EMBED, NULL);
    for (int32_t l = 0; l < C->n_dec; l++) {
        const struct vb_t5_block * b = &m->dec[l];
        float *                    K = c->self_k + (int64_t)l * c->max_dec * inner;
        float *                    V = c->self_v + (int64_t)l * c->max_dec * inner;
        /* self-attention: one GEMV over the fused q|k|v (each output the chain of its own weight row, as three
        ** separate products would compute it), then k / v rows copied into the cache rows t0.. */
        vb_rmsnorm(c->h, n, d, b->ln_sa, C->eps, c->x);
        prof_add(&t, VB_T5_PROF_NORM, NULL);
        lin(c->x, d, n, &b->qkv, c->qkv, 3 * inner, 0.0f);
        prof_add(&t, VB_T5_PROF_SELF_QKV, &b->qkv);
        for (int64_t i = 0; i < n; i++) {
            memcpy(K + (t0 + i) * inner, c->qkv + i * 3 * inner + inner, sizeof(float) * (size_t)inner);
            memcpy(V + (t0 + i) * inner, c->qkv + i * 3 * inner + 2 * inner, sizeof(float) * (size_t)inner);
        }
        vb_attention(c->qkv, 3 * inner, K, inner, V, inner, n, nk, C->heads, C->d_kv, 1.0f, c->bias, NULL, 1, t0,
                     c->att, inner, c->scratch);
        prof_add(&t, VB_T5_PROF_SELF_ATTN, NULL);
        lin(c->att, inner, n, &b->o, c->h, d, 1.0f);
        prof_add(&t, VB_T5_PROF_SELF_O, &b->o);
        /* cross-attention over the encoder output */
        vb_rmsnorm(c->h, n, d, b->ln_ca, C->eps, c->x);
        prof_add(&t, VB_T5_PROF_NORM, NULL);
        lin(c->x, d, n, &b->cq, c->qkv, inner, 0.0f);
        prof_add(&t, VB_T5_PROF_CROSS_Q, &b->cq);
        const float * CK = c->cross_kv + (int64_t)l * 2 * inner;
        cross_attention(c->qkv, inner, CK, CK + inner, ldkv, n, c->n_enc, C->heads, C->d_kv, c->mask_add, c->att, inner,
                        c->scratch);
        prof_add(&t, VB_T5_PROF_CROSS_ATTN, NULL);
        lin(c->att, inner, n, &b->co, c->h, d, 1.0f);
        prof_add(&t, VB_T5_PROF_CROSS_O, &b->co);
        ff_rows_prof(m, b, c->h, c->x, c->ff, n, &t);
        if (block_out) memcpy(block_out + (int64_t)l * n * d, c->h, sizeof(float) * (size_t)(n * d));
    }
    vb_rmsnorm(c->h, n, d, m->dec_final_ln, C->eps, c->x);
    if (last_hidden) memcpy(last_hidden, c->x, sizeof(float) * (size_t)(n * d));
    if (C->tie) {
        float s = (float)(1.0 / sqrt((double)d)); /* HF: sequence_output * model_dim ** -0.5 */
        for (int64_t i = 0; i < n * d; i++)
            c->x[i] *= s;
    }
    if (logits) {
        lin(c->x, d, n, &m->head, logits, C->vocab, 0.0f);
    }
    prof_add(&t, VB_T5_PROF_HEAD, logits ? &m->head : NULL);
    c->n_past += n;
    return VB_OK;
}

/* ---------------------------------------------------------------- batched form */

int vb_t5_batch_new(struct vb_t5_batch ** out, const struct vb_t5_model * m, int64_t max_rows, int64_t max_logit_rows) {
    *out = NULL;
    if (max_rows < 1 || max_rows > (1 << 24) || max_logit_rows < 0 || max_logit_rows > (1 << 20))
        return vb_fail(VB_ERR_ARG, "t5 batch: bad sizes max_rows %lld max_logit_rows %lld", (long long)max_rows,
                       (long long)max_logit_rows);
    struct vb_t5_batch * b = vb_calloc(1, sizeof *b);
    int64_t              R = max_rows, d = m->cfg.d_model, inner = m->inner;
    size_t               f = sizeof(float);
    b->m = m;
    b->max_rows = R;
    b->h = vb_malloc(f * (size_t)(R * d));
    b->x = vb_malloc(f * (size_t)(R * d));
    b->qkv = vb_malloc(f * (size_t)(R * 3 * inner));
    b->att = vb_malloc(f * (size_t)(R * inner));
    b->ff = vb_malloc(f * (size_t)(R * 2 * m->cfg.d_ff));
    b->mask_add = vb_malloc(f * (size_t)R);
    b->max_logit_rows = max_logit_rows;
    if (max_logit_rows) b->logits = vb_malloc(f * (size_t)(max_logit_rows * m->cfg.vocab));
    *out = b;
    return VB_OK;
}

void vb_t5_batch_free(struct vb_t5_batch * b) {
    if (!b) return;
    free(b->h);
    free(b->x);
    free(b->qkv);
    free(b->att);
    free(b->ff);
    free(b->mask_add);
    free(b->logits);
    free(b);
}

/* h += FF(rmsnorm(h)) over n rows of the batch workspace */
static void ff_rows(const struct vb_t5_model * m, const struct vb_t5_block * blk, float * h, float * x, float * ff,
                    int64_t n) {
    ff_rows_prof(m, blk, h, x, ff, n, NULL);
}

static void ff_rows_prof(const struct vb_t5_model * m, const struct vb_t5_block * blk, float * h, float * x, float * ff,
                         int64_t n, double * t) {
    const struct vb_t5_config * C = &m->cfg;
    int64_t                     d = C->d_model, f = C->d_ff, wdt = C->gated ? 2 * f : f;
    vb_rmsnorm(h, n, d, blk->ln_ff, C->eps, x);
    prof_add(t, VB_T5_PROF_NORM, NULL);
    lin(x, d, n, &blk->ffi, ff, wdt, 0.0f);
    prof_add(t, VB_T5_PROF_FF_IN, &blk->ffi);
    for (int64_t i = 0; i < n; i++) {
        float * r = ff + i * wdt;
        switch (C->act) {
        case VB_ACT_GELU_ERF:
            vb_gelu_erf(r, f);
            break;
        case VB_ACT_GELU_TANH:
            vb_gelu_tanh(r, f);
            break;
        default:
            vb_relu(r, f);
            break;
        }
        if (C->gated) vb_mul(r, r, r + f, f);
    }
    prof_add(t, VB_T5_PROF_FF_ACT, NULL);
    lin(ff, wdt, n, &blk->ffo, h, d, 1.0f);
    prof_add(t, VB_T5_PROF_FF_OUT, &blk->ffo);
}

int vb_t5_encode_batch(struct vb_t5_batch * b, struct vb_t5_ctx ** ctx, int32_t n_seq, const float * const * embeds,
                       const uint8_t * const * masks, const int64_t * n) {
    if (b->m->dev) return vb_cuda_t5_encode_batch_ctx(b, ctx, n_seq, embeds, masks, n); /* CUDA */
    const struct vb_t5_model *  m = b->m;
    const struct vb_t5_config * C = &m->cfg;
    int64_t                     d = C->d_model, inner = m->inner, total = 0;
    for (int32_t s = 0; s < n_seq; s++) {
        if (ctx[s]->m != m) return vb_fail(VB_ERR_ARG, "t5 encoder batch: sequence %d uses another model", s);
        if (n[s] < 1 || n[s] > ctx[s]->max_enc)
            return vb_fail(VB_ERR_ARG, "t5 encoder batch: sequence %d has %lld tokens, its context holds 1..%lld", s,
                           (long long)n[s], (long long)ctx[s]->max_enc);
        total += n[s];
    }
    if (n_seq < 1 || total > b->max_rows)
        return vb_fail(VB_ERR_ARG, "t5 encoder batch: %lld tokens in %d sequences, workspace holds %lld",
                       (long long)total, n_seq, (long long)b->max_rows);
    /* per sequence its key mask (in its context, for the decoder, and at its rows' offset in b->mask_add, so a run
    ** of sequences of one length has its masks n apart); the position bias once per run of equal lengths, in the
    ** context of the run's first sequence */
    for (int64_t s = 0, o = 0; s < n_seq; o += n[s], s++) {
        set_mask(ctx[s], masks ? masks[s] : NULL, n[s]);
        memcpy(b->mask_add + o, ctx[s]->mask_add, sizeof(float) * (size_t)n[s]);
        memcpy(b->h + o * d, embeds[s], sizeof(float) * (size_t)(n[s] * d));
        if (s == 0 || n[s] != n[s - 1]) fill_bias(m, m->enc_rel, 1, n[s], 0, n[s], ctx[s]->bias);
    }
    for (int32_t l = 0; l < C->n_enc; l++) {
        const struct vb_t5_block * blk = &m->enc[l];
        vb_rmsnorm(b->h, total, d, blk->ln_sa, C->eps, b->x);
        lin(b->x, d, total, &blk->qkv, b->qkv, 3 * inner, 0.0f);
        for (int64_t s = 0, o = 0; s < n_seq;) { /* one call per run of equal lengths */
            int64_t r = s + 1;
            while (r < n_seq && n[r] == n[s])
                r++;
            enc_attention(m, b->qkv + o * 3 * inner, r - s, n[s], ctx[s]->bias, b->mask_add + o, b->att + o * inner);
            o += (r - s) * n[s], s = r;
        }
        lin(b->att, inner, total, &blk->o, b->h, d, 1.0f);
        ff_rows(m, blk, b->h, b->x, b->ff, total);
    }
    for (int64_t s = 0, o = 0; s < n_seq; o += n[s], s++) {
        vb_rmsnorm(b->h + o * d, n[s], d, m->enc_final_ln, C->eps, ctx[s]->enc_out);
        ctx[s]->n_enc = n[s];
        cross_kv(ctx[s]);
    }
    return VB_OK;
}

int vb_t5_decode_batch(struct vb_t5_batch * b, struct vb_t5_ctx ** ctx, int32_t n_seq, const int32_t * ids,
                       float * logits) {
    if (b->m->dev) return vb_cuda_t5_decode_batch_ctx(b, ctx, n_seq, ids, logits, NULL); /* CUDA */
    const struct vb_t5_model *  m = b->m;
    const struct vb_t5_config * C = &m->cfg;
    if (n_seq < 1 || n_seq > b->max_rows)
        return vb_fail(VB_ERR_ARG, "t5 decoder batch: %d sequences, workspace holds %lld", n_seq,
                       (long long)b->max_rows);
    for (int32_t s = 0; s < n_seq; s++) {
        if (ctx[s]->m != m) return vb_fail(VB_ERR_ARG, "t5 decoder batch: sequence %d uses another model", s);
        if (ctx[s]->n_enc < 1) return vb_fail(VB_ERR_ARG, "t5 decoder batch: sequence %d has no encoder output", s);
        if (ctx[s]->n_past + 1 > ctx[s]->max_dec)
            return vb_fail(VB_ERR_ARG, "t5 decoder batch: sequence %d: cache full (%lld positions)", s,
                           (long long)ctx[s]->max_dec);
    }
    int rc = vb_t5_embed(m, ids, n_seq, b->h);
    if (rc != VB_OK) return rc;
    int64_t d = C->d_model, inner = m->inner, R = n_seq, ldkv = (int64_t)C->n_dec * 2 * inner;
    for (int32_t s = 0; s < n_seq; s++)
        fill_bias(m, m->dec_rel, 0, 1, ctx[s]->n_past, ctx[s]->n_past + 1, ctx[s]->bias);
    for (int32_t l = 0; l < C->n_dec; l++) {
        const struct vb_t5_block * blk = &m->dec[l];
        vb_rmsnorm(b->h, R, d, blk->ln_sa, C->eps, b->x);
        lin(b->x, d, R, &blk->qkv, b->qkv, 3 * inner, 0.0f);
        for (int32_t s = 0; s < n_seq; s++) {
            struct vb_t5_ctx * c = ctx[s];
            int64_t            t = c->n_past;
            float *            K = c->self_k + (int64_t)l * c->max_dec * inner;
            float *            V = c->self_v + (int64_t)l * c->max_dec * inner;
            const float *      q = b->qkv + s * 3 * inner;
            memcpy(K + t * inner, q + inner, sizeof(float) * (size_t)inner);
            memcpy(V + t * inner, q + 2 * inner, sizeof(float) * (size_t)inner);
            vb_attention(q, 3 * inner, K, inner, V, inner, 1, t + 1, C->heads, C->d_kv, 1.0f, c->bias, NULL, 1, t,
                         b->att + s * inner, inner, c->scratch);
        }
        lin(b->att, inner, R, &blk->o, b->h, d, 1.0f);
        vb_rmsnorm(b->h, R, d, blk->ln_ca, C->eps, b->x);
        lin(b->x, d, R, &blk->cq, b->qkv, inner, 0.0f);
        for (int32_t s = 0; s < n_seq; s++) {
            struct vb_t5_ctx * c = ctx[s];
            const float *      CK = c->cross_kv + (int64_t)l * 2 * inner;
            vb_attention(b->qkv + s * inner, inner, CK, ldkv, CK + inner, ldkv, 1, c->n_enc, C->heads, C->d_kv, 1.0f,
                         NULL, c->mask_add, 0, 0, b->att + s * inner, inner, c->scratch);
        }
        lin(b->att, inner, R, &blk->co, b->h, d, 1.0f);
        ff_rows(m, blk, b->h, b->x, b->ff, R);
    }
    vb_rmsnorm(b->h, R, d, m->dec_final_ln, C->eps, b->x);
    if (C->tie) {
        float sc = (float)(1.0 / sqrt((double)d));
        for (int64_t i = 0; i < R * d; i++)
            b->x[i] *= sc;
    }
    if (logits) {
        lin(b->x, d, R, &m->head, logits, C->vocab, 0.0f);
    }
    for (int32_t s = 0; s < n_seq; s++)
        ctx[s]->n_past++;
    return VB_OK;
}
