/* store_internal.h — what the store's files share (store.c: schema, handle, runs, samples; store_read.c: readers;
** store_merge.c: merge).
** Not a public API: see store.h. */
#ifndef VB_STORE_INTERNAL_H
#define VB_STORE_INTERNAL_H

#include "results/store.h"

#include <sqlite3.h>
#include <stdint.h>

/* Column lists of samples and runs in the order the writers bind and the readers read them. */
#define SAMPLE_COLS                                                                                                    \
    "run_id, sample_key, video_id, category, grp, answer, prediction, correct, option_scores, candidates, "            \
    "picked, frame_lo, frame_hi, fps, vlen, t_decode_us, t_preprocess_us, t_vit_us, t_select_us, t_qformer_us, "       \
    "t_t5_enc_us, t_t5_dec_us, t_total_us, step0_token, status, error, shard, extra"
#define SAMPLE_NCOLS 28
/* samples.prompt (added in issue 18) is named apart: read as NULL from an older file opened read-only */

#define RUN_COLS                                                                                                       \
    "id, config_hash, config, created, grid_id, dataset, split, method, frames, candidates, sampling, "                \
    "selection, decode_mode, seed, git_commit, git_dirty, build_flags, weights, annotations_sha256, blas_core, "       \
    "blas_threads, cpu_model, host, sws_flags, n_expected, started, ended, wall_s, status, verify_hash"

struct sess {
    int64_t run_id, session_id, n_added;
};

struct vb_store {
    sqlite3 *      db;
    char *         path;
    int            read_only;
    sqlite3_stmt * ins;     /* INSERT INTO samples */
    sqlite3_stmt * sel_one; /* the stored version of one sample, for the duplicate check */
    int            in_txn;  /* a BEGIN is open */
    int            hold;    /* merge: never auto-commit */
    int32_t        pending; /* rows inserted since BEGIN */
    int64_t        txn_t0_us;
    int64_t        last_put_us; /* time of the previous put_sample (0 = none) */
    int32_t        flush_rows, flush_ms;
    struct sess *  sess;
    int32_t        n_sess;
    int            has_ext;     /* runs.weights_dtype and sessions.peak_rss_kb exist (added in issue 9) */
    int            has_ext2;    /* runs.subset and runs.checkpoint exist (added in issue 18) */
    int            has_prompt;  /* samples.prompt exists (added in issue 18) */
    int            has_n_split; /* runs.n_split exists (added in issue 18) */
    int            has_ext3;    /* sessions.estimate_s and sessions.note exist (added in issue 19) */
    int            has_device;  /* runs.device exists (added in issue 20) */
    int            has_kernels; /* sessions.kernels exists (added in issue 19, the ninth round) */
};

/* VB_ERR_DB with what and SQLite's message. */
int vb_store_i_db_fail(struct vb_store * st, const char * what);
/* Prepare sql on st (VB_ERR_DB on failure). */
int vb_store_i_prepare(struct vb_store * st, const char * sql, sqlite3_stmt ** out);
/* Recompute a run's verification hash, wall time, start / end and status (complete when all expected samples are
** stored and at least one of them is ok; failed: 'failed'); VB_ERR_NOTFOUND when there is no such run. */
int vb_store_i_update_run_summary(struct vb_store * st, int64_t run_id, int failed);
/* A resumed or merged-into run gains a selection (n_expected samples labelled subset, NULL = the whole split of
** n_split samples; 0 = unknown): the larger selection wins (the whole split over any subset, else the larger
** n_expected with its label); n_expected never shrinks (docs/schema.md, runs.subset). */
int vb_store_i_union_selection(struct vb_store * st, int64_t id, int32_t n_expected, const char * subset,
                               int32_t n_split);
/* BEGIN / COMMIT of the store's write transaction. */
int vb_store_i_txn_begin(struct vb_store * st);
int vb_store_i_txn_commit(struct vb_store * st);
/* Insert a new run row with config hash and canonical config; *id its row id. */
int vb_store_i_insert_run(struct vb_store * st, const char * hash, const char * canon, const struct vb_run_info * in,
                          const char * weights_canon, const char * created, int64_t * id);
/* Row id of the run with config hash (0 when absent). */
int vb_store_i_find_run(struct vb_store * st, const char * hash, int64_t * id);
/* Run an UPDATE sql with ?1 = run_id and, when it has a second parameter, ?2 = iv. */
int vb_store_i_exec_run_update(struct vb_store * st, const char * sql, int64_t run_id, int32_t iv);

#endif
