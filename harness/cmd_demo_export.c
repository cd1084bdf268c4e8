/* cmd_demo_export.c — `vlapbench demo export`: the exact inputs the C pipeline gives the methods, for the demo
** trainer (tools/train-demo).
**
** For every sample of the four synthetic official-format files (NExT-QA CSV, STAR, VLEP, How2QA VALUE) it writes one
** JSON line with the candidate frame indices the runner samples (uniform_midbin inside the sample's segment: T = 32,
** 8 for How2QA, as VLAP uses; T = 32 for SeViLA everywhere; and k = 1, 2, 4 for uniform), the token ids every method
*builds from the sample's prompts (T5 QA
** prompt truncated right at 77 for uniform / SeViLA and untruncated for VLAP, T5 localizer prompt at 77, BERT QA
** prompt left-truncated at 128 with [CLS] / [SEP]), and where each frame's pixels are in the frames file.  The
** frames file holds every distinct (video, frame) once, as the decoder gives it to the runner: RGB24, image_size x
** image_size, squashed with the run's scaler (bilinear), before normalisation (vb_video_normalize_clip is
** ((x / 255) - mean) / std per channel, in f32).  A first JSON line holds the constants (letter / yes / eos ids,
** frame-prefix ids, image size).  Deterministic: same inputs, same bytes.
*/
#include "base/common.h"
#include "datasets/dataset.h"
#include "datasets/sampling.h"
#include "datasets/video.h"
#include "engine/tokenizer_bert.h"
#include "engine/tokenizer_t5.h"
#include "harness/cli.h"
#include "methods/prompts.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

int cmd_demo_export(int argc, char ** argv);

static const struct {
    const char *kind, *ann, *map, *videos;
    int32_t     T;
} EXP_DS[] = {
    {"nextqa", "nextqa/val.csv", "nextqa/map_vid_vidorID.json", "nextqa/videos", 32},
    {"star", "star/STAR_val.json", NULL, "star/videos", 32},
    {"vlep", "vlep/vlep_dev_release.jsonl", NULL, "vlep/videos", 32},
    {"how2qa-value", "how2qa/how2qa_val_release.jsonl", "how2qa/how2_vid_mapping.json", "how2qa/videos", 8},
};

/* distinct (video, frame) records already written to the frames file */
struct frec {
    char *  video; /* realpath */
    int64_t idx;
};
struct fstore {
    struct frec * r;
    int64_t       n, cap;
    FILE *        f;
    const char *  path;
};

static cJSON * ids_json(const int32_t * ids, int32_t n) {
    cJSON * a = cJSON_CreateArray();
    for (int32_t i = 0; i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber(ids[i]));
    return a;
}

/* T5 ids as vb_method_t5_ids builds them: with </s>; truncated to max_len (right) only when longer. */
static int t5_ids(const struct vb_t5tok * tok, const char * text, int32_t max_len, int32_t ** ids, int32_t * n) {
    int rc = vb_t5tok_encode(tok, text, 1, 0, ids, n);
    if (rc != VB_OK || max_len <= 0 || *n <= max_len) return rc;
    free(*ids);
    return vb_t5tok_encode_ex(tok, text, strlen(text), 1, max_len, 0, ids, n);
}

static int add_t5(cJSON * o, const char * name, const struct vb_t5tok * tok, const char * text, int32_t max_len) {
    int32_t *ids = NULL, n = 0;
    int      rc = t5_ids(tok, text, max_len, &ids, &n);
    if (rc == VB_OK) cJSON_AddItemToObject(o, name, ids_json(ids, n));
    free(ids);
    return rc;
}

/* Record number of (video, idx) in the frames file, decoding and appending it when new. */
static int frame_rec(struct fstore * fs, struct vb_video * v, const char * real, int64_t idx, uint8_t * rgb, int32_t H,
                     int64_t * rec) {
    for (int64_t i = fs->n - 1; i >= 0; i--) /* recent first: a video's frames are asked together */
        if (fs->r[i].idx == idx && !strcmp(fs->r[i].video, real)) {
            *rec = i;
            return VB_OK;
        }
    int rc = vb_video_read_frames(v, &idx, 1, rgb, NULL, NULL);
    if (rc != VB_OK) return rc;
    size_t sz = (size_t)H * (size_t)H * 3;
    if (fwrite(rgb, 1, sz, fs->f) != sz) return vb_fail(VB_ERR_IO, "%s: write failed: %s", fs->path, strerror(errno));
    if (fs->n == fs->cap) fs->r = vb_realloc(fs->r, sizeof *fs->r * (size_t)(fs->cap = fs->cap * 2 + 64));
    fs->r[fs->n].video = vb_strdup(real);
    fs->r[fs->n].idx = idx;
    *rec = fs->n++;
    return VB_OK;
}

