/* common.h — status codes, the two tiers of errors, logging and the monotonic clock.
**
** Tier 1: broken invariants (programming errors) call VB_ASSERT(x): prints "file:line: VB_ASSERT(x) failed" and
**         aborts.  Never used for anything bad input can cause.
** Tier 2: everything bad input can cause returns an enum vb_status (VB_OK = 0, negative on failure) and leaves a
**         human-readable message in a per-thread buffer, read with vb_errmsg().  Messages name the file and the
**         tensor / line / field: "model.safetensors: tensor 'x': offsets past end of data".
** Library code never calls exit(); only harness/main.c does.
*/
#ifndef VB_COMMON_H
#define VB_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum vb_status {
    VB_OK = 0,
    VB_ERR_IO = -1,     /* file missing, unreadable, short read */
    VB_ERR_FORMAT = -2, /* malformed content: header, JSON, CSV line, tensor bytes */
    VB_ERR_NOMEM = -3,
    VB_ERR_ARG = -4,         /* bad argument or option value */
    VB_ERR_UNSUPPORTED = -5, /* valid input we do not handle (dtype, architecture) */
    VB_ERR_NOTFOUND = -6,    /* missing tensor / key / sample */
    VB_ERR_SHAPE = -7,       /* tensor shape disagrees with the config */
    VB_ERR_DB = -8,          /* SQLite failure */
    VB_ERR_VIDEO = -9,       /* damaged or unreadable video */
    VB_ERR_MISMATCH = -10    /* a comparison failed (golden check, merge of unlike runs) */
};

/* Abort with file:line on a broken invariant. */
#define VB_ASSERT(x)                                                                                                   \
    do {                                                                                                               \
        if (!(x)) vb_abort_(__FILE__, __LINE__, "VB_ASSERT(" #x ") failed");                                           \
    } while (0)
_Noreturn void vb_abort_(const char * file, int line, const char * msg);

/* Format a message into this thread's error buffer and return st (so callers write `return vb_fail(...)`).
** The previous message is replaced. */
int vb_fail(int st, const char * fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefix the current error message with "prefix: " (adds context while an error propagates); returns st. */
int vb_fail_prefix(int st, const char * fmt, ...) __attribute__((format(printf, 2, 3)));
/* The last message set on this thread ("" if none). Valid until the next vb_fail on this thread. */
const char * vb_errmsg(void);
/* Short name of a status ("ok", "io", "format", ...). */
const char * vb_status_str(int st);

/* A freshly allocated string formatted like vprintf (fmt must not be NULL); the caller frees it.  Aborts on
** out-of-memory like vb_malloc. */
char * vb_vstrfmt(const char * fmt, va_list ap);

/* Logging: level-gated, no formatting below the threshold, to stderr (or a user callback), prefixed by __func__. */
enum vb_log_level { VB_LOG_ERROR = 0, VB_LOG_WARN = 1, VB_LOG_INFO = 2, VB_LOG_DEBUG = 3 };
extern int vb_log_level_cur;
typedef void (*vb_log_fn)(int level, const char * msg, void * ud);
void vb_log_set(vb_log_fn fn, void * ud);
void vb_log_(int level, const char * func, const char * fmt, ...) __attribute__((format(printf, 3, 4)));
#define vb_log(level, ...)                                                                                             \
    do {                                                                                                               \
        if ((level) <= vb_log_level_cur) vb_log_((level), __func__, __VA_ARGS__);                                      \
    } while (0)

/* Monotonic clock in microseconds (CLOCK_MONOTONIC). */
int64_t vb_time_us(void);

/* Memory of this process in KiB, from /proc/self/status: VmHWM (peak resident set, what getrusage's ru_maxrss
** reports) and VmRSS (current).  -1 when /proc is unavailable. */
int64_t vb_rss_peak_kb(void);
int64_t vb_rss_current_kb(void);

/* Allocation helpers: abort on out-of-memory (an invariant for the sizes we use); calloc zeroes. */
void * vb_malloc(size_t n);
void * vb_calloc(size_t n, size_t sz);
void * vb_realloc(void * p, size_t n);
char * vb_strdup(const char * s);

/* Read a whole file into a NUL-terminated malloc'd buffer. Returns VB_OK or VB_ERR_IO (message names the path). */
int vb_read_file(const char * path, char ** out, size_t * len_out);
/* Rewrite path as text[0, cut) + what emit(f, ud) writes + text[cut, len) (text: the file's len bytes as
** vb_read_file gave them), through path.tmp renamed over path: the file is either the old or the new whole.
** Returns VB_OK, VB_ERR_ARG (path too long) or VB_ERR_IO (message names the file; path.tmp removed). */
int vb_file_splice(const char * path, const char * text, size_t len, size_t cut, void (*emit)(FILE * f, void * ud),
                   void * ud);
/* Walk the lines of buf (len bytes followed by one writable byte, as vb_read_file gives): each line is NUL-terminated
** in place with a trailing CR stripped, and cb(ud, line, line number from 1) runs on it; the final newline makes no
** extra empty line.  Returns the first non-zero cb result, else VB_OK. */
int vb_lines_walk(char * buf, size_t len, int (*cb)(void * ud, char * line, int32_t line_no), void * ud);

/* SHA-256 of a file as 64 lowercase hex chars + NUL. Returns VB_OK or VB_ERR_IO. */
int vb_sha256_file(const char * path, char out_hex[65]);
/* SHA-256 of a memory buffer. */
void vb_sha256_buf(const void * data, size_t len, char out_hex[65]);

#define VB_MIN(a, b) ((a) < (b) ? (a) : (b))
#define VB_MAX(a, b) ((a) > (b) ? (a) : (b))

#endif
