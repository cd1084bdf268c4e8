/* golden.c — the check-golden driver (see golden.h). */
#include "harness/golden.h"

#include "base/common.h"
#include "engine/blas.h"
#include "harness/cli.h"
#include "harness/runconfig.h"

#include <math.h>
#include <string.h>
#include <unistd.h>

/* Find reference tensor full_name and report its shape; NULL (with the error set) when missing. */
static const struct vb_st_tensor * lookup(struct vb_golden * g, const char * full_name, int64_t * shape_out,
                                          int32_t * ndim_out) {
    const struct vb_st_tensor * t = vb_weights_find(g->cases, full_name);
    if (!t) {
        vb_fail(VB_ERR_NOTFOUND, "%s/cases.safetensors: missing tensor '%s'", g->dir, full_name);
        return NULL;
    }
    if (shape_out) memcpy(shape_out, t->shape, sizeof t->shape);
    if (ndim_out) *ndim_out = t->ndim;
    return t;
}

/* 1 if got's n values fit the reference from ref_offset (a whole-tensor comparison, no label, must cover it all). */
static int slice_fits(const struct vb_st_tensor * t, const char * label, int64_t n, int64_t ref_offset) {
    return ref_offset >= 0 && ref_offset + n <= t->numel && !(ref_offset == 0 && label == NULL && n != t->numel);
}

int vb_golden_f32(struct vb_golden * g, const char * full_name, float ** out, int64_t * shape_out, int32_t * ndim_out) {
    const struct vb_st_tensor * t = lookup(g, full_name, shape_out, ndim_out);
    if (!t) return VB_ERR_NOTFOUND;
    if (t->dtype == VB_DT_I64) {
        int64_t * v;
        int       rc = vb_weights_load_i64(g->cases, full_name, 0, NULL, &v);
        if (rc != VB_OK) return rc;
        float * f = vb_malloc(sizeof(float) * (size_t)(t->numel ? t->numel : 1));
        for (int64_t i = 0; i < t->numel; i++)
            f[i] = (float)v[i];
        free(v);
        *out = f;
        return VB_OK;
    }
    return vb_weights_load_f32(g->cases, full_name, 0, NULL, out);
}

int vb_golden_i64(struct vb_golden * g, const char * full_name, int64_t ** out, int64_t * shape_out,
                  int32_t * ndim_out) {
    if (!lookup(g, full_name, shape_out, ndim_out)) return VB_ERR_NOTFOUND;
    return vb_weights_load_i64(g->cases, full_name, 0, NULL, out);
}

static void print_line(const char * c, const char * t, double err, double tol, int ok, const char * extra) {
    printf("%s %s %.3g %.3g %s%s%s\n", c, t, err, tol, ok ? "ok" : "FAIL", extra ? " " : "", extra ? extra : "");
}

int vb_golden_cmp(struct vb_golden * g, const char * case_name, const char * full_name, const char * label,
                  const float * got, int64_t n, int64_t ref_offset) {
    const char * L = label ? label : full_name;
    float *      ref;
    int          rc = vb_golden_f32(g, full_name, &ref, NULL, NULL);
    if (rc != VB_OK) {
        vb_golden_error(g, case_name, vb_errmsg());
        return 0;
    }
    const struct vb_st_tensor * t = vb_weights_find(g->cases, full_name);
    if (!slice_fits(t, label, n, ref_offset)) {
        char why[160];
        snprintf(why, sizeof why, "(size mismatch: got %lld values, reference has %lld from offset %lld)", (long long)n,
                 (long long)t->numel, (long long)ref_offset);
        print_line(case_name, L, INFINITY, 0, 0, why);
        g->n_fail++;
        free(ref);
        return 0;
    }
    double  maxref = 0, err = 0;
    int64_t worst = 0;
    for (int64_t i = 0; i < n; i++) {
        double r = ref[ref_offset + i];
        if (fabs(r) > maxref) maxref = fabs(r);
        double e = fabs((double)got[i] - r);
        if (!(e <= err)) { /* catches NaN */
            err = isnan(e) ? INFINITY : e;
            worst = i;
        }
    }
    double tol = 1e-4 * (maxref > 1 ? maxref : 1);
    int    ok = err <= tol;
    char   extra[128] = "";
    if (!ok)
        snprintf(extra, sizeof extra, "(worst at %lld: got %.6g ref %.6g)", (long long)worst, got[worst],
                 ref[ref_offset + worst]);
    print_line(case_name, L, err, tol, ok, ok ? NULL : extra);
    if (ok)
        g->n_ok++;
    else
        g->n_fail++;
    free(ref);
    return ok;
}

