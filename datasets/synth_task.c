/* synth_task.c — the "event" task of the synthetic benchmark: videos where one short card decides the answer. */
#include "datasets/synth_task.h"

#include "base/common.h"
#include "datasets/sampling.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Distractor frame: a grey moving texture (no colour at all) with a darker band sweeping across it.  Card frame: a
** near-white background with a rectangle of the card colour and a dark frame line around it: on the event's first
** frame a large one over the centre (60 % x 60 %), on its later frames a smaller one (40 % x 40 %) shifted towards
** the lower right, as if the card were leaving.  A card frame differs from every distractor in most of its pixels
** and in its chroma, so a selector that sees only pixels (through the ViT) can find it; the question asks the
** card's colour.  The two card frames differ visibly, so a selector can rank the first above the second by a clear
** margin instead of facing two near-identical frames (whose scores tie to float rounding). */
void vb_synth_draw_event_frame(uint8_t * rgb, int32_t w, int32_t h, int32_t i, const struct vb_synth_video_spec * s) {
    int card = i >= s->event_f0 && i < s->event_f1;
    int bx = (i * 7 * w / 32) % (w > 0 ? w : 1); /* band position */
    int x0 = w / 5, x1 = w - w / 5, y0 = h / 5, y1 = h - h / 5;
    if (card && i > s->event_f0) /* a later card frame: the smaller card, lower right */
        x0 = 2 * w / 5, x1 = w - w / 5, y0 = 2 * h / 5, y1 = h - h / 5;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t * px = rgb + ((size_t)y * (size_t)w + (size_t)x) * 3;
            int       r, g, b;
            if (card) {
                int inside = x >= x0 && x < x1 && y >= y0 && y < y1;
                int border = !inside && x >= x0 - 6 && x < x1 + 6 && y >= y0 - 6 && y < y1 + 6;
                if (inside)
                    r = s->card_rgb[0], g = s->card_rgb[1], b = s->card_rgb[2];
                else if (border)
                    r = g = b = 40;
                else
                    r = g = b = 235;
            } else {
                int m = ((x + 3 * i) * 5 + (y - 2 * i) * 3) % 256, v = 70 + (m < 128 ? m : 255 - m) / 2;
                int d = x - bx;
                if (d >= 0 && d < w / 8) v -= 40;
                r = g = b = v;
            }
            px[0] = (uint8_t)r, px[1] = (uint8_t)g, px[2] = (uint8_t)b;
        }
}

void vb_synth_event_place(uint64_t (*next)(void * ud), void * ud, int32_t n_frames, int32_t * f0, int32_t * f1) {
    int32_t len = n_frames / 16 > 0 ? n_frames / 16 : 1;
    if (len > n_frames) len = n_frames;
    *f0 = (int32_t)(next(ud) % (uint64_t)(n_frames - len + 1));
    *f1 = *f0 + len;
}

int32_t vb_synth_event_windows(int32_t n_frames, int32_t f0, int32_t f1, int32_t * starts, int32_t * len) {
    /* half of the video, starting on an even frame, containing [f0, f1) */
    int32_t half = n_frames / 2, lo = f1 - half, hi = f0;
    if (lo < 0) lo = 0;
    if (hi > n_frames - half) hi = n_frames - half;
    lo = (lo + 1) & ~1;
    hi &= ~1;
    if (hi < lo) { /* cannot happen for n_frames >= 4 with an event of n/16 frames; fall back to the whole video */
        starts[0] = 0;
        *len = n_frames;
        return 0;
    }
    int32_t n = 0;
    for (int32_t w = lo; w <= hi; w += 2)
        starts[n++] = w;
    *len = half;
    return n;
}

