/* test_wmat.c — engine/wmat: the half-precision Linear against vb_linear on the same (rounded) values, row lookup,
** loading with conversion from every file dtype into every resident dtype, error messages, vb_weights_drop_pages
** lowering VmRSS; and model level: a random ViT / Q-Former / T5 written as BF16 (and F16), loaded resident in F32
** and in half precision, give the same outputs (1e-5 relative) and the same greedy ids. */
#include <setjmp.h> /* cmocka.h needs these four first */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "engine/blas.h"
#include "engine/common.h"
#include "engine/generate.h"
#include "engine/ops.h"
#include "engine/qformer.h"
#include "engine/rng.h"
#include "engine/t5.h"
#include "engine/vit.h"
#include "engine/weights.h"
#include "engine/wmat.h"

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
    const char * t = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/vb_test_wmat_XXXXXX", t ? t : "/tmp");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void ** state) {
    (void)state;
    const char * names[] = {"conv.safetensors", "big.safetensors", "vit.safetensors", "qf.safetensors",
                            "t5.safetensors",   "t5h.safetensors"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char p[600];
        path_of(p, sizeof p, names[i]);
        unlink(p);
    }
    rmdir(tmpdir);
    return 0;
}

/* deterministic uniform [-a, a) */
static uint64_t lcg = 88172645463325252ull;
static float urand(float a) {
    lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
    return a * (2.0f * (float)((lcg >> 40) & 0xffffff) / 16777216.0f - 1.0f);
}

static float round_to(int32_t dt, float f) {
    if (dt == VB_DT_BF16) return vb_bf16_to_f32(vb_f32_to_bf16(f));
    if (dt == VB_DT_F16) return vb_f16_to_f32(vb_f32_to_f16(f));
    return f;
}

/* max |a - b| / max |b| over n values */
static inline double rel_err(const float * a, const float * b, int64_t n) {
    double m = 0, e = 0;
    for (int64_t i = 0; i < n; i++) {
        m = fmax(m, fabs((double)b[i]));
        e = fmax(e, fabs((double)a[i] - (double)b[i]));
    }
    return m > 0 ? e / m : e;
}

/* One case: W (rows, cols) random, rounded to dt; x (n, cols) with row stride ldx; y with stride ldy; beta 0 / 1;
** bias or not.  vb_wmat_linear_ex on the half matrix vs vb_linear_ex on the rounded f32 copy. */
static void check_linear(int32_t dt, int64_t rows, int64_t cols, int64_t n, int64_t ldx, int64_t ldy, float beta,
                         int with_bias) {
    float * W32 = malloc(sizeof(float) * (size_t)(rows * cols));
    for (int64_t i = 0; i < rows * cols; i++)
        W32[i] = round_to(dt, urand(1.0f));
    struct vb_wmat W;
    assert_int_equal(vb_wmat_alloc(&W, rows, cols, dt), VB_OK);
    vb_wmat_set_f32(&W, 0, W32, rows);
    float * b = malloc(sizeof(float) * (size_t)rows);
    for (int64_t i = 0; i < rows; i++)
        b[i] = urand(0.5f);
    float * x = malloc(sizeof(float) * (size_t)(n * ldx));
    for (int64_t i = 0; i < n * ldx; i++)
        x[i] = urand(1.0f);
    float * y = malloc(sizeof(float) * (size_t)(n * ldy)), *yr = malloc(sizeof(float) * (size_t)(n * ldy));
    for (int64_t i = 0; i < n * ldy; i++)
        y[i] = yr[i] = urand(1.0f);
    if (beta == 0.0f)
        for (int64_t i = 0; i < n * ldy; i += 7)
            y[i] = NAN; /* beta 0 must not read y */
    vb_wmat_linear_ex(x, ldx, n, &W, with_bias ? b : NULL, y, ldy, beta);
    vb_linear_ex(x, ldx, n, cols, W32, with_bias ? b : NULL, rows, yr, ldy, beta);
    /* compare the written part; the gaps between rows (ld > rows) must be untouched */
    double m = 0, e = 0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < ldy; j++) {
            float a = y[i * ldy + j], r = yr[i * ldy + j];
            if (j >= rows && a != r) fail_msg("dt %d %lldx%lld n %lld: column %lld past rows written", dt,
                                              (long long)rows, (long long)cols, (long long)n, (long long)j);
            m = fmax(m, fabs((double)r));
            e = fmax(e, isnan(a) ? INFINITY : fabs((double)a - (double)r));
        }
    if (!(e <= 1e-5 * m))
        fail_msg("dt %s %lldx%lld n %lld ldx %lld ldy %lld beta %g bias %d: max err %g, max |y| %g",
                 vb_dtype_name(dt), (long long)rows, (long long)cols, (long long)n, (long long)ldx, (long long)ldy,
                 (double)beta, with_bias, e, m);
    vb_wmat_free(&W);
    free(W32), free(b), free(x), free(y), free(yr);
}

