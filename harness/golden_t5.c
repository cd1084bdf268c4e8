/* golden_t5.c — check-golden runner for the T5 cases: buckets, t5_encoder, t5_decoder, t5_encoder_prefixed,
** t5_long, t5_long_dec, generate, generate_eos (see docs/methods.md §9.1 and cases.json "steps").
**
** The generate cases run the whole BLIP-2 pipeline (pixels -> ViT -> Q-Former -> projection, harness/golden_t5_vis.h
** helpers in golden_pipeline.c) and then greedy T5 generation; the lm_inputs_embeds they build are compared too.
*/
#include "harness/golden_t5.h"

#include "base/common.h"
#include "engine/generate.h"
#include "engine/t5.h"
#include "harness/golden.h"

#include <stdio.h>
#include <string.h>

int vb_golden_t5_ids(struct vb_golden * g, const char * full, int32_t ** out, int64_t * shape, int32_t * ndim) {
    int64_t * v;
    int64_t   sh[VB_MAX_DIMS];
    int32_t   nd;
    int       rc = vb_golden_i64(g, full, &v, sh, &nd);
    if (rc != VB_OK) return rc;
    int64_t n = 1;
    for (int32_t i = 0; i < nd; i++)
        n *= sh[i];
    int32_t * r = vb_malloc(sizeof(int32_t) * (size_t)(n ? n : 1));
    for (int64_t i = 0; i < n; i++) {
        if (v[i] < INT32_MIN || v[i] > INT32_MAX) {
            free(v);
            free(r);
            return vb_fail(VB_ERR_FORMAT, "%s: value %lld at %lld out of int32 range", full, (long long)v[i],
                           (long long)i);
        }
        r[i] = (int32_t)v[i];
    }
    free(v);
    if (shape) memcpy(shape, sh, sizeof sh);
    if (ndim) *ndim = nd;
    *out = r;
    return VB_OK;
}

int vb_golden_t5_mask(struct vb_golden * g, const char * full, uint8_t ** out, int64_t * shape, int32_t * ndim) {
    int32_t * v;
    int64_t   sh[VB_MAX_DIMS];
    int32_t   nd;
    int       rc = vb_golden_t5_ids(g, full, &v, sh, &nd);
    if (rc != VB_OK) return rc;
    int64_t n = 1;
    for (int32_t i = 0; i < nd; i++)
        n *= sh[i];
    uint8_t * m = vb_malloc((size_t)(n ? n : 1));
    for (int64_t i = 0; i < n; i++)
        m[i] = v[i] != 0;
    free(v);
    if (shape) memcpy(shape, sh, sizeof sh);
    if (ndim) *ndim = nd;
    *out = m;
    return VB_OK;
}

static int load_model(struct vb_golden * g, struct vb_t5_model ** m) {
    if (!g->has_cfg) return vb_fail(VB_ERR_UNSUPPORTED, "(no config.json)");
    return vb_t5_load(m, g->model, "language_model.", &g->cfg.t5);
}

static int64_t numel(const int64_t * sh, int32_t nd) {
    int64_t n = 1;
    for (int32_t i = 0; i < nd; i++)
        n *= sh[i];
    return n;
}

static int case_buckets(struct vb_golden * g, const char * cn) {
    int32_t * rel;
    int64_t   sh[VB_MAX_DIMS];
    int32_t   nd;
    int       rc = vb_golden_t5_ids(g, "buckets.relative_position", &rel, sh, &nd);
    if (rc != VB_OK) return rc;
    int64_t                     n = numel(sh, nd);
    int64_t *                   bi = vb_malloc(sizeof(int64_t) * (size_t)n);
    int64_t *                   uni = vb_malloc(sizeof(int64_t) * (size_t)n);
    const struct vb_t5_config * C = &g->cfg.t5;
    for (int64_t i = 0; i < n; i++) {
        bi[i] = vb_t5_bucket(rel[i], 1, C->n_buckets, C->max_distance);
        uni[i] = vb_t5_bucket(rel[i], 0, C->n_buckets, C->max_distance);
    }
    vb_golden_cmp_i64(g, cn, "buckets.bidirectional", NULL, bi, n, 0);
    vb_golden_cmp_i64(g, cn, "buckets.unidirectional", NULL, uni, n, 0);
    free(rel);
    free(bi);
    free(uni);
    return VB_OK;
}

