/* ops.c — kernels (see ops.h). GEMMs go to OpenBLAS; the rest are plain loops the compiler vectorises. */
#include "engine/ops.h"

#include "base/common.h"
#include "engine/cpu.h"
#include "engine/pool.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

void vb_gemm_nt(int64_t m, int64_t n, int64_t k, float alpha, const float * A, int64_t lda, const float * B,
                int64_t ldb, float beta, float * C, int64_t ldc) {
    if (m <= 0 || n <= 0) return;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)n, (int)k, alpha, A, (int)lda, B, (int)ldb, beta,
                C, (int)ldc);
}

void vb_gemm_nn(int64_t m, int64_t n, int64_t k, float alpha, const float * A, int64_t lda, const float * B,
                int64_t ldb, float beta, float * C, int64_t ldc) {
    if (m <= 0 || n <= 0) return;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)k, alpha, A, (int)lda, B, (int)ldb,
                beta, C, (int)ldc);
}

void vb_linear_ex(const float * x, int64_t ldx, int64_t n, int64_t in, const float * W, const float * b, int64_t out,
                  float * y, int64_t ldy, float beta) {
    vb_gemm_nt(n, out, in, 1.0f, x, ldx, W, in, beta, y, ldy);
    if (b)
        for (int64_t i = 0; i < n; i++)
            vb_add(y + i * ldy, b, out);
}

void vb_linear(const float * x, int64_t n, int64_t in, const float * W, const float * b, int64_t out, float * y) {
    vb_linear_ex(x, in, n, in, W, b, out, y, out, 0.0f);
}

/* LayerNorm and RMS norm rows: sums in double as the scalar code (16 floats per step widened into four 4-double
** accumulators: only the order of the double additions differs), the output in float with the same expression
** ((x - mean) * inv) * w + b, element by element identical to the scalar form (no FMA contraction in ISO C mode). */
#if defined(__GNUC__)
typedef float  vb_v4f_ __attribute__((vector_size(16)));
typedef double vb_v4d_ __attribute__((vector_size(32)));
typedef float  vb_v8f_ __attribute__((vector_size(32)));

#define VB_ROW_SUM_BODY(EXPR)                                                                                          \
    vb_v4d_ a0 = {0, 0, 0, 0}, a1 = a0, a2 = a0, a3 = a0;                                                              \
    int64_t j = 0;                                                                                                     \
    for (; j + 16 <= d; j += 16) {                                                                                     \
        vb_v4f_ f0, f1, f2, f3;                                                                                        \
        memcpy(&f0, r + j, sizeof f0);                                                                                 \
        memcpy(&f1, r + j + 4, sizeof f1);                                                                             \
        memcpy(&f2, r + j + 8, sizeof f2);                                                                             \
        memcpy(&f3, r + j + 12, sizeof f3);                                                                            \
        vb_v4d_ t0 = __builtin_convertvector(f0, vb_v4d_), t1 = __builtin_convertvector(f1, vb_v4d_);                  \
        vb_v4d_ t2 = __builtin_convertvector(f2, vb_v4d_), t3 = __builtin_convertvector(f3, vb_v4d_);                  \
        a0 += EXPR(t0);                                                                                                \
        a1 += EXPR(t1);                                                                                                \
        a2 += EXPR(t2);                                                                                                \
        a3 += EXPR(t3);                                                                                                \
    }                                                                                                                  \
    a0 = (a0 + a1) + (a2 + a3);                                                                                        \
    double acc = (a0[0] + a0[1]) + (a0[2] + a0[3]);                                                                    \
    for (; j < d; j++) {                                                                                               \
        double t = r[j];                                                                                               \
        acc += EXPR(t);                                                                                                \
    }

#define VB_ID(t)     (t)
#define VB_SQ(t)     ((t) * (t))
#define VB_DEV_SQ(t) (((t)-mean) * ((t)-mean))

