/* vit.c (engine/cuda) — the EVA ViT on the device: engine/vit.c's vb_vit_run step for step with the device kernels
** (im2col + patch GEMM, CLS + position embedding, pre-LN blocks with the fused q|k|v GEMM, per-frame attention,
** GELU MLP, post-LayerNorm). */
#include "engine/vit.h"
#include "base/common.h"
#include "engine/config.h"
#include "engine/cuda/internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct cuda_vit_layer {
    float *             ln1_w, *ln1_b, *qkv_b, *proj_b, *ln2_w, *ln2_b, *fc1_b, *fc2_b; /* f32 vectors */
    struct vb_cuda_wmat qkv, proj, fc1, fc2;
};

struct vb_cuda_vit {
    struct vb_vision_config cfg;
    int32_t                 patch_dim;
    struct vb_cuda_wmat     patch;
    float *                 patch_b, *cls, *pos, *post_ln_w, *post_ln_b;
    struct cuda_vit_layer * layers;
    int64_t                 bytes;
    /* activations for up to max_frames frames (grown on demand) */
    int32_t max_frames;
    float * pixels, *cols, *h, *x, *qkv, *att, *mlp;
};

/* a device copy of n host floats (n may be 0: NULL) */
static int vec(struct vb_cuda_ctx * c, struct vb_cuda_vit * v, float ** d, const float * h, int64_t n) {
    *d = NULL;
    if (!h || n <= 0) return VB_OK;
    int st = vb_cuda_alloc(c, (void **)d, sizeof(float) * (size_t)n);
    if (st == VB_OK) st = vb_cuda_upload(c, *d, h, sizeof(float) * (size_t)n);
    if (st == VB_OK) v->bytes += (int64_t)sizeof(float) * n;
    return st;
}

static int mat(struct vb_cuda_ctx * c, struct vb_cuda_vit * v, struct vb_cuda_wmat * D, const struct vb_wmat * W,
               int32_t dt) {
    int st = vb_cuda_wmat_upload(c, D, W, dt);
    if (st == VB_OK) v->bytes += D->rows * D->cols * (dt == VB_DT_F32 ? 4 : 2);
    return st;
}

static void free_acts(struct vb_cuda_vit * v) {
    vb_cuda_free(v->pixels), vb_cuda_free(v->cols), vb_cuda_free(v->h), vb_cuda_free(v->x);
    vb_cuda_free(v->qkv), vb_cuda_free(v->att), vb_cuda_free(v->mlp);
    v->pixels = v->cols = v->h = v->x = v->qkv = v->att = v->mlp = NULL;
    v->max_frames = 0;
}

void vb_cuda_vit_free(struct vb_cuda_vit * v) {
    if (!v) return;
    free_acts(v);
    vb_cuda_wmat_free(&v->patch);
    vb_cuda_free(v->patch_b), vb_cuda_free(v->cls), vb_cuda_free(v->pos);
    vb_cuda_free(v->post_ln_w), vb_cuda_free(v->post_ln_b);
    for (int32_t l = 0; v->layers && l < v->cfg.layers; l++) {
        struct cuda_vit_layer * y = &v->layers[l];
        vb_cuda_free(y->ln1_w), vb_cuda_free(y->ln1_b), vb_cuda_free(y->qkv_b), vb_cuda_free(y->proj_b);
        vb_cuda_free(y->ln2_w), vb_cuda_free(y->ln2_b), vb_cuda_free(y->fc1_b), vb_cuda_free(y->fc2_b);
        vb_cuda_wmat_free(&y->qkv), vb_cuda_wmat_free(&y->proj), vb_cuda_wmat_free(&y->fc1);
        vb_cuda_wmat_free(&y->fc2);
    }
    free(v->layers);
    free(v);
}

int64_t vb_cuda_vit_bytes(const struct vb_cuda_vit * v) {
    return v ? v->bytes : 0;
}

