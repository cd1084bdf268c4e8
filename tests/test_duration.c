/* test_duration.c — the human-readable durations of the run-time estimate (harness/estimate.h,
** vb_duration_human): known answers for every unit and the rounding at each unit's boundary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "harness/estimate.h"

#include <math.h>
#include <string.h>

static void expect(double s, const char * want) {
    char got[48];
    vb_duration_human(s, got, sizeof got);
    if (strcmp(got, want)) fail_msg("vb_duration_human(%.6g) = '%s', expected '%s'", s, got, want);
}

static void test_units(void ** st) {
    (void)st;
    expect(0, "0 s");
    expect(0.0001, "<1 ms");
    expect(0.85, "850 ms");
    expect(4.2, "4.2 s");
    expect(38, "38 s");
    expect(725, "12 m 5 s");
    expect(12000, "3 h 20 m");
    expect(3 * 86400 + 4 * 3600, "3 d 4 h"); /* NExT-QA val with SeViLA at full size, the example */
    expect(9 * 86400, "9 d");
}

static void test_boundaries(void ** st) {
    (void)st;
    expect(0.9996, "1.0 s");
    expect(9.96, "10 s");
    expect(59.4, "59 s");
    expect(59.6, "1 m");        /* rounded to the second, then split */
    expect(3599.7, "1 h");      /* 59 m 59.7 s rounds to 60 m */
    expect(86300, "23 h 58 m"); /* 23 h 58.3 m */
    expect(86399, "1 d");
    expect(86400 + 1799, "1 d"); /* 1 d 0.5 h rounds down */
    expect(86400 + 1801, "1 d 1 h");
}

static void test_bad(void ** st) {
    (void)st;
    expect(-1, "?");
    expect(NAN, "?");
    expect(INFINITY, "?");
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_units), cmocka_unit_test(test_boundaries),
                                       cmocka_unit_test(test_bad)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
