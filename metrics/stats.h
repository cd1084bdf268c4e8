/* stats.h — accuracy with cluster-bootstrap confidence intervals, paired comparison of two runs, descriptive
** statistics.  Pure functions over arrays; nothing here knows about SQLite (harness/store.h loads the arrays).
**
** Conventions
** - Accuracies are fractions in [0, 1] (reports multiply by 100).
** - Bootstrap: clusters are videos.  Questions about the same video are correlated (same frames, same decode), so
**   the resampling unit is the video: each replicate draws n_clusters videos with replacement and takes all their
**   questions ("cluster bootstrap").  The interval is the percentile interval of the replicates, with the
**   percentile defined below.  The generator is our own (splitmix64-seeded xoshiro256**), so a given seed gives the
**   same interval on every platform and build.
** - Percentiles: linear interpolation between order statistics, numpy's default ("linear", Hyndman-Fan type 7):
**   h = (n-1)·q, value = x[floor(h)] + (h - floor(h))·(x[floor(h)+1] - x[floor(h)]).
** - Standard deviation: sample sd with the n-1 denominator (0 when n < 2).
** - McNemar: exact two-sided test = min(1, 2·P(X <= min(b, c))), X ~ Binomial(b + c, 1/2), where b and c are the
**   discordant pairs; p = 1 when b + c = 0.  Exact integer arithmetic up to b + c = 62, log-space above.
*/
#ifndef VB_STATS_H
#define VB_STATS_H

#include "base/rng.h"

#include <stdint.h>

/* ---- random numbers: xoshiro256** seeded through splitmix64 (thin wrappers over engine/rng.h) ---- */
/* Seed the generator: the four state words are successive splitmix64 outputs started at seed. */
void vb_stats_rng_seed(struct vb_rng * r, uint64_t seed);
/* Next 64-bit output of xoshiro256**. */
uint64_t vb_stats_rng_next(struct vb_rng * r);
/* Uniform integer in [0, n) without modulo bias (rejection); n must be > 0 (VB_ASSERT). */
uint64_t vb_stats_rng_below(struct vb_rng * r, uint64_t n);
/* splitmix64 step: advances *state and returns the mixed value (also used to derive per-item seeds). */
uint64_t vb_stats_splitmix64(uint64_t * state);

/* ---- descriptive statistics ---- */
double vb_stats_mean(const double * x, int32_t n); /* NAN when n == 0 */
double vb_stats_sd(const double * x, int32_t n);   /* n-1 denominator; 0 when n == 1, NAN when n == 0 */
/* Percentile q in [0, 1] of ASCENDING sorted x[0..n-1], linear interpolation (numpy default). NAN when n == 0. */
double vb_stats_percentile_sorted(const double * sorted, int32_t n, double q);
/* Same for unsorted data (copies and sorts). */
double vb_stats_percentile(const double * x, int32_t n, double q);

/* Map string labels (e.g. video ids) to dense ids 0..k-1, numbered in order of first appearance.  ids is (n),
** written by the call.  Returns k (>= 0).  labels[i] must not be NULL (VB_ASSERT). */
int32_t vb_stats_dense_ids(const char * const * labels, int32_t n, int32_t * ids);

/* ---- accuracy with a cluster-bootstrap CI ---- */
enum vb_acc_mode {
    VB_ACC_POOLED = 0, /* correct / total over all questions (NExT-QA Avg, How2QA, VLEP) */
    VB_ACC_MACRO = 1   /* mean of the per-category accuracies (STAR headline "Mean"); categories absent from a
                          bootstrap replicate are left out of that replicate's mean */
};

struct vb_acc_ci {
    int32_t n; /* questions */
    int32_t n_correct;
    int32_t n_clusters; /* distinct videos */
    double  acc;        /* point estimate on the data as observed (fraction) */
    double  lo, hi;     /* percentile bootstrap interval at `level`; NAN when n == 0; equal to acc if n_boot == 0 */
};

/* Accuracy and its bootstrap CI.
**   correct (n): 1 = correct, 0 = wrong (errors count as wrong: pass 0).
**   cluster (n): dense video ids 0..n_clusters-1 (vb_stats_dense_ids); NULL = every question its own cluster.
**   cat (n): dense category ids 0..n_cat-1, used only for VB_ACC_MACRO (may be NULL for pooled).
**   n_boot replicates (0 = no interval), seed for the generator, level e.g. 0.95.
** Returns VB_OK, or VB_ERR_ARG for inconsistent arguments (message says which). */
int vb_stats_accuracy_ci(const uint8_t * correct, const int32_t * cluster, const int32_t * cat, int32_t n_cat,
                         int32_t n, enum vb_acc_mode mode, int32_t n_boot, uint64_t seed, double level,
                         struct vb_acc_ci * out);

/* ---- paired comparison of two methods on the same questions ---- */
struct vb_paired {
    int32_t n;        /* paired questions */
    int32_t n_both;   /* both correct */
    int32_t n_a_only; /* A correct, B wrong (McNemar b) */
    int32_t n_b_only; /* A wrong, B correct (McNemar c) */
    int32_t n_neither;
    double  acc_a, acc_b; /* fractions */
    double  diff;         /* acc_a - acc_b (fraction) */
    double  lo, hi;       /* paired cluster-bootstrap percentile CI of diff */
    double  p_mcnemar;    /* exact two-sided McNemar p-value */
};

/* Exact two-sided McNemar p-value for discordant counts b and c (>= 0). */
double vb_stats_mcnemar_exact(int32_t b, int32_t c);

/* Compare A and B question by question: ca, cb (n) are 0/1 correctness aligned on the same questions; cluster (n)
** dense video ids or NULL.  Bootstrap resamples videos, keeping pairs together.  Returns VB_OK or VB_ERR_ARG. */
int vb_stats_paired(const uint8_t * ca, const uint8_t * cb, const int32_t * cluster, int32_t n, int32_t n_boot,
                    uint64_t seed, double level, struct vb_paired * out);

#endif
