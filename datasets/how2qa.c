/* how2qa.c — How2QA in its two releases (docs/formats.md §5).
** Raw HERO CSV: no header, 7 columns youtube_id, "[start:end]" (absolute seconds in the full YouTube video), three
** wrong answers, question, correct answer; options permuted by vb_dataset_how2qa_perm; key = the 1-based line number.
** VALUE JSONL: vid_name, ts "s-e" (seconds relative to the 60-s clip {vid_name}.mp4), qid, q, a0..a3 (a4 if present),
** answer_idx (absent on test); key = qid. */
#include "datasets/csv.h"
#include "datasets/loaders_internal.h"

#include <string.h>

static int yt_ok(const char * s) {
    size_t n = strlen(s);
    if (n < 10 || n > 11) return 0;
    for (const char * p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
              *p == '-'))
            return 0;
    return 1;
}

/* "[s:e]" -> s, e; 1 ok. */
static int parse_seg(const char * f, double * s, double * e) {
    size_t n = strlen(f);
    if (n < 5 || f[0] != '[' || f[n - 1] != ']') return 0;
    const char * colon = strchr(f, ':');
    if (!colon) return 0;
    char   a[64], b[64];
    size_t la = (size_t)(colon - f - 1), lb = (size_t)(f + n - 1 - colon - 1);
    if (la == 0 || lb == 0 || la >= sizeof a || lb >= sizeof b) return 0;
    memcpy(a, f + 1, la);
    a[la] = 0;
    memcpy(b, colon + 1, lb);
    b[lb] = 0;
    return vb_ld_parse_double(a, s) && vb_ld_parse_double(b, e);
}

static int raw_row(struct vb_ld * ld, struct vb_csv * c) {
    int32_t line = c->rec_line;
    char ** f = c->fields;
    if (c->n_fields != 7) return vb_ld_bad(ld, line, "expected 7 fields, found %d", c->n_fields);
    for (int i = 0; i < 7; i++) {
        if (!vb_ld_utf8_ok(f[i])) return vb_ld_bad(ld, line, "field %d is not valid UTF-8", i + 1);
        if (!*f[i]) return vb_ld_bad(ld, line, "field %d is empty", i + 1);
    }
    if (!yt_ok(f[0])) return vb_ld_bad(ld, line, "'%s' is not a YouTube id", f[0]);
    double t0, t1;
    if (!parse_seg(f[1], &t0, &t1)) return vb_ld_bad(ld, line, "segment '%s' is not [start:end]", f[1]);
    if (t0 < 0 || t1 < t0) return vb_ld_bad(ld, line, "bad segment %s", f[1]);
    /* the key is the line: a repeated row (same video, segment, question and options) is caught on its content */
    char * row = vb_ld_fmt("%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s", f[0], f[1], f[2], f[3], f[4], f[5], f[6]);
    int    first = vb_strmap_get(&ld->rows, row);
    if (first < 0) vb_strmap_put(&ld->rows, row, line);
    free(row);
    if (first >= 0) return vb_ld_bad(ld, line, "duplicate row (same as line %d)", first);
    struct vb_sample * s = vb_ld_new(ld, "how2qa", line);
    s->key = vb_ld_fmt("%d", line);
    vb_ld_key_unique(ld, s->key);
    s->video_id = vb_strdup(f[0]);
    s->video_path = vb_ld_video_path(ld, f[0]);
    s->start_s = t0;
    s->end_s = t1;
    s->question = vb_strdup(f[5]);
    s->n_options = 4;
    int  perm[4];
    char ps[5];
    s->answer = vb_dataset_how2qa_perm(f[0], f[1], f[5], perm, ps);
    const char * orig[4] = {f[2], f[3], f[4], f[6]};
    for (int k = 0; k < 4; k++)
        s->options[k] = vb_strdup(orig[perm[k]]);
    s->category = vb_strdup("how2qa");
    s->group = vb_strdup("how2qa");
    return VB_OK;
}

int vb_ld_how2qa_raw(struct vb_ld * ld) {
    char * buf;
    size_t len;
    int    st = vb_ld_read(ld->file, 0, &buf, &len);
    if (st) return st;
    struct vb_csv c;
    vb_csv_init(&c, buf, len);
    int r;
    while ((r = vb_csv_next(&c)) != 0) {
        st = r < 0 ? vb_ld_bad(ld, c.rec_line, "%s", c.err) : raw_row(ld, &c);
        if (st) break;
    }
    vb_csv_free(&c);
    free(buf);
    return st;
}

/* ---- VALUE JSONL ---- */

