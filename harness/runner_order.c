/* runner_order.c — the processing order of `vlapbench run` (docs/runner.md §4, "Order"): the selected samples
** grouped by video, so that a video's questions follow each other and the ViT feature cache (harness/vitcache.h,
** keyed by vision group, the hash of the video path and the frame index) still holds the video's frames when its
** next question comes.  NExT-QA's 32 candidates do not depend on the question, so its ViT is then paid once per
** video instead of once per question; STAR / How2QA questions of one video with the same window (and uniform frames
** at the same indices) share theirs.  The order chooses no sample and changes no result. */
#include "base/common.h"
#include "harness/runner_internal.h"

#include <stdlib.h>
#include <string.h>

const char * vb_runner_video_of(const struct vb_sample * s) {
    if (s->video_path && s->video_path[0]) return s->video_path;
    return s->video_id ? s->video_id : "";
}

struct pos {
    const char * video;
    int32_t      at;    /* position in the selection (file order) */
    int32_t      first; /* position of its video's first sample */
};

/* By video, then position: the samples of one video together, its first sample first. */
static int by_video(const void * a, const void * b) {
    const struct pos *x = a, *y = b;
    int               c = strcmp(x->video, y->video);
    return c ? c : (x->at > y->at) - (x->at < y->at);
}

/* By the video's first position, then position: the grouped order. */
static int by_first(const void * a, const void * b) {
    const struct pos *x = a, *y = b;
    if (x->first != y->first) return (x->first > y->first) - (x->first < y->first);
    return (x->at > y->at) - (x->at < y->at);
}

int32_t vb_runner_group_by_video(const struct vb_dataset * ds, int32_t * sel, int32_t n) {
    if (n <= 0) return 0;
    struct pos * p = vb_malloc(sizeof *p * (size_t)n);
    for (int32_t j = 0; j < n; j++)
        p[j] = (struct pos){.video = vb_runner_video_of(&ds->s[sel[j]]), .at = j, .first = j};
    qsort(p, (size_t)n, sizeof *p, by_video);
    int32_t n_videos = 0;
    for (int32_t j = 0, first = 0; j < n; j++) {
        if (j == 0 || strcmp(p[j].video, p[j - 1].video)) {
            first = p[j].at; /* the smallest position of this run: sorted by position within a video */
            n_videos++;
        }
        p[j].first = first;
    }
    qsort(p, (size_t)n, sizeof *p, by_first);
    int32_t * old = vb_malloc(sizeof(int32_t) * (size_t)n);
    memcpy(old, sel, sizeof(int32_t) * (size_t)n);
    for (int32_t j = 0; j < n; j++)
        sel[j] = old[p[j].at];
    free(old);
    free(p);
    return n_videos;
}
