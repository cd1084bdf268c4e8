/* cmd_datasets.c — `vlapbench datasets stats|check`: counts of an annotation file as one JSON object, and a check
** that every sample's video exists, opens as a video and decodes intact to the end. */
#include "base/common.h"
#include "datasets/dataset.h"
#include "datasets/loaders.h"
#include "datasets/video.h"
#include "harness/cli.h"

#include <cjson/cJSON.h>
#include <libavformat/avformat.h>
#include <libavutil/log.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static void usage(FILE * f) {
    fprintf(f,
            "usage: vlapbench datasets stats --dataset NAME --annotations FILE [--map FILE] [--skip-bad]\n"
            "       vlapbench datasets check --dataset NAME --annotations FILE --videos DIR [--map FILE] [--skip-bad]\n"
            "NAME: nextqa, star, vlep, how2qa (raw HERO CSV), how2qa-value (VALUE JSONL), sevila (LAVIS JSON).\n"
            "stats prints one JSON object: total, answered, per category / group counts, options per sample, answer\n"
            "histogram, distinct videos, text checks, segment ranges (and map coverage with --map).\n"
            "check lists samples whose video is missing, does not open as a video (libavformat), is truncated (fewer\n"
            "frames readable than its container lists) or damaged (decoding every frame to the end fails, skips or\n"
            "flags frames) and exits 1 if any.\n"
            "--skip-bad counts and lists malformed records instead of stopping at the first one.\n");
}

/* ordered counter keyed by string */
struct counter {
    struct vb_strmap idx;
    int32_t          n;
    char **          names;
    int32_t *        counts;
};
static void counter_add(struct counter * c, const char * name) {
    int32_t i = vb_strmap_get(&c->idx, name);
    if (i < 0) {
        i = c->n++;
        vb_strmap_put(&c->idx, name, i);
        c->names = vb_realloc(c->names, (size_t)c->n * sizeof(char *));
        c->counts = vb_realloc(c->counts, (size_t)c->n * sizeof(int32_t));
        c->names[i] = vb_strdup(name);
        c->counts[i] = 0;
    }
    c->counts[i]++;
}
static cJSON * counter_json(const struct counter * c) {
    cJSON * o = cJSON_CreateObject();
    for (int32_t i = 0; i < c->n; i++)
        cJSON_AddNumberToObject(o, c->names[i], c->counts[i]);
    return o;
}
/* Sort by numeric name (for histograms); the index map is not used afterwards. */
static void counter_sort_numeric(struct counter * c) {
    for (int32_t i = 1; i < c->n; i++)
        for (int32_t k = i; k > 0 && atoi(c->names[k - 1]) > atoi(c->names[k]); k--) {
            char * t = c->names[k];
            c->names[k] = c->names[k - 1];
            c->names[k - 1] = t;
            int32_t u = c->counts[k];
            c->counts[k] = c->counts[k - 1];
            c->counts[k - 1] = u;
        }
}
static void counter_free(struct counter * c) {
    for (int32_t i = 0; i < c->n; i++)
        free(c->names[i]);
    free(c->names);
    free(c->counts);
    vb_strmap_free(&c->idx);
}

static double r2(double x) {
    return round(x * 100) / 100;
}

static int edge_space(const char * s) {
    size_t n = strlen(s);
    return n && (s[0] == ' ' || s[n - 1] == ' ');
}

struct opts {
    const char *         ds, *ann, *map, *videos;
    int                  skip_bad;
    enum vb_dataset_kind kind;
};

static int parse_opts(int argc, char ** argv, struct opts * o, const char * sub) {
    memset(o, 0, sizeof *o);
    for (int i = 2; i < argc; i++) {
        if (vb_cli_opt(argc, argv, &i, "--dataset", &o->ds) || vb_cli_opt(argc, argv, &i, "--annotations", &o->ann) ||
            vb_cli_opt(argc, argv, &i, "--map", &o->map) || vb_cli_opt(argc, argv, &i, "--videos", &o->videos))
            continue;
        if (strcmp(argv[i], "--skip-bad") == 0) {
            o->skip_bad = 1;
            continue;
        }
        fprintf(stderr, "vlapbench datasets %s: unknown option '%s'\n", sub, argv[i]);
        return 2;
    }
    if (!o->ds || !o->ann) {
        fprintf(stderr, "vlapbench datasets %s: --dataset and --annotations are required\n", sub);
        return 2;
    }
    if (vb_dataset_kind_parse(o->ds, &o->kind)) {
        fprintf(stderr, "vlapbench datasets %s: %s\n", sub, vb_errmsg());
        return 2;
    }
    if (o->map && o->kind != VB_DS_NEXTQA && o->kind != VB_DS_HOW2QA_VALUE) {
        fprintf(stderr,
                "vlapbench datasets %s: --map applies to nextqa (map_vid_vidorID.json) and how2qa-value "
                "(how2_vid_mapping.json) only\n",
                sub);
        return 2;
    }
    return 0;
}

