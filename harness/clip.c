/* clip.c — sample -> pixels (see clip.h). */
#include "harness/clip.h"

#include "base/common.h"

#include <stdlib.h>
#include <string.h>

int vb_clip_open(struct vb_clip * c, const char * path, int32_t H, enum vb_video_interp interp, double start_s,
                 double end_s) {
    memset(c, 0, sizeof *c);
    c->H = H;
    c->f0 = c->f1 = -1;
    struct vb_video_opts vo;
    vb_video_opts_default(&vo);
    vo.out_w = vo.out_h = H;
    vo.interp = interp;
    int64_t t0 = vb_time_us();
    int     rc = vb_video_open(&c->vid, path, &vo);
    c->t_open_us = vb_time_us() - t0;
    if (rc == VB_OK) rc = vb_video_segment_frames(&c->vid, start_s, end_s, &c->f0, &c->f1);
    return rc;
}

void vb_clip_close(struct vb_clip * c) {
    vb_video_close(&c->vid);
    free(c->fr);
    free(c->ok);
    free(c->err);
    free(c->px);
    c->fr = NULL;
    c->ok = NULL;
    c->err = NULL;
    c->px = NULL;
    c->n = 0;
}

int vb_clip_frames(const struct vb_clip * c, enum vb_sampling_policy policy, int32_t n, int64_t * idx, char * err,
                   size_t n_err) {
    int32_t got = vb_sampling_indices(policy, c->f0, c->f1, c->vid.n_frames, n, idx);
    if (got < 0)
        snprintf(err, n_err, "%s: sampling: %s", c->vid.path, vb_errmsg());
    else if (got < n)
        snprintf(err, n_err, "%s: %d frame(s) in [%lld, %lld), fewer than the %d the method needs", c->vid.path, got,
                 (long long)c->f0, (long long)c->f1, n);
    else
        return VB_OK;
    return vb_fail(VB_ERR_VIDEO, "%s", err);
}

static int cmp_i64(const void * a, const void * b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int32_t vb_clip_unique(int64_t * v, int32_t n) {
    if (n > 0) qsort(v, (size_t)n, sizeof(int64_t), cmp_i64);
    int32_t nu = 0;
    for (int32_t i = 0; i < n; i++)
        if (nu == 0 || v[i] != v[nu - 1]) v[nu++] = v[i];
    return nu;
}

int32_t vb_clip_decode(struct vb_clip * c, const int64_t * idx, int32_t n) {
    size_t fpx = (size_t)3 * (size_t)c->H * (size_t)c->H;
    size_t nn = (size_t)(n > 0 ? n : 1);
    free(c->fr);
    free(c->ok);
    free(c->err);
    free(c->px);
    c->n = n;
    c->fr = vb_calloc(nn, sizeof *c->fr);
    c->ok = vb_calloc(nn, sizeof *c->ok);
    c->err = vb_calloc(nn, sizeof *c->err);
    c->px = vb_malloc(sizeof(float) * fpx * nn);
    uint8_t * rgb = vb_malloc((size_t)c->H * (size_t)c->H * 3);
    int32_t   n_ok = 0;
    for (int32_t i = 0; i < n; i++) {
        c->fr[i].idx = idx[i];
        int64_t t0 = vb_time_us();
        int     drc = vb_video_read_frames(&c->vid, &idx[i], 1, rgb, NULL, NULL);
        int64_t t1 = vb_time_us();
        c->fr[i].t_decode_us = t1 - t0;
        if (drc != VB_OK) {
            snprintf(c->err[i], sizeof c->err[i], "%s", vb_errmsg());
            continue;
        }
        vb_video_normalize_clip(rgb, c->H, c->H, c->px + (size_t)i * fpx);
        c->fr[i].t_pre_us = vb_time_us() - t1;
        c->ok[i] = 1;
        n_ok++;
    }
    free(rgb);
    return n_ok;
}

static int32_t find_frame(const struct vb_clip * c, int64_t idx) {
    int32_t lo = 0, hi = c->n - 1;
    while (lo <= hi) {
        int32_t mid = (lo + hi) / 2;
        if (c->fr[mid].idx == idx) return mid;
        if (c->fr[mid].idx < idx)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

int vb_clip_pixels(const struct vb_clip * c, const int64_t * idx, int32_t n, float * out, int64_t * decode_us,
                   int64_t * pre_us, char * err, size_t n_err) {
    size_t fpx = (size_t)3 * (size_t)c->H * (size_t)c->H;
    for (int32_t j = 0; j < n; j++) {
        int32_t u = find_frame(c, idx[j]);
        if (u < 0 || !c->ok[u]) {
            snprintf(err, n_err, "%s", u < 0 ? "frame not decoded" : c->err[u]);
            return vb_fail(VB_ERR_VIDEO, "%s", err);
        }
        memcpy(out + (size_t)j * fpx, c->px + (size_t)u * fpx, sizeof(float) * fpx);
    }
    if (vb_charge_clip(c->fr, c->n, idx, n, c->t_open_us, decode_us, pre_us) != 0)
        return vb_fail(VB_ERR_VIDEO, "frame not decoded");
    return VB_OK;
}
