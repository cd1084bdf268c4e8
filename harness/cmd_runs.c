/* cmd_runs.c — `vlapbench runs --db FILE`: list the stored runs with their key settings. */
#include "base/common.h"
#include "harness/cli.h"
#include "results/store.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static void add_str(cJSON * o, const char * k, const char * v) {
    if (v)
        cJSON_AddStringToObject(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

static void add_num(cJSON * o, const char * k, double v) {
    if (isfinite(v))
        cJSON_AddNumberToObject(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

/* The runs as one JSON array on stdout (runs --json).  Returns 0, or 1 when the document cannot be built. */
static int print_json(const struct vb_store_run * runs, int32_t n) {
    cJSON * a = cJSON_CreateArray();
    for (int32_t i = 0; a && i < n; i++) {
        const struct vb_store_run * r = &runs[i];
        cJSON *                     o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "id", (double)r->id);
        add_str(o, "dataset", r->dataset);
        add_str(o, "split", r->split);
        add_str(o, "method", r->method);
        cJSON_AddNumberToObject(o, "frames", r->frames);
        cJSON_AddNumberToObject(o, "candidates", r->candidates);
        add_num(o, "acc", r->n_scored > 0 ? 100.0 * r->n_correct / r->n_scored : NAN);
        cJSON_AddNumberToObject(o, "n_samples", r->n_samples);
        cJSON_AddNumberToObject(o, "n_expected", r->n_expected);
        cJSON_AddNumberToObject(o, "n_ok", r->n_ok);
        cJSON_AddNumberToObject(o, "n_error", r->n_error);
        cJSON_AddNumberToObject(o, "n_scored", r->n_scored);
        cJSON_AddNumberToObject(o, "n_correct", r->n_correct);
        add_str(o, "status", r->status);
        add_str(o, "subset", r->subset); /* null: the whole split; else the selection's label */
        add_num(o, "wall_s", r->wall_s);
        add_str(o, "sampling", r->sampling);
        add_str(o, "selection", r->selection);
        add_str(o, "decode_mode", r->decode_mode);
        char seed[24];
        snprintf(seed, sizeof seed, "%llu", (unsigned long long)r->seed);
        add_str(o, "seed", seed); /* a string: 64-bit seeds do not fit a JSON double */
        cJSON_AddNumberToObject(o, "threads", r->blas_threads);
        add_str(o, "weights_dtype", r->weights_dtype ? r->weights_dtype : "f32");
        add_str(o, "created", r->created);
        add_str(o, "started", r->started);
        add_str(o, "ended", r->ended);
        add_str(o, "git_commit", r->git_commit);
        cJSON_AddBoolToObject(o, "git_dirty", r->git_dirty != 0);
        add_str(o, "host", r->host);
        add_str(o, "cpu", r->cpu_model);
        add_str(o, "blas_core", r->blas_core);
        add_str(o, "grid_id", r->grid_id);
        add_str(o, "config_hash", r->config_hash);
        add_str(o, "verify_hash", r->verify_hash);
        add_str(o, "annotations_sha256", r->annotations_sha256);
        add_num(o, "peak_rss_kb", r->peak_rss_kb >= 0 ? (double)r->peak_rss_kb : NAN);
        cJSON * ck = r->checkpoint ? cJSON_Parse(r->checkpoint) : NULL;
        if (ck)
            cJSON_AddItemToObject(o, "checkpoint", ck);
        else
            cJSON_AddNullToObject(o, "checkpoint");
        add_str(o, "device", r->device);   /* null: not recorded (older builds: the CPU) */
        add_str(o, "kernels", r->kernels); /* null: not recorded (older builds, GPU runs) */
        cJSON_AddItemToArray(a, o);
    }
    char * txt = a ? cJSON_PrintUnformatted(a) : NULL;
    cJSON_Delete(a);
    if (!txt) {
        fprintf(stderr, "runs: out of memory building JSON\n");
        return 1;
    }
    printf("%s\n", txt);
    cJSON_free(txt);
    return 0;
}

int cmd_runs(int argc, char ** argv) {
    if (vb_cli_wants_help(argc, argv)) {
        printf("usage: vlapbench runs --db FILE [--long | --json]\n"
               "Lists the runs in a results database: id, dataset/split, method, frames (k) and candidates (T),\n"
               "selection, decode mode, seed, threads, samples stored / expected, errors, accuracy (errors count\n"
               "as wrong), status and wall time.  --long adds commit, host, CPU, BLAS core, grid id, config hash\n"
               "and verification hash, weights dtype (f32 for runs stored before it was recorded), the largest\n"
               "session peak RSS and the engine's kernels (GEMM and attention in the run's compute mode, and what\n"
               "VB_CPU_DISABLE took away; every distinct line of the run's sessions).\n"
               "--json prints one JSON array instead, one object per run with every field above: id, dataset,\n"
               "split, method, frames, candidates, acc (percent, errors counted as wrong; null when nothing is\n"
               "scored), n_samples, n_expected, n_ok, n_error, n_scored, n_correct, status, subset (null for the\n"
               "whole split, else the label of a --limit / --samples selection), wall_s, ..., checkpoint\n"
               "({\"dir\", \"name_or_path\"} of the bundle, null when not recorded), device (\"cpu\" or \"cuda: \"\n"
               "and the GPU, driver, CUDA runtime and cuBLASLt; null for runs of builds before it was recorded: the\n"
               "CPU), kernels (null for runs of older builds and GPU runs).\n"
               "A run stored from a --limit / --samples selection is marked by a \"subset\" line under its row.\n"
               "Status: complete = every expected sample is stored and at least one is ok (a run of only error\n"
               "rows is incomplete); incomplete; running; failed.\n");
        return 0;
    }
    const char * db = NULL;
    int          lng = 0, json = 0;
    for (int i = 1; i < argc; i++) {
        const char * v;
        if (vb_cli_opt(argc, argv, &i, "--db", &v))
            db = v;
        else if (!strcmp(argv[i], "--long"))
            lng = 1;
        else if (!strcmp(argv[i], "--json"))
            json = 1;
        else {
            fprintf(stderr, "runs: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (!db) {
        fprintf(stderr, "runs: --db FILE is required\n");
        return 2;
    }
    if (lng && json) {
        fprintf(stderr, "runs: --long and --json exclude each other (--json has every field)\n");
        return 2;
    }
    struct vb_store * st;
    int               rc = vb_store_open(&st, db, 1);
    if (rc != VB_OK) {
        fprintf(stderr, "runs: %s\n", vb_errmsg());
        return 1;
    }
    struct vb_store_run * runs;
    int32_t               n;
    rc = vb_store_list_runs(st, &runs, &n);
    if (rc != VB_OK) {
        fprintf(stderr, "runs: %s\n", vb_errmsg());
        vb_store_close(st);
        return 1;
    }
    if (json) {
        rc = print_json(runs, n);
        vb_store_runs_free(runs, n);
        vb_store_close(st);
        return rc;
    }
    printf("%4s  %-8s %-5s %-8s %3s %4s  %-9s %-11s %6s %3s %11s %5s %7s  %-10s %9s\n", "id", "dataset", "split",
           "method", "k", "T", "selection", "decode", "seed", "thr", "samples", "err", "acc%", "status", "wall_s");
    for (int32_t i = 0; i < n; i++) {
        const struct vb_store_run * r = &runs[i];
        char                        cnt[32], acc[16], wall[16];
        snprintf(cnt, sizeof cnt, "%d/%d", (int)r->n_samples, (int)r->n_expected);
        if (r->n_scored > 0)
            snprintf(acc, sizeof acc, "%.2f", 100.0 * r->n_correct / r->n_scored);
        else
            snprintf(acc, sizeof acc, "-");
        if (isnan(r->wall_s))
            snprintf(wall, sizeof wall, "-");
        else
            snprintf(wall, sizeof wall, "%.1f", r->wall_s);
        printf("%4lld  %-8s %-5s %-8s %3d %4d  %-9s %-11s %6llu %3d %11s %5d %7s  %-10s %9s\n", (long long)r->id,
               r->dataset, r->split, r->method, (int)r->frames, (int)r->candidates, r->selection, r->decode_mode,
               (unsigned long long)r->seed, (int)r->blas_threads, cnt, (int)r->n_error, acc, r->status, wall);
        if (r->subset) printf("      subset (not the whole split): %s\n", r->subset);
        if (lng) {
            char rss[32];
            if (r->peak_rss_kb >= 0)
                snprintf(rss, sizeof rss, "%.2f GiB", (double)r->peak_rss_kb / (1024.0 * 1024.0));
            else
                snprintf(rss, sizeof rss, "-");
            printf("      commit %s%s  host %s  cpu %s  blas %s  grid %s\n      created %s  sampling %s  "
                   "sws %s  config %.16s  verify %.16s\n      weights %s  peak RSS %s  checkpoint %s  device %s\n",
                   r->git_commit, r->git_dirty ? "+dirty" : "", r->host ? r->host : "-",
                   r->cpu_model ? r->cpu_model : "-", r->blas_core ? r->blas_core : "-", r->grid_id ? r->grid_id : "-",
                   r->created, r->sampling, r->sws_flags ? r->sws_flags : "-", r->config_hash,
                   r->verify_hash ? r->verify_hash : "-", r->weights_dtype ? r->weights_dtype : "f32", rss,
                   r->checkpoint ? r->checkpoint : "-", r->device ? r->device : "cpu");
            if (r->kernels) printf("      kernels %s\n", r->kernels);
        }
    }
    if (n == 0) printf("(no runs)\n");
    vb_store_runs_free(runs, n);
    vb_store_close(st);
    return 0;
}
