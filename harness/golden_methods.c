/* golden_methods.c — check-golden runner for the method-level cases ($VB_SHARED/golden/methods/ --  uniform, sevila,
** sevila_star, sevila_vlep, vlap, vlap_gumbel, vlap_star, vlap_long, vlap_penalty).
**
** For a case, the bundle in DIR is opened (tokenizers: $VB_T5_TOKENIZER / $VB_BERT_VOCAB, else
** DIR/../../t5-tokenizer/tokenizer.json and DIR/../../bert-tokenizer/vocab.txt; a missing tokenizer is a SKIP), the
** prompt text is rebuilt from cases.json -> record (question, options, dataset), the method runs on the stored
** pixel_values (ViT features through harness/vitfeat.h, as `run` and `answer` get them) through the public
** vb_method API with a trace hook, and every stored tensor of the case (inputs and
** outputs, except pixel_values) is compared with what the method produced under the same name: ids, picks and
** predictions exactly, floats within 1e-4 * max(1, max|ref|).  A stored tensor the method did not produce is a FAIL.
** Then the same case runs again "as released" (full generation), with a reusable selection (SeViLA's localizer
** scores) reused, and on features taken from the cache alone; the prediction and picks must be identical.
*/
#include "base/common.h"
#include "engine/vit.h"
#include "harness/golden.h"
#include "harness/registry.h"
#include "harness/vitcache.h"
#include "harness/vitfeat.h"
#include "methods/bundle.h"
#include "methods/prompts.h"

#include <string.h>
#include <unistd.h>

#define MAX_TRACE 64

struct acc {
    int32_t n;
    char *  name[MAX_TRACE];
    float * data[MAX_TRACE];
    int64_t len[MAX_TRACE], cap[MAX_TRACE];
};

static void on_trace(void * ud, const char * name, const float * data, int64_t n) {
    struct acc * a = ud;
    int32_t      i = 0;
    while (i < a->n && strcmp(a->name[i], name))
        i++;
    if (i == a->n) {
        if (a->n == MAX_TRACE) return;
        a->name[i] = vb_strdup(name);
        a->data[i] = NULL;
        a->len[i] = a->cap[i] = 0;
        a->n++;
    }
    if (a->len[i] + n > a->cap[i]) {
        a->cap[i] = (a->len[i] + n) * 2;
        a->data[i] = vb_realloc(a->data[i], sizeof(float) * (size_t)a->cap[i]);
    }
    memcpy(a->data[i] + a->len[i], data, sizeof(float) * (size_t)n);
    a->len[i] += n;
}

static void acc_free(struct acc * a) {
    for (int32_t i = 0; i < a->n; i++) {
        free(a->name[i]);
        free(a->data[i]);
    }
    memset(a, 0, sizeof *a);
}

static int32_t acc_find(const struct acc * a, const char * name) {
    for (int32_t i = 0; i < a->n; i++)
        if (!strcmp(a->name[i], name)) return i;
    return -1;
}

static int file_ok(const char * p) {
    return access(p, R_OK) == 0;
}

/* Compare one stored tensor of the case with the traced one. */
static void compare(struct vb_golden * g, const char * case_name, const char * tname, const struct acc * a) {
    char full[256];
    snprintf(full, sizeof full, "%s.%s", case_name, tname);
    const struct vb_st_tensor * t = vb_weights_find(g->cases, full);
    if (!t) {
        vb_golden_error(g, case_name, "reference tensor listed in cases.json is missing");
        return;
    }
    int32_t i = acc_find(a, tname);
    if (i < 0) {
        char why[300];
        snprintf(why, sizeof why, "%s: not produced by the method", tname);
        vb_golden_error(g, case_name, why);
        return;
    }
    if (t->dtype == VB_DT_I64) {
        int64_t * v = vb_malloc(sizeof(int64_t) * (size_t)(a->len[i] > 0 ? a->len[i] : 1));
        for (int64_t j = 0; j < a->len[i]; j++)
            v[j] = (int64_t)a->data[i][j];
        vb_golden_cmp_i64(g, case_name, full, NULL, v, a->len[i], 0);
        free(v);
    } else {
        vb_golden_cmp(g, case_name, full, NULL, a->data[i], a->len[i], 0);
    }
}

