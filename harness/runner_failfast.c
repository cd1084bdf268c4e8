/* runner_failfast.c — fail fast (docs/runner.md §6): a run whose first VB_RUN_FAIL_FAST samples all failed the same
** way, on at least VB_RUN_FAIL_FAST_VIDEOS distinct videos, stops with the reason and the expected video path
** pattern, unless --keep-going.  The video count matters since the run goes video by video (runner_order.c): the
** questions of one missing or damaged video come one after the other and fail alike, which says nothing about the
** other videos; the same failure on five different videos does.  The count is over the run's
** samples, not a session's: the samples an earlier session stored count first (vb_runner_fail_fast_stored), then
** each sample this session processes (vb_runner_fail_fast).  A sample counts when all its rows are error rows of
** one kind (vb_runner_error_kind); any ok row, another kind of failure or a sample with mixed failures ends the
** check for the run. */
#include "base/common.h"
#include "harness/runner_internal.h"

#include <stdlib.h>
#include <string.h>

/* Append s[0..n) to out (size cap, used o); returns the new length (never past cap - 1). */
static size_t put(char * out, size_t cap, size_t o, const char * s, size_t n) {
    if (o + 1 >= cap) return o;
    if (n > cap - 1 - o) n = cap - 1 - o;
    memcpy(out + o, s, n);
    out[o + n] = 0;
    return o + n;
}

/* 1 for the bytes that end a path token in a message ("PATH: reason", "PATH, ...", "(PATH)"). */
static int token_end(char c) {
    return !c || c == ' ' || c == '\t' || c == '\n' || c == ':' || c == ',' || c == ';' || c == ')' || c == '\'' ||
           c == '"';
}

void vb_runner_error_kind(const char * msg, const char * video, const char * video_id, char * out, size_t n) {
    /* 1. every occurrence of the sample's current video path */
    char   tmp[1024];
    size_t L = video && *video ? strlen(video) : 0, o = 0;
    tmp[0] = 0;
    for (const char * p = msg; *p;) {
        if (L && !strncmp(p, video, L)) {
            o = put(tmp, sizeof tmp, o, "<video>", 7);
            p += L;
        } else
            o = put(tmp, sizeof tmp, o, p++, 1);
    }
    /* 2. a path token that still holds the video id (a row stored under another --videos root) */
    size_t I = video_id && strlen(video_id) >= 4 ? strlen(video_id) : 0; /* shorter ids: too many false hits */
    o = 0;
    out[0] = 0;
    for (const char * p = tmp; *p;) {
        const char * hit = I ? strstr(p, video_id) : NULL;
        if (!hit) {
            o = put(out, n, o, p, strlen(p));
            break;
        }
        const char *b = hit, *e = hit + I;
        while (b > p && !token_end(b[-1]) && b[-1] != '(')
            b--;
        while (!token_end(*e))
            e++;
        o = put(out, n, o, p, (size_t)(b - p));
        o = put(out, n, o, "<video>", 7);
        p = e;
    }
}

/* Count the current sample's video (R->cur_video, else R->cur_video_id: vb_runner_video_of) among the distinct
** videos of the check (exact up to VB_RUN_FAIL_FAST of them). */
static void count_video(struct vb_runner * R) {
    uint64_t h = vb_fnv1a64(R->cur_video[0] ? R->cur_video : R->cur_video_id);
    for (int32_t i = 0; i < R->ff_n_videos; i++)
        if (R->ff_videos[i] == h) return;
    if (R->ff_n_videos < VB_RUN_FAIL_FAST) R->ff_videos[R->ff_n_videos++] = h;
}

/* Count the current sample (R->cur_*) into the run's check.  Returns 1 when the run must stop. */
static int count_sample(struct vb_runner * R) {
    if (R->ff_broken) return 0;
    if (R->cur_ok || R->cur_mixed || !R->cur_sig[0] || (R->ff_n > 0 && strcmp(R->cur_sig, R->ff_sig))) {
        R->ff_broken = 1;
        return 0;
    }
    if (R->ff_n++ == 0) snprintf(R->ff_sig, sizeof R->ff_sig, "%s", R->cur_sig);
    count_video(R);
    return R->ff_n >= VB_RUN_FAIL_FAST && R->ff_n_videos >= VB_RUN_FAIL_FAST_VIDEOS && !R->c->keep_going;
}

