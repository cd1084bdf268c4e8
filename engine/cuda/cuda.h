/* cuda.h — the engine's CUDA backend: device detection, a context (stream + cuBLASLt), device buffers, resident
** device weight matrices, the GEMM y = x W^T + b through cuBLASLt, and the transformer kernels, all on device
** pointers.  Plain C: no CUDA header is needed to use it.  docs/cuda.md says how the model run functions will use it.
**
** Builds: with nvcc found (or `make CUDA=1`) engine/cuda/{device,gemm}.c + *.cu are linked (cudart static; cuBLASLt
** is dlopen'ed at the first context, so a binary that never asks for a GPU pays nothing for it and runs where the
** CUDA libraries are absent); with `make CUDA=0` engine/cuda/none.c is linked instead, and every call below that
** needs a device returns VB_ERR_UNSUPPORTED with "CUDA backend not built".  vb_cuda_wmat_unpack_rows is host code,
** present in both builds.
**
** Errors: every function returning int returns VB_OK or a negative enum vb_status with the message in vb_errmsg()
** (naming the CUDA / cuBLASLt error); nothing here aborts on a missing GPU, driver or library.
**
** Numerics: activations are f32 on the device as on the CPU.  f32 weights: cuBLASLt with CUBLAS_COMPUTE_32F (no
** TF32: the golden checks' exact path; results differ from the CPU by the f32 summation order only).  bf16 weights:
** the activations are rounded to bf16 (round to nearest even) for the tensor-core GEMM, which accumulates in f32
** and writes f32 — unlike the CPU engine, which keeps x in f32 against bf16 weights (so bf16 device results are
** compared with a tolerance, not exactly).  Reductions (norms, softmax) accumulate in f32 per thread and combine in
** a fixed tree order: deterministic run to run.
**
** Threading: a context belongs to one host thread at a time; kernels run in order on the context's stream.  Device
** pointers passed to the kernels must come from vb_cuda_alloc (or another cudaMalloc) on the context's device.
*/
#ifndef VB_CUDA_H
#define VB_CUDA_H

#include "engine/wmat.h"

#include <stddef.h>
#include <stdint.h>

/* What this build and machine offer (vb_cuda_query).  Strings are NUL-terminated, "" when unknown. */
struct vb_cuda_info {
    int32_t built;           /* 1: the CUDA backend is compiled in */
    int32_t available;       /* 1: a GPU is visible and usable (device 0 is used) */
    char    reason[256];     /* when !available: why ("CUDA backend not built", "no CUDA GPU visible: ...") */
    char    name[256];       /* device 0's name, e.g. "NVIDIA H100 80GB HBM3" */
    int32_t driver_version;  /* cudaDriverGetVersion (13000 = 13.0); 0 = no driver */
    int32_t runtime_version; /* cudaRuntimeGetVersion of the linked runtime (0 when not built) */
    int32_t cc_major, cc_minor, n_sm;
    int64_t mem_bytes; /* total device memory */
};

/* 1 when the backend is compiled in (CUDA=1), else 0. */
int vb_cuda_built(void);
/* Fill *info (never NULL) and return info->available.  Safe with no GPU, no driver, a driver older than the runtime:
** the CUDA error name and text go into info->reason.  The first call initialises the runtime (cached after). */
int vb_cuda_query(struct vb_cuda_info * info);
/* 1 when a usable GPU is visible (vb_cuda_query without the details). */
int vb_cuda_available(void);
/* One line for `version` and result records: "NVIDIA H100 80GB HBM3, sm_90, 132 SMs, 79.1 GiB, driver 13.0, CUDA
** runtime 13.0" or "none (REASON)", into buf[cap]. */
void vb_cuda_describe(const struct vb_cuda_info * info, char * buf, size_t cap);

