/* store.c — SQLite results store (contract in store.h, schema and design in docs/schema.md). */
#include "results/store.h"

#include "results/store_internal.h"

#include "base/common.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <sqlite3.h>
#include <string.h>
#include <time.h>

/* ======================================================================================================== */
/* schema                                                                                                   */
/* ======================================================================================================== */

static const char * SCHEMA_SQL =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);\n"
    "CREATE TABLE IF NOT EXISTS runs(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  config_hash TEXT NOT NULL UNIQUE,\n"
    "  config TEXT NOT NULL,\n"
    "  created TEXT NOT NULL,\n"
    "  grid_id TEXT,\n"
    "  dataset TEXT NOT NULL, split TEXT NOT NULL, method TEXT NOT NULL,\n"
    "  frames INTEGER NOT NULL, candidates INTEGER NOT NULL,\n"
    "  sampling TEXT NOT NULL, selection TEXT NOT NULL, decode_mode TEXT NOT NULL,\n"
    "  seed TEXT NOT NULL,\n"
    "  git_commit TEXT NOT NULL, git_dirty INTEGER NOT NULL,\n"
    "  build_flags TEXT, weights TEXT NOT NULL, annotations_sha256 TEXT NOT NULL,\n"
    "  blas_core TEXT, blas_threads INTEGER NOT NULL, cpu_model TEXT, host TEXT, sws_flags TEXT,\n"
    "  n_expected INTEGER NOT NULL DEFAULT 0,\n"
    "  started TEXT, ended TEXT, wall_s REAL,\n"
    "  status TEXT NOT NULL CHECK(status IN ('running','complete','incomplete','failed')),\n"
    "  verify_hash TEXT,\n"
    "  weights_dtype TEXT,\n"
    "  subset TEXT, checkpoint TEXT, n_split INTEGER, device TEXT);\n"
    "CREATE TABLE IF NOT EXISTS sessions(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  run_id INTEGER NOT NULL REFERENCES runs(id),\n"
    "  grid_id TEXT, shard TEXT, host TEXT, cpu_model TEXT, blas_core TEXT, build_flags TEXT,\n"
    "  started TEXT NOT NULL, ended TEXT, wall_s REAL, n_added INTEGER NOT NULL DEFAULT 0,\n"
    "  invocation TEXT, peak_rss_kb INTEGER, estimate_s REAL, note TEXT, kernels TEXT);\n"
    "CREATE TABLE IF NOT EXISTS samples(\n"
    "  run_id INTEGER NOT NULL REFERENCES runs(id),\n"
    "  sample_key TEXT NOT NULL,\n"
    "  video_id TEXT NOT NULL, category TEXT NOT NULL, grp TEXT NOT NULL,\n"
    "  answer INTEGER, prediction INTEGER, correct INTEGER CHECK(correct IN (0,1)),\n"
    "  option_scores TEXT, candidates TEXT, picked TEXT,\n"
    "  frame_lo INTEGER, frame_hi INTEGER, fps REAL, vlen INTEGER,\n"
    "  t_decode_us INTEGER, t_preprocess_us INTEGER, t_vit_us INTEGER, t_select_us INTEGER,\n"
    "  t_qformer_us INTEGER, t_t5_enc_us INTEGER, t_t5_dec_us INTEGER, t_total_us INTEGER,\n"
    "  step0_token INTEGER,\n"
    "  status TEXT NOT NULL CHECK(status IN ('ok','error')), error TEXT,\n"
    "  shard INTEGER NOT NULL DEFAULT 0,\n"
    "  extra TEXT,\n"
    "  prompt TEXT,\n"
    "  PRIMARY KEY(run_id, sample_key)) WITHOUT ROWID;\n"
    "CREATE INDEX IF NOT EXISTS samples_video ON samples(run_id, video_id);\n"
    "CREATE INDEX IF NOT EXISTS sessions_run ON sessions(run_id);\n"
    /* accuracy: scored = answer known; errors count as wrong (correct = 0 is stored for them when answer known) */
    "CREATE VIEW IF NOT EXISTS v_accuracy AS\n"
    "  SELECT run_id, 'overall' AS level, 'all' AS name, COUNT(*) AS n, SUM(status='error') AS n_error,\n"
    "         SUM(correct) AS n_correct, 100.0*AVG(correct) AS acc\n"
    "    FROM samples WHERE correct IS NOT NULL GROUP BY run_id\n"
    "  UNION ALL\n"
    "  SELECT run_id, 'group', grp, COUNT(*), SUM(status='error'), SUM(correct), 100.0*AVG(correct)\n"
    "    FROM samples WHERE correct IS NOT NULL GROUP BY run_id, grp\n"
    "  UNION ALL\n"
    "  SELECT run_id, 'category', category, COUNT(*), SUM(status='error'), SUM(correct), 100.0*AVG(correct)\n"
    "    FROM samples WHERE correct IS NOT NULL GROUP BY run_id, category;\n"
    /* long format: one row per (run, sample, stage) so medians are ORDER BY/LIMIT/OFFSET queries */
    "CREATE VIEW IF NOT EXISTS v_latency AS\n"
    "  SELECT run_id, sample_key, 'decode' AS stage, t_decode_us AS t_us FROM samples WHERE status='ok'\n"
    "  UNION ALL SELECT run_id, sample_key, 'preprocess', t_preprocess_us FROM samples WHERE status='ok'\n"
    "  UNION ALL SELECT run_id, sample_key, 'vit', t_vit_us FROM samples WHERE status='ok'\n"
    "  UNION ALL SELECT run_id, sample_key, 'select', t_select_us FROM samples WHERE status='ok'\n"
    "  UNION ALL SELECT run_id, sample_key, 'qformer', t_qformer_us FROM samples WHERE status='ok'\n"
    "  UNION ALL SELECT run_id, sample_key, 't5_enc', t_t5_enc_us FROM samples WHERE status='ok'\n"
    "  UNION ALL SELECT run_id, sample_key, 't5_dec', t_t5_dec_us FROM samples WHERE status='ok'\n"
    "  UNION ALL SELECT run_id, sample_key, 'total', t_total_us FROM samples WHERE status='ok';\n"
    "CREATE VIEW IF NOT EXISTS v_latency_summary AS\n"
    "  SELECT run_id, stage, COUNT(t_us) AS n, AVG(t_us) AS mean_us, MIN(t_us) AS min_us, MAX(t_us) AS max_us\n"
    "    FROM v_latency WHERE t_us IS NOT NULL GROUP BY run_id, stage;\n"
    "CREATE VIEW IF NOT EXISTS v_runs AS\n"
    "  SELECT r.id, r.created, r.grid_id, r.dataset, r.split, r.method, r.frames, r.candidates, r.sampling,\n"
    "         r.selection, r.decode_mode, r.seed, r.blas_threads, r.git_commit, r.git_dirty, r.status,\n"
    "         r.n_expected, r.wall_s, r.verify_hash,\n"
    "         (SELECT COUNT(*) FROM samples s WHERE s.run_id=r.id) AS n_samples,\n"
    "         (SELECT COUNT(*) FROM samples s WHERE s.run_id=r.id AND s.status='error') AS n_error,\n"
    "         (SELECT 100.0*AVG(correct) FROM samples s WHERE s.run_id=r.id) AS acc,\n"
    "         (SELECT AVG(t_total_us) FROM samples s WHERE s.run_id=r.id AND s.status='ok') AS mean_total_us\n"
    "    FROM runs r;\n";

