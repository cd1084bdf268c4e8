/* report.h — paper-style tables and plots from stored runs, and the paired comparison behind `compare`.
**
** Tables (one per dataset, methods x frames as rows):
**   NExT-QA  Tem / Cau / Des (groups T, C, D pooled, as eval_mc.py) / Avg (all questions pooled)
**   STAR     Int / Seq / Pre / Fea / Avg (= mean of the four category accuracies, the STAR headline) / All (pooled)
**   How2QA, VLEP, others: Acc (pooled)
** each with frames k and candidates T, the headline with its 95 % cluster-bootstrap CI (resampled by video,
** metrics/stats.h), scored questions, errors (counted as wrong), median seconds per question and the speed-up
** against a reference method measured in the same database (median of the reference / median of the row).  With
** `published`, the matching published row (reports/published.h) and the difference are shown beside.  Then a
** per-stage latency table (medians in ms; total p50/p90/p99 and mean ± sd), and a provenance table per run.
** Formats: Markdown (report.md), LaTeX with booktabs (report.tex, a complete document), and a self-contained HTML
** page (report.html, well-formed XHTML syntax, plots inlined as base64 PNG).
** Plots (reports/plot.h, gnuplot): accuracy vs frames per method (95 % CI error bars), accuracy vs latency with the
** Pareto front (CI error bars, points labelled k=..., linear axis from 0 or logarithmic),
** per-stage mean latency as stacked bars per run, and a histogram of the picked frames' normalised positions in the
** sampled clip ((index - frame_lo) / (frame_hi - frame_lo), or relative to the candidate span when the clip range
** is unknown).  Without gnuplot the tables are still written and the report says the plots were skipped.
*/
#ifndef VB_REPORT_H
#define VB_REPORT_H

#include "metrics/latency.h"
#include "results/store.h"

#include <stdint.h>
#include <stdio.h>

enum { VB_REPORT_MD = 1, VB_REPORT_TEX = 2, VB_REPORT_HTML = 4, VB_REPORT_JSON = 8 };

/* report.json (VB_REPORT_JSON), the tables as data:
**   {"runs", "bootstrap_replicates", "bootstrap_seed", "ci", "speedup_reference", "warnings": [text, ...],
**    "datasets": [{"dataset", "split", "title", "headline" ("Avg"/"Acc"), "headline_mode" ("pooled"/"macro"),
**                  "categories": [column labels],
**                  "cells": [{"run", "method", "frames" (k), "candidates" (T), "selection", "status",
**                             "categories": {label: {"acc" (percent or null), "n"}},
**                             "overall": {"acc", "ci_lo", "ci_hi" (percent), "n", "n_correct", "n_videos"},
**                             "pooled": {...} (STAR only: all questions pooled), "n" (scored), "errors",
**                             "samples", "latency_p50_s", "speedup" (null without a reference row),
**                             "published": {"source", "model", "value", "delta"} (with --published)}]}]}
** Percentages are unrounded; null stands for "no question" / "not measured". */

struct vb_report_opts {
    const char *    out_dir; /* created if missing */
    const int64_t * run_ids; /* (n_run_ids) runs to include; NULL = all runs in the database */
    int32_t         n_run_ids;
    unsigned        formats;           /* VB_REPORT_* bits; 0 = all */
    unsigned        plot_formats;      /* VB_PLOT_* bits (reports/plot.h); 0 = no plots */
    int             published;         /* show published numbers and deltas */
    const char *    published_setting; /* "zero-shot" (default) or "fine-tuned" */
    const char *    ref_method;        /* speed-up reference; NULL = "sevila" (else no speed-up column values) */
    const char *    gnuplot;           /* program for execvp; NULL = "gnuplot" */
    int32_t         n_boot;            /* bootstrap replicates (default 1000 when 0) */
    uint64_t        seed;              /* bootstrap seed */
    /* paper-ready figures (reports/plot.h): */
    int                  no_titles;      /* no titles baked into the images */
    int32_t              plot_w, plot_h; /* pixels (PDF: / 160 inches); 0 = 960 x 600 */
    const char *         font;           /* font name; NULL = Sans */
    int32_t              font_size;      /* 0 = default */
    int                  log_latency;    /* logarithmic latency axis */
    const char * const * display_names;  /* (n_display_names) "method=Display Name": used in tables and plots */
    int32_t              n_display_names;
    int32_t              contact_sheets; /* per dataset, this many contact sheets (0 = none; see below) */
};