/* A context: device 0, one stream, a cuBLASLt handle and its workspace, scratch for bf16 activations.  Fails with
** VB_ERR_UNSUPPORTED (not built / no GPU, the reason in the message) or when libcublasLt.so cannot be loaded. */
struct vb_cuda_ctx;
int  vb_cuda_ctx_new(struct vb_cuda_ctx ** out);
void vb_cuda_ctx_free(struct vb_cuda_ctx * c); /* NULL: no-op */
/* Wait for the context's stream; reports any error a kernel raised since the last sync. */
int vb_cuda_sync(struct vb_cuda_ctx * c);
/* "cuBLASLt 130000" style version of the loaded library into buf[cap] ("" before a context exists). */
void vb_cuda_cublaslt_version(char * buf, size_t cap);

/* Device memory (cudaMalloc; 256-byte aligned).  bytes 0: *d = NULL, VB_OK.  Out of memory: VB_ERR_NOMEM. */
int  vb_cuda_alloc(struct vb_cuda_ctx * c, void ** d, size_t bytes);
void vb_cuda_free(void * d); /* NULL: no-op */
/* Copies on the context's stream, complete when they return (host memory need not be pinned). */
int vb_cuda_upload(struct vb_cuda_ctx * c, void * d, const void * h, size_t bytes);
int vb_cuda_download(struct vb_cuda_ctx * c, void * h, const void * d, size_t bytes);

/* Events at stage boundaries (the stage timers): record on the context's stream; ms between two recorded events
** (waits for the second). */
struct vb_cuda_event;
int  vb_cuda_event_new(struct vb_cuda_event ** e);
void vb_cuda_event_free(struct vb_cuda_event * e);
int  vb_cuda_event_record(struct vb_cuda_ctx * c, struct vb_cuda_event * e);
int  vb_cuda_event_ms(struct vb_cuda_event * a, struct vb_cuda_event * b, float * ms);

/* A resident weight matrix on the device: row-major (rows, cols) as PyTorch stores it (not the CPU's panels). */
struct vb_cuda_wmat {
    int32_t dt;         /* VB_DT_F32 or VB_DT_BF16 */
    int64_t rows, cols; /* (out, in) */
    void *  data;       /* device, rows * cols elements of dt; NULL = empty */
};
/* Rows [r0, r0 + n) of the packed host matrix W as row-major elements of dt (VB_DT_F32 or VB_DT_BF16) into out
** (n, W->cols): f32 exact; bf16 from bf16 exact, from f32 / f16 one rounding to nearest even (wmat.h's rules).
** Host code, in every build.  Range outside W or another dt: VB_ERR_ARG. */
int vb_cuda_wmat_unpack_rows(const struct vb_wmat * W, int64_t r0, int64_t n, int32_t dt, void * out);
/* Upload W (any host dtype) as a device matrix of dt (VB_DT_F32: the exact path; VB_DT_BF16: tensor cores) into *D
** (overwritten, not freed), a block of rows at a time.  On failure D is left empty. */
int  vb_cuda_wmat_upload(struct vb_cuda_ctx * c, struct vb_cuda_wmat * D, const struct vb_wmat * W, int32_t dt);
void vb_cuda_wmat_free(struct vb_cuda_wmat * D); /* empty: no-op */

/* y (n, W->rows) = x (n, W->cols) W^T + b (W->rows, nullable) + beta * y, all f32 device memory except W;
** x rows ldx apart, y rows ldy apart; beta 0 overwrites (y may hold garbage), 1 accumulates.  y must not alias x.
** One cuBLASLt matmul (bias fused as its epilogue); bf16 W first rounds x to bf16 in the context's scratch. */
int vb_cuda_linear(struct vb_cuda_ctx * c, const float * x, int64_t ldx, int64_t n, const struct vb_cuda_wmat * W,
                   const float * b, float * y, int64_t ldy, float beta);
