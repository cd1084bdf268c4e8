/* contact_sheet.c — a contact sheet PNG of chosen frames with informative outlines and pick bars (contact_sheet.h). */
#include "reports/contact_sheet.h"

#include "base/common.h"

#include <libavcodec/avcodec.h>
#include <libavutil/frame.h>

#include <errno.h>
#include <string.h>

enum { M = 8, B = 4, NL = 10, RH = 8, GX = 6, GY = 10, LEG = 12 };

/* 5 x 7 glyphs, one byte per row, bit 4 = leftmost column. */
static const struct {
    char    c;
    uint8_t r[7];
} GLYPHS[] = {
    {'0', {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}},
    {'1', {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'2', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}},
    {'3', {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E}},
    {'4', {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}},
    {'5', {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E}},
    {'6', {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}},
    {'7', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}},
    {'8', {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}},
    {'9', {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C}},
    {'A', {0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}},
    {'B', {0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E}},
    {'C', {0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E}},
    {'D', {0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C}},
    {'E', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F}},
    {'F', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10}},
    {'G', {0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F}},
    {'H', {0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}},
    {'I', {0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'J', {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C}},
    {'K', {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11}},
    {'L', {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F}},
    {'M', {0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11}},
    {'N', {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11}},
    {'O', {0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}},
    {'P', {0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10}},
    {'Q', {0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D}},
    {'R', {0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11}},
    {'S', {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E}},
    {'T', {0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}},
    {'U', {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}},
    {'V', {0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04}},
    {'W', {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A}},
    {'X', {0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11}},
    {'Y', {0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04}},
    {'Z', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F}},
    {'=', {0x00, 0x00, 0x1F, 0x00, 0x1F, 0x00, 0x00}},
    {'-', {0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00}},
    {'/', {0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00}},
    {'#', {0x0A, 0x0A, 0x1F, 0x0A, 0x1F, 0x0A, 0x0A}},
    {'.', {0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C}},
    {':', {0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00}},
    {' ', {0, 0, 0, 0, 0, 0, 0}},
};
static const uint8_t UNKNOWN[7] = {0x0E, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04}; /* '?' */

struct canvas {
    uint8_t * px; /* (h, w, 3) */
    int32_t   w, h;
};

static void fill(struct canvas * c, int32_t x, int32_t y, int32_t w, int32_t h, uint32_t rgb) {
    for (int32_t j = y; j < y + h; j++)
        for (int32_t i = x; i < x + w; i++) {
            if (i < 0 || j < 0 || i >= c->w || j >= c->h) continue;
            uint8_t * p = c->px + ((size_t)j * (size_t)c->w + (size_t)i) * 3;
            p[0] = (uint8_t)(rgb >> 16), p[1] = (uint8_t)(rgb >> 8), p[2] = (uint8_t)rgb;
        }
}

/* Text in the 5 x 7 font, 6 pixels per character, top-left at (x, y), in black. */
static void text(struct canvas * c, int32_t x, int32_t y, const char * s) {
    for (; *s; s++, x += 6) {
        char            ch = (*s >= 'a' && *s <= 'z') ? (char)(*s - 'a' + 'A') : *s;
        const uint8_t * g = UNKNOWN;
        for (size_t k = 0; k < sizeof GLYPHS / sizeof GLYPHS[0]; k++)
            if (GLYPHS[k].c == ch) g = GLYPHS[k].r;
        for (int r = 0; r < 7; r++)
            for (int b = 0; b < 5; b++)
                if (g[r] & (0x10 >> b)) fill(c, x + b, y + r, 1, 1, 0x000000u);
    }
}

