/* report.c — tables, plots and the paired comparison (contract in report.h). */
#include "reports/report.h"

#include "engine/common.h"
#include "metrics/stats.h"
#include "reports/plot.h"
#include "reports/published.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

/* ======================================================================================================== */
/* dataset layouts                                                                                          */
/* ======================================================================================================== */

struct col {
    const char * label; /* column header, also the published column name */
    const char * name;  /* category or group value */
    int          by_group;
};

struct layout {
    const char *     dataset;
    const char *     title;
    int32_t          n_cols;
    struct col       cols[5];
    enum vb_acc_mode mode;        /* headline */
    const char *     head;        /* headline column label ("Avg", "Acc") */
    int              show_pooled; /* extra "All" column (STAR: headline is the macro mean) */
};

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

static const struct layout * layout_for(const char * ds) {
    for (size_t i = 0; i < sizeof LAYOUTS / sizeof LAYOUTS[0]; i++)
        if (!strcmp(LAYOUTS[i].dataset, ds)) return &LAYOUTS[i];
    if (!strcmp(ds, "how2qa-value")) return &LAYOUTS[2];
    return &GENERIC;
}

/* paper order: NExT-QA, STAR, How2QA, VLEP, then others by name */
static int dataset_rank(const char * ds) {
    for (size_t i = 0; i < sizeof LAYOUTS / sizeof LAYOUTS[0]; i++)
        if (!strcmp(LAYOUTS[i].dataset, ds)) return (int)i;
    if (!strcmp(ds, "how2qa-value")) return 2;
    return 100;
}

static int method_rank(const char * m) {
    if (!strcmp(m, "uniform")) return 0;
    if (!strcmp(m, "sevila")) return 1;
    if (!strcmp(m, "vlap")) return 2;
    return 3;
}

/* ======================================================================================================== */
/* per-run analysis                                                                                         */
/* ======================================================================================================== */

struct ana {
    struct vb_store_run         run;
    struct vb_store_rows        rows;
    const struct layout *       lay;
    struct vb_acc_ci            head;   /* headline (fractions) */
    struct vb_acc_ci            pooled; /* all questions pooled */
    double                      col[5]; /* fraction, NAN = no question */
    int32_t                     col_n[5];
    struct vb_latency_summary   lat[VB_STAGE_COUNT]; /* milliseconds */
    double                      speedup;
    const struct vb_published * pub;
    char                        label[96]; /* "vlap 32->4 #3" */
};

static int analyse(struct vb_store * st, int64_t id, const struct vb_report_opts * o, struct ana * a) {
    memset(a, 0, sizeof *a);
    int rc = vb_store_get_run(st, id, &a->run);
    if (rc == VB_OK) rc = vb_store_load_samples(st, id, &a->rows);
    if (rc != VB_OK) return rc;
    a->lay = layout_for(a->run.dataset);
    if (a->run.candidates != a->run.frames)
        snprintf(a->label, sizeof a->label, "%s %d->%d #%lld", a->run.method, (int)a->run.candidates,
                 (int)a->run.frames, (long long)a->run.id);
    else
        snprintf(a->label, sizeof a->label, "%s %d #%lld", a->run.method, (int)a->run.frames, (long long)a->run.id);
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

static void ana_free(struct ana * a) {
    vb_store_run_clear(&a->run);
    vb_store_rows_free(&a->rows);
}

/* ======================================================================================================== */
/* tables: one model, three renderers                                                                       */
/* ======================================================================================================== */

struct tbl {
    char *  title;
    char *  note;
    int32_t nc, nr; /* nr includes the header row */
    char ** cell;   /* (nr, nc) */
};

static char * fmt(const char * f, ...) __attribute__((format(printf, 1, 2)));
static char * fmt(const char * f, ...) {
    va_list ap;
    VB_ASSERT(f != NULL); /* also tells GCC's -Wformat-truncation under UBSan that f is set */
    va_start(ap, f);
    int n = vsnprintf(NULL, 0, f, ap);
    va_end(ap);
    char * s = vb_malloc((size_t)n + 1);
    va_start(ap, f);
    vsnprintf(s, (size_t)n + 1, f, ap);
    va_end(ap);
    return s;
}

static void tbl_init(struct tbl * t, char * title, int32_t nc) {
    memset(t, 0, sizeof *t);
    t->title = title;
    t->nc = nc;
}

static int32_t tbl_add_row(struct tbl * t) {
    t->cell = vb_realloc(t->cell, sizeof(char *) * (size_t)(t->nr + 1) * (size_t)t->nc);
    for (int32_t c = 0; c < t->nc; c++)
        t->cell[(size_t)t->nr * t->nc + c] = NULL;
    return t->nr++;
}

static void tbl_set(struct tbl * t, int32_t r, int32_t c, char * s) { /* takes ownership */
    VB_ASSERT(r < t->nr && c < t->nc);
    free(t->cell[(size_t)r * t->nc + c]);
    t->cell[(size_t)r * t->nc + c] = s;
}

static const char * tbl_get(const struct tbl * t, int32_t r, int32_t c) {
    const char * s = t->cell[(size_t)r * t->nc + c];
    return s ? s : "";
}

static void tbl_free(struct tbl * t) {
    for (int32_t i = 0; i < t->nr * t->nc; i++)
        free(t->cell[i]);
    free(t->cell);
    free(t->title);
    free(t->note);
}

static char * pct(double f) {
    return isnan(f) ? vb_strdup("-") : fmt("%.2f", 100 * f);
}
static char * num(double v, const char * f) {
    return isnan(v) ? vb_strdup("-") : fmt(f, v);
}

/* ---- escaping ---- */
static void put_md(FILE * f, const char * s) {
    for (; *s; s++) {
        if (*s == '|')
            fputs("\\|", f);
        else if (*s == '\n')
            fputc(' ', f);
        else
            fputc(*s, f);
    }
}

static void put_html(FILE * f, const char * s) {
    for (; *s; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '&':
            fputs("&amp;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            if ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t')
                fputc(' ', f);
            else
                fputc(*s, f);
        }
    }
}

static void put_tex(FILE * f, const char * s) {
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (!strncmp(s, "\xce\x94", 2)) { /* U+0394 Delta */
            fputs("$\\Delta$", f);
            s++;
            continue;
        }
        if (!strncmp(s, "\xc2\xb1", 2)) { /* U+00B1 plus-minus */
            fputs("$\\pm$", f);
            s++;
            continue;
        }
        if (!strncmp(s, "->", 2)) {
            fputs("$\\to$", f);
            s++;
            continue;
        }
        switch (c) {
        case '\\':
            fputs("\\textbackslash{}", f);
            break;
        case '{':
        case '}':
        case '$':
        case '&':
        case '#':
        case '_':
        case '%':
            fprintf(f, "\\%c", c);
            break;
        case '^':
            fputs("\\textasciicircum{}", f);
            break;
        case '~':
            fputs("\\textasciitilde{}", f);
            break;
        case '<':
            fputs("\\textless{}", f);
            break;
        case '>':
            fputs("\\textgreater{}", f);
            break;
        case '|':
            fputs("\\textbar{}", f);
            break;
        default:
            if (c < 0x20)
                fputc(' ', f);
            else
                fputc(c, f);
        }
    }
}

