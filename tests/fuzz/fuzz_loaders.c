/* fuzz_loaders.c — libFuzzer harness for the annotation loaders (datasets/): byte 0 picks the format (NExT-QA CSV,
** STAR JSON, VLEP JSONL, raw How2QA CSV, How2QA VALUE JSONL, SeViLA JSON; bit 3 skip_bad, bit 4 a videos root, bit 5
** the file named as a test split instead of val), the rest is the annotation file.  A load that succeeds must give
** samples the rest of the program can trust: valid UTF-8 text, 2..5 options, an answer in range or -1, a video id
** confined to the videos directory; a failure must set a message naming the file. */
#include "tests/fuzz/fuzz_common.h"

#include "datasets/dataset.h"
#include "datasets/loaders_internal.h"

static const char * NAMES[VB_DS_COUNT] = {"nq_val.csv",  "star_val.json",  "vlep_val.jsonl",
                                          "h2q_val.csv", "h2qv_val.jsonl", "sevila_val.json"};

int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    fuzz_quiet();
    if (size < 1) return 0;
    enum vb_dataset_kind kind = (enum vb_dataset_kind)(data[0] % VB_DS_COUNT);
    int                  skip_bad = (data[0] >> 3) & 1;
    const char *         root = (data[0] >> 4) & 1 ? "/videos" : NULL;
    char                 name[64];
    snprintf(name, sizeof name, "%s", NAMES[kind]);
    if ((data[0] >> 5) & 1) memcpy(strstr(name, "val"), "tst", 3); /* split "unknown" */
    const char *      p = fuzz_file(name, data + 1, size - 1);
    struct vb_dataset d;
    int               st = vb_dataset_load(&d, kind, p, NULL, root, skip_bad);
    if (st != VB_OK) {
        if (!strstr(vb_errmsg(), p)) abort(); /* the file is named */
        return 0;
    }
    for (int32_t i = 0; i < d.n; i++) {
        const struct vb_sample * s = &d.s[i];
        if (s->n_options < 2 || s->n_options > VB_MAX_OPTIONS) abort();
        if (s->answer < -1 || s->answer >= s->n_options) abort();
        if (!s->key || !vb_ld_utf8_ok(s->key) || (s->question && !vb_ld_utf8_ok(s->question))) abort();
        for (int k = 0; k < s->n_options; k++)
            if (!s->options[k] || !vb_ld_utf8_ok(s->options[k])) abort();
        if (!s->video_id || !vb_ld_video_id_ok(s->video_id)) abort();
        if (root && (!s->video_path || strstr(s->video_path, "/../"))) abort();
    }
    vb_dataset_free(&d);
    return 0;
}