/* ======================================================================================================== */
/* handle                                                                                                   */
/* ======================================================================================================== */

int vb_store_i_db_fail(struct vb_store * st, const char * what) {
    return vb_fail(VB_ERR_DB, "%s: %s: %s", st && st->path ? st->path : "db", what,
                   st && st->db ? sqlite3_errmsg(st->db) : "no connection");
}

static int exec_sql(struct vb_store * st, const char * sql) {
    char * err = NULL;
    int    rc = sqlite3_exec(st->db, sql, NULL, NULL, &err);
    if (rc != SQLITE_OK) {
        int r = vb_fail(VB_ERR_DB, "%s: %s", st->path, err ? err : sqlite3_errstr(rc));
        sqlite3_free(err);
        return r;
    }
    return VB_OK;
}

int vb_store_i_prepare(struct vb_store * st, const char * sql, sqlite3_stmt ** out) {
    if (sqlite3_prepare_v2(st->db, sql, -1, out, NULL) != SQLITE_OK) return vb_store_i_db_fail(st, "prepare");
    return VB_OK;
}

static void now_iso(char out[48]) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(out, 48, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (int)(ts.tv_nsec / 1000000));
}

/* 1 if table has column col. */
static int has_column(struct vb_store * st, const char * table, const char * col) {
    sqlite3_stmt * s = NULL;
    int            found = 0;
    if (sqlite3_prepare_v2(st->db, "SELECT COUNT(*) FROM pragma_table_info(?1) WHERE name=?2", -1, &s, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, col, -1, SQLITE_STATIC);
        if (sqlite3_step(s) == SQLITE_ROW) found = sqlite3_column_int(s, 0) > 0;
    }
    sqlite3_finalize(s);
    return found;
}

/* Columns added after schema version 1 was released: added to older files (write mode), nothing else changes. */
static int add_new_columns(struct vb_store * st) {
    int rc = VB_OK;
    if (!has_column(st, "runs", "weights_dtype")) rc = exec_sql(st, "ALTER TABLE runs ADD COLUMN weights_dtype TEXT;");
    if (rc == VB_OK && !has_column(st, "sessions", "peak_rss_kb"))
        rc = exec_sql(st, "ALTER TABLE sessions ADD COLUMN peak_rss_kb INTEGER;");
    if (rc == VB_OK && !has_column(st, "runs", "subset")) rc = exec_sql(st, "ALTER TABLE runs ADD COLUMN subset TEXT;");
    if (rc == VB_OK && !has_column(st, "runs", "checkpoint"))
        rc = exec_sql(st, "ALTER TABLE runs ADD COLUMN checkpoint TEXT;");
    if (rc == VB_OK && !has_column(st, "runs", "n_split"))
        rc = exec_sql(st, "ALTER TABLE runs ADD COLUMN n_split INTEGER;");
    if (rc == VB_OK && !has_column(st, "samples", "prompt"))
        rc = exec_sql(st, "ALTER TABLE samples ADD COLUMN prompt TEXT;");
    if (rc == VB_OK && !has_column(st, "sessions", "estimate_s"))
        rc = exec_sql(st, "ALTER TABLE sessions ADD COLUMN estimate_s REAL;");
    if (rc == VB_OK && !has_column(st, "sessions", "note"))
        rc = exec_sql(st, "ALTER TABLE sessions ADD COLUMN note TEXT;");
    if (rc == VB_OK && !has_column(st, "runs", "device")) rc = exec_sql(st, "ALTER TABLE runs ADD COLUMN device TEXT;");
    if (rc == VB_OK && !has_column(st, "sessions", "kernels"))
        rc = exec_sql(st, "ALTER TABLE sessions ADD COLUMN kernels TEXT;");
    return rc;
}

