/* tables.c — the report's tables built from analysed runs (see report_internal.h). */
#include "reports/report_internal.h"

#include "base/common.h"

#include <math.h>
#include <string.h>

/* building the tables                                                                                      */
/* ======================================================================================================== */

static void header(struct tbl * t, const char * const * h) {
    int32_t r = vb_rp_tbl_add_row(t);
    for (int32_t c = 0; c < t->nc; c++)
        vb_rp_tbl_set(t, r, c, vb_strdup(h[c]));
}

/* Main accuracy table of one dataset: rows a[0..n-1] (all of that dataset). */
void vb_rp_table_dataset(struct tbl * t, struct ana ** a, int32_t n, const struct vb_report_opts * o) {
    const struct layout * L = a[0]->lay;
    const char *          dsname = L->title ? L->title : a[0]->run.dataset;
    const char *          h[24];
    int32_t               nc = 0;
    h[nc++] = "Method";
    h[nc++] = "k";
    h[nc++] = "T";
    for (int32_t k = 0; k < L->n_cols; k++)
        h[nc++] = L->cols[k].label;
    char head[32];
    snprintf(head, sizeof head, "%s [95%% CI]", L->head);
    h[nc++] = head;
    if (L->show_pooled) h[nc++] = "All (pooled)";
    h[nc++] = "n";
    h[nc++] = "err";
    h[nc++] = "s/q (p50)";
    h[nc++] = "speed-up";
    char pubh[32], dh[32];
    if (o->published) {
        snprintf(pubh, sizeof pubh, "pub. %s", L->head);
        snprintf(dh, sizeof dh, "\xce\x94 %s", L->head);
        h[nc++] = pubh;
        h[nc++] = dh;
        h[nc++] = "published row";
    }
    vb_rp_tbl_init(t, vb_rp_fmt("%s %s: accuracy (%%) and latency", dsname, a[0]->run.split), nc);
    header(t, h);
    for (int32_t i = 0; i < n; i++) {
        struct ana * x = a[i];
        int32_t      r = vb_rp_tbl_add_row(t), c = 0;
        vb_rp_tbl_set(t, r, c++, vb_rp_fmt("%s (#%lld)", x->name, (long long)x->run.id));
        vb_rp_tbl_set(t, r, c++, vb_rp_fmt("%d", (int)x->run.frames));
        vb_rp_tbl_set(t, r, c++, vb_rp_fmt("%d", (int)x->run.candidates));
        for (int32_t k = 0; k < L->n_cols; k++)
            vb_rp_tbl_set(t, r, c++, vb_rp_pct(x->col[k]));
        if (isnan(x->head.acc))
            vb_rp_tbl_set(t, r, c++, vb_strdup("-"));
        else
            vb_rp_tbl_set(t, r, c++,
                          vb_rp_fmt("%.2f [%.2f, %.2f]", 100 * x->head.acc, 100 * x->head.lo, 100 * x->head.hi));
        if (L->show_pooled) vb_rp_tbl_set(t, r, c++, vb_rp_pct(x->pooled.acc));
        vb_rp_tbl_set(t, r, c++, vb_rp_fmt("%d", (int)x->pooled.n));
        vb_rp_tbl_set(t, r, c++, vb_rp_fmt("%d", (int)x->run.n_error));
        vb_rp_tbl_set(t, r, c++, vb_rp_num(x->lat[VB_STAGE_TOTAL].p50 / 1000.0, "%.3f"));
        vb_rp_tbl_set(t, r, c++, isnan(x->speedup) ? vb_strdup("-") : vb_rp_fmt("%.2fx", x->speedup));
        if (o->published) {
            double pv = vb_published_value(x->pub, x->run.dataset, L->head);
            vb_rp_tbl_set(t, r, c++, vb_rp_num(pv, "%.1f"));
            vb_rp_tbl_set(t, r, c++,
                          isnan(pv) || isnan(x->head.acc) ? vb_strdup("-")
                                                          : vb_rp_fmt("%+.2f", 100 * x->head.acc - pv));
            vb_rp_tbl_set(t, r, c++,
                          x->pub ? vb_rp_fmt("%s: %s [%s]", x->pub->source, x->pub->model,
                                             vb_published_quality_name(x->pub->quality))
                                 : vb_strdup("-"));
        }
    }
    char ref[128] = "";
    snprintf(ref, sizeof ref, "speed-up = median s/q of the first '%s' row / median s/q of the row",
             o->ref_method ? o->ref_method : "sevila");
    t->note = vb_rp_fmt(
        "k = frames given to the answerer, T = candidate frames. %s%s. Accuracy counts errors as wrong; "
        "CI: percentile cluster bootstrap over videos (%d replicates, seed %llu). %s.",
        L->mode == VB_ACC_MACRO ? "Avg = mean of the four category accuracies (STAR headline), "
                                  "All = pooled over all questions"
                                : "Headline = pooled over all questions",
        !strcmp(a[0]->run.dataset, "nextqa") ? "; Tem/Cau/Des pool the T, C, D type groups as eval_mc.py" : "",
        (int)(o->n_boot > 0 ? o->n_boot : 1000), (unsigned long long)o->seed, ref);
}

