/* runconfig.h — the configuration of `vlapbench run`: a JSON file (cJSON) and/or flags, resolved to one canonical
** configuration that is stored with every run.
**
** JSON keys (all optional in the file; flags of the same name override them, e.g. --frames 1,2,4):
**   dataset       "nextqa" | "star" | "vlep" | "how2qa" | "how2qa-value" | "sevila"
**   annotations   path of the annotation file            map       NExT-QA / How2QA id map (optional)
**   videos        videos root directory
**   methods       [{"name": "uniform"|"sevila"|"vlap", "model": DIR, "models": {"2": DIR2}}, ...]  (flag: --method
**                 NAME=DIR, repeatable, or --methods uniform,sevila --model DIR for one bundle shared by all).
**                 "models" overrides the bundle for one frame count k (flag: --method NAME@K=DIR): a VLAP
**                 Frame-Prompter picks exactly as many frames as it has segments, so VLAP needs one bundle per k.
**                 "frames": [4] in a method entry runs that method at these frame counts only, instead of the global
**                 "frames" (flag: --method-frames NAME=K1,K2), e.g. a grid uniform x {1,2,4,8} + VLAP x {4}.
**   frames        [1, 2, 4]          candidates   32 (SeViLA / VLAP candidates; VLAP on How2QA: 8 unless set)
**   sampling      "uniform_midbin"   interp       "bilinear" | "bicubic"
**   selection     "argmax" | "gumbel" (VLAP)        decode_mode  "minimal" | "as_released"
**   seed          integer            threads      BLAS threads (0 = all cores)
**   warmup        untimed samples at the start (still scored), default 1
**   limit         first N samples    samples      file with one sample key per line
**   db            results database   shard        "i/N"       skip_bad   bool     quiet bool
**   weights       "f32" (default) | "bf16" | "f16": resident dtype of the large weight matrices (flag --weights).  Part
**                 of every cell's identity when not f32 (a bf16 run never resumes an f32 run's cells)
**   compute       "f32" (default) | "bf16": activations rounded to bf16 in the Linears (AVX512_BF16 CPUs; flag
**                 --compute).  In the stored run config when not f32.  NOT yet in the cells' identity (runner.c)
**   device        "cpu" (default) | "cuda": where the models run (flag --device; engine/cuda, docs/cuda.md).  cuda
**                 without the backend or a GPU fails validation with the reason.  Part of the cells' identity when
**                 not cpu; the GPU's description is stored with each run (runs.device)
**   order         "video" (default) | "file": the processing order (flag --order).  video: the selected samples
**                 grouped by video (in order of each video's first appearance, file order within a video), so that
**                 a video's questions follow each other and its ViT features are computed once
*(harness/runner_order.c);
**                 file: the annotation file's order.  Chooses no sample and changes no result: not part of the cells'
**                 identity (a run resumes under either order); stored in the canonical invocation
**   vit_cache_mb  memory bound of the shared ViT feature cache (LRU), default 256; 0 disables sharing
**   flush_rows    commit the results every N rows (default: the store's 64)
**   keep_going    bool: do not stop when the first VB_RUN_FAIL_FAST samples all fail the same way (flag --keep-going)
** Flag only: --retry-errors re-runs the error rows of the selected samples (deleted, then stored anew).
** Test hook (flag only, not stored): --kill-after N raises SIGKILL after N samples were handed to the store.
**
** Subset and shard semantics (docs/runner.md): --samples keeps the listed keys (annotation order), then --limit N
** keeps the first N of those; --shard i/N then keeps the samples whose key hashes (FNV-1a 64 of the key) to i mod N.
** The shard of a sample depends on its key only, so the union of the N shards is the unsharded selection.** Paths in a
*JSON file are relative to the file's directory.
*/
#ifndef VB_RUNCONFIG_H
#define VB_RUNCONFIG_H

#include <stdint.h>

#define VB_RUN_MAX_METHODS      8
#define VB_RUN_MAX_FRAMES       16
#define VB_RUN_FAIL_FAST        20 /* a run stops when its first this-many samples all fail the same way ... */
#define VB_RUN_FAIL_FAST_VIDEOS 5  /* ... on at least this many distinct videos (docs/runner.md §6) */

struct vb_run_method {
    char    name[16]; /* "uniform", "sevila", "vlap" */
    char *  model;    /* bundle directory (owned), may be NULL when per_k covers every frame count */
    int32_t n_per_k;
    int32_t per_k_frames[VB_RUN_MAX_FRAMES]; /* (n_per_k) frame count k ... */
    char *  per_k_model[VB_RUN_MAX_FRAMES];  /* (n_per_k) ... and its bundle directory (owned) */
    int32_t n_frames;                        /* 0 = the global frame counts; else this method's own ... */
    int32_t frames[VB_RUN_MAX_FRAMES];       /* (n_frames) */
};

