/* score.c — official-scorer arithmetic, prediction-file readers and printers (see score.h). */
#include "metrics/score.h"

#include "base/common.h"
#include "datasets/loaders.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

/* ---- tally ---- */

struct catdef {
    const char * code;
    const char * label;
};
static const struct catdef NEXT_CATS[7] = {{"CW", "Why"}, {"CH", "How"}, {"TN", "Bef&Aft"}, {"TC", "When"},
                                           {"DC", "Cnt"}, {"DL", "Loc"}, {"DO", "Other"}};
static const struct catdef NEXT_GROUPS[3] = {{"C", "Acc_C"}, {"T", "Acc_T"}, {"D", "Acc_D"}};
static const struct catdef STAR_CATS[4] = {{"Interaction", "Interaction"},
                                           {"Sequence", "Sequence"},
                                           {"Prediction", "Prediction"},
                                           {"Feasibility", "Feasibility"}};

static void setcat(struct vb_score_cat * c, const char * code, const char * label) {
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", code);
    snprintf(c->label, sizeof c->label, "%s", label);
}

static int find_cat(const struct vb_score_cat * c, int32_t n, const char * code) {
    for (int32_t i = 0; i < n; i++)
        if (strcmp(c[i].name, code) == 0) return i;
    return -1;
}

int vb_score_tally(const struct vb_dataset * d, const int32_t * pred, struct vb_score * out) {
    memset(out, 0, sizeof *out);
    if (d->n == 0) return vb_fail(VB_ERR_NOTFOUND, "%s: no samples to score", d->path ? d->path : "dataset");
    const char * ds = d->s[0].dataset;
    snprintf(out->dataset, sizeof out->dataset, "%s", ds);
    snprintf(out->split, sizeof out->split, "%s", d->s[0].split ? d->s[0].split : "unknown");
    int nextqa = strcmp(ds, "nextqa") == 0, star = strcmp(ds, "star") == 0;
    if (nextqa) {
        out->n_cat = 7;
        for (int i = 0; i < 7; i++)
            setcat(&out->cat[i], NEXT_CATS[i].code, NEXT_CATS[i].label);
        out->n_group = 3;
        for (int i = 0; i < 3; i++)
            setcat(&out->group[i], NEXT_GROUPS[i].code, NEXT_GROUPS[i].label);
    } else if (star) {
        out->n_cat = 4;
        for (int i = 0; i < 4; i++)
            setcat(&out->cat[i], STAR_CATS[i].code, STAR_CATS[i].label);
    } else {
        out->n_cat = 1;
        setcat(&out->cat[0], ds, ds);
    }
    for (int32_t i = 0; i < d->n; i++) {
        const struct vb_sample * s = &d->s[i];
        if (strcmp(s->dataset, ds) != 0)
            return vb_fail(VB_ERR_ARG, "sample '%s' is %s, expected %s: one dataset per score", s->key, s->dataset, ds);
        if (s->answer < 0) {
            out->n_unanswered++;
            continue;
        }
        if (pred[i] < 0) {
            out->n_missing++;
            continue;
        }
        if (pred[i] >= s->n_options)
            return vb_fail(VB_ERR_ARG, "sample '%s': prediction %d out of range 0-%d", s->key, pred[i],
                           s->n_options - 1);
        const char * code = s->category;
        if (nextqa && strcmp(code, "TP") == 0) code = "TN"; /* eval_mc.py: "combine temporal qns ... as 'TN'" */
        int c = nextqa || star ? find_cat(out->cat, out->n_cat, code) : 0;
        if (c < 0) return vb_fail(VB_ERR_ARG, "sample '%s': category '%s' unknown to the %s scorer", s->key, code, ds);
        int ok = pred[i] == s->answer;
        out->cat[c].correct += ok;
        out->cat[c].total++;
        if (nextqa) {
            int g = find_cat(out->group, out->n_group, (char[2]){code[0], 0});
            VB_ASSERT(g >= 0);
            out->group[g].correct += ok;
            out->group[g].total++;
        }
        out->correct += ok;
        out->total++;
    }
    if (out->total == 0)
        return vb_fail(VB_ERR_NOTFOUND, "%s: nothing to score (%d samples without ground truth, %d without prediction)",
                       d->path ? d->path : "dataset", out->n_unanswered, out->n_missing);
    return VB_OK;
}

