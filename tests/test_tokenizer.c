/* test_tokenizer.c — unit tests of the T5 (fast tokenizer.json) and BERT (vocab.txt) tokenizers: the ids of
** methods.md §2.5, truncation, decode, piece lookup, load time, and malformed files giving errors instead of
** crashes. The tokenizer files are the real ones committed in models/tokenizers/ (flan-t5, bert-base-uncased; a missing
** file is a failure). The exhaustive comparison with the golden case files (which quote dataset text and stay in
** ../shared) is the conformance test tests/test_conf_tokenize_cli.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs <setjmp.h>, <stdarg.h>, <stddef.h> and <stdint.h> first */
#include <cmocka.h>

#include "base/common.h"
#include "engine/spm_convert.h"
#include "engine/tokenizer_bert.h"
#include "engine/tokenizer_t5.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int64_t cpu_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static char                g_t5_path[1024], g_bert_path[1024], g_spm_path[1024];
static struct vb_t5tok *   g_t5;
static struct vb_berttok * g_bert;

#define SP "\xe2\x96\x81" /* U+2581 '▁' */

static void expect_ids(const int32_t * got, int32_t n, const int32_t * want, int32_t nw) {
    if (n != nw) {
        for (int32_t i = 0; i < n; i++)
            fprintf(stderr, "%d ", got[i]);
        fprintf(stderr, "\n");
    }
    assert_int_equal(n, nw);
    for (int32_t i = 0; i < nw; i++)
        assert_int_equal(got[i], want[i]);
}

static void t5_expect(const char * text, int add_eos, const int32_t * want, int32_t nw) {
    int32_t *ids, n;
    assert_int_equal(vb_t5tok_encode(g_t5, text, add_eos, 0, &ids, &n), VB_OK);
    expect_ids(ids, n, want, nw);
    free(ids);
}

static void test_t5_frame_prefixes(void ** st) {
    (void)st;
    t5_expect("Frame: ", 0, (const int32_t[]){16015, 10, 3}, 3); /* trailing space -> lone "▁" (id 3) */
    t5_expect("Frame: ", 1, (const int32_t[]){16015, 10, 3, 1}, 4);
    t5_expect("Frame:", 1, (const int32_t[]){16015, 10, 1}, 3);
    t5_expect("Frame 1: ", 0, (const int32_t[]){16015, 209, 10, 3}, 4);
    t5_expect("Frame 2: ", 0, (const int32_t[]){16015, 204, 10, 3}, 4);
    t5_expect("Frame 3: ", 0, (const int32_t[]){16015, 220, 10, 3}, 4);
    t5_expect("Frame 4: ", 0, (const int32_t[]){16015, 314, 10, 3}, 4);
    t5_expect("", 1, (const int32_t[]){1}, 1);
    t5_expect(" ", 1, (const int32_t[]){3, 1}, 2);
}

static void test_t5_letters_and_pieces(void ** st) {
    (void)st;
    static const char * const letters[5] = {SP "A", SP "B", SP "C", SP "D", SP "E"};
    static const int32_t      ids[5] = {71, 272, 205, 309, 262};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(vb_t5tok_piece_id(g_t5, letters[i]), ids[i]);
        assert_true(vb_t5tok_has_piece(g_t5, letters[i]));
        char one[2] = {(char)('A' + i), 0};
        t5_expect(one, 0, &ids[i], 1);
        assert_string_equal(vb_t5tok_id_to_piece(g_t5, ids[i]), letters[i]);
    }
    assert_int_equal(vb_t5tok_piece_id(g_t5, SP "yes"), 4273);
    assert_int_equal(vb_t5tok_piece_id(g_t5, SP "no"), 150);
    assert_int_equal(vb_t5tok_piece_id(g_t5, SP "Option"), 10231);
    assert_int_equal(vb_t5tok_piece_id(g_t5, "</s>"), 1);
    assert_int_equal(vb_t5tok_piece_id(g_t5, "<extra_id_0>"), 32099);
    assert_int_equal(vb_t5tok_piece_id(g_t5, "no such piece"), -1);
    assert_false(vb_t5tok_has_piece(g_t5, SP "yes" SP "yes"));
    assert_null(vb_t5tok_id_to_piece(g_t5, 32100));
    assert_null(vb_t5tok_id_to_piece(g_t5, -1));
    assert_int_equal(vb_t5tok_vocab_size(g_t5), 32100);
    assert_int_equal(vb_t5tok_eos_id(g_t5), 1);
}

