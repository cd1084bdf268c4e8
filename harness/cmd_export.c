/* cmd_export.c — `vlapbench export`: a run's predictions in the official prediction-file formats
** (docs/formats.md §8). */
#include "base/common.h"
#include "harness/cli.h"
#include "harness/export_samples.h"
#include "results/store.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum xfmt { X_NEXTQA, X_VLEP, X_VALUE_VLEP, X_VALUE_HOW2QA, X_STAR, X_SAMPLES, X_SAMPLES_CSV };

/* STAR's four question types, the keys of a challenge submission (question_id prefixes, datasets/star.c) */
static const char * STAR_TYPES[4] = {"Interaction", "Sequence", "Prediction", "Feasibility"};

static int int_key(const char * k, long long * out) {
    char * end;
    errno = 0;
    *out = strtoll(k, &end, 10);
    return end != k && *end == 0 && errno == 0;
}

int cmd_export(int argc, char ** argv) {
    if (vb_cli_wants_help(argc, argv)) {
        printf("usage: vlapbench export --db FILE --run ID --format nextqa|vlep|value-vlep|value-how2qa|star|\n"
               "                        samples|samples-csv\n"
               "                        [--out FILE] [--allow-missing]\n"
               "Writes the run's predictions as the official scorers read them:\n"
               "  nextqa        eval_mc.py: {\"<video>_<qid>\": {\"prediction\": p, \"answer\": a}, ...}\n"
               "  vlep          standalone_eval/eval.py: one {\"example_id\": id, \"pred_ans\": p} per line\n"
               "  value-vlep    VALUE evaluate_vlep.py: {\"<example_id>\": p, ...}\n"
               "  value-how2qa  VALUE evaluate_how2qa.py: {\"<qid>\": p, ...}\n"
               "  star          STAR challenge (eval.ai) submission: {\"Interaction\": [{\"question_id\": q,\n"
               "                \"answer\": p}, ...], \"Sequence\": [...], \"Prediction\": [...], \"Feasibility\": "
               "[...]}\n"
               "                (p = index of the chosen option, 0-3, in the order of the annotation's choices)\n"
               "  samples       any dataset: one JSON object per line and sample (errors included): key, video,\n"
               "                category, prompt (the QA prompt text fed to the method; null with a warning for\n"
               "                rows stored before prompts were), status, error, answer, prediction, correct,\n"
               "                option_scores, candidates,\n"
               "                picked frames, stage times t_<stage>_us (docs/schema.md)\n"
               "  samples-csv   the same fields as CSV with a header line (arrays space-separated in one field)\n"
               "Samples that failed (status error) have no prediction; the official scorers reject missing ids,\n"
               "so export fails unless --allow-missing (then they are left out and counted on stderr).\n"
               "Default output: stdout.\n");
        return 0;
    }
    const char *db = NULL, *run = NULL, *fmt = NULL, *outp = NULL;
    int         allow_missing = 0;
    for (int i = 1; i < argc; i++) {
        const char * v;
        if (vb_cli_opt(argc, argv, &i, "--db", &v))
            db = v;
        else if (vb_cli_opt(argc, argv, &i, "--run", &v))
            run = v;
        else if (vb_cli_opt(argc, argv, &i, "--format", &v))
            fmt = v;
        else if (vb_cli_opt(argc, argv, &i, "--out", &v))
            outp = v;
        else if (!strcmp(argv[i], "--allow-missing"))
            allow_missing = 1;
        else {
            fprintf(stderr, "export: unknown option %s (see --help)\n", argv[i]);
            return 2;
        }
    }
    if (!db || !run || !fmt) {
        fprintf(stderr, "export: --db, --run and --format are required\n");
        return 2;
    }
    enum xfmt xf;
    if (!strcmp(fmt, "nextqa"))
        xf = X_NEXTQA;
    else if (!strcmp(fmt, "vlep"))
        xf = X_VLEP;
    else if (!strcmp(fmt, "value-vlep"))
        xf = X_VALUE_VLEP;
    else if (!strcmp(fmt, "value-how2qa"))
        xf = X_VALUE_HOW2QA;
    else if (!strcmp(fmt, "star"))
        xf = X_STAR;
    else if (!strcmp(fmt, "samples"))
        xf = X_SAMPLES;
    else if (!strcmp(fmt, "samples-csv"))
        xf = X_SAMPLES_CSV;
    else {
        fprintf(stderr,
                "export: unknown format '%s' (nextqa, vlep, value-vlep, value-how2qa, star, samples, samples-csv)\n",
                fmt);
        return 2;
    }
    char *    end;
    long long id = strtoll(run, &end, 10);
    if (*end || id <= 0) {
        fprintf(stderr, "export: --run takes a run id\n");
        return 2;
    }
    struct vb_store * st;
    int               rc = vb_store_open(&st, db, 1);
    if (rc != VB_OK) {
        fprintf(stderr, "export: %s\n", vb_errmsg());
        return 1;
    }
    struct vb_store_run  r;
    struct vb_store_rows rows = {0};
    rc = vb_store_get_run(st, id, &r);
    if (rc == VB_OK) rc = vb_store_load_samples(st, id, &rows);
    vb_store_close(st);
    if (rc != VB_OK) {
        fprintf(stderr, "export: %s\n", vb_errmsg());
        if (rc != VB_ERR_NOTFOUND) vb_store_run_clear(&r);
        return 1;
    }
    if (xf == X_SAMPLES || xf == X_SAMPLES_CSV) {
        FILE * f = outp ? fopen(outp, "w") : stdout;
        int    status = 0;
        if (!f) {
            fprintf(stderr, "export: %s: %s\n", outp, strerror(errno));
            status = 1;
        } else {
            int32_t np = 0;
            if (vb_export_samples(f, &r, &rows, xf == X_SAMPLES_CSV, &np) != VB_OK) status = 1;
            if (!status && np > 0)
                fprintf(stderr,
                        "export: warning: run %lld: %d of %d sample(s) have no stored prompt, written as %s: they were "
                        "stored by a build before prompts were stored (samples.prompt, docs/schema.md); runs of this "
                        "build store them\n",
                        id, (int)np, (int)rows.n, xf == X_SAMPLES_CSV ? "an empty field" : "null");
            if (outp && fclose(f) != 0) status = 1;
            if (status) fprintf(stderr, "export: %s: write failed\n", outp ? outp : "stdout");
        }
        if (!status) fprintf(stderr, "export: run %lld: %d sample(s) written as %s\n", id, (int)rows.n, fmt);
        vb_store_rows_free(&rows);
        vb_store_run_clear(&r);
        return status;
    }
    const char * want = xf == X_NEXTQA ? "nextqa" : xf == X_VALUE_HOW2QA ? "how2qa" : xf == X_STAR ? "star" : "vlep";
    int          ok_ds = !strcmp(r.dataset, want) || (xf == X_VALUE_HOW2QA && !strcmp(r.dataset, "how2qa-value"));
    int          status = 0;
    if (!ok_ds) {
        fprintf(stderr, "export: run %lld is %s, format %s needs %s\n", id, r.dataset, fmt, want);
        status = 1;
    }
    int32_t missing = 0;
    for (int32_t i = 0; i < rows.n && !status; i++)
        missing += strcmp(rows.r[i].status, "ok") || rows.r[i].prediction < 0;
    if (!status && missing && !allow_missing) {
        fprintf(stderr,
                "export: %d sample(s) of run %lld have no prediction (errors); the official scorer rejects "
                "missing ids (use --allow-missing to leave them out)\n",
                (int)missing, id);
        status = 1;
    }
    cJSON * obj = cJSON_CreateObject();
    cJSON * star[4] = {NULL, NULL, NULL, NULL};
    if (xf == X_STAR)
        for (int t = 0; t < 4; t++)
            star[t] = cJSON_AddArrayToObject(obj, STAR_TYPES[t]);
    size_t jl_cap = 256, jl_len = 0;
    char * jl = vb_malloc(jl_cap);
    jl[0] = 0;
    for (int32_t i = 0; i < rows.n && !status; i++) {
        const struct vb_store_row * w = &rows.r[i];
        if (strcmp(w->status, "ok") || w->prediction < 0) continue;
        long long k = 0;
        if (xf == X_STAR) {
            int t = 0;
            while (t < 4 && !(w->category && !strcmp(w->category, STAR_TYPES[t])))
                t++;
            if (t == 4) {
                fprintf(stderr, "export: sample '%s' has category '%s', not a STAR question type\n", w->key,
                        w->category ? w->category : "(none)");
                status = 1;
                break;
            }
            cJSON * v = cJSON_CreateObject();
            cJSON_AddStringToObject(v, "question_id", w->key);
            cJSON_AddNumberToObject(v, "answer", w->prediction);
            cJSON_AddItemToArray(star[t], v);
            continue;
        }
        if (xf != X_NEXTQA && !int_key(w->key, &k)) {
            fprintf(stderr,
                    "export: sample key '%s' is not an integer id (format %s needs %s); raw How2QA has no "
                    "official scorer\n",
                    w->key, fmt, xf == X_VALUE_HOW2QA ? "VALUE qids" : "example_id");
            status = 1;
            break;
        }
        if (xf == X_NEXTQA) {
            cJSON * v = cJSON_CreateObject();
            cJSON_AddNumberToObject(v, "prediction", w->prediction);
            cJSON_AddNumberToObject(v, "answer", w->answer);
            cJSON_AddItemToObject(obj, w->key, v);
        } else if (xf == X_VLEP) {
            char line[96];
            int  n = snprintf(line, sizeof line, "{\"example_id\": %lld, \"pred_ans\": %d}\n", k, (int)w->prediction);
            while (jl_len + (size_t)n + 1 > jl_cap)
                jl = vb_realloc(jl, jl_cap *= 2);
            memcpy(jl + jl_len, line, (size_t)n + 1);
            jl_len += (size_t)n;
        } else {
            char kk[32];
            snprintf(kk, sizeof kk, "%lld", k);
            cJSON_AddNumberToObject(obj, kk, w->prediction);
        }
    }
    if (!status) {
        FILE * f = outp ? fopen(outp, "w") : stdout;
        if (!f) {
            fprintf(stderr, "export: %s: %s\n", outp, strerror(errno));
            status = 1;
        } else {
            if (xf == X_VLEP)
                fputs(jl, f);
            else {
                char * s = cJSON_PrintUnformatted(obj);
                fprintf(f, "%s\n", s);
                cJSON_free(s);
            }
            if (outp && fclose(f) != 0) {
                fprintf(stderr, "export: %s: write failed\n", outp);
                status = 1;
            }
        }
        if (!status)
            fprintf(stderr, "export: run %lld: %d prediction(s) written as %s%s\n", id, (int)(rows.n - missing), fmt,
                    missing ? " (errors left out)" : "");
    }
    free(jl);
    cJSON_Delete(obj);
    vb_store_rows_free(&rows);
    vb_store_run_clear(&r);
    return status;
}
