/* method.h — the three video-QA methods behind one object: uniform BLIP-2 ("concat"), SeViLA (localizer +
** answerer) and VLAP / ViLA (Frame-Prompter + InstructBLIP), run exactly as the official code runs them
** (docs/methods.md §3-§6).
**
** Lifecycle (one object per bundle and method; read-only weights may be shared by several objects):
**
**     struct vb_method_opts o;  vb_method_opts_default(&o, VB_METHOD_SEVILA);  o.n_frames = 4;
**     struct vb_method * m;     vb_method_open(&m, VB_METHOD_SEVILA, bundle, &o);
**     struct vb_method_input in = {.text = &prompt_text, .pixels = frames, .n_pixel_frames = 32, .seed = 7};
**     struct vb_method_result r; vb_method_answer(m, &in, &r);
**     vb_method_close(m);
**
** Frames.  in->pixels holds the CANDIDATE frames, already decoded, squashed to image_size and CLIP-normalised
** (n, 3, H, W) in time order: k frames for uniform, T candidates (32; 8 for VLAP on How2QA) for SeViLA / VLAP.  The
** caller decodes them (datasets/video.h + uniform_midbin; harness/cmd_answer.c shows how) and reports its decode
** time in in->t_decode_us / in->t_preprocess_us, which are copied to the result.  in->frame_ids (n, nullable) are
** the video frame indices of those pixels; they key the ViT cache and are copied to the result.
**
** ViT cache.  The ViT body output (before any LayerNorm: LAVIS visual_encoder, (n_tok, d_vis) per frame) is all
** that every method needs from a frame: uniform and VLAP apply ln_vision, SeViLA's localizer ln_vision_loc.  If
** in->vit_get is set, it is asked for each frame first (return 1 = filled `out`); frames it does not have are run
** through the ViT and offered to in->vit_put.  So several methods / frame counts on one video share ViT work.  Both
** callbacks receive in->vit_ud and the frame id (frame_ids[i], or i when frame_ids is NULL).
**
** SeViLA localizer reuse.  The localizer scores depend on the question and the T candidates, not on k: the result
** carries them (cand_scores); pass them back as in->loc_scores for the same question and candidates with another
** k (o.n_frames) and the localizer is skipped (its timers then stay 0).
**
** Decoding.  VB_DECODE_MINIMAL runs only the decoder steps that are read (localizer: step 0; answerer: steps 0-1).
** VB_DECODE_AS_RELEASED generates like the reference (SeViLA: 30 new tokens on the localizer's T sequences, stepped
** together in chunks of opts.loc_chunk (8) with HF batch semantics, and on the answerer; VLAP: up to 256 with
** repetition penalty 1.5), stopping at EOS.  Predictions are identical; only time differs.  Step 1 always runs on
** [start, t0], also when t0 is </s> (flagged in the result), as the reference does in a batch.
**
** Threads.  A bundle is read-only once open and may be shared by several method objects; a method object (its
** contexts and buffers) is used by one thread at a time.
**
** Selection (VLAP).  VB_SELECT_ARGMAX: argmax of the Frame-Prompter logits per segment (ties: lower index).
** VB_SELECT_GUMBEL: argmax of logits + Gumbel noise g = -log(1e-10 - log(U + 1e-10)), U from vlapbench's own generator
** seeded with in->seed (so a sample replays); in->gumbel_uniform (S, T/S) replays given U values instead.
**
** Errors.  Every function returns VB_OK or a negative vb_status with the reason in vb_errmsg(); nothing aborts on
** bad input (wrong frame count, a prompt the model cannot take, ...).
*/
#ifndef VB_METHOD_H
#define VB_METHOD_H

#include "vlap/bundle.h"
#include "vlap/prompts.h"

#include <stdint.h>

enum vb_method_kind { VB_METHOD_UNIFORM = 0, VB_METHOD_SEVILA = 1, VB_METHOD_VLAP = 2, VB_METHOD_COUNT };
enum vb_decode_mode { VB_DECODE_MINIMAL = 0, VB_DECODE_AS_RELEASED = 1 };
enum vb_select_mode { VB_SELECT_ARGMAX = 0, VB_SELECT_GUMBEL = 1 };

