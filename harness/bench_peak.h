/* bench_peak.h — machine figures for bench-engine: the core clock and vector FMA throughput measured on this CPU,
** the theoretical peak they give (threads x FMA units x lanes x 2 FLOP x clock), and the copy bandwidth.
**
** Clock: a chain of dependent register-register 64-bit adds (one per cycle on every x86-64 core since the P6), best
** of 200 trials of ~0.2 ms (a trial that lost the core to another process only runs longer).  FMA units: independent
*vector
** FMAs of the widest width this CPU runs (16 accumulators, more than latency x units on any current core), per
** cycle of that clock, rounded to an integer (a Zen 4, which splits a 512-bit FMA in two halves, shows 1 unit of 16
** lanes).  bf16: the same for vdpbf16ps (2 multiply-adds per f32 lane), and for AMX tdpbf16ps (4 independent
** tiles, 8192 multiply-adds each) where the CPU has AMX-BF16.  Measured on the calling thread; the peak
** assumes every thread runs on a core of its own at the same clock.
** Copy bandwidth: memcpy of a buffer split over the engine's threads (engine/pool.h), best of 5, counted as STREAM
** does (bytes read + bytes written per second).  Read bandwidth: the same split of a read-only sum (below). */
#ifndef VB_BENCH_PEAK_H
#define VB_BENCH_PEAK_H

#include <stddef.h>

struct vb_peak {
    double ghz;         /* measured core clock, GHz */
    int    lanes;       /* f32 lanes of the widest FMA measured: 16 (AVX-512), 8 (AVX2 + FMA), 0 (none) */
    double fma_units;   /* vector FMAs per cycle per core, measured (unrounded) */
    int    units;       /* the same rounded to an integer >= 1 (0 without a vector FMA) */
    double dp_units;    /* vdpbf16ps per cycle per core (0: no AVX512_BF16), rounded to an integer */
    int    threads;     /* threads the peak counts */
    double f32_gflops;  /* threads x units x lanes x 2 x GHz */
    double bf16_gflops; /* threads x dp_units x 16 lanes x 2 pairs x 2 x GHz (0 without AVX512_BF16) */
    double amx_units;   /* tdpbf16ps (8192 multiply-adds) per cycle per core, measured (0 without AMX-BF16) */
    double amx_gflops;  /* threads x amx_units x 8192 x 2 x GHz */
};

/* Measure (about 0.2 s) and fill *p for `threads` threads. */
void vb_peak_measure(struct vb_peak * p, int threads);
/* STREAM-style copy bandwidth in GB/s (2 * bytes / time) of a memcpy of `bytes` over the engine's threads, best of
** 5 (the buffers are allocated, touched and freed here). */
double vb_copy_bandwidth_gbs(size_t bytes);
/* Read-only bandwidth in GB/s (bytes / time) of a sum over `bytes` split over the engine's threads, 64-byte loads
** (AVX-512, else AVX2, else 8-byte loads) with a software prefetch 4 KB ahead, best of 5: what a weight stream can
** reach at most (a GEMV reads and does not write), as against the copy bandwidth, which also counts the bytes
** written.  The buffer is allocated, touched and freed here. */
double vb_read_bandwidth_gbs(size_t bytes);

#endif
