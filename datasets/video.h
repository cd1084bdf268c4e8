/* video.h — exact, sparse frame decoding with libavformat/libavcodec/libswscale (docs/methods.md §2.1,
** docs/formats.md §7).
**
** Frame numbering.  At open, every packet of the video stream is read (not decoded) and its presentation timestamp
** recorded; sorting these timestamps defines display order, so frame N is the packet with the N-th smallest pts
** (decord's numbering: it also indexes all packets at open).  Packets an MP4 edit list hides (AV_PKT_FLAG_DISCARD,
** e.g. after `ffmpeg -ss T -c copy`) are decoded as references but get no number, as players and ffprobe
** -count_frames do.  The frame count is the number of shown packets; the container's
** nb_frames and duration * fps are kept for provenance only, since they are often missing or wrong.  Decoded frames
** are mapped back to N through their pts (stream time base, start time included), never by counting outputs, and
** each delivered frame is checked to be the one requested.  Streams without timestamps fall back to counting frames
** from the start of the file (no seeking).
**
** Sparse decoding.  vb_video_read_frames() decodes the requested frames in ascending order: it seeks (by pts, on the
** stream, AVSEEK_FLAG_BACKWARD) to the keyframe at or before a target only when that keyframe lies ahead of the
** decoder's position, otherwise it decodes forward within the GOP; packets that are not targets are sent with
** skip_frame = AVDISCARD_NONREF, so the decoder drops non-reference frames nobody needs (H.264, MPEG-4 B-frames).
** When the next target of the call needs a seek anyway, the decoder is drained right after the target's packet
** instead of being fed the packets its reorder delay would ask for.  A later call continues where the last one
** stopped when its first target lies ahead in the same GOP (and was not skipped as non-reference).
** Decoding is bit-exact with a full sequential decode (tested).
**
** Output.  RGB24, squashed to out_w x out_h (default 224 x 224, no aspect-ratio preservation, no crop), bilinear by
** default or bicubic; the libswscale version and flags used are recorded with vb_video_provenance().
** vb_video_normalize_clip() turns one frame into float planes (3, h, w) with the CLIP mean/std after /255.
**
** Errors.  Missing, zero-byte, truncated or garbage files give VB_ERR_VIDEO (VB_ERR_IO for a missing file) with a
** message naming the file; nothing here aborts on bad input.  A file that reads fewer packets than its container's
** frame count (nb_frames), or whose packet reading ends with a read error instead of end-of-file, is truncated or
** damaged: vb_video_open fails naming both counts ("the container says 40 frames, only 36 could be read"), so a
** truncated video is an error for its samples, never a shorter video.  FFmpeg's own log is set explicitly: quiet unless
** VB_LOG >= 3 (debug), where warnings are shown (VB_LOG >= 4: FFmpeg debug).
**
** One struct vb_video is used by one thread at a time.
*/
#ifndef VB_VIDEO_H
#define VB_VIDEO_H

#include <stddef.h>
#include <stdint.h>

enum vb_video_interp {
    VB_VIDEO_BILINEAR = 0, /* SWS_BILINEAR: vlapbench's default (FFmpeg 4.x vf_scale behaviour) */
    VB_VIDEO_BICUBIC = 1   /* SWS_BICUBIC: the libswscale default in later FFmpeg */
};

struct vb_video_opts {
    int32_t              out_w, out_h; /* output size in pixels; default 224 x 224 */
    enum vb_video_interp interp;       /* scaler kernel */
    int32_t              threads;      /* decoder threads; default 1 (deterministic, fair benchmarks) */
    int32_t              skip_nonref;  /* 1: send non-target packets with AVDISCARD_NONREF (default 1) */
};

/* Fill *o with the defaults above. */
void vb_video_opts_default(struct vb_video_opts * o);

/* Counters, cumulative since open (vb_video_read_frames also returns the per-call values). */
struct vb_video_stats {
    int64_t n_packets; /* packets sent to the decoder */
    int64_t n_decoded; /* frames decoded: returned, or collected from the decoder's reorder buffer before a flush
                          (non-reference frames it skipped are not counted; frames left in the reorder buffer at the
                          end of a call, at most the codec delay, are counted when a later call flushes them) */
    int64_t n_corrupt; /* packets the decoder rejected plus frames flagged corrupt */
    int64_t n_seeks;   /* seeks (including the first positioning) */
    int64_t n_reopens; /* fallbacks that reopened the file to restart from frame 0 */
    int64_t n_retries; /* targets the decoder passed without delivering, recovered by seeking again (0 on clean
                          files) */
};

