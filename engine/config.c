/* config.c — HF config.json reading with the 4.35.2 defaults (see config.h). */
#include "engine/config.h"

#include "base/common.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

const char * vb_act_name(enum vb_act a) {
    switch (a) {
    case VB_ACT_GELU_ERF:
        return "gelu";
    case VB_ACT_GELU_TANH:
        return "gelu_new";
    case VB_ACT_RELU:
        return "relu";
    }
    return "?";
}

void vb_config_defaults(struct vb_model_config * c, enum vb_arch arch) {
    memset(c, 0, sizeof *c);
    c->arch = arch;
    c->num_query_tokens = 32;
    c->vision = (struct vb_vision_config){
        1408, 6144, 39, 16, 224, 14, 1, 1e-6f, 1e-6f, VB_ACT_GELU_ERF, 0, 0, VB_DT_F32, VB_DEVICE_CPU};
    c->qformer = (struct vb_qformer_config){
        768,       3072,         12, 12, 30522, 512, 2, 1408, 0, 1e-12f, VB_ACT_GELU_ERF, arch == VB_ARCH_INSTRUCTBLIP,
        VB_DT_F32, VB_DEVICE_CPU};
    c->t5 = (struct vb_t5_config){32128, 512,         64, 2048, 6, 6, 8, 32,        128,
                                  1e-6f, VB_ACT_RELU, 0,  1,    0, 1, 0, VB_DT_F32, VB_DEVICE_CPU};
}

struct ctx {
    const char * origin;
    int          rc;
};

/* Integer key `sect.key` into *out when present: a whole number in [lo, hi] (the bounds keep every size product
** the engine forms far inside int64 and every allocation far below the machine's memory; they are generous multiples
** of the largest published shapes: EVA ViT-g 1408 / 6144 / 39 layers, Flan-T5-XXL 4096 / 10240 / 64 heads, mT5's
** 250k vocabulary).  Out of range or not an integer: the first error, naming the file and the key. */
static int get_int(struct ctx * x, const cJSON * o, const char * sect, const char * key, int32_t * out, int32_t lo,
                   int32_t hi) {
    const cJSON * v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v)) return 0;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble != floor(v->valuedouble) ||
        v->valuedouble < 0) {
        if (x->rc == VB_OK)
            x->rc = vb_fail(VB_ERR_FORMAT, "%s: %s%s%s must be a non-negative integer", x->origin, sect,
                            *sect ? "." : "", key);
        return 0;
    }
    if (v->valuedouble < lo || v->valuedouble > hi) {
        if (x->rc == VB_OK)
            x->rc = vb_fail(VB_ERR_FORMAT, "%s: %s%s%s = %.17g is out of range [%d, %d]", x->origin, sect,
                            *sect ? "." : "", key, v->valuedouble, lo, hi);
        return 0;
    }
    *out = (int32_t)v->valuedouble;
    return 1;
}

/* Float key `sect.key` into *out when present: a finite number in (0, 1) (every float in these configs is a
** normalisation epsilon); else the first error, naming the file and the key. */
static void get_float(struct ctx * x, const cJSON * o, const char * sect, const char * key, float * out) {
    const cJSON * v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v)) return;
    if (!cJSON_IsNumber(v)) {
        if (x->rc == VB_OK) x->rc = vb_fail(VB_ERR_FORMAT, "%s: %s.%s must be a number", x->origin, sect, key);
        return;
    }
    if (!isfinite(v->valuedouble) || !(v->valuedouble > 0 && v->valuedouble < 1) || !((float)v->valuedouble > 0)) {
        if (x->rc == VB_OK)
            x->rc = vb_fail(VB_ERR_FORMAT, "%s: %s.%s = %g is not an epsilon in (0, 1)", x->origin, sect, key,
                            v->valuedouble);
        return;
    }
    *out = (float)v->valuedouble;
}

static void get_bool(struct ctx * x, const cJSON * o, const char * sect, const char * key, int32_t * out) {
    const cJSON * v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v)) return;
    if (!cJSON_IsBool(v)) {
        if (x->rc == VB_OK) x->rc = vb_fail(VB_ERR_FORMAT, "%s: %s.%s must be true or false", x->origin, sect, key);
        return;
    }
    *out = cJSON_IsTrue(v);
}

