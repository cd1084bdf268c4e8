/* report_sheets.c — the report's contact sheets (report.h, --contact-sheets): which questions, where their video
** and ground truth are, the marks of every run, the captions; drawing is reports/contact_sheet.c. */
#include "reports/report_internal.h"

#include "base/common.h"
#include "datasets/dataset.h"
#include "reports/contact_sheet.h"
#include "reports/plot.h"

#include <cjson/cJSON.h>

#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* growing text */
struct txt {
    char * p;
    size_t n, cap;
};
static void tx_add(struct txt * t, const char * f, ...) __attribute__((format(printf, 2, 3)));
static void tx_add(struct txt * t, const char * f, ...) {
    va_list ap;
    va_start(ap, f);
    int need = vsnprintf(NULL, 0, f, ap);
    va_end(ap);
    if (need < 0) return;
    if (t->n + (size_t)need + 1 > t->cap) {
        t->cap = (t->n + (size_t)need + 1) * 2;
        t->p = vb_realloc(t->p, t->cap);
    }
    va_start(ap, f);
    vsnprintf(t->p + t->n, (size_t)need + 1, f, ap);
    va_end(ap);
    t->n += (size_t)need;
}

static void warn_add(struct vb_rp_sheets * out, char * w) {
    out->warn = vb_realloc(out->warn, sizeof(char *) * (size_t)(out->n_warn + 1));
    out->warn[out->n_warn++] = w;
}

void vb_rp_sheets_free(struct vb_rp_sheets * s) {
    for (int32_t i = 0; i < s->n; i++) {
        free(s->s[i].file);
        free(s->s[i].alt);
        free(s->s[i].caption);
    }
    for (int32_t i = 0; i < s->n_warn; i++)
        free(s->warn[i]);
    free(s->s);
    free(s->warn);
    memset(s, 0, sizeof *s);
}