double vb_score_pct(const struct vb_score_cat * c) {
    return c->total ? c->correct * 100.0 / c->total : 0.0;
}

double vb_score_overall_pct(const struct vb_score * s) {
    return s->total ? (double)s->correct / s->total * 100 : 0.0;
}

double vb_score_star_mean(const struct vb_score * s) {
    if (strcmp(s->dataset, "star") != 0 || s->n_cat != 4) return -1;
    double sum = 0;
    for (int i = 0; i < 4; i++) {
        if (s->cat[i].total == 0) return -1;
        sum += vb_score_pct(&s->cat[i]);
    }
    return sum / 4;
}

double vb_score_headline(const struct vb_score * s) {
    double m = vb_score_star_mean(s);
    return m >= 0 ? m : vb_score_overall_pct(s);
}

char * vb_score_pyfmt2(double x, char * buf) {
    snprintf(buf, 32, "%.2f", x);
    size_t n = strlen(buf);
    char * dot = strchr(buf, '.');
    if (dot) {
        while (n > (size_t)(dot - buf) + 2 && buf[n - 1] == '0')
            buf[--n] = 0;
    }
    return buf;
}

/* ---- prediction readers ---- */

struct rd {
    const struct vb_dataset * d;
    const char *              path;
    int32_t *                 pred;
    struct vb_pred_info *     info;
    struct vb_strmap          keys;      /* sample key -> index */
    int32_t *                 seen_line; /* (d->n) line / entry number of the prediction, 0 = none */
    int                       int_keys;  /* normalise keys as integers (VLEP, VALUE How2QA) */
};

static void add_ex(char ex[3][64], int32_t count_before, const char * key) {
    if (count_before < 3) snprintf(ex[count_before], 64, "%.63s", key);
}

/* Normalise an id: for integer-keyed datasets, parse and print back ("0123" -> "123"); 0 if not an integer. */
static int norm_key(const struct rd * r, const char * in, char * out, size_t cap) {
    if (!r->int_keys) {
        snprintf(out, cap, "%s", in);
        return 1;
    }
    const char * p = in;
    while (*p == ' ')
        p++;
    int neg = *p == '-';
    if (*p == '-' || *p == '+') p++;
    if (!*p) return 0;
    long long v = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > 100000000000000LL) return 0;
        v = v * 10 + (*p - '0');
    }
    while (*p == ' ')
        p++;
    if (*p) return 0;
    snprintf(out, cap, "%lld", neg ? -v : v);
    return 1;
}

/* Store one prediction. where: message prefix, "file:N" or "file: key 'k'". */
static int put_pred(struct rd * r, const char * key_in, const cJSON * val, int32_t entry, const char * where) {
    char key[128];
    if (!norm_key(r, key_in, key, sizeof key))
        return vb_fail(VB_ERR_FORMAT, "%s: id '%s' is not an integer", where, key_in);
    if (!cJSON_IsNumber(val) || val->valuedouble != floor(val->valuedouble) || fabs(val->valuedouble) > 1e9)
        return vb_fail(VB_ERR_FORMAT, "%s: prediction for '%s' is not an integer", where, key);
    int32_t v = (int32_t)val->valuedouble;
    int32_t i = vb_strmap_get(&r->keys, key);
    if (i < 0) {
        add_ex(r->info->extra_ex, r->info->n_extra, key);
        r->info->n_extra++;
        return VB_OK;
    }
    const struct vb_sample * s = &r->d->s[i];
    if (v < 0 || v >= s->n_options)
        return vb_fail(VB_ERR_FORMAT, "%s: prediction %d for '%s' out of range 0-%d", where, v, key, s->n_options - 1);
    if (r->seen_line[i])
        return vb_fail(VB_ERR_FORMAT, "%s: second prediction for '%s' (first at entry %d)", where, key,
                       r->seen_line[i]);
    r->seen_line[i] = entry;
    r->pred[i] = v;
    return VB_OK;
}

