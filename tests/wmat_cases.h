/* wmat_cases.h — shared by tests/test_wmat.c and tests/test_wmat_kernels.c: deterministic random values, the Linear
** cases of vb_wmat_linear_ex against vb_linear_ex on the same (rounded) values, and the batch-invariance check.
** Include after cmocka.h (its assertions are used here). */
#ifndef VB_TESTS_WMAT_CASES_H
#define VB_TESTS_WMAT_CASES_H

#include "base/common.h"
#include "engine/blas.h"
#include "engine/ops.h"
#include "engine/weights.h"
#include "engine/wmat.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

/* deterministic uniform [-a, a) */
static uint64_t     lcg = 88172645463325252ull;
static inline float urand(float a) {
    lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
    return a * (2.0f * (float)((lcg >> 40) & 0xffffff) / 16777216.0f - 1.0f);
}

/* p[0 .. n) = urand(a), in order */
static inline void urand_fill(float * p, int64_t n, float a) {
    for (int64_t i = 0; i < n; i++)
        p[i] = urand(a);
}

static inline float round_to(int32_t dt, float f) {
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

/* 1: the activations of check_linear_at are bf16 values (for the bf16 compute kernel, exact products) */
static int g_round_x;

/* One case: W (rows, cols) random, rounded to dt; x (n, cols) with row stride ldx; y with stride ldy; beta 0 / 1;
** bias or not.  vb_wmat_linear_ex on the half matrix vs vb_linear_ex on the rounded f32 copy. */
static inline void check_linear_at(int32_t dt, int64_t rows, int64_t cols, int64_t n, int64_t ldx, int64_t ldy,
                                   float beta, int with_bias, int64_t off) {
    /* the matrix is rows [off, off + rows) of a larger one (a view starting inside a panel when off % 16 != 0) */
    int64_t all = off + rows + 3;
    float * W32a = malloc(sizeof(float) * (size_t)(all * cols)), *W32 = W32a + off * cols;
    for (int64_t i = 0; i < all * cols; i++)
        W32a[i] = round_to(dt, urand(1.0f));
    struct vb_wmat Wall;
    assert_int_equal(vb_wmat_alloc(&Wall, all, cols, dt), VB_OK);
    vb_wmat_set_f32(&Wall, 0, W32a, all);
    struct vb_wmat W = vb_wmat_rows(&Wall, off, rows);
    float *        b = malloc(sizeof(float) * (size_t)rows);
    for (int64_t i = 0; i < rows; i++)
        b[i] = urand(0.5f);
    float * x = malloc(sizeof(float) * (size_t)(n * ldx));
    for (int64_t i = 0; i < n * ldx; i++)
        x[i] = g_round_x ? round_to(VB_DT_BF16, urand(1.0f)) : urand(1.0f);
    float *y = malloc(sizeof(float) * (size_t)(n * ldy)), *yr = malloc(sizeof(float) * (size_t)(n * ldy));
    for (int64_t i = 0; i < n * ldy; i++)
        y[i] = yr[i] = urand(1.0f);
    if (beta == 0.0f)
        for (int64_t i = 0; i < n * ldy; i += 7)
            y[i] = NAN; /* beta 0 must not read y */
    vb_wmat_linear_ex(x, ldx, n, &W, with_bias ? b : NULL, y, ldy, beta);
    if (g_round_x) /* bf16 compute rounds f16 weights to bf16 too: the reference takes the same values */
        for (int64_t i = 0; i < rows * cols; i++)
            W32[i] = round_to(VB_DT_BF16, W32[i]);
    vb_linear_ex(x, ldx, n, cols, W32, with_bias ? b : NULL, rows, yr, ldy, beta);
    /* compare the written part; the gaps between rows (ld > rows) must be untouched */
    double m = 0, e = 0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < ldy; j++) {
            float a = y[i * ldy + j], r = yr[i * ldy + j];
            if (j >= rows && a != r)
                fail_msg("dt %d %lldx%lld n %lld: column %lld past rows written", dt, (long long)rows, (long long)cols,
                         (long long)n, (long long)j);
            m = fmax(m, fabs((double)r));
            e = fmax(e, isnan(a) ? INFINITY : fabs((double)a - (double)r));
        }
    if (!(e <= 1e-5 * m))
        fail_msg("dt %s %lldx%lld n %lld ldx %lld ldy %lld beta %g bias %d: max err %g, max |y| %g", vb_dtype_name(dt),
                 (long long)rows, (long long)cols, (long long)n, (long long)ldx, (long long)ldy, (double)beta,
                 with_bias, e, m);
    vb_wmat_free(&Wall);
    free(W32a), free(b), free(x), free(y), free(yr);
}

