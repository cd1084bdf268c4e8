/* test_cuda.c — engine/cuda against the CPU engine.
**
** Always (every build, every machine): device detection answers without crashing and consistently (built flag, a
** reason when unavailable, context / event creation failing with VB_ERR_UNSUPPORTED and that reason), and the
** unpacking of the packed host weight matrix (engine/wmat.h's 16-row panels) into the device's row-major layout is
** exact for f32 / bf16 / f16 matrices, row ranges and row views.
** With a CUDA GPU: every kernel against its CPU reference in engine/ops.c / engine/wmat.c (LayerNorm, RMSNorm, GELU
** erf / tanh, ReLU, gated activation, softmax with -inf rows, add, fused attention with bias / mask / causal /
** strides, the T5 relative position bias, the cuBLASLt linear in f32 (COMPUTE_32F) and bf16 incl. misaligned views,
** the GEMM rate, events), and the device ViT / T5 encoder against vb_vit_run / vb_t5_encode on the repository's tiny
** golden model (f32 within the golden tolerance 1e-4 x max(1, max|ref|); bf16 bounded loosely).
** Without one the GPU group is not run: the program prints "SKIP: no CUDA GPU visible (REASON)" and exits 77 once the
** always group passed.
**
** `test_cuda --rate M N K [REPS]` prints the cuBLASLt GEMM rate in f32 and bf16; `test_cuda --kernels` times the
** kernels, the 32-frame ViT-g pass and the Flan-T5-XL encoder at the real shapes (scripts/gpu-check.sh). */
#include <setjmp.h> /* cmocka.h needs these four first */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/common.h"
#include "engine/config.h"
#include "engine/cuda/cuda.h"
#include "engine/generate.h"
#include "engine/ops.h"
#include "engine/qformer.h"
#include "engine/t5.h"
#include "engine/vit.h"
#include "engine/weights.h"
#include "engine/wmat.h"
#include "harness/registry.h"
#include "methods/bundle.h"
#include "methods/method.h"
#include "methods/prompts.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct vb_cuda_ctx * g_ctx; /* the GPU group's context */

/* deterministic values in [-a, a) */
static void fill(float * x, int64_t n, uint32_t seed, float a) {
    uint32_t s = seed * 2654435761u + 12345u;
    for (int64_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = ((float)(s >> 8) / 16777216.0f * 2.0f - 1.0f) * a;
    }
}

/* max |a - b| over n; NaN counts as infinite */
static double max_diff(const float * a, const float * b, int64_t n) {
    double m = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (d != d) return INFINITY;
        if (d > m) m = d;
    }
    return m;
}

static double max_abs(const float * a, int64_t n) {
    double m = 0;
    for (int64_t i = 0; i < n; i++)
        m = fmax(m, fabs((double)a[i]));
    return m;
}

/* ---------------------------------------------------------------- always */

static void test_query(void ** state) {
    (void)state;
    struct vb_cuda_info I, J;
    int                 a = vb_cuda_query(&I);
    vb_cuda_query(&J);
    assert_int_equal(a, I.available);
    assert_int_equal(a, vb_cuda_available());
    assert_int_equal(I.built, vb_cuda_built());
    assert_memory_equal(&I, &J, sizeof I); /* cached, stable */
    char line[600];
    vb_cuda_describe(&I, line, sizeof line);
    if (!I.available) {
        assert_true(I.reason[0] != 0);
        assert_true(!strncmp(line, "none (", 6));
        assert_non_null(strstr(line, I.reason));
        if (!I.built)
            assert_non_null(strstr(I.reason, "CUDA backend not built"));
        else
            assert_true(strstr(I.reason, "no CUDA GPU visible") || strstr(I.reason, "no usable CUDA GPU"));
    } else {
        assert_true(I.built);
        assert_true(I.name[0] != 0);
        assert_true(I.driver_version > 0 && I.runtime_version > 0 && I.n_sm > 0 && I.mem_bytes > 0);
        assert_non_null(strstr(line, I.name));
    }
    if (I.built) assert_true(I.runtime_version >= 12000); /* the headers this was built with: CUDA 12 or newer */
    printf("cuda: built %d, available %d: %s\n", I.built, I.available, line);
}

static void test_unavailable_fails_cleanly(void ** state) {
    (void)state;
    struct vb_cuda_info I;
    if (vb_cuda_query(&I)) {
        printf("(GPU present: the unavailable path is not exercised here)\n");
        return;
    }
    struct vb_cuda_ctx * c = (struct vb_cuda_ctx *)1;
    assert_int_equal(vb_cuda_ctx_new(&c), VB_ERR_UNSUPPORTED);
    assert_null(c);
    assert_non_null(strstr(vb_errmsg(), I.built ? "no " : "CUDA backend not built"));
    struct vb_cuda_event * e = (struct vb_cuda_event *)1;
    assert_int_equal(vb_cuda_event_new(&e), VB_ERR_UNSUPPORTED);
    assert_null(e);
    vb_cuda_ctx_free(NULL);
    vb_cuda_event_free(NULL);
    vb_cuda_free(NULL);
    struct vb_cuda_wmat D = {0};
    vb_cuda_wmat_free(&D);
    if (!I.built) { /* the stubs refuse with the not-built message */
        float y = 0;
        assert_int_equal(vb_cuda_layernorm(NULL, &y, 1, 1, NULL, NULL, 1e-5f, &y), VB_ERR_UNSUPPORTED);
        assert_non_null(strstr(vb_errmsg(), "not built"));
    } else { /* the real entry points refuse a missing context */
        float y = 0;
        assert_int_equal(vb_cuda_layernorm(NULL, &y, 1, 1, NULL, NULL, 1e-5f, &y), VB_ERR_ARG);
    }
}

/* a golden model directory of the repository: config and weights */
static void open_golden(const char * name, struct vb_model_config * cfg, struct vb_weights ** w) {
    const char * root = getenv("VB_ROOT");
    char         cfgp[1024], modp[1024];
    snprintf(cfgp, sizeof cfgp, "%s%stests/golden/%s/config.json", root ? root : "", root ? "/" : "", name);
    snprintf(modp, sizeof modp, "%s%stests/golden/%s/model.safetensors", root ? root : "", root ? "/" : "", name);
    assert_int_equal(vb_config_load(cfg, cfgp), VB_OK);
    assert_int_equal(vb_weights_open(w, modp), VB_OK);
}

/* got within tol x max(1, max|ref|) of ref, printed */
static void near(const char * what, const float * ref, const float * got, int64_t n, double tol) {
    double err = max_diff(ref, got, n), m = fmax(1.0, max_abs(ref, n));
    printf("%s: max |gpu - cpu| = %.3g (tolerance %.3g)\n", what, err, tol * m);
    assert_true(err <= tol * m);
}

/* ---------------------------------------------------------------- always: the wiring without a GPU */

/* cfg.device = CUDA where no GPU is usable: every loader fails with the reason (VB_ERR_UNSUPPORTED), nothing is left
** allocated (ASan), and the CPU models of the same file still load; a projection cannot go to the device either */
static void test_wiring_refuses(void ** state) {
    (void)state;
    struct vb_cuda_info I;
    if (vb_cuda_query(&I)) {
        printf("(GPU present: the refusal path is not exercised here)\n");
        return;
    }
    struct vb_model_config cfg;
    struct vb_weights *    w = NULL;
    open_golden("instruct-tiny", &cfg, &w);
    cfg.vision.device = cfg.qformer.device = cfg.t5.device = VB_DEVICE_CUDA;
    const char *         want = I.built ? "no " : "CUDA backend not built";
    struct vb_vit *      v = (struct vb_vit *)1;
    struct vb_qformer *  q = (struct vb_qformer *)1;
    struct vb_t5_model * t = (struct vb_t5_model *)1;
    assert_int_equal(vb_vit_load(&v, w, &cfg.vision, "vision_model."), VB_ERR_UNSUPPORTED);
    assert_null(v);
    assert_non_null(strstr(vb_errmsg(), want));
    assert_int_equal(vb_qformer_load(&q, w, &cfg.qformer, cfg.num_query_tokens, ""), VB_ERR_UNSUPPORTED);
    assert_null(q);
    assert_non_null(strstr(vb_errmsg(), want));
    assert_int_equal(vb_t5_load(&t, w, "language_model.", &cfg.t5), VB_ERR_UNSUPPORTED);
    assert_null(t);
    assert_non_null(strstr(vb_errmsg(), want));
    struct vb_projection * p = NULL;
    assert_int_equal(vb_projection_load(&p, w, "language_projection", cfg.qformer.hidden, cfg.t5.d_model), VB_OK);
    assert_int_equal(vb_projection_to_device(p), VB_ERR_UNSUPPORTED);
    assert_null(p->dev);
    vb_projection_free(p);
    cfg.vision.device = VB_DEVICE_CPU;
    assert_int_equal(vb_vit_load(&v, w, &cfg.vision, "vision_model."), VB_OK);
    assert_null(v->dev);
    vb_vit_free(v);
    vb_weights_close(w);
}

/* a rows x cols matrix of dtype dt holding src (rows, cols) rounded to dt */
static void make_wmat(struct vb_wmat * W, int64_t rows, int64_t cols, int32_t dt, const float * src) {
    assert_int_equal(vb_wmat_alloc(W, rows, cols, dt), VB_OK);
    vb_wmat_set_f32(W, 0, src, rows);
}

/* src value rounded to dt, then to out_dt, as bits / value of out_dt */
static float expect_f32(float v, int32_t dt) {
    if (dt == VB_DT_BF16) return vb_bf16_to_f32(vb_f32_to_bf16(v));
    if (dt == VB_DT_F16) return vb_f16_to_f32(vb_f32_to_f16(v));
    return v;
}

static void test_unpack(void ** state) {
    (void)state;
    const int64_t R = 37, K = 19; /* three panels, the last padded; odd columns */
    float *       src = vb_malloc(sizeof(float) * R * K);
    fill(src, R * K, 7, 3.0f);
    float *    f = vb_malloc(sizeof(float) * R * K);
    uint16_t * h = vb_malloc(sizeof(uint16_t) * R * K);
    int32_t    dts[3] = {VB_DT_F32, VB_DT_BF16, VB_DT_F16};
    for (int t = 0; t < 3; t++) {
        struct vb_wmat W;
        make_wmat(&W, R, K, dts[t], src);
        /* whole matrix, f32: each element exactly src rounded to the host dtype */
        assert_int_equal(vb_cuda_wmat_unpack_rows(&W, 0, R, VB_DT_F32, f), VB_OK);
        for (int64_t i = 0; i < R * K; i++)
            assert_true(f[i] == expect_f32(src[i], dts[t]));
        /* whole matrix, bf16: one rounding of that value */
        assert_int_equal(vb_cuda_wmat_unpack_rows(&W, 0, R, VB_DT_BF16, h), VB_OK);
        for (int64_t i = 0; i < R * K; i++)
            assert_int_equal(h[i], vb_f32_to_bf16(expect_f32(src[i], dts[t])));
        /* a row range crossing panels */
        assert_int_equal(vb_cuda_wmat_unpack_rows(&W, 5, 20, VB_DT_F32, f), VB_OK);
        for (int64_t i = 0; i < 20 * K; i++)
            assert_true(f[i] == expect_f32(src[5 * K + i], dts[t]));
        /* a view starting inside a panel (row0 != 0), as the fused q|k|v slices */
        struct vb_wmat V = vb_wmat_rows(&W, 3, 30);
        assert_int_equal(vb_cuda_wmat_unpack_rows(&V, 0, 30, VB_DT_F32, f), VB_OK);
        for (int64_t i = 0; i < 30 * K; i++)
            assert_true(f[i] == expect_f32(src[3 * K + i], dts[t]));
        float row[19];
        vb_wmat_row(&V, 29, row); /* agrees with the engine's own row reader */
        assert_memory_equal(row, f + 29 * K, sizeof row);
        /* bad arguments */
        assert_int_equal(vb_cuda_wmat_unpack_rows(&W, 30, 8, VB_DT_F32, f), VB_ERR_ARG);
        assert_int_equal(vb_cuda_wmat_unpack_rows(&W, -1, 2, VB_DT_F32, f), VB_ERR_ARG);
        assert_int_equal(vb_cuda_wmat_unpack_rows(&W, 0, 2, VB_DT_F16, f), VB_ERR_ARG);
        vb_wmat_free(&W);
    }
    free(src), free(f), free(h);
}

