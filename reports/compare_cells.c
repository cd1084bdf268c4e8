/* compare_cells.c — matching the runs of two databases by cell key and comparing each pair
** (vb_report_compare_cells, report.h: the key is defined there). */
#include "reports/report_internal.h"

#include "base/common.h"

#include <cjson/cJSON.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One run reduced to its cell key. */
struct keyed {
    char *  key; /* canonical JSON (owned) */
    char    dataset[32], split[16], method[32];
    int32_t frames, candidates;
    char *  label; /* owned */
    int64_t id;
    int32_t dup; /* runs with this key in the database (set on the kept entry) */
};

/* The cell key of run r as canonical JSON (keys sorted, compact; malloc'd), without the fields o->key_ignore names. */
static char * cell_key(const struct vb_store_run * r, const struct vb_compare_opts * opts) {
    cJSON * o = cJSON_CreateObject();
    cJSON * cfg = r->config ? cJSON_Parse(r->config) : NULL;
    cJSON * settings = cfg ? cJSON_GetObjectItemCaseSensitive(cfg, "config") : NULL;
    cJSON_AddNumberToObject(o, "blas_threads", r->blas_threads);
    cJSON_AddNumberToObject(o, "candidates", r->candidates);
    /* the settings object as stored (it was canonicalised, keys sorted, when the run was created) */
    cJSON_AddItemToObject(o, "config", settings ? cJSON_Duplicate(settings, 1) : cJSON_CreateObject());
    cJSON_AddStringToObject(o, "dataset", r->dataset ? r->dataset : "");
    cJSON_AddStringToObject(o, "decode_mode", r->decode_mode ? r->decode_mode : "");
    cJSON_AddNumberToObject(o, "frames", r->frames);
    cJSON_AddStringToObject(o, "method", r->method ? r->method : "");
    cJSON_AddStringToObject(o, "sampling", r->sampling ? r->sampling : "");
    char seed[24];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)r->seed);
    cJSON_AddStringToObject(o, "seed", seed);
    cJSON_AddStringToObject(o, "selection", r->selection ? r->selection : "");
    cJSON_AddStringToObject(o, "split", r->split ? r->split : "");
    cJSON_AddStringToObject(o, "weights_dtype", r->weights_dtype ? r->weights_dtype : "f32");
    cJSON_Delete(cfg);
    for (int32_t i = 0; opts && i < opts->n_key_ignore; i++) {
        const char * f = opts->key_ignore[i];
        if (!strncmp(f, "config.", 7)) /* one setting of the settings object */
            cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "config"), f + 7);
        else
            cJSON_DeleteItemFromObjectCaseSensitive(o, f);
    }
    char * t = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    VB_ASSERT(t != NULL);
    char * out = vb_strdup(t);
    cJSON_free(t);
    return out;
}

static int by_key_then_id(const void * a, const void * b) {
    const struct keyed *x = a, *y = b;
    int                 c = strcmp(x->key, y->key);
    return c ? c : (x->id < y->id ? -1 : x->id > y->id);
}

/* The runs of st keyed, sorted by key, one entry per key (the newest run; dup = how many share it). */
static int keyed_runs(struct vb_store * st, const struct vb_compare_opts * opts, struct keyed ** out, int32_t * n_out) {
    struct vb_store_run * runs = NULL;
    int32_t               n = 0;
    *out = NULL;
    *n_out = 0;
    int rc = vb_store_list_runs(st, &runs, &n);
    if (rc != VB_OK) return rc;
    struct keyed * k = vb_calloc((size_t)n + 1, sizeof *k);
    for (int32_t i = 0; i < n; i++) {
        k[i].key = cell_key(&runs[i], opts);
        k[i].label = vb_rp_fmt("%s/%s %s k=%d T=%d", runs[i].dataset, runs[i].split, runs[i].method,
                               (int)runs[i].frames, (int)runs[i].candidates);
        k[i].id = runs[i].id;
        snprintf(k[i].dataset, sizeof k[i].dataset, "%s", runs[i].dataset ? runs[i].dataset : "");
        snprintf(k[i].split, sizeof k[i].split, "%s", runs[i].split ? runs[i].split : "");
        snprintf(k[i].method, sizeof k[i].method, "%s", runs[i].method ? runs[i].method : "");
        k[i].frames = runs[i].frames;
        k[i].candidates = runs[i].candidates;
    }
    vb_store_runs_free(runs, n);
    qsort(k, (size_t)n, sizeof *k, by_key_then_id);
    int32_t m = 0;
    for (int32_t i = 0; i < n; i++) {
        if (m > 0 && !strcmp(k[m - 1].key, k[i].key)) { /* same key: keep the newest */
            free(k[m - 1].key);
            free(k[m - 1].label);
            int32_t d = k[m - 1].dup;
            k[m - 1] = k[i];
            k[m - 1].dup = d + 1;
            continue;
        }
        k[m] = k[i];
        k[m].dup = 1;
        m++;
    }
    *out = k;
    *n_out = m;
    return VB_OK;
}