#define VB_LAYERNORM_ROW_BODY                                                                                          \
    double mean;                                                                                                       \
    {                                                                                                                  \
        VB_ROW_SUM_BODY(VB_ID)                                                                                         \
        mean = acc / (double)d;                                                                                        \
    }                                                                                                                  \
    double s2;                                                                                                         \
    {                                                                                                                  \
        VB_ROW_SUM_BODY(VB_DEV_SQ)                                                                                     \
        s2 = acc;                                                                                                      \
    }                                                                                                                  \
    float   inv = (float)(1.0 / sqrt(s2 / (double)d + (double)eps));                                                   \
    float   mf = (float)mean;                                                                                          \
    int64_t j = 0;                                                                                                     \
    for (; j + 8 <= d; j += 8) {                                                                                       \
        vb_v8f_ v, vw, vb;                                                                                             \
        memcpy(&v, r + j, sizeof v);                                                                                   \
        v = (v - mf) * inv;                                                                                            \
        if (w) {                                                                                                       \
            memcpy(&vw, w + j, sizeof vw);                                                                             \
            v = v * vw;                                                                                                \
        }                                                                                                              \
        if (b) {                                                                                                       \
            memcpy(&vb, b + j, sizeof vb);                                                                             \
            v = v + vb;                                                                                                \
        }                                                                                                              \
        memcpy(o + j, &v, sizeof v);                                                                                   \
    }                                                                                                                  \
    for (; j < d; j++)                                                                                                 \
        o[j] = (r[j] - mf) * inv * (w ? w[j] : 1.0f) + (b ? b[j] : 0.0f);

#define VB_RMSNORM_ROW_BODY                                                                                            \
    VB_ROW_SUM_BODY(VB_SQ)                                                                                             \
    float inv = (float)(1.0 / sqrt(acc / (double)d + (double)eps));                                                    \
    for (j = 0; j + 8 <= d; j += 8) {                                                                                  \
        vb_v8f_ v, vw;                                                                                                 \
        memcpy(&v, r + j, sizeof v);                                                                                   \
        memcpy(&vw, w + j, sizeof vw);                                                                                 \
        v = vw * (v * inv);                                                                                            \
        memcpy(o + j, &v, sizeof v);                                                                                   \
    }                                                                                                                  \
    for (; j < d; j++)                                                                                                 \
        o[j] = w[j] * (r[j] * inv);

static void layernorm_row_base(const float * r, int64_t d, const float * w, const float * b, float eps, float * o) {
    VB_LAYERNORM_ROW_BODY
}
static void rmsnorm_row_base(const float * r, int64_t d, const float * w, float eps, float * o) {
    VB_RMSNORM_ROW_BODY
}
#if defined(__x86_64__)
__attribute__((target("avx2"))) static void layernorm_row_avx2(const float * r, int64_t d, const float * w,
                                                               const float * b, float eps, float * o) {
    VB_LAYERNORM_ROW_BODY
}
__attribute__((target("avx2"))) static void rmsnorm_row_avx2(const float * r, int64_t d, const float * w, float eps,
                                                             float * o) {
    VB_RMSNORM_ROW_BODY
}
#else
#define layernorm_row_avx2 layernorm_row_base
#define rmsnorm_row_avx2   rmsnorm_row_base
#endif
static int have_avx2(void);

static void layernorm_serial(const float * x, int64_t n, int64_t d, const float * w, const float * b, float eps,
                             float * y) {
    int avx = have_avx2();
    for (int64_t i = 0; i < n; i++) {
        if (avx)
            layernorm_row_avx2(x + i * d, d, w, b, eps, y + i * d);
        else
            layernorm_row_base(x + i * d, d, w, b, eps, y + i * d);
    }
}

static void rmsnorm_serial(const float * x, int64_t n, int64_t d, const float * w, float eps, float * y) {
    int avx = have_avx2();
    for (int64_t i = 0; i < n; i++) {
        if (avx)
            rmsnorm_row_avx2(x + i * d, d, w, eps, y + i * d);
        else
            rmsnorm_row_base(x + i * d, d, w, eps, y + i * d);
    }
}
#else /* not GCC/clang: plain loops */
void vb_layernorm(const float * x, int64_t n, int64_t d, const float * w, const float * b, float eps, float * y) {
    for (int64_t i = 0; i < n; i++) {
        const float * r = x + i * d;
        float *       o = y + i * d;
        double        s = 0, s2 = 0;
        for (int64_t j = 0; j < d; j++)
            s += r[j];
        double mean = s / (double)d;
        for (int64_t j = 0; j < d; j++) {
            double t = r[j] - mean;
            s2 += t * t;
        }
        float inv = (float)(1.0 / sqrt(s2 / (double)d + (double)eps));
        float mf = (float)mean;
        for (int64_t j = 0; j < d; j++)
            o[j] = (r[j] - mf) * inv * (w ? w[j] : 1.0f) + (b ? b[j] : 0.0f);
    }
}

