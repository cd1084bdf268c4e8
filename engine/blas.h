/* blas.h — OpenBLAS set-up: kernel detection, the Prescott trap, explicit thread count.
**
** Debian's OpenBLAS 0.3.21 (DYNAMIC_ARCH) detects some new Xeons (family 6, model 207; Sapphire Rapids class
** too) as "Prescott" and runs sgemm ~8x slower, and AMD Zen 4 / Zen 5 (AVX-512) as "Zen" / "Haswell" (AVX2: sgemm
** at ~0.3x of its SkylakeX kernel on a Zen 5).  vb_blas_fix_core_and_reexec() is called first thing in main():
** when the kernel OpenBLAS chose is a fallback core, or an AVX2 core on a CPU with AVX-512 F/BW/VL/DQ, and
** OPENBLAS_CORETYPE is unset, it sets OPENBLAS_CORETYPE to SkylakeX (or Haswell) and re-executes the program, so the
** library picks the right kernel at load time (the only time it reads the variable).  The core it came from is
** kept in VB_BLAS_REEXEC (`vlapbench version` prints it as blas_reexec_from).  Under VB_CPU_DISABLE (engine/cpu.h)
** the best core is the best of what is left (avx512 taken away: Haswell; avx2: Nehalem), and a core that runs the
** instructions taken away is re-executed the same way, so OpenBLAS, too, runs what such a CPU would run.
*/
#ifndef VB_BLAS_H
#define VB_BLAS_H

#include <stdint.h>

/* Name of the kernel OpenBLAS runs ("SkylakeX", "Haswell", "Zen", "Prescott", ...). Static string. */
const char * vb_blas_core(void);
/* Full OpenBLAS config string ("OpenBLAS 0.3.21 DYNAMIC_ARCH ... Zen MAX_THREADS=64"). Static string. */
const char * vb_blas_config(void);
/* 1 if `core` is a generic fallback kernel (Prescott, Core2, Katmai, ...), 0 otherwise. */
int vb_blas_core_is_fallback(const char * core);
/* 1 if `core` is an AVX2 (or older, non-fallback) x86 kernel: Haswell, Zen, SandyBridge, ... */
int vb_blas_core_is_avx2_only(const char * core);
/* Best OPENBLAS_CORETYPE for this CPU from cpuid, less what VB_CPU_DISABLE takes away (engine/cpu.h): "SkylakeX"
** (AVX-512F/BW/VL/DQ), "Haswell" (AVX2+FMA), "Nehalem" (AVX2 taken away), or NULL. */
const char * vb_blas_cpu_best_core(void);
/* If the running kernel is a fallback (or AVX2 on an AVX-512 CPU, or one using instructions VB_CPU_DISABLE takes
** away), a better one exists and OPENBLAS_CORETYPE is unset: set it and execv /proc/self/exe with the same argv.
** Returns only when no re-exec was needed (or execv failed: then it warns). */
void vb_blas_fix_core_and_reexec(char ** argv);
/* Set the engine's thread count (n <= 0: number of online CPUs): the pool of engine/pool.h, which runs every
** parallel kernel.  OpenBLAS itself is set to one thread (it is called only from inside our kernels, where its
** idle workers would otherwise spin ~0.1 s after each call on the cores our threads need).  Returns the count in
** effect; this is the thread count recorded with results. */
int vb_blas_set_threads(int n);
/* Engine thread count in effect. */
int vb_blas_threads(void);
/* OpenBLAS's own thread count, for measuring the library itself (bench-engine's sgemm references); returns the count
** in effect.  Set it back to 1 and call vb_blas_settle() before engine work. */
int vb_blas_library_threads(int n);
/* Sleep until OpenBLAS's idle workers have stopped spinning (they spin 2^28 cycles, ~0.1 s, after each threaded
** call; VB_BLAS_SETTLE_MS covers it at >= 2 GHz). */
#define VB_BLAS_SETTLE_MS 150
void vb_blas_settle(void);
/* CPU model name from /proc/cpuinfo into buf (or "unknown"). */
void vb_cpu_model(char * buf, int len);

#endif
