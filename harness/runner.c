/* runner.c — the main loop of `vlapbench run` (see runner.h and docs/runner.md).
**
** CHARGING RULE (what the stored per-sample stage times mean).  Work is shared inside a run, but every stored time is
** the COLD cost of the cell, i.e. what answering that question with that method and k would cost alone:
**   decode      the video open (packet index) time + the sum of the per-frame decode times of the cell's distinct
**               frames.  The union of the frames all pending
**               cells need is decoded once, frame by frame in ascending order; each frame's time is the time to
**               advance the decoder to it from the previous target (seeks included).
**   preprocess  sum of the per-frame resize+normalise times of the cell's frames (one per slot).
**   vit         the cell's cache look-ups and the method's ln_vision + the recorded compute time of every frame slot
**               (harness/vitfeat.h).  The runner computes the missing distinct frames of a cell right before it,
**               in batches of up to VB_RUNNER_VIT_BATCH (as the method would batch them alone), and keeps the batch
**               time / batch size with each cache entry; a frame shared by several cells is computed once and
**               charged to each of them.  The features do not depend on the
**               batch: every engine kernel's output row depends only on its own input row (the engine's own GEMM,
**               per-frame attention; tests/test_vision.c, test_wmat.c), so resumed / sharded runs equal one-piece
**               runs bit for bit whichever frames were batched together.
**   select      a method whose selection is reusable across k (ops->reusable_selection, e.g. a localizer) runs
**               it once per question, bundle and T; every k is charged its measured time (the first k's
**               t_select_us) in addition to its own top-k time.  Other methods: their own selection time.
**   qformer, t5_enc, t5_dec   measured (never shared).
**   total       the method's end-to-end time + the charges added above (so total >= the sum of the stages).
** Each cell's session wall time is the actual elapsed time of the loop iterations (samples) the cell took part in,
** whole iterations, i.e. including the work of the other cells of the sample (shared by the cells of the grid: do not
** add the wall times of cells of one grid_id).  Since every charged piece was really computed once in those
** iterations, the sum of a cell's totals stays below its wall time.  The arithmetic is harness/charge.h.
**
** The runner orchestrates and the methods compute: nothing here names a method; what a method needs from the
** runner (its candidate count, whether its selection is reusable) comes from its ops (methods/method.h) found in the
** registry (harness/registry.h).  Files: runner.c (this: the run), runner_setup.c (samples, bundles, cells, store
** runs), runner_order.c (the samples grouped by video), runner_sample.c (one sample through its pending cells),
** runner_failfast.c (the fail-fast check).
*/
#include "harness/runner.h"

#include "base/common.h"
#include "engine/blas.h"
#include "harness/estimate.h"
#include "harness/progress.h"
#include "harness/runner_internal.h"
#include "methods/bundle.h"

#include <string.h>

int32_t vb_runner_shard_of(const char * key, int32_t n) {
    if (n <= 1) return 0;
    return (int32_t)(vb_fnv1a64(key) % (uint64_t)n);
}

