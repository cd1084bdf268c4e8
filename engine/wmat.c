/* wmat.c — resident f32 / bf16 / f16 weight matrices and their Linear (see wmat.h). */
#include "engine/wmat.h"

#include "engine/blas.h"
#include "engine/common.h"
#include "engine/ops.h"

#include <cblas.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define VB_WMAT_X86 1
#else
#define VB_WMAT_X86 0
#endif

/* Split the fused GEMV over two threads from this many weight elements on (a thread start costs ~20 us, the GEMV
** of 2^18 bf16 weights ~30 us from DRAM). */
#define GEMV_SPLIT_MIN (1 << 18)

/* ---------------------------------------------------------------- allocation, views */

static size_t esize(int32_t dt) {
    return dt == VB_DT_F32 ? 4 : (dt == VB_DT_BF16 || dt == VB_DT_F16) ? 2 : 0;
}

int vb_wmat_alloc(struct vb_wmat * W, int64_t rows, int64_t cols, int32_t dt) {
    memset(W, 0, sizeof *W);
    size_t es = esize(dt);
    if (!es) return vb_fail(VB_ERR_ARG, "weight matrix: dtype %d is not f32, bf16 or f16", dt);
    if (rows < 1 || cols < 1 || rows > (INT64_C(1) << 40) / cols)
        return vb_fail(VB_ERR_ARG, "weight matrix: bad size %lld x %lld", (long long)rows, (long long)cols);
    size_t n = (size_t)(rows * cols) * es;
    void * p = NULL;
    if (posix_memalign(&p, 64, (n + 63) / 64 * 64) != 0 || !p) VB_ASSERT(!"out of memory");
    W->dt = dt;
    W->owned = 1;
    W->rows = rows;
    W->cols = cols;
    W->data = p;
    return VB_OK;
}

void vb_wmat_free(struct vb_wmat * W) {
    if (!W) return;
    if (W->owned) free(W->data);
    memset(W, 0, sizeof *W);
}

size_t vb_wmat_bytes(const struct vb_wmat * W) {
    return W && W->data ? (size_t)(W->rows * W->cols) * esize(W->dt) : 0;
}

struct vb_wmat vb_wmat_view_f32(const float * data, int64_t rows, int64_t cols) {
    struct vb_wmat v = {VB_DT_F32, 0, rows, cols, (void *)data};
    return v;
}

struct vb_wmat vb_wmat_rows(const struct vb_wmat * W, int64_t row0, int64_t n) {
    VB_ASSERT(row0 >= 0 && n >= 0 && row0 + n <= W->rows);
    struct vb_wmat v = {W->dt, 0, n, W->cols, (uint8_t *)W->data + (size_t)(row0 * W->cols) * esize(W->dt)};
    return v;
}

int vb_wmat_dtype_parse(const char * s, int32_t * dt) {
    static const struct {
        const char * name;
        int32_t      dt;
    } N[] = {{"f32", VB_DT_F32},       {"float32", VB_DT_F32}, {"fp32", VB_DT_F32}, {"bf16", VB_DT_BF16},
             {"bfloat16", VB_DT_BF16}, {"f16", VB_DT_F16},     {"fp16", VB_DT_F16}, {"float16", VB_DT_F16}};
    for (size_t i = 0; s && i < sizeof N / sizeof N[0]; i++)
        if (strcasecmp(s, N[i].name) == 0) {
            *dt = N[i].dt;
            return VB_OK;
        }
    return vb_fail(VB_ERR_ARG, "weight dtype '%s': expected f32, bf16 or f16", s ? s : "(null)");
}

/* ---------------------------------------------------------------- conversion */

static inline float half_to_f32(int32_t dt, uint16_t h) {
    return dt == VB_DT_BF16 ? vb_bf16_to_f32(h) : vb_f16_to_f32(h);
}

static inline uint16_t f32_to_half(int32_t dt, float f) {
    return dt == VB_DT_BF16 ? vb_f32_to_bf16(f) : vb_f32_to_f16(f);
}