/* Embeddings of ids (n) into out (n, d). */
static int embed_ids(const struct vb_t5_model * m, const int32_t * ids, int64_t n, float * out) {
    return vb_t5_embed(m, ids, n, out);
}

/* t5_encoder: rebuild inputs_embeds from projection.output and the text ids, compare, then run the encoder per row. */
static int case_encoder(struct vb_golden * g, const char * cn, struct vb_t5_model * m) {
    int                rc;
    int64_t            sh[VB_MAX_DIMS], psh[VB_MAX_DIMS], s0[VB_MAX_DIMS], s1[VB_MAX_DIMS];
    int32_t            nd, pnd, nd0, nd1;
    float *            emb = NULL, *proj = NULL, *mine = NULL, *blocks = NULL;
    uint8_t *          mask = NULL;
    int32_t *          t0 = NULL, *t1 = NULL;
    struct vb_t5_ctx * c = NULL;
    const int64_t      d = m->cfg.d_model;
    if ((rc = vb_golden_f32(g, "t5_encoder.inputs_embeds", &emb, sh, &nd)) != VB_OK) goto out;
    if ((rc = vb_golden_t5_mask(g, "t5_encoder.attention_mask", &mask, NULL, NULL)) != VB_OK) goto out;
    if ((rc = vb_golden_f32(g, "projection.output", &proj, psh, &pnd)) != VB_OK) goto out;
    if ((rc = vb_golden_t5_ids(g, "t5_encoder.text_ids_0", &t0, s0, &nd0)) != VB_OK) goto out;
    if ((rc = vb_golden_t5_ids(g, "t5_encoder.text_ids_1", &t1, s1, &nd1)) != VB_OK) goto out;
    if (nd != 3 || sh[0] != 2 || sh[2] != d || pnd != 3 || psh[0] < 3 || psh[2] != d) {
        rc = vb_fail(VB_ERR_SHAPE, "t5_encoder: unexpected shapes");
        goto out;
    }
    int64_t B = sh[0], N = sh[1], Q = psh[1], L0 = s0[0], L1 = s1[0];
    if (Q + L0 > N || 3 * Q + L1 > N) {
        rc = vb_fail(VB_ERR_SHAPE, "t5_encoder: rows longer than inputs_embeds");
        goto out;
    }
    /* row 0 = [proj f0; text0; pad...], row 1 = [proj f0, f1, f2; text1; pad...] */
    mine = vb_malloc(sizeof(float) * (size_t)(B * N * d));
    int32_t pad = m->cfg.pad_id;
    for (int64_t r = 0; r < B; r++) {
        float * row = mine + r * N * d;
        int64_t nf = r == 0 ? 1 : 3, L = r == 0 ? L0 : L1;
        memcpy(row, proj, sizeof(float) * (size_t)(nf * Q * d));
        if ((rc = embed_ids(m, r == 0 ? t0 : t1, L, row + nf * Q * d)) != VB_OK) goto out;
        for (int64_t i = nf * Q + L; i < N; i++)
            if ((rc = embed_ids(m, &pad, 1, row + i * d)) != VB_OK) goto out;
    }
    vb_golden_cmp(g, cn, "t5_encoder.inputs_embeds", "t5_encoder.inputs_embeds(rebuilt)", mine, B * N * d, 0);
    if ((rc = vb_t5_ctx_new(&c, m, N, 1)) != VB_OK) goto out;
    int32_t nb = m->cfg.n_enc;
    blocks = vb_malloc(sizeof(float) * (size_t)(nb * N * d));
    for (int64_t r = 0; r < B; r++) {
        if ((rc = vb_t5_encode(c, mine + r * N * d, mask + r * N, N, blocks)) != VB_OK) goto out;
        char lab[96];
        for (int32_t b = 0; b < nb; b++) {
            snprintf(lab, sizeof lab, "t5_encoder.block_outputs[%d][%lld]", b, (long long)r);
            vb_golden_cmp(g, cn, "t5_encoder.block_outputs", lab, blocks + b * N * d, N * d, (b * B + r) * N * d);
        }
        snprintf(lab, sizeof lab, "t5_encoder.last_hidden_state[%lld]", (long long)r);
        vb_golden_cmp(g, cn, "t5_encoder.last_hidden_state", lab, c->enc_out, N * d, r * N * d);
    }
    /* both rows at once through the batched encoder, each row only as long as its real tokens + padding given */
    {
        struct vb_t5_batch * bt = NULL;
        struct vb_t5_ctx *   cs[2] = {NULL, NULL};
        const float *        e[2] = {mine, mine + N * d};
        const uint8_t *      mk[2] = {mask, mask + N};
        int64_t              ns[2] = {N, N};
        rc = vb_t5_batch_new(&bt, m, 2 * N, 0);
        if (rc == VB_OK) rc = vb_t5_ctx_new(&cs[0], m, N, 1);
        if (rc == VB_OK) rc = vb_t5_ctx_new(&cs[1], m, N, 1);
        if (rc == VB_OK) rc = vb_t5_encode_batch(bt, cs, 2, e, mk, ns);
        for (int64_t r = 0; r < B && rc == VB_OK; r++) {
            char lab[96];
            snprintf(lab, sizeof lab, "t5_encoder.last_hidden_state[%lld](batched rows)", (long long)r);
            vb_golden_cmp(g, cn, "t5_encoder.last_hidden_state", lab, cs[r]->enc_out, N * d, r * N * d);
        }
        vb_t5_ctx_free(cs[0]);
        vb_t5_ctx_free(cs[1]);
        vb_t5_batch_free(bt);
    }
out:
    vb_t5_ctx_free(c);
    free(emb);
    free(proj);
    free(mine);
    free(blocks);
    free(mask);
    free(t0);
    free(t1);
    return rc;
}