struct vb_report_result {
    int32_t n_runs;            /* runs reported */
    int32_t n_tables;          /* tables per format */
    int32_t n_plots;           /* plots written (each in every plot format) */
    int     plots_skipped;     /* 1 when plots were requested but gnuplot is unavailable or failed */
    char    note[512];         /* why plots were skipped */
    int32_t n_error_runs;      /* runs with error rows (warned about in every document) */
    char    warnings[2048];    /* one line per such run ("run #3 (nextqa val uniform k=4 T=4): 5 of 300 ..."),
                                  truncated with "..." when longer */
    int32_t n_sheets;          /* contact sheets written */
    int32_t n_sheets_skipped;  /* contact sheets (or datasets) skipped or drawn without marks, each in sheet_notes */
    char    sheet_notes[2048]; /* one line per skip ("contact sheet NExT-QA 9000_0 skipped: ...: No such file") */
};

/* Contact sheets (contact_sheets = N > 0): for N questions per dataset, contact_sheet_<dataset>_<i>.png in out_dir
** (reports/contact_sheet.h: the distinct frames every run of the dataset considered for the question, i.e. its
** stored candidates and picks, as thumbnails in time order; under each, one bar per run where that run picked the
** frame; informative frames outlined in magenta when the video is one of `vlapbench synth --task event`, whose
** manifest.json gives the card frames), shown in report.md / .tex / .html (inlined) with a caption: the question,
** the answer, every run's prediction and what the marks mean.  The video is found through the run's stored
** invocation (annotations, map, videos); a missing or damaged one skips that sheet with a note (res->sheet_notes,
** and in the documents), never fails the report. */

/* Write the report files into o->out_dir (report.md / .tex / .html / .json by o->formats).  Runs with error rows
** (counted as wrong answers) are named in a visible warning at the top of every document and in res->warnings.  Returns
*VB_OK, or VB_ERR_NOTFOUND (a requested run id does not exist,
** or no runs), VB_ERR_IO (cannot write), VB_ERR_DB.  A gnuplot failure is not an error (res->plots_skipped). */
int vb_report_write(struct vb_store * st, const struct vb_report_opts * o, struct vb_report_result * res);

/* ---- paired comparison (compare command) ---- */

/* Default latency gate of `compare`: a median end-to-end s/question more than 25 % above the baseline fails. */
#define VB_COMPARE_DEFAULT_LATENCY_RISE_PCT 25.0

struct vb_compare_opts {
    double max_acc_drop_pts;     /* allowed accuracy drop in points before a significant drop fails */
    double max_latency_rise_pct; /* allowed median total latency rise in percent; < 0 = not checked
                                    (the command's default is VB_COMPARE_DEFAULT_LATENCY_RISE_PCT) */
    double   alpha;              /* significance level of McNemar, default 0.05 when 0 */
    int32_t  n_boot;             /* default 1000 when 0 */
    uint64_t seed;
    int      check_changed; /* 1: also fail when more than max_changed paired questions changed their prediction */
    int32_t  max_changed;   /* (with check_changed) allowed paired questions whose predicted option differs */
    const char * const * key_ignore; /* (n_key_ignore) cell-key fields left out when matching cells (compare_cells):
                                        any of VB_COMPARE_KEY_FIELDS, e.g. "blas_threads" for a baseline from a
                                        machine with another core count */
    int32_t      n_key_ignore;
    const char * latency_ref; /* NULL: the latency gate compares median s/question; else a method name: it compares
                                 each run's median divided by the median of that method's run with the same dataset,
                                 split and k in the same database (the newest such run), so that a baseline from a
                                 faster or busier machine compares fairly */
};

/* The cell-key fields that key_ignore may name (the others, dataset split method frames candidates, always match);
** "config.NAME" leaves out one setting of the settings object. */
#define VB_COMPARE_KEY_FIELDS                                                                                          \
    "blas_threads, config, decode_mode, sampling, seed, selection, weights_dtype, or config.NAME (one setting: "       \
    "interp, map_sha256, video_size, ...)"

struct vb_compare_row {
    char    name[64];          /* "overall" or a category / group */
    int32_t n;                 /* paired scored questions */
    int32_t b, c;              /* new only correct, baseline only correct */
    double  acc_new, acc_base; /* percent */
    double  diff, lo, hi;      /* new - baseline, points, with the paired cluster-bootstrap CI */
    double  p;                 /* exact McNemar */
};

