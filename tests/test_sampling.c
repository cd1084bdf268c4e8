/* test_sampling.c — the three "uniform" policies against hand-computed index lists (datasets.md §7). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs <setjmp.h>, <stdarg.h>, <stddef.h> and <stdint.h> first */
#include <cmocka.h>

#include "base/common.h"
#include "datasets/sampling.h"

#include <string.h>

static void expect(enum vb_sampling_policy p, int64_t start, int64_t end, int64_t vlen, int32_t n, const int64_t * want,
                   int32_t n_want) {
    int64_t out[256];
    memset(out, 0xff, sizeof out);
    int32_t k = vb_sampling_indices(p, start, end, vlen, n, out);
    if (k != n_want)
        fprintf(stderr, "%s [%lld,%lld) vlen %lld n %d: got %d indices, want %d (%s)\n", vb_sampling_name(p),
                (long long)start, (long long)end, (long long)vlen, n, k, n_want, k < 0 ? vb_errmsg() : "");
    assert_int_equal(k, n_want);
    for (int32_t i = 0; i < k; i++) {
        if (out[i] != want[i])
            fprintf(stderr, "%s: index %d is %lld, want %lld\n", vb_sampling_name(p), i, (long long)out[i],
                    (long long)want[i]);
        assert_int_equal(out[i], want[i]);
    }
}
#define EXPECT(p, s, e, vlen, n, ...)                                                                                  \
    do {                                                                                                               \
        static const int64_t w_[] = {__VA_ARGS__};                                                                     \
        expect(p, s, e, vlen, n, w_, (int32_t)(sizeof w_ / sizeof w_[0]));                                             \
    } while (0)

#define MID VB_SAMPLING_UNIFORM_MIDBIN
#define END VB_SAMPLING_UNIFORM_ENDPOINTS
#define INT VB_SAMPLING_UNIFORM_INTERIOR

/* the table of datasets.md §7 */
static void test_spec_table(void ** state) {
    (void)state;
    EXPECT(MID, 0, 300, 300, 8, 18, 56, 93, 131, 168, 206, 243, 281);
    EXPECT(END, 0, 300, 300, 8, 0, 42, 85, 128, 170, 213, 256, 299);
    EXPECT(INT, 0, 300, 300, 8, 33, 66, 100, 133, 166, 200, 233, 266);
    EXPECT(MID, 0, 300, 300, 4, 37, 112, 187, 262);
    EXPECT(END, 0, 300, 300, 4, 0, 99, 199, 299);
    EXPECT(INT, 0, 300, 300, 4, 60, 120, 180, 240);
    EXPECT(MID, 0, 10, 10, 4, 1, 3, 6, 8);
    EXPECT(END, 0, 10, 10, 4, 0, 3, 6, 9);
    EXPECT(INT, 0, 10, 10, 4, 2, 4, 6, 8);
    EXPECT(MID, 0, 5, 5, 8, 0, 1, 2, 3, 4);
    EXPECT(END, 0, 5, 5, 8, 0, 1, 2, 3, 4);
    EXPECT(INT, 0, 5, 5, 8, 0, 1, 1, 2, 2, 3, 3, 4);
}

/* segments and fewer frames than requested, computed by hand from the formulas */
static void test_segments(void ** state) {
    (void)state;
    /* §7: start 10, end 13, n 4 (vlen large): edges 10 10 11 12 13 -> 10 10 11 12 */
    EXPECT(MID, 10, 13, 1000, 4, 10, 10, 11, 12);
    /* zero-length segment: n copies of start */
    EXPECT(MID, 7, 7, 100, 3, 7, 7, 7);
    /* n clamped to vlen (whole video), not to the segment: vlen 3, n 8 -> 3 bins over [0, 3) */
    EXPECT(MID, 0, 3, 3, 8, 0, 1, 2);
    /* segment [25, 50) of 100 frames, n 4: edges 25 31.25 37.5 43.75 50 -> 25 31 37 43 50 -> 28 34 40 46 */
    EXPECT(MID, 25, 50, 100, 4, 28, 34, 40, 46);
    /* 32 candidates in a 3-s VLEP premise at 3 fps (9 frames, start 30): step 9/32 */
    EXPECT(MID, 30, 39, 500, 32, 30, 30, 30, 30, 31, 31, 31, 31, 32, 32, 32, 33, 33, 33, 33, 34, 34, 34, 35, 35, 35, 35,
           36, 36, 36, 37, 37, 37, 37, 38, 38, 38);
    /* endpoints inside [25, 50): T 25, linspace(0, 24, 4) = 0 8 16 24 */
    EXPECT(END, 25, 50, 100, 4, 25, 33, 41, 49);
    /* endpoints with T < n: unique, fewer come back */
    EXPECT(END, 10, 13, 100, 8, 10, 11, 12);
    /* endpoints n = 1: linspace(0, T-1, 1) = [0] */
    EXPECT(END, 0, 300, 300, 1, 0);
    /* interior inside [25, 50): step 25/5 = 5 -> 5 10 15 20 */
    EXPECT(INT, 25, 50, 100, 4, 30, 35, 40, 45);
    /* interior T = 3, n = 4: step 0.6 -> 0 1 1 2 */
    EXPECT(INT, 10, 13, 100, 4, 10, 11, 11, 12);
    /* midbin n = 1: middle of the whole range */
    EXPECT(MID, 0, 301, 301, 1, 150);
}

