/* test_store.c — results store: round trip, resume, duplicates, merge, crash safety, WAL; also writes the
** synthetic databases for tests/test_report.sh (`test_store --write-fixtures DIR`). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs <setjmp.h>, <stdarg.h>, <stddef.h> and <stdint.h> first */
#include <cmocka.h>

#include "tests/fixtures_store.h"

#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char g_dir[256];

static void path_in(char * out, size_t n, const char * name) {
    snprintf(out, n, "%s/%s", g_dir, name);
}

static void rm_db(const char * p) {
    char b[600];
    unlink(p);
    snprintf(b, sizeof b, "%s-wal", p);
    unlink(b);
    snprintf(b, sizeof b, "%s-shm", p);
    unlink(b);
}

static const char * pragma_text(struct vb_store * st, const char * sql, char * buf, size_t n) {
    sqlite3_stmt * s;
    buf[0] = 0;
    if (sqlite3_prepare_v2(vb_store_db(st), sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        snprintf(buf, n, "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return buf;
}

/* write NExT-QA fixture samples [from, to) with a given shard index */
static int put_range(struct vb_store * st, int64_t id, int32_t from, int32_t to, int32_t step, int32_t shard) {
    int rc = VB_OK;
    for (int32_t i = from; i < to && rc == VB_OK; i += step) {
        char                   key[48], vid[32], kk[48];
        double                 sc[5];
        int32_t                cand[64], pick[64];
        struct vb_store_sample s;
        snprintf(kk, sizeof kk, "%d_%d", 1000 + i / 5, i % 5);
        fx_sample(&FX_NEXTQA, i, fx_correct("vlap", 4, kk, 66), 1.0, "vlap", 4, 32, key, vid, sc, cand, pick, &s);
        s.shard = shard;
        rc = vb_store_put_sample(st, id, &s);
    }
    return rc;
}

static void test_roundtrip(void ** state) {
    (void)state;
    char p[512];
    path_in(p, sizeof p, "rt.db");
    rm_db(p);
    struct vb_store * st;
    assert_int_equal(vb_store_open(&st, p, 0), VB_OK);
    char buf[64];
    assert_string_equal(pragma_text(st, "PRAGMA journal_mode", buf, sizeof buf), "wal");
    assert_string_equal(pragma_text(st, "PRAGMA foreign_keys", buf, sizeof buf), "1");
    struct vb_run_info in;
    fx_info(&in, "nextqa", "vlap", 4, 32, 42);
    in.n_expected = 2;
    int64_t id;
    int     resumed = -1;
    assert_int_equal(vb_store_begin_run(st, &in, &id, &resumed), VB_OK);
    assert_int_equal(resumed, 0);
    struct vb_store_sample s;
    vb_store_sample_init(&s);
    double  sc[3] = {0.5, -1.25, 3.0};
    int32_t cand[4] = {10, 20, 30, 40}, pick[2] = {20, 40};
    s.key = "v1_0";
    s.video_id = "v1";
    s.category = "TN";
    s.group = "T";
    s.answer = 2;
    s.prediction = 2;
    s.n_options = 3;
    s.option_scores = sc;
    s.n_candidates = 4;
    s.candidates = cand;
    s.n_picked = 2;
    s.picked = pick;
    s.frame_lo = 5;
    s.frame_hi = 45;
    s.fps = 29.97;
    s.vlen = 50;
    for (int i = 0; i < VB_STAGE_COUNT; i++)
        s.t_us[i] = 100 * (i + 1);
    s.step0_token = 10231;
    s.extra_json = "{\"perm\":\"3012\"}";
    assert_int_equal(vb_store_put_sample(st, id, &s), VB_OK);
    struct vb_store_sample e;
    vb_store_sample_init(&e);
    e.key = "v2_0";
    e.video_id = "v2";
    e.category = "CW";
    e.answer = 1;
    e.error = "v2.mp4: moov atom not found";
    e.shard = 3;
    assert_int_equal(vb_store_put_sample(st, id, &e), VB_OK);
    /* a sample for a run that does not exist violates the foreign key */
    assert_int_equal(vb_store_put_sample(st, id + 100, &s), VB_ERR_NOTFOUND);
    assert_int_equal(vb_store_finish_run(st, id, 12.5, 0), VB_OK);
    assert_int_equal(vb_store_close(st), VB_OK);

    assert_int_equal(vb_store_open(&st, p, 1), VB_OK);
    struct vb_store_run r;
    assert_int_equal(vb_store_get_run(st, id, &r), VB_OK);
    assert_string_equal(r.method, "vlap");
    assert_int_equal(r.frames, 4);
    assert_int_equal(r.candidates, 32);
    assert_string_equal(r.status, "complete");
    assert_int_equal(r.n_samples, 2);
    assert_int_equal(r.n_error, 1);
    assert_int_equal(r.n_scored, 2);
    assert_int_equal(r.n_correct, 1);
    assert_true(fabs(r.wall_s - 12.5) < 1e-9);
    assert_int_equal(strlen(r.verify_hash), 64);
    assert_string_equal(r.weights, "{\"bundle\":\"0123abcd\"}");
    assert_non_null(strstr(r.config, "\"config\":{\"interp\":\"bicubic\"}"));
    vb_store_run_clear(&r);
    assert_int_equal(vb_store_get_run(st, id + 7, &r), VB_ERR_NOTFOUND);
    struct vb_store_rows rows;
    assert_int_equal(vb_store_load_samples(st, id, &rows), VB_OK);
    assert_int_equal(rows.n, 2);
    const struct vb_store_row * a = &rows.r[0];
    assert_string_equal(a->key, "v1_0");
    assert_string_equal(a->group, "T");
    assert_int_equal(a->correct, 1);
    assert_int_equal(a->n_options, 3);
    assert_true(a->option_scores[1] == -1.25 && a->option_scores[2] == 3.0);
    assert_int_equal(a->n_candidates, 4);
    assert_int_equal(a->candidates[3], 40);
    assert_int_equal(a->n_picked, 2);
    assert_int_equal(a->picked[0], 20);
    assert_int_equal(a->frame_lo, 5);
    assert_int_equal(a->frame_hi, 45);
    assert_true(fabs(a->fps - 29.97) < 1e-12);
    assert_int_equal(a->t_us[VB_STAGE_TOTAL], 800);
    assert_int_equal(a->step0_token, 10231);
    assert_string_equal(a->status, "ok");
    assert_string_equal(a->extra, "{\"perm\":\"3012\"}");
    const struct vb_store_row * b = &rows.r[1];
    assert_string_equal(b->status, "error");
    assert_string_equal(b->error, "v2.mp4: moov atom not found");
    assert_string_equal(b->group, "CW"); /* group defaults to the category */
    assert_int_equal(b->correct, 0);     /* errors count as wrong */
    assert_int_equal(b->prediction, -1);
    assert_int_equal(b->t_us[VB_STAGE_VIT], -1);
    assert_int_equal(b->shard, 3);
    vb_store_rows_free(&rows);
    /* the views exist and agree */
    assert_string_equal(pragma_text(st, "SELECT acc FROM v_accuracy WHERE level='overall'", buf, sizeof buf), "50.0");
    assert_string_equal(pragma_text(st, "SELECT COUNT(*) FROM v_latency", buf, sizeof buf), "8");
    assert_string_equal(pragma_text(st, "SELECT n_samples FROM v_runs", buf, sizeof buf), "2");
    /* read-only handles refuse writes */
    assert_int_equal(vb_store_begin_run(st, &in, &id, NULL), VB_ERR_ARG);
    vb_store_close(st);
    /* a missing file opened read-only is an I/O error, not a new database */
    char q[512];
    path_in(q, sizeof q, "does-not-exist.db");
    assert_int_equal(vb_store_open(&st, q, 1), VB_ERR_IO);
    assert_null(st);
    /* a file that is not a database, and a database of another program, are refused without crashing */
    path_in(q, sizeof q, "garbage.db");
    FILE * f = fopen(q, "wb");
    assert_non_null(f);
    for (int i = 0; i < 300; i++)
        fputs("this is not an SQLite file ", f);
    fclose(f);
    assert_int_not_equal(vb_store_open(&st, q, 1), VB_OK);
    assert_null(st);
    assert_int_not_equal(vb_store_open(&st, q, 0), VB_OK);
    assert_null(st);
    rm_db(q);
    sqlite3 * other;
    assert_int_equal(sqlite3_open(q, &other), SQLITE_OK);
    assert_int_equal(sqlite3_exec(other,
                                  "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT); INSERT INTO meta "
                                  "VALUES('schema_version','99');",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(other);
    assert_int_equal(vb_store_open(&st, q, 1), VB_ERR_FORMAT);
    assert_non_null(strstr(vb_errmsg(), "schema version 99"));
    assert_int_equal(vb_store_open(&st, q, 0), VB_ERR_FORMAT);
    assert_int_equal(sqlite3_open(q, &other), SQLITE_OK); /* untouched: no tables of ours were created */
    sqlite3_stmt * qs;
    assert_int_equal(sqlite3_prepare_v2(other, "SELECT COUNT(*) FROM sqlite_master", -1, &qs, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(qs), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(qs, 0), 2); /* meta + its primary-key index */
    sqlite3_finalize(qs);
    assert_int_equal(sqlite3_exec(other, "DROP TABLE meta; CREATE TABLE t(x);", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    assert_int_equal(vb_store_open(&st, q, 0), VB_ERR_FORMAT); /* another program's database */
    assert_non_null(strstr(vb_errmsg(), "another program"));
    rm_db(q);
}

static void test_canonical(void ** state) {
    (void)state;
    struct vb_run_info a, b;
    fx_info(&a, "nextqa", "vlap", 4, 32, 42);
    fx_info(&b, "nextqa", "vlap", 4, 32, 42);
    a.config_json = "{\"b\":1,\"a\":{\"y\":[3,1],\"x\":\"s\"}}";
    b.config_json = " { \"a\" : {\"x\":\"s\",\"y\":[3,1]}, \"b\":1 } ";
    b.host = "another-host"; /* provenance is not identity */
    char *ca, *cb, ha[65], hb[65];
    assert_int_equal(vb_store_config_canonical(&a, &ca, ha), VB_OK);
    assert_int_equal(vb_store_config_canonical(&b, &cb, hb), VB_OK);
    assert_string_equal(ca, cb);
    assert_string_equal(ha, hb);
    assert_non_null(strstr(ca, "\"config\":{\"a\":{\"x\":\"s\",\"y\":[3,1]},\"b\":1}"));
    /* 64-bit seeds survive (stored as a string) */
    b.seed = 18446744073709551615ULL;
    free(cb);
    assert_int_equal(vb_store_config_canonical(&b, &cb, hb), VB_OK);
    assert_non_null(strstr(cb, "\"seed\":\"18446744073709551615\""));
    assert_string_not_equal(ha, hb);
    free(ca);
    free(cb);
    a.config_json = "[1,2]";
    assert_int_equal(vb_store_config_canonical(&a, &ca, ha), VB_ERR_FORMAT);
    a.config_json = "{\"a\":";
    assert_int_equal(vb_store_config_canonical(&a, &ca, ha), VB_ERR_FORMAT);
}

static void test_resume_and_duplicates(void ** state) {
    (void)state;
    char p[512];
    path_in(p, sizeof p, "resume.db");
    rm_db(p);
    struct vb_store * st;
    assert_int_equal(vb_store_open(&st, p, 0), VB_OK);
    struct vb_run_info in;
    fx_info(&in, "nextqa", "vlap", 4, 32, 42);
    in.n_expected = 300;
    int64_t id1, id2, id3;
    int     resumed;
    assert_int_equal(vb_store_begin_run(st, &in, &id1, &resumed), VB_OK);
    assert_int_equal(put_range(st, id1, 0, 120, 1, 0), VB_OK);
    assert_int_equal(vb_store_close(st), VB_OK); /* interrupted: never finished */

    assert_int_equal(vb_store_open(&st, p, 0), VB_OK);
    in.host = "other-host"; /* provenance may change between sessions */
    assert_int_equal(vb_store_begin_run(st, &in, &id2, &resumed), VB_OK);
    assert_int_equal(resumed, 1);
    assert_int_equal(id1, id2);
    struct vb_keyset ks;
    assert_int_equal(vb_store_done_keys(st, id2, &ks), VB_OK);
    assert_int_equal(ks.n, 120);
    assert_true(vb_keyset_has(&ks, "1000_0"));
    assert_true(vb_keyset_has(&ks, "1023_4"));
    assert_false(vb_keyset_has(&ks, "1024_0"));
    assert_false(vb_keyset_has(&ks, "nope"));
    vb_keyset_free(&ks);
    /* identical re-insert is accepted (timings may differ) */
    {
        char                   key[48], vid[32];
        double                 sc[5];
        int32_t                cand[64], pick[64];
        struct vb_store_sample s;
        fx_sample(&FX_NEXTQA, 7, fx_correct("vlap", 4, "1001_2", 66), 1.3, "vlap", 4, 32, key, vid, sc, cand, pick, &s);
        assert_int_equal(vb_store_put_sample(st, id2, &s), VB_OK);
        s.prediction = (s.prediction + 1) % 5; /* a different answer for a stored key is refused */
        assert_int_equal(vb_store_put_sample(st, id2, &s), VB_ERR_MISMATCH);
        assert_non_null(strstr(vb_errmsg(), "prediction"));
        assert_non_null(strstr(vb_errmsg(), "1001_2"));
    }
    assert_int_equal(put_range(st, id2, 120, 300, 1, 0), VB_OK);
    assert_int_equal(vb_store_finish_run(st, id2, 10.0, 0), VB_OK);
    /* another seed is another run */
    in.seed = 43;
    assert_int_equal(vb_store_begin_run(st, &in, &id3, &resumed), VB_OK);
    assert_int_equal(resumed, 0);
    assert_true(id3 != id1);
    assert_int_equal(vb_store_done_keys(st, id3, &ks), VB_OK);
    assert_int_equal(ks.n, 0);
    vb_keyset_free(&ks);
    vb_store_close(st);

    assert_int_equal(vb_store_open(&st, p, 1), VB_OK);
    struct vb_store_run r;
    assert_int_equal(vb_store_get_run(st, id1, &r), VB_OK);
    assert_int_equal(r.n_samples, 300);
    assert_string_equal(r.status, "complete");
    vb_store_run_clear(&r);
    char buf[64];
    assert_string_equal(pragma_text(st, "SELECT COUNT(*) FROM sessions", buf, sizeof buf), "3");
    assert_string_equal(pragma_text(st, "SELECT COUNT(DISTINCT host) FROM sessions", buf, sizeof buf), "2");
    vb_store_close(st);
}

static int single_db(const char * p, uint64_t seed, char vh[65]) {
    struct vb_store * st;
    int               rc = vb_store_open(&st, p, 0);
    if (rc != VB_OK) return rc;
    struct vb_run_info in;
    fx_info(&in, "nextqa", "vlap", 4, 32, seed);
    in.n_expected = 300;
    int64_t id;
    rc = vb_store_begin_run(st, &in, &id, NULL);
    if (rc == VB_OK) rc = put_range(st, id, 0, 300, 1, 0);
    if (rc == VB_OK) rc = vb_store_finish_run(st, id, 100, 0);
    if (rc == VB_OK && vh) rc = vb_store_verify_hash(st, id, vh);
    vb_store_close(st);
    return rc;
}

static int shard_db(const char * p, uint64_t seed, int32_t shard, int32_t nshard) {
    struct vb_store * st;
    int               rc = vb_store_open(&st, p, 0);
    if (rc != VB_OK) return rc;
    struct vb_run_info in;
    fx_info(&in, "nextqa", "vlap", 4, 32, seed);
    in.n_expected = 300;
    char sh[16];
    snprintf(sh, sizeof sh, "%d/%d", (int)shard, (int)nshard);
    in.shard = sh;
    in.host = shard ? "host-b" : "host-a";
    int64_t id;
    rc = vb_store_begin_run(st, &in, &id, NULL);
    if (rc == VB_OK) rc = put_range(st, id, shard, 300, nshard, shard);
    if (rc == VB_OK) rc = vb_store_finish_run(st, id, 50, 0);
    vb_store_close(st);
    return rc;
}

static void test_merge(void ** state) {
    (void)state;
    char single[512], s0[512], s1[512], s2[512], bad[512], out[512];
    path_in(single, sizeof single, "single.db");
    path_in(s0, sizeof s0, "shard0.db");
    path_in(s1, sizeof s1, "shard1.db");
    path_in(s2, sizeof s2, "shard2.db");
    path_in(bad, sizeof bad, "badshard.db");
    path_in(out, sizeof out, "merged.db");
    const char * all[] = {single, s0, s1, s2, bad, out};
    for (int i = 0; i < 6; i++)
        rm_db(all[i]);
    char vh[65];
    assert_int_equal(single_db(single, 42, vh), VB_OK);
    assert_int_equal(shard_db(s0, 42, 0, 3), VB_OK);
    assert_int_equal(shard_db(s1, 42, 1, 3), VB_OK);
    assert_int_equal(shard_db(s2, 42, 2, 3), VB_OK);
    assert_int_equal(shard_db(bad, 7, 1, 3), VB_OK); /* another seed: another configuration */

    /* mismatched configuration: refused, output untouched */
    const char * in_bad[] = {s0, bad};
    assert_int_equal(vb_store_merge(out, in_bad, 2, 1), VB_ERR_MISMATCH);
    assert_non_null(strstr(vb_errmsg(), "different run configurations"));
    assert_int_equal(access(out, F_OK), -1);

    const char * in[] = {s0, s1, s2};
    assert_int_equal(vb_store_merge(out, in, 3, 1), VB_OK);
    /* merging a shard again is a no-op (identical duplicates) */
    assert_int_equal(vb_store_merge(out, in + 1, 1, 1), VB_OK);
    struct vb_store * st;
    assert_int_equal(vb_store_open(&st, out, 1), VB_OK);
    struct vb_store_run * runs;
    int32_t               n;
    assert_int_equal(vb_store_list_runs(st, &runs, &n), VB_OK);
    assert_int_equal(n, 1);
    assert_int_equal(runs[0].n_samples, 300);
    assert_string_equal(runs[0].status, "complete");
    assert_string_equal(runs[0].verify_hash, vh);     /* merge == single run */
    assert_true(fabs(runs[0].wall_s - 200.0) < 1e-9); /* 3 shard sessions of 50 s + the repeated one */
    char buf[64];
    assert_string_equal(pragma_text(st, "SELECT COUNT(*) FROM sessions", buf, sizeof buf), "4");
    assert_string_equal(pragma_text(st, "SELECT COUNT(DISTINCT shard) FROM samples", buf, sizeof buf), "3");
    vb_store_runs_free(runs, n);
    vb_store_close(st);

    /* single and merged give the same samples */
    struct vb_store *a, *b;
    assert_int_equal(vb_store_open(&a, single, 1), VB_OK);
    assert_int_equal(vb_store_open(&b, out, 1), VB_OK);
    struct vb_store_rows ra, rb;
    assert_int_equal(vb_store_load_samples(a, 1, &ra), VB_OK);
    assert_int_equal(vb_store_load_samples(b, 1, &rb), VB_OK);
    assert_int_equal(ra.n, rb.n);
    for (int32_t i = 0; i < ra.n; i++) {
        assert_string_equal(ra.r[i].key, rb.r[i].key);
        assert_int_equal(ra.r[i].prediction, rb.r[i].prediction);
        assert_int_equal(ra.r[i].t_us[VB_STAGE_TOTAL], rb.r[i].t_us[VB_STAGE_TOTAL]);
    }
    vb_store_rows_free(&ra);
    vb_store_rows_free(&rb);
    vb_store_close(a);
    vb_store_close(b);

    /* a duplicate key with a different result aborts the whole merge and leaves the output as it was */
    struct vb_store * w;
    assert_int_equal(vb_store_open(&w, s2, 0), VB_OK);
    struct vb_run_info inf;
    fx_info(&inf, "nextqa", "vlap", 4, 32, 42);
    int64_t id;
    assert_int_equal(vb_store_begin_run(w, &inf, &id, NULL), VB_OK);
    {
        char                   key[48], vid[32];
        double                 sc[5];
        int32_t                cand[64], pick[64];
        struct vb_store_sample s;
        fx_sample(&FX_NEXTQA, 0, 1, 1.0, "vlap", 4, 32, key, vid, sc, cand, pick, &s); /* key 1000_0 of shard 0 */
        s.prediction = (s.answer + 2) % 5;
        s.error = NULL;
        assert_int_equal(vb_store_put_sample(w, id, &s), VB_OK);
    }
    vb_store_close(w);
    const char * in2[] = {s0, s2};
    char         before[65];
    assert_int_equal(vb_store_open(&st, out, 1), VB_OK);
    assert_int_equal(vb_store_verify_hash(st, 1, before), VB_OK);
    vb_store_close(st);
    assert_int_equal(vb_store_merge(out, in2, 2, 1), VB_ERR_MISMATCH);
    assert_non_null(strstr(vb_errmsg(), "1000_0"));
    char after[65];
    assert_int_equal(vb_store_open(&st, out, 1), VB_OK);
    assert_int_equal(vb_store_verify_hash(st, 1, after), VB_OK);
    assert_string_equal(before, after);
    vb_store_close(st);
}

/* A process killed in the middle of a transaction loses at most the uncommitted tail. */
static void test_crash(void ** state) {
    (void)state;
    char p[512];
    path_in(p, sizeof p, "crash.db");
    rm_db(p);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct vb_store * st;
        if (vb_store_open(&st, p, 0) != VB_OK) _exit(3);
        vb_store_set_flush(st, 10, 1000000);
        struct vb_run_info in;
        fx_info(&in, "nextqa", "vlap", 4, 32, 42);
        int64_t id;
        if (vb_store_begin_run(st, &in, &id, NULL) != VB_OK) _exit(4);
        if (put_range(st, id, 0, 95, 1, 0) != VB_OK) _exit(5);
        _exit(0); /* no close, no commit of the last 5 rows: as if killed */
    }
    int status;
    waitpid(pid, &status, 0);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    struct vb_store * st;
    assert_int_equal(vb_store_open(&st, p, 0), VB_OK);
    char buf[64];
    assert_string_equal(pragma_text(st, "PRAGMA integrity_check", buf, sizeof buf), "ok");
    struct vb_run_info in;
    fx_info(&in, "nextqa", "vlap", 4, 32, 42);
    int64_t id;
    int     resumed;
    assert_int_equal(vb_store_begin_run(st, &in, &id, &resumed), VB_OK);
    assert_int_equal(resumed, 1);
    struct vb_keyset ks;
    assert_int_equal(vb_store_done_keys(st, id, &ks), VB_OK);
    assert_int_equal(ks.n, 90); /* 9 committed batches of 10 */
    vb_keyset_free(&ks);
    vb_store_close(st);

    /* a slow producer (rows further apart than flush_ms / flush_rows) commits every row at once */
    rm_db(p);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct vb_store * w;
        if (vb_store_open(&w, p, 0) != VB_OK) _exit(3);
        vb_store_set_flush(w, 64, 100); /* slow = more than 100/64 ms between rows */
        fx_info(&in, "nextqa", "vlap", 4, 32, 42);
        if (vb_store_begin_run(w, &in, &id, NULL) != VB_OK) _exit(4);
        for (int i = 0; i < 5; i++) {
            if (put_range(w, id, i, i + 1, 1, 0) != VB_OK) _exit(5);
            usleep(20000);
        }
        _exit(0);
    }
    waitpid(pid, &status, 0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(vb_store_open(&st, p, 1), VB_OK);
    assert_int_equal(vb_store_done_keys(st, 1, &ks), VB_OK);
    assert_int_equal(ks.n, 5); /* row 1 waits (no predecessor), row 2 commits both, rows 3-5 commit at once */
    vb_keyset_free(&ks);
    vb_store_close(st);
}

/* runs.weights_dtype and sessions.peak_rss_kb: written, read back (max over sessions), NULL / -1 when not given,
** merged; the setter needs a session of this handle. */
static void test_dtype_and_rss(void ** state) {
    (void)state;
    char p[512], m[512];
    path_in(p, sizeof p, "rss.db");
    path_in(m, sizeof m, "rss-merged.db");
    rm_db(p);
    rm_db(m);
    struct vb_store * st;
    assert_int_equal(vb_store_open(&st, p, 0), VB_OK);
    struct vb_run_info in;
    fx_info(&in, "nextqa", "sevila", 4, 32, 1);
    in.weights_dtype = "bf16";
    int64_t id, id2;
    assert_int_equal(vb_store_begin_run(st, &in, &id, NULL), VB_OK);
    assert_int_equal(vb_store_set_peak_rss(st, id, 8713216), VB_OK);
    assert_int_equal(vb_store_set_peak_rss(st, id + 7, 1), VB_ERR_NOTFOUND);
    assert_int_equal(vb_store_finish_run(st, id, 1.0, 0), VB_OK);
    fx_info(&in, "nextqa", "sevila", 2, 32, 1); /* no dtype, no RSS */
    assert_int_equal(vb_store_begin_run(st, &in, &id2, NULL), VB_OK);
    assert_int_equal(vb_store_finish_run(st, id2, 1.0, 0), VB_OK);
    assert_int_equal(vb_store_close(st), VB_OK);
    /* a second session on the first run with a smaller peak: the run reports the largest */
    assert_int_equal(vb_store_open(&st, p, 0), VB_OK);
    fx_info(&in, "nextqa", "sevila", 4, 32, 1);
    in.weights_dtype = "bf16";
    int     resumed = 0;
    int64_t id3;
    assert_int_equal(vb_store_begin_run(st, &in, &id3, &resumed), VB_OK);
    assert_int_equal(id3, id);
    assert_int_equal(resumed, 1);
    assert_int_equal(vb_store_set_peak_rss(st, id, 1024), VB_OK);
    assert_int_equal(vb_store_finish_run(st, id, 1.0, 0), VB_OK);
    assert_int_equal(vb_store_close(st), VB_OK);
    const char * ins[1] = {p};
    assert_int_equal(vb_store_merge(m, ins, 1, 0), VB_OK);
    const char * files[2] = {p, m};
    for (int f = 0; f < 2; f++) {
        assert_int_equal(vb_store_open(&st, files[f], 1), VB_OK);
        struct vb_store_run * runs;
        int32_t               n;
        assert_int_equal(vb_store_list_runs(st, &runs, &n), VB_OK);
        assert_int_equal(n, 2);
        assert_string_equal(runs[0].weights_dtype, "bf16");
        assert_true(runs[0].peak_rss_kb == 8713216);
        assert_null(runs[1].weights_dtype);
        assert_true(runs[1].peak_rss_kb == -1);
        vb_store_runs_free(runs, n);
        char buf[64];
        assert_string_equal(
            pragma_text(st, "SELECT COUNT(*) FROM sessions WHERE peak_rss_kb IS NOT NULL", buf, sizeof buf), "2");
        assert_int_equal(vb_store_close(st), VB_OK);
    }
}

static void test_fixtures(void ** state) {
    (void)state;
    char g[512], c[512];
    path_in(g, sizeof g, "grid.db");
    path_in(c, sizeof c, "cmp.db");
    rm_db(g);
    rm_db(c);
    assert_int_equal(fx_write_grid(g), VB_OK);
    assert_int_equal(fx_write_cmp(c), VB_OK);
    struct vb_store * st;
    assert_int_equal(vb_store_open(&st, c, 1), VB_OK);
    struct vb_store_run * runs;
    int32_t               n;
    assert_int_equal(vb_store_list_runs(st, &runs, &n), VB_OK);
    assert_int_equal(n, 5);
    assert_int_equal(runs[0].n_correct, runs[1].n_correct);
    assert_int_equal(runs[0].n_correct - runs[4].n_correct, 3);
    assert_int_equal(runs[0].n_correct - runs[2].n_correct, 38);
    assert_string_equal(runs[0].verify_hash, runs[1].verify_hash);
    assert_string_equal(runs[0].verify_hash, runs[3].verify_hash);
    assert_string_not_equal(runs[0].verify_hash, runs[2].verify_hash);
    vb_store_runs_free(runs, n);
    vb_store_close(st);
}

static int make_dir(void) {
    const char * t = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/vb_store_XXXXXX", t ? t : "/tmp");
    return mkdtemp(g_dir) ? 0 : -1;
}

int main(int argc, char ** argv) {
    if (argc == 3 && !strcmp(argv[1], "--write-fixtures")) {
        char g[512], c[512];
        snprintf(g, sizeof g, "%s/grid.db", argv[2]);
        snprintf(c, sizeof c, "%s/cmp.db", argv[2]);
        rm_db(g);
        rm_db(c);
        int rc = fx_write_grid(g);
        if (rc == VB_OK) rc = fx_write_cmp(c);
        if (rc != VB_OK) fprintf(stderr, "fixtures: %s\n", vb_errmsg());
        return rc == VB_OK ? 0 : 1;
    }
    if (make_dir() != 0) {
        fprintf(stderr, "cannot create a temporary directory\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_canonical),
        cmocka_unit_test(test_resume_and_duplicates),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_crash),
        cmocka_unit_test(test_fixtures),
        cmocka_unit_test(test_dtype_and_rss),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    if (rc == 0) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "%s", g_dir);
        /* leave the directory on failure for inspection; remove the files otherwise */
        const char * names[] = {"rt.db",       "resume.db", "single.db", "shard0.db", "shard1.db", "shard2.db",
                                "badshard.db", "merged.db", "crash.db",  "grid.db",   "cmp.db"};
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            char p[512];
            path_in(p, sizeof p, names[i]);
            rm_db(p);
        }
        rmdir(cmd);
    }
    return rc;
}
