/* vlap.c — VLAP / ViLA: Frame-Prompter selection and the InstructBLIP answerer (see vlap.h). */
#include "vlap/vlap.h"

#include "engine/common.h"
#include "engine/ops.h"
#include "engine/qformer.h"
#include "engine/t5.h"
#include "engine/tokenizer_bert.h"
#include "engine/vit.h"
#include "vlap/method_internal.h"

#include <math.h>
#include <string.h>

void vb_vlap_frame_prompter(const struct vb_bundle * b, const float * ln, int32_t S, int32_t N, int32_t d,
                            float * logits, float * gates_out, float * seg_out, float * fc1_o, float * norm_o,
                            float * relu_o) {
    int32_t k = b->fp_frames_per_segment, T = S * k;
    float * gates = vb_malloc(sizeof(float) * (size_t) T * (size_t) N); /* = segment input (S, k*N), frame-major */
    for (int64_t r = 0; r < (int64_t) T * N; r++) {
        const float * x = ln + r * d;
        double s = 0;
        for (int32_t c = 0; c < d; c++) s += x[c];
        gates[r] = (float) (s / d);
    }
    float * h = vb_malloc(sizeof(float) * (size_t) S * (size_t) k);
    vb_linear(gates, S, (int64_t) k * N, b->fp_fc1_w, b->fp_fc1_b, k, h);
    if (gates_out) memcpy(gates_out, gates, sizeof(float) * (size_t) T * (size_t) N);
    if (seg_out) memcpy(seg_out, gates, sizeof(float) * (size_t) T * (size_t) N);
    if (fc1_o) memcpy(fc1_o, h, sizeof(float) * (size_t) S * (size_t) k);
    vb_layernorm(h, S, k, b->fp_norm_w, b->fp_norm_b, b->fp_norm_eps, h);
    if (norm_o) memcpy(norm_o, h, sizeof(float) * (size_t) S * (size_t) k);
    vb_relu(h, (int64_t) S * k);
    if (relu_o) memcpy(relu_o, h, sizeof(float) * (size_t) S * (size_t) k);
    vb_linear(h, S, k, b->fp_fc2_w, b->fp_fc2_b, k, logits);
    free(h);
    free(gates);
}

void vb_vlap_gumbel_noise(const float * U, int32_t n, float * g) {
    const float eps = 1e-10f;
    for (int32_t i = 0; i < n; i++) g[i] = -logf(eps - logf(U[i] + eps));
}