/* n source values of dtype sdt at src (unaligned) -> n values of dtype ddt at dst. */
static void convert(const uint8_t * src, int32_t sdt, void * dst, int32_t ddt, int64_t n) {
    if (sdt == ddt) {
        memcpy(dst, src, (size_t)n * esize(ddt));
        return;
    }
    for (int64_t i = 0; i < n; i++) {
        float f;
        if (sdt == VB_DT_F32)
            memcpy(&f, src + 4 * i, 4);
        else if (sdt == VB_DT_F64) {
            double d;
            memcpy(&d, src + 8 * i, 8);
            f = (float)d;
        } else {
            uint16_t h;
            memcpy(&h, src + 2 * i, 2);
            f = half_to_f32(sdt, h);
        }
        if (ddt == VB_DT_F32)
            ((float *)dst)[i] = f;
        else
            ((uint16_t *)dst)[i] = f32_to_half(ddt, f);
    }
}

void vb_wmat_set_f32(struct vb_wmat * W, int64_t row0, const float * src, int64_t n_rows) {
    VB_ASSERT(row0 >= 0 && n_rows >= 0 && row0 + n_rows <= W->rows);
    convert((const uint8_t *)src, VB_DT_F32, (uint8_t *)W->data + (size_t)(row0 * W->cols) * esize(W->dt), W->dt,
            n_rows * W->cols);
}

int vb_wmat_load_rows(struct vb_wmat * W, int64_t row0, const struct vb_weights * w, const char * name, int32_t ndim,
                      const int64_t * shape) {
    const struct vb_st_tensor * t = vb_weights_find(w, name);
    const char * path = vb_weights_n_files(w) > 0 ? vb_weights_file_path(w, t ? t->file : 0) : "(weights)";
    if (!t) return vb_fail(VB_ERR_NOTFOUND, "%s: missing tensor '%s'", path, name);
    int rc = vb_weights_check_shape(w, t, ndim, shape);
    if (rc != VB_OK) return rc;
    if (t->dtype != VB_DT_F32 && t->dtype != VB_DT_F16 && t->dtype != VB_DT_BF16 && t->dtype != VB_DT_F64)
        return vb_fail(VB_ERR_UNSUPPORTED, "%s: tensor '%s': dtype %s where a float tensor is expected", path, name,
                       vb_dtype_name(t->dtype));
    if (t->numel % W->cols != 0 || row0 < 0 || row0 + t->numel / W->cols > W->rows) {
        char s[128];
        vb_shape_str(t->shape, t->ndim, s, sizeof s);
        return vb_fail(VB_ERR_SHAPE, "%s: tensor '%s': shape %s does not fit rows [%lld, ...) of a %lld x %lld matrix",
                       path, name, s, (long long)row0, (long long)W->rows, (long long)W->cols);
    }
    convert(t->data, t->dtype, (uint8_t *)W->data + (size_t)(row0 * W->cols) * esize(W->dt), W->dt, t->numel);
    vb_weights_drop_pages(w, t);
    return VB_OK;
}

int vb_wmat_load(struct vb_wmat * W, int32_t dt, const struct vb_weights * w, const char * name, int32_t ndim,
                 const int64_t * shape) {
    memset(W, 0, sizeof *W);
    VB_ASSERT(shape && ndim >= 1);
    int64_t cols = 1;
    for (int32_t i = 1; i < ndim; i++)
        cols *= shape[i];
    if (shape[0] < 1 || cols < 1)
        return vb_fail(VB_ERR_ARG, "tensor '%s': the expected shape has an empty or unknown dim", name);
    /* check the tensor before allocating (nothing allocated on failure) */
    const struct vb_st_tensor * t = vb_weights_find(w, name);
    if (!t)
        return vb_fail(VB_ERR_NOTFOUND, "%s: missing tensor '%s'",
                       vb_weights_n_files(w) > 0 ? vb_weights_file_path(w, 0) : "(weights)", name);
    int rc = vb_weights_check_shape(w, t, ndim, shape);
    if (rc != VB_OK) return rc;
    rc = vb_wmat_alloc(W, shape[0], cols, dt);
    if (rc == VB_OK) rc = vb_wmat_load_rows(W, 0, w, name, ndim, shape);
    if (rc != VB_OK) vb_wmat_free(W);
    return rc;
}

