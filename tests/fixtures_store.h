/* fixtures_store.h — synthetic result databases written through the store API (harness/store.h), shared by
** tests/test_store.c and (through `test_store --write-fixtures DIR`) the shell test tests/test_report.sh.
** Header-only (static functions): the Makefile links only tests/test_*.c programs.
**
** grid.db: NExT-QA val-like (60 videos x 5 questions, 8 type codes) for uniform k=1,2,4, sevila 32->4,
**          vlap 32->2 and 32->4; STAR-like (40 videos x 4 questions) for uniform 4, sevila 32->4, vlap 32->4;
**          VLEP-like (100 samples, 2 options) and How2QA-like (80 samples) for uniform 4 and vlap 32->4.
**          Correctness is a deterministic hash of (method, frames, key) against a per-method target accuracy.
** cmp.db:  five NExT-QA runs on the same 300 samples (config seeds 1..5):
**          1 "base", 2 "same" (identical predictions, latency +2 %), 3 "drop" (40 correct->wrong and 2
**          wrong->correct vs base: McNemar b=2, c=40, significant, -12.67 points), 4 "slow" (same predictions,
**          every stage x1.5), 5 "noisy" (3 correct->wrong: -1 point, McNemar b=0, c=3, p=0.25, not significant).
*/
#ifndef VB_FIXTURES_STORE_H
#define VB_FIXTURES_STORE_H

#include "base/common.h"
#include "results/store.h"

#include <stdio.h>
#include <string.h>

static uint64_t fx_hash(const char * s, uint64_t h) {
    if (!h) h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ULL;
    return h;
}

static void fx_info(struct vb_run_info * in, const char * dataset, const char * method, int32_t k, int32_t T,
                    uint64_t seed) {
    memset(in, 0, sizeof *in);
    in->dataset = dataset;
    in->split = "val";
    in->method = method;
    in->frames = k;
    in->candidates = T;
    in->sampling = "uniform_midbin";
    in->selection = !strcmp(method, "uniform") ? "none" : !strcmp(method, "sevila") ? "topk" : "argmax";
    in->decode_mode = "minimal";
    in->seed = seed;
    in->blas_threads = 4;
    in->weights_json = "{\"bundle\":\"0123abcd\"}";
    in->annotations_sha256 = "feedbeef";
    in->git_commit = "fixture";
    in->git_dirty = 0;
    in->config_json = "{\"interp\":\"bicubic\"}";
    in->grid_id = "fixture-grid";
    in->build_flags = "-O2";
    in->blas_core = "Haswell";
    in->cpu_model = "Synthetic CPU";
    in->host = "fixture-host";
    in->sws_flags = "bicubic";
}

struct fx_ds {
    const char *         name;
    int32_t              n_videos, q_per_video, n_options;
    int32_t              n_cat;
    const char * const * cats;
    const char * const * groups;
};

static const char * const FX_NEXT_CATS[] = {"CW", "CH", "TN", "TP", "TC", "DC", "DL", "DO"};
static const char * const FX_NEXT_GRPS[] = {"C", "C", "T", "T", "T", "D", "D", "D"};
static const char * const FX_STAR_CATS[] = {"Interaction", "Sequence", "Prediction", "Feasibility"};
static const char * const FX_VLEP_CATS[] = {"vlep"};
static const char * const FX_H2_CATS[] = {"how2qa"};

static const struct fx_ds FX_NEXTQA = {"nextqa", 60, 5, 5, 8, FX_NEXT_CATS, FX_NEXT_GRPS};
static const struct fx_ds FX_STAR = {"star", 40, 4, 4, 4, FX_STAR_CATS, FX_STAR_CATS};
static const struct fx_ds FX_VLEP = {"vlep", 100, 1, 2, 1, FX_VLEP_CATS, FX_VLEP_CATS};
static const struct fx_ds FX_HOW2QA = {"how2qa", 40, 2, 4, 1, FX_H2_CATS, FX_H2_CATS};

