/* method.c — the method object: open / answer / close, the ViT stage with its cache, and the T5 answer readout
** shared by the three methods (see method.h). */
#include "vlap/method.h"

#include "engine/common.h"
#include "engine/generate.h"
#include "engine/ops.h"
#include "engine/qformer.h"
#include "engine/t5.h"
#include "engine/tokenizer_t5.h"
#include "engine/vit.h"
#include "vlap/method_internal.h"

#include <string.h>

static const char * KIND_NAMES[VB_METHOD_COUNT] = {"uniform", "sevila", "vlap"};

const char * vb_method_kind_name(enum vb_method_kind k) {
    return (k >= 0 && k < VB_METHOD_COUNT) ? KIND_NAMES[k] : "?";
}

int vb_method_kind_parse(const char * s, enum vb_method_kind * k) {
    for (int i = 0; i < VB_METHOD_COUNT; i++)
        if (s && !strcmp(s, KIND_NAMES[i])) {
            *k = (enum vb_method_kind)i;
            return VB_OK;
        }
    return vb_fail(VB_ERR_ARG, "unknown method '%s' (uniform, sevila, vlap)", s ? s : "");
}

const char * vb_decode_mode_name(enum vb_decode_mode d) {
    return d == VB_DECODE_AS_RELEASED ? "as-released" : "minimal";
}

int vb_decode_mode_parse(const char * s, enum vb_decode_mode * d) {
    if (s && !strcmp(s, "minimal"))
        *d = VB_DECODE_MINIMAL;
    else if (s && (!strcmp(s, "as-released") || !strcmp(s, "as_released")))
        *d = VB_DECODE_AS_RELEASED;
    else
        return vb_fail(VB_ERR_ARG, "unknown decode mode '%s' (minimal, as-released)", s ? s : "");
    return VB_OK;
}

const char * vb_select_mode_name(enum vb_select_mode s) {
    return s == VB_SELECT_GUMBEL ? "gumbel" : "argmax";
}

int vb_select_mode_parse(const char * s, enum vb_select_mode * m) {
    if (s && !strcmp(s, "argmax"))
        *m = VB_SELECT_ARGMAX;
    else if (s && !strcmp(s, "gumbel"))
        *m = VB_SELECT_GUMBEL;
    else
        return vb_fail(VB_ERR_ARG, "unknown selection mode '%s' (argmax, gumbel)", s ? s : "");
    return VB_OK;
}

void vb_method_opts_default(struct vb_method_opts * o, enum vb_method_kind kind) {
    memset(o, 0, sizeof *o);
    o->n_frames = 4;
    o->n_candidates = kind == VB_METHOD_UNIFORM ? 4 : 32;
    o->decode = VB_DECODE_MINIMAL;
    o->select = VB_SELECT_ARGMAX;
}

void vb_method_trace(const struct vb_method_input * in, const char * name, const float * data, int64_t n) {
    if (in->trace) in->trace(in->trace_ud, name, data, n);
}

void vb_method_trace_ids(const struct vb_method_input * in, const char * name, const int32_t * ids, int64_t n) {
    if (!in->trace) return;
    float * f = vb_malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
    for (int64_t i = 0; i < n; i++)
        f[i] = (float)ids[i];
    in->trace(in->trace_ud, name, f, n);
    free(f);
}

void vb_method_trace_mask(const struct vb_method_input * in, const char * name, const uint8_t * mask, int64_t n) {
    if (!in->trace) return;
    float * f = vb_malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
    for (int64_t i = 0; i < n; i++)
        f[i] = mask[i];
    in->trace(in->trace_ud, name, f, n);
    free(f);
}

int vb_method_reserve(struct vb_method * m, int64_t n_enc, int64_t n_dec) {
    if (n_enc > m->emb_cap) {
        free(m->emb);
        free(m->mask);
        m->emb_cap = n_enc;
        m->emb = vb_malloc(sizeof(float) * (size_t)(n_enc * m->d_model));
        m->mask = vb_malloc((size_t)n_enc);
    }
    if (!m->t5 || n_enc > m->t5_max_enc || n_dec > m->t5_max_dec) {
        int64_t me = VB_MAX(n_enc, m->t5_max_enc), md = VB_MAX(n_dec, m->t5_max_dec);
        vb_t5_ctx_free(m->t5);
        m->t5 = NULL;
        int rc = vb_t5_ctx_new(&m->t5, m->b->t5, me, md);
        if (rc != VB_OK) return rc;
        m->t5_max_enc = me;
        m->t5_max_dec = md;
    }
    return VB_OK;
}

