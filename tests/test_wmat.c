/* test_wmat.c — engine/wmat (the kernels forced one by one: tests/test_wmat_kernels.c): the half-precision Linear
 *against vb_linear on the same (rounded) values, row lookup,
 ** loading with conversion from every file dtype into every resident dtype, error messages, vb_weights_drop_pages
 ** lowering VmRSS; and model level: a random ViT / Q-Former / T5 written as BF16 (and F16), loaded resident in F32
 ** and in half precision, give the same outputs (1e-5 relative) and the same greedy ids. */
#include <setjmp.h> /* cmocka.h needs these four first */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/helpers.h"
#include "tests/wmat_cases.h"

#include "base/common.h"
#include "base/rng.h"
#include "engine/blas.h"
#include "engine/generate.h"
#include "engine/ops.h"
#include "engine/qformer.h"
#include "engine/t5.h"
#include "engine/vit.h"
#include "engine/weights.h"
#include "engine/wmat.h"
#include "methods/bundle.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[512];

static void path_of(char * buf, size_t len, const char * name) {
    snprintf(buf, len, "%s/%s", tmpdir, name);
}

static int setup(void ** state) {
    (void)state;
    return scratch_dir_make(tmpdir, sizeof tmpdir, "wmat");
}

static int teardown(void ** state) {
    (void)state;
    scratch_dir_remove(tmpdir);
    return 0;
}

static void test_linear(void ** state) {
    (void)state;
    vb_blas_set_threads(2); /* the two-thread split is exercised by the large cases */
    linear_cases();
}

static void test_linear_portable(void ** state) {
    (void)state;
    setenv("VB_WMAT_PORTABLE", "1", 1);
    linear_cases();
    unsetenv("VB_WMAT_PORTABLE");
}

/* F32 resident: vb_linear's result (other summation order: within 1e-5 of max |y|); the allocation is whole panels
** of 16 rows; a view of rows 10..14 (inside the first panel) is those rows. */
static void test_linear_f32_exact(void ** state) {
    (void)state;
    int64_t rows = 33, cols = 70, n = 9;
    float * W = malloc(sizeof(float) * (size_t)(rows * cols)), *x = malloc(sizeof(float) * (size_t)(n * cols));
    float * b = malloc(sizeof(float) * (size_t)rows), *y = malloc(sizeof(float) * (size_t)(n * rows));
    float * yr = malloc(sizeof(float) * (size_t)(n * rows));
    urand_fill(W, rows * cols, 1);
    urand_fill(x, n * cols, 1);
    urand_fill(b, rows, 1);
    struct vb_wmat M;
    assert_int_equal(vb_wmat_alloc(&M, rows, cols, VB_DT_F32), VB_OK);
    vb_wmat_set_f32(&M, 0, W, rows);
    assert_int_equal(vb_wmat_bytes(&M), (size_t)(48 * cols * 4)); /* 33 rows: 3 panels of 16 */
    assert_int_equal((uintptr_t)M.data % 64, 0);
    /* the packed layout: row r, column k at ((r / 16) * cols + k) * 16 + r % 16; padding rows are zeros */
    for (int64_t r = 0; r < 48; r++)
        for (int64_t k = 0; k < cols; k += 7) {
            float v = ((const float *)M.data)[((r / 16) * cols + k) * 16 + r % 16];
            assert_true(v == (r < rows ? W[r * cols + k] : 0.0f));
        }
    vb_wmat_linear(x, n, &M, b, y);
    vb_linear(x, n, cols, W, b, rows, yr);
    assert_true(rel_err(y, yr, n * rows) <= 1e-5);
    /* a row view is the same rows */
    struct vb_wmat V = vb_wmat_rows(&M, 10, 5);
    assert_int_equal(V.row0, 10);
    vb_wmat_linear(x, n, &V, NULL, y);
    vb_linear(x, n, cols, W + 10 * cols, NULL, 5, yr);
    assert_true(rel_err(y, yr, n * 5) <= 1e-5);
    V = vb_wmat_rows(&M, 20, 13); /* whole panels move the pointer */
    assert_int_equal(V.row0, 4);
    assert_ptr_equal(V.data, (const float *)M.data + 16 * cols);
    vb_wmat_linear(x, n, &V, NULL, y);
    vb_linear(x, n, cols, W + 20 * cols, NULL, 13, yr);
    assert_true(rel_err(y, yr, n * 13) <= 1e-5);
    vb_wmat_free(&M);
    assert_null(M.data);
    free(W), free(x), free(b), free(y), free(yr);
}

/* The bf16 layout (wmat.h): panels of 16 rows in pairs of k, Kp = cols rounded up to even; row r, column k at
** ((r / 16) * Kp + (k & ~1)) * 16 + 2 (r % 16) + k % 2, a zero past an odd last column and in the padding rows; the
** allocation is whole panels of Kp; views of whole panels move the pointer by 16 Kp; vb_wmat_row reads it back; f16
** keeps the k-major layout. */
static void test_bf16_pair_layout(void ** state) {
    (void)state;
    const int64_t rows = 19, cols = 7, kp = 8;
    float         W[19 * 7], row[7];
    for (int64_t i = 0; i < rows * cols; i++)
        W[i] = round_to(VB_DT_BF16, urand(1.0f));
    struct vb_wmat M;
    assert_int_equal(vb_wmat_alloc(&M, rows, cols, VB_DT_BF16), VB_OK);
    memset(M.data, 0xff, vb_wmat_bytes(&M)); /* garbage (NaN bits) everywhere, then the rows */
    assert_int_equal(vb_wmat_bytes(&M), (size_t)(32 * kp * 2));
    assert_int_equal(vb_wmat_panel_k(&M), kp);
    vb_wmat_set_f32(&M, 0, W, rows);
    const uint16_t * d = M.data;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t k = 0; k < kp; k++) {
            size_t at = (size_t)(((r / 16) * kp + (k & ~1)) * 16 + 2 * (r % 16) + (k & 1));
            if (k < cols) assert_int_equal(vb_wmat_index(&M, r, k), at);
            assert_true(vb_bf16_to_f32(d[at]) == (k < cols ? W[r * cols + k] : 0.0f));
        }
    for (int64_t r = 0; r < rows; r++) {
        vb_wmat_row(&M, r, row);
        assert_memory_equal(row, W + r * cols, sizeof row);
    }
    struct vb_wmat V = vb_wmat_rows(&M, 17, 2);
    assert_int_equal(V.row0, 1);
    assert_ptr_equal(V.data, d + 16 * kp);
    vb_wmat_row(&V, 1, row);
    assert_memory_equal(row, W + 18 * cols, sizeof row);
    vb_wmat_free(&M);
    /* f16: k-major, no padding column */
    assert_int_equal(vb_wmat_alloc(&M, rows, cols, VB_DT_F16), VB_OK);
    assert_int_equal(vb_wmat_panel_k(&M), cols);
    assert_int_equal(vb_wmat_index(&M, 17, 5), (size_t)((cols + 5) * 16 + 1)); /* ((17 / 16) cols + 5) 16 + 17 % 16 */
    assert_int_equal(vb_wmat_bytes(&M), (size_t)(32 * cols * 2));
    vb_wmat_free(&M);
}

