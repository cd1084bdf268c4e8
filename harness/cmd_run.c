/* cmd_run.c — `vlapbench run`: flags / RUN.json -> canonical config -> harness/runner.c. */
#include "base/common.h"
#include "engine/wmat.h"
#include "harness/cli.h"
#include "harness/estimate.h"
#include "harness/runconfig.h"
#include "harness/runner.h"

#include <string.h>

static int usage(void) {
    printf(
        "usage: vlapbench run [--config RUN.json] [options]   (flags override the file's keys)\n"
        "Evaluates every selected sample with every method x frame count (one stored run per cell) into SQLite.\n"
        "  --dataset nextqa|star|vlep|how2qa|how2qa-value|sevila   --annotations FILE  [--map FILE]  --videos DIR\n"
        "  --method NAME=DIR        a method (uniform, sevila, vlap) and its bundle; repeatable or comma-separated\n"
        "  --method NAME@K=DIR      the bundle of NAME for K frames (VLAP: one Frame-Prompter per K)\n"
        "  --methods A,B --model DIR   several methods on one bundle\n"
        "  --frames 1,2,4           frame counts k given to the answerer (default 1,2,4)\n"
        "  --candidates T           SeViLA / VLAP candidates (default 32; VLAP: its Frame-Prompter's)\n"
        "  --sampling uniform_midbin|uniform_endpoints|uniform_interior   --interp bilinear|bicubic\n"
        "  --selection argmax|gumbel (VLAP)   --decode-mode minimal|as_released   --seed N   --threads N (0 = all)\n"
        "  --weights f32|bf16|f16   resident dtype of the large weight matrices (default f32; part of the cells'\n"
        "                           identity when not f32)\n"
        "  --compute f32|bf16       bf16: activations rounded to bf16 in the Linears, f32 accumulation (AVX512_BF16)\n"
        "  --device cpu|cuda        where the models run (cuda: the GPU, docs/cuda.md; without one: exit 1 and why);\n"
        "                           part of the cells' identity when not cpu, the GPU stored with each run\n"
        "  --method-frames NAME=K1,K2   NAME runs at these frame counts only (e.g. vlap=4 in a 1,2,4,8 grid)\n"
        "  --warmup N               first N processed samples are stored untimed (still scored); default 1\n"
        "  --samples FILE           only these sample keys (one per line)   --limit N   the first N (after --samples)\n"
        "  --shard i/N              this process's slice: samples whose key hashes (FNV-1a 64) to i mod N\n"
        "  --order video|file       processing order of the selected samples: video (default) runs a video's\n"
        "                           questions one after the other (videos in order of first appearance), so its\n"
        "                           ViT features are computed once; file: the annotation file's order.  Neither\n"
        "                           changes which samples run or any result; a run resumes under either\n"
        "  --db FILE                results database (default results.db)   --flush-rows N   commit every N rows\n"
        "  --vit-cache-mb MB        shared ViT feature cache bound (default 256, at least one cell's frames; 0 = no\n"
        "                           sharing between cells)\n"
        "  --skip-bad               skip malformed annotation records   --quiet   no progress output\n"
        "Bundles of one run share byte-identical frozen parts (ViT blocks, T5) instead of loading them twice.\n"
        "Re-running the same configuration on the same database resumes it: stored samples are not run again.\n"
        "  --retry-errors           re-run the error rows of the selected samples (they are replaced)\n"
        "  --keep-going             do not stop when the first 20 samples all fail the same way (on 5+ videos)\n"
        "  --estimate               calibrate on this machine and print the expected wall time per cell and for the\n"
        "                           grid (samples already stored excluded), then exit 0 without running or writing\n"
        "                           anything; every run prints the same estimate first and stores estimate vs actual\n"
        "                           with its sessions (docs/runner.md, \"Estimate\")\n"
        "  --no-estimate            skip that calibration (seconds for toy models, up to a minute at full size)\n"
        "Damaged or missing videos become error rows and the run goes on, except that a run whose first 20 samples\n"
        "all fail the same way, on at least 5 distinct videos, stops (exit 1) with the reason and the expected\n"
        "video path (--keep-going: go on).\n"
        "A --limit / --samples selection is stored as a labelled subset (runs.subset).  Stored stage times are each "
        "cell's cold\n"
        "cost (shared ViT / localizer / decode work is charged to every cell that uses it; docs/runner.md).\n"
        "Exit 0 ok, 1 failure, 2 usage.\n");
    return 0;
}

