/* test_stats.c — statistics against hand-computed values (exact McNemar, numpy-linear percentiles, sd),
** generator reference outputs, bootstrap determinism and cluster behaviour, latency summaries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs <setjmp.h>, <stdarg.h>, <stddef.h> and <stdint.h> first */
#include <cmocka.h>

#include "base/common.h"
#include "metrics/latency.h"
#include "metrics/stats.h"

#include <math.h>
#include <string.h>

#define NEAR(a, b, tol) assert_true(fabs((a) - (b)) <= (tol))

static void test_mcnemar(void ** state) {
    (void)state;
    /* 2 * sum_{i<=min} C(n,i) / 2^n, computed by hand / with exact fractions */
    assert_true(vb_stats_mcnemar_exact(1, 9) == 0.021484375); /* 2 * 11/1024 */
    assert_true(vb_stats_mcnemar_exact(9, 1) == 0.021484375); /* symmetric */
    assert_true(vb_stats_mcnemar_exact(3, 3) == 1.0);         /* 2 * 42/64 > 1 -> 1 */
    assert_true(vb_stats_mcnemar_exact(0, 0) == 1.0);
    assert_true(vb_stats_mcnemar_exact(0, 5) == 0.0625);         /* 2/32 */
    assert_true(vb_stats_mcnemar_exact(2, 10) == 0.03857421875); /* 2 * 79/4096 */
    assert_true(vb_stats_mcnemar_exact(31, 31) == 1.0);
    /* log-space path (b + c > 62), against exact rational arithmetic */
    NEAR(vb_stats_mcnemar_exact(30, 40), 0.2819789217936561, 1e-12);
    NEAR(vb_stats_mcnemar_exact(40, 60), 0.05688793364098079, 1e-12);
    NEAR(vb_stats_mcnemar_exact(100, 140), 0.011664092317677663, 1e-12);
    NEAR(vb_stats_mcnemar_exact(2, 40) / 4.1109160520136356e-10, 1.0, 1e-9);
    assert_true(isnan(vb_stats_mcnemar_exact(-1, 3)));
}

static void test_percentiles(void ** state) {
    (void)state;
    /* numpy linear: h = (n-1) q; x[floor h] + frac * (next - x[floor h]) */
    double a[] = {1, 2, 3, 4};
    NEAR(vb_stats_percentile_sorted(a, 4, 0.5), 2.5, 1e-12);   /* h = 1.5 */
    NEAR(vb_stats_percentile_sorted(a, 4, 0.9), 3.7, 1e-12);   /* h = 2.7 */
    NEAR(vb_stats_percentile_sorted(a, 4, 0.99), 3.97, 1e-12); /* h = 2.97 */
    NEAR(vb_stats_percentile_sorted(a, 4, 0.0), 1.0, 0);
    NEAR(vb_stats_percentile_sorted(a, 4, 1.0), 4.0, 0);
    double b[] = {50, 15, 40, 20, 35};                  /* unsorted; sorted 15 20 35 40 50 */
    NEAR(vb_stats_percentile(b, 5, 0.4), 29.0, 1e-12);  /* h = 1.6: 20 + 0.6 * 15 */
    NEAR(vb_stats_percentile(b, 5, 0.9), 46.0, 1e-12);  /* h = 3.6: 40 + 0.6 * 10 */
    NEAR(vb_stats_percentile(b, 5, 0.99), 49.6, 1e-12); /* h = 3.96 */
    NEAR(vb_stats_percentile(b, 5, 0.25), 20.0, 1e-12); /* h = 1 exactly */
    assert_true(b[0] == 50);                            /* input untouched */
    double one[] = {7};
    NEAR(vb_stats_percentile_sorted(one, 1, 0.99), 7.0, 0);
    assert_true(isnan(vb_stats_percentile_sorted(a, 0, 0.5)));
    assert_true(isnan(vb_stats_percentile_sorted(a, 4, 1.5)));
    double c[] = {2, 4, 4, 4, 5, 5, 7, 9};
    NEAR(vb_stats_mean(c, 8), 5.0, 1e-12);
    NEAR(vb_stats_sd(c, 8), sqrt(32.0 / 7.0), 1e-12); /* n-1 denominator: 2.138089935... */
    NEAR(vb_stats_sd(c, 1), 0.0, 0);
}

