/* qformer.c — BLIP-2 / InstructBLIP Q-Former and the language projection (see qformer.h). */
#include "engine/qformer.h"

#include "base/common.h"
#include "engine/attn_small.h"
#include "engine/cuda/cuda.h"
#include "engine/ops.h"

#include <math.h>
#include <string.h>

/* Tensor names, defined once (HF state_dict; "%s" = bundle prefix, "" or "localizer."). */
#define TN_QUERY_TOKENS "%squery_tokens"
#define TN_LN_BLIP2     "%sqformer.layernorm.%s"            /* weight / bias */
#define TN_LN_INSTRUCT  "%sqformer.embeddings.layernorm.%s" /* weight / bias */
#define TN_WORD_EMB     "%sqformer.embeddings.word_embeddings.weight"
#define TN_POS_EMB      "%sqformer.embeddings.position_embeddings.weight"
#define TN_LAYER        "%sqformer.encoder.layer.%d.%s"

/* BERT extended attention mask value for padded keys (InstructBLIP Q-Former: (1 - mask) * -10000.0). */
#define QF_MASK_NEG (-10000.0f)

/* The tensor list, defined once: qformer_tensors() calls fn for every tensor the Q-Former reads, with its full name,
** the shape the config implies and where the data goes: a vector to *dst (a tensor of its own) or to element `off`
** of `fused` (the fused q|k|v / cross k|v biases); a matrix to *wm (row0 < 0: a matrix of its own, allocated) or to
** rows [row0, ..) of the already allocated fused *wm.  When only counting, fused and the fused wm are not allocated.
** The loader, the parameter count and the resident byte count use it. */
typedef void (*tensor_fn)(void * ud, const char * name, int32_t ndim, const int64_t * shape, float ** dst,
                          float * fused, int64_t off, struct vb_wmat * wm, int64_t row0);

struct loader {
    const struct vb_weights * w;
    int32_t                   dt; /* resident dtype of the matrices */
    int                       rc;
};

static void load_one(void * ud, const char * name, int32_t ndim, const int64_t * shape, float ** dst, float * fused,
                     int64_t off, struct vb_wmat * wm, int64_t row0) {
    struct loader * L = ud;
    if (L->rc != VB_OK) return;
    if (wm) {
        L->rc = row0 < 0 ? vb_wmat_load(wm, L->dt, L->w, name, ndim, shape)
                         : vb_wmat_load_rows(wm, row0, L->w, name, ndim, shape);
        return;
    }
    if (!fused) {
        L->rc = vb_weights_load_f32(L->w, name, ndim, shape, dst);
        return;
    }
    float * p = NULL;
    L->rc = vb_weights_load_f32(L->w, name, ndim, shape, &p);
    if (L->rc == VB_OK) memcpy(fused + off, p, sizeof(float) * (size_t)shape[0]);
    free(p);
}

/* Check-pass callback: the tensor exists with the config's shape (first error kept), nothing allocated. */
static void check_one(void * ud, const char * name, int32_t ndim, const int64_t * shape, float ** dst, float * fused,
                      int64_t off, struct vb_wmat * wm, int64_t row0) {
    (void)dst, (void)fused, (void)off, (void)wm, (void)row0;
    struct loader * L = ud;
    if (L->rc == VB_OK) L->rc = vb_weights_check(L->w, name, ndim, shape);
}

static void count_one(void * ud, const char * name, int32_t ndim, const int64_t * shape, float ** dst, float * fused,
                      int64_t off, struct vb_wmat * wm, int64_t row0) {
    (void)name, (void)dst, (void)fused, (void)off, (void)wm, (void)row0;
    int64_t n = 1;
    for (int32_t i = 0; i < ndim; i++)
        n *= shape[i];
    *(int64_t *)ud += n;
}