static void tbl_md(FILE * f, const struct tbl * t) {
    fputs("\n### ", f);
    put_md(f, t->title);
    fputs("\n\n", f);
    for (int32_t r = 0; r < t->nr; r++) {
        fputc('|', f);
        for (int32_t c = 0; c < t->nc; c++) {
            fputc(' ', f);
            put_md(f, tbl_get(t, r, c));
            fputs(" |", f);
        }
        fputc('\n', f);
        if (r == 0) {
            fputc('|', f);
            for (int32_t c = 0; c < t->nc; c++)
                fputs(c == 0 ? "---|" : "---:|", f);
            fputc('\n', f);
        }
    }
    if (t->note) {
        fputs("\n", f);
        put_md(f, t->note);
        fputs("\n", f);
    }
}

static void tbl_tex(FILE * f, const struct tbl * t) {
    fputs("\\begin{table}[ht]\n\\centering\\small\n\\caption{", f);
    put_tex(f, t->title);
    fputs("}\n\\resizebox{\\ifdim\\width>\\textwidth\\textwidth\\else\\width\\fi}{!}{%\n\\begin{tabular}{l", f);
    for (int32_t c = 1; c < t->nc; c++)
        fputs("r", f);
    fputs("}\n\\toprule\n", f);
    for (int32_t r = 0; r < t->nr; r++) {
        for (int32_t c = 0; c < t->nc; c++) {
            if (c) fputs(" & ", f);
            put_tex(f, tbl_get(t, r, c));
        }
        fputs(" \\\\\n", f);
        if (r == 0) fputs("\\midrule\n", f);
    }
    fputs("\\bottomrule\n\\end{tabular}}\n", f);
    if (t->note) {
        fputs("\\par\\medskip\\footnotesize ", f);
        put_tex(f, t->note);
        fputs("\n", f);
    }
    fputs("\\end{table}\n\n", f);
}

static void tbl_html(FILE * f, const struct tbl * t) {
    fputs("<h3>", f);
    put_html(f, t->title);
    fputs("</h3>\n<table>\n<thead><tr>", f);
    for (int32_t c = 0; c < t->nc; c++) {
        fputs("<th>", f);
        put_html(f, tbl_get(t, 0, c));
        fputs("</th>", f);
    }
    fputs("</tr></thead>\n<tbody>\n", f);
    for (int32_t r = 1; r < t->nr; r++) {
        fputs("<tr>", f);
        for (int32_t c = 0; c < t->nc; c++) {
            fputs(c ? "<td class=\"n\">" : "<td>", f);
            put_html(f, tbl_get(t, r, c));
            fputs("</td>", f);
        }
        fputs("</tr>\n", f);
    }
    fputs("</tbody>\n</table>\n", f);
    if (t->note) {
        fputs("<p class=\"note\">", f);
        put_html(f, t->note);
        fputs("</p>\n", f);
    }
}

/* ======================================================================================================== */
/* building the tables                                                                                      */
/* ======================================================================================================== */

static void header(struct tbl * t, const char * const * h) {
    int32_t r = tbl_add_row(t);
    for (int32_t c = 0; c < t->nc; c++)
        tbl_set(t, r, c, vb_strdup(h[c]));
}

