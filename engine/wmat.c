/* wmat.c — resident f32 / bf16 / f16 weight matrices and their Linear (see wmat.h). */
#include "engine/wmat.h"

#include "base/common.h"
#include "engine/pool.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define VB_WMAT_X86 1
#else
#define VB_WMAT_X86 0
#endif

#define NR VB_WMAT_NR /* panel width: output columns (weight rows) per micro-tile */
#define MR 6          /* activation rows per micro-tile: 6 x 16 = 12 ymm accumulators */
/* Packed activation rows per block (whole groups of MR, each the full k range): 4 MiB.  Measured on the 2-core
** Zen 3, back-to-back calls, f32 (ratios in one process): at 128 x 10240 x 2048 and 2056 x 4224 x 1408, blocks
** of the whole k range ran 0.85-0.93x the time of 256-deep k blocks (a C tile reloaded per k block costs more
** than B panels streamed from L2); 1 MiB vs 4 MiB blocks: within noise (0.96-1.05). */
#define A_BLOCK_BYTES ((size_t)4 << 20)
/* Half-precision weights with at most this many activation rows are converted in registers by every 6-row group
** (the panel comes from memory once, then from L2); above it a panel is converted to f32 once per row block.
** Measured, 10240 x 2048 bf16 / f32 time at n = 8, 12, 24, 48, 128: 0.64, 0.71, 0.84, 0.95, 1.02 in registers;
** 0.91, 0.88, 0.96, 1.01, 0.96 converting the panel (11 back-to-back pairs each, 07:59 UTC). */
#define HALF_IN_REGISTERS_MAX_N 24
/* Products (n * rows * cols) below this run on one thread (a pool hand-off costs ~2-5 us). */
#define PAR_MIN (1 << 17)

/* ---------------------------------------------------------------- allocation, views */

static size_t esize(int32_t dt) {
    return dt == VB_DT_F32 ? 4 : (dt == VB_DT_BF16 || dt == VB_DT_F16) ? 2 : 0;
}

/* rows of the allocation behind a panel matrix (whole panels) */
static int64_t padded_rows(int64_t row0, int64_t rows) {
    return (row0 + rows + NR - 1) / NR * NR;
}

int vb_wmat_alloc(struct vb_wmat * W, int64_t rows, int64_t cols, int32_t dt) {
    memset(W, 0, sizeof *W);
    size_t es = esize(dt);
    if (!es) return vb_fail(VB_ERR_ARG, "weight matrix: dtype %d is not f32, bf16 or f16", dt);
    if (rows < 1 || cols < 1 || rows > (INT64_C(1) << 40) / cols)
        return vb_fail(VB_ERR_ARG, "weight matrix: bad size %lld x %lld", (long long)rows, (long long)cols);
    int64_t prows = padded_rows(0, rows);
    size_t  n = (size_t)(prows * cols) * es;
    void *  p = NULL;
    if (posix_memalign(&p, 64, (n + 63) / 64 * 64) != 0 || !p) VB_ASSERT(!"out of memory");
    /* the padding rows of the last panel must be zeros (the kernels read them); only that panel is touched here */
    memset((uint8_t *)p + (size_t)((prows - NR) * cols) * es, 0, (size_t)(NR * cols) * es);
    W->dt = dt;
    W->owned = 1;
    W->rows = rows;
    W->cols = cols;
    W->data = p;
    W->row0 = 0;
    return VB_OK;
}

void vb_wmat_free(struct vb_wmat * W) {
    if (!W) return;
    if (W->owned) free(W->data);
    memset(W, 0, sizeof *W);
}

size_t vb_wmat_bytes(const struct vb_wmat * W) {
    if (!W || !W->data) return 0;
    int64_t r = W->owned ? padded_rows(W->row0, W->rows) : W->rows; /* an allocation is whole panels */
    return (size_t)(r * W->cols) * esize(W->dt);
}