uint64_t vb_runner_question_seed(uint64_t seed, const char * key) {
    uint64_t z = seed ^ vb_fnv1a64(key);
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Parse the configuration's names into R (dataset, sampling, interpolation, selection, decode mode, weights). */
static int parse_config(struct vb_runner * R) {
    const struct vb_run_config * c = R->c;
    int                          rc = vb_dataset_kind_parse(c->dataset, &R->dk);
    if (rc == VB_OK) rc = vb_sampling_parse(c->sampling, &R->policy);
    if (rc == VB_OK) rc = vb_video_interp_parse(c->interp, &R->interp);
    if (rc == VB_OK) rc = vb_select_mode_parse(c->selection, &R->selmode);
    if (rc == VB_OK) rc = vb_decode_mode_parse(c->decode_mode, &R->decmode);
    if (rc == VB_OK) rc = vb_runconfig_weight_dtype(c->weights, &R->weight_dtype);
    return rc;
}

/* The sample loop: every sample of this shard with a pending cell, in the run's order (runner_order.c). */
static int sample_loop(struct vb_runner * R) {
    const struct vb_run_config * c = R->c;
    struct vb_runner_report *    rep = R->rep;
    struct vb_progress           pr;
    int                          rc = VB_OK;
    vb_progress_start(&pr, stderr, "run", R->n_todo, c->quiet, -1);
    int64_t t_loop = vb_time_us();
    for (int32_t j = 0; j < R->n_mine && rc == VB_OK; j++) {
        const int * pj = R->pending + (size_t)j * R->n_cells;
        int         any = 0;
        for (int32_t i = 0; i < R->n_cells; i++)
            any |= pj[i];
        if (!any) continue;
        int     timed = rep->n_processed >= c->warmup;
        int64_t ts = vb_time_us();
        rc = vb_runner_process_sample(R, &R->ds.s[R->sel[j]], pj, timed);
        ts = vb_time_us() - ts;
        for (int32_t i = 0; i < R->n_cells; i++)
            if (pj[i]) R->cells[i].wall_us += ts;
        rep->n_processed++;
        rep->n_warmup += !timed;
        if (rc == VB_OK) rc = vb_runner_fail_fast(R);
        char note[64];
        snprintf(note, sizeof note, "%lld error row(s)", (long long)rep->n_rows_error);
        vb_progress_add(&pr, 1, rep->n_rows_error ? note : NULL);
    }
    rep->wall_s = (double)(vb_time_us() - t_loop) / 1e6;
    if (rc == VB_OK) {
        char note[96];
        snprintf(note, sizeof note, "%lld rows, %lld error row(s)", (long long)(rep->n_rows_ok + rep->n_rows_error),
                 (long long)rep->n_rows_error);
        vb_progress_end(&pr, note);
    }
    return rc;
}

/* Keep the first error: rc, or frc with its message saved when rc is still VB_OK. */
static int keep_first(int rc, int frc, char * saved, size_t n) {
    if (frc == VB_OK || rc != VB_OK) return rc;
    snprintf(saved, n, "%s", vb_errmsg());
    return frc;
}

/* Finish every begun run (failed when the run failed), close the store, cache, methods and bundles, fill the
** report's totals.  Returns rc or the first finishing error (its message in saved). */
static int finish(struct vb_runner * R, int rc, char * saved, size_t n_saved) {
    struct vb_runner_report * rep = R->rep;
    int                       failed = rc != VB_OK;
    rep->peak_rss_kb = vb_rss_peak_kb();
    snprintf(rep->weights, sizeof rep->weights, "%s", R->c->weights);
    for (int32_t i = 0; i < R->n_bs; i++) {
        rep->n_vit_shared += R->bs[i].b->vit_lender != NULL;
        rep->n_t5_shared += R->bs[i].b->t5_lender != NULL;
        rep->shared_bytes += R->bs[i].b->shared_bytes;
    }
    rep->n_bundles = R->n_bs;
    for (int32_t i = 0; i < R->n_cells; i++) {
        struct vb_runner_cell * cl = &R->cells[i];
        if (cl->began) {
            int frc = vb_store_set_peak_rss(R->st, cl->run_id, rep->peak_rss_kb);
            if (frc == VB_OK) frc = vb_estimate_record(R->est, R->st, i, cl->run_id, (double)cl->wall_us / 1e6);
            if (frc == VB_OK) frc = vb_store_finish_run(R->st, cl->run_id, (double)cl->wall_us / 1e6, failed);
            rc = keep_first(rc, frc, saved, n_saved);
        }
        vb_keyset_free(&cl->done);
        vb_method_close(cl->m);
    }
    if (R->st) rc = keep_first(rc, vb_store_close(R->st), saved, n_saved);
    if (R->cache) {
        struct vb_vitcache_stats cs;
        vb_vitcache_stats(R->cache, &cs);
        rep->vit_hits = cs.n_hits, rep->vit_misses = cs.n_misses, rep->vit_evictions = cs.n_evictions;
        vb_vitcache_free(R->cache);
    }
    vb_runner_close_bundles(R);
    vb_estimate_free(R->est);
    return rc;
}

int vb_runner_run(const struct vb_run_config * c, struct vb_runner_report * rep_out) {
    int rc = vb_runconfig_validate(c);
    if (rc != VB_OK) return rc;
    struct vb_runner *        R = vb_calloc(1, sizeof *R);
    struct vb_runner_report * rep = vb_calloc(1, sizeof *rep);
    R->c = c;
    R->rep = rep;
    rc = parse_config(R);
    int threads = rc == VB_OK ? vb_blas_set_threads(c->threads) : 0;
    /* dataset and selection, bundles and methods (everything checked before the store is touched), store runs */
    if (rc == VB_OK) rc = vb_dataset_load(&R->ds, R->dk, c->annotations, c->map, c->videos, c->skip_bad);
    if (rc == VB_OK) {
        rep->n_loaded = R->ds.n;
        if (R->ds.n_bad > 0) fprintf(stderr, "run: %d malformed record(s) skipped (--skip-bad)\n", R->ds.n_bad);
        rc = vb_runner_select_samples(R);
        rep->n_selected = R->n_sel;
        rep->n_shard = R->n_mine;
    }
    if (rc == VB_OK) rc = vb_runner_open_cells(R);
    if (rc == VB_OK) rc = vb_runner_begin_runs(R, threads);
    if (rc == VB_OK && c->estimate != 1) rc = vb_runner_fail_fast_stored(R);
    if (rc == VB_OK && c->estimate >= 0) { /* the estimate: the table on stdout for --estimate (no loop), else stderr */
        vb_estimate_run(R, c->estimate == 1 ? stdout : c->quiet ? NULL : stderr, &R->est);
        rep->est_s = vb_estimate_total_s(R->est);
        rep->est_calib_s = vb_estimate_calib_s(R->est);
    }
    if (rc == VB_OK && c->estimate != 1) rc = sample_loop(R);
    char saved[1024];
    snprintf(saved, sizeof saved, "%s", vb_errmsg());
    rc = finish(R, rc, saved, sizeof saved);
    free(R->sel);
    free(R->pending);
    vb_dataset_free(&R->ds);
    free(R);
    if (rep_out) *rep_out = *rep;
    free(rep);
    if (rc != VB_OK) vb_fail(rc, "%s", saved);
    return rc;
}
