/* sevila.c — SeViLA: the localizer picks k of T candidates, the shared BLIP-2 answerer answers (see sevila.h). */
#include "baselines/sevila.h"

#include "base/common.h"
#include "engine/generate.h"
#include "engine/qformer.h"
#include "engine/t5.h"
#include "engine/tokenizer_t5.h"
#include "methods/answerer.h"

#include <string.h>

#define LOC_CHUNK VB_METHOD_MAX_CAND /* most localizer sequences run together (opts.loc_chunk) */

struct sevila {
    struct vb_answerer            a; /* answerer; its ln / qout / proj / emb buffers double as localizer scratch */
    const struct vb_method_opts * o;
    struct vb_qformer_ctx *       loc_qf;
    /* opts.loc_chunk localizer sequences through one set of GEMMs */
    struct vb_t5_ctx *   loc_ctx[LOC_CHUNK];
    struct vb_t5_batch * loc_batch;
    int64_t              loc_max_enc, loc_max_dec;
    float *              loc_emb;    /* (loc_chunk, loc_max_enc, d_model) */
    float *              loc_scores; /* (loc_max_dec - 1, loc_chunk, vocab) generate scores, as-released only */
    int32_t *            loc_ids;    /* (loc_chunk, loc_max_dec + 1) */
};

void vb_sevila_topk(const float * s, int32_t n, int32_t k, int32_t * order, int32_t * picked) {
    VB_ASSERT(k >= 0 && k <= n);
    uint8_t * used = vb_calloc((size_t)n, 1);
    for (int32_t j = 0; j < k; j++) {
        int32_t best = -1;
        for (int32_t i = 0; i < n; i++)
            if (!used[i] && (best < 0 || s[i] > s[best])) best = i; /* strict >: ties keep the lower index */
        used[best] = 1;
        order[j] = best;
    }
    int32_t c = 0;
    for (int32_t i = 0; i < n; i++)
        if (used[i]) picked[c++] = i;
    free(used);
}

/* Contexts, batch workspace and buffers for C localizer sequences of n_enc rows and max_dec decoder positions. */
static int ensure_loc(struct sevila * m, int64_t n_enc, int64_t max_dec, int32_t C) {
    if (m->loc_batch && n_enc <= m->loc_max_enc && max_dec <= m->loc_max_dec) return VB_OK;
    int64_t me = VB_MAX(n_enc, m->loc_max_enc), md = VB_MAX(max_dec, m->loc_max_dec);
    for (int i = 0; i < LOC_CHUNK; i++) {
        vb_t5_ctx_free(m->loc_ctx[i]);
        m->loc_ctx[i] = NULL;
    }
    vb_t5_batch_free(m->loc_batch);
    m->loc_batch = NULL;
    free(m->loc_emb);
    free(m->loc_scores);
    free(m->loc_ids);
    m->loc_emb = NULL;
    m->loc_scores = NULL;
    m->loc_ids = NULL;
    m->loc_max_enc = m->loc_max_dec = 0;
    int rc = vb_t5_batch_new(&m->loc_batch, m->a.b->t5, (int64_t)C * me, C);
    for (int32_t i = 0; rc == VB_OK && i < C; i++)
        rc = vb_t5_ctx_new(&m->loc_ctx[i], m->a.b->t5, me, md);
    if (rc != VB_OK) return rc;
    m->loc_max_enc = me;
    m->loc_max_dec = md;
    m->loc_emb = vb_malloc(sizeof(float) * (size_t)C * (size_t)me * (size_t)m->a.d_model);
    if (md > 2) m->loc_scores = vb_malloc(sizeof(float) * (size_t)(md - 1) * (size_t)C * (size_t)m->a.vocab);
    m->loc_ids = vb_malloc(sizeof(int32_t) * (size_t)C * (size_t)(md + 1));
    return VB_OK;
}