static int export_sample(FILE * jf, struct fstore * fs, const struct vb_sample * s, const char * ds_name, int32_t T,
                         int nextqa, const struct vb_t5tok * tok, const struct vb_berttok * bt, int32_t H,
                         uint8_t * rgb) {
    struct vb_prompt_text text;
    int                   rc = vb_prompt_text_from_sample(&text, s, nextqa);
    if (rc != VB_OK) return rc;
    char *  qa = vb_prompt_qa(&text), *loc = vb_prompt_loc(&text);
    cJSON * o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "dataset", ds_name);
    cJSON_AddStringToObject(o, "key", s->key);
    cJSON_AddStringToObject(o, "category", s->category ? s->category : "");
    cJSON_AddNumberToObject(o, "answer", s->answer);
    cJSON_AddNumberToObject(o, "n_options", s->n_options);
    rc = add_t5(o, "qa_t5_77", tok, qa, 77);
    if (rc == VB_OK) rc = add_t5(o, "qa_t5_full", tok, qa, -1);
    if (rc == VB_OK) rc = add_t5(o, "loc_t5_77", tok, loc, 77);
    if (rc == VB_OK) {
        int32_t *b = NULL, nb = 0;
        rc = vb_berttok_encode(bt, qa, strlen(qa), 1, 128, 1, &b, &nb);
        if (rc == VB_OK) cJSON_AddItemToObject(o, "qa_bert", ids_json(b, nb));
        free(b);
    }
    char * real = s->video_path ? realpath(s->video_path, NULL) : NULL;
    if (rc == VB_OK && !real)
        rc = vb_fail(VB_ERR_IO, "sample %s: video %s: %s", s->key, s->video_path, strerror(errno));
    struct vb_video v;
    memset(&v, 0, sizeof v);
    int opened = 0;
    if (rc == VB_OK) {
        struct vb_video_opts vo;
        vb_video_opts_default(&vo);
        vo.out_w = vo.out_h = H;
        vo.interp = VB_VIDEO_BILINEAR;
        rc = vb_video_open(&v, s->video_path, &vo);
        opened = rc == VB_OK;
    }
    int64_t f0 = 0, f1 = 0;
    if (rc == VB_OK) rc = vb_video_segment_frames(&v, s->start_s, s->end_s, &f0, &f1);
    if (rc == VB_OK) {
        cJSON_AddStringToObject(o, "video", strrchr(real, '/') ? strrchr(real, '/') + 1 : real);
        cJSON_AddNumberToObject(o, "seg_f0", (double)f0);
        cJSON_AddNumberToObject(o, "seg_f1", (double)f1);
    }
    static const struct {
        const char * name;
        int32_t      n; /* 0: T */
    } SETS[] = {{"cand", 0}, {"cand32", 32}, {"uniform1", 1}, {"uniform2", 2}, {"uniform4", 4}};
    for (size_t k = 0; k < sizeof SETS / sizeof SETS[0] && rc == VB_OK; k++) {
        int32_t n = SETS[k].n ? SETS[k].n : T;
        int64_t idx[64];
        int32_t got = vb_sampling_indices(VB_SAMPLING_UNIFORM_MIDBIN, f0, f1, v.n_frames, n, idx);
        if (got != n) {
            rc = vb_fail(VB_ERR_MISMATCH, "sample %s: %d of %d frames sampled", s->key, got, n);
            break;
        }
        cJSON *a = cJSON_CreateArray(), *rr = cJSON_CreateArray();
        for (int32_t j = 0; j < n && rc == VB_OK; j++) {
            int64_t rec = -1;
            rc = frame_rec(fs, &v, real, idx[j], rgb, H, &rec);
            cJSON_AddItemToArray(a, cJSON_CreateNumber((double)idx[j]));
            cJSON_AddItemToArray(rr, cJSON_CreateNumber((double)rec));
        }
        char nm[32];
        cJSON_AddItemToObject(o, SETS[k].name, a);
        snprintf(nm, sizeof nm, "%s_rec", SETS[k].name);
        cJSON_AddItemToObject(o, nm, rr);
    }
    if (rc == VB_OK) {
        char * line = cJSON_PrintUnformatted(o);
        if (fprintf(jf, "%s\n", line) < 0) rc = vb_fail(VB_ERR_IO, "write failed");
        free(line);
    }
    if (opened) vb_video_close(&v);
    free(real);
    cJSON_Delete(o);
    free(qa);
    free(loc);
    vb_prompt_text_free(&text);
    return rc;
}