void vb_wmat_row(const struct vb_wmat * W, int64_t r, float * out) {
    VB_ASSERT(r >= 0 && r < W->rows);
    convert((const uint8_t *)W->data + (size_t)(r * W->cols) * esize(W->dt), W->dt, out, VB_DT_F32, W->cols);
}

/* ---------------------------------------------------------------- fused GEMV (small n) */

/* One job: weight rows [r0, r1) for all n activation rows. */
struct gemv_job {
    const struct vb_wmat * W;
    const float *          x, *b;
    int64_t                ldx, n, ldy, r0, r1;
    float *                y;
    float                  beta;
};

static inline void store(const struct gemv_job * J, int64_t i, int64_t r, float s) {
    float * o = J->y + i * J->ldy + r;
    float   v = J->beta != 0.0f ? s + J->beta * *o : s;
    *o = J->b ? v + J->b[r] : v;
}

/* portable: convert one row to f32 (on the stack up to 4096 columns) and dot it with every activation row */
static void gemv_scalar(const struct gemv_job * J) {
    const int64_t K = J->W->cols;
    float         stack[4096];
    float *       row = K <= 4096 ? stack : vb_malloc(sizeof(float) * (size_t)K);
    for (int64_t r = J->r0; r < J->r1; r++) {
        vb_wmat_row(J->W, r, row);
        for (int64_t i = 0; i < J->n; i++) {
            const float * x = J->x + i * J->ldx;
            float         s = 0;
            for (int64_t k = 0; k < K; k++)
                s += row[k] * x[k];
            store(J, i, r, s);
        }
    }
    if (row != stack) free(row);
}

#if VB_WMAT_X86
#define VB_AVX2        __attribute__((target("avx2,fma,f16c")))
#define VB_AVX2_INLINE static inline __attribute__((always_inline, target("avx2,fma,f16c")))

VB_AVX2_INLINE __m256 ld8(const int32_t dt, const uint16_t * p) {
    __m128i h = _mm_loadu_si128((const __m128i *)p);
    if (dt == VB_DT_BF16) return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    return _mm256_cvtph_ps(h);
}