static inline void check_linear(int32_t dt, int64_t rows, int64_t cols, int64_t n, int64_t ldx, int64_t ldy, float beta,
                                int with_bias) {
    check_linear_at(dt, rows, cols, n, ldx, ldy, beta, with_bias, 0);
}

static inline void linear_cases(void) {
    const int64_t ns[] = {1, 2, 3, 5, 6, 7, 8, 9, 16, 17, 64, 300};
    const int32_t dts[] = {VB_DT_BF16, VB_DT_F16, VB_DT_F32};
    const int     slow = getenv("VB_SANITIZED") != NULL; /* valgrind / ASan: 20-50x slower */
    const int64_t big_r = slow ? 200 : 1000, big_c = slow ? 520 : 2048;
    for (size_t d = 0; d < 3; d++)
        for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++) {
            int64_t n = ns[k];
            check_linear(dts[d], 37, 53, n, 53, 37, 0.0f, 1);
            check_linear(dts[d], 37, 53, n, 61, 40, 1.0f, 0);
            check_linear(dts[d], 37, 53, n, 53, 45, 1.0f, 1);
            check_linear(dts[d], 5, 7, n, 7, 5, 0.0f, 0);       /* fewer rows than a block, fewer cols than a vector */
            check_linear(dts[d], 64, 128, n, 130, 64, 0.0f, 1); /* whole blocks, strided x */
            if (n == 1 || n == 8 || n == 17 || n == 300) /* several panels per thread, long k; smaller under valgrind */
                check_linear(dts[d], big_r, big_c, n, big_c, big_r, 1.0f, 1);
            /* row views starting inside a panel (T5's q / k / v rows of the fused matrix), and one panel-aligned */
            check_linear_at(dts[d], 21, 40, n, 40, 21, 0.0f, 1, 5);
            check_linear_at(dts[d], 3, 600, n, 600, 8, 1.0f, 1, 14);
            check_linear_at(dts[d], 40, 33, n, 33, 40, 1.0f, 0, 32);
        }
}

/* Every output row depends only on its own input row: a row computed alone (a GEMV), or at any position of a batch
** (any group, the tail group, any row block), with 1 or 2 threads, gives the same bits; and a half matrix gives
** exactly the f32 result on its rounded weights. */
static inline void batch_invariance(void) {
    const int32_t dts[] = {VB_DT_F32, VB_DT_BF16, VB_DT_F16};
    const int64_t rows = 50, cols = 300, n = 31; /* > 24: the whole batch converts half panels once, a row alone
                                                  ** converts in registers; both must agree */
    float *W32 = malloc(sizeof(float) * (size_t)(rows * cols)), *x = malloc(sizeof(float) * (size_t)(n * cols));
    float *b = malloc(sizeof(float) * (size_t)rows), *yb = malloc(sizeof(float) * (size_t)(n * rows));
    float *y1 = malloc(sizeof(float) * (size_t)rows), *yf = malloc(sizeof(float) * (size_t)(n * rows));
    for (int64_t i = 0; i < n * cols; i++)
        x[i] = urand(1.0f);
    for (int64_t i = 0; i < rows; i++)
        b[i] = urand(0.5f);
    for (int d = 0; d < 3; d++) {
        for (int64_t i = 0; i < rows * cols; i++)
            W32[i] = round_to(dts[d], urand(1.0f));
        struct vb_wmat W, F;
        assert_int_equal(vb_wmat_alloc(&W, rows, cols, dts[d]), VB_OK);
        vb_wmat_set_f32(&W, 0, W32, rows);
        assert_int_equal(vb_wmat_alloc(&F, rows, cols, VB_DT_F32), VB_OK);
        vb_wmat_set_f32(&F, 0, W32, rows);
        for (int th = 1; th <= 2; th++) {
            vb_blas_set_threads(th);
            vb_wmat_linear(x, n, &W, b, yb);
            vb_wmat_linear(x, n, &F, b, yf);
            assert_memory_equal(yb, yf, sizeof(float) * (size_t)(n * rows)); /* half == f32 on the rounded values */
            for (int64_t i = 0; i < n; i++) {
                vb_wmat_linear(x + i * cols, 1, &W, b, y1);
                assert_memory_equal(y1, yb + i * rows, sizeof(float) * (size_t)rows);
            }
            /* the same rows inside a smaller batch that starts elsewhere (other group positions) */
            vb_wmat_linear(x + 5 * cols, 13, &W, b, yf);
            assert_memory_equal(yf, yb + 5 * rows, sizeof(float) * (size_t)(13 * rows));
        }
        vb_wmat_free(&W);
        vb_wmat_free(&F);
    }
    free(W32), free(x), free(b), free(yb), free(y1), free(yf);
}

#endif