/* ---------------------------------------------------------------- GPU */

static float * up(const float * h, int64_t n) {
    void * d = NULL;
    assert_int_equal(vb_cuda_alloc(g_ctx, &d, sizeof(float) * (size_t)n), VB_OK);
    assert_int_equal(vb_cuda_upload(g_ctx, d, h, sizeof(float) * (size_t)n), VB_OK);
    return d;
}

static void down(float * h, const float * d, int64_t n) {
    assert_int_equal(vb_cuda_sync(g_ctx), VB_OK);
    assert_int_equal(vb_cuda_download(g_ctx, h, d, sizeof(float) * (size_t)n), VB_OK);
}

static int gpu_setup(void ** state) {
    (void)state;
    return vb_cuda_ctx_new(&g_ctx) == VB_OK ? 0 : (printf("context: %s\n", vb_errmsg()), -1);
}

static int gpu_teardown(void ** state) {
    (void)state;
    vb_cuda_ctx_free(g_ctx);
    g_ctx = NULL;
    return 0;
}

static void test_norms(void ** state) {
    (void)state;
    const int64_t ds[3] = {1, 1408, 2048 + 3};
    for (int t = 0; t < 3; t++) {
        int64_t n = 7, d = ds[t];
        float * x = vb_malloc(sizeof(float) * n * d), *w = vb_malloc(sizeof(float) * d);
        float * b = vb_malloc(sizeof(float) * d), *ref = vb_malloc(sizeof(float) * n * d);
        float * got = vb_malloc(sizeof(float) * n * d);
        fill(x, n * d, 1 + t, 4.0f), fill(w, d, 2, 1.5f), fill(b, d, 3, 0.5f);
        for (int64_t i = 0; i < d; i++)
            x[i] += 100.0f; /* row 0 far from zero mean: the two-pass variance matters */
        float *dx = up(x, n * d), *dw = up(w, d), *db = up(b, d);
        /* LayerNorm with and without affine, in place */
        vb_layernorm(x, n, d, w, b, 1e-6f, ref);
        assert_int_equal(vb_cuda_layernorm(g_ctx, dx, n, d, dw, db, 1e-6f, dx), VB_OK);
        down(got, dx, n * d);
        assert_true(max_diff(ref, got, n * d) <= 1e-5 * fmax(1.0, max_abs(ref, n * d)));
        assert_int_equal(vb_cuda_upload(g_ctx, dx, x, sizeof(float) * (size_t)(n * d)), VB_OK);
        vb_layernorm(x, n, d, NULL, NULL, 1e-5f, ref);
        assert_int_equal(vb_cuda_layernorm(g_ctx, dx, n, d, NULL, NULL, 1e-5f, dx), VB_OK);
        down(got, dx, n * d);
        assert_true(max_diff(ref, got, n * d) <= 1e-5 * fmax(1.0, max_abs(ref, n * d)));
        /* RMSNorm */
        assert_int_equal(vb_cuda_upload(g_ctx, dx, x, sizeof(float) * (size_t)(n * d)), VB_OK);
        vb_rmsnorm(x, n, d, w, 1e-6f, ref);
        assert_int_equal(vb_cuda_rmsnorm(g_ctx, dx, n, d, dw, 1e-6f, dx), VB_OK);
        down(got, dx, n * d);
        assert_true(max_diff(ref, got, n * d) <= 1e-5 * fmax(1.0, max_abs(ref, n * d)));
        vb_cuda_free(dx), vb_cuda_free(dw), vb_cuda_free(db);
        free(x), free(w), free(b), free(ref), free(got);
    }
}

static void test_acts(void ** state) {
    (void)state;
    const int64_t n = 10007, f = 333, rows = 5;
    float *       x = vb_malloc(sizeof(float) * n), *ref = vb_malloc(sizeof(float) * n);
    float *       got = vb_malloc(sizeof(float) * n);
    fill(x, n, 9, 6.0f);
    int32_t acts[3] = {VB_ACT_GELU_ERF, VB_ACT_GELU_TANH, VB_ACT_RELU};
    for (int a = 0; a < 3; a++) {
        memcpy(ref, x, sizeof(float) * n);
        if (acts[a] == VB_ACT_GELU_ERF) vb_gelu_erf(ref, n);
        if (acts[a] == VB_ACT_GELU_TANH) vb_gelu_tanh(ref, n);
        if (acts[a] == VB_ACT_RELU) vb_relu(ref, n);
        float * dx = up(x, n);
        assert_int_equal(vb_cuda_act(g_ctx, dx, n, acts[a]), VB_OK);
        down(got, dx, n);
        assert_true(max_diff(ref, got, n) <= 2e-6 * 6.0);
        /* gated over rows (rows, 2f), as t5.c's FF */
        assert_int_equal(vb_cuda_upload(g_ctx, dx, x, sizeof(float) * (size_t)(rows * 2 * f)), VB_OK);
        memcpy(ref, x, sizeof(float) * (size_t)(rows * 2 * f));
        for (int64_t r = 0; r < rows; r++) {
            float * p = ref + r * 2 * f;
            if (acts[a] == VB_ACT_GELU_ERF) vb_gelu_erf(p, f);
            if (acts[a] == VB_ACT_GELU_TANH) vb_gelu_tanh(p, f);
            if (acts[a] == VB_ACT_RELU) vb_relu(p, f);
            vb_mul(p, p, p + f, f);
        }
        assert_int_equal(vb_cuda_gated_act(g_ctx, dx, rows, f, acts[a]), VB_OK);
        down(got, dx, rows * 2 * f);
        assert_true(max_diff(ref, got, rows * 2 * f) <= 2e-6 * 36.0);
        vb_cuda_free(dx);
    }
    assert_int_equal(vb_cuda_act(g_ctx, NULL, 4, 99), VB_ERR_ARG);
    free(x), free(ref), free(got);
}

static void test_softmax_add(void ** state) {
    (void)state;
    const int64_t n = 6, d = 1000;
    float *       x = vb_malloc(sizeof(float) * n * d), *ref = vb_malloc(sizeof(float) * n * d);
    float *       got = vb_malloc(sizeof(float) * n * d);
    fill(x, n * d, 11, 20.0f);
    for (int64_t j = 0; j < d; j++)
        x[2 * d + j] = -INFINITY; /* an all -inf row: zeros */
    for (int64_t j = 0; j < d; j += 3)
        x[3 * d + j] = -INFINITY; /* some -inf entries: exact zeros */
    memcpy(ref, x, sizeof(float) * n * d);
    vb_softmax_rows(ref, n, d);
    float * dx = up(x, n * d);
    assert_int_equal(vb_cuda_softmax_rows(g_ctx, dx, n, d), VB_OK);
    down(got, dx, n * d);
    assert_true(max_diff(ref, got, n * d) <= 1e-6);
    for (int64_t j = 0; j < d; j++)
        assert_true(got[2 * d + j] == 0.0f);
    for (int64_t j = 0; j < d; j += 3)
        assert_true(got[3 * d + j] == 0.0f);
    /* add */
    fill(x, n * d, 12, 1.0f), fill(ref, n * d, 13, 1.0f);
    float * dy = up(ref, n * d);
    assert_int_equal(vb_cuda_upload(g_ctx, dx, x, sizeof(float) * (size_t)(n * d)), VB_OK);
    assert_int_equal(vb_cuda_add(g_ctx, dy, dx, n * d), VB_OK);
    down(got, dy, n * d);
    vb_add(ref, x, n * d);
    assert_memory_equal(ref, got, sizeof(float) * (size_t)(n * d)); /* one rounding each: exact */
    vb_cuda_free(dx), vb_cuda_free(dy);
    free(x), free(ref), free(got);
}

struct att_case {
    int64_t nq, nk;
    int32_t heads, dh;
    int     bias, mask, causal;
    int64_t q_off, pad; /* pad: extra floats per row beyond heads * dh (strides) */
};

static void test_attention(void ** state) {
    (void)state;
    const struct att_case C[] = {
        {50, 50, 4, 32, 0, 0, 0, 0, 0},  /* ViT-like, scale dh^-0.5 */
        {33, 33, 3, 64, 1, 1, 0, 0, 7},  /* T5 encoder: bias + key mask, padded rows */
        {1, 9, 2, 64, 1, 0, 1, 8, 0},    /* T5 decode step: one query at position 8 */
        {12, 12, 2, 40, 1, 0, 1, 0, 3},  /* causal prefill */
        {32, 300, 4, 88, 0, 1, 0, 0, 0}, /* Q-Former cross-attention-like, dh 88 */
    };
    for (size_t t = 0; t < sizeof C / sizeof C[0]; t++) {
        const struct att_case * a = &C[t];
        int64_t                 hd = (int64_t)a->heads * a->dh, ld = hd + a->pad;
        int64_t                 nrow = a->nq > a->nk ? a->nq : a->nk;
        float *                 q = vb_malloc(sizeof(float) * nrow * ld), *k = vb_malloc(sizeof(float) * nrow * ld);
        float *                 v = vb_malloc(sizeof(float) * nrow * ld);
        float *                 bias = vb_malloc(sizeof(float) * a->heads * a->nq * a->nk);
        float *                 mask = vb_malloc(sizeof(float) * a->nk);
        float *                 ref = vb_calloc((size_t)(a->nq * ld), sizeof(float));
        float *                 got = vb_calloc((size_t)(a->nq * ld), sizeof(float));
        float *                 scratch = vb_malloc(sizeof(float) * a->nq * a->nk);
        fill(q, nrow * ld, 20 + (uint32_t)t, 1.0f), fill(k, nrow * ld, 30 + (uint32_t)t, 1.0f);
        fill(v, nrow * ld, 40 + (uint32_t)t, 1.0f), fill(bias, a->heads * a->nq * a->nk, 50, 2.0f);
        for (int64_t j = 0; j < a->nk; j++)
            mask[j] = j % 5 == 4 ? -1e9f : 0.0f; /* padding keys, as the engine's masks */
        float scale = a->bias ? 1.0f : 1.0f / sqrtf((float)a->dh);
        vb_attention(q, ld, k, ld, v, ld, a->nq, a->nk, a->heads, a->dh, scale, a->bias ? bias : NULL,
                     a->mask ? mask : NULL, a->causal, a->q_off, ref, ld, scratch);
        float *dq = up(q, nrow * ld), *dk = up(k, nrow * ld), *dv = up(v, nrow * ld);
        float *db = up(bias, a->heads * a->nq * a->nk), *dm = up(mask, a->nk), *dout = up(got, a->nq * ld);
        assert_int_equal(vb_cuda_attention(g_ctx, dq, ld, dk, ld, dv, ld, a->nq, a->nk, a->heads, a->dh, scale,
                                           a->bias ? db : NULL, a->mask ? dm : NULL, a->causal, a->q_off, dout, ld),
                         VB_OK);
        down(got, dout, a->nq * ld);
        double err = max_diff(ref, got, a->nq * ld);
        printf("attention case %zu: max |gpu - cpu| = %.3g\n", t, err);
        assert_true(err <= 1e-5);
        vb_cuda_free(dq), vb_cuda_free(dk), vb_cuda_free(dv), vb_cuda_free(db), vb_cuda_free(dm), vb_cuda_free(dout);
        free(q), free(k), free(v), free(bias), free(mask), free(ref), free(got), free(scratch);
    }
}

