/* golden_pipeline.c — pixels -> ViT -> Q-Former -> language projection -> T5 for the check-golden cases that need
** the whole pipeline: BLIP-2 "generate" / "generate_eos" (helper vb_golden_t5_build_lm_inputs, used by
** golden_t5.c) and InstructBLIP "image" / "video" (runner vb_golden_run_pipeline).  Only the case inputs (pixels,
** token ids, masks) are read from the reference; every intermediate is computed and compared.
*/
#include "base/common.h"
#include "engine/generate.h"
#include "engine/qformer.h"
#include "engine/t5.h"
#include "engine/vit.h"
#include "harness/golden.h"
#include "harness/golden_t5.h"

#include <stdio.h>
#include <string.h>

/* Visual tokens of n_frames frames: ViT post-LN output -> Q-Former (with text ids (n_frames, Lq) + mask when
** Lq > 0) -> first Q rows -> projection.  query_out (n_frames, Q, Dq) nullable, proj_out (n_frames, Q, d). */
static int visual_tokens(struct vb_golden * g, const float * pixels, int32_t n_frames, const int32_t * qids,
                         const int32_t * qmask, int32_t Lq, float * query_out, float * proj_out) {
    const struct vb_model_config * cfg = &g->cfg;
    struct vb_vit *                vit = NULL;
    struct vb_vit_ctx *            vctx = NULL;
    struct vb_qformer *            qf = NULL;
    struct vb_qformer_ctx *        qctx = NULL;
    struct vb_projection *         pj = NULL;
    float *                        img = NULL, *qo = NULL;
    int                            rc = vb_vit_load(&vit, g->model, &cfg->vision, "vision_model.");
    if (rc == VB_OK) rc = vb_vit_ctx_new(&vctx, vit, n_frames);
    if (rc == VB_OK) rc = vb_qformer_load(&qf, g->model, &cfg->qformer, cfg->num_query_tokens, "");
    if (rc == VB_OK) rc = vb_qformer_ctx_new(&qctx, qf, n_frames, Lq, vit->cfg.n_tokens);
    if (rc == VB_OK)
        rc = vb_projection_load(&pj, g->model, "language_projection", cfg->qformer.hidden, cfg->t5.d_model);
    if (rc == VB_OK && cfg->qformer.device == VB_DEVICE_CUDA) rc = vb_projection_to_device(pj);
    if (rc == VB_OK) {
        int64_t T = vit->cfg.n_tokens, Dv = cfg->vision.hidden, Q = cfg->num_query_tokens, Dq = cfg->qformer.hidden;
        img = vb_malloc(sizeof(float) * (size_t)(n_frames * T * Dv));
        qo = vb_malloc(sizeof(float) * (size_t)(n_frames * Q * Dq));
        rc = vb_vit_run(vctx, pixels, n_frames, NULL, NULL, NULL, img);
        if (rc == VB_OK)
            rc = vb_qformer_run(qctx, img, n_frames, (int32_t)T, Lq ? qids : NULL, Lq ? qmask : NULL, Lq, qo, NULL,
                                NULL, NULL);
        if (rc == VB_OK) rc = vb_projection_run(pj, qo, n_frames * Q, proj_out);
        if (rc == VB_OK) {
            if (query_out) memcpy(query_out, qo, sizeof(float) * (size_t)(n_frames * Q * Dq));
        }
    }
    free(img);
    free(qo);
    vb_projection_free(pj);
    vb_qformer_ctx_free(qctx);
    vb_qformer_free(qf);
    vb_vit_ctx_free(vctx);
    vb_vit_free(vit);
    return rc;
}

