/* runconfig.c — `vlapbench run` configuration: JSON file + flags -> one canonical config (see runconfig.h). */
#include "harness/runconfig.h"

#include "harness/registry.h"

#include "base/common.h"
#include "engine/cpu.h"
#include "engine/cuda/cuda.h"
#include "engine/weights.h"
#include "engine/wmat.h"
#include "harness/cli.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

void vb_runconfig_defaults(struct vb_run_config * c) {
    memset(c, 0, sizeof *c);
    c->n_frames = 3;
    c->frames[0] = 1, c->frames[1] = 2, c->frames[2] = 4;
    snprintf(c->sampling, sizeof c->sampling, "uniform_midbin");
    snprintf(c->interp, sizeof c->interp, "bilinear");
    snprintf(c->selection, sizeof c->selection, "argmax");
    snprintf(c->decode_mode, sizeof c->decode_mode, "minimal");
    snprintf(c->weights, sizeof c->weights, "f32");
    snprintf(c->compute, sizeof c->compute, "f32");
    snprintf(c->device, sizeof c->device, "cpu");
    snprintf(c->order, sizeof c->order, "video");
    c->warmup = 1;
    c->vit_cache_mb = 256;
    c->db = vb_strdup("results.db");
}

static int check_path(const char * flag, const char * path, int want_dir) {
    struct stat sb;
    if (stat(path, &sb) != 0)
        return vb_fail(VB_ERR_IO, "%s %s: %s", flag, path,
                       errno == ENOENT ? (want_dir ? "no such directory" : "no such file") : strerror(errno));
    if (want_dir && !S_ISDIR(sb.st_mode)) return vb_fail(VB_ERR_IO, "%s %s: not a directory", flag, path);
    if (!want_dir && S_ISDIR(sb.st_mode)) return vb_fail(VB_ERR_IO, "%s %s: is a directory, not a file", flag, path);
    return VB_OK;
}

int vb_runconfig_check_inputs(const struct vb_run_config * c) {
    int rc = VB_OK;
    if (c->annotations) rc = check_path("--annotations", c->annotations, 0);
    if (rc == VB_OK && c->map) rc = check_path("--map", c->map, 0);
    if (rc == VB_OK && !c->videos) rc = vb_fail(VB_ERR_ARG, "--videos DIR is required");
    if (rc == VB_OK) rc = check_path("--videos", c->videos, 1);
    return rc;
}

void vb_runconfig_free(struct vb_run_config * c) {
    free(c->dataset), free(c->annotations), free(c->map), free(c->videos), free(c->db), free(c->samples_file);
    for (int32_t i = 0; i < c->n_methods; i++) {
        free(c->methods[i].model);
        for (int32_t j = 0; j < c->methods[i].n_per_k; j++)
            free(c->methods[i].per_k_model[j]);
    }
    memset(c, 0, sizeof *c);
}

static void set_str(char ** dst, const char * v) {
    free(*dst);
    *dst = v ? vb_strdup(v) : NULL;
}

/* Resolve a path relative to base_dir (NULL: unchanged). */
static char * rel_path(const char * base_dir, const char * p) {
    if (!base_dir || p[0] == '/') return vb_strdup(p);
    size_t n = strlen(base_dir) + strlen(p) + 2;
    char * r = vb_malloc(n);
    snprintf(r, n, "%s/%s", base_dir, p);
    return r;
}

static int add_method_k(struct vb_run_config * c, const char * name, int32_t k, const char * model,
                        const char * origin);

/* "1,2,4" -> frames[] (at most VB_RUN_MAX_FRAMES, each 1..256); returns VB_OK or VB_ERR_ARG. */
static int parse_frame_list(int32_t * frames, int32_t * n_out, const char * s, const char * origin) {
    int32_t      n = 0;
    const char * p = s;
    while (*p) {
        char * end;
        long   v = strtol(p, &end, 10);
        if (end == p || v <= 0 || v > 256 || n >= VB_RUN_MAX_FRAMES)
            return vb_fail(VB_ERR_ARG, "%s: frames: expected a comma-separated list of 1..256, got '%s'", origin, s);
        frames[n++] = (int32_t)v;
        p = end;
        if (*p == ',')
            p++;
        else if (*p)
            return vb_fail(VB_ERR_ARG, "%s: frames: bad list '%s'", origin, s);
    }
    if (n == 0) return vb_fail(VB_ERR_ARG, "%s: frames: empty list", origin);
    *n_out = n;
    return VB_OK;
}

