/* cmd_bench_engine.c — `vlapbench bench-engine`: per-component engine speed at the shape of a model config.
**
** Writes a random-weight safetensors file of the config's tensor layout (vb_bundle_tensor_specs; only --layers N
** blocks of the ViT and of each T5 stack, the Q-Former at its full depth), opens it like a bundle and builds every
** component with the real loaders (vb_vit_load, vb_qformer_load + vb_projection_load, vb_t5_load), once per
** --weights dtype (the config's weight_dtype load option).  It runs the real engine code as the methods run it
** (vb_vit_run over a batch of frames; vb_qformer_run over the same batch, query tokens, cross-attention to the 257
** ViT tokens of each frame, InstructBLIP instruction text, then vb_projection_run; vb_t5_encode; vb_t5_decode) and
** prints per component: median wall time (scaled to the full depth when fewer blocks were built, said so), GFLOP/s,
** that rate as a fraction of this machine's sgemm rate at 2048^3 and at the component's own main GEMM shape, both
** measured just before every rep (the fraction is the median over reps of rep rate / its references: a shared
** machine's load drifts within seconds); per dtype the resident bytes of the built weights; then the time ratio of
** every dtype vs f32** measured in the same run, and the process peak RSS.
*/
#include "base/common.h"
#include "engine/attn_small.h"
#include "engine/blas.h"
#include "engine/config.h"
#include "engine/cpu.h"
#include "engine/cuda/cuda.h"
#include "engine/ops.h"
#include "engine/qformer.h"
#include "engine/t5.h"
#include "engine/vit.h"
#include "engine/weights.h"
#include "engine/wmat.h"
#include "harness/bench_peak.h"
#include "harness/cli.h"
#include "harness/kernels.h"
#include "harness/runconfig.h"
#include "methods/bundle.h"

#include <cblas.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double bench_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void * a, const void * b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double * v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static uint64_t g_rng = 0x9E3779B97F4A7C15ull;

/* uniform in offset + scale * [-0.5, 0.5) */
static void rand_fill(float * p, int64_t n, float scale, float offset) {
    for (int64_t i = 0; i < n; i++) {
        g_rng ^= g_rng << 13, g_rng ^= g_rng >> 7, g_rng ^= g_rng << 17;
        p[i] = offset + scale * ((float)(g_rng >> 40) / (float)(1 << 24) - 0.5f);
    }
}

static float * rand_buf(int64_t n, float scale, float offset) {
    float * p = vb_malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
    rand_fill(p, n, scale, offset);
    return p;
}

/* A reference product timed next to every rep of a component (the load of a shared machine drifts within seconds,
** so each rep is compared with the references measured just before it): sgemm C (m, n) = A (m, k) B^T, or for
** k == 0 the GEMV y (m) = A (m, n) x. */
struct ref {
    int64_t m, n, k;
    float * A, *B, *C;
};

static double ref_flop(const struct ref * R) {
    return R->k ? 2.0 * (double)R->m * (double)R->n * (double)R->k : 2.0 * (double)R->m * (double)R->n;
}

/* OpenBLAS's thread count for the references: the engine's (the engine keeps OpenBLAS at one thread itself). */
static int g_ref_threads = 1;

/* The references run OpenBLAS on g_ref_threads threads between refs_open and refs_close; refs_close sets it back to
** one thread and lets its workers stop spinning (vb_blas_settle) before the engine runs again. */
static void refs_open(void) {
    vb_blas_library_threads(g_ref_threads);
}

static void refs_close(void) {
    vb_blas_library_threads(1);
    vb_blas_settle();
}

/* GFLOP/s of one run (between refs_open and refs_close). */
static double ref_gflops(const struct ref * R) {
    double t0 = bench_now();
    if (R->k)
        vb_gemm_nt(R->m, R->n, R->k, 1.0f, R->A, R->k, R->B, R->k, 0.0f, R->C, R->n);
    else
        cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)R->m, (int)R->n, 1.0f, R->A, (int)R->n, R->B, 1, 0.0f, R->C, 1);
    return ref_flop(R) / (bench_now() - t0) / 1e9;
}

/* The two references timed just before a rep: *p2 the sgemm 2048^3 rate, *po the component's own shape. */
static void refs_before_rep(const struct ref * peak, const struct ref * own, double * p2, double * po) {
    refs_open();
    *p2 = ref_gflops(peak);
    *po = ref_gflops(own);
    refs_close();
}

static void ref_init(struct ref * R, int64_t m, int64_t n, int64_t k) {
    R->m = m, R->n = n, R->k = k;
    R->A = rand_buf(m * (k ? k : n), 1, 0);
    R->B = rand_buf(k ? n * k : n, 1, 0);
    R->C = vb_malloc(sizeof(float) * (size_t)(k ? m * n : m));
    refs_open();
    (void)ref_gflops(R); /* warm-up: pages touched, BLAS buffers allocated */
    refs_close();
}

static void ref_free(struct ref * R) {
    free(R->A), free(R->B), free(R->C);
    memset(R, 0, sizeof *R);
}

/* Median GFLOP/s over reps runs. */
static double ref_median_gflops(const struct ref * R, int reps) {
    double * g = vb_malloc(sizeof(double) * (size_t)reps);
    refs_open();
    for (int r = 0; r < reps; r++)
        g[r] = ref_gflops(R);
    refs_close();
    double med = median(g, reps);
    free(g);
    return med;
}

/* ---- FLOP counts (docs/performance.md writes the same formulas) ---- */

/* ViT per frame: every block 2N(4D^2 + 2DI) (qkv, proj, fc1, fc2) + 4N^2 D (scores and weighted sum), plus the
** patch-embedding GEMM 2 * n_patches * 3p^2 * D. */
static double vit_flop(const struct vb_vision_config * v) {
    double N = (double)v->n_tokens, D = v->hidden, Iv = v->intermediate, P = v->patch;
    return (double)v->layers * (2.0 * N * (4.0 * D * D + 2.0 * D * Iv) + 4.0 * N * N * D) +
           2.0 * (double)v->n_patches * 3.0 * P * P * D;
}

/* Q-Former + language projection per frame (Q queries, L text tokens, S = Q + L, N image tokens of width Dv):
**   every layer:   2S*D*4D (q|k|v + attention.output) + 4S^2 D (self-attention) + 4S*D*I (FFN of the query rows
**                  and of the text rows);
**   cross layers:  4Q*D^2 (query + output dense) + 4N*Dv*D (key | value of the image tokens) + 4Q*N*D (attention);
**   projection:    2Q*D*d_model.
** Embeddings and LayerNorms are not counted. */
static double qformer_flop(const struct vb_qformer_config * q, int32_t n_query, int32_t n_text, int32_t n_img,
                           int32_t d_model) {
    double Q = n_query, S = (double)n_query + n_text, N = n_img, D = q->hidden, Iq = q->intermediate,
           Dv = q->encoder_hidden;
    int n_cross = 0;
    for (int32_t l = 0; l < q->layers; l++)
        n_cross += q->cross_freq > 0 && l % q->cross_freq == 0;
    return (double)q->layers * (2.0 * S * D * 4.0 * D + 4.0 * S * S * D + 4.0 * S * D * Iq) +
           (double)n_cross * (4.0 * Q * D * D + 4.0 * N * Dv * D + 4.0 * Q * N * D) + 2.0 * Q * D * d_model;
}