static void linear_cases(void) {
    const int64_t ns[] = {1, 2, 3, 5, 8, 9, 16, 17, 64, 300};
    const int32_t dts[] = {VB_DT_BF16, VB_DT_F16};
    for (size_t d = 0; d < 2; d++)
        for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++) {
            int64_t n = ns[k];
            check_linear(dts[d], 37, 53, n, 53, 37, 0.0f, 1);
            check_linear(dts[d], 37, 53, n, 61, 40, 1.0f, 0);
            check_linear(dts[d], 37, 53, n, 53, 45, 1.0f, 1);
            check_linear(dts[d], 5, 7, n, 7, 5, 0.0f, 0);    /* fewer rows than a block, fewer cols than a vector */
            check_linear(dts[d], 64, 128, n, 130, 64, 0.0f, 1); /* whole blocks, strided x */
            if (n == 1 || n == 8 || n == 17 || n == 300) check_linear(dts[d], 1000, 2048, n, 2048, 1000, 1.0f, 1);
        }
}

static void test_linear(void ** state) {
    (void)state;
    vb_blas_set_threads(2); /* the two-thread split of the GEMV is exercised by the 1000 x 2048 cases */
    linear_cases();
}

static void test_linear_portable(void ** state) {
    (void)state;
    setenv("VB_WMAT_PORTABLE", "1", 1);
    linear_cases();
    unsetenv("VB_WMAT_PORTABLE");
}

/* F32 resident: exactly vb_linear (the same call). */
static void test_linear_f32_exact(void ** state) {
    (void)state;
    int64_t rows = 33, cols = 70, n = 9;
    float * W = malloc(sizeof(float) * (size_t)(rows * cols)), *x = malloc(sizeof(float) * (size_t)(n * cols));
    float * b = malloc(sizeof(float) * (size_t)rows), *y = malloc(sizeof(float) * (size_t)(n * rows));
    float * yr = malloc(sizeof(float) * (size_t)(n * rows));
    for (int64_t i = 0; i < rows * cols; i++)
        W[i] = urand(1);
    for (int64_t i = 0; i < n * cols; i++)
        x[i] = urand(1);
    for (int64_t i = 0; i < rows; i++)
        b[i] = urand(1);
    struct vb_wmat M;
    assert_int_equal(vb_wmat_alloc(&M, rows, cols, VB_DT_F32), VB_OK);
    vb_wmat_set_f32(&M, 0, W, rows);
    assert_int_equal(vb_wmat_bytes(&M), (size_t)(rows * cols * 4));
    assert_int_equal((uintptr_t)M.data % 64, 0);
    vb_wmat_linear(x, n, &M, b, y);
    vb_linear(x, n, cols, W, b, rows, yr);
    assert_memory_equal(y, yr, sizeof(float) * (size_t)(n * rows));
    /* a row view is the same rows */
    struct vb_wmat V = vb_wmat_rows(&M, 10, 5);
    vb_wmat_linear(x, n, &V, NULL, y);
    vb_linear(x, n, cols, W + 10 * cols, NULL, 5, yr);
    assert_memory_equal(y, yr, sizeof(float) * (size_t)(n * 5));
    vb_wmat_free(&M);
    assert_null(M.data);
    free(W), free(x), free(b), free(y), free(yr);
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
            if (sdts[s] == ddts[d]) /* same dtype: the bytes themselves */
                assert_memory_equal(W.data, vb_weights_find(w, names[s])->data, vb_wmat_bytes(&W));
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
    assert_true(r4 - r3 < 40 * 1024);
    vb_wmat_free(&W);
    vb_weights_close(w);
    (void)acc;
}

/* ---------------------------------------------------------------- benchmark (VB_WMAT_BENCH=1, not a test) */

static double now_s(void) { return (double)vb_time_us() * 1e-6; }

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
    float * x = malloc(sizeof(float) * (size_t)(n * cols)), *y = malloc(sizeof(float) * (size_t)(n * rows));
    for (int64_t i = 0; i < n * cols; i++)
        x[i] = urand(1);
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

static void bench_linears(void) {
    static const struct {
        const char * what;
        int64_t      rows, cols, n;
    } C[] = {{"t5 wi (gated) decode", 10240, 2048, 1},  {"t5 wi decode x2", 10240, 2048, 2},
             {"t5 wi decode x4", 10240, 2048, 4},       {"t5 wi decode x8", 10240, 2048, 8},
             {"t5 wi x16", 10240, 2048, 16},            {"t5 wi x17", 10240, 2048, 17},
             {"t5 wi x32", 10240, 2048, 32},            {"t5 wi x64", 10240, 2048, 64},
             {"t5 wo decode", 2048, 2048, 1},           {"t5 lm_head decode", 32128, 2048, 1},
             {"t5 lm_head x8", 32128, 2048, 8},         {"t5 wi enc 128 tok", 10240, 2048, 128},
             {"t5 wff_o enc 128 tok", 2048, 5120, 128}, {"vit fc1 1 frame", 6144, 1408, 257},
             {"vit fc2 1 frame", 1408, 6144, 257},      {"vit qkv 4 frames", 4224, 1408, 1028}};
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
    if (getenv("VB_WMAT_BENCH")) {
        vb_blas_set_threads(atoi(getenv("VB_WMAT_BENCH")) > 0 ? atoi(getenv("VB_WMAT_BENCH")) : 2);
        bench_linears();
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linear),
        cmocka_unit_test(test_linear_portable),
        cmocka_unit_test(test_linear_f32_exact),
        cmocka_unit_test(test_row_and_dtype_parse),
        cmocka_unit_test(test_load_conversions),
        cmocka_unit_test(test_drop_pages),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