static void test_t5_bias(void ** state) {
    (void)state;
    const int32_t H = 4, NB = 32, MD = 128;
    float         table[32 * 4];
    fill(table, NB * H, 60, 3.0f);
    float * dt = up(table, NB * H);
    struct {
        int64_t nq, q0, nk;
        int     bidir;
    } C[] = {{40, 0, 40, 1}, {1, 77, 78, 0}, {200, 0, 200, 0}};
    for (int t = 0; t < 3; t++) {
        int64_t n = (int64_t)H * C[t].nq * C[t].nk;
        float * ref = vb_malloc(sizeof(float) * n), *got = vb_malloc(sizeof(float) * n);
        for (int64_t h = 0; h < H; h++) /* t5.c's fill_bias */
            for (int64_t i = 0; i < C[t].nq; i++)
                for (int64_t j = 0; j < C[t].nk; j++)
                    ref[(h * C[t].nq + i) * C[t].nk + j] =
                        table[vb_t5_bucket(j - (C[t].q0 + i), C[t].bidir, NB, MD) * H + h];
        void * db = NULL;
        assert_int_equal(vb_cuda_alloc(g_ctx, &db, sizeof(float) * (size_t)n), VB_OK);
        assert_int_equal(vb_cuda_t5_bias(g_ctx, dt, H, NB, MD, C[t].bidir, C[t].nq, C[t].q0, C[t].nk, db), VB_OK);
        down(got, db, n);
        assert_memory_equal(ref, got, sizeof(float) * (size_t)n); /* a gather: exact */
        vb_cuda_free(db);
        free(ref), free(got);
    }
    vb_cuda_free(dt);
}

static void test_linear(void ** state) {
    (void)state;
    const int64_t R = 70, K = 130, n = 9, ldx = 140, ldy = 75;
    float *       w = vb_malloc(sizeof(float) * R * K), *b = vb_malloc(sizeof(float) * R);
    float *       x = vb_malloc(sizeof(float) * n * ldx), *xr = vb_malloc(sizeof(float) * n * ldx);
    float *       y0 = vb_malloc(sizeof(float) * n * ldy), *ref = vb_malloc(sizeof(float) * n * ldy);
    float *       got = vb_malloc(sizeof(float) * n * ldy);
    fill(w, R * K, 70, 0.2f), fill(b, R, 71, 1.0f), fill(x, n * ldx, 72, 2.0f), fill(y0, n * ldy, 73, 1.0f);
    for (int i = 0; i < n * ldx; i++) /* x rounded to bf16: the bf16 path's input */
        xr[i] = vb_bf16_to_f32(vb_f32_to_bf16(x[i]));
    int32_t dts[2] = {VB_DT_F32, VB_DT_BF16};
    for (int t = 0; t < 2; t++) {
        struct vb_wmat W;
        make_wmat(&W, R, K, dts[t], w);
        struct vb_cuda_wmat D;
        assert_int_equal(vb_cuda_wmat_upload(g_ctx, &D, &W, dts[t]), VB_OK);
        assert_int_equal(D.rows, R), assert_int_equal(D.cols, K), assert_int_equal(D.dt, dts[t]);
        float *dx = up(x, n * ldx), *db = up(b, R), *dy = up(y0, n * ldy);
        for (int beta = 0; beta <= 1; beta++) {
            memcpy(ref, y0, sizeof(float) * (size_t)(n * ldy));
            vb_wmat_linear_ex(t ? xr : x, ldx, n, &W, b, ref, ldy, (float)beta);
            assert_int_equal(vb_cuda_upload(g_ctx, dy, y0, sizeof(float) * (size_t)(n * ldy)), VB_OK);
            assert_int_equal(vb_cuda_linear(g_ctx, dx, ldx, n, &D, db, dy, ldy, (float)beta), VB_OK);
            down(got, dy, n * ldy);
            double err = 0, m = 0;
            for (int64_t i = 0; i < n; i++) { /* the written columns; the gap columns are untouched */
                err = fmax(err, max_diff(ref + i * ldy, got + i * ldy, R));
                m = fmax(m, max_abs(ref + i * ldy, R));
                assert_memory_equal(got + i * ldy + R, y0 + i * ldy + R, sizeof(float) * (size_t)(ldy - R));
            }
            printf("linear %s beta %d: max |gpu - cpu| = %.3g (max |y| %.3g)\n", t ? "bf16" : "f32", beta, err, m);
            assert_true(err <= 1e-5 * fmax(1.0, m));
        }
        /* no bias, and x / y at 4-byte-aligned offsets (column slices such as the q|k|v views) */
        vb_wmat_linear_ex(t ? xr : x, ldx, n, &W, NULL, ref, ldy, 0.0f);
        assert_int_equal(vb_cuda_linear(g_ctx, dx, ldx, n, &D, NULL, dy, ldy, 0.0f), VB_OK);
        down(got, dy, n * ldy);
        for (int64_t i = 0; i < n; i++)
            assert_true(max_diff(ref + i * ldy, got + i * ldy, R) <= 1e-5 * fmax(1.0, max_abs(ref + i * ldy, R)));
        float * xo = vb_calloc((size_t)(n * ldx + 1), sizeof(float));
        memcpy(xo + 1, x, sizeof(float) * (size_t)(n * ldx));
        float *dxo = up(xo, n * ldx + 1), *dyo = up(got, n * ldy + 1);
        assert_int_equal(vb_cuda_linear(g_ctx, dxo + 1, ldx, n, &D, db, dyo + 1, ldy, 0.0f), VB_OK);
        vb_wmat_linear_ex(t ? xr : x, ldx, n, &W, b, ref, ldy, 0.0f);
        down(xo, dyo + 1, n * ldy);
        for (int64_t i = 0; i < n; i++)
            assert_true(max_diff(ref + i * ldy, xo + i * ldy, R) <= 1e-5 * fmax(1.0, max_abs(ref + i * ldy, R)));
        vb_cuda_free(dxo), vb_cuda_free(dyo);
        free(xo);
        vb_cuda_free(dx), vb_cuda_free(db), vb_cuda_free(dy);
        vb_cuda_wmat_free(&D);
        assert_null(D.data);
        vb_wmat_free(&W);
    }
    free(w), free(b), free(x), free(xr), free(y0), free(ref), free(got);
}

/* the device ViT (engine/cuda/vit.c) against vb_vit_run on the repository's tiny golden model: f32 within the golden
** tolerance (1e-4 x max(1, max|ref|)) for every output; bf16 weights + bf16 activations against the CPU's bf16-weight
** model, the deviation printed and bounded loosely (a wrong layout would be O(1)) */
static void test_vit(void ** state) {
    (void)state;
    const char * root = getenv("VB_ROOT");
    char         cfgp[1024], modp[1024];
    snprintf(cfgp, sizeof cfgp, "%s%stests/golden/tiny/config.json", root ? root : "", root ? "/" : "");
    snprintf(modp, sizeof modp, "%s%stests/golden/tiny/model.safetensors", root ? root : "", root ? "/" : "");
    struct vb_model_config cfg;
    struct vb_weights *    w = NULL;
    assert_int_equal(vb_config_load(&cfg, cfgp), VB_OK);
    assert_int_equal(vb_weights_open(&w, modp), VB_OK);
    for (int t = 0; t < 2; t++) {
        int32_t dt = t ? VB_DT_BF16 : VB_DT_F32;
        cfg.vision.weight_dtype = dt;
        struct vb_vit *     m = NULL;
        struct vb_vit_ctx * ctx = NULL;
        assert_int_equal(vb_vit_load(&m, w, &cfg.vision, "vision_model."), VB_OK);
        const int32_t F = 3;
        assert_int_equal(vb_vit_ctx_new(&ctx, m, F), VB_OK);
        const int64_t S = m->cfg.image_size, T = m->cfg.n_tokens, D = m->cfg.hidden, L = m->cfg.layers;
        const int64_t per = F * T * D;
        float *       px = vb_malloc(sizeof(float) * (size_t)(F * 3 * S * S));
        fill(px, F * 3 * S * S, 99, 2.0f);
        float * ref[4], *got[4];
        int64_t n[4] = {per, per * L, per, per};
        for (int i = 0; i < 4; i++)
            ref[i] = vb_malloc(sizeof(float) * (size_t)n[i]), got[i] = vb_malloc(sizeof(float) * (size_t)n[i]);
        assert_int_equal(vb_vit_run(ctx, px, F, ref[0], ref[1], ref[2], ref[3]), VB_OK);
        struct vb_cuda_vit * dv = NULL;
        assert_int_equal(vb_cuda_vit_upload(g_ctx, &dv, m, dt), VB_OK);
        assert_true(vb_cuda_vit_bytes(dv) > 0);
        assert_int_equal(vb_cuda_vit_run(g_ctx, dv, px, F, got[0], got[1], got[2], got[3]), VB_OK);
        const char * name[4] = {"embeddings", "layer_out", "body", "ln"};
        for (int i = 0; i < 4; i++) {
            double err = max_diff(ref[i], got[i], n[i]), m_ = fmax(1.0, max_abs(ref[i], n[i]));
            printf("vit %s %s: max |gpu - cpu| = %.3g (tolerance %.3g)\n", t ? "bf16" : "f32", name[i], err,
                   (t ? 5e-2 : 1e-4) * m_);
            assert_true(err <= (t ? 5e-2 : 1e-4) * m_);
        }
        /* a second call with fewer frames reuses the activations */
        assert_int_equal(vb_cuda_vit_run(g_ctx, dv, px, 1, NULL, NULL, NULL, got[3]), VB_OK);
        assert_true(max_diff(ref[3], got[3], T * D) <= (t ? 5e-2 : 1e-4) * fmax(1.0, max_abs(ref[3], T * D)));
        vb_cuda_vit_free(dv);
        for (int i = 0; i < 4; i++)
            free(ref[i]), free(got[i]);
        free(px);
        vb_vit_ctx_free(ctx);
        vb_vit_free(m);
    }
    vb_weights_close(w);
}

