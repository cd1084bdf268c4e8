/* store_read.c — the store's readers: runs, samples, the verification hash (store.h). */
#include "base/common.h"
#include "results/store.h"
#include "results/store_internal.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

/* ======================================================================================================== */
/* readers                                                                                                  */
/* ======================================================================================================== */

static char * col_dup(sqlite3_stmt * s, int i) {
    const unsigned char * t = sqlite3_column_text(s, i);
    return t ? vb_strdup((const char *)t) : NULL;
}

static int read_run_row(sqlite3_stmt * s, struct vb_store_run * r) {
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(s, 0);
    r->config_hash = col_dup(s, 1);
    r->config = col_dup(s, 2);
    r->created = col_dup(s, 3);
    r->grid_id = col_dup(s, 4);
    r->dataset = col_dup(s, 5);
    r->split = col_dup(s, 6);
    r->method = col_dup(s, 7);
    r->frames = sqlite3_column_int(s, 8);
    r->candidates = sqlite3_column_int(s, 9);
    r->sampling = col_dup(s, 10);
    r->selection = col_dup(s, 11);
    r->decode_mode = col_dup(s, 12);
    const char * seed = (const char *)sqlite3_column_text(s, 13);
    r->seed = seed ? strtoull(seed, NULL, 10) : 0;
    r->git_commit = col_dup(s, 14);
    r->git_dirty = sqlite3_column_int(s, 15);
    r->build_flags = col_dup(s, 16);
    r->weights = col_dup(s, 17);
    r->annotations_sha256 = col_dup(s, 18);
    r->blas_core = col_dup(s, 19);
    r->blas_threads = sqlite3_column_int(s, 20);
    r->cpu_model = col_dup(s, 21);
    r->host = col_dup(s, 22);
    r->sws_flags = col_dup(s, 23);
    r->n_expected = sqlite3_column_int(s, 24);
    r->started = col_dup(s, 25);
    r->ended = col_dup(s, 26);
    r->wall_s = sqlite3_column_type(s, 27) == SQLITE_NULL ? NAN : sqlite3_column_double(s, 27);
    r->status = col_dup(s, 28);
    r->verify_hash = col_dup(s, 29);
    r->n_samples = sqlite3_column_int(s, 30);
    r->n_ok = sqlite3_column_int(s, 31);
    r->n_error = sqlite3_column_int(s, 32);
    r->n_scored = sqlite3_column_int(s, 33);
    r->n_correct = sqlite3_column_int(s, 34);
    r->weights_dtype = col_dup(s, 35);
    r->peak_rss_kb = sqlite3_column_type(s, 36) == SQLITE_NULL ? -1 : sqlite3_column_int64(s, 36);
    r->subset = col_dup(s, 37);
    r->checkpoint = col_dup(s, 38);
    r->notes = col_dup(s, 39);
    r->device = col_dup(s, 40);
    r->kernels = col_dup(s, 41);
    return VB_OK;
}

#define RUN_SELECT                                                                                                     \
    "SELECT " RUN_COLS ", (SELECT COUNT(*) FROM samples s WHERE s.run_id=runs.id),"                                    \
    " (SELECT COUNT(*) FROM samples s WHERE s.run_id=runs.id AND s.status='ok'),"                                      \
    " (SELECT COUNT(*) FROM samples s WHERE s.run_id=runs.id AND s.status='error'),"                                   \
    " (SELECT COUNT(correct) FROM samples s WHERE s.run_id=runs.id),"                                                  \
    " (SELECT COALESCE(SUM(correct),0) FROM samples s WHERE s.run_id=runs.id)"
/* columns 35, 36: added in issue 9 (NULL when an older file opened read-only lacks them) */
/* columns 37, 38: added in issue 18 */
#define RUN_SELECT_EXT2                                                                                                \
    ", weights_dtype, (SELECT MAX(peak_rss_kb) FROM sessions WHERE run_id=runs.id), subset, checkpoint"