static void test_t5_special_text(void ** st) {
    (void)st;
    /* added tokens are split out of the raw text; each segment gets its own '▁' prefix */
    t5_expect("a<extra_id_0>b", 1, (const int32_t[]){3, 9, 32099, 3, 115, 1}, 6);
    t5_expect("</s>", 1, (const int32_t[]){1, 1}, 2);
    t5_expect("text </s> more", 1, (const int32_t[]){1499, 3, 1, 72, 1}, 5);
}

static void test_t5_truncation(void ** st) {
    (void)st;
    char text[1200] = "";
    for (int i = 0; i < 100; i++)
        strcat(text, "word ");
    int32_t *full, nf, *tr, nt;
    assert_int_equal(vb_t5tok_encode(g_t5, text, 1, 0, &full, &nf), VB_OK);
    assert_true(nf > 77);
    assert_int_equal(full[nf - 1], 1);
    /* max_length 77: the first 76 pieces, then </s> */
    assert_int_equal(vb_t5tok_encode(g_t5, text, 1, 77, &tr, &nt), VB_OK);
    assert_int_equal(nt, 77);
    for (int i = 0; i < 76; i++)
        assert_int_equal(tr[i], full[i]);
    assert_int_equal(tr[76], 1);
    free(tr);
    /* left: the last 76 pieces, then </s> */
    assert_int_equal(vb_t5tok_encode_ex(g_t5, text, strlen(text), 1, 77, 1, &tr, &nt), VB_OK);
    assert_int_equal(nt, 77);
    for (int i = 0; i < 76; i++)
        assert_int_equal(tr[i], full[nf - 77 + i]);
    assert_int_equal(tr[76], 1);
    free(tr);
    /* short text is not padded or changed */
    assert_int_equal(vb_t5tok_encode(g_t5, "Frame: ", 1, 77, &tr, &nt), VB_OK);
    expect_ids(tr, nt, (const int32_t[]){16015, 10, 3, 1}, 4);
    free(tr);
    /* max_length 1 leaves only </s>; without special tokens it keeps one piece */
    assert_int_equal(vb_t5tok_encode(g_t5, text, 1, 1, &tr, &nt), VB_OK);
    expect_ids(tr, nt, (const int32_t[]){1}, 1);
    free(tr);
    assert_int_equal(vb_t5tok_encode(g_t5, text, 0, 1, &tr, &nt), VB_OK);
    expect_ids(tr, nt, full, 1);
    free(tr);
    free(full);
}

static void test_t5_decode(void ** st) {
    (void)st;
    const char * q = "Question: why did the boy pick up the ball? Answer:";
    int32_t *    ids, n;
    assert_int_equal(vb_t5tok_encode(g_t5, q, 1, 0, &ids, &n), VB_OK);
    char * s;
    assert_int_equal(vb_t5tok_decode(g_t5, ids, n, 0, &s), VB_OK);
    assert_string_equal(s, q);
    free(s);
    assert_int_equal(vb_t5tok_decode(g_t5, ids, n, VB_T5TOK_DECODE_KEEP_SPECIAL, &s), VB_OK);
    assert_string_equal(s, "Question: why did the boy pick up the ball? Answer:</s>");
    free(s);
    free(ids);
    assert_int_equal(vb_t5tok_decode(g_t5, (const int32_t[]){0, 32099, 1}, 3, VB_T5TOK_DECODE_KEEP_SPECIAL, &s), VB_OK);
    assert_string_equal(s, "<pad> <extra_id_0> </s>");
    free(s);
    assert_int_equal(vb_t5tok_decode(g_t5, (const int32_t[]){0, 0, 0, 8, 1, 0}, 6, 0, &s), VB_OK);
    assert_string_equal(s, "the");
    free(s);
    assert_int_equal(vb_t5tok_decode(g_t5, NULL, 0, 0, &s), VB_OK);
    assert_string_equal(s, "");
    free(s);
    assert_int_equal(vb_t5tok_decode(g_t5, (const int32_t[]){8, 32100}, 2, 0, &s), VB_ERR_ARG);
    assert_null(s);
    assert_int_equal(vb_t5tok_decode(g_t5, (const int32_t[]){-1}, 1, 0, &s), VB_ERR_ARG);
}

