/* plot.h — plots through gnuplot, spawned with fork/execvp and fed a script on a pipe (no shell involved).
**
** Every string that reaches gnuplot (titles, labels, series names, output paths) goes through vb_plot_quote(),
** which produces a single-quoted gnuplot literal (the only special character inside '...' is the quote itself,
** doubled) with control characters replaced by spaces; text mode is `noenhanced`, so ^ _ @ { } print as is.
** Data travel as inline datablocks of numbers only.  Each plot is written once per requested format:
** PNG (pngcairo), SVG (svg), PDF (pdfcairo), as <base>.png / .svg / .pdf.
*/
#ifndef VB_PLOT_H
#define VB_PLOT_H

#include <stddef.h>
#include <stdint.h>

enum { VB_PLOT_PNG = 1, VB_PLOT_SVG = 2, VB_PLOT_PDF = 4 };

struct vb_plot_ctx {
    const char * gnuplot;       /* program name or path for execvp; NULL = "gnuplot" */
    unsigned     formats;       /* VB_PLOT_* bits */
    int          no_titles;     /* 1: no title inside the images (captions carry them) */
    int32_t      width, height; /* PNG / SVG size in pixels (PDF: pixels / 160 inches); 0 = 960 x 600 */
    const char * font;          /* font name for every terminal; NULL = "Sans" */
    int32_t      font_size;     /* points; 0 = 10 (PNG / SVG) and 8 (PDF) */
    int          log_latency;   /* 1: logarithmic latency axis (accuracy vs latency) */
};

/* A named series of points.  mark (n) may be NULL; where set, points are also drawn as a highlighted front.
** ylo / yhi (n) may be NULL; where set (finite), an error bar from ylo to yhi is drawn at each point.  k (n) may be
** NULL; where set, each point is labelled "k=<k>".  color: '#rrggbb' or NULL (then the method colour, see
** vb_plot_color, by the name's prefix); dash: gnuplot dash type (1 = solid; 0 = solid). */
struct vb_plot_series {
    const char *    name;
    int32_t         n;
    const double *  x;    /* (n) */
    const double *  y;    /* (n) */
    const uint8_t * mark; /* (n) or NULL */
    const double *  ylo;  /* (n) or NULL */
    const double *  yhi;  /* (n) or NULL */
    const int32_t * k;    /* (n) or NULL */
    const char *    color;
    int             dash;
};

/* The colour of a method, the same in every plot: uniform, sevila, vlap fixed; other methods by idx from a
** colour-blind-safe palette.  Returns a static '#rrggbb'. */
const char * vb_plot_color(const char * method, int32_t idx);

/* Single-quoted gnuplot string literal for s (malloc'd, caller frees). */
char * vb_plot_quote(const char * s);

/* Run gnuplot on a script.  Returns VB_OK; VB_ERR_NOTFOUND when the program cannot be executed (gnuplot missing:
** callers skip plotting); VB_ERR_IO when it exits non-zero (its stderr, flattened, in vb_errmsg()).
** The plot functions below skip series without a finite point and return VB_ERR_ARG (nothing written) when no
** series is left. */
int vb_plot_run(const struct vb_plot_ctx * ctx, const char * script);

/* 1 if gnuplot can be executed (runs an empty script), 0 otherwise. */
int vb_plot_available(const struct vb_plot_ctx * ctx);

/* Lines with points, one per series (e.g. accuracy vs frames per method).  logx: log2 x axis.
** Returns as vb_plot_run. */
int vb_plot_lines(const struct vb_plot_ctx * ctx, const char * out_base, const char * title, const char * xlabel,
                  const char * ylabel, const struct vb_plot_series * s, int32_t n_series, int logx);

/* Scatter, one colour per series, plus the points with mark[i] = 1 over all series joined as a front line
** (accuracy vs latency with the Pareto front).  x axis logarithmic with ctx->log_latency, else linear from 0.
** Returns as vb_plot_run. */
int vb_plot_scatter_front(const struct vb_plot_ctx * ctx, const char * out_base, const char * title,
                          const char * xlabel, const char * ylabel, const struct vb_plot_series * s, int32_t n_series);

/* Stacked bars: n_bars bars labelled bar_labels, each the stack of n_seg segments values[b * n_seg + j]
** (e.g. per-stage latency per method).  Returns as vb_plot_run. */
int vb_plot_stacked(const struct vb_plot_ctx * ctx, const char * out_base, const char * title, const char * ylabel,
                    const char * const * bar_labels, int32_t n_bars, const char * const * seg_labels, int32_t n_seg,
                    const double * values);

/* Histograms drawn as steps, one per series (x = bin centres, y = fraction); bin width w.  Returns as
** vb_plot_run. */
int vb_plot_histograms(const struct vb_plot_ctx * ctx, const char * out_base, const char * title, const char * xlabel,
                       const char * ylabel, const struct vb_plot_series * s, int32_t n_series, double w);

#endif
