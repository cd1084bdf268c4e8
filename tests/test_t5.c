/* test_t5.c — engine/t5 and engine/generate against a naive double-precision T5 written here from the HF recipe,
** on random-weight models of sizes unlike the golden sets (inner = heads*d_kv != d_model, more decoder than encoder
** blocks, sequences longer than max_distance), written with vb_st_writer and loaded through the normal loader.
** Variants: gated tanh-GELU untied; gated erf-GELU tied (d_model^-0.5 rescale); ReLU non-gated tied with the shared
** embedding stored only as encoder.embed_tokens.  Also: greedy generation with repetition penalty vs a naive greedy
** loop, EOS padding, bad input; the batched encoder's runs of equal-length sequences give the bits of single
** encodes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first */
/* cmocka.h needs <setjmp.h>, <stdarg.h>, <stddef.h> and <stdint.h> first */
#include <cmocka.h>

#include "base/common.h"
#include "engine/blas.h"
#include "engine/config.h"
#include "engine/generate.h"
#include "engine/t5.h"
#include "engine/weights.h"
#include "tests/helpers.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------------ random weights */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static double   urand(void) {
      return test_urand(&rng_state);
}
static double nrand(void) {
    return sqrt(-2.0 * log(urand())) * cos(6.283185307179586 * urand());
}

struct variant {
    const char *        name;
    struct vb_t5_config cfg;
    const char *        prefix;
    int                 shared_as_embed_tokens; /* store the embedding only as encoder.embed_tokens.weight */
};

static void add_rand(struct vb_st_writer * sw, const char * prefix, const char * name, int64_t a, int64_t b,
                     double mean, double sd) {
    char full[256];
    snprintf(full, sizeof full, "%s%s", prefix, name);
    int64_t n = a * (b > 0 ? b : 1);
    float * v = malloc(sizeof(float) * (size_t)n);
    for (int64_t i = 0; i < n; i++)
        v[i] = (float)(mean + sd * nrand());
    int64_t shape[2] = {a, b};
    vb_st_writer_add(sw, full, VB_DT_F32, b > 0 ? 2 : 1, shape, v);
    free(v);
}

static void write_model(const struct variant * V, const char * path) {
    const struct vb_t5_config * C = &V->cfg;
    const char *                P = V->prefix;
    int64_t                     d = C->d_model, inner = (int64_t)C->heads * C->d_kv, f = C->d_ff;
    struct vb_st_writer *       sw = vb_st_writer_new();
    char                        n[256];
    add_rand(sw, P, V->shared_as_embed_tokens ? "encoder.embed_tokens.weight" : "shared.weight", C->vocab, d, 0, 1);
    if (!C->tie) add_rand(sw, P, "lm_head.weight", C->vocab, d, 0, 1.0 / sqrt((double)d));
    for (int dec = 0; dec < 2; dec++) {
        const char * part = dec ? "decoder" : "encoder";
        int32_t      nb = dec ? C->n_dec : C->n_enc;
        for (int32_t l = 0; l < nb; l++) {
            const char * qkvo[4] = {"q", "k", "v", "o"};
            for (int i = 0; i < 4; i++) {
                snprintf(n, sizeof n, "%s.block.%d.layer.0.SelfAttention.%s.weight", part, l, qkvo[i]);
                add_rand(sw, P, n, i < 3 ? inner : d, i < 3 ? d : inner, 0, 1.0 / sqrt((double)(i < 3 ? d : inner)));
            }
            if (l == 0) {
                snprintf(n, sizeof n, "%s.block.0.layer.0.SelfAttention.relative_attention_bias.weight", part);
                add_rand(sw, P, n, C->n_buckets, C->heads, 0, 1);
            }
            snprintf(n, sizeof n, "%s.block.%d.layer.0.layer_norm.weight", part, l);
            add_rand(sw, P, n, d, 0, 1, 0.1);
            int ffl = 1;
            if (dec) {
                for (int i = 0; i < 4; i++) {
                    snprintf(n, sizeof n, "decoder.block.%d.layer.1.EncDecAttention.%s.weight", l, qkvo[i]);
                    add_rand(sw, P, n, i < 3 ? inner : d, i < 3 ? d : inner, 0,
                             1.0 / sqrt((double)(i < 3 ? d : inner)));
                }
                snprintf(n, sizeof n, "decoder.block.%d.layer.1.layer_norm.weight", l);
                add_rand(sw, P, n, d, 0, 1, 0.1);
                ffl = 2;
            }
            if (C->gated) {
                snprintf(n, sizeof n, "%s.block.%d.layer.%d.DenseReluDense.wi_0.weight", part, l, ffl);
                add_rand(sw, P, n, f, d, 0, 1.0 / sqrt((double)d));
                snprintf(n, sizeof n, "%s.block.%d.layer.%d.DenseReluDense.wi_1.weight", part, l, ffl);
                add_rand(sw, P, n, f, d, 0, 1.0 / sqrt((double)d));
            } else {
                snprintf(n, sizeof n, "%s.block.%d.layer.%d.DenseReluDense.wi.weight", part, l, ffl);
                add_rand(sw, P, n, f, d, 0, 1.0 / sqrt((double)d));
            }
            snprintf(n, sizeof n, "%s.block.%d.layer.%d.DenseReluDense.wo.weight", part, l, ffl);
            add_rand(sw, P, n, d, f, 0, 1.0 / sqrt((double)f));
            snprintf(n, sizeof n, "%s.block.%d.layer.%d.layer_norm.weight", part, l, ffl);
            add_rand(sw, P, n, d, 0, 1, 0.1);
        }
        snprintf(n, sizeof n, "%s.final_layer_norm.weight", part);
        add_rand(sw, P, n, d, 0, 1, 0.1);
    }
    assert_int_equal(vb_st_writer_write(sw, path), VB_OK);
    vb_st_writer_free(sw);
}