/* Every output row depends only on its own input row: a row computed alone (a GEMV), or at any position of a batch
** (any 6-row group, the tail group, any row block), with 1 or 2 threads, gives the same bits; and a half matrix
** gives exactly the f32 result on its rounded weights.  (The runner relies on this: ViT features of a frame are
** the same whatever it was batched with.) */
static void test_batch_invariance(void ** state) {
    (void)state;
    batch_invariance();
}

static void test_row_and_dtype_parse(void ** state) {
    (void)state;
    const int32_t dts[] = {VB_DT_F32, VB_DT_BF16, VB_DT_F16};
    for (int d = 0; d < 3; d++) {
        float src[3 * 11], row[11];
        for (int i = 0; i < 33; i++)
            src[i] = urand(3);
        struct vb_wmat W;
        assert_int_equal(vb_wmat_alloc(&W, 3, 11, dts[d]), VB_OK);
        vb_wmat_set_f32(&W, 0, src, 3);
        for (int r = 0; r < 3; r++) {
            vb_wmat_row(&W, r, row);
            for (int k = 0; k < 11; k++)
                assert_true(row[k] == round_to(dts[d], src[r * 11 + k]));
        }
        vb_wmat_free(&W);
    }
    int32_t dt = -1;
    assert_int_equal(vb_wmat_dtype_parse("bf16", &dt), VB_OK);
    assert_int_equal(dt, VB_DT_BF16);
    assert_int_equal(vb_wmat_dtype_parse("F16", &dt), VB_OK);
    assert_int_equal(dt, VB_DT_F16);
    assert_int_equal(vb_wmat_dtype_parse("f32", &dt), VB_OK);
    assert_int_equal(dt, VB_DT_F32);
    assert_int_equal(vb_wmat_dtype_parse("q4", &dt), VB_ERR_ARG);
    assert_non_null(strstr(vb_errmsg(), "'q4'"));
    struct vb_wmat W;
    assert_int_equal(vb_wmat_alloc(&W, 2, 2, VB_DT_I32), VB_ERR_ARG);
    assert_int_equal(vb_wmat_alloc(&W, 0, 2, VB_DT_F32), VB_ERR_ARG);
}

/* A file with the same 6 x 10 values stored as F32 ("a32"), F16 ("a16") and BF16 ("ab16"), plus an I32 tensor. */
static void write_conv_file(const char * p, float * vals) {
    for (int i = 0; i < 60; i++)
        vals[i] = urand(4.0f);
    vals[0] = 1.0f + 1.0f / 256; /* a bf16 tie: rounds to even (1.0) */
    vals[1] = 70000.0f;          /* f16 overflow: inf */
    vals[2] = 1e-6f;             /* an f16 subnormal */
    uint16_t h[60], bh[60];
    int32_t  iv[4] = {1, 2, 3, 4};
    for (int i = 0; i < 60; i++)
        h[i] = vb_f32_to_f16(vals[i]), bh[i] = vb_f32_to_bf16(vals[i]);
    struct vb_st_writer * sw = vb_st_writer_new();
    int64_t               s2[2] = {6, 10}, s1[1] = {4};
    vb_st_writer_add(sw, "a32", VB_DT_F32, 2, s2, vals);
    vb_st_writer_add(sw, "a16", VB_DT_F16, 2, s2, h);
    vb_st_writer_add(sw, "ab16", VB_DT_BF16, 2, s2, bh);
    vb_st_writer_add(sw, "ints", VB_DT_I32, 1, s1, iv);
    assert_int_equal(vb_st_writer_write(sw, p), VB_OK);
    vb_st_writer_free(sw);
}

/* expected resident value of a file value stored as sdt, held as ddt */
static float expect_conv(float v, int32_t sdt, int32_t ddt) {
    float file = round_to(sdt, v); /* what the file holds, as f32 (exact) */
    return round_to(ddt, file);
}

