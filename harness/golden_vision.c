/* golden_vision.c — check-golden runners of the vision half: cases "vision", "qformer", "projection" (BLIP-2 and
** InstructBLIP sets) and "prompter", "gumbel" (frame-prompter set).  Each case follows the recipe of its cases.json
** entry; inputs are the stored reference inputs, so a mismatch is local to the component under test.
*/
#include "harness/golden.h"

#include "base/common.h"
#include "engine/frame_prompter.h"
#include "engine/ops.h"
#include "engine/qformer.h"
#include "engine/vit.h"

#include <math.h>
#include <string.h>

static int64_t numel_of(const int64_t * shape, int32_t nd) {
    int64_t n = 1;
    for (int32_t i = 0; i < nd; i++)
        n *= shape[i];
    return n;
}

/* Compare got with "<case>.<name>" (whole tensor). */
static void cmp(struct vb_golden * g, const char * cn, const char * name, const float * got, int64_t n) {
    char full[256];
    snprintf(full, sizeof full, "%s.%s", cn, name);
    vb_golden_cmp(g, cn, full, NULL, got, n, 0);
}

static void cmp_i64(struct vb_golden * g, const char * cn, const char * name, const int64_t * got, int64_t n) {
    char full[256];
    snprintf(full, sizeof full, "%s.%s", cn, name);
    vb_golden_cmp_i64(g, cn, full, NULL, got, n, 0);
}

/* Compare a stacked output (n_layers, ...) slice by slice against "<case>.<name>" as "<case>.<name>[l]". */
static void cmp_layers(struct vb_golden * g, const char * cn, const char * name, const float * got, int32_t n_layers,
                       int64_t per_layer) {
    char full[256], label[300];
    snprintf(full, sizeof full, "%s.%s", cn, name);
    for (int32_t l = 0; l < n_layers; l++) {
        snprintf(label, sizeof label, "%s[%d]", full, l);
        vb_golden_cmp(g, cn, full, label, got + (int64_t)l * per_layer, per_layer, (int64_t)l * per_layer);
    }
}

/* ---- vision ---- */

int vb_golden_run_vision(struct vb_golden * g, const char * cn) {
    if (!g->has_cfg) return vb_fail(VB_ERR_UNSUPPORTED, "(no config.json in %s)", g->dir);
    const struct vb_vision_config * vc = &g->cfg.vision;
    char                            n[256];
    snprintf(n, sizeof n, "%s.pixel_values", cn);
    float * px = NULL;
    int64_t shp[VB_MAX_DIMS];
    int32_t nd = 0;
    int     rc = vb_golden_f32(g, n, &px, shp, &nd);
    if (rc != VB_OK) return rc;
    if (nd != 4 || shp[1] != 3 || shp[2] != vc->image_size || shp[3] != vc->image_size || shp[0] < 1) {
        free(px);
        return vb_fail(VB_ERR_FORMAT, "%s: %s: expected [frames, 3, %d, %d]", g->dir, n, vc->image_size,
                       vc->image_size);
    }
    const int32_t       F = (int32_t)shp[0];
    struct vb_vit *     vit = NULL;
    struct vb_vit_ctx * ctx = NULL;
    rc = vb_vit_load(&vit, g->model, vc, "vision_model.");
    if (rc == VB_OK) rc = vb_vit_ctx_new(&ctx, vit, F);
    if (rc != VB_OK) {
        free(px);
        vb_vit_free(vit);
        return rc;
    }
    const int64_t T = vit->cfg.n_tokens, D = vc->hidden, per = (int64_t)F * T * D;
    float *       emb = vb_malloc(sizeof(float) * (size_t)per);
    float *       layers = vb_malloc(sizeof(float) * (size_t)(per * vc->layers));
    float *       ln = vb_malloc(sizeof(float) * (size_t)per);
    float *       pool = vb_malloc(sizeof(float) * (size_t)(F * D));
    rc = vb_vit_run(ctx, px, F, emb, layers, NULL, ln);
    if (rc == VB_OK) {
        /* HF pooler_output: post_layernorm applied again to token 0 of last_hidden_state */
        for (int32_t f = 0; f < F; f++)
            vb_layernorm(ln + (int64_t)f * T * D, 1, D, vit->post_ln_w, vit->post_ln_b, vc->post_ln_eps,
                         pool + (int64_t)f * D);
        cmp(g, cn, "embeddings", emb, per);
        cmp_layers(g, cn, "layer_outputs", layers, vc->layers, per);
        cmp(g, cn, "last_hidden_state", ln, per);
        cmp(g, cn, "pooler_output", pool, F * D);
    }
    free(emb);
    free(layers);
    free(ln);
    free(pool);
    free(px);
    vb_vit_ctx_free(ctx);
    vb_vit_free(vit);
    return rc;
}