/* T5 encoder over n tokens (full depth): n_enc blocks of 2nd(4 inner + ffw) + 4n^2 inner (ffw = 3 d_ff gated, else
** 2 d_ff), plus the cross K/V of the n_dec decoder blocks (2nd * 2 inner each), which vb_t5_encode computes. */
static double t5enc_flop(const struct vb_t5_config * t, int64_t n) {
    double d = t->d_model, inner = (double)t->heads * t->d_kv, ffw = (double)t->d_ff * (t->gated ? 3 : 2);
    double nn = (double)n;
    return (double)t->n_enc * (2.0 * nn * d * (4.0 * inner + ffw) + 4.0 * nn * nn * inner) +
           (double)t->n_dec * 2.0 * nn * d * 2.0 * inner;
}

/* One cached decoder step: n_dec blocks of 2d(4 inner + ffw) (self q|k|v|o, cross q|o, FFN; cross K/V cached) plus
** the lm_head 2 d vocab (attention over the short cache not counted). */
static double t5dec_flop(const struct vb_t5_config * t) {
    double d = t->d_model, inner = (double)t->heads * t->d_kv, ffw = (double)t->d_ff * (t->gated ? 3 : 2);
    return (double)t->n_dec * 2.0 * d * (4.0 * inner + ffw) + 2.0 * d * t->vocab;
}

/* Bytes of weights one cached decoder step reads: n_dec blocks of d(4 inner + 2 inner + ffw) (self q|k|v|o, cross
** q|o, FFN; the cross K/V are cached) plus the lm_head d x vocab, es bytes each. */
static double t5dec_weight_bytes(const struct vb_t5_config * t, double es) {
    double d = t->d_model, inner = (double)t->heads * t->d_kv, ffw = (double)t->d_ff * (t->gated ? 3 : 2);
    return es * ((double)t->n_dec * d * (6.0 * inner + ffw) + d * (double)t->vocab);
}

/* ---- the random weight file ---- */

static int write_all(FILE * f, const void * p, size_t n, const char * path) {
    if (fwrite(p, 1, n, f) != n) return vb_fail(VB_ERR_IO, "%s: write failed: %s", path, strerror(errno));
    return VB_OK;
}

static int64_t spec_numel(const struct vb_tensor_spec * s) {
    int64_t n = 1;
    for (int32_t i = 0; i < s->ndim; i++)
        n *= s->shape[i];
    return n;
}

/* Which tensors a component set needs (by HF name prefix). */
static int spec_wanted(const char * name, int vit, int qf, int t5) {
    if (!strncmp(name, "vision_model.", 13)) return vit;
    if (!strncmp(name, "language_model.", 15)) return t5;
    if (!strcmp(name, "query_tokens") || !strncmp(name, "qformer.", 8) || !strncmp(name, "language_projection.", 20))
        return qf;
    return 0;
}

/* Stream the tensors of cfg (bf16, uniform values with the spec's standard deviation) into a new temporary
** safetensors file and open it; the file is unlinked at once (the mapping keeps it alive until close). */
static int random_weights(const struct vb_model_config * cfg, int vit, int qf, int t5, struct vb_weights ** out,
                          int64_t * file_bytes) {
    struct vb_tensor_spec * sp = NULL;
    int32_t                 n = 0;
    int                     rc = vb_bundle_tensor_specs(cfg, 0, 0, 0, &sp, &n);
    if (rc != VB_OK) return rc;
    cJSON *  hdr = cJSON_CreateObject();
    uint64_t off = 0;
    for (int32_t i = 0; i < n; i++) {
        if (!spec_wanted(sp[i].name, vit, qf, t5)) continue;
        cJSON * o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "dtype", "BF16");
        cJSON * sh = cJSON_AddArrayToObject(o, "shape");
        for (int32_t d = 0; d < sp[i].ndim; d++)
            cJSON_AddItemToArray(sh, cJSON_CreateNumber((double)sp[i].shape[d]));
        uint64_t nb = (uint64_t)spec_numel(&sp[i]) * 2;
        cJSON *  offs = cJSON_AddArrayToObject(o, "data_offsets");
        cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)off));
        cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)(off + nb)));
        off += nb;
        cJSON_AddItemToObject(hdr, sp[i].name, o);
    }
    char * js = cJSON_PrintUnformatted(hdr);
    cJSON_Delete(hdr);
    const char * tmp = getenv("TMPDIR");
    char         path[4096];
    snprintf(path, sizeof path, "%s/vlapbench-bench-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int    fd = mkstemp(path);
    FILE * f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!f) {
        if (fd >= 0) close(fd), unlink(path);
        free(js), free(sp);
        return vb_fail(VB_ERR_IO, "%s: cannot create the random weight file: %s", path, strerror(errno));
    }
    size_t   jl = strlen(js), pad = (8 - (jl % 8)) % 8;
    uint64_t hl = jl + pad;
    uint8_t  le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (uint8_t)(hl >> (8 * i));
    rc = write_all(f, le, 8, path);
    if (rc == VB_OK) rc = write_all(f, js, jl, path);
    if (rc == VB_OK && pad) rc = write_all(f, "        ", pad, path);
    free(js);
    const int64_t CH = 1 << 20;
    float *       buf = vb_malloc(sizeof(float) * (size_t)CH);
    uint16_t *    hb = vb_malloc(sizeof(uint16_t) * (size_t)CH);
    for (int32_t i = 0; rc == VB_OK && i < n; i++) {
        if (!spec_wanted(sp[i].name, vit, qf, t5)) continue;
        float scale = 0.02f * 3.4641016f, offset = 0; /* uniform of std 0.02 */
        if (sp[i].init == VB_INIT_ONES)
            offset = 1;
        else if (sp[i].init == VB_INIT_LINEAR || sp[i].init == VB_INIT_NORMAL)
            scale = sp[i].scale * 3.4641016f;
        int64_t ne = spec_numel(&sp[i]);
        for (int64_t o = 0; rc == VB_OK && o < ne; o += CH) {
            int64_t m = ne - o < CH ? ne - o : CH;
            rand_fill(buf, m, scale, offset);
            for (int64_t j = 0; j < m; j++)
                hb[j] = vb_f32_to_bf16(buf[j]);
            rc = write_all(f, hb, sizeof(uint16_t) * (size_t)m, path);
        }
    }
    free(buf), free(hb), free(sp);
    if (fclose(f) != 0 && rc == VB_OK) rc = vb_fail(VB_ERR_IO, "%s: close failed: %s", path, strerror(errno));
    if (rc == VB_OK) rc = vb_weights_open(out, path);
    unlink(path);
    *file_bytes = (int64_t)(8 + hl + off);
    return rc;
}

