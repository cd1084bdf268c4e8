/* synth_hits.c — how often uniform sampling sees the card in an event-task benchmark (synth_hits.h). */
#include "datasets/synth_hits.h"

#include "base/common.h"
#include "datasets/dataset.h"
#include "datasets/sampling.h"
#include "datasets/synth_task.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct mvideo {
    const char * file; /* "synth_NNN.mp4" (points into the parsed manifest) */
    double       fps;
    int32_t      n_frames, f0, f1;
};

/* Expected hit pattern counts of one question whose segment is [s0, s1) of a video of n frames with a card of len
** frames: the whole video -> the share of card starts 0..M-1 that each k sees; a shorter segment (How2QA's window)
** -> averaged over the card starts, the share of each start's windows (vb_synth_event_windows) that each k sees. */
static void expected(int32_t n, int32_t len, int whole, double e[3]) {
    int32_t   M = n - len + 1, cap = n / 4 + 2, w_len = 0;
    int32_t * st = vb_malloc(sizeof *st * (size_t)cap);
    e[0] = e[1] = e[2] = 0;
    for (int32_t f0 = 0; f0 < M; f0++) {
        if (whole) {
            int32_t m = vb_synth_uniform_hits(n, 0, n, f0, f0 + len);
            for (int b = 0; b < 3; b++)
                e[b] += (m >> b & 1) / (double)M;
            continue;
        }
        int32_t nw = vb_synth_event_windows(n, f0, f0 + len, st, &w_len);
        if (!nw) nw = 1;
        for (int32_t w = 0; w < nw; w++) {
            int32_t m = vb_synth_uniform_hits(n, st[w], st[w] + w_len, f0, f0 + len);
            for (int b = 0; b < 3; b++)
                e[b] += (m >> b & 1) / (double)M / nw;
        }
    }
    free(st);
}

static int read_manifest(const char * dir, cJSON ** root, struct mvideo ** vs, int32_t * n) {
    char   path[4200], *buf = NULL;
    size_t len = 0;
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    int rc = vb_read_file(path, &buf, &len);
    if (rc != VB_OK) return rc;
    *root = cJSON_Parse(buf);
    free(buf);
    cJSON * V = cJSON_GetObjectItemCaseSensitive(*root, "videos");
    if (!cJSON_IsArray(V)) return vb_fail(VB_ERR_FORMAT, "%s: no \"videos\" array", path);
    *n = cJSON_GetArraySize(V);
    *vs = vb_calloc((size_t)(*n > 0 ? *n : 1), sizeof **vs);
    int32_t i = 0;
    cJSON * v;
    cJSON_ArrayForEach(v, V) {
        cJSON *file = cJSON_GetObjectItemCaseSensitive(v, "file"), *fn = cJSON_GetObjectItemCaseSensitive(v, "fps_num"),
              *fd = cJSON_GetObjectItemCaseSensitive(v, "fps_den"), *fr = cJSON_GetObjectItemCaseSensitive(v, "frames"),
              *ev = cJSON_GetObjectItemCaseSensitive(v, "event");
        if (!cJSON_IsString(file) || !cJSON_IsNumber(fn) || !cJSON_IsNumber(fd) || !cJSON_IsNumber(fr) ||
            !cJSON_IsArray(ev) || cJSON_GetArraySize(ev) != 2 || !(fn->valuedouble > 0) || !(fd->valuedouble > 0) ||
            !(fr->valuedouble >= 1))
            return vb_fail(VB_ERR_FORMAT,
                           "%s: video entry %d: file, fps_num, fps_den, frames or \"event\" missing or bad", path, i);
        struct mvideo * m = &(*vs)[i++];
        m->file = strrchr(file->valuestring, '/') ? strrchr(file->valuestring, '/') + 1 : file->valuestring;
        m->fps = fn->valuedouble / fd->valuedouble;
        m->n_frames = (int32_t)fr->valuedouble;
        m->f0 = (int32_t)cJSON_GetArrayItem(ev, 0)->valuedouble;
        m->f1 = (int32_t)cJSON_GetArrayItem(ev, 1)->valuedouble;
        if (m->f0 < 0 || m->f1 <= m->f0 || m->f1 > m->n_frames)
            return vb_fail(VB_ERR_FORMAT, "%s: video entry %d: \"event\" [%d, %d) is not inside its %d frames", path,
                           i - 1, m->f0, m->f1, m->n_frames);
    }
    return VB_OK;
}

