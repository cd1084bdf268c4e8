/* csv.c — RFC 4180 reader (see csv.h). */
#include "datasets/csv.h"

#include "base/common.h"

#include <stdio.h>
#include <string.h>

void vb_csv_init(struct vb_csv * c, const char * buf, size_t len) {
    memset(c, 0, sizeof *c);
    c->buf = buf;
    c->len = len;
    c->line = 1;
    if (len >= 3 && (unsigned char)buf[0] == 0xEF && (unsigned char)buf[1] == 0xBB && (unsigned char)buf[2] == 0xBF)
        c->pos = 3;
}

void vb_csv_free(struct vb_csv * c) {
    free(c->field_buf);
    c->field_buf = NULL;
    c->field_cap = 0;
}

static void put(struct vb_csv * c, size_t * o, char ch) {
    if (*o + 1 >= c->field_cap) {
        c->field_cap = c->field_cap ? c->field_cap * 2 : 1024;
        c->field_buf = vb_realloc(c->field_buf, c->field_cap);
    }
    c->field_buf[(*o)++] = ch;
}

/* Skip to just after the end of the current physical line (error recovery). */
static void skip_line(struct vb_csv * c) {
    while (c->pos < c->len && c->buf[c->pos] != '\n')
        c->pos++;
    if (c->pos < c->len) {
        c->pos++;
        c->line++;
    }
}

static int fail(struct vb_csv * c, const char * why) {
    snprintf(c->err, sizeof c->err, "%s", why);
    skip_line(c);
    return VB_ERR_FORMAT;
}

/* An unterminated quote swallows the rest of the file: resume after the record's first physical line instead. */
static int fail_unterminated(struct vb_csv * c, size_t rec_start) {
    snprintf(c->err, sizeof c->err, "unterminated quoted field");
    c->pos = rec_start;
    c->line = c->rec_line;
    skip_line(c);
    return VB_ERR_FORMAT;
}

int vb_csv_next(struct vb_csv * c) {
    if (c->pos >= c->len) return 0;
    c->rec_line = c->line;
    size_t rec_start = c->pos;
    c->n_fields = 0;
    size_t       o = 0;
    size_t       starts[VB_CSV_MAX_FIELDS];
    const char * b = c->buf;
    for (;;) { /* one field per iteration */
        if (c->n_fields >= VB_CSV_MAX_FIELDS) return fail(c, "too many fields");
        starts[c->n_fields++] = o;
        if (c->pos < c->len && b[c->pos] == '"') {
            c->pos++;
            for (;;) {
                if (c->pos >= c->len) return fail_unterminated(c, rec_start);
                char ch = b[c->pos++];
                if (ch == '"') {
                    if (c->pos < c->len && b[c->pos] == '"') {
                        put(c, &o, '"');
                        c->pos++;
                        continue;
                    }
                    break;
                }
                if (ch == '\n') c->line++;
                put(c, &o, ch);
            }
            /* after the closing quote: ',', CRLF, LF or end of input */
            if (c->pos < c->len && b[c->pos] != ',' && b[c->pos] != '\n' &&
                !(b[c->pos] == '\r' && c->pos + 1 < c->len && b[c->pos + 1] == '\n') &&
                !(b[c->pos] == '\r' && c->pos + 1 == c->len))
                return fail(c, "text after closing quote");
        } else {
            while (c->pos < c->len) {
                char ch = b[c->pos];
                if (ch == ',' || ch == '\n') break;
                if (ch == '\r' && (c->pos + 1 == c->len || b[c->pos + 1] == '\n')) break;
                if (ch == '"') return fail(c, "quote inside unquoted field");
                put(c, &o, ch);
                c->pos++;
            }
        }
        put(c, &o, 0);
        if (c->pos < c->len && b[c->pos] == ',') {
            c->pos++;
            continue;
        }
        if (c->pos < c->len && b[c->pos] == '\r') c->pos++;
        if (c->pos < c->len && b[c->pos] == '\n') {
            c->pos++;
            c->line++;
        }
        break;
    }
    for (int32_t i = 0; i < c->n_fields; i++)
        c->fields[i] = c->field_buf + starts[i];
    return 1;
}
