/* store.h — the results store: one SQLite file per benchmark (or per shard), schema in docs/schema.md.
**
** One `runs` row per grid cell: a (dataset, split, method, frames, candidates, sampling, selection, decode mode,
** seed, threads, weights, annotations, code version, free-form config) combination.  Its identity is the sha256 of
** the canonical JSON of those fields (keys sorted, compact), so starting the same cell again finds the same run id
** and resumes it: vb_store_done_keys() lists what is already stored and the runner skips those samples.  Each
** process that works on a run adds a `sessions` row (host, CPU, BLAS core, shard, start/end, wall time), so the
** provenance of resumed and sharded runs is kept per session.  Cells started by one invocation share a grid_id.
**
** Durability: WAL journal, foreign keys on, busy timeout; samples are INSERTed (never updated or deleted) inside
** transactions committed every `flush_rows` rows, every `flush_ms` milliseconds, at once when rows arrive slowly,
** and on finish/close.  A crash loses
** at most the uncommitted tail, never a committed row, and never corrupts the file.  Inserting a key that is already
** stored is accepted only if the stored result is identical (same prediction, scores, frames, status; timings and
** shard may differ), otherwise it is an error (VB_ERR_MISMATCH).
**
** Schema evolution: columns added later (runs.weights_dtype, sessions.peak_rss_kb; runs.subset, runs.checkpoint,
** samples.prompt, runs.n_split; sessions.estimate_s, sessions.note) are added to an older database
** when it is opened for writing (ALTER TABLE ... ADD COLUMN: nothing stored is touched, the schema version stays 1,
** and older builds keep reading and writing the file); a read-only open of an older file reads them as NULL.
**
** Threads: one struct vb_store per thread (SQLite connections are not shared here).  Several processes may write
** the same file; the busy timeout serialises their transactions.
*/
#ifndef VB_STORE_H
#define VB_STORE_H

#include "metrics/latency.h"

#include <stdint.h>

struct vb_store; /* opaque */

#define VB_STORE_SCHEMA_VERSION 1

/* ---- open / close ---- */

/* Open (creating if needed) the database at path, set WAL, foreign_keys=ON, busy_timeout, and create the schema.
** read_only: open without creating or writing (for reports).  Returns VB_OK and *out, or VB_ERR_DB / VB_ERR_IO
** with the SQLite message in vb_errmsg() (*out = NULL).  Close with vb_store_close. */
int vb_store_open(struct vb_store ** out, const char * path, int read_only);
/* Commit pending rows and close.  Returns VB_OK or VB_ERR_DB (the handle is freed in any case).  NULL is a no-op. */
int vb_store_close(struct vb_store * st);
/* Tune buffering: commit after `rows` inserted rows, `ms` milliseconds after the first uncommitted row, or at once
** when rows arrive slower than `rows` per `ms` (a slow runner never holds the write lock between questions).
** Defaults 64 rows, 2000 ms; rows = 1 commits every row. */
void vb_store_set_flush(struct vb_store * st, int32_t rows, int32_t ms);
/* Commit the open transaction now (no-op when none).  Returns VB_OK or VB_ERR_DB. */
int vb_store_flush(struct vb_store * st);
/* The underlying connection, for read-only ad-hoc queries by tools (not for writing). */
struct sqlite3 * vb_store_db(struct vb_store * st);

/* ---- runs ---- */