int vb_cuda_vit_upload(struct vb_cuda_ctx * c, struct vb_cuda_vit ** out, const struct vb_vit * m, int32_t dt) {
    *out = NULL;
    int st = vb_cuda_ctx_check_(c, "vb_cuda_vit_upload");
    if (st != VB_OK) return st;
    if (!m || m->cfg.layers < 1 || m->cfg.hidden < 1 || m->cfg.heads < 1 || m->cfg.hidden % m->cfg.heads)
        return vb_fail(VB_ERR_ARG, "vb_cuda_vit_upload: no model");
    struct vb_cuda_vit * v = vb_calloc(1, sizeof *v);
    v->cfg = m->cfg;
    v->patch_dim = m->patch_dim;
    const int64_t D = m->cfg.hidden, I = m->cfg.intermediate, T = m->cfg.n_tokens;
    v->layers = vb_calloc((size_t)m->cfg.layers, sizeof *v->layers);
    st = mat(c, v, &v->patch, &m->patch, dt);
    if (st == VB_OK) st = vec(c, v, &v->patch_b, m->patch_b, D);
    if (st == VB_OK) st = vec(c, v, &v->cls, m->cls, D);
    if (st == VB_OK) st = vec(c, v, &v->pos, m->pos, T * D);
    if (st == VB_OK) st = vec(c, v, &v->post_ln_w, m->post_ln_w, D);
    if (st == VB_OK) st = vec(c, v, &v->post_ln_b, m->post_ln_b, D);
    for (int32_t l = 0; l < m->cfg.layers && st == VB_OK; l++) {
        const struct vb_vit_layer * s = &m->layers[l];
        struct cuda_vit_layer *     y = &v->layers[l];
        st = vec(c, v, &y->ln1_w, s->ln1_w, D);
        if (st == VB_OK) st = vec(c, v, &y->ln1_b, s->ln1_b, D);
        if (st == VB_OK) st = vec(c, v, &y->qkv_b, s->qkv_b, 3 * D);
        if (st == VB_OK) st = vec(c, v, &y->proj_b, s->proj_b, D);
        if (st == VB_OK) st = vec(c, v, &y->ln2_w, s->ln2_w, D);
        if (st == VB_OK) st = vec(c, v, &y->ln2_b, s->ln2_b, D);
        if (st == VB_OK) st = vec(c, v, &y->fc1_b, s->fc1_b, I);
        if (st == VB_OK) st = vec(c, v, &y->fc2_b, s->fc2_b, D);
        if (st == VB_OK) st = mat(c, v, &y->qkv, &s->qkv, dt);
        if (st == VB_OK) st = mat(c, v, &y->proj, &s->proj, dt);
        if (st == VB_OK) st = mat(c, v, &y->fc1, &s->fc1, dt);
        if (st == VB_OK) st = mat(c, v, &y->fc2, &s->fc2, dt);
    }
    if (st != VB_OK) {
        vb_cuda_vit_free(v);
        return vb_fail_prefix(st, "vit upload");
    }
    *out = v;
    return VB_OK;
}

static int grow(struct vb_cuda_ctx * c, struct vb_cuda_vit * v, int32_t F) {
    if (F <= v->max_frames) return VB_OK;
    free_acts(v);
    const size_t T = (size_t)v->cfg.n_tokens, P = (size_t)v->cfg.n_patches, D = (size_t)v->cfg.hidden;
    const size_t I = (size_t)v->cfg.intermediate, S = (size_t)v->cfg.image_size, f = sizeof(float), n = (size_t)F;
    int          st = vb_cuda_alloc(c, (void **)&v->pixels, f * n * 3 * S * S);
    if (st == VB_OK) st = vb_cuda_alloc(c, (void **)&v->cols, f * n * P * (size_t)v->patch_dim);
    if (st == VB_OK) st = vb_cuda_alloc(c, (void **)&v->h, f * n * T * D);
    if (st == VB_OK) st = vb_cuda_alloc(c, (void **)&v->x, f * n * T * D);
    if (st == VB_OK) st = vb_cuda_alloc(c, (void **)&v->qkv, f * n * T * 3 * D);
    if (st == VB_OK) st = vb_cuda_alloc(c, (void **)&v->att, f * n * T * D);
    if (st == VB_OK) st = vb_cuda_alloc(c, (void **)&v->mlp, f * n * T * I);
    if (st != VB_OK) {
        free_acts(v);
        return st;
    }
    v->max_frames = F;
    return VB_OK;
}

