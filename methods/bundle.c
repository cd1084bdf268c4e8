/* bundle.c — open a model bundle directory (see bundle.h). */
#include "methods/bundle.h"

#include "base/common.h"
#include "engine/frame_prompter.h"
#include "engine/qformer.h"
#include "engine/t5.h"
#include "engine/tokenizer_bert.h"
#include "engine/tokenizer_t5.h"
#include "engine/vit.h"
#include "methods/prompts.h"

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

/* ---- component sharing (bundle.h) ---- */

static int has_prefix(const char * s, const char * p) {
    return strncmp(s, p, strlen(p)) == 0;
}

/* 1 if tensor name belongs to the component: under prefix, and not under any of the excluded prefixes. */
static int in_component(const char * name, const char * prefix, const char * exclude) {
    return has_prefix(name, prefix) && !(exclude && has_prefix(name, exclude));
}

/* 1 if a and b hold the same component tensors (prefix minus exclude): same names, dtypes, shapes, then the same
** bytes.  Metadata first (cheap rejection), then bytes, dropping both tensors' pages after each memcmp.
** *nbytes receives the compared bytes (of one side) when identical. */
static int same_tensors(const struct vb_weights * a, const struct vb_weights * b, const char * prefix,
                        const char * exclude, int64_t * nbytes) {
    int32_t na = 0, nb = 0;
    int64_t bytes = 0;
    for (int32_t i = 0; i < vb_weights_count(b); i++)
        nb += in_component(vb_weights_at(b, i)->name, prefix, exclude);
    for (int32_t i = 0; i < vb_weights_count(a); i++) {
        const struct vb_st_tensor * t = vb_weights_at(a, i);
        if (!in_component(t->name, prefix, exclude)) continue;
        na++;
        const struct vb_st_tensor * u = vb_weights_find(b, t->name);
        if (!u || u->dtype != t->dtype || u->ndim != t->ndim || u->nbytes != t->nbytes ||
            memcmp(u->shape, t->shape, sizeof(int64_t) * (size_t)t->ndim))
            return 0;
        bytes += (int64_t)t->nbytes;
    }
    if (na != nb || na == 0) return 0;
    for (int32_t i = 0; i < vb_weights_count(a); i++) {
        const struct vb_st_tensor * t = vb_weights_at(a, i);
        if (!in_component(t->name, prefix, exclude)) continue;
        const struct vb_st_tensor * u = vb_weights_find(b, t->name);
        int                         eq = t->data == u->data || memcmp(t->data, u->data, t->nbytes) == 0;
        vb_weights_drop_pages(a, t);
        vb_weights_drop_pages(b, u);
        if (!eq) return 0;
    }
    *nbytes = bytes;
    return 1;
}

/* vision configs equal except the post-LayerNorm eps (ours is kept per bundle) */
static int same_vision_config(const struct vb_vision_config * x, const struct vb_vision_config * y) {
    struct vb_vision_config a = *x, c = *y;
    a.post_ln_eps = c.post_ln_eps = 0;
    return memcmp(&a, &c, sizeof a) == 0; /* plain 4-byte fields, no padding */
}

#define VIT_PREFIX  "vision_model."
#define VIT_POST_LN "vision_model.post_layernorm."
#define T5_PREFIX   "language_model."