static int header(FILE * jf, const struct vb_t5tok * tok, int32_t H) {
    cJSON * o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "format", "vlapbench demo export 1");
    cJSON_AddNumberToObject(o, "image_size", H);
    cJSON * L = cJSON_CreateArray();
    for (int32_t j = 0; j < VB_PROMPT_N_LETTERS; j++)
        cJSON_AddItemToArray(L, cJSON_CreateNumber(vb_t5tok_piece_id(tok, vb_prompt_letter_pieces[j])));
    cJSON_AddItemToObject(o, "letter_ids", L);
    cJSON_AddNumberToObject(o, "yes_id", vb_t5tok_piece_id(tok, VB_PROMPT_YES_PIECE));
    cJSON_AddNumberToObject(o, "no_id", vb_t5tok_piece_id(tok, "\xe2\x96\x81no"));
    cJSON_AddNumberToObject(o, "eos_id", vb_t5tok_eos_id(tok));
    int rc = VB_OK;
    for (int32_t i = 0; i <= 4 && rc == VB_OK; i++) {
        char     buf[32], nm[32];
        int32_t *ids = NULL, n = 0;
        rc = vb_t5tok_encode(tok, vb_prompt_frame_prefix(i, buf, sizeof buf), 0, 0, &ids, &n);
        snprintf(nm, sizeof nm, "prefix%d", i);
        if (rc == VB_OK) cJSON_AddItemToObject(o, nm, ids_json(ids, n));
        free(ids);
    }
    for (int32_t j = 0; j < VB_PROMPT_N_LETTERS && rc == VB_OK; j++) {
        char     s[32], nm[32];
        int32_t *ids = NULL, n = 0;
        snprintf(s, sizeof s, "Option %c", vb_prompt_letter(j));
        rc = vb_t5tok_encode(tok, s, 1, 0, &ids, &n);
        snprintf(nm, sizeof nm, "target%d", j);
        if (rc == VB_OK) cJSON_AddItemToObject(o, nm, ids_json(ids, n));
        free(ids);
    }
    for (int32_t j = 0; j < 2 && rc == VB_OK; j++) {
        int32_t *ids = NULL, n = 0;
        rc = vb_t5tok_encode(tok, j ? "no" : "yes", 1, 0, &ids, &n);
        if (rc == VB_OK) cJSON_AddItemToObject(o, j ? "target_no" : "target_yes", ids_json(ids, n));
        free(ids);
    }
    /* the event task's colour names (synth.c palette order), without </s> */
    static const char * const COLOURS[8] = {"red", "green", "blue", "yellow", "purple", "orange", "pink", "brown"};
    cJSON *                   C = cJSON_CreateArray();
    for (int32_t j = 0; j < 8 && rc == VB_OK; j++) {
        int32_t *ids = NULL, n = 0;
        rc = vb_t5tok_encode(tok, COLOURS[j], 0, 0, &ids, &n);
        if (rc == VB_OK) cJSON_AddItemToArray(C, ids_json(ids, n));
        free(ids);
    }
    cJSON_AddItemToObject(o, "colour_ids", C);
    if (rc == VB_OK) {
        char * line = cJSON_PrintUnformatted(o);
        fprintf(jf, "%s\n", line);
        free(line);
    }
    cJSON_Delete(o);
    return rc;
}

