/* report_json.c — the report's tables as data (report.json; the schema is in report.h). */
#include "reports/report_internal.h"

#include "base/common.h"

#include <cjson/cJSON.h>

#include <errno.h>
#include <math.h>
#include <string.h>

/* A number, or null when not finite. */
static void add_num(cJSON * o, const char * k, double v) {
    if (isfinite(v))
        cJSON_AddNumberToObject(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

/* Percent with its CI from a fraction estimate. */
static cJSON * acc_obj(const struct vb_acc_ci * c) {
    cJSON * o = cJSON_CreateObject();
    add_num(o, "acc", 100 * c->acc);
    add_num(o, "ci_lo", 100 * c->lo);
    add_num(o, "ci_hi", 100 * c->hi);
    cJSON_AddNumberToObject(o, "n", c->n);
    cJSON_AddNumberToObject(o, "n_correct", c->n_correct);
    cJSON_AddNumberToObject(o, "n_videos", c->n_clusters);
    return o;
}

static cJSON * cell_obj(const struct ana * x, const struct vb_report_opts * o) {
    const struct layout * L = x->lay;
    cJSON *               c = cJSON_CreateObject();
    cJSON_AddNumberToObject(c, "run", (double)x->run.id);
    cJSON_AddStringToObject(c, "method", x->run.method);
    cJSON_AddNumberToObject(c, "frames", x->run.frames);
    cJSON_AddNumberToObject(c, "candidates", x->run.candidates);
    cJSON_AddStringToObject(c, "selection", x->run.selection ? x->run.selection : "");
    cJSON_AddStringToObject(c, "status", x->run.status ? x->run.status : "");
    cJSON * cats = cJSON_AddObjectToObject(c, "categories");
    for (int32_t k = 0; k < L->n_cols; k++) {
        cJSON * e = cJSON_AddObjectToObject(cats, L->cols[k].label);
        add_num(e, "acc", 100 * x->col[k]);
        cJSON_AddNumberToObject(e, "n", x->col_n[k]);
    }
    cJSON_AddItemToObject(c, "overall", acc_obj(&x->head));
    if (L->show_pooled) cJSON_AddItemToObject(c, "pooled", acc_obj(&x->pooled));
    cJSON_AddNumberToObject(c, "n", x->pooled.n);
    cJSON_AddNumberToObject(c, "errors", x->run.n_error);
    cJSON_AddNumberToObject(c, "samples", x->run.n_samples);
    add_num(c, "latency_p50_s", x->lat[VB_STAGE_TOTAL].p50 / 1000.0);
    add_num(c, "speedup", x->speedup);
    if (o->published && x->pub) {
        cJSON * p = cJSON_AddObjectToObject(c, "published");
        cJSON_AddStringToObject(p, "source", x->pub->source);
        cJSON_AddStringToObject(p, "model", x->pub->model);
        double pv = vb_published_value(x->pub, x->run.dataset, L->head);
        add_num(p, "value", pv);
        add_num(p, "delta", 100 * x->head.acc - pv);
    }
    return c;
}

int vb_rp_write_json(const char * path, struct ana ** a, int32_t n, const struct vb_report_opts * o,
                     const char * const * warnings, int32_t n_warn) {
    cJSON * j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "runs", n);
    cJSON_AddNumberToObject(j, "bootstrap_replicates", o->n_boot > 0 ? o->n_boot : 1000);
    cJSON_AddNumberToObject(j, "bootstrap_seed", (double)o->seed);
    cJSON_AddStringToObject(j, "ci", "95 % percentile cluster bootstrap over videos");
    cJSON_AddStringToObject(j, "speedup_reference", o->ref_method ? o->ref_method : "sevila");
    cJSON * w = cJSON_AddArrayToObject(j, "warnings");
    for (int32_t i = 0; i < n_warn; i++)
        cJSON_AddItemToArray(w, cJSON_CreateString(warnings[i]));
    cJSON * ds = cJSON_AddArrayToObject(j, "datasets");
    for (int32_t i = 0; i < n;) {
        int32_t m = i;
        while (m < n && !strcmp(a[m]->run.dataset, a[i]->run.dataset))
            m++;
        const struct layout * L = a[i]->lay;
        cJSON *               d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "dataset", a[i]->run.dataset);
        cJSON_AddStringToObject(d, "split", a[i]->run.split);
        cJSON_AddStringToObject(d, "title", L->title ? L->title : a[i]->run.dataset);
        cJSON_AddStringToObject(d, "headline", L->head);
        cJSON_AddStringToObject(d, "headline_mode", L->mode == VB_ACC_MACRO ? "macro" : "pooled");
        cJSON * cols = cJSON_AddArrayToObject(d, "categories");
        for (int32_t k = 0; k < L->n_cols; k++)
            cJSON_AddItemToArray(cols, cJSON_CreateString(L->cols[k].label));
        cJSON * cells = cJSON_AddArrayToObject(d, "cells");
        for (int32_t k = i; k < m; k++)
            cJSON_AddItemToArray(cells, cell_obj(a[k], o));
        cJSON_AddItemToArray(ds, d);
        i = m;
    }
    char * s = cJSON_Print(j);
    cJSON_Delete(j);
    VB_ASSERT(s != NULL);
    FILE * f = fopen(path, "w");
    int    rc = VB_OK;
    if (!f)
        rc = vb_fail(VB_ERR_IO, "%s: %s", path, strerror(errno));
    else {
        fputs(s, f);
        fputc('\n', f);
        if (fclose(f) != 0) rc = vb_fail(VB_ERR_IO, "%s: write failed", path);
    }
    cJSON_free(s);
    return rc;
}