struct vb_video {
    char *  path;     /* as given to vb_video_open */
    double  fps;      /* average frame rate (avg_frame_rate, else r_frame_rate, else frames / duration) */
    int64_t n_frames; /* decodable, shown frames = video packets indexed at open, minus edit-list hidden ones */
    int64_t n_frames_container; /* the container's nb_frames, 0 when absent */
    int64_t n_frames_estimate;  /* duration * fps rounded, 0 when the duration is unknown */
    double  duration_s;         /* container/stream duration, 0 when unknown */
    int32_t width, height;      /* coded picture size */
    int32_t n_keyframes;        /* keyframe packets in the index */
    int32_t has_timestamps;     /* 0: frames are numbered by counting (no seeking possible) */
    char    codec[32];          /* decoder name, e.g. "h264" */
    struct vb_video_opts  opts;
    struct vb_video_stats stats;
    void *                priv; /* libav state (video.c) */
};

/* Open a video file, select its best video stream, index all its packets and prepare a decoder.  opts may be NULL
** (defaults).  On success *v is filled and must be released with vb_video_close().  On failure returns VB_ERR_IO
** (missing/unreadable file), VB_ERR_VIDEO (not a decodable video: zero bytes, garbage, no video stream, no frames)
** or VB_ERR_ARG (bad opts), with the reason in vb_errmsg(), and *v needs no close (closing it is harmless). */
int vb_video_open(struct vb_video * v, const char * path, const struct vb_video_opts * opts);

/* Release everything vb_video_open allocated; safe on a zeroed or failed struct and twice. */
void vb_video_close(struct vb_video * v);

/* Convert a [start_s, end_s] segment (seconds, relative to the file; negative = whole video) to a frame range with
** SeViLA's rule (docs/formats.md §7) using this video's fps and frame count: *f0 = max((int)(start_s*fps), 0),
** *f1 = min((int)(end_s*fps), n_frames).  Returns VB_OK or VB_ERR_ARG. */
int vb_video_segment_frames(const struct vb_video * v, double start_s, double end_s, int64_t * f0, int64_t * f1);

/* Decode exactly the frames idx[0..n-1] (any order, repeats allowed) into out (n, out_h, out_w, 3) RGB24, slot i
** holding frame idx[i].  got (n, may be NULL) receives the index each slot's frame was verified to have (equal to
** idx[i] on success).  st (may be NULL) receives this call's counters.  The caller owns all buffers.  Returns VB_OK;
** VB_ERR_NOTFOUND if an index is outside [0, n_frames); VB_ERR_VIDEO if a frame cannot be decoded (damaged data,
** truncated file) — the message names the file and frame — and also when any packet this call decoded was rejected
** or any frame came out flagged corrupt (counted in st->n_corrupt): pixels decoded from damaged data are never
** delivered as good. */
int vb_video_read_frames(struct vb_video * v, const int64_t * idx, int32_t n, uint8_t * out, int64_t * got,
                         struct vb_video_stats * st);

/* Reference path with the same contract as vb_video_read_frames, but it decodes EVERY frame from the start of the
** file in order (no seeking, no skipping), converting only the requested ones.  Used by tests (bit-exactness of the
** sparse path) and by bench-decode as the "full sequential decode" baseline. */
int vb_video_read_frames_sequential(struct vb_video * v, const int64_t * idx, int32_t n, uint8_t * out, int64_t * got,
                                    struct vb_video_stats * st);

/* Decode the whole file from the start, every frame (no skipping, nothing converted), and check it: every indexed
** frame comes out once in display order, no packet is rejected and no frame is flagged corrupt.  *n_decoded and
** *n_corrupt (either may be NULL) receive the counts.  VB_OK, or VB_ERR_VIDEO naming the file and both counts
** ("damaged: 11 frames decoded to the end, the index has 40").  For `datasets check`: bit rot inside a file whose
** container is intact passes vb_video_open and shows only here (or as a failed frame when a run reads it). */
int vb_video_verify(struct vb_video * v, int64_t * n_decoded, int64_t * n_corrupt);

/* Keyframe at or before frame f (display index), or -1 (no timestamps / out of range).  For benchmarks: the minimum
** work to decode f from a cold decoder is the frames [keyframe_before(f), f]. */
int64_t vb_video_keyframe_before(const struct vb_video * v, int64_t f);

/* CLIP preprocessing of one RGB24 frame (after the squash): out[c][y][x] = (rgb[y][x][c] / 255 - mean[c]) / std[c]
** in float32, mean (0.48145466, 0.4578275, 0.40821073), std (0.26862954, 0.26130258, 0.27577711).
** rgb (h, w, 3), out (3, h, w); caller owns both. */
void vb_video_normalize_clip(const uint8_t * rgb, int32_t h, int32_t w, float * out);

/* Provenance of the pixel pipeline for opts (NULL: defaults), written to buf (NUL-terminated, truncated to n) and
** returned: e.g. "libswscale 6.7.100 flags=bilinear(0x2) out=224x224 rgb24 squash; libavcodec 59.37.100;
** libavformat 59.27.100".  Stored with every run. */
const char * vb_video_provenance(const struct vb_video_opts * opts, char * buf, size_t n);

/* Name of an interpolation ("bilinear", "bicubic") and its parser (VB_OK / VB_ERR_ARG). */
const char * vb_video_interp_name(enum vb_video_interp i);
int          vb_video_interp_parse(const char * s, enum vb_video_interp * i);

#endif
