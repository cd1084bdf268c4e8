/* test_charge.c — the runner's work sharing and time charging (harness/charge.h, harness/clip.h,
** harness/vitfeat.h): cold decode / preprocess charges of a cell out of the sample's decoded union, the stage
** arithmetic, the memo that lets the cells with other k reuse a selection, and ViT features shared through the
** cache with every slot charged its frame's recorded cost (repeats and other cells included), vision groups apart.
** Known answers computed by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/common.h"
#include "harness/charge.h"
#include "harness/clip.h"
#include "harness/vitcache.h"
#include "harness/vitfeat.h"

#include <string.h>

static void test_clip_charge(void ** st) {
    (void)st;
    /* the union of the sample's frames, decoded in ascending order */
    const struct vb_charge_frame fr[4] = {{2, 100, 10}, {5, 200, 11}, {9, 300, 12}, {11, 400, 13}};
    const int64_t                cell_a[4] = {2, 5, 9, 11}, cell_b[4] = {5, 5, 9, 9}, cell_c[2] = {9, 3};
    int64_t                      dec = -1, pre = -1;
    assert_int_equal(vb_charge_clip(fr, 4, cell_a, 4, 1000, &dec, &pre), 0);
    assert_int_equal(dec, 1000 + 100 + 200 + 300 + 400); /* open + every distinct frame */
    assert_int_equal(pre, 10 + 11 + 12 + 13);
    assert_int_equal(vb_charge_clip(fr, 4, cell_b, 4, 1000, &dec, &pre), 0);
    assert_int_equal(dec, 1000 + 200 + 300);  /* a repeated frame is decoded once ... */
    assert_int_equal(pre, 11 + 11 + 12 + 12); /* ... but preprocessed per slot */
    dec = pre = -7;
    assert_int_equal(vb_charge_clip(fr, 4, cell_c, 2, 1000, &dec, &pre), -1); /* frame 3 was not decoded */
    assert_int_equal(dec, -7);
    assert_int_equal(pre, -7);
}

static void test_stages(void ** st) {
    (void)st;
    struct vb_charge_in in = {.decode_us = 1,
                              .preprocess_us = 2,
                              .vit_us = 3,
                              .select_us = 4,
                              .qformer_us = 5,
                              .t5_enc_us = 6,
                              .t5_dec_us = 7,
                              .total_us = 40,
                              .vit_shared_us = 100,
                              .select_shared_us = 1000};
    int64_t             t[VB_STAGE_COUNT];
    vb_charge_stages(&in, t);
    const int64_t want[VB_STAGE_COUNT] = {1, 2, 103, 1004, 5, 6, 7, 1140};
    for (int i = 0; i < VB_STAGE_COUNT; i++)
        assert_int_equal(t[i], want[i]);
    int64_t sum = 0;
    for (int i = 0; i < VB_STAGE_TOTAL; i++)
        sum += t[i];
    assert_true(sum <= t[VB_STAGE_TOTAL]); /* 1128 <= 1140: the total keeps covering the stages */
}

static void test_select_memo(void ** st) {
    (void)st;
    struct vb_select_memo m;
    memset(&m, 0, sizeof m);
    static int  method_a, method_b, bundle_1, bundle_2; /* identities only */
    const float s[4] = {0.5f, -1.0f, 2.0f, 0.0f}, s2[4] = {9, 9, 9, 9};
    assert_null(vb_select_memo_find(&m, &method_a, &bundle_1, 4));
    vb_select_memo_add(&m, &method_a, &bundle_1, 4, s, 1234);
    const struct vb_select_memo_entry * e = vb_select_memo_find(&m, &method_a, &bundle_1, 4);
    assert_non_null(e);
    assert_int_equal(e->cost_us, 1234);
    assert_memory_equal(e->scores, s, sizeof s);
    /* another k of the same question finds it; another method, bundle or T does not */
    assert_null(vb_select_memo_find(&m, &method_b, &bundle_1, 4));
    assert_null(vb_select_memo_find(&m, &method_a, &bundle_2, 4));
    assert_null(vb_select_memo_find(&m, &method_a, &bundle_1, 8));
    /* the first result stays (a later k's measurement does not replace it) */
    vb_select_memo_add(&m, &method_a, &bundle_1, 4, s2, 1);
    assert_int_equal(vb_select_memo_find(&m, &method_a, &bundle_1, 4)->cost_us, 1234);
    assert_int_equal(m.n, 1);
    vb_select_memo_clear(&m); /* next question */
    assert_null(vb_select_memo_find(&m, &method_a, &bundle_1, 4));
    assert_int_equal(m.n, 0);
}

