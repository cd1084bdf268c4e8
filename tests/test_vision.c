/* test_vision.c — engine/vit, engine/qformer (BLIP-2 and InstructBLIP), the language projection and the
** Frame-Prompter against naive double-precision implementations written here from the HF / ViLA recipes, on
** random-weight models whose sizes differ from every golden set (odd head widths, image not a power of two, 3
** Q-Former layers with cross-attention in 0 and 2, Q-Former width != ViT width != T5 width, padded text, 12 frames in
** 3 segments), written with vb_st_writer and loaded through the normal loaders; the ViT at the ViT-g's attention
** shape (257 tokens, head width 88) with each attention kernel and 1 / 2 threads (run with OpenBLAS's SkylakeX core
** on an AVX-512 CPU, as vlapbench).  Also: seeded uniform generator, Gumbel noise formula, argmax ties, bad
** arguments. */
#include <setjmp.h> /* cmocka.h needs these four first */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/common.h"
#include "engine/attn_small.h"
#include "engine/blas.h"
#include "engine/config.h"
#include "engine/frame_prompter.h"
#include "engine/pool.h"
#include "engine/qformer.h"
#include "engine/vit.h"
#include "engine/weights.h"
#include "engine/wmat.h"
#include "tests/helpers.h"

char * openblas_get_corename(void); /* OpenBLAS */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------------ random weights kept for the reference */

static uint64_t rng_state = 0x243F6A8885A308D3ull;
static double   urand(void) {
      return test_urand(&rng_state);
}
static double nrand(void) {
    return sqrt(-2.0 * log(urand())) * cos(6.283185307179586 * urand());
}

#define MAX_T 256
struct bank {
    int     n;
    char *  name[MAX_T];
    float * v[MAX_T];
    int64_t numel[MAX_T];
};

/* Add a random tensor (mean + sd * N(0,1)) to the writer and keep a copy in the bank. */
static void add(struct bank * B, struct vb_st_writer * sw, const char * name, int32_t nd, const int64_t * shape,
                double mean, double sd) {
    int64_t n = 1;
    for (int32_t i = 0; i < nd; i++)
        n *= shape[i];
    float * v = malloc(sizeof(float) * (size_t)n);
    for (int64_t i = 0; i < n; i++)
        v[i] = (float)(mean + sd * nrand());
    vb_st_writer_add(sw, name, VB_DT_F32, nd, shape, v);
    assert_true(B->n < MAX_T);
    B->name[B->n] = strdup(name);
    B->v[B->n] = v;
    B->numel[B->n] = n;
    B->n++;
}
static void add1(struct bank * B, struct vb_st_writer * sw, const char * name, int64_t a, double mean, double sd) {
    add(B, sw, name, 1, &a, mean, sd);
}
static void add2(struct bank * B, struct vb_st_writer * sw, const char * name, int64_t a, int64_t b, double mean,
                 double sd) {
    int64_t s[2] = {a, b};
    add(B, sw, name, 2, s, mean, sd);
}

