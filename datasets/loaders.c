/* loaders.c — dataset kinds, the load dispatcher, vb_dataset_free, and the helpers shared by the per-format loaders
** (nextqa.c, star.c, vlep.c, how2qa.c, sevila_json.c). */
#include "base/rng.h"
#include "datasets/loaders_internal.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <utf8proc.h>

static const char * KIND_NAMES[VB_DS_COUNT] = {"nextqa", "star", "vlep", "how2qa", "how2qa-value", "sevila"};

int vb_dataset_kind_parse(const char * name, enum vb_dataset_kind * kind) {
    for (int i = 0; i < VB_DS_COUNT; i++)
        if (name && strcmp(name, KIND_NAMES[i]) == 0) {
            *kind = (enum vb_dataset_kind)i;
            return VB_OK;
        }
    return vb_fail(VB_ERR_ARG, "unknown dataset '%s' (nextqa, star, vlep, how2qa, how2qa-value, sevila)",
                   name ? name : "(null)");
}

const char * vb_dataset_kind_name(enum vb_dataset_kind kind) {
    return (kind >= 0 && kind < VB_DS_COUNT) ? KIND_NAMES[kind] : "?";
}

/* ---- string map ---- */

static uint64_t fnv1a(const char * s, size_t n) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

void vb_strmap_init(struct vb_strmap * m, int32_t hint) {
    int32_t cap = 16;
    while (cap < 2 * hint + 2)
        cap *= 2;
    m->cap = cap;
    m->n = 0;
    m->keys = vb_calloc((size_t)cap, sizeof(char *));
    m->vals = vb_calloc((size_t)cap, sizeof(int32_t));
}

static int32_t slot_of(const struct vb_strmap * m, const char * key) {
    uint32_t i = (uint32_t)fnv1a(key, strlen(key)) & (uint32_t)(m->cap - 1);
    while (m->keys[i] && strcmp(m->keys[i], key) != 0)
        i = (i + 1) & (uint32_t)(m->cap - 1);
    return (int32_t)i;
}

int vb_strmap_put(struct vb_strmap * m, const char * key, int32_t val) {
    if (2 * (m->n + 1) > m->cap) {
        struct vb_strmap big;
        vb_strmap_init(&big, m->cap);
        for (int32_t i = 0; i < m->cap; i++)
            if (m->keys[i]) {
                int32_t s = slot_of(&big, m->keys[i]);
                big.keys[s] = m->keys[i];
                big.vals[s] = m->vals[i];
                big.n++;
            }
        free(m->keys);
        free(m->vals);
        *m = big;
    }
    int32_t s = slot_of(m, key);
    if (m->keys[s]) return 0;
    m->keys[s] = vb_strdup(key);
    m->vals[s] = val;
    m->n++;
    return 1;
}

int32_t vb_strmap_get(const struct vb_strmap * m, const char * key) {
    if (!m->keys) return -1;
    int32_t s = slot_of(m, key);
    return m->keys[s] ? m->vals[s] : -1;
}

void vb_strmap_free(struct vb_strmap * m) {
    if (m->keys)
        for (int32_t i = 0; i < m->cap; i++)
            free(m->keys[i]);
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

/* ---- JSON map files ---- */

void vb_jsonmap_free(struct vb_jsonmap * m) {
    for (int32_t i = 0; i < m->n; i++) {
        free(m->keys[i]);
        free(m->vals[i]);
    }
    free(m->keys);
    free(m->vals);
    vb_strmap_free(&m->idx);
    memset(m, 0, sizeof *m);
}

int vb_jsonmap_load(struct vb_jsonmap * m, const char * path) {
    memset(m, 0, sizeof *m);
    char * buf;
    size_t len;
    int    st = vb_ld_read(path, 1, &buf, &len);
    if (st) return st;
    cJSON * root = vb_ld_json_parse(buf, len);
    if (!root) {
        free(buf);
        return vb_fail(VB_ERR_FORMAT, "%s: not valid JSON", path);
    }
    free(buf);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return vb_fail(VB_ERR_FORMAT, "%s: expected a JSON object of strings", path);
    }
    int32_t n = cJSON_GetArraySize(root);
    m->keys = vb_calloc((size_t)n + 1, sizeof(char *));
    m->vals = vb_calloc((size_t)n + 1, sizeof(char *));
    vb_strmap_init(&m->idx, n);
    for (cJSON * it = root->child; it; it = it->next) {
        if (!cJSON_IsString(it)) {
            st = vb_fail(VB_ERR_FORMAT, "%s: key '%s': value is not a string", path, it->string);
            break;
        }
        if (!vb_strmap_put(&m->idx, it->string, m->n)) {
            st = vb_fail(VB_ERR_FORMAT, "%s: key '%s' appears twice", path, it->string);
            break;
        }
        m->keys[m->n] = vb_strdup(it->string);
        m->vals[m->n] = vb_strdup(it->valuestring);
        m->n++;
    }
    cJSON_Delete(root);
    if (st) vb_jsonmap_free(m);
    return st;
}

