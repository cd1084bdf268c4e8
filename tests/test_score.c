/* test_score.c — the official-scorer arithmetic and the prediction readers: Python-style rounding, tallies on a
** hand-made dataset (TP counted under TN, C/T/D pooled by counts, STAR mean of four, missing and unanswered samples),
** every reader on crafted prediction files (tests/data/) including exact error messages, and, when ../shared is
** present, the published numbers: NExT-QA HGA on val (README / datasets.md §2.5), the VLEP standalone sample
** submission (67.55, upstream sample_dev_submission_metrics.json), and the VALUE VLEP (68.42) and How2QA (73.13)
** sample submissions as evaluate_vlep.py / evaluate_how2qa.py compute them (checked with a Python re-run of the
** scripts' arithmetic). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs <setjmp.h>, <stdarg.h>, <stddef.h> and <stdint.h> first */
#include <cmocka.h>

#include "base/common.h"
#include "datasets/dataset.h"
#include "metrics/score.h"
#include "tests/helpers.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* Print into a string. */
static char * official(const struct vb_score * s, const struct vb_dataset * d, const char * pred_path,
                       const struct vb_pred_info * info) {
    char * buf = NULL;
    size_t len = 0;
    FILE * f = open_memstream(&buf, &len);
    vb_score_print_official(f, s, d, pred_path, info);
    fclose(f);
    return buf;
}

static void test_pyfmt(void ** state) {
    (void)state;
    char b[32];
    assert_string_equal(vb_score_pyfmt2(67.55, b), "67.55");
    assert_string_equal(vb_score_pyfmt2(67.5, b), "67.5");
    assert_string_equal(vb_score_pyfmt2(100.0, b), "100.0");
    assert_string_equal(vb_score_pyfmt2(0.0, b), "0.0");
    assert_string_equal(vb_score_pyfmt2(200.0 / 3, b), "66.67");
    assert_string_equal(vb_score_pyfmt2(50.004, b), "50.0");
    assert_string_equal(vb_score_pyfmt2(2967.0 / 4392 * 100, b), "67.55");
}

static void add(struct vb_dataset * d, const char * ds, const char * key, const char * cat, int32_t nopt, int32_t ans) {
    d->s = vb_realloc(d->s, (size_t)(d->n + 1) * sizeof *d->s);
    struct vb_sample * s = &d->s[d->n++];
    memset(s, 0, sizeof *s);
    s->dataset = vb_strdup(ds);
    s->split = vb_strdup("val");
    s->key = vb_strdup(key);
    s->video_id = vb_strdup("v");
    s->n_options = nopt;
    for (int i = 0; i < nopt; i++)
        s->options[i] = vb_strdup("o");
    s->answer = ans;
    s->category = vb_strdup(cat);
    char g[2] = {cat[0], 0};
    s->group = vb_strdup(strcmp(ds, "nextqa") == 0 ? g : cat);
    s->start_s = s->end_s = -1;
}

