/* vlap.c — VLAP / ViLA: Frame-Prompter selection and the InstructBLIP answerer (see vlap.h). */
#include "vlap/vlap.h"

#include "engine/common.h"
#include "engine/frame_prompter.h"
#include "engine/ops.h"
#include "engine/qformer.h"
#include "engine/t5.h"
#include "engine/tokenizer_bert.h"
#include "engine/vit.h"
#include "vlap/method_internal.h"

#include <math.h>
#include <string.h>

static int select_frames(struct vb_method * m, const struct vb_method_input * in, struct vb_method_result * res) {
    const struct vb_bundle *         b = m->b;
    const struct vb_frame_prompter * fp = b->fp;
    int32_t                          S = fp->n_segments, k = fp->k, N = m->n_tok, T = fp->n_frames;
    int64_t                          t0 = vb_time_us();
    float *                          logits = vb_malloc(sizeof(float) * (size_t)T);
    float *                          work = vb_malloc(sizeof(float) * (size_t)vb_frame_prompter_work_size(fp, 1));
    float *                          gates = NULL, *f1 = NULL, *nm = NULL, *rl = NULL;
    if (in->trace) {
        gates = vb_malloc(sizeof(float) * (size_t)T * (size_t)N);
        f1 = vb_malloc(sizeof(float) * (size_t)T);
        nm = vb_malloc(sizeof(float) * (size_t)T);
        rl = vb_malloc(sizeof(float) * (size_t)T);
    }
    vb_frame_prompter_logits(fp, m->ln, 1, m->d_vis, logits, gates, f1, nm, rl, work);
    int64_t local[VB_METHOD_MAX_PICK], sel[VB_METHOD_MAX_PICK];
    vb_frame_prompter_select(logits, NULL, 1, S, k, VB_VLAP_TEMPERATURE, NULL, NULL, local, sel, NULL);
    memcpy(res->cand_scores, logits, sizeof(float) * (size_t)T);
    if (m->o.select == VB_SELECT_GUMBEL) {
        float * U = vb_malloc(sizeof(float) * (size_t)T);
        float * g = vb_malloc(sizeof(float) * (size_t)T);
        float * soft = vb_malloc(sizeof(float) * (size_t)T);
        if (in->gumbel_uniform)
            memcpy(U, in->gumbel_uniform, sizeof(float) * (size_t)T);
        else
            vb_frame_prompter_uniform(in->seed, T, U);
        vb_frame_prompter_gumbel_noise(U, T, g);
        int64_t glocal[VB_METHOD_MAX_PICK];
        vb_frame_prompter_select(logits, g, 1, S, k, VB_VLAP_TEMPERATURE, res->cand_scores, soft, glocal, sel, NULL);
        vb_method_trace(in, "gumbel_uniform", U, T);
        vb_method_trace(in, "gumbel_noise", g, T);
        vb_method_trace(in, "gumbel_noisy_logits", res->cand_scores, T);
        vb_method_trace(in, "gumbel_soft_samples", soft, T);
        int32_t gl[VB_METHOD_MAX_PICK];
        for (int32_t s = 0; s < S; s++)
            gl[s] = (int32_t)glocal[s];
        vb_method_trace_ids(in, "gumbel_selected_local", gl, S);
        free(U);
        free(g);
        free(soft);
    }
    for (int32_t s = 0; s < S; s++)
        res->picked[s] = (int32_t)sel[s];
    res->n_picked = S;
    res->t_select_us = vb_time_us() - t0;
    if (in->trace) {
        int32_t loc32[VB_METHOD_MAX_PICK];
        for (int32_t s = 0; s < S; s++)
            loc32[s] = (int32_t)local[s];
        vb_method_trace(in, "fp_gates", gates, (int64_t)T * N);
        vb_method_trace(in, "fp_segment_input", gates, (int64_t)T * N);
        vb_method_trace(in, "fp_fc1_out", f1, T);
        vb_method_trace(in, "fp_norm_out", nm, T);
        vb_method_trace(in, "fp_relu_out", rl, T);
        vb_method_trace(in, "fp_logits", logits, T);
        vb_method_trace_ids(in, "fp_selected_local", loc32, S);
        vb_method_trace_ids(in, "selected_frames", res->picked, S);
    }
    free(gates);
    free(f1);
    free(nm);
    free(rl);
    free(work);
    free(logits);
    return VB_OK;
}