static int stats(const struct opts * o) {
    struct vb_dataset d;
    if (vb_dataset_load(&d, o->kind, o->ann, o->map, NULL, o->skip_bad)) {
        fprintf(stderr, "vlapbench datasets stats: %s\n", vb_errmsg());
        return 1;
    }
    struct counter cats = {0}, groups = {0}, nopt = {0}, answers = {0}, splits = {0}, dsn = {0};
    vb_strmap_init(&cats.idx, 8);
    vb_strmap_init(&groups.idx, 8);
    vb_strmap_init(&nopt.idx, 8);
    vb_strmap_init(&answers.idx, 8);
    vb_strmap_init(&splits.idx, 8);
    vb_strmap_init(&dsn.idx, 8);
    struct vb_strmap videos;
    vb_strmap_init(&videos, d.n);
    int32_t answered = 0, rep = 0, amb = 0, edge = 0, qmark = 0, nseg = 0, zero = 0, after60 = 0;
    double  min_start = INFINITY, max_end = -INFINITY, min_len = INFINITY, max_len = -INFINITY;
    for (int32_t i = 0; i < d.n; i++) {
        const struct vb_sample * s = &d.s[i];
        counter_add(&cats, s->category);
        counter_add(&groups, s->group);
        counter_add(&splits, s->split);
        counter_add(&dsn, s->dataset);
        char b[16];
        snprintf(b, sizeof b, "%d", s->n_options);
        counter_add(&nopt, b);
        if (s->answer >= 0) {
            answered++;
            snprintf(b, sizeof b, "%d", s->answer);
            counter_add(&answers, b);
        }
        vb_strmap_put(&videos, s->video_id, i);
        rep += vb_dataset_sample_repeats_option(s);
        amb += vb_dataset_sample_answer_ambiguous(s);
        for (int k = 0; k < s->n_options; k++)
            edge += edge_space(s->options[k]);
        if (s->question) edge += edge_space(s->question);
        if (s->question) {
            size_t n = strlen(s->question);
            qmark +=
                (n >= 1 && s->question[n - 1] == '?') || (n >= 3 && strcmp(s->question + n - 3, "\xef\xbc\x9f") == 0);
        }
        if (s->start_s >= 0) {
            nseg++;
            double len = s->end_s - s->start_s;
            min_start = fmin(min_start, s->start_s);
            max_end = fmax(max_end, s->end_s);
            min_len = fmin(min_len, len);
            max_len = fmax(max_len, len);
            zero += len == 0;
            after60 += s->end_s > 60;
        }
    }
    counter_sort_numeric(&nopt);
    counter_sort_numeric(&answers);
    cJSON * j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "format", vb_dataset_kind_name(o->kind));
    cJSON_AddStringToObject(j, "file", o->ann);
    cJSON_AddItemToObject(j, "datasets", counter_json(&dsn));
    cJSON_AddItemToObject(j, "splits", counter_json(&splits));
    cJSON_AddNumberToObject(j, "total", d.n);
    cJSON_AddNumberToObject(j, "answered", answered);
    cJSON_AddNumberToObject(j, "bad", d.n_bad);
    cJSON * bad = cJSON_AddArrayToObject(j, "bad_records");
    for (int32_t i = 0; i < d.n_bad; i++)
        cJSON_AddItemToArray(bad, cJSON_CreateString(d.bad[i]));
    cJSON_AddNumberToObject(j, "videos", videos.n);
    cJSON_AddItemToObject(j, "categories", counter_json(&cats));
    cJSON_AddItemToObject(j, "groups", counter_json(&groups));
    cJSON_AddItemToObject(j, "options_per_sample", counter_json(&nopt));
    cJSON_AddItemToObject(j, "answers", counter_json(&answers));
    cJSON_AddNumberToObject(j, "rows_with_repeated_option", rep);
    cJSON_AddNumberToObject(j, "answer_text_repeated", amb);
    cJSON_AddNumberToObject(j, "fields_with_edge_space", edge);
    cJSON_AddNumberToObject(j, "questions_ending_qmark", qmark);
    cJSON * seg = cJSON_AddObjectToObject(j, "segments");
    cJSON_AddNumberToObject(seg, "count", nseg);
    if (nseg) {
        cJSON_AddNumberToObject(seg, "min_start", r2(min_start));
        cJSON_AddNumberToObject(seg, "max_end", r2(max_end));
        cJSON_AddNumberToObject(seg, "min_len", r2(min_len));
        cJSON_AddNumberToObject(seg, "max_len", r2(max_len));
        cJSON_AddNumberToObject(seg, "zero_len", zero);
        cJSON_AddNumberToObject(seg, "end_after_60s", after60);
    }
    int rc = 0;
    if (o->map) {
        struct vb_jsonmap m;
        if (vb_jsonmap_load(&m, o->map)) {
            fprintf(stderr, "vlapbench datasets stats: %s\n", vb_errmsg());
            rc = 1;
        } else {
            int32_t          miss_q = 0;
            struct vb_strmap miss_v;
            vb_strmap_init(&miss_v, 64);
            for (int32_t i = 0; i < d.n; i++)
                if (!vb_jsonmap_get(&m, d.s[i].video_id)) {
                    miss_q++;
                    vb_strmap_put(&miss_v, d.s[i].video_id, i);
                }
            cJSON * mj = cJSON_AddObjectToObject(j, "map");
            cJSON_AddStringToObject(mj, "file", o->map);
            cJSON_AddNumberToObject(mj, "entries", m.n);
            cJSON_AddNumberToObject(mj, "unmapped_samples", miss_q);
            cJSON_AddNumberToObject(mj, "unmapped_videos", miss_v.n);
            vb_strmap_free(&miss_v);
            vb_jsonmap_free(&m);
        }
    }
    if (!rc) {
        char * txt = cJSON_Print(j);
        printf("%s\n", txt);
        cJSON_free(txt);
    }
    cJSON_Delete(j);
    counter_free(&cats);
    counter_free(&groups);
    counter_free(&nopt);
    counter_free(&answers);
    counter_free(&splits);
    counter_free(&dsn);
    vb_strmap_free(&videos);
    vb_dataset_free(&d);
    return rc;
}