/* the device T5 encoder (engine/cuda/t5enc.c), two sequences batched, against vb_t5_encode per sequence on the tiny
** golden model: the final output and every block's output, f32 within the golden tolerance; bf16 loosely */
static void test_t5enc(void ** state) {
    (void)state;
    const char * root = getenv("VB_ROOT");
    char         cfgp[1024], modp[1024];
    snprintf(cfgp, sizeof cfgp, "%s%stests/golden/tiny/config.json", root ? root : "", root ? "/" : "");
    snprintf(modp, sizeof modp, "%s%stests/golden/tiny/model.safetensors", root ? root : "", root ? "/" : "");
    struct vb_model_config cfg;
    struct vb_weights *    w = NULL;
    assert_int_equal(vb_config_load(&cfg, cfgp), VB_OK);
    assert_int_equal(vb_weights_open(&w, modp), VB_OK);
    for (int t = 0; t < 2; t++) {
        int32_t dt = t ? VB_DT_BF16 : VB_DT_F32;
        cfg.t5.weight_dtype = dt;
        struct vb_t5_model * m = NULL;
        struct vb_t5_ctx *   ctx = NULL;
        assert_int_equal(vb_t5_load(&m, w, "language_model.", &cfg.t5), VB_OK);
        const int32_t B = 2;
        const int64_t n = 21, d = m->cfg.d_model, L = m->cfg.n_enc;
        assert_int_equal(vb_t5_ctx_new(&ctx, m, n, 4), VB_OK);
        float *   emb = vb_malloc(sizeof(float) * (size_t)(B * n * d));
        uint8_t * mask = vb_malloc((size_t)(B * n));
        fill(emb, B * n * d, 123, 1.0f);
        for (int64_t i = 0; i < B * n; i++)
            mask[i] = !(i >= n && i % n >= 17); /* sequence 1: the last 4 tokens are padding */
        float *ref = vb_malloc(sizeof(float) * (size_t)(B * n * d)),
              *got = vb_malloc(sizeof(float) * (size_t)(B * n * d));
        float *rblk = vb_malloc(sizeof(float) * (size_t)(L * B * n * d)),
              *gblk = vb_malloc(sizeof(float) * (size_t)(L * B * n * d));
        float * blk1 = vb_malloc(sizeof(float) * (size_t)(L * n * d));
        for (int32_t s_ = 0; s_ < B; s_++) {
            assert_int_equal(vb_t5_encode(ctx, emb + s_ * n * d, mask + s_ * n, n, blk1), VB_OK);
            memcpy(ref + s_ * n * d, ctx->enc_out, sizeof(float) * (size_t)(n * d));
            for (int64_t l = 0; l < L; l++) /* block l of sequence s_ into (L, B, n, d) */
                memcpy(rblk + (l * B + s_) * n * d, blk1 + l * n * d, sizeof(float) * (size_t)(n * d));
        }
        struct vb_cuda_t5enc * de = NULL;
        assert_int_equal(vb_cuda_t5enc_upload(g_ctx, &de, m, dt), VB_OK);
        assert_true(vb_cuda_t5enc_bytes(de) > 0);
        assert_int_equal(vb_cuda_t5_encode(g_ctx, de, B, n, emb, mask, gblk, got), VB_OK);
        double tol = t ? 5e-2 : 1e-4;
        double e1 = max_diff(ref, got, B * n * d), m1 = fmax(1.0, max_abs(ref, B * n * d));
        double e2 = max_diff(rblk, gblk, L * B * n * d), m2 = fmax(1.0, max_abs(rblk, L * B * n * d));
        printf("t5 encoder %s: out max |gpu - cpu| = %.3g (tol %.3g), blocks %.3g (tol %.3g)\n", t ? "bf16" : "f32", e1,
               tol * m1, e2, tol * m2);
        assert_true(e1 <= tol * m1);
        assert_true(e2 <= tol * m2);
        vb_cuda_t5enc_free(de);
        free(emb), free(mask), free(ref), free(got), free(rblk), free(gblk), free(blk1);
        vb_t5_ctx_free(ctx);
        vb_t5_free(m);
    }
    vb_weights_close(w);
}

/* argmax (vb_gen_argmax's first maximum, ties, -inf rows, NaN), scale and the row copy */
static void test_argmax_copy(void ** state) {
    (void)state;
    const int64_t n = 6, d = 32128;
    float *       x = vb_malloc(sizeof(float) * (size_t)(n * d)), *y = vb_malloc(sizeof(float) * (size_t)(n * d));
    fill(x, n * d, 77, 5.0f);
    x[0 * d + 9] = x[0 * d + 31000] = 9.0f; /* a tie: the first wins */
    for (int64_t j = 0; j < d; j++)
        x[1 * d + j] = -INFINITY;            /* all -inf: 0 */
    x[2 * d + 0] = NAN;                      /* a row starting with NaN: 0, as the sequential scan */
    x[3 * d + 5] = NAN, x[3 * d + 7] = 8.0f; /* a NaN elsewhere is never picked */
    x[4 * d + d - 1] = 7.0f;                 /* the last element */
    float *  dx = up(x, n * d);
    int32_t *di = NULL, got[6];
    assert_int_equal(vb_cuda_alloc(g_ctx, (void **)&di, sizeof(int32_t) * (size_t)n), VB_OK);
    assert_int_equal(vb_cuda_argmax_rows(g_ctx, dx, n, d, di), VB_OK);
    assert_int_equal(vb_cuda_sync(g_ctx), VB_OK);
    assert_int_equal(vb_cuda_download(g_ctx, got, di, sizeof got), VB_OK);
    for (int64_t i = 0; i < n; i++)
        assert_int_equal(got[i], vb_gen_argmax(x + i * d, (int32_t)d));
    assert_int_equal(got[0], 9);
    assert_int_equal(got[1], 0);
    assert_int_equal(got[4], d - 1);
    /* scale, then copy rows 1..3 (first 100 columns) into a strided destination */
    float * dy = up(x, n * d);
    assert_int_equal(vb_cuda_scale(g_ctx, dx, n * d, 0.5f), VB_OK);
    assert_int_equal(vb_cuda_copy_rows(g_ctx, dy + 7, d, dx + d + 3, d, 3, 100), VB_OK);
    down(y, dy, n * d);
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < d; j++) {
            int   in = i >= 0 && i < 3 && j >= 7 && j < 107;
            float want = in ? x[(i + 1) * d + (j - 7) + 3] * 0.5f : x[i * d + j];
            if (want == want) assert_true(y[i * d + j] == want);
        }
    vb_cuda_free(dx), vb_cuda_free(dy), vb_cuda_free(di);
    free(x), free(y);
}

/* the device Q-Former (engine/cuda/qformer.c) against vb_qformer_run: BLIP-2 (tiny, queries only) and InstructBLIP
** (instruct-tiny, text with a padded row), every output, f32 within the golden tolerance; bf16 loosely; and the
** projection */
static void test_qformer(void ** state) {
    (void)state;
    const char * sets[2] = {"tiny", "instruct-tiny"};
    for (int si = 0; si < 2; si++)
        for (int t = 0; t < 2; t++) {
            struct vb_model_config cfg;
            struct vb_weights *    w = NULL;
            open_golden(sets[si], &cfg, &w);
            int32_t dt = t ? VB_DT_BF16 : VB_DT_F32;
            cfg.qformer.weight_dtype = dt;
            struct vb_qformer *     m = NULL;
            struct vb_qformer_ctx * ctx = NULL;
            assert_int_equal(vb_qformer_load(&m, w, &cfg.qformer, cfg.num_query_tokens, ""), VB_OK);
            const int32_t B = 3, N = 9, L = cfg.qformer.has_text ? 6 : 0;
            const int64_t Q = m->n_query, D = cfg.qformer.hidden, Dv = cfg.qformer.encoder_hidden, S = Q + L;
            const int64_t nl = cfg.qformer.layers;
            assert_int_equal(vb_qformer_ctx_new(&ctx, m, B, L, N), VB_OK);
            float * img = vb_malloc(sizeof(float) * (size_t)(B * N * Dv));
            fill(img, B * N * Dv, 31 + si, 2.0f);
            int32_t ids[3 * 6], tmask[3 * 6];
            for (int i = 0; i < B * L; i++)
                ids[i] = (i * 7 + 3) % cfg.qformer.vocab, tmask[i] = !(i / L == 1 && i % L >= 4); /* row 1 padded */
            int64_t n[4] = {B * Q * D, B * S * D, B * S * D, nl * B * S * D};
            float * ref[4], *got[4];
            for (int i = 0; i < 4; i++)
                ref[i] = vb_malloc(sizeof(float) * (size_t)n[i]), got[i] = vb_malloc(sizeof(float) * (size_t)n[i]);
            assert_int_equal(
                vb_qformer_run(ctx, img, B, N, L ? ids : NULL, L ? tmask : NULL, L, ref[0], ref[1], ref[2], ref[3]),
                VB_OK);
            struct vb_cuda_qformer * dq = NULL;
            assert_int_equal(vb_cuda_qformer_upload(g_ctx, &dq, m, dt), VB_OK);
            assert_true(vb_cuda_qformer_bytes(dq) > 0);
            assert_int_equal(vb_cuda_qformer_run(g_ctx, dq, img, B, N, L ? ids : NULL, L ? tmask : NULL, L, got[0],
                                                 got[1], got[2], got[3]),
                             VB_OK);
            const char * name[4] = {"query_out", "full_out", "embeddings", "layer_out"};
            for (int i = 0; i < 4; i++) {
                char what[128];
                snprintf(what, sizeof what, "qformer %s %s %s", sets[si], t ? "bf16" : "f32", name[i]);
                near(what, ref[i], got[i], n[i], t ? 5e-2 : 1e-4);
            }
            /* an id outside the vocabulary is refused as on the CPU */
            if (L) {
                ids[2] = cfg.qformer.vocab;
                assert_int_equal(vb_cuda_qformer_run(g_ctx, dq, img, B, N, ids, tmask, L, got[0], NULL, NULL, NULL),
                                 VB_ERR_ARG);
            }
            vb_cuda_qformer_free(dq);
            /* the projection (f32 on both sides) */
            struct vb_projection * p = NULL;
            struct vb_cuda_proj *  dp = NULL;
            assert_int_equal(vb_projection_load(&p, w, "language_projection", cfg.qformer.hidden, cfg.t5.d_model),
                             VB_OK);
            float * pr = vb_malloc(sizeof(float) * (size_t)(B * Q * cfg.t5.d_model));
            float * pg = vb_malloc(sizeof(float) * (size_t)(B * Q * cfg.t5.d_model));
            assert_int_equal(vb_projection_run(p, ref[0], B * Q, pr), VB_OK);
            assert_int_equal(vb_cuda_proj_upload(g_ctx, &dp, p, VB_DT_F32), VB_OK);
            assert_int_equal(vb_cuda_proj_run(g_ctx, dp, ref[0], B * Q, pg), VB_OK);
            near("projection f32", pr, pg, B * Q * cfg.t5.d_model, 1e-4);
            vb_cuda_proj_free(dp);
            vb_projection_free(p);
            free(pr), free(pg), free(img);
            for (int i = 0; i < 4; i++)
                free(ref[i]), free(got[i]);
            vb_qformer_ctx_free(ctx);
            vb_qformer_free(m);
            vb_weights_close(w);
        }
}