#define RUN_SELECT_EXT   ", weights_dtype, (SELECT MAX(peak_rss_kb) FROM sessions WHERE run_id=runs.id), NULL, NULL"
#define RUN_SELECT_NOEXT ", NULL, NULL, NULL, NULL"
/* column 39: added in issue 19 (the sessions' notes in session order) */
#define RUN_SELECT_EXT3                                                                                                \
    ", (SELECT group_concat(note, ' / ') FROM (SELECT note FROM sessions WHERE run_id=runs.id AND note IS NOT NULL"    \
    " ORDER BY id))"
#define RUN_SELECT_NOEXT3 ", NULL"
/* column 40: added in issue 20 */
#define RUN_SELECT_DEV   ", device"
#define RUN_SELECT_NODEV ", NULL"
/* column 41: added in issue 19's ninth round (the sessions' distinct kernel lines, in the order first recorded) */
#define RUN_SELECT_KERNELS                                                                                             \
    ", (SELECT group_concat(kernels, ' / ') FROM (SELECT kernels FROM sessions WHERE run_id=runs.id AND kernels IS"    \
    " NOT NULL GROUP BY kernels ORDER BY MIN(id))) FROM runs"
#define RUN_SELECT_NOKERNELS ", NULL FROM runs"
/* the five parts of the SELECT for this file's columns, as arguments for "%s%s%s%s%s" */
#define RUN_SELECT_PARTS(st)                                                                                           \
    RUN_SELECT,                                                                                                        \
        (st)->has_ext2  ? RUN_SELECT_EXT2                                                                              \
        : (st)->has_ext ? RUN_SELECT_EXT                                                                               \
                        : RUN_SELECT_NOEXT,                                                                            \
        (st)->has_ext3 ? RUN_SELECT_EXT3 : RUN_SELECT_NOEXT3, (st)->has_device ? RUN_SELECT_DEV : RUN_SELECT_NODEV,    \
        (st)->has_kernels ? RUN_SELECT_KERNELS : RUN_SELECT_NOKERNELS

int vb_store_list_runs(struct vb_store * st, struct vb_store_run ** runs, int32_t * n) {
    *runs = NULL;
    *n = 0;
    sqlite3_stmt * s;
    char           sql[2048];
    snprintf(sql, sizeof sql, "%s%s%s%s%s ORDER BY id", RUN_SELECT_PARTS(st));
    int rc = vb_store_i_prepare(st, sql, &s);
    if (rc != VB_OK) return rc;
    int32_t cap = 0;
    int     r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            *runs = vb_realloc(*runs, sizeof **runs * (size_t)cap);
        }
        read_run_row(s, &(*runs)[(*n)++]);
    }
    sqlite3_finalize(s);
    if (r != SQLITE_DONE) {
        vb_store_runs_free(*runs, *n);
        *runs = NULL;
        *n = 0;
        return vb_store_i_db_fail(st, "list runs");
    }
    return VB_OK;
}

int vb_store_get_run(struct vb_store * st, int64_t id, struct vb_store_run * out) {
    memset(out, 0, sizeof *out);
    sqlite3_stmt * s;
    char           sql[2048];
    snprintf(sql, sizeof sql, "%s%s%s%s%s WHERE id=?1", RUN_SELECT_PARTS(st));
    int rc = vb_store_i_prepare(st, sql, &s);
    if (rc != VB_OK) return rc;
    sqlite3_bind_int64(s, 1, id);
    int r = sqlite3_step(s);
    if (r == SQLITE_ROW)
        read_run_row(s, out);
    else if (r == SQLITE_DONE)
        rc = vb_fail(VB_ERR_NOTFOUND, "%s: no run with id %lld", st->path, (long long)id);
    else
        rc = vb_store_i_db_fail(st, "get run");
    sqlite3_finalize(s);
    return rc;
}