static void test_load_conversions(void ** state) {
    (void)state;
    char p[600];
    path_of(p, sizeof p, "conv.safetensors");
    float vals[60];
    write_conv_file(p, vals);
    struct vb_weights * w = NULL;
    assert_int_equal(vb_weights_open(&w, p), VB_OK);
    const char *  names[3] = {"a32", "a16", "ab16"};
    const int32_t sdts[3] = {VB_DT_F32, VB_DT_F16, VB_DT_BF16}, ddts[3] = {VB_DT_F32, VB_DT_BF16, VB_DT_F16};
    int64_t       shape[2] = {6, 10};
    for (int s = 0; s < 3; s++)
        for (int d = 0; d < 3; d++) {
            struct vb_wmat W;
            assert_int_equal(vb_wmat_load(&W, ddts[d], w, names[s], 2, shape), VB_OK);
            assert_int_equal(W.rows, 6);
            assert_int_equal(W.cols, 10);
            float row[10];
            for (int r = 0; r < 6; r++) {
                vb_wmat_row(&W, r, row);
                for (int k = 0; k < 10; k++) {
                    float e = expect_conv(vals[r * 10 + k], sdts[s], ddts[d]);
                    if (!(row[k] == e || (isnan(row[k]) && isnan(e))))
                        fail_msg("%s -> %s [%d][%d]: %.9g expected %.9g", names[s], vb_dtype_name(ddts[d]), r, k,
                                 (double)row[k], (double)e);
                }
            }
            if (sdts[s] == ddts[d]) { /* same dtype: the bytes themselves, packed into the panel layout (bf16:
                                       ** pairs of k, wmat.h) */
                const uint8_t * src = vb_weights_find(w, names[s])->data;
                size_t          es = sdts[s] == VB_DT_F32 ? 4 : 2;
                for (int r = 0; r < 6; r++)
                    for (int k = 0; k < 10; k++) {
                        size_t at =
                            ddts[d] == VB_DT_BF16 ? (size_t)((k & ~1) * 16 + 2 * r + (k & 1)) : (size_t)(k * 16 + r);
                        assert_int_equal(vb_wmat_index(&W, r, k), at);
                        assert_memory_equal((const uint8_t *)W.data + at * es, src + (size_t)(r * 10 + k) * es, es);
                    }
            }
            vb_wmat_free(&W);
        }
    /* spot checks of the rounding rules on the special values */
    struct vb_wmat W;
    float          row[10];
    assert_int_equal(vb_wmat_load(&W, VB_DT_BF16, w, "a32", 2, shape), VB_OK);
    vb_wmat_row(&W, 0, row);
    assert_true(row[0] == 1.0f); /* tie to even */
    vb_wmat_free(&W);
    assert_int_equal(vb_wmat_load(&W, VB_DT_F16, w, "a32", 2, shape), VB_OK);
    vb_wmat_row(&W, 0, row);
    assert_true(isinf(row[1]) && row[1] > 0);
    assert_true(row[2] > 0 && row[2] < 6.2e-5f && fabsf(row[2] - 1e-6f) < 6e-8f);
    vb_wmat_free(&W);
    /* fused rows: a32 into rows 3..8 of a 12 x 10 matrix, a16 into rows 0..5 of a (6, 10) view */
    assert_int_equal(vb_wmat_alloc(&W, 12, 10, VB_DT_BF16), VB_OK);
    assert_int_equal(vb_wmat_load_rows(&W, 6, w, "a32", 2, shape), VB_OK);
    assert_int_equal(vb_wmat_load_rows(&W, 0, w, "a16", 2, shape), VB_OK);
    vb_wmat_row(&W, 7, row);
    assert_true(row[3] == expect_conv(vals[13], VB_DT_F32, VB_DT_BF16));
    vb_wmat_row(&W, 1, row);
    assert_true(row[3] == expect_conv(vals[13], VB_DT_F16, VB_DT_BF16));
    /* rows past the matrix */
    assert_int_equal(vb_wmat_load_rows(&W, 7, w, "a32", 2, shape), VB_ERR_SHAPE);
    assert_non_null(strstr(vb_errmsg(), "'a32'"));
    assert_non_null(strstr(vb_errmsg(), p));
    vb_wmat_free(&W);
    /* errors name file and tensor; nothing allocated */
    int64_t bad[2] = {10, 6};
    assert_int_equal(vb_wmat_load(&W, VB_DT_BF16, w, "a32", 2, bad), VB_ERR_SHAPE);
    assert_null(W.data);
    assert_non_null(strstr(vb_errmsg(), "'a32'"));
    assert_non_null(strstr(vb_errmsg(), p));
    assert_non_null(strstr(vb_errmsg(), "[6, 10]"));
    assert_int_equal(vb_wmat_load(&W, VB_DT_BF16, w, "nope.weight", 2, shape), VB_ERR_NOTFOUND);
    assert_null(W.data);
    assert_non_null(strstr(vb_errmsg(), "'nope.weight'"));
    assert_non_null(strstr(vb_errmsg(), p));
    int64_t s4[1] = {4};
    assert_int_equal(vb_wmat_load(&W, VB_DT_BF16, w, "ints", 1, s4), VB_ERR_UNSUPPORTED);
    assert_non_null(strstr(vb_errmsg(), "'ints'"));
    vb_weights_close(w);
}

/* vb_weights_drop_pages: after reading a 64 MiB tensor the RSS holds it; dropping it gives the pages back. */
static void test_drop_pages(void ** state) {
    (void)state;
    if (vb_rss_current_kb() < 0) {
        printf("SKIP: /proc/self/status unavailable\n");
        skip();
    }
    char p[600];
    path_of(p, sizeof p, "big.safetensors");
    const int64_t n = 16 << 20; /* 64 MiB of f32 */
    {
        float * v = malloc(sizeof(float) * (size_t)n);
        for (int64_t i = 0; i < n; i++)
            v[i] = (float)(i & 1023);
        struct vb_st_writer * sw = vb_st_writer_new();
        int64_t               sh[2] = {4096, 4096};
        vb_st_writer_add(sw, "big", VB_DT_F32, 2, sh, v);
        free(v);
        assert_int_equal(vb_st_writer_write(sw, p), VB_OK);
        vb_st_writer_free(sw);
    }
    struct vb_weights * w = NULL;
    assert_int_equal(vb_weights_open(&w, p), VB_OK);
    const struct vb_st_tensor * t = vb_weights_find(w, "big");
    int64_t                     r0 = vb_rss_current_kb();
    volatile uint32_t           acc = 0;
    for (size_t i = 0; i < t->nbytes; i += 4096)
        acc += t->data[i];
    int64_t r1 = vb_rss_current_kb();
    vb_weights_drop_pages(w, t);
    int64_t r2 = vb_rss_current_kb();
    printf("RSS: %lld KiB before reading, %lld after, %lld after drop_pages\n", (long long)r0, (long long)r1,
           (long long)r2);
    assert_true(r1 - r0 > 60 * 1024);
    assert_true(r1 - r2 > 60 * 1024);
    /* the data is still readable (from the page cache) */
    assert_true(t->data[4 * 1023] == 0 && t->data[4 * 1023 + 3] == 0x44); /* 1023.0f = 0x447fc000 */
    /* a wmat load drops the pages of its source too */
    struct vb_wmat W;
    int64_t        sh[2] = {4096, 4096};
    int64_t        r3 = vb_rss_current_kb();
    assert_int_equal(vb_wmat_load(&W, VB_DT_BF16, w, "big", 2, sh), VB_OK);
    int64_t r4 = vb_rss_current_kb();
    printf("RSS: %lld KiB before a bf16 load of it, %lld after (the 32 MiB resident copy only)\n", (long long)r3,
           (long long)r4);
    /* 32 MiB + a little; under valgrind / ASan their shadow memory of the new copy counts too, but anything below the
    ** 64 MiB of the f32 source still shows the source pages were dropped */
    assert_true(r4 - r3 < (getenv("VB_SANITIZED") ? 56 : 40) * 1024);
    vb_wmat_free(&W);
    vb_weights_close(w);
    (void)acc;
}

/* ---------------------------------------------------------------- model level */

