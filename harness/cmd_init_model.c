/* cmd_init_model.c — `vlapbench init-model`: a random-weight bundle of any shape (for speed benchmarks and tests).
**
** Writes OUT/config.json (the given HF config plus a "methods_bundle" object) and OUT/model.safetensors with every
** tensor of vb_bundle_tensor_specs() (HF names, plus localizer.* for sevila, frame_prompter.* for vlap).  Values are
** deterministic from --seed: each tensor has its own generator seeded from (seed, tensor name), so the file does not
** depend on tensor order.  Init scales keep activations finite at real sizes: norm weights 1 + 0.02 N, biases
** 0.02 N, Linear weights N(0, 1/fan_in) (T5 q: 1/(d_model d_kv), as HF's T5 init), embeddings N(0, 1).  The file is
** streamed (header first, then tensor by tensor), so real-size models need little memory.
*/
#include "base/common.h"
#include "base/rng.h"
#include "engine/config.h"
#include "engine/weights.h"
#include "harness/cli.h"
#include "methods/bundle.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

/* splitmix64 -> xoshiro256** (engine/rng.h), one stream per tensor */
static void rng_seed(struct vb_rng * r, uint64_t seed, const char * name) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a of the name, mixed with the seed */
    for (const char * p = name; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ull;
    uint64_t x = seed ^ h;
    for (int i = 0; i < 4; i++)
        r->s[i] = vb_rng_splitmix64(&x);
}

static double rng_unit(struct vb_rng * r) {
    return (double)(vb_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Standard normal pairs (Box-Muller). */
static void rng_normals(struct vb_rng * r, float * out, int64_t n) {
    for (int64_t i = 0; i < n; i += 2) {
        double u1 = rng_unit(r), u2 = rng_unit(r);
        if (u1 < 1e-300) u1 = 1e-300;
        double m = sqrt(-2.0 * log(u1));
        out[i] = (float)(m * cos(2 * M_PI * u2));
        if (i + 1 < n) out[i + 1] = (float)(m * sin(2 * M_PI * u2));
    }
}

static int64_t spec_numel(const struct vb_tensor_spec * t) {
    int64_t n = 1;
    for (int32_t i = 0; i < t->ndim; i++)
        n *= t->shape[i];
    return n;
}

static void fill(const struct vb_tensor_spec * t, uint64_t seed, float * buf, int64_t off, int64_t n,
                 struct vb_rng * r) {
    (void)seed;
    (void)off;
    rng_normals(r, buf, n);
    for (int64_t i = 0; i < n; i++) {
        switch (t->init) {
        case VB_INIT_ONES:
            buf[i] = 1.0f + 0.02f * buf[i];
            break;
        case VB_INIT_BIAS:
            buf[i] = 0.02f * buf[i];
            break;
        case VB_INIT_LINEAR:
        case VB_INIT_NORMAL:
            buf[i] = t->scale * buf[i];
            break;
        }
    }
}

static int write_all(FILE * f, const void * p, size_t n, const char * path) {
    if (fwrite(p, 1, n, f) != n) return vb_fail(VB_ERR_IO, "%s: write failed: %s", path, strerror(errno));
    return VB_OK;
}

static int write_safetensors(const char * path, const struct vb_tensor_spec * sp, int32_t n, enum vb_dtype dt,
                             uint64_t seed) {
    size_t   esz = vb_dtype_size(dt);
    cJSON *  hdr = cJSON_CreateObject();
    uint64_t off = 0;
    for (int32_t i = 0; i < n; i++) {
        cJSON * o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "dtype", vb_dtype_name(dt));
        cJSON * sh = cJSON_AddArrayToObject(o, "shape");
        for (int32_t d = 0; d < sp[i].ndim; d++)
            cJSON_AddItemToArray(sh, cJSON_CreateNumber((double)sp[i].shape[d]));
        uint64_t nb = (uint64_t)spec_numel(&sp[i]) * esz;
        cJSON *  offs = cJSON_AddArrayToObject(o, "data_offsets");
        cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)off));
        cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)(off + nb)));
        off += nb;
        cJSON_AddItemToObject(hdr, sp[i].name, o);
    }
    cJSON * meta = cJSON_AddObjectToObject(hdr, "__metadata__");
    cJSON_AddStringToObject(meta, "format", "pt");
    char sbuf[32];
    snprintf(sbuf, sizeof sbuf, "%llu", (unsigned long long)seed);
    cJSON_AddStringToObject(meta, "vlapbench_init_seed", sbuf);
    char * js = cJSON_PrintUnformatted(hdr);
    cJSON_Delete(hdr);
    size_t jl = strlen(js), pad = (8 - (jl % 8)) % 8;
    FILE * f = fopen(path, "wb");
    if (!f) {
        free(js);
        return vb_fail(VB_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    }
    uint64_t hl = jl + pad;
    uint8_t  le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (uint8_t)(hl >> (8 * i));
    int rc = write_all(f, le, 8, path);
    if (rc == VB_OK) rc = write_all(f, js, jl, path);
    if (rc == VB_OK && pad) rc = write_all(f, "        ", pad, path);
    free(js);
    const int64_t CH = 1 << 20;
    float *       buf = vb_malloc(sizeof(float) * (size_t)CH);
    uint8_t *     cbuf = vb_malloc(esz * (size_t)CH);
    for (int32_t i = 0; rc == VB_OK && i < n; i++) {
        struct vb_rng r;
        rng_seed(&r, seed, sp[i].name);
        int64_t ne = spec_numel(&sp[i]);
        for (int64_t o = 0; rc == VB_OK && o < ne; o += CH) {
            int64_t m = VB_MIN(CH, ne - o);
            fill(&sp[i], seed, buf, o, m, &r);
            const void * src = buf;
            if (dt == VB_DT_BF16 || dt == VB_DT_F16) {
                uint16_t * h = (uint16_t *)cbuf;
                for (int64_t j = 0; j < m; j++)
                    h[j] = dt == VB_DT_BF16 ? vb_f32_to_bf16(buf[j]) : vb_f32_to_f16(buf[j]);
                src = cbuf;
            }
            rc = write_all(f, src, (size_t)m * esz, path);
        }
    }
    free(buf);
    free(cbuf);
    if (fclose(f) != 0 && rc == VB_OK) rc = vb_fail(VB_ERR_IO, "%s: close failed: %s", path, strerror(errno));
    return rc;
}

