/* wmat_gemm.c — the Linear over packed weight matrices (vb_wmat_linear*): the blocking, the threads, the choice of
** micro-kernel (engine/wmat_kern.h) at run time and the compute mode (see wmat.h). */
#include "base/common.h"
#include "engine/cpu.h"
#include "engine/pool.h"
#include "engine/weights.h"
#include "engine/wmat.h"
#include "engine/wmat_kern.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NR          VB_WMAT_NR
#define MR_PORTABLE 6
/* Half-precision weights with at most this many activation rows are converted in registers by every group (the
** panel comes from memory once, then from L2); above it a panel is converted to f32 once per row block.
** Measured (AVX2, 2-core Zen 3), 10240 x 2048 bf16 / f32 time at n = 8, 12, 24, 48, 128: 0.64, 0.71, 0.84, 0.95,
** 1.02 in registers; 0.91, 0.88, 0.96, 1.01, 0.96 converting the panel. */
#define HALF_IN_REGISTERS_MAX_N 24
/* bf16 compute applies to products of more than this many rows (the rest: the f32 kernel, see choose_n) */
#define BF16_MIN_N VB_WMAT_BF16_MIN_N
_Static_assert(BF16_MIN_N == HALF_IN_REGISTERS_MAX_N, "the bf16 threshold is the in-register conversion's");
/* Products (n * rows * cols) below this run on one thread (a pool hand-off costs ~2-5 us). */
#define PAR_MIN (1 << 17)
/* Packed activation bytes per block for the portable loops. */
#define A_BLOCK_PORTABLE ((size_t)1 << 20)

/* ---------------------------------------------------------------- kernel choice, compute mode */

enum { KI_PORTABLE, KI_AVX2, KI_AVX512, KI_AVX512BF16, KI_AMX, KI_N };
static const char * const K_NAME[KI_N] = {"portable", "avx2", "avx512", "avx512bf16", "amx"};
static const char * const K_FEATURE[KI_N] = {"", "AVX2+FMA+F16C", "AVX512F/BW/VL/DQ", "AVX512_BF16", "AMX-BF16"};

static int g_compute = VB_COMPUTE_F32;

static int kernel_index(const char * s) {
    for (int i = 0; s && i < KI_N; i++)
        if (strcasecmp(s, K_NAME[i]) == 0) return i;
    return -1;
}

static int cpu_runs(int ki) {
    switch (ki) {
    case KI_PORTABLE:
        return 1;
    case KI_AVX2:
        return vb_wk_avx2.tile && vb_wk_cpu_avx2();
    case KI_AVX512:
        return vb_wk_avx512.tile && vb_wk_cpu_avx512();
    case KI_AVX512BF16:
        return vb_wk_avx512bf16.tile && vb_wk_cpu_avx512bf16();
    case KI_AMX:
        return vb_wk_amx.tile && vb_wk_cpu_amx();
    default:
        return 0;
    }
}

static const struct vb_wk * kernel_set(int ki) {
    static const struct vb_wk * const set[KI_N] = {NULL, &vb_wk_avx2, &vb_wk_avx512, &vb_wk_avx512bf16, &vb_wk_amx};
    return ki > 0 && ki < KI_N ? set[ki] : NULL;
}

/* The kernel a call of n rows uses now: VB_WMAT_KERNEL when set to a kernel this CPU runs (else a warning, once),
** portable under VB_WMAT_PORTABLE, in bf16 compute mode amx (AMX-BF16) or else avx512bf16, else the widest f32
** kernel the CPU runs (the CPU less what VB_CPU_DISABLE takes away, engine/cpu.h). */
static int choose_n(int64_t n) {
    const char * e = getenv("VB_WMAT_KERNEL");
    if (e && *e) {
        int ki = kernel_index(e);
        if (ki >= 0 && cpu_runs(ki)) return ki;
        static int warned;
        if (!__atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED))
            vb_log(VB_LOG_WARN, "VB_WMAT_KERNEL=%s: %s; using the default kernel", e,
                   ki < 0 ? "not a kernel (portable, avx2, avx512, avx512bf16, amx)"
                          : "this CPU lacks its instructions");
    }
    if (getenv("VB_WMAT_PORTABLE")) return KI_PORTABLE;
    /* bf16 compute for products of more than BF16_MIN_N rows; GEMV-like ones (decode steps, SeViLA's 8-sequence
    ** chunks) are memory-bound and stay f32: converting every panel to bf16 pairs per call made the bf16-compute
    ** decoder step 1.63x the f32 step (bench-engine, 18:14 UTC) */
    if (g_compute == VB_COMPUTE_BF16 && n > BF16_MIN_N && cpu_runs(KI_AMX)) return KI_AMX;
    if (g_compute == VB_COMPUTE_BF16 && n > BF16_MIN_N && cpu_runs(KI_AVX512BF16)) return KI_AVX512BF16;
    if (cpu_runs(KI_AVX512)) return KI_AVX512;
    if (cpu_runs(KI_AVX2)) return KI_AVX2;
    return KI_PORTABLE;
}

const char * vb_wmat_kernel(void) {
    return K_NAME[choose_n(INT64_MAX)];
}