int vb_store_open(struct vb_store ** out, const char * path, int read_only) {
    *out = NULL;
    if (!path || !*path) return vb_fail(VB_ERR_ARG, "store: no database path");
    struct vb_store * st = vb_calloc(1, sizeof *st);
    st->path = vb_strdup(path);
    st->read_only = read_only;
    st->flush_rows = 64;
    st->flush_ms = 2000;
    int flags = read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    /* --db is a plain file path: Debian's SQLite reads "file:..." names as URIs (SQLITE_USE_URI), so that
    ** "file:x.db?mode=memory" would silently store nothing; "./" in front makes such a name a relative path */
    char * plain = NULL;
    if (strncmp(path, "file:", 5) == 0) {
        plain = vb_malloc(strlen(path) + 3);
        memcpy(plain, "./", 2);
        memcpy(plain + 2, path, strlen(path) + 1);
    }
    int rc = sqlite3_open_v2(plain ? plain : path, &st->db, flags, NULL);
    free(plain);
    if (rc != SQLITE_OK) {
        int r = vb_fail(read_only ? VB_ERR_IO : VB_ERR_DB, "%s: cannot open: %s", path,
                        st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
        vb_store_close(st);
        return r;
    }
    sqlite3_extended_result_codes(st->db, 1);
    sqlite3_busy_timeout(st->db, 30000);
    if (!read_only) {
        rc = exec_sql(st, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
        if (rc == VB_OK) rc = exec_sql(st, "BEGIN IMMEDIATE;");
        if (rc == VB_OK) {
            /* an empty file gets the schema; anything else must already be ours (checked below) */
            sqlite3_stmt * s = NULL;
            int            has_tables = 0, has_meta = 0;
            if (sqlite3_prepare_v2(st->db, "SELECT COUNT(*), SUM(name='meta') FROM sqlite_master WHERE type='table'",
                                   -1, &s, NULL) == SQLITE_OK &&
                sqlite3_step(s) == SQLITE_ROW) {
                has_tables = sqlite3_column_int(s, 0) > 0;
                has_meta = sqlite3_column_int(s, 1) > 0;
            } else
                rc = vb_fail(VB_ERR_FORMAT, "%s: not a vlapbench results database (%s)", path, sqlite3_errmsg(st->db));
            sqlite3_finalize(s);
            if (rc == VB_OK && has_tables && !has_meta)
                rc = vb_fail(VB_ERR_FORMAT, "%s: an SQLite database of another program (no meta table)", path);
            if (rc == VB_OK && has_meta &&
                sqlite3_prepare_v2(st->db,
                                   "SELECT value FROM meta WHERE key="
                                   "'schema_version'",
                                   -1, &s, NULL) == SQLITE_OK) {
                if (sqlite3_step(s) != SQLITE_ROW || sqlite3_column_int(s, 0) != VB_STORE_SCHEMA_VERSION)
                    rc = vb_fail(VB_ERR_FORMAT, "%s: results database schema version %s, this build writes %d", path,
                                 sqlite3_column_text(s, 0) ? (const char *)sqlite3_column_text(s, 0) : "(none)",
                                 VB_STORE_SCHEMA_VERSION);
                sqlite3_finalize(s);
            }
        }
        if (rc == VB_OK) rc = exec_sql(st, SCHEMA_SQL);
        if (rc == VB_OK) rc = add_new_columns(st);
        if (rc == VB_OK) {
            char sql[160];
            snprintf(sql, sizeof sql, "INSERT OR IGNORE INTO meta(key, value) VALUES('schema_version', '%d');",
                     VB_STORE_SCHEMA_VERSION);
            rc = exec_sql(st, sql);
        }
        if (rc == VB_OK)
            rc = exec_sql(st, "COMMIT;");
        else
            sqlite3_exec(st->db, "ROLLBACK;", NULL, NULL, NULL);
        if (rc == VB_OK)
            rc = vb_store_i_prepare(st,
                                    "INSERT INTO samples(" SAMPLE_COLS ", prompt) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,"
                                    "?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,?24,?25,?26,?27,?28,?29)",
                                    &st->ins);
        if (rc == VB_OK)
            rc = vb_store_i_prepare(st, "SELECT " SAMPLE_COLS " FROM samples WHERE run_id=?1 AND sample_key=?2",
                                    &st->sel_one);
    } else {
        rc = exec_sql(st, "PRAGMA foreign_keys=ON;");
        if (rc != VB_OK) rc = vb_fail(VB_ERR_FORMAT, "%s: not a vlapbench results database", path);
    }
    if (rc == VB_OK) {
        /* refuse foreign files and other schema versions before anything reads or writes them */
        sqlite3_stmt * s = NULL;
        if (sqlite3_prepare_v2(st->db, "SELECT value FROM meta WHERE key='schema_version'", -1, &s, NULL) != SQLITE_OK)
            rc = vb_fail(VB_ERR_FORMAT, "%s: not a vlapbench results database (%s)", path, sqlite3_errmsg(st->db));
        else if (sqlite3_step(s) != SQLITE_ROW || sqlite3_column_int(s, 0) != VB_STORE_SCHEMA_VERSION)
            rc = vb_fail(VB_ERR_FORMAT, "%s: results database schema version %s, this build reads %d", path,
                         sqlite3_column_text(s, 0) ? (const char *)sqlite3_column_text(s, 0) : "(none)",
                         VB_STORE_SCHEMA_VERSION);
        sqlite3_finalize(s);
    }
    if (rc == VB_OK) st->has_ext = has_column(st, "runs", "weights_dtype") && has_column(st, "sessions", "peak_rss_kb");
    if (rc == VB_OK) st->has_ext2 = has_column(st, "runs", "subset") && has_column(st, "runs", "checkpoint");
    if (rc == VB_OK) st->has_prompt = has_column(st, "samples", "prompt");
    if (rc == VB_OK) st->has_n_split = has_column(st, "runs", "n_split");
    if (rc == VB_OK) st->has_ext3 = has_column(st, "sessions", "estimate_s") && has_column(st, "sessions", "note");
    if (rc == VB_OK) st->has_device = has_column(st, "runs", "device");
    if (rc == VB_OK) st->has_kernels = has_column(st, "sessions", "kernels");
    if (rc != VB_OK) {
        vb_store_close(st);
        return rc;
    }
    *out = st;
    return VB_OK;
}

void vb_store_set_flush(struct vb_store * st, int32_t rows, int32_t ms) {
    st->flush_rows = rows > 0 ? rows : 1;
    st->flush_ms = ms > 0 ? ms : 0;
}

struct sqlite3 * vb_store_db(struct vb_store * st) {
    return st->db;
}

int vb_store_i_txn_begin(struct vb_store * st) {
    if (st->in_txn) return VB_OK;
    int rc = exec_sql(st, "BEGIN IMMEDIATE;");
    if (rc != VB_OK) return rc;
    st->in_txn = 1;
    st->pending = 0;
    st->txn_t0_us = vb_time_us();
    return VB_OK;
}

int vb_store_i_txn_commit(struct vb_store * st) {
    if (!st->in_txn) return VB_OK;
    int rc = exec_sql(st, "COMMIT;");
    if (rc != VB_OK) return rc;
    st->in_txn = 0;
    st->pending = 0;
    return VB_OK;
}

int vb_store_flush(struct vb_store * st) {
    if (st->hold) return VB_OK;
    return vb_store_i_txn_commit(st);
}

/* Commit when the batch is full, when it is older than flush_ms, or when rows arrive slower than
** flush_rows per flush_ms (a slow producer, e.g. seconds per question, must not hold the write lock between rows:
** other processes writing the same file would wait on it). */
static int maybe_flush(struct vb_store * st, int64_t gap_us) {
    if (st->hold || !st->in_txn) return VB_OK;
    int64_t now = vb_time_us();
    if (st->pending >= st->flush_rows || (now - st->txn_t0_us) / 1000 >= st->flush_ms ||
        gap_us * st->flush_rows > (int64_t)st->flush_ms * 1000)
        return vb_store_i_txn_commit(st);
    return VB_OK;
}

int vb_store_close(struct vb_store * st) {
    if (!st) return VB_OK;
    int rc = VB_OK;
    if (st->db && st->in_txn) {
        if (st->hold)
            sqlite3_exec(st->db, "ROLLBACK;", NULL, NULL, NULL);
        else
            rc = vb_store_i_txn_commit(st);
    }
    sqlite3_finalize(st->ins);
    sqlite3_finalize(st->sel_one);
    if (st->db && sqlite3_close(st->db) != SQLITE_OK && rc == VB_OK) rc = vb_store_i_db_fail(st, "close");
    free(st->sess);
    free(st->path);
    free(st);
    return rc;
}

/* ======================================================================================================== */
/* canonical config                                                                                         */
/* ======================================================================================================== */

static int cmp_item(const void * a, const void * b) {
    const cJSON *x = *(cJSON *const *)a, *y = *(cJSON *const *)b;
    return strcmp(x->string, y->string);
}

/* Sort object keys recursively (arrays keep their order). */
static void json_sort(cJSON * j) {
    if (cJSON_IsArray(j)) {
        for (cJSON * c = j->child; c; c = c->next)
            json_sort(c);
        return;
    }
    if (!cJSON_IsObject(j)) return;
    int n = cJSON_GetArraySize(j);
    if (n == 0) return;
    cJSON ** a = vb_malloc(sizeof(cJSON *) * (size_t)n);
    for (int i = 0; i < n; i++)
        a[i] = cJSON_DetachItemViaPointer(j, j->child);
    qsort(a, (size_t)n, sizeof(cJSON *), cmp_item);
    for (int i = 0; i < n; i++) {
        json_sort(a[i]);
        cJSON_AddItemToObject(j, a[i]->string, a[i]);
    }
    free(a);
}

static int parse_obj(const char * txt, const char * what, cJSON ** out) {
    *out = NULL;
    if (!txt || !*txt) {
        *out = cJSON_CreateObject();
        return VB_OK;
    }
    cJSON * j = cJSON_Parse(txt);
    if (!j || !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return vb_fail(VB_ERR_FORMAT, "store: %s is not a JSON object: %.80s", what, txt);
    }
    json_sort(j);
    *out = j;
    return VB_OK;
}

static const char * nz(const char * s) {
    return s ? s : "";
}

int vb_store_config_canonical(const struct vb_run_info * in, char ** json_out, char hash_out[65]) {
    *json_out = NULL;
    cJSON *w, *c;
    int    rc = parse_obj(in->weights_json, "weights_json", &w);
    if (rc != VB_OK) return rc;
    rc = parse_obj(in->config_json, "config_json", &c);
    if (rc != VB_OK) {
        cJSON_Delete(w);
        return rc;
    }
    char seed[24];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)in->seed); /* string: doubles lose 64-bit seeds */
    cJSON * o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "annotations_sha256", nz(in->annotations_sha256));
    cJSON_AddNumberToObject(o, "blas_threads", in->blas_threads);
    cJSON_AddNumberToObject(o, "candidates", in->candidates);
    cJSON_AddItemToObject(o, "config", c);
    cJSON_AddStringToObject(o, "dataset", nz(in->dataset));
    cJSON_AddStringToObject(o, "decode_mode", nz(in->decode_mode));
    cJSON_AddNumberToObject(o, "frames", in->frames);
    cJSON_AddStringToObject(o, "git_commit", nz(in->git_commit));
    cJSON_AddNumberToObject(o, "git_dirty", in->git_dirty ? 1 : 0);
    cJSON_AddStringToObject(o, "method", nz(in->method));
    cJSON_AddStringToObject(o, "sampling", nz(in->sampling));
    cJSON_AddStringToObject(o, "seed", seed);
    cJSON_AddStringToObject(o, "selection", nz(in->selection));
    cJSON_AddStringToObject(o, "split", nz(in->split));
    cJSON_AddItemToObject(o, "weights", w);
    json_sort(o);
    char * txt = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    VB_ASSERT(txt != NULL);
    vb_sha256_buf(txt, strlen(txt), hash_out);
    *json_out = vb_strdup(txt);
    cJSON_free(txt);
    return VB_OK;
}

