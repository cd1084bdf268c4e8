/* compare.c — the paired comparison of two runs (vb_report_compare, report.h). */
#include "reports/report_internal.h"

#include "base/common.h"

#include <cjson/cJSON.h>

#include <math.h>
#include <string.h>

/* paired comparison                                                                                        */
/* ======================================================================================================== */

static int load_run(struct vb_store * st, int64_t id, struct vb_store_run * r, struct vb_store_rows * rows) {
    int rc = vb_store_get_run(st, id, r);
    if (rc != VB_OK) return rc;
    rc = vb_store_load_samples(st, id, rows);
    if (rc != VB_OK) vb_store_run_clear(r);
    return rc;
}

static void lat_ms(const struct vb_store_rows * rows, struct vb_latency_summary * out) {
    double * v = vb_malloc(sizeof(double) * ((size_t)rows->n + 1));
    for (int s = 0; s < VB_STAGE_COUNT; s++) {
        int32_t q = 0;
        for (int32_t i = 0; i < rows->n; i++)
            if (!strcmp(rows->r[i].status, "ok") && rows->r[i].t_us[s] >= 0) v[q++] = rows->r[i].t_us[s] / 1000.0;
        vb_latency_summarize(v, q, &out[s]);
    }
    free(v);
}

/* The newest run of method `ref` with r's dataset, split and k in st and its median total ms (*id = 0 when none). */
static int ref_median(struct vb_store * st, const struct vb_store_run * r, const char * ref, int64_t * id,
                      double * ms) {
    *id = 0;
    *ms = NAN;
    struct vb_store_run * runs = NULL;
    int32_t               n = 0;
    int                   rc = vb_store_list_runs(st, &runs, &n);
    if (rc != VB_OK) return rc;
    for (int32_t i = 0; i < n; i++)
        if (runs[i].method && !strcmp(runs[i].method, ref) && !strcmp(runs[i].dataset, r->dataset) &&
            !strcmp(runs[i].split, r->split) && runs[i].frames == r->frames)
            *id = runs[i].id; /* ordered by id: the last one is the newest */
    vb_store_runs_free(runs, n);
    if (*id == 0) return VB_OK;
    struct vb_store_rows rows;
    rc = vb_store_load_samples(st, *id, &rows);
    if (rc != VB_OK) return rc;
    struct vb_latency_summary lat[VB_STAGE_COUNT];
    lat_ms(&rows, lat);
    vb_store_rows_free(&rows);
    *ms = lat[VB_STAGE_TOTAL].p50;
    return VB_OK;
}

