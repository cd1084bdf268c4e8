/* sevila.h — SeViLA (localizer + answerer, docs/methods.md §4), run through vlap/method.h (kind VB_METHOD_SEVILA).
**
** Localizer, per candidate frame f of T (32): ln_vision_loc (localizer.vision_layernorm, eps = ln_vision_eps, on the
** ViT BODY output) -> localizer Q-Former (own query tokens, no text) -> localizer.language_projection; encoder input
** ["Frame: " (3 ids, no </s>); Q rows; localizer prompt (right-truncated to 77 incl. </s>)]; decoder step 0; score =
** the raw step-0 logit of "▁yes" (4273 in Flan-T5).  Top k by score (ties: lower index), then sorted ascending; the
** answerer (baselines/uniform.h) runs on ln_vision of those frames' ViT features (ViT run once).  As released, the
** localizer generates 30 tokens per frame (each frame a batch of one); minimal stops after step 0.
*/
#ifndef VB_SEVILA_H
#define VB_SEVILA_H

#include <stdint.h>

/* Top-k positions of scores (n): descending score, ties by lower index (order[0..k-1], the topk order), and the
** same positions sorted ascending (picked[0..k-1]).  k <= n. */
void vb_sevila_topk(const float * scores, int32_t n, int32_t k, int32_t * order, int32_t * picked);

#endif
