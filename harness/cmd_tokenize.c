/* cmd_tokenize.c — `vlapbench tokenize`: T5 / BERT tokenization of JSON-lines strings read from stdin. */
#include "harness/cli.h"

#include "base/common.h"
#include "engine/spm_convert.h"
#include "engine/tokenizer_bert.h"
#include "engine/tokenizer_t5.h"
#include "engine/unicode_text.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE * f) {
    fprintf(f,
            "usage: vlapbench tokenize (--t5 TOKENIZER_JSON | --bert VOCAB_TXT) [--max-length N]\n"
            "                          [--truncate left|right] [--no-special]\n"
            "                          [--decode [--keep-special] [--no-cleanup]]\n"
            "Reads JSON Lines from stdin, each line one JSON string, and prints per line the token ids separated by\n"
            "single spaces.\n"
            "  --t5 PATH        Hugging Face fast T5 tokenizer (tokenizer.json): appends </s> (id 1)\n"
            "  --bert PATH      bert-base-uncased WordPiece (vocab.txt, slow BertTokenizer, [DEC] = 30522 added):\n"
            "                   [CLS] ... [SEP]\n"
            "  --max-length N   truncate to N ids including the special tokens (default: no truncation)\n"
            "  --truncate SIDE  right (default: keep the first pieces) or left (keep the last pieces)\n"
            "  --no-special     do not add </s> / [CLS] [SEP] (add_special_tokens=False)\n"
            "  --decode         T5 only: each line is space-separated ids; prints the text as one JSON string\n"
            "                   (as T5Tokenizer.decode(ids, skip_special_tokens=True), cleanup of spaces on)\n"
            "  --keep-special   with --decode: keep <pad> </s> <unk> <extra_id_N>\n"
            "  --no-cleanup     with --decode: clean_up_tokenization_spaces=False\n"
            "A malformed input line prints \"stdin:LINE: reason\" on stderr and exits 1.\n"
            "\n"
            "usage: vlapbench tokenize --spm-to-json SPIECE_MODEL --out TOKENIZER_JSON [--extra-ids N]\n"
            "Converts a sentencepiece unigram model (e.g. from spm_train) into a tokenizer.json in the layout of the\n"
            "Flan-T5 one (Precompiled + Replace normalizer, Metaspace, $A </s>), with N <extra_id_*> tokens appended\n"
            "(default 100, as T5).\n");
}

/* Decode a JSON string literal (the whole line, surrounding JSON whitespace allowed) into bytes with length, so
** that \u0000 survives. Returns 0 or -1 with *why set. */
static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int read_u4(const char * s, size_t n, size_t i, int32_t * v) {
    if (i + 4 > n) return -1;
    int32_t x = 0;
    for (int k = 0; k < 4; k++) {
        int h = hexval((unsigned char)s[i + (size_t)k]);
        if (h < 0) return -1;
        x = x * 16 + h;
    }
    *v = x;
    return 0;
}

