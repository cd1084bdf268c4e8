/* blas.h — OpenBLAS set-up: kernel detection, the Prescott trap, explicit thread count.
**
** Debian's OpenBLAS 0.3.21 (DYNAMIC_ARCH) detects some new Xeons (family 6, model 207) as "Prescott" and runs
** sgemm ~8x slower.  vb_blas_fix_core_and_reexec() is called first thing in main(): when the kernel OpenBLAS chose
** is a fallback core but the CPU supports AVX-512 (or AVX2+FMA), and OPENBLAS_CORETYPE is unset, it sets
** OPENBLAS_CORETYPE to SkylakeX (or Haswell) and re-executes the program, so the library picks the right kernel
** at load time (the only time it reads the variable).
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
/* Best OPENBLAS_CORETYPE for this CPU from cpuid: "SkylakeX" (AVX-512F/BW/VL/DQ), "Haswell" (AVX2+FMA), or NULL. */
const char * vb_blas_cpu_best_core(void);
/* If the running kernel is a fallback, the CPU can do better and OPENBLAS_CORETYPE is unset: set it and execv
** /proc/self/exe with the same argv.  Returns only when no re-exec was needed (or execv failed: then it warns). */
void vb_blas_fix_core_and_reexec(char ** argv);
/* Set the BLAS thread count explicitly (n <= 0: number of online CPUs). Returns the count in effect. */
int vb_blas_set_threads(int n);
/* Thread count in effect. */
int vb_blas_threads(void);
/* CPU model name from /proc/cpuinfo into buf (or "unknown"). */
void vb_cpu_model(char * buf, int len);

#endif
