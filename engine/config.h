/* config.h — Hugging Face config.json of Blip2ForConditionalGeneration / InstructBlipForConditionalGeneration
** with a T5 language model.
**
** save_pretrained() writes only non-default keys, so every default of Blip2VisionConfig, Blip2QFormerConfig,
** InstructBlip*Config and T5Config (transformers 4.35.2) is known here; a missing key takes that default.
** T5's activation: text_config.dense_act_fn when present, else derived from feed_forward_proj ("gated-gelu" ->
** "gelu_new", the tanh form); the real BLIP-2 checkpoints say "gelu" (exact erf).
*/
#ifndef VB_CONFIG_H
#define VB_CONFIG_H

#include "engine/weights.h" /* enum vb_dtype of weight_dtype */

#include <stdint.h>

/* Cross-check bounds of vb_config_parse (besides each key's own range): patches per frame ((image_size / patch_size)^2)
** and T5's attention width (num_heads x d_kv). */
#define VB_CONFIG_MAX_PATCHES 65536
#define VB_CONFIG_MAX_INNER   1048576

enum vb_arch { VB_ARCH_BLIP2 = 0, VB_ARCH_INSTRUCTBLIP = 1 };
enum vb_act { VB_ACT_GELU_ERF = 0, VB_ACT_GELU_TANH = 1, VB_ACT_RELU = 2 };

/* Where a model runs (the `device` load option of the configs below). */
enum vb_device { VB_DEVICE_CPU = 0, VB_DEVICE_CUDA = 1 };

struct vb_vision_config {
    int32_t hidden;        /* 1408 */
    int32_t intermediate;  /* 6144 */
    int32_t layers;        /* 39 */
    int32_t heads;         /* 16 */
    int32_t image_size;    /* 224 */
    int32_t patch;         /* 14 */
    int32_t qkv_bias;      /* 1 */
    float   ln_eps;        /* 1e-6, inside the blocks */
    float   post_ln_eps;   /* eps of post_layernorm (= ln_vision): config.methods_bundle.ln_vision_eps when present
                              (LAVIS: 1e-5), else ln_eps as HF does */
    enum vb_act act;       /* hidden_act, gelu = exact */
    int32_t     n_patches; /* derived: (image_size / patch)^2 */
    int32_t     n_tokens;  /* derived: n_patches + 1 */
    int32_t weight_dtype;  /* load option, never from config.json: resident dtype of the large matrices (enum vb_dtype
                              VB_DT_F32 = 0 = default, VB_DT_BF16 or VB_DT_F16; engine/wmat.h); set before vb_vit_load */
    int32_t device;        /* load option, never from config.json: VB_DEVICE_CPU (0, default) or VB_DEVICE_CUDA: the
                              loader also uploads the model (f32 weights as f32, bf16 / f16 as bf16) and the run
                              functions run on the GPU (engine/cuda/cuda.h, docs/cuda.md) */
};

struct vb_qformer_config {
    int32_t     hidden;         /* 768 */
    int32_t     intermediate;   /* 3072 */
    int32_t     layers;         /* 12 */
    int32_t     heads;          /* 12 */
    int32_t     vocab;          /* 30522 (BLIP-2) / 30523 (InstructBLIP) */
    int32_t     max_pos;        /* 512 */
    int32_t     cross_freq;     /* cross_attention_frequency, 2: layers with idx % freq == 0 */
    int32_t     encoder_hidden; /* 1408 */
    int32_t     pad_id;         /* 0 */
    float       ln_eps;         /* 1e-12 */
    enum vb_act act;
    int32_t     has_text;     /* InstructBLIP: word/position embeddings and text FFNs */
    int32_t     weight_dtype; /* load option (as vb_vision_config.weight_dtype); set before vb_qformer_load */
    int32_t     device;       /* load option (as vb_vision_config.device) */
};

struct vb_t5_config {
    int32_t     vocab;        /* 32128 */
    int32_t     d_model;      /* 2048 */
    int32_t     d_kv;         /* 64 */
    int32_t     d_ff;         /* 5120 */
    int32_t     n_enc;        /* num_layers, 24 */
    int32_t     n_dec;        /* num_decoder_layers (default num_layers), 24 */
    int32_t     heads;        /* 32 */
    int32_t     n_buckets;    /* 32 */
    int32_t     max_distance; /* 128 */
    float       eps;          /* layer_norm_epsilon 1e-6 */
    enum vb_act act;          /* dense_act_fn */
    int32_t     gated;        /* feed_forward_proj starts with "gated-" */
    int32_t     tie;          /* tie_word_embeddings */
    int32_t     pad_id, eos_id, dec_start_id;
    int32_t     weight_dtype; /* load option (as vb_vision_config.weight_dtype); set before vb_t5_load */
    int32_t     device;       /* load option (as vb_vision_config.device) */
};

struct vb_model_config {
    enum vb_arch             arch;
    int32_t                  num_query_tokens; /* 32 */
    struct vb_vision_config  vision;
    struct vb_qformer_config qformer;
    struct vb_t5_config      t5;
    int32_t has_methods_bundle; /* config.json has a "methods_bundle" object (vlapbench / golden bundles) */
};

/* Read config.json at `path`.  Unknown architectures or a non-T5 language model: VB_ERR_UNSUPPORTED; malformed
** JSON, a wrong-typed value, a size outside its sane range (layers 1..1024, widths 1..65536, ...; see config.c), an
** epsilon outside (0, 1) or sizes that disagree (hidden % heads, patches per frame, heads x d_kv, Q-Former
** encoder_hidden_size != vision hidden_size, a token id >= vocab_size): VB_ERR_FORMAT naming the file and the key.
** A config that passes still has to match the tensors' shapes: the loaders check those before allocating. */
int vb_config_load(struct vb_model_config * cfg, const char * path);
/* Same from a JSON string (`origin` names it in messages). */
int vb_config_parse(struct vb_model_config * cfg, const char * json, const char * origin);
/* Defaults of everything (BLIP-2 Flan-T5-XL shapes). */
void vb_config_defaults(struct vb_model_config * cfg, enum vb_arch arch);
/* HF name of an activation ("gelu", "gelu_new", "relu"); "?" for an unknown value.  Static string, never NULL. */
const char * vb_act_name(enum vb_act a);

#endif
