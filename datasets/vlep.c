/* vlep.c — VLEP JSON Lines (docs/formats.md §4): vlep_{train,dev,test}_release.jsonl and VALUE's vlep_dev_archive.jsonl
** (same keys plus premise/tag/rationales).  key = example_id; segment = ts, seconds relative to the clip; no
** question; test records have no answer (-1).  Video path as SeViLA: YouTube clips (vid_name contains ':') under
** vlep_ytb_clips/, TV clips under tvqa/videos_3fps_with_audio/ with the trailing "_ep" removed. */
#include "datasets/loaders_internal.h"

#include <string.h>

/* Shared with sevila_json.c. */
char * vb_ld_vlep_rel(const char * vid_name);

char * vb_ld_vlep_rel(const char * vid_name) {
    if (strchr(vid_name, ':')) return vb_ld_fmt("vlep_ytb_clips/%s", vid_name);
    size_t n = strlen(vid_name);
    int    ep = n > 3 && strcmp(vid_name + n - 3, "_ep") == 0;
    return vb_ld_fmt("tvqa/videos_3fps_with_audio/%.*s", (int)(ep ? n - 3 : n), vid_name);
}

static int line_cb(void * ud, char * text, int32_t line) {
    struct vb_ld * ld = ud;
    if (!*text) return vb_ld_bad(ld, line, "empty line");
    cJSON * o = vb_ld_json_parse(text, strlen(text));
    if (!o) return vb_ld_bad(ld, line, "not valid JSON");
    int          st = VB_OK;
    int64_t      id, ans = -1;
    const char * vid;
    const cJSON *ts, *ev;
    double       t0 = 0, t1 = 0;
    int          ra;
    if (!cJSON_IsObject(o)) {
        st = vb_ld_bad(ld, line, "not a JSON object");
    } else if (vb_ld_jint(o, "example_id", &id) != 1) {
        st = vb_ld_bad(ld, line, "missing or non-integer 'example_id'");
    } else if (!(vid = vb_ld_jstr(o, "vid_name")) || !*vid) {
        st = vb_ld_bad(ld, line, "example %lld: missing 'vid_name'", (long long)id);
    } else if (!cJSON_IsArray(ts = cJSON_GetObjectItemCaseSensitive(o, "ts")) || cJSON_GetArraySize(ts) != 2 ||
               !cJSON_IsNumber(ts->child) || !cJSON_IsNumber(ts->child->next)) {
        st = vb_ld_bad(ld, line, "example %lld: 'ts' is not [start, end]", (long long)id);
    } else if ((t0 = ts->child->valuedouble) < 0 || (t1 = ts->child->next->valuedouble) < t0) {
        st = vb_ld_bad(ld, line, "example %lld: bad segment [%g, %g]", (long long)id, t0, t1);
    } else if (!cJSON_IsArray(ev = cJSON_GetObjectItemCaseSensitive(o, "events")) || cJSON_GetArraySize(ev) != 2 ||
               !cJSON_IsString(ev->child) || !cJSON_IsString(ev->child->next) || !*ev->child->valuestring ||
               !*ev->child->next->valuestring) {
        st = vb_ld_bad(ld, line, "example %lld: 'events' is not 2 non-empty strings", (long long)id);
    } else if ((ra = vb_ld_jint(o, "answer", &ans)) < 0 || (ra == 1 && (ans < 0 || ans > 1))) {
        st = vb_ld_bad(ld, line, "example %lld: 'answer' is not 0 or 1", (long long)id);
    } else {
        char key[32];
        snprintf(key, sizeof key, "%lld", (long long)id);
        if (vb_strmap_get(&ld->keys, key) >= 0) {
            st = vb_ld_bad(ld, line, "duplicate example_id %s", key);
        } else {
            struct vb_sample * s = vb_ld_new(ld, "vlep", line);
            s->key = vb_strdup(key);
            vb_ld_key_unique(ld, key);
            s->video_id = vb_strdup(vid);
            char * rel = vb_ld_vlep_rel(vid);
            s->video_path = vb_ld_video_path(ld, rel);
            free(rel);
            s->start_s = t0;
            s->end_s = t1;
            s->n_options = 2;
            s->options[0] = vb_strdup(ev->child->valuestring);
            s->options[1] = vb_strdup(ev->child->next->valuestring);
            s->answer = (int32_t)ans;
            s->category = vb_strdup("vlep");
            s->group = vb_strdup("vlep");
        }
    }
    cJSON_Delete(o);
    return st;
}

int vb_ld_vlep(struct vb_ld * ld) {
    char * buf;
    size_t len;
    int    st = vb_ld_read(ld->file, 1, &buf, &len);
    if (st) return st;
    st = vb_lines_walk(buf, len, line_cb, ld);
    free(buf);
    return st;
}
