/* test_loaders_bad.c — damaged annotation files that the loaders must reject at load with "file:line: reason"
** (issue 17), one case each: a NUL byte (NExT-QA CSV, raw How2QA CSV), a \u0000 escape (SeViLA JSON), non-UTF-8
** text (STAR, VLEP, How2QA VALUE, SeViLA, a map file; overlong forms and surrogates too), a val / dev record without
** its answer (and a test file with answers on only some records), duplicate rows / ids in every format (raw How2QA
** CSV by content, its key being the line), and video ids that would leave the videos directory ('..' components,
** absolute ids; STAR video_id, SeViLA video, VLEP vid_name, How2QA VALUE vid_name, a NExT-QA map value).  With
** skip_bad the same records are dropped and listed.  Every file is written here with invented text (no dataset
** text); every case asserts the status and the whole "file:line: reason" prefix. */
#include <setjmp.h> /* cmocka.h needs these four first */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/helpers.h"

#include "base/common.h"
#include "datasets/dataset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[512];

static int setup(void ** state) {
    (void)state;
    return scratch_dir_make(dir, sizeof dir, "loaders_bad");
}

static int teardown(void ** state) {
    (void)state;
    scratch_dir_remove(dir);
    return 0;
}

/* Write n bytes (n < 0: strlen) to dir/name; returns the path (static buffer, one of 4 in rotation). */
static const char * put(const char * name, const char * bytes, long n) {
    static char paths[4][700];
    static int  k;
    char *      p = paths[k++ & 3];
    snprintf(p, 700, "%s/%s", dir, name);
    FILE * f = fopen(p, "wb");
    assert_non_null(f);
    size_t len = n < 0 ? strlen(bytes) : (size_t)n;
    assert_int_equal(fwrite(bytes, 1, len, f), len);
    fclose(f);
    return p;
}

/* Load and expect status st with the message starting "path:line: " and containing `why`; then with skip_bad the
** load succeeds with n_ok samples and the same message listed in d.bad (skip_ok < 0: the file-level damage fails
** with skip_bad too). */
static void expect_bad(enum vb_dataset_kind kind, const char * path, const char * map, const char * root, int line,
                       const char * why, int skip_ok) {
    struct vb_dataset d;
    int               st = vb_dataset_load(&d, kind, path, map, root, 0);
    if (st != VB_ERR_FORMAT) fail_msg("%s: status %d (%s), expected VB_ERR_FORMAT", path, st, vb_errmsg());
    char want[1024];
    snprintf(want, sizeof want, "%s:%d: ", path, line);
    if (strncmp(vb_errmsg(), want, strlen(want)) != 0) fail_msg("message '%s' does not start '%s'", vb_errmsg(), want);
    if (!strstr(vb_errmsg(), why)) fail_msg("message '%s' lacks '%s'", vb_errmsg(), why);
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", vb_errmsg());
    st = vb_dataset_load(&d, kind, path, map, root, 1);
    if (skip_ok < 0) {
        assert_int_equal(st, VB_ERR_FORMAT);
        assert_string_equal(vb_errmsg(), msg);
        return;
    }
    if (st != VB_OK) fail_msg("%s with skip_bad: %s", path, vb_errmsg());
    assert_int_equal(d.n, skip_ok);
    assert_int_equal(d.n_bad, 1);
    assert_string_equal(d.bad[0], msg);
    vb_dataset_free(&d);
}

static void expect_ok(enum vb_dataset_kind kind, const char * path, const char * map, const char * root, int n) {
    struct vb_dataset d;
    int               st = vb_dataset_load(&d, kind, path, map, root, 0);
    if (st != VB_OK) fail_msg("%s: %s", path, vb_errmsg());
    assert_int_equal(d.n, n);
    vb_dataset_free(&d);
}

#define NQ_HEAD "video,frame_count,width,height,question,answer,qid,type,a0,a1,a2,a3,a4\n"
#define NQ_ROW1 "101,90,320,240,what does the robot hold,1,3,CH,a cup,a lamp,a spoon,a key,a ball\n"
#define NQ_ROW2 "102,90,320,240,why does the robot wave,0,4,CW,to greet,to stop,to dance,to swim,to fly\n"

