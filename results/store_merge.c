/* store_merge.c — `vlapbench merge` (vb_store_merge, store.h): shards and databases of one grid into one. */
#include "base/common.h"
#include "results/store.h"
#include "results/store_internal.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ======================================================================================================== */
/* merge                                                                                                    */
/* ======================================================================================================== */

static int copy_sessions(struct vb_store * in, int64_t in_run, struct vb_store * out, int64_t out_run) {
    sqlite3_stmt *s, *w;
    char          sql[512]; /* the columns an older input lacks are read as NULL */
    snprintf(sql, sizeof sql,
             "SELECT grid_id, shard, host, cpu_model, blas_core, build_flags, started, ended, wall_s, n_added, "
             "invocation, %s, %s, %s FROM sessions WHERE run_id=?1 ORDER BY id",
             in->has_ext ? "peak_rss_kb" : "NULL", in->has_ext3 ? "estimate_s, note" : "NULL, NULL",
             in->has_kernels ? "kernels" : "NULL");
    int rc = vb_store_i_prepare(in, sql, &s);
    if (rc != VB_OK) return rc;
    rc = vb_store_i_prepare(out,
                            "INSERT INTO sessions(run_id, grid_id, shard, host, cpu_model, blas_core, build_flags, "
                            "started, ended, wall_s, n_added, invocation, peak_rss_kb, estimate_s, note, kernels) "
                            "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16)",
                            &w);
    if (rc != VB_OK) {
        sqlite3_finalize(s);
        return rc;
    }
    sqlite3_bind_int64(s, 1, in_run);
    int r;
    while (rc == VB_OK && (r = sqlite3_step(s)) == SQLITE_ROW) {
        sqlite3_reset(w);
        sqlite3_bind_int64(w, 1, out_run);
        for (int i = 0; i < 15; i++)
            sqlite3_bind_value(w, 2 + i, sqlite3_column_value(s, i));
        if (sqlite3_step(w) != SQLITE_DONE) rc = vb_store_i_db_fail(out, "copy session");
    }
    if (rc == VB_OK && r != SQLITE_DONE) rc = vb_store_i_db_fail(in, "read sessions");
    sqlite3_finalize(s);
    sqlite3_finalize(w);
    return rc;
}

/* run info view of a stored run (pointers into r) */
static void run_to_info(const struct vb_store_run * r, struct vb_run_info * in) {
    memset(in, 0, sizeof *in);
    in->dataset = r->dataset;
    in->split = r->split;
    in->method = r->method;
    in->frames = r->frames;
    in->candidates = r->candidates;
    in->sampling = r->sampling;
    in->selection = r->selection;
    in->decode_mode = r->decode_mode;
    in->seed = r->seed;
    in->blas_threads = r->blas_threads;
    in->annotations_sha256 = r->annotations_sha256;
    in->git_commit = r->git_commit;
    in->git_dirty = r->git_dirty;
    in->grid_id = r->grid_id;
    in->build_flags = r->build_flags;
    in->blas_core = r->blas_core;
    in->cpu_model = r->cpu_model;
    in->host = r->host;
    in->sws_flags = r->sws_flags;
    in->n_expected = r->n_expected;
    in->weights_dtype = r->weights_dtype;
    in->subset = r->subset;
    in->checkpoint_json = r->checkpoint;
    in->device = r->device;
}

/* runs.n_split of an input run (0 when unknown or the file predates the column). */
static int32_t input_n_split(struct vb_store * in, int64_t id) {
    sqlite3_stmt * s;
    int32_t        n = 0;
    if (!in->has_n_split || vb_store_i_prepare(in, "SELECT COALESCE(n_split, 0) FROM runs WHERE id=?1", &s) != VB_OK)
        return 0;
    sqlite3_bind_int64(s, 1, id);
    if (sqlite3_step(s) == SQLITE_ROW) n = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return n;
}

static int merge_run(struct vb_store * in, const struct vb_store_run * r, struct vb_store * out) {
    int64_t oid = 0;
    int32_t n_split = input_n_split(in, r->id);
    int     rc = vb_store_i_find_run(out, r->config_hash, &oid);
    if (rc != VB_OK) return rc;
    if (oid == 0) {
        struct vb_run_info info;
        run_to_info(r, &info);
        info.n_split = n_split;
        rc = vb_store_i_insert_run(out, r->config_hash, r->config, &info, r->weights, r->created, &oid);
        if (rc != VB_OK) return rc;
    } else {
        /* the run of the output gains this input's selection: the larger one and its label win, and once every
        ** sample of the split is stored the run is the whole split (vb_store_i_update_run_summary, below) */
        rc = vb_store_i_union_selection(out, oid, r->n_expected, r->subset, n_split);
        if (rc != VB_OK) return rc;
    }
    rc = copy_sessions(in, r->id, out, oid);
    if (rc != VB_OK) return rc;
    struct vb_store_rows rows;
    rc = vb_store_load_samples(in, r->id, &rows);
    if (rc != VB_OK) return rc;
    for (int32_t i = 0; i < rows.n && rc == VB_OK; i++) {
        const struct vb_store_row * w = &rows.r[i];
        struct vb_store_sample      x;
        vb_store_sample_init(&x);
        x.key = w->key;
        x.video_id = w->video_id;
        x.category = w->category;
        x.group = w->group;
        x.answer = w->answer;
        x.prediction = w->prediction;
        x.n_options = w->n_options;
        x.option_scores = w->option_scores;
        x.n_candidates = w->n_candidates;
        x.candidates = w->candidates;
        x.n_picked = w->n_picked;
        x.picked = w->picked;
        x.frame_lo = w->frame_lo;
        x.frame_hi = w->frame_hi;
        x.fps = isnan(w->fps) ? 0 : w->fps;
        x.vlen = w->vlen;
        memcpy(x.t_us, w->t_us, sizeof x.t_us);
        x.step0_token = w->step0_token;
        x.error = strcmp(w->status, "error") == 0 ? (w->error ? w->error : "") : NULL;
        x.shard = w->shard;
        x.extra_json = w->extra;
        x.prompt = w->prompt;
        rc = vb_store_put_sample(out, oid, &x);
    }
    vb_store_rows_free(&rows);
    if (rc != VB_OK) return rc;
    /* failed if any input said so; otherwise status from counts */
    return vb_store_i_update_run_summary(out, oid, strcmp(r->status, "failed") == 0);
}

