/* report.c — plots, files and vb_report_write (contract in report.h; the pieces: report_internal.h). */
#include "reports/report.h"

#include "base/base64.h"
#include "base/common.h"
#include "reports/plot.h"
#include "reports/report_internal.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

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
    double *                xs = vb_malloc(sizeof(double) * (size_t)n * 4), *ys = xs + n, *lo = xs + 2 * n,
           *hi = xs + 3 * n;                               /* (n) each: point x, y and the y CI */
    int32_t * ks = vb_malloc(sizeof(int32_t) * (size_t)n); /* (n) k of each point */
    uint8_t * mk = vb_calloc((size_t)n, 1);
    char      base[4096], stem[256], title[256];
    int       rc = VB_OK, r;

    /* 1. accuracy vs frames: one series per method, points (k, headline) sorted by k (rows are sorted) */
    int32_t off = 0;
    for (int32_t j = 0; j < nm; j++) {
        s[j].color = vb_plot_color(m[j], j);
        s[j].x = xs + off;
        s[j].y = ys + off;
        s[j].ylo = lo + off;
        s[j].yhi = hi + off;
        for (int32_t i = 0; i < n; i++)
            if (!strcmp(a[i]->run.method, m[j])) {
                s[j].name = a[i]->name;
                xs[off] = a[i]->run.frames;
                ys[off] = 100 * a[i]->head.acc;
                lo[off] = 100 * a[i]->head.lo;
                hi[off] = 100 * a[i]->head.hi;
                ks[off] = a[i]->run.frames;
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
        s[j].ylo = lo + off;
        s[j].yhi = hi + off;
        s[j].k = ks + off;
        for (int32_t i = 0; i < n; i++)
            if (!strcmp(a[i]->run.method, m[j])) {
                xs[off] = a[i]->lat[VB_STAGE_TOTAL].p50 / 1000.0;
                ys[off] = 100 * a[i]->head.acc;
                lo[off] = 100 * a[i]->head.lo;
                hi[off] = 100 * a[i]->head.hi;
                ks[off] = a[i]->run.frames;
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
    r = vb_plot_scatter_front(
        ctx, base, title, ctx->log_latency ? "median seconds per question (log scale)" : "median seconds per question",
        "accuracy (%)", s, nm);
    if (r == VB_OK)
        plots_add(out, stem, title);
    else if (rc == VB_OK && r != VB_ERR_ARG)
        rc = r; /* VB_ERR_ARG: no data, nothing to draw */
    for (int32_t j = 0; j < nm; j++) {
        s[j].mark = NULL;
        s[j].ylo = s[j].yhi = NULL;
        s[j].k = NULL;
    }

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
            /* colour per method, dash per k (1 = the smallest k of the dataset, 2 = the next, ...) */
            int32_t mi = 0, dk = 1;
            while (mi < nm && strcmp(m[mi], a[i]->run.method))
                mi++;
            s[ns].color = vb_plot_color(a[i]->run.method, mi);
            for (int32_t q = 0; q < n; q++) {
                int smaller = a[q]->run.frames < a[i]->run.frames, first = 1;
                for (int32_t u = 0; u < q && smaller; u++)
                    if (a[u]->run.frames == a[q]->run.frames) first = 0;
                dk += smaller && first;
            }
            s[ns].dash = dk;
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
    free(ks);
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
    char * buf = NULL;
    size_t n = 0;
    if (vb_read_file(path, &buf, &n) != VB_OK) return;
    char * b64 = vb_base64_encode((const unsigned char *)buf, n);
    fputs(b64, f);
    free(b64);
    free(buf);
}

static const char * CSS =
    "body{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}"
    "table{border-collapse:collapse;margin:0.5em 0 0.5em 0;font-size:0.9em}"
    "th,td{padding:3px 8px;border-bottom:1px solid #ccc}th{border-bottom:2px solid #444}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}.note{color:#555;font-size:0.85em}.warn{color:#900}"
    "img{max-width:100%;border:1px solid #eee}";

struct outf {
    FILE *       md, *tex, *html;
    const char * dir; /* the report's directory: LaTeX tables also go to dir/tables/<name>.tex */
    int          rc;  /* first error writing a table file */
};

/* Render t into every open document; with LaTeX also write it alone, includable with \input, to
** dir/tables/<name>.tex, where name is stem plus part (the stem made a safe file name: [A-Za-z0-9-] kept, the
** rest '_'). */
static void emit_table(struct outf * of, const struct tbl * t, const char * stem, const char * part) {
    if (of->md) vb_rp_tbl_md(of->md, t);
    if (of->html) vb_rp_tbl_html(of->html, t);
    if (!of->tex) return;
    vb_rp_tbl_tex(of->tex, t);
    char name[128], path[4096];
    snprintf(name, sizeof name, "%s%s", stem, part);
    for (char * c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '-')) *c = '_';
    snprintf(path, sizeof path, "%s/tables/%s.tex", of->dir, name);
    FILE * f = fopen(path, "w");
    if (!f) {
        if (of->rc == VB_OK) of->rc = vb_fail(VB_ERR_IO, "%s: %s", path, strerror(errno));
        return;
    }
    fputs("% vlapbench report table: \\input{} it (needs \\usepackage{booktabs} and graphicx)\n", f);
    vb_rp_tbl_tex(f, t);
    if (fclose(f) != 0 && of->rc == VB_OK) of->rc = vb_fail(VB_ERR_IO, "%s: write failed", path);
}

/* The "Contact sheets" section: each sheet with its caption (HTML: inlined), then the skipped ones as notes. */
static void emit_sheets(struct outf * of, const struct vb_rp_sheets * sh) {
    static const char * what = "Contact sheets";
    if (of->md) fprintf(of->md, "\n## %s\n\n", what);
    if (of->tex) fprintf(of->tex, "\\section*{%s}\n", what);
    if (of->html) fprintf(of->html, "<h2>%s</h2>\n", what);
    for (int32_t i = 0; i < sh->n; i++) {
        const struct vb_rp_sheet * s = &sh->s[i];
        if (of->md) {
            fputs("![", of->md);
            vb_rp_put_md(of->md, s->alt);
            fprintf(of->md, "](%s)\n\n", s->file);
            vb_rp_put_md(of->md, s->caption);
            fputs("\n\n", of->md);
        }
        if (of->tex) {
            fprintf(of->tex, "\\begin{figure}[ht]\\centering\n\\includegraphics[width=\\textwidth]{%s}\n\\caption{",
                    s->file);
            vb_rp_put_tex(of->tex, s->caption);
            fputs("}\n\\end{figure}\n\n", of->tex);
        }
        if (of->html) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", of->dir, s->file);
            fputs("<figure class=\"contact-sheet\">\n<img alt=\"", of->html);
            vb_rp_put_html(of->html, s->alt);
            fputs("\" src=\"data:image/png;base64,", of->html);
            put_base64_file(of->html, path);
            fputs("\" />\n<figcaption>", of->html);
            vb_rp_put_html(of->html, s->caption);
            fputs("</figcaption>\n</figure>\n", of->html);
        }
    }
    for (int32_t i = 0; i < sh->n_warn || (sh->n == 0 && i == 0); i++) {
        const char * w = i < sh->n_warn ? sh->warn[i] : "No contact sheet could be drawn.";
        if (of->md) {
            fputs("> **Note:** ", of->md);
            vb_rp_put_md(of->md, w);
            fputs("\n\n", of->md);
        }
        if (of->tex) {
            fputs("\\noindent\\textbf{Note:} ", of->tex);
            vb_rp_put_tex(of->tex, w);
            fputs("\n\n", of->tex);
        }
        if (of->html) {
            fputs("<p class=\"note\"><strong>Note:</strong> ", of->html);
            vb_rp_put_html(of->html, w);
            fputs("</p>\n", of->html);
        }
    }
}