/* Localizer scores of all T candidates into res->cand_scores. */
static int localize(struct sevila * m, const struct vb_method_input * in, struct vb_method_result * res) {
    struct vb_answerer *     a = &m->a;
    const struct vb_bundle * b = a->b;
    int32_t                  T = a->n_cand, d = a->d_model, Ql = b->loc_qformer->n_query;
    int64_t                  fsz = (int64_t)a->n_tok * a->d_vis;
    int64_t                  t0 = vb_time_us();
    vb_answerer_ln(a, in->feats, T, b->loc_ln_w, b->loc_ln_b, a->ln);
    vb_method_trace(in, "loc_vision_layernorm", a->ln, T * fsz);
    int rc = vb_qformer_run(m->loc_qf, a->ln, T, a->n_tok, NULL, NULL, 0, a->qout, NULL, NULL, NULL);
    if (rc != VB_OK) return rc;
    rc = vb_projection_run(b->loc_proj, a->qout, (int64_t)T * Ql, a->proj);
    if (rc != VB_OK) return rc;
    res->t_loc_qformer_us = vb_time_us() - t0;
    vb_method_trace(in, "loc_qformer_output", a->qout, (int64_t)T * Ql * a->d_q);
    vb_method_trace(in, "loc_projected", a->proj, (int64_t)T * Ql * d);

    int64_t  t1 = vb_time_us();
    char     buf[32];
    int32_t *pre = NULL, *loc_ids = NULL, P = 0, L = 0, n_full = 0;
    char *   loc = vb_prompt_loc(in->text);
    rc = vb_t5tok_encode(b->t5tok, vb_prompt_frame_prefix(0, buf, sizeof buf), 0, 0, &pre, &P);
    if (rc == VB_OK) rc = vb_answerer_t5_ids(a, loc, m->o->max_txt_len, 0, &loc_ids, &L, &n_full);
    free(loc);
    int64_t n_enc = (int64_t)P + Ql + L;
    int32_t max_new = m->o->decode == VB_DECODE_AS_RELEASED ? m->o->max_new_tokens : 1;
    if (rc == VB_OK) rc = vb_answerer_reserve(a, n_enc, 2);
    /* the prefix and prompt rows are the same for every frame */
    if (rc == VB_OK) rc = vb_t5_embed(b->t5, pre, P, a->emb);
    if (rc == VB_OK) rc = vb_t5_embed(b->t5, loc_ids, L, a->emb + (int64_t)(P + Ql) * d);
    if (rc == VB_OK) memset(a->mask, 1, (size_t)n_enc);
    if (rc == VB_OK) {
        vb_method_trace_ids(in, "frame_prefix_ids", pre, P);
        vb_method_trace_ids(in, "loc_input_ids", loc_ids, L);
    }
    int32_t C = VB_MIN(T, m->o->loc_chunk);
    if (rc == VB_OK) rc = ensure_loc(m, n_enc, max_new + 1, C);
    /* the prefix and prompt rows are the same for every frame: fill them once into each sequence buffer */
    for (int32_t j = 0; rc == VB_OK && j < C; j++) {
        float * e = m->loc_emb + (int64_t)j * m->loc_max_enc * d;
        memcpy(e, a->emb, sizeof(float) * (size_t)n_enc * (size_t)d);
    }
    const float * emb[LOC_CHUNK];
    int64_t       ns[LOC_CHUNK];
    for (int32_t f0 = 0; rc == VB_OK && f0 < T; f0 += C) {
        int32_t c = VB_MIN(C, T - f0);
        for (int32_t j = 0; j < c; j++) {
            float * e = m->loc_emb + (int64_t)j * m->loc_max_enc * d;
            memcpy(e + (int64_t)P * d, a->proj + (int64_t)(f0 + j) * Ql * d, sizeof(float) * (size_t)Ql * (size_t)d);
            vb_method_trace(in, "loc_inputs_embeds", e, n_enc * d);
            emb[j] = e;
            ns[j] = n_enc;
        }
        rc = vb_t5_encode_batch(m->loc_batch, m->loc_ctx, c, emb, NULL, ns);
        if (rc != VB_OK) break;
        const float * step0; /* (c, vocab) step-0 logits; repetition_penalty 1.0, min_length 1: processed = raw */
        if (max_new <= 1) {
            int32_t start[LOC_CHUNK];
            for (int32_t j = 0; j < c; j++) {
                start[j] = b->cfg.t5.dec_start_id;
                vb_t5_reset_decoder(m->loc_ctx[j]);
            }
            rc = vb_t5_decode_batch(m->loc_batch, m->loc_ctx, c, start, m->loc_batch->logits);
            step0 = m->loc_batch->logits;
        } else {
            /* as released: generate(max_new_tokens=30) on the chunk's rows together (HF batch semantics) */
            struct vb_gen_opts go;
            vb_gen_opts_default(&go);
            go.max_new_tokens = max_new;
            go.repetition_penalty = 1.0f;
            go.batch = m->loc_batch;
            int32_t n_steps;
            rc = vb_generate_greedy(m->loc_ctx, c, &go, m->loc_ids, m->loc_scores, NULL, NULL, &n_steps);
            step0 = m->loc_scores; /* step 0 is the first (c, vocab) block */
        }
        if (rc != VB_OK) break;
        for (int32_t j = 0; j < c; j++)
            res->cand_scores[f0 + j] = step0[(int64_t)j * m->a.vocab + b->yes_id];
        if (f0 == 0) vb_method_trace(in, "loc_step0_logits_frame0", step0, m->a.vocab);
    }
    free(pre);
    free(loc_ids);
    res->t_loc_t5_us = vb_time_us() - t1;
    if (rc == VB_OK) {
        float * mf = vb_malloc(sizeof(float) * (size_t)n_enc);
        for (int64_t i = 0; i < n_enc; i++)
            mf[i] = 1.0f;
        for (int32_t f = 0; f < T && in->trace; f++)
            vb_method_trace(in, "loc_attention_mask", mf, n_enc);
        free(mf);
    }
    return rc;
}

