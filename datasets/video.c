/* video.c — exact sparse decoding (see video.h for the model: pts index at open, keyframe seeks, NONREF skipping). */
#include "datasets/video.h"

#include "base/common.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libavutil/log.h>
#include <libswscale/swscale.h>

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

struct vpriv {
    AVFormatContext *   fmt;
    AVCodecContext *    dec;
    int                 si;  /* video stream index */
    AVPacket *          pkt; /* read buffer; valid when have_pending */
    AVFrame *           frame;
    struct SwsContext * sws;
    int64_t *           pts;        /* (n_frames) presentation timestamps in display order (sorted), stream time base */
    int64_t *           kf;         /* (n_kf) display indices of keyframes, ascending */
    int64_t *           kf_pts;     /* (n_kf) */
    int64_t *           kf_dts;     /* (n_kf) AV_NOPTS_VALUE when unknown */
    int                 seekable;   /* timestamps and keyframes known */
    int                 positioned; /* decoder mid-stream: cur is meaningful */
    int64_t             cur;        /* display index of the last frame the decoder returned (or first-1 after a seek) */
    int                 eof_sent;   /* NULL packet sent: the decoder is draining */
    int                 drained_early; /* ... because of drain_at, not the end of the file: it cannot continue */
    int                 have_pending;  /* pkt holds a packet read after a seek but not yet sent */
    int64_t             count_out;     /* frames returned since the last reopen (timestamp-less streams) */
    int64_t sent_dts;    /* dts of the last packet sent to the decoder since the last seek (AV_NOPTS_VALUE: none) */
    int64_t drain_at;    /* display index after whose packet the decoder is drained (-1: never) */
    int64_t skip_hi;     /* highest display index sent with AVDISCARD_NONREF since the last seek */
    const int64_t * tgt; /* sorted unique targets still to deliver (for the skip decision) */
    int32_t         n_tgt;
};

/* ---------------------------------------------------------------------------------------------------------------- */
/* small helpers                                                                                                      */

static void set_av_log(void) {
    int lvl = AV_LOG_QUIET;
    if (vb_log_level_cur >= VB_LOG_DEBUG) lvl = AV_LOG_WARNING;
    if (vb_log_level_cur > VB_LOG_DEBUG) lvl = AV_LOG_DEBUG;
    av_log_set_level(lvl);
}

static int av_fail(int st, const char * path, const char * what, int averr) {
    char e[AV_ERROR_MAX_STRING_SIZE];
    av_strerror(averr, e, sizeof e);
    return vb_fail(st, "%s: %s: %s", path, what, e);
}

