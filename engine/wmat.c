/* wmat.c — resident f32 / bf16 / f16 weight matrices: allocation, views, loading with conversion into the packed
** panel layout (see wmat.h); the Linear over them is engine/wmat_gemm.c. */
#include "engine/wmat.h"

#include "base/common.h"
#include "engine/pool.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NR VB_WMAT_NR /* panel width: weight rows per panel */

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
    W->dt = dt;
    W->owned = 1;
    W->rows = rows;
    W->cols = cols;
    W->row0 = 0;
    int64_t prows = padded_rows(0, rows), kp = vb_wmat_panel_k(W);
    size_t  n = (size_t)(prows * kp) * es;
    void *  p = NULL;
    if (posix_memalign(&p, 64, (n + 63) / 64 * 64) != 0 || !p) VB_ASSERT(!"out of memory");
    /* the padding rows of the last panel must be zeros (the kernels read them); only that panel is touched here (a
    ** bf16 row's zero past an odd last column is written with the row, put_rows) */
    memset((uint8_t *)p + (size_t)((prows - NR) * kp) * es, 0, (size_t)(NR * kp) * es);
    W->data = p;
    return VB_OK;
}

void vb_wmat_free(struct vb_wmat * W) {
    if (!W) return;
    if (W->owned) free(W->data);
    memset(W, 0, sizeof *W);
}

size_t vb_wmat_bytes(const struct vb_wmat * W) {
    if (!W || !W->data) return 0;
    if (W->owned) return (size_t)(padded_rows(W->row0, W->rows) * vb_wmat_panel_k(W)) * esize(W->dt); /* panels */
    return (size_t)(W->rows * W->cols) * esize(W->dt);
}

struct vb_wmat vb_wmat_rows(const struct vb_wmat * W, int64_t row0, int64_t n) {
    VB_ASSERT(row0 >= 0 && n >= 0 && row0 + n <= W->rows);
    struct vb_wmat v = *W;
    v.owned = 0;
    v.rows = n;
    /* whole panels move the pointer, the rest stays an offset inside the first panel */
    int64_t r = W->row0 + row0;
    v.data = (uint8_t *)W->data + (size_t)((r / NR) * NR * vb_wmat_panel_k(W)) * esize(W->dt);
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

/* Write n_rows rows, already converted to W->dt and contiguous in src (n_rows, cols), at rows [row0, ...) of W (a
** bf16 row of odd cols also gets its zero past the last column). */
static void put_rows(struct vb_wmat * W, int64_t row0, const void * src, int64_t n_rows) {
    const size_t  es = esize(W->dt);
    const int64_t K = W->cols;
    for (int64_t i = 0; i < n_rows; i++) {
        int64_t g = W->row0 + row0 + i; /* row in the panel grid */
        if (es == 4) {
            const uint32_t * s32 = (const uint32_t *)src + i * K;
            uint32_t *       d32 = (uint32_t *)W->data + vb_wmat_index(W, g, 0);
            for (int64_t k = 0; k < K; k++)
                d32[k * NR] = s32[k];
        } else if (W->dt == VB_DT_BF16) { /* pairs: column 2t at 32 t, 2t + 1 next to it */
            const uint16_t * s16 = (const uint16_t *)src + i * K;
            uint16_t *       d16 = (uint16_t *)W->data + vb_wmat_index(W, g, 0);
            for (int64_t k = 0; k < K; k++)
                d16[(k >> 1) * 2 * NR + (k & 1)] = s16[k];
            if (K & 1) d16[(K >> 1) * 2 * NR + 1] = 0;
        } else {
            const uint16_t * s16 = (const uint16_t *)src + i * K;
            uint16_t *       d16 = (uint16_t *)W->data + vb_wmat_index(W, g, 0);
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
    const int64_t K = W->cols, g = W->row0 + r;
    if (W->dt == VB_DT_F32)
        for (int64_t k = 0; k < K; k++)
            out[k] = ((const float *)W->data)[vb_wmat_index(W, g, k)];
    else
        for (int64_t k = 0; k < K; k++)
            out[k] = half_to_f32(W->dt, ((const uint16_t *)W->data)[vb_wmat_index(W, g, k)]);
}
