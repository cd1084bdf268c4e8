/* wmat.h — a resident weight matrix in f32, bf16 or f16, and the Linear that reads it.
**
** The large matrices of the models (every Linear weight, the fused q|k|v / wi_0|wi_1 / cross K|V matrices, the
** embedding tables) are kept as a struct vb_wmat in the dtype the caller chose at load time (cfg.weight_dtype).
** Activations stay f32 everywhere; only the weights are half precision, and every product accumulates in f32.
**
** Layout: vb_wmat_alloc / vb_wmat_load store a matrix packed for the engine's own GEMM (engine/wmat.c): panels
** of VB_WMAT_NR = 16 rows, each (cols, 16) k-major, the last panel padded with zero rows; row r, column k is
** element ((r / 16) * cols + k) * 16 + r % 16.  The packing happens once, at load time, and replaces the
** row-major copy (no extra memory beyond the padding).  Every vb_wmat is in this layout.
**
** vb_wmat_linear* has vb_linear's semantics, y (n, rows) = x (n, cols) W^T + b, for every dtype:
**              a 6 x 16 micro-kernel (AVX2 + FMA (+ F16C), chosen at run time; a portable loop otherwise) over
**              the panels, the panels split over the engine's threads (engine/pool.h); each output accumulates its
**              whole dot product in f32 in k order in one register lane, then adds the bias.  Up to 24 rows
**              (decode steps, SeViLA's 8-sequence chunks) half precision is converted in registers, so a bf16 GEMV
**              reads half the bytes (1 x 10240 x 2048: 0.49x the f32 time; 8 rows: 0.65x); larger n converts a
**              half panel to f32 once per block of rows.  It does not call BLAS.
**              Measured (2-core Zen 3, 2 threads, back-to-back calls): 100-170 GFLOP/s at 128 x 10240 x 2048 and
**              2056 x 4224 x 1408 in f32 and bf16 (OpenBLAS sgemm 2048^3: 130-150 in the same runs); the GEMV at
**              n = 1, 10240 x 2048: 3.9 ms f32 (22 GB/s), 1.9 ms bf16 (OpenBLAS sgemv ~ f32's; memory-bound).
**   Half-precision results equal the f32 results on the rounded weights exactly (same kernel order); f32 results
**   differ from vb_linear (OpenBLAS's blocking) by the f32 summation order only (relative ~1e-6 of max|y|).
**   The environment variable VB_WMAT_PORTABLE (any value) forces the portable loops (tests).
**
** Conversions (vb_wmat_load*, vb_wmat_set_f32): same dtype = byte copy (exact); f32 -> bf16 / f16 round to nearest
** even (vb_f32_to_bf16 / vb_f32_to_f16: f16 overflow gives +-inf, tiny values f16 subnormals or zero); f16 -> bf16
** through f32 (exact) and then one rounding to nearest even; bf16 / f16 -> f32 exact; f64 -> f32 one rounding.
**
** Threading: a vb_wmat is read-only after loading; any number of threads may run linears on the same matrix at
** once (no shared scratch: packing buffers are per call; a call made while the pool is busy runs on its own
** thread).
*/
#ifndef VB_WMAT_H
#define VB_WMAT_H

#include "engine/weights.h"

#include <stddef.h>
#include <stdint.h>

/* Panel width of the packed layout: weight rows (output columns) per panel. */
#define VB_WMAT_NR 16

struct vb_wmat {
    int32_t dt;         /* enum vb_dtype: VB_DT_F32, VB_DT_BF16 or VB_DT_F16 */
    int32_t owned;      /* 1: data allocated by vb_wmat_alloc (freed by vb_wmat_free); 0: a view of other memory */
    int64_t rows, cols; /* (rows, cols) = (out, in) of a Linear weight, as PyTorch stores it */
    void *  data; /* elements of dt in panels of 16 rows (see the top); 64-byte aligned when owned; NULL = empty */
    int64_t row0; /* row 0 of this matrix is row row0 (0..15) of the first panel (views of row ranges) */
};

/* Allocate an uninitialised rows x cols matrix of dtype dt (64-byte aligned) into *W (overwritten, not freed).
** dt not F32/BF16/F16, rows or cols < 1: VB_ERR_ARG (W left empty). */
int vb_wmat_alloc(struct vb_wmat * W, int64_t rows, int64_t cols, int32_t dt);
/* Free owned data and empty the struct (views are only emptied).  NULL or empty: no-op. */
void vb_wmat_free(struct vb_wmat * W);
/* Bytes of the elements: of the allocation (whole panels) when owned, rows * cols * element size for a view;
** 0 for an empty matrix. */
size_t vb_wmat_bytes(const struct vb_wmat * W);
/* A non-owning view of rows [row0, row0 + n) of W (VB_ASSERT on a range outside W). */
struct vb_wmat vb_wmat_rows(const struct vb_wmat * W, int64_t row0, int64_t n);

/* Load tensor `name` of `w` into rows [row0, row0 + k) of W, where k = numel / W->cols, converting from the file
** dtype (F32, F16, BF16, F64) to W->dt (see the top of this file), then vb_weights_drop_pages on the tensor.
** `shape` (ndim dims, entries < 0 match anything; NULL = no check) is checked first (VB_ERR_SHAPE naming file and
** tensor); the tensor must also fill whole rows inside W (VB_ERR_SHAPE).  Missing: VB_ERR_NOTFOUND naming file and
** tensor; an integer dtype: VB_ERR_UNSUPPORTED.  Nothing written on failure. */
int vb_wmat_load_rows(struct vb_wmat * W, int64_t row0, const struct vb_weights * w, const char * name, int32_t ndim,
                      const int64_t * shape);
/* Allocate W (shape[0] rows, product of the other dims columns, dtype dt) and load `name` into it (shape required,
** every entry >= 1).  On failure W is left empty. */
int vb_wmat_load(struct vb_wmat * W, int32_t dt, const struct vb_weights * w, const char * name, int32_t ndim,
                 const int64_t * shape);
/* Convert n_rows f32 rows src (n_rows, cols) into rows [row0, row0 + n_rows) of W (rounding as above). */
void vb_wmat_set_f32(struct vb_wmat * W, int64_t row0, const float * src, int64_t n_rows);

/* Row r of W as f32 into out (cols) (embedding lookup).  Exact. */
void vb_wmat_row(const struct vb_wmat * W, int64_t r, float * out);

/* y (n, W->rows) = x (n, W->cols) W^T + b (W->rows, nullable).  y must not alias x. */
void vb_wmat_linear(const float * x, int64_t n, const struct vb_wmat * W, const float * b, float * y);
/* Same with strides: x rows ldx apart, y rows ldy apart; beta = 1 accumulates into y (bias then added too), beta = 0
** overwrites (y may hold garbage, even NaN). */
void vb_wmat_linear_ex(const float * x, int64_t ldx, int64_t n, const struct vb_wmat * W, const float * b, float * y,
                       int64_t ldy, float beta);

/* "f32" / "bf16" / "f16" (also "F32", "BF16", "F16", "fp16", "float32", "bfloat16", "float16") -> *dt.
** Anything else: VB_ERR_ARG naming the string. */
int vb_wmat_dtype_parse(const char * s, int32_t * dt);

#endif
