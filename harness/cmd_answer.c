/* cmd_answer.c — `vlapbench answer`: one question on one video with one method; prints the prediction, the option
** scores, the candidate and picked frames and the time of every stage. */
#include "datasets/sampling.h"
#include "datasets/video.h"
#include "engine/blas.h"
#include "engine/common.h"
#include "harness/cli.h"
#include "harness/runconfig.h"
#include "vlap/bundle.h"
#include "vlap/method.h"
#include "vlap/prompts.h"

#include <string.h>

static int usage(void) {
    printf(
        "usage: vlapbench answer --method uniform|sevila|vlap --model DIR --video FILE\n"
        "                        [--question TEXT] --options 'A|B|C...' (or --option TEXT repeated)\n"
        "                        [--dataset nextqa|star|how2qa|tvqa|vlep] [--frames K] [--candidates T]\n"
        "                        [--start S --end E] [--decode minimal|as-released] [--select argmax|gumbel]\n"
        "                        [--seed N] [--interp bilinear|bicubic] [--threads N] [--loc-chunk C]\n"
        "                        [--t5-tokenizer tokenizer.json] [--bert-vocab vocab.txt] [--nextqa-unify]\n"
        "                        [--weights f32|bf16|f16] [--compute f32|bf16]\n"
        "Answers one multiple-choice question about a video the way the official code does (methods.md):\n"
        "uniform BLIP-2 on K uniform_midbin frames (default 4); SeViLA: localizer over T candidates (32) -> top K;\n"
        "VLAP: Frame-Prompter over T candidates (32; 8 for How2QA) -> one frame per segment.  Options and question "
        "are\n"
        "used verbatim (--nextqa-unify appends '?' / '.' as SeViLA's NExT-QA preprocessing does); --dataset vlep uses\n"
        "the VLEP prompts (no question).  Prints prediction, per-option scores (step-1 logits of the letters), the\n"
        "candidate and picked frame indices and the time of each stage (monotonic clock).  --weights: resident\n"
        "dtype of the large weight matrices (default f32); the peak RSS is printed at the end.  --compute bf16:\n"
        "activations rounded to bf16 in the Linears, f32 accumulation (CPUs with AVX512_BF16; opt-in).\n");
    return 0;
}

/* Split s at '|' into at most VB_MAX_OPTIONS strings (copied into buf). */
static int32_t split_options(const char * s, char * buf, size_t bufn, const char ** out) {
    snprintf(buf, bufn, "%s", s);
    int32_t n = 0;
    char *  p = buf;
    while (n < VB_MAX_OPTIONS + 1) {
        char * bar = strchr(p, '|');
        out[n < VB_MAX_OPTIONS ? n : VB_MAX_OPTIONS - 1] = p;
        n++;
        if (!bar) break;
        *bar = 0;
        p = bar + 1;
    }
    return n;
}

