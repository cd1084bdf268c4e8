/* test_video.c — exact sparse decoding, verified from the pixels of synthetic videos whose frames show their index. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs <setjmp.h>, <stdarg.h>, <stddef.h> and <stdint.h> first */
#include <cmocka.h>

#include "base/common.h"
#include "datasets/sampling.h"
#include "datasets/synth.h"
#include "datasets/video.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libavformat/avformat.h>

struct tv {
    const char *               name;
    struct vb_synth_video_spec spec;
    char                       path[512];
};

static char      g_dir[256];
static struct tv g_v[] = {
    {"a25", {.width = 128, .height = 96, .fps_num = 25, .fps_den = 1, .n_frames = 100, .gop = 12, .bframes = 2}, ""},
    {"b2997",
     {.width = 160, .height = 120, .fps_num = 30000, .fps_den = 1001, .n_frames = 75, .gop = 30, .bframes = 3},
     ""},
    {"c10", {.width = 96, .height = 64, .fps_num = 10, .fps_den = 1, .n_frames = 23, .gop = 6, .bframes = 0}, ""},
    {"d24", {.width = 128, .height = 96, .fps_num = 24, .fps_den = 1, .n_frames = 61, .gop = 60, .bframes = 1}, ""},
    {"e5", {.width = 64, .height = 48, .fps_num = 15, .fps_den = 1, .n_frames = 5, .gop = 4, .bframes = 2}, ""},
    {"m4",
     {.width = 128,
      .height = 96,
      .fps_num = 25,
      .fps_den = 1,
      .n_frames = 50,
      .gop = 10,
      .bframes = 2,
      .encoder = "mpeg4"},
     ""},
};
#define NV ((int)(sizeof g_v / sizeof g_v[0]))

static int setup_all(void ** state) {
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/vb_test_video_XXXXXX");
    if (!mkdtemp(g_dir)) return -1;
    for (int i = 0; i < NV; i++) {
        snprintf(g_v[i].path, sizeof g_v[i].path, "%s/%s.mp4", g_dir, g_v[i].name);
        g_v[i].spec.square_rgb[0] = 200;
        int rc = vb_synth_write_video(g_v[i].path, &g_v[i].spec);
        if (rc != VB_OK) {
            fprintf(stderr, "setup: %s\n", vb_errmsg());
            return -1;
        }
    }
    return 0;
}

static int teardown_all(void ** state) {
    (void)state;
    char cmd[600];
    for (int i = 0; i < NV; i++)
        unlink(g_v[i].path);
    snprintf(cmd, sizeof cmd, "%s/bad.mp4", g_dir);
    unlink(cmd);
    rmdir(g_dir);
    return 0;
}

/* read idx[] from v and check every slot's code equals the requested index */
static void check_frames(struct vb_video * v, const int64_t * idx, int32_t n, int sequential) {
    size_t    fsz = (size_t)v->opts.out_w * v->opts.out_h * 3;
    uint8_t * out = malloc(fsz * (size_t)(n > 0 ? n : 1));
    int64_t * got = malloc(sizeof *got * (size_t)(n > 0 ? n : 1));
    int       rc = sequential ? vb_video_read_frames_sequential(v, idx, n, out, got, NULL)
                              : vb_video_read_frames(v, idx, n, out, got, NULL);
    if (rc != VB_OK) fprintf(stderr, "%s\n", vb_errmsg());
    assert_int_equal(rc, VB_OK);
    for (int32_t i = 0; i < n; i++) {
        int32_t code = vb_synth_read_index(out + (size_t)i * fsz, v->opts.out_w, v->opts.out_h);
        if (code != idx[i] || got[i] != idx[i])
            fprintf(stderr, "%s: slot %d wanted %lld, pixels say %d, got %lld\n", v->path, i, (long long)idx[i], code,
                    (long long)got[i]);
        assert_int_equal(code, idx[i]);
        assert_int_equal(got[i], idx[i]);
    }
    free(out);
    free(got);
}

