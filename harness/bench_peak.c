/* bench_peak.c — clock, FMA throughput, theoretical peak and copy bandwidth of this machine (see bench_peak.h). */
#include "harness/bench_peak.h"

#include "base/common.h"
#include "engine/cpu.h"
#include "engine/pool.h"
#include "engine/wmat.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* best time of `trials` calls of fn(iters) */
static double best_of(void (*fn)(uint64_t), uint64_t iters, int trials) {
    double best = 1e30;
    fn(iters / 4); /* warm-up: the core leaves its low-power state */
    for (int t = 0; t < trials; t++) {
        double t0 = now_s();
        fn(iters);
        double dt = now_s() - t0;
        if (dt < best) best = dt;
    }
    return best;
}

/* vb_peak_measure: rounds of vb_peak_refine; trials per measurement in a round (the AMX products: half) */
#define PEAK_ROUNDS 5
#define PEAK_TRIALS 40

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/* The rate loops below measure the hardware, so they are compiled the same in every build: optimised (their
** accumulators unrolled into registers; at -O1 they stayed in memory) and not instrumented by the sanitizers (an
** ASan build at -O1 measured 0.04 FMAs per cycle, a peak below the uninstrumented OpenBLAS sgemm). */
#define PEAK_LOOP __attribute__((optimize("O2"), no_sanitize("address", "undefined")))

/* iters x 64 dependent register-register adds: 64 cycles per iteration (the loop counter runs beside the chain; an
** add of an immediate is not used: Golden Cove and later fold chains of those at rename, 4-5 per cycle) */
PEAK_LOOP static void add_chain(uint64_t iters) {
    uint64_t x = 0, y = 1;
    __asm__ volatile("" : "+r"(y));
    for (uint64_t i = 0; i < iters; i++)
        __asm__ volatile(".rept 64\n\taddq %1, %0\n\t.endr" : "+r"(x) : "r"(y));
}

/* iters x N independent FMAs on N accumulators, all in registers: N = 16 of the 32 zmm registers; N = 12 of the 16
** ymm registers (16 accumulators and the two constants spilled four of them to the stack, whose store-to-load
** chains halved the measured rate on the Sapphire Rapids VM: 1 FMA per cycle, a peak below OpenBLAS's Haswell
** sgemm).  12 independent chains cover 2 FMA units x a latency of up to 6 cycles. */
#define FMA512_N 16
#define FMA256_N 12
#define FMA_BODY(T, N, SET1, FMA, BARRIER)                                                                             \
    T acc[N];                                                                                                          \
    _Pragma("GCC unroll 16") for (int j = 0; j < N; j++) acc[j] = SET1(1.0f + (float)j);                               \
    const T m = SET1(0.999999f), a = SET1(1e-7f);                                                                      \
    for (uint64_t i = 0; i < iters; i++) {                                                                             \
        _Pragma("GCC unroll 16") for (int j = 0; j < N; j++) acc[j] = FMA(acc[j], m, a);                               \
        _Pragma("GCC unroll 16") for (int j = 0; j < N; j++) __asm__ volatile("" : "+" BARRIER(acc[j]));               \
    }

/* iters x FMA512_N independent 512-bit FMAs, iters x FMA256_N 256-bit ones */
PEAK_LOOP __attribute__((target("avx512f"))) static void fma512(uint64_t iters) {
    FMA_BODY(__m512, FMA512_N, _mm512_set1_ps, _mm512_fmadd_ps, "v");
}
PEAK_LOOP __attribute__((target("avx2,fma"))) static void fma256(uint64_t iters) {
    FMA_BODY(__m256, FMA256_N, _mm256_set1_ps, _mm256_fmadd_ps, "x");
}
/* iters x 16 independent vdpbf16ps */
PEAK_LOOP __attribute__((target("avx512f,avx512bf16"))) static void dp512(uint64_t iters) {
    __m512         acc[16];
    const __m512bh b = (__m512bh)_mm512_set1_epi32(0x3f803f80), c = (__m512bh)_mm512_set1_epi32(0x33d633d6);
#pragma GCC unroll 16
    for (int j = 0; j < 16; j++)
        acc[j] = _mm512_set1_ps((float)j);
    for (uint64_t i = 0; i < iters; i++) {
#pragma GCC unroll 16
        for (int j = 0; j < 16; j++)
            acc[j] = _mm512_dpbf16_ps(acc[j], b, c);
#pragma GCC unroll 16
        for (int j = 0; j < 16; j++)
            __asm__ volatile("" : "+v"(acc[j]));
    }
}