int vb_golden_cmp_i64(struct vb_golden * g, const char * case_name, const char * full_name, const char * label,
                      const int64_t * got, int64_t n, int64_t ref_offset) {
    const char * L = label ? label : full_name;
    int64_t *    ref;
    int          rc = vb_golden_i64(g, full_name, &ref, NULL, NULL);
    if (rc != VB_OK) {
        vb_golden_error(g, case_name, vb_errmsg());
        return 0;
    }
    const struct vb_st_tensor * t = vb_weights_find(g->cases, full_name);
    int                         ok = slice_fits(t, label, n, ref_offset);
    int64_t                     bad = -1;
    for (int64_t i = 0; ok && i < n; i++)
        if (got[i] != ref[ref_offset + i]) {
            ok = 0;
            bad = i;
        }
    char extra[128] = "";
    if (!ok && bad >= 0)
        snprintf(extra, sizeof extra, "(first difference at %lld: got %lld ref %lld)", (long long)bad,
                 (long long)got[bad], (long long)ref[ref_offset + bad]);
    else if (!ok)
        snprintf(extra, sizeof extra, "(size mismatch: got %lld, reference %lld)", (long long)n, (long long)t->numel);
    print_line(case_name, L, ok ? 0.0 : 1.0, 0.0, ok, ok ? NULL : extra);
    if (ok)
        g->n_ok++;
    else
        g->n_fail++;
    free(ref);
    return ok;
}

void vb_golden_skip(struct vb_golden * g, const char * case_name, const char * why) {
    printf("%s - - - SKIP %s\n", case_name, why);
    g->n_skip++;
}

void vb_golden_error(struct vb_golden * g, const char * case_name, const char * why) {
    printf("%s - - - FAIL %s\n", case_name, why);
    g->n_fail++;
}

const cJSON * vb_golden_case_json(struct vb_golden * g, const char * case_name) {
    const cJSON * cases = cJSON_GetObjectItemCaseSensitive(g->json, "cases");
    return cJSON_GetObjectItemCaseSensitive(cases, case_name);
}

static vb_golden_fn runner_for(const char * c) {
    if (!strcmp(c, "vision")) return vb_golden_run_vision;
    if (!strcmp(c, "qformer") || !strcmp(c, "projection")) return vb_golden_run_qformer;
    if (!strcmp(c, "prompter") || !strcmp(c, "gumbel")) return vb_golden_run_prompter;
    if (!strncmp(c, "t5_", 3) || !strcmp(c, "buckets") || !strncmp(c, "generate", 8)) return vb_golden_run_t5;
    if (!strcmp(c, "image") || !strcmp(c, "video")) return vb_golden_run_pipeline;
    if (!strcmp(c, "uniform") || !strncmp(c, "sevila", 6) || !strncmp(c, "vlap", 4)) return vb_golden_run_method;
    return NULL;
}

static int golden_open(struct vb_golden * g, const char * dir) {
    memset(g, 0, sizeof *g);
    g->dir = dir;
    char p[4200];
    snprintf(p, sizeof p, "%s/cases.json", dir);
    char * js;
    int    rc = vb_read_file(p, &js, NULL);
    if (rc != VB_OK) return rc;
    g->json = cJSON_Parse(js);
    free(js);
    if (!g->json) return vb_fail(VB_ERR_FORMAT, "%s: not valid JSON", p);
    snprintf(p, sizeof p, "%s/cases.safetensors", dir);
    rc = vb_weights_open(&g->cases, p);
    if (rc != VB_OK) return rc;
    snprintf(p, sizeof p, "%s/model.safetensors", dir);
    rc = vb_weights_open(&g->model, p);
    if (rc != VB_OK) return rc;
    snprintf(p, sizeof p, "%s/config.json", dir);
    if (access(p, R_OK) == 0) {
        rc = vb_read_file(p, &g->cfg_json_text, NULL);
        if (rc != VB_OK) return rc;
        rc = vb_config_parse(&g->cfg, g->cfg_json_text, p);
        if (rc != VB_OK) return rc;
        g->has_cfg = 1;
    }
    return VB_OK;
}

static void golden_close(struct vb_golden * g) {
    vb_weights_close(g->model);
    vb_weights_close(g->cases);
    cJSON_Delete(g->json);
    free(g->cfg_json_text);
}