/* ---- results ---- */

enum { C_VIT, C_QF, C_ENC128, C_ENC512, C_DEC, C_N };
static const char * const comp_key[C_N] = {"vit", "qformer", "t5enc128", "t5enc512", "t5dec"};

#define MAX_DT 6 /* variants: weight dtypes x compute modes */

struct bench {
    const struct vb_model_config * full; /* the config as read */
    struct vb_model_config         cfg;  /* the built depths (vision.layers, t5.n_enc / n_dec reduced) */
    struct vb_weights *            w;
    int                            reps, frames, qtext;
    int                            profile; /* --profile: the decoder step's time per op class */
    struct ref                     peak;    /* sgemm 2048^3 */
    int                            n_dt;
    enum vb_dtype                  dt[MAX_DT];
    int                            cm[MAX_DT];         /* compute mode of each variant (vb_wmat_set_compute) */
    char                           label[MAX_DT][16];  /* "f32", "bf16", "f32+bf16c" (weights + compute) */
    struct vb_peak                 pk;                 /* theoretical peak of this machine */
    double                         copy_gbs;           /* STREAM copy bandwidth, GB/s */
    double                         read_gbs;           /* read-only bandwidth (bench_peak.h), GB/s */
    double                         sec[C_N][MAX_DT];   /* full-depth seconds per unit, 0 = not measured */
    double                         bytes[C_N][MAX_DT]; /* resident bytes of the built weights (-1 unknown) */
    double                         frac[C_N][MAX_DT];  /* median fraction of the sgemm 2048^3 rate next to each rep */
};

static const char * dt_name(enum vb_dtype dt) {
    return dt == VB_DT_BF16 ? "bf16" : dt == VB_DT_F16 ? "f16" : "f32";
}

/* The theoretical peak's line: lead, then the product and its factors. */
static void print_peak(const struct vb_peak * pk, const char * lead) {
    printf("%s%d threads x %d FMA/cycle (measured %.2f) x %d lanes x 2 FLOP x %.2f GHz (measured) = %.1f GFLOP/s f32",
           lead, pk->threads, pk->units, pk->fma_units, pk->lanes, pk->ghz, pk->f32_gflops);
    if (pk->bf16_gflops > 0)
        printf("; bf16 (vdpbf16ps, %.1f/cycle x 16 lanes x 2 pairs): %.1f GFLOP/s", pk->dp_units, pk->bf16_gflops);
    if (pk->amx_gflops > 0)
        printf("; bf16 AMX (tdpbf16ps, %.3f/cycle x 8192 multiply-adds): %.1f GFLOP/s", pk->amx_units, pk->amx_gflops);
    printf("\n");
}

/* The bf16-compute peak: AMX where the CPU has it (the bf16 kernel is amx there), else vdpbf16ps (0: neither). */
static double bf16_peak(const struct vb_peak * pk) {
    return pk->amx_gflops > 0 ? pk->amx_gflops : pk->bf16_gflops;
}

/* A rate measured above the theoretical peak (f32: an sgemm reference or an f32 row; bf16: a bf16-compute row)
** means the peak's own measurement was disturbed: measure it again (vb_peak_refine, at most PEAK_RETRIES rounds,
** each after a PEAK_RETRY_MS pause) and print the new line when it rose.  The pauses let a trial fall where the
** core is free: on the 2-vCPU VM the two vCPUs share one core, and while the other runs vector code every trial
** measures half the FMA rate (test_bench_engine failed once with 8 back-to-back rounds, ~0.4 s, beside a
** `make test-asan`: 79.3 against an sgemm of 99.3 GFLOP/s on one thread). */
#define PEAK_RETRIES  40
#define PEAK_RETRY_MS 5
static void peak_check(struct bench * B, double f32_rate, double bf16_rate) {
    double before = B->pk.f32_gflops, before16 = bf16_peak(&B->pk);
    for (int i = 0; i < PEAK_RETRIES; i++) {
        double p16 = bf16_peak(&B->pk);
        if (!(B->pk.f32_gflops > 0 && f32_rate > B->pk.f32_gflops) && !(p16 > 0 && bf16_rate > p16)) break;
        if (i > 0) {
            struct timespec ts = {0, PEAK_RETRY_MS * 1000000L};
            nanosleep(&ts, NULL);
        }
        vb_peak_refine(&B->pk);
    }
    if (B->pk.f32_gflops > before || bf16_peak(&B->pk) > before16)
        print_peak(&B->pk, "theoretical peak re-measured (a rate above it was measured): ");
}

/* One row from n reps: sec[r] the full-depth seconds per unit of rep r, p2[r] / po[r] the sgemm 2048^3 and own-shape
** reference rates measured just before it.  Prints the median time, its GFLOP/s, and the medians over reps of the
** rep's rate as a fraction of its references; returns the median time, *frac2048 the median 2048^3 fraction. */
static double print_row(struct bench * B, int di, const char * name, const char * unit, double * sec, double * p2,
                        double * po, int n, double flop, const char * shape, double * frac2048) {
    double *f2 = vb_malloc(sizeof(double) * (size_t)n), *fo = vb_malloc(sizeof(double) * (size_t)n);
    for (int r = 0; r < n; r++) {
        double gf = flop / sec[r] / 1e9;
        f2[r] = gf / p2[r], fo[r] = gf / po[r];
    }
    double med = median(sec, n), gf = flop / med / 1e9, top2048 = 0;
    *frac2048 = median(f2, n);
    for (int r = 0; r < n; r++)
        top2048 = p2[r] > top2048 ? p2[r] : top2048;
    peak_check(B, B->cm[di] != VB_COMPUTE_BF16 && gf > top2048 ? gf : top2048, B->cm[di] == VB_COMPUTE_BF16 ? gf : 0);
    double peak = B->cm[di] != VB_COMPUTE_BF16 ? B->pk.f32_gflops : bf16_peak(&B->pk);
    printf("%-26s %-9s %-12s %10.2f ms %8.1f GFLOP/s  %5.1f%% of sgemm 2048^3  %5.1f%% of sgemm %s  %5.1f%% of %s "
           "peak\n",
           name, B->label[di], unit, med * 1e3, gf, 100.0 * *frac2048, 100.0 * median(fo, n), shape,
           peak > 0 ? 100.0 * gf / peak : 0.0, B->cm[di] == VB_COMPUTE_BF16 ? "bf16" : "f32");
    printf("    references before each rep: sgemm 2048^3 %.1f GFLOP/s, %s %.1f GFLOP/s (medians)\n", median(p2, n),
           shape, median(po, n));
    free(f2), free(fo);
    return med;
}

/* Heap bytes in use (glibc mallinfo2: main arena + mmapped chunks), -1 elsewhere.  The loaders run on this thread,
** so the growth over a load is the bytes the built weights keep (every copy and conversion, whatever the struct
** layout); the mapped file is not counted (its pages are dropped after reading: vb_weights_drop_pages). */
static double heap_bytes(void) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    struct mallinfo2 mi = mallinfo2();
    return (double)mi.uordblks + (double)mi.hblkhd;
