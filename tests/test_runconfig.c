/* test_runconfig.c — `vlapbench run` support code: the run configuration (JSON file + flags -> one canonical
** config, exact expected strings), per-k bundles, method selection, validation errors; the shard rule and seeds
** (FNV-1a 64 reference values); the ViT feature cache (LRU order, byte bound, costs); progress duration format; the
** run order (--order / "order", stored in the canonical text; the grouping by video, harness/runner_order.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs <setjmp.h>, <stdarg.h>, <stddef.h> and <stdint.h> first */
#include <cmocka.h>

#include "base/common.h"
#include "engine/cuda/cuda.h"
#include "harness/progress.h"
#include "harness/runconfig.h"
#include "harness/runner.h"
#include "harness/runner_internal.h"
#include "harness/vitcache.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char g_dir[PATH_MAX]; /* realpath of a temporary directory */

static void write_file(const char * name, const char * text) {
    char p[PATH_MAX + 64];
    snprintf(p, sizeof p, "%s/%s", g_dir, name);
    FILE * f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void ** state) {
    (void)state;
    char tmpl[] = "/tmp/vb_runconfig_XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    assert_non_null(realpath(tmpl, g_dir));
    char         p[PATH_MAX + 64];
    const char * dirs[] = {"ann", "vid", "b1", "b2", "v1", "v2", "v4"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", g_dir, dirs[i]);
        mkdir(p, 0755);
    }
    write_file("ann/val.csv", "x\n");
    return 0;
}

static int teardown(void ** state) {
    (void)state;
    char         p[PATH_MAX + 64];
    const char * files[] = {"ann/val.csv", "run.json", "bad.json", "bad2.json", "keys.txt"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", g_dir, files[i]);
        unlink(p);
    }
    const char * dirs[] = {"ann", "vid", "b1", "b2", "v1", "v2", "v4"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", g_dir, dirs[i]);
        rmdir(p);
    }
    rmdir(g_dir);
    return 0;
}

/* argv from a string of space-separated words (no quoting); argv[0] = "run". */
static int split(char * buf, char ** argv, int cap) {
    int n = 0;
    argv[n++] = "run";
    for (char *save = NULL, *t = strtok_r(buf, " ", &save); t && n < cap; t = strtok_r(NULL, " ", &save))
        argv[n++] = t;
    return n;
}

static int from_args(struct vb_run_config * c, const char * line) {
    char * buf = vb_strdup(line);
    char * argv[64];
    int    argc = split(buf, argv, 64);
    vb_runconfig_defaults(c);
    int rc = vb_runconfig_from_args(c, argc, argv);
    free(buf);
    return rc;
}

