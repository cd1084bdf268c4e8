/* test_prompts.c — prompt strings, letter ids and truncation against the exact strings of methods.md §2.5-2.6, with
** the real Flan-T5 tokenizer committed in models/tokenizers/flan-t5.  The comparison with the method goldens'
** cases.json (which quote dataset text and stay in ../shared) is the conformance test tests/test_conf_prompts.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs <setjmp.h>, <stdarg.h>, <stddef.h> and <stdint.h> first */
#include <cmocka.h>

#include "base/common.h"
#include "baselines/sevila.h"
#include "datasets/dataset.h"
#include "engine/tokenizer_bert.h"
#include "engine/tokenizer_t5.h"
#include "methods/method.h"
#include "methods/prompts.h"

#include <cjson/cJSON.h>
#include <string.h>
#include <unistd.h>

/* methods.md §2.6 worked example (NExT-QA val TN_6233408665_8), quoted in the spec. */
static const char * TN_Q = "what did the people on the sofa do after the lady in pink finished singing?";
static const char * TN_OPT[5] = {"sitting.", "give it to the girl.", "take music sheet.", "clap.", "walk in circles."};
static const char * TN_QA =
    "Question: what did the people on the sofa do after the lady in pink finished singing? Option A: sitting. Option "
    "B: "
    "give it to the girl. Option C: take music sheet. Option D: clap. Option E: walk in circles. Considering the "
    "information presented in the frame, select the correct answer from the options.";
static const char * TN_LOC =
    "Question: what did the people on the sofa do after the lady in pink finished singing? Options: (sitting. give it "
    "to the girl. take music sheet. clap. walk in circles. ) Does the information within the frame provide the "
    "necessary details to accurately answer the given question?";

/* The committed Flan-T5 tokenizer ($VB_ROOT, else the current directory, is the repository root); fails the test
** when it cannot be loaded. */
static struct vb_t5tok * load_t5(void) {
    char         p[1024];
    const char * root = getenv("VB_ROOT");
    snprintf(p, sizeof p, "%s/models/tokenizers/flan-t5/tokenizer.json", root ? root : ".");
    struct vb_t5tok * t = NULL;
    if (vb_t5tok_load(&t, p) != VB_OK) fail_msg("load %s: %s", p, vb_errmsg());
    return t;
}

static void test_worked_example(void ** st) {
    (void)st;
    struct vb_prompt_text t;
    assert_int_equal(vb_prompt_text_make(&t, VB_PROMPT_MC, TN_Q, 5, TN_OPT), VB_OK);
    char * qa = vb_prompt_qa(&t);
    char * loc = vb_prompt_loc(&t);
    assert_string_equal(qa, TN_QA);
    assert_string_equal(loc, TN_LOC);
    struct vb_t5tok * tok = load_t5();
    int32_t *         ids, n;
    assert_int_equal(vb_t5tok_encode(tok, qa, 1, 0, &ids, &n), VB_OK);
    assert_int_equal(n, 71); /* "The first is 71 T5 tokens with </s>" */
    assert_int_equal(ids[n - 1], 1);
    free(ids);
    assert_int_equal(vb_t5tok_encode(tok, loc, 1, 0, &ids, &n), VB_OK);
    assert_int_equal(n, 63); /* "the second 63" */
    free(ids);
    vb_t5tok_free(tok);
    free(qa);
    free(loc);
    vb_prompt_text_free(&t);
}

/* NExT-QA raw CSV fields -> unified JSON normalisation (datasets.md §6, §2.8): '?' and '.' appended unconditionally. */
static void test_nextqa_unify(void ** st) {
    (void)st;
    struct vb_sample s;
    memset(&s, 0, sizeof s);
    s.dataset = "nextqa";
    s.key = "6233408665_8";
    s.question = "what did the people on the sofa do after the lady in pink finished singing";
    s.n_options = 5;
    const char * raw[5] = {"sitting", "give it to the girl", "take music sheet", "clap", "catching toy "};
    for (int j = 0; j < 5; j++)
        s.options[j] = (char *)raw[j];
    struct vb_prompt_text t;
    assert_int_equal(vb_prompt_text_from_sample(&t, &s, 1), VB_OK);
    assert_string_equal(t.question, TN_Q);
    assert_string_equal(t.options[3], "clap.");
    assert_string_equal(t.options[4], "catching toy ."); /* kept verbatim, '.' appended */
    vb_prompt_text_free(&t);
    /* without unify (unified JSON input) nothing changes */
    assert_int_equal(vb_prompt_text_from_sample(&t, &s, 0), VB_OK);
    assert_string_equal(t.options[4], "catching toy ");
    vb_prompt_text_free(&t);
    /* an MC sample without a question is a format error, not a crash */
    s.question = NULL;
    assert_int_equal(vb_prompt_text_from_sample(&t, &s, 0), VB_ERR_FORMAT);
    s.n_options = 7;
    s.dataset = "vlep";
    assert_int_equal(vb_prompt_text_from_sample(&t, &s, 0), VB_ERR_FORMAT);
}

