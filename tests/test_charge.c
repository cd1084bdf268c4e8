/* test_charge.c — the runner's work sharing and time charging (harness/charge.h, harness/clip.h,
** harness/vitfeat.h): cold decode / preprocess charges of a cell out of the sample's decoded union, the stage
** arithmetic, the memo that lets the cells with other k reuse a selection, and ViT features shared through the
** cache with every slot charged its frame's recorded cost (repeats and other cells included), vision groups apart.
** Known answers computed by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/common.h"
#include "base/rng.h"
#include "engine/config.h"
#include "engine/vit.h"
#include "engine/weights.h"
#include "harness/charge.h"
#include "harness/clip.h"
#include "harness/vitcache.h"
#include "harness/vitfeat.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void test_clip_charge(void ** st) {
    (void)st;
    /* the union of the sample's frames, decoded in ascending order */
    const struct vb_charge_frame fr[4] = {{2, 100, 10}, {5, 200, 11}, {9, 300, 12}, {11, 400, 13}};
    const int64_t                cell_a[4] = {2, 5, 9, 11}, cell_b[4] = {5, 5, 9, 9}, cell_c[2] = {9, 3};
    int64_t                      dec = -1, pre = -1;
    assert_int_equal(vb_charge_clip(fr, 4, cell_a, 4, 1000, &dec, &pre), 0);
    assert_int_equal(dec, 1000 + 100 + 200 + 300 + 400); /* open + every distinct frame */
    assert_int_equal(pre, 10 + 11 + 12 + 13);
    assert_int_equal(vb_charge_clip(fr, 4, cell_b, 4, 1000, &dec, &pre), 0);
    assert_int_equal(dec, 1000 + 200 + 300);  /* a repeated frame is decoded once ... */
    assert_int_equal(pre, 11 + 11 + 12 + 12); /* ... but preprocessed per slot */
    dec = pre = -7;
    assert_int_equal(vb_charge_clip(fr, 4, cell_c, 2, 1000, &dec, &pre), -1); /* frame 3 was not decoded */
    assert_int_equal(dec, -7);
    assert_int_equal(pre, -7);
}

static void test_stages(void ** st) {
    (void)st;
    struct vb_charge_in in = {.decode_us = 1,
                              .preprocess_us = 2,
                              .vit_us = 3,
                              .select_us = 4,
                              .qformer_us = 5,
                              .t5_enc_us = 6,
                              .t5_dec_us = 7,
                              .total_us = 40,
                              .vit_shared_us = 100,
                              .select_shared_us = 1000};
    int64_t             t[VB_STAGE_COUNT];
    vb_charge_stages(&in, t);
    const int64_t want[VB_STAGE_COUNT] = {1, 2, 103, 1004, 5, 6, 7, 1140};
    for (int i = 0; i < VB_STAGE_COUNT; i++)
        assert_int_equal(t[i], want[i]);
    int64_t sum = 0;
    for (int i = 0; i < VB_STAGE_TOTAL; i++)
        sum += t[i];
    assert_true(sum <= t[VB_STAGE_TOTAL]); /* 1128 <= 1140: the total keeps covering the stages */
}

static void test_select_memo(void ** st) {
    (void)st;
    struct vb_select_memo m;
    memset(&m, 0, sizeof m);
    static int  method_a, method_b, bundle_1, bundle_2; /* identities only */
    const float s[4] = {0.5f, -1.0f, 2.0f, 0.0f}, s2[4] = {9, 9, 9, 9};
    assert_null(vb_select_memo_find(&m, &method_a, &bundle_1, 4));
    vb_select_memo_add(&m, &method_a, &bundle_1, 4, s, 1234);
    const struct vb_select_memo_entry * e = vb_select_memo_find(&m, &method_a, &bundle_1, 4);
    assert_non_null(e);
    assert_int_equal(e->cost_us, 1234);
    assert_memory_equal(e->scores, s, sizeof s);
    /* another k of the same question finds it; another method, bundle or T does not */
    assert_null(vb_select_memo_find(&m, &method_b, &bundle_1, 4));
    assert_null(vb_select_memo_find(&m, &method_a, &bundle_2, 4));
    assert_null(vb_select_memo_find(&m, &method_a, &bundle_1, 8));
    /* the first result stays (a later k's measurement does not replace it) */
    vb_select_memo_add(&m, &method_a, &bundle_1, 4, s2, 1);
    assert_int_equal(vb_select_memo_find(&m, &method_a, &bundle_1, 4)->cost_us, 1234);
    assert_int_equal(m.n, 1);
    vb_select_memo_clear(&m); /* next question */
    assert_null(vb_select_memo_find(&m, &method_a, &bundle_1, 4));
    assert_int_equal(m.n, 0);
}

