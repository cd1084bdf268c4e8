/* test_gelu_avx512.c — the AVX-512 GELU (engine/ops.c, 16 lanes) gives the bits of the AVX2 one (8 lanes) for every
** length 0..70 (16-lane body, the 8-lane step and the scalar tail in every combination) and for values over the
** whole float range (tiny, subnormal, huge, +-0, +-inf; NaN only as NaN: its sign is not kept alike by the baseline
** code); the 8-lane baseline code and vb_gelu_erf itself give the same; all within 2e-6 of GELU; SKIP naming
** AVX-512F / AVX2 where the CPU lacks them. */
#include <setjmp.h> /* cmocka.h needs these four first */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "engine/ops.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rs = 0x2545F4914F6CDD1Dull;
static uint32_t rnd32(void) {
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (uint32_t)(rs >> 32);
}

/* n values: every 5th any bit pattern (any exponent, NaN and inf included), the rest activations in [-12, 12] */
static float * values(int64_t n) {
    float * v = malloc(sizeof(float) * (size_t)(n ? n : 1));
    for (int64_t i = 0; i < n; i++) {
        uint32_t u = rnd32();
        if (i % 5 == 0)
            memcpy(&v[i], &u, sizeof u);
        else
            v[i] = (float)((u / 4294967296.0 - 0.5) * 24);
    }
    static const float special[] = {0.0f, -0.0f, 1e-40f, -1e-40f, INFINITY, -INFINITY, 88.0f, -88.0f, 9.5f, -9.5f};
    for (size_t k = 0; k < sizeof special / sizeof special[0] && (int64_t)k < n; k++)
        v[k * 3 % n] = special[k];
    return v;
}

/* the same float: equal bits, or both NaN (the NaN's sign and payload are not specified) */
static int same(float a, float b) {
    return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0;
}

static void test_gelu_bits(void ** state) {
    (void)state;
    float probe = 1.0f;
    if (vb_gelu_erf_kernel(&probe, 1, "avx2") != 0) {
        printf("SKIP: gelu avx2: no AVX2+FMA on this CPU\n");
        skip();
    }
    int has512 = vb_gelu_erf_kernel(&probe, 1, "avx512") == 0;
    if (!has512) printf("SKIP: gelu avx512: no AVX-512F on this CPU (avx2 against base only)\n");
    int64_t lens[80], nl = 0;
    for (int64_t n = 0; n <= 70; n++)
        lens[nl++] = n;
    lens[nl++] = 3072 * 3 + 5;
    lens[nl++] = 100003;
    for (int64_t li = 0; li < nl; li++) {
        int64_t n = lens[li];
        float * x = values(n);
        size_t  bytes = sizeof(float) * (size_t)(n ? n : 1);
        float * a = malloc(bytes), *b = malloc(bytes), *c = malloc(bytes), *d = malloc(bytes);
        memcpy(a, x, bytes), memcpy(b, x, bytes), memcpy(c, x, bytes), memcpy(d, x, bytes);
        assert_int_equal(vb_gelu_erf_kernel(a, n, "avx2"), 0);
        assert_int_equal(vb_gelu_erf_kernel(c, n, "base"), 0);
        for (int64_t i = 0; i < n; i++)
            if (!same(a[i], c[i]))
                fail_msg("gelu base and avx2 differ at length %lld, element %lld (x %.9g): %.9g vs %.9g", (long long)n,
                         (long long)i, x[i], c[i], a[i]);
        if (has512) {
            assert_int_equal(vb_gelu_erf_kernel(b, n, "avx512"), 0);
            for (int64_t i = 0; i < n; i++)
                if (!same(a[i], b[i]))
                    fail_msg("gelu avx512 differs from avx2 at length %lld, element %lld (x %.9g): %.9g vs %.9g",
                             (long long)n, (long long)i, x[i], b[i], a[i]);
        }
        vb_gelu_erf(d, n);
        for (int64_t i = 0; i < n; i++)
            if (!same(a[i], d[i])) fail_msg("vb_gelu_erf differs from avx2 at length %lld", (long long)n);
        /* and it is GELU: within 2e-6 (relative to max(1, |x|)) of 0.5 x (1 + erf(x / sqrt 2)) on finite inputs */
        for (int64_t i = 0; i < n; i++)
            if (isfinite(x[i]) && fabs(x[i]) < 1e30) {
                double r = 0.5 * x[i] * (1 + erf(x[i] / sqrt(2.0)));
                if (!(fabs(a[i] - r) <= 2e-6 * fmax(1.0, fabs(x[i]))))
                    fail_msg("gelu(%.9g) = %.9g, expected %.9g", x[i], a[i], r);
            }
        free(x), free(a), free(b), free(c), free(d);
    }
    assert_int_equal(vb_gelu_erf_kernel(&probe, 1, "sse9"), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gelu_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
