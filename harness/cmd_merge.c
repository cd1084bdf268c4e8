/* cmd_merge.c — `vlapbench merge --out all.db shard*.db`: combine shard databases (store.h vb_store_merge). */
#include "base/common.h"
#include "harness/cli.h"
#include "results/store.h"

#include <stdio.h>
#include <string.h>

int cmd_merge(int argc, char ** argv) {
    if (vb_cli_wants_help(argc, argv)) {
        printf("usage: vlapbench merge --out OUT.db [--union] IN.db [IN.db ...]\n"
               "Merges shard databases: runs are matched by config hash, samples copied (identical duplicates\n"
               "skipped, different duplicates are an error), sessions kept, verification hash and status\n"
               "recomputed.  By default every input must hold the same set of run configurations (the shards of\n"
               "one invocation) and a mismatch is refused; --union accepts inputs with different runs.  All or\n"
               "nothing: on error OUT.db is left as it was, and an OUT.db this merge created is removed.\n"
               "Exit 0 ok, 1 error, 2 usage.\n");
        return 0;
    }
    const char *  out = NULL;
    int           strict = 1;
    const char ** in = vb_calloc((size_t)argc, sizeof *in);
    int32_t       n = 0;
    for (int i = 1; i < argc; i++) {
        const char * v;
        if (vb_cli_opt(argc, argv, &i, "--out", &v))
            out = v;
        else if (!strcmp(argv[i], "--union"))
            strict = 0;
        else if (argv[i][0] == '-') {
            fprintf(stderr, "merge: unknown option %s\n", argv[i]);
            free(in);
            return 2;
        } else
            in[n++] = argv[i];
    }
    if (!out || n == 0) {
        fprintf(stderr, "merge: --out FILE and at least one input database are required\n");
        free(in);
        return 2;
    }
    int rc = vb_store_merge(out, in, n, strict);
    free(in);
    if (rc != VB_OK) {
        fprintf(stderr, "merge: %s\n", vb_errmsg());
        return 1;
    }
    fprintf(stderr, "merge: %d database(s) merged into %s\n", (int)n, out);
    return 0;
}
