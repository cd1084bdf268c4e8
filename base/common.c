/* common.c — errors, logging, clock, allocation, file reading, SHA-256 (FIPS 180-4). */
#include "base/common.h"

#include <openssl/evp.h>

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

static _Thread_local char g_err[2048];
int                       vb_log_level_cur = VB_LOG_WARN;
static vb_log_fn          g_log_fn;
static void *             g_log_ud;

_Noreturn void vb_abort_(const char * file, int line, const char * msg) {
    fprintf(stderr, "%s:%d: %s\n", file, line, msg);
    fflush(stderr);
    abort();
}

int vb_fail(int st, const char * fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_err, sizeof g_err, fmt, ap);
    va_end(ap);
    return st;
}

int vb_fail_prefix(int st, const char * fmt, ...) {
    char    pre[1024], old[sizeof g_err];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    memcpy(old, g_err, sizeof old);
    size_t np = strlen(pre);
    if (np > sizeof g_err - 3) np = sizeof g_err - 3;
    memcpy(g_err, pre, np);
    memcpy(g_err + np, ": ", 2);
    size_t no = strlen(old);
    if (no > sizeof g_err - np - 3) no = sizeof g_err - np - 3;
    memcpy(g_err + np + 2, old, no);
    g_err[np + 2 + no] = 0;
    return st;
}

const char * vb_errmsg(void) {
    return g_err;
}

const char * vb_status_str(int st) {
    switch (st) {
    case VB_OK:
        return "ok";
    case VB_ERR_IO:
        return "io";
    case VB_ERR_FORMAT:
        return "format";
    case VB_ERR_NOMEM:
        return "nomem";
    case VB_ERR_ARG:
        return "arg";
    case VB_ERR_UNSUPPORTED:
        return "unsupported";
    case VB_ERR_NOTFOUND:
        return "notfound";
    case VB_ERR_SHAPE:
        return "shape";
    case VB_ERR_DB:
        return "db";
    case VB_ERR_VIDEO:
        return "video";
    case VB_ERR_MISMATCH:
        return "mismatch";
    default:
        return "unknown";
    }
}

char * vb_vstrfmt(const char * fmt, va_list ap) {
    VB_ASSERT(fmt != NULL); /* also tells GCC's -Wformat-truncation under UBSan that fmt is set */
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    VB_ASSERT(n >= 0);
    char * s = vb_malloc((size_t)n + 1);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

void vb_log_set(vb_log_fn fn, void * ud) {
    g_log_fn = fn;
    g_log_ud = ud;
}

void vb_log_(int level, const char * func, const char * fmt, ...) {
    char    buf[2048];
    int     n = snprintf(buf, sizeof buf, "%s: ", func);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, ap);
    va_end(ap);
    if (g_log_fn) {
        g_log_fn(level, buf, g_log_ud);
    } else {
        static const char * names[] = {"error", "warn", "info", "debug"};
        fprintf(stderr, "[%s] %s\n", names[level < 0 ? 0 : level > 3 ? 3 : level], buf);
    }
}