/* [visual rows (per row: n_vis, d); shared(ids)] and [ones(n_vis); mask] for B rows. */
static int assemble(const struct vb_t5_model * m, const float * vis, int64_t n_vis, const int32_t * ids,
                    const uint8_t * am, int64_t B, int64_t L, float * emb, uint8_t * mk) {
    const int64_t d = m->cfg.d_model, N = n_vis + L;
    for (int64_t r = 0; r < B; r++) {
        memcpy(emb + r * N * d, vis + r * n_vis * d, sizeof(float) * (size_t)(n_vis * d));
        int rc = vb_t5_embed(m, ids + r * L, L, emb + (r * N + n_vis) * d);
        if (rc != VB_OK) return rc;
        memset(mk + r * N, 1, (size_t)n_vis);
        memcpy(mk + r * N + n_vis, am + r * L, (size_t)L);
    }
    return VB_OK;
}

int vb_golden_t5_build_lm_inputs(struct vb_golden * g, const char * cn, const struct vb_t5_model * m, float ** embeds,
                                 uint8_t ** mask, int64_t * shape_out) {
    int           rc;
    char          nm[128];
    int64_t       psh[VB_MAX_DIMS], ish[VB_MAX_DIMS];
    int32_t       pnd, ind;
    float *       pix = NULL, *proj = NULL, *emb = NULL;
    int32_t *     ids = NULL;
    uint8_t *     am = NULL, *mk = NULL;
    const int64_t d = m->cfg.d_model, Q = g->cfg.num_query_tokens;
    snprintf(nm, sizeof nm, "%s.pixel_values", cn);
    if ((rc = vb_golden_f32(g, nm, &pix, psh, &pnd)) != VB_OK) goto out;
    snprintf(nm, sizeof nm, "%s.input_ids", cn);
    if ((rc = vb_golden_t5_ids(g, nm, &ids, ish, &ind)) != VB_OK) goto out;
    snprintf(nm, sizeof nm, "%s.attention_mask", cn);
    if ((rc = vb_golden_t5_mask(g, nm, &am, NULL, NULL)) != VB_OK) goto out;
    if (pnd != 4 || ind != 2 || psh[0] != ish[0] || psh[0] < 1) {
        rc = vb_fail(VB_ERR_SHAPE, "%s: unexpected input shapes", cn);
        goto out;
    }
    int64_t B = ish[0], L = ish[1], N = Q + L;
    proj = vb_malloc(sizeof(float) * (size_t)(B * Q * d));
    if ((rc = visual_tokens(g, pix, (int32_t)B, NULL, NULL, 0, NULL, proj)) != VB_OK) goto out;
    emb = vb_malloc(sizeof(float) * (size_t)(B * N * d));
    mk = vb_malloc((size_t)(B * N));
    if ((rc = assemble(m, proj, Q, ids, am, B, L, emb, mk)) != VB_OK) goto out;
    shape_out[0] = B;
    shape_out[1] = N;
    *embeds = emb;
    *mask = mk;
    emb = NULL;
    mk = NULL;
out:
    free(pix);
    free(proj);
    free(emb);
    free(ids);
    free(am);
    free(mk);
    return rc;
}

