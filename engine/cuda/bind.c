/* bind.c — the wiring of the device models into the engine's model objects (docs/cuda.md, plan items 1-3): one
** process-wide context shared by every model on the device, the upload at load time (vb_*_attach), and the host-
** contract entry points the engine's run functions delegate to at their top (vb_cuda_*_run_ctx and friends: host
** pointers in and out, the engine's argument checks and error messages).
**
** Threading: the device models keep their activations inside them and share one stream, so every device call is
** serialised by one lock (the runner's workers then take turns on the GPU; their CPU stages still overlap). */
#include "base/common.h"
#include "engine/config.h"
#include "engine/cuda/internal.h"
#include "engine/qformer.h"
#include "engine/t5.h"
#include "engine/vit.h"

#include <float.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t      g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vb_cuda_ctx * g_ctx;  /* created with the first device model, freed with the last */
static int32_t              g_refs; /* device models (and T5 sequences) alive */

/* device dtype of a host weight dtype: f32 stays f32 (the exact path), bf16 / f16 go up as bf16 */
static int32_t dev_dt(int32_t host_dt) {
    return host_dt == VB_DT_F32 ? VB_DT_F32 : VB_DT_BF16;
}

/* lock and make sure the shared context exists */
static int enter(void) {
    pthread_mutex_lock(&g_lock);
    if (g_ctx) return VB_OK;
    int st = vb_cuda_ctx_new(&g_ctx);
    if (st != VB_OK) pthread_mutex_unlock(&g_lock);
    return st;
}

/* after an attach: count it on success, drop an unused context on failure; unlock */
static int leave_attach(int st) {
    if (st == VB_OK) g_refs++;
    if (g_refs == 0) vb_cuda_ctx_free(g_ctx), g_ctx = NULL;
    pthread_mutex_unlock(&g_lock);
    return st;
}

static void leave_detach(void) {
    if (--g_refs == 0) vb_cuda_ctx_free(g_ctx), g_ctx = NULL;
    pthread_mutex_unlock(&g_lock);
}

static int leave(int st) {
    pthread_mutex_unlock(&g_lock);
    return st;
}

/* ---------------------------------------------------------------- ViT */

int vb_cuda_vit_attach(struct vb_vit * m) {
    int st = enter();
    if (st != VB_OK) return vb_fail_prefix(st, "vit on the device");
    return leave_attach(vb_cuda_vit_upload(g_ctx, &m->dev, m, dev_dt(m->cfg.weight_dtype)));
}

void vb_cuda_vit_detach(struct vb_vit * m) {
    if (!m || !m->dev) return;
    pthread_mutex_lock(&g_lock);
    vb_cuda_vit_free(m->dev);
    m->dev = NULL;
    leave_detach();
}

int vb_cuda_vit_run_ctx(struct vb_vit_ctx * c, const float * pixels, int32_t n_frames, float * embeddings,
                        float * layer_out, float * body, float * ln) {
    pthread_mutex_lock(&g_lock);
    return leave(vb_cuda_vit_run(g_ctx, c->m->dev, pixels, n_frames, embeddings, layer_out, body, ln));
}

/* ---------------------------------------------------------------- Q-Former and projection */

int vb_cuda_qformer_attach(struct vb_qformer * m) {
    int st = enter();
    if (st != VB_OK) return vb_fail_prefix(st, "qformer on the device");
    return leave_attach(vb_cuda_qformer_upload(g_ctx, &m->dev, m, dev_dt(m->cfg.weight_dtype)));
}

void vb_cuda_qformer_detach(struct vb_qformer * m) {
    if (!m || !m->dev) return;
    pthread_mutex_lock(&g_lock);
    vb_cuda_qformer_free(m->dev);
    m->dev = NULL;
    leave_detach();
}

int vb_cuda_qformer_run_ctx(struct vb_qformer_ctx * c, const float * image, int32_t B, int32_t n_img,
                            const int32_t * ids, const int32_t * text_mask, int32_t L, float * query_out,
                            float * full_out, float * embeddings, float * layer_out) {
    pthread_mutex_lock(&g_lock);
    return leave(vb_cuda_qformer_run(g_ctx, c->m->dev, image, B, n_img, ids, text_mask, L, query_out, full_out,
                                     embeddings, layer_out));
}

int vb_cuda_proj_attach(struct vb_projection * p) {
    int st = enter();
    if (st != VB_OK) return vb_fail_prefix(st, "projection on the device");
    return leave_attach(vb_cuda_proj_upload(g_ctx, &p->dev, p, VB_DT_F32)); /* f32 on the CPU too */
}

