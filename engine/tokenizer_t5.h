/* tokenizer_t5.h — the T5 / Flan-T5 tokenizer exactly as Hugging Face's FAST tokenizer (Rust `tokenizers` 0.13)
** runs a `tokenizer.json`, which is what SeViLA and ViLA use (T5TokenizerFast).
**
** Pipeline (each stage read from the file; anything else is rejected with VB_ERR_UNSUPPORTED at load time):
**   1. added tokens (`added_tokens`, e.g. <pad> </s> <unk> <extra_id_N>) are split out of the raw text first
**      (leftmost-longest match; `normalized: true` ones are matched after normalization);
**   2. normalizer: `Precompiled` (sentencepiece charsmap: darts-clone trie + replacement strings, applied per
**      extended grapheme cluster exactly like spm_precompiled), `Replace` (String pattern, or the Regex " {2,}"),
**      possibly inside a `Sequence`;
**   3. pre-tokenizer `Metaspace` (replacement, add_prefix_space or prepend_scheme always/first/never, split):
**      ' ' -> '▁', a '▁' is prepended to each segment, and the text is split before every '▁' — so a trailing
**      space yields a lone "▁" (id 3): "Frame: " -> 16015 10 3 1;
**   4. model `Unigram` (pieces + scores as double, Viterbi identical to tokenizers' encode_optimized, including its
**      tie-breaking, unknown characters fused into one unk, optional byte_fallback);
**   5. post-processor `TemplateProcessing` (single: $A </s>), only when special tokens are requested.
** Truncation (max_length > 0) keeps max_length - (number of template specials) pieces from the right (first pieces)
** or left (last pieces) end, then applies the template: max_length 77 keeps 76 pieces and </s>.
*/
#ifndef VB_TOKENIZER_T5_H
#define VB_TOKENIZER_T5_H

#include <stddef.h>
#include <stdint.h>

struct vb_t5tok;

/* Load a tokenizer.json. On success *out owns the tokenizer (free with vb_t5tok_free) and VB_OK is returned; on
** failure *out is NULL and a negative status is returned with a message naming the file and the field
** (VB_ERR_IO unreadable, VB_ERR_FORMAT malformed, VB_ERR_UNSUPPORTED a component this code does not implement). */
int vb_t5tok_load(struct vb_t5tok ** out, const char * tokenizer_json_path);

/* Same from an in-memory JSON text of len bytes; `name` is used in error messages. */
int vb_t5tok_load_mem(struct vb_t5tok ** out, const char * json, size_t len, const char * name);

/* Free a tokenizer (NULL is fine). */
void vb_t5tok_free(struct vb_t5tok * tok);

/* Encode the NUL-terminated UTF-8 text. add_eos != 0 applies the post-processor template (appends </s>);
** max_length > 0 truncates on the right keeping the template (see above); 0 = no truncation.
** On success *ids is a malloc'd array of *n ids owned by the caller (free()); it is never NULL, even for n == 0.
** Returns VB_ERR_ARG for invalid UTF-8 or a max_length smaller than the template, with *ids NULL and *n 0. */
int vb_t5tok_encode(const struct vb_t5tok * tok, const char * utf8, int add_eos, int max_length, int32_t ** ids,
                    int32_t * n);

/* Full form: text of len bytes (may contain NUL bytes), truncate_left != 0 keeps the LAST pieces instead. */
int vb_t5tok_encode_ex(const struct vb_t5tok * tok, const char * text, size_t len, int add_eos, int max_length,
                       int truncate_left, int32_t ** ids, int32_t * n);

/* Decode flags. Default (0) = transformers' T5Tokenizer.decode(ids, skip_special_tokens=True) with
** clean_up_tokenization_spaces=True (4.35.2 defaults): special tokens dropped, '▁' -> ' ', outer spaces stripped,
** " ." " ," " ?" " !" " n't" " 'm" " 's" " 've" " 're" " ' " cleaned. */
#define VB_T5TOK_DECODE_KEEP_SPECIAL 1u /* keep <pad> </s> <unk> <extra_id_N> text, as decode(ids) does */
#define VB_T5TOK_DECODE_NO_CLEANUP   2u /* clean_up_tokenization_spaces=False */

/* Decode n ids to UTF-8 text. On success *out is a malloc'd NUL-terminated string owned by the caller. Returns
** VB_ERR_ARG (and *out NULL) if an id is outside 0..vocab_size-1. */
int vb_t5tok_decode(const struct vb_t5tok * tok, const int32_t * ids, int32_t n, unsigned flags, char ** out);

/* Id of the piece with exactly this text ("▁yes" -> 4273, also added tokens such as "</s>"), -1 if absent. */
int32_t vb_t5tok_piece_id(const struct vb_t5tok * tok, const char * piece);

/* 1 if the vocabulary has this piece, else 0. */
int vb_t5tok_has_piece(const struct vb_t5tok * tok, const char * piece);

/* Text of piece id (borrowed, valid while tok lives), NULL if out of range. */
const char * vb_t5tok_id_to_piece(const struct vb_t5tok * tok, int32_t id);

/* Number of ids (model vocabulary, 32100 for Flan-T5). */
int32_t vb_t5tok_vocab_size(const struct vb_t5tok * tok);

/* Id of </s> as the post-processor appends it (1 for T5), -1 if the template adds nothing. */
int32_t vb_t5tok_eos_id(const struct vb_t5tok * tok);

#endif