static int copy_file(const char * src, const char * dst) {
    char * data;
    size_t len;
    int    rc = vb_read_file(src, &data, &len);
    if (rc != VB_OK) return rc;
    FILE * f = fopen(dst, "wb");
    if (!f) {
        free(data);
        return vb_fail(VB_ERR_IO, "%s: cannot create: %s", dst, strerror(errno));
    }
    rc = write_all(f, data, len, dst);
    free(data);
    if (fclose(f) != 0 && rc == VB_OK) rc = vb_fail(VB_ERR_IO, "%s: close failed", dst);
    return rc;
}

static int usage(void) {
    printf(
        "usage: vlapbench init-model --config CONFIG.json --method uniform|sevila|vlap --seed S --out DIR\n"
        "                            [--dtype f32|bf16|f16] [--candidates T] [--frames K] [--tokenizer-dir D]\n"
        "                            [--dry-run]   (only print the tensor and parameter counts)\n"
        "Writes a random-weight model bundle of the shape CONFIG.json describes (a Hugging Face Blip2Config for\n"
        "uniform / sevila, InstructBlipConfig for vlap, e.g. configs/real/*.config.json or configs/demo-*.json):\n"
        "  DIR/config.json        CONFIG.json plus \"methods_bundle\" (ln_vision_eps 1e-5, frame counts, ...)\n"
        "  DIR/model.safetensors  every HF tensor, plus localizer.* (sevila) or frame_prompter.* (vlap,\n"
        "                         K segments of T/K frames; defaults T 32, K 4)\n"
        "Deterministic from --seed.  --tokenizer-dir D (repeatable) copies tokenizer.json (and, for vlap, vocab.txt)\n"
        "from the first D that has it into DIR (the real Flan-T5 and BERT ones: models/tokenizers/flan-t5 and\n"
        "models/tokenizers/bert-base-uncased).  --dtype bf16/f16 halves the file (the loader converts to f32).\n");
    return 0;
}

