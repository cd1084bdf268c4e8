/* wmat_amx.c — the AMX-BF16 micro-kernel of the packed GEMM (bf16 compute on CPUs with AMX tiles): 32 x 16 tiles,
** two 16 x 16 f32 accumulator tiles fed by two activation tiles (16 rows x 16 bf16 pairs) and one weight tile (16
** pairs x 16 columns, the bf16 pair panel of engine/wmat_kern.h as it is), one tdpbf16ps each per 32 values of k.
** Activation groups are packed row-major ([32][kcp] pairs, rows past the group's zero) and kc is padded with zero
** pairs to a multiple of 16 (kc_align), so every tile load is whole. */
#include "engine/wmat_kern.h"

#include "engine/cpu.h"
#include "engine/weights.h"

#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>

#include "engine/wmat_zmm.h"
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MR 32
#define NR 16
/* packed activation bytes per block: the chunk order (engine/wmat_gemm.c) reads a group from L2 and the block once
** per chunk, so it need not fit L2; a larger block converts each weight panel fewer times (measured, one thread,
** 2056 x 6144 x 1408, K_BLOCK 512: 625-650 GFLOP/s with 1 MiB, 677-705 with 4 MiB, 666-694 with 16 MiB; K_BLOCK
** 2048, 2026-12-07, same-rep ratios: 16 MiB 1.03-1.10x 4 MiB, which splits 2056 rows of 1408 k into two blocks) */
#ifndef A_BLOCK
#define A_BLOCK ((size_t)16 << 20)
#endif
/* bytes of weight panels per chunk: in L2 while every activation group runs over them (engine/wmat_gemm.c) */
#ifndef B_BLOCK
#define B_BLOCK ((size_t)768 << 10)
#endif
/* k per block: the whole k range of the ViT-g (1408) and T5-XL (2048) products, so a C tile stays in the tile
** registers over all of k instead of being stored and reloaded (from memory: the C of a block is tens of MB) once
** per 512 k (2026-12-07, one thread, same-rep ratios to 512: 1.03-1.23x on 2056 x 6144 x 1408, 2056 x 1408 x 1408,
** 3200 x 2048 x 2048, 3200 x 10240 x 2048; 1.01-1.04x on 2056 x 1408 x 6144 (three blocks); the whole k range
** (6144 in one block) was 0.8-0.9x there: a group's rows of k no longer stay in L2 while the chunk runs) */
#ifndef K_BLOCK
#define K_BLOCK 2048
#endif
#define VB_AMX_T "amx-tile,amx-bf16,avx512f,avx512bw,avx512vl,avx512dq,avx512bf16"
#define VB_AMX   __attribute__((target(VB_AMX_T)))

/* the tile configuration: palette 1, tiles 0-7 of 16 rows x 64 bytes (tile: C0, C1, A0, A1, B; tile2: C00, C01,
** C10, C11, A0, A1, B0, B1; the attention's kernel, engine/attn_amx.c, uses the same) */
struct tilecfg {
    uint8_t  palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t  rows[16];
};

static __thread int configured;

static VB_AMX void configure(void) {
    struct tilecfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    for (int t = 0; t < 8; t++)
        cfg.colsb[t] = 64, cfg.rows[t] = 16;
    __asm__ volatile("" ::: "memory");
    _tile_loadconfig(&cfg);
    configured = 1;
}

void vb_wk_amx_tiles(void) {
    if (!configured) configure();
}