static int json_string_bytes(const char * s, size_t n, struct vb_unicode_buf * out, const char ** why) {
    size_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
        i++;
    if (i >= n || s[i] != '"') {
        *why = "expected a JSON string";
        return -1;
    }
    i++;
    vb_unicode_buf_add(out, "", 0);
    for (;;) {
        if (i >= n) {
            *why = "unterminated JSON string";
            return -1;
        }
        unsigned char c = (unsigned char)s[i];
        if (c == '"') {
            i++;
            break;
        }
        if (c < 0x20) {
            *why = "control character inside a JSON string";
            return -1;
        }
        if (c != '\\') {
            int32_t cp;
            int     k = vb_unicode_utf8_decode(s + i, n - i, &cp);
            if (!k) {
                *why = "invalid UTF-8";
                return -1;
            }
            vb_unicode_buf_add(out, s + i, (size_t)k);
            i += (size_t)k;
            continue;
        }
        if (i + 1 >= n) {
            *why = "truncated escape";
            return -1;
        }
        char e = s[i + 1];
        i += 2;
        switch (e) {
        case '"':
            vb_unicode_buf_add(out, "\"", 1);
            break;
        case '\\':
            vb_unicode_buf_add(out, "\\", 1);
            break;
        case '/':
            vb_unicode_buf_add(out, "/", 1);
            break;
        case 'b':
            vb_unicode_buf_add(out, "\b", 1);
            break;
        case 'f':
            vb_unicode_buf_add(out, "\f", 1);
            break;
        case 'n':
            vb_unicode_buf_add(out, "\n", 1);
            break;
        case 'r':
            vb_unicode_buf_add(out, "\r", 1);
            break;
        case 't':
            vb_unicode_buf_add(out, "\t", 1);
            break;
        case 'u': {
            int32_t v;
            if (read_u4(s, n, i, &v)) {
                *why = "bad \\u escape";
                return -1;
            }
            i += 4;
            if (v >= 0xD800 && v <= 0xDBFF) {
                int32_t lo;
                if (i + 6 > n || s[i] != '\\' || s[i + 1] != 'u' || read_u4(s, n, i + 2, &lo) || lo < 0xDC00 ||
                    lo > 0xDFFF) {
                    *why = "unpaired surrogate in \\u escape";
                    return -1;
                }
                i += 6;
                v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
            } else if (v >= 0xDC00 && v <= 0xDFFF) {
                *why = "unpaired surrogate in \\u escape";
                return -1;
            }
            if (v == 0)
                vb_unicode_buf_add(out, "", 1); /* keep the NUL byte */
            else
                vb_unicode_buf_add_cp(out, v);
            break;
        }
        default:
            *why = "unknown escape";
            return -1;
        }
    }
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
        i++;
    if (i != n) {
        *why = "trailing characters after the JSON string";
        return -1;
    }
    return 0;
}

static void print_ids(const int32_t * ids, int32_t n) {
    for (int32_t k = 0; k < n; k++)
        printf(k ? " %d" : "%d", ids[k]);
    putchar('\n');
}