int vb_wmat_kernel_available(const char * name, const char ** feature) {
    int ki = kernel_index(name);
    if (feature) *feature = ki >= 0 ? K_FEATURE[ki] : "";
    return ki < 0 ? -1 : cpu_runs(ki);
}

int vb_wmat_set_compute(int mode) {
    if (mode == VB_COMPUTE_F32) {
        g_compute = mode;
        return VB_OK;
    }
    if (mode != VB_COMPUTE_BF16) return vb_fail(VB_ERR_ARG, "compute mode %d is not f32 or bf16", mode);
    if (!cpu_runs(KI_AVX512BF16))
        return vb_fail(VB_ERR_UNSUPPORTED,
                       "--compute bf16 needs a CPU with AVX512_BF16 (and AVX-512 F/BW/VL/DQ); this one lacks it%s%s: "
                       "use --compute f32",
                       vb_cpu_disabled()[0] ? " or VB_CPU_DISABLE takes it away: " : "", vb_cpu_disabled());
    g_compute = mode;
    return VB_OK;
}

int vb_wmat_compute(void) {
    return g_compute;
}

const char * vb_wmat_compute_name(int mode) {
    return mode == VB_COMPUTE_BF16 ? "bf16" : "f32";
}

int vb_wmat_compute_parse(const char * s, int * mode) {
    if (s && (!strcasecmp(s, "f32") || !strcasecmp(s, "fp32") || !strcasecmp(s, "float32"))) {
        *mode = VB_COMPUTE_F32;
        return VB_OK;
    }
    if (s && (!strcasecmp(s, "bf16") || !strcasecmp(s, "bfloat16"))) {
        *mode = VB_COMPUTE_BF16;
        return VB_OK;
    }
    return vb_fail(VB_ERR_ARG, "compute mode '%s': expected f32 or bf16", s ? s : "(null)");
}

/* ---------------------------------------------------------------- portable loops */

/* mr x 16 tile of c (ldc) (+)= a (kc, mr packed) . bp (kc, 16 f32) (+ bias) */
static void kern_scalar(int mr, int64_t kc, const float * a, const float * bp, float * c, int64_t ldc, int load,
                        const float * bias) {
    float acc[VB_WK_MRMAX][NR];
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

/* kc x 16 half elements (dt; bf16: pair lines, engine/wmat.h) at p -> f32 (kc, 16) */
static void panel_to_f32_scalar(int32_t dt, const void * p, int64_t kc, float * dst) {
    const uint16_t * s = p;
    for (int64_t k = 0; k < kc; k++)
        for (int j = 0; j < NR; j++)
            dst[k * NR + j] = dt == VB_DT_BF16 ? vb_bf16_to_f32(s[(k >> 1) * 2 * NR + 2 * j + (k & 1)])
                                               : vb_f16_to_f32(s[k * NR + j]);
}

/* f32 -> bf16, round to nearest even (NaN stays NaN), as vb_f32_to_bf16 */
static inline uint32_t bf16_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (u >> 16) | 0x40;
    u += 0x7fffu + ((u >> 16) & 1);
    return u >> 16;
}

/* ---------------------------------------------------------------- packed GEMM / GEMV
**
** y (n, rows) [ldy] = x (n, cols) [ldx] W^T + b over the panel layout (16 output columns per panel).  The product is
** cut into phases (a block of activation rows, the kernel's a_block bytes per k block, x one k block: k_block, the
** whole k range for avx2) and each phase into chunks of neighbouring panels (the set's b_block bytes, avx2: one
** panel; smaller where a phase would have fewer than 4 chunks per thread); the (phase, chunk) units are taken from
** a shared counter (vb_pool_run_dynamic: a thread the machine delays takes fewer units instead of holding up the
** product; the caller starts before a sleeping worker wakes).  A thread packs a phase's activation rows into groups
** of mr rows, each [kl][mr] k-major (bf16 compute: bf16 pairs; amx: row-major), when it takes its first unit of
** that phase, and for each unit every group runs over every panel of the chunk: the group's packed rows stay in L1,
** the chunk in L2 (it comes from memory for the first group; amx: k blocks of 2048, so a group's rows of the ViT-g
** and T5-XL products, 90-128 KB, come from L2 and the C tile stays in the tile registers over all of k,
** engine/wmat_amx.c).  A C tile is reloaded per k block (f32 stores and loads are exact: the chain of fused
** multiply-adds per output is the one of an unblocked loop, so neither the blocking nor the split over threads
** changes a bit; a chunk's k blocks run in order, the next waiting for the previous one's unit).  Where the set has a
** two-panel tile (avx512, avx512bf16, amx), two whole neighbouring panels are done at once (an mr x 32 tile).
** Measured (one thread, CPU time, this round's Sapphire Rapids VM): panel-outer order with one-panel tiles 121 GFLOP/s
** on 2056 x 6144 x 1408, two panels 139-144, chunked group-outer 141-146 (OpenBLAS SkylakeX sgemm 150-176 in the same
** runs).  Half panels are converted in registers for n <= HALF_IN_REGISTERS_MAX_N (decode steps: a GEMV streaming every
** panel once, reading half the bytes), else once per chunk into an f32 copy that all groups read; in bf16 compute bf16
** weights are read as they lie (their resident pair lines are the operand layout; plan_gemm), f32 / f16 panels are
** converted to bf16 pairs once per chunk (any n: a row gives the same bits alone or in a batch). */

