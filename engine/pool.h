/* pool.h — the engine's own worker threads: one persistent pool that every parallel kernel runs on.
**
** Why: OpenBLAS's worker threads spin (sched_yield) for ~0.1 s after every multi-threaded call, and any thread of
** ours started meanwhile shares its core with them (measured: our packed GEMM ran at 47-60 % of the 2048^3 sgemm
** rate right after an OpenBLAS call, 88 % with OPENBLAS_THREAD_TIMEOUT=4).  So the engine keeps OpenBLAS at one
** thread (its workers never wake) and does all parallelism here: the packed GEMM / GEMV of engine/wmat.c and the
** head split of vb_attention.  Workers are started on the first parallel call, spin briefly (VB_POOL_SPIN_US)
** after each task so back-to-back kernels (a decoder step) do not pay a wake-up, then sleep on a condition
** variable.  They are joined at exit.
*/
#ifndef VB_POOL_H
#define VB_POOL_H

#include <stddef.h>

/* One pause of a spin-wait on another thread's store (x86 PAUSE; nothing elsewhere). */
#if defined(__x86_64__) || defined(__i386__)
#define vb_cpu_relax() __builtin_ia32_pause()
#else
#define vb_cpu_relax() ((void)0)
#endif

/* Microseconds a worker spins for the next task before sleeping. */
#define VB_POOL_SPIN_US 200

/* A parallel task: called once for each ith in [0, nth) (ith 0 on the calling thread); each call does its share. */
typedef void (*vb_pool_fn)(void * ctx, int ith, int nth);

/* Set the number of threads (caller included) parallel kernels use; n <= 0 means the online CPUs; capped at 64.
** Returns the count in effect.  Workers of a different count are stopped and started again on the next run.  Call
** it from one thread, not while vb_pool_run is running. */
int vb_pool_set_threads(int n);
/* Threads in effect (1 until vb_pool_set_threads is called). */
int vb_pool_threads(void);
/* Run fn(ctx, ith, nth) for ith = 0 .. nth-1 with nth = min(max_threads, vb_pool_threads()) (max_threads <= 0: no
** limit) and return when every call has returned.  If the pool is busy (a nested call from inside a task, or another
** thread's run) or nth would be 1, the task runs as fn(ctx, 0, 1) on the calling thread: correct, only serial. */
void vb_pool_run(int max_threads, vb_pool_fn fn, void * ctx);

/* As vb_pool_run for a task whose calls share its work through the task itself (a counter of chunks in ctx: any
** subset of the calls that includes ith 0 does all of it): fn(ctx, 0, nth) runs on the calling thread, and each
** worker that picks the task up before that call returns also runs its fn(ctx, ith, nth); workers that come later
** (descheduled by a busy machine, or still waking) are left out instead of waited for.  Returns when every call
** that started has returned. */
void vb_pool_run_dynamic(int max_threads, vb_pool_fn fn, void * ctx);

/* Scratch slots of vb_pool_scratch: one per kernel kind, so kernels that never nest never share one. */
enum {
    VB_SCRATCH_GEMM_A = 0,
    VB_SCRATCH_GEMM_B = 1,
    VB_SCRATCH_ATTN = 2,
    VB_SCRATCH_GEMM_SHARED = 3, /* the caller's: a GEMM's activations, packed once for all of its threads */
    VB_SCRATCH_SLOTS = 4
};

/* A 64-byte aligned buffer of at least `bytes` owned by the calling thread for `slot`, kept between calls (grown,
** never shrunk; contents undefined) and freed when the thread exits.  Kernels use it instead of a malloc per call:
** a fresh multi-MiB block is mmap'd and its pages zeroed by the kernel on every call (measured: 17 % of a T5
** encoder run in clear_page).  Never fails (out of memory aborts). */
void * vb_pool_scratch(int slot, size_t bytes);

#endif
