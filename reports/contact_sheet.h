/* contact_sheet.h — a contact sheet PNG: thumbnails of chosen frames of one video in a grid, the informative frames
** outlined, and under every thumbnail one bar per "mark" (a run's picked frames), with row labels and a legend drawn
** in a built-in 5 x 7 pixel font (upper case, digits, = - / # . : and space; other characters print as '?').
**
** Frames are decoded with datasets/video.h (exact frame numbering, libswscale scaling straight to the thumbnail size,
** aspect ratio kept: th = tw * height / width, rounded to even); the picture is encoded with libavcodec's PNG encoder
** (RGB24, no new library).
**
** Geometry (pixels; fixed so that tests can find every element):
**   M = 8 margin; LW = 6 * (longest mark label) + 6 left label column (0 without marks);
**   thumbnail tw x th inside a box with a B = 4 border; under the box a frame-number line of NL = 10 (the frame
**   index in the font at (box x + 1, box y + box h + 2)), then one row of RH = 8 per mark: a bar of the box width and
**   6 pixels high at row y + 1, in the mark's colour when the mark picks that frame, else VB_SHEET_EMPTY;
**   tile pitch PX = tw + 2B + 6, PY = th + 2B + NL + n_marks * RH + 10;
**   cols = min(cols, n); tile i sits at column i % cols, row i / cols: box at (M + LW + col * PX, M + row * PY);
**   the mark labels are printed at the left of each mark row, at (M, row y);
**   legend below the grid at y = M + rows * PY: one line of 12 per entry (a 16 x 8 swatch at x = M, the label at
**   x = M + 22): first "INFORMATIVE FRAME" (when informative is given), then every mark.
**   Width = max(2M + LW + cols * PX - 6, 2M + 22 + 6 * max(17, longest label)); height = M + rows * PY + entries * 12 +
*M.
** Colours: background VB_SHEET_BG; border VB_SHEET_INFO when the frame is informative, else VB_SHEET_PLAIN.
*/
#ifndef VB_CONTACT_SHEET_H
#define VB_CONTACT_SHEET_H

#include "datasets/video.h"

#include <stdint.h>

#define VB_SHEET_BG        0xffffffu /* background */
#define VB_SHEET_PLAIN     0xc8c8c8u /* border of a frame that is not marked informative */
#define VB_SHEET_INFO      0xff00ffu /* border of an informative frame (magenta) */
#define VB_SHEET_EMPTY     0xebebebu /* a mark row under a frame the mark does not pick */
#define VB_SHEET_MAX_MARKS 16

struct vb_sheet_mark {
    const char *    label; /* legend / row label (printed upper case) */
    uint32_t        rgb;   /* 0xRRGGBB */
    int32_t         n_picked;
    const int64_t * picked; /* (n_picked) frame indices; ones not among the sheet's frames are not drawn */
};

struct vb_sheet {
    const char *                 video;       /* path of the video */
    int32_t                      n;           /* thumbnails, 1..1024 */
    const int64_t *              frames;      /* (n) frame indices in display order, as video.h numbers them */
    const uint8_t *              informative; /* (n) 1 = outline as informative; NULL = none known */
    int32_t                      n_marks;     /* 0..VB_SHEET_MAX_MARKS */
    const struct vb_sheet_mark * marks;       /* (n_marks) */
    int32_t                      cols;        /* thumbnails per row; 0 = 8 */
    int32_t                      thumb_w;     /* thumbnail width; 0 = 96 (16..512) */
    enum vb_video_interp         interp;      /* scaler of the thumbnails */
};

/* Decode s->frames of s->video, draw the sheet and write it to png_path.  *w_out / *h_out (may be NULL) receive the
** picture size.  Returns VB_OK; VB_ERR_ARG (bad sheet), VB_ERR_IO / VB_ERR_VIDEO / VB_ERR_NOTFOUND (the video cannot
** be opened or a frame decoded; the message names the file), VB_ERR_IO (cannot write png_path). */
int vb_sheet_write_png(const char * png_path, const struct vb_sheet * s, int32_t * w_out, int32_t * h_out);

/* Encode an RGB24 picture rgb (h, w, 3) as a PNG file with libavcodec's PNG encoder.  Returns VB_OK, VB_ERR_ARG,
** VB_ERR_UNSUPPORTED (no PNG encoder in this libavcodec) or VB_ERR_IO. */
int vb_png_write_rgb(const char * path, const uint8_t * rgb, int32_t w, int32_t h);

#endif
