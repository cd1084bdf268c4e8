/* test_attn_small.c — vb_attention_batch (engine/attn_small.c) against a naive double-precision attention, with each
** kernel (avx512: SKIP naming AVX-512F where the CPU lacks it; blas): odd sizes and strides, a head width that is not
** a multiple of 16 (masked vector tails), widths 80 and 128 (the 3-row tiles), keys split over two blocks (the
** Q-Former's query and text rows), an additive key mask, key counts of 1 and 257; the output written (NaN before),
** never past the head's columns; the same bits with 1 and 2 threads; the kernel named; with OpenBLAS's SkylakeX core
** (OPENBLAS_CORETYPE=SkylakeX) the avx512 kernel gives the bits of the blas kernel on the Q-Former's shapes. */
#include <setjmp.h> /* cmocka.h needs these four first */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "engine/attn_small.h"
#include "engine/pool.h"
#include "tests/helpers.h"

char * openblas_get_corename(void); /* OpenBLAS */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t rs = 0x9E3779B97F4A7C15ull;
static double   urand(void) {
      return test_urand(&rs);
}
static float * randv(int64_t n, double sd) {
    return test_randv(&rs, n, sd);
}

struct shape {
    int64_t n, nq, nk, nk1;
    int32_t heads, dh;
    int     mask;
    int64_t nq1; /* 0: one query block; else queries [0, nq1) in one block, the rest in a second */
};

/* row of query (and output) i of problem b: all problems' first-block rows, then all second-block rows */
static int64_t qrow(const struct shape * s, int64_t b, int64_t i) {
    const int64_t qs = s->nq1 ? s->nq1 : s->nq;
    return i < qs ? b * qs + i : s->n * qs + b * (s->nq - qs) + (i - qs);
}