/* Main accuracy table of one dataset: rows a[0..n-1] (all of that dataset). */
static void table_dataset(struct tbl * t, struct ana ** a, int32_t n, const struct vb_report_opts * o) {
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
    tbl_init(t, fmt("%s %s: accuracy (%%) and latency", dsname, a[0]->run.split), nc);
    header(t, h);
    for (int32_t i = 0; i < n; i++) {
        struct ana * x = a[i];
        int32_t      r = tbl_add_row(t), c = 0;
        tbl_set(t, r, c++, fmt("%s (#%lld)", x->run.method, (long long)x->run.id));
        tbl_set(t, r, c++, fmt("%d", (int)x->run.frames));
        tbl_set(t, r, c++, fmt("%d", (int)x->run.candidates));
        for (int32_t k = 0; k < L->n_cols; k++)
            tbl_set(t, r, c++, pct(x->col[k]));
        if (isnan(x->head.acc))
            tbl_set(t, r, c++, vb_strdup("-"));
        else
            tbl_set(t, r, c++, fmt("%.2f [%.2f, %.2f]", 100 * x->head.acc, 100 * x->head.lo, 100 * x->head.hi));
        if (L->show_pooled) tbl_set(t, r, c++, pct(x->pooled.acc));
        tbl_set(t, r, c++, fmt("%d", (int)x->pooled.n));
        tbl_set(t, r, c++, fmt("%d", (int)x->run.n_error));
        tbl_set(t, r, c++, num(x->lat[VB_STAGE_TOTAL].p50 / 1000.0, "%.3f"));
        tbl_set(t, r, c++, isnan(x->speedup) ? vb_strdup("-") : fmt("%.2fx", x->speedup));
        if (o->published) {
            double pv = vb_published_value(x->pub, x->run.dataset, L->head);
            tbl_set(t, r, c++, num(pv, "%.1f"));
            tbl_set(t, r, c++, isnan(pv) || isnan(x->head.acc) ? vb_strdup("-") : fmt("%+.2f", 100 * x->head.acc - pv));
            tbl_set(t, r, c++,
                    x->pub
                        ? fmt("%s: %s [%s]", x->pub->source, x->pub->model, vb_published_quality_name(x->pub->quality))
                        : vb_strdup("-"));
        }
    }
    char ref[128] = "";
    snprintf(ref, sizeof ref, "speed-up = median s/q of the first '%s' row / median s/q of the row",
             o->ref_method ? o->ref_method : "sevila");
    t->note =
        fmt("k = frames given to the answerer, T = candidate frames. %s%s. Accuracy counts errors as wrong; "
            "CI: percentile cluster bootstrap over videos (%d replicates, seed %llu). %s.",
            L->mode == VB_ACC_MACRO ? "Avg = mean of the four category accuracies (STAR headline), "
                                      "All = pooled over all questions"
                                    : "Headline = pooled over all questions",
            !strcmp(a[0]->run.dataset, "nextqa") ? "; Tem/Cau/Des pool the T, C, D type groups as eval_mc.py" : "",
            (int)(o->n_boot > 0 ? o->n_boot : 1000), (unsigned long long)o->seed, ref);
}

/* NExT-QA per question type with eval_mc.py's display names (TP merged into TN for Bef&Aft). */
static void table_nextqa_types(struct tbl * t, struct ana ** a, int32_t n) {
    static const struct {
        const char *label, *c1, *c2;
    } T[] = {{"Why", "CW", NULL}, {"How", "CH", NULL}, {"Bef&Aft", "TN", "TP"}, {"When", "TC", NULL},
             {"Cnt", "DC", NULL}, {"Loc", "DL", NULL}, {"Other", "DO", NULL}};
    enum { NT = sizeof T / sizeof T[0] };
    const char * h[NT + 1];
    h[0] = "Method";
    for (int k = 0; k < NT; k++)
        h[k + 1] = T[k].label;
    tbl_init(t, fmt("NExT-QA %s: accuracy (%%) per question type (eval_mc.py columns)", a[0]->run.split), NT + 1);
    header(t, h);
    for (int32_t i = 0; i < n; i++) {
        int32_t r = tbl_add_row(t);
        tbl_set(t, r, 0, vb_strdup(a[i]->label));
        for (int k = 0; k < NT; k++) {
            int32_t tot = 0, cor = 0;
            for (int32_t q = 0; q < a[i]->rows.n; q++) {
                const struct vb_store_row * w = &a[i]->rows.r[q];
                if (w->correct < 0) continue;
                if (strcmp(w->category, T[k].c1) != 0 && !(T[k].c2 && !strcmp(w->category, T[k].c2))) continue;
                tot++;
                cor += w->correct == 1;
            }
            tbl_set(t, r, k + 1, pct(tot ? (double)cor / tot : NAN));
        }
    }
    t->note = vb_strdup("Bef&Aft pools TN and TP, as eval_mc.py merges TP into TN before scoring.");
}

/* Published reference rows for one dataset. */
static int table_published(struct tbl * t, const char * dataset) {
    const struct layout *       L = layout_for(dataset);
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
    tbl_init(t, fmt("%s: published numbers (val splits)", L->title ? L->title : dataset), nc);
    header(t, h);
    int32_t rows = 0;
    for (int32_t i = 0; i < np; i++) {
        double hv = vb_published_value(&P[i], dataset, L->head);
        int    any = !isnan(hv);
        for (int32_t k = 0; k < L->n_cols; k++)
            any |= !isnan(vb_published_value(&P[i], dataset, L->cols[k].label));
        if (!any) continue;
        int32_t r = tbl_add_row(t), c = 0;
        tbl_set(t, r, c++, vb_strdup(P[i].source));
        tbl_set(t, r, c++, vb_strdup(P[i].model));
        for (int32_t k = 0; k < L->n_cols; k++)
            tbl_set(t, r, c++, num(vb_published_value(&P[i], dataset, L->cols[k].label), "%.1f"));
        tbl_set(t, r, c++, num(hv, "%.1f"));
        tbl_set(t, r, c++, vb_strdup(vb_published_quality_name(P[i].quality)));
        rows++;
    }
    t->note = vb_strdup("From docs/methods.md section 8. Published speed-ups (VLAP 3.0x on NExT-QA Temporal "
                        "and STAR, 4.2x on VLEP; SeViLA Table 15: 1.79 s answerer vs 3.28 s SeViLA per sample) were "
                        "measured on unstated set-ups and are not comparable with the speed-ups above.");
    return rows;
}

