/* test_synth_strata.c — the demo split's stratified event times (`synth --event-times stratified`, docs/demo.md):
** without any model, for synth seeds 1..200 of the demo's shape (50 videos, 2 questions each, 32 frames), count per
** dataset the questions whose uniform k = 1, 2, 4 frames hold a card frame (synth_hits.h: the official annotation
** files through the real loaders, the runner's segment rule and uniform_midbin indices), under iid and stratified
** card times.  Checks that stratified placement makes the counts rise 1 < 2 < 4 on every seed and dataset (iid does
** not on some seeds: the demo's seed 1 is one), that on the whole-video datasets each count is within k videos of its
** expectation (each of uniform's k frames sees a stretch of starts that holds floor or ceil of its share), that it
** keeps each count's mean at its expectation (the marginal distribution of a card time is unchanged) and that it cuts
** the spread around the expectation to at most half of iid's; prints the table docs/demo.md quotes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs <setjmp.h>, <stdarg.h>, <stddef.h> and <stdint.h> first */
#include <cmocka.h>

#include "base/common.h"
#include "datasets/synth.h"
#include "datasets/synth_hits.h"

#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SEEDS 200

static int rm_cb(const char * p, const struct stat * st, int flag, struct FTW * f) {
    (void)st, (void)flag, (void)f;
    return remove(p);
}

struct sweep {
    int32_t hits[SEEDS][VB_SYNTH_HITS_DS][3];
    int32_t reader[SEEDS][VB_SYNTH_HITS_DS][3][5];
    int32_t n_options[VB_SYNTH_HITS_DS];
    double  expect[VB_SYNTH_HITS_DS][3];
    int32_t n[VB_SYNTH_HITS_DS];
};

static void run_sweep(const char * dir, int32_t times, struct sweep * sw) {
    for (int s = 0; s < SEEDS; s++) {
        struct vb_synth_opts o;
        vb_synth_opts_default(&o);
        o.out_dir = dir;
        o.n_videos = 50;
        o.questions = 2;
        o.seed = (uint64_t)s + 1;
        o.task = VB_SYNTH_TASK_EVENT;
        o.event_times = times;
        o.skip_videos = 1;
        int rc = vb_synth_benchmark(&o, NULL);
        if (rc != VB_OK) fprintf(stderr, "synth seed %d: %s\n", s + 1, vb_errmsg());
        assert_int_equal(rc, VB_OK);
        struct vb_synth_hits h;
        rc = vb_synth_uniform_hits_dir(dir, &h);
        if (rc != VB_OK) fprintf(stderr, "hits seed %d: %s\n", s + 1, vb_errmsg());
        assert_int_equal(rc, VB_OK);
        for (int d = 0; d < VB_SYNTH_HITS_DS; d++) {
            assert_int_equal(h.n[d], 100);
            sw->n[d] = h.n[d];
            sw->n_options[d] = h.n_options[d];
            memcpy(sw->reader[s][d], h.reader[d], sizeof h.reader[d]);
            for (int k = 0; k < 3; k++) {
                sw->hits[s][d][k] = h.hits[d][k];
                if (s == 0) sw->expect[d][k] = h.expect[d][k];
                assert_true(fabs(sw->expect[d][k] - h.expect[d][k]) < 1e-9); /* the same shape on every seed */
            }
        }
    }
}

static struct sweep IID, STRAT;