/* Runs one shape with the kernel `kern` ("avx512" / "blas"); returns the output (n, nq, ldo) for the thread check. */
static float * run_shape(const struct shape * s, const char * kern, int threads) {
    setenv("VB_ATTN_KERNEL", kern, 1);
    vb_pool_set_threads(threads);
    const int64_t D = (int64_t)s->heads * s->dh, ldq = D + 3, ldk = 2 * D + 5, ldo = D + 2;
    const int64_t n1 = s->nk1, n2 = s->nk - s->nk1;
    uint64_t      seed = rs;
    rs = 0x853C49E6748FEA9Bull ^ (uint64_t)(s->nq * 7919 + s->nk * 31 + s->dh); /* same data for every run */
    float * q = randv(s->n * s->nq * ldq, 1.5);
    float * kv1 = randv(s->n * (n1 + 1) * ldk, 1.5); /* keys at column 0, values at column D */
    float * kv2 = randv(s->n * (n2 + 1) * ldk, 1.5);
    float * mask = NULL;
    if (s->mask) {
        mask = calloc((size_t)(s->n * s->nk), sizeof(float));
        for (int64_t i = 0; i < s->n * s->nk; i++)
            mask[i] = urand() < 0.3 ? -10000.0f : 0.0f;
    }
    rs = seed;
    float * out = malloc(sizeof(float) * (size_t)(s->n * s->nq * ldo));
    for (int64_t i = 0; i < s->n * s->nq * ldo; i++)
        out[i] = NAN;
    const float          scale = 1.0f / sqrtf((float)s->dh);
    const int64_t        qs = s->nq1 ? s->nq1 : s->nq;
    struct vb_attn_batch a = {.n = s->n,
                              .nq = s->nq,
                              .nk = s->nk,
                              .nk1 = n1,
                              .heads = s->heads,
                              .dh = s->dh,
                              .scale = scale,
                              .q = q,
                              .ldq = ldq,
                              .sq = qs * ldq,
                              .k = kv1,
                              .ldk = ldk,
                              .sk = (n1 + 1) * ldk,
                              .v = kv1 + D,
                              .ldv = ldk,
                              .sv = (n1 + 1) * ldk,
                              .k2 = n2 ? kv2 : NULL,
                              .sk2 = (n2 + 1) * ldk,
                              .v2 = n2 ? kv2 + D : NULL,
                              .sv2 = (n2 + 1) * ldk,
                              .mask = mask,
                              .smask = s->nk,
                              .out = out,
                              .ldo = ldo,
                              .so = qs * ldo};
    if (s->nq1) {
        a.nq1 = qs, a.q2 = q + s->n * qs * ldq, a.sq2 = (s->nq - qs) * ldq;
        a.out2 = out + s->n * qs * ldo, a.so2 = (s->nq - qs) * ldo;
    }
    vb_attention_batch(&a);
    /* the reference, in double */
    double * sc = malloc(sizeof(double) * (size_t)s->nk);
    double   mx = 0, err = 0;
    int      past = 0;
    for (int64_t b = 0; b < s->n; b++)
        for (int32_t h = 0; h < s->heads; h++)
            for (int64_t i = 0; i < s->nq; i++) {
                const float * qi = q + qrow(s, b, i) * ldq + h * s->dh;
                double        m = -INFINITY, sum = 0;
                for (int64_t j = 0; j < s->nk; j++) {
                    const float * kj =
                        j < n1 ? kv1 + b * (n1 + 1) * ldk + j * ldk : kv2 + b * (n2 + 1) * ldk + (j - n1) * ldk;
                    double dot = 0;
                    for (int d = 0; d < s->dh; d++)
                        dot += (double)qi[d] * kj[h * s->dh + d];
                    sc[j] = scale * dot + (mask ? mask[b * s->nk + j] : 0);
                    m = fmax(m, sc[j]);
                }
                for (int64_t j = 0; j < s->nk; j++)
                    sum += (sc[j] = exp(sc[j] - m));
                const float * o = out + qrow(s, b, i) * ldo;
                for (int d = 0; d < s->dh; d++) {
                    double r = 0;
                    for (int64_t j = 0; j < s->nk; j++) {
                        const float * vj = j < n1 ? kv1 + b * (n1 + 1) * ldk + j * ldk + D
                                                  : kv2 + b * (n2 + 1) * ldk + (j - n1) * ldk + D;
                        r += sc[j] / sum * vj[h * s->dh + d];
                    }
                    mx = fmax(mx, fabs(r));
                    double e = fabs(o[h * s->dh + d] - r);
                    err = isnan(e) ? INFINITY : fmax(err, e);
                }
                past += !isnan(o[D]) || !isnan(o[D + 1]); /* the two columns past the heads stay untouched */
            }
    if (!(err <= 1e-5 * fmax(mx, 1e-30)) || past)
        fail_msg("kernel %s, n %lld nq %lld nk %lld (first block %lld) heads %d dh %d mask %d, %d threads: max error "
                 "%.3g of max |ref| %.3g, %d rows written past the heads",
                 kern, (long long)s->n, (long long)s->nq, (long long)s->nk, (long long)s->nk1, s->heads, s->dh, s->mask,
                 threads, err, mx, past);
    free(q), free(kv1), free(kv2), free(mask), free(sc);
    return out;
}

