/* runner_sample.c — one sample of `vlapbench run` through its pending cells: the clip decoded once for all of them,
** ViT features through the shared cache, each cell's method, the charged row (see runner.c's CHARGING RULE). */
#include "base/common.h"
#include "harness/charge.h"
#include "harness/clip.h"
#include "harness/runner_internal.h"
#include "harness/vitfeat.h"
#include "methods/bundle.h"
#include "methods/prompts.h"

#include <signal.h>
#include <string.h>

/* What the cells of one sample share. */
struct sample {
    struct vb_runner *       R;
    const struct vb_sample * s;
    int                      timed;
    struct vb_prompt_text    text;
    char *                   prompt; /* the QA prompt every method is fed (stored with each row), NULL if none */
    struct vb_clip           clip;
    double                   fps;
    int64_t                  vlen;
    uint64_t                 video_key, qseed;
    float *                  cellpx;             /* (tmax, 3, H, H) one cell's pixels */
    float *                  feats;              /* (tmax, n_tok, d_vis) one cell's ViT features */
    float *                  vit_work, *vit_out; /* ViT batch scratch */
    struct vb_select_memo    memo;               /* reusable selection results of this question */
};

/* One cell's frames. */
struct plan {
    int32_t n;                       /* T */
    int64_t idx[VB_METHOD_MAX_CAND]; /* (n) frame indices */
    char    err[512];                /* non-empty: error row */
};

static int put_row(struct vb_runner * R, struct vb_runner_cell * cl, struct vb_store_sample * row) {
    int rc = vb_store_put_sample(R->st, cl->run_id, row);
    if (rc != VB_OK) return rc;
    if (row->error)
        cl->rep->n_error++, R->rep->n_rows_error++;
    else
        cl->rep->n_ok++, R->rep->n_rows_ok++;
    R->n_put++;
    if (R->c->kill_after > 0 && R->n_put >= R->c->kill_after) {
        fprintf(stderr, "run: --kill-after %d reached, SIGKILL\n", R->c->kill_after);
        fflush(stderr);
        raise(SIGKILL);
    }
    return VB_OK;
}

static void row_base(const struct sample * S, struct vb_store_sample * row) {
    const struct vb_sample * s = S->s;
    vb_store_sample_init(row);
    row->key = s->key;
    row->video_id = s->video_id;
    row->category = s->category ? s->category : s->dataset;
    row->group = s->group ? s->group : row->category;
    row->answer = s->answer;
    row->n_options = s->n_options;
    row->shard = S->R->c->shard_n > 0 ? S->R->c->shard_i : 0;
    row->frame_lo = S->clip.f0, row->frame_hi = S->clip.f1, row->fps = S->fps, row->vlen = S->vlen;
    row->prompt = S->prompt;
}

static int error_row(const struct sample * S, struct vb_runner_cell * cl, const char * msg) {
    struct vb_store_sample row;
    row_base(S, &row);
    row.error = msg && *msg ? msg : "error";
    struct vb_runner * R = S->R;
    char               kind[512];
    vb_runner_error_kind(row.error, S->s->video_path, S->s->video_id, kind, sizeof kind);
    if (!R->cur_sig[0]) {
        snprintf(R->cur_sig, sizeof R->cur_sig, "%s", kind);
        snprintf(R->cur_msg, sizeof R->cur_msg, "%s", row.error);
    } else if (strcmp(R->cur_sig, kind))
        R->cur_mixed = 1;
    return put_row(S->R, cl, &row);
}

/* Prompt text and video of the sample; on failure the reason in err (every pending cell gets an error row). */
static void open_sample(struct sample * S, char * err, size_t n_err) {
    const struct vb_sample * s = S->s;
    struct vb_runner *       R = S->R;
    /* NExT-QA's CSV: the reference loader's unification ('?' and '.') */
    int trc = vb_prompt_text_from_sample(&S->text, s, R->dk == VB_DS_NEXTQA);
    if (trc == VB_OK) S->prompt = vb_prompt_qa(&S->text);
    if (trc != VB_OK)
        snprintf(err, n_err, "prompt: %s", vb_errmsg());
    else if (!s->video_path)
        snprintf(err, n_err, "no video path (give the videos root: --videos)");
    else if (vb_clip_open(&S->clip, s->video_path, R->image_size, R->interp, s->start_s, s->end_s) != VB_OK)
        snprintf(err, n_err, "%s", vb_errmsg());
    S->fps = S->clip.vid.fps > 0 ? S->clip.vid.fps : -1;
    S->vlen = S->clip.vid.priv ? S->clip.vid.n_frames : -1;
}