/* numpy's linspace: last edge is `end` exactly; i * step + start in double.  A case where (end-start)/n is inexact:
** [0, 1000) n 3: step 333.333.., edges 0 333 666 1000 -> 166 499 833 */
static void test_rounding(void ** state) {
    (void)state;
    EXPECT(MID, 0, 1000, 1000, 3, 166, 499, 833);
    EXPECT(MID, 0, 7, 7, 7, 0, 1, 2, 3, 4, 5, 6);
    /* [3, 10) n 3: step 7/3; edges 3 5.333 7.666 10 -> 3 5 7 10 -> 4 6 8 */
    EXPECT(MID, 3, 10, 100, 3, 4, 6, 8);
    /* endpoints T 1000 n 7: step 999/6 = 166.5 -> 0 166 333 499 666 832 999 */
    EXPECT(END, 0, 1000, 1000, 7, 0, 166, 333, 499, 666, 832, 999);
    /* interior T 1000 n 6: step 1000/7 -> 142 285 428 571 714 857 */
    EXPECT(INT, 0, 1000, 1000, 6, 142, 285, 428, 571, 714, 857);
}

static void test_errors_and_segment(void ** state) {
    (void)state;
    int64_t out[8], a, b;
    /* start at or beyond vlen -> out-of-range -> error, never a silent substitute */
    assert_int_equal(vb_sampling_indices(MID, 120, 100, 100, 4, out), VB_ERR_NOTFOUND);
    assert_int_equal(vb_sampling_indices(END, 100, 100, 100, 4, out), VB_ERR_NOTFOUND);
    assert_int_equal(vb_sampling_indices(INT, 50, 40, 100, 4, out), VB_ERR_NOTFOUND);
    assert_int_equal(vb_sampling_indices(MID, 0, 10, 10, 0, out), VB_ERR_ARG);
    assert_int_equal(vb_sampling_indices(MID, 0, 0, 0, 4, out), VB_ERR_ARG);
    assert_int_equal(vb_sampling_indices((enum vb_sampling_policy)9, 0, 10, 10, 4, out), VB_ERR_ARG);
    /* SeViLA's conversion: truncation, clamping */
    assert_int_equal(vb_sampling_segment(29.97, 300, 1.5, 3.99, &a, &b), VB_OK);
    assert_int_equal(a, 44);  /* 44.955 */
    assert_int_equal(b, 119); /* 119.58 */
    assert_int_equal(vb_sampling_segment(3.0, 100, 10.54, 40.0, &a, &b), VB_OK);
    assert_int_equal(a, 31);
    assert_int_equal(b, 100);
    assert_int_equal(vb_sampling_segment(25.0, 100, -1, -1, &a, &b), VB_OK);
    assert_int_equal(a, 0);
    assert_int_equal(b, 100);
    assert_int_equal(vb_sampling_segment(0.0, 100, 1, 2, &a, &b), VB_ERR_ARG);
    /* names */
    enum vb_sampling_policy p;
    assert_int_equal(vb_sampling_parse("uniform_interior", &p), VB_OK);
    assert_int_equal(p, INT);
    assert_string_equal(vb_sampling_name(MID), "uniform_midbin");
    assert_string_equal(vb_sampling_name(END), "uniform_endpoints");
    assert_int_equal(vb_sampling_parse("uniform", &p), VB_ERR_ARG);
    int64_t d[] = {10, 10, 11, 12};
    assert_int_equal(vb_sampling_n_distinct(d, 4), 3);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_table),
        cmocka_unit_test(test_segments),
        cmocka_unit_test(test_rounding),
        cmocka_unit_test(test_errors_and_segment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
