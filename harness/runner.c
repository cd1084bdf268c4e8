/* runner.c — the main loop of `vlapbench run` (see runner.h and docs/runner.md).
**
** CHARGING RULE (what the stored per-sample stage times mean).  Work is shared inside a run, but every stored time is
** the COLD cost of the cell, i.e. what answering that question with that method and k would cost alone:
**   decode      the video open (packet index) time + the sum of the per-frame decode times of the cell's distinct
**               frames.  The union of the frames all pending
**               cells need is decoded once, frame by frame in ascending order; each frame's time is the time to
**               advance the decoder to it from the previous target (seeks included).
**   preprocess  sum of the per-frame resize+normalise times of the cell's frames (one per slot).
**   vit         the method's own ViT time (cache look-ups, and any frame it had to compute) + the recorded compute
**               time of every frame slot it took from the ViT cache.  The runner computes the missing distinct
**               frames of a cell right before it, in batches of up to VB_RUNNER_VIT_BATCH (as the method would
**               batch them alone), and keeps the batch time / batch size with each cache entry; a frame shared by
**               several cells is computed once and charged to each of them.  The features do not depend on the
**               batch: every engine kernel's output row depends only on its own input row (the engine's own GEMM,
**               per-frame attention; tests/test_vision.c, test_wmat.c), so resumed / sharded runs equal one-piece
**               runs bit for bit whichever frames were batched together.
**   select      SeViLA: the localizer runs once per question, bundle and T; every k is charged its measured time
**               (the first k's t_select_us) in addition to its own top-k time.  VLAP: its own Frame-Prompter time.
**   qformer, t5_enc, t5_dec   measured (never shared).
**   total       the method's end-to-end time + the charges added above (so total >= the sum of the stages).
** Each cell's session wall time is the actual elapsed time of the loop iterations (samples) the cell took part in,
** whole iterations, i.e. including the work of the other cells of the sample (shared by the cells of the grid: do not
** add the wall times of cells of one grid_id).  Since every charged piece was really computed once in those
** iterations, the sum of a cell's totals stays below its wall time.
*/
#include "harness/runner.h"

#include "datasets/dataset.h"
#include "datasets/sampling.h"
#include "datasets/video.h"
#include "engine/blas.h"
#include "engine/common.h"
#include "engine/vit.h"
#include "harness/progress.h"
#include "harness/store.h"
#include "harness/vitcache.h"
#include "vlap/bundle.h"
#include "vlap/method.h"
#include "vlap/prompts.h"

/* Frames per ViT call when the runner fills the cache (8: measured 8-10 % faster per frame than 1 at ViT-g size,
** bench-engine --frames 1 vs 8; the context for 8 ViT-g frames is ~120 MB). */
#define VB_RUNNER_VIT_BATCH 8

#include <cjson/cJSON.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef VB_GIT_COMMIT
#define VB_GIT_COMMIT "unknown"
#endif
#ifndef VB_GIT_DIRTY
#define VB_GIT_DIRTY 0
#endif
#ifndef VB_BUILD_FLAGS
#define VB_BUILD_FLAGS ""
#endif

#define MAX_CELLS (VB_RUN_MAX_METHODS * VB_RUN_MAX_FRAMES)

struct bslot {
    char *              dir;  /* as configured (owned) */
    char *              real; /* realpath (owned) */
    struct vb_bundle *  b;
    char *              weights_json; /* {"weights": sha, "config": sha, "t5_tokenizer": sha[, "bert_vocab": sha]} */
    int32_t             vgroup;       /* vision group: bundles with identical ViT weights share one */
    struct vb_vit_ctx * vit;          /* one-frame ViT context (the group's first bundle owns it) */
};

struct cell {
    int32_t                        mi; /* index into c->methods */
    enum vb_method_kind            kind;
    int32_t                        k, T;
    struct bslot *                 bs;
    struct vb_method *             m;
    int64_t                        run_id;
    int32_t                        resumed, began;
    struct vb_keyset               done;
    struct vb_runner_cell_report * rep;
    int64_t                        wall_us; /* elapsed time of the loop iterations (samples) this cell took part in */
};

struct runner {
    const struct vb_run_config * c;
    struct vb_dataset            ds;
    enum vb_dataset_kind         dk;
    enum vb_sampling_policy      policy;
    enum vb_video_interp         interp;
    int32_t                      image_size;
    struct bslot                 bs[MAX_CELLS];
    int32_t                      n_bs;
    struct cell                  cells[MAX_CELLS];
    int32_t                      n_cells;
    struct vb_store *            st;
    struct vb_vitcache *         cache;
    struct vb_runner_report *    rep;
    int64_t                      n_put;          /* samples handed to the store (kill_after hook) */
    int32_t                      clear_per_cell; /* vit_cache_mb == 0: no sharing, the cache only serves one cell */
    float * feat;         /* (VB_RUNNER_VIT_BATCH, n_tok, d_vis) of the largest ViT: a batch's body output */
    int32_t weight_dtype; /* enum vb_dtype of c->weights */
    int32_t tmax;         /* largest T of the cells */
};

int32_t vb_runner_shard_of(const char * key, int32_t n) {
    if (n <= 1) return 0;
    return (int32_t)(vb_fnv1a64(key) % (uint64_t)n);
}