#else
    return -1;
#endif
}

struct mem_mark {
    double  heap;
    int64_t rss_kb;
};

static struct mem_mark mem_mark(void) {
    struct mem_mark m = {heap_bytes(), vb_rss_current_kb()};
    return m;
}

/* Resident bytes since mark m: the heap growth when known, else the RSS growth. */
static double mem_since(struct mem_mark m) {
    double h = heap_bytes();
    if (m.heap >= 0 && h >= 0) return h - m.heap;
    int64_t kb = vb_rss_current_kb();
    return m.rss_kb < 0 || kb < 0 ? -1 : 1024.0 * (double)(kb - m.rss_kb);
}

/* exact: the engine's count of the built weights; heap: the allocator's growth over the load (a cross-check) */
static void print_resident(double exact, double heap, const char * what) {
    printf("    resident weights: %.1f MB%s%s", exact / 1e6, *what ? " " : "", what);
    if (heap >= 0) printf("; heap growth over the load %.1f MB", heap / 1e6);
    printf("\n");
}

/* ---- ViT ---- */
static int bench_vit(struct bench * B, int di, const struct ref * own) {
    const struct vb_vision_config * full = &B->full->vision;
    struct vb_vision_config         vc = B->cfg.vision;
    vc.weight_dtype = (int32_t)B->dt[di];
    if (vb_wmat_set_compute(B->cm[di]) != VB_OK) return VB_ERR_UNSUPPORTED;
    int             L = vc.layers, F = B->frames;
    struct vb_vit * m = NULL;
    struct mem_mark mk = mem_mark();
    int             st = vb_vit_load(&m, B->w, &vc, "vision_model.");
    if (st != VB_OK) return st;
    double heap = mem_since(mk);
    B->bytes[C_VIT][di] = (double)vb_vit_resident_bytes(m);
    struct vb_vit_ctx * c = NULL;
    st = vb_vit_ctx_new(&c, m, F);
    if (st == VB_OK) {
        int64_t S = vc.image_size, N = m->cfg.n_tokens, D = vc.hidden;
        float * px = rand_buf((int64_t)F * 3 * S * S, 2, 0);
        float * ln = vb_malloc(sizeof(float) * (size_t)(F * N * D));
        double *t = vb_malloc(sizeof(double) * 3 * (size_t)B->reps), *p2 = t + B->reps, *po = p2 + B->reps;
        st = vb_vit_run(c, px, F, NULL, NULL, NULL, ln); /* warm-up */
        for (int r = 0; r < B->reps && st == VB_OK; r++) {
            refs_before_rep(&B->peak, own, &p2[r], &po[r]);
            double t0 = bench_now();
            st = vb_vit_run(c, px, F, NULL, NULL, NULL, ln);
            /* scale the blocks to the full depth: time(L) = embed + L * block; embed is small, kept once */
            t[r] = (bench_now() - t0) / F * (double)full->layers / L;
        }
        if (st == VB_OK) {
            char name[64], shape[64];
            snprintf(shape, sizeof shape, "%lldx%lldx%lld", (long long)(F * N), (long long)vc.intermediate,
                     (long long)D);
            snprintf(name, sizeof name, "vit (%d-frame batch)", F);
            double sec =
                print_row(B, di, name, "per frame", t, p2, po, B->reps, vit_flop(full), shape, &B->frac[C_VIT][di]);
            double per_frame = sec * L / (double)full->layers;
            printf("    measured %d of %d blocks: %.2f ms per frame for %d blocks, scaled x%.2f\n", L, full->layers,
                   per_frame * 1e3, L, (double)full->layers / L);
            printf("    FLOP per frame (full depth): %.0f\n", vit_flop(full));
            print_resident(B->bytes[C_VIT][di], heap, "");
            B->sec[C_VIT][di] = sec;
        }
        free(px), free(ln), free(t);
    }
    vb_vit_ctx_free(c);
    vb_vit_free(m);
    return st;
}

/* ---- Q-Former + language projection, as the methods run it (one call over all frames of the batch) ---- */
static int bench_qformer(struct bench * B, int di, const struct ref * own) {
    struct vb_qformer_config qc = B->cfg.qformer;
    qc.weight_dtype = (int32_t)B->dt[di];
    if (vb_wmat_set_compute(B->cm[di]) != VB_OK) return VB_ERR_UNSUPPORTED;
    const int32_t       Q = B->cfg.num_query_tokens, F = B->frames, N = B->cfg.vision.n_tokens, Dm = B->cfg.t5.d_model;
    const int32_t       Lt = qc.has_text ? B->qtext : 0;
    struct vb_qformer * m = NULL;
    struct vb_projection * p = NULL;
    struct mem_mark        mk = mem_mark();
    int                    st = vb_qformer_load(&m, B->w, &qc, Q, "");
    double                 heap_qf = mem_since(mk);
    struct mem_mark        mp = mem_mark();
    if (st == VB_OK) st = vb_projection_load(&p, B->w, "language_projection", qc.hidden, Dm);
    if (st == VB_OK && qc.device == VB_DEVICE_CUDA) st = vb_projection_to_device(p);
    if (st != VB_OK) {
        vb_projection_free(p);
        vb_qformer_free(m);
        return st;
    }
    double heap_proj = mem_since(mp), heap = heap_qf >= 0 && heap_proj >= 0 ? heap_qf + heap_proj : -1;
    /* the projection (d_model x hidden, small) is not a vb_qformer: its heap growth is its resident size */
    B->bytes[C_QF][di] = (double)vb_qformer_resident_bytes(m) + (heap_proj > 0 ? heap_proj : 0);
    struct vb_qformer_ctx * c = NULL;
    st = vb_qformer_ctx_new(&c, m, F, Lt, N);
    if (st == VB_OK) {
        int64_t   D = qc.hidden;
        float *   img = rand_buf((int64_t)F * N * qc.encoder_hidden, 3.4f, 0); /* ~ LayerNorm output */
        float *   qout = vb_malloc(sizeof(float) * (size_t)((int64_t)F * Q * D));
        float *   proj = vb_malloc(sizeof(float) * (size_t)((int64_t)F * Q * Dm));
        int32_t * ids = vb_malloc(sizeof(int32_t) * (size_t)(F * Lt + 1));
        for (int64_t i = 0; i < (int64_t)F * Lt; i++)
            ids[i] = (int32_t)((i * 7919 + 101) % qc.vocab);
        double *t = vb_malloc(sizeof(double) * 3 * (size_t)B->reps), *p2 = t + B->reps, *po = p2 + B->reps;
        for (int r = -1; r < B->reps && st == VB_OK; r++) { /* r == -1: warm-up */
            if (r >= 0) refs_before_rep(&B->peak, own, &p2[r], &po[r]);
            double t0 = bench_now();
            st = vb_qformer_run(c, img, F, N, Lt ? ids : NULL, NULL, Lt, qout, NULL, NULL, NULL);
            if (st == VB_OK) st = vb_projection_run(p, qout, (int64_t)F * Q, proj);
            if (r >= 0) t[r] = (bench_now() - t0) / F;
        }
        if (st == VB_OK) {
            char name[64], shape[64];
            snprintf(shape, sizeof shape, "%lldx%lldx%lld", (long long)F * N, (long long)(2 * D),
                     (long long)qc.encoder_hidden);
            if (Lt)
                snprintf(name, sizeof name, "qformer (%d-frame, %d text)", F, Lt);
            else
                snprintf(name, sizeof name, "qformer (%d-frame batch)", F);
            double sec = print_row(B, di, name, "per frame", t, p2, po, B->reps, qformer_flop(&qc, Q, Lt, N, Dm), shape,
                                   &B->frac[C_QF][di]);
            printf("    %d layers (full depth), %d queries, %d text tokens, cross-attention over %d image tokens, "
                   "+ language projection %lld -> %d\n",
                   qc.layers, Q, Lt, N, (long long)D, Dm);
            printf("    FLOP per frame: %.0f\n", qformer_flop(&qc, Q, Lt, N, Dm));
            print_resident(B->bytes[C_QF][di], heap, "(with the language projection)");
            B->sec[C_QF][di] = sec;
        }
        free(img), free(qout), free(proj), free(ids), free(t);
    }
    vb_qformer_ctx_free(c);
    vb_projection_free(p);
    vb_qformer_free(m);
    return st;
}