static void keyed_free(struct keyed * k, int32_t n) {
    for (int32_t i = 0; i < n; i++) {
        free(k[i].key);
        free(k[i].label);
    }
    free(k);
}

static int paper_order(const void * a, const void * b) {
    const struct vb_compare_cell *x = a, *y = b;
    int                           c = vb_rp_dataset_rank(x->dataset) - vb_rp_dataset_rank(y->dataset);
    if (!c) c = strcmp(x->dataset, y->dataset);
    if (!c) c = strcmp(x->split, y->split);
    if (!c) c = vb_rp_method_rank(x->method) - vb_rp_method_rank(y->method);
    if (!c) c = strcmp(x->method, y->method);
    if (!c) c = x->frames - y->frames;
    if (!c) c = x->candidates - y->candidates;
    return c ? c : strcmp(x->key, y->key);
}

int vb_report_compare_cells(struct vb_store * st_new, struct vb_store * st_base, const struct vb_compare_opts * o,
                            struct vb_compare_cells * out) {
    memset(out, 0, sizeof *out);
    struct keyed *kn = NULL, *kb = NULL;
    int32_t       nn = 0, nb = 0;
    int           rc = keyed_runs(st_new, o, &kn, &nn);
    if (rc != VB_OK) return vb_fail_prefix(rc, "new database");
    rc = keyed_runs(st_base, o, &kb, &nb);
    if (rc != VB_OK) {
        keyed_free(kn, nn);
        return vb_fail_prefix(rc, "baseline database");
    }
    out->c = vb_calloc((size_t)nn + (size_t)nb + 1, sizeof *out->c);
    int32_t i = 0, j = 0;
    while (i < nn || j < nb) {
        int                      c = i >= nn ? 1 : j >= nb ? -1 : strcmp(kn[i].key, kb[j].key);
        struct vb_compare_cell * w = &out->c[out->n++];
        const struct keyed *     src = c <= 0 ? &kn[i] : &kb[j];
        w->key = vb_strdup(src->key);
        w->label = vb_strdup(src->label);
        memcpy(w->dataset, src->dataset, sizeof w->dataset);
        memcpy(w->split, src->split, sizeof w->split);
        memcpy(w->method, src->method, sizeof w->method);
        w->frames = src->frames;
        w->candidates = src->candidates;
        if (c <= 0) {
            w->run_new = kn[i].id;
            w->dup_new = kn[i].dup;
            i++;
        }
        if (c >= 0) {
            w->run_base = kb[j].id;
            w->dup_base = kb[j].dup;
            j++;
        }
        if (c < 0) out->n_only_new++;
        if (c > 0) out->n_only_base++;
        if (c != 0) continue;
        int r = vb_report_compare(st_new, w->run_new, st_base, w->run_base, o, &w->result);
        if (r != VB_OK) {
            w->error = 1;
            snprintf(w->why, sizeof w->why, "%s", vb_errmsg());
            out->n_error++;
            continue;
        }
        w->paired = 1;
        out->n_paired++;
        out->n_fail += w->result.acc_fail || w->result.lat_fail || w->result.pred_fail;
    }
    keyed_free(kn, nn);
    keyed_free(kb, nb);
    qsort(out->c, (size_t)out->n, sizeof *out->c, paper_order);
    if (out->n_paired + out->n_error == 0)
        return vb_fail(VB_ERR_MISMATCH, "no cell (dataset, split, method, k, T, settings) is in both databases");
    return VB_OK;
}

void vb_report_compare_cells_free(struct vb_compare_cells * c) {
    for (int32_t i = 0; i < c->n; i++) {
        free(c->c[i].key);
        free(c->c[i].label);
        if (c->c[i].paired) vb_report_compare_free(&c->c[i].result);
    }
    free(c->c);
    memset(c, 0, sizeof *c);
}

static const char * verdict(const struct vb_compare_cell * w) {
    if (w->error) return "ERROR";
    if (!w->paired) return w->run_new ? "only-new" : "only-baseline";
    return (w->result.acc_fail || w->result.lat_fail || w->result.pred_fail) ? "FAIL" : "PASS";
}