struct vb_compare_result {
    int64_t                   run_new, run_base;      /* the paired run ids */
    char                      dataset[32], split[16]; /* of the new run (the baseline's are equal) */
    char                      method_new[32], method_base[32];
    int32_t                   frames_new, frames_base; /* k */
    int32_t                   cand_new, cand_base;     /* T */
    int32_t                   n_rows;
    struct vb_compare_row *   rows;                    /* (n_rows) row 0 = overall, then categories sorted by name */
    int32_t                   n_only_new, n_only_base; /* scored keys present in one run only (not paired) */
    struct vb_latency_summary lat_new[VB_STAGE_COUNT], lat_base[VB_STAGE_COUNT]; /* milliseconds */
    double                    latency_rise_pct; /* median total: 100 * (new / base - 1); NAN when unmeasured
                                                   (with latency_ref: of the medians relative to the reference) */
    int64_t ref_new, ref_base;                  /* latency_ref: the reference runs (0 = none found) */
    double  ref_ms_new, ref_ms_base;            /* their median total milliseconds */
    int     same_predictions;                   /* verification hashes equal */
    int32_t n_changed;                          /* paired scored questions whose prediction differs */
    int     acc_fail, lat_fail;                 /* gate verdicts */
    int     pred_fail;                          /* check_changed and n_changed > max_changed */
    char    reason[512];
};

/* Pair two runs on their sample keys (they may live in different databases) and apply the gate (fail = acc_fail ||
** lat_fail || pred_fail).
** Returns VB_OK (verdict in acc_fail / lat_fail), VB_ERR_NOTFOUND (unknown run) or VB_ERR_MISMATCH (no paired
** scored question).  Free with vb_report_compare_free. */
int vb_report_compare(struct vb_store * st_new, int64_t id_new, struct vb_store * st_base, int64_t id_base,
                      const struct vb_compare_opts * o, struct vb_compare_result * out);
/* Free the paired rows of *r and empty them (r not NULL; an already freed result is fine). */
void vb_report_compare_free(struct vb_compare_result * r);
/* Print the comparison as a table (json = 0) or one JSON object (json = 1, with the run identifiers) to f. */
void vb_report_compare_print(FILE * f, const struct vb_compare_result * r, const struct vb_compare_opts * o, int json);

/* ---- cell-matched comparison of two databases (compare --db NEW --baseline-db OLD without run ids) ----
**
** Every run is reduced to its cell key: the settings that make two runs the same experiment,
**   dataset, split, method, frames k, candidates T, sampling, selection, decode mode, seed, BLAS threads,
**   weights dtype (NULL = f32), and the run's free-form settings object (config: interp, video_size, map_sha256, ...)
** and NOT the code version (git commit / dirty), the weight hashes or the annotation hash: those are what a
** regression check compares.  Fields named in o->key_ignore are left out of the key.  Cells with one key on both sides
*are paired and compared with vb_report_compare;
** cells on one side only are listed.  When one database holds several runs with one key, the newest (highest id)
** is used and the count is reported. */

struct vb_compare_cell {
    char *                   key;   /* canonical JSON of the cell key (owned) */
    char *                   label; /* "nextqa/val vlap k=4 T=32" (owned) */
    char                     dataset[32], split[16], method[32];
    int32_t                  frames, candidates;
    int64_t                  run_new;           /* 0 = absent on this side */
    int64_t                  run_base;          /* 0 = absent on this side */
    int32_t                  dup_new, dup_base; /* runs sharing the key on each side (1 = unique) */
    int                      paired;            /* 1: result holds the comparison */
    int                      error;             /* 1: paired but could not be compared (message in why) */
    char                     why[256];
    struct vb_compare_result result;
};

struct vb_compare_cells {
    int32_t                  n; /* cells in paper order: dataset, method, k, T, then key */
    struct vb_compare_cell * c; /* (n) */
    int32_t                  n_paired, n_only_new, n_only_base, n_fail, n_error;
};

/* Match the runs of st_new and st_base by cell key and compare each pair.  Returns VB_OK (verdicts per cell,
** counts in out), VB_ERR_MISMATCH when no cell is on both sides (out is then still filled, for the listing), or the
** store's error.  Free with vb_report_compare_cells_free. */
int vb_report_compare_cells(struct vb_store * st_new, struct vb_store * st_base, const struct vb_compare_opts * o,
                            struct vb_compare_cells * out);
/* Free everything *c holds and empty it (a freed / zeroed set is fine). */
void vb_report_compare_cells_free(struct vb_compare_cells * c);
/* Print the cell comparison: a summary table, one line per cell (json = 0), or one JSON object with every cell's
** identifiers (dataset, split, method, frames, candidates, ..., run ids on both sides) and its comparison. */
void vb_report_compare_cells_print(FILE * f, const struct vb_compare_cells * c, const struct vb_compare_opts * o,
                                   int json);

#endif