int vb_report_compare(struct vb_store * st_new, int64_t id_new, struct vb_store * st_base, int64_t id_base,
                      const struct vb_compare_opts * o, struct vb_compare_result * out) {
    memset(out, 0, sizeof *out);
    struct vb_store_run  rn, rb;
    struct vb_store_rows xn, xb;
    int                  rc = load_run(st_new, id_new, &rn, &xn);
    if (rc != VB_OK) return vb_fail_prefix(rc, "new run");
    rc = load_run(st_base, id_base, &rb, &xb);
    if (rc != VB_OK) {
        vb_store_run_clear(&rn);
        vb_store_rows_free(&xn);
        return vb_fail_prefix(rc, "baseline run");
    }
    if (strcmp(rn.dataset, rb.dataset) != 0 || strcmp(rn.split, rb.split) != 0) {
        vb_fail(VB_ERR_MISMATCH, "run %lld is %s/%s but baseline %lld is %s/%s", (long long)id_new, rn.dataset,
                rn.split, (long long)id_base, rb.dataset, rb.split);
        vb_store_run_clear(&rn);
        vb_store_run_clear(&rb);
        vb_store_rows_free(&xn);
        vb_store_rows_free(&xb);
        return VB_ERR_MISMATCH;
    }
    out->run_new = id_new;
    out->run_base = id_base;
    snprintf(out->dataset, sizeof out->dataset, "%s", rn.dataset);
    snprintf(out->split, sizeof out->split, "%s", rn.split);
    snprintf(out->method_new, sizeof out->method_new, "%s", rn.method);
    snprintf(out->method_base, sizeof out->method_base, "%s", rb.method);
    out->frames_new = rn.frames;
    out->frames_base = rb.frames;
    out->cand_new = rn.candidates;
    out->cand_base = rb.candidates;
    out->same_predictions = rn.verify_hash && rb.verify_hash && !strcmp(rn.verify_hash, rb.verify_hash);
    /* merge-join on the sorted keys */
    int32_t                      cap = xn.n < xb.n ? xn.n : xb.n, np = 0;
    const struct vb_store_row ** pn = vb_malloc(sizeof(void *) * ((size_t)cap + 1));
    const struct vb_store_row ** pb = vb_malloc(sizeof(void *) * ((size_t)cap + 1));
    int32_t                      i = 0, j = 0;
    while (i < xn.n || j < xb.n) {
        int c = i >= xn.n ? 1 : j >= xb.n ? -1 : strcmp(xn.r[i].key, xb.r[j].key);
        if (c < 0) {
            out->n_only_new += xn.r[i].correct >= 0;
            i++;
        } else if (c > 0) {
            out->n_only_base += xb.r[j].correct >= 0;
            j++;
        } else {
            if (xn.r[i].correct >= 0 && xb.r[j].correct >= 0) {
                pn[np] = &xn.r[i];
                pb[np] = &xb.r[j];
                out->n_changed += xn.r[i].prediction != xb.r[j].prediction;
                np++;
            }
            i++;
            j++;
        }
    }
    if (np == 0) {
        rc = vb_fail(VB_ERR_MISMATCH, "runs %lld and %lld share no scored sample key (datasets %s / %s)",
                     (long long)id_new, (long long)id_base, rn.dataset, rb.dataset);
        goto done;
    }
    /* categories present */
    const char ** cats = vb_malloc(sizeof(char *) * (size_t)np);
    int32_t *     cid = vb_malloc(sizeof(int32_t) * (size_t)np);
    const char ** vids = vb_malloc(sizeof(char *) * (size_t)np);
    for (int32_t k = 0; k < np; k++) {
        cats[k] = pb[k]->category;
        vids[k] = pb[k]->video_id;
    }
    int32_t ncat = vb_stats_dense_ids(cats, np, cid);
    out->rows = vb_calloc((size_t)ncat + 1, sizeof *out->rows);
    uint8_t *     ca = vb_malloc((size_t)np), *cb = vb_malloc((size_t)np);
    int32_t *     sub_cl = vb_malloc(sizeof(int32_t) * (size_t)np);
    const char ** sub_v = vb_malloc(sizeof(char *) * (size_t)np);
    int32_t       nb = o->n_boot > 0 ? o->n_boot : 1000;
    /* row 0: overall; rows 1..ncat: categories in name order */
    int32_t *     order = vb_malloc(sizeof(int32_t) * ((size_t)ncat + 1));
    const char ** cname = vb_malloc(sizeof(char *) * ((size_t)ncat + 1));
    for (int32_t k = 0; k < np; k++)
        cname[cid[k]] = cats[k];
    for (int32_t k = 0; k < ncat; k++)
        order[k] = k;
    for (int32_t k = 1; k < ncat; k++) /* insertion sort by name */
        for (int32_t q = k; q > 0 && strcmp(cname[order[q - 1]], cname[order[q]]) > 0; q--) {
            int32_t t = order[q];
            order[q] = order[q - 1];
            order[q - 1] = t;
        }
    for (int32_t r = 0; r <= ncat && rc == VB_OK; r++) {
        int32_t m = 0;
        for (int32_t k = 0; k < np; k++) {
            if (r > 0 && cid[k] != order[r - 1]) continue;
            ca[m] = (uint8_t)(pn[k]->correct == 1);
            cb[m] = (uint8_t)(pb[k]->correct == 1);
            sub_v[m] = vids[k];
            m++;
        }
        vb_stats_dense_ids(sub_v, m, sub_cl); /* dense video ids within the subset */
        struct vb_paired p;
        rc = vb_stats_paired(ca, cb, sub_cl, m, nb, o->seed, 0.95, &p);
        struct vb_compare_row * w = &out->rows[out->n_rows++];
        snprintf(w->name, sizeof w->name, "%s", r == 0 ? "overall" : cname[order[r - 1]]);
        w->n = p.n;
        w->b = p.n_a_only;
        w->c = p.n_b_only;
        w->acc_new = 100 * p.acc_a;
        w->acc_base = 100 * p.acc_b;
        w->diff = 100 * p.diff;
        w->lo = 100 * p.lo;
        w->hi = 100 * p.hi;
        w->p = p.p_mcnemar;
    }
    free(cats);
    free(cid);
    free(vids);
    free(ca);
    free(cb);
    free(sub_cl);
    free(sub_v);
    free(order);
    free(cname);
    if (rc != VB_OK) goto done;
    lat_ms(&xn, out->lat_new);
    lat_ms(&xb, out->lat_base);
    double mn = out->lat_new[VB_STAGE_TOTAL].p50, mb = out->lat_base[VB_STAGE_TOTAL].p50;
    if (o->latency_ref) { /* each median relative to its database's reference run */
        rc = ref_median(st_new, &rn, o->latency_ref, &out->ref_new, &out->ref_ms_new);
        if (rc == VB_OK) rc = ref_median(st_base, &rb, o->latency_ref, &out->ref_base, &out->ref_ms_base);
        if (rc != VB_OK) goto done;
        mn = out->ref_ms_new > 0 ? mn / out->ref_ms_new : NAN;
        mb = out->ref_ms_base > 0 ? mb / out->ref_ms_base : NAN;
    }
    out->latency_rise_pct = (mb > 0 && isfinite(mn)) ? 100.0 * (mn / mb - 1.0) : NAN;
    /* the gate */
    double                        alpha = o->alpha > 0 ? o->alpha : 0.05;
    const struct vb_compare_row * ov = &out->rows[0];
    double                        drop = -ov->diff;
    out->acc_fail = ov->p < alpha && drop > o->max_acc_drop_pts;
    out->lat_fail = o->max_latency_rise_pct >= 0 && isfinite(out->latency_rise_pct) &&
                    out->latency_rise_pct > o->max_latency_rise_pct;
    out->pred_fail = o->check_changed && out->n_changed > o->max_changed;
    size_t rl = 0;
    if (out->acc_fail)
        rl += (size_t)snprintf(out->reason + rl, sizeof out->reason - rl,
                               "accuracy dropped %.2f points (> %.2f allowed), McNemar p = %.3g < %.3g. ", drop,
                               o->max_acc_drop_pts, ov->p, alpha);
    if (out->lat_fail && rl < sizeof out->reason)
        rl += (size_t)snprintf(out->reason + rl, sizeof out->reason - rl,
                               "median latency rose %.1f %% (> %.1f %% allowed). ", out->latency_rise_pct,
                               o->max_latency_rise_pct);
    if (out->pred_fail && rl < sizeof out->reason)
        rl += (size_t)snprintf(out->reason + rl, sizeof out->reason - rl,
                               "%d paired question(s) changed their prediction (> %d allowed). ", (int)out->n_changed,
                               (int)o->max_changed);
    if (!out->acc_fail && !out->lat_fail && !out->pred_fail) snprintf(out->reason, sizeof out->reason, "within limits");
    if (o->latency_ref && !isfinite(out->latency_rise_pct)) {
        rl = strlen(out->reason);
        snprintf(out->reason + rl, sizeof out->reason - rl, "; latency not checked: no %s run with k = %d in %s",
                 o->latency_ref, (int)rn.frames, out->ref_new ? "the baseline" : "the new database");
    }
done:
    free(pn);
    free(pb);
    vb_store_run_clear(&rn);
    vb_store_run_clear(&rb);
    vb_store_rows_free(&xn);
    vb_store_rows_free(&xb);
    if (rc != VB_OK) vb_report_compare_free(out);
    return rc;
}