/* What the runner knows about a grid cell.  Fields marked [id] form the identity (hashed); the rest is
** provenance recorded with the run and with each session.  Strings are borrowed for the duration of the call;
** NULL strings are stored as "" ([id]) or NULL (provenance). */
struct vb_run_info {
    const char * dataset;            /* [id] "nextqa", "star", "vlep", "how2qa", ... */
    const char * split;              /* [id] "val", "test", ... */
    const char * method;             /* [id] "uniform", "sevila", "vlap" */
    int32_t      frames;             /* [id] k: frames given to the answerer */
    int32_t      candidates;         /* [id] T: frames decoded / scored (== frames for uniform) */
    const char * sampling;           /* [id] "uniform_midbin", "uniform_endpoints", "uniform_interior" */
    const char * selection;          /* [id] "none", "topk", "gumbel" (as released), "argmax" (deterministic) */
    const char * decode_mode;        /* [id] "as_released" | "minimal" */
    uint64_t     seed;               /* [id] base seed; per-question seeds are derived from it */
    int32_t      blas_threads;       /* [id] BLAS threads (latency depends on it) */
    const char * weights_json;       /* [id] JSON object bundle -> sha256, e.g. {"sevila":"ab12.."}; NULL = {} */
    const char * annotations_sha256; /* [id] sha256 of the annotation file */
    const char * git_commit;         /* [id] code version */
    int32_t      git_dirty;          /* [id] 1 if the tree had uncommitted changes */
    const char * config_json;        /* [id] any other settings as a JSON object (canonicalised); NULL = {} */
    const char * grid_id;            /* groups the cells of one invocation (first creator wins on the run row) */
    const char * build_flags;        /* compiler flags / sanitizers */
    const char * blas_core;          /* OpenBLAS kernel in use */
    const char * cpu_model;
    const char * host;
    const char * sws_flags;       /* libswscale flags, e.g. "bicubic" */
    const char * shard;           /* "i/n" when sharded, NULL otherwise */
    const char * invocation_json; /* the whole canonical invocation (paths, grid, limits) of this process: stored
                                     with its session, not part of the identity, so a grown grid, another
                                     --limit or other paths on another machine resume / merge the same cells */
    int32_t      n_expected;      /* samples the complete run has (all shards), 0 = unknown */
    int32_t      n_split;         /* samples in the whole annotation file (runs.n_split), 0 = unknown */
    const char * subset;          /* NULL: the whole split; else the label of the selection ("--limit 20: 20 of
                                     4996 samples"), runs.subset.  A resumed / merged run keeps the larger
                                     selection and its label; one that stores every sample of the split is the
                                     whole split (docs/schema.md) */
    const char * checkpoint_json; /* provenance, runs.checkpoint: JSON object bundle -> {"dir": basename,
                                     "name_or_path": config's _name_or_path or null}; NULL = not recorded */
    const char * device;        /* provenance, runs.device: "cpu" or "cuda: " + the GPU (name, sm, driver, CUDA runtime,
                                   cuBLASLt); NULL = not recorded (runs of older builds: the CPU) */
    const char * weights_dtype; /* resident weight dtype "f32" / "bf16" / "f16" (provenance, runs.weights_dtype;
                                   the runner also puts non-f32 values into config_json, the identity) */
    const char * kernels;       /* provenance of this session, sessions.kernels: the engine's GEMM and attention
                                   kernels in the run's compute mode (harness/kernels.h); NULL = not recorded */
};

/* Compute the canonical config JSON (malloc'd, caller frees) and its sha256 (65 chars) for info.
** Returns VB_OK or VB_ERR_FORMAT when weights_json/config_json is not a JSON object. */
int vb_store_config_canonical(const struct vb_run_info * info, char ** json_out, char hash_out[65]);

/* Find the run with the same identity or create it; open a session for this process.  *run_id receives the id,
** *resumed (may be NULL) 1 when the run existed.  A resumed run goes back to status 'running' and gains this
** session's selection: the larger one wins (the whole split, subset NULL, over any subset; else the larger
** n_expected with its label); n_expected never shrinks.
** Returns VB_OK, VB_ERR_FORMAT (bad JSON in info) or VB_ERR_DB. */
int vb_store_begin_run(struct vb_store * st, const struct vb_run_info * info, int64_t * run_id, int * resumed);

/* Mark the end of this process's session on run_id: commits pending rows, records wall_s (seconds of wall time
** this session spent on the run; with shared work, e.g. frames decoded once for several cells, the actual elapsed
** time, not a sum of per-sample times), sets end time, adds wall_s to the run's wall time, recomputes the
** verification hash, the selection (a run holding all n_split samples is the whole split: subset NULL; a subset
** holding more than n_expected samples is relabelled "several selections: N of M samples") and sets the status:
** 'complete' when ok+error samples >= n_expected > 0 and at least one
** sample is ok (a run of only error rows is not complete), 'failed' when
** failed != 0, otherwise 'incomplete'.  Returns VB_OK or VB_ERR_DB / VB_ERR_NOTFOUND. */
int vb_store_finish_run(struct vb_store * st, int64_t run_id, double wall_s, int failed);

/* Record the process peak RSS (KiB, vb_rss_peak_kb()) on this process's session of run_id (buffered like the
** rows; call before vb_store_finish_run).  Returns VB_OK, VB_ERR_NOTFOUND (run not begun by this handle) or
** VB_ERR_DB. */
int vb_store_set_peak_rss(struct vb_store * st, int64_t run_id, int64_t peak_rss_kb);

/* Record this process's estimate of run_id's session (seconds of wall time the runner expected for the loop
** iterations the cell takes part in, comparable to the session's wall_s; harness/estimate.h) and a human-readable
** note ("estimate 1 m 20 s, actual 1 m 35 s, actual/estimate 1.19; ..."), sessions.estimate_s / sessions.note
** (buffered like the rows; call before vb_store_finish_run).  Returns VB_OK, VB_ERR_ARG (read-only, or estimate_s
** not a finite value >= 0), VB_ERR_NOTFOUND (run not begun by this handle) or VB_ERR_DB. */
int vb_store_set_estimate(struct vb_store * st, int64_t run_id, double estimate_s, const char * note);