/* resident bytes: every matrix once (a fused one at its first part), every vector as f32 */
static void bytes_one(void * ud, const char * name, int32_t ndim, const int64_t * shape, float ** dst, float * fused,
                      int64_t off, struct vb_wmat * wm, int64_t row0) {
    (void)name, (void)dst, (void)fused, (void)off;
    if (wm)
        *(int64_t *)ud += row0 <= 0 ? (int64_t)vb_wmat_bytes(wm) : 0;
    else {
        int64_t k = 1;
        for (int32_t i = 0; i < ndim; i++)
            k *= shape[i];
        *(int64_t *)ud += k * (int64_t)sizeof(float);
    }
}

static void qformer_tensors(struct vb_qformer * m, const char * prefix, tensor_fn fn, void * ud) {
    const struct vb_qformer_config * c = &m->cfg;
    const int64_t                    D = c->hidden, I = c->intermediate, Dv = c->encoder_hidden, Q = m->n_query;
    char                             n[512];
    int64_t                          sh[3];
#define ONE(dst, nd, a, b_, c_, ...)                                                                                   \
    do {                                                                                                               \
        sh[0] = a, sh[1] = b_, sh[2] = c_;                                                                             \
        snprintf(n, sizeof n, __VA_ARGS__);                                                                            \
        fn(ud, n, nd, sh, dst, NULL, 0, NULL, -1);                                                                     \
    } while (0)
/* a matrix of its own */
#define MAT(wm_, out, in, ...)                                                                                         \
    do {                                                                                                               \
        sh[0] = out, sh[1] = in;                                                                                       \
        snprintf(n, sizeof n, __VA_ARGS__);                                                                            \
        fn(ud, n, 2, sh, NULL, NULL, 0, wm_, -1);                                                                      \
    } while (0)
/* Linear "<layer>.<base>.weight" (out, in) / ".bias" (out) as tensors of their own */
#define LIN(W_, B_, base, out, in)                                                                                     \
    do {                                                                                                               \
        MAT(W_, out, in, TN_LAYER "%s", prefix, l, base, ".weight");                                                   \
        ONE(B_, 1, out, 0, 0, TN_LAYER "%s", prefix, l, base, ".bias");                                                \
    } while (0)
/* LayerNorm "<layer>.<base>.weight" / ".bias" (out) */
#define NORM(W_, B_, base, out)                                                                                        \
    do {                                                                                                               \
        ONE(W_, 1, out, 0, 0, TN_LAYER "%s", prefix, l, base, ".weight");                                              \
        ONE(B_, 1, out, 0, 0, TN_LAYER "%s", prefix, l, base, ".bias");                                                \
    } while (0)
/* the same into rows [row0, row0 + out) of a fused weight Wf (.., in) and bias Bf */
#define FUSED(Wf, Bf, base, out, in, row0)                                                                             \
    do {                                                                                                               \
        sh[0] = out, sh[1] = in;                                                                                       \
        snprintf(n, sizeof n, TN_LAYER "%s", prefix, l, base, ".weight");                                              \
        fn(ud, n, 2, sh, NULL, NULL, 0, Wf, row0);                                                                     \
        snprintf(n, sizeof n, TN_LAYER "%s", prefix, l, base, ".bias");                                                \
        fn(ud, n, 1, sh, NULL, Bf, row0, NULL, -1);                                                                    \
    } while (0)
    ONE(&m->query_tokens, 3, 1, Q, D, TN_QUERY_TOKENS, prefix);
    const char * ln_pat = c->has_text ? TN_LN_INSTRUCT : TN_LN_BLIP2;
    ONE(&m->emb_ln_w, 1, D, 0, 0, ln_pat, prefix, "weight");
    ONE(&m->emb_ln_b, 1, D, 0, 0, ln_pat, prefix, "bias");
    if (c->has_text) {
        MAT(&m->word_emb, c->vocab, D, TN_WORD_EMB, prefix);
        ONE(&m->pos_emb, 2, c->max_pos, D, 0, TN_POS_EMB, prefix);
    }
    for (int l = 0; l < c->layers; l++) {
        struct vb_qformer_layer * y = &m->layers[l];
        FUSED(&y->qkv, y->qkv_b, "attention.attention.query", D, D, 0);
        FUSED(&y->qkv, y->qkv_b, "attention.attention.key", D, D, D);
        FUSED(&y->qkv, y->qkv_b, "attention.attention.value", D, D, 2 * D);
        LIN(&y->ao, &y->ao_b, "attention.output.dense", D, D);
        NORM(&y->ao_ln_w, &y->ao_ln_b, "attention.output.LayerNorm", D);
        if (y->has_cross) {
            LIN(&y->cq, &y->cq_b, "crossattention.attention.query", D, D);
            FUSED(&y->ckv, y->ckv_b, "crossattention.attention.key", D, Dv, 0);
            FUSED(&y->ckv, y->ckv_b, "crossattention.attention.value", D, Dv, D);
            LIN(&y->co, &y->co_b, "crossattention.output.dense", D, D);
            NORM(&y->co_ln_w, &y->co_ln_b, "crossattention.output.LayerNorm", D);
        }
        LIN(&y->iq, &y->iq_b, "intermediate_query.dense", I, D);
        LIN(&y->oq, &y->oq_b, "output_query.dense", D, I);
        NORM(&y->oq_ln_w, &y->oq_ln_b, "output_query.LayerNorm", D);
        if (c->has_text) {
            LIN(&y->it, &y->it_b, "intermediate.dense", I, D);
            LIN(&y->ot, &y->ot_b, "output.dense", D, I);
            NORM(&y->ot_ln_w, &y->ot_ln_b, "output.LayerNorm", D);
        }
    }
#undef ONE
#undef MAT
#undef LIN
#undef NORM
#undef FUSED
}