/* ======================================================================================================== */
/* runs                                                                                                     */
/* ======================================================================================================== */

static void bind_text(sqlite3_stmt * s, int i, const char * v) {
    if (v)
        sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(s, i);
}

int vb_store_i_find_run(struct vb_store * st, const char * hash, int64_t * id) {
    sqlite3_stmt * s;
    int            rc = vb_store_i_prepare(st, "SELECT id FROM runs WHERE config_hash=?1", &s);
    if (rc != VB_OK) return rc;
    bind_text(s, 1, hash);
    int r = sqlite3_step(s);
    *id = r == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_finalize(s);
    if (r != SQLITE_ROW && r != SQLITE_DONE) return vb_store_i_db_fail(st, "find run");
    return VB_OK;
}

/* Insert a run row from its parts (hash and canonical config already computed). */
int vb_store_i_insert_run(struct vb_store * st, const char * hash, const char * canon, const struct vb_run_info * in,
                          const char * weights_canon, const char * created, int64_t * id) {
    sqlite3_stmt * s;
    int            rc = vb_store_i_prepare(
                   st,
                   "INSERT INTO runs(config_hash, config, created, grid_id, dataset, split, method, frames, "
                              "candidates, sampling, selection, decode_mode, seed, git_commit, git_dirty, build_flags, weights, "
                              "annotations_sha256, blas_core, blas_threads, cpu_model, host, sws_flags, n_expected, started, "
                              "status, weights_dtype, subset, checkpoint, n_split, device) "
                              "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,"
                              "?15,?16,?17,?18,?19,?20,?21,?22,?23,?24,?3,'running',?25,?26,?27,?28,?29)",
                   &s);
    if (rc != VB_OK) return rc;
    char seed[24];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)in->seed);
    bind_text(s, 1, hash);
    bind_text(s, 2, canon);
    bind_text(s, 3, created);
    bind_text(s, 4, in->grid_id);
    bind_text(s, 5, nz(in->dataset));
    bind_text(s, 6, nz(in->split));
    bind_text(s, 7, nz(in->method));
    sqlite3_bind_int(s, 8, in->frames);
    sqlite3_bind_int(s, 9, in->candidates);
    bind_text(s, 10, nz(in->sampling));
    bind_text(s, 11, nz(in->selection));
    bind_text(s, 12, nz(in->decode_mode));
    bind_text(s, 13, seed);
    bind_text(s, 14, nz(in->git_commit));
    sqlite3_bind_int(s, 15, in->git_dirty ? 1 : 0);
    bind_text(s, 16, in->build_flags);
    bind_text(s, 17, weights_canon);
    bind_text(s, 18, nz(in->annotations_sha256));
    bind_text(s, 19, in->blas_core);
    sqlite3_bind_int(s, 20, in->blas_threads);
    bind_text(s, 21, in->cpu_model);
    bind_text(s, 22, in->host);
    bind_text(s, 23, in->sws_flags);
    sqlite3_bind_int(s, 24, in->n_expected);
    bind_text(s, 25, in->weights_dtype);
    bind_text(s, 26, in->subset);
    bind_text(s, 27, in->checkpoint_json);
    if (in->n_split > 0) sqlite3_bind_int(s, 28, in->n_split);
    bind_text(s, 29, in->device);
    rc = sqlite3_step(s) == SQLITE_DONE ? VB_OK : vb_store_i_db_fail(st, "insert run");
    sqlite3_finalize(s);
    if (rc == VB_OK) *id = sqlite3_last_insert_rowid(st->db);
    return rc;
}

