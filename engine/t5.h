/* t5.h — the (Flan-)T5 encoder-decoder of BLIP-2 / InstructBLIP, matching Hugging Face transformers 4.35.2.
**
** Arithmetic (see docs/methods.md §9.1):
**   - no embedding scaling; pre-RMS-norm sub-layers (w * x / sqrt(mean(x^2) + eps)) with residuals;
**   - attention scores q.k^T with NO 1/sqrt(d_kv) scaling, plus the relative position bias of block 0 (bidirectional
**     buckets in the encoder, causal buckets in the decoder self-attention) shared by every block; cross-attention
**     has no position bias; padded encoder keys get finfo(float32).min added;
**   - feed-forward wo(act(wi_0 x) * wi_1 x) (gated) or wo(act(wi x)), act = dense_act_fn (erf "gelu" or tanh
**     "gelu_new" or relu);
**   - final RMS norms; lm_head (untied), or the shared embedding with hidden * d_model^-0.5 when tied.
**
** Layout for speed: per block q|k|v weights are fused into one (3*inner, d_model) matrix (the encoder runs one GEMM
** over all tokens), wi_0|wi_1 into one (2*d_ff, d_model) matrix, and the cross-attention k|v weights of ALL decoder
** blocks into one (n_dec*2*inner, d_model) matrix, so the cross K/V of an encoder output are one GEMM.  The decoder
** self-attention cache keeps K and V per block as (max_dec, inner) row-major arrays; a decoder step writes its
** k / v rows straight into the cache (GEMVs, no copies) and attends over rows 0..t.
**
** Threading: a model is read-only after loading and may be shared; a context is used by one thread at a time.
*/
#ifndef VB_T5_H
#define VB_T5_H

#include "engine/config.h"
#include "engine/weights.h"
#include "engine/wmat.h"

#include <stdint.h>

struct vb_t5_block {
    float *        ln_sa; /* (d) self-attention pre-norm */
    struct vb_wmat qkv;   /* (3*inner, d) q | k | v of the self-attention (matrices: cfg.weight_dtype) */
    struct vb_wmat o;     /* (d, inner) */
    float *        ln_ca; /* (d) cross-attention pre-norm (decoder only) */
    struct vb_wmat cq;    /* (inner, d) cross-attention q (decoder only) */
    struct vb_wmat co;    /* (d, inner) (decoder only) */
    float *        ln_ff; /* (d) */
    struct vb_wmat ffi;   /* gated: (2*d_ff, d) wi_0 | wi_1; else (d_ff, d) */
    struct vb_wmat ffo;   /* (d, d_ff) */
};

struct vb_t5_model {
    struct vb_t5_config  cfg;
    int32_t              inner;        /* heads * d_kv */
    struct vb_wmat       emb;          /* (vocab, d) shared embedding (cfg.weight_dtype) */
    struct vb_wmat       head;         /* (vocab, d) lm_head; a view of emb when tied */
    struct vb_wmat       cross_kv;     /* (n_dec * 2 * inner, d) cross k | v of every decoder block */
    float *              enc_rel;      /* (n_buckets, heads) encoder block 0 relative_attention_bias */
    float *              dec_rel;      /* (n_buckets, heads) decoder block 0 relative_attention_bias */
    struct vb_t5_block * enc;          /* n_enc */
    struct vb_t5_block * dec;          /* n_dec */
    float *              enc_final_ln; /* (d) */
    float *              dec_final_ln; /* (d) */
    struct vb_cuda_t5 *  dev;          /* the device copy when cfg.device is CUDA (engine/cuda/cuda.h), else NULL */
};

/* Load the T5 weights named "<prefix>shared.weight", "<prefix>encoder.block.N...", ... (prefix e.g.
** "language_model.", may be "") from `w`, checking every shape against `cfg`.  The shared embedding falls back to
** "<prefix>encoder.embed_tokens.weight" when "shared.weight" is absent.  Untied: "<prefix>lm_head.weight" required.
** The matrices (fused q|k|v, wi_0|wi_1 and cross k|v included), the shared embedding and lm_head are resident in
** cfg->weight_dtype (engine/wmat.h); norms and relative position tables stay f32.  F32 gives exactly the numbers of
** plain float matrices (a decoder step of one row still goes to sgemv).
** On success *out is a new model (free with vb_t5_free); on failure an error naming the tensor, nothing allocated. */
int  vb_t5_load(struct vb_t5_model ** out, const struct vb_weights * w, const char * prefix,
                const struct vb_t5_config * cfg);
void vb_t5_free(struct vb_t5_model * m);

