/* synth_task.c — the "event" task of the synthetic benchmark: videos where one short card decides the answer. */
#include "datasets/synth_task.h"

#include <stdio.h>
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

void vb_synth_event_window(uint64_t (*next)(void * ud), void * ud, int32_t n_frames, int32_t f0, int32_t f1,
                           int32_t * w0, int32_t * w1) {
    /* half of the video, starting on an even frame, containing [f0, f1) */
    int32_t half = n_frames / 2, lo = f1 - half, hi = f0;
    if (lo < 0) lo = 0;
    if (hi > n_frames - half) hi = n_frames - half;
    lo = (lo + 1) & ~1;
    hi &= ~1;
    if (hi < lo) { /* cannot happen for n_frames >= 4 with an event of n/16 frames; fall back to the whole video */
        *w0 = 0;
        *w1 = n_frames;
        return;
    }
    int32_t steps = (hi - lo) / 2 + 1;
    *w0 = lo + 2 * (int32_t)(next(ud) % (uint64_t)steps);
    *w1 = *w0 + half;
}