/* t5_decoder: start step and teacher forcing on the reference encoder output; also KV-cached step by step. */
static int case_decoder(struct vb_golden * g, const char * cn, struct vb_t5_model * m) {
    int                rc;
    int64_t            sh[VB_MAX_DIMS], tsh[VB_MAX_DIMS];
    int32_t            nd, tnd;
    float *            enc = NULL, *logits = NULL, *blocks = NULL, *hid = NULL;
    uint8_t *          mask = NULL;
    int32_t *          tf = NULL, *start = NULL;
    struct vb_t5_ctx * c = NULL;
    const int64_t      d = m->cfg.d_model, V = m->cfg.vocab;
    if ((rc = vb_golden_f32(g, "t5_encoder.last_hidden_state", &enc, sh, &nd)) != VB_OK) goto out;
    if ((rc = vb_golden_t5_mask(g, "t5_encoder.attention_mask", &mask, NULL, NULL)) != VB_OK) goto out;
    if ((rc = vb_golden_t5_ids(g, "t5_decoder.tf_ids", &tf, tsh, &tnd)) != VB_OK) goto out;
    if ((rc = vb_golden_t5_ids(g, "t5_decoder.start_ids", &start, NULL, NULL)) != VB_OK) goto out;
    if (nd != 3 || sh[2] != d || tnd != 2 || tsh[0] != sh[0]) {
        rc = vb_fail(VB_ERR_SHAPE, "t5_decoder: unexpected shapes");
        goto out;
    }
    int64_t B = sh[0], N = sh[1], T = tsh[1];
    int32_t nb = m->cfg.n_dec;
    if ((rc = vb_t5_ctx_new(&c, m, N, T)) != VB_OK) goto out;
    logits = vb_malloc(sizeof(float) * (size_t)(T * V));
    blocks = vb_malloc(sizeof(float) * (size_t)(nb * T * d));
    hid = vb_malloc(sizeof(float) * (size_t)(T * d));
    for (int64_t r = 0; r < B; r++) {
        char lab[96];
        if ((rc = vb_t5_set_encoder_output(c, enc + r * N * d, mask + r * N, N)) != VB_OK) goto out;
        if ((rc = vb_t5_decode(c, start + r, 1, logits, NULL, NULL)) != VB_OK) goto out;
        snprintf(lab, sizeof lab, "t5_decoder.start_logits[%lld]", (long long)r);
        vb_golden_cmp(g, cn, "t5_decoder.start_logits", lab, logits, V, r * V);
        /* teacher forced: all T positions in one causal pass */
        vb_t5_reset_decoder(c);
        if ((rc = vb_t5_decode(c, tf + r * T, T, logits, hid, blocks)) != VB_OK) goto out;
        for (int32_t b = 0; b < nb; b++) {
            snprintf(lab, sizeof lab, "t5_decoder.tf_block_outputs[%d][%lld]", b, (long long)r);
            vb_golden_cmp(g, cn, "t5_decoder.tf_block_outputs", lab, blocks + b * T * d, T * d, (b * B + r) * T * d);
        }
        snprintf(lab, sizeof lab, "t5_decoder.tf_last_hidden_state[%lld]", (long long)r);
        vb_golden_cmp(g, cn, "t5_decoder.tf_last_hidden_state", lab, hid, T * d, r * T * d);
        snprintf(lab, sizeof lab, "t5_decoder.tf_logits[%lld]", (long long)r);
        vb_golden_cmp(g, cn, "t5_decoder.tf_logits", lab, logits, T * V, r * T * V);
        /* the same through the KV cache, one step at a time */
        vb_t5_reset_decoder(c);
        for (int64_t t = 0; t < T; t++)
            if ((rc = vb_t5_decode(c, tf + r * T + t, 1, logits + t * V, NULL, NULL)) != VB_OK) goto out;
        snprintf(lab, sizeof lab, "t5_decoder.tf_logits[%lld](kv-cached steps)", (long long)r);
        vb_golden_cmp(g, cn, "t5_decoder.tf_logits", lab, logits, T * V, r * T * V);
    }
out:
    vb_t5_ctx_free(c);
    free(enc);
    free(mask);
    free(tf);
    free(start);
    free(logits);
    free(blocks);
    free(hid);
    return rc;
}

