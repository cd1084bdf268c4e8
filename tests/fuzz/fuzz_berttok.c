/* fuzz_berttok.c — libFuzzer harness for the BERT WordPiece tokenizer (engine/tokenizer_bert.c).  Byte 0 even: the
** rest is a vocab.txt; one that loads encodes a fixed text.  Byte 0 odd: the rest is text encoded (plain and with
** [CLS]/[SEP], truncated left and right) with a small built-in vocabulary.  Nothing may crash; ids stay inside the
** vocabulary and a truncated encoding is no longer than asked. */
#include "tests/fuzz/fuzz_common.h"

#include "engine/tokenizer_bert.h"

static void exercise(const struct vb_berttok * tok, const char * text, size_t len, int max_len) {
    int32_t  n = 0, *ids = NULL;
    uint32_t v = (uint32_t)vb_berttok_vocab_size(tok);
    for (int mode = 0; mode < 4; mode++) {
        int ml = mode & 2 ? max_len : 0;
        if (vb_berttok_encode(tok, text, len, mode & 1, ml, mode & 1 ? mode >> 1 : 0, &ids, &n) == VB_OK) {
            for (int32_t i = 0; i < n; i++)
                if ((uint32_t)ids[i] >= v) abort();
            if (ml > 0 && n > ml) abort();
        }
        free(ids);
        ids = NULL;
    }
}

static const char VOCAB[] =
    "[PAD]\n[unused0]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n.\n,\n?\n!\n'\n-\na\nb\nc\nd\ne\nf\ng\nh\ni\n"
    "j\nk\nl\nm\nn\no\np\nq\nr\ns\nt\nu\nv\nw\nx\ny\nz\nthe\ndog\nrun\n##s\n##ing\n##ed\nwhat\n"
    "does\ndo\n##a\n##e\n##i\n##o\n##u\n##n\n##t\n\xe4\xb8\xad\n\xc3\xa9\n##\xc3\xa9\n";

int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    fuzz_quiet();
    if (size < 1) return 0;
    if (!(data[0] & 1)) {
        struct vb_berttok * tok = NULL;
        if (vb_berttok_load(&tok, fuzz_file("vocab.txt", data + 1, size - 1)) != VB_OK) return 0;
        static const char s[] = "What does the dog do after running? Le caf\xc3\xa9 \xe4\xb8\xad";
        exercise(tok, s, sizeof s - 1, 6);
        vb_berttok_free(tok);
        return 0;
    }
    static struct vb_berttok * fixed;
    if (!fixed &&
        vb_berttok_load(&fixed, fuzz_file("fixed_vocab.txt", (const uint8_t *)VOCAB, sizeof VOCAB - 1)) != VB_OK)
        abort();
    exercise(fixed, (const char *)data + 1, size - 1, 2 + (int)(data[0] >> 1) % 40);
    return 0;
}