int vb_vlap_answer(struct vb_method * m, const struct vb_method_input * in, struct vb_method_result * res) {
    const struct vb_bundle * b = m->b;
    int64_t                  fsz = (int64_t)m->n_tok * m->d_vis;
    int32_t                  Q = m->n_query, d = m->d_model, T = m->n_cand;
    int64_t                  t0 = vb_time_us();
    vb_method_ln(m, m->body, T, b->vit->post_ln_w, b->vit->post_ln_b, m->ln);
    res->t_vit_us += vb_time_us() - t0;
    vb_method_trace(in, "vit_ln", m->ln, T * fsz);
    int rc = select_frames(m, in, res);
    if (rc != VB_OK) return rc;
    int32_t k = res->n_picked;
    for (int32_t j = 0; j < k; j++) {
        if (res->picked[j] != j)
            memmove(m->ln + j * fsz, m->ln + (int64_t)res->picked[j] * fsz, sizeof(float) * (size_t)fsz);
        res->picked_frames[j] = res->cand_frames[res->picked[j]];
    }
    /* Q-Former text: BERT ids of the QA prompt, [CLS] .. [SEP], left truncation at 128, the same for every frame */
    char *   qa = vb_prompt_qa(in->text);
    int32_t *bids = NULL, Lb = 0;
    t0 = vb_time_us();
    rc = vb_berttok_encode(b->berttok, qa, strlen(qa), 1, m->o.qformer_max_txt_len, 1, &bids, &Lb);
    int32_t * ids = NULL;
    if (rc == VB_OK) {
        ids = vb_malloc(sizeof(int32_t) * (size_t)k * (size_t)Lb);
        for (int32_t j = 0; j < k; j++)
            memcpy(ids + (int64_t)j * Lb, bids, sizeof(int32_t) * (size_t)Lb);
        rc = vb_qformer_run(m->qf, m->ln, k, m->n_tok, ids, NULL, Lb, m->qout, NULL, NULL, NULL);
    }
    if (rc == VB_OK) vb_projection_run(b->proj, m->qout, (int64_t)k * Q, m->proj);
    res->t_qformer_us += vb_time_us() - t0;
    free(ids);
    if (rc == VB_OK) {
        vb_method_trace_ids(in, "qformer_input_ids", bids, Lb);
        int32_t * ones = vb_malloc(sizeof(int32_t) * (size_t)Lb);
        for (int32_t i = 0; i < Lb; i++)
            ones[i] = 1;
        vb_method_trace_ids(in, "qformer_attention_mask", ones, Lb);
        free(ones);
        vb_method_trace(in, "qformer_output", m->qout, (int64_t)k * Q * m->d_q);
        vb_method_trace(in, "projected", m->proj, (int64_t)k * Q * d);
    }
    free(bids);
    /* T5: [k*Q visual rows; QA prompt ids with </s>, not truncated (ViLA's tokenizer truncates left if asked)] */
    t0 = vb_time_us();
    int32_t *qa_ids = NULL, Lt = 0;
    if (rc == VB_OK) rc = vb_method_t5_ids(m, qa, m->o.max_txt_len, 1, &qa_ids, &Lt, &res->n_qa_tokens_full);
    free(qa);
    int64_t n_enc = (int64_t)k * Q + Lt;
    if (rc == VB_OK) rc = vb_method_reserve(m, n_enc, m->o.max_new_tokens + 2);
    if (rc == VB_OK) {
        memcpy(m->emb, m->proj, sizeof(float) * (size_t)k * (size_t)Q * (size_t)d);
        rc = vb_t5_embed(b->t5, qa_ids, Lt, m->emb + (int64_t)k * Q * d);
        memset(m->mask, 1, (size_t)n_enc);
    }
    res->n_qa_tokens = Lt;
    if (rc == VB_OK) {
        vb_method_trace_ids(in, "qa_input_ids", qa_ids, Lt);
        vb_method_trace(in, "inputs_embeds", m->emb, n_enc * d);
        vb_method_trace_mask(in, "attention_mask", m->mask, n_enc);
    }
    free(qa_ids);
    if (rc != VB_OK) return rc;
    rc = vb_t5_encode(m->t5, m->emb, m->mask, n_enc, NULL);
    res->t_t5_enc_us += vb_time_us() - t0;
    if (rc != VB_OK) return rc;
    vb_method_trace(in, "encoder_last_hidden_state", m->t5->enc_out, n_enc * d);
    return vb_method_readout(m, in, VB_PROMPT_N_LETTERS, m->o.repetition_penalty, m->o.max_new_tokens, res);
}
