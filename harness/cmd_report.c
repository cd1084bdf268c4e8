/* cmd_report.c — `vlapbench report`: tables (md, tex, html) and plots from stored runs (reports/report.h). */
#include "base/common.h"
#include "harness/cli.h"
#include "reports/plot.h"
#include "reports/report.h"
#include "reports/report_config.h"
#include "results/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "a,b,c" -> bits from names[] (returns -1 on an unknown name) */
static int parse_set(const char * s, const char * const * names, const unsigned * bits, int n, unsigned * out) {
    *out = 0;
    if (!strcmp(s, "none")) return 0;
    const char * p = s;
    while (*p) {
        size_t len = strcspn(p, ",");
        int    ok = 0;
        for (int i = 0; i < n; i++)
            if (strlen(names[i]) == len && !strncmp(p, names[i], len)) {
                *out |= bits[i];
                ok = 1;
            }
        if (!ok) return -1;
        p += len;
        if (*p == ',') p++;
    }
    return 0;
}

/* Which figure flags the command line gave (they override the configuration file). */
enum { SET_SIZE = 1, SET_FONT = 2, SET_LOG = 4, SET_NOTITLES = 8 };

/* The file's settings where no flag set them; its display names after the flags' (the first match wins, so a
** --display-name overrides the file's name for that method).  dn has room for both lists. */
static void apply_config(struct vb_report_opts * o, const struct vb_report_config * cfg, unsigned set,
                         const char ** dn) {
    if (cfg->plot_w > 0 && !(set & SET_SIZE)) o->plot_w = cfg->plot_w, o->plot_h = cfg->plot_h;
    if (cfg->font[0] && !(set & SET_FONT)) o->font = cfg->font, o->font_size = cfg->font_size;
    if (cfg->log_latency >= 0 && !(set & SET_LOG)) o->log_latency = cfg->log_latency;
    if (cfg->titles >= 0 && !(set & SET_NOTITLES)) o->no_titles = !cfg->titles;
    for (int32_t i = 0; i < cfg->n_display_names; i++)
        dn[o->n_display_names++] = cfg->display_names[i];
}

