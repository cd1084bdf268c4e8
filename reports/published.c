/* published.c — the numbers of methods.md §8, transcribed as data.  Keep in sync with the spec. */
#include "reports/published.h"

#include <math.h>
#include <string.h>

#define X NAN
#define P VB_PUB_PRIMARY
#define S VB_PUB_SECONDARY
#define D VB_PUB_DERIVED

/* columns: Tem Cau Des Avg | Int Seq Pre Fea Avg | How2QA TVQA VLEP | time */
static const struct vb_published TABLE[] = {
    /* SeViLA Tables 2 and 3, zero-shot (the released sevila_pretrained.pth is this setting) */
    {"SeViLA Table 2 (zero-shot)", "BLIP-2 concat (4)", "uniform", "zero-shot", 4, 4, 59.7, 60.8, 73.8, 62.4, 45.5,
     41.8, 41.8, 40.0, 42.2, 70.8, 36.6, 64.0, X, P},
    {"SeViLA Table 2 (zero-shot)", "BLIP-2 voting (4)", NULL, "zero-shot", 4, 4, 59.1, 61.3, 74.9, 62.7, 41.8, 39.7,
     40.2, 39.5, 40.3, 69.8, 35.7, 63.8, X, P},
    {"SeViLA Table 3 row D (zero-shot)", "SeViLA (32->4)", "sevila", "zero-shot", 32, 4, 62.3, 63.1, 74.9, 64.6, 49.0,
     46.4, 45.2, 41.6, 45.5, 72.9, 39.1, 64.6, X, P},
    {"SeViLA Table 2 (zero-shot)", "SeViLA-dagger (32->4)", NULL, "zero-shot", 32, 4, 61.3, 61.5, 75.6, 63.6, 48.3,
     45.0, 44.4, 40.8, 44.6, 72.3, 38.2, 64.4, X, P},
    {"SeViLA Table 3 row A (zero-shot)", "Answerer, uniform 32 frames", "uniform", "zero-shot", 32, 32, 54.7, 56.7,
     67.8, 57.7, 46.2, 43.6, 40.7, 41.0, 42.8, 67.0, 33.2, 54.0, X, P},
    {"SeViLA Table 2 (zero-shot)", "InternVideo*", NULL, "zero-shot", 0, 0, 43.4, 48.0, 65.1, 49.1, 43.8, 43.2, 42.3,
     37.4, 41.6, 62.2, 35.9, 58.7, X, P},
    /* SeViLA Table 7: number of frames, zero-shot answerer with the (dagger) localizer */
    {"SeViLA Table 7 (zero-shot)", "BLIP-2 voting (8)", NULL, "zero-shot", 8, 8, 59.9, 60.2, 72.4, 62.0, X, X, X, X,
     X, 69.8, X, X, X, P},
    {"SeViLA Table 7 (zero-shot)", "8->1", "sevila", "zero-shot", 8, 1, 59.8, 61.1, 76.0, 62.9, X, X, X, X, X, 72.4,
     X, X, X, P},
    {"SeViLA Table 7 (zero-shot)", "16->1", "sevila", "zero-shot", 16, 1, 59.2, 62.6, 74.9, 63.4, X, X, X, X, X, 73.2,
     X, X, X, P},
    {"SeViLA Table 7 (zero-shot)", "16->4", "sevila", "zero-shot", 16, 4, 60.7, 61.5, 75.8, 63.4, X, X, X, X, X, 72.4,
     X, X, X, P},
    {"SeViLA Table 7 (zero-shot)", "32->8", "sevila", "zero-shot", 32, 8, 59.4, 60.9, 74.7, 62.5, X, X, X, X, X, 71.3,
     X, X, X, P},
    {"SeViLA Table 7 (zero-shot)", "64->8", "sevila", "zero-shot", 64, 8, 58.9, 60.9, 74.0, 62.2, X, X, X, X, X, 71.8,
     X, X, X, P},
    /* SeViLA Table 1, fine-tuned (weights not published) */
    {"SeViLA Table 1 (fine-tuned)", "BLIP-2 concat = Answerer (4)", "uniform", "fine-tuned", 4, 4, 68.1, 72.9, 81.2,
     72.6, 65.4, 69.0, 59.7, 54.2, 62.0, 82.2, 59.8, 68.6, X, P},
    {"SeViLA Table 1 (fine-tuned)", "SeViLA (32->4)", "sevila", "fine-tuned", 32, 4, 69.4, 74.2, 81.3, 73.8, 63.7,
     70.4, 63.1, 62.4, 64.9, 83.6, 61.6, 68.9, X, P},
    {"SeViLA Table 1 (fine-tuned)", "SeViLA-dagger (32->4)", NULL, "fine-tuned", 32, 4, 68.8, 73.4, 83.5, 73.4, 63.2,
     66.6, 61.3, 60.0, 62.7, 83.7, 59.7, 69.0, X, P},
    {"SeViLA Table 1 (fine-tuned)", "BLIP-2 voting (4)", NULL, "fine-tuned", 4, 4, 65.2, 70.1, 80.1, 70.1, 52.3, 54.8,
     49.0, 51.2, 51.8, 79.6, 54.5, 67.0, X, P},
    {"SeViLA Table 1 (fine-tuned)", "InternVideo* (8)", NULL, "fine-tuned", 8, 8, 58.5, 62.5, 75.8, 63.2, 62.7, 65.6,
     54.9, 51.9, 58.7, 79.0, 57.2, 63.9, X, P},
    /* SeViLA Table 15, compute (GPU not stated) */
    {"SeViLA Table 15 (compute)", "Answerer (4 frames)", "uniform", "compute", 4, 4, X, X, X, X, X, X, X, X, X, X, X,
     X, 1.79, P},
    {"SeViLA Table 15 (compute)", "SeViLA (32->4)", "sevila", "compute", 32, 4, X, X, X, X, X, X, X, X, X, X, X, X,
     3.28, P},
    /* VLAP / ViLA: no table in the spec; aggregators (secondary) and SeViLA + abstract delta (derived) */
    {"VLAP aggregators (secondary)", "ViLA 3B (4)", "vlap", "fine-tuned", 32, 4, X, X, X, 74.4, X, X, X, X, 67.1, 83.9,
     63.4, 69.6, X, S},
    {"VLAP abstract + SeViLA Table 1 (derived)", "VLAP (4), Tem / Int", "vlap", "fine-tuned", 32, 4, 72.7, X, X, X,
     68.3, X, X, X, 67.1, X, X, X, X, D},
    {"VLAP summaries + SeViLA Table 1 (derived)", "VLAP (2) VLEP", "vlap", "fine-tuned", 32, 2, X, X, X, X, X, X, X, X,
     X, X, X, 69.2, X, D},
};