int cmd_tokenize(int argc, char ** argv) {
    if (vb_cli_wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    const char *t5_path = NULL, *bert_path = NULL, *spm_path = NULL, *out_path = NULL, *v;
    int         extra_ids = 100;
    int         max_length = 0, left = 0, special = 1, decode = 0, keep_special = 0, cleanup = 1;
    for (int i = 1; i < argc; i++) {
        if (vb_cli_opt(argc, argv, &i, "--t5", &v))
            t5_path = v;
        else if (vb_cli_opt(argc, argv, &i, "--bert", &v))
            bert_path = v;
        else if (vb_cli_opt(argc, argv, &i, "--max-length", &v)) {
            char * end;
            errno = 0;
            long x = strtol(v, &end, 10);
            if (*v == 0 || *end || errno || x < 1 || x > 1000000) {
                fprintf(stderr, "tokenize: --max-length must be a positive integer, got '%s'\n", v);
                return 2;
            }
            max_length = (int)x;
        } else if (vb_cli_opt(argc, argv, &i, "--truncate", &v)) {
            if (!strcmp(v, "left"))
                left = 1;
            else if (!strcmp(v, "right"))
                left = 0;
            else {
                fprintf(stderr, "tokenize: --truncate must be left or right, got '%s'\n", v);
                return 2;
            }
        } else if (vb_cli_opt(argc, argv, &i, "--spm-to-json", &v))
            spm_path = v;
        else if (vb_cli_opt(argc, argv, &i, "--out", &v))
            out_path = v;
        else if (vb_cli_opt(argc, argv, &i, "--extra-ids", &v)) {
            char * end;
            long   x = strtol(v, &end, 10);
            if (*v == 0 || *end || x < 0 || x > 100000) {
                fprintf(stderr, "tokenize: --extra-ids must be an integer 0..100000, got '%s'\n", v);
                return 2;
            }
            extra_ids = (int)x;
        } else if (!strcmp(argv[i], "--no-special"))
            special = 0;
        else if (!strcmp(argv[i], "--decode"))
            decode = 1;
        else if (!strcmp(argv[i], "--keep-special"))
            keep_special = 1;
        else if (!strcmp(argv[i], "--no-cleanup"))
            cleanup = 0;
        else {
            fprintf(stderr, "tokenize: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (spm_path) {
        if (!out_path || t5_path || bert_path) {
            fprintf(stderr, "tokenize: --spm-to-json needs --out and no --t5 / --bert\n");
            return 2;
        }
        int st = vb_t5tok_write_json_from_spm(spm_path, out_path, extra_ids);
        if (st) {
            fprintf(stderr, "tokenize: %s\n", vb_errmsg());
            return 1;
        }
        return 0;
    }
    if ((t5_path != NULL) == (bert_path != NULL)) {
        fprintf(stderr, "tokenize: give exactly one of --t5 PATH or --bert PATH\n");
        usage(stderr);
        return 2;
    }
    if (decode && !t5_path) {
        fprintf(stderr, "tokenize: --decode is implemented for --t5 only\n");
        return 2;
    }
    struct vb_t5tok *   t5 = NULL;
    struct vb_berttok * bert = NULL;
    int                 st = t5_path ? vb_t5tok_load(&t5, t5_path) : vb_berttok_load(&bert, bert_path);
    if (st) {
        fprintf(stderr, "tokenize: %s\n", vb_errmsg());
        return 1;
    }
    char *  line = NULL;
    size_t  cap = 0;
    ssize_t got;
    long    lineno = 0;
    int     rc = 0;
    while ((got = getline(&line, &cap, stdin)) >= 0) {
        lineno++;
        size_t n = (size_t)got;
        if (n && line[n - 1] == '\n') n--;
        if (decode) {
            int32_t *   ids = NULL;
            int32_t     nid = 0, capid = 0;
            const char *p = line, *end = line + n;
            int         bad = 0;
            while (p < end) {
                while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
                    p++;
                if (p >= end) break;
                char * q;
                errno = 0;
                long x = strtol(p, &q, 10);
                if (q == p || q > end || errno || x < -2147483647L || x > 2147483647L ||
                    (q < end && *q != ' ' && *q != '\t' && *q != '\r')) {
                    bad = 1;
                    break;
                }
                if (nid == capid) {
                    capid = capid ? capid * 2 : 64;
                    ids = vb_realloc(ids, (size_t)capid * sizeof *ids);
                }
                ids[nid++] = (int32_t)x;
                p = q;
            }
            if (bad) {
                fprintf(stderr, "stdin:%ld: expected space-separated integer ids\n", lineno);
                free(ids);
                rc = 1;
                break;
            }
            char *   text = NULL;
            unsigned fl = keep_special ? VB_T5TOK_DECODE_KEEP_SPECIAL : 0;
            if (!cleanup) fl |= VB_T5TOK_DECODE_NO_CLEANUP;
            st = vb_t5tok_decode(t5, ids, nid, fl, &text);
            free(ids);
            if (st) {
                fprintf(stderr, "stdin:%ld: %s\n", lineno, vb_errmsg());
                rc = 1;
                break;
            }
            cJSON * js = cJSON_CreateString(text);
            char *  outs = js ? cJSON_PrintUnformatted(js) : NULL;
            if (!outs) {
                fprintf(stderr, "stdin:%ld: cannot format the decoded text as JSON\n", lineno);
                rc = 1;
            } else {
                printf("%s\n", outs);
            }
            free(outs);
            cJSON_Delete(js);
            free(text);
            if (rc) break;
            continue;
        }
        /* validate as JSON with cJSON (must be a string), then decode the bytes ourselves so \u0000 survives */
        cJSON * js = cJSON_ParseWithLength(line, n);
        int     is_str = js && cJSON_IsString(js);
        cJSON_Delete(js);
        struct vb_unicode_buf text = {0};
        const char *          why = "not a JSON string";
        if (!is_str || json_string_bytes(line, n, &text, &why)) {
            fprintf(stderr, "stdin:%ld: %s\n", lineno, why);
            vb_unicode_buf_free(&text);
            rc = 1;
            break;
        }
        int32_t *ids = NULL, nid = 0;
        if (t5)
            st = vb_t5tok_encode_ex(t5, text.p, text.n, special, max_length, left, &ids, &nid);
        else
            st = vb_berttok_encode(bert, text.p, text.n, special, max_length, left, &ids, &nid);
        vb_unicode_buf_free(&text);
        if (st) {
            fprintf(stderr, "stdin:%ld: %s\n", lineno, vb_errmsg());
            rc = 1;
            break;
        }
        print_ids(ids, nid);
        free(ids);
    }
    free(line);
    vb_t5tok_free(t5);
    vb_berttok_free(bert);
    if (fflush(stdout)) {
        fprintf(stderr, "tokenize: write error on stdout\n");
        rc = 1;
    }
    return rc;
}