/* Sample key as the official scorer uses it: NExT-QA / STAR style "video_q", VLEP example_id (from 20142),
** VALUE How2QA qid (from 30000). */
static void fx_key(const struct fx_ds * d, int32_t i, char * key) {
    if (!strcmp(d->name, "vlep"))
        snprintf(key, 48, "%d", 20142 + i);
    else if (!strcmp(d->name, "how2qa"))
        snprintf(key, 48, "%d", 30000 + i);
    else
        snprintf(key, 48, "%d_%d", 1000 + i / d->q_per_video, i % d->q_per_video);
}

/* Build sample i of a dataset; correct decided by `correct` (0/1). Buffers are caller's. */
static void fx_sample(const struct fx_ds * d, int32_t i, int correct, double lat_scale, const char * method, int32_t k,
                      int32_t T, char * key, char * vid, double * scores, int32_t * cand, int32_t * pick,
                      struct vb_store_sample * s) {
    vb_store_sample_init(s);
    int32_t v = i / d->q_per_video;
    snprintf(vid, 32, "%d", 1000 + v);
    fx_key(d, i, key);
    s->key = key;
    s->video_id = vid;
    int32_t c = (int32_t)(fx_hash(key, 7) % (uint64_t)d->n_cat);
    s->category = d->cats[c];
    s->group = d->groups[c];
    s->answer = (int32_t)(fx_hash(key, 11) % (uint64_t)d->n_options);
    s->prediction = correct ? s->answer : (s->answer + 1) % d->n_options;
    s->n_options = d->n_options;
    for (int32_t j = 0; j < d->n_options; j++)
        scores[j] = j == s->prediction ? 2.5 : -1.0 - 0.25 * j;
    s->option_scores = scores;
    int64_t vlen = 300;
    s->vlen = vlen;
    s->fps = 30;
    s->frame_lo = 0;
    s->frame_hi = vlen;
    for (int32_t j = 0; j < T; j++)
        cand[j] = (int32_t)((2 * j + 1) * vlen / (2 * T));
    s->n_candidates = T;
    s->candidates = cand;
    uint64_t h = fx_hash(key, 13);
    for (int32_t j = 0; j < k; j++)
        pick[j] = cand[(j * T) / k + (int32_t)((h >> (4 * j)) % (uint64_t)(T / k))];
    s->n_picked = k;
    s->picked = pick;
    /* stage times in us: decode ~ T, vit ~ T, select heavy for sevila, t5 fixed; jitter from the key hash */
    double jit = 1.0 + 0.2 * (double)(h % 1000) / 1000.0;
    int    sev = !strcmp(method, "sevila"), vl = !strcmp(method, "vlap");
    s->t_us[VB_STAGE_DECODE] = (int64_t)(lat_scale * jit * 2000 * T);
    s->t_us[VB_STAGE_PREPROCESS] = (int64_t)(lat_scale * jit * 300 * T);
    s->t_us[VB_STAGE_VIT] = (int64_t)(lat_scale * jit * 25000 * T);
    s->t_us[VB_STAGE_SELECT] = (int64_t)(lat_scale * jit * (sev ? 60000 * T : vl ? 500 : 0));
    s->t_us[VB_STAGE_QFORMER] = (int64_t)(lat_scale * jit * 4000 * k);
    s->t_us[VB_STAGE_T5_ENC] = (int64_t)(lat_scale * jit * (30000 + 8000 * k));
    s->t_us[VB_STAGE_T5_DEC] = (int64_t)(lat_scale * jit * 12000);
    int64_t tot = 1000;
    for (int j = 0; j < VB_STAGE_TOTAL; j++)
        tot += s->t_us[j];
    s->t_us[VB_STAGE_TOTAL] = tot;
    s->step0_token = 10231;
}

/* Target accuracy in percent by (dataset, method, k); deterministic correctness from a hash. */
static int fx_correct(const char * method, int32_t k, const char * key, double target) {
    char buf[96];
    snprintf(buf, sizeof buf, "%s/%d/%s", method, (int)k, key);
    return (double)(fx_hash(buf, 0) % 10000) / 100.0 < target;
}