static void layer_free(struct vb_qformer_layer * y) {
    float * ps[] = {y->qkv_b, y->ao_b, y->ao_ln_w, y->ao_ln_b, y->cq_b, y->ckv_b, y->co_b,    y->co_ln_w, y->co_ln_b,
                    y->iq_b,  y->oq_b, y->oq_ln_w, y->oq_ln_b, y->it_b, y->ot_b,  y->ot_ln_w, y->ot_ln_b};
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++)
        free(ps[i]);
    struct vb_wmat * ws[] = {&y->qkv, &y->ao, &y->cq, &y->ckv, &y->co, &y->iq, &y->oq, &y->it, &y->ot};
    for (size_t i = 0; i < sizeof ws / sizeof ws[0]; i++)
        vb_wmat_free(ws[i]);
}

static int check_cfg(const struct vb_qformer_config * cfg, int32_t n_query) {
    if (cfg->hidden <= 0 || cfg->heads <= 0 || cfg->hidden % cfg->heads != 0 || cfg->layers <= 0 ||
        cfg->intermediate <= 0 || cfg->encoder_hidden <= 0 || cfg->cross_freq <= 0 || n_query <= 0 ||
        (cfg->has_text && (cfg->vocab <= 0 || cfg->max_pos <= 0)))
        return vb_fail(VB_ERR_ARG,
                       "qformer config: hidden %d, heads %d, layers %d, intermediate %d, encoder_hidden %d, "
                       "cross_attention_frequency %d, query tokens %d not usable",
                       cfg->hidden, cfg->heads, cfg->layers, cfg->intermediate, cfg->encoder_hidden, cfg->cross_freq,
                       n_query);
    return VB_OK;
}

