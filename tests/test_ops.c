/* test_ops.c — engine/ops kernels against naive double-precision versions (max error relative to the reference's
** magnitude): vb_linear / vb_linear_ex (strides, accumulate), vb_gemm_nn, LayerNorm, RMS norm, both GELUs, ReLU,
** softmax (incl. a fully masked row; a wide row with -inf entries), vectorised exp, multi-head attention with strides,
** position bias, key mask and causal offset; the vectorised norms and adds bit-identical to their scalar forms.
** Sizes are odd on purpose (not multiples of any SIMD width). */
#include <setjmp.h> /* cmocka.h needs these four first */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "engine/ops.h"
#include "engine/pool.h"
#include "tests/helpers.h"

#include <cblas.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rs = 0x853C49E6748FEA9Bull;
static float *  randv(int64_t n, double sd) {
     return test_randv(&rs, n, sd);
}

static void expect_close(const char * what, const float * got, const double * ref, int64_t n, double rel) {
    double mx = 0, err = 0;
    for (int64_t i = 0; i < n; i++) {
        mx = fmax(mx, fabs(ref[i]));
        double e = fabs(got[i] - ref[i]);
        if (!(e <= err)) err = e;
    }
    double tol = rel * fmax(1, mx);
    if (!(err <= tol)) fail_msg("%s: max error %.3g > %.3g", what, err, tol);
}

static void test_linear(void ** state) {
    (void)state;
    const int64_t n = 37, in = 53, out = 29, ldx = 61, ldy = 33;
    float *       x = randv(n * ldx, 1), *Wt = randv(out * in, 0.2), *b = randv(out, 0.5);
    float *       y = malloc(sizeof(float) * (size_t)(n * ldy));
    double *      r = malloc(sizeof(double) * (size_t)(n * out));
    float *       yc = malloc(sizeof(float) * (size_t)(n * out));
    /* plain */
    vb_linear(x, n, in, Wt, b, out, yc); /* x read with ld = in: rows overlap the strided layout, still a matrix */
    for (int64_t i = 0; i < n; i++)
        for (int64_t o = 0; o < out; o++) {
            double s = b[o];
            for (int64_t j = 0; j < in; j++)
                s += (double)x[i * in + j] * Wt[o * in + j];
            r[i * out + o] = s;
        }
    expect_close("linear", yc, r, n * out, 1e-5);
    /* strided with accumulate: y = y0 + x W^T + b */
    float * y0 = randv(n * ldy, 1);
    memcpy(y, y0, sizeof(float) * (size_t)(n * ldy));
    vb_linear_ex(x, ldx, n, in, Wt, b, out, y, ldy, 1.0f);
    for (int64_t i = 0; i < n; i++)
        for (int64_t o = 0; o < out; o++) {
            double s = (double)b[o] + y0[i * ldy + o];
            for (int64_t j = 0; j < in; j++)
                s += (double)x[i * ldx + j] * Wt[o * in + j];
            r[i * out + o] = s;
            yc[i * out + o] = y[i * ldy + o];
        }
    expect_close("linear_ex accumulate", yc, r, n * out, 1e-5);
    for (int64_t i = 0; i < n; i++) /* padding columns untouched */
        for (int64_t o = out; o < ldy; o++)
            assert_true(y[i * ldy + o] == y0[i * ldy + o]);
    /* no bias */
    vb_linear(x, n, in, Wt, NULL, out, yc);
    for (int64_t i = 0; i < n; i++)
        for (int64_t o = 0; o < out; o++) {
            double s = 0;
            for (int64_t j = 0; j < in; j++)
                s += (double)x[i * in + j] * Wt[o * in + j];
            r[i * out + o] = s;
        }
    expect_close("linear no bias", yc, r, n * out, 1e-5);
    /* gemm_nn with alpha */
    float * Bm = randv(in * out, 0.3);
    vb_gemm_nn(n, out, in, 0.5f, x, in, Bm, out, 0.0f, yc, out);
    for (int64_t i = 0; i < n; i++)
        for (int64_t o = 0; o < out; o++) {
            double s = 0;
            for (int64_t j = 0; j < in; j++)
                s += (double)x[i * in + j] * Bm[j * out + o];
            r[i * out + o] = 0.5 * s;
        }
    expect_close("gemm_nn", yc, r, n * out, 1e-5);
    free(x), free(Wt), free(b), free(y), free(r), free(yc), free(y0), free(Bm);
}