/* ---- T5 ---- */

/* --profile: `steps` decoder steps from an empty cache with the lm_head, profiled per op class (vb_t5_profile_*):
** per class the wall ms per step of the L built blocks and at full depth (blocks scaled by n_dec / L), the share of
** the step, the calls per step and the weight bytes read per second of the class. */
static int profile_dec(struct vb_t5_ctx * c, float * logits, int64_t steps, int L, int n_dec) {
    int st = VB_OK;
    vb_t5_reset_decoder(c);
    struct vb_t5_profile P;
    vb_t5_profile_start();
    for (int64_t s = 0; s < steps && st == VB_OK; s++) {
        int32_t id = (int32_t)s;
        st = vb_t5_decode(c, &id, 1, logits, NULL, NULL);
    }
    vb_t5_profile_stop(&P);
    if (st != VB_OK) return st;
    double tot = 0, full = 0;
    for (int i = 0; i < VB_T5_PROF_N; i++) {
        double sc = i == VB_T5_PROF_EMBED || i == VB_T5_PROF_HEAD ? 1.0 : (double)n_dec / L;
        tot += P.sec[i], full += P.sec[i] * sc;
    }
    printf("    profile (--profile, %lld steps with logits; ms per step): %.2f ms measured, %.1f ms at full depth\n",
           (long long)steps, tot / (double)steps * 1e3, full / (double)steps * 1e3);
    printf("      %-32s %9s %9s %7s %7s %9s\n", "class", "measured", "full", "share", "calls", "GB/s");
    for (int i = 0; i < VB_T5_PROF_N; i++) {
        double sc = i == VB_T5_PROF_EMBED || i == VB_T5_PROF_HEAD ? 1.0 : (double)n_dec / L;
        double ms = P.sec[i] / (double)steps * 1e3;
        printf("      %-32s %9.3f %9.2f %6.1f%% %7.1f", P.name[i], ms, ms * sc,
               full > 0 ? 100.0 * P.sec[i] * sc / full : 0.0, (double)P.calls[i] / (double)steps);
        if (P.bytes[i] > 0 && P.sec[i] > 0)
            printf(" %9.1f\n", P.bytes[i] / P.sec[i] / 1e9);
        else
            printf(" %9s\n", "-");
    }
    return VB_OK;
}
static int bench_t5(struct bench * B, int di, int do_enc, int do_dec, const struct ref * own_enc,
                    const struct ref * own_dec) {
    const struct vb_t5_config * full = &B->full->t5;
    struct vb_t5_config         tc = B->cfg.t5;
    tc.weight_dtype = (int32_t)B->dt[di];
    if (vb_wmat_set_compute(B->cm[di]) != VB_OK) return VB_ERR_UNSUPPORTED;
    int                  L = tc.n_enc, reps = B->reps;
    struct vb_t5_model * m = NULL;
    struct mem_mark      mk = mem_mark();
    int                  st = vb_t5_load(&m, B->w, "language_model.", &tc);
    if (st != VB_OK) return st;
    double heap = mem_since(mk), bytes = (double)vb_t5_resident_bytes(m);
    B->bytes[C_ENC128][di] = B->bytes[C_ENC512][di] = B->bytes[C_DEC][di] = bytes;
    int64_t              d = tc.d_model, V = tc.vocab;
    double *             t = vb_malloc(sizeof(double) * 3 * (size_t)reps), *p2 = t + reps, *po = p2 + reps;
    static const int64_t lens[2] = {128, 512};
    for (int li = 0; li < 2 && do_enc && st == VB_OK; li++) {
        int64_t            n = lens[li];
        struct vb_t5_ctx * c = NULL;
        st = vb_t5_ctx_new(&c, m, n, 8);
        if (st != VB_OK) break;
        float * emb = rand_buf(n * d, 0.5f, 0);
        st = vb_t5_encode(c, emb, NULL, n, NULL);
        for (int r = 0; r < reps && st == VB_OK; r++) {
            refs_before_rep(&B->peak, &own_enc[li], &p2[r], &po[r]);
            double t0 = bench_now();
            st = vb_t5_encode(c, emb, NULL, n, NULL);
            t[r] = (bench_now() - t0) * (double)full->n_enc / L; /* enc + cross K/V scale alike */
        }
        if (st == VB_OK) {
            char name[64], shape[64];
            snprintf(name, sizeof name, "t5enc %lld tokens", (long long)n);
            int64_t fn = tc.d_ff * (tc.gated ? 2 : 1);
            snprintf(shape, sizeof shape, "%lldx%lldx%lld", (long long)n, (long long)fn, (long long)d);
            double sec = print_row(B, di, name, "per sequence", t, p2, po, reps, t5enc_flop(full, n), shape,
                                   &B->frac[C_ENC128 + li][di]);
            printf("    measured %d of %d blocks (+ cross K/V of %d of %d decoder blocks): %.2f ms, scaled x%.2f\n", L,
                   full->n_enc, L, full->n_dec, sec * L / (double)full->n_enc * 1e3, (double)full->n_enc / L);
            printf("    FLOP per sequence (full depth): %.0f\n", t5enc_flop(full, n));
            B->sec[C_ENC128 + li][di] = sec;
        }
        free(emb);
        vb_t5_ctx_free(c);
    }
    if (do_dec && st == VB_OK) {
        int64_t            n = 64, steps = 16;
        struct vb_t5_ctx * c = NULL;
        st = vb_t5_ctx_new(&c, m, n, steps + 1);
        float * emb = st == VB_OK ? rand_buf(n * d, 0.5f, 0) : NULL;
        float * logits = vb_malloc(sizeof(float) * (size_t)V);
        if (st == VB_OK) st = vb_t5_encode(c, emb, NULL, n, NULL);
        /* every step of `steps` from an empty cache, timed twice per rep: with the lm_head (logits) and without
        ** (the blocks and the final norm only); per rep: head = the difference of the two medians, full-depth step =
        ** head + blocks scaled */
        double *tw = vb_malloc(sizeof(double) * (size_t)steps), *tb = vb_malloc(sizeof(double) * (size_t)steps);
        double  with = 0, head = 0;
        /* the copy bandwidth is measured again just before every rep, like the sgemm references: on a shared
        ** machine it moves with the other jobs' memory traffic (13-36 GB/s within minutes on the 2-core VM) */
        double *cb = vb_malloc(sizeof(double) * (size_t)reps), *rb = vb_malloc(sizeof(double) * (size_t)reps);
        for (int r = -1; r < reps && st == VB_OK; r++) { /* r == -1: warm-up */
            if (r >= 0) {
                refs_before_rep(&B->peak, own_dec, &p2[r], &po[r]);
                cb[r] = vb_copy_bandwidth_gbs((size_t)256 << 20);
                rb[r] = vb_read_bandwidth_gbs((size_t)256 << 20);
            }
            for (int w_ = 0; w_ < 2 && st == VB_OK; w_++) {
                vb_t5_reset_decoder(c);
                for (int64_t s = 0; s < steps && st == VB_OK; s++) {
                    int32_t id = (int32_t)(s % V);
                    double  t0 = bench_now();
                    st = vb_t5_decode(c, &id, 1, w_ ? logits : NULL, NULL, NULL);
                    (w_ ? tw : tb)[s] = bench_now() - t0;
                }
            }
            if (r < 0 || st != VB_OK) continue;
            double wr = median(tw, (int)steps), br = median(tb, (int)steps), hr = wr > br ? wr - br : 0;
            t[r] = hr + br * (double)full->n_dec / L;
            with += wr / reps, head += hr / reps;
        }
        if (st == VB_OK) {
            double   sec = print_row(B, di, "t5dec step (cached)", "per token", t, p2, po, reps, t5dec_flop(full),
                                     "lm_head gemv", &B->frac[C_DEC][di]);
            double   wb = t5dec_weight_bytes(full, B->dt[di] == VB_DT_F32 ? 4 : 2);
            double * fr = vb_malloc(sizeof(double) * (size_t)reps);
            for (int r = 0; r < reps; r++)
                fr[r] = wb / t[r] / 1e9 / cb[r];
            double fmed = median(fr, reps), cmed = median(cb, reps);
            printf("    weights read per step (full depth): %.1f MB -> %.1f GB/s = %.1f%% of the copy bandwidth "
                   "(%.1f GB/s at the start)\n",
                   wb / 1e6, wb / sec / 1e9, B->copy_gbs > 0 ? 100.0 * wb / sec / 1e9 / B->copy_gbs : 0.0, B->copy_gbs);
            printf("    copy bandwidth just before each rep: median %.1f GB/s (", cmed);
            for (int r = 0; r < reps; r++)
                printf("%s%.1f", r ? ", " : "", cb[r]);
            printf("); per rep weights GB/s / copy GB/s: median %.1f%% (", 100.0 * fmed);
            for (int r = 0; r < reps; r++)
                printf("%s%.1f", r ? ", " : "", 100.0 * fr[r]);
            printf(")\n");
            for (int r = 0; r < reps; r++)
                fr[r] = wb / t[r] / 1e9 / rb[r];
            fmed = median(fr, reps);
            printf("    read-only bandwidth just before each rep: median %.1f GB/s (", median(rb, reps));
            for (int r = 0; r < reps; r++)
                printf("%s%.1f", r ? ", " : "", rb[r]);
            printf("); per rep weights GB/s / read GB/s: median %.1f%% (", 100.0 * fmed);
            for (int r = 0; r < reps; r++)
                printf("%s%.1f", r ? ", " : "", 100.0 * fr[r]);
            printf(")\n");
            free(fr);
            printf("    measured %d of %d blocks + lm_head: %.2f ms (lm_head %.2f ms = with - without logits; means "
                   "over reps), blocks scaled x%.2f\n",
                   L, full->n_dec, with * 1e3, head * 1e3, (double)full->n_dec / L);
            printf("    FLOP per token (full depth): %.0f\n", t5dec_flop(full));
            B->sec[C_DEC][di] = sec;
        }
        if (st == VB_OK && B->profile) st = profile_dec(c, logits, steps, L, full->n_dec);
        free(tw), free(tb), free(cb), free(rb), free(emb), free(logits);
        vb_t5_ctx_free(c);
    }
    print_resident(bytes, heap, "(shared embedding, lm_head, the built encoder and decoder blocks)");
    free(t);
    vb_t5_free(m);
    return st;
}