struct gemm_job {
    const float *          x, *b;
    const struct vb_wmat * W;
    float *                y;
    int64_t                ldx, n, ldy;
    int64_t                np;      /* panels covering the matrix's rows */
    int                    load;    /* beta = 1: accumulate into y */
    const struct vb_wk *   k;       /* the kernel set; NULL: portable loops */
    int                    mr;      /* rows per packed group */
    int64_t                cp;      /* gemv_part: panels per chunk */
    int                    four;    /* gemv_part: use the set's four-panel tile for single rows */
    int64_t                k_block; /* gemm_part: the set's k_block (VB_WMAT_AMX_BLOCKS=old: the amx set's old one) */
    size_t                 a_block; /* gemm_part: the set's a_block (likewise) */
    /* gemm_part's blocking (plan_gemm) */
    int64_t        kb, nkb, kcb; /* k per block, k blocks, packed 4-byte k units per block */
    int64_t        mcb;          /* activation rows per block */
    int            convert;      /* panels converted per chunk (bf16 pairs or f32) */
    int64_t        bcs;          /* bytes of one converted panel slice */
    int64_t        ncb, nch;     /* panels per chunk, chunks per phase (row block x k block) */
    int64_t        units;        /* row blocks x k blocks x chunks */
    atomic_llong * progress;     /* per chunk: phases (row block x k block) done, in order */
    /* the activations packed once for all threads (NULL: each thread packs a phase's block itself): phase ph's block
    ** at Ash + ph * ph_bytes, its groups taken from pk_next[ph] by the threads that enter the phase, pk_done[ph] of
    ** them packed */
    uint8_t *     Ash;
    size_t        ph_bytes;
    atomic_llong *pk_next, *pk_done;
    atomic_llong  next; /* the next chunk (gemv_part) or unit (gemm_part) to take */
};

/* one tile: rows [0, mr) of y (ldy) x panel columns [col0, col0 + 16), clipped to [0, ncols) (a temp tile at the
** edges); bias (ncols, nullable) indexed like y's columns */
static void tile(const struct vb_wk * ks, int mr, int32_t bdt, int64_t kc, const void * a, const void * bp, float * y,
                 int64_t ldy, int64_t col0, int64_t ncols, int load, const float * bias) {
    if (col0 >= 0 && col0 + NR <= ncols) {
        float *       c = y + col0;
        const float * bc = bias ? bias + col0 : NULL;
        if (ks)
            ks->tile(mr, bdt, kc, a, bp, c, ldy, load, bc);
        else
            kern_scalar(mr, kc, a, bp, c, ldy, load, bc);
        return;
    }
    /* partial panel: columns j with 0 <= col0 + j < ncols are real */
    float   T[VB_WK_MRMAX * NR], tb[NR];
    int64_t j0 = col0 < 0 ? -col0 : 0, j1 = VB_MIN((int64_t)NR, ncols - col0);
    memset(T, 0, sizeof T);
    memset(tb, 0, sizeof tb);
    for (int i = 0; i < mr; i++)
        for (int64_t j = j0; j < j1; j++) {
            if (load) T[i * NR + j] = y[i * ldy + col0 + j];
            if (bias && i == 0) tb[j] = bias[col0 + j];
        }
    if (ks)
        ks->tile(mr, bdt, kc, a, bp, T, NR, load, bias ? tb : NULL);
    else
        kern_scalar(mr, kc, a, bp, T, NR, load, bias ? tb : NULL);
    for (int i = 0; i < mr; i++)
        for (int64_t j = j0; j < j1; j++)
            y[i * ldy + col0 + j] = T[i * NR + j];
}

/* packed k units kc padded to the kernel's kc_align */
static inline int64_t pad_k(const struct vb_wk * ks, int64_t kc) {
    int64_t a = ks && ks->kc_align > 1 ? ks->kc_align : 1;
    return (kc + a - 1) / a * a;
}

/* bytes from a weight panel of W to the next */
static inline int64_t panel_stride(const struct vb_wmat * W) {
    return vb_wmat_panel_k(W) * NR * (W->dt == VB_DT_F32 ? 4 : 2);
}

/* the slice of panel p of W from k row k0 on (k0 even for bf16; its k-block's weights: contiguous) */
static inline const uint8_t * panel_slice(const struct vb_wmat * W, int64_t p, int64_t k0) {
    const size_t es = W->dt == VB_DT_F32 ? 4 : 2;
    return (const uint8_t *)W->data + (size_t)(p * panel_stride(W)) + (size_t)(k0 * NR) * es;
}

