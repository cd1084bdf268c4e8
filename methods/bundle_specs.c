/* bundle_specs.c — the tensor names and shapes of a bundle (vb_bundle_tensor_specs, see bundle.h). */
#include "methods/bundle.h"

#include "base/common.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

struct specs {
    struct vb_tensor_spec * v;
    int32_t                 n, cap;
};

static void add(struct specs * s, enum vb_init_kind init, float scale, int32_t ndim, const int64_t * shape,
                const char * fmt, ...) __attribute__((format(printf, 6, 7)));

static void add(struct specs * s, enum vb_init_kind init, float scale, int32_t ndim, const int64_t * shape,
                const char * fmt, ...) {
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 256;
        s->v = vb_realloc(s->v, sizeof *s->v * (size_t)s->cap);
    }
    struct vb_tensor_spec * t = &s->v[s->n++];
    memset(t, 0, sizeof *t);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->name, sizeof t->name, fmt, ap);
    va_end(ap);
    t->ndim = ndim;
    for (int32_t i = 0; i < ndim; i++)
        t->shape[i] = shape[i];
    t->init = init;
    t->scale = scale;
}

#define S1(a)          ((const int64_t[]){(a)})
#define S2(a, b)       ((const int64_t[]){(a), (b)})
#define S3(a, b, c)    ((const int64_t[]){(a), (b), (c)})
#define S4(a, b, c, d) ((const int64_t[]){(a), (b), (c), (d)})

static float inv_sqrt(int64_t n) {
    return (float)(1.0 / sqrt((double)n));
}

/* Linear weight (out, in) + optional bias. */
static void lin(struct specs * s, const char * base, int64_t out, int64_t in, int bias) {
    add(s, VB_INIT_LINEAR, inv_sqrt(in), 2, S2(out, in), "%s.weight", base);
    if (bias) add(s, VB_INIT_BIAS, 0, 1, S1(out), "%s.bias", base);
}

static void ln(struct specs * s, const char * base, int64_t d) {
    add(s, VB_INIT_ONES, 0, 1, S1(d), "%s.weight", base);
    add(s, VB_INIT_BIAS, 0, 1, S1(d), "%s.bias", base);
}

static void qformer_specs(struct specs * s, const struct vb_model_config * c, const char * pre, int text) {
    const struct vb_qformer_config * q = &c->qformer;
    char                             b[200];
    int64_t                          D = q->hidden;
    if (text) {
        add(s, VB_INIT_NORMAL, 1.0f, 2, S2(q->vocab, D), "%sembeddings.word_embeddings.weight", pre);
        add(s, VB_INIT_NORMAL, 0.1f, 2, S2(q->max_pos, D), "%sembeddings.position_embeddings.weight", pre);
        snprintf(b, sizeof b, "%sembeddings.layernorm", pre);
    } else {
        snprintf(b, sizeof b, "%slayernorm", pre);
    }
    ln(s, b, D);
    for (int32_t l = 0; l < q->layers; l++) {
        const char * names[3] = {"query", "key", "value"};
        for (int i = 0; i < 3; i++) {
            snprintf(b, sizeof b, "%sencoder.layer.%d.attention.attention.%s", pre, l, names[i]);
            lin(s, b, D, D, 1);
        }
        snprintf(b, sizeof b, "%sencoder.layer.%d.attention.output.dense", pre, l);
        lin(s, b, D, D, 1);
        snprintf(b, sizeof b, "%sencoder.layer.%d.attention.output.LayerNorm", pre, l);
        ln(s, b, D);
        if (q->cross_freq > 0 && l % q->cross_freq == 0) {
            for (int i = 0; i < 3; i++) {
                snprintf(b, sizeof b, "%sencoder.layer.%d.crossattention.attention.%s", pre, l, names[i]);
                lin(s, b, D, i == 0 ? D : q->encoder_hidden, 1);
            }
            snprintf(b, sizeof b, "%sencoder.layer.%d.crossattention.output.dense", pre, l);
            lin(s, b, D, D, 1);
            snprintf(b, sizeof b, "%sencoder.layer.%d.crossattention.output.LayerNorm", pre, l);
            ln(s, b, D);
        }
        if (text) {
            snprintf(b, sizeof b, "%sencoder.layer.%d.intermediate.dense", pre, l);
            lin(s, b, q->intermediate, D, 1);
            snprintf(b, sizeof b, "%sencoder.layer.%d.output.dense", pre, l);
            lin(s, b, D, q->intermediate, 1);
            snprintf(b, sizeof b, "%sencoder.layer.%d.output.LayerNorm", pre, l);
            ln(s, b, D);
        }
        snprintf(b, sizeof b, "%sencoder.layer.%d.intermediate_query.dense", pre, l);
        lin(s, b, q->intermediate, D, 1);
        snprintf(b, sizeof b, "%sencoder.layer.%d.output_query.dense", pre, l);
        lin(s, b, D, q->intermediate, 1);
        snprintf(b, sizeof b, "%sencoder.layer.%d.output_query.LayerNorm", pre, l);
        ln(s, b, D);
    }
}