int cmd_check_golden(int argc, char ** argv) {
    if (vb_cli_wants_help(argc, argv) || argc < 2) {
        printf(
            "usage: vlapbench check-golden [--strict] [--case NAME] [--threads N] [--compute f32|bf16]\n"
            "                            [--device cpu|cuda] [--weights f32|bf16|f16] DIR\n"
            "Loads DIR/config.json, model.safetensors, cases.safetensors and cases.json, runs every case it\n"
            "supports and prints one line per compared tensor: `case tensor max_abs_err tolerance ok|FAIL`\n"
            "(`SKIP` for a case it cannot run). Tolerance 1e-4 * max(1, max|reference|); ids compared exactly.\n"
            "Exit 1 on any FAIL, and on any SKIP with --strict.  --compute bf16: the engine's Linears round "
            "activations\n"
            "and weights to bf16 (AVX512_BF16 CPUs; docs/performance.md gives the deviations it causes).\n"
            "--device cuda: the models run on the GPU (f32 weights: the exact path, the same tolerance).  --weights:\n"
            "resident dtype of the large matrices (default f32; bf16 / f16 are not golden-exact: the lines then\n"
            "report the deviation).\n");
        return argc < 2 ? 2 : 0;
    }
    int         strict = 0, threads = 0;
    const char *dir = NULL, *only = NULL, *v, *device = "cpu", *weights = "f32";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--strict"))
            strict = 1;
        else if (vb_cli_opt(argc, argv, &i, "--case", &v))
            only = v;
        else if (vb_cli_opt(argc, argv, &i, "--threads", &v))
            threads = atoi(v);
        else if (vb_cli_opt(argc, argv, &i, "--device", &v))
            device = v; /* cpu | cuda (CUDA: docs/cuda.md) */
        else if (vb_cli_opt(argc, argv, &i, "--weights", &v))
            weights = v;
        else if (vb_cli_opt(argc, argv, &i, "--compute", &v)) {
            if (vb_cli_set_compute("check-golden", v)) return 2;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "check-golden: unknown option %s\n", argv[i]);
            return 2;
        } else
            dir = argv[i];
    }
    if (!dir) {
        fprintf(stderr, "check-golden: DIR missing\n");
        return 2;
    }
    int32_t wdt = VB_DT_F32;
    if (vb_runconfig_weight_dtype(weights, &wdt) != VB_OK) {
        fprintf(stderr, "check-golden: --%s\n", vb_errmsg());
        return 2;
    }
    int cuda = 0, drc = vb_cli_device("check-golden", device, &cuda);
    if (drc != 0) return drc;
    vb_blas_set_threads(threads);
    struct vb_golden g;
    int              rc = golden_open(&g, dir);
    g.device = cuda ? VB_DEVICE_CUDA : VB_DEVICE_CPU; /* every model a case loads goes to the device */
    g.cfg.vision.device = g.cfg.qformer.device = g.cfg.t5.device = g.device;
    g.weight_dtype = wdt;
    g.cfg.vision.weight_dtype = g.cfg.qformer.weight_dtype = g.cfg.t5.weight_dtype = wdt;
    if (rc != VB_OK) {
        fprintf(stderr, "check-golden: %s\n", vb_errmsg());
        golden_close(&g);
        return 1;
    }
    const cJSON * cases = cJSON_GetObjectItemCaseSensitive(g.json, "cases");
    const cJSON * c;
    cJSON_ArrayForEach(c, cases) {
        const char * name = c->string;
        if (only && strcmp(only, name) != 0) continue;
        vb_golden_fn fn = runner_for(name);
        if (!fn) {
            vb_golden_skip(&g, name, "(no runner for this case in this build)");
            continue;
        }
        int32_t fails_before = g.n_fail;
        rc = fn(&g, name);
        if (rc == VB_ERR_UNSUPPORTED)
            vb_golden_skip(&g, name, vb_errmsg());
        else if (rc != VB_OK && g.n_fail == fails_before)
            vb_golden_error(&g, name, vb_errmsg());
        else if (rc != VB_OK)
            fprintf(stderr, "check-golden: %s: %s\n", name, vb_errmsg());
    }
    printf("# %s: %d ok, %d FAIL, %d SKIP\n", dir, g.n_ok, g.n_fail, g.n_skip);
    int ret = (g.n_fail > 0 || (strict && g.n_skip > 0)) ? 1 : 0;
    golden_close(&g);
    return ret;
}