static void put(struct vb_vitcache * c, int32_t group, int64_t frame, float v, int64_t cost) {
    float                  f[3] = {v, v + 0.5f, v + 0.25f};
    struct vb_vitcache_key k = {group, 77, frame};
    assert_int_equal(vb_vitcache_put(c, &k, f, 3, cost), 1);
}

/* Features of two cells of one video taken from the cache (as the runner fills it): every slot gets its frame and is
** charged its recorded cost, repeats included; another vision group shares nothing. */
static void test_vit_sharing(void ** st) {
    (void)st;
    struct vb_vitcache * c = vb_vitcache_new(1 << 20);
    put(c, 0, 4, 1.0f, 10);
    put(c, 0, 8, 2.0f, 20);
    put(c, 0, 12, 3.0f, 30);
    const int64_t            cell_k2[2] = {4, 12}, cell_rep[3] = {8, 8, 12};
    float                    out[3 * 3];
    struct vb_vitfeat_engine e = {.batch = 8, .px_floats = 12};
    struct vb_vitfeat_clip   clip = {.group = 0, .video = 77, .frames = cell_k2, .n = 2, .n_floats = 3};
    struct vb_vitfeat_stats  s;
    assert_int_equal(vb_vitfeat_get(c, &e, &clip, NULL, out, &s), VB_OK);
    assert_int_equal(s.n_cached, 2);
    assert_int_equal(s.n_computed, 0);
    assert_int_equal(s.cost_us, 10 + 30);
    const float want_k2[6] = {1.0f, 1.5f, 1.25f, 3.0f, 3.5f, 3.25f};
    assert_memory_equal(out, want_k2, sizeof want_k2);
    clip.frames = cell_rep, clip.n = 3;
    assert_int_equal(vb_vitfeat_get(c, &e, &clip, NULL, out, &s), VB_OK);
    assert_int_equal(s.n_cached, 3);
    assert_int_equal(s.cost_us, 20 + 20 + 30); /* the repeated frame is charged per slot */
    assert_true(out[0] == 2.0f && out[3] == 2.0f && out[6] == 3.0f);
    /* another vision group, or another video: nothing cached, and no pixels to compute from */
    clip.group = 1;
    assert_int_equal(vb_vitfeat_get(c, &e, &clip, NULL, out, &s), VB_ERR_ARG);
    assert_non_null(strstr(vb_errmsg(), "2 frame(s) neither in the cache nor given as pixels")); /* 8 once, 12 */
    clip.group = 0, clip.video = 78;
    assert_int_equal(vb_vitfeat_get(c, &e, &clip, NULL, out, &s), VB_ERR_ARG);
    struct vb_vitcache_stats cs;
    vb_vitcache_stats(c, &cs);
    assert_int_equal(cs.n_hits, 5);
    vb_vitcache_free(c);
}

/* A cell's pixels from the decoded union: slot order, repeats, the cold charges, a failed frame's message. */
static void test_clip_pixels(void ** st) {
    (void)st;
    int64_t v[6] = {9, 2, 9, 5, 2, 11};
    assert_int_equal(vb_clip_unique(v, 6), 4);
    const int64_t want_u[4] = {2, 5, 9, 11};
    assert_memory_equal(v, want_u, sizeof want_u);
    struct vb_clip c;
    memset(&c, 0, sizeof c);
    c.H = 1; /* 3 floats per frame */
    c.n = 3;
    c.t_open_us = 50;
    struct vb_charge_frame fr[3] = {{2, 100, 1}, {5, 200, 2}, {9, 300, 3}};
    int32_t                ok[3] = {1, 1, 0};
    char                   err[3][256] = {"", "", "frame 9: damaged packet"};
    float                  px[9] = {2, 2.1f, 2.2f, 5, 5.1f, 5.2f, 0, 0, 0};
    c.fr = fr, c.ok = ok, c.err = err, c.px = px;
    const int64_t slots[3] = {5, 2, 5};
    float         out[9];
    int64_t       dec = 0, pre = 0;
    char          why[128];
    assert_int_equal(vb_clip_pixels(&c, slots, 3, out, &dec, &pre, why, sizeof why), VB_OK);
    const float want[9] = {5, 5.1f, 5.2f, 2, 2.1f, 2.2f, 5, 5.1f, 5.2f};
    assert_memory_equal(out, want, sizeof want);
    assert_int_equal(dec, 50 + 200 + 100);
    assert_int_equal(pre, 2 + 1 + 2);
    const int64_t bad[2] = {2, 9};
    assert_int_equal(vb_clip_pixels(&c, bad, 2, out, &dec, &pre, why, sizeof why), VB_ERR_VIDEO);
    assert_string_equal(why, "frame 9: damaged packet");
}

