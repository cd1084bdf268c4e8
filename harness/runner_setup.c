/* runner_setup.c — `vlapbench run` before the loop: which samples, which bundles and methods (cells), which store
** runs (see runner.h, docs/runner.md). */
#include "base/common.h"
#include "engine/blas.h"
#include "engine/cuda/cuda.h"
#include "engine/vit.h"
#include "engine/wmat.h"
#include "harness/kernels.h"
#include "harness/registry.h"
#include "harness/runner_internal.h"
#include "methods/bundle.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
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

/* ---------------------------------------------------------------- set-up helpers */

static int cmp_str(const void * a, const void * b) {
    return strcmp(*(char * const *)a, *(char * const *)b);
}

struct key_list {
    char ** k;
    int32_t n, cap;
};

/* One line of a key file: surrounding spaces dropped, blank lines ignored. */
static int key_line(void * ud, char * line, int32_t line_no) {
    (void)line_no;
    struct key_list * kl = ud;
    while (*line == ' ' || *line == '\t')
        line++;
    size_t L = strlen(line);
    while (L > 0 && (line[L - 1] == ' ' || line[L - 1] == '\t'))
        line[--L] = 0;
    if (!L) return 0;
    if (kl->n == kl->cap) kl->k = vb_realloc(kl->k, sizeof(char *) * (size_t)(kl->cap *= 2));
    kl->k[kl->n++] = vb_strdup(line);
    return 0;
}

