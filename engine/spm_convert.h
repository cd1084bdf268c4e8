/* spm_convert.h — SentencePiece model -> tokenizer.json: the converter behind `vlapbench tokenize --spm-to-json`
** (the demo's tokenizer, scripts/demo.sh) and a direct loader of spiece.model.  A tool kept out of the tokenizer
** (engine/tokenizer_t5.h reads tokenizer.json only). */
#ifndef VB_SPM_CONVERT_H
#define VB_SPM_CONVERT_H

#include "engine/tokenizer_t5.h"

/* Read a sentencepiece `spiece.model` (ModelProto: pieces, scores, types, trainer unk/eos/pad ids, byte_fallback,
** normalizer precompiled_charsmap / add_dummy_prefix) and write a tokenizer.json in the layout of the Flan-T5 one
** (added tokens for CONTROL/UNKNOWN pieces plus `extra_ids` <extra_id_N> tokens appended after the pieces as HF's
** T5 conversion does; Precompiled + Replace(" {2,}" -> " ") normalizer, Metaspace, template "$A </s>").
** Returns VB_OK, VB_ERR_IO, VB_ERR_FORMAT (malformed protobuf, message names the field) or VB_ERR_UNSUPPORTED
** (not a unigram model). */
int vb_t5tok_write_json_from_spm(const char * spiece_model_path, const char * out_json, int extra_ids);

/* Load a sentencepiece `spiece.model` directly: the tokenizer.json that vb_t5tok_write_json_from_spm would write,
** parsed in memory (same ownership and errors as vb_t5tok_load). */
int vb_t5tok_load_spm(struct vb_t5tok ** out, const char * spiece_model_path, int extra_ids);

#endif
