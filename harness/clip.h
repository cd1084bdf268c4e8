/* clip.h — sample -> pixels, the one pipeline of `run` and `answer`: open the video and its segment, decode a set of
** frames once each (ascending, frame by frame, each timed), squash to the model size and CLIP-normalise, then give
** each cell (method, k) the pixels of its slots with its cold decode / preprocess times (harness/charge.h).
*/
#ifndef VB_CLIP_H
#define VB_CLIP_H

#include "datasets/sampling.h"
#include "datasets/video.h"
#include "harness/charge.h"

#include <stdint.h>

struct vb_clip {
    struct vb_video          vid;
    int32_t                  H;         /* square model input size */
    int64_t                  f0, f1;    /* the sample's segment [f0, f1) in frames */
    int64_t                  t_open_us; /* open + packet index */
    int32_t                  n;         /* decoded frames */
    struct vb_charge_frame * fr;        /* (n) ascending distinct indices and times */
    int32_t *                ok;        /* (n) 1 = decoded */
    char (*err)[256];                   /* (n) why a frame failed */
    float * px;                         /* (n, 3, H, H) CLIP-normalised */
};

/* Open path squashed to H x H with interp and find the segment [start_s, end_s] (negative = whole video).  c is
** zeroed first; on failure c->vid holds what could be read (fps, frame count) and vb_errmsg() the reason.  Close with
** vb_clip_close. */
int vb_clip_open(struct vb_clip * c, const char * path, int32_t H, enum vb_video_interp interp, double start_s,
                 double end_s);
/* Release everything (safe on a zeroed or failed clip, and twice). */
void vb_clip_close(struct vb_clip * c);

/* The n frame indices the policy picks in the clip's segment into idx (n).  Returns VB_OK, or VB_ERR_VIDEO with the
** reason in err (n_err bytes, naming the video) when the segment has fewer than n frames or cannot be sampled. */
int vb_clip_frames(const struct vb_clip * c, enum vb_sampling_policy policy, int32_t n, int64_t * idx, char * err,
                   size_t n_err);

/* Sort v (n) and drop repeats in place; returns the distinct count. */
int32_t vb_clip_unique(int64_t * v, int32_t n);

/* Decode frames idx[0..n) (ascending, distinct) one by one into c (replacing earlier ones): per frame its decode time
** (advancing the decoder from the previous target, seeks included), its normalise time, and any error.  Returns the
** number decoded successfully. */
int32_t vb_clip_decode(struct vb_clip * c, const int64_t * idx, int32_t n);

/* The pixels of slots idx[0..n) (any order, repeats allowed; all among the decoded frames) into out (n, 3, H, H),
** with the cold decode (open + distinct frames) and preprocess (every slot) times.  Returns VB_OK or VB_ERR_VIDEO
** with the first failed frame's message (err, n bytes). */
int vb_clip_pixels(const struct vb_clip * c, const int64_t * idx, int32_t n, float * out, int64_t * decode_us,
                   int64_t * pre_us, char * err, size_t n_err);

#endif
