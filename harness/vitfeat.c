/* vitfeat.c — the ViT stage through the cache (see vitfeat.h). */
#include "harness/vitfeat.h"

#include "base/common.h"
#include "engine/vit.h"

#include <string.h>

/* Run the frames of slots miss[0..nb) (distinct) through the ViT, store them, copy them to every slot showing them. */
static int run_batch(struct vb_vitcache * c, const struct vb_vitfeat_engine * e, const struct vb_vitfeat_clip * clip,
                     const float * pixels, const int32_t * miss, int32_t nb, float * out,
                     struct vb_vitfeat_stats * st) {
    size_t px = (size_t)e->px_floats, nf = (size_t)clip->n_floats;
    for (int32_t q = 0; q < nb; q++)
        memcpy(e->work + (size_t)q * px, pixels + (size_t)miss[q] * px, sizeof(float) * px);
    int64_t t0 = vb_time_us();
    int     rc = vb_vit_run(e->ctx, e->work, nb, NULL, NULL, e->feat, NULL);
    int64_t dt = vb_time_us() - t0;
    st->t_compute_us += dt;
    if (rc != VB_OK) return rc;
    int64_t per = dt / nb;
    for (int32_t q = 0; q < nb; q++) {
        int64_t                frame = clip->frames[miss[q]];
        struct vb_vitcache_key key = {clip->group, clip->video, frame};
        vb_vitcache_put(c, &key, e->feat + (size_t)q * nf, clip->n_floats, per);
        st->n_computed++;
        for (int32_t j = miss[q]; j < clip->n; j++)
            if (clip->frames[j] == frame) {
                memcpy(out + (size_t)j * nf, e->feat + (size_t)q * nf, sizeof(float) * nf);
                st->cost_us += per;
            }
    }
    return VB_OK;
}

int vb_vitfeat_get(struct vb_vitcache * c, const struct vb_vitfeat_engine * e, const struct vb_vitfeat_clip * clip,
                   const float * pixels, float * out, struct vb_vitfeat_stats * st) {
    memset(st, 0, sizeof *st);
    int32_t * miss = vb_malloc(sizeof(int32_t) * (size_t)(clip->n > 0 ? clip->n : 1));
    int32_t   n_miss = 0;
    for (int32_t j = 0; j < clip->n; j++) {
        int dup = 0; /* a frame already missing at an earlier slot is filled with it */
        for (int32_t q = 0; q < n_miss && !dup; q++)
            dup = clip->frames[miss[q]] == clip->frames[j];
        if (dup) continue;
        struct vb_vitcache_key key = {clip->group, clip->video, clip->frames[j]};
        int64_t                cost = 0;
        if (vb_vitcache_get(c, &key, out + (size_t)j * (size_t)clip->n_floats, clip->n_floats, &cost)) {
            st->n_cached++;
            st->cost_us += cost;
        } else
            miss[n_miss++] = j;
    }
    int rc = VB_OK;
    if (n_miss > 0 && !pixels)
        rc = vb_fail(VB_ERR_ARG, "ViT: %d frame(s) neither in the cache nor given as pixels", n_miss);
    for (int32_t q0 = 0; q0 < n_miss && rc == VB_OK; q0 += e->batch)
        rc = run_batch(c, e, clip, pixels, miss + q0, VB_MIN(e->batch, n_miss - q0), out, st);
    free(miss);
    return rc;
}