VB_AVX2_INLINE float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* rows r0..r1 in blocks of 4 weight rows x 2 activation rows (8 accumulators); the 4 rows stay in L1/L2 while
** the activation pairs are served, so DRAM sees every weight once. */
VB_AVX2_INLINE void gemv_avx2_body(const struct gemv_job * J, const int32_t dt) {
    const int64_t    K = J->W->cols, K8 = K & ~(int64_t)7, n = J->n;
    const uint16_t * W = J->W->data;
    int64_t          r = J->r0;
    for (; r + 4 <= J->r1; r += 4) {
        const uint16_t *w0 = W + r * K, *w1 = w0 + K, *w2 = w1 + K, *w3 = w2 + K;
        int64_t         i = 0;
        for (; i + 2 <= n; i += 2) {
            const float *xa = J->x + i * J->ldx, *xb = xa + J->ldx;
            __m256       a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
            for (int64_t k = 0; k < K8; k += 8) {
                __m256 va = _mm256_loadu_ps(xa + k), vb = _mm256_loadu_ps(xb + k);
                __m256 f0 = ld8(dt, w0 + k), f1 = ld8(dt, w1 + k), f2 = ld8(dt, w2 + k), f3 = ld8(dt, w3 + k);
                a0 = _mm256_fmadd_ps(f0, va, a0), b0 = _mm256_fmadd_ps(f0, vb, b0);
                a1 = _mm256_fmadd_ps(f1, va, a1), b1 = _mm256_fmadd_ps(f1, vb, b1);
                a2 = _mm256_fmadd_ps(f2, va, a2), b2 = _mm256_fmadd_ps(f2, vb, b2);
                a3 = _mm256_fmadd_ps(f3, va, a3), b3 = _mm256_fmadd_ps(f3, vb, b3);
            }
            float sa[4] = {hsum8(a0), hsum8(a1), hsum8(a2), hsum8(a3)};
            float sb[4] = {hsum8(b0), hsum8(b1), hsum8(b2), hsum8(b3)};
            for (int64_t k = K8; k < K; k++) {
                const uint16_t * ws[4] = {w0, w1, w2, w3};
                for (int q = 0; q < 4; q++) {
                    float f = half_to_f32(dt, ws[q][k]);
                    sa[q] += f * xa[k], sb[q] += f * xb[k];
                }
            }
            for (int q = 0; q < 4; q++)
                store(J, i, r + q, sa[q]), store(J, i + 1, r + q, sb[q]);
        }
        for (; i < n; i++) {
            const float * xa = J->x + i * J->ldx;
            __m256        a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
            for (int64_t k = 0; k < K8; k += 8) {
                __m256 va = _mm256_loadu_ps(xa + k);
                a0 = _mm256_fmadd_ps(ld8(dt, w0 + k), va, a0);
                a1 = _mm256_fmadd_ps(ld8(dt, w1 + k), va, a1);
                a2 = _mm256_fmadd_ps(ld8(dt, w2 + k), va, a2);
                a3 = _mm256_fmadd_ps(ld8(dt, w3 + k), va, a3);
            }
            float sa[4] = {hsum8(a0), hsum8(a1), hsum8(a2), hsum8(a3)};
            for (int64_t k = K8; k < K; k++) {
                const uint16_t * ws[4] = {w0, w1, w2, w3};
                for (int q = 0; q < 4; q++)
                    sa[q] += half_to_f32(dt, ws[q][k]) * xa[k];
            }
            for (int q = 0; q < 4; q++)
                store(J, i, r + q, sa[q]);
        }
    }
    for (; r < J->r1; r++) { /* the last rows, one at a time */
        const uint16_t * w0 = W + r * K;
        for (int64_t i = 0; i < n; i++) {
            const float * xa = J->x + i * J->ldx;
            __m256        a0 = _mm256_setzero_ps();
            for (int64_t k = 0; k < K8; k += 8)
                a0 = _mm256_fmadd_ps(ld8(dt, w0 + k), _mm256_loadu_ps(xa + k), a0);
            float s = hsum8(a0);
            for (int64_t k = K8; k < K; k++)
                s += half_to_f32(dt, w0[k]) * xa[k];
            store(J, i, r, s);
        }
    }
}

static VB_AVX2 void gemv_avx2_bf16(const struct gemv_job * J) {
    gemv_avx2_body(J, VB_DT_BF16);
}
static VB_AVX2 void gemv_avx2_f16(const struct gemv_job * J) {
    gemv_avx2_body(J, VB_DT_F16);
}

/* f32 panel conversion, 8 at a time */
static VB_AVX2 void to_f32_avx2(const uint16_t * src, int32_t dt, float * dst, int64_t n) {
    int64_t i = 0;
    if (dt == VB_DT_BF16)
        for (; i + 8 <= n; i += 8)
            _mm256_storeu_ps(dst + i, ld8(VB_DT_BF16, src + i));
    else
        for (; i + 8 <= n; i += 8)
            _mm256_storeu_ps(dst + i, ld8(VB_DT_F16, src + i));
    for (; i < n; i++)
        dst[i] = half_to_f32(dt, src[i]);
}

/* AVX2 + FMA + F16C present (libgcc fills the CPU model before main) and not disabled by VB_WMAT_PORTABLE. */
static int have_avx2(void) {
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c") &&
           !getenv("VB_WMAT_PORTABLE");
}
#else
static int have_avx2(void) {
    return 0;
}
#endif

static void gemv_run(const struct gemv_job * J) {
#if VB_WMAT_X86
    if (have_avx2()) {
        if (J->W->dt == VB_DT_BF16)
            gemv_avx2_bf16(J);
        else
            gemv_avx2_f16(J);
        return;
    }
#endif
    gemv_scalar(J);
}

static void * gemv_thread(void * arg) {
    gemv_run(arg);
    return NULL;
}