/* rows [r0, r0 + mc), columns [k0, k0 + kl) of x (ldx) into groups of mr: f32 [kl][mr_g] at A + g0 * kl, or bf16
** pairs [ceil(kl/2)][mr_g] (k0 even) */
static void pack_rows(const struct gemm_job * J, int bf16, int64_t r0, int64_t mc, int64_t k0, int64_t kl, void * A) {
    const int     MRg = J->mr;
    const int64_t K2 = (kl + 1) / 2;
    if (J->k && J->k->a_rows) { /* row-major bf16 pairs [MRg][kcp], zero pairs past K2 and zero rows past mc */
        const int64_t kcp = pad_k(J->k, K2);
        for (int64_t g0 = 0; g0 < mc; g0 += MRg) {
            uint32_t * ag = (uint32_t *)A + g0 * kcp;
            for (int64_t i = 0; i < MRg; i++) {
                uint32_t * row = ag + i * kcp;
                if (g0 + i >= mc) {
                    memset(row, 0, sizeof(uint32_t) * (size_t)kcp);
                    continue;
                }
                const float * xr = J->x + (r0 + g0 + i) * J->ldx + k0;
                if (J->k->pack_pairs)
                    J->k->pack_pairs(xr, kl, row);
                else {
                    for (int64_t t = 0; t < kl / 2; t++)
                        row[t] = bf16_bits(xr[2 * t]) | bf16_bits(xr[2 * t + 1]) << 16;
                    if (kl % 2) row[K2 - 1] = bf16_bits(xr[kl - 1]);
                }
                memset(row + K2, 0, sizeof(uint32_t) * (size_t)(kcp - K2));
            }
        }
        return;
    }
    for (int64_t g0 = 0; g0 < mc; g0 += MRg) {
        const int64_t mr = VB_MIN((int64_t)MRg, mc - g0);
        if (!bf16 && J->k && J->k->pack) {
            J->k->pack(J->x + (r0 + g0) * J->ldx + k0, J->ldx, (int)mr, kl, (float *)A + g0 * kl);
            continue;
        }
        for (int64_t i = 0; i < mr; i++) {
            const float * xr = J->x + (r0 + g0 + i) * J->ldx + k0;
            if (!bf16) {
                float * ag = (float *)A + g0 * kl;
                for (int64_t k = 0; k < kl; k++)
                    ag[k * mr + i] = xr[k];
            } else {
                uint32_t * ag = (uint32_t *)A + g0 * K2;
                for (int64_t t = 0; t < kl / 2; t++)
                    ag[t * mr + i] = bf16_bits(xr[2 * t]) | bf16_bits(xr[2 * t + 1]) << 16;
                if (kl % 2) ag[(K2 - 1) * mr + i] = bf16_bits(xr[kl - 1]);
            }
        }
    }
}

/* The blocking of gemm_part for J (n, W, k, mr, k_block, a_block set) on nth threads: k blocks, activation rows per
** block, panels per chunk (at least UNITS_PER_THREAD chunks per thread in each (row block, k block) phase where the
** product allows: a thread the machine delays then leaves at most one chunk's work to wait for; at most MAX_CHUNKS)
** and the work units (row block, k block, chunk) taken from the shared counter. */
#define UNITS_PER_THREAD 4
/* f32 products of at most FEW_ROWS rows: chunks of at most B_BLOCK_FEW_ROWS bytes of panels.  Their units have few
** groups (128 rows: 11, 512: 43) to spread the next unit's prefetch over and to share the first group's stream
** from memory; a chunk of 192 KB (8 panels of 384 f32 k) beside the next one in L2 measured, against 768 KB chunks
** without the prefetches (2026-12-07, 2 threads, weights cold, in-process alternation, medians of 7 reps): 1.13-1.28x
** on 128 x 10240 x 2048, 1.02-1.13x at 512 rows, 1.04-1.10x on 128 x 2048 x 5120, 1.09-1.12x at 1024 rows; at the
** ViT-g's 2056 rows 0.92-1.00x, so those keep the set's b_block. */
#define FEW_ROWS         1024
#define B_BLOCK_FEW_ROWS ((size_t)192 << 10)
#define MAX_CHUNKS       1024
/* pauses a thread spins for another thread's work (a chunk's previous phase, a phase's packing) before it gives the
** core away on every check */
#define WAIT_SPINS 2000
/* Wait until *a >= v (acquire: what was stored before the release that reached v is visible).  The thread that
** brings it there may wait for this core (a shared or oversubscribed machine), hence the yield. */
static void wait_at_least(atomic_llong * a, int64_t v) {
    for (int spin = 0; atomic_load_explicit(a, memory_order_acquire) < v; spin++) {
        if (spin < WAIT_SPINS)
            vb_cpu_relax();
        else
            sched_yield();
    }
}

