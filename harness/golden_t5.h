/* golden_t5.h — helpers shared by the T5 runner (golden_t5.c) and the pipeline runner (golden_pipeline.c). */
#ifndef VB_GOLDEN_T5_H
#define VB_GOLDEN_T5_H

#include "engine/t5.h"
#include "harness/golden.h"

#include <stdint.h>

/* Reference integer tensor "full" as int32 (malloc'd, caller frees); shape / ndim out (nullable).
** Values outside int32: VB_ERR_FORMAT. */
int vb_golden_t5_ids(struct vb_golden * g, const char * full, int32_t ** out, int64_t * shape, int32_t * ndim);
/* Reference mask tensor as bytes (value != 0 -> 1), malloc'd, caller frees. */
int vb_golden_t5_mask(struct vb_golden * g, const char * full, uint8_t ** out, int64_t * shape, int32_t * ndim);

/* Greedy generation for B rows of lm inputs embeds (B, N, d) with mask (B, N); compares "<cn>.output_ids" exactly
** and "<cn>.scores" (max_new_tokens = output_ids columns - 1).  Returns VB_OK after comparing (FAILs counted) or the
** error that prevented running. */
int vb_golden_t5_generate_check(struct vb_golden * g, const char * cn, const struct vb_t5_model * m,
                                const float * embeds, const uint8_t * mask, int64_t B, int64_t N);

/* BLIP-2 "generate" cases: build the T5 inputs from "<cn>.pixel_values", "<cn>.input_ids", "<cn>.attention_mask"
** through vision -> Q-Former -> language projection (golden_pipeline.c): *embeds (B, N, d) = [projected queries;
** shared(input_ids)], *mask (B, N) = [ones(Q); attention_mask]; shape_out[0..1] = B, N.  Caller frees both. */
int vb_golden_t5_build_lm_inputs(struct vb_golden * g, const char * cn, const struct vb_t5_model * m, float ** embeds,
                                 uint8_t ** mask, int64_t * shape_out);

#endif