static void test_json_and_canonical(void ** state) {
    (void)state;
    write_file(
        "run.json",
        "{\"dataset\": \"nextqa\", \"annotations\": \"ann/val.csv\", \"videos\": \"vid\", \"frames\": [1, 2, 4],\n"
        " \"methods\": [{\"name\": \"uniform\", \"model\": \"b1\"},\n"
        "             {\"name\": \"vlap\", \"models\": {\"4\": \"v4\", \"1\": \"v1\", \"2\": \"v2\"}}],\n"
        " \"seed\": 7, \"warmup\": 2, \"candidates\": 8, \"vit_cache_mb\": 64, \"flush_rows\": 5}");
    char line[PATH_MAX * 8];
    snprintf(line, sizeof line, "--db x.db --config %s/run.json --threads 3 --shard 1/4 --quiet", g_dir);
    struct vb_run_config c;
    assert_int_equal(from_args(&c, line), VB_OK);
    assert_int_equal(vb_runconfig_validate(&c), VB_OK);
    assert_int_equal(c.n_methods, 2);
    assert_int_equal(c.n_frames, 3);
    assert_int_equal(c.warmup, 2);
    assert_int_equal(c.vit_cache_mb, 64);
    assert_int_equal(c.flush_rows, 5);
    assert_int_equal(c.threads, 3);
    assert_int_equal(c.shard_i, 1);
    assert_int_equal(c.shard_n, 4);
    assert_string_equal(c.db, "x.db"); /* flag wins over the default; file had none */
    char want[PATH_MAX * 8];
    snprintf(want, sizeof want, "%s/v2", g_dir);
    assert_string_equal(vb_runconfig_model(&c, 1, 2), want);
    snprintf(want, sizeof want, "%s/b1", g_dir);
    assert_string_equal(vb_runconfig_model(&c, 0, 4), want);
    assert_null(vb_runconfig_model(&c, 1, 8));
    char *       canon = vb_runconfig_canonical(&c);
    const char * D = g_dir;
    snprintf(want, sizeof want,
             "{\"annotations\":\"%s/ann/val.csv\",\"candidates\":8,\"dataset\":\"nextqa\",\"decode_mode\":\"minimal\","
             "\"frames\":[1,2,4],\"interp\":\"bilinear\",\"limit\":0,\"map\":null,\"methods\":[{\"model\":\"%s/b1\","
             "\"name\":\"uniform\"},{\"model\":null,\"models\":{\"1\":\"%s/v1\",\"2\":\"%s/v2\",\"4\":\"%s/v4\"},"
             "\"name\":\"vlap\"}],\"order\":\"video\",\"samples\":null,\"sampling\":\"uniform_midbin\",\"seed\":7,"
             "\"selection\":\"argmax\","
             "\"videos\":\"%s/vid\",\"warmup\":2}",
             D, D, D, D, D, D);
    assert_string_equal(canon, want);
    /* the same configuration through flags only, in another order, with different db / shard / threads / cache:
    ** the same canonical text */
    struct vb_run_config d;
    snprintf(line, sizeof line,
             "--warmup 2 --method vlap@4=%s/v4,vlap@1=%s/v1 --seed 7 --frames 1,2,4 --videos %s/vid --method "
             "uniform=%s/b1 --method vlap@2=%s/v2 --dataset nextqa --candidates 8 --annotations %s/ann/../ann/val.csv "
             "--threads 1 --vit-cache-mb 0 --kill-after 3 --flush-rows 1",
             D, D, D, D, D, D);
    assert_int_equal(from_args(&d, line), VB_OK);
    assert_int_equal(vb_runconfig_validate(&d), VB_OK);
    char * canon2 = vb_runconfig_canonical(&d);
    assert_string_equal(canon2, canon);
    free(canon2);
    vb_runconfig_free(&d);
    /* a flag overrides the file: --seed, --frames */
    snprintf(line, sizeof line, "--config %s/run.json --seed 8 --frames 4", g_dir);
    assert_int_equal(from_args(&d, line), VB_OK);
    assert_int_equal(d.n_frames, 1);
    assert_true(d.seed == 8);
    canon2 = vb_runconfig_canonical(&d);
    assert_true(strcmp(canon2, canon) != 0);
    assert_non_null(strstr(canon2, "\"frames\":[4]"));
    assert_non_null(strstr(canon2, "\"seed\":8"));
    free(canon2);
    vb_runconfig_free(&d);
    free(canon);
    vb_runconfig_free(&c);
}