void vb_rmsnorm(const float * x, int64_t n, int64_t d, const float * w, float eps, float * y) {
    for (int64_t i = 0; i < n; i++) {
        const float * r = x + i * d;
        float *       o = y + i * d;
        double        s2 = 0;
        for (int64_t j = 0; j < d; j++)
            s2 += (double)r[j] * r[j];
        float inv = (float)(1.0 / sqrt(s2 / (double)d + (double)eps));
        for (int64_t j = 0; j < d; j++)
            o[j] = w[j] * (r[j] * inv);
    }
}
#endif

void vb_gelu_tanh(float * x, int64_t n) {
    const float c = 0.79788456080286535588f; /* sqrt(2/pi) */
    for (int64_t i = 0; i < n; i++) {
        float v = x[i];
        x[i] = 0.5f * v * (1.0f + tanhf(c * (v + 0.044715f * v * v * v)));
    }
}

void vb_relu(float * x, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        x[i] = x[i] > 0 ? x[i] : 0;
}

/* ---- vectorised exp / GELU-erf ----
** Eight floats at a time with GCC vector extensions.  The same body is compiled twice: once for AVX2+FMA (chosen
** at run time with __builtin_cpu_supports) and once for the baseline ISA (SSE2 on x86-64; plain code elsewhere).
**   exp: Cephes expf (n = round(x log2 e), r = x - n ln 2 in two parts, degree-6 polynomial, 2^n from the exponent
**        bits), about 2 ulp; x < -87.3 (incl. -inf) gives 0, x > 88.7 is clamped (callers subtract the max).
**   erf: Abramowitz & Stegun 7.1.26, |error| <= 1.5e-7, erf(x) = 1 - poly(t) e^{-x^2}, t = 1 / (1 + 0.3275911 |x|). */
#if defined(__GNUC__)
typedef float   vb_v8f __attribute__((vector_size(32)));
typedef int32_t vb_v8i __attribute__((vector_size(32)));

#define VB_V8(c) ((vb_v8f){(c), (c), (c), (c), (c), (c), (c), (c)})

/* the bodies are written once for a vector type VF of floats, VI of int32 of the same width and VC(c) a splat */
#define VB_EXP_BODY(VF, VI, VC)                                                                                        \
    VF x = *px;                                                                                                        \
    VI under = x < VC(-87.33654f);                                                                                     \
    x = (VF)(((VI)x & ~under) | ((VI)VC(-87.0f) & under));                                                             \
    VI over = x > VC(88.37626f);                                                                                       \
    x = (VF)(((VI)x & ~over) | ((VI)VC(88.37626f) & over));                                                            \
    VF fx = x * VC(1.44269504088896341f) + VC(0.5f);                                                                   \
    VI ti = __builtin_convertvector(fx, VI);                                                                           \
    VF tf = __builtin_convertvector(ti, VF);                                                                           \
    VI gt = tf > fx;                                                                                                   \
    ti = ti + gt; /* gt is -1 where the truncation rounded up: floor */                                                \
    tf = __builtin_convertvector(ti, VF);                                                                              \
    VF r = x - tf * VC(0.693359375f) + tf * VC(2.12194440e-4f);                                                        \
    VF r2 = r * r;                                                                                                     \
    VF p = VC(1.9875691500e-4f);                                                                                       \
    p = p * r + VC(1.3981999507e-3f);                                                                                  \
    p = p * r + VC(8.3333519073e-3f);                                                                                  \
    p = p * r + VC(4.1665795894e-2f);                                                                                  \
    p = p * r + VC(1.6666665459e-1f);                                                                                  \
    p = p * r + VC(5.0000001201e-1f);                                                                                  \
    p = p * r2 + r + VC(1.0f);                                                                                         \
    VI e = (ti + 127) << 23;                                                                                           \
    VF y = p * (VF)e;                                                                                                  \
    *px = (VF)((VI)y & ~under);