static void test_open_metadata(void ** state) {
    (void)state;
    for (int i = 0; i < NV; i++) {
        struct vb_video v;
        assert_int_equal(vb_video_open(&v, g_v[i].path, NULL), VB_OK);
        assert_int_equal(v.n_frames, g_v[i].spec.n_frames);
        assert_true(fabs(v.fps - (double)g_v[i].spec.fps_num / g_v[i].spec.fps_den) < 1e-6);
        assert_int_equal(v.width, g_v[i].spec.width);
        assert_int_equal(v.height, g_v[i].spec.height);
        assert_true(v.has_timestamps);
        if (!g_v[i].spec.encoder) { /* libx264 with scene-cut off: a keyframe exactly every gop frames */
            assert_int_equal(v.n_keyframes, (g_v[i].spec.n_frames + g_v[i].spec.gop - 1) / g_v[i].spec.gop);
            for (int64_t f = 0; f < v.n_frames; f++)
                assert_int_equal(vb_video_keyframe_before(&v, f), f / g_v[i].spec.gop * g_v[i].spec.gop);
        } else { /* mpeg4 counts its GOP in coded order: only monotonic and <= f */
            assert_int_equal(vb_video_keyframe_before(&v, 0), 0);
            for (int64_t f = 1; f < v.n_frames; f++) {
                assert_true(vb_video_keyframe_before(&v, f) <= f);
                assert_true(vb_video_keyframe_before(&v, f) >= vb_video_keyframe_before(&v, f - 1));
            }
        }
        assert_int_equal(vb_video_keyframe_before(&v, v.n_frames), -1);
        vb_video_close(&v);
        vb_video_close(&v); /* twice is harmless */
    }
}

/* every policy, several n, whole video and segments (incl. short and zero-length), verified from the pixels */
static void test_policies_exact(void ** state) {
    (void)state;
    static const int32_t NS[] = {1, 3, 8, 32};
    static const double  SEG[][2] = {{-1, -1}, {0.5, 2.1}, {0.0, 0.3}, {1.0, 1.0}, {0.2, 100.0}, {1.3, 1.45}};
    for (int i = 0; i < NV; i++) {
        struct vb_video v;
        assert_int_equal(vb_video_open(&v, g_v[i].path, NULL), VB_OK);
        for (int p = 0; p < VB_SAMPLING_COUNT; p++)
            for (size_t s = 0; s < sizeof SEG / sizeof SEG[0]; s++)
                for (size_t k = 0; k < sizeof NS / sizeof NS[0]; k++) {
                    int64_t f0, f1, idx[64];
                    assert_int_equal(vb_video_segment_frames(&v, SEG[s][0], SEG[s][1], &f0, &f1), VB_OK);
                    int32_t n = vb_sampling_indices((enum vb_sampling_policy)p, f0, f1, v.n_frames, NS[k], idx);
                    if (n < 0) { /* only out-of-range segments may fail, never silently */
                        assert_int_equal(n, VB_ERR_NOTFOUND);
                        assert_true(f0 >= v.n_frames || f1 <= f0);
                        continue;
                    }
                    assert_true(n >= 1 && n <= NS[k]);
                    check_frames(&v, idx, n, 0);
                }
        assert_int_equal(v.stats.n_retries, 0);
        assert_int_equal(v.stats.n_reopens, 0);
        vb_video_close(&v);
    }
}