/* ---- qformer / projection ---- */

/* Load an I64 tensor of exactly 2 dims; returns rows / cols. */
static int load_i64_2d(struct vb_golden * g, const char * name, int64_t ** out, int64_t * rows, int64_t * cols) {
    int64_t shp[VB_MAX_DIMS];
    int32_t nd = 0;
    int     rc = vb_golden_i64(g, name, out, shp, &nd);
    if (rc != VB_OK) return rc;
    if (nd != 2) {
        free(*out);
        *out = NULL;
        return vb_fail(VB_ERR_FORMAT, "%s: %s: expected 2 dims, got %d", g->dir, name, nd);
    }
    *rows = shp[0];
    *cols = shp[1];
    return VB_OK;
}

static int run_qformer_case(struct vb_golden * g, const char * cn) {
    const struct vb_qformer_config * qc = &g->cfg.qformer;
    const int32_t                    Q = g->cfg.num_query_tokens;
    const int64_t                    D = qc->hidden, Dv = qc->encoder_hidden;
    char                             n[256];
    float *                          image = NULL;
    int64_t *                        ids64 = NULL, *mask64 = NULL;
    int32_t *                        ids = NULL, *tmask = NULL;
    int64_t                          shp[VB_MAX_DIMS];
    int32_t                          nd = 0;
    int64_t                          B = 0, L = 0;
    int                              rc;
    if (qc->has_text) {
        /* InstructBLIP: text ids, the combined mask [ones(Q); text mask], one image per row */
        snprintf(n, sizeof n, "%s.input_ids", cn);
        rc = load_i64_2d(g, n, &ids64, &B, &L);
        int64_t mb = 0, ml = 0;
        snprintf(n, sizeof n, "%s.attention_mask", cn);
        if (rc == VB_OK) rc = load_i64_2d(g, n, &mask64, &mb, &ml);
        if (rc == VB_OK && (mb != B || ml != Q + L))
            rc = vb_fail(VB_ERR_FORMAT, "%s: %s: shape [%lld, %lld], expected [%lld, %lld]", g->dir, n, (long long)mb,
                         (long long)ml, (long long)B, (long long)(Q + L));
        for (int64_t b = 0; rc == VB_OK && b < B; b++)
            for (int64_t i = 0; i < Q; i++)
                if (mask64[b * (Q + L) + i] != 1)
                    rc = vb_fail(VB_ERR_UNSUPPORTED, "(%s: masked query positions are not supported)", n);
        snprintf(n, sizeof n, "%s.image_embeds", cn);
    } else {
        /* BLIP-2: the queries only, over the stored ViT output; the image mask must be all ones */
        snprintf(n, sizeof n, "%s.image_attention_mask", cn);
        int64_t mb = 0, ml = 0;
        rc = load_i64_2d(g, n, &mask64, &mb, &ml);
        for (int64_t i = 0; rc == VB_OK && i < mb * ml; i++)
            if (mask64[i] != 1) rc = vb_fail(VB_ERR_UNSUPPORTED, "(%s: a partial image mask is not supported)", n);
        snprintf(n, sizeof n, "vision.last_hidden_state");
    }
    if (rc == VB_OK) rc = vb_golden_f32(g, n, &image, shp, &nd);
    if (rc == VB_OK && (nd != 3 || shp[2] != Dv || (B && shp[0] != B)))
        rc = vb_fail(VB_ERR_FORMAT, "%s: %s: expected [rows, tokens, %lld]", g->dir, n, (long long)Dv);
    if (rc != VB_OK) goto done;
    B = shp[0];
    const int64_t N = shp[1], S = Q + L;
    if (L > 0) {
        ids = vb_malloc(sizeof(int32_t) * (size_t)(B * L));
        tmask = vb_malloc(sizeof(int32_t) * (size_t)(B * L));
        for (int64_t b = 0; b < B; b++)
            for (int64_t j = 0; j < L; j++) {
                int64_t id = ids64[b * L + j];
                ids[b * L + j] = id < 0 || id > INT32_MAX ? -1 : (int32_t)id;
                tmask[b * L + j] = (int32_t)mask64[b * S + Q + j];
            }
    }
    struct vb_qformer *     qf = NULL;
    struct vb_qformer_ctx * ctx = NULL;
    rc = vb_qformer_load(&qf, g->model, qc, Q, "");
    if (rc == VB_OK) rc = vb_qformer_ctx_new(&ctx, qf, (int32_t)B, (int32_t)L, (int32_t)N);
    if (rc == VB_OK) {
        const int64_t per = B * S * D;
        float *       emb = vb_malloc(sizeof(float) * (size_t)per);
        float *       layers = vb_malloc(sizeof(float) * (size_t)(per * qc->layers));
        float *       full = vb_malloc(sizeof(float) * (size_t)per);
        float *       qout = vb_malloc(sizeof(float) * (size_t)(B * Q * D));
        rc = vb_qformer_run(ctx, image, (int32_t)B, (int32_t)N, ids, tmask, (int32_t)L, qout, full, emb, layers);
        if (rc == VB_OK) {
            snprintf(n, sizeof n, "%s.query_tokens", cn);
            if (vb_weights_find(g->cases, n))
                vb_golden_cmp(g, cn, n, "qformer.query_tokens(param)", qf->query_tokens, Q * D, 0);
            cmp(g, cn, "embeddings", emb, per);
            cmp_layers(g, cn, "layer_outputs", layers, qc->layers, per);
            cmp(g, cn, "last_hidden_state", full, per);
            snprintf(n, sizeof n, "%s.query_output", cn);
            if (vb_weights_find(g->cases, n)) cmp(g, cn, "query_output", qout, B * Q * D);
        }
        free(emb);
        free(layers);
        free(full);
        free(qout);
    }
    vb_qformer_ctx_free(ctx);
    vb_qformer_free(qf);
done:
    free(image);
    free(ids64);
    free(mask64);
    free(ids);
    free(tmask);
    return rc;
}

