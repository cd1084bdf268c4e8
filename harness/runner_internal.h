/* runner_internal.h — the state shared by the files of `vlapbench run` (runner.c: the run and its loop;
** runner_setup.c: samples, bundles, cells and store runs; runner_sample.c: one sample through its pending cells).
** Not a public API: see runner.h. */
#ifndef VB_RUNNER_INTERNAL_H
#define VB_RUNNER_INTERNAL_H

#include "datasets/dataset.h"
#include "datasets/sampling.h"
#include "datasets/video.h"
#include "harness/runner.h"
#include "harness/vitcache.h"
#include "methods/method.h"
#include "results/store.h"

#include <stdint.h>

/* Frames per ViT call when the runner fills the cache (8: measured 8-10 % faster per frame than 1 at ViT-g size,
** bench-engine --frames 1 vs 8; the context for 8 ViT-g frames is ~120 MB). */
#define VB_RUNNER_VIT_BATCH 8
#define VB_RUNNER_MAX_CELLS (VB_RUN_MAX_METHODS * VB_RUN_MAX_FRAMES)

struct vb_runner_bundle {
    char *              dir;  /* as configured (owned) */
    char *              real; /* realpath (owned) */
    struct vb_bundle *  b;
    char *              weights_json;    /* {"weights": sha, "config": sha, "t5_tokenizer": sha[, "bert_vocab": sha]} */
    int32_t             vgroup;          /* vision group: bundles with identical ViT weights share one */
    char *              checkpoint_json; /* {"dir": basename, "name_or_path": config _name_or_path or null} */
    struct vb_vit_ctx * vit; /* ViT context of VB_RUNNER_VIT_BATCH frames (the group's first bundle owns it) */
};

/* One grid cell: a method at one frame count k. */
struct vb_runner_cell {
    int32_t                        mi; /* index into c->methods */
    const struct vb_method_ops *   ops;
    int32_t                        k, T;
    struct vb_runner_bundle *      bs;
    struct vb_method *             m;
    int64_t                        run_id;
    int32_t                        resumed, began;
    struct vb_keyset               done;
    struct vb_runner_cell_report * rep;
    int64_t                        wall_us; /* elapsed time of the loop iterations (samples) this cell took part in */
};

struct vb_runner {
    const struct vb_run_config * c;
    struct vb_dataset            ds;
    enum vb_dataset_kind         dk;
    enum vb_sampling_policy      policy;
    enum vb_video_interp         interp;
    enum vb_select_mode          selmode;
    enum vb_decode_mode          decmode;
    int32_t                      image_size;
    struct vb_runner_bundle      bs[VB_RUNNER_MAX_CELLS];
    int32_t                      n_bs;
    struct vb_runner_cell        cells[VB_RUNNER_MAX_CELLS];
    int32_t                      n_cells;
    struct vb_store *            st;
    struct vb_vitcache *         cache;
    struct vb_runner_report *    rep;
    int64_t                      n_put;          /* samples handed to the store (kill_after hook) */
    int32_t                      clear_per_cell; /* vit_cache_mb == 0: no sharing, the cache only serves one cell */
    int32_t                      weight_dtype;   /* enum vb_dtype of c->weights */
    int32_t                      tmax;           /* largest T of the cells */
    size_t                       fmax;           /* bytes of the largest ViT body output of one frame */
    struct vb_estimate *         est;            /* the run-time estimate (harness/estimate.h), made before the loop */
    /* the selected samples */
    int32_t * sel; /* (n_mine) dataset indices of this shard's samples */
    int32_t   n_sel, n_mine;
    int32_t   n_videos;    /* distinct videos among them (vb_runner_video_of) */
    int *     pending;     /* (n_mine, n_cells) 1 = the cell has not stored the sample */
    int32_t   n_todo;      /* samples with a pending cell */
    char      subset[256]; /* "" = the whole annotation file; else the label of the selection (runs.subset) */
    /* fail fast (runner_failfast.c): the rows of the current sample (cur_*) and of the run's first samples (ff_*) */
    int32_t  cur_ok, cur_mixed; /* the sample stored an ok row / error rows of different kinds */
    char     cur_sig[512];      /* the sample's first error message with its video path replaced by <video> */
    char     cur_msg[512];      /* ... and as stored */
    char     cur_video[1024];   /* the sample's expected video path */
    char     cur_video_id[256];
    int32_t  ff_n, ff_broken; /* run's samples so far that all failed like the first; 1 once one did not */
    char     ff_sig[512];
    int32_t  ff_n_videos;                 /* distinct videos among those samples, counted up to ... */
    uint64_t ff_videos[VB_RUN_FAIL_FAST]; /* ... VB_RUN_FAIL_FAST: their hashes (vb_fnv1a64 of vb_runner_video_of) */
};