/* The plain cuBLASLt GEMM rate at m x n x k in dt (VB_DT_F32: COMPUTE_32F, no TF32; VB_DT_BF16: bf16 in, f32
** accumulate, bf16 out as PyTorch's bf16 matmul): operands filled on the device, 2 warm-up calls, then the median
** of reps timed calls (CUDA events), in TFLOP/s (2 m n k / s) into *tflops. */
int vb_cuda_gemm_rate(struct vb_cuda_ctx * c, int64_t m, int64_t n, int64_t k, int32_t dt, int reps, double * tflops);

/* The kernels: f32 device memory, same semantics as engine/ops.h's CPU versions (named there), on the context's
** stream (asynchronous: vb_cuda_sync reports their errors).  Arguments are checked (VB_ERR_ARG). */
/* vb_layernorm: x, y (n, d), y == x allowed; w, b (d) nullable. */
int vb_cuda_layernorm(struct vb_cuda_ctx * c, const float * x, int64_t n, int64_t d, const float * w, const float * b,
                      float eps, float * y);
/* vb_rmsnorm (T5): y = w * x / sqrt(mean(x^2) + eps); y == x allowed. */
int vb_cuda_rmsnorm(struct vb_cuda_ctx * c, const float * x, int64_t n, int64_t d, const float * w, float eps,
                    float * y);
/* In place over n values: act = enum vb_act (engine/config.h): GELU erf, GELU tanh ("gelu_new"), ReLU. */
int vb_cuda_act(struct vb_cuda_ctx * c, float * x, int64_t n, int32_t act);
/* Gated activation (T5 v1.1 "gated-gelu"): x (n, 2f): x[i, 0:f] = act(x[i, 0:f]) * x[i, f:2f] (as t5.c's FF). */
int vb_cuda_gated_act(struct vb_cuda_ctx * c, float * x, int64_t n, int64_t f, int32_t act);
/* vb_softmax_rows: in place over each row of x (n, d); an all -inf row gives zeros. */
int vb_cuda_softmax_rows(struct vb_cuda_ctx * c, float * x, int64_t n, int64_t d);
/* y += x over n values (residuals). */
int vb_cuda_add(struct vb_cuda_ctx * c, float * y, const float * x, int64_t n);
/* vb_attention's arguments and semantics (q/k/v/out strides, scale, pos_bias (heads, nq, nk) nullable, key_mask_add
** (nk) nullable, causal with q_off), fused: one block per (query, head) computes the scores, the softmax and the
** weighted sum of v without a scores buffer in device memory.  nk <= 16384, dh <= 256. */
int vb_cuda_attention(struct vb_cuda_ctx * c, const float * q, int64_t ldq, const float * k, int64_t ldk,
                      const float * v, int64_t ldv, int64_t nq, int64_t nk, int32_t heads, int32_t dh, float scale,
                      const float * pos_bias, const float * key_mask_add, int causal, int64_t q_off, float * out,
                      int64_t ldo);
/* x (n) *= a. */
int vb_cuda_scale(struct vb_cuda_ctx * c, float * x, int64_t n, float a);
/* out (n) (int32 device memory) = the index of the first maximum of each row of x (n, d), as vb_gen_argmax (a NaN is
** never picked; a row starting with NaN gives 0, as that sequential scan does). */
int vb_cuda_argmax_rows(struct vb_cuda_ctx * c, const float * x, int64_t n, int64_t d, int32_t * out);
/* Device-to-device copy of n rows of cols floats: src rows lds apart -> dst rows ldd apart (cudaMemcpy2DAsync). */
int vb_cuda_copy_rows(struct vb_cuda_ctx * c, float * dst, int64_t ldd, const float * src, int64_t lds, int64_t n,
                      int64_t cols);
/* T5 relative position bias (t5.c's fill_bias): bias (heads, nq, nk) for queries at positions q0.. and keys
** 0..nk-1 from the device table (n_buckets, heads).  The bucket of each distance is computed on the host with
** vb_t5_bucket (bit-identical buckets) and uploaded; the gather runs on the device. */
int vb_cuda_t5_bias(struct vb_cuda_ctx * c, const float * table, int32_t heads, int32_t n_buckets, int32_t max_distance,
                    int bidirectional, int64_t nq, int64_t q0, int64_t nk, float * bias);