static int parse_act(struct ctx * x, const char * sect, const char * key, const char * s, enum vb_act * out) {
    if (!strcmp(s, "gelu"))
        *out = VB_ACT_GELU_ERF;
    else if (!strcmp(s, "gelu_new") || !strcmp(s, "gelu_pytorch_tanh") || !strcmp(s, "gelu_fast"))
        *out = VB_ACT_GELU_TANH;
    else if (!strcmp(s, "relu"))
        *out = VB_ACT_RELU;
    else {
        if (x->rc == VB_OK)
            x->rc = vb_fail(VB_ERR_UNSUPPORTED, "%s: %s.%s: unsupported activation '%s'", x->origin, sect, key, s);
        return 0;
    }
    return 1;
}

static void get_act(struct ctx * x, const cJSON * o, const char * sect, const char * key, enum vb_act * out) {
    const cJSON * v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v)) return;
    if (!cJSON_IsString(v)) {
        if (x->rc == VB_OK) x->rc = vb_fail(VB_ERR_FORMAT, "%s: %s.%s must be a string", x->origin, sect, key);
        return;
    }
    parse_act(x, sect, key, v->valuestring, out);
}

int vb_config_parse(struct vb_model_config * c, const char * json, const char * origin) {
    cJSON * root = cJSON_Parse(json);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return vb_fail(VB_ERR_FORMAT, "%s: not a JSON object", origin);
    }
    struct ctx    x = {origin, VB_OK};
    const cJSON * mt = cJSON_GetObjectItemCaseSensitive(root, "model_type");
    const cJSON * archs = cJSON_GetObjectItemCaseSensitive(root, "architectures");
    const char *  a0 = cJSON_IsArray(archs) && cJSON_IsString(cJSON_GetArrayItem(archs, 0))
                           ? cJSON_GetArrayItem(archs, 0)->valuestring
                           : "";
    enum vb_arch  arch;
    if ((cJSON_IsString(mt) && !strcmp(mt->valuestring, "blip-2")) || !strcmp(a0, "Blip2ForConditionalGeneration"))
        arch = VB_ARCH_BLIP2;
    else if ((cJSON_IsString(mt) && !strcmp(mt->valuestring, "instructblip")) ||
             !strcmp(a0, "InstructBlipForConditionalGeneration"))
        arch = VB_ARCH_INSTRUCTBLIP;
    else {
        int rc = vb_fail(VB_ERR_UNSUPPORTED, "%s: model_type '%s' is neither blip-2 nor instructblip", origin,
                         cJSON_IsString(mt) ? mt->valuestring : "(missing)");
        cJSON_Delete(root);
        return rc;
    }
    vb_config_defaults(c, arch);
    get_int(&x, root, "", "num_query_tokens", &c->num_query_tokens, 1, 4096);

    const cJSON * v = cJSON_GetObjectItemCaseSensitive(root, "vision_config");
    if (v && !cJSON_IsObject(v)) x.rc = vb_fail(VB_ERR_FORMAT, "%s: vision_config must be an object", origin);
    if (cJSON_IsObject(v)) {
        struct vb_vision_config * V = &c->vision;
        get_int(&x, v, "vision_config", "hidden_size", &V->hidden, 1, 65536);
        get_int(&x, v, "vision_config", "intermediate_size", &V->intermediate, 1, 262144);
        get_int(&x, v, "vision_config", "num_hidden_layers", &V->layers, 1, 1024);
        get_int(&x, v, "vision_config", "num_attention_heads", &V->heads, 1, 4096);
        get_int(&x, v, "vision_config", "image_size", &V->image_size, 1, 8192);
        get_int(&x, v, "vision_config", "patch_size", &V->patch, 1, 8192);
        get_bool(&x, v, "vision_config", "qkv_bias", &V->qkv_bias);
        get_float(&x, v, "vision_config", "layer_norm_eps", &V->ln_eps);
        get_act(&x, v, "vision_config", "hidden_act", &V->act);
    }
    c->vision.post_ln_eps = c->vision.ln_eps;

    const cJSON * q = cJSON_GetObjectItemCaseSensitive(root, "qformer_config");
    if (q && !cJSON_IsObject(q)) x.rc = vb_fail(VB_ERR_FORMAT, "%s: qformer_config must be an object", origin);
    if (cJSON_IsObject(q)) {
        struct vb_qformer_config * Q = &c->qformer;
        get_int(&x, q, "qformer_config", "hidden_size", &Q->hidden, 1, 65536);
        get_int(&x, q, "qformer_config", "intermediate_size", &Q->intermediate, 1, 262144);
        get_int(&x, q, "qformer_config", "num_hidden_layers", &Q->layers, 1, 1024);
        get_int(&x, q, "qformer_config", "num_attention_heads", &Q->heads, 1, 4096);
        get_int(&x, q, "qformer_config", "vocab_size", &Q->vocab, 1, 4194304);
        get_int(&x, q, "qformer_config", "max_position_embeddings", &Q->max_pos, 1, 1048576);
        get_int(&x, q, "qformer_config", "cross_attention_frequency", &Q->cross_freq, 1, 1024);
        get_int(&x, q, "qformer_config", "encoder_hidden_size", &Q->encoder_hidden, 1, 65536);
        get_int(&x, q, "qformer_config", "pad_token_id", &Q->pad_id, 0, 4194303);
        get_float(&x, q, "qformer_config", "layer_norm_eps", &Q->ln_eps);
        get_act(&x, q, "qformer_config", "hidden_act", &Q->act);
    }

    const cJSON * t = cJSON_GetObjectItemCaseSensitive(root, "text_config");
    if (!cJSON_IsObject(t)) {
        if (x.rc == VB_OK)
            x.rc = vb_fail(VB_ERR_UNSUPPORTED, "%s: no text_config: the default language model (OPT) is not supported",
                           origin);
    } else {
        const cJSON * tmt = cJSON_GetObjectItemCaseSensitive(t, "model_type");
        if (!cJSON_IsString(tmt) || strcmp(tmt->valuestring, "t5") != 0) {
            if (x.rc == VB_OK)
                x.rc = vb_fail(VB_ERR_UNSUPPORTED, "%s: text_config.model_type '%s': only t5 is supported", origin,
                               cJSON_IsString(tmt) ? tmt->valuestring : "(missing: OPT default)");
        }
        struct vb_t5_config * T = &c->t5;
        get_int(&x, t, "text_config", "vocab_size", &T->vocab, 1, 4194304);
        get_int(&x, t, "text_config", "d_model", &T->d_model, 1, 65536);
        get_int(&x, t, "text_config", "d_kv", &T->d_kv, 1, 65536);
        get_int(&x, t, "text_config", "d_ff", &T->d_ff, 1, 1048576);
        get_int(&x, t, "text_config", "num_layers", &T->n_enc, 1, 1024);
        T->n_dec = T->n_enc;
        get_int(&x, t, "text_config", "num_decoder_layers", &T->n_dec, 1, 1024);
        get_int(&x, t, "text_config", "num_heads", &T->heads, 1, 4096);
        get_int(&x, t, "text_config", "relative_attention_num_buckets", &T->n_buckets, 2, 4096);
        get_int(&x, t, "text_config", "relative_attention_max_distance", &T->max_distance, 1, 1048576);
        get_float(&x, t, "text_config", "layer_norm_epsilon", &T->eps);
        get_bool(&x, t, "text_config", "tie_word_embeddings", &T->tie);
        get_int(&x, t, "text_config", "pad_token_id", &T->pad_id, 0, 4194303);
        get_int(&x, t, "text_config", "eos_token_id", &T->eos_id, 0, 4194303);
        get_int(&x, t, "text_config", "decoder_start_token_id", &T->dec_start_id, 0, 4194303);
        /* feed_forward_proj: "relu" | "gated-gelu" | "<act>" | "gated-<act>"; T5Config maps gelu -> gelu_new */
        const cJSON * ff = cJSON_GetObjectItemCaseSensitive(t, "feed_forward_proj");
        const char *  ffs = cJSON_IsString(ff) ? ff->valuestring : "relu";
        const char *  act = ffs;
        T->gated = 0;
        if (!strncmp(ffs, "gated-", 6)) T->gated = 1, act = ffs + 6;
        if (!strcmp(ffs, "gated-gelu"))
            T->act = VB_ACT_GELU_TANH;
        else
            parse_act(&x, "text_config", "feed_forward_proj", act, &T->act);
        get_act(&x, t, "text_config", "dense_act_fn", &T->act); /* an explicit key wins */
    }
    const cJSON * mb = cJSON_GetObjectItemCaseSensitive(root, "methods_bundle");
    if (cJSON_IsObject(mb)) {
        c->has_methods_bundle = 1;
        get_float(&x, mb, "methods_bundle", "ln_vision_eps", &c->vision.post_ln_eps);
        /* read again by the bundle (vlap/bundle.c): bounded here, before anything converts it */
        const cJSON * fp = cJSON_GetObjectItemCaseSensitive(mb, "frame_prompter");
        int32_t       segments = 4;
        if (cJSON_IsObject(fp)) get_int(&x, fp, "methods_bundle.frame_prompter", "segments", &segments, 1, 1024);
    }
    cJSON_Delete(root);
    if (x.rc != VB_OK) return x.rc;
    /* cross-checks: every size product the engine forms, in int64 against the same kind of bound */
    const struct vb_vision_config * V = &c->vision;
    if (V->image_size < V->patch || V->hidden % V->heads)
        return vb_fail(VB_ERR_FORMAT, "%s: vision_config: inconsistent sizes (hidden %d, heads %d, image %d, patch %d)",
                       origin, V->hidden, V->heads, V->image_size, V->patch);
    const int64_t g = V->image_size / V->patch;
    if (g * g > VB_CONFIG_MAX_PATCHES)
        return vb_fail(VB_ERR_FORMAT,
                       "%s: vision_config.image_size %d / patch_size %d gives %lld patches per frame (at most %d)",
                       origin, V->image_size, V->patch, (long long)(g * g), VB_CONFIG_MAX_PATCHES);
    const struct vb_qformer_config * Q = &c->qformer;
    if (Q->hidden % Q->heads)
        return vb_fail(VB_ERR_FORMAT, "%s: qformer_config: inconsistent sizes (hidden_size %d, num_attention_heads %d)",
                       origin, Q->hidden, Q->heads);
    if (Q->encoder_hidden != V->hidden)
        return vb_fail(VB_ERR_FORMAT,
                       "%s: qformer_config.encoder_hidden_size %d differs from vision_config.hidden_size %d (the "
                       "Q-Former cross-attends to the ViT's features)",
                       origin, Q->encoder_hidden, V->hidden);
    if (Q->pad_id >= Q->vocab)
        return vb_fail(VB_ERR_FORMAT, "%s: qformer_config.pad_token_id %d is not below vocab_size %d", origin,
                       Q->pad_id, Q->vocab);
    const struct vb_t5_config * T = &c->t5;
    if ((int64_t)T->heads * T->d_kv > VB_CONFIG_MAX_INNER)
        return vb_fail(VB_ERR_FORMAT, "%s: text_config: num_heads %d x d_kv %d = %lld is above %d", origin, T->heads,
                       T->d_kv, (long long)T->heads * T->d_kv, VB_CONFIG_MAX_INNER);
    const int32_t      ids[3] = {T->pad_id, T->eos_id, T->dec_start_id};
    const char * const idn[3] = {"pad_token_id", "eos_token_id", "decoder_start_token_id"};
    for (int i = 0; i < 3; i++)
        if (ids[i] >= T->vocab)
            return vb_fail(VB_ERR_FORMAT, "%s: text_config.%s %d is not below vocab_size %d", origin, idn[i], ids[i],
                           T->vocab);
    c->vision.n_patches = (int32_t)(g * g);
    c->vision.n_tokens = (int32_t)(g * g + 1);
    return VB_OK;
}

int vb_config_load(struct vb_model_config * c, const char * path) {
    char * js;
    int    rc = vb_read_file(path, &js, NULL);
    if (rc != VB_OK) return rc;
    rc = vb_config_parse(c, js, path);
    free(js);
    return rc;
}
