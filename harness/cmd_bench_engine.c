/* cmd_bench_engine.c — `vlapbench bench-engine`: per-component engine speed at the shape of a model config.
**
** Builds random-weight components of the config's shape (only --layers N blocks of each stack, the figures scaled
** to the full layer count and said so in the output), runs the real engine code (vb_vit_run, vb_t5_encode,
** vb_t5_decode) and prints per component: median wall time, GFLOP/s, and that rate as a fraction of this machine's
** sgemm peak measured in the same run, both at 2048^3 and at the component's own main GEMM shape.
*/
#include "engine/blas.h"
#include "engine/common.h"
#include "engine/config.h"
#include "engine/ops.h"
#include "engine/t5.h"
#include "engine/vit.h"
#include "harness/cli.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double bench_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + 1e-9 * (double) ts.tv_nsec;
}

static int cmp_double(const void * a, const void * b) {
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

static double median(double * v, int n) {
    qsort(v, (size_t) n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static uint64_t g_rng = 0x9E3779B97F4A7C15ull;

static float * rand_buf(int64_t n, float scale, float offset) {
    float * p = vb_malloc(sizeof(float) * (size_t) n);
    for (int64_t i = 0; i < n; i++) {
        g_rng ^= g_rng << 13, g_rng ^= g_rng >> 7, g_rng ^= g_rng << 17;
        p[i] = offset + scale * ((float) (g_rng >> 40) / (float) (1 << 24) - 0.5f);
    }
    return p;
}

/* Median seconds of one sgemm C (m, n) = A (m, k) B^T over reps runs (one warm-up). */
static double time_sgemm(int64_t m, int64_t n, int64_t k, int reps) {
    float * A = rand_buf(m * k, 1, 0), * B = rand_buf(n * k, 1, 0), * C = vb_malloc(sizeof(float) * (size_t) (m * n));
    double * t = vb_malloc(sizeof(double) * (size_t) reps);
    vb_gemm_nt(m, n, k, 1.0f, A, k, B, k, 0.0f, C, n);
    for (int r = 0; r < reps; r++) {
        double t0 = bench_now();
        vb_gemm_nt(m, n, k, 1.0f, A, k, B, k, 0.0f, C, n);
        t[r] = bench_now() - t0;
    }
    double med = median(t, reps);
    free(A), free(B), free(C), free(t);
    return med;
}

static double sgemm_gflops(int64_t m, int64_t n, int64_t k, int reps) {
    return 2.0 * (double) m * (double) n * (double) k / time_sgemm(m, n, k, reps) / 1e9;
}

static void print_row(const char * name, const char * unit, double sec, double flop, double peak2048, double peak_own,
                      const char * shape) {
    double gf = flop / sec / 1e9;
    printf("%-26s %-14s %10.2f ms %8.1f GFLOP/s  %5.1f%% of sgemm 2048^3  %5.1f%% of sgemm %s\n", name, unit, sec * 1e3,
           gf, 100.0 * gf / peak2048, 100.0 * gf / peak_own, shape);
}

/* ---- ViT ---- */
static int bench_vit(const struct vb_vision_config * vc, int L, int frames, int reps, double peak2048) {
    struct vb_vit m;
    memset(&m, 0, sizeof m);
    m.cfg = *vc;
    m.cfg.layers = L;
    int64_t D = vc->hidden, Id = vc->intermediate, P = vc->patch;
    m.grid = vc->image_size / vc->patch;
    m.cfg.n_patches = m.grid * m.grid;
    m.cfg.n_tokens = m.cfg.n_patches + 1;
    m.patch_dim = (int32_t) (3 * P * P);
    int64_t N = m.cfg.n_tokens;
    m.patch_w = rand_buf(D * m.patch_dim, 0.04f, 0);
    m.patch_b = rand_buf(D, 0.02f, 0);
    m.cls = rand_buf(D, 0.02f, 0);
    m.pos = rand_buf(N * D, 0.02f, 0);
    m.post_ln_w = rand_buf(D, 0.1f, 1);
    m.post_ln_b = rand_buf(D, 0.02f, 0);
    m.layers = vb_calloc((size_t) L, sizeof *m.layers);
    for (int l = 0; l < L; l++) {
        struct vb_vit_layer * y = &m.layers[l];
        y->ln1_w = rand_buf(D, 0.1f, 1), y->ln1_b = rand_buf(D, 0.02f, 0);
        y->qkv_w = rand_buf(3 * D * D, 0.04f, 0), y->qkv_b = rand_buf(3 * D, 0.02f, 0);
        y->proj_w = rand_buf(D * D, 0.04f, 0), y->proj_b = rand_buf(D, 0.02f, 0);
        y->ln2_w = rand_buf(D, 0.1f, 1), y->ln2_b = rand_buf(D, 0.02f, 0);
        y->fc1_w = rand_buf(Id * D, 0.04f, 0), y->fc1_b = rand_buf(Id, 0.02f, 0);
        y->fc2_w = rand_buf(D * Id, 0.04f, 0), y->fc2_b = rand_buf(D, 0.02f, 0);
    }
    struct vb_vit_ctx * c = NULL;
    int st = vb_vit_ctx_new(&c, &m, frames);
    if (st == VB_OK) {
        int64_t S = vc->image_size;
        float * px = rand_buf((int64_t) frames * 3 * S * S, 2, 0);
        float * ln = vb_malloc(sizeof(float) * (size_t) (frames * N * D));
        double * t = vb_malloc(sizeof(double) * (size_t) reps);
        st = vb_vit_run(c, px, frames, NULL, NULL, NULL, ln); /* warm-up */
        for (int r = 0; r < reps && st == VB_OK; r++) {
            double t0 = bench_now();
            st = vb_vit_run(c, px, frames, NULL, NULL, NULL, ln);
            t[r] = bench_now() - t0;
        }
        if (st == VB_OK) {
            double sec = median(t, reps);
            double layer_flop = 2.0 * N * (4.0 * D * D + 2.0 * D * Id) + 4.0 * N * N * D;
            double embed_flop = 2.0 * m.cfg.n_patches * m.patch_dim * D;
            /* scale the blocks to the full depth: time(L) = embed + L * block; embed is small, kept once */
            double per_frame = sec / frames, per_frame_full = per_frame * (double) vc->layers / L;
            double flop_full = embed_flop + layer_flop * vc->layers;
            char shape[64], name[64], unit[32];
            snprintf(shape, sizeof shape, "%lldx%lldx%lld", (long long) (frames * N), (long long) Id, (long long) D);
            double own = sgemm_gflops(frames * N, Id, D, reps);
            snprintf(name, sizeof name, "vit (%d-frame batch)", frames);
            snprintf(unit, sizeof unit, "per frame");
            print_row(name, unit, per_frame_full, flop_full, peak2048, own, shape);
            printf("    measured %d of %d blocks: %.2f ms per frame for %d blocks, scaled x%.2f\n", L, vc->layers,
                   per_frame * 1e3, L, (double) vc->layers / L);
        }
        free(px), free(ln), free(t);
    }
    vb_vit_ctx_free(c);
    for (int l = 0; l < L; l++) {
        struct vb_vit_layer * y = &m.layers[l];
        free(y->ln1_w), free(y->ln1_b), free(y->qkv_w), free(y->qkv_b), free(y->proj_w), free(y->proj_b);
        free(y->ln2_w), free(y->ln2_b), free(y->fc1_w), free(y->fc1_b), free(y->fc2_w), free(y->fc2_b);
    }
    free(m.layers), free(m.patch_w), free(m.patch_b), free(m.cls), free(m.pos), free(m.post_ln_w), free(m.post_ln_b);
    return st;
}

/* ---- T5 ---- */
static void t5_block_alloc(struct vb_t5_block * b, const struct vb_t5_model * m, int dec, float * wckv) {
    int64_t d = m->cfg.d_model, inner = m->inner, ff = m->cfg.d_ff * (m->cfg.gated ? 2 : 1);
    b->ln_sa = rand_buf(d, 0.1f, 1);
    b->wqkv = rand_buf(3 * inner * d, 0.04f, 0);
    b->wo = rand_buf(d * inner, 0.04f, 0);
    b->ln_ff = rand_buf(d, 0.1f, 1);
    b->wi = rand_buf(ff * d, 0.04f, 0);
    b->wff_o = rand_buf(d * m->cfg.d_ff, 0.04f, 0);
    if (dec) {
        b->ln_ca = rand_buf(d, 0.1f, 1);
        b->wcq = rand_buf(inner * d, 0.04f, 0);
        b->wckv = wckv;
        b->wco = rand_buf(d * inner, 0.04f, 0);
    }
}

static void t5_block_free(struct vb_t5_block * b) {
    free(b->ln_sa), free(b->wqkv), free(b->wo), free(b->ln_ff), free(b->wi), free(b->wff_o), free(b->ln_ca);
    free(b->wcq), free(b->wco);
}

static int bench_t5(const struct vb_t5_config * tc, int L, int reps, double peak2048, int do_enc, int do_dec) {
    struct vb_t5_model m;
    memset(&m, 0, sizeof m);
    m.cfg = *tc;
    m.cfg.n_enc = L;
    m.cfg.n_dec = L;
    m.inner = tc->heads * tc->d_kv;
    int64_t d = tc->d_model, inner = m.inner, V = tc->vocab;
    m.shared = rand_buf(V * d, 0.5f, 0);
    m.lm_head = tc->tie ? m.shared : rand_buf(V * d, 0.04f, 0);
    m.enc_rel = rand_buf((int64_t) tc->n_buckets * tc->heads, 0.5f, 0);
    m.dec_rel = rand_buf((int64_t) tc->n_buckets * tc->heads, 0.5f, 0);
    m.dec_cross_kv = rand_buf((int64_t) L * 2 * inner * d, 0.04f, 0);
    m.enc_final_ln = rand_buf(d, 0.1f, 1);
    m.dec_final_ln = rand_buf(d, 0.1f, 1);
    m.enc = vb_calloc((size_t) L, sizeof *m.enc);
    m.dec = vb_calloc((size_t) L, sizeof *m.dec);
    for (int l = 0; l < L; l++) {
        t5_block_alloc(&m.enc[l], &m, 0, NULL);
        t5_block_alloc(&m.dec[l], &m, 1, m.dec_cross_kv + (int64_t) l * 2 * inner * d);
    }
    int64_t ffw = (int64_t) tc->d_ff * (tc->gated ? 3 : 2); /* wi rows + wo columns per d */
    int     st = VB_OK;
    double * t = vb_malloc(sizeof(double) * (size_t) reps);
    static const int64_t lens[2] = {128, 512};
    for (int li = 0; li < 2 && do_enc && st == VB_OK; li++) {
        int64_t n = lens[li];
        struct vb_t5_ctx * c = NULL;
        st = vb_t5_ctx_new(&c, &m, n, 8);
        if (st != VB_OK) break;
        float * emb = rand_buf(n * d, 0.5f, 0);
        st = vb_t5_encode(c, emb, NULL, n, NULL);
        for (int r = 0; r < reps && st == VB_OK; r++) {
            double t0 = bench_now();
            st = vb_t5_encode(c, emb, NULL, n, NULL);
            t[r] = bench_now() - t0;
        }
        if (st == VB_OK) {
            double sec = median(t, reps) * (double) tc->n_enc / L; /* enc + cross K/V scale alike (n_enc == n_dec) */
            /* per encoder block: qkv + o + ff GEMMs + attention; per decoder block: its cross K/V over n tokens */
            double flop = (double) tc->n_enc * (2.0 * n * d * (4.0 * inner + ffw) + 4.0 * n * n * inner) +
                          (double) tc->n_dec * 2.0 * n * d * 2.0 * inner;
            char name[64], shape[64];
            snprintf(name, sizeof name, "t5enc %lld tokens", (long long) n);
            int64_t fn = tc->d_ff * (tc->gated ? 2 : 1);
            snprintf(shape, sizeof shape, "%lldx%lldx%lld", (long long) n, (long long) fn, (long long) d);
            print_row(name, "per sequence", sec, flop, peak2048, sgemm_gflops(n, fn, d, reps), shape);
            printf("    measured %d of %d blocks (+ cross K/V of %d of %d decoder blocks): %.2f ms, scaled x%.2f\n", L,
                   tc->n_enc, L, tc->n_dec, median(t, reps) * 1e3, (double) tc->n_enc / L);
        }
        free(emb);
        vb_t5_ctx_free(c);
    }
    if (do_dec && st == VB_OK) {
        int64_t n = 64, steps = 16;
        struct vb_t5_ctx * c = NULL;
        st = vb_t5_ctx_new(&c, &m, n, steps + 1);
        float * emb = st == VB_OK ? rand_buf(n * d, 0.5f, 0) : NULL;
        float * logits = vb_malloc(sizeof(float) * (size_t) V);
        if (st == VB_OK) st = vb_t5_encode(c, emb, NULL, n, NULL);
        /* one step with a cache of `steps/2` positions: time each of `steps` steps, take the median */
        int r_all = 0;
        double * ts = vb_malloc(sizeof(double) * (size_t) (steps * reps));
        for (int r = 0; r < reps && st == VB_OK; r++) {
            vb_t5_reset_decoder(c);
            for (int64_t s = 0; s < steps && st == VB_OK; s++) {
                int32_t id = (int32_t) (s % V);
                double  t0 = bench_now();
                st = vb_t5_decode(c, &id, 1, logits, NULL, NULL);
                ts[r_all++] = bench_now() - t0;
            }
        }
        if (st == VB_OK && r_all > 0) {
            double sec_L = median(ts, r_all);
            /* lm_head once: time one row against the vocabulary */
            float * h = rand_buf(d, 1, 0);
            double * th = vb_malloc(sizeof(double) * (size_t) (reps + 1));
            for (int r = 0; r <= reps; r++) { /* r == 0: warm-up, overwritten */
                double t0 = bench_now();
                cblas_sgemv(CblasRowMajor, CblasNoTrans, (int) V, (int) d, 1.0f, m.lm_head, (int) d, h, 1, 0.0f,
                            logits, 1);
                if (r == 0) continue;
                th[r - 1] = bench_now() - t0;
            }
            double head = median(th, reps);
            double blocks = sec_L - head > 0 ? sec_L - head : 0;
            double sec = head + blocks * (double) tc->n_dec / L;
            double flop = (double) tc->n_dec * 2.0 * d * (4.0 * inner + ffw) + 2.0 * d * V;
            print_row("t5dec step (cached)", "per token", sec, flop, peak2048, 2.0 * d * V / head / 1e9,
                      "lm_head gemv");
            printf("    measured %d of %d blocks + lm_head: %.2f ms (lm_head %.2f ms), blocks scaled x%.2f\n", L,
                   tc->n_dec, sec_L * 1e3, head * 1e3, (double) tc->n_dec / L);
            free(h), free(th);
        }
        free(ts), free(emb), free(logits);
        vb_t5_ctx_free(c);
    }
    free(t);
    for (int l = 0; l < L; l++) t5_block_free(&m.enc[l]), t5_block_free(&m.dec[l]);
    free(m.enc), free(m.dec);
    if (m.lm_head != m.shared) free(m.lm_head);
    free(m.shared), free(m.enc_rel), free(m.dec_rel), free(m.dec_cross_kv), free(m.enc_final_ln), free(m.dec_final_ln);
    return st;
}

static void usage(FILE * f) {
    fprintf(f, "usage: vlapbench bench-engine --config CONFIG.json [--threads N] [--reps N] [--layers N]\n"
               "                              [--frames N] [--components vit,t5enc,t5dec]\n"
               "Builds random-weight components of the config's shape (only --layers N blocks of each stack, default\n"
               "2; times scaled to the full depth, stated in the output), runs the engine and prints per component\n"
               "the median wall time, GFLOP/s and the fraction of this machine's sgemm peak measured in the same run\n"
               "at 2048^3 and at the component's main GEMM shape.  --frames: ViT frames per call (default 8).\n"
               "Not measured yet: the Q-Former (qformer is accepted and reported as not measured).\n");
}

int cmd_bench_engine(int argc, char ** argv) {
    if (vb_cli_wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    const char * config = NULL, * comps = "vit,t5enc,t5dec";
    int          threads = 0, reps = 5, layers = 2, frames = 8;
    for (int i = 1; i < argc; i++) {
        const char * v;
        if (vb_cli_opt(argc, argv, &i, "--config", &v)) config = v;
        else if (vb_cli_opt(argc, argv, &i, "--threads", &v)) threads = atoi(v);
        else if (vb_cli_opt(argc, argv, &i, "--reps", &v)) reps = atoi(v);
        else if (vb_cli_opt(argc, argv, &i, "--layers", &v)) layers = atoi(v);
        else if (vb_cli_opt(argc, argv, &i, "--frames", &v)) frames = atoi(v);
        else if (vb_cli_opt(argc, argv, &i, "--components", &v)) comps = v;
        else {
            fprintf(stderr, "bench-engine: unknown argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (!config || reps < 1 || layers < 1 || frames < 1 || frames > 256) {
        usage(stderr);
        return 2;
    }
    struct vb_model_config cfg;
    if (vb_config_load(&cfg, config) != VB_OK) {
        fprintf(stderr, "bench-engine: %s\n", vb_errmsg());
        return 1;
    }
    int nth = vb_blas_set_threads(threads);
    char cpu[128];
    vb_cpu_model(cpu, sizeof cpu);
    int Lv = layers < cfg.vision.layers ? layers : cfg.vision.layers;
    int Lt = layers < cfg.t5.n_enc ? layers : cfg.t5.n_enc;
    if (cfg.t5.n_dec < Lt) Lt = cfg.t5.n_dec;
    printf("bench-engine: config %s\n", config);
    printf("cpu: %s; BLAS: %s (kernel %s), %d threads; median of %d reps\n", cpu, vb_blas_config(), vb_blas_core(), nth,
           reps);
    printf("built %d of %d ViT blocks, %d of %d/%d T5 encoder/decoder blocks (random weights); times scaled to full "
           "depth\n",
           Lv, cfg.vision.layers, Lt, cfg.t5.n_enc, cfg.t5.n_dec);
    double peak = sgemm_gflops(2048, 2048, 2048, reps);
    printf("%-26s %-14s %10.2f ms %8.1f GFLOP/s\n", "sgemm 2048^3 (peak)", "", 2.0 * 2048.0 * 2048 * 2048 / peak / 1e6,
           peak);
    int st = VB_OK;
    if (strstr(comps, "vit")) st = bench_vit(&cfg.vision, Lv, frames, reps, peak);
    if (st == VB_OK && strstr(comps, "qformer")) printf("%-26s not measured (not implemented yet)\n", "qformer");
    if (st == VB_OK && (strstr(comps, "t5enc") || strstr(comps, "t5dec")))
        st = bench_t5(&cfg.t5, Lt, reps, peak, strstr(comps, "t5enc") != NULL, strstr(comps, "t5dec") != NULL);
    if (st != VB_OK) {
        fprintf(stderr, "bench-engine: %s\n", vb_errmsg());
        return 1;
    }
    return 0;
}