/* A model shell: config, layers with has_cross set, fused buffers allocated only when `alloc_fused` (the fused
** matrices in cfg->weight_dtype; VB_ERR_ARG for another dtype, *out NULL). */
static int qformer_shell(struct vb_qformer ** out, const struct vb_qformer_config * cfg, int32_t n_query,
                         int alloc_fused) {
    *out = NULL;
    struct vb_qformer * m = vb_calloc(1, sizeof *m);
    m->cfg = *cfg;
    m->n_query = n_query;
    m->layers = vb_calloc((size_t)cfg->layers, sizeof *m->layers);
    const size_t D = (size_t)cfg->hidden, Dv = (size_t)cfg->encoder_hidden;
    for (int l = 0; l < cfg->layers; l++) {
        struct vb_qformer_layer * y = &m->layers[l];
        y->has_cross = l % cfg->cross_freq == 0;
        if (!alloc_fused) continue;
        int rc = vb_wmat_alloc(&y->qkv, 3 * (int64_t)D, (int64_t)D, cfg->weight_dtype);
        y->qkv_b = vb_malloc(sizeof(float) * 3 * D);
        if (rc == VB_OK && y->has_cross) {
            rc = vb_wmat_alloc(&y->ckv, 2 * (int64_t)D, (int64_t)Dv, cfg->weight_dtype);
            y->ckv_b = vb_malloc(sizeof(float) * 2 * D);
        }
        if (rc != VB_OK) {
            vb_qformer_free(m);
            return rc;
        }
    }
    *out = m;
    return VB_OK;
}

int64_t vb_qformer_n_params(const struct vb_qformer_config * cfg, int32_t n_query) {
    if (check_cfg(cfg, n_query) != VB_OK) return -1;
    struct vb_qformer * m = NULL;
    qformer_shell(&m, cfg, n_query, 0);
    int64_t n = 0;
    qformer_tensors(m, "", count_one, &n);
    vb_qformer_free(m);
    return n;
}

int vb_qformer_load(struct vb_qformer ** out, const struct vb_weights * w, const struct vb_qformer_config * cfg,
                    int32_t n_query, const char * prefix) {
    *out = NULL;
    int rc = check_cfg(cfg, n_query);
    if (rc != VB_OK) return rc;
    /* every shape the config implies is checked against the file before any weight is allocated */
    struct vb_qformer * m = NULL;
    struct loader       L = {w, cfg->weight_dtype, VB_OK};
    qformer_shell(&m, cfg, n_query, 0);
    qformer_tensors(m, prefix, check_one, &L);
    vb_qformer_free(m);
    m = NULL;
    if (L.rc != VB_OK) return L.rc;
    rc = qformer_shell(&m, cfg, n_query, 1);
    if (rc != VB_OK) return rc;
    qformer_tensors(m, prefix, load_one, &L);
    if (L.rc == VB_OK && cfg->device == VB_DEVICE_CUDA) L.rc = vb_cuda_qformer_attach(m); /* CUDA: upload */
    if (L.rc != VB_OK) {
        vb_qformer_free(m);
        return L.rc;
    }
    *out = m;
    return VB_OK;
}

void vb_qformer_free(struct vb_qformer * m) {
    if (!m) return;
    vb_cuda_qformer_detach(m);
    if (m->layers)
        for (int l = 0; l < m->cfg.layers; l++)
            layer_free(&m->layers[l]);
    free(m->layers);
    free(m->query_tokens);
    free(m->emb_ln_w);
    free(m->emb_ln_b);
    vb_wmat_free(&m->word_emb);
    free(m->pos_emb);
    free(m);
}

int64_t vb_qformer_resident_bytes(const struct vb_qformer * m) {
    int64_t n = 0;
    qformer_tensors((struct vb_qformer *)m, "", bytes_one, &n);
    return n;
}

