/* prompts.c — prompt strings of SeViLA / ViLA (see prompts.h). */
#include "methods/prompts.h"

#include "base/common.h"

#include <string.h>

const char * const vb_prompt_letter_pieces[VB_PROMPT_N_LETTERS] = {"\xe2\x96\x81"
                                                                   "A",
                                                                   "\xe2\x96\x81"
                                                                   "B",
                                                                   "\xe2\x96\x81"
                                                                   "C",
                                                                   "\xe2\x96\x81"
                                                                   "D",
                                                                   "\xe2\x96\x81"
                                                                   "E"};
const int32_t      vb_prompt_flan_letter_ids[VB_PROMPT_N_LETTERS] = {71, 272, 205, 309, 262};

static const char QA_TAIL[] =
    " Considering the information presented in the frame, select the correct answer from the options.";
static const char LOC_TAIL[] =
    " Does the information within the frame provide the necessary details to accurately answer the given question?";
static const char VLEP_HEAD[] = "Upon observing the provided frames, what is the most probable subsequent event?";
static const char VLEP_LOC_TAIL[] =
    "Does the information within the frame provide the necessary details to predict next event?";

/* A growing string. */
struct sbuf {
    char * p;
    size_t n, cap;
};

static void sb_add(struct sbuf * b, const char * s) {
    size_t l = strlen(s);
    if (b->n + l + 1 > b->cap) {
        b->cap = (b->n + l + 1) * 2;
        b->p = vb_realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, s, l + 1);
    b->n += l;
}

static char * cat2(const char * a, const char * b) {
    struct sbuf s = {0};
    sb_add(&s, a);
    sb_add(&s, b);
    return s.p;
}

char vb_prompt_letter(int32_t j) {
    VB_ASSERT(j >= 0 && j < VB_PROMPT_N_LETTERS);
    return (char)('A' + j);
}

int vb_prompt_text_make(struct vb_prompt_text * out, enum vb_prompt_style style, const char * question,
                        int32_t n_options, const char * const * options) {
    memset(out, 0, sizeof *out);
    if (n_options < 2 || n_options > VB_MAX_OPTIONS)
        return vb_fail(VB_ERR_FORMAT, "prompt: %d options (expected 2..%d)", n_options, VB_MAX_OPTIONS);
    if (style == VB_PROMPT_MC && !question)
        return vb_fail(VB_ERR_FORMAT, "prompt: multiple-choice sample without question");
    for (int32_t j = 0; j < n_options; j++)
        if (!options[j]) return vb_fail(VB_ERR_FORMAT, "prompt: option %d missing", j);
    out->style = style;
    out->question = question ? vb_strdup(question) : NULL;
    out->n_options = n_options;
    for (int32_t j = 0; j < n_options; j++)
        out->options[j] = vb_strdup(options[j]);
    return VB_OK;
}

int vb_prompt_text_from_sample(struct vb_prompt_text * out, const struct vb_sample * s, int nextqa_unify) {
    enum vb_prompt_style st = (s->dataset && !strcmp(s->dataset, "vlep")) ? VB_PROMPT_VLEP : VB_PROMPT_MC;
    int                  rc = vb_prompt_text_make(out, st, s->question, s->n_options, (const char * const *)s->options);
    if (rc != VB_OK) return vb_fail_prefix(rc, "sample '%s' (line %d)", s->key ? s->key : "?", s->line);
    if (nextqa_unify && s->dataset && !strcmp(s->dataset, "nextqa")) {
        /* SeViLA's Data Preprocess notebook: question + '?', every option + '.', unconditionally. */
        char * q = cat2(out->question, "?");
        free(out->question);
        out->question = q;
        for (int32_t j = 0; j < out->n_options; j++) {
            char * o = cat2(out->options[j], ".");
            free(out->options[j]);
            out->options[j] = o;
        }
    }
    return VB_OK;
}

void vb_prompt_text_free(struct vb_prompt_text * t) {
    if (!t) return;
    free(t->question);
    for (int32_t j = 0; j < VB_MAX_OPTIONS; j++)
        free(t->options[j]);
    memset(t, 0, sizeof *t);
}

/* "Option A: a0 Option B: a1" without a leading space (VLEP form) or with (" Option A: ..", MC form). */
static void add_options(struct sbuf * b, const struct vb_prompt_text * t, int leading_space) {
    for (int32_t j = 0; j < t->n_options; j++) {
        char lab[16];
        snprintf(lab, sizeof lab, "%sOption %c: ", (j > 0 || leading_space) ? " " : "", vb_prompt_letter(j));
        sb_add(b, lab);
        sb_add(b, t->options[j]);
    }
}

static char * vlep_qa(const struct vb_prompt_text * t) {
    struct sbuf b = {0};
    sb_add(&b, VLEP_HEAD);
    sb_add(&b, " ");
    add_options(&b, t, 0);
    return b.p;
}

char * vb_prompt_qa(const struct vb_prompt_text * t) {
    if (t->style == VB_PROMPT_VLEP) return vlep_qa(t);
    struct sbuf b = {0};
    sb_add(&b, "Question: ");
    sb_add(&b, t->question);
    add_options(&b, t, 1);
    sb_add(&b, QA_TAIL);
    return b.p;
}

char * vb_prompt_loc(const struct vb_prompt_text * t) {
    struct sbuf b = {0};
    if (t->style == VB_PROMPT_VLEP) {
        char * qa = vlep_qa(t);
        sb_add(&b, qa);
        free(qa);
        sb_add(&b, " ");
        sb_add(&b, VLEP_LOC_TAIL);
        return b.p;
    }
    sb_add(&b, "Question: ");
    sb_add(&b, t->question);
    sb_add(&b, " ");
    sb_add(&b, "Options: (");
    for (int32_t j = 0; j < t->n_options; j++) {
        sb_add(&b, t->options[j]);
        sb_add(&b, " ");
    }
    sb_add(&b, ")");
    sb_add(&b, LOC_TAIL);
    return b.p;
}

char * vb_prompt_frame_prefix(int32_t i, char * buf, int32_t n) {
    VB_ASSERT(n > 0);
    if (i <= 0)
        snprintf(buf, (size_t)n, "Frame: ");
    else
        snprintf(buf, (size_t)n, "Frame %d: ", i);
    return buf;
}
