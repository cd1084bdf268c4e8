/* none.c — the CUDA backend's interface in a build without it (make CUDA=0, or no nvcc): nothing is available, and
** every call that needs a device fails with VB_ERR_UNSUPPORTED "CUDA backend not built". */
#include "base/common.h"
#include "engine/cuda/cuda.h"

#include <stdio.h>
#include <string.h>

#define NOT_BUILT "CUDA backend not built (this binary was made without nvcc or with make CUDA=0)"

static int not_built(void) {
    return vb_fail(VB_ERR_UNSUPPORTED, NOT_BUILT);
}

int vb_cuda_built(void) {
    return 0;
}

int vb_cuda_query(struct vb_cuda_info * info) {
    memset(info, 0, sizeof *info);
    snprintf(info->reason, sizeof info->reason, "%s", NOT_BUILT);
    return 0;
}

int vb_cuda_available(void) {
    return 0;
}

void vb_cuda_describe(const struct vb_cuda_info * info, char * buf, size_t cap) {
    snprintf(buf, cap, "none (%s)", info->reason[0] ? info->reason : NOT_BUILT);
}

int vb_cuda_ctx_new(struct vb_cuda_ctx ** out) {
    *out = NULL;
    return not_built();
}

void vb_cuda_ctx_free(struct vb_cuda_ctx * c) {
    (void)c;
}

int vb_cuda_sync(struct vb_cuda_ctx * c) {
    (void)c;
    return not_built();
}

void vb_cuda_cublaslt_version(char * buf, size_t cap) {
    if (cap) buf[0] = 0;
}

int vb_cuda_alloc(struct vb_cuda_ctx * c, void ** d, size_t bytes) {
    (void)c, (void)bytes;
    *d = NULL;
    return not_built();
}

void vb_cuda_free(void * d) {
    (void)d;
}

int vb_cuda_upload(struct vb_cuda_ctx * c, void * d, const void * h, size_t bytes) {
    (void)c, (void)d, (void)h, (void)bytes;
    return not_built();
}

int vb_cuda_download(struct vb_cuda_ctx * c, void * h, const void * d, size_t bytes) {
    (void)c, (void)d, (void)h, (void)bytes;
    return not_built();
}

int vb_cuda_event_new(struct vb_cuda_event ** e) {
    *e = NULL;
    return not_built();
}

void vb_cuda_event_free(struct vb_cuda_event * e) {
    (void)e;
}

int vb_cuda_event_record(struct vb_cuda_ctx * c, struct vb_cuda_event * e) {
    (void)c, (void)e;
    return not_built();
}

int vb_cuda_event_ms(struct vb_cuda_event * a, struct vb_cuda_event * b, float * ms) {
    (void)a, (void)b;
    *ms = 0;
    return not_built();
}

int vb_cuda_wmat_upload(struct vb_cuda_ctx * c, struct vb_cuda_wmat * D, const struct vb_wmat * W, int32_t dt) {
    (void)c, (void)W, (void)dt;
    memset(D, 0, sizeof *D);
    return not_built();
}

void vb_cuda_wmat_free(struct vb_cuda_wmat * D) {
    if (D) memset(D, 0, sizeof *D);
}

int vb_cuda_linear(struct vb_cuda_ctx * c, const float * x, int64_t ldx, int64_t n, const struct vb_cuda_wmat * W,
                   const float * b, float * y, int64_t ldy, float beta) {
    (void)c, (void)x, (void)ldx, (void)n, (void)W, (void)b, (void)y, (void)ldy, (void)beta;
    return not_built();
}

int vb_cuda_gemm_rate(struct vb_cuda_ctx * c, int64_t m, int64_t n, int64_t k, int32_t dt, int reps, double * tflops) {
    (void)c, (void)m, (void)n, (void)k, (void)dt, (void)reps;
    *tflops = 0;
    return not_built();
}

int vb_cuda_layernorm(struct vb_cuda_ctx * c, const float * x, int64_t n, int64_t d, const float * w, const float * b,
                      float eps, float * y) {
    (void)c, (void)x, (void)n, (void)d, (void)w, (void)b, (void)eps, (void)y;
    return not_built();
}