static void table_latency(struct tbl * t, struct ana ** a, int32_t n) {
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
    tbl_init(t, vb_strdup("Latency per question and stage (ms)"), nc);
    header(t, h);
    for (int32_t i = 0; i < n; i++) {
        int32_t r = tbl_add_row(t), c = 0;
        tbl_set(t, r, c++, vb_strdup(a[i]->label));
        tbl_set(t, r, c++, vb_strdup(a[i]->run.dataset));
        for (int s = 0; s < VB_STAGE_TOTAL; s++)
            tbl_set(t, r, c++, num(a[i]->lat[s].p50, "%.1f"));
        const struct vb_latency_summary * L = &a[i]->lat[VB_STAGE_TOTAL];
        tbl_set(t, r, c++, num(L->p50, "%.1f"));
        tbl_set(t, r, c++, num(L->p90, "%.1f"));
        tbl_set(t, r, c++, num(L->p99, "%.1f"));
        tbl_set(t, r, c++, isnan(L->mean) ? vb_strdup("-") : fmt("%.1f \xc2\xb1 %.1f", L->mean, L->sd));
    }
    t->note = vb_strdup("Stage columns are medians over answered questions. Percentiles: linear interpolation "
                        "(numpy default); sd with the n-1 denominator. Stage medians need not add up to the total.");
}

static void table_provenance(struct tbl * t, struct ana ** a, int32_t n) {
    static const char * h[] = {"Run",  "dataset", "split", "sampling", "selection", "decode", "seed",  "commit",
                               "host", "CPU",     "BLAS",  "samples",  "status",    "wall s", "verify"};
    tbl_init(t, vb_strdup("Runs and provenance"), (int32_t)(sizeof h / sizeof h[0]));
    header(t, h);
    for (int32_t i = 0; i < n; i++) {
        const struct vb_store_run * R = &a[i]->run;
        int32_t                     r = tbl_add_row(t), c = 0;
        tbl_set(t, r, c++, vb_strdup(a[i]->label));
        tbl_set(t, r, c++, vb_strdup(R->dataset));
        tbl_set(t, r, c++, vb_strdup(R->split));
        tbl_set(t, r, c++, vb_strdup(R->sampling));
        tbl_set(t, r, c++, vb_strdup(R->selection));
        tbl_set(t, r, c++, vb_strdup(R->decode_mode));
        tbl_set(t, r, c++, fmt("%llu", (unsigned long long)R->seed));
        tbl_set(t, r, c++, fmt("%s%s", R->git_commit, R->git_dirty ? "+dirty" : ""));
        tbl_set(t, r, c++, vb_strdup(R->host ? R->host : "-"));
        tbl_set(t, r, c++, vb_strdup(R->cpu_model ? R->cpu_model : "-"));
        tbl_set(t, r, c++, fmt("%s x%d", R->blas_core ? R->blas_core : "-", (int)R->blas_threads));
        tbl_set(t, r, c++, fmt("%d/%d", (int)R->n_samples, (int)R->n_expected));
        tbl_set(t, r, c++, vb_strdup(R->status));
        tbl_set(t, r, c++, num(R->wall_s, "%.1f"));
        tbl_set(t, r, c++, fmt("%.12s", R->verify_hash ? R->verify_hash : "-"));
    }
}

/* ======================================================================================================== */
/* plots                                                                                                    */
/* ======================================================================================================== */

struct plots {
    char ** base; /* (n) file stem inside out_dir */
    char ** title;
    int32_t n;
};

static void plots_add(struct plots * p, const char * base, const char * title) {
    p->base = vb_realloc(p->base, sizeof(char *) * (size_t)(p->n + 1));
    p->title = vb_realloc(p->title, sizeof(char *) * (size_t)(p->n + 1));
    p->base[p->n] = vb_strdup(base);
    p->title[p->n] = vb_strdup(title);
    p->n++;
}

static void plots_free(struct plots * p) {
    for (int32_t i = 0; i < p->n; i++) {
        free(p->base[i]);
        free(p->title[i]);
    }
    free(p->base);
    free(p->title);
}

/* distinct methods among a[0..n-1] in order of appearance */
static int32_t methods_of(struct ana ** a, int32_t n, const char ** m) {
    int32_t k = 0;
    for (int32_t i = 0; i < n; i++) {
        int seen = 0;
        for (int32_t j = 0; j < k && !seen; j++)
            seen = !strcmp(m[j], a[i]->run.method);
        if (!seen) m[k++] = a[i]->run.method;
    }
    return k;
}

