/* wmat_zmm.h — zmm pieces shared by the AVX-512 kernel files: the two-panel accumulator tile of the AVX-512 kernel
** sets (engine/wmat_avx512.c, engine/wmat_bf16.c): mr rows x 32 columns of C in two arrays of zmm registers (acc0:
** columns 0-15, acc1: 16-31), loaded or zeroed before the k loop and stored (with the bias added) after it; and the
** rounding of 16 floats to bf16 (engine/wmat_amx.c's activation packing, engine/attn_amx.c).  Internal to the engine;
** x86-64 with GCC / Clang only (include it inside the files' #if). */
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

/* 16 floats -> bf16 in the low half of each 32-bit lane (upper half zero) with the integer rounding of
** vb_f32_to_bf16: nearest even by adding 0x7fff + the kept lowest bit; a NaN keeps its top bits with the quiet bit
** set.  So the bits are those of the scalar conversion (the hardware one would flush denormals to zero). */
VB_ZMM_INLINE __m512i vb_zmm_bf16_rne(__m512 x) {
    const __m512i   u = _mm512_castps_si512(x);
    const __mmask16 nan =
        _mm512_cmpgt_epi32_mask(_mm512_and_si512(u, _mm512_set1_epi32(0x7fffffff)), _mm512_set1_epi32(0x7f800000));
    __m512i r = _mm512_add_epi32(u, _mm512_add_epi32(_mm512_set1_epi32(0x7fff),
                                                     _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1))));
    r = _mm512_srli_epi32(r, 16);
    return _mm512_mask_or_epi32(r, nan, _mm512_srli_epi32(u, 16), _mm512_set1_epi32(0x40));
}

#endif