int vb_store_run_invocation(struct vb_store * st, int64_t id, char ** out) {
    *out = NULL;
    sqlite3_stmt * s;
    int            rc = vb_store_i_prepare(
                   st, "SELECT invocation FROM sessions WHERE run_id=?1 AND invocation IS NOT NULL ORDER BY id DESC LIMIT 1", &s);
    if (rc != VB_OK) return rc;
    sqlite3_bind_int64(s, 1, id);
    int r = sqlite3_step(s);
    if (r == SQLITE_ROW && sqlite3_column_text(s, 0))
        *out = vb_strdup((const char *)sqlite3_column_text(s, 0));
    else if (r == SQLITE_ROW || r == SQLITE_DONE)
        rc = vb_fail(VB_ERR_NOTFOUND, "%s: run %lld has no session with its invocation", st->path, (long long)id);
    else
        rc = vb_store_i_db_fail(st, "run invocation");
    sqlite3_finalize(s);
    return rc;
}

void vb_store_run_clear(struct vb_store_run * r) {
    if (!r) return;
    char ** f[] = {&r->config_hash,   &r->config,
                   &r->created,       &r->grid_id,
                   &r->dataset,       &r->split,
                   &r->method,        &r->sampling,
                   &r->selection,     &r->decode_mode,
                   &r->git_commit,    &r->build_flags,
                   &r->weights,       &r->annotations_sha256,
                   &r->blas_core,     &r->cpu_model,
                   &r->host,          &r->sws_flags,
                   &r->started,       &r->ended,
                   &r->status,        &r->verify_hash,
                   &r->weights_dtype, &r->subset,
                   &r->checkpoint,    &r->notes,
                   &r->device,        &r->kernels};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        free(*f[i]);
        *f[i] = NULL;
    }
}

void vb_store_runs_free(struct vb_store_run * runs, int32_t n) {
    for (int32_t i = 0; i < n; i++)
        vb_store_run_clear(&runs[i]);
    free(runs);
}

/* parse a JSON array of numbers; NULL text = empty */
static int parse_num_array(const char * txt, double ** outd, int32_t ** outi, int32_t * n) {
    *n = 0;
    if (outd) *outd = NULL;
    if (outi) *outi = NULL;
    if (!txt) return VB_OK;
    cJSON * j = cJSON_Parse(txt);
    if (!j || !cJSON_IsArray(j)) {
        cJSON_Delete(j);
        return VB_ERR_FORMAT;
    }
    int32_t m = cJSON_GetArraySize(j), i = 0;
    if (outd) *outd = vb_malloc(sizeof(double) * (size_t)(m ? m : 1));
    if (outi) *outi = vb_malloc(sizeof(int32_t) * (size_t)(m ? m : 1));
    for (cJSON * c = j->child; c; c = c->next, i++) {
        double v = cJSON_IsNumber(c) ? c->valuedouble : NAN;
        if (!cJSON_IsNumber(c) && !cJSON_IsNull(c)) {
            cJSON_Delete(j);
            return VB_ERR_FORMAT;
        }
        if (outd) (*outd)[i] = v;
        if (outi) (*outi)[i] = cJSON_IsNumber(c) ? (int32_t)c->valueint : -1;
    }
    *n = m;
    cJSON_Delete(j);
    return VB_OK;
}

static int64_t col_i64(sqlite3_stmt * s, int i) {
    return sqlite3_column_type(s, i) == SQLITE_NULL ? -1 : sqlite3_column_int64(s, i);
}