/* First entry of cases.<case>.inputs, up to the first space ("qformer.query_output"). */
static int case_input(struct vb_golden * g, const char * cn, int idx, char * out, size_t len) {
    const cJSON * c = vb_golden_case_json(g, cn);
    const cJSON * in = cJSON_GetObjectItemCaseSensitive(c, "inputs");
    const cJSON * e = cJSON_GetArrayItem(in, idx);
    if (!cJSON_IsString(e))
        return vb_fail(VB_ERR_FORMAT, "%s/cases.json: cases.%s.inputs[%d] missing", g->dir, cn, idx);
    snprintf(out, len, "%s", e->valuestring);
    char * sp = strchr(out, ' ');
    if (sp) *sp = 0;
    return VB_OK;
}

static int run_projection_case(struct vb_golden * g, const char * cn) {
    const int32_t din = g->cfg.qformer.hidden, dout = g->cfg.t5.d_model;
    char          n[256];
    int           rc = case_input(g, cn, 0, n, sizeof n);
    if (rc != VB_OK) return rc;
    float * x = NULL;
    int64_t shp[VB_MAX_DIMS];
    int32_t nd = 0;
    rc = vb_golden_f32(g, n, &x, shp, &nd);
    if (rc != VB_OK) return rc;
    if (nd < 1 || shp[nd - 1] != din) {
        free(x);
        return vb_fail(VB_ERR_FORMAT, "%s: %s: last dim must be the Q-Former width %d", g->dir, n, din);
    }
    const int64_t          rows = numel_of(shp, nd) / din;
    struct vb_projection * p = NULL;
    rc = vb_projection_load(&p, g->model, "language_projection", din, dout);
    if (rc == VB_OK && g->device == VB_DEVICE_CUDA) rc = vb_projection_to_device(p);
    if (rc == VB_OK) {
        float * y = vb_malloc(sizeof(float) * (size_t)(rows * dout));
        rc = vb_projection_run(p, x, rows, y);
        if (rc == VB_OK) cmp(g, cn, "output", y, rows * dout);
        free(y);
    }
    vb_projection_free(p);
    free(x);
    return rc;
}

