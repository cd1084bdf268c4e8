/* attn_small.h — many small multi-head attentions in one pool dispatch (the per-frame attentions of the Q-Former and
** of the ViT, the per-sequence self-attention of the T5 encoder).
**
** A batch of n independent problems (frames) with the same sizes: problem b has nq queries over nk keys, `heads`
** heads of width dh.  vb_attention_batch shares the n * heads (problem, head) pairs among the engine's threads
** (engine/pool.h) in one hand-off (from 2^24 multiply-adds in all; smaller batches run on the calling thread), each
** thread taking the next pair from a shared counter (vb_pool_run_dynamic: a thread the machine delays computes fewer
** pairs instead of holding up the call); every pair is computed by one thread, start to end, with its own scratch
** (vb_pool_scratch), so the results do not depend on the thread count or on which thread took a pair.  Users: the
** Q-Former's self- and cross-attention (engine/qformer.c) and the ViT's self-attention, all frames of a call at once
** (engine/vit.c; the ViT-g: 257 tokens, 16 heads of 88), and the T5 encoder's self-attention with its relative
** position bias, all sequences of one length at once (engine/t5.c; T5-XL: 32 heads of 64).
**
** Per pair, as vb_attention does per head (kernel amx: on bf16-rounded operands, below): scores s_ij = scale * (q_i .
*k_j) (+ bias_ij) (+ mask_j), p = softmax_j(s)
** (engine/ops.c's softmax rows: max subtracted, its vectorised Cephes exp, the sum in double), o_i = sum_j p_ij v_j.
**   kernel avx512 (AVX-512 F, dh <= 128; used when the engine's GEMM kernel is avx512, avx512bf16 or amx, i.e. the
**   CPU has AVX-512 and VB_WMAT_KERNEL does not force avx2 / portable): the head's queries transposed (dh x nq, by
**   16 x 16 register transposes; with a bias, its (nq x nk) block transposed likewise into the scores), the scores
**   of 12 keys x 32 queries per register tile, the softmax along the keys vectorised over 16 queries, then the
**   weighted sum: up to 64 keys in 6 x dh (dh <= 64) or 3 x dh tiles of query
**   rows; from 65 keys (the ViT, the Q-Former's cross-attention) transposed, O^T = V^T P, over the values packed
**   (nk x dh) in tiles of up to 12 head columns x 32 queries, written back to the query rows by 16 x 16 transposes;
**   no BLAS.  Every operation is the one of the blas kernel in its order (one fused multiply-add per element of a dot
**   product, in order; the softmax of ops.c lane by lane), so the bits equal those of the blas kernel wherever
**   OpenBLAS's sgemm runs that chain: measured with OpenBLAS 0.3.21 SkylakeX for the Q-Former's cross-attention
**   (32 x 257, dh 64), InstructBLIP self-attention (64 x 64) and the ViT-g's self-attention (257 x 257, dh 88); its
**   NT kernel for 32 x 32 x 64 (BLIP-2 self-attention) sums in another order (scores within 1 ulp).
**   kernel blas (every other CPU, dh > 128, or VB_ATTN_KERNEL=blas): per pair OpenBLAS sgemm (one thread) for the
**   two products and engine/ops.c's softmax rows.
**   kernel amx (bf16 compute, engine/wmat.h, where the GEMM's kernel is amx, for pairs of at least 64 queries and 64
**   keys and dh <= 128: the ViT's and the T5 encoder's from 64 tokens; engine/attn_amx.c): bf16 compute for the
**   attention's two products where it pays (VB_ATTN_AMX_MIN below).
**   Q, K, V and the softmax numerators exp(s - max) are rounded to bf16 and multiplied exactly on AMX tiles with f32
**   sums; each output row is divided by the sum of its rounded numerators after the product.  Not the bits of the
**   other kernels: the f32 attention of bf16-rounded operands up to the f32 summation order and an exp within 3e-6
**   (tests/test_attn_small.c); what bf16 inference of the reference does (bf16 Q, K, V and probabilities).  The
**   deviations it adds on the golden sets: docs/performance.md.  Smaller pairs (the Q-Former's 32 queries) and f32
**   compute keep the avx512 kernel.
** VB_ATTN_KERNEL=blas|avx512|amx forces a kernel (avx512 on a CPU without it: blas; amx without AMX-BF16: avx512;
** amx forced runs in f32 compute too, for every pair); VB_ATTN_KERNEL and VB_WMAT_KERNEL are read on every call.
*/
#ifndef VB_ATTN_SMALL_H
#define VB_ATTN_SMALL_H

