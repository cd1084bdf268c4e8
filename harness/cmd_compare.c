/* cmd_compare.c — `vlapbench compare`: paired regression gate between two runs (reports/report.h). */
#include "base/common.h"
#include "harness/cli.h"
#include "reports/report.h"
#include "results/store.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_num(const char * s, double * out) {
    char * end;
    *out = strtod(s, &end);
    return end != s && *end == 0 && isfinite(*out);
}

/* compare --db NEW --baseline-db OLD: every cell matched by its key (reports/report.h). */
static int compare_cells(const char * db, const char * db2, const struct vb_compare_opts * o, int json) {
    struct vb_store *sn = NULL, *sb = NULL;
    int              rc = vb_store_open(&sn, db, 1);
    if (rc == VB_OK) rc = vb_store_open(&sb, db2, 1);
    if (rc != VB_OK) {
        fprintf(stderr, "compare: %s\n", vb_errmsg());
        vb_store_close(sn);
        return 2;
    }
    struct vb_compare_cells c;
    rc = vb_report_compare_cells(sn, sb, o, &c);
    vb_store_close(sn);
    vb_store_close(sb);
    if (rc != VB_OK && rc != VB_ERR_MISMATCH) {
        fprintf(stderr, "compare: %s\n", vb_errmsg());
        return 2;
    }
    if (rc == VB_ERR_MISMATCH) fprintf(stderr, "compare: %s\n", vb_errmsg());
    vb_report_compare_cells_print(stdout, &c, o, json);
    int out = rc != VB_OK ? 2 : (c.n_fail || c.n_error) ? 1 : 0;
    vb_report_compare_cells_free(&c);
    return out;
}