static int read_nextqa(struct rd * r, const cJSON * root) {
    int32_t k = 0;
    for (const cJSON * it = root->child; it; it = it->next) {
        k++;
        char where[1200];
        snprintf(where, sizeof where, "%s: key '%.120s'", r->path, it->string);
        if (!cJSON_IsObject(it)) return vb_fail(VB_ERR_FORMAT, "%s: value is not an object", where);
        const cJSON * p = cJSON_GetObjectItemCaseSensitive(it, "prediction");
        if (!p) return vb_fail(VB_ERR_FORMAT, "%s: no 'prediction'", where);
        int st = put_pred(r, it->string, p, k, where);
        if (st) return st;
        const cJSON * a = cJSON_GetObjectItemCaseSensitive(it, "answer");
        int32_t       i = vb_strmap_get(&r->keys, it->string);
        if (a && i >= 0) {
            if (!cJSON_IsNumber(a)) return vb_fail(VB_ERR_FORMAT, "%s: 'answer' is not a number", where);
            if (a->valuedouble != (double)r->d->s[i].answer) {
                add_ex(r->info->mismatch_ex, r->info->n_answer_mismatch, it->string);
                r->info->n_answer_mismatch++;
            }
        }
    }
    r->info->n_entries = k;
    return VB_OK;
}

static int read_value(struct rd * r, const cJSON * root) {
    int32_t k = 0;
    for (const cJSON * it = root->child; it; it = it->next) {
        k++;
        char where[1200];
        snprintf(where, sizeof where, "%s: key '%.120s'", r->path, it->string);
        int st = put_pred(r, it->string, it, k, where);
        if (st) return st;
    }
    r->info->n_entries = k;
    return VB_OK;
}

static int read_star_evalai(struct rd * r, const cJSON * root) {
    int32_t k = 0;
    for (const cJSON * cat = root->child; cat; cat = cat->next) {
        if (!cJSON_IsArray(cat))
            return vb_fail(VB_ERR_FORMAT, "%s: key '%s': expected an array of {question_id, answer}", r->path,
                           cat->string);
        for (const cJSON * e = cat->child; e; e = e->next) {
            k++;
            char where[1200];
            snprintf(where, sizeof where, "%s: %.40s entry %d", r->path, cat->string, k);
            const cJSON * q = cJSON_GetObjectItemCaseSensitive(e, "question_id");
            const cJSON * a = cJSON_GetObjectItemCaseSensitive(e, "answer");
            if (!cJSON_IsString(q) || !a)
                return vb_fail(VB_ERR_FORMAT, "%s: expected {question_id: str, answer: int}", where);
            int st = put_pred(r, q->valuestring, a, k, where);
            if (st) return st;
        }
    }
    r->info->n_entries = k;
    return VB_OK;
}

/* One line of a VLEP prediction file: {"example_id": int, "pred_ans": int} ("pre_ans" accepted, counted). */
static int vlep_line(void * ud, char * text, int32_t line) {
    struct rd * r = ud;
    char        where[1100];
    snprintf(where, sizeof where, "%s:%d", r->path, line);
    const char * end = NULL;
    cJSON *      o = cJSON_ParseWithOpts(text, &end, 1);
    if (!o || !cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return vb_fail(VB_ERR_FORMAT, "%s:%d: not a JSON object", r->path, line);
    }
    const cJSON * id = cJSON_GetObjectItemCaseSensitive(o, "example_id");
    const cJSON * a = cJSON_GetObjectItemCaseSensitive(o, "pred_ans");
    if (!a && (a = cJSON_GetObjectItemCaseSensitive(o, "pre_ans"))) r->info->n_alias++;
    int  st;
    char idbuf[32];
    if (!cJSON_IsNumber(id) || id->valuedouble != floor(id->valuedouble) || fabs(id->valuedouble) > 1e15) {
        st = vb_fail(VB_ERR_FORMAT, "%s:%d: missing or non-integer 'example_id'", r->path, line);
    } else if (!a) {
        st = vb_fail(VB_ERR_FORMAT, "%s:%d: missing 'pred_ans'", r->path, line);
    } else {
        snprintf(idbuf, sizeof idbuf, "%lld", (long long)id->valuedouble);
        st = put_pred(r, idbuf, a, line, where);
    }
    cJSON_Delete(o);
    r->info->n_entries = line;
    return st;
}

static int read_vlep_jsonl(struct rd * r, char * buf, size_t len) {
    r->info->n_entries = 0;
    return vb_lines_walk(buf, len, vlep_line, r);
}

