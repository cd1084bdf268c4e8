/* charge.h — the runner's time-charging arithmetic (docs/runner.md, the CHARGING RULE in harness/runner.c): what a
** cell's stored stage times are when work is shared between the cells of a sample.  Pure functions and one small
** memo; no I/O, no clock.
**
** Every stored time is the COLD cost of the cell (what answering that question with that method and k would cost
** alone): the video open time plus the decode time of each distinct frame of the cell, the preprocess time of every
** slot, the recorded ViT cost of every slot (computed now or taken from the cache), the measured selection time of a
** reusable selection result computed for another k, plus what the method measured itself.
*/
#ifndef VB_CHARGE_H
#define VB_CHARGE_H

#include "metrics/latency.h"

#include <stdint.h>

/* One decoded frame of the sample: its index and the times it took (advance the decoder to it; resize+normalise). */
struct vb_charge_frame {
    int64_t idx;
    int64_t t_decode_us, t_pre_us;
};

/* Cold decode and preprocess time of a cell whose slots show frames idx[0..n) (any order, repeats allowed) out of
** the sample's decoded frames fr[0..nf) (ascending idx, distinct): *decode_us = t_open_us + the decode time of each
** distinct frame, *pre_us = the preprocess time of every slot.  Returns -1 and leaves the outputs alone if a frame is
** not in fr, else 0. */
int vb_charge_clip(const struct vb_charge_frame * fr, int32_t nf, const int64_t * idx, int32_t n, int64_t t_open_us,
                   int64_t * decode_us, int64_t * pre_us);

/* What a method measured (its result's stage times, total included) and what shared work adds to it. */
struct vb_charge_in {
    int64_t decode_us, preprocess_us, vit_us, select_us, qformer_us, t5_enc_us, t5_dec_us, total_us;
    int64_t vit_shared_us;    /* recorded cost of the slots' ViT features (the cache's charge) */
    int64_t select_shared_us; /* measured time of a reused selection result, 0 when none was reused */
};

/* The stored stage times t_us[VB_STAGE_COUNT]: the measured ones, vit + vit_shared_us, select + select_shared_us,
** total + both (so total >= the sum of the stages whenever the measured total is). */
void vb_charge_stages(const struct vb_charge_in * in, int64_t t_us[VB_STAGE_COUNT]);

/* Selection results of one question, kept for the cells that can reuse them (same method, bundle and T). */
#define VB_CHARGE_MEMO_MAX 64
struct vb_select_memo_entry {
    const void * method; /* the method's ops */
    const void * bundle;
    int32_t      T;
    int64_t      cost_us; /* measured selection time of the result */
    float *      scores;  /* (T) owned */
};
struct vb_select_memo {
    int32_t                     n;
    struct vb_select_memo_entry e[VB_CHARGE_MEMO_MAX];
};

/* The entry for (method, bundle, T) or NULL. */
const struct vb_select_memo_entry * vb_select_memo_find(const struct vb_select_memo * m, const void * method,
                                                        const void * bundle, int32_t T);
/* Record a result (copy of scores (T)); ignored when the key is already there or the memo is full. */
void vb_select_memo_add(struct vb_select_memo * m, const void * method, const void * bundle, int32_t T,
                        const float * scores, int64_t cost_us);
/* Forget every entry (next question). */
void vb_select_memo_clear(struct vb_select_memo * m);

#endif