void vb_report_compare_free(struct vb_compare_result * r) {
    free(r->rows);
    r->rows = NULL;
    r->n_rows = 0;
}

static cJSON * jnum(double v) {
    return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

struct cJSON * vb_rp_compare_json(const struct vb_compare_result * r, const struct vb_compare_opts * o) {
    cJSON * j = cJSON_CreateObject();
    cJSON_AddBoolToObject(j, "pass", !r->acc_fail && !r->lat_fail && !r->pred_fail);
    cJSON_AddBoolToObject(j, "accuracy_fail", r->acc_fail);
    cJSON_AddBoolToObject(j, "latency_fail", r->lat_fail);
    cJSON_AddBoolToObject(j, "predictions_fail", r->pred_fail);
    cJSON_AddNumberToObject(j, "changed_predictions", r->n_changed);
    if (o->check_changed)
        cJSON_AddNumberToObject(j, "max_changed_predictions", o->max_changed);
    else
        cJSON_AddNullToObject(j, "max_changed_predictions");
    cJSON_AddStringToObject(j, "reason", r->reason);
    cJSON * id = cJSON_AddObjectToObject(j, "new");
    cJSON_AddNumberToObject(id, "run", (double)r->run_new);
    cJSON_AddStringToObject(id, "dataset", r->dataset);
    cJSON_AddStringToObject(id, "split", r->split);
    cJSON_AddStringToObject(id, "method", r->method_new);
    cJSON_AddNumberToObject(id, "frames", r->frames_new);
    cJSON_AddNumberToObject(id, "candidates", r->cand_new);
    id = cJSON_AddObjectToObject(j, "baseline");
    cJSON_AddNumberToObject(id, "run", (double)r->run_base);
    cJSON_AddStringToObject(id, "dataset", r->dataset);
    cJSON_AddStringToObject(id, "split", r->split);
    cJSON_AddStringToObject(id, "method", r->method_base);
    cJSON_AddNumberToObject(id, "frames", r->frames_base);
    cJSON_AddNumberToObject(id, "candidates", r->cand_base);
    cJSON_AddBoolToObject(j, "same_predictions", r->same_predictions);
    cJSON_AddItemToObject(j, "max_acc_drop_pts", jnum(o->max_acc_drop_pts));
    cJSON_AddItemToObject(j, "max_latency_rise_pct",
                          jnum(o->max_latency_rise_pct >= 0 ? o->max_latency_rise_pct : NAN));
    cJSON_AddNumberToObject(j, "only_new", r->n_only_new);
    cJSON_AddNumberToObject(j, "only_baseline", r->n_only_base);
    cJSON * rows = cJSON_AddArrayToObject(j, "accuracy");
    for (int32_t i = 0; i < r->n_rows; i++) {
        const struct vb_compare_row * w = &r->rows[i];
        cJSON *                       o2 = cJSON_CreateObject();
        cJSON_AddStringToObject(o2, "name", w->name);
        cJSON_AddNumberToObject(o2, "n", w->n);
        cJSON_AddItemToObject(o2, "acc_new", jnum(w->acc_new));
        cJSON_AddItemToObject(o2, "acc_baseline", jnum(w->acc_base));
        cJSON_AddItemToObject(o2, "diff_pts", jnum(w->diff));
        cJSON_AddItemToObject(o2, "ci_lo_pts", jnum(w->lo));
        cJSON_AddItemToObject(o2, "ci_hi_pts", jnum(w->hi));
        cJSON_AddNumberToObject(o2, "new_only_correct", w->b);
        cJSON_AddNumberToObject(o2, "baseline_only_correct", w->c);
        cJSON_AddItemToObject(o2, "p_mcnemar", jnum(w->p));
        cJSON_AddItemToArray(rows, o2);
    }
    cJSON * lat = cJSON_AddArrayToObject(j, "latency_ms");
    for (int s = 0; s < VB_STAGE_COUNT; s++) {
        cJSON * o2 = cJSON_CreateObject();
        cJSON_AddStringToObject(o2, "stage", vb_latency_stage_name((enum vb_stage)s));
        cJSON_AddItemToObject(o2, "p50_new", jnum(r->lat_new[s].p50));
        cJSON_AddItemToObject(o2, "p50_baseline", jnum(r->lat_base[s].p50));
        cJSON_AddItemToObject(o2, "mean_new", jnum(r->lat_new[s].mean));
        cJSON_AddItemToObject(o2, "mean_baseline", jnum(r->lat_base[s].mean));
        cJSON_AddItemToArray(lat, o2);
    }
    cJSON_AddItemToObject(j, "latency_rise_pct", jnum(r->latency_rise_pct));
    if (o->latency_ref) {
        cJSON * ref = cJSON_AddObjectToObject(j, "latency_reference");
        cJSON_AddStringToObject(ref, "method", o->latency_ref);
        cJSON_AddItemToObject(ref, "run_new", r->ref_new ? cJSON_CreateNumber((double)r->ref_new) : cJSON_CreateNull());
        cJSON_AddItemToObject(ref, "run_baseline",
                              r->ref_base ? cJSON_CreateNumber((double)r->ref_base) : cJSON_CreateNull());
        cJSON_AddItemToObject(ref, "p50_ms_new", jnum(r->ref_ms_new));
        cJSON_AddItemToObject(ref, "p50_ms_baseline", jnum(r->ref_ms_base));
    }
    return j;
}

void vb_report_compare_print(FILE * f, const struct vb_compare_result * r, const struct vb_compare_opts * o, int json) {
    if (json) {
        cJSON * j = vb_rp_compare_json(r, o);
        char *  s = cJSON_Print(j);
        fprintf(f, "%s\n", s);
        cJSON_free(s);
        cJSON_Delete(j);
        return;
    }
    fprintf(f, "%-14s %6s %8s %8s %8s %18s %5s %5s %10s\n", "accuracy", "n", "new%", "base%", "diff", "95% CI (pts)",
            "b", "c", "McNemar p");
    for (int32_t i = 0; i < r->n_rows; i++) {
        const struct vb_compare_row * w = &r->rows[i];
        fprintf(f, "%-14s %6d %8.2f %8.2f %+8.2f   [%+6.2f, %+6.2f] %5d %5d %10.4g\n", w->name, (int)w->n, w->acc_new,
                w->acc_base, w->diff, w->lo, w->hi, (int)w->b, (int)w->c, w->p);
    }
    fprintf(f, "(b = new only correct, c = baseline only correct; CI: paired cluster bootstrap over videos)\n");
    if (r->n_only_new || r->n_only_base)
        fprintf(f, "unpaired scored samples: %d only in new, %d only in baseline\n", (int)r->n_only_new,
                (int)r->n_only_base);
    fprintf(f, "\n%-12s %12s %12s %9s\n", "latency ms", "p50 new", "p50 base", "change");
    for (int s = 0; s < VB_STAGE_COUNT; s++) {
        double a = r->lat_new[s].p50, b = r->lat_base[s].p50;
        char   ch[32] = "-";
        if (b > 0 && isfinite(a)) snprintf(ch, sizeof ch, "%+.1f%%", 100 * (a / b - 1));
        fprintf(f, "%-12s %12.2f %12.2f %9s\n", vb_latency_stage_name((enum vb_stage)s), a, b, ch);
    }
    if (o->latency_ref)
        fprintf(
            f,
            "latency gate relative to %s (median total: new run #%lld %.2f ms, baseline run #%lld %.2f ms): %+.1f%%\n",
            o->latency_ref, (long long)r->ref_new, r->ref_ms_new, (long long)r->ref_base, r->ref_ms_base,
            r->latency_rise_pct);
    fprintf(f, "\npredictions identical: %s\n", r->same_predictions ? "yes (verification hashes equal)" : "no");
    fprintf(f, "changed predictions: %d of the paired questions\n", (int)r->n_changed);
    fprintf(f, "verdict: %s (%s)\n", (!r->acc_fail && !r->lat_fail && !r->pred_fail) ? "PASS" : "FAIL", r->reason);
}