#include <stdint.h>

/* Problem b, head h (element d of the head at column h * dh + d of a row):
**   query i:  q[b * sq + i * ldq + h * dh + d]; with q2 set, for i >= nq1 q2[b * sq2 + (i - nq1) * ldq + ...]
**   key j:    k[b * sk + j * ldk + ...] for j < nk1, k2[b * sk2 + (j - nk1) * ldk + ...] for nk1 <= j < nk
**   value j:  v[b * sv + j * ldv + ...] likewise, v2[b * sv2 + (j - nk1) * ldv + ...]
**             (two key blocks: the Q-Former's query rows and text rows are kept in separate blocks; nk1 = nk and
**             k2 / v2 NULL when the keys are one block)
**   bias:     NULL, or bias[b * sbias + (h * nq + i) * nk + j] added to the score of query i, key j (i over all nq
**             queries, both blocks; j over all nk keys, both blocks; finite): an additive score bias per head, e.g.
**             T5's relative position bias (heads, nq, nk), sbias 0 when every problem shares one table
**   mask:     NULL, or mask[b * smask + j] added to score j (0 or a large negative; finite)
**   output i: out[b * so + i * ldo + h * dh + d], for i >= nq1 with q2 set out2[b * so2 + (i - nq1) * ldo + ...]
**             (written, not accumulated; must not overlap the inputs)
**   (two query blocks: the Q-Former's query rows and text rows attend to the same keys in one call; q2 NULL: one
**   block, nq1 / sq2 / out2 / so2 unused) */
struct vb_attn_batch {
    int64_t       n, nq, nk, nk1; /* problems, queries and keys per problem, keys in the first block */
    int32_t       heads, dh;
    float         scale;
    const float * q;
    int64_t       ldq, sq;
    const float * k;
    int64_t       ldk, sk;
    const float * v;
    int64_t       ldv, sv;
    const float * k2;
    int64_t       sk2;
    const float * v2;
    int64_t       sv2;
    const float * mask;
    int64_t       smask;
    const float * bias; /* (heads, nq, nk) per problem, sbias floats apart (0: shared), or NULL */
    int64_t       sbias;
    float *       out;
    int64_t       ldo, so;
    int64_t       nq1; /* queries in the first block when q2 is set */
    const float * q2;
    int64_t       sq2;
    float *       out2;
    int64_t       so2;
};

/* Run every (problem, head) pair of a (see above); nothing when n, nq, nk or heads is < 1.  dh >= 1, 0 <= nk1 <=
** nk (k2 / v2 set when nk1 < nk) and, with q2 set, 0 <= nq1 <= nq and out2 set are asserted (VB_ASSERT).  Allocates
*nothing beyond the per-thread scratch kept by the pool. */
void vb_attention_batch(const struct vb_attn_batch * a);

/* The batch of n problems of t tokens each attending over themselves, from fused rows: token r of problem b is row
** b * t + r of qkv (n * t, 3 * heads * dh) = q | k | v, its output row b * t + r of out (n * t, heads * dh).
** nq = nk = nk1 = t; no bias, mask or second block: a caller sets those fields on the result (the Q-Former's text
** block, T5's position bias and key masks).  Nothing is run. */
struct vb_attn_batch vb_attn_batch_self(int64_t n, int64_t t, int32_t heads, int32_t dh, float scale, const float * qkv,
                                        float * out);

/* Queries and keys per pair from which bf16 compute runs the amx kernel (engine/attn_amx.c): below, its packing costs
** more than its products save (2 threads, time of the avx512 kernel / the amx kernel, medians of 21 alternated reps,
** 2026-12-07, Sapphire Rapids: 32 queries over 32, 64, 80, 257 keys (the Q-Former) 0.85, 0.95, 1.10, 1.05; 48 x 48
** 0.95; 64 x 64 1.06-1.09; 96 x 96 1.38; 100 x 100 1.49; 128 x 128 1.67; 257 x 257 (the ViT-g) 1.57; 512 x 512 2.06;
** so the Q-Former keeps the f32 kernel) */
#define VB_ATTN_AMX_MIN 64

/* "amx", "avx512" or "blas": the kernel vb_attention_batch uses now for head width dh on large pairs (amx needs 64
** queries and 64 keys). */
const char * vb_attention_batch_kernel(int32_t dh);

#endif
