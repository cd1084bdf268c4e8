/* export_samples.c — per-sample export (JSON Lines / CSV) of a stored run. */
#include "harness/export_samples.h"

#include "base/common.h"
#include "metrics/latency.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

static cJSON * int_array(const int32_t * v, int32_t n) {
    cJSON * a = cJSON_CreateArray();
    for (int32_t i = 0; i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber(v[i]));
    return a;
}

static void add_opt_str(cJSON * o, const char * k, const char * v) {
    if (v)
        cJSON_AddStringToObject(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

static void add_opt_int(cJSON * o, const char * k, int64_t v) {
    if (v >= 0)
        cJSON_AddNumberToObject(o, k, (double)v);
    else
        cJSON_AddNullToObject(o, k);
}

static cJSON * row_json(const struct vb_store_run * r, const struct vb_store_row * w) {
    cJSON * o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "run", (double)r->id);
    add_opt_str(o, "dataset", r->dataset);
    add_opt_str(o, "method", r->method);
    cJSON_AddNumberToObject(o, "frames", r->frames);
    cJSON_AddNumberToObject(o, "candidates", r->candidates);
    add_opt_str(o, "key", w->key);
    add_opt_str(o, "video_id", w->video_id);
    add_opt_str(o, "category", w->category);
    add_opt_str(o, "prompt", w->prompt);
    add_opt_str(o, "status", w->status);
    add_opt_str(o, "error", w->error);
    add_opt_int(o, "answer", w->answer);
    add_opt_int(o, "prediction", w->prediction);
    if (w->correct < 0)
        cJSON_AddNullToObject(o, "correct");
    else
        cJSON_AddNumberToObject(o, "correct", w->correct);
    cJSON * sc = cJSON_AddArrayToObject(o, "option_scores");
    for (int32_t i = 0; i < w->n_options; i++)
        cJSON_AddItemToArray(sc, isfinite(w->option_scores[i]) ? cJSON_CreateNumber(w->option_scores[i])
                                                               : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "candidates_idx", int_array(w->candidates, w->n_candidates));
    cJSON_AddItemToObject(o, "picked", int_array(w->picked, w->n_picked));
    add_opt_int(o, "frame_lo", w->frame_lo);
    add_opt_int(o, "frame_hi", w->frame_hi);
    for (int s = 0; s < VB_STAGE_COUNT; s++) {
        char k[32];
        snprintf(k, sizeof k, "t_%s_us", vb_latency_stage_name((enum vb_stage)s));
        add_opt_int(o, k, w->t_us[s]);
    }
    return o;
}

/* A CSV field: quoted (RFC 4180, quotes doubled) when it holds a comma, quote, CR or LF. */
static void csv_str(FILE * f, const char * s, int last) {
    if (!s) s = "";
    if (strpbrk(s, ",\"\r\n")) {
        fputc('"', f);
        for (const char * p = s; *p; p++) {
            if (*p == '"') fputc('"', f);
            fputc(*p, f);
        }
        fputc('"', f);
    } else
        fputs(s, f);
    fputc(last ? '\n' : ',', f);
}

static void csv_int(FILE * f, int64_t v, int last) {
    if (v >= 0) fprintf(f, "%lld", (long long)v);
    fputc(last ? '\n' : ',', f);
}

static void csv_ints(FILE * f, const int32_t * v, int32_t n) {
    for (int32_t i = 0; i < n; i++)
        fprintf(f, "%s%d", i ? " " : "", (int)v[i]);
    fputc(',', f);
}

static void row_csv(FILE * f, const struct vb_store_run * r, const struct vb_store_row * w) {
    fprintf(f, "%lld,", (long long)r->id);
    csv_str(f, r->dataset, 0);
    csv_str(f, r->method, 0);
    fprintf(f, "%d,%d,", (int)r->frames, (int)r->candidates);
    csv_str(f, w->key, 0);
    csv_str(f, w->video_id, 0);
    csv_str(f, w->category, 0);
    csv_str(f, w->prompt, 0);
    csv_str(f, w->status, 0);
    csv_str(f, w->error, 0);
    csv_int(f, w->answer, 0);
    csv_int(f, w->prediction, 0);
    csv_int(f, w->correct, 0);
    for (int32_t i = 0; i < w->n_options; i++) {
        if (i) fputc(' ', f);
        if (isfinite(w->option_scores[i])) fprintf(f, "%.9g", w->option_scores[i]);
    }
    fputc(',', f);
    csv_ints(f, w->candidates, w->n_candidates);
    csv_ints(f, w->picked, w->n_picked);
    csv_int(f, w->frame_lo, 0);
    csv_int(f, w->frame_hi, 0);
    for (int s = 0; s < VB_STAGE_COUNT; s++)
        csv_int(f, w->t_us[s], s == VB_STAGE_COUNT - 1);
}

int vb_export_samples(FILE * f, const struct vb_store_run * r, const struct vb_store_rows * rows, int csv,
                      int32_t * n_no_prompt) {
    int32_t np = 0;
    for (int32_t i = 0; i < rows->n; i++)
        np += rows->r[i].prompt == NULL;
    if (n_no_prompt) *n_no_prompt = np;
    if (csv) {
        fputs(
            "run,dataset,method,frames,candidates,key,video_id,category,prompt,status,error,answer,prediction,correct,"
            "option_scores,candidates_idx,picked,frame_lo,frame_hi",
            f);
        for (int s = 0; s < VB_STAGE_COUNT; s++)
            fprintf(f, ",t_%s_us", vb_latency_stage_name((enum vb_stage)s));
        fputc('\n', f);
    }
    for (int32_t i = 0; i < rows->n; i++) {
        if (csv) {
            row_csv(f, r, &rows->r[i]);
            continue;
        }
        cJSON * o = row_json(r, &rows->r[i]);
        char *  s = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        if (!s) return vb_fail(VB_ERR_NOMEM, "export: out of memory writing sample %s", rows->r[i].key);
        fprintf(f, "%s\n", s);
        cJSON_free(s);
    }
    if (ferror(f)) return vb_fail(VB_ERR_IO, "export: write failed");
    return VB_OK;
}
