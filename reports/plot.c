/* plot.c — gnuplot over a pipe (contract in plot.h). */
#include "reports/plot.h"

#include "base/common.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- a growing string ---- */
struct sbuf {
    char * p;
    size_t n, cap;
};

static void sb_printf(struct sbuf * b, const char * fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf * b, const char * fmt, ...) {
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = b->cap - b->n;
        int    k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? room : 0, fmt, ap);
        va_end(ap);
        VB_ASSERT(k >= 0);
        if (b->p && (size_t)k < room) {
            b->n += (size_t)k;
            return;
        }
        b->cap = (b->cap ? b->cap : 1024) * 2 + (size_t)k;
        b->p = vb_realloc(b->p, b->cap);
    }
}

static void sb_quoted(struct sbuf * b, const char * s) {
    char * q = vb_plot_quote(s);
    sb_printf(b, "%s", q);
    free(q);
}

char * vb_plot_quote(const char * s) {
    if (!s) s = "";
    size_t n = strlen(s);
    char * q = vb_malloc(2 * n + 3), *w = q;
    *w++ = '\'';
    for (const unsigned char * p = (const unsigned char *)s; *p; p++) {
        if (*p == '\'') {
            *w++ = '\'';
            *w++ = '\'';
        } else if (*p < 0x20 || *p == 0x7f) {
            *w++ = ' ';
        } else {
            *w++ = (char)*p;
        }
    }
    *w++ = '\'';
    *w = 0;
    return q;
}

/* ---- spawning ---- */

int vb_plot_run(const struct vb_plot_ctx * ctx, const char * script) {
    const char * prog = ctx && ctx->gnuplot ? ctx->gnuplot : "gnuplot";
    int          in[2], err[2];
    if (pipe(in) != 0) return vb_fail(VB_ERR_IO, "gnuplot: pipe: %s", strerror(errno));
    if (pipe(err) != 0) {
        close(in[0]);
        close(in[1]);
        return vb_fail(VB_ERR_IO, "gnuplot: pipe: %s", strerror(errno));
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        close(in[0]);
        close(in[1]);
        close(err[0]);
        close(err[1]);
        return vb_fail(VB_ERR_IO, "gnuplot: fork: %s", strerror(errno));
    }
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(err[1], 2);
        dup2(err[1], 1);
        close(in[0]);
        close(in[1]);
        close(err[0]);
        close(err[1]);
        char * const argv[] = {(char *)prog, NULL};
        execvp(prog, argv);
        _exit(127);
    }
    close(in[0]);
    close(err[1]);
    /* a gnuplot that died early must not kill us with SIGPIPE */
    struct sigaction ign = {0}, old;
    ign.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ign, &old);
    size_t len = strlen(script), off = 0;
    while (off < len) {
        ssize_t k = write(in[1], script + off, len - off);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        off += (size_t)k;
    }
    close(in[1]);
    char   msg[1024];
    size_t mn = 0;
    for (;;) {
        ssize_t k = read(err[0], msg + mn, sizeof msg - 1 - mn);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        mn += (size_t)k;
        if (mn >= sizeof msg - 1) {
            char sink[4096]; /* keep draining so the child can finish */
            while (read(err[0], sink, sizeof sink) > 0) {
            }
            break;
        }
    }
    msg[mn] = 0;
    close(err[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    sigaction(SIGPIPE, &old, NULL);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        return vb_fail(VB_ERR_NOTFOUND, "gnuplot: cannot execute '%s'", prog);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        /* the message: first non-empty line mentioning the problem */
        for (char * p = msg; *p; p++)
            if (*p == '\n' && p[1]) *p = ' ';
        return vb_fail(VB_ERR_IO, "gnuplot failed (status %d): %.300s", status, msg);
    }
    return VB_OK;
}

int vb_plot_available(const struct vb_plot_ctx * ctx) {
    return vb_plot_run(ctx, "exit\n") == VB_OK;
}

/* ---- script pieces ---- */

static void head(const struct vb_plot_ctx * ctx, struct sbuf * b, const char * title, const char * xlabel,
                 const char * ylabel) {
    sb_printf(b, "set encoding utf8\nset termoption noenhanced\nset key outside right top\nset grid\n");
    if (!ctx->no_titles) {
        sb_printf(b, "set title ");
        sb_quoted(b, title);
    }
    sb_printf(b, "\nset xlabel ");
    sb_quoted(b, xlabel);
    sb_printf(b, "\nset ylabel ");
    sb_quoted(b, ylabel);
    sb_printf(b, "\n");
}

