/* nextqa.c — NExT-QA multiple-choice CSV (docs/formats.md §2): header
** video,frame_count,width,height,question,answer,qid,type,a0..a4; key "{video}_{qid}"; category = type code as
** given (TP stays TP here; the eval_mc.py scorer in metrics/score.c merges it into TN), group = first letter. */
#include "datasets/csv.h"
#include "datasets/loaders_internal.h"

#include <string.h>

static const char * HEADER[13] = {"video", "frame_count", "width", "height", "question", "answer", "qid",
                                  "type",  "a0",          "a1",    "a2",     "a3",       "a4"};
static const char * TYPES[8] = {"CW", "CH", "TN", "TP", "TC", "DC", "DL", "DO"};

/* Non-negative decimal integer without sign or spaces; 1 ok. */
static int parse_uint(const char * s, int64_t * out) {
    if (!*s || strlen(s) > 15) return 0;
    int64_t v = 0;
    for (const char * p = s; *p; p++) {
        if (*p < '0' || *p > '9') return 0;
        v = v * 10 + (*p - '0');
    }
    *out = v;
    return 1;
}

static int row(struct vb_ld * ld, struct vb_csv * c, const struct vb_jsonmap * map) {
    int32_t line = c->rec_line;
    char ** f = c->fields;
    if (c->n_fields != 13) return vb_ld_bad(ld, line, "expected 13 fields, found %d", c->n_fields);
    for (int i = 0; i < 13; i++)
        if (!vb_ld_utf8_ok(f[i])) return vb_ld_bad(ld, line, "field '%s' is not valid UTF-8", HEADER[i]);
    int64_t v, n_frames = 0;
    if (!*f[0]) return vb_ld_bad(ld, line, "empty video id");
    for (const char * p = f[0]; *p; p++)
        if (*p < '0' || *p > '9') return vb_ld_bad(ld, line, "video id '%s' is not all digits", f[0]);
    for (int i = 1; i <= 3; i++) {
        if (!parse_uint(f[i], &v)) return vb_ld_bad(ld, line, "%s '%s' is not a non-negative integer", HEADER[i], f[i]);
        if (i == 1) n_frames = v;
    }
    if (!*f[4]) return vb_ld_bad(ld, line, "empty question");
    int64_t ans, qid;
    if (!parse_uint(f[5], &ans) || ans > 4) return vb_ld_bad(ld, line, "answer '%s' is not an integer 0-4", f[5]);
    if (!parse_uint(f[6], &qid)) return vb_ld_bad(ld, line, "qid '%s' is not a non-negative integer", f[6]);
    int t = -1;
    for (int i = 0; i < 8; i++)
        if (strcmp(f[7], TYPES[i]) == 0) t = i;
    if (t < 0) return vb_ld_bad(ld, line, "unknown question type '%s'", f[7]);
    for (int i = 8; i < 13; i++)
        if (!*f[i]) return vb_ld_bad(ld, line, "empty option %s", HEADER[i]);
    const char * rel = f[0];
    if (map) {
        rel = vb_jsonmap_get(map, f[0]);
        if (!rel) return vb_ld_bad(ld, line, "video '%s' is not in %s", f[0], ld->map_path);
    }
    struct vb_sample * s = vb_ld_new(ld, "nextqa", line);
    s->key = vb_ld_fmt("%s_%s", f[0], f[6]);
    if (!vb_ld_key_unique(ld, s->key)) {
        char key[64];
        snprintf(key, sizeof key, "%s", s->key);
        vb_ld_drop(ld);
        return vb_ld_bad(ld, line, "duplicate key '%s'", key);
    }
    s->video_id = vb_strdup(f[0]);
    s->video_path = vb_ld_video_path(ld, rel);
    s->question = vb_strdup(f[4]);
    s->n_options = 5;
    for (int i = 0; i < 5; i++)
        s->options[i] = vb_strdup(f[8 + i]);
    s->answer = (int32_t)ans;
    s->category = vb_strdup(TYPES[t]);
    s->group = vb_ld_fmt("%c", TYPES[t][0]);
    s->ann_frames = n_frames;
    return VB_OK;
}

int vb_ld_nextqa(struct vb_ld * ld) {
    struct vb_jsonmap map;
    int               have_map = 0;
    if (ld->map_path) {
        int st = vb_jsonmap_load(&map, ld->map_path);
        if (st) return st;
        have_map = 1;
    }
    char * buf;
    size_t len;
    int    st = vb_ld_read(ld->file, 0, &buf, &len);
    if (st) {
        if (have_map) vb_jsonmap_free(&map);
        return st;
    }
    struct vb_csv c;
    vb_csv_init(&c, buf, len);
    int r = vb_csv_next(&c);
    if (r != 1) {
        st = vb_fail(VB_ERR_FORMAT, "%s:1: %s", ld->file, r == 0 ? "empty file" : c.err);
        goto done;
    }
    if (c.n_fields != 13) {
        st = vb_fail(VB_ERR_FORMAT, "%s:1: header has %d fields, expected 13", ld->file, c.n_fields);
        goto done;
    }
    for (int i = 0; i < 13; i++)
        if (strcmp(c.fields[i], HEADER[i]) != 0) {
            st = vb_fail(VB_ERR_FORMAT, "%s:1: header field %d is '%s', expected '%s'", ld->file, i + 1, c.fields[i],
                         HEADER[i]);
            goto done;
        }
    while ((r = vb_csv_next(&c)) != 0) {
        st = r < 0 ? vb_ld_bad(ld, c.rec_line, "%s", c.err) : row(ld, &c, have_map ? &map : NULL);
        if (st) break;
    }
done:
    vb_csv_free(&c);
    free(buf);
    if (have_map) vb_jsonmap_free(&map);
    return st;
}
