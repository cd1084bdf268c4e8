/* export_samples.h — one line per stored sample (JSON Lines or CSV) for analysis outside vlapbench
** (`vlapbench export --format samples | samples-csv`). */
#ifndef VB_EXPORT_SAMPLES_H
#define VB_EXPORT_SAMPLES_H

#include "results/store.h"

#include <stdio.h>

/* Writes every row of run r to f, in key order: with csv == 0 one JSON object per line, with csv != 0 an RFC 4180
** CSV with a header line.  Fields: run, dataset, method, frames, candidates, key, video_id, category, prompt (the
** QA prompt text the method was fed, as stored in samples.prompt: "Question: ... Option A: ... Considering ...";
** null / an empty field when the row has none, i.e. it was stored by a build before prompts were stored), status,
** error, answer, prediction, correct (1 / 0 / null when the answer is unknown), option_scores, candidates_idx
** (frame indices of the T candidates), picked (indices into the video), frame_lo, frame_hi, t_<stage>_us for every
** stage of metrics/latency.h (null when not measured).  In CSV, the arrays are space-separated numbers in one field.
** Non-finite option scores are written as null (JSON) or empty (CSV).  Returns VB_OK or VB_ERR_IO (write failed;
** message set).  *n_no_prompt (nullable) receives the number of rows written without a prompt. */
int vb_export_samples(FILE * f, const struct vb_store_run * r, const struct vb_store_rows * rows, int csv,
                      int32_t * n_no_prompt);

#endif