static void test_t5_bad_text(void ** st) {
    (void)st;
    int32_t *ids = (int32_t *)&ids, n = 5;
    assert_int_equal(vb_t5tok_encode(g_t5, "bad \xff utf8", 1, 0, &ids, &n), VB_ERR_ARG);
    assert_null(ids);
    assert_int_equal(n, 0);
    assert_int_equal(vb_t5tok_encode(g_t5, "\xed\xa0\x80", 1, 0, &ids, &n), VB_ERR_ARG); /* surrogate */
    assert_int_equal(vb_t5tok_encode(g_t5, "x", 1, -3, &ids, &n), VB_ERR_ARG);
    /* characters outside the vocabulary become one fused <unk> */
    t5_expect("\xe4\xb8\xad\xe6\x96\x87", 1, (const int32_t[]){3, 2, 1}, 3); /* 中文 */
}

static void test_t5_load_time(void ** st) {
    (void)st;
    /* thread CPU time, best of 3: the machine is shared with parallel builds, wall time is not stable */
    int64_t dt = INT64_MAX, t0, w0 = vb_time_us();
    for (int r = 0; r < 3; r++) {
        t0 = cpu_us();
        struct vb_t5tok * t = NULL;
        assert_int_equal(vb_t5tok_load(&t, g_t5_path), VB_OK);
        dt = VB_MIN(dt, cpu_us() - t0);
        vb_t5tok_free(t);
    }
    fprintf(stderr, "t5 tokenizer.json load (best of 3, CPU): %.1f ms (wall for 3 loads: %.1f ms)\n",
            (double)dt / 1000.0, (double)(vb_time_us() - w0) / 1000.0);
    if (!getenv("VB_SANITIZED")) assert_true(dt < 100000);
    /* encode speed: the 300-char QA prompt */
    const char * q = "Question: why did the boy pick up the ball? Option A: to throw it. Option B: to hide it. Option "
                     "C: to give it to the dog. Option D: to clean it. Option E: to put it in the box. Considering the "
                     "information presented in the frame, select the correct answer from the options.";
    t0 = cpu_us();
    for (int i = 0; i < 200; i++) {
        int32_t *ids, n;
        assert_int_equal(vb_t5tok_encode(g_t5, q, 1, 77, &ids, &n), VB_OK);
        assert_int_equal(n, 70);
        free(ids);
    }
    dt = cpu_us() - t0;
    fprintf(stderr, "t5 encode of a 70-id prompt (CPU): %.1f us\n", (double)dt / 200.0);
    if (!getenv("VB_SANITIZED")) assert_true(dt / 200 < 2000);
}

static int load_mem_status(const char * json) {
    struct vb_t5tok * t = (struct vb_t5tok *)&t;
    int               st = vb_t5tok_load_mem(&t, json, strlen(json), "test.json");
    assert_null(t);
    return st;
}

#define MODEL_OK                                                                                                       \
    "\"model\":{\"type\":\"Unigram\",\"unk_id\":2,\"vocab\":[[\"<pad>\",0],[\"</s>\",0],[\"<unk>\",0],"                \
    "[\"" SP "\",-2],[\"a\",-3]]}"
#define PRE_OK "\"pre_tokenizer\":{\"type\":\"Metaspace\",\"replacement\":\"" SP "\",\"add_prefix_space\":true}"

