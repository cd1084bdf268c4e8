/* synth.h — synthetic benchmark: small real H.264 videos whose pixels carry their own frame index, plus annotation
** files for them in every official format (docs/formats.md §2–§6), so loaders, sampling and decoding can be tested
** end to end without the real datasets.
**
** Frame code.  The top ~60 % of every frame is a 5 x 4 grid of black/white blocks: the frame index as a 16-bit Gray
** code (bit k in cell k, row-major, white = 1; one block changes from frame to frame, which keeps the encoder's
** B-frame decisions natural) and a 4-bit check.  Blocks are large (1/5 of the width, 1/7 of the height)
** so the code survives H.264 compression and any squash to 224 x 224; vb_synth_read_index() reads it back from an
** RGB picture of any size.  Below the code: a moving texture (so P/B frames carry real motion and the decode cost
** is realistic) and a coloured square whose colour the questions ask about.
**
** Determinism.  Everything derives from the seed through splitmix64; the encoder runs with one thread and
** AV_CODEC_FLAG_BITEXACT, the muxer with AVFMT_FLAG_BITEXACT, so the same seed gives byte-identical annotation files
** and (with the same libavcodec/libx264 build) byte-identical videos.
*/
#ifndef VB_SYNTH_H
#define VB_SYNTH_H

#include <stdint.h>
#include <stdio.h>

struct vb_synth_video_spec {
    int32_t      width, height;      /* even, >= 32 */
    int32_t      fps_num, fps_den;   /* frame rate fps_num / fps_den */
    int32_t      n_frames;           /* >= 1 */
    int32_t      gop;                /* keyframe interval in frames (scene-cut keyframes disabled) */
    int32_t      bframes;            /* max consecutive B-frames, 0..4 */
    int32_t      first_index;        /* code shown by frame 0 (frame i shows first_index + i), default 0 */
    uint8_t      square_rgb[3];      /* colour of the square */
    int32_t      crf;                /* libx264 CRF (0: 23) */
    int32_t      threads;            /* encoder threads (0: 1, deterministic) */
    const char * preset;             /* libx264 preset (NULL: "veryfast"; x264's own default is "medium") */
    const char * encoder;            /* "libx264", "mpeg4" or NULL (vb_synth_encoder_name()) */
    int32_t      event_f0, event_f1; /* event task (synth_task.h): card on frames [f0, f1); f1 <= f0: default task */
    uint8_t      card_rgb[3];        /* event task: colour of the card */
};

/* Encoder used for synthetic videos: "libx264" when this libavcodec has it, else "mpeg4". */
const char * vb_synth_encoder_name(void);

/* Draw frame `index` of a synthetic video as RGB24 into rgb (h, w, 3): code blocks for `index`, texture at time t,
** square of colour sq.  Pure; caller owns rgb. */
void vb_synth_draw_frame(uint8_t * rgb, int32_t w, int32_t h, int32_t index, int32_t t, const uint8_t sq[3]);

/* Read the frame code from an RGB24 picture (h, w, 3) of any size.  Returns the index 0..65535, or -1 when the
** check bits do not match (not a synthetic frame, or damaged beyond reading). */
int32_t vb_synth_read_index(const uint8_t * rgb, int32_t w, int32_t h);

/* Encode one synthetic video to path (MP4, moov at the front).  Returns VB_OK, VB_ERR_ARG for a bad spec,
** VB_ERR_IO / VB_ERR_VIDEO (message names the path) when writing or encoding fails. */
int vb_synth_write_video(const char * path, const struct vb_synth_video_spec * s);

struct vb_synth_opts {
    const char * out_dir;       /* created if missing */
    int32_t      n_videos;      /* default 8 */
    uint64_t     seed;          /* default 1 */
    int32_t      frames;        /* frames per video; 0: varied, 3-10 s at the video's fps */
    double       fps;           /* 0: varied among 10, 15, 24, 25, 29.97, 30 */
    int32_t      width, height; /* default 320 x 240 */
    int32_t      gop;           /* 0: varied among 6, 12, 30, 60 */
    int32_t      bframes;       /* -1: default 2 */
    int32_t      questions;     /* questions per video and dataset, default 2 */
    int32_t      skip_videos;   /* 1: write annotation files only (videos still described by the seed) */
    int32_t      first;         /* > 0: write only the first `first` videos and their questions of the n_videos
                                   benchmark (exactly those of the whole one: a prefix); 0: all */
    int32_t task;               /* VB_SYNTH_TASK_INDEX (default) or VB_SYNTH_TASK_EVENT (synth_task.h) */
    int32_t event_times;        /* event task: VB_SYNTH_EVENT_IID (default: each card time drawn on its own) or
                                   VB_SYNTH_EVENT_STRATIFIED (card times and How2QA windows stratified over the videos:
                                   vb_synth_event_place_stratified, vb_synth_event_windows_stratified) */
};

enum { VB_SYNTH_TASK_INDEX = 0, VB_SYNTH_TASK_EVENT = 1 };
enum { VB_SYNTH_EVENT_IID = 0, VB_SYNTH_EVENT_STRATIFIED = 1 };

/* Fill *o with the defaults above (out_dir NULL). */
void vb_synth_opts_default(struct vb_synth_opts * o);

/* Write the whole synthetic benchmark under o->out_dir:
**   videos/synth_NNN.mp4                      the encoded videos, manifest.json describing them;
**   nextqa/val.csv, nextqa/map_vid_vidorID.json, nextqa/videos/<folder>/<id>.mp4
**   star/STAR_val.json, star/videos/<video_id>.mp4
**   vlep/vlep_dev_release.jsonl, vlep/videos/{tvqa/videos_3fps_with_audio,vlep_ytb_clips}/<clip>.mp4
**   how2qa/how2QA_val_release.csv (raw), how2qa/raw_videos/<youtube_id>.mp4,
**   how2qa/how2qa_val_release.jsonl (VALUE), how2qa/how2_vid_mapping.json, how2qa/videos/<vid_name>.mp4
**   sevila/{nextqa,star,vlep,how2qa}/val.json  (unified format; videos roots as above)
** Per-dataset video names are relative symlinks to videos/.  Progress lines go to log (may be NULL).
** Returns VB_OK or a vb_status with the failing path in the message. */
int vb_synth_benchmark(const struct vb_synth_opts * o, FILE * log);

/* Colour name of the square in an RGB24 picture (h, w, 3) of any size (nearest palette colour), or NULL when the
** square region matches no palette colour. */
const char * vb_synth_read_square(const uint8_t * rgb, int32_t w, int32_t h);

/* End-to-end check of a benchmark written by vb_synth_benchmark: every annotation file is read with the real
** loaders (dataset.h), every sample's video is opened through its resolved path, 8 uniform_midbin frames inside its
** segment are decoded (video.h) and must show their own frame numbers, and the labelled answer must be what the
** pixels say (the square's colour, or the number shown in the asked frame).  *n_samples (may be NULL) receives
** the number of samples checked.  Returns VB_OK or the first failure (VB_ERR_MISMATCH, or the loader's / decoder's
** status) with file and sample key in the message. */
int vb_synth_verify(const char * dir, FILE * log, int32_t * n_samples);

#endif
