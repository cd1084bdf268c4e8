/* star.c — STAR QA JSON (docs/formats.md §3): the official array schema, the pre-release array schema of
** sel_examples.json (choices[].answer = "Correct"/"Wrong", checked against the answer text), and the homepage
** object keyed by question_id (selected_examples_keyframes_dict.json, where `answer` holds the video id and the
** correct choice is the one marked "Correct").  Category = question_id up to the first '_'. */
#include "datasets/loaders_internal.h"

#include <string.h>

static const char * CATS[4] = {"Interaction", "Sequence", "Prediction", "Feasibility"};

struct star_ud {
    struct vb_ld * ld;
    int            is_object;
};

static int record(struct vb_ld * ld, const cJSON * o, int32_t line, int homepage) {
    if (!cJSON_IsObject(o)) return vb_ld_bad(ld, line, "record is not a JSON object");
    const char * qid = vb_ld_jstr(o, "question_id");
    if (!qid || !*qid) return vb_ld_bad(ld, line, "missing or non-string 'question_id'");
    const char * us = strchr(qid, '_');
    int          cat = -1;
    for (int i = 0; i < 4; i++)
        if (us && (size_t)(us - qid) == strlen(CATS[i]) && strncmp(qid, CATS[i], strlen(CATS[i])) == 0) cat = i;
    if (cat < 0) return vb_ld_bad(ld, line, "question_id '%s' does not start with a STAR category", qid);
    const char * q = vb_ld_jstr(o, "question");
    if (!q || !*q) return vb_ld_bad(ld, line, "%s: missing or non-string 'question'", qid);
    const char * vid = vb_ld_jstr(o, "video_id");
    if (!vid || !*vid) return vb_ld_bad(ld, line, "%s: missing or non-string 'video_id'", qid);
    double t0, t1;
    if (vb_ld_jnum(o, "start", &t0) != 1) return vb_ld_bad(ld, line, "%s: missing or non-numeric 'start'", qid);
    if (vb_ld_jnum(o, "end", &t1) != 1) return vb_ld_bad(ld, line, "%s: missing or non-numeric 'end'", qid);
    if (t0 < 0 || t1 < t0) return vb_ld_bad(ld, line, "%s: bad segment [%g, %g]", qid, t0, t1);
    const cJSON * ch = cJSON_GetObjectItemCaseSensitive(o, "choices");
    if (!cJSON_IsArray(ch)) return vb_ld_bad(ld, line, "%s: missing 'choices' array", qid);
    if (cJSON_GetArraySize(ch) != 4)
        return vb_ld_bad(ld, line, "%s: %d choices, expected 4", qid, cJSON_GetArraySize(ch));
    const char * opt[4] = {0};
    int          n_marked = 0, marked = -1, has_marks = 0;
    for (const cJSON * c = ch->child; c; c = c->next) {
        int64_t id;
        if (!cJSON_IsObject(c) || vb_ld_jint(c, "choice_id", &id) != 1 || id < 0 || id > 3)
            return vb_ld_bad(ld, line, "%s: choice without an integer 'choice_id' 0-3", qid);
        if (opt[id]) return vb_ld_bad(ld, line, "%s: choice_id %d appears twice", qid, (int)id);
        opt[id] = vb_ld_jstr(c, "choice");
        if (!opt[id] || !*opt[id]) return vb_ld_bad(ld, line, "%s: choice %d has no 'choice' text", qid, (int)id);
        const char * mark = vb_ld_jstr(c, "answer");
        if (mark) {
            has_marks++;
            if (strcmp(mark, "Correct") == 0) {
                n_marked++;
                marked = (int)id;
            } else if (strcmp(mark, "Wrong") != 0)
                return vb_ld_bad(ld, line, "%s: choice %d: 'answer' is '%s', expected Correct or Wrong", qid, (int)id,
                                 mark);
        }
    }
    if (has_marks && has_marks != 4) return vb_ld_bad(ld, line, "%s: only some choices carry Correct/Wrong", qid);
    if (has_marks && n_marked != 1) return vb_ld_bad(ld, line, "%s: %d choices marked Correct", qid, n_marked);
    int32_t       answer = -1;
    const cJSON * a = cJSON_GetObjectItemCaseSensitive(o, "answer");
    if (homepage) {
        if (!has_marks) return vb_ld_bad(ld, line, "%s: homepage record without Correct/Wrong marks", qid);
        answer = marked;
    } else if (a) {
        if (!cJSON_IsString(a)) return vb_ld_bad(ld, line, "%s: 'answer' is not a string", qid);
        if (has_marks) { /* pre-release schema: the mark decides (texts may repeat); the text must agree */
            if (strcmp(opt[marked], a->valuestring) != 0)
                return vb_ld_bad(ld, line, "%s: answer '%s' differs from the choice marked Correct ('%s')", qid,
                                 a->valuestring, opt[marked]);
            answer = marked;
        } else {
            int n_match = 0;
            for (int i = 0; i < 4; i++)
                if (strcmp(opt[i], a->valuestring) == 0) {
                    n_match++;
                    answer = i;
                }
            if (n_match == 0) return vb_ld_bad(ld, line, "%s: answer '%s' matches no choice", qid, a->valuestring);
            if (n_match > 1)
                return vb_ld_bad(ld, line, "%s: answer '%s' matches %d choices", qid, a->valuestring, n_match);
        }
    } else if (has_marks) {
        answer = marked;
    }
    for (int i = 0; i < 4; i++)
        if (!vb_ld_utf8_ok(opt[i])) return vb_ld_bad(ld, line, "%s: choice %d is not valid UTF-8", qid, i);
    if (vb_strmap_get(&ld->keys, qid) >= 0) return vb_ld_bad(ld, line, "duplicate question_id '%s'", qid);
    struct vb_sample * s = vb_ld_new(ld, "star", line);
    s->key = vb_strdup(qid);
    vb_ld_key_unique(ld, qid);
    s->video_id = vb_strdup(vid);
    s->video_path = vb_ld_video_path(ld, vid);
    s->start_s = t0;
    s->end_s = t1;
    s->question = vb_strdup(q);
    s->n_options = 4;
    for (int i = 0; i < 4; i++)
        s->options[i] = vb_strdup(opt[i]);
    s->answer = answer;
    s->category = vb_strdup(CATS[cat]);
    s->group = vb_strdup(CATS[cat]);
    return VB_OK;
}

static int element(void * ud, const char * text, size_t n, int32_t line) {
    struct star_ud * u = ud;
    cJSON *          o = vb_ld_json_parse(text, n);
    if (!o) return vb_ld_bad(u->ld, line, "record is not valid JSON");
    int st = record(u->ld, o, line, u->is_object);
    cJSON_Delete(o);
    return st;
}

int vb_ld_star(struct vb_ld * ld) {
    char * buf;
    size_t len;
    int    st = vb_ld_read(ld->file, 1, &buf, &len);
    if (st) return st;
    struct star_ud u = {.ld = ld};
    /* is_object is known before the first callback: the walker sets it first */
    st = vb_ld_json_walk(ld->file, buf, len, &u.is_object, element, &u);
    free(buf);
    return st;
}
