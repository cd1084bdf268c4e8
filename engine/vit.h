/* vit.h — the EVA ViT-g vision encoder of BLIP-2 / InstructBLIP, matching Hugging Face transformers 4.35.2
** (Blip2VisionModel / InstructBlipVisionModel).
**
** Arithmetic (docs/methods.md §9.1, item 6):
**   - patch embedding = Conv2d(3 -> D, kernel = stride = p) done as ONE GEMM: the frames are unfolded (im2col) into
**     (n_frames * n_patches, 3*p*p) rows, the conv weight [D, 3, p, p] is read as a (D, 3*p*p) Linear weight;
**     patches are numbered row-major over the patch grid; CLS first, then the learned position embedding is added;
**   - pre-LN blocks: h += proj(attn(layer_norm1(h))); h += fc2(gelu_erf(fc1(layer_norm2(h)))), LayerNorm eps
**     cfg.ln_eps (1e-6); the fused qkv Linear (weight [3D, D], bias [3D] = q | k | v as stored: real checkpoints hold
**     zeros in the k part, the goldens do not) is split per token as (3, heads, head_dim); scores * head_dim^-0.5;
**     no attention mask;
**   - "body" output = output of the last block (HF hidden_states[-1], LAVIS ViT output, what SeViLA's localizer
**     normalises with its own LayerNorm); "ln" output = post_layernorm(body) with eps cfg.post_ln_eps (HF
**     last_hidden_state = LAVIS ln_vision, what the Q-Former and the Frame-Prompter read).
**
** Layout for speed: every Linear of a block is one GEMM over all n_frames * n_tokens rows; attention runs per frame
** (all heads) through vb_attention.  Activations live in a context sized for a maximum number of frames, allocated
** once; vb_vit_run does not allocate.
**
** Threading: a model is read-only after loading and may be shared; a context is used by one thread at a time.
*/
#ifndef VB_VIT_H
#define VB_VIT_H

#include "engine/config.h"
#include "engine/weights.h"
#include "engine/wmat.h"

#include <stdint.h>

struct vb_vit_layer {
    float *        ln1_w;  /* (D) layer_norm1 */
    float *        ln1_b;  /* (D) */
    struct vb_wmat qkv;    /* (3D, D) q | k | v, resident in cfg.weight_dtype */
    float *        qkv_b;  /* (3D) */
    struct vb_wmat proj;   /* (D, D) */
    float *        proj_b; /* (D) */
    float *        ln2_w;  /* (D) layer_norm2 */
    float *        ln2_b;  /* (D) */
    struct vb_wmat fc1;    /* (I, D) */
    float *        fc1_b;  /* (I) */
    struct vb_wmat fc2;    /* (D, I) */
    float *        fc2_b;  /* (D) */
};

struct vb_vit {
    struct vb_vision_config cfg;       /* copy; n_patches / n_tokens derived here from image_size and patch */
    int32_t                 grid;      /* image_size / patch: patches per side */
    int32_t                 patch_dim; /* 3 * patch * patch */
    struct vb_wmat          patch;     /* (D, 3*p*p) conv weight [D, 3, p, p] viewed as a Linear weight */
    float *                 patch_b;   /* (D) */
    float *                 cls;       /* (D) class_embedding */
    float *                 pos;       /* (n_tokens, D) position_embedding */
    struct vb_vit_layer *   layers;    /* cfg.layers */
    float *                 post_ln_w; /* (D) post_layernorm (= LAVIS ln_vision) */
    float *                 post_ln_b; /* (D) */
    struct vb_cuda_vit *    dev;       /* the device copy when cfg.device is CUDA (engine/cuda/cuda.h), else NULL */
};

/* Load the ViT weights "<prefix>embeddings.class_embedding", "<prefix>embeddings.patch_embedding.weight",
** "<prefix>encoder.layers.N.self_attn.qkv.weight", ..., "<prefix>post_layernorm.weight" (prefix usually
** "vision_model.") from `w`, every shape checked against `cfg` (a wrong shape is VB_ERR_SHAPE naming file and
** tensor; a missing tensor VB_ERR_NOTFOUND).  cfg must have image_size a positive multiple of patch, hidden
** divisible by heads (else VB_ERR_ARG).  qkv_bias false: the qkv bias is taken as zeros.  The Linear weights and
** the patch embedding are resident in cfg->weight_dtype (F32 / BF16 / F16, engine/wmat.h; their file pages are
** dropped from the RSS after conversion); biases, norms, class / position embeddings stay f32.
** On success *out is a new model (free with vb_vit_free); on failure nothing is allocated. */
int  vb_vit_load(struct vb_vit ** out, const struct vb_weights * w, const struct vb_vision_config * cfg,
                 const char * prefix);
void vb_vit_free(struct vb_vit * m);

/* Bytes of the resident weights of a loaded model (matrices in their dtype + f32 vectors). */
int64_t vb_vit_resident_bytes(const struct vb_vit * m);

/* Number of parameters vb_vit_load reads for cfg (embeddings, every block, post_layernorm; the same tensor list as
** the loader), or -1 for an unusable cfg.  Blip2VisionModel of blip2-flan-t5-xl: 985,952,256. */
int64_t vb_vit_n_params(const struct vb_vision_config * cfg);

/* Working memory for up to max_frames frames per call (all sized n_frames * n_tokens rows). */
struct vb_vit_ctx {
    const struct vb_vit * m;
    int32_t               max_frames;
    float *               cols; /* (max_frames * n_patches, 3*p*p) unfolded patches */
    float *               h;    /* (max_frames * n_tokens, D) residual stream */
    float *               x;    /* (max_frames * n_tokens, D) normed input of a sub-layer */
    float *               qkv;  /* (max_frames * n_tokens, 3D) */
    float *               att;  /* (max_frames * n_tokens, D) attention output (also the patch GEMM output) */
    float *               mlp;  /* (max_frames * n_tokens, I) */
};

/* Allocate a context for at most max_frames frames (>= 1, else VB_ERR_ARG).  Free with vb_vit_ctx_free. */
int  vb_vit_ctx_new(struct vb_vit_ctx ** out, const struct vb_vit * m, int32_t max_frames);
void vb_vit_ctx_free(struct vb_vit_ctx * c);

/* Run the ViT on pixels (n_frames, 3, image_size, image_size) (already normalised, row-major float).
** Outputs, each nullable, caller-owned:
**   embeddings (n_frames, n_tokens, D)         patch + CLS + position embedding (input of block 0)
**   layer_out  (layers, n_frames, n_tokens, D)  output of every block (the last one = body)
**   body       (n_frames, n_tokens, D)         output of the last block, before post_layernorm
**   ln         (n_frames, n_tokens, D)         post_layernorm(body), eps cfg.post_ln_eps
** n_frames outside 1..max_frames: VB_ERR_ARG.  No allocation. */
int vb_vit_run(struct vb_vit_ctx * c, const float * pixels, int32_t n_frames, float * embeddings, float * layer_out,
               float * body, float * ln);

#endif
