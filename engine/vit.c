/* vit.c — EVA ViT (see vit.h). */
#include "engine/vit.h"

#include "base/common.h"
#include "engine/attn_small.h"
#include "engine/cuda/cuda.h"
#include "engine/ops.h"

#include <math.h>
#include <string.h>

/* Tensor names, defined once (HF Blip2VisionModel state_dict, relative to the prefix). */
#define TN_CLS       "%sembeddings.class_embedding"
#define TN_POS       "%sembeddings.position_embedding"
#define TN_PATCH_W   "%sembeddings.patch_embedding.weight"
#define TN_PATCH_B   "%sembeddings.patch_embedding.bias"
#define TN_LAYER     "%sencoder.layers.%d.%s"
#define TN_POST_LN_W "%spost_layernorm.weight"
#define TN_POST_LN_B "%spost_layernorm.bias"

/* The tensor list, defined once: vit_tensors() calls fn for every tensor the model reads, with its full name, the
** shape the config implies and where the loaded data goes.  The loader and the parameter count both use it.
** Matrices go to a vb_wmat (wm non-NULL, dst NULL), vectors to a float buffer (dst). */
typedef void (*tensor_fn)(void * ud, const char * name, int32_t ndim, const int64_t * shape, float ** dst,
                          struct vb_wmat * wm);

static void vit_tensors(struct vb_vit * m, const char * prefix, tensor_fn fn, void * ud) {
    const struct vb_vision_config * c = &m->cfg;
    const int64_t                   D = c->hidden, I = c->intermediate, T = c->n_tokens, p = c->patch;
    char                            n[512];
#define T_(dst, nd, a, b, c_, d_, ...)                                                                                 \
    do {                                                                                                               \
        int64_t sh_[4] = {a, b, c_, d_};                                                                               \
        snprintf(n, sizeof n, __VA_ARGS__);                                                                            \
        fn(ud, n, nd, sh_, dst, NULL);                                                                                 \
    } while (0)
#define M_(wm, nd, a, b, c_, d_, ...)                                                                                  \
    do {                                                                                                               \
        int64_t sh_[4] = {a, b, c_, d_};                                                                               \
        snprintf(n, sizeof n, __VA_ARGS__);                                                                            \
        fn(ud, n, nd, sh_, NULL, wm);                                                                                  \
    } while (0)
    T_(&m->cls, 3, 1, 1, D, 0, TN_CLS, prefix);
    T_(&m->pos, 3, 1, T, D, 0, TN_POS, prefix);
    M_(&m->patch, 4, D, 3, p, p, TN_PATCH_W, prefix); /* (D, 3, p, p) is (D, 3*p*p) row-major: c, ky, kx */
    T_(&m->patch_b, 1, D, 0, 0, 0, TN_PATCH_B, prefix);
    for (int l = 0; l < c->layers; l++) {
        struct vb_vit_layer * y = &m->layers[l];
        T_(&y->ln1_w, 1, D, 0, 0, 0, TN_LAYER, prefix, l, "layer_norm1.weight");
        T_(&y->ln1_b, 1, D, 0, 0, 0, TN_LAYER, prefix, l, "layer_norm1.bias");
        M_(&y->qkv, 2, 3 * D, D, 0, 0, TN_LAYER, prefix, l, "self_attn.qkv.weight");
        if (c->qkv_bias) T_(&y->qkv_b, 1, 3 * D, 0, 0, 0, TN_LAYER, prefix, l, "self_attn.qkv.bias");
        M_(&y->proj, 2, D, D, 0, 0, TN_LAYER, prefix, l, "self_attn.projection.weight");
        T_(&y->proj_b, 1, D, 0, 0, 0, TN_LAYER, prefix, l, "self_attn.projection.bias");
        T_(&y->ln2_w, 1, D, 0, 0, 0, TN_LAYER, prefix, l, "layer_norm2.weight");
        T_(&y->ln2_b, 1, D, 0, 0, 0, TN_LAYER, prefix, l, "layer_norm2.bias");
        M_(&y->fc1, 2, I, D, 0, 0, TN_LAYER, prefix, l, "mlp.fc1.weight");
        T_(&y->fc1_b, 1, I, 0, 0, 0, TN_LAYER, prefix, l, "mlp.fc1.bias");
        M_(&y->fc2, 2, D, I, 0, 0, TN_LAYER, prefix, l, "mlp.fc2.weight");
        T_(&y->fc2_b, 1, D, 0, 0, 0, TN_LAYER, prefix, l, "mlp.fc2.bias");
    }
    T_(&m->post_ln_w, 1, D, 0, 0, 0, TN_POST_LN_W, prefix);
    T_(&m->post_ln_b, 1, D, 0, 0, 0, TN_POST_LN_B, prefix);
#undef T_
#undef M_
}