void vb_cuda_proj_detach(struct vb_projection * p) {
    if (!p || !p->dev) return;
    pthread_mutex_lock(&g_lock);
    vb_cuda_proj_free(p->dev);
    p->dev = NULL;
    leave_detach();
}

int vb_cuda_proj_run_host(const struct vb_projection * p, const float * x, int64_t n, float * y) {
    pthread_mutex_lock(&g_lock);
    return leave(vb_cuda_proj_run(g_ctx, p->dev, x, n, y));
}

/* ---------------------------------------------------------------- T5 */

int vb_cuda_t5_attach(struct vb_t5_model * m) {
    int st = enter();
    if (st != VB_OK) return vb_fail_prefix(st, "t5 on the device");
    return leave_attach(vb_cuda_t5_upload(g_ctx, &m->dev, m, dev_dt(m->cfg.weight_dtype)));
}

void vb_cuda_t5_detach(struct vb_t5_model * m) {
    if (!m || !m->dev) return;
    pthread_mutex_lock(&g_lock);
    vb_cuda_t5_free(m->dev);
    m->dev = NULL;
    leave_detach();
}

int vb_cuda_t5_ctx_attach(struct vb_t5_ctx * c) {
    pthread_mutex_lock(&g_lock);
    int st = vb_cuda_t5seq_new(g_ctx, c->m->dev, c->max_enc, c->max_dec, &c->dev);
    return leave_attach(st);
}

void vb_cuda_t5_ctx_detach(struct vb_t5_ctx * c) {
    if (!c || !c->dev) return;
    pthread_mutex_lock(&g_lock);
    vb_cuda_t5seq_free(c->dev);
    c->dev = NULL;
    leave_detach();
}

/* under the lock: the encoder output enc (n, d) (host) with its mask becomes c's (enc_out, cross K/V, reset cache) */
static int set_encoder_locked(struct vb_t5_ctx * c, const float * enc, const uint8_t * mask, int64_t n) {
    if (enc != c->enc_out) memcpy(c->enc_out, enc, sizeof(float) * (size_t)(n * c->m->cfg.d_model));
    int st = vb_cuda_t5seq_set_encoder(g_ctx, c->m->dev, c->dev, c->enc_out, mask, n);
    c->n_enc = st == VB_OK ? n : 0;
    c->n_past = 0;
    return st;
}

int vb_cuda_t5_encode_ctx(struct vb_t5_ctx * c, const float * embeds, const uint8_t * mask, int64_t n,
                          float * block_out) {
    if (n < 1 || n > c->max_enc)
        return vb_fail(VB_ERR_ARG, "t5 encoder: %lld tokens, context holds 1..%lld", (long long)n,
                       (long long)c->max_enc);
    pthread_mutex_lock(&g_lock);
    int st = vb_cuda_t5_encode(g_ctx, vb_cuda_t5_encoder(c->m->dev), 1, n, embeds, mask, block_out, c->enc_out);
    if (st == VB_OK) st = set_encoder_locked(c, c->enc_out, mask, n);
    return leave(st);
}

int vb_cuda_t5_set_encoder_ctx(struct vb_t5_ctx * c, const float * enc, const uint8_t * mask, int64_t n) {
    if (n < 1 || n > c->max_enc)
        return vb_fail(VB_ERR_ARG, "t5 encoder output: %lld tokens, context holds 1..%lld", (long long)n,
                       (long long)c->max_enc);
    pthread_mutex_lock(&g_lock);
    return leave(set_encoder_locked(c, enc, mask, n));
}