static void usage(FILE * f) {
    fprintf(
        f,
        "usage: vlapbench bench-engine --config CONFIG.json [--threads N] [--reps N] [--layers N] [--frames N]\n"
        "                              [--components vit,qformer,t5enc,t5dec] [--weights f32|bf16|f16[,...]]\n"
        "                              [--qformer-text N] [--compute f32|bf16[,...]] [--device cpu|cuda] [--profile]\n"
        "Writes a random-weight file of the config's layout (only --layers N blocks of the ViT and of each T5\n"
        "stack, default 2; the Q-Former at full depth), builds the components with the real loaders and prints\n"
        "per component the median wall time (scaled to the full depth, stated in the output), GFLOP/s and the\n"
        "fraction of this machine's sgemm rate at 2048^3 and at the component's main GEMM shape, both measured\n"
        "just before every rep (median over reps of the per-rep fraction).  --frames: frames per ViT / Q-Former\n"
        "call (default 8; the methods batch their frames the same way).  --qformer-text: instruction tokens per\n"
        "frame for an InstructBLIP Q-Former (default 32).\n"
        "--weights: resident weight dtype(s) (the config's weight_dtype load option; default f32); with more than\n"
        "one, each component is built and timed once per dtype, back to back, and the time ratio vs f32 (the\n"
        "speed cost of the scheme) is printed with the resident bytes of the built weights and the peak RSS.\n"
        "--compute: the engine's compute mode(s) (default f32; bf16 needs AVX512_BF16): every weight dtype is timed\n"
        "in every mode (rows labelled +bf16c).  Also printed: the theoretical peak (threads x FMA units x lanes x\n"
        "2 x clock, units and clock measured: the highest of five rounds, measured again when a rate above it is\n"
        "seen; each row's rate as a fraction of it) and, for the decoder step, the weights read per second against\n"
        "the measured copy bandwidth.\n"
        "--profile: after the decoder step's reps, 16 more steps profiled per op class (norms, each product with\n"
        "the GB/s of its weights, the attention over the cache and over the encoder K/V, the lm_head), in ms per\n"
        "step measured and at full depth.\n");
}

