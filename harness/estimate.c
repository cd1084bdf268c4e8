/* estimate.c — the run-time estimate of `vlapbench run` (see estimate.h): calibration on the run's own bundles, the
** model of the sample loop with the runner's sharing, the table, the stored note. */
#include "harness/estimate.h"

#include "base/common.h"
#include "engine/blas.h"
#include "engine/vit.h"
#include "harness/clip.h"
#include "harness/runner_internal.h"
#include "methods/bundle.h"
#include "methods/prompts.h"
#include "results/store.h"

#include <math.h>
#include <string.h>

#define CAL_T       8 /* candidates a selection is timed at (SeViLA's localizer chunk) */
#define CAL_SAMPLES 3 /* pending questions tried for a video that opens */

struct est_cell {
    int32_t    T, T_cal;
    double     fresh_us, reused_us; /* method end to end at T; with a reused selection */
    int        failed;              /* the method failed on the calibration input (times still used) */
    uint64_t * mask;                /* (words) its frames on the calibration video, bits over est->u */
    int32_t    n_distinct;          /* distinct frames */
    int32_t    n_todo;              /* pending samples */
    double     share_us, wall_us;   /* what it adds to the grid; cost of the samples it takes part in */
};

struct vb_estimate {
    int32_t           n_cells, n_todo, words, nu;
    struct est_cell * cell;
    int64_t *         u;                           /* (nu) frame indices of the cells' union */
    double            open_us, frame_us;           /* video open; decode + preprocess per distinct frame */
    double            vit_us[VB_RUNNER_MAX_CELLS]; /* per frame, by vision group (bundle index) */
    double            total_us, dec_us, vit_tot_us, meth_us, calib_us;
    int64_t           vit_frames; /* ViT frame passes of the model (the runner's "ViT frames computed") */
    double            load0;      /* 1-minute load average at the calibration (-1 unknown) */
    int               have_video;
    char              why[320]; /* what could not be measured */
};

/* ---------------------------------------------------------------- durations */

void vb_duration_human(double s, char * buf, size_t n) {
    if (!isfinite(s) || s < 0) {
        snprintf(buf, n, "?");
        return;
    }
    if (s == 0) {
        snprintf(buf, n, "0 s");
        return;
    }
    if (s < 0.9995) {
        if (s < 0.0005)
            snprintf(buf, n, "<1 ms");
        else
            snprintf(buf, n, "%.0f ms", s * 1e3);
        return;
    }
    if (s < 9.95) {
        snprintf(buf, n, "%.1f s", s);
        return;
    }
    if (s < 59.5) {
        snprintf(buf, n, "%.0f s", s);
        return;
    }
    static const struct {
        double      big;
        const char *a, *b;
        double      small;
    } u[] = {{60, "m", "s", 1}, {3600, "h", "m", 60}, {86400, "d", "h", 3600}};
    int i = s < 3600 - 0.5 ? 0 : s < 86400 - 30 ? 1 : 2;
    /* round to the small unit, then split */
    double  q = floor(s / u[i].small + 0.5);
    int64_t per = (int64_t)(u[i].big / u[i].small);
    int64_t hi = (int64_t)q / per, lo = (int64_t)q % per;
    if (lo)
        snprintf(buf, n, "%lld %s %lld %s", (long long)hi, u[i].a, (long long)lo, u[i].b);
    else
        snprintf(buf, n, "%lld %s", (long long)hi, u[i].a);
}

/* ---------------------------------------------------------------- calibration */

/* The 1-minute load average (/proc/loadavg), -1 when unknown: other processes on the cores change the speed
** between the calibration and the loop, so the table and the note say what it was. */
static double load_average(void) {
    double l = -1;
    FILE * f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1) l = -1;
        fclose(f);
    }
    return l;
}