static int case_prefixed(struct vb_golden * g, const char * cn, struct vb_t5_model * m) {
    int                rc;
    int64_t            sh[VB_MAX_DIMS], psh[VB_MAX_DIMS], fsh[VB_MAX_DIMS], s0[VB_MAX_DIMS];
    int32_t            nd, pnd, fnd, nd0;
    float *            emb = NULL, *proj = NULL, *mine = NULL, *logits = NULL;
    uint8_t *          mask = NULL;
    int32_t *          pre = NULL, *t0 = NULL;
    struct vb_t5_ctx * c = NULL;
    const int64_t      d = m->cfg.d_model, V = m->cfg.vocab;
    if ((rc = vb_golden_f32(g, "t5_encoder_prefixed.inputs_embeds", &emb, sh, &nd)) != VB_OK) goto out;
    if ((rc = vb_golden_t5_mask(g, "t5_encoder_prefixed.attention_mask", &mask, NULL, NULL)) != VB_OK) goto out;
    if ((rc = vb_golden_f32(g, "projection.output", &proj, psh, &pnd)) != VB_OK) goto out;
    if ((rc = vb_golden_t5_ids(g, "t5_encoder_prefixed.frame_prefix_ids", &pre, fsh, &fnd)) != VB_OK) goto out;
    if ((rc = vb_golden_t5_ids(g, "t5_encoder.text_ids_0", &t0, s0, &nd0)) != VB_OK) goto out;
    int64_t N = sh[1], Q = psh[1], P = fsh[0], F = psh[0], L = s0[0];
    if (nd != 3 || sh[0] != 1 || sh[2] != d || F * (P + Q) + L != N) {
        rc = vb_fail(VB_ERR_SHAPE, "t5_encoder_prefixed: unexpected shapes");
        goto out;
    }
    mine = vb_malloc(sizeof(float) * (size_t)(N * d));
    int64_t at = 0;
    for (int64_t f = 0; f < F; f++) {
        if ((rc = embed_ids(m, pre, P, mine + at * d)) != VB_OK) goto out;
        at += P;
        memcpy(mine + at * d, proj + f * Q * d, sizeof(float) * (size_t)(Q * d));
        at += Q;
    }
    if ((rc = embed_ids(m, t0, L, mine + at * d)) != VB_OK) goto out;
    vb_golden_cmp(g, cn, "t5_encoder_prefixed.inputs_embeds", "t5_encoder_prefixed.inputs_embeds(rebuilt)", mine, N * d,
                  0);
    if ((rc = vb_t5_ctx_new(&c, m, N, 1)) != VB_OK) goto out;
    if ((rc = vb_t5_encode(c, mine, mask, N, NULL)) != VB_OK) goto out;
    vb_golden_cmp(g, cn, "t5_encoder_prefixed.last_hidden_state", NULL, c->enc_out, N * d, 0);
    logits = vb_malloc(sizeof(float) * (size_t)V);
    int32_t start = m->cfg.dec_start_id;
    if ((rc = vb_t5_decode(c, &start, 1, logits, NULL, NULL)) != VB_OK) goto out;
    vb_golden_cmp(g, cn, "t5_encoder_prefixed.start_logits", NULL, logits, V, 0);
out:
    vb_t5_ctx_free(c);
    free(emb);
    free(proj);
    free(mine);
    free(logits);
    free(mask);
    free(pre);
    free(t0);
    return rc;
}