/* ---- the compute path on a small random ViT (hidden 24, 3 layers, 15x15 pixels: 10 tokens) */

static struct vb_vision_config small_vit(void) {
    struct vb_model_config mc;
    vb_config_defaults(&mc, VB_ARCH_BLIP2);
    struct vb_vision_config c = mc.vision;
    c.hidden = 24, c.heads = 3, c.layers = 3, c.intermediate = 40, c.image_size = 15, c.patch = 5;
    c.n_patches = 9, c.n_tokens = 10;
    return c;
}

static void put_random(struct vb_st_writer * sw, struct vb_rng * g, const char * name, int32_t nd, const int64_t * sh,
                       double mean, double sd) {
    int64_t n = 1;
    for (int32_t i = 0; i < nd; i++)
        n *= sh[i];
    float * v = vb_malloc(sizeof(float) * (size_t)n);
    for (int64_t i = 0; i < n; i++)
        v[i] = (float)(mean + sd * (2.0 * (double)(vb_rng_next(g) >> 11) / 9007199254740992.0 - 1.0));
    vb_st_writer_add(sw, name, VB_DT_F32, nd, sh, v);
    free(v);
}

/* Random HF vision_model.* weights of c into path. */
static void write_small_vit(const struct vb_vision_config * c, const char * path) {
    const int64_t         D = c->hidden, I = c->intermediate, T = c->n_tokens, p = c->patch;
    struct vb_st_writer * sw = vb_st_writer_new();
    struct vb_rng         g;
    vb_rng_seed(&g, 11);
    int64_t s3[3] = {1, 1, D}, s3p[3] = {1, T, D}, s4[4] = {D, 3, p, p}, d1[1] = {D}, i1[1] = {I}, q1[1] = {3 * D};
    int64_t qkv[2] = {3 * D, D}, dd[2] = {D, D}, fc1[2] = {I, D}, fc2[2] = {D, I};
    put_random(sw, &g, "v.embeddings.class_embedding", 3, s3, 0, 0.5);
    put_random(sw, &g, "v.embeddings.position_embedding", 3, s3p, 0, 0.5);
    put_random(sw, &g, "v.embeddings.patch_embedding.weight", 4, s4, 0, 0.2);
    put_random(sw, &g, "v.embeddings.patch_embedding.bias", 1, d1, 0, 0.1);
    const struct {
        const char *    name;
        int32_t         nd;
        const int64_t * shape;
        double          mean, sd;
    } L[] = {{"layer_norm1.weight", 1, d1, 1, 0.1},
             {"layer_norm1.bias", 1, d1, 0, 0.1},
             {"self_attn.qkv.weight", 2, qkv, 0, 0.2},
             {"self_attn.qkv.bias", 1, q1, 0, 0.1},
             {"self_attn.projection.weight", 2, dd, 0, 0.2},
             {"self_attn.projection.bias", 1, d1, 0, 0.1},
             {"layer_norm2.weight", 1, d1, 1, 0.1},
             {"layer_norm2.bias", 1, d1, 0, 0.1},
             {"mlp.fc1.weight", 2, fc1, 0, 0.2},
             {"mlp.fc1.bias", 1, i1, 0, 0.1},
             {"mlp.fc2.weight", 2, fc2, 0, 0.15},
             {"mlp.fc2.bias", 1, d1, 0, 0.1}};
    char n[256];
    for (int l = 0; l < c->layers; l++)
        for (size_t j = 0; j < sizeof L / sizeof L[0]; j++) {
            snprintf(n, sizeof n, "v.encoder.layers.%d.%s", l, L[j].name);
            put_random(sw, &g, n, L[j].nd, L[j].shape, L[j].mean, L[j].sd);
        }
    put_random(sw, &g, "v.post_layernorm.weight", 1, d1, 1, 0.1);
    put_random(sw, &g, "v.post_layernorm.bias", 1, d1, 0, 0.1);
    assert_int_equal(vb_st_writer_write(sw, path), VB_OK);
    vb_st_writer_free(sw);
}

/* The recorded cost of one cached frame. */
static int64_t cost_of(struct vb_vitcache * c, int32_t group, int64_t frame, int64_t n_floats, float * scratch) {
    struct vb_vitcache_key k = {group, 5, frame};
    int64_t                cost = -1;
    assert_int_equal(vb_vitcache_get(c, &k, scratch, n_floats, &cost), 1);
    return cost;
}

