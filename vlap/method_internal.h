/* method_internal.h — what vlap/method.c shares with the per-method files (baselines/uniform.c,
** baselines/sevila.c, vlap/vlap.c).  Not a public API. */
#ifndef VB_METHOD_INTERNAL_H
#define VB_METHOD_INTERNAL_H

#include "vlap/method.h"

#include <stdint.h>

struct vb_vit_ctx;
struct vb_qformer_ctx;
struct vb_t5_ctx;
struct vb_t5_batch;

#define VB_LOC_CHUNK VB_METHOD_MAX_CAND /* most SeViLA localizer sequences run together (opts.loc_chunk) */

struct vb_method {
    enum vb_method_kind      kind;
    struct vb_method_opts    o;
    const struct vb_bundle * b;
    int32_t                  n_tok, d_vis;          /* ViT tokens per frame, width */
    int32_t                  n_query, d_q, d_model; /* answerer query tokens, Q-Former width, T5 width */
    int32_t                  vocab;
    int32_t                  n_cand; /* frames the ViT sees: T (uniform: k) */
    struct vb_vit_ctx *      vit;
    int32_t                  vit_chunk; /* frames per ViT call */
    struct vb_qformer_ctx *  qf;        /* answerer / student */
    struct vb_qformer_ctx *  loc_qf;
    struct vb_t5_ctx *       t5;
    int64_t                  t5_max_enc, t5_max_dec;
    float *                  body; /* (n_cand, n_tok, d_vis) ViT body output */
    float *   ln;   /* (n_cand, n_tok, d_vis) ln_vision(body) (or ln_vision_loc for the localizer, transiently) */
    float *   qout; /* (n_cand, Q, d_q) */
    float *   proj; /* (n_cand, Q, d_model) */
    float *   emb;  /* (emb_cap, d_model) encoder input */
    int64_t   emb_cap;
    uint8_t * mask;  /* (emb_cap) */
    float *   lg[4]; /* (vocab) raw0, proc0, raw1, proc1 */
    float *   lgx;   /* (vocab) later steps */
    /* SeViLA localizer: opts.loc_chunk sequences through one set of GEMMs */
    struct vb_t5_ctx *   loc_ctx[VB_LOC_CHUNK];
    struct vb_t5_batch * loc_batch;
    int64_t              loc_max_enc, loc_max_dec;
    float *              loc_emb;    /* (loc_chunk, loc_max_enc, d_model) */
    float *              loc_scores; /* (loc_max_dec - 1, loc_chunk, vocab) generate scores, as-released only */
    int32_t *            loc_ids;    /* (loc_chunk, loc_max_dec + 1) */
};

/* Trace helper: forwards to in->trace when set. offset = element offset into the whole named tensor. */
void vb_method_trace(const struct vb_method_input * in, const char * name, const float * data, int64_t n);
void vb_method_trace_ids(const struct vb_method_input * in, const char * name, const int32_t * ids, int64_t n);
/* Same for a 0/1 attention mask (traced as float 0/1).  No allocation when in->trace is unset; never fails. */
void vb_method_trace_mask(const struct vb_method_input * in, const char * name, const uint8_t * mask, int64_t n);

/* Make room for n encoder rows in m->emb / m->mask and for (n_enc, n_dec) in the T5 context. */
int vb_method_reserve(struct vb_method * m, int64_t n_enc, int64_t n_dec);

/* T5 ids of text with </s>; max_len > 0 truncates (right, or left when trunc_left).  *n_full = untruncated count. */
int vb_method_t5_ids(const struct vb_method * m, const char * text, int32_t max_len, int trunc_left, int32_t ** ids,
                     int32_t * n, int32_t * n_full);

/* Answer readout on the encoder output in m->t5: greedy step 0 from the start id, step 1 on [start, t0] (always,
** even if t0 is </s>), repetition penalty `penalty` on the decoder input ids (1 = off).  Letters: the first
** n_letters of the bundle's letter ids.  In as-released mode generation continues to max_new tokens or </s>.
** Fills res->scores / raw_scores / n_scores / prediction / step0_id / step0_is_eos / n_generated and traces
** step{0,1}_raw_logits, step{0,1}_logits, answer_logits, answer_raw_logits. */
int vb_method_readout(struct vb_method * m, const struct vb_method_input * in, int32_t n_letters, float penalty,
                      int32_t max_new, struct vb_method_result * res);

/* Greedy continuation after the first steps (as released): the decoder input so far is prev (n_prev ids, the
** start id first); runs until </s> or max_new generated tokens in total.  Returns the number of tokens generated
** in total in *n_gen. */
int vb_method_continue(struct vb_method * m, int32_t * prev, int32_t n_prev, int32_t max_new, float penalty,
                       int32_t * n_gen);

/* ViT body output of the n frames of in into m->body (cache first, then the ViT in chunks); adds t_vit_us. */
int vb_method_vit(struct vb_method * m, const struct vb_method_input * in, int32_t n, struct vb_method_result * res);

/* out (n, n_tok, d_vis) = LayerNorm(body rows) with w, b and the bundle's ln_vision eps. */
void vb_method_ln(const struct vb_method * m, const float * body, int32_t n, const float * w, const float * b,
                  float * out);

/* The answerer of uniform BLIP-2 and SeViLA ("Frame i: " prefixes, BLIP-2 Q-Former) on m->body rows picked[0..k-1]
** (candidate positions, ascending).  Fills the answer part of res. */
int vb_uniform_answer(struct vb_method * m, const struct vb_method_input * in, const int32_t * picked, int32_t k,
                      struct vb_method_result * res);
/* SeViLA localizer: scores (T) into res->cand_scores (or reuses in->loc_scores), picks top k into res->picked. */
int vb_sevila_localize(struct vb_method * m, const struct vb_method_input * in, struct vb_method_result * res);
/* VLAP: Frame-Prompter selection then the InstructBLIP answerer. */
int vb_vlap_answer(struct vb_method * m, const struct vb_method_input * in, struct vb_method_result * res);

#endif