/* Sample keys listed in path (one per line, blank lines and surrounding spaces ignored), sorted. */
static int read_key_file(const char * path, char *** keys, int32_t * n) {
    char * text;
    size_t len;
    int    rc = vb_read_file(path, &text, &len);
    if (rc != VB_OK) return rc;
    struct key_list kl = {.k = vb_malloc(sizeof(char *) * 64), .n = 0, .cap = 64}; /* never NULL: a filter */
    vb_lines_walk(text, len, key_line, &kl);
    free(text);
    if (kl.n > 0) qsort(kl.k, (size_t)kl.n, sizeof(char *), cmp_str);
    *keys = kl.k;
    *n = kl.n;
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
static int bundle_hashes(struct vb_runner_bundle * s) {
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

/* The checkpoint's name, provenance beside the hashes (runs.checkpoint): {"dir": the bundle directory's basename,
** "name_or_path": config.json's top-level "_name_or_path" (HF's name of the checkpoint) or null}. */
static void bundle_name(struct vb_runner_bundle * s) {
    char * real = s->real ? s->real : s->dir;
    size_t L = strlen(real);
    char * d = vb_strdup(real);
    while (L > 1 && d[L - 1] == '/')
        d[--L] = 0;
    const char * base = strrchr(d, '/');
    cJSON *      o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "dir", base && base[1] ? base + 1 : d);
    size_t n = strlen(s->dir) + 16;
    char * cpath = vb_malloc(n);
    snprintf(cpath, n, "%s/config.json", s->dir);
    char * text = NULL;
    size_t len = 0;
    cJSON *cfg = NULL, *nm = NULL;
    if (vb_read_file(cpath, &text, &len) == VB_OK) cfg = cJSON_Parse(text);
    nm = cfg ? cJSON_GetObjectItemCaseSensitive(cfg, "_name_or_path") : NULL;
    if (cJSON_IsString(nm) && nm->valuestring[0])
        cJSON_AddStringToObject(o, "name_or_path", nm->valuestring);
    else
        cJSON_AddNullToObject(o, "name_or_path");
    s->checkpoint_json = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    cJSON_Delete(cfg);
    free(text);
    free(cpath);
    free(d);
}

/* The bundle that owns the ViT blocks of b (itself unless they were borrowed, see bundle.h). */
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

static struct vb_runner_bundle * get_bundle(struct vb_runner * R, const char * dir) {
    char * real = realpath(dir, NULL);
    if (!real) real = vb_strdup(dir);
    for (int32_t i = 0; i < R->n_bs; i++)
        if (!strcmp(R->bs[i].real, real)) {
            free(real);
            return &R->bs[i];
        }
    struct vb_runner_bundle * s = &R->bs[R->n_bs];
    memset(s, 0, sizeof *s);
    /* share frozen parts (ViT, T5) with the bundles opened before: they are closed after this one */
    struct vb_bundle * earlier[VB_RUNNER_MAX_CELLS];
    for (int32_t i = 0; i < R->n_bs; i++)
        earlier[i] = R->bs[i].b;
    struct vb_bundle_opts bo = {.t5_tokenizer = getenv("VB_T5_TOKENIZER"),
                                .bert_vocab = getenv("VB_BERT_VOCAB"),
                                .parts = 0,
                                .weight_dtype = R->weight_dtype,
                                .device = strcmp(R->c->device, "cuda") ? VB_DEVICE_CPU : VB_DEVICE_CUDA,
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
        if (rc == VB_OK) bundle_name(s);
    }
    if (rc != VB_OK) {
        vb_bundle_close(s->b);
        free(s->dir);
        free(s->weights_json);
        free(s->checkpoint_json);
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
        free(s->checkpoint_json);
        free(s->real);
        memset(s, 0, sizeof *s);
        return NULL;
    }
    R->n_bs++;
    return s;
}

void vb_runner_close_bundles(struct vb_runner * R) {
    for (int32_t i = R->n_bs - 1; i >= 0; i--) { /* reverse order: a lender outlives its borrowers */
        vb_vit_ctx_free(R->bs[i].vit);
        vb_bundle_close(R->bs[i].b);
        free(R->bs[i].dir);
        free(R->bs[i].real);
        free(R->bs[i].weights_json);
        free(R->bs[i].checkpoint_json);
    }
    R->n_bs = 0;
}

/* ---------------------------------------------------------------- samples */

int vb_runner_select_samples(struct vb_runner * R) {
    const struct vb_run_config * c = R->c;
    char **                      keys = NULL;
    int32_t                      n_keys = 0;
    int                          rc = VB_OK;
    if (c->samples_file) {
        rc = read_key_file(c->samples_file, &keys, &n_keys);
        if (rc != VB_OK) return rc;
    }
    R->sel = vb_malloc(sizeof(int32_t) * (size_t)(R->ds.n > 0 ? R->ds.n : 1));
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
        R->sel[n_mine++] = i;
    }
    for (int32_t j = 0; keys && j < n_keys && rc == VB_OK; j++)
        if (!found[j] && !(c->limit > 0 && n_sel >= c->limit))
            rc = vb_fail(VB_ERR_NOTFOUND, "%s: sample key '%s' is not in %s", c->samples_file, keys[j], c->annotations);
    free(found);
    for (int32_t j = 0; j < n_keys; j++)
        free(keys[j]);
    free(keys);
    R->n_sel = n_sel;
    R->n_mine = n_mine;
    /* the run's order (after the selection: --limit keeps the first N of the file, shards stay by key hash): a
    ** video's questions one after the other, so its ViT features are still cached for the next (runner_order.c) */
    if (strcmp(c->order, "file"))
        R->n_videos = vb_runner_group_by_video(&R->ds, R->sel, n_mine);
    else { /* file order kept; the count from a grouped copy */
        int32_t * tmp = vb_malloc(sizeof(int32_t) * (size_t)(n_mine > 0 ? n_mine : 1));
        memcpy(tmp, R->sel, sizeof(int32_t) * (size_t)n_mine);
        R->n_videos = vb_runner_group_by_video(&R->ds, tmp, n_mine);
        free(tmp);
    }
    /* a selection smaller than the annotation file is a labelled subset (runs.subset), never "the split" */
    R->subset[0] = 0;
    if (rc == VB_OK && n_sel < R->ds.n) {
        if (c->samples_file && c->limit > 0)
            snprintf(R->subset, sizeof R->subset, "--samples %.150s --limit %d: %d of %d samples", c->samples_file,
                     c->limit, n_sel, R->ds.n);
        else if (c->samples_file)
            snprintf(R->subset, sizeof R->subset, "--samples %.150s: %d of %d samples", c->samples_file, n_sel,
                     R->ds.n);
        else
            snprintf(R->subset, sizeof R->subset, "--limit %d: %d of %d samples", c->limit, n_sel, R->ds.n);
    }
    return rc;
}

