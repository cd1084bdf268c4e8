/* vlap.c — VLAP / ViLA: Frame-Prompter selection and the InstructBLIP answerer (see vlap.h). */
#include "vlap/vlap.h"

#include "base/common.h"
#include "engine/frame_prompter.h"
#include "engine/ops.h"
#include "engine/qformer.h"
#include "engine/t5.h"
#include "methods/answerer.h"

#include <math.h>
#include <string.h>

static int select_frames(struct vb_answerer * m, const struct vb_method_input * in, int32_t * picked,
                         struct vb_method_result * res) {
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
    res->has_scores = 1;
    if (m->o->select == VB_SELECT_GUMBEL) {
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
        picked[s] = (int32_t)sel[s];
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
        vb_method_trace_ids(in, "selected_frames", picked, S);
    }
    free(gates);
    free(f1);
    free(nm);
    free(rl);
    free(work);
    free(logits);
    return VB_OK;
}

/* Q-Former of the k gathered frames with the BERT ids of the QA prompt ([CLS] .. [SEP], left truncation, the same
** ids for every frame), then the language projection. */
static int qformer_text(struct vb_answerer * a, const struct vb_method_input * in, const char * qa, int32_t k,
                        struct vb_method_result * res) {
    int32_t   Q = a->n_query, d = a->d_model;
    int32_t * bids = NULL, Lb = 0;
    int64_t   t0 = vb_time_us();
    int       rc = vb_answerer_bert_ids(a, qa, a->o->qformer_max_txt_len, 1, &bids, &Lb);
    int32_t * ids = NULL;
    if (rc == VB_OK) {
        ids = vb_malloc(sizeof(int32_t) * (size_t)k * (size_t)Lb);
        for (int32_t j = 0; j < k; j++)
            memcpy(ids + (int64_t)j * Lb, bids, sizeof(int32_t) * (size_t)Lb);
        rc = vb_qformer_run(a->qf, a->ln, k, a->n_tok, ids, NULL, Lb, a->qout, NULL, NULL, NULL);
    }
    if (rc == VB_OK) rc = vb_projection_run(a->b->proj, a->qout, (int64_t)k * Q, a->proj);
    res->t_qformer_us += vb_time_us() - t0;
    free(ids);
    if (rc == VB_OK) {
        vb_method_trace_ids(in, "qformer_input_ids", bids, Lb);
        int32_t * ones = vb_malloc(sizeof(int32_t) * (size_t)Lb);
        for (int32_t i = 0; i < Lb; i++)
            ones[i] = 1;
        vb_method_trace_ids(in, "qformer_attention_mask", ones, Lb);
        free(ones);
        vb_method_trace(in, "qformer_output", a->qout, (int64_t)k * Q * a->d_q);
        vb_method_trace(in, "projected", a->proj, (int64_t)k * Q * d);
    }
    free(bids);
    return rc;
}

static int answer_vlap(void * state, const struct vb_method_input * in, struct vb_method_result * res) {
    struct vb_answerer * a = state;
    int32_t              Q = a->n_query, d = a->d_model, picked[VB_METHOD_MAX_PICK];
    vb_answerer_ln_vision(a, in, res);
    int     rc = select_frames(a, in, picked, res);
    int32_t k = a->o->n_frames;
    if (rc == VB_OK) rc = vb_answerer_gather(a, picked, k, res);
    char * qa = vb_prompt_qa(in->text);
    if (rc == VB_OK) rc = qformer_text(a, in, qa, k, res);
    /* T5: [k*Q visual rows; QA prompt ids with </s>, not truncated (ViLA's tokenizer truncates left if asked)] */
    int64_t  t0 = vb_time_us();
    int32_t *qa_ids = NULL, Lt = 0;
    if (rc == VB_OK) rc = vb_answerer_t5_ids(a, qa, a->o->max_txt_len, 1, &qa_ids, &Lt, &res->n_qa_tokens_full);
    free(qa);
    int64_t n_vis = (int64_t)k * Q;
    if (rc == VB_OK) rc = vb_answerer_reserve(a, n_vis + Lt, a->o->max_new_tokens + 2);
    if (rc == VB_OK) {
        memcpy(a->emb, a->proj, sizeof(float) * (size_t)n_vis * (size_t)d);
        memset(a->mask, 1, (size_t)n_vis);
        rc = vb_answerer_encode_answer(a, in, n_vis, qa_ids, Lt, VB_PROMPT_N_LETTERS, t0, res);
    }
    free(qa_ids);
    return rc;
}

static const char * selection_label(enum vb_select_mode s) {
    return vb_select_mode_name(s);
}

static int32_t candidates(const struct vb_bundle * b, int32_t k, int32_t requested) {
    (void)k;
    if (requested > 0) return requested;
    return b->has_frame_prompter ? b->fp_segments * b->fp_frames_per_segment : 32;
}

static int open_vlap(void ** state, const struct vb_bundle * b, struct vb_method_opts * o) {
    if (!b->has_frame_prompter)
        return vb_fail(VB_ERR_NOTFOUND, "%s: VLAP needs the Frame-Prompter (frame_prompter.* tensors)", b->dir);
    int rc = vb_method_check_bundle(b, vb_vlap_ops.bundle_parts, VB_ARCH_INSTRUCTBLIP, "VLAP");
    if (rc != VB_OK) return rc;
    if (o->n_frames != b->fp_segments)
        return vb_fail(VB_ERR_ARG, "%s: the Frame-Prompter picks %d frames (segments); --frames %d", b->dir,
                       b->fp_segments, o->n_frames);
    if (o->n_candidates != b->fp_segments * b->fp_frames_per_segment)
        return vb_fail(VB_ERR_ARG, "%s: the Frame-Prompter takes %d candidates (%d segments x %d); --candidates %d",
                       b->dir, b->fp_segments * b->fp_frames_per_segment, b->fp_segments, b->fp_frames_per_segment,
                       o->n_candidates);
    rc = vb_method_check_counts(o);
    if (rc != VB_OK) return rc;
    if (o->max_new_tokens <= 0) o->max_new_tokens = 256;
    if (o->repetition_penalty <= 0) o->repetition_penalty = 1.5f;
    if (o->max_txt_len == 0) o->max_txt_len = -1; /* no truncation */
    if (o->qformer_max_txt_len <= 0) o->qformer_max_txt_len = 128;
    struct vb_answerer * a = vb_calloc(1, sizeof *a);
    *state = a;
    return vb_answerer_init(a, b, o, o->qformer_max_txt_len, 0);
}

static void close_vlap(void * state) {
    if (!state) return;
    vb_answerer_free(state);
    free(state);
}

const struct vb_method_ops vb_vlap_ops = {
    .name = "vlap",
    .bundle_parts = VB_BUNDLE_VISION | VB_BUNDLE_QFORMER | VB_BUNDLE_T5 | VB_BUNDLE_PROMPTER,
    .reusable_selection = 0,
    .selection_label = selection_label,
    .candidates = candidates,
    .open = open_vlap,
    .close = close_vlap,
    .answer = answer_vlap,
};
