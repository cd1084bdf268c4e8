/* stats.c — bootstrap, McNemar, percentiles (definitions and conventions in stats.h). */
#include "metrics/stats.h"

#include "base/common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- generator (engine/rng.c; these names stay for the existing callers and tests) ---- */

uint64_t vb_stats_splitmix64(uint64_t * state) {
    return vb_rng_splitmix64(state);
}
void vb_stats_rng_seed(struct vb_rng * r, uint64_t seed) {
    vb_rng_seed(r, seed);
}
uint64_t vb_stats_rng_next(struct vb_rng * r) {
    return vb_rng_next(r);
}
uint64_t vb_stats_rng_below(struct vb_rng * r, uint64_t n) {
    return vb_rng_below(r, n);
}

/* ---- descriptive ---- */

double vb_stats_mean(const double * x, int32_t n) {
    if (n <= 0) return NAN;
    double s = 0;
    for (int32_t i = 0; i < n; i++)
        s += x[i];
    return s / n;
}

double vb_stats_sd(const double * x, int32_t n) {
    if (n <= 0) return NAN;
    if (n == 1) return 0;
    double m = vb_stats_mean(x, n), s = 0;
    for (int32_t i = 0; i < n; i++)
        s += (x[i] - m) * (x[i] - m);
    return sqrt(s / (n - 1));
}

double vb_stats_percentile_sorted(const double * x, int32_t n, double q) {
    if (n <= 0 || !(q >= 0 && q <= 1)) return NAN;
    double  h = (n - 1) * q;
    int32_t lo = (int32_t)floor(h);
    if (lo >= n - 1) return x[n - 1];
    return x[lo] + (h - lo) * (x[lo + 1] - x[lo]);
}