static int parse_frames(struct vb_run_config * c, const char * s, const char * origin) {
    return parse_frame_list(c->frames, &c->n_frames, s, origin);
}

/* --method-frames NAME=K1,K2: the method's own frame counts (the method is added if new). */
static int parse_method_frames(struct vb_run_config * c, const char * v) {
    char         name[32];
    const char * eq = strchr(v, '=');
    if (!eq || eq == v || (size_t)(eq - v) >= sizeof name)
        return vb_fail(VB_ERR_ARG, "--method-frames: expected NAME=K1,K2,..., got '%s'", v);
    memcpy(name, v, (size_t)(eq - v));
    name[eq - v] = 0;
    int rc = add_method_k(c, name, 0, NULL, "--method-frames");
    if (rc != VB_OK) return rc;
    for (int32_t i = 0; i < c->n_methods; i++)
        if (!strcmp(c->methods[i].name, name))
            return parse_frame_list(c->methods[i].frames, &c->methods[i].n_frames, eq + 1, "--method-frames");
    return VB_OK;
}

int32_t vb_runconfig_method_frames(const struct vb_run_config * c, int32_t i, const int32_t ** frames) {
    *frames = NULL;
    if (i < 0 || i >= c->n_methods) return 0;
    if (c->methods[i].n_frames > 0) {
        *frames = c->methods[i].frames;
        return c->methods[i].n_frames;
    }
    *frames = c->frames;
    return c->n_frames;
}

int vb_runconfig_weight_dtype(const char * name, int32_t * dtype) {
    if (name && !strcmp(name, "f32"))
        *dtype = VB_DT_F32;
    else if (name && !strcmp(name, "bf16"))
        *dtype = VB_DT_BF16;
    else if (name && !strcmp(name, "f16"))
        *dtype = VB_DT_F16;
    else
        return vb_fail(VB_ERR_ARG, "weights: '%s' is not f32, bf16 or f16", name ? name : "(null)");
    return VB_OK;
}

/* Add method `name` (or update it): k = 0 sets its bundle, k > 0 the bundle of frame count k; model NULL keeps. */
static int add_method_k(struct vb_run_config * c, const char * name, int32_t k, const char * model,
                        const char * origin) {
    if (!vb_registry_find(name)) return vb_fail_prefix(VB_ERR_ARG, "%s", origin);
    struct vb_run_method * m = NULL;
    for (int32_t i = 0; i < c->n_methods; i++)
        if (!strcmp(c->methods[i].name, name)) m = &c->methods[i];
    if (!m) {
        if (c->n_methods >= VB_RUN_MAX_METHODS) return vb_fail(VB_ERR_ARG, "%s: too many methods", origin);
        m = &c->methods[c->n_methods++];
        memset(m, 0, sizeof *m);
        snprintf(m->name, sizeof m->name, "%s", name);
    }
    if (!model) return VB_OK;
    if (k <= 0) {
        set_str(&m->model, model);
        return VB_OK;
    }
    for (int32_t j = 0; j < m->n_per_k; j++)
        if (m->per_k_frames[j] == k) {
            set_str(&m->per_k_model[j], model);
            return VB_OK;
        }
    if (m->n_per_k >= VB_RUN_MAX_FRAMES) return vb_fail(VB_ERR_ARG, "%s: too many per-k bundles for %s", origin, name);
    m->per_k_frames[m->n_per_k] = k;
    m->per_k_model[m->n_per_k++] = vb_strdup(model);
    return VB_OK;
}

static int add_method(struct vb_run_config * c, const char * name, const char * model, const char * origin) {
    return add_method_k(c, name, 0, model, origin);
}

/* "NAME", "NAME=DIR" or "NAME@K=DIR" (one list element of --method). */
static int parse_method_spec(struct vb_run_config * c, char * tok, const char * shared_model) {
    char * eq = strchr(tok, '=');
    if (eq) *eq = 0;
    int32_t k = 0;
    char *  at = strchr(tok, '@');
    if (at) {
        char * end;
        long   v = strtol(at + 1, &end, 10);
        if (end == at + 1 || *end || v < 1 || v > 256)
            return vb_fail(VB_ERR_ARG, "--method: bad frame count in '%s' (NAME@K=DIR)", tok);
        *at = 0;
        k = (int32_t)v;
    }
    const char * model = eq ? eq + 1 : shared_model;
    if (!model) return vb_fail(VB_ERR_ARG, "--method %s needs a bundle: NAME=DIR, or --model DIR", tok);
    if (k == 0) /* a flag's NAME=DIR replaces the method's bundles, per-k ones from a config file included */
        for (int32_t i = 0; i < c->n_methods; i++)
            if (!strcmp(c->methods[i].name, tok)) {
                for (int32_t j = 0; j < c->methods[i].n_per_k; j++)
                    free(c->methods[i].per_k_model[j]);
                c->methods[i].n_per_k = 0;
            }
    return add_method_k(c, tok, k, model, "--method");
}

