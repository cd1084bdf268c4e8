/* test_datasets.c — the annotation loaders on crafted fixtures (tests/data/): every field of the sample record,
** exact "file:line: reason" messages for a mutated record of every format, --skip-bad counting, the RFC 4180 reader
** on quoting / CRLF / errors, and the How2QA permutation against an independent reference (Python, datasets.md §5.1).
** The record counts of the real annotation files (only in ../shared) are the conformance test
** tests/test_conf_datasets.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs <setjmp.h>, <stdarg.h>, <stddef.h> and <stdint.h> first */
#include <cmocka.h>

#include "base/common.h"
#include "datasets/csv.h"
#include "datasets/dataset.h"
#include "datasets/loaders.h"
#include "tests/helpers.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const struct vb_sample * by_key(const struct vb_dataset * d, const char * key) {
    for (int32_t i = 0; i < d->n; i++)
        if (strcmp(d->s[i].key, key) == 0) return &d->s[i];
    fail_msg("key %s not found", key);
    return NULL;
}

/* ---- CSV reader ---- */

static void test_csv(void ** state) {
    (void)state;
    const char *  t = "a,\"b,\"\"c\"\"\",\r\n\"multi\nline\",x\n\n\"end\"";
    struct vb_csv c;
    vb_csv_init(&c, t, strlen(t));
    assert_int_equal(vb_csv_next(&c), 1);
    assert_int_equal(c.n_fields, 3);
    assert_string_equal(c.fields[0], "a");
    assert_string_equal(c.fields[1], "b,\"c\"");
    assert_string_equal(c.fields[2], "");
    assert_int_equal(c.rec_line, 1);
    assert_int_equal(vb_csv_next(&c), 1);
    assert_int_equal(c.rec_line, 2);
    assert_int_equal(c.n_fields, 2);
    assert_string_equal(c.fields[0], "multi\nline");
    assert_int_equal(vb_csv_next(&c), 1); /* empty line: one empty field */
    assert_int_equal(c.rec_line, 4);
    assert_int_equal(c.n_fields, 1);
    assert_string_equal(c.fields[0], "");
    assert_int_equal(vb_csv_next(&c), 1);
    assert_int_equal(c.rec_line, 5);
    assert_string_equal(c.fields[0], "end");
    assert_int_equal(vb_csv_next(&c), 0);
    vb_csv_free(&c);

    const char * bad = "ok,1\nx\"y,2\n\"q\"z,3\n\"open,4\nlast,5\n";
    vb_csv_init(&c, bad, strlen(bad));
    assert_int_equal(vb_csv_next(&c), 1);
    assert_int_equal(vb_csv_next(&c), VB_ERR_FORMAT);
    assert_int_equal(c.rec_line, 2);
    assert_string_equal(c.err, "quote inside unquoted field");
    assert_int_equal(vb_csv_next(&c), VB_ERR_FORMAT);
    assert_int_equal(c.rec_line, 3);
    assert_string_equal(c.err, "text after closing quote");
    assert_int_equal(vb_csv_next(&c), VB_ERR_FORMAT);
    assert_int_equal(c.rec_line, 4);
    assert_string_equal(c.err, "unterminated quoted field");
    assert_int_equal(vb_csv_next(&c), 1); /* recovery resumes after the bad record's first line */
    assert_int_equal(c.rec_line, 5);
    assert_string_equal(c.fields[0], "last");
    assert_int_equal(vb_csv_next(&c), 0);
    vb_csv_free(&c);
}

/* ---- helpers ---- */

