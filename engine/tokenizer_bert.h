/* tokenizer_bert.h — bert-base-uncased WordPiece exactly as transformers 4.35.2's slow BertTokenizer(do_lower_case=
** True) set up by InstructBLIP / LAVIS (`[DEC]` added as BOS token = id 30522), used for the VLAP Q-Former text.
**
** Pipeline: special-token text ([PAD] [UNK] [CLS] [SEP] [MASK] [DEC], case-sensitive) is split out first; the rest
** is lower-cased per character; BasicTokenizer: drop U+0000, U+FFFD and category C* except \t \r \n, whitespace ->
** ' ', spaces around CJK ideographs, NFC, split on whitespace, strip accents (NFD, drop Mn), split off every
** punctuation char (ASCII 33-47 58-64 91-96 123-126 and Unicode P*); WordPiece: greedy longest-match-first with
** "##" continuations, words over 100 code points or with an unmatched position -> [UNK].  Output [CLS] ... [SEP].
*/
#ifndef VB_TOKENIZER_BERT_H
#define VB_TOKENIZER_BERT_H

#include <stddef.h>
#include <stdint.h>

struct vb_berttok;

/* Load vocab.txt (one token per line, id = 0-based line number) and add [DEC] after it if absent. On success *out
** owns the tokenizer (vb_berttok_free); on failure *out is NULL and VB_ERR_IO / VB_ERR_FORMAT is returned (the
** message names the file and line; [UNK], [CLS] and [SEP] must be present). */
int vb_berttok_load(struct vb_berttok ** out, const char * vocab_txt_path);

/* Free (NULL is fine). */
void vb_berttok_free(struct vb_berttok * tok);

/* Encode text[0..len) (UTF-8, may contain NUL bytes, which are dropped like U+0000 in Python).
** add_special != 0 wraps the pieces in [CLS] ... [SEP]. max_length > 0 truncates to max_length ids in total: right
** truncation keeps the first max_length-2 pieces, truncate_left != 0 keeps the LAST max_length-2 pieces
** (InstructBLIP: left at 128 keeps [CLS] + last 126 pieces + [SEP]).
** On success *ids is a malloc'd array (never NULL) of *n ids owned by the caller. Returns VB_ERR_ARG for invalid
** UTF-8 or max_length smaller than the special tokens (then *ids NULL, *n 0). */
int vb_berttok_encode(const struct vb_berttok * tok, const char * text, size_t len, int add_special, int max_length,
                      int truncate_left, int32_t ** ids, int32_t * n);

/* Id of a vocabulary token (exact text, e.g. "[CLS]" -> 101, "##ing"), -1 if absent. */
int32_t vb_berttok_token_id(const struct vb_berttok * tok, const char * token);

/* Number of ids including the added [DEC] (30523 for bert-base-uncased). */
int32_t vb_berttok_vocab_size(const struct vb_berttok * tok);

#endif
