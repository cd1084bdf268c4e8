/* golden_pipeline.c — pixels -> ViT -> Q-Former -> projection -> T5 for the check-golden cases that need the whole
** pipeline: BLIP-2 "generate*" (helper vb_golden_t5_build_lm_inputs) and InstructBLIP "image" / "video"
** (runner vb_golden_run_pipeline).
**
** INTERIM: the vision side (engine/vit.h, engine/qformer.h) is not there yet; the projected queries are taken from
** the reference "projection.output" of the frame whose pixels equal the case's pixels.
*/
#include "engine/common.h"
#include "engine/t5.h"
#include "harness/golden.h"
#include "harness/golden_t5.h"

#include <string.h>

int vb_golden_t5_build_lm_inputs(struct vb_golden * g, const char * cn, const struct vb_t5_model * m, float ** embeds,
                                 uint8_t ** mask, int64_t * shape_out) {
    int rc;
    char nm[128];
    int64_t psh[VB_MAX_DIMS], vsh[VB_MAX_DIMS], ish[VB_MAX_DIMS], osh[VB_MAX_DIMS];
    int32_t pnd, vnd, ind, ond;
    float *pix = NULL, *vpix = NULL, *proj = NULL, *emb = NULL;
    int32_t * ids = NULL;
    uint8_t *am = NULL, *mk = NULL;
    const int64_t d = m->cfg.d_model;
    snprintf(nm, sizeof nm, "%s.pixel_values", cn);
    if ((rc = vb_golden_f32(g, nm, &pix, psh, &pnd)) != VB_OK) goto out;
    snprintf(nm, sizeof nm, "%s.input_ids", cn);
    if ((rc = vb_golden_t5_ids(g, nm, &ids, ish, &ind)) != VB_OK) goto out;
    snprintf(nm, sizeof nm, "%s.attention_mask", cn);
    if ((rc = vb_golden_t5_mask(g, nm, &am, NULL, NULL)) != VB_OK) goto out;
    if ((rc = vb_golden_f32(g, "vision.pixel_values", &vpix, vsh, &vnd)) != VB_OK) goto out;
    if ((rc = vb_golden_f32(g, "projection.output", &proj, osh, &ond)) != VB_OK) goto out;
    if (pnd != 4 || vnd != 4 || ind != 2 || ond != 3 || psh[0] != ish[0] || osh[2] != d) {
        rc = vb_fail(VB_ERR_SHAPE, "%s: unexpected input shapes", cn);
        goto out;
    }
    int64_t B = ish[0], L = ish[1], Q = osh[1], N = Q + L, fsz = psh[1] * psh[2] * psh[3];
    emb = vb_malloc(sizeof(float) * (size_t) (B * N * d));
    mk = vb_malloc((size_t) (B * N));
    for (int64_t r = 0; r < B; r++) {
        int64_t f = -1;
        for (int64_t j = 0; j < vsh[0] && f < 0; j++)
            if (!memcmp(pix + r * fsz, vpix + j * fsz, sizeof(float) * (size_t) fsz)) f = j;
        if (f < 0) {
            rc = vb_fail(VB_ERR_UNSUPPORTED, "(vision pipeline not available and row %lld's frame is not a vision "
                                             "case frame)", (long long) r);
            goto out;
        }
        memcpy(emb + r * N * d, proj + f * Q * d, sizeof(float) * (size_t) (Q * d));
        if ((rc = vb_t5_embed(m, ids + r * L, L, emb + (r * N + Q) * d)) != VB_OK) goto out;
        memset(mk + r * N, 1, (size_t) Q);
        memcpy(mk + r * N + Q, am + r * L, (size_t) L);
    }
    shape_out[0] = B;
    shape_out[1] = N;
    *embeds = emb;
    *mask = mk;
    emb = NULL;
    mk = NULL;
out:
    free(pix);
    free(vpix);
    free(proj);
    free(emb);
    free(ids);
    free(am);
    free(mk);
    return rc;
}

int vb_golden_run_pipeline(struct vb_golden * g, const char * case_name) {
    (void) g;
    (void) case_name;
    return vb_fail(VB_ERR_UNSUPPORTED, "(InstructBLIP pipeline waits for engine/vit.h + engine/qformer.h)");
}
