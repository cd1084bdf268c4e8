/* test_config.c — HF config.json reading: config.diff.json (what save_pretrained writes, defaults omitted) must give
** exactly the same configuration as the full config.json for every golden set; the published hub configs of
** blip2-flan-t5-xl / instructblip-flan-t5-xl give the real shapes; bad configs are refused with the key named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs <setjmp.h>, <stdarg.h>, <stddef.h> and <stdint.h> first */
#include <cmocka.h>

#include "base/common.h"
#include "engine/config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char * shared_dir(void) {
    const char * s = getenv("VB_SHARED");
    return s ? s : "../shared";
}

/* the golden sets live in $VB_SHARED/golden or, committed, in tests/golden */
static int set_dir(const char * set, char * buf, size_t n) {
    snprintf(buf, n, "%s/golden/%s", shared_dir(), set);
    if (access(buf, R_OK) == 0) return 1;
    const char * root = getenv("VB_ROOT");
    snprintf(buf, n, "%s/tests/golden/%s", root ? root : ".", set);
    return access(buf, R_OK) == 0;
}

static void test_diff_equals_full(void ** state) {
    (void)state;
    const char * sets[] = {"tiny", "odd", "instruct-tiny"};
    for (int i = 0; i < 3; i++) {
        char d[4096], p[4200];
        assert_true(set_dir(sets[i], d, sizeof d));
        struct vb_model_config full, diff;
        snprintf(p, sizeof p, "%s/config.json", d);
        assert_int_equal(vb_config_load(&full, p), VB_OK);
        snprintf(p, sizeof p, "%s/config.diff.json", d);
        assert_int_equal(vb_config_load(&diff, p), VB_OK);
        assert_memory_equal(&full, &diff, sizeof full);
    }
}

static void test_known_values(void ** state) {
    (void)state;
    char                   d[4096], p[4200];
    struct vb_model_config c;
    assert_true(set_dir("tiny", d, sizeof d));
    snprintf(p, sizeof p, "%s/config.diff.json", d);
    assert_int_equal(vb_config_load(&c, p), VB_OK);
    assert_int_equal(c.arch, VB_ARCH_BLIP2);
    assert_int_equal(c.vision.hidden, 32);
    assert_int_equal(c.vision.patch, 14); /* default */
    assert_int_equal(c.vision.n_tokens, 5);
    assert_int_equal(c.qformer.cross_freq, 2);   /* default */
    assert_int_equal(c.t5.act, VB_ACT_GELU_ERF); /* explicit dense_act_fn "gelu" wins over gated-gelu */
    assert_true(c.t5.gated);
    assert_int_equal(c.t5.tie, 0);
    assert_true(set_dir("odd", d, sizeof d));
    snprintf(p, sizeof p, "%s/config.diff.json", d);
    assert_int_equal(vb_config_load(&c, p), VB_OK);
    assert_int_equal(c.t5.act, VB_ACT_GELU_TANH); /* Flan-T5 default: gated-gelu -> gelu_new */
    assert_int_equal(c.t5.n_enc, 3);
    assert_int_equal(c.t5.n_dec, 2);
    assert_true(set_dir("instruct-tiny", d, sizeof d));
    snprintf(p, sizeof p, "%s/config.diff.json", d);
    assert_int_equal(vb_config_load(&c, p), VB_OK);
    assert_int_equal(c.arch, VB_ARCH_INSTRUCTBLIP);
    assert_true(c.qformer.has_text);
    assert_int_equal(c.qformer.vocab, 64);
}

/* the real-size configs committed in configs/real/ ($VB_ROOT, else the current directory, is the repository root) */
static const char * root_dir(void) {
    const char * r = getenv("VB_ROOT");
    return r ? r : ".";
}

static void test_real_configs(void ** state) {
    (void)state;
    char p[4200];
    snprintf(p, sizeof p, "%s/configs/real/blip2-flan-t5-xl.config.json", root_dir());
    struct vb_model_config a, b;
    assert_int_equal(vb_config_load(&a, p), VB_OK);
    assert_int_equal(a.vision.hidden, 1408);
    assert_int_equal(a.vision.layers, 39);
    assert_int_equal(a.vision.heads, 16);
    assert_int_equal(a.vision.n_tokens, 257);
    assert_int_equal(a.qformer.layers, 12);
    assert_int_equal(a.qformer.encoder_hidden, 1408);
    assert_int_equal(a.num_query_tokens, 32);
    assert_int_equal(a.t5.d_model, 2048);
    assert_int_equal(a.t5.d_ff, 5120);
    assert_int_equal(a.t5.heads, 32);
    assert_int_equal(a.t5.n_enc, 24);
    assert_int_equal(a.t5.n_dec, 24);
    assert_int_equal(a.t5.vocab, 32128);
    assert_int_equal(a.t5.act, VB_ACT_GELU_ERF);
    assert_int_equal(a.t5.tie, 0);
    snprintf(p, sizeof p, "%s/configs/real/blip2-flan-t5-xl.derived-4.35.2.config.json", root_dir());
    assert_int_equal(vb_config_load(&b, p), VB_OK);
    assert_memory_equal(&a, &b, sizeof a);
    snprintf(p, sizeof p, "%s/configs/real/instructblip-flan-t5-xl.config.json", root_dir());
    assert_int_equal(vb_config_load(&b, p), VB_OK);
    assert_int_equal(b.arch, VB_ARCH_INSTRUCTBLIP);
    assert_int_equal(b.qformer.vocab, 30523);
    assert_int_equal(b.t5.d_model, 2048);
}