static void test_nul_bytes(void ** state) {
    (void)state;
    /* a NUL inside a NExT-QA question used to cut it silently */
    static const char nq[] = NQ_HEAD NQ_ROW1 "102,90,320,240,why does the rob\0ot wave,0,4,CW,to greet,to stop,"
                                             "to dance,to swim,to fly\n";
    expect_bad(VB_DS_NEXTQA, put("nul_val.csv", nq, sizeof nq - 1), NULL, NULL, 3, "NUL byte", -1);
    /* raw How2QA CSV */
    static const char hq[] = "abcdefghijk,[1.0:5.0],red,green,blue,what col\0our is the kite?,yellow\n";
    expect_bad(VB_DS_HOW2QA, put("nul_how2qa_val.csv", hq, sizeof hq - 1), NULL, NULL, 1, "NUL byte", -1);
    /* a \u0000 escape in JSON decodes to a NUL too */
    const char * sv = put("esc_val.json",
                          "[{\"num_option\": 2, \"qid\": \"VLEP_1\", \"video\": \"clip_a_ep\",\n"
                          "  \"a0\": \"it will \\u0000rain\", \"a1\": \"it will snow\", \"answer\": 0}]\n",
                          -1);
    expect_bad(VB_DS_SEVILA, sv, NULL, NULL, 2, "\\u0000 (NUL) escape", -1);
    /* an escaped backslash followed by the text u0000 is not an escape */
    sv = put("esc_ok_val.json",
             "[{\"num_option\": 2, \"qid\": \"VLEP_1\", \"video\": \"clip_a_ep\",\n"
             "  \"a0\": \"path c:\\\\u0000\", \"a1\": \"it will snow\", \"answer\": 0}]\n",
             -1);
    expect_ok(VB_DS_SEVILA, sv, NULL, NULL, 1);
}

#define STAR_REC(qid, vid, q, ans)                                                                                     \
    "{\"question_id\": \"" qid "\", \"question\": \"" q "\", \"video_id\": \"" vid "\", \"start\": 1.0, "              \
    "\"end\": 4.0, " ans "\"choices\": [{\"choice_id\": 0, \"choice\": \"The cup.\"}, "                                \
    "{\"choice_id\": 1, \"choice\": \"The box.\"}, {\"choice_id\": 2, \"choice\": \"The lamp.\"}, "                    \
    "{\"choice_id\": 3, \"choice\": \"The pen.\"}]}"

static void test_utf8(void ** state) {
    (void)state;
    /* STAR: a Latin-1 byte in a question */
    const char * p =
        put("star_val.json",
            "[\n" STAR_REC("Interaction_T1_1", "VID01", "Which object was held?",
                           "\"answer\": \"The cup.\", ") ",\n" STAR_REC("Interaction_T1_2", "VID02",
                                                                        "Which caf\xe9 object was taken?",
                                                                        "\"answer\": \"The box.\", ") "\n]\n",
            -1);
    expect_bad(VB_DS_STAR, p, NULL, NULL, 3, "invalid UTF-8 (byte 0xe9", -1);
    /* VLEP: an overlong encoding of '/' */
    p = put("vlep_dev.jsonl",
            "{\"example_id\": 1, \"vid_name\": \"show_s01e01_seg01_clip_01\", \"ts\": [1, 2], \"events\": "
            "[\"she will sit\", \"she will \xc0\xaf stand\"], \"answer\": 0}\n",
            -1);
    expect_bad(VB_DS_VLEP, p, NULL, NULL, 1, "invalid UTF-8 (byte 0xc0", -1);
    /* How2QA VALUE: a UTF-16 surrogate encoded in UTF-8 */
    p = put("how2qa_val.jsonl",
            "{\"vid_name\": \"v1\", \"ts\": \"1-5\", \"qid\": 1, \"q\": \"what is shown?\", \"a0\": \"a\", \"a1\": "
            "\"b\", \"a2\": \"c\", \"a3\": \"d\", \"answer_idx\": 0}\n"
            "{\"vid_name\": \"v2\", \"ts\": \"1-5\", \"qid\": 2, \"q\": \"what \xed\xa0\x80 is shown?\", \"a0\": "
            "\"a\", \"a1\": \"b\", \"a2\": \"c\", \"a3\": \"d\", \"answer_idx\": 0}\n",
            -1);
    expect_bad(VB_DS_HOW2QA_VALUE, p, NULL, NULL, 2, "invalid UTF-8 (byte 0xed", -1);
    /* SeViLA: a truncated sequence at the end of a line */
    p = put("sevila_val.json",
            "[{\"num_option\": 2, \"qid\": \"VLEP_1\", \"video\": \"clip_a_ep\", \"a0\": \"x\xe2\x82\", \"a1\": \"y\","
            "\n \"answer\": 0}]\n",
            -1);
    expect_bad(VB_DS_SEVILA, p, NULL, NULL, 1, "invalid UTF-8 (byte 0xe2", -1);
    /* a backslash does not hide the byte after it from the check */
    p = put("sevila_bs_val.json",
            "[{\"num_option\": 2, \"qid\": \"VLEP_1\", \"video\": \"clip_a_ep\", \"a0\": \"x\\\xff\", \"a1\": \"y\","
            "\n \"answer\": 0}]\n",
            -1);
    expect_bad(VB_DS_SEVILA, p, NULL, NULL, 1, "invalid UTF-8 (byte 0xff", -1);
    /* a map file is checked too */
    const char *      csv = put("nq_val.csv", NQ_HEAD NQ_ROW1, -1);
    const char *      map = put("map.json", "{\n\"101\": \"0001/\xff\"\n}\n", -1);
    struct vb_dataset d;
    assert_int_equal(vb_dataset_load(&d, VB_DS_NEXTQA, csv, map, NULL, 0), VB_ERR_FORMAT);
    char want[1024];
    snprintf(want, sizeof want, "%s:2: invalid UTF-8 (byte 0xff", map);
    assert_non_null(strstr(vb_errmsg(), want));
    /* valid multi-byte text (2, 3 and 4 bytes) loads */
    p = put("vlep_ok_dev.jsonl",
            "{\"example_id\": 1, \"vid_name\": \"show_s01e01_seg01_clip_01\", \"ts\": [1, 2], \"events\": "
            "[\"caf\xc3\xa9 \xe2\x80\x99\", \"\xf0\x9f\x98\x80\"], \"answer\": 1}\n",
            -1);
    expect_ok(VB_DS_VLEP, p, NULL, NULL, 1);
}