/* Frame lists of the pending cells, then their union decoded once. */
static void plan_and_decode(struct sample * S, const int * pending, struct plan * plan) {
    struct vb_runner * R = S->R;
    int64_t *          all = vb_malloc(sizeof(int64_t) * (size_t)R->n_cells * VB_METHOD_MAX_CAND);
    int32_t            n_all = 0;
    for (int32_t i = 0; i < R->n_cells; i++) {
        if (!pending[i]) continue;
        struct plan * p = &plan[i];
        p->n = R->cells[i].T;
        vb_clip_frames(&S->clip, R->policy, p->n, p->idx, p->err, sizeof p->err);
        if (p->err[0]) continue;
        memcpy(all + n_all, p->idx, sizeof(int64_t) * (size_t)p->n);
        n_all += p->n;
    }
    int32_t nu = vb_clip_unique(all, n_all);
    R->rep->n_frames_decoded += vb_clip_decode(&S->clip, all, nu);
    free(all);
}

/* The stored row of a cell's answer: prediction, frames, the charged stage times, provenance extras. */
static int answer_row(const struct sample * S, struct vb_runner_cell * cl, const struct vb_method_result * r,
                      int64_t vit_charge, int64_t sel_charge) {
    struct vb_store_sample row;
    row_base(S, &row);
    row.prediction = r->prediction;
    double scores[VB_PROMPT_N_LETTERS];
    for (int32_t j = 0; j < r->n_scores; j++)
        scores[j] = r->scores[j];
    row.option_scores = scores;
    row.n_options = r->n_scores;
    int32_t cand[VB_METHOD_MAX_CAND], pick[VB_METHOD_MAX_PICK];
    for (int32_t j = 0; j < r->n_candidates; j++)
        cand[j] = (int32_t)r->cand_frames[j];
    for (int32_t j = 0; j < r->n_picked; j++)
        pick[j] = (int32_t)r->picked_frames[j];
    row.n_candidates = r->n_candidates, row.candidates = cand;
    row.n_picked = r->n_picked, row.picked = pick;
    row.step0_token = r->step0_id;
    if (S->timed) {
        struct vb_charge_in ch = {.decode_us = r->t_decode_us,
                                  .preprocess_us = r->t_preprocess_us,
                                  .vit_us = r->t_vit_us,
                                  .select_us = r->t_select_us,
                                  .qformer_us = r->t_qformer_us,
                                  .t5_enc_us = r->t_t5_enc_us,
                                  .t5_dec_us = r->t_t5_dec_us,
                                  .total_us = r->t_total_us,
                                  .vit_shared_us = vit_charge,
                                  .select_shared_us = sel_charge};
        vb_charge_stages(&ch, row.t_us);
    }
    /* the annotation's frame count (NExT-QA frame_count) against the container's: recorded when they differ */
    char warn[160] = "";
    if (S->s->ann_frames > 0 && S->vlen > 0 && S->s->ann_frames != S->vlen)
        snprintf(warn, sizeof warn,
                 ",\"ann_frame_count\":%lld,\"warning\":\"annotation frame_count %lld != %lld frames in the video\"",
                 (long long)S->s->ann_frames, (long long)S->s->ann_frames, (long long)S->vlen);
    char extra[640];
    snprintf(extra, sizeof extra,
             "{\"seed\":\"%llu\",\"n_vit_run\":%d,\"n_vit_cached\":%d,\"vit_charged_us\":%lld,"
             "\"loc_reused\":%d,\"select_charged_us\":%lld,\"warmup\":%s,\"step0_is_eos\":%d%s}",
             (unsigned long long)S->qseed, r->n_vit_run, r->n_vit_cached, (long long)vit_charge, r->scores_reused,
             (long long)sel_charge, S->timed ? "false" : "true", r->step0_is_eos, warn);
    row.extra_json = extra;
    S->R->cur_ok = 1;
    return put_row(S->R, cl, &row);
}