/* the device T5 decoder (engine/cuda/t5dec.c) against vb_t5_decode / vb_t5_decode_batch on the tiny golden model:
** teacher forcing over T positions, then the same positions one step at a time (the device KV cache), logits, last
** hidden and block outputs, f32 within the golden tolerance (bf16 loosely); the device argmax equals vb_gen_argmax
** of the device logits; a batch of 3 sequences with different encoder lengths and positions */
static void test_t5dec(void ** state) {
    (void)state;
    for (int t = 0; t < 2; t++) {
        struct vb_model_config cfg;
        struct vb_weights *    w = NULL;
        open_golden("tiny", &cfg, &w);
        int32_t dt = t ? VB_DT_BF16 : VB_DT_F32;
        double  tol = t ? 5e-2 : 1e-4;
        cfg.t5.weight_dtype = dt;
        struct vb_t5_model * m = NULL;
        assert_int_equal(vb_t5_load(&m, w, "language_model.", &cfg.t5), VB_OK);
        const int64_t      d = m->cfg.d_model, V = m->cfg.vocab, nd = m->cfg.n_dec, N = 11, T = 5;
        struct vb_t5_ctx * c = NULL;
        assert_int_equal(vb_t5_ctx_new(&c, m, N, T), VB_OK);
        float * enc = vb_malloc(sizeof(float) * (size_t)(N * d));
        uint8_t mask[11];
        int32_t ids[5];
        float * emb = vb_malloc(sizeof(float) * (size_t)(T * d));
        float * rl = vb_malloc(sizeof(float) * (size_t)(T * V)), *gl = vb_malloc(sizeof(float) * (size_t)(T * V));
        float * rh = vb_malloc(sizeof(float) * (size_t)(T * d)), *gh = vb_malloc(sizeof(float) * (size_t)(T * d));
        float * rb = vb_malloc(sizeof(float) * (size_t)(nd * T * d));
        float * gb = vb_malloc(sizeof(float) * (size_t)(nd * T * d));
        int32_t am[5];
        fill(enc, N * d, 5 + t, 1.0f);
        for (int64_t i = 0; i < N; i++)
            mask[i] = i < 9; /* two padded encoder keys */
        for (int64_t i = 0; i < T; i++)
            ids[i] = (int32_t)((i * 13 + 1) % V);
        assert_int_equal(vb_t5_set_encoder_output(c, enc, mask, N), VB_OK);
        assert_int_equal(vb_t5_decode(c, ids, T, rl, rh, rb), VB_OK);
        assert_int_equal(vb_t5_embed(m, ids, T, emb), VB_OK);
        struct vb_cuda_t5 *    dm = NULL;
        struct vb_cuda_t5seq * ds = NULL;
        assert_int_equal(vb_cuda_t5_upload(g_ctx, &dm, m, dt), VB_OK);
        assert_true(vb_cuda_t5_bytes(dm) > vb_cuda_t5enc_bytes(vb_cuda_t5_encoder(dm)));
        assert_int_equal(vb_cuda_t5seq_new(g_ctx, dm, N, T, &ds), VB_OK);
        assert_int_equal(vb_cuda_t5_decode(g_ctx, dm, ds, 0, emb, 1, gl, NULL, NULL, NULL), VB_ERR_ARG); /* no enc */
        assert_int_equal(vb_cuda_t5seq_set_encoder(g_ctx, dm, ds, enc, mask, N), VB_OK);
        assert_int_equal(vb_cuda_t5seq_n_enc(ds), N);
        assert_int_equal(vb_cuda_t5_decode(g_ctx, dm, ds, 0, emb, T, gl, am, gh, gb), VB_OK);
        near(t ? "t5 decode bf16 logits (teacher forcing)" : "t5 decode f32 logits (teacher forcing)", rl, gl, T * V,
             tol);
        near("t5 decode last_hidden", rh, gh, T * d, tol);
        near("t5 decode block_out", rb, gb, nd * T * d, tol);
        for (int64_t i = 0; i < T; i++)
            assert_int_equal(am[i], vb_gen_argmax(gl + i * V, (int32_t)V));
        /* the same positions one step at a time through the device cache */
        for (int64_t i = 0; i < T; i++) {
            assert_int_equal(vb_cuda_t5_decode(g_ctx, dm, ds, i, emb + i * d, 1, gl + i * V, NULL, NULL, NULL), VB_OK);
        }
        near("t5 decode logits (steps)", rl, gl, T * V, tol);
        assert_int_equal(vb_cuda_t5_decode(g_ctx, dm, ds, T, emb, 1, gl, NULL, NULL, NULL), VB_ERR_ARG); /* full */
        /* a batch: three sequences with their own encoder outputs (lengths 11, 7, 3) at positions 0, 2, 4 */
        struct vb_t5_ctx *     cs[3];
        struct vb_cuda_t5seq * dss[3];
        struct vb_t5_batch *   bt = NULL;
        int64_t                past[3] = {0, 2, 4}, lens[3] = {11, 7, 3};
        int32_t                bid[3] = {3, 5, 7}, bam[3];
        assert_int_equal(vb_t5_batch_new(&bt, m, 3, 3), VB_OK);
        for (int i = 0; i < 3; i++) {
            assert_int_equal(vb_t5_ctx_new(&cs[i], m, N, T), VB_OK);
            assert_int_equal(vb_t5_set_encoder_output(cs[i], enc + i * d, mask, lens[i]), VB_OK);
            assert_int_equal(vb_cuda_t5seq_new(g_ctx, dm, N, T, &dss[i]), VB_OK);
            assert_int_equal(vb_cuda_t5seq_set_encoder(g_ctx, dm, dss[i], enc + i * d, mask, lens[i]), VB_OK);
            if (past[i]) { /* fill the cache up to the position on both sides */
                assert_int_equal(vb_t5_decode(cs[i], ids, past[i], NULL, NULL, NULL), VB_OK);
                assert_int_equal(vb_cuda_t5_decode(g_ctx, dm, dss[i], 0, emb, past[i], NULL, NULL, NULL, NULL), VB_OK);
            }
        }
        assert_int_equal(vb_t5_decode_batch(bt, cs, 3, bid, rl), VB_OK);
        float * bemb = vb_malloc(sizeof(float) * (size_t)(3 * d));
        assert_int_equal(vb_t5_embed(m, bid, 3, bemb), VB_OK);
        assert_int_equal(vb_cuda_t5_decode_batch(g_ctx, dm, dss, past, 3, bemb, gl, bam), VB_OK);
        near("t5 decode_batch logits", rl, gl, 3 * V, tol);
        for (int i = 0; i < 3; i++)
            assert_int_equal(bam[i], vb_gen_argmax(gl + i * V, (int32_t)V));
        for (int i = 0; i < 3; i++)
            vb_t5_ctx_free(cs[i]), vb_cuda_t5seq_free(dss[i]);
        vb_t5_batch_free(bt);
        vb_cuda_t5seq_free(ds);
        vb_cuda_t5_free(dm);
        free(enc), free(emb), free(rl), free(gl), free(rh), free(gh), free(rb), free(gb), free(bemb);
        vb_t5_ctx_free(c);
        vb_t5_free(m);
        vb_weights_close(w);
    }
}