int vb_qformer_ctx_new(struct vb_qformer_ctx ** out, const struct vb_qformer * m, int32_t max_batch, int32_t max_text,
                       int32_t max_img) {
    *out = NULL;
    if (max_batch < 1 || max_img < 1 || max_text < 0)
        return vb_fail(VB_ERR_ARG, "qformer context: max_batch %d, max_text %d, max_img %d not usable", max_batch,
                       max_text, max_img);
    if (max_text > 0 && !m->cfg.has_text)
        return vb_fail(VB_ERR_ARG, "qformer context: text input needs an InstructBLIP Q-Former");
    const size_t            B = (size_t)max_batch, Q = (size_t)m->n_query, Lm = (size_t)max_text, N = (size_t)max_img;
    const size_t            D = (size_t)m->cfg.hidden, I = (size_t)m->cfg.intermediate, S = Q + Lm;
    struct vb_qformer_ctx * c = vb_calloc(1, sizeof *c);
    c->m = m;
    c->max_batch = max_batch;
    c->max_text = max_text;
    c->max_img = max_img;
    c->h = vb_malloc(sizeof(float) * B * S * D);
    c->qkv = vb_malloc(sizeof(float) * B * S * 3 * D);
    c->att = vb_malloc(sizeof(float) * B * S * D);
    c->ckv = vb_malloc(sizeof(float) * B * N * 2 * D);
    c->ffn = vb_malloc(sizeof(float) * B * VB_MAX(Q, Lm) * I);
    c->mask_add = vb_malloc(sizeof(float) * B * S);
    *out = c;
    return VB_OK;
}

void vb_qformer_ctx_free(struct vb_qformer_ctx * c) {
    if (!c) return;
    free(c->h);
    free(c->qkv);
    free(c->att);
    free(c->ckv);
    free(c->ffn);
    free(c->mask_add);
    free(c);
}

/* Copy the two-block activations src into HF order dst (B, Q + L, D). */
static void to_hf(const float * src, int64_t B, int64_t Q, int64_t L, int64_t D, float * dst) {
    for (int64_t b = 0; b < B; b++) {
        memcpy(dst + b * (Q + L) * D, src + b * Q * D, sizeof(float) * (size_t)(Q * D));
        if (L > 0) memcpy(dst + (b * (Q + L) + Q) * D, src + (B * Q + b * L) * D, sizeof(float) * (size_t)(L * D));
    }
}

static void activation(enum vb_act a, float * x, int64_t n) {
    switch (a) {
    case VB_ACT_GELU_TANH:
        vb_gelu_tanh(x, n);
        break;
    case VB_ACT_RELU:
        vb_relu(x, n);
        break;
    default:
        vb_gelu_erf(x, n);
        break;
    }
}

/* h (n, D) = LayerNorm(h + act(h W_i^T + b_i) W_o^T + b_o): one BERT FFN block over n contiguous rows. */
static void ffn_block(struct vb_qformer_ctx * c, float * h, int64_t n, const struct vb_wmat * wi, const float * bi,
                      const struct vb_wmat * wo, const float * bo, const float * ln_w, const float * ln_b) {
    const int64_t D = c->m->cfg.hidden, I = c->m->cfg.intermediate;
    if (n == 0) return;
    vb_wmat_linear(h, n, wi, bi, c->ffn);
    activation(c->m->cfg.act, c->ffn, n * I);
    vb_wmat_linear_ex(c->ffn, I, n, wo, bo, h, D, 1.0f);
    vb_layernorm(h, n, D, ln_w, ln_b, c->m->cfg.ln_eps, h);
}

