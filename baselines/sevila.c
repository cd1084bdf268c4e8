/* sevila.c — SeViLA's localizer (see sevila.h). */
#include "baselines/sevila.h"

#include "engine/common.h"
#include "engine/generate.h"
#include "engine/qformer.h"
#include "engine/t5.h"
#include "engine/tokenizer_t5.h"
#include "vlap/method_internal.h"

#include <string.h>

void vb_sevila_topk(const float * s, int32_t n, int32_t k, int32_t * order, int32_t * picked) {
    VB_ASSERT(k >= 0 && k <= n);
    uint8_t * used = vb_calloc((size_t) n, 1);
    for (int32_t j = 0; j < k; j++) {
        int32_t best = -1;
        for (int32_t i = 0; i < n; i++)
            if (!used[i] && (best < 0 || s[i] > s[best])) best = i; /* strict >: ties keep the lower index */
        used[best] = 1;
        order[j] = best;
    }
    int32_t c = 0;
    for (int32_t i = 0; i < n; i++)
        if (used[i]) picked[c++] = i;
    free(used);
}

/* Localizer scores of all T candidates into res->cand_scores. */
static int localize(struct vb_method * m, const struct vb_method_input * in, struct vb_method_result * res) {
    const struct vb_bundle * b = m->b;
    int32_t T = m->n_cand, d = m->d_model, Ql = b->loc_qformer->n_query;
    int64_t fsz = (int64_t) m->n_tok * m->d_vis;
    int64_t t0 = vb_time_us();
    vb_method_ln(m, m->body, T, b->loc_ln_w, b->loc_ln_b, m->ln);
    vb_method_trace(in, "loc_vision_layernorm", m->ln, T * fsz);
    int rc = vb_qformer_run(m->loc_qf, m->ln, T, m->n_tok, NULL, NULL, 0, m->qout, NULL, NULL, NULL);
    if (rc != VB_OK) return rc;
    vb_projection_run(b->loc_proj, m->qout, (int64_t) T * Ql, m->proj);
    res->t_loc_qformer_us = vb_time_us() - t0;
    vb_method_trace(in, "loc_qformer_output", m->qout, (int64_t) T * Ql * m->d_q);
    vb_method_trace(in, "loc_projected", m->proj, (int64_t) T * Ql * d);

    int64_t t1 = vb_time_us();
    char buf[32];
    int32_t *pre = NULL, *loc_ids = NULL, P = 0, L = 0, n_full = 0;
    char * loc = vb_prompt_loc(in->text);
    rc = vb_t5tok_encode(b->t5tok, vb_prompt_frame_prefix(0, buf, sizeof buf), 0, 0, &pre, &P);
    if (rc == VB_OK) rc = vb_method_t5_ids(m, loc, m->o.max_txt_len, 0, &loc_ids, &L, &n_full);
    free(loc);
    int64_t n_enc = (int64_t) P + Ql + L;
    int32_t max_new = m->o.decode == VB_DECODE_AS_RELEASED ? m->o.max_new_tokens : 1;
    if (rc == VB_OK) rc = vb_method_reserve(m, n_enc, max_new + 2);
    /* the prefix and prompt rows are the same for every frame */
    if (rc == VB_OK) rc = vb_t5_embed(b->t5, pre, P, m->emb);
    if (rc == VB_OK) rc = vb_t5_embed(b->t5, loc_ids, L, m->emb + (int64_t) (P + Ql) * d);
    if (rc == VB_OK) memset(m->mask, 1, (size_t) n_enc);
    if (rc == VB_OK) {
        vb_method_trace_ids(in, "frame_prefix_ids", pre, P);
        vb_method_trace_ids(in, "loc_input_ids", loc_ids, L);
    }
    int32_t * prev = vb_malloc(sizeof(int32_t) * (size_t) (max_new + 3));
    for (int32_t f = 0; rc == VB_OK && f < T; f++) {
        memcpy(m->emb + (int64_t) P * d, m->proj + (int64_t) f * Ql * d, sizeof(float) * (size_t) Ql * (size_t) d);
        vb_method_trace(in, "loc_inputs_embeds", m->emb, n_enc * d);
        rc = vb_t5_encode(m->t5, m->emb, m->mask, n_enc, NULL);
        if (rc != VB_OK) break;
        prev[0] = b->cfg.t5.dec_start_id;
        rc = vb_t5_decode(m->t5, prev, 1, m->lgx, NULL, NULL);
        if (rc != VB_OK) break;
        /* repetition_penalty 1.0 and min_length 1: processed step-0 scores = raw logits */
        res->cand_scores[f] = m->lgx[b->yes_id];
        if (f == 0) vb_method_trace(in, "loc_step0_logits_frame0", m->lgx, m->vocab);
        if (max_new > 1) {
            prev[1] = vb_gen_argmax(m->lgx, m->vocab);
            int32_t n_gen;
            rc = vb_method_continue(m, prev, 2, max_new, 1.0f, &n_gen);
        }
    }
    free(prev);
    free(pre);
    free(loc_ids);
    res->t_loc_t5_us = vb_time_us() - t1;
    if (rc == VB_OK) {
        float * mf = vb_malloc(sizeof(float) * (size_t) n_enc);
        for (int64_t i = 0; i < n_enc; i++) mf[i] = 1.0f;
        for (int32_t f = 0; f < T && in->trace; f++) vb_method_trace(in, "loc_attention_mask", mf, n_enc);
        free(mf);
    }
    return rc;
}

int vb_sevila_localize(struct vb_method * m, const struct vb_method_input * in, struct vb_method_result * res) {
    int64_t t0 = vb_time_us();
    int32_t T = m->n_cand, k = m->o.n_frames;
    int rc = VB_OK;
    if (in->loc_scores) {
        memcpy(res->cand_scores, in->loc_scores, sizeof(float) * (size_t) T);
        res->loc_scores_reused = 1;
    } else {
        rc = localize(m, in, res);
        if (rc != VB_OK) return rc;
    }
    vb_method_trace(in, "loc_scores", res->cand_scores, T);
    int32_t order[VB_METHOD_MAX_PICK];
    vb_sevila_topk(res->cand_scores, T, k, order, res->picked);
    res->n_picked = k;
    res->t_select_us = vb_time_us() - t0;
    vb_method_trace_ids(in, "loc_topk_indices", order, k);
    vb_method_trace_ids(in, "selected_frames", res->picked, k);
    return rc;
}