/* t5_long / t5_long_dec: ids -> encoder (no mask) -> teacher-forced decoder; also the last position KV-cached. */
static int case_long(struct vb_golden * g, const char * cn, struct vb_t5_model * m) {
    int                rc;
    char               nm[128];
    int64_t            esh[VB_MAX_DIMS], dsh[VB_MAX_DIMS];
    int32_t            end, dnd;
    int32_t *          eids = NULL, *dids = NULL;
    float *            emb = NULL, *logits = NULL;
    struct vb_t5_ctx * c = NULL;
    const int64_t      d = m->cfg.d_model, V = m->cfg.vocab;
    snprintf(nm, sizeof nm, "%s.encoder_input_ids", cn);
    if ((rc = vb_golden_t5_ids(g, nm, &eids, esh, &end)) != VB_OK) goto out;
    snprintf(nm, sizeof nm, "%s.decoder_input_ids", cn);
    if ((rc = vb_golden_t5_ids(g, nm, &dids, dsh, &dnd)) != VB_OK) goto out;
    if (end != 2 || dnd != 2 || esh[0] != 1 || dsh[0] != 1) {
        rc = vb_fail(VB_ERR_SHAPE, "%s: unexpected shapes", cn);
        goto out;
    }
    int64_t N = esh[1], T = dsh[1];
    emb = vb_malloc(sizeof(float) * (size_t)(N * d));
    if ((rc = embed_ids(m, eids, N, emb)) != VB_OK) goto out;
    if ((rc = vb_t5_ctx_new(&c, m, N, T)) != VB_OK) goto out;
    if ((rc = vb_t5_encode(c, emb, NULL, N, NULL)) != VB_OK) goto out;
    snprintf(nm, sizeof nm, "%s.encoder_last_hidden_state", cn);
    vb_golden_cmp(g, cn, nm, NULL, c->enc_out, N * d, 0);
    logits = vb_malloc(sizeof(float) * (size_t)(T * V));
    if ((rc = vb_t5_decode(c, dids, T, logits, NULL, NULL)) != VB_OK) goto out;
    snprintf(nm, sizeof nm, "%s.logits", cn);
    vb_golden_cmp(g, cn, nm, NULL, logits, T * V, 0);
    /* KV-cached: T-1 positions teacher forced, then the last one as an incremental step */
    vb_t5_reset_decoder(c);
    if (T > 1 && (rc = vb_t5_decode(c, dids, T - 1, logits, NULL, NULL)) != VB_OK) goto out;
    if ((rc = vb_t5_decode(c, dids + T - 1, 1, logits, NULL, NULL)) != VB_OK) goto out;
    char lab[128];
    snprintf(lab, sizeof lab, "%s.logits[last](kv-cached step)", cn);
    vb_golden_cmp(g, cn, nm, lab, logits, V, (T - 1) * V);
out:
    vb_t5_ctx_free(c);
    free(eids);
    free(dids);
    free(emb);
    free(logits);
    return rc;
}