struct vb_wmat vb_wmat_rows(const struct vb_wmat * W, int64_t row0, int64_t n) {
    VB_ASSERT(row0 >= 0 && n >= 0 && row0 + n <= W->rows);
    struct vb_wmat v = *W;
    v.owned = 0;
    v.rows = n;
    /* whole panels move the pointer, the rest stays an offset inside the first panel */
    int64_t r = W->row0 + row0;
    v.data = (uint8_t *)W->data + (size_t)((r / NR) * NR * W->cols) * esize(W->dt);
    v.row0 = r % NR;
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

/* Write n_rows rows, already converted to W->dt and contiguous in src (n_rows, cols), at rows [row0, ...) of W. */
static void put_rows(struct vb_wmat * W, int64_t row0, const void * src, int64_t n_rows) {
    const size_t  es = esize(W->dt);
    const int64_t K = W->cols;
    for (int64_t i = 0; i < n_rows; i++) {
        int64_t r = W->row0 + row0 + i; /* row in the panel grid */
        size_t  base = (size_t)((r / NR) * NR * K + r % NR);
        if (es == 4) {
            const uint32_t * s32 = (const uint32_t *)src + i * K;
            uint32_t *       d32 = (uint32_t *)W->data + base;
            for (int64_t k = 0; k < K; k++)
                d32[k * NR] = s32[k];
        } else {
            const uint16_t * s16 = (const uint16_t *)src + i * K;
            uint16_t *       d16 = (uint16_t *)W->data + base;
            for (int64_t k = 0; k < K; k++)
                d16[k * NR] = s16[k];
        }
    }
}

/* n_rows rows of dtype sdt (contiguous, unaligned) converted into rows [row0, ...) of W, a few rows at a time */
static void store_rows(struct vb_wmat * W, int64_t row0, const uint8_t * src, int32_t sdt, int64_t n_rows) {
    const int64_t K = W->cols;
    const size_t  ss = sdt == VB_DT_F64 ? 8 : esize(sdt), es = esize(W->dt);
    int64_t       step = (int64_t)((1 << 20) / ((size_t)K * es)); /* ~1 MiB of converted rows per pass */
    if (step < 1) step = 1;
    void * tmp = vb_malloc((size_t)(VB_MIN(step, n_rows) * K) * es);
    for (int64_t i = 0; i < n_rows; i += step) {
        int64_t m = VB_MIN(step, n_rows - i);
        convert(src + (size_t)(i * K) * ss, sdt, tmp, W->dt, m * K);
        put_rows(W, row0 + i, tmp, m);
    }
    free(tmp);
}

void vb_wmat_set_f32(struct vb_wmat * W, int64_t row0, const float * src, int64_t n_rows) {
    VB_ASSERT(row0 >= 0 && n_rows >= 0 && row0 + n_rows <= W->rows);
    store_rows(W, row0, (const uint8_t *)src, VB_DT_F32, n_rows);
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
    store_rows(W, row0, t->data, t->dtype, t->numel / W->cols);
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
    const int64_t K = W->cols;
    int64_t       g = W->row0 + r;
    size_t        base = (size_t)((g / NR) * NR * K + g % NR);
    if (W->dt == VB_DT_F32)
        for (int64_t k = 0; k < K; k++)
            out[k] = ((const float *)W->data)[base + (size_t)(k * NR)];
    else
        for (int64_t k = 0; k < K; k++)
            out[k] = half_to_f32(W->dt, ((const uint16_t *)W->data)[base + (size_t)(k * NR)]);
}

/* ---------------------------------------------------------------- packed GEMM / GEMV
**
** y (n, rows) [ldy] = x (n, cols) [ldx] W^T + b over the panel layout.  Per thread: a contiguous range of panels
** (16 output columns each).  A block of activation rows (A_BLOCK_BYTES) is packed into groups of MR rows, each
** [K][mr] k-major; then for every panel of the range the MR x 16 micro-kernel runs over each group with the whole
** k range, its 12 accumulators in registers from k = 0 to K (a C tile is read at most once, for beta = 1, and
** written once).  The panel (K x 16) comes from memory for the first group and from L2 for the rest.  Half
** panels are converted in registers for n <= HALF_IN_REGISTERS_MAX_N (decode steps: a GEMV streaming every panel
** once, reading half the bytes), else once per row block into an f32 copy (in L2) that all groups read. */

struct gemm_job {
    const float *          x, *b;
    const struct vb_wmat * W;
    float *                y;
    int64_t                ldx, n, ldy;
    int64_t                np;   /* panels covering the matrix's rows */
    int                    load; /* beta = 1: accumulate into y */
    int                    avx;  /* have_avx2(), read once per call */
};

/* portable micro-kernel: mr x 16 tile of c (ldc) (+)= a (kc, mr packed) . bp (kc, 16 f32) (+ bias) */
static void kern_scalar(int mr, int64_t kc, const float * a, const float * bp, float * c, int64_t ldc, int load,
                        const float * bias) {
    float acc[MR][NR];
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < NR; j++)
            acc[i][j] = load ? c[i * ldc + j] : 0.0f;
    for (int64_t k = 0; k < kc; k++)
        for (int i = 0; i < mr; i++)
            for (int j = 0; j < NR; j++)
                acc[i][j] += a[k * mr + i] * bp[k * NR + j];
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < NR; j++)
            c[i * ldc + j] = acc[i][j] + (bias ? bias[j] : 0.0f);
}