/* NULL when path exists, opens as a video, and decodes to the end with every frame its container lists, intact;
** else a malloc'd reason: "missing", "not a regular file", "unreadable: ..." (libavformat cannot open it),
** "truncated or damaged: the container says 40 frames, only 36 could be read" (datasets/video.c at open),
** "damaged: 11 frames decoded to the end, the index has 40" (bit rot, found by decoding every frame). */
static char * probe(const char * path) {
    struct stat st;
    if (stat(path, &st) != 0) return vb_strdup("missing");
    if (!S_ISREG(st.st_mode)) return vb_strdup("not a regular file");
    AVFormatContext * ctx = NULL;
    if (avformat_open_input(&ctx, path, NULL, NULL) < 0) return vb_strdup("unreadable: cannot open container");
    const char * why = NULL;
    if (avformat_find_stream_info(ctx, NULL) < 0)
        why = "unreadable: no stream info";
    else if (av_find_best_stream(ctx, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0) < 0)
        why = "unreadable: no video stream";
    avformat_close_input(&ctx);
    if (why) return vb_strdup(why);
    struct vb_video      v;
    struct vb_video_opts o;
    vb_video_opts_default(&o);
    int rc = vb_video_open(&v, path, &o);
    if (rc == VB_OK) rc = vb_video_verify(&v, NULL, NULL);
    vb_video_close(&v);
    if (rc == VB_OK) return NULL;
    /* the message names the file first ("path: reason"): keep the reason */
    const char * m = vb_errmsg();
    size_t       n = strlen(path);
    if (strncmp(m, path, n) == 0 && m[n] == ':' && m[n + 1] == ' ') m += n + 2;
    return vb_strdup(m);
}

static int check(const struct opts * o) {
    if (!o->videos) {
        fprintf(stderr, "vlapbench datasets check: --videos DIR is required\n");
        return 2;
    }
    struct vb_dataset d;
    if (vb_dataset_load(&d, o->kind, o->ann, o->map, o->videos, o->skip_bad)) {
        fprintf(stderr, "vlapbench datasets check: %s\n", vb_errmsg());
        return 1;
    }
    av_log_set_level(AV_LOG_QUIET);
    struct vb_strmap seen;       /* path -> index into why[] */
    char **          why = NULL; /* (n_videos) reason, NULL = ok */
    vb_strmap_init(&seen, d.n);
    int32_t n_bad = 0, n_videos = 0, n_bad_videos = 0;
    for (int32_t i = 0; i < d.n; i++) {
        const struct vb_sample * s = &d.s[i];
        int32_t                  r = vb_strmap_get(&seen, s->video_path);
        if (r < 0) {
            why = vb_realloc(why, (size_t)(n_videos + 1) * sizeof *why);
            why[n_videos] = probe(s->video_path);
            r = n_videos++;
            vb_strmap_put(&seen, s->video_path, r);
            n_bad_videos += why[r] != NULL;
        }
        if (why[r]) {
            printf("%s\t%s\t%s\n", s->key, s->video_path, why[r]);
            n_bad++;
        }
    }
    fprintf(stderr,
            "%d samples, %d videos checked (decoded to the end): %d videos missing, unreadable, truncated or "
            "damaged, %d samples affected\n",
            d.n, n_videos, n_bad_videos, n_bad);
    if (d.n_bad) fprintf(stderr, "%d malformed records skipped\n", d.n_bad);
    for (int32_t i = 0; i < n_videos; i++)
        free(why[i]);
    free(why);
    vb_strmap_free(&seen);
    vb_dataset_free(&d);
    return n_bad ? 1 : 0;
}

int cmd_datasets(int argc, char ** argv) {
    if (argc < 2 || vb_cli_wants_help(argc, argv)) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    struct opts  o;
    const char * sub = argv[1];
    if (strcmp(sub, "stats") != 0 && strcmp(sub, "check") != 0) {
        fprintf(stderr, "vlapbench datasets: unknown subcommand '%s'\n", sub);
        usage(stderr);
        return 2;
    }
    int r = parse_opts(argc, argv, &o, sub);
    if (r) return r;
    return strcmp(sub, "stats") == 0 ? stats(&o) : check(&o);
}