/* NExT-QA per question type with eval_mc.py's display names (TP merged into TN for Bef&Aft). */
void vb_rp_table_nextqa_types(struct tbl * t, struct ana ** a, int32_t n) {
    static const struct {
        const char *label, *c1, *c2;
    } T[] = {{"Why", "CW", NULL}, {"How", "CH", NULL}, {"Bef&Aft", "TN", "TP"}, {"When", "TC", NULL},
             {"Cnt", "DC", NULL}, {"Loc", "DL", NULL}, {"Other", "DO", NULL}};
    enum { NT = sizeof T / sizeof T[0] };
    const char * h[NT + 1];
    h[0] = "Method";
    for (int k = 0; k < NT; k++)
        h[k + 1] = T[k].label;
    vb_rp_tbl_init(t, vb_rp_fmt("NExT-QA %s: accuracy (%%) per question type (eval_mc.py columns)", a[0]->run.split),
                   NT + 1);
    header(t, h);
    for (int32_t i = 0; i < n; i++) {
        int32_t r = vb_rp_tbl_add_row(t);
        vb_rp_tbl_set(t, r, 0, vb_strdup(a[i]->label));
        for (int k = 0; k < NT; k++) {
            int32_t tot = 0, cor = 0;
            for (int32_t q = 0; q < a[i]->rows.n; q++) {
                const struct vb_store_row * w = &a[i]->rows.r[q];
                if (w->correct < 0) continue;
                if (strcmp(w->category, T[k].c1) != 0 && !(T[k].c2 && !strcmp(w->category, T[k].c2))) continue;
                tot++;
                cor += w->correct == 1;
            }
            vb_rp_tbl_set(t, r, k + 1, vb_rp_pct(tot ? (double)cor / tot : NAN));
        }
    }
    t->note = vb_strdup("Bef&Aft pools TN and TP, as eval_mc.py merges TP into TN before scoring.");
}

/* Published reference rows for one dataset. */
int vb_rp_table_published(struct tbl * t, const char * dataset) {
    const struct layout *       L = vb_rp_layout_for(dataset);
    int32_t                     np;
    const struct vb_published * P = vb_published_table(&np);
    const char *                h[12];
    int32_t                     nc = 0;
    h[nc++] = "Source";
    h[nc++] = "Model";
    for (int32_t k = 0; k < L->n_cols; k++)
        h[nc++] = L->cols[k].label;
    h[nc++] = L->head;
    h[nc++] = "quality";
    vb_rp_tbl_init(t, vb_rp_fmt("%s: published numbers (val splits)", L->title ? L->title : dataset), nc);
    header(t, h);
    int32_t rows = 0;
    for (int32_t i = 0; i < np; i++) {
        double hv = vb_published_value(&P[i], dataset, L->head);
        int    any = !isnan(hv);
        for (int32_t k = 0; k < L->n_cols; k++)
            any |= !isnan(vb_published_value(&P[i], dataset, L->cols[k].label));
        if (!any) continue;
        int32_t r = vb_rp_tbl_add_row(t), c = 0;
        vb_rp_tbl_set(t, r, c++, vb_strdup(P[i].source));
        vb_rp_tbl_set(t, r, c++, vb_strdup(P[i].model));
        for (int32_t k = 0; k < L->n_cols; k++)
            vb_rp_tbl_set(t, r, c++, vb_rp_num(vb_published_value(&P[i], dataset, L->cols[k].label), "%.1f"));
        vb_rp_tbl_set(t, r, c++, vb_rp_num(hv, "%.1f"));
        vb_rp_tbl_set(t, r, c++, vb_strdup(vb_published_quality_name(P[i].quality)));
        rows++;
    }
    t->note = vb_strdup("From docs/methods.md section 8. Published speed-ups (VLAP 3.0x on NExT-QA Temporal "
                        "and STAR, 4.2x on VLEP; SeViLA Table 15: 1.79 s answerer vs 3.28 s SeViLA per sample) were "
                        "measured on unstated set-ups and are not comparable with the speed-ups above.");
    return rows;
}

void vb_rp_table_latency(struct tbl * t, struct ana ** a, int32_t n) {
    const char * h[VB_STAGE_COUNT + 8];
    int32_t      nc = 0;
    h[nc++] = "Run";
    h[nc++] = "dataset";
    for (int s = 0; s < VB_STAGE_TOTAL; s++)
        h[nc++] = vb_latency_stage_name((enum vb_stage)s);
    h[nc++] = "total p50";
    h[nc++] = "p90";
    h[nc++] = "p99";
    h[nc++] = "mean \xc2\xb1 sd";
    vb_rp_tbl_init(t, vb_strdup("Latency per question and stage (ms)"), nc);
    header(t, h);
    for (int32_t i = 0; i < n; i++) {
        int32_t r = vb_rp_tbl_add_row(t), c = 0;
        vb_rp_tbl_set(t, r, c++, vb_strdup(a[i]->label));
        vb_rp_tbl_set(t, r, c++, vb_strdup(a[i]->run.dataset));
        for (int s = 0; s < VB_STAGE_TOTAL; s++)
            vb_rp_tbl_set(t, r, c++, vb_rp_num(a[i]->lat[s].p50, "%.1f"));
        const struct vb_latency_summary * L = &a[i]->lat[VB_STAGE_TOTAL];
        vb_rp_tbl_set(t, r, c++, vb_rp_num(L->p50, "%.1f"));
        vb_rp_tbl_set(t, r, c++, vb_rp_num(L->p90, "%.1f"));
        vb_rp_tbl_set(t, r, c++, vb_rp_num(L->p99, "%.1f"));
        vb_rp_tbl_set(t, r, c++, isnan(L->mean) ? vb_strdup("-") : vb_rp_fmt("%.1f \xc2\xb1 %.1f", L->mean, L->sd));
    }
    t->note = vb_strdup("Stage columns are medians over answered questions. Percentiles: linear interpolation "
                        "(numpy default); sd with the n-1 denominator. Stage medians need not add up to the total.");
}