/* kc x 16 elements of a panel (dtype dt, at p) -> f32 (dst), portable */
static void panel_to_f32_scalar(int32_t dt, const void * p, int64_t kc, float * dst) {
    convert(p, dt, dst, VB_DT_F32, kc * NR);
}

#if VB_WMAT_X86
#define VB_AVX2        __attribute__((target("avx2,fma,f16c")))
#define VB_AVX2_INLINE static inline __attribute__((always_inline, target("avx2,fma,f16c")))

/* 8 weights of dtype dt at p as f32 */
VB_AVX2_INLINE __m256 ld8(const int32_t dt, const void * p) {
    if (dt == VB_DT_F32) return _mm256_load_ps((const float *)p);
    __m128i h = _mm_load_si128((const __m128i *)p);
    if (dt == VB_DT_BF16) return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    return _mm256_cvtph_ps(h);
}

/* The micro-kernel: an mr x 16 tile, 2 * mr accumulators in registers (mr and dt are constants after inlining). */
VB_AVX2_INLINE void kern_body(const int mr, const int32_t dt, int64_t kc, const float * a, const void * bp, float * c,
                              int64_t ldc, int load, const float * bias) {
    __m256 c0[MR], c1[MR];
#pragma GCC unroll 6
    for (int i = 0; i < mr; i++) {
        c0[i] = load ? _mm256_loadu_ps(c + i * ldc) : _mm256_setzero_ps();
        c1[i] = load ? _mm256_loadu_ps(c + i * ldc + 8) : _mm256_setzero_ps();
    }
    const size_t es = dt == VB_DT_F32 ? 4 : 2;
    const char * b = bp;
    for (int64_t k = 0; k < kc; k++) {
        __m256 b0 = ld8(dt, b), b1 = ld8(dt, b + 8 * es);
#pragma GCC unroll 6
        for (int i = 0; i < mr; i++) {
            __m256 x = _mm256_broadcast_ss(a + i);
            c0[i] = _mm256_fmadd_ps(x, b0, c0[i]);
            c1[i] = _mm256_fmadd_ps(x, b1, c1[i]);
        }
        a += mr;
        b += NR * es;
    }
    if (bias) {
        __m256 b0 = _mm256_loadu_ps(bias), b1 = _mm256_loadu_ps(bias + 8);
#pragma GCC unroll 6
        for (int i = 0; i < mr; i++)
            c0[i] = _mm256_add_ps(c0[i], b0), c1[i] = _mm256_add_ps(c1[i], b1);
    }
#pragma GCC unroll 6
    for (int i = 0; i < mr; i++) {
        _mm256_storeu_ps(c + i * ldc, c0[i]);
        _mm256_storeu_ps(c + i * ldc + 8, c1[i]);
    }
}

typedef void (*kern_fn)(int64_t, const float *, const void *, float *, int64_t, int, const float *);
#define KERN(MRV, DT, NAME)                                                                                            \
    static VB_AVX2 void NAME(int64_t kc, const float * a, const void * b, float * c, int64_t ldc, int load,            \
                             const float * bias) {                                                                     \
        kern_body(MRV, DT, kc, a, b, c, ldc, load, bias);                                                              \
    }
