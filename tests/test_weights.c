/* test_weights.c — engine/weights fault injection: crafted safetensors files (header length past EOF, offsets past
** the end, overlapping offsets, begin > end, unknown dtype, byte count not matching the shape, duplicate names,
** missing tensor, a ViT whose fc1 has the wrong shape for the config, a sharded index with a missing shard or a
** tensor missing from its shard, ranges that do not tile the data section exactly, an index that disagrees with the
** shards' headers) and the F16 / BF16 conversions.  Every case asserts the status AND the message
** (file and tensor named). */
#include <setjmp.h> /* cmocka.h needs these four first */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/helpers.h"

#include "base/common.h"
#include "engine/config.h"
#include "engine/vit.h"
#include "engine/weights.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[512];

static void path_of(char * buf, size_t len, const char * name) {
    snprintf(buf, len, "%s/%s", tmpdir, name);
}

static int setup(void ** state) {
    (void)state;
    return scratch_dir_make(tmpdir, sizeof tmpdir, "weights");
}

static int teardown(void ** state) {
    (void)state;
    scratch_dir_remove(tmpdir);
    return 0;
}

/* Write a raw file: 8-byte little-endian header length hlen (as given, may lie), the header text, then n_data bytes
** of data. */
static void write_raw(const char * path, uint64_t hlen, const char * header, size_t n_data) {
    FILE * f = fopen(path, "wb");
    assert_non_null(f);
    uint8_t le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (uint8_t)(hlen >> (8 * i));
    fwrite(le, 1, 8, f);
    fwrite(header, 1, strlen(header), f);
    for (size_t i = 0; i < n_data; i++)
        fputc((int)(i & 0xff), f);
    fclose(f);
}

/* Open a file with the given header (true length) and data size; expect status st and a message holding each of
** the NULL-terminated strings. */
static void expect_open(const char * header, size_t n_data, int st, ...) {
    char p[600];
    path_of(p, sizeof p, "raw.safetensors");
    write_raw(p, strlen(header), header, n_data);
    struct vb_weights * w = NULL;
    int                 rc = vb_weights_open(&w, p);
    if (rc != st) fail_msg("header %s: status %d (%s), expected %d", header, rc, vb_errmsg(), st);
    assert_null(w);
    assert_non_null(strstr(vb_errmsg(), p)); /* the file is named */
    va_list ap;
    va_start(ap, st);
    const char * s;
    while ((s = va_arg(ap, const char *)) != NULL)
        if (!strstr(vb_errmsg(), s)) fail_msg("message '%s' lacks '%s'", vb_errmsg(), s);
    va_end(ap);
}

static void test_header_faults(void ** state) {
    (void)state;
    char p[600];
    path_of(p, sizeof p, "raw.safetensors");
    /* header length past the end of the file */
    write_raw(p, 1000, "{}", 16);
    struct vb_weights * w = NULL;
    assert_int_equal(vb_weights_open(&w, p), VB_ERR_FORMAT);
    assert_non_null(strstr(vb_errmsg(), "header length 1000 past end of file"));
    assert_non_null(strstr(vb_errmsg(), p));
    /* a huge length that would overflow 8 + hlen */
    write_raw(p, UINT64_MAX - 3, "{}", 16);
    assert_int_equal(vb_weights_open(&w, p), VB_ERR_FORMAT);
    assert_non_null(strstr(vb_errmsg(), "past end of file"));
    /* shorter than the 8-byte length */
    FILE * f = fopen(p, "wb");
    fputs("abc", f);
    fclose(f);
    assert_int_equal(vb_weights_open(&w, p), VB_ERR_FORMAT);
    assert_non_null(strstr(vb_errmsg(), "too small"));
    /* not JSON */
    expect_open("{\"a\": [", 0, VB_ERR_FORMAT, "not a JSON object", NULL);
    /* a missing file is an I/O error naming it */
    path_of(p, sizeof p, "does-not-exist.safetensors");
    assert_int_equal(vb_weights_open(&w, p), VB_ERR_IO);
    assert_non_null(strstr(vb_errmsg(), "does-not-exist.safetensors"));
}