static int fx_run(struct vb_store * st, const struct fx_ds * d, const char * method, int32_t k, int32_t T,
                  double target, int64_t * run_id) {
    struct vb_run_info in;
    fx_info(&in, d->name, method, k, T, 42);
    int32_t n = d->n_videos * d->q_per_video;
    in.n_expected = n;
    int rc = vb_store_begin_run(st, &in, run_id, NULL);
    for (int32_t i = 0; i < n && rc == VB_OK; i++) {
        char                   key[48], vid[32];
        double                 sc[5];
        int32_t                cand[64], pick[64];
        struct vb_store_sample s;
        char                   kk[48];
        fx_key(d, i, kk);
        fx_sample(d, i, fx_correct(method, k, kk, target), 1.0, method, k, T, key, vid, sc, cand, pick, &s);
        rc = vb_store_put_sample(st, *run_id, &s);
    }
    if (rc == VB_OK) rc = vb_store_finish_run(st, *run_id, 1.5 * n, 0);
    return rc;
}

static int fx_write_grid(const char * path) {
    struct vb_store * st;
    int               rc = vb_store_open(&st, path, 0);
    if (rc != VB_OK) return rc;
    int64_t id;
    struct {
        const struct fx_ds * d;
        const char *         m;
        int32_t              k, T;
        double               acc;
    } cells[] = {
        {&FX_NEXTQA, "uniform", 1, 1, 55}, {&FX_NEXTQA, "uniform", 2, 2, 59}, {&FX_NEXTQA, "uniform", 4, 4, 62},
        {&FX_NEXTQA, "sevila", 4, 32, 64}, {&FX_NEXTQA, "vlap", 2, 32, 63},   {&FX_NEXTQA, "vlap", 4, 32, 66},
        {&FX_STAR, "uniform", 4, 4, 42},   {&FX_STAR, "sevila", 4, 32, 45},   {&FX_STAR, "vlap", 4, 32, 48},
        {&FX_VLEP, "uniform", 4, 4, 64},   {&FX_VLEP, "vlap", 4, 32, 69},     {&FX_HOW2QA, "uniform", 4, 4, 70},
        {&FX_HOW2QA, "vlap", 4, 8, 74},
    };
    for (size_t c = 0; c < sizeof cells / sizeof cells[0] && rc == VB_OK; c++)
        rc = fx_run(st, cells[c].d, cells[c].m, cells[c].k, cells[c].T, cells[c].acc, &id);
    int rc2 = vb_store_close(st);
    return rc != VB_OK ? rc : rc2;
}

/* cmp.db: base / same / drop / slow on the same NExT-QA samples (see top of file). */
static int fx_write_cmp(const char * path) {
    struct vb_store * st;
    int               rc = vb_store_open(&st, path, 0);
    if (rc != VB_OK) return rc;
    const struct fx_ds * d = &FX_NEXTQA;
    int32_t              n = d->n_videos * d->q_per_video;
    for (int variant = 1; variant <= 5 && rc == VB_OK; variant++) {
        struct vb_run_info in;
        fx_info(&in, d->name, "uniform", 4, 4, (uint64_t)variant);
        in.n_expected = n;
        int64_t id;
        rc = vb_store_begin_run(st, &in, &id, NULL);
        int32_t flipped_down = 0, flipped_up = 0;
        for (int32_t i = 0; i < n && rc == VB_OK; i++) {
            char                   key[48], vid[32], kk[48];
            double                 sc[5];
            int32_t                cand[64], pick[64];
            struct vb_store_sample s;
            snprintf(kk, sizeof kk, "%d_%d", 1000 + i / d->q_per_video, i % d->q_per_video);
            int c = fx_correct("uniform", 4, kk, 62);
            if (variant == 5 && c && flipped_down < 3) {
                c = 0;
                flipped_down++;
            }
            if (variant == 3) {
                if (c && flipped_down < 40) {
                    c = 0;
                    flipped_down++;
                } else if (!c && flipped_up < 2) {
                    c = 1;
                    flipped_up++;
                }
            }
            double scale = variant == 2 ? 1.02 : variant == 4 ? 1.5 : 1.0;
            fx_sample(d, i, c, scale, "uniform", 4, 4, key, vid, sc, cand, pick, &s);
            rc = vb_store_put_sample(st, id, &s);
        }
        if (rc == VB_OK) rc = vb_store_finish_run(st, id, 300.0, 0);
    }
    int rc2 = vb_store_close(st);
    return rc != VB_OK ? rc : rc2;
}

#endif