static void test_sweep(void ** state) {
    (void)state;
    char dir[256];
    snprintf(dir, sizeof dir, "%s/vb_test_strata_XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(dir));
    run_sweep(dir, VB_SYNTH_EVENT_IID, &IID);
    run_sweep(dir, VB_SYNTH_EVENT_STRATIFIED, &STRAT);
    nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);

    static const char * const DSN[VB_SYNTH_HITS_DS] = {"NExT-QA", "STAR", "VLEP", "How2QA"};
    static const int          K[3] = {1, 2, 4};
    printf("seeds 1..%d, 50 videos x 2 questions: questions whose uniform frames hold the card (of 100)\n", SEEDS);
    printf("%-8s %-10s %8s  %-28s %-28s %-28s %s\n", "dataset", "times", "rises", "k=1 E mean [min,max] rms", "k=2",
           "k=4", "within 1 of E (per unit)");
    for (int d = 0; d < VB_SYNTH_HITS_DS; d++) {
        /* the independent unit: a video for whole-video questions (both of its questions see the same frames), a
        ** question for How2QA (each has its own window) */
        double unit = d < 3 ? 2.0 : 1.0;
        double rms[2][3];
        for (int t = 0; t < 2; t++) {
            const struct sweep * sw = t ? &STRAT : &IID;
            int                  rises = 0, within = 0, reader_rises = 0;
            char                 col[3][64];
            for (int s = 0; s < SEEDS; s++) {
                const int32_t * hk = sw->hits[s][d];
                rises += hk[0] < hk[1] && hk[1] < hk[2];
                int rr = 1; /* the ideal reader rises for every fixed fallback guess */
                for (int g = 0; g < sw->n_options[d]; g++) {
                    const int32_t(*a)[5] = sw->reader[s][d];
                    rr &= a[0][g] < a[1][g] && a[1][g] < a[2][g];
                }
                reader_rises += rr;
                int w = 1;
                for (int k = 0; k < 3; k++)
                    w &= fabs((hk[k] - sw->expect[d][k]) / unit) <= 1.0;
                within += w;
            }
            for (int k = 0; k < 3; k++) {
                double sum = 0, ss = 0;
                int    lo = 1 << 30, hi = -1;
                for (int s = 0; s < SEEDS; s++) {
                    double x = sw->hits[s][d][k];
                    sum += x;
                    ss += (x - sw->expect[d][k]) * (x - sw->expect[d][k]);
                    lo = (int)x < lo ? (int)x : lo;
                    hi = (int)x > hi ? (int)x : hi;
                }
                double mean = sum / SEEDS;
                rms[t][k] = sqrt(ss / SEEDS);
                snprintf(col[k], sizeof col[k], "%5.2f %5.2f [%2d,%2d] %4.2f", sw->expect[d][k], mean, lo, hi,
                         rms[t][k]);
                /* the marginal distribution is the same: the mean over seeds stays at the expectation (within 4
                ** standard errors of iid's spread) */
                double se = (t ? rms[1][k] : rms[0][k]) / sqrt((double)SEEDS);
                if (fabs(mean - sw->expect[d][k]) > 4 * se + 0.05)
                    fprintf(stderr, "%s %s k=%d: mean %.2f, expected %.2f\n", DSN[d], t ? "stratified" : "iid", K[k],
                            mean, sw->expect[d][k]);
                assert_true(fabs(mean - sw->expect[d][k]) <= 4 * se + 0.05);
            }
            printf("%-8s %-10s %7.1f%%  %-28s %-28s %-28s %6.1f%%  %6.1f%%\n", DSN[d], t ? "stratified" : "iid",
                   100.0 * rises / SEEDS, col[0], col[1], col[2], 100.0 * within / SEEDS, 100.0 * reader_rises / SEEDS);
            if (t) { /* stratified: the ideal reader with any fixed fallback rises on every seed */
                if (reader_rises != SEEDS)
                    fprintf(stderr, "%s stratified: the ideal reader rises on %d of %d seeds\n", DSN[d], reader_rises,
                            SEEDS);
                assert_int_equal(reader_rises, SEEDS);
            }
            if (t && d < 3) /* whole video: uniform's k frames are k stretches of 2 card starts, and each stretch holds
                               floor or ceil of its expected share of the videos (a systematic sample of the starts) */
                for (int s = 0; s < SEEDS; s++)
                    for (int k = 0; k < 3; k++) {
                        double dev = fabs(sw->hits[s][d][k] - sw->expect[d][k]) / unit;
                        if (!(dev < K[k]))
                            fprintf(stderr, "%s seed %d k=%d: %d videos, expected %.2f\n", DSN[d], s + 1, K[k],
                                    sw->hits[s][d][k] / 2, sw->expect[d][k] / 2);
                        assert_true(dev < K[k]);
                    }
            if (t) { /* stratified: rises on every seed */
                if (rises != SEEDS) fprintf(stderr, "%s stratified: rises on %d of %d seeds\n", DSN[d], rises, SEEDS);
                assert_int_equal(rises, SEEDS);
            } else if (d < 3) /* iid whole-video counts do not rise on every seed (seed 1: 6, 6, 10 videos) */
                assert_true(rises < SEEDS);
        }
        for (int k = 0; k < 3; k++) { /* at most half of iid's spread around the expectation */
            if (!(rms[1][k] <= 0.5 * rms[0][k]))
                fprintf(stderr, "%s k=%d: rms deviation stratified %.2f, iid %.2f\n", DSN[d], K[k], rms[1][k],
                        rms[0][k]);
            assert_true(rms[1][k] <= 0.5 * rms[0][k]);
        }
    }
    /* the demo's own split (seed 1): iid does not rise from k = 1 to 2 on the whole-video datasets, stratified does */
    assert_int_equal(IID.hits[0][0][0], 12);
    assert_int_equal(IID.hits[0][0][1], 12);
    assert_true(STRAT.hits[0][0][0] < STRAT.hits[0][0][1] && STRAT.hits[0][0][1] < STRAT.hits[0][0][2]);
}

/* the option is refused where it means nothing: stratified times on the index task */
static void test_index_task_refused(void ** state) {
    (void)state;
    struct vb_synth_opts o;
    vb_synth_opts_default(&o);
    o.out_dir = "/nonexistent-vb-strata";
    o.event_times = VB_SYNTH_EVENT_STRATIFIED;
    assert_int_equal(vb_synth_benchmark(&o, NULL), VB_ERR_ARG);
    assert_non_null(strstr(vb_errmsg(), "event task"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_index_task_refused),
        cmocka_unit_test(test_sweep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
