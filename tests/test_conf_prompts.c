/* test_conf_prompts.c — conformance (needs ../shared): every case of the method goldens' cases.json
** ($VB_SHARED/golden/methods/methods-{blip2,instructblip}/cases.json, which quote dataset text and are never copied
*into
** the repository): the QA and localizer prompt strings built from the case's record equal the recorded ones, and their
** ids with the method's truncation equal the official fast-tokenizer ids (T5: models/tokenizers/flan-t5; Q-Former:
** models/tokenizers/bert-base-uncased).  SKIP (77) when the case files are absent (tests/run.sh then reports the
** whole conformance group in one line). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs <setjmp.h>, <stdarg.h>, <stddef.h> and <stdint.h> first */
#include <cmocka.h>

#include "base/common.h"
#include "engine/tokenizer_bert.h"
#include "engine/tokenizer_t5.h"
#include "methods/prompts.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char * shared_dir(void) {
    const char * s = getenv("VB_SHARED");
    return s ? s : "../shared";
}

static const char * root_dir(void) {
    const char * r = getenv("VB_ROOT");
    return r ? r : ".";
}

/* Compare an id array with a JSON int array. */
static void expect_ids(const int32_t * ids, int32_t n, const cJSON * arr, const char * what) {
    if (!cJSON_IsArray(arr)) fail_msg("%s: reference array missing", what);
    int32_t m = cJSON_GetArraySize(arr);
    if (n != m) fail_msg("%s: %d ids, reference %d", what, n, m);
    for (int32_t i = 0; i < n; i++) {
        int32_t r = (int32_t)cJSON_GetArrayItem(arr, i)->valuedouble;
        if (ids[i] != r) fail_msg("%s: id %d is %d, reference %d", what, i, ids[i], r);
    }
}

/* Every method golden case: the prompt strings from the record, their official ids with the method's truncation. */
static void run_cases(const char * set, struct vb_t5tok * tok, struct vb_berttok * bert) {
    char p[1024];
    snprintf(p, sizeof p, "%s/golden/methods/%s/cases.json", shared_dir(), set);
    char * js;
    assert_int_equal(vb_read_file(p, &js, NULL), VB_OK);
    cJSON * root = cJSON_Parse(js);
    free(js);
    assert_non_null(root);
    const cJSON * c;
    int           n_cases = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(root, "cases")) {
        const char *  name = c->string;
        const cJSON * rec = cJSON_GetObjectItem(c, "record");
        const char *  ds = cJSON_GetObjectItem(rec, "dataset")->valuestring;
        const cJSON * q = cJSON_GetObjectItem(rec, "question");
        const cJSON * opts = cJSON_GetObjectItem(rec, "options");
        int32_t       no = cJSON_GetArraySize(opts);
        const char *  o[5];
        for (int32_t j = 0; j < no; j++)
            o[j] = cJSON_GetArrayItem(opts, j)->valuestring;
        int                   vlep = !strcmp(ds, "VLEP");
        struct vb_prompt_text t;
        assert_int_equal(vb_prompt_text_make(&t, vlep ? VB_PROMPT_VLEP : VB_PROMPT_MC,
                                             cJSON_IsString(q) ? q->valuestring : NULL, no, o),
                         VB_OK);
        char * qa = vb_prompt_qa(&t);
        if (strcmp(qa, cJSON_GetObjectItem(c, "qa_prompt")->valuestring))
            fail_msg("%s: QA prompt\n got %s\nwant %s", name, qa, cJSON_GetObjectItem(c, "qa_prompt")->valuestring);
        const cJSON * lp = cJSON_GetObjectItem(c, "loc_prompt");
        char *        loc = vb_prompt_loc(&t);
        if (lp && strcmp(loc, lp->valuestring))
            fail_msg("%s: loc prompt\n got %s\nwant %s", name, loc, lp->valuestring);
        int           is_vlap = !strncmp(name, "vlap", 4);
        const cJSON * tids = cJSON_GetObjectItem(c, "token_ids");
        if (tok) {
            int32_t *ids, n;
            /* SeViLA / uniform: right truncation at 77; VLAP: none */
            assert_int_equal(vb_t5tok_encode(tok, qa, 1, is_vlap ? 0 : VB_PROMPT_SEVILA_MAX_TXT, &ids, &n), VB_OK);
            char what[96];
            snprintf(what, sizeof what, "%s qa_input", name);
            const cJSON * qi = cJSON_GetObjectItem(tids, is_vlap ? "qa_input_t5" : "qa_input");
            expect_ids(ids, n, cJSON_GetObjectItem(qi, "official_fast_ids"), what);
            free(ids);
            if (lp) {
                assert_int_equal(vb_t5tok_encode(tok, loc, 1, VB_PROMPT_SEVILA_MAX_TXT, &ids, &n), VB_OK);
                snprintf(what, sizeof what, "%s loc_input", name);
                expect_ids(ids, n, cJSON_GetObjectItem(cJSON_GetObjectItem(tids, "loc_input"), "official_fast_ids"),
                           what);
                free(ids);
            }
        }
        if (bert && is_vlap) {
            const cJSON * qf = cJSON_GetObjectItem(tids, "qa_input_bert");
            int32_t *     ids, n;
            assert_int_equal(vb_berttok_encode(bert, qa, strlen(qa), 1, VB_PROMPT_VLAP_MAX_BERT, 1, &ids, &n), VB_OK);
            char what[96];
            snprintf(what, sizeof what, "%s qformer_input", name);
            expect_ids(ids, n, cJSON_GetObjectItem(qf, "ids"), what);
            free(ids);
        }
        free(qa);
        free(loc);
        vb_prompt_text_free(&t);
        n_cases++;
    }
    assert_true(n_cases >= 4);
    cJSON_Delete(root);
}

static void test_golden_prompts(void ** st) {
    (void)st;
    char                p[1024];
    struct vb_t5tok *   tok = NULL;
    struct vb_berttok * bert = NULL;
    snprintf(p, sizeof p, "%s/models/tokenizers/flan-t5/tokenizer.json", root_dir());
    if (vb_t5tok_load(&tok, p) != VB_OK) fail_msg("t5: %s", vb_errmsg());
    snprintf(p, sizeof p, "%s/models/tokenizers/bert-base-uncased/vocab.txt", root_dir());
    if (vb_berttok_load(&bert, p) != VB_OK) fail_msg("bert: %s", vb_errmsg());
    run_cases("methods-blip2", tok, bert);
    run_cases("methods-instructblip", tok, bert);
    vb_t5tok_free(tok);
    vb_berttok_free(bert);
}

int main(void) {
    char p[1024];
    snprintf(p, sizeof p, "%s/golden/methods/methods-blip2/cases.json", shared_dir());
    if (access(p, R_OK) != 0) {
        printf("SKIP: %s absent (conformance data, only in ../shared)\n", p);
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_prompts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
