/* method.h — the video-QA method interface: one object type, one ops table per method (uniform BLIP-2 and SeViLA in
** baselines/, VLAP in vlap/), each method's state behind its own pointer.  Methods are run exactly as the official
** code runs them (../shared/spec/methods.md §3-§6).  The methods a program knows are listed in one registry
** (harness/registry.h); a new method is one new file with its ops table plus one line there.
**
** Lifecycle (one object per bundle and method; read-only weights may be shared by several objects):
**
**     const struct vb_method_ops * ops = vb_registry_find("sevila");
**     struct vb_method_opts o;  vb_method_opts_default(&o);  o.n_frames = 4;
**     struct vb_method * m;     vb_method_open(&m, ops, bundle, &o);
**     struct vb_method_input in = {.text = &prompt_text, .feats = body, .n_frames = 32, .seed = 7};
**     struct vb_method_result r; vb_method_answer(m, &in, &r);
**     vb_method_close(m);
**
** Frames.  A method reads the ViT BODY output (before any LayerNorm: LAVIS visual_encoder, (n_tok, d_vis) per frame)
** of its T CANDIDATE frames in time order (k for uniform; T = 32, 8 for VLAP on How2QA, for SeViLA / VLAP): that is
** all that any method needs from a frame (uniform and VLAP apply ln_vision, SeViLA's localizer ln_vision_loc).  The
** ViT stage is not a method's job: the caller owns the features (harness/vitfeat.h computes them through the cache
** that the runner shares between methods and frame counts) and reports its decode / preprocess / ViT times and
** counts in the input; they are copied to the result and counted in its total.
**
** Selection reuse.  A method whose ops say reusable_selection scores the candidates from the question and the T
** candidates only, not from k: the result carries the scores (cand_scores); pass them back as in->reuse_scores for
** the same question, bundle and candidates with another k (o.n_frames) and the selection model is skipped (its
** timers then stay 0, res->scores_reused is 1).
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

#include "methods/bundle.h"
#include "methods/prompts.h"

#include <stdint.h>

enum vb_decode_mode { VB_DECODE_MINIMAL = 0, VB_DECODE_AS_RELEASED = 1 };
enum vb_select_mode { VB_SELECT_ARGMAX = 0, VB_SELECT_GUMBEL = 1 };

#define VB_METHOD_MAX_CAND 256 /* candidate frames per question */
#define VB_METHOD_MAX_PICK 64  /* frames given to the answerer */

/* Names and parsers ("minimal" "as-released"; "argmax" "gumbel"); VB_OK / VB_ERR_ARG. */
const char * vb_decode_mode_name(enum vb_decode_mode d);
int          vb_decode_mode_parse(const char * s, enum vb_decode_mode * d);
const char * vb_select_mode_name(enum vb_select_mode s);
int          vb_select_mode_parse(const char * s, enum vb_select_mode * m);

struct vb_method_opts {
    int32_t             n_frames;           /* k: frames given to the answerer (4); must equal segments for VLAP */
    int32_t             n_candidates;       /* T: 0 = the method's own count (ops->candidates); uniform always uses k */
    enum vb_decode_mode decode;             /* minimal (default) / as-released */
    enum vb_select_mode select;             /* VLAP only: argmax (default) / gumbel */
    int32_t             max_new_tokens;     /* as-released generation length; 0 = the method's (SeViLA 30, VLAP 256) */
    float               repetition_penalty; /* 0 = the method's (uniform/SeViLA 1.0, VLAP 1.5) */
    int32_t             max_txt_len; /* T5 prompt truncation (right); 0 = the method's (uniform/SeViLA 77, VLAP none) */
    int32_t             qformer_max_txt_len; /* VLAP BERT truncation (left); 0 = 128 */
    int32_t             loc_chunk; /* SeViLA: localizer sequences encoded / decoded / generated together (0 = 8; T =
                                      the reference's batch of one video, HF stopping over all T rows; memory grows
                                      with it: the cross K/V of every sequence is kept) */
};