#define VB_METHOD_MAX_CAND 256 /* candidate frames per question */
#define VB_METHOD_MAX_PICK 64  /* frames given to the answerer */

/* Names and parsers ("uniform" "sevila" "vlap"; "minimal" "as-released"; "argmax" "gumbel"); VB_OK / VB_ERR_ARG. */
const char * vb_method_kind_name(enum vb_method_kind k);
int          vb_method_kind_parse(const char * s, enum vb_method_kind * k);
const char * vb_decode_mode_name(enum vb_decode_mode d);
int          vb_decode_mode_parse(const char * s, enum vb_decode_mode * d);
const char * vb_select_mode_name(enum vb_select_mode s);
int          vb_select_mode_parse(const char * s, enum vb_select_mode * m);

struct vb_method_opts {
    int32_t n_frames;           /* k: frames given to the answerer (4); must equal segments for VLAP */
    int32_t n_candidates;       /* T: candidates (SeViLA 32, VLAP 32 / How2QA 8; the Frame-Prompter's frame_num);
                                   ignored by uniform (= n_frames) */
    enum vb_decode_mode decode; /* minimal (default) / as-released */
    enum vb_select_mode select; /* VLAP only: argmax (default) / gumbel */
    int32_t             max_new_tokens;     /* as-released generation length; 0 = the method's (SeViLA 30, VLAP 256) */
    float               repetition_penalty; /* 0 = the method's (uniform/SeViLA 1.0, VLAP 1.5) */
    int32_t             max_txt_len; /* T5 prompt truncation (right); 0 = the method's (uniform/SeViLA 77, VLAP none) */
    int32_t             qformer_max_txt_len; /* VLAP BERT truncation (left); 0 = 128 */
    int32_t             loc_chunk; /* SeViLA: localizer sequences encoded / decoded / generated together (0 = 8; T =
                                      the reference's batch of one video, HF stopping over all T rows; memory grows
                                      with it: the cross K/V of every sequence is kept) */
};

/* Defaults of a method as released (k 4, T 32 / uniform T = k). */
void vb_method_opts_default(struct vb_method_opts * o, enum vb_method_kind kind);

/* Optional tracing of named intermediates (the golden checker's hook).  Called synchronously with tensors named as
** in $VB_SHARED/golden/methods (vit_body, vit_ln, loc_vision_layernorm, loc_qformer_output, loc_projected,
** loc_inputs_embeds, loc_scores, fp_gates, fp_segment_input, fp_fc1_out, fp_norm_out, fp_relu_out, fp_logits,
** gumbel_noise, qformer_output, projected, inputs_embeds, encoder_last_hidden_state, step0_raw_logits, step0_logits,
** step1_raw_logits, step1_logits, answer_logits); `data` is borrowed for the call.  Integer decisions are in the
** result.  Per-frame tensors (loc_inputs_embeds) may come in several consecutive calls of the same name that
** concatenate. */
typedef void (*vb_method_trace_fn)(void * ud, const char * name, const float * data, int64_t n);

/* ViT cache callbacks (see the header comment).  out / feats: (n_tok, d_vis) body output of one frame. */
typedef int (*vb_vit_get_fn)(void * ud, int64_t frame_id, float * out);
typedef void (*vb_vit_put_fn)(void * ud, int64_t frame_id, const float * feats);