static int cmp_double(const void * a, const void * b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double vb_stats_percentile(const double * x, int32_t n, double q) {
    if (n <= 0) return NAN;
    double * v = vb_malloc(sizeof(double) * (size_t)n);
    memcpy(v, x, sizeof(double) * (size_t)n);
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    double r = vb_stats_percentile_sorted(v, n, q);
    free(v);
    return r;
}

/* ---- dense ids ---- */

struct lab {
    const char * s;
    int32_t      i;
};
static int cmp_lab(const void * a, const void * b) {
    const struct lab *x = a, *y = b;
    int               c = strcmp(x->s, y->s);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

int32_t vb_stats_dense_ids(const char * const * labels, int32_t n, int32_t * ids) {
    if (n <= 0) return 0;
    struct lab * l = vb_malloc(sizeof *l * (size_t)n);
    for (int32_t i = 0; i < n; i++) {
        VB_ASSERT(labels[i] != NULL);
        l[i].s = labels[i];
        l[i].i = i;
    }
    qsort(l, (size_t)n, sizeof *l, cmp_lab);
    /* first index of each distinct label = the representative; number labels in order of first appearance */
    int32_t * first = vb_malloc(sizeof(int32_t) * (size_t)n); /* first[i] = first occurrence index of label of i */
    for (int32_t j = 0; j < n; j++) {
        int32_t f = (j > 0 && strcmp(l[j].s, l[j - 1].s) == 0) ? first[l[j - 1].i] : l[j].i;
        first[l[j].i] = f;
    }
    int32_t   k = 0;
    int32_t * num = vb_malloc(sizeof(int32_t) * (size_t)n);
    for (int32_t i = 0; i < n; i++) {
        if (first[i] == i) num[i] = k++;
        ids[i] = num[first[i]];
    }
    free(num);
    free(first);
    free(l);
    return k;
}

/* ---- accuracy CI ---- */

static int32_t check_clusters(const int32_t * cluster, int32_t n) {
    int32_t k = 0;
    for (int32_t i = 0; i < n; i++) {
        if (cluster[i] < 0 || cluster[i] >= n) return -1;
        if (cluster[i] + 1 > k) k = cluster[i] + 1;
    }
    return k;
}

/* statistic of a (weighted) table of per-category counts */
static double acc_stat(const double * tot, const double * cor, int32_t n_cat, enum vb_acc_mode mode) {
    if (mode == VB_ACC_POOLED) return tot[0] > 0 ? cor[0] / tot[0] : NAN;
    double  s = 0;
    int32_t m = 0;
    for (int32_t k = 0; k < n_cat; k++)
        if (tot[k] > 0) {
            s += cor[k] / tot[k];
            m++;
        }
    return m ? s / m : NAN;
}

int vb_stats_accuracy_ci(const uint8_t * correct, const int32_t * cluster, const int32_t * cat, int32_t n_cat,
                         int32_t n, enum vb_acc_mode mode, int32_t n_boot, uint64_t seed, double level,
                         struct vb_acc_ci * out) {
    if (!out || n < 0 || (n > 0 && !correct) || n_boot < 0 || !(level > 0 && level < 1))
        return vb_fail(VB_ERR_ARG, "accuracy_ci: bad arguments (n=%d, n_boot=%d, level=%g)", (int)n, (int)n_boot,
                       level);
    if (mode == VB_ACC_MACRO && (!cat || n_cat <= 0))
        return vb_fail(VB_ERR_ARG, "accuracy_ci: macro mode needs category ids");
    int32_t nc = mode == VB_ACC_MACRO ? n_cat : 1;
    memset(out, 0, sizeof *out);
    out->n = n;
    out->acc = out->lo = out->hi = NAN;
    if (n == 0) return VB_OK;
    int32_t k = n;
    if (cluster) {
        k = check_clusters(cluster, n);
        if (k < 0) return vb_fail(VB_ERR_ARG, "accuracy_ci: cluster id out of range 0..n-1");
    }
    if (mode == VB_ACC_MACRO)
        for (int32_t i = 0; i < n; i++)
            if (cat[i] < 0 || cat[i] >= n_cat) return vb_fail(VB_ERR_ARG, "accuracy_ci: category id out of range");
    /* per-cluster, per-category counts: (k, nc) */
    double *  ctot = vb_calloc((size_t)k * (size_t)nc, sizeof(double));
    double *  ccor = vb_calloc((size_t)k * (size_t)nc, sizeof(double));
    uint8_t * used = vb_calloc((size_t)k, 1);
    for (int32_t i = 0; i < n; i++) {
        int32_t c = cluster ? cluster[i] : i;
        int32_t j = mode == VB_ACC_MACRO ? cat[i] : 0;
        ctot[(size_t)c * nc + j] += 1;
        ccor[(size_t)c * nc + j] += correct[i] ? 1 : 0;
        out->n_correct += correct[i] ? 1 : 0;
        used[c] = 1;
    }
    /* compact to the clusters that occur (ids may be sparse when the caller passed a subset) */
    int32_t m = 0;
    for (int32_t c = 0; c < k; c++)
        if (used[c]) {
            memmove(ctot + (size_t)m * nc, ctot + (size_t)c * nc, sizeof(double) * (size_t)nc);
            memmove(ccor + (size_t)m * nc, ccor + (size_t)c * nc, sizeof(double) * (size_t)nc);
            m++;
        }
    out->n_clusters = m;
    double *tot = vb_calloc((size_t)nc, sizeof(double)), *cor = vb_calloc((size_t)nc, sizeof(double));
    for (int32_t c = 0; c < m; c++)
        for (int32_t j = 0; j < nc; j++) {
            tot[j] += ctot[(size_t)c * nc + j];
            cor[j] += ccor[(size_t)c * nc + j];
        }
    out->acc = acc_stat(tot, cor, nc, mode);
    out->lo = out->hi = out->acc;
    if (n_boot > 0) {
        double *      rep = vb_malloc(sizeof(double) * (size_t)n_boot);
        struct vb_rng r;
        vb_stats_rng_seed(&r, seed);
        int32_t nr = 0;
        for (int32_t b = 0; b < n_boot; b++) {
            memset(tot, 0, sizeof(double) * (size_t)nc);
            memset(cor, 0, sizeof(double) * (size_t)nc);
            for (int32_t t = 0; t < m; t++) {
                int32_t c = (int32_t)vb_stats_rng_below(&r, (uint64_t)m);
                for (int32_t j = 0; j < nc; j++) {
                    tot[j] += ctot[(size_t)c * nc + j];
                    cor[j] += ccor[(size_t)c * nc + j];
                }
            }
            double s = acc_stat(tot, cor, nc, mode);
            if (!isnan(s)) rep[nr++] = s;
        }
        qsort(rep, (size_t)nr, sizeof(double), cmp_double);
        out->lo = vb_stats_percentile_sorted(rep, nr, (1 - level) / 2);
        out->hi = vb_stats_percentile_sorted(rep, nr, 1 - (1 - level) / 2);
        free(rep);
    }
    free(tot);
    free(cor);
    free(used);
    free(ctot);
    free(ccor);
    return VB_OK;
}

/* ---- McNemar ---- */

double vb_stats_mcnemar_exact(int32_t b, int32_t c) {
    if (b < 0 || c < 0) return NAN;
    int32_t n = b + c, k = b < c ? b : c;
    if (n == 0) return 1.0;
    double p;
    if (n <= 62) {
        /* exact: sum_{i<=k} C(n, i) / 2^n with integer binomials (C(62,31) < 2^63) */
        uint64_t cnk = 1, s = 0;
        for (int32_t i = 0; i <= k; i++) {
            s += cnk;
            cnk = cnk * (uint64_t)(n - i) / (uint64_t)(i + 1); /* exact: C(n,i)·(n-i) divisible by i+1 */
        }
        p = 2.0 * ldexp((double)s, -n);
    } else {
        /* log-sum-exp of log C(n, i) - n log 2 */
        double   mx = -INFINITY;
        double * t = vb_malloc(sizeof(double) * (size_t)(k + 1));
        for (int32_t i = 0; i <= k; i++) {
            t[i] = lgamma(n + 1.0) - lgamma(i + 1.0) - lgamma(n - i + 1.0) - n * log(2.0);
            if (t[i] > mx) mx = t[i];
        }
        double s = 0;
        for (int32_t i = 0; i <= k; i++)
            s += exp(t[i] - mx);
        free(t);
        p = 2.0 * exp(mx + log(s));
    }
    return p > 1.0 ? 1.0 : p;
}

int vb_stats_paired(const uint8_t * ca, const uint8_t * cb, const int32_t * cluster, int32_t n, int32_t n_boot,
                    uint64_t seed, double level, struct vb_paired * out) {
    if (!out || n < 0 || (n > 0 && (!ca || !cb)) || n_boot < 0 || !(level > 0 && level < 1))
        return vb_fail(VB_ERR_ARG, "paired: bad arguments (n=%d, n_boot=%d)", (int)n, (int)n_boot);
    memset(out, 0, sizeof *out);
    out->n = n;
    out->acc_a = out->acc_b = out->diff = out->lo = out->hi = NAN;
    out->p_mcnemar = 1.0;
    if (n == 0) return VB_OK;
    int32_t k = n;
    if (cluster) {
        k = check_clusters(cluster, n);
        if (k < 0) return vb_fail(VB_ERR_ARG, "paired: cluster id out of range 0..n-1");
    }
    double * cd = vb_calloc((size_t)k, sizeof(double)); /* per cluster: sum of (a - b) */
    double * cn = vb_calloc((size_t)k, sizeof(double)); /* per cluster: questions */
    for (int32_t i = 0; i < n; i++) {
        int a = ca[i] ? 1 : 0, b = cb[i] ? 1 : 0;
        out->n_both += a && b;
        out->n_a_only += a && !b;
        out->n_b_only += !a && b;
        out->n_neither += !a && !b;
        int32_t c = cluster ? cluster[i] : i;
        cd[c] += a - b;
        cn[c] += 1;
    }
    out->acc_a = (double)(out->n_both + out->n_a_only) / n;
    out->acc_b = (double)(out->n_both + out->n_b_only) / n;
    out->diff = (double)(out->n_a_only - out->n_b_only) / n;
    out->p_mcnemar = vb_stats_mcnemar_exact(out->n_a_only, out->n_b_only);
    out->lo = out->hi = out->diff;
    int32_t m = 0;
    for (int32_t c = 0; c < k; c++)
        if (cn[c] > 0) {
            cd[m] = cd[c];
            cn[m] = cn[c];
            m++;
        }
    if (n_boot > 0) {
        double *      rep = vb_malloc(sizeof(double) * (size_t)n_boot);
        struct vb_rng r;
        vb_stats_rng_seed(&r, seed);
        for (int32_t b = 0; b < n_boot; b++) {
            double sd = 0, sn = 0;
            for (int32_t t = 0; t < m; t++) {
                int32_t c = (int32_t)vb_stats_rng_below(&r, (uint64_t)m);
                sd += cd[c];
                sn += cn[c];
            }
            rep[b] = sd / sn;
        }
        qsort(rep, (size_t)n_boot, sizeof(double), cmp_double);
        out->lo = vb_stats_percentile_sorted(rep, n_boot, (1 - level) / 2);
        out->hi = vb_stats_percentile_sorted(rep, n_boot, 1 - (1 - level) / 2);
        free(rep);
    }
    free(cd);
    free(cn);
    return VB_OK;
}
