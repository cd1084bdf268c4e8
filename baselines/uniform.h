/* uniform.h — uniform BLIP-2 ("BLIP-2 concat", docs/methods.md §3), and the answerer it shares with SeViLA.
**
** The method runs through the object of vlap/method.h (kind VB_METHOD_UNIFORM): k frames chosen by uniform_midbin
** by the caller, ViT -> ln_vision (eps 1e-5) -> BLIP-2 Q-Former (queries only) -> language_projection per frame;
** encoder input ["Frame 1: " (4 ids, padded to the longest prefix with pad 0 / mask 0); 32 query rows; ...;
** "Frame k: "; 32 rows; QA prompt ids (right-truncated to 77 incl. </s>)]; greedy step 0, step 1 on [0, t0];
** prediction = argmax of the step-1 logits over the first num_option letter ids.  The "i" of "Frame i: " is the
** position among the k frames.
**
** Nothing is exported here besides the header contract: the code lives in baselines/uniform.c behind
** vb_method_answer(); this header exists to document the method in the module that owns it.
*/
#ifndef VB_UNIFORM_H
#define VB_UNIFORM_H

#include "vlap/method.h"

/* Frame-prefix ids of "Frame 1: " .. "Frame k: " (no </s>), padded with pad_id to the longest: ids (k, *P) and
** mask (k, *P) (1 = real) malloc'd for the caller; *P = longest prefix.  Returns VB_OK or the tokenizer's error. */
int vb_uniform_prefix_ids(const struct vb_bundle * b, int32_t k, int32_t ** ids, uint8_t ** mask, int32_t * P);

#endif