static int cmp_ana(const void * x, const void * y) {
    const struct ana *a = *(struct ana *const *)x, *b = *(struct ana *const *)y;
    int               c = vb_rp_dataset_rank(a->run.dataset) - vb_rp_dataset_rank(b->run.dataset);
    if (c) return c;
    c = strcmp(a->run.dataset, b->run.dataset);
    if (c) return c;
    c = vb_rp_method_rank(a->run.method) - vb_rp_method_rank(b->run.method);
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
        rc = vb_rp_analyse(st, ids[i], o, &A[i]);
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
    /* runs with error rows: warned about on every document and in res */
    char ** warn = vb_calloc((size_t)n + 1, sizeof *warn);
    int32_t nw = 0;
    for (int32_t i = 0; i < n; i++) {
        const struct vb_store_run * r = &a[i]->run;
        if (r->n_error <= 0) continue;
        warn[nw++] = vb_rp_fmt("run #%lld (%s %s %s k=%d T=%d): %d of %d samples are error rows, counted as wrong "
                               "answers; see `vlapbench export --format samples` for the messages",
                               (long long)r->id, r->dataset, r->split, r->method, (int)r->frames, (int)r->candidates,
                               (int)r->n_error, (int)r->n_samples);
    }
    res->n_error_runs = nw;
    for (int32_t i = 0; i < nw; i++) {
        size_t used = strlen(res->warnings), need = strlen(warn[i]) + 1;
        if (used + need + 4 >= sizeof res->warnings) {
            snprintf(res->warnings + used, sizeof res->warnings - used, "...\n");
            break;
        }
        snprintf(res->warnings + used, sizeof res->warnings - used, "%s\n", warn[i]);
    }
    /* plots first, so the documents can reference what exists */
    struct plots       pl = {0};
    struct vb_plot_ctx ctx = {.gnuplot = o->gnuplot,
                              .formats = o->plot_formats,
                              .no_titles = o->no_titles,
                              .width = o->plot_w,
                              .height = o->plot_h,
                              .font = o->font,
                              .font_size = o->font_size,
                              .log_latency = o->log_latency};
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
    /* contact sheets (best effort: skips are notes) */
    struct vb_rp_sheets sh = {0};
    for (int32_t i = 0; i < n && o->contact_sheets > 0;) {
        int32_t j = i;
        while (j < n && !strcmp(a[j]->run.dataset, a[i]->run.dataset))
            j++;
        vb_rp_contact_sheets(st, a + i, j - i, o, &sh);
        i = j;
    }
    res->n_sheets = sh.n;
    res->n_sheets_skipped = sh.n_warn;
    for (int32_t i = 0; i < sh.n_warn; i++) {
        size_t used = strlen(res->sheet_notes), need = strlen(sh.warn[i]) + 1;
        if (used + need + 4 >= sizeof res->sheet_notes) {
            snprintf(res->sheet_notes + used, sizeof res->sheet_notes - used, "...\n");
            break;
        }
        snprintf(res->sheet_notes + used, sizeof res->sheet_notes - used, "%s\n", sh.warn[i]);
    }
    /* documents */
    unsigned    fm = o->formats ? o->formats : (VB_REPORT_MD | VB_REPORT_TEX | VB_REPORT_HTML);
    struct outf of = {0};
    char        path[4096];
    if (fm & VB_REPORT_MD) {
        snprintf(path, sizeof path, "%s/report.md", o->out_dir);
        if (!(of.md = fopen(path, "w"))) rc = vb_fail(VB_ERR_IO, "%s: %s", path, strerror(errno));
    }
    of.dir = o->out_dir;
    if (rc == VB_OK && (fm & VB_REPORT_TEX)) {
        snprintf(path, sizeof path, "%s/tables", o->out_dir);
        rc = mkdir_p(path);
    }
    if (rc == VB_OK && (fm & VB_REPORT_TEX)) {
        snprintf(path, sizeof path, "%s/report.tex", o->out_dir);
        if (!(of.tex = fopen(path, "w"))) rc = vb_fail(VB_ERR_IO, "%s: %s", path, strerror(errno));
    }
    if (rc == VB_OK && (fm & VB_REPORT_HTML)) {
        snprintf(path, sizeof path, "%s/report.html", o->out_dir);
        if (!(of.html = fopen(path, "w"))) rc = vb_fail(VB_ERR_IO, "%s: %s", path, strerror(errno));
    }
    if (rc == VB_OK && (fm & VB_REPORT_JSON)) {
        snprintf(path, sizeof path, "%s/report.json", o->out_dir);
        rc = vb_rp_write_json(path, a, n, o, (const char * const *)warn, nw);
    }
    if (rc == VB_OK && (of.md || of.tex || of.html)) {
        const char * title = "vlapbench report";
        if (of.md) fprintf(of.md, "# %s\n\n%d run(s).\n", title, (int)n);
        if (of.tex)
            fprintf(of.tex,
                    "\\documentclass[10pt]{article}\n\\usepackage[T1]{fontenc}\n\\usepackage{lmodern}\n"
                    "\\usepackage[utf8]{inputenc}\n"
                    "\\usepackage{booktabs}\n\\usepackage{graphicx}\n\\usepackage[margin=2cm]{geometry}\n"
                    "\\begin{document}\n\\section*{%s}\n%d run(s).\n\n",
                    title, (int)n);
        if (of.html)
            fprintf(of.html,
                    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\" />\n"
                    "<title>%s</title>\n<style>%s</style>\n</head>\n<body>\n<h1>%s</h1>\n<p>%d run(s).</p>\n",
                    title, CSS, title, (int)n);
        for (int32_t i = 0; i < nw; i++) {
            if (of.md) {
                fputs("\n> **Warning:** ", of.md);
                vb_rp_put_md(of.md, warn[i]);
                fputs("\n", of.md);
            }
            if (of.tex) {
                fputs("\\noindent\\textbf{Warning:} ", of.tex);
                vb_rp_put_tex(of.tex, warn[i]);
                fputs("\n\n", of.tex);
            }
            if (of.html) {
                fputs("<p class=\"warn\"><strong>Warning:</strong> ", of.html);
                vb_rp_put_html(of.html, warn[i]);
                fputs("</p>\n", of.html);
            }
        }
        struct tbl t;
        for (int32_t i = 0; i < n;) {
            int32_t j = i;
            while (j < n && !strcmp(a[j]->run.dataset, a[i]->run.dataset))
                j++;
            vb_rp_table_dataset(&t, a + i, j - i, o);
            emit_table(&of, &t, a[i]->run.dataset, "_main");
            vb_rp_tbl_free(&t);
            res->n_tables++;
            if (!strcmp(a[i]->run.dataset, "nextqa")) {
                vb_rp_table_nextqa_types(&t, a + i, j - i);
                emit_table(&of, &t, a[i]->run.dataset, "_types");
                vb_rp_tbl_free(&t);
                res->n_tables++;
            }
            if (o->published) {
                if (vb_rp_table_published(&t, a[i]->run.dataset) > 0) {
                    emit_table(&of, &t, a[i]->run.dataset, "_published");
                    res->n_tables++;
                }
                vb_rp_tbl_free(&t);
            }
            i = j;
        }
        vb_rp_table_latency(&t, a, n);
        emit_table(&of, &t, "latency", "");
        vb_rp_tbl_free(&t);
        vb_rp_table_provenance(&t, a, n);
        emit_table(&of, &t, "provenance", "");
        vb_rp_tbl_free(&t);
        res->n_tables += 2;
        /* plots */
        if (of.md) fputs("\n## Plots\n\n", of.md);
        if (of.tex) fputs("\\section*{Plots}\n", of.tex);
        if (of.html) fputs("<h2>Plots</h2>\n", of.html);
        if (res->plots_skipped || !o->plot_formats) {
            const char * why = o->plot_formats ? res->note : "Plots not requested.";
            if (of.md) {
                vb_rp_put_md(of.md, why);
                fputs("\n", of.md);
            }
            if (of.tex) {
                vb_rp_put_tex(of.tex, why);
                fputs("\n\n", of.tex);
            }
            if (of.html) {
                fputs("<p class=\"note\">", of.html);
                vb_rp_put_html(of.html, why);
                fputs("</p>\n", of.html);
            }
        }
        for (int32_t i = 0; i < pl.n; i++) {
            int          png = o->plot_formats & VB_PLOT_PNG, pdf = o->plot_formats & VB_PLOT_PDF;
            const char * ext = png ? "png" : (o->plot_formats & VB_PLOT_SVG) ? "svg" : "pdf";
            if (of.md) {
                fputs("![", of.md);
                vb_rp_put_md(of.md, pl.title[i]);
                fprintf(of.md, "](%s.%s)\n\n", pl.base[i], ext);
            }
            if (of.tex && (png || pdf)) {
                fputs("\\begin{figure}[ht]\\centering\n\\includegraphics[width=\\textwidth]{", of.tex);
                fprintf(of.tex, "%s.%s}\n\\caption{", pl.base[i], pdf ? "pdf" : "png");
                vb_rp_put_tex(of.tex, pl.title[i]);
                fputs("}\n\\end{figure}\n\n", of.tex);
            }
            if (of.html) {
                fputs("<figure>\n", of.html);
                if (png) {
                    snprintf(path, sizeof path, "%s/%s.png", o->out_dir, pl.base[i]);
                    fputs("<img alt=\"", of.html);
                    vb_rp_put_html(of.html, pl.title[i]);
                    fputs("\" src=\"data:image/png;base64,", of.html);
                    put_base64_file(of.html, path);
                    fputs("\" />\n", of.html);
                }
                fputs("<figcaption>", of.html);
                vb_rp_put_html(of.html, pl.title[i]);
                fputs("</figcaption>\n</figure>\n", of.html);
            }
        }
        if (o->contact_sheets > 0) emit_sheets(&of, &sh);
        if (of.tex) fputs("\\end{document}\n", of.tex);
        if (of.html) fputs("</body>\n</html>\n", of.html);
    }
    if (rc == VB_OK) rc = of.rc;
    FILE * fs[] = {of.md, of.tex, of.html};
    for (int i = 0; i < 3; i++)
        if (fs[i] && fclose(fs[i]) != 0 && rc == VB_OK) rc = vb_fail(VB_ERR_IO, "report: write failed");
    plots_free(&pl);
    vb_rp_sheets_free(&sh);
    for (int32_t i = 0; i < nw; i++)
        free(warn[i]);
    free(warn);
done:
    for (int32_t i = 0; i < na; i++)
        vb_rp_ana_free(&A[i]);
    free(A);
    free(a);
    return rc;
}

/* ======================================================================================================== */