/* iters x 4 independent tdpbf16ps (16 x 16 f32 += 16 x 32 bf16 . 32 x 16 bf16: 8192 multiply-adds each) on
** tiles configured here, 16 rows x 64 bytes each (the caller made sure the process may use them) */
struct tilecfg {
    uint8_t  palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t  rows[16];
};
PEAK_LOOP __attribute__((target("amx-tile,amx-bf16"))) static void amx_dp(uint64_t iters) {
    struct tilecfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    for (int t = 0; t < 6; t++)
        cfg.colsb[t] = 64, cfg.rows[t] = 16;
    __asm__ volatile("" ::: "memory");
    _tile_loadconfig(&cfg);
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    _tile_zero(4);
    _tile_zero(5);
    for (uint64_t i = 0; i < iters; i++) {
        _tile_dpbf16ps(0, 4, 5);
        _tile_dpbf16ps(1, 4, 5);
        _tile_dpbf16ps(2, 4, 5);
        _tile_dpbf16ps(3, 4, 5);
    }
    /* no tilerelease: the engine's amx kernel (engine/wmat_amx.c) keeps its configuration per thread and uses tiles
    ** 0-4 of the same 16 x 64-byte geometry */
}

/* the peak's figures from the highest rates measured so far (p->hz, p->fma_rate, p->dp_rate, p->amx_rate) */
static void peak_derive(struct vb_peak * p) {
    const double hz = p->hz;
    p->ghz = hz / 1e9;
    p->fma_units = p->lanes && hz > 0 ? p->fma_rate / hz : 0.0;
    p->units = p->lanes ? (int)(p->fma_units + 0.5) : 0;
    if (p->lanes && p->units < 1) p->units = 1;
    if (p->dp_rate > 0) {
        double u = p->dp_rate / hz;
        p->dp_units = u < 0.75 ? 0.5 : (double)(int)(u + 0.5);
    }
    if (p->amx_rate > 0) {
        p->amx_units = p->amx_rate / hz;
        p->amx_gflops = (double)p->threads * p->amx_units * 8192 * 2.0 * p->ghz;
    }
    p->f32_gflops = (double)p->threads * p->units * p->lanes * 2.0 * p->ghz;
    p->bf16_gflops = (double)p->threads * p->dp_units * 16 * 2 * 2.0 * p->ghz;
}

void vb_peak_refine(struct vb_peak * p) {
    /* short trials, many: on a shared (virtual) machine a trial of several ms rarely runs undisturbed (measured on
    ** the 2-core Sapphire Rapids VM at load 10: 6 ms trials gave 0.6-1.2 GHz, 0.23 ms trials 2.80 GHz every time) */
    const uint64_t it = 10000; /* 640 k cycles: ~0.2 ms */
    const double   hz = 64.0 * (double)it / best_of(add_chain, it, PEAK_TRIALS);
    p->hz = VB_MAX(p->hz, hz);
    const uint64_t fit = 40000; /* 640 k FMAs: ~0.1 ms */
    double         r = 0;
    if (__builtin_cpu_supports("avx512f") && vb_cpu_allowed(VB_CPU_AVX512)) {
        p->lanes = 16;
        r = FMA512_N * (double)fit / best_of(fma512, fit, PEAK_TRIALS);
    } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && vb_cpu_allowed(VB_CPU_AVX2)) {
        p->lanes = 8;
        r = FMA256_N * (double)fit / best_of(fma256, fit, PEAK_TRIALS);
    }
    p->fma_rate = VB_MAX(p->fma_rate, r);
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bf16") &&
        vb_cpu_allowed(VB_CPU_AVX512BF16)) {
        r = 16.0 * (double)fit / best_of(dp512, fit, PEAK_TRIALS);
        p->dp_rate = VB_MAX(p->dp_rate, r);
    }
    if (vb_wmat_kernel_available("amx", NULL) == 1) { /* also asks Linux for the tile state */
        const uint64_t ait = 2000;                    /* 8000 tile products: ~0.05 ms at 16 cycles each */
        r = 4.0 * (double)ait / best_of(amx_dp, ait, PEAK_TRIALS / 2);
        p->amx_rate = VB_MAX(p->amx_rate, r);
    }
    peak_derive(p);
}

void vb_peak_measure(struct vb_peak * p, int threads) {
    memset(p, 0, sizeof *p);
    p->threads = threads < 1 ? 1 : threads;
    for (int r = 0; r < PEAK_ROUNDS; r++)
        vb_peak_refine(p);
    if (getenv("VB_PEAK_DISTURB")) { /* fault injection for tests: a measurement every trial of which was disturbed */
        p->hz /= 4, p->fma_rate /= 16, p->dp_rate /= 16, p->amx_rate /= 16;
        peak_derive(p);
    }
}
#else
void vb_peak_refine(struct vb_peak * p) {
    (void)p;
}

void vb_peak_measure(struct vb_peak * p, int threads) {
    memset(p, 0, sizeof *p);
    p->threads = threads < 1 ? 1 : threads;
}
#endif

/* best time of 5 runs of fn over all the engine's threads, after one warm-up run */
static double best_pool_run(vb_pool_fn fn, void * ctx) {
    double best = 1e30;
    for (int r = -1; r < 5; r++) { /* r == -1: warm-up */
        double t0 = now_s();
        vb_pool_run(0, fn, ctx);
        double dt = now_s() - t0;
        if (r >= 0 && dt < best) best = dt;
    }
    return best;
}