static void test_vit_compute(void ** st) {
    (void)st;
    struct vb_vision_config cfg = small_vit();
    char                    path[512];
    const char *            tmp = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/vb_test_charge_%d.safetensors", tmp ? tmp : "/tmp", (int)getpid());
    write_small_vit(&cfg, path);
    struct vb_weights * w = NULL;
    struct vb_vit *     vit = NULL;
    assert_int_equal(vb_weights_open(&w, path), VB_OK);
    if (vb_vit_load(&vit, w, &cfg, "v.") != VB_OK) fail_msg("%s", vb_errmsg());
    const int64_t px = 3LL * 15 * 15, nf = 10LL * 24;
    /* frame f's pixels: a fixed pattern of f, so a frame shown twice has the same pixels */
    float ref[16][10 * 24], frame_px[16][3 * 15 * 15];
    for (int f = 0; f < 16; f++)
        for (int64_t i = 0; i < px; i++)
            frame_px[f][i] = (float)sin(0.37 * (double)(f + 1) * (double)(i + 1));
    struct vb_vit_ctx * ctx = NULL;
    assert_int_equal(vb_vit_ctx_new(&ctx, vit, 2), VB_OK);
    for (int f = 0; f < 16; f++) /* every frame alone: the reference */
        assert_int_equal(vb_vit_run(ctx, frame_px[f], 1, NULL, NULL, ref[f], NULL), VB_OK);

    struct vb_vitcache *     c = vb_vitcache_new(1 << 20);
    float                    work[2 * 3 * 15 * 15], feat[2 * 10 * 24], out[4 * 10 * 24], pixels[4 * 3 * 15 * 15];
    struct vb_vitfeat_engine e = {.ctx = ctx, .batch = 2, .px_floats = px, .work = work, .feat = feat};
    /* cell A: frames 3, 7, 7, 9 (7 twice): three distinct frames in batches of 2 + 1 */
    const int64_t a[4] = {3, 7, 7, 9}, b[3] = {7, 9, 11};
    for (int j = 0; j < 4; j++)
        memcpy(pixels + j * px, frame_px[a[j]], sizeof(float) * (size_t)px);
    struct vb_vitfeat_clip  clip = {.group = 0, .video = 5, .frames = a, .n = 4, .n_floats = nf};
    struct vb_vitfeat_stats s;
    assert_int_equal(vb_vitfeat_get(c, &e, &clip, pixels, out, &s), VB_OK);
    assert_int_equal(s.n_computed, 3);
    assert_int_equal(s.n_cached, 0);
    for (int j = 0; j < 4; j++)
        assert_memory_equal(out + j * nf, ref[a[j]], sizeof(float) * (size_t)nf); /* batched == alone, bit for bit */
    float   scratch[10 * 24];
    int64_t c3 = cost_of(c, 0, 3, nf, scratch), c7 = cost_of(c, 0, 7, nf, scratch), c9 = cost_of(c, 0, 9, nf, scratch);
    assert_true(c3 >= 0 && c7 >= 0 && c9 >= 0);
    assert_int_equal(c3, c7); /* one batch, one per-frame cost */
    assert_int_equal(s.cost_us, c3 + 2 * c7 + c9);
    assert_true(s.t_compute_us >= 0);
    /* cell B shares 7 and 9: only 11 is computed, every slot charged */
    for (int j = 0; j < 3; j++)
        memcpy(pixels + j * px, frame_px[b[j]], sizeof(float) * (size_t)px);
    clip.frames = b, clip.n = 3;
    assert_int_equal(vb_vitfeat_get(c, &e, &clip, pixels, out, &s), VB_OK);
    assert_int_equal(s.n_computed, 1);
    assert_int_equal(s.n_cached, 2);
    for (int j = 0; j < 3; j++)
        assert_memory_equal(out + j * nf, ref[b[j]], sizeof(float) * (size_t)nf);
    assert_int_equal(s.cost_us, c7 + c9 + cost_of(c, 0, 11, nf, scratch));
    /* another vision group shares nothing */
    clip.group = 1;
    assert_int_equal(vb_vitfeat_get(c, &e, &clip, pixels, out, &s), VB_OK);
    assert_int_equal(s.n_computed, 3);
    vb_vitcache_free(c);
    vb_vit_ctx_free(ctx);
    vb_vit_free(vit);
    vb_weights_close(w);
    unlink(path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clip_charge), cmocka_unit_test(test_stages),      cmocka_unit_test(test_select_memo),
        cmocka_unit_test(test_vit_sharing), cmocka_unit_test(test_clip_pixels), cmocka_unit_test(test_vit_compute),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
