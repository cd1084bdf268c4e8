/* cmd_demo.c — `vlapbench demo`: the helpers behind `make demo` (scripts/demo.sh), so the bundled default needs
** nothing from ../shared and no Python:
**
**   demo corpus            the text of the synthetic benchmark (every sample's QA and localizer prompt, built by
**                          vlap/prompts.h from the four official-format annotation files, plus the answer targets
**                          "Option A".."Option E", "yes", "no" and the frame prefixes), one line each; the training
**                          text of the demo's SentencePiece model (spm_train) and WordPiece vocabulary;
**   demo wordpiece         a bert-base-uncased-style vocab.txt from that text (specials at the BERT ids, every
**                          character, "##" continuations, then whole words by frequency), deterministic;
**   demo check-tokenizer   checks that the T5 tokenizer.json has the pieces the methods read (encode("Option A")
**                          ends in "▁A", ... "yes" -> "▁yes") and that no corpus line needs <unk> / [UNK];
**   demo note              inserts the "what this demo model is" paragraph into report.md / .html / .tex.
**
** Everything is deterministic: same input files -> byte-identical outputs.
*/
#include "base/common.h"
#include "datasets/dataset.h"
#include "engine/tokenizer_bert.h"
#include "engine/tokenizer_t5.h"
#include "engine/unicode_text.h"
#include "engine/weights.h"
#include "harness/cli.h"
#include "methods/prompts.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <utf8proc.h>

/* ---------------------------------------------------------------- word counting */

struct word {
    char *  s;
    int64_t count;
};

struct wordset {
    struct word * w;
    int64_t       n, cap;
    int64_t *     slot; /* open addressing: index into w, -1 empty */
    int64_t       nslot;
};

static void ws_add(struct wordset * ws, const char * s, size_t n, int64_t count);
static void ws_free(struct wordset * ws);
static int  cmp_text(const void * a, const void * b);

/* ---------------------------------------------------------------- corpus */

struct demo_ds {
    const char * kind; /* dataset loader name */
    const char * ann;  /* annotation path relative to the synth dir */
    const char * map;  /* id map relative to the synth dir, or NULL */
};

/* The official formats the demo runs (datasets/synth.h layout); How2QA in the VALUE release the methods use. */
static const struct demo_ds DEMO_DS[] = {
    {"nextqa", "nextqa/val.csv", "nextqa/map_vid_vidorID.json"},
    {"star", "star/STAR_val.json", NULL},
    {"vlep", "vlep/vlep_dev_release.jsonl", NULL},
    {"how2qa-value", "how2qa/how2qa_val_release.jsonl", "how2qa/how2_vid_mapping.json"},
};
#define N_DEMO_DS ((int32_t)(sizeof DEMO_DS / sizeof DEMO_DS[0]))