int vb_qformer_run(struct vb_qformer_ctx * c, const float * image, int32_t B, int32_t n_img, const int32_t * ids,
                   const int32_t * text_mask, int32_t L, float * query_out, float * full_out, float * embeddings,
                   float * layer_out) {
    const struct vb_qformer * m = c->m;
    if (B < 1 || B > c->max_batch || n_img < 1 || n_img > c->max_img || L < 0 || L > c->max_text)
        return vb_fail(VB_ERR_ARG, "qformer: batch %d, image tokens %d, text %d past the context (%d, %d, %d)", B,
                       n_img, L, c->max_batch, c->max_img, c->max_text);
    if (L > 0 && !ids) return vb_fail(VB_ERR_ARG, "qformer: %d text tokens but no ids", L);
    if (L > m->cfg.max_pos)
        return vb_fail(VB_ERR_ARG, "qformer: %d text tokens, max_position_embeddings is %d", L, m->cfg.max_pos);
    for (int64_t i = 0; i < (int64_t)B * L; i++)
        if (ids[i] < 0 || ids[i] >= m->cfg.vocab)
            return vb_fail(VB_ERR_ARG, "qformer: text id %d at row %lld position %lld outside the vocabulary (%d)",
                           ids[i], (long long)(i / L), (long long)(i % L), m->cfg.vocab);
    if (m->dev) /* CUDA */
        return vb_cuda_qformer_run_ctx(c, image, B, n_img, ids, text_mask, L, query_out, full_out, embeddings,
                                       layer_out);
    const int64_t Q = m->n_query, D = m->cfg.hidden, N = n_img; /* image rows are encoder_hidden = ckv.cols wide */
    const int64_t Rq = (int64_t)B * Q, Rt = (int64_t)B * L, R = Rq + Rt, S = Q + L;
    const int32_t H = m->cfg.heads, dh = (int32_t)(D / H);
    const float   scale = 1.0f / sqrtf((float)dh), eps = m->cfg.ln_eps;
    float *       hq = c->h;          /* (B*Q, D) query block */
    float *       ht = c->h + Rq * D; /* (B*L, D) text block */

    /* embeddings: [query_tokens; word + position], one LayerNorm over all rows */
    for (int64_t b = 0; b < B; b++)
        memcpy(hq + b * Q * D, m->query_tokens, sizeof(float) * (size_t)(Q * D));
    for (int64_t b = 0; b < B; b++)
        for (int64_t j = 0; j < L; j++) {
            const float * pe = m->pos_emb + j * D;
            float *       dst = ht + (b * L + j) * D;
            vb_wmat_row(&m->word_emb, ids[b * L + j], dst);
            for (int64_t k = 0; k < D; k++)
                dst[k] += pe[k];
        }
    vb_layernorm(c->h, R, D, m->emb_ln_w, m->emb_ln_b, eps, c->h);
    if (embeddings) to_hf(c->h, B, Q, L, D, embeddings);

    /* additive key mask of every row (B, S): 0 for the queries and kept text tokens, QF_MASK_NEG for padding */
    int any_pad = 0;
    for (int64_t b = 0; b < B; b++)
        for (int64_t i = 0; i < S; i++) {
            int keep = i < Q || !text_mask || text_mask[b * L + (i - Q)] != 0;
            c->mask_add[b * S + i] = keep ? 0.0f : QF_MASK_NEG;
            any_pad |= !keep;
        }

    for (int32_t l = 0; l < m->cfg.layers; l++) {
        const struct vb_qformer_layer * y = &m->layers[l];
        /* self-attention over [queries; text] of each row, every (row, head) pair in one pool dispatch: the keys
        ** (and queries) of row b are its Q query rows (query block) then its L text rows (text block) */
        vb_wmat_linear(c->h, R, &y->qkv, y->qkv_b, c->qkv);
        struct vb_attn_batch sa = vb_attn_batch_self(B, Q, H, dh, scale, c->qkv, c->att);
        sa.nk = S; /* the keys: the Q query rows (first block), then the L text rows (second block) */
        sa.k2 = L ? c->qkv + Rq * 3 * D + D : NULL, sa.sk2 = L * 3 * D;
        sa.v2 = L ? c->qkv + Rq * 3 * D + 2 * D : NULL, sa.sv2 = L * 3 * D;
        sa.mask = any_pad ? c->mask_add : NULL, sa.smask = S;
        if (L > 0) { /* the text rows (text block) are queries too, over the same keys */
            sa.nq = S, sa.nq1 = Q, sa.q2 = c->qkv + Rq * 3 * D, sa.sq2 = L * 3 * D, sa.out2 = c->att + Rq * D;
            sa.so2 = L * D;
        }
        vb_attention_batch(&sa);
        vb_wmat_linear_ex(c->att, D, R, &y->ao, y->ao_b, c->h, D, 1.0f);
        vb_layernorm(c->h, R, D, y->ao_ln_w, y->ao_ln_b, eps, c->h);

        /* cross-attention: query rows only, keys / values from this row's image tokens */
        if (y->has_cross) {
            float * cq = c->qkv; /* (B*Q, D) */
            vb_wmat_linear(hq, Rq, &y->cq, y->cq_b, cq);
            vb_wmat_linear(image, (int64_t)B * N, &y->ckv, y->ckv_b, c->ckv);
            struct vb_attn_batch ca = {.n = B,
                                       .nq = Q,
                                       .nk = N,
                                       .nk1 = N,
                                       .heads = H,
                                       .dh = dh,
                                       .scale = scale,
                                       .q = cq,
                                       .ldq = D,
                                       .sq = Q * D,
                                       .k = c->ckv,
                                       .ldk = 2 * D,
                                       .sk = N * 2 * D,
                                       .v = c->ckv + D,
                                       .ldv = 2 * D,
                                       .sv = N * 2 * D,
                                       .out = c->att,
                                       .ldo = D,
                                       .so = Q * D};
            vb_attention_batch(&ca); /* every (frame, head) pair in one pool dispatch */
            vb_wmat_linear_ex(c->att, D, Rq, &y->co, y->co_b, hq, D, 1.0f);
            vb_layernorm(hq, Rq, D, y->co_ln_w, y->co_ln_b, eps, hq);
        }

        /* FFN: query rows through *_query, text rows through the text FFN */
        ffn_block(c, hq, Rq, &y->iq, y->iq_b, &y->oq, y->oq_b, y->oq_ln_w, y->oq_ln_b);
        if (Rt > 0) ffn_block(c, ht, Rt, &y->it, y->it_b, &y->ot, y->ot_b, y->ot_ln_w, y->ot_ln_b);
        if (layer_out) to_hf(c->h, B, Q, L, D, layer_out + (int64_t)l * B * S * D);
    }
    if (query_out) memcpy(query_out, hq, sizeof(float) * (size_t)(Rq * D));
    if (full_out) to_hf(c->h, B, Q, L, D, full_out);
    return VB_OK;
}

