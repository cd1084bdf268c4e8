/* cmd_runs.c — `vlapbench runs --db FILE`: list the stored runs with their key settings. */
#include "base/common.h"
#include "harness/cli.h"
#include "results/store.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int cmd_runs(int argc, char ** argv) {
    if (vb_cli_wants_help(argc, argv)) {
        printf("usage: vlapbench runs --db FILE [--long]\n"
               "Lists the runs in a results database: id, dataset/split, method, frames (k) and candidates (T),\n"
               "selection, decode mode, seed, threads, samples stored / expected, errors, accuracy (errors count\n"
               "as wrong), status and wall time.  --long adds commit, host, CPU, BLAS core, grid id, config hash\n"
               "and verification hash, weights dtype (f32 for runs stored before it was recorded) and the largest\n"
               "session peak RSS.\n");
        return 0;
    }
    const char * db = NULL;
    int          lng = 0;
    for (int i = 1; i < argc; i++) {
        const char * v;
        if (vb_cli_opt(argc, argv, &i, "--db", &v))
            db = v;
        else if (!strcmp(argv[i], "--long"))
            lng = 1;
        else {
            fprintf(stderr, "runs: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (!db) {
        fprintf(stderr, "runs: --db FILE is required\n");
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
        if (lng) {
            char rss[32];
            if (r->peak_rss_kb >= 0)
                snprintf(rss, sizeof rss, "%.2f GiB", (double)r->peak_rss_kb / (1024.0 * 1024.0));
            else
                snprintf(rss, sizeof rss, "-");
            printf("      commit %s%s  host %s  cpu %s  blas %s  grid %s\n      created %s  sampling %s  "
                   "sws %s  config %.16s  verify %.16s\n      weights %s  peak RSS %s\n",
                   r->git_commit, r->git_dirty ? "+dirty" : "", r->host ? r->host : "-",
                   r->cpu_model ? r->cpu_model : "-", r->blas_core ? r->blas_core : "-", r->grid_id ? r->grid_id : "-",
                   r->created, r->sampling, r->sws_flags ? r->sws_flags : "-", r->config_hash,
                   r->verify_hash ? r->verify_hash : "-", r->weights_dtype ? r->weights_dtype : "f32", rss);
        }
    }
    if (n == 0) printf("(no runs)\n");
    vb_store_runs_free(runs, n);
    vb_store_close(st);
    return 0;
}