static void test_tally_nextqa(void ** state) {
    (void)state;
    struct vb_dataset d = {.kind = VB_DS_NEXTQA};
    /* TN: 2 samples (1 right), TP: 2 samples (2 right) -> Bef&Aft 3/4; TC 1/1; CW 0/1; CH 1/2; DL 1/1;
    ** one missing prediction (DO), one without ground truth (DC) */
    add(&d, "nextqa", "a_1", "TN", 5, 0);
    add(&d, "nextqa", "a_2", "TN", 5, 1);
    add(&d, "nextqa", "a_3", "TP", 5, 2);
    add(&d, "nextqa", "a_4", "TP", 5, 3);
    add(&d, "nextqa", "a_5", "TC", 5, 4);
    add(&d, "nextqa", "a_6", "CW", 5, 0);
    add(&d, "nextqa", "a_7", "CH", 5, 1);
    add(&d, "nextqa", "a_8", "CH", 5, 1);
    add(&d, "nextqa", "a_9", "DL", 5, 2);
    add(&d, "nextqa", "a_10", "DO", 5, 2);
    add(&d, "nextqa", "a_11", "DC", 5, -1);
    int32_t         pred[] = {0, 0, 2, 3, 4, 1, 1, 4, 2, -1, 3};
    struct vb_score s;
    assert_int_equal(vb_score_tally(&d, pred, &s), VB_OK);
    assert_int_equal(s.n_cat, 7);
    assert_string_equal(s.cat[2].name, "TN");
    assert_string_equal(s.cat[2].label, "Bef&Aft");
    assert_int_equal(s.cat[2].correct, 3);
    assert_int_equal(s.cat[2].total, 4);
    assert_int_equal(s.cat[1].correct, 1); /* CH */
    assert_int_equal(s.cat[1].total, 2);
    assert_int_equal(s.cat[6].total, 0);     /* DO: missing prediction */
    assert_int_equal(s.group[0].correct, 1); /* C: CW 0/1 + CH 1/2 */
    assert_int_equal(s.group[0].total, 3);
    assert_int_equal(s.group[1].correct, 4); /* T: 3/4 + 1/1 */
    assert_int_equal(s.group[1].total, 5);
    assert_int_equal(s.group[2].correct, 1);
    assert_int_equal(s.group[2].total, 1);
    assert_int_equal(s.correct, 6);
    assert_int_equal(s.total, 9);
    assert_int_equal(s.n_missing, 1);
    assert_int_equal(s.n_unanswered, 1);
    assert_true(vb_score_pct(&s.group[0]) == 100.0 / 3);
    assert_true(vb_score_star_mean(&s) < 0);
    char * out = official(&s, &d, "p.json", NULL);
    assert_string_equal(out, "Evaluating p.json\nWhy\tHow\tBef&Aft\tWhen\tCnt\tLoc\tOther\tAcc_C\tAcc_T\tAcc_D\t\n"
                             "0.00\t50.00\t75.00\t100.00\t0.00\t100.00\t0.00\t33.33\t80.00\t100.00\t\nAcc: 66.67\n");
    free(out);
    pred[0] = 5; /* out of range */
    assert_int_equal(vb_score_tally(&d, pred, &s), VB_ERR_ARG);
    assert_string_equal(vb_errmsg(), "sample 'a_1': prediction 5 out of range 0-4");
    for (int i = 0; i < 11; i++)
        pred[i] = -1;
    assert_int_equal(vb_score_tally(&d, pred, &s), VB_ERR_NOTFOUND);
    vb_dataset_free(&d);
}

static void test_tally_star(void ** state) {
    (void)state;
    struct vb_dataset d = {.kind = VB_DS_STAR};
    /* Interaction 1/1, Sequence 1/2, Prediction 0/1, Feasibility 1/4 -> mean (100+50+0+25)/4 = 43.75,
    ** pooled 3/8 = 37.5 */
    add(&d, "star", "Interaction_T1_1", "Interaction", 4, 0);
    add(&d, "star", "Sequence_T1_1", "Sequence", 4, 1);
    add(&d, "star", "Sequence_T1_2", "Sequence", 4, 1);
    add(&d, "star", "Prediction_T1_1", "Prediction", 4, 2);
    for (int i = 0; i < 4; i++)
        add(&d, "star", "Feasibility_T1_x", "Feasibility", 4, 3);
    int32_t         pred[] = {0, 1, 0, 3, 3, 0, 0, 0};
    struct vb_score s;
    assert_int_equal(vb_score_tally(&d, pred, &s), VB_OK);
    assert_true(vb_score_star_mean(&s) == 43.75);
    assert_true(vb_score_headline(&s) == 43.75);
    assert_true(vb_score_overall_pct(&s) == 37.5);
    char * out = official(&s, &d, "p.json", NULL);
    assert_string_equal(out, "Interaction\tSequence\tPrediction\tFeasibility\tMean\n100.00\t50.00\t0.00\t25.00\t43.75\n"
                             "Overall (pooled, not the STAR headline): 37.50\n");
    free(out);
    add(&d, "vlep", "1", "vlep", 2, 0); /* mixed datasets are refused */
    int32_t pred2[9] = {0, 1, 0, 3, 3, 0, 0, 0, 0};
    assert_int_equal(vb_score_tally(&d, pred2, &s), VB_ERR_ARG);
    vb_dataset_free(&d);
}

/* ---- readers on crafted files ---- */

static void load(struct vb_dataset * d, enum vb_dataset_kind k, const char * name) {
    assert_int_equal(vb_dataset_load(d, k, fx(name), NULL, NULL, 0), VB_OK);
}