/* Check a decision of a repeated run against the reference (exact). */
static void same_ints(struct vb_golden * g, const char * case_name, const char * ref, const char * label,
                      const int32_t * v, int32_t n) {
    char full[256];
    snprintf(full, sizeof full, "%s.%s", case_name, ref);
    int64_t w[VB_METHOD_MAX_PICK];
    for (int32_t i = 0; i < n; i++)
        w[i] = v[i];
    vb_golden_cmp_i64(g, case_name, full, label, w, n, 0);
}

/* ViT features of the case's candidates through the cache (harness/vitfeat.h), frame id = candidate position. */
struct features {
    struct vb_vitcache *     cache;
    struct vb_vitfeat_engine e;
    struct vb_vitfeat_clip   clip;
    int64_t *                ids;
    float *                  feats;
};

static void features_free(struct features * f) {
    vb_vit_ctx_free(f->e.ctx);
    vb_vitcache_free(f->cache);
    free(f->e.work);
    free(f->e.feat);
    free(f->ids);
    free(f->feats);
    memset(f, 0, sizeof *f);
}

static int features_new(struct features * f, const struct vb_bundle * b, const float * pixels, int32_t n) {
    int64_t nf = (int64_t)b->cfg.vision.n_tokens * b->cfg.vision.hidden;
    f->e.batch = VB_MIN(8, n);
    f->e.px_floats = 3LL * b->cfg.vision.image_size * b->cfg.vision.image_size;
    f->e.work = vb_malloc(sizeof(float) * (size_t)(f->e.px_floats * f->e.batch));
    f->e.feat = vb_malloc(sizeof(float) * (size_t)(nf * f->e.batch));
    f->ids = vb_malloc(sizeof(int64_t) * (size_t)n);
    for (int32_t i = 0; i < n; i++)
        f->ids[i] = i;
    f->feats = vb_malloc(sizeof(float) * (size_t)(nf * n));
    f->cache = vb_vitcache_new(sizeof(float) * (size_t)(nf * n));
    f->clip = (struct vb_vitfeat_clip){.frames = f->ids, .n = n, .n_floats = nf};
    struct vb_vitfeat_stats st;
    int                     rc = vb_vit_ctx_new(&f->e.ctx, b->vit, f->e.batch);
    if (rc == VB_OK) rc = vb_vitfeat_get(f->cache, &f->e, &f->clip, pixels, f->feats, &st);
    return rc;
}