static int add_session(struct vb_store * st, int64_t run_id, const struct vb_run_info * in, const char * started) {
    sqlite3_stmt * s;
    int            rc = vb_store_i_prepare(
                   st,
                   "INSERT INTO sessions(run_id, grid_id, shard, host, cpu_model, blas_core, build_flags, started, "
                              "invocation, kernels) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
                   &s);
    if (rc != VB_OK) return rc;
    sqlite3_bind_int64(s, 1, run_id);
    bind_text(s, 2, in->grid_id);
    bind_text(s, 3, in->shard);
    bind_text(s, 4, in->host);
    bind_text(s, 5, in->cpu_model);
    bind_text(s, 6, in->blas_core);
    bind_text(s, 7, in->build_flags);
    bind_text(s, 8, started);
    bind_text(s, 9, in->invocation_json);
    bind_text(s, 10, in->kernels);
    rc = sqlite3_step(s) == SQLITE_DONE ? VB_OK : vb_store_i_db_fail(st, "insert session");
    sqlite3_finalize(s);
    if (rc != VB_OK) return rc;
    st->sess = vb_realloc(st->sess, sizeof *st->sess * (size_t)(st->n_sess + 1));
    st->sess[st->n_sess++] = (struct sess){run_id, sqlite3_last_insert_rowid(st->db), 0};
    return VB_OK;
}

static struct sess * find_sess(struct vb_store * st, int64_t run_id) {
    for (int32_t i = st->n_sess - 1; i >= 0; i--)
        if (st->sess[i].run_id == run_id) return &st->sess[i];
    return NULL;
}

int vb_store_i_exec_run_update(struct vb_store * st, const char * sql, int64_t run_id, int32_t iv) {
    sqlite3_stmt * s;
    int            rc = vb_store_i_prepare(st, sql, &s);
    if (rc != VB_OK) return rc;
    sqlite3_bind_int64(s, 1, run_id);
    if (sqlite3_bind_parameter_count(s) >= 2) sqlite3_bind_int(s, 2, iv);
    rc = sqlite3_step(s) == SQLITE_DONE ? VB_OK : vb_store_i_db_fail(st, "update run");
    sqlite3_finalize(s);
    return rc;
}

/* A resumed run keeps its checkpoint names unless this session records them. */
static int update_labels(struct vb_store * st, int64_t id, const struct vb_run_info * in) {
    sqlite3_stmt * s;
    int            rc = vb_store_i_prepare(st, "UPDATE runs SET checkpoint=COALESCE(?2, checkpoint) WHERE id=?1", &s);
    if (rc != VB_OK) return rc;
    sqlite3_bind_int64(s, 1, id);
    bind_text(s, 2, in->checkpoint_json);
    rc = sqlite3_step(s) == SQLITE_DONE ? VB_OK : vb_store_i_db_fail(st, "update run labels");
    sqlite3_finalize(s);
    return rc;
}

int vb_store_i_union_selection(struct vb_store * st, int64_t id, int32_t n_expected, const char * subset,
                               int32_t n_split) {
    sqlite3_stmt * s;
    /* every right-hand side reads the row's old values */
    int rc = vb_store_i_prepare(st,
                                "UPDATE runs SET"
                                " subset=CASE WHEN ?2>0 AND ?3 IS NULL THEN NULL"  /* the whole split came in */
                                "  WHEN n_expected>0 AND subset IS NULL THEN NULL" /* the run is the whole split */
                                "  WHEN ?2>n_expected THEN ?3 ELSE subset END,"    /* the larger subset */
                                " n_expected=MAX(n_expected, ?2),"
                                " n_split=CASE WHEN ?4>0 THEN ?4 ELSE n_split END WHERE id=?1",
                                &s);
    if (rc != VB_OK) return rc;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int(s, 2, n_expected > 0 ? n_expected : 0);
    bind_text(s, 3, subset);
    sqlite3_bind_int(s, 4, n_split > 0 ? n_split : 0);
    rc = sqlite3_step(s) == SQLITE_DONE ? VB_OK : vb_store_i_db_fail(st, "update run selection");
    sqlite3_finalize(s);
    return rc;
}

/* After rows were added: a run holding every sample of the annotation file is the whole split (label NULL,
** n_expected = n_split); a subset holding more samples than its selection (several selections united) is
** relabelled "several selections: N of M samples" and expects N. */
static int selection_from_rows(struct vb_store * st, int64_t run_id) {
    return vb_store_i_exec_run_update(
        st,
        "UPDATE runs SET"
        " subset=CASE WHEN n_split>0 AND (SELECT COUNT(*) FROM samples WHERE run_id=?1)>=n_split THEN NULL"
        "  WHEN subset IS NOT NULL AND (SELECT COUNT(*) FROM samples WHERE run_id=?1)>n_expected THEN"
        "   CASE WHEN n_split>0 THEN printf('several selections: %d of %d samples',"
        "     (SELECT COUNT(*) FROM samples WHERE run_id=?1), n_split)"
        "   ELSE printf('several selections: %d samples', (SELECT COUNT(*) FROM samples WHERE run_id=?1)) END"
        "  ELSE subset END,"
        " n_expected=CASE WHEN n_split>0 AND (SELECT COUNT(*) FROM samples WHERE run_id=?1)>=n_split THEN n_split"
        "  WHEN n_expected>0 THEN MAX(n_expected, (SELECT COUNT(*) FROM samples WHERE run_id=?1))"
        "  ELSE n_expected END WHERE id=?1",
        run_id, 0);
}