/* Borrow the ViT blocks of a shared bundle: our own struct, the lender's blocks, our post-LayerNorm.
** Returns VB_OK with b->vit set (borrowed) or left NULL (nothing to share), or an error loading our post-LN. */
static int borrow_vit(struct vb_bundle * b, const struct vb_bundle_opts * opts) {
    for (int32_t i = 0; opts && i < opts->n_share; i++) {
        const struct vb_bundle * s = opts->share[i];
        if (!s || !s->vit || !same_vision_config(&s->cfg.vision, &b->cfg.vision)) continue;
        int64_t nbytes = 0;
        if (!same_tensors(s->w, b->w, VIT_PREFIX, VIT_POST_LN, &nbytes)) continue;
        struct vb_vit * v = vb_malloc(sizeof *v);
        *v = *s->vit; /* the lender's blocks / embeddings (owned by the lender's vit) */
        v->cfg.post_ln_eps = b->cfg.vision.post_ln_eps;
        v->post_ln_w = v->post_ln_b = NULL;
        int64_t sh[1] = {b->cfg.vision.hidden};
        int     rc = vb_weights_load_f32(b->w, VIT_POST_LN "weight", 1, sh, &v->post_ln_w);
        if (rc == VB_OK) rc = vb_weights_load_f32(b->w, VIT_POST_LN "bias", 1, sh, &v->post_ln_b);
        if (rc != VB_OK) {
            free(v->post_ln_w);
            free(v->post_ln_b);
            free(v);
            return rc;
        }
        b->vit = v;
        b->vit_lender = s->vit_lender ? s->vit_lender : s;
        b->shared_bytes += nbytes;
        vb_log(VB_LOG_INFO, "bundle %s: ViT (%s* without post_layernorm, %lld bytes) shared with %s", b->dir,
               VIT_PREFIX, (long long)nbytes, b->vit_lender->dir);
        return VB_OK;
    }
    return VB_OK;
}

static void borrow_t5(struct vb_bundle * b, const struct vb_bundle_opts * opts) {
    for (int32_t i = 0; opts && i < opts->n_share; i++) {
        const struct vb_bundle * s = opts->share[i];
        if (!s || !s->t5 || memcmp(&s->cfg.t5, &b->cfg.t5, sizeof b->cfg.t5)) continue;
        int64_t nbytes = 0;
        if (!same_tensors(s->w, b->w, T5_PREFIX, NULL, &nbytes)) continue;
        b->t5 = s->t5;
        b->t5_lender = s->t5_lender ? s->t5_lender : s;
        b->shared_bytes += nbytes;
        vb_log(VB_LOG_INFO, "bundle %s: T5 (%s*, %lld bytes) shared with %s", b->dir, T5_PREFIX, (long long)nbytes,
               b->t5_lender->dir);
        return;
    }
}

static int load_parts(struct vb_bundle * b, unsigned parts, const struct vb_bundle_opts * opts) {
    int                            rc;
    const struct vb_model_config * c = &b->cfg;
    if (parts & VB_BUNDLE_VISION) {
        rc = borrow_vit(b, opts);
        if (rc == VB_OK && !b->vit) rc = vb_vit_load(&b->vit, b->w, &c->vision, VIT_PREFIX);
        if (rc != VB_OK) return rc;
        b->parts_loaded |= VB_BUNDLE_VISION;
    }
    if (parts & VB_BUNDLE_QFORMER) {
        rc = vb_qformer_load(&b->qformer, b->w, &c->qformer, c->num_query_tokens, "");
        if (rc == VB_OK)
            rc = vb_projection_load(&b->proj, b->w, "language_projection", c->qformer.hidden, c->t5.d_model);
        if (rc == VB_OK && c->qformer.device == VB_DEVICE_CUDA) rc = vb_projection_to_device(b->proj);
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
        if (rc == VB_OK && c->qformer.device == VB_DEVICE_CUDA) rc = vb_projection_to_device(b->loc_proj);
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
        borrow_t5(b, opts);
        rc = b->t5 ? VB_OK : vb_t5_load(&b->t5, b->w, T5_PREFIX, &c->t5);
        if (rc != VB_OK) return rc;
        b->parts_loaded |= VB_BUNDLE_T5;
    }
    return VB_OK;
}

