/* vlap.h — VLAP / ViLA (methods.md §5), one method of methods/method.h.
**
** T candidates (32; 8 for How2QA) -> ViT -> ln_vision (eps 1e-5) -> Frame-Prompter (ViLA FrameSelector: channel mean
** per token, S segments of T/S frames, fc1 -> LayerNorm(T/S) -> ReLU -> fc2 -> logits (S, T/S)) -> one frame per
** segment (argmax, or argmax of logits + Gumbel noise) -> InstructBLIP Q-Former per picked frame with the BERT ids of
** the QA prompt (left-truncated to 128) -> language_projection -> [S x 32 visual rows, no prefixes; T5 ids of the QA
** prompt, NOT truncated] -> greedy with repetition penalty 1.5 -> argmax of the processed step-1 logits over all five
** letter ids (also for 4- or 2-option datasets).  The Frame-Prompter arithmetic is engine/frame_prompter.h; Gumbel
** U values come from vb_frame_prompter_uniform(seed) (vlapbench's generator, not torch's: a seeded run replays the
** distribution of the reference's picks, not its draws) or are replayed from the caller.
*/
#ifndef VB_VLAP_H
#define VB_VLAP_H

#include "methods/method.h"

#include <stdint.h>

#define VB_VLAP_TEMPERATURE 0.01f /* Gumbel-softmax temperature at inference (hard-coded in ViLA's generate) */

/* The method "vlap" (harness/registry.c lists it). */
extern const struct vb_method_ops vb_vlap_ops;

#endif