/* The id of the run with info's identity, without creating anything (read-only handles too): VB_OK and *run_id,
** VB_ERR_NOTFOUND (*run_id = 0) when the database has no such run, VB_ERR_FORMAT (bad JSON in info), VB_ERR_DB. */
int vb_store_find_run(struct vb_store * st, const struct vb_run_info * info, int64_t * run_id);

/* ---- samples ---- */

/* One answered (or failed) question.  Strings and arrays are borrowed for the call. */
struct vb_store_sample {
    const char *    key; /* official sample key (NExT-QA "video_qid", VLEP example_id, How2QA qid, ...) */
    const char *    video_id;
    const char *    category;   /* as the official scorer counts it ("CW", "Interaction", dataset name) */
    const char *    group;      /* pooled group ("C","T","D" for NExT-QA; = category elsewhere) */
    int32_t         answer;     /* ground truth index, -1 unknown (test split) */
    int32_t         prediction; /* predicted index, -1 none (error) */
    int32_t         n_options;
    const double *  option_scores; /* (n_options) readout logits, or NULL */
    int32_t         n_candidates;
    const int32_t * candidates; /* (n_candidates) frame indices considered (decoded) */
    int32_t         n_picked;
    const int32_t * picked;               /* (n_picked) frame indices given to the answerer, time order */
    int64_t         frame_lo, frame_hi;   /* sampled range [lo, hi) in video frames; -1 = unknown */
    double          fps;                  /* decoder average frame rate; <= 0 unknown */
    int64_t         vlen;                 /* decoder frame count; -1 unknown */
    int64_t         t_us[VB_STAGE_COUNT]; /* stage times in microseconds (latency.h); -1 = not measured */
    int32_t         step0_token;          /* T5 token emitted at decoder step 0; -1 unknown */
    const char *    error;                /* NULL = status 'ok'; otherwise status 'error' with this text */
    int32_t         shard;                /* shard index (0 when not sharded) */
    const char *    extra_json;           /* optional JSON object (permutation, seeds, flags), NULL = none */
    const char *    prompt;               /* the QA prompt text the method was fed (methods/prompts.h
                                             vb_prompt_qa), NULL = unknown (samples.prompt) */
};

/* Initialise s with "unknown" values (-1 / NULL) so callers set only what they have. */
void vb_store_sample_init(struct vb_store_sample * s);

/* Insert one sample into run_id (inside the current buffered transaction; commits per vb_store_set_flush).
** `correct` is derived: answer >= 0 ? prediction == answer : NULL.  Re-inserting an identical result is a no-op;
** a different result for a stored key is VB_ERR_MISMATCH (message names run and key).  Returns VB_OK,
** VB_ERR_ARG (missing key/video/category), VB_ERR_MISMATCH or VB_ERR_DB. */
int vb_store_put_sample(struct vb_store * st, int64_t run_id, const struct vb_store_sample * s);

/* A sorted set of sample keys. */
struct vb_keyset {
    int32_t n;
    char ** keys; /* (n) sorted by strcmp, owned */
};
/* --retry-errors: delete the error rows of run_id whose keys are among keys[0..n) (ok rows are never touched), in
** one committed transaction (pending rows of this handle are committed with it), so that they are processed again
** and replaced.  *n_deleted (nullable) receives the count.  Returns VB_OK, VB_ERR_ARG (read-only) or VB_ERR_DB. */
int vb_store_delete_error_rows(struct vb_store * st, int64_t run_id, const char * const * keys, int32_t n,
                               int32_t * n_deleted);

/* Keys already stored (committed or pending in this handle) for run_id, any status.  Caller frees with
** vb_keyset_free.  Returns VB_OK or VB_ERR_DB. */
int vb_store_done_keys(struct vb_store * st, int64_t run_id, struct vb_keyset * out);
/* Keys of run_id's samples with status 'ok' only (what remains stored after --retry-errors), sorted like
** vb_store_done_keys.  Returns VB_OK or VB_ERR_DB. */
int vb_store_ok_keys(struct vb_store * st, int64_t run_id, struct vb_keyset * out);
/* 1 if key is in the set (binary search). */
int vb_keyset_has(const struct vb_keyset * ks, const char * key);
/* Free the keys and empty *ks (NULL and empty sets are fine). */
void vb_keyset_free(struct vb_keyset * ks);

/* ---- readers (reports, compare, export) ---- */

