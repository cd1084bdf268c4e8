/* generate.c — greedy decoding with per-step scores (see generate.h). */
#include "engine/generate.h"

#include "engine/common.h"

#include <string.h>

void vb_gen_opts_default(struct vb_gen_opts * o) {
    o->max_new_tokens = 30;
    o->repetition_penalty = 1.0f;
    o->run_all_steps = 0;
    o->skip_finished = 0;
}

void vb_gen_repetition_penalty(float * logits, int32_t vocab, const int32_t * prev_ids, int64_t n, float penalty) {
    if (penalty == 1.0f) return;
    /* HF gathers the scores of all ids first, then scatters the penalised values: duplicates are penalised once. */
    for (int64_t i = 0; i < n; i++) {
        int32_t id = prev_ids[i];
        if (id < 0 || id >= vocab) continue;
        int dup = 0;
        for (int64_t j = 0; j < i && !dup; j++) dup = prev_ids[j] == id;
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
                       opts->max_new_tokens, (double) opts->repetition_penalty);
    const struct vb_t5_config * C = &ctx[0]->m->cfg;
    int32_t V = C->vocab, S = opts->max_new_tokens, W = S + 1;
    for (int32_t r = 0; r < n_rows; r++) {
        if (ctx[r]->m->cfg.vocab != V) return vb_fail(VB_ERR_ARG, "generate: rows use different models");
        if (ctx[r]->max_dec < S)
            return vb_fail(VB_ERR_ARG, "generate: row %d context holds %lld decoder positions < max_new_tokens %d",
                           r, (long long) ctx[r]->max_dec, S);
        if (ctx[r]->n_enc < 1) return vb_fail(VB_ERR_ARG, "generate: row %d has no encoder output", r);
        vb_t5_reset_decoder(ctx[r]);
        ids[(int64_t) r * W] = C->dec_start_id;
        for (int32_t s = 1; s < W; s++) ids[(int64_t) r * W + s] = C->pad_id;
    }
    if (!scores && !work) return vb_fail(VB_ERR_ARG, "generate: these outputs need the work buffer");
    uint8_t fin_stack[256];
    uint8_t * fin = n_rows <= 256 ? fin_stack : vb_malloc((size_t) n_rows);
    memset(fin, 0, (size_t) n_rows);
    int rc = VB_OK;
    int32_t s;
    for (s = 0; s < S; s++) {
        for (int32_t r = 0; r < n_rows; r++) {
            int64_t off = ((int64_t) s * n_rows + r) * V;
            float * wk = work ? work + (int64_t) r * V : NULL;
            int32_t * row = ids + (int64_t) r * W;
            if (fin[r] && opts->skip_finished) {
                if (raw) memset(raw + off, 0, sizeof(float) * (size_t) V);
                if (scores) memset(scores + off, 0, sizeof(float) * (size_t) V);
                continue;
            }
            /* raw logits land in lg, processed scores in sc */
            float * lg = raw ? raw + off : scores ? scores + off : wk;
            float * sc = !raw ? lg : scores ? scores + off : wk;
            rc = vb_t5_decode(ctx[r], &row[s], 1, lg, NULL, NULL);
            if (rc != VB_OK) goto done;
            if (sc != lg) memcpy(sc, lg, sizeof(float) * (size_t) V);
            vb_gen_repetition_penalty(sc, V, row, s + 1, opts->repetition_penalty);
            int32_t next = vb_gen_argmax(sc, V);
            if (fin[r]) next = C->pad_id;
            else if (next == C->eos_id) fin[r] = 1;
            row[s + 1] = next;
        }
        int all = 1;
        for (int32_t r = 0; r < n_rows; r++) all &= fin[r];
        if (all && !opts->run_all_steps) {
            s++;
            break;
        }
    }
done:
    *n_steps = s;
    if (fin != fin_stack) free(fin);
    return rc;
}
