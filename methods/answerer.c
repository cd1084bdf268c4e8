/* answerer.c — the BLIP-2 answering steps shared by the methods (see answerer.h). */
#include "methods/answerer.h"

#include "base/common.h"
#include "engine/generate.h"
#include "engine/ops.h"
#include "engine/qformer.h"
#include "engine/t5.h"
#include "engine/tokenizer_bert.h"
#include "engine/tokenizer_t5.h"
#include "engine/vit.h"

#include <string.h>

int vb_answerer_init(struct vb_answerer * a, const struct vb_bundle * b, const struct vb_method_opts * o,
                     int32_t qformer_text_len, int32_t nq_max) {
    memset(a, 0, sizeof *a);
    a->b = b;
    a->o = o;
    a->n_tok = b->cfg.vision.n_tokens;
    a->d_vis = b->cfg.vision.hidden;
    a->n_query = b->cfg.num_query_tokens;
    a->d_q = b->cfg.qformer.hidden;
    a->d_model = b->cfg.t5.d_model;
    a->vocab = b->cfg.t5.vocab;
    a->n_cand = o->n_candidates;
    nq_max = VB_MAX(nq_max, a->n_query);
    int rc = vb_qformer_ctx_new(&a->qf, b->qformer, o->n_frames, qformer_text_len, a->n_tok);
    if (rc != VB_OK) {
        vb_answerer_free(a);
        return rc;
    }
    size_t fr = (size_t)a->n_cand;
    a->ln = vb_malloc(sizeof(float) * fr * (size_t)a->n_tok * (size_t)a->d_vis);
    a->qout = vb_malloc(sizeof(float) * fr * (size_t)nq_max * (size_t)a->d_q);
    a->proj = vb_malloc(sizeof(float) * fr * (size_t)nq_max * (size_t)a->d_model);
    for (int i = 0; i < 4; i++)
        a->lg[i] = vb_malloc(sizeof(float) * (size_t)a->vocab);
    a->lgx = vb_malloc(sizeof(float) * (size_t)a->vocab);
    return VB_OK;
}

void vb_answerer_free(struct vb_answerer * a) {
    vb_qformer_ctx_free(a->qf);
    vb_t5_ctx_free(a->t5);
    free(a->ln);
    free(a->qout);
    free(a->proj);
    free(a->emb);
    free(a->mask);
    for (int i = 0; i < 4; i++)
        free(a->lg[i]);
    free(a->lgx);
    memset(a, 0, sizeof *a);
}

void vb_method_trace(const struct vb_method_input * in, const char * name, const float * data, int64_t n) {
    if (in->trace) in->trace(in->trace_ud, name, data, n);
}

void vb_method_trace_ids(const struct vb_method_input * in, const char * name, const int32_t * ids, int64_t n) {
    if (!in->trace) return;
    float * f = vb_malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
    for (int64_t i = 0; i < n; i++)
        f[i] = (float)ids[i];
    in->trace(in->trace_ud, name, f, n);
    free(f);
}

void vb_method_trace_mask(const struct vb_method_input * in, const char * name, const uint8_t * mask, int64_t n) {
    if (!in->trace) return;
    float * f = vb_malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
    for (int64_t i = 0; i < n; i++)
        f[i] = mask[i];
    in->trace(in->trace_ud, name, f, n);
    free(f);
}

void vb_answerer_ln(const struct vb_answerer * a, const float * body, int32_t n, const float * w, const float * b,
                    float * out) {
    vb_layernorm(body, (int64_t)n * a->n_tok, a->d_vis, w, b, a->b->cfg.vision.post_ln_eps, out);
}

void vb_answerer_ln_vision(struct vb_answerer * a, const struct vb_method_input * in, struct vb_method_result * res) {
    int64_t t0 = vb_time_us();
    vb_answerer_ln(a, in->feats, a->n_cand, a->b->vit->post_ln_w, a->b->vit->post_ln_b, a->ln);
    res->t_vit_us += vb_time_us() - t0;
    vb_method_trace(in, "vit_ln", a->ln, (int64_t)a->n_cand * a->n_tok * a->d_vis);
}

