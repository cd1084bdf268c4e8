/* uniform.c — the BLIP-2 answerer of uniform BLIP-2 and SeViLA (see uniform.h, docs/methods.md §3, §4 steps 6-7). */
#include "baselines/uniform.h"

#include "engine/common.h"
#include "engine/qformer.h"
#include "engine/t5.h"
#include "engine/tokenizer_t5.h"
#include "engine/vit.h"
#include "vlap/method_internal.h"

#include <string.h>

int vb_uniform_prefix_ids(const struct vb_bundle * b, int32_t k, int32_t ** ids_out, uint8_t ** mask_out,
                          int32_t * P_out) {
    int32_t ** each = vb_calloc((size_t)k, sizeof *each);
    int32_t *  len = vb_calloc((size_t)k, sizeof *len);
    int32_t    P = 0;
    int        rc = VB_OK;
    for (int32_t i = 0; i < k && rc == VB_OK; i++) {
        char buf[32];
        rc = vb_t5tok_encode(b->t5tok, vb_prompt_frame_prefix(i + 1, buf, sizeof buf), 0, 0, &each[i], &len[i]);
        if (rc == VB_OK) P = VB_MAX(P, len[i]);
    }
    if (rc == VB_OK) {
        int32_t * ids = vb_malloc(sizeof(int32_t) * (size_t)(k * P > 0 ? k * P : 1));
        uint8_t * mask = vb_malloc((size_t)(k * P > 0 ? k * P : 1));
        for (int32_t i = 0; i < k; i++)
            for (int32_t j = 0; j < P; j++) {
                ids[i * P + j] = j < len[i] ? each[i][j] : b->cfg.t5.pad_id;
                mask[i * P + j] = j < len[i];
            }
        *ids_out = ids;
        *mask_out = mask;
        *P_out = P;
    }
    for (int32_t i = 0; i < k; i++)
        free(each[i]);
    free(each);
    free(len);
    return rc;
}

int vb_uniform_answer(struct vb_method * m, const struct vb_method_input * in, const int32_t * picked, int32_t k,
                      struct vb_method_result * res) {
    const struct vb_bundle * b = m->b;
    int64_t                  fsz = (int64_t)m->n_tok * m->d_vis;
    int32_t                  Q = m->n_query, d = m->d_model;
    /* ln_vision on all candidates (as the reference), then gather the picked rows (ascending: in place is safe) */
    int64_t t0 = vb_time_us();
    vb_method_ln(m, m->body, m->n_cand, b->vit->post_ln_w, b->vit->post_ln_b, m->ln);
    res->t_vit_us += vb_time_us() - t0;
    vb_method_trace(in, "vit_ln", m->ln, m->n_cand * fsz);
    for (int32_t j = 0; j < k; j++) {
        if (picked[j] < 0 || picked[j] >= m->n_cand || (j > 0 && picked[j] <= picked[j - 1]))
            return vb_fail(VB_ERR_ARG, "answerer: picked frames must be ascending candidate positions");
        if (picked[j] != j) memmove(m->ln + j * fsz, m->ln + picked[j] * fsz, sizeof(float) * (size_t)fsz);
        res->picked[j] = picked[j];
        res->picked_frames[j] = res->cand_frames[picked[j]];
    }
    res->n_picked = k;
    t0 = vb_time_us();
    int rc = vb_qformer_run(m->qf, m->ln, k, m->n_tok, NULL, NULL, 0, m->qout, NULL, NULL, NULL);
    if (rc != VB_OK) return rc;
    vb_projection_run(b->proj, m->qout, (int64_t)k * Q, m->proj);
    res->t_qformer_us += vb_time_us() - t0;
    vb_method_trace(in, "qformer_output", m->qout, (int64_t)k * Q * m->d_q);
    vb_method_trace(in, "projected", m->proj, (int64_t)k * Q * d);

    /* encoder input: per frame [prefix ids (P rows); Q rows], then the QA prompt */
    t0 = vb_time_us();
    int32_t * pre = NULL, *qa_ids = NULL, P = 0, Lq = 0;
    uint8_t * pre_mask = NULL;
    char *    qa = vb_prompt_qa(in->text);
    rc = vb_uniform_prefix_ids(b, k, &pre, &pre_mask, &P);
    if (rc == VB_OK) rc = vb_method_t5_ids(m, qa, m->o.max_txt_len, 0, &qa_ids, &Lq, &res->n_qa_tokens_full);
    free(qa);
    int64_t n_enc = (int64_t)k * (P + Q) + Lq;
    if (rc == VB_OK) rc = vb_method_reserve(m, n_enc, m->o.max_new_tokens + 2);
    int64_t r = 0;
    for (int32_t i = 0; rc == VB_OK && i < k; i++) {
        rc = vb_t5_embed(b->t5, pre + i * P, P, m->emb + r * d);
        for (int32_t j = 0; j < P; j++)
            m->mask[r + j] = pre_mask[i * P + j];
        r += P;
        memcpy(m->emb + r * d, m->proj + (int64_t)i * Q * d, sizeof(float) * (size_t)Q * (size_t)d);
        memset(m->mask + r, 1, (size_t)Q);
        r += Q;
    }
    if (rc == VB_OK) rc = vb_t5_embed(b->t5, qa_ids, Lq, m->emb + r * d);
    if (rc == VB_OK) memset(m->mask + r, 1, (size_t)Lq);
    res->n_qa_tokens = Lq;
    if (rc == VB_OK && in->trace) {
        vb_method_trace_ids(in, "vid_prefix_ids", pre, (int64_t)k * P);
        vb_method_trace_ids(in, "qa_input_ids", qa_ids, Lq);
        vb_method_trace(in, "inputs_embeds", m->emb, n_enc * d);
        vb_method_trace_mask(in, "attention_mask", m->mask, n_enc);
    }
    free(pre);
    free(pre_mask);
    free(qa_ids);
    if (rc != VB_OK) return rc;
    rc = vb_t5_encode(m->t5, m->emb, m->mask, n_enc, NULL);
    res->t_t5_enc_us += vb_time_us() - t0;
    if (rc != VB_OK) return rc;
    vb_method_trace(in, "encoder_last_hidden_state", m->t5->enc_out, n_enc * d);
    int32_t n_letters = VB_MIN(in->text->n_options, VB_PROMPT_N_LETTERS);
    return vb_method_readout(m, in, n_letters, m->o.repetition_penalty, m->o.max_new_tokens, res);
}