#define VB_EXP8_BODY VB_EXP_BODY(vb_v8f, vb_v8i, VB_V8)

/* GELU of the VF at x + i (VB_GELU_STEP) / of x (n): vectors of 8 and a scalar tail (libm erff) */
#define VB_GELU_STEP(VF, VI, VC, EXPV)                                                                                 \
    {                                                                                                                  \
        VF v;                                                                                                          \
        memcpy(&v, x + i, sizeof v);                                                                                   \
        VF z = v * VC(0.70710678118654752440f);                                                                        \
        VI neg = z < VC(0.0f);                                                                                         \
        VF a = (VF)((VI)z & ~(VI)VC(-0.0f));                                                                           \
        VF t = VC(1.0f) / (VC(1.0f) + VC(0.3275911f) * a);                                                             \
        VF q = VC(1.061405429f);                                                                                       \
        q = q * t + VC(-1.453152027f);                                                                                 \
        q = q * t + VC(1.421413741f);                                                                                  \
        q = q * t + VC(-0.284496736f);                                                                                 \
        q = q * t + VC(0.254829592f);                                                                                  \
        q = q * t;                                                                                                     \
        VF ea = -(a * a);                                                                                              \
        EXPV(&ea);                                                                                                     \
        VF er = VC(1.0f) - q * ea;                                                                                     \
        er = (VF)((VI)er ^ (neg & (VI)VC(-0.0f)));                                                                     \
        v = VC(0.5f) * v * (VC(1.0f) + er);                                                                            \
        memcpy(x + i, &v, sizeof v);                                                                                   \
    }
#define VB_GELU_TAIL                                                                                                   \
    for (; i < n; i++)                                                                                                 \
        x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752440f));
#define VB_GELU_BODY(EXP8)                                                                                             \
    int64_t i = 0;                                                                                                     \
    for (; i + 8 <= n; i += 8)                                                                                         \
        VB_GELU_STEP(vb_v8f, vb_v8i, VB_V8, EXP8)                                                                      \
    VB_GELU_TAIL

/* softmax row: max, exp(x - max) (vector), sum in double, scale */
#define VB_SOFTMAX_ROW_BODY(EXP8)                                                                                      \
    float m = -INFINITY;                                                                                               \
    for (int64_t j = 0; j < d; j++)                                                                                    \
        m = r[j] > m ? r[j] : m;                                                                                       \
    if (m == -INFINITY) {                                                                                              \
        memset(r, 0, sizeof(float) * (size_t)d);                                                                       \
        return;                                                                                                        \
    }                                                                                                                  \
    double  s = 0;                                                                                                     \
    int64_t j = 0;                                                                                                     \
    vb_v8f  acc = VB_V8(0.0f);                                                                                         \
    for (; j + 8 <= d; j += 8) {                                                                                       \
        vb_v8f v;                                                                                                      \
        memcpy(&v, r + j, sizeof v);                                                                                   \
        v = v - VB_V8(m);                                                                                              \
        EXP8(&v);                                                                                                      \
        acc += v;                                                                                                      \
        memcpy(r + j, &v, sizeof v);                                                                                   \
    }                                                                                                                  \
    for (int k = 0; k < 8; k++)                                                                                        \
        s += acc[k];                                                                                                   \
    for (; j < d; j++) {                                                                                               \
        r[j] = expf(r[j] - m);                                                                                         \
        s += r[j];                                                                                                     \
    }                                                                                                                  \
    float inv = (float)(1.0 / s);                                                                                      \
    for (j = 0; j < d; j++)                                                                                            \
        r[j] *= inv;

