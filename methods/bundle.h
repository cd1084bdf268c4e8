/* bundle.h — a model bundle directory, as the methods load it (docs/bundle.md):
**
**     DIR/config.json              HF Blip2Config / InstructBlipConfig (T5 language model), optionally with a
**                                  "methods_bundle" object (ln_vision_eps, frame_prompter sizes, ...)
**     DIR/model.safetensors        (or model.safetensors.index.json + shards) HF state_dict names, plus the extra
**                                  prefixes localizer.* (SeViLA) / frame_prompter.* (VLAP)
**     DIR/tokenizer.json           the fast T5 tokenizer (Flan-T5)
**     DIR/vocab.txt                bert-base-uncased WordPiece vocabulary (InstructBLIP / VLAP only)
**
** Salesforce/blip2-flan-t5-xl and Salesforce/instructblip-flan-t5-xl directories are bundles as they are (plus the
** extra tensors for SeViLA / VLAP).  The letter ids of the answer readout and the "yes" id of the localizer are looked
** up by piece text ("▁A".."▁E", "▁yes") in the tokenizer; a vocabulary without them is rejected.
**
** LayerNorm after the ViT (LAVIS ln_vision, HF post_layernorm) uses methods_bundle.ln_vision_eps when config.json has
** it, else 1e-5 (LAVIS's torch default) — not HF's vision layer_norm_eps (1e-6), which is the eps inside the ViT
** blocks.  The engine's vb_vision_config.post_ln_eps carries the value (set here).  SeViLA's ln_vision_loc
** (localizer.vision_layernorm) uses the same eps.
*/
#ifndef VB_BUNDLE_H
#define VB_BUNDLE_H

#include "engine/config.h"
#include "engine/weights.h"

#include <stdint.h>

struct vb_t5tok;
struct vb_berttok;
struct vb_vit;
struct vb_qformer;
struct vb_projection;
struct vb_frame_prompter;
struct vb_t5_model;

/* Which parts to load (bit set); VB_BUNDLE_ALL loads everything present. */
#define VB_BUNDLE_VISION    1u
#define VB_BUNDLE_QFORMER   2u /* answerer / student Q-Former, query tokens, language projection */
#define VB_BUNDLE_LOCALIZER 4u /* localizer.* (required if requested) */
#define VB_BUNDLE_PROMPTER  8u /* frame_prompter.* (required if requested) */
#define VB_BUNDLE_T5        16u
#define VB_BUNDLE_ALL       0xffu

struct vb_bundle;

struct vb_bundle_opts {
    const char * t5_tokenizer; /* tokenizer.json path; NULL = DIR/tokenizer.json */
    const char * bert_vocab;   /* vocab.txt path; NULL = DIR/vocab.txt (only read for InstructBLIP) */
    unsigned     parts;        /* VB_BUNDLE_* bits; 0 = VB_BUNDLE_ALL */
    int32_t      weight_dtype; /* enum vb_dtype of the resident large matrices of the ViT, Q-Formers and T5:
                                  VB_DT_F32 (0, the default), VB_DT_BF16 or VB_DT_F16 (copied into cfg.vision /
                                  cfg.qformer / cfg.t5.weight_dtype before the parts are loaded) */
    int32_t device;            /* enum vb_device: VB_DEVICE_CPU (0, the default) or VB_DEVICE_CUDA (copied into the
                                  three configs' device: the ViT, Q-Formers, projections and T5 are uploaded at load
                                  and run on the GPU; engine/cuda/cuda.h) */
    /* Already-open bundles to share frozen components with (component sharing, see below); borrowed, may be NULL. */
    struct vb_bundle * const * share;
    int32_t                    n_share;
};

struct vb_bundle {
    char *                 dir;
    struct vb_model_config cfg; /* vision.post_ln_eps = ln_vision_eps (see above) */
    struct vb_weights *    w;
    char *                 config_json; /* raw config.json text */
    char *                 t5_tokenizer_path, *bert_vocab_path;
    struct vb_t5tok *      t5tok;
    struct vb_berttok *    berttok;       /* NULL for BLIP-2 */
    int32_t                letter_ids[5]; /* ids of "▁A".."▁E" (Flan-T5: 71 272 205 309 262) */
    int32_t                yes_id, no_id; /* "▁yes" (4273), "▁no" (150; -1 if absent) */
    int32_t                eos_id;        /* </s> */
    float                  ln_vision_eps;
    int32_t                has_localizer;         /* localizer.* tensors present */
    int32_t                has_frame_prompter;    /* frame_prompter.* tensors present */
    int32_t                fp_segments;           /* Frame-Prompter S (from methods_bundle, else 4) */
    int32_t                fp_frames_per_segment; /* T/S, from frame_prompter.fc2.weight's shape (k, k) */
    /* loaded components (NULL when not requested / absent) */
    struct vb_vit *            vit;                 /* vision_model.* */
    struct vb_qformer *        qformer;             /* answerer / student: query_tokens + qformer.* */
    struct vb_projection *     proj;                /* language_projection */
    struct vb_qformer *        loc_qformer;         /* SeViLA localizer: localizer.query_tokens + localizer.qformer.* */
    struct vb_projection *     loc_proj;            /* localizer.language_projection */
    float *                    loc_ln_w, *loc_ln_b; /* (d_vis) localizer.vision_layernorm */
    struct vb_frame_prompter * fp; /* frame_prompter.* (VLAP), T = fp_segments * fp_frames_per_segment */
    struct vb_t5_model *       t5;
    unsigned                   parts_loaded;
    /* component sharing: the bundle these parts were borrowed from (NULL = loaded here).  vit_lender: the ViT
    ** blocks and embeddings are the lender's (b->vit is our own small struct pointing at them, with OUR
    ** post_layernorm); t5_lender: b->t5 IS the lender's model. */
    const struct vb_bundle * vit_lender;
    const struct vb_bundle * t5_lender;
    int64_t                  shared_bytes; /* bytes of source tensors found identical and not loaded again */
};

