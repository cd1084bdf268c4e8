/* cmd_score.c — `vlapbench score`: score an official prediction file with the official scorer's semantics
** (metrics/score.h).  Missing or unknown ids stop with a clear error unless --skip-missing (then they are counted
** and reported); How2QA (VALUE) always requires the prediction ids to equal the ground-truth ids, as
** evaluate_how2qa.py asserts. */
#include "base/common.h"
#include "datasets/dataset.h"
#include "harness/cli.h"
#include "metrics/score.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE * f) {
    fprintf(f,
            "usage: vlapbench score --dataset nextqa|star|vlep|how2qa|how2qa-value --annotations FILE\n"
            "                       --predictions FILE [--json] [--skip-missing] [--map FILE]\n"
            "Prediction formats: NExT-QA eval_mc.py result JSON {\"video_qid\": {\"prediction\": i, \"answer\": i}};\n"
            "VLEP standalone JSONL {\"example_id\": n, \"pred_ans\": i} or VALUE {\"<example_id>\": i};\n"
            "How2QA VALUE {\"<qid>\": i} (ids must equal the ground truth); raw How2QA CSV {\"<line>\": i} in the\n"
            "permuted option order; STAR {\"<question_id>\": i} or {\"Interaction\": [{\"question_id\", \"answer\"}], "
            "...}.\n"
            "Prints what the official scorer prints (eval_mc.py; VLEP eval.py / evaluate_vlep.py; evaluate_how2qa.py;\n"
            "for STAR the 4 type accuracies, their Mean (headline) and the pooled overall); --json prints one JSON "
            "object.\n");
}

static void list_ex(const char * what, int32_t n, char ex[3][64]) {
    if (n == 0) return;
    fprintf(stderr, "vlapbench score: %d %s", n, what);
    for (int i = 0; i < 3 && i < n; i++)
        fprintf(stderr, "%s'%s'", i ? ", " : " (e.g. ", ex[i]);
    fprintf(stderr, "%s\n", n > 0 ? (n > 3 ? ", ...)" : ")") : "");
}

int cmd_score(int argc, char ** argv) {
    if (vb_cli_wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    const char *ds = NULL, *ann = NULL, *preds = NULL, *map = NULL;
    int         json = 0, skip_missing = 0;
    for (int i = 1; i < argc; i++) {
        if (vb_cli_opt(argc, argv, &i, "--dataset", &ds) || vb_cli_opt(argc, argv, &i, "--annotations", &ann) ||
            vb_cli_opt(argc, argv, &i, "--predictions", &preds) || vb_cli_opt(argc, argv, &i, "--map", &map))
            continue;
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (strcmp(argv[i], "--skip-missing") == 0)
            skip_missing = 1;
        else {
            fprintf(stderr, "vlapbench score: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    enum vb_dataset_kind kind;
    if (!ds || !ann || !preds) {
        fprintf(stderr, "vlapbench score: --dataset, --annotations and --predictions are required\n");
        usage(stderr);
        return 2;
    }
    if (vb_dataset_kind_parse(ds, &kind) || kind == VB_DS_SEVILA) {
        fprintf(stderr, "vlapbench score: --dataset must be nextqa, star, vlep, how2qa or how2qa-value\n");
        return 2;
    }
    if (map && kind != VB_DS_NEXTQA && kind != VB_DS_HOW2QA_VALUE) {
        fprintf(stderr, "vlapbench score: --map applies to nextqa and how2qa-value only\n");
        return 2;
    }
    struct vb_dataset d;
    int               st = vb_dataset_load(&d, kind, ann, map, NULL, 0);
    if (st) {
        fprintf(stderr, "vlapbench score: %s\n", vb_errmsg());
        return 1;
    }
    int                 rc = 1;
    int32_t *           pred = vb_calloc((size_t)d.n, sizeof(int32_t));
    struct vb_pred_info info;
    struct vb_score     sc;
    st = vb_score_read_predictions(&d, preds, pred, &info);
    if (st) {
        fprintf(stderr, "vlapbench score: %s\n", vb_errmsg());
        goto out;
    }
    if (info.n_alias)
        fprintf(stderr, "vlapbench score: warning: %d lines use 'pre_ans' instead of 'pred_ans' (accepted)\n",
                info.n_alias);
    if (info.n_answer_mismatch) {
        list_ex("predictions whose 'answer' disagrees with the CSV; the CSV ground truth is used",
                info.n_answer_mismatch, info.mismatch_ex);
    }
    int strict_set = kind == VB_DS_HOW2QA_VALUE;
    if (info.n_missing || info.n_extra) {
        list_ex("ground-truth ids have no prediction", info.n_missing, info.missing_ex);
        list_ex("prediction ids are not in the annotations", info.n_extra, info.extra_ex);
        if (strict_set) {
            fprintf(stderr, "vlapbench score: evaluate_how2qa.py requires the prediction ids to equal the "
                            "ground-truth ids (--skip-missing does not apply)\n");
            goto out;
        }
        if (!skip_missing) {
            fprintf(stderr,
                    "vlapbench score: refusing to score an incomplete or mismatched file "
                    "(use --skip-missing to score the %d matching predictions)\n",
                    d.n - info.n_missing);
            goto out;
        }
        fprintf(stderr, "vlapbench score: --skip-missing: scoring without %d missing ids, ignoring %d unknown ids\n",
                info.n_missing, info.n_extra);
    }
    st = vb_score_tally(&d, pred, &sc);
    if (st) {
        fprintf(stderr, "vlapbench score: %s\n", vb_errmsg());
        goto out;
    }
    if (json)
        vb_score_print_json(stdout, &sc, &info);
    else
        vb_score_print_official(stdout, &sc, &d, preds, &info);
    rc = 0;
out:
    free(pred);
    vb_dataset_free(&d);
    return rc;
}