/* The stop: reason, expected path and pattern (the video id replaced by <video_id>), what to do. */
static int stop(struct vb_runner * R, const char * when) {
    char        pat[1200];
    const char *v = R->cur_video, *hit = R->cur_video_id[0] ? strstr(v, R->cur_video_id) : NULL;
    if (hit)
        snprintf(pat, sizeof pat, "%.*s<video_id>%s", (int)(hit - v), v, hit + strlen(R->cur_video_id));
    else
        snprintf(pat, sizeof pat, "%s", v[0] ? v : "(no video path: give --videos)");
    return vb_fail(strstr(R->cur_sig, "<video>") ? VB_ERR_VIDEO : VB_ERR_FORMAT,
                   "stopped%s: the first %d samples all failed the same way, on %d video%s: %s\n"
                   "  expected video paths like %s (e.g. %s; --videos %s; layouts in docs/datasets.md)\n"
                   "  fix the cause and re-run with --retry-errors (their error rows are stored), or --keep-going to "
                   "run on regardless",
                   when, R->ff_n, R->ff_n_videos, R->ff_n_videos == 1 ? "" : "s", R->cur_msg, pat, v[0] ? v : "-",
                   R->c->videos ? R->c->videos : "(not given)");
}

int vb_runner_fail_fast(struct vb_runner * R) {
    return count_sample(R) ? stop(R, "") : VB_OK;
}

/* The stored row of key in rows (sorted by key), or NULL. */
static const struct vb_store_row * find_row(const struct vb_store_rows * rows, const char * key) {
    int32_t lo = 0, hi = rows->n - 1;
    while (lo <= hi) {
        int32_t mid = lo + (hi - lo) / 2;
        int     c = strcmp(rows->r[mid].key, key);
        if (!c) return &rows->r[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return NULL;
}

int vb_runner_fail_fast_stored(struct vb_runner * R) {
    int any_resumed = 0;
    for (int32_t i = 0; i < R->n_cells; i++)
        any_resumed |= R->cells[i].resumed;
    if (!any_resumed) return VB_OK;
    struct vb_store_rows * rows = vb_calloc((size_t)R->n_cells, sizeof *rows);
    int                    rc = VB_OK, halt = 0;
    for (int32_t i = 0; i < R->n_cells && rc == VB_OK; i++)
        if (R->cells[i].resumed) rc = vb_store_load_samples(R->st, R->cells[i].run_id, &rows[i]);
    /* this process's samples in the run's order; those with a pending cell are counted when the loop runs them */
    for (int32_t j = 0; rc == VB_OK && j < R->n_mine && !R->ff_broken && !halt; j++) {
        const struct vb_sample * s = &R->ds.s[R->sel[j]];
        const int *              pj = R->pending + (size_t)j * R->n_cells;
        int                      stored = 0, pending = 0;
        R->cur_ok = R->cur_mixed = 0;
        R->cur_sig[0] = R->cur_msg[0] = 0;
        for (int32_t i = 0; i < R->n_cells; i++) {
            pending |= pj[i];
            const struct vb_store_row * w = pj[i] ? NULL : find_row(&rows[i], s->key);
            if (!w) continue;
            stored = 1;
            if (strcmp(w->status, "error")) {
                R->cur_ok = 1;
                continue;
            }
            char kind[512];
            vb_runner_error_kind(w->error ? w->error : "error", s->video_path, s->video_id, kind, sizeof kind);
            if (!R->cur_sig[0]) {
                snprintf(R->cur_sig, sizeof R->cur_sig, "%s", kind);
                snprintf(R->cur_msg, sizeof R->cur_msg, "%s", w->error ? w->error : "error");
            } else if (strcmp(R->cur_sig, kind))
                R->cur_mixed = 1;
        }
        if (!stored || pending) continue;
        snprintf(R->cur_video, sizeof R->cur_video, "%s", s->video_path ? s->video_path : "");
        snprintf(R->cur_video_id, sizeof R->cur_video_id, "%s", s->video_id ? s->video_id : "");
        halt = count_sample(R);
    }
    for (int32_t i = 0; i < R->n_cells; i++)
        vb_store_rows_free(&rows[i]);
    free(rows);
    if (rc == VB_OK && halt) rc = stop(R, " at once (the samples were stored by earlier sessions of this run)");
    return rc;
}