int vb_cuda_t5_encode_batch_ctx(struct vb_t5_batch * b, struct vb_t5_ctx ** ctx, int32_t n_seq,
                                const float * const * embeds, const uint8_t * const * masks, const int64_t * n) {
    const struct vb_t5_model * m = b->m;
    const int64_t              d = m->cfg.d_model;
    int64_t                    total = 0;
    int                        equal = 1;
    for (int32_t s = 0; s < n_seq; s++) {
        if (ctx[s]->m != m || !ctx[s]->dev)
            return vb_fail(VB_ERR_ARG, "t5 encoder batch: sequence %d uses another model", s);
        if (n[s] < 1 || n[s] > ctx[s]->max_enc)
            return vb_fail(VB_ERR_ARG, "t5 encoder batch: sequence %d has %lld tokens, its context holds 1..%lld", s,
                           (long long)n[s], (long long)ctx[s]->max_enc);
        total += n[s];
        equal &= n[s] == n[0];
    }
    if (n_seq < 1 || total > b->max_rows)
        return vb_fail(VB_ERR_ARG, "t5 encoder batch: %lld tokens in %d sequences, workspace holds %lld",
                       (long long)total, n_seq, (long long)b->max_rows);
    struct vb_cuda_t5enc * e = vb_cuda_t5_encoder(m->dev);
    pthread_mutex_lock(&g_lock);
    int st = VB_OK;
    if (equal) { /* one batched pass: every GEMM over all rows (the SeViLA localizer's 32 sequences) */
        uint8_t * mk = vb_malloc((size_t)total);
        for (int32_t s = 0; s < n_seq; s++) {
            memcpy(b->h + s * n[0] * d, embeds[s], sizeof(float) * (size_t)(n[0] * d));
            for (int64_t i = 0; i < n[0]; i++)
                mk[s * n[0] + i] = (!masks || !masks[s]) ? 1 : masks[s][i];
        }
        st = vb_cuda_t5_encode(g_ctx, e, n_seq, n[0], b->h, mk, NULL, b->x);
        for (int32_t s = 0; s < n_seq && st == VB_OK; s++)
            st = set_encoder_locked(ctx[s], b->x + s * n[0] * d, masks ? masks[s] : NULL, n[0]);
        free(mk);
    } else /* lengths differ: one sequence at a time */
        for (int32_t s = 0; s < n_seq && st == VB_OK; s++) {
            const uint8_t * mk = masks ? masks[s] : NULL;
            st = vb_cuda_t5_encode(g_ctx, e, 1, n[s], embeds[s], mk, NULL, ctx[s]->enc_out);
            if (st == VB_OK) st = set_encoder_locked(ctx[s], ctx[s]->enc_out, mk, n[s]);
        }
    return leave(st);
}

int vb_cuda_t5_decode_ctx(struct vb_t5_ctx * c, const int32_t * ids, int64_t n, float * logits, float * last_hidden,
                          float * block_out) {
    if (c->n_enc < 1) return vb_fail(VB_ERR_ARG, "t5 decoder: no encoder output");
    if (n < 1 || c->n_past + n > c->max_dec)
        return vb_fail(VB_ERR_ARG, "t5 decoder: %lld positions after %lld exceed the context's %lld", (long long)n,
                       (long long)c->n_past, (long long)c->max_dec);
    int st = vb_t5_embed(c->m, ids, n, c->h); /* the embedding rows on the host (c->h is unused otherwise) */
    if (st != VB_OK) return st;
    pthread_mutex_lock(&g_lock);
    st = vb_cuda_t5_decode(g_ctx, c->m->dev, c->dev, c->n_past, c->h, n, logits, NULL, last_hidden, block_out);
    if (st == VB_OK) c->n_past += n;
    return leave(st);
}

int vb_cuda_t5_decode_batch_ctx(struct vb_t5_batch * b, struct vb_t5_ctx ** ctx, int32_t n_seq, const int32_t * ids,
                                float * logits, int32_t * argmax) {
    const struct vb_t5_model * m = b->m;
    if (n_seq < 1 || n_seq > b->max_rows)
        return vb_fail(VB_ERR_ARG, "t5 decoder batch: %d sequences, workspace holds %lld", n_seq,
                       (long long)b->max_rows);
    for (int32_t s = 0; s < n_seq; s++) {
        if (ctx[s]->m != m || !ctx[s]->dev)
            return vb_fail(VB_ERR_ARG, "t5 decoder batch: sequence %d uses another model", s);
        if (ctx[s]->n_enc < 1) return vb_fail(VB_ERR_ARG, "t5 decoder batch: sequence %d has no encoder output", s);
        if (ctx[s]->n_past + 1 > ctx[s]->max_dec)
            return vb_fail(VB_ERR_ARG, "t5 decoder batch: sequence %d: cache full (%lld positions)", s,
                           (long long)ctx[s]->max_dec);
    }
    int st = vb_t5_embed(m, ids, n_seq, b->h);
    if (st != VB_OK) return st;
    struct vb_cuda_t5seq ** seq = vb_malloc(sizeof *seq * (size_t)n_seq);
    int64_t *               past = vb_malloc(sizeof *past * (size_t)n_seq);
    for (int32_t s = 0; s < n_seq; s++)
        seq[s] = ctx[s]->dev, past[s] = ctx[s]->n_past;
    pthread_mutex_lock(&g_lock);
    st = vb_cuda_t5_decode_batch(g_ctx, m->dev, seq, past, n_seq, b->h, logits, argmax);
    pthread_mutex_unlock(&g_lock);
    for (int32_t s = 0; s < n_seq && st == VB_OK; s++)
        ctx[s]->n_past++;
    free(seq), free(past);
    return st;
}