const char * vb_runconfig_model(const struct vb_run_config * c, int32_t i, int32_t k) {
    if (i < 0 || i >= c->n_methods) return NULL;
    const struct vb_run_method * m = &c->methods[i];
    for (int32_t j = 0; j < m->n_per_k; j++)
        if (m->per_k_frames[j] == k) return m->per_k_model[j];
    return m->model;
}

/* Strict non-negative integer of a flag value. */
static int parse_nonneg(const char * v, const char * flag, int32_t * out) {
    char *    end;
    long long x = strtoll(v, &end, 10);
    if (end == v || *end || x < 0 || x > INT32_MAX)
        return vb_fail(VB_ERR_ARG, "%s: expected a non-negative integer, got '%s'", flag, v);
    *out = (int32_t)x;
    return VB_OK;
}

static int parse_shard(struct vb_run_config * c, const char * s, const char * origin) {
    int  i, n;
    char extra;
    if (sscanf(s, "%d/%d%c", &i, &n, &extra) != 2 || n <= 0 || i < 0 || i >= n)
        return vb_fail(VB_ERR_ARG, "%s: shard must be i/N with 0 <= i < N, got '%s'", origin, s);
    c->shard_i = i, c->shard_n = n;
    return VB_OK;
}

static int copy_name(char * dst, size_t cap, const char * v, const char * key, const char * origin,
                     const char * const * allowed) {
    for (int i = 0; allowed[i]; i++)
        if (!strcmp(v, allowed[i])) {
            snprintf(dst, cap, "%s", v);
            return VB_OK;
        }
    return vb_fail(VB_ERR_ARG, "%s: %s: invalid value '%s'", origin, key, v);
}

static const char * const SAMPLINGS[] = {"uniform_midbin", "uniform_endpoints", "uniform_interior", NULL};
static const char * const INTERPS[] = {"bilinear", "bicubic", NULL};
static const char * const SELECTIONS[] = {"argmax", "gumbel", NULL};
static const char * const DECODES[] = {"minimal", "as_released", NULL};
static const char * const WEIGHTS[] = {"f32", "bf16", "f16", NULL};
static const char * const COMPUTES[] = {"f32", "bf16", NULL};
static const char * const DEVICES[] = {"cpu", "cuda", NULL};
static const char * const ORDERS[] = {"video", "file", NULL};

