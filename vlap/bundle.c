/* bundle.c — open a model bundle directory (see bundle.h). */
#include "vlap/bundle.h"

#include "engine/common.h"
#include "engine/frame_prompter.h"
#include "engine/qformer.h"
#include "engine/t5.h"
#include "engine/tokenizer_bert.h"
#include "engine/tokenizer_t5.h"
#include "engine/vit.h"
#include "vlap/prompts.h"

#include <cjson/cJSON.h>
#include <string.h>
#include <unistd.h>

static char * path_join(const char * dir, const char * file) {
    size_t n = strlen(dir) + strlen(file) + 2;
    char * p = vb_malloc(n);
    snprintf(p, n, "%s/%s", dir, file);
    return p;
}

int vb_bundle_lookup_ids(struct vb_bundle * b) {
    for (int j = 0; j < VB_PROMPT_N_LETTERS; j++) {
        b->letter_ids[j] = vb_t5tok_piece_id(b->t5tok, vb_prompt_letter_pieces[j]);
        if (b->letter_ids[j] < 0)
            return vb_fail(VB_ERR_FORMAT,
                           "%s: the vocabulary has no piece \"%s\" (answer letter %c); not a Flan-T5 "
                           "tokenizer",
                           b->t5_tokenizer_path, vb_prompt_letter_pieces[j], vb_prompt_letter(j));
    }
    b->yes_id = vb_t5tok_piece_id(b->t5tok, VB_PROMPT_YES_PIECE);
    if (b->yes_id < 0)
        return vb_fail(VB_ERR_FORMAT, "%s: the vocabulary has no piece \"%s\" (SeViLA's localizer score)",
                       b->t5_tokenizer_path, VB_PROMPT_YES_PIECE);
    b->no_id = vb_t5tok_piece_id(b->t5tok, "\xe2\x96\x81no");
    b->eos_id = vb_t5tok_eos_id(b->t5tok);
    if (b->eos_id < 0) b->eos_id = b->cfg.t5.eos_id;
    for (int j = 0; j < VB_PROMPT_N_LETTERS; j++)
        if (b->letter_ids[j] >= b->cfg.t5.vocab)
            return vb_fail(VB_ERR_FORMAT, "%s: letter id %d outside the model vocabulary %d", b->t5_tokenizer_path,
                           b->letter_ids[j], b->cfg.t5.vocab);
    if (b->yes_id >= b->cfg.t5.vocab)
        return vb_fail(VB_ERR_FORMAT, "%s: yes id %d outside the model vocabulary %d", b->t5_tokenizer_path, b->yes_id,
                       b->cfg.t5.vocab);
    return VB_OK;
}

/* methods_bundle: ln_vision_eps (default 1e-5 = LAVIS) and frame_prompter.segments. */
static int read_methods_bundle(struct vb_bundle * b) {
    b->ln_vision_eps = 1e-5f;
    b->fp_segments = 4;
    cJSON * root = cJSON_Parse(b->config_json);
    if (!root) return vb_fail(VB_ERR_FORMAT, "%s/config.json: not valid JSON", b->dir);
    const cJSON * mb = cJSON_GetObjectItemCaseSensitive(root, "methods_bundle");
    const cJSON * x = cJSON_GetObjectItemCaseSensitive(mb, "ln_vision_eps");
    if (cJSON_IsNumber(x)) b->ln_vision_eps = (float)x->valuedouble;
    const cJSON * fp = cJSON_GetObjectItemCaseSensitive(mb, "frame_prompter");
    x = cJSON_GetObjectItemCaseSensitive(fp, "segments");
    if (cJSON_IsNumber(x)) b->fp_segments = (int32_t)x->valuedouble;
    cJSON_Delete(root);
    if (!(b->ln_vision_eps > 0) || b->fp_segments <= 0)
        return vb_fail(VB_ERR_FORMAT, "%s/config.json: methods_bundle: bad ln_vision_eps / frame_prompter.segments",
                       b->dir);
    b->cfg.vision.post_ln_eps = b->ln_vision_eps;
    return VB_OK;
}

static int load_fp(struct vb_bundle * b) {
    const struct vb_st_tensor * t = vb_weights_find(b->w, "frame_prompter.fc2.weight");
    if (!t || t->ndim != 2 || t->shape[0] != t->shape[1] || t->shape[0] <= 0)
        return vb_fail(VB_ERR_SHAPE, "%s: frame_prompter.fc2.weight missing or not square (k, k)", b->dir);
    b->fp_frames_per_segment = (int32_t)t->shape[0];
    return vb_frame_prompter_load(&b->fp, b->w, b->fp_segments * b->fp_frames_per_segment, b->fp_segments,
                                  b->cfg.vision.n_tokens, "frame_prompter.");
}