static void test_method_flags(void ** state) {
    (void)state;
    char                 line[PATH_MAX * 8];
    struct vb_run_config c;
    /* --methods NAMES filters the file's methods (in the given order) */
    snprintf(line, sizeof line, "--config %s/run.json --methods vlap", g_dir);
    assert_int_equal(from_args(&c, line), VB_OK);
    assert_int_equal(c.n_methods, 1);
    assert_string_equal(c.methods[0].name, "vlap");
    assert_int_equal(c.methods[0].n_per_k, 3);
    vb_runconfig_free(&c);
    snprintf(line, sizeof line, "--config %s/run.json --methods sevila", g_dir);
    assert_int_equal(from_args(&c, line), VB_ERR_ARG);
    assert_non_null(strstr(vb_errmsg(), "sevila"));
    vb_runconfig_free(&c);
    /* NAME=DIR on the command line replaces the per-k bundles of the file */
    snprintf(line, sizeof line, "--config %s/run.json --method vlap=%s/v2", g_dir, g_dir);
    assert_int_equal(from_args(&c, line), VB_OK);
    assert_int_equal(c.methods[1].n_per_k, 0);
    char want[PATH_MAX * 2];
    snprintf(want, sizeof want, "%s/v2", g_dir);
    assert_string_equal(vb_runconfig_model(&c, 1, 1), want);
    vb_runconfig_free(&c);
    /* --methods A,B --model DIR */
    assert_int_equal(from_args(&c, "--dataset star --annotations a.json --methods uniform,sevila --model B"), VB_OK);
    assert_int_equal(c.n_methods, 2);
    assert_string_equal(c.methods[1].model, "B");
    assert_int_equal(vb_runconfig_validate(&c), VB_OK);
    vb_runconfig_free(&c);
    /* errors */
    assert_int_equal(from_args(&c, "--method bogus=X"), VB_ERR_ARG);
    vb_runconfig_free(&c);
    assert_int_equal(from_args(&c, "--method vlap@0=X"), VB_ERR_ARG);
    vb_runconfig_free(&c);
    assert_int_equal(from_args(&c, "--frames 1,,2"), VB_ERR_ARG);
    vb_runconfig_free(&c);
    assert_int_equal(from_args(&c, "--limit -3"), VB_ERR_ARG);
    vb_runconfig_free(&c);
    assert_int_equal(from_args(&c, "--seed 12x"), VB_ERR_ARG);
    vb_runconfig_free(&c);
    assert_int_equal(from_args(&c, "--shard 4/4"), VB_ERR_ARG);
    vb_runconfig_free(&c);
    assert_int_equal(from_args(&c, "--shard 1/0"), VB_ERR_ARG);
    vb_runconfig_free(&c);
    assert_int_equal(from_args(&c, "--sampling uniform"), VB_ERR_ARG);
    vb_runconfig_free(&c);
    assert_int_equal(from_args(&c, "--whatever 1"), VB_ERR_ARG);
    vb_runconfig_free(&c);
    /* validation: a VLAP cell without its bundle, a repeated frame count, no dataset */
    assert_int_equal(from_args(&c, "--dataset nextqa --annotations a.csv --method vlap@4=V --frames 2,4"), VB_OK);
    assert_int_equal(vb_runconfig_validate(&c), VB_ERR_ARG);
    assert_non_null(strstr(vb_errmsg(), "2 frames"));
    vb_runconfig_free(&c);
    assert_int_equal(from_args(&c, "--dataset nextqa --annotations a.csv --method uniform=U --frames 2,2"), VB_OK);
    assert_int_equal(vb_runconfig_validate(&c), VB_ERR_ARG);
    vb_runconfig_free(&c);
    assert_int_equal(from_args(&c, "--annotations a.csv --method uniform=U"), VB_OK);
    assert_int_equal(vb_runconfig_validate(&c), VB_ERR_ARG);
    vb_runconfig_free(&c);
}

