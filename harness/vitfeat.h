/* vitfeat.h — the ViT stage: the body features of a clip's frames, owned by the cache (harness/vitcache.h).  The
** runner, `answer` and the golden method checks all get their features here; methods only read them.
**
** vb_vitfeat_get takes every slot's frame from the cache when it is there, computes the distinct frames that are not
** through the ViT in batches of up to `batch` frames, stores each with cost = batch time / batch size, and charges
** every slot the recorded cost of its frame (the COLD ViT cost of the clip: a frame shared with earlier work, or
** twice in the clip, is charged each time it is used).  The features do not depend on the batch (every engine
** kernel's output row depends on its own input row only), so what was shared never changes a result.
*/
#ifndef VB_VITFEAT_H
#define VB_VITFEAT_H

#include "harness/vitcache.h"

#include <stdint.h>

struct vb_vit_ctx;

/* Frames of one clip in one vision group: the cache keys of its slots. */
struct vb_vitfeat_clip {
    int32_t         group;  /* vision group (bundles with identical ViT weights) */
    uint64_t        video;  /* hash of the video path */
    const int64_t * frames; /* (n) frame index of each slot */
    int32_t         n;
    int64_t         n_floats; /* n_tok * d_vis: floats per frame */
};

/* What one call did. */
struct vb_vitfeat_stats {
    int32_t n_computed;   /* distinct frames run through the ViT */
    int32_t n_cached;     /* slots whose frame came from the cache */
    int64_t cost_us;      /* sum over the slots of their frame's recorded cost (cold charge) */
    int64_t t_compute_us; /* time spent in the ViT in this call (the rest of the call is cache look-ups) */
};

/* The ViT runner: ctx made for at least `batch` frames; work (batch * px_floats) and feat (batch * n_floats) are
** scratch of the caller. */
struct vb_vitfeat_engine {
    struct vb_vit_ctx * ctx;
    int32_t             batch;
    int64_t             px_floats; /* 3 * H * W */
    float *             work;
    float *             feat;
};

/* Features of every slot of clip into out (clip->n, n_floats): cache first, then the ViT on pixels (clip->n, 3, H, W
** in slot order; only the rows of missing frames are read, may be NULL when every frame is cached).  st receives the
** counts and the charge.  Returns VB_OK, VB_ERR_ARG (frames missing and no pixels) or the ViT's error. */
int vb_vitfeat_get(struct vb_vitcache * c, const struct vb_vitfeat_engine * e, const struct vb_vitfeat_clip * clip,
                   const float * pixels, float * out, struct vb_vitfeat_stats * st);

#endif