/* plots of one dataset; returns the first error (plots are best effort) */
static int plots_dataset(const struct vb_plot_ctx * ctx, const char * dir, struct ana ** a, int32_t n,
                         struct plots * out) {
    char ds[64]; /* the dataset name as a safe file-name component */
    snprintf(ds, sizeof ds, "%s", a[0]->run.dataset);
    for (char * c = ds; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '-')) *c = '_';
    const char *            dsname = a[0]->lay->title ? a[0]->lay->title : ds;
    const char **           m = vb_malloc(sizeof(char *) * (size_t)n);
    int32_t                 nm = methods_of(a, n, m);
    struct vb_plot_series * s = vb_calloc((size_t)(nm > n ? nm : n), sizeof *s);
    double *                xs = vb_malloc(sizeof(double) * (size_t)n * 2), *ys = xs + n;
    uint8_t *               mk = vb_calloc((size_t)n, 1);
    char                    base[4096], stem[256], title[256];
    int                     rc = VB_OK, r;

    /* 1. accuracy vs frames: one series per method, points (k, headline) sorted by k (rows are sorted) */
    int32_t off = 0;
    for (int32_t j = 0; j < nm; j++) {
        s[j].name = m[j];
        s[j].x = xs + off;
        s[j].y = ys + off;
        for (int32_t i = 0; i < n; i++)
            if (!strcmp(a[i]->run.method, m[j])) {
                xs[off] = a[i]->run.frames;
                ys[off] = 100 * a[i]->head.acc;
                off++;
                s[j].n++;
            }
    }
    snprintf(stem, sizeof stem, "acc_vs_frames_%s", ds);
    snprintf(base, sizeof base, "%s/%s", dir, stem);
    snprintf(title, sizeof title, "%s: accuracy vs frames given to the answerer", dsname);
    r = vb_plot_lines(ctx, base, title, "frames k", "accuracy (%)", s, nm, 1);
    if (r == VB_OK)
        plots_add(out, stem, title);
    else if (rc == VB_OK && r != VB_ERR_ARG)
        rc = r; /* VB_ERR_ARG: no data, nothing to draw */

    /* 2. accuracy vs latency, Pareto front over all rows of the dataset (lower latency, higher accuracy) */
    off = 0;
    for (int32_t j = 0; j < nm; j++) {
        s[j].n = 0;
        s[j].x = xs + off;
        s[j].y = ys + off;
        s[j].mark = mk + off;
        for (int32_t i = 0; i < n; i++)
            if (!strcmp(a[i]->run.method, m[j])) {
                xs[off] = a[i]->lat[VB_STAGE_TOTAL].p50 / 1000.0;
                ys[off] = 100 * a[i]->head.acc;
                off++;
                s[j].n++;
            }
    }
    for (int32_t i = 0; i < off; i++) {
        int dom = !isfinite(xs[i]) || !isfinite(ys[i]);
        for (int32_t j = 0; j < off && !dom; j++)
            if (j != i && isfinite(xs[j]) && isfinite(ys[j]) && xs[j] <= xs[i] && ys[j] >= ys[i] &&
                (xs[j] < xs[i] || ys[j] > ys[i]))
                dom = 1;
        mk[i] = (uint8_t)!dom;
    }
    snprintf(stem, sizeof stem, "acc_vs_latency_%s", ds);
    snprintf(base, sizeof base, "%s/%s", dir, stem);
    snprintf(title, sizeof title, "%s: accuracy vs median latency (Pareto front marked)", dsname);
    r = vb_plot_scatter_front(ctx, base, title, "median seconds per question", "accuracy (%)", s, nm);
    if (r == VB_OK)
        plots_add(out, stem, title);
    else if (rc == VB_OK && r != VB_ERR_ARG)
        rc = r; /* VB_ERR_ARG: no data, nothing to draw */
    for (int32_t j = 0; j < nm; j++)
        s[j].mark = NULL;

    /* 3. per-stage mean latency, stacked, one bar per run */
    {
        const char ** bl = vb_malloc(sizeof(char *) * (size_t)n);
        const char *  sl[VB_STAGE_TOTAL];
        double *      v = vb_malloc(sizeof(double) * (size_t)n * VB_STAGE_TOTAL);
        for (int st = 0; st < VB_STAGE_TOTAL; st++)
            sl[st] = vb_latency_stage_name((enum vb_stage)st);
        for (int32_t i = 0; i < n; i++) {
            bl[i] = a[i]->label;
            for (int st = 0; st < VB_STAGE_TOTAL; st++)
                v[(size_t)i * VB_STAGE_TOTAL + st] = a[i]->lat[st].mean;
        }
        snprintf(stem, sizeof stem, "stage_latency_%s", ds);
        snprintf(base, sizeof base, "%s/%s", dir, stem);
        snprintf(title, sizeof title, "%s: mean latency per stage (ms per question)", dsname);
        r = vb_plot_stacked(ctx, base, title, "ms per question", bl, n, sl, VB_STAGE_TOTAL, v);
        if (r == VB_OK)
            plots_add(out, stem, title);
        else if (rc == VB_OK && r != VB_ERR_ARG)
            rc = r;
        free(bl);
        free(v);
    }

    /* 4. histogram of normalised picked positions, one series per run that picks among candidates */
    {
        enum { NB = 10 };
        double *hx = vb_malloc(sizeof(double) * NB), *hy = vb_malloc(sizeof(double) * (size_t)n * NB);
        for (int b = 0; b < NB; b++)
            hx[b] = (b + 0.5) / NB;
        int32_t ns = 0;
        for (int32_t i = 0; i < n; i++) {
            if (a[i]->run.candidates <= a[i]->run.frames) continue; /* uniform: nothing is picked */
            double cnt[NB] = {0}, tot = 0;
            for (int32_t q = 0; q < a[i]->rows.n; q++) {
                const struct vb_store_row * w = &a[i]->rows.r[q];
                double                      lo, hi;
                if (w->frame_lo >= 0 && w->frame_hi > w->frame_lo) {
                    lo = (double)w->frame_lo;
                    hi = (double)w->frame_hi;
                } else if (w->n_candidates > 1) {
                    lo = hi = w->candidates[0];
                    for (int32_t j = 0; j < w->n_candidates; j++) {
                        lo = VB_MIN(lo, w->candidates[j]);
                        hi = VB_MAX(hi, w->candidates[j]);
                    }
                    hi += 1;
                } else
                    continue;
                for (int32_t j = 0; j < w->n_picked; j++) {
                    double pos = (w->picked[j] - lo) / (hi - lo);
                    int    b = (int)floor(pos * NB);
                    if (b < 0 || b >= NB) continue;
                    cnt[b]++;
                    tot++;
                }
            }
            if (tot == 0) continue;
            for (int b = 0; b < NB; b++)
                hy[(size_t)ns * NB + b] = cnt[b] / tot;
            s[ns].name = a[i]->label;
            s[ns].n = NB;
            s[ns].x = hx;
            s[ns].y = hy + (size_t)ns * NB;
            s[ns].mark = NULL;
            ns++;
        }
        if (ns > 0) {
            snprintf(stem, sizeof stem, "picked_positions_%s", ds);
            snprintf(base, sizeof base, "%s/%s", dir, stem);
            snprintf(title, sizeof title, "%s: picked frame positions (normalised in the clip)", dsname);
            r = vb_plot_histograms(ctx, base, title, "position in the sampled clip (0 = start, 1 = end)",
                                   "fraction of picked frames", s, ns, 1.0 / NB);
            if (r == VB_OK)
                plots_add(out, stem, title);
            else if (rc == VB_OK && r != VB_ERR_ARG)
                rc = r;
        }
        free(hx);
        free(hy);
    }
    free(m);
    free(s);
    free(xs);
    free(mk);
    return rc;
}