static void test_latency(void ** state) {
    (void)state;
    double                    x[] = {50, -1, 15, 40, 20, 35, -1};
    struct vb_latency_summary s;
    assert_int_equal(vb_latency_summarize(x, 7, &s), VB_OK);
    assert_int_equal(s.n, 5); /* -1 = not measured */
    NEAR(s.mean, 32.0, 1e-12);
    NEAR(s.sd, sqrt(830.0 / 4.0), 1e-12); /* deviations -17 -12 3 8 18: 289+144+9+64+324 = 830 */
    NEAR(s.min, 15, 0);
    NEAR(s.max, 50, 0);
    NEAR(s.p50, 35, 1e-12);
    NEAR(s.p90, 46, 1e-12);
    NEAR(s.p99, 49.6, 1e-12);
    assert_int_equal(vb_latency_summarize(x, 0, &s), VB_OK);
    assert_int_equal(s.n, 0);
    assert_true(isnan(s.p50));
    NEAR(vb_latency_speedup(3.28, 1.79), 3.28 / 1.79, 1e-12);
    assert_true(isnan(vb_latency_speedup(0, 1)));
    assert_string_equal(vb_latency_stage_name(VB_STAGE_T5_ENC), "t5_enc");
    assert_string_equal(vb_latency_stage_name(VB_STAGE_TOTAL), "total");
}

static void test_rng(void ** state) {
    (void)state;
    uint64_t st = 0;
    assert_true(vb_stats_splitmix64(&st) == 0xe220a8397b1dcdafULL); /* splitmix64 reference, seed 0 */
    assert_true(vb_stats_splitmix64(&st) == 0x6e789e6aa1b965f4ULL);
    struct vb_rng r;
    vb_stats_rng_seed(&r, 12345); /* xoshiro256** reference outputs (computed independently in Python) */
    assert_true(vb_stats_rng_next(&r) == 0xbe6a36374160d49bULL);
    assert_true(vb_stats_rng_next(&r) == 0x214aaa0637a688c6ULL);
    assert_true(vb_stats_rng_next(&r) == 0xf69d16de9954d388ULL);
    int cnt[7] = {0};
    for (int i = 0; i < 70000; i++)
        cnt[vb_stats_rng_below(&r, 7)]++;
    for (int i = 0; i < 7; i++)
        assert_true(cnt[i] > 9500 && cnt[i] < 10500);
}

static void test_dense_ids(void ** state) {
    (void)state;
    const char * lab[] = {"b", "a", "b", "c", "a"};
    int32_t      ids[5];
    assert_int_equal(vb_stats_dense_ids(lab, 5, ids), 3);
    int32_t want[] = {0, 1, 0, 2, 1};
    assert_memory_equal(ids, want, sizeof want);
}