static void expect_fail(const char * json, int st, const char * needle) {
    struct vb_model_config c;
    int                    rc = vb_config_parse(&c, json, "cfg.json");
    assert_int_equal(rc, st);
    if (!strstr(vb_errmsg(), needle)) fail_msg("message '%s' lacks '%s'", vb_errmsg(), needle);
}

static void test_bad_configs(void ** state) {
    (void)state;
    expect_fail("[1,2]", VB_ERR_FORMAT, "cfg.json: not a JSON object");
    expect_fail("{\"model_type\":\"llava\"}", VB_ERR_UNSUPPORTED, "llava");
    expect_fail("{\"model_type\":\"blip-2\"}", VB_ERR_UNSUPPORTED, "OPT");
    expect_fail("{\"model_type\":\"blip-2\",\"text_config\":{\"model_type\":\"opt\"}}", VB_ERR_UNSUPPORTED, "opt");
    expect_fail("{\"model_type\":\"blip-2\",\"text_config\":{\"model_type\":\"t5\",\"d_model\":\"big\"}}",
                VB_ERR_FORMAT, "text_config.d_model");
    expect_fail(
        "{\"model_type\":\"blip-2\",\"vision_config\":{\"hidden_size\":-3},\"text_config\":{\"model_type\":\"t5\"}}",
        VB_ERR_FORMAT, "vision_config.hidden_size");
    expect_fail("{\"model_type\":\"blip-2\",\"text_config\":{\"model_type\":\"t5\",\"dense_act_fn\":\"swish\"}}",
                VB_ERR_UNSUPPORTED, "swish");
    expect_fail("{\"model_type\":\"blip-2\",\"vision_config\":{\"hidden_size\":30,\"num_attention_heads\":4},"
                "\"text_config\":{\"model_type\":\"t5\"}}",
                VB_ERR_FORMAT, "vision_config: inconsistent");
    /* bounds and cross-checks (issue 17: each of these used to abort or overflow later) */
#define T5_ "\"text_config\":{\"model_type\":\"t5\""
    expect_fail("{\"model_type\":\"blip-2\",\"vision_config\":{\"num_hidden_layers\":1e9}," T5_ "}}", VB_ERR_FORMAT,
                "cfg.json: vision_config.num_hidden_layers = 1000000000 is out of range [1, 1024]");
    expect_fail("{\"model_type\":\"blip-2\"," T5_ ",\"d_ff\":1e9}}", VB_ERR_FORMAT, "text_config.d_ff");
    expect_fail("{\"model_type\":\"blip-2\",\"qformer_config\":{\"hidden_size\":1e9}," T5_ "}}", VB_ERR_FORMAT,
                "qformer_config.hidden_size");
    expect_fail("{\"model_type\":\"blip-2\",\"vision_config\":{\"image_size\":8192,\"patch_size\":2}," T5_ "}}",
                VB_ERR_FORMAT, "gives 16777216 patches");
    expect_fail("{\"model_type\":\"blip-2\"," T5_ ",\"num_heads\":2048,\"d_kv\":4096}}", VB_ERR_FORMAT,
                "num_heads 2048 x d_kv 4096");
    expect_fail("{\"model_type\":\"blip-2\",\"qformer_config\":{\"encoder_hidden_size\":1024}," T5_ "}}", VB_ERR_FORMAT,
                "encoder_hidden_size 1024 differs from vision_config.hidden_size 1408");
    expect_fail("{\"model_type\":\"blip-2\"," T5_ ",\"vocab_size\":100,\"eos_token_id\":100}}", VB_ERR_FORMAT,
                "eos_token_id 100 is not below vocab_size 100");
    expect_fail("{\"model_type\":\"blip-2\"," T5_ ",\"layer_norm_epsilon\":1e999}}", VB_ERR_FORMAT,
                "text_config.layer_norm_epsilon");
    expect_fail("{\"model_type\":\"blip-2\"," T5_ ",\"layer_norm_epsilon\":0}}", VB_ERR_FORMAT,
                "text_config.layer_norm_epsilon");
    expect_fail("{\"model_type\":\"blip-2\",\"num_query_tokens\":0," T5_ "}}", VB_ERR_FORMAT, "num_query_tokens");
#undef T5_
    struct vb_model_config c;
    assert_int_equal(vb_config_load(&c, "/nonexistent/config.json"), VB_ERR_IO);
    assert_non_null(strstr(vb_errmsg(), "/nonexistent/config.json"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diff_equals_full),
        cmocka_unit_test(test_known_values),
        cmocka_unit_test(test_real_configs),
        cmocka_unit_test(test_bad_configs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