/* ======================================================================================================== */
/* files                                                                                                    */
/* ======================================================================================================== */

static int mkdir_p(const char * dir) {
    char p[4096];
    snprintf(p, sizeof p, "%s", dir);
    for (char * s = p + 1; *s; s++)
        if (*s == '/') {
            *s = 0;
            if (mkdir(p, 0777) != 0 && errno != EEXIST) return vb_fail(VB_ERR_IO, "%s: mkdir: %s", p, strerror(errno));
            *s = '/';
        }
    if (mkdir(p, 0777) != 0 && errno != EEXIST) return vb_fail(VB_ERR_IO, "%s: mkdir: %s", p, strerror(errno));
    return VB_OK;
}

static void put_base64_file(FILE * f, const char * path) {
    static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *            buf = NULL;
    size_t            n = 0;
    if (vb_read_file(path, &buf, &n) != VB_OK) return;
    const unsigned char * b = (const unsigned char *)buf;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)b[i] << 16;
        if (i + 1 < n) v |= (uint32_t)b[i + 1] << 8;
        if (i + 2 < n) v |= b[i + 2];
        fputc(A[(v >> 18) & 63], f);
        fputc(A[(v >> 12) & 63], f);
        fputc(i + 1 < n ? A[(v >> 6) & 63] : '=', f);
        fputc(i + 2 < n ? A[v & 63] : '=', f);
    }
    free(buf);
}

static const char * CSS = "body{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}"
                          "table{border-collapse:collapse;margin:0.5em 0 0.5em 0;font-size:0.9em}"
                          "th,td{padding:3px 8px;border-bottom:1px solid #ccc}th{border-bottom:2px solid #444}"
                          "td.n{text-align:right;font-variant-numeric:tabular-nums}.note{color:#555;font-size:0.85em}"
                          "img{max-width:100%;border:1px solid #eee}";

struct outf {
    FILE *md, *tex, *html;
};

static void emit_table(struct outf * of, const struct tbl * t) {
    if (of->md) tbl_md(of->md, t);
    if (of->tex) tbl_tex(of->tex, t);
    if (of->html) tbl_html(of->html, t);
}

static int cmp_ana(const void * x, const void * y) {
    const struct ana *a = *(struct ana *const *)x, *b = *(struct ana *const *)y;
    int               c = dataset_rank(a->run.dataset) - dataset_rank(b->run.dataset);
    if (c) return c;
    c = strcmp(a->run.dataset, b->run.dataset);
    if (c) return c;
    c = method_rank(a->run.method) - method_rank(b->run.method);
    if (c) return c;
    c = strcmp(a->run.method, b->run.method);
    if (c) return c;
    if (a->run.frames != b->run.frames) return a->run.frames - b->run.frames;
    if (a->run.candidates != b->run.candidates) return a->run.candidates - b->run.candidates;
    return (a->run.id > b->run.id) - (a->run.id < b->run.id);
}

