/* tokenizer_t5.c — Hugging Face fast T5 tokenizer from tokenizer.json (see tokenizer_t5.h for the pipeline). */
#include "engine/tokenizer_t5.h"

#include "base/base64.h"
#include "base/common.h"
#include "engine/unicode_text.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>
#include <utf8proc.h>

enum { NK_PRECOMPILED = 1, NK_REPLACE_STR = 2, NK_COLLAPSE = 3 };
enum { PREPEND_NEVER = 0, PREPEND_ALWAYS = 1, PREPEND_FIRST = 2 };

struct t5_added {
    char *  s;   /* content, NUL-terminated */
    size_t  len; /* bytes */
    int32_t id;
    int     special, normalized, lstrip, rstrip;
};

struct t5_norm {
    int    kind;
    char * pat; /* NK_REPLACE_STR: literal pattern; NK_COLLAPSE: the repeated unit (e.g. " ") */
    size_t pat_len;
    size_t min_rep; /* NK_COLLAPSE: runs of at least min_rep units are replaced */
    char * rep;
    size_t rep_len;
};

struct vb_t5tok {
    int32_t               n_ids;   /* ids 0..n_ids-1 have a string (model vocabulary + added tokens beyond it) */
    int32_t               n_model; /* model vocabulary size */
    char **               id_str;  /* (n_ids) strings: model pieces point into `arena`, others are owned */
    char *                arena;   /* the model pieces, NUL-separated */
    size_t                arena_len;
    uint32_t *            id_len;        /* (n_ids) */
    double *              scores;        /* (n_model) unigram log-probabilities */
    uint8_t *             is_special;    /* (n_ids) 1 for added tokens marked special */
    struct vb_unicode_map model_map;     /* piece -> id over the model vocabulary */
    size_t                max_piece_len; /* bytes */
    int32_t               unk_id;        /* -1 if the model has none */
    int                   byte_fallback;
    double                min_score;
    int32_t               base_vocab; /* first id of the trailing run of special added tokens (32000 for Flan-T5) */

    struct t5_added * added;
    int               n_added;
    uint8_t           added_first[2][256]; /* [normalized][byte]: 1 if some added token of that kind starts with byte */
    struct t5_norm *  norms;
    int               n_norms;
    uint32_t *        trie; /* (n_trie) darts-clone units of the precompiled charsmap */
    size_t            n_trie;
    char *            cm_norm; /* replacement strings, NUL-separated */
    size_t            cm_norm_len;

    char   repl[8]; /* metaspace replacement, UTF-8 */
    size_t repl_len;
    int    prepend; /* PREPEND_* */
    int    split;

    int32_t tmpl_pre[8], n_pre;   /* template ids before $A */
    int32_t tmpl_post[8], n_post; /* template ids after $A */
};

/* ---------------------------------------------------------------- precompiled charsmap */

/* spm_precompiled's first_prefix_value: the value of the SHORTEST trie key that is a prefix of key[0..len)
** (stops at a NUL byte), -1 if none. Bounds-checked: a corrupt trie yields -1, never a crash. */
static int64_t cm_first_prefix(const struct vb_t5tok * t, const char * key, size_t len) {
    if (!t->n_trie) return -1;
    size_t   pos = 0;
    uint32_t unit = t->trie[0];
#define UNIT_OFFSET(u) (((size_t)(u) >> 10) << (((u) & (1u << 9)) >> 6))
    pos ^= UNIT_OFFSET(unit);
    for (size_t i = 0; i < len; i++) {
        unsigned c = (unsigned char)key[i];
        if (c == 0) break;
        pos ^= c;
        if (pos >= t->n_trie) return -1;
        unit = t->trie[pos];
        if ((unit & ((1u << 31) | 0xFFu)) != c) return -1;
        pos ^= UNIT_OFFSET(unit);
        if (pos >= t->n_trie) return -1;
        if ((unit >> 8) & 1) {
            int64_t v = (int64_t)(t->trie[pos] & ((1u << 31) - 1));
            return v < (int64_t)t->cm_norm_len ? v : -1;
        }
    }
#undef UNIT_OFFSET
    return -1;
}

static void cm_append(const struct vb_t5tok * t, int64_t v, struct vb_unicode_buf * out) {
    const char * s = t->cm_norm + v;
    size_t       n = strnlen(s, t->cm_norm_len - (size_t)v);
    vb_unicode_buf_add(out, s, n);
}

/* The Precompiled normalizer of tokenizers: per extended grapheme cluster, if it is shorter than 6 bytes and some
** trie key is a prefix of it, the whole cluster becomes that key's replacement; otherwise each char is looked up
** alone and replaced or copied. Input is valid UTF-8. */
static void norm_precompiled(const struct vb_t5tok * t, const char * s, size_t len, struct vb_unicode_buf * out) {
    size_t i = 0;
    while (i < len) {
        /* find the end of the grapheme starting at i */
        int32_t prev, cp;
        int     k = vb_unicode_utf8_decode(s + i, len - i, &prev);
        VB_ASSERT(k > 0);
        size_t           j = i + (size_t)k;
        utf8proc_int32_t state = 0;
        while (j < len) {
            int k2 = vb_unicode_utf8_decode(s + j, len - j, &cp);
            VB_ASSERT(k2 > 0);
            if (utf8proc_grapheme_break_stateful(prev, cp, &state)) break;
            prev = cp;
            j += (size_t)k2;
        }
        if (j - i < 6) {
            int64_t v = cm_first_prefix(t, s + i, j - i);
            if (v >= 0) {
                cm_append(t, v, out);
                i = j;
                continue;
            }
        }
        while (i < j) {
            int     k3 = vb_unicode_utf8_decode(s + i, j - i, &cp);
            int64_t v = cm_first_prefix(t, s + i, (size_t)k3);
            if (v >= 0)
                cm_append(t, v, out);
            else
                vb_unicode_buf_add(out, s + i, (size_t)k3);
            i += (size_t)k3;
        }
    }
}