/* targets on both sides of GOP boundaries, unsorted with repeats; then descending single reads */
static void test_seek_gop_boundaries(void ** state) {
    (void)state;
    for (int i = 0; i < NV; i++) {
        struct vb_video v;
        assert_int_equal(vb_video_open(&v, g_v[i].path, NULL), VB_OK);
        int64_t g = g_v[i].spec.gop, N = v.n_frames, idx[32];
        int32_t n = 0;
        int64_t cand[] = {g, g - 1, 0, N - 1, g + 1, 2 * g - 1, 2 * g, g, 2 * g + 1, N - 2, 1, 3 * g};
        for (size_t k = 0; k < sizeof cand / sizeof cand[0]; k++)
            if (cand[k] >= 0 && cand[k] < N) idx[n++] = cand[k];
        check_frames(&v, idx, n, 0);
        for (int64_t f = N - 1; f >= 0; f -= (N > 20 ? 7 : 1))
            check_frames(&v, &f, 1, 0);
        /* every frame, one by one, ascending (continues within the GOP) */
        for (int64_t f = 0; f < N; f++)
            check_frames(&v, &f, 1, 0);
        assert_int_equal(v.stats.n_retries, 0); /* exact without the overshoot recovery */
        assert_int_equal(v.stats.n_reopens, 0);
        vb_video_close(&v);
    }
}

/* the sparse path gives the same bytes as a full sequential decode, with and without non-ref skipping, and
** decodes no more than the minimum plus the decoder's reorder look-ahead */
static void test_bitexact_and_work(void ** state) {
    (void)state;
    for (int i = 0; i < NV; i++) {
        struct vb_video      v;
        struct vb_video_opts o;
        vb_video_opts_default(&o);
        assert_int_equal(vb_video_open(&v, g_v[i].path, &o), VB_OK);
        int64_t idx[16];
        int32_t n = vb_sampling_indices(VB_SAMPLING_UNIFORM_MIDBIN, 0, v.n_frames, v.n_frames, 16, idx);
        assert_true(n > 0);
        size_t                fsz = 224 * 224 * 3;
        uint8_t *             a = malloc(fsz * (size_t)n), *b = malloc(fsz * (size_t)n);
        struct vb_video_stats sa, sb;
        assert_int_equal(vb_video_read_frames(&v, idx, n, a, NULL, &sa), VB_OK);
        assert_int_equal(vb_video_read_frames_sequential(&v, idx, n, b, NULL, &sb), VB_OK);
        assert_memory_equal(a, b, fsz * (size_t)n);
        assert_int_equal(sb.n_decoded, v.n_frames); /* the baseline decodes everything */
        /* minimum: union of [keyframe_before(t), t] */
        int64_t min = 0, covered = -1;
        for (int32_t k = 0; k < n; k++) {
            int64_t kf = vb_video_keyframe_before(&v, idx[k]);
            int64_t from = kf > covered ? kf : covered + 1;
            if (idx[k] >= from) min += idx[k] - from + 1;
            if (idx[k] > covered) covered = idx[k];
        }
        fprintf(stderr, "%s: %d targets, decoded %lld (minimum %lld, packets %lld, seeks %lld), full %lld\n",
                g_v[i].name, n, (long long)sa.n_decoded, (long long)min, (long long)sa.n_packets, (long long)sa.n_seeks,
                (long long)sb.n_decoded);
        assert_true(sa.n_decoded <= min + 8);
        assert_true(sa.n_decoded >= n);
        vb_video_close(&v);
        o.skip_nonref = 0;
        assert_int_equal(vb_video_open(&v, g_v[i].path, &o), VB_OK);
        assert_int_equal(vb_video_read_frames(&v, idx, n, b, NULL, &sb), VB_OK);
        assert_memory_equal(a, b, fsz * (size_t)n);
        assert_true(sb.n_decoded >= sa.n_decoded);
        vb_video_close(&v);
        o.skip_nonref = 1; /* frame-threaded decoder: skip_frame is handed to the worker threads per packet */
        o.threads = 3;
        assert_int_equal(vb_video_open(&v, g_v[i].path, &o), VB_OK);
        memset(b, 0, fsz * (size_t)n);
        assert_int_equal(vb_video_read_frames(&v, idx, n, b, NULL, &sb), VB_OK);
        assert_memory_equal(a, b, fsz * (size_t)n);
        vb_video_close(&v);
        o.threads = 1;
        free(a);
        free(b);
    }
}

