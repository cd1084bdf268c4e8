/* analysis.c — dataset layouts and the per-run analysis of the report (see report_internal.h). */
#include "reports/report_internal.h"

#include "base/common.h"

#include <math.h>
#include <string.h>

/* ======================================================================================================== */
/* dataset layouts                                                                                          */
/* ======================================================================================================== */

static const struct layout LAYOUTS[] = {
    {"nextqa", "NExT-QA", 3, {{"Tem", "T", 1}, {"Cau", "C", 1}, {"Des", "D", 1}}, VB_ACC_POOLED, "Avg", 0},
    {"star",
     "STAR",
     4,
     {{"Int", "Interaction", 0}, {"Seq", "Sequence", 0}, {"Pre", "Prediction", 0}, {"Fea", "Feasibility", 0}},
     VB_ACC_MACRO,
     "Avg",
     1},
    {"how2qa", "How2QA", 0, {{0}}, VB_ACC_POOLED, "Acc", 0},
    {"vlep", "VLEP", 0, {{0}}, VB_ACC_POOLED, "Acc", 0},
};
static const struct layout GENERIC = {NULL, NULL, 0, {{0}}, VB_ACC_POOLED, "Acc", 0};

const struct layout * vb_rp_layout_for(const char * ds) {
    for (size_t i = 0; i < sizeof LAYOUTS / sizeof LAYOUTS[0]; i++)
        if (!strcmp(LAYOUTS[i].dataset, ds)) return &LAYOUTS[i];
    if (!strcmp(ds, "how2qa-value")) return &LAYOUTS[2];
    return &GENERIC;
}

/* paper order: NExT-QA, STAR, How2QA, VLEP, then others by name */
int vb_rp_dataset_rank(const char * ds) {
    for (size_t i = 0; i < sizeof LAYOUTS / sizeof LAYOUTS[0]; i++)
        if (!strcmp(LAYOUTS[i].dataset, ds)) return (int)i;
    if (!strcmp(ds, "how2qa-value")) return 2;
    return 100;
}

int vb_rp_method_rank(const char * m) {
    if (!strcmp(m, "uniform")) return 0;
    if (!strcmp(m, "sevila")) return 1;
    if (!strcmp(m, "vlap")) return 2;
    return 3;
}

/* ======================================================================================================== */
/* per-run analysis                                                                                         */
/* ======================================================================================================== */

const char * vb_rp_display_name(const struct vb_report_opts * o, const char * method) {
    size_t n = strlen(method);
    for (int32_t i = 0; o && i < o->n_display_names; i++) {
        const char * e = o->display_names[i];
        if (!strncmp(e, method, n) && e[n] == '=' && e[n + 1]) return e + n + 1;
    }
    return method;
}

int vb_rp_analyse(struct vb_store * st, int64_t id, const struct vb_report_opts * o, struct ana * a) {
    memset(a, 0, sizeof *a);
    int rc = vb_store_get_run(st, id, &a->run);
    if (rc == VB_OK) rc = vb_store_load_samples(st, id, &a->rows);
    if (rc != VB_OK) return rc;
    a->lay = vb_rp_layout_for(a->run.dataset);
    a->name = vb_rp_display_name(o, a->run.method);
    if (a->run.candidates != a->run.frames)
        snprintf(a->label, sizeof a->label, "%s %d->%d #%lld", a->name, (int)a->run.candidates, (int)a->run.frames,
                 (long long)a->run.id);
    else
        snprintf(a->label, sizeof a->label, "%s %d #%lld", a->name, (int)a->run.frames, (long long)a->run.id);
    int32_t       n = a->rows.n, m = 0;
    uint8_t *     c = vb_malloc((size_t)n + 1);
    const char ** vids = vb_malloc(sizeof(char *) * ((size_t)n + 1));
    const char ** cats = vb_malloc(sizeof(char *) * ((size_t)n + 1));
    int32_t *     cl = vb_malloc(sizeof(int32_t) * ((size_t)n + 1));
    int32_t *     ct = vb_malloc(sizeof(int32_t) * ((size_t)n + 1));
    for (int32_t i = 0; i < n; i++) {
        const struct vb_store_row * r = &a->rows.r[i];
        if (r->correct < 0) continue; /* answer unknown */
        c[m] = (uint8_t)(r->correct == 1);
        vids[m] = r->video_id;
        cats[m] = r->category;
        m++;
    }
    vb_stats_dense_ids(vids, m, cl);
    int32_t ncat = vb_stats_dense_ids(cats, m, ct);
    int32_t nb = o->n_boot > 0 ? o->n_boot : 1000;
    rc = vb_stats_accuracy_ci(c, cl, ct, ncat, m, VB_ACC_POOLED, nb, o->seed, 0.95, &a->pooled);
    if (rc == VB_OK) {
        if (a->lay->mode == VB_ACC_MACRO && ncat > 0)
            rc = vb_stats_accuracy_ci(c, cl, ct, ncat, m, VB_ACC_MACRO, nb, o->seed, 0.95, &a->head);
        else
            a->head = a->pooled;
    }
    for (int32_t k = 0; k < a->lay->n_cols; k++) {
        const struct col * cc = &a->lay->cols[k];
        int32_t            tot = 0, cor = 0;
        for (int32_t i = 0; i < n; i++) {
            const struct vb_store_row * r = &a->rows.r[i];
            if (r->correct < 0) continue;
            if (strcmp(cc->by_group ? r->group : r->category, cc->name) != 0) continue;
            tot++;
            cor += r->correct == 1;
        }
        a->col_n[k] = tot;
        a->col[k] = tot ? (double)cor / tot : NAN;
    }
    double * v = vb_malloc(sizeof(double) * ((size_t)n + 1));
    for (int s = 0; s < VB_STAGE_COUNT && rc == VB_OK; s++) {
        int32_t q = 0;
        for (int32_t i = 0; i < n; i++) {
            const struct vb_store_row * r = &a->rows.r[i];
            if (strcmp(r->status, "ok") != 0 || r->t_us[s] < 0) continue;
            v[q++] = r->t_us[s] / 1000.0;
        }
        rc = vb_latency_summarize(v, q, &a->lat[s]);
    }
    a->speedup = NAN;
    if (o->published)
        a->pub = vb_published_find(a->run.method, a->run.frames, a->run.candidates, o->published_setting,
                                   a->run.dataset, a->lay->head);
    free(v);
    free(c);
    free(vids);
    free(cats);
    free(cl);
    free(ct);
    return rc;
}

void vb_rp_ana_free(struct ana * a) {
    vb_store_run_clear(&a->run);
    vb_store_rows_free(&a->rows);
}