static int cmp_i64(const void * a, const void * b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* index of ts in sorted a[0..n-1], or -1 */
static int64_t find_i64(const int64_t * a, int64_t n, int64_t ts) {
    int64_t lo = 0, hi = n - 1;
    while (lo <= hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (a[mid] == ts) return mid;
        if (a[mid] < ts)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

void vb_video_opts_default(struct vb_video_opts * o) {
    memset(o, 0, sizeof *o);
    o->out_w = 224;
    o->out_h = 224;
    o->interp = VB_VIDEO_BILINEAR;
    o->threads = 1;
    o->skip_nonref = 1;
}

const char * vb_video_interp_name(enum vb_video_interp i) {
    return i == VB_VIDEO_BICUBIC ? "bicubic" : i == VB_VIDEO_BILINEAR ? "bilinear" : "?";
}

int vb_video_interp_parse(const char * s, enum vb_video_interp * i) {
    if (s && !strcmp(s, "bilinear"))
        *i = VB_VIDEO_BILINEAR;
    else if (s && !strcmp(s, "bicubic"))
        *i = VB_VIDEO_BICUBIC;
    else
        return vb_fail(VB_ERR_ARG, "unknown interpolation '%s' (bilinear, bicubic)", s ? s : "(null)");
    return VB_OK;
}

static int sws_flags_of(enum vb_video_interp i) {
    return i == VB_VIDEO_BICUBIC ? SWS_BICUBIC : SWS_BILINEAR;
}

const char * vb_video_provenance(const struct vb_video_opts * opts, char * buf, size_t n) {
    struct vb_video_opts d;
    if (!opts) {
        vb_video_opts_default(&d);
        opts = &d;
    }
    unsigned s = swscale_version(), c = avcodec_version(), f = avformat_version();
    snprintf(buf, n,
             "libswscale %u.%u.%u flags=%s(0x%x) out=%dx%d rgb24 squash, matrix/range from frame tags "
             "(untagged: bt601 limited); libavcodec %u.%u.%u; libavformat %u.%u.%u",
             AV_VERSION_MAJOR(s), AV_VERSION_MINOR(s), AV_VERSION_MICRO(s), vb_video_interp_name(opts->interp),
             (unsigned)sws_flags_of(opts->interp), opts->out_w, opts->out_h, AV_VERSION_MAJOR(c), AV_VERSION_MINOR(c),
             AV_VERSION_MICRO(c), AV_VERSION_MAJOR(f), AV_VERSION_MINOR(f), AV_VERSION_MICRO(f));
    return buf;
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* opening                                                                                                            */

static void close_input(struct vpriv * p) {
    if (p->dec) avcodec_free_context(&p->dec);
    if (p->fmt) avformat_close_input(&p->fmt);
    p->positioned = 0;
    p->have_pending = 0;
    p->eof_sent = 0;
    p->drained_early = 0;
    if (p->pkt) av_packet_unref(p->pkt);
}

/* (Re)open the container and the decoder; the demuxer is at the start of the file afterwards. */
static int open_input(struct vb_video * v) {
    struct vpriv * p = v->priv;
    close_input(p);
    int r = avformat_open_input(&p->fmt, v->path, NULL, NULL);
    if (r < 0) return av_fail(VB_ERR_VIDEO, v->path, "cannot open as a video", r);
    r = avformat_find_stream_info(p->fmt, NULL);
    if (r < 0) return av_fail(VB_ERR_VIDEO, v->path, "cannot read stream info", r);
    const AVCodec * codec = NULL;
    r = av_find_best_stream(p->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    if (r < 0 || !codec)
        return av_fail(VB_ERR_VIDEO, v->path, "no decodable video stream", r < 0 ? r : AVERROR_DECODER_NOT_FOUND);
    p->si = r;
    for (unsigned i = 0; i < p->fmt->nb_streams; i++)
        if ((int)i != p->si) p->fmt->streams[i]->discard = AVDISCARD_ALL;
    AVStream * st = p->fmt->streams[p->si];
    p->dec = avcodec_alloc_context3(codec);
    if (!p->dec) return vb_fail(VB_ERR_NOMEM, "%s: cannot allocate decoder", v->path);
    r = avcodec_parameters_to_context(p->dec, st->codecpar);
    if (r < 0) return av_fail(VB_ERR_VIDEO, v->path, "bad codec parameters", r);
    p->dec->thread_count = v->opts.threads;
    p->dec->pkt_timebase = st->time_base;
    r = avcodec_open2(p->dec, codec, NULL);
    if (r < 0) return av_fail(VB_ERR_VIDEO, v->path, "cannot open decoder", r);
    snprintf(v->codec, sizeof v->codec, "%s", codec->name);
    p->positioned = 1; /* at the start of the file */
    p->sent_dts = AV_NOPTS_VALUE;
    p->cur = -1;
    p->skip_hi = -1;
    p->count_out = 0;
    return VB_OK;
}

/* first index i with a[i] >= ts in sorted a[0..n-1] (n if none) */
static int64_t lower_bound_i64(const int64_t * a, int64_t n, int64_t ts) {
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (a[mid] < ts)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int cmp_pair(const void * a, const void * b) { /* (display index, pts) pairs */
    const int64_t *x = a, *y = b;
    if (x[0] != y[0]) return (x[0] > y[0]) - (x[0] < y[0]);
    return (x[1] > y[1]) - (x[1] < y[1]);
}

/* Read every packet of the video stream (no decoding) and build the pts index and keyframe list.  Packets flagged
** AV_PKT_FLAG_DISCARD (before the start of an MP4 edit list) are decoded but never shown, so they get no frame
** number; a discarded keyframe still serves as a seek point for the first shown frames after it. */
static int build_index(struct vb_video * v) {
    struct vpriv * p = v->priv;
    int64_t        cap = 1024, n = 0, ns = 0, nk = 0;
    int64_t *      pts = vb_malloc((size_t)cap * sizeof *pts);
    int64_t *      dts = vb_malloc((size_t)cap * sizeof *dts);
    uint8_t *      flg = vb_malloc((size_t)cap); /* bit 0 key, bit 1 discard */
    int            missing = 0, reordered = 0, last_r = 0;
    for (;;) {
        int r = av_read_frame(p->fmt, p->pkt);
        if (r < 0) { /* EOF, or a read error of a truncated file (checked below) */
            last_r = r;
            break;
        }
        if (p->pkt->stream_index == p->si && p->pkt->size > 0) {
            if (n == cap) {
                cap *= 2;
                pts = vb_realloc(pts, (size_t)cap * sizeof *pts);
                dts = vb_realloc(dts, (size_t)cap * sizeof *dts);
                flg = vb_realloc(flg, (size_t)cap);
            }
            int64_t t = p->pkt->pts != AV_NOPTS_VALUE ? p->pkt->pts : p->pkt->dts;
            if (t == AV_NOPTS_VALUE) missing = 1;
            if (p->pkt->pts != AV_NOPTS_VALUE && p->pkt->dts != AV_NOPTS_VALUE && p->pkt->pts != p->pkt->dts)
                reordered = 1;
            pts[n] = t;
            dts[n] = p->pkt->dts;
            flg[n] = (uint8_t)(((p->pkt->flags & AV_PKT_FLAG_KEY) ? 1 : 0) |
                               ((p->pkt->flags & AV_PKT_FLAG_DISCARD) ? 2 : 0));
            nk += flg[n] & 1;
            ns += !(flg[n] & 2);
            n++;
        }
        av_packet_unref(p->pkt);
    }
    p->positioned = 0; /* the demuxer is at the end */
    v->n_frames = ns;
    /* a file that ends (or fails to read) before the frames its container lists is truncated or damaged: an error,
    ** never a shorter video (uniform picks over what is left would silently move) */
    if (ns > 0 && v->n_frames_container > 0 && n < v->n_frames_container) {
        free(pts);
        free(dts);
        free(flg);
        return vb_fail(VB_ERR_VIDEO,
                       "%s: truncated or damaged: the container says %lld frames, only %lld could be read", v->path,
                       (long long)v->n_frames_container, (long long)n);
    }
    if (ns > 0 && last_r != AVERROR_EOF) {
        char e[AV_ERROR_MAX_STRING_SIZE];
        av_strerror(last_r, e, sizeof e);
        free(pts);
        free(dts);
        free(flg);
        return vb_fail(VB_ERR_VIDEO, "%s: truncated or damaged: read error after %lld frames: %s", v->path,
                       (long long)n, e);
    }
    if (ns == 0) {
        free(pts);
        free(dts);
        free(flg);
        return vb_fail(VB_ERR_VIDEO, "%s: no video frames could be read", v->path);
    }
    p->pts = vb_malloc((size_t)ns * sizeof *p->pts);
    for (int64_t i = 0, k = 0; i < n; i++)
        if (!(flg[i] & 2)) p->pts[k++] = pts[i];
    v->has_timestamps = !missing;
    /* B-frames but every pts equal to its dts (AVI, packed MPEG-4): the "pts" are decode-order counters, not display
    ** times, so display order must come from counting decoder outputs */
    if (!reordered && p->fmt->streams[p->si]->codecpar->video_delay > 0) v->has_timestamps = 0;
    if (ns != n && !v->has_timestamps) { /* cannot number shown frames without timestamps */
        free(pts);
        free(dts);
        free(flg);
        return vb_fail(VB_ERR_UNSUPPORTED, "%s: edit list without usable timestamps", v->path);
    }
    if (v->has_timestamps) {
        qsort(p->pts, (size_t)ns, sizeof *p->pts, cmp_i64);
        for (int64_t i = 1; i < ns; i++)
            if (p->pts[i] == p->pts[i - 1]) v->has_timestamps = 0; /* duplicate pts: display order is ambiguous */
    }
    int64_t k = 0;
    if (v->has_timestamps && nk > 0) {
        int64_t * pr = vb_malloc((size_t)nk * 3 * sizeof *pr); /* (display index, pts, dts) */
        for (int64_t i = 0; i < n; i++) {
            if (!(flg[i] & 1)) continue;
            int64_t d = lower_bound_i64(p->pts, ns, pts[i]); /* a discarded keyframe: first shown frame after it */
            if (d >= ns) continue;
            pr[3 * k] = d, pr[3 * k + 1] = pts[i], pr[3 * k + 2] = dts[i];
            k++;
        }
        qsort(pr, (size_t)k, 3 * sizeof *pr, cmp_pair);
        p->kf = vb_malloc((size_t)(k ? k : 1) * sizeof *p->kf);
        p->kf_pts = vb_malloc((size_t)(k ? k : 1) * sizeof *p->kf_pts);
        p->kf_dts = vb_malloc((size_t)(k ? k : 1) * sizeof *p->kf_dts);
        for (int64_t i = 0; i < k; i++)
            p->kf[i] = pr[3 * i], p->kf_pts[i] = pr[3 * i + 1], p->kf_dts[i] = pr[3 * i + 2];
        free(pr);
    }
    v->n_keyframes = (int32_t)(v->has_timestamps ? k : nk);
    p->seekable = v->has_timestamps && k > 0;
    free(pts);
    free(dts);
    free(flg);
    return VB_OK;
}

int vb_video_open(struct vb_video * v, const char * path, const struct vb_video_opts * opts) {
    memset(v, 0, sizeof *v);
    set_av_log();
    if (opts)
        v->opts = *opts;
    else
        vb_video_opts_default(&v->opts);
    if (v->opts.out_w <= 0 || v->opts.out_h <= 0 || v->opts.out_w > 16384 || v->opts.out_h > 16384)
        return vb_fail(VB_ERR_ARG, "video: bad output size %dx%d", v->opts.out_w, v->opts.out_h);
    if (v->opts.threads <= 0) v->opts.threads = 1;
    struct stat sb;
    if (stat(path, &sb) != 0) return vb_fail(VB_ERR_IO, "%s: %s", path, strerror(errno));
    if (!S_ISREG(sb.st_mode)) return vb_fail(VB_ERR_VIDEO, "%s: not a regular file", path);
    if (sb.st_size == 0) return vb_fail(VB_ERR_VIDEO, "%s: empty file (0 bytes)", path);
    v->path = vb_strdup(path);
    struct vpriv * p = vb_calloc(1, sizeof *p);
    v->priv = p;
    p->pkt = av_packet_alloc();
    p->frame = av_frame_alloc();
    if (!p->pkt || !p->frame) {
        vb_video_close(v);
        return vb_fail(VB_ERR_NOMEM, "%s: cannot allocate packet/frame", path);
    }
    int rc = open_input(v);
    if (rc == VB_OK) {
        AVStream * st = p->fmt->streams[p->si];
        v->width = st->codecpar->width;
        v->height = st->codecpar->height;
        if (v->width <= 0 || v->height <= 0) rc = vb_fail(VB_ERR_VIDEO, "%s: video stream has no picture size", path);
        AVRational fr = st->avg_frame_rate;
        if (fr.num <= 0 || fr.den <= 0) fr = st->r_frame_rate;
        v->fps = (fr.num > 0 && fr.den > 0) ? av_q2d(fr) : 0;
        v->n_frames_container = st->nb_frames > 0 ? st->nb_frames : 0;
        if (st->duration != AV_NOPTS_VALUE && st->duration > 0)
            v->duration_s = (double)st->duration * av_q2d(st->time_base);
        else if (p->fmt->duration != AV_NOPTS_VALUE && p->fmt->duration > 0)
            v->duration_s = (double)p->fmt->duration / AV_TIME_BASE;
        if (v->duration_s > 0 && v->fps > 0) v->n_frames_estimate = (int64_t)(v->duration_s * v->fps + 0.5);
    }
    if (rc == VB_OK) rc = build_index(v);
    if (rc == VB_OK && v->fps <= 0) {
        if (v->duration_s > 0)
            v->fps = (double)v->n_frames / v->duration_s;
        else
            rc = vb_fail(VB_ERR_VIDEO, "%s: frame rate unknown (no frame rate and no duration)", path);
    }
    if (rc != VB_OK) {
        char keep[1024];
        snprintf(keep, sizeof keep, "%s", vb_errmsg());
        vb_video_close(v);
        return vb_fail(rc, "%s", keep);
    }
    if (v->n_frames_container && v->n_frames_container != v->n_frames)
        vb_log(VB_LOG_INFO, "%s: container says %lld frames, index has %lld", path, (long long)v->n_frames_container,
               (long long)v->n_frames);
    return VB_OK;
}

void vb_video_close(struct vb_video * v) {
    struct vpriv * p = v->priv;
    if (p) {
        close_input(p);
        av_packet_free(&p->pkt);
        av_frame_free(&p->frame);
        sws_freeContext(p->sws);
        free(p->pts);
        free(p->kf);
        free(p->kf_pts);
        free(p->kf_dts);
        free(p);
    }
    free(v->path);
    memset(v, 0, sizeof *v);
}

int vb_video_segment_frames(const struct vb_video * v, double start_s, double end_s, int64_t * f0, int64_t * f1) {
    if (!(v->fps > 0)) return vb_fail(VB_ERR_ARG, "%s: no frame rate", v->path ? v->path : "video");
    if (start_s < 0 || end_s < 0) {
        *f0 = 0;
        *f1 = v->n_frames;
        return VB_OK;
    }
    int64_t s = (int64_t)(start_s * v->fps), e = (int64_t)(end_s * v->fps);
    *f0 = s < 0 ? 0 : s;
    *f1 = e > v->n_frames ? v->n_frames : e;
    return VB_OK;
}

int64_t vb_video_keyframe_before(const struct vb_video * v, int64_t f) {
    const struct vpriv * p = v->priv;
    if (!p || !p->seekable || f < 0 || f >= v->n_frames) return -1;
    int64_t lo = 0, hi = v->n_keyframes - 1, best = -1;
    while (lo <= hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (p->kf[mid] <= f) {
            best = mid;
            lo = mid + 1;
        } else
            hi = mid - 1;
    }
    return best < 0 ? -1 : p->kf[best];
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* decoding                                                                                                           */

/* display index of a timestamp, -1 if it is not in the index */
static int64_t idx_of_ts(const struct vb_video * v, int64_t ts) {
    const struct vpriv * p = v->priv;
    if (ts == AV_NOPTS_VALUE) return -1;
    return find_i64(p->pts, v->n_frames, ts);
}

static int is_target(const struct vpriv * p, int64_t d) {
    return d >= 0 && find_i64(p->tgt, p->n_tgt, d) >= 0;
}

/* Send the next packet of the video stream (or the drain signal at the end). Returns VB_OK or an error. */
static int feed(struct vb_video * v) {
    struct vpriv * p = v->priv;
    if (!p->have_pending) {
        for (;;) {
            int r = av_read_frame(p->fmt, p->pkt);
            if (r < 0) { /* end of file, or the read error of a truncated file: drain */
                p->eof_sent = 1;
                r = avcodec_send_packet(p->dec, NULL);
                return (r < 0 && r != AVERROR_EOF) ? av_fail(VB_ERR_VIDEO, v->path, "decoder drain", r) : VB_OK;
            }
            if (p->pkt->stream_index == p->si && p->pkt->size > 0) break;
            av_packet_unref(p->pkt);
        }
    }
    p->have_pending = 0;
    enum AVDiscard skip = AVDISCARD_DEFAULT;
    int64_t        d = -1;
    if (v->has_timestamps) d = idx_of_ts(v, p->pkt->pts != AV_NOPTS_VALUE ? p->pkt->pts : p->pkt->dts);
    if (v->opts.skip_nonref && v->has_timestamps && p->tgt) {
        if (!is_target(p, d)) {
            skip = AVDISCARD_NONREF;
            if (d > p->skip_hi) p->skip_hi = d;
        }
    }
    p->dec->skip_frame = skip;
    if (p->pkt->dts != AV_NOPTS_VALUE) p->sent_dts = p->pkt->dts;
    int r = avcodec_send_packet(p->dec, p->pkt);
    av_packet_unref(p->pkt);
    v->stats.n_packets++;
    if (r < 0 && r != AVERROR(EAGAIN)) v->stats.n_corrupt++; /* damaged packet: keep going */
    if (d >= 0 && d == p->drain_at) {
        /* the target is in the decoder and the next target needs a seek anyway: drain instead of feeding the
        ** packets the decoder's reorder delay would otherwise want (saves ~has_b_frames frames per seek) */
        p->eof_sent = 1;
        p->drained_early = 1;
        r = avcodec_send_packet(p->dec, NULL);
        if (r < 0 && r != AVERROR_EOF) return av_fail(VB_ERR_VIDEO, v->path, "decoder drain", r);
    }
    return VB_OK;
}

/* Next decoded frame into p->frame with its display index in *fi (-1 if unknown).  Returns 1, 0 at end of stream,
** or a negative vb_status. */
static int next_frame(struct vb_video * v, int64_t * fi) {
    struct vpriv * p = v->priv;
    for (int n_err = 0;;) {
        int r = avcodec_receive_frame(p->dec, p->frame);
        if (r == 0) {
            v->stats.n_decoded++;
            if (p->frame->decode_error_flags || (p->frame->flags & AV_FRAME_FLAG_CORRUPT)) v->stats.n_corrupt++;
            if (v->has_timestamps) {
                int64_t ts = p->frame->best_effort_timestamp;
                if (ts == AV_NOPTS_VALUE) ts = p->frame->pts;
                *fi = idx_of_ts(v, ts);
            } else {
                *fi = p->count_out;
            }
            p->count_out++;
            return 1;
        }
        if (r == AVERROR_EOF) return 0;
        if (r != AVERROR(EAGAIN)) {
            v->stats.n_corrupt++;
            if (++n_err > 100) return av_fail(VB_ERR_VIDEO, v->path, "decoder keeps failing", r);
            continue; /* a decoder error is reported once; the next call normally asks for input again */
        }
        if (p->eof_sent) return 0;
        int rc = feed(v);
        if (rc != VB_OK) return rc;
    }
}

/* Before a flush: collect the frames the decoder has already decoded but not returned (reorder delay, or the rest
** after a drain), so n_decoded counts decode work, not just deliveries.  With one thread every sent packet is decoded
** at once, so this adds no decoding; with frame threads it completes frames already in flight. */
static void collect_buffered(struct vb_video * v) {
    struct vpriv * p = v->priv;
    if (!p->dec || !p->positioned) return;
    if (!p->eof_sent && avcodec_send_packet(p->dec, NULL) < 0) return;
    p->eof_sent = 1;
    while (avcodec_receive_frame(p->dec, p->frame) == 0) {
        v->stats.n_decoded++;
        av_frame_unref(p->frame);
    }
}

static int reopen(struct vb_video * v) {
    collect_buffered(v);
    int rc = open_input(v);
    v->stats.n_seeks++;
    v->stats.n_reopens++;
    return rc;
}

/* Position the decoder at keyframe number ki (or an earlier one). */
static int seek_kf(struct vb_video * v, int64_t ki) {
    struct vpriv * p = v->priv;
    int64_t        want = p->kf[ki];
    /* candidates: this keyframe's pts, its dts (containers that index by dts), then two earlier keyframes */
    int64_t cand[4];
    int     nc = 0;
    cand[nc++] = p->kf_pts[ki];
    if (p->kf_dts[ki] != AV_NOPTS_VALUE && p->kf_dts[ki] < p->kf_pts[ki]) cand[nc++] = p->kf_dts[ki];
    for (int64_t j = ki - 1; j >= 0 && j >= ki - 2; j--)
        cand[nc++] = p->kf_dts[j] != AV_NOPTS_VALUE ? VB_MIN(p->kf_dts[j], p->kf_pts[j]) : p->kf_pts[j];
    collect_buffered(v);
    if (p->fmt) {
        for (int c = 0; c < nc; c++) {
            p->positioned = 0;
            p->have_pending = 0;
            p->eof_sent = 0;
            p->drained_early = 0;
            avcodec_flush_buffers(p->dec);
            v->stats.n_seeks++;
            if (av_seek_frame(p->fmt, p->si, cand[c], AVSEEK_FLAG_BACKWARD) < 0) continue;
            int r;
            while ((r = av_read_frame(p->fmt, p->pkt)) >= 0) {
                if (p->pkt->stream_index == p->si && p->pkt->size > 0) break;
                av_packet_unref(p->pkt);
            }
            if (r < 0) continue;
            int64_t ts = p->pkt->pts != AV_NOPTS_VALUE ? p->pkt->pts : p->pkt->dts;
            int64_t d = ts == AV_NOPTS_VALUE ? -1 : lower_bound_i64(p->pts, v->n_frames, ts);
            if ((p->pkt->flags & AV_PKT_FLAG_KEY) && d >= 0 && d <= want) {
                p->have_pending = 1;
                p->positioned = 1;
                p->cur = d - 1;
                p->skip_hi = -1;
                p->sent_dts = AV_NOPTS_VALUE;
                return VB_OK;
            }
            av_packet_unref(p->pkt);
        }
    }
    vb_log(VB_LOG_INFO, "%s: seek to frame %lld failed, restarting from frame 0", v->path, (long long)want);
    return reopen(v);
}

/* Convert p->frame to RGB24 out_w x out_h into dst. */
static int convert(struct vb_video * v, uint8_t * dst) {
    struct vpriv * p = v->priv;
    AVFrame *      f = p->frame;
    int            ow = v->opts.out_w, oh = v->opts.out_h;
    if (f->width <= 0 || f->height <= 0 || f->format < 0)
        return vb_fail(VB_ERR_VIDEO, "%s: decoder returned an empty picture", v->path);
    p->sws = sws_getCachedContext(p->sws, f->width, f->height, (enum AVPixelFormat)f->format, ow, oh, AV_PIX_FMT_RGB24,
                                  sws_flags_of(v->opts.interp), NULL, NULL, NULL);
    if (!p->sws) return vb_fail(VB_ERR_VIDEO, "%s: cannot convert pixel format %d", v->path, f->format);
    /* honour the frame's tags like FFmpeg's scale filter: matrix from colorspace (untagged: BT.601), range */
    int src_range = f->color_range == AVCOL_RANGE_JPEG || f->format == AV_PIX_FMT_YUVJ420P ||
                    f->format == AV_PIX_FMT_YUVJ422P || f->format == AV_PIX_FMT_YUVJ444P;
    int cs = f->colorspace == AVCOL_SPC_UNSPECIFIED ? SWS_CS_DEFAULT : (int)f->colorspace;
    sws_setColorspaceDetails(p->sws, sws_getCoefficients(cs), src_range, sws_getCoefficients(SWS_CS_DEFAULT), 1, 0,
                             1 << 16, 1 << 16);
    uint8_t * dd[4] = {dst, NULL, NULL, NULL};
    int       ls[4] = {ow * 3, 0, 0, 0};
    int       h = sws_scale(p->sws, (const uint8_t * const *)f->data, f->linesize, 0, f->height, dd, ls);
    if (h != oh) return vb_fail(VB_ERR_VIDEO, "%s: scaling failed", v->path);
    return VB_OK;
}

static void stats_diff(struct vb_video_stats * d, const struct vb_video_stats * a, const struct vb_video_stats * b) {
    d->n_packets = a->n_packets - b->n_packets;
    d->n_decoded = a->n_decoded - b->n_decoded;
    d->n_corrupt = a->n_corrupt - b->n_corrupt;
    d->n_seeks = a->n_seeks - b->n_seeks;
    d->n_reopens = a->n_reopens - b->n_reopens;
    d->n_retries = a->n_retries - b->n_retries;
}

/* 1 if keyframe ki has already been fed to the decoder since the last seek (continuing is then cheaper than seeking
** back to it: the decoder holds it).  Closed GOPs: everything after it in decode order is at or after it. */
static int kf_sent(const struct vpriv * p, int64_t ki) {
    return p->sent_dts != AV_NOPTS_VALUE && p->kf_dts[ki] != AV_NOPTS_VALUE && p->sent_dts >= p->kf_dts[ki];
}

/* Shared body of the sparse and the sequential reader. */
static int read_frames(struct vb_video * v, const int64_t * idx, int32_t n, uint8_t * out, int64_t * got,
                       struct vb_video_stats * st, int sequential) {
    struct vpriv * p = v->priv;
    if (!p) return vb_fail(VB_ERR_ARG, "video: not open");
    if (sequential) { /* count what an earlier call left in the decoder before this call's counters start */
        collect_buffered(v);
        p->positioned = 0;
    }
    struct vb_video_stats s0 = v->stats;
    if (n < 0) return vb_fail(VB_ERR_ARG, "%s: n = %d", v->path, n);
    for (int32_t i = 0; i < n; i++)
        if (idx[i] < 0 || idx[i] >= v->n_frames)
            return vb_fail(VB_ERR_NOTFOUND, "%s: frame %lld requested, video has %lld frames", v->path,
                           (long long)idx[i], (long long)v->n_frames);
    if (got)
        for (int32_t i = 0; i < n; i++)
            got[i] = -1;
    size_t fsz = (size_t)v->opts.out_w * (size_t)v->opts.out_h * 3;
    /* sorted unique targets */
    int64_t * u = vb_malloc((size_t)(n > 0 ? n : 1) * sizeof *u);
    memcpy(u, idx, (size_t)n * sizeof *u);
    qsort(u, (size_t)n, sizeof *u, cmp_i64);
    int32_t nu = 0;
    for (int32_t i = 0; i < n; i++)
        if (nu == 0 || u[nu - 1] != u[i]) u[nu++] = u[i];
    int rc = VB_OK;
    p->drain_at = -1;
    if (sequential && nu > 0) {
        rc = reopen(v);
        p->tgt = NULL; /* no skipping */
    }
    for (int32_t j = 0; j < nu && rc == VB_OK; j++) {
        int64_t t = u[j];
        int     retried = 0;
    again:
        if (!sequential) {
            /* a previous call may have skipped non-reference frames this call wants: continue only past them */
            if (j == 0 && p->positioned && t <= p->skip_hi) p->positioned = 0;
            if (retried) p->positioned = 0;
            p->tgt = u + j;
            p->n_tgt = nu - j;
            if (p->seekable) {
                int64_t lo = 0, hi = v->n_keyframes - 1, ki = -1;
                while (lo <= hi) {
                    int64_t mid = lo + (hi - lo) / 2;
                    if (p->kf[mid] <= t) {
                        ki = mid;
                        lo = mid + 1;
                    } else
                        hi = mid - 1;
                }
                if (ki < 0) { /* target before the first keyframe (damaged start): decode from the file start */
                    if (!p->positioned || t <= p->cur || p->eof_sent) rc = reopen(v);
                } else if (!p->positioned || p->drained_early || t <= p->cur ||
                           (p->kf[ki] > p->cur && !kf_sent(p, ki))) {
                    /* (a decoder drained at the end of the file still holds the frames after cur: keep receiving) */
                    rc = seek_kf(v, ki);
                }
            } else if (!p->positioned || p->eof_sent || t <= p->cur) {
                rc = reopen(v);
            }
            if (rc != VB_OK) break;
            p->drain_at = -1;
            if (p->seekable) {
                /* not after the call's last target: a later call may continue in this GOP */
                if (j + 1 < nu && vb_video_keyframe_before(v, u[j + 1]) > t) p->drain_at = t;
            }
        }
        int found = 0;
        while (!found) {
            int64_t fi = -1;
            int     r = next_frame(v, &fi);
            if (r < 0) {
                rc = r;
                break;
            }
            if (r == 0 && !sequential && !retried && p->seekable) { /* drained before t: seek and try once more */
                retried = 1;
                v->stats.n_retries++;
                goto again;
            }
            if (r == 0) {
                p->positioned = 0;
                rc = vb_fail(VB_ERR_VIDEO, "%s: frame %lld could not be decoded (stream ended after frame %lld)",
                             v->path, (long long)t, (long long)p->cur);
                break;
            }
            if (fi < 0) continue; /* a frame with a timestamp outside the index: ignore */
            if (fi > p->cur) p->cur = fi;
            if (fi < t) continue;
            if (fi > t && !sequential && !retried && v->has_timestamps) { /* overshoot: seek and try once more */
                retried = 1;
                v->stats.n_retries++;
                vb_log(VB_LOG_INFO, "%s: frame %lld passed without delivery (got %lld), seeking again", v->path,
                       (long long)t, (long long)fi);
                goto again;
            }
            if (fi > t) {
                p->positioned = 0;
                rc = vb_fail(VB_ERR_VIDEO, "%s: frame %lld could not be decoded (decoder went from frame %lld to %lld)",
                             v->path, (long long)t, (long long)(j > 0 ? u[j - 1] : -1), (long long)fi);
                break;
            }
            found = 1;
            uint8_t * first = NULL;
            for (int32_t i = 0; i < n && rc == VB_OK; i++) {
                if (idx[i] != t) continue;
                if (!first) {
                    first = out + (size_t)i * fsz;
                    rc = convert(v, first);
                } else {
                    memcpy(out + (size_t)i * fsz, first, fsz);
                }
                if (got) got[i] = fi;
            }
        }
    }
    if (sequential && rc == VB_OK) { /* the baseline decodes the whole file */
        int64_t fi;
        int     r;
        while ((r = next_frame(v, &fi)) > 0) {
        }
        if (r < 0) rc = r;
        p->positioned = 0;
    }
    p->tgt = NULL;
    p->n_tgt = 0;
    p->drain_at = -1;
    /* a frame decoded through a rejected packet or flagged corrupt is computed from damaged data: an error for the
    ** caller (a sample error), never pixels to score */
    if (rc == VB_OK && v->stats.n_corrupt > s0.n_corrupt)
        rc = vb_fail(VB_ERR_VIDEO, "%s: damaged: %lld corrupt packets or frames while decoding frames %lld..%lld",
                     v->path, (long long)(v->stats.n_corrupt - s0.n_corrupt), (long long)(nu ? u[0] : -1),
                     (long long)(nu ? u[nu - 1] : -1));
    free(u);
    if (st) stats_diff(st, &v->stats, &s0);
    return rc;
}

int vb_video_read_frames(struct vb_video * v, const int64_t * idx, int32_t n, uint8_t * out, int64_t * got,
                         struct vb_video_stats * st) {
    set_av_log();
    return read_frames(v, idx, n, out, got, st, 0);
}

int vb_video_read_frames_sequential(struct vb_video * v, const int64_t * idx, int32_t n, uint8_t * out, int64_t * got,
                                    struct vb_video_stats * st) {
    set_av_log();
    return read_frames(v, idx, n, out, got, st, 1);
}

int vb_video_verify(struct vb_video * v, int64_t * n_decoded, int64_t * n_corrupt) {
    set_av_log();
    struct vpriv * p = v->priv;
    if (n_decoded) *n_decoded = 0;
    if (n_corrupt) *n_corrupt = 0;
    if (!p) return vb_fail(VB_ERR_ARG, "video: not open");
    collect_buffered(v);
    p->positioned = 0;
    struct vb_video_stats s0 = v->stats;
    int                   rc = reopen(v);
    p->tgt = NULL; /* no skipping: every frame is decoded */
    p->n_tgt = 0;
    p->drain_at = -1;
    int64_t n = 0, expect = 0, first_bad = -1;
    while (rc == VB_OK) {
        int64_t fi = -1;
        int     r = next_frame(v, &fi);
        if (r < 0) rc = r;
        if (r <= 0) break;
        if (fi >= 0 && fi > p->cur) p->cur = fi;
        if (fi != expect && first_bad < 0) first_bad = expect;
        expect = (fi >= 0 ? fi : expect) + 1;
        n++;
        av_frame_unref(p->frame);
    }
    p->positioned = 0;
    const int64_t bad = v->stats.n_corrupt - s0.n_corrupt;
    if (n_decoded) *n_decoded = n;
    if (n_corrupt) *n_corrupt = bad;
    if (rc != VB_OK) return rc;
    if (n != v->n_frames)
        return vb_fail(VB_ERR_VIDEO, "%s: damaged: %lld frames decoded to the end, the index has %lld", v->path,
                       (long long)n, (long long)v->n_frames);
    if (bad || first_bad >= 0)
        return vb_fail(VB_ERR_VIDEO, "%s: damaged: %lld corrupt packets or frames%s%lld", v->path, (long long)bad,
                       first_bad >= 0 ? ", frame order broken at frame " : "",
                       first_bad >= 0 ? (long long)first_bad : 0LL);
    return VB_OK;
}

void vb_video_normalize_clip(const uint8_t * rgb, int32_t h, int32_t w, float * out) {
    static const float mean[3] = {0.48145466f, 0.4578275f, 0.40821073f};
    static const float stdv[3] = {0.26862954f, 0.26130258f, 0.27577711f};
    size_t             hw = (size_t)h * (size_t)w;
    for (int c = 0; c < 3; c++) {
        float * o = out + (size_t)c * hw;
        for (size_t i = 0; i < hw; i++)
            o[i] = ((float)rgb[3 * i + (size_t)c] / 255.0f - mean[c]) / stdv[c];
    }
}