static void test_helpers(void ** state) {
    (void)state;
    enum vb_dataset_kind k;
    assert_int_equal(vb_dataset_kind_parse("how2qa-value", &k), VB_OK);
    assert_int_equal(k, VB_DS_HOW2QA_VALUE);
    assert_int_equal(vb_dataset_kind_parse("nextqa2", &k), VB_ERR_ARG);
    assert_string_equal(vb_dataset_kind_name(VB_DS_SEVILA), "sevila");
    assert_string_equal(vb_dataset_split_from_path("/x/how2QA_test_public_release.csv"), "test_public");
    assert_string_equal(vb_dataset_split_from_path("/x/how2qa_val_release.jsonl"), "val");
    assert_string_equal(vb_dataset_split_from_path("how2qa_value_bad.jsonl"), "unknown"); /* "value" is not "val" */
    assert_string_equal(vb_dataset_split_from_path("vlep_dev_archive.jsonl"), "dev");
    assert_string_equal(vb_dataset_split_from_path("HGA-bert-ft-h256-val.json"), "val");
    assert_string_equal(vb_dataset_split_from_path("latest.csv"), "unknown");
    char   yt[32];
    double a, b;
    assert_int_equal(vb_dataset_how2_clip_parse("TX_qxB1tXFo_60_120", yt, sizeof yt, &a, &b), VB_OK);
    assert_string_equal(yt, "TX_qxB1tXFo");
    assert_true(a == 60 && b == 120);
    assert_int_equal(vb_dataset_how2_clip_parse("n7tajXRbKk_0_60", yt, sizeof yt, &a, &b), VB_OK);
    assert_string_equal(yt, "n7tajXRbKk");
    assert_int_equal(vb_dataset_how2_clip_parse("abc_60", yt, sizeof yt, &a, &b), VB_ERR_FORMAT);
    struct vb_strmap m;
    vb_strmap_init(&m, 2);
    char key[16];
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "k%d", i);
        assert_int_equal(vb_strmap_put(&m, key, i), 1);
    }
    assert_int_equal(vb_strmap_put(&m, "k7", 99), 0);
    assert_int_equal(vb_strmap_get(&m, "k7"), 7);
    assert_int_equal(vb_strmap_get(&m, "k999"), 999);
    assert_int_equal(vb_strmap_get(&m, "k1000"), -1);
    vb_strmap_free(&m);
}

/* Reference permutations computed with an independent Python implementation of datasets.md §5.1. */
static void test_how2qa_perm(void ** state) {
    (void)state;
    int  p[4];
    char s[5];
    assert_int_equal(vb_dataset_how2qa_perm("NOuQuofjk44", "[7.2:18.0]", "how many knife is there?", p, s), 2);
    assert_string_equal(s, "0231");
    assert_int_equal(vb_dataset_how2qa_perm("piYcgGdO8_w", "[134.15:181.52]",
                                            "What is the color of the sheet they used to wrap the wooden box?", p, s),
                     3);
    assert_string_equal(s, "0123");
    const char * q3 = "What do you think is most likely the name of this speaker's video channel?";
    assert_int_equal(vb_dataset_how2qa_perm("DUEyiEnMVj4", "[12.6:13.2]", q3, p, s), 2);
    assert_string_equal(s, "1230");
}

/* ---- one fixture per format ---- */

static void test_nextqa(void ** state) {
    (void)state;
    struct vb_dataset d;
    char              map[1024];
    snprintf(map, sizeof map, "%s", fx("nextqa_map.json"));
    assert_int_equal(vb_dataset_load(&d, VB_DS_NEXTQA, fx("nextqa_small.csv"), map, "/videos", 0), VB_OK);
    assert_int_equal(d.n, 3);
    const struct vb_sample * s = by_key(&d, "1000000001_2");
    assert_string_equal(s->dataset, "nextqa");
    assert_string_equal(s->video_id, "1000000001");
    assert_string_equal(s->video_path, "/videos/0001/1000000001.mp4");
    assert_true(s->start_s < 0 && s->end_s < 0);
    assert_int_equal(s->n_options, 5);
    assert_string_equal(s->options[4], "catching toy "); /* verbatim, trailing space kept */
    assert_int_equal(s->answer, 3);
    assert_string_equal(s->category, "TP");
    assert_string_equal(s->group, "T");
    assert_int_equal(s->line, 3);
    s = by_key(&d, "2000000002_0");
    assert_string_equal(s->question, "why is the baby crying?");
    assert_string_equal(s->group, "C");
    assert_int_equal(vb_dataset_sample_repeats_option(s), 1);
    assert_int_equal(vb_dataset_sample_answer_ambiguous(s), 0);
    vb_dataset_free(&d);

    assert_int_equal(vb_dataset_load(&d, VB_DS_NEXTQA, fx("nextqa_bad.csv"), NULL, NULL, 0), VB_ERR_FORMAT);
    char want[1200];
    snprintf(want, sizeof want, "%s:3: answer '7' is not an integer 0-4", fx("nextqa_bad.csv"));
    assert_string_equal(vb_errmsg(), want);
    assert_int_equal(d.n, 0);
    assert_int_equal(vb_dataset_load(&d, VB_DS_NEXTQA, fx("nextqa_bad.csv"), NULL, NULL, 1), VB_OK);
    assert_int_equal(d.n, 2);
    assert_int_equal(d.n_bad, 1);
    assert_string_equal(d.bad[0], want);
    vb_dataset_free(&d);
    /* a video missing from the map is a bad record */
    snprintf(map, sizeof map, "%s", fx("how2_map_small.json"));
    assert_int_equal(vb_dataset_load(&d, VB_DS_NEXTQA, fx("nextqa_small.csv"), map, NULL, 0), VB_ERR_FORMAT);
    assert_non_null(strstr(vb_errmsg(), "nextqa_small.csv:2: video '1000000001' is not in"));
    /* the wrong loader for a file fails on its header */
    assert_int_equal(vb_dataset_load(&d, VB_DS_NEXTQA, fx("how2qa_val_small.csv"), NULL, NULL, 1), VB_ERR_FORMAT);
    assert_non_null(strstr(vb_errmsg(), "how2qa_val_small.csv:1: header has 7 fields, expected 13"));
}