/* A small model config: InstructBLIP (text FFN, word embeddings) with an untied T5, or BLIP-2 with a tied T5. */
static void small_config(struct vb_model_config * c, int instruct) {
    vb_config_defaults(c, instruct ? VB_ARCH_INSTRUCTBLIP : VB_ARCH_BLIP2);
    c->num_query_tokens = 8;
    struct vb_vision_config * V = &c->vision;
    V->hidden = 64, V->intermediate = 168, V->layers = 2, V->heads = 4, V->image_size = 56, V->patch = 7;
    V->n_patches = 64, V->n_tokens = 65; /* 2 frames: 130 rows, the panel GEMM path; T5 decoder: the GEMV */
    struct vb_qformer_config * Q = &c->qformer;
    Q->hidden = 48, Q->intermediate = 100, Q->layers = 2, Q->heads = 4, Q->vocab = 50, Q->max_pos = 16;
    Q->cross_freq = 2, Q->encoder_hidden = 64;
    struct vb_t5_config * T = &c->t5;
    T->vocab = 61, T->d_model = 40, T->d_kv = 8, T->d_ff = 72, T->n_enc = 2, T->n_dec = 2, T->heads = 4;
    T->gated = 1, T->act = VB_ACT_GELU_TANH, T->tie = !instruct, T->eos_id = 1, T->pad_id = 0, T->dec_start_id = 0;
}

/* Every tensor of the bundle layout, random, rounded to dt and stored as dt. */
static void write_model(const char * path, const struct vb_model_config * c, int32_t dt) {
    struct vb_tensor_spec * sp = NULL;
    int32_t                 n = 0;
    assert_int_equal(vb_bundle_tensor_specs(c, 0, 0, 0, &sp, &n), VB_OK);
    struct vb_st_writer * sw = vb_st_writer_new();
    for (int32_t i = 0; i < n; i++) {
        int64_t numel = 1;
        for (int32_t k = 0; k < sp[i].ndim; k++)
            numel *= sp[i].shape[k];
        uint16_t * h = malloc(sizeof(uint16_t) * (size_t)numel);
        for (int64_t k = 0; k < numel; k++) {
            float v = sp[i].init == VB_INIT_ONES   ? 1.0f + urand(0.05f)
                      : sp[i].init == VB_INIT_BIAS ? urand(0.05f)
                                                   : urand(1.7f * sp[i].scale);
            h[k] = dt == VB_DT_BF16 ? vb_f32_to_bf16(v) : vb_f32_to_f16(v);
        }
        vb_st_writer_add(sw, sp[i].name, dt, sp[i].ndim, sp[i].shape, h);
        free(h);
    }
    assert_int_equal(vb_st_writer_write(sw, path), VB_OK);
    vb_st_writer_free(sw);
    free(sp);
}

struct model_out {
    float * vit;       /* (F, T, Dv) post-LN */
    float * qf;        /* (F, Q + L, D) full output */
    float * logits;    /* (n_dec, vocab) teacher forcing */
    int32_t ids[2][7]; /* greedy, 2 rows, 6 steps */
    int64_t bytes;     /* resident bytes of the three parts */
};

/* Load the three parts from `path` resident in dt and run a fixed input through them. */
static void run_model(const char * path, const struct vb_model_config * c0, int32_t dt, struct model_out * o) {
    struct vb_model_config c = *c0;
    c.vision.weight_dtype = c.qformer.weight_dtype = c.t5.weight_dtype = dt;
    struct vb_weights * w = NULL;
    assert_int_equal(vb_weights_open(&w, path), VB_OK);
    struct vb_vit *      vit = NULL;
    struct vb_qformer *  qf = NULL;
    struct vb_t5_model * t5 = NULL;
    int                  rc = vb_vit_load(&vit, w, &c.vision, "vision_model.");
    if (rc != VB_OK) fail_msg("vit load: %s", vb_errmsg());
    rc = vb_qformer_load(&qf, w, &c.qformer, c.num_query_tokens, "");
    if (rc != VB_OK) fail_msg("qformer load: %s", vb_errmsg());
    rc = vb_t5_load(&t5, w, "language_model.", &c.t5);
    if (rc != VB_OK) fail_msg("t5 load: %s", vb_errmsg());
    o->bytes = vb_vit_resident_bytes(vit) + vb_qformer_resident_bytes(qf) + vb_t5_resident_bytes(t5);
    /* ViT, 2 frames */
    const int64_t F = 2, S = c.vision.image_size, T = c.vision.n_tokens, Dv = c.vision.hidden;
    uint64_t      save = lcg;
    lcg = 12345;
    float * px = malloc(sizeof(float) * (size_t)(F * 3 * S * S));
    urand_fill(px, F * 3 * S * S, 2.0f);
    struct vb_vit_ctx * vc = NULL;
    assert_int_equal(vb_vit_ctx_new(&vc, vit, (int32_t)F), VB_OK);
    o->vit = malloc(sizeof(float) * (size_t)(F * T * Dv));
    assert_int_equal(vb_vit_run(vc, px, (int32_t)F, NULL, NULL, NULL, o->vit), VB_OK);
    /* Q-Former on the ViT output (+ 3 text tokens, one padded, for InstructBLIP) */
    const int32_t           L = c.qformer.has_text ? 3 : 0, Q = c.num_query_tokens;
    int32_t                 ids[6] = {3, 17, 44, 9, 2, 0}, mask[6] = {1, 1, 1, 1, 1, 0};
    struct vb_qformer_ctx * qc = NULL;
    assert_int_equal(vb_qformer_ctx_new(&qc, qf, (int32_t)F, L, (int32_t)T), VB_OK);
    o->qf = malloc(sizeof(float) * (size_t)(F * (Q + L) * c.qformer.hidden));
    assert_int_equal(
        vb_qformer_run(qc, o->vit, (int32_t)F, (int32_t)T, L ? ids : NULL, L ? mask : NULL, L, NULL, o->qf, NULL, NULL),
        VB_OK);
    /* T5: encode 50 embeddings (2 rows), teacher-force 5 ids, greedy 6 steps batched over 2 rows */
    const int64_t d = c.t5.d_model, V = c.t5.vocab, ne = 50; /* encoder: 50 rows, the GEMM path */
    float *       emb = malloc(sizeof(float) * (size_t)(2 * ne * d));
    urand_fill(emb, 2 * ne * d, 1.0f);
    struct vb_t5_ctx * tc[2] = {NULL, NULL};
    for (int r = 0; r < 2; r++) {
        assert_int_equal(vb_t5_ctx_new(&tc[r], t5, ne, 8), VB_OK);
        assert_int_equal(vb_t5_encode(tc[r], emb + r * ne * d, NULL, ne, NULL), VB_OK);
    }
    int32_t tf[5] = {0, 7, 33, 12, 5};
    o->logits = malloc(sizeof(float) * (size_t)(5 * V));
    assert_int_equal(vb_t5_decode(tc[0], tf, 5, o->logits, NULL, NULL), VB_OK);
    struct vb_t5_batch * bt = NULL;
    assert_int_equal(vb_t5_batch_new(&bt, t5, 2, 2), VB_OK);
    struct vb_gen_opts go;
    vb_gen_opts_default(&go);
    go.max_new_tokens = 6;
    go.run_all_steps = 1;
    go.batch = bt;
    float * scores = malloc(sizeof(float) * (size_t)(6 * 2 * V));
    int32_t steps = 0;
    assert_int_equal(vb_generate_greedy(tc, 2, &go, &o->ids[0][0], scores, NULL, NULL, &steps), VB_OK);
    lcg = save;
    free(scores), free(emb), free(px);
    vb_t5_batch_free(bt);
    vb_t5_ctx_free(tc[0]), vb_t5_ctx_free(tc[1]);
    vb_qformer_ctx_free(qc);
    vb_vit_ctx_free(vc);
    vb_t5_free(t5);
    vb_qformer_free(qf);
    vb_vit_free(vit);
    vb_weights_close(w);
}

