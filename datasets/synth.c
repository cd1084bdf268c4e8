/* synth.c — synthetic videos with frame codes in the pixels, and their annotations in every official format. */
#include "datasets/synth.h"
#include "datasets/synth_task.h"

#include "base/common.h"
#include "base/rng.h"
#include "datasets/dataset.h"
#include "datasets/sampling.h"
#include "datasets/video.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---------------------------------------------------------------------------------------------------------------- */
/* frame code                                                                                                         */

#define CODE_COLS 5
#define CODE_ROWS 4
/* code grid: x in [5 %, 95 %) of the width, y in [5 %, 60 %) of the height */
#define GX0 0.05
#define GX1 0.95
#define GY0 0.05
#define GY1 0.60

static uint32_t code_check(uint32_t idx) {
    return ((idx ^ (idx >> 4) ^ (idx >> 8) ^ (idx >> 12)) & 0xFu) ^ 0xAu;
}

static int tri(int v) {
    int m = ((v % 128) + 128) % 128;
    return 64 + 2 * (m < 64 ? m : 128 - m); /* 64..192 */
}

void vb_synth_draw_frame(uint8_t * rgb, int32_t w, int32_t h, int32_t index, int32_t t, const uint8_t sq[3]) {
    /* Gray code: one block changes between consecutive frames (plus one check block), so the code does not turn
    ** every frame into a scene change for the encoder's B-frame decisions */
    uint32_t g = ((uint32_t)index & 0xFFFFu) ^ (((uint32_t)index & 0xFFFFu) >> 1);
    uint32_t bits = g | (code_check(g) << 16);
    int      gx0 = (int)(w * GX0), gx1 = (int)(w * GX1), gy0 = (int)(h * GY0), gy1 = (int)(h * GY1);
    int      ty0 = (int)(h * 0.65), sx0 = (int)(w * 0.05), sx1 = (int)(w * 0.30), sy0 = (int)(h * 0.68),
        sy1 = (int)(h * 0.95);
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            uint8_t * px = rgb + ((size_t)y * (size_t)w + (size_t)x) * 3;
            int       r = 128, g = 128, b = 128;
            if (y >= gy0 && y < gy1 && x >= gx0 && x < gx1) {
                int c = (x - gx0) * CODE_COLS / (gx1 - gx0), rr = (y - gy0) * CODE_ROWS / (gy1 - gy0);
                int bit = (bits >> (rr * CODE_COLS + c)) & 1;
                r = g = b = bit ? 255 : 0;
            } else if (y >= sy0 && y < sy1 && x >= sx0 && x < sx1) {
                r = sq[0], g = sq[1], b = sq[2];
            } else if (y >= ty0) {
                r = tri(x + 3 * t);
                g = tri(2 * y - 2 * t + x / 2);
                b = tri(x - y + 5 * t);
            }
            px[0] = (uint8_t)r, px[1] = (uint8_t)g, px[2] = (uint8_t)b;
        }
    }
}

int32_t vb_synth_read_index(const uint8_t * rgb, int32_t w, int32_t h) {
    uint32_t bits = 0;
    for (int k = 0; k < CODE_COLS * CODE_ROWS; k++) {
        int    c = k % CODE_COLS, r = k / CODE_COLS;
        double cx0 = w * (GX0 + (GX1 - GX0) * c / CODE_COLS), cx1 = w * (GX0 + (GX1 - GX0) * (c + 1) / CODE_COLS);
        double cy0 = h * (GY0 + (GY1 - GY0) * r / CODE_ROWS), cy1 = h * (GY0 + (GY1 - GY0) * (r + 1) / CODE_ROWS);
        int    x0 = (int)(cx0 + (cx1 - cx0) * 0.25), x1 = (int)(cx1 - (cx1 - cx0) * 0.25);
        int    y0 = (int)(cy0 + (cy1 - cy0) * 0.25), y1 = (int)(cy1 - (cy1 - cy0) * 0.25);
        if (x1 <= x0) x1 = x0 + 1;
        if (y1 <= y0) y1 = y0 + 1;
        int64_t sum = 0, cnt = 0;
        for (int y = y0; y < y1 && y < h; y++)
            for (int x = x0; x < x1 && x < w; x++) {
                const uint8_t * px = rgb + ((size_t)y * (size_t)w + (size_t)x) * 3;
                sum += px[0] + px[1] + px[2];
                cnt += 3;
            }
        if (cnt && sum > cnt * 128) bits |= 1u << k;
    }
    uint32_t g = bits & 0xFFFFu;
    if ((bits >> 16) != code_check(g)) return -1;
    uint32_t idx = g;
    for (uint32_t s = 1; s < 16; s <<= 1)
        idx ^= idx >> s; /* Gray -> binary */
    return (int32_t)(idx & 0xFFFFu);
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* encoder                                                                                                            */

const char * vb_synth_encoder_name(void) {
    return avcodec_find_encoder_by_name("libx264") ? "libx264" : "mpeg4";
}

static int av_fail(int st, const char * path, const char * what, int averr) {
    char e[AV_ERROR_MAX_STRING_SIZE];
    av_strerror(averr, e, sizeof e);
    return vb_fail(st, "%s: %s: %s", path, what, e);
}

struct enc {
    AVFormatContext * oc;
    AVCodecContext *  c;
    AVStream *        st;
    AVPacket *        pkt;
    const char *      path;
};

static int drain(struct enc * e, AVFrame * fr) {
    int r = avcodec_send_frame(e->c, fr);
    if (r < 0) return av_fail(VB_ERR_VIDEO, e->path, "encoder", r);
    for (;;) {
        r = avcodec_receive_packet(e->c, e->pkt);
        if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) return VB_OK;
        if (r < 0) return av_fail(VB_ERR_VIDEO, e->path, "encoder", r);
        av_packet_rescale_ts(e->pkt, e->c->time_base, e->st->time_base);
        e->pkt->stream_index = e->st->index;
        r = av_interleaved_write_frame(e->oc, e->pkt);
        if (r < 0) return av_fail(VB_ERR_IO, e->path, "write", r);
    }
}