static void test_t5_malformed_json(void ** st) {
    (void)st;
    assert_int_equal(load_mem_status(""), VB_ERR_FORMAT);
    assert_int_equal(load_mem_status("{"), VB_ERR_FORMAT);
    assert_int_equal(load_mem_status("[]"), VB_ERR_FORMAT);
    assert_int_equal(load_mem_status("{\"model\":{\"type\":\"BPE\"}}"), VB_ERR_UNSUPPORTED);
    assert_int_equal(load_mem_status("{\"model\":{\"type\":\"Unigram\",\"vocab\":[]}}"), VB_ERR_FORMAT);
    assert_int_equal(load_mem_status("{\"model\":{\"type\":\"Unigram\",\"vocab\":[[\"a\"]]}," PRE_OK "}"),
                     VB_ERR_FORMAT);
    assert_int_equal(load_mem_status("{\"model\":{\"type\":\"Unigram\",\"vocab\":[[1,2]]}," PRE_OK "}"), VB_ERR_FORMAT);
    assert_int_equal(
        load_mem_status("{\"model\":{\"type\":\"Unigram\",\"unk_id\":7,\"vocab\":[[\"a\",0]]}," PRE_OK "}"),
        VB_ERR_FORMAT);
    assert_int_equal(load_mem_status("{" MODEL_OK "}"), VB_ERR_UNSUPPORTED); /* no pre-tokenizer */
    assert_int_equal(load_mem_status("{" MODEL_OK ",\"added_tokens\":[{\"id\":\"x\"}]," PRE_OK "}"), VB_ERR_FORMAT);
    assert_int_equal(load_mem_status("{" MODEL_OK ",\"added_tokens\":[{\"id\":99,\"content\":\"<x>\"}]," PRE_OK "}"),
                     VB_ERR_FORMAT); /* ids 5..98 would have no text */
    assert_int_equal(load_mem_status("{" MODEL_OK "," PRE_OK ",\"normalizer\":{\"type\":\"Precompiled\","
                                     "\"precompiled_charsmap\":\"!!!\"}}"),
                     VB_ERR_FORMAT);
    assert_int_equal(load_mem_status("{" MODEL_OK "," PRE_OK ",\"normalizer\":{\"type\":\"Precompiled\","
                                     "\"precompiled_charsmap\":\"/////wAAAAA=\"}}"),
                     VB_ERR_FORMAT); /* trie size larger than the blob */
    assert_int_equal(load_mem_status("{" MODEL_OK "," PRE_OK ",\"normalizer\":{\"type\":\"NFKC\"}}"),
                     VB_ERR_UNSUPPORTED);
    assert_int_equal(load_mem_status("{" MODEL_OK "," PRE_OK ",\"post_processor\":{\"type\":\"TemplateProcessing\","
                                     "\"single\":[{\"SpecialToken\":{\"id\":\"<nope>\"}}]}}"),
                     VB_ERR_FORMAT);
    struct vb_t5tok * t = NULL;
    assert_int_equal(vb_t5tok_load(&t, "/nonexistent/tokenizer.json"), VB_ERR_IO);
    assert_null(t);
    /* a minimal valid file works; a garbage charsmap trie must not crash the lookup */
    const char * ok = "{" MODEL_OK "," PRE_OK ",\"normalizer\":{\"type\":\"Precompiled\","
                      "\"precompiled_charsmap\":\"CAAAAP//////////YQA=\"}}";
    assert_int_equal(vb_t5tok_load_mem(&t, ok, strlen(ok), "test.json"), VB_OK);
    int32_t *ids, n;
    assert_int_equal(vb_t5tok_encode(t, "a aa\xc3\xa9 a", 0, 0, &ids, &n), VB_OK);
    assert_true(n > 0);
    free(ids);
    vb_t5tok_free(t);
}

static void test_t5_truncated_real_file(void ** st) {
    (void)st;
    /* the real file cut at several points: always an error, never a crash */
    char * buf;
    size_t len;
    assert_int_equal(vb_read_file(g_t5_path, &buf, &len), VB_OK);
    const size_t cuts[] = {1, 100, 1000, 200000, len / 2, len - 2};
    for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
        struct vb_t5tok * t = NULL;
        assert_int_equal(vb_t5tok_load_mem(&t, buf, cuts[k], "cut.json"), VB_ERR_FORMAT);
        assert_null(t);
        assert_non_null(strstr(vb_errmsg(), "cut.json"));
    }
    free(buf);
}