static void test_star(void ** state) {
    (void)state;
    struct vb_dataset d;
    assert_int_equal(vb_dataset_load(&d, VB_DS_STAR, fx("star_small.json"), NULL, "/charades/", 0), VB_OK);
    assert_int_equal(d.n, 3);
    const struct vb_sample * s = by_key(&d, "Interaction_T1_13");
    assert_int_equal(s->line, 2);
    assert_int_equal(s->answer, 2);
    assert_string_equal(s->category, "Interaction");
    assert_string_equal(s->video_path, "/charades/6H78U.mp4");
    assert_true(s->start_s == 11.1 && s->end_s == 19.6);
    s = by_key(&d, "Sequence_T4_1391"); /* choices listed out of choice_id order: ordered by choice_id */
    assert_int_equal(s->line, 18);
    assert_string_equal(s->options[0], "Closed the door.");
    assert_string_equal(s->options[1], "Put down the broom.");
    assert_int_equal(s->answer, 0);
    s = by_key(&d, "Feasibility_T2_7");
    assert_int_equal(s->answer, 1);
    assert_true(s->start_s == 0 && s->end_s == 5);
    vb_dataset_free(&d);

    char want[1200];
    snprintf(want, sizeof want, "%s:18: Sequence_T4_1391: answer 'Opened the door.' matches no choice",
             fx("star_bad.json"));
    assert_int_equal(vb_dataset_load(&d, VB_DS_STAR, fx("star_bad.json"), NULL, NULL, 0), VB_ERR_FORMAT);
    assert_string_equal(vb_errmsg(), want);
    assert_int_equal(vb_dataset_load(&d, VB_DS_STAR, fx("star_bad.json"), NULL, NULL, 1), VB_OK);
    assert_int_equal(d.n, 2);
    assert_int_equal(d.n_bad, 1);
    assert_string_equal(d.bad[0], want);
    vb_dataset_free(&d);
}

static void test_vlep(void ** state) {
    (void)state;
    struct vb_dataset d;
    assert_int_equal(vb_dataset_load(&d, VB_DS_VLEP, fx("vlep_dev_small.jsonl"), NULL, "/v", 0), VB_OK);
    assert_int_equal(d.n, 3);
    const struct vb_sample * s = by_key(&d, "20142");
    assert_string_equal(s->split, "dev");
    assert_null(s->question);
    assert_string_equal(s->video_path, "/v/tvqa/videos_3fps_with_audio/friends_s03e09_seg02_clip_07.mp4");
    assert_true(s->start_s == 38.81 && s->end_s == 40.37);
    assert_int_equal(s->answer, 0);
    assert_string_equal(s->category, "vlep");
    s = by_key(&d, "20143"); /* YouTube clip (':' in the name), integer ts, \u escape and escaped quotes */
    assert_string_equal(s->video_path, "/v/vlep_ytb_clips/OO9kSxcT9Rg_subs_012_00:13:00_00:14:00_ep.mp4");
    assert_true(s->start_s == 9 && s->end_s == 36.62);
    assert_string_equal(s->options[0], "They pull the fire alarm on the way \"out\".");
    assert_string_equal(s->options[1], "Monica\xe2\x80\x99s friends leave the apartment.");
    assert_int_equal(s->answer, 1);
    vb_dataset_free(&d);

    assert_int_equal(vb_dataset_load(&d, VB_DS_VLEP, fx("vlep_test_small.jsonl"), NULL, NULL, 0), VB_OK);
    assert_int_equal(d.n, 1);
    assert_int_equal(d.s[0].answer, -1);
    assert_string_equal(d.s[0].split, "test");
    vb_dataset_free(&d);

    char want[1200];
    snprintf(want, sizeof want, "%s:2: example 20143: 'ts' is not [start, end]", fx("vlep_bad.jsonl"));
    assert_int_equal(vb_dataset_load(&d, VB_DS_VLEP, fx("vlep_bad.jsonl"), NULL, NULL, 0), VB_ERR_FORMAT);
    assert_string_equal(vb_errmsg(), want);
    assert_int_equal(vb_dataset_load(&d, VB_DS_VLEP, fx("vlep_bad.jsonl"), NULL, NULL, 1), VB_OK);
    assert_int_equal(d.n, 2);
    assert_int_equal(d.n_bad, 1);
    assert_string_equal(d.bad[0], want);
    vb_dataset_free(&d);
}