void vb_synth_event_window(uint64_t (*next)(void * ud), void * ud, int32_t n_frames, int32_t f0, int32_t f1,
                           int32_t * w0, int32_t * w1) {
    int32_t *starts = vb_malloc(sizeof *starts * (size_t)(n_frames / 4 + 2)), len = 0;
    int32_t  n = vb_synth_event_windows(n_frames, f0, f1, starts, &len);
    *w0 = n ? starts[next(ud) % (uint64_t)n] : 0;
    *w1 = *w0 + len;
    free(starts);
}

/* shuffle p (n) in place into a uniformly random order (Fisher-Yates) */
static void shuffle(uint64_t (*next)(void * ud), void * ud, int32_t * p, int32_t n) {
    for (int32_t i = n - 1; i > 0; i--) {
        int32_t j = (int32_t)(next(ud) % (uint64_t)(i + 1)), t = p[i];
        p[i] = p[j];
        p[j] = t;
    }
}

/* a uniformly random permutation of 0..n-1 into p (n) */
static void permute(uint64_t (*next)(void * ud), void * ud, int32_t * p, int32_t n) {
    for (int32_t i = 0; i < n; i++)
        p[i] = i;
    shuffle(next, ud, p, n);
}

void vb_synth_event_place_stratified(uint64_t (*next)(void * ud), void * ud, int32_t n_frames, int32_t n_videos,
                                     int32_t * f0, int32_t * f1) {
    int32_t len = n_frames / 16 > 0 ? n_frames / 16 : 1;
    if (len > n_frames) len = n_frames;
    int64_t   M = n_frames - len + 1, N = n_videos;
    int32_t * p = vb_malloc(sizeof *p * (size_t)n_videos);
    permute(next, ud, p, n_videos);
    /* x = p(i) M + r with one offset r uniform in [0, M) for all videos (a systematic sample of the N M points, one
    ** per stratum [p M, (p + 1) M)); f0 = x / N takes every value 0..M-1 from exactly N of the N M values of x, so
    ** each start is marginally uniform; and a stretch of starts [a, b) (x in [a N, b N)) holds floor or ceil of its
    ** expected share (b - a) N / M of the videos */
    int64_t r = (int64_t)(next(ud) % (uint64_t)M);
    for (int32_t i = 0; i < n_videos; i++) {
        int64_t x = (int64_t)p[i] * M + r;
        f0[i] = (int32_t)(x / N);
        f1[i] = f0[i] + len;
    }
    free(p);
}

void vb_synth_event_colours_stratified(uint64_t (*next)(void * ud), void * ud, int32_t n_frames, int32_t n_videos,
                                       const int32_t * f0, const int32_t * f1, int32_t * colour) {
    /* the cycle: warm, cool, warm, cool (VLEP's answer alternates), each colour once */
    int32_t warm[2] = {0, 3}, cool[2] = {1, 2}, cycle[4];
    shuffle(next, ud, warm, 2);
    shuffle(next, ud, cool, 2);
    for (int j = 0; j < 2; j++)
        cycle[2 * j] = warm[j], cycle[2 * j + 1] = cool[j];
    int32_t off = (int32_t)(next(ud) % 4);
    /* videos in a random order, then (stably) by uniform's hit pattern: each pattern's videos are consecutive */
    int32_t *ord = vb_malloc(sizeof *ord * (size_t)n_videos), *by = vb_malloc(sizeof *by * (size_t)n_videos);
    permute(next, ud, ord, n_videos);
    int32_t t = 0;
    for (int32_t m = 0; m < 8; m++)
        for (int32_t i = 0; i < n_videos; i++)
            if (vb_synth_uniform_hits(n_frames, 0, n_frames, f0[ord[i]], f1[ord[i]]) == m) by[t++] = ord[i];
    for (int32_t i = 0; i < n_videos; i++)
        colour[by[i]] = cycle[(i + off) % 4];
    free(ord);
    free(by);
}