int vb_cuda_vit_run(struct vb_cuda_ctx * c, struct vb_cuda_vit * v, const float * pixels, int32_t n_frames,
                    float * embeddings, float * layer_out, float * body, float * ln) {
    int st = vb_cuda_ctx_check_(c, "vb_cuda_vit_run");
    if (st != VB_OK) return st;
    if (!v || !pixels || n_frames < 1) return vb_fail(VB_ERR_ARG, "vit (cuda): %d frames", n_frames);
    st = grow(c, v, n_frames);
    if (st != VB_OK) return vb_fail_prefix(st, "vit (cuda): activations for %d frames", n_frames);
    const int64_t D = v->cfg.hidden, I = v->cfg.intermediate, T = v->cfg.n_tokens, P = v->cfg.n_patches;
    const int64_t F = n_frames, R = F * T, S = v->cfg.image_size;
    const int32_t H = v->cfg.heads, dh = (int32_t)(D / H);
    const float   scale = 1.0f / sqrtf((float)dh), eps = v->cfg.ln_eps;
    const size_t  fl = sizeof(float);

    st = vb_cuda_upload(c, v->pixels, pixels, fl * (size_t)(F * 3 * S * S)); /* the frames go up once */
    if (st == VB_OK)
        st = vb_cuda_check_((cudaError_t)vb_k_im2col(c->stream, v->pixels, F, S, v->cfg.patch, v->cols), "im2col");
    if (st == VB_OK) st = vb_cuda_linear(c, v->cols, v->patch_dim, F * P, &v->patch, v->patch_b, v->att, D, 0.0f);
    if (st == VB_OK)
        st = vb_cuda_check_((cudaError_t)vb_k_vit_embed(c->stream, v->att, v->cls, v->pos, F, T, D, v->h), "embed");
    if (st == VB_OK && embeddings) st = vb_cuda_download(c, embeddings, v->h, fl * (size_t)(R * D));
    for (int32_t l = 0; l < v->cfg.layers && st == VB_OK; l++) {
        const struct cuda_vit_layer * y = &v->layers[l];
        st = vb_cuda_layernorm(c, v->h, R, D, y->ln1_w, y->ln1_b, eps, v->x);
        if (st == VB_OK) st = vb_cuda_linear(c, v->x, D, R, &y->qkv, y->qkv_b, v->qkv, 3 * D, 0.0f);
        for (int64_t f = 0; f < F && st == VB_OK; f++) {
            const float * q = v->qkv + f * T * 3 * D;
            st = vb_cuda_attention(c, q, 3 * D, q + D, 3 * D, q + 2 * D, 3 * D, T, T, H, dh, scale, NULL, NULL, 0, 0,
                                   v->att + f * T * D, D);
        }
        if (st == VB_OK) st = vb_cuda_linear(c, v->att, D, R, &y->proj, y->proj_b, v->h, D, 1.0f); /* h += proj */
        if (st == VB_OK) st = vb_cuda_layernorm(c, v->h, R, D, y->ln2_w, y->ln2_b, eps, v->x);
        if (st == VB_OK) st = vb_cuda_linear(c, v->x, D, R, &y->fc1, y->fc1_b, v->mlp, I, 0.0f);
        if (st == VB_OK) st = vb_cuda_act(c, v->mlp, R * I, (int32_t)v->cfg.act);
        if (st == VB_OK) st = vb_cuda_linear(c, v->mlp, I, R, &y->fc2, y->fc2_b, v->h, D, 1.0f); /* h += fc2 */
        if (st == VB_OK && layer_out)
            st = vb_cuda_download(c, layer_out + (int64_t)l * R * D, v->h, fl * (size_t)(R * D));
    }
    if (st == VB_OK && body) st = vb_cuda_download(c, body, v->h, fl * (size_t)(R * D));
    if (st == VB_OK && ln) {
        st = vb_cuda_layernorm(c, v->h, R, D, v->post_ln_w, v->post_ln_b, v->cfg.post_ln_eps, v->x);
        if (st == VB_OK) st = vb_cuda_download(c, ln, v->x, fl * (size_t)(R * D));
    }
    if (st == VB_OK) st = vb_cuda_sync(c);
    return st;
}