int vb_answerer_gather(struct vb_answerer * a, const int32_t * picked, int32_t k, struct vb_method_result * res) {
    int64_t fsz = (int64_t)a->n_tok * a->d_vis;
    for (int32_t j = 0; j < k; j++) {
        if (picked[j] < 0 || picked[j] >= a->n_cand || (j > 0 && picked[j] <= picked[j - 1]))
            return vb_fail(VB_ERR_ARG, "answerer: picked frames must be ascending candidate positions");
        /* ascending positions: moving row picked[j] down to j never overwrites a row still to be moved */
        if (picked[j] != j) memmove(a->ln + j * fsz, a->ln + picked[j] * fsz, sizeof(float) * (size_t)fsz);
        res->picked[j] = picked[j];
        res->picked_frames[j] = res->cand_frames[picked[j]];
    }
    res->n_picked = k;
    return VB_OK;
}

int vb_answerer_reserve(struct vb_answerer * a, int64_t n_enc, int64_t n_dec) {
    if (n_enc > a->emb_cap) {
        free(a->emb);
        free(a->mask);
        a->emb_cap = n_enc;
        a->emb = vb_malloc(sizeof(float) * (size_t)(n_enc * a->d_model));
        a->mask = vb_malloc((size_t)n_enc);
    }
    if (!a->t5 || n_enc > a->t5_max_enc || n_dec > a->t5_max_dec) {
        int64_t me = VB_MAX(n_enc, a->t5_max_enc), md = VB_MAX(n_dec, a->t5_max_dec);
        vb_t5_ctx_free(a->t5);
        a->t5 = NULL;
        int rc = vb_t5_ctx_new(&a->t5, a->b->t5, me, md);
        if (rc != VB_OK) return rc;
        a->t5_max_enc = me;
        a->t5_max_dec = md;
    }
    return VB_OK;
}

int vb_answerer_t5_ids(const struct vb_answerer * a, const char * text, int32_t max_len, int trunc_left, int32_t ** ids,
                       int32_t * n, int32_t * n_full) {
    int32_t * full;
    int32_t   nf;
    int       rc = vb_t5tok_encode(a->b->t5tok, text, 1, 0, &full, &nf);
    if (rc != VB_OK) return vb_fail_prefix(rc, "T5 prompt");
    if (n_full) *n_full = nf;
    if (max_len <= 0 || nf <= max_len) {
        *ids = full;
        *n = nf;
        return VB_OK;
    }
    free(full);
    rc = vb_t5tok_encode_ex(a->b->t5tok, text, strlen(text), 1, max_len, trunc_left, ids, n);
    return rc == VB_OK ? VB_OK : vb_fail_prefix(rc, "T5 prompt");
}

int vb_answerer_bert_ids(const struct vb_answerer * a, const char * text, int32_t max_len, int trunc_left,
                         int32_t ** ids, int32_t * n) {
    int rc = vb_berttok_encode(a->b->berttok, text, strlen(text), 1, max_len, trunc_left, ids, n);
    return rc == VB_OK ? VB_OK : vb_fail_prefix(rc, "Q-Former prompt");
}

/* One decoder step on the cache: logits of the new position into raw, processed copy (penalty over prev) into
** proc (may equal raw when penalty is 1). */
static int step(struct vb_answerer * a, int32_t id, const int32_t * prev, int32_t n_prev, float penalty, float * raw,
                float * proc) {
    int rc = vb_t5_decode(a->t5, &id, 1, raw, NULL, NULL);
    if (rc != VB_OK) return rc;
    if (proc != raw) memcpy(proc, raw, sizeof(float) * (size_t)a->vocab);
    if (penalty != 1.0f) vb_gen_repetition_penalty(proc, a->vocab, prev, n_prev, penalty);
    return VB_OK;
}

/* Greedy continuation after the first steps (as released): prev holds the start id and n_prev - 1 generated
** tokens, the cache all but the last; runs until </s> or max_new generated tokens in total (*n_gen). */
static int continue_greedy(struct vb_answerer * a, int32_t * prev, int32_t n_prev, int32_t max_new, float penalty,
                           int32_t * n_gen) {
    int32_t eos = a->b->eos_id;
    int32_t gen = n_prev - 1;
    while (gen < max_new && prev[n_prev - 1] != eos) {
        int rc = step(a, prev[n_prev - 1], prev, n_prev, penalty, a->lgx, a->lgx);
        if (rc != VB_OK) return rc;
        prev[n_prev++] = vb_gen_argmax(a->lgx, a->vocab);
        gen++;
    }
    *n_gen = gen;
    return VB_OK;
}

