/* fuzz_config.c — libFuzzer harness for engine/config.c: the input is a config.json text.  A config that parses must
** be inside the documented bounds (the loaders allocate from it only after checking the tensors, but its products
** must not overflow); nothing may crash. */
#include "tests/fuzz/fuzz_common.h"

#include "engine/config.h"

int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    fuzz_quiet();
    char * js = malloc(size + 1);
    memcpy(js, data, size);
    js[size] = 0;
    struct vb_model_config c;
    if (vb_config_parse(&c, js, "config.json") == VB_OK) {
        const struct vb_vision_config * V = &c.vision;
        if (V->layers < 1 || V->layers > 1024 || V->hidden < 1 || V->hidden > 65536 || V->n_patches < 1 ||
            V->n_patches > VB_CONFIG_MAX_PATCHES || V->hidden % V->heads)
            abort();
        if ((int64_t)c.t5.heads * c.t5.d_kv > VB_CONFIG_MAX_INNER || c.t5.n_enc < 1 || c.t5.n_dec < 1 ||
            c.t5.eos_id >= c.t5.vocab || c.qformer.encoder_hidden != V->hidden || c.qformer.hidden % c.qformer.heads)
            abort();
        if (!(c.t5.eps > 0) || !(c.vision.ln_eps > 0) || !(c.qformer.ln_eps > 0)) abort();
    }
    free(js);
    return 0;
}
