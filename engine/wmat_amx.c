/* wmat_amx.c — the AMX-BF16 micro-kernel of the packed GEMM (bf16 compute on CPUs with AMX tiles): 32 x 16 tiles,
** two 16 x 16 f32 accumulator tiles fed by two activation tiles (16 rows x 16 bf16 pairs) and one weight tile (16
** pairs x 16 columns, the bf16 pair panel of engine/wmat_kern.h as it is), one tdpbf16ps each per 32 values of k.
** Activation groups are packed row-major ([32][kcp] pairs, rows past the group's zero) and kc is padded with zero
** pairs to a multiple of 16 (kc_align), so every tile load is whole. */
#include "engine/wmat_kern.h"

#include "engine/weights.h"

#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MR 32
#define NR 16
#ifndef A_BLOCK
#define A_BLOCK ((size_t)1 << 20)
#endif
#ifndef K_BLOCK
#define K_BLOCK 512
#endif
#define VB_AMX_T "amx-tile,amx-bf16,avx512f,avx512bw,avx512vl,avx512dq,avx512bf16"
#define VB_AMX   __attribute__((target(VB_AMX_T)))

/* the tile configuration: palette 1, tiles 0-4 of 16 rows x 64 bytes (C0, C1, A0, A1, B) */
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
    for (int t = 0; t < 5; t++)
        cfg.colsb[t] = 64, cfg.rows[t] = 16;
    __asm__ volatile("" ::: "memory");
    _tile_loadconfig(&cfg);
    configured = 1;
}

/* c (mr rows, ldc apart, 16 columns) (+)= a (32 rows of kc pairs, row-major, kc a multiple of 16) . b (kc x 16
** pairs) (+ bias) */
static VB_AMX void tile_amx(int mr, int32_t bdt, int64_t kc, const void * a, const void * b, float * c, int64_t ldc,
                            int load, const float * bias) {
    (void)bdt;
    if (!configured) configure();
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
    if (!tile || !bf16 || !vb_wk_cpu_avx512bf16()) return;
    /* Linux: ask for the tile data state once for the process (ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) */
    amx_ok = syscall(SYS_arch_prctl, 0x1023, 18) == 0;
}

int vb_wk_cpu_amx(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, amx_init);
    return amx_ok;
}

const struct vb_wk vb_wk_amx = {"amx", MR, 1, 0, A_BLOCK, K_BLOCK, tile_amx, panel_amx, 1, 16, NULL, NULL};
#else
const struct vb_wk vb_wk_amx = {"amx", 32, 1, 0, (size_t)1 << 20, 0, NULL, NULL, 1, 16, NULL, NULL};
int                vb_wk_cpu_amx(void) {
                   return 0;
}
#endif