/* The row of key in a run's rows (sorted by key), or NULL. */
static const struct vb_store_row * find_row(const struct ana * a, const char * key) {
    int32_t lo = 0, hi = a->rows.n - 1;
    while (lo <= hi) {
        int32_t mid = lo + (hi - lo) / 2;
        int     c = strcmp(a->rows.r[mid].key, key);
        if (!c) return &a->rows.r[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return NULL;
}

int vb_rp_sheet_truth(const char * video, int64_t * f0, int64_t * f1) {
    char * real = realpath(video, NULL);
    if (!real) return vb_fail(VB_ERR_NOTFOUND, "%s: cannot resolve the path", video);
    char * slash = strrchr(real, '/');
    char * slash2 = NULL;
    if (slash) {
        *slash = 0;
        slash2 = strrchr(real, '/');
        *slash = '/';
    }
    if (!slash || !slash2) {
        free(real);
        return vb_fail(VB_ERR_NOTFOUND, "%s: no directory above the video", video);
    }
    /* real = PARENT/DIR/FILE: the manifest is PARENT/manifest.json, the entry's "file" is "DIR/FILE" */
    char * man = vb_rp_fmt("%.*s/manifest.json", (int)(slash2 - real), real);
    char * rel = vb_strdup(slash2 + 1);
    free(real);
    char * buf = NULL;
    size_t len = 0;
    int    rc = vb_read_file(man, &buf, &len);
    if (rc != VB_OK) {
        rc = vb_fail(VB_ERR_NOTFOUND, "%s: no ground truth (no synth manifest)", video);
        goto done;
    }
    cJSON *       j = cJSON_ParseWithLength(buf, len);
    const cJSON * task = cJSON_GetObjectItemCaseSensitive(j, "task");
    const cJSON * vids = cJSON_GetObjectItemCaseSensitive(j, "videos");
    if (!j || !cJSON_IsString(task) || strcmp(task->valuestring, "event") || !cJSON_IsArray(vids)) {
        rc = vb_fail(VB_ERR_NOTFOUND, "%s: not a manifest of the event task (no \"task\": \"event\")", man);
        cJSON_Delete(j);
        goto done;
    }
    rc = vb_fail(VB_ERR_NOTFOUND, "%s: no entry for %s", man, rel);
    const cJSON * e;
    cJSON_ArrayForEach(e, vids) {
        const cJSON * file = cJSON_GetObjectItemCaseSensitive(e, "file");
        if (!cJSON_IsString(file) || strcmp(file->valuestring, rel)) continue;
        const cJSON * ev = cJSON_GetObjectItemCaseSensitive(e, "event");
        const cJSON * a = cJSON_GetArrayItem(ev, 0), *b = cJSON_GetArrayItem(ev, 1);
        if (!cJSON_IsArray(ev) || cJSON_GetArraySize(ev) != 2 || !cJSON_IsNumber(a) || !cJSON_IsNumber(b) ||
            a->valuedouble < 0 || b->valuedouble < a->valuedouble || b->valuedouble > 1e9) {
            rc = vb_fail(VB_ERR_FORMAT, "%s: entry %s: \"event\" is not [first, end) frame numbers", man, rel);
            break;
        }
        *f0 = (int64_t)a->valuedouble;
        *f1 = (int64_t)b->valuedouble;
        rc = VB_OK;
        break;
    }
    cJSON_Delete(j);
done:
    free(buf);
    free(man);
    free(rel);
    return rc;
}

static int cmp_i64(const void * x, const void * y) {
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

static uint32_t parse_rgb(const char * hex) {
    return (hex && hex[0] == '#') ? (uint32_t)strtoul(hex + 1, NULL, 16) & 0xffffffu : 0x000000u;
}

/* The letter and text of option i of sample s ("B (green)"), or "-" (malloc'd). */
static char * option_text(const struct vb_sample * s, int32_t i) {
    if (i < 0 || i >= s->n_options) return vb_strdup("none (error row)");
    return vb_rp_fmt("%c (%s)", 'A' + i, s->options[i] ? s->options[i] : "");
}

/* One sheet for sample q of the dataset ds: frames, marks, PNG, caption (or a warning).  Returns 1 when written. */
static int one_sheet(struct ana ** a, int32_t n, const struct vb_report_opts * o, const struct vb_sample * q,
                     const char * dsfile, int32_t index, enum vb_video_interp interp, struct vb_rp_sheets * out) {
    const char * title = a[0]->lay->title ? a[0]->lay->title : a[0]->run.dataset;
    if (!q->video_path) {
        warn_add(out, vb_rp_fmt("contact sheet %s %s skipped: the run stored no videos directory", title, q->key));
        return 0;
    }
    int32_t                     nm = n < VB_SHEET_MAX_MARKS ? n : VB_SHEET_MAX_MARKS;
    const struct vb_store_row * rw[VB_SHEET_MAX_MARKS];
    int64_t *                   fr = NULL;
    int32_t                     nf = 0;
    for (int32_t i = 0; i < nm; i++) {
        rw[i] = find_row(a[i], q->key);
        fr = vb_realloc(fr, sizeof(int64_t) * (size_t)(nf + rw[i]->n_candidates + rw[i]->n_picked + 1));
        for (int32_t j = 0; j < rw[i]->n_candidates; j++)
            fr[nf++] = rw[i]->candidates[j];
        for (int32_t j = 0; j < rw[i]->n_picked; j++)
            fr[nf++] = rw[i]->picked[j];
    }
    qsort(fr, (size_t)nf, sizeof *fr, cmp_i64);
    int32_t nu = 0;
    for (int32_t i = 0; i < nf; i++)
        if (nu == 0 || fr[i] != fr[nu - 1]) fr[nu++] = fr[i];
    if (nu < 1 || nu > 1024) {
        warn_add(out, vb_rp_fmt("contact sheet %s %s skipped: %d distinct frames (1..1024 drawn)", title, q->key, nu));
        free(fr);
        return 0;
    }
    /* ground truth: the synthetic event task's manifest beside the video's folder */
    int64_t e0 = 0, e1 = 0;
    int     trc = vb_rp_sheet_truth(q->video_path, &e0, &e1), have_truth = trc == VB_OK;
    if (trc == VB_ERR_FORMAT) /* a manifest that names the video but cannot be read: say so, draw no marks */
        warn_add(out, vb_rp_fmt("contact sheet %s %s: no informative frames marked: %s", title, q->key, vb_errmsg()));
    uint8_t * info = NULL;
    int32_t   n_info = 0;
    if (have_truth) {
        info = vb_calloc((size_t)nu, 1);
        for (int32_t i = 0; i < nu; i++)
            n_info += info[i] = fr[i] >= e0 && fr[i] < e1;
    }
    struct vb_sheet_mark mk[VB_SHEET_MAX_MARKS];
    int64_t *            picks = vb_malloc(sizeof(int64_t) * (size_t)(nf + 1));
    char *               labels[VB_SHEET_MAX_MARKS];
    int32_t              off = 0;
    for (int32_t i = 0; i < nm; i++) {
        int dup = 0;
        for (int32_t j = 0; j < nm; j++)
            dup |= j != i && !strcmp(a[j]->run.method, a[i]->run.method) && a[j]->run.frames == a[i]->run.frames;
        labels[i] = dup ? vb_rp_fmt("%s k=%d T=%d", a[i]->name, (int)a[i]->run.frames, (int)a[i]->run.candidates)
                        : vb_rp_fmt("%s k=%d", a[i]->name, (int)a[i]->run.frames);
        int32_t mi = 0; /* method index among the dataset's methods (a is sorted by method), for the colour */
        for (int32_t j = 1; j <= i; j++)
            mi += strcmp(a[j]->run.method, a[j - 1]->run.method) != 0;
        mk[i] = (struct vb_sheet_mark){labels[i], parse_rgb(vb_plot_color(a[i]->run.method, mi)), rw[i]->n_picked,
                                       picks + off};
        for (int32_t j = 0; j < rw[i]->n_picked; j++)
            picks[off++] = rw[i]->picked[j];
    }
    char *          file = vb_rp_fmt("contact_sheet_%s_%d.png", dsfile, (int)index);
    char *          path = vb_rp_fmt("%s/%s", o->out_dir, file);
    struct vb_sheet sh = {q->video_path, nu, fr, info, nm, mk, 8, 96, interp};
    int32_t         w = 0, h = 0;
    int             rc = vb_sheet_write_png(path, &sh, &w, &h);
    int             ok = rc == VB_OK;
    if (!ok) {
        warn_add(out, vb_rp_fmt("contact sheet %s %s skipped: %s", title, q->key, vb_errmsg()));
        free(file);
    } else {
        struct txt c = {0};
        tx_add(&c, "%s, question %s (video %s)", title, q->key, q->video_id);
        if (q->question) tx_add(&c, ": \"%s\"", q->question);
        char * ans = option_text(q, q->answer);
        tx_add(&c, ". Answer: %s. Predictions:", q->answer >= 0 ? ans : "unknown");
        free(ans);
        for (int32_t i = 0; i < nm; i++) {
            char * p = option_text(q, rw[i]->prediction);
            tx_add(&c, "%s %s %s%s", i ? ";" : "", labels[i], p,
                   rw[i]->correct == 1   ? ", right"
                   : rw[i]->correct == 0 ? ", wrong"
                                         : "");
            free(p);
        }
        tx_add(&c,
               ". The %d thumbnails are the distinct frames these runs considered for this question (every stored "
               "candidate and pick, in time order, frame number under each). ",
               (int)nu);
        if (have_truth)
            tx_add(&c,
                   "Magenta border: an informative frame (the card, frames %lld to %lld of the video, from the "
                   "synthetic benchmark's manifest.json; %d of the thumbnails). ",
                   (long long)e0, (long long)e1 - 1, (int)n_info);
        else
            tx_add(&c, "No ground truth is known for this video, so no frame is marked informative. ");
        tx_add(&c, "Coloured bars under a thumbnail: the frames each run gave its answerer (one row per run, labelled "
                   "at the left; legend below the grid).");
        out->s = vb_realloc(out->s, sizeof *out->s * (size_t)(out->n + 1));
        out->s[out->n++] = (struct vb_rp_sheet){file, vb_rp_fmt("%s contact sheet, question %s", title, q->key), c.p};
    }
    free(path);
    for (int32_t i = 0; i < nm; i++)
        free(labels[i]);
    free(picks);
    free(info);
    free(fr);
    return ok;
}

void vb_rp_contact_sheets(struct vb_store * st, struct ana ** a, int32_t n, const struct vb_report_opts * o,
                          struct vb_rp_sheets * out) {
    if (n < 1 || o->contact_sheets < 1) return;
    const char * title = a[0]->lay->title ? a[0]->lay->title : a[0]->run.dataset;
    char         dsfile[64];
    snprintf(dsfile, sizeof dsfile, "%s", a[0]->run.dataset);
    for (char * c = dsfile; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '-')) *c = '_';
    int32_t nm = n < VB_SHEET_MAX_MARKS ? n : VB_SHEET_MAX_MARKS;
    /* where the samples came from: the invocation of the latest session of a run that picks among candidates */
    int32_t src = 0;
    for (int32_t i = 0; i < nm; i++)
        if (a[i]->run.candidates > a[i]->run.frames) {
            src = i;
            break;
        }
    char * inv = NULL;
    if (vb_store_run_invocation(st, a[src]->run.id, &inv) != VB_OK) {
        warn_add(out, vb_rp_fmt("contact sheets of %s skipped: %s", title, vb_errmsg()));
        return;
    }
    cJSON * j = cJSON_Parse(inv);
    free(inv);
    const cJSON *        ds = cJSON_GetObjectItemCaseSensitive(j, "dataset");
    const cJSON *        ann = cJSON_GetObjectItemCaseSensitive(j, "annotations");
    const cJSON *        map = cJSON_GetObjectItemCaseSensitive(j, "map");
    const cJSON *        vid = cJSON_GetObjectItemCaseSensitive(j, "videos");
    const cJSON *        itp = cJSON_GetObjectItemCaseSensitive(j, "interp");
    enum vb_dataset_kind kind;
    enum vb_video_interp interp = VB_VIDEO_BILINEAR;
    if (!cJSON_IsString(ds) || !cJSON_IsString(ann) || vb_dataset_kind_parse(ds->valuestring, &kind) != VB_OK) {
        warn_add(out, vb_rp_fmt("contact sheets of %s skipped: run %lld's stored invocation names no dataset and "
                                "annotation file",
                                title, (long long)a[src]->run.id));
        cJSON_Delete(j);
        return;
    }
    if (cJSON_IsString(itp)) vb_video_interp_parse(itp->valuestring, &interp);
    struct vb_dataset d;
    int               rc = vb_dataset_load(&d, kind, ann->valuestring, cJSON_IsString(map) ? map->valuestring : NULL,
                             cJSON_IsString(vid) ? vid->valuestring : NULL, 1);
    cJSON_Delete(j);
    if (rc != VB_OK) {
        warn_add(out, vb_rp_fmt("contact sheets of %s skipped: %s", title, vb_errmsg()));
        return;
    }
    /* questions answered (ok) by every run shown, those that not every run got right first, then key order */
    int32_t tried = 0; /* a sheet whose video cannot be read is skipped (warned), not replaced by another */
    for (int pass = 0; pass < 2 && tried < o->contact_sheets; pass++)
        for (int32_t r = 0; r < a[0]->rows.n && tried < o->contact_sheets; r++) {
            const char * key = a[0]->rows.r[r].key;
            int          all_ok = 1, all_right = 1;
            for (int32_t i = 0; i < nm && all_ok; i++) {
                const struct vb_store_row * w = find_row(a[i], key);
                all_ok = w && !strcmp(w->status, "ok");
                all_right &= w && w->correct == 1;
            }
            if (!all_ok || all_right != pass) continue;
            const struct vb_sample * q = NULL;
            for (int32_t s = 0; s < d.n && !q; s++)
                if (!strcmp(d.s[s].key, key)) q = &d.s[s];
            if (!q) {
                warn_add(out, vb_rp_fmt("contact sheet %s %s skipped: not in %s any more", title, key, d.path));
                continue;
            }
            tried++;
            one_sheet(a, nm, o, q, dsfile, tried, interp, out);
        }
    vb_dataset_free(&d);
}
