/* table.c — the report's table model and its Markdown, LaTeX and HTML renderers (see report_internal.h). */
#include "reports/report_internal.h"

#include "base/common.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

/* ======================================================================================================== */
/* tables: one model, three renderers                                                                       */
/* ======================================================================================================== */

char * vb_rp_fmt(const char * f, ...) __attribute__((format(printf, 1, 2)));
char * vb_rp_fmt(const char * f, ...) {
    va_list ap;
    va_start(ap, f);
    char * s = vb_vstrfmt(f, ap);
    va_end(ap);
    return s;
}

void vb_rp_tbl_init(struct tbl * t, char * title, int32_t nc) {
    memset(t, 0, sizeof *t);
    t->title = title;
    t->nc = nc;
}

int32_t vb_rp_tbl_add_row(struct tbl * t) {
    t->cell = vb_realloc(t->cell, sizeof(char *) * (size_t)(t->nr + 1) * (size_t)t->nc);
    for (int32_t c = 0; c < t->nc; c++)
        t->cell[(size_t)t->nr * t->nc + c] = NULL;
    return t->nr++;
}

void vb_rp_tbl_set(struct tbl * t, int32_t r, int32_t c, char * s) { /* takes ownership */
    VB_ASSERT(r < t->nr && c < t->nc);
    free(t->cell[(size_t)r * t->nc + c]);
    t->cell[(size_t)r * t->nc + c] = s;
}

static const char * vb_rp_tbl_get(const struct tbl * t, int32_t r, int32_t c) {
    const char * s = t->cell[(size_t)r * t->nc + c];
    return s ? s : "";
}

void vb_rp_tbl_free(struct tbl * t) {
    for (int32_t i = 0; i < t->nr * t->nc; i++)
        free(t->cell[i]);
    free(t->cell);
    free(t->title);
    free(t->note);
}

char * vb_rp_pct(double f) {
    return isnan(f) ? vb_strdup("-") : vb_rp_fmt("%.2f", 100 * f);
}
char * vb_rp_num(double v, const char * f) {
    return isnan(v) ? vb_strdup("-") : vb_rp_fmt(f, v);
}

/* ---- escaping ---- */
void vb_rp_put_md(FILE * f, const char * s) {
    for (; *s; s++) {
        if (strchr("\\`*_[]<>&|~", *s)) { /* backslash escapes (CommonMark): no markup, no raw HTML, no cell split */
            fputc('\\', f);
            fputc(*s, f);
        } else if ((unsigned char)*s < 0x20)
            fputc(' ', f);
        else
            fputc(*s, f);
    }
}

void vb_rp_put_html(FILE * f, const char * s) {
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

void vb_rp_put_tex(FILE * f, const char * s) {
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

void vb_rp_tbl_md(FILE * f, const struct tbl * t) {
    fputs("\n### ", f);
    vb_rp_put_md(f, t->title);
    fputs("\n\n", f);
    for (int32_t r = 0; r < t->nr; r++) {
        fputc('|', f);
        for (int32_t c = 0; c < t->nc; c++) {
            fputc(' ', f);
            vb_rp_put_md(f, vb_rp_tbl_get(t, r, c));
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
        vb_rp_put_md(f, t->note);
        fputs("\n", f);
    }
}

void vb_rp_tbl_tex(FILE * f, const struct tbl * t) {
    fputs("\\begin{table}[ht]\n\\centering\\small\n\\caption{", f);
    vb_rp_put_tex(f, t->title);
    fputs("}\n\\resizebox{\\ifdim\\width>\\textwidth\\textwidth\\else\\width\\fi}{!}{%\n\\begin{tabular}{l", f);
    for (int32_t c = 1; c < t->nc; c++)
        fputs("r", f);
    fputs("}\n\\toprule\n", f);
    for (int32_t r = 0; r < t->nr; r++) {
        for (int32_t c = 0; c < t->nc; c++) {
            if (c) fputs(" & ", f);
            vb_rp_put_tex(f, vb_rp_tbl_get(t, r, c));
        }
        fputs(" \\\\\n", f);
        if (r == 0) fputs("\\midrule\n", f);
    }
    fputs("\\bottomrule\n\\end{tabular}}\n", f);
    if (t->note) {
        fputs("\\par\\medskip\\footnotesize ", f);
        vb_rp_put_tex(f, t->note);
        fputs("\n", f);
    }
    fputs("\\end{table}\n\n", f);
}

void vb_rp_tbl_html(FILE * f, const struct tbl * t) {
    fputs("<h3>", f);
    vb_rp_put_html(f, t->title);
    fputs("</h3>\n<table>\n<thead><tr>", f);
    for (int32_t c = 0; c < t->nc; c++) {
        fputs("<th>", f);
        vb_rp_put_html(f, vb_rp_tbl_get(t, 0, c));
        fputs("</th>", f);
    }
    fputs("</tr></thead>\n<tbody>\n", f);
    for (int32_t r = 1; r < t->nr; r++) {
        fputs("<tr>", f);
        for (int32_t c = 0; c < t->nc; c++) {
            fputs(c ? "<td class=\"n\">" : "<td>", f);
            vb_rp_put_html(f, vb_rp_tbl_get(t, r, c));
            fputs("</td>", f);
        }
        fputs("</tr>\n", f);
    }
    fputs("</tbody>\n</table>\n", f);
    if (t->note) {
        fputs("<p class=\"note\">", f);
        vb_rp_put_html(f, t->note);
        fputs("</p>\n", f);
    }
}

/* ======================================================================================================== */