int vb_projection_load(struct vb_projection ** out, const struct vb_weights * w, const char * name, int32_t d_in,
                       int32_t d_out) {
    *out = NULL;
    if (d_in <= 0 || d_out <= 0) return vb_fail(VB_ERR_ARG, "projection %s: sizes %d -> %d", name, d_in, d_out);
    char                   n[512];
    struct vb_projection * p = vb_calloc(1, sizeof *p);
    p->d_in = d_in;
    p->d_out = d_out;
    int64_t sw[2] = {d_out, d_in}, sb[1] = {d_out};
    snprintf(n, sizeof n, "%s.weight", name);
    int rc = vb_wmat_load(&p->w, VB_DT_F32, w, n, 2, sw);
    if (rc == VB_OK) {
        snprintf(n, sizeof n, "%s.bias", name);
        rc = vb_weights_load_f32(w, n, 1, sb, &p->b);
    }
    if (rc != VB_OK) {
        vb_projection_free(p);
        return rc;
    }
    *out = p;
    return VB_OK;
}

int vb_projection_to_device(struct vb_projection * p) {
    return p->dev ? VB_OK : vb_cuda_proj_attach(p);
}

void vb_projection_free(struct vb_projection * p) {
    if (!p) return;
    vb_cuda_proj_detach(p);
    vb_wmat_free(&p->w);
    free(p->b);
    free(p);
}

int vb_projection_run(const struct vb_projection * p, const float * x, int64_t n, float * y) {
    if (p->dev) return vb_cuda_proj_run_host(p, x, n, y); /* CUDA */
    vb_wmat_linear(x, n, &p->w, p->b, y);
    return VB_OK;
}