static void datablock(struct sbuf * b, int idx, const struct vb_plot_series * s, int marked_only) {
    sb_printf(b, "$d%d << EOD\n", idx);
    int any = 0;
    for (int32_t i = 0; i < s->n; i++) {
        if (marked_only && !(s->mark && s->mark[i])) continue;
        if (!isfinite(s->x[i]) || !isfinite(s->y[i])) continue;
        double lo = s->ylo && isfinite(s->ylo[i]) ? s->ylo[i] : s->y[i];
        double hi = s->yhi && isfinite(s->yhi[i]) ? s->yhi[i] : s->y[i];
        /* columns: x y ylo yhi k */
        sb_printf(b, "%.10g %.10g %.10g %.10g %d\n", s->x[i], s->y[i], lo, hi, s->k ? (int)s->k[i] : 0);
        any = 1;
    }
    if (!any) sb_printf(b, "NaN NaN NaN NaN 0\n");
    sb_printf(b, "EOD\n");
}

static int32_t n_finite(const struct vb_plot_series * s) {
    int32_t k = 0;
    for (int32_t i = 0; i < s->n; i++)
        k += isfinite(s->x[i]) && isfinite(s->y[i]);
    return k;
}

/* Render the plot body once per format: the first terminal plots, later ones replot. */
static int render(const struct vb_plot_ctx * ctx, struct sbuf * b, const char * out_base, const char * plot_cmd) {
    int32_t      w = ctx->width > 0 ? ctx->width : 960, h = ctx->height > 0 ? ctx->height : 600;
    const char * fn = ctx->font && *ctx->font ? ctx->font : "Sans";
    char         font_px[160], font_pdf[160], term_png[256], term_svg[256], term_pdf[256];
    snprintf(font_px, sizeof font_px, "%s,%d", fn, ctx->font_size > 0 ? (int)ctx->font_size : 10);
    snprintf(font_pdf, sizeof font_pdf, "%s,%d", fn, ctx->font_size > 0 ? (int)ctx->font_size : 8);
    char *qpx = vb_plot_quote(font_px), *qpdf = vb_plot_quote(font_pdf);
    snprintf(term_png, sizeof term_png, "pngcairo size %d,%d font %s", (int)w, (int)h, qpx);
    snprintf(term_svg, sizeof term_svg, "svg size %d,%d font %s background rgb 'white'", (int)w, (int)h, qpx);
    snprintf(term_pdf, sizeof term_pdf, "pdfcairo size %.3fin,%.3fin font %s", w / 160.0, h / 160.0, qpdf);
    free(qpx);
    free(qpdf);
    const struct {
        unsigned    bit;
        const char *ext, *term;
    } T[] = {{VB_PLOT_PNG, "png", term_png}, {VB_PLOT_SVG, "svg", term_svg}, {VB_PLOT_PDF, "pdf", term_pdf}};
    int first = 1;
    for (size_t i = 0; i < sizeof T / sizeof T[0]; i++) {
        if (!(ctx->formats & T[i].bit)) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s.%s", out_base, T[i].ext);
        sb_printf(b, "set terminal %s\nset termoption noenhanced\nset output ", T[i].term);
        sb_quoted(b, path);
        sb_printf(b, "\n%s\n", first ? plot_cmd : "replot");
        first = 0;
    }
    sb_printf(b, "unset output\nexit\n");
    int rc = vb_plot_run(ctx, b->p);
    free(b->p);
    return rc;
}

const char * vb_plot_color(const char * method, int32_t idx) {
    static const struct {
        const char *prefix, *rgb;
    } C[] = {{"uniform", "#1f77b4"}, {"sevila", "#d62728"}, {"vlap", "#2ca02c"}};
    /* Okabe-Ito, without the three above */
    static const char * const P[] = {"#e69f00", "#56b4e9", "#cc79a7", "#0072b2", "#d55e00", "#f0e442", "#000000"};
    for (size_t i = 0; i < sizeof C / sizeof C[0]; i++)
        if (method && strncmp(method, C[i].prefix, strlen(C[i].prefix)) == 0) return C[i].rgb;
    return P[(idx < 0 ? 0 : idx) % (int32_t)(sizeof P / sizeof P[0])];
}

