/* generate.c — greedy decoding with per-step scores (see generate.h). */
#include "engine/generate.h"

#include "base/common.h"
#include "engine/cuda/cuda.h"

#include <string.h>

void vb_gen_opts_default(struct vb_gen_opts * o) {
    o->max_new_tokens = 30;
    o->repetition_penalty = 1.0f;
    o->run_all_steps = 0;
    o->skip_finished = 0;
    o->batch = NULL;
}

void vb_gen_repetition_penalty(float * logits, int32_t vocab, const int32_t * prev_ids, int64_t n, float penalty) {
    if (penalty == 1.0f) return;
    /* HF gathers the scores of all ids first, then scatters the penalised values: duplicates are penalised once. */
    for (int64_t i = 0; i < n; i++) {
        int32_t id = prev_ids[i];
        if (id < 0 || id >= vocab) continue;
        int dup = 0;
        for (int64_t j = 0; j < i && !dup; j++)
            dup = prev_ids[j] == id;
        if (dup) continue;
        float s = logits[id];
        logits[id] = s < 0 ? s * penalty : s / penalty;
    }
}

int32_t vb_gen_argmax(const float * x, int32_t n) {
    int32_t best = 0;
    for (int32_t i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

int vb_generate_greedy(struct vb_t5_ctx ** ctx, int32_t n_rows, const struct vb_gen_opts * opts, int32_t * ids,
                       float * scores, float * raw, float * work, int32_t * n_steps) {
    *n_steps = 0;
    if (n_rows < 1 || opts->max_new_tokens < 1 || !(opts->repetition_penalty > 0))
        return vb_fail(VB_ERR_ARG, "generate: bad options (rows %d, max_new_tokens %d, penalty %g)", n_rows,
                       opts->max_new_tokens, (double)opts->repetition_penalty);
    const struct vb_t5_config * C = &ctx[0]->m->cfg;
    int32_t                     V = C->vocab, S = opts->max_new_tokens, W = S + 1;
    for (int32_t r = 0; r < n_rows; r++) {
        if (ctx[r]->m->cfg.vocab != V) return vb_fail(VB_ERR_ARG, "generate: rows use different models");
        if (ctx[r]->max_dec < S)
            return vb_fail(VB_ERR_ARG, "generate: row %d context holds %lld decoder positions < max_new_tokens %d", r,
                           (long long)ctx[r]->max_dec, S);
        if (ctx[r]->n_enc < 1) return vb_fail(VB_ERR_ARG, "generate: row %d has no encoder output", r);
        vb_t5_reset_decoder(ctx[r]);
        ids[(int64_t)r * W] = C->dec_start_id;
        for (int32_t s = 1; s < W; s++)
            ids[(int64_t)r * W + s] = C->pad_id;
    }
    if (!scores && !work) return vb_fail(VB_ERR_ARG, "generate: these outputs need the work buffer");
    struct vb_t5_batch * bt = opts->batch;
    if (bt && (bt->m != ctx[0]->m || bt->max_rows < n_rows || bt->max_logit_rows < n_rows))
        return vb_fail(VB_ERR_ARG, "generate: batch workspace too small or for another model (%d rows)", n_rows);
    uint8_t   fin_stack[256];
    uint8_t * fin = n_rows <= 256 ? fin_stack : vb_malloc((size_t)n_rows);
    memset(fin, 0, (size_t)n_rows);
    struct vb_t5_ctx *  act_stack[256];
    int32_t             act_idx_stack[256], fed_stack[256];
    struct vb_t5_ctx ** act = n_rows <= 256 ? act_stack : vb_malloc(sizeof(*act) * (size_t)n_rows);
    int32_t *           act_idx = n_rows <= 256 ? act_idx_stack : vb_malloc(sizeof(int32_t) * (size_t)n_rows);
    int32_t *           fed = n_rows <= 256 ? fed_stack : vb_malloc(sizeof(int32_t) * (size_t)n_rows);
    int                 rc = VB_OK;
    int32_t             s;
    /* CUDA: when only the ids are wanted, the argmax runs on the device and only the ids come back */
    int32_t * dids = bt && bt->m->dev && !scores && !raw && opts->repetition_penalty == 1.0f
                         ? vb_malloc(sizeof(int32_t) * (size_t)n_rows)
                         : NULL;
    for (s = 0; s < S; s++) {
        int32_t na = 0;
        for (int32_t r = 0; r < n_rows; r++) {
            int64_t off = ((int64_t)s * n_rows + r) * V;
            if (fin[r] && opts->skip_finished) {
                if (raw) memset(raw + off, 0, sizeof(float) * (size_t)V);
                if (scores) memset(scores + off, 0, sizeof(float) * (size_t)V);
                continue;
            }
            act[na] = ctx[r];
            fed[na] = ids[(int64_t)r * W + s];
            act_idx[na++] = r;
        }
        if (bt && na > 0) {
            rc = dids ? vb_cuda_t5_decode_batch_ctx(bt, act, na, fed, NULL, dids)
                      : vb_t5_decode_batch(bt, act, na, fed, bt->logits);
            if (rc != VB_OK) goto done;
        }
        for (int32_t k = 0; k < na; k++) {
            int32_t   r = act_idx[k];
            int64_t   off = ((int64_t)s * n_rows + r) * V;
            float *   wk = work ? work + (int64_t)r * V : NULL;
            int32_t * row = ids + (int64_t)r * W;
            float *   lg, *sc; /* raw logits, processed scores (never aliasing raw) */
            if (bt) {
                lg = bt->logits + (int64_t)k * V;
                if (raw) memcpy(raw + off, lg, sizeof(float) * (size_t)V);
                sc = scores ? scores + off : wk;
            } else {
                lg = raw ? raw + off : scores ? scores + off : wk;
                sc = !raw ? lg : scores ? scores + off : wk;
                rc = vb_t5_decode(ctx[r], &row[s], 1, lg, NULL, NULL);
                if (rc != VB_OK) goto done;
            }
            if (sc != lg && !dids) memcpy(sc, lg, sizeof(float) * (size_t)V);
            vb_gen_repetition_penalty(sc, V, row, s + 1, opts->repetition_penalty);
            int32_t next = dids ? dids[k] : vb_gen_argmax(sc, V);
            if (fin[r])
                next = C->pad_id;
            else if (next == C->eos_id)
                fin[r] = 1;
            row[s + 1] = next;
        }
        int all = 1;
        for (int32_t r = 0; r < n_rows; r++)
            all &= fin[r];
        if (all && !opts->run_all_steps) {
            s++;
            break;
        }
    }
done:
    *n_steps = s;
    free(dids);
    if (fin != fin_stack) free(fin);
    if (act != act_stack) free(act);
    if (act_idx != act_idx_stack) free(act_idx);
    if (fed != fed_stack) free(fed);
    return rc;
}