static void test_missing_answer(void ** state) {
    (void)state;
    /* a dev record without its answer: dropped silently from the accuracy denominator before */
    const char * p = put("vlep_dev_noans.jsonl",
                         "{\"example_id\": 1, \"vid_name\": \"show_s01e01_seg01_clip_01\", \"ts\": [1, 2], "
                         "\"events\": [\"she sits\", \"she stands\"], \"answer\": 0}\n"
                         "{\"example_id\": 2, \"vid_name\": \"show_s01e01_seg01_clip_02\", \"ts\": [1, 2], "
                         "\"events\": [\"he runs\", \"he walks\"]}\n",
                         -1);
    expect_bad(VB_DS_VLEP, p, NULL, NULL, 2, "2: no answer, but a dev split has answers", 1);
    /* even a lone answerless record in a val file */
    p = put("sevila_noans_val.json",
            "[{\"num_option\": 2, \"qid\": \"VLEP_7\", \"video\": \"clip_a_ep\", \"a0\": \"x\", \"a1\": \"y\"}]", -1);
    expect_bad(VB_DS_SEVILA, p, NULL, NULL, 1, "VLEP_7: no answer, but a val split has answers", 0);
    /* STAR val record without answer and without Correct/Wrong marks */
    p = put("star_noans_val.json",
            "[\n" STAR_REC("Interaction_T1_1", "VID01", "Which object was held?",
                           "\"answer\": \"The cup.\", ") ",\n" STAR_REC("Interaction_T1_2", "VID02",
                                                                        "Which object was taken?", "") "\n]\n",
            -1);
    expect_bad(VB_DS_STAR, p, NULL, NULL, 3, "Interaction_T1_2: no answer, but a val split has answers", 1);
    /* How2QA VALUE val without answer_idx */
    p = put("how2qa_noans_val.jsonl",
            "{\"vid_name\": \"v1\", \"ts\": \"1-5\", \"qid\": 1, \"q\": \"what?\", \"a0\": \"a\", \"a1\": \"b\", "
            "\"a2\": \"c\", \"a3\": \"d\"}\n",
            -1);
    expect_bad(VB_DS_HOW2QA_VALUE, p, NULL, NULL, 1, "1: no answer, but a val split has answers", 0);
    /* a test file: no answers at all loads; answers on only some records is an error */
    p = put("vlep_test_none.jsonl",
            "{\"example_id\": 1, \"vid_name\": \"show_s01e01_seg01_clip_01\", \"ts\": [1, 2], "
            "\"events\": [\"she sits\", \"she stands\"]}\n",
            -1);
    expect_ok(VB_DS_VLEP, p, NULL, NULL, 1);
    p = put("vlep_test_some.jsonl",
            "{\"example_id\": 1, \"vid_name\": \"show_s01e01_seg01_clip_01\", \"ts\": [1, 2], "
            "\"events\": [\"she sits\", \"she stands\"]}\n"
            "{\"example_id\": 2, \"vid_name\": \"show_s01e01_seg01_clip_02\", \"ts\": [1, 2], "
            "\"events\": [\"he runs\", \"he walks\"], \"answer\": 1}\n",
            -1);
    expect_bad(VB_DS_VLEP, p, NULL, NULL, 1, "1: no answer, but the rest of this file has answers", 1);
}