static void test_bicubic_and_provenance(void ** state) {
    (void)state;
    struct vb_video_opts o;
    vb_video_opts_default(&o);
    char buf[512];
    vb_video_provenance(&o, buf, sizeof buf);
    assert_non_null(strstr(buf, "libswscale "));
    assert_non_null(strstr(buf, "flags=bilinear(0x2)"));
    assert_non_null(strstr(buf, "out=224x224"));
    o.interp = VB_VIDEO_BICUBIC;
    o.out_w = 112;
    o.out_h = 160;
    vb_video_provenance(&o, buf, sizeof buf);
    assert_non_null(strstr(buf, "flags=bicubic(0x4)"));
    enum vb_video_interp it;
    assert_int_equal(vb_video_interp_parse("bicubic", &it), VB_OK);
    assert_int_equal(it, VB_VIDEO_BICUBIC);
    assert_int_equal(vb_video_interp_parse("lanczos", &it), VB_ERR_ARG);
    struct vb_video v;
    assert_int_equal(vb_video_open(&v, g_v[0].path, &o), VB_OK);
    int64_t idx[] = {0, 13, 57, 99};
    check_frames(&v, idx, 4, 0);
    check_frames(&v, idx, 4, 1);
    vb_video_close(&v);
}

static void test_segment_frames(void ** state) {
    (void)state;
    struct vb_video v;
    assert_int_equal(vb_video_open(&v, g_v[0].path, NULL), VB_OK); /* 25 fps, 100 frames */
    int64_t a, b;
    assert_int_equal(vb_video_segment_frames(&v, 1.0, 2.0, &a, &b), VB_OK);
    assert_int_equal(a, 25);
    assert_int_equal(b, 50);
    assert_int_equal(vb_video_segment_frames(&v, 0.079, 3.999, &a, &b), VB_OK); /* truncation: 1.975 -> 1, 99.97 */
    assert_int_equal(a, 1);
    assert_int_equal(b, 99);
    assert_int_equal(vb_video_segment_frames(&v, 2.5, 60.0, &a, &b), VB_OK); /* end clamped to vlen */
    assert_int_equal(a, 62);
    assert_int_equal(b, 100);
    assert_int_equal(vb_video_segment_frames(&v, -1, -1, &a, &b), VB_OK);
    assert_int_equal(a, 0);
    assert_int_equal(b, 100);
    int64_t bad = 100;
    uint8_t px[224 * 224 * 3];
    assert_int_equal(vb_video_read_frames(&v, &bad, 1, px, NULL, NULL), VB_ERR_NOTFOUND);
    bad = -1;
    assert_int_equal(vb_video_read_frames(&v, &bad, 1, px, NULL, NULL), VB_ERR_NOTFOUND);
    vb_video_close(&v);
}

static void test_normalize(void ** state) {
    (void)state;
    uint8_t rgb[2 * 3 * 3];
    for (int i = 0; i < 18; i++)
        rgb[i] = (uint8_t)(i * 15);
    float out[3 * 6];
    vb_video_normalize_clip(rgb, 2, 3, out);
    const double mean[3] = {0.48145466, 0.4578275, 0.40821073}, sd[3] = {0.26862954, 0.26130258, 0.27577711};
    for (int c = 0; c < 3; c++)
        for (int p = 0; p < 6; p++) {
            double want = (rgb[p * 3 + c] / 255.0 - mean[c]) / sd[c];
            assert_true(fabs(out[c * 6 + p] - want) < 1e-5);
        }
    /* white red channel: (1 - 0.48145466) / 0.26862954 = 1.9303361 */
    uint8_t w[3] = {255, 0, 0};
    float   o3[3];
    vb_video_normalize_clip(w, 1, 1, o3);
    assert_true(fabs(o3[0] - 1.9303361) < 1e-5);
    assert_true(fabs(o3[1] - (-0.4578275 / 0.26130258)) < 1e-5);
}