/* Defaults (k 4, T the method's own, minimal decoding, argmax selection, every other field the method's). */
void vb_method_opts_default(struct vb_method_opts * o);

/* Optional tracing of named intermediates (the golden checker's hook).  Called synchronously with tensors named as
** in ../shared/golden/methods (vit_body, vit_ln, loc_vision_layernorm, loc_qformer_output, loc_projected,
** loc_inputs_embeds, loc_scores, fp_gates, fp_segment_input, fp_fc1_out, fp_norm_out, fp_relu_out, fp_logits,
** gumbel_noise, qformer_output, projected, inputs_embeds, encoder_last_hidden_state, step0_raw_logits, step0_logits,
** step1_raw_logits, step1_logits, answer_logits); `data` is borrowed for the call.  Integer decisions are in the
** result.  Per-frame tensors (loc_inputs_embeds) may come in several consecutive calls of the same name that
** concatenate. */
typedef void (*vb_method_trace_fn)(void * ud, const char * name, const float * data, int64_t n);

struct vb_method_input {
    const struct vb_prompt_text * text;            /* question / options (prompts built inside) */
    const float *                 feats;           /* (n_frames, n_tok, d_vis) ViT body output of the candidates */
    int32_t                       n_frames;        /* T (uniform: k) */
    const int64_t *               frame_ids;       /* (n_frames) video frame indices, nullable (then 0..T-1) */
    const float *                 reuse_scores;    /* (T) selection scores of an earlier result (see above), nullable */
    uint64_t                      seed;            /* Gumbel seed (VLAP gumbel mode), recorded in the result */
    const float *                 gumbel_uniform;  /* (S * T/S) replay these U values instead of drawing, nullable */
    int64_t                       t_decode_us;     /* caller's decode time, copied to the result */
    int64_t                       t_preprocess_us; /* caller's resize/normalise time, copied to the result */
    int64_t                       t_vit_us;        /* caller's ViT time for feats, added to the result's */
    int32_t                       n_vit_run, n_vit_cached; /* caller's ViT frames computed / taken from a cache */
    vb_method_trace_fn            trace;                   /* nullable */
    void *                        trace_ud;
};

struct vb_method_result {
    const char * method;                          /* ops->name */
    int32_t      prediction;                      /* option index 0..4 (VLAP may predict an absent option), -1 failed */
    int32_t      n_scores;                        /* letters scored: num_option (uniform / SeViLA), 5 (VLAP) */
    float        scores[VB_PROMPT_N_LETTERS];     /* step-1 logits at the letter ids, as read (processed) */
    float        raw_scores[VB_PROMPT_N_LETTERS]; /* the same before the repetition penalty */
    int32_t      step0_id;                        /* greedy step-0 token t0 */
    int32_t      step0_is_eos;                    /* t0 == </s> (flag; step 1 still runs on [0, t0]) */
    int32_t      n_generated;                     /* answerer decoder steps run */
    int32_t      n_candidates;                    /* T (uniform: k) */
    int64_t      cand_frames[VB_METHOD_MAX_CAND]; /* video frame ids of the candidates (index i when unknown) */
    float        cand_scores[VB_METHOD_MAX_CAND]; /* SeViLA: "yes" logits; VLAP: Frame-Prompter logits (+noise in
                                                     gumbel mode) laid out (S, T/S); uniform: 0 */
    int32_t             has_scores;               /* cand_scores are the method's selection scores (not uniform) */
    int32_t             scores_reused;            /* 1 if in->reuse_scores was used */
    int32_t             n_picked;                 /* k */
    int32_t             picked[VB_METHOD_MAX_PICK];        /* candidate positions given to the answerer, ascending */
    int64_t             picked_frames[VB_METHOD_MAX_PICK]; /* their video frame ids */
    enum vb_decode_mode decode;
    enum vb_select_mode select;
    uint64_t            seed;
    int32_t             n_qa_tokens;             /* T5 prompt ids (after truncation) */
    int32_t             n_qa_tokens_full;        /* before truncation */
    int32_t             n_vit_run, n_vit_cached; /* copied from the input */
    /* stage times, microseconds (monotonic clock) */
    int64_t t_decode_us, t_preprocess_us, t_vit_us, t_select_us, t_qformer_us, t_t5_enc_us, t_t5_dec_us, t_total_us;
    /* parts of t_select_us (a selection model such as SeViLA's localizer): its Q-Former + projection, its T5 */
    int64_t t_loc_qformer_us, t_loc_t5_us;
};

