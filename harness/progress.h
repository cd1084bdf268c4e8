/* progress.h — progress display of `vlapbench run` on stderr: a one-line bar with count, rate and ETA redrawn in
** place when stderr is a terminal (at most 10 times a second), plain periodic lines otherwise (every `interval_s`
** seconds, and at the end), nothing when quiet.
*/
#ifndef VB_PROGRESS_H
#define VB_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

struct vb_progress {
    FILE *  out; /* stderr */
    int     tty, quiet;
    int64_t total; /* units of work expected (0 = unknown) */
    int64_t done;
    int64_t t_start_us, t_last_us;
    double  interval_s; /* non-TTY line interval */
    char    label[64];
};

/* Start a progress display of `total` units (0 = unknown) labelled `label` on out.  tty < 0: detect with isatty. */
void vb_progress_start(struct vb_progress * p, FILE * out, const char * label, int64_t total, int quiet, int tty);
/* Advance by n units and redraw when due; `note` (nullable) is a short status shown at the end of the line. */
void vb_progress_add(struct vb_progress * p, int64_t n, const char * note);
/* Final line (newline on a terminal). */
void vb_progress_end(struct vb_progress * p, const char * note);
/* Format "1h02m", "3m05s", "12s" into buf (n >= 16). */
void vb_progress_fmt_duration(double s, char * buf, size_t n);

#endif