static const float * W(const struct bank * B, const char * fmt, ...) {
    char    n[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(n, sizeof n, fmt, ap);
    va_end(ap);
    for (int i = 0; i < B->n; i++)
        if (!strcmp(B->name[i], n)) return B->v[i];
    fail_msg("reference weight %s not in the bank", n);
    return NULL;
}

static void bank_free(struct bank * B) {
    for (int i = 0; i < B->n; i++) {
        free(B->name[i]);
        free(B->v[i]);
    }
    B->n = 0;
}

static void tmp_path(char * buf, size_t len, const char * tag) {
    const char * t = getenv("TMPDIR");
    snprintf(buf, len, "%s/vb_test_vision_%d_%s.safetensors", t ? t : "/tmp", (int)getpid(), tag);
}

/* max |got - ref| <= 1e-4 * max(1, max|ref|), the golden tolerance */
static void expect_close(const char * what, const float * got, const double * ref, int64_t n) {
    double  maxref = 0, err = 0;
    int64_t worst = 0;
    for (int64_t i = 0; i < n; i++) {
        if (fabs(ref[i]) > maxref) maxref = fabs(ref[i]);
        double e = fabs((double)got[i] - ref[i]);
        if (!(e <= err)) {
            err = e;
            worst = i;
        }
    }
    double tol = 1e-4 * (maxref > 1 ? maxref : 1);
    if (!(err <= tol))
        fail_msg("%s: max error %.3g > %.3g at %lld (got %.6g, ref %.6g)", what, err, tol, (long long)worst, got[worst],
                 ref[worst]);
    print_message("%s: max error %.3g (tol %.3g) over %lld values\n", what, err, tol, (long long)n);
}

/* ------------------------------------------------------------------ naive double kernels */

static void d_linear(const double * x, int64_t n, int64_t in, const float * w, const float * b, int64_t out,
                     double * y) {
    for (int64_t i = 0; i < n; i++)
        for (int64_t o = 0; o < out; o++) {
            double s = b ? b[o] : 0;
            for (int64_t j = 0; j < in; j++)
                s += x[i * in + j] * (double)w[o * in + j];
            y[i * out + o] = s;
        }
}
static void d_layernorm(const double * x, int64_t n, int64_t d, const float * w, const float * b, double eps,
                        double * y) {
    for (int64_t i = 0; i < n; i++) {
        double m = 0, v = 0;
        for (int64_t j = 0; j < d; j++)
            m += x[i * d + j];
        m /= (double)d;
        for (int64_t j = 0; j < d; j++)
            v += (x[i * d + j] - m) * (x[i * d + j] - m);
        v /= (double)d;
        for (int64_t j = 0; j < d; j++)
            y[i * d + j] = (x[i * d + j] - m) / sqrt(v + eps) * w[j] + b[j];
    }
}
static void d_gelu(double * x, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        x[i] = 0.5 * x[i] * (1 + erf(x[i] / sqrt(2.0)));
}
/* multi-head attention: q (nq, ldq), k/v (nk, ldk) rows; head h at h*dh; key_add (nk) nullable; out (nq, H*dh) */
static void d_attention(const double * q, int64_t ldq, const double * k, const double * v, int64_t ldkv, int64_t nq,
                        int64_t nk, int H, int dh, const double * key_add, double * out) {
    double * s = malloc(sizeof(double) * (size_t)nk);
    for (int h = 0; h < H; h++)
        for (int64_t i = 0; i < nq; i++) {
            double mx = -INFINITY, sum = 0;
            for (int64_t j = 0; j < nk; j++) {
                double d = 0;
                for (int e = 0; e < dh; e++)
                    d += q[i * ldq + h * dh + e] * k[j * ldkv + h * dh + e];
                s[j] = d / sqrt((double)dh) + (key_add ? key_add[j] : 0);
                if (s[j] > mx) mx = s[j];
            }
            for (int64_t j = 0; j < nk; j++)
                sum += (s[j] = exp(s[j] - mx));
            for (int e = 0; e < dh; e++) {
                double o = 0;
                for (int64_t j = 0; j < nk; j++)
                    o += s[j] / sum * v[j * ldkv + h * dh + e];
                out[i * H * dh + h * dh + e] = o;
            }
        }
    free(s);
}

/* ------------------------------------------------------------------ ViT */

static struct vb_vision_config vit_cfg(void) {
    struct vb_model_config mc;
    vb_config_defaults(&mc, VB_ARCH_BLIP2);
    struct vb_vision_config c = mc.vision;
    c.hidden = 24;
    c.heads = 3; /* head width 8 */
    c.layers = 3;
    c.intermediate = 40;
    c.image_size = 15;
    c.patch = 5; /* 3x3 grid, 10 tokens */
    c.ln_eps = 1e-6f;
    c.post_ln_eps = 1e-5f; /* LAVIS ln_vision: differs from the block eps on purpose */
    c.n_patches = 9;
    c.n_tokens = 10;
    return c;
}

static void write_vit(struct bank * B, struct vb_st_writer * sw, const struct vb_vision_config * c, const char * P) {
    const int64_t D = c->hidden, I = c->intermediate, T = c->n_tokens, p = c->patch;
    char          n[256];
    int64_t       s3[3] = {1, 1, D}, s3p[3] = {1, T, D}, s4[4] = {D, 3, p, p};
    snprintf(n, sizeof n, "%sembeddings.class_embedding", P);
    add(B, sw, n, 3, s3, 0, 0.5);
    snprintf(n, sizeof n, "%sembeddings.position_embedding", P);
    add(B, sw, n, 3, s3p, 0, 0.5);
    snprintf(n, sizeof n, "%sembeddings.patch_embedding.weight", P);
    add(B, sw, n, 4, s4, 0, 1.0 / sqrt(3.0 * p * p));
    snprintf(n, sizeof n, "%sembeddings.patch_embedding.bias", P);
    add1(B, sw, n, D, 0, 0.1);
    for (int l = 0; l < c->layers; l++) {
#define LN(what, a, b_, mean, sd)                                                                                      \
    do {                                                                                                               \
        snprintf(n, sizeof n, "%sencoder.layers.%d.%s", P, l, what);                                                   \
        if ((b_) > 0)                                                                                                  \
            add2(B, sw, n, a, b_, mean, sd);                                                                           \
        else                                                                                                           \
            add1(B, sw, n, a, mean, sd);                                                                               \
    } while (0)
        LN("layer_norm1.weight", D, 0, 1, 0.1);
        LN("layer_norm1.bias", D, 0, 0, 0.1);
        LN("self_attn.qkv.weight", 3 * D, D, 0, 1 / sqrt((double)D));
        LN("self_attn.qkv.bias", 3 * D, 0, 0, 0.1);
        LN("self_attn.projection.weight", D, D, 0, 1 / sqrt((double)D));
        LN("self_attn.projection.bias", D, 0, 0, 0.1);
        LN("layer_norm2.weight", D, 0, 1, 0.1);
        LN("layer_norm2.bias", D, 0, 0, 0.1);
        LN("mlp.fc1.weight", I, D, 0, 1 / sqrt((double)D));
        LN("mlp.fc1.bias", I, 0, 0, 0.1);
        LN("mlp.fc2.weight", D, I, 0, 1 / sqrt((double)I));
        LN("mlp.fc2.bias", D, 0, 0, 0.1);
#undef LN
    }
    snprintf(n, sizeof n, "%spost_layernorm.weight", P);
    add1(B, sw, n, D, 1, 0.1);
    snprintf(n, sizeof n, "%spost_layernorm.bias", P);
    add1(B, sw, n, D, 0, 0.1);
}

/* HF Blip2VisionModel in double: returns body (F, T, D) and ln (F, T, D). */
static void ref_vit(const struct bank * B, const struct vb_vision_config * c, const char * P, const float * px, int F,
                    double * body, double * ln) {
    const int64_t D = c->hidden, I = c->intermediate, T = c->n_tokens, p = c->patch, S = c->image_size, G = S / p;
    const int     H = c->heads, dh = (int)(D / H);
    double *      x = malloc(sizeof(double) * (size_t)(T * D));
    double *      qkv = malloc(sizeof(double) * (size_t)(T * 3 * D));
    double *      a = malloc(sizeof(double) * (size_t)(T * D));
    double *      o = malloc(sizeof(double) * (size_t)(T * D));
    double *      m = malloc(sizeof(double) * (size_t)(T * I));
    const float * cls = W(B, "%sembeddings.class_embedding", P);
    const float * pos = W(B, "%sembeddings.position_embedding", P);
    const float * pw = W(B, "%sembeddings.patch_embedding.weight", P);
    const float * pb = W(B, "%sembeddings.patch_embedding.bias", P);
    for (int f = 0; f < F; f++) {
        double * h = body + (int64_t)f * T * D;
        for (int64_t d = 0; d < D; d++)
            h[d] = (double)cls[d] + pos[d];
        for (int64_t gy = 0; gy < G; gy++)
            for (int64_t gx = 0; gx < G; gx++)
                for (int64_t d = 0; d < D; d++) {
                    double s = pb[d];
                    for (int ch = 0; ch < 3; ch++)
                        for (int64_t ky = 0; ky < p; ky++)
                            for (int64_t kx = 0; kx < p; kx++)
                                s += (double)pw[((d * 3 + ch) * p + ky) * p + kx] *
                                     px[((f * 3 + ch) * S + gy * p + ky) * S + gx * p + kx];
                    int64_t t = 1 + gy * G + gx;
                    h[t * D + d] = s + pos[t * D + d];
                }
        for (int l = 0; l < c->layers; l++) {
#define LW(what) W(B, "%sencoder.layers.%d.%s", P, l, what)
            d_layernorm(h, T, D, LW("layer_norm1.weight"), LW("layer_norm1.bias"), c->ln_eps, x);
            d_linear(x, T, D, LW("self_attn.qkv.weight"), LW("self_attn.qkv.bias"), 3 * D, qkv);
            d_attention(qkv, 3 * D, qkv + D, qkv + 2 * D, 3 * D, T, T, H, dh, NULL, a);
            d_linear(a, T, D, LW("self_attn.projection.weight"), LW("self_attn.projection.bias"), D, o);
            for (int64_t i = 0; i < T * D; i++)
                h[i] += o[i];
            d_layernorm(h, T, D, LW("layer_norm2.weight"), LW("layer_norm2.bias"), c->ln_eps, x);
            d_linear(x, T, D, LW("mlp.fc1.weight"), LW("mlp.fc1.bias"), I, m);
            d_gelu(m, T * I);
            d_linear(m, T, I, LW("mlp.fc2.weight"), LW("mlp.fc2.bias"), D, o);
            for (int64_t i = 0; i < T * D; i++)
                h[i] += o[i];
#undef LW
        }
        d_layernorm(h, T, D, W(B, "%spost_layernorm.weight", P), W(B, "%spost_layernorm.bias", P), c->post_ln_eps,
                    ln + (int64_t)f * T * D);
    }
    free(x);
    free(qkv);
    free(a);
    free(o);
    free(m);
}

static float * rand_floats(int64_t n, double sd) {
    float * v = malloc(sizeof(float) * (size_t)n);
    for (int64_t i = 0; i < n; i++)
        v[i] = (float)(sd * nrand());
    return v;
}

static void test_vit_vs_reference(void ** state) {
    (void)state;
    struct vb_vision_config c = vit_cfg();
    struct bank             B = {0};
    struct vb_st_writer *   sw = vb_st_writer_new();
    write_vit(&B, sw, &c, "vm.");
    char path[512];
    tmp_path(path, sizeof path, "vit");
    assert_int_equal(vb_st_writer_write(sw, path), VB_OK);
    vb_st_writer_free(sw);
    struct vb_weights * w = NULL;
    assert_int_equal(vb_weights_open(&w, path), VB_OK);
    struct vb_vit * vit = NULL;
    int             rc = vb_vit_load(&vit, w, &c, "vm.");
    if (rc != VB_OK) fail_msg("%s", vb_errmsg());
    assert_int_equal(vit->cfg.n_tokens, 10);
    const int           F = 3;
    const int64_t       T = 10, D = c.hidden, per = F * T * D;
    float *             px = rand_floats((int64_t)F * 3 * c.image_size * c.image_size, 1.0);
    struct vb_vit_ctx * ctx = NULL;
    assert_int_equal(vb_vit_ctx_new(&ctx, vit, 4), VB_OK); /* larger than the batch used */
    float * body = malloc(sizeof(float) * (size_t)per);
    float * ln = malloc(sizeof(float) * (size_t)per);
    float * layers = malloc(sizeof(float) * (size_t)(per * c.layers));
    assert_int_equal(vb_vit_run(ctx, px, F, NULL, layers, body, ln), VB_OK);
    double * rbody = malloc(sizeof(double) * (size_t)per);
    double * rln = malloc(sizeof(double) * (size_t)per);
    ref_vit(&B, &c, "vm.", px, F, rbody, rln);
    expect_close("vit body", body, rbody, per);
    expect_close("vit ln", ln, rln, per);
    assert_memory_equal(layers + (c.layers - 1) * per, body, sizeof(float) * (size_t)per);
    /* a single frame alone gives the same numbers as in the batch, bit for bit (every kernel's output row depends only
    ** on its own row; the runner batches the missing frames of a cell and relies on this) */
    float * one = malloc(sizeof(float) * (size_t)(T * D));
    assert_int_equal(vb_vit_run(ctx, px + 2 * 3 * c.image_size * c.image_size, 1, NULL, NULL, NULL, one), VB_OK);
    expect_close("vit frame 2 alone", one, rln + 2 * T * D, T * D);
    assert_memory_equal(one, ln + 2 * T * D, sizeof(float) * (size_t)(T * D));
    float * two = malloc(sizeof(float) * (size_t)(2 * T * D)); /* frames 1, 2 as a batch of 2 */
    assert_int_equal(vb_vit_run(ctx, px + 1 * 3 * c.image_size * c.image_size, 2, NULL, NULL, NULL, two), VB_OK);
    assert_memory_equal(two, ln + 1 * T * D, sizeof(float) * (size_t)(2 * T * D));
    free(two);
    /* too many frames for the context */
    assert_int_equal(vb_vit_run(ctx, px, 5, NULL, NULL, body, NULL), VB_ERR_ARG);
    free(one);
    free(body);
    free(ln);
    free(layers);
    free(rbody);
    free(rln);
    free(px);
    vb_vit_ctx_free(ctx);
    vb_vit_free(vit);
    vb_weights_close(w);
    bank_free(&B);
    unlink(path);
}

/* ViT output ln (F, T, D) of pixels with the attention kernel kern ("blas", or NULL: the default) on `threads` threads
 */
static float * vit_ln(struct vb_vit_ctx * ctx, const float * px, int F, const char * kern, int threads) {
    if (kern)
        setenv("VB_ATTN_KERNEL", kern, 1);
    else
        unsetenv("VB_ATTN_KERNEL");
    vb_pool_set_threads(threads);
    const int64_t n = (int64_t)F * ctx->m->cfg.n_tokens * ctx->m->cfg.hidden;
    float *       ln = malloc(sizeof(float) * (size_t)n);
    assert_int_equal(vb_vit_run(ctx, px, F, NULL, NULL, NULL, ln), VB_OK);
    return ln;
}

/* The ViT's attention is one vb_attention_batch over all frames of the call.  At the ViT-g's attention shape (257
** tokens, head width 88) the default kernel (avx512 where the CPU has AVX-512 F) gives the bits of the blas kernel
** (VB_ATTN_KERNEL=blas: per head OpenBLAS sgemm and ops.c's softmax rows, the ViT's attention before the batch) with
** OpenBLAS's SkylakeX core, and stays within 1e-5 of the largest value with another core; 1 and 2 threads give the
** same bits; under VB_WMAT_KERNEL=avx2 (the AVX2-only machines' path) the attention takes the blas kernel; the output
** is within the golden tolerance of the double-precision reference. */
static void test_vit_attention_kernels(void ** state) {
    (void)state;
    struct vb_vision_config c = vit_cfg();
    c.hidden = 176; /* 2 heads of 88 */
    c.heads = 2;
    c.layers = 1;
    c.intermediate = 64;
    c.image_size = 224;
    c.patch = 14; /* 16 x 16 grid, 257 tokens */
    c.n_patches = 256;
    c.n_tokens = 257;
    struct bank           B = {0};
    struct vb_st_writer * sw = vb_st_writer_new();
    write_vit(&B, sw, &c, "vm.");
    char path[512];
    tmp_path(path, sizeof path, "vit257");
    assert_int_equal(vb_st_writer_write(sw, path), VB_OK);
    vb_st_writer_free(sw);
    struct vb_weights * w = NULL;
    assert_int_equal(vb_weights_open(&w, path), VB_OK);
    struct vb_vit * vit = NULL;
    if (vb_vit_load(&vit, w, &c, "vm.") != VB_OK) fail_msg("%s", vb_errmsg());
    const int           F = 2;
    const int64_t       n = (int64_t)F * c.n_tokens * c.hidden;
    float *             px = rand_floats((int64_t)F * 3 * c.image_size * c.image_size, 1.0);
    struct vb_vit_ctx * ctx = NULL;
    assert_int_equal(vb_vit_ctx_new(&ctx, vit, F), VB_OK);
    unsetenv("VB_WMAT_KERNEL");
    float *     blas1 = vit_ln(ctx, px, F, "blas", 1), *blas2 = vit_ln(ctx, px, F, "blas", 2);
    float *     def1 = vit_ln(ctx, px, F, NULL, 1), *def2 = vit_ln(ctx, px, F, NULL, 2);
    const char *kern = vb_attention_batch_kernel(88), *core = openblas_get_corename();
    assert_memory_equal(blas1, blas2, sizeof(float) * (size_t)n);
    assert_memory_equal(def1, def2, sizeof(float) * (size_t)n);
    double mx = 0, err = 0;
    for (int64_t i = 0; i < n; i++) {
        mx = fmax(mx, fabs(blas1[i]));
        err = fmax(err, fabs((double)def1[i] - blas1[i]));
    }
    const int same = !memcmp(def1, blas1, sizeof(float) * (size_t)n);
    print_message("vit attention kernel %s, OpenBLAS core %s: %s the blas kernel (max deviation %.3g of max %.3g)\n",
                  kern, core ? core : "?", same ? "the bits of" : "differs from", err, mx);
    if (!strcmp(kern, "avx512") && core && !strcmp(core, "SkylakeX") && !same)
        fail_msg("vit: the avx512 attention kernel does not give the blas kernel's bits (max deviation %.3g)", err);
    if (!(err <= 1e-5 * mx)) fail_msg("vit: default attention kernel deviates %.3g from blas (max %.3g)", err, mx);
    /* the AVX2-only machines' path */
    if (vb_wmat_kernel_available("avx2", NULL) == 1) {
        setenv("VB_WMAT_KERNEL", "avx2", 1);
        assert_string_equal(vb_attention_batch_kernel(88), "blas");
        float *a2 = vit_ln(ctx, px, F, NULL, 2), *a2b = vit_ln(ctx, px, F, "blas", 1);
        assert_memory_equal(a2, a2b, sizeof(float) * (size_t)n);
        free(a2), free(a2b);
        unsetenv("VB_WMAT_KERNEL");
    } else {
        print_message("note: no AVX2 kernel on this CPU: VB_WMAT_KERNEL=avx2 not checked\n");
    }
    unsetenv("VB_ATTN_KERNEL");
    vb_pool_set_threads(1);
    /* against the double-precision reference */
    double *rbody = malloc(sizeof(double) * (size_t)n), *rln = malloc(sizeof(double) * (size_t)n);
    ref_vit(&B, &c, "vm.", px, F, rbody, rln);
    expect_close("vit 257 tokens ln", def1, rln, n);
    free(rbody), free(rln);
    free(blas1), free(blas2), free(def1), free(def2), free(px);
    vb_vit_ctx_free(ctx);
    vb_vit_free(vit);
    vb_weights_close(w);
    bank_free(&B);
    unlink(path);
}

/* ------------------------------------------------------------------ Q-Former */

static struct vb_qformer_config qf_cfg(int has_text) {
    struct vb_model_config mc;
    vb_config_defaults(&mc, has_text ? VB_ARCH_INSTRUCTBLIP : VB_ARCH_BLIP2);
    struct vb_qformer_config q = mc.qformer;
    q.hidden = 20;
    q.heads = 4; /* head width 5 */
    q.layers = 3;
    q.intermediate = 28;
    q.cross_freq = 2; /* layers 0 and 2 */
    q.encoder_hidden = 24;
    q.vocab = 30;
    q.max_pos = 16;
    q.ln_eps = 1e-12f;
    q.has_text = has_text;
    return q;
}

static void write_qformer(struct bank * B, struct vb_st_writer * sw, const struct vb_qformer_config * q, int Q,
                          const char * P, int d_model) {
    const int64_t D = q->hidden, I = q->intermediate, Dv = q->encoder_hidden;
    char          n[256];
    int64_t       sq[3] = {1, Q, D};
    snprintf(n, sizeof n, "%squery_tokens", P);
    add(B, sw, n, 3, sq, 0, 1);
    const char * ln = q->has_text ? "qformer.embeddings.layernorm" : "qformer.layernorm";
    snprintf(n, sizeof n, "%s%s.weight", P, ln);
    add1(B, sw, n, D, 1, 0.1);
    snprintf(n, sizeof n, "%s%s.bias", P, ln);
    add1(B, sw, n, D, 0, 0.1);
    if (q->has_text) {
        snprintf(n, sizeof n, "%sqformer.embeddings.word_embeddings.weight", P);
        add2(B, sw, n, q->vocab, D, 0, 1);
        snprintf(n, sizeof n, "%sqformer.embeddings.position_embeddings.weight", P);
        add2(B, sw, n, q->max_pos, D, 0, 0.5);
    }
    for (int l = 0; l < q->layers; l++) {
#define LIN(base, out, in)                                                                                             \
    do {                                                                                                               \
        snprintf(n, sizeof n, "%sqformer.encoder.layer.%d.%s.weight", P, l, base);                                     \
        add2(B, sw, n, out, in, 0, 1 / sqrt((double)(in)));                                                            \
        snprintf(n, sizeof n, "%sqformer.encoder.layer.%d.%s.bias", P, l, base);                                       \
        add1(B, sw, n, out, 0, 0.1);                                                                                   \
    } while (0)
#define NORM(base)                                                                                                     \
    do {                                                                                                               \
        snprintf(n, sizeof n, "%sqformer.encoder.layer.%d.%s.weight", P, l, base);                                     \
        add1(B, sw, n, D, 1, 0.1);                                                                                     \
        snprintf(n, sizeof n, "%sqformer.encoder.layer.%d.%s.bias", P, l, base);                                       \
        add1(B, sw, n, D, 0, 0.1);                                                                                     \
    } while (0)
        LIN("attention.attention.query", D, D);
        LIN("attention.attention.key", D, D);
        LIN("attention.attention.value", D, D);
        LIN("attention.output.dense", D, D);
        NORM("attention.output.LayerNorm");
        if (l % q->cross_freq == 0) {
            LIN("crossattention.attention.query", D, D);
            LIN("crossattention.attention.key", D, Dv);
            LIN("crossattention.attention.value", D, Dv);
            LIN("crossattention.output.dense", D, D);
            NORM("crossattention.output.LayerNorm");
        }
        LIN("intermediate_query.dense", I, D);
        LIN("output_query.dense", D, I);
        NORM("output_query.LayerNorm");
        if (q->has_text) {
            LIN("intermediate.dense", I, D);
            LIN("output.dense", D, I);
            NORM("output.LayerNorm");
        }
#undef LIN
#undef NORM
    }
    snprintf(n, sizeof n, "%slanguage_projection.weight", P);
    add2(B, sw, n, d_model, D, 0, 1 / sqrt((double)D));
    snprintf(n, sizeof n, "%slanguage_projection.bias", P);
    add1(B, sw, n, d_model, 0, 0.1);
}

/* HF Q-Former for one row in double: image (N, Dv), ids/mask (L) -> out (Q + L, D) (last_hidden_state). */
static void ref_qformer_row(const struct bank * B, const struct vb_qformer_config * q, int Q, const char * P,
                            const float * image, int64_t N, const int32_t * ids, const int32_t * mask, int64_t L,
                            double * h) {
    const int64_t D = q->hidden, I = q->intermediate, Dv = q->encoder_hidden, S = Q + L;
    const int     H = q->heads, dh = (int)(D / H);
    double *      x = malloc(sizeof(double) * (size_t)(S * 3 * D));
    double *      a = malloc(sizeof(double) * (size_t)(S * D));
    double *      o = malloc(sizeof(double) * (size_t)(S * D));
    double *      m = malloc(sizeof(double) * (size_t)(S * I));
    double *      img = malloc(sizeof(double) * (size_t)(N * Dv));
    double *      kv = malloc(sizeof(double) * (size_t)(N * 2 * D));
    double *      add_mask = malloc(sizeof(double) * (size_t)S);
    for (int64_t i = 0; i < N * Dv; i++)
        img[i] = image[i];
    const float * qt = W(B, "%squery_tokens", P);
    for (int64_t i = 0; i < Q * D; i++)
        h[i] = qt[i];
    for (int64_t j = 0; j < L; j++)
        for (int64_t d = 0; d < D; d++)
            h[(Q + j) * D + d] = (double)W(B, "%sqformer.embeddings.word_embeddings.weight", P)[ids[j] * D + d] +
                                 W(B, "%sqformer.embeddings.position_embeddings.weight", P)[j * D + d];
    for (int64_t i = 0; i < S; i++)
        add_mask[i] = (i < Q || !mask || mask[i - Q]) ? 0.0 : -10000.0;
    const char * ln = q->has_text ? "qformer.embeddings.layernorm" : "qformer.layernorm";
    d_layernorm(h, S, D, W(B, "%s%s.weight", P, ln), W(B, "%s%s.bias", P, ln), q->ln_eps, h);
    for (int l = 0; l < q->layers; l++) {
#define LW(what) W(B, "%sqformer.encoder.layer.%d.%s", P, l, what)
        /* self-attention: separate q, k, v as HF stores them */
        double *qq = x, *kk = x + S * D, *vv = x + 2 * S * D;
        d_linear(h, S, D, LW("attention.attention.query.weight"), LW("attention.attention.query.bias"), D, qq);
        d_linear(h, S, D, LW("attention.attention.key.weight"), LW("attention.attention.key.bias"), D, kk);
        d_linear(h, S, D, LW("attention.attention.value.weight"), LW("attention.attention.value.bias"), D, vv);
        /* k and v are (S, D) each: pass them with ld D */
        d_attention(qq, D, kk, vv, D, S, S, H, dh, add_mask, a);
        d_linear(a, S, D, LW("attention.output.dense.weight"), LW("attention.output.dense.bias"), D, o);
        for (int64_t i = 0; i < S * D; i++)
            o[i] += h[i];
        d_layernorm(o, S, D, LW("attention.output.LayerNorm.weight"), LW("attention.output.LayerNorm.bias"), q->ln_eps,
                    h);
        if (l % q->cross_freq == 0) {
            d_linear(h, Q, D, LW("crossattention.attention.query.weight"), LW("crossattention.attention.query.bias"), D,
                     qq);
            double *ck = kv, *cv = kv + N * D;
            d_linear(img, N, Dv, LW("crossattention.attention.key.weight"), LW("crossattention.attention.key.bias"), D,
                     ck);
            d_linear(img, N, Dv, LW("crossattention.attention.value.weight"), LW("crossattention.attention.value.bias"),
                     D, cv);
            d_attention(qq, D, ck, cv, D, Q, N, H, dh, NULL, a);
            d_linear(a, Q, D, LW("crossattention.output.dense.weight"), LW("crossattention.output.dense.bias"), D, o);
            for (int64_t i = 0; i < Q * D; i++)
                o[i] += h[i];
            d_layernorm(o, Q, D, LW("crossattention.output.LayerNorm.weight"),
                        LW("crossattention.output.LayerNorm.bias"), q->ln_eps, h);
        }
        for (int part = 0; part < 2; part++) {
            int64_t r0 = part ? Q : 0, nr = part ? L : Q;
            if (nr == 0) continue;
            const char * it = part ? "intermediate.dense" : "intermediate_query.dense";
            const char * ot = part ? "output.dense" : "output_query.dense";
            const char * on = part ? "output.LayerNorm" : "output_query.LayerNorm";
            char         b1[96], b2[96];
            snprintf(b1, sizeof b1, "%s.weight", it);
            snprintf(b2, sizeof b2, "%s.bias", it);
            d_linear(h + r0 * D, nr, D, LW(b1), LW(b2), I, m);
            d_gelu(m, nr * I);
            snprintf(b1, sizeof b1, "%s.weight", ot);
            snprintf(b2, sizeof b2, "%s.bias", ot);
            d_linear(m, nr, I, LW(b1), LW(b2), D, o);
            for (int64_t i = 0; i < nr * D; i++)
                o[i] += h[r0 * D + i];
            snprintf(b1, sizeof b1, "%s.weight", on);
            snprintf(b2, sizeof b2, "%s.bias", on);
            d_layernorm(o, nr, D, LW(b1), LW(b2), q->ln_eps, h + r0 * D);
        }
#undef LW
    }
    free(x);
    free(a);
    free(o);
    free(m);
    free(img);
    free(kv);
    free(add_mask);
}

static void run_qformer_test(int has_text, const char * P) {
    struct vb_vision_config  vc = vit_cfg();
    struct vb_qformer_config qc = qf_cfg(has_text);
    const int                Q = 3, d_model = 12;
    struct bank              B = {0};
    struct vb_st_writer *    sw = vb_st_writer_new();
    write_vit(&B, sw, &vc, "vision_model.");
    write_qformer(&B, sw, &qc, Q, P, d_model);
    char path[512];
    tmp_path(path, sizeof path, has_text ? "qf_text" : "qf");
    assert_int_equal(vb_st_writer_write(sw, path), VB_OK);
    vb_st_writer_free(sw);
    struct vb_weights * w = NULL;
    assert_int_equal(vb_weights_open(&w, path), VB_OK);

    /* image tokens: the ViT's post-LN output of 2 frames, as in the pipeline */
    const int           Bn = 2;
    const int64_t       N = vc.n_tokens, Dv = vc.hidden, D = qc.hidden;
    struct vb_vit *     vit = NULL;
    struct vb_vit_ctx * vctx = NULL;
    assert_int_equal(vb_vit_load(&vit, w, &vc, "vision_model."), VB_OK);
    assert_int_equal(vb_vit_ctx_new(&vctx, vit, Bn), VB_OK);
    float * px = rand_floats((int64_t)Bn * 3 * vc.image_size * vc.image_size, 1.0);
    float * image = malloc(sizeof(float) * (size_t)(Bn * N * Dv));
    assert_int_equal(vb_vit_run(vctx, px, Bn, NULL, NULL, NULL, image), VB_OK);

    const int32_t       L = has_text ? 5 : 0;
    int32_t             ids[10] = {1, 7, 29, 3, 2, 1, 12, 2, 0, 0};
    int32_t             mask[10] = {1, 1, 1, 1, 1, 1, 1, 1, 0, 0}; /* row 1 right-padded */
    struct vb_qformer * qf = NULL;
    int                 rc = vb_qformer_load(&qf, w, &qc, Q, P);
    if (rc != VB_OK) fail_msg("%s", vb_errmsg());
    struct vb_qformer_ctx * ctx = NULL;
    assert_int_equal(vb_qformer_ctx_new(&ctx, qf, Bn + 1, has_text ? L + 2 : 0, (int32_t)N + 3), VB_OK);
    const int64_t S = Q + L;
    float *       full = malloc(sizeof(float) * (size_t)(Bn * S * D));
    float *       qout = malloc(sizeof(float) * (size_t)(Bn * Q * D));
    float *       layers = malloc(sizeof(float) * (size_t)(qc.layers * Bn * S * D));
    rc = vb_qformer_run(ctx, image, Bn, (int32_t)N, L ? ids : NULL, L ? mask : NULL, L, qout, full, NULL, layers);
    assert_int_equal(rc, VB_OK);
    double * ref = malloc(sizeof(double) * (size_t)(Bn * S * D));
    for (int b = 0; b < Bn; b++)
        ref_qformer_row(&B, &qc, Q, P, image + b * N * Dv, N, ids + b * L, mask + b * L, L, ref + b * S * D);
    expect_close(has_text ? "qformer+text last_hidden_state" : "qformer last_hidden_state", full, ref, Bn * S * D);
    assert_memory_equal(layers + (qc.layers - 1) * Bn * S * D, full, sizeof(float) * (size_t)(Bn * S * D));
    for (int b = 0; b < Bn; b++)
        assert_memory_equal(qout + b * Q * D, full + b * S * D, sizeof(float) * (size_t)(Q * D));

    if (has_text) {
        /* the padded row alone without padding gives the same query output (the -10000 mask zeroes the keys) */
        float * q1 = malloc(sizeof(float) * (size_t)(Q * D));
        assert_int_equal(vb_qformer_run(ctx, image + N * Dv, 1, (int32_t)N, ids + L, NULL, 3, q1, NULL, NULL, NULL),
                         VB_OK);
        double * r1 = malloc(sizeof(double) * (size_t)(Q * D));
        for (int64_t i = 0; i < Q * D; i++)
            r1[i] = ref[S * D + i];
        expect_close("qformer padded row vs unpadded", q1, r1, Q * D);
        free(q1);
        free(r1);
        /* an id outside the vocabulary is an error, not a crash */
        int32_t bad[5] = {1, 2, 30, 4, 5};
        assert_int_equal(vb_qformer_run(ctx, image, 1, (int32_t)N, bad, NULL, 5, qout, NULL, NULL, NULL), VB_ERR_ARG);
        assert_non_null(strstr(vb_errmsg(), "outside the vocabulary"));
    }

    /* projection */
    char pn[128];
    snprintf(pn, sizeof pn, "%slanguage_projection", P);
    struct vb_projection * proj = NULL;
    assert_int_equal(vb_projection_load(&proj, w, pn, (int32_t)D, d_model), VB_OK);
    float * y = malloc(sizeof(float) * (size_t)(Bn * Q * d_model));
    vb_projection_run(proj, qout, Bn * Q, y);
    double * ry = malloc(sizeof(double) * (size_t)(Bn * Q * d_model));
    double * rq = malloc(sizeof(double) * (size_t)(Bn * Q * D));
    for (int b = 0; b < Bn; b++)
        for (int64_t i = 0; i < Q * D; i++)
            rq[b * Q * D + i] = ref[b * S * D + i];
    d_linear(rq, Bn * Q, D, W(&B, "%s.weight", pn), W(&B, "%s.bias", pn), d_model, ry);
    expect_close("projection", y, ry, Bn * Q * d_model);
    /* a projection with the wrong width is a shape error naming the tensor */
    struct vb_projection * bad = NULL;
    assert_int_equal(vb_projection_load(&bad, w, pn, (int32_t)D + 1, d_model), VB_ERR_SHAPE);
    assert_non_null(strstr(vb_errmsg(), "language_projection.weight"));
    assert_null(bad);

    free(y);
    free(ry);
    free(rq);
    vb_projection_free(proj);
    free(full);
    free(qout);
    free(layers);
    free(ref);
    free(px);
    free(image);
    vb_qformer_ctx_free(ctx);
    vb_qformer_free(qf);
    vb_vit_ctx_free(vctx);
    vb_vit_free(vit);
    vb_weights_close(w);
    bank_free(&B);
    unlink(path);
}

static void test_qformer_blip2(void ** state) {
    (void)state;
    run_qformer_test(0, "");
}
static void test_qformer_instruct_localizer_prefix(void ** state) {
    (void)state;
    run_qformer_test(1, "localizer.");
}

/* ------------------------------------------------------------------ Frame-Prompter */

static void test_frame_prompter(void ** state) {
    (void)state;
    const int             b = 2, T = 12, S = 3, k = 4, N = 10;
    const int64_t         D = 24;
    struct bank           B = {0};
    struct vb_st_writer * sw = vb_st_writer_new();
    add2(&B, sw, "fp.fc1.weight", k, k * N, 0, 3.0);
    add1(&B, sw, "fp.fc1.bias", k, 0, 0.1);
    add1(&B, sw, "fp.norm.weight", k, 1, 0.1);
    add1(&B, sw, "fp.norm.bias", k, 0, 0.1);
    add2(&B, sw, "fp.fc2.weight", k, k, 0, 1);
    add1(&B, sw, "fp.fc2.bias", k, 0, 0.1);
    char path[512];
    tmp_path(path, sizeof path, "fp");
    assert_int_equal(vb_st_writer_write(sw, path), VB_OK);
    vb_st_writer_free(sw);
    struct vb_weights * w = NULL;
    assert_int_equal(vb_weights_open(&w, path), VB_OK);
    struct vb_frame_prompter * fp = NULL;
    assert_int_equal(vb_frame_prompter_load(&fp, w, T, S, N, "fp."), VB_OK);
    assert_int_equal(fp->k, k);
    /* sizes that do not fit the stored tensors / each other */
    struct vb_frame_prompter * bad = NULL;
    assert_int_equal(vb_frame_prompter_load(&bad, w, 15, 3, N, "fp."), VB_ERR_SHAPE); /* k = 5: fc1 [5, 50] */
    assert_non_null(strstr(vb_errmsg(), "fp.fc1.weight"));
    assert_int_equal(vb_frame_prompter_load(&bad, w, 13, 3, N, "fp."), VB_ERR_ARG);
    assert_null(bad);

    float * feat = malloc(sizeof(float) * (size_t)(b * T * N * D));
    for (int64_t i = 0; i < b * T * N * D; i++)
        feat[i] = (float)(nrand() + 0.3 * ((i / D) % 7));
    float   logits[2 * 3 * 4];
    float * work = malloc(sizeof(float) * (size_t)vb_frame_prompter_work_size(fp, b));
    vb_frame_prompter_logits(fp, feat, b, D, logits, NULL, NULL, NULL, NULL, work);
    /* reference */
    double       ref[2 * 3 * 4];
    const float *w1 = W(&B, "fp.fc1.weight"), *b1 = W(&B, "fp.fc1.bias"), *nw = W(&B, "fp.norm.weight"),
                *nb = W(&B, "fp.norm.bias"), *w2 = W(&B, "fp.fc2.weight"), *b2 = W(&B, "fp.fc2.bias");
    for (int v = 0; v < b; v++)
        for (int s = 0; s < S; s++) {
            double seg[4 * 10], a[4], r[4];
            for (int f = 0; f < k; f++)
                for (int t = 0; t < N; t++) {
                    double m = 0;
                    for (int64_t d = 0; d < D; d++)
                        m += feat[(((int64_t)v * T + s * k + f) * N + t) * D + d];
                    seg[f * N + t] = m / (double)D;
                }
            d_linear(seg, 1, k * N, w1, b1, k, a);
            d_layernorm(a, 1, k, nw, nb, 1e-5, r);
            for (int j = 0; j < k; j++)
                r[j] = r[j] > 0 ? r[j] : 0;
            d_linear(r, 1, k, w2, b2, k, ref + (v * S + s) * k);
        }
    expect_close("frame prompter logits", logits, ref, b * S * k);
    int64_t loc[6], frames[6];
    float   mask[2 * 12];
    vb_frame_prompter_select(logits, NULL, b, S, k, 1.0f, NULL, NULL, loc, frames, mask);
    for (int v = 0; v < b; v++)
        for (int s = 0; s < S; s++) {
            const double * r = ref + (v * S + s) * k;
            int            best = 0;
            for (int j = 1; j < k; j++)
                if (r[j] > r[best]) best = j;
            assert_int_equal(loc[v * S + s], best);
            assert_int_equal(frames[v * S + s], s * k + best);
            for (int j = 0; j < k; j++)
                assert_true(mask[v * T + s * k + j] == (j == best ? 1.0f : 0.0f));
        }
    /* gather */
    float * sel = malloc(sizeof(float) * (size_t)(b * S * N * D));
    vb_frame_prompter_gather(feat, b, T, S, N, D, frames, sel);
    assert_memory_equal(sel + (1 * S + 2) * N * D, feat + (1 * T + frames[5]) * N * D, sizeof(float) * N * D);
    free(sel);
    free(work);
    free(feat);
    vb_frame_prompter_free(fp);
    vb_weights_close(w);
    bank_free(&B);
    unlink(path);
}

static void test_select_ties_and_gumbel(void ** state) {
    (void)state;
    /* ties keep the lowest index */
    float   lg[8] = {1, 3, 3, 0, 2, 2, 2, 2};
    int64_t loc[2], fr[2];
    vb_frame_prompter_select(lg, NULL, 1, 2, 4, 1.0f, NULL, NULL, loc, fr, NULL);
    assert_int_equal(loc[0], 1);
    assert_int_equal(loc[1], 0);
    assert_int_equal(fr[1], 4);
    /* Gumbel noise = -log(1e-10 - log(U + 1e-10)) */
    float U[5] = {0.0f, 1e-7f, 0.25f, 0.5f, 0.99999994f}, g[5];
    vb_frame_prompter_gumbel_noise(U, 5, g);
    for (int i = 0; i < 5; i++) {
        /* U + eps is rounded to float first, as torch computes it in float32 (near U = 1 that rounding dominates) */
        double r = -log(1e-10 - log((double)(U[i] + 1e-10f)));
        assert_true(fabs(g[i] - r) <= 1e-5 * fmax(1, fabs(r)));
    }
    assert_true(isfinite(g[0]));
    /* noise decides: a large noise on index 3 wins; soft samples sum to 1 and peak there */
    float base[4] = {1, 0, 0, 0}, nz[4] = {0, 0, 0, 5}, soft[4], noisy[4];
    vb_frame_prompter_select(base, nz, 1, 1, 4, 0.5f, noisy, soft, loc, fr, NULL);
    assert_int_equal(loc[0], 3);
    assert_true(noisy[3] == 5.0f && noisy[0] == 1.0f);
    double ssum = soft[0] + soft[1] + soft[2] + soft[3];
    assert_true(fabs(ssum - 1) < 1e-6);
    assert_true(fabs(soft[3] - exp(10.0) / (exp(10.0) + exp(2.0) + 2)) < 1e-6);
    /* seeded uniforms: in [0, 1), replayable, seed-dependent, 24-bit grid, mean about 0.5 */
    enum { n = 100000 };
    float *a = malloc(sizeof(float) * n), *c = malloc(sizeof(float) * n);
    vb_frame_prompter_uniform(42, n, a);
    vb_frame_prompter_uniform(42, n, c);
    assert_memory_equal(a, c, sizeof(float) * n);
    vb_frame_prompter_uniform(43, n, c);
    int    same = 0;
    double mean = 0;
    for (int i = 0; i < n; i++) {
        assert_true(a[i] >= 0.0f && a[i] < 1.0f);
        float scaled = a[i] * 16777216.0f;
        assert_true(scaled == floorf(scaled));
        same += a[i] == c[i];
        mean += a[i];
    }
    mean /= n;
    assert_true(same < 10);
    assert_true(fabs(mean - 0.5) < 0.01);
    free(a);
    free(c);
}

/* ------------------------------------------------------------------ load errors */

static void test_load_errors(void ** state) {
    (void)state;
    struct vb_vision_config c = vit_cfg();
    struct bank             B = {0};
    struct vb_st_writer *   sw = vb_st_writer_new();
    write_vit(&B, sw, &c, "vision_model.");
    char path[512];
    tmp_path(path, sizeof path, "vit_err");
    assert_int_equal(vb_st_writer_write(sw, path), VB_OK);
    vb_st_writer_free(sw);
    struct vb_weights * w = NULL;
    assert_int_equal(vb_weights_open(&w, path), VB_OK);
    struct vb_vit * vit = NULL;
    /* a config with another MLP width: fc1 of layer 0 has the wrong shape */
    struct vb_vision_config c2 = c;
    c2.intermediate = 41;
    assert_int_equal(vb_vit_load(&vit, w, &c2, "vision_model."), VB_ERR_SHAPE);
    assert_null(vit);
    assert_non_null(strstr(vb_errmsg(), "vision_model.encoder.layers.0.mlp.fc1.weight"));
    assert_non_null(strstr(vb_errmsg(), path));
    /* more layers than stored: missing tensor */
    c2 = c;
    c2.layers = 4;
    assert_int_equal(vb_vit_load(&vit, w, &c2, "vision_model."), VB_ERR_NOTFOUND);
    assert_non_null(strstr(vb_errmsg(), "vision_model.encoder.layers.3."));
    /* wrong prefix */
    assert_int_equal(vb_vit_load(&vit, w, &c, "visual."), VB_ERR_NOTFOUND);
    /* image size not a multiple of the patch */
    c2 = c;
    c2.image_size = 16;
    assert_int_equal(vb_vit_load(&vit, w, &c2, "vision_model."), VB_ERR_ARG);
    /* the Q-Former is not in this file */
    struct vb_qformer_config qc = qf_cfg(0);
    struct vb_qformer *      qf = NULL;
    assert_int_equal(vb_qformer_load(&qf, w, &qc, 3, ""), VB_ERR_NOTFOUND);
    assert_non_null(strstr(vb_errmsg(), "query_tokens"));
    assert_null(qf);
    /* context sizes */
    assert_int_equal(vb_vit_load(&vit, w, &c, "vision_model."), VB_OK);
    struct vb_vit_ctx * ctx = NULL;
    assert_int_equal(vb_vit_ctx_new(&ctx, vit, 0), VB_ERR_ARG);
    assert_null(ctx);
    vb_vit_free(vit);
    vb_weights_close(w);
    bank_free(&B);
    unlink(path);
}

/* ------------------------------------------------------------------ parameter counts of the real models */

/* Counts from configs/real/params.json (transformers 4.35.2, blip2- / instructblip-flan-t5-xl): the
** tensor lists of the loaders must give exactly these with the HF defaults (= the real shapes). */
static void test_param_counts(void ** state) {
    (void)state;
    struct vb_model_config b2, ib;
    vb_config_defaults(&b2, VB_ARCH_BLIP2);
    vb_config_defaults(&ib, VB_ARCH_INSTRUCTBLIP);
    ib.qformer.vocab = 30523; /* the conversion script adds [DEC] */
    assert_int_equal(b2.vision.hidden, 1408);
    assert_int_equal(vb_vit_n_params(&b2.vision), 985952256);
    assert_int_equal(vb_qformer_n_params(&b2.qformer, b2.num_query_tokens), 105137664 + 24576);
    assert_int_equal(vb_qformer_n_params(&ib.qformer, ib.num_query_tokens), 185660160 + 24576);
    /* per layer: differences of 1- and 2-layer models (layer 0 has cross-attention, layer 1 not) */
    struct vb_vision_config v = b2.vision;
    v.layers = 1;
    int64_t v1 = vb_vit_n_params(&v);
    v.layers = 2;
    assert_int_equal(vb_vit_n_params(&v) - v1, 25250176);
    const int64_t want[2][2] = {{10434816, 7087872}, {15158784, 11811840}};
    for (int arch = 0; arch < 2; arch++) {
        struct vb_qformer_config q = arch ? ib.qformer : b2.qformer;
        q.layers = 1;
        int64_t q1 = vb_qformer_n_params(&q, 32);
        q.layers = 2;
        int64_t q2 = vb_qformer_n_params(&q, 32);
        q.layers = 0;
        assert_int_equal(vb_qformer_n_params(&q, 32), -1); /* unusable config */
        q.layers = 3;
        int64_t q3 = vb_qformer_n_params(&q, 32);
        assert_int_equal(q3 - q2, want[arch][0]); /* layer 2: cross-attention again */
        assert_int_equal(q2 - q1, want[arch][1]);
    }
    v.image_size = 225;
    assert_int_equal(vb_vit_n_params(&v), -1);
    /* the real config files (committed in configs/real/) as the engine reads them give the same counts */
    const char * root = getenv("VB_ROOT");
    char         p[1024];
    snprintf(p, sizeof p, "%s/configs/real/blip2-flan-t5-xl.config.json", root ? root : ".");
    struct vb_model_config c;
    assert_int_equal(vb_config_load(&c, p), VB_OK);
    assert_int_equal(vb_vit_n_params(&c.vision), 985952256);
    assert_int_equal(vb_qformer_n_params(&c.qformer, c.num_query_tokens), 105137664 + 24576);
    snprintf(p, sizeof p, "%s/configs/real/instructblip-flan-t5-xl.config.json", root ? root : ".");
    assert_int_equal(vb_config_load(&c, p), VB_OK);
    assert_int_equal(vb_vit_n_params(&c.vision), 985952256);
    assert_int_equal(vb_qformer_n_params(&c.qformer, c.num_query_tokens), 185660160 + 24576);
}

int main(int argc, char ** argv) {
    (void)argc;
    /* the ViT kernel check compares bits with OpenBLAS's SkylakeX core, which OpenBLAS 0.3.21 does not pick on every
    ** AVX-512 CPU: run again with it (vlapbench does the same, engine/blas.c) */
    const char * best = vb_blas_cpu_best_core(); /* SkylakeX: AVX-512 that VB_CPU_DISABLE leaves (engine/cpu.h) */
    if (!getenv("OPENBLAS_CORETYPE") && best && !strcmp(best, "SkylakeX")) {
        setenv("OPENBLAS_CORETYPE", "SkylakeX", 1);
        execv("/proc/self/exe", argv);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vit_vs_reference), cmocka_unit_test(test_vit_attention_kernels),
        cmocka_unit_test(test_qformer_blip2),    cmocka_unit_test(test_qformer_instruct_localizer_prefix),
        cmocka_unit_test(test_frame_prompter),   cmocka_unit_test(test_select_ties_and_gumbel),
        cmocka_unit_test(test_load_errors),      cmocka_unit_test(test_param_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