static void test_tensor_entry_faults(void ** state) {
    (void)state;
    /* offsets past the end of the data */
    expect_open("{\"a.weight\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, VB_ERR_FORMAT,
                "'a.weight'", "past end of data", NULL);
    /* overlapping tensors */
    expect_open("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                12, VB_ERR_FORMAT, "overlap", "'a'", "'b'", NULL);
    /* begin after end */
    expect_open("{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,4]}}", 8, VB_ERR_FORMAT, "'a'",
                "begin 8 > end 4", NULL);
    /* unknown dtype */
    expect_open("{\"q\":{\"dtype\":\"Q4_K\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2, VB_ERR_UNSUPPORTED, "'q'",
                "unknown dtype 'Q4_K'", NULL);
    /* byte count does not match dtype x shape */
    expect_open("{\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, VB_ERR_FORMAT, "'x'",
                "8 bytes stored", "needs 12", NULL);
    expect_open("{\"x\":{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", 16, VB_ERR_FORMAT, "'x'",
                "16 bytes stored", "needs 8", NULL);
    /* malformed entries */
    expect_open("{\"x\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, VB_ERR_FORMAT, "'x'",
                "invalid shape", NULL);
    expect_open("{\"x\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, VB_ERR_FORMAT, "'x'", "data_offsets", NULL);
    expect_open("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                "\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                8, VB_ERR_FORMAT, "'x'", "twice", NULL);
    /* a well-formed file opens, and a missing tensor / wrong dtype / wrong shape are named */
    char p[600];
    path_of(p, sizeof p, "raw.safetensors");
    const char * ok =
        "{\"__metadata__\":{\"format\":\"pt\"},\"f\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,"
        "24]},\"i\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[24,32]}}";
    write_raw(p, strlen(ok), ok, 32);
    struct vb_weights * w = NULL;
    assert_int_equal(vb_weights_open(&w, p), VB_OK);
    assert_int_equal(vb_weights_count(w), 2);
    float * out = NULL;
    assert_int_equal(vb_weights_load_f32(w, "g", 0, NULL, &out), VB_ERR_NOTFOUND);
    assert_non_null(strstr(vb_errmsg(), "'g'"));
    assert_non_null(strstr(vb_errmsg(), p));
    assert_int_equal(vb_weights_load_f32(w, "i", 0, NULL, &out), VB_ERR_UNSUPPORTED);
    assert_non_null(strstr(vb_errmsg(), "'i'"));
    int64_t want[2] = {3, 2};
    assert_int_equal(vb_weights_load_f32(w, "f", 2, want, &out), VB_ERR_SHAPE);
    assert_non_null(strstr(vb_errmsg(), "'f'"));
    assert_non_null(strstr(vb_errmsg(), "[2, 3]"));
    assert_non_null(strstr(vb_errmsg(), "[3, 2]"));
    assert_null(out);
    int64_t any[2] = {2, -1};
    assert_int_equal(vb_weights_load_f32(w, "f", 2, any, &out), VB_OK);
    free(out);
    vb_weights_close(w);
}

/* A small ViT written with every tensor, layer `bad_layer`'s fc1 with one extra output row. */
static void write_vit(const char * path, const struct vb_vision_config * c, int bad_layer) {
    struct vb_st_writer * sw = vb_st_writer_new();
    const int64_t         D = c->hidden, I = c->intermediate, T = c->n_tokens, p = c->patch;
    float *               zeros = calloc((size_t)(4 * D * (I + 1) + 3 * D * p * p + T * D), sizeof(float));
    char                  n[256];
    int64_t               s[4];
    s[0] = 1, s[1] = 1, s[2] = D;
    vb_st_writer_add(sw, "vision_model.embeddings.class_embedding", VB_DT_F32, 3, s, zeros);
    s[1] = T;
    vb_st_writer_add(sw, "vision_model.embeddings.position_embedding", VB_DT_F32, 3, s, zeros);
    s[0] = D, s[1] = 3, s[2] = p, s[3] = p;
    vb_st_writer_add(sw, "vision_model.embeddings.patch_embedding.weight", VB_DT_F32, 4, s, zeros);
    vb_st_writer_add(sw, "vision_model.embeddings.patch_embedding.bias", VB_DT_F32, 1, s, zeros);
    for (int l = 0; l < c->layers; l++) {
        struct {
            const char * what;
            int32_t      nd;
            int64_t      a, b;
        } t[] = {{"layer_norm1.weight", 1, D, 0},
                 {"layer_norm1.bias", 1, D, 0},
                 {"self_attn.qkv.weight", 2, 3 * D, D},
                 {"self_attn.qkv.bias", 1, 3 * D, 0},
                 {"self_attn.projection.weight", 2, D, D},
                 {"self_attn.projection.bias", 1, D, 0},
                 {"layer_norm2.weight", 1, D, 0},
                 {"layer_norm2.bias", 1, D, 0},
                 {"mlp.fc1.weight", 2, I + (l == bad_layer), D},
                 {"mlp.fc1.bias", 1, I, 0},
                 {"mlp.fc2.weight", 2, D, I},
                 {"mlp.fc2.bias", 1, D, 0}};
        for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
            snprintf(n, sizeof n, "vision_model.encoder.layers.%d.%s", l, t[i].what);
            int64_t sh[2] = {t[i].a, t[i].b};
            vb_st_writer_add(sw, n, VB_DT_F32, t[i].nd, sh, zeros);
        }
    }
    s[0] = D;
    vb_st_writer_add(sw, "vision_model.post_layernorm.weight", VB_DT_F32, 1, s, zeros);
    vb_st_writer_add(sw, "vision_model.post_layernorm.bias", VB_DT_F32, 1, s, zeros);
    assert_int_equal(vb_st_writer_write(sw, path), VB_OK);
    vb_st_writer_free(sw);
    free(zeros);
}

static void test_vit_wrong_shape(void ** state) {
    (void)state;
    struct vb_model_config mc;
    vb_config_defaults(&mc, VB_ARCH_BLIP2);
    struct vb_vision_config c = mc.vision;
    c.hidden = 12, c.heads = 2, c.layers = 2, c.intermediate = 20, c.image_size = 6, c.patch = 3;
    c.n_patches = 4, c.n_tokens = 5;
    char p[600];
    path_of(p, sizeof p, "vit.safetensors");
    write_vit(p, &c, -1);
    struct vb_weights * w = NULL;
    assert_int_equal(vb_weights_open(&w, p), VB_OK);
    struct vb_vit * vit = NULL;
    assert_int_equal(vb_vit_load(&vit, w, &c, "vision_model."), VB_OK);
    vb_vit_free(vit);
    vb_weights_close(w);
    write_vit(p, &c, 1);
    assert_int_equal(vb_weights_open(&w, p), VB_OK);
    assert_int_equal(vb_vit_load(&vit, w, &c, "vision_model."), VB_ERR_SHAPE);
    assert_null(vit);
    assert_non_null(strstr(vb_errmsg(), p));
    assert_non_null(strstr(vb_errmsg(), "'vision_model.encoder.layers.1.mlp.fc1.weight'"));
    assert_non_null(strstr(vb_errmsg(), "[21, 12]"));
    assert_non_null(strstr(vb_errmsg(), "[20, 12]"));
    vb_weights_close(w);
}

static void test_sharded(void ** state) {
    (void)state;
    char p1[600], idx[600];
    path_of(p1, sizeof p1, "shard-1.safetensors");
    struct vb_st_writer * sw = vb_st_writer_new();
    float                 v[3] = {1, 2, 3};
    int64_t               s = 3;
    vb_st_writer_add(sw, "a", VB_DT_F32, 1, &s, v);
    assert_int_equal(vb_st_writer_write(sw, p1), VB_OK);
    vb_st_writer_free(sw);
    /* index whose second shard does not exist */
    path_of(idx, sizeof idx, "index.json");
    FILE * f = fopen(idx, "w");
    fputs("{\"metadata\":{},\"weight_map\":{\"a\":\"shard-1.safetensors\",\"b\":\"shard-2.safetensors\"}}", f);
    fclose(f);
    struct vb_weights * w = NULL;
    assert_int_equal(vb_weights_open(&w, idx), VB_ERR_IO);
    assert_null(w);
    assert_non_null(strstr(vb_errmsg(), "shard-2.safetensors"));
    /* index listing a tensor its shard does not hold */
    path_of(idx, sizeof idx, "index2.json");
    f = fopen(idx, "w");
    fputs("{\"weight_map\":{\"a\":\"shard-1.safetensors\",\"zz\":\"shard-1.safetensors\"}}", f);
    fclose(f);
    assert_int_equal(vb_weights_open(&w, idx), VB_ERR_NOTFOUND);
    assert_non_null(strstr(vb_errmsg(), "'zz'"));
    assert_non_null(strstr(vb_errmsg(), "shard-1.safetensors"));
    /* a shard name escaping the directory */
    path_of(idx, sizeof idx, "index3.json");
    f = fopen(idx, "w");
    fputs("{\"weight_map\":{\"a\":\"../shard-1.safetensors\"}}", f);
    fclose(f);
    assert_int_equal(vb_weights_open(&w, idx), VB_ERR_FORMAT);
    assert_non_null(strstr(vb_errmsg(), "bad shard name"));
    /* a good index opens and finds the tensor */
    path_of(idx, sizeof idx, "index.json");
    f = fopen(idx, "w");
    fputs("{\"weight_map\":{\"a\":\"shard-1.safetensors\"}}", f);
    fclose(f);
    assert_int_equal(vb_weights_open(&w, idx), VB_OK);
    float * out = NULL;
    assert_int_equal(vb_weights_load_f32(w, "a", 1, &s, &out), VB_OK);
    assert_memory_equal(out, v, sizeof v);
    free(out);
    vb_weights_close(w);
}

/* The ranges must tile the data section exactly: overlaps (also across an empty tensor sitting between the two), an
** empty tensor inside another's range, gaps, data before the first tensor and trailing bytes are all errors. */
static void test_tiling(void ** state) {
    (void)state;
    /* a [0,8) and b [4,12) overlap with the empty tensor e at 4 sorted between them */
    expect_open("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                "\"e\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]},"
                "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                12, VB_ERR_FORMAT, "overlap tensor 'a'", NULL);
    /* the same with the empty tensor at 8, between a [0,8) and b [6,14) after sorting by begin */
    expect_open("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                "\"e\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,8]},"
                "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[6,14]}}",
                14, VB_ERR_FORMAT, "'b'", "overlap tensor 'a'", NULL);
    /* an empty tensor inside another tensor's range */
    expect_open("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                "\"e\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]}}",
                8, VB_ERR_FORMAT, "'e'", "overlap tensor 'a'", NULL);
    /* a gap between two tensors */
    expect_open("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}",
                12, VB_ERR_FORMAT, "'b'", "gap of 4 bytes after tensor 'a'", NULL);
    /* data before the first tensor */
    expect_open("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, VB_ERR_FORMAT, "'a'",
                "gap of 4 bytes after the start of the data", NULL);
    /* trailing bytes after the last tensor, and data with no tensor at all */
    expect_open("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 6, VB_ERR_FORMAT,
                "2 bytes of data after the last tensor 'a'", NULL);
    expect_open("{\"__metadata__\":{}}", 4, VB_ERR_FORMAT, "4 bytes of data", NULL);
    /* a tiling with empty tensors first, between and last opens, in any header order */
    char p[600];
    path_of(p, sizeof p, "raw.safetensors");
    const char * ok = "{\"z\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[12,12]},"
                      "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]},"
                      "\"e\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[4,4]},"
                      "\"s\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},"
                      "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
    write_raw(p, strlen(ok), ok, 12);
    struct vb_weights * w = NULL;
    assert_int_equal(vb_weights_open(&w, p), VB_OK);
    assert_int_equal(vb_weights_count(w), 5);
    vb_weights_close(w);
}

/* Write index file NAME under tmpdir with the given weight_map body; return vb_weights_open's status (w closed). */
static int open_index_with(const char * name, const char * weight_map) {
    char idx[600];
    path_of(idx, sizeof idx, name);
    FILE * f = fopen(idx, "w");
    assert_non_null(f);
    fprintf(f, "{\"metadata\":{},\"weight_map\":%s}", weight_map);
    fclose(f);
    struct vb_weights * w = NULL;
    int                 rc = vb_weights_open(&w, idx);
    if (rc == VB_OK) vb_weights_close(w);
    return rc;
}

/* The index must match the shards' headers both ways: a tensor under the wrong shard, a shard tensor the index
** omits and an entry listed twice are errors naming the index, the shard(s) and the tensor. */
static void test_index_mismatch(void ** state) {
    (void)state;
    char    p1[600], p2[600];
    float   v[2] = {1, 2};
    int64_t s = 2;
    path_of(p1, sizeof p1, "m-1.safetensors");
    path_of(p2, sizeof p2, "m-2.safetensors");
    struct vb_st_writer * sw = vb_st_writer_new();
    vb_st_writer_add(sw, "a", VB_DT_F32, 1, &s, v);
    vb_st_writer_add(sw, "b", VB_DT_F32, 1, &s, v);
    assert_int_equal(vb_st_writer_write(sw, p1), VB_OK);
    vb_st_writer_free(sw);
    sw = vb_st_writer_new();
    vb_st_writer_add(sw, "c", VB_DT_F32, 1, &s, v);
    assert_int_equal(vb_st_writer_write(sw, p2), VB_OK);
    vb_st_writer_free(sw);
    /* the correct index opens */
    assert_int_equal(open_index_with("good.json", "{\"a\":\"m-1.safetensors\",\"b\":\"m-1.safetensors\","
                                                  "\"c\":\"m-2.safetensors\"}"),
                     VB_OK);
    /* b listed under m-2 though m-1 holds it */
    assert_int_equal(open_index_with("wrong.json", "{\"a\":\"m-1.safetensors\",\"b\":\"m-2.safetensors\","
                                                   "\"c\":\"m-2.safetensors\"}"),
                     VB_ERR_FORMAT);
    assert_non_null(strstr(vb_errmsg(), "wrong.json"));
    assert_non_null(strstr(vb_errmsg(), "'b'"));
    assert_non_null(strstr(vb_errmsg(), "listed under shard"));
    assert_non_null(strstr(vb_errmsg(), "m-2.safetensors but stored in shard"));
    assert_non_null(strstr(vb_errmsg(), p1));
    /* b omitted from the index (its shard is opened for a) */
    assert_int_equal(open_index_with("omit.json", "{\"a\":\"m-1.safetensors\",\"c\":\"m-2.safetensors\"}"),
                     VB_ERR_FORMAT);
    assert_non_null(strstr(vb_errmsg(), "omit.json"));
    assert_non_null(strstr(vb_errmsg(), "'b'"));
    assert_non_null(strstr(vb_errmsg(), p1));
    assert_non_null(strstr(vb_errmsg(), "not listed in the index"));
    /* a listed twice (cJSON keeps duplicate keys), b then unlisted */
    assert_int_equal(open_index_with("twice.json", "{\"a\":\"m-1.safetensors\",\"a\":\"m-1.safetensors\","
                                                   "\"c\":\"m-2.safetensors\"}"),
                     VB_ERR_FORMAT);
    assert_non_null(strstr(vb_errmsg(), "twice.json"));
    assert_non_null(strstr(vb_errmsg(), "'a' is listed twice"));
}

static void test_half_conversions(void ** state) {
    (void)state;
    /* bit patterns with known values */
    const uint16_t bf[] = {0x3F80, 0xC000, 0x7F80, 0xFF80, 0x0001, 0x8000, 0x4049, 0x3E20};
    const float    bf_v[] = {1.0f, -2.0f, INFINITY, -INFINITY, 9.18354961579912e-41f, -0.0f, 3.140625f, 0.15625f};
    const uint16_t hf[] = {0x3C00, 0xC000, 0x7BFF, 0x0001, 0x0400, 0x7C00, 0x8000, 0x3555};
    const float    hf_v[] = {1.0f,     -2.0f, 65504.0f,       5.960464477539063e-8f, 6.103515625e-5f,
                             INFINITY, -0.0f, 0.333251953125f};
    const size_t   n = sizeof bf / sizeof bf[0];
    for (size_t i = 0; i < n; i++) {
        assert_true(vb_bf16_to_f32(bf[i]) == bf_v[i]);
        assert_true(vb_f16_to_f32(hf[i]) == hf_v[i]);
        assert_int_equal(signbit(vb_bf16_to_f32(bf[i])) != 0, signbit(bf_v[i]) != 0);
    }
    assert_true(isnan(vb_f16_to_f32(0x7E00)));
    assert_true(isnan(vb_bf16_to_f32(0x7FC0)));
    /* round to nearest even on the way back */
    assert_int_equal(vb_f32_to_bf16(1.00390625f), 0x3F80);       /* tie -> even */
    assert_int_equal(vb_f32_to_bf16(1.01171875f), 0x3F82);       /* tie -> even (up) */
    assert_int_equal(vb_f32_to_bf16(1.005f), 0x3F81);            /* above the tie */
    assert_int_equal(vb_f32_to_f16(1.0f + 1.0f / 2048), 0x3C00); /* tie -> even */
    assert_int_equal(vb_f32_to_f16(1.0f + 3.0f / 2048), 0x3C02); /* tie -> even (up) */
    assert_int_equal(vb_f32_to_f16(65520.0f), 0x7C00);           /* overflows to inf */
    for (size_t i = 0; i < n; i++) {
        if (isinf(hf_v[i])) continue;
        assert_int_equal(vb_f32_to_f16(hf_v[i]), hf[i]);
        assert_int_equal(vb_f32_to_bf16(bf_v[i]), bf[i]);
    }
    /* through a file: BF16 and F16 tensors load as F32 with the same values */
    char p[600];
    path_of(p, sizeof p, "conv.safetensors");
    struct vb_st_writer * sw = vb_st_writer_new();
    int64_t               s = (int64_t)n;
    vb_st_writer_add(sw, "bf", VB_DT_BF16, 1, &s, bf);
    vb_st_writer_add(sw, "hf", VB_DT_F16, 1, &s, hf);
    assert_int_equal(vb_st_writer_write(sw, p), VB_OK);
    vb_st_writer_free(sw);
    struct vb_weights * w = NULL;
    assert_int_equal(vb_weights_open(&w, p), VB_OK);
    float *a = NULL, *b = NULL;
    assert_int_equal(vb_weights_load_f32(w, "bf", 1, &s, &a), VB_OK);
    assert_int_equal(vb_weights_load_f32(w, "hf", 1, &s, &b), VB_OK);
    for (size_t i = 0; i < n; i++) {
        assert_true(a[i] == bf_v[i]);
        assert_true(b[i] == hf_v[i]);
    }
    free(a);
    free(b);
    vb_weights_close(w);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_faults),    cmocka_unit_test(test_tensor_entry_faults),
        cmocka_unit_test(test_vit_wrong_shape),  cmocka_unit_test(test_sharded),
        cmocka_unit_test(test_half_conversions), cmocka_unit_test(test_tiling),
        cmocka_unit_test(test_index_mismatch),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