int vb_cuda_rmsnorm(struct vb_cuda_ctx * c, const float * x, int64_t n, int64_t d, const float * w, float eps,
                    float * y) {
    (void)c, (void)x, (void)n, (void)d, (void)w, (void)eps, (void)y;
    return not_built();
}

int vb_cuda_act(struct vb_cuda_ctx * c, float * x, int64_t n, int32_t act) {
    (void)c, (void)x, (void)n, (void)act;
    return not_built();
}

int vb_cuda_gated_act(struct vb_cuda_ctx * c, float * x, int64_t n, int64_t f, int32_t act) {
    (void)c, (void)x, (void)n, (void)f, (void)act;
    return not_built();
}

int vb_cuda_softmax_rows(struct vb_cuda_ctx * c, float * x, int64_t n, int64_t d) {
    (void)c, (void)x, (void)n, (void)d;
    return not_built();
}

int vb_cuda_add(struct vb_cuda_ctx * c, float * y, const float * x, int64_t n) {
    (void)c, (void)y, (void)x, (void)n;
    return not_built();
}

int vb_cuda_attention(struct vb_cuda_ctx * c, const float * q, int64_t ldq, const float * k, int64_t ldk,
                      const float * v, int64_t ldv, int64_t nq, int64_t nk, int32_t heads, int32_t dh, float scale,
                      const float * pos_bias, const float * key_mask_add, int causal, int64_t q_off, float * out,
                      int64_t ldo) {
    (void)c, (void)q, (void)ldq, (void)k, (void)ldk, (void)v, (void)ldv, (void)nq, (void)nk, (void)heads, (void)dh;
    (void)scale, (void)pos_bias, (void)key_mask_add, (void)causal, (void)q_off, (void)out, (void)ldo;
    return not_built();
}

int vb_cuda_t5_bias(struct vb_cuda_ctx * c, const float * table, int32_t heads, int32_t n_buckets, int32_t max_distance,
                    int bidirectional, int64_t nq, int64_t q0, int64_t nk, float * bias) {
    (void)c, (void)table, (void)heads, (void)n_buckets, (void)max_distance, (void)bidirectional, (void)nq, (void)q0;
    (void)nk, (void)bias;
    return not_built();
}

int vb_cuda_vit_upload(struct vb_cuda_ctx * c, struct vb_cuda_vit ** out, const struct vb_vit * m, int32_t dt) {
    (void)c, (void)m, (void)dt;
    *out = NULL;
    return not_built();
}

void vb_cuda_vit_free(struct vb_cuda_vit * v) {
    (void)v;
}

int64_t vb_cuda_vit_bytes(const struct vb_cuda_vit * v) {
    (void)v;
    return 0;
}

int vb_cuda_vit_run(struct vb_cuda_ctx * c, struct vb_cuda_vit * v, const float * pixels, int32_t n_frames,
                    float * embeddings, float * layer_out, float * body, float * ln) {
    (void)c, (void)v, (void)pixels, (void)n_frames, (void)embeddings, (void)layer_out, (void)body, (void)ln;
    return not_built();
}

int vb_cuda_t5enc_upload(struct vb_cuda_ctx * c, struct vb_cuda_t5enc ** out, const struct vb_t5_model * m,
                         int32_t dt) {
    (void)c, (void)m, (void)dt;
    *out = NULL;
    return not_built();
}

void vb_cuda_t5enc_free(struct vb_cuda_t5enc * e) {
    (void)e;
}

int64_t vb_cuda_t5enc_bytes(const struct vb_cuda_t5enc * e) {
    (void)e;
    return 0;
}

int vb_cuda_t5_encode(struct vb_cuda_ctx * c, struct vb_cuda_t5enc * e, int32_t B, int64_t n, const float * embeds,
                      const uint8_t * mask, float * block_out, float * out) {
    (void)c, (void)e, (void)B, (void)n, (void)embeds, (void)mask, (void)block_out, (void)out;
    return not_built();
}

int vb_cuda_scale(struct vb_cuda_ctx * c, float * x, int64_t n, float a) {
    (void)c, (void)x, (void)n, (void)a;
    return not_built();
}

