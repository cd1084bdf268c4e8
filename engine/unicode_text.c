/* unicode_text.c — UTF-8 helpers, byte buffer, string map (see unicode_text.h). */
#include "engine/unicode_text.h"

#include "base/common.h"

#include <string.h>

int vb_unicode_utf8_decode(const char * s, size_t len, int32_t * cp) {
    if (len == 0) return 0;
    const unsigned char * u = (const unsigned char *)s;
    unsigned              c = u[0];
    if (c < 0x80) {
        *cp = (int32_t)c;
        return 1;
    }
    int     n;
    int32_t v, min;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        v = c & 0x1F;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        v = c & 0x0F;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        v = c & 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    if (len < (size_t)n) return 0;
    for (int i = 1; i < n; i++) {
        if ((u[i] & 0xC0) != 0x80) return 0;
        v = (v << 6) | (u[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
    *cp = v;
    return n;
}

int vb_unicode_utf8_encode(int32_t cp, char out[4]) {
    if (cp < 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

int vb_unicode_utf8_valid(const char * s, size_t len) {
    size_t i = 0;
    while (i < len) {
        int32_t cp;
        int     k = vb_unicode_utf8_decode(s + i, len - i, &cp);
        if (!k) return 0;
        i += (size_t)k;
    }
    return 1;
}

void vb_unicode_buf_add(struct vb_unicode_buf * b, const char * s, size_t n) {
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->n + n + 1)
            cap *= 2;
        b->p = vb_realloc(b->p, cap);
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

void vb_unicode_buf_add_cp(struct vb_unicode_buf * b, int32_t cp) {
    char tmp[4];
    int  k = vb_unicode_utf8_encode(cp, tmp);
    if (!k) k = vb_unicode_utf8_encode(0xFFFD, tmp);
    vb_unicode_buf_add(b, tmp, (size_t)k);
}

void vb_unicode_buf_free(struct vb_unicode_buf * b) {
    free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}

static uint64_t map_hash(const char * s, size_t n) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a 64 */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h ^ (h >> 29);
}

void vb_unicode_map_init(struct vb_unicode_map * m, size_t n_hint) {
    size_t cap = 16;
    while (cap < n_hint * 2 + 2)
        cap *= 2;
    m->keys = vb_calloc(cap, sizeof *m->keys);
    m->lens = vb_calloc(cap, sizeof *m->lens);
    m->vals = vb_calloc(cap, sizeof *m->vals);
    m->cap = cap;
    m->n = 0;
    m->borrowed = 0;
}

void vb_unicode_map_init_borrowed(struct vb_unicode_map * m, size_t n_hint) {
    vb_unicode_map_init(m, n_hint);
    m->borrowed = 1;
}

static void map_grow(struct vb_unicode_map * m) {
    struct vb_unicode_map big;
    vb_unicode_map_init(&big, m->cap);
    big.borrowed = m->borrowed;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i]) continue;
        size_t j = map_hash(m->keys[i], m->lens[i]) & (big.cap - 1);
        while (big.keys[j])
            j = (j + 1) & (big.cap - 1);
        big.keys[j] = m->keys[i];
        big.lens[j] = m->lens[i];
        big.vals[j] = m->vals[i];
        big.n++;
    }
    free(m->keys);
    free(m->lens);
    free(m->vals);
    *m = big;
}

void vb_unicode_map_put(struct vb_unicode_map * m, const char * key, size_t len, int32_t val) {
    if ((m->n + 1) * 2 > m->cap) map_grow(m);
    size_t j = map_hash(key, len) & (m->cap - 1);
    while (m->keys[j]) {
        if (m->lens[j] == len && !memcmp(m->keys[j], key, len)) {
            m->vals[j] = val;
            return;
        }
        j = (j + 1) & (m->cap - 1);
    }
    char * k;
    if (m->borrowed) {
        k = (char *)(uintptr_t)key;
    } else {
        k = vb_malloc(len + 1);
        memcpy(k, key, len);
        k[len] = 0;
    }
    m->keys[j] = k;
    m->lens[j] = (uint32_t)len;
    m->vals[j] = val;
    m->n++;
}

int32_t vb_unicode_map_get(const struct vb_unicode_map * m, const char * key, size_t len) {
    if (!m->cap) return -1;
    size_t j = map_hash(key, len) & (m->cap - 1);
    while (m->keys[j]) {
        if (m->lens[j] == len && !memcmp(m->keys[j], key, len)) return m->vals[j];
        j = (j + 1) & (m->cap - 1);
    }
    return -1;
}

void vb_unicode_map_free(struct vb_unicode_map * m) {
    if (m->keys && !m->borrowed)
        for (size_t i = 0; i < m->cap; i++)
            free(m->keys[i]);
    free(m->keys);
    free(m->lens);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

void vb_unicode_ids_push(struct vb_unicode_ids * a, int32_t x) {
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 64;
        a->v = vb_realloc(a->v, (size_t)a->cap * sizeof *a->v);
    }
    a->v[a->n++] = x;
}

void vb_unicode_ids_wrap(struct vb_unicode_ids * body, const int32_t * pre, int32_t n_pre, const int32_t * post,
                         int32_t n_post, int32_t max_length, int truncate_left, int32_t ** ids, int32_t * n) {
    int32_t n_spec = n_pre + n_post, keep = body->n, first = 0;
    if (max_length > 0 && body->n > max_length - n_spec) {
        keep = max_length - n_spec;
        if (truncate_left) first = body->n - keep;
    }
    int32_t   total = keep + n_spec;
    int32_t * r = vb_malloc((size_t)(total > 0 ? total : 1) * sizeof *r);
    int32_t   k = 0;
    for (int32_t i = 0; i < n_pre; i++)
        r[k++] = pre[i];
    for (int32_t i = 0; i < keep; i++)
        r[k++] = body->v[first + i];
    for (int32_t i = 0; i < n_post; i++)
        r[k++] = post[i];
    free(body->v);
    memset(body, 0, sizeof *body);
    *ids = r;
    *n = total;
}
