/* method.c — the method object: options, open / answer / close dispatched through the method's ops (see method.h). */
#include "methods/method.h"

#include "base/common.h"
#include "methods/answerer.h"

#include <math.h>
#include <string.h>

struct vb_method {
    const struct vb_method_ops * ops;
    struct vb_method_opts        o;
    const struct vb_bundle *     b;
    void *                       state; /* the method's own */
};

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

void vb_method_opts_default(struct vb_method_opts * o) {
    memset(o, 0, sizeof *o);
    o->n_frames = 4;
    o->decode = VB_DECODE_MINIMAL;
    o->select = VB_SELECT_ARGMAX;
}

int vb_method_check_counts(const struct vb_method_opts * o) {
    if (o->n_frames < 1 || o->n_frames > VB_METHOD_MAX_PICK || o->n_candidates < o->n_frames ||
        o->n_candidates > VB_METHOD_MAX_CAND)
        return vb_fail(VB_ERR_ARG, "method: need 1 <= frames (%d) <= candidates (%d) <= %d", o->n_frames,
                       o->n_candidates, VB_METHOD_MAX_CAND);
    return VB_OK;
}

int vb_method_check_bundle(const struct vb_bundle * b, unsigned need, int arch, const char * name) {
    if ((b->parts_loaded & need) != need)
        return vb_fail(VB_ERR_ARG, "%s: bundle opened without the parts method %s needs", b->dir, name);
    if ((int)b->cfg.arch != arch)
        return vb_fail(VB_ERR_UNSUPPORTED,
                       arch == VB_ARCH_INSTRUCTBLIP ? "%s: %s needs an InstructBLIP bundle (Q-Former with text input)"
                                                    : "%s: %s needs a BLIP-2 bundle (Q-Former without text)",
                       b->dir, name);
    return VB_OK;
}

int vb_method_open(struct vb_method ** out, const struct vb_method_ops * ops, const struct vb_bundle * b,
                   const struct vb_method_opts * opts) {
    *out = NULL;
    if (!ops) return vb_fail(VB_ERR_ARG, "method: no method");
    struct vb_method * m = vb_calloc(1, sizeof *m);
    m->ops = ops;
    m->b = b;
    if (opts)
        m->o = *opts;
    else
        vb_method_opts_default(&m->o);
    m->o.n_candidates = ops->candidates(b, m->o.n_frames, m->o.n_candidates);
    int rc = ops->open(&m->state, b, &m->o);
    if (rc != VB_OK) {
        ops->close(m->state);
        free(m);
        return rc;
    }
    *out = m;
    return VB_OK;
}

void vb_method_close(struct vb_method * m) {
    if (!m) return;
    m->ops->close(m->state);
    free(m);
}

const struct vb_method_opts * vb_method_get_opts(const struct vb_method * m) {
    return &m->o;
}

const struct vb_method_ops * vb_method_get_ops(const struct vb_method * m) {
    return m->ops;
}

/* Index of the first non-finite value of x (n), or -1. */
static int64_t first_nonfinite(const float * x, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return i;
    return -1;
}

/* Non-finite numbers are errors, never an answer (an argmax over NaN picks option A): the input features and the
** result's option scores and selection scores are checked.  Returns VB_OK or VB_ERR_FORMAT naming the stage. */
static int check_finite_input(const struct vb_method * m, const struct vb_method_input * in, int32_t T) {
    int64_t per = (int64_t)m->b->cfg.vision.n_tokens * m->b->cfg.vision.hidden;
    int64_t i = first_nonfinite(in->feats, (int64_t)T * per);
    if (i >= 0)
        return vb_fail(VB_ERR_FORMAT, "non-finite scores in %s input: ViT features of candidate %lld are %g",
                       m->ops->name, (long long)(i / per), (double)in->feats[i]);
    return VB_OK;
}

static int check_finite_result(const struct vb_method * m, const struct vb_method_result * res) {
    /* the selection first: it comes before the answerer */
    int64_t i = res->has_scores ? first_nonfinite(res->cand_scores, res->n_candidates) : -1;
    if (i >= 0)
        return vb_fail(VB_ERR_FORMAT, "non-finite scores in %s selection: candidate %lld score is %g", m->ops->name,
                       (long long)i, (double)res->cand_scores[i]);
    i = first_nonfinite(res->scores, res->n_scores);
    if (i >= 0)
        return vb_fail(VB_ERR_FORMAT, "non-finite scores in %s answerer: option %c logit is %g", m->ops->name,
                       'A' + (int)i, (double)res->scores[i]);
    return VB_OK;
}

int vb_method_answer(struct vb_method * m, const struct vb_method_input * in, struct vb_method_result * res) {
    memset(res, 0, sizeof *res);
    res->method = m->ops->name;
    res->prediction = -1;
    res->step0_id = -1;
    res->decode = m->o.decode;
    res->select = m->o.select;
    res->seed = in->seed;
    res->t_decode_us = in->t_decode_us;
    res->t_preprocess_us = in->t_preprocess_us;
    res->t_vit_us = in->t_vit_us;
    res->n_vit_run = in->n_vit_run;
    res->n_vit_cached = in->n_vit_cached;
    int32_t T = m->o.n_candidates;
    if (!in->text) return vb_fail(VB_ERR_ARG, "method: no question text");
    if (!in->feats || in->n_frames != T)
        return vb_fail(VB_ERR_ARG, "method %s: %d frames given, %d expected (%s)", m->ops->name,
                       in->feats ? in->n_frames : 0, T, T == m->o.n_frames ? "k" : "candidates");
    int64_t t0 = vb_time_us();
    res->n_candidates = T;
    for (int32_t i = 0; i < T; i++)
        res->cand_frames[i] = in->frame_ids ? in->frame_ids[i] : i;
    vb_method_trace(in, "vit_body", in->feats, (int64_t)T * m->b->cfg.vision.n_tokens * m->b->cfg.vision.hidden);
    int rc = check_finite_input(m, in, T);
    if (rc == VB_OK) {
        rc = m->ops->answer(m->state, in, res);
        if (rc != VB_OK) rc = vb_fail_prefix(rc, "%s", m->ops->name);
    }
    if (rc == VB_OK) rc = check_finite_result(m, res);
    res->t_total_us = vb_time_us() - t0 + res->t_decode_us + res->t_preprocess_us + in->t_vit_us;
    if (rc != VB_OK) {
        res->prediction = -1;
        return rc;
    }
    return VB_OK;
}
