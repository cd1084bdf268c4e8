/* answerer.h — the BLIP-2 answering steps every method shares (methods.md §3-§5): ln_vision of the candidates,
** gathering the picked frames, the Q-Former + language projection, the T5 encoder input and the answer readout
** (greedy step 0, step 1 on [start, t0], letter logits; as-released generation).  Used by baselines/uniform.c,
** baselines/sevila.c and vlap/vlap.c; uses none of them.
**
** A method embeds one struct vb_answerer in its state (vb_answerer_init / vb_answerer_free) and calls the steps in
** order; every step appends its time to the result's stage timer and traces its tensors through in->trace.
*/
#ifndef VB_ANSWERER_H
#define VB_ANSWERER_H

#include "methods/method.h"

#include <stdint.h>

struct vb_qformer_ctx;
struct vb_t5_ctx;

struct vb_answerer {
    const struct vb_bundle *      b;
    const struct vb_method_opts * o;                     /* the method's effective options (borrowed) */
    int32_t                       n_tok, d_vis;          /* ViT tokens per frame, width */
    int32_t                       n_query, d_q, d_model; /* answerer query tokens, Q-Former width, T5 width */
    int32_t                       vocab;
    int32_t                       n_cand; /* T */
    struct vb_qformer_ctx *       qf;     /* answerer / student Q-Former (k frames) */
    struct vb_t5_ctx *            t5;
    int64_t                       t5_max_enc, t5_max_dec;
    float *                       ln;   /* (T, n_tok, d_vis) LayerNorm of the body rows (picked rows first) */
    float *                       qout; /* (T, nq_max, d_q) */
    float *                       proj; /* (T, nq_max, d_model) */
    float *                       emb;  /* (emb_cap, d_model) encoder input */
    int64_t                       emb_cap;
    uint8_t *                     mask;  /* (emb_cap) */
    float *                       lg[4]; /* (vocab) raw0, proc0, raw1, proc1 */
    float *                       lgx;   /* (vocab) later steps */
};

/* Set up a for bundle b and options o (borrowed; k = o->n_frames, T = o->n_candidates): the answerer Q-Former for k
** frames (qformer_text_len > 0: with a text input of that many ids, InstructBLIP) and buffers for T frames of up to
** nq_max query rows.  On failure a is freed again.  Returns VB_OK or the engine's error. */
int vb_answerer_init(struct vb_answerer * a, const struct vb_bundle * b, const struct vb_method_opts * o,
                     int32_t qformer_text_len, int32_t nq_max);
/* Free a's contexts and buffers (idempotent). */
void vb_answerer_free(struct vb_answerer * a);

/* Trace helpers: forward to in->trace when set (ids and 0/1 masks as floats); no allocation without a trace. */
void vb_method_trace(const struct vb_method_input * in, const char * name, const float * data, int64_t n);
void vb_method_trace_ids(const struct vb_method_input * in, const char * name, const int32_t * ids, int64_t n);
void vb_method_trace_mask(const struct vb_method_input * in, const char * name, const uint8_t * mask, int64_t n);

/* out (n, n_tok, d_vis) = LayerNorm(body rows (n, n_tok, d_vis)) with w, b and the bundle's ln_vision eps. */
void vb_answerer_ln(const struct vb_answerer * a, const float * body, int32_t n, const float * w, const float * b,
                    float * out);
/* a->ln = ln_vision(in->feats) of all T candidates, timed into res->t_vit_us, traced as vit_ln. */
void vb_answerer_ln_vision(struct vb_answerer * a, const struct vb_method_input * in, struct vb_method_result * res);
/* Move the ln rows of picked[0..k-1] (ascending candidate positions) to the front of a->ln and record them in
** res->picked / picked_frames / n_picked.  VB_ERR_ARG when picked is not ascending inside [0, T). */
int vb_answerer_gather(struct vb_answerer * a, const int32_t * picked, int32_t k, struct vb_method_result * res);

/* Make room for n_enc encoder rows in a->emb / a->mask and for (n_enc, n_dec) in the T5 context. */
int vb_answerer_reserve(struct vb_answerer * a, int64_t n_enc, int64_t n_dec);

/* Token ids of text with the end token (T5: </s>, BERT: [CLS] .. [SEP]); max_len > 0 truncates (right, or left when
** trunc_left).  *n_full (nullable, T5 only) = the untruncated count.  *ids malloc'd for the caller.  The tokenizer's
*error is
** prefixed "T5 prompt" / "Q-Former prompt". */
int vb_answerer_t5_ids(const struct vb_answerer * a, const char * text, int32_t max_len, int trunc_left, int32_t ** ids,
                       int32_t * n, int32_t * n_full);
int vb_answerer_bert_ids(const struct vb_answerer * a, const char * text, int32_t max_len, int trunc_left,
                         int32_t ** ids, int32_t * n);

/* The encoder tail shared by the answerers: a->emb rows [0, n_vis) already hold the visual part (mask set); appends
** the T5 embeddings of qa_ids (Lq, mask 1), traces qa_input_ids / inputs_embeds / attention_mask, runs the T5
** encoder (time from t0_us into res->t_t5_enc_us), traces encoder_last_hidden_state and reads the answer out over
** n_letters letters (vb_answerer_readout).  a must have room for n_vis + Lq rows (vb_answerer_reserve). */
int vb_answerer_encode_answer(struct vb_answerer * a, const struct vb_method_input * in, int64_t n_vis,
                              const int32_t * qa_ids, int32_t Lq, int32_t n_letters, int64_t t0_us,
                              struct vb_method_result * res);

/* Answer readout on the encoder output in a->t5: greedy step 0 from the start id, step 1 on [start, t0] (always,
** even if t0 is </s>), repetition penalty `penalty` on the decoder input ids (1 = off).  Letters: the first
** n_letters of the bundle's letter ids.  In as-released mode generation continues to max_new tokens or </s>.
** Fills res->scores / raw_scores / n_scores / prediction / step0_id / step0_is_eos / n_generated and traces
** step{0,1}_raw_logits, step{0,1}_logits, answer_logits, answer_raw_logits. */
int vb_answerer_readout(struct vb_answerer * a, const struct vb_method_input * in, int32_t n_letters, float penalty,
                        int32_t max_new, struct vb_method_result * res);

/* Frame-prefix ids of "Frame 1: " .. "Frame k: " (no </s>), padded with pad_id to the longest: ids (k, *P) and
** mask (k, *P) (1 = real) malloc'd for the caller; *P = longest prefix.  Returns VB_OK or the tokenizer's error. */
int vb_blip2_prefix_ids(const struct vb_bundle * b, int32_t k, int32_t ** ids, uint8_t ** mask, int32_t * P);

/* The frame-prefixed BLIP-2 answerer of uniform BLIP-2 and SeViLA (methods.md §3, §4 steps 6-7): ln_vision of all
** T candidates, the picked rows (ascending candidate positions) through the BLIP-2 Q-Former (queries only) and the
** projection, encoder input ["Frame 1: " (padded); Q rows; ...; QA prompt right-truncated to o->max_txt_len], the
** readout over num_option letters.  Fills the answer part of res. */
int vb_blip2_answer(struct vb_answerer * a, const struct vb_method_input * in, const int32_t * picked, int32_t k,
                    struct vb_method_result * res);

#endif