/* The series' colour and dash: explicit, else by its name's method prefix. */
static void sb_style(struct sbuf * b, const struct vb_plot_series * s, int32_t idx) {
    char * q = vb_plot_quote(s->color ? s->color : vb_plot_color(s->name, idx));
    sb_printf(b, " lc rgb %s dt %d", q, s->dash > 0 ? s->dash : 1);
    free(q);
}

/* "k=<k>" labels above the points of series i (when it has k). */
static void sb_klabels(struct sbuf * p, const struct vb_plot_series * s, int32_t i) {
    if (!s->k) return;
    sb_printf(p, ", $d%d using 1:2:(sprintf('k=%%d', int($5))) with labels offset char 1.2,0.7 notitle", (int)i);
}

/* Error bars of series i (when it has them), in its colour, followed by ", " (drawn before the series' points). */
static void sb_errbars(struct sbuf * p, const struct vb_plot_series * s, int32_t i) {
    if (!s->ylo || !s->yhi) return;
    sb_printf(p, "$d%d using 1:2:3:4 with yerrorbars pt 0 lw 1.5", (int)i);
    sb_style(p, s, i);
    sb_printf(p, " notitle, ");
}

int vb_plot_lines(const struct vb_plot_ctx * ctx, const char * out_base, const char * title, const char * xlabel,
                  const char * ylabel, const struct vb_plot_series * s, int32_t n_series, int logx) {
    struct sbuf b = {0}, p = {0};
    head(ctx, &b, title, xlabel, ylabel);
    if (logx) sb_printf(&b, "set logscale x 2\n");
    sb_printf(&b, "set offsets graph 0.05, graph 0.05, graph 0.05, graph 0.05\n");
    for (int32_t i = 0; i < n_series; i++)
        datablock(&b, (int)i, &s[i], 0);
    sb_printf(&p, "plot ");
    int32_t used = 0;
    for (int32_t i = 0; i < n_series; i++) {
        if (n_finite(&s[i]) == 0) continue; /* gnuplot refuses a series without a defined point */
        if (used++) sb_printf(&p, ", ");
        sb_errbars(&p, &s[i], i);
        sb_printf(&p, "$d%d using 1:2 with linespoints lw 2 pt 7", (int)i);
        sb_style(&p, &s[i], i);
        sb_printf(&p, " title ");
        sb_quoted(&p, s[i].name);
        sb_klabels(&p, &s[i], i);
    }
    if (used == 0) {
        free(b.p);
        free(p.p);
        return vb_fail(VB_ERR_ARG, "plot %s: no data", out_base);
    }
    int rc = render(ctx, &b, out_base, p.p);
    free(p.p);
    return rc;
}

int vb_plot_scatter_front(const struct vb_plot_ctx * ctx, const char * out_base, const char * title,
                          const char * xlabel, const char * ylabel, const struct vb_plot_series * s, int32_t n_series) {
    struct sbuf b = {0}, p = {0};
    head(ctx, &b, title, xlabel, ylabel);
    if (ctx->log_latency)
        sb_printf(&b, "set logscale x 10\nset offsets graph 0.08, graph 0.08, graph 0.08, graph 0.08\n");
    else /* latency is never negative: the axis starts at 0 */
        sb_printf(&b, "set xrange [0:*]\nset offsets 0, graph 0.08, graph 0.08, graph 0.08\n");
    for (int32_t i = 0; i < n_series; i++)
        datablock(&b, (int)i, &s[i], 0);
    /* the front over all series, sorted by x */
    int32_t nf = 0;
    for (int32_t i = 0; i < n_series; i++)
        for (int32_t j = 0; j < s[i].n; j++)
            nf += s[i].mark && s[i].mark[j];
    double *fx = vb_malloc(sizeof(double) * (size_t)(nf + 1)), *fy = vb_malloc(sizeof(double) * (size_t)(nf + 1));
    int32_t k = 0;
    for (int32_t i = 0; i < n_series; i++)
        for (int32_t j = 0; j < s[i].n; j++)
            if (s[i].mark && s[i].mark[j]) {
                int32_t t = k++;
                while (t > 0 && fx[t - 1] > s[i].x[j]) {
                    fx[t] = fx[t - 1];
                    fy[t] = fy[t - 1];
                    t--;
                }
                fx[t] = s[i].x[j];
                fy[t] = s[i].y[j];
            }
    struct vb_plot_series front = {.name = "Pareto front", .n = nf, .x = fx, .y = fy};
    datablock(&b, (int)n_series, &front, 0);
    int32_t used = 0;
    sb_printf(&p, "plot ");
    if (n_finite(&front) > 0) {
        sb_printf(&p, "$d%d using 1:2 with linespoints dt 2 lw 2 lc rgb 'black' pt 6 ps 2.2 title 'Pareto front'",
                  (int)n_series);
        used++;
    }
    for (int32_t i = 0; i < n_series; i++) {
        if (n_finite(&s[i]) == 0) continue;
        if (used++) sb_printf(&p, ", ");
        sb_errbars(&p, &s[i], i);
        sb_printf(&p, "$d%d using 1:2 with points pt 7 ps 1.4", (int)i);
        sb_style(&p, &s[i], i);
        sb_printf(&p, " title ");
        sb_quoted(&p, s[i].name);
        sb_klabels(&p, &s[i], i);
    }
    int rc;
    if (used == 0) {
        free(b.p);
        rc = vb_fail(VB_ERR_ARG, "plot %s: no data", out_base);
    } else
        rc = render(ctx, &b, out_base, p.p);
    free(p.p);
    free(fx);
    free(fy);
    return rc;
}

