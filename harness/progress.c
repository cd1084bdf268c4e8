/* progress.c — progress bar / periodic lines (see progress.h). */
#include "harness/progress.h"

#include "base/common.h"

#include <math.h>
#include <string.h>
#include <unistd.h>

void vb_progress_fmt_duration(double s, char * buf, size_t n) {
    if (!(s >= 0) || !isfinite(s)) {
        snprintf(buf, n, "?");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, n, "%ldh%02ldm", t / 3600, (t / 60) % 60);
    else if (t >= 60)
        snprintf(buf, n, "%ldm%02lds", t / 60, t % 60);
    else
        snprintf(buf, n, "%lds", t);
}

void vb_progress_start(struct vb_progress * p, FILE * out, const char * label, int64_t total, int quiet, int tty) {
    memset(p, 0, sizeof *p);
    p->out = out;
    p->quiet = quiet;
    p->tty = tty < 0 ? isatty(fileno(out)) : tty;
    p->total = total;
    p->t_start_us = p->t_last_us = vb_time_us();
    p->interval_s = 10.0;
    snprintf(p->label, sizeof p->label, "%s", label ? label : "");
}

static void draw(struct vb_progress * p, int64_t now, const char * note, int final) {
    double el = (double)(now - p->t_start_us) / 1e6;
    double rate = el > 0 ? (double)p->done / el : 0;
    char   eta[24] = "?", els[24];
    if (p->total > 0 && rate > 0) vb_progress_fmt_duration((double)(p->total - p->done) / rate, eta, sizeof eta);
    vb_progress_fmt_duration(el, els, sizeof els);
    if (p->tty) {
        char bar[32];
        int  w = 24, fill = p->total > 0 ? (int)(w * (double)p->done / (double)p->total) : 0;
        if (fill > w) fill = w;
        for (int i = 0; i < w; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[w] = 0;
        fprintf(p->out, "\r\033[K%s [%s] %lld/%lld %.2f/s elapsed %s ETA %s%s%s", p->label, bar, (long long)p->done,
                (long long)p->total, rate, els, final ? "0s" : eta, note ? "  " : "", note ? note : "");
        if (final) fputc('\n', p->out);
    } else {
        fprintf(p->out, "%s: %lld/%lld (%.1f%%) %.2f/s elapsed %s ETA %s%s%s\n", p->label, (long long)p->done,
                (long long)p->total, p->total > 0 ? 100.0 * (double)p->done / (double)p->total : 0.0, rate, els,
                final ? "0s" : eta, note ? "  " : "", note ? note : "");
    }
    fflush(p->out);
    p->t_last_us = now;
}

void vb_progress_add(struct vb_progress * p, int64_t n, const char * note) {
    p->done += n;
    if (p->quiet) return;
    int64_t now = vb_time_us();
    double  since = (double)(now - p->t_last_us) / 1e6;
    if ((p->tty && since >= 0.1) || (!p->tty && since >= p->interval_s)) draw(p, now, note, 0);
}

void vb_progress_end(struct vb_progress * p, const char * note) {
    if (p->quiet) return;
    draw(p, vb_time_us(), note, 1);
}
