/* synth_task.h — the "event" task of `vlapbench synth --task event` (the trained demo's benchmark).
**
** Each video is n frames (default 32 at 8 fps) of grey moving texture with one short event: a colour card shown
** on frames [event_f0, event_f1), n / 16 frames long, at a position drawn from the seed (large and centred on
** the first frame, smaller and shifted on the later ones).  Every question asks the
** card's colour (red, green, blue or yellow), so frame choice decides the answer.  The options come in a fixed
** order (red, green, blue, yellow, plus purple for 5 options; VLEP: warm- or cool-coloured), so the answer letter
** is a function of the colour: the demo's 2-layer, width-64 T5 did not learn to match a colour against shuffled
** options in the minutes of training it gets; the task tests frame choice, not option matching.  A uniform sample
** of k frames rarely sees the card, a selector that recognises it from the pixels always can.  NExT-QA, STAR and
** VLEP questions cover the whole video; How2QA questions carry a segment of half the video that contains the card
** (its 8 candidates then see exactly one card frame).
*/
#ifndef VB_SYNTH_TASK_H
#define VB_SYNTH_TASK_H

#include "datasets/synth.h"

#include <stdint.h>

/* Draw frame i of an event-task video as RGB24 into rgb (h, w, 3): the card (colour s->card_rgb) when
** s->event_f0 <= i < s->event_f1, else a grey distractor.  Pure; caller owns rgb. */
void vb_synth_draw_event_frame(uint8_t * rgb, int32_t w, int32_t h, int32_t i, const struct vb_synth_video_spec * s);

/* The card's frames [*f0, *f1) in a video of n_frames >= 1: n_frames / 16 frames (at least 1), starting at
** next(ud) modulo the possible starts. */
void vb_synth_event_place(uint64_t (*next)(void * ud), void * ud, int32_t n_frames, int32_t * f0, int32_t * f1);

/* A window [*w0, *w1) of n_frames / 2 frames starting on an even frame that contains [f0, f1), drawn with next(ud);
** the whole video when none exists. */
void vb_synth_event_window(uint64_t (*next)(void * ud), void * ud, int32_t n_frames, int32_t f0, int32_t f1,
                           int32_t * w0, int32_t * w1);

#endif