int vb_cuda_argmax_rows(struct vb_cuda_ctx * c, const float * x, int64_t n, int64_t d, int32_t * out) {
    (void)c, (void)x, (void)n, (void)d, (void)out;
    return not_built();
}

int vb_cuda_copy_rows(struct vb_cuda_ctx * c, float * dst, int64_t ldd, const float * src, int64_t lds, int64_t n,
                      int64_t cols) {
    (void)c, (void)dst, (void)ldd, (void)src, (void)lds, (void)n, (void)cols;
    return not_built();
}

int vb_cuda_t5_upload(struct vb_cuda_ctx * c, struct vb_cuda_t5 ** out, const struct vb_t5_model * m, int32_t dt) {
    (void)c, (void)m, (void)dt;
    *out = NULL;
    return not_built();
}

void vb_cuda_t5_free(struct vb_cuda_t5 * t) {
    (void)t;
}

int64_t vb_cuda_t5_bytes(const struct vb_cuda_t5 * t) {
    (void)t;
    return 0;
}

struct vb_cuda_t5enc * vb_cuda_t5_encoder(struct vb_cuda_t5 * t) {
    (void)t;
    return NULL;
}

int vb_cuda_t5seq_new(struct vb_cuda_ctx * c, const struct vb_cuda_t5 * t, int64_t max_enc, int64_t max_dec,
                      struct vb_cuda_t5seq ** out) {
    (void)c, (void)t, (void)max_enc, (void)max_dec;
    *out = NULL;
    return not_built();
}

void vb_cuda_t5seq_free(struct vb_cuda_t5seq * s) {
    (void)s;
}

int64_t vb_cuda_t5seq_n_enc(const struct vb_cuda_t5seq * s) {
    (void)s;
    return 0;
}

int vb_cuda_t5seq_set_encoder(struct vb_cuda_ctx * c, struct vb_cuda_t5 * t, struct vb_cuda_t5seq * s,
                              const float * enc, const uint8_t * mask, int64_t n) {
    (void)c, (void)t, (void)s, (void)enc, (void)mask, (void)n;
    return not_built();
}

int vb_cuda_t5_decode(struct vb_cuda_ctx * c, struct vb_cuda_t5 * t, struct vb_cuda_t5seq * s, int64_t n_past,
                      const float * embeds, int64_t n, float * logits, int32_t * argmax, float * last_hidden,
                      float * block_out) {
    (void)c, (void)t, (void)s, (void)n_past, (void)embeds, (void)n, (void)logits, (void)argmax, (void)last_hidden;
    (void)block_out;
    return not_built();
}

int vb_cuda_t5_decode_batch(struct vb_cuda_ctx * c, struct vb_cuda_t5 * t, struct vb_cuda_t5seq ** s,
                            const int64_t * n_past, int32_t n_seq, const float * embeds, float * logits,
                            int32_t * argmax) {
    (void)c, (void)t, (void)s, (void)n_past, (void)n_seq, (void)embeds, (void)logits, (void)argmax;
    return not_built();
}

int vb_cuda_qformer_upload(struct vb_cuda_ctx * c, struct vb_cuda_qformer ** out, const struct vb_qformer * m,
                           int32_t dt) {
    (void)c, (void)m, (void)dt;
    *out = NULL;
    return not_built();
}

void vb_cuda_qformer_free(struct vb_cuda_qformer * q) {
    (void)q;
}

int64_t vb_cuda_qformer_bytes(const struct vb_cuda_qformer * q) {
    (void)q;
    return 0;
}

int vb_cuda_qformer_run(struct vb_cuda_ctx * c, struct vb_cuda_qformer * q, const float * image, int32_t B,
                        int32_t n_img, const int32_t * ids, const int32_t * text_mask, int32_t L, float * query_out,
                        float * full_out, float * embeddings, float * layer_out) {
    (void)c, (void)q, (void)image, (void)B, (void)n_img, (void)ids, (void)text_mask, (void)L, (void)query_out;
    (void)full_out, (void)embeddings, (void)layer_out;
    return not_built();
}