int vb_method_t5_ids(const struct vb_method * m, const char * text, int32_t max_len, int trunc_left, int32_t ** ids,
                     int32_t * n, int32_t * n_full) {
    int32_t * full;
    int       rc = vb_t5tok_encode(m->b->t5tok, text, 1, 0, &full, n_full);
    if (rc != VB_OK) return vb_fail_prefix(rc, "T5 prompt");
    if (max_len <= 0 || *n_full <= max_len) {
        *ids = full;
        *n = *n_full;
        return VB_OK;
    }
    free(full);
    rc = vb_t5tok_encode_ex(m->b->t5tok, text, strlen(text), 1, max_len, trunc_left, ids, n);
    return rc == VB_OK ? VB_OK : vb_fail_prefix(rc, "T5 prompt");
}

/* One decoder step on the cache: logits of the new position into raw, processed copy (penalty over prev) into
** proc (may equal raw when penalty is 1). */
static int step(struct vb_method * m, int32_t id, const int32_t * prev, int32_t n_prev, float penalty, float * raw,
                float * proc) {
    int rc = vb_t5_decode(m->t5, &id, 1, raw, NULL, NULL);
    if (rc != VB_OK) return rc;
    if (proc != raw) memcpy(proc, raw, sizeof(float) * (size_t)m->vocab);
    if (penalty != 1.0f) vb_gen_repetition_penalty(proc, m->vocab, prev, n_prev, penalty);
    return VB_OK;
}

int vb_method_continue(struct vb_method * m, int32_t * prev, int32_t n_prev, int32_t max_new, float penalty,
                       int32_t * n_gen) {
    /* prev holds the start id and n_prev - 1 generated tokens; the cache holds all but the last. */
    int32_t eos = m->b->eos_id;
    int32_t gen = n_prev - 1;
    while (gen < max_new && prev[n_prev - 1] != eos) {
        int rc = step(m, prev[n_prev - 1], prev, n_prev, penalty, m->lgx, m->lgx);
        if (rc != VB_OK) return rc;
        prev[n_prev++] = vb_gen_argmax(m->lgx, m->vocab);
        gen++;
    }
    *n_gen = gen;
    return VB_OK;
}

int vb_method_readout(struct vb_method * m, const struct vb_method_input * in, int32_t n_letters, float penalty,
                      int32_t max_new, struct vb_method_result * res) {
    const struct vb_bundle * b = m->b;
    int32_t *                prev = vb_malloc(sizeof(int32_t) * (size_t)(max_new + 3));
    int32_t                  start = b->cfg.t5.dec_start_id;
    prev[0] = start;
    int64_t t0 = vb_time_us();
    int     rc = step(m, start, prev, 1, penalty, m->lg[0], m->lg[1]);
    if (rc != VB_OK) goto out;
    int32_t tok0 = vb_gen_argmax(m->lg[1], m->vocab);
    prev[1] = tok0;
    rc = step(m, tok0, prev, 2, penalty, m->lg[2], m->lg[3]);
    if (rc != VB_OK) goto out;
    res->step0_id = tok0;
    res->step0_is_eos = tok0 == b->eos_id;
    res->n_scores = n_letters;
    int32_t best = 0;
    for (int32_t j = 0; j < n_letters; j++) {
        res->scores[j] = m->lg[3][b->letter_ids[j]];
        res->raw_scores[j] = m->lg[2][b->letter_ids[j]];
        if (res->scores[j] > res->scores[best]) best = j;
    }
    res->prediction = best;
    res->n_generated = 2;
    if (m->o.decode == VB_DECODE_AS_RELEASED && !res->step0_is_eos) {
        prev[2] = vb_gen_argmax(m->lg[3], m->vocab);
        rc = vb_method_continue(m, prev, 3, max_new, penalty, &res->n_generated);
    }
    res->t_t5_dec_us += vb_time_us() - t0;
    if (rc != VB_OK) goto out;
    if (in->trace) {
        vb_method_trace(in, "step0_raw_logits", m->lg[0], m->vocab);
        vb_method_trace(in, "step0_logits", m->lg[1], m->vocab);
        vb_method_trace(in, "step1_raw_logits", m->lg[2], m->vocab);
        vb_method_trace(in, "step1_logits", m->lg[3], m->vocab);
        vb_method_trace_ids(in, "step0_id", &tok0, 1);
        vb_method_trace_ids(in, "step1_decoder_input_ids", prev, 2);
        vb_method_trace_ids(in, "answer_candidate_ids", b->letter_ids, n_letters);
        vb_method_trace(in, "answer_logits", res->scores, n_letters);
        vb_method_trace(in, "answer_raw_logits", res->raw_scores, n_letters);
        int32_t braw = 0;
        for (int32_t j = 1; j < n_letters; j++)
            if (res->raw_scores[j] > res->raw_scores[braw]) braw = j;
        vb_method_trace_ids(in, "prediction", &res->prediction, 1);
        vb_method_trace_ids(in, "prediction_from_raw_logits", &braw, 1);
    }
out:
    free(prev);
    return rc;
}