static const struct shape shapes[] = {
    {3, 5, 11, 4, 3, 7, 1, 0},       /* tails everywhere, two key blocks, mask */
    {4, 32, 257, 257, 8, 64, 0, 0},  /* the Q-Former's cross-attention, 32 queries over 257 image tokens: 2^25
                                     multiply-adds, above the threshold of the split over the threads */
    {4, 64, 64, 32, 3, 64, 1, 32},   /* InstructBLIP self-attention: 32 query + 32 text rows (two blocks) as keys and as
                                        queries, padded text */
    {3, 9, 20, 7, 2, 24, 1, 4},      /* two query blocks with tails */
    {2, 33, 13, 0, 2, 80, 0, 0},     /* every key in the second block; width 80: 5 vectors, 3-row tiles */
    {1, 17, 29, 29, 2, 128, 1, 0},   /* width 128 */
    {2, 1, 1, 1, 1, 16, 0, 0},       /* one query, one key */
    {1, 50, 40, 40, 1, 200, 0, 0},   /* width 200: past the avx512 kernel, blas in both runs */
    {2, 257, 257, 257, 2, 88, 0, 0}, /* the ViT-g's self-attention: 257 tokens, width 88 (a masked half vector) */
    /* above 64 keys the avx512 kernel's weighted sum runs transposed (values packed, output rows by 16 x 16 blocks) */
    {3, 5, 80, 30, 3, 7, 1, 0},      /* two key blocks, mask, width 7, 5 queries (one 16-column block) */
    {2, 40, 100, 60, 2, 128, 1, 17}, /* two query and two key blocks, width 128, 40 queries (last block 16 columns) */
    {1, 70, 65, 0, 1, 24, 0, 0},     /* every key in the second block, 65 keys (the first transposed count) */
};

static void check_kernel(const char * kern) {
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        float *              o1 = run_shape(&shapes[i], kern, 1);
        float *              o2 = run_shape(&shapes[i], kern, 2);
        const struct shape * s = &shapes[i];
        size_t               n = (size_t)(s->n * s->nq * ((int64_t)s->heads * s->dh + 2));
        if (memcmp(o1, o2, sizeof(float) * n) != 0) /* NaN columns compare as bytes */
            fail_msg("kernel %s, shape %zu: 1 and 2 threads give different bits", kern, i);
        free(o1), free(o2);
    }
}

static void test_blas(void ** state) {
    (void)state;
    setenv("VB_ATTN_KERNEL", "blas", 1);
    assert_string_equal(vb_attention_batch_kernel(64), "blas");
    check_kernel("blas");
}

static void test_avx512(void ** state) {
    (void)state;
    setenv("VB_ATTN_KERNEL", "avx512", 1);
    if (strcmp(vb_attention_batch_kernel(64), "avx512") != 0) {
        printf("SKIP: attention kernel avx512: no AVX-512F on this CPU\n");
        skip();
    }
    assert_string_equal(vb_attention_batch_kernel(200), "blas");
    check_kernel("avx512");
    /* the same bits as the blas kernel where OpenBLAS's sgemm sums each dot product as one chain in order: its
    ** SkylakeX kernels for the Q-Former's cross-attention and InstructBLIP self-attention shapes */
    const char * core = openblas_get_corename();
    if (!core || strcmp(core, "SkylakeX") != 0) {
        printf("note: attention avx512 = blas bits not checked: OpenBLAS core %s, not SkylakeX (OPENBLAS_CORETYPE)\n",
               core ? core : "?");
        return;
    }
    static const size_t same[] = {1, 2, 8}; /* the Q-Former's cross- and self-attention, the ViT's self-attention */
    for (size_t si = 0; si < sizeof same / sizeof same[0]; si++) {
        const size_t         i = same[si];
        const struct shape * sh = &shapes[i];
        float *              o1 = run_shape(sh, "blas", 1), *o2 = run_shape(sh, "avx512", 1);
        size_t               n = (size_t)(sh->n * sh->nq * ((int64_t)sh->heads * sh->dh + 2));
        if (memcmp(o1, o2, sizeof(float) * n) != 0) fail_msg("shape %zu: avx512 and blas give different bits", i);
        free(o1), free(o2);
    }
}

int main(int argc, char ** argv) {
    (void)argc;
    /* the bit check needs OpenBLAS's SkylakeX core, which OpenBLAS 0.3.21 does not pick on every AVX-512 CPU: run
    ** again with it (vlapbench does the same, engine/blas.c) */
    __builtin_cpu_init();
    if (!getenv("OPENBLAS_CORETYPE") && __builtin_cpu_supports("avx512f")) {
        setenv("OPENBLAS_CORETYPE", "SkylakeX", 1);
        execv("/proc/self/exe", argv);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blas),
        cmocka_unit_test(test_avx512),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    vb_pool_set_threads(1);
    return rc;
}