static void put(struct vb_vitcache * c, int32_t group, int64_t frame, float v, int64_t cost) {
    float                  f[3] = {v, v + 0.5f, v + 0.25f};
    struct vb_vitcache_key k = {group, 77, frame};
    assert_int_equal(vb_vitcache_put(c, &k, f, 3, cost), 1);
}

/* Features of two cells of one video taken from the cache (as the runner fills it): every slot gets its frame and is
** charged its recorded cost, repeats included; another vision group shares nothing. */
static void test_vit_sharing(void ** st) {
    (void)st;
    struct vb_vitcache * c = vb_vitcache_new(1 << 20);
    put(c, 0, 4, 1.0f, 10);
    put(c, 0, 8, 2.0f, 20);
    put(c, 0, 12, 3.0f, 30);
    const int64_t            cell_k2[2] = {4, 12}, cell_rep[3] = {8, 8, 12};
    float                    out[3 * 3];
    struct vb_vitfeat_engine e = {.batch = 8, .px_floats = 12};
    struct vb_vitfeat_clip   clip = {.group = 0, .video = 77, .frames = cell_k2, .n = 2, .n_floats = 3};
    struct vb_vitfeat_stats  s;
    assert_int_equal(vb_vitfeat_get(c, &e, &clip, NULL, out, &s), VB_OK);
    assert_int_equal(s.n_cached, 2);
    assert_int_equal(s.n_computed, 0);
    assert_int_equal(s.cost_us, 10 + 30);
    const float want_k2[6] = {1.0f, 1.5f, 1.25f, 3.0f, 3.5f, 3.25f};
    assert_memory_equal(out, want_k2, sizeof want_k2);
    clip.frames = cell_rep, clip.n = 3;
    assert_int_equal(vb_vitfeat_get(c, &e, &clip, NULL, out, &s), VB_OK);
    assert_int_equal(s.n_cached, 3);
    assert_int_equal(s.cost_us, 20 + 20 + 30); /* the repeated frame is charged per slot */
    assert_true(out[0] == 2.0f && out[3] == 2.0f && out[6] == 3.0f);
    /* another vision group, or another video: nothing cached, and no pixels to compute from */
    clip.group = 1;
    assert_int_equal(vb_vitfeat_get(c, &e, &clip, NULL, out, &s), VB_ERR_ARG);
    assert_non_null(strstr(vb_errmsg(), "2 frame(s) neither in the cache nor given as pixels")); /* 8 once, 12 */
    clip.group = 0, clip.video = 78;
    assert_int_equal(vb_vitfeat_get(c, &e, &clip, NULL, out, &s), VB_ERR_ARG);
    struct vb_vitcache_stats cs;
    vb_vitcache_stats(c, &cs);
    assert_int_equal(cs.n_hits, 5);
    vb_vitcache_free(c);
}

/* A cell's pixels from the decoded union: slot order, repeats, the cold charges, a failed frame's message. */
static void test_clip_pixels(void ** st) {
    (void)st;
    int64_t v[6] = {9, 2, 9, 5, 2, 11};
    assert_int_equal(vb_clip_unique(v, 6), 4);
    const int64_t want_u[4] = {2, 5, 9, 11};
    assert_memory_equal(v, want_u, sizeof want_u);
    struct vb_clip c;
    memset(&c, 0, sizeof c);
    c.H = 1; /* 3 floats per frame */
    c.n = 3;
    c.t_open_us = 50;
    struct vb_charge_frame fr[3] = {{2, 100, 1}, {5, 200, 2}, {9, 300, 3}};
    int32_t                ok[3] = {1, 1, 0};
    char                   err[3][256] = {"", "", "frame 9: damaged packet"};
    float                  px[9] = {2, 2.1f, 2.2f, 5, 5.1f, 5.2f, 0, 0, 0};
    c.fr = fr, c.ok = ok, c.err = err, c.px = px;
    const int64_t slots[3] = {5, 2, 5};
    float         out[9];
    int64_t       dec = 0, pre = 0;
    char          why[128];
    assert_int_equal(vb_clip_pixels(&c, slots, 3, out, &dec, &pre, why, sizeof why), VB_OK);
    const float want[9] = {5, 5.1f, 5.2f, 2, 2.1f, 2.2f, 5, 5.1f, 5.2f};
    assert_memory_equal(out, want, sizeof want);
    assert_int_equal(dec, 50 + 200 + 100);
    assert_int_equal(pre, 2 + 1 + 2);
    const int64_t bad[2] = {2, 9};
    assert_int_equal(vb_clip_pixels(&c, bad, 2, out, &dec, &pre, why, sizeof why), VB_ERR_VIDEO);
    assert_string_equal(why, "frame 9: damaged packet");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clip_charge), cmocka_unit_test(test_stages),      cmocka_unit_test(test_select_memo),
        cmocka_unit_test(test_vit_sharing), cmocka_unit_test(test_clip_pixels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