static void norm_replace(const struct t5_norm * nm, const char * s, size_t len, struct vb_unicode_buf * out) {
    size_t i = 0;
    if (nm->kind == NK_REPLACE_STR) {
        while (i < len) {
            if (nm->pat_len && i + nm->pat_len <= len && !memcmp(s + i, nm->pat, nm->pat_len)) {
                vb_unicode_buf_add(out, nm->rep, nm->rep_len);
                i += nm->pat_len;
            } else {
                vb_unicode_buf_add(out, s + i, 1);
                i++;
            }
        }
        return;
    }
    /* NK_COLLAPSE: runs of >= min_rep copies of pat become rep */
    while (i < len) {
        size_t j = i, reps = 0;
        while (j + nm->pat_len <= len && !memcmp(s + j, nm->pat, nm->pat_len)) {
            j += nm->pat_len;
            reps++;
        }
        if (reps >= nm->min_rep) {
            vb_unicode_buf_add(out, nm->rep, nm->rep_len);
            i = j;
        } else if (reps > 0) {
            vb_unicode_buf_add(out, s + i, j - i);
            i = j;
        } else {
            vb_unicode_buf_add(out, s + i, 1);
            i++;
        }
    }
}

/* Run the normalizer sequence; result in *out (reset first). */
static void normalize(const struct vb_t5tok * t, const char * s, size_t len, struct vb_unicode_buf * out) {
    struct vb_unicode_buf a = {0}, b = {0};
    vb_unicode_buf_add(&a, s, len);
    for (int k = 0; k < t->n_norms; k++) {
        b.n = 0;
        vb_unicode_buf_add(&b, "", 0);
        if (t->norms[k].kind == NK_PRECOMPILED)
            norm_precompiled(t, a.p, a.n, &b);
        else
            norm_replace(&t->norms[k], a.p, a.n, &b);
        struct vb_unicode_buf tmp = a;
        a = b;
        b = tmp;
    }
    vb_unicode_buf_free(&b);
    out->n = 0;
    vb_unicode_buf_add(out, a.p, a.n);
    vb_unicode_buf_free(&a);
}

/* ---------------------------------------------------------------- unigram */

/* tokenizers' Unigram::encode_optimized on one pre-tokenized word, then token -> id (fused unknowns). */
static int unigram_encode(const struct vb_t5tok * t, const char * s, size_t size, struct vb_unicode_ids * out) {
    if (size == 0) return VB_OK;
    struct node {
        int32_t id;
        int32_t starts_at; /* -1 = none */
        double  score;
    };
    struct node * best = vb_malloc((size + 1) * sizeof *best);
    for (size_t i = 0; i <= size; i++) {
        best[i].id = -1;
        best[i].starts_at = -1;
        best[i].score = 0.0;
    }
    double unk_score = t->min_score - 10.0;
    size_t st = 0;
    while (st < size) {
        double  till_here = best[st].score;
        int     has_single = 0;
        int32_t cp;
        size_t  mblen = (size_t)vb_unicode_utf8_decode(s + st, size - st, &cp);
        VB_ASSERT(mblen > 0);
        size_t maxl = VB_MIN(t->max_piece_len, size - st);
        for (size_t l = 1; l <= maxl; l++) {
            size_t e = st + l;
            if (e < size && ((unsigned char)s[e] & 0xC0) == 0x80) continue; /* not a char boundary */
            int32_t id = vb_unicode_map_get(&t->model_map, s + st, l);
            if (id < 0) continue;
            double cand = t->scores[id] + till_here;
            if (best[e].starts_at < 0 || cand > best[e].score) {
                best[e].score = cand;
                best[e].starts_at = (int32_t)st;
                best[e].id = id;
            }
            if (l == mblen) has_single = 1;
        }
        if (!has_single) {
            size_t e = st + mblen;
            double cand = unk_score + till_here;
            if (best[e].starts_at < 0 || cand > best[e].score) {
                best[e].score = cand;
                best[e].starts_at = (int32_t)st;
                best[e].id = t->unk_id >= 0 ? t->unk_id : -2;
            }
        }
        st += mblen;
    }
    /* backtrack into (start, end, is_unk) spans, fusing consecutive unknowns */
    struct span {
        size_t a, b;
        int    unk;
    };
    struct span * sp = vb_malloc((size + 1) * sizeof *sp);
    int           nsp = 0;
    size_t        ends = size;
    while (ends > 0) {
        struct node * nd = &best[ends];
        VB_ASSERT(nd->starts_at >= 0);
        size_t a = (size_t)nd->starts_at;
        int    unk = nd->id == -2 || (t->unk_id >= 0 && nd->id == t->unk_id);
        if (unk && nsp > 0 && sp[nsp - 1].unk)
            sp[nsp - 1].a = a; /* fuse */
        else
            sp[nsp++] = (struct span){a, ends, unk};
        ends = a;
    }
    int st_ret = VB_OK;
    for (int k = nsp - 1; k >= 0; k--) {
        const char * p = s + sp[k].a;
        size_t       l = sp[k].b - sp[k].a;
        int32_t      id = vb_unicode_map_get(&t->model_map, p, l);
        if (id >= 0) {
            vb_unicode_ids_push(out, id);
            continue;
        }
        if (t->byte_fallback) {
            int       ok = 1;
            int32_t * tmp = vb_malloc(l * sizeof *tmp);
            for (size_t q = 0; q < l && ok; q++) {
                char nm[8];
                snprintf(nm, sizeof nm, "<0x%02X>", (unsigned char)p[q]);
                tmp[q] = vb_unicode_map_get(&t->model_map, nm, strlen(nm));
                if (tmp[q] < 0) ok = 0;
            }
            if (ok)
                for (size_t q = 0; q < l; q++)
                    vb_unicode_ids_push(out, tmp[q]);
            free(tmp);
            if (ok) continue;
        }
        if (t->unk_id < 0) {
            st_ret = vb_fail(VB_ERR_UNSUPPORTED, "t5 tokenizer: text has a character outside the vocabulary and the "
                                                 "model has no unk_id");
            break;
        }
        vb_unicode_ids_push(out, t->unk_id);
    }
    free(sp);
    free(best);
    return st_ret;
}