struct vb_run_config {
    char *               dataset, *annotations, *map, *videos, *db, *samples_file; /* owned, may be NULL */
    int32_t              n_methods;
    struct vb_run_method methods[VB_RUN_MAX_METHODS];
    int32_t              n_frames;
    int32_t              frames[VB_RUN_MAX_FRAMES];
    int32_t              candidates; /* 0 = method default (32; VLAP How2QA 8) */
    char                 sampling[32];
    char                 interp[16];
    char                 selection[16];
    char                 decode_mode[16];
    char                 weights[8]; /* "f32" | "bf16" | "f16" */
    uint64_t             seed;
    int32_t              threads;
    int32_t              warmup;
    int32_t              limit;            /* 0 = all */
    int32_t              shard_i, shard_n; /* shard_n = 0: not sharded */
    int32_t              skip_bad, quiet;
    int32_t              vit_cache_mb; /* ViT feature cache bound, MB (default 256; 0 = no sharing) */
    int32_t              flush_rows;   /* store commit interval in rows (0 = store default) */
    int32_t              kill_after;   /* test hook: SIGKILL self after this many stored samples (0 = off) */
    int32_t              keep_going;   /* 1: do not stop when the first samples all fail the same way */
    int32_t              retry_errors; /* 1: re-run (and replace) the error rows of the selected samples */
    char                 compute[8];   /* "f32" | "bf16": the engine's compute mode (vb_wmat_set_compute) */
    int32_t              estimate;     /* 1 (--estimate): print the calibrated time estimate and stop (nothing written);
                                          -1 (--no-estimate): no calibration before the loop, nothing estimated */
    char device[8];                    /* "cpu" | "cuda": where the models run */
    char order[8];                     /* "video" | "file": the processing order of the selected samples */
};

/* Defaults (frames 1,2,4; candidates 0; uniform_midbin; bilinear; argmax; minimal; weights f32; seed 0; threads 0;
** warmup 1; db "results.db"; vit_cache_mb 256; order video). */
void vb_runconfig_defaults(struct vb_run_config * c);
/* Read a JSON config file into c (on top of what is there). Returns VB_OK or VB_ERR_IO / VB_ERR_FORMAT naming the
** file and key. */
int vb_runconfig_load_json(struct vb_run_config * c, const char * path);
/* Apply flags argv[1..argc-1] (see the header comment). --config FILE is handled here too (loaded first, wherever it
** appears).  Returns VB_OK or VB_ERR_ARG naming the flag. */
int vb_runconfig_from_args(struct vb_run_config * c, int argc, char ** argv);
/* Set the engine's compute mode from c->compute (vb_wmat_set_compute).  VB_ERR_UNSUPPORTED for bf16 on a CPU
** without AVX512_BF16; VB_ERR_ARG for an unknown mode. */
int vb_runconfig_apply_compute(const struct vb_run_config * c);
/* Check completeness (dataset, annotations, at least one method and frame count, a bundle for every method x frame
** count, valid names and ranges).  Returns VB_OK or VB_ERR_ARG naming what is missing. */
int vb_runconfig_validate(const struct vb_run_config * c);
/* Check that the inputs a run reads exist before anything is opened: the annotation file and the map (regular
** files) and the videos directory (a directory; required for every dataset).  Returns VB_OK, or VB_ERR_IO naming the
** config key, the path and what is wrong ("--videos /x: no such directory"), so a wrong path fails the run at once
** instead of giving a "complete" run of error rows. */
int vb_runconfig_check_inputs(const struct vb_run_config * c);
/* Canonical JSON of everything that defines the results (sorted keys, compact; not db, shard, quiet, threads),
** malloc'd.  Paths are made absolute.  "weights" appears only when not f32 and a method's "frames" only when it
** has its own list (the canonical text of configurations that use neither is unchanged); "order" always. */
char * vb_runconfig_canonical(const struct vb_run_config * c);
/* Free every string and method entry of *c and zero it (c not NULL; a zeroed or already freed config is fine). */
void vb_runconfig_free(struct vb_run_config * c);
/* Frame counts method i runs at: its own list when it has one, else the global c->frames.  *frames is borrowed
** (points into c); returns the count (0 for a bad i). */
int32_t vb_runconfig_method_frames(const struct vb_run_config * c, int32_t i, const int32_t ** frames);
/* enum vb_dtype of a weights name ("f32" -> VB_DT_F32, "bf16", "f16"); VB_OK or VB_ERR_ARG naming the value. */
int vb_runconfig_weight_dtype(const char * name, int32_t * dtype);
/* Bundle directory of method i for frame count k (its per-k override, else its model); borrowed, NULL if none. */
const char * vb_runconfig_model(const struct vb_run_config * c, int32_t i, int32_t k);

#endif
