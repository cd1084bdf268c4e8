/* test_attn_small.c — vb_attention_batch (engine/attn_small.c) against a naive double-precision attention, with each
** kernel (avx512: SKIP naming AVX-512F where the CPU lacks it; blas): odd sizes and strides, a head width that is not
** a multiple of 16 (masked vector tails), widths 80 and 128 (the 3-row tiles), keys split over two blocks (the
** Q-Former's query and text rows), an additive key mask, key counts of 1 and 257; the output written (NaN before),
** never past the head's columns; an additive score bias (shared by the problems or one each, with one and two query
** and key blocks); the same bits with 1 and 2 threads; the kernel named; with OpenBLAS's SkylakeX core
** (OPENBLAS_CORETYPE=SkylakeX) the avx512 kernel gives the bits of the blas kernel on the Q-Former's shapes.  T5
** encoder shapes (3 sequences of 7, 64, 77, 130, 512 tokens, 4 heads of 64, position bias and key mask): the blas
** kernel gives engine/ops.c vb_attention's bits, the avx512 kernel those of the blas kernel at 64-130 keys (SkylakeX
** core), else within 16 FLT_EPSILON of the largest output.  The amx kernel (bf16 compute, AMX-BF16: SKIP naming it
** elsewhere): every shape above against a reference of bf16-rounded operands, its default choice, batch invariance. */
#include <setjmp.h> /* cmocka.h needs these four first */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/common.h"
#include "engine/attn_small.h"
#include "engine/blas.h"
#include "engine/ops.h"
#include "engine/pool.h"
#include "engine/weights.h"
#include "engine/wmat.h"
#include "tests/helpers.h"

char * openblas_get_corename(void); /* OpenBLAS */

#include <float.h>
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

/* x rounded to bf16 and back (vb_f32_to_bf16: nearest even) */
static double rb(double x) {
    return vb_bf16_to_f32(vb_f32_to_bf16((float)x));
}

/* The amx kernel's reference: q, k, v and the softmax numerators exp(s - max) rounded to bf16 (rb), divided by their
** sum, the rest in double as for the f32 kernels; its tolerance, relative to max |ref|: the f32 summation inside the
** tiles, the kernel's exp (relative 3e-6) and a numerator that lands on the other side of a bf16 rounding boundary
** (its f32 scores against the double ones) (measured: at most 9.4e-4 on these shapes); a pair swapped or a tile
** misplaced gives errors of order 1. */
#define AMX_TOL 4e-3

/* Runs one shape with the kernel `kern` ("avx512" / "blas" / "amx"), with an additive score bias (heads, nq, nk) when
** bias is 1 (one table shared by the problems) or 2 (one per problem); returns the output (n, nq, ldo) for the thread
** check. */
static float * run_shape(const struct shape * s, int bias_mode, const char * kern, int threads) {
    /* "default" / "default-amx": VB_ATTN_KERNEL unset, the default kernel, checked against the f32 / amx reference */
    if (!strncmp(kern, "default", 7))
        unsetenv("VB_ATTN_KERNEL");
    else
        setenv("VB_ATTN_KERNEL", kern, 1);
    /* (a head wider than 128 runs the blas kernel even with amx forced) */
    const int bf =
        (!strcmp(kern, "amx") || !strcmp(kern, "default-amx")) && !strcmp(vb_attention_batch_kernel(s->dh), "amx");
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
    const int64_t hqk = (int64_t)s->heads * s->nq * s->nk; /* one bias table */
    float *       bias = bias_mode ? randv((bias_mode == 2 ? s->n : 1) * hqk, 2.0) : NULL;
    const int64_t sbias = bias_mode == 2 ? hqk : 0;
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
                              .bias = bias,
                              .sbias = sbias,
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
                        dot += bf ? rb(qi[d]) * rb(kj[h * s->dh + d]) : (double)qi[d] * kj[h * s->dh + d];
                    sc[j] = scale * dot + (bias ? bias[b * sbias + (h * s->nq + i) * s->nk + j] : 0) +
                            (mask ? mask[b * s->nk + j] : 0);
                    m = fmax(m, sc[j]);
                }
                for (int64_t j = 0; j < s->nk; j++) /* amx: the numerators rounded, their sum */
                    sum += (sc[j] = bf ? rb(exp(sc[j] - m)) : exp(sc[j] - m));
                const float * o = out + qrow(s, b, i) * ldo;
                for (int d = 0; d < s->dh; d++) {
                    double r = 0;
                    for (int64_t j = 0; j < s->nk; j++) {
                        const float * vj = j < n1 ? kv1 + b * (n1 + 1) * ldk + j * ldk + D
                                                  : kv2 + b * (n2 + 1) * ldk + (j - n1) * ldk + D;
                        r += sc[j] / sum * (bf ? rb(vj[h * s->dh + d]) : vj[h * s->dh + d]);
                    }
                    mx = fmax(mx, fabs(r));
                    double e = fabs(o[h * s->dh + d] - r);
                    err = isnan(e) ? INFINITY : fmax(err, e);
                }
                past += !isnan(o[D]) || !isnan(o[D + 1]); /* the two columns past the heads stay untouched */
            }
    if (bf)
        printf("  amx: n %lld nq %lld nk %lld dh %d bias %d: max error %.3g of max |ref| %.3g (%.2e)\n",
               (long long)s->n, (long long)s->nq, (long long)s->nk, s->dh, bias_mode, err, mx, err / fmax(mx, 1e-30));
    if (!(err <= (bf ? AMX_TOL : 1e-5) * fmax(mx, 1e-30)) || past)
        fail_msg("kernel %s, n %lld nq %lld nk %lld (first block %lld) heads %d dh %d mask %d bias %d, %d threads: "
                 "max error %.3g of max |ref| %.3g, %d rows written past the heads",
                 kern, (long long)s->n, (long long)s->nq, (long long)s->nk, (long long)s->nk1, s->heads, s->dh, s->mask,
                 bias_mode, threads, err, mx, past);
    free(q), free(kv1), free(kv2), free(mask), free(bias), free(sc);
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