/* ---------------------------------------------------------------- cells */

/* Open the cell of method mi at k frames (bundle, method object, report line). */
static int open_cell(struct vb_runner * R, int32_t mi, const struct vb_method_ops * ops, int32_t k) {
    const struct vb_run_config * c = R->c;
    struct vb_runner_bundle *    bs = get_bundle(R, vb_runconfig_model(c, mi, k));
    if (!bs) return vb_fail_prefix(VB_ERR_IO, "bundle for %s k=%d", c->methods[mi].name, k);
    if (R->image_size == 0)
        R->image_size = bs->b->cfg.vision.image_size;
    else if (R->image_size != bs->b->cfg.vision.image_size)
        return vb_fail(VB_ERR_UNSUPPORTED,
                       "%s: image size %d differs from the other bundles' %d (one decode size per run)", bs->dir,
                       bs->b->cfg.vision.image_size, R->image_size);
    struct vb_runner_cell * cl = &R->cells[R->n_cells];
    memset(cl, 0, sizeof *cl);
    cl->mi = mi, cl->ops = ops, cl->k = k, cl->bs = bs;
    struct vb_method_opts mo;
    vb_method_opts_default(&mo);
    mo.n_frames = k;
    mo.n_candidates = c->candidates; /* 0: the method's own count */
    mo.decode = R->decmode;
    mo.select = R->selmode;
    int rc = vb_method_open(&cl->m, ops, bs->b, &mo);
    if (rc != VB_OK) return vb_fail_prefix(rc, "%s k=%d", c->methods[mi].name, k);
    cl->T = vb_method_get_opts(cl->m)->n_candidates;
    cl->rep = &R->rep->cells[R->n_cells];
    snprintf(cl->rep->method, sizeof cl->rep->method, "%s", c->methods[mi].name);
    cl->rep->frames = k, cl->rep->candidates = cl->T;
    R->n_cells++;
    return VB_OK;
}

int vb_runner_open_cells(struct vb_runner * R) {
    const struct vb_run_config * c = R->c;
    int                          rc = VB_OK;
    for (int32_t mi = 0; mi < c->n_methods && rc == VB_OK; mi++) {
        const struct vb_method_ops * ops = vb_registry_find(c->methods[mi].name);
        if (!ops) return VB_ERR_ARG;
        const int32_t * mframes;
        int32_t         n_mframes = vb_runconfig_method_frames(c, mi, &mframes);
        for (int32_t fi = 0; fi < n_mframes && rc == VB_OK; fi++)
            rc = open_cell(R, mi, ops, mframes[fi]);
    }
    if (rc != VB_OK) return rc;
    R->rep->n_cells = R->n_cells;
    /* the cache always holds at least one cell's frames */
    size_t  fmax = 0;
    int32_t tmax = 1;
    for (int32_t i = 0; i < R->n_cells; i++) {
        const struct vb_vision_config * vc = &R->cells[i].bs->b->cfg.vision;
        fmax = VB_MAX(fmax, (size_t)vc->n_tokens * (size_t)vc->hidden * sizeof(float));
        tmax = VB_MAX(tmax, R->cells[i].T);
    }
    R->fmax = fmax;
    R->tmax = tmax;
    R->clear_per_cell = c->vit_cache_mb == 0;
    R->cache = vb_vitcache_new(VB_MAX((size_t)c->vit_cache_mb << 20, fmax * (size_t)tmax));
    return VB_OK;
}

/* ---------------------------------------------------------------- store runs */

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
    /* so does bf16 compute (activations rounded to bf16): a bf16-compute run never resumes an f32 one; f32 adds
    ** nothing, as above */
    if (strcmp(c->compute, "f32")) cJSON_AddStringToObject(o, "compute", c->compute);
    /* so does the device (another summation order); cpu adds nothing, as above */
    if (strcmp(c->device, "cpu")) cJSON_AddStringToObject(o, "device", c->device);
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

