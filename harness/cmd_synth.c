/* cmd_synth.c — `vlapbench synth`: write the synthetic benchmark (datasets/synth.h). */
#include "base/common.h"
#include "datasets/synth.h"
#include "datasets/synth_hits.h"
#include "harness/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_int(const char * s, int32_t lo, int32_t hi, int32_t * out) {
    char * end;
    long   v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi) return 0;
    *out = (int32_t)v;
    return 1;
}

int cmd_synth(int argc, char ** argv) {
    if (vb_cli_wants_help(argc, argv)) {
        printf(
            "usage: vlapbench synth --out DIR [--videos N] [--seed S] [--frames F] [--fps R] [--size WxH]\n"
            "                       [--gop G] [--bframes B] [--questions Q] [--task index|event] [--no-videos]\n"
            "                       [--event-times iid|stratified] [--first K]\n"
            "       vlapbench synth --verify DIR\n"
            "       vlapbench synth --uniform-hits DIR\n"
            "Writes small H.264 videos (libx264 if available, else mpeg4) whose frames show their own index as a\n"
            "block code, and annotation files for them in every official format: NExT-QA val.csv +\n"
            "map_vid_vidorID.json, STAR_val.json, VLEP vlep_dev_release.jsonl, How2QA raw CSV and VALUE JSONL +\n"
            "how2_vid_mapping.json, and SeViLA unified val.json per dataset.  Same seed -> byte-identical\n"
            "annotations (and videos with the same libraries).\n"
            "  --videos N     number of videos (default 8)\n"
            "  --seed S       generator seed (default 1)\n"
            "  --frames F     frames per video (default: varied, 3-10 s)\n"
            "  --fps R        frame rate (default: varied among 10, 15, 24, 25, 29.97, 30)\n"
            "  --size WxH     frame size (default 320x240)\n"
            "  --gop G        keyframe interval (default: varied among 6, 12, 30, 60)\n"
            "  --bframes B    max consecutive B-frames 0-4 (default 2)\n"
            "  --questions Q  questions per video and dataset (default 2)\n"
            "  --task T       index (default): frames show their own number, questions ask about the square's colour\n"
            "                 or the number in a frame; event: each video (default 32 frames at 8 fps,\n"
            "                 gop 16) shows a red, green, blue or yellow card on 1/16 of its frames at a random\n"
            "                 time among grey distractors, and every question asks its colour, options in a fixed\n"
            "                 order (How2QA: a half-video segment holding the card); the manifest gives each\n"
            "                 video's card frames (\"event\": [first, end)) -- the trained demo's task\n"
            "  --event-times iid|stratified  (event task) iid (default): each card time, and each How2QA\n"
            "                 window around it, drawn on its own; stratified: every card start is still uniform\n"
            "                 over the video, but over the videos the starts cover it evenly (a seeded\n"
            "                 permutation gives each video its own 1/N of the range), and the How2QA windows\n"
            "                 are drawn so that the number of questions whose uniformly sampled 1, 2 or 4 frames\n"
            "                 show the card tracks its expectation (systematic sampling; synth_task.h): the\n"
            "                 demo's evaluation split (docs/demo.md); the manifest records it\n"
            "  --first K      write only the first K videos of the --videos N benchmark, and their questions:\n"
            "                 exactly those of the whole benchmark (stratified times depend on N)\n"
            "  --no-videos    write annotations and manifest only\n"
            "--uniform-hits DIR (event task) prints per dataset how many questions' uniformly sampled 1, 2 and 4\n"
            "frames (uniform_midbin inside the question's segment, as the runner samples) hold a card frame, and the\n"
            "number expected with uniform card times (one line per dataset).\n"
            "--verify DIR (index task) reads every annotation file of DIR with the real loaders, decodes 8 "
            "uniform_midbin frames\n"
            "inside each sample's segment from its resolved video path, and checks that every frame shows its own\n"
            "number and that the labelled answer is what the pixels say; exit 1 on the first mismatch.\n");
        return 0;
    }
    struct vb_synth_opts o;
    vb_synth_opts_default(&o);
    const char *verify = NULL, *hits = NULL;
    for (int i = 1; i < argc; i++) {
        const char * v;
        if (vb_cli_opt(argc, argv, &i, "--out", &v))
            o.out_dir = v;
        else if (vb_cli_opt(argc, argv, &i, "--verify", &v))
            verify = v;
        else if (vb_cli_opt(argc, argv, &i, "--uniform-hits", &v))
            hits = v;
        else if (vb_cli_opt(argc, argv, &i, "--videos", &v)) {
            if (!parse_int(v, 1, 9999, &o.n_videos)) goto bad;
        } else if (vb_cli_opt(argc, argv, &i, "--seed", &v)) {
            char * end;
            o.seed = strtoull(v, &end, 10);
            if (!*v || *end) goto bad;
        } else if (vb_cli_opt(argc, argv, &i, "--frames", &v)) {
            if (!parse_int(v, 1, 1000000, &o.frames)) goto bad;
        } else if (vb_cli_opt(argc, argv, &i, "--fps", &v)) {
            char * end;
            o.fps = strtod(v, &end);
            if (!*v || *end || !(o.fps > 0) || o.fps > 240) goto bad;
        } else if (vb_cli_opt(argc, argv, &i, "--size", &v)) {
            int  w, h;
            char tail;
            if (sscanf(v, "%dx%d%c", &w, &h, &tail) != 2) goto bad;
            o.width = w;
            o.height = h;
        } else if (vb_cli_opt(argc, argv, &i, "--gop", &v)) {
            if (!parse_int(v, 1, 100000, &o.gop)) goto bad;
        } else if (vb_cli_opt(argc, argv, &i, "--bframes", &v)) {
            if (!parse_int(v, 0, 4, &o.bframes)) goto bad;
        } else if (vb_cli_opt(argc, argv, &i, "--questions", &v)) {
            if (!parse_int(v, 1, 15, &o.questions)) goto bad;
        } else if (vb_cli_opt(argc, argv, &i, "--task", &v)) {
            if (!strcmp(v, "index"))
                o.task = VB_SYNTH_TASK_INDEX;
            else if (!strcmp(v, "event"))
                o.task = VB_SYNTH_TASK_EVENT;
            else
                goto bad;
        } else if (vb_cli_opt(argc, argv, &i, "--first", &v)) {
            if (!parse_int(v, 1, 9999, &o.first)) goto bad;
        } else if (vb_cli_opt(argc, argv, &i, "--event-times", &v)) {
            if (!strcmp(v, "iid"))
                o.event_times = VB_SYNTH_EVENT_IID;
            else if (!strcmp(v, "stratified"))
                o.event_times = VB_SYNTH_EVENT_STRATIFIED;
            else
                goto bad;
        } else if (!strcmp(argv[i], "--no-videos"))
            o.skip_videos = 1;
        else {
            fprintf(stderr, "synth: unknown option or missing value: %s\n", argv[i]);
            return 2;
        }
        continue;
    bad:
        fprintf(stderr, "synth: bad value for %s\n", argv[i - 1 >= 1 ? i - 1 : i]);
        return 2;
    }
    if (hits) {
        struct vb_synth_hits h;
        if (vb_synth_uniform_hits_dir(hits, &h) != VB_OK) {
            fprintf(stderr, "synth --uniform-hits: %s\n", vb_errmsg());
            return 1;
        }
        for (int d = 0; d < VB_SYNTH_HITS_DS; d++)
            printf("%s: %d questions; uniform frames hold the card: k=1 %d (expected %.2f), k=2 %d (%.2f), k=4 %d "
                   "(%.2f)\n",
                   h.name[d], h.n[d], h.hits[d][0], h.expect[d][0], h.hits[d][1], h.expect[d][1], h.hits[d][2],
                   h.expect[d][2]);
        return 0;
    }
    if (verify) {
        int32_t n = 0;
        int     rc = vb_synth_verify(verify, stderr, &n);
        if (rc != VB_OK) {
            fprintf(stderr, "synth --verify: %s\n", vb_errmsg());
            return 1;
        }
        printf("synth verify: %d samples ok\n", n);
        return 0;
    }
    if (!o.out_dir) {
        fprintf(stderr, "synth: --out DIR is required (see --help)\n");
        return 2;
    }
    int rc = vb_synth_benchmark(&o, stderr);
    if (rc != VB_OK) {
        fprintf(stderr, "%s\n", vb_errmsg());
        return 1;
    }
    return 0;
}