/* the wiring: models loaded with cfg.device = CUDA run through the engine's own functions (vb_vit_run,
** vb_qformer_run, vb_projection_run, vb_t5_encode, vb_t5_encode_batch, vb_t5_decode, vb_generate_greedy with and
** without scores: the device argmax path) and agree with the CPU models of the same file; greedy ids are equal */
static void wiring(int32_t device) {
    struct vb_model_config cfg, dcfg;
    struct vb_weights *    w = NULL;
    open_golden("instruct-tiny", &cfg, &w);
    dcfg = cfg;
    dcfg.vision.device = dcfg.qformer.device = dcfg.t5.device = device;
    struct vb_vit *v = NULL, *dv = NULL;
    assert_int_equal(vb_vit_load(&v, w, &cfg.vision, "vision_model."), VB_OK);
    assert_int_equal(vb_vit_load(&dv, w, &dcfg.vision, "vision_model."), VB_OK);
    assert_null(v->dev);
    assert_true(device ? dv->dev != NULL : dv->dev == NULL);
    const int32_t      F = 2;
    struct vb_vit_ctx *vc = NULL, *dvc = NULL;
    assert_int_equal(vb_vit_ctx_new(&vc, v, F), VB_OK);
    assert_int_equal(vb_vit_ctx_new(&dvc, dv, F), VB_OK);
    const int64_t S = cfg.vision.image_size, Tn = v->cfg.n_tokens, Dv = cfg.vision.hidden;
    float *       px = vb_malloc(sizeof(float) * (size_t)(F * 3 * S * S));
    float *       ln = vb_malloc(sizeof(float) * (size_t)(F * Tn * Dv)),
          *dln = vb_malloc(sizeof(float) * (size_t)(F * Tn * Dv));
    fill(px, F * 3 * S * S, 4, 2.0f);
    assert_int_equal(vb_vit_run(vc, px, F, NULL, NULL, NULL, ln), VB_OK);
    assert_int_equal(vb_vit_run(dvc, px, F, NULL, NULL, NULL, dln), VB_OK);
    assert_int_equal(vb_vit_run(dvc, px, F + 1, NULL, NULL, NULL, dln), VB_ERR_ARG); /* the context's bound holds */
    near("wiring vit ln", ln, dln, F * Tn * Dv, 1e-4);
    /* Q-Former with text + projection */
    struct vb_qformer *q = NULL, *dq = NULL;
    assert_int_equal(vb_qformer_load(&q, w, &cfg.qformer, cfg.num_query_tokens, ""), VB_OK);
    assert_int_equal(vb_qformer_load(&dq, w, &dcfg.qformer, cfg.num_query_tokens, ""), VB_OK);
    struct vb_qformer_ctx *qc = NULL, *dqc = NULL;
    const int32_t          L = 5;
    const int64_t          Q = q->n_query, Dq = cfg.qformer.hidden, d = cfg.t5.d_model;
    assert_int_equal(vb_qformer_ctx_new(&qc, q, F, L, (int32_t)Tn), VB_OK);
    assert_int_equal(vb_qformer_ctx_new(&dqc, dq, F, L, (int32_t)Tn), VB_OK);
    int32_t qids[2 * 5] = {1, 2, 3, 4, 5, 6, 7, 8, 0, 0}, qm[2 * 5] = {1, 1, 1, 1, 1, 1, 1, 1, 0, 0};
    float *qo = vb_malloc(sizeof(float) * (size_t)(F * Q * Dq)), *dqo = vb_malloc(sizeof(float) * (size_t)(F * Q * Dq));
    assert_int_equal(vb_qformer_run(qc, ln, F, (int32_t)Tn, qids, qm, L, qo, NULL, NULL, NULL), VB_OK);
    assert_int_equal(vb_qformer_run(dqc, ln, F, (int32_t)Tn, qids, qm, L, dqo, NULL, NULL, NULL), VB_OK);
    near("wiring qformer", qo, dqo, F * Q * Dq, 1e-4);
    struct vb_projection *p = NULL, *dp = NULL;
    assert_int_equal(vb_projection_load(&p, w, "language_projection", (int32_t)Dq, (int32_t)d), VB_OK);
    assert_int_equal(vb_projection_load(&dp, w, "language_projection", (int32_t)Dq, (int32_t)d), VB_OK);
    if (device) assert_int_equal(vb_projection_to_device(dp), VB_OK);
    float *pj = vb_malloc(sizeof(float) * (size_t)(F * Q * d)), *dpj = vb_malloc(sizeof(float) * (size_t)(F * Q * d));
    assert_int_equal(vb_projection_run(p, qo, F * Q, pj), VB_OK);
    assert_int_equal(vb_projection_run(dp, qo, F * Q, dpj), VB_OK);
    near("wiring projection", pj, dpj, F * Q * d, 1e-4);
    /* T5: encode (single and batched), decode, greedy */
    struct vb_t5_model *m = NULL, *dm = NULL;
    assert_int_equal(vb_t5_load(&m, w, "language_model.", &cfg.t5), VB_OK);
    assert_int_equal(vb_t5_load(&dm, w, "language_model.", &dcfg.t5), VB_OK);
    const int32_t     R = 3, steps = 4;
    const int64_t     n = F * Q, V = cfg.t5.vocab;
    struct vb_t5_ctx *cc[3], *dc[3];
    for (int r = 0; r < R; r++) {
        assert_int_equal(vb_t5_ctx_new(&cc[r], m, n, steps), VB_OK);
        assert_int_equal(vb_t5_ctx_new(&dc[r], dm, n, steps), VB_OK);
        assert_true(device ? dc[r]->dev != NULL : dc[r]->dev == NULL);
    }
    assert_int_equal(vb_t5_encode(cc[0], pj, NULL, n, NULL), VB_OK);
    assert_int_equal(vb_t5_encode(dc[0], pj, NULL, n, NULL), VB_OK);
    assert_int_equal(dc[0]->n_enc, n);
    near("wiring t5 encode enc_out", cc[0]->enc_out, dc[0]->enc_out, n * d, 1e-4);
    struct vb_t5_batch *bt = NULL, *dbt = NULL;
    assert_int_equal(vb_t5_batch_new(&bt, m, R * n, R), VB_OK);
    assert_int_equal(vb_t5_batch_new(&dbt, dm, R * n, R), VB_OK);
    const float *   e3[3] = {pj, pj + d, pj + 2 * d};
    uint8_t         mk[64];
    const uint8_t * m3[3] = {NULL, mk, NULL};
    int64_t         ns[3] = {n - 2, n - 2, n - 2};
    for (int i = 0; i < 64; i++)
        mk[i] = i % 3 != 1;
    for (int pass = 0; pass < 2; pass++) { /* equal lengths (one device pass), then different lengths */
        if (pass) ns[1] = n - 4;
        assert_int_equal(vb_t5_encode_batch(bt, cc, R, e3, m3, ns), VB_OK);
        assert_int_equal(vb_t5_encode_batch(dbt, dc, R, e3, m3, ns), VB_OK);
        for (int r = 0; r < R; r++)
            near("wiring t5 encode_batch enc_out", cc[r]->enc_out, dc[r]->enc_out, ns[r] * d, 1e-4);
    }
    int32_t start = cfg.t5.dec_start_id;
    float * lg = vb_malloc(sizeof(float) * (size_t)V), *dlg = vb_malloc(sizeof(float) * (size_t)V);
    assert_int_equal(vb_t5_decode(cc[0], &start, 1, lg, NULL, NULL), VB_OK);
    assert_int_equal(vb_t5_decode(dc[0], &start, 1, dlg, NULL, NULL), VB_OK);
    assert_int_equal(dc[0]->n_past, 1);
    near("wiring t5 decode logits", lg, dlg, V, 1e-4);
    struct vb_gen_opts o;
    vb_gen_opts_default(&o);
    o.max_new_tokens = steps, o.run_all_steps = 1;
    int32_t ids[3 * 5], dids[3 * 5], dids2[3 * 5], ns1 = 0, ns2 = 0, ns3 = 0;
    float * sc = vb_malloc(sizeof(float) * (size_t)(steps * R * V)),
          *dsc = vb_malloc(sizeof(float) * (size_t)(steps * R * V));
    float * work = vb_malloc(sizeof(float) * (size_t)(R * V));
    o.batch = bt;
    assert_int_equal(vb_generate_greedy(cc, R, &o, ids, sc, NULL, NULL, &ns1), VB_OK);
    o.batch = dbt;
    assert_int_equal(vb_generate_greedy(dc, R, &o, dids, dsc, NULL, NULL, &ns2), VB_OK);
    assert_int_equal(vb_generate_greedy(dc, R, &o, dids2, NULL, NULL, work, &ns3), VB_OK); /* device argmax */
    assert_int_equal(ns1, ns2);
    assert_int_equal(ns1, ns3);
    near("wiring greedy scores", sc, dsc, (int64_t)steps * R * V, 1e-4);
    assert_memory_equal(dids, dids2, sizeof(int32_t) * (size_t)(R * (steps + 1)));
    /* CPU and device ids agree, except where the CPU's own scores of the two picks are within the tolerance (a
    ** near tie of a random model); the row is not compared after such a step */
    double tolsc = 1e-4 * fmax(1.0, max_abs(sc, (int64_t)steps * R * V));
    for (int r = 0; r < R; r++)
        for (int st = 0; st < steps; st++) {
            int32_t a = ids[r * (steps + 1) + st + 1], b = dids[r * (steps + 1) + st + 1];
            if (a == b) continue;
            const float * row = sc + ((int64_t)st * R + r) * V;
            printf("wiring greedy: row %d step %d: cpu %d, gpu %d (scores %.9g / %.9g)\n", r, st, a, b, (double)row[a],
                   (double)row[b]);
            assert_true(fabs((double)row[a] - (double)row[b]) <= tolsc);
            break;
        }
    for (int r = 0; r < R; r++)
        vb_t5_ctx_free(cc[r]), vb_t5_ctx_free(dc[r]);
    vb_t5_batch_free(bt), vb_t5_batch_free(dbt);
    vb_t5_free(m), vb_t5_free(dm);
    vb_projection_free(p), vb_projection_free(dp);
    vb_qformer_ctx_free(qc), vb_qformer_ctx_free(dqc);
    vb_qformer_free(q), vb_qformer_free(dq);
    vb_vit_ctx_free(vc), vb_vit_ctx_free(dvc);
    vb_vit_free(v), vb_vit_free(dv);
    free(px), free(ln), free(dln), free(qo), free(dqo), free(pj), free(dpj), free(lg), free(dlg), free(sc), free(dsc);
    free(work);
    vb_weights_close(w);
}

/* End to end without video decoding (what the carried .gpu-pack can run): the committed demo bundles (models/demo:
** uniform, SeViLA, VLAP k = 4 with T = 32) opened on the CPU and with `device` (bundle option, as run / answer
** --device set it), the ViT body of T deterministic frames computed by each side, then each method answers three
** questions from its own side's features.  Picks and predictions must be equal, except where the CPU's own scores
** of the two choices are a near tie (1e-3); the option scores within 1e-3 x max(1, |score|).  Returns the number of
** differing decisions (printed). */
static int methods_e2e(int32_t device) {
    const char * root = getenv("VB_ROOT");
    const char * names[3] = {"uniform", "sevila", "vlap"}, *dirs[3] = {"uniform", "sevila", "vlap-k4-T32"};
    const char * qs[3] = {"what colour is the card?", "what happens after the card appears?", "which card is shown?"};
    const char * opts[5] = {"red", "green", "blue", "yellow", "white"};
    int          n_diff = 0;
    for (int mi = 0; mi < 3; mi++) {
        char dir[1024];
        snprintf(dir, sizeof dir, "%s%smodels/demo/%s", root ? root : "", root ? "/" : "", dirs[mi]);
        const struct vb_method_ops * ops = vb_registry_find(names[mi]);
        assert_non_null(ops);
        struct vb_bundle * b[2] = {NULL, NULL};
        struct vb_method * m[2] = {NULL, NULL};
        float *            feats[2] = {NULL, NULL};
        int32_t            T = 0;
        for (int side = 0; side < 2; side++) {
            struct vb_bundle_opts bo = {.device = side ? device : VB_DEVICE_CPU};
            assert_int_equal(vb_bundle_open(&b[side], dir, &bo), VB_OK);
            struct vb_method_opts o;
            vb_method_opts_default(&o);
            o.n_frames = 4;
            assert_int_equal(vb_method_open(&m[side], ops, b[side], &o), VB_OK);
            T = ops->candidates(b[side], 4, 0);
            const struct vb_vision_config * vc = &b[side]->cfg.vision;
            const int64_t                   S = vc->image_size, per = (int64_t)vc->n_tokens * vc->hidden;
            float *                         px = vb_malloc(sizeof(float) * (size_t)(T * 3 * S * S));
            fill(px, T * 3 * S * S, 2024 + mi, 2.0f);
            struct vb_vit_ctx * vx = NULL;
            assert_int_equal(vb_vit_ctx_new(&vx, b[side]->vit, T), VB_OK);
            feats[side] = vb_malloc(sizeof(float) * (size_t)(T * per));
            assert_int_equal(vb_vit_run(vx, px, T, NULL, NULL, feats[side], NULL), VB_OK);
            vb_vit_ctx_free(vx);
            free(px);
            if (side) near("methods e2e: vit body", feats[0], feats[1], T * per, 1e-4);
        }
        for (int qi = 0; qi < 3; qi++) {
            struct vb_prompt_text text;
            assert_int_equal(vb_prompt_text_make(&text, VB_PROMPT_MC, qs[qi], 5, opts), VB_OK);
            struct vb_method_result r[2];
            for (int side = 0; side < 2; side++) {
                struct vb_method_input in = {.text = &text, .feats = feats[side], .n_frames = T, .seed = 7};
                assert_int_equal(vb_method_answer(m[side], &in, &r[side]), VB_OK);
            }
            vb_prompt_text_free(&text);
            const struct vb_method_result *a = &r[0], *g = &r[1];
            printf("methods e2e %s q%d: cpu pred %d picks", names[mi], qi, a->prediction);
            for (int32_t i = 0; i < a->n_picked; i++)
                printf(" %d", a->picked[i]);
            printf(" | device pred %d picks", g->prediction);
            for (int32_t i = 0; i < g->n_picked; i++)
                printf(" %d", g->picked[i]);
            printf("\n");
            assert_int_equal(a->n_picked, g->n_picked);
            int same_picks = !memcmp(a->picked, g->picked, sizeof(int32_t) * (size_t)a->n_picked);
            if (!same_picks) { /* allowed only as a near tie of the CPU's own selection scores */
                n_diff++;
                for (int32_t i = 0; i < a->n_picked; i++)
                    if (a->picked[i] != g->picked[i])
                        assert_true(a->has_scores &&
                                    fabs((double)a->cand_scores[a->picked[i]] - a->cand_scores[g->picked[i]]) <= 1e-3);
                continue; /* the answerer saw other frames: its scores are not comparable */
            }
            if (a->has_scores) near("methods e2e: selection scores", a->cand_scores, g->cand_scores, T, 1e-3);
            near("methods e2e: option scores", a->scores, g->scores, a->n_scores, 1e-3);
            if (a->prediction != g->prediction) {
                n_diff++;
                assert_true(fabs((double)a->scores[a->prediction] - a->scores[g->prediction]) <= 1e-3);
            }
        }
        for (int side = 0; side < 2; side++) {
            vb_method_close(m[side]);
            vb_bundle_close(b[side]);
            free(feats[side]);
        }
    }
    printf("methods e2e: %d decision(s) differ (near ties only)\n", n_diff);
    return n_diff;
}

static void test_wiring(void ** state) {
    (void)state;
    wiring(VB_DEVICE_CUDA);
}

static void test_methods(void ** state) {
    (void)state;
    methods_e2e(VB_DEVICE_CUDA);
}

