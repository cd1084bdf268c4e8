/* cmd_demo_gate.c — `vlapbench demo gate`: puts the regression gate's result (the lines of `vlapbench compare`
** that scripts/demo.sh ran against the stored baseline) into the demo report, as a section before the plots. */
#include "base/common.h"
#include "harness/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* s with the characters of fmt (0 md code block: none; 1 html; 2 tex verbatim: none) escaped */
static void put_text(FILE * f, const char * s, size_t n, int fmt) {
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (fmt == 1 && c == '<')
            fputs("&lt;", f);
        else if (fmt == 1 && c == '>')
            fputs("&gt;", f);
        else if (fmt == 1 && c == '&')
            fputs("&amp;", f);
        else if (fmt == 2 && c == '\\')
            fputs("/", f); /* never a \end{verbatim} inside the block */
        else if ((unsigned char)c < 0x20 && c != '\n')
            fputc(' ', f);
        else
            fputc(c, f);
    }
}

/* The section in format fmt (0 md, 1 html, 2 tex). */
static void section(FILE * f, int fmt, const char * cmd, int status, const char * lines, size_t n) {
    const char *        verdict = status == 0 ? "PASS" : status == 1 ? "FAIL" : "ERROR";
    static const char * head[3] = {"## Regression gate\n\n", "<h2>Regression gate</h2>\n<p class=\"demo-gate\">",
                                   "\\section*{Regression gate}\n"};
    fputs(head[fmt], f);
    static const char * intro = "make demo compared the VLAP runs of this database (and SeViLA's, the latency "
                                "reference) with the stored baseline of the same runs (each cell matched by its "
                                "settings) with";
    put_text(f, intro, strlen(intro), fmt);
    fputs(fmt == 0 ? "\n\n```\n" : fmt == 1 ? "</p>\n<pre>" : "\n\\begin{verbatim}\n", f);
    put_text(f, cmd, strlen(cmd), fmt);
    fputs(fmt == 0 ? "\n```\n\n" : fmt == 1 ? "</pre>\n<p class=\"demo-gate\">" : "\n\\end{verbatim}\n", f);
    char para[1024];
    snprintf(para, sizeof para,
             "Verdict: %s (exit status %d). Each cell must give the same prediction on every question (no changed "
             "prediction, no accuracy drop); its median time is compared relative to SeViLA's at the same k in the "
             "same database, because the baseline was measured on another machine under another load. The uniform "
             "runs are not in the baseline (listed as only-new).",
             verdict, status);
    put_text(f, para, strlen(para), fmt);
    fputs(fmt == 0 ? "\n\n```\n" : fmt == 1 ? "</p>\n<pre>" : "\n\\begin{verbatim}\n", f);
    put_text(f, lines, n, fmt);
    if (n && lines[n - 1] != '\n') fputc('\n', f);
    fputs(fmt == 0 ? "```\n\n" : fmt == 1 ? "</pre>\n" : "\\end{verbatim}\n\n", f);
}

/* The section's arguments for vb_file_splice. */
struct section_arg {
    int          fmt;
    const char * cmd;
    int          status;
    const char * lines;
    size_t       n;
};

static void section_emit(FILE * f, void * ud) {
    const struct section_arg * a = ud;
    section(f, a->fmt, a->cmd, a->status, a->lines, a->n);
}

/* Insert the section into path before the first line starting with `before` (or at `fallback`, or the end). */
static int insert(const char * path, int fmt, const char * before, const char * fallback, const char * cmd, int status,
                  const char * lines, size_t n) {
    char * text;
    size_t len;
    int    rc = vb_read_file(path, &text, &len);
    if (rc != VB_OK) return rc;
    if (strstr(text, "Regression gate")) {
        free(text);
        return VB_OK;
    }
    char * at = strstr(text, before);
    if (!at && fallback) at = strstr(text, fallback);
    size_t             cut = at ? (size_t)(at - text) : len;
    struct section_arg a = {fmt, cmd, status, lines, n};
    rc = vb_file_splice(path, text, len, cut, section_emit, &a);
    free(text);
    return rc;
}

int cmd_demo_gate(int argc, char ** argv) {
    const char *dir = NULL, *file = NULL, *cmd = NULL, *v;
    int         status = -1;
    for (int i = 2; i < argc; i++) {
        if (vb_cli_opt(argc, argv, &i, "--dir", &v))
            dir = v;
        else if (vb_cli_opt(argc, argv, &i, "--lines", &v))
            file = v;
        else if (vb_cli_opt(argc, argv, &i, "--command", &v))
            cmd = v;
        else if (vb_cli_opt(argc, argv, &i, "--status", &v)) {
            char * e;
            long   s = strtol(v, &e, 10);
            if (e == v || *e || s < 0 || s > 255) {
                fprintf(stderr, "demo gate: --status takes the exit status of compare (0..255)\n");
                return 2;
            }
            status = (int)s;
        } else {
            fprintf(stderr, "demo gate: unknown option or missing value: %s\n", argv[i]);
            return 2;
        }
    }
    if (!dir || !file || !cmd || status < 0) {
        fprintf(stderr, "demo gate: --dir, --lines, --command and --status are required\n");
        return 2;
    }
    char * lines = NULL;
    size_t n = 0;
    int    rc = vb_read_file(file, &lines, &n);
    static const struct {
        const char *file, *before, *fallback;
        int         fmt;
    } F[3] = {{"report.md", "\n## Plots", NULL, 0},
              {"report.html", "<h2>Plots</h2>", "</body>", 1},
              {"report.tex", "\\section*{Plots}", "\\end{document}", 2}};
    char p[4200];
    for (int i = 0; i < 3 && rc == VB_OK; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, F[i].file);
        rc = insert(p, F[i].fmt, F[i].before, F[i].fallback, cmd, status, lines, n);
    }
    free(lines);
    if (rc != VB_OK) {
        fprintf(stderr, "demo gate: %s\n", vb_errmsg());
        return 1;
    }
    fprintf(stderr, "demo gate: added to %s/report.{md,html,tex}\n", dir);
    return 0;
}