static int is_alnum_byte(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

/* Write one line (newlines inside a field become spaces) and remember its alphanumeric runs in runs (NULL: no). */
static int write_line(FILE * f, const char * s, const char * path, struct wordset * runs) {
    for (const char * p = s; *p; p++)
        if (fputc(*p == '\n' || *p == '\r' ? ' ' : *p, f) == EOF) goto fail;
    if (fputc('\n', f) == EOF) goto fail;
    for (const char * p = s; runs && *p;) {
        if (!is_alnum_byte((unsigned char)*p)) {
            p++;
            continue;
        }
        const char * b = p;
        while (is_alnum_byte((unsigned char)*p))
            p++;
        ws_add(runs, b, (size_t)(p - b), 1);
    }
    return VB_OK;
fail:
    return vb_fail(VB_ERR_IO, "%s: write failed: %s", path, strerror(errno));
}

/* Write the prompts of every sample of one dataset to f; *n_lines counts lines written. */
static int corpus_dataset(FILE * f, const char * out, const char * synth, const struct demo_ds * d, int64_t * n_lines,
                          struct wordset * runs) {
    char ann[4096], map[4096];
    snprintf(ann, sizeof ann, "%s/%s", synth, d->ann);
    if (d->map) snprintf(map, sizeof map, "%s/%s", synth, d->map);
    enum vb_dataset_kind kind;
    int                  rc = vb_dataset_kind_parse(d->kind, &kind);
    if (rc != VB_OK) return rc;
    struct vb_dataset ds;
    rc = vb_dataset_load(&ds, kind, ann, d->map ? map : NULL, NULL, 0);
    if (rc != VB_OK) return rc;
    for (int32_t i = 0; i < ds.n && rc == VB_OK; i++) {
        struct vb_prompt_text t;
        rc = vb_prompt_text_from_sample(&t, &ds.s[i], kind == VB_DS_NEXTQA);
        if (rc != VB_OK) break;
        char * qa = vb_prompt_qa(&t);
        char * loc = vb_prompt_loc(&t);
        rc = write_line(f, qa, out, runs);
        if (rc == VB_OK) rc = write_line(f, loc, out, runs);
        *n_lines += 2;
        free(qa);
        free(loc);
        vb_prompt_text_free(&t);
    }
    vb_dataset_free(&ds);
    return rc;
}

static int demo_corpus(int argc, char ** argv) {
    const char *synth = NULL, *out = NULL, *v;
    int32_t     repeat = 8;
    for (int i = 2; i < argc; i++) {
        if (vb_cli_opt(argc, argv, &i, "--synth", &v))
            synth = v;
        else if (vb_cli_opt(argc, argv, &i, "--out", &v))
            out = v;
        else if (vb_cli_opt(argc, argv, &i, "--repeat", &v)) {
            repeat = atoi(v);
            if (repeat < 1 || repeat > 1000) {
                fprintf(stderr, "demo corpus: --repeat must be 1..1000\n");
                return 2;
            }
        } else {
            fprintf(stderr, "demo corpus: unknown option or missing value: %s\n", argv[i]);
            return 2;
        }
    }
    if (!synth || !out) {
        fprintf(stderr, "demo corpus: --synth DIR and --out FILE are required\n");
        return 2;
    }
    FILE * f = fopen(out, "wb");
    if (!f) {
        fprintf(stderr, "demo corpus: cannot create %s: %s\n", out, strerror(errno));
        return 1;
    }
    int64_t        n_lines = 0;
    int            rc = VB_OK;
    struct wordset runs = {0};
    for (int32_t d = 0; d < N_DEMO_DS && rc == VB_OK; d++)
        rc = corpus_dataset(f, out, synth, &DEMO_DS[d], &n_lines, &runs);
    /* The answer targets and the localizer's yes / no, `repeat` times each so that the unigram model keeps them as
    ** whole pieces ("▁A", "▁yes"), and the frame prefixes of up to 8 frames. */
    for (int32_t r = 0; r < repeat && rc == VB_OK; r++) {
        for (int32_t j = 0; j < VB_PROMPT_N_LETTERS && rc == VB_OK; j++) {
            char s[32];
            snprintf(s, sizeof s, "Option %c", vb_prompt_letter(j));
            rc = write_line(f, s, out, &runs);
            n_lines++;
        }
        if (rc == VB_OK) rc = write_line(f, "yes", out, &runs);
        if (rc == VB_OK) rc = write_line(f, "no", out, &runs);
        n_lines += 2;
    }
    for (int32_t k = 0; k <= 8 && rc == VB_OK; k++) {
        char s[32];
        rc = write_line(f, vb_prompt_frame_prefix(k, s, (int32_t)sizeof s), out, &runs);
        n_lines++;
    }
    /* spm_train's unigram trainer seeds its vocabulary with substrings that occur in at least two DISTINCT
    ** whitespace-separated words, so a word that only ever appears in one spelling ("the", "yes") would never become a
    ** piece and prompts would be spelled letter by letter.  One line "w w." per distinct alphanumeric run w (byte
    ** order) gives every word a second spelling. */
    qsort(runs.w, (size_t)runs.n, sizeof(struct word), cmp_text);
    for (int64_t i = 0; i < runs.n && rc == VB_OK; i++) {
        char s[600];
        if (strlen(runs.w[i].s) > 250) continue;
        snprintf(s, sizeof s, "%s %s.", runs.w[i].s, runs.w[i].s);
        rc = write_line(f, s, out, NULL);
        n_lines++;
    }
    ws_free(&runs);
    if (fclose(f) != 0 && rc == VB_OK) rc = vb_fail(VB_ERR_IO, "%s: close failed: %s", out, strerror(errno));
    if (rc != VB_OK) {
        fprintf(stderr, "demo corpus: %s\n", vb_errmsg());
        return 1;
    }
    fprintf(stderr, "demo corpus: %s: %lld lines\n", out, (long long)n_lines);
    return 0;
}

/* ---------------------------------------------------------------- WordPiece vocabulary */

static uint64_t hash_str(const char * s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
    return h;
}

static void ws_grow(struct wordset * ws) {
    int64_t   ns = ws->nslot ? ws->nslot * 2 : 1024;
    int64_t * sl = vb_malloc(sizeof(int64_t) * (size_t)ns);
    for (int64_t i = 0; i < ns; i++)
        sl[i] = -1;
    for (int64_t i = 0; i < ws->n; i++) {
        uint64_t h = hash_str(ws->w[i].s, strlen(ws->w[i].s)) & (uint64_t)(ns - 1);
        while (sl[h] >= 0)
            h = (h + 1) & (uint64_t)(ns - 1);
        sl[h] = i;
    }
    free(ws->slot);
    ws->slot = sl;
    ws->nslot = ns;
}

/* Count one occurrence of s[0..n). */
static void ws_add(struct wordset * ws, const char * s, size_t n, int64_t count) {
    if ((ws->n + 1) * 2 > ws->nslot) ws_grow(ws);
    uint64_t h = hash_str(s, n) & (uint64_t)(ws->nslot - 1);
    while (ws->slot[h] >= 0) {
        struct word * w = &ws->w[ws->slot[h]];
        if (strlen(w->s) == n && !memcmp(w->s, s, n)) {
            w->count += count;
            return;
        }
        h = (h + 1) & (uint64_t)(ws->nslot - 1);
    }
    if (ws->n == ws->cap) {
        ws->cap = ws->cap ? ws->cap * 2 : 256;
        ws->w = vb_realloc(ws->w, sizeof(struct word) * (size_t)ws->cap);
    }
    char * c = vb_malloc(n + 1);
    memcpy(c, s, n);
    c[n] = 0;
    ws->w[ws->n] = (struct word){c, count};
    ws->slot[h] = ws->n++;
}

static int ws_has(const struct wordset * ws, const char * s) {
    if (!ws->nslot) return 0;
    size_t   n = strlen(s);
    uint64_t h = hash_str(s, n) & (uint64_t)(ws->nslot - 1);
    while (ws->slot[h] >= 0) {
        if (!strcmp(ws->w[ws->slot[h]].s, s)) return 1;
        h = (h + 1) & (uint64_t)(ws->nslot - 1);
    }
    return 0;
}

static void ws_free(struct wordset * ws) {
    for (int64_t i = 0; i < ws->n; i++)
        free(ws->w[i].s);
    free(ws->w);
    free(ws->slot);
    memset(ws, 0, sizeof *ws);
}

/* BERT's punctuation: ASCII 33-47, 58-64, 91-96, 123-126 and Unicode P*. */
static int is_punct_cp(int32_t c) {
    if (c < 128) return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
    utf8proc_category_t k = utf8proc_category(c);
    return k >= UTF8PROC_CATEGORY_PC && k <= UTF8PROC_CATEGORY_PO;
}

/* BERT's whitespace and dropped characters (controls, unassigned): both separate words. */
static int is_space_cp(int32_t c) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') return 1;
    if (c < 32 || c == 127) return 1;
    utf8proc_category_t k = utf8proc_category(c);
    return k == UTF8PROC_CATEGORY_ZS || k == UTF8PROC_CATEGORY_CC || k == UTF8PROC_CATEGORY_CF ||
           k == UTF8PROC_CATEGORY_CN;
}