/* Bytes of the resident weights of a loaded model (matrices in their dtype, a tied lm_head once, f32 vectors). */
int64_t vb_t5_resident_bytes(const struct vb_t5_model * m);

/* HF T5Attention._relative_position_bucket for one relative position rel = key_pos - query_pos (log part computed
** in float32 and truncated toward zero, as HF does). */
int32_t vb_t5_bucket(int64_t rel, int bidirectional, int32_t n_buckets, int32_t max_distance);

/* Embedding rows: out (n, d) = shared[ids[i]].  Returns VB_ERR_ARG naming the position if an id is out of range. */
int vb_t5_embed(const struct vb_t5_model * m, const int32_t * ids, int64_t n, float * out);

/* Per-sequence working state: activations sized for max_enc encoder tokens and max_dec decoder positions, the
** encoder output with its cross K/V, and the self-attention K/V cache.  All allocated once here. */
struct vb_t5_ctx {
    const struct vb_t5_model * m;
    int64_t                    max_enc, max_dec, max_tok; /* max_tok = max(max_enc, max_dec) */
    /* scratch */
    float * h;        /* (max_tok, d) residual stream */
    float * x;        /* (max_tok, d) normed input of a sub-layer */
    float * qkv;      /* (max_tok, 3*inner) */
    float * att;      /* (max_tok, inner) attention output */
    float * ff;       /* (max_tok, 2*d_ff) */
    float * bias;     /* (heads, max_tok, max_tok) relative position bias of the current pass */
    float * scratch;  /* (max_tok, max_tok) attention scores of one head */
    float * mask_add; /* (max_enc) 0 or -FLT_MAX per encoder key */
    /* encoder output */
    int64_t n_enc;    /* tokens of the current encoder output (0: none) */
    float * enc_out;  /* (max_enc, d) */
    float * cross_kv; /* (max_enc, n_dec*2*inner): row i = [blk0 k | blk0 v | blk1 k | ...] */
    /* decoder cache */
    int64_t                n_past; /* decoder positions in the cache */
    float *                self_k; /* (n_dec, max_dec, inner) */
    float *                self_v; /* (n_dec, max_dec, inner) */
    struct vb_cuda_t5seq * dev;    /* device state (mask, cross K/V, cache) when the model is on the device, else NULL;
                                      then enc_out, n_enc and n_past stay valid here, the other buffers are unused */
};

/* Allocate a context (max_enc >= 1, max_dec >= 1).  Returns VB_OK / VB_ERR_ARG. Free with vb_t5_ctx_free. */
int  vb_t5_ctx_new(struct vb_t5_ctx ** out, const struct vb_t5_model * m, int64_t max_enc, int64_t max_dec);
void vb_t5_ctx_free(struct vb_t5_ctx * c);

/* Encoder over one sequence: embeds (n, d) (projected visual tokens and/or token embeddings, as HF inputs_embeds),
** mask (n) 1 = real token / 0 = padding (NULL = all real).  Every block is one set of GEMMs over all n tokens.
** Padded query rows are still computed (as HF).  The final-normed output is kept in c->enc_out (n, d); the cross
** K/V of every decoder block are computed and the decoder cache is reset.  block_out (n_enc_blocks, n, d), nullable,
** receives each block's output before the final norm.  n > max_enc: VB_ERR_ARG. */
int vb_t5_encode(struct vb_t5_ctx * c, const float * embeds, const uint8_t * mask, int64_t n, float * block_out);

/* Use an externally computed encoder output enc (n, d) with mask (nullable) instead of running the encoder:
** copies it, computes the cross K/V and resets the decoder cache. */
int vb_t5_set_encoder_output(struct vb_t5_ctx * c, const float * enc, const uint8_t * mask, int64_t n);

/* Forget the decoder positions (keeps the encoder output and cross K/V). */
void vb_t5_reset_decoder(struct vb_t5_ctx * c);

/* Decoder over n new positions appended to the cache (positions n_past .. n_past+n-1, causal): n = 1 is one
** incremental step, n = L with an empty cache is teacher forcing; both give the same numbers.  Outputs, each
** nullable: logits (n, vocab), last_hidden (n, d) after the final norm, block_out (n_dec_blocks, n, d) before it.
** Needs an encoder output (VB_ERR_ARG otherwise); n_past + n > max_dec or an id out of range: VB_ERR_ARG. */
int vb_t5_decode(struct vb_t5_ctx * c, const int32_t * ids, int64_t n, float * logits, float * last_hidden,
                 float * block_out);