int vb_synth_uniform_hits_dir(const char * dir, struct vb_synth_hits * h) {
    static const struct {
        const char *         name, *ann, *map, *videos;
        enum vb_dataset_kind kind;
    } DS[VB_SYNTH_HITS_DS] = {
        {"nextqa", "nextqa/val.csv", "nextqa/map_vid_vidorID.json", "nextqa/videos", VB_DS_NEXTQA},
        {"star", "star/STAR_val.json", NULL, "star/videos", VB_DS_STAR},
        {"vlep", "vlep/vlep_dev_release.jsonl", NULL, "vlep/videos", VB_DS_VLEP},
        {"how2qa-value", "how2qa/how2qa_val_release.jsonl", "how2qa/how2_vid_mapping.json", "how2qa/videos",
         VB_DS_HOW2QA_VALUE},
    };
    memset(h, 0, sizeof *h);
    cJSON *         root = NULL;
    struct mvideo * vs = NULL;
    int32_t         nv = 0;
    int             rc = read_manifest(dir, &root, &vs, &nv);
    struct {
        int32_t n, len;
        double  e[3];
    } memo[2] = {{-1, -1, {0, 0, 0}}, {-1, -1, {0, 0, 0}}}; /* expected(): segments [0, whole video) or not */
    for (int d = 0; d < VB_SYNTH_HITS_DS && rc == VB_OK; d++) {
        char ann[4200], map[4200], vid[4200];
        snprintf(ann, sizeof ann, "%s/%s", dir, DS[d].ann);
        snprintf(map, sizeof map, "%s/%s", dir, DS[d].map ? DS[d].map : "");
        snprintf(vid, sizeof vid, "%s/%s", dir, DS[d].videos);
        struct vb_dataset ds;
        rc = vb_dataset_load(&ds, DS[d].kind, ann, DS[d].map ? map : NULL, vid, 0);
        if (rc != VB_OK) break;
        h->name[d] = DS[d].name;
        for (int32_t s = 0; s < ds.n && rc == VB_OK; s++) {
            const struct vb_sample * x = &ds.s[s];
            char                     link[4200];
            ssize_t                  ln = x->video_path ? readlink(x->video_path, link, sizeof link - 1) : -1;
            if (ln < 0) { /* a benchmark whose per-dataset names are files, not the links synth writes */
                rc = vb_fail(VB_ERR_FORMAT, "%s: sample %s: %s is not a link to one of the manifest's videos", ann,
                             x->key, x->video_path ? x->video_path : "(no video)");
                break;
            }
            link[ln] = 0;
            const char *          base = strrchr(link, '/') ? strrchr(link, '/') + 1 : link;
            const struct mvideo * m = NULL;
            for (int32_t i = 0; i < nv && !m; i++)
                if (!strcmp(vs[i].file, base)) m = &vs[i];
            if (!m) {
                rc = vb_fail(VB_ERR_FORMAT, "%s: sample %s: video %s is not in %s/manifest.json", ann, x->key, base,
                             dir);
                break;
            }
            int64_t s0 = 0, s1 = 0;
            rc = vb_sampling_segment(m->fps, m->n_frames, x->start_s, x->end_s, &s0, &s1);
            if (rc != VB_OK) break;
            if (s0 < 0 || s1 > m->n_frames || s1 <= s0) {
                rc = vb_fail(VB_ERR_FORMAT, "%s: sample %s: segment [%lld, %lld) outside its %d frames", ann, x->key,
                             (long long)s0, (long long)s1, m->n_frames);
                break;
            }
            int32_t mask = vb_synth_uniform_hits(m->n_frames, (int32_t)s0, (int32_t)s1, m->f0, m->f1);
            int     whole = s0 == 0 && s1 == m->n_frames;
            double  e[3];
            if (memo[whole].n != m->n_frames || memo[whole].len != m->f1 - m->f0) { /* the same for every question */
                memo[whole].n = m->n_frames;
                memo[whole].len = m->f1 - m->f0;
                expected(m->n_frames, m->f1 - m->f0, whole, memo[whole].e);
            }
            memcpy(e, memo[whole].e, sizeof e);
            for (int b = 0; b < 3; b++) {
                h->hits[d][b] += mask >> b & 1;
                h->expect[d][b] += e[b];
                for (int g = 0; g < x->n_options && g < 5; g++)
                    h->reader[d][b][g] += (mask >> b & 1) || x->answer == g;
            }
            if (x->n_options > h->n_options[d]) h->n_options[d] = x->n_options;
            h->n[d]++;
        }
        vb_dataset_free(&ds);
    }
    cJSON_Delete(root);
    free(vs);
    return rc;
}