static int cmp_count_then_text(const void * a, const void * b) {
    const struct word *x = a, *y = b;
    if (x->count != y->count) return x->count > y->count ? -1 : 1;
    return strcmp(x->s, y->s);
}

static int cmp_text(const void * a, const void * b) {
    return strcmp(((const struct word *)a)->s, ((const struct word *)b)->s);
}

/* Normalise the text as BertTokenizer(do_lower_case=True) does (lower-case, NFD, drop combining marks), split it
** into basic-tokenizer words (whitespace, then every punctuation character on its own) and count them in words;
** every character goes to chars (word-initial) or conts ("##" + character, continuation).  Returns VB_OK or
** VB_ERR_FORMAT for text that is not UTF-8. */
static int count_words(const char * text, const char * path, struct wordset * words, struct wordset * chars,
                       struct wordset * conts) {
    size_t len = strlen(text);
    if (!vb_unicode_utf8_valid(text, len)) return vb_fail(VB_ERR_FORMAT, "%s: not valid UTF-8", path);
    struct vb_unicode_buf low = {0};
    for (size_t i = 0; i < len;) {
        int32_t cp;
        int     n = vb_unicode_utf8_decode(text + i, len - i, &cp);
        vb_unicode_buf_add_cp(&low, utf8proc_tolower(cp));
        i += (size_t)n;
    }
    utf8proc_uint8_t * norm = NULL;
    utf8proc_ssize_t   nl = utf8proc_map((const utf8proc_uint8_t *)(low.p ? low.p : ""), 0, &norm,
                                         UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_DECOMPOSE | UTF8PROC_STRIPMARK);
    vb_unicode_buf_free(&low);
    if (nl < 0) return vb_fail(VB_ERR_FORMAT, "%s: Unicode normalisation failed", path);
    const char * t = (const char *)norm;
    size_t       tl = (size_t)nl, i = 0;
    while (i < tl) {
        int32_t cp;
        int     n = vb_unicode_utf8_decode(t + i, tl - i, &cp);
        if (n <= 0) break;
        if (is_space_cp(cp)) {
            i += (size_t)n;
            continue;
        }
        if (is_punct_cp(cp)) {
            ws_add(words, t + i, (size_t)n, 1);
            ws_add(chars, t + i, (size_t)n, 1);
            i += (size_t)n;
            continue;
        }
        size_t b = i;
        while (i < tl) {
            n = vb_unicode_utf8_decode(t + i, tl - i, &cp);
            if (n <= 0 || is_space_cp(cp) || is_punct_cp(cp)) break;
            char cc[8] = "##";
            memcpy(cc + 2, t + i, (size_t)n);
            if (i == b)
                ws_add(chars, t + i, (size_t)n, 1);
            else
                ws_add(conts, cc, 2 + (size_t)n, 1);
            i += (size_t)n;
        }
        ws_add(words, t + b, i - b, 1);
    }
    free(norm);
    return VB_OK;
}

