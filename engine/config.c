/* config.c — HF config.json reading with the 4.35.2 defaults (see config.h). */
#include "engine/config.h"

#include "base/common.h"

#include <cjson/cJSON.h>
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
    c->vision =
        (struct vb_vision_config){1408, 6144, 39, 16, 224, 14, 1, 1e-6f, 1e-6f, VB_ACT_GELU_ERF, 0, 0, VB_DT_F32};
    c->qformer = (struct vb_qformer_config){
        768, 3072, 12, 12, 30522, 512, 2, 1408, 0, 1e-12f, VB_ACT_GELU_ERF, arch == VB_ARCH_INSTRUCTBLIP, VB_DT_F32};
    c->t5 = (struct vb_t5_config){32128, 512, 64, 2048, 6, 6, 8, 32, 128, 1e-6f, VB_ACT_RELU, 0, 1, 0, 1, 0, VB_DT_F32};
}

struct ctx {
    const char * origin;
    int          rc;
};

static int get_int(struct ctx * x, const cJSON * o, const char * sect, const char * key, int32_t * out) {
    const cJSON * v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v)) return 0;
    if (!cJSON_IsNumber(v) || v->valuedouble != (double)(int64_t)v->valuedouble || v->valuedouble < 0 ||
        v->valuedouble > 1e9) {
        if (x->rc == VB_OK)
            x->rc = vb_fail(VB_ERR_FORMAT, "%s: %s%s%s must be a non-negative integer", x->origin, sect,
                            *sect ? "." : "", key);
        return 0;
    }
    *out = (int32_t)v->valuedouble;
    return 1;
}

static void get_float(struct ctx * x, const cJSON * o, const char * sect, const char * key, float * out) {
    const cJSON * v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v)) return;
    if (!cJSON_IsNumber(v)) {
        if (x->rc == VB_OK) x->rc = vb_fail(VB_ERR_FORMAT, "%s: %s.%s must be a number", x->origin, sect, key);
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
    get_int(&x, root, "", "num_query_tokens", &c->num_query_tokens);

    const cJSON * v = cJSON_GetObjectItemCaseSensitive(root, "vision_config");
    if (v && !cJSON_IsObject(v)) x.rc = vb_fail(VB_ERR_FORMAT, "%s: vision_config must be an object", origin);
    if (cJSON_IsObject(v)) {
        struct vb_vision_config * V = &c->vision;
        get_int(&x, v, "vision_config", "hidden_size", &V->hidden);
        get_int(&x, v, "vision_config", "intermediate_size", &V->intermediate);
        get_int(&x, v, "vision_config", "num_hidden_layers", &V->layers);
        get_int(&x, v, "vision_config", "num_attention_heads", &V->heads);
        get_int(&x, v, "vision_config", "image_size", &V->image_size);
        get_int(&x, v, "vision_config", "patch_size", &V->patch);
        get_bool(&x, v, "vision_config", "qkv_bias", &V->qkv_bias);
        get_float(&x, v, "vision_config", "layer_norm_eps", &V->ln_eps);
        get_act(&x, v, "vision_config", "hidden_act", &V->act);
    }
    c->vision.post_ln_eps = c->vision.ln_eps;

    const cJSON * q = cJSON_GetObjectItemCaseSensitive(root, "qformer_config");
    if (q && !cJSON_IsObject(q)) x.rc = vb_fail(VB_ERR_FORMAT, "%s: qformer_config must be an object", origin);
    if (cJSON_IsObject(q)) {
        struct vb_qformer_config * Q = &c->qformer;
        get_int(&x, q, "qformer_config", "hidden_size", &Q->hidden);
        get_int(&x, q, "qformer_config", "intermediate_size", &Q->intermediate);
        get_int(&x, q, "qformer_config", "num_hidden_layers", &Q->layers);
        get_int(&x, q, "qformer_config", "num_attention_heads", &Q->heads);
        get_int(&x, q, "qformer_config", "vocab_size", &Q->vocab);
        get_int(&x, q, "qformer_config", "max_position_embeddings", &Q->max_pos);
        get_int(&x, q, "qformer_config", "cross_attention_frequency", &Q->cross_freq);
        get_int(&x, q, "qformer_config", "encoder_hidden_size", &Q->encoder_hidden);
        get_int(&x, q, "qformer_config", "pad_token_id", &Q->pad_id);
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
        get_int(&x, t, "text_config", "vocab_size", &T->vocab);
        get_int(&x, t, "text_config", "d_model", &T->d_model);
        get_int(&x, t, "text_config", "d_kv", &T->d_kv);
        get_int(&x, t, "text_config", "d_ff", &T->d_ff);
        get_int(&x, t, "text_config", "num_layers", &T->n_enc);
        T->n_dec = T->n_enc;
        get_int(&x, t, "text_config", "num_decoder_layers", &T->n_dec);
        get_int(&x, t, "text_config", "num_heads", &T->heads);
        get_int(&x, t, "text_config", "relative_attention_num_buckets", &T->n_buckets);
        get_int(&x, t, "text_config", "relative_attention_max_distance", &T->max_distance);
        get_float(&x, t, "text_config", "layer_norm_epsilon", &T->eps);
        get_bool(&x, t, "text_config", "tie_word_embeddings", &T->tie);
        get_int(&x, t, "text_config", "pad_token_id", &T->pad_id);
        get_int(&x, t, "text_config", "eos_token_id", &T->eos_id);
        get_int(&x, t, "text_config", "decoder_start_token_id", &T->dec_start_id);
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
    }
    cJSON_Delete(root);
    if (x.rc != VB_OK) return x.rc;
    /* sanity: shapes must be usable */
    const struct vb_vision_config * V = &c->vision;
    if (V->patch <= 0 || V->image_size < V->patch || V->heads <= 0 || V->hidden % V->heads)
        return vb_fail(VB_ERR_FORMAT, "%s: vision_config: inconsistent sizes (hidden %d, heads %d, image %d, patch %d)",
                       origin, V->hidden, V->heads, V->image_size, V->patch);
    if (c->qformer.heads <= 0 || c->qformer.hidden % c->qformer.heads || c->qformer.cross_freq <= 0)
        return vb_fail(VB_ERR_FORMAT, "%s: qformer_config: inconsistent sizes", origin);
    if (c->t5.heads <= 0 || c->t5.d_kv <= 0 || c->t5.n_buckets <= 0)
        return vb_fail(VB_ERR_FORMAT, "%s: text_config: inconsistent sizes", origin);
    int32_t g = V->image_size / V->patch;
    c->vision.n_patches = g * g;
    c->vision.n_tokens = g * g + 1;
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
