/* common.c — errors, logging, clock, allocation, file reading, SHA-256 (FIPS 180-4). */
#include "base/common.h"

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

/* ---- SHA-256 ---- */
struct sha256 {
    uint32_t h[8];
    uint64_t len;
    uint8_t  buf[64];
    size_t   nbuf;
};
static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))
static void sha256_block(struct sha256 * s, const uint8_t * p) {
    uint32_t w[64], a, b, c, d, e, f, g, h;
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3], e = s->h[4], f = s->h[5], g = s->h[6], h = s->h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K256[i] + w[i];
        uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        h = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
    }
    s->h[0] += a, s->h[1] += b, s->h[2] += c, s->h[3] += d, s->h[4] += e, s->h[5] += f, s->h[6] += g, s->h[7] += h;
}
static void sha256_init(struct sha256 * s) {
    static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(s->h, h0, sizeof h0);
    s->len = 0;
    s->nbuf = 0;
}
static void sha256_update(struct sha256 * s, const uint8_t * p, size_t n) {
    s->len += n;
    while (n) {
        size_t take = 64 - s->nbuf < n ? 64 - s->nbuf : n;
        memcpy(s->buf + s->nbuf, p, take);
        s->nbuf += take, p += take, n -= take;
        if (s->nbuf == 64) {
            sha256_block(s, s->buf);
            s->nbuf = 0;
        }
    }
}
static void sha256_final(struct sha256 * s, char out[65]) {
    uint64_t bits = s->len * 8;
    uint8_t  pad = 0x80, z = 0;
    sha256_update(s, &pad, 1);
    while (s->nbuf != 56)
        sha256_update(s, &z, 1);
    uint8_t lb[8];
    for (int i = 0; i < 8; i++)
        lb[i] = (uint8_t)(bits >> (56 - 8 * i));
    sha256_update(s, lb, 8);
    for (int i = 0; i < 8; i++)
        snprintf(out + 8 * i, 9, "%08x", s->h[i]);
}

void vb_sha256_buf(const void * data, size_t len, char out_hex[65]) {
    struct sha256 s;
    sha256_init(&s);
    sha256_update(&s, data, len);
    sha256_final(&s, out_hex);
}

int vb_sha256_file(const char * path, char out_hex[65]) {
    FILE * f = fopen(path, "rb");
    if (!f) return vb_fail(VB_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct sha256 s;
    sha256_init(&s);
    static _Thread_local uint8_t buf[1 << 16];
    size_t                       n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        sha256_update(&s, buf, n);
    int err = ferror(f);
    fclose(f);
    if (err) return vb_fail(VB_ERR_IO, "%s: read error", path);
    sha256_final(&s, out_hex);
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
