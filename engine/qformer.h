/* qformer.h — the Q-Former of BLIP-2 (query tokens only) and of InstructBLIP (query tokens + instruction text), and
** the language projection, matching Hugging Face transformers 4.35.2 (Blip2QFormerModel,
** InstructBlipQFormerModel, language_projection).
**
** Arithmetic (docs/methods.md §9.1 item 7 and §9.2):
**   - embeddings: BLIP-2: LayerNorm "qformer.layernorm"(query_tokens).  InstructBLIP: text rows = word_embeddings[id]
**     + position_embeddings[0 .. L-1] (positions count from the first text token; queries get none), x = [queries;
**     text], one LayerNorm "qformer.embeddings.layernorm" over all Q + L rows.  eps cfg.ln_eps (1e-12).
**   - per layer (post-LN BERT): self-attention over all Q + L rows (no causal mask; padded text keys get
**     (1 - mask) * -10000 added after the 1/sqrt(head_dim) scaling), dense + residual + LayerNorm; then the query
**     rows only: cross-attention to the image tokens (layers with idx % cross_freq == 0, K/V from encoder_hidden
**     width) + dense + residual + LayerNorm, then intermediate_query -> GELU -> output_query + residual + LayerNorm;
**     the text rows: intermediate -> GELU -> output + residual + LayerNorm (no cross-attention).
**   - no final norm; the query output is the first Q rows.
**
** Layout for speed: inside the context the rows of a batch are kept as two blocks, all query rows (B*Q, D) then all
** text rows (B*L, D), so every Linear that applies to queries (or text) is one GEMM over the whole batch.  The
** self-attention q|k|v weights are fused into one (3D, D) matrix and the cross-attention k|v into one (2D, Dv).
** Activations are allocated once per context (max batch, max text length); vb_qformer_run does not allocate.
**
** Threading: a model is read-only after loading and may be shared; a context is used by one thread at a time.
*/
#ifndef VB_QFORMER_H
#define VB_QFORMER_H

#include "engine/config.h"
#include "engine/weights.h"
#include "engine/wmat.h"

#include <stdint.h>

struct vb_qformer_layer {
    struct vb_wmat qkv;       /* (3D, D) self-attention query | key | value (matrices: cfg.weight_dtype) */
    float *        qkv_b;     /* (3D) */
    struct vb_wmat ao;        /* (D, D) attention.output.dense */
    float *        ao_b;      /* (D) */
    float *        ao_ln_w;   /* (D) attention.output.LayerNorm */
    float *        ao_ln_b;   /* (D) */
    int32_t        has_cross; /* idx % cross_freq == 0 */
    struct vb_wmat cq;        /* (D, D) crossattention.attention.query (has_cross) */
    float *        cq_b;      /* (D) */
    struct vb_wmat ckv;       /* (2D, Dv) crossattention key | value */
    float *        ckv_b;     /* (2D) */
    struct vb_wmat co;        /* (D, D) crossattention.output.dense */
    float *        co_b;      /* (D) */
    float *        co_ln_w;   /* (D) */
    float *        co_ln_b;   /* (D) */
    struct vb_wmat iq;        /* (I, D) intermediate_query.dense */
    float *        iq_b;      /* (I) */
    struct vb_wmat oq;        /* (D, I) output_query.dense */
    float *        oq_b;      /* (D) */
    float *        oq_ln_w;   /* (D) output_query.LayerNorm */
    float *        oq_ln_b;   /* (D) */
    struct vb_wmat it;        /* (I, D) intermediate.dense (text rows; InstructBLIP only) */
    float *        it_b;      /* (I) */
    struct vb_wmat ot;        /* (D, I) output.dense */
    float *        ot_b;      /* (D) */
    float *        ot_ln_w;   /* (D) output.LayerNorm */
    float *        ot_ln_b;   /* (D) */
};

struct vb_qformer {
    struct vb_qformer_config cfg;
    int32_t                  n_query;      /* Q */
    float *                  query_tokens; /* (Q, D) */
    float *        emb_ln_w;          /* (D) qformer.layernorm (BLIP-2) / qformer.embeddings.layernorm (InstructBLIP) */
    float *        emb_ln_b;          /* (D) */
    struct vb_wmat word_emb;          /* (vocab, D) InstructBLIP only (cfg.weight_dtype), else empty */
    float *        pos_emb;           /* (max_pos, D) InstructBLIP only, else NULL */
    struct vb_qformer_layer * layers; /* cfg.layers */
    struct vb_cuda_qformer *  dev;    /* the device copy when cfg.device is CUDA (engine/cuda/cuda.h), else NULL */
};