/* The replays of a checked case: as released (full generation), a reusable selection reused, features from the
** cache alone; each must repeat the first run's decisions. */
static int replays(struct vb_golden * g, const char * case_name, struct vb_method * m, const struct vb_bundle * b,
                   const struct vb_method_opts * mo, const struct vb_method_input * in,
                   const struct vb_method_result * r, struct features * f) {
    struct vb_method *      m2 = NULL;
    struct vb_method_opts   mo2 = *mo;
    struct vb_method_result r2;
    struct vb_method_input  in2 = *in;
    in2.trace = NULL;
    mo2.decode = VB_DECODE_AS_RELEASED;
    mo2.loc_chunk = 5; /* uneven localizer chunks (5, 5, ..., 2) */
    int rc = vb_method_open(&m2, vb_method_get_ops(m), b, &mo2);
    if (rc == VB_OK) rc = vb_method_answer(m2, &in2, &r2);
    vb_method_close(m2);
    if (rc != VB_OK) return rc;
    same_ints(g, case_name, "prediction", "prediction(as-released)", &r2.prediction, 1);
    same_ints(g, case_name, "step0_id", "step0_id(as-released)", &r2.step0_id, 1);
    if (r->has_scores)
        same_ints(g, case_name, "selected_frames", "selected_frames(as-released)", r2.picked, r2.n_picked);
    if (r2.n_generated < 2) vb_golden_error(g, case_name, "as-released generated fewer than 2 tokens");
    /* a reusable selection (SeViLA's localizer: another k would do the same): same picks and prediction */
    if (vb_method_get_ops(m)->reusable_selection) {
        in2.reuse_scores = r->cand_scores;
        rc = vb_method_answer(m, &in2, &r2);
        if (rc != VB_OK) return rc;
        same_ints(g, case_name, "prediction", "prediction(loc-reused)", &r2.prediction, 1);
        same_ints(g, case_name, "selected_frames", "selected_frames(loc-reused)", r2.picked, r2.n_picked);
        if (!r2.scores_reused || r2.t_loc_t5_us != 0) vb_golden_error(g, case_name, "localizer scores were not reused");
        in2.reuse_scores = NULL;
    }
    /* every frame from the ViT cache: no ViT run, same decisions */
    struct vb_vitfeat_stats st;
    rc = vb_vitfeat_get(f->cache, &f->e, &f->clip, NULL, f->feats, &st);
    if (rc == VB_OK) rc = vb_method_answer(m, &in2, &r2);
    if (rc != VB_OK) return rc;
    same_ints(g, case_name, "prediction", "prediction(vit-cache)", &r2.prediction, 1);
    if (st.n_computed != 0 || st.n_cached != f->clip.n)
        vb_golden_error(g, case_name, "ViT cache not used for every frame");
    return VB_OK;
}