static void plan_gemm(struct gemm_job * J, int nth) {
    const struct vb_wk * ks = J->k;
    const int64_t        K = J->W->cols, n = J->n, MRg = J->mr;
    const int            bf16 = ks && ks->bf16;
    const int64_t        kbk = J->k_block;
    J->kb = kbk > 0 && kbk < K ? kbk : K;
    J->nkb = (K + J->kb - 1) / J->kb;
    J->kcb = pad_k(ks, bf16 ? (J->kb + 1) / 2 : J->kb); /* packed k units per block (f32 or bf16 pairs), 4 B */
    /* activation rows per packed block: a_block bytes of packed rows per k block (whole groups), at least one group */
    int64_t mcb = (int64_t)(J->a_block / (4 * (size_t)J->kcb)) / MRg * MRg;
    mcb = VB_MIN(VB_MAX(mcb, MRg), (n + MRg - 1) / MRg * MRg);
    /* balanced blocks (2056 rows: 4 x 516, not 3 x 672 + 40: a last block of a few rows would stream every chunk
    ** from memory for them) */
    const int64_t nblk = (n + mcb - 1) / mcb;
    J->mcb = ((n + nblk - 1) / nblk + MRg - 1) / MRg * MRg;
    /* panels per chunk: the set's b_block bytes of (converted) k-block panels, even (pairs for tile2), at least 2;
    ** one panel at a time where b_block is 0 (avx2, portable: the order of the loops before the chunks) */
    const size_t es = J->W->dt == VB_DT_F32 ? 4 : 2;
    /* bf16 sets read bf16 weights as they lie (the resident pair lines are their operand layout, engine/wmat.h)
    ** where every k block's pairs fill whole kc_align units (the amx set: 16 pairs; the real models' k); else, and
    ** for f32 / f16 weights, a chunk's panels are converted to pairs.  f32 sets convert half panels to f32 above
    ** HALF_IN_REGISTERS_MAX_N rows. */
    const int64_t kl_last = K - (J->nkb - 1) * J->kb;
    const int     direct = bf16 && J->W->dt == VB_DT_BF16 && pad_k(ks, (J->kb + 1) / 2) == (J->kb + 1) / 2 &&
                       pad_k(ks, (kl_last + 1) / 2) == (kl_last + 1) / 2;
    J->convert = bf16 ? !direct : J->W->dt != VB_DT_F32 && (n > HALF_IN_REGISTERS_MAX_N || !ks || !ks->half_regs);
    J->bcs = 4 * J->kcb * NR; /* bytes of one converted panel slice (f32 kl x 16, or bf16 pairs) */
    int64_t ncb = 1;
    if (ks && ks->b_block) {
        const size_t bb = !bf16 && n <= FEW_ROWS ? VB_MIN(ks->b_block, B_BLOCK_FEW_ROWS) : ks->b_block;
        ncb = (int64_t)(bb / (size_t)(J->convert || bf16 ? J->bcs : J->kcb * NR * (int64_t)es)) / 2 * 2;
        ncb = VB_MIN(VB_MAX(ncb, (int64_t)2), J->np);
        const int64_t want = UNITS_PER_THREAD * (int64_t)nth; /* chunks per phase */
        if ((J->np + ncb - 1) / ncb < want) ncb = VB_MAX((int64_t)2, ((J->np + want - 1) / want + 1) / 2 * 2);
    }
    ncb = VB_MAX(ncb, (J->np + MAX_CHUNKS - 1) / MAX_CHUNKS);
    J->ncb = ncb;
    J->nch = (J->np + ncb - 1) / ncb;
    J->units = nblk * J->nkb * J->nch;
}

/* Phase ph's activations (rows [ic, ic + mc), k [k0, k0 + kl)) into A, its block of J->Ash, with the other threads
** that enter the phase: groups of mr rows from pk_next[ph], each packed as pack_rows packs it in the whole block;
** returns once every group is packed (by whichever thread took it). */
static void pack_shared(struct gemm_job * J, int bf16, int64_t ph, int64_t ic, int64_t mc, int64_t k0, int64_t kl,
                        uint8_t * A) {
    const int64_t MRg = J->mr, groups = (mc + MRg - 1) / MRg;
    const int64_t kc = pad_k(J->k, bf16 ? (kl + 1) / 2 : kl); /* 4-byte units per row of a group */
    for (int64_t g; (g = atomic_fetch_add_explicit(&J->pk_next[ph], 1, memory_order_relaxed)) < groups;) {
        pack_rows(J, bf16, ic + g * MRg, VB_MIN(MRg, mc - g * MRg), k0, kl, A + 4 * (size_t)(g * MRg * kc));
        atomic_fetch_add_explicit(&J->pk_done[ph], 1, memory_order_release);
    }
    wait_at_least(&J->pk_done[ph], groups);
}

