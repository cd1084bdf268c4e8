/* dataset.h — the one sample record every annotation loader produces, and the loader entry points.
**
** Formats (docs/formats.md): NExT-QA CSV (+ map_vid_vidorID.json), STAR JSON (official and the
** pre-release demo schema), VLEP JSONL (and the VALUE archive), How2QA raw HERO CSV and VALUE JSONL
** (+ how2_vid_mapping.json), and the SeViLA/LAVIS unified JSON.  A malformed record stops the load with
** "file:line: reason" (VB_ERR_FORMAT) unless skip_bad is set, in which case it is counted and listed.
** Checks every format shares: the annotation and map files hold no NUL byte, only valid UTF-8 and (JSON) no \u0000
** escape (damage to the file's encoding fails the load even with skip_bad); sample keys are unique (raw How2QA CSV,
** keyed by line: rows are unique by content); a video id, and the path it resolves to, stays inside the videos
** directory (no '..' component, not absolute); in a val / dev / train split, and in any file where some record has
** an answer, every record has one (a record without is malformed, never silently unscored).
*/
#ifndef VB_DATASET_H
#define VB_DATASET_H

#include <stdint.h>

enum vb_dataset_kind {
    VB_DS_NEXTQA = 0,
    VB_DS_STAR,
    VB_DS_VLEP,
    VB_DS_HOW2QA,       /* raw HERO CSV */
    VB_DS_HOW2QA_VALUE, /* VALUE JSONL */
    VB_DS_SEVILA,       /* SeViLA / LAVIS unified JSON */
    VB_DS_COUNT
};

#define VB_MAX_OPTIONS 5

struct vb_sample {
    char * dataset;     /* "nextqa", "star", "vlep", "how2qa" (canonical dataset name, not the file format) */
    char * split;       /* "val", "test", "train", ... (from the file name or record) */
    char * key;         /* the official sample key the official scorer uses (NExT-QA "video_qid", VLEP example_id,
                           How2QA qid, STAR question_id) */
    char *  video_id;   /* id as in the annotations */
    char *  video_path; /* resolved path under the videos root, or NULL when no root was given */
    double  start_s;    /* segment start in seconds relative to the video file; < 0: whole video */
    double  end_s;      /* segment end in seconds; < 0: whole video */
    char *  question;   /* NULL for VLEP */
    int32_t n_options;  /* 2..5 */
    char *  options[VB_MAX_OPTIONS];
    int32_t answer;     /* 0-based index into options, -1 when unknown (test splits) */
    char *  category;   /* category code as the official scorer counts it ("CW", "TN", "Interaction", ...); for
                           datasets without categories the dataset name */
    char *  group;      /* pooled group ("C", "T", "D" for NExT-QA; equal to category elsewhere) */
    int32_t line;       /* 1-based source line (or record index) for messages */
    int64_t ann_frames; /* the annotation's own frame count of the video (NExT-QA frame_count); 0 = not given */
};

struct vb_dataset {
    enum vb_dataset_kind kind;
    char *               path;  /* annotation file */
    int32_t              n;     /* samples loaded */
    struct vb_sample *   s;     /* (n) */
    int32_t              n_bad; /* malformed records skipped (only with skip_bad) */
    char **              bad;   /* (n_bad) "file:line: reason" */
};

/* Parse a dataset name ("nextqa", "star", "vlep", "how2qa", "how2qa-value", "sevila") into *kind.
** Returns VB_OK or VB_ERR_ARG. */
int          vb_dataset_kind_parse(const char * name, enum vb_dataset_kind * kind);
const char * vb_dataset_kind_name(enum vb_dataset_kind kind);

/* Load an annotation file.  map_path: NExT-QA map_vid_vidorID.json / How2QA how2_vid_mapping.json / NULL.
** videos_root: directory for resolving video_path, or NULL.  skip_bad: count and list malformed records instead
** of failing.  On failure returns a vb_status with "file:line: reason" in vb_errmsg() and *out is empty.
** The caller frees with vb_dataset_free. */
int vb_dataset_load(struct vb_dataset * out, enum vb_dataset_kind kind, const char * annotations, const char * map_path,
                    const char * videos_root, int skip_bad);
void vb_dataset_free(struct vb_dataset * d);

#endif