static void test_t5_from_spm(void ** st) {
    (void)st;
    char out[] = "/tmp/vb_test_t5_spm_XXXXXX";
    int  fd = mkstemp(out);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(vb_t5tok_write_json_from_spm(g_spm_path, out, 100), VB_OK);
    struct vb_t5tok * t = NULL;
    assert_int_equal(vb_t5tok_load(&t, out), VB_OK);
    assert_int_equal(vb_t5tok_vocab_size(t), 32100);
    assert_int_equal(vb_t5tok_piece_id(t, SP "yes"), 4273);
    assert_int_equal(vb_t5tok_piece_id(t, "<extra_id_0>"), 32099);
    int32_t *ids, n;
    assert_int_equal(vb_t5tok_encode(t, "Frame: ", 1, 0, &ids, &n), VB_OK);
    expect_ids(ids, n, (const int32_t[]){16015, 10, 3, 1}, 4);
    free(ids);
    vb_t5tok_free(t);
    /* direct load from spiece.model gives the same ids */
    assert_int_equal(vb_t5tok_load_spm(&t, g_spm_path, 100), VB_OK);
    assert_int_equal(vb_t5tok_encode(t, "Question: why did the boy pick up the ball? Answer:", 1, 0, &ids, &n), VB_OK);
    expect_ids(ids, n, (const int32_t[]){11860, 10, 572, 410, 8, 4940, 1432, 95, 8, 1996, 58, 11801, 10, 1}, 14);
    free(ids);
    vb_t5tok_free(t);
    assert_int_equal(vb_t5tok_load_spm(&t, g_bert_path, 100), VB_ERR_FORMAT);
    assert_null(t);
    /* not a protobuf ModelProto */
    assert_int_equal(vb_t5tok_write_json_from_spm(g_bert_path, out, 100), VB_ERR_FORMAT);
    assert_int_equal(vb_t5tok_write_json_from_spm("/nonexistent/spiece.model", out, 100), VB_ERR_IO);
    unlink(out);
}

static void bert_expect(const char * text, int max_length, int left, const int32_t * want, int32_t nw) {
    int32_t *ids, n;
    assert_int_equal(vb_berttok_encode(g_bert, text, strlen(text), 1, max_length, left, &ids, &n), VB_OK);
    expect_ids(ids, n, want, nw);
    free(ids);
}

static void test_bert_basic(void ** st) {
    (void)st;
    assert_int_equal(vb_berttok_vocab_size(g_bert), 30523);
    assert_int_equal(vb_berttok_token_id(g_bert, "[DEC]"), 30522);
    assert_int_equal(vb_berttok_token_id(g_bert, "[CLS]"), 101);
    assert_int_equal(vb_berttok_token_id(g_bert, "!"), 999);
    assert_int_equal(vb_berttok_token_id(g_bert, "##～"), 30521);
    bert_expect("hello [SEP] world", 0, 0, (const int32_t[]){101, 7592, 102, 2088, 102}, 5);
    bert_expect("", 0, 0, (const int32_t[]){101, 102}, 2);
    bert_expect("a[DEC]b", 0, 0, (const int32_t[]){101, 1037, 30522, 1038, 102}, 5);
    /* NUL dropped, zero-width space glues its neighbours, accents stripped */
    int32_t *a, na, *b, nb;
    assert_int_equal(vb_berttok_encode(g_bert, "null\0byte", 9, 1, 0, 0, &a, &na), VB_OK);
    assert_int_equal(vb_berttok_encode(g_bert, "nullbyte", 8, 1, 0, 0, &b, &nb), VB_OK);
    expect_ids(a, na, b, nb);
    free(a);
    free(b);
    assert_int_equal(vb_berttok_encode(g_bert, "R\xc3\xa9sum\xc3\xa9", 8, 1, 0, 0, &a, &na), VB_OK);
    assert_int_equal(vb_berttok_encode(g_bert, "resume", 6, 1, 0, 0, &b, &nb), VB_OK);
    expect_ids(a, na, b, nb);
    free(a);
    free(b);
    /* a word of 101 characters is [UNK] */
    char w[102];
    memset(w, 'x', 101);
    w[101] = 0;
    bert_expect(w, 0, 0, (const int32_t[]){101, 100, 102}, 3);
    int32_t *ids = (int32_t *)&ids, n = 3;
    assert_int_equal(vb_berttok_encode(g_bert, "\xc3", 1, 1, 0, 0, &ids, &n), VB_ERR_ARG);
    assert_null(ids);
    assert_int_equal(vb_berttok_encode(g_bert, "x", 1, 1, 1, 0, &ids, &n), VB_ERR_ARG);
}