int vb_score_read_predictions(const struct vb_dataset * d, const char * path, int32_t * pred,
                              struct vb_pred_info * info) {
    memset(info, 0, sizeof *info);
    for (int32_t i = 0; i < d->n; i++)
        pred[i] = -1;
    if (d->n == 0) return vb_fail(VB_ERR_ARG, "no samples");
    char * buf;
    size_t len;
    int    st = vb_read_file(path, &buf, &len);
    if (st) return st;
    struct rd    r = {.d = d, .path = path, .pred = pred, .info = info};
    const char * ds = d->s[0].dataset;
    r.int_keys = d->kind == VB_DS_VLEP || d->kind == VB_DS_HOW2QA || d->kind == VB_DS_HOW2QA_VALUE;
    vb_strmap_init(&r.keys, d->n);
    for (int32_t i = 0; i < d->n; i++)
        vb_strmap_put(&r.keys, d->s[i].key, i);
    r.seen_line = vb_calloc((size_t)d->n, sizeof(int32_t));
    const char * end = NULL;
    cJSON *      root = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
    if (root && end) {
        while (end < buf + len && (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t'))
            end++;
        if (end != buf + len) { /* more text after the first value: JSON Lines */
            cJSON_Delete(root);
            root = NULL;
        }
    }
    int jsonl = strcmp(ds, "vlep") == 0 &&
                (!root || (cJSON_IsObject(root) && cJSON_GetObjectItemCaseSensitive(root, "example_id")));
    if (jsonl) {
        info->format = VB_PRED_VLEP_JSONL;
        st = read_vlep_jsonl(&r, buf, len);
    } else if (!root || !cJSON_IsObject(root)) {
        st = vb_fail(VB_ERR_FORMAT, "%s: expected one JSON object (%s)", path,
                     root ? "found another JSON value" : "not valid JSON");
    } else if (strcmp(ds, "nextqa") == 0) {
        info->format = VB_PRED_NEXTQA;
        st = read_nextqa(&r, root);
    } else if (strcmp(ds, "star") == 0 && root->child && cJSON_IsArray(root->child)) {
        info->format = VB_PRED_STAR_EVALAI;
        st = read_star_evalai(&r, root);
    } else {
        info->format = VB_PRED_VALUE;
        st = read_value(&r, root);
    }
    cJSON_Delete(root);
    if (!st)
        for (int32_t i = 0; i < d->n; i++)
            if (d->s[i].answer >= 0 && pred[i] < 0) {
                add_ex(info->missing_ex, info->n_missing, d->s[i].key);
                info->n_missing++;
            }
    if (st)
        for (int32_t i = 0; i < d->n; i++)
            pred[i] = -1;
    free(r.seen_line);
    vb_strmap_free(&r.keys);
    free(buf);
    return st;
}

/* ---- printers ---- */

void vb_score_print_official(FILE * f, const struct vb_score * s, const struct vb_dataset * d, const char * pred_path,
                             const struct vb_pred_info * info) {
    char b[32];
    if (strcmp(s->dataset, "nextqa") == 0) { /* eval_mc.py */
        fprintf(f, "Evaluating %s\n", pred_path);
        for (int i = 0; i < s->n_cat; i++)
            fprintf(f, "%s\t", s->cat[i].label);
        for (int i = 0; i < s->n_group; i++)
            fprintf(f, "%s\t", s->group[i].label);
        fprintf(f, "\n");
        for (int i = 0; i < s->n_cat; i++)
            fprintf(f, "%.2f\t", vb_score_pct(&s->cat[i]));
        for (int i = 0; i < s->n_group; i++)
            fprintf(f, "%.2f\t", vb_score_pct(&s->group[i]));
        fprintf(f, "\n");
        fprintf(f, "Acc: %.2f\n", s->correct * 100.0 / s->total);
    } else if (strcmp(s->dataset, "star") == 0) { /* no official offline scorer (eval.ai only) */
        for (int i = 0; i < s->n_cat; i++)
            fprintf(f, "%s\t", s->cat[i].label);
        fprintf(f, "Mean\n");
        for (int i = 0; i < s->n_cat; i++)
            fprintf(f, "%.2f\t", vb_score_pct(&s->cat[i]));
        double m = vb_score_star_mean(s);
        if (m >= 0)
            fprintf(f, "%.2f\n", m);
        else
            fprintf(f, "n/a (not all four categories present)\n");
        fprintf(f, "Overall (pooled, not the STAR headline): %.2f\n", vb_score_overall_pct(s));
    } else if (strcmp(s->dataset, "vlep") == 0) {
        int32_t n_gt = d ? d->n : s->total + s->n_missing + s->n_unanswered;
        fprintf(f, "Loaded %d GT lines, %d submission lines\n", n_gt, info ? info->n_entries : s->total);
        fprintf(f, "Evaluating %d examples, missing %d\n", s->total, n_gt - s->total);
        vb_score_pyfmt2(vb_score_overall_pct(s), b);
        if (info && info->format == VB_PRED_VALUE) { /* evaluate_vlep.py -> vlep_metrics.json */
            fprintf(f, "{\n    \"%s\": %s\n}\n", s->split, b);
        } else { /* standalone_eval/eval.py */
            fprintf(f, "{\n    \"qa_acc\": {\n        \"overall\": %s\n    }", b);
            if (info && info->n_missing > 0) {
                fprintf(f,
                        ",\n    \"skipped_samples\": \"Your predistions missing %d examples: e.g. (only shown 3 "
                        "here), [",
                        info->n_missing);
                for (int i = 0; i < 3 && i < info->n_missing; i++)
                    fprintf(f, "%s%s", i ? ", " : "", info->missing_ex[i]);
                fprintf(f, "]\"");
            }
            fprintf(f, "\n}\n");
        }
    } else { /* how2qa: evaluate_how2qa.py -> how2qa_metrics.json (sort_keys, indent 4) */
        double x = 100 * ((double)s->correct / s->total);
        fprintf(f, "{\n    \"%s\": %s\n}\n", s->split, vb_score_pyfmt2(x, b));
    }
}

static double r2(double x) {
    char b[32];
    snprintf(b, sizeof b, "%.2f", x);
    return strtod(b, NULL);
}

static cJSON * cat_json(const struct vb_score_cat * c) {
    cJSON * o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "label", c->label);
    cJSON_AddNumberToObject(o, "correct", c->correct);
    cJSON_AddNumberToObject(o, "total", c->total);
    cJSON_AddNumberToObject(o, "acc", r2(vb_score_pct(c)));
    return o;
}

void vb_score_print_json(FILE * f, const struct vb_score * s, const struct vb_pred_info * info) {
    cJSON * o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "dataset", s->dataset);
    cJSON_AddStringToObject(o, "split", s->split);
    cJSON * cats = cJSON_AddObjectToObject(o, "categories");
    for (int i = 0; i < s->n_cat; i++)
        cJSON_AddItemToObject(cats, s->cat[i].name, cat_json(&s->cat[i]));
    if (s->n_group) {
        cJSON * g = cJSON_AddObjectToObject(o, "groups");
        for (int i = 0; i < s->n_group; i++)
            cJSON_AddItemToObject(g, s->group[i].name, cat_json(&s->group[i]));
    }
    cJSON_AddNumberToObject(o, "correct", s->correct);
    cJSON_AddNumberToObject(o, "total", s->total);
    cJSON_AddNumberToObject(o, "overall", r2(s->correct * 100.0 / s->total));
    double m = vb_score_star_mean(s);
    if (m >= 0) cJSON_AddNumberToObject(o, "mean", r2(m));
    cJSON_AddStringToObject(o, "headline_metric", m >= 0 ? "mean_of_4_types" : "overall");
    cJSON_AddNumberToObject(o, "headline", r2(vb_score_headline(s)));
    cJSON_AddNumberToObject(o, "missing", s->n_missing);
    cJSON_AddNumberToObject(o, "unanswered", s->n_unanswered);
    if (info) {
        static const char * FMT[] = {"nextqa_eval_mc", "vlep_jsonl", "value_object", "star_evalai"};
        cJSON_AddStringToObject(o, "prediction_format", FMT[info->format]);
        cJSON_AddNumberToObject(o, "prediction_entries", info->n_entries);
        cJSON_AddNumberToObject(o, "unknown_ids", info->n_extra);
        if (info->format == VB_PRED_NEXTQA) cJSON_AddNumberToObject(o, "answer_mismatch", info->n_answer_mismatch);
    }
    char * txt = cJSON_Print(o);
    fprintf(f, "%s\n", txt);
    cJSON_free(txt);
    cJSON_Delete(o);
}
