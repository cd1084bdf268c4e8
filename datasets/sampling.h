/* sampling.h — named frame-sampling policies (docs/formats.md §7).  Pure functions: no I/O, no allocation.
**
** vlapbench never says just "uniform".  Three conventions exist and each has a name:
**   uniform_midbin     SeViLA / VLAP (LAVIS data_utils.load_video): n = min(n, vlen); edges = linspace(start, end,
**                      n+1) truncated to int; index i = (edges[i] + edges[i+1]) // 2.  Indices repeat inside short
**                      segments; a zero-length segment gives n copies of start.
**   uniform_endpoints  lmms-eval: n = min(n, T); indices = unique(linspace(0, T-1, n) truncated) (first and last
**                      frame included); fewer than n come back when T < n.
**   uniform_interior   VLMEvalKit: step = T / (n+1); index i = int(i * step), i = 1..n (endpoints excluded); always
**                      n indices, repeats when T < n + 1.
** Here T = end - start is the number of frames in the range [start, end) and vlen the frame count of the whole
** video.  endpoints and interior are applied to the range and offset by start (their code bases have no segments;
** this is vlapbench's convention for using them inside a segment).
*/
#ifndef VB_SAMPLING_H
#define VB_SAMPLING_H

#include <stdint.h>

enum vb_sampling_policy {
    VB_SAMPLING_UNIFORM_MIDBIN = 0,
    VB_SAMPLING_UNIFORM_ENDPOINTS,
    VB_SAMPLING_UNIFORM_INTERIOR,
    VB_SAMPLING_COUNT
};

/* Parse "uniform_midbin" / "uniform_endpoints" / "uniform_interior" into *p.  Returns VB_OK or VB_ERR_ARG
** (message lists the valid names). */
int vb_sampling_parse(const char * name, enum vb_sampling_policy * p);
/* The policy's name ("uniform_midbin", ...); "?" for an invalid value. */
const char * vb_sampling_name(enum vb_sampling_policy p);

/* Seconds -> frame range, SeViLA's exact rule (§7): start = (int)(start_s * fps), end = (int)(end_s * fps)
** (truncation toward zero), then start = max(start, 0), end = min(end, vlen).  A negative start_s or end_s means
** "whole video": start = 0, end = vlen.  Nothing checks start < end (as in SeViLA); out-of-range indices are caught
** by vb_sampling_indices.  Returns VB_OK, or VB_ERR_ARG for fps <= 0 / non-finite times or vlen < 0. */
int vb_sampling_segment(double fps, int64_t vlen, double start_s, double end_s, int64_t * start, int64_t * end);

/* Upper bound of the number of indices a policy returns for a request of n (for sizing buffers): n itself. */
#define VB_SAMPLING_MAX_OUT(n) (n)

/* Frame indices of policy p for a request of n frames inside [start, end) of a video of vlen frames.  Writes at most
** n indices to out (n) in the policy's order (ascending for a well-formed range; midbin descends when
** end < start, as numpy does) and returns how many it wrote (>= 0).  Returns a
** negative vb_status on failure: VB_ERR_ARG for n <= 0, vlen <= 0 or an unknown policy; VB_ERR_NOTFOUND when any
** index falls outside [0, vlen) (e.g. a segment starting at or after the end of the video, or an empty range for
** the endpoints/interior policies); the message names the index and the range. */
int32_t vb_sampling_indices(enum vb_sampling_policy p, int64_t start, int64_t end, int64_t vlen, int32_t n,
                            int64_t * out);

/* Number of distinct values in an index list, any order (stored with each sample, §7). */
int32_t vb_sampling_n_distinct(const int64_t * idx, int32_t n);

#endif