/* InstructBLIP "image" (pixels [B, 3, H, W]) and "video" (pixels [B, F, 3, H, W]). */
int vb_golden_run_pipeline(struct vb_golden * g, const char * cn) {
    if (!g->has_cfg) return vb_fail(VB_ERR_UNSUPPORTED, "(no config.json)");
    int                  rc;
    char                 nm[160], lab[200];
    int64_t              psh[VB_MAX_DIMS], qsh[VB_MAX_DIMS], ish[VB_MAX_DIMS], csh[VB_MAX_DIMS];
    int32_t              pnd, qnd, ind, cnd;
    float *              pix = NULL, *qout = NULL, *proj = NULL, *emb = NULL, *blocks = NULL, *lg = NULL;
    int32_t *            qids = NULL, *qmask = NULL, *ids = NULL, *cand = NULL, *qids_f = NULL, *qmask_f = NULL;
    uint8_t *            am = NULL, *mk = NULL;
    struct vb_t5_model * m = NULL;
    struct vb_t5_ctx *   c = NULL;
    if ((rc = vb_t5_load(&m, g->model, "language_model.", &g->cfg.t5)) != VB_OK) return rc;
    const int64_t d = m->cfg.d_model, V = m->cfg.vocab, Q = g->cfg.num_query_tokens, Dq = g->cfg.qformer.hidden;
    snprintf(nm, sizeof nm, "%s.pixel_values", cn);
    if ((rc = vb_golden_f32(g, nm, &pix, psh, &pnd)) != VB_OK) goto out;
    snprintf(nm, sizeof nm, "%s.qformer_input_ids", cn);
    if ((rc = vb_golden_t5_ids(g, nm, &qids, qsh, &qnd)) != VB_OK) goto out;
    snprintf(nm, sizeof nm, "%s.qformer_attention_mask", cn);
    if ((rc = vb_golden_t5_ids(g, nm, &qmask, NULL, NULL)) != VB_OK) goto out;
    snprintf(nm, sizeof nm, "%s.input_ids", cn);
    if ((rc = vb_golden_t5_ids(g, nm, &ids, ish, &ind)) != VB_OK) goto out;
    snprintf(nm, sizeof nm, "%s.attention_mask", cn);
    if ((rc = vb_golden_t5_mask(g, nm, &am, NULL, NULL)) != VB_OK) goto out;
    snprintf(nm, sizeof nm, "%s.answer_candidate_ids", cn);
    if ((rc = vb_golden_t5_ids(g, nm, &cand, csh, &cnd)) != VB_OK) goto out;
    /* image: [B, 3, H, W] = 1 frame per row; video: [B, F, 3, H, W] */
    int64_t B = psh[0], F = pnd == 5 ? psh[1] : 1, Lq = qsh[1], L = ish[1], NC = csh[0];
    if ((pnd != 4 && pnd != 5) || qnd != 2 || ind != 2 || qsh[0] != B || ish[0] != B || cnd != 1) {
        rc = vb_fail(VB_ERR_SHAPE, "%s: unexpected input shapes", cn);
        goto out;
    }
    /* Q-Former: every frame of a row with that row's text; frames are rows of one batched call */
    qids_f = vb_malloc(sizeof(int32_t) * (size_t)(B * F * Lq));
    qmask_f = vb_malloc(sizeof(int32_t) * (size_t)(B * F * Lq));
    for (int64_t r = 0; r < B; r++)
        for (int64_t f = 0; f < F; f++) {
            memcpy(qids_f + (r * F + f) * Lq, qids + r * Lq, sizeof(int32_t) * (size_t)Lq);
            memcpy(qmask_f + (r * F + f) * Lq, qmask + r * Lq, sizeof(int32_t) * (size_t)Lq);
        }
    qout = vb_malloc(sizeof(float) * (size_t)(B * F * Q * Dq));
    proj = vb_malloc(sizeof(float) * (size_t)(B * F * Q * d));
    if ((rc = visual_tokens(g, pix, (int32_t)(B * F), qids_f, qmask_f, (int32_t)Lq, qout, proj)) != VB_OK) goto out;
    snprintf(nm, sizeof nm, "%s.query_output", cn);
    vb_golden_cmp(g, cn, nm, NULL, qout, B * F * Q * Dq, 0);
    /* T5 inputs: the F*Q visual vectors of a row (frames in order, no prefixes), then the prompt */
    int64_t NV = F * Q, N = NV + L;
    emb = vb_malloc(sizeof(float) * (size_t)(B * N * d));
    mk = vb_malloc((size_t)(B * N));
    if ((rc = assemble(m, proj, NV, ids, am, B, L, emb, mk)) != VB_OK) goto out;
    snprintf(nm, sizeof nm, "%s.lm_inputs_embeds", cn);
    vb_golden_cmp(g, cn, nm, NULL, emb, B * N * d, 0);
    int64_t * m64 = vb_malloc(sizeof(int64_t) * (size_t)(B * N));
    for (int64_t i = 0; i < B * N; i++)
        m64[i] = mk[i];
    snprintf(nm, sizeof nm, "%s.lm_attention_mask", cn);
    vb_golden_cmp_i64(g, cn, nm, NULL, m64, B * N, 0);
    free(m64);
    /* encoder, decoder step 0, step 1 on [start, step0 id], answer over the candidates */
    int32_t nb = m->cfg.n_enc;
    blocks = vb_malloc(sizeof(float) * (size_t)(nb * N * d));
    lg = vb_malloc(sizeof(float) * (size_t)V);
    if ((rc = vb_t5_ctx_new(&c, m, N, 2)) != VB_OK) goto out;
    int64_t s0[64], s1ids[128], ans[64];
    if (B > 64) {
        rc = vb_fail(VB_ERR_SHAPE, "%s: more than 64 rows", cn);
        goto out;
    }
    for (int64_t r = 0; r < B; r++) {
        if ((rc = vb_t5_encode(c, emb + r * N * d, mk + r * N, N, blocks)) != VB_OK) goto out;
        snprintf(nm, sizeof nm, "%s.encoder_block_outputs", cn);
        for (int32_t b = 0; b < nb; b++) {
            snprintf(lab, sizeof lab, "%s[%d][%lld]", nm, b, (long long)r);
            vb_golden_cmp(g, cn, nm, lab, blocks + b * N * d, N * d, (b * B + r) * N * d);
        }
        snprintf(nm, sizeof nm, "%s.encoder_last_hidden_state", cn);
        snprintf(lab, sizeof lab, "%s[%lld]", nm, (long long)r);
        vb_golden_cmp(g, cn, nm, lab, c->enc_out, N * d, r * N * d);
        int32_t tok[2] = {m->cfg.dec_start_id, 0};
        if ((rc = vb_t5_decode(c, &tok[0], 1, lg, NULL, NULL)) != VB_OK) goto out;
        snprintf(nm, sizeof nm, "%s.step0_logits", cn);
        snprintf(lab, sizeof lab, "%s[%lld]", nm, (long long)r);
        vb_golden_cmp(g, cn, nm, lab, lg, V, r * V);
        tok[1] = vb_gen_argmax(lg, (int32_t)V);
        s0[r] = tok[1];
        s1ids[2 * r] = tok[0];
        s1ids[2 * r + 1] = tok[1];
        if ((rc = vb_t5_decode(c, &tok[1], 1, lg, NULL, NULL)) != VB_OK) goto out;
        snprintf(nm, sizeof nm, "%s.step1_logits", cn);
        snprintf(lab, sizeof lab, "%s[%lld]", nm, (long long)r);
        vb_golden_cmp(g, cn, nm, lab, lg, V, r * V);
        int64_t best = 0;
        for (int64_t k = 0; k < NC; k++) {
            if (cand[k] < 0 || cand[k] >= V) {
                rc = vb_fail(VB_ERR_FORMAT, "%s: answer candidate id %d outside the vocabulary", cn, cand[k]);
                goto out;
            }
            if (lg[cand[k]] > lg[cand[best]]) best = k;
        }
        ans[r] = best;
    }
    snprintf(nm, sizeof nm, "%s.step0_ids", cn);
    vb_golden_cmp_i64(g, cn, nm, NULL, s0, B, 0);
    snprintf(nm, sizeof nm, "%s.step1_decoder_input_ids", cn);
    vb_golden_cmp_i64(g, cn, nm, NULL, s1ids, 2 * B, 0);
    snprintf(nm, sizeof nm, "%s.answer_index", cn);
    vb_golden_cmp_i64(g, cn, nm, NULL, ans, B, 0);
    /* greedy generation: output_ids and scores */
    rc = vb_golden_t5_generate_check(g, cn, m, emb, mk, B, N);
out:
    vb_t5_ctx_free(c);
    vb_t5_free(m);
    free(pix);
    free(qout);
    free(proj);
    free(emb);
    free(blocks);
    free(lg);
    free(qids);
    free(qmask);
    free(ids);
    free(cand);
    free(qids_f);
    free(qmask_f);
    free(am);
    free(mk);
    return rc;
}
