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