int64_t vb_time_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t proc_status_kb(const char * key) {
    FILE * f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char    line[256];
    int64_t v = -1;
    size_t  kl = strlen(key);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, kl) && line[kl] == ':') {
            v = strtoll(line + kl + 1, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

int64_t vb_rss_peak_kb(void) {
    return proc_status_kb("VmHWM");
}
int64_t vb_rss_current_kb(void) {
    return proc_status_kb("VmRSS");
}

void * vb_malloc(size_t n) {
    void * p = malloc(n ? n : 1);
    VB_ASSERT(p != NULL);
    return p;
}
void * vb_calloc(size_t n, size_t sz) {
    void * p = calloc(n ? n : 1, sz ? sz : 1);
    VB_ASSERT(p != NULL);
    return p;
}
void * vb_realloc(void * p, size_t n) {
    void * q = realloc(p, n ? n : 1);
    VB_ASSERT(q != NULL);
    return q;
}
char * vb_strdup(const char * s) {
    size_t n = strlen(s) + 1;
    char * p = vb_malloc(n);
    memcpy(p, s, n);
    return p;
}

int vb_read_file(const char * path, char ** out, size_t * len_out) {
    *out = NULL;
    FILE * f = fopen(path, "rb");
    if (!f) return vb_fail(VB_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, len = 0;
    char * buf = vb_malloc(cap);
    for (;;) {
        if (len + 1 >= cap) buf = vb_realloc(buf, cap *= 2);
        size_t got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0) break;
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        free(buf);
        return vb_fail(VB_ERR_IO, "%s: read error", path);
    }
    buf[len] = 0;
    *out = buf;
    if (len_out) *len_out = len;
    return VB_OK;
}

int vb_file_splice(const char * path, const char * text, size_t len, size_t cut, void (*emit)(FILE * f, void * ud),
                   void * ud) {
    VB_ASSERT(cut <= len);
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%.4000s.tmp", path) >= (int)sizeof tmp)
        return vb_fail(VB_ERR_ARG, "%s: path too long", path);
    FILE * f = fopen(tmp, "wb");
    if (!f) return vb_fail(VB_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
    fwrite(text, 1, cut, f);
    emit(f, ud);
    fwrite(text + cut, 1, len - cut, f);
    int bad = ferror(f);
    if (fclose(f) != 0) bad = 1;
    if (bad || rename(tmp, path) != 0) {
        remove(tmp);
        return vb_fail(VB_ERR_IO, "%s: cannot rewrite", path);
    }
    return VB_OK;
}

/* ---- SHA-256 (OpenSSL's libcrypto: its SHA-NI / AVX2 code runs ~4x the hand-written loop this replaced) ---- */
void vb_sha256_buf(const void * data, size_t len, char out_hex[65]) {
    unsigned char md[32];
    unsigned int  mdlen = 0;
    /* EVP_Digest with SHA-256 fails only on allocation failure, which the engine treats as fatal everywhere */
    VB_ASSERT(EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) == 1 && mdlen == 32);
    for (int i = 0; i < 32; i++)
        snprintf(out_hex + 2 * i, 3, "%02x", md[i]);
}

int vb_sha256_file(const char * path, char out_hex[65]) {
    FILE * f = fopen(path, "rb");
    if (!f) return vb_fail(VB_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    EVP_MD_CTX * ctx = EVP_MD_CTX_new();
    VB_ASSERT(ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1);
    enum { CHUNK = 1 << 20 };
    uint8_t * buf = vb_malloc(CHUNK); /* (CHUNK) bytes of the file at a time */
    size_t    n;
    int       ok = 1;
    while ((n = fread(buf, 1, CHUNK, f)) > 0)
        ok &= EVP_DigestUpdate(ctx, buf, n) == 1;
    int err = ferror(f);
    fclose(f);
    free(buf);
    unsigned char md[32];
    unsigned int  mdlen = 0;
    ok &= EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 32;
    EVP_MD_CTX_free(ctx);
    if (err) return vb_fail(VB_ERR_IO, "%s: read error", path);
    if (!ok) return vb_fail(VB_ERR_NOMEM, "%s: SHA-256 (libcrypto) failed", path);
    for (int i = 0; i < 32; i++)
        snprintf(out_hex + 2 * i, 3, "%02x", md[i]);
    return VB_OK;
}

int vb_lines_walk(char * buf, size_t len, int (*cb)(void * ud, char * line, int32_t line_no), void * ud) {
    size_t  p = 0;
    int32_t line = 1;
    while (p < len) {
        size_t e = p;
        while (e < len && buf[e] != '\n')
            e++;
        size_t next = e < len ? e + 1 : e;
        if (e > p && buf[e - 1] == '\r') e--;
        buf[e] = 0;
        int r = cb(ud, buf + p, line);
        if (r) return r;
        p = next;
        line++;
    }
    return VB_OK;
}