/* --device / "device": cpu (default) adds nothing to the canonical text; cuda adds "device":"cuda" after
** "decode_mode" (sorted keys); another value is refused naming it; validating cuda where no GPU is usable fails with
** the reason (VB_ERR_UNSUPPORTED: exit 1, never a silent CPU run) */
static void test_device(void ** state) {
    (void)state;
    char line[PATH_MAX * 3];
    snprintf(line, sizeof line, "--dataset nextqa --annotations %s/a.csv --method uniform=%s/b", g_dir, g_dir);
    struct vb_run_config c, d;
    assert_int_equal(from_args(&c, line), VB_OK);
    assert_string_equal(c.device, "cpu");
    char * canon = vb_runconfig_canonical(&c);
    assert_null(strstr(canon, "device"));
    char l2[PATH_MAX * 3 + 32];
    snprintf(l2, sizeof l2, "%s --device cuda", line);
    assert_int_equal(from_args(&d, l2), VB_OK);
    assert_string_equal(d.device, "cuda");
    char * canon2 = vb_runconfig_canonical(&d);
    assert_non_null(strstr(canon2, "\"decode_mode\":\"minimal\",\"device\":\"cuda\",\"frames\""));
    struct vb_cuda_info I;
    if (!vb_cuda_query(&I)) {
        assert_int_equal(vb_runconfig_validate(&d), VB_ERR_UNSUPPORTED);
        assert_non_null(strstr(vb_errmsg(), "--device cuda: "));
        assert_non_null(strstr(vb_errmsg(), I.reason));
    } else
        assert_int_equal(vb_runconfig_validate(&d), VB_OK);
    free(canon2), free(canon);
    vb_runconfig_free(&d);
    snprintf(l2, sizeof l2, "%s --device gpu", line);
    assert_int_equal(from_args(&d, l2), VB_ERR_ARG);
    assert_non_null(strstr(vb_errmsg(), "gpu"));
    vb_runconfig_free(&d);
    write_file("dev.json", "{\"device\": \"cuda\"}");
    char p[PATH_MAX + 16];
    snprintf(p, sizeof p, "%s/dev.json", g_dir);
    vb_runconfig_defaults(&d);
    assert_int_equal(vb_runconfig_load_json(&d, p), VB_OK);
    assert_string_equal(d.device, "cuda");
    vb_runconfig_free(&d);
    vb_runconfig_free(&c);
}

/* --order / "order": video (default) or file, always in the canonical text, another value refused naming it */
static void test_order_option(void ** state) {
    (void)state;
    char line[PATH_MAX * 3];
    snprintf(line, sizeof line, "--dataset nextqa --annotations %s/a.csv --method uniform=%s/b", g_dir, g_dir);
    struct vb_run_config c, d;
    assert_int_equal(from_args(&c, line), VB_OK);
    assert_string_equal(c.order, "video");
    char * canon = vb_runconfig_canonical(&c);
    assert_non_null(strstr(canon, "}],\"order\":\"video\",\"samples\":"));
    char l2[PATH_MAX * 3 + 32];
    snprintf(l2, sizeof l2, "%s --order file", line);
    assert_int_equal(from_args(&d, l2), VB_OK);
    assert_string_equal(d.order, "file");
    char * canon2 = vb_runconfig_canonical(&d);
    assert_non_null(strstr(canon2, "\"order\":\"file\""));
    free(canon2), free(canon);
    vb_runconfig_free(&d);
    snprintf(l2, sizeof l2, "%s --order shuffled", line);
    assert_int_equal(from_args(&d, l2), VB_ERR_ARG);
    assert_non_null(strstr(vb_errmsg(), "shuffled"));
    vb_runconfig_free(&d);
    write_file("order.json", "{\"order\": \"file\"}");
    char p[PATH_MAX + 16];
    snprintf(p, sizeof p, "%s/order.json", g_dir);
    vb_runconfig_defaults(&d);
    assert_int_equal(vb_runconfig_load_json(&d, p), VB_OK);
    assert_string_equal(d.order, "file");
    vb_runconfig_free(&d);
    write_file("order.json", "{\"order\": \"by_video\"}");
    vb_runconfig_defaults(&d);
    assert_int_equal(vb_runconfig_load_json(&d, p), VB_ERR_ARG); /* a bad name in the file: as a flag's */
    assert_non_null(strstr(vb_errmsg(), "by_video"));
    vb_runconfig_free(&d);
    vb_runconfig_free(&c);
}