int vb_golden_run_qformer(struct vb_golden * g, const char * cn) {
    if (!g->has_cfg) return vb_fail(VB_ERR_UNSUPPORTED, "(no config.json in %s)", g->dir);
    if (!strcmp(cn, "projection")) return run_projection_case(g, cn);
    return run_qformer_case(g, cn);
}

/* ---- frame prompter ---- */

static int json_size(struct vb_golden * g, const char * key, int32_t * out) {
    const cJSON * s = cJSON_GetObjectItemCaseSensitive(g->json, "sizes");
    const cJSON * v = cJSON_GetObjectItemCaseSensitive(s, key);
    if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 1e9 || v->valuedouble != (int32_t)v->valuedouble)
        return vb_fail(VB_ERR_FORMAT, "%s/cases.json: sizes.%s missing or not a positive integer", g->dir, key);
    *out = (int32_t)v->valuedouble;
    return VB_OK;
}

/* The Gumbel temperature written in the case's steps ("tau = 0.01"). */
static int case_tau(struct vb_golden * g, const char * cn, float * tau) {
    const cJSON * steps = cJSON_GetObjectItemCaseSensitive(vb_golden_case_json(g, cn), "steps");
    const cJSON * s;
    cJSON_ArrayForEach(s, steps) {
        if (!cJSON_IsString(s)) continue;
        const char * p = strstr(s->valuestring, "tau = ");
        if (!p) continue;
        char * end;
        double v = strtod(p + 6, &end);
        if (end != p + 6 && v > 0) {
            *tau = (float)v;
            return VB_OK;
        }
    }
    return vb_fail(VB_ERR_FORMAT, "%s/cases.json: cases.%s.steps: no 'tau = <value>'", g->dir, cn);
}