int cmd_compare(int argc, char ** argv) {
    if (vb_cli_wants_help(argc, argv)) {
        printf("usage: vlapbench compare --db FILE --run NEW --baseline OLD [--baseline-db FILE2]\n"
               "       vlapbench compare --db NEW.db --baseline-db OLD.db          (every cell, matched by settings)\n"
               "                         [--max-acc-drop PTS] [--max-latency-rise PCT|off] [--alpha A] [--boot N]\n"
               "                         [--seed S] [--max-changed N] [--ignore-key FIELD[,FIELD...]]\n"
               "                         [--latency-ref METHOD] [--json]\n"
               "Pairs the two runs on their sample keys and prints, overall and per category, both accuracies,\n"
               "the difference with its paired cluster-bootstrap 95%% CI (by video), the discordant counts and\n"
               "the exact McNemar p-value; then per-stage median latencies.  Exit 1 when the accuracy drop is\n"
               "significant (McNemar p < alpha, default 0.05) AND larger than --max-acc-drop points (default 0),\n"
               "or when the median end-to-end latency (s/question) rose by more than --max-latency-rise percent\n"
               "(default %.0f; 'off' disables the latency check); 0 otherwise; 2 on usage errors or when the runs\n"
               "cannot be paired.\n"
               "Without --run/--baseline, every run of NEW.db is matched to the run of OLD.db with the same cell key\n"
               "(dataset, split, method, frames k, candidates T, sampling, selection, decode mode, seed, BLAS\n"
               "threads, weights dtype and the run's settings object: interp, video size, map; NOT the code\n"
               "version, weight hashes or annotation hash) and each pair is compared as above; cells on one side\n"
               "only are listed (they do not fail the gate).  Exit 1 when any paired cell fails or cannot be\n"
               "compared, 2 when no cell is on both sides.  --json: one object with every cell's key and run ids.\n"
               "--max-changed N: also fail (a run, or each paired cell) when more than N paired questions changed\n"
               "their predicted option (0 = every prediction must be identical; off by default).\n"
               "--ignore-key FIELD,...: match cells without these key fields (%s), e.g.\n"
               "blas_threads for a baseline made on a machine with another core count.\n"
               "--latency-ref METHOD: the latency gate compares each run's median relative to the median of\n"
               "METHOD's run with the same dataset, split and k in its own database (e.g. sevila: a baseline\n"
               "measured on a faster or busier machine then compares fairly); unchecked where none exists.\n",
               VB_COMPARE_DEFAULT_LATENCY_RISE_PCT, VB_COMPARE_KEY_FIELDS);
        return 0;
    }
    const char *              db = NULL, *db2 = NULL, *run = NULL, *base = NULL;
    struct vb_compare_opts    o = {0};
    static const char * const FIELDS[7] = {"blas_threads", "config",    "decode_mode",  "sampling",
                                           "seed",         "selection", "weights_dtype"};
    const char *              ignore[24];
    static char               owned[16][64]; /* the config.NAME strings */
    int                       n_owned = 0;
    o.key_ignore = ignore;
    o.max_latency_rise_pct = VB_COMPARE_DEFAULT_LATENCY_RISE_PCT;
    o.seed = 1;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        const char * v;
        double       d;
        if (vb_cli_opt(argc, argv, &i, "--db", &v))
            db = v;
        else if (vb_cli_opt(argc, argv, &i, "--baseline-db", &v))
            db2 = v;
        else if (vb_cli_opt(argc, argv, &i, "--run", &v))
            run = v;
        else if (vb_cli_opt(argc, argv, &i, "--baseline", &v))
            base = v;
        else if (vb_cli_opt(argc, argv, &i, "--max-acc-drop", &v)) {
            if (!parse_num(v, &d) || d < 0) {
                fprintf(stderr, "compare: --max-acc-drop takes points >= 0\n");
                return 2;
            }
            o.max_acc_drop_pts = d;
        } else if (vb_cli_opt(argc, argv, &i, "--max-latency-rise", &v)) {
            if (!strcmp(v, "off")) {
                o.max_latency_rise_pct = -1;
                continue;
            }
            if (!parse_num(v, &d) || d < 0) {
                fprintf(stderr, "compare: --max-latency-rise takes a percentage >= 0 or 'off'\n");
                return 2;
            }
            o.max_latency_rise_pct = d;
        } else if (vb_cli_opt(argc, argv, &i, "--alpha", &v)) {
            if (!parse_num(v, &d) || d <= 0 || d >= 1) {
                fprintf(stderr, "compare: --alpha takes a value in (0, 1)\n");
                return 2;
            }
            o.alpha = d;
        } else if (vb_cli_opt(argc, argv, &i, "--boot", &v))
            o.n_boot = atoi(v);
        else if (vb_cli_opt(argc, argv, &i, "--seed", &v))
            o.seed = strtoull(v, NULL, 10);
        else if (vb_cli_opt(argc, argv, &i, "--latency-ref", &v)) {
            if (!*v || strlen(v) > 31) {
                fprintf(stderr, "compare: --latency-ref takes a method name\n");
                return 2;
            }
            o.latency_ref = v;
        } else if (vb_cli_opt(argc, argv, &i, "--max-changed", &v)) {
            char * e;
            long   k = strtol(v, &e, 10);
            if (e == v || *e || k < 0 || k > INT32_MAX) {
                fprintf(stderr, "compare: --max-changed takes a count >= 0\n");
                return 2;
            }
            o.check_changed = 1;
            o.max_changed = (int32_t)k;
        } else if (vb_cli_opt(argc, argv, &i, "--ignore-key", &v)) {
            const char * p = v;
            while (*p) {
                size_t len = strcspn(p, ",");
                int    ok = 0;
                if (len > 7 && len < 64 && !strncmp(p, "config.", 7) && o.n_key_ignore < 16) { /* one setting */
                    char * f = owned[n_owned++];
                    memcpy(f, p, len);
                    f[len] = 0;
                    ignore[o.n_key_ignore++] = f;
                    ok = 1;
                }
                for (int f = 0; f < 7 && !ok && o.n_key_ignore < 23; f++)
                    if (strlen(FIELDS[f]) == len && !strncmp(p, FIELDS[f], len)) {
                        ok = 1;
                        int dup = 0;
                        for (int32_t q = 0; q < o.n_key_ignore; q++)
                            dup |= !strcmp(ignore[q], FIELDS[f]);
                        if (!dup) ignore[o.n_key_ignore++] = FIELDS[f];
                    }
                if (!ok) {
                    fprintf(stderr, "compare: --ignore-key: '%.*s' is not one of %s\n", (int)len, p,
                            VB_COMPARE_KEY_FIELDS);
                    return 2;
                }
                p += len;
                if (*p == ',') p++;
            }
        } else if (!strcmp(argv[i], "--json"))
            json = 1;
        else {
            fprintf(stderr, "compare: unknown option %s (see --help)\n", argv[i]);
            return 2;
        }
    }
    if (db && db2 && !run && !base) return compare_cells(db, db2, &o, json);
    if (!db || !run || !base) {
        fprintf(stderr, "compare: --db with --run and --baseline, or --db and --baseline-db, are required\n");
        return 2;
    }
    char *    e1, *e2;
    long long idn = strtoll(run, &e1, 10), idb = strtoll(base, &e2, 10);
    if (*e1 || *e2 || idn <= 0 || idb <= 0) {
        fprintf(stderr, "compare: --run and --baseline take run ids\n");
        return 2;
    }
    struct vb_store *sn = NULL, *sb = NULL;
    int              rc = vb_store_open(&sn, db, 1);
    if (rc == VB_OK && db2) rc = vb_store_open(&sb, db2, 1);
    if (rc != VB_OK) {
        fprintf(stderr, "compare: %s\n", vb_errmsg());
        vb_store_close(sn);
        return 2;
    }
    struct vb_compare_result r;
    rc = vb_report_compare(sn, idn, sb ? sb : sn, idb, &o, &r);
    vb_store_close(sn);
    vb_store_close(sb);
    if (rc != VB_OK) {
        fprintf(stderr, "compare: %s\n", vb_errmsg());
        return 2;
    }
    vb_report_compare_print(stdout, &r, &o, json);
    int fail = r.acc_fail || r.lat_fail || r.pred_fail;
    vb_report_compare_free(&r);
    return fail ? 1 : 0;
}