/* ---- model components on the device (the wiring's building blocks; docs/cuda.md) ----
** The EVA ViT of a loaded host model (engine/vit.h) on the device: every matrix uploaded in dt (VB_DT_F32: the exact
** path; VB_DT_BF16), the vectors in f32.  The host model may be freed afterwards. */
struct vb_vit;
struct vb_cuda_vit;
int  vb_cuda_vit_upload(struct vb_cuda_ctx * c, struct vb_cuda_vit ** out, const struct vb_vit * m, int32_t dt);
void vb_cuda_vit_free(struct vb_cuda_vit * v); /* NULL: no-op */
/* Bytes of device memory the weights hold. */
int64_t vb_cuda_vit_bytes(const struct vb_cuda_vit * v);
/* vb_vit_run's contract (engine/vit.h) on the device, host pointers in and out: pixels (n_frames, 3, S, S) are
** uploaded once, every block runs batched over all n_frames * n_tokens rows (attention per frame), and only the
** requested outputs (each nullable) come back.  Device activations for up to max_frames frames are allocated at the
** first call and kept (vb_cuda_vit_free releases them).  n_frames < 1: VB_ERR_ARG. */
int vb_cuda_vit_run(struct vb_cuda_ctx * c, struct vb_cuda_vit * v, const float * pixels, int32_t n_frames,
                    float * embeddings, float * layer_out, float * body, float * ln);

/* The T5 encoder of a loaded host model (engine/t5.h) on the device: the encoder blocks, the encoder relative
** position table and the final norm, matrices in dt.  (vb_cuda_t5_upload below uploads it with the decoder.) */
struct vb_t5_model;
struct vb_cuda_t5enc;
int vb_cuda_t5enc_upload(struct vb_cuda_ctx * c, struct vb_cuda_t5enc ** out, const struct vb_t5_model * m, int32_t dt);
void    vb_cuda_t5enc_free(struct vb_cuda_t5enc * e); /* NULL: no-op */
int64_t vb_cuda_t5enc_bytes(const struct vb_cuda_t5enc * e);
/* vb_t5_encode's arithmetic for B sequences of n tokens each, batched (every GEMM over all B * n rows; attention per
** sequence with the shared relative position bias and each sequence's key mask): embeds (B, n, d) and mask (B, n)
** (1 = real, 0 = padding; NULL = all real) on the host; out (B, n, d) receives the final-normed output (vb_t5_ctx's
** enc_out), block_out (n_enc, B, n, d) (nullable) each block's output before it.  Device activations are kept in
** the device encoder (one caller at a time).  B < 1 or n < 1: VB_ERR_ARG. */
int vb_cuda_t5_encode(struct vb_cuda_ctx * c, struct vb_cuda_t5enc * e, int32_t B, int64_t n, const float * embeds,
                      const uint8_t * mask, float * block_out, float * out);

/* The whole T5 of a loaded host model on the device: the encoder (as vb_cuda_t5enc_upload), the decoder blocks, the
** cross K/V matrix of every decoder block, lm_head (the shared embedding when tied), matrices in dt.  The embedding
** rows stay on the host (vb_t5_embed): the decoder functions take embedded inputs. */
struct vb_cuda_t5;
int     vb_cuda_t5_upload(struct vb_cuda_ctx * c, struct vb_cuda_t5 ** out, const struct vb_t5_model * m, int32_t dt);
void    vb_cuda_t5_free(struct vb_cuda_t5 * t); /* NULL: no-op */
int64_t vb_cuda_t5_bytes(const struct vb_cuda_t5 * t);
/* Its encoder, for vb_cuda_t5_encode (owned by t). */
struct vb_cuda_t5enc * vb_cuda_t5_encoder(struct vb_cuda_t5 * t);
/* One sequence's device state (vb_t5_ctx's mask_add, cross_kv, self_k, self_v) for up to max_enc encoder tokens and
** max_dec decoder positions (each 1..16384). */
struct vb_cuda_t5seq;
int  vb_cuda_t5seq_new(struct vb_cuda_ctx * c, const struct vb_cuda_t5 * t, int64_t max_enc, int64_t max_dec,
                       struct vb_cuda_t5seq ** out);