/* c (mr rows, ldc apart, 16 columns) (+)= a (32 rows of kc pairs, row-major, kc a multiple of 16) . b (kc x 16
** pairs) (+ bias) */
static VB_AMX void tile_amx(int mr, int32_t bdt, int64_t kc, const void * a, const void * b, float * c, int64_t ldc,
                            int load, const float * bias) {
    (void)bdt;
    vb_wk_amx_tiles();
    float       T[MR * NR]; /* rows the caller's c does not have, and any partial half */
    const int   two = mr > 16;
    float *     c0 = mr >= 16 ? c : T;
    int64_t     l0 = mr >= 16 ? ldc : NR;
    float *     c1 = mr == 32 ? c + 16 * ldc : T + 16 * NR;
    int64_t     l1 = mr == 32 ? ldc : NR;
    const long  sa = (long)(kc * 4), sc0 = (long)(l0 * 4), sc1 = (long)(l1 * 4);
    const char *A0 = a, *A1 = (const char *)a + 16 * sa, *B = b;
    if (load) {
        if (c0 == T)
            for (int i = 0; i < mr; i++)
                memcpy(T + i * NR, c + i * ldc, sizeof(float) * NR);
        if (two && c1 != c + 16 * ldc)
            for (int i = 16; i < mr; i++)
                memcpy(T + i * NR, c + i * ldc, sizeof(float) * NR);
        __asm__ volatile("" ::: "memory");
        _tile_loadd(0, c0, sc0);
        if (two) _tile_loadd(1, c1, sc1);
    } else {
        _tile_zero(0);
        _tile_zero(1);
    }
    for (int64_t t = 0; t < kc; t += 16) {
        _tile_loadd(4, B + t * 64, 64);
        _tile_loadd(2, A0 + t * 4, sa);
        _tile_dpbf16ps(0, 2, 4);
        if (two) {
            _tile_loadd(3, A1 + t * 4, sa);
            _tile_dpbf16ps(1, 3, 4);
        }
    }
    _tile_stored(0, c0, sc0);
    if (two) _tile_stored(1, c1, sc1);
    __asm__ volatile("" ::: "memory");
    for (int i = 0; i < mr; i++) {
        float * row = i < 16 ? c0 + i * l0 : c1 + (i - 16) * l1;
        if (bias) _mm512_storeu_ps(row, _mm512_add_ps(_mm512_loadu_ps(row), _mm512_loadu_ps(bias)));
        if (row != c + i * ldc) memcpy(c + i * ldc, row, sizeof(float) * NR);
    }
}

/* c (mr rows, ldc apart, 32 columns) (+)= a (as tile_amx) . [b | b + bstride bytes] (+ bias (32)): four 16 x 16
** accumulator tiles, two activation tiles and two weight tiles, four tdpbf16ps per four tile loads (tile_amx: two
** per three).  Each output is the same sum as tile_amx's.  Each k step loads a tile right before its first product
** (A0, B0 -> C00; B1 -> C01; A1 -> C10, C11), and the first 16 steps prefetch the 32 x 32 C tile 32 columns to the
** right (the next call's, engine/wmat_gemm.c walks the panels of a chunk left to right) into L1, two rows per step:
** its rows lie a whole output row apart, which the hardware prefetchers do not follow (measured 2026-12-07, one
** thread, same-rep ratios: the prefetch 1.02-1.05x, the load order 0.99-1.07x; software prefetches of the next k
** step's A and B lines 0.86-0.93x, not kept). */
static VB_AMX void tile2_amx(int mr, int32_t bdt, int64_t kc, const void * a, const void * b, int64_t bstride,
                             float * c, int64_t ldc, int load, const float * bias, const void * pf, int64_t npf) {
    (void)bdt;
    vb_wk_amx_tiles();
    float       T[MR * 2 * NR]; /* the 32 x 32 tile when the caller's c has fewer rows */
    const int   direct = mr == MR;
    float *     cc = direct ? c : T;
    int64_t     lc = direct ? ldc : 2 * NR;
    const long  sa = (long)(kc * 4), scc = (long)(lc * 4);
    const char *A0 = a, *A1 = (const char *)a + 16 * sa, *B0 = b, *B1 = (const char *)b + bstride;
    if (load) {
        if (!direct)
            for (int i = 0; i < mr; i++)
                memcpy(T + i * 2 * NR, c + i * ldc, sizeof(float) * 2 * NR);
        __asm__ volatile("" ::: "memory");
        _tile_loadd(0, cc, scc);
        _tile_loadd(1, cc + NR, scc);
        _tile_loadd(2, cc + 16 * lc, scc);
        _tile_loadd(3, cc + 16 * lc + NR, scc);
    } else {
        _tile_zero(0);
        _tile_zero(1);
        _tile_zero(2);
        _tile_zero(3);
    }
    const char *  nc = (const char *)(c + 2 * NR); /* the next call's C tile (a prefetch never faults) */
    const long    lb = (long)(ldc * 4);
    const char *  pl = pf; /* lines of the next unit's weights: */
    const int64_t steps = kc / 16, per = npf > 0 ? (npf + steps - 1) / steps : 0; /* per k step */
    for (int64_t t = 0; t < kc; t += 16) {
        if (t < 16 * 16) {
            const char * r = nc + (t / 8) * lb; /* rows 2s and 2s + 1 at step s */
            _mm_prefetch(r, _MM_HINT_T0);
            _mm_prefetch(r + 64, _MM_HINT_T0);
            _mm_prefetch(r + lb, _MM_HINT_T0);
            _mm_prefetch(r + lb + 64, _MM_HINT_T0);
        }
        for (int64_t q = 0; q < per && npf > 0; q++, npf--, pl += 64)
            _mm_prefetch(pl, _MM_HINT_T1);
        _tile_loadd(4, A0 + t * 4, sa);
        _tile_loadd(6, B0 + t * 64, 64);
        _tile_dpbf16ps(0, 4, 6);
        _tile_loadd(7, B1 + t * 64, 64);
        _tile_dpbf16ps(1, 4, 7);
        _tile_loadd(5, A1 + t * 4, sa);
        _tile_dpbf16ps(2, 5, 6);
        _tile_dpbf16ps(3, 5, 7);
    }
    _tile_stored(0, cc, scc);
    _tile_stored(1, cc + NR, scc);
    _tile_stored(2, cc + 16 * lc, scc);
    _tile_stored(3, cc + 16 * lc + NR, scc);
    __asm__ volatile("" ::: "memory");
    for (int i = 0; i < mr; i++) {
        float * row = cc + i * lc;
        if (bias) {
            _mm512_storeu_ps(row, _mm512_add_ps(_mm512_loadu_ps(row), _mm512_loadu_ps(bias)));
            _mm512_storeu_ps(row + NR, _mm512_add_ps(_mm512_loadu_ps(row + NR), _mm512_loadu_ps(bias + NR)));
        }
        if (!direct) memcpy(c + i * ldc, row, sizeof(float) * 2 * NR);
    }
}