KERN(1, VB_DT_F32, k1_f32)
KERN(2, VB_DT_F32, k2_f32)
KERN(3, VB_DT_F32, k3_f32)
KERN(4, VB_DT_F32, k4_f32)
KERN(5, VB_DT_F32, k5_f32)
KERN(6, VB_DT_F32, k6_f32)
KERN(1, VB_DT_BF16, k1_bf16)
KERN(2, VB_DT_BF16, k2_bf16)
KERN(3, VB_DT_BF16, k3_bf16)
KERN(4, VB_DT_BF16, k4_bf16)
KERN(5, VB_DT_BF16, k5_bf16)
KERN(6, VB_DT_BF16, k6_bf16)
KERN(1, VB_DT_F16, k1_f16)
KERN(2, VB_DT_F16, k2_f16)
KERN(3, VB_DT_F16, k3_f16)
KERN(4, VB_DT_F16, k4_f16)
KERN(5, VB_DT_F16, k5_f16)
KERN(6, VB_DT_F16, k6_f16)
static const kern_fn KERNS[3][MR] = {{k1_f32, k2_f32, k3_f32, k4_f32, k5_f32, k6_f32},
                                     {k1_bf16, k2_bf16, k3_bf16, k4_bf16, k5_bf16, k6_bf16},
                                     {k1_f16, k2_f16, k3_f16, k4_f16, k5_f16, k6_f16}};