/* Loader callback: keeps the first error, loads with the shape check. */
struct loader {
    const struct vb_weights * w;
    int32_t                   dt; /* resident dtype of the matrices */
    int                       rc;
};

static void load_one(void * ud, const char * name, int32_t ndim, const int64_t * shape, float ** dst,
                     struct vb_wmat * wm) {
    struct loader * L = ud;
    if (L->rc != VB_OK) return;
    if (wm)
        L->rc = vb_wmat_load(wm, L->dt, L->w, name, ndim, shape);
    else
        L->rc = vb_weights_load_f32(L->w, name, ndim, shape, dst);
}

/* Check-pass callback: the tensor exists with the config's shape (first error kept), nothing allocated. */
static void check_one(void * ud, const char * name, int32_t ndim, const int64_t * shape, float ** dst,
                      struct vb_wmat * wm) {
    (void)dst;
    (void)wm;
    struct loader * L = ud;
    if (L->rc == VB_OK) L->rc = vb_weights_check(L->w, name, ndim, shape);
}

static void count_one(void * ud, const char * name, int32_t ndim, const int64_t * shape, float ** dst,
                      struct vb_wmat * wm) {
    (void)name;
    (void)dst;
    (void)wm;
    int64_t n = 1;
    for (int32_t i = 0; i < ndim; i++)
        n *= shape[i];
    *(int64_t *)ud += n;
}

static int check_cfg(const struct vb_vision_config * cfg) {
    if (cfg->patch <= 0 || cfg->image_size <= 0 || cfg->image_size % cfg->patch != 0)
        return vb_fail(VB_ERR_ARG, "vision config: image_size %d is not a positive multiple of patch_size %d",
                       cfg->image_size, cfg->patch);
    if (cfg->hidden <= 0 || cfg->heads <= 0 || cfg->hidden % cfg->heads != 0 || cfg->layers <= 0 ||
        cfg->intermediate <= 0)
        return vb_fail(VB_ERR_ARG, "vision config: hidden %d, heads %d, layers %d, intermediate %d not usable",
                       cfg->hidden, cfg->heads, cfg->layers, cfg->intermediate);
    return VB_OK;
}

/* A model shell: config copied, derived sizes set, layers allocated, no weights. */
static struct vb_vit * vit_shell(const struct vb_vision_config * cfg) {
    struct vb_vit * m = vb_calloc(1, sizeof *m);
    m->cfg = *cfg;
    m->grid = cfg->image_size / cfg->patch;
    m->cfg.n_patches = m->grid * m->grid;
    m->cfg.n_tokens = m->cfg.n_patches + 1;
    m->patch_dim = 3 * cfg->patch * cfg->patch;
    m->layers = vb_calloc((size_t)cfg->layers, sizeof *m->layers);
    return m;
}

int64_t vb_vit_n_params(const struct vb_vision_config * cfg) {
    if (check_cfg(cfg) != VB_OK) return -1;
    struct vb_vit * m = vit_shell(cfg);
    int64_t         n = 0;
    vit_tensors(m, "", count_one, &n);
    vb_vit_free(m);
    return n;
}