static void test_duplicates(void ** state) {
    (void)state;
    /* raw How2QA CSV: the key is the line number, so a repeated row is caught on its content */
    const char * row = "abcdefghijk,[1.0:5.0],red,green,blue,what colour is the kite?,yellow\n";
    char         buf[1024];
    snprintf(buf, sizeof buf, "%s%s%s", row, "abcdefghijk,[1.0:5.0],red,green,blue,what shape is the kite?,round\n",
             row);
    expect_bad(VB_DS_HOW2QA, put("how2qa_dup_val.csv", buf, -1), NULL, NULL, 3, "duplicate row (same as line 1)", 2);
    /* the other formats by their ids */
    expect_bad(VB_DS_NEXTQA, put("nq_dup_val.csv", NQ_HEAD NQ_ROW1 NQ_ROW2 NQ_ROW1, -1), NULL, NULL, 4,
               "duplicate key '101_3'", 2);
    expect_bad(
        VB_DS_STAR,
        put("star_dup_val.json",
            "[\n" STAR_REC("Interaction_T1_1", "VID01", "Which object?", "\"answer\": \"The cup.\", ") ",\n" STAR_REC(
                "Interaction_T1_1", "VID02", "Which other object?", "\"answer\": \"The pen.\", ") "\n]\n",
            -1),
        NULL, NULL, 3, "duplicate question_id 'Interaction_T1_1'", 1);
    expect_bad(VB_DS_VLEP,
               put("vlep_dup_dev.jsonl",
                   "{\"example_id\": 5, \"vid_name\": \"show_s01e01_seg01_clip_01\", \"ts\": [1, 2], "
                   "\"events\": [\"she sits\", \"she stands\"], \"answer\": 0}\n"
                   "{\"example_id\": 5, \"vid_name\": \"show_s01e01_seg01_clip_02\", \"ts\": [1, 2], "
                   "\"events\": [\"he runs\", \"he walks\"], \"answer\": 1}\n",
                   -1),
               NULL, NULL, 2, "duplicate example_id 5", 1);
    expect_bad(VB_DS_HOW2QA_VALUE,
               put("how2qa_dup_val.jsonl",
                   "{\"vid_name\": \"v1\", \"ts\": \"1-5\", \"qid\": 9, \"q\": \"what?\", \"a0\": \"a\", \"a1\": "
                   "\"b\", \"a2\": \"c\", \"a3\": \"d\", \"answer_idx\": 0}\n"
                   "{\"vid_name\": \"v2\", \"ts\": \"1-5\", \"qid\": 9, \"q\": \"why?\", \"a0\": \"a\", \"a1\": "
                   "\"b\", \"a2\": \"c\", \"a3\": \"d\", \"answer_idx\": 1}\n",
                   -1),
               NULL, NULL, 2, "duplicate qid 9", 1);
    expect_bad(VB_DS_SEVILA,
               put("sevila_dup_val.json",
                   "[{\"num_option\": 2, \"qid\": \"VLEP_1\", \"video\": \"a_ep\", \"a0\": \"x\", \"a1\": \"y\", "
                   "\"answer\": 0},\n {\"num_option\": 2, \"qid\": \"VLEP_1\", \"video\": \"b_ep\", \"a0\": \"x\", "
                   "\"a1\": \"z\", \"answer\": 1}]\n",
                   -1),
               NULL, NULL, 2, "duplicate qid 'VLEP_1'", 1);
    /* a map file with a key twice */
    const char *      csv = put("nq_map_val.csv", NQ_HEAD NQ_ROW1, -1);
    const char *      map = put("dup_map.json", "{\"101\": \"0001/101\", \"101\": \"0002/101\"}", -1);
    struct vb_dataset d;
    assert_int_equal(vb_dataset_load(&d, VB_DS_NEXTQA, csv, map, NULL, 0), VB_ERR_FORMAT);
    assert_non_null(strstr(vb_errmsg(), "key '101' appears twice"));
}