int vb_store_begin_run(struct vb_store * st, const struct vb_run_info * info, int64_t * run_id, int * resumed) {
    if (st->read_only) return vb_fail(VB_ERR_ARG, "%s: opened read-only", st->path);
    char *canon = NULL, hash[65];
    int   rc = vb_store_config_canonical(info, &canon, hash);
    if (rc != VB_OK) return rc;
    cJSON * w = NULL;
    parse_obj(info->weights_json, "weights_json", &w); /* already validated above */
    char * wtxt = cJSON_PrintUnformatted(w);
    cJSON_Delete(w);
    char now[48];
    now_iso(now);
    int64_t id = 0;
    rc = vb_store_i_txn_begin(st);
    if (rc == VB_OK) rc = vb_store_i_find_run(st, hash, &id);
    if (rc == VB_OK && id == 0) {
        rc = vb_store_i_insert_run(st, hash, canon, info, wtxt, now, &id);
        if (resumed) *resumed = 0;
    } else if (rc == VB_OK) {
        if (resumed) *resumed = 1;
        rc = vb_store_i_exec_run_update(st, "UPDATE runs SET status='running' WHERE id=?1", id, 0);
        if (rc == VB_OK) rc = vb_store_i_union_selection(st, id, info->n_expected, info->subset, info->n_split);
        if (rc == VB_OK) rc = update_labels(st, id, info);
    }
    if (rc == VB_OK) rc = add_session(st, id, info, now);
    if (rc == VB_OK) rc = vb_store_flush(st);
    cJSON_free(wtxt);
    free(canon);
    if (rc != VB_OK) return vb_fail_prefix(rc, "begin_run");
    *run_id = id;
    return VB_OK;
}

/* status from counts: complete when all expected samples are stored and not all of them are errors */
int vb_store_i_update_run_summary(struct vb_store * st, int64_t run_id, int failed) {
    char vh[65];
    int  rc = vb_store_verify_hash(st, run_id, vh);
    if (rc == VB_OK) rc = selection_from_rows(st, run_id);
    if (rc != VB_OK) return rc;
    sqlite3_stmt * s;
    rc = vb_store_i_prepare(st,
                            "UPDATE runs SET verify_hash=?2,"
                            " wall_s=(SELECT SUM(wall_s) FROM sessions WHERE run_id=?1),"
                            " started=(SELECT MIN(started) FROM sessions WHERE run_id=?1),"
                            " ended=(SELECT MAX(ended) FROM sessions WHERE run_id=?1),"
                            " status=CASE WHEN ?3 THEN 'failed'"
                            "  WHEN n_expected>0 AND (SELECT COUNT(*) FROM samples WHERE run_id=?1)>=n_expected"
                            "   AND EXISTS(SELECT 1 FROM samples WHERE run_id=?1 AND status='ok') THEN 'complete'"
                            "  ELSE 'incomplete' END WHERE id=?1",
                            &s);
    if (rc != VB_OK) return rc;
    sqlite3_bind_int64(s, 1, run_id);
    bind_text(s, 2, vh);
    sqlite3_bind_int(s, 3, failed ? 1 : 0);
    rc = sqlite3_step(s) == SQLITE_DONE ? VB_OK : vb_store_i_db_fail(st, "update run summary");
    sqlite3_finalize(s);
    if (rc == VB_OK && sqlite3_changes(st->db) == 0)
        rc = vb_fail(VB_ERR_NOTFOUND, "%s: no run with id %lld", st->path, (long long)run_id);
    return rc;
}

int vb_store_set_peak_rss(struct vb_store * st, int64_t run_id, int64_t peak_rss_kb) {
    if (st->read_only) return vb_fail(VB_ERR_ARG, "%s: opened read-only", st->path);
    struct sess * se = find_sess(st, run_id);
    if (!se) return vb_fail(VB_ERR_NOTFOUND, "%s: run %lld was not begun by this handle", st->path, (long long)run_id);
    int            rc = vb_store_i_txn_begin(st);
    sqlite3_stmt * s = NULL;
    if (rc == VB_OK) rc = vb_store_i_prepare(st, "UPDATE sessions SET peak_rss_kb=?2 WHERE id=?1", &s);
    if (rc == VB_OK) {
        sqlite3_bind_int64(s, 1, se->session_id);
        if (peak_rss_kb >= 0)
            sqlite3_bind_int64(s, 2, peak_rss_kb);
        else
            sqlite3_bind_null(s, 2);
        rc = sqlite3_step(s) == SQLITE_DONE ? VB_OK : vb_store_i_db_fail(st, "update session peak RSS");
    }
    sqlite3_finalize(s);
    return rc;
}

int vb_store_set_estimate(struct vb_store * st, int64_t run_id, double estimate_s, const char * note) {
    if (st->read_only) return vb_fail(VB_ERR_ARG, "%s: opened read-only", st->path);
    struct sess * se = find_sess(st, run_id);
    if (!se) return vb_fail(VB_ERR_NOTFOUND, "%s: run %lld was not begun by this handle", st->path, (long long)run_id);
    if (!isfinite(estimate_s) || estimate_s < 0)
        return vb_fail(VB_ERR_ARG, "%s: estimate %g s of run %lld is not a finite duration", st->path, estimate_s,
                       (long long)run_id);
    int            rc = vb_store_i_txn_begin(st);
    sqlite3_stmt * s = NULL;
    if (rc == VB_OK) rc = vb_store_i_prepare(st, "UPDATE sessions SET estimate_s=?2, note=?3 WHERE id=?1", &s);
    if (rc == VB_OK) {
        sqlite3_bind_int64(s, 1, se->session_id);
        sqlite3_bind_double(s, 2, estimate_s);
        bind_text(s, 3, note);
        rc = sqlite3_step(s) == SQLITE_DONE ? VB_OK : vb_store_i_db_fail(st, "update session estimate");
    }
    sqlite3_finalize(s);
    return rc;
}