static void test_vlep_and_prefixes(void ** st) {
    (void)st;
    const char *          ev[2] = {"He leaves. ", "She sits."};
    struct vb_prompt_text t;
    assert_int_equal(vb_prompt_text_make(&t, VB_PROMPT_VLEP, NULL, 2, ev), VB_OK);
    char * qa = vb_prompt_qa(&t);
    char * loc = vb_prompt_loc(&t);
    assert_string_equal(qa, "Upon observing the provided frames, what is the most probable subsequent event? Option A: "
                            "He leaves.  Option B: She sits.");
    assert_string_equal(loc,
                        "Upon observing the provided frames, what is the most probable subsequent event? Option A: "
                        "He leaves.  Option B: She sits. Does the information within the frame provide the "
                        "necessary details to predict next event?");
    free(qa);
    free(loc);
    vb_prompt_text_free(&t);
    char b[32];
    assert_string_equal(vb_prompt_frame_prefix(0, b, sizeof b), "Frame: ");
    assert_string_equal(vb_prompt_frame_prefix(3, b, sizeof b), "Frame 3: ");
    struct vb_t5tok * tok = load_t5();
    /* methods.md §2.5: ids of the prefixes (fast tokenizer keeps the trailing '▁' = 3), letters, yes */
    static const int32_t want[5][4] = {
        {16015, 10, 3, -1}, {16015, 209, 10, 3}, {16015, 204, 10, 3}, {16015, 220, 10, 3}, {16015, 314, 10, 3}};
    for (int i = 0; i <= 4; i++) {
        int32_t *ids, n;
        assert_int_equal(vb_t5tok_encode(tok, vb_prompt_frame_prefix(i, b, sizeof b), 0, 0, &ids, &n), VB_OK);
        assert_int_equal(n, i == 0 ? 3 : 4);
        for (int j = 0; j < n; j++)
            assert_int_equal(ids[j], want[i][j]);
        free(ids);
    }
    for (int j = 0; j < VB_PROMPT_N_LETTERS; j++)
        assert_int_equal(vb_t5tok_piece_id(tok, vb_prompt_letter_pieces[j]), vb_prompt_flan_letter_ids[j]);
    assert_int_equal(vb_t5tok_piece_id(tok, VB_PROMPT_YES_PIECE), VB_PROMPT_FLAN_YES_ID);
    assert_int_equal(vb_t5tok_piece_id(tok, "\xe2\x96\x81no"), 150);
    assert_int_equal(vb_t5tok_piece_id(tok, "\xe2\x96\x81Option"), 10231);
    vb_t5tok_free(tok);
}

/* SeViLA top-k: descending score, ties by the lower index, then sorted ascending (methods.md §4 step 5). */
static void test_sevila_topk(void ** st) {
    (void)st;
    const float s[8] = {0.5f, 2.0f, 1.0f, 2.0f, -1.0f, 1.0f, 3.0f, 1.0f};
    int32_t     order[4], picked[4];
    vb_sevila_topk(s, 8, 4, order, picked);
    const int32_t want_order[4] = {6, 1, 3, 2}, want_picked[4] = {1, 2, 3, 6};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(order[i], want_order[i]);
        assert_int_equal(picked[i], want_picked[i]);
    }
    /* option names round-trip (method names: tests/test_registry.c) */
    enum vb_decode_mode d;
    assert_int_equal(vb_decode_mode_parse("as-released", &d), VB_OK);
    assert_string_equal(vb_decode_mode_name(d), "as-released");
    struct vb_method_opts o;
    vb_method_opts_default(&o);
    assert_int_equal(o.n_frames, 4);
    assert_int_equal(o.n_candidates, 0); /* the method's own count (ops->candidates) */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_worked_example),
        cmocka_unit_test(test_nextqa_unify),
        cmocka_unit_test(test_vlep_and_prefixes),
        cmocka_unit_test(test_sevila_topk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