struct vb_store_run {
    int64_t  id;
    char *   config_hash, *config, *created, *grid_id;
    char *   dataset, *split, *method, *sampling, *selection, *decode_mode;
    int32_t  frames, candidates, blas_threads, git_dirty, n_expected;
    uint64_t seed;
    char *   git_commit, *build_flags, *weights, *annotations_sha256, *blas_core, *cpu_model, *host;
    char *   sws_flags, *started, *ended, *status, *verify_hash;
    double   wall_s;        /* NAN when never finished */
    char *   weights_dtype; /* "f32" / "bf16" / "f16"; NULL for runs stored before the column existed (= f32) */
    int64_t  peak_rss_kb;   /* largest session peak RSS, KiB; -1 unknown */
    char *   subset;        /* NULL = the whole split; else the selection's label (runs.subset) */
    char *   checkpoint;    /* JSON (runs.checkpoint) or NULL when not recorded */
    char *   notes;         /* the sessions' notes (estimate vs actual, sessions.note) in session order, joined by
                               " / "; NULL when no session has one (older files, runs not finished) */
    char * device;          /* runs.device ("cpu", "cuda: GPU ...") or NULL when not recorded (older builds: the CPU) */
    char * kernels;         /* the sessions' distinct kernel lines (sessions.kernels) in session order, joined by
                               " / "; NULL when none recorded (older files, CUDA runs) */
    int32_t n_samples, n_ok, n_error, n_scored, n_correct; /* scored = answer known; errors count as wrong */
};

/* All runs ordered by id.  *runs is (n) owned; free with vb_store_runs_free.  Returns VB_OK or VB_ERR_DB. */
int vb_store_list_runs(struct vb_store * st, struct vb_store_run ** runs, int32_t * n);
/* One run by id.  Returns VB_OK, VB_ERR_NOTFOUND or VB_ERR_DB; free with vb_store_run_clear. */
int vb_store_get_run(struct vb_store * st, int64_t id, struct vb_store_run * out);
/* The canonical invocation (JSON: annotations, videos, map paths, the grid, ...) of the latest session of run id that
** recorded one, malloc'd into *out (caller frees).  Returns VB_OK, VB_ERR_NOTFOUND (none recorded) or VB_ERR_DB. */
int vb_store_run_invocation(struct vb_store * st, int64_t id, char ** out);
/* Free the strings of one run and set them to NULL (r may be NULL; safe to call twice). */
void vb_store_run_clear(struct vb_store_run * r);
/* Clear runs[0..n) and free the array (runs may be NULL when n == 0). */
void vb_store_runs_free(struct vb_store_run * runs, int32_t n);

/* A stored sample as read back (all strings and arrays owned by the set). */
struct vb_store_row {
    char *   key, *video_id, *category, *group, *status, *error, *extra;
    char *   prompt; /* NULL: not stored (rows of builds before samples.prompt, or no prompt could be built) */
    int32_t  answer, prediction, correct; /* correct: 1/0, -1 = NULL (answer unknown) */
    int32_t  n_options;
    double * option_scores; /* (n_options) */
    int32_t  n_candidates, n_picked;
    int32_t *candidates, *picked;      /* (n_candidates), (n_picked) */
    int64_t  frame_lo, frame_hi, vlen; /* -1 = NULL */
    double   fps;                      /* NAN = NULL */
    int64_t  t_us[VB_STAGE_COUNT];     /* -1 = NULL */
    int32_t  step0_token, shard;
};
struct vb_store_rows {
    int32_t               n;
    struct vb_store_row * r; /* (n) sorted by key (strcmp order) */
};
/* All samples of run_id, sorted by key.  Free with vb_store_rows_free.  Returns VB_OK, VB_ERR_DB, or
** VB_ERR_FORMAT when a stored JSON array is malformed (message names run and key). */
int vb_store_load_samples(struct vb_store * st, int64_t run_id, struct vb_store_rows * out);
/* Free every row and its strings / arrays (rows may be NULL). */
void vb_store_rows_free(struct vb_store_rows * rows);

/* Verification hash of a run: sha256 over "key\tstatus\tprediction\tpicked\n" for every sample in key order.
** Independent of timings, order of insertion and sharding.  out is 65 chars.  Returns VB_OK or VB_ERR_DB. */
int vb_store_verify_hash(struct vb_store * st, int64_t run_id, char out[65]);

/* ---- merge ---- */

/* Combine shard databases into out_path (created if missing; may already hold runs).  For every run in every input,
** the run with the same config hash in the output is found or created; samples are copied (identical duplicates
** are skipped, different duplicates are VB_ERR_MISMATCH), sessions are copied, the selections united as a resume
** does (vb_store_begin_run), wall time summed and the verification hash, selection and status recomputed
** (vb_store_finish_run).  When strict is set, every input must hold at least one run and all
** inputs the same set of config hashes (shards of one invocation); otherwise VB_ERR_MISMATCH naming both files and
** nothing is written.
** Everything is done in one transaction: on failure the output is unchanged, and an output that did not exist
** before the call is removed (with its -wal / -shm / -journal files): a failed merge leaves nothing behind.
** Returns VB_OK or an error. */
int vb_store_merge(const char * out_path, const char * const * inputs, int32_t n_inputs, int strict);

#endif