void vb_method_ln(const struct vb_method * m, const float * body, int32_t n, const float * w, const float * b,
                  float * out) {
    vb_layernorm(body, (int64_t)n * m->n_tok, m->d_vis, w, b, m->b->cfg.vision.post_ln_eps, out);
}

int vb_method_vit(struct vb_method * m, const struct vb_method_input * in, int32_t n, struct vb_method_result * res) {
    int64_t                         t0 = vb_time_us();
    int64_t                         fsz = (int64_t)m->n_tok * m->d_vis;
    const struct vb_vision_config * vc = &m->b->cfg.vision;
    int64_t                         psz = 3LL * vc->image_size * vc->image_size;
    int32_t *                       todo = vb_malloc(sizeof(int32_t) * (size_t)n);
    int32_t                         n_todo = 0;
    for (int32_t i = 0; i < n; i++) {
        int64_t id = in->frame_ids ? in->frame_ids[i] : i;
        if (in->vit_get && in->vit_get(in->vit_ud, id, m->body + i * fsz))
            res->n_vit_cached++;
        else
            todo[n_todo++] = i;
    }
    int rc = VB_OK;
    if (n_todo > 0 && !in->pixels)
        rc = vb_fail(VB_ERR_ARG, "method: %d frame(s) neither in the ViT cache nor given as pixels", n_todo);
    /* the ViT context (work buffers of vit_chunk frames) is made on the first frame not in the cache: a method whose
    ** frames all come from the runner's shared cache never allocates one */
    if (rc == VB_OK && n_todo > 0 && !m->vit) rc = vb_vit_ctx_new(&m->vit, m->b->vit, m->vit_chunk);
    float *px = NULL, *out = NULL;
    if (rc == VB_OK && n_todo > 0) {
        px = vb_malloc(sizeof(float) * (size_t)(psz * m->vit_chunk));
        out = vb_malloc(sizeof(float) * (size_t)(fsz * m->vit_chunk));
    }
    for (int32_t s = 0; rc == VB_OK && s < n_todo; s += m->vit_chunk) {
        int32_t c = VB_MIN(m->vit_chunk, n_todo - s);
        for (int32_t j = 0; j < c; j++)
            memcpy(px + j * psz, in->pixels + todo[s + j] * psz, sizeof(float) * (size_t)psz);
        rc = vb_vit_run(m->vit, px, c, NULL, NULL, out, NULL);
        for (int32_t j = 0; rc == VB_OK && j < c; j++) {
            int32_t i = todo[s + j];
            memcpy(m->body + i * fsz, out + j * fsz, sizeof(float) * (size_t)fsz);
            if (in->vit_put) in->vit_put(in->vit_ud, in->frame_ids ? in->frame_ids[i] : i, out + j * fsz);
        }
        res->n_vit_run += c;
    }
    free(px);
    free(out);
    free(todo);
    res->t_vit_us += vb_time_us() - t0;
    return rc;
}

void vb_method_close(struct vb_method * m) {
    if (!m) return;
    vb_vit_ctx_free(m->vit);
    vb_qformer_ctx_free(m->qf);
    vb_qformer_ctx_free(m->loc_qf);
    vb_t5_ctx_free(m->t5);
    for (int i = 0; i < VB_LOC_CHUNK; i++)
        vb_t5_ctx_free(m->loc_ctx[i]);
    vb_t5_batch_free(m->loc_batch);
    free(m->loc_emb);
    free(m->loc_scores);
    free(m->loc_ids);
    free(m->body);
    free(m->ln);
    free(m->qout);
    free(m->proj);
    free(m->emb);
    free(m->mask);
    for (int i = 0; i < 4; i++)
        free(m->lg[i]);
    free(m->lgx);
    free(m);
}