/* Open a bundle directory.  Reads config.json, opens the weights, loads the tokenizers, resolves the letter / yes
** ids and loads the requested components (opts may be NULL: defaults).  On success *out is owned by the caller
** (vb_bundle_close).  On failure a negative vb_status naming the file / tensor / piece; nothing leaks.
**
** COMPONENT SHARING.  Real checkpoints share byte-identical frozen parts (the EVA ViT-g and Flan-T5-XL of
** blip2-flan-t5-xl, SeViLA and instructblip-flan-t5-xl are the same bytes).  Before loading the ViT and the T5, each
** bundle in opts->share is compared with this one:
**   ViT: same vision config (post_ln_eps excepted) and weight_dtype, and the same set of vision_model.* tensors
**        EXCEPT vision_model.post_layernorm.* (names, dtype, shape, bytes).  The post-LayerNorm (LAVIS ln_vision, fine
**        tuned per model, eps per bundle) is always this bundle's own: b->vit is a small struct of ours whose blocks,
**        embeddings and patch weights point at the lender's and whose post_ln_w / post_ln_b / cfg.post_ln_eps are
**        ours.  (Equal blocks => equal body features: a shared ViT body feature cache stays exact.)
**   T5:  same t5 config and weight_dtype, and the same set of language_model.* tensors, byte for byte.  b->t5 is
**        then the lender's model itself.
** The comparison reads both mappings; every tensor pair is dropped from the RSS (vb_weights_drop_pages) after its
** memcmp, so comparing does not raise the peak.  Metadata (names, dtypes, shapes) is compared before any byte.
** The parts borrowed are reported in b->vit_lender / b->t5_lender (and logged at VB_LOG_INFO).
** LIFETIME: a lender must outlive its borrowers; close bundles in the reverse order of opening (the runner does). */
int vb_bundle_open(struct vb_bundle ** out, const char * dir, const struct vb_bundle_opts * opts);
/* Free the bundle, its components, tokenizers and weights (b may be NULL).  Methods opened on it must be closed
** first; borrowed components are not freed (their lender frees them, and must be closed after b). */
void vb_bundle_close(struct vb_bundle * b);

/* Resolve the ids of "▁A".."▁E", "▁yes", "▁no" and </s> from a tokenizer into b (also used by tests). Returns VB_OK or
** VB_ERR_FORMAT naming the missing piece and the tokenizer path. */
int vb_bundle_lookup_ids(struct vb_bundle * b);

/* ---- tensor layout of a bundle (used by init-model and docs) ---- */
enum vb_init_kind {
    VB_INIT_ONES = 0, /* LayerNorm / RMS weights: 1 + 0.02 N */
    VB_INIT_BIAS,     /* 0.02 N */
    VB_INIT_LINEAR,   /* N(0, scale^2), scale in the spec */
    VB_INIT_NORMAL    /* N(0, scale^2) embeddings, query tokens */
};

struct vb_tensor_spec {
    char              name[160];
    int32_t           ndim;
    int64_t           shape[4];
    enum vb_init_kind init;
    float             scale;
};

/* Every tensor a bundle of this config has (HF names; tied aliases omitted), plus localizer.* when with_localizer
** (query tokens of num_query_tokens) and frame_prompter.* when fp_segments > 0 (fc1 (T/S, T/S * n_tok), norm (T/S),
** fc2 (T/S, T/S) with T = fp_segments * fp_frames_per_segment).  *out is malloc'd (caller frees), *n its length. */
int vb_bundle_tensor_specs(const struct vb_model_config * cfg, int with_localizer, int32_t fp_segments,
                           int32_t fp_frames_per_segment, struct vb_tensor_spec ** out, int32_t * n);

#endif