static void test_video_confined(void ** state) {
    (void)state;
    /* STAR video_id with '..' components: "../../x" used to be opened */
    const char * p =
        put("star_path_val.json",
            "[\n" STAR_REC("Interaction_T1_1", "VID01", "Which object?", "\"answer\": \"The cup.\", ") ",\n" STAR_REC(
                "Interaction_T1_2", "../../etc/x", "Which other object?", "\"answer\": \"The pen.\", ") "\n]\n",
            -1);
    expect_bad(VB_DS_STAR, p, NULL, "/videos", 3,
               "Interaction_T1_2: video '../../etc/x' is not confined to the videos directory", 1);
    /* the same without --videos: rejected at load all the same */
    expect_bad(VB_DS_STAR, p, NULL, NULL, 3, "video '../../etc/x' is not confined", 1);
    /* SeViLA video: an absolute id */
    p = put("sevila_path_val.json",
            "[{\"num_option\": 2, \"qid\": \"VLEP_1\", \"video\": \"/etc/passwd\", \"a0\": \"x\", \"a1\": \"y\", "
            "\"answer\": 0}]\n",
            -1);
    expect_bad(VB_DS_SEVILA, p, NULL, "/videos", 1, "VLEP_1: video '/etc/passwd' is not confined", 0);
    p = put("sevila_path2_val.json",
            "[{\"num_option\": 5, \"qid\": \"CW_1\", \"question\": \"why?\", \"video\": \"0001/..\", \"a0\": \"a\", "
            "\"a1\": \"b\", \"a2\": \"c\", \"a3\": \"d\", \"a4\": \"e\", \"answer\": 0}]\n",
            -1);
    expect_bad(VB_DS_SEVILA, p, NULL, "/videos", 1, "video '0001/..' is not confined", 0);
    /* VLEP vid_name and How2QA VALUE vid_name */
    p = put("vlep_path_dev.jsonl",
            "{\"example_id\": 1, \"vid_name\": \"a/../../../b\", \"ts\": [1, 2], \"events\": [\"x\", \"y\"], "
            "\"answer\": 0}\n",
            -1);
    expect_bad(VB_DS_VLEP, p, NULL, "/videos", 1, "video 'a/../../../b' is not confined", 0);
    p = put("how2qa_path_val.jsonl",
            "{\"vid_name\": \"../v1\", \"ts\": \"1-5\", \"qid\": 1, \"q\": \"what?\", \"a0\": \"a\", \"a1\": \"b\", "
            "\"a2\": \"c\", \"a3\": \"d\", \"answer_idx\": 0}\n",
            -1);
    expect_bad(VB_DS_HOW2QA_VALUE, p, NULL, "/videos", 1, "video '../v1' is not confined", 0);
    /* a NExT-QA map value that leaves the videos directory (the id itself is digits) */
    const char * csv = put("nq_path_val.csv", NQ_HEAD NQ_ROW1 NQ_ROW2, -1);
    const char * map = put("path_map.json", "{\"101\": \"0001/101\", \"102\": \"../../../tmp/102\"}", -1);
    expect_bad(VB_DS_NEXTQA, csv, map, "/videos", 3, "video '../../../tmp/102.mp4' is not confined", 1);
    /* names that merely contain dots are fine */
    p = put("star_dots_val.json",
            "[\n" STAR_REC("Interaction_T1_1", "a..b", "Which object?", "\"answer\": \"The cup.\", ") "\n]\n", -1);
    expect_ok(VB_DS_STAR, p, NULL, "/videos", 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nul_bytes),  cmocka_unit_test(test_utf8),           cmocka_unit_test(test_missing_answer),
        cmocka_unit_test(test_duplicates), cmocka_unit_test(test_video_confined),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