/* with an additive score bias (T5's relative position bias): 1 = one table shared by the problems, 2 = one each */
static const struct bias_shape {
    struct shape s;
    int          bias;
} bias_shapes[] = {
    {{3, 5, 11, 4, 3, 7, 1, 0}, 1},       /* tails everywhere, two key blocks, mask */
    {{2, 9, 20, 7, 2, 24, 1, 4}, 2},      /* two query and two key blocks with tails, a bias per problem */
    {{2, 40, 100, 60, 2, 128, 1, 17}, 1}, /* two query and two key blocks, transposed weighted sum, width 128 */
    {{3, 77, 77, 77, 4, 64, 1, 0}, 1},    /* T5 encoder self-attention: 77 tokens, width 64 */
    {{2, 33, 130, 0, 2, 80, 0, 0}, 2},    /* every key in the second block, no mask */
};

static void check_shape(const struct shape * s, int bias_mode, const char * kern, size_t i) {
    float * o1 = run_shape(s, bias_mode, kern, 1);
    float * o2 = run_shape(s, bias_mode, kern, 2);
    size_t  n = (size_t)(s->n * s->nq * ((int64_t)s->heads * s->dh + 2));
    if (memcmp(o1, o2, sizeof(float) * n) != 0) /* NaN columns compare as bytes */
        fail_msg("kernel %s, shape %zu (bias %d): 1 and 2 threads give different bits", kern, i, bias_mode);
    free(o1), free(o2);
}

static void check_kernel(const char * kern) {
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        check_shape(&shapes[i], 0, kern, i);
    for (size_t i = 0; i < sizeof bias_shapes / sizeof bias_shapes[0]; i++)
        check_shape(&bias_shapes[i].s, bias_shapes[i].bias, kern, i);
}

/* ---- T5 encoder self-attention: scale 1, the relative position bias (heads, L, L) shared by the problems (sbias 0),
** a key mask of 0 / -FLT_MAX per problem, q | k | v in one row of 3 * heads * dh and the output rows heads * dh wide,
** as engine/t5.c's encoder passes them ---- */
enum { T5_N = 3, T5_H = 4, T5_DH = 64 };
static const int64_t t5_len[] = {7, 64, 77, 130, 512};