int vb_golden_run_method(struct vb_golden * g, const char * case_name) {
    const cJSON * c = vb_golden_case_json(g, case_name);
    const cJSON * rec = cJSON_GetObjectItemCaseSensitive(c, "record");
    if (!rec) return vb_fail(VB_ERR_FORMAT, "%s/cases.json: case %s has no record", g->dir, case_name);
    /* the case names its method: uniform, sevila*, vlap* */
    const struct vb_method_ops * ops = vb_registry_find(!strcmp(case_name, "uniform")      ? "uniform"
                                                        : !strncmp(case_name, "sevila", 6) ? "sevila"
                                                                                           : "vlap");
    if (!ops) return VB_ERR_ARG;
    int needs_bert = ops->bundle_parts & VB_BUNDLE_PROMPTER;
    /* tokenizers */
    char         t5p[4200], bertp[4200];
    const char * e = getenv("VB_T5_TOKENIZER");
    if (e && *e)
        snprintf(t5p, sizeof t5p, "%s", e);
    else
        snprintf(t5p, sizeof t5p, "%s/../../t5-tokenizer/tokenizer.json", g->dir);
    e = getenv("VB_BERT_VOCAB");
    if (e && *e)
        snprintf(bertp, sizeof bertp, "%s", e);
    else
        snprintf(bertp, sizeof bertp, "%s/../../bert-tokenizer/vocab.txt", g->dir);
    if (!file_ok(t5p)) return vb_fail(VB_ERR_UNSUPPORTED, "(T5 tokenizer %s not found; set VB_T5_TOKENIZER)", t5p);
    if (needs_bert && !file_ok(bertp))
        return vb_fail(VB_ERR_UNSUPPORTED, "(BERT vocabulary %s not found; set VB_BERT_VOCAB)", bertp);
    /* prompt text from the record */
    const cJSON * ds = cJSON_GetObjectItemCaseSensitive(rec, "dataset");
    const cJSON * q = cJSON_GetObjectItemCaseSensitive(rec, "question");
    const cJSON * opts = cJSON_GetObjectItemCaseSensitive(rec, "options");
    int32_t       n_opt = cJSON_GetArraySize(opts);
    if (!cJSON_IsString(ds) || n_opt < 2 || n_opt > VB_MAX_OPTIONS)
        return vb_fail(VB_ERR_FORMAT, "%s/cases.json: case %s: record without dataset / 2..5 options", g->dir,
                       case_name);
    const char * o[VB_MAX_OPTIONS];
    for (int32_t j = 0; j < n_opt; j++) {
        const cJSON * x = cJSON_GetArrayItem(opts, j);
        if (!cJSON_IsString(x)) return vb_fail(VB_ERR_FORMAT, "%s/cases.json: %s: option %d", g->dir, case_name, j);
        o[j] = x->valuestring;
    }
    struct vb_prompt_text text;
    int rc = vb_prompt_text_make(&text, !strcmp(ds->valuestring, "VLEP") ? VB_PROMPT_VLEP : VB_PROMPT_MC,
                                 cJSON_IsString(q) ? q->valuestring : NULL, n_opt, o);
    if (rc != VB_OK) return rc;
    /* pixels */
    char full[256];
    snprintf(full, sizeof full, "%s.pixel_values", case_name);
    float * pixels = NULL, *gu = NULL;
    int64_t shape[VB_MAX_DIMS];
    int32_t nd;
    rc = vb_golden_f32(g, full, &pixels, shape, &nd);
    if (rc == VB_OK && nd != 4) rc = vb_fail(VB_ERR_SHAPE, "%s: expected (n, 3, H, W)", full);
    snprintf(full, sizeof full, "%s.gumbel_uniform", case_name);
    int gumbel = vb_weights_find(g->cases, full) != NULL;
    if (rc == VB_OK && gumbel) rc = vb_golden_f32(g, full, &gu, NULL, NULL);
    struct vb_bundle *    b = NULL;
    struct vb_bundle_opts bo = {
        .t5_tokenizer = t5p, .bert_vocab = bertp, .parts = 0, .device = g->device, .weight_dtype = g->weight_dtype};
    if (rc == VB_OK) rc = vb_bundle_open(&b, g->dir, &bo);
    struct vb_method *    m = NULL;
    struct vb_method_opts mo;
    vb_method_opts_default(&mo);
    if (rc == VB_OK) {
        /* k: the case's frames for a method whose candidates are its k frames (T follows k), 4 else; VLAP: its
        ** segments */
        mo.n_candidates = (int32_t)shape[0];
        mo.n_frames = ops->candidates(b, 1, 0) == 1 ? (int32_t)shape[0] : 4;
        if (b->has_frame_prompter && (ops->bundle_parts & VB_BUNDLE_PROMPTER)) mo.n_frames = b->fp_segments;
        mo.select = gumbel ? VB_SELECT_GUMBEL : VB_SELECT_ARGMAX;
        rc = vb_method_open(&m, ops, b, &mo);
    }
    struct features f = {0};
    if (rc == VB_OK) rc = features_new(&f, b, pixels, (int32_t)shape[0]);
    struct acc              a = {0};
    struct vb_method_result r;
    struct vb_method_input  in = {.text = &text,
                                  .feats = f.feats,
                                  .n_frames = (int32_t)shape[0],
                                  .gumbel_uniform = gu,
                                  .seed = 0,
                                  .trace = on_trace,
                                  .trace_ud = &a};
    if (rc == VB_OK) rc = vb_method_answer(m, &in, &r);
    if (rc == VB_OK) {
        const char * lists[2] = {"inputs", "outputs"};
        for (int l = 0; l < 2; l++) {
            const cJSON * x;
            cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(c, lists[l])) {
                if (!cJSON_IsString(x)) continue;
                const char * tn = strchr(x->valuestring, '.');
                tn = tn ? tn + 1 : x->valuestring;
                if (!strcmp(tn, "pixel_values")) continue;
                compare(g, case_name, tn, &a);
            }
        }
        /* the result struct agrees with the traced decisions */
        same_ints(g, case_name, "prediction", "prediction(result)", &r.prediction, 1);
        if (r.has_scores) same_ints(g, case_name, "selected_frames", "selected_frames(result)", r.picked, r.n_picked);
        rc = replays(g, case_name, m, b, &mo, &in, &r, &f);
    }
    features_free(&f);
    acc_free(&a);
    vb_method_close(m);
    vb_bundle_close(b);
    free(pixels);
    free(gu);
    vb_prompt_text_free(&text);
    return rc;
}
