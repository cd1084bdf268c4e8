/* frame_prompter.h — the VLAP / ViLA Frame-Prompter (ViLA `FrameSelector` + `GumbleSoftmax`, docs/methods.md §5.1).
**
** From the ViT features after ln_vision of T candidate frames, (b, T, N, D):
**   gates = mean over the D channels -> (b, T, N); viewed as (b, S, k*N) with k = T/S (segment s = frames s*k ..
**   s*k+k-1 one after another) -> fc1 Linear(k*N -> k) -> LayerNorm(k, eps 1e-5, biased variance) -> ReLU ->
**   fc2 Linear(k -> k) -> logits (b, S, k).  One frame is picked per segment: argmax (deterministic mode; ties: the
**   lowest index) or argmax(logits + g) with Gumbel noise g = -log(eps - log(U + eps)), eps = 1e-10, U ~ U[0, 1)
**   (as released; the temperature does not change the argmax, softmax((logits + g) / tau) is available for
**   completeness).  Selected frames s*k + local are ascending (temporal order).
**
** Weights "<prefix>fc1.weight" [k, k*N], "<prefix>fc1.bias" [k], "<prefix>norm.weight|bias" [k],
** "<prefix>fc2.weight" [k, k], "<prefix>fc2.bias" [k] (prefix "frame_prompter."; ViLA fs.conv_pool / fs.ln /
** fs.conv_gs).  All sizes come from the caller (config or cases.json), never constants.
*/
#ifndef VB_FRAME_PROMPTER_H
#define VB_FRAME_PROMPTER_H

#include "engine/weights.h"

#include <stdint.h>

#define VB_FRAME_PROMPTER_LN_EPS     1e-5f  /* ViLA nn.LayerNorm(k): torch default eps */
#define VB_FRAME_PROMPTER_GUMBEL_EPS 1e-10f /* ViLA GumbleSoftmax eps */

struct vb_frame_prompter {
    int32_t n_frames;   /* T candidate frames */
    int32_t n_segments; /* S, one pick per segment */
    int32_t n_tokens;   /* N tokens per frame (257 in the real model) */
    int32_t k;          /* T / S frames per segment */
    float * fc1_w;      /* (k, k*N) */
    float * fc1_b;      /* (k) */
    float * norm_w;     /* (k) */
    float * norm_b;     /* (k) */
    float * fc2_w;      /* (k, k) */
    float * fc2_b;      /* (k) */
};

/* Load the Frame-Prompter for T frames, S segments and N tokens per frame from `w` (tensor names above), shapes
** checked (VB_ERR_SHAPE / VB_ERR_NOTFOUND naming file and tensor).  T not a positive multiple of S or N < 1:
** VB_ERR_ARG.  *out: free with vb_frame_prompter_free; nothing allocated on failure. */
int  vb_frame_prompter_load(struct vb_frame_prompter ** out, const struct vb_weights * w, int32_t n_frames,
                            int32_t n_segments, int32_t n_tokens, const char * prefix);
void vb_frame_prompter_free(struct vb_frame_prompter * fp);

/* Logits of b videos.  features (b, T, N, D) with channel width D (any D >= 1).  Outputs caller-owned:
**   logits (b, S, k) required; gates (b, T, N) = segment_input (b, S, k*N) (the same memory order), fc1_out,
**   norm_out, relu_out (b, S, k) each nullable (intermediates for the golden checks).
** Scratch: if gates is NULL, `work` must hold b*T*N + 3*b*S*k floats, otherwise 3*b*S*k (work may be NULL only
** when gates, fc1_out, norm_out and relu_out are all given).  No allocation. */
void vb_frame_prompter_logits(const struct vb_frame_prompter * fp, const float * features, int32_t b, int64_t D,
                              float * logits, float * gates, float * fc1_out, float * norm_out, float * relu_out,
                              float * work);
/* Size in floats of `work` for vb_frame_prompter_logits with gates == NULL. */
int64_t vb_frame_prompter_work_size(const struct vb_frame_prompter * fp, int32_t b);

/* Gumbel noise g[i] = -log(eps - log(U[i] + eps)), eps = 1e-10, computed in float32 as ViLA does. */
void vb_frame_prompter_gumbel_noise(const float * U, int64_t n, float * g);

/* Uniform U[0,1) floats from a seed, the way torch.rand makes a float (24 random mantissa bits: (r >> 40) * 2^-24)
** from a splitmix64 stream: the same seed always gives the same values (a seeded run replays).  Not torch's
** generator: the values differ from torch's, only the distribution is the same. */
void vb_frame_prompter_uniform(uint64_t seed, int64_t n, float * U);

/* Picks per segment of b videos from logits (b, S, k) with k = T / S:
**   noise (b, S, k) nullable: added to the logits first (Gumbel mode); noisy (b, S, k) nullable receives
**   logits + noise; soft (b, S, k) nullable receives softmax(noisy / tau) per segment (tau > 0);
**   sel_local (b, S) argmax per segment (ties: lowest index), sel_frames (b, S) = s*k + sel_local, mask (b, T)
**   one-hot per segment, each nullable. */
void vb_frame_prompter_select(const float * logits, const float * noise, int32_t b, int32_t S, int32_t k, float tau,
                              float * noisy, float * soft, int64_t * sel_local, int64_t * sel_frames, float * mask);

/* Gather the selected frames: out (b, S, N, D) = features (b, T, N, D) at sel_frames (b, S). */
void vb_frame_prompter_gather(const float * features, int32_t b, int32_t T, int32_t S, int64_t N, int64_t D,
                              const int64_t * sel_frames, float * out);

#endif