const struct vb_method_opts * vb_method_get_opts(const struct vb_method * m) {
    return &m->o;
}

int vb_method_open(struct vb_method ** out, enum vb_method_kind kind, const struct vb_bundle * b,
                   const struct vb_method_opts * opts) {
    *out = NULL;
    struct vb_method_opts o;
    if (opts)
        o = *opts;
    else
        vb_method_opts_default(&o, kind);
    if (kind < 0 || kind >= VB_METHOD_COUNT) return vb_fail(VB_ERR_ARG, "method: bad kind %d", (int)kind);
    unsigned need = VB_BUNDLE_VISION | VB_BUNDLE_QFORMER | VB_BUNDLE_T5;
    if (kind == VB_METHOD_SEVILA) need |= VB_BUNDLE_LOCALIZER;
    if (kind == VB_METHOD_VLAP) need |= VB_BUNDLE_PROMPTER;
    if ((b->parts_loaded & need) != need) {
        if (kind == VB_METHOD_SEVILA && !b->has_localizer)
            return vb_fail(VB_ERR_NOTFOUND, "%s: SeViLA needs the localizer (localizer.* tensors; docs/bundle.md)",
                           b->dir);
        if (kind == VB_METHOD_VLAP && !b->has_frame_prompter)
            return vb_fail(VB_ERR_NOTFOUND, "%s: VLAP needs the Frame-Prompter (frame_prompter.* tensors)", b->dir);
        return vb_fail(VB_ERR_ARG, "%s: bundle opened without the parts method %s needs", b->dir,
                       vb_method_kind_name(kind));
    }
    if (kind == VB_METHOD_VLAP && b->cfg.arch != VB_ARCH_INSTRUCTBLIP)
        return vb_fail(VB_ERR_UNSUPPORTED, "%s: VLAP needs an InstructBLIP bundle (Q-Former with text input)", b->dir);
    if (kind != VB_METHOD_VLAP && b->cfg.arch != VB_ARCH_BLIP2)
        return vb_fail(VB_ERR_UNSUPPORTED, "%s: %s needs a BLIP-2 bundle (Q-Former without text)", b->dir,
                       vb_method_kind_name(kind));
    if (kind == VB_METHOD_UNIFORM) o.n_candidates = o.n_frames;
    if (kind == VB_METHOD_VLAP) {
        if (o.n_frames != b->fp_segments)
            return vb_fail(VB_ERR_ARG, "%s: the Frame-Prompter picks %d frames (segments); --frames %d", b->dir,
                           b->fp_segments, o.n_frames);
        if (o.n_candidates != b->fp_segments * b->fp_frames_per_segment)
            return vb_fail(VB_ERR_ARG, "%s: the Frame-Prompter takes %d candidates (%d segments x %d); --candidates %d",
                           b->dir, b->fp_segments * b->fp_frames_per_segment, b->fp_segments, b->fp_frames_per_segment,
                           o.n_candidates);
    }
    if (o.n_frames < 1 || o.n_frames > VB_METHOD_MAX_PICK || o.n_candidates < o.n_frames ||
        o.n_candidates > VB_METHOD_MAX_CAND)
        return vb_fail(VB_ERR_ARG, "method: need 1 <= frames (%d) <= candidates (%d) <= %d", o.n_frames, o.n_candidates,
                       VB_METHOD_MAX_CAND);
    if (o.max_new_tokens <= 0) o.max_new_tokens = kind == VB_METHOD_VLAP ? 256 : 30;
    if (o.repetition_penalty <= 0) o.repetition_penalty = kind == VB_METHOD_VLAP ? 1.5f : 1.0f;
    if (o.max_txt_len == 0) o.max_txt_len = kind == VB_METHOD_VLAP ? -1 : 77; /* -1: no truncation */
    if (o.qformer_max_txt_len <= 0) o.qformer_max_txt_len = 128;
    if (o.loc_chunk <= 0) o.loc_chunk = 8;
    o.loc_chunk = VB_MIN(o.loc_chunk, VB_LOC_CHUNK);
    struct vb_method * m = vb_calloc(1, sizeof *m);
    m->kind = kind;
    m->o = o;
    m->b = b;
    m->n_tok = b->cfg.vision.n_tokens;
    m->d_vis = b->cfg.vision.hidden;
    m->n_query = b->cfg.num_query_tokens;
    m->d_q = b->cfg.qformer.hidden;
    m->d_model = b->cfg.t5.d_model;
    m->vocab = b->cfg.t5.vocab;
    m->n_cand = o.n_candidates;
    m->vit_chunk = VB_MIN(8, m->n_cand);
    int     rc = VB_OK; /* ViT context made lazily by vb_method_vit */
    int32_t nq_max = m->n_query;
    if (rc == VB_OK)
        rc = vb_qformer_ctx_new(&m->qf, b->qformer, o.n_frames, kind == VB_METHOD_VLAP ? o.qformer_max_txt_len : 0,
                                m->n_tok);
    if (rc == VB_OK && kind == VB_METHOD_SEVILA) {
        rc = vb_qformer_ctx_new(&m->loc_qf, b->loc_qformer, m->n_cand, 0, m->n_tok);
        nq_max = VB_MAX(nq_max, b->loc_qformer->n_query);
    }
    if (rc != VB_OK) {
        vb_method_close(m);
        return rc;
    }
    size_t fr = (size_t)m->n_cand;
    m->body = vb_malloc(sizeof(float) * fr * (size_t)m->n_tok * (size_t)m->d_vis);
    m->ln = vb_malloc(sizeof(float) * fr * (size_t)m->n_tok * (size_t)m->d_vis);
    m->qout = vb_malloc(sizeof(float) * fr * (size_t)nq_max * (size_t)m->d_q);
    m->proj = vb_malloc(sizeof(float) * fr * (size_t)nq_max * (size_t)m->d_model);
    for (int i = 0; i < 4; i++)
        m->lg[i] = vb_malloc(sizeof(float) * (size_t)m->vocab);
    m->lgx = vb_malloc(sizeof(float) * (size_t)m->vocab);
    *out = m;
    return VB_OK;
}