/* One method: what the registry lists and the object dispatches to.  State is the method's own (void *). */
struct vb_method_ops {
    const char * name;               /* CLI and store name ("uniform") */
    unsigned     bundle_parts;       /* VB_BUNDLE_* the method needs */
    int          reusable_selection; /* selection scores depend on question + candidates only, not on k */
    /* The store's "selection" label of a run with the given selection mode ("none", "topk", "argmax", ...). */
    const char * (*selection_label)(enum vb_select_mode s);
    /* The one rule for T: the candidate count for k answerer frames on bundle b; requested > 0 is the user's
    ** --candidates (methods that take k frames ignore it). */
    int32_t (*candidates)(const struct vb_bundle * b, int32_t k, int32_t requested);
    /* Check that b and *o fit the method (o has k and T set; the method fills in its defaults) and make its state
    ** (*state owned by the object, freed by close).  Returns VB_OK or a vb_status with the reason. */
    int (*open)(void ** state, const struct vb_bundle * b, struct vb_method_opts * o);
    void (*close)(void * state); /* state may be NULL */
    /* Answer one question: in is checked (text, T feature rows), res initialised (prediction -1, candidates).
    ** Fills picks, scores, prediction and the method's stage times. */
    int (*answer)(void * state, const struct vb_method_input * in, struct vb_method_result * res);
};

struct vb_method;

/* Open method ops on a loaded bundle (borrowed: must outlive the method).  T is the method's rule
** (ops->candidates); the method checks that the bundle has what it needs (SeViLA: localizer.*; VLAP: InstructBLIP
** Q-Former + frame_prompter.*) and that the options fit.  opts NULL = defaults.  On success *out is owned by the
** caller (vb_method_close). */
int vb_method_open(struct vb_method ** out, const struct vb_method_ops * ops, const struct vb_bundle * b,
                   const struct vb_method_opts * opts);
/* Free the method and its state (m may be NULL); the bundle is not touched. */
void vb_method_close(struct vb_method * m);
/* The effective options (defaults filled in); borrowed, valid until vb_method_close.  m not NULL. */
const struct vb_method_opts * vb_method_get_opts(const struct vb_method * m);
/* The method's ops (borrowed, static).  m not NULL. */
const struct vb_method_ops * vb_method_get_ops(const struct vb_method * m);

/* Answer one question (see the header comment).  *res is fully written (prediction -1 on failure).  Non-finite
** input features, option scores or selection scores fail with VB_ERR_FORMAT and "non-finite scores in <method>
** <input|answerer|selection>: ..." (never an answer from an argmax over NaN). */
int vb_method_answer(struct vb_method * m, const struct vb_method_input * in, struct vb_method_result * res);

/* Check the frame counts of options (1 <= k <= T <= VB_METHOD_MAX_CAND, k <= VB_METHOD_MAX_PICK); VB_ERR_ARG. */
int vb_method_check_counts(const struct vb_method_opts * o);

/* Check that bundle b has the parts `need` (VB_BUNDLE_*) loaded and is of architecture arch (enum vb_arch); the
** messages name the method (name).  VB_OK, VB_ERR_ARG (parts) or VB_ERR_UNSUPPORTED (architecture). */
int vb_method_check_bundle(const struct vb_bundle * b, unsigned need, int arch, const char * name);

#endif