static void free_out(struct model_out * o) {
    free(o->vit), free(o->qf), free(o->logits);
}

static void check_models(int instruct, int32_t file_dt, int32_t res_dt, const char * fname) {
    struct vb_model_config c;
    small_config(&c, instruct);
    char p[600];
    path_of(p, sizeof p, fname);
    write_model(p, &c, file_dt);
    struct model_out a, b;
    run_model(p, &c, VB_DT_F32, &a);
    run_model(p, &c, res_dt, &b);
    const int64_t F = 2, L = instruct ? 3 : 0;
    double        ev = rel_err(b.vit, a.vit, F * c.vision.n_tokens * c.vision.hidden);
    double        eq = rel_err(b.qf, a.qf, F * (c.num_query_tokens + L) * c.qformer.hidden);
    double        el = rel_err(b.logits, a.logits, 5 * c.t5.vocab);
    printf("%s file %s resident %s: rel err vit %.2e qformer %.2e logits %.2e; resident %lld vs %lld bytes\n",
           instruct ? "instructblip" : "blip2", vb_dtype_name(file_dt), vb_dtype_name(res_dt), ev, eq, el,
           (long long)b.bytes, (long long)a.bytes);
    assert_true(ev <= 1e-5);
    assert_true(eq <= 1e-5);
    assert_true(el <= 1e-5);
    assert_memory_equal(a.ids, b.ids, sizeof a.ids);
    assert_true(b.bytes < a.bytes * 3 / 4); /* the matrices are most of the bytes */
    free_out(&a), free_out(&b);
}

static void test_models_bf16(void ** state) {
    (void)state;
    vb_blas_set_threads(2);
    check_models(1, VB_DT_BF16, VB_DT_BF16, "vit.safetensors");
    check_models(0, VB_DT_BF16, VB_DT_BF16, "qf.safetensors");
}

static void test_models_f16(void ** state) {
    (void)state;
    check_models(1, VB_DT_F16, VB_DT_F16, "t5.safetensors");
    check_models(0, VB_DT_F16, VB_DT_F16, "t5h.safetensors");
}

/* ---------------------------------------------------------------- benchmark (VB_WMAT_BENCH=1, not a test) */

static double now_s(void) {
    return (double)vb_time_us() * 1e-6;
}

static int cmp_d(const void * a, const void * b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* median seconds of reps calls of y = x W^T for W (rows, cols) in dt and n rows; F32 with n == 1 uses sgemv as T5 */
static double time_linear(int32_t dt, int64_t rows, int64_t cols, int64_t n, int reps) {
    struct vb_wmat W;
    VB_ASSERT(vb_wmat_alloc(&W, rows, cols, dt) == VB_OK);
    float * tmp = malloc(sizeof(float) * (size_t)cols);
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t k = 0; k < cols; k++)
            tmp[k] = urand(0.05f);
        vb_wmat_set_f32(&W, r, tmp, 1);
    }
    free(tmp);
    float *x = malloc(sizeof(float) * (size_t)(n * cols)), *y = malloc(sizeof(float) * (size_t)(n * rows));
    urand_fill(x, n * cols, 1);
    double t[64];
    for (int r = -1; r < reps; r++) {
        double t0 = now_s();
        if (dt == VB_DT_F32 && n == 1)
            cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)rows, (int)cols, 1.0f, W.data, (int)cols, x, 1, 0.0f, y, 1);
        else
            vb_wmat_linear(x, n, &W, NULL, y);
        if (r >= 0) t[r] = now_s() - t0;
    }
    qsort(t, (size_t)reps, sizeof t[0], cmp_d);
    vb_wmat_free(&W);
    free(x), free(y);
    return t[reps / 2];
}

/* ---- model-level benchmark at BLIP-2 Flan-T5-XL shapes, 2 layers, weights random (built in memory) */

static void rand_wmat(struct vb_wmat * W, int64_t rows, int64_t cols, int32_t dt, float a) {
    VB_ASSERT(vb_wmat_alloc(W, rows, cols, dt) == VB_OK);
    float * tmp = malloc(sizeof(float) * (size_t)cols);
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t k = 0; k < cols; k++)
            tmp[k] = urand(a);
        vb_wmat_set_f32(W, r, tmp, 1);
    }
    free(tmp);
}

static float * rand_vec(int64_t n, float base, float a) {
    float * v = malloc(sizeof(float) * (size_t)n);
    for (int64_t i = 0; i < n; i++)
        v[i] = base + urand(a);
    return v;
}

static double median_d(double * t, int n) {
    if (n > 32) n = 32;
    qsort(t, (size_t)n, sizeof t[0], cmp_d);
    return t[n / 2];
}

/* ViT-g with 2 blocks (weights in dt) */
static void vit_build(struct vb_vit * m, int32_t dt) {
    struct vb_model_config c;
    vb_config_defaults(&c, VB_ARCH_BLIP2);
    memset(m, 0, sizeof *m);
    m->cfg = c.vision;
    m->cfg.layers = 2;
    m->grid = m->cfg.image_size / m->cfg.patch;
    m->cfg.n_patches = m->grid * m->grid;
    m->cfg.n_tokens = m->cfg.n_patches + 1;
    m->patch_dim = 3 * m->cfg.patch * m->cfg.patch;
    const int64_t D = m->cfg.hidden, Im = m->cfg.intermediate, T = m->cfg.n_tokens;
    rand_wmat(&m->patch, D, m->patch_dim, dt, 0.05f);
    m->patch_b = rand_vec(D, 0, 0.02f), m->cls = rand_vec(D, 0, 0.02f), m->pos = rand_vec(T * D, 0, 0.02f);
    m->post_ln_w = rand_vec(D, 1, 0.05f), m->post_ln_b = rand_vec(D, 0, 0.02f);
    m->layers = calloc(2, sizeof *m->layers);
    for (int l = 0; l < 2; l++) {
        struct vb_vit_layer * y = &m->layers[l];
        y->ln1_w = rand_vec(D, 1, 0.05f), y->ln1_b = rand_vec(D, 0, 0.02f);
        y->ln2_w = rand_vec(D, 1, 0.05f), y->ln2_b = rand_vec(D, 0, 0.02f);
        rand_wmat(&y->qkv, 3 * D, D, dt, 0.04f), y->qkv_b = rand_vec(3 * D, 0, 0.02f);
        rand_wmat(&y->proj, D, D, dt, 0.04f), y->proj_b = rand_vec(D, 0, 0.02f);
        rand_wmat(&y->fc1, Im, D, dt, 0.04f), y->fc1_b = rand_vec(Im, 0, 0.02f);
        rand_wmat(&y->fc2, D, Im, dt, 0.02f), y->fc2_b = rand_vec(D, 0, 0.02f);
    }
}