/* ---- profile of the decoder step (measurement: bench-engine --profile) ----
** Between vb_t5_profile_start and vb_t5_profile_stop every vb_t5_decode call (CPU path) adds the wall time of its
** parts per class (a clock read between parts), the calls and the weight bytes of its products.  Process-wide plain
** counters: profile one decoding thread at a time. */
enum {
    VB_T5_PROF_EMBED,
    VB_T5_PROF_NORM,
    VB_T5_PROF_SELF_QKV,
    VB_T5_PROF_SELF_ATTN,
    VB_T5_PROF_SELF_O,
    VB_T5_PROF_CROSS_Q,
    VB_T5_PROF_CROSS_ATTN,
    VB_T5_PROF_CROSS_O,
    VB_T5_PROF_FF_IN,
    VB_T5_PROF_FF_ACT,
    VB_T5_PROF_FF_OUT,
    VB_T5_PROF_HEAD,
    VB_T5_PROF_N
};
struct vb_t5_profile {
    const char * name[VB_T5_PROF_N];  /* the class, in words */
    double       sec[VB_T5_PROF_N];   /* wall seconds */
    double       bytes[VB_T5_PROF_N]; /* weight bytes read by the class's products (0: no product) */
    int64_t      calls[VB_T5_PROF_N];
};
/* Zero the counters and start counting. */
void vb_t5_profile_start(void);
/* Stop counting and copy the counters into *out. */
void vb_t5_profile_stop(struct vb_t5_profile * out);

/* ---- batched form: several sequences (each with its own context) through the same GEMMs ----
** Every Linear runs once over the rows of all sequences (weights are read once per call instead of once per
** sequence: what makes the 32 localizer sequences of SeViLA or a batch of greedy rows cheap); the encoder's
** self-attention runs for each run of consecutive sequences of equal length in one vb_attention_batch (engine/
** attn_small.h: every (sequence, head) pair in one pool dispatch, one position bias table per run); the decoder's
** attention runs per sequence on its own context (mask, position bias, caches).  In f32 compute every row of a
** Linear and every (sequence, head) pair of the attention gives the same bits in a batch as alone, so the encoder's
** results are the per-sequence calls' bits (tests/test_t5.c test_encode_batch_runs, f32 and bf16 weights); in bf16
** compute that holds for sequences of more than 24 tokens (a product of at most 24 rows runs in f32, engine/wmat.h). */
struct vb_t5_batch {
    const struct vb_t5_model * m;
    int64_t                    max_rows; /* rows per call: encoder tokens summed over sequences, or decoder sequences */
    float *                    h;        /* (max_rows, d) */
    float *                    x;        /* (max_rows, d) */
    float *                    qkv;      /* (max_rows, 3*inner) */
    float *                    att;      /* (max_rows, inner) */
    float *                    ff;       /* (max_rows, 2*d_ff) */
    float *                    mask_add; /* (max_rows) the encoder's key masks, each sequence's at its rows' offset */
    int64_t                    max_logit_rows;
    float * logits; /* (max_logit_rows, vocab) for callers (vb_generate_greedy), NULL if max_logit_rows is 0 */
};

/* Workspace for up to max_rows rows (>= 1) plus a logits buffer of max_logit_rows rows (>= 0; greedy generation of
** n rows needs n).  VB_OK / VB_ERR_ARG.  Free with vb_t5_batch_free. */
int  vb_t5_batch_new(struct vb_t5_batch ** out, const struct vb_t5_model * m, int64_t max_rows, int64_t max_logit_rows);
void vb_t5_batch_free(struct vb_t5_batch * b);

/* Encoder over n_seq sequences at once: sequence i has embeds[i] (n[i], d) and masks[i] (n[i]) (masks or masks[i]
** NULL = all real) and its result goes to ctx[i] exactly as vb_t5_encode (enc_out, cross K/V, cache reset).
** sum(n) > b->max_rows or n[i] > ctx[i]->max_enc: VB_ERR_ARG. */
int vb_t5_encode_batch(struct vb_t5_batch * b, struct vb_t5_ctx ** ctx, int32_t n_seq, const float * const * embeds,
                       const uint8_t * const * masks, const int64_t * n);

/* One decoder step for n_seq sequences: ids[i] is appended to ctx[i]'s cache (each at its own position); logits
** (n_seq, vocab) nullable.  n_seq > b->max_rows, a full cache, no encoder output or a bad id: VB_ERR_ARG (nothing
** appended). */
int vb_t5_decode_batch(struct vb_t5_batch * b, struct vb_t5_ctx ** ctx, int32_t n_seq, const int32_t * ids,
                       float * logits);

#endif