int cmd_run(int argc, char ** argv) {
    if (vb_cli_wants_help(argc, argv)) return usage();
    struct vb_run_config c;
    vb_runconfig_defaults(&c);
    int rc = vb_runconfig_from_args(&c, argc, argv);
    if (rc == VB_OK) rc = vb_runconfig_validate(&c);
    if (rc == VB_OK) rc = vb_runconfig_check_inputs(&c);
    if (rc == VB_OK) rc = vb_runconfig_apply_compute(&c);
    if (rc != VB_OK) {
        fprintf(stderr, "run: %s (see --help)\n", vb_errmsg());
        vb_runconfig_free(&c);
        return rc == VB_ERR_ARG ? 2 : 1;
    }
    int32_t wdt = VB_DT_F32;
    if (vb_wmat_compute() == VB_COMPUTE_BF16 && vb_runconfig_weight_dtype(c.weights, &wdt) == VB_OK &&
        wdt != VB_DT_BF16) /* a hint, not an error: the results are those asked for */
        fprintf(stderr,
                "run: note: --compute bf16 on %s weights rounds the weights of every product of more than 24 rows to "
                "bf16 per call (1.8x the time of --weights bf16 on the T5-XL encoder at 128 tokens, "
                "docs/performance.md); --weights bf16 stores them rounded once (the decode steps then read the "
                "rounded weights too)\n",
                c.weights);
    struct vb_runner_report rep;
    memset(&rep, 0, sizeof rep);
    rc = vb_runner_run(&c, &rep);
    if (rc != VB_OK) {
        fprintf(stderr, "run: %s\n", vb_errmsg());
        vb_runconfig_free(&c);
        return 1;
    }
    if (c.estimate == 1) { /* the table is printed; nothing ran */
        vb_runconfig_free(&c);
        return 0;
    }
    printf("samples: %d loaded, %d selected, %d in this shard, %d processed (%d warm-up, untimed)\n", rep.n_loaded,
           rep.n_selected, rep.n_shard, rep.n_processed, rep.n_warmup);
    printf("%-8s %6s %6s %6s %8s %8s %8s %8s\n", "method", "frames", "cand", "run", "before", "ok", "errors",
           "resumed");
    for (int32_t i = 0; i < rep.n_cells; i++) {
        const struct vb_runner_cell_report * r = &rep.cells[i];
        printf("%-8s %6d %6d %6lld %8d %8d %8d %8s\n", r->method, r->frames, r->candidates, (long long)r->run_id,
               r->n_already, r->n_ok, r->n_error, r->resumed ? "yes" : "no");
    }
    printf("rows: %lld ok, %lld error; frames decoded %lld; ViT frames computed %lld; ViT cache %lld hits / %lld "
           "misses / %lld evictions; wall %.3f s; db %s\n",
           (long long)rep.n_rows_ok, (long long)rep.n_rows_error, (long long)rep.n_frames_decoded,
           (long long)rep.n_vit_computed, (long long)rep.vit_hits, (long long)rep.vit_misses,
           (long long)rep.vit_evictions, rep.wall_s, c.db);
    char est[48], act[48];
    vb_duration_human(rep.est_s, est, sizeof est);
    vb_duration_human(rep.wall_s, act, sizeof act);
    if (c.estimate < 0)
        printf("estimate vs actual: not estimated (--no-estimate), actual %s\n", act);
    else if (rep.est_s > 0)
        printf("estimate vs actual: estimate %s (calibrated in %.2f s), actual %s, actual/estimate %.2f\n", est,
               rep.est_calib_s, act, rep.wall_s / rep.est_s);
    else
        printf("estimate vs actual: estimate 0 s (nothing to do), actual %s\n", act);
    printf("memory: peak RSS %.2f GiB (weights %s); bundles %d, ViT shared by %d, T5 shared by %d (%.2f GiB not loaded "
           "again)\n",
           (double)rep.peak_rss_kb / (1024.0 * 1024.0), rep.weights, rep.n_bundles, rep.n_vit_shared, rep.n_t5_shared,
           (double)rep.shared_bytes / (1024.0 * 1024.0 * 1024.0));
    vb_runconfig_free(&c);
    return 0;
}