/* A directory with PyTorch weights but no safetensors (an HF download of pytorch_model.bin, a LAVIS .pth): fail with
** how to convert instead of "model.safetensors: cannot open".  Returns VB_OK when that is not the case. */
static int check_torch_only(const char * dir) {
    static const char * const st[] = {"model.safetensors", "model.safetensors.index.json"};
    static const char * const pt[] = {"pytorch_model.bin", "pytorch_model.bin.index.json"};
    for (size_t i = 0; i < sizeof st / sizeof st[0]; i++) {
        char * p = path_join(dir, st[i]);
        int    ok = access(p, F_OK) == 0;
        free(p);
        if (ok) return VB_OK;
    }
    for (size_t i = 0; i < sizeof pt / sizeof pt[0]; i++) {
        char * p = path_join(dir, pt[i]);
        int    has = access(p, F_OK) == 0;
        free(p);
        if (has)
            return vb_fail(VB_ERR_UNSUPPORTED,
                           "%s: holds %s (PyTorch pickle) but no model.safetensors; vlapbench reads safetensors "
                           "only. Convert it: tools/convert-lavis --method uniform|sevila|vila --config "
                           "%s/config.json --pth %s/%s [--pth more.pth ...] --out NEW_BUNDLE (needs only Python 3; "
                           "docs/bundle.md), or save it with HF transformers' save_pretrained(..., "
                           "safe_serialization=True)",
                           dir, pt[i], dir, dir, i == 0 ? pt[0] : "pytorch_model-*.bin (every shard)");
    }
    return VB_OK;
}

int vb_bundle_open(struct vb_bundle ** out, const char * dir, const struct vb_bundle_opts * opts) {
    *out = NULL;
    int trc = check_torch_only(dir);
    if (trc != VB_OK) return trc;
    struct vb_bundle * b = vb_calloc(1, sizeof *b);
    b->dir = vb_strdup(dir);
    unsigned parts = opts && opts->parts ? opts->parts : VB_BUNDLE_ALL;
    char *   p = path_join(dir, "config.json");
    int      rc = vb_read_file(p, &b->config_json, NULL);
    if (rc == VB_OK) rc = vb_config_parse(&b->cfg, b->config_json, p);
    free(p);
    if (rc == VB_OK) rc = read_methods_bundle(b);
    if (rc == VB_OK && opts && opts->weight_dtype != VB_DT_F32 && opts->weight_dtype != VB_DT_BF16 &&
        opts->weight_dtype != VB_DT_F16)
        rc = vb_fail(VB_ERR_ARG, "bundle %s: weight dtype %d is not f32, bf16 or f16", dir, (int)opts->weight_dtype);
    if (rc == VB_OK && opts)
        b->cfg.vision.weight_dtype = b->cfg.qformer.weight_dtype = b->cfg.t5.weight_dtype = opts->weight_dtype;
    if (rc == VB_OK && opts) b->cfg.vision.device = b->cfg.qformer.device = b->cfg.t5.device = opts->device;
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
    if (rc == VB_OK) rc = load_parts(b, parts, opts);
    if (rc != VB_OK) {
        vb_bundle_close(b);
        return rc;
    }
    *out = b;
    return VB_OK;
}

void vb_bundle_close(struct vb_bundle * b) {
    if (!b) return;
    if (b->vit_lender && b->vit) { /* our struct and post-LN only; the blocks are the lender's */
        free(b->vit->post_ln_w);
        free(b->vit->post_ln_b);
        free(b->vit);
    } else
        vb_vit_free(b->vit);
    vb_qformer_free(b->qformer);
    vb_projection_free(b->proj);
    vb_qformer_free(b->loc_qformer);
    vb_projection_free(b->loc_proj);
    free(b->loc_ln_w);
    free(b->loc_ln_b);
    vb_frame_prompter_free(b->fp);
    if (!b->t5_lender) vb_t5_free(b->t5);
    vb_t5tok_free(b->t5tok);
    vb_berttok_free(b->berttok);
    vb_weights_close(b->w);
    free(b->config_json);
    free(b->t5_tokenizer_path);
    free(b->bert_vocab_path);
    free(b->dir);
    free(b);
}