/* Greedy generation from lm inputs (B rows of N embeddings with masks); compares output_ids and scores of case
** `cn` ("<cn>.output_ids" [B, 1+S], "<cn>.scores" [S, B, V]). */
int vb_golden_t5_generate_check(struct vb_golden * g, const char * cn, const struct vb_t5_model * m,
                                const float * embeds, const uint8_t * mask, int64_t B, int64_t N) {
    int           rc = VB_OK;
    char          nm[128];
    int64_t       osh[VB_MAX_DIMS], ssh[VB_MAX_DIMS];
    int32_t       ond, snd;
    const int64_t d = m->cfg.d_model, V = m->cfg.vocab;
    snprintf(nm, sizeof nm, "%s.output_ids", cn);
    const struct vb_st_tensor * to = vb_weights_find(g->cases, nm);
    snprintf(nm, sizeof nm, "%s.scores", cn);
    const struct vb_st_tensor * ts = vb_weights_find(g->cases, nm);
    if (!to || !ts) return vb_fail(VB_ERR_NOTFOUND, "%s: output_ids / scores missing", cn);
    memcpy(osh, to->shape, sizeof osh);
    memcpy(ssh, ts->shape, sizeof ssh);
    ond = to->ndim;
    snd = ts->ndim;
    if (ond != 2 || snd != 3 || osh[0] != B || ssh[1] != B || ssh[2] != V || osh[1] < 2)
        return vb_fail(VB_ERR_SHAPE, "%s: unexpected output_ids / scores shapes", cn);
    int32_t S = (int32_t)(osh[1] - 1); /* max_new_tokens of the reference (HF stops early only if all rows end) */
    struct vb_t5_ctx ** ctx = vb_calloc((size_t)B, sizeof *ctx);
    int32_t *           ids = vb_malloc(sizeof(int32_t) * (size_t)(B * (S + 1)));
    float *             scores = vb_calloc((size_t)(S * B * V), sizeof(float));
    for (int64_t r = 0; r < B && rc == VB_OK; r++) {
        rc = vb_t5_ctx_new(&ctx[r], m, N, S);
        if (rc == VB_OK) rc = vb_t5_encode(ctx[r], embeds + r * N * d, mask + r * N, N, NULL);
    }
    struct vb_t5_batch * bt = NULL;
    if (rc == VB_OK) rc = vb_t5_batch_new(&bt, m, B, B);
    /* pass 0: one row after the other; pass 1: all rows through the batched decoder step */
    for (int pass = 0; pass < 2 && rc == VB_OK; pass++) {
        int32_t            steps = 0;
        struct vb_gen_opts o;
        vb_gen_opts_default(&o);
        o.max_new_tokens = S;
        o.batch = pass ? bt : NULL;
        memset(scores, 0, sizeof(float) * (size_t)(S * B * V));
        rc = vb_generate_greedy(ctx, (int32_t)B, &o, ids, scores, NULL, NULL, &steps);
        if (rc != VB_OK) break;
        const char * tag = pass ? "(batched rows)" : "";
        char         lab[160];
        int64_t *    ids64 = vb_malloc(sizeof(int64_t) * (size_t)(B * (S + 1)));
        for (int64_t i = 0; i < B * (S + 1); i++)
            ids64[i] = ids[i];
        snprintf(nm, sizeof nm, "%s.output_ids", cn);
        snprintf(lab, sizeof lab, "%s%s", nm, tag);
        vb_golden_cmp_i64(g, cn, nm, lab, ids64, B * (S + 1), 0);
        free(ids64);
        snprintf(nm, sizeof nm, "%s.scores", cn);
        snprintf(lab, sizeof lab, "%s%s", nm, tag);
        if (ssh[0] != steps) {
            char why[128];
            snprintf(why, sizeof why, "(ran %d steps, reference has %lld)", steps, (long long)ssh[0]);
            vb_golden_error(g, cn, why);
        } else
            vb_golden_cmp(g, cn, nm, lab, scores, (int64_t)steps * B * V, 0);
    }
    vb_t5_batch_free(bt);
    for (int64_t r = 0; r < B; r++)
        vb_t5_ctx_free(ctx[r]);
    free(ctx);
    free(ids);
    free(scores);
    return rc;
}