const struct vb_published * vb_published_table(int32_t * n) {
    *n = (int32_t) (sizeof TABLE / sizeof TABLE[0]);
    return TABLE;
}

const char * vb_published_quality_name(enum vb_pub_quality q) {
    return q == VB_PUB_PRIMARY ? "primary" : q == VB_PUB_SECONDARY ? "secondary" : "derived";
}

const struct vb_published * vb_published_find(const char * method, int32_t frames, int32_t candidates,
                                              const char * setting, const char * dataset, const char * column) {
    if (!method) return NULL;
    const char * want = setting ? setting : "zero-shot";
    int32_t n = (int32_t) (sizeof TABLE / sizeof TABLE[0]);
    /* pass 0: exact + preferred setting; 1: exact, any accuracy setting; 2: same method and k */
    for (int pass = 0; pass < 3; pass++)
        for (int32_t i = 0; i < n; i++) {
            const struct vb_published * p = &TABLE[i];
            if (!p->method || strcmp(p->method, method) != 0 || p->frames != frames) continue;
            if (!strcmp(p->setting, "compute")) continue;
            if (pass < 2 && p->candidates != candidates) continue;
            if (pass == 0 && strcmp(p->setting, want) != 0) continue;
            if (dataset && column && isnan(vb_published_value(p, dataset, column))) continue;
            return p;
        }
    return NULL;
}

double vb_published_value(const struct vb_published * p, const char * dataset, const char * column) {
    if (!p || !dataset || !column) return NAN;
    if (!strcmp(dataset, "nextqa")) {
        if (!strcmp(column, "Tem")) return p->nextqa_tem;
        if (!strcmp(column, "Cau")) return p->nextqa_cau;
        if (!strcmp(column, "Des")) return p->nextqa_des;
        if (!strcmp(column, "Avg")) return p->nextqa_avg;
    } else if (!strcmp(dataset, "star")) {
        if (!strcmp(column, "Int")) return p->star_int;
        if (!strcmp(column, "Seq")) return p->star_seq;
        if (!strcmp(column, "Pre")) return p->star_pre;
        if (!strcmp(column, "Fea")) return p->star_fea;
        if (!strcmp(column, "Avg")) return p->star_avg;
    } else if (!strcmp(column, "Acc")) {
        if (!strcmp(dataset, "how2qa") || !strcmp(dataset, "how2qa-value")) return p->how2qa;
        if (!strcmp(dataset, "vlep")) return p->vlep;
        if (!strcmp(dataset, "tvqa")) return p->tvqa;
    }
    return NAN;
}