static int demo_wordpiece(int argc, char ** argv) {
    const char *corpus = NULL, *out = NULL, *v;
    int32_t     size = 2000;
    for (int i = 2; i < argc; i++) {
        if (vb_cli_opt(argc, argv, &i, "--corpus", &v))
            corpus = v;
        else if (vb_cli_opt(argc, argv, &i, "--out", &v))
            out = v;
        else if (vb_cli_opt(argc, argv, &i, "--size", &v)) {
            size = atoi(v);
            if (size < 256 || size > 1000000) {
                fprintf(stderr, "demo wordpiece: --size must be 256..1000000\n");
                return 2;
            }
        } else {
            fprintf(stderr, "demo wordpiece: unknown option or missing value: %s\n", argv[i]);
            return 2;
        }
    }
    if (!corpus || !out) {
        fprintf(stderr, "demo wordpiece: --corpus FILE and --out FILE are required\n");
        return 2;
    }
    char * text;
    if (vb_read_file(corpus, &text, NULL) != VB_OK) {
        fprintf(stderr, "demo wordpiece: %s\n", vb_errmsg());
        return 1;
    }
    struct wordset words = {0}, chars = {0}, conts = {0}, vocab = {0};
    /* letters and digits are always present, so any word of them can be spelled */
    for (char c = 'a'; c <= 'z'; c++) {
        char s[4] = {c, 0}, t[4] = {'#', '#', c, 0};
        ws_add(&chars, s, 1, 0);
        ws_add(&conts, t, 3, 0);
    }
    for (char c = '0'; c <= '9'; c++) {
        char s[4] = {c, 0}, t[4] = {'#', '#', c, 0};
        ws_add(&chars, s, 1, 0);
        ws_add(&conts, t, 3, 0);
    }
    int rc = count_words(text, corpus, &words, &chars, &conts);
    free(text);
    if (rc != VB_OK) {
        fprintf(stderr, "demo wordpiece: %s\n", vb_errmsg());
        ws_free(&words), ws_free(&chars), ws_free(&conts);
        return 1;
    }
    qsort(chars.w, (size_t)chars.n, sizeof(struct word), cmp_text);
    qsort(conts.w, (size_t)conts.n, sizeof(struct word), cmp_text);
    qsort(words.w, (size_t)words.n, sizeof(struct word), cmp_count_then_text);
    FILE * f = fopen(out, "wb");
    if (!f) {
        fprintf(stderr, "demo wordpiece: cannot create %s: %s\n", out, strerror(errno));
        ws_free(&words), ws_free(&chars), ws_free(&conts);
        return 1;
    }
    /* bert-base-uncased layout: [PAD] 0, [unused0..98] 1-99, [UNK] 100, [CLS] 101, [SEP] 102, [MASK] 103 */
    int64_t n = 0, n_words = 0;
    fprintf(f, "[PAD]\n");
    for (int k = 0; k < 99; k++)
        fprintf(f, "[unused%d]\n", k);
    fprintf(f, "[UNK]\n[CLS]\n[SEP]\n[MASK]\n");
    n = 104;
    for (int64_t i = 0; i < chars.n; i++, n++)
        fprintf(f, "%s\n", chars.w[i].s), ws_add(&vocab, chars.w[i].s, strlen(chars.w[i].s), 0);
    for (int64_t i = 0; i < conts.n; i++, n++)
        fprintf(f, "%s\n", conts.w[i].s);
    for (int64_t i = 0; i < words.n && n < size; i++) {
        if (ws_has(&vocab, words.w[i].s)) continue; /* single characters are already there */
        fprintf(f, "%s\n", words.w[i].s);
        n++, n_words++;
    }
    int bad = ferror(f);
    if (fclose(f) != 0) bad = 1;
    int64_t n_distinct = words.n;
    ws_free(&words), ws_free(&chars), ws_free(&conts), ws_free(&vocab);
    if (bad) {
        fprintf(stderr, "demo wordpiece: %s: write failed\n", out);
        return 1;
    }
    fprintf(stderr, "demo wordpiece: %s: %lld entries (%lld of %lld distinct words)\n", out, (long long)n,
            (long long)n_words, (long long)n_distinct);
    return 0;
}

/* ---------------------------------------------------------------- tokenizer check */