static int case_generate(struct vb_golden * g, const char * cn, struct vb_t5_model * m) {
    int           rc;
    char          nm[128];
    int64_t       sh[VB_MAX_DIMS];
    int32_t       nd;
    float *       emb = NULL;
    uint8_t *     mask = NULL;
    const int64_t d = m->cfg.d_model;
    /* lm inputs: projected visual tokens from the pixels (vision pipeline) + shared(input_ids) */
    rc = vb_golden_t5_build_lm_inputs(g, cn, m, &emb, &mask, sh);
    if (rc != VB_OK) goto out;
    int64_t B = sh[0], N = sh[1];
    snprintf(nm, sizeof nm, "%s.lm_inputs_embeds", cn);
    vb_golden_cmp(g, cn, nm, NULL, emb, B * N * d, 0);
    int64_t * m64 = vb_malloc(sizeof(int64_t) * (size_t)(B * N));
    for (int64_t i = 0; i < B * N; i++)
        m64[i] = mask[i];
    snprintf(nm, sizeof nm, "%s.lm_attention_mask", cn);
    vb_golden_cmp_i64(g, cn, nm, NULL, m64, B * N, 0);
    free(m64);
    (void)nd;
    rc = vb_golden_t5_generate_check(g, cn, m, emb, mask, B, N);
out:
    free(emb);
    free(mask);
    return rc;
}

int vb_golden_run_t5(struct vb_golden * g, const char * case_name) {
    if (!g->has_cfg) return vb_fail(VB_ERR_UNSUPPORTED, "(no config.json)");
    if (!strcmp(case_name, "buckets")) return case_buckets(g, case_name);
    struct vb_t5_model * m = NULL;
    int                  rc = load_model(g, &m);
    if (rc != VB_OK) return rc;
    if (!strcmp(case_name, "t5_encoder"))
        rc = case_encoder(g, case_name, m);
    else if (!strcmp(case_name, "t5_decoder"))
        rc = case_decoder(g, case_name, m);
    else if (!strcmp(case_name, "t5_encoder_prefixed"))
        rc = case_prefixed(g, case_name, m);
    else if (!strncmp(case_name, "t5_long", 7))
        rc = case_long(g, case_name, m);
    else if (!strncmp(case_name, "generate", 8))
        rc = case_generate(g, case_name, m);
    else
        rc = vb_fail(VB_ERR_UNSUPPORTED, "(unknown T5 case)");
    vb_t5_free(m);
    return rc;
}
