/* uniform.c — uniform BLIP-2: the k candidates are the answerer's frames (see uniform.h). */
#include "baselines/uniform.h"

#include "base/common.h"
#include "methods/answerer.h"

#include <string.h>

static const char * selection_label(enum vb_select_mode s) {
    (void)s;
    return "none";
}

static int32_t candidates(const struct vb_bundle * b, int32_t k, int32_t requested) {
    (void)b, (void)requested;
    return k;
}

static int open_uniform(void ** state, const struct vb_bundle * b, struct vb_method_opts * o) {
    int rc = vb_method_check_bundle(b, vb_uniform_ops.bundle_parts, VB_ARCH_BLIP2, "uniform");
    if (rc == VB_OK) rc = vb_method_check_counts(o);
    if (rc != VB_OK) return rc;
    if (o->max_new_tokens <= 0) o->max_new_tokens = 30;
    if (o->repetition_penalty <= 0) o->repetition_penalty = 1.0f;
    if (o->max_txt_len == 0) o->max_txt_len = 77;
    struct vb_answerer * a = vb_calloc(1, sizeof *a);
    *state = a;
    return vb_answerer_init(a, b, o, 0, 0);
}

static void close_uniform(void * state) {
    if (!state) return;
    vb_answerer_free(state);
    free(state);
}

static int answer_uniform(void * state, const struct vb_method_input * in, struct vb_method_result * res) {
    struct vb_answerer * a = state;
    int32_t              picked[VB_METHOD_MAX_PICK];
    for (int32_t i = 0; i < a->o->n_frames; i++)
        picked[i] = i;
    return vb_blip2_answer(a, in, picked, a->o->n_frames, res);
}

const struct vb_method_ops vb_uniform_ops = {
    .name = "uniform",
    .bundle_parts = VB_BUNDLE_VISION | VB_BUNDLE_QFORMER | VB_BUNDLE_T5,
    .reusable_selection = 0,
    .selection_label = selection_label,
    .candidates = candidates,
    .open = open_uniform,
    .close = close_uniform,
    .answer = answer_uniform,
};