static void test_accuracy_ci(void ** state) {
    (void)state;
    /* 50 videos x 10 questions; a video is all right or all wrong (perfectly correlated) */
    enum { NV = 50, NQ = 10, N = NV * NQ };
    uint8_t c[N];
    int32_t cl[N];
    for (int v = 0; v < NV; v++)
        for (int q = 0; q < NQ; q++) {
            c[v * NQ + q] = (uint8_t)(v % 2);
            cl[v * NQ + q] = v;
        }
    struct vb_acc_ci a, b, iid;
    assert_int_equal(vb_stats_accuracy_ci(c, cl, NULL, 0, N, VB_ACC_POOLED, 2000, 7, 0.95, &a), VB_OK);
    assert_int_equal(a.n, N);
    assert_int_equal(a.n_correct, 250);
    assert_int_equal(a.n_clusters, NV);
    NEAR(a.acc, 0.5, 0);
    /* cluster CI ~ +-1.96 * sqrt(.25/50) = +-0.139; iid CI ~ +-1.96 * sqrt(.25/500) = +-0.044 */
    assert_true(a.hi - a.lo > 0.22 && a.hi - a.lo < 0.33);
    assert_int_equal(vb_stats_accuracy_ci(c, NULL, NULL, 0, N, VB_ACC_POOLED, 2000, 7, 0.95, &iid), VB_OK);
    assert_true(iid.hi - iid.lo > 0.06 && iid.hi - iid.lo < 0.11);
    assert_true(a.lo < 0.5 && a.hi > 0.5);
    /* same seed -> same interval; other seed -> (slightly) different (per-video rates vary: q < v % 11) */
    for (int v = 0; v < NV; v++)
        for (int q = 0; q < NQ; q++)
            c[v * NQ + q] = (uint8_t)(q < v % 11);
    assert_int_equal(vb_stats_accuracy_ci(c, cl, NULL, 0, N, VB_ACC_POOLED, 2000, 7, 0.95, &a), VB_OK);
    assert_int_equal(vb_stats_accuracy_ci(c, cl, NULL, 0, N, VB_ACC_POOLED, 2000, 7, 0.95, &b), VB_OK);
    assert_true(a.lo == b.lo && a.hi == b.hi);
    assert_int_equal(vb_stats_accuracy_ci(c, cl, NULL, 0, N, VB_ACC_POOLED, 2000, 8, 0.95, &b), VB_OK);
    assert_true(a.lo != b.lo || a.hi != b.hi);
    /* every video half right: no between-video variance -> degenerate interval */
    for (int i = 0; i < N; i++)
        c[i] = (uint8_t)(i % 2);
    assert_int_equal(vb_stats_accuracy_ci(c, cl, NULL, 0, N, VB_ACC_POOLED, 500, 1, 0.95, &a), VB_OK);
    NEAR(a.lo, 0.5, 1e-12);
    NEAR(a.hi, 0.5, 1e-12);
    /* n_boot = 0: no interval */
    assert_int_equal(vb_stats_accuracy_ci(c, cl, NULL, 0, N, VB_ACC_POOLED, 0, 1, 0.95, &a), VB_OK);
    assert_true(a.lo == a.acc && a.hi == a.acc);
    /* macro (STAR Mean) vs pooled: cat 0 = 2/2 right, cat 1 = 0/6 right */
    uint8_t m[8] = {1, 1, 0, 0, 0, 0, 0, 0};
    int32_t cat[8] = {0, 0, 1, 1, 1, 1, 1, 1};
    assert_int_equal(vb_stats_accuracy_ci(m, NULL, cat, 2, 8, VB_ACC_MACRO, 0, 1, 0.95, &a), VB_OK);
    NEAR(a.acc, 0.5, 1e-12);
    assert_int_equal(vb_stats_accuracy_ci(m, NULL, cat, 2, 8, VB_ACC_POOLED, 0, 1, 0.95, &a), VB_OK);
    NEAR(a.acc, 0.25, 1e-12);
    assert_int_equal(vb_stats_accuracy_ci(m, NULL, NULL, 0, 8, VB_ACC_MACRO, 0, 1, 0.95, &a), VB_ERR_ARG);
    int32_t badcl[8] = {0, 1, 2, 3, 4, 5, 6, 99};
    assert_int_equal(vb_stats_accuracy_ci(m, badcl, NULL, 0, 8, VB_ACC_POOLED, 10, 1, 0.95, &a), VB_ERR_ARG);
    /* empty input */
    assert_int_equal(vb_stats_accuracy_ci(NULL, NULL, NULL, 0, 0, VB_ACC_POOLED, 10, 1, 0.95, &a), VB_OK);
    assert_true(isnan(a.acc));
}

static void test_paired(void ** state) {
    (void)state;
    /* 100 questions: 60 both right, 1 only A, 9 only B, 30 neither */
    enum { N = 100 };
    uint8_t ca[N], cb[N];
    int32_t cl[N];
    for (int i = 0; i < N; i++) {
        ca[i] = i < 61;
        cb[i] = i < 60 || (i >= 61 && i < 70);
        cl[i] = i / 4;
    }
    struct vb_paired p;
    assert_int_equal(vb_stats_paired(ca, cb, cl, N, 2000, 3, 0.95, &p), VB_OK);
    assert_int_equal(p.n_both, 60);
    assert_int_equal(p.n_a_only, 1);
    assert_int_equal(p.n_b_only, 9);
    assert_int_equal(p.n_neither, 30);
    NEAR(p.acc_a, 0.61, 1e-12);
    NEAR(p.acc_b, 0.69, 1e-12);
    NEAR(p.diff, -0.08, 1e-12);
    assert_true(p.p_mcnemar == 0.021484375);
    assert_true(p.lo < p.diff && p.diff < p.hi);
    /* the discordant pairs sit in 3 of 25 clusters: a replicate avoids all three with probability
    ** (22/25)^25 = 4.1 %, so the upper limit is 0, not above */
    assert_true(p.hi <= 0 && p.lo < -0.1);
    /* identical runs: difference 0, p = 1, degenerate interval */
    assert_int_equal(vb_stats_paired(ca, ca, cl, N, 500, 3, 0.95, &p), VB_OK);
    assert_true(p.diff == 0 && p.lo == 0 && p.hi == 0 && p.p_mcnemar == 1.0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mcnemar), cmocka_unit_test(test_percentiles), cmocka_unit_test(test_latency),
        cmocka_unit_test(test_rng),     cmocka_unit_test(test_dense_ids),   cmocka_unit_test(test_accuracy_ci),
        cmocka_unit_test(test_paired),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