static inline void exp8_base(vb_v8f * px) {
    VB_EXP8_BODY
}
static void gelu_erf_base(float * x, int64_t n) {
    VB_GELU_BODY(exp8_base)
}
static void softmax_row_base(float * r, int64_t d) {
    VB_SOFTMAX_ROW_BODY(exp8_base)
}
#if defined(__x86_64__)
#define VB_AVX2 __attribute__((target("avx2,fma")))
static inline VB_AVX2 void exp8_avx2(vb_v8f * px) {
    VB_EXP8_BODY
}
static VB_AVX2 void gelu_erf_avx2(float * x, int64_t n) {
    VB_GELU_BODY(exp8_avx2)
}
static VB_AVX2 void softmax_row_avx2(float * r, int64_t d) {
    VB_SOFTMAX_ROW_BODY(exp8_avx2)
}
static int have_avx2(void) {
    static int v = -1;
    if (v < 0) {
        __builtin_cpu_init();
        v = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && vb_cpu_allowed(VB_CPU_AVX2);
    }
    return v;
}

/* AVX-512: the same operations 16 lanes at a time (no contraction in ISO C mode, so every lane gives the bits of the
** 8-lane code), then one 8-lane step and the scalar tail exactly where the 8-lane loop leaves them */
typedef float   vb_v16f __attribute__((vector_size(64)));
typedef int32_t vb_v16i __attribute__((vector_size(64)));
#define VB_V16(c) ((vb_v16f){(c), (c), (c), (c), (c), (c), (c), (c), (c), (c), (c), (c), (c), (c), (c), (c)})
#define VB_AVX512 __attribute__((target("avx512f")))
static inline VB_AVX512 void exp16_avx512(vb_v16f * px) {
    VB_EXP_BODY(vb_v16f, vb_v16i, VB_V16)
}
static inline VB_AVX512 void exp8_avx512(vb_v8f * px) {
    VB_EXP8_BODY
}
static VB_AVX512 void gelu_erf_avx512(float * x, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        VB_GELU_STEP(vb_v16f, vb_v16i, VB_V16, exp16_avx512)
    for (; i + 8 <= n; i += 8)
        VB_GELU_STEP(vb_v8f, vb_v8i, VB_V8, exp8_avx512)
    VB_GELU_TAIL
}
static int have_avx512(void) {
    static int v = -1;
    if (v < 0) {
        __builtin_cpu_init();
        v = __builtin_cpu_supports("avx512f") && vb_cpu_allowed(VB_CPU_AVX512);
    }
    return v;
}
#else
static int have_avx512(void) {
    return 0;
}
#define gelu_erf_avx512  gelu_erf_base
static int have_avx2(void) {
    return 0;
}
#define gelu_erf_avx2    gelu_erf_base
#define softmax_row_avx2 softmax_row_base
#endif

int vb_gelu_erf_kernel(float * x, int64_t n, const char * kernel) {
    if (!strcmp(kernel, "base"))
        gelu_erf_base(x, n);
    else if (!strcmp(kernel, "avx2") && have_avx2())
        gelu_erf_avx2(x, n);
    else if (!strcmp(kernel, "avx512") && have_avx512())
        gelu_erf_avx512(x, n);
    else
        return -1;
    return 0;
}

static void gelu_erf_serial(float * x, int64_t n) {
    if (have_avx512())
        gelu_erf_avx512(x, n);
    else if (have_avx2())
        gelu_erf_avx2(x, n);
    else
        gelu_erf_base(x, n);
}

void vb_exp_inplace(float * x, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        vb_v8f v;
        memcpy(&v, x + i, sizeof v);
        exp8_base(&v);
        memcpy(x + i, &v, sizeof v);
    }
    for (; i < n; i++)
        x[i] = expf(x[i]);
}

static void softmax_serial(float * x, int64_t n, int64_t d) {
    int avx = have_avx2();
    for (int64_t i = 0; i < n; i++) {
        if (avx)
            softmax_row_avx2(x + i * d, d);
        else
            softmax_row_base(x + i * d, d);
    }
}

/* ---- the glue on the engine's threads: rows (or 64-element chunks) cut into pieces of whole rows (chunks), about
** GLUE_PIECES_PER_THREAD per thread, taken from a shared counter (vb_pool_run_dynamic: a thread the machine delays
** takes fewer pieces, and the caller starts before a sleeping worker wakes); each row or chunk is computed exactly as
** alone, so the results do not depend on the thread count or on who took a piece.  Below GLUE_PAR_MIN elements one
** thread (a hand-off costs ~2-5 us). */
#define GLUE_PAR_MIN           (1 << 16)
#define GLUE_PIECES_PER_THREAD 4