static void test_how2qa_raw(void ** state) {
    (void)state;
    struct vb_dataset d;
    assert_int_equal(vb_dataset_load(&d, VB_DS_HOW2QA, fx("how2qa_val_small.csv"), NULL, "/yt", 0), VB_OK);
    assert_int_equal(d.n, 4);
    const struct vb_sample * s = by_key(&d, "1"); /* permutation "0231": options 10, 16, 1, 12 */
    assert_string_equal(s->split, "val");
    assert_string_equal(s->video_id, "NOuQuofjk44");
    assert_string_equal(s->video_path, "/yt/NOuQuofjk44.mp4");
    assert_true(s->start_s == 7.2 && s->end_s == 18.0);
    assert_string_equal(s->question, "how many knife is there?");
    assert_string_equal(s->options[0], "10");
    assert_string_equal(s->options[1], "16");
    assert_string_equal(s->options[2], "1");
    assert_string_equal(s->options[3], "12");
    assert_int_equal(s->answer, 2);
    s = by_key(&d, "3"); /* quoted fields with doubled quotes, CRLF; permutation "1230" */
    assert_int_equal(s->answer, 2);
    assert_string_equal(s->options[0], "his channel is called \"digitaldezignz");
    assert_string_equal(s->options[1], "his channel is called \"graphics co.\"");
    assert_string_equal(s->options[2], "his channel is called \"whatsdev\"");
    assert_string_equal(s->options[3], "his channel is called \"professional graphix\"");
    assert_string_equal(s->question, "What do you think is most likely the name of this speaker's video channel?");
    s = by_key(&d, "4");
    assert_int_equal(s->answer, 1); /* permutation "0321" */
    assert_string_equal(s->options[0], "red, green");
    assert_string_equal(s->options[1], "black");
    assert_string_equal(s->options[2], "blue");
    assert_string_equal(s->options[3], "Pok\xc3\xa9mon");
    vb_dataset_free(&d);

    char want[1200];
    snprintf(want, sizeof want, "%s:2: unterminated quoted field", fx("how2qa_bad.csv"));
    assert_int_equal(vb_dataset_load(&d, VB_DS_HOW2QA, fx("how2qa_bad.csv"), NULL, NULL, 0), VB_ERR_FORMAT);
    assert_string_equal(vb_errmsg(), want);
    assert_int_equal(vb_dataset_load(&d, VB_DS_HOW2QA, fx("how2qa_bad.csv"), NULL, NULL, 1), VB_OK);
    assert_int_equal(d.n, 2);
    assert_int_equal(d.n_bad, 1);
    assert_string_equal(d.bad[0], want);
    assert_string_equal(d.s[1].key, "3");
    vb_dataset_free(&d);
    snprintf(want, sizeof want, "%s:2: expected 7 fields, found 6", fx("how2qa_bad_fields.csv"));
    assert_int_equal(vb_dataset_load(&d, VB_DS_HOW2QA, fx("how2qa_bad_fields.csv"), NULL, NULL, 0), VB_ERR_FORMAT);
    assert_string_equal(vb_errmsg(), want);
}