struct vb_method_input {
    const struct vb_prompt_text * text;   /* question / options (prompts built inside) */
    const float *                 pixels; /* (n_pixel_frames, 3, H, W) CLIP-normalised candidates in time order; may be
                                             NULL when the cache has every frame */
    int32_t            n_pixel_frames;    /* uniform: k; SeViLA / VLAP: T */
    const int64_t *    frame_ids;         /* (n_pixel_frames) video frame indices, nullable */
    vb_vit_get_fn      vit_get;           /* nullable */
    vb_vit_put_fn      vit_put;           /* nullable */
    void *             vit_ud;
    const float *      loc_scores;      /* (T) SeViLA: reuse localizer scores from an earlier result, nullable */
    uint64_t           seed;            /* Gumbel seed (VLAP gumbel mode), recorded in the result */
    const float *      gumbel_uniform;  /* (S * T/S) replay these U values instead of drawing, nullable */
    int64_t            t_decode_us;     /* caller's decode time, copied to the result */
    int64_t            t_preprocess_us; /* caller's resize/normalise time, copied to the result */
    vb_method_trace_fn trace;           /* nullable */
    void *             trace_ud;
};

struct vb_method_result {
    enum vb_method_kind kind;
    int32_t             prediction; /* option index 0..4 (VLAP may predict an absent option), -1 failed */
    int32_t             n_scores;   /* letters scored: num_option (uniform / SeViLA), 5 (VLAP) */
    float               scores[VB_PROMPT_N_LETTERS];     /* step-1 logits at the letter ids, as read (processed) */
    float               raw_scores[VB_PROMPT_N_LETTERS]; /* the same before the repetition penalty */
    int32_t             step0_id;                        /* greedy step-0 token t0 */
    int32_t             step0_is_eos;                    /* t0 == </s> (flag; step 1 still runs on [0, t0]) */
    int32_t             n_generated;                     /* answerer decoder steps run */
    int32_t             n_candidates;                    /* T (uniform: k) */
    int64_t             cand_frames[VB_METHOD_MAX_CAND]; /* video frame ids of the candidates (index i when unknown) */
    float cand_scores[VB_METHOD_MAX_CAND]; /* SeViLA: "yes" logits; VLAP: Frame-Prompter logits (+noise in gumbel
                                              mode) laid out (S, T/S); uniform: 0 */
    int32_t             loc_scores_reused; /* 1 if in->loc_scores was used */
    int32_t             n_picked;          /* k */
    int32_t             picked[VB_METHOD_MAX_PICK];        /* candidate positions given to the answerer, ascending */
    int64_t             picked_frames[VB_METHOD_MAX_PICK]; /* their video frame ids */
    enum vb_decode_mode decode;
    enum vb_select_mode select;
    uint64_t            seed;
    int32_t             n_qa_tokens;             /* T5 prompt ids (after truncation) */
    int32_t             n_qa_tokens_full;        /* before truncation */
    int32_t             n_vit_run, n_vit_cached; /* ViT frames computed / taken from the cache */
    /* stage times, microseconds (monotonic clock) */
    int64_t t_decode_us, t_preprocess_us, t_vit_us, t_select_us, t_qformer_us, t_t5_enc_us, t_t5_dec_us, t_total_us;
    /* parts of t_select_us (SeViLA localizer): its Q-Former + projection, its T5 encoder + decoder */
    int64_t t_loc_qformer_us, t_loc_t5_us;
};

struct vb_method;

/* Open a method on a loaded bundle (borrowed: must outlive the method).  Checks that the bundle has what the
** method needs (SeViLA: localizer.*; VLAP: InstructBLIP Q-Former + frame_prompter.*) and that the options fit
** (VLAP: n_candidates = segments * frames_per_segment of the Frame-Prompter).  opts NULL = defaults.  On success *out
** is owned by the caller (vb_method_close). */
int vb_method_open(struct vb_method ** out, enum vb_method_kind kind, const struct vb_bundle * b,
                   const struct vb_method_opts * opts);
/* Free the method and its work buffers (m may be NULL); the bundle is not touched. */
void vb_method_close(struct vb_method * m);
/* The effective options (defaults filled in); borrowed, valid until vb_method_close.  m not NULL. */
const struct vb_method_opts * vb_method_get_opts(const struct vb_method * m);

/* Answer one question (see the header comment).  *res is fully written (prediction -1 on failure). */
int vb_method_answer(struct vb_method * m, const struct vb_method_input * in, struct vb_method_result * res);

#endif