int vb_runconfig_load_json(struct vb_run_config * c, const char * path) {
    char * text;
    int    rc = vb_read_file(path, &text, NULL);
    if (rc != VB_OK) return rc;
    cJSON * root = cJSON_Parse(text);
    free(text);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return vb_fail(VB_ERR_FORMAT, "%s: not a JSON object", path);
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *       sl = strrchr(dir, '/');
    const char * base = NULL;
    if (sl) {
        *sl = 0;
        base = dir;
    }
    rc = VB_OK;
    cJSON * it;
    cJSON_ArrayForEach(it, root) {
        const char * k = it->string;
        const char * sv = cJSON_IsString(it) ? it->valuestring : NULL;
        int          isnum = cJSON_IsNumber(it);
        if (!strcmp(k, "dataset") && sv)
            set_str(&c->dataset, sv);
        else if ((!strcmp(k, "annotations") || !strcmp(k, "map") || !strcmp(k, "videos") || !strcmp(k, "db") ||
                  !strcmp(k, "samples")) &&
                 sv) {
            char ** dst = !strcmp(k, "annotations") ? &c->annotations
                          : !strcmp(k, "map")       ? &c->map
                          : !strcmp(k, "videos")    ? &c->videos
                          : !strcmp(k, "db")        ? &c->db
                                                    : &c->samples_file;
            free(*dst);
            *dst = rel_path(base, sv);
        } else if (!strcmp(k, "methods") && cJSON_IsArray(it)) {
            cJSON * m;
            cJSON_ArrayForEach(m, it) {
                cJSON * n = cJSON_GetObjectItemCaseSensitive(m, "name");
                cJSON * d = cJSON_GetObjectItemCaseSensitive(m, "model");
                cJSON * pk = cJSON_GetObjectItemCaseSensitive(m, "models");
                cJSON * mf = cJSON_GetObjectItemCaseSensitive(m, "frames");
                if (!cJSON_IsString(n) || (d && !cJSON_IsString(d)) || (pk && !cJSON_IsObject(pk)) || (!d && !pk)) {
                    rc = vb_fail(VB_ERR_FORMAT,
                                 "%s: methods[]: each entry needs a \"name\" string and a \"model\" "
                                 "string and/or a \"models\" object {\"K\": DIR}",
                                 path);
                    break;
                }
                rc = add_method(c, n->valuestring, NULL, path);
                if (rc == VB_OK && d) {
                    char * mp = rel_path(base, d->valuestring);
                    rc = add_method(c, n->valuestring, mp, path);
                    free(mp);
                }
                cJSON * e;
                if (pk) cJSON_ArrayForEach(e, pk) {
                        if (rc != VB_OK) break;
                        char * end;
                        long   kv = strtol(e->string, &end, 10);
                        if (!cJSON_IsString(e) || end == e->string || *end || kv < 1 || kv > 256) {
                            rc = vb_fail(VB_ERR_FORMAT,
                                         "%s: methods[%s].models: keys are frame counts, values bundle "
                                         "directories (\"%s\")",
                                         path, n->valuestring, e->string);
                            break;
                        }
                        char * mp = rel_path(base, e->valuestring);
                        rc = add_method_k(c, n->valuestring, (int32_t)kv, mp, path);
                        free(mp);
                    }
                if (rc == VB_OK && mf) {
                    struct vb_run_method * me = NULL;
                    for (int32_t i = 0; i < c->n_methods; i++)
                        if (!strcmp(c->methods[i].name, n->valuestring)) me = &c->methods[i];
                    int32_t nf = 0;
                    cJSON * f;
                    if (!cJSON_IsArray(mf))
                        nf = -1;
                    else
                        cJSON_ArrayForEach(f, mf) {
                            if (!cJSON_IsNumber(f) || f->valuedouble < 1 || f->valuedouble > 256 ||
                                nf >= VB_RUN_MAX_FRAMES) {
                                nf = -1;
                                break;
                            }
                            me->frames[nf++] = (int32_t)f->valuedouble;
                        }
                    if (nf <= 0)
                        rc = vb_fail(VB_ERR_FORMAT,
                                     "%s: methods[%s].frames: expected a non-empty list of integers "
                                     "1..256",
                                     path, n->valuestring);
                    else
                        me->n_frames = nf;
                }
                if (rc != VB_OK) break;
            }
        } else if (!strcmp(k, "frames") && cJSON_IsArray(it)) {
            int32_t n = 0;
            cJSON * f;
            cJSON_ArrayForEach(f, it) {
                if (!cJSON_IsNumber(f) || f->valuedouble < 1 || f->valuedouble > 256 || n >= VB_RUN_MAX_FRAMES) {
                    rc = vb_fail(VB_ERR_FORMAT, "%s: frames: expected a list of integers 1..256", path);
                    break;
                }
                c->frames[n++] = (int32_t)f->valuedouble;
            }
            if (rc == VB_OK) c->n_frames = n;
        } else if (!strcmp(k, "frames") && sv)
            rc = parse_frames(c, sv, path);
        else if (!strcmp(k, "sampling") && sv)
            rc = copy_name(c->sampling, sizeof c->sampling, sv, k, path, SAMPLINGS);
        else if (!strcmp(k, "interp") && sv)
            rc = copy_name(c->interp, sizeof c->interp, sv, k, path, INTERPS);
        else if (!strcmp(k, "selection") && sv)
            rc = copy_name(c->selection, sizeof c->selection, sv, k, path, SELECTIONS);
        else if (!strcmp(k, "decode_mode") && sv)
            rc = copy_name(c->decode_mode, sizeof c->decode_mode, sv, k, path, DECODES);
        else if (!strcmp(k, "weights") && sv)
            rc = copy_name(c->weights, sizeof c->weights, sv, k, path, WEIGHTS);
        else if (!strcmp(k, "compute") && sv)
            rc = copy_name(c->compute, sizeof c->compute, sv, k, path, COMPUTES);
        else if (!strcmp(k, "device") && sv)
            rc = copy_name(c->device, sizeof c->device, sv, k, path, DEVICES);
        else if (!strcmp(k, "order") && sv)
            rc = copy_name(c->order, sizeof c->order, sv, k, path, ORDERS);
        else if (!strcmp(k, "shard") && sv)
            rc = parse_shard(c, sv, path);
        else if (isnum && (!strcmp(k, "candidates") || !strcmp(k, "threads") || !strcmp(k, "warmup") ||
                           !strcmp(k, "limit") || !strcmp(k, "vit_cache_mb") || !strcmp(k, "flush_rows"))) {
            if (it->valuedouble < 0 || it->valuedouble > INT_MAX) {
                rc = vb_fail(VB_ERR_FORMAT, "%s: %s out of range", path, k);
                break;
            }
            int32_t v = (int32_t)it->valuedouble;
            if (!strcmp(k, "candidates"))
                c->candidates = v;
            else if (!strcmp(k, "threads"))
                c->threads = v;
            else if (!strcmp(k, "warmup"))
                c->warmup = v;
            else if (!strcmp(k, "vit_cache_mb"))
                c->vit_cache_mb = v;
            else if (!strcmp(k, "flush_rows"))
                c->flush_rows = v;
            else
                c->limit = v;
        } else if (isnum && !strcmp(k, "seed")) {
            if (it->valuedouble < 0) rc = vb_fail(VB_ERR_FORMAT, "%s: seed must be >= 0", path);
            c->seed = (uint64_t)it->valuedouble;
        } else if (cJSON_IsBool(it) && !strcmp(k, "skip_bad"))
            c->skip_bad = cJSON_IsTrue(it);
        else if (cJSON_IsBool(it) && !strcmp(k, "quiet"))
            c->quiet = cJSON_IsTrue(it);
        else if (cJSON_IsBool(it) && !strcmp(k, "keep_going"))
            c->keep_going = cJSON_IsTrue(it);
        else
            rc = vb_fail(VB_ERR_FORMAT, "%s: unknown key or wrong type: \"%s\"", path, k);
        if (rc != VB_OK) break;
    }
    cJSON_Delete(root);
    return rc;
}

