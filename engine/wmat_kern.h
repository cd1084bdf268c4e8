/* wmat_kern.h — the micro-kernels behind vb_wmat_linear, one file per instruction set (internal to engine/wmat*.c).
**
** A kernel set computes mr x 16 tiles of y over one packed panel (see engine/wmat.h for the panel layout):
**   f32 sets (avx2, avx512): a is a group of mr activation rows packed [kc][mr] f32 (k-major), bp a panel of kc x 16
**     weights (f32, or bf16 / f16 converted in registers when half_regs); every output accumulates its dot product
**     in f32 in k order with one fused multiply-add per k, so every f32 set gives the same bits as the others;
**   the bf16 set (avx512bf16): a is [kc][mr] uint32 pairs of bf16 activations (k = 2t in the low half, 2t + 1 in the
**     high half, a zero past the last column), bp kc x 16 uint32 pairs of bf16 weights in the same order (the
**     resident layout of bf16 weights, engine/wmat.h: read as they lie, or converted by panel); one vdpbf16ps per
**     pair (products exact in f32, f32 accumulation), kc = ceil(cols / 2).
** tile(mr, bdt, kc, a, bp, c, ldc, load, bias): c (mr rows, ldc apart, 16 columns) (+)= a . bp (+ bias (16,
**   nullable)); load = 1 accumulates into c; 1 <= mr <= the set's mr.
**   the amx set: the bf16 pairs, activation groups packed row-major ([32][kcp], kcp = kc padded with zero pairs
**     to a multiple of 16), tdpbf16ps on 16 x 16 tiles;
** panel(dt, p, K, dst): the K x 16 panel of dtype dt at p (bf16: pair lines) into dst (64-byte aligned): f32 sets:
**   K x 16 f32 (dt bf16 / f16 only); the bf16 set: ceil(K / 2) x 16 uint32 bf16 pairs (dt f32 / bf16 / f16; f32
**   and f16 values rounded to nearest even; bf16 lines copied).
** Each set is compiled on every x86-64 machine (target attributes); vb_wk_cpu_* says whether this CPU (and its OS)
** runs it.  Elsewhere the sets have no tile (NULL) and the checks return 0. */
#ifndef VB_WMAT_KERN_H
#define VB_WMAT_KERN_H

#include <stddef.h>
#include <stdint.h>

/* Largest group of activation rows of any set (the edge tiles' buffers). */
#define VB_WK_MRMAX 32

typedef void (*vb_wk_tile_fn)(int mr, int32_t bdt, int64_t kc, const void * a, const void * bp, float * c, int64_t ldc,
                              int load, const float * bias);
typedef void (*vb_wk_panel_fn)(int32_t dt, const void * p, int64_t K, void * dst);
/* pack: kl columns of mr rows of x (ldx floats apart) into dst [kl][mr] (k-major), the f32 sets' group layout */
typedef void (*vb_wk_pack_fn)(const float * x, int64_t ldx, int mr, int64_t kl, float * dst);
/* pack_pairs: kl values of x as ceil(kl / 2) bf16 pairs (value 2t in the low half, a zero high half past kl),
** rounded as vb_f32_to_bf16 (nearest even, NaN kept NaN): the row-major groups of the amx set */
typedef void (*vb_wk_pack_pairs_fn)(const float * x, int64_t kl, uint32_t * dst);
/* tile2: as tile over two panels at once, bp (columns 0-15 of c) and bp + bstride bytes (columns 16-31); bias (32,
** nullable).  Every output is the same chain of operations as tile's, so the bits are the same.  pf, npf: npf
** consecutive 64-byte lines from pf (npf <= kc; 0: none) prefetched into L2, spread evenly over the k steps: the
** next work unit's weights, fetched while this tile computes from cache (engine/wmat_gemm.c). */
typedef void (*vb_wk_tile2_fn)(int mr, int32_t bdt, int64_t kc, const void * a, const void * bp, int64_t bstride,
                               float * c, int64_t ldc, int load, const float * bias, const void * pf, int64_t npf);