static int demo_check_tokenizer(int argc, char ** argv) {
    const char *t5p = NULL, *bertp = NULL, *corpus = NULL, *v;
    for (int i = 2; i < argc; i++) {
        if (vb_cli_opt(argc, argv, &i, "--t5", &v))
            t5p = v;
        else if (vb_cli_opt(argc, argv, &i, "--bert", &v))
            bertp = v;
        else if (vb_cli_opt(argc, argv, &i, "--corpus", &v))
            corpus = v;
        else {
            fprintf(stderr, "demo check-tokenizer: unknown option or missing value: %s\n", argv[i]);
            return 2;
        }
    }
    if (!t5p) {
        fprintf(stderr, "demo check-tokenizer: --t5 TOKENIZER_JSON is required\n");
        return 2;
    }
    struct vb_t5tok *   tok = NULL;
    struct vb_berttok * bt = NULL;
    char *              text = NULL;
    int                 errors = 0;
    if (vb_t5tok_load(&tok, t5p) != VB_OK || (bertp && vb_berttok_load(&bt, bertp) != VB_OK) ||
        (corpus && vb_read_file(corpus, &text, NULL) != VB_OK)) {
        fprintf(stderr, "demo check-tokenizer: %s\n", vb_errmsg());
        vb_t5tok_free(tok);
        vb_berttok_free(bt);
        return 1;
    }
    /* the pieces the answer readout and the localizer read: "Option L" must end in the piece "▁L" */
    for (int32_t j = 0; j < VB_PROMPT_N_LETTERS; j++) {
        char s[32];
        snprintf(s, sizeof s, "Option %c", vb_prompt_letter(j));
        int32_t want = vb_t5tok_piece_id(tok, vb_prompt_letter_pieces[j]), *ids = NULL, n = 0;
        if (vb_t5tok_encode(tok, s, 0, 0, &ids, &n) != VB_OK || want < 0 || n < 1 || ids[n - 1] != want) {
            fprintf(stderr, "demo check-tokenizer: %s: encode(\"%s\") does not end in the piece %s (id %d)\n", t5p, s,
                    vb_prompt_letter_pieces[j], want);
            errors++;
        }
        free(ids);
    }
    const char * words[2] = {"yes", "no"};
    const char * pieces[2] = {VB_PROMPT_YES_PIECE, "\xe2\x96\x81no"};
    for (int k = 0; k < 2; k++) {
        int32_t want = vb_t5tok_piece_id(tok, pieces[k]), *ids = NULL, n = 0;
        if (vb_t5tok_encode(tok, words[k], 0, 0, &ids, &n) != VB_OK || want < 0 || n != 1 || ids[0] != want) {
            fprintf(stderr, "demo check-tokenizer: %s: encode(\"%s\") is not the single piece %s\n", t5p, words[k],
                    pieces[k]);
            errors++;
        }
        free(ids);
    }
    int64_t n_lines = 0, t5_unk = 0, bert_unk = 0, t5_ids = 0;
    int32_t unk = vb_t5tok_piece_id(tok, "<unk>"), bunk = bt ? vb_berttok_token_id(bt, "[UNK]") : -1;
    for (char * line = text; line && *line;) {
        char * nl = strchr(line, '\n');
        if (nl) *nl = 0;
        if (*line) {
            int32_t *ids = NULL, n = 0;
            n_lines++;
            if (vb_t5tok_encode(tok, line, 1, 0, &ids, &n) != VB_OK) errors++;
            for (int32_t i = 0; i < n; i++)
                t5_unk += ids[i] == unk;
            t5_ids += n;
            free(ids);
            if (bt) {
                if (vb_berttok_encode(bt, line, strlen(line), 1, 0, 0, &ids, &n) != VB_OK) errors++;
                for (int32_t i = 0; i < n; i++)
                    bert_unk += ids[i] == bunk;
                free(ids);
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    if (t5_unk || bert_unk) {
        fprintf(stderr, "demo check-tokenizer: %lld <unk> (T5) and %lld [UNK] (BERT) in the corpus\n",
                (long long)t5_unk, (long long)bert_unk);
        errors++;
    }
    printf("demo check-tokenizer: T5 vocabulary %d, letters A-E and yes/no ok; %lld corpus lines, %.1f T5 ids per "
           "line, 0 unknown%s\n",
           vb_t5tok_vocab_size(tok), (long long)n_lines, n_lines ? (double)t5_ids / (double)n_lines : 0.0,
           bt ? " (T5 and BERT)" : "");
    free(text);
    vb_t5tok_free(tok);
    vb_berttok_free(bt);
    if (errors) fprintf(stderr, "demo check-tokenizer: %d problem(s)\n", errors);
    return errors ? 1 : 0;
}

/* ---------------------------------------------------------------- report note */

/* The note is a list of runs of text; each is plain, bold or code and rendered per format with its escaping.
** A run with text "\n" ends a paragraph. */
enum run_style { R_PLAIN = 0, R_BOLD, R_CODE, R_PARA };
struct run {
    enum run_style st;
    char *         text;
};
struct note {
    struct run r[64];
    int32_t    n;
};

static void note_add(struct note * nt, enum run_style st, const char * fmt, ...) __attribute__((format(printf, 3, 4)));
static void note_add(struct note * nt, enum run_style st, const char * fmt, ...) {
    VB_ASSERT(nt->n < 64);
    char    buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    nt->r[nt->n++] = (struct run){st, vb_strdup(buf)};
}

static void put_escaped(FILE * f, const char * s, int fmt /* 0 md, 1 html, 2 tex */) {
    for (; *s; s++) {
        char c = *s;
        if (fmt == 1 && c == '<')
            fputs("&lt;", f);
        else if (fmt == 1 && c == '>')
            fputs("&gt;", f);
        else if (fmt == 1 && c == '&')
            fputs("&amp;", f);
        else if (fmt == 2 && strchr("#$%&_{}", c))
            fprintf(f, "\\%c", c);
        else if (fmt == 2 && c == '~')
            fputs("\\textasciitilde{}", f);
        else if (fmt == 2 && c == '^')
            fputs("\\textasciicircum{}", f);
        else if (fmt == 2 && c == '\\')
            fputs("\\textbackslash{}", f);
        else
            fputc(c, f);
    }
}

static void note_render(FILE * f, const struct note * nt, int fmt) {
    static const char * open[3][3] = {{"", "**", "`"}, {"", "<strong>", "<code>"}, {"", "\\textbf{", "\\texttt{"}};
    static const char * close[3][3] = {{"", "**", "`"}, {"", "</strong>", "</code>"}, {"", "}", "}"}};
    int                 in_para = 0;
    for (int32_t i = 0; i < nt->n; i++) {
        const struct run * r = &nt->r[i];
        if (r->st == R_PARA) {
            if (in_para) fputs(fmt == 1 ? "</p>\n" : "\n\n", f);
            in_para = 0;
            continue;
        }
        if (!in_para && fmt == 1) fputs("<p class=\"demo-note\">", f);
        in_para = 1;
        fputs(open[fmt][r->st], f);
        put_escaped(f, r->text, fmt);
        fputs(close[fmt][r->st], f);
    }
    if (in_para) fputs(fmt == 1 ? "</p>\n" : "\n\n", f);
}

/* The note's arguments for vb_file_splice: the blank line(s) before it, then the note. */
struct note_arg {
    const struct note * nt;
    int                 fmt;
    int                 no_eol; /* the anchor line is the file's last and has no newline */
};

static void note_emit(FILE * f, void * ud) {
    const struct note_arg * a = ud;
    if (a->fmt == 0 && a->no_eol) fputc('\n', f);
    if (a->fmt != 1) fputc('\n', f);
    note_render(f, a->nt, a->fmt);
}

/* Insert the rendered note into path after the first line containing `after` (or `fallback`); rewrites the file.
** A file that already has the note (marker text) is left alone. */
static int note_insert(const char * path, const struct note * nt, int fmt, const char * after, const char * fallback) {
    char * text;
    size_t len;
    int    rc = vb_read_file(path, &text, &len);
    if (rc != VB_OK) return rc;
    if (strstr(text, "About this demo")) {
        free(text);
        return VB_OK;
    }
    char * at = strstr(text, after);
    if (!at && fallback) at = strstr(text, fallback);
    if (!at) {
        free(text);
        return vb_fail(VB_ERR_FORMAT, "%s: neither '%s' nor '%s' found: cannot place the demo note", path, after,
                       fallback ? fallback : "-");
    }
    char *          eol = strchr(at, '\n');
    size_t          cut = eol ? (size_t)(eol - text) + 1 : len;
    struct note_arg a = {nt, fmt, eol == NULL};
    rc = vb_file_splice(path, text, len, cut, note_emit, &a);
    free(text);
    return rc;
}

static int64_t bundle_params(const char * models, const char * name) {
    char p[4200];
    snprintf(p, sizeof p, "%s/%s/model.safetensors", models, name);
    struct vb_weights * w;
    if (vb_weights_open(&w, p) != VB_OK) return -1;
    int64_t n = 0;
    for (int32_t i = 0; i < vb_weights_count(w); i++)
        n += vb_weights_at(w, i)->numel;
    vb_weights_close(w);
    return n;
}

int cmd_demo_export(int argc, char ** argv); /* cmd_demo_export.c */
int cmd_demo_gate(int argc, char ** argv);   /* cmd_demo_gate.c */

/* The first paragraph for the trained demo models: what was trained on what, what the numbers show and do not. */
static int trained_note(struct note * nt, const char * manifest, int32_t videos, int32_t questions, int64_t pu,
                        int64_t ps, int64_t pv) {
    size_t n = 0;
    char * txt = NULL;
    int    rc = vb_read_file(manifest, &txt, &n);
    if (rc != VB_OK) return rc;
    cJSON *       m = cJSON_ParseWithLength(txt, n);
    const cJSON * tr = cJSON_GetObjectItem(cJSON_GetObjectItem(m, "splits"), "train");
    const cJSON * tv = cJSON_GetObjectItem(tr, "videos"), *ts = cJSON_GetObjectItem(tr, "synth_seed");
    const cJSON * tq = cJSON_GetObjectItem(tr, "questions_per_video");
    int           ok = cJSON_IsNumber(tv) && cJSON_IsNumber(ts) && cJSON_IsNumber(tq);
    int           tvi = ok ? tv->valueint : 0, tsi = ok ? ts->valueint : 0, tqi = ok ? tq->valueint : 0;
    cJSON_Delete(m);
    free(txt);
    if (!ok) return vb_fail(VB_ERR_FORMAT, "%s: no splits.train.{videos,synth_seed,questions_per_video}", manifest);
    note_add(nt, R_BOLD, "About this demo.");
    note_add(nt, R_PLAIN, " This report was produced by ");
    note_add(nt, R_CODE, "make demo");
    note_add(nt, R_PLAIN,
             ": vlapbench's whole pipeline (FFmpeg decoding, uniform_midbin sampling, the EVA ViT, the Q-Formers, "
             "SeViLA's localizer, VLAP's Frame-Prompter, the T5 encoder-decoder, official scoring, the SQLite store, "
             "this report) ran offline on data that vlapbench generated itself and on ");
    note_add(nt, R_BOLD, "small models trained for it");
    note_add(nt, R_PLAIN, " (");
    note_add(nt, R_CODE, "tools/train-demo");
    note_add(nt, R_PLAIN,
             ", PyTorch, from scratch; committed in models/demo/, whose manifest.json gives the recipe, seeds, "
             "losses, the deviations from the released recipes and the trainer's own accuracies). The task "
             "(");
    note_add(nt, R_CODE, "vlapbench synth --task event");
    note_add(nt, R_PLAIN,
             "): every video shows a colour card on 1/16 of its frames, at a random time, among grey distractor "
             "frames, and every question asks the card's colour, so the frames a method looks at decide the "
             "answer. The models were trained on %d other videos (synth seed %d, %d questions per video and "
             "dataset); this benchmark is %d unseen videos (seed 1, %d questions per video and dataset; its card "
             "times are stratified: each is uniform over its video, as in training, and over the videos they are "
             "spread evenly, so that uniform sampling sees the card on its expected share of them). As in the "
             "real methods, one frozen ViT and one frozen T5 are shared by all three methods, and each method's own "
             "parts (the BLIP-2 answerer of uniform sampling and SeViLA, SeViLA's localizer, VLAP's Frame-Prompter "
             "and InstructBLIP answerer) were trained on top. ",
             tvi, tsi, tqi, videos, questions);
    note_add(nt, R_BOLD, "What the numbers show:");
    note_add(nt, R_PLAIN,
             " on a task where frame choice decides the answer, a learned selector that sees only ViT features "
             "(VLAP) answers as well as SeViLA's localizer, which reads the question and runs the T5 on every "
             "candidate, far better than uniform sampling at the same number of frames, and at a fraction of "
             "SeViLA's selection cost; uniform sampling sees the card more often with more frames. ");
    note_add(nt, R_BOLD, "What they do not show:");
    note_add(nt, R_PLAIN,
             " anything about real videos or the published checkpoints. The task is synthetic and easy by design "
             "(its options come in a fixed order, so the answer letter is a function of the card's colour), and "
             "the models are toy-sized (the real structure: 224-px frames in 14-px patches, 257 tokens per "
             "frame, 32 query tokens, 32 candidate frames, 8 for VLAP on How2QA, cross-attention every second "
             "layer, gated-GELU T5 with relative positions; but 2 layers and width 64: %.2f M parameters for "
             "uniform BLIP-2, %.2f M for SeViLA, %.2f M for VLAP at 4 frames, against about 4.1 B for BLIP-2 "
             "Flan-T5-XL). The latencies are real measurements of these toy models on this machine, so the ViT and "
             "T5 stages weigh far less here than with EVA ViT-g and Flan-T5-XL.",
             (double)pu / 1e6, (double)ps / 1e6, (double)pv / 1e6);
    note_add(nt, R_PARA, "\n");
    return VB_OK;
}

static int demo_note(int argc, char ** argv) {
    const char *dir = NULL, *tokdir = NULL, *models = NULL, *trained = NULL, *v;
    int32_t     videos = 0, questions = 0;
    for (int i = 2; i < argc; i++) {
        if (vb_cli_opt(argc, argv, &i, "--dir", &v))
            dir = v;
        else if (vb_cli_opt(argc, argv, &i, "--tokenizer-dir", &v))
            tokdir = v;
        else if (vb_cli_opt(argc, argv, &i, "--models", &v))
            models = v;
        else if (vb_cli_opt(argc, argv, &i, "--videos", &v))
            videos = atoi(v);
        else if (vb_cli_opt(argc, argv, &i, "--questions", &v))
            questions = atoi(v);
        else if (vb_cli_opt(argc, argv, &i, "--trained", &v))
            trained = v;
        else {
            fprintf(stderr, "demo note: unknown option or missing value: %s\n", argv[i]);
            return 2;
        }
    }
    if (!dir || !tokdir || !models || videos <= 0 || questions <= 0) {
        fprintf(stderr, "demo note: --dir, --tokenizer-dir, --models, --videos and --questions are required\n");
        return 2;
    }
    char                p[4200];
    struct vb_t5tok *   tok = NULL;
    struct vb_berttok * bt = NULL;
    snprintf(p, sizeof p, "%s/tokenizer.json", tokdir);
    int rc = vb_t5tok_load(&tok, p);
    if (rc == VB_OK) {
        snprintf(p, sizeof p, "%s/vocab.txt", tokdir);
        rc = vb_berttok_load(&bt, p);
    }
    if (rc != VB_OK) {
        fprintf(stderr, "demo note: %s\n", vb_errmsg());
        vb_t5tok_free(tok);
        return 1;
    }
    int32_t t5_vocab = vb_t5tok_vocab_size(tok), bert_vocab = vb_berttok_vocab_size(bt);
    vb_t5tok_free(tok);
    vb_berttok_free(bt);
    int64_t pu = bundle_params(models, "uniform"), ps = bundle_params(models, "sevila"),
            pv = bundle_params(models, "vlap-k4-T32");
    if (pu < 0 || ps < 0 || pv < 0) {
        fprintf(stderr, "demo note: %s\n", vb_errmsg());
        return 1;
    }
    struct note nt = {0};
    if (trained) {
        rc = trained_note(&nt, trained, videos, questions, pu, ps, pv);
        if (rc != VB_OK) {
            fprintf(stderr, "demo note: %s\n", vb_errmsg());
            return 1;
        }
        goto insert;
    }
    note_add(&nt, R_BOLD, "About this demo.");
    note_add(&nt, R_PLAIN, " This report was produced by ");
    note_add(&nt, R_CODE, "make demo");
    note_add(&nt, R_PLAIN,
             ": vlapbench's whole pipeline (FFmpeg decoding, uniform_midbin sampling, the EVA ViT, the "
             "Q-Formers, SeViLA's localizer, VLAP's Frame-Prompter, the T5 encoder-decoder, official "
             "scoring, the SQLite store, this report) ran offline on data and models that vlapbench "
             "generated itself. ");
    note_add(&nt, R_BOLD, "The models have random weights");
    note_add(&nt, R_PLAIN, " (");
    note_add(&nt, R_CODE, "vlapbench init-model --seed 1");
    note_add(&nt, R_PLAIN, "), ");
    note_add(&nt, R_BOLD, "so every accuracy here is at chance level by construction");
    note_add(&nt, R_PLAIN,
             ": it shows that loading, prompting and scoring work end to end, not what any method can "
             "do. ");
    note_add(&nt, R_BOLD, "The latency breakdown and the speed-ups are real measurements");
    note_add(&nt, R_PLAIN,
             " of the real code path on this machine, but of toy-sized models: the real structure "
             "(224-px "
             "frames in 14-px patches, 257 tokens per frame, 32 query tokens, 32 candidate frames, 8 "
             "for VLAP on How2QA; Q-Former cross-attention every second layer; gated-GELU T5 with "
             "relative positions) at 2 layers and width 64 (%.2f M parameters for uniform BLIP-2, %.2f M "
             "for SeViLA, %.2f M for VLAP at 4 frames, against about 4.1 B for the real BLIP-2 "
             "Flan-T5-XL), so the ViT and T5 stages weigh far less here than with EVA ViT-g and "
             "Flan-T5-XL.",
             (double)pu / 1e6, (double)ps / 1e6, (double)pv / 1e6);
    note_add(&nt, R_PARA, "\n");
    note_add(&nt, R_PLAIN, "Data: ");
    note_add(&nt, R_CODE, "vlapbench synth");
    note_add(&nt, R_PLAIN,
             " videos (%d small H.264 clips whose frames show their own index; %d questions per video "
             "and dataset) with annotation files in the official formats of NExT-QA, STAR, VLEP and "
             "How2QA (VALUE release). Tokenizers, trained on the benchmark's own prompts: a "
             "SentencePiece unigram model (Debian's spm_train; %d ids with the <extra_id_N> tokens) "
             "and a WordPiece vocabulary (%d ids with [DEC]). For real numbers, run ",
             videos, questions, t5_vocab, bert_vocab);
    note_add(&nt, R_CODE, "vlapbench run");
    note_add(&nt, R_PLAIN, " on the real datasets with converted checkpoints (");
    note_add(&nt, R_CODE, "tools/convert-lavis");
    note_add(&nt, R_PLAIN, ").");
    note_add(&nt, R_PARA, "\n");
insert:;
    static const struct {
        const char *file, *after, *fallback;
        int         fmt;
    } F[3] = {{"report.md", "# ", NULL, 0},
              {"report.html", "</h1>", "<body", 1},
              {"report.tex", "\\section*{", "\\begin{document}", 2}};
    for (int i = 0; i < 3 && rc == VB_OK; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, F[i].file);
        rc = note_insert(p, &nt, F[i].fmt, F[i].after, F[i].fallback);
    }
    for (int32_t i = 0; i < nt.n; i++)
        free(nt.r[i].text);
    if (rc != VB_OK) {
        fprintf(stderr, "demo note: %s\n", vb_errmsg());
        return 1;
    }
    fprintf(stderr, "demo note: added to %s/report.{md,html,tex}\n", dir);
    return 0;
}

/* ---------------------------------------------------------------- command */

static int usage(void) {
    printf(
        "usage: vlapbench demo corpus --synth DIR --out CORPUS.txt [--repeat N]\n"
        "       vlapbench demo wordpiece --corpus CORPUS.txt --out vocab.txt [--size N]\n"
        "       vlapbench demo check-tokenizer --t5 tokenizer.json [--bert vocab.txt] [--corpus CORPUS.txt]\n"
        "       vlapbench demo note --dir REPORT_DIR --tokenizer-dir D --models D --videos N --questions Q\n"
        "                               [--trained MANIFEST]\n"
        "       vlapbench demo export --synth DIR --tokenizer-dir D --out PREFIX [--image-size 224]\n"
        "       vlapbench demo gate --dir REPORT_DIR --lines FILE --command TEXT --status N\n"
        "The helpers of `make demo` (scripts/demo.sh), which runs the whole benchmark offline on the synthetic\n"
        "benchmark with random-weight models whose tokenizers are built here, deterministically:\n"
        "  corpus           every QA and localizer prompt of the synthetic NExT-QA, STAR, VLEP and How2QA (VALUE)\n"
        "                   files under DIR (vlapbench synth); N times (default 8) the targets \"Option A\" ..\n"
        "                   \"Option E\", \"yes\" and \"no\"; the frame prefixes; and \"w w.\" for every word w (so\n"
        "                   that spm_train's unigram seeds hold whole words).  One line each.\n"
        "  wordpiece        a bert-base-uncased-style vocab.txt: [PAD] [unused0-98] [UNK] [CLS] [SEP] [MASK] at\n"
        "                   the BERT ids, every character and its ## continuation, then the corpus's words\n"
        "                   (normalised as BertTokenizer: lower case, accents dropped, punctuation split) by\n"
        "                   frequency, ties in byte order, up to N entries (default 2000)\n"
        "  check-tokenizer  encode(\"Option A\") .. (\"Option E\") end in the pieces \"▁A\" .. \"▁E\", \"yes\" and\n"
        "                   \"no\" are the single pieces \"▁yes\" and \"▁no\", and no corpus line has <unk> or [UNK];\n"
        "                   exits 1 otherwise\n"
        "  note             inserts the \"About this demo\" paragraph (random weights: accuracy at chance by\n"
        "                   construction; latencies are real measurements of toy-sized models) under the title of\n"
        "                   REPORT_DIR/report.md, report.html and report.tex (once); with --trained (the\n"
        "                   models/demo/manifest.json of tools/train-demo) the paragraph of the trained demo models:\n"
        "                   what was trained on what, what the numbers show and what they do not\n"
        "  export           the exact method inputs of every sample of DIR for tools/train-demo: PREFIX.jsonl (a\n"
        "                   constants line, then per sample: candidate / uniform frame indices as the runner samples\n"
        "                   them, T5 / BERT prompt ids as the methods build them, frame record numbers) and\n"
        "                   PREFIX.frames (each distinct decoded frame once: RGB24, image size squared, bilinear)\n"
        "  gate             puts the regression gate (the lines of FILE: what `vlapbench compare` printed for the\n"
        "                   VLAP runs against the stored baseline, run as TEXT, exit status N) into the report as a\n"
        "                   \"Regression gate\" section before the plots of report.md, report.html and report.tex\n");
    return 0;
}

int cmd_demo(int argc, char ** argv) {
    if (argc < 2 || vb_cli_wants_help(argc, argv)) {
        usage();
        return argc < 2 ? 2 : 0;
    }
    const char * sub = argv[1];
    if (!strcmp(sub, "corpus")) return demo_corpus(argc, argv);
    if (!strcmp(sub, "wordpiece")) return demo_wordpiece(argc, argv);
    if (!strcmp(sub, "check-tokenizer")) return demo_check_tokenizer(argc, argv);
    if (!strcmp(sub, "note")) return demo_note(argc, argv);
    if (!strcmp(sub, "export")) return cmd_demo_export(argc, argv);
    if (!strcmp(sub, "gate")) return cmd_demo_gate(argc, argv);
    fprintf(stderr, "demo: unknown subcommand '%s' (see --help)\n", sub);
    return 2;
}