/* vb_runner_group_by_video: a stable grouping by video path (else id), videos in order of first appearance, each
** video's samples in their selection order; the set unchanged; the count of distinct videos */
static void test_group_by_video(void ** state) {
    (void)state;
    /* dataset index: 0 A, 1 B, 2 C, 3 A, 4 B, 5 A, 6 (no path) id X, 7 C, 8 id X, 9 D */
    static char * const paths[] = {"v/A.mp4", "v/B.mp4", "v/C.mp4", "v/A.mp4", "v/B.mp4",
                                   "v/A.mp4", NULL,      "v/C.mp4", NULL,      "v/D.mp4"};
    static char * const ids[] = {"A", "B", "C", "A", "B", "A", "X", "C", "X", "D"};
    struct vb_sample    s[10];
    memset(s, 0, sizeof s);
    for (int32_t i = 0; i < 10; i++)
        s[i].video_path = paths[i], s[i].video_id = ids[i];
    struct vb_dataset ds = {.n = 10, .s = s};
    assert_string_equal(vb_runner_video_of(&s[0]), "v/A.mp4");
    assert_string_equal(vb_runner_video_of(&s[6]), "X");
    int32_t sel[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    assert_int_equal(vb_runner_group_by_video(&ds, sel, 10), 5);
    const int32_t want[10] = {0, 3, 5, 1, 4, 2, 7, 6, 8, 9};
    for (int32_t j = 0; j < 10; j++)
        assert_int_equal(sel[j], want[j]);
    /* a selection (e.g. a shard) in its own order: C 7, A 5, B 1, C 2, A 0 -> C 7 2, A 5 0, B 1 */
    int32_t sub[5] = {7, 5, 1, 2, 0};
    assert_int_equal(vb_runner_group_by_video(&ds, sub, 5), 3);
    const int32_t want2[5] = {7, 2, 5, 0, 1};
    for (int32_t j = 0; j < 5; j++)
        assert_int_equal(sub[j], want2[j]);
    /* already grouped: unchanged; empty: 0 */
    assert_int_equal(vb_runner_group_by_video(&ds, sub, 5), 3);
    for (int32_t j = 0; j < 5; j++)
        assert_int_equal(sub[j], want2[j]);
    assert_int_equal(vb_runner_group_by_video(&ds, sub, 0), 0);
}

static void test_json_errors(void ** state) {
    (void)state;
    struct vb_run_config c;
    char                 p[PATH_MAX + 16];
    write_file("bad.json", "{\"dataset\": \"nextqa\", \"frame\": [1]}");
    snprintf(p, sizeof p, "%s/bad.json", g_dir);
    vb_runconfig_defaults(&c);
    assert_int_equal(vb_runconfig_load_json(&c, p), VB_ERR_FORMAT);
    assert_non_null(strstr(vb_errmsg(), "frame"));
    assert_non_null(strstr(vb_errmsg(), "bad.json"));
    vb_runconfig_free(&c);
    write_file("bad2.json", "{\"methods\": [{\"name\": \"vlap\", \"models\": {\"two\": \"v2\"}}]}");
    snprintf(p, sizeof p, "%s/bad2.json", g_dir);
    vb_runconfig_defaults(&c);
    assert_int_equal(vb_runconfig_load_json(&c, p), VB_ERR_FORMAT);
    vb_runconfig_free(&c);
    write_file("bad2.json", "{\"warmup\": -1}");
    vb_runconfig_defaults(&c);
    assert_int_equal(vb_runconfig_load_json(&c, p), VB_ERR_FORMAT);
    vb_runconfig_free(&c);
    write_file("bad2.json", "[1, 2]");
    vb_runconfig_defaults(&c);
    assert_int_equal(vb_runconfig_load_json(&c, p), VB_ERR_FORMAT);
    vb_runconfig_free(&c);
    snprintf(p, sizeof p, "%s/missing.json", g_dir);
    vb_runconfig_defaults(&c);
    assert_int_equal(vb_runconfig_load_json(&c, p), VB_ERR_IO);
    vb_runconfig_free(&c);
}

static void test_shard_and_seed(void ** state) {
    (void)state;
    /* FNV-1a 64 reference values (offset basis 0xcbf29ce484222325, prime 0x100000001b3) */
    assert_true(vb_fnv1a64("") == 0xcbf29ce484222325ULL);
    assert_true(vb_fnv1a64("a") == 0xaf63dc4c8601ec8cULL);
    assert_true(vb_fnv1a64("foobar") == 0x85944171f73967e8ULL);
    assert_int_equal(vb_runner_shard_of("a", 3), 1);
    assert_int_equal(vb_runner_shard_of("foobar", 3), 0);
    assert_int_equal(vb_runner_shard_of("foobar", 7), 6);
    assert_int_equal(vb_runner_shard_of("9000000000_0", 7), 2);
    assert_int_equal(vb_runner_shard_of("anything", 1), 0);
    /* every key lands in exactly one shard; roughly balanced */
    int32_t cnt[4] = {0};
    char    k[32];
    for (int i = 0; i < 4000; i++) {
        snprintf(k, sizeof k, "video%d_%d", i / 5, i % 5);
        int32_t s = vb_runner_shard_of(k, 4);
        assert_true(s >= 0 && s < 4);
        cnt[s]++;
    }
    for (int s = 0; s < 4; s++)
        assert_true(cnt[s] > 850 && cnt[s] < 1150);
    /* per-question seeds: deterministic, differ by key and by base seed */
    assert_true(vb_runner_question_seed(1, "a") == vb_runner_question_seed(1, "a"));
    assert_true(vb_runner_question_seed(1, "a") != vb_runner_question_seed(1, "b"));
    assert_true(vb_runner_question_seed(1, "a") != vb_runner_question_seed(2, "a"));
}

static void test_vitcache(void ** state) {
    (void)state;
    const int64_t        n = 256; /* 1 KiB per entry */
    float                buf[256], out[256];
    struct vb_vitcache * c = vb_vitcache_new(3 * 1024); /* three entries */
    for (int64_t f = 0; f < 3; f++) {
        for (int i = 0; i < n; i++)
            buf[i] = (float)(f * 1000 + i);
        struct vb_vitcache_key k = {0, 42, f};
        assert_int_equal(vb_vitcache_put(c, &k, buf, n, 100 + f), 1);
    }
    struct vb_vitcache_key k0 = {0, 42, 0}, k1 = {0, 42, 1}, k2 = {0, 42, 2}, k3 = {0, 42, 3};
    struct vb_vitcache_key other_group = {1, 42, 0}, other_video = {0, 43, 0};
    int64_t                cost = 0;
    /* touch 0: now 1 is the least recently used */
    assert_int_equal(vb_vitcache_get(c, &k0, out, n, &cost), 1);
    assert_true(cost == 100 && out[5] == 5.0f);
    assert_int_equal(vb_vitcache_get(c, &other_group, out, n, NULL), 0);
    assert_int_equal(vb_vitcache_get(c, &other_video, out, n, NULL), 0);
    assert_int_equal(vb_vitcache_get(c, &k0, out, n - 1, NULL), 0); /* size mismatch is a miss */
    assert_int_equal(vb_vitcache_put(c, &k3, buf, n, 7), 1);
    assert_int_equal(vb_vitcache_has(c, &k1), 0); /* evicted */
    assert_int_equal(vb_vitcache_has(c, &k0), 1);
    assert_int_equal(vb_vitcache_has(c, &k2), 1);
    assert_int_equal(vb_vitcache_has(c, &k3), 1);
    assert_int_equal(vb_vitcache_set_cost(c, &k2, 55), 1);
    assert_int_equal(vb_vitcache_get(c, &k2, out, n, &cost), 1);
    assert_true(cost == 55 && out[0] == 2000.0f);
    assert_int_equal(vb_vitcache_set_cost(c, &k1, 1), 0);
    struct vb_vitcache_stats st;
    vb_vitcache_stats(c, &st);
    assert_int_equal(st.n_entries, 3);
    assert_true(st.bytes == 3 * 1024);
    assert_true(st.n_evictions == 1 && st.n_hits == 2 && st.n_misses == 3 && st.n_puts == 4);
    /* an entry larger than the bound is refused; replacing keeps one entry */
    float                  big[1024] = {0};
    struct vb_vitcache_key kb = {0, 1, 1};
    assert_int_equal(vb_vitcache_put(c, &kb, big, 1024, 1), 0);
    assert_int_equal(vb_vitcache_put(c, &k3, buf, n, 9), 1);
    vb_vitcache_stats(c, &st);
    assert_int_equal(st.n_entries, 3);
    vb_vitcache_clear(c);
    vb_vitcache_stats(c, &st);
    assert_int_equal(st.n_entries, 0);
    assert_true(st.bytes == 0);
    /* many entries: the hash table grows, every key is found */
    struct vb_vitcache * d = vb_vitcache_new(1 << 20);
    for (int64_t f = 0; f < 500; f++) {
        struct vb_vitcache_key k = {(int32_t)(f % 3), 7, f};
        buf[0] = (float)f;
        assert_int_equal(vb_vitcache_put(d, &k, buf, 16, f), 1);
    }
    for (int64_t f = 0; f < 500; f++) {
        struct vb_vitcache_key k = {(int32_t)(f % 3), 7, f};
        assert_int_equal(vb_vitcache_get(d, &k, out, 16, &cost), 1);
        assert_true(out[0] == (float)f && cost == f);
    }
    vb_vitcache_free(d);
    vb_vitcache_free(c);
    /* a zero bound stores nothing */
    c = vb_vitcache_new(0);
    assert_int_equal(vb_vitcache_put(c, &k0, buf, n, 1), 0);
    vb_vitcache_free(c);
}

static void test_progress_format(void ** state) {
    (void)state;
    char b[32];
    vb_progress_fmt_duration(5.4, b, sizeof b);
    assert_string_equal(b, "5s");
    vb_progress_fmt_duration(185, b, sizeof b);
    assert_string_equal(b, "3m05s");
    vb_progress_fmt_duration(3720, b, sizeof b);
    assert_string_equal(b, "1h02m");
    vb_progress_fmt_duration(-1, b, sizeof b);
    assert_string_equal(b, "?");
    /* a non-TTY progress writes plain lines; quiet writes nothing */
    char *             text = NULL;
    size_t             len = 0;
    FILE *             f = open_memstream(&text, &len);
    struct vb_progress p;
    vb_progress_start(&p, f, "run", 4, 0, 0);
    vb_progress_add(&p, 4, NULL);
    vb_progress_end(&p, "done");
    fclose(f);
    assert_non_null(strstr(text, "run: 4/4 (100.0%)"));
    assert_non_null(strstr(text, "done"));
    assert_null(strchr(text, '\r'));
    free(text);
    f = open_memstream(&text, &len);
    vb_progress_start(&p, f, "run", 4, 1, 0);
    vb_progress_add(&p, 4, NULL);
    vb_progress_end(&p, NULL);
    fclose(f);
    assert_int_equal((int)len, 0);
    free(text);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_and_canonical),
        cmocka_unit_test(test_method_flags),
        cmocka_unit_test(test_json_errors),
        cmocka_unit_test(test_shard_and_seed),
        cmocka_unit_test(test_vitcache),
        cmocka_unit_test(test_progress_format),
        cmocka_unit_test(test_device),
        cmocka_unit_test(test_order_option),
        cmocka_unit_test(test_group_by_video),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
