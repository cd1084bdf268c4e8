/* ops.c — kernels (see ops.h). GEMMs go to OpenBLAS; the rest are plain loops the compiler vectorises. */
#include "engine/ops.h"

#include "engine/common.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <string.h>

void vb_gemm_nt(int64_t m, int64_t n, int64_t k, float alpha, const float * A, int64_t lda, const float * B,
                int64_t ldb, float beta, float * C, int64_t ldc) {
    if (m <= 0 || n <= 0) return;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int) m, (int) n, (int) k, alpha, A, (int) lda, B, (int) ldb,
                beta, C, (int) ldc);
}

void vb_gemm_nn(int64_t m, int64_t n, int64_t k, float alpha, const float * A, int64_t lda, const float * B,
                int64_t ldb, float beta, float * C, int64_t ldc) {
    if (m <= 0 || n <= 0) return;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) m, (int) n, (int) k, alpha, A, (int) lda, B,
                (int) ldb, beta, C, (int) ldc);
}

void vb_linear_ex(const float * x, int64_t ldx, int64_t n, int64_t in, const float * W, const float * b, int64_t out,
                  float * y, int64_t ldy, float beta) {
    vb_gemm_nt(n, out, in, 1.0f, x, ldx, W, in, beta, y, ldy);
    if (b)
        for (int64_t i = 0; i < n; i++) {
            float * r = y + i * ldy;
            for (int64_t j = 0; j < out; j++) r[j] += b[j];
        }
}

void vb_linear(const float * x, int64_t n, int64_t in, const float * W, const float * b, int64_t out, float * y) {
    vb_linear_ex(x, in, n, in, W, b, out, y, out, 0.0f);
}

void vb_layernorm(const float * x, int64_t n, int64_t d, const float * w, const float * b, float eps, float * y) {
    for (int64_t i = 0; i < n; i++) {
        const float * r = x + i * d;
        float * o = y + i * d;
        double s = 0, s2 = 0;
        for (int64_t j = 0; j < d; j++) s += r[j];
        double mean = s / (double) d;
        for (int64_t j = 0; j < d; j++) {
            double t = r[j] - mean;
            s2 += t * t;
        }
        float inv = (float) (1.0 / sqrt(s2 / (double) d + (double) eps));
        float mf = (float) mean;
        for (int64_t j = 0; j < d; j++) o[j] = (r[j] - mf) * inv * (w ? w[j] : 1.0f) + (b ? b[j] : 0.0f);
    }
}

void vb_rmsnorm(const float * x, int64_t n, int64_t d, const float * w, float eps, float * y) {
    for (int64_t i = 0; i < n; i++) {
        const float * r = x + i * d;
        float * o = y + i * d;
        double s2 = 0;
        for (int64_t j = 0; j < d; j++) s2 += (double) r[j] * r[j];
        float inv = (float) (1.0 / sqrt(s2 / (double) d + (double) eps));
        for (int64_t j = 0; j < d; j++) o[j] = w[j] * (r[j] * inv);
    }
}

void vb_gelu_erf(float * x, int64_t n) {
    for (int64_t i = 0; i < n; i++) x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752440f));
}

void vb_gelu_tanh(float * x, int64_t n) {
    const float c = 0.79788456080286535588f; /* sqrt(2/pi) */
    for (int64_t i = 0; i < n; i++) {
        float v = x[i];
        x[i] = 0.5f * v * (1.0f + tanhf(c * (v + 0.044715f * v * v * v)));
    }
}

void vb_relu(float * x, int64_t n) {
    for (int64_t i = 0; i < n; i++) x[i] = x[i] > 0 ? x[i] : 0;
}

void vb_softmax_rows(float * x, int64_t n, int64_t d) {
    for (int64_t i = 0; i < n; i++) {
        float * r = x + i * d;
        float m = -INFINITY;
        for (int64_t j = 0; j < d; j++) m = r[j] > m ? r[j] : m;
        if (m == -INFINITY) {
            memset(r, 0, sizeof(float) * (size_t) d);
            continue;
        }
        double s = 0;
        for (int64_t j = 0; j < d; j++) {
            r[j] = expf(r[j] - m);
            s += r[j];
        }
        float inv = (float) (1.0 / s);
        for (int64_t j = 0; j < d; j++) r[j] *= inv;
    }
}

void vb_add(float * y, const float * x, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] += x[i];
}

void vb_mul(float * y, const float * a, const float * b, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = a[i] * b[i];
}

void vb_attention(const float * q, int64_t ldq, const float * k, int64_t ldk, const float * v, int64_t ldv,
                  int64_t nq, int64_t nk, int32_t heads, int32_t dh, float scale, const float * pos_bias,
                  const float * key_mask_add, int causal, int64_t q_off, float * out, int64_t ldo, float * scratch) {
    for (int32_t h = 0; h < heads; h++) {
        float * S = scratch; /* (nq, nk) */
        vb_gemm_nt(nq, nk, dh, scale, q + h * dh, ldq, k + h * dh, ldk, 0.0f, S, nk);
        for (int64_t i = 0; i < nq; i++) {
            float * r = S + i * nk;
            if (pos_bias) {
                const float * pb = pos_bias + ((int64_t) h * nq + i) * nk;
                for (int64_t j = 0; j < nk; j++) r[j] += pb[j];
            }
            if (key_mask_add)
                for (int64_t j = 0; j < nk; j++) r[j] += key_mask_add[j];
            if (causal)
                for (int64_t j = q_off + i + 1; j < nk; j++) r[j] = -INFINITY;
        }
        vb_softmax_rows(S, nq, nk);
        vb_gemm_nn(nq, dh, nk, 1.0f, S, nk, v + h * dh, ldv, 0.0f, out + h * dh, ldo);
    }
}