int vb_golden_run_prompter(struct vb_golden * g, const char * cn) {
    int32_t b, T, S, N, D;
    int     rc = json_size(g, "batch", &b);
    if (rc == VB_OK) rc = json_size(g, "frames", &T);
    if (rc == VB_OK) rc = json_size(g, "segments", &S);
    if (rc == VB_OK) rc = json_size(g, "tokens", &N);
    if (rc == VB_OK) rc = json_size(g, "dim", &D);
    if (rc != VB_OK) return rc;
    struct vb_frame_prompter * fp = NULL;
    rc = vb_frame_prompter_load(&fp, g->model, T, S, N, "frame_prompter.");
    if (rc != VB_OK) return rc;
    const int32_t k = fp->k;
    const int64_t nl = (int64_t)b * S * k;
    float *       logits = vb_malloc(sizeof(float) * (size_t)nl);
    float *       mask = vb_malloc(sizeof(float) * (size_t)b * (size_t)T);
    int64_t *     sel_local = vb_malloc(sizeof(int64_t) * (size_t)b * (size_t)S);
    int64_t *     sel_frames = vb_malloc(sizeof(int64_t) * (size_t)b * (size_t)S);
    float *       features = NULL, *U = NULL;
    int64_t       shp[VB_MAX_DIMS];
    int32_t       nd = 0;
    char          n[256];
    if (!strcmp(cn, "prompter")) {
        snprintf(n, sizeof n, "%s.features", cn);
        rc = vb_golden_f32(g, n, &features, shp, &nd);
        if (rc == VB_OK && (nd != 4 || shp[0] != b || shp[1] != T || shp[2] != N || shp[3] != D))
            rc = vb_fail(VB_ERR_FORMAT, "%s: %s: shape disagrees with cases.json sizes [%d, %d, %d, %d]", g->dir, n, b,
                         T, N, D);
        if (rc == VB_OK) {
            float * gates = vb_malloc(sizeof(float) * (size_t)b * (size_t)T * (size_t)N);
            float * fc1 = vb_malloc(sizeof(float) * (size_t)nl);
            float * nrm = vb_malloc(sizeof(float) * (size_t)nl);
            float * relu = vb_malloc(sizeof(float) * (size_t)nl);
            float * selfeat = vb_malloc(sizeof(float) * (size_t)b * (size_t)S * (size_t)N * (size_t)D);
            vb_frame_prompter_logits(fp, features, b, D, logits, gates, fc1, nrm, relu, NULL);
            vb_frame_prompter_select(logits, NULL, b, S, k, 1.0f, NULL, NULL, sel_local, sel_frames, mask);
            vb_frame_prompter_gather(features, b, T, S, N, D, sel_frames, selfeat);
            cmp(g, cn, "gates", gates, (int64_t)b * T * N);
            cmp(g, cn, "segment_input", gates, (int64_t)b * T * N); /* same memory, viewed (b, S, k*N) */
            cmp(g, cn, "fc1_out", fc1, nl);
            cmp(g, cn, "norm_out", nrm, nl);
            cmp(g, cn, "relu_out", relu, nl);
            cmp(g, cn, "logits", logits, nl);
            cmp_i64(g, cn, "selected_local", sel_local, (int64_t)b * S);
            cmp_i64(g, cn, "selected_frames", sel_frames, (int64_t)b * S);
            cmp(g, cn, "mask", mask, (int64_t)b * T);
            cmp(g, cn, "selected_features", selfeat, (int64_t)b * S * N * D);
            free(gates);
            free(fc1);
            free(nrm);
            free(relu);
            free(selfeat);
        }
    } else { /* gumbel: replay the stored U over the stored logits */
        float   tau = 0;
        float * ref_logits = NULL;
        rc = case_tau(g, cn, &tau);
        if (rc == VB_OK) rc = vb_golden_f32(g, "prompter.logits", &ref_logits, shp, &nd);
        if (rc == VB_OK && numel_of(shp, nd) != nl)
            rc = vb_fail(VB_ERR_FORMAT, "%s: prompter.logits: %lld values, expected %lld", g->dir,
                         (long long)numel_of(shp, nd), (long long)nl);
        snprintf(n, sizeof n, "%s.uniform", cn);
        if (rc == VB_OK) rc = vb_golden_f32(g, n, &U, shp, &nd);
        if (rc == VB_OK && numel_of(shp, nd) != nl)
            rc = vb_fail(VB_ERR_FORMAT, "%s: %s: %lld values, expected %lld", g->dir, n, (long long)numel_of(shp, nd),
                         (long long)nl);
        if (rc == VB_OK) {
            float * noise = vb_malloc(sizeof(float) * (size_t)nl);
            float * noisy = vb_malloc(sizeof(float) * (size_t)nl);
            float * soft = vb_malloc(sizeof(float) * (size_t)nl);
            vb_frame_prompter_gumbel_noise(U, nl, noise);
            vb_frame_prompter_select(ref_logits, noise, b, S, k, tau, noisy, soft, sel_local, sel_frames, mask);
            cmp(g, cn, "noise", noise, nl);
            cmp(g, cn, "noisy_logits", noisy, nl);
            cmp(g, cn, "soft_samples", soft, nl);
            cmp_i64(g, cn, "selected_local", sel_local, (int64_t)b * S);
            cmp_i64(g, cn, "selected_frames", sel_frames, (int64_t)b * S);
            cmp(g, cn, "mask", mask, (int64_t)b * T);
            free(noise);
            free(noisy);
            free(soft);
        }
        free(ref_logits);
    }
    free(features);
    free(U);
    free(logits);
    free(mask);
    free(sel_local);
    free(sel_frames);
    vb_frame_prompter_free(fp);
    return rc;
}