static int write_file(const char * path, const void * data, size_t n) {
    FILE * f = fopen(path, "wb");
    if (!f) return -1;
    if (n) fwrite(data, 1, n, f);
    return fclose(f);
}

/* open + read every frame; must return a clean status, never crash */
static int try_video(const char * path) {
    struct vb_video v;
    int             rc = vb_video_open(&v, path, NULL);
    if (rc != VB_OK) {
        assert_true(strlen(vb_errmsg()) > 0);
        assert_non_null(strstr(vb_errmsg(), path));
        return rc;
    }
    int64_t   n = v.n_frames;
    int64_t * idx = malloc(sizeof *idx * (size_t)n);
    uint8_t * out = malloc((size_t)n * 224 * 224 * 3);
    for (int64_t i = 0; i < n; i++)
        idx[i] = n - 1 - i;
    rc = vb_video_read_frames(&v, idx, (int32_t)n, out, NULL, NULL);
    if (rc != VB_OK) assert_int_equal(rc, VB_ERR_VIDEO);
    free(idx);
    free(out);
    vb_video_close(&v);
    return rc;
}

static void test_bad_files(void ** state) {
    (void)state;
    char bad[600];
    snprintf(bad, sizeof bad, "%s/bad.mp4", g_dir);
    assert_int_equal(try_video("/nonexistent/dir/x.mp4"), VB_ERR_IO);
    assert_int_equal(write_file(bad, "", 0), 0);
    assert_int_equal(try_video(bad), VB_ERR_VIDEO);
    assert_non_null(strstr(vb_errmsg(), "empty"));
    uint8_t  junk[4096];
    uint64_t s = 42;
    for (size_t i = 0; i < sizeof junk; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        junk[i] = (uint8_t)(s >> 56);
    }
    assert_int_equal(write_file(bad, junk, sizeof junk), 0);
    assert_int_equal(try_video(bad), VB_ERR_VIDEO);
    assert_int_equal(try_video(g_dir), VB_ERR_VIDEO); /* a directory */
    /* truncations of a real file at several points: error or fewer frames, never a crash */
    char * data;
    size_t len;
    assert_int_equal(vb_read_file(g_v[0].path, &data, &len), VB_OK);
    static const double CUT[] = {0.02, 0.1, 0.3, 0.5, 0.8, 0.97};
    int                 n_fail = 0;
    for (size_t c = 0; c < sizeof CUT / sizeof CUT[0]; c++) {
        assert_int_equal(write_file(bad, data, (size_t)(len * CUT[c])), 0);
        int rc = try_video(bad);
        n_fail += rc != VB_OK;
        if (rc == VB_OK) { /* whatever is indexed decodes: frames are a prefix */
            struct vb_video v;
            assert_int_equal(vb_video_open(&v, bad, NULL), VB_OK);
            assert_true(v.n_frames <= g_v[0].spec.n_frames);
            vb_video_close(&v);
        }
    }
    assert_true(n_fail >= 1); /* at least the 2 % cut (moov only partly there) cannot open */
    /* random byte mutations anywhere (the index sits at the front of these files): a clean status every time */
    uint64_t z = 7;
    for (int it = 0; it < 40; it++) {
        char * m = malloc(len);
        memcpy(m, data, len);
        int nmut = 1 + it % 8;
        for (int k = 0; k < nmut; k++) {
            z = z * 6364136223846793005ull + 1442695040888963407ull;
            size_t pos = (size_t)(z >> 33) % (it < 20 ? (len < 4096 ? len : 4096) : len);
            z = z * 6364136223846793005ull + 1442695040888963407ull;
            m[pos] = (char)(z >> 56);
        }
        assert_int_equal(write_file(bad, m, len), 0);
        free(m);
        int r2 = try_video(bad);
        assert_true(r2 == VB_OK || r2 == VB_ERR_VIDEO || r2 == VB_ERR_UNSUPPORTED);
    }
    /* garbage in the middle of the media data: decodes with corrupt frames or fails cleanly */
    for (size_t k = len / 2; k < len / 2 + 2000 && k < len; k++)
        data[k] = (char)junk[k % sizeof junk];
    assert_int_equal(write_file(bad, data, len), 0);
    int rc = try_video(bad);
    assert_true(rc == VB_OK || rc == VB_ERR_VIDEO);
    free(data);
}