/* ---------------------------------------------------------------- pre-tokenizer + model on one segment */

static int encode_normalized_part(const struct vb_t5tok * t, const char * s, size_t len, int at_origin,
                                  struct vb_unicode_ids * out) {
    struct vb_unicode_buf m = {0};
    for (size_t i = 0; i < len; i++) {
        if (s[i] == ' ')
            vb_unicode_buf_add(&m, t->repl, t->repl_len);
        else
            vb_unicode_buf_add(&m, s + i, 1);
    }
    int want = t->prepend == PREPEND_ALWAYS || (t->prepend == PREPEND_FIRST && at_origin);
    if (want && m.n > 0 && !(m.n >= t->repl_len && !memcmp(m.p, t->repl, t->repl_len))) {
        struct vb_unicode_buf m2 = {0};
        vb_unicode_buf_add(&m2, t->repl, t->repl_len);
        vb_unicode_buf_add(&m2, m.p, m.n);
        vb_unicode_buf_free(&m);
        m = m2;
    }
    int st = VB_OK;
    if (!t->split) {
        st = unigram_encode(t, m.p, m.n, out);
    } else {
        size_t w0 = 0;
        for (size_t i = 1; i <= m.n && st == VB_OK; i++) {
            int at_rep = i < m.n && i + t->repl_len <= m.n && !memcmp(m.p + i, t->repl, t->repl_len);
            if (i == m.n || at_rep) {
                st = unigram_encode(t, m.p + w0, i - w0, out);
                w0 = i;
            }
        }
    }
    vb_unicode_buf_free(&m);
    return st;
}

/* Leftmost-longest search for added tokens (only those with normalized == want_normalized) in s[from..len).
** Returns the index of the token and sets *at, or -1. */
static int find_added(const struct vb_t5tok * t, const char * s, size_t len, size_t from, int want_normalized,
                      size_t * at) {
    const uint8_t * first = t->added_first[want_normalized ? 1 : 0];
    for (size_t i = from; i < len; i++) {
        if (!first[(unsigned char)s[i]]) continue;
        int    best = -1;
        size_t bl = 0;
        for (int k = 0; k < t->n_added; k++) {
            const struct t5_added * a = &t->added[k];
            if (a->normalized != want_normalized || a->len == 0 || a->len <= bl) continue;
            if (a->s[0] != s[i] || i + a->len > len || memcmp(s + i, a->s, a->len)) continue;
            best = k;
            bl = a->len;
        }
        if (best >= 0) {
            *at = i;
            return best;
        }
    }
    return -1;
}

static int is_ws_byte(unsigned char c) {
    return c == ' ' || (c >= 9 && c <= 13);
}

/* Split s by added tokens of one kind; calls back for text parts. lstrip/rstrip swallow neighbouring ASCII
** whitespace into the token as tokenizers does. */
typedef int (*part_fn)(const struct vb_t5tok * t, const char * s, size_t len, int at_origin,
                       struct vb_unicode_ids * out);

static int split_added(const struct vb_t5tok * t, const char * s, size_t len, int at_origin, int want_normalized,
                       part_fn fn, struct vb_unicode_ids * out) {
    size_t start_off = 0, from = 0, at;
    int    k;
    while ((k = find_added(t, s, len, from, want_normalized, &at)) >= 0) {
        const struct t5_added * a = &t->added[k];
        size_t                  a0 = at, a1 = at + a->len;
        if (a->lstrip)
            while (a0 > start_off && is_ws_byte((unsigned char)s[a0 - 1]))
                a0--;
        if (a->rstrip)
            while (a1 < len && is_ws_byte((unsigned char)s[a1]))
                a1++;
        if (start_off < a0) {
            int st = fn(t, s + start_off, a0 - start_off, at_origin && start_off == 0, out);
            if (st) return st;
        }
        vb_unicode_ids_push(out, a->id);
        start_off = from = a1;
    }
    if (start_off < len) return fn(t, s + start_off, len - start_off, at_origin && start_off == 0, out);
    return VB_OK;
}

static int encode_raw_part(const struct vb_t5tok * t, const char * s, size_t len, int at_origin,
                           struct vb_unicode_ids * out) {
    struct vb_unicode_buf nb = {0};
    normalize(t, s, len, &nb);
    int st = split_added(t, nb.p ? nb.p : "", nb.n, at_origin, 1, encode_normalized_part, out);
    vb_unicode_buf_free(&nb);
    return st;
}

int vb_t5tok_encode_ex(const struct vb_t5tok * t, const char * text, size_t len, int add_eos, int max_length,
                       int truncate_left, int32_t ** ids, int32_t * n) {
    *ids = NULL;
    *n = 0;
    if (!text && len) return vb_fail(VB_ERR_ARG, "t5 tokenizer: NULL text");
    if (!vb_unicode_utf8_valid(text, len)) return vb_fail(VB_ERR_ARG, "t5 tokenizer: text is not valid UTF-8");
    int n_spec = add_eos ? t->n_pre + t->n_post : 0;
    if (max_length < 0 || (max_length > 0 && max_length < n_spec))
        return vb_fail(VB_ERR_ARG, "t5 tokenizer: max_length %d is smaller than the %d special tokens", max_length,
                       n_spec);
    struct vb_unicode_ids body = {0};
    int                   st = split_added(t, text ? text : "", len, 1, 0, encode_raw_part, &body);
    if (st) {
        free(body.v);
        return st;
    }
    vb_unicode_ids_wrap(&body, t->tmpl_pre, add_eos ? t->n_pre : 0, t->tmpl_post, add_eos ? t->n_post : 0, max_length,
                        truncate_left, ids, n);
    return VB_OK;
}