static int cmp_i64(const void * a, const void * b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_dbl(const void * a, const void * b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Repetitions (the first timing included) after a first timing of first_us: 3, 1 above 0.5 s. */
static int reps_after(double first_us) {
    return first_us > 5e5 ? 1 : 3;
}

static double median(double * v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_dbl);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Index of frame f in the sorted union u (nu), -1 when absent. */
static int32_t u_find(const int64_t * u, int32_t nu, int64_t f) {
    const int64_t * p = bsearch(&f, u, (size_t)nu, sizeof *u, cmp_i64);
    return p ? (int32_t)(p - u) : -1;
}

/* The calibration question: the first pending sample (of the first CAL_SAMPLES) whose video opens; its clip in *cl
** and its frames per cell.  Returns the sample or NULL (then frames are per-cell and distinct). */
static const struct vb_sample * open_calibration_clip(struct vb_runner * R, struct vb_clip * cl, char * why,
                                                      size_t n_why) {
    int32_t tried = 0;
    for (int32_t j = 0; j < R->n_mine && tried < CAL_SAMPLES; j++) {
        const int * pj = R->pending + (size_t)j * R->n_cells;
        int         any = 0;
        for (int32_t i = 0; i < R->n_cells; i++)
            any |= pj[i];
        if (!any) continue;
        const struct vb_sample * s = &R->ds.s[R->sel[j]];
        tried++;
        if (!s->video_path) {
            snprintf(why, n_why, "no video path (--videos)");
            continue;
        }
        if (vb_clip_open(cl, s->video_path, R->image_size, R->interp, s->start_s, s->end_s) == VB_OK) return s;
        snprintf(why, n_why, "%s", vb_errmsg());
        vb_clip_close(cl);
    }
    return NULL;
}

/* Frames of every cell on the calibration clip (or made-up distinct ones when it has none), their union e->u, each
** cell's bit mask over it; then decode + preprocess the union once (times per open and per frame). */
static void calibrate_frames(struct vb_runner * R, struct vb_estimate * e, const struct vb_sample * s,
                             struct vb_clip * clip, int have) {
    int64_t * idx = vb_malloc(sizeof(int64_t) * (size_t)R->n_cells * VB_METHOD_MAX_CAND);
    int32_t   n = 0;
    char      err[512];
    for (int32_t i = 0; i < R->n_cells; i++) {
        int32_t T = R->cells[i].T;
        if (!have || vb_clip_frames(clip, R->policy, T, idx + n, err, sizeof err) != VB_OK)
            for (int32_t t = 0; t < T; t++) /* never shared: negative ids unique to the cell */
                idx[n + t] = -1 - ((int64_t)i * VB_METHOD_MAX_CAND + t);
        n += T;
    }
    int64_t * u = vb_malloc(sizeof(int64_t) * (size_t)(n > 0 ? n : 1));
    memcpy(u, idx, sizeof(int64_t) * (size_t)n);
    e->nu = vb_clip_unique(u, n);
    e->u = u;
    e->words = (e->nu + 63) / 64;
    n = 0;
    for (int32_t i = 0; i < R->n_cells; i++) {
        struct est_cell * c = &e->cell[i];
        c->mask = vb_calloc((size_t)(e->words > 0 ? e->words : 1), sizeof(uint64_t));
        for (int32_t t = 0; t < c->T; t++) {
            int32_t b = u_find(u, e->nu, idx[n + t]);
            if (b >= 0 && !(c->mask[b / 64] >> (b % 64) & 1)) {
                c->mask[b / 64] |= 1ULL << (b % 64);
                c->n_distinct++;
            }
        }
        n += c->T;
    }
    free(idx);
    if (!have) return;
    int32_t n_real = 0; /* the real (non-negative) frames are at the end of the sorted union */
    while (n_real < e->nu && e->u[e->nu - 1 - n_real] >= 0)
        n_real++;
    const int64_t * real = e->u + (e->nu - n_real);
    /* open + decode, repeated on a fresh open (median) unless one pass takes over 0.5 s; the last pass stays in clip */
    double vo[3], vf[3];
    int    nr = 1;
    for (int r = 0; r < nr; r++) {
        if (r > 0) {
            vb_clip_close(clip);
            if (vb_clip_open(clip, s->video_path, R->image_size, R->interp, s->start_s, s->end_s) != VB_OK) {
                nr = r; /* opened before: keep what was measured (no pixels now) */
                vb_clip_close(clip);
                break;
            }
        }
        int64_t t0 = vb_time_us();
        int32_t ok = n_real > 0 ? vb_clip_decode(clip, real, n_real) : 0;
        int64_t sum = 0;
        for (int32_t f = 0; f < clip->n; f++)
            if (clip->ok[f]) sum += clip->fr[f].t_decode_us + clip->fr[f].t_pre_us;
        vo[r] = (double)clip->t_open_us;
        vf[r] = ok > 0 ? (double)sum / ok : 0;
        if (r == 0) nr = reps_after((double)(vb_time_us() - t0 + clip->t_open_us));
    }
    e->open_us = median(vo, nr);
    e->frame_us = median(vf, nr);
}

/* Pixels of up to nb frames for the ViT (decoded ones when there are, else zeros), (nb, 3, H, H). */
static float * calibration_pixels(struct vb_runner * R, const struct vb_clip * clip, int have, int32_t nb) {
    size_t  fpx = (size_t)3 * (size_t)R->image_size * (size_t)R->image_size;
    float * px = vb_calloc(fpx * (size_t)nb, sizeof(float));
    int32_t n_ok = 0;
    for (int32_t f = 0; have && f < clip->n && n_ok < nb; f++)
        if (clip->ok[f]) memcpy(px + fpx * (size_t)n_ok++, clip->px + fpx * (size_t)f, sizeof(float) * fpx);
    for (int32_t q = n_ok; n_ok > 0 && q < nb; q++) /* fewer decoded than nb: repeat them */
        memcpy(px + fpx * (size_t)q, px + fpx * (size_t)(q % n_ok), sizeof(float) * fpx);
    return px;
}

/* ViT time per frame of vision group g (bundle index) and its body features of nb frames into *feats. */
static void calibrate_vit(struct vb_runner * R, struct vb_estimate * e, int32_t g, const float * px, float ** feats,
                          int32_t * n_feat) {
    const struct vb_vision_config * vc = &R->bs[g].b->cfg.vision;
    size_t                          nf = (size_t)vc->n_tokens * (size_t)vc->hidden;
    float *                         out = vb_malloc(sizeof(float) * nf * VB_RUNNER_VIT_BATCH);
    int64_t                         t0 = vb_time_us();
    vb_vit_run(R->bs[g].vit, px, 1, NULL, NULL, out, NULL);
    double  t1 = (double)(vb_time_us() - t0);
    int32_t nb = t1 < 2.5e5 ? VB_RUNNER_VIT_BATCH : 1;
    double  v[5];
    int     nr = reps_after(t1 * nb);
    for (int r = 0; r < nr; r++) {
        if (nb == 1 && r == 0) {
            v[0] = t1;
            continue;
        }
        t0 = vb_time_us();
        vb_vit_run(R->bs[g].vit, px, nb, NULL, NULL, out, NULL);
        v[r] = (double)(vb_time_us() - t0);
    }
    e->vit_us[g] = median(v, nr) / nb;
    *feats = out;
    *n_feat = nb;
}

/* One method call on features (T, n_tok, d) made of the nb calibration frames repeated; the result in *r. */
static double time_answer(struct vb_method * m, const struct vb_prompt_text * text, const float * feats, int32_t T,
                          const float * reuse, uint64_t seed, struct vb_method_result * r) {
    struct vb_method_input in = {.text = text, .feats = feats, .n_frames = T, .reuse_scores = reuse, .seed = seed};
    vb_method_answer(m, &in, r); /* a failure (NaN weights) still took its time */
    return (double)r->t_total_us;
}

/* Cell i's method cost: a calibration object with the cell's options (T' candidates when the selection may be
** timed on fewer), fresh and (reusable selection) reused, median of reps; the selection scaled to T. */
static void calibrate_cell(struct vb_runner * R, struct vb_estimate * e, int32_t i, const struct vb_prompt_text * text,
                           const float * gfeat, int32_t nb, uint64_t seed) {
    struct vb_runner_cell * cl = &R->cells[i];
    struct est_cell *       c = &e->cell[i];
    struct vb_method_opts   o = *vb_method_get_opts(cl->m);
    struct vb_method *      m = NULL;
    if (cl->T > CAL_T) {
        o.n_candidates = VB_MAX(cl->k, CAL_T);
        if (vb_method_open(&m, cl->ops, cl->bs->b, &o) != VB_OK) m = NULL;
    }
    if (!m) {
        o = *vb_method_get_opts(cl->m);
        if (vb_method_open(&m, cl->ops, cl->bs->b, &o) != VB_OK) {
            c->failed = 1;
            return;
        }
    }
    int32_t                         Tc = vb_method_get_opts(m)->n_candidates;
    const struct vb_vision_config * vc = &cl->bs->b->cfg.vision;
    size_t                          nf = (size_t)vc->n_tokens * (size_t)vc->hidden;
    float *                         feats = vb_malloc(sizeof(float) * nf * (size_t)Tc);
    for (int32_t t = 0; t < Tc; t++)
        memcpy(feats + nf * (size_t)t, gfeat + nf * (size_t)(t % nb), sizeof(float) * nf);
    struct vb_method_result * r = vb_malloc(sizeof *r);
    float *                   scores = vb_malloc(sizeof(float) * (size_t)Tc);
    double                    tf[5], ts[5], tr[5];
    int                       nr = 1, reuse = 0;
    for (int q = 0; q < nr; q++) {
        tf[q] = time_answer(m, text, feats, Tc, NULL, seed, r);
        ts[q] = (double)r->t_select_us;
        if (q == 0) {
            nr = reps_after(tf[0]);
            c->failed = r->prediction < 0;
            reuse = cl->ops->reusable_selection && r->has_scores;
            if (reuse) memcpy(scores, r->cand_scores, sizeof(float) * (size_t)Tc);
        }
        if (reuse) tr[q] = time_answer(m, text, feats, Tc, scores, seed, r);
    }
    double fresh = median(tf, nr), sel = median(ts, nr);
    /* the selection scales with the candidates; the rest does not */
    c->fresh_us = fresh + sel * ((double)cl->T / Tc - 1.0);
    c->reused_us = reuse ? median(tr, nr) : c->fresh_us;
    c->T_cal = Tc;
    free(scores);
    free(r);
    free(feats);
    vb_method_close(m);
}

/* ---------------------------------------------------------------- model */

/* The ViT cache as the model sees it: per (vision group, clip) the frames computed, least recently used evicted
** when the bytes exceed the bound (whole clips, an approximation of the runner's per-frame LRU). */
struct sim_entry {
    uint64_t   clip;
    int32_t    g;
    uint64_t * mask;
    int64_t    bytes, stamp;
};
struct sim {
    struct sim_entry * e;
    int32_t            n, cap;
    int64_t            bytes, bound, stamp;
};

/* The cache's byte bound: --vit-cache-mb, at least the features of the largest frame times the largest T. */
static int64_t sim_bound(const struct vb_runner * R) {
    return (int64_t)VB_MAX((size_t)R->c->vit_cache_mb << 20, R->fmax * (size_t)R->tmax);
}

static struct sim_entry * sim_get(struct sim * s, int32_t words, uint64_t clip, int32_t g) {
    for (int32_t i = 0; i < s->n; i++)
        if (s->e[i].clip == clip && s->e[i].g == g) {
            s->e[i].stamp = ++s->stamp;
            return &s->e[i];
        }
    if (s->n == s->cap) s->e = vb_realloc(s->e, sizeof *s->e * (size_t)(s->cap = s->cap ? 2 * s->cap : 16));
    struct sim_entry * x = &s->e[s->n++];
    memset(x, 0, sizeof *x);
    x->clip = clip, x->g = g, x->stamp = ++s->stamp;
    x->mask = vb_calloc((size_t)(words > 0 ? words : 1), sizeof(uint64_t));
    return x;
}

/* Evict least recently used entries (never the ones of stamp >= keep) while over the bound. */
static void sim_evict(struct sim * s, int64_t keep) {
    while (s->bytes > s->bound) {
        int32_t lru = -1;
        for (int32_t i = 0; i < s->n; i++)
            if (s->e[i].stamp < keep && (lru < 0 || s->e[i].stamp < s->e[lru].stamp)) lru = i;
        if (lru < 0) return;
        s->bytes -= s->e[lru].bytes;
        free(s->e[lru].mask);
        s->e[lru] = s->e[--s->n];
    }
}

static void sim_free(struct sim * s) {
    for (int32_t i = 0; i < s->n; i++)
        free(s->e[i].mask);
    free(s->e);
}

static int32_t popcount_new(const uint64_t * have, const uint64_t * want, int32_t words) {
    int32_t n = 0;
    for (int32_t w = 0; w < words; w++)
        n += __builtin_popcountll(want[w] & ~have[w]);
    return n;
}

static void or_into(uint64_t * dst, const uint64_t * src, int32_t words) {
    for (int32_t w = 0; w < words; w++)
        dst[w] |= src[w];
}

static uint64_t clip_key(const struct vb_sample * s) {
    uint64_t h = vb_fnv1a64(s->video_path ? s->video_path : "");
    int64_t  a, b;
    memcpy(&a, &s->start_s, sizeof a);
    memcpy(&b, &s->end_s, sizeof b);
    return h ^ ((uint64_t)a * 0x9e3779b97f4a7c15ULL) ^ ((uint64_t)b * 0xbf58476d1ce4e5b9ULL);
}

/* The frames of cell c's clip for sample s that its vision group has not computed yet in the simulated cache (all
** of them without a cache), now marked computed and their feature bytes charged to the cache. */
static int32_t sim_vit(struct sim * sm, int32_t W, const struct vb_runner * R, const struct vb_runner_cell * cl,
                       const struct est_cell * c, const struct vb_sample * s) {
    if (R->c->vit_cache_mb == 0) return c->n_distinct;
    struct sim_entry * x = sim_get(sm, W, clip_key(s), cl->bs->vgroup);
    int32_t            n_new = popcount_new(x->mask, c->mask, W);
    or_into(x->mask, c->mask, W);
    const struct vb_vision_config * vc = &cl->bs->b->cfg.vision;
    int64_t                         b = (int64_t)n_new * vc->n_tokens * vc->hidden * (int64_t)sizeof(float);
    x->bytes += b, sm->bytes += b;
    return n_new;
}

/* Every pending sample through the model: totals, each cell's share and session estimate. */
static void model(struct vb_runner * R, struct vb_estimate * e) {
    int32_t    W = e->words > 0 ? e->words : 1;
    uint64_t * dec = vb_malloc(sizeof(uint64_t) * (size_t)W);
    double *   add = vb_malloc(sizeof(double) * (size_t)(R->n_cells > 0 ? R->n_cells : 1));
    struct sim sm = {.bound = sim_bound(R)};
    for (int32_t j = 0; j < R->n_mine; j++) {
        const int *              pj = R->pending + (size_t)j * R->n_cells;
        const struct vb_sample * s = &R->ds.s[R->sel[j]];
        int                      any = 0;
        for (int32_t i = 0; i < R->n_cells; i++)
            any |= pj[i];
        if (!any) continue;
        e->n_todo++;
        memset(dec, 0, sizeof(uint64_t) * (size_t)W);
        int64_t now = sm.stamp + 1;
        double  cost = 0;
        for (int32_t i = 0; i < R->n_cells; i++) {
            add[i] = 0;
            if (!pj[i]) continue;
            struct vb_runner_cell * cl = &R->cells[i];
            struct est_cell *       c = &e->cell[i];
            c->n_todo++;
            /* decode + preprocess: the open once, each frame of the union once */
            double d = (cost == 0 ? e->open_us : 0) + popcount_new(dec, c->mask, W) * e->frame_us;
            or_into(dec, c->mask, W);
            /* ViT: the frames of the clip not computed yet in this vision group */
            int32_t g = cl->bs->vgroup, n_new = sim_vit(&sm, W, R, cl, c, s);
            double  v = n_new * e->vit_us[g];
            e->vit_frames += n_new;
            /* the method: reused selection when an earlier pending cell of the question computed it */
            int reused = 0;
            for (int32_t q = 0; q < i && cl->ops->reusable_selection && !reused; q++)
                reused = pj[q] && R->cells[q].ops == cl->ops && R->cells[q].bs == cl->bs && R->cells[q].T == cl->T;
            double mt = reused ? c->reused_us : c->fresh_us;
            add[i] = d + v + mt;
            e->dec_us += d, e->vit_tot_us += v, e->meth_us += mt;
            cost += add[i];
        }
        sim_evict(&sm, now);
        e->total_us += cost;
        for (int32_t i = 0; i < R->n_cells; i++)
            if (pj[i]) {
                e->cell[i].share_us += add[i];
                e->cell[i].wall_us += cost;
            }
    }
    sim_free(&sm);
    free(dec);
    free(add);
}

/* Cell i run by itself over the same order: each pending question's open and frames decoded, through the ViT the
** frames its clip has not computed yet in the cache (the same simulation as model, this cell's vision group only),
** its method fresh.  Microseconds. */
static double model_alone(struct vb_runner * R, const struct vb_estimate * e, int32_t i) {
    const int32_t                 W = e->words > 0 ? e->words : 1;
    const struct vb_runner_cell * cl = &R->cells[i];
    const struct est_cell *       c = &e->cell[i];
    const int32_t                 g = cl->bs->vgroup;
    struct sim                    sm = {.bound = sim_bound(R)};
    double                        tot = 0;
    for (int32_t j = 0; j < R->n_mine; j++) {
        if (!R->pending[(size_t)j * R->n_cells + i]) continue;
        int64_t now = sm.stamp + 1;
        int32_t n_new = sim_vit(&sm, W, R, cl, c, &R->ds.s[R->sel[j]]);
        tot += e->open_us + c->n_distinct * e->frame_us + n_new * e->vit_us[g] + c->fresh_us;
        sim_evict(&sm, now);
    }
    sim_free(&sm);
    return tot;
}

/* ---------------------------------------------------------------- table */

static void print_table(struct vb_runner * R, const struct vb_estimate * e, FILE * f) {
    char cpu[256], a[48], b[48], c3[48], d[48];
    vb_cpu_model(cpu, sizeof cpu);
    vb_duration_human(e->calib_us / 1e6, a, sizeof a);
    fprintf(f,
            "estimate: %d of %d samples of this shard to do, %d cells; %s, %d BLAS threads, load average %.1f; "
            "calibrated in %s%s%s\n",
            e->n_todo, R->n_mine, R->n_cells, cpu, vb_blas_threads(), e->load0, a, e->why[0] ? "; " : "", e->why);
    fprintf(f, "  %-8s %4s %4s %7s %14s %12s %14s\n", "method", "k", "T", "to do", "per question", "alone",
            "in this grid");
    double alone_sum = 0;
    for (int32_t i = 0; i < R->n_cells; i++) {
        const struct est_cell * c = &e->cell[i];
        /* per question: cold (open + its frames decoded, run through the ViT, its method); alone: the cell by
        ** itself over the run's order, its ViT features shared between the questions of a clip through the cache */
        double q = e->open_us + c->n_distinct * (e->frame_us + e->vit_us[R->cells[i].bs->vgroup]) + c->fresh_us;
        double al = model_alone(R, e, i);
        alone_sum += al;
        vb_duration_human(q / 1e6, a, sizeof a);
        vb_duration_human(al / 1e6, b, sizeof b);
        vb_duration_human(c->share_us / 1e6, c3, sizeof c3);
        fprintf(f, "  %-8s %4d %4d %7d %14s %12s %14s%s\n", R->c->methods[R->cells[i].mi].name, R->cells[i].k, c->T,
                c->n_todo, a, b, c3, c->failed ? "  (method failed on the calibration input)" : "");
    }
    vb_duration_human(e->total_us / 1e6, a, sizeof a);
    vb_duration_human(e->dec_us / 1e6, b, sizeof b);
    vb_duration_human(e->vit_tot_us / 1e6, c3, sizeof c3);
    vb_duration_human(e->meth_us / 1e6, d, sizeof d);
    fprintf(f, "  total: %s (%.1f s) for the grid: decode + preprocess %s, ViT %s (%lld frames), methods %s", a,
            e->total_us / 1e6, b, c3, (long long)e->vit_frames, d);
    vb_duration_human(alone_sum / 1e6, a, sizeof a);
    fprintf(f, "; the cells one by one: %s\n", a);
}

/* ---------------------------------------------------------------- entry points */

void vb_estimate_run(struct vb_runner * R, FILE * out, struct vb_estimate ** est) {
    int64_t              t0 = vb_time_us();
    struct vb_estimate * e = vb_calloc(1, sizeof *e);
    e->load0 = load_average();
    e->n_cells = R->n_cells;
    e->cell = vb_calloc((size_t)(R->n_cells > 0 ? R->n_cells : 1), sizeof *e->cell);
    for (int32_t i = 0; i < R->n_cells; i++)
        e->cell[i].T = R->cells[i].T;
    int32_t n_todo = 0;
    for (int32_t j = 0; j < R->n_mine * R->n_cells; j++)
        n_todo += R->pending[j];
    if (n_todo > 0) {
        struct vb_clip clip;
        memset(&clip, 0, sizeof clip);
        const struct vb_sample * s = open_calibration_clip(R, &clip, e->why, sizeof e->why);
        e->have_video = s != NULL;
        if (!s) { /* no video to time: decode unmeasured, the text of the first pending sample */
            char reason[sizeof e->why];
            snprintf(reason, sizeof reason, "%s", e->why);
            snprintf(e->why, sizeof e->why, "decode not measured (%.250s)", reason);
            for (int32_t j = 0; j < R->n_mine && !s; j++)
                for (int32_t i = 0; i < R->n_cells && !s; i++)
                    if (R->pending[(size_t)j * R->n_cells + i]) s = &R->ds.s[R->sel[j]];
        }
        calibrate_frames(R, e, s, &clip, e->have_video);
        struct vb_prompt_text text;
        memset(&text, 0, sizeof text);
        int     tok = vb_prompt_text_from_sample(&text, s, R->dk == VB_DS_NEXTQA) == VB_OK;
        float * px = calibration_pixels(R, &clip, e->have_video, VB_RUNNER_VIT_BATCH);
        for (int32_t g = 0; g < R->n_bs; g++) {
            if (R->bs[g].vgroup != g) continue;
            float * feats = NULL;
            int32_t nb = 0;
            calibrate_vit(R, e, g, px, &feats, &nb);
            for (int32_t i = 0; tok && i < R->n_cells; i++)
                if (R->cells[i].bs->vgroup == g)
                    calibrate_cell(R, e, i, &text, feats, nb, vb_runner_question_seed(R->c->seed, s->key));
            free(feats);
        }
        if (!tok) snprintf(e->why, sizeof e->why, "methods not measured: prompt of %s: %s", s->key, vb_errmsg());
        free(px);
        vb_prompt_text_free(&text);
        if (e->have_video) vb_clip_close(&clip);
        model(R, e);
    }
    e->calib_us = (double)(vb_time_us() - t0);
    if (out) print_table(R, e, out);
    *est = e;
}

double vb_estimate_total_s(const struct vb_estimate * e) {
    return e ? e->total_us / 1e6 : 0;
}

double vb_estimate_calib_s(const struct vb_estimate * e) {
    return e ? e->calib_us / 1e6 : 0;
}

int vb_estimate_record(const struct vb_estimate * e, struct vb_store * st, int32_t i, int64_t run_id, double wall_s) {
    if (!e || i < 0 || i >= e->n_cells) return VB_OK;
    const struct est_cell * c = &e->cell[i];
    double                  est = c->wall_us / 1e6;
    char                    a[48], b[48], s1[48], s2[48], note[480];
    vb_duration_human(est, a, sizeof a);
    vb_duration_human(wall_s, b, sizeof b);
    vb_duration_human(c->share_us / 1e6, s1, sizeof s1);
    vb_duration_human(e->total_us / 1e6, s2, sizeof s2);
    if (est > 0)
        snprintf(note, sizeof note,
                 "estimate %s vs actual %s (actual/estimate %.2f) for %d sample(s); this cell's share %s of the "
                 "grid's %s; load average %.1f at the calibration, %.1f at the end",
                 a, b, wall_s / est, c->n_todo, s1, s2, e->load0, load_average());
    /* a session with nothing to do (a complete cell resumed) gets estimate 0 and no note */
    return vb_store_set_estimate(st, run_id, est, est > 0 ? note : NULL);
}

void vb_estimate_free(struct vb_estimate * e) {
    if (!e) return;
    for (int32_t i = 0; i < e->n_cells; i++)
        free(e->cell[i].mask);
    free(e->cell);
    free(e->u);
    free(e);
}