/* runner_setup.c */
/* Samples selected by --samples, then --limit, then the shard, into R->sel / n_sel / n_mine, in the run's order
** (c->order: grouped by video unless "file", vb_runner_group_by_video); R->n_videos. */
int vb_runner_select_samples(struct vb_runner * R);
/* Open every cell's bundle and method (checked before anything is written), then size the ViT cache. */
int vb_runner_open_cells(struct vb_runner * R);
/* Begin or resume one store run per cell (provenance, identity), read which samples each has stored: R->pending,
** R->n_todo. */
int vb_runner_begin_runs(struct vb_runner * R, int threads);
/* Close the bundles (reverse order: a lender outlives its borrowers) and their ViT contexts. */
void vb_runner_close_bundles(struct vb_runner * R);

/* runner_order.c (docs/runner.md §4, "Order") */
/* The video a sample's ViT features are cached under: its resolved path (the cache keys on its hash), else its
** annotation id when no videos root resolved it, else "".  Borrowed from s. */
const char * vb_runner_video_of(const struct vb_sample * s);
/* Reorder sel[0..n) (dataset indices into ds) so that the samples of one video (vb_runner_video_of) are
** consecutive: a stable grouping, videos in the order of their first sample, samples of a video in their order in
** sel.  The set is unchanged.  Returns the number of distinct videos (0 when n <= 0). */
int32_t vb_runner_group_by_video(const struct vb_dataset * ds, int32_t * sel, int32_t n);

/* runner_sample.c */
/* Process one sample for its pending cells (pending: n_cells flags).  Returns VB_OK (per-sample failures become
** error rows) or a store error (fatal). */
int vb_runner_process_sample(struct vb_runner * R, const struct vb_sample * s, const int * pending, int timed);

/* runner_failfast.c (docs/runner.md §6, "Fail fast") */
/* The kind of a failure: msg with the sample's video path replaced by <video> (also a path token that holds the
** video id, of 4 bytes or more, when the row was stored under another videos root), so that the same failure on
** other videos compares equal.  Writes at most n bytes (NUL-terminated) to out. */
void vb_runner_error_kind(const char * msg, const char * video, const char * video_id, char * out, size_t n);
/* After a sample was processed (R->cur_* hold its rows): count it into the run's check; once the run's first
** VB_RUN_FAIL_FAST (or more) samples all failed the same way on VB_RUN_FAIL_FAST_VIDEOS (or more) distinct videos,
** the run stops (VB_ERR_VIDEO for a video failure, else VB_ERR_FORMAT, with the reason and the expected video path
** pattern), unless --keep-going.  The video count keeps one damaged video with many questions (consecutive in the
** video order) from stopping a run.  Returns VB_OK or that error. */
int vb_runner_fail_fast(struct vb_runner * R);
/* Before the loop (after vb_runner_begin_runs): count the samples earlier sessions stored (those of this process's
** slice whose every cell is stored, in the run's order), so the check is over the run, not the session: a resumed run
** whose first stored samples all failed the same way (as above) stops at once, naming the reason (with
** --retry-errors their error rows were deleted and they are counted again as they run).  Returns VB_OK, that
** error, or a store error. */
int vb_runner_fail_fast_stored(struct vb_runner * R);

#endif
