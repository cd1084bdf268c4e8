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

/* A window [*w0, *w1) of n_frames / 2 frames starting on an even frame that contains [f0, f1), drawn with next(ud)
** uniformly among vb_synth_event_windows'; the whole video when none exists. */
void vb_synth_event_window(uint64_t (*next)(void * ud), void * ud, int32_t n_frames, int32_t f0, int32_t f1,
                           int32_t * w0, int32_t * w1);

/* Every window of vb_synth_event_window for the event [f0, f1): writes their starts, ascending, to starts
** (n_frames / 4 + 2) and their length to *len, and returns how many (0: none exists; then starts[0] = 0 and *len =
** n_frames, the whole video). */
int32_t vb_synth_event_windows(int32_t n_frames, int32_t f0, int32_t f1, int32_t * starts, int32_t * len);

/* Event times, stratified (`synth --event-times stratified`, the demo's evaluation split): the card's frames
** [f0[i], f1[i]) for n_videos videos of n_frames frames, each n_frames / 16 long as vb_synth_event_place's.  With a
** permutation p of 0..N-1 and one offset r in [0, M) drawn from next(ud), M = n_frames - len + 1 possible starts,
** video i's start is floor((p(i) M + r) / N): a systematic sample (stratified, one common offset) of the starts.
** Each start is marginally uniform over 0..M-1 (as with vb_synth_event_place), and over the N videos the starts
** cover the video evenly: any stretch of c consecutive starts holds floor or ceil of c N / M videos.  f0, f1:
** (n_videos). */
void vb_synth_event_place_stratified(uint64_t (*next)(void * ud), void * ud, int32_t n_frames, int32_t n_videos,
                                     int32_t * f0, int32_t * f1);

/* Card colours, counterbalanced over the event times (stratified event times; after
** vb_synth_event_place_stratified): colour[i] in 0..3 (red, green, blue, yellow: synth.c's palette) for the videos
** whose cards are on frames [f0[i], f1[i]) of n_frames.  The videos are ordered by the hit pattern of uniform
** sampling over the whole video (vb_synth_uniform_hits; random order within a pattern) and take the colours of a
** cycle warm, cool, warm, cool (red / yellow and green / blue in random orders, random start) in turn, so each
** colour is marginally uniform and independent of the card's time, and among the videos of any hit pattern every
** colour has floor or ceil of its quarter and warm (VLEP's answer "warm-coloured") floor or ceil of half: a model
** that answers one fixed guess when it does not see the card gains, with more frames, its expected share of the
** videos whose card it now sees, whatever that guess.  f0, f1, colour: (n_videos). */
void vb_synth_event_colours_stratified(uint64_t (*next)(void * ud), void * ud, int32_t n_frames, int32_t n_videos,
                                       const int32_t * f0, const int32_t * f1, int32_t * colour);

/* Which uniform runs see the event [f0, f1) in the frame range [s0, s1) of a video of n_frames frames: bit 0 set when
** a uniform_midbin sample of 1 frame of the range (datasets/sampling.h, as the runner samples) holds a card frame,
** bit 1 for 2 frames, bit 2 for 4 frames.  Pure. */
int32_t vb_synth_uniform_hits(int32_t n_frames, int32_t s0, int32_t s1, int32_t f0, int32_t f1);

/* How2QA-style windows, stratified: for n_q questions on events [f0[j], f1[j]) picks a window [w0[j], w1[j]) among
** vb_synth_event_windows' such that each question's window is marginally uniform among its own (as with
** vb_synth_event_window), while the number of questions whose window puts the event where uniform sampling of 1, 2
** or 4 frames of the window sees it (vb_synth_uniform_hits' pattern) tracks its expectation: one randomized
** systematic sample (random order, one uniform start; Madow's design) per hit pattern, then a uniform window among
** those of the question's pattern.  f0, f1, w0, w1: (n_q). */
void vb_synth_event_windows_stratified(uint64_t (*next)(void * ud), void * ud, int32_t n_frames, int32_t n_q,
                                       const int32_t * f0, const int32_t * f1, int32_t * w0, int32_t * w1);

#endif