static void vit_release(struct vb_vit * m) {
    for (int l = 0; l < 2; l++) {
        struct vb_vit_layer * y = &m->layers[l];
        free(y->ln1_w), free(y->ln1_b), free(y->ln2_w), free(y->ln2_b), free(y->qkv_b), free(y->proj_b);
        free(y->fc1_b), free(y->fc2_b);
        vb_wmat_free(&y->qkv), vb_wmat_free(&y->proj), vb_wmat_free(&y->fc1), vb_wmat_free(&y->fc2);
    }
    free(m->layers), free(m->patch_b), free(m->cls), free(m->pos), free(m->post_ln_w), free(m->post_ln_b);
    vb_wmat_free(&m->patch);
}

/* Flan-T5-XL with 2 encoder + 2 decoder blocks, untied lm_head 32128 x 2048 (weights in dt) */
static void t5_build(struct vb_t5_model * m, int32_t dt) {
    struct vb_model_config c;
    vb_config_defaults(&c, VB_ARCH_BLIP2);
    struct vb_t5_config * C = &c.t5;
    C->vocab = 32128, C->d_model = 2048, C->d_kv = 64, C->d_ff = 5120, C->n_enc = 2, C->n_dec = 2, C->heads = 32;
    C->gated = 1, C->act = VB_ACT_GELU_ERF, C->tie = 0;
    memset(m, 0, sizeof *m);
    m->cfg = *C;
    m->inner = C->heads * C->d_kv;
    const int64_t d = C->d_model, inner = m->inner, f = C->d_ff;
    rand_wmat(&m->emb, C->vocab, d, dt, 1.0f);
    rand_wmat(&m->head, C->vocab, d, dt, 0.02f);
    rand_wmat(&m->cross_kv, 2 * 2 * inner, d, dt, 0.02f);
    m->enc_rel = rand_vec((int64_t)C->n_buckets * C->heads, 0, 0.5f);
    m->dec_rel = rand_vec((int64_t)C->n_buckets * C->heads, 0, 0.5f);
    m->enc_final_ln = rand_vec(d, 1, 0.05f), m->dec_final_ln = rand_vec(d, 1, 0.05f);
    m->enc = calloc(2, sizeof *m->enc), m->dec = calloc(2, sizeof *m->dec);
    for (int part = 0; part < 2; part++)
        for (int l = 0; l < 2; l++) {
            struct vb_t5_block * b = part ? &m->dec[l] : &m->enc[l];
            b->ln_sa = rand_vec(d, 1, 0.05f), b->ln_ff = rand_vec(d, 1, 0.05f);
            rand_wmat(&b->qkv, 3 * inner, d, dt, 0.02f);
            rand_wmat(&b->o, d, inner, dt, 0.02f);
            rand_wmat(&b->ffi, 2 * f, d, dt, 0.02f);
            rand_wmat(&b->ffo, d, f, dt, 0.02f);
            if (part) {
                b->ln_ca = rand_vec(d, 1, 0.05f);
                rand_wmat(&b->cq, inner, d, dt, 0.02f);
                rand_wmat(&b->co, d, inner, dt, 0.02f);
            }
        }
}

static void t5_release(struct vb_t5_model * m) {
    for (int part = 0; part < 2; part++)
        for (int l = 0; l < 2; l++) {
            struct vb_t5_block * b = part ? &m->dec[l] : &m->enc[l];
            free(b->ln_sa), free(b->ln_ff), free(b->ln_ca);
            vb_wmat_free(&b->qkv), vb_wmat_free(&b->o), vb_wmat_free(&b->ffi), vb_wmat_free(&b->ffo);
            vb_wmat_free(&b->cq), vb_wmat_free(&b->co);
        }
    free(m->enc), free(m->dec), free(m->enc_rel), free(m->dec_rel), free(m->enc_final_ln), free(m->dec_final_ln);
    vb_wmat_free(&m->emb), vb_wmat_free(&m->head), vb_wmat_free(&m->cross_kv);
}