void vb_cuda_t5seq_free(struct vb_cuda_t5seq * s); /* NULL: no-op */
/* Encoder tokens of the sequence's current encoder output (0: none). */
int64_t vb_cuda_t5seq_n_enc(const struct vb_cuda_t5seq * s);
/* vb_t5_set_encoder_output on the device: enc (n, d) and mask (n, nullable) on the host; the key mask and the cross
** K/V of every decoder block (one GEMM) are computed on the device.  n outside 1..max_enc: VB_ERR_ARG. */
int vb_cuda_t5seq_set_encoder(struct vb_cuda_ctx * c, struct vb_cuda_t5 * t, struct vb_cuda_t5seq * s,
                              const float * enc, const uint8_t * mask, int64_t n);
/* vb_t5_decode's arithmetic for n new positions n_past .. n_past + n - 1 of sequence s (causal; the k / v rows go
** into the device cache): embeds (n, d) on the host (vb_t5_embed of the ids).  Outputs on the host, each nullable:
** logits (n, vocab), argmax (n) (the first maximum of each logits row, computed on the device: only the ids come
** back), last_hidden (n, d), block_out (n_dec, n, d).  No encoder output, n_past + n > max_dec: VB_ERR_ARG. */
int vb_cuda_t5_decode(struct vb_cuda_ctx * c, struct vb_cuda_t5 * t, struct vb_cuda_t5seq * s, int64_t n_past,
                      const float * embeds, int64_t n, float * logits, int32_t * argmax, float * last_hidden,
                      float * block_out);
/* vb_t5_decode_batch's arithmetic: one new position for each of n_seq sequences s[i] at position n_past[i], every
** GEMM over the n_seq rows, attention per sequence: embeds (n_seq, d) on the host; logits (n_seq, vocab) and argmax
** (n_seq), each nullable, to the host. */
int vb_cuda_t5_decode_batch(struct vb_cuda_ctx * c, struct vb_cuda_t5 * t, struct vb_cuda_t5seq ** s,
                            const int64_t * n_past, int32_t n_seq, const float * embeds, float * logits,
                            int32_t * argmax);

/* The Q-Former of a loaded host model (engine/qformer.h) on the device, matrices in dt, vectors f32.  The host model
** must outlive it (the InstructBLIP word embeddings are gathered on the host). */
struct vb_qformer;
struct vb_cuda_qformer;
int     vb_cuda_qformer_upload(struct vb_cuda_ctx * c, struct vb_cuda_qformer ** out, const struct vb_qformer * m,
                               int32_t dt);
void    vb_cuda_qformer_free(struct vb_cuda_qformer * q); /* NULL: no-op */
int64_t vb_cuda_qformer_bytes(const struct vb_cuda_qformer * q);
/* vb_qformer_run's contract (engine/qformer.h) on the device, host pointers in and out: the image tokens (B, n_img,
** Dv) are uploaded once, every Linear runs over all rows of its block, attention per batch row.  Device activations
** are grown on demand and kept (one caller at a time). */
int vb_cuda_qformer_run(struct vb_cuda_ctx * c, struct vb_cuda_qformer * q, const float * image, int32_t B,
                        int32_t n_img, const int32_t * ids, const int32_t * text_mask, int32_t L, float * query_out,
                        float * full_out, float * embeddings, float * layer_out);
