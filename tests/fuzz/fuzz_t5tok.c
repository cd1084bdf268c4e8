/* fuzz_t5tok.c — libFuzzer harness for the T5 fast tokenizer (engine/tokenizer_t5.c).  Byte 0 even: the rest is a
** tokenizer.json (vb_t5tok_load_mem); one that loads encodes and decodes a fixed text.  Byte 0 odd: the rest is text
** encoded (with and without </s>, truncated left and right) by the tokenizer named by $VB_FUZZ_T5TOK (the smoke test
** trains one; skipped when unset), and the ids decode again.  Nothing may crash; ids stay inside the vocabulary. */
#include "tests/fuzz/fuzz_common.h"

#include "engine/tokenizer_t5.h"

static void exercise(const struct vb_t5tok * tok, const char * text, size_t len, int max_len) {
    int32_t  n = 0, *ids = NULL;
    uint32_t v = (uint32_t)vb_t5tok_vocab_size(tok);
    for (int mode = 0; mode < 4; mode++) {
        if (vb_t5tok_encode_ex(tok, text, len, mode & 1, mode & 2 ? max_len : 0, mode >> 1, &ids, &n) == VB_OK) {
            for (int32_t i = 0; i < n; i++)
                if ((uint32_t)ids[i] >= v) abort();
            char * out = NULL;
            if (vb_t5tok_decode(tok, ids, n, (unsigned)mode & 3u, &out) != VB_OK) abort();
            free(out);
        }
        free(ids);
        ids = NULL;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    fuzz_quiet();
    if (size < 1) return 0;
    const char * txt = (const char *)data + 1;
    size_t       n = size - 1;
    if (!(data[0] & 1)) {
        struct vb_t5tok * tok = NULL;
        if (vb_t5tok_load_mem(&tok, txt, n, "fuzz.json") != VB_OK) return 0;
        static const char s[] = "Question: what does the dog do? Options: (A) run (B) sit. Answer:";
        exercise(tok, s, sizeof s - 1, 8);
        vb_t5tok_free(tok);
        return 0;
    }
    static struct vb_t5tok * fixed;
    static int               tried;
    if (!tried) {
        tried = 1;
        const char * p = getenv("VB_FUZZ_T5TOK");
        if (p && vb_t5tok_load(&fixed, p) != VB_OK) abort(); /* a named tokenizer must load */
    }
    if (fixed) exercise(fixed, txt, n, 1 + (int)(data[0] >> 1) % 40);
    return 0;
}