static void test_read_nextqa(void ** state) {
    (void)state;
    struct vb_dataset d;
    load(&d, VB_DS_NEXTQA, "nextqa_small.csv");
    int32_t             pred[3];
    struct vb_pred_info info;
    assert_int_equal(vb_score_read_predictions(&d, fx("nextqa_pred.json"), pred, &info), VB_OK);
    assert_int_equal(info.format, VB_PRED_NEXTQA);
    assert_int_equal(info.n_entries, 3);
    assert_int_equal(info.n_missing, 0);
    assert_int_equal(info.n_answer_mismatch, 1); /* the file says answer 1 for 2000000002_0, the CSV 2 */
    assert_string_equal(info.mismatch_ex[0], "2000000002_0");
    assert_int_equal(pred[0], 0);
    assert_int_equal(pred[1], 1);
    assert_int_equal(pred[2], 2);
    struct vb_score s;
    assert_int_equal(vb_score_tally(&d, pred, &s), VB_OK);
    assert_int_equal(s.correct, 2); /* ground truth from the CSV: 2000000002_0 is right */
    assert_int_equal(vb_score_read_predictions(&d, fx("nextqa_pred_missing.json"), pred, &info), VB_OK);
    assert_int_equal(info.n_missing, 1);
    assert_string_equal(info.missing_ex[0], "1000000001_2");
    assert_int_equal(info.n_extra, 1);
    assert_string_equal(info.extra_ex[0], "9_9");
    assert_int_equal(pred[1], -1);
    char want[1200];
    snprintf(want, sizeof want, "%s: key '1000000001_6': prediction 5 for '1000000001_6' out of range 0-4",
             fx("nextqa_pred_range.json"));
    assert_int_equal(vb_score_read_predictions(&d, fx("nextqa_pred_range.json"), pred, &info), VB_ERR_FORMAT);
    assert_string_equal(vb_errmsg(), want);
    assert_int_equal(vb_score_read_predictions(&d, fx("vlep_pred.jsonl"), pred, &info), VB_ERR_FORMAT);
    assert_non_null(strstr(vb_errmsg(), "expected one JSON object (not valid JSON)"));
    vb_dataset_free(&d);
}

static void test_read_vlep(void ** state) {
    (void)state;
    struct vb_dataset d;
    load(&d, VB_DS_VLEP, "vlep_dev_small.jsonl");
    int32_t             pred[3];
    struct vb_pred_info info;
    struct vb_score     s;
    assert_int_equal(vb_score_read_predictions(&d, fx("vlep_pred.jsonl"), pred, &info), VB_OK);
    assert_int_equal(info.format, VB_PRED_VLEP_JSONL);
    assert_int_equal(vb_score_tally(&d, pred, &s), VB_OK);
    char * out = official(&s, &d, "x", &info);
    assert_string_equal(out, "Loaded 3 GT lines, 3 submission lines\nEvaluating 3 examples, missing 0\n"
                             "{\n    \"qa_acc\": {\n        \"overall\": 66.67\n    }\n}\n");
    free(out);
    assert_int_equal(vb_score_read_predictions(&d, fx("vlep_pred_missing.jsonl"), pred, &info), VB_OK);
    assert_int_equal(info.n_missing, 1);
    assert_int_equal(vb_score_tally(&d, pred, &s), VB_OK); /* as with --skip_missing */
    out = official(&s, &d, "x", &info);
    assert_string_equal(out, "Loaded 3 GT lines, 2 submission lines\nEvaluating 2 examples, missing 1\n"
                             "{\n    \"qa_acc\": {\n        \"overall\": 100.0\n    },\n"
                             "    \"skipped_samples\": \"Your predistions missing 1 examples: "
                             "e.g. (only shown 3 here), [20143]\"\n}\n");
    free(out);
    char want[1200];
    snprintf(want, sizeof want, "%s:3: second prediction for '20142' (first at entry 1)", fx("vlep_pred_dup.jsonl"));
    assert_int_equal(vb_score_read_predictions(&d, fx("vlep_pred_dup.jsonl"), pred, &info), VB_ERR_FORMAT);
    assert_string_equal(vb_errmsg(), want);
    assert_int_equal(vb_score_read_predictions(&d, fx("vlep_pred_value.json"), pred, &info), VB_OK);
    assert_int_equal(info.format, VB_PRED_VALUE);
    assert_int_equal(vb_score_tally(&d, pred, &s), VB_OK);
    out = official(&s, &d, "x", &info);
    assert_string_equal(out, "Loaded 3 GT lines, 3 submission lines\nEvaluating 3 examples, missing 0\n"
                             "{\n    \"dev\": 66.67\n}\n");
    free(out);
    vb_dataset_free(&d);
}

