/* bench_peak.h — machine figures for bench-engine: the core clock and vector FMA throughput measured on this CPU,
** the theoretical peak they give (threads x FMA units x lanes x 2 FLOP x clock), and the copy bandwidth.
**
** Clock: a chain of dependent register-register 64-bit adds (one per cycle on every x86-64 core since the P6), best
** of 40 trials of ~0.2 ms (a trial that lost the core to another process only runs longer).  FMA units: independent
** vector FMAs of the widest width this CPU runs (16 accumulators, more than latency x units on any current core),
** best of 40 trials, per cycle of that clock, rounded to an integer (a Zen 4, which splits a 512-bit FMA in two
** halves, shows 1 unit of 16 lanes).  bf16: the same for vdpbf16ps (2 multiply-adds per f32 lane), and for AMX
** tdpbf16ps (4 independent tiles, 8192 multiply-adds each) where the CPU has AMX-BF16.  Each is the highest rate of
** five rounds (vb_peak_refine adds more): a disturbance seen by every trial of one round (on the shared 2-vCPU VM
** of 2026-12-07 one round once measured 1.39 FMAs per cycle, whole rounds 1.93-2.00, so 1 unit and a "peak" the
** sgemm beat by 12-31 %) no longer decides the figure.  Measured on the calling thread; the peak assumes every
** thread runs on a core of its own at the same clock.
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
    /* the highest rates measured so far, per second on one core (0: not measured): the clock (add chain), vector
    ** FMAs, vdpbf16ps, tdpbf16ps; the figures above are derived from them */
    double hz, fma_rate, dp_rate, amx_rate;
};

/* Measure (five rounds, about 0.25 s) and fill *p for `threads` threads.  VB_PEAK_DISTURB set (tests): the rates
** are then cut as a disturbed measurement would be (clock / 4, vector rates / 16), for vb_peak_refine to recover. */
void vb_peak_measure(struct vb_peak * p, int threads);
/* One more round (about 50 ms) on *p (filled by vb_peak_measure): each rate and the figures derived from them only
** rise, towards what the core runs undisturbed (bench-engine calls it again wherever a measured rate exceeds the
** peak). */
void vb_peak_refine(struct vb_peak * p);
/* STREAM-style copy bandwidth in GB/s (2 * bytes / time) of a memcpy of `bytes` over the engine's threads, best of
** 5 (the buffers are allocated, touched and freed here). */
double vb_copy_bandwidth_gbs(size_t bytes);
/* Read-only bandwidth in GB/s (bytes / time) of a sum over `bytes` split over the engine's threads, 64-byte loads
** (AVX-512, else AVX2, else 8-byte loads) with a software prefetch 4 KB ahead, best of 5: what a weight stream can
** reach at most (a GEMV reads and does not write), as against the copy bandwidth, which also counts the bytes
** written.  The buffer is allocated, touched and freed here. */
double vb_read_bandwidth_gbs(size_t bytes);

#endif