static int parse_computes(const char * s, int * cm, int * n) {
    *n = 0;
    char buf[32];
    snprintf(buf, sizeof buf, "%s", s);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int m;
        if (*n == 2 || vb_wmat_compute_parse(t, &m) != VB_OK) return -1;
        for (int i = 0; i < *n; i++)
            if (cm[i] == m) return -1;
        cm[(*n)++] = m;
    }
    return *n > 0 ? 0 : -1;
}

static int parse_dtypes(const char * s, enum vb_dtype * dt, int * n) {
    *n = 0;
    while (*s) {
        const char * e = strchr(s, ',');
        size_t       len = e ? (size_t)(e - s) : strlen(s);
        char         name[8];
        int32_t      d;
        if (len >= sizeof name) return -1;
        memcpy(name, s, len);
        name[len] = 0;
        if (vb_runconfig_weight_dtype(name, &d) != VB_OK) return -1; /* the names of run / answer --weights */
        for (int i = 0; i < *n; i++)
            if (dt[i] == (enum vb_dtype)d) return -1;
        if (*n == MAX_DT) return -1;
        dt[(*n)++] = (enum vb_dtype)d;
        s += len;
        if (*s == ',') s++;
    }
    return *n > 0 ? 0 : -1;
}

int cmd_bench_engine(int argc, char ** argv) {
    if (vb_cli_wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    const char * config = NULL, *comps = "vit,qformer,t5enc,t5dec", *weights = "f32", *computes = "f32";
    const char * device = "cpu";
    int          threads = 0, reps = 5, layers = 2, frames = 8, qtext = 32, B_profile = 0;
    for (int i = 1; i < argc; i++) {
        const char * v;
        if (vb_cli_opt(argc, argv, &i, "--config", &v))
            config = v;
        else if (vb_cli_opt(argc, argv, &i, "--threads", &v))
            threads = atoi(v);
        else if (vb_cli_opt(argc, argv, &i, "--reps", &v))
            reps = atoi(v);
        else if (vb_cli_opt(argc, argv, &i, "--layers", &v))
            layers = atoi(v);
        else if (vb_cli_opt(argc, argv, &i, "--frames", &v))
            frames = atoi(v);
        else if (vb_cli_opt(argc, argv, &i, "--components", &v))
            comps = v;
        else if (vb_cli_opt(argc, argv, &i, "--weights", &v))
            weights = v;
        else if (vb_cli_opt(argc, argv, &i, "--compute", &v))
            computes = v;
        else if (vb_cli_opt(argc, argv, &i, "--qformer-text", &v))
            qtext = atoi(v);
        else if (vb_cli_opt(argc, argv, &i, "--device", &v))
            device = v; /* cpu | cuda (CUDA: docs/cuda.md) */
        else if (strcmp(argv[i], "--profile") == 0)
            B_profile = 1;
        else {
            fprintf(stderr, "bench-engine: unknown argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    int cuda = 0, drc = vb_cli_device("bench-engine", device, &cuda);
    if (drc != 0) return drc;
    struct bench B;
    memset(&B, 0, sizeof B);
    enum vb_dtype wdt[3];
    int           n_w = 0, cms[2], n_c = 0;
    if (!config || reps < 1 || layers < 1 || frames < 1 || frames > 256 || qtext < 0 ||
        parse_dtypes(weights, wdt, &n_w) != 0 || parse_computes(computes, cms, &n_c) != 0) {
        usage(stderr);
        return 2;
    }
    for (int c = 0; c < n_c; c++) /* bf16 compute on a CPU without AVX512_BF16: refused here, before any work */
        if (vb_wmat_set_compute(cms[c]) != VB_OK) {
            fprintf(stderr, "bench-engine: %s\n", vb_errmsg());
            return 2;
        }
    vb_wmat_set_compute(VB_COMPUTE_F32);
    for (int c = 0; c < n_c; c++) /* variants: every weight dtype in every compute mode */
        for (int w = 0; w < n_w; w++, B.n_dt++) {
            B.dt[B.n_dt] = wdt[w], B.cm[B.n_dt] = cms[c];
            snprintf(B.label[B.n_dt], sizeof B.label[0], "%s%s", dt_name(wdt[w]),
                     cms[c] == VB_COMPUTE_BF16 ? "+bf16c" : "");
        }
    struct vb_model_config cfg;
    if (vb_config_load(&cfg, config) != VB_OK) {
        fprintf(stderr, "bench-engine: %s\n", vb_errmsg());
        return 1;
    }
    if (qtext > cfg.qformer.max_pos) qtext = cfg.qformer.max_pos;
    int do_vit = strstr(comps, "vit") != NULL, do_qf = strstr(comps, "qformer") != NULL;
    int do_enc = strstr(comps, "t5enc") != NULL, do_dec = strstr(comps, "t5dec") != NULL;
    B.full = &cfg;
    B.cfg = cfg;
    B.reps = reps, B.frames = frames, B.qtext = qtext, B.profile = B_profile;
    int Lv = layers < cfg.vision.layers ? layers : cfg.vision.layers;
    int Lt = layers < cfg.t5.n_enc ? layers : cfg.t5.n_enc;
    if (cfg.t5.n_dec < Lt) Lt = cfg.t5.n_dec;
    B.cfg.vision.layers = Lv;
    B.cfg.t5.n_enc = B.cfg.t5.n_dec = Lt;
    B.cfg.vision.device = B.cfg.qformer.device = B.cfg.t5.device = cuda ? VB_DEVICE_CUDA : VB_DEVICE_CPU;

    int nth = vb_blas_set_threads(threads);
    g_ref_threads = nth;
    char cpu[128];
    vb_cpu_model(cpu, sizeof cpu);
    printf("bench-engine: config %s\n", config);
    if (cuda) {
        struct vb_cuda_info ci;
        char                gd[512];
        vb_cuda_query(&ci);
        vb_cuda_describe(&ci, gd, sizeof gd);
        printf("device: cuda (%s): the models run on the GPU; the fractions below are of this CPU's sgemm rate, not "
               "the GPU's (test_cuda --rate gives the cuBLASLt rate)\n",
               gd);
    }
    const char * best = vb_blas_cpu_best_core();
    const char * from = getenv("VB_BLAS_REEXEC");
    printf("cpu: %s; BLAS: %s (kernel %s%s%s; best for this CPU: %s), %d threads; median of %d reps\n", cpu,
           vb_blas_config(), vb_blas_core(), from ? ", corrected from " : "", from ? from : "", best ? best : "none",
           nth, reps);
    if (vb_cpu_disabled()[0]) /* the figures are those of another CPU class's code (engine/cpu.h) */
        printf("VB_CPU_DISABLE: %s taken away from the engine, its peak loops and OpenBLAS\n", vb_cpu_disabled());
    const char *k32, *a32, *k16 = NULL, *a16 = NULL;
    vb_kernels_of(VB_COMPUTE_F32, &k32, &a32);
    if (n_c > 1 || cms[0] == VB_COMPUTE_BF16) /* the bf16 kernels this CPU gets (checked above) */
        vb_kernels_of(VB_COMPUTE_BF16, &k16, &a16);
    printf("engine GEMM kernel: %s (f32 compute)%s%s%s\n", k32, k16 ? "; " : "", k16 ? k16 : "",
           k16 ? " for the +bf16c variants" : "");
    printf("attention kernel: %s (f32 compute)", a32);
    if (a16) {
        printf("; %s for the +bf16c variants", a16);
        if (!strcmp(a16, "amx")) printf(" (pairs of %d x %d tokens and more)", VB_ATTN_AMX_MIN, VB_ATTN_AMX_MIN);
    }
    printf("\n");
    vb_peak_measure(&B.pk, nth);
    print_peak(&B.pk, "theoretical peak: ");
    if (do_dec) {
        B.copy_gbs = vb_copy_bandwidth_gbs((size_t)256 << 20);
        printf("copy bandwidth: %.1f GB/s (memcpy of 256 MB over %d threads, best of 5, read + written bytes as "
               "STREAM counts them)\n",
               B.copy_gbs, nth);
        B.read_gbs = vb_read_bandwidth_gbs((size_t)256 << 20);
        printf("read-only bandwidth: %.1f GB/s (a sum over 256 MB split over %d threads, 64-byte loads, prefetch 4 KB "
               "ahead, best of 5: the most a weight stream can reach; %.0f%% of the copy bandwidth)\n",
               B.read_gbs, nth, B.copy_gbs > 0 ? 100.0 * B.read_gbs / B.copy_gbs : 0.0);
    }
    printf("built %d of %d ViT blocks, %d of %d/%d T5 encoder/decoder blocks, %d of %d Q-Former layers (random "
           "weights); times scaled to full depth\n",
           Lv, cfg.vision.layers, Lt, cfg.t5.n_enc, cfg.t5.n_dec, cfg.qformer.layers, cfg.qformer.layers);
    int64_t file_bytes = 0;
    int     st = random_weights(&B.cfg, do_vit, do_qf, do_enc || do_dec, &B.w, &file_bytes);
    if (st != VB_OK) {
        fprintf(stderr, "bench-engine: %s\n", vb_errmsg());
        return 1;
    }
    printf("random weights: %.1f MB bf16 file (unlinked temporary); resident weights: ", (double)file_bytes / 1e6);
    for (int i = 0; i < B.n_dt; i++)
        printf("%s%s", i ? ", " : "", B.label[i]);
    printf("\n");
    ref_init(&B.peak, 2048, 2048, 2048);
    double pk2048 = ref_median_gflops(&B.peak, reps);
    printf("%-26s %-4s %-12s %10.2f ms %8.1f GFLOP/s\n", "sgemm 2048^3 (peak)", "f32", "",
           ref_flop(&B.peak) / pk2048 / 1e6, pk2048);
    peak_check(&B, pk2048, 0);

    /* each component: its own-shape reference, then every dtype back to back (same-run ratios) */
    if (do_vit) {
        struct ref own;
        ref_init(&own, (int64_t)frames * cfg.vision.n_tokens, cfg.vision.intermediate, cfg.vision.hidden);
        for (int i = 0; i < B.n_dt && st == VB_OK; i++)
            st = bench_vit(&B, i, &own);
        ref_free(&own);
    }
    if (st == VB_OK && do_qf) {
        struct ref own;
        ref_init(&own, (int64_t)frames * cfg.vision.n_tokens, 2 * cfg.qformer.hidden, cfg.qformer.encoder_hidden);
        for (int i = 0; i < B.n_dt && st == VB_OK; i++)
            st = bench_qformer(&B, i, &own);
        ref_free(&own);
    }
    if (st == VB_OK && (do_enc || do_dec)) {
        int64_t    fn = (int64_t)cfg.t5.d_ff * (cfg.t5.gated ? 2 : 1);
        struct ref own_enc[2], own_dec;
        memset(own_enc, 0, sizeof own_enc), memset(&own_dec, 0, sizeof own_dec);
        if (do_enc) ref_init(&own_enc[0], 128, fn, cfg.t5.d_model), ref_init(&own_enc[1], 512, fn, cfg.t5.d_model);
        if (do_dec) ref_init(&own_dec, cfg.t5.vocab, cfg.t5.d_model, 0);
        for (int i = 0; i < B.n_dt && st == VB_OK; i++)
            st = bench_t5(&B, i, do_enc, do_dec, own_enc, &own_dec);
        ref_free(&own_enc[0]), ref_free(&own_enc[1]), ref_free(&own_dec);
    }
    ref_free(&B.peak);
    vb_weights_close(B.w);
    if (st != VB_OK) {
        fprintf(stderr, "bench-engine: %s\n", vb_errmsg());
        return 1;
    }
    /* speed cost of the resident dtype: time / time of the reference dtype (f32 when measured, else the first) */
    int ref = 0;
    for (int i = 0; i < B.n_dt; i++)
        if (B.dt[i] == VB_DT_F32 && B.cm[i] == VB_COMPUTE_F32) ref = i;
    printf("\nspeed cost of the weight dtype (time / %s time, measured in this run; 'norm': the same ratio normalised "
           "by the sgemm 2048^3 rate timed next to each rep, = %s fraction / dtype fraction, robust to a load change "
           "between the builds):\n",
           B.label[ref], B.label[ref]);
    printf("%-10s", "component");
    for (int i = 0; i < B.n_dt; i++)
        printf(" %9s_ms", B.label[i]);
    for (int i = 0; i < B.n_dt; i++)
        printf(" %8s/%s", B.label[i], B.label[ref]);
    for (int i = 0; i < B.n_dt; i++)
        printf(" %9s_MB", B.label[i]);
    for (int i = 0; i < B.n_dt; i++)
        if (i != ref) printf(" %11s_norm", B.label[i]);
    printf("\n");
    for (int c = 0; c < C_N; c++) {
        if (B.sec[c][ref] <= 0) continue;
        printf("%-10s", comp_key[c]);
        for (int i = 0; i < B.n_dt; i++)
            printf(" %12.2f", B.sec[c][i] * 1e3);
        for (int i = 0; i < B.n_dt; i++)
            printf(" %12.3f", B.sec[c][i] / B.sec[c][ref]);
        for (int i = 0; i < B.n_dt; i++)
            printf(" %12.1f", B.bytes[c][i] / 1e6);
        for (int i = 0; i < B.n_dt; i++)
            if (i != ref) printf(" %16.3f", B.frac[c][i] > 0 ? B.frac[c][ref] / B.frac[c][i] : 0.0);
        printf("\n");
    }
    int64_t pk = vb_rss_peak_kb();
    printf("peak RSS: %.1f MB (VmHWM of this process)\n", pk >= 0 ? (double)pk / 1024.0 : -1.0);
    return 0;
}
