/* generate.h — greedy decoding as Hugging Face transformers 4.35.2 GenerationMixin.greedy_search does it for an
** encoder-decoder (num_beams 1, do_sample False), with the per-step scores.
**
** Rows of a batch are independent T5 contexts (each already holds its encoder output, see vb_t5_encode); they are
** stepped together so the batch semantics of HF hold: every row starts from decoder_start_token_id; at step s each
** unfinished row feeds its last token; raw logits -> optional repetition penalty -> "processed" scores -> argmax
** (first maximum); a row that has emitted eos is finished and from then on emits pad_id (its logits are still
** computed on the padded input, as HF does, unless skip_finished); generation stops when every row is finished or
** after max_new_tokens steps.
**
** Repetition penalty (HF RepetitionPenaltyLogitsProcessor): for every id already in the row's decoder input
** (start token included), a positive logit is divided by the penalty, a negative one multiplied.  1.0 = off.
*/
#ifndef VB_GENERATE_H
#define VB_GENERATE_H

#include "engine/t5.h"

#include <stdint.h>

struct vb_gen_opts {
    int32_t max_new_tokens;     /* steps at most (HF max_new_tokens); "minimal" readouts use 1 or 2 */
    float   repetition_penalty; /* 1.0 = off */
    int32_t run_all_steps;      /* 1: do not stop early when every row is finished (e.g. always compute step 1) */
    int32_t skip_finished;      /* 1: do not compute finished rows (their scores are left as 0); 0: HF behaviour */
    struct vb_t5_batch * batch; /* nullable: step all rows through one set of GEMMs (vb_t5_decode_batch); needs
                                   max_rows and max_logit_rows >= n_rows.  NULL: one row after the other. */
};

/* Default options: max_new_tokens 30, penalty 1.0, HF stopping, no batch workspace. */
void vb_gen_opts_default(struct vb_gen_opts * o);

/* Greedy decoding of n_rows sequences.  ctx[r] must hold an encoder output; its decoder cache is reset here and
** must have max_dec >= max_new_tokens.  Outputs (caller-owned, nullable except ids):
**   ids    (n_rows, 1 + max_new_tokens): ids[r][0] = decoder start, then the chosen tokens; unused tail = pad;
**   scores (max_new_tokens, n_rows, vocab): processed scores of each step (what HF returns as `scores`);
**   raw    (max_new_tokens, n_rows, vocab): logits before the penalty.
** The number of steps run is returned in *n_steps.  No allocation per step (more than 256 rows: small per-row
** bookkeeping arrays once per call): logits go straight into scores/raw, into opts->batch->logits, or into `work`
** (n_rows * vocab floats; required when scores is NULL).
** Returns VB_OK, or the error of a decoder step (VB_ERR_ARG: bad options). */
int vb_generate_greedy(struct vb_t5_ctx ** ctx, int32_t n_rows, const struct vb_gen_opts * opts, int32_t * ids,
                       float * scores, float * raw, float * work, int32_t * n_steps);

/* Apply HF's repetition penalty in place to logits (vocab) given the decoder input ids (n). */
void vb_gen_repetition_penalty(float * logits, int32_t vocab, const int32_t * prev_ids, int64_t n, float penalty);

/* Index of the first maximum of x (n), as torch.argmax. */
int32_t vb_gen_argmax(const float * x, int32_t n);

#endif