int vb_report_write(struct vb_store * st, const struct vb_report_opts * o, struct vb_report_result * res) {
    memset(res, 0, sizeof *res);
    if (!o->out_dir) return vb_fail(VB_ERR_ARG, "report: no output directory");
    int rc = mkdir_p(o->out_dir);
    if (rc != VB_OK) return rc;
    /* runs */
    int64_t * ids = NULL;
    int32_t   n = 0;
    if (o->run_ids && o->n_run_ids > 0) {
        n = o->n_run_ids;
        ids = vb_malloc(sizeof(int64_t) * (size_t)n);
        memcpy(ids, o->run_ids, sizeof(int64_t) * (size_t)n);
    } else {
        struct vb_store_run * runs;
        rc = vb_store_list_runs(st, &runs, &n);
        if (rc != VB_OK) return rc;
        ids = vb_malloc(sizeof(int64_t) * (size_t)(n + 1));
        for (int32_t i = 0; i < n; i++)
            ids[i] = runs[i].id;
        vb_store_runs_free(runs, n);
    }
    if (n == 0) {
        free(ids);
        return vb_fail(VB_ERR_NOTFOUND, "report: no runs in the database");
    }
    struct ana *  A = vb_calloc((size_t)n, sizeof *A);
    struct ana ** a = vb_malloc(sizeof *a * (size_t)n);
    int32_t       na = 0;
    for (int32_t i = 0; i < n && rc == VB_OK; i++) {
        rc = analyse(st, ids[i], o, &A[i]);
        a[i] = &A[i];
        na = i + 1;
    }
    free(ids);
    if (rc != VB_OK) goto done;
    qsort(a, (size_t)n, sizeof *a, cmp_ana);
    res->n_runs = n;
    /* speed-ups per dataset against the first reference-method row of that dataset */
    const char * ref = o->ref_method ? o->ref_method : "sevila";
    for (int32_t i = 0; i < n;) {
        int32_t j = i;
        while (j < n && !strcmp(a[j]->run.dataset, a[i]->run.dataset))
            j++;
        const struct ana * R = NULL;
        for (int32_t k = i; k < j && !R; k++)
            if (!strcmp(a[k]->run.method, ref)) R = a[k];
        for (int32_t k = i; k < j && R; k++)
            a[k]->speedup = vb_latency_speedup(R->lat[VB_STAGE_TOTAL].p50, a[k]->lat[VB_STAGE_TOTAL].p50);
        i = j;
    }
    /* plots first, so the documents can reference what exists */
    struct plots       pl = {0};
    struct vb_plot_ctx ctx = {o->gnuplot, o->plot_formats};
    if (o->plot_formats) {
        if (!vb_plot_available(&ctx)) {
            res->plots_skipped = 1;
            snprintf(res->note, sizeof res->note, "Plots skipped: gnuplot ('%s') is not available.",
                     o->gnuplot ? o->gnuplot : "gnuplot");
        } else {
            for (int32_t i = 0; i < n;) {
                int32_t j = i;
                while (j < n && !strcmp(a[j]->run.dataset, a[i]->run.dataset))
                    j++;
                int r = plots_dataset(&ctx, o->out_dir, a + i, j - i, &pl);
                if (r != VB_OK && !res->plots_skipped) {
                    res->plots_skipped = 1;
                    snprintf(res->note, sizeof res->note, "Some plots were skipped: %s", vb_errmsg());
                }
                i = j;
            }
        }
    }
    res->n_plots = pl.n;
    /* documents */
    unsigned    fm = o->formats ? o->formats : (VB_REPORT_MD | VB_REPORT_TEX | VB_REPORT_HTML);
    struct outf of = {0};
    char        path[4096];
    if (fm & VB_REPORT_MD) {
        snprintf(path, sizeof path, "%s/report.md", o->out_dir);
        if (!(of.md = fopen(path, "w"))) rc = vb_fail(VB_ERR_IO, "%s: %s", path, strerror(errno));
    }
    if (rc == VB_OK && (fm & VB_REPORT_TEX)) {
        snprintf(path, sizeof path, "%s/report.tex", o->out_dir);
        if (!(of.tex = fopen(path, "w"))) rc = vb_fail(VB_ERR_IO, "%s: %s", path, strerror(errno));
    }
    if (rc == VB_OK && (fm & VB_REPORT_HTML)) {
        snprintf(path, sizeof path, "%s/report.html", o->out_dir);
        if (!(of.html = fopen(path, "w"))) rc = vb_fail(VB_ERR_IO, "%s: %s", path, strerror(errno));
    }
    if (rc == VB_OK) {
        const char * title = "vlapbench report";
        if (of.md) fprintf(of.md, "# %s\n\n%d run(s).\n", title, (int)n);
        if (of.tex)
            fprintf(of.tex,
                    "\\documentclass[10pt]{article}\n\\usepackage[T1]{fontenc}\n\\usepackage[utf8]{inputenc}\n"
                    "\\usepackage{booktabs}\n\\usepackage{graphicx}\n\\usepackage[margin=2cm]{geometry}\n"
                    "\\begin{document}\n\\section*{%s}\n%d run(s).\n\n",
                    title, (int)n);
        if (of.html)
            fprintf(of.html,
                    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\" />\n"
                    "<title>%s</title>\n<style>%s</style>\n</head>\n<body>\n<h1>%s</h1>\n<p>%d run(s).</p>\n",
                    title, CSS, title, (int)n);
        struct tbl t;
        for (int32_t i = 0; i < n;) {
            int32_t j = i;
            while (j < n && !strcmp(a[j]->run.dataset, a[i]->run.dataset))
                j++;
            table_dataset(&t, a + i, j - i, o);
            emit_table(&of, &t);
            tbl_free(&t);
            res->n_tables++;
            if (!strcmp(a[i]->run.dataset, "nextqa")) {
                table_nextqa_types(&t, a + i, j - i);
                emit_table(&of, &t);
                tbl_free(&t);
                res->n_tables++;
            }
            if (o->published) {
                if (table_published(&t, a[i]->run.dataset) > 0) {
                    emit_table(&of, &t);
                    res->n_tables++;
                }
                tbl_free(&t);
            }
            i = j;
        }
        table_latency(&t, a, n);
        emit_table(&of, &t);
        tbl_free(&t);
        table_provenance(&t, a, n);
        emit_table(&of, &t);
        tbl_free(&t);
        res->n_tables += 2;
        /* plots */
        if (of.md) fputs("\n## Plots\n\n", of.md);
        if (of.tex) fputs("\\section*{Plots}\n", of.tex);
        if (of.html) fputs("<h2>Plots</h2>\n", of.html);
        if (res->plots_skipped || !o->plot_formats) {
            const char * why = o->plot_formats ? res->note : "Plots not requested.";
            if (of.md) fprintf(of.md, "%s\n", why);
            if (of.tex) {
                put_tex(of.tex, why);
                fputs("\n\n", of.tex);
            }
            if (of.html) {
                fputs("<p class=\"note\">", of.html);
                put_html(of.html, why);
                fputs("</p>\n", of.html);
            }
        }
        for (int32_t i = 0; i < pl.n; i++) {
            int          png = o->plot_formats & VB_PLOT_PNG, pdf = o->plot_formats & VB_PLOT_PDF;
            const char * ext = png ? "png" : (o->plot_formats & VB_PLOT_SVG) ? "svg" : "pdf";
            if (of.md) fprintf(of.md, "![%s](%s.%s)\n\n", pl.title[i], pl.base[i], ext);
            if (of.tex && (png || pdf)) {
                fputs("\\begin{figure}[ht]\\centering\n\\includegraphics[width=\\textwidth]{", of.tex);
                fprintf(of.tex, "%s.%s}\n\\caption{", pl.base[i], pdf ? "pdf" : "png");
                put_tex(of.tex, pl.title[i]);
                fputs("}\n\\end{figure}\n\n", of.tex);
            }
            if (of.html) {
                fputs("<figure>\n", of.html);
                if (png) {
                    snprintf(path, sizeof path, "%s/%s.png", o->out_dir, pl.base[i]);
                    fputs("<img alt=\"", of.html);
                    put_html(of.html, pl.title[i]);
                    fputs("\" src=\"data:image/png;base64,", of.html);
                    put_base64_file(of.html, path);
                    fputs("\" />\n", of.html);
                }
                fputs("<figcaption>", of.html);
                put_html(of.html, pl.title[i]);
                fputs("</figcaption>\n</figure>\n", of.html);
            }
        }
        if (of.tex) fputs("\\end{document}\n", of.tex);
        if (of.html) fputs("</body>\n</html>\n", of.html);
    }
    FILE * fs[] = {of.md, of.tex, of.html};
    for (int i = 0; i < 3; i++)
        if (fs[i] && fclose(fs[i]) != 0 && rc == VB_OK) rc = vb_fail(VB_ERR_IO, "report: write failed");
    plots_free(&pl);
done:
    for (int32_t i = 0; i < na; i++)
        ana_free(&A[i]);
    free(A);
    free(a);
    return rc;
}