/* pool task: work units (row block, k block, chunk of panels) from the shared counter in that order.  A thread packs
** the (row block, k block) activations when its unit is the first it takes of that pair (the block stays in L2 for the
** chunks it takes after), and runs a chunk's k block only once the chunk's previous k block is done (progress: that
** unit was taken earlier, so the wait is short and always ends); every output is the same chain of tile calls in k
** order as with any other split. */
static void gemm_part(void * ctx, int ith, int nth) {
    (void)ith, (void)nth;
    struct gemm_job *      J = ctx;
    const struct vb_wmat * W = J->W;
    const struct vb_wk *   ks = J->k;
    const int64_t          K = W->cols, n = J->n, np = J->np, MRg = J->mr, KB = J->kb, mcb = J->mcb;
    const size_t           es = W->dt == VB_DT_F32 ? 4 : 2;
    const int              bf16 = ks && ks->bf16;
    void *                 A = NULL; /* the block's packed activations: mcb x kcb 4-byte units */
    /* the chunk's panels converted (ncb slices of bcs bytes), read by every group */
    void *        Bc = NULL;
    const int64_t pstride = panel_stride(W);               /* bytes from a weight panel to the next in W */
    const int64_t bstride = J->convert ? J->bcs : pstride; /* bytes from panel p to panel p + 1 as read */
    int64_t       packed = -1;                             /* the (row block, k block) in A */
    /* with a two-panel tile (the sets that prefetch, below) the unit this thread takes next is taken from the counter
    ** when it starts this one, so that this unit's tiles can prefetch its weights; the other sets (avx2, portable)
    ** take it when they finish this one, as a thread the host delays then holds no unit it has not started */
    const int ahead = ks && ks->tile2;
    int64_t   u = atomic_fetch_add_explicit(&J->next, 1, memory_order_relaxed);
    while (u < J->units) {
        const int64_t un = ahead ? atomic_fetch_add_explicit(&J->next, 1, memory_order_relaxed) : J->units;
        const int64_t ph = u / J->nch, ch = u % J->nch; /* phase: row block ph / nkb, k block ph % nkb */
        const int64_t ic = ph / J->nkb * mcb, mc = VB_MIN(mcb, n - ic), k0 = ph % J->nkb * KB;
        const int64_t pc = ch * J->ncb, pe = VB_MIN(np, pc + J->ncb);
        const int64_t kl = VB_MIN(KB, K - k0), kc = pad_k(ks, bf16 ? (kl + 1) / 2 : kl);
        /* The next unit's weight slices (its chunk's panels over its k block, in W) are prefetched into L2 by the
        ** two-panel tiles of this unit's groups after the first, spread evenly over them: the first group of a unit
        ** reads its chunk from memory at the rate one core streams (~14 GB/s here), about half the rate its FMAs
        ** consume it, so with few groups (128 rows: 11) that group was a tenth of the product.  pf: the slice being
        ** prefetched (panel pfi of pfn, line pfl of pfs), per: lines per tile call. */
        const char *  pfw = NULL;
        int64_t       pfn = 0, pfs = 0, pfi = 0, pfl = 0, per = 0;
        const int64_t groups = (mc + MRg - 1) / MRg;
        if (ahead && un < J->units && groups > 1) {
            const int64_t phn = un / J->nch, chn = un % J->nch, k0n = phn % J->nkb * KB;
            const int64_t pcn = chn * J->ncb;
            pfw = (const char *)panel_slice(W, pcn, k0n);
            pfn = VB_MIN(np, pcn + J->ncb) - pcn;
            pfs = (VB_MIN(KB, K - k0n) * NR * (int64_t)es + 63) / 64;
            const int64_t calls = (groups - 1) * ((pe - pc) / 2);
            per = calls > 0 ? VB_MIN((pfn * pfs + calls - 1) / calls + 1, kc) : 0;
        }
        if (!A) {
            A = J->Ash ? (void *)J->Ash : vb_pool_scratch(VB_SCRATCH_GEMM_A, 4 * (size_t)(mcb * J->kcb));
            if (J->convert) Bc = vb_pool_scratch(VB_SCRATCH_GEMM_B, (size_t)(J->ncb * J->bcs));
        }
        if (packed != ph) {
            if (J->Ash) {
                A = J->Ash + (size_t)ph * J->ph_bytes;
                pack_shared(J, bf16, ph, ic, mc, k0, kl, A);
            } else
                pack_rows(J, bf16, ic, mc, k0, kl, A);
            packed = ph;
        }
        const int       load = J->load || k0 > 0; /* later k blocks continue the same accumulation */
        const float *   bias = k0 + kl == K ? J->b : NULL;
        const int32_t   bdt = Bc ? (bf16 ? VB_DT_BF16 : VB_DT_F32) : W->dt;
        const uint8_t * b0 = panel_slice(W, pc, k0);
        if (Bc) {
            for (int64_t p = pc; p < pe; p++) {
                const void * src = panel_slice(W, p, k0);
                void *       dst = (uint8_t *)Bc + (p - pc) * J->bcs;
                if (ks)
                    ks->panel(W->dt, src, kl, dst);
                else
                    panel_to_f32_scalar(W->dt, src, kl, dst);
            }
            b0 = Bc;
        }
        /* the chunk's previous phase must be done (its previous k block: this one accumulates onto it; phases of a
        ** chunk complete in order, so progress only grows) */
        wait_at_least(&J->progress[ch], ph);
        for (int64_t g0 = 0; g0 < mc; g0 += MRg) {
            const int    mr = (int)VB_MIN(MRg, mc - g0);
            const void * ag = (const uint8_t *)A + 4 * (size_t)(g0 * kc);
            float *      yg = J->y + (ic + g0) * J->ldy;
            for (int64_t p = pc; p < pe;) {
                const void *  bp = b0 + (p - pc) * bstride;
                const int64_t col0 = p * NR - W->row0;
                /* two panels at once where the set has a two-panel tile and both are whole */
                const int two = ks && ks->tile2 && p + 1 < pe && col0 >= 0 && col0 + 2 * NR <= W->rows;
                if (two) {
                    /* this call's share of the next unit's lines, within one panel's slice */
                    const int64_t npf = g0 > 0 && pfi < pfn ? VB_MIN(per, pfs - pfl) : 0;
                    ks->tile2(mr, bdt, kc, ag, bp, bstride, yg + col0, J->ldy, load, bias ? bias + col0 : NULL,
                              npf ? pfw + pfi * pstride + 64 * pfl : NULL, npf);
                    if ((pfl += npf) == pfs) pfi++, pfl = 0;
                } else
                    tile(ks, mr, bdt, kc, ag, bp, yg, J->ldy, col0, W->rows, load, bias);
                p += 1 + two;
            }
        }
        atomic_store_explicit(&J->progress[ch], ph + 1, memory_order_release);
        u = ahead ? un : atomic_fetch_add_explicit(&J->next, 1, memory_order_relaxed);
    }
}