/* The instruction-set cap passed to x264 as "asm=" (see vb_synth_write_video), or NULL to let x264 choose: AVX2
** where the CPU has AVX-512 (and therefore AVX2), nothing elsewhere. */
static const char * x264_asm_cap(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2")) return "AVX2";
#endif
    return NULL;
}

int vb_synth_write_video(const char * path, const struct vb_synth_video_spec * s) {
    if (s->width < 32 || s->height < 32 || (s->width & 1) || (s->height & 1) || s->width > 8192 || s->height > 8192 ||
        s->fps_num <= 0 || s->fps_den <= 0 || s->n_frames < 1 || s->gop < 1 || s->bframes < 0 || s->bframes > 4)
        return vb_fail(VB_ERR_ARG, "%s: bad synthetic video spec %dx%d fps %d/%d frames %d gop %d bframes %d", path,
                       s->width, s->height, s->fps_num, s->fps_den, s->n_frames, s->gop, s->bframes);
    av_log_set_level(vb_log_level_cur >= VB_LOG_DEBUG ? AV_LOG_WARNING : AV_LOG_QUIET);
    struct enc          e = {.path = path};
    AVFrame *           fr = NULL;
    uint8_t *           rgb = NULL;
    struct SwsContext * sws = NULL;
    int                 rc = VB_OK, r;
    const char *        ename = s->encoder ? s->encoder : vb_synth_encoder_name();
    const AVCodec *     codec = avcodec_find_encoder_by_name(ename);
    if (!codec) return vb_fail(VB_ERR_UNSUPPORTED, "%s: no %s encoder in this libavcodec", path, ename);
    r = avformat_alloc_output_context2(&e.oc, NULL, "mp4", path);
    if (r < 0 || !e.oc) return av_fail(VB_ERR_VIDEO, path, "cannot create mp4 muxer", r);
    e.oc->flags |= AVFMT_FLAG_BITEXACT;
    e.st = avformat_new_stream(e.oc, NULL);
    e.c = avcodec_alloc_context3(codec);
    e.pkt = av_packet_alloc();
    fr = av_frame_alloc();
    if (!e.st || !e.c || !e.pkt || !fr) {
        rc = vb_fail(VB_ERR_NOMEM, "%s: encoder allocation failed", path);
        goto out;
    }
    e.c->width = s->width;
    e.c->height = s->height;
    e.c->pix_fmt = AV_PIX_FMT_YUV420P;
    e.c->time_base = (AVRational){s->fps_den, s->fps_num};
    e.c->framerate = (AVRational){s->fps_num, s->fps_den};
    e.c->gop_size = s->gop;
    e.c->keyint_min = s->gop;
    e.c->max_b_frames = s->bframes;
    e.c->thread_count = s->threads > 0 ? s->threads : 1;
    e.c->flags |= AV_CODEC_FLAG_BITEXACT;
    if (e.oc->oformat->flags & AVFMT_GLOBALHEADER) e.c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    if (!strcmp(ename, "libx264")) {
        /* x264 0.164 (Debian 12) enables its AVX-512 routines by itself on CPUs that have AVX-512, and with them its
        ** output depends on the process's heap history: the same frames gave different bytes when only the output
        ** path's length or the kind of stderr (file, /dev/null, pipe) changed, while the YUV planes handed to the
        ** encoder were identical (hashed per frame; measured on an Intel Xeon with AVX-512 and on AMD Zen 5). With
        ** its instruction sets capped at AVX2 the output is stable, and it equals the bytes x264 writes on AVX2-only
        ** CPUs, so a seed gives the same video on every machine of the project's kind. */
        const char * cap = x264_asm_cap();
        char         params[160];
        snprintf(params, sizeof params, "scenecut=0:keyint=%d:min-keyint=%d:bframes=%d%s%s", s->gop, s->gop, s->bframes,
                 cap ? ":asm=" : "", cap ? cap : "");
        av_opt_set(e.c->priv_data, "preset", s->preset ? s->preset : "veryfast", 0);
        av_opt_set(e.c->priv_data, "x264-params", params, 0);
        av_opt_set_double(e.c->priv_data, "crf", s->crf > 0 ? s->crf : 23, 0);
    } else {
        e.c->flags |= AV_CODEC_FLAG_QSCALE;
        e.c->global_quality = FF_QP2LAMBDA * 4;
        av_opt_set_int(e.c->priv_data, "sc_threshold", 1000000000, 0); /* keyframes only every gop frames */
    }
    r = avcodec_open2(e.c, codec, NULL);
    if (r < 0) {
        rc = av_fail(VB_ERR_VIDEO, path, "cannot open encoder", r);
        goto out;
    }
    r = avcodec_parameters_from_context(e.st->codecpar, e.c);
    if (r < 0) {
        rc = av_fail(VB_ERR_VIDEO, path, "codec parameters", r);
        goto out;
    }
    e.st->time_base = e.c->time_base;
    e.st->avg_frame_rate = e.c->framerate;
    r = avio_open(&e.oc->pb, path, AVIO_FLAG_WRITE);
    if (r < 0) {
        rc = av_fail(VB_ERR_IO, path, "cannot create file", r);
        goto out;
    }
    AVDictionary * mo = NULL;
    av_dict_set(&mo, "movflags", "+faststart", 0);
    r = avformat_write_header(e.oc, &mo);
    av_dict_free(&mo);
    if (r < 0) {
        rc = av_fail(VB_ERR_IO, path, "cannot write header", r);
        goto out;
    }
    fr->format = AV_PIX_FMT_YUV420P;
    fr->width = s->width;
    fr->height = s->height;
    r = av_frame_get_buffer(fr, 0);
    if (r < 0) {
        rc = av_fail(VB_ERR_NOMEM, path, "frame buffer", r);
        goto out;
    }
    /* swscale's SIMD input readers load 16 bytes at a time and may run past the last pixel of an unpadded
    ** buffer (valgrind: invalid read of size 16 at the end of rgb); pad by AV_INPUT_BUFFER_PADDING_SIZE, zeroed */
    rgb = vb_calloc((size_t)s->width * (size_t)s->height * 3 + AV_INPUT_BUFFER_PADDING_SIZE, 1);
    sws = sws_getContext(s->width, s->height, AV_PIX_FMT_RGB24, s->width, s->height, AV_PIX_FMT_YUV420P, SWS_BILINEAR,
                         NULL, NULL, NULL);
    if (!sws) {
        rc = vb_fail(VB_ERR_VIDEO, "%s: cannot create RGB->YUV converter", path);
        goto out;
    }
    for (int32_t i = 0; i < s->n_frames && rc == VB_OK; i++) {
        r = av_frame_make_writable(fr);
        if (r < 0) {
            rc = av_fail(VB_ERR_NOMEM, path, "frame buffer", r);
            break;
        }
        if (s->event_f1 > s->event_f0)
            vb_synth_draw_event_frame(rgb, s->width, s->height, i, s);
        else
            vb_synth_draw_frame(rgb, s->width, s->height, s->first_index + i, i, s->square_rgb);
        const uint8_t * src[4] = {rgb, NULL, NULL, NULL};
        int             sl[4] = {s->width * 3, 0, 0, 0};
        sws_scale(sws, src, sl, 0, s->height, fr->data, fr->linesize);
        fr->pts = i;
        rc = drain(&e, fr);
    }
    if (rc == VB_OK) rc = drain(&e, NULL);
    if (rc == VB_OK) {
        r = av_write_trailer(e.oc);
        if (r < 0) rc = av_fail(VB_ERR_IO, path, "cannot finish file", r);
    }
out:
    sws_freeContext(sws);
    free(rgb);
    av_frame_free(&fr);
    av_packet_free(&e.pkt);
    avcodec_free_context(&e.c);
    if (e.oc) {
        if (e.oc->pb) avio_closep(&e.oc->pb);
        avformat_free_context(e.oc);
    }
    return rc;
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* benchmark: deterministic generator, text helpers */

struct rng {
    uint64_t s;
};
static uint64_t rng_next(struct rng * r) {
    return vb_rng_splitmix64(&r->s);
} /* splitmix64 stream */
static int64_t rng_below(struct rng * r, int64_t n) {
    return n <= 1 ? 0 : (int64_t)(rng_next(r) % (uint64_t)n);
}
static uint64_t rng_cb(void * ud) {
    return rng_next(ud);
}

void vb_synth_opts_default(struct vb_synth_opts * o) {
    memset(o, 0, sizeof *o);
    o->n_videos = 8;
    o->seed = 1;
    o->width = 320;
    o->height = 240;
    o->bframes = -1;
    o->questions = 2;
}

struct sbuf {
    char * p;
    size_t n, cap;
};
static void sb_add(struct sbuf * b, const char * fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(struct sbuf * b, const char * fmt, ...) {
    va_list ap;
    for (;;) {
        size_t room = b->cap - b->n;
        va_start(ap, fmt);
        int k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? room : 0, fmt, ap);
        va_end(ap);
        if (k < 0) return;
        if (b->p && (size_t)k < room) {
            b->n += (size_t)k;
            return;
        }
        b->cap = (b->cap + (size_t)k + 1) * 2;
        b->p = vb_realloc(b->p, b->cap);
    }
}
/* JSON string literal (ASCII text; escapes quote, backslash and control characters) */
static void sb_json(struct sbuf * b, const char * s) {
    sb_add(b, "\"");
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            sb_add(b, "\\%c", ch);
        else if (ch < 0x20)
            sb_add(b, "\\u%04x", ch);
        else
            sb_add(b, "%c", ch);
    }
    sb_add(b, "\"");
}
/* CSV field, RFC 4180: quoted (inner quotes doubled) only when it contains a comma, quote or line break */
static void sb_csv(struct sbuf * b, const char * s) {
    if (!strpbrk(s, ",\"\r\n")) {
        sb_add(b, "%s", s);
        return;
    }
    sb_add(b, "\"");
    for (; *s; s++) {
        if (*s == '"')
            sb_add(b, "\"\"");
        else
            sb_add(b, "%c", *s);
    }
    sb_add(b, "\"");
}
/* seconds held as hundredths, printed like Python's repr(float): 7.2, 18.0, 134.15 */
static void sb_pyfloat(struct sbuf * b, int64_t h) {
    if (h % 100 == 0)
        sb_add(b, "%lld.0", (long long)(h / 100));
    else if (h % 10 == 0)
        sb_add(b, "%lld.%lld", (long long)(h / 100), (long long)(h % 100 / 10));
    else
        sb_add(b, "%lld.%02lld", (long long)(h / 100), (long long)(h % 100));
}