static void t5_specs(struct specs * s, const struct vb_model_config * c) {
    const struct vb_t5_config * t = &c->t5;
    int64_t                     d = t->d_model, inner = (int64_t)t->heads * t->d_kv;
    char                        b[200];
    add(s, VB_INIT_NORMAL, 1.0f, 2, S2(t->vocab, d), "language_model.shared.weight");
    for (int dec = 0; dec < 2; dec++) {
        const char * st = dec ? "decoder" : "encoder";
        int32_t      nb = dec ? t->n_dec : t->n_enc;
        for (int32_t i = 0; i < nb; i++) {
            const char * sa = "SelfAttention";
            /* HF T5 init: q ~ (d * d_kv)^-1/2 keeps the unscaled scores O(1) */
            add(s, VB_INIT_LINEAR, inv_sqrt(d * t->d_kv), 2, S2(inner, d),
                "language_model.%s.block.%d.layer.0.%s.q.weight", st, i, sa);
            add(s, VB_INIT_LINEAR, inv_sqrt(d), 2, S2(inner, d), "language_model.%s.block.%d.layer.0.%s.k.weight", st,
                i, sa);
            add(s, VB_INIT_LINEAR, inv_sqrt(d), 2, S2(inner, d), "language_model.%s.block.%d.layer.0.%s.v.weight", st,
                i, sa);
            add(s, VB_INIT_LINEAR, inv_sqrt(inner), 2, S2(d, inner), "language_model.%s.block.%d.layer.0.%s.o.weight",
                st, i, sa);
            if (i == 0)
                add(s, VB_INIT_NORMAL, 0.5f, 2, S2(t->n_buckets, t->heads),
                    "language_model.%s.block.0.layer.0.%s.relative_attention_bias.weight", st, sa);
            add(s, VB_INIT_ONES, 0, 1, S1(d), "language_model.%s.block.%d.layer.0.layer_norm.weight", st, i);
            int ff = 1;
            if (dec) {
                const char * ca = "EncDecAttention";
                add(s, VB_INIT_LINEAR, inv_sqrt(d * t->d_kv), 2, S2(inner, d),
                    "language_model.decoder.block.%d.layer.1.%s.q.weight", i, ca);
                add(s, VB_INIT_LINEAR, inv_sqrt(d), 2, S2(inner, d),
                    "language_model.decoder.block.%d.layer.1.%s.k.weight", i, ca);
                add(s, VB_INIT_LINEAR, inv_sqrt(d), 2, S2(inner, d),
                    "language_model.decoder.block.%d.layer.1.%s.v.weight", i, ca);
                add(s, VB_INIT_LINEAR, inv_sqrt(inner), 2, S2(d, inner),
                    "language_model.decoder.block.%d.layer.1.%s.o.weight", i, ca);
                add(s, VB_INIT_ONES, 0, 1, S1(d), "language_model.decoder.block.%d.layer.1.layer_norm.weight", i);
                ff = 2;
            }
            snprintf(b, sizeof b, "language_model.%s.block.%d.layer.%d", st, i, ff);
            if (t->gated) {
                add(s, VB_INIT_LINEAR, inv_sqrt(d), 2, S2(t->d_ff, d), "%s.DenseReluDense.wi_0.weight", b);
                add(s, VB_INIT_LINEAR, inv_sqrt(d), 2, S2(t->d_ff, d), "%s.DenseReluDense.wi_1.weight", b);
            } else {
                add(s, VB_INIT_LINEAR, inv_sqrt(d), 2, S2(t->d_ff, d), "%s.DenseReluDense.wi.weight", b);
            }
            add(s, VB_INIT_LINEAR, inv_sqrt(t->d_ff), 2, S2(d, t->d_ff), "%s.DenseReluDense.wo.weight", b);
            add(s, VB_INIT_ONES, 0, 1, S1(d), "%s.layer_norm.weight", b);
        }
        add(s, VB_INIT_ONES, 0, 1, S1(d), "language_model.%s.final_layer_norm.weight", st);
    }
    if (!t->tie) add(s, VB_INIT_LINEAR, inv_sqrt(d), 2, S2(t->vocab, d), "language_model.lm_head.weight");
}