/* Which samples still have work: R->pending (n_mine, n_cells); returns the number of samples with any. */
static int32_t pending_samples(struct vb_runner * R) {
    free(R->pending);
    R->pending = vb_calloc((size_t)R->n_cells * (size_t)(R->n_mine > 0 ? R->n_mine : 1), sizeof(int));
    int32_t n_todo = 0;
    for (int32_t j = 0; j < R->n_mine; j++) {
        int any = 0;
        for (int32_t i = 0; i < R->n_cells; i++) {
            int has = vb_keyset_has(&R->cells[i].done, R->ds.s[R->sel[j]].key);
            if (has)
                R->cells[i].rep->n_already++;
            else
                R->pending[(size_t)j * R->n_cells + i] = any = 1;
        }
        n_todo += any;
    }
    return n_todo;
}

/* Provenance common to the cells' runs (strings live in the caller's buffers). */
struct provenance {
    char         host[256], cpu[256], sws[512], grid[384], ann_sha[65], shard[32], device[640];
    char         kernels[384]; /* the engine's kernels in the run's compute mode (CPU runs; "" on a GPU) */
    char *       cfg_json;
    char *       invocation; /* canonical invocation, stored per session */
    const char * split;
    const char * dsname;
};

static int provenance(struct vb_runner * R, struct provenance * p) {
    const struct vb_run_config * c = R->c;
    snprintf(p->host, sizeof p->host, "unknown");
    gethostname(p->host, sizeof p->host - 1);
    p->host[sizeof p->host - 1] = 0;
    vb_cpu_model(p->cpu, sizeof p->cpu);
    snprintf(p->device, sizeof p->device, "cpu");
    int mode = VB_COMPUTE_F32;
    if (vb_wmat_compute_parse(c->compute, &mode) != VB_OK) mode = VB_COMPUTE_F32; /* checked before (runconfig.c) */
    vb_kernels_describe(mode, p->kernels, sizeof p->kernels);
    if (!strcmp(c->device, "cuda")) {
        p->kernels[0] = 0; /* the GPU, driver, runtime and cuBLASLt the cells ran on */
        struct vb_cuda_info ci;
        char                gd[400], lt[64];
        vb_cuda_query(&ci);
        vb_cuda_describe(&ci, gd, sizeof gd);
        vb_cuda_cublaslt_version(lt, sizeof lt);
        snprintf(p->device, sizeof p->device, "cuda: %s%s%s", gd, lt[0] ? ", " : "", lt);
    }
    struct vb_video_opts vo;
    vb_video_opts_default(&vo);
    vo.out_w = vo.out_h = R->image_size;
    vo.interp = R->interp;
    vb_video_provenance(&vo, p->sws, sizeof p->sws);
    make_grid_id(p->grid, sizeof p->grid, p->host);
    snprintf(p->shard, sizeof p->shard, "%d/%d", c->shard_i, c->shard_n);
    int rc = vb_sha256_file(c->annotations, p->ann_sha);
    if (rc != VB_OK) return rc;
    p->cfg_json = identity_config(c, R->image_size);
    p->invocation = vb_runconfig_canonical(c);
    p->split = R->ds.n > 0 && R->ds.s[0].split ? R->ds.s[0].split : "";
    p->dsname = R->ds.n > 0 && R->ds.s[0].dataset ? R->ds.s[0].dataset : c->dataset;
    return VB_OK;
}

/* --retry-errors: delete the cell's error rows of this process's samples, so that they are run again. */
static int retry_errors(struct vb_runner * R, struct vb_runner_cell * cl) {
    const char ** keys = vb_malloc(sizeof(char *) * (size_t)(R->n_mine > 0 ? R->n_mine : 1));
    for (int32_t j = 0; j < R->n_mine; j++)
        keys[j] = R->ds.s[R->sel[j]].key;
    int32_t n_del = 0;
    int     rc = vb_store_delete_error_rows(R->st, cl->run_id, keys, R->n_mine, &n_del);
    free(keys);
    if (rc == VB_OK && n_del > 0 && !R->c->quiet)
        fprintf(stderr, "run: --retry-errors: %s k=%d: %d error row(s) to run again\n", R->c->methods[cl->mi].name,
                cl->k, n_del);
    return rc;
}