/* Copy the packets of in into another container (no re-encoding): different time bases and start times. */
static int remux_shift(const char * in, const char * out, const char * fmt, int shift_frames) {
    AVFormatContext *ic = NULL, *oc = NULL;
    AVPacket *       pkt = av_packet_alloc();
    int              r = avformat_open_input(&ic, in, NULL, NULL);
    if (r >= 0) r = avformat_find_stream_info(ic, NULL);
    if (r >= 0) r = avformat_alloc_output_context2(&oc, NULL, fmt, out);
    AVStream * os = NULL;
    if (r >= 0) {
        os = avformat_new_stream(oc, NULL);
        r = avcodec_parameters_copy(os->codecpar, ic->streams[0]->codecpar);
        os->codecpar->codec_tag = 0;
        os->time_base = strcmp(fmt, "avi") ? ic->streams[0]->time_base : av_inv_q(ic->streams[0]->avg_frame_rate);
        os->avg_frame_rate = ic->streams[0]->avg_frame_rate;
        os->r_frame_rate = ic->streams[0]->r_frame_rate;
    }
    if (r >= 0 && !(oc->oformat->flags & AVFMT_NOFILE)) r = avio_open(&oc->pb, out, AVIO_FLAG_WRITE);
    if (r >= 0) r = avformat_write_header(oc, NULL);
    while (r >= 0 && av_read_frame(ic, pkt) >= 0) {
        if (shift_frames) { /* timestamps before 0: the MP4 muxer writes an edit list that hides those frames */
            int64_t d = av_rescale_q(shift_frames, av_inv_q(ic->streams[0]->avg_frame_rate), ic->streams[0]->time_base);
            pkt->pts -= d;
            pkt->dts -= d;
        }
        av_packet_rescale_ts(pkt, ic->streams[0]->time_base, os->time_base);
        pkt->stream_index = 0;
        pkt->pos = -1;
        r = av_interleaved_write_frame(oc, pkt);
        av_packet_unref(pkt);
    }
    if (r >= 0) r = av_write_trailer(oc);
    if (r < 0) {
        char e[128];
        av_strerror(r, e, sizeof e);
        fprintf(stderr, "remux %s -> %s (%s): %s\n", in, out, fmt, e);
    }
    if (oc && oc->pb) avio_closep(&oc->pb);
    avformat_free_context(oc);
    avformat_close_input(&ic);
    av_packet_free(&pkt);
    return r;
}

static int remux(const char * in, const char * out, const char * fmt) {
    return remux_shift(in, out, fmt, 0);
}

