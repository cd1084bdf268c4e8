/* spm_convert.c — a SentencePiece model (spiece.model) -> tokenizer.json in the Flan-T5 layout (see spm_convert.h).
** A tool next to the tokenizer: engine/tokenizer_t5.c only reads tokenizer.json. */
#include "engine/spm_convert.h"

#include "base/base64.h"
#include "base/common.h"
#include "engine/unicode_text.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

/* Minimal protobuf wire-format reader over [p, end). */
struct pb {
    const unsigned char *p, *end;
};

static int pb_varint(struct pb * b, uint64_t * v) {
    uint64_t x = 0;
    for (int sh = 0; sh < 64; sh += 7) {
        if (b->p >= b->end) return -1;
        unsigned c = *b->p++;
        x |= (uint64_t)(c & 0x7F) << sh;
        if (!(c & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return -1;
}

/* Next field: *field, *wt; for wire type 2 sets *sub to the payload; for 0 sets *v; for 5 sets *f32; 1 skipped.
** Returns 1 for a field, 0 at the end, -1 on malformed data. */
static int pb_next(struct pb * b, uint32_t * field, int * wt, struct pb * sub, uint64_t * v, float * f32) {
    if (b->p >= b->end) return 0;
    uint64_t key;
    if (pb_varint(b, &key)) return -1;
    *field = (uint32_t)(key >> 3);
    *wt = (int)(key & 7);
    switch (*wt) {
    case 0:
        return pb_varint(b, v) ? -1 : 1;
    case 1:
        if (b->end - b->p < 8) return -1;
        b->p += 8;
        return 1;
    case 2: {
        uint64_t n;
        if (pb_varint(b, &n) || n > (uint64_t)(b->end - b->p)) return -1;
        sub->p = b->p;
        sub->end = b->p + n;
        b->p += n;
        return 1;
    }
    case 5: {
        if (b->end - b->p < 4) return -1;
        uint32_t u = (uint32_t)b->p[0] | (uint32_t)b->p[1] << 8 | (uint32_t)b->p[2] << 16 | (uint32_t)b->p[3] << 24;
        memcpy(f32, &u, 4);
        b->p += 4;
        return 1;
    }
    default:
        return -1;
    }
}

static cJSON * added_json(int32_t id, const char * content, int special) {
    cJSON * a = cJSON_CreateObject();
    cJSON_AddNumberToObject(a, "id", id);
    cJSON_AddStringToObject(a, "content", content);
    cJSON_AddBoolToObject(a, "single_word", 0);
    cJSON_AddBoolToObject(a, "lstrip", 0);
    cJSON_AddBoolToObject(a, "rstrip", 0);
    cJSON_AddBoolToObject(a, "normalized", 0);
    cJSON_AddBoolToObject(a, "special", special);
    return a;
}

static cJSON * metaspace_json(int add_prefix) {
    cJSON * m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "type", "Metaspace");
    cJSON_AddStringToObject(m, "replacement", "\xe2\x96\x81");
    cJSON_AddBoolToObject(m, "add_prefix_space", add_prefix);
    return m;
}

/* Build the tokenizer.json text for a sentencepiece model; *text is malloc'd (cJSON allocator = malloc). */
static int spm_to_json_text(const char * path, int extra_ids, char ** text_out) {
    *text_out = NULL;
    if (extra_ids < 0 || extra_ids > 100000) return vb_fail(VB_ERR_ARG, "extra_ids %d out of range", extra_ids);
    char * buf;
    size_t len;
    int    st = vb_read_file(path, &buf, &len);
    if (st) return st;
    struct pb top = {(const unsigned char *)buf, (const unsigned char *)buf + len}, sub, sub2;
    uint32_t  f, f2;
    int       wt, wt2, r;
    uint64_t  v;
    float     sc;
    /* defaults of sentencepiece's TrainerSpec / NormalizerSpec */
    int64_t               model_type = 1, unk_id = 0, eos_id = 2, byte_fallback = 0;
    int                   add_dummy_prefix = 1;
    const unsigned char * cm = NULL;
    size_t                cm_len = 0;
    cJSON *               vocab = cJSON_CreateArray();
    cJSON *               added = cJSON_CreateArray();
    int32_t               n_pieces = 0;
    int32_t *             types = NULL;
    st = VB_OK;
    while ((r = pb_next(&top, &f, &wt, &sub, &v, &sc)) == 1) {
        if (f == 1 && wt == 2) {
            char *  piece = NULL;
            float   score = 0.0f;
            int64_t type = 1;
            while ((r = pb_next(&sub, &f2, &wt2, &sub2, &v, &sc)) == 1) {
                if (f2 == 1 && wt2 == 2) {
                    free(piece);
                    size_t pl = (size_t)(sub2.end - sub2.p);
                    piece = vb_malloc(pl + 1);
                    memcpy(piece, sub2.p, pl);
                    piece[pl] = 0;
                    if (!vb_unicode_utf8_valid(piece, pl) || memchr(piece, 0, pl)) r = -1;
                } else if (f2 == 2 && wt2 == 5) {
                    score = sc;
                } else if (f2 == 3 && wt2 == 0) {
                    type = (int64_t)v;
                }
                if (r < 0) break;
            }
            if (r < 0 || !piece) {
                free(piece);
                st = vb_fail(VB_ERR_FORMAT, "%s: ModelProto.pieces[%d]: malformed SentencePiece message", path,
                             n_pieces);
                break;
            }
            cJSON * e = cJSON_CreateArray();
            cJSON_AddItemToArray(e, cJSON_CreateString(piece));
            cJSON_AddItemToArray(e, cJSON_CreateNumber((double)score));
            cJSON_AddItemToArray(vocab, e);
            types = vb_realloc(types, (size_t)(n_pieces + 1) * sizeof *types);
            types[n_pieces] = (int32_t)type;
            if (type == 2 || type == 3) cJSON_AddItemToArray(added, added_json(n_pieces, piece, 1));
            free(piece);
            n_pieces++;
        } else if (f == 2 && wt == 2) { /* TrainerSpec */
            while ((r = pb_next(&sub, &f2, &wt2, &sub2, &v, &sc)) == 1) {
                if (wt2 != 0) continue;
                if (f2 == 3)
                    model_type = (int64_t)v;
                else if (f2 == 40)
                    unk_id = (int32_t)v;
                else if (f2 == 42)
                    eos_id = (int32_t)v;
                else if (f2 == 35)
                    byte_fallback = (int64_t)v;
            }
            if (r < 0) {
                st = vb_fail(VB_ERR_FORMAT, "%s: ModelProto.trainer_spec: malformed message", path);
                break;
            }
        } else if (f == 3 && wt == 2) { /* NormalizerSpec */
            while ((r = pb_next(&sub, &f2, &wt2, &sub2, &v, &sc)) == 1) {
                if (f2 == 2 && wt2 == 2) {
                    cm = sub2.p;
                    cm_len = (size_t)(sub2.end - sub2.p);
                } else if (f2 == 3 && wt2 == 0) {
                    add_dummy_prefix = v != 0;
                }
            }
            if (r < 0) {
                st = vb_fail(VB_ERR_FORMAT, "%s: ModelProto.normalizer_spec: malformed message", path);
                break;
            }
        }
    }
    if (st == VB_OK && r < 0) st = vb_fail(VB_ERR_FORMAT, "%s: malformed protobuf (ModelProto)", path);
    if (st == VB_OK && n_pieces == 0) st = vb_fail(VB_ERR_FORMAT, "%s: ModelProto has no pieces", path);
    if (st == VB_OK && model_type != 1)
        st = vb_fail(VB_ERR_UNSUPPORTED, "%s: trainer_spec.model_type %d is not UNIGRAM", path, (int)model_type);
    if (st == VB_OK && (unk_id < 0 || unk_id >= n_pieces || types[unk_id] != 2))
        st = vb_fail(VB_ERR_FORMAT, "%s: trainer_spec.unk_id %d is not an UNKNOWN piece", path, (int)unk_id);
    if (st) {
        cJSON_Delete(vocab);
        cJSON_Delete(added);
        free(types);
        free(buf);
        return st;
    }
    for (int i = extra_ids - 1; i >= 0; i--) {
        char nm[32];
        snprintf(nm, sizeof nm, "<extra_id_%d>", i);
        cJSON * e = cJSON_CreateArray();
        cJSON_AddItemToArray(e, cJSON_CreateString(nm));
        cJSON_AddItemToArray(e, cJSON_CreateNumber(0.0));
        cJSON_AddItemToArray(vocab, e);
        cJSON_AddItemToArray(added, added_json(n_pieces + (extra_ids - 1 - i), nm, 1));
    }
    cJSON * root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "version", "1.0");
    cJSON_AddNullToObject(root, "truncation");
    cJSON_AddNullToObject(root, "padding");
    cJSON_AddItemToObject(root, "added_tokens", added);
    cJSON * norm = cJSON_CreateObject();
    cJSON_AddStringToObject(norm, "type", "Sequence");
    cJSON * nl = cJSON_AddArrayToObject(norm, "normalizers");
    if (cm && cm_len) {
        cJSON * pc = cJSON_CreateObject();
        cJSON_AddStringToObject(pc, "type", "Precompiled");
        char * b64 = vb_base64_encode(cm, cm_len);
        cJSON_AddStringToObject(pc, "precompiled_charsmap", b64);
        free(b64);
        cJSON_AddItemToArray(nl, pc);
    }
    cJSON * rp = cJSON_CreateObject();
    cJSON_AddStringToObject(rp, "type", "Replace");
    cJSON * pat = cJSON_AddObjectToObject(rp, "pattern");
    cJSON_AddStringToObject(pat, "Regex", " {2,}");
    cJSON_AddStringToObject(rp, "content", " ");
    cJSON_AddItemToArray(nl, rp);
    cJSON_AddItemToObject(root, "normalizer", norm);
    cJSON_AddItemToObject(root, "pre_tokenizer", metaspace_json(add_dummy_prefix));
    if (eos_id >= 0 && eos_id < n_pieces) {
        const char * eos = cJSON_GetArrayItem(cJSON_GetArrayItem(vocab, (int)eos_id), 0)->valuestring;
        cJSON *      pp = cJSON_CreateObject();
        cJSON_AddStringToObject(pp, "type", "TemplateProcessing");
        cJSON * single = cJSON_AddArrayToObject(pp, "single");
        cJSON * sa = cJSON_CreateObject();
        cJSON * sq = cJSON_AddObjectToObject(sa, "Sequence");
        cJSON_AddStringToObject(sq, "id", "A");
        cJSON_AddNumberToObject(sq, "type_id", 0);
        cJSON_AddItemToArray(single, sa);
        cJSON * se = cJSON_CreateObject();
        cJSON * spt = cJSON_AddObjectToObject(se, "SpecialToken");
        cJSON_AddStringToObject(spt, "id", eos);
        cJSON_AddNumberToObject(spt, "type_id", 0);
        cJSON_AddItemToArray(single, se);
        cJSON * pair = cJSON_AddArrayToObject(pp, "pair");
        for (int k = 0; k < 2; k++) {
            cJSON * pa = cJSON_CreateObject();
            cJSON * pq = cJSON_AddObjectToObject(pa, "Sequence");
            cJSON_AddStringToObject(pq, "id", k ? "B" : "A");
            cJSON_AddNumberToObject(pq, "type_id", 0);
            cJSON_AddItemToArray(pair, pa);
            cJSON * pe = cJSON_CreateObject();
            cJSON * ps = cJSON_AddObjectToObject(pe, "SpecialToken");
            cJSON_AddStringToObject(ps, "id", eos);
            cJSON_AddNumberToObject(ps, "type_id", 0);
            cJSON_AddItemToArray(pair, pe);
        }
        cJSON * specials = cJSON_AddObjectToObject(pp, "special_tokens");
        cJSON * d = cJSON_AddObjectToObject(specials, eos);
        cJSON_AddStringToObject(d, "id", eos);
        cJSON * ids = cJSON_AddArrayToObject(d, "ids");
        cJSON_AddItemToArray(ids, cJSON_CreateNumber((double)eos_id));
        cJSON * toks = cJSON_AddArrayToObject(d, "tokens");
        cJSON_AddItemToArray(toks, cJSON_CreateString(eos));
        cJSON_AddItemToObject(root, "post_processor", pp);
    } else {
        cJSON_AddNullToObject(root, "post_processor");
    }
    cJSON_AddItemToObject(root, "decoder", metaspace_json(add_dummy_prefix));
    cJSON * model = cJSON_CreateObject();
    cJSON_AddStringToObject(model, "type", "Unigram");
    cJSON_AddNumberToObject(model, "unk_id", (double)unk_id);
    cJSON_AddItemToObject(model, "vocab", vocab);
    cJSON_AddBoolToObject(model, "byte_fallback", byte_fallback != 0);
    cJSON_AddItemToObject(root, "model", model);
    free(types);
    free(buf);
    char * text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text) return vb_fail(VB_ERR_NOMEM, "%s: cannot format JSON", path);
    *text_out = text;
    return VB_OK;
}

int vb_t5tok_write_json_from_spm(const char * path, const char * out_json, int extra_ids) {
    char * text;
    int    st = spm_to_json_text(path, extra_ids, &text);
    if (st) return st;
    FILE * fo = fopen(out_json, "wb");
    if (!fo) {
        free(text);
        return vb_fail(VB_ERR_IO, "%s: cannot open for writing", out_json);
    }
    size_t tl = strlen(text);
    int    bad = fwrite(text, 1, tl, fo) != tl;
    bad |= fclose(fo) != 0;
    free(text);
    if (bad) return vb_fail(VB_ERR_IO, "%s: write failed", out_json);
    return VB_OK;
}

int vb_t5tok_load_spm(struct vb_t5tok ** out, const char * spiece_model_path, int extra_ids) {
    *out = NULL;
    char * text;
    int    st = spm_to_json_text(spiece_model_path, extra_ids, &text);
    if (st) return st;
    st = vb_t5tok_load_mem(out, text, strlen(text), spiece_model_path);
    free(text);
    return st;
}
