/* golden.h — `vlapbench check-golden DIR`: run the engine on reference cases and compare tensors.
**
** DIR holds config.json (absent for frame-prompter: sizes in cases.json), model.safetensors, cases.safetensors
** ("<case>.<name>" tensors) and cases.json.  For every case in cases.json the driver calls the runner registered
** for that case name (weak symbols below: a family not linked in, or a runner returning VB_ERR_UNSUPPORTED, is a
** SKIP).  Runners compare each output with vb_golden_cmp(), which prints one line
**     case tensor max_abs_err tolerance ok|FAIL
** with tolerance = 1e-4 * max(1, max|reference|) (or an exact comparison for integer tensors).
*/
#ifndef VB_GOLDEN_H
#define VB_GOLDEN_H

#include "engine/config.h"
#include "engine/weights.h"

#include <cjson/cJSON.h>
#include <stdint.h>

struct vb_golden {
    const char *           dir;
    struct vb_weights *    model; /* DIR/model.safetensors */
    struct vb_weights *    cases; /* DIR/cases.safetensors */
    cJSON *                json;  /* DIR/cases.json (root) */
    struct vb_model_config cfg;   /* from DIR/config.json */
    int32_t                has_cfg;
    char *                 cfg_json_text; /* raw config.json text (NULL if absent), e.g. for "methods_bundle" */
    int32_t                n_ok, n_fail, n_skip;
    int32_t                verbose;
    int32_t                device;       /* enum vb_device of the models the cases load (check-golden --device) */
    int32_t                weight_dtype; /* enum vb_dtype of their large matrices (check-golden --weights) */
};

/* Load reference tensor "<case>.<name>" as F32 (malloc'd, caller frees) / I64.  NULL shape = any; the shape is
** returned in shape_out (VB_MAX_DIMS entries, may be NULL) and ndim in *ndim_out (may be NULL). */
int vb_golden_f32(struct vb_golden * g, const char * full_name, float ** out, int64_t * shape_out, int32_t * ndim_out);
int vb_golden_i64(struct vb_golden * g, const char * full_name, int64_t ** out, int64_t * shape_out,
                  int32_t * ndim_out);
/* Compare got (n floats) with reference tensor full_name ("<case>.<name>"); prints the line; counts ok/FAIL.
** `label` (nullable) replaces the printed tensor name (e.g. "vision.layer_outputs[1]"); ref_offset/n select a slice
** of the reference (elements).  n must match the slice; a size mismatch is a FAIL. Returns 1 if ok, 0 if FAIL. */
int vb_golden_cmp(struct vb_golden * g, const char * case_name, const char * full_name, const char * label,
                  const float * got, int64_t n, int64_t ref_offset);
/* Exact comparison of integer outputs (ids, picks). */
int vb_golden_cmp_i64(struct vb_golden * g, const char * case_name, const char * full_name, const char * label,
                      const int64_t * got, int64_t n, int64_t ref_offset);
/* Record a SKIP for case_name with a reason (printed as "case - - - SKIP reason"). */
void vb_golden_skip(struct vb_golden * g, const char * case_name, const char * why);
/* A case failed to run at all (error): prints "case - - - FAIL reason" and counts a FAIL. */
void vb_golden_error(struct vb_golden * g, const char * case_name, const char * why);
/* cases.json -> cases.<case> object, or NULL. */
const cJSON * vb_golden_case_json(struct vb_golden * g, const char * case_name);

/* Runners, one per family, each implemented in the module that owns the family.  They return VB_OK after
** comparing (FAILs are counted by vb_golden_cmp), VB_ERR_UNSUPPORTED to SKIP the case, other codes = error. */
typedef int (*vb_golden_fn)(struct vb_golden * g, const char * case_name);
int vb_golden_run_vision(struct vb_golden * g, const char * case_name) __attribute__((weak));  /* vision */
int vb_golden_run_qformer(struct vb_golden * g, const char * case_name) __attribute__((weak)); /* qformer, projection */
int vb_golden_run_prompter(struct vb_golden * g, const char * case_name) __attribute__((weak)); /* prompter, gumbel */
int vb_golden_run_t5(struct vb_golden * g, const char * case_name) __attribute__((weak)); /* t5_*, buckets, generate* */
int vb_golden_run_pipeline(struct vb_golden * g, const char * case_name)
    __attribute__((weak)); /* instruct image, video */
int vb_golden_run_method(struct vb_golden * g, const char * case_name)
    __attribute__((weak)); /* uniform, sevila*, vlap* */

#endif