struct copy_job {
    uint8_t *       dst;
    const uint8_t * src;
    size_t          bytes;
};

static void copy_part(void * ctx, int ith, int nth) {
    const struct copy_job * J = ctx;
    size_t                  a = J->bytes * (size_t)ith / (size_t)nth / 64 * 64;
    size_t                  b = ith + 1 == nth ? J->bytes : J->bytes * (size_t)(ith + 1) / (size_t)nth / 64 * 64;
    memcpy(J->dst + a, J->src + a, b - a);
}

double vb_copy_bandwidth_gbs(size_t bytes) {
    uint8_t *src = vb_malloc(bytes), *dst = vb_malloc(bytes);
    memset(src, 1, bytes);
    memset(dst, 0, bytes);
    struct copy_job J = {dst, src, bytes};
    double          best = best_pool_run(copy_part, &J);
    free(src), free(dst);
    return 2.0 * (double)bytes / best / 1e9;
}

/* ---------------------------------------------------------------- read bandwidth */

#define VB_POOL_MAX_THREADS_FOR_READ 256
struct read_job {
    const uint8_t * src;
    size_t          bytes;
    double          sink[VB_POOL_MAX_THREADS_FOR_READ]; /* per thread: the sums, so the loads are not removed */
};

/* the sum of n bytes at p (n a multiple of 256) as 16 lanes of f32, loads of 64 bytes, prefetch READ_PF ahead */
#define READ_PF 4096
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx512f"))) static double read_avx512(const uint8_t * p, size_t n) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = 0; i < n; i += 256) {
        for (int l = 0; l < 4; l++)
            _mm_prefetch((const char *)p + i + READ_PF + 64 * l, _MM_HINT_T0);
        a0 = _mm512_add_ps(a0, _mm512_load_ps((const float *)(p + i)));
        a1 = _mm512_add_ps(a1, _mm512_load_ps((const float *)(p + i + 64)));
        a2 = _mm512_add_ps(a2, _mm512_load_ps((const float *)(p + i + 128)));
        a3 = _mm512_add_ps(a3, _mm512_load_ps((const float *)(p + i + 192)));
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}
__attribute__((target("avx2"))) static double read_avx2(const uint8_t * p, size_t n) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = 0; i < n; i += 128) {
        _mm_prefetch((const char *)p + i + READ_PF, _MM_HINT_T0);
        _mm_prefetch((const char *)p + i + READ_PF + 64, _MM_HINT_T0);
        a0 = _mm256_add_ps(a0, _mm256_load_ps((const float *)(p + i)));
        a1 = _mm256_add_ps(a1, _mm256_load_ps((const float *)(p + i + 32)));
        a2 = _mm256_add_ps(a2, _mm256_load_ps((const float *)(p + i + 64)));
        a3 = _mm256_add_ps(a3, _mm256_load_ps((const float *)(p + i + 96)));
    }
    float t[8];
    _mm256_storeu_ps(t, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    return (double)t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
}
#endif
static double read_plain(const uint8_t * p, size_t n) {
    const uint64_t * q = (const uint64_t *)(const void *)p;
    uint64_t         a[8] = {0};
    for (size_t i = 0; i < n / 8; i += 8)
        for (int l = 0; l < 8; l++)
            a[l] += q[i + l];
    return (double)(a[0] ^ a[1] ^ a[2] ^ a[3] ^ a[4] ^ a[5] ^ a[6] ^ a[7]);
}

static void read_part(void * ctx, int ith, int nth) {
    struct read_job * J = ctx;
    size_t            a = J->bytes * (size_t)ith / (size_t)nth / 256 * 256;
    size_t            b = ith + 1 == nth ? J->bytes : J->bytes * (size_t)(ith + 1) / (size_t)nth / 256 * 256;
    double            s;
#if defined(__x86_64__) && defined(__GNUC__)
    if (__builtin_cpu_supports("avx512f") && vb_cpu_allowed(VB_CPU_AVX512))
        s = read_avx512(J->src + a, b - a);
    else if (__builtin_cpu_supports("avx2") && vb_cpu_allowed(VB_CPU_AVX2))
        s = read_avx2(J->src + a, b - a);
    else
#endif
        s = read_plain(J->src + a, b - a);
    if (ith < VB_POOL_MAX_THREADS_FOR_READ) J->sink[ith] = s;
}

double vb_read_bandwidth_gbs(size_t bytes) {
    bytes = (bytes + 255) / 256 * 256;
    uint8_t * src = NULL;
    if (posix_memalign((void **)&src, 64, bytes + READ_PF + 256) != 0 || !src) VB_ASSERT(!"out of memory");
    memset(src, 1, bytes + READ_PF + 256); /* the prefetches past the end stay inside the allocation */
    struct read_job * J = vb_calloc(1, sizeof *J);
    J->src = src;
    J->bytes = bytes;
    double best = best_pool_run(read_part, J);
    free(src);
    free(J);
    return (double)bytes / best / 1e9;
}