/* kl floats -> bf16 pairs, 16 values per step with vb_zmm_bf16_rne (engine/wmat_zmm.h: the integer rounding of
** vb_f32_to_bf16), so the bits are those of the scalar loop */
static VB_AMX void pack_pairs_amx(const float * x, int64_t kl, uint32_t * dst) {
    uint16_t * d = (uint16_t *)dst;
    int64_t    k = 0;
    for (; k + 16 <= kl; k += 16)
        _mm256_storeu_si256((__m256i *)(d + k), _mm512_cvtepi32_epi16(vb_zmm_bf16_rne(_mm512_loadu_ps(x + k))));
    for (; k < kl; k++) {
        uint32_t u;
        memcpy(&u, x + k, 4);
        d[k] = (u & 0x7fffffffu) > 0x7f800000u ? (uint16_t)((u >> 16) | 0x40)
                                               : (uint16_t)((u + 0x7fffu + ((u >> 16) & 1)) >> 16);
    }
    if (kl % 2) d[kl] = 0;
}

/* the bf16 pair panel (vb_wk_avx512bf16.panel), then zero pairs up to a multiple of 16 */
static void panel_amx(int32_t dt, const void * p, int64_t K, void * dst) {
    vb_wk_avx512bf16.panel(dt, p, K, dst);
    int64_t kc = (K + 1) / 2, kcp = (kc + 15) / 16 * 16;
    memset((uint32_t *)dst + kc * NR, 0, sizeof(uint32_t) * (size_t)((kcp - kc) * NR));
}

static int amx_ok;

static void amx_init(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return;
    int tile = (d >> 24) & 1, bf16 = (d >> 22) & 1;
    if (!tile || !bf16 || !vb_wk_cpu_avx512bf16() || !vb_cpu_allowed(VB_CPU_AMX)) return;
    /* Linux: ask for the tile data state once for the process (ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) */
    amx_ok = syscall(SYS_arch_prctl, 0x1023, 18) == 0;
}

int vb_wk_cpu_amx(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, amx_init);
    return amx_ok;
}

const struct vb_wk vb_wk_amx = {.name = "amx",
                                .mr = MR,
                                .bf16 = 1,
                                .a_block = A_BLOCK,
                                .k_block = K_BLOCK,
                                .b_block = B_BLOCK,
                                .tile = tile_amx,
                                .panel = panel_amx,
                                .a_rows = 1,
                                .kc_align = 16,
                                .tile2 = tile2_amx,
                                .pack_pairs = pack_pairs_amx};
#else
const struct vb_wk vb_wk_amx = {
    .name = "amx", .mr = 32, .bf16 = 1, .a_block = (size_t)16 << 20, .a_rows = 1, .kc_align = 16};
int vb_wk_cpu_amx(void) {
    return 0;
}
void vb_wk_amx_tiles(void) {}
#endif
