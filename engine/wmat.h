/* wmat.h — a resident weight matrix in f32, bf16 or f16, and the Linear that reads it.
**
** The large matrices of the models (every Linear weight, the fused q|k|v / wi_0|wi_1 / cross K|V matrices, the
** embedding tables) are kept as a struct vb_wmat in the dtype the caller chose at load time (cfg.weight_dtype).
** Activations stay f32 everywhere; only the weights are half precision, and every product accumulates in f32.
**
** Layout: vb_wmat_alloc / vb_wmat_load store a matrix packed for the engine's own GEMM (engine/wmat.c): panels
** of VB_WMAT_NR = 16 rows, the last panel padded with zero rows (vb_wmat_index gives an element's place):
**   f32 and f16: each panel (cols, 16) k-major: row r, column k is element ((r / 16) * cols + k) * 16 + r % 16;
**   bf16: each panel (Kp / 2, 16, 2) in pairs of k, Kp = cols rounded up to even: the 64-byte line t holds columns
**     2t and 2t + 1 of the panel's 16 rows interleaved (row r: 2t in the low half of a 32-bit lane, 2t + 1 in the
**     high half; a zero past the last column), element ((r / 16) * Kp + 2t) * 16 + 2 (r % 16) + k % 2.  This is
**     the operand layout of vdpbf16ps and of AMX's tdpbf16ps (a line is a weight tile row), so bf16 compute reads
**     the weights as they lie; the f32 kernels widen a line's two halves in registers (a shift and a mask).
** The byte offset of an even column k is the same in both layouts ((r / 16) * Kp + k) * 16 * 2.  The packing
** happens once, at load time, and replaces the row-major copy (no extra memory beyond the padding).  Every vb_wmat
** is in this layout.
**
** vb_wmat_linear* has vb_linear's semantics, y (n, rows) = x (n, cols) W^T + b, for every dtype:
**              micro-kernels over the panels (engine/wmat_gemm.c; one file per instruction set, engine/wmat_kern.h),
**              chosen at run time: avx512 (AVX-512 F/BW/VL/DQ: 12 x 16 tiles, one zmm per row), avx2 (AVX2 + FMA
**              + F16C: 6 x 16), portable C loops otherwise; the panels split over the engine's threads
**              (engine/pool.h); each output accumulates its whole dot product in f32 in k order in one register
**              lane, then adds the bias.  Up to 24 rows (decode steps, SeViLA's 8-sequence chunks) half precision is
**              converted in registers, so a bf16 GEMV reads half the bytes; larger n converts a half panel to f32
**              once per block of rows.  It does not call BLAS.
**              Measured: see docs/performance.md (2-core Zen 3 with avx2; 2-core Sapphire Rapids with avx512).
**   f32 compute (the default): the avx512 and avx2 kernels give the same bits (one FMA per k, k order);
**   half-precision results equal the f32 results on the rounded weights exactly (same kernel order); f32 results
**   differ from vb_linear (OpenBLAS's blocking) by the f32 summation order only (relative ~1e-6 of max|y|).
**   bf16 compute (vb_wmat_set_compute(VB_COMPUTE_BF16), opt-in, CPUs with AVX512_BF16): activations and weights are
**   rounded to bf16 (nearest even), multiplied exactly and accumulated in f32: AMX-BF16 tiles where the CPU has them
**   (kernel amx: tdpbf16ps on 32 x 16 tiles), else vdpbf16ps in pairs of k (kernel avx512bf16), for products of more
than 24 rows;
**   up to 24 rows (decode steps: memory-bound) the f32 kernel runs.  A row gives the same bits in any batch of more
**   than 24 rows.  The results are those of the f32 product of the rounded values up to the f32
**   summation order.
**   VB_WMAT_KERNEL=portable|avx2|avx512|avx512bf16|amx forces a kernel (tests; one the CPU lacks: a warning, then the
**   default); VB_WMAT_PORTABLE (any value) forces the portable loops as before.

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
    void *  data;       /* elements of dt in panels of 16 rows (see the top): (panels, panel_k, 16) f32 / f16,
                        ** (panels, panel_k / 2, 16, 2) bf16; 64-byte aligned when owned; NULL = empty */
    int64_t row0;       /* row 0 of this matrix is row row0 (0..15) of the first panel (views of row ranges) */
};

/* k rows of storage per panel: cols, rounded up to even for bf16 (pairs). */
static inline int64_t vb_wmat_panel_k(const struct vb_wmat * W) {
    return W->dt == VB_DT_BF16 ? W->cols + (W->cols & 1) : W->cols;
}
/* Index in W->data (elements of W->dt) of row g of the panel grid (g = W->row0 + row), column k (see the top). */
static inline size_t vb_wmat_index(const struct vb_wmat * W, int64_t g, int64_t k) {
    const int64_t base = g / VB_WMAT_NR * vb_wmat_panel_k(W) * VB_WMAT_NR;
    if (W->dt == VB_DT_BF16) return (size_t)(base + (k & ~(int64_t)1) * VB_WMAT_NR + 2 * (g % VB_WMAT_NR) + (k & 1));
    return (size_t)(base + k * VB_WMAT_NR + g % VB_WMAT_NR);
}

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

/* Compute modes of the Linear (vb_wmat_set_compute). */
enum { VB_COMPUTE_F32 = 0, VB_COMPUTE_BF16 = 1 };
/* bf16 compute applies to products of more than this many rows; fewer (decode steps: memory-bound GEMVs) run the
** f32 kernel */
#define VB_WMAT_BF16_MIN_N 24
/* Set the compute mode of every later vb_wmat_linear* call in the process (call it from one thread, between runs).
** VB_COMPUTE_BF16 on a CPU without AVX512_BF16: VB_ERR_UNSUPPORTED (mode unchanged); another value: VB_ERR_ARG. */
int vb_wmat_set_compute(int mode);
/* The compute mode in effect (VB_COMPUTE_F32 until set). */
int vb_wmat_compute(void);
/* "f32" / "bf16" for a mode. */
const char * vb_wmat_compute_name(int mode);
/* "f32" (also "fp32", "float32") / "bf16" ("bfloat16") -> *mode; anything else: VB_ERR_ARG naming the string. */
int vb_wmat_compute_parse(const char * s, int * mode);
/* Name of the kernel a vb_wmat_linear call made now uses ("avx512", "avx2", "portable", "avx512bf16", "amx"). */
const char * vb_wmat_kernel(void);
/* 1 if this CPU runs kernel `name`, 0 if not, -1 for an unknown name; *feature (nullable) names the instruction set
** it needs ("AVX512_BF16", ...; "" for portable). */
int vb_wmat_kernel_available(const char * name, const char ** feature);

/* "f32" / "bf16" / "f16" (also "F32", "BF16", "F16", "fp16", "float32", "bfloat16", "float16") -> *dt.
** Anything else: VB_ERR_ARG naming the string. */
int vb_wmat_dtype_parse(const char * s, int32_t * dt);

#endif
