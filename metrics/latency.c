/* latency.c — stage names and latency summaries (definitions in latency.h). */
#include "metrics/latency.h"

#include "base/common.h"
#include "metrics/stats.h"

#include <math.h>
#include <stdlib.h>

static const char * STAGE_NAMES[VB_STAGE_COUNT] = {"decode",  "preprocess", "vit",    "select",
                                                   "qformer", "t5_enc",     "t5_dec", "total"};

const char * vb_latency_stage_name(enum vb_stage s) {
    if ((int)s < 0 || s >= VB_STAGE_COUNT) return "?";
    return STAGE_NAMES[s];
}

static int cmp_double(const void * a, const void * b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int vb_latency_summarize(const double * x, int32_t n, struct vb_latency_summary * out) {
    if (!out || n < 0 || (n > 0 && !x)) return vb_fail(VB_ERR_ARG, "latency: bad arguments (n=%d)", (int)n);
    out->n = 0;
    out->mean = out->sd = out->min = out->p50 = out->p90 = out->p99 = out->max = NAN;
    double * v = vb_malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
    int32_t  m = 0;
    for (int32_t i = 0; i < n; i++)
        if (x[i] >= 0 && isfinite(x[i])) v[m++] = x[i];
    if (m > 0) {
        qsort(v, (size_t)m, sizeof(double), cmp_double);
        out->n = m;
        out->mean = vb_stats_mean(v, m);
        out->sd = vb_stats_sd(v, m);
        out->min = v[0];
        out->max = v[m - 1];
        out->p50 = vb_stats_percentile_sorted(v, m, 0.50);
        out->p90 = vb_stats_percentile_sorted(v, m, 0.90);
        out->p99 = vb_stats_percentile_sorted(v, m, 0.99);
    }
    free(v);
    return VB_OK;
}

double vb_latency_speedup(double ref, double value) {
    if (!(ref > 0) || !(value > 0) || !isfinite(ref) || !isfinite(value)) return NAN;
    return ref / value;
}