static int cmp_hash_sets(const struct vb_store_run * a, int32_t na, const struct vb_store_run * b, int32_t nb) {
    if (na != nb) return 1;
    for (int32_t i = 0; i < na; i++) {
        int found = 0;
        for (int32_t j = 0; j < nb && !found; j++)
            found = strcmp(a[i].config_hash, b[j].config_hash) == 0;
        if (!found) return 1;
    }
    return 0;
}

/* Remove a database this merge created (and its WAL / shared-memory / journal files): a failed merge into a new
** output leaves nothing behind. */
static void remove_new_output(const char * path) {
    static const char * const sfx[] = {"", "-wal", "-shm", "-journal"};
    size_t                    n = strlen(path) + 16;
    char *                    p = vb_malloc(n);
    for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++) {
        snprintf(p, n, "%s%s", path, sfx[i]);
        unlink(p);
    }
    free(p);
}

int vb_store_merge(const char * out_path, const char * const * inputs, int32_t n_inputs, int strict) {
    if (n_inputs <= 0) return vb_fail(VB_ERR_ARG, "merge: no input databases");
    struct vb_store **     ins = vb_calloc((size_t)n_inputs, sizeof *ins);
    struct vb_store_run ** runs = vb_calloc((size_t)n_inputs, sizeof *runs);
    int32_t *              nruns = vb_calloc((size_t)n_inputs, sizeof *nruns);
    struct vb_store *      out = NULL;
    int                    rc = VB_OK;
    for (int32_t i = 0; i < n_inputs && rc == VB_OK; i++) {
        if (strcmp(inputs[i], out_path) == 0) {
            rc = vb_fail(VB_ERR_ARG, "merge: input %s is also the output", inputs[i]);
            break;
        }
        rc = vb_store_open(&ins[i], inputs[i], 1);
        if (rc == VB_OK) rc = vb_store_list_runs(ins[i], &runs[i], &nruns[i]);
    }
    /* refuse mismatched configurations before touching the output */
    for (int32_t i = 0; i < n_inputs && rc == VB_OK && strict; i++) {
        if (nruns[i] == 0)
            rc = vb_fail(VB_ERR_MISMATCH, "merge: %s holds no run", inputs[i]);
        else if (i > 0 && cmp_hash_sets(runs[0], nruns[0], runs[i], nruns[i]))
            rc = vb_fail(VB_ERR_MISMATCH,
                         "merge: %s and %s hold different run configurations (config hash %.12s vs %.12s: "
                         "method/frames/seed/weights/commit/... differ)",
                         inputs[0], inputs[i], runs[0][0].config_hash, runs[i][0].config_hash);
    }
    struct stat sb;
    int         existed = stat(out_path, &sb) == 0;
    if (rc == VB_OK) rc = vb_store_open(&out, out_path, 0);
    if (rc == VB_OK) {
        out->hold = 1;
        rc = vb_store_i_txn_begin(out);
    }
    for (int32_t i = 0; i < n_inputs && rc == VB_OK; i++)
        for (int32_t j = 0; j < nruns[i] && rc == VB_OK; j++) {
            rc = merge_run(ins[i], &runs[i][j], out);
            if (rc != VB_OK) vb_fail_prefix(rc, "merge %s run %lld", inputs[i], (long long)runs[i][j].id);
        }
    if (out) {
        if (rc == VB_OK) {
            out->hold = 0;
            rc = vb_store_i_txn_commit(out);
        } else {
            sqlite3_exec(out->db, "ROLLBACK;", NULL, NULL, NULL);
            out->in_txn = 0;
        }
        int rc2 = vb_store_close(out);
        if (rc == VB_OK) rc = rc2;
    }
    if (rc != VB_OK && !existed) remove_new_output(out_path);
    for (int32_t i = 0; i < n_inputs; i++) {
        vb_store_runs_free(runs[i], nruns[i]);
        vb_store_close(ins[i]);
    }
    free(runs);
    free(nruns);
    free(ins);
    return rc;
}