/* ======================================================================================================== */
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
    out->latency_rise_pct = (mb > 0 && isfinite(mn)) ? 100.0 * (mn / mb - 1.0) : NAN;
    /* the gate */
    double                        alpha = o->alpha > 0 ? o->alpha : 0.05;
    const struct vb_compare_row * ov = &out->rows[0];
    double                        drop = -ov->diff;
    out->acc_fail = ov->p < alpha && drop > o->max_acc_drop_pts;
    out->lat_fail = o->max_latency_rise_pct >= 0 && isfinite(out->latency_rise_pct) &&
                    out->latency_rise_pct > o->max_latency_rise_pct;
    size_t rl = 0;
    if (out->acc_fail)
        rl += (size_t)snprintf(out->reason + rl, sizeof out->reason - rl,
                               "accuracy dropped %.2f points (> %.2f allowed), McNemar p = %.3g < %.3g. ", drop,
                               o->max_acc_drop_pts, ov->p, alpha);
    if (out->lat_fail && rl < sizeof out->reason)
        rl += (size_t)snprintf(out->reason + rl, sizeof out->reason - rl,
                               "median latency rose %.1f %% (> %.1f %% allowed). ", out->latency_rise_pct,
                               o->max_latency_rise_pct);
    if (!out->acc_fail && !out->lat_fail) snprintf(out->reason, sizeof out->reason, "within limits");
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

void vb_report_compare_print(FILE * f, const struct vb_compare_result * r, const struct vb_compare_opts * o, int json) {
    if (json) {
        cJSON * j = cJSON_CreateObject();
        cJSON_AddBoolToObject(j, "pass", !r->acc_fail && !r->lat_fail);
        cJSON_AddBoolToObject(j, "accuracy_fail", r->acc_fail);
        cJSON_AddBoolToObject(j, "latency_fail", r->lat_fail);
        cJSON_AddStringToObject(j, "reason", r->reason);
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
        char * s = cJSON_Print(j);
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
    fprintf(f, "\npredictions identical: %s\n", r->same_predictions ? "yes (verification hashes equal)" : "no");
    fprintf(f, "verdict: %s (%s)\n", (!r->acc_fail && !r->lat_fail) ? "PASS" : "FAIL", r->reason);
}