static void test_self_check_cpu(void ** state) {
    (void)state;
    wiring(VB_DEVICE_CPU);
    assert_int_equal(methods_e2e(VB_DEVICE_CPU), 0); /* the same arithmetic on both sides: no difference at all */
}

static void test_rate_events(void ** state) {
    (void)state;
    double tf = 0;
    assert_int_equal(vb_cuda_gemm_rate(g_ctx, 512, 512, 512, VB_DT_BF16, 3, &tf), VB_OK);
    assert_true(tf > 0);
    assert_int_equal(vb_cuda_gemm_rate(g_ctx, 512, 512, 512, VB_DT_F32, 3, &tf), VB_OK);
    assert_true(tf > 0);
    struct vb_cuda_event *a, *b;
    assert_int_equal(vb_cuda_event_new(&a), VB_OK);
    assert_int_equal(vb_cuda_event_new(&b), VB_OK);
    assert_int_equal(vb_cuda_event_record(g_ctx, a), VB_OK);
    assert_int_equal(vb_cuda_gemm_rate(g_ctx, 256, 256, 256, VB_DT_F32, 1, &tf), VB_OK);
    assert_int_equal(vb_cuda_event_record(g_ctx, b), VB_OK);
    float ms = -1;
    assert_int_equal(vb_cuda_event_ms(a, b, &ms), VB_OK);
    assert_true(ms > 0);
    vb_cuda_event_free(a), vb_cuda_event_free(b);
    char v[64];
    vb_cuda_cublaslt_version(v, sizeof v);
    assert_true(!strncmp(v, "cuBLASLt ", 9));
}

static int rate_main(int argc, char ** argv) {
    int64_t              m = atoll(argv[2]), n = atoll(argv[3]), k = atoll(argv[4]);
    int                  reps = argc > 5 ? atoi(argv[5]) : 10;
    char                 line[600];
    struct vb_cuda_info  I;
    struct vb_cuda_ctx * c;
    vb_cuda_query(&I);
    vb_cuda_describe(&I, line, sizeof line);
    printf("gpu: %s\n", line);
    if (vb_cuda_ctx_new(&c) != VB_OK) {
        printf("SKIP: %s\n", vb_errmsg());
        return 77;
    }
    char lt[64];
    vb_cuda_cublaslt_version(lt, sizeof lt);
    int rc = 0;
    for (int t = 0; t < 2; t++) {
        double tf = 0;
        int    dt = t ? VB_DT_F32 : VB_DT_BF16;
        if (vb_cuda_gemm_rate(c, m, n, k, dt, reps, &tf) != VB_OK) {
            printf("%s gemm %lldx%lldx%lld: FAILED: %s\n", t ? "f32" : "bf16", (long long)m, (long long)n, (long long)k,
                   vb_errmsg());
            rc = 1;
        } else
            printf("%s gemm %lldx%lldx%lld: %.1f TFLOP/s (%s, median of %d, %s)\n", t ? "f32" : "bf16", (long long)m,
                   (long long)n, (long long)k, tf, lt, reps, t ? "COMPUTE_32F, no TF32" : "bf16 in/out, f32 accum");
    }
    vb_cuda_ctx_free(c);
    return rc;
}

/* ---------------------------------------------------------------- --kernels: times at the real shapes */

/* device buffer of n floats filled with values in [-1, 1) (from the host: these are small) */
static float * dev_rand(struct vb_cuda_ctx * c, int64_t n, uint32_t seed) {
    float * h = vb_malloc(sizeof(float) * (size_t)n);
    fill(h, n, seed, 1.0f);
    void * d = NULL;
    if (vb_cuda_alloc(c, &d, sizeof(float) * (size_t)n) != VB_OK ||
        vb_cuda_upload(c, d, h, sizeof(float) * (size_t)n) != VB_OK) {
        vb_cuda_free(d);
        d = NULL;
    }
    free(h);
    return d;
}

#define KTIME(name, shape, call)                                                                                       \
    do {                                                                                                               \
        int st_ = VB_OK;                                                                                               \
        for (int r_ = 0; r_ < 3 && st_ == VB_OK; r_++) /* warm-up */                                                   \
            st_ = (call);                                                                                              \
        if (st_ == VB_OK) st_ = vb_cuda_event_record(c, e0);                                                           \
        for (int r_ = 0; r_ < reps && st_ == VB_OK; r_++)                                                              \
            st_ = (call);                                                                                              \
        if (st_ == VB_OK) st_ = vb_cuda_event_record(c, e1);                                                           \
        float ms_ = 0;                                                                                                 \
        if (st_ == VB_OK) st_ = vb_cuda_event_ms(e0, e1, &ms_);                                                        \
        if (st_ == VB_OK) st_ = vb_cuda_sync(c);                                                                       \
        if (st_ == VB_OK)                                                                                              \
            printf("kernel %-22s %-34s %10.4f ms\n", name, shape, ms_ / reps);                                         \
        else {                                                                                                         \
            printf("kernel %-22s %-34s FAILED: %s\n", name, shape, vb_errmsg());                                       \
            rc = 1;                                                                                                    \
        }                                                                                                              \
    } while (0)

/* 32 frames of ViT-g self-attention from a fused q|k|v (257, 3 x 1408) per frame into y (257, 1408) per frame */
static int att_vit(struct vb_cuda_ctx * c, const float * qkv, float * y) {
    const int64_t D = 1408;
    int           st = VB_OK;
    for (int f = 0; f < 32 && st == VB_OK; f++) {
        const float * q = qkv + (int64_t)f * 257 * 3 * D;
        st = vb_cuda_attention(c, q, 3 * D, q + D, 3 * D, q + 2 * D, 3 * D, 257, 257, 16, 88, 0.10660036f, NULL, NULL,
                               0, 0, y + (int64_t)f * 257 * D, D);
    }
    return st;
}

/* 8 sequences of Flan-T5-XL encoder self-attention (128 tokens, 32 heads of 64, relative position bias) */
static int att_t5(struct vb_cuda_ctx * c, const float * qkv, const float * bias, float * y) {
    const int64_t D = 2048;
    int           st = VB_OK;
    for (int s = 0; s < 8 && st == VB_OK; s++) {
        const float * q = qkv + (int64_t)s * 128 * 3 * D;
        st = vb_cuda_attention(c, q, 3 * D, q + D, 3 * D, q + 2 * D, 3 * D, 128, 128, 32, 64, 1.0f, bias, NULL, 0, 0,
                               y + (int64_t)s * 128 * D, D);
    }
    return st;
}

/* a host matrix rows x cols with values in [-a, a) */
static void rand_wmat(struct vb_wmat * W, int64_t rows, int64_t cols, uint32_t seed, float a) {
    float * h = vb_malloc(sizeof(float) * (size_t)(rows * cols));
    fill(h, rows * cols, seed, a);
    vb_wmat_alloc(W, rows, cols, VB_DT_F32);
    vb_wmat_set_f32(W, 0, h, rows);
    free(h);
}

/* a host vector of n values in [-a, a) + c */
static float * rand_vec(int64_t n, uint32_t seed, float a, float c) {
    float * h = vb_malloc(sizeof(float) * (size_t)n);
    fill(h, n, seed, a);
    for (int64_t i = 0; i < n; i++)
        h[i] += c;
    return h;
}

/* The 32-candidate ViT-g pass through engine/cuda/vit.c at the real shape (random weights): runs of a 1-layer and a
** 2-layer model give the fixed part (upload, embedding, post-LN, download) and the per-layer time; the 39-layer
** time is estimated from them.  dt: the device weights' dtype. */
static int vitg_time(struct vb_cuda_ctx * c, int32_t dt) {
    struct vb_vit m;
    memset(&m, 0, sizeof m);
    struct vb_vision_config * vc = &m.cfg;
    vc->hidden = 1408, vc->intermediate = 6144, vc->layers = 2, vc->heads = 16, vc->image_size = 224, vc->patch = 14;
    vc->qkv_bias = 1, vc->ln_eps = 1e-6f, vc->post_ln_eps = 1e-5f, vc->act = VB_ACT_GELU_ERF;
    vc->n_patches = 256, vc->n_tokens = 257;
    m.grid = 16, m.patch_dim = 588;
    const int64_t D = 1408, I = 6144, T = 257;
    rand_wmat(&m.patch, D, 588, 1, 0.04f);
    m.patch_b = rand_vec(D, 2, 0.1f, 0), m.cls = rand_vec(D, 3, 1, 0), m.pos = rand_vec(T * D, 4, 1, 0);
    m.post_ln_w = rand_vec(D, 5, 0.1f, 1), m.post_ln_b = rand_vec(D, 6, 0.1f, 0);
    struct vb_vit_layer L;
    rand_wmat(&L.qkv, 3 * D, D, 7, 0.03f), rand_wmat(&L.proj, D, D, 8, 0.03f);
    rand_wmat(&L.fc1, I, D, 9, 0.03f), rand_wmat(&L.fc2, D, I, 10, 0.015f);
    L.ln1_w = rand_vec(D, 11, 0.1f, 1), L.ln1_b = rand_vec(D, 12, 0.1f, 0), L.qkv_b = rand_vec(3 * D, 13, 0.1f, 0);
    L.proj_b = rand_vec(D, 14, 0.1f, 0), L.ln2_w = rand_vec(D, 15, 0.1f, 1), L.ln2_b = rand_vec(D, 16, 0.1f, 0);
    L.fc1_b = rand_vec(I, 17, 0.1f, 0), L.fc2_b = rand_vec(D, 18, 0.1f, 0);
    struct vb_vit_layer two[2] = {L, L};
    m.layers = two;
    const int32_t F = 32;
    float *       px = rand_vec(F * 3 * 224 * 224, 19, 2, 0), *ln = vb_malloc(sizeof(float) * (size_t)(F * T * D));
    double        ms[2] = {0, 0};
    int           st = VB_OK;
    for (int nl = 1; nl <= 2 && st == VB_OK; nl++) {
        m.cfg.layers = nl;
        struct vb_cuda_vit * dv = NULL;
        st = vb_cuda_vit_upload(c, &dv, &m, dt);
        for (int r = 0; r < 2 && st == VB_OK; r++) /* warm-up (allocates the activations) */
            st = vb_cuda_vit_run(c, dv, px, F, NULL, NULL, NULL, ln);
        int64_t t0 = vb_time_us();
        for (int r = 0; r < 5 && st == VB_OK; r++)
            st = vb_cuda_vit_run(c, dv, px, F, NULL, NULL, NULL, ln);
        ms[nl - 1] = (double)(vb_time_us() - t0) / 5e3;
        vb_cuda_vit_free(dv);
    }
    if (st == VB_OK) {
        double per = ms[1] - ms[0], full = ms[0] + 38 * per;
        double flop = 2.0 * F * T * (4.0 * D * D + 2.0 * D * I) + 4.0 * F * 16 * T * T * 88;
        printf("vit-g 32 frames %s (engine/cuda/vit.c, wall incl. pixel upload + ln download): 1 layer %.2f ms, 2 "
               "layers %.2f ms -> per layer %.2f ms (%.1f TFLOP/s), 39 layers ~ %.1f ms\n",
               dt == VB_DT_BF16 ? "bf16" : "f32", ms[0], ms[1], per, flop / (per * 1e-3) / 1e12, full);
    } else
        printf("vit-g 32 frames: FAILED: %s\n", vb_errmsg());
    vb_wmat_free(&m.patch), vb_wmat_free(&L.qkv), vb_wmat_free(&L.proj), vb_wmat_free(&L.fc1), vb_wmat_free(&L.fc2);
    free(m.patch_b), free(m.cls), free(m.pos), free(m.post_ln_w), free(m.post_ln_b);
    free(L.ln1_w), free(L.ln1_b), free(L.qkv_b), free(L.proj_b), free(L.ln2_w), free(L.ln2_b), free(L.fc1_b);
    free(L.fc2_b), free(px), free(ln);
    return st == VB_OK ? 0 : 1;
}