static void test_how2qa_value(void ** state) {
    (void)state;
    struct vb_dataset d;
    char              map[1024];
    snprintf(map, sizeof map, "%s", fx("how2_map_small.json"));
    assert_int_equal(vb_dataset_load(&d, VB_DS_HOW2QA_VALUE, fx("how2qa_value_val_small.jsonl"), map, "/clips", 0),
                     VB_OK);
    assert_int_equal(d.n, 3);
    const struct vb_sample * s = by_key(&d, "30351");
    assert_string_equal(s->dataset, "how2qa");
    assert_string_equal(s->split, "val");
    assert_string_equal(s->video_path, "/clips/25848.mp4");
    assert_true(s->start_s == 36.58 && s->end_s == 58.52);
    assert_int_equal(s->answer, 2);
    assert_string_equal(s->options[2], "Www.lyndaleplants.com.");
    s = by_key(&d, "17983"); /* zero-length segment is valid */
    assert_true(s->start_s == 1.7 && s->end_s == 1.7);
    vb_dataset_free(&d);

    char want[1200];
    snprintf(want, sizeof want, "%s:2: qid 23294: ts '37.21:60.02' is not start-end", fx("how2qa_value_bad.jsonl"));
    assert_int_equal(vb_dataset_load(&d, VB_DS_HOW2QA_VALUE, fx("how2qa_value_bad.jsonl"), NULL, NULL, 0),
                     VB_ERR_FORMAT);
    assert_string_equal(vb_errmsg(), want);
    assert_int_equal(vb_dataset_load(&d, VB_DS_HOW2QA_VALUE, fx("how2qa_value_bad.jsonl"), NULL, NULL, 1), VB_OK);
    assert_int_equal(d.n, 2);
    assert_int_equal(d.n_bad, 1);
    assert_string_equal(d.bad[0], want);
    vb_dataset_free(&d);
}

static void test_sevila(void ** state) {
    (void)state;
    struct vb_dataset d;
    assert_int_equal(vb_dataset_load(&d, VB_DS_SEVILA, fx("sevila_small.json"), NULL, "/r", 0), VB_OK);
    assert_int_equal(d.n, 4);
    const struct vb_sample * s = by_key(&d, "TN_6233408665_8");
    assert_string_equal(s->dataset, "nextqa");
    assert_string_equal(s->category, "TN");
    assert_string_equal(s->group, "T");
    assert_string_equal(s->video_path, "/r/1150/6233408665.mp4");
    assert_int_equal(s->answer, 3);
    assert_true(s->start_s < 0);
    s = by_key(&d, "Interaction_T1_13");
    assert_string_equal(s->dataset, "star");
    assert_int_equal(s->n_options, 4);
    s = by_key(&d, "HOW2QA_0"); /* start/end as numeric strings */
    assert_string_equal(s->dataset, "how2qa");
    assert_true(s->start_s == 36.58 && s->end_s == 58.52);
    assert_int_equal(s->line, 3);
    s = by_key(&d, "VLEP_20142");
    assert_string_equal(s->dataset, "vlep");
    assert_null(s->question);
    assert_int_equal(s->n_options, 2);
    assert_string_equal(s->video_path, "/r/tvqa/videos_3fps_with_audio/friends_s03e09_seg02_clip_07.mp4");
    vb_dataset_free(&d);

    char want[1200];
    snprintf(want, sizeof want, "%s:3: qid 'HOW2QA_0': 'start'/'end' not both numbers", fx("sevila_bad.json"));
    assert_int_equal(vb_dataset_load(&d, VB_DS_SEVILA, fx("sevila_bad.json"), NULL, NULL, 0), VB_ERR_FORMAT);
    assert_string_equal(vb_errmsg(), want);
    assert_int_equal(vb_dataset_load(&d, VB_DS_SEVILA, fx("sevila_bad.json"), NULL, NULL, 1), VB_OK);
    assert_int_equal(d.n, 3);
    assert_int_equal(d.n_bad, 1);
    assert_string_equal(d.bad[0], want);
    vb_dataset_free(&d);
}

static void test_missing_file(void ** state) {
    (void)state;
    struct vb_dataset d;
    assert_int_equal(vb_dataset_load(&d, VB_DS_VLEP, fx("no_such_file.jsonl"), NULL, NULL, 0), VB_ERR_IO);
    assert_non_null(strstr(vb_errmsg(), "no_such_file.jsonl"));
    /* broken outer JSON structure is fatal even with skip_bad */
    assert_int_equal(vb_dataset_load(&d, VB_DS_STAR, fx("nextqa_map.json"), NULL, NULL, 1), VB_OK);
    assert_int_equal(d.n, 0); /* map values are strings, not records: both counted bad */
    assert_int_equal(d.n_bad, 2);
    vb_dataset_free(&d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv),          cmocka_unit_test(test_helpers),      cmocka_unit_test(test_how2qa_perm),
        cmocka_unit_test(test_nextqa),       cmocka_unit_test(test_star),         cmocka_unit_test(test_vlep),
        cmocka_unit_test(test_how2qa_raw),   cmocka_unit_test(test_how2qa_value), cmocka_unit_test(test_sevila),
        cmocka_unit_test(test_missing_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
