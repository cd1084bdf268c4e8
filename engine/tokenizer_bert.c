/* tokenizer_bert.c — slow BertTokenizer (uncased) + WordPiece, see tokenizer_bert.h. */
#include "engine/tokenizer_bert.h"

#include "base/common.h"
#include "engine/unicode_text.h"

#include <string.h>
#include <utf8proc.h>

#define BERT_MAX_WORD_CHARS 100

static const char * const SPECIALS[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[DEC]"};
enum { N_SPECIALS = 6 };

struct vb_berttok {
    struct vb_unicode_map vocab; /* token -> id */
    int32_t               n_ids; /* vocab lines + added [DEC] */
    int32_t               special_id[N_SPECIALS];
    int32_t               unk_id, cls_id, sep_id;
};

/* ---------------------------------------------------------------- character classes (transformers 4.35.2) */

static int is_control(int32_t c) {
    if (c == '\t' || c == '\n' || c == '\r') return 0;
    utf8proc_category_t k = utf8proc_category(c);
    return k == UTF8PROC_CATEGORY_CC || k == UTF8PROC_CATEGORY_CF || k == UTF8PROC_CATEGORY_CS ||
           k == UTF8PROC_CATEGORY_CO || k == UTF8PROC_CATEGORY_CN;
}

static int is_whitespace(int32_t c) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') return 1;
    return utf8proc_category(c) == UTF8PROC_CATEGORY_ZS;
}

static int is_punct(int32_t c) {
    if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) return 1;
    utf8proc_category_t k = utf8proc_category(c);
    return k == UTF8PROC_CATEGORY_PC || k == UTF8PROC_CATEGORY_PD || k == UTF8PROC_CATEGORY_PS ||
           k == UTF8PROC_CATEGORY_PE || k == UTF8PROC_CATEGORY_PI || k == UTF8PROC_CATEGORY_PF ||
           k == UTF8PROC_CATEGORY_PO;
}

