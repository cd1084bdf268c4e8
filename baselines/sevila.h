/* sevila.h — SeViLA (localizer + answerer, methods.md §4).
**
** Localizer, per candidate frame f of T (32): ln_vision_loc (localizer.vision_layernorm, eps = ln_vision_eps, on the
** ViT BODY output) -> localizer Q-Former (own query tokens, no text) -> localizer.language_projection; encoder input
** ["Frame: " (3 ids, no </s>); Q rows; localizer prompt (right-truncated to 77 incl. </s>)]; decoder step 0; score =
** the raw step-0 logit of "▁yes" (4273 in Flan-T5).  Top k by score (ties: lower index), then sorted ascending; the
** shared BLIP-2 answerer (methods/answerer.h, as uniform BLIP-2) runs on ln_vision of those frames' ViT features.
** As released, the localizer generates 30 tokens per frame (each frame a batch of one); minimal stops after step 0.
** The scores depend on the question and the candidates only: reusable across k (reusable_selection).
*/
#ifndef VB_SEVILA_H
#define VB_SEVILA_H

#include "methods/method.h"

#include <stdint.h>

/* The method "sevila" (harness/registry.c lists it). */
extern const struct vb_method_ops vb_sevila_ops;

/* Top-k positions of scores (n): descending score, ties by lower index (order[0..k-1], the topk order), and the
** same positions sorted ascending (picked[0..k-1]).  k <= n. */
void vb_sevila_topk(const float * scores, int32_t n, int32_t k, int32_t * order, int32_t * picked);

#endif