int vb_bundle_tensor_specs(const struct vb_model_config * c, int with_localizer, int32_t fp_segments,
                           int32_t fp_frames_per_segment, struct vb_tensor_spec ** out, int32_t * n) {
    struct specs                    s = {0};
    const struct vb_vision_config * v = &c->vision;
    int64_t                         D = v->hidden, p = v->patch;
    if (D <= 0 || p <= 0 || v->n_tokens <= 0 || c->qformer.hidden <= 0 || c->t5.d_model <= 0)
        return vb_fail(VB_ERR_ARG, "init-model: config has a non-positive size");
    /* vision */
    add(&s, VB_INIT_NORMAL, 0.5f, 3, S3(1, 1, D), "vision_model.embeddings.class_embedding");
    add(&s, VB_INIT_LINEAR, inv_sqrt(3 * p * p), 4, S4(D, 3, p, p), "vision_model.embeddings.patch_embedding.weight");
    add(&s, VB_INIT_BIAS, 0, 1, S1(D), "vision_model.embeddings.patch_embedding.bias");
    add(&s, VB_INIT_NORMAL, 0.5f, 3, S3(1, v->n_tokens, D), "vision_model.embeddings.position_embedding");
    char b[200];
    for (int32_t l = 0; l < v->layers; l++) {
        snprintf(b, sizeof b, "vision_model.encoder.layers.%d.layer_norm1", l);
        ln(&s, b, D);
        snprintf(b, sizeof b, "vision_model.encoder.layers.%d.layer_norm2", l);
        ln(&s, b, D);
        snprintf(b, sizeof b, "vision_model.encoder.layers.%d.self_attn.qkv", l);
        lin(&s, b, 3 * D, D, v->qkv_bias);
        snprintf(b, sizeof b, "vision_model.encoder.layers.%d.self_attn.projection", l);
        lin(&s, b, D, D, 1);
        snprintf(b, sizeof b, "vision_model.encoder.layers.%d.mlp.fc1", l);
        lin(&s, b, v->intermediate, D, 1);
        snprintf(b, sizeof b, "vision_model.encoder.layers.%d.mlp.fc2", l);
        lin(&s, b, D, v->intermediate, 1);
    }
    ln(&s, "vision_model.post_layernorm", D);
    /* answerer / student */
    int text = c->arch == VB_ARCH_INSTRUCTBLIP;
    add(&s, VB_INIT_NORMAL, 1.0f, 3, S3(1, c->num_query_tokens, c->qformer.hidden), "query_tokens");
    qformer_specs(&s, c, "qformer.", text);
    lin(&s, "language_projection", c->t5.d_model, c->qformer.hidden, 1);
    t5_specs(&s, c);
    if (with_localizer) {
        add(&s, VB_INIT_NORMAL, 1.0f, 3, S3(1, c->num_query_tokens, c->qformer.hidden), "localizer.query_tokens");
        qformer_specs(&s, c, "localizer.qformer.", 0);
        lin(&s, "localizer.language_projection", c->t5.d_model, c->qformer.hidden, 1);
        ln(&s, "localizer.vision_layernorm", D);
    }
    if (fp_segments > 0) {
        int64_t k = fp_frames_per_segment;
        if (k <= 0) {
            free(s.v);
            return vb_fail(VB_ERR_ARG, "init-model: frame prompter needs frames_per_segment > 0");
        }
        lin(&s, "frame_prompter.fc1", k, k * v->n_tokens, 1);
        ln(&s, "frame_prompter.norm", k);
        /* fc2 reads ReLU outputs; a larger scale makes the per-segment picks depend on the frames */
        lin(&s, "frame_prompter.fc2", k, k, 1);
    }
    *out = s.v;
    *n = s.n;
    return VB_OK;
}