int vb_store_load_samples(struct vb_store * st, int64_t run_id, struct vb_store_rows * out) {
    out->n = 0;
    out->r = NULL;
    sqlite3_stmt * s;
    int            rc = vb_store_i_prepare(st,
                                st->has_prompt
                                               ? "SELECT " SAMPLE_COLS ", prompt FROM samples WHERE run_id=?1 ORDER BY sample_key"
                                               : "SELECT " SAMPLE_COLS ", NULL FROM samples WHERE run_id=?1 ORDER BY sample_key",
                                           &s);
    if (rc != VB_OK) return rc;
    sqlite3_bind_int64(s, 1, run_id);
    int32_t cap = 0;
    int     r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        if (out->n == cap) {
            cap = cap ? cap * 2 : 256;
            out->r = vb_realloc(out->r, sizeof *out->r * (size_t)cap);
        }
        struct vb_store_row * w = &out->r[out->n++];
        memset(w, 0, sizeof *w);
        w->key = col_dup(s, 1);
        w->video_id = col_dup(s, 2);
        w->category = col_dup(s, 3);
        w->group = col_dup(s, 4);
        w->answer = (int32_t)col_i64(s, 5);
        w->prediction = (int32_t)col_i64(s, 6);
        w->correct = (int32_t)col_i64(s, 7);
        int bad = parse_num_array((const char *)sqlite3_column_text(s, 8), &w->option_scores, NULL, &w->n_options);
        bad |= parse_num_array((const char *)sqlite3_column_text(s, 9), NULL, &w->candidates, &w->n_candidates);
        bad |= parse_num_array((const char *)sqlite3_column_text(s, 10), NULL, &w->picked, &w->n_picked);
        w->frame_lo = col_i64(s, 11);
        w->frame_hi = col_i64(s, 12);
        w->fps = sqlite3_column_type(s, 13) == SQLITE_NULL ? NAN : sqlite3_column_double(s, 13);
        w->vlen = col_i64(s, 14);
        for (int i = 0; i < VB_STAGE_COUNT; i++)
            w->t_us[i] = col_i64(s, 15 + i);
        w->step0_token = (int32_t)col_i64(s, 23);
        w->status = col_dup(s, 24);
        w->error = col_dup(s, 25);
        w->shard = sqlite3_column_int(s, 26);
        w->extra = col_dup(s, 27);
        w->prompt = col_dup(s, 28);
        if (bad) {
            rc = vb_fail(VB_ERR_FORMAT, "%s: run %lld sample '%s': malformed JSON array", st->path, (long long)run_id,
                         w->key);
            break;
        }
    }
    sqlite3_finalize(s);
    if (rc == VB_OK && r != SQLITE_DONE) rc = vb_store_i_db_fail(st, "load samples");
    if (rc != VB_OK) vb_store_rows_free(out);
    return rc;
}

void vb_store_rows_free(struct vb_store_rows * rows) {
    if (!rows) return;
    for (int32_t i = 0; i < rows->n; i++) {
        struct vb_store_row * w = &rows->r[i];
        free(w->key);
        free(w->video_id);
        free(w->category);
        free(w->group);
        free(w->status);
        free(w->error);
        free(w->extra);
        free(w->prompt);
        free(w->option_scores);
        free(w->candidates);
        free(w->picked);
    }
    free(rows->r);
    rows->r = NULL;
    rows->n = 0;
}

int vb_store_verify_hash(struct vb_store * st, int64_t run_id, char out[65]) {
    sqlite3_stmt * s;
    int            rc = vb_store_i_prepare(st,
                                           "SELECT sample_key, status, COALESCE(prediction,-1), COALESCE(picked,'') FROM samples "
                                                      "WHERE run_id=?1 ORDER BY sample_key",
                                           &s);
    if (rc != VB_OK) return rc;
    sqlite3_bind_int64(s, 1, run_id);
    size_t cap = 4096, len = 0;
    char * buf = vb_malloc(cap);
    int    r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        const char * k = (const char *)sqlite3_column_text(s, 0);
        const char * stt = (const char *)sqlite3_column_text(s, 1);
        int          pred = sqlite3_column_int(s, 2);
        const char * pk = (const char *)sqlite3_column_text(s, 3);
        size_t       need = strlen(k) + strlen(stt) + strlen(pk) + 32;
        if (len + need > cap) {
            while (len + need > cap)
                cap *= 2;
            buf = vb_realloc(buf, cap);
        }
        len += (size_t)snprintf(buf + len, cap - len, "%s\t%s\t%d\t%s\n", k, stt, pred, pk);
    }
    sqlite3_finalize(s);
    if (r != SQLITE_DONE) {
        free(buf);
        return vb_store_i_db_fail(st, "verify hash");
    }
    vb_sha256_buf(buf, len, out);
    free(buf);
    return VB_OK;
}