/* One cell: its pixels, its features through the cache, its method, its row. */
static int run_cell(struct sample * S, struct vb_runner_cell * cl, struct plan * p) {
    struct vb_runner * R = S->R;
    int64_t            dec_us = 0, pre_us = 0;
    if (vb_clip_pixels(&S->clip, p->idx, p->n, S->cellpx, &dec_us, &pre_us, p->err, sizeof p->err) != VB_OK)
        return error_row(S, cl, p->err);
    const struct vb_vision_config * vc = &cl->bs->b->cfg.vision;
    struct vb_vitfeat_clip          fc = {.group = cl->bs->vgroup,
                                          .video = S->video_key,
                                          .frames = p->idx,
                                          .n = p->n,
                                          .n_floats = (int64_t)vc->n_tokens * vc->hidden};
    struct vb_vitfeat_engine        eng = {.ctx = R->bs[cl->bs->vgroup].vit,
                                           .batch = VB_RUNNER_VIT_BATCH,
                                           .px_floats = 3LL * S->clip.H * S->clip.H,
                                           .work = S->vit_work,
                                           .feat = S->vit_out};
    struct vb_vitfeat_stats         vs;
    if (R->clear_per_cell) vb_vitcache_clear(R->cache);
    int64_t t0 = vb_time_us();
    if (vb_vitfeat_get(R->cache, &eng, &fc, S->cellpx, S->feats, &vs) != VB_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "ViT: %s", vb_errmsg());
        return error_row(S, cl, msg);
    }
    R->rep->n_vit_computed += vs.n_computed;
    /* the method pays the cache look-ups; computing is charged per slot at the recorded cost, as a hit is */
    int64_t                             t_fetch = vb_time_us() - t0 - vs.t_compute_us;
    const struct vb_select_memo_entry * lm =
        cl->ops->reusable_selection ? vb_select_memo_find(&S->memo, cl->ops, cl->bs, cl->T) : NULL;
    struct vb_method_input  in = {.text = &S->text,
                                  .feats = S->feats,
                                  .n_frames = p->n,
                                  .frame_ids = p->idx,
                                  .reuse_scores = lm ? lm->scores : NULL,
                                  .seed = S->qseed,
                                  .t_decode_us = dec_us,
                                  .t_preprocess_us = pre_us,
                                  .t_vit_us = t_fetch,
                                  .n_vit_run = vs.n_computed,
                                  .n_vit_cached = vs.n_cached};
    struct vb_method_result r;
    if (vb_method_answer(cl->m, &in, &r) != VB_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", vb_errmsg());
        return error_row(S, cl, msg);
    }
    int64_t sel_charge = lm && r.scores_reused ? lm->cost_us : 0;
    if (!lm && cl->ops->reusable_selection && r.has_scores)
        vb_select_memo_add(&S->memo, cl->ops, cl->bs, cl->T, r.cand_scores, r.t_select_us);
    return answer_row(S, cl, &r, vs.cost_us, sel_charge);
}

int vb_runner_process_sample(struct vb_runner * R, const struct vb_sample * s, const int * pending, int timed) {
    struct sample S;
    memset(&S, 0, sizeof S);
    S.R = R, S.s = s, S.timed = timed;
    R->cur_ok = R->cur_mixed = 0;
    R->cur_sig[0] = R->cur_msg[0] = 0;
    snprintf(R->cur_video, sizeof R->cur_video, "%s", s->video_path ? s->video_path : "");
    snprintf(R->cur_video_id, sizeof R->cur_video_id, "%s", s->video_id ? s->video_id : "");
    struct plan * plan = vb_calloc((size_t)R->n_cells, sizeof *plan);
    char          verr[512] = "";
    int           rc = VB_OK;
    open_sample(&S, verr, sizeof verr);
    for (int32_t i = 0; verr[0] && i < R->n_cells && rc == VB_OK; i++)
        if (pending[i]) rc = error_row(&S, &R->cells[i], verr);
    if (!verr[0]) {
        plan_and_decode(&S, pending, plan);
        size_t fpx = (size_t)3 * (size_t)R->image_size * (size_t)R->image_size;
        S.cellpx = vb_malloc(sizeof(float) * fpx * (size_t)R->tmax);
        S.feats = vb_malloc(R->fmax * (size_t)R->tmax);
        S.vit_work = vb_malloc(sizeof(float) * fpx * VB_RUNNER_VIT_BATCH);
        S.vit_out = vb_malloc(R->fmax * VB_RUNNER_VIT_BATCH);
        S.video_key = vb_fnv1a64(s->video_path);
        S.qseed = vb_runner_question_seed(R->c->seed, s->key);
    }
    for (int32_t i = 0; !verr[0] && i < R->n_cells && rc == VB_OK; i++) {
        if (!pending[i]) continue;
        rc = plan[i].err[0] ? error_row(&S, &R->cells[i], plan[i].err) : run_cell(&S, &R->cells[i], &plan[i]);
    }
    vb_select_memo_clear(&S.memo);
    vb_clip_close(&S.clip);
    vb_prompt_text_free(&S.text);
    free(S.prompt);
    free(plan);
    free(S.cellpx);
    free(S.feats);
    free(S.vit_work);
    free(S.vit_out);
    return rc;
}