void vb_report_compare_cells_print(FILE * f, const struct vb_compare_cells * c, const struct vb_compare_opts * o,
                                   int json) {
    int pass = c->n_fail == 0 && c->n_error == 0 && c->n_paired > 0;
    if (json) {
        cJSON * j = cJSON_CreateObject();
        cJSON_AddBoolToObject(j, "pass", pass);
        cJSON_AddNumberToObject(j, "cells_paired", c->n_paired);
        cJSON_AddNumberToObject(j, "cells_failed", c->n_fail);
        cJSON_AddNumberToObject(j, "cells_error", c->n_error);
        cJSON_AddNumberToObject(j, "cells_only_new", c->n_only_new);
        cJSON_AddNumberToObject(j, "cells_only_baseline", c->n_only_base);
        cJSON * ig = cJSON_AddArrayToObject(j, "key_ignored");
        for (int32_t i = 0; i < o->n_key_ignore; i++)
            cJSON_AddItemToArray(ig, cJSON_CreateString(o->key_ignore[i]));
        cJSON * arr = cJSON_AddArrayToObject(j, "cells");
        for (int32_t i = 0; i < c->n; i++) {
            const struct vb_compare_cell * w = &c->c[i];
            cJSON *                        e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "verdict", verdict(w));
            cJSON * key = cJSON_Parse(w->key);
            cJSON_AddItemToObject(e, "cell", key ? key : cJSON_CreateNull());
            if (w->run_new)
                cJSON_AddNumberToObject(e, "run_new", (double)w->run_new);
            else
                cJSON_AddNullToObject(e, "run_new");
            if (w->run_base)
                cJSON_AddNumberToObject(e, "run_baseline", (double)w->run_base);
            else
                cJSON_AddNullToObject(e, "run_baseline");
            cJSON_AddNumberToObject(e, "runs_with_key_new", w->dup_new);
            cJSON_AddNumberToObject(e, "runs_with_key_baseline", w->dup_base);
            if (w->error) cJSON_AddStringToObject(e, "error", w->why);
            if (w->paired) cJSON_AddItemToObject(e, "comparison", vb_rp_compare_json(&w->result, o));
            cJSON_AddItemToArray(arr, e);
        }
        char * s = cJSON_Print(j);
        fprintf(f, "%s\n", s);
        cJSON_free(s);
        cJSON_Delete(j);
        return;
    }
    fprintf(f, "%-40s %6s %6s %6s %8s %8s %8s %9s  %s\n", "cell (dataset/split method k T)", "new", "base", "n", "new%",
            "base%", "diff", "latency", "verdict");
    for (int32_t i = 0; i < c->n; i++) {
        const struct vb_compare_cell * w = &c->c[i];
        char                           a[24] = "-", b[24] = "-";
        if (w->run_new) snprintf(a, sizeof a, "#%lld", (long long)w->run_new);
        if (w->run_base) snprintf(b, sizeof b, "#%lld", (long long)w->run_base);
        if (!w->paired) {
            fprintf(f, "%-40s %6s %6s %6s %8s %8s %8s %9s  %s%s%s\n", w->label, a, b, "", "", "", "", "", verdict(w),
                    w->error ? ": " : "", w->error ? w->why : "");
            continue;
        }
        const struct vb_compare_result * r = &w->result;
        const struct vb_compare_row *    ov = &r->rows[0];
        char                             lat[24] = "-";
        if (isfinite(r->latency_rise_pct)) snprintf(lat, sizeof lat, "%+.1f%%", r->latency_rise_pct);
        fprintf(f, "%-40s %6s %6s %6d %8.2f %8.2f %+8.2f %9s  %s", w->label, a, b, (int)ov->n, ov->acc_new,
                ov->acc_base, ov->diff, lat, verdict(w));
        if (r->acc_fail || r->lat_fail || r->pred_fail) fprintf(f, " (%s)", r->reason);
        fprintf(f, "\n");
        if (w->dup_new > 1 || w->dup_base > 1)
            fprintf(f, "  note: %d / %d runs share this cell key; the newest of each is compared\n", (int)w->dup_new,
                    (int)w->dup_base);
    }
    fprintf(f, "\ncells: %d paired, %d failed, %d not comparable, %d only in new, %d only in baseline\n",
            (int)c->n_paired, (int)c->n_fail, (int)c->n_error, (int)c->n_only_new, (int)c->n_only_base);
    int32_t n_unlat = 0; /* paired cells whose latency could not be checked ("-" above) */
    for (int32_t i = 0; i < c->n; i++)
        n_unlat += c->c[i].paired && !isfinite(c->c[i].result.latency_rise_pct);
    if (n_unlat && o->max_latency_rise_pct >= 0)
        fprintf(f, "latency not checked in %d paired cell(s) (latency '-': no timings%s)\n", (int)n_unlat,
                o->latency_ref ? " or no reference run at that k" : "");
    char lim[48] = "not checked";
    if (o->max_latency_rise_pct >= 0) snprintf(lim, sizeof lim, "%.1f %%", o->max_latency_rise_pct);
    fprintf(f, "gate: accuracy drop > %.2f pts with McNemar p < %.3g fails; median latency rise limit: %s",
            o->max_acc_drop_pts, o->alpha > 0 ? o->alpha : 0.05, lim);
    if (o->latency_ref && o->max_latency_rise_pct >= 0)
        fprintf(f, " of the median relative to %s's at the same dataset and k", o->latency_ref);
    if (o->check_changed) fprintf(f, "; changed predictions allowed per cell: %d", (int)o->max_changed);
    for (int32_t i = 0; i < o->n_key_ignore; i++)
        fprintf(f, "%s%s", i ? ", " : "; cells matched ignoring ", o->key_ignore[i]);
    fprintf(f, "\n");
    fprintf(f, "verdict: %s\n", pass ? "PASS" : "FAIL");
}