static int value_line(void * ud, char * text, int32_t line) {
    struct vb_ld * ld = ud;
    if (!*text) return vb_ld_bad(ld, line, "empty line");
    cJSON * o = vb_ld_json_parse(text, strlen(text));
    if (!o) return vb_ld_bad(ld, line, "not valid JSON");
    int                 st = VB_OK;
    int64_t             qid, ans = -1;
    const char *        vid, *ts, *q;
    const char *        opt[5] = {0};
    int                 n_opt = 0, ra;
    double              t0 = 0, t1 = 0;
    static const char * AN[5] = {"a0", "a1", "a2", "a3", "a4"};
    if (!cJSON_IsObject(o)) {
        st = vb_ld_bad(ld, line, "not a JSON object");
        goto out;
    }
    if (vb_ld_jint(o, "qid", &qid) != 1) {
        st = vb_ld_bad(ld, line, "missing or non-integer 'qid'");
        goto out;
    }
    if (!(vid = vb_ld_jstr(o, "vid_name")) || !*vid) {
        st = vb_ld_bad(ld, line, "qid %lld: missing 'vid_name'", (long long)qid);
        goto out;
    }
    if (!(q = vb_ld_jstr(o, "q")) || !*q) {
        st = vb_ld_bad(ld, line, "qid %lld: missing 'q'", (long long)qid);
        goto out;
    }
    ts = vb_ld_jstr(o, "ts");
    if (ts) {
        const char * dash = strchr(ts + (*ts ? 1 : 0), '-');
        char         a[64];
        size_t       la = dash ? (size_t)(dash - ts) : 0;
        if (!dash || la >= sizeof a) {
            st = vb_ld_bad(ld, line, "qid %lld: ts '%s' is not start-end", (long long)qid, ts);
            goto out;
        }
        memcpy(a, ts, la);
        a[la] = 0;
        if (!vb_ld_parse_double(a, &t0) || !vb_ld_parse_double(dash + 1, &t1) || t0 < 0 || t1 < t0) {
            st = vb_ld_bad(ld, line, "qid %lld: ts '%s' is not start-end", (long long)qid, ts);
            goto out;
        }
    } else if (cJSON_GetObjectItemCaseSensitive(o, "ts")) {
        st = vb_ld_bad(ld, line, "qid %lld: 'ts' is not a string", (long long)qid);
        goto out;
    }
    for (int i = 0; i < 5; i++) {
        opt[i] = vb_ld_jstr(o, AN[i]);
        if (!opt[i]) break;
        n_opt++;
    }
    if (n_opt < 4) {
        st = vb_ld_bad(ld, line, "qid %lld: option a%d missing or not a string", (long long)qid, n_opt);
        goto out;
    }
    ra = vb_ld_jint(o, "answer_idx", &ans);
    if (ra < 0 || (ra == 1 && (ans < 0 || ans >= n_opt))) {
        st = vb_ld_bad(ld, line, "qid %lld: 'answer_idx' is not an integer 0-%d", (long long)qid, n_opt - 1);
        goto out;
    }
    char key[32];
    snprintf(key, sizeof key, "%lld", (long long)qid);
    if (vb_strmap_get(&ld->keys, key) >= 0) {
        st = vb_ld_bad(ld, line, "duplicate qid %s", key);
        goto out;
    }
    struct vb_sample * s = vb_ld_new(ld, "how2qa", line);
    s->key = vb_strdup(key);
    vb_ld_key_unique(ld, key);
    s->video_id = vb_strdup(vid);
    s->video_path = vb_ld_video_path(ld, vid);
    if (ts) {
        s->start_s = t0;
        s->end_s = t1;
    }
    s->question = vb_strdup(q);
    s->n_options = n_opt;
    for (int i = 0; i < n_opt; i++)
        s->options[i] = vb_strdup(opt[i]);
    s->answer = (int32_t)ans;
    s->category = vb_strdup("how2qa");
    s->group = vb_strdup("how2qa");
out:
    cJSON_Delete(o);
    return st;
}

int vb_ld_how2qa_value(struct vb_ld * ld) {
    if (ld->map_path) { /* validate the mapping file; segments stay relative to the clip {vid_name}.mp4 */
        struct vb_jsonmap map;
        int               st = vb_jsonmap_load(&map, ld->map_path);
        if (st) return st;
        for (int32_t i = 0; i < map.n && !st; i++) {
            char   yt[64];
            double a, b;
            if (vb_dataset_how2_clip_parse(map.vals[i], yt, sizeof yt, &a, &b))
                st = vb_fail(VB_ERR_FORMAT, "%s: key '%s': value '%s' is not youtubeid_start_end", ld->map_path,
                             map.keys[i], map.vals[i]);
        }
        vb_jsonmap_free(&map);
        if (st) return st;
    }
    char * buf;
    size_t len;
    int    st = vb_ld_read(ld->file, 1, &buf, &len);
    if (st) return st;
    st = vb_lines_walk(buf, len, value_line, ld);
    free(buf);
    return st;
}