static uint64_t splitmix(uint64_t * x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void vb_vlap_uniform(uint64_t seed, int32_t n, float * U) {
    uint64_t s[4], x = seed;
    for (int i = 0; i < 4; i++) s[i] = splitmix(&x);
    for (int32_t i = 0; i < n; i++) {
        uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = rotl(s[3], 45);
        U[i] = (float) (r >> 40) * (1.0f / 16777216.0f);
    }
}

/* argmax per segment row (first maximum = lowest index). */
static void seg_argmax(const float * x, int32_t S, int32_t k, int32_t * out) {
    for (int32_t s = 0; s < S; s++) {
        int32_t best = 0;
        for (int32_t j = 1; j < k; j++)
            if (x[s * k + j] > x[s * k + best]) best = j;
        out[s] = best;
    }
}

static int select_frames(struct vb_method * m, const struct vb_method_input * in, struct vb_method_result * res) {
    const struct vb_bundle * b = m->b;
    int32_t S = b->fp_segments, k = b->fp_frames_per_segment, N = m->n_tok, T = S * k;
    int64_t t0 = vb_time_us();
    float * logits = vb_malloc(sizeof(float) * (size_t) T);
    float *gates = NULL, *seg = NULL, *f1 = NULL, *nm = NULL, *rl = NULL;
    if (in->trace) {
        gates = vb_malloc(sizeof(float) * (size_t) T * (size_t) N);
        seg = vb_malloc(sizeof(float) * (size_t) T * (size_t) N);
        f1 = vb_malloc(sizeof(float) * (size_t) T);
        nm = vb_malloc(sizeof(float) * (size_t) T);
        rl = vb_malloc(sizeof(float) * (size_t) T);
    }
    vb_vlap_frame_prompter(b, m->ln, S, N, m->d_vis, logits, gates, seg, f1, nm, rl);
    int32_t local[VB_METHOD_MAX_PICK], glocal[VB_METHOD_MAX_PICK];
    seg_argmax(logits, S, k, local);
    memcpy(res->cand_scores, logits, sizeof(float) * (size_t) T);
    int32_t * pick = local;
    if (m->o.select == VB_SELECT_GUMBEL) {
        float * U = vb_malloc(sizeof(float) * (size_t) T);
        float * g = vb_malloc(sizeof(float) * (size_t) T);
        if (in->gumbel_uniform) memcpy(U, in->gumbel_uniform, sizeof(float) * (size_t) T);
        else vb_vlap_uniform(in->seed, T, U);
        vb_vlap_gumbel_noise(U, T, g);
        for (int32_t i = 0; i < T; i++) res->cand_scores[i] = logits[i] + g[i];
        seg_argmax(res->cand_scores, S, k, glocal);
        pick = glocal;
        vb_method_trace(in, "gumbel_uniform", U, T);
        vb_method_trace(in, "gumbel_noise", g, T);
        vb_method_trace(in, "gumbel_noisy_logits", res->cand_scores, T);
        vb_method_trace_ids(in, "gumbel_selected_local", glocal, S);
        if (in->trace) { /* soft samples at the inference temperature (not used for the pick) */
            float * soft = vb_malloc(sizeof(float) * (size_t) T);
            for (int32_t i = 0; i < T; i++) soft[i] = res->cand_scores[i] / VB_VLAP_TEMPERATURE;
            vb_softmax_rows(soft, S, k);
            vb_method_trace(in, "gumbel_soft_samples", soft, T);
            free(soft);
        }
        free(U);
        free(g);
    }
    for (int32_t s = 0; s < S; s++) res->picked[s] = s * k + pick[s];
    res->n_picked = S;
    res->t_select_us = vb_time_us() - t0;
    if (in->trace) {
        vb_method_trace(in, "fp_gates", gates, (int64_t) T * N);
        vb_method_trace(in, "fp_segment_input", seg, (int64_t) T * N);
        vb_method_trace(in, "fp_fc1_out", f1, T);
        vb_method_trace(in, "fp_norm_out", nm, T);
        vb_method_trace(in, "fp_relu_out", rl, T);
        vb_method_trace(in, "fp_logits", logits, T);
        vb_method_trace_ids(in, "fp_selected_local", local, S);
        vb_method_trace_ids(in, "selected_frames", res->picked, S);
    }
    free(gates);
    free(seg);
    free(f1);
    free(nm);
    free(rl);
    free(logits);
    return VB_OK;
}

int vb_vlap_answer(struct vb_method * m, const struct vb_method_input * in, struct vb_method_result * res) {
    const struct vb_bundle * b = m->b;
    int64_t fsz = (int64_t) m->n_tok * m->d_vis;
    int32_t Q = m->n_query, d = m->d_model, T = m->n_cand;
    int64_t t0 = vb_time_us();
    vb_method_ln(m, m->body, T, b->vit->post_ln_w, b->vit->post_ln_b, m->ln);
    res->t_vit_us += vb_time_us() - t0;
    vb_method_trace(in, "vit_ln", m->ln, T * fsz);
    int rc = select_frames(m, in, res);
    if (rc != VB_OK) return rc;
    int32_t k = res->n_picked;
    for (int32_t j = 0; j < k; j++) {
        if (res->picked[j] != j)
            memmove(m->ln + j * fsz, m->ln + (int64_t) res->picked[j] * fsz, sizeof(float) * (size_t) fsz);
        res->picked_frames[j] = res->cand_frames[res->picked[j]];
    }
    /* Q-Former text: BERT ids of the QA prompt, [CLS] .. [SEP], left truncation at 128, the same for every frame */
    char * qa = vb_prompt_qa(in->text);
    int32_t *bids = NULL, Lb = 0;
    t0 = vb_time_us();
    rc = vb_berttok_encode(b->berttok, qa, strlen(qa), 1, m->o.qformer_max_txt_len, 1, &bids, &Lb);
    int32_t * ids = NULL;
    if (rc == VB_OK) {
        ids = vb_malloc(sizeof(int32_t) * (size_t) k * (size_t) Lb);
        for (int32_t j = 0; j < k; j++) memcpy(ids + (int64_t) j * Lb, bids, sizeof(int32_t) * (size_t) Lb);
        rc = vb_qformer_run(m->qf, m->ln, k, m->n_tok, ids, NULL, Lb, m->qout, NULL, NULL, NULL);
    }
    if (rc == VB_OK) vb_projection_run(b->proj, m->qout, (int64_t) k * Q, m->proj);
    res->t_qformer_us += vb_time_us() - t0;
    free(ids);
    if (rc == VB_OK) {
        vb_method_trace_ids(in, "qformer_input_ids", bids, Lb);
        int32_t * ones = vb_malloc(sizeof(int32_t) * (size_t) Lb);
        for (int32_t i = 0; i < Lb; i++) ones[i] = 1;
        vb_method_trace_ids(in, "qformer_attention_mask", ones, Lb);
        free(ones);
        vb_method_trace(in, "qformer_output", m->qout, (int64_t) k * Q * m->d_q);
        vb_method_trace(in, "projected", m->proj, (int64_t) k * Q * d);
    }
    free(bids);
    /* T5: [k*Q visual rows; QA prompt ids with </s>, not truncated (ViLA's tokenizer truncates left if asked)] */
    t0 = vb_time_us();
    int32_t *qa_ids = NULL, Lt = 0;
    if (rc == VB_OK) rc = vb_method_t5_ids(m, qa, m->o.max_txt_len, 1, &qa_ids, &Lt, &res->n_qa_tokens_full);
    free(qa);
    int64_t n_enc = (int64_t) k * Q + Lt;
    if (rc == VB_OK) rc = vb_method_reserve(m, n_enc, m->o.max_new_tokens + 2);
    if (rc == VB_OK) {
        memcpy(m->emb, m->proj, sizeof(float) * (size_t) k * (size_t) Q * (size_t) d);
        rc = vb_t5_embed(b->t5, qa_ids, Lt, m->emb + (int64_t) k * Q * d);
        memset(m->mask, 1, (size_t) n_enc);
    }
    res->n_qa_tokens = Lt;
    if (rc == VB_OK) {
        vb_method_trace_ids(in, "qa_input_ids", qa_ids, Lt);
        vb_method_trace(in, "inputs_embeds", m->emb, n_enc * d);
        float * mf = vb_malloc(sizeof(float) * (size_t) n_enc);
        for (int64_t i = 0; i < n_enc; i++) mf[i] = m->mask[i];
        vb_method_trace(in, "attention_mask", mf, n_enc);
        free(mf);
    }
    free(qa_ids);
    if (rc != VB_OK) return rc;
    rc = vb_t5_encode(m->t5, m->emb, m->mask, n_enc, NULL);
    res->t_t5_enc_us += vb_time_us() - t0;
    if (rc != VB_OK) return rc;
    vb_method_trace(in, "encoder_last_hidden_state", m->t5->enc_out, n_enc * d);
    return vb_method_readout(m, in, VB_PROMPT_N_LETTERS, m->o.repetition_penalty, m->o.max_new_tokens, res);
}