struct glue_job {
    int           op; /* 0 layernorm, 1 rmsnorm, 2 softmax rows, 3 gelu_erf */
    const float * x;
    float *       y;
    int64_t       n, d; /* rows, width (gelu: n elements, d = 1) */
    const float * w, *b;
    float         eps;
    int64_t       units, pieces; /* rows (gelu: 64-element chunks), pieces they are cut into */
    atomic_llong  next;          /* the next piece */
};

static void glue_part(void * ctx, int ith, int nth) {
    (void)ith, (void)nth;
    struct glue_job * J = ctx;
    for (int64_t pi; (pi = atomic_fetch_add_explicit(&J->next, 1, memory_order_relaxed)) < J->pieces;) {
        const int64_t u0 = J->units * pi / J->pieces, u1 = J->units * (pi + 1) / J->pieces;
        if (u0 >= u1) continue;
        if (J->op == 3) { /* chunks of 64 elements: the same vector / tail split as one call over everything */
            const int64_t a = u0 * 64, e = VB_MIN(u1 * 64, J->n);
            gelu_erf_serial(J->y + a, e - a);
            continue;
        }
        const float * x = J->x + u0 * J->d;
        float *       y = J->y + u0 * J->d;
        if (J->op == 0)
            layernorm_serial(x, u1 - u0, J->d, J->w, J->b, J->eps, y);
        else if (J->op == 1)
            rmsnorm_serial(x, u1 - u0, J->d, J->w, J->eps, y);
        else
            softmax_serial(y, u1 - u0, J->d);
    }
}

/* run op serially when small or when VB_GLUE_SERIAL is set (measuring the cost of the split) */
static void glue_run(struct glue_job * J) {
    static int serial = -1;
    if (serial < 0) serial = getenv("VB_GLUE_SERIAL") != NULL;
    J->units = J->op == 3 ? (J->n + 63) / 64 : J->n;
    const int par = !serial && J->n * J->d >= GLUE_PAR_MIN && J->units > 1;
    J->pieces = par ? VB_MIN(J->units, (int64_t)GLUE_PIECES_PER_THREAD * vb_pool_threads()) : 1;
    atomic_init(&J->next, 0);
    vb_pool_run_dynamic(par ? (int)VB_MIN(J->pieces, (int64_t)1 << 30) : 1, glue_part, J);
}

void vb_layernorm(const float * x, int64_t n, int64_t d, const float * w, const float * b, float eps, float * y) {
    struct glue_job J = {.op = 0, .x = x, .y = y, .n = n, .d = d, .w = w, .b = b, .eps = eps};
    glue_run(&J);
}

void vb_rmsnorm(const float * x, int64_t n, int64_t d, const float * w, float eps, float * y) {
    struct glue_job J = {.op = 1, .x = x, .y = y, .n = n, .d = d, .w = w, .eps = eps};
    glue_run(&J);
}

void vb_softmax_rows(float * x, int64_t n, int64_t d) {
    struct glue_job J = {.op = 2, .x = x, .y = x, .n = n, .d = d};
    glue_run(&J);
}

void vb_gelu_erf(float * x, int64_t n) {
    struct glue_job J = {.op = 3, .x = x, .y = x, .n = n, .d = 1};
    glue_run(&J);
}
#else /* not GCC/clang: plain loops */
void vb_gelu_erf(float * x, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752440f));
}
int vb_gelu_erf_kernel(float * x, int64_t n, const char * kernel) {
    if (strcmp(kernel, "base") != 0) return -1;
    vb_gelu_erf(x, n);
    return 0;
}
void vb_exp_inplace(float * x, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        x[i] = expf(x[i]);
}
void vb_softmax_rows(float * x, int64_t n, int64_t d) {
    for (int64_t i = 0; i < n; i++) {
        float * r = x + i * d;
        float   m = -INFINITY;
        for (int64_t j = 0; j < d; j++)
            m = r[j] > m ? r[j] : m;
        if (m == -INFINITY) {
            memset(r, 0, sizeof(float) * (size_t)d);
            continue;
        }
        double s = 0;
        for (int64_t j = 0; j < d; j++) {
            r[j] = expf(r[j] - m);
            s += r[j];
        }
        float inv = (float)(1.0 / s);
        for (int64_t j = 0; j < d; j++)
            r[j] *= inv;
    }
}
#endif

