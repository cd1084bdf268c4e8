/* test_conf_datasets.c — conformance (needs ../shared): the annotation loaders on the real annotation files of
** $VB_SHARED/datasets (never copied into the repository: they are the datasets' text): the record counts of every
** official file (datasets.md / SOURCES.md) and every field of one known NExT-QA record.  SKIP (77) when the files are
** absent (tests/run.sh then reports the whole conformance group in one line). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs <setjmp.h>, <stdarg.h>, <stddef.h> and <stdint.h> first */
#include <cmocka.h>

#include "base/common.h"
#include "datasets/dataset.h"
#include "datasets/loaders.h"
#include "tests/helpers.h"

#include <stdio.h>
#include <string.h>

static const struct vb_sample * by_key(const struct vb_dataset * d, const char * key) {
    for (int32_t i = 0; i < d->n; i++)
        if (strcmp(d->s[i].key, key) == 0) return &d->s[i];
    fail_msg("key %s not found", key);
    return NULL;
}

static void test_real_counts(void ** state) {
    (void)state;
    char p[1024], m[1024];
    assert_non_null(shared_file("nextqa/val.csv", p, sizeof p));
    struct vb_dataset d;
    shared_file("nextqa/map_vid_vidorID.json", m, sizeof m);
    assert_int_equal(vb_dataset_load(&d, VB_DS_NEXTQA, p, m, "/nextqa", 0), VB_OK);
    assert_int_equal(d.n, 4996);
    const struct vb_sample * s = by_key(&d, "4882821564_1");
    assert_int_equal(s->line, 3);
    assert_int_equal(s->answer, 2);
    assert_string_equal(s->category, "CW");
    assert_string_equal(s->options[4], "gesture something");
    assert_string_equal(s->video_path, "/nextqa/1104/4882821564.mp4");
    vb_dataset_free(&d);
    struct {
        enum vb_dataset_kind k;
        const char *         rel;
        int32_t              n;
    } files[] = {{VB_DS_NEXTQA, "nextqa/test.csv", 8564},
                 {VB_DS_STAR, "star/sel_examples.json", 99},
                 {VB_DS_STAR, "star/selected_examples_keyframes_dict.json", 24},
                 {VB_DS_VLEP, "vlep/vlep_dev_release.jsonl", 4392},
                 {VB_DS_VLEP, "vlep/vlep_test_release.jsonl", 4192},
                 {VB_DS_VLEP, "vlep/vlep_dev_archive.jsonl", 4392},
                 {VB_DS_HOW2QA, "how2qa/how2QA_val_release.csv", 2852},
                 {VB_DS_HOW2QA, "how2qa/how2QA_test_public_release.csv", 2937},
                 {VB_DS_HOW2QA_VALUE, "how2qa/how2qa_val_release.jsonl", 3115}};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        assert_non_null(shared_file(files[i].rel, p, sizeof p));
        assert_int_equal(vb_dataset_load(&d, files[i].k, p, NULL, NULL, 0), VB_OK);
        assert_int_equal(d.n, files[i].n);
        assert_int_equal(d.n_bad, 0);
        vb_dataset_free(&d);
    }
}

int main(void) {
    char p[1024];
    if (!shared_file("nextqa/val.csv", p, sizeof p)) {
        printf("SKIP: %s absent (conformance data, only in ../shared)\n", p);
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
