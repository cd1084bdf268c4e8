/* report_internal.h — what the files of the report share (not a public API; the contract is report.h):
**   analysis.c  dataset layouts and the per-run analysis (accuracy, latency, published rows)
**   table.c     the table model and its three renderers (Markdown, LaTeX, HTML)
**   tables.c    building the report's tables from analysed runs
**   report.c    plots, files and vb_report_write
**   report_json.c  report.json: the tables as data
**   compare.c   the paired comparison of two runs
**   compare_cells.c  matching the runs of two databases by cell key and comparing each pair
**   report_sheets.c  the contact sheets (questions, videos, ground truth, marks, captions; contact_sheet.c draws)
*/
#ifndef VB_REPORT_INTERNAL_H
#define VB_REPORT_INTERNAL_H

#include "metrics/latency.h"
#include "metrics/stats.h"
#include "reports/published.h"
#include "reports/report.h"

#include <stdint.h>
#include <stdio.h>

/* ---- compare.c */

struct cJSON;
/* The comparison r as a JSON object (identifiers, verdict, paired accuracy rows, latency); caller deletes. */
struct cJSON * vb_rp_compare_json(const struct vb_compare_result * r, const struct vb_compare_opts * o);

/* ---- analysis.c */

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
    char                        label[96]; /* "vlap 32->4 #3" (with the display name) */
    const char *                name;      /* display name of the method (o->display_names, else run.method) */
};

/* The display name of method under o ("method=Name" entries; the method itself when none matches). */
const char * vb_rp_display_name(const struct vb_report_opts * o, const char * method);
/* The layout of dataset ds (a generic one for unknown datasets). */
const struct layout * vb_rp_layout_for(const char * ds);
/* Paper order of datasets (NExT-QA, STAR, How2QA, VLEP, then others) and of methods (uniform, SeViLA, VLAP, others). */
int vb_rp_dataset_rank(const char * ds);
int vb_rp_method_rank(const char * m);
/* Analyse run id of st into *a (zeroed first; free with vb_rp_ana_free).  Returns VB_OK or the store's error. */
int  vb_rp_analyse(struct vb_store * st, int64_t id, const struct vb_report_opts * o, struct ana * a);
void vb_rp_ana_free(struct ana * a);

/* ---- table.c */

struct tbl {
    char *  title;
    char *  note;
    int32_t nc, nr; /* nr includes the header row */
    char ** cell;   /* (nr, nc) */
};

/* malloc'd printf. */
char * vb_rp_fmt(const char * f, ...) __attribute__((format(printf, 1, 2)));
/* A table of nc columns titled title (owned); rows are added, cells set (ownership taken), freed with tbl_free. */
void    vb_rp_tbl_init(struct tbl * t, char * title, int32_t nc);
int32_t vb_rp_tbl_add_row(struct tbl * t);
void    vb_rp_tbl_set(struct tbl * t, int32_t r, int32_t c, char * s);
void    vb_rp_tbl_free(struct tbl * t);
/* Cell text of a fraction as a percentage, of a number with a printf format (malloc'd; NAN gives "-"). */
char * vb_rp_pct(double f);
char * vb_rp_num(double v, const char * f);
/* Text escaped for HTML / LaTeX / Markdown (Markdown: every character with a meaning in CommonMark or GFM tables,
** \ ` * _ [ ] < > & | ~, is backslash-escaped, so no emphasis, link, code span, raw HTML or cell split comes through;
** control characters become spaces). */
void vb_rp_put_md(FILE * f, const char * s);
void vb_rp_put_html(FILE * f, const char * s);
void vb_rp_put_tex(FILE * f, const char * s);
/* The table rendered as Markdown, LaTeX (booktabs), HTML. */
void vb_rp_tbl_md(FILE * f, const struct tbl * t);
void vb_rp_tbl_tex(FILE * f, const struct tbl * t);
void vb_rp_tbl_html(FILE * f, const struct tbl * t);

/* ---- report_json.c */

/* Write report.json (schema in report.h) for the n analysed runs a (sorted by dataset) to path, with the
** warnings.  Returns VB_OK or VB_ERR_IO. */
int vb_rp_write_json(const char * path, struct ana ** a, int32_t n, const struct vb_report_opts * o,
                     const char * const * warnings, int32_t n_warn);

/* ---- tables.c: the report's tables from n analysed runs of one dataset (sorted) */

void vb_rp_table_dataset(struct tbl * t, struct ana ** a, int32_t n, const struct vb_report_opts * o);
void vb_rp_table_nextqa_types(struct tbl * t, struct ana ** a, int32_t n);
/* The published rows of dataset; returns 0 when there are none (t untouched). */
int  vb_rp_table_published(struct tbl * t, const char * dataset);
void vb_rp_table_latency(struct tbl * t, struct ana ** a, int32_t n);
void vb_rp_table_provenance(struct tbl * t, struct ana ** a, int32_t n);

/* ---- report_sheets.c: contact sheets (--contact-sheets N) */

struct vb_rp_sheet {
    char * file;    /* PNG file name inside out_dir */
    char * alt;     /* short text */
    char * caption; /* question, answer, every run's prediction, what the marks mean */
};
struct vb_rp_sheets {
    int32_t              n;
    struct vb_rp_sheet * s; /* (n) */
    int32_t              n_warn;
    char **              warn; /* (n_warn) sheets or datasets skipped, and why */
};
/* Up to o->contact_sheets sheets for the n analysed runs of one dataset (sorted; the first VB_SHEET_MAX_MARKS are
** drawn), appended to *out.  The annotations, map and videos come from the latest stored invocation of a run that
** picks among candidates; questions answered (status ok) by every run, those not every run got right first, in key
** order.  Anything missing or damaged (invocation, annotation file, video) becomes a warning in out, never an
** error. */
void vb_rp_contact_sheets(struct vb_store * st, struct ana ** a, int32_t n, const struct vb_report_opts * o,
                          struct vb_rp_sheets * out);
void vb_rp_sheets_free(struct vb_rp_sheets * s);
/* Ground truth of a video of `vlapbench synth --task event`: the video's real path is PARENT/DIR/FILE and
** PARENT/manifest.json ("task": "event") has an entry {"file": "DIR/FILE", "event": [f0, f1]}: the card frames
** [*f0, *f1).  Returns VB_OK, VB_ERR_NOTFOUND (no such manifest or entry) or VB_ERR_FORMAT. */
int vb_rp_sheet_truth(const char * video, int64_t * f0, int64_t * f1);

#endif