static VB_AVX2 void panel_to_f32_avx2(int32_t dt, const void * p, int64_t kc, float * dst) {
    const uint16_t * s = p;
    if (dt == VB_DT_BF16)
        for (int64_t i = 0; i < kc * NR; i += 8)
            _mm256_store_ps(dst + i, ld8(VB_DT_BF16, s + i));
    else
        for (int64_t i = 0; i < kc * NR; i += 8)
            _mm256_store_ps(dst + i, ld8(VB_DT_F16, s + i));
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

static int dt_index(int32_t dt) {
    return dt == VB_DT_F32 ? 0 : dt == VB_DT_BF16 ? 1 : 2;
}

/* one tile: rows [0, mr) of y (ldy) x panel columns [col0, col0 + 16), clipped to [0, ncols) (a temp tile at the
** edges); bias (ncols, nullable) indexed like y's columns */
static void tile(int avx, int mr, int32_t bdt, int64_t kc, const float * a, const void * bp, float * y, int64_t ldy,
                 int64_t col0, int64_t ncols, int load, const float * bias) {
    if (col0 >= 0 && col0 + NR <= ncols) {
        float *       c = y + col0;
        const float * bc = bias ? bias + col0 : NULL;
#if VB_WMAT_X86
        if (avx) {
            KERNS[dt_index(bdt)][mr - 1](kc, a, bp, c, ldy, load, bc);
            return;
        }
#endif
        (void)avx;
        kern_scalar(mr, kc, a, bp, c, ldy, load, bc);
        return;
    }
    /* partial panel: columns j with 0 <= col0 + j < ncols are real */
    float   T[MR * NR], tb[NR];
    int64_t j0 = col0 < 0 ? -col0 : 0, j1 = VB_MIN((int64_t)NR, ncols - col0);
    memset(T, 0, sizeof T);
    memset(tb, 0, sizeof tb);
    for (int i = 0; i < mr; i++)
        for (int64_t j = j0; j < j1; j++) {
            if (load) T[i * NR + j] = y[i * ldy + col0 + j];
            if (bias && i == 0) tb[j] = bias[col0 + j];
        }
#if VB_WMAT_X86
    if (avx)
        KERNS[dt_index(bdt)][mr - 1](kc, a, bp, T, NR, load, bias ? tb : NULL);
    else
#endif
        kern_scalar(mr, kc, a, bp, T, NR, load, bias ? tb : NULL);
    for (int i = 0; i < mr; i++)
        for (int64_t j = j0; j < j1; j++)
            y[i * ldy + col0 + j] = T[i * NR + j];
}

static void gemm_part(void * ctx, int ith, int nth) {
    const struct gemm_job * J = ctx;
    const struct vb_wmat *  W = J->W;
    const int64_t           K = W->cols, n = J->n, np = J->np;
    const int64_t           p0 = np * ith / nth, p1 = np * (ith + 1) / nth;
    if (p0 >= p1) return;
    const size_t es = esize(W->dt);
    const int    avx = J->avx;
    /* activation rows per packed block: A_BLOCK_BYTES of packed rows (whole groups), at least one group */
    int64_t mcb = (int64_t)(A_BLOCK_BYTES / (sizeof(float) * (size_t)K)) / MR * MR;
    mcb = VB_MIN(VB_MAX(mcb, (int64_t)MR), (n + MR - 1) / MR * MR);
    float * A = vb_pool_scratch(VB_SCRATCH_GEMM_A, sizeof(float) * (size_t)(mcb * K));
    float * Bfa = NULL; /* f32 copy of a half panel (K x 16) when many groups read it, or without AVX2 */
    if (W->dt != VB_DT_F32 && (n > HALF_IN_REGISTERS_MAX_N || !avx))
        Bfa = vb_pool_scratch(VB_SCRATCH_GEMM_B, sizeof(float) * (size_t)(K * NR));
    for (int64_t ic = 0; ic < n; ic += mcb) {
        const int64_t mc = VB_MIN(mcb, n - ic);
        /* pack rows [ic, ic + mc) into groups of MR: group g is [K][mr_g], k-major */
        for (int64_t g0 = 0; g0 < mc; g0 += MR) {
            const int64_t mr = VB_MIN((int64_t)MR, mc - g0);
            float *       ag = A + g0 * K;
            for (int64_t i = 0; i < mr; i++) {
                const float * xr = J->x + (ic + g0 + i) * J->ldx;
                for (int64_t k = 0; k < K; k++)
                    ag[k * mr + i] = xr[k];
            }
        }
        for (int64_t p = p0; p < p1; p++) {
            const void * bp = (const uint8_t *)W->data + (size_t)(p * K * NR) * es;
            int32_t      bdt = W->dt;
            if (Bfa) { /* a half panel read by several groups: converted once, then read from L2 */
#if VB_WMAT_X86
                if (avx)
                    panel_to_f32_avx2(W->dt, bp, K, Bfa);
                else
#endif
                    panel_to_f32_scalar(W->dt, bp, K, Bfa);
                bp = Bfa, bdt = VB_DT_F32;
            }
            const int64_t col0 = p * NR - W->row0;
            for (int64_t g0 = 0; g0 < mc; g0 += MR) {
                const int mr = (int)VB_MIN((int64_t)MR, mc - g0);
                tile(avx, mr, bdt, K, A + g0 * K, bp, J->y + (ic + g0) * J->ldy, J->ldy, col0, W->rows, J->load, J->b);
            }
        }
    }
}

/* ---------------------------------------------------------------- Linear */

void vb_wmat_linear_ex(const float * x, int64_t ldx, int64_t n, const struct vb_wmat * W, const float * b, float * y,
                       int64_t ldy, float beta) {
    if (n <= 0 || W->rows <= 0) return;
    VB_ASSERT(beta == 0.0f || beta == 1.0f);
    VB_ASSERT(W->dt == VB_DT_F32 || W->dt == VB_DT_BF16 || W->dt == VB_DT_F16);
    const int64_t   np = (W->row0 + W->rows + NR - 1) / NR;
    struct gemm_job J = {x, b, W, y, ldx, n, ldy, np, beta != 0.0f, have_avx2()};
    int             nth = n * W->rows * W->cols < PAR_MIN ? 1 : (int)VB_MIN((int64_t)vb_pool_threads(), np);
    vb_pool_run(nth, gemm_part, &J);
}

void vb_wmat_linear(const float * x, int64_t n, const struct vb_wmat * W, const float * b, float * y) {
    vb_wmat_linear_ex(x, W->cols, n, W, b, y, W->rows, 0.0f);
}
