/* test_registry.c — method dispatch through the registry (harness/registry.h) and the method object
** (methods/method.h): names, the one candidate-count rule per method, the store labels, the bundle checks of the three
** methods' open, and a method defined here dispatched through vb_method_open / answer / close exactly once each,
** with its own state and the caller's times copied into the result. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/common.h"
#include "harness/registry.h"
#include "methods/bundle.h"

#include <string.h>

static void test_names(void ** st) {
    (void)st;
    assert_int_equal(vb_registry_count(), 3);
    const char * want[3] = {"uniform", "sevila", "vlap"};
    for (int32_t i = 0; i < vb_registry_count(); i++) {
        const struct vb_method_ops * o = vb_registry_get(i);
        assert_non_null(o);
        assert_string_equal(o->name, want[i]);
        assert_ptr_equal(vb_registry_find(want[i]), o);
        assert_non_null(o->open);
        assert_non_null(o->answer);
        assert_non_null(o->close);
        assert_non_null(o->candidates);
        assert_non_null(o->selection_label);
    }
    assert_null(vb_registry_get(3));
    assert_null(vb_registry_get(-1));
    assert_null(vb_registry_find("blip2"));
    assert_non_null(strstr(vb_errmsg(), "unknown method 'blip2' (uniform, sevila, vlap)"));
    assert_null(vb_registry_find(NULL));
    char buf[8];
    vb_registry_names(buf, sizeof buf); /* truncated, NUL-terminated */
    assert_string_equal(buf, "uniform");
}

/* The candidate count of each method, the store's selection label, reusable selection. */
static void test_rules(void ** st) {
    (void)st;
    struct vb_bundle b;
    memset(&b, 0, sizeof b);
    const struct vb_method_ops *u = vb_registry_find("uniform"), *s = vb_registry_find("sevila"),
                               *v = vb_registry_find("vlap");
    assert_int_equal(u->candidates(&b, 4, 0), 4);
    assert_int_equal(u->candidates(&b, 2, 32), 2); /* uniform's candidates are its k frames */
    assert_int_equal(s->candidates(&b, 4, 0), 32);
    assert_int_equal(s->candidates(&b, 4, 16), 16);
    assert_int_equal(v->candidates(&b, 4, 0), 32); /* no Frame-Prompter known: the released 32 */
    b.has_frame_prompter = 1, b.fp_segments = 4, b.fp_frames_per_segment = 2;
    assert_int_equal(v->candidates(&b, 4, 0), 8); /* How2QA's bundles: 4 segments x 2 */
    assert_int_equal(v->candidates(&b, 4, 24), 24);
    assert_string_equal(u->selection_label(VB_SELECT_GUMBEL), "none");
    assert_string_equal(s->selection_label(VB_SELECT_GUMBEL), "topk");
    assert_string_equal(v->selection_label(VB_SELECT_ARGMAX), "argmax");
    assert_string_equal(v->selection_label(VB_SELECT_GUMBEL), "gumbel");
    assert_int_equal(u->reusable_selection, 0);
    assert_int_equal(s->reusable_selection, 1);
    assert_int_equal(v->reusable_selection, 0);
}

