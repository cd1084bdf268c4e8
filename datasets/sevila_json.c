/* sevila_json.c — the SeViLA / LAVIS unified JSON (docs/formats.md §6): one array of
** {video, num_option, qid, a0.., answer, question, start, end}.  The dataset is recognised from the qid prefix
** (qid.split('_')[0], as VideoQA._report_metrics does): a NExT-QA type code, a STAR category, HOW2QA or VLEP.
** key = qid; category = that prefix (NExT-QA: the type code, TP kept), group = NExT-QA C/T/D or the category.
** start/end may be numbers or numeric strings and are relative to the video file; VLEP has no question. */
#include "datasets/loaders_internal.h"

#include <string.h>

char * vb_ld_vlep_rel(const char * vid_name);

static const char * NEXT[8] = {"CW", "CH", "TN", "TP", "TC", "DC", "DL", "DO"};
static const char * STARC[4] = {"Interaction", "Sequence", "Prediction", "Feasibility"};

/* number or numeric string member: 0 absent, 1 ok, -1 bad */
static int num_or_str(const cJSON * o, const char * name, double * out) {
    const cJSON * it = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!it) return 0;
    if (cJSON_IsString(it)) return vb_ld_parse_double(it->valuestring, out) ? 1 : -1;
    return vb_ld_jnum(o, name, out);
}

static int record(struct vb_ld * ld, const cJSON * o, int32_t line) {
    if (!cJSON_IsObject(o)) return vb_ld_bad(ld, line, "record is not a JSON object");
    const char * qid = vb_ld_jstr(o, "qid");
    if (!qid || !*qid) return vb_ld_bad(ld, line, "missing or non-string 'qid'");
    char         prefix[32];
    const char * us = strchr(qid, '_');
    size_t       pl = us ? (size_t)(us - qid) : strlen(qid);
    if (pl >= sizeof prefix) pl = sizeof prefix - 1;
    memcpy(prefix, qid, pl);
    prefix[pl] = 0;
    const char * ds = NULL;
    int          want_opt = 0;
    for (int i = 0; i < 8; i++)
        if (strcmp(prefix, NEXT[i]) == 0) ds = "nextqa", want_opt = 5;
    for (int i = 0; i < 4; i++)
        if (strcmp(prefix, STARC[i]) == 0) ds = "star", want_opt = 4;
    if (strcmp(prefix, "HOW2QA") == 0) ds = "how2qa", want_opt = 4;
    if (strcmp(prefix, "VLEP") == 0) ds = "vlep", want_opt = 2;
    if (!ds) return vb_ld_bad(ld, line, "qid '%s': unknown prefix '%s'", qid, prefix);
    int64_t nopt;
    if (vb_ld_jint(o, "num_option", &nopt) != 1 || nopt != want_opt)
        return vb_ld_bad(ld, line, "qid '%s': 'num_option' must be %d", qid, want_opt);
    const cJSON * v = cJSON_GetObjectItemCaseSensitive(o, "video");
    char          vbuf[32];
    const char *  video = NULL;
    if (cJSON_IsString(v) && *v->valuestring)
        video = v->valuestring;
    else if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1e15 &&
             v->valuedouble == (double)(int64_t)v->valuedouble) {
        snprintf(vbuf, sizeof vbuf, "%lld", (long long)v->valuedouble);
        video = vbuf;
    }
    if (!video) return vb_ld_bad(ld, line, "qid '%s': missing 'video'", qid);
    const char * q = vb_ld_jstr(o, "question");
    if (strcmp(ds, "vlep") != 0 && (!q || !*q)) return vb_ld_bad(ld, line, "qid '%s': missing 'question'", qid);
    const char *        opt[5] = {0};
    static const char * AN[5] = {"a0", "a1", "a2", "a3", "a4"};
    for (int i = 0; i < want_opt; i++)
        if (!(opt[i] = vb_ld_jstr(o, AN[i]))) return vb_ld_bad(ld, line, "qid '%s': missing option a%d", qid, i);
    int64_t ans = -1;
    int     ra = vb_ld_jint(o, "answer", &ans);
    if (ra < 0 || (ra == 1 && (ans < 0 || ans >= want_opt)))
        return vb_ld_bad(ld, line, "qid '%s': 'answer' is not an integer 0-%d", qid, want_opt - 1);
    double t0 = -1, t1 = -1;
    int    r0 = num_or_str(o, "start", &t0), r1 = num_or_str(o, "end", &t1);
    if (r0 < 0 || r1 < 0 || r0 != r1) return vb_ld_bad(ld, line, "qid '%s': 'start'/'end' not both numbers", qid);
    if (r0 == 1 && (t0 < 0 || t1 < t0)) return vb_ld_bad(ld, line, "qid '%s': bad segment [%g, %g]", qid, t0, t1);
    if (vb_strmap_get(&ld->keys, qid) >= 0) return vb_ld_bad(ld, line, "duplicate qid '%s'", qid);
    struct vb_sample * s = vb_ld_new(ld, ds, line);
    s->key = vb_strdup(qid);
    vb_ld_key_unique(ld, qid);
    s->video_id = vb_strdup(video);
    if (strcmp(ds, "vlep") == 0) {
        char * rel = vb_ld_vlep_rel(video);
        s->video_path = vb_ld_video_path(ld, rel);
        free(rel);
    } else {
        s->video_path = vb_ld_video_path(ld, video);
    }
    s->start_s = t0;
    s->end_s = t1;
    s->question = q ? vb_strdup(q) : NULL;
    s->n_options = want_opt;
    for (int i = 0; i < want_opt; i++)
        s->options[i] = vb_strdup(opt[i]);
    s->answer = (int32_t)ans;
    if (strcmp(ds, "nextqa") == 0) {
        s->category = vb_strdup(prefix);
        s->group = vb_ld_fmt("%c", prefix[0]);
    } else if (strcmp(ds, "star") == 0) {
        s->category = vb_strdup(prefix);
        s->group = vb_strdup(prefix);
    } else {
        s->category = vb_strdup(ds);
        s->group = vb_strdup(ds);
    }
    return VB_OK;
}

static int element(void * ud, const char * text, size_t n, int32_t line) {
    struct vb_ld * ld = ud;
    cJSON *        o = vb_ld_json_parse(text, n);
    if (!o) return vb_ld_bad(ld, line, "record is not valid JSON");
    int st = record(ld, o, line);
    cJSON_Delete(o);
    return st;
}

int vb_ld_sevila(struct vb_ld * ld) {
    char * buf;
    size_t len;
    int    st = vb_ld_read(ld->file, 1, &buf, &len);
    if (st) return st;
    int is_obj = 0;
    st = vb_ld_json_walk(ld->file, buf, len, &is_obj, element, ld);
    if (!st && is_obj) st = vb_fail(VB_ERR_FORMAT, "%s:1: expected a JSON array of records", ld->file);
    free(buf);
    return st;
}