/* The three dtypes are built side by side and timed interleaved (rep r runs f32, bf16, f16 in turn), so a busy
** machine slows all three alike; medians and same-run ratios are printed. */
static void bench_models(int reps) {
    const int32_t        dts[3] = {VB_DT_F32, VB_DT_BF16, VB_DT_F16};
    struct vb_vit        vit[3];
    struct vb_t5_model   t5[3];
    struct vb_vit_ctx *  vc[3];
    struct vb_t5_ctx *   tc[3][8];
    struct vb_t5_batch * bt[3];
    int64_t              vb[3], tb[3];
    const int64_t        n = 128, d = 2048, Dv = 1408;
    float *              px = rand_vec(3 * 224 * 224, 0, 2), *vout = malloc(sizeof(float) * 257 * Dv);
    float *              emb = rand_vec(n * d, 0, 1), *logits = malloc(sizeof(float) * 8 * 32128);
    for (int i = 0; i < 3; i++) {
        vit_build(&vit[i], dts[i]);
        t5_build(&t5[i], dts[i]);
        vb[i] = vb_vit_resident_bytes(&vit[i]);
        tb[i] = vb_t5_resident_bytes(&t5[i]);
        VB_ASSERT(vb_vit_ctx_new(&vc[i], &vit[i], 1) == VB_OK);
        for (int s = 0; s < 8; s++)
            VB_ASSERT(vb_t5_ctx_new(&tc[i][s], &t5[i], n, 64) == VB_OK);
        VB_ASSERT(vb_t5_batch_new(&bt[i], &t5[i], 8, 0) == VB_OK);
    }
    double  tv[3][32], te[3][32], ts[3][32], t8[3][32], tl[3][32];
    int32_t id = 5, ids8[8] = {5, 6, 7, 8, 9, 10, 11, 12};
    for (int r = -1; r < reps; r++)
        for (int i = 0; i < 3; i++) {
            double t0 = now_s();
            VB_ASSERT(vb_vit_run(vc[i], px, 1, NULL, NULL, NULL, vout) == VB_OK);
            double t1 = now_s();
            VB_ASSERT(vb_t5_encode(tc[i][0], emb, NULL, n, NULL) == VB_OK);
            double t2 = now_s();
            for (int s = 1; s < 8; s++)
                VB_ASSERT(vb_t5_set_encoder_output(tc[i][s], tc[i][0]->enc_out, NULL, n) == VB_OK);
            double t3 = now_s();
            VB_ASSERT(vb_t5_decode(tc[i][0], &id, 1, logits, NULL, NULL) == VB_OK);
            double t4 = now_s();
            vb_t5_reset_decoder(tc[i][0]);
            VB_ASSERT(vb_t5_decode_batch(bt[i], tc[i], 8, ids8, logits) == VB_OK);
            double         t5_ = now_s();
            struct vb_wmat H = t5[i].head; /* as the T5 decoder: f32 one row through sgemv */
            if (dts[i] == VB_DT_F32)
                cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)H.rows, (int)H.cols, 1.0f, H.data, (int)H.cols,
                            tc[i][0]->x, 1, 0.0f, logits, 1);
            else
                vb_wmat_linear(tc[i][0]->x, 1, &H, NULL, logits);
            double t6 = now_s();
            if (r < 0) continue;
            tv[i][r] = (t1 - t0) / 2, te[i][r] = (t2 - t1) / 2, ts[i][r] = t4 - t3, t8[i][r] = t5_ - t4;
            tl[i][r] = t6 - t5_;
        }
    double vit_t[3], enc[3], step[3], step8[3], lmh[3], vbd[3], tbd[3];
    double mv[3], me[3], ms[3], m8[3]; /* minima: the least disturbed rep on a shared machine */
    for (int i = 0; i < 3; i++) {
        mv[i] = me[i] = ms[i] = m8[i] = 1e30;
        for (int r = 0; r < reps; r++)
            mv[i] = fmin(mv[i], tv[i][r]), me[i] = fmin(me[i], te[i][r]), ms[i] = fmin(ms[i], ts[i][r]),
            m8[i] = fmin(m8[i], t8[i][r]);
    }
    for (int i = 0; i < 3; i++) {
        vit_t[i] = median_d(tv[i], reps), enc[i] = median_d(te[i], reps), step[i] = median_d(ts[i], reps);
        step8[i] = median_d(t8[i], reps), lmh[i] = median_d(tl[i], reps);
        vbd[i] = (double)vb[i], tbd[i] = (double)tb[i];
    }
    printf("\nBLIP-2 Flan-T5-XL shapes, 2 blocks each, median (and min) of %d interleaved reps (BLAS threads %d)\n",
           reps, vb_blas_threads());
    printf("%-46s %10s %10s %10s %8s %8s\n", "", "f32", "bf16", "f16", "bf16/f32", "f16/f32");
#define ROW(name, v, scale, unit)                                                                                      \
    printf("%-46s %8.2f%-2s %8.2f%-2s %8.2f%-2s %8.2f %8.2f\n", name, v[0] * scale, unit, v[1] * scale, unit,          \
           v[2] * scale, unit, v[1] / v[0], v[2] / v[0])
    ROW("ViT-g block, 1 frame (257 tokens)", vit_t, 1e3, "ms");
    ROW("T5 encoder block, 128 tokens", enc, 1e3, "ms");
    ROW("T5 decoder step (2 blocks + lm_head), 1 seq", step, 1e3, "ms");
    ROW("T5 decoder step (2 blocks + lm_head), 8 seqs", step8, 1e3, "ms");
    ROW("lm_head 32128 x 2048, 1 row (f32: sgemv)", lmh, 1e3, "ms");
    ROW("  min: ViT-g block, 1 frame", mv, 1e3, "ms");
    ROW("  min: T5 encoder block, 128 tokens", me, 1e3, "ms");
    ROW("  min: T5 decoder step, 1 seq", ms, 1e3, "ms");
    ROW("  min: T5 decoder step, 8 seqs", m8, 1e3, "ms");
    ROW("resident ViT 2 blocks + embeddings", vbd, 1.0 / (1 << 20), "MB");
    ROW("resident T5 2+2 blocks + emb + lm_head", tbd, 1.0 / (1 << 20), "MB");
#undef ROW
    for (int i = 0; i < 3; i++) {
        vb_vit_ctx_free(vc[i]);
        for (int s = 0; s < 8; s++)
            vb_t5_ctx_free(tc[i][s]);
        vb_t5_batch_free(bt[i]);
        vit_release(&vit[i]);
        t5_release(&t5[i]);
    }
    free(px), free(vout), free(emb), free(logits);
}