/* The language projection (engine/qformer.h) on the device; vb_cuda_proj_run: y (n, d_out) = x (n, d_in) W^T + b,
** host pointers. */
struct vb_projection;
struct vb_cuda_proj;
int vb_cuda_proj_upload(struct vb_cuda_ctx * c, struct vb_cuda_proj ** out, const struct vb_projection * p, int32_t dt);
void vb_cuda_proj_free(struct vb_cuda_proj * p); /* NULL: no-op */
int  vb_cuda_proj_run(struct vb_cuda_ctx * c, struct vb_cuda_proj * p, const float * x, int64_t n, float * y);

/* ---- the wiring (engine/cuda/bind.c): what the engine's load / run functions call when cfg.device is CUDA ----
** One process-wide context, created with the first device model and freed with the last; every call below is
** serialised by one lock.  attach: upload the loaded host model (its weight_dtype f32 -> f32 on the device, bf16 /
** f16 -> bf16) and set its `dev`; detach: free the device copy (NULL / no device copy: no-op).  The *_ctx functions
** keep the host contracts of the engine functions named (same checks, same outputs). */
struct vb_vit_ctx;
struct vb_qformer_ctx;
struct vb_t5_ctx;
struct vb_t5_batch;
int  vb_cuda_vit_attach(struct vb_vit * m);
void vb_cuda_vit_detach(struct vb_vit * m);
int  vb_cuda_vit_run_ctx(struct vb_vit_ctx * c, const float * pixels, int32_t n_frames, float * embeddings,
                         float * layer_out, float * body, float * ln); /* vb_vit_run */
int  vb_cuda_qformer_attach(struct vb_qformer * m);
void vb_cuda_qformer_detach(struct vb_qformer * m);
int  vb_cuda_qformer_run_ctx(struct vb_qformer_ctx * c, const float * image, int32_t B, int32_t n_img,
                             const int32_t * ids, const int32_t * text_mask, int32_t L, float * query_out,
                             float * full_out, float * embeddings, float * layer_out); /* vb_qformer_run */
int  vb_cuda_proj_attach(struct vb_projection * p);
void vb_cuda_proj_detach(struct vb_projection * p);
int  vb_cuda_proj_run_host(const struct vb_projection * p, const float * x, int64_t n, float * y); /* run */
int  vb_cuda_t5_attach(struct vb_t5_model * m);
void vb_cuda_t5_detach(struct vb_t5_model * m);
/* a context of a model on the device: its device state (vb_t5_ctx_new / vb_t5_ctx_free) */
int  vb_cuda_t5_ctx_attach(struct vb_t5_ctx * c);
void vb_cuda_t5_ctx_detach(struct vb_t5_ctx * c);
int  vb_cuda_t5_encode_ctx(struct vb_t5_ctx * c, const float * embeds, const uint8_t * mask, int64_t n,
                           float * block_out); /* vb_t5_encode */
int  vb_cuda_t5_set_encoder_ctx(struct vb_t5_ctx * c, const float * enc, const uint8_t * mask,
                                int64_t n); /* vb_t5_set_encoder_output */
int  vb_cuda_t5_encode_batch_ctx(struct vb_t5_batch * b, struct vb_t5_ctx ** ctx, int32_t n_seq,
                                 const float * const * embeds, const uint8_t * const * masks,
                                 const int64_t * n); /* vb_t5_encode_batch (equal lengths: one batched pass) */
int  vb_cuda_t5_decode_ctx(struct vb_t5_ctx * c, const int32_t * ids, int64_t n, float * logits, float * last_hidden,
                           float * block_out); /* vb_t5_decode */
/* vb_t5_decode_batch; argmax (n_seq, nullable): the first maximum of each row's logits, computed on the device */
int vb_cuda_t5_decode_batch_ctx(struct vb_t5_batch * b, struct vb_t5_ctx ** ctx, int32_t n_seq, const int32_t * ids,
                                float * logits, int32_t * argmax);

#endif