int vb_runconfig_from_args(struct vb_run_config * c, int argc, char ** argv) {
    for (int i = 1; i < argc; i++) {
        const char * v;
        if (vb_cli_opt(argc, argv, &i, "--config", &v)) {
            int rc = vb_runconfig_load_json(c, v);
            if (rc != VB_OK) return rc;
        }
    }
    const char * shared_model = NULL;
    char *       pending[VB_RUN_MAX_METHODS];
    int32_t      n_pending = 0;
    for (int i = 1; i < argc; i++) {
        const char * v;
        int          rc = VB_OK;
        if (vb_cli_opt(argc, argv, &i, "--config", &v))
            continue;
        else if (vb_cli_opt(argc, argv, &i, "--dataset", &v))
            set_str(&c->dataset, v);
        else if (vb_cli_opt(argc, argv, &i, "--annotations", &v))
            set_str(&c->annotations, v);
        else if (vb_cli_opt(argc, argv, &i, "--map", &v))
            set_str(&c->map, v);
        else if (vb_cli_opt(argc, argv, &i, "--videos", &v))
            set_str(&c->videos, v);
        else if (vb_cli_opt(argc, argv, &i, "--db", &v))
            set_str(&c->db, v);
        else if (vb_cli_opt(argc, argv, &i, "--samples", &v))
            set_str(&c->samples_file, v);
        else if (vb_cli_opt(argc, argv, &i, "--frames", &v))
            rc = parse_frames(c, v, "--frames");
        else if (vb_cli_opt(argc, argv, &i, "--candidates", &v))
            rc = parse_nonneg(v, "--candidates", &c->candidates);
        else if (vb_cli_opt(argc, argv, &i, "--sampling", &v))
            rc = copy_name(c->sampling, sizeof c->sampling, v, "--sampling", "flags", SAMPLINGS);
        else if (vb_cli_opt(argc, argv, &i, "--interp", &v))
            rc = copy_name(c->interp, sizeof c->interp, v, "--interp", "flags", INTERPS);
        else if (vb_cli_opt(argc, argv, &i, "--selection", &v))
            rc = copy_name(c->selection, sizeof c->selection, v, "--selection", "flags", SELECTIONS);
        else if (vb_cli_opt(argc, argv, &i, "--decode-mode", &v))
            rc = copy_name(c->decode_mode, sizeof c->decode_mode, v, "--decode-mode", "flags", DECODES);
        else if (vb_cli_opt(argc, argv, &i, "--weights", &v))
            rc = copy_name(c->weights, sizeof c->weights, v, "--weights", "flags", WEIGHTS);
        else if (vb_cli_opt(argc, argv, &i, "--compute", &v))
            rc = copy_name(c->compute, sizeof c->compute, v, "--compute", "flags", COMPUTES);
        else if (vb_cli_opt(argc, argv, &i, "--device", &v))
            rc = copy_name(c->device, sizeof c->device, v, "--device", "flags", DEVICES);
        else if (vb_cli_opt(argc, argv, &i, "--order", &v))
            rc = copy_name(c->order, sizeof c->order, v, "--order", "flags", ORDERS);
        else if (vb_cli_opt(argc, argv, &i, "--method-frames", &v))
            rc = parse_method_frames(c, v);
        else if (vb_cli_opt(argc, argv, &i, "--seed", &v)) {
            char * end;
            c->seed = strtoull(v, &end, 10);
            if (end == v || *end || v[0] == '-')
                rc = vb_fail(VB_ERR_ARG, "--seed: expected an unsigned integer, got '%s'", v);
        } else if (vb_cli_opt(argc, argv, &i, "--threads", &v))
            rc = parse_nonneg(v, "--threads", &c->threads);
        else if (vb_cli_opt(argc, argv, &i, "--warmup", &v))
            rc = parse_nonneg(v, "--warmup", &c->warmup);
        else if (vb_cli_opt(argc, argv, &i, "--limit", &v))
            rc = parse_nonneg(v, "--limit", &c->limit);
        else if (vb_cli_opt(argc, argv, &i, "--vit-cache-mb", &v))
            rc = parse_nonneg(v, "--vit-cache-mb", &c->vit_cache_mb);
        else if (vb_cli_opt(argc, argv, &i, "--flush-rows", &v))
            rc = parse_nonneg(v, "--flush-rows", &c->flush_rows);
        else if (vb_cli_opt(argc, argv, &i, "--kill-after", &v))
            rc = parse_nonneg(v, "--kill-after", &c->kill_after);
        else if (vb_cli_opt(argc, argv, &i, "--shard", &v))
            rc = parse_shard(c, v, "--shard");
        else if (vb_cli_opt(argc, argv, &i, "--model", &v))
            shared_model = v;
        else if (vb_cli_opt(argc, argv, &i, "--method", &v) || vb_cli_opt(argc, argv, &i, "--methods", &v)) {
            char buf[1024];
            snprintf(buf, sizeof buf, "%s", v);
            for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                if (strchr(tok, '='))
                    rc = parse_method_spec(c, tok, NULL);
                else if (n_pending < VB_RUN_MAX_METHODS)
                    pending[n_pending++] = vb_strdup(tok);
                else
                    rc = vb_fail(VB_ERR_ARG, "--methods: too many methods");
                if (rc != VB_OK) break;
            }
        } else if (!strcmp(argv[i], "--skip-bad"))
            c->skip_bad = 1;
        else if (!strcmp(argv[i], "--quiet"))
            c->quiet = 1;
        else if (!strcmp(argv[i], "--keep-going"))
            c->keep_going = 1;
        else if (!strcmp(argv[i], "--retry-errors"))
            c->retry_errors = 1;
        else if (!strcmp(argv[i], "--estimate"))
            c->estimate = 1;
        else if (!strcmp(argv[i], "--no-estimate"))
            c->estimate = -1;
        else
            rc = vb_fail(VB_ERR_ARG, "unknown or incomplete option '%s'", argv[i]);
        if (rc != VB_OK) {
            for (int32_t k = 0; k < n_pending; k++)
                free(pending[k]);
            return rc;
        }
    }
    int rc = VB_OK;
    if (n_pending > 0 && !shared_model) {
        /* names only: keep these methods of the configuration file (in this order), drop the others */
        struct vb_run_method keep[VB_RUN_MAX_METHODS];
        int32_t              n_keep = 0;
        for (int32_t k = 0; k < n_pending && rc == VB_OK; k++) {
            int32_t found = -1;
            for (int32_t i = 0; i < c->n_methods; i++)
                if (!strcmp(c->methods[i].name, pending[k])) found = i;
            for (int32_t j = 0; j < n_keep; j++)
                if (!strcmp(keep[j].name, pending[k])) found = -2;
            if (found == -1)
                rc = vb_fail(VB_ERR_ARG, "--methods %s: no bundle for it (NAME=DIR, --model DIR, or the config file)",
                             pending[k]);
            else if (found >= 0) {
                keep[n_keep++] = c->methods[found];
                memset(&c->methods[found], 0, sizeof c->methods[found]);
                c->methods[found].name[0] = 1; /* moved */
            }
        }
        for (int32_t i = 0; i < c->n_methods; i++) { /* free the dropped ones (and, on error, restore nothing) */
            free(c->methods[i].model);
            for (int32_t j = 0; j < c->methods[i].n_per_k; j++)
                free(c->methods[i].per_k_model[j]);
        }
        memset(c->methods, 0, sizeof c->methods);
        memcpy(c->methods, keep, sizeof(keep[0]) * (size_t)n_keep);
        c->n_methods = n_keep;
    } else
        for (int32_t k = 0; k < n_pending && rc == VB_OK; k++)
            rc = parse_method_spec(c, pending[k], shared_model);
    for (int32_t k = 0; k < n_pending; k++)
        free(pending[k]);
    return rc;
}

