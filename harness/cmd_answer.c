/* cmd_answer.c — `vlapbench answer`: one question on one video with one method; prints the prediction, the option
** scores, the candidate and picked frames and the time of every stage. */
#include "base/common.h"
#include "datasets/sampling.h"
#include "datasets/video.h"
#include "engine/blas.h"
#include "engine/vit.h"
#include "harness/cli.h"
#include "harness/clip.h"
#include "harness/registry.h"
#include "harness/runconfig.h"
#include "harness/vitcache.h"
#include "harness/vitfeat.h"
#include "methods/bundle.h"
#include "methods/prompts.h"

#include <string.h>

static int usage(void) {
    printf(
        "usage: vlapbench answer --method uniform|sevila|vlap --model DIR --video FILE\n"
        "                        [--question TEXT] --options 'A|B|C...' (or --option TEXT repeated)\n"
        "                        [--dataset nextqa|star|how2qa|tvqa|vlep] [--frames K] [--candidates T]\n"
        "                        [--start S --end E] [--decode minimal|as-released] [--select argmax|gumbel]\n"
        "                        [--seed N] [--interp bilinear|bicubic] [--threads N] [--loc-chunk C]\n"
        "                        [--t5-tokenizer tokenizer.json] [--bert-vocab vocab.txt] [--nextqa-unify]\n"
        "                        [--weights f32|bf16|f16] [--compute f32|bf16] [--device cpu|cuda]\n"
        "                        [--sampling uniform_midbin|uniform_endpoints|...]\n"
        "Answers one multiple-choice question about a video the way the official code does (methods.md):\n"
        "uniform BLIP-2 on K uniform_midbin frames (default 4); SeViLA: localizer over T candidates (32) -> top K;\n"
        "VLAP: Frame-Prompter over T candidates (32; 8 for How2QA) -> one frame per segment.  Options and question "
        "are\n"
        "used verbatim (--nextqa-unify appends '?' / '.' as SeViLA's NExT-QA preprocessing does); --dataset vlep uses\n"
        "the VLEP prompts (no question).  Prints prediction, per-option scores (step-1 logits of the letters), the\n"
        "candidate and picked frame indices and the time of each stage (monotonic clock).  --weights: resident\n"
        "dtype of the large weight matrices (default f32); the peak RSS is printed at the end.  --compute bf16:\n"
        "activations rounded to bf16 in the Linears, f32 accumulation (CPUs with AVX512_BF16; opt-in).  --device\n"
        "cuda: the ViT, Q-Formers, projections and T5 run on the GPU (docs/cuda.md); without one, exit 1 and why.\n");
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

/* The question text of the CLI arguments (2..5 options; VLEP without a question); prints the usage error. */
static int question_text(struct vb_prompt_text * text, const char * dataset, const char * question,
                         const char * options, const char ** opt_list, int32_t n_opt_list, int unify) {
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
    if (vb_prompt_text_from_sample(text, &s, unify) != VB_OK) {
        fprintf(stderr, "answer: %s (%s needs --question and 2..5 options)\n", vb_errmsg(), vlep ? "VLEP" : dataset);
        return VB_ERR_ARG;
    }
    return VB_OK;
}

/* The method's T candidates of the segment through the run's pipeline (harness/clip.h: sampling, decode, pixels;
** harness/vitfeat.h: ViT features), then the method. */
static int answer_video(struct vb_method * m, const struct vb_bundle * b, const struct vb_prompt_text * text,
                        const char * video, double start_s, double end_s, enum vb_sampling_policy policy,
                        enum vb_video_interp vi, uint64_t seed, struct vb_method_result * r) {
    int32_t        n = vb_method_get_opts(m)->n_candidates, H = b->cfg.vision.image_size;
    int64_t        idx[VB_METHOD_MAX_CAND], uniq[VB_METHOD_MAX_CAND], dec_us = 0, pre_us = 0;
    char           err[512];
    struct vb_clip clip;
    int            rc = vb_clip_open(&clip, video, H, vi, start_s, end_s);
    if (rc == VB_OK) rc = vb_clip_frames(&clip, policy, n, idx, err, sizeof err);
    float * pixels = vb_malloc(sizeof(float) * (size_t)n * 3 * (size_t)H * (size_t)H);
    if (rc == VB_OK) {
        memcpy(uniq, idx, sizeof(int64_t) * (size_t)n);
        vb_clip_decode(&clip, uniq, vb_clip_unique(uniq, n));
        rc = vb_clip_pixels(&clip, idx, n, pixels, &dec_us, &pre_us, err, sizeof err);
    }
    /* the ViT stage: a cache of this clip's frames, the runner's batches */
    int64_t                  nf = (int64_t)b->cfg.vision.n_tokens * b->cfg.vision.hidden, px = 3LL * H * H;
    struct vb_vitcache *     cache = vb_vitcache_new(sizeof(float) * (size_t)(nf * n));
    float *                  feats = vb_malloc(sizeof(float) * (size_t)(nf * n));
    struct vb_vitfeat_engine e = {.batch = VB_MIN(8, n), .px_floats = px};
    e.work = vb_malloc(sizeof(float) * (size_t)(px * e.batch));
    e.feat = vb_malloc(sizeof(float) * (size_t)(nf * e.batch));
    struct vb_vitfeat_clip  fc = {.frames = idx, .n = n, .n_floats = nf};
    struct vb_vitfeat_stats vs = {0};
    int64_t                 t0 = vb_time_us();
    if (rc == VB_OK) rc = vb_vit_ctx_new(&e.ctx, b->vit, e.batch);
    if (rc == VB_OK) rc = vb_vitfeat_get(cache, &e, &fc, pixels, feats, &vs);
    struct vb_method_input in = {.text = text,
                                 .feats = feats,
                                 .n_frames = n,
                                 .frame_ids = idx,
                                 .seed = seed,
                                 .t_decode_us = dec_us,
                                 .t_preprocess_us = pre_us,
                                 .t_vit_us = vb_time_us() - t0,
                                 .n_vit_run = vs.n_computed,
                                 .n_vit_cached = vs.n_cached};
    if (rc == VB_OK) rc = vb_method_answer(m, &in, r);
    vb_vit_ctx_free(e.ctx);
    free(e.work);
    free(e.feat);
    free(feats);
    free(pixels);
    vb_vitcache_free(cache);
    vb_clip_close(&clip);
    return rc;
}

static void print_result(const struct vb_method_result * r, const struct vb_prompt_text * text, const char * weights) {
    char l = r->prediction >= 0 && r->prediction < VB_PROMPT_N_LETTERS ? vb_prompt_letter(r->prediction) : '?';
    printf("method: %s (decode %s, select %s, seed %llu)\n", r->method, vb_decode_mode_name(r->decode),
           vb_select_mode_name(r->select), (unsigned long long)r->seed);
    printf("prediction: %d (%c) %s\n", r->prediction, l,
           r->prediction < text->n_options ? text->options[r->prediction] : "(not an option of this question)");
    printf("scores:");
    for (int32_t j = 0; j < r->n_scores; j++)
        printf(" %c=%.4f", vb_prompt_letter(j), r->scores[j]);
    printf("\nstep0_token: %d%s\n", r->step0_id, r->step0_is_eos ? " (</s>: flagged)" : "");
    printf("qa_tokens: %d (of %d)\n", r->n_qa_tokens, r->n_qa_tokens_full);
    printf("candidates (%d):", r->n_candidates);
    for (int32_t i = 0; i < r->n_candidates; i++)
        printf(" %lld", (long long)r->cand_frames[i]);
    if (r->has_scores) {
        printf("\ncandidate_scores:");
        for (int32_t i = 0; i < r->n_candidates; i++)
            printf(" %.4f", r->cand_scores[i]);
    }
    printf("\npicked (%d):", r->n_picked);
    for (int32_t i = 0; i < r->n_picked; i++)
        printf(" %lld", (long long)r->picked_frames[i]);
    printf("\ngenerated_tokens: %d\n", r->n_generated);
    printf("time_us: decode %lld preprocess %lld vit %lld select %lld (loc_qformer %lld loc_t5 %lld) qformer %lld "
           "t5_enc %lld t5_dec %lld total %lld\n",
           (long long)r->t_decode_us, (long long)r->t_preprocess_us, (long long)r->t_vit_us, (long long)r->t_select_us,
           (long long)r->t_loc_qformer_us, (long long)r->t_loc_t5_us, (long long)r->t_qformer_us,
           (long long)r->t_t5_enc_us, (long long)r->t_t5_dec_us, (long long)r->t_total_us);
    printf("memory: peak RSS %.2f GiB (weights %s)\n", (double)vb_rss_peak_kb() / (1024.0 * 1024.0), weights);
}

/* The command line of `answer`. */
struct args {
    const char * method, *model, *video, *question, *options, *dataset, *decode, *select, *interp, *t5tok, *bert;
    const char * weights, *sampling, *device;
    const char * opt_list[VB_MAX_OPTIONS + 1];
    int32_t      n_opt_list, K, T, threads, unify, loc_chunk;
    double       start_s, end_s;
    uint64_t     seed;
};

/* Parse argv into a; returns -1 when parsed, else the exit code (2: usage error, message printed). */
static int parse_args(int argc, char ** argv, struct args * a) {
    memset(a, 0, sizeof *a);
    a->dataset = "nextqa", a->decode = "minimal", a->select = "argmax", a->interp = "bilinear", a->weights = "f32";
    a->sampling = "uniform_midbin", a->start_s = -1, a->end_s = -1, a->device = "cpu";
    const char * v;
    for (int i = 1; i < argc; i++) {
        if (vb_cli_opt(argc, argv, &i, "--method", &v))
            a->method = v;
        else if (vb_cli_opt(argc, argv, &i, "--model", &v))
            a->model = v;
        else if (vb_cli_opt(argc, argv, &i, "--video", &v))
            a->video = v;
        else if (vb_cli_opt(argc, argv, &i, "--question", &v))
            a->question = v;
        else if (vb_cli_opt(argc, argv, &i, "--options", &v))
            a->options = v;
        else if (vb_cli_opt(argc, argv, &i, "--option", &v)) {
            if (a->n_opt_list > VB_MAX_OPTIONS) {
                fprintf(stderr, "answer: at most %d options\n", VB_MAX_OPTIONS);
                return 2;
            }
            a->opt_list[a->n_opt_list++] = v;
        } else if (vb_cli_opt(argc, argv, &i, "--dataset", &v))
            a->dataset = v;
        else if (vb_cli_opt(argc, argv, &i, "--frames", &v))
            a->K = atoi(v);
        else if (vb_cli_opt(argc, argv, &i, "--candidates", &v))
            a->T = atoi(v);
        else if (vb_cli_opt(argc, argv, &i, "--loc-chunk", &v))
            a->loc_chunk = atoi(v);
        else if (vb_cli_opt(argc, argv, &i, "--start", &v))
            a->start_s = atof(v);
        else if (vb_cli_opt(argc, argv, &i, "--end", &v))
            a->end_s = atof(v);
        else if (vb_cli_opt(argc, argv, &i, "--decode", &v))
            a->decode = v;
        else if (vb_cli_opt(argc, argv, &i, "--select", &v))
            a->select = v;
        else if (vb_cli_opt(argc, argv, &i, "--seed", &v))
            a->seed = strtoull(v, NULL, 10);
        else if (vb_cli_opt(argc, argv, &i, "--sampling", &v))
            a->sampling = v;
        else if (vb_cli_opt(argc, argv, &i, "--interp", &v))
            a->interp = v;
        else if (vb_cli_opt(argc, argv, &i, "--threads", &v))
            a->threads = atoi(v);
        else if (vb_cli_opt(argc, argv, &i, "--t5-tokenizer", &v))
            a->t5tok = v;
        else if (vb_cli_opt(argc, argv, &i, "--bert-vocab", &v))
            a->bert = v;
        else if (vb_cli_opt(argc, argv, &i, "--weights", &v))
            a->weights = v;
        else if (vb_cli_opt(argc, argv, &i, "--device", &v))
            a->device = v; /* cpu | cuda */
        else if (vb_cli_opt(argc, argv, &i, "--compute", &v)) {
            if (vb_cli_set_compute("answer", v)) return 2;
        } else if (!strcmp(argv[i], "--nextqa-unify"))
            a->unify = 1;
        else {
            fprintf(stderr, "answer: unknown argument %s (see --help)\n", argv[i]);
            return 2;
        }
    }
    if (!a->method || !a->model || !a->video || (!a->options && a->n_opt_list == 0)) {
        fprintf(stderr, "answer: --method, --model, --video and --options are required (see --help)\n");
        return 2;
    }
    return -1;
}

int cmd_answer(int argc, char ** argv) {
    if (vb_cli_wants_help(argc, argv)) return usage();
    struct args a;
    int         pr = parse_args(argc, argv, &a);
    if (pr >= 0) return pr;
    const struct vb_method_ops * ops;
    struct vb_method_opts        mo;
    enum vb_video_interp         vi;
    enum vb_sampling_policy      policy;
    int32_t                      wdt = VB_DT_F32;
    if (vb_runconfig_weight_dtype(a.weights, &wdt) != VB_OK) {
        fprintf(stderr, "answer: --%s\n", vb_errmsg());
        return 2;
    }
    int cuda = 0, drc = vb_cli_device("answer", a.device, &cuda); /* cuda without a GPU: exit 1 and why */
    if (drc != 0) return drc;
    if (!(ops = vb_registry_find(a.method))) {
        fprintf(stderr, "answer: %s\n", vb_errmsg());
        return 2;
    }
    vb_method_opts_default(&mo);
    if (vb_decode_mode_parse(a.decode, &mo.decode) != VB_OK || vb_select_mode_parse(a.select, &mo.select) != VB_OK ||
        vb_video_interp_parse(a.interp, &vi) != VB_OK || vb_sampling_parse(a.sampling, &policy) != VB_OK) {
        fprintf(stderr, "answer: %s\n", vb_errmsg());
        return 2;
    }
    if (a.K > 0) mo.n_frames = a.K;
    mo.n_candidates = a.T; /* 0: the method's own count */
    mo.loc_chunk = a.loc_chunk;
    if (a.threads > 0) vb_blas_set_threads(a.threads);
    struct vb_prompt_text text;
    if (question_text(&text, a.dataset, a.question, a.options, a.opt_list, a.n_opt_list, a.unify) != VB_OK) return 2;
    int                     ret = 1;
    struct vb_bundle *      b = NULL;
    struct vb_method *      m = NULL;
    struct vb_bundle_opts   bo = {.t5_tokenizer = a.t5tok ? a.t5tok : getenv("VB_T5_TOKENIZER"),
                                  .bert_vocab = a.bert ? a.bert : getenv("VB_BERT_VOCAB"),
                                  .parts = 0,
                                  .weight_dtype = wdt,
                                  .device = cuda ? VB_DEVICE_CUDA : VB_DEVICE_CPU};
    struct vb_method_result r;
    int                     rc = vb_bundle_open(&b, a.model, &bo);
    if (rc == VB_OK) rc = vb_method_open(&m, ops, b, &mo);
    if (rc == VB_OK) rc = answer_video(m, b, &text, a.video, a.start_s, a.end_s, policy, vi, a.seed, &r);
    if (rc == VB_OK) {
        print_result(&r, &text, a.weights);
        ret = 0;
    } else
        fprintf(stderr, "answer: %s\n", vb_errmsg());
    vb_method_close(m);
    vb_bundle_close(b);
    vb_prompt_text_free(&text);
    return ret;
}