/* ---------------------------------------------------------------- GEMV-like products (n <= 24, f32 kernel sets)
**
** Memory-bound (decode steps, SeViLA's 8-sequence chunks): every panel is read once from memory, so the loop is
** organised for streaming, not for cache reuse.  Each thread packs all n rows over the whole k range (n = 1: x
** itself is the [K][1] group), then takes chunks of cp neighbouring panels from a shared counter until none are
** left, and runs every group over each panel of its chunk with the whole k range in one tile call: a panel is one
** contiguous stream of K x 16 weights (the k blocks of gemm_part would read it in 384-row pieces, one matrix sweep
** per block), and a thread the machine delays does fewer chunks instead of holding up the product (the static
** halves of gemm_part wait for the slower thread).  Every output is computed by the same tile function over the
** same k range as in gemm_part (k blocks reload a C tile exactly), so the bits are the same whichever thread takes
** which chunk. */
static void gemv_part(void * ctx, int ith, int nth) {
    (void)ith, (void)nth;
    struct gemm_job *      J = ctx;
    const struct vb_wmat * W = J->W;
    const struct vb_wk *   ks = J->k;
    const int64_t          K = W->cols, n = J->n, np = J->np, MRg = J->mr, cp = J->cp;
    const int64_t          pstride = panel_stride(W); /* bytes from panel p to panel p + 1 */
    const float *          A = J->x;
    if (n > 1 || J->ldx != K) {
        float * Ap = vb_pool_scratch(VB_SCRATCH_GEMM_A, 4 * (size_t)(((n + MRg - 1) / MRg * MRg) * K));
        pack_rows(J, 0, 0, n, 0, K, Ap);
        A = Ap;
    }
    const int64_t nch = (np + cp - 1) / cp;
    for (int64_t ch; (ch = atomic_fetch_add_explicit(&J->next, 1, memory_order_relaxed)) < nch;) {
        const int64_t pc = ch * cp, pe = VB_MIN(np, pc + cp);
        for (int64_t g0 = 0; g0 < n; g0 += MRg) {
            const int     mr = (int)VB_MIN(MRg, n - g0);
            const float * ag = A + g0 * K;
            float *       yg = J->y + g0 * J->ldy;
            for (int64_t p = pc; p < pe;) {
                const uint8_t * bp = (const uint8_t *)W->data + (size_t)(p * pstride);
                const int64_t   col0 = p * NR - W->row0;
                /* one row: four whole panels at once where the set has the four-panel tile */
                if (mr == 1 && J->four && ks->tile4 && p + 3 < pe && col0 >= 0 && col0 + 4 * NR <= W->rows) {
                    ks->tile4(W->dt, K, ag, bp, pstride, yg + col0, J->load, J->b ? J->b + col0 : NULL);
                    p += 4;
                    continue;
                }
                const int two = ks->tile2 && p + 1 < pe && col0 >= 0 && col0 + 2 * NR <= W->rows;
                if (two)
                    ks->tile2(mr, W->dt, K, ag, bp, pstride, yg + col0, J->ldy, J->load, J->b ? J->b + col0 : NULL,
                              NULL, 0);
                else
                    tile(ks, mr, W->dt, K, ag, bp, yg, J->ldy, col0, W->rows, J->load, J->b);
                p += 1 + two;
            }
        }
    }
}

/* Panels per chunk of gemv_part: about GEMV_CHUNK bytes of weights (the groups of n > 12 rows re-read a chunk from
** L2), a multiple of 4 (whole four- and two-panel tiles), at least 4, and at most np / (8 nth) where that allows. */
#define GEMV_CHUNK ((int64_t)512 << 10)
static int64_t gemv_chunk(int64_t np, const struct vb_wmat * W, int nth) {
    int64_t cp = GEMV_CHUNK / panel_stride(W);
    cp = VB_MIN(cp, np / (8 * (int64_t)nth));
    cp = cp / 4 * 4;
    return VB_MAX(cp, (int64_t)4);
}

/* ---------------------------------------------------------------- Linear */