/* Localizer scores (or the reused ones) into res->cand_scores, top k into picked (ascending). */
static int select_topk(struct sevila * m, const struct vb_method_input * in, int32_t * picked,
                       struct vb_method_result * res) {
    int64_t t0 = vb_time_us();
    int32_t T = m->a.n_cand, k = m->o->n_frames;
    res->has_scores = 1;
    if (in->reuse_scores) {
        memcpy(res->cand_scores, in->reuse_scores, sizeof(float) * (size_t)T);
        res->scores_reused = 1;
    } else {
        int rc = localize(m, in, res);
        if (rc != VB_OK) return rc;
    }
    vb_method_trace(in, "loc_scores", res->cand_scores, T);
    int32_t order[VB_METHOD_MAX_PICK];
    vb_sevila_topk(res->cand_scores, T, k, order, picked);
    res->t_select_us = vb_time_us() - t0;
    vb_method_trace_ids(in, "loc_topk_indices", order, k);
    vb_method_trace_ids(in, "selected_frames", picked, k);
    return VB_OK;
}

static int answer_sevila(void * state, const struct vb_method_input * in, struct vb_method_result * res) {
    struct sevila * m = state;
    int32_t         picked[VB_METHOD_MAX_PICK];
    int             rc = select_topk(m, in, picked, res);
    return rc == VB_OK ? vb_blip2_answer(&m->a, in, picked, m->o->n_frames, res) : rc;
}

static const char * selection_label(enum vb_select_mode s) {
    (void)s;
    return "topk";
}

static int32_t candidates(const struct vb_bundle * b, int32_t k, int32_t requested) {
    (void)b, (void)k;
    return requested > 0 ? requested : 32;
}

static void close_sevila(void * state) {
    struct sevila * m = state;
    if (!m) return;
    vb_answerer_free(&m->a);
    vb_qformer_ctx_free(m->loc_qf);
    for (int i = 0; i < LOC_CHUNK; i++)
        vb_t5_ctx_free(m->loc_ctx[i]);
    vb_t5_batch_free(m->loc_batch);
    free(m->loc_emb);
    free(m->loc_scores);
    free(m->loc_ids);
    free(m);
}

static int open_sevila(void ** state, const struct vb_bundle * b, struct vb_method_opts * o) {
    if (!b->has_localizer)
        return vb_fail(VB_ERR_NOTFOUND, "%s: SeViLA needs the localizer (localizer.* tensors; docs/bundle.md)", b->dir);
    int rc = vb_method_check_bundle(b, vb_sevila_ops.bundle_parts, VB_ARCH_BLIP2, "sevila");
    if (rc == VB_OK) rc = vb_method_check_counts(o);
    if (rc != VB_OK) return rc;
    if (o->max_new_tokens <= 0) o->max_new_tokens = 30;
    if (o->repetition_penalty <= 0) o->repetition_penalty = 1.0f;
    if (o->max_txt_len == 0) o->max_txt_len = 77;
    if (o->loc_chunk <= 0) o->loc_chunk = 8;
    o->loc_chunk = VB_MIN(o->loc_chunk, LOC_CHUNK);
    struct sevila * m = vb_calloc(1, sizeof *m);
    *state = m;
    m->o = o;
    rc = vb_qformer_ctx_new(&m->loc_qf, b->loc_qformer, o->n_candidates, 0, b->cfg.vision.n_tokens);
    if (rc == VB_OK) rc = vb_answerer_init(&m->a, b, o, 0, b->loc_qformer->n_query);
    return rc;
}

const struct vb_method_ops vb_sevila_ops = {
    .name = "sevila",
    .bundle_parts = VB_BUNDLE_VISION | VB_BUNDLE_QFORMER | VB_BUNDLE_T5 | VB_BUNDLE_LOCALIZER,
    .reusable_selection = 1,
    .selection_label = selection_label,
    .candidates = candidates,
    .open = open_sevila,
    .close = close_sevila,
    .answer = answer_sevila,
};