int vb_cuda_proj_upload(struct vb_cuda_ctx * c, struct vb_cuda_proj ** out, const struct vb_projection * p,
                        int32_t dt) {
    (void)c, (void)p, (void)dt;
    *out = NULL;
    return not_built();
}

void vb_cuda_proj_free(struct vb_cuda_proj * p) {
    (void)p;
}

int vb_cuda_proj_run(struct vb_cuda_ctx * c, struct vb_cuda_proj * p, const float * x, int64_t n, float * y) {
    (void)c, (void)p, (void)x, (void)n, (void)y;
    return not_built();
}

/* the wiring: a model is never on the device in this build (attach fails, so `dev` stays NULL) */

int vb_cuda_vit_attach(struct vb_vit * m) {
    (void)m;
    return not_built();
}

void vb_cuda_vit_detach(struct vb_vit * m) {
    (void)m;
}

int vb_cuda_vit_run_ctx(struct vb_vit_ctx * c, const float * pixels, int32_t n_frames, float * embeddings,
                        float * layer_out, float * body, float * ln) {
    (void)c, (void)pixels, (void)n_frames, (void)embeddings, (void)layer_out, (void)body, (void)ln;
    return not_built();
}

int vb_cuda_qformer_attach(struct vb_qformer * m) {
    (void)m;
    return not_built();
}

void vb_cuda_qformer_detach(struct vb_qformer * m) {
    (void)m;
}

int vb_cuda_qformer_run_ctx(struct vb_qformer_ctx * c, const float * image, int32_t B, int32_t n_img,
                            const int32_t * ids, const int32_t * text_mask, int32_t L, float * query_out,
                            float * full_out, float * embeddings, float * layer_out) {
    (void)c, (void)image, (void)B, (void)n_img, (void)ids, (void)text_mask, (void)L, (void)query_out, (void)full_out;
    (void)embeddings, (void)layer_out;
    return not_built();
}

int vb_cuda_proj_attach(struct vb_projection * p) {
    (void)p;
    return not_built();
}

void vb_cuda_proj_detach(struct vb_projection * p) {
    (void)p;
}

int vb_cuda_proj_run_host(const struct vb_projection * p, const float * x, int64_t n, float * y) {
    (void)p, (void)x, (void)n, (void)y;
    return not_built();
}

int vb_cuda_t5_attach(struct vb_t5_model * m) {
    (void)m;
    return not_built();
}

void vb_cuda_t5_detach(struct vb_t5_model * m) {
    (void)m;
}

int vb_cuda_t5_ctx_attach(struct vb_t5_ctx * c) {
    (void)c;
    return not_built();
}

void vb_cuda_t5_ctx_detach(struct vb_t5_ctx * c) {
    (void)c;
}

int vb_cuda_t5_encode_ctx(struct vb_t5_ctx * c, const float * embeds, const uint8_t * mask, int64_t n,
                          float * block_out) {
    (void)c, (void)embeds, (void)mask, (void)n, (void)block_out;
    return not_built();
}

int vb_cuda_t5_set_encoder_ctx(struct vb_t5_ctx * c, const float * enc, const uint8_t * mask, int64_t n) {
    (void)c, (void)enc, (void)mask, (void)n;
    return not_built();
}

int vb_cuda_t5_encode_batch_ctx(struct vb_t5_batch * b, struct vb_t5_ctx ** ctx, int32_t n_seq,
                                const float * const * embeds, const uint8_t * const * masks, const int64_t * n) {
    (void)b, (void)ctx, (void)n_seq, (void)embeds, (void)masks, (void)n;
    return not_built();
}

int vb_cuda_t5_decode_ctx(struct vb_t5_ctx * c, const int32_t * ids, int64_t n, float * logits, float * last_hidden,
                          float * block_out) {
    (void)c, (void)ids, (void)n, (void)logits, (void)last_hidden, (void)block_out;
    return not_built();
}

int vb_cuda_t5_decode_batch_ctx(struct vb_t5_batch * b, struct vb_t5_ctx ** ctx, int32_t n_seq, const int32_t * ids,
                                float * logits, int32_t * argmax) {
    (void)b, (void)ctx, (void)n_seq, (void)ids, (void)logits, (void)argmax;
    return not_built();
}