static int load_parts(struct vb_bundle * b, unsigned parts) {
    int                            rc;
    const struct vb_model_config * c = &b->cfg;
    if (parts & VB_BUNDLE_VISION) {
        rc = vb_vit_load(&b->vit, b->w, &c->vision, "vision_model.");
        if (rc != VB_OK) return rc;
        b->parts_loaded |= VB_BUNDLE_VISION;
    }
    if (parts & VB_BUNDLE_QFORMER) {
        rc = vb_qformer_load(&b->qformer, b->w, &c->qformer, c->num_query_tokens, "");
        if (rc == VB_OK)
            rc = vb_projection_load(&b->proj, b->w, "language_projection", c->qformer.hidden, c->t5.d_model);
        if (rc != VB_OK) return rc;
        b->parts_loaded |= VB_BUNDLE_QFORMER;
    }
    if ((parts & VB_BUNDLE_LOCALIZER) && b->has_localizer) {
        /* SeViLA's Q-Former_loc has no text modules, whatever the answerer has */
        struct vb_qformer_config lc = c->qformer;
        lc.has_text = 0;
        const struct vb_st_tensor * qt = vb_weights_find(b->w, "localizer.query_tokens");
        int32_t                     nq = (qt && qt->ndim == 3) ? (int32_t)qt->shape[1] : c->num_query_tokens;
        rc = vb_qformer_load(&b->loc_qformer, b->w, &lc, nq, "localizer.");
        if (rc == VB_OK)
            rc = vb_projection_load(&b->loc_proj, b->w, "localizer.language_projection", c->qformer.hidden,
                                    c->t5.d_model);
        int64_t sh[1] = {c->vision.hidden};
        if (rc == VB_OK) rc = vb_weights_load_f32(b->w, "localizer.vision_layernorm.weight", 1, sh, &b->loc_ln_w);
        if (rc == VB_OK) rc = vb_weights_load_f32(b->w, "localizer.vision_layernorm.bias", 1, sh, &b->loc_ln_b);
        if (rc != VB_OK) return rc;
        b->parts_loaded |= VB_BUNDLE_LOCALIZER;
    }
    if ((parts & VB_BUNDLE_PROMPTER) && b->has_frame_prompter) {
        rc = load_fp(b);
        if (rc != VB_OK) return rc;
        b->parts_loaded |= VB_BUNDLE_PROMPTER;
    }
    if (parts & VB_BUNDLE_T5) {
        rc = vb_t5_load(&b->t5, b->w, "language_model.", &c->t5);
        if (rc != VB_OK) return rc;
        b->parts_loaded |= VB_BUNDLE_T5;
    }
    return VB_OK;
}

int vb_bundle_open(struct vb_bundle ** out, const char * dir, const struct vb_bundle_opts * opts) {
    *out = NULL;
    struct vb_bundle * b = vb_calloc(1, sizeof *b);
    b->dir = vb_strdup(dir);
    unsigned parts = opts && opts->parts ? opts->parts : VB_BUNDLE_ALL;
    char *   p = path_join(dir, "config.json");
    int      rc = vb_read_file(p, &b->config_json, NULL);
    if (rc == VB_OK) rc = vb_config_parse(&b->cfg, b->config_json, p);
    free(p);
    if (rc == VB_OK) rc = read_methods_bundle(b);
    if (rc == VB_OK) rc = vb_weights_open(&b->w, dir);
    if (rc == VB_OK) {
        b->has_localizer = vb_weights_find(b->w, "localizer.query_tokens") != NULL;
        b->has_frame_prompter = vb_weights_find(b->w, "frame_prompter.fc1.weight") != NULL;
        b->t5_tokenizer_path =
            opts && opts->t5_tokenizer ? vb_strdup(opts->t5_tokenizer) : path_join(dir, "tokenizer.json");
        rc = vb_t5tok_load(&b->t5tok, b->t5_tokenizer_path);
        if (rc != VB_OK)
            vb_fail_prefix(rc, "bundle %s: T5 tokenizer (give it with --t5-tokenizer / VB_T5_TOKENIZER)", dir);
    }
    if (rc == VB_OK) rc = vb_bundle_lookup_ids(b);
    if (rc == VB_OK && b->cfg.arch == VB_ARCH_INSTRUCTBLIP) {
        b->bert_vocab_path = opts && opts->bert_vocab ? vb_strdup(opts->bert_vocab) : path_join(dir, "vocab.txt");
        rc = vb_berttok_load(&b->berttok, b->bert_vocab_path);
        if (rc != VB_OK)
            vb_fail_prefix(rc, "bundle %s: BERT vocabulary (give it with --bert-vocab / VB_BERT_VOCAB)", dir);
        else if (vb_berttok_vocab_size(b->berttok) > b->cfg.qformer.vocab)
            rc = vb_fail(VB_ERR_FORMAT, "%s: %d BERT ids (with [DEC]) but the Q-Former has %d word embeddings",
                         b->bert_vocab_path, vb_berttok_vocab_size(b->berttok), b->cfg.qformer.vocab);
    }
    if (rc == VB_OK) rc = load_parts(b, parts);
    if (rc != VB_OK) {
        vb_bundle_close(b);
        return rc;
    }
    *out = b;
    return VB_OK;
}

void vb_bundle_close(struct vb_bundle * b) {
    if (!b) return;
    vb_vit_free(b->vit);
    vb_qformer_free(b->qformer);
    vb_projection_free(b->proj);
    vb_qformer_free(b->loc_qformer);
    vb_projection_free(b->loc_proj);
    free(b->loc_ln_w);
    free(b->loc_ln_b);
    vb_frame_prompter_free(b->fp);
    vb_t5_free(b->t5);
    vb_t5tok_free(b->t5tok);
    vb_berttok_free(b->berttok);
    vb_weights_close(b->w);
    free(b->config_json);
    free(b->t5_tokenizer_path);
    free(b->bert_vocab_path);
    free(b->dir);
    free(b);
}