static void test_read_how2qa_star(void ** state) {
    (void)state;
    struct vb_dataset d;
    load(&d, VB_DS_HOW2QA_VALUE, "how2qa_value_val_small.jsonl");
    int32_t             pred[4];
    struct vb_pred_info info;
    struct vb_score     s;
    assert_int_equal(vb_score_read_predictions(&d, fx("how2qa_value_pred.json"), pred, &info), VB_OK);
    assert_int_equal(vb_score_tally(&d, pred, &s), VB_OK);
    char * out = official(&s, &d, "x", &info);
    assert_string_equal(out, "{\n    \"val\": 66.67\n}\n");
    free(out);
    assert_int_equal(vb_score_read_predictions(&d, fx("how2qa_value_pred_extra.json"), pred, &info), VB_OK);
    assert_int_equal(info.n_extra, 1);
    assert_string_equal(info.extra_ex[0], "5");
    vb_dataset_free(&d);

    load(&d, VB_DS_STAR, "star_small.json");
    assert_int_equal(vb_score_read_predictions(&d, fx("star_pred.json"), pred, &info), VB_OK);
    assert_int_equal(info.format, VB_PRED_STAR_EVALAI);
    assert_int_equal(vb_score_tally(&d, pred, &s), VB_OK);
    assert_int_equal(s.correct, 2); /* Interaction right, Sequence wrong (answer 0), Feasibility right */
    assert_int_equal(vb_score_read_predictions(&d, fx("star_pred_flat.json"), pred, &info), VB_OK);
    assert_int_equal(info.format, VB_PRED_VALUE);
    assert_int_equal(vb_score_tally(&d, pred, &s), VB_OK);
    assert_int_equal(s.correct, 2); /* Interaction and Sequence right */
    assert_int_equal(s.cat[3].correct, 0);
    vb_dataset_free(&d);
}

/* ---- published numbers on the real files ---- */

static void test_golden_real(void ** state) {
    (void)state;
    char a[1024], p[1024];
    if (!shared_file("nextqa/val.csv", a, sizeof a) || !shared_file("nextqa/HGA-bert-ft-h256-val.json", p, sizeof p))
        skip();
    struct vb_dataset d;
    assert_int_equal(vb_dataset_load(&d, VB_DS_NEXTQA, a, NULL, NULL, 0), VB_OK);
    int32_t *           pred = vb_calloc((size_t)d.n, sizeof(int32_t));
    struct vb_pred_info info;
    struct vb_score     s;
    assert_int_equal(vb_score_read_predictions(&d, p, pred, &info), VB_OK);
    assert_int_equal(info.n_entries, 4996);
    assert_int_equal(info.n_missing + info.n_extra + info.n_answer_mismatch, 0);
    assert_int_equal(vb_score_tally(&d, pred, &s), VB_OK);
    char want[2048];
    snprintf(want, sizeof want,
             "Evaluating %s\nWhy\tHow\tBef&Aft\tWhen\tCnt\tLoc\tOther\tAcc_C\tAcc_T\tAcc_D\t\n"
             "46.99\t44.22\t49.53\t52.49\t44.07\t72.54\t55.41\t46.26\t50.74\t59.33\t\nAcc: 49.74\n",
             p);
    char * out = official(&s, &d, p, &info);
    assert_string_equal(out, want);
    free(out);
    free(pred);
    vb_dataset_free(&d);

    struct {
        enum vb_dataset_kind k;
        const char *         ann, *pred, *out;
    } c[] = {
        {VB_DS_VLEP, "vlep/vlep_dev_release.jsonl", "vlep/sample_dev_submission.jsonl",
         "Loaded 4392 GT lines, 4392 submission lines\nEvaluating 4392 examples, missing 0\n"
         "{\n    \"qa_acc\": {\n        \"overall\": 67.55\n    }\n}\n"},
        {VB_DS_VLEP, "vlep/vlep_dev_archive.jsonl", "vlep/vlep_dev_predictions.json",
         "Loaded 4392 GT lines, 4392 submission lines\nEvaluating 4392 examples, missing 0\n"
         "{\n    \"dev\": 68.42\n}\n"},
        {VB_DS_HOW2QA_VALUE, "how2qa/how2qa_val_release.jsonl", "how2qa/how2qa_val_predictions.json",
         "{\n    \"val\": 73.13\n}\n"},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        assert_non_null(shared_file(c[i].ann, a, sizeof a));
        assert_non_null(shared_file(c[i].pred, p, sizeof p));
        assert_int_equal(vb_dataset_load(&d, c[i].k, a, NULL, NULL, 0), VB_OK);
        pred = vb_calloc((size_t)d.n, sizeof(int32_t));
        assert_int_equal(vb_score_read_predictions(&d, p, pred, &info), VB_OK);
        assert_int_equal(info.n_missing + info.n_extra, 0);
        assert_int_equal(vb_score_tally(&d, pred, &s), VB_OK);
        out = official(&s, &d, p, &info);
        assert_string_equal(out, c[i].out);
        free(out);
        free(pred);
        vb_dataset_free(&d);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pyfmt),       cmocka_unit_test(test_tally_nextqa),
        cmocka_unit_test(test_tally_star),  cmocka_unit_test(test_read_nextqa),
        cmocka_unit_test(test_read_vlep),   cmocka_unit_test(test_read_how2qa_star),
        cmocka_unit_test(test_golden_real),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