int vb_store_find_run(struct vb_store * st, const struct vb_run_info * info, int64_t * run_id) {
    char *canon = NULL, hash[65];
    *run_id = 0;
    int rc = vb_store_config_canonical(info, &canon, hash);
    free(canon);
    if (rc == VB_OK) rc = vb_store_i_find_run(st, hash, run_id);
    if (rc == VB_OK && *run_id == 0) rc = VB_ERR_NOTFOUND;
    return rc;
}

int vb_store_finish_run(struct vb_store * st, int64_t run_id, double wall_s, int failed) {
    if (st->read_only) return vb_fail(VB_ERR_ARG, "%s: opened read-only", st->path);
    struct sess * se = find_sess(st, run_id);
    if (!se) return vb_fail(VB_ERR_NOTFOUND, "%s: run %lld was not begun by this handle", st->path, (long long)run_id);
    char now[48];
    now_iso(now);
    int            rc = vb_store_i_txn_begin(st);
    sqlite3_stmt * s = NULL;
    if (rc == VB_OK) rc = vb_store_i_prepare(st, "UPDATE sessions SET ended=?2, wall_s=?3, n_added=?4 WHERE id=?1", &s);
    if (rc == VB_OK) {
        sqlite3_bind_int64(s, 1, se->session_id);
        bind_text(s, 2, now);
        if (isfinite(wall_s) && wall_s >= 0)
            sqlite3_bind_double(s, 3, wall_s);
        else
            sqlite3_bind_null(s, 3);
        sqlite3_bind_int64(s, 4, se->n_added);
        rc = sqlite3_step(s) == SQLITE_DONE ? VB_OK : vb_store_i_db_fail(st, "update session");
    }
    sqlite3_finalize(s);
    if (rc == VB_OK) rc = vb_store_i_update_run_summary(st, run_id, failed);
    if (rc == VB_OK) rc = vb_store_flush(st);
    return rc == VB_OK ? VB_OK : vb_fail_prefix(rc, "finish_run");
}

/* ======================================================================================================== */
/* samples                                                                                                  */
/* ======================================================================================================== */

void vb_store_sample_init(struct vb_store_sample * s) {
    memset(s, 0, sizeof *s);
    s->answer = s->prediction = -1;
    s->frame_lo = s->frame_hi = s->vlen = -1;
    s->fps = 0;
    for (int i = 0; i < VB_STAGE_COUNT; i++)
        s->t_us[i] = -1;
    s->step0_token = -1;
}

/* JSON arrays as text; NULL when absent */
static char * ints_json(const int32_t * v, int32_t n) {
    if (!v || n <= 0) return NULL;
    size_t cap = 16 + (size_t)n * 12, len = 0;
    char * b = vb_malloc(cap);
    b[len++] = '[';
    for (int32_t i = 0; i < n; i++)
        len += (size_t)snprintf(b + len, cap - len, "%s%d", i ? "," : "", (int)v[i]);
    b[len++] = ']';
    b[len] = 0;
    return b;
}

static char * doubles_json(const double * v, int32_t n) {
    if (!v || n <= 0) return NULL;
    size_t cap = 16 + (size_t)n * 28, len = 0;
    char * b = vb_malloc(cap);
    b[len++] = '[';
    for (int32_t i = 0; i < n; i++) {
        /* %.17g round-trips a double; non-finite values are not JSON, store null */
        if (isfinite(v[i]))
            len += (size_t)snprintf(b + len, cap - len, "%s%.17g", i ? "," : "", v[i]);
        else
            len += (size_t)snprintf(b + len, cap - len, "%snull", i ? "," : "");
    }
    b[len++] = ']';
    b[len] = 0;
    return b;
}

static void bind_i64_or_null(sqlite3_stmt * s, int i, int64_t v) {
    if (v >= 0)
        sqlite3_bind_int64(s, i, v);
    else
        sqlite3_bind_null(s, i);
}

static int same_text_col(sqlite3_stmt * s, int col, const char * v) {
    const char * t = (const char *)sqlite3_column_text(s, col);
    if (!t || !v) return !t && !v;
    return strcmp(t, v) == 0;
}

static int same_int_col(sqlite3_stmt * s, int col, int64_t v) {
    if (sqlite3_column_type(s, col) == SQLITE_NULL) return v < 0;
    return sqlite3_column_int64(s, col) == v;
}

/* The result-defining columns must match; timings, shard, extra and prompt may differ. */
static int check_duplicate(struct vb_store * st, int64_t run_id, const struct vb_store_sample * x, const char * scores,
                           const char * cands, const char * picked) {
    sqlite3_stmt * s = st->sel_one;
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, run_id);
    bind_text(s, 2, x->key);
    int r = sqlite3_step(s);
    if (r != SQLITE_ROW) {
        sqlite3_reset(s);
        return vb_store_i_db_fail(st, "duplicate check");
    }
    const char * diff = NULL;
    if (!same_text_col(s, 2, x->video_id))
        diff = "video_id";
    else if (!same_text_col(s, 3, x->category))
        diff = "category";
    else if (!same_text_col(s, 4, x->group ? x->group : x->category))
        diff = "group";
    else if (!same_int_col(s, 5, x->answer))
        diff = "answer";
    else if (!same_int_col(s, 6, x->prediction))
        diff = "prediction";
    else if (!same_text_col(s, 8, scores))
        diff = "option_scores";
    else if (!same_text_col(s, 9, cands))
        diff = "candidates";
    else if (!same_text_col(s, 10, picked))
        diff = "picked";
    else if (!same_int_col(s, 23, x->step0_token))
        diff = "step0_token";
    else if (!same_text_col(s, 24, x->error ? "error" : "ok"))
        diff = "status";
    else if (!same_text_col(s, 25, x->error))
        diff = "error";
    sqlite3_reset(s);
    if (diff)
        return vb_fail(VB_ERR_MISMATCH, "%s: run %lld sample '%s' already stored with a different %s", st->path,
                       (long long)run_id, x->key, diff);
    return VB_OK;
}

