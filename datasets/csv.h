/* csv.h — a small RFC 4180 reader over a file held in memory.
**
** Fields are separated by ',', records end at LF or CRLF (both may occur in one file), a field that starts with '"'
** is quoted: it may contain ',', CR, LF and doubled quotes ("" -> "), and must be followed by ',' or the end of the
** record.  A '"' inside an unquoted field, text after a closing quote, and an unterminated quote are format errors.
** A UTF-8 byte order mark at the very start is skipped.  Records spanning several lines (quoted newlines) report the
** line they start on.
*/
#ifndef VB_CSV_H
#define VB_CSV_H

#include <stddef.h>
#include <stdint.h>

#define VB_CSV_MAX_FIELDS 64

struct vb_csv {
    const char * buf; /* the whole file, not owned */
    size_t       len;
    size_t       pos;
    int32_t      line;      /* 1-based line of the next record */
    char *       field_buf; /* unescaped field text, NUL-separated; owned */
    size_t       field_cap;
    int32_t      n_fields;
    char *       fields[VB_CSV_MAX_FIELDS]; /* (n_fields) pointers into field_buf, valid until the next call */
    int32_t      rec_line;                  /* line the current record starts on */
    char         err[96];                   /* reason of the last VB_ERR_FORMAT (no file/line prefix) */
};

/* Start reading buf[0..len).  buf must outlive the reader. */
void vb_csv_init(struct vb_csv * c, const char * buf, size_t len);
/* Read the next record into c->fields / c->n_fields / c->rec_line.
** Returns 1 when a record was read, 0 at end of input, VB_ERR_FORMAT on a malformed record (reason in c->err,
** line in c->rec_line; the reader has skipped to the next line so reading may continue).  An empty line is returned
** as one record with a single empty field. */
int vb_csv_next(struct vb_csv * c);
/* Free the field buffer. */
void vb_csv_free(struct vb_csv * c);

#endif
