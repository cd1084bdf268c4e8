/* frame_prompter.c — VLAP / ViLA Frame-Prompter (see frame_prompter.h). */
#include "engine/frame_prompter.h"

#include "base/common.h"
#include "engine/ops.h"

#include <math.h>
#include <string.h>

int vb_frame_prompter_load(struct vb_frame_prompter ** out, const struct vb_weights * w, int32_t n_frames,
                           int32_t n_segments, int32_t n_tokens, const char * prefix) {
    *out = NULL;
    if (n_segments < 1 || n_frames < n_segments || n_frames % n_segments != 0 || n_tokens < 1)
        return vb_fail(VB_ERR_ARG,
                       "frame prompter: %d frames, %d segments, %d tokens: frames must be a positive "
                       "multiple of segments",
                       n_frames, n_segments, n_tokens);
    struct vb_frame_prompter * fp = vb_calloc(1, sizeof *fp);
    fp->n_frames = n_frames;
    fp->n_segments = n_segments;
    fp->n_tokens = n_tokens;
    fp->k = n_frames / n_segments;
    const int64_t k = fp->k;
    struct {
        const char * what;
        float **     dst;
        int32_t      ndim;
        int64_t      shape[2];
    } t[] = {
        {"fc1.weight", &fp->fc1_w, 2, {k, k * n_tokens}},
        {"fc1.bias", &fp->fc1_b, 1, {k, 0}},
        {"norm.weight", &fp->norm_w, 1, {k, 0}},
        {"norm.bias", &fp->norm_b, 1, {k, 0}},
        {"fc2.weight", &fp->fc2_w, 2, {k, k}},
        {"fc2.bias", &fp->fc2_b, 1, {k, 0}},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char n[512];
        snprintf(n, sizeof n, "%s%s", prefix, t[i].what);
        int rc = vb_weights_load_f32(w, n, t[i].ndim, t[i].shape, t[i].dst);
        if (rc != VB_OK) {
            vb_frame_prompter_free(fp);
            return rc;
        }
    }
    *out = fp;
    return VB_OK;
}

void vb_frame_prompter_free(struct vb_frame_prompter * fp) {
    if (!fp) return;
    free(fp->fc1_w);
    free(fp->fc1_b);
    free(fp->norm_w);
    free(fp->norm_b);
    free(fp->fc2_w);
    free(fp->fc2_b);
    free(fp);
}

int64_t vb_frame_prompter_work_size(const struct vb_frame_prompter * fp, int32_t b) {
    return (int64_t)b * fp->n_frames * fp->n_tokens + 3 * (int64_t)b * fp->n_segments * fp->k;
}

void vb_frame_prompter_logits(const struct vb_frame_prompter * fp, const float * features, int32_t b, int64_t D,
                              float * logits, float * gates, float * fc1_out, float * norm_out, float * relu_out,
                              float * work) {
    const int64_t T = fp->n_frames, N = fp->n_tokens, S = fp->n_segments, k = fp->k;
    const int64_t rows = (int64_t)b * S; /* one row per (video, segment) */
    if (!gates) {
        VB_ASSERT(work);
        gates = work;
        work += (int64_t)b * T * N;
    }
    if (!fc1_out || !norm_out || !relu_out) VB_ASSERT(work);
    float * a = fc1_out ? fc1_out : work;
    float * n = norm_out ? norm_out : work + rows * k;
    float * r = relu_out ? relu_out : work + 2 * rows * k;
    /* gates (b, T, N): channel mean of every token (accumulated in double) */
    for (int64_t i = 0; i < (int64_t)b * T * N; i++) {
        const float * x = features + i * D;
        double        s = 0;
        for (int64_t j = 0; j < D; j++)
            s += x[j];
        gates[i] = (float)(s / (double)D);
    }
    /* (b, T, N) is already (b, S, k*N) in memory: segment s = frames s*k .. s*k+k-1 */
    vb_linear(gates, rows, k * N, fp->fc1_w, fp->fc1_b, k, a);
    vb_layernorm(a, rows, k, fp->norm_w, fp->norm_b, VB_FRAME_PROMPTER_LN_EPS, n);
    memcpy(r, n, sizeof(float) * (size_t)(rows * k));
    vb_relu(r, rows * k);
    vb_linear(r, rows, k, fp->fc2_w, fp->fc2_b, k, logits);
}

void vb_frame_prompter_gumbel_noise(const float * U, int64_t n, float * g) {
    const float eps = VB_FRAME_PROMPTER_GUMBEL_EPS;
    for (int64_t i = 0; i < n; i++)
        g[i] = -logf(eps - logf(U[i] + eps));
}

static uint64_t splitmix64(uint64_t * s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void vb_frame_prompter_uniform(uint64_t seed, int64_t n, float * U) {
    uint64_t s = seed;
    for (int64_t i = 0; i < n; i++)
        U[i] = (float)(splitmix64(&s) >> 40) * (1.0f / 16777216.0f);
}

void vb_frame_prompter_select(const float * logits, const float * noise, int32_t b, int32_t S, int32_t k, float tau,
                              float * noisy, float * soft, int64_t * sel_local, int64_t * sel_frames, float * mask) {
    const int64_t T = (int64_t)S * k;
    VB_ASSERT(!soft || tau > 0);
    if (mask) memset(mask, 0, sizeof(float) * (size_t)((int64_t)b * T));
    for (int64_t v = 0; v < b; v++)
        for (int64_t s = 0; s < S; s++) {
            const int64_t off = (v * S + s) * k;
            int64_t       best = 0;
            float         bv = 0;
            for (int64_t j = 0; j < k; j++) {
                float x = logits[off + j] + (noise ? noise[off + j] : 0.0f);
                if (noisy) noisy[off + j] = x;
                if (j == 0 || x > bv) { /* strict: ties keep the lowest index */
                    bv = x;
                    best = j;
                }
            }
            if (soft) {
                /* as torch: y = x / tau, then a max-subtracted softmax of y */
                const float ymax = bv / tau;
                double      sum = 0;
                for (int64_t j = 0; j < k; j++) {
                    float x = logits[off + j] + (noise ? noise[off + j] : 0.0f);
                    soft[off + j] = expf(x / tau - ymax);
                    sum += soft[off + j];
                }
                for (int64_t j = 0; j < k; j++)
                    soft[off + j] = (float)(soft[off + j] / sum);
            }
            if (sel_local) sel_local[v * S + s] = best;
            if (sel_frames) sel_frames[v * S + s] = s * k + best;
            if (mask) mask[v * T + s * k + best] = 1.0f;
        }
}

void vb_frame_prompter_gather(const float * features, int32_t b, int32_t T, int32_t S, int64_t N, int64_t D,
                              const int64_t * sel_frames, float * out) {
    const size_t fsz = (size_t)(N * D);
    for (int64_t v = 0; v < b; v++)
        for (int64_t s = 0; s < S; s++) {
            int64_t f = sel_frames[v * S + s];
            VB_ASSERT(f >= 0 && f < T);
            memcpy(out + (v * S + s) * (int64_t)fsz, features + (v * T + f) * (int64_t)fsz, sizeof(float) * fsz);
        }
}