int cmd_answer(int argc, char ** argv) {
    if (vb_cli_wants_help(argc, argv)) return usage();
    const char * method = NULL, *model = NULL, *video = NULL, *question = NULL, *options = NULL, *dataset = "nextqa";
    const char * decode = "minimal", *select = "argmax", *interp = "bilinear", *t5tok = NULL, *bert = NULL, *v;
    const char * weights = "f32";
    const char * opt_list[VB_MAX_OPTIONS + 1];
    int32_t      n_opt_list = 0, K = 0, T = 0, threads = 0, unify = 0, loc_chunk = 0;
    double       start_s = -1, end_s = -1;
    uint64_t     seed = 0;
    for (int i = 1; i < argc; i++) {
        if (vb_cli_opt(argc, argv, &i, "--method", &v))
            method = v;
        else if (vb_cli_opt(argc, argv, &i, "--model", &v))
            model = v;
        else if (vb_cli_opt(argc, argv, &i, "--video", &v))
            video = v;
        else if (vb_cli_opt(argc, argv, &i, "--question", &v))
            question = v;
        else if (vb_cli_opt(argc, argv, &i, "--options", &v))
            options = v;
        else if (vb_cli_opt(argc, argv, &i, "--option", &v)) {
            if (n_opt_list > VB_MAX_OPTIONS) {
                fprintf(stderr, "answer: at most %d options\n", VB_MAX_OPTIONS);
                return 2;
            }
            opt_list[n_opt_list++] = v;
        } else if (vb_cli_opt(argc, argv, &i, "--dataset", &v))
            dataset = v;
        else if (vb_cli_opt(argc, argv, &i, "--frames", &v))
            K = atoi(v);
        else if (vb_cli_opt(argc, argv, &i, "--candidates", &v))
            T = atoi(v);
        else if (vb_cli_opt(argc, argv, &i, "--loc-chunk", &v))
            loc_chunk = atoi(v);
        else if (vb_cli_opt(argc, argv, &i, "--start", &v))
            start_s = atof(v);
        else if (vb_cli_opt(argc, argv, &i, "--end", &v))
            end_s = atof(v);
        else if (vb_cli_opt(argc, argv, &i, "--decode", &v))
            decode = v;
        else if (vb_cli_opt(argc, argv, &i, "--select", &v))
            select = v;
        else if (vb_cli_opt(argc, argv, &i, "--seed", &v))
            seed = strtoull(v, NULL, 10);
        else if (vb_cli_opt(argc, argv, &i, "--interp", &v))
            interp = v;
        else if (vb_cli_opt(argc, argv, &i, "--threads", &v))
            threads = atoi(v);
        else if (vb_cli_opt(argc, argv, &i, "--t5-tokenizer", &v))
            t5tok = v;
        else if (vb_cli_opt(argc, argv, &i, "--bert-vocab", &v))
            bert = v;
        else if (vb_cli_opt(argc, argv, &i, "--weights", &v))
            weights = v;
        else if (vb_cli_opt(argc, argv, &i, "--compute", &v)) {
            if (vb_cli_set_compute("answer", v)) return 2;
        } else if (!strcmp(argv[i], "--nextqa-unify"))
            unify = 1;
        else {
            fprintf(stderr, "answer: unknown argument %s (see --help)\n", argv[i]);
            return 2;
        }
    }
    enum vb_method_kind   kind;
    struct vb_method_opts mo;
    enum vb_video_interp  vi;
    if (!method || !model || !video || (!options && n_opt_list == 0)) {
        fprintf(stderr, "answer: --method, --model, --video and --options are required (see --help)\n");
        return 2;
    }
    int32_t wdt = VB_DT_F32;
    if (vb_runconfig_weight_dtype(weights, &wdt) != VB_OK) {
        fprintf(stderr, "answer: --%s\n", vb_errmsg());
        return 2;
    }
    if (vb_method_kind_parse(method, &kind) != VB_OK) {
        fprintf(stderr, "answer: %s\n", vb_errmsg());
        return 2;
    }
    vb_method_opts_default(&mo, kind);
    if (vb_decode_mode_parse(decode, &mo.decode) != VB_OK || vb_select_mode_parse(select, &mo.select) != VB_OK ||
        vb_video_interp_parse(interp, &vi) != VB_OK) {
        fprintf(stderr, "answer: %s\n", vb_errmsg());
        return 2;
    }
    if (K > 0) mo.n_frames = K;
    if (T > 0) mo.n_candidates = T;
    mo.loc_chunk = loc_chunk;
    if (kind == VB_METHOD_UNIFORM) mo.n_candidates = mo.n_frames;
    if (threads > 0) vb_blas_set_threads(threads);
    /* question text */
    char         obuf[8192];
    const char * opt[VB_MAX_OPTIONS + 1];
    int32_t      n_opt = options ? split_options(options, obuf, sizeof obuf, opt) : n_opt_list;
    if (!options) memcpy(opt, opt_list, sizeof(const char *) * (size_t)n_opt_list);
    int              vlep = !strcmp(dataset, "vlep");
    struct vb_sample s;
    memset(&s, 0, sizeof s);
    s.dataset = (char *)dataset;
    s.key = "cli";
    s.question = (char *)question;
    s.n_options = n_opt;
    for (int32_t j = 0; j < n_opt && j < VB_MAX_OPTIONS; j++)
        s.options[j] = (char *)opt[j];
    struct vb_prompt_text text;
    if (vb_prompt_text_from_sample(&text, &s, unify) != VB_OK) {
        fprintf(stderr, "answer: %s (%s needs --question and 2..5 options)\n", vb_errmsg(), vlep ? "VLEP" : dataset);
        return 2;
    }
    int                ret = 1;
    struct vb_bundle * b = NULL;
    struct vb_method * m = NULL;
    struct vb_video    vid;
    memset(&vid, 0, sizeof vid);
    uint8_t *             rgb = NULL;
    float *               pixels = NULL;
    struct vb_bundle_opts bo = {.t5_tokenizer = t5tok ? t5tok : getenv("VB_T5_TOKENIZER"),
                                .bert_vocab = bert ? bert : getenv("VB_BERT_VOCAB"),
                                .parts = 0,
                                .weight_dtype = wdt};
    int                   rc = vb_bundle_open(&b, model, &bo);
    if (rc == VB_OK) rc = vb_method_open(&m, kind, b, &mo);
    if (rc != VB_OK) goto done;
    mo = *vb_method_get_opts(m);
    /* frames: uniform_midbin over the segment (or the whole video) */
    int64_t              t0 = vb_time_us();
    struct vb_video_opts vo;
    vb_video_opts_default(&vo);
    vo.out_w = vo.out_h = b->cfg.vision.image_size;
    vo.interp = vi;
    rc = vb_video_open(&vid, video, &vo);
    int64_t f0 = 0, f1 = 0, idx[VB_METHOD_MAX_CAND];
    int32_t n = mo.n_candidates;
    if (rc == VB_OK) rc = vb_video_segment_frames(&vid, start_s, end_s, &f0, &f1);
    int32_t got = 0;
    if (rc == VB_OK) {
        got = vb_sampling_indices(VB_SAMPLING_UNIFORM_MIDBIN, f0, f1, vid.n_frames, n, idx);
        if (got < 0)
            rc = got;
        else if (got < n)
            rc = vb_fail(VB_ERR_VIDEO,
                         "%s: %lld frames, fewer than the %d the method needs (SeViLA's loader would "
                         "substitute another sample)",
                         video, (long long)vid.n_frames, n);
    }
    int32_t H = b->cfg.vision.image_size;
    if (rc == VB_OK) {
        rgb = vb_malloc((size_t)n * (size_t)H * (size_t)H * 3);
        rc = vb_video_read_frames(&vid, idx, n, rgb, NULL, NULL);
    }
    int64_t t1 = vb_time_us();
    if (rc == VB_OK) {
        pixels = vb_malloc(sizeof(float) * (size_t)n * 3 * (size_t)H * (size_t)H);
        for (int32_t i = 0; i < n; i++)
            vb_video_normalize_clip(rgb + (size_t)i * H * H * 3, H, H, pixels + (size_t)i * 3 * H * H);
    }
    int64_t                 t2 = vb_time_us();
    struct vb_method_result r;
    struct vb_method_input  in = {.text = &text,
                                  .pixels = pixels,
                                  .n_pixel_frames = n,
                                  .frame_ids = idx,
                                  .seed = seed,
                                  .t_decode_us = t1 - t0,
                                  .t_preprocess_us = t2 - t1};
    if (rc == VB_OK) rc = vb_method_answer(m, &in, &r);
    if (rc != VB_OK) goto done;
    char l = r.prediction >= 0 && r.prediction < VB_PROMPT_N_LETTERS ? vb_prompt_letter(r.prediction) : '?';
    printf("method: %s (decode %s, select %s, seed %llu)\n", vb_method_kind_name(kind), vb_decode_mode_name(r.decode),
           vb_select_mode_name(r.select), (unsigned long long)r.seed);
    printf("prediction: %d (%c) %s\n", r.prediction, l,
           r.prediction < text.n_options ? text.options[r.prediction] : "(not an option of this question)");
    printf("scores:");
    for (int32_t j = 0; j < r.n_scores; j++)
        printf(" %c=%.4f", vb_prompt_letter(j), r.scores[j]);
    printf("\nstep0_token: %d%s\n", r.step0_id, r.step0_is_eos ? " (</s>: flagged)" : "");
    printf("qa_tokens: %d (of %d)\n", r.n_qa_tokens, r.n_qa_tokens_full);
    printf("candidates (%d):", r.n_candidates);
    for (int32_t i = 0; i < r.n_candidates; i++)
        printf(" %lld", (long long)r.cand_frames[i]);
    if (kind != VB_METHOD_UNIFORM) {
        printf("\ncandidate_scores:");
        for (int32_t i = 0; i < r.n_candidates; i++)
            printf(" %.4f", r.cand_scores[i]);
    }
    printf("\npicked (%d):", r.n_picked);
    for (int32_t i = 0; i < r.n_picked; i++)
        printf(" %lld", (long long)r.picked_frames[i]);
    printf("\ngenerated_tokens: %d\n", r.n_generated);
    printf("time_us: decode %lld preprocess %lld vit %lld select %lld (loc_qformer %lld loc_t5 %lld) qformer %lld "
           "t5_enc %lld t5_dec %lld total %lld\n",
           (long long)r.t_decode_us, (long long)r.t_preprocess_us, (long long)r.t_vit_us, (long long)r.t_select_us,
           (long long)r.t_loc_qformer_us, (long long)r.t_loc_t5_us, (long long)r.t_qformer_us, (long long)r.t_t5_enc_us,
           (long long)r.t_t5_dec_us, (long long)r.t_total_us);
    printf("memory: peak RSS %.2f GiB (weights %s)\n", (double)vb_rss_peak_kb() / (1024.0 * 1024.0), weights);
    ret = 0;
done:
    if (ret) fprintf(stderr, "answer: %s\n", vb_errmsg());
    free(rgb);
    free(pixels);
    vb_video_close(&vid);
    vb_method_close(m);
    vb_bundle_close(b);
    vb_prompt_text_free(&text);
    return ret;
}