/* An MP4 whose edit list starts at frame 5 of the stream (as `ffmpeg -ss T -c copy` writes): the 5 frames before
** are decoded (references) but not shown, so shown frame k is stream frame k + 5 (also what ffprobe -count_frames
** counts). */
static void test_edit_list(void ** state) {
    (void)state;
    for (int vi = 0; vi < 2; vi++) {
        const struct tv * src = &g_v[vi]; /* gop 12 bframes 2; gop 30 bframes 3 (first keyframe is then discarded) */
        char              out[600];
        snprintf(out, sizeof out, "%s/edit.mp4", g_dir);
        assert_true(remux_shift(src->path, out, "mp4", 5) >= 0);
        struct vb_video v;
        assert_int_equal(vb_video_open(&v, out, NULL), VB_OK);
        assert_int_equal(v.n_frames, src->spec.n_frames - 5);
        size_t    fsz = 224 * 224 * 3;
        int64_t   idx[] = {0, 1, 6, 7, src->spec.gop - 6, src->spec.gop - 5, src->spec.gop - 4, v.n_frames - 1, 3, 0};
        int32_t   n = (int32_t)(sizeof idx / sizeof idx[0]);
        uint8_t * px = malloc(fsz * (size_t)n);
        assert_int_equal(vb_video_read_frames(&v, idx, n, px, NULL, NULL), VB_OK);
        for (int32_t i = 0; i < n; i++)
            assert_int_equal(vb_synth_read_index(px + (size_t)i * fsz, 224, 224), idx[i] + 5);
        for (int64_t f = v.n_frames - 1; f >= 0; f -= 5) {
            assert_int_equal(vb_video_read_frames(&v, &f, 1, px, NULL, NULL), VB_OK);
            assert_int_equal(vb_synth_read_index(px, 224, 224), f + 5);
        }
        assert_int_equal(v.stats.n_retries, 0);
        free(px);
        vb_video_close(&v);
        unlink(out);
    }
}

/* the same streams in Matroska (1 ms time base), MPEG-TS (90 kHz, non-zero start time), AVI (no pts, B-frames)
** and raw H.264 (no container timestamps): frame N is still frame N, from the pixels */
static void test_containers(void ** state) {
    (void)state;
    /* H.264 (29.97 fps gop 30 bframes 3; 25 fps gop 12) into Matroska, MPEG-TS and raw Annex B; MPEG-4 part 2 with
    ** B-frames into AVI (dts only: the classic Xvid file) and Matroska */
    static const struct {
        int         src;
        const char *fmt, *ext;
    } C[] = {{1, "matroska", "mkv"}, {1, "mpegts", "ts"}, {1, "h264", "h264"}, {0, "matroska", "mkv"},
             {0, "mpegts", "ts"},    {0, "h264", "h264"}, {5, "avi", "avi"},   {5, "matroska", "mkv"}};
    for (size_t c = 0; c < sizeof C / sizeof C[0]; c++) {
        const struct tv * src = &g_v[C[c].src];
        char              out[600];
        snprintf(out, sizeof out, "%s/remux.%s", g_dir, C[c].ext);
        assert_true(remux(src->path, out, C[c].fmt) >= 0);
        struct vb_video v;
        int             rc = vb_video_open(&v, out, NULL);
        if (rc != VB_OK) fprintf(stderr, "%s\n", vb_errmsg());
        assert_int_equal(rc, VB_OK);
        fprintf(stderr, "%s (%s): %lld frames, fps %.4f, timestamps %d, keyframes %d\n", C[c].fmt, src->name,
                (long long)v.n_frames, v.fps, v.has_timestamps, v.n_keyframes);
        assert_int_equal(v.n_frames, src->spec.n_frames);
        assert_true(fabs(v.fps - (double)src->spec.fps_num / src->spec.fps_den) < 1e-3);
        int64_t idx[12];
        int32_t n = vb_sampling_indices(VB_SAMPLING_UNIFORM_MIDBIN, 0, v.n_frames, v.n_frames, 12, idx);
        check_frames(&v, idx, n, 0);
        int64_t back[] = {v.n_frames - 1, 0, src->spec.gop, src->spec.gop - 1, 2};
        check_frames(&v, back, 5, 0);
        assert_int_equal(v.stats.n_retries, 0);
        vb_video_close(&v);
        unlink(out);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_metadata),
        cmocka_unit_test(test_policies_exact),
        cmocka_unit_test(test_seek_gop_boundaries),
        cmocka_unit_test(test_bitexact_and_work),
        cmocka_unit_test(test_bicubic_and_provenance),
        cmocka_unit_test(test_segment_frames),
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_containers),
        cmocka_unit_test(test_edit_list),
    };
    return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