static int is_cjk(int32_t c) {
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
           (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

/* Python str.split() separators left after cleaning (cleaning already turned Zs / \t \n \r into ' ' and removed the
** Cc ones): ' ', U+2028, U+2029. */
static int is_split_space(int32_t c) {
    return c == ' ' || c == 0x2028 || c == 0x2029;
}

/* ---------------------------------------------------------------- pipeline */

static void wordpiece(const struct vb_berttok * t, const char * w, size_t wl, struct vb_unicode_ids * out) {
    /* code point boundaries */
    size_t nchar = 0;
    for (size_t i = 0; i < wl; i++)
        if (((unsigned char)w[i] & 0xC0) != 0x80) nchar++;
    if (nchar > BERT_MAX_WORD_CHARS) {
        vb_unicode_ids_push(out, t->unk_id);
        return;
    }
    size_t * pos = vb_malloc((nchar + 1) * sizeof *pos);
    size_t   k = 0;
    for (size_t i = 0; i < wl; i++)
        if (((unsigned char)w[i] & 0xC0) != 0x80) pos[k++] = i;
    pos[nchar] = wl;
    char *                buf = vb_malloc(wl + 3);
    struct vb_unicode_ids sub = {0};
    size_t                start = 0;
    int                   bad = 0;
    while (start < nchar) {
        int32_t found = -1;
        size_t  end = nchar;
        for (; end > start; end--) {
            size_t bl = 0;
            if (start > 0) {
                buf[0] = '#';
                buf[1] = '#';
                bl = 2;
            }
            memcpy(buf + bl, w + pos[start], pos[end] - pos[start]);
            bl += pos[end] - pos[start];
            found = vb_unicode_map_get(&t->vocab, buf, bl);
            if (found >= 0) break;
        }
        if (found < 0) {
            bad = 1;
            break;
        }
        vb_unicode_ids_push(&sub, found);
        start = end;
    }
    if (bad)
        vb_unicode_ids_push(out, t->unk_id);
    else
        for (int32_t i = 0; i < sub.n; i++)
            vb_unicode_ids_push(out, sub.v[i]);
    free(sub.v);
    free(buf);
    free(pos);
}

/* One basic token (already NFC, lower-cased): strip accents, split punctuation, WordPiece each piece. */
static int basic_token(const struct vb_berttok * t, const char * s, size_t len, struct vb_unicode_ids * out) {
    char * z = vb_malloc(len + 1);
    memcpy(z, s, len);
    z[len] = 0;
    utf8proc_uint8_t * nfd = utf8proc_NFD((const utf8proc_uint8_t *)z);
    free(z);
    if (!nfd) return vb_fail(VB_ERR_ARG, "bert tokenizer: NFD failed");
    size_t                nl = strlen((const char *)nfd);
    struct vb_unicode_buf piece = {0};
    vb_unicode_buf_add(&piece, "", 0);
    for (size_t i = 0; i < nl;) {
        int32_t cp;
        int     k = vb_unicode_utf8_decode((const char *)nfd + i, nl - i, &cp);
        if (!k) {
            free(nfd);
            vb_unicode_buf_free(&piece);
            return vb_fail(VB_ERR_ARG, "bert tokenizer: invalid UTF-8 after NFD");
        }
        i += (size_t)k;
        if (utf8proc_category(cp) == UTF8PROC_CATEGORY_MN) continue;
        if (is_punct(cp)) {
            if (piece.n) wordpiece(t, piece.p, piece.n, out);
            piece.n = 0;
            char tmp[4];
            int  kk = vb_unicode_utf8_encode(cp, tmp);
            wordpiece(t, tmp, (size_t)kk, out);
            continue;
        }
        vb_unicode_buf_add_cp(&piece, cp);
    }
    if (piece.n) wordpiece(t, piece.p, piece.n, out);
    vb_unicode_buf_free(&piece);
    free(nfd);
    return VB_OK;
}

/* Non-special text segment: lower-case, clean, CJK padding, NFC, whitespace split, per token. */
static int basic_segment(const struct vb_berttok * t, const char * s, size_t len, struct vb_unicode_ids * out) {
    struct vb_unicode_buf c = {0};
    vb_unicode_buf_add(&c, "", 0);
    for (size_t i = 0; i < len;) {
        int32_t cp;
        int     k = vb_unicode_utf8_decode(s + i, len - i, &cp);
        VB_ASSERT(k > 0);
        i += (size_t)k;
        if (cp == 0 || cp == 0xFFFD || is_control(cp)) continue;
        if (is_whitespace(cp)) {
            vb_unicode_buf_add(&c, " ", 1);
            continue;
        }
        int32_t lc = cp == 0x130 ? 'i' : utf8proc_tolower(cp); /* Python: 'İ'.lower() = 'i' + U+0307, dropped later */
        if (is_cjk(lc)) {
            vb_unicode_buf_add(&c, " ", 1);
            vb_unicode_buf_add_cp(&c, lc);
            vb_unicode_buf_add(&c, " ", 1);
        } else {
            vb_unicode_buf_add_cp(&c, lc);
        }
    }
    utf8proc_uint8_t * nfc = utf8proc_NFC((const utf8proc_uint8_t *)c.p);
    vb_unicode_buf_free(&c);
    if (!nfc) return vb_fail(VB_ERR_ARG, "bert tokenizer: NFC failed");
    size_t nl = strlen((const char *)nfc);
    int    st = VB_OK;
    size_t w0 = 0;
    for (size_t i = 0; i <= nl && st == VB_OK;) {
        int32_t cp = ' ';
        int     k = 1;
        if (i < nl) {
            k = vb_unicode_utf8_decode((const char *)nfc + i, nl - i, &cp);
            if (!k) {
                st = vb_fail(VB_ERR_ARG, "bert tokenizer: invalid UTF-8 after NFC");
                break;
            }
        }
        if (is_split_space(cp)) {
            if (i > w0) st = basic_token(t, (const char *)nfc + w0, i - w0, out);
            w0 = i + (size_t)k;
        }
        i += (size_t)k;
    }
    free(nfc);
    return st;
}

int vb_berttok_encode(const struct vb_berttok * t, const char * text, size_t len, int add_special, int max_length,
                      int truncate_left, int32_t ** ids, int32_t * n) {
    *ids = NULL;
    *n = 0;
    if (!text && len) return vb_fail(VB_ERR_ARG, "bert tokenizer: NULL text");
    if (len && !vb_unicode_utf8_valid(text, len)) return vb_fail(VB_ERR_ARG, "bert tokenizer: text is not valid UTF-8");
    int n_spec = add_special ? 2 : 0;
    if (max_length < 0 || (max_length > 0 && max_length < n_spec))
        return vb_fail(VB_ERR_ARG, "bert tokenizer: max_length %d is smaller than the %d special tokens", max_length,
                       n_spec);
    struct vb_unicode_ids body = {0};
    size_t                seg0 = 0;
    int                   st = VB_OK;
    for (size_t i = 0; i < len && st == VB_OK;) {
        int    best = -1;
        size_t bl = 0;
        if (text[i] == '[')
            for (int k = 0; k < N_SPECIALS; k++) {
                size_t l = strlen(SPECIALS[k]);
                if (t->special_id[k] >= 0 && l > bl && i + l <= len && !memcmp(text + i, SPECIALS[k], l)) {
                    best = k;
                    bl = l;
                }
            }
        if (best < 0) {
            i++;
            continue;
        }
        if (i > seg0) st = basic_segment(t, text + seg0, i - seg0, &body);
        vb_unicode_ids_push(&body, t->special_id[best]);
        i += bl;
        seg0 = i;
    }
    if (st == VB_OK && len > seg0) st = basic_segment(t, text + seg0, len - seg0, &body);
    if (st) {
        free(body.v);
        return st;
    }
    int32_t cls = t->cls_id, sep = t->sep_id;
    vb_unicode_ids_wrap(&body, &cls, n_spec / 2, &sep, n_spec / 2, max_length, truncate_left, ids, n);
    return VB_OK;
}

int32_t vb_berttok_token_id(const struct vb_berttok * t, const char * token) {
    if (!t || !token) return -1;
    return vb_unicode_map_get(&t->vocab, token, strlen(token));
}

int32_t vb_berttok_vocab_size(const struct vb_berttok * t) {
    return t ? t->n_ids : 0;
}

void vb_berttok_free(struct vb_berttok * t) {
    if (!t) return;
    vb_unicode_map_free(&t->vocab);
    free(t);
}

int vb_berttok_load(struct vb_berttok ** out, const char * path) {
    *out = NULL;
    char * buf;
    size_t len;
    int    st = vb_read_file(path, &buf, &len);
    if (st) return st;
    struct vb_berttok * t = vb_calloc(1, sizeof *t);
    vb_unicode_map_init(&t->vocab, 32768);
    int32_t id = 0;
    size_t  i = 0;
    while (i < len) {
        size_t e = i;
        while (e < len && buf[e] != '\n')
            e++;
        if (!vb_unicode_utf8_valid(buf + i, e - i) || memchr(buf + i, 0, e - i)) {
            free(buf);
            vb_berttok_free(t);
            return vb_fail(VB_ERR_FORMAT, "%s:%d: token is not valid UTF-8 text", path, id + 1);
        }
        vb_unicode_map_put(&t->vocab, buf + i, e - i, id);
        id++;
        i = e + 1;
    }
    free(buf);
    if (vb_unicode_map_get(&t->vocab, "[DEC]", 5) < 0) vb_unicode_map_put(&t->vocab, "[DEC]", 5, id++);
    t->n_ids = id;
    for (int k = 0; k < N_SPECIALS; k++)
        t->special_id[k] = vb_unicode_map_get(&t->vocab, SPECIALS[k], strlen(SPECIALS[k]));
    t->unk_id = t->special_id[1];
    t->cls_id = t->special_id[2];
    t->sep_id = t->special_id[3];
    if (t->unk_id < 0 || t->cls_id < 0 || t->sep_id < 0) {
        vb_berttok_free(t);
        return vb_fail(VB_ERR_FORMAT, "%s: vocabulary lacks [UNK], [CLS] or [SEP]", path);
    }
    /* an absent [PAD] / [MASK] keeps id -1 and is then ordinary text */
    *out = t;
    return VB_OK;
}