int vb_vit_load(struct vb_vit ** out, const struct vb_weights * w, const struct vb_vision_config * cfg,
                const char * prefix) {
    *out = NULL;
    int rc = check_cfg(cfg);
    if (rc != VB_OK) return rc;
    struct vb_vit * m = vit_shell(cfg);
    struct loader   L = {w, cfg->weight_dtype, VB_OK};
    vit_tensors(m, prefix, check_one, &L); /* every shape the config implies, before any weight is allocated */
    if (L.rc == VB_OK) vit_tensors(m, prefix, load_one, &L);
    if (L.rc == VB_OK && !cfg->qkv_bias)
        for (int l = 0; l < cfg->layers; l++)
            m->layers[l].qkv_b = vb_calloc((size_t)(3 * cfg->hidden), sizeof(float));
    if (L.rc == VB_OK && cfg->device == VB_DEVICE_CUDA) L.rc = vb_cuda_vit_attach(m); /* CUDA: upload */
    if (L.rc != VB_OK) {
        vb_vit_free(m);
        return L.rc;
    }
    *out = m;
    return VB_OK;
}

void vb_vit_free(struct vb_vit * m) {
    if (!m) return;
    vb_cuda_vit_detach(m);
    if (m->layers)
        for (int l = 0; l < m->cfg.layers; l++) {
            struct vb_vit_layer * y = &m->layers[l];
            float * ps[] = {y->ln1_w, y->ln1_b, y->qkv_b, y->proj_b, y->ln2_w, y->ln2_b, y->fc1_b, y->fc2_b};
            for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++)
                free(ps[i]);
            vb_wmat_free(&y->qkv);
            vb_wmat_free(&y->proj);
            vb_wmat_free(&y->fc1);
            vb_wmat_free(&y->fc2);
        }
    free(m->layers);
    vb_wmat_free(&m->patch);
    free(m->patch_b);
    free(m->cls);
    free(m->pos);
    free(m->post_ln_w);
    free(m->post_ln_b);
    free(m);
}

static void bytes_one(void * ud, const char * name, int32_t ndim, const int64_t * shape, float ** dst,
                      struct vb_wmat * wm) {
    (void)name;
    int64_t n = 1;
    for (int32_t i = 0; i < ndim; i++)
        n *= shape[i];
    *(int64_t *)ud += wm ? (int64_t)vb_wmat_bytes(wm) : dst && *dst ? n * (int64_t)sizeof(float) : 0;
}

int64_t vb_vit_resident_bytes(const struct vb_vit * m) {
    int64_t n = 0;
    vit_tensors((struct vb_vit *)m, "", bytes_one, &n);
    return n;
}

int vb_vit_ctx_new(struct vb_vit_ctx ** out, const struct vb_vit * m, int32_t max_frames) {
    *out = NULL;
    if (max_frames < 1) return vb_fail(VB_ERR_ARG, "vit context: max_frames %d < 1", max_frames);
    const size_t        F = (size_t)max_frames, T = (size_t)m->cfg.n_tokens, P = (size_t)m->cfg.n_patches;
    const size_t        D = (size_t)m->cfg.hidden, I = (size_t)m->cfg.intermediate;
    struct vb_vit_ctx * c = vb_calloc(1, sizeof *c);
    c->m = m;
    c->max_frames = max_frames;
    c->cols = vb_malloc(sizeof(float) * F * P * (size_t)m->patch_dim);
    c->h = vb_malloc(sizeof(float) * F * T * D);
    c->x = vb_malloc(sizeof(float) * F * T * D);
    c->qkv = vb_malloc(sizeof(float) * F * T * 3 * D);
    c->att = vb_malloc(sizeof(float) * F * T * D);
    c->mlp = vb_malloc(sizeof(float) * F * T * I);
    *out = c;
    return VB_OK;
}

void vb_vit_ctx_free(struct vb_vit_ctx * c) {
    if (!c) return;
    free(c->cols);
    free(c->h);
    free(c->x);
    free(c->qkv);
    free(c->att);
    free(c->mlp);
    free(c);
}

/* cols row (f*P + gy*grid + gx), column (ch*p*p + ky*p + kx) = pixel (f, ch, gy*p + ky, gx*p + kx): the order of
** the conv weight [D, 3, p, p], so the patch embedding is cols (F*P, 3pp) x W^T. */
static void im2col(const struct vb_vit * m, const float * pixels, int32_t n_frames, float * cols) {
    const int64_t p = m->cfg.patch, S = m->cfg.image_size, G = m->grid, P = m->cfg.n_patches, K = m->patch_dim;
    for (int64_t f = 0; f < n_frames; f++)
        for (int64_t gy = 0; gy < G; gy++)
            for (int64_t gx = 0; gx < G; gx++) {
                float * row = cols + (f * P + gy * G + gx) * K;
                for (int64_t ch = 0; ch < 3; ch++)
                    for (int64_t ky = 0; ky < p; ky++) {
                        const float * src = pixels + ((f * 3 + ch) * S + gy * p + ky) * S + gx * p;
                        memcpy(row + (ch * p + ky) * p, src, sizeof(float) * (size_t)p);
                    }
            }
}