/* Load "<prefix>query_tokens" [1, Q, D] and the Q-Former "<prefix>qformer.*" (prefix "" for the model's own
** Q-Former, "localizer." for SeViLA's second one) with Q = n_query.  cfg->has_text selects the InstructBLIP layout
** (word / position embeddings, embeddings.layernorm, text FFN in every layer).  Shapes checked against cfg
** (VB_ERR_SHAPE / VB_ERR_NOTFOUND naming file and tensor); unusable sizes VB_ERR_ARG.  The Linear weights (fused
** q|k|v and cross k|v included) and the word embeddings are resident in cfg->weight_dtype (engine/wmat.h); biases,
** norms, query tokens and position embeddings stay f32.  *out: free with vb_qformer_free; nothing allocated on
** failure. */
int  vb_qformer_load(struct vb_qformer ** out, const struct vb_weights * w, const struct vb_qformer_config * cfg,
                     int32_t n_query, const char * prefix);
void vb_qformer_free(struct vb_qformer * m);

/* Bytes of the resident weights of a loaded model (matrices in their dtype + f32 vectors). */
int64_t vb_qformer_resident_bytes(const struct vb_qformer * m);

/* Number of parameters vb_qformer_load reads for cfg and n_query (query_tokens included; the same tensor list as the
** loader), or -1 for an unusable cfg.  blip2-flan-t5-xl: 105,137,664 + 24,576 query tokens; instructblip-flan-t5-xl:
** 185,660,160 + 24,576. */
int64_t vb_qformer_n_params(const struct vb_qformer_config * cfg, int32_t n_query);

/* Working memory for up to max_batch rows (frames), max_text text tokens per row (0 for BLIP-2) and max_img image
** tokens per row. */
struct vb_qformer_ctx {
    const struct vb_qformer * m;
    int32_t                   max_batch, max_text, max_img;
    float *                   h;   /* (max_batch * (Q + max_text), D) residual stream: query block, then text block */
    float *                   qkv; /* (max_batch * (Q + max_text), 3D) */
    float *                   att; /* (max_batch * (Q + max_text), D) */
    float *                   ckv; /* (max_batch * max_img, 2D) cross-attention keys | values */
    float *                   ffn; /* (max_batch * max(Q, max_text), I) */
    float *                   mask_add; /* (max_batch, Q + max_text) additive key mask of every row */
};

/* Allocate a context (max_batch >= 1, max_img >= 1, max_text >= 0; max_text > 0 needs an InstructBLIP model).
** Returns VB_OK or VB_ERR_ARG.  Free with vb_qformer_ctx_free. */
int  vb_qformer_ctx_new(struct vb_qformer_ctx ** out, const struct vb_qformer * m, int32_t max_batch, int32_t max_text,
                        int32_t max_img);
void vb_qformer_ctx_free(struct vb_qformer_ctx * c);

/* Run the Q-Former on B rows.
**   image (B, n_img, Dv): encoder hidden states (the ViT's post-LayerNorm output of one frame per row), all
**     attended (encoder mask of ones).
**   ids (B, L), text_mask (B, L) 1 = token / 0 = padding (NULL = all ones): InstructBLIP text (L = 0, ids NULL for
**     BLIP-2).  Ids out of the vocabulary, L > max_pos or a size past the context: VB_ERR_ARG.
** Outputs, each nullable, caller-owned, in HF order (row b = [Q query rows; L text rows]):
**   query_out  (B, Q, D)              last_hidden_state[:, :Q] (what the projection reads)
**   full_out   (B, Q + L, D)          last_hidden_state
**   embeddings (B, Q + L, D)          after the embedding LayerNorm
**   layer_out  (layers, B, Q + L, D)  output of every layer
** No allocation. */
int vb_qformer_run(struct vb_qformer_ctx * c, const float * image, int32_t B, int32_t n_img, const int32_t * ids,
                   const int32_t * text_mask, int32_t L, float * query_out, float * full_out, float * embeddings,
                   float * layer_out);

/* Language projection Linear(d_in -> d_out) with bias ("<name>.weight" [d_out, d_in], "<name>.bias"). */
struct vb_projection {
    int32_t               d_in, d_out;
    struct vb_wmat        w;   /* (d_out, d_in), f32, packed for the engine's GEMM */
    float *               b;   /* (d_out) */
    struct vb_cuda_proj * dev; /* the device copy after vb_projection_to_device, else NULL */
};

/* Load "<name>.weight" / "<name>.bias" (name e.g. "language_projection", "localizer.language_projection") with
** shapes checked.  *out: free with vb_projection_free; nothing allocated on failure. */
int  vb_projection_load(struct vb_projection ** out, const struct vb_weights * w, const char * name, int32_t d_in,
                        int32_t d_out);
void vb_projection_free(struct vb_projection * p);
/* y (n, d_out) = x (n, d_in) W^T + b.  y must not alias x.
** Returns VB_OK, or the device's error when the projection is on the device. */
int vb_projection_run(const struct vb_projection * p, const float * x, int64_t n, float * y);
/* Upload the projection to the device (engine/cuda; f32): vb_projection_run then runs there.  VB_ERR_UNSUPPORTED
** without a CUDA build or GPU (the projection stays on the CPU). */
int vb_projection_to_device(struct vb_projection * p);

#endif