int vb_runconfig_apply_compute(const struct vb_run_config * c) {
    int mode;
    if (vb_wmat_compute_parse(c->compute, &mode) != VB_OK) return vb_fail(VB_ERR_ARG, "run: %s", vb_errmsg());
    return vb_wmat_set_compute(mode);
}

int vb_runconfig_validate(const struct vb_run_config * c) {
    if (!c->dataset) return vb_fail(VB_ERR_ARG, "run: no dataset (--dataset)");
    if (!c->annotations) return vb_fail(VB_ERR_ARG, "run: no annotation file (--annotations)");
    if (c->n_methods == 0) return vb_fail(VB_ERR_ARG, "run: no method (--method NAME=DIR)");
    if (c->n_frames == 0) return vb_fail(VB_ERR_ARG, "run: no frame counts (--frames)");
    for (int32_t i = 0; i < c->n_methods; i++) {
        const int32_t * fr;
        int32_t         nf = vb_runconfig_method_frames(c, i, &fr);
        for (int32_t j = 0; j < nf; j++)
            if (!vb_runconfig_model(c, i, fr[j]))
                return vb_fail(VB_ERR_ARG,
                               "run: method %s has no model bundle for %d frames (--method %s=DIR or %s@%d=DIR)",
                               c->methods[i].name, fr[j], c->methods[i].name, c->methods[i].name, fr[j]);
        for (int32_t j = 0; j < nf; j++)
            for (int32_t l = 0; l < j; l++)
                if (fr[j] == fr[l])
                    return vb_fail(VB_ERR_ARG, "run: frame count %d listed twice (%s)", fr[j], c->methods[i].name);
    }
    for (int32_t j = 0; j < c->n_frames; j++)
        for (int32_t l = 0; l < j; l++)
            if (c->frames[j] == c->frames[l])
                return vb_fail(VB_ERR_ARG, "run: frame count %d listed twice", c->frames[j]);
    int32_t dt;
    if (vb_runconfig_weight_dtype(c->weights, &dt) != VB_OK) return vb_fail(VB_ERR_ARG, "run: %s", vb_errmsg());
    int mode;
    if (vb_wmat_compute_parse(c->compute, &mode) != VB_OK) return vb_fail(VB_ERR_ARG, "run: %s", vb_errmsg());
    const char * feature;
    if (mode == VB_COMPUTE_BF16 && vb_wmat_kernel_available("avx512bf16", &feature) != 1)
        return vb_fail(VB_ERR_UNSUPPORTED, "run: --compute bf16 needs a CPU with %s; this one lacks it%s%s", feature,
                       vb_cpu_disabled()[0] ? " or VB_CPU_DISABLE takes it away: " : "", vb_cpu_disabled());
    struct vb_cuda_info ci; /* --device cuda: the backend and a GPU, or the reason (never a silent CPU run) */
    if (!strcmp(c->device, "cuda") && !vb_cuda_query(&ci))
        return vb_fail(VB_ERR_UNSUPPORTED, "run: --device cuda: %s", ci.reason);
    if (c->candidates < 0 || c->candidates > 256) return vb_fail(VB_ERR_ARG, "run: candidates out of range");
    if (c->warmup < 0 || c->limit < 0) return vb_fail(VB_ERR_ARG, "run: negative warmup or limit");
    return VB_OK;
}