int cmd_report(int argc, char ** argv) {
    if (vb_cli_wants_help(argc, argv)) {
        printf("usage: vlapbench report --db FILE --out DIR [--runs ID,...] [--format md,tex,html,json]\n"
               "                        [--plots png,svg,pdf|none] [--published] [--published-setting zero-shot|\n"
               "                        fine-tuned] [--ref METHOD] [--boot N] [--seed S]\n"
               "                        [--no-titles] [--plot-size WxH] [--font NAME[,SIZE]] [--log-latency]\n"
               "                        [--display-name METHOD=NAME ...] [--config FILE] [--contact-sheets N]\n"
               "Writes DIR/report.md, report.tex (booktabs, complete document) and report.html (self-contained,\n"
               "plots inlined as base64 PNG), and with --format json report.json (the tables as data, schema in\n"
               "reports/report.h): per dataset a paper-style table (NExT-QA Tem/Cau/Des/Avg, STAR\n"
               "Int/Seq/Pre/Fea/Avg, How2QA, VLEP) with frames, accuracy and 95%% cluster-bootstrap CI (by video),\n"
               "median seconds per question and speed-up against --ref (default sevila) measured in the same\n"
               "database; a per-stage latency table; run provenance.  --published adds the published numbers\n"
               "(docs/methods.md section 8) beside each row with the difference.  Plots through gnuplot (program from\n"
               "$VB_GNUPLOT, default gnuplot): accuracy vs frames, accuracy vs latency with the Pareto front,\n"
               "stacked per-stage latency, picked-frame position histograms.  Without gnuplot the tables are\n"
               "still written and the report says the plots were skipped.  Runs with error rows are named in a\n"
               "warning on stderr and at the top of every document.  Defaults: all runs, md,tex,html,\n"
               "plots png,svg,pdf, 1000 bootstrap replicates, seed 1.\n"
               "Figures: 95%% CI error bars, accuracy-vs-latency points labelled k=..., one colour per method and one\n"
               "dash per k.  --no-titles leaves the titles to the captions; --plot-size WxH in pixels (PDF: /160\n"
               "inches; default 960x600); --font NAME[,SIZE]; --log-latency: logarithmic latency axis (linear from\n"
               "0 otherwise); --display-name vlap=VLAP (repeatable): the name of a method in tables and plots.\n"
               "--config FILE: the same figure options from a JSON file, e.g.\n"
               "  {\"display_names\": {\"vlap\": \"VLAP\", \"sevila\": \"SeViLA\"}, \"plot_size\": \"640x400\",\n"
               "   \"font\": \"Latin Modern Roman,9\", \"log_latency\": true, \"titles\": false}\n"
               "(every field optional, any other field an error naming the file and the field, exit 1); flags\n"
               "override the file.  docs/report.md.\n"
               "--contact-sheets N (default 0 = none, at most 50): per dataset, N questions drawn as\n"
               "contact_sheet_<dataset>_<i>.png: the frames the runs considered (stored candidates and picks) as\n"
               "thumbnails, one bar per run under each frame it picked, informative frames outlined (videos of\n"
               "`vlapbench synth --task event`: the card frames of its manifest.json); in every document with a\n"
               "caption (question, answer, each run's prediction).  Videos are found through the runs' stored\n"
               "invocation; a missing or damaged one skips that sheet with a note.\n");
        return 0;
    }
    const char *          db = NULL, *runs = NULL, *fmt = "md,tex,html", *plots = "png,svg,pdf";
    struct vb_report_opts o = {0};
    static const char *   dn[2 * VB_REPORT_MAX_DISPLAY_NAMES];
    static char           fname[128];
    int32_t               fsize = 0;
    const char *          config = NULL;
    unsigned              set = 0;
    o.display_names = dn;
    o.seed = 1;
    for (int i = 1; i < argc; i++) {
        const char * v;
        if (vb_cli_opt(argc, argv, &i, "--db", &v))
            db = v;
        else if (vb_cli_opt(argc, argv, &i, "--out", &v))
            o.out_dir = v;
        else if (vb_cli_opt(argc, argv, &i, "--runs", &v))
            runs = v;
        else if (vb_cli_opt(argc, argv, &i, "--format", &v))
            fmt = v;
        else if (vb_cli_opt(argc, argv, &i, "--plots", &v))
            plots = v;
        else if (vb_cli_opt(argc, argv, &i, "--published-setting", &v))
            o.published_setting = v;
        else if (!strcmp(argv[i], "--published"))
            o.published = 1;
        else if (vb_cli_opt(argc, argv, &i, "--ref", &v))
            o.ref_method = v;
        else if (vb_cli_opt(argc, argv, &i, "--boot", &v))
            o.n_boot = atoi(v);
        else if (vb_cli_opt(argc, argv, &i, "--seed", &v))
            o.seed = strtoull(v, NULL, 10);
        else if (!strcmp(argv[i], "--no-titles"))
            o.no_titles = 1, set |= SET_NOTITLES;
        else if (!strcmp(argv[i], "--log-latency"))
            o.log_latency = 1, set |= SET_LOG;
        else if (vb_cli_opt(argc, argv, &i, "--config", &v))
            config = v;
        else if (vb_cli_opt(argc, argv, &i, "--plot-size", &v)) {
            if (vb_report_parse_plot_size(v, &o.plot_w, &o.plot_h) != VB_OK) {
                fprintf(stderr, "report: --plot-size %s\n", vb_errmsg());
                return 2;
            }
            set |= SET_SIZE;
        } else if (vb_cli_opt(argc, argv, &i, "--font", &v)) {
            if (vb_report_parse_font(v, fname, &fsize) != VB_OK) {
                fprintf(stderr, "report: --font %s\n", vb_errmsg());
                return 2;
            }
            o.font = fname;
            o.font_size = fsize;
            set |= SET_FONT;
        } else if (vb_cli_opt(argc, argv, &i, "--contact-sheets", &v)) {
            char * e;
            long   k = strtol(v, &e, 10);
            if (*e || e == v || k < 0 || k > 50) {
                fprintf(stderr, "report: --contact-sheets takes a count 0..50\n");
                return 2;
            }
            o.contact_sheets = (int32_t)k;
        } else if (vb_cli_opt(argc, argv, &i, "--display-name", &v)) {
            const char * eq = strchr(v, '=');
            if (!eq || eq == v || !eq[1] || o.n_display_names >= VB_REPORT_MAX_DISPLAY_NAMES) {
                fprintf(stderr, "report: --display-name takes METHOD=NAME (at most %d)\n", VB_REPORT_MAX_DISPLAY_NAMES);
                return 2;
            }
            dn[o.n_display_names++] = v;
        } else {
            fprintf(stderr, "report: unknown option %s (see --help)\n", argv[i]);
            return 2;
        }
    }
    if (!db || !o.out_dir) {
        fprintf(stderr, "report: --db FILE and --out DIR are required\n");
        return 2;
    }
    static const char * const fnames[] = {"md", "tex", "html", "json"};
    static const unsigned     fbits[] = {VB_REPORT_MD, VB_REPORT_TEX, VB_REPORT_HTML, VB_REPORT_JSON};
    static const char * const pnames[] = {"png", "svg", "pdf"};
    static const unsigned     pbits[] = {VB_PLOT_PNG, VB_PLOT_SVG, VB_PLOT_PDF};
    if (parse_set(fmt, fnames, fbits, 4, &o.formats) != 0 || o.formats == 0) {
        fprintf(stderr, "report: --format takes md,tex,html,json\n");
        return 2;
    }
    if (parse_set(plots, pnames, pbits, 3, &o.plot_formats) != 0) {
        fprintf(stderr, "report: --plots takes png,svg,pdf or none\n");
        return 2;
    }
    if (o.published_setting && strcmp(o.published_setting, "zero-shot") && strcmp(o.published_setting, "fine-tuned")) {
        fprintf(stderr, "report: --published-setting is zero-shot or fine-tuned\n");
        return 2;
    }
    if (o.n_boot < 0) {
        fprintf(stderr, "report: --boot must be >= 0\n");
        return 2;
    }
    int64_t ids[256];
    if (runs) {
        const char * p = runs;
        while (*p) {
            char *    end;
            long long v = strtoll(p, &end, 10);
            if (end == p || v <= 0 || o.n_run_ids >= 256 || (*end && *end != ',')) {
                fprintf(stderr, "report: --runs takes a comma-separated list of run ids\n");
                return 2;
            }
            ids[o.n_run_ids++] = v;
            p = *end ? end + 1 : end;
        }
        o.run_ids = ids;
    }
    o.gnuplot = getenv("VB_GNUPLOT");
    static struct vb_report_config cfg; /* its strings live until the report is written */
    if (config) {
        if (vb_report_config_read(config, &cfg) != VB_OK) {
            fprintf(stderr, "report: %s\n", vb_errmsg());
            return 1;
        }
        apply_config(&o, &cfg, set, dn);
    }
    struct vb_store * st;
    int               rc = vb_store_open(&st, db, 1);
    if (rc != VB_OK) {
        vb_report_config_free(&cfg);
        fprintf(stderr, "report: %s\n", vb_errmsg());
        return 1;
    }
    struct vb_report_result res;
    rc = vb_report_write(st, &o, &res);
    vb_store_close(st);
    vb_report_config_free(&cfg);
    if (rc != VB_OK) {
        fprintf(stderr, "report: %s\n", vb_errmsg());
        return 1;
    }
    if (res.plots_skipped) fprintf(stderr, "report: %s\n", res.note);
    if (res.n_error_runs) {
        fprintf(stderr, "report: warning: %d run(s) have error rows (counted as wrong answers):\n",
                (int)res.n_error_runs);
        fprintf(stderr, "%s", res.warnings);
    }
    if (res.n_sheets_skipped)
        fprintf(stderr, "report: warning: contact sheets skipped or incomplete:\n%s", res.sheet_notes);
    fprintf(stderr, "report: %d run(s), %d table(s), %d plot(s) written to %s\n", (int)res.n_runs, (int)res.n_tables,
            (int)res.n_plots, o.out_dir);
    if (o.contact_sheets > 0) fprintf(stderr, "report: %d contact sheet(s) written\n", (int)res.n_sheets);
    return 0;
}