/* Elementwise: 8 floats per step (GCC vector extensions; SSE2 / NEON pairs at the baseline ISA), same results as
** the scalar loop element by element. */
void vb_add(float * y, const float * x, int64_t n) {
    int64_t i = 0;
#if defined(__GNUC__)
    for (; i + 8 <= n; i += 8) {
        vb_v8f_ a, b;
        memcpy(&a, y + i, sizeof a);
        memcpy(&b, x + i, sizeof b);
        a += b;
        memcpy(y + i, &a, sizeof a);
    }
#endif
    for (; i < n; i++)
        y[i] += x[i];
}

void vb_mul(float * y, const float * a, const float * b, int64_t n) {
    int64_t i = 0;
#if defined(__GNUC__)
    for (; i + 8 <= n; i += 8) {
        vb_v8f_ u, v;
        memcpy(&u, a + i, sizeof u);
        memcpy(&v, b + i, sizeof v);
        u *= v;
        memcpy(y + i, &u, sizeof u);
    }
#endif
    for (; i < n; i++)
        y[i] = a[i] * b[i];
}

struct attn_job {
    const float *q, *k, *v, *pos_bias, *key_mask_add;
    int64_t      ldq, ldk, ldv, nq, nk, q_off, ldo;
    int32_t      dh, h0, h1;
    float        scale;
    int          causal;
    float *      out, *scratch;
};

static void attn_heads(const struct attn_job * J) {
    const int64_t nq = J->nq, nk = J->nk;
    for (int32_t h = J->h0; h < J->h1; h++) {
        float * S = J->scratch; /* (nq, nk) */
        vb_gemm_nt(nq, nk, J->dh, J->scale, J->q + h * J->dh, J->ldq, J->k + h * J->dh, J->ldk, 0.0f, S, nk);
        for (int64_t i = 0; i < nq; i++) {
            float * r = S + i * nk;
            if (J->pos_bias) vb_add(r, J->pos_bias + ((int64_t)h * nq + i) * nk, nk);
            if (J->key_mask_add) vb_add(r, J->key_mask_add, nk);
            if (J->causal)
                for (int64_t j = J->q_off + i + 1; j < nk; j++)
                    r[j] = -INFINITY;
        }
        vb_softmax_rows(S, nq, nk);
        vb_gemm_nn(nq, J->dh, nk, 1.0f, S, nk, J->v + h * J->dh, J->ldv, 0.0f, J->out + h * J->dh, J->ldo);
    }
}

/* pool task: a contiguous range of heads per thread; threads past the first use their own scores buffer (kept per
** thread) */
static void attn_part(void * ctx, int ith, int nth) {
    struct attn_job J = *(const struct attn_job *)ctx;
    int32_t         heads = J.h1 - J.h0;
    J.h1 = J.h0 + (int32_t)((int64_t)heads * (ith + 1) / nth);
    J.h0 = J.h0 + (int32_t)((int64_t)heads * ith / nth);
    if (J.h0 >= J.h1) return;
    if (ith > 0) J.scratch = vb_pool_scratch(VB_SCRATCH_ATTN, sizeof(float) * (size_t)(J.nq * J.nk));
    attn_heads(&J);
}

void vb_attention(const float * q, int64_t ldq, const float * k, int64_t ldk, const float * v, int64_t ldv, int64_t nq,
                  int64_t nk, int32_t heads, int32_t dh, float scale, const float * pos_bias,
                  const float * key_mask_add, int causal, int64_t q_off, float * out, int64_t ldo, float * scratch) {
    struct attn_job J = {q,     k,   v,  pos_bias, key_mask_add, ldq,   ldk,    ldv, nq,     nk,
                         q_off, ldo, dh, 0,        heads,        scale, causal, out, scratch};
    /* Large enough (>= ~2 MFLOP in all): the heads are split over the engine's threads, each running BLAS (one
    ** thread) on its own scores buffer; small problems stay on the calling thread. */
    int nth = (int64_t)heads * nq * nk * dh >= (1 << 20) ? heads : 1;
    vb_pool_run(nth, attn_part, &J);
}