static int write_buf(const char * dir, const char * name, const struct sbuf * b) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE * f = fopen(path, "wb");
    if (!f) return vb_fail(VB_ERR_IO, "%s: %s", path, strerror(errno));
    size_t w = b->n ? fwrite(b->p, 1, b->n, f) : 0;
    int    bad = (w != b->n) | (fclose(f) != 0);
    return bad ? vb_fail(VB_ERR_IO, "%s: write failed", path) : VB_OK;
}

/* mkdir -p of out_dir/rel */
static int mkdirs(const char * base, const char * rel) {
    char path[4096];
    snprintf(path, sizeof path, "%s%s%s", base, rel && *rel ? "/" : "", rel ? rel : "");
    for (char * p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(path, 0755) != 0 && errno != EEXIST) return vb_fail(VB_ERR_IO, "%s: %s", path, strerror(errno));
        *p = '/';
    }
    if (mkdir(path, 0755) != 0 && errno != EEXIST) return vb_fail(VB_ERR_IO, "%s: %s", path, strerror(errno));
    return VB_OK;
}

/* out_dir/rel_link -> relative symlink to out_dir/videos/<file>; directories created */
static int link_video(const char * out, const char * rel_link, const char * file) {
    char dir[4096], link[4096], target[4096] = "";
    snprintf(dir, sizeof dir, "%s", rel_link);
    char * slash = strrchr(dir, '/');
    int    depth = 0;
    if (slash) {
        *slash = 0;
        int rc = mkdirs(out, dir);
        if (rc != VB_OK) return rc;
        depth = 1;
        for (const char * p = dir; *p; p++)
            depth += *p == '/';
    }
    for (int i = 0; i < depth; i++)
        strcat(target, "../");
    snprintf(target + strlen(target), sizeof target - strlen(target), "videos/%s", file);
    snprintf(link, sizeof link, "%s/%s", out, rel_link);
    unlink(link);
    if (symlink(target, link) != 0) return vb_fail(VB_ERR_IO, "%s: symlink: %s", link, strerror(errno));
    return VB_OK;
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* benchmark: videos and questions                                                                                    */

static const char * const COLORS[8] = {"red", "green", "blue", "yellow", "purple", "orange", "pink", "brown"};
static const uint8_t      COLOR_RGB[8][3] = {{220, 30, 30},  {30, 180, 40},  {30, 60, 220},   {230, 220, 40},
                                             {130, 40, 170}, {240, 140, 20}, {250, 150, 190}, {120, 70, 30}};
static const char * const NEXT_TYPES[8] = {"CW", "CH", "TN", "TP", "TC", "DC", "DL", "DO"};
static const char * const STAR_CATS[4] = {"Interaction", "Sequence", "Prediction", "Feasibility"};

struct svideo {
    struct vb_synth_video_spec spec;
    int                        color;    /* index into COLORS */
    char                       file[32]; /* videos/<file> */
    int64_t                    dur_h;    /* duration in hundredths of a second (truncated) */
    double                     fps;
};

/* One generated question: kind 0 = colour of the square, 1 = number shown; segment in hundredths (whole video for
** NExT-QA); option texts (bare, lower case) with the correct one at index answer. */
struct squestion {
    int     kind;
    int64_t s_h, e_h;
    int64_t frame;
    int     n_opt;
    char    opt[5][64];
    int     answer;
};

/* win: the How2QA window [win[0], win[1]) drawn beforehand (stratified event times), or NULL: drawn here */
static void make_question(struct rng * r, const struct svideo * v, int n_opt, int whole, struct squestion * q,
                          const int32_t * win) {
    memset(q, 0, sizeof *q);
    if (v->spec.event_f1 > v->spec.event_f0) { /* event task: the card's colour; segment: whole, or half (How2QA) */
        q->kind = 2;
        q->n_opt = n_opt;
        q->s_h = whole ? -1 : 0;
        q->e_h = whole ? -1 : v->dur_h;
        if (whole == 2) {
            int32_t w0, w1;
            if (win)
                w0 = win[0], w1 = win[1];
            else
                vb_synth_event_window(rng_cb, r, v->spec.n_frames, v->spec.event_f0, v->spec.event_f1, &w0, &w1);
            q->s_h = (int64_t)(w0 * 100.0 / v->fps + 0.5);
            q->e_h = (int64_t)(w1 * 100.0 / v->fps + 0.5);
        }
        /* options in a fixed order, so the answer letter is a function of the card's colour (red, green, blue,
        ** yellow; the demo's 2-layer T5 does not learn to match a colour against shuffled options in minutes):
        ** 5 options add purple (never right), 2 options (VLEP) ask warm (red, yellow) or cool (green, blue) */
        q->frame = v->spec.event_f0;
        if (n_opt == 2) {
            snprintf(q->opt[0], sizeof q->opt[0], "warm-coloured");
            snprintf(q->opt[1], sizeof q->opt[1], "cool-coloured");
            q->answer = v->color == 0 || v->color == 3 ? 0 : 1;
        } else {
            for (int i = 0; i < n_opt; i++)
                snprintf(q->opt[i], sizeof q->opt[i], "%s", COLORS[i]);
            q->answer = v->color;
        }
        return;
    }
    q->kind = (int)rng_below(r, 2);
    q->n_opt = n_opt;
    if (whole == 1) {
        q->s_h = -1;
        q->e_h = -1;
        q->frame = rng_below(r, v->spec.n_frames);
    } else {
        int64_t D = v->dur_h;
        if (D >= 100) { /* start in [0, D - 0.5 s), length >= 0.3 s, end <= D */
            q->s_h = rng_below(r, D - 50);
            q->e_h = q->s_h + 30 + rng_below(r, D - q->s_h - 30 + 1);
        } else { /* clips under 1 s: start in the first half, end <= D */
            q->s_h = rng_below(r, D / 2 > 0 ? D / 2 : 1);
            q->e_h = q->s_h + 1 + rng_below(r, D - q->s_h);
        }
        int64_t f0 = (int64_t)(q->s_h / 100.0 * v->fps), f1 = (int64_t)(q->e_h / 100.0 * v->fps);
        if (f1 > v->spec.n_frames) f1 = v->spec.n_frames;
        q->frame = f1 > f0 ? f0 + rng_below(r, f1 - f0) : VB_MIN(f0, (int64_t)v->spec.n_frames - 1);
    }
    q->answer = (int)rng_below(r, n_opt);
    if (q->kind == 0) {
        int used[8] = {0};
        used[v->color] = 1;
        for (int i = 0; i < n_opt; i++) {
            int c = v->color;
            if (i != q->answer) {
                do
                    c = (int)rng_below(r, 8);
                while (used[c]);
                used[c] = 1;
            }
            snprintf(q->opt[i], sizeof q->opt[i], "%s", COLORS[c]);
        }
    } else {
        int64_t used[5];
        for (int i = 0; i < n_opt; i++) {
            int64_t k = q->frame + v->spec.first_index;
            if (i != q->answer) {
                int dup;
                do {
                    k = rng_below(r, v->spec.n_frames + 20);
                    dup = k == q->frame + v->spec.first_index;
                    for (int j = 0; j < i; j++)
                        dup |= used[j] == k;
                } while (dup);
            }
            used[i] = k;
            snprintf(q->opt[i], sizeof q->opt[i], "%lld", (long long)k);
        }
    }
}

static void capitalize(char * dst, size_t n, const char * src, const char * suffix) {
    snprintf(dst, n, "%s%s", src, suffix);
    if (dst[0] >= 'a' && dst[0] <= 'z') dst[0] = (char)(dst[0] - 'a' + 'A');
}

static int fail_free(int rc, struct sbuf * bufs, int n) {
    for (int i = 0; i < n; i++)
        free(bufs[i].p);
    return rc;
}

int vb_synth_benchmark(const struct vb_synth_opts * o, FILE * log) {
    if (!o->out_dir || !*o->out_dir) return vb_fail(VB_ERR_ARG, "synth: no output directory");
    if (o->n_videos < 1 || o->n_videos > 9999 || o->questions < 1 || o->questions > 15 || o->frames < 0 || o->fps < 0 ||
        o->fps > 240 || o->gop < 0)
        return vb_fail(VB_ERR_ARG, "synth: bad options (videos 1-9999, questions 1-15, frames >= 0, fps 0-240)");
    if (o->width < 32 || o->height < 32 || (o->width & 1) || (o->height & 1))
        return vb_fail(VB_ERR_ARG, "synth: size %dx%d must be even and >= 32x32", o->width, o->height);
    if (o->event_times != VB_SYNTH_EVENT_IID &&
        (o->event_times != VB_SYNTH_EVENT_STRATIFIED || o->task != VB_SYNTH_TASK_EVENT))
        return vb_fail(VB_ERR_ARG, "synth: stratified event times need the event task");
    int rc = mkdirs(o->out_dir, "videos");
    if (rc != VB_OK) return rc;
    static const int FPS[6][2] = {{10, 1}, {15, 1}, {24, 1}, {25, 1}, {30000, 1001}, {30, 1}};
    static const int GOPS[4] = {6, 12, 30, 60};
    struct rng       r = {o->seed};
    struct svideo *  V = vb_calloc((size_t)o->n_videos, sizeof *V);
    int32_t          n_out = o->first > 0 && o->first < o->n_videos ? o->first : o->n_videos; /* videos written */
    struct sbuf      man = {0};
    sb_add(&man, "{\"generator\": \"vlapbench synth\", \"seed\": %llu, \"encoder\": \"%s\", %s%s\"videos\": [",
           (unsigned long long)o->seed, vb_synth_encoder_name(),
           o->task == VB_SYNTH_TASK_EVENT ? "\"task\": \"event\", " : "",
           o->event_times == VB_SYNTH_EVENT_STRATIFIED ? "\"event_times\": \"stratified\", " : "");
    /* stratified event times: every card's frames first (one permutation for all videos), How2QA windows after the
    ** colours; iid: each card's frames when its video is drawn, each window when its question is */
    int32_t   ev_frames = o->frames > 0 ? o->frames : 32;
    int32_t * ev = NULL;  /* (3, n_videos) card frames f0, f1 and colour (0..3: red, green, blue, yellow) */
    int32_t * win = NULL; /* (n_videos * questions, 2) How2QA windows [w0, w1) */
    if (o->event_times == VB_SYNTH_EVENT_STRATIFIED) {
        ev = vb_malloc(sizeof *ev * 3 * (size_t)o->n_videos);
        vb_synth_event_place_stratified(rng_cb, &r, ev_frames, o->n_videos, ev, ev + o->n_videos);
        vb_synth_event_colours_stratified(rng_cb, &r, ev_frames, o->n_videos, ev, ev + o->n_videos,
                                          ev + 2 * o->n_videos);
    }
    for (int i = 0; i < o->n_videos; i++) {
        struct svideo *              v = &V[i];
        struct vb_synth_video_spec * s = &v->spec;
        s->width = o->width;
        s->height = o->height;
        if (o->task == VB_SYNTH_TASK_EVENT) { /* fixed shape (default 32 frames at 8 fps, gop 16), one card */
            s->fps_num = o->fps > 0 ? (int)(o->fps * 1000 + 0.5) : 8;
            s->fps_den = o->fps > 0 ? 1000 : 1;
            v->fps = (double)s->fps_num / s->fps_den;
            s->n_frames = o->frames > 0 ? o->frames : 32;
            s->gop = o->gop > 0 ? o->gop : 16;
            s->bframes = o->bframes >= 0 ? o->bframes : 2;
            v->color = ev ? ev[2 * o->n_videos + i] : (int)rng_below(&r, 4); /* red, green, blue or yellow */
            memcpy(s->card_rgb, COLOR_RGB[v->color], 3);
            if (ev)
                s->event_f0 = ev[i], s->event_f1 = ev[o->n_videos + i];
            else
                vb_synth_event_place(rng_cb, &r, s->n_frames, &s->event_f0, &s->event_f1);
            v->dur_h = (int64_t)((double)s->n_frames * s->fps_den * 100 / s->fps_num);
            snprintf(v->file, sizeof v->file, "synth_%03d.mp4", i);
            if (i >= n_out) continue; /* drawn (the first n_out are a prefix of the whole benchmark), not written */
            sb_add(&man,
                   "%s\n  {\"file\": \"videos/%s\", \"width\": %d, \"height\": %d, \"fps_num\": %d, \"fps_den\": %d, "
                   "\"frames\": %d, \"gop\": %d, \"bframes\": %d, \"event\": [%d, %d], \"card\": \"%s\"}",
                   i ? "," : "", v->file, s->width, s->height, s->fps_num, s->fps_den, s->n_frames, s->gop, s->bframes,
                   s->event_f0, s->event_f1, COLORS[v->color]);
            continue;
        }
        if (o->fps > 0) {
            s->fps_num = (int)(o->fps * 1000 + 0.5);
            s->fps_den = 1000;
            for (int k = 0; k < 6; k++)
                if (s->fps_num == (int)((double)FPS[k][0] / FPS[k][1] * 1000 + 0.5)) {
                    s->fps_num = FPS[k][0];
                    s->fps_den = FPS[k][1];
                }
            rng_next(&r);
        } else {
            int k = (int)rng_below(&r, 6);
            s->fps_num = FPS[k][0];
            s->fps_den = FPS[k][1];
        }
        v->fps = (double)s->fps_num / s->fps_den;
        int64_t dur_ds = 30 + rng_below(&r, 71); /* 3.0 .. 10.0 s in tenths */
        s->n_frames = o->frames > 0 ? o->frames : (int32_t)(dur_ds * v->fps / 10.0);
        if (s->n_frames < 1) s->n_frames = 1;
        int64_t g = rng_below(&r, 4);
        s->gop = o->gop > 0 ? o->gop : GOPS[g];
        s->bframes = o->bframes >= 0 ? o->bframes : 2;
        v->color = (int)rng_below(&r, 8);
        memcpy(s->square_rgb, COLOR_RGB[v->color], 3);
        v->dur_h = (int64_t)((double)s->n_frames * s->fps_den * 100 / s->fps_num);
        if (v->dur_h < 1) v->dur_h = 1;
        snprintf(v->file, sizeof v->file, "synth_%03d.mp4", i);
        if (i >= n_out) continue;
        sb_add(&man,
               "%s\n  {\"file\": \"videos/%s\", \"width\": %d, \"height\": %d, \"fps_num\": %d, \"fps_den\": %d, "
               "\"frames\": %d, \"gop\": %d, \"bframes\": %d, \"first_index\": 0, \"square\": \"%s\"}",
               i ? "," : "", v->file, s->width, s->height, s->fps_num, s->fps_den, s->n_frames, s->gop, s->bframes,
               COLORS[v->color]);
    }
    sb_add(&man, "\n]}\n");
    if (ev) {
        size_t    nq = (size_t)o->n_videos * (size_t)o->questions;
        int32_t * q4 = vb_malloc(sizeof *q4 * 4 * nq); /* per question: f0, f1 of its video; w0, w1 */
        for (size_t j = 0; j < nq; j++)
            q4[j] = ev[j / (size_t)o->questions], q4[nq + j] = ev[(size_t)o->n_videos + j / (size_t)o->questions];
        vb_synth_event_windows_stratified(rng_cb, &r, ev_frames, (int32_t)nq, q4, q4 + nq, q4 + 2 * nq, q4 + 3 * nq);
        win = vb_malloc(sizeof *win * 2 * nq);
        for (size_t j = 0; j < nq; j++)
            win[2 * j] = q4[2 * nq + j], win[2 * j + 1] = q4[3 * nq + j];
        free(q4);
        free(ev);
    }
    rc = write_buf(o->out_dir, "manifest.json", &man);
    free(man.p);
    if (rc != VB_OK) {
        free(V);
        free(win);
        return rc;
    }
    if (!o->skip_videos) {
        for (int i = 0; i < n_out && rc == VB_OK; i++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/videos/%s", o->out_dir, V[i].file);
            int64_t t0 = vb_time_us();
            rc = vb_synth_write_video(path, &V[i].spec);
            if (log && rc == VB_OK)
                fprintf(log, "synth: %s %dx%d %d/%d fps %d frames gop %d (%.2f s)\n", path, V[i].spec.width,
                        V[i].spec.height, V[i].spec.fps_num, V[i].spec.fps_den, V[i].spec.n_frames, V[i].spec.gop,
                        (double)(vb_time_us() - t0) / 1e6);
        }
        if (rc != VB_OK) {
            free(V);
            free(win);
            return rc;
        }
    }

    /* annotation files: 0 nextqa csv, 1 nextqa map, 2 star, 3 vlep, 4 how2qa raw, 5 value jsonl, 6 value map,
    ** 7..10 sevila nextqa/star/vlep/how2qa */
    enum { NB = 11 };
    struct sbuf B[NB];
    memset(B, 0, sizeof B);
    sb_add(&B[0], "video,frame_count,width,height,question,answer,qid,type,a0,a1,a2,a3,a4\n");
    sb_add(&B[1], "{");
    sb_add(&B[2], "[");
    sb_add(&B[4], "%s", "");
    sb_add(&B[6], "{");
    for (int k = 7; k < NB; k++)
        sb_add(&B[k], "[");
    int n_next = 0, n_star = 0, n_vlep = 0, n_h2 = 0;
    for (int i = 0; i < n_out && rc == VB_OK; i++) {
        struct svideo * v = &V[i];
        char            nid[24], folder[16], star_id[16], vlep_name[96], yt[24], val_id[24], rel[512];
        snprintf(nid, sizeof nid, "%lld", 9000000000LL + (long long)i);
        snprintf(folder, sizeof folder, "%04d", 1000 + i / 100);
        snprintf(star_id, sizeof star_id, "SY%03d", i % 1000);
        snprintf(yt, sizeof yt, "SynthYT%04d", i);
        snprintf(val_id, sizeof val_id, "%d", 90000 + i);
        if (i % 3 == 2)
            snprintf(vlep_name, sizeof vlep_name, "%s_subs_%03d_00:00:00_00:01:00_ep", yt, i);
        else
            snprintf(vlep_name, sizeof vlep_name, "synth_s01e%02d_seg02_clip_%02d_ep", 1 + i / 100, i % 100);
        /* per-dataset names of the same file */
        snprintf(rel, sizeof rel, "nextqa/videos/%s/%s.mp4", folder, nid);
        if (rc == VB_OK) rc = link_video(o->out_dir, rel, v->file);
        snprintf(rel, sizeof rel, "star/videos/%s.mp4", star_id);
        if (rc == VB_OK) rc = link_video(o->out_dir, rel, v->file);
        if (strchr(vlep_name, ':'))
            snprintf(rel, sizeof rel, "vlep/videos/vlep_ytb_clips/%s.mp4", vlep_name);
        else
            snprintf(rel, sizeof rel, "vlep/videos/tvqa/videos_3fps_with_audio/%.*s.mp4", (int)strlen(vlep_name) - 3,
                     vlep_name);
        if (rc == VB_OK) rc = link_video(o->out_dir, rel, v->file);
        snprintf(rel, sizeof rel, "how2qa/raw_videos/%s.mp4", yt);
        if (rc == VB_OK) rc = link_video(o->out_dir, rel, v->file);
        snprintf(rel, sizeof rel, "how2qa/videos/%s.mp4", val_id);
        if (rc == VB_OK) rc = link_video(o->out_dir, rel, v->file);

        sb_add(&B[1], "%s\"%s\": \"%s/%s\"", i ? ", " : "", nid, folder, nid);
        sb_add(&B[6], "%s\"%s\": \"%s_0_60\"", i ? ", " : "", val_id, yt);
        for (int qn = 0; qn < o->questions; qn++) {
            struct squestion q;
            char             text[160], o2[5][80];
            /* NExT-QA: whole video, 5 options, lower case, no '?' */
            make_question(&r, v, 5, 1, &q, NULL);
            if (q.kind == 2)
                snprintf(text, sizeof text, "what color is the card that appears in the video");
            else if (q.kind == 0)
                snprintf(text, sizeof text, "what is the color of the square in frame %lld", (long long)q.frame);
            else
                snprintf(text, sizeof text, "what number is shown in frame %lld", (long long)q.frame);
            const char * type = NEXT_TYPES[n_next % 8];
            sb_add(&B[0], "%s,%d,%d,%d,%s,%d,%d,%s", nid, v->spec.n_frames, v->spec.width, v->spec.height, text,
                   q.answer, qn, type);
            for (int k = 0; k < 5; k++)
                sb_add(&B[0], ",%s", q.opt[k]);
            sb_add(&B[0], "\n");
            sb_add(&B[7], "%s{\"video\": \"%s/%s\", \"num_option\": 5, \"qid\": \"%s_%s_%d\"", n_next ? ", " : "",
                   folder, nid, type, nid, qn);
            for (int k = 0; k < 5; k++) {
                sb_add(&B[7], ", \"a%d\": ", k);
                snprintf(o2[k], sizeof o2[k], "%s.", q.opt[k]);
                sb_json(&B[7], o2[k]);
            }
            sb_add(&B[7], ", \"answer\": %d, \"question\": ", q.answer);
            char qtext[200];
            snprintf(qtext, sizeof qtext, "%s?", text);
            sb_json(&B[7], qtext);
            sb_add(&B[7], "}");
            n_next++;

            /* STAR: segment, 4 choices, answer as text */
            make_question(&r, v, 4, 0, &q, NULL);
            if (q.kind == 2)
                snprintf(text, sizeof text, "Which color is the card shown in the video?");
            else if (q.kind == 0)
                snprintf(text, sizeof text, "What is the color of the square in frame %lld?", (long long)q.frame);
            else
                snprintf(text, sizeof text, "Which number is shown in frame %lld?", (long long)q.frame);
            char qid[64], ch[4][80];
            snprintf(qid, sizeof qid, "%s_T%d_%d", STAR_CATS[n_star % 4], 1 + n_star % 3, n_star);
            for (int k = 0; k < 4; k++)
                snprintf(ch[k], sizeof ch[k],
                         q.kind == 2   ? "The %s card."
                         : q.kind == 0 ? "The %s square."
                                       : "The number %s.",
                         q.opt[k]);
            sb_add(&B[2], "%s\n{\"question_id\": \"%s\", \"question\": ", n_star ? "," : "", qid);
            sb_json(&B[2], text);
            sb_add(&B[2], ", \"video_id\": \"%s\", \"start\": ", star_id);
            sb_pyfloat(&B[2], q.s_h);
            sb_add(&B[2], ", \"end\": ");
            sb_pyfloat(&B[2], q.e_h);
            sb_add(&B[2], ", \"answer\": ");
            sb_json(&B[2], ch[q.answer]);
            sb_add(&B[2], ", \"question_program\": [{\"function\": \"%s\", \"value_input\": []}], \"choices\": [",
                   q.kind != 1 ? "Query_Color" : "Query_Number");
            for (int k = 0; k < 4; k++) {
                sb_add(&B[2], "%s{\"choice_id\": %d, \"choice\": ", k ? ", " : "", k);
                sb_json(&B[2], ch[k]);
                sb_add(&B[2], ", \"choice_program\": [{\"function\": \"Equal\", \"value_input\": [");
                sb_json(&B[2], q.opt[k]);
                sb_add(&B[2], "]}]}");
            }
            sb_add(&B[2], "], \"situations\": {}}");
            sb_add(&B[8], "%s{\"video\": \"%s\", \"num_option\": 4, \"qid\": \"%s\"", n_star ? ", " : "", star_id, qid);
            for (int k = 0; k < 4; k++) {
                sb_add(&B[8], ", \"a%d\": ", k);
                sb_json(&B[8], ch[k]);
            }
            sb_add(&B[8], ", \"answer\": %d, \"question\": ", q.answer);
            sb_json(&B[8], text);
            sb_add(&B[8], ", \"start\": ");
            sb_pyfloat(&B[8], q.s_h);
            sb_add(&B[8], ", \"end\": ");
            sb_pyfloat(&B[8], q.e_h);
            sb_add(&B[8], "}");
            n_star++;

            /* VLEP: ts relative to the clip (integer values stay JSON integers), 2 events */
            make_question(&r, v, 2, 0, &q, NULL);
            char ev[2][96];
            for (int k = 0; k < 2; k++) {
                if (q.kind == 2)
                    snprintf(ev[k], sizeof ev[k], "Someone holds up a %s card again.", q.opt[k]);
                else if (q.kind == 0)
                    snprintf(ev[k], sizeof ev[k], "The square will %s %s.", k == q.answer ? "stay" : "turn", q.opt[k]);
                else
                    snprintf(ev[k], sizeof ev[k], "The next frame will show %s.", q.opt[k]);
            }
            int64_t eid = 20142 + n_vlep;
            sb_add(&B[3], "{\"example_id\": %lld, \"vid_name\": ", (long long)eid);
            sb_json(&B[3], vlep_name);
            sb_add(&B[3], ", \"ts\": [");
            if (q.s_h % 100 == 0)
                sb_add(&B[3], "%lld", (long long)(q.s_h / 100));
            else
                sb_pyfloat(&B[3], q.s_h);
            sb_add(&B[3], ", ");
            sb_pyfloat(&B[3], q.e_h);
            sb_add(&B[3], "], \"events\": [");
            sb_json(&B[3], ev[0]);
            sb_add(&B[3], ", ");
            sb_json(&B[3], ev[1]);
            sb_add(&B[3], "], \"answer\": %d, \"split\": \"dev\"}\n", q.answer);
            sb_add(&B[9], "%s{\"video\": ", n_vlep ? ", " : "");
            sb_json(&B[9], vlep_name);
            sb_add(&B[9], ", \"num_option\": 2, \"qid\": \"VLEP_%lld\", \"a0\": ", (long long)eid);
            sb_json(&B[9], ev[0]);
            sb_add(&B[9], ", \"a1\": ");
            sb_json(&B[9], ev[1]);
            sb_add(&B[9], ", \"answer\": %d, \"start\": ", q.answer);
            sb_pyfloat(&B[9], q.s_h);
            sb_add(&B[9], ", \"end\": ");
            sb_pyfloat(&B[9], q.e_h);
            sb_add(&B[9], "}");
            n_vlep++;

            /* How2QA raw: youtube id, [s:e] absolute (clip starts at 0), 3 wrong, question, correct last.  Number
            ** options carry a comma and quotes on every other row, exercising RFC 4180 quoting. */
            make_question(&r, v, 4, 2, &q, win ? win + 2 * ((size_t)i * (size_t)o->questions + (size_t)qn) : NULL);
            if (q.kind == 2)
                snprintf(text, sizeof text, "What color is the card in this clip?");
            else if (q.kind == 0)
                snprintf(text, sizeof text, "What is the color of the square in frame %lld?", (long long)q.frame);
            else
                snprintf(text, sizeof text, "What number is shown in frame %lld?", (long long)q.frame);
            char raw[4][96];
            for (int k = 0; k < 4; k++) {
                if (q.kind == 1 && n_h2 % 2 == 1)
                    snprintf(raw[k], sizeof raw[k], "it shows \"%s\", in white", q.opt[k]);
                else
                    snprintf(raw[k], sizeof raw[k], "%s", q.opt[k]);
            }
            sb_csv(&B[4], yt);
            sb_add(&B[4], ",[");
            sb_pyfloat(&B[4], q.s_h);
            sb_add(&B[4], ":");
            sb_pyfloat(&B[4], q.e_h);
            sb_add(&B[4], "]");
            for (int k = 0; k < 4; k++)
                if (k != q.answer) {
                    sb_add(&B[4], ",");
                    sb_csv(&B[4], raw[k]);
                }
            sb_add(&B[4], ",");
            sb_csv(&B[4], text);
            sb_add(&B[4], ",");
            sb_csv(&B[4], raw[q.answer]);
            sb_add(&B[4], "\n");
            /* VALUE: same question, options normalized (capitalized, final period), shuffled by answer_idx */
            int64_t vqid = 1000 + 7 * (int64_t)n_h2;
            sb_add(&B[5], "{\"vid_name\": \"%s\", \"ts\": \"%lld.%02lld-%lld.%02lld\", \"qid\": %lld, \"q\": ", val_id,
                   (long long)(q.s_h / 100), (long long)(q.s_h % 100), (long long)(q.e_h / 100),
                   (long long)(q.e_h % 100), (long long)vqid);
            sb_json(&B[5], text);
            sb_add(&B[10], "%s{\"video\": \"%s\", \"num_option\": 4, \"qid\": \"HOW2QA_%d\"", n_h2 ? ", " : "", val_id,
                   n_h2);
            for (int k = 0; k < 4; k++) {
                capitalize(o2[k], sizeof o2[k], q.opt[k], ".");
                sb_add(&B[5], ", \"a%d\": ", k);
                sb_json(&B[5], o2[k]);
                sb_add(&B[10], ", \"a%d\": ", k);
                sb_json(&B[10], o2[k]);
            }
            sb_add(&B[5], ", \"answer_idx\": %d}\n", q.answer);
            sb_add(&B[10], ", \"answer\": %d, \"question\": ", q.answer);
            sb_json(&B[10], text);
            sb_add(&B[10], ", \"start\": \"%lld.%02lld\", \"end\": \"%lld.%02lld\"}", (long long)(q.s_h / 100),
                   (long long)(q.s_h % 100), (long long)(q.e_h / 100), (long long)(q.e_h % 100));
            n_h2++;
        }
    }
    free(V);
    free(win);
    if (rc != VB_OK) return fail_free(rc, B, NB);
    sb_add(&B[1], "}");
    sb_add(&B[2], "\n]\n");
    sb_add(&B[6], "}");
    for (int k = 7; k < NB; k++)
        sb_add(&B[k], "]");
    static const char * const DIRS[NB] = {"nextqa",      "nextqa",      "star",         "vlep",
                                          "how2qa",      "how2qa",      "how2qa",       "sevila/nextqa",
                                          "sevila/star", "sevila/vlep", "sevila/how2qa"};
    static const char * const FILES[NB] = {"val.csv",
                                           "map_vid_vidorID.json",
                                           "STAR_val.json",
                                           "vlep_dev_release.jsonl",
                                           "how2QA_val_release.csv",
                                           "how2qa_val_release.jsonl",
                                           "how2_vid_mapping.json",
                                           "val.json",
                                           "val.json",
                                           "val.json",
                                           "val.json"};
    for (int k = 0; k < NB && rc == VB_OK; k++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/%s", o->out_dir, DIRS[k]);
        rc = mkdirs(o->out_dir, DIRS[k]);
        if (rc == VB_OK) rc = write_buf(dir, FILES[k], &B[k]);
    }
    if (log && rc == VB_OK)
        fprintf(log, "synth: %d videos, %d questions per dataset -> %s\n", n_out, n_next, o->out_dir);
    return fail_free(rc, B, NB);
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* verification                                                                                                       */

const char * vb_synth_read_square(const uint8_t * rgb, int32_t w, int32_t h) {
    int x0 = (int)(w * 0.10), x1 = (int)(w * 0.25), y0 = (int)(h * 0.73), y1 = (int)(h * 0.90);
    if (x1 <= x0) x1 = x0 + 1;
    if (y1 <= y0) y1 = y0 + 1;
    double m[3] = {0, 0, 0};
    int    cnt = 0;
    for (int y = y0; y < y1 && y < h; y++)
        for (int x = x0; x < x1 && x < w; x++, cnt++)
            for (int c = 0; c < 3; c++)
                m[c] += rgb[((size_t)y * (size_t)w + (size_t)x) * 3 + (size_t)c];
    if (!cnt) return NULL;
    int    best = -1;
    double bd = 1e30;
    for (int k = 0; k < 8; k++) {
        double d = 0;
        for (int c = 0; c < 3; c++) {
            double e = m[c] / cnt - COLOR_RGB[k][c];
            d += e * e;
        }
        if (d < bd) bd = d, best = k;
    }
    return bd < 40.0 * 40.0 * 3 ? COLORS[best] : NULL;
}