const char * vb_jsonmap_get(const struct vb_jsonmap * m, const char * key) {
    int32_t i = vb_strmap_get(&m->idx, key);
    return i < 0 ? NULL : m->vals[i];
}

int vb_dataset_how2_clip_parse(const char * v, char * yt, size_t yt_cap, double * clip_start, double * clip_end) {
    const char * u2 = strrchr(v, '_');
    if (!u2 || u2 == v) return vb_fail(VB_ERR_FORMAT, "'%s': expected youtubeid_start_end", v);
    const char * u1 = u2 - 1;
    while (u1 > v && *u1 != '_')
        u1--;
    if (u1 == v) return vb_fail(VB_ERR_FORMAT, "'%s': expected youtubeid_start_end", v);
    char   a[32], b[32];
    size_t la = (size_t)(u2 - u1 - 1), lb = strlen(u2 + 1), ly = (size_t)(u1 - v);
    if (la == 0 || lb == 0 || la >= sizeof a || lb >= sizeof b || ly + 1 > yt_cap)
        return vb_fail(VB_ERR_FORMAT, "'%s': expected youtubeid_start_end", v);
    memcpy(a, u1 + 1, la);
    a[la] = 0;
    memcpy(b, u2 + 1, lb);
    b[lb] = 0;
    if (!vb_ld_parse_double(a, clip_start) || !vb_ld_parse_double(b, clip_end))
        return vb_fail(VB_ERR_FORMAT, "'%s': clip times are not numbers", v);
    memcpy(yt, v, ly);
    yt[ly] = 0;
    return VB_OK;
}

/* ---- How2QA raw option permutation (docs/formats.md §5.1) ---- */

