/* loaders_internal.h — shared machinery of the per-format loaders (not part of the public API). */
#ifndef VB_LOADERS_INTERNAL_H
#define VB_LOADERS_INTERNAL_H

#include "base/common.h"
#include "datasets/dataset.h"
#include "datasets/loaders.h"

#include <cjson/cJSON.h>
#include <stdarg.h>

struct vb_ld {
    struct vb_dataset * d;
    const char *        file; /* annotation path as given (used in messages) */
    const char *        map_path;
    const char *        videos_root;
    int                 skip_bad;
    int32_t             cap;
    const char *        split; /* from the file name */
    struct vb_strmap    keys;  /* sample key -> index, to reject duplicates */
    struct vb_strmap    rows;  /* content key -> line, for formats whose key is the line (raw How2QA) */
};

/* Record a malformed record: with skip_bad, appends "file:line: reason" to d->bad and returns VB_OK; otherwise
** returns vb_fail(VB_ERR_FORMAT, "file:line: reason"). */
int vb_ld_bad(struct vb_ld * ld, int32_t line, const char * fmt, ...) __attribute__((format(printf, 3, 4)));
/* Append a zeroed sample (dataset, split and line filled in) and return it. */
struct vb_sample * vb_ld_new(struct vb_ld * ld, const char * dataset, int32_t line);
/* Drop the last appended sample (after a bad record). */
void vb_ld_drop(struct vb_ld * ld);
/* Register s->key; 0 if it is a duplicate. */
int vb_ld_key_unique(struct vb_ld * ld, const char * key);
/* malloc'd "root/rel.mp4" (or NULL when no videos root). */
char * vb_ld_video_path(const struct vb_ld * ld, const char * rel);
/* malloc'd printf. */
char * vb_ld_fmt(const char * fmt, ...) __attribute__((format(printf, 1, 2)));
/* Whole-file checks every annotation and map file passes before it is parsed: no NUL byte, valid UTF-8 (utf8proc;
** overlong forms and surrogates rejected), and for JSON (json != 0) no \u0000 escape.  VB_OK or VB_ERR_FORMAT
** "path:line: reason". */
int vb_ld_text_check(const char * path, const char * buf, size_t len, int json);
/* vb_read_file + vb_ld_text_check (the buffer freed and *buf NULL on failure). */
int vb_ld_read(const char * path, int json, char ** buf, size_t * len);
/* 1 if a video id (or the relative path it becomes) stays inside the videos directory: not empty, not absolute, no
** '..' component, no backslash. */
int vb_ld_video_id_ok(const char * id);
/* 1 if s is valid UTF-8. */
int vb_ld_utf8_ok(const char * s);

/* JSON helpers: string member (NULL if absent or not a string); number member (0 absent / 1 ok / -1 wrong type);
** integral number member (0 absent / 1 ok / -1 not an integer). */
const char * vb_ld_jstr(const cJSON * o, const char * name);
int          vb_ld_jnum(const cJSON * o, const char * name, double * out);
int          vb_ld_jint(const cJSON * o, const char * name, int64_t * out);
/* Parse exactly text[0..n) as one JSON value (trailing whitespace allowed, anything else fails); NULL on error.
** Caller frees with cJSON_Delete. */
cJSON * vb_ld_json_parse(const char * text, size_t n);
/* Parse a whole decimal number from a string ("12.5", "3"); 1 ok, 0 not a number. */
int vb_ld_parse_double(const char * s, double * out);

/* Walk the elements of the top-level JSON array (or the values of the top-level object) in buf, calling
** cb(ud, text, len, line) with each element's text and 1-based start line.  A callback returning non-zero stops the
** walk and is returned.  A broken outer structure gives VB_ERR_FORMAT "file:line: reason". *is_object receives 1
** for a top-level object. */
int vb_ld_json_walk(const char * file, const char * buf, size_t len, int * is_object,
                    int (*cb)(void * ud, const char * text, size_t n, int32_t line), void * ud);

/* Per-dataset parsers (nextqa.c, star.c, vlep.c, how2qa.c, sevila_json.c): read ld->file (and ld->map_path when
** the format has one) and append the samples to ld->d through vb_ld_new.  Return VB_OK, VB_ERR_IO, or
** VB_ERR_FORMAT "file:line: reason" for a malformed record (unless ld->skip_bad, which records it in d->bad);
** the samples appended so far stay owned by ld->d and are freed with it. */
int vb_ld_nextqa(struct vb_ld * ld);
int vb_ld_star(struct vb_ld * ld);
int vb_ld_vlep(struct vb_ld * ld);
int vb_ld_how2qa_raw(struct vb_ld * ld);
int vb_ld_how2qa_value(struct vb_ld * ld);
int vb_ld_sevila(struct vb_ld * ld);

#endif