/* VB_WMAT_AMX_BLOCKS=old: the amx set runs with the blocking of before 2026-12-07 (k blocks of 512, 4 MiB
** activation blocks): the same tdpbf16ps per output in the same k order, stored and reloaded between k blocks, so
** the same bits (tests/test_wmat_kernels.c compares them; measurement).  Read on every call. */
#define AMX_OLD_K_BLOCK 512
#define AMX_OLD_A_BLOCK ((size_t)4 << 20)

/* Shared packing (vb_wmat_linear_ex): at most this many phases and bytes of packed activations.  VB_WMAT_PACK=thread:
** every thread packs each phase's block itself, as before (measurement, tests; read on every call). */
#define SHARED_PACK_PHASES 256
#define SHARED_PACK_MAX    ((size_t)64 << 20)

/* VB_WMAT_GEMV=blocked: products of <= 24 rows take gemm_part's blocked loop as before; VB_WMAT_GEMV=tile2: their
** single rows use the two-panel tile instead of the four-panel one (measurement, tests; read on every such call, so
** a test can compare them in one process). */

/* 1 if environment variable var is set to v (the switches above, read on every call) */
static int env_is(const char * var, const char * v) {
    const char * e = getenv(var);
    return e && strcmp(e, v) == 0;
}

void vb_wmat_linear_ex(const float * x, int64_t ldx, int64_t n, const struct vb_wmat * W, const float * b, float * y,
                       int64_t ldy, float beta) {
    if (n <= 0 || W->rows <= 0) return;
    VB_ASSERT(beta == 0.0f || beta == 1.0f);
    VB_ASSERT(W->dt == VB_DT_F32 || W->dt == VB_DT_BF16 || W->dt == VB_DT_F16);
    const int64_t        np = (W->row0 + W->rows + NR - 1) / NR;
    const struct vb_wk * ks = kernel_set(choose_n(n));
    struct gemm_job      J = {.x = x,
                              .b = b,
                              .W = W,
                              .y = y,
                              .ldx = ldx,
                              .n = n,
                              .ldy = ldy,
                              .np = np,
                              .load = beta != 0.0f,
                              .k = ks,
                              .mr = ks ? ks->mr : MR_PORTABLE,
                              .k_block = ks ? ks->k_block : 0,
                              .a_block = ks ? ks->a_block : A_BLOCK_PORTABLE};
    if (ks == &vb_wk_amx && env_is("VB_WMAT_AMX_BLOCKS", "old"))
        J.k_block = AMX_OLD_K_BLOCK, J.a_block = AMX_OLD_A_BLOCK;
    int nth = n * W->rows * W->cols < PAR_MIN ? 1 : (int)VB_MIN((int64_t)vb_pool_threads(), np);
    /* f32 kernel sets that convert half panels in registers at this n: the streaming GEMV loop */
    if (ks && !ks->bf16 && ks->half_regs && n <= HALF_IN_REGISTERS_MAX_N && !env_is("VB_WMAT_GEMV", "blocked")) {
        J.cp = gemv_chunk(np, W, nth);
        J.four = !env_is("VB_WMAT_GEMV", "tile2");
        atomic_init(&J.next, 0);
        vb_pool_run_dynamic(nth, gemv_part, &J);
        return;
    }
    atomic_llong progress[MAX_CHUNKS];
    plan_gemm(&J, nth);
    for (int64_t c = 0; c < J.nch; c++)
        atomic_init(&progress[c], 0);
    J.progress = progress;
    /* amx with several threads: the activations are packed once, shared, where the phases' blocks fit
    ** SHARED_PACK_MAX bytes of the caller's scratch.  Each thread packing every phase's whole block itself cost it
    ** 3.5 % of a bf16-compute ViT-g profile beside tile2_amx's 21 %; shared, the products ran 1.03-1.12x (2026-12-07,
    ** 2 threads, in-process alternation: 2056 x {6144, 4224, 1408} x {1408, 6144}, 512 and 128 x 10240 x 2048).
    ** For the f32 sets (avx512), whose packing is cheap beside their products, it measured 0.978-1.005x (the wait
    ** for the other thread's groups at each of their many k-block phases), so they keep packing per thread. */
    const int64_t phases = J.units / J.nch;
    atomic_llong  pk[2 * SHARED_PACK_PHASES];
    J.ph_bytes = 4 * (size_t)(J.mcb * J.kcb);
    if (nth > 1 && ks && ks->a_rows && phases <= SHARED_PACK_PHASES && (size_t)phases * J.ph_bytes <= SHARED_PACK_MAX &&
        !env_is("VB_WMAT_PACK", "thread")) {
        J.Ash = vb_pool_scratch(VB_SCRATCH_GEMM_SHARED, (size_t)phases * J.ph_bytes);
        for (int64_t i = 0; i < 2 * phases; i++)
            atomic_init(&pk[i], 0);
        J.pk_next = pk;
        J.pk_done = pk + phases;
    }
    atomic_init(&J.next, 0);
    vb_pool_run_dynamic(nth, gemm_part, &J);
}

void vb_wmat_linear(const float * x, int64_t n, const struct vb_wmat * W, const float * b, float * y) {
    vb_wmat_linear_ex(x, W->cols, n, W, b, y, W->rows, 0.0f);
}
