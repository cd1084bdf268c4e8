/* sampling.c — the three "uniform" conventions of docs/formats.md §7, bit-exact with their numpy originals. */
#include "datasets/sampling.h"

#include "base/common.h"

#include <math.h>
#include <string.h>

static const char * const NAMES[VB_SAMPLING_COUNT] = {"uniform_midbin", "uniform_endpoints", "uniform_interior"};

int vb_sampling_parse(const char * name, enum vb_sampling_policy * p) {
    for (int i = 0; i < VB_SAMPLING_COUNT; i++) {
        if (name && strcmp(name, NAMES[i]) == 0) {
            *p = (enum vb_sampling_policy)i;
            return VB_OK;
        }
    }
    return vb_fail(VB_ERR_ARG, "unknown sampling policy '%s' (uniform_midbin, uniform_endpoints, uniform_interior)",
                   name ? name : "(null)");
}

const char * vb_sampling_name(enum vb_sampling_policy p) {
    return (p >= 0 && p < VB_SAMPLING_COUNT) ? NAMES[p] : "?";
}

int vb_sampling_segment(double fps, int64_t vlen, double start_s, double end_s, int64_t * start, int64_t * end) {
    if (!(fps > 0) || !isfinite(fps) || vlen < 0)
        return vb_fail(VB_ERR_ARG, "segment: bad fps %g or vlen %lld", fps, (long long)vlen);
    if (start_s < 0 || end_s < 0) {
        *start = 0;
        *end = vlen;
        return VB_OK;
    }
    if (!isfinite(start_s) || !isfinite(end_s) || start_s * fps > 9e15 || end_s * fps > 9e15)
        return vb_fail(VB_ERR_ARG, "segment: times %g-%g s out of range", start_s, end_s);
    int64_t s = (int64_t)(start_s * fps); /* Python int(): truncation toward zero */
    int64_t e = (int64_t)(end_s * fps);
    if (s < 0) s = 0;
    if (e > vlen) e = vlen;
    *start = s;
    *end = e;
    return VB_OK;
}

/* numpy.linspace(a, b, num)[i] for i < num-1 (the last element is b exactly): i * step + a, step = (b - a) / div,
** div = num - 1; when step == 0 numpy computes i / div * delta instead (also a). */
static double linspace_at(double a, double b, int64_t num, int64_t i) {
    if (num > 1 && i == num - 1) return b;
    double div = (double)(num - 1);
    if (num <= 1) return a; /* numpy: step is nan, y = i * delta = 0 for i = 0 */
    double delta = b - a;
    double step = delta / div;
    if (step == 0) return (double)i / div * delta + a;
    return (double)i * step + a;
}

static int64_t floordiv2(int64_t x) {
    return x >= 0 ? x / 2 : -((-x + 1) / 2);
}

int32_t vb_sampling_indices(enum vb_sampling_policy p, int64_t start, int64_t end, int64_t vlen, int32_t n,
                            int64_t * out) {
    if (n <= 0) return vb_fail(VB_ERR_ARG, "sampling: n = %d frames requested", n);
    if (vlen <= 0) return vb_fail(VB_ERR_ARG, "sampling: video has %lld frames", (long long)vlen);
    int32_t k = 0;
    switch (p) {
    case VB_SAMPLING_UNIFORM_MIDBIN: {
        int64_t m = n < vlen ? n : vlen; /* clamp to the WHOLE video's frame count, as SeViLA does */
        int64_t prev = (int64_t)linspace_at((double)start, (double)end, m + 1, 0);
        for (int64_t i = 0; i < m; i++) {
            int64_t next = (int64_t)linspace_at((double)start, (double)end, m + 1, i + 1); /* astype(int) */
            out[k++] = floordiv2(prev + next);
            prev = next;
        }
        break;
    }
    case VB_SAMPLING_UNIFORM_ENDPOINTS: {
        int64_t T = end - start;
        if (T <= 0)
            return vb_fail(VB_ERR_NOTFOUND, "sampling: empty range [%lld, %lld)", (long long)start, (long long)end);
        int64_t m = n < T ? n : T;
        for (int64_t i = 0; i < m; i++) {
            int64_t v = (int64_t)linspace_at(0.0, (double)(T - 1), m, i) + start;
            if (k == 0 || out[k - 1] != v) out[k++] = v; /* np.unique of a sorted list */
        }
        break;
    }
    case VB_SAMPLING_UNIFORM_INTERIOR: {
        int64_t T = end - start;
        if (T <= 0)
            return vb_fail(VB_ERR_NOTFOUND, "sampling: empty range [%lld, %lld)", (long long)start, (long long)end);
        double step = (double)T / (double)(n + 1);
        for (int32_t i = 1; i <= n; i++)
            out[k++] = (int64_t)((double)i * step) + start;
        break;
    }
    default:
        return vb_fail(VB_ERR_ARG, "sampling: unknown policy %d", (int)p);
    }
    for (int32_t i = 0; i < k; i++) {
        if (out[i] < 0 || out[i] >= vlen)
            return vb_fail(VB_ERR_NOTFOUND,
                           "sampling: %s index %lld outside the video's %lld frames (range [%lld, %lld))",
                           vb_sampling_name(p), (long long)out[i], (long long)vlen, (long long)start, (long long)end);
    }
    return k;
}

int32_t vb_sampling_n_distinct(const int64_t * idx, int32_t n) {
    int32_t d = 0;
    for (int32_t i = 0; i < n; i++) {
        int seen = 0;
        for (int32_t j = 0; j < i && !seen; j++)
            seen = idx[j] == idx[i];
        d += !seen;
    }
    return d;
}