static void trace_readout(const struct vb_answerer * a, const struct vb_method_input * in, const int32_t * prev,
                          int32_t n_letters, const struct vb_method_result * res) {
    const struct vb_bundle * b = a->b;
    vb_method_trace(in, "step0_raw_logits", a->lg[0], a->vocab);
    vb_method_trace(in, "step0_logits", a->lg[1], a->vocab);
    vb_method_trace(in, "step1_raw_logits", a->lg[2], a->vocab);
    vb_method_trace(in, "step1_logits", a->lg[3], a->vocab);
    vb_method_trace_ids(in, "step0_id", &prev[1], 1);
    vb_method_trace_ids(in, "step1_decoder_input_ids", prev, 2);
    vb_method_trace_ids(in, "answer_candidate_ids", b->letter_ids, n_letters);
    vb_method_trace(in, "answer_logits", res->scores, n_letters);
    vb_method_trace(in, "answer_raw_logits", res->raw_scores, n_letters);
    int32_t braw = 0;
    for (int32_t j = 1; j < n_letters; j++)
        if (res->raw_scores[j] > res->raw_scores[braw]) braw = j;
    vb_method_trace_ids(in, "prediction", &res->prediction, 1);
    vb_method_trace_ids(in, "prediction_from_raw_logits", &braw, 1);
}

int vb_answerer_readout(struct vb_answerer * a, const struct vb_method_input * in, int32_t n_letters, float penalty,
                        int32_t max_new, struct vb_method_result * res) {
    const struct vb_bundle * b = a->b;
    int32_t *                prev = vb_malloc(sizeof(int32_t) * (size_t)(max_new + 3));
    int32_t                  start = b->cfg.t5.dec_start_id;
    prev[0] = start;
    int64_t t0 = vb_time_us();
    int     rc = step(a, start, prev, 1, penalty, a->lg[0], a->lg[1]);
    if (rc != VB_OK) goto out;
    int32_t tok0 = vb_gen_argmax(a->lg[1], a->vocab);
    prev[1] = tok0;
    rc = step(a, tok0, prev, 2, penalty, a->lg[2], a->lg[3]);
    if (rc != VB_OK) goto out;
    res->step0_id = tok0;
    res->step0_is_eos = tok0 == b->eos_id;
    res->n_scores = n_letters;
    int32_t best = 0;
    for (int32_t j = 0; j < n_letters; j++) {
        res->scores[j] = a->lg[3][b->letter_ids[j]];
        res->raw_scores[j] = a->lg[2][b->letter_ids[j]];
        if (res->scores[j] > res->scores[best]) best = j;
    }
    res->prediction = best;
    res->n_generated = 2;
    if (a->o->decode == VB_DECODE_AS_RELEASED && !res->step0_is_eos) {
        prev[2] = vb_gen_argmax(a->lg[3], a->vocab);
        rc = continue_greedy(a, prev, 3, max_new, penalty, &res->n_generated);
    }
    res->t_t5_dec_us += vb_time_us() - t0;
    if (rc != VB_OK) goto out;
    if (in->trace) trace_readout(a, in, prev, n_letters, res);
out:
    free(prev);
    return rc;
}

int vb_answerer_encode_answer(struct vb_answerer * a, const struct vb_method_input * in, int64_t n_vis,
                              const int32_t * qa_ids, int32_t Lq, int32_t n_letters, int64_t t0_us,
                              struct vb_method_result * res) {
    int32_t d = a->d_model;
    int64_t n_enc = n_vis + Lq;
    int     rc = vb_t5_embed(a->b->t5, qa_ids, Lq, a->emb + n_vis * d);
    if (rc != VB_OK) return rc;
    memset(a->mask + n_vis, 1, (size_t)Lq);
    res->n_qa_tokens = Lq;
    if (in->trace) {
        vb_method_trace_ids(in, "qa_input_ids", qa_ids, Lq);
        vb_method_trace(in, "inputs_embeds", a->emb, n_enc * d);
        vb_method_trace_mask(in, "attention_mask", a->mask, n_enc);
    }
    rc = vb_t5_encode(a->t5, a->emb, a->mask, n_enc, NULL);
    res->t_t5_enc_us += vb_time_us() - t0_us;
    if (rc != VB_OK) return rc;
    vb_method_trace(in, "encoder_last_hidden_state", a->t5->enc_out, n_enc * d);
    return vb_answerer_readout(a, in, n_letters, a->o->repetition_penalty, a->o->max_new_tokens, res);
}