/* open checks the bundle before it allocates anything. */
static void test_open_checks(void ** st) {
    (void)st;
    struct vb_bundle b;
    memset(&b, 0, sizeof b);
    b.dir = "bundleX";
    b.cfg.arch = VB_ARCH_BLIP2;
    b.parts_loaded = VB_BUNDLE_VISION | VB_BUNDLE_QFORMER | VB_BUNDLE_T5;
    struct vb_method * m = (struct vb_method *)&b;
    assert_int_equal(vb_method_open(&m, vb_registry_find("sevila"), &b, NULL), VB_ERR_NOTFOUND);
    assert_null(m);
    assert_non_null(strstr(vb_errmsg(), "bundleX: SeViLA needs the localizer"));
    assert_int_equal(vb_method_open(&m, vb_registry_find("vlap"), &b, NULL), VB_ERR_NOTFOUND);
    assert_non_null(strstr(vb_errmsg(), "VLAP needs the Frame-Prompter"));
    b.has_frame_prompter = 1, b.fp_segments = 4, b.fp_frames_per_segment = 8;
    b.parts_loaded |= VB_BUNDLE_PROMPTER;
    assert_int_equal(vb_method_open(&m, vb_registry_find("vlap"), &b, NULL), VB_ERR_UNSUPPORTED);
    assert_non_null(strstr(vb_errmsg(), "needs an InstructBLIP bundle"));
    b.cfg.arch = VB_ARCH_INSTRUCTBLIP;
    assert_int_equal(vb_method_open(&m, vb_registry_find("uniform"), &b, NULL), VB_ERR_UNSUPPORTED);
    assert_non_null(strstr(vb_errmsg(), "uniform needs a BLIP-2 bundle"));
    struct vb_method_opts o;
    vb_method_opts_default(&o);
    o.n_frames = 3; /* VLAP picks one frame per segment */
    assert_int_equal(vb_method_open(&m, vb_registry_find("vlap"), &b, &o), VB_ERR_ARG);
    assert_non_null(strstr(vb_errmsg(), "picks 4 frames (segments); --frames 3"));
    b.cfg.arch = VB_ARCH_BLIP2;
    b.parts_loaded = VB_BUNDLE_VISION; /* opened without the Q-Former and T5 */
    assert_int_equal(vb_method_open(&m, vb_registry_find("uniform"), &b, NULL), VB_ERR_ARG);
    assert_non_null(strstr(vb_errmsg(), "without the parts method uniform needs"));
    b.parts_loaded = VB_BUNDLE_VISION | VB_BUNDLE_QFORMER | VB_BUNDLE_T5;
    o.n_frames = 0;
    assert_int_equal(vb_method_open(&m, vb_registry_find("uniform"), &b, &o), VB_ERR_ARG);
    assert_non_null(strstr(vb_errmsg(), "1 <= frames (0)"));
    assert_null(m);
}

/* ---- a method defined here: what the object hands to a method and takes back */

struct fake_state {
    int32_t                       magic;
    int32_t                       n_answer;
    const struct vb_method_opts * o;
};
static int32_t n_open, n_close, fail_open;
static void *  last_closed;

static const char * fake_label(enum vb_select_mode s) {
    (void)s;
    return "fake";
}
static int32_t fake_candidates(const struct vb_bundle * b, int32_t k, int32_t requested) {
    (void)b, (void)requested;
    return 2 * k;
}
static int fake_open(void ** state, const struct vb_bundle * b, struct vb_method_opts * o) {
    (void)b;
    n_open++;
    struct fake_state * f = vb_calloc(1, sizeof *f);
    f->magic = 4242;
    f->o = o;
    *state = f;
    o->max_new_tokens = 7; /* a method's default, visible in vb_method_get_opts */
    return fail_open ? vb_fail(VB_ERR_UNSUPPORTED, "fake: refused") : VB_OK;
}
static void fake_close(void * state) {
    n_close++;
    last_closed = state;
    free(state);
}
static int fake_answer(void * state, const struct vb_method_input * in, struct vb_method_result * res) {
    struct fake_state * f = state;
    assert_int_equal(f->magic, 4242);
    f->n_answer++;
    assert_int_equal(in->n_frames, f->o->n_candidates);
    /* pick the last k candidates */
    for (int32_t j = 0; j < f->o->n_frames; j++) {
        res->picked[j] = f->o->n_candidates - f->o->n_frames + j;
        res->picked_frames[j] = res->cand_frames[res->picked[j]];
    }
    res->n_picked = f->o->n_frames;
    res->prediction = (int32_t)in->feats[0];
    res->t_select_us = 5;
    return in->feats[1] < 0 ? vb_fail(VB_ERR_MISMATCH, "fake: negative feature") : VB_OK;
}
static const struct vb_method_ops FAKE = {.name = "fake",
                                          .bundle_parts = 0,
                                          .reusable_selection = 0,
                                          .selection_label = fake_label,
                                          .candidates = fake_candidates,
                                          .open = fake_open,
                                          .close = fake_close,
                                          .answer = fake_answer};

