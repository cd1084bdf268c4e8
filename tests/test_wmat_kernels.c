/* test_wmat_kernels.c — every micro-kernel of engine/wmat_gemm.c forced in turn (VB_WMAT_KERNEL): the Linear
** cases and batch invariance of tests/wmat_cases.h with avx2 and avx512, the same bits from both, bf16 compute with
** avx512bf16 and amx against the f32 product of the rounded values, compute-mode names.  A kernel this CPU lacks
** prints "SKIP: no FEATURE" and its case is skipped.  VB_WMAT_KBENCH=threads times every kernel against OpenBLAS
** (docs/performance.md; VB_WMAT_BENCH_CPU: CPU time instead of wall time), not a test. */
#include <setjmp.h> /* cmocka.h needs these four first */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/common.h"
#include "engine/blas.h"
#include "engine/ops.h"
#include "engine/weights.h"
#include "engine/wmat.h"
#include "tests/wmat_cases.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* wall time; with VB_WMAT_BENCH_CPU set the process's CPU time instead (with VB_WMAT_KBENCH=1, one thread: the
** time this process ran, robust to a shared machine's time slicing, not to its cache and memory traffic) */
static double now_s(void) {
    static int cpu = -1;
    if (cpu < 0) cpu = getenv("VB_WMAT_BENCH_CPU") != NULL;
    struct timespec ts;
    clock_gettime(cpu ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_d(const void * a, const void * b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Force kernel `name` (VB_WMAT_KERNEL); 0 and a visible "SKIP: no FEATURE" when this CPU lacks it. */
static int force_kernel(const char * name) {
    const char * feature;
    if (vb_wmat_kernel_available(name, &feature) != 1) {
        printf("SKIP: no %s (kernel %s not run on this CPU)\n", feature, name);
        return 0;
    }
    setenv("VB_WMAT_KERNEL", name, 1);
    assert_string_equal(vb_wmat_kernel(), name);
    return 1;
}

/* The operands of a bits-equal test, filled in this order with urand: weights Wf (rows, cols) (rounded to bf16 when
** round_bf16), activations x (nmax, ldx), bias b (rows), y0 (nmax, ldy) the initial output; y1, y2 (nmax, ldy) for
** two results. */
struct operands {
    float *Wf, *x, *b, *y0, *y1, *y2;
};
static struct operands operands_new(int64_t rows, int64_t cols, int64_t nmax, int64_t ldx, int64_t ldy,
                                    int round_bf16) {
    struct operands o = {malloc(sizeof(float) * (size_t)(rows * cols)), malloc(sizeof(float) * (size_t)(nmax * ldx)),
                         malloc(sizeof(float) * (size_t)rows),          malloc(sizeof(float) * (size_t)(nmax * ldy)),
                         malloc(sizeof(float) * (size_t)(nmax * ldy)),  malloc(sizeof(float) * (size_t)(nmax * ldy))};
    for (int64_t i = 0; i < rows * cols; i++)
        o.Wf[i] = round_bf16 ? round_to(VB_DT_BF16, urand(1.0f)) : urand(1.0f);
    urand_fill(o.x, nmax * ldx, 1.0f);
    urand_fill(o.b, rows, 0.5f);
    urand_fill(o.y0, nmax * ldy, 1.0f);
    return o;
}
static void operands_free(struct operands * o) {
    free(o->Wf), free(o->x), free(o->b), free(o->y0), free(o->y1), free(o->y2);
}

/* The kernels the bits-equal tests walk: ALL_KERNELS[ki], ki < 3 in f32 compute, the rest in bf16 compute. */
static const char * const ALL_KERNELS[] = {"portable", "avx2", "avx512", "avx512bf16", "amx"};
#define N_KERNELS 5
/* Run the next cases on ALL_KERNELS[ki] (portable: VB_WMAT_PORTABLE; the others forced), in bf16 compute for the bf16
** kernels; 0 (and a visible SKIP naming the feature) when this CPU lacks it.  kernel_end undoes it. */
static int kernel_begin(int ki) {
    if (ki > 0 && !force_kernel(ALL_KERNELS[ki])) return 0;
    if (ki == 0) setenv("VB_WMAT_PORTABLE", "1", 1);
    if (ki >= 3) assert_int_equal(vb_wmat_set_compute(VB_COMPUTE_BF16), VB_OK);
    return 1;
}
static void kernel_end(void) {
    assert_int_equal(vb_wmat_set_compute(VB_COMPUTE_F32), VB_OK);
    unsetenv("VB_WMAT_PORTABLE");
    unsetenv("VB_WMAT_KERNEL");
}

/* Every forced f32 kernel: the linear cases and batch invariance; avx512 and avx2 give the same bits. */
static void kernel_f32(const char * name) {
    if (!force_kernel(name)) {
        skip();
        return;
    }
    vb_blas_set_threads(2);
    linear_cases();
    batch_invariance();
    unsetenv("VB_WMAT_KERNEL");
}

static void test_kernel_avx2(void ** state) {
    (void)state;
    kernel_f32("avx2");
}

static void test_kernel_avx512(void ** state) {
    (void)state;
    kernel_f32("avx512");
}

/* The avx512 kernel gives the bits of the avx2 kernel (one FMA per k in k order in both), every dtype, n in
** registers and converted, k blocks (cols > 384), edges, two-panel tiles and panel chunks (1109 rows: 70 panels,
** more than a chunk of 32 per thread, an odd count per thread, a partial first and last panel in the view). */
static void test_kernel_avx512_bits_equal_avx2(void ** state) {
    (void)state;
    const char * f;
    if (vb_wmat_kernel_available("avx512", &f) != 1 || vb_wmat_kernel_available("avx2", NULL) != 1) {
        printf("SKIP: no %s\n", f);
        skip();
        return;
    }
    const int32_t dts[] = {VB_DT_F32, VB_DT_BF16, VB_DT_F16};
    const int64_t rows = 1109, cols = 1001, ns[] = {1, 7, 25, 40};
    float *       Wf = malloc(sizeof(float) * (size_t)(rows * cols)), *x = malloc(sizeof(float) * (size_t)(40 * cols));
    float *       b = malloc(sizeof(float) * (size_t)rows), *y1 = malloc(sizeof(float) * (size_t)(40 * rows));
    float *       y2 = malloc(sizeof(float) * (size_t)(40 * rows));
    urand_fill(Wf, rows * cols, 1.0f);
    urand_fill(x, 40 * cols, 1.0f);
    urand_fill(b, rows, 0.5f);
    for (int d = 0; d < 3; d++)
        for (int k = 0; k < 4; k++) {
            struct vb_wmat W;
            assert_int_equal(vb_wmat_alloc(&W, rows, cols, dts[d]), VB_OK);
            vb_wmat_set_f32(&W, 0, Wf, rows);
            struct vb_wmat V = vb_wmat_rows(&W, 3, rows - 3);
            setenv("VB_WMAT_KERNEL", "avx2", 1);
            vb_wmat_linear(x, ns[k], &V, b, y1);
            setenv("VB_WMAT_KERNEL", "avx512", 1);
            vb_wmat_linear(x, ns[k], &V, b, y2);
            assert_memory_equal(y1, y2, sizeof(float) * (size_t)(ns[k] * (rows - 3)));
            vb_wmat_free(&W);
        }
    unsetenv("VB_WMAT_KERNEL");
    free(Wf), free(x), free(b), free(y1), free(y2);
}

/* The streaming GEMV loop of products of <= 24 rows (engine/wmat_gemm.c gemv_part: whole k range per tile, panels
** in chunks taken from a shared counter) gives the bits of the blocked loop (VB_WMAT_GEMV=blocked: static halves,
** 384-deep k blocks), with each f32 kernel set, every dtype, 1 and 2 threads, n across the group sizes (1, 2, 5, 12,
** 13, 24), strides ldx != cols and ldy != rows, beta 0 and 1, bias or none, a view with a partial first and last
** panel (1109 rows: 70 panels, several chunks per thread and a short last one).  And the fused matrix (q|k|v of the
** T5 decoder step, one product) gives the bits of three products over its row views. */
static void test_gemv_bits_equal_blocked(void ** state) {
    (void)state;
    const char *    kern[] = {"avx512", "avx2"};
    const int32_t   dts[] = {VB_DT_F32, VB_DT_BF16, VB_DT_F16};
    const int64_t   rows = 1109, cols = 1001, ns[] = {1, 2, 5, 12, 13, 24}, ldx = cols + 7, ldy = rows + 5;
    struct operands o = operands_new(rows, cols, 24, ldx, ldy, 0);
    float *         Wf = o.Wf, *x = o.x, *b = o.b, *y0 = o.y0, *y1 = o.y1, *y2 = o.y2;
    int             ran = 0;
    for (int ki = 0; ki < 2; ki++) {
        const char * f;
        if (vb_wmat_kernel_available(kern[ki], &f) != 1) {
            printf("SKIP: no %s (kernel %s not run on this CPU)\n", f, kern[ki]);
            continue;
        }
        ran++;
        setenv("VB_WMAT_KERNEL", kern[ki], 1);
        for (int th = 1; th <= 2; th++) {
            vb_blas_set_threads(th);
            for (int d = 0; d < 3; d++) {
                struct vb_wmat W;
                assert_int_equal(vb_wmat_alloc(&W, rows, cols, dts[d]), VB_OK);
                vb_wmat_set_f32(&W, 0, Wf, rows);
                struct vb_wmat V = vb_wmat_rows(&W, 3, rows - 4);
                for (int k = 0; k < 6; k++)
                    for (int beta = 0; beta <= 1; beta++)
                        for (int hb = 0; hb <= 1; hb++) {
                            const float * bias = hb ? b : NULL;
                            memcpy(y1, y0, sizeof(float) * (size_t)(24 * ldy));
                            memcpy(y2, y0, sizeof(float) * (size_t)(24 * ldy));
                            setenv("VB_WMAT_GEMV", "blocked", 1);
                            vb_wmat_linear_ex(x, ldx, ns[k], &V, bias, y1, ldy, (float)beta);
                            unsetenv("VB_WMAT_GEMV");
                            vb_wmat_linear_ex(x, ldx, ns[k], &V, bias, y2, ldy, (float)beta);
                            assert_memory_equal(y1, y2, sizeof(float) * (size_t)(24 * ldy));
                        }
                /* fused q|k|v: one product over 3 x 368 rows = three products over its row views */
                const int64_t R = 368;
                for (int k = 0; k < 6; k++) {
                    struct vb_wmat F = vb_wmat_rows(&W, 0, 3 * R);
                    vb_wmat_linear_ex(x, ldx, ns[k], &F, NULL, y1, 3 * R, 0.0f);
                    for (int part = 0; part < 3; part++) {
                        struct vb_wmat P = vb_wmat_rows(&W, part * R, R);
                        vb_wmat_linear_ex(x, ldx, ns[k], &P, NULL, y2 + part * R, 3 * R, 0.0f);
                    }
                    assert_memory_equal(y1, y2, sizeof(float) * (size_t)(ns[k] * 3 * R));
                }
                vb_wmat_free(&W);
            }
        }
    }
    unsetenv("VB_WMAT_KERNEL");
    vb_blas_set_threads(2);
    operands_free(&o);
    if (!ran) skip();
}

/* bf16 compute (kernel avx512bf16): on bf16 activations and rounded weights every product is exact, so the result is
** vb_linear's on the same values up to the f32 summation order (1e-5 of max |y|), for every dtype, shape, stride,
** beta, bias and view; a row gives the same bits alone or in a batch (batch invariance); on f32 activations the
** error stays within bf16 rounding (1e-2 of max |y|). */
static void kernel_bf16(const char * name) {
    const char * f;
    if (vb_wmat_kernel_available(name, &f) != 1) {
        printf("SKIP: no %s (bf16 compute kernel %s)\n", f, name);
        if (vb_wmat_kernel_available("avx512bf16", NULL) != 1)
            assert_int_equal(vb_wmat_set_compute(VB_COMPUTE_BF16), VB_ERR_UNSUPPORTED);
        skip();
        return;
    }
    vb_blas_set_threads(2);
    assert_int_equal(vb_wmat_set_compute(VB_COMPUTE_BF16), VB_OK);
    /* the default bf16 kernel: amx where the CPU has it, else avx512bf16 */
    assert_string_equal(vb_wmat_kernel(), vb_wmat_kernel_available("amx", NULL) == 1 ? "amx" : "avx512bf16");
    setenv("VB_WMAT_KERNEL", name, 1);
    assert_string_equal(vb_wmat_kernel(), name);
    g_round_x = 1;
    linear_cases();
    g_round_x = 0;
    batch_invariance();
    /* unrounded activations: bf16's relative precision 2^-8 per activation */
    const int64_t rows = 64, cols = 777, n = 19;
    float *       Wf = malloc(sizeof(float) * (size_t)(rows * cols)), *x = malloc(sizeof(float) * (size_t)(n * cols));
    float *       y = malloc(sizeof(float) * (size_t)(n * rows)), *yr = malloc(sizeof(float) * (size_t)(n * rows));
    for (int64_t i = 0; i < rows * cols; i++)
        Wf[i] = round_to(VB_DT_BF16, urand(1.0f));
    urand_fill(x, n * cols, 1.0f);
    struct vb_wmat W;
    assert_int_equal(vb_wmat_alloc(&W, rows, cols, VB_DT_F32), VB_OK);
    vb_wmat_set_f32(&W, 0, Wf, rows);
    vb_wmat_linear(x, n, &W, NULL, y);
    vb_linear(x, n, cols, Wf, NULL, rows, yr);
    double e = rel_err(y, yr, n * rows);
    assert_true(e > 0 && e < 1e-2); /* > 0: the activations really were rounded */
    /* the kernel's rounding of the activations is vb_f32_to_bf16's (nearest even, subnormals kept): x and x rounded
    ** beforehand give the same bits (odd cols: a half pair at the end) */
    float *xr = malloc(sizeof(float) * (size_t)(n * cols)), *yb = malloc(sizeof(float) * (size_t)(n * rows));
    for (int64_t i = 0; i < n * cols; i++) {
        if (i % 97 == 5) x[i] = urand(1.0f) * 1e-39f; /* subnormal */
        xr[i] = round_to(VB_DT_BF16, x[i]);
    }
    vb_wmat_linear(x, n, &W, NULL, y);
    vb_wmat_linear(xr, n, &W, NULL, yb);
    assert_memory_equal(y, yb, sizeof(float) * (size_t)(n * rows));
    vb_linear(x, n, cols, Wf, NULL, rows, yr); /* the reference of the checks below, on the new x */
    free(xr), free(yb);
    unsetenv("VB_WMAT_KERNEL");
    /* the compute mode alone (no forced kernel): up to 24 rows the f32 kernel runs (memory-bound GEMV-like
    ** products), so n = 19 gives the f32 bits; more rows take the bf16 kernel */
    float * y32 = malloc(sizeof(float) * (size_t)(n * rows));
    vb_wmat_linear(x, n, &W, NULL, y);
    assert_int_equal(vb_wmat_set_compute(VB_COMPUTE_F32), VB_OK);
    vb_wmat_linear(x, n, &W, NULL, y32);
    assert_memory_equal(y, y32, sizeof(float) * (size_t)(n * rows));
    assert_true(rel_err(y32, yr, n * rows) <= 1e-5);
    free(y32);
    vb_wmat_free(&W);
    free(Wf), free(x), free(y), free(yr);
}

static void test_kernel_avx512bf16(void ** state) {
    (void)state;
    kernel_bf16("avx512bf16");
}

/* The same with AMX-BF16 tiles (32 x 16 tiles, k padded to 16 pairs, row-major activation groups). */
static void test_kernel_amx(void ** state) {
    (void)state;
    kernel_bf16("amx");
}

/* The amx set's blocking of 2026-12-07 (k blocks of 2048: one for the ViT-g's 1408 and the T5-XL's 2048, 16 MiB
** activation blocks, tile2's interleaved tile loads and C prefetch) gives the bits of the blocking before
** (VB_WMAT_AMX_BLOCKS=old: k blocks of 512, 4 MiB): the same tdpbf16ps per output in k order, an f32 C tile stored
** and reloaded between k blocks.  f32 and bf16 weights, k over several new blocks (4500: 2048 + 2048 + 404 against
** 8 x 512 + 404), an odd k (2229: a half pair at the end), 1408; 33 and 70 rows (a partial group), 1 and 2 threads,
** strides ldx != cols and ldy != rows, beta 0 with a bias and beta 1, a view with a partial first panel and an odd
** panel count (203 - 3 rows). */
static void test_amx_bits_equal_old(void ** state) {
    (void)state;
    if (!force_kernel("amx")) {
        skip();
        return;
    }
    assert_int_equal(vb_wmat_set_compute(VB_COMPUTE_BF16), VB_OK);
    const int32_t   dts[] = {VB_DT_F32, VB_DT_BF16};
    const int64_t   rows = 203, colss[] = {4500, 2229, 1408}, ns[] = {33, 70}, cmax = 4500, ldx = cmax + 3;
    const int64_t   ldy = rows + 5;
    struct operands o = operands_new(rows, cmax, 70, ldx, ldy, 0);
    float *         Wf = o.Wf, *x = o.x, *b = o.b, *y0 = o.y0, *y1 = o.y1, *y2 = o.y2;
    int             cases = 0;
    for (int th = 1; th <= 2; th++) {
        vb_blas_set_threads(th);
        for (int d = 0; d < 2; d++)
            for (int c = 0; c < 3; c++)
                for (int k = 0; k < 2; k++)
                    for (int beta = 0; beta <= 1; beta++) {
                        const int64_t  cols = colss[c], n = ns[k];
                        struct vb_wmat W;
                        assert_int_equal(vb_wmat_alloc(&W, rows, cols, dts[d]), VB_OK);
                        vb_wmat_set_f32(&W, 0, Wf, rows);
                        struct vb_wmat V = vb_wmat_rows(&W, 3, rows - 3);
                        memcpy(y1, y0, sizeof(float) * (size_t)(n * ldy));
                        memcpy(y2, y0, sizeof(float) * (size_t)(n * ldy));
                        setenv("VB_WMAT_AMX_BLOCKS", "old", 1);
                        vb_wmat_linear_ex(x, ldx, n, &V, beta ? NULL : b, y1, ldy, (float)beta);
                        unsetenv("VB_WMAT_AMX_BLOCKS");
                        vb_wmat_linear_ex(x, ldx, n, &V, beta ? NULL : b, y2, ldy, (float)beta);
                        assert_memory_equal(y1, y2, sizeof(float) * (size_t)(n * ldy));
                        /* and the product is the one meant (bf16 rounding of the activations: 1e-2) */
                        if (beta == 0 && th == 1) {
                            float * yr = malloc(sizeof(float) * (size_t)(n * (rows - 3)));
                            float * Wr = malloc(sizeof(float) * (size_t)((rows - 3) * cols));
                            float * xr = malloc(sizeof(float) * (size_t)(n * cols));
                            for (int64_t i = 0; i < rows - 3; i++)
                                for (int64_t j = 0; j < cols; j++)
                                    Wr[i * cols + j] =
                                        round_to(dts[d] == VB_DT_F32 ? VB_DT_BF16 : dts[d], Wf[(i + 3) * cols + j]);
                            for (int64_t i = 0; i < n; i++)
                                memcpy(xr + i * cols, x + i * ldx, sizeof(float) * (size_t)cols);
                            vb_linear(xr, n, cols, Wr, b, rows - 3, yr); /* the bias is indexed like y's columns */
                            float * yc = malloc(sizeof(float) * (size_t)(n * (rows - 3)));
                            for (int64_t i = 0; i < n; i++)
                                memcpy(yc + i * (rows - 3), y2 + i * ldy, sizeof(float) * (size_t)(rows - 3));
                            double e = rel_err(yc, yr, n * (rows - 3));
                            assert_true(e > 0 && e < 1e-2);
                            free(yr), free(Wr), free(xr), free(yc);
                        }
                        vb_wmat_free(&W);
                        cases++;
                    }
    }
    assert_int_equal(cases, 48);
    assert_int_equal(vb_wmat_set_compute(VB_COMPUTE_F32), VB_OK);
    vb_blas_set_threads(2);
    unsetenv("VB_WMAT_KERNEL");
    operands_free(&o);
}

/* The blocked GEMM shares its (row block, k block, panel chunk) units among the threads dynamically
** (engine/wmat_gemm.c), so which thread computes which output changes from call to call: every kernel, f32 and bf16
** weights, f32 and bf16 compute, gives the same bits with 1, 2 and 3 threads.  1109 rows (70 panels: several chunks
** per phase, a partial first and last panel in the view), k over several blocks (1001: three avx512 blocks of 384;
** 4300: three amx blocks of 2048), 37 and 130 rows (partial groups), ldx != cols, ldy != rows, beta 0 with a bias
** and beta 1. */
static void test_gemm_bits_equal_threads(void ** state) {
    (void)state;
    const int32_t   dts[] = {VB_DT_F32, VB_DT_BF16};
    const int64_t   rows = 1109, cmax = 4300, ns[] = {37, 130}, ldx = cmax + 3, ldy = rows + 5;
    struct operands o = operands_new(rows, cmax, 130, ldx, ldy, 0);
    float *         Wf = o.Wf, *x = o.x, *b = o.b, *y0 = o.y0, *y1 = o.y1, *y2 = o.y2;
    int             cases = 0;
    for (int ki = 0; ki < N_KERNELS; ki++) {
        if (!kernel_begin(ki)) continue;
        const int64_t cols = ki >= 3 ? 4300 : 1001;
        for (int d = 0; d < 2; d++) {
            struct vb_wmat W;
            assert_int_equal(vb_wmat_alloc(&W, rows, cols, dts[d]), VB_OK);
            vb_wmat_set_f32(&W, 0, Wf, rows);
            struct vb_wmat V = vb_wmat_rows(&W, 3, rows - 4);
            for (int k = 0; k < 2; k++)
                for (int beta = 0; beta <= 1; beta++) {
                    const int64_t n = ns[k];
                    vb_blas_set_threads(1);
                    memcpy(y1, y0, sizeof(float) * (size_t)(n * ldy));
                    vb_wmat_linear_ex(x, ldx, n, &V, beta ? NULL : b, y1, ldy, (float)beta);
                    for (int th = 2; th <= 3; th++) {
                        vb_blas_set_threads(th);
                        memcpy(y2, y0, sizeof(float) * (size_t)(n * ldy));
                        vb_wmat_linear_ex(x, ldx, n, &V, beta ? NULL : b, y2, ldy, (float)beta);
                        assert_memory_equal(y1, y2, sizeof(float) * (size_t)(n * ldy));
                        cases++;
                    }
                }
            vb_wmat_free(&W);
        }
        kernel_end();
    }
    assert_true(cases >= 16); /* the portable loops at least */
    vb_blas_set_threads(2);
    operands_free(&o);
}

/* bf16 weights lie in pairs of k (engine/wmat.h): the bf16 compute kernels read them as they lie (amx: where every k
** block's pairs fill whole 16-pair tile rows), the f32 kernels widen a pair line's halves in registers (<= 24 rows)
** or per chunk.  Each gives the bits of the same values held as f32 weights (which every kernel converts per chunk
** or reads as they are): every kernel, both compute modes, 1 / 12 / 24 / 25 / 33 / 130 rows (GEMV tiles, the blocked
** loop), k of 1408 (amx reads the pairs directly), 4500 (blocks 2048 + 2048 + 404: amx converts, avx512bf16 reads
** directly), 2229 and 53 (odd: the zero half pair at the end), a view starting inside a panel, 1 and 2 threads. */
static void test_bf16_pairs_bits_equal_f32(void ** state) {
    (void)state;
    const int64_t   rows = 203, colss[] = {1408, 4500, 2229, 53}, ns[] = {1, 12, 24, 25, 33, 130}, cmax = 4500;
    const int64_t   ldx = cmax + 3, ldy = rows + 5;
    struct operands o = operands_new(rows, cmax, 130, ldx, ldy, 1);
    float *         Wf = o.Wf, *x = o.x, *b = o.b, *y0 = o.y0, *y1 = o.y1, *y2 = o.y2;
    int             cases = 0;
    for (int ki = 0; ki < N_KERNELS; ki++) {
        if (!kernel_begin(ki)) continue;
        const int bf16c = ki >= 3;
        for (int c = 0; c < 4; c++) {
            const int64_t  cols = colss[c];
            struct vb_wmat Wh, W32;
            assert_int_equal(vb_wmat_alloc(&Wh, rows, cols, VB_DT_BF16), VB_OK);
            assert_int_equal(vb_wmat_alloc(&W32, rows, cols, VB_DT_F32), VB_OK);
            for (int64_t r = 0; r < rows; r++) { /* rows of cols values out of the cmax-wide table */
                vb_wmat_set_f32(&Wh, r, Wf + r * cmax, 1);
                vb_wmat_set_f32(&W32, r, Wf + r * cmax, 1);
            }
            struct vb_wmat Vh = vb_wmat_rows(&Wh, 3, rows - 3), V32 = vb_wmat_rows(&W32, 3, rows - 3);
            for (int th = 1; th <= 2; th++) {
                vb_blas_set_threads(th);
                for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++) {
                    const int64_t n = ns[k];
                    if (bf16c && n <= 24) continue; /* the f32 kernel runs there (rows above) */
                    memcpy(y1, y0, sizeof(float) * (size_t)(n * ldy));
                    memcpy(y2, y0, sizeof(float) * (size_t)(n * ldy));
                    vb_wmat_linear_ex(x, ldx, n, &Vh, b + 3, y1, ldy, 0.0f);
                    vb_wmat_linear_ex(x, ldx, n, &V32, b + 3, y2, ldy, 0.0f);
                    if (memcmp(y1, y2, sizeof(float) * (size_t)(n * ldy)) != 0)
                        fail_msg("kernel %s, %lld x %lld, n %lld, %d threads: bf16 pairs and f32 weights differ",
                                 ALL_KERNELS[ki], (long long)(rows - 3), (long long)cols, (long long)n, th);
                    cases++;
                }
            }
            vb_wmat_free(&Wh);
            vb_wmat_free(&W32);
        }
        kernel_end();
    }
    assert_true(cases >= 48); /* the portable loops at least */
    vb_blas_set_threads(2);
    operands_free(&o);
}

/* Compute-mode names; an unknown kernel in VB_WMAT_KERNEL falls back to the default with a warning. */
static void test_compute_names(void ** state) {
    (void)state;
    assert_int_equal(vb_wmat_set_compute(VB_COMPUTE_F32), VB_OK);
    int m = -1;
    assert_int_equal(vb_wmat_compute_parse("bf16", &m), VB_OK);
    assert_int_equal(m, VB_COMPUTE_BF16);
    assert_int_equal(vb_wmat_compute_parse("F32", &m), VB_OK);
    assert_int_equal(m, VB_COMPUTE_F32);
    assert_int_not_equal(vb_wmat_compute_parse("f16", &m), VB_OK);
    assert_non_null(strstr(vb_errmsg(), "f16"));
    assert_int_equal(vb_wmat_set_compute(7), VB_ERR_ARG);
    assert_int_equal(vb_wmat_compute(), VB_COMPUTE_F32);
    assert_int_equal(vb_wmat_kernel_available("sse9", NULL), -1);
    assert_int_equal(vb_wmat_kernel_available("portable", NULL), 1);
    const char * def = vb_wmat_kernel();
    setenv("VB_WMAT_KERNEL", "sse9", 1);
    assert_string_equal(vb_wmat_kernel(), def);
    setenv("VB_WMAT_KERNEL", "portable", 1);
    assert_string_equal(vb_wmat_kernel(), "portable");
    unsetenv("VB_WMAT_KERNEL");
}

/* VB_WMAT_KBENCH=threads: every kernel this CPU runs and OpenBLAS sgemm at the engine's main shapes, interleaved
** rep by rep (A B C A B C: a shared machine's load drifts), medians in GFLOP/s and the ratio to sgemm of the same rep
** (docs/performance.md). */
static void bench_kernels(int reps) {
    static const struct {
        const char * what;
        int64_t      n, rows, cols;
        int32_t      dt;
    } C[] = {{"sgemm 2048^3", 2048, 2048, 2048, VB_DT_F32},     {"vit fc1 8 frames", 2056, 6144, 1408, VB_DT_F32},
             {"vit fc2 8 frames", 2056, 1408, 6144, VB_DT_F32}, {"qformer kv 8 frames", 2056, 1536, 1408, VB_DT_F32},
             {"t5 wi 128 tok", 128, 10240, 2048, VB_DT_F32},    {"t5 wi 512 tok", 512, 10240, 2048, VB_DT_F32},
             {"t5 wo 512 tok", 512, 2048, 5120, VB_DT_F32},     {"t5 wi decode f32", 1, 10240, 2048, VB_DT_F32},
             {"t5 wi decode bf16", 1, 10240, 2048, VB_DT_BF16}, {"t5 wi x8 bf16", 8, 10240, 2048, VB_DT_BF16},
             {"vit fc1 bf16 w", 2056, 6144, 1408, VB_DT_BF16}};
    static const char * const KN[] = {"avx2", "avx512", "avx512bf16", "amx"};
    const char *              kb = getenv("VB_WMAT_KBENCH_KERNELS"); /* e.g. "avx512": only these kernels */
    printf("%-22s %5s %6s %6s %9s", "shape", "n", "rows", "cols", "sgemm");
    for (int k = 0; k < 4; k++)
        printf(" %11s", KN[k]);
    printf("   (GFLOP/s, medians of %d interleaved reps; ratio to the sgemm of the same rep)\n", reps);
    const char * only = getenv("VB_WMAT_KBENCH_ONLY"); /* a substring of the shape names */
    for (size_t c = 0; c < sizeof C / sizeof C[0]; c++) {
        if (only && !strstr(C[c].what, only)) continue;
        int64_t        n = C[c].n, R = C[c].rows, K = C[c].cols;
        struct vb_wmat W;
        VB_ASSERT(vb_wmat_alloc(&W, R, K, C[c].dt) == VB_OK);
        float * Wf = malloc(sizeof(float) * (size_t)(R * K));
        urand_fill(Wf, R * K, 0.05f);
        vb_wmat_set_f32(&W, 0, Wf, R);
        float *x = malloc(sizeof(float) * (size_t)(n * K)), *y = malloc(sizeof(float) * (size_t)(n * R));
        urand_fill(x, n * K, 1);
        double t[5][32], flop = 2.0 * (double)n * (double)R * (double)K;
        for (int r = -1; r < reps; r++)
            for (int k = -1; k < 4; k++) {
                const char * feat;
                if (k >= 0 && (vb_wmat_kernel_available(KN[k], &feat) != 1 || (kb && !strstr(kb, KN[k])))) {
                    if (r >= 0) t[k + 1][r] = 0;
                    continue;
                }
                double t0 = now_s();
                if (k < 0) {
                    vb_blas_library_threads(vb_blas_threads());
                    t0 = now_s();
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)R, (int)K, 1.0f, x, (int)K, Wf,
                                (int)K, 0.0f, y, (int)R);
                    double dt = now_s() - t0;
                    vb_blas_library_threads(1);
                    vb_blas_settle();
                    if (r >= 0) t[0][r] = dt;
                    continue;
                }
                setenv("VB_WMAT_KERNEL", KN[k], 1);
                vb_wmat_linear(x, n, &W, NULL, y);
                if (r >= 0) t[k + 1][r] = now_s() - t0;
            }
        unsetenv("VB_WMAT_KERNEL");
        double g[5], ratio[5][32];
        for (int k = 0; k < 5; k++) {
            for (int r = 0; r < reps; r++)
                ratio[k][r] = t[k][r] > 0 ? t[0][r] / t[k][r] : 0;
            qsort(t[k], (size_t)reps, sizeof t[k][0], cmp_d);
            qsort(ratio[k], (size_t)reps, sizeof ratio[k][0], cmp_d);
            g[k] = t[k][reps / 2] > 0 ? flop / t[k][reps / 2] / 1e9 : 0;
        }
        printf("%-22s %5lld %6lld %6lld %9.1f", C[c].what, (long long)n, (long long)R, (long long)K, g[0]);
        for (int k = 1; k < 5; k++)
            printf(" %6.1f %3.0f%%", g[k], 100 * ratio[k][reps / 2]);
        printf("%s\n", C[c].dt == VB_DT_BF16 ? "  (bf16 weights; sgemm on f32)" : "");
        vb_wmat_free(&W);
        free(Wf), free(x), free(y);
    }
}

int main(void) {
    if (getenv("VB_WMAT_KBENCH")) {
        vb_blas_set_threads(atoi(getenv("VB_WMAT_KBENCH")) > 0 ? atoi(getenv("VB_WMAT_KBENCH")) : 2);
        int reps = getenv("VB_WMAT_BENCH_REPS") ? atoi(getenv("VB_WMAT_BENCH_REPS")) : 5;
        bench_kernels(reps < 1 ? 1 : reps > 32 ? 32 : reps);
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kernel_avx2),
        cmocka_unit_test(test_kernel_avx512),
        cmocka_unit_test(test_kernel_avx512_bits_equal_avx2),
        cmocka_unit_test(test_gemv_bits_equal_blocked),
        cmocka_unit_test(test_kernel_avx512bf16),
        cmocka_unit_test(test_kernel_amx),
        cmocka_unit_test(test_amx_bits_equal_old),
        cmocka_unit_test(test_gemm_bits_equal_threads),
        cmocka_unit_test(test_bf16_pairs_bits_equal_f32),
        cmocka_unit_test(test_compute_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