static char * abs_path(const char * p) {
    if (!p) return NULL;
    char * r = realpath(p, NULL);
    return r ? r : vb_strdup(p);
}

char * vb_runconfig_canonical(const struct vb_run_config * c) {
    /* keys added in sorted order -> compact output is canonical */
    cJSON * o = cJSON_CreateObject();
    char *  a = abs_path(c->annotations);
    cJSON_AddStringToObject(o, "annotations", a ? a : "");
    free(a);
    cJSON_AddNumberToObject(o, "candidates", c->candidates);
    if (strcmp(c->compute, "f32")) cJSON_AddStringToObject(o, "compute", c->compute); /* f32 adds nothing */
    cJSON_AddStringToObject(o, "dataset", c->dataset ? c->dataset : "");
    cJSON_AddStringToObject(o, "decode_mode", c->decode_mode);
    if (strcmp(c->device, "cpu")) cJSON_AddStringToObject(o, "device", c->device); /* cpu adds nothing */
    cJSON * fr = cJSON_AddArrayToObject(o, "frames");
    for (int32_t i = 0; i < c->n_frames; i++)
        cJSON_AddItemToArray(fr, cJSON_CreateNumber(c->frames[i]));
    cJSON_AddStringToObject(o, "interp", c->interp);
    cJSON_AddNumberToObject(o, "limit", c->limit);
    char * m = abs_path(c->map);
    if (m)
        cJSON_AddStringToObject(o, "map", m);
    else
        cJSON_AddNullToObject(o, "map");
    free(m);
    cJSON * ms = cJSON_AddArrayToObject(o, "methods");
    int32_t order[VB_RUN_MAX_METHODS]; /* by name: the order of the flags / file does not change the results */
    for (int32_t i = 0; i < c->n_methods; i++)
        order[i] = i;
    for (int32_t i = 1; i < c->n_methods; i++)
        for (int32_t j = i; j > 0 && strcmp(c->methods[order[j - 1]].name, c->methods[order[j]].name) > 0; j--) {
            int32_t t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    for (int32_t oi = 0; oi < c->n_methods; oi++) {
        int32_t i = order[oi];
        cJSON * e = cJSON_CreateObject();
        if (c->methods[i].n_frames > 0) { /* keys in sorted order: "frames" < "model" */
            cJSON * mf = cJSON_AddArrayToObject(e, "frames");
            for (int32_t j = 0; j < c->methods[i].n_frames; j++)
                cJSON_AddItemToArray(mf, cJSON_CreateNumber(c->methods[i].frames[j]));
        }
        char * mp = abs_path(c->methods[i].model);
        if (mp)
            cJSON_AddStringToObject(e, "model", mp);
        else
            cJSON_AddNullToObject(e, "model");
        free(mp);
        if (c->methods[i].n_per_k > 0) {
            /* keys in ascending k: canonical */
            cJSON * pk = cJSON_AddObjectToObject(e, "models");
            int32_t last = 0;
            for (int32_t n = 0; n < c->methods[i].n_per_k; n++) {
                int32_t best = -1;
                for (int32_t j = 0; j < c->methods[i].n_per_k; j++)
                    if (c->methods[i].per_k_frames[j] > last &&
                        (best < 0 || c->methods[i].per_k_frames[j] < c->methods[i].per_k_frames[best]))
                        best = j;
                last = c->methods[i].per_k_frames[best];
                char key[16];
                snprintf(key, sizeof key, "%d", last);
                char * kp = abs_path(c->methods[i].per_k_model[best]);
                cJSON_AddStringToObject(pk, key, kp);
                free(kp);
            }
        }
        cJSON_AddStringToObject(e, "name", c->methods[i].name);
        cJSON_AddItemToArray(ms, e);
    }
    /* the processing order: provenance (it changes which sample is the warm-up one and the ViT cache's hits, never a
    ** result); always written, so a session of an older build (file order, no key) tells itself apart */
    cJSON_AddStringToObject(o, "order", c->order[0] ? c->order : "video");
    char * s = abs_path(c->samples_file);
    if (s)
        cJSON_AddStringToObject(o, "samples", s);
    else
        cJSON_AddNullToObject(o, "samples");
    free(s);
    cJSON_AddStringToObject(o, "sampling", c->sampling);
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)c->seed);
    cJSON_AddRawToObject(o, "seed", seed);
    cJSON_AddStringToObject(o, "selection", c->selection);
    char * v = abs_path(c->videos);
    if (v)
        cJSON_AddStringToObject(o, "videos", v);
    else
        cJSON_AddNullToObject(o, "videos");
    free(v);
    cJSON_AddNumberToObject(o, "warmup", c->warmup);
    if (strcmp(c->weights, "f32")) cJSON_AddStringToObject(o, "weights", c->weights);
    char * out = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return out;
}