int vb_t5tok_encode(const struct vb_t5tok * t, const char * utf8, int add_eos, int max_length, int32_t ** ids,
                    int32_t * n) {
    return vb_t5tok_encode_ex(t, utf8, utf8 ? strlen(utf8) : 0, add_eos, max_length, 0, ids, n);
}

/* ---------------------------------------------------------------- decode (transformers 4.35.2 T5Tokenizer) */

static const char * SPACE_SYM = "\xe2\x96\x81"; /* U+2581 */

/* sentencepiece DecodePieces of a run of ordinary pieces: '▁' -> ' ', the first '▁' of the text dropped. */
static void sp_decode_run(const struct vb_t5tok * t, const int32_t * ids, int n, struct vb_unicode_buf * out) {
    int bos_ws = 1;
    for (int i = 0; i < n; i++) {
        const char * p = t->id_str[ids[i]];
        size_t       l = t->id_len[ids[i]];
        int          consumed = 0;
        if (bos_ws && l >= 3 && !memcmp(p, SPACE_SYM, 3)) {
            p += 3;
            l -= 3;
            consumed = 1;
        }
        size_t before = out->n;
        for (size_t q = 0; q < l;) {
            if (q + 3 <= l && !memcmp(p + q, SPACE_SYM, 3)) {
                vb_unicode_buf_add(out, " ", 1);
                q += 3;
            } else {
                vb_unicode_buf_add(out, p + q, 1);
                q++;
            }
        }
        if (bos_ws && (consumed || out->n > before)) bos_ws = 0;
    }
}

/* Python str.isspace() for the code points that can occur at the ends. */
static int py_isspace(int32_t c) {
    return c == ' ' || (c >= 9 && c <= 13) || (c >= 0x1c && c <= 0x1f) || c == 0x85 || c == 0xa0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000;
}

static void py_strip(const char * s, size_t n, size_t * a_out, size_t * b_out) {
    size_t a = 0, b = n;
    while (a < b) {
        int32_t cp;
        int     k = vb_unicode_utf8_decode(s + a, b - a, &cp);
        if (!k || !py_isspace(cp)) break;
        a += (size_t)k;
    }
    while (b > a) {
        size_t q = b - 1;
        while (q > a && ((unsigned char)s[q] & 0xC0) == 0x80)
            q--;
        int32_t cp;
        int     k = vb_unicode_utf8_decode(s + q, b - q, &cp);
        if (!k || !py_isspace(cp)) break;
        b = q;
    }
    *a_out = a;
    *b_out = b;
}

/* T5Tokenizer.convert_tokens_to_string on ids[0..n), appended to out. */
static void tokens_to_string(const struct vb_t5tok * t, const int32_t * ids, int n, struct vb_unicode_buf * out) {
    struct vb_unicode_buf s = {0};
    vb_unicode_buf_add(&s, "", 0);
    int run0 = 0, prev_special = 0;
    for (int i = 0; i < n; i++) {
        if (!t->is_special[ids[i]]) {
            prev_special = 0;
            continue;
        }
        if (!prev_special) vb_unicode_buf_add(&s, " ", 1);
        sp_decode_run(t, ids + run0, i - run0, &s);
        vb_unicode_buf_add(&s, t->id_str[ids[i]], t->id_len[ids[i]]);
        prev_special = 1;
        run0 = i + 1;
    }
    sp_decode_run(t, ids + run0, n - run0, &s);
    size_t a, b;
    py_strip(s.p, s.n, &a, &b);
    vb_unicode_buf_add(out, s.p + a, b - a);
    vb_unicode_buf_free(&s);
}

static void replace_all(struct vb_unicode_buf * s, const char * from, const char * to) {
    size_t                fl = strlen(from), tl = strlen(to);
    struct vb_unicode_buf o = {0};
    vb_unicode_buf_add(&o, "", 0);
    for (size_t i = 0; i < s->n;) {
        if (i + fl <= s->n && !memcmp(s->p + i, from, fl)) {
            vb_unicode_buf_add(&o, to, tl);
            i += fl;
        } else {
            vb_unicode_buf_add(&o, s->p + i, 1);
            i++;
        }
    }
    vb_unicode_buf_free(s);
    *s = o;
}

