/* blip2_answer.c — the frame-prefixed BLIP-2 answerer of uniform BLIP-2 and SeViLA (see answerer.h, methods.md §3,
** §4 steps 6-7). */
#include "base/common.h"
#include "engine/qformer.h"
#include "engine/t5.h"
#include "engine/tokenizer_t5.h"
#include "methods/answerer.h"

#include <string.h>

int vb_blip2_prefix_ids(const struct vb_bundle * b, int32_t k, int32_t ** ids_out, uint8_t ** mask_out,
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

/* Encoder rows of the visual part: per frame [prefix ids (P rows, padded); Q projected rows]. */
static int fill_visual(struct vb_answerer * a, const int32_t * pre, const uint8_t * pre_mask, int32_t P, int32_t k) {
    int32_t Q = a->n_query, d = a->d_model;
    int64_t r = 0;
    for (int32_t i = 0; i < k; i++) {
        int rc = vb_t5_embed(a->b->t5, pre + i * P, P, a->emb + r * d);
        if (rc != VB_OK) return rc;
        for (int32_t j = 0; j < P; j++)
            a->mask[r + j] = pre_mask[i * P + j];
        r += P;
        memcpy(a->emb + r * d, a->proj + (int64_t)i * Q * d, sizeof(float) * (size_t)Q * (size_t)d);
        memset(a->mask + r, 1, (size_t)Q);
        r += Q;
    }
    return VB_OK;
}

int vb_blip2_answer(struct vb_answerer * a, const struct vb_method_input * in, const int32_t * picked, int32_t k,
                    struct vb_method_result * res) {
    const struct vb_bundle * b = a->b;
    int32_t                  Q = a->n_query, d = a->d_model;
    /* ln_vision on all candidates (as the reference), then gather the picked rows */
    vb_answerer_ln_vision(a, in, res);
    int rc = vb_answerer_gather(a, picked, k, res);
    if (rc != VB_OK) return rc;
    int64_t t0 = vb_time_us();
    rc = vb_qformer_run(a->qf, a->ln, k, a->n_tok, NULL, NULL, 0, a->qout, NULL, NULL, NULL);
    if (rc != VB_OK) return rc;
    rc = vb_projection_run(b->proj, a->qout, (int64_t)k * Q, a->proj);
    if (rc != VB_OK) return rc;
    res->t_qformer_us += vb_time_us() - t0;
    vb_method_trace(in, "qformer_output", a->qout, (int64_t)k * Q * a->d_q);
    vb_method_trace(in, "projected", a->proj, (int64_t)k * Q * d);

    /* encoder input: per frame [prefix ids (P rows); Q rows], then the QA prompt */
    t0 = vb_time_us();
    int32_t * pre = NULL, *qa_ids = NULL, P = 0, Lq = 0;
    uint8_t * pre_mask = NULL;
    char *    qa = vb_prompt_qa(in->text);
    rc = vb_blip2_prefix_ids(b, k, &pre, &pre_mask, &P);
    if (rc == VB_OK) rc = vb_answerer_t5_ids(a, qa, a->o->max_txt_len, 0, &qa_ids, &Lq, &res->n_qa_tokens_full);
    free(qa);
    int64_t n_vis = (int64_t)k * (P + Q);
    if (rc == VB_OK) rc = vb_answerer_reserve(a, n_vis + Lq, a->o->max_new_tokens + 2);
    if (rc == VB_OK) rc = fill_visual(a, pre, pre_mask, P, k);
    if (rc == VB_OK) vb_method_trace_ids(in, "vid_prefix_ids", pre, (int64_t)k * P);
    int32_t n_letters = VB_MIN(in->text->n_options, VB_PROMPT_N_LETTERS);
    if (rc == VB_OK) rc = vb_answerer_encode_answer(a, in, n_vis, qa_ids, Lq, n_letters, t0, res);
    free(pre);
    free(pre_mask);
    free(qa_ids);
    return rc;
}
