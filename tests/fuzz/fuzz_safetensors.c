/* fuzz_safetensors.c — libFuzzer harness for engine/weights.c: the input is a whole .safetensors file.  A file that
** opens must hold only in-range, tiling tensors: every float tensor is converted (F32/F16/BF16/F64), every integer
** one read as I64, and the shape check and the page drop run on each; nothing may crash or read out of bounds. */
#include "tests/fuzz/fuzz_common.h"

#include "engine/weights.h"

int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    fuzz_quiet();
    const char *        p = fuzz_file("model.safetensors", data, size);
    struct vb_weights * w = NULL;
    if (vb_weights_open(&w, p) != VB_OK) return 0;
    for (int32_t i = 0; i < vb_weights_count(w); i++) {
        const struct vb_st_tensor * t = vb_weights_at(w, i);
        if (vb_weights_find(w, t->name) != t) abort(); /* names are unique and found */
        if (t->nbytes != (size_t)t->numel * vb_dtype_size(t->dtype)) abort();
        if (t->numel > (1 << 22)) continue; /* the bytes are in the file: at most the input size anyway */
        float * f = NULL;
        if (vb_weights_load_f32(w, t->name, t->ndim, t->shape, &f) == VB_OK) {
            volatile float s = 0;
            for (int64_t k = 0; k < t->numel; k++)
                s += f[k];
            (void)s;
        }
        free(f);
        int64_t * q = NULL;
        vb_weights_load_i64(w, t->name, 0, NULL, &q);
        free(q);
        int64_t other[1] = {t->ndim ? t->shape[0] + 1 : 1};
        vb_weights_check(w, t->name, 1, other);
        vb_weights_drop_pages(w, t);
    }
    vb_weights_close(w);
    return 0;
}