int vb_t5tok_decode(const struct vb_t5tok * t, const int32_t * ids, int32_t n, unsigned flags, char ** out) {
    *out = NULL;
    for (int32_t i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= t->n_ids || !t->id_str[ids[i]])
            return vb_fail(VB_ERR_ARG, "t5 tokenizer: decode: id %d at position %d is outside 0..%d", ids[i], i,
                           t->n_ids - 1);
    int       keep = (flags & VB_T5TOK_DECODE_KEEP_SPECIAL) != 0;
    int32_t * tok = vb_malloc((size_t)(n > 0 ? n : 1) * sizeof *tok);
    int       m = 0;
    for (int32_t i = 0; i < n; i++)
        if (keep || !t->is_special[ids[i]]) tok[m++] = ids[i];
    /* PreTrainedTokenizer._decode: special added tokens with id >= the sentencepiece size are separate sub-texts
    ** joined by single spaces */
    struct vb_unicode_buf text = {0};
    vb_unicode_buf_add(&text, "", 0);
    int nsub = 0, run0 = 0;
    for (int i = 0; i < m; i++) {
        if (!(t->is_special[tok[i]] && tok[i] >= t->base_vocab)) continue;
        if (i > run0) {
            struct vb_unicode_buf s = {0};
            tokens_to_string(t, tok + run0, i - run0, &s);
            if (s.n > 0) {
                if (nsub++) vb_unicode_buf_add(&text, " ", 1);
                vb_unicode_buf_add(&text, s.p, s.n);
            }
            vb_unicode_buf_free(&s);
        }
        if (nsub++) vb_unicode_buf_add(&text, " ", 1);
        vb_unicode_buf_add(&text, t->id_str[tok[i]], t->id_len[tok[i]]);
        run0 = i + 1;
    }
    if (m > run0) {
        if (nsub++) vb_unicode_buf_add(&text, " ", 1);
        tokens_to_string(t, tok + run0, m - run0, &text);
    }
    free(tok);
    if (!(flags & VB_T5TOK_DECODE_NO_CLEANUP)) {
        static const char * const cl[][2] = {{" .", "."},     {" ?", "?"},     {" !", "!"},   {" ,", ","},
                                             {" ' ", "'"},    {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"},
                                             {" 've", "'ve"}, {" 're", "'re"}};
        for (size_t k = 0; k < sizeof cl / sizeof cl[0]; k++)
            replace_all(&text, cl[k][0], cl[k][1]);
    }
    *out = text.p;
    return VB_OK;
}

/* ---------------------------------------------------------------- lookups */

int32_t vb_t5tok_piece_id(const struct vb_t5tok * t, const char * piece) {
    if (!t || !piece) return -1;
    size_t l = strlen(piece);
    for (int k = 0; k < t->n_added; k++)
        if (t->added[k].len == l && !memcmp(t->added[k].s, piece, l)) return t->added[k].id;
    return vb_unicode_map_get(&t->model_map, piece, l);
}

int vb_t5tok_has_piece(const struct vb_t5tok * t, const char * piece) {
    return vb_t5tok_piece_id(t, piece) >= 0;
}

const char * vb_t5tok_id_to_piece(const struct vb_t5tok * t, int32_t id) {
    if (!t || id < 0 || id >= t->n_ids) return NULL;
    return t->id_str[id];
}

int32_t vb_t5tok_vocab_size(const struct vb_t5tok * t) {
    return t ? t->n_ids : 0;
}

int32_t vb_t5tok_eos_id(const struct vb_t5tok * t) {
    return t && t->n_post > 0 ? t->tmpl_post[t->n_post - 1] : -1;
}

/* ---------------------------------------------------------------- loading */

void vb_t5tok_free(struct vb_t5tok * t) {
    if (!t) return;
    if (t->id_str)
        for (int32_t i = 0; i < t->n_ids; i++)
            if (!t->arena || t->id_str[i] < t->arena || t->id_str[i] >= t->arena + t->arena_len) free(t->id_str[i]);
    free(t->arena);
    free(t->id_str);
    free(t->id_len);
    free(t->scores);
    free(t->is_special);
    vb_unicode_map_free(&t->model_map);
    for (int k = 0; k < t->n_added; k++)
        free(t->added[k].s);
    free(t->added);
    for (int k = 0; k < t->n_norms; k++) {
        free(t->norms[k].pat);
        free(t->norms[k].rep);
    }
    free(t->norms);
    free(t->trie);
    free(t->cm_norm);
    free(t);
}

static int jbool(const cJSON * o, const char * key, int def) {
    const cJSON * v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (cJSON_IsBool(v)) return cJSON_IsTrue(v);
    return def;
}

static int add_norm(struct vb_t5tok * t, const cJSON * nj, const char * name);

static int load_precompiled(struct vb_t5tok * t, const cJSON * nj, const char * name) {
    const cJSON * cm = cJSON_GetObjectItemCaseSensitive(nj, "precompiled_charsmap");
    if (cJSON_IsNull(cm) || (cJSON_IsString(cm) && cm->valuestring[0] == 0)) return VB_OK; /* identity */
    if (!cJSON_IsString(cm))
        return vb_fail(VB_ERR_FORMAT, "%s: normalizer.precompiled_charsmap: expected a base64 string", name);
    if (t->trie) return vb_fail(VB_ERR_UNSUPPORTED, "%s: more than one Precompiled normalizer", name);
    unsigned char * blob;
    size_t          bl;
    if (vb_base64_decode(cm->valuestring, &blob, &bl))
        return vb_fail(VB_ERR_FORMAT, "%s: normalizer.precompiled_charsmap: invalid base64", name);
    if (bl < 4) {
        free(blob);
        return vb_fail(VB_ERR_FORMAT, "%s: normalizer.precompiled_charsmap: %zu bytes, too short", name, bl);
    }
    uint32_t trie_bytes =
        (uint32_t)blob[0] | (uint32_t)blob[1] << 8 | (uint32_t)blob[2] << 16 | (uint32_t)blob[3] << 24;
    if (trie_bytes % 4 || (size_t)trie_bytes > bl - 4 || trie_bytes == 0) {
        free(blob);
        return vb_fail(VB_ERR_FORMAT,
                       "%s: normalizer.precompiled_charsmap: trie size %u does not fit the %zu-byte "
                       "blob",
                       name, trie_bytes, bl);
    }
    t->n_trie = trie_bytes / 4;
    t->trie = vb_malloc(t->n_trie * sizeof *t->trie);
    for (size_t i = 0; i < t->n_trie; i++) {
        const unsigned char * p = blob + 4 + 4 * i;
        t->trie[i] = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    }
    t->cm_norm_len = bl - 4 - trie_bytes;
    t->cm_norm = vb_malloc(t->cm_norm_len + 1);
    memcpy(t->cm_norm, blob + 4 + trie_bytes, t->cm_norm_len);
    t->cm_norm[t->cm_norm_len] = 0;
    free(blob);
    if (!vb_unicode_utf8_valid(t->cm_norm, t->cm_norm_len)) {
        /* NUL separators are valid UTF-8; anything else invalid is a corrupt blob */
        return vb_fail(VB_ERR_FORMAT, "%s: normalizer.precompiled_charsmap: replacement strings are not UTF-8", name);
    }
    struct t5_norm nm = {.kind = NK_PRECOMPILED};
    t->norms = vb_realloc(t->norms, (size_t)(t->n_norms + 1) * sizeof *t->norms);
    t->norms[t->n_norms++] = nm;
    return VB_OK;
}

static int add_norm(struct vb_t5tok * t, const cJSON * nj, const char * name) {
    if (cJSON_IsNull(nj) || !nj) return VB_OK;
    const cJSON * ty = cJSON_GetObjectItemCaseSensitive(nj, "type");
    if (!cJSON_IsString(ty)) return vb_fail(VB_ERR_FORMAT, "%s: normalizer: missing \"type\"", name);
    const char * type = ty->valuestring;
    if (!strcmp(type, "Sequence")) {
        const cJSON * arr = cJSON_GetObjectItemCaseSensitive(nj, "normalizers");
        if (!cJSON_IsArray(arr)) return vb_fail(VB_ERR_FORMAT, "%s: normalizer Sequence without \"normalizers\"", name);
        const cJSON * e;
        cJSON_ArrayForEach(e, arr) {
            int st = add_norm(t, e, name);
            if (st) return st;
        }
        return VB_OK;
    }
    if (!strcmp(type, "Precompiled")) return load_precompiled(t, nj, name);
    if (!strcmp(type, "Replace")) {
        const cJSON * pat = cJSON_GetObjectItemCaseSensitive(nj, "pattern");
        const cJSON * content = cJSON_GetObjectItemCaseSensitive(nj, "content");
        if (!cJSON_IsObject(pat) || !cJSON_IsString(content))
            return vb_fail(VB_ERR_FORMAT, "%s: Replace normalizer: needs \"pattern\" object and \"content\"", name);
        struct t5_norm nm = {0};
        const cJSON *  ps = cJSON_GetObjectItemCaseSensitive(pat, "String");
        const cJSON *  pr = cJSON_GetObjectItemCaseSensitive(pat, "Regex");
        if (cJSON_IsString(ps)) {
            nm.kind = NK_REPLACE_STR;
            nm.pat = vb_strdup(ps->valuestring);
        } else if (cJSON_IsString(pr) && (!strcmp(pr->valuestring, " {2,}") || !strcmp(pr->valuestring, " +"))) {
            nm.kind = NK_COLLAPSE;
            nm.pat = vb_strdup(" ");
            nm.min_rep = pr->valuestring[1] == '+' ? 1 : 2;
        } else {
            return vb_fail(VB_ERR_UNSUPPORTED,
                           "%s: Replace normalizer: only String patterns and the Regex \" {2,}\" "
                           "are implemented",
                           name);
        }
        nm.pat_len = strlen(nm.pat);
        nm.rep = vb_strdup(content->valuestring);
        nm.rep_len = strlen(nm.rep);
        t->norms = vb_realloc(t->norms, (size_t)(t->n_norms + 1) * sizeof *t->norms);
        t->norms[t->n_norms++] = nm;
        return VB_OK;
    }
    return vb_fail(VB_ERR_UNSUPPORTED, "%s: normalizer type \"%s\" is not implemented", name, type);
}

static int load_pretok(struct vb_t5tok * t, const cJSON * pj, const char * name) {
    const cJSON * ty = cJSON_GetObjectItemCaseSensitive(pj, "type");
    if (!cJSON_IsString(ty)) return vb_fail(VB_ERR_FORMAT, "%s: pre_tokenizer: missing \"type\"", name);
    if (!strcmp(ty->valuestring, "Sequence")) {
        const cJSON * arr = cJSON_GetObjectItemCaseSensitive(pj, "pretokenizers");
        if (cJSON_GetArraySize(arr) != 1)
            return vb_fail(VB_ERR_UNSUPPORTED, "%s: pre_tokenizer Sequence: only a single Metaspace is implemented",
                           name);
        return load_pretok(t, cJSON_GetArrayItem(arr, 0), name);
    }
    if (strcmp(ty->valuestring, "Metaspace"))
        return vb_fail(VB_ERR_UNSUPPORTED, "%s: pre_tokenizer \"%s\" is not implemented (Metaspace only)", name,
                       ty->valuestring);
    const cJSON * r = cJSON_GetObjectItemCaseSensitive(pj, "replacement");
    const char *  rs = cJSON_IsString(r) ? r->valuestring : "\xe2\x96\x81";
    int32_t       cp;
    size_t        rl = strlen(rs);
    if (rl == 0 || rl > 4 || vb_unicode_utf8_decode(rs, rl, &cp) != (int)rl)
        return vb_fail(VB_ERR_FORMAT, "%s: pre_tokenizer.replacement must be one character", name);
    memcpy(t->repl, rs, rl);
    t->repl_len = rl;
    const cJSON * ps = cJSON_GetObjectItemCaseSensitive(pj, "prepend_scheme");
    if (cJSON_IsString(ps)) {
        if (!strcmp(ps->valuestring, "always"))
            t->prepend = PREPEND_ALWAYS;
        else if (!strcmp(ps->valuestring, "first"))
            t->prepend = PREPEND_FIRST;
        else if (!strcmp(ps->valuestring, "never"))
            t->prepend = PREPEND_NEVER;
        else
            return vb_fail(VB_ERR_FORMAT, "%s: pre_tokenizer.prepend_scheme \"%s\"", name, ps->valuestring);
    } else {
        t->prepend = jbool(pj, "add_prefix_space", 1) ? PREPEND_ALWAYS : PREPEND_NEVER;
    }
    t->split = jbool(pj, "split", 1);
    return VB_OK;
}

static int find_added_id(const struct vb_t5tok * t, const char * s, int32_t * id) {
    for (int k = 0; k < t->n_added; k++)
        if (!strcmp(t->added[k].s, s)) {
            *id = t->added[k].id;
            return 1;
        }
    int32_t v = vb_unicode_map_get(&t->model_map, s, strlen(s));
    if (v >= 0) {
        *id = v;
        return 1;
    }
    return 0;
}

static int load_post(struct vb_t5tok * t, const cJSON * pp, const char * name) {
    if (!pp || cJSON_IsNull(pp)) return VB_OK;
    const cJSON * ty = cJSON_GetObjectItemCaseSensitive(pp, "type");
    if (!cJSON_IsString(ty) || strcmp(ty->valuestring, "TemplateProcessing"))
        return vb_fail(VB_ERR_UNSUPPORTED, "%s: post_processor: only TemplateProcessing is implemented", name);
    const cJSON * single = cJSON_GetObjectItemCaseSensitive(pp, "single");
    const cJSON * specials = cJSON_GetObjectItemCaseSensitive(pp, "special_tokens");
    if (!cJSON_IsArray(single)) return vb_fail(VB_ERR_FORMAT, "%s: post_processor.single: expected an array", name);
    int           seen_a = 0;
    const cJSON * e;
    cJSON_ArrayForEach(e, single) {
        const cJSON * seq = cJSON_GetObjectItemCaseSensitive(e, "Sequence");
        const cJSON * sp = cJSON_GetObjectItemCaseSensitive(e, "SpecialToken");
        if (seq) {
            if (seen_a) return vb_fail(VB_ERR_UNSUPPORTED, "%s: post_processor.single: $A twice", name);
            seen_a = 1;
            continue;
        }
        const cJSON * idj = cJSON_GetObjectItemCaseSensitive(sp, "id");
        if (!cJSON_IsString(idj))
            return vb_fail(VB_ERR_FORMAT, "%s: post_processor.single: entry without Sequence/SpecialToken id", name);
        const cJSON * def = cJSON_GetObjectItemCaseSensitive(specials, idj->valuestring);
        const cJSON * ids = cJSON_GetObjectItemCaseSensitive(def, "ids");
        int32_t       one;
        int32_t *     dst = seen_a ? t->tmpl_post : t->tmpl_pre;
        int32_t *     nd = seen_a ? &t->n_post : &t->n_pre;
        if (cJSON_IsArray(ids)) {
            const cJSON * x;
            cJSON_ArrayForEach(x, ids) {
                if (!cJSON_IsNumber(x) || x->valuedouble < 0 || x->valuedouble >= t->n_ids || *nd >= 8)
                    return vb_fail(VB_ERR_FORMAT, "%s: post_processor.special_tokens[\"%s\"].ids: bad id", name,
                                   idj->valuestring);
                dst[(*nd)++] = (int32_t)x->valuedouble;
            }
        } else if (find_added_id(t, idj->valuestring, &one)) {
            if (*nd >= 8) return vb_fail(VB_ERR_FORMAT, "%s: post_processor: too many special tokens", name);
            dst[(*nd)++] = one;
        } else {
            return vb_fail(VB_ERR_FORMAT, "%s: post_processor: special token \"%s\" is not defined", name,
                           idj->valuestring);
        }
    }
    if (!seen_a) return vb_fail(VB_ERR_FORMAT, "%s: post_processor.single has no $A sequence", name);
    return VB_OK;
}

static int load_json(struct vb_t5tok * t, const cJSON * root, const char * name) {
    if (!cJSON_IsObject(root)) return vb_fail(VB_ERR_FORMAT, "%s: top level is not a JSON object", name);
    const cJSON * model = cJSON_GetObjectItemCaseSensitive(root, "model");
    const cJSON * mtype = cJSON_GetObjectItemCaseSensitive(model, "type");
    if (!cJSON_IsObject(model)) return vb_fail(VB_ERR_FORMAT, "%s: missing \"model\" object", name);
    if (!cJSON_IsString(mtype) || strcmp(mtype->valuestring, "Unigram"))
        return vb_fail(VB_ERR_UNSUPPORTED, "%s: model.type must be \"Unigram\"", name);
    const cJSON * vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    if (!cJSON_IsArray(vocab) || cJSON_GetArraySize(vocab) < 1)
        return vb_fail(VB_ERR_FORMAT, "%s: model.vocab: expected a non-empty array", name);
    int32_t nv = (int32_t)cJSON_GetArraySize(vocab);
    t->n_model = nv;
    /* added tokens first pass: how many ids in total */
    const cJSON * added = cJSON_GetObjectItemCaseSensitive(root, "added_tokens");
    int32_t       n_ids = nv;
    if (added && !cJSON_IsNull(added) && !cJSON_IsArray(added))
        return vb_fail(VB_ERR_FORMAT, "%s: added_tokens: expected an array", name);
    const cJSON * e;
    int           na = 0;
    cJSON_ArrayForEach(e, added) {
        const cJSON * id = cJSON_GetObjectItemCaseSensitive(e, "id");
        const cJSON * c = cJSON_GetObjectItemCaseSensitive(e, "content");
        if (!cJSON_IsNumber(id) || !cJSON_IsString(c) || id->valuedouble < 0 || id->valuedouble > 1e7 ||
            id->valuedouble != (double)(int32_t)id->valuedouble)
            return vb_fail(VB_ERR_FORMAT, "%s: added_tokens[%d]: needs integer \"id\" and string \"content\"", name,
                           na);
        if (!vb_unicode_utf8_valid(c->valuestring, strlen(c->valuestring)))
            return vb_fail(VB_ERR_FORMAT, "%s: added_tokens[%d].content is not UTF-8", name, na);
        if (jbool(e, "single_word", 0))
            return vb_fail(VB_ERR_UNSUPPORTED, "%s: added_tokens[%d]: single_word is not implemented", name, na);
        n_ids = VB_MAX(n_ids, (int32_t)id->valuedouble + 1);
        na++;
    }
    t->n_ids = n_ids;
    t->id_str = vb_calloc((size_t)n_ids, sizeof *t->id_str);
    t->id_len = vb_calloc((size_t)n_ids, sizeof *t->id_len);
    t->is_special = vb_calloc((size_t)n_ids, 1);
    t->scores = vb_calloc((size_t)nv, sizeof *t->scores);
    vb_unicode_map_init_borrowed(&t->model_map, (size_t)nv); /* keys live in t->arena */
    t->min_score = INFINITY;
    int32_t i = 0;
    size_t  total = 0;
    cJSON_ArrayForEach(e, vocab) {
        const cJSON * p = cJSON_GetArrayItem(e, 0);
        if (cJSON_IsString(p)) total += strlen(p->valuestring) + 1;
    }
    t->arena = vb_malloc(total + 1);
    t->arena_len = total + 1;
    size_t used = 0;
    cJSON_ArrayForEach(e, vocab) {
        const cJSON * p = cJSON_GetArrayItem(e, 0);
        const cJSON * s = cJSON_GetArrayItem(e, 1);
        if (!cJSON_IsArray(e) || !cJSON_IsString(p) || !cJSON_IsNumber(s) || !isfinite(s->valuedouble))
            return vb_fail(VB_ERR_FORMAT, "%s: model.vocab[%d]: expected [piece, score]", name, i);
        size_t l = strlen(p->valuestring);
        if (!vb_unicode_utf8_valid(p->valuestring, l))
            return vb_fail(VB_ERR_FORMAT, "%s: model.vocab[%d]: piece is not UTF-8", name, i);
        VB_ASSERT(used + l + 1 <= total);
        memcpy(t->arena + used, p->valuestring, l + 1);
        t->id_str[i] = t->arena + used;
        used += l + 1;
        t->id_len[i] = (uint32_t)l;
        t->scores[i] = s->valuedouble;
        if (s->valuedouble < t->min_score) t->min_score = s->valuedouble;
        if (l) vb_unicode_map_put(&t->model_map, t->id_str[i], l, i);
        if (l > t->max_piece_len) t->max_piece_len = l;
        i++;
    }
    const cJSON * unk = cJSON_GetObjectItemCaseSensitive(model, "unk_id");
    t->unk_id = -1;
    if (cJSON_IsNumber(unk)) {
        if (unk->valuedouble < 0 || unk->valuedouble >= nv)
            return vb_fail(VB_ERR_FORMAT, "%s: model.unk_id %g outside the vocabulary", name, unk->valuedouble);
        t->unk_id = (int32_t)unk->valuedouble;
    } else if (unk && !cJSON_IsNull(unk)) {
        return vb_fail(VB_ERR_FORMAT, "%s: model.unk_id: expected a number or null", name);
    }
    t->byte_fallback = jbool(model, "byte_fallback", 0);
    /* added tokens */
    t->added = vb_calloc((size_t)(na > 0 ? na : 1), sizeof *t->added);
    cJSON_ArrayForEach(e, added) {
        struct t5_added * a = &t->added[t->n_added++];
        const char *      c = cJSON_GetObjectItemCaseSensitive(e, "content")->valuestring;
        a->s = vb_strdup(c);
        a->len = strlen(c);
        a->id = (int32_t)cJSON_GetObjectItemCaseSensitive(e, "id")->valuedouble;
        a->special = jbool(e, "special", 0);
        a->normalized = jbool(e, "normalized", !a->special);
        a->lstrip = jbool(e, "lstrip", 0);
        a->rstrip = jbool(e, "rstrip", 0);
        if (!t->id_str[a->id]) {
            t->id_str[a->id] = vb_strdup(c);
            t->id_len[a->id] = (uint32_t)a->len;
        }
        if (a->special) t->is_special[a->id] = 1;
        if (a->len) t->added_first[a->normalized ? 1 : 0][(unsigned char)a->s[0]] = 1;
    }
    for (int32_t k = 0; k < n_ids; k++)
        if (!t->id_str[k])
            return vb_fail(VB_ERR_FORMAT, "%s: id %d has neither a vocab piece nor an added token", name, k);
    t->base_vocab = n_ids;
    while (t->base_vocab > 0 && t->is_special[t->base_vocab - 1])
        t->base_vocab--;
    if (t->base_vocab < 3) t->base_vocab = n_ids; /* everything special: no separate sub-texts */
    /* normalizer, pre-tokenizer, post-processor */
    int st = add_norm(t, cJSON_GetObjectItemCaseSensitive(root, "normalizer"), name);
    if (st) return st;
    const cJSON * pj = cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer");
    if (!cJSON_IsObject(pj)) return vb_fail(VB_ERR_UNSUPPORTED, "%s: pre_tokenizer must be Metaspace", name);
    st = load_pretok(t, pj, name);
    if (st) return st;
    return load_post(t, cJSON_GetObjectItemCaseSensitive(root, "post_processor"), name);
}

int vb_t5tok_load_mem(struct vb_t5tok ** out, const char * json, size_t len, const char * name) {
    *out = NULL;
    cJSON * root = cJSON_ParseWithLength(json, len);
    if (!root) {
        const char * ep = cJSON_GetErrorPtr();
        long         off = (ep && ep >= json && ep <= json + len) ? (long)(ep - json) : -1;
        return vb_fail(VB_ERR_FORMAT, "%s: invalid JSON near byte %ld", name, off);
    }
    struct vb_t5tok * t = vb_calloc(1, sizeof *t);
    int               st = load_json(t, root, name);
    cJSON_Delete(root);
    if (st) {
        vb_t5tok_free(t);
        return st;
    }
    *out = t;
    return VB_OK;
}

int vb_t5tok_load(struct vb_t5tok ** out, const char * path) {
    *out = NULL;
    char * buf;
    size_t len;
    int    st = vb_read_file(path, &buf, &len);
    if (st) return st;
    st = vb_t5tok_load_mem(out, buf, len, path);
    free(buf);
    return st;
}
