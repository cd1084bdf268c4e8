/* latency.h — per-stage latency summaries and speed-ups.
**
** Stages (the column names of the `samples` table, docs/schema.md): each is the wall time in microseconds spent in
** that stage for one question, measured with CLOCK_MONOTONIC by the runner:
**   decode      demux + decode of the frames used (sparse seek + decode, cache hits cost ~0)
**   preprocess  resize (libswscale) + normalise to (n, 3, 224, 224) float
**   vit         ViT-g forward of every frame that needs features (incl. ln_vision)
**   select      frame selection (SeViLA localizer: Q-Former_loc + T5 step 0 on T frames; VLAP: Frame-Prompter)
**   qformer     answerer Q-Former + projection
**   t5_enc      T5 encoder of the answerer input
**   t5_dec      T5 decoder steps (as released: to EOS / limit; minimal: steps 0-1)
**   total       end to end for the question (>= sum of the stages; includes glue)
** Statistics: mean, sample standard deviation (n-1 denominator; 0 when n < 2), and percentiles by linear
** interpolation between order statistics, exactly numpy's default method ("linear", type 7):
** h = (n-1)·q, value = x[floor(h)] + (h - floor(h))·(x[floor(h)+1] - x[floor(h)]).
*/
#ifndef VB_LATENCY_H
#define VB_LATENCY_H

#include <stdint.h>

enum vb_stage {
    VB_STAGE_DECODE = 0,
    VB_STAGE_PREPROCESS,
    VB_STAGE_VIT,
    VB_STAGE_SELECT,
    VB_STAGE_QFORMER,
    VB_STAGE_T5_ENC,
    VB_STAGE_T5_DEC,
    VB_STAGE_TOTAL,
    VB_STAGE_COUNT
};

/* Short stage name ("decode", ..., "total"), also the column stem t_<name>_us in the samples table. */
const char * vb_latency_stage_name(enum vb_stage s);

struct vb_latency_summary {
    int32_t n;    /* values summarised (negative inputs = "not measured" are skipped) */
    double  mean; /* same unit as the input */
    double  sd;   /* sample standard deviation, n-1 denominator */
    double  min, p50, p90, p99, max;
};

/* Summarise x[0..n-1] (any unit; values < 0 are treated as missing and skipped).  Copies and sorts internally;
** x is not modified.  With no valid value, out->n = 0 and all statistics are NAN.  Returns VB_OK or VB_ERR_ARG
** (n < 0 or NULL pointers with n > 0). */
int vb_latency_summarize(const double * x, int32_t n, struct vb_latency_summary * out);

/* Speed-up of a method against a reference: ref / value (e.g. median latency of the reference method divided by
** the median latency of this one; > 1 = faster).  NAN when either value is not positive or not finite. */
double vb_latency_speedup(double ref, double value);

#endif