int vb_method_answer(struct vb_method * m, const struct vb_method_input * in, struct vb_method_result * res) {
    memset(res, 0, sizeof *res);
    res->kind = m->kind;
    res->prediction = -1;
    res->step0_id = -1;
    res->decode = m->o.decode;
    res->select = m->o.select;
    res->seed = in->seed;
    res->t_decode_us = in->t_decode_us;
    res->t_preprocess_us = in->t_preprocess_us;
    if (!in->text) return vb_fail(VB_ERR_ARG, "method: no question text");
    if (in->pixels && in->n_pixel_frames != m->n_cand)
        return vb_fail(VB_ERR_ARG, "method %s: %d frames given, %d expected (%s)", vb_method_kind_name(m->kind),
                       in->n_pixel_frames, m->n_cand, m->kind == VB_METHOD_UNIFORM ? "k" : "candidates");
    int64_t t0 = vb_time_us();
    res->n_candidates = m->n_cand;
    for (int32_t i = 0; i < m->n_cand; i++)
        res->cand_frames[i] = in->frame_ids ? in->frame_ids[i] : i;
    int rc = vb_method_vit(m, in, m->n_cand, res);
    if (rc == VB_OK) vb_method_trace(in, "vit_body", m->body, (int64_t)m->n_cand * m->n_tok * m->d_vis);
    if (rc == VB_OK) {
        switch (m->kind) {
        case VB_METHOD_UNIFORM: {
            int32_t picked[VB_METHOD_MAX_PICK];
            for (int32_t i = 0; i < m->o.n_frames; i++)
                picked[i] = i;
            rc = vb_uniform_answer(m, in, picked, m->o.n_frames, res);
            break;
        }
        case VB_METHOD_SEVILA:
            rc = vb_sevila_localize(m, in, res);
            if (rc == VB_OK) rc = vb_uniform_answer(m, in, res->picked, res->n_picked, res);
            break;
        case VB_METHOD_VLAP:
            rc = vb_vlap_answer(m, in, res);
            break;
        default:
            rc = vb_fail(VB_ERR_ARG, "method: bad kind");
        }
    }
    res->t_total_us = vb_time_us() - t0 + res->t_decode_us + res->t_preprocess_us;
    if (rc != VB_OK) {
        res->prediction = -1;
        return vb_fail_prefix(rc, "%s", vb_method_kind_name(m->kind));
    }
    return VB_OK;
}