int32_t vb_synth_uniform_hits(int32_t n_frames, int32_t s0, int32_t s1, int32_t f0, int32_t f1) {
    static const int32_t K[3] = {1, 2, 4};
    int32_t              mask = 0;
    for (int b = 0; b < 3; b++) {
        int64_t idx[4];
        int32_t n = vb_sampling_indices(VB_SAMPLING_UNIFORM_MIDBIN, s0, s1, n_frames, K[b], idx);
        for (int32_t j = 0; j < n; j++)
            if (idx[j] >= f0 && idx[j] < f1) mask |= 1 << b;
    }
    return mask;
}

void vb_synth_event_windows_stratified(uint64_t (*next)(void * ud), void * ud, int32_t n_frames, int32_t n_q,
                                       const int32_t * f0, const int32_t * f1, int32_t * w0, int32_t * w1) {
    int32_t   cap = n_frames / 4 + 2;
    int32_t * starts = vb_malloc(sizeof *starts * (size_t)n_q * (size_t)cap); /* (n_q, cap) */
    int32_t * pat = vb_malloc(sizeof *pat * (size_t)n_q * (size_t)cap);       /* (n_q, cap) hit pattern per window */
    int32_t * nw = vb_malloc(sizeof *nw * (size_t)n_q), *len = vb_malloc(sizeof *len * (size_t)n_q);
    int32_t * chosen = vb_malloc(sizeof *chosen * (size_t)n_q), *order = vb_malloc(sizeof *order * (size_t)n_q);
    for (int32_t j = 0; j < n_q; j++) {
        int32_t * st = starts + (size_t)j * (size_t)cap;
        nw[j] = vb_synth_event_windows(n_frames, f0[j], f1[j], st, &len[j]);
        if (!nw[j]) nw[j] = 1; /* the whole-video fallback: one window */
        for (int32_t w = 0; w < nw[j]; w++)
            pat[(size_t)j * (size_t)cap + (size_t)w] =
                vb_synth_uniform_hits(n_frames, st[w], st[w] + len[j], f0[j], f1[j]);
        chosen[j] = -1;
    }
    /* one randomized systematic pass per hit pattern m = 1..7 over the questions not yet assigned one: question j is
    ** given pattern m with probability (its windows with pattern m) / (its windows whose pattern is 0 or not yet
    ** passed), which makes P(pattern m) exactly its share of j's windows; a systematic sample (random order, one
    ** uniform start) selects floor or ceil of the sum of those probabilities.  The rest get pattern 0. */
    for (int32_t m = 1; m < 8; m++) {
        int32_t n = 0;
        for (int32_t j = 0; j < n_q; j++)
            if (chosen[j] < 0) order[n++] = j;
        shuffle(next, ud, order, n);
        double acc = (double)(next(ud) >> 11) * 0x1p-53;
        for (int32_t i = 0; i < n; i++) {
            int32_t j = order[i], cnt = 0, rem = 0;
            for (int32_t w = 0; w < nw[j]; w++) {
                int32_t pw = pat[(size_t)j * (size_t)cap + (size_t)w];
                cnt += pw == m;
                rem += pw == 0 || pw >= m;
            }
            if (!cnt) continue;
            double a0 = acc;
            acc += (double)cnt / rem;
            if (floor(acc) > floor(a0)) chosen[j] = m;
        }
    }
    for (int32_t j = 0; j < n_q; j++) {
        int32_t m = chosen[j] < 0 ? 0 : chosen[j], cnt = 0;
        for (int32_t w = 0; w < nw[j]; w++)
            cnt += pat[(size_t)j * (size_t)cap + (size_t)w] == m;
        int32_t pick = (int32_t)(next(ud) % (uint64_t)cnt);
        for (int32_t w = 0; w < nw[j]; w++)
            if (pat[(size_t)j * (size_t)cap + (size_t)w] == m && pick-- == 0) {
                w0[j] = starts[(size_t)j * (size_t)cap + (size_t)w];
                w1[j] = w0[j] + len[j];
                break;
            }
    }
    free(starts);
    free(pat);
    free(nw);
    free(len);
    free(chosen);
    free(order);
}