/* The output (T5_N * L, T5_H * T5_DH) of vb_attention_batch with kernel kern (2 threads); with ref set, *ref gets the
** same through engine/ops.c's vb_attention, one call per problem. */
static float * t5_run(int64_t L, const char * kern, float ** ref) {
    setenv("VB_ATTN_KERNEL", kern, 1);
    vb_pool_set_threads(2);
    const int64_t D = (int64_t)T5_H * T5_DH, ld = 3 * D;
    uint64_t      seed = rs;
    rs = 0x2545F4914F6CDD1Dull ^ (uint64_t)L; /* same data for every run */
    float * qkv = randv(T5_N * L * ld, 0.5);
    float * bias = randv((int64_t)T5_H * L * L, 2.0);
    float * mask = calloc((size_t)(T5_N * L), sizeof(float));
    for (int64_t j = 0; j < L; j++) { /* problem 0 all real, 1 padded at the end (2 keys), 2 random holes */
        mask[L + j] = j >= L - 2 && L > 2 ? -FLT_MAX : 0.0f;
        mask[2 * L + j] = j > 0 && urand() < 0.3 ? -FLT_MAX : 0.0f;
    }
    rs = seed;
    float * out = malloc(sizeof(float) * (size_t)(T5_N * L * D));
    /* the batch as engine/t5.c's encoder builds it: q | k | v rows, then its mask and the shared bias */
    struct vb_attn_batch a = vb_attn_batch_self(T5_N, L, T5_H, T5_DH, 1.0f, qkv, out);
    a.mask = mask, a.smask = L, a.bias = bias, a.sbias = 0;
    vb_attention_batch(&a);
    if (ref) {
        *ref = malloc(sizeof(float) * (size_t)(T5_N * L * D));
        float * S = malloc(sizeof(float) * (size_t)(L * L));
        for (int64_t b = 0; b < T5_N; b++) {
            const float * q = qkv + b * L * ld;
            vb_attention(q, ld, q + D, ld, q + 2 * D, ld, L, L, T5_H, T5_DH, 1.0f, bias, mask + b * L, 0, 0,
                         *ref + b * L * D, D, S);
        }
        free(S);
    }
    free(qkv), free(bias), free(mask);
    return out;
}

/* the blas kernel with a bias and a mask gives engine/ops.c vb_attention's bits on T5 encoder shapes */
static void test_t5_blas(void ** state) {
    (void)state;
    for (size_t li = 0; li < sizeof t5_len / sizeof t5_len[0]; li++) {
        const int64_t L = t5_len[li], n = T5_N * L * T5_H * T5_DH;
        float *       ref, *out = t5_run(L, "blas", &ref);
        int64_t       diff = 0;
        for (int64_t i = 0; i < n; i++)
            diff += memcmp(out + i, ref + i, sizeof(float)) != 0;
        if (diff)
            fail_msg("T5 shape L %lld: blas kernel and vb_attention differ in %lld of %lld values", (long long)L,
                     (long long)diff, (long long)n);
        free(out), free(ref);
    }
}

/* the avx512 kernel against the blas kernel on T5 encoder shapes: with OpenBLAS's SkylakeX core the same bits from
** 48 to 257 keys (measured 48, 63, 64, 65, 80, 100, 128, 200, 257: its sgemm sums each dot product as one chain in
** order, as the kernel does; checked here at 64, 77 and 130); up to 32 keys its small NT kernel sums the scores in
** another order and at 512 its k blocks split the weighted sum: there, and on every other core, each value within 16
** * FLT_EPSILON * the largest |output| (measured: 7 keys 3.5 *, 512 keys 8.0 * FLT_EPSILON * max |out|) */
static void test_t5_avx512(void ** state) {
    (void)state;
    setenv("VB_ATTN_KERNEL", "avx512", 1);
    if (strcmp(vb_attention_batch_kernel(T5_DH), "avx512") != 0) {
        printf("SKIP: attention kernel avx512 on T5 shapes: no AVX-512F on this CPU\n");
        skip();
    }
    const char * core = openblas_get_corename();
    const int    skx = core && !strcmp(core, "SkylakeX");
    for (size_t li = 0; li < sizeof t5_len / sizeof t5_len[0]; li++) {
        const int64_t L = t5_len[li], n = T5_N * L * T5_H * T5_DH;
        float *       ob = t5_run(L, "blas", NULL), *oa = t5_run(L, "avx512", NULL);
        int64_t       diff = 0;
        double        md = 0, mx = 0;
        for (int64_t i = 0; i < n; i++) {
            diff += memcmp(oa + i, ob + i, sizeof(float)) != 0;
            md = fmax(md, isnan(oa[i]) ? INFINITY : fabs((double)oa[i] - ob[i]));
            mx = fmax(mx, fabs((double)ob[i]));
        }
        const int bits = skx && L >= 48 && L <= 257;
        printf("T5 shape L %lld, OpenBLAS core %s: %lld of %lld values differ, max |diff| %.3g of max |out| %.3g "
               "(checked: %s)\n",
               (long long)L, core ? core : "?", (long long)diff, (long long)n, md, mx,
               bits ? "same bits" : "within 16 FLT_EPSILON of max |out|");
        if (bits ? diff != 0 : !(md <= 16 * FLT_EPSILON * mx))
            fail_msg("T5 shape L %lld: avx512 and blas kernels: %lld values differ, max |diff| %.3g of max |out| %.3g",
                     (long long)L, (long long)diff, md, mx);
        free(oa), free(ob);
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
        float *              o1 = run_shape(sh, 0, "blas", 1), *o2 = run_shape(sh, 0, "avx512", 1);
        size_t               n = (size_t)(sh->n * sh->nq * ((int64_t)sh->heads * sh->dh + 2));
        if (memcmp(o1, o2, sizeof(float) * n) != 0) fail_msg("shape %zu: avx512 and blas give different bits", i);
        free(o1), free(o2);
    }
}