/* ------------------------------------------------------------------ naive double T5 */

struct naive {
    const struct vb_t5_config * C;
    const struct vb_weights *   w;
    const char *                prefix;
    int                         shared_as_embed_tokens;
};

/* tensor as double (malloc'd) */
static double * W(const struct naive * N, const char * fmt, ...) {
    char    name[256], full[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    snprintf(full, sizeof full, "%s%s", N->prefix, name);
    float * f;
    int     rc = vb_weights_load_f32(N->w, full, 0, NULL, &f);
    if (rc != VB_OK) fprintf(stderr, "%s\n", vb_errmsg());
    assert_int_equal(rc, VB_OK);
    const struct vb_st_tensor * t = vb_weights_find(N->w, full);
    double *                    d = malloc(sizeof(double) * (size_t)t->numel);
    for (int64_t i = 0; i < t->numel; i++)
        d[i] = f[i];
    free(f);
    return d;
}

static int naive_bucket(int64_t rel, int bidir, int nb, int maxd) {
    int     ret = 0;
    int64_t r = rel;
    if (bidir) {
        nb /= 2;
        if (r > 0) ret += nb;
        r = llabs(r);
    } else
        r = r < 0 ? -r : 0;
    int me = nb / 2;
    if (r < me) return ret + (int)r;
    int large = me + (int)(log((double)r / me) / log((double)maxd / me) * (nb - me));
    return ret + (large < nb - 1 ? large : nb - 1);
}

static void rms(const double * x, int64_t n, int64_t d, const double * w, double eps, double * y) {
    for (int64_t i = 0; i < n; i++) {
        double s = 0;
        for (int64_t j = 0; j < d; j++)
            s += x[i * d + j] * x[i * d + j];
        double inv = 1.0 / sqrt(s / d + eps);
        for (int64_t j = 0; j < d; j++)
            y[i * d + j] = w[j] * x[i * d + j] * inv;
    }
}

/* y (n, out) = x (n, in) W^T */
static void lin(const double * x, int64_t n, int64_t in, const double * Wt, int64_t out, double * y) {
    for (int64_t i = 0; i < n; i++)
        for (int64_t o = 0; o < out; o++) {
            double s = 0;
            for (int64_t k = 0; k < in; k++)
                s += x[i * in + k] * Wt[o * in + k];
            y[i * out + o] = s;
        }
}

static double act(const struct vb_t5_config * C, double v) {
    if (C->act == VB_ACT_GELU_ERF) return 0.5 * v * (1 + erf(v / sqrt(2.0)));
    if (C->act == VB_ACT_GELU_TANH) return 0.5 * v * (1 + tanh(sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
    return v > 0 ? v : 0;
}

/* attention of nq queries (x_q (nq,d)) over nk keys (x_kv (nk, d)); rel: bias table or NULL; bidir; causal; mask */
static void attn(const struct naive * N, const char * base, const double * xq, int64_t nq, const double * xkv,
                 int64_t nk, const double * rel, int bidir, int causal, const uint8_t * mask, double * out_add) {
    const struct vb_t5_config * C = N->C;
    int64_t                     d = C->d_model, H = C->heads, dk = C->d_kv, inner = H * dk;
    double *                    q = malloc(sizeof(double) * nq * inner), *k = malloc(sizeof(double) * nk * inner),
           *v = malloc(sizeof(double) * nk * inner), *o = calloc((size_t)(nq * inner), sizeof(double)),
           *y = malloc(sizeof(double) * nq * d), *p = malloc(sizeof(double) * nk);
    double * wq = W(N, "%s.q.weight", base);
    double * wk = W(N, "%s.k.weight", base);
    double * wv = W(N, "%s.v.weight", base);
    double * wo = W(N, "%s.o.weight", base);
    lin(xq, nq, d, wq, inner, q);
    lin(xkv, nk, d, wk, inner, k);
    lin(xkv, nk, d, wv, inner, v);
    for (int64_t h = 0; h < H; h++)
        for (int64_t i = 0; i < nq; i++) {
            double mx = -INFINITY;
            for (int64_t j = 0; j < nk; j++) {
                double s = 0;
                for (int64_t e = 0; e < dk; e++)
                    s += q[i * inner + h * dk + e] * k[j * inner + h * dk + e];
                if (rel)
                    s += rel[naive_bucket(j - (causal ? i + (nk - nq) : i), bidir, C->n_buckets, C->max_distance) * H +
                             h];
                if ((mask && !mask[j]) || (causal && j > i + (nk - nq))) s = -INFINITY;
                p[j] = s;
                if (s > mx) mx = s;
            }
            double z = 0;
            for (int64_t j = 0; j < nk; j++)
                z += (p[j] = exp(p[j] - mx));
            for (int64_t j = 0; j < nk; j++)
                for (int64_t e = 0; e < dk; e++)
                    o[i * inner + h * dk + e] += p[j] / z * v[j * inner + h * dk + e];
        }
    lin(o, nq, inner, wo, d, y);
    for (int64_t i = 0; i < nq * d; i++)
        out_add[i] += y[i];
    free(q), free(k), free(v), free(o), free(y), free(p), free(wq), free(wk), free(wv), free(wo);
}

static void ffn(const struct naive * N, const char * base, double * h, int64_t n) {
    const struct vb_t5_config * C = N->C;
    int64_t                     d = C->d_model, f = C->d_ff;
    double *                    ln = W(N, "%s.layer_norm.weight", base);
    double *                    x = malloc(sizeof(double) * n * d), *a = malloc(sizeof(double) * n * f),
           *b = malloc(sizeof(double) * n * f), *y = malloc(sizeof(double) * n * d);
    rms(h, n, d, ln, C->eps, x);
    double * wo = W(N, "%s.DenseReluDense.wo.weight", base);
    if (C->gated) {
        double * w0 = W(N, "%s.DenseReluDense.wi_0.weight", base);
        double * w1 = W(N, "%s.DenseReluDense.wi_1.weight", base);
        lin(x, n, d, w0, f, a);
        lin(x, n, d, w1, f, b);
        for (int64_t i = 0; i < n * f; i++)
            a[i] = act(C, a[i]) * b[i];
        free(w0), free(w1);
    } else {
        double * wi = W(N, "%s.DenseReluDense.wi.weight", base);
        lin(x, n, d, wi, f, a);
        for (int64_t i = 0; i < n * f; i++)
            a[i] = act(C, a[i]);
        free(wi);
    }
    lin(a, n, f, wo, d, y);
    for (int64_t i = 0; i < n * d; i++)
        h[i] += y[i];
    free(ln), free(x), free(a), free(b), free(y), free(wo);
}

static double * naive_embed(const struct naive * N, const int32_t * ids, int64_t n) {
    double * E = W(N, N->shared_as_embed_tokens ? "encoder.embed_tokens.weight" : "shared.weight");
    int64_t  d = N->C->d_model;
    double * h = malloc(sizeof(double) * n * d);
    for (int64_t i = 0; i < n; i++)
        memcpy(h + i * d, E + (int64_t)ids[i] * d, sizeof(double) * d);
    free(E);
    return h;
}

/* encoder output (n, d), malloc'd */
static double * naive_encode(const struct naive * N, const double * emb, const uint8_t * mask, int64_t n) {
    const struct vb_t5_config * C = N->C;
    int64_t                     d = C->d_model;
    double *                    h = malloc(sizeof(double) * n * d), *x = malloc(sizeof(double) * n * d);
    memcpy(h, emb, sizeof(double) * n * d);
    double * rel = W(N, "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight");
    char     base[128];
    for (int32_t l = 0; l < C->n_enc; l++) {
        double * ln = W(N, "encoder.block.%d.layer.0.layer_norm.weight", l);
        rms(h, n, d, ln, C->eps, x);
        snprintf(base, sizeof base, "encoder.block.%d.layer.0.SelfAttention", l);
        attn(N, base, x, n, x, n, rel, 1, 0, mask, h);
        snprintf(base, sizeof base, "encoder.block.%d.layer.1", l);
        ffn(N, base, h, n);
        free(ln);
    }
    double * fl = W(N, "encoder.final_layer_norm.weight");
    rms(h, n, d, fl, C->eps, x);
    free(fl), free(h), free(rel);
    return x;
}

/* teacher-forced decoder logits (T, vocab), malloc'd */
static double * naive_decode(const struct naive * N, const double * enc, const uint8_t * mask, int64_t ne,
                             const int32_t * ids, int64_t T) {
    const struct vb_t5_config * C = N->C;
    int64_t                     d = C->d_model;
    double *                    h = naive_embed(N, ids, T);
    double *                    x = malloc(sizeof(double) * T * d);
    double *                    rel = W(N, "decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight");
    char                        base[128];
    for (int32_t l = 0; l < C->n_dec; l++) {
        double * ln0 = W(N, "decoder.block.%d.layer.0.layer_norm.weight", l);
        double * ln1 = W(N, "decoder.block.%d.layer.1.layer_norm.weight", l);
        rms(h, T, d, ln0, C->eps, x);
        snprintf(base, sizeof base, "decoder.block.%d.layer.0.SelfAttention", l);
        attn(N, base, x, T, x, T, rel, 0, 1, NULL, h);
        rms(h, T, d, ln1, C->eps, x);
        snprintf(base, sizeof base, "decoder.block.%d.layer.1.EncDecAttention", l);
        attn(N, base, x, T, enc, ne, NULL, 0, 0, mask, h);
        snprintf(base, sizeof base, "decoder.block.%d.layer.2", l);
        ffn(N, base, h, T);
        free(ln0), free(ln1);
    }
    double * fl = W(N, "decoder.final_layer_norm.weight");
    rms(h, T, d, fl, C->eps, x);
    if (C->tie)
        for (int64_t i = 0; i < T * d; i++)
            x[i] *= 1.0 / sqrt((double)d);
    double * lm = C->tie ? W(N, N->shared_as_embed_tokens ? "encoder.embed_tokens.weight" : "shared.weight")
                         : W(N, "lm_head.weight");
    double * logits = malloc(sizeof(double) * T * C->vocab);
    lin(x, T, d, lm, C->vocab, logits);
    free(h), free(x), free(rel), free(fl), free(lm);
    return logits;
}

/* ------------------------------------------------------------------ helpers */

static double max_err(const float * got, const double * ref, int64_t n, double * maxref) {
    double e = 0, m = 0;
    for (int64_t i = 0; i < n; i++) {
        double de = fabs(got[i] - ref[i]);
        if (!(de <= e)) e = isnan(de) ? INFINITY : de;
        if (fabs(ref[i]) > m) m = fabs(ref[i]);
    }
    *maxref = m;
    return e;
}

#define EXPECT_CLOSE(what, got, ref, n)                                                                                \
    do {                                                                                                               \
        double mr_, e_ = max_err((got), (ref), (n), &mr_);                                                             \
        double tol_ = 1e-4 * (mr_ > 1 ? mr_ : 1);                                                                      \
        printf("  %-40s max_err %.3g tol %.3g (max|ref| %.3g)\n", (what), e_, tol_, mr_);                              \
        assert_true(e_ <= tol_);                                                                                       \
        assert_true(mr_ > 0.05); /* the reference is not trivially zero */                                             \
    } while (0)

static const struct variant VARIANTS[3] = {
    {"gated gelu_new, untied",
     {41, 24, 5, 20, 2, 3, 3, 10, 25, 1e-6f, VB_ACT_GELU_TANH, 1, 0, 0, 1, 0, VB_DT_F32, VB_DEVICE_CPU},
     "language_model.",
     0},
    {"gated erf gelu, tied",
     {37, 16, 4, 12, 3, 2, 2, 8, 20, 1e-6f, VB_ACT_GELU_ERF, 1, 1, 0, 1, 0, VB_DT_F32, VB_DEVICE_CPU},
     "",
     0},
    {"relu, tied, embed_tokens only",
     {29, 20, 6, 18, 1, 2, 2, 12, 16, 1e-6f, VB_ACT_RELU, 0, 1, 0, 1, 0, VB_DT_F32, VB_DEVICE_CPU},
     "t5.",
     1},
};

static void tmp_path(char * buf, size_t len, int i) {
    const char * t = getenv("TMPDIR");
    snprintf(buf, len, "%s/vb_test_t5_%d_%d.safetensors", t ? t : "/tmp", (int)getpid(), i);
}

/* ------------------------------------------------------------------ tests */

static void test_buckets(void ** state) {
    (void)state;
    /* values of HF's table for 32 buckets, max_distance 128 (README: bidirectional -32 -> 12, +32 -> 28) */
    assert_int_equal(vb_t5_bucket(-32, 1, 32, 128), 12);
    assert_int_equal(vb_t5_bucket(32, 1, 32, 128), 28);
    assert_int_equal(vb_t5_bucket(0, 1, 32, 128), 0);
    assert_int_equal(vb_t5_bucket(1, 1, 32, 128), 17);
    assert_int_equal(vb_t5_bucket(-300, 1, 32, 128), 15);
    assert_int_equal(vb_t5_bucket(300, 1, 32, 128), 31);
    assert_int_equal(vb_t5_bucket(5, 0, 32, 128), 0); /* key after query: bucket 0 (masked anyway) */
    assert_int_equal(vb_t5_bucket(-15, 0, 32, 128), 15);
    assert_int_equal(vb_t5_bucket(-16, 0, 32, 128), 16);
    assert_int_equal(vb_t5_bucket(-300, 0, 32, 128), 31);
    /* the naive double version agrees on the small test configs */
    for (int v = 0; v < 3; v++)
        for (int64_t r = -80; r <= 80; r++)
            for (int b = 0; b < 2; b++)
                assert_int_equal(vb_t5_bucket(r, b, VARIANTS[v].cfg.n_buckets, VARIANTS[v].cfg.max_distance),
                                 naive_bucket(r, b, VARIANTS[v].cfg.n_buckets, VARIANTS[v].cfg.max_distance));
}

static void test_encoder_decoder(void ** state) {
    (void)state;
    for (int vi = 0; vi < 3; vi++) {
        const struct variant *      V = &VARIANTS[vi];
        const struct vb_t5_config * C = &V->cfg;
        printf("variant %s\n", V->name);
        char path[512];
        tmp_path(path, sizeof path, vi);
        write_model(V, path);
        struct vb_weights * w;
        assert_int_equal(vb_weights_open(&w, path), VB_OK);
        struct vb_t5_model * m;
        int                  rc = vb_t5_load(&m, w, V->prefix, C);
        if (rc != VB_OK) fprintf(stderr, "%s\n", vb_errmsg());
        assert_int_equal(rc, VB_OK);
        struct naive N = {C, w, V->prefix, V->shared_as_embed_tokens};
        int64_t      d = C->d_model, ne = C->max_distance + 7, T = C->max_distance + 5, Vv = C->vocab;
        /* encoder input: random embeddings for the first 5 rows ("visual"), token embeddings after; 3 padded */
        int32_t * eids = malloc(sizeof(int32_t) * ne);
        for (int64_t i = 0; i < ne; i++)
            eids[i] = (int32_t)(urand() * Vv);
        double * embd = naive_embed(&N, eids, ne);
        for (int64_t i = 0; i < 5 * d; i++)
            embd[i] = nrand();
        float * emb = malloc(sizeof(float) * ne * d);
        for (int64_t i = 0; i < ne * d; i++)
            emb[i] = (float)embd[i], embd[i] = emb[i];
        uint8_t * mask = malloc(ne);
        for (int64_t i = 0; i < ne; i++)
            mask[i] = i < ne - 3;
        double *           enc_ref = naive_encode(&N, embd, mask, ne);
        struct vb_t5_ctx * c;
        assert_int_equal(vb_t5_ctx_new(&c, m, ne, T), VB_OK);
        assert_int_equal(vb_t5_encode(c, emb, mask, ne, NULL), VB_OK);
        EXPECT_CLOSE("encoder last_hidden_state", c->enc_out, enc_ref, ne * d);
        /* teacher forced decoder, T > max_distance */
        int32_t * dids = malloc(sizeof(int32_t) * T);
        dids[0] = C->dec_start_id;
        for (int64_t i = 1; i < T; i++)
            dids[i] = (int32_t)(urand() * Vv);
        double * lg_ref = naive_decode(&N, enc_ref, mask, ne, dids, T);
        float *  lg = malloc(sizeof(float) * T * Vv);
        assert_int_equal(vb_t5_decode(c, dids, T, lg, NULL, NULL), VB_OK);
        EXPECT_CLOSE("decoder logits, teacher forced", lg, lg_ref, T * Vv);
        /* the same through the cache: one step, then 3, then single steps */
        vb_t5_reset_decoder(c);
        memset(lg, 0, sizeof(float) * T * Vv);
        assert_int_equal(vb_t5_decode(c, dids, 1, lg, NULL, NULL), VB_OK);
        EXPECT_CLOSE("decoder step 0", lg, lg_ref, Vv);
        assert_int_equal(vb_t5_decode(c, dids + 1, 3, lg + Vv, NULL, NULL), VB_OK);
        for (int64_t t = 4; t < T; t++)
            assert_int_equal(vb_t5_decode(c, dids + t, 1, lg + t * Vv, NULL, NULL), VB_OK);
        EXPECT_CLOSE("decoder logits, KV-cached steps", lg, lg_ref, T * Vv);
        /* cache full -> error, state unchanged */
        assert_int_equal(vb_t5_decode(c, dids, 1, lg, NULL, NULL), VB_ERR_ARG);
        /* padding does not leak: the unpadded prefix alone gives the same decoder logits */
        struct vb_t5_ctx * c2;
        assert_int_equal(vb_t5_ctx_new(&c2, m, ne - 3, 2), VB_OK);
        assert_int_equal(vb_t5_encode(c2, emb, NULL, ne - 3, NULL), VB_OK);
        assert_int_equal(vb_t5_decode(c2, dids, 2, lg, NULL, NULL), VB_OK);
        EXPECT_CLOSE("unpadded row, steps 0-1", lg, lg_ref, 2 * Vv);
        /* batched form: sequence A = the padded input, sequence B = its unpadded prefix; A's cache starts 3 positions
        ** ahead of B's, so one batched step serves different positions */
        {
            struct vb_t5_batch * bt;
            struct vb_t5_ctx *   cs[2];
            assert_int_equal(vb_t5_batch_new(&bt, m, 2 * ne, 2), VB_OK);
            assert_int_equal(vb_t5_ctx_new(&cs[0], m, ne, T), VB_OK);
            assert_int_equal(vb_t5_ctx_new(&cs[1], m, ne, T), VB_OK);
            const float *   e[2] = {emb, emb};
            const uint8_t * mk[2] = {mask, NULL};
            int64_t         ns[2] = {ne, ne - 3};
            assert_int_equal(vb_t5_encode_batch(bt, cs, 2, e, mk, ns), VB_OK);
            EXPECT_CLOSE("batched encoder, sequence A", cs[0]->enc_out, enc_ref, ne * d);
            EXPECT_CLOSE("batched encoder, sequence B (prefix)", cs[1]->enc_out, enc_ref, (ne - 3) * d);
            assert_int_equal(vb_t5_decode(cs[0], dids, 3, NULL, NULL, NULL), VB_OK);
            float * lb = malloc(sizeof(float) * 2 * Vv);
            float * ga = malloc(sizeof(float) * 4 * Vv);
            float * gb = malloc(sizeof(float) * 4 * Vv);
            for (int t = 0; t < 4; t++) {
                int32_t step_ids[2] = {dids[3 + t], dids[t]};
                assert_int_equal(vb_t5_decode_batch(bt, cs, 2, step_ids, lb), VB_OK);
                memcpy(ga + t * Vv, lb, sizeof(float) * Vv);
                memcpy(gb + t * Vv, lb + Vv, sizeof(float) * Vv);
            }
            EXPECT_CLOSE("batched decoder steps, A at 3..6", ga, lg_ref + 3 * Vv, 4 * Vv);
            EXPECT_CLOSE("batched decoder steps, B at 0..3", gb, lg_ref, 4 * Vv);
            int32_t two_bad[2] = {0, C->vocab};
            int64_t before = cs[0]->n_past;
            assert_int_equal(vb_t5_decode_batch(bt, cs, 2, two_bad, lb), VB_ERR_ARG);
            assert_int_equal(cs[0]->n_past, before);
            struct vb_t5_batch * b1;
            assert_int_equal(vb_t5_batch_new(&b1, m, 1, 0), VB_OK);
            int32_t two_ok[2] = {0, 0};
            assert_int_equal(vb_t5_decode_batch(b1, cs, 2, two_ok, lb), VB_ERR_ARG); /* more rows than workspace */
            assert_int_equal(vb_t5_encode_batch(b1, cs, 2, e, mk, ns), VB_ERR_ARG);
            assert_int_equal(cs[0]->n_past, before);
            vb_t5_batch_free(b1);
            free(lb), free(ga), free(gb);
            vb_t5_ctx_free(cs[0]);
            vb_t5_ctx_free(cs[1]);
            vb_t5_batch_free(bt);
        }
        /* bad input */
        int32_t bad = C->vocab;
        vb_t5_reset_decoder(c2);
        assert_int_equal(vb_t5_decode(c2, &bad, 1, lg, NULL, NULL), VB_ERR_ARG);
        assert_int_equal(vb_t5_encode(c2, emb, NULL, ne, NULL), VB_ERR_ARG);
        vb_t5_ctx_free(c2);
        vb_t5_ctx_free(c);
        free(eids), free(embd), free(emb), free(mask), free(enc_ref), free(dids), free(lg_ref), free(lg);
        vb_t5_free(m);
        vb_weights_close(w);
        unlink(path);
    }
}

/* Greedy generation with repetition penalty 1.5 against a naive loop (teacher-forced recomputation per step). */
static void test_generate(void ** state) {
    (void)state;
    const struct variant * V = &VARIANTS[0];
    struct vb_t5_config    C = V->cfg;
    char                   path[512];
    tmp_path(path, sizeof path, 10);
    write_model(V, path);
    struct vb_weights * w;
    assert_int_equal(vb_weights_open(&w, path), VB_OK);
    struct naive  N = {&C, w, V->prefix, 0};
    int64_t       d = C.d_model, Vv = C.vocab, ne = 9;
    const int32_t S = 6;
    for (int pass = 0; pass < 2; pass++) {
        /* pass 1: make the EOS id be the step-1 token of row 0 so that row finishes early */
        struct vb_t5_model * m;
        assert_int_equal(vb_t5_load(&m, w, V->prefix, &C), VB_OK);
        struct vb_t5_ctx * ctx[2];
        double *           enc_ref[2];
        uint8_t            mask[2][16];
        rng_state = 12345;
        for (int r = 0; r < 2; r++) {
            int32_t ids[16];
            for (int64_t i = 0; i < ne; i++)
                ids[i] = (int32_t)(urand() * Vv), mask[r][i] = i < ne - 2 * r;
            double * e = naive_embed(&N, ids, ne);
            float *  ef = malloc(sizeof(float) * ne * d);
            for (int64_t i = 0; i < ne * d; i++)
                ef[i] = (float)e[i];
            enc_ref[r] = naive_encode(&N, e, mask[r], ne);
            assert_int_equal(vb_t5_ctx_new(&ctx[r], m, ne, S), VB_OK);
            assert_int_equal(vb_t5_encode(ctx[r], ef, mask[r], ne, NULL), VB_OK);
            free(e), free(ef);
        }
        /* naive greedy with penalty */
        int32_t ref_ids[2][8];
        double  ref_sc[8][2][64], ref_raw[8][2][64];
        int     fin[2] = {0, 0}, ref_steps = S;
        for (int r = 0; r < 2; r++)
            ref_ids[r][0] = C.dec_start_id;
        for (int s = 0; s < S; s++) {
            for (int r = 0; r < 2; r++) {
                double * lg = naive_decode(&N, enc_ref[r], mask[r], ne, ref_ids[r], s + 1);
                for (int64_t v = 0; v < Vv; v++) {
                    double x = lg[s * Vv + v];
                    ref_raw[s][r][v] = x;
                    int seen = 0;
                    for (int k = 0; k <= s; k++)
                        seen |= ref_ids[r][k] == v;
                    ref_sc[s][r][v] = seen ? (x < 0 ? x * 1.5 : x / 1.5) : x;
                }
                int best = 0;
                for (int64_t v = 1; v < Vv; v++)
                    if (ref_sc[s][r][v] > ref_sc[s][r][best]) best = (int)v;
                if (fin[r])
                    best = C.pad_id;
                else if (best == C.eos_id)
                    fin[r] = 1;
                ref_ids[r][s + 1] = best;
                free(lg);
            }
            if (fin[0] && fin[1]) {
                ref_steps = s + 1;
                break;
            }
        }
        int32_t ids[2 * 7];
        float *scores = calloc((size_t)(S * 2 * Vv), sizeof(float)), *raw = calloc((size_t)(S * 2 * Vv), sizeof(float));
        struct vb_gen_opts o;
        vb_gen_opts_default(&o);
        o.max_new_tokens = S;
        o.repetition_penalty = 1.5f;
        int32_t steps;
        /* batched rows first (result must equal the naive loop), then row by row below */
        struct vb_t5_batch * bt;
        assert_int_equal(vb_t5_batch_new(&bt, m, 2, 2), VB_OK);
        o.batch = bt;
        assert_int_equal(vb_generate_greedy(ctx, 2, &o, ids, scores, raw, NULL, &steps), VB_OK);
        int32_t ids_b[2 * 7];
        memcpy(ids_b, ids, sizeof ids);
        float * scores_b = malloc(sizeof(float) * S * 2 * Vv);
        memcpy(scores_b, scores, sizeof(float) * S * 2 * Vv);
        int32_t steps_b = steps;
        o.batch = NULL;
        memset(scores, 0, sizeof(float) * S * 2 * Vv);
        assert_int_equal(vb_generate_greedy(ctx, 2, &o, ids, scores, raw, NULL, &steps), VB_OK);
        assert_int_equal(steps_b, steps);
        assert_memory_equal(ids_b, ids, sizeof ids);
        for (int64_t i = 0; i < (int64_t)steps * 2 * Vv; i++)
            assert_true(fabsf(scores_b[i] - scores[i]) <= 1e-5f * (1 + fabsf(scores[i])));
        free(scores_b);
        vb_t5_batch_free(bt);
        printf("pass %d: eos %d, ids row0", pass, C.eos_id);
        for (int i = 0; i <= S; i++)
            printf(" %d", ids[i]);
        printf(" row1");
        for (int i = 0; i <= S; i++)
            printf(" %d", ids[7 + i]);
        printf(" (%d steps)\n", steps);
        assert_int_equal(steps, ref_steps);
        for (int r = 0; r < 2; r++)
            for (int s = 0; s <= steps; s++)
                assert_int_equal(ids[r * 7 + s], ref_ids[r][s]);
        double * flat = malloc(sizeof(double) * S * 2 * Vv);
        for (int s = 0; s < steps; s++)
            for (int r = 0; r < 2; r++)
                for (int64_t v = 0; v < Vv; v++)
                    flat[(s * 2 + r) * Vv + v] = ref_sc[s][r][v];
        EXPECT_CLOSE("generate processed scores", scores, flat, steps * 2 * Vv);
        for (int s = 0; s < steps; s++)
            for (int r = 0; r < 2; r++)
                for (int64_t v = 0; v < Vv; v++)
                    flat[(s * 2 + r) * Vv + v] = ref_raw[s][r][v];
        EXPECT_CLOSE("generate raw logits", raw, flat, steps * 2 * Vv);
        /* the penalty changed something: the start id's processed score differs from its raw one */
        assert_true(fabsf(scores[C.dec_start_id] - raw[C.dec_start_id]) > 1e-6f);
        /* minimal mode: 2 steps, scores only, same numbers */
        float * sc2 = calloc((size_t)(2 * 2 * Vv), sizeof(float));
        o.max_new_tokens = 2;
        o.run_all_steps = 1;
        int32_t ids2[2 * 3], steps2;
        assert_int_equal(vb_generate_greedy(ctx, 2, &o, ids2, sc2, NULL, NULL, &steps2), VB_OK);
        assert_int_equal(steps2, 2);
        for (int64_t i = 0; i < 2 * 2 * Vv; i++)
            assert_true(fabsf(sc2[i] - scores[i]) <= 1e-5f * (1 + fabsf(scores[i])));
        assert_int_equal(ids2[1], ids[1]);
        assert_int_equal(ids2[3 + 1], ids[7 + 1]);
        int32_t next_eos = ids[2]; /* row 0's step-1 token: becomes EOS in pass 1 */
        free(sc2), free(flat), free(scores), free(raw);
        for (int r = 0; r < 2; r++)
            vb_t5_ctx_free(ctx[r]), free(enc_ref[r]);
        vb_t5_free(m);
        if (pass == 0) {
            C.eos_id = next_eos;
        } else {
            assert_int_equal(ids[2], C.eos_id); /* row 0 ended at step 1 and is padded afterwards */
            assert_int_equal(ids[3], C.pad_id);
        }
    }
    vb_weights_close(w);
    unlink(path);
}

/* The decoder step's threaded paths give the bits of the serial ones: a model large enough for the pool (q|k|v
** 768 x 256: several GEMV chunks per thread; 8 heads over 300 encoder tokens: the cross-attention split by heads)
** decodes 6 KV-cached steps and a 4-row teacher-forced pass, with bf16 weights and f32, on 2 threads with the
** streaming GEMV loop and on 1 thread with the blocked loop (VB_WMAT_GEMV=blocked): logits, hidden states and block
** outputs equal bit for bit. */
static void test_decode_threads_bits(void ** state) {
    (void)state;
    const struct variant V = {
        "mid",
        {300, 256, 32, 512, 1, 2, 8, 32, 128, 1e-6f, VB_ACT_GELU_TANH, 1, 0, 0, 1, 0, VB_DT_F32, VB_DEVICE_CPU},
        "language_model.",
        0};
    char path[512];
    tmp_path(path, sizeof path, 7);
    write_model(&V, path);
    struct vb_weights * w;
    assert_int_equal(vb_weights_open(&w, path), VB_OK);
    const int64_t ne = 300, d = 256, Vv = 300, L = 2, S = 6;
    float *       emb = malloc(sizeof(float) * ne * d);
    for (int64_t i = 0; i < ne * d; i++)
        emb[i] = (float)nrand();
    const int32_t ids[6] = {0, 17, 299, 5, 42, 1};
    const size_t  per = (size_t)(S * Vv + S * d + S * L * d + 4 * Vv);
    float *       out[2] = {malloc(sizeof(float) * per), malloc(sizeof(float) * per)};
    const int32_t dts[2] = {VB_DT_F32, VB_DT_BF16};
    for (int di = 0; di < 2; di++) {
        struct vb_t5_config C = V.cfg;
        C.weight_dtype = dts[di];
        struct vb_t5_model * m;
        assert_int_equal(vb_t5_load(&m, w, V.prefix, &C), VB_OK);
        for (int run = 0; run < 2; run++) {
            vb_blas_set_threads(run ? 1 : 2);
            if (run) setenv("VB_WMAT_GEMV", "blocked", 1);
            struct vb_t5_ctx * c;
            assert_int_equal(vb_t5_ctx_new(&c, m, ne, 8), VB_OK);
            assert_int_equal(vb_t5_encode(c, emb, NULL, ne, NULL), VB_OK);
            float * o = out[run];
            for (int64_t t = 0; t < S; t++)
                assert_int_equal(
                    vb_t5_decode(c, ids + t, 1, o + t * Vv, o + S * Vv + t * d, o + S * (Vv + d) + t * L * d), VB_OK);
            vb_t5_reset_decoder(c);
            assert_int_equal(vb_t5_decode(c, ids, 4, o + S * (Vv + d + L * d), NULL, NULL), VB_OK);
            vb_t5_ctx_free(c);
            unsetenv("VB_WMAT_GEMV");
        }
        assert_memory_equal(out[0], out[1], sizeof(float) * per);
        vb_t5_free(m);
    }
    vb_blas_set_threads(2);
    free(out[0]), free(out[1]), free(emb);
    vb_weights_close(w);
    unlink(path);
}

/* The batched encoder runs the self-attention once per run of consecutive sequences of equal length (engine/t5.c,
** vb_attention_batch with the position bias shared): sequences of lengths 70, 70, 70 (one run of 3: 70 keys, the
** avx512 kernel's transposed weighted sum), 67, 20, 20 (runs of 1 and 2), some padded, give the bits of one
** vb_t5_encode per sequence (enc_out and cross K/V), with heads of width 64 as T5-XL, with each attention kernel
** (avx512 where the CPU has it), f32 and bf16 weights. */
static void test_encode_batch_runs(void ** state) {
    (void)state;
    const struct variant V = {
        "t5-xl heads",
        {50, 128, 64, 256, 2, 1, 4, 32, 128, 1e-6f, VB_ACT_GELU_ERF, 1, 0, 0, 1, 0, VB_DT_F32, VB_DEVICE_CPU},
        "",
        0};
    char path[512];
    tmp_path(path, sizeof path, 8);
    write_model(&V, path);
    struct vb_weights * w;
    assert_int_equal(vb_weights_open(&w, path), VB_OK);
    enum { NS = 6 };
    const int64_t ns[NS] = {70, 70, 70, 67, 20, 20}, d = V.cfg.d_model, maxn = 70;
    int64_t       total = 0;
    for (int s = 0; s < NS; s++)
        total += ns[s];
    float *   emb = malloc(sizeof(float) * (size_t)(total * d));
    uint8_t * mk = malloc((size_t)total);
    for (int64_t i = 0; i < total * d; i++)
        emb[i] = (float)nrand();
    const float *   e[NS];
    const uint8_t * m[NS];
    for (int64_t s = 0, o = 0; s < NS; o += ns[s], s++) {
        e[s] = emb + o * d, m[s] = s == 1 || s == 4 ? mk + o : NULL;
        for (int64_t i = 0; i < ns[s]; i++) /* sequence 1: 3 padded at the end; 4: holes */
            mk[o + i] = s == 1 ? i < ns[s] - 3 : (i == 0 || urand() > 0.3);
    }
    const char *  kerns[2] = {"blas", "avx512"};
    const int32_t dts[2] = {VB_DT_F32, VB_DT_BF16};
    for (int di = 0; di < 2; di++) {
        struct vb_t5_config C = V.cfg;
        C.weight_dtype = dts[di];
        struct vb_t5_model * mo;
        assert_int_equal(vb_t5_load(&mo, w, V.prefix, &C), VB_OK);
        const int64_t ckv = (int64_t)C.n_dec * 2 * mo->inner;
        for (int ki = 0; ki < 2; ki++) {
            setenv("VB_ATTN_KERNEL", kerns[ki], 1);
            struct vb_t5_batch * bt;
            struct vb_t5_ctx *   cs[NS], *c1;
            assert_int_equal(vb_t5_batch_new(&bt, mo, total, 0), VB_OK);
            for (int s = 0; s < NS; s++)
                assert_int_equal(vb_t5_ctx_new(&cs[s], mo, maxn, 2), VB_OK);
            assert_int_equal(vb_t5_ctx_new(&c1, mo, maxn, 2), VB_OK);
            assert_int_equal(vb_t5_encode_batch(bt, cs, NS, e, m, ns), VB_OK);
            for (int s = 0; s < NS; s++) {
                assert_int_equal(vb_t5_encode(c1, e[s], m[s], ns[s], NULL), VB_OK);
                assert_int_equal(cs[s]->n_enc, ns[s]);
                printf("  %s weights, attention %s, sequence %d (%lld tokens): ", di ? "bf16" : "f32", kerns[ki], s,
                       (long long)ns[s]);
                assert_memory_equal(cs[s]->enc_out, c1->enc_out, sizeof(float) * (size_t)(ns[s] * d));
                assert_memory_equal(cs[s]->cross_kv, c1->cross_kv, sizeof(float) * (size_t)(ns[s] * ckv));
                printf("same bits as alone\n");
            }
            for (int s = 0; s < NS; s++)
                vb_t5_ctx_free(cs[s]);
            vb_t5_ctx_free(c1);
            vb_t5_batch_free(bt);
        }
        vb_t5_free(mo);
    }
    unsetenv("VB_ATTN_KERNEL");
    free(emb), free(mk);
    vb_weights_close(w);
    unlink(path);
}

static void test_load_errors(void ** state) {
    (void)state;
    const struct variant * V = &VARIANTS[1];
    char                   path[512];
    tmp_path(path, sizeof path, 20);
    write_model(V, path);
    struct vb_weights * w;
    assert_int_equal(vb_weights_open(&w, path), VB_OK);
    struct vb_t5_model * m = NULL;
    struct vb_t5_config  C = V->cfg;
    C.d_ff += 1; /* shapes disagree with the file */
    assert_int_equal(vb_t5_load(&m, w, V->prefix, &C), VB_ERR_SHAPE);
    assert_null(m);
    printf("  shape error: %s\n", vb_errmsg());
    C = V->cfg;
    C.n_enc += 1; /* a block that is not there */
    assert_int_equal(vb_t5_load(&m, w, V->prefix, &C), VB_ERR_NOTFOUND);
    printf("  missing: %s\n", vb_errmsg());
    C = V->cfg;
    C.tie = 0; /* untied needs lm_head.weight */
    assert_int_equal(vb_t5_load(&m, w, V->prefix, &C), VB_ERR_NOTFOUND);
    assert_int_equal(vb_t5_load(&m, w, "nope.", &V->cfg), VB_ERR_NOTFOUND);
    vb_weights_close(w);
    unlink(path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buckets),     cmocka_unit_test(test_encoder_decoder),
        cmocka_unit_test(test_generate),    cmocka_unit_test(test_decode_threads_bits),
        cmocka_unit_test(test_load_errors), cmocka_unit_test(test_encode_batch_runs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