int vb_plot_stacked(const struct vb_plot_ctx * ctx, const char * out_base, const char * title, const char * ylabel,
                    const char * const * bar_labels, int32_t n_bars, const char * const * seg_labels, int32_t n_seg,
                    const double * values) {
    struct sbuf b = {0}, p = {0};
    head(ctx, &b, title, "", ylabel);
    sb_printf(&b, "set style fill solid 0.85 border -1\nset boxwidth 0.6\nset yrange [0:*]\nset xrange [-0.7:%g]\n",
              n_bars - 0.3);
    sb_printf(&b, "set xtics rotate by -25 (");
    for (int32_t i = 0; i < n_bars; i++) {
        sb_printf(&b, "%s", i ? ", " : "");
        sb_quoted(&b, bar_labels[i]);
        sb_printf(&b, " %d", (int)i);
    }
    sb_printf(&b, ")\n$d << EOD\n");
    for (int32_t i = 0; i < n_bars; i++) {
        double cum = 0;
        sb_printf(&b, "%d", (int)i);
        for (int32_t j = 0; j < n_seg; j++) {
            double v = values[(size_t)i * n_seg + j];
            cum += isfinite(v) && v > 0 ? v : 0;
            sb_printf(&b, " %.10g", cum);
        }
        sb_printf(&b, "\n");
    }
    sb_printf(&b, "EOD\n");
    /* draw the tallest cumulative first so each segment shows above the previous */
    sb_printf(&p, "plot ");
    for (int32_t j = n_seg - 1; j >= 0; j--) {
        sb_printf(&p, "%s$d using 1:%d with boxes title ", j == n_seg - 1 ? "" : ", ", (int)j + 2);
        sb_quoted(&p, seg_labels[j]);
    }
    if (n_seg == 0) sb_printf(&p, "NaN notitle");
    int rc = render(ctx, &b, out_base, p.p);
    free(p.p);
    return rc;
}

int vb_plot_histograms(const struct vb_plot_ctx * ctx, const char * out_base, const char * title, const char * xlabel,
                       const char * ylabel, const struct vb_plot_series * s, int32_t n_series, double w) {
    struct sbuf b = {0}, p = {0};
    head(ctx, &b, title, xlabel, ylabel);
    sb_printf(&b, "set xrange [0:1]\nset yrange [0:*]\nset xtics %.10g\n", w > 0.05 ? w : 0.1);
    for (int32_t i = 0; i < n_series; i++)
        datablock(&b, (int)i, &s[i], 0);
    sb_printf(&p, "plot ");
    int32_t used = 0;
    for (int32_t i = 0; i < n_series; i++) {
        if (n_finite(&s[i]) == 0) continue;
        /* histeps: x are bin centres, the step edges fall half-way between them */
        sb_printf(&p, "%s$d%d using 1:2 with histeps lw 2", used++ ? ", " : "", (int)i);
        sb_style(&p, &s[i], i);
        sb_printf(&p, " title ");
        sb_quoted(&p, s[i].name);
    }
    if (used == 0) {
        free(b.p);
        free(p.p);
        return vb_fail(VB_ERR_ARG, "plot %s: no data", out_base);
    }
    int rc = render(ctx, &b, out_base, p.p);
    free(p.p);
    return rc;
}