int cmd_init_model(int argc, char ** argv) {
    if (vb_cli_wants_help(argc, argv)) return usage();
    const char * config = NULL, *method = NULL, *seed_s = NULL, *out = NULL, *dtype_s = "f32", *v;
    const char * tokdir[4];
    int32_t      n_tokdir = 0;
    int32_t      T = 32, K = 4, dry = 0;
    for (int i = 1; i < argc; i++) {
        if (vb_cli_opt(argc, argv, &i, "--config", &v))
            config = v;
        else if (vb_cli_opt(argc, argv, &i, "--method", &v))
            method = v;
        else if (vb_cli_opt(argc, argv, &i, "--seed", &v))
            seed_s = v;
        else if (vb_cli_opt(argc, argv, &i, "--out", &v))
            out = v;
        else if (vb_cli_opt(argc, argv, &i, "--dtype", &v))
            dtype_s = v;
        else if (vb_cli_opt(argc, argv, &i, "--tokenizer-dir", &v)) {
            if (n_tokdir == 4) {
                fprintf(stderr, "init-model: at most 4 --tokenizer-dir\n");
                return 2;
            }
            tokdir[n_tokdir++] = v;
        } else if (!strcmp(argv[i], "--dry-run"))
            dry = 1;
        else if (vb_cli_opt(argc, argv, &i, "--candidates", &v))
            T = atoi(v);
        else if (vb_cli_opt(argc, argv, &i, "--frames", &v))
            K = atoi(v);
        else {
            fprintf(stderr, "init-model: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    if (dry && !out) out = "-";
    if (dry && !seed_s) seed_s = "0";
    if (!config || !method || !seed_s || !out) {
        fprintf(stderr, "init-model: --config, --method, --seed and --out are required (see --help)\n");
        return 2;
    }
    int is_sevila = !strcmp(method, "sevila"), is_vlap = !strcmp(method, "vlap");
    if (!is_sevila && !is_vlap && strcmp(method, "uniform")) {
        fprintf(stderr, "init-model: --method must be uniform, sevila or vlap\n");
        return 2;
    }
    enum vb_dtype dt;
    if (!strcmp(dtype_s, "f32"))
        dt = VB_DT_F32;
    else if (!strcmp(dtype_s, "bf16"))
        dt = VB_DT_BF16;
    else if (!strcmp(dtype_s, "f16"))
        dt = VB_DT_F16;
    else {
        fprintf(stderr, "init-model: --dtype must be f32, bf16 or f16\n");
        return 2;
    }
    char * end;
    errno = 0;
    uint64_t seed = strtoull(seed_s, &end, 10);
    if (errno || *end || !*seed_s) {
        fprintf(stderr, "init-model: --seed must be a non-negative integer\n");
        return 2;
    }
    if (K <= 0 || T <= 0 || T % K != 0 || T > 4096) {
        fprintf(stderr, "init-model: --candidates must be a positive multiple of --frames (got %d, %d)\n", T, K);
        return 2;
    }
    char * js;
    if (vb_read_file(config, &js, NULL) != VB_OK) {
        fprintf(stderr, "init-model: %s\n", vb_errmsg());
        return 1;
    }
    struct vb_model_config cfg;
    int                    rc = vb_config_parse(&cfg, js, config);
    cJSON *                root = rc == VB_OK ? cJSON_Parse(js) : NULL;
    free(js);
    if (rc != VB_OK || !root) {
        fprintf(stderr, "init-model: %s\n", rc != VB_OK ? vb_errmsg() : "config is not valid JSON");
        cJSON_Delete(root);
        return 1;
    }
    if (is_vlap != (cfg.arch == VB_ARCH_INSTRUCTBLIP)) {
        fprintf(stderr, "init-model: %s: method %s needs a%s config\n", config, method,
                is_vlap ? "n InstructBlipConfig (Q-Former with text input)" : " Blip2Config");
        cJSON_Delete(root);
        return 1;
    }
    /* methods_bundle */
    cJSON_DeleteItemFromObjectCaseSensitive(root, "methods_bundle");
    cJSON * mb = cJSON_AddObjectToObject(root, "methods_bundle");
    cJSON_AddStringToObject(mb, "method", method);
    cJSON_AddStringToObject(mb, "created_by", "vlapbench init-model (random weights)");
    cJSON_AddNumberToObject(mb, "seed", (double)seed);
    cJSON_AddNumberToObject(mb, "ln_vision_eps", 1e-5);
    cJSON_AddNumberToObject(mb, "vision_tokens_per_frame", cfg.vision.n_tokens);
    cJSON_AddNumberToObject(mb, "selected_frames", K);
    cJSON_AddNumberToObject(mb, "candidate_frames", is_sevila || is_vlap ? T : K);
    if (is_sevila) cJSON_AddStringToObject(mb, "extra_tensor_prefix", "localizer.");
    if (is_vlap) {
        cJSON_AddStringToObject(mb, "extra_tensor_prefix", "frame_prompter.");
        cJSON * fp = cJSON_AddObjectToObject(mb, "frame_prompter");
        cJSON_AddNumberToObject(fp, "segments", K);
        cJSON_AddNumberToObject(fp, "frames_per_segment", T / K);
        cJSON_AddNumberToObject(fp, "inference_temperature", 0.01);
        cJSON_AddNumberToObject(fp, "gumbel_eps", 1e-10);
    }
    struct vb_tensor_spec * sp = NULL;
    int32_t                 n = 0;
    rc = vb_bundle_tensor_specs(&cfg, is_sevila, is_vlap ? K : 0, T / K, &sp, &n);
    if (rc != VB_OK) {
        fprintf(stderr, "init-model: %s\n", vb_errmsg());
        cJSON_Delete(root);
        return 1;
    }
    if (dry) {
        int64_t tot = 0;
        for (int32_t i = 0; i < n; i++)
            tot += spec_numel(&sp[i]);
        printf("init-model: dry run: %d tensors, %lld parameters (%s)\n", n, (long long)tot, method);
        free(sp);
        cJSON_Delete(root);
        return 0;
    }
    if (mkdir(out, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "init-model: cannot create %s: %s\n", out, strerror(errno));
        free(sp);
        cJSON_Delete(root);
        return 1;
    }
    char p[4200];
    snprintf(p, sizeof p, "%s/config.json", out);
    char * txt = cJSON_Print(root);
    cJSON_Delete(root);
    FILE * f = fopen(p, "wb");
    rc = f ? write_all(f, txt, strlen(txt), p) : vb_fail(VB_ERR_IO, "%s: cannot create: %s", p, strerror(errno));
    if (f && fclose(f) != 0 && rc == VB_OK) rc = vb_fail(VB_ERR_IO, "%s: close failed", p);
    free(txt);
    if (rc == VB_OK) {
        snprintf(p, sizeof p, "%s/model.safetensors", out);
        rc = write_safetensors(p, sp, n, dt, seed);
    }
    int64_t total = 0;
    for (int32_t i = 0; i < n; i++)
        total += spec_numel(&sp[i]);
    free(sp);
    if (rc == VB_OK && n_tokdir > 0) {
        /* each file from the first --tokenizer-dir that has it; vocab.txt only matters for InstructBLIP */
        const char * files[2] = {"tokenizer.json", "vocab.txt"};
        for (int i = 0; i < 2 && rc == VB_OK; i++) {
            char src[4200], dst[4200];
            int  found = 0;
            for (int32_t d = 0; d < n_tokdir && !found; d++) {
                snprintf(src, sizeof src, "%s/%s", tokdir[d], files[i]);
                struct stat stt;
                found = stat(src, &stt) == 0;
            }
            if (!found) {
                if (i == 0 || is_vlap)
                    rc = vb_fail(VB_ERR_IO, "%s not found in any --tokenizer-dir (last tried %s)", files[i], src);
                continue;
            }
            snprintf(dst, sizeof dst, "%s/%s", out, files[i]);
            rc = copy_file(src, dst);
        }
    }
    if (rc != VB_OK) {
        fprintf(stderr, "init-model: %s\n", vb_errmsg());
        return 1;
    }
    printf("init-model: %s: %d tensors, %lld parameters, %s, seed %llu\n", out, n, (long long)total, dtype_s,
           (unsigned long long)seed);
    return 0;
}