/* The amx kernel (bf16 compute; SKIP naming AMX-BF16 where the CPU lacks it), forced on every shape above (the
** amx reference: bf16 operands), 1 and 2 threads the same bits; in bf16 compute it is the default from 64 queries and
** 64 keys (63 keys: the avx512 kernel's bits) and never in f32 compute; a pair gives the same bits alone as in a batch
** of several problems. */
static void test_amx(void ** state) {
    (void)state;
    unsetenv("VB_ATTN_KERNEL");
    if (vb_wmat_kernel_available("amx", NULL) != 1 || strcmp(vb_attention_batch_kernel(64), "avx512") != 0) {
        printf("SKIP: attention kernel amx: no AMX-BF16 on this CPU\n");
        skip();
    }
    check_kernel("amx");
    unsetenv("VB_ATTN_KERNEL");
    /* the default choice: never in f32 compute; in bf16 compute from VB_ATTN_AMX_MIN queries and keys */
    assert_string_equal(vb_attention_batch_kernel(64), "avx512");
    assert_int_equal(vb_wmat_set_compute(VB_COMPUTE_BF16), VB_OK);
    assert_string_equal(vb_attention_batch_kernel(64), "amx");
    assert_string_equal(vb_attention_batch_kernel(200), "blas");
    const int64_t      M = VB_ATTN_AMX_MIN;
    const struct shape few = {2, M, M - 1, M - 1, 2, 64, 1, 0}, many = {2, M, M, M, 2, 64, 1, 0};
    const size_t       nf = (size_t)(few.n * few.nq * (few.heads * few.dh + 2));
    const size_t       nm = (size_t)(many.n * many.nq * (many.heads * many.dh + 2));
    float *            d_few = run_shape(&few, 1, "default", 2), *a_few = run_shape(&few, 1, "avx512", 2);
    assert_memory_equal(d_few, a_few, sizeof(float) * nf); /* one key fewer: the avx512 kernel */
    float *d_many = run_shape(&many, 1, "default-amx", 2), *m_many = run_shape(&many, 1, "amx", 2);
    assert_memory_equal(d_many, m_many, sizeof(float) * nm); /* VB_ATTN_AMX_MIN queries and keys: amx */
    assert_int_equal(vb_wmat_set_compute(VB_COMPUTE_F32), VB_OK);
    free(d_few), free(a_few), free(d_many), free(m_many);
    /* batch invariance: problem 0 of a batch of 3 = the same problem alone (ViT-g shape, fused q | k | v rows) */
    setenv("VB_ATTN_KERNEL", "amx", 1);
    const int64_t        L = 257, H = 2, DH = 88, D = H * DH;
    float *              qkv = randv(3 * L * 3 * D, 1.5), *o3 = malloc(sizeof(float) * (size_t)(3 * L * D));
    float *              o1 = malloc(sizeof(float) * (size_t)(L * D));
    struct vb_attn_batch a3 = vb_attn_batch_self(3, L, H, DH, 0.1f, qkv, o3),
                         a1 = vb_attn_batch_self(1, L, H, DH, 0.1f, qkv, o1);
    vb_pool_set_threads(2);
    vb_attention_batch(&a3);
    vb_pool_set_threads(1);
    vb_attention_batch(&a1);
    assert_memory_equal(o3, o1, sizeof(float) * (size_t)(L * D));
    free(qkv), free(o3), free(o1);
    unsetenv("VB_ATTN_KERNEL");
}

int main(int argc, char ** argv) {
    (void)argc;
    /* the bit check needs OpenBLAS's SkylakeX core, which OpenBLAS 0.3.21 does not pick on every AVX-512 CPU: run
    ** again with it (vlapbench does the same, engine/blas.c) */
    const char * best = vb_blas_cpu_best_core(); /* SkylakeX: AVX-512 that VB_CPU_DISABLE leaves (engine/cpu.h) */
    if (!getenv("OPENBLAS_CORETYPE") && best && !strcmp(best, "SkylakeX")) {
        setenv("OPENBLAS_CORETYPE", "SkylakeX", 1);
        execv("/proc/self/exe", argv);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blas),      cmocka_unit_test(test_avx512), cmocka_unit_test(test_t5_blas),
        cmocka_unit_test(test_t5_avx512), cmocka_unit_test(test_amx),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    vb_pool_set_threads(1);
    return rc;
}
