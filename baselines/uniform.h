/* uniform.h — uniform BLIP-2 ("BLIP-2 concat", methods.md §3).
**
** k frames chosen by uniform_midbin by the caller (the candidates are the k frames), ViT -> ln_vision (eps 1e-5) ->
** BLIP-2 Q-Former (queries only) -> language_projection per frame; encoder input ["Frame 1: " (4 ids, padded to the
** longest prefix with pad 0 / mask 0); 32 query rows; ...; "Frame k: "; 32 rows; QA prompt ids (right-truncated to
** 77 incl. </s>)]; greedy step 0, step 1 on [0, t0]; prediction = argmax of the step-1 logits over the first
** num_option letter ids.  The "i" of "Frame i: " is the position among the k frames.  The answering steps are the
** shared BLIP-2 answerer (methods/answerer.h); this module is the method's ops table.
*/
#ifndef VB_UNIFORM_H
#define VB_UNIFORM_H

#include "methods/method.h"

/* The method "uniform" (harness/registry.c lists it). */
extern const struct vb_method_ops vb_uniform_ops;

#endif