int vb_dataset_how2qa_perm(const char * youtube_id, const char * segment_field, const char * question, int perm[4],
                           char perm_str[5]) {
    size_t a = strlen(youtube_id), b = strlen(segment_field), c = strlen(question);
    char * key = vb_malloc(a + b + c + 3);
    memcpy(key, youtube_id, a);
    key[a] = 0x1f;
    memcpy(key + a + 1, segment_field, b);
    key[a + 1 + b] = 0x1f;
    memcpy(key + a + b + 2, question, c);
    uint64_t state = fnv1a(key, a + b + c + 2);
    free(key);
    for (int i = 0; i < 4; i++)
        perm[i] = i;
    for (int i = 3; i >= 1; i--) {
        int j = (int)(vb_rng_splitmix64(&state) % (uint64_t)(i + 1));
        int t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    int ans = -1;
    for (int k = 0; k < 4; k++) {
        perm_str[k] = (char)('0' + perm[k]);
        if (perm[k] == 3) ans = k;
    }
    perm_str[4] = 0;
    return ans;
}

/* 1 if word occurs in base as a whole token (delimited by non-alphanumerics or the ends). */
static int has_token(const char * base, const char * word) {
    size_t n = strlen(word);
    for (const char * p = base; (p = strstr(p, word)) != NULL; p++) {
        int left = p == base || !isalnum((unsigned char)p[-1]);
        int right = !isalnum((unsigned char)p[n]);
        if (left && right) return 1;
    }
    return 0;
}

const char * vb_dataset_split_from_path(const char * path) {
    const char * base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (has_token(base, "test_public")) return "test_public";
    if (has_token(base, "test")) return "test";
    if (has_token(base, "val")) return "val";
    if (has_token(base, "dev")) return "dev";
    if (has_token(base, "train")) return "train";
    return "unknown";
}

int vb_dataset_sample_repeats_option(const struct vb_sample * s) {
    for (int i = 0; i < s->n_options; i++)
        for (int j = i + 1; j < s->n_options; j++)
            if (strcmp(s->options[i], s->options[j]) == 0) return 1;
    return 0;
}

int vb_dataset_sample_answer_ambiguous(const struct vb_sample * s) {
    if (s->answer < 0 || s->answer >= s->n_options) return 0;
    for (int i = 0; i < s->n_options; i++)
        if (i != s->answer && strcmp(s->options[i], s->options[s->answer]) == 0) return 1;
    return 0;
}

/* ---- loader machinery ---- */

int vb_ld_bad(struct vb_ld * ld, int32_t line, const char * fmt, ...) {
    char    reason[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    if (!ld->skip_bad) return vb_fail(VB_ERR_FORMAT, "%s:%d: %s", ld->file, line, reason);
    struct vb_dataset * d = ld->d;
    d->bad = vb_realloc(d->bad, (size_t)(d->n_bad + 1) * sizeof(char *));
    d->bad[d->n_bad++] = vb_ld_fmt("%s:%d: %s", ld->file, line, reason);
    return VB_OK;
}

struct vb_sample * vb_ld_new(struct vb_ld * ld, const char * dataset, int32_t line) {
    struct vb_dataset * d = ld->d;
    if (d->n == ld->cap) {
        ld->cap = ld->cap ? 2 * ld->cap : 1024;
        d->s = vb_realloc(d->s, (size_t)ld->cap * sizeof *d->s);
    }
    struct vb_sample * s = &d->s[d->n++];
    memset(s, 0, sizeof *s);
    s->dataset = vb_strdup(dataset);
    s->split = vb_strdup(ld->split);
    s->start_s = -1;
    s->end_s = -1;
    s->answer = -1;
    s->line = line;
    return s;
}

static void sample_free(struct vb_sample * s) {
    free(s->dataset);
    free(s->split);
    free(s->key);
    free(s->video_id);
    free(s->video_path);
    free(s->question);
    for (int i = 0; i < VB_MAX_OPTIONS; i++)
        free(s->options[i]);
    free(s->category);
    free(s->group);
    memset(s, 0, sizeof *s);
}

void vb_ld_drop(struct vb_ld * ld) {
    VB_ASSERT(ld->d->n > 0);
    sample_free(&ld->d->s[--ld->d->n]);
}

int vb_ld_key_unique(struct vb_ld * ld, const char * key) {
    return vb_strmap_put(&ld->keys, key, ld->d->n - 1);
}

char * vb_ld_fmt(const char * fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char * s = vb_vstrfmt(fmt, ap);
    va_end(ap);
    return s;
}

char * vb_ld_video_path(const struct vb_ld * ld, const char * rel) {
    if (!ld->videos_root) return NULL;
    size_t       n = strlen(ld->videos_root);
    const char * sep = (n > 0 && ld->videos_root[n - 1] == '/') ? "" : "/";
    return vb_ld_fmt("%s%s%s.mp4", ld->videos_root, sep, rel);
}

int vb_ld_utf8_ok(const char * s) {
    const unsigned char * p = (const unsigned char *)s;
    while (*p) {
        int      n;
        uint32_t cp;
        if (*p < 0x80) {
            p++;
            continue;
        } else if ((*p & 0xE0) == 0xC0) {
            n = 1;
            cp = *p & 0x1F;
        } else if ((*p & 0xF0) == 0xE0) {
            n = 2;
            cp = *p & 0x0F;
        } else if ((*p & 0xF8) == 0xF0) {
            n = 3;
            cp = *p & 0x07;
        } else {
            return 0;
        }
        p++;
        for (int i = 0; i < n; i++, p++) {
            if ((*p & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (*p & 0x3F);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
    }
    return 1;
}

const char * vb_ld_jstr(const cJSON * o, const char * name) {
    const cJSON * it = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(it) ? it->valuestring : NULL;
}

int vb_ld_jnum(const cJSON * o, const char * name, double * out) {
    const cJSON * it = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!it) return 0;
    if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble)) return -1;
    *out = it->valuedouble;
    return 1;
}

int vb_ld_jint(const cJSON * o, const char * name, int64_t * out) {
    double v;
    int    r = vb_ld_jnum(o, name, &v);
    if (r <= 0) return r;
    if (v != floor(v) || fabs(v) > 9e15) return -1;
    *out = (int64_t)v;
    return 1;
}

int vb_ld_parse_double(const char * s, double * out) {
    if (!s || !*s) return 0;
    const char * p = s;
    if (*p == '-' || *p == '+') p++;
    int digits = 0, dot = 0;
    for (; *p; p++) {
        if (*p >= '0' && *p <= '9')
            digits++;
        else if (*p == '.' && !dot)
            dot = 1;
        else
            return 0;
    }
    if (!digits) return 0;
    errno = 0;
    double v = strtod(s, NULL);
    if (errno || !isfinite(v)) return 0;
    *out = v;
    return 1;
}

static int32_t count_lines(const char * b, size_t from, size_t to) {
    int32_t n = 0;
    for (size_t i = from; i < to; i++)
        n += b[i] == '\n';
    return n;
}

int vb_ld_json_walk(const char * file, const char * buf, size_t len, int * is_object,
                    int (*cb)(void * ud, const char * text, size_t n, int32_t line), void * ud) {
    size_t  p = 0;
    int32_t line = 1;
    size_t  line_pos = 0; /* lines counted up to here */
#define WS(c)  ((c) == ' ' || (c) == '\t' || (c) == '\n' || (c) == '\r')
#define SYNC() (p = p > len ? len : p, line += count_lines(buf, line_pos, p), line_pos = p)
    if (len >= 3 && (unsigned char)buf[0] == 0xEF && (unsigned char)buf[1] == 0xBB && (unsigned char)buf[2] == 0xBF)
        p = line_pos = 3;
    while (p < len && WS(buf[p]))
        p++;
    SYNC();
    if (p >= len || (buf[p] != '[' && buf[p] != '{'))
        return vb_fail(VB_ERR_FORMAT, "%s:%d: expected a JSON array or object", file, line);
    char close = buf[p] == '[' ? ']' : '}';
    *is_object = buf[p] == '{';
    p++;
    int first = 1;
    for (;;) {
        while (p < len && WS(buf[p]))
            p++;
        SYNC();
        if (p >= len)
            return vb_fail(VB_ERR_FORMAT, "%s:%d: unexpected end of file inside the top-level value", file, line);
        if (buf[p] == close && first) {
            p++;
            break;
        }
        if (*is_object) { /* skip "key" : */
            if (buf[p] != '"') return vb_fail(VB_ERR_FORMAT, "%s:%d: expected a string key", file, line);
            p++;
            while (p < len && buf[p] != '"')
                p += (buf[p] == '\\') ? 2 : 1;
            p++;
            while (p < len && WS(buf[p]))
                p++;
            if (p >= len || buf[p] != ':') {
                SYNC();
                return vb_fail(VB_ERR_FORMAT, "%s:%d: expected ':' after key", file, line);
            }
            p++;
            while (p < len && WS(buf[p]))
                p++;
            SYNC();
        }
        size_t  start = p;
        int32_t start_line = line;
        int     depth = 0;
        while (p < len) {
            char c = buf[p];
            if (c == '"') {
                p++;
                while (p < len && buf[p] != '"')
                    p += (buf[p] == '\\') ? 2 : 1;
                if (p >= len) break;
                p++;
                continue;
            }
            if (c == '[' || c == '{')
                depth++;
            else if (c == ']' || c == '}') {
                if (depth == 0) break;
                depth--;
            } else if (c == ',' && depth == 0)
                break;
            p++;
        }
        if (p >= len) {
            SYNC();
            return vb_fail(VB_ERR_FORMAT, "%s:%d: unexpected end of file in the element starting on line %d", file,
                           line, start_line);
        }
        size_t end = p;
        while (end > start && WS(buf[end - 1]))
            end--;
        if (end == start) {
            SYNC();
            return vb_fail(VB_ERR_FORMAT, "%s:%d: empty element", file, line);
        }
        int r = cb(ud, buf + start, end - start, start_line);
        if (r) return r;
        first = 0;
        SYNC();
        if (buf[p] == ',') {
            p++;
            continue;
        }
        if (buf[p] != close) return vb_fail(VB_ERR_FORMAT, "%s:%d: mismatched bracket", file, line);
        p++;
        break;
    }
    while (p < len && WS(buf[p]))
        p++;
    SYNC();
    if (p < len) return vb_fail(VB_ERR_FORMAT, "%s:%d: text after the top-level value", file, line);
#undef WS
#undef SYNC
    return VB_OK;
}

/* ---- whole-file text checks and per-sample checks shared by every format ---- */

int vb_ld_text_check(const char * path, const char * buf, size_t len, int json) {
    int32_t line = 1;
    size_t  p = 0;
    if (len >= 3 && (unsigned char)buf[0] == 0xEF && (unsigned char)buf[1] == 0xBB && (unsigned char)buf[2] == 0xBF)
        p = 3;
    while (p < len) {
        unsigned char ch = (unsigned char)buf[p];
        if (ch == 0) return vb_fail(VB_ERR_FORMAT, "%s:%d: NUL byte (offset %zu)", path, line, p);
        if (ch == '\n') {
            line++;
            p++;
            continue;
        }
        if (ch < 0x80) {
            if (json && ch == '\\' && p + 1 < len) {
                /* an escape: \u0000 would end the decoded C string early */
                if (buf[p + 1] == 'u' && p + 5 < len && memcmp(buf + p + 2, "0000", 4) == 0)
                    return vb_fail(VB_ERR_FORMAT, "%s:%d: \\u0000 (NUL) escape in a string", path, line);
                p += (buf[p + 1] == '\n' || (unsigned char)buf[p + 1] >= 0x80) ? 1 : 2; /* those are checked next */
                continue;
            }
            p++;
            continue;
        }
        utf8proc_int32_t cp;
        utf8proc_ssize_t n =
            utf8proc_iterate((const utf8proc_uint8_t *)buf + p, (utf8proc_ssize_t)(len - p < 4 ? len - p : 4), &cp);
        if (n <= 0 || cp < 0 || (n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000))
            return vb_fail(VB_ERR_FORMAT, "%s:%d: invalid UTF-8 (byte 0x%02x at offset %zu)", path, line, ch, p);
        p += (size_t)n;
    }
    return VB_OK;
}

int vb_ld_read(const char * path, int json, char ** buf, size_t * len) {
    int st = vb_read_file(path, buf, len);
    if (st) return st;
    st = vb_ld_text_check(path, *buf, *len, json);
    if (st) {
        free(*buf);
        *buf = NULL;
    }
    return st;
}

int vb_ld_video_id_ok(const char * id) {
    if (!id || !*id || id[0] == '/') return 0;
    for (const char * c = id; *c;) { /* each '/'-separated component */
        const char * e = strchr(c, '/');
        size_t       n = e ? (size_t)(e - c) : strlen(c);
        if (n == 2 && c[0] == '.' && c[1] == '.') return 0;
        if (strchr(c, '\\') && (size_t)(strchr(c, '\\') - c) < n) return 0;
        c += n;
        if (*c == '/') c++;
    }
    return 1;
}

/* The part of s->video_path below the videos root (the id as resolved, map applied), or NULL. */
static const char * rel_of(const struct vb_ld * ld, const struct vb_sample * s) {
    if (!s->video_path || !ld->videos_root) return NULL;
    size_t n = strlen(ld->videos_root);
    if (strncmp(s->video_path, ld->videos_root, n) != 0) return NULL;
    const char * r = s->video_path + n;
    while (*r == '/')
        r++;
    return r;
}

/* Checks every format shares, after the format's own: the video id (and the path it resolves to) stays inside the
** videos directory; a split with answers has one for every record.  A failing sample is dropped (skip_bad: listed
** in d->bad) or fails the load with "file:line: reason". */
static int post_checks(struct vb_ld * ld) {
    struct vb_dataset * d = ld->d;
    const char *        sp = ld->split;
    int                 split_has = !strcmp(sp, "val") || !strcmp(sp, "dev") || !strcmp(sp, "train"), any_answer = 0;
    for (int32_t i = 0; i < d->n; i++)
        any_answer |= d->s[i].answer >= 0;
    int32_t o = 0;
    for (int32_t i = 0; i < d->n; i++) {
        struct vb_sample * s = &d->s[i];
        const char *       rel = rel_of(ld, s);
        int                st = VB_OK, bad = 1;
        if (!vb_ld_video_id_ok(s->video_id) || (rel && !vb_ld_video_id_ok(rel)))
            st = vb_ld_bad(ld, s->line,
                           "%s: video '%s' is not confined to the videos directory (absolute, or a '..' component)",
                           s->key, vb_ld_video_id_ok(s->video_id) ? rel : s->video_id);
        else if (s->answer < 0 && (split_has || any_answer))
            st = vb_ld_bad(ld, s->line, "%s: no answer, but %s has answers", s->key,
                           split_has ? (strcmp(sp, "val") == 0   ? "a val split"
                                        : strcmp(sp, "dev") == 0 ? "a dev split"
                                                                 : "a train split")
                                     : "the rest of this file");
        else
            bad = 0;
        if (st) return st;
        if (bad) {
            sample_free(s);
            continue;
        }
        if (o != i) d->s[o] = *s;
        o++;
    }
    d->n = o;
    return VB_OK;
}

/* ---- dispatcher ---- */

void vb_dataset_free(struct vb_dataset * d) {
    if (!d) return;
    for (int32_t i = 0; i < d->n; i++)
        sample_free(&d->s[i]);
    free(d->s);
    for (int32_t i = 0; i < d->n_bad; i++)
        free(d->bad[i]);
    free(d->bad);
    free(d->path);
    memset(d, 0, sizeof *d);
}

int vb_dataset_load(struct vb_dataset * out, enum vb_dataset_kind kind, const char * annotations, const char * map_path,
                    const char * videos_root, int skip_bad) {
    memset(out, 0, sizeof *out);
    if (!annotations) return vb_fail(VB_ERR_ARG, "no annotation file given");
    out->kind = kind;
    out->path = vb_strdup(annotations);
    struct vb_ld ld = {.d = out,
                       .file = annotations,
                       .map_path = map_path,
                       .videos_root = videos_root,
                       .skip_bad = skip_bad,
                       .split = vb_dataset_split_from_path(annotations)};
    vb_strmap_init(&ld.keys, 1024);
    vb_strmap_init(&ld.rows, 16);
    int st;
    switch (kind) {
    case VB_DS_NEXTQA:
        st = vb_ld_nextqa(&ld);
        break;
    case VB_DS_STAR:
        st = vb_ld_star(&ld);
        break;
    case VB_DS_VLEP:
        st = vb_ld_vlep(&ld);
        break;
    case VB_DS_HOW2QA:
        st = vb_ld_how2qa_raw(&ld);
        break;
    case VB_DS_HOW2QA_VALUE:
        st = vb_ld_how2qa_value(&ld);
        break;
    case VB_DS_SEVILA:
        st = vb_ld_sevila(&ld);
        break;
    default:
        st = vb_fail(VB_ERR_ARG, "bad dataset kind %d", (int)kind);
    }
    if (st == VB_OK) st = post_checks(&ld);
    vb_strmap_free(&ld.keys);
    vb_strmap_free(&ld.rows);
    if (st == VB_OK && out->n == 0 && out->n_bad == 0) st = vb_fail(VB_ERR_FORMAT, "%s: no records", annotations);
    if (st != VB_OK) {
        /* keep the message: vb_dataset_free does not touch it */
        vb_dataset_free(out);
        out->kind = kind;
    }
    return st;
}

cJSON * vb_ld_json_parse(const char * text, size_t n) {
    const char * end = NULL;
    cJSON *      o = cJSON_ParseWithLengthOpts(text, n, &end, 0);
    if (!o) return NULL;
    while (end && end < text + n && (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
        end++;
    if (!end || end != text + n) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}