/* --estimate: what the cell has stored, read without writing anything (no database file: nothing stored; with
** --retry-errors only the ok rows count as done). */
static int peek_run(struct vb_runner * R, const struct vb_run_info * info, struct vb_runner_cell * cl) {
    if (!R->st) return VB_OK;
    int rc = vb_store_find_run(R->st, info, &cl->run_id);
    if (rc == VB_ERR_NOTFOUND) return VB_OK;
    cl->rep->run_id = cl->run_id;
    cl->rep->resumed = 1;
    if (rc == VB_OK)
        rc = R->c->retry_errors ? vb_store_ok_keys(R->st, cl->run_id, &cl->done)
                                : vb_store_done_keys(R->st, cl->run_id, &cl->done);
    return rc;
}

int vb_runner_begin_runs(struct vb_runner * R, int threads) {
    const struct vb_run_config * c = R->c;
    struct provenance            p;
    memset(&p, 0, sizeof p);
    int rc = provenance(R, &p);
    if (rc == VB_OK && c->estimate == 1) /* read-only, and only when the file exists: --estimate writes nothing */
        rc = access(c->db, F_OK) == 0 ? vb_store_open(&R->st, c->db, 1) : VB_OK;
    else if (rc == VB_OK)
        rc = vb_store_open(&R->st, c->db, 0);
    if (rc == VB_OK && c->flush_rows > 0 && c->estimate != 1) vb_store_set_flush(R->st, c->flush_rows, 2000);
    for (int32_t i = 0; i < R->n_cells && rc == VB_OK; i++) {
        struct vb_runner_cell * cl = &R->cells[i];
        struct vb_run_info      info = {.dataset = p.dsname,
                                        .split = p.split,
                                        .method = c->methods[cl->mi].name,
                                        .frames = cl->k,
                                        .candidates = cl->T,
                                        .sampling = c->sampling,
                                        .selection = cl->ops->selection_label(R->selmode),
                                        .decode_mode = c->decode_mode,
                                        .seed = c->seed,
                                        .blas_threads = threads,
                                        .weights_json = cl->bs->weights_json,
                                        .annotations_sha256 = p.ann_sha,
                                        .git_commit = VB_GIT_COMMIT,
                                        .git_dirty = VB_GIT_DIRTY,
                                        .config_json = p.cfg_json,
                                        .grid_id = p.grid,
                                        .build_flags = VB_BUILD_FLAGS,
                                        .blas_core = vb_blas_core(),
                                        .cpu_model = p.cpu,
                                        .host = p.host,
                                        .sws_flags = p.sws,
                                        .shard = c->shard_n > 0 ? p.shard : NULL,
                                        .n_expected = R->n_sel,
                                        .n_split = R->ds.n,
                                        .invocation_json = p.invocation,
                                        .weights_dtype = c->weights,
                                        .subset = R->subset[0] ? R->subset : NULL,
                                        .checkpoint_json = cl->bs->checkpoint_json,
                                        .device = p.device,
                                        .kernels = p.kernels[0] ? p.kernels : NULL};
        if (c->estimate == 1) {
            rc = peek_run(R, &info, cl);
            continue;
        }
        rc = vb_store_begin_run(R->st, &info, &cl->run_id, &cl->resumed);
        if (rc != VB_OK) break;
        cl->began = 1;
        cl->rep->run_id = cl->run_id;
        cl->rep->resumed = cl->resumed;
        if (c->retry_errors && cl->resumed) rc = retry_errors(R, cl);
        if (rc == VB_OK) rc = vb_store_done_keys(R->st, cl->run_id, &cl->done);
    }
    if (rc == VB_OK) R->n_todo = pending_samples(R);
    if (rc == VB_OK && !c->quiet)
        fprintf(stderr,
                "run: %s %s: %d samples selected, %d in this shard (%d videos, %s order), %d to do; %d cells; db %s\n",
                p.dsname, p.split, R->n_sel, R->n_mine, R->n_videos, strcmp(c->order, "file") ? "video" : "file",
                R->n_todo, R->n_cells, c->db);
    free(p.cfg_json);
    free(p.invocation);
    return rc;
}