int vb_png_write_rgb(const char * path, const uint8_t * rgb, int32_t w, int32_t h) {
    if (!path || !rgb || w < 1 || h < 1) return vb_fail(VB_ERR_ARG, "png: bad picture");
    const AVCodec * codec = avcodec_find_encoder(AV_CODEC_ID_PNG);
    if (!codec) return vb_fail(VB_ERR_UNSUPPORTED, "%s: this libavcodec has no PNG encoder", path);
    AVCodecContext * cx = avcodec_alloc_context3(codec);
    AVFrame *        fr = av_frame_alloc();
    AVPacket *       pk = av_packet_alloc();
    int              rc = VB_OK;
    if (!cx || !fr || !pk) {
        rc = vb_fail(VB_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    cx->width = w;
    cx->height = h;
    cx->pix_fmt = AV_PIX_FMT_RGB24;
    cx->time_base = (AVRational){1, 1};
    cx->flags |= AV_CODEC_FLAG_BITEXACT;
    fr->format = AV_PIX_FMT_RGB24;
    fr->width = w;
    fr->height = h;
    if (avcodec_open2(cx, codec, NULL) < 0 || av_frame_get_buffer(fr, 0) < 0) {
        rc = vb_fail(VB_ERR_UNSUPPORTED, "%s: cannot set up the PNG encoder", path);
        goto done;
    }
    for (int32_t y = 0; y < h; y++)
        memcpy(fr->data[0] + (size_t)y * (size_t)fr->linesize[0], rgb + (size_t)y * (size_t)w * 3, (size_t)w * 3);
    fr->pts = 0;
    if (avcodec_send_frame(cx, fr) < 0 || avcodec_send_frame(cx, NULL) < 0 || avcodec_receive_packet(cx, pk) < 0) {
        rc = vb_fail(VB_ERR_UNSUPPORTED, "%s: PNG encoding failed", path);
        goto done;
    }
    FILE * f = fopen(path, "wb");
    if (!f) {
        rc = vb_fail(VB_ERR_IO, "%s: %s", path, strerror(errno));
        goto done;
    }
    size_t wr = fwrite(pk->data, 1, (size_t)pk->size, f);
    if (fclose(f) != 0 || wr != (size_t)pk->size) {
        remove(path);
        rc = vb_fail(VB_ERR_IO, "%s: write failed", path);
    }
done:
    av_packet_free(&pk);
    av_frame_free(&fr);
    avcodec_free_context(&cx);
    return rc;
}

int vb_sheet_write_png(const char * png_path, const struct vb_sheet * s, int32_t * w_out, int32_t * h_out) {
    if (!s || !s->video || s->n < 1 || s->n > 1024 || !s->frames || s->n_marks < 0 || s->n_marks > VB_SHEET_MAX_MARKS ||
        (s->n_marks > 0 && !s->marks) || s->cols < 0 || s->thumb_w < 0 ||
        (s->thumb_w && (s->thumb_w < 16 || s->thumb_w > 512)))
        return vb_fail(VB_ERR_ARG, "contact sheet: bad arguments");
    int32_t cols = s->cols > 0 ? s->cols : 8, tw = s->thumb_w > 0 ? s->thumb_w : 96;
    if (cols > s->n) cols = s->n;
    /* the video's size first (for the aspect ratio), then open it again scaled to the thumbnail */
    struct vb_video      v;
    struct vb_video_opts vo;
    vb_video_opts_default(&vo);
    int rc = vb_video_open(&v, s->video, &vo);
    if (rc != VB_OK) return rc;
    int32_t th = v.width > 0 ? (int32_t)((double)tw * v.height / v.width + 0.5) : tw;
    th = (th + 1) & ~1;
    if (th < 8) th = 8;
    if (th > 4 * tw) th = 4 * tw;
    vb_video_close(&v);
    vo.out_w = tw;
    vo.out_h = th;
    vo.interp = s->interp;
    rc = vb_video_open(&v, s->video, &vo);
    if (rc != VB_OK) return rc;
    /* decode in ascending order (video.h decodes any order; ascending is the cheap one) */
    uint8_t * thumbs = vb_malloc((size_t)s->n * (size_t)tw * (size_t)th * 3);
    rc = vb_video_read_frames(&v, s->frames, s->n, thumbs, NULL, NULL);
    vb_video_close(&v);
    if (rc != VB_OK) {
        free(thumbs);
        return rc;
    }
    int32_t maxlab = 0;
    for (int32_t m = 0; m < s->n_marks; m++) {
        int32_t l = s->marks[m].label ? (int32_t)strlen(s->marks[m].label) : 0;
        if (l > maxlab) maxlab = l;
    }
    int32_t       lw = s->n_marks > 0 ? 6 * maxlab + 6 : 0;
    int32_t       px = tw + 2 * B + GX, py = th + 2 * B + NL + s->n_marks * RH + GY;
    int32_t       rows = (s->n + cols - 1) / cols, entries = s->n_marks + (s->informative ? 1 : 0);
    int32_t       legw = 22 + 6 * (maxlab > 17 ? maxlab : 17);
    struct canvas c = {NULL, 2 * M + lw + cols * px - GX, M + rows * py + entries * LEG + M};
    if (c.w < 2 * M + legw) c.w = 2 * M + legw;
    c.px = vb_malloc((size_t)c.w * (size_t)c.h * 3);
    fill(&c, 0, 0, c.w, c.h, VB_SHEET_BG);
    for (int32_t i = 0; i < s->n; i++) {
        int32_t bx = M + lw + (i % cols) * px, by = M + (i / cols) * py;
        fill(&c, bx, by, tw + 2 * B, th + 2 * B,
             (s->informative && s->informative[i]) ? VB_SHEET_INFO : VB_SHEET_PLAIN);
        for (int32_t y = 0; y < th; y++)
            memcpy(c.px + ((size_t)(by + B + y) * (size_t)c.w + (size_t)(bx + B)) * 3,
                   thumbs + ((size_t)i * (size_t)th + (size_t)y) * (size_t)tw * 3, (size_t)tw * 3);
        char num[24];
        snprintf(num, sizeof num, "%lld", (long long)s->frames[i]);
        text(&c, bx + 1, by + th + 2 * B + 2, num);
        for (int32_t m = 0; m < s->n_marks; m++) {
            int hit = 0;
            for (int32_t k = 0; k < s->marks[m].n_picked && !hit; k++)
                hit = s->marks[m].picked[k] == s->frames[i];
            int32_t ry = by + th + 2 * B + NL + m * RH;
            fill(&c, bx, ry + 1, tw + 2 * B, 6, hit ? (s->marks[m].rgb & 0xffffffu) : VB_SHEET_EMPTY);
            if (i % cols == 0 && s->marks[m].label) text(&c, M, ry, s->marks[m].label);
        }
    }
    int32_t ly = M + rows * py;
    if (s->informative) {
        fill(&c, M, ly, 16, 8, VB_SHEET_INFO);
        text(&c, M + 22, ly, "INFORMATIVE FRAME");
        ly += LEG;
    }
    for (int32_t m = 0; m < s->n_marks; m++, ly += LEG) {
        fill(&c, M, ly, 16, 8, s->marks[m].rgb & 0xffffffu);
        if (s->marks[m].label) text(&c, M + 22, ly, s->marks[m].label);
    }
    rc = vb_png_write_rgb(png_path, c.px, c.w, c.h);
    if (rc == VB_OK && w_out) *w_out = c.w;
    if (rc == VB_OK && h_out) *h_out = c.h;
    free(c.px);
    free(thumbs);
    return rc;
}
