/* estimate.h — how long a `vlapbench run` will take here: `run --estimate` (print and stop, nothing written) and the
** estimate printed at the start of every run and stored with its sessions (sessions.estimate_s / note).
**
** Calibration (seconds for toy bundles, tens of seconds at full size on 2 cores): on this machine, with the run's
** bundles, weight dtype, compute mode and BLAS threads, and on the first pending question of the run (its video and
** its question text):
**   - decode: the video opened (packet index) and the union of every cell's frames decoded and preprocessed once,
**     as the runner does: time per open and per frame;
**   - ViT: one call per vision group on that question's frames (8 frames per call, as the runner batches, when one
**     frame takes under 0.25 s; else one frame): time per frame;
**   - each cell's method on those features (a calibration object with the cell's options, closed afterwards, so the
**     run's own method objects are untouched): end to end, and, for a selection that is reused across k (SeViLA's
**     localizer), again with the scores reused.  A selection over T candidates is timed at T' = max(k, 8) candidates
**     when T > 8 and the method accepts it, and scaled by T / T' (the localizer is linear in T, chunks of 8).
**   Each timing is the median of 3 repetitions (1 when one takes over 0.5 s).
** Model: every pending sample of this shard, in order, with its pending cells, costs one open + the union of the
** pending cells' frames (decode + preprocess each) + the ViT frames not yet computed for that clip (the runner's
** cross-cell and cross-question sharing through the ViT cache, simulated per clip with the cache's byte bound and
** the frame sets the cells had on the calibration video) + each cell's method (the reused cost when an earlier cell
** of the question computed the same reusable selection).  A cell's share charges it what it added; the shares add up
** to the grid's total, which estimates the loop's wall time (not the calibration, bundle loading or hashing).  A
** cell's session estimate is the cost of the samples it takes part in (comparable to its session wall_s).
*/
#ifndef VB_ESTIMATE_H
#define VB_ESTIMATE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct vb_runner;
struct vb_store;
struct vb_estimate;

/* Calibrate on R (cells opened, pending samples known: after vb_runner_begin_runs) and model the loop.  Prints the
** table (one line per cell and the total) to out unless out is NULL.  Never fails the run: a question whose video
** cannot be opened or a method that fails on the calibration input only leaves that part unmeasured (noted in the
** table).  *est is owned by the caller (vb_estimate_free). */
void vb_estimate_run(struct vb_runner * R, FILE * out, struct vb_estimate ** est);

/* Estimated wall time of the whole loop, seconds (0 when nothing is pending); calibration time, seconds. */
double vb_estimate_total_s(const struct vb_estimate * e);
double vb_estimate_calib_s(const struct vb_estimate * e);

/* Store cell i's estimate (its session estimate) and the note "estimate X vs actual Y (actual/estimate r); ..." on
** the session of run_id (vb_store_set_estimate), wall_s being the session's actual wall time.  Returns the store's
** status. */
int vb_estimate_record(const struct vb_estimate * e, struct vb_store * st, int32_t i, int64_t run_id, double wall_s);

/* Free e (NULL is fine). */
void vb_estimate_free(struct vb_estimate * e);

/* A duration for people: "0 s", "<1 ms", "850 ms", "4.2 s", "38 s", "12 m 5 s", "3 h 20 m", "3 d 4 h" (two
** units at most, the second rounded).  Negative or non-finite: "?". */
void vb_duration_human(double s, char * buf, size_t n);

#endif