/* ---- full-size load (VB_WMAT_FULL=<bundle dir>, VB_WMAT_FULL_DT=f32|bf16|f16): resident bytes, peak RSS, one
** frame through ViT + Q-Former, one T5 encode of 64 tokens and 3 decoder steps */
static void bench_full(const char * dir, int32_t dt) {
    char p[1024];
    snprintf(p, sizeof p, "%s/config.json", dir);
    struct vb_model_config c;
    if (vb_config_load(&c, p) != VB_OK) {
        printf("%s\n", vb_errmsg());
        return;
    }
    c.vision.weight_dtype = c.qformer.weight_dtype = c.t5.weight_dtype = dt;
    struct vb_weights * w = NULL;
    VB_ASSERT(vb_weights_open(&w, dir) == VB_OK);
    double               t0 = now_s();
    struct vb_vit *      vit = NULL;
    struct vb_qformer *  qf = NULL, *loc = NULL;
    struct vb_t5_model * t5 = NULL;
    if (vb_vit_load(&vit, w, &c.vision, "vision_model.") != VB_OK ||
        vb_qformer_load(&qf, w, &c.qformer, c.num_query_tokens, "") != VB_OK ||
        (vb_weights_find(w, "localizer.query_tokens") &&
         vb_qformer_load(&loc, w, &c.qformer, c.num_query_tokens, "localizer.") != VB_OK) ||
        vb_t5_load(&t5, w, "language_model.", &c.t5) != VB_OK) {
        printf("load: %s\n", vb_errmsg());
        return;
    }
    double  t1 = now_s();
    int64_t bytes = vb_vit_resident_bytes(vit) + vb_qformer_resident_bytes(qf) +
                    (loc ? vb_qformer_resident_bytes(loc) : 0) + vb_t5_resident_bytes(t5);
    printf("%s resident %s: load %.1f s, resident weights %.2f GB, VmRSS %.2f GB, VmHWM %.2f GB\n", dir,
           vb_dtype_name(dt), t1 - t0, (double)bytes / 1e9, (double)vb_rss_current_kb() * 1024 / 1e9,
           (double)vb_rss_peak_kb() * 1024 / 1e9);
    const int64_t           T = vit->cfg.n_tokens, Dv = c.vision.hidden, S = c.vision.image_size, d = c.t5.d_model;
    float *                 px = rand_vec(3 * S * S, 0, 1), *ln = malloc(sizeof(float) * (size_t)(T * Dv));
    float *                 qo = malloc(sizeof(float) * (size_t)(c.num_query_tokens * c.qformer.hidden));
    struct vb_vit_ctx *     vc = NULL;
    struct vb_qformer_ctx * qc = NULL;
    struct vb_t5_ctx *      tc = NULL;
    VB_ASSERT(vb_vit_ctx_new(&vc, vit, 1) == VB_OK);
    VB_ASSERT(vb_qformer_ctx_new(&qc, qf, 1, 0, (int32_t)T) == VB_OK);
    VB_ASSERT(vb_t5_ctx_new(&tc, t5, 64, 8) == VB_OK);
    float *emb = rand_vec(64 * d, 0, 1), *logits = malloc(sizeof(float) * (size_t)c.t5.vocab);
    double a = now_s();
    VB_ASSERT(vb_vit_run(vc, px, 1, NULL, NULL, NULL, ln) == VB_OK);
    double b = now_s();
    VB_ASSERT(vb_qformer_run(qc, ln, 1, (int32_t)T, NULL, NULL, 0, qo, NULL, NULL, NULL) == VB_OK);
    double e = now_s();
    VB_ASSERT(vb_t5_encode(tc, emb, NULL, 64, NULL) == VB_OK);
    double  f = now_s();
    int32_t id = 0;
    for (int s = 0; s < 3; s++) {
        VB_ASSERT(vb_t5_decode(tc, &id, 1, logits, NULL, NULL) == VB_OK);
        id = vb_gen_argmax(logits, c.t5.vocab);
    }
    double g = now_s();
    printf("  ViT 1 frame %.2f s, Q-Former %.3f s, T5 encoder 64 tokens %.2f s, decoder step %.3f s; VmHWM %.2f GB\n",
           b - a, e - b, f - e, (g - f) / 3, (double)vb_rss_peak_kb() * 1024 / 1e9);
    free(px), free(ln), free(qo), free(emb), free(logits);
    vb_vit_ctx_free(vc), vb_qformer_ctx_free(qc), vb_t5_ctx_free(tc);
    vb_vit_free(vit), vb_qformer_free(qf), vb_qformer_free(loc), vb_t5_free(t5);
    vb_weights_close(w);
}

static void bench_linears(void) {
    static const struct {
        const char * what;
        int64_t      rows, cols, n;
    } C[] = {{"t5 wi (gated) decode", 10240, 2048, 1},
             {"t5 wi decode x2", 10240, 2048, 2},
             {"t5 wi decode x4", 10240, 2048, 4},
             {"t5 wi decode x8", 10240, 2048, 8},
             {"t5 wi x16", 10240, 2048, 16},
             {"t5 wi x17", 10240, 2048, 17},
             {"t5 wi x32", 10240, 2048, 32},
             {"t5 wi x64", 10240, 2048, 64},
             {"t5 wo decode", 2048, 2048, 1},
             {"t5 lm_head decode", 32128, 2048, 1},
             {"t5 lm_head x8", 32128, 2048, 8},
             {"t5 wi enc 128 tok", 10240, 2048, 128},
             {"t5 wff_o enc 128 tok", 2048, 5120, 128},
             {"vit fc1 1 frame", 6144, 1408, 257},
             {"vit fc2 1 frame", 1408, 6144, 257},
             {"vit qkv 4 frames", 4224, 1408, 1028}};
    printf("%-24s %6s %6s %5s %10s %10s %10s %7s %7s\n", "linear", "rows", "cols", "n", "f32 ms", "bf16 ms", "f16 ms",
           "bf16/f32", "f16/f32");
    for (size_t i = 0; i < sizeof C / sizeof C[0]; i++) {
        int    reps = C[i].n >= 64 ? 5 : 15;
        double a = time_linear(VB_DT_F32, C[i].rows, C[i].cols, C[i].n, reps);
        double b = time_linear(VB_DT_BF16, C[i].rows, C[i].cols, C[i].n, reps);
        double c = time_linear(VB_DT_F16, C[i].rows, C[i].cols, C[i].n, reps);
        printf("%-24s %6lld %6lld %5lld %10.3f %10.3f %10.3f %7.2f %7.2f\n", C[i].what, (long long)C[i].rows,
               (long long)C[i].cols, (long long)C[i].n, a * 1e3, b * 1e3, c * 1e3, b / a, c / a);
    }
}

int main(void) {
    if (getenv("VB_WMAT_FULL")) {
        int32_t dt = VB_DT_BF16;
        if (getenv("VB_WMAT_FULL_DT") && vb_wmat_dtype_parse(getenv("VB_WMAT_FULL_DT"), &dt) != VB_OK) return 2;
        vb_blas_set_threads(2);
        bench_full(getenv("VB_WMAT_FULL"), dt);
        return 0;
    }
    if (getenv("VB_WMAT_BENCH")) {
        vb_blas_set_threads(atoi(getenv("VB_WMAT_BENCH")) > 0 ? atoi(getenv("VB_WMAT_BENCH")) : 2);
        if (!getenv("VB_WMAT_BENCH_MODELS_ONLY")) bench_linears();
        int reps = getenv("VB_WMAT_BENCH_REPS") ? atoi(getenv("VB_WMAT_BENCH_REPS")) : 5;
        bench_models(reps < 1 ? 1 : reps > 32 ? 32 : reps);
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linear),           cmocka_unit_test(test_linear_portable),
        cmocka_unit_test(test_linear_f32_exact), cmocka_unit_test(test_row_and_dtype_parse),
        cmocka_unit_test(test_load_conversions), cmocka_unit_test(test_drop_pages),
        cmocka_unit_test(test_models_bf16),      cmocka_unit_test(test_models_f16),
        cmocka_unit_test(test_batch_invariance), cmocka_unit_test(test_bf16_pair_layout),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