/* tile4: one activation row (a: kc f32) over four whole panels at once, bp + j * bstride bytes (columns 16j ..
** 16j + 15 of c, j = 0..3); bias (64, nullable); the chain of operations per output of tile's, so the same bits.
** For GEMV steps (n = 1): four weight streams and four independent FMA chains. */
typedef void (*vb_wk_tile4_fn)(int32_t bdt, int64_t kc, const float * a, const void * bp, int64_t bstride, float * c,
                               int load, const float * bias);

/* The prefetches a two-panel tile spreads over its k steps (avx512, avx512bf16): the next call's C tile (32 columns
** on: engine/wmat_gemm.c walks a chunk's panels left to right; its rows lie a whole output row apart, which the
** hardware prefetchers do not follow) into L1 over the first 2 mr k steps, two lines per row, and the npf lines at pf
** (the next work unit's weights) into L2, one every pfe = kc / npf k steps (pfk: the k step of the next one). */
struct vb_wk_pf {
    const char * nc;  /* the next call's C tile (a prefetch never faults) */
    int64_t      ldc; /* floats between C rows */
    const char * pf;
    int64_t      npf, pfe, pfk;
};
static inline struct vb_wk_pf vb_wk_pf_start(const float * c, int64_t ldc, const void * pf, int64_t npf, int64_t kc) {
    struct vb_wk_pf s = {(const char *)(c + 32), ldc, (const char *)pf, npf, npf > 0 ? kc / npf : 0, 0};
    return s;
}
/* the prefetches of k step k; c_tile: whether this tile prefetches the next C tile */
static inline __attribute__((always_inline)) void vb_wk_pf_step(struct vb_wk_pf * s, int64_t k, int mr, int c_tile) {
    if (c_tile && k < 2 * mr) __builtin_prefetch(s->nc + (k >> 1) * s->ldc * 4 + (k & 1) * 64, 0, 3);
    if (k == s->pfk && s->npf > 0) {
        __builtin_prefetch(s->pf, 0, 2);
        s->pf += 64, s->npf--, s->pfk += s->pfe;
    }
}

struct vb_wk {
    const char *   name;      /* "avx2", "avx512", "avx512bf16" */
    int            mr;        /* activation rows per packed group */
    int            bf16;      /* 1: bf16 pairs (see the top), 0: f32 */
    int            half_regs; /* f32 sets: tile accepts bf16 / f16 panels (converted in registers) */
    size_t         a_block;   /* bytes of packed activation rows per block */
    int64_t        k_block;   /* k per block (even; a C tile is reloaded per block, exact), 0: the whole k range */
    size_t         b_block; /* bytes of weight panels per chunk (groups outer within a chunk), 0: one panel at a time */
    vb_wk_tile_fn  tile;    /* NULL: not compiled for this architecture */
    vb_wk_panel_fn panel;
    int            a_rows;          /* 1: groups packed row-major [mr][kcp] (rows past the group zero), 0: [kc][mr] */
    int            kc_align;        /* packed k units padded with zeros to a multiple of this (0 / 1: none) */
    vb_wk_tile2_fn tile2;           /* NULL: the set has no two-panel tile */
    vb_wk_pack_fn  pack;            /* f32 sets: the group packing (NULL: plain loops) */
    vb_wk_pack_pairs_fn pack_pairs; /* a_rows sets: one row's packing (NULL: plain loops) */
    vb_wk_tile4_fn      tile4;      /* f32 sets: the four-panel tile of one row (NULL: none) */
};

extern const struct vb_wk vb_wk_avx2, vb_wk_avx512, vb_wk_avx512bf16, vb_wk_amx;

/* 1 if this CPU and OS run the set: AVX2 + FMA + F16C; AVX-512 F/BW/VL/DQ; the same + AVX512_BF16. */
int vb_wk_cpu_avx2(void);
int vb_wk_cpu_avx512(void);
int vb_wk_cpu_avx512bf16(void);
/* AMX-TILE + AMX-BF16 (+ the avx512bf16 set's features), and Linux granted the tile state to the process */
int vb_wk_cpu_amx(void);
/* Load the AMX tile configuration of the amx set (palette 1, tiles 0-7 of 16 rows x 64 bytes) on the calling thread
** unless it is loaded (once per thread; the attention's amx kernel uses the same tiles).  Only where
** vb_wk_cpu_amx(). */
void vb_wk_amx_tiles(void);

#endif
