/* cmd_bench_decode.c — `vlapbench bench-decode`: sparse exact decoding of sampled frames against a full sequential
** decode, on synthetic H.264 clips with short and long keyframe intervals (datasets/video.h, datasets/synth.h). */
#include "base/common.h"
#include "datasets/sampling.h"
#include "datasets/synth.h"
#include "datasets/video.h"
#include "harness/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* CPU time of the calling thread in microseconds: with one decoder thread all decoding happens here, so this is
** robust to other processes competing for the cores (wall time is reported too). */
static int64_t cpu_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int cmp_i64(const void * a, const void * b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int64_t median_i64(int64_t * v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_i64);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Generate (or reuse) a clip; a sidecar file records the spec so a changed spec regenerates it. */
static int ensure_clip(const char * path, const struct vb_synth_video_spec * s) {
    char side[4200], want[256], have[256] = "";
    snprintf(side, sizeof side, "%s.spec", path);
    snprintf(want, sizeof want, "%dx%d %d/%d fps %d frames gop %d bframes %d crf %d %s preset %s v2\n", s->width,
             s->height, s->fps_num, s->fps_den, s->n_frames, s->gop, s->bframes, s->crf, vb_synth_encoder_name(),
             s->preset ? s->preset : "veryfast");
    FILE *      f = fopen(side, "rb");
    struct stat sb;
    if (f) {
        size_t n = fread(have, 1, sizeof have - 1, f);
        have[n] = 0;
        fclose(f);
        if (!strcmp(have, want) && stat(path, &sb) == 0 && sb.st_size > 0) return VB_OK;
    }
    fprintf(stderr, "bench-decode: encoding %s (%s", path, want);
    fflush(stderr);
    int rc = vb_synth_write_video(path, s);
    if (rc != VB_OK) return rc;
    f = fopen(side, "wb");
    if (!f) return vb_fail(VB_ERR_IO, "%s: %s", side, strerror(errno));
    fputs(want, f);
    fclose(f);
    return VB_OK;
}

struct res {
    int     gop;
    int64_t n_frames, n_kf, min_decode, dec_skip, dec_noskip, packets, seeks, full_decoded;
    int64_t t_sparse_us, t_sparse_read_us, t_full_us, t_full_read_us, t_open_us, c_sparse_us, c_full_us;
    int     verified, n_targets, n_distinct;
};

static int bench_clip(const char * path, int gop, enum vb_sampling_policy pol, int32_t nsamp, int reps,
                      const struct vb_video_opts * vo, struct res * R) {
    memset(R, 0, sizeof *R);
    R->gop = gop;
    struct vb_video v;
    int             rc = vb_video_open(&v, path, vo);
    if (rc != VB_OK) return rc;
    int64_t idx[1024];
    int32_t n = vb_sampling_indices(pol, 0, v.n_frames, v.n_frames, nsamp, idx);
    if (n < 0) {
        vb_video_close(&v);
        return n;
    }
    R->n_targets = n;
    R->n_frames = v.n_frames;
    R->n_kf = v.n_keyframes;
    int64_t covered = -1;
    for (int32_t k = 0; k < n; k++) { /* union of [keyframe_before(t), t]; targets are ascending */
        int64_t kf = vb_video_keyframe_before(&v, idx[k]);
        int64_t from = kf > covered ? kf : covered + 1;
        if (idx[k] >= from) R->min_decode += idx[k] - from + 1;
        if (idx[k] > covered) covered = idx[k];
    }
    int64_t sd[1024];
    memcpy(sd, idx, sizeof(int64_t) * (size_t)n);
    qsort(sd, (size_t)n, sizeof *sd, cmp_i64);
    for (int32_t k = 0; k < n; k++)
        R->n_distinct += k == 0 || sd[k] != sd[k - 1];
    vb_video_close(&v);

    size_t    fsz = (size_t)vo->out_w * vo->out_h * 3;
    uint8_t * out = vb_malloc(fsz * (size_t)n);
    int64_t * ts = vb_malloc(sizeof *ts * (size_t)reps * 7);
    int64_t * t_sp = ts, *t_spr = ts + reps, *t_fu = ts + 2 * reps, *t_fur = ts + 3 * reps, *t_op = ts + 4 * reps;
    int64_t * c_sp = ts + 5 * reps, *c_fu = ts + 6 * reps;
    /* untimed warm-up (page cache, lazy init), then alternate sparse and full repetitions */
    for (int r = -1; r < reps && rc == VB_OK; r++) {
        struct vb_video_stats st;
        int64_t               c0 = cpu_us(), t0 = vb_time_us();
        rc = vb_video_open(&v, path, vo);
        if (rc != VB_OK) break;
        int64_t t1 = vb_time_us();
        rc = vb_video_read_frames(&v, idx, n, out, NULL, &st);
        int64_t t2 = vb_time_us(), c2 = cpu_us();
        vb_video_close(&v);
        if (rc != VB_OK) break;
        if (r >= 0) {
            c_sp[r] = c2 - c0;
            t_sp[r] = t2 - t0;
            t_spr[r] = t2 - t1;
            t_op[r] = t1 - t0;
        }
        R->dec_skip = st.n_decoded;
        R->packets = st.n_packets;
        R->seeks = st.n_seeks;
        if (r == 0) {
            R->verified = 0;
            for (int32_t k = 0; k < n; k++)
                R->verified += vb_synth_read_index(out + (size_t)k * fsz, vo->out_w, vo->out_h) == idx[k];
        }
        struct vb_video_opts so = *vo;
        so.threads = 1; /* the baseline: every frame, in order, one thread */
        c0 = cpu_us();
        t0 = vb_time_us();
        rc = vb_video_open(&v, path, &so);
        if (rc != VB_OK) break;
        t1 = vb_time_us();
        rc = vb_video_read_frames_sequential(&v, idx, n, out, NULL, &st);
        t2 = vb_time_us();
        c2 = cpu_us();
        vb_video_close(&v);
        if (r >= 0) {
            c_fu[r] = c2 - c0;
            t_fu[r] = t2 - t0;
            t_fur[r] = t2 - t1;
        }
        R->full_decoded = st.n_decoded;
    }
    if (rc == VB_OK) { /* the same targets without non-reference skipping: frames the seek strategy alone decodes */
        struct vb_video_opts no = *vo;
        no.skip_nonref = 0;
        struct vb_video_stats st;
        rc = vb_video_open(&v, path, &no);
        if (rc == VB_OK) {
            rc = vb_video_read_frames(&v, idx, n, out, NULL, &st);
            vb_video_close(&v);
            R->dec_noskip = st.n_decoded;
        }
    }
    if (rc == VB_OK) {
        R->t_sparse_us = median_i64(t_sp, reps);
        R->t_sparse_read_us = median_i64(t_spr, reps);
        R->t_full_us = median_i64(t_fu, reps);
        R->t_full_read_us = median_i64(t_fur, reps);
        R->t_open_us = median_i64(t_op, reps);
        R->c_sparse_us = median_i64(c_sp, reps);
        R->c_full_us = median_i64(c_fu, reps);
    }
    free(out);
    free(ts);
    return rc;
}

int cmd_bench_decode(int argc, char ** argv) {
    if (vb_cli_wants_help(argc, argv)) {
        printf("usage: vlapbench bench-decode [--out DIR] [--reps N] [--frames N] [--policy P] [--seconds S]\n"
               "                              [--size WxH] [--gops 30,250] [--preset P] [--threads T] [--check]\n"
               "Encodes (once, cached in DIR) S-second H.264 clips at 30 fps with the given keyframe intervals and\n"
               "measures, for N sampled frames: the sparse exact decoder (seek to the keyframe before each target,\n"
               "continue within a GOP, skip non-reference frames) against decoding every frame sequentially on one\n"
               "thread, both including open + packet indexing.  Prints medians over the repetitions, frames decoded\n"
               "(with and without non-reference skipping), the minimum (each target back to its keyframe, shared\n"
               "prefixes once) and the speed-up, in wall time and in the calling thread's CPU time (robust to a\n"
               "loaded machine; meaningful with --threads 1 only); every sampled frame is verified from its pixels.\n"
               "  --out DIR      clip cache (default /tmp/vlapbench-bench-decode)\n"
               "  --reps N       timed repetitions (default 5, plus 1 untimed warm-up)\n"
               "  --frames N     frames to sample (default 32)\n"
               "  --policy P     uniform_midbin (default), uniform_endpoints, uniform_interior\n"
               "  --seconds S    clip length (default 60)\n"
               "  --size WxH     clip size (default 640x480)\n"
               "  --gops LIST    keyframe intervals (default 30,250)\n"
               "  --preset P     libx264 preset of the clips (default medium, x264's default)\n"
               "  --threads T    decoder threads of the sparse decoder (default 1; the baseline always uses 1)\n"
               "  --check        exit 1 unless decoded <= 1.05 x minimum, >= 3x on GOP <= 30 and >= 1.5x otherwise\n");
        return 0;
    }
    const char *            out_dir = "/tmp/vlapbench-bench-decode";
    const char *            preset = "medium"; /* x264's default: what `ffmpeg -c:v libx264` writes */
    int                     reps = 5, seconds = 60, w = 640, h = 480, check = 0;
    int32_t                 nsamp = 32;
    int                     gops[8] = {30, 250}, ngops = 2;
    enum vb_sampling_policy pol = VB_SAMPLING_UNIFORM_MIDBIN;
    struct vb_video_opts    vo;
    vb_video_opts_default(&vo);
    for (int i = 1; i < argc; i++) {
        const char * v;
        if (vb_cli_opt(argc, argv, &i, "--out", &v))
            out_dir = v;
        else if (vb_cli_opt(argc, argv, &i, "--reps", &v))
            reps = atoi(v);
        else if (vb_cli_opt(argc, argv, &i, "--frames", &v))
            nsamp = atoi(v);
        else if (vb_cli_opt(argc, argv, &i, "--seconds", &v))
            seconds = atoi(v);
        else if (vb_cli_opt(argc, argv, &i, "--threads", &v))
            vo.threads = atoi(v);
        else if (vb_cli_opt(argc, argv, &i, "--preset", &v))
            preset = v;
        else if (vb_cli_opt(argc, argv, &i, "--policy", &v)) {
            if (vb_sampling_parse(v, &pol) != VB_OK) {
                fprintf(stderr, "bench-decode: %s\n", vb_errmsg());
                return 2;
            }
        } else if (vb_cli_opt(argc, argv, &i, "--size", &v)) {
            if (sscanf(v, "%dx%d", &w, &h) != 2) w = 0;
        } else if (vb_cli_opt(argc, argv, &i, "--gops", &v)) {
            ngops = 0;
            for (const char * p = v; *p && ngops < 8;) {
                gops[ngops++] = atoi(p);
                p = strchr(p, ',');
                if (!p) break;
                p++;
            }
        } else if (!strcmp(argv[i], "--check"))
            check = 1;
        else {
            fprintf(stderr, "bench-decode: unknown option or missing value: %s\n", argv[i]);
            return 2;
        }
    }
    int bad = reps < 1 || reps > 1000 || nsamp < 1 || nsamp > 1024 || seconds < 1 || seconds > 3600 || w < 32 ||
              h < 32 || (w & 1) || (h & 1) || vo.threads < 1 || vo.threads > 64;
    for (int g = 0; g < ngops; g++)
        bad |= gops[g] < 1;
    if (bad) {
        fprintf(stderr, "bench-decode: bad option value (see --help)\n");
        return 2;
    }
    if (mkdir(out_dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "bench-decode: %s: %s\n", out_dir, strerror(errno));
        return 1;
    }
    char prov[512];
    printf("# bench-decode: %d x %s of %d-s %dx%d H.264 clips at 30 fps, %d reps (median), sparse threads %d\n", nsamp,
           vb_sampling_name(pol), seconds, w, h, reps, vo.threads);
    printf("# encoder %s preset %s, bframes 3, crf 23, scene-cut off; %s\n", vb_synth_encoder_name(), preset,
           vb_video_provenance(&vo, prov, sizeof prov));
    printf("| gop | frames | keyframes | targets (distinct) | minimum | decoded (skip nonref) | decoded (no skip) | "
           "packets | seeks | open+index ms | sparse ms | full ms | speed-up | speed-up excl. open | sparse cpu ms | "
           "full cpu ms | cpu speed-up | verified |\n");
    printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    int ok = 1;
    for (int g = 0; g < ngops; g++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/clip_%ds_%dx%d_gop%d.mp4", out_dir, seconds, w, h, gops[g]);
        struct vb_synth_video_spec s = {.width = w,
                                        .height = h,
                                        .fps_num = 30,
                                        .fps_den = 1,
                                        .n_frames = seconds * 30,
                                        .gop = gops[g],
                                        .bframes = 3,
                                        .crf = 23,
                                        .threads = 2,
                                        .preset = preset};
        s.square_rgb[0] = 200;
        int        rc = ensure_clip(path, &s);
        struct res R;
        if (rc == VB_OK) rc = bench_clip(path, gops[g], pol, nsamp, reps, &vo, &R);
        if (rc != VB_OK) {
            fprintf(stderr, "bench-decode: %s\n", vb_errmsg());
            return 1;
        }
        double sp = (double)R.t_full_us / (double)R.t_sparse_us;
        double spr = (double)R.t_full_read_us / (double)R.t_sparse_read_us;
        double spc = (double)R.c_full_us / (double)R.c_sparse_us;
        printf("| %d | %lld | %lld | %d (%d) | %lld | %lld | %lld | %lld | %lld | %.1f | %.1f | %.1f | %.2fx | %.2fx | "
               "%.1f | %.1f | %.2fx | %d/%d |\n",
               R.gop, (long long)R.n_frames, (long long)R.n_kf, R.n_targets, R.n_distinct, (long long)R.min_decode,
               (long long)R.dec_skip, (long long)R.dec_noskip, (long long)R.packets, (long long)R.seeks,
               R.t_open_us / 1e3, R.t_sparse_us / 1e3, R.t_full_us / 1e3, sp, spr, R.c_sparse_us / 1e3,
               R.c_full_us / 1e3, spc, R.verified, R.n_targets);
        double need = gops[g] <= 30 ? 3.0 : 1.5;
        int    pass_dec = R.dec_noskip <= R.min_decode * 105 / 100 && R.dec_skip <= R.dec_noskip;
        int    pass_sp = sp >= need; /* wall clock, as specified; the CPU-time ratio is printed beside it */
        int    pass_ver = R.verified == R.n_targets;
        fprintf(stderr,
                "bench-decode: gop %d: decoded %lld with skipping, %lld without, minimum %lld (%s 5%%); speed-up %.2fx "
                "wall, %.2fx cpu (target >= %.1fx: %s); frames verified %d/%d\n",
                gops[g], (long long)R.dec_skip, (long long)R.dec_noskip, (long long)R.min_decode,
                pass_dec ? "within" : "NOT within", sp, spc, need, pass_sp ? "met" : "MISSED", R.verified, R.n_targets);
        ok &= pass_dec && pass_sp && pass_ver;
    }
    return (check && !ok) ? 1 : 0;
}
