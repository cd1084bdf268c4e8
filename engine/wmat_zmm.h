/* wmat_zmm.h — the two-panel accumulator tile of the AVX-512 kernel sets (engine/wmat_avx512.c, engine/wmat_bf16.c):
** mr rows x 32 columns of C in two arrays of zmm registers (acc0: columns 0-15, acc1: 16-31), loaded or zeroed
** before the k loop and stored (with the bias added) after it.  Internal to those files; x86-64 with GCC / Clang
** only (include it inside their #if). */
#ifndef VB_WMAT_ZMM_H
#define VB_WMAT_ZMM_H

#include <immintrin.h>
#include <stdint.h>

#define VB_ZMM_INLINE static inline __attribute__((always_inline, target("avx512f,avx512bw,avx512vl,avx512dq")))

/* acc0[i], acc1[i] (i < mr) = row i of c (ldc floats apart), columns 0-15 and 16-31, when load; else zero */
VB_ZMM_INLINE void vb_zmm_tile2_load(const int mr, __m512 * acc0, __m512 * acc1, const float * c, int64_t ldc,
                                     int load) {
    int i = 0; /* (a statement before the pragma keeps clang-format 14 from mangling the body) */
#pragma GCC unroll 16
    for (; i < mr; i++) {
        acc0[i] = load ? _mm512_loadu_ps(c + i * ldc) : _mm512_setzero_ps();
        acc1[i] = load ? _mm512_loadu_ps(c + i * ldc + 16) : _mm512_setzero_ps();
    }
}

/* row i of c (i < mr; columns 0-31) = acc0[i] | acc1[i] (+ bias (32), nullable) */
VB_ZMM_INLINE void vb_zmm_tile2_store(const int mr, __m512 * acc0, __m512 * acc1, float * c, int64_t ldc,
                                      const float * bias) {
    if (bias) {
        __m512 bv0 = _mm512_loadu_ps(bias), bv1 = _mm512_loadu_ps(bias + 16);
#pragma GCC unroll 16
        for (int i = 0; i < mr; i++) {
            acc0[i] = _mm512_add_ps(acc0[i], bv0);
            acc1[i] = _mm512_add_ps(acc1[i], bv1);
        }
    }
#pragma GCC unroll 16
    for (int i = 0; i < mr; i++) {
        _mm512_storeu_ps(c + i * ldc, acc0[i]);
        _mm512_storeu_ps(c + i * ldc + 16, acc1[i]);
    }
}

#endif