int cmd_demo_export(int argc, char ** argv) {
    const char *synth = NULL, *tokdir = NULL, *out = NULL, *v;
    int32_t     H = 224;
    for (int i = 2; i < argc; i++) {
        if (vb_cli_opt(argc, argv, &i, "--synth", &v))
            synth = v;
        else if (vb_cli_opt(argc, argv, &i, "--tokenizer-dir", &v))
            tokdir = v;
        else if (vb_cli_opt(argc, argv, &i, "--out", &v))
            out = v;
        else if (vb_cli_opt(argc, argv, &i, "--image-size", &v)) {
            H = atoi(v);
            if (H < 16 || H > 1024) {
                fprintf(stderr, "demo export: --image-size must be 16..1024\n");
                return 2;
            }
        } else {
            fprintf(stderr, "demo export: unknown option or missing value: %s\n", argv[i]);
            return 2;
        }
    }
    if (!synth || !tokdir || !out) {
        fprintf(stderr, "demo export: --synth DIR, --tokenizer-dir D and --out PREFIX are required\n");
        return 2;
    }
    char                p[4200], fpath[4200];
    struct vb_t5tok *   tok = NULL;
    struct vb_berttok * bt = NULL;
    snprintf(p, sizeof p, "%s/tokenizer.json", tokdir);
    int rc = vb_t5tok_load(&tok, p);
    if (rc == VB_OK) {
        snprintf(p, sizeof p, "%s/vocab.txt", tokdir);
        rc = vb_berttok_load(&bt, p);
    }
    snprintf(p, sizeof p, "%s.jsonl", out);
    snprintf(fpath, sizeof fpath, "%s.frames", out);
    FILE *        jf = rc == VB_OK ? fopen(p, "wb") : NULL;
    struct fstore fs = {.path = fpath};
    if (rc == VB_OK && jf) fs.f = fopen(fpath, "wb");
    if (rc == VB_OK && (!jf || !fs.f))
        rc = vb_fail(VB_ERR_IO, "%s: cannot create: %s", jf ? fpath : p, strerror(errno));
    uint8_t * rgb = vb_malloc((size_t)H * (size_t)H * 3);
    int64_t   n = 0;
    if (rc == VB_OK) rc = header(jf, tok, H);
    for (size_t d = 0; d < sizeof EXP_DS / sizeof EXP_DS[0] && rc == VB_OK; d++) {
        char ann[4096], map[4096], vid[4096];
        snprintf(ann, sizeof ann, "%s/%s", synth, EXP_DS[d].ann);
        if (EXP_DS[d].map) snprintf(map, sizeof map, "%s/%s", synth, EXP_DS[d].map);
        snprintf(vid, sizeof vid, "%s/%s", synth, EXP_DS[d].videos);
        enum vb_dataset_kind kind;
        struct vb_dataset    ds;
        rc = vb_dataset_kind_parse(EXP_DS[d].kind, &kind);
        if (rc == VB_OK) rc = vb_dataset_load(&ds, kind, ann, EXP_DS[d].map ? map : NULL, vid, 0);
        if (rc != VB_OK) break;
        for (int32_t i = 0; i < ds.n && rc == VB_OK; i++, n++)
            rc = export_sample(jf, &fs, &ds.s[i], EXP_DS[d].kind, EXP_DS[d].T, kind == VB_DS_NEXTQA, tok, bt, H, rgb);
        vb_dataset_free(&ds);
    }
    if (jf && fclose(jf) != 0 && rc == VB_OK) rc = vb_fail(VB_ERR_IO, "%s: close failed", p);
    if (fs.f && fclose(fs.f) != 0 && rc == VB_OK) rc = vb_fail(VB_ERR_IO, "%s: close failed", fpath);
    for (int64_t i = 0; i < fs.n; i++)
        free(fs.r[i].video);
    free(fs.r);
    free(rgb);
    vb_t5tok_free(tok);
    vb_berttok_free(bt);
    if (rc != VB_OK) {
        fprintf(stderr, "demo export: %s\n", vb_errmsg());
        return 1;
    }
    fprintf(stderr, "demo export: %lld samples, %lld distinct frames -> %s.jsonl, %s.frames\n", (long long)n,
            (long long)fs.n, out, out);
    return 0;
}