static void gemv(const struct gemv_job * J) {
    const int64_t rows = J->r1 - J->r0;
    if (rows >= 8 && rows * J->W->cols >= GEMV_SPLIT_MIN && vb_blas_threads() >= 2) {
        struct gemv_job A = *J, B = *J;
        A.r1 = B.r0 = J->r0 + (rows / 2 + 3) / 4 * 4; /* blocks of 4 rows stay whole */
        pthread_t t;
        if (pthread_create(&t, NULL, gemv_thread, &B) == 0) {
            gemv_run(&A);
            pthread_join(t, NULL);
            return;
        }
    }
    gemv_run(J);
}

/* ---------------------------------------------------------------- panel GEMM (larger n) */

static void panel_to_f32(const struct vb_wmat * W, int64_t r0, int64_t nr, float * dst) {
    const uint16_t * src = (const uint16_t *)W->data + r0 * W->cols;
#if VB_WMAT_X86
    if (have_avx2()) {
        to_f32_avx2(src, W->dt, dst, nr * W->cols);
        return;
    }
#endif
    convert((const uint8_t *)src, W->dt, dst, VB_DT_F32, nr * W->cols);
}

struct conv_job {
    const struct vb_wmat * W;
    int64_t                r0, nr;
    float *                dst;
};

static void * conv_thread(void * arg) {
    const struct conv_job * J = arg;
    panel_to_f32(J->W, J->r0, J->nr, J->dst);
    return NULL;
}

/* the panel conversion over two threads when BLAS has two (it is ~10 % of a 128-row GEMM on one thread) */
static void panel_convert(const struct vb_wmat * W, int64_t r0, int64_t nr, float * dst, int split) {
    pthread_t t;
    if (split && nr >= 32) {
        int64_t         h = nr / 2;
        struct conv_job B = {W, r0 + h, nr - h, dst + h * W->cols};
        if (pthread_create(&t, NULL, conv_thread, &B) == 0) {
            panel_to_f32(W, r0, h, dst);
            pthread_join(t, NULL);
            return;
        }
    }
    panel_to_f32(W, r0, nr, dst);
}

static void panel_gemm(const float * x, int64_t ldx, int64_t n, const struct vb_wmat * W, const float * b, float * y,
                       int64_t ldy, float beta) {
    const int64_t K = W->cols;
    int64_t       pr = VB_WMAT_PANEL_BYTES / (int64_t)(sizeof(float) * (size_t)K);
    pr = pr < 16 ? 16 : pr / 16 * 16;
    if (pr > W->rows) pr = W->rows;
    float * P = vb_malloc(sizeof(float) * (size_t)(pr * K));
    int     split = vb_blas_threads() >= 2;
    for (int64_t r0 = 0; r0 < W->rows; r0 += pr) {
        int64_t nr = VB_MIN(pr, W->rows - r0);
        panel_convert(W, r0, nr, P, split);
        vb_gemm_nt(n, nr, K, 1.0f, x, ldx, P, K, beta, y + r0, ldy);
    }
    free(P);
    if (b)
        for (int64_t i = 0; i < n; i++) {
            float * r = y + i * ldy;
            for (int64_t j = 0; j < W->rows; j++)
                r[j] += b[j];
        }
}

/* ---------------------------------------------------------------- Linear */

void vb_wmat_linear_ex(const float * x, int64_t ldx, int64_t n, const struct vb_wmat * W, const float * b, float * y,
                       int64_t ldy, float beta) {
    if (n <= 0) return;
    if (W->dt == VB_DT_F32) {
        vb_linear_ex(x, ldx, n, W->cols, W->data, b, W->rows, y, ldy, beta);
        return;
    }
    VB_ASSERT(W->dt == VB_DT_BF16 || W->dt == VB_DT_F16);
    if (n <= VB_WMAT_GEMV_MAX_N) {
        struct gemv_job J = {W, x, b, ldx, n, ldy, 0, W->rows, y, beta};
        gemv(&J);
        return;
    }
    panel_gemm(x, ldx, n, W, b, y, ldy, beta);
}

void vb_wmat_linear(const float * x, int64_t n, const struct vb_wmat * W, const float * b, float * y) {
    vb_wmat_linear_ex(x, W->cols, n, W, b, y, W->rows, 0.0f);
}