int vb_vit_run(struct vb_vit_ctx * c, const float * pixels, int32_t n_frames, float * embeddings, float * layer_out,
               float * body, float * ln) {
    const struct vb_vit * m = c->m;
    if (n_frames < 1 || n_frames > c->max_frames)
        return vb_fail(VB_ERR_ARG, "vit: %d frames, context holds 1..%d", n_frames, c->max_frames);
    if (m->dev) return vb_cuda_vit_run_ctx(c, pixels, n_frames, embeddings, layer_out, body, ln); /* CUDA */
    const int64_t D = m->cfg.hidden, I = m->cfg.intermediate, T = m->cfg.n_tokens, P = m->cfg.n_patches;
    const int64_t F = n_frames, R = F * T; /* R: all rows of the batch */
    const int32_t H = m->cfg.heads, dh = (int32_t)(D / H);
    const float   scale = 1.0f / sqrtf((float)dh);
    const float   eps = m->cfg.ln_eps;

    /* embeddings: one GEMM for all patches of all frames, then CLS + position embedding into h */
    im2col(m, pixels, n_frames, c->cols);
    vb_wmat_linear(c->cols, F * P, &m->patch, m->patch_b, c->att);
    for (int64_t f = 0; f < F; f++) {
        float * hf = c->h + f * T * D;
        for (int64_t j = 0; j < D; j++)
            hf[j] = m->cls[j] + m->pos[j];
        for (int64_t t = 1; t < T; t++) {
            const float * src = c->att + (f * P + t - 1) * D;
            const float * pe = m->pos + t * D;
            float *       dst = hf + t * D;
            for (int64_t j = 0; j < D; j++)
                dst[j] = src[j] + pe[j];
        }
    }
    if (embeddings) memcpy(embeddings, c->h, sizeof(float) * (size_t)(R * D));

    for (int32_t l = 0; l < m->cfg.layers; l++) {
        const struct vb_vit_layer * y = &m->layers[l];
        /* attention sub-layer */
        vb_layernorm(c->h, R, D, y->ln1_w, y->ln1_b, eps, c->x);
        vb_wmat_linear(c->x, R, &y->qkv, y->qkv_b, c->qkv);
        struct vb_attn_batch a = vb_attn_batch_self(F, T, H, dh, scale, c->qkv, c->att);
        vb_attention_batch(&a); /* every (frame, head) pair in one pool dispatch */
        vb_wmat_linear_ex(c->att, D, R, &y->proj, y->proj_b, c->h, D, 1.0f); /* h += proj(att) */
        /* MLP sub-layer */
        vb_layernorm(c->h, R, D, y->ln2_w, y->ln2_b, eps, c->x);
        vb_wmat_linear(c->x, R, &y->fc1, y->fc1_b, c->mlp);
        switch (m->cfg.act) {
        case VB_ACT_GELU_TANH:
            vb_gelu_tanh(c->mlp, R * I);
            break;
        case VB_ACT_RELU:
            vb_relu(c->mlp, R * I);
            break;
        default:
            vb_gelu_erf(c->mlp, R * I);
            break;
        }
        vb_wmat_linear_ex(c->mlp, I, R, &y->fc2, y->fc2_b, c->h, D, 1.0f); /* h += fc2(act(fc1(x))) */
        if (layer_out) memcpy(layer_out + (int64_t)l * R * D, c->h, sizeof(float) * (size_t)(R * D));
    }
    if (body) memcpy(body, c->h, sizeof(float) * (size_t)(R * D));
    if (ln) vb_layernorm(c->h, R, D, m->post_ln_w, m->post_ln_b, m->cfg.post_ln_eps, ln);
    return VB_OK;
}