static void test_bert_truncation(void ** st) {
    (void)st;
    char text[1000] = "";
    for (int i = 0; i < 200; i++)
        strcat(text, i % 2 ? "b " : "a ");
    int32_t *ids, n;
    assert_int_equal(vb_berttok_encode(g_bert, text, strlen(text), 1, 128, 1, &ids, &n), VB_OK);
    assert_int_equal(n, 128);
    assert_int_equal(ids[0], 101);
    assert_int_equal(ids[127], 102);
    assert_int_equal(ids[126], 1038); /* the last piece "b" kept (left truncation) */
    assert_int_equal(ids[1], 1037);   /* piece 74 of 200 is "a" */
    free(ids);
    assert_int_equal(vb_berttok_encode(g_bert, text, strlen(text), 1, 128, 0, &ids, &n), VB_OK);
    assert_int_equal(n, 128);
    assert_int_equal(ids[1], 1037);
    assert_int_equal(ids[126], 1038);
    assert_int_equal(ids[127], 102);
    free(ids);
}

static void test_bert_malformed_vocab(void ** st) {
    (void)st;
    char p[] = "/tmp/vb_test_vocab_XXXXXX";
    int  fd = mkstemp(p);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "[PAD]\nhello\n", 12), 12);
    close(fd);
    struct vb_berttok * t = (struct vb_berttok *)&t;
    assert_int_equal(vb_berttok_load(&t, p), VB_ERR_FORMAT); /* no [UNK]/[CLS]/[SEP] */
    assert_null(t);
    fd = open(p, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "[UNK]\n[CLS]\n[SEP]\n\xff\xfe\n", 22), 22);
    close(fd);
    assert_int_equal(vb_berttok_load(&t, p), VB_ERR_FORMAT); /* invalid UTF-8, line 4 */
    assert_non_null(strstr(vb_errmsg(), ":4:"));
    unlink(p);
    assert_int_equal(vb_berttok_load(&t, "/nonexistent/vocab.txt"), VB_ERR_IO);
}

int main(void) {
    const char * root = getenv("VB_ROOT");
    if (!root) root = ".";
    snprintf(g_t5_path, sizeof g_t5_path, "%s/models/tokenizers/flan-t5/tokenizer.json", root);
    snprintf(g_spm_path, sizeof g_spm_path, "%s/models/tokenizers/flan-t5/spiece.model", root);
    snprintf(g_bert_path, sizeof g_bert_path, "%s/models/tokenizers/bert-base-uncased/vocab.txt", root);
    if (access(g_t5_path, R_OK) || access(g_bert_path, R_OK) || access(g_spm_path, R_OK)) {
        printf("FAIL: the committed tokenizer files are not under %s/models/tokenizers (run from the repository root "
               "or set VB_ROOT)\n",
               root);
        return 1;
    }
    if (vb_t5tok_load(&g_t5, g_t5_path) || vb_berttok_load(&g_bert, g_bert_path)) {
        fprintf(stderr, "load: %s\n", vb_errmsg());
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_t5_frame_prefixes),
        cmocka_unit_test(test_t5_letters_and_pieces),
        cmocka_unit_test(test_t5_special_text),
        cmocka_unit_test(test_t5_truncation),
        cmocka_unit_test(test_t5_decode),
        cmocka_unit_test(test_t5_bad_text),
        cmocka_unit_test(test_t5_load_time),
        cmocka_unit_test(test_t5_malformed_json),
        cmocka_unit_test(test_t5_truncated_real_file),
        cmocka_unit_test(test_t5_from_spm),
        cmocka_unit_test(test_bert_basic),
        cmocka_unit_test(test_bert_truncation),
        cmocka_unit_test(test_bert_malformed_vocab),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    vb_t5tok_free(g_t5);
    vb_berttok_free(g_bert);
    return rc;
}