int vb_store_put_sample(struct vb_store * st, int64_t run_id, const struct vb_store_sample * x) {
    if (st->read_only) return vb_fail(VB_ERR_ARG, "%s: opened read-only", st->path);
    if (!x || !x->key || !*x->key || !x->video_id || !x->category)
        return vb_fail(VB_ERR_ARG, "%s: sample without key, video_id or category", st->path);
    if (x->n_options < 0 || x->n_candidates < 0 || x->n_picked < 0)
        return vb_fail(VB_ERR_ARG, "%s: sample '%s': negative array length", st->path, x->key);
    int64_t now = vb_time_us(), gap_us = st->last_put_us ? now - st->last_put_us : 0;
    st->last_put_us = now;
    int rc = vb_store_i_txn_begin(st);
    if (rc != VB_OK) return rc;
    char *         scores = doubles_json(x->option_scores, x->n_options);
    char *         cands = ints_json(x->candidates, x->n_candidates);
    char *         picked = ints_json(x->picked, x->n_picked);
    sqlite3_stmt * s = st->ins;
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    sqlite3_bind_int64(s, 1, run_id);
    bind_text(s, 2, x->key);
    bind_text(s, 3, x->video_id);
    bind_text(s, 4, x->category);
    bind_text(s, 5, x->group ? x->group : x->category);
    bind_i64_or_null(s, 6, x->answer);
    bind_i64_or_null(s, 7, x->prediction);
    if (x->answer >= 0)
        sqlite3_bind_int(s, 8, x->prediction == x->answer && !x->error);
    else
        sqlite3_bind_null(s, 8);
    bind_text(s, 9, scores);
    bind_text(s, 10, cands);
    bind_text(s, 11, picked);
    bind_i64_or_null(s, 12, x->frame_lo);
    bind_i64_or_null(s, 13, x->frame_hi);
    if (x->fps > 0 && isfinite(x->fps)) sqlite3_bind_double(s, 14, x->fps);
    bind_i64_or_null(s, 15, x->vlen);
    for (int i = 0; i < VB_STAGE_COUNT; i++)
        bind_i64_or_null(s, 16 + i, x->t_us[i]);
    bind_i64_or_null(s, 24, x->step0_token);
    bind_text(s, 25, x->error ? "error" : "ok");
    bind_text(s, 26, x->error);
    sqlite3_bind_int(s, 27, x->shard);
    bind_text(s, 28, x->extra_json);
    bind_text(s, 29, x->prompt);
    int r = sqlite3_step(s);
    int ext = sqlite3_extended_errcode(st->db);
    sqlite3_reset(s);
    if (r == SQLITE_DONE) {
        st->pending++;
        struct sess * se = find_sess(st, run_id);
        if (se) se->n_added++;
        rc = maybe_flush(st, gap_us);
    } else if (ext == SQLITE_CONSTRAINT_PRIMARYKEY) {
        rc = check_duplicate(st, run_id, x, scores, cands, picked);
    } else if (ext == SQLITE_CONSTRAINT_FOREIGNKEY) {
        rc = vb_fail(VB_ERR_NOTFOUND, "%s: sample '%s': no run with id %lld", st->path, x->key, (long long)run_id);
    } else {
        rc = vb_fail(VB_ERR_DB, "%s: insert sample '%s': %s", st->path, x->key, sqlite3_errmsg(st->db));
    }
    free(scores);
    free(cands);
    free(picked);
    return rc;
}

/* ---- key sets ---- */

static int cmp_str(const void * a, const void * b) {
    return strcmp(*(char * const *)a, *(char * const *)b);
}

int vb_store_delete_error_rows(struct vb_store * st, int64_t run_id, const char * const * keys, int32_t n,
                               int32_t * n_deleted) {
    if (n_deleted) *n_deleted = 0;
    if (st->read_only) return vb_fail(VB_ERR_ARG, "%s: opened read-only", st->path);
    sqlite3_stmt * s;
    int            rc = vb_store_i_txn_begin(st);
    if (rc == VB_OK)
        rc = vb_store_i_prepare(st, "DELETE FROM samples WHERE run_id=?1 AND sample_key=?2 AND status='error'", &s);
    if (rc != VB_OK) return rc;
    for (int32_t i = 0; i < n && rc == VB_OK; i++) {
        sqlite3_reset(s);
        sqlite3_bind_int64(s, 1, run_id);
        bind_text(s, 2, keys[i]);
        if (sqlite3_step(s) != SQLITE_DONE)
            rc = vb_store_i_db_fail(st, "delete error rows");
        else if (n_deleted)
            *n_deleted += sqlite3_changes(st->db);
    }
    sqlite3_finalize(s);
    if (rc == VB_OK) rc = vb_store_i_txn_commit(st);
    return rc;
}

/* Keys of run_id's samples (any status, or only 'ok' ones), sorted. */
static int stored_keys(struct vb_store * st, int64_t run_id, int ok_only, struct vb_keyset * out) {
    out->n = 0;
    out->keys = NULL;
    sqlite3_stmt * s;
    int            rc = vb_store_i_prepare(st,
                                ok_only ? "SELECT sample_key FROM samples WHERE run_id=?1 AND status='ok'"
                                                   : "SELECT sample_key FROM samples WHERE run_id=?1",
                                           &s);
    if (rc != VB_OK) return rc;
    sqlite3_bind_int64(s, 1, run_id);
    int32_t cap = 0;
    int     r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        if (out->n == cap) {
            cap = cap ? cap * 2 : 256;
            out->keys = vb_realloc(out->keys, sizeof(char *) * (size_t)cap);
        }
        out->keys[out->n++] = vb_strdup((const char *)sqlite3_column_text(s, 0));
    }
    sqlite3_finalize(s);
    if (r != SQLITE_DONE) {
        vb_keyset_free(out);
        return vb_store_i_db_fail(st, "done keys");
    }
    if (out->n > 1) qsort(out->keys, (size_t)out->n, sizeof(char *), cmp_str);
    return VB_OK;
}

int vb_store_done_keys(struct vb_store * st, int64_t run_id, struct vb_keyset * out) {
    return stored_keys(st, run_id, 0, out);
}

int vb_store_ok_keys(struct vb_store * st, int64_t run_id, struct vb_keyset * out) {
    return stored_keys(st, run_id, 1, out);
}

int vb_keyset_has(const struct vb_keyset * ks, const char * key) {
    if (!ks || ks->n == 0 || !key) return 0;
    return bsearch(&key, ks->keys, (size_t)ks->n, sizeof(char *), cmp_str) != NULL;
}

void vb_keyset_free(struct vb_keyset * ks) {
    if (!ks) return;
    for (int32_t i = 0; i < ks->n; i++)
        free(ks->keys[i]);
    free(ks->keys);
    ks->keys = NULL;
    ks->n = 0;
}