void vb_rp_table_provenance(struct tbl * t, struct ana ** a, int32_t n) {
    static const char * h[] = {"Run",  "dataset", "split", "sampling", "selection", "decode", "seed",  "commit",
                               "host", "CPU",     "BLAS",  "samples",  "status",    "wall s", "verify"};
    vb_rp_tbl_init(t, vb_strdup("Runs and provenance"), (int32_t)(sizeof h / sizeof h[0]));
    header(t, h);
    for (int32_t i = 0; i < n; i++) {
        const struct vb_store_run * R = &a[i]->run;
        int32_t                     r = vb_rp_tbl_add_row(t), c = 0;
        vb_rp_tbl_set(t, r, c++, vb_strdup(a[i]->label));
        vb_rp_tbl_set(t, r, c++, vb_strdup(R->dataset));
        vb_rp_tbl_set(t, r, c++, vb_strdup(R->split));
        vb_rp_tbl_set(t, r, c++, vb_strdup(R->sampling));
        vb_rp_tbl_set(t, r, c++, vb_strdup(R->selection));
        vb_rp_tbl_set(t, r, c++, vb_strdup(R->decode_mode));
        vb_rp_tbl_set(t, r, c++, vb_rp_fmt("%llu", (unsigned long long)R->seed));
        vb_rp_tbl_set(t, r, c++, vb_rp_fmt("%s%s", R->git_commit, R->git_dirty ? "+dirty" : ""));
        vb_rp_tbl_set(t, r, c++, vb_strdup(R->host ? R->host : "-"));
        vb_rp_tbl_set(t, r, c++, vb_strdup(R->cpu_model ? R->cpu_model : "-"));
        vb_rp_tbl_set(t, r, c++, vb_rp_fmt("%s x%d", R->blas_core ? R->blas_core : "-", (int)R->blas_threads));
        vb_rp_tbl_set(t, r, c++, vb_rp_fmt("%d/%d", (int)R->n_samples, (int)R->n_expected));
        vb_rp_tbl_set(t, r, c++, vb_strdup(R->status));
        vb_rp_tbl_set(t, r, c++, vb_rp_num(R->wall_s, "%.1f"));
        vb_rp_tbl_set(t, r, c++, vb_rp_fmt("%.12s", R->verify_hash ? R->verify_hash : "-"));
    }
    /* the run notes: each session's estimate vs actual wall time (sessions.note, harness/estimate.h) */
    size_t cap = 0, len = 0;
    char * note = NULL;
    for (int32_t i = 0; i < n; i++) {
        const struct vb_store_run * R = &a[i]->run;
        if (!R->notes || !R->notes[0]) continue;
        size_t need = strlen(a[i]->label) + strlen(R->notes) + 128;
        if (len + need > cap) note = vb_realloc(note, cap = 2 * (len + need));
        if (len == 0)
            len += (size_t)snprintf(note, cap,
                                    "Run notes (vlapbench run: estimated wall time of the sample loop vs "
                                    "actual, per session). ");
        len += (size_t)snprintf(note + len, cap - len, "%s: %s. ", a[i]->label, R->notes);
    }
    /* the engine's kernels (sessions.kernels, harness/kernels.h): one sentence where every run names the same, else
    ** one per run that recorded them */
    int all_same = n > 0;
    for (int32_t i = 0; i < n && all_same; i++) {
        const char * k = a[i]->run.kernels;
        all_same = k && k[0] && strcmp(k, a[0]->run.kernels) == 0;
    }
    for (int32_t i = 0; i < (all_same ? 1 : n); i++) {
        const char * k = a[i]->run.kernels;
        if (!k || !k[0]) continue;
        size_t need = strlen(a[i]->label) + strlen(k) + 128;
        if (len + need > cap) note = vb_realloc(note, cap = 2 * (len + need));
        if (all_same)
            len += (size_t)snprintf(note + len, cap - len, "Engine kernels (every run): %s. ", k);
        else
            len += (size_t)snprintf(note + len, cap - len, "Engine kernels of %s: %s. ", a[i]->label, k);
    }
    if (note) {
        note[len - 1] = 0; /* the last space */
        t->note = note;
    }
}

/* ======================================================================================================== */
