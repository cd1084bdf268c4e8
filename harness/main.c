/* main.c — the vlapbench program: git-style subcommands.  Only this file calls exit(). */
#include "base/common.h"
#include "engine/blas.h"
#include "harness/cli.h"

#include <stdio.h>
#include <string.h>

struct cmd {
    const char * name;
    int (*fn)(int, char **);
    const char * help;
};

static const struct cmd CMDS[] = {
    {"version", cmd_version, "print version, build, BLAS kernel and threads"},
    {"check-golden", cmd_check_golden, "compare the engine with reference tensors in a golden folder"},
    {"tokenize", cmd_tokenize, "T5 / BERT tokenization of JSON-lines strings from stdin"},
    {"datasets", cmd_datasets, "dataset statistics and video checks (stats, check)"},
    {"synth", cmd_synth, "write a synthetic benchmark: videos + annotations in every format"},
    {"bench-decode", cmd_bench_decode, "benchmark sparse frame decoding against full decoding"},
    {"answer", cmd_answer, "answer one question on one video with one method"},
    {"init-model", cmd_init_model, "write a random-weight model bundle of any shape"},
    {"run", cmd_run, "evaluate methods x frame counts on a dataset into SQLite"},
    {"runs", cmd_runs, "list the runs stored in a results database"},
    {"merge", cmd_merge, "merge shard databases into one run"},
    {"score", cmd_score, "score a prediction file with the official semantics"},
    {"export", cmd_export, "write a run's predictions in an official format"},
    {"report", cmd_report, "tables (md, tex, html) and plots from stored runs"},
    {"compare", cmd_compare, "regression comparison of two runs (CI gate)"},
    {"bench-engine", cmd_bench_engine, "per-component engine speed at a given model shape"},
    {"demo", cmd_demo, "the helpers of make demo (corpus, tokenizers, export, report note; make demo runs it all)"},
};
#define NCMDS ((int)(sizeof CMDS / sizeof CMDS[0]))

static void usage(FILE * f) {
    fprintf(f, "usage: vlapbench <command> [options]   (vlapbench <command> --help for each)\n\ncommands:\n");
    for (int i = 0; i < NCMDS; i++)
        fprintf(f, "  %-14s %s%s\n", CMDS[i].name, CMDS[i].help, CMDS[i].fn ? "" : "  [not built]");
}

int main(int argc, char ** argv) {
    vb_blas_fix_core_and_reexec(argv);
    const char * lvl = getenv("VB_LOG");
    if (lvl) vb_log_level_cur = atoi(lvl);
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) argv[1] = "version";
    for (int i = 0; i < NCMDS; i++) {
        if (strcmp(argv[1], CMDS[i].name) == 0) {
            if (!CMDS[i].fn) {
                fprintf(stderr, "vlapbench: command '%s' is not built into this binary\n", argv[1]);
                return 2;
            }
            int rc = CMDS[i].fn(argc - 1, argv + 1);
            fflush(stdout);
            return rc;
        }
    }
    fprintf(stderr, "vlapbench: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
