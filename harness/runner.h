/* runner.h — `vlapbench run`: every selected sample of a dataset through a grid of methods x frame counts, results
** into the SQLite store (harness/store.h), resumable and shardable.  Design and the time-charging rule are in
** docs/runner.md; in short:
**
**   - one store run per grid cell (method, k); its identity includes the canonical run configuration, so re-running
**     the same configuration against the same database resumes every cell (samples already stored are skipped);
**   - samples are processed one at a time, all pending cells of a sample together: the union of the frame indices
**     the cells need is decoded once, and ViT body features are shared through an LRU cache (harness/vitcache.h)
**     keyed by (vision weights, video, frame), each frame computed alone (deterministic whatever is shared);
**     a selection that does not depend on k (a method's ops say so) is computed once per question and bundle;
**   - stored stage times are COLD costs (what the cell would cost alone): features or localizer scores taken from a
**     shared computation are charged at their measured cost; each cell's session also records the actual wall time
**     of the loop;
**   - the first `warmup` processed samples of a session are scored but stored untimed (t_us = -1);
**   - bundles share their byte-identical frozen parts (ViT blocks, T5) with the bundles opened before them
**     (vlap/bundle.h, opened in cell order and closed in reverse order);
**   - a video that cannot be opened or decoded gives error rows (status 'error') for the cells that need it, and the
**     run goes on.
*/
#ifndef VB_RUNNER_H
#define VB_RUNNER_H

#include "harness/runconfig.h"

#include <stdint.h>

struct vb_runner_cell_report {
    char    method[16];
    int32_t frames, candidates;
    int64_t run_id;
    int32_t resumed;       /* the run existed before this session */
    int32_t n_already;     /* selected samples of this shard already stored before this session */
    int32_t n_ok, n_error; /* rows this session added */
};

struct vb_runner_report {
    int32_t                      n_loaded;    /* samples in the annotation file */
    int32_t                      n_selected;  /* after --samples / --limit (all shards) */
    int32_t                      n_shard;     /* of those, in this shard */
    int32_t                      n_processed; /* samples this session worked on (>= 1 pending cell) */
    int32_t                      n_warmup;    /* of those, stored untimed */
    int32_t                      n_cells;
    struct vb_runner_cell_report cells[VB_RUN_MAX_METHODS * VB_RUN_MAX_FRAMES];
    int64_t                      n_rows_ok, n_rows_error;
    int64_t                      vit_hits, vit_misses, vit_evictions; /* ViT cache counters (method look-ups) */
    int64_t                      n_vit_computed;                      /* frames the runner ran through the ViT */
    int64_t                      n_frames_decoded;                    /* distinct frames decoded (union per sample) */
    double                       wall_s;                              /* the sample loop's wall time */
    int64_t                      peak_rss_kb; /* process peak RSS (VmHWM) at the end, KiB; also stored per session */
    char                         weights[8];  /* resident weight dtype: "f32", "bf16", "f16" */
    int32_t                      n_bundles;   /* distinct bundles opened */
    int32_t n_vit_shared, n_t5_shared;        /* of those, with the ViT / T5 borrowed from an earlier one */
    int64_t shared_bytes;                     /* source bytes not loaded again thanks to sharing */
    double  est_s, est_calib_s; /* the loop's wall time estimated before it (harness/estimate.h); its calibration, s */
};

/* Run the configuration c (validated here).  Loads the dataset, opens the bundles and the methods (every cell is
** checked before anything is written), opens c->db, begins / resumes one run per cell and processes the samples of
** this shard that some cell has not stored yet.  Progress on stderr unless c->quiet.  rep (nullable) receives
** counts.  Returns VB_OK when the loop completed (per-sample failures are error rows, not failures), or a vb_status
** for a setup or store failure (message in vb_errmsg()); sessions already opened are then finished as 'failed'. */
int vb_runner_run(const struct vb_run_config * c, struct vb_runner_report * rep);

/* Shard of a sample key among n (n >= 1): FNV-1a 64 of the key mod n.  Depends on the key only. */
int32_t vb_runner_shard_of(const char * key, int32_t n);

/* Per-question seed (Gumbel selection) derived from the base seed and the sample key (splitmix64 of
** seed ^ FNV-1a(key)): the same for a sample whatever the shard, order or resume. */
uint64_t vb_runner_question_seed(uint64_t seed, const char * key);

#endif