/* The Flan-T5-XL encoder through engine/cuda/t5enc.c at B sequences x n tokens (random weights), 24 layers
** estimated from 1- and 2-layer runs as vitg_time does. */
static int t5xl_time(struct vb_cuda_ctx * c, int32_t dt, int32_t B, int64_t n) {
    struct vb_t5_model m;
    memset(&m, 0, sizeof m);
    struct vb_t5_config * C = &m.cfg;
    C->vocab = 32128, C->d_model = 2048, C->d_kv = 64, C->d_ff = 5120, C->n_enc = 2, C->n_dec = 2, C->heads = 32;
    C->n_buckets = 32, C->max_distance = 128, C->eps = 1e-6f, C->act = VB_ACT_GELU_TANH, C->gated = 1;
    m.inner = 2048;
    const int64_t d = 2048, f = 5120;
    m.enc_rel = rand_vec(32 * 32, 1, 1, 0), m.enc_final_ln = rand_vec(d, 2, 0.1f, 1);
    struct vb_t5_block b;
    memset(&b, 0, sizeof b);
    rand_wmat(&b.qkv, 3 * d, d, 3, 0.02f), rand_wmat(&b.o, d, d, 4, 0.02f);
    rand_wmat(&b.ffi, 2 * f, d, 5, 0.02f), rand_wmat(&b.ffo, d, f, 6, 0.01f);
    b.ln_sa = rand_vec(d, 7, 0.1f, 1), b.ln_ff = rand_vec(d, 8, 0.1f, 1);
    struct vb_t5_block two[2] = {b, b};
    m.enc = two;
    float *emb = rand_vec(B * n * d, 9, 1, 0), *out = vb_malloc(sizeof(float) * (size_t)(B * n * d));
    double ms[2] = {0, 0};
    int    st = VB_OK;
    for (int nl = 1; nl <= 2 && st == VB_OK; nl++) {
        m.cfg.n_enc = nl;
        struct vb_cuda_t5enc * e = NULL;
        st = vb_cuda_t5enc_upload(c, &e, &m, dt);
        for (int r = 0; r < 2 && st == VB_OK; r++)
            st = vb_cuda_t5_encode(c, e, B, n, emb, NULL, NULL, out);
        int64_t t0 = vb_time_us();
        for (int r = 0; r < 5 && st == VB_OK; r++)
            st = vb_cuda_t5_encode(c, e, B, n, emb, NULL, NULL, out);
        ms[nl - 1] = (double)(vb_time_us() - t0) / 5e3;
        vb_cuda_t5enc_free(e);
    }
    if (st == VB_OK) {
        double per = ms[1] - ms[0], full = ms[0] + 23 * per, R = (double)B * (double)n;
        double flop = 2.0 * R * (4.0 * d * d + 3.0 * d * f) + 4.0 * B * 32 * (double)n * (double)n * 64;
        printf("flan-t5-xl encoder %d x %lld tokens %s (engine/cuda/t5enc.c, wall incl. upload / download): 1 layer "
               "%.2f ms, 2 layers %.2f ms -> per layer %.2f ms (%.1f TFLOP/s), 24 layers ~ %.1f ms\n",
               B, (long long)n, dt == VB_DT_BF16 ? "bf16" : "f32", ms[0], ms[1], per, flop / (per * 1e-3) / 1e12, full);
    } else
        printf("flan-t5-xl encoder: FAILED: %s\n", vb_errmsg());
    vb_wmat_free(&b.qkv), vb_wmat_free(&b.o), vb_wmat_free(&b.ffi), vb_wmat_free(&b.ffo);
    free(b.ln_sa), free(b.ln_ff), free(m.enc_rel), free(m.enc_final_ln), free(emb), free(out);
    return st == VB_OK ? 0 : 1;
}

/* vit32: the 32-candidate ViT-g pass's shapes (32 x 257 tokens, 1408 wide, 16 heads of 88, MLP 6144); t5: a
** Flan-T5-XL encoder batch (8 sequences x 128 tokens, 2048 wide, 32 heads of 64, gated FF 5120). */
static int kernels_main(void) {
    struct vb_cuda_ctx * c;
    if (vb_cuda_ctx_new(&c) != VB_OK) {
        printf("SKIP: %s\n", vb_errmsg());
        return 77;
    }
    struct vb_cuda_event *e0 = NULL, *e1 = NULL;
    vb_cuda_event_new(&e0), vb_cuda_event_new(&e1);
    int           rc = 0, reps = 20;
    const int64_t NV = 32 * 257, DV = 1408, FV = 6144, NT = 8 * 128, DT = 2048, FT = 5120;
    float *       x = dev_rand(c, NV * FV, 1), *y = dev_rand(c, NV * FV, 2), *w = dev_rand(c, FV, 3);
    float *       b = dev_rand(c, FV, 4), *att = dev_rand(c, NV * 3 * DV, 5), *tab = dev_rand(c, 32 * 32, 6);
    float *       bias = dev_rand(c, 32 * 128 * 128, 7);
    if (!x || !y || !w || !b || !att || !tab || !bias || !e0 || !e1) {
        printf("kernels: device allocation failed: %s\n", vb_errmsg());
        return 1;
    }
    KTIME("layernorm", "vit32 (8224, 1408)", vb_cuda_layernorm(c, x, NV, DV, w, b, 1e-6f, y));
    KTIME("rmsnorm", "t5 (1024, 2048)", vb_cuda_rmsnorm(c, x, NT, DT, w, 1e-6f, y));
    KTIME("gelu_erf", "vit32 (8224, 6144)", vb_cuda_act(c, y, NV * FV, VB_ACT_GELU_ERF));
    KTIME("gelu_tanh", "vit32 (8224, 6144)", vb_cuda_act(c, y, NV * FV, VB_ACT_GELU_TANH));
    KTIME("gated_gelu_tanh", "t5 (1024, 2 x 5120)", vb_cuda_gated_act(c, y, NT, FT, VB_ACT_GELU_TANH));
    KTIME("softmax", "vit32 scores (131584, 257)", vb_cuda_softmax_rows(c, y, 32 * 16 * 257, 257));
    KTIME("add", "vit32 residual (8224 x 1408)", vb_cuda_add(c, y, x, NV * DV));
    /* attention over the 32 frames: one call per frame, as the CPU engine's ViT does (qkv rows 3 * 1408 wide) */
    KTIME("attention", "vit32 32 x (257 x 257, 16 x 88)", att_vit(c, att, y));
    KTIME("attention", "t5 8 x (128 x 128, 32 x 64) + bias", att_t5(c, att, bias, y));
    KTIME("t5_bias", "t5 (32, 128, 128)", vb_cuda_t5_bias(c, tab, 32, 32, 128, 1, 128, 0, 128, bias));
    /* the ViT-g fc1 as a Linear on resident bf16 weights (x rounded to bf16 first) and in f32 */
    for (int t = 0; t < 2; t++) {
        struct vb_wmat W;
        int32_t        dt = t ? VB_DT_F32 : VB_DT_BF16;
        float *        hw = vb_malloc(sizeof(float) * FV * DV);
        fill(hw, FV * DV, 9, 0.05f);
        vb_wmat_alloc(&W, FV, DV, VB_DT_F32);
        vb_wmat_set_f32(&W, 0, hw, FV);
        free(hw);
        struct vb_cuda_wmat D;
        if (vb_cuda_wmat_upload(c, &D, &W, dt) != VB_OK) {
            printf("kernels: upload: %s\n", vb_errmsg());
            rc = 1;
        } else {
            char shape[64];
            snprintf(shape, sizeof shape, "vit32 fc1 8224 x 6144 x 1408 %s", t ? "f32" : "bf16");
            KTIME("linear", shape, vb_cuda_linear(c, x, DV, NV, &D, b, y, FV, 0.0f));
        }
        vb_cuda_wmat_free(&D);
        vb_wmat_free(&W);
    }
    vb_cuda_free(x), vb_cuda_free(y), vb_cuda_free(w), vb_cuda_free(b), vb_cuda_free(att), vb_cuda_free(tab);
    vb_cuda_free(bias);
    rc |= vitg_time(c, VB_DT_BF16);
    rc |= vitg_time(c, VB_DT_F32);
    rc |= t5xl_time(c, VB_DT_BF16, 32, 96);
    rc |= t5xl_time(c, VB_DT_BF16, 1, 168);
    vb_cuda_event_free(e0), vb_cuda_event_free(e1);
    vb_cuda_ctx_free(c);
    return rc;
}

int main(int argc, char ** argv) {
    if (argc >= 5 && !strcmp(argv[1], "--rate")) return rate_main(argc, argv);
    if (argc == 2 && !strcmp(argv[1], "--kernels")) return kernels_main();
    if (argc == 2 && !strcmp(argv[1], "--self-check-cpu")) { /* the wiring / e2e tests' own code, CPU vs CPU */
        const struct CMUnitTest t[] = {cmocka_unit_test(test_self_check_cpu)};
        return cmocka_run_group_tests_name("cuda: wiring and methods e2e, CPU vs CPU", t, NULL, NULL) ? 1 : 0;
    }
    const struct CMUnitTest always[] = {
        cmocka_unit_test(test_query),
        cmocka_unit_test(test_unavailable_fails_cleanly),
        cmocka_unit_test(test_unpack),
        cmocka_unit_test(test_wiring_refuses),
    };
    int fails = cmocka_run_group_tests_name("cuda (every build)", always, NULL, NULL);
    if (fails) return 1;
    struct vb_cuda_info I;
    if (!vb_cuda_query(&I)) {
        const char *why = I.reason, *pre = "no CUDA GPU visible: ";
        if (!strncmp(why, pre, strlen(pre))) why += strlen(pre);
        if (!I.built)
            printf("SKIP: CUDA backend not built (make CUDA=0 or no nvcc): the kernel-vs-CPU group did not run\n");
        else
            printf("SKIP: no CUDA GPU visible (%s): the kernel-vs-CPU group did not run\n", why);
        return 77;
    }
    const struct CMUnitTest gpu[] = {
        cmocka_unit_test(test_norms),     cmocka_unit_test(test_acts),        cmocka_unit_test(test_softmax_add),
        cmocka_unit_test(test_attention), cmocka_unit_test(test_t5_bias),     cmocka_unit_test(test_linear),
        cmocka_unit_test(test_vit),       cmocka_unit_test(test_t5enc),       cmocka_unit_test(test_argmax_copy),
        cmocka_unit_test(test_qformer),   cmocka_unit_test(test_t5dec),       cmocka_unit_test(test_wiring),
        cmocka_unit_test(test_methods),   cmocka_unit_test(test_rate_events),
    };
    return cmocka_run_group_tests_name("cuda (GPU vs CPU)", gpu, gpu_setup, gpu_teardown) ? 1 : 0;
}