uint64_t vb_runner_question_seed(uint64_t seed, const char * key) {
    uint64_t z = seed ^ vb_fnv1a64(key);
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* ---------------------------------------------------------------- set-up helpers */

static int cmp_str(const void * a, const void * b) {
    return strcmp(*(char * const *)a, *(char * const *)b);
}
static int cmp_i64(const void * a, const void * b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Sample keys listed in path (one per line, blank lines and surrounding spaces ignored), sorted. */
static int read_key_file(const char * path, char *** keys, int32_t * n) {
    char * text;
    int    rc = vb_read_file(path, &text, NULL);
    if (rc != VB_OK) return rc;
    int32_t cap = 64, cnt = 0;
    char ** k = vb_malloc(sizeof(char *) * (size_t)cap);
    for (char *save = NULL, *line = strtok_r(text, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
        while (*line == ' ' || *line == '\t')
            line++;
        size_t L = strlen(line);
        while (L > 0 && (line[L - 1] == ' ' || line[L - 1] == '\t'))
            line[--L] = 0;
        if (!L) continue;
        if (cnt == cap) k = vb_realloc(k, sizeof(char *) * (size_t)(cap *= 2));
        k[cnt++] = vb_strdup(line);
    }
    free(text);
    qsort(k, (size_t)cnt, sizeof(char *), cmp_str);
    *keys = k;
    *n = cnt;
    return VB_OK;
}

/* sha256 of a weight file through a small persistent cache, so that a resume does not re-read gigabytes: the file
** VB_SHA256_CACHE (default $HOME/.cache/vlapbench/sha256.tsv; "off" disables) holds lines
** "realpath \t size \t mtime_ns \t inode \t sha256"; an entry is used only when all four match the file. */
static int cached_sha256(const char * path, char out[65]) {
    const char * env = getenv("VB_SHA256_CACHE");
    char         cpath[4096];
    if (env && !strcmp(env, "off")) return vb_sha256_file(path, out);
    if (env && *env)
        snprintf(cpath, sizeof cpath, "%s", env);
    else if (getenv("HOME"))
        snprintf(cpath, sizeof cpath, "%s/.cache/vlapbench/sha256.tsv", getenv("HOME"));
    else
        return vb_sha256_file(path, out);
    struct stat sb;
    char *      real = realpath(path, NULL);
    if (!real || stat(real, &sb) != 0) {
        free(real);
        return vb_sha256_file(path, out);
    }
    char id[4400];
    snprintf(id, sizeof id, "%s\t%lld\t%lld\t%llu\t", real, (long long)sb.st_size,
             (long long)sb.st_mtim.tv_sec * 1000000000LL + sb.st_mtim.tv_nsec, (unsigned long long)sb.st_ino);
    free(real);
    size_t idn = strlen(id);
    FILE * f = fopen(cpath, "r");
    if (f) {
        char line[4600];
        int  hit = 0;
        while (!hit && fgets(line, sizeof line, f)) {
            size_t L = strlen(line);
            if (L == idn + 65 && !strncmp(line, id, idn) && line[L - 1] == '\n') {
                memcpy(out, line + idn, 64);
                out[64] = 0;
                hit = 1;
            }
        }
        fclose(f);
        if (hit) return VB_OK;
    }
    int rc = vb_sha256_file(path, out);
    if (rc != VB_OK) return rc;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", cpath);
    for (char * p = dir + 1; *p; p++) /* mkdir -p of the cache's directory (failures: no caching) */
        if (*p == '/') {
            *p = 0;
            mkdir(dir, 0755);
            *p = '/';
        }
    f = fopen(cpath, "a");
    if (f) {
        fprintf(f, "%s%s\n", id, out);
        fclose(f);
    }
    return VB_OK;
}

static int sha_or_null(const char * path, char out[65]) {
    out[0] = 0;
    if (!path) return VB_OK;
    return vb_sha256_file(path, out);
}

/* Provenance hashes of a bundle: every weight file (combined when sharded), config.json, tokenizer files. */
static int bundle_hashes(struct bslot * s) {
    const struct vb_bundle * b = s->b;
    int32_t                  nf = vb_weights_n_files(b->w);
    char                     wsha[65];
    size_t                   cap = (size_t)nf * 200 + 1, len = 0;
    char *                   cat = vb_malloc(cap);
    cat[0] = 0;
    int rc = VB_OK;
    for (int32_t i = 0; i < nf && rc == VB_OK; i++) {
        const char * p = vb_weights_file_path(b->w, i);
        rc = cached_sha256(p, wsha);
        if (rc == VB_OK) {
            const char * base = strrchr(p, '/');
            len += (size_t)snprintf(cat + len, cap - len, "%s  %.120s\n", wsha, base ? base + 1 : p);
        }
    }
    if (rc == VB_OK && nf > 1) vb_sha256_buf(cat, len, wsha);
    free(cat);
    if (rc != VB_OK) return rc;
    char   cfg[65], tok[65], bert[65];
    size_t n = strlen(b->dir) + 16;
    char * cpath = vb_malloc(n);
    snprintf(cpath, n, "%s/config.json", b->dir);
    rc = vb_sha256_file(cpath, cfg);
    free(cpath);
    if (rc == VB_OK) rc = sha_or_null(b->t5_tokenizer_path, tok);
    if (rc == VB_OK) rc = sha_or_null(b->berttok ? b->bert_vocab_path : NULL, bert);
    if (rc != VB_OK) return rc;
    cJSON * o = cJSON_CreateObject();
    if (bert[0]) cJSON_AddStringToObject(o, "bert_vocab", bert);
    cJSON_AddStringToObject(o, "config", cfg);
    cJSON_AddStringToObject(o, "t5_tokenizer", tok);
    cJSON_AddStringToObject(o, "weights", wsha);
    s->weights_json = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return VB_OK;
}

/* The bundle that owns the ViT blocks of b (itself unless they were borrowed, vlap/bundle.h). */
static const struct vb_bundle * vit_owner(const struct vb_bundle * b) {
    return b->vit_lender ? b->vit_lender : b;
}

/* 1 if the ViT body of a and b computes the same function.  Every bundle is opened sharing with the earlier ones
** (get_bundle), and vb_bundle_open borrows the ViT blocks exactly when the vision configs (post-LN eps aside) and
** the vision_model.* tensors (post_layernorm aside) are byte-identical, so equal owners of the blocks are the whole
** test: a second byte comparison here could only repeat the bundle's. */
static int same_vision(const struct vb_bundle * a, const struct vb_bundle * b) {
    return vit_owner(a) == vit_owner(b);
}

static struct bslot * get_bundle(struct runner * R, const char * dir) {
    char * real = realpath(dir, NULL);
    if (!real) real = vb_strdup(dir);
    for (int32_t i = 0; i < R->n_bs; i++)
        if (!strcmp(R->bs[i].real, real)) {
            free(real);
            return &R->bs[i];
        }
    struct bslot * s = &R->bs[R->n_bs];
    memset(s, 0, sizeof *s);
    /* share frozen parts (ViT, T5) with the bundles opened before: they are closed after this one */
    struct vb_bundle * earlier[MAX_CELLS];
    for (int32_t i = 0; i < R->n_bs; i++)
        earlier[i] = R->bs[i].b;
    struct vb_bundle_opts bo = {.t5_tokenizer = getenv("VB_T5_TOKENIZER"),
                                .bert_vocab = getenv("VB_BERT_VOCAB"),
                                .parts = 0,
                                .weight_dtype = R->weight_dtype,
                                .share = earlier,
                                .n_share = R->n_bs};
    int                   rc = vb_bundle_open(&s->b, dir, &bo);
    if (rc == VB_OK && !R->c->quiet && (s->b->vit_lender || s->b->t5_lender))
        fprintf(stderr, "run: bundle %s: %s%s%s shared with %s (%.2f GiB not loaded again)\n", dir,
                s->b->vit_lender ? "ViT" : "", s->b->vit_lender && s->b->t5_lender ? " and " : "",
                s->b->t5_lender ? "T5" : "", (s->b->vit_lender ? s->b->vit_lender : s->b->t5_lender)->dir,
                (double)s->b->shared_bytes / (1 << 30));
    if (rc == VB_OK) {
        s->dir = vb_strdup(dir);
        s->real = real;
        rc = bundle_hashes(s);
        if (rc != VB_OK) vb_fail_prefix(rc, "%s", dir);
    }
    if (rc != VB_OK) {
        vb_bundle_close(s->b);
        free(s->dir);
        free(s->weights_json);
        free(real);
        memset(s, 0, sizeof *s);
        return NULL;
    }
    s->vgroup = R->n_bs;
    for (int32_t i = 0; i < R->n_bs; i++)
        if (same_vision(R->bs[i].b, s->b)) {
            s->vgroup = R->bs[i].vgroup;
            break;
        }
    if (s->vgroup == R->n_bs && (rc = vb_vit_ctx_new(&s->vit, s->b->vit, VB_RUNNER_VIT_BATCH)) != VB_OK) {
        vb_bundle_close(s->b);
        free(s->dir);
        free(s->weights_json);
        free(s->real);
        memset(s, 0, sizeof *s);
        return NULL;
    }
    R->n_bs++;
    return s;
}

/* ---------------------------------------------------------------- ViT cache callbacks */

struct vit_ctx {
    struct runner * R;
    int32_t         group;
    uint64_t        video;
    int64_t         n;           /* floats per frame */
    int64_t         hit_cost_us; /* sum of recorded costs of the hits of this call */
    int32_t         n_put;
    int64_t         put_frames[VB_METHOD_MAX_CAND];
};

static int vit_get(void * ud, int64_t frame, float * out) {
    struct vit_ctx *       v = ud;
    struct vb_vitcache_key k = {v->group, v->video, frame};
    int64_t                cost = 0;
    if (!vb_vitcache_get(v->R->cache, &k, out, v->n, &cost)) return 0;
    v->hit_cost_us += cost;
    return 1;
}

static void vit_put(void * ud, int64_t frame, const float * feats) {
    struct vit_ctx *       v = ud;
    struct vb_vitcache_key k = {v->group, v->video, frame};
    /* cost unknown until the batch is done: set after vb_method_answer returns */
    if (vb_vitcache_put(v->R->cache, &k, feats, v->n, 0) && v->n_put < VB_METHOD_MAX_CAND)
        v->put_frames[v->n_put++] = frame;
}

/* ---------------------------------------------------------------- per-sample work */

struct frame_slot {
    int64_t idx;
    int64_t t_decode_us, t_pre_us;
    int     ok;
    char    err[256];
};

struct cell_plan {
    int     pending;
    int32_t n;                       /* T */
    int64_t idx[VB_METHOD_MAX_CAND]; /* (n) frame indices */
    char    err[512];                /* non-empty: error row */
};

struct loc_memo { /* SeViLA localizer scores of this question, per (bundle, T) */
    const struct bslot * bs;
    int32_t              T;
    int64_t              cost_us;
    float                scores[VB_METHOD_MAX_CAND];
};

static int32_t find_frame(const struct frame_slot * f, int32_t n, int64_t idx) {
    int32_t lo = 0, hi = n - 1;
    while (lo <= hi) {
        int32_t mid = (lo + hi) / 2;
        if (f[mid].idx == idx) return mid;
        if (f[mid].idx < idx)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

static int put_row(struct runner * R, struct cell * cl, struct vb_store_sample * row) {
    int rc = vb_store_put_sample(R->st, cl->run_id, row);
    if (rc != VB_OK) return rc;
    if (row->error)
        cl->rep->n_error++, R->rep->n_rows_error++;
    else
        cl->rep->n_ok++, R->rep->n_rows_ok++;
    R->n_put++;
    if (R->c->kill_after > 0 && R->n_put >= R->c->kill_after) {
        fprintf(stderr, "run: --kill-after %d reached, SIGKILL\n", R->c->kill_after);
        fflush(stderr);
        raise(SIGKILL);
    }
    return VB_OK;
}

static void row_base(struct vb_store_sample * row, const struct vb_sample * s, int32_t shard) {
    vb_store_sample_init(row);
    row->key = s->key;
    row->video_id = s->video_id;
    row->category = s->category ? s->category : s->dataset;
    row->group = s->group ? s->group : row->category;
    row->answer = s->answer;
    row->n_options = s->n_options;
    row->shard = shard;
}

static int error_row(struct runner * R, struct cell * cl, const struct vb_sample * s, const char * msg, int64_t lo,
                     int64_t hi, double fps, int64_t vlen) {
    struct vb_store_sample row;
    row_base(&row, s, R->c->shard_n > 0 ? R->c->shard_i : 0);
    row.error = msg && *msg ? msg : "error";
    row.frame_lo = lo, row.frame_hi = hi, row.fps = fps, row.vlen = vlen;
    return put_row(R, cl, &row);
}

/* Process one sample for its pending cells.  Returns VB_OK (per-sample failures become error rows) or a store
** error (fatal). */
static int process_sample(struct runner * R, const struct vb_sample * s, const int * pending, int timed) {
    const struct vb_run_config * c = R->c;
    struct cell_plan *           plan = vb_calloc((size_t)R->n_cells, sizeof *plan);
    struct frame_slot *          fr = NULL;
    float *                      px = NULL, *cellpx = NULL, *vpx = NULL;
    int32_t *                    miss = NULL;
    uint8_t *                    rgb = NULL;
    struct loc_memo *            memo = vb_calloc((size_t)R->n_cells, sizeof *memo);
    int32_t                      n_memo = 0;
    struct vb_video              vid;
    memset(&vid, 0, sizeof vid);
    int           rc = VB_OK, vrc = VB_OK;
    char          verr[512] = "";
    int64_t       f0 = -1, f1 = -1, t_open_us = 0;
    const int32_t H = R->image_size;
    const size_t  fpx = (size_t)3 * (size_t)H * (size_t)H;

    struct vb_prompt_text text;
    memset(&text, 0, sizeof text);
    int trc = vb_prompt_text_from_sample(&text, s, R->dk == VB_DS_NEXTQA); /* CSV: SeViLA's unification */
    if (trc != VB_OK)
        snprintf(verr, sizeof verr, "prompt: %s", vb_errmsg());
    else if (!s->video_path)
        snprintf(verr, sizeof verr, "no video path (give the videos root: --videos)");
    else {
        struct vb_video_opts vo;
        vb_video_opts_default(&vo);
        vo.out_w = vo.out_h = H;
        vo.interp = R->interp;
        int64_t t0 = vb_time_us();
        vrc = vb_video_open(&vid, s->video_path, &vo);
        t_open_us = vb_time_us() - t0;
        if (vrc == VB_OK) vrc = vb_video_segment_frames(&vid, s->start_s, s->end_s, &f0, &f1);
        if (vrc != VB_OK) snprintf(verr, sizeof verr, "%s", vb_errmsg());
    }
    double  fps = vid.fps > 0 ? vid.fps : -1;
    int64_t vlen = vid.priv ? vid.n_frames : -1;
    if (verr[0]) {
        for (int32_t i = 0; i < R->n_cells && rc == VB_OK; i++)
            if (pending[i]) rc = error_row(R, &R->cells[i], s, verr, f0, f1, fps, vlen);
        goto out;
    }
    /* frame lists of the pending cells and their union */
    int32_t   n_union = 0, cap = 0;
    int64_t * all = NULL;
    for (int32_t i = 0; i < R->n_cells; i++) {
        if (!pending[i]) continue;
        struct cell_plan * p = &plan[i];
        p->pending = 1;
        p->n = R->cells[i].T;
        int32_t got = vb_sampling_indices(R->policy, f0, f1, vid.n_frames, p->n, p->idx);
        if (got < 0)
            snprintf(p->err, sizeof p->err, "%s: sampling: %s", s->video_path, vb_errmsg());
        else if (got < p->n)
            snprintf(p->err, sizeof p->err, "%s: %d frame(s) in [%lld, %lld), fewer than the %d the method needs",
                     s->video_path, got, (long long)f0, (long long)f1, p->n);
        if (p->err[0]) continue;
        if (n_union + p->n > cap) all = vb_realloc(all, sizeof(int64_t) * (size_t)(cap = (n_union + p->n) * 2));
        memcpy(all + n_union, p->idx, sizeof(int64_t) * (size_t)p->n);
        n_union += p->n;
    }
    if (n_union > 0) qsort(all, (size_t)n_union, sizeof(int64_t), cmp_i64);
    int32_t nu = 0;
    for (int32_t i = 0; i < n_union; i++)
        if (nu == 0 || all[i] != all[nu - 1]) all[nu++] = all[i];
    /* decode the union once, frame by frame in ascending order (per-frame times), then normalise */
    fr = vb_calloc((size_t)(nu > 0 ? nu : 1), sizeof *fr);
    px = vb_malloc(sizeof(float) * fpx * (size_t)(nu > 0 ? nu : 1));
    rgb = vb_malloc((size_t)H * (size_t)H * 3);
    for (int32_t i = 0; i < nu; i++) {
        fr[i].idx = all[i];
        int64_t t0 = vb_time_us();
        int     drc = vb_video_read_frames(&vid, &all[i], 1, rgb, NULL, NULL);
        int64_t t1 = vb_time_us();
        fr[i].t_decode_us = t1 - t0;
        if (drc != VB_OK) {
            snprintf(fr[i].err, sizeof fr[i].err, "%s", vb_errmsg());
            continue;
        }
        vb_video_normalize_clip(rgb, H, H, px + (size_t)i * fpx);
        fr[i].t_pre_us = vb_time_us() - t1;
        fr[i].ok = 1;
        R->rep->n_frames_decoded++;
    }
    free(all);
    cellpx = vb_malloc(sizeof(float) * fpx * (size_t)R->tmax);  /* (T, 3, H, W) of one cell */
    vpx = vb_malloc(sizeof(float) * fpx * VB_RUNNER_VIT_BATCH); /* (batch, 3, H, W): the missing frames of a cell */
    miss = vb_malloc(sizeof(int32_t) * (size_t)R->tmax);        /* slots of a cell whose frame is not cached */
    uint64_t vkey = vb_fnv1a64(s->video_path);
    for (int32_t ci = 0; ci < R->n_cells && rc == VB_OK; ci++) {
        struct cell_plan * p = &plan[ci];
        struct cell *      cl = &R->cells[ci];
        if (!p->pending) continue;
        int64_t dec_us = t_open_us, pre_us = 0; /* every cell would open (index) the video */
        for (int32_t j = 0; j < p->n && !p->err[0]; j++) {
            int32_t u = find_frame(fr, nu, p->idx[j]);
            VB_ASSERT(u >= 0);
            if (!fr[u].ok) {
                snprintf(p->err, sizeof p->err, "%s", fr[u].err);
                break;
            }
            memcpy(cellpx + (size_t)j * fpx, px + (size_t)u * fpx, sizeof(float) * fpx);
            pre_us += fr[u].t_pre_us;
            if (j == 0 || p->idx[j] != p->idx[j - 1]) dec_us += fr[u].t_decode_us; /* distinct frames (sorted) */
        }
        if (p->err[0]) {
            rc = error_row(R, cl, s, p->err, f0, f1, fps, vlen);
            continue;
        }
        struct vit_ctx vc = {.R = R,
                             .group = cl->bs->vgroup,
                             .video = vkey,
                             .n = (int64_t)cl->bs->b->cfg.vision.n_tokens * cl->bs->b->cfg.vision.hidden};
        /* ViT features of the cell's frames: the missing distinct frames computed in batches of up to
        ** VB_RUNNER_VIT_BATCH, each cached with the batch time / batch size as its cost */
        if (R->clear_per_cell) vb_vitcache_clear(R->cache);
        struct vb_vit_ctx * vctx = R->bs[cl->bs->vgroup].vit;
        int                 vrc2 = VB_OK;
        int32_t             n_miss = 0;
        for (int32_t j = 0; j < p->n; j++) {
            struct vb_vitcache_key key = {vc.group, vkey, p->idx[j]};
            int                    dup = 0;
            for (int32_t q = 0; q < n_miss && !dup; q++)
                dup = p->idx[miss[q]] == p->idx[j];
            if (!dup && !vb_vitcache_has(R->cache, &key)) miss[n_miss++] = j;
        }
        for (int32_t q0 = 0; q0 < n_miss && vrc2 == VB_OK; q0 += VB_RUNNER_VIT_BATCH) {
            int32_t nb = VB_MIN(VB_RUNNER_VIT_BATCH, n_miss - q0);
            for (int32_t q = 0; q < nb; q++)
                memcpy(vpx + (size_t)q * fpx, cellpx + (size_t)miss[q0 + q] * fpx, sizeof(float) * fpx);
            int64_t t0 = vb_time_us();
            vrc2 = vb_vit_run(vctx, vpx, nb, NULL, NULL, R->feat, NULL);
            int64_t per = (vb_time_us() - t0) / nb;
            for (int32_t q = 0; q < nb && vrc2 == VB_OK; q++) {
                struct vb_vitcache_key key = {vc.group, vkey, p->idx[miss[q0 + q]]};
                vb_vitcache_put(R->cache, &key, R->feat + (size_t)q * (size_t)vc.n, vc.n, per);
                R->rep->n_vit_computed++;
            }
        }
        if (vrc2 != VB_OK) {
            char msg[512];
            snprintf(msg, sizeof msg, "ViT: %s", vb_errmsg());
            rc = error_row(R, cl, s, msg, f0, f1, fps, vlen);
            continue;
        }
        struct loc_memo * lm = NULL;
        if (cl->kind == VB_METHOD_SEVILA)
            for (int32_t j = 0; j < n_memo; j++)
                if (memo[j].bs == cl->bs && memo[j].T == cl->T) lm = &memo[j];
        uint64_t                qseed = vb_runner_question_seed(c->seed, s->key);
        struct vb_method_input  in = {.text = &text,
                                      .pixels = cellpx,
                                      .n_pixel_frames = p->n,
                                      .frame_ids = p->idx,
                                      .vit_get = vit_get,
                                      .vit_put = vit_put,
                                      .vit_ud = &vc,
                                      .loc_scores = lm ? lm->scores : NULL,
                                      .seed = qseed,
                                      .t_decode_us = dec_us,
                                      .t_preprocess_us = pre_us};
        struct vb_method_result r;
        int                     mrc = vb_method_answer(cl->m, &in, &r);
        if (mrc != VB_OK) {
            char msg[512];
            snprintf(msg, sizeof msg, "%s", vb_errmsg());
            rc = error_row(R, cl, s, msg, f0, f1, fps, vlen);
            continue;
        }
        /* the per-frame ViT cost of the frames this call computed, for later cold charging */
        if (r.n_vit_run > 0)
            for (int32_t j = 0; j < vc.n_put; j++) {
                struct vb_vitcache_key k = {vc.group, vc.video, vc.put_frames[j]};
                vb_vitcache_set_cost(R->cache, &k, r.t_vit_us / r.n_vit_run);
            }
        int64_t sel_charge = 0;
        if (cl->kind == VB_METHOD_SEVILA) {
            if (lm && r.loc_scores_reused)
                sel_charge = lm->cost_us;
            else if (!lm) {
                lm = &memo[n_memo++];
                lm->bs = cl->bs;
                lm->T = cl->T;
                lm->cost_us = r.t_select_us;
                memcpy(lm->scores, r.cand_scores, sizeof(float) * (size_t)cl->T);
            }
        }
        int64_t                vit_charge = vc.hit_cost_us;
        struct vb_store_sample row;
        row_base(&row, s, c->shard_n > 0 ? c->shard_i : 0);
        row.prediction = r.prediction;
        double scores[VB_PROMPT_N_LETTERS];
        for (int32_t j = 0; j < r.n_scores; j++)
            scores[j] = r.scores[j];
        row.option_scores = scores;
        row.n_options = r.n_scores;
        int32_t cand[VB_METHOD_MAX_CAND], pick[VB_METHOD_MAX_PICK];
        for (int32_t j = 0; j < r.n_candidates; j++)
            cand[j] = (int32_t)r.cand_frames[j];
        for (int32_t j = 0; j < r.n_picked; j++)
            pick[j] = (int32_t)r.picked_frames[j];
        row.n_candidates = r.n_candidates, row.candidates = cand;
        row.n_picked = r.n_picked, row.picked = pick;
        row.frame_lo = f0, row.frame_hi = f1, row.fps = fps, row.vlen = vlen;
        row.step0_token = r.step0_id;
        if (timed) {
            row.t_us[VB_STAGE_DECODE] = r.t_decode_us;
            row.t_us[VB_STAGE_PREPROCESS] = r.t_preprocess_us;
            row.t_us[VB_STAGE_VIT] = r.t_vit_us + vit_charge;
            row.t_us[VB_STAGE_SELECT] = r.t_select_us + sel_charge;
            row.t_us[VB_STAGE_QFORMER] = r.t_qformer_us;
            row.t_us[VB_STAGE_T5_ENC] = r.t_t5_enc_us;
            row.t_us[VB_STAGE_T5_DEC] = r.t_t5_dec_us;
            row.t_us[VB_STAGE_TOTAL] = r.t_total_us + vit_charge + sel_charge;
        }
        char extra[512];
        snprintf(extra, sizeof extra,
                 "{\"seed\":\"%llu\",\"n_vit_run\":%d,\"n_vit_cached\":%d,\"vit_charged_us\":%lld,"
                 "\"loc_reused\":%d,\"select_charged_us\":%lld,\"warmup\":%s,\"step0_is_eos\":%d}",
                 (unsigned long long)qseed, r.n_vit_run, r.n_vit_cached, (long long)vit_charge, r.loc_scores_reused,
                 (long long)sel_charge, timed ? "false" : "true", r.step0_is_eos);
        row.extra_json = extra;
        rc = put_row(R, cl, &row);
    }
out:
    vb_video_close(&vid);
    vb_prompt_text_free(&text);
    free(plan);
    free(fr);
    free(px);
    free(cellpx);
    free(vpx);
    free(miss);
    free(rgb);
    free(memo);
    return rc;
}

/* ---------------------------------------------------------------- the run */

/* The identity of a cell beyond the store's own fields (dataset, method, k, T, sampling, selection, decode mode,
** seed, threads, weights and annotation sha256, commit): what else changes a per-sample result.  Paths, the rest of
** the grid, --limit / --samples and warm-up are deliberately not part of it: they choose WHICH samples run and where
** the files are, not what a sample's result is, so a grown grid, a larger --limit, or shards run under other paths
** resume / merge into the same cells.  The whole invocation is kept per session (provenance). */
static char * identity_config(const struct vb_run_config * c, int32_t image_size) {
    cJSON * o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "interp", c->interp);
    char sha[65];
    if (c->map && vb_sha256_file(c->map, sha) == VB_OK) cJSON_AddStringToObject(o, "map_sha256", sha);
    cJSON_AddNumberToObject(o, "video_size", image_size);
    /* half-precision weights change the numbers slightly: part of the identity.  f32 adds nothing, so f32 cells keep
    ** the identity they had before the option existed (databases of older builds resume). */
    if (strcmp(c->weights, "f32")) cJSON_AddStringToObject(o, "weights_dtype", c->weights);
    char * out = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return out;
}

static void make_grid_id(char * buf, size_t n, const char * host) {
    time_t    t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    char ts[32];
    strftime(ts, sizeof ts, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(buf, n, "%s-%s-%ld", ts, host, (long)getpid());
}

int vb_runner_run(const struct vb_run_config * c, struct vb_runner_report * rep_out) {
    int rc = vb_runconfig_validate(c);
    if (rc != VB_OK) return rc;
    struct runner *           R = vb_calloc(1, sizeof *R);
    struct vb_runner_report * rep = vb_calloc(1, sizeof *rep);
    R->c = c;
    R->rep = rep;
    int32_t *            sel = NULL;
    int *                pending = NULL;
    char **              keys = NULL;
    int32_t              n_keys = 0;
    char *               cfg_json = NULL;
    char *               invocation = NULL; /* canonical invocation, stored per session */
    enum vb_dataset_kind dk;
    enum vb_select_mode  selmode;
    enum vb_decode_mode  decmode;
    rc = vb_dataset_kind_parse(c->dataset, &dk);
    R->dk = dk;
    if (rc == VB_OK) rc = vb_sampling_parse(c->sampling, &R->policy);
    if (rc == VB_OK) rc = vb_video_interp_parse(c->interp, &R->interp);
    if (rc == VB_OK) rc = vb_select_mode_parse(c->selection, &selmode);
    if (rc == VB_OK) rc = vb_decode_mode_parse(c->decode_mode, &decmode);
    if (rc == VB_OK) rc = vb_runconfig_weight_dtype(c->weights, &R->weight_dtype);
    if (rc != VB_OK) goto done;
    int threads = vb_blas_set_threads(c->threads);

    /* dataset and selection: --samples, then --limit, then the shard */
    rc = vb_dataset_load(&R->ds, dk, c->annotations, c->map, c->videos, c->skip_bad);
    if (rc != VB_OK) goto done;
    rep->n_loaded = R->ds.n;
    if (R->ds.n_bad > 0) fprintf(stderr, "run: %d malformed record(s) skipped (--skip-bad)\n", R->ds.n_bad);
    if (c->samples_file) {
        rc = read_key_file(c->samples_file, &keys, &n_keys);
        if (rc != VB_OK) goto done;
    }
    sel = vb_malloc(sizeof(int32_t) * (size_t)(R->ds.n > 0 ? R->ds.n : 1));
    int32_t   n_sel = 0, n_mine = 0;
    int32_t * found = keys ? vb_calloc((size_t)(n_keys > 0 ? n_keys : 1), sizeof(int32_t)) : NULL;
    for (int32_t i = 0; i < R->ds.n; i++) {
        if (keys) {
            char *  kk = R->ds.s[i].key;
            char ** hit = bsearch(&kk, keys, (size_t)n_keys, sizeof(char *), cmp_str);
            if (!hit) continue;
            found[hit - keys] = 1;
        }
        if (c->limit > 0 && n_sel >= c->limit) break;
        n_sel++;
        if (c->shard_n > 1 && vb_runner_shard_of(R->ds.s[i].key, c->shard_n) != c->shard_i) continue;
        sel[n_mine++] = i;
    }
    for (int32_t j = 0; keys && j < n_keys && rc == VB_OK; j++)
        if (!found[j] && !(c->limit > 0 && n_sel >= c->limit))
            rc = vb_fail(VB_ERR_NOTFOUND, "%s: sample key '%s' is not in %s", c->samples_file, keys[j], c->annotations);
    free(found);
    if (rc != VB_OK) goto done;
    rep->n_selected = n_sel;
    rep->n_shard = n_mine;

    /* bundles, vision groups, methods: everything is checked before the store is touched */
    for (int32_t mi = 0; mi < c->n_methods && rc == VB_OK; mi++) {
        enum vb_method_kind kind;
        rc = vb_method_kind_parse(c->methods[mi].name, &kind);
        const int32_t * mframes;
        int32_t         n_mframes = vb_runconfig_method_frames(c, mi, &mframes);
        for (int32_t fi = 0; fi < n_mframes && rc == VB_OK; fi++) {
            int32_t        k = mframes[fi];
            struct bslot * bs = get_bundle(R, vb_runconfig_model(c, mi, k));
            if (!bs) {
                rc = vb_fail_prefix(VB_ERR_IO, "bundle for %s k=%d", c->methods[mi].name, k);
                break;
            }
            if (R->image_size == 0)
                R->image_size = bs->b->cfg.vision.image_size;
            else if (R->image_size != bs->b->cfg.vision.image_size) {
                rc = vb_fail(VB_ERR_UNSUPPORTED,
                             "%s: image size %d differs from the other bundles' %d (one decode size "
                             "per run)",
                             bs->dir, bs->b->cfg.vision.image_size, R->image_size);
                break;
            }
            struct cell * cl = &R->cells[R->n_cells];
            memset(cl, 0, sizeof *cl);
            cl->mi = mi, cl->kind = kind, cl->k = k, cl->bs = bs;
            struct vb_method_opts mo;
            vb_method_opts_default(&mo, kind);
            mo.n_frames = k;
            mo.decode = decmode;
            mo.select = selmode;
            if (kind == VB_METHOD_UNIFORM)
                mo.n_candidates = k;
            else if (c->candidates > 0)
                mo.n_candidates = c->candidates;
            else if (kind == VB_METHOD_VLAP && bs->b->has_frame_prompter)
                mo.n_candidates = bs->b->fp_segments * bs->b->fp_frames_per_segment;
            else
                mo.n_candidates = 32;
            rc = vb_method_open(&cl->m, kind, bs->b, &mo);
            if (rc != VB_OK) {
                vb_fail_prefix(rc, "%s k=%d", c->methods[mi].name, k);
                break;
            }
            cl->T = vb_method_get_opts(cl->m)->n_candidates;
            cl->rep = &rep->cells[R->n_cells];
            snprintf(cl->rep->method, sizeof cl->rep->method, "%s", c->methods[mi].name);
            cl->rep->frames = k, cl->rep->candidates = cl->T;
            R->n_cells++;
        }
    }
    if (rc != VB_OK) goto done;
    rep->n_cells = R->n_cells;
    /* the cache always holds at least one cell's frames (frame-by-frame ViT, see the charging rule) */
    size_t  fmax = 0;
    int32_t tmax = 1;
    for (int32_t i = 0; i < R->n_cells; i++) {
        const struct vb_vision_config * vc = &R->cells[i].bs->b->cfg.vision;
        fmax = VB_MAX(fmax, (size_t)vc->n_tokens * (size_t)vc->hidden * sizeof(float));
        tmax = VB_MAX(tmax, R->cells[i].T);
    }
    R->feat = vb_malloc(fmax * VB_RUNNER_VIT_BATCH);
    R->tmax = tmax;
    R->clear_per_cell = c->vit_cache_mb == 0;
    R->cache = vb_vitcache_new(VB_MAX((size_t)c->vit_cache_mb << 20, fmax * (size_t)tmax));

    /* provenance */
    char host[256] = "unknown", cpu[256], sws[512], grid[384], ann_sha[65], shard[32];
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = 0;
    vb_cpu_model(cpu, sizeof cpu);
    struct vb_video_opts vo;
    vb_video_opts_default(&vo);
    vo.out_w = vo.out_h = R->image_size;
    vo.interp = R->interp;
    vb_video_provenance(&vo, sws, sizeof sws);
    make_grid_id(grid, sizeof grid, host);
    snprintf(shard, sizeof shard, "%d/%d", c->shard_i, c->shard_n);
    rc = vb_sha256_file(c->annotations, ann_sha);
    if (rc != VB_OK) goto done;
    cfg_json = identity_config(c, R->image_size);
    invocation = vb_runconfig_canonical(c);
    const char * split = R->ds.n > 0 && R->ds.s[0].split ? R->ds.s[0].split : "";
    const char * dsname = R->ds.n > 0 && R->ds.s[0].dataset ? R->ds.s[0].dataset : c->dataset;

    /* the store: one run per cell */
    rc = vb_store_open(&R->st, c->db, 0);
    if (rc != VB_OK) goto done;
    if (c->flush_rows > 0) vb_store_set_flush(R->st, c->flush_rows, 2000);
    for (int32_t i = 0; i < R->n_cells && rc == VB_OK; i++) {
        struct cell *      cl = &R->cells[i];
        struct vb_run_info info = {.dataset = dsname,
                                   .split = split,
                                   .method = c->methods[cl->mi].name,
                                   .frames = cl->k,
                                   .candidates = cl->T,
                                   .sampling = c->sampling,
                                   .selection = cl->kind == VB_METHOD_UNIFORM  ? "none"
                                                : cl->kind == VB_METHOD_SEVILA ? "topk"
                                                                               : c->selection,
                                   .decode_mode = c->decode_mode,
                                   .seed = c->seed,
                                   .blas_threads = threads,
                                   .weights_json = cl->bs->weights_json,
                                   .annotations_sha256 = ann_sha,
                                   .git_commit = VB_GIT_COMMIT,
                                   .git_dirty = VB_GIT_DIRTY,
                                   .config_json = cfg_json,
                                   .grid_id = grid,
                                   .build_flags = VB_BUILD_FLAGS,
                                   .blas_core = vb_blas_core(),
                                   .cpu_model = cpu,
                                   .host = host,
                                   .sws_flags = sws,
                                   .shard = c->shard_n > 0 ? shard : NULL,
                                   .n_expected = n_sel,
                                   .invocation_json = invocation,
                                   .weights_dtype = c->weights};
        rc = vb_store_begin_run(R->st, &info, &cl->run_id, &cl->resumed);
        if (rc != VB_OK) break;
        cl->began = 1;
        cl->rep->run_id = cl->run_id;
        cl->rep->resumed = cl->resumed;
        rc = vb_store_done_keys(R->st, cl->run_id, &cl->done);
    }
    if (rc != VB_OK) goto done;

    /* which samples still have work */
    pending = vb_calloc((size_t)R->n_cells * (size_t)(n_mine > 0 ? n_mine : 1), sizeof(int));
    int32_t n_todo = 0;
    for (int32_t j = 0; j < n_mine; j++) {
        int any = 0;
        for (int32_t i = 0; i < R->n_cells; i++) {
            int has = vb_keyset_has(&R->cells[i].done, R->ds.s[sel[j]].key);
            if (has)
                R->cells[i].rep->n_already++;
            else
                pending[(size_t)j * R->n_cells + i] = any = 1;
        }
        n_todo += any;
    }
    if (!c->quiet)
        fprintf(stderr, "run: %s %s: %d samples selected, %d in this shard, %d to do; %d cells; db %s\n", dsname, split,
                n_sel, n_mine, n_todo, R->n_cells, c->db);
    struct vb_progress pr;
    vb_progress_start(&pr, stderr, "run", n_todo, c->quiet, -1);
    int64_t t_loop = vb_time_us();
    for (int32_t j = 0; j < n_mine && rc == VB_OK; j++) {
        const int * pj = pending + (size_t)j * R->n_cells;
        int         any = 0;
        for (int32_t i = 0; i < R->n_cells; i++)
            any |= pj[i];
        if (!any) continue;
        int     timed = rep->n_processed >= c->warmup;
        int64_t ts = vb_time_us();
        rc = process_sample(R, &R->ds.s[sel[j]], pj, timed);
        ts = vb_time_us() - ts;
        for (int32_t i = 0; i < R->n_cells; i++)
            if (pj[i]) R->cells[i].wall_us += ts;
        rep->n_processed++;
        rep->n_warmup += !timed;
        char note[64];
        snprintf(note, sizeof note, "%lld error row(s)", (long long)rep->n_rows_error);
        vb_progress_add(&pr, 1, rep->n_rows_error ? note : NULL);
    }
    rep->wall_s = (double)(vb_time_us() - t_loop) / 1e6;
    if (rc == VB_OK) {
        char note[96];
        snprintf(note, sizeof note, "%lld rows, %lld error row(s)", (long long)(rep->n_rows_ok + rep->n_rows_error),
                 (long long)rep->n_rows_error);
        vb_progress_end(&pr, note);
    }
done:;
    int  failed = rc != VB_OK;
    char saved[1024];
    snprintf(saved, sizeof saved, "%s", vb_errmsg());
    rep->peak_rss_kb = vb_rss_peak_kb();
    snprintf(rep->weights, sizeof rep->weights, "%s", c->weights);
    for (int32_t i = 0; i < R->n_bs; i++) {
        rep->n_vit_shared += R->bs[i].b->vit_lender != NULL;
        rep->n_t5_shared += R->bs[i].b->t5_lender != NULL;
        rep->shared_bytes += R->bs[i].b->shared_bytes;
    }
    rep->n_bundles = R->n_bs;
    for (int32_t i = 0; i < R->n_cells; i++) {
        struct cell * cl = &R->cells[i];
        if (cl->began) {
            int frc = vb_store_set_peak_rss(R->st, cl->run_id, rep->peak_rss_kb);
            if (frc == VB_OK) frc = vb_store_finish_run(R->st, cl->run_id, (double)cl->wall_us / 1e6, failed);
            if (frc != VB_OK && rc == VB_OK) {
                rc = frc;
                snprintf(saved, sizeof saved, "%s", vb_errmsg());
            }
        }
        vb_keyset_free(&cl->done);
        vb_method_close(cl->m);
    }
    if (R->st) {
        int crc = vb_store_close(R->st);
        if (crc != VB_OK && rc == VB_OK) {
            rc = crc;
            snprintf(saved, sizeof saved, "%s", vb_errmsg());
        }
    }
    if (R->cache) {
        struct vb_vitcache_stats cs;
        vb_vitcache_stats(R->cache, &cs);
        rep->vit_hits = cs.n_hits, rep->vit_misses = cs.n_misses, rep->vit_evictions = cs.n_evictions;
        vb_vitcache_free(R->cache);
    }
    free(R->feat);
    for (int32_t i = R->n_bs - 1; i >= 0; i--) { /* reverse order: a lender outlives its borrowers */
        vb_vit_ctx_free(R->bs[i].vit);
        vb_bundle_close(R->bs[i].b);
        free(R->bs[i].dir);
        free(R->bs[i].real);
        free(R->bs[i].weights_json);
    }
    for (int32_t j = 0; j < n_keys; j++)
        free(keys[j]);
    free(keys);
    free(sel);
    free(pending);
    free(cfg_json);
    free(invocation);
    vb_dataset_free(&R->ds);
    free(R);
    if (rep_out) *rep_out = *rep;
    free(rep);
    if (rc != VB_OK) vb_fail(rc, "%s", saved);
    return rc;
}