static void test_dispatch(void ** st) {
    (void)st;
    struct vb_bundle b;
    memset(&b, 0, sizeof b);
    b.cfg.vision.n_tokens = 1, b.cfg.vision.hidden = 2;
    struct vb_method_opts o;
    vb_method_opts_default(&o);
    o.n_frames = 3;
    o.n_candidates = 99; /* the method's rule decides: 2k */
    struct vb_method * m = NULL;
    n_open = n_close = 0;
    assert_int_equal(vb_method_open(&m, &FAKE, &b, &o), VB_OK);
    assert_int_equal(n_open, 1);
    assert_ptr_equal(vb_method_get_ops(m), &FAKE);
    assert_int_equal(vb_method_get_opts(m)->n_candidates, 6);
    assert_int_equal(vb_method_get_opts(m)->max_new_tokens, 7);

    float                   feats[6 * 2] = {2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    int64_t                 ids[6] = {10, 20, 30, 40, 50, 60};
    struct vb_method_result r;
    struct vb_method_input  in = {.feats = feats, .n_frames = 6, .frame_ids = ids};
    /* checked before dispatch: no text, wrong frame count */
    assert_int_equal(vb_method_answer(m, &in, &r), VB_ERR_ARG);
    assert_int_equal(r.prediction, -1);
    struct vb_prompt_text text;
    const char *          opts[2] = {"a", "b"};
    assert_int_equal(vb_prompt_text_make(&text, VB_PROMPT_MC, "q", 2, opts), VB_OK);
    in.text = &text;
    in.n_frames = 5;
    assert_int_equal(vb_method_answer(m, &in, &r), VB_ERR_ARG);
    assert_non_null(strstr(vb_errmsg(), "5 frames given, 6 expected"));
    in.n_frames = 6;
    in.t_decode_us = 100, in.t_preprocess_us = 20, in.t_vit_us = 3, in.n_vit_run = 2, in.n_vit_cached = 4;
    in.seed = 77;
    assert_int_equal(vb_method_answer(m, &in, &r), VB_OK);
    assert_string_equal(r.method, "fake");
    assert_int_equal(r.prediction, 2);
    assert_int_equal(r.n_candidates, 6);
    assert_int_equal(r.cand_frames[5], 60);
    assert_int_equal(r.n_picked, 3);
    assert_int_equal(r.picked[0], 3);
    assert_int_equal(r.picked_frames[2], 60);
    assert_int_equal(r.t_decode_us, 100);
    assert_int_equal(r.t_preprocess_us, 20);
    assert_int_equal(r.t_vit_us, 3);
    assert_int_equal(r.n_vit_run, 2);
    assert_int_equal(r.n_vit_cached, 4);
    assert_int_equal(r.seed, 77);
    assert_int_equal(r.t_select_us, 5);
    assert_true(r.t_total_us >= 123); /* the caller's times count in the total */
    /* a method's failure: prediction -1, the message prefixed with the method's name */
    feats[1] = -1;
    assert_int_equal(vb_method_answer(m, &in, &r), VB_ERR_MISMATCH);
    assert_int_equal(r.prediction, -1);
    assert_non_null(strstr(vb_errmsg(), "fake: fake: negative feature"));
    vb_method_close(m);
    assert_int_equal(n_close, 1);
    assert_non_null(last_closed);
    vb_method_close(NULL);
    assert_int_equal(n_close, 1);
    /* a refused open: the state it made is closed, nothing returned */
    fail_open = 1;
    assert_int_equal(vb_method_open(&m, &FAKE, &b, &o), VB_ERR_UNSUPPORTED);
    assert_null(m);
    assert_int_equal(n_close, 2);
    fail_open = 0;
    vb_prompt_text_free(&text);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_open_checks),
        cmocka_unit_test(test_dispatch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
