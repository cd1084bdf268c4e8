/* vlap.h — VLAP / ViLA (methods.md §5), run through vlap/method.h (kind VB_METHOD_VLAP).
**
** T candidates (32; 8 for How2QA) -> ViT -> ln_vision (eps 1e-5) -> Frame-Prompter (ViLA FrameSelector: channel mean
** per token, S segments of T/S frames, fc1 -> LayerNorm(T/S) -> ReLU -> fc2 -> logits (S, T/S)) -> one frame per
** segment (argmax, or argmax of logits + Gumbel noise) -> InstructBLIP Q-Former per picked frame with the BERT ids of
** the QA prompt (left-truncated to 128) -> language_projection -> [S x 32 visual rows, no prefixes; T5 ids of the QA
** prompt, NOT truncated] -> greedy with repetition penalty 1.5 -> argmax of the processed step-1 logits over all five
** letter ids (also for 4- or 2-option datasets).
*/
#ifndef VB_VLAP_H
#define VB_VLAP_H

#include <stdint.h>

#define VB_VLAP_TEMPERATURE 0.01f /* Gumbel-softmax temperature at inference (hard-coded in ViLA's generate) */

/* Frame-Prompter logits (S, k) of T = S*k frames of ln_vision features ln (T, n_tok, d) with fc1 (k, k*n_tok), norm
** (k), fc2 (k, k) as in the bundle.  Intermediates, each nullable: gates (T, n_tok), seg_in (S, k*n_tok), fc1_out,
** norm_out, relu_out (S, k).  Pure computation, no allocation besides temporaries. */
struct vb_bundle;
void vb_vlap_frame_prompter(const struct vb_bundle * b, const float * ln, int32_t S, int32_t n_tok, int32_t d,
                            float * logits, float * gates, float * seg_in, float * fc1_out, float * norm_out,
                            float * relu_out);

/* Gumbel noise as ViLA draws it: g = -log(eps - log(U + eps)), eps 1e-10, in float32, for n values of U. */
void vb_vlap_gumbel_noise(const float * U, int32_t n, float * g);

/* n uniform values in [0, 1) (24-bit, like torch's float uniform_) from vlapbench's generator seeded with seed
** (xoshiro256** seeded by splitmix64). */
void vb_vlap_uniform(uint64_t seed, int32_t n, float * U);

#endif