static void test_norms_and_activations(void ** state) {
    (void)state;
    const int64_t n = 7, d = 45;
    float *       x = randv(n * d, 3), *w = randv(d, 1), *b = randv(d, 1);
    for (int64_t i = 0; i < d; i++)
        x[i] += 100.0f; /* row 0 with a large mean: needs a stable variance */
    float *      y = malloc(sizeof(float) * (size_t)(n * d));
    double *     r = malloc(sizeof(double) * (size_t)(n * d));
    const double eps[2] = {1e-12, 1e-5};
    for (int e = 0; e < 2; e++) {
        vb_layernorm(x, n, d, w, b, (float)eps[e], y);
        for (int64_t i = 0; i < n; i++) {
            double m = 0, v = 0;
            for (int64_t j = 0; j < d; j++)
                m += x[i * d + j];
            m /= d;
            for (int64_t j = 0; j < d; j++)
                v += (x[i * d + j] - m) * (x[i * d + j] - m);
            v /= d;
            for (int64_t j = 0; j < d; j++)
                r[i * d + j] = (x[i * d + j] - m) / sqrt(v + eps[e]) * w[j] + b[j];
        }
        expect_close("layernorm", y, r, n * d, 1e-5);
    }
    memcpy(y, x, sizeof(float) * (size_t)(n * d));
    vb_layernorm(y, n, d, w, b, 1e-6f, y); /* in place */
    for (int64_t i = 0; i < n; i++) {
        double m = 0, v = 0;
        for (int64_t j = 0; j < d; j++)
            m += x[i * d + j];
        m /= d;
        for (int64_t j = 0; j < d; j++)
            v += (x[i * d + j] - m) * (x[i * d + j] - m);
        v /= d;
        for (int64_t j = 0; j < d; j++)
            r[i * d + j] = (x[i * d + j] - m) / sqrt(v + 1e-6) * w[j] + b[j];
    }
    expect_close("layernorm in place", y, r, n * d, 1e-5);
    vb_rmsnorm(x, n, d, w, 1e-6f, y);
    for (int64_t i = 0; i < n; i++) {
        double s = 0;
        for (int64_t j = 0; j < d; j++)
            s += (double)x[i * d + j] * x[i * d + j];
        for (int64_t j = 0; j < d; j++)
            r[i * d + j] = w[j] * x[i * d + j] / sqrt(s / d + 1e-6);
    }
    expect_close("rmsnorm", y, r, n * d, 1e-5);
    /* activations over [-8, 8] */
    const int64_t m = 1601;
    float *       a = malloc(sizeof(float) * m), *t = malloc(sizeof(float) * m), *u = malloc(sizeof(float) * m);
    double *      ra = malloc(sizeof(double) * m), *rt = malloc(sizeof(double) * m), *ru = malloc(sizeof(double) * m);
    for (int64_t i = 0; i < m; i++) {
        a[i] = t[i] = u[i] = (float)(-8 + 16.0 * i / (m - 1));
        double v = a[i]; /* the reference sees the same float input */
        ra[i] = 0.5 * v * (1 + erf(v / sqrt(2.0)));
        rt[i] = 0.5 * v * (1 + tanh(sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
        ru[i] = v > 0 ? v : 0;
    }
    vb_gelu_erf(a, m);
    vb_gelu_tanh(t, m);
    vb_relu(u, m);
    expect_close("gelu erf", a, ra, m, 1e-6);
    expect_close("gelu tanh", t, rt, m, 1e-6);
    expect_close("relu", u, ru, m, 0);
    /* the two GELUs really differ (a swapped activation would be caught by the model tests) */
    double diff = 0;
    for (int64_t i = 0; i < m; i++)
        diff = fmax(diff, fabs(ra[i] - rt[i]));
    assert_true(diff > 1e-4);
    free(x), free(w), free(b), free(y), free(r), free(a), free(t), free(u), free(ra), free(rt), free(ru);
}

static void test_softmax(void ** state) {
    (void)state;
    const int64_t n = 4, d = 13;
    float *       x = randv(n * d, 10);
    x[2 * d + 5] = 80.0f; /* would overflow exp without the max subtraction */
    for (int64_t j = 0; j < d; j++)
        x[3 * d + j] = -INFINITY; /* fully masked row -> zeros */
    double * r = malloc(sizeof(double) * (size_t)(n * d));
    for (int64_t i = 0; i < 3; i++) {
        double mx = -INFINITY, s = 0;
        for (int64_t j = 0; j < d; j++)
            mx = fmax(mx, x[i * d + j]);
        for (int64_t j = 0; j < d; j++)
            s += exp(x[i * d + j] - mx);
        for (int64_t j = 0; j < d; j++)
            r[i * d + j] = exp(x[i * d + j] - mx) / s;
    }
    for (int64_t j = 0; j < d; j++)
        r[3 * d + j] = 0;
    vb_softmax_rows(x, n, d);
    expect_close("softmax", x, r, n * d, 1e-6);
    free(x), free(r);
}

/* vectorised exp over [-90, 89] + specials (relative error), and a wide softmax row through the vector path with
** -inf entries (exact zeros) */
static void test_exp_and_wide_softmax(void ** state) {
    (void)state;
    const int64_t m = 20011;
    float *       x = malloc(sizeof(float) * m);
    for (int64_t i = 0; i < m; i++)
        x[i] = (float)(-87.0 + 175.0 * i / (m - 1));
    x[0] = -INFINITY, x[1] = -100.0f, x[2] = 0.0f, x[3] = 1.0f, x[4] = -1e-30f;
    float * y = malloc(sizeof(float) * m);
    memcpy(y, x, sizeof(float) * m);
    vb_exp_inplace(y, m);
    assert_true(y[0] == 0.0f && y[1] == 0.0f);
    assert_true(y[2] == 1.0f && y[4] == 1.0f);
    for (int64_t i = 2; i < m; i++) {
        double r = exp((double)x[i]);
        if (r > 3e38) continue;
        double e = fabs(y[i] - r) / r;
        if (!(e < 1e-6)) fail_msg("exp(%.9g) = %.9g, want %.9g (rel %.3g)", x[i], y[i], r, e);
    }
    const int64_t d = 257;
    float *       s = randv(2 * d, 8);
    for (int64_t j = 3; j < d; j += 17)
        s[d + j] = -INFINITY;
    double * ref = malloc(sizeof(double) * 2 * d);
    for (int64_t i = 0; i < 2; i++) {
        double mx = -INFINITY, sum = 0;
        for (int64_t j = 0; j < d; j++)
            mx = fmax(mx, s[i * d + j]);
        for (int64_t j = 0; j < d; j++)
            sum += exp(s[i * d + j] - mx);
        for (int64_t j = 0; j < d; j++)
            ref[i * d + j] = exp(s[i * d + j] - mx) / sum;
    }
    vb_softmax_rows(s, 2, d);
    expect_close("wide softmax", s, ref, 2 * d, 1e-6);
    for (int64_t j = 3; j < d; j += 17)
        assert_true(s[d + j] == 0.0f);
    /* GELU through the vector path on large random inputs, against erf in double */
    float *  g = randv(4099, 6);
    double * rg = malloc(sizeof(double) * 4099);
    for (int64_t i = 0; i < 4099; i++)
        rg[i] = 0.5 * g[i] * (1 + erf(g[i] / sqrt(2.0)));
    vb_gelu_erf(g, 4099);
    expect_close("gelu erf wide", g, rg, 4099, 1e-6);
    free(x), free(y), free(s), free(ref), free(g), free(rg);
}

/* the two-thread head split (BLAS 2 threads, nq*nk*dh >= 2^20) gives the same numbers as the one-thread path,
** with position bias, key mask and causal offset, and restores the BLAS thread count */
/* The glue split over the engine's threads (rows, or 64-element chunks for GELU) gives the bits of one thread, at
** sizes above the split threshold and with ragged row counts / lengths. */
static void test_glue_threaded(void ** state) {
    (void)state;
    const int64_t n = 257, d = 1408, ng = 2056 * 61 + 13;
    float *       x = randv(n * d, 3), *w = randv(d, 1), *b = randv(d, 1);
    float *       y1 = malloc(sizeof(float) * n * d), *y2 = malloc(sizeof(float) * n * d);
    float *       g1 = randv(ng, 4), *g2 = malloc(sizeof(float) * ng);
    memcpy(g2, g1, sizeof(float) * ng);
    for (int op = 0; op < 4; op++) {
        for (int th = 1; th <= 2; th++) {
            vb_pool_set_threads(th);
            float * y = th == 1 ? y1 : y2;
            if (op == 0) vb_layernorm(x, n, d, w, b, 1e-6f, y);
            if (op == 1) vb_rmsnorm(x, n, d, w, 1e-6f, y);
            if (op == 2) memcpy(y, x, sizeof(float) * n * d), vb_softmax_rows(y, n, d);
            if (op == 3) vb_gelu_erf(th == 1 ? g1 : g2, ng);
        }
        if (op < 3)
            assert_memory_equal(y1, y2, sizeof(float) * n * d);
        else
            assert_memory_equal(g1, g2, sizeof(float) * ng);
    }
    /* and equal to row-by-row calls (each row alone is below the threshold: one thread) */
    vb_layernorm(x, n, d, w, b, 1e-6f, y1);
    for (int64_t i = 0; i < n; i += 37) {
        vb_layernorm(x + i * d, 1, d, w, b, 1e-6f, y2);
        assert_memory_equal(y1 + i * d, y2, sizeof(float) * d);
    }
    vb_pool_set_threads(1);
    free(x), free(w), free(b), free(y1), free(y2), free(g1), free(g2);
}

static void test_attention_threaded(void ** state) {
    (void)state;
    const int64_t n = 131;
    const int32_t heads = 5, dh = 64, D = heads * dh;
    float *       qkv = randv(n * 3 * D, 1), *pb = randv((int64_t)heads * n * n, 1), *km = randv(n, 1);
    float *       o1 = malloc(sizeof(float) * n * D), *o2 = malloc(sizeof(float) * n * D);
    float *       sc = malloc(sizeof(float) * n * n);
    openblas_set_num_threads(1);
    vb_attention(qkv, 3 * D, qkv + D, 3 * D, qkv + 2 * D, 3 * D, n, n, heads, dh, 0.125f, pb, km, 1, 0, o1, D, sc);
    openblas_set_num_threads(2);
    vb_attention(qkv, 3 * D, qkv + D, 3 * D, qkv + 2 * D, 3 * D, n, n, heads, dh, 0.125f, pb, km, 1, 0, o2, D, sc);
    assert_int_equal(openblas_get_num_threads(), 2);
    for (int64_t i = 0; i < n * D; i++)
        if (!(fabsf(o1[i] - o2[i]) <= 1e-6f * (1 + fabsf(o1[i]))))
            fail_msg("threaded attention differs at %lld: %.9g vs %.9g", (long long)i, o1[i], o2[i]);
    free(qkv), free(pb), free(km), free(o1), free(o2), free(sc);
}

static void test_attention(void ** state) {
    (void)state;
    const int     H = 3, dh = 7, D = H * dh;
    const int64_t nq = 5, nk = 11, ldq = 3 * D + 2, ldk = 2 * D + 1, ldo = D + 3, q_off = 4;
    float *       q = randv(nq * ldq, 1), *kv = randv(nk * ldk, 1), *pb = randv(H * nq * nk, 1);
    float *       mask = calloc((size_t)nk, sizeof(float));
    mask[2] = -10000.0f;
    mask[9] = -10000.0f;
    float *     out = malloc(sizeof(float) * (size_t)(nq * ldo));
    float *     scratch = malloc(sizeof(float) * (size_t)(nq * nk));
    double *    r = malloc(sizeof(double) * (size_t)(nq * D));
    float *     got = malloc(sizeof(float) * (size_t)(nq * D));
    const float scale = 0.37f;
    for (int variant = 0; variant < 2; variant++) {
        int causal = variant;
        vb_attention(q, ldq, kv, ldk, kv + D, ldk, nq, nk, H, dh, scale, pb, mask, causal, q_off, out, ldo, scratch);
        for (int h = 0; h < H; h++)
            for (int64_t i = 0; i < nq; i++) {
                double  s[64], mx = -INFINITY, sum = 0;
                int64_t lim = causal ? q_off + i + 1 : nk;
                for (int64_t j = 0; j < lim; j++) {
                    double dot = 0;
                    for (int e = 0; e < dh; e++)
                        dot += (double)q[i * ldq + h * dh + e] * kv[j * ldk + h * dh + e];
                    s[j] = scale * dot + pb[(h * nq + i) * nk + j] + mask[j];
                    mx = fmax(mx, s[j]);
                }
                for (int64_t j = 0; j < lim; j++)
                    sum += (s[j] = exp(s[j] - mx));
                for (int e = 0; e < dh; e++) {
                    double o = 0;
                    for (int64_t j = 0; j < lim; j++)
                        o += s[j] / sum * kv[j * ldk + D + h * dh + e];
                    r[i * D + h * dh + e] = o;
                }
            }
        for (int64_t i = 0; i < nq; i++)
            memcpy(got + i * D, out + i * ldo, sizeof(float) * D);
        expect_close(causal ? "attention causal" : "attention", got, r, nq * D, 1e-5);
    }
    free(q), free(kv), free(pb), free(mask), free(out), free(scratch), free(r), free(got);
}

/* The vectorised LayerNorm / RMS norm / bias add against the scalar forms they replaced (double sums in order, the
** float output expression): every output float identical, for widths 1..40 (all tails of the 16-float steps), the
** ViT-g width 1408 and the T5-XL width 2048, with and without weight / bias, in place; ViT-like data (|mean| >> sd in
** some rows). */
static void scalar_layernorm(const float * x, int64_t n, int64_t d, const float * w, const float * b, float eps,
                             float * y) {
    for (int64_t i = 0; i < n; i++) {
        const float * r = x + i * d;
        float *       o = y + i * d;
        double        s = 0, s2 = 0;
        for (int64_t j = 0; j < d; j++)
            s += r[j];
        double mean = s / (double)d;
        for (int64_t j = 0; j < d; j++)
            s2 += (r[j] - mean) * (r[j] - mean);
        float inv = (float)(1.0 / sqrt(s2 / (double)d + (double)eps)), mf = (float)mean;
        for (int64_t j = 0; j < d; j++)
            o[j] = (r[j] - mf) * inv * (w ? w[j] : 1.0f) + (b ? b[j] : 0.0f);
    }
}

static void scalar_rmsnorm(const float * x, int64_t n, int64_t d, const float * w, float eps, float * y) {
    for (int64_t i = 0; i < n; i++) {
        const float * r = x + i * d;
        double        s2 = 0;
        for (int64_t j = 0; j < d; j++)
            s2 += (double)r[j] * r[j];
        float inv = (float)(1.0 / sqrt(s2 / (double)d + (double)eps));
        for (int64_t j = 0; j < d; j++)
            y[i * d + j] = w[j] * (r[j] * inv);
    }
}

static void test_norms_match_scalar(void ** state) {
    (void)state;
    const int64_t n = 9;
    int64_t       widths[42];
    for (int i = 0; i < 40; i++)
        widths[i] = i + 1;
    widths[40] = 1408, widths[41] = 2048;
    long bad = 0;
    for (int wi = 0; wi < 42; wi++) {
        int64_t d = widths[wi];
        float * x = randv(n * d, 2), *w = randv(d, 1), *b = randv(d, 0.1);
        for (int64_t j = 0; j < d; j++)
            x[j] += 30.0f, x[2 * d + j] *= 1e-3f; /* a large mean; a tiny row */
        float *y = malloc(sizeof(float) * (size_t)(n * d)), *r = malloc(sizeof(float) * (size_t)(n * d));
        for (int v = 0; v < 4; v++) {
            const float *vw = v & 1 ? NULL : w, *vb = v & 2 ? NULL : b;
            vb_layernorm(x, n, d, vw, vb, 1e-6f, y);
            scalar_layernorm(x, n, d, vw, vb, 1e-6f, r);
            bad += memcmp(y, r, sizeof(float) * (size_t)(n * d)) != 0;
        }
        memcpy(y, x, sizeof(float) * (size_t)(n * d));
        vb_layernorm(y, n, d, w, b, 1e-12f, y); /* in place */
        scalar_layernorm(x, n, d, w, b, 1e-12f, r);
        bad += memcmp(y, r, sizeof(float) * (size_t)(n * d)) != 0;
        vb_rmsnorm(x, n, d, w, 1e-6f, y);
        scalar_rmsnorm(x, n, d, w, 1e-6f, r);
        bad += memcmp(y, r, sizeof(float) * (size_t)(n * d)) != 0;
        memcpy(y, x, sizeof(float) * (size_t)(n * d));
        vb_rmsnorm(y, n, d, w, 1e-6f, y);
        bad += memcmp(y, r, sizeof(float) * (size_t)(n * d)) != 0;
        /* vb_add / vb_mul element by element */
        memcpy(y, x, sizeof(float) * (size_t)(n * d));
        vb_add(y, w, d);
        vb_mul(y + d, x + d, b, d);
        for (int64_t j = 0; j < d; j++)
            bad += y[j] != x[j] + w[j] || y[d + j] != x[d + j] * b[j];
        free(x), free(w), free(b), free(y), free(r);
    }
    assert_int_equal(bad, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linear),
        cmocka_unit_test(test_norms_and_activations),
        cmocka_unit_test(test_norms_match_scalar),
        cmocka_unit_test(test_softmax),
        cmocka_unit_test(test_exp_and_wide_softmax),
        cmocka_unit_test(test_attention),
        cmocka_unit_test(test_attention_threaded),
        cmocka_unit_test(test_glue_threaded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
