/* synth_verify.c — `vlapbench synth --verify`: end-to-end check of a benchmark written by vb_synth_benchmark
** (synth.h): every annotation file through the real loaders, the frames decoded, the labelled answers read back from
** the pixels. */
#include "base/common.h"
#include "datasets/dataset.h"
#include "datasets/sampling.h"
#include "datasets/synth.h"
#include "datasets/video.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* 1 if text contains word (case-insensitive) delimited by non-alphanumerics */
static int has_word(const char * text, const char * word) {
    size_t n = strlen(word);
    for (const char * p = text; *p; p++) {
        if (strncasecmp(p, word, n) != 0) continue;
        int before = p == text || !isalnum((unsigned char)p[-1]);
        int after = !isalnum((unsigned char)p[n]);
        if (before && after) return 1;
    }
    return 0;
}

int vb_synth_verify(const char * dir, FILE * log, int32_t * n_samples) {
    static const struct {
        enum vb_dataset_kind kind;
        const char *         ann, *map, *videos;
    } F[] = {
        {VB_DS_NEXTQA, "nextqa/val.csv", "nextqa/map_vid_vidorID.json", "nextqa/videos"},
        {VB_DS_STAR, "star/STAR_val.json", NULL, "star/videos"},
        {VB_DS_VLEP, "vlep/vlep_dev_release.jsonl", NULL, "vlep/videos"},
        {VB_DS_HOW2QA, "how2qa/how2QA_val_release.csv", NULL, "how2qa/raw_videos"},
        {VB_DS_HOW2QA_VALUE, "how2qa/how2qa_val_release.jsonl", "how2qa/how2_vid_mapping.json", "how2qa/videos"},
        {VB_DS_SEVILA, "sevila/nextqa/val.json", NULL, "nextqa/videos"},
        {VB_DS_SEVILA, "sevila/star/val.json", NULL, "star/videos"},
        {VB_DS_SEVILA, "sevila/vlep/val.json", NULL, "vlep/videos"},
        {VB_DS_SEVILA, "sevila/how2qa/val.json", NULL, "how2qa/videos"},
    };
    int32_t total = 0;
    int     rc = VB_OK;
    enum { N = 8 };
    uint8_t * px = vb_malloc((size_t)N * 224 * 224 * 3);
    for (size_t f = 0; f < sizeof F / sizeof F[0] && rc == VB_OK; f++) {
        char ann[4096], map[4096], vid[4096];
        snprintf(ann, sizeof ann, "%s/%s", dir, F[f].ann);
        if (F[f].map) snprintf(map, sizeof map, "%s/%s", dir, F[f].map);
        snprintf(vid, sizeof vid, "%s/%s", dir, F[f].videos);
        struct vb_dataset d;
        rc = vb_dataset_load(&d, F[f].kind, ann, F[f].map ? map : NULL, vid, 0);
        if (rc != VB_OK) break;
        for (int32_t i = 0; i < d.n && rc == VB_OK; i++) {
            const struct vb_sample * s = &d.s[i];
            struct vb_video          v;
            if (!s->video_path) {
                rc = vb_fail(VB_ERR_MISMATCH, "%s: sample %s: no video path", ann, s->key);
                break;
            }
            rc = vb_video_open(&v, s->video_path, NULL);
            if (rc != VB_OK) {
                vb_fail_prefix(rc, "%s: sample %s", ann, s->key);
                break;
            }
            int64_t f0, f1, idx[N];
            rc = vb_video_segment_frames(&v, s->start_s, s->end_s, &f0, &f1);
            int32_t n = rc == VB_OK ? vb_sampling_indices(VB_SAMPLING_UNIFORM_MIDBIN, f0, f1, v.n_frames, N, idx) : rc;
            if (n < 0) rc = vb_fail_prefix(n, "%s: sample %s", ann, s->key);
            if (rc == VB_OK) rc = vb_video_read_frames(&v, idx, n, px, NULL, NULL);
            for (int32_t k = 0; k < n && rc == VB_OK; k++) {
                int32_t code = vb_synth_read_index(px + (size_t)k * 224 * 224 * 3, 224, 224);
                if (code != idx[k])
                    rc = vb_fail(VB_ERR_MISMATCH, "%s: sample %s: frame %lld of %s shows %d", ann, s->key,
                                 (long long)idx[k], s->video_path, code);
            }
            const char * colour = rc == VB_OK ? vb_synth_read_square(px, 224, 224) : NULL;
            vb_video_close(&v);
            if (rc != VB_OK) break;
            if (s->answer < 0 || s->answer >= s->n_options) {
                rc = vb_fail(VB_ERR_MISMATCH, "%s: sample %s: no labelled answer", ann, s->key);
                break;
            }
            const char * ans = s->options[s->answer];
            const char * q = s->question ? s->question : "";
            const char * fr = strstr(q, "frame ");
            int          is_colour = strstr(q, "color") != NULL || (!s->question && strstr(ans, "square"));
            if (is_colour) {
                if (!colour || !has_word(ans, colour))
                    rc = vb_fail(VB_ERR_MISMATCH, "%s: sample %s: answer '%s' but the square is %s", ann, s->key, ans,
                                 colour ? colour : "unreadable");
            } else if (fr) { /* "what number is shown in frame K": the answer names K */
                char kbuf[24];
                snprintf(kbuf, sizeof kbuf, "%lld", (long long)strtoll(fr + 6, NULL, 10));
                if (!has_word(ans, kbuf))
                    rc = vb_fail(VB_ERR_MISMATCH, "%s: sample %s: answer '%s' does not name frame %s", ann, s->key, ans,
                                 kbuf);
            }
            total++;
        }
        if (log && rc == VB_OK) fprintf(log, "synth verify: %s: %d samples ok\n", ann, d.n);
        vb_dataset_free(&d);
    }
    free(px);
    if (n_samples) *n_samples = total;
    return rc;
}
