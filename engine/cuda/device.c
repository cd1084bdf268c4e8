/* device.c — CUDA device detection, the context (stream, cuBLASLt loaded at run time), device memory and events. */
#include "engine/cuda/internal.h"

#include "base/common.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#ifndef VB_CUDA_LIBDIR
#define VB_CUDA_LIBDIR "/usr/local/cuda/lib64"
#endif

const struct vb_cublaslt * vb_cublaslt_;

int vb_cuda_built(void) {
    return 1;
}

int vb_cuda_check_(cudaError_t e, const char * what) {
    if (e == cudaSuccess) return VB_OK;
    int st = e == cudaErrorMemoryAllocation          ? VB_ERR_NOMEM
             : e == cudaErrorInvalidValue            ? VB_ERR_ARG
             : e == cudaErrorNoDevice                ? VB_ERR_UNSUPPORTED
             : e == cudaErrorInsufficientDriver      ? VB_ERR_UNSUPPORTED
             : e == cudaErrorNoKernelImageForDevice  ? VB_ERR_UNSUPPORTED
             : e == cudaErrorUnsupportedPtxVersion   ? VB_ERR_UNSUPPORTED
             : e == cudaErrorCallRequiresNewerDriver ? VB_ERR_UNSUPPORTED
                                                     : VB_ERR_IO;
    return vb_fail(st, "cuda: %s: %s (%s)", what, cudaGetErrorName(e), cudaGetErrorString(e));
}

int vb_cublaslt_check_(cublasStatus_t s, const char * what) {
    if (s == CUBLAS_STATUS_SUCCESS) return VB_OK;
    const char * name = vb_cublaslt_ && vb_cublaslt_->status_name ? vb_cublaslt_->status_name(s) : NULL;
    int          st = s == CUBLAS_STATUS_ALLOC_FAILED    ? VB_ERR_NOMEM
                      : s == CUBLAS_STATUS_NOT_SUPPORTED ? VB_ERR_UNSUPPORTED
                      : s == CUBLAS_STATUS_INVALID_VALUE ? VB_ERR_ARG
                                                         : VB_ERR_IO;
    return vb_fail(st, "cublasLt: %s: %s (status %d)", what, name ? name : "error", (int)s);
}

/* ---- detection (once per process) ---- */

static pthread_once_t      g_query_once = PTHREAD_ONCE_INIT;
static struct vb_cuda_info g_info;

static void query_once(void) {
    struct vb_cuda_info * I = &g_info;
    memset(I, 0, sizeof *I);
    I->built = 1;
    int rv = 0, dv = 0, n = 0;
    cudaRuntimeGetVersion(&rv);
    cudaDriverGetVersion(&dv); /* 0 when no driver is installed */
    I->runtime_version = rv;
    I->driver_version = dv;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess || n < 1) {
        snprintf(I->reason, sizeof I->reason, "no CUDA GPU visible: %s (%s)",
                 e != cudaSuccess ? cudaGetErrorName(e) : "cudaGetDeviceCount = 0",
                 e != cudaSuccess ? cudaGetErrorString(e) : "no device");
        if (dv == 0) { /* say plainly what is missing */
            size_t l = strlen(I->reason);
            snprintf(I->reason + l, sizeof I->reason - l, "; no NVIDIA driver (libcuda.so) found");
        }
        cudaGetLastError(); /* clear the error state */
        return;
    }
    struct cudaDeviceProp p;
    e = cudaGetDeviceProperties(&p, 0);
    if (e != cudaSuccess) {
        snprintf(I->reason, sizeof I->reason, "no CUDA GPU visible: device 0: %s (%s)", cudaGetErrorName(e),
                 cudaGetErrorString(e));
        cudaGetLastError();
        return;
    }
    snprintf(I->name, sizeof I->name, "%s", p.name);
    I->cc_major = p.major, I->cc_minor = p.minor, I->n_sm = p.multiProcessorCount;
    I->mem_bytes = (int64_t)p.totalGlobalMem;
    if (p.major < 8) { /* the kernels are built for sm_90 with compute_80 PTX; older parts cannot JIT it */
        snprintf(I->reason, sizeof I->reason, "no usable CUDA GPU: %.150s is sm_%d%d (sm_80 or newer needed)", p.name,
                 p.major, p.minor);
        return;
    }
    I->available = 1;
}

int vb_cuda_query(struct vb_cuda_info * info) {
    pthread_once(&g_query_once, query_once);
    *info = g_info;
    return info->available;
}

int vb_cuda_available(void) {
    struct vb_cuda_info I;
    return vb_cuda_query(&I);
}

/* ---- cuBLASLt, loaded on first use ---- */

static pthread_once_t     g_lt_once = PTHREAD_ONCE_INIT;
static struct vb_cublaslt g_lt;
static char               g_lt_err[512];
static size_t             g_lt_version;

static void lt_once(void) {
    static const char * const names[] = {"libcublasLt.so.13", VB_CUDA_LIBDIR "/libcublasLt.so.13", "libcublasLt.so",
                                         VB_CUDA_LIBDIR "/libcublasLt.so"};
    void *                    h = NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !h; i++)
        h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char * e = dlerror();
        snprintf(g_lt_err, sizeof g_lt_err, "cannot load libcublasLt.so.13 (also tried %s): %s", VB_CUDA_LIBDIR,
                 e ? e : "not found");
        return;
    }
    struct vb_cublaslt L;
#define SYM(field, name)                                                                                               \
    do {                                                                                                               \
        void * p_ = dlsym(h, name);                                                                                    \
        if (!p_) {                                                                                                     \
            snprintf(g_lt_err, sizeof g_lt_err, "libcublasLt: symbol %s missing", name);                               \
            return;                                                                                                    \
        }                                                                                                              \
        memcpy(&L.field, &p_, sizeof p_);                                                                              \
    } while (0)
    SYM(create, "cublasLtCreate");
    SYM(destroy, "cublasLtDestroy");
    SYM(get_version, "cublasLtGetVersion");
    SYM(status_name, "cublasLtGetStatusName");
    SYM(desc_create, "cublasLtMatmulDescCreate");
    SYM(desc_destroy, "cublasLtMatmulDescDestroy");
    SYM(desc_set, "cublasLtMatmulDescSetAttribute");
    SYM(layout_create, "cublasLtMatrixLayoutCreate");
    SYM(layout_destroy, "cublasLtMatrixLayoutDestroy");
    SYM(pref_create, "cublasLtMatmulPreferenceCreate");
    SYM(pref_destroy, "cublasLtMatmulPreferenceDestroy");
    SYM(pref_set, "cublasLtMatmulPreferenceSetAttribute");
    SYM(heuristic, "cublasLtMatmulAlgoGetHeuristic");
    SYM(matmul, "cublasLtMatmul");
#undef SYM
    g_lt = L;
    g_lt_version = L.get_version();
    vb_cublaslt_ = &g_lt; /* the handle h stays open for the process */
}

void vb_cuda_cublaslt_version(char * buf, size_t cap) {
    if (!cap) return;
    if (vb_cublaslt_)
        snprintf(buf, cap, "cuBLASLt %zu", g_lt_version);
    else
        buf[0] = 0;
}

void vb_cuda_describe(const struct vb_cuda_info * I, char * buf, size_t cap) {
    if (!I->available) {
        snprintf(buf, cap, "none (%s)", I->reason[0] ? I->reason : "unknown");
        return;
    }
    snprintf(buf, cap, "%s, sm_%d%d, %d SMs, %.1f GiB, driver %d.%d, CUDA runtime %d.%d", I->name, I->cc_major,
             I->cc_minor, I->n_sm, (double)I->mem_bytes / (1024.0 * 1024.0 * 1024.0), I->driver_version / 1000,
             I->driver_version % 1000 / 10, I->runtime_version / 1000, I->runtime_version % 1000 / 10);
}

/* ---- context ---- */

int vb_cuda_ctx_check_(const struct vb_cuda_ctx * c, const char * fn) {
    if (!c) return vb_fail(VB_ERR_ARG, "%s: no CUDA context", fn);
    return VB_OK;
}

int vb_cuda_ctx_new(struct vb_cuda_ctx ** out) {
    *out = NULL;
    struct vb_cuda_info I;
    if (!vb_cuda_query(&I)) return vb_fail(VB_ERR_UNSUPPORTED, "%s", I.reason);
    pthread_once(&g_lt_once, lt_once);
    if (!vb_cublaslt_) return vb_fail(VB_ERR_UNSUPPORTED, "%s", g_lt_err);
    struct vb_cuda_ctx * c = vb_calloc(1, sizeof *c);
    int                  st = vb_cuda_check_(cudaSetDevice(0), "cudaSetDevice(0)");
    if (st == VB_OK) st = vb_cuda_check_(cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking), "stream");
    if (st == VB_OK) st = vb_cublaslt_check_(vb_cublaslt_->create(&c->lt), "cublasLtCreate");
    c->ws_bytes = (size_t)32 << 20; /* cuBLASLt workspace: 32 MiB (what cuBLAS asks for on Hopper) */
    if (st == VB_OK) st = vb_cuda_check_(cudaMalloc(&c->workspace, c->ws_bytes), "workspace (32 MiB)");
    if (st != VB_OK) {
        vb_cuda_ctx_free(c);
        return st;
    }
    *out = c;
    return VB_OK;
}

void vb_cuda_ctx_free(struct vb_cuda_ctx * c) {
    if (!c) return;
    if (c->stream) cudaStreamSynchronize(c->stream);
    if (c->lt && vb_cublaslt_) vb_cublaslt_->destroy(c->lt);
    cudaFree(c->workspace);
    cudaFree(c->scratch);
    if (c->stream) cudaStreamDestroy(c->stream);
    free(c);
}

int vb_cuda_sync(struct vb_cuda_ctx * c) {
    int st = vb_cuda_ctx_check_(c, "vb_cuda_sync");
    if (st != VB_OK) return st;
    st = vb_cuda_check_(cudaStreamSynchronize(c->stream), "stream synchronize");
    if (st != VB_OK) return st;
    return vb_cuda_check_(cudaGetLastError(), "kernel");
}

int vb_cuda_scratch_(struct vb_cuda_ctx * c, size_t bytes) {
    if (bytes <= c->scratch_bytes) return VB_OK;
    cudaStreamSynchronize(c->stream); /* the old scratch may still be read by queued work */
    cudaFree(c->scratch);
    c->scratch = NULL, c->scratch_bytes = 0;
    int st = vb_cuda_check_(cudaMalloc(&c->scratch, bytes), "scratch");
    if (st == VB_OK) c->scratch_bytes = bytes;
    return st;
}

/* ---- memory ---- */

int vb_cuda_alloc(struct vb_cuda_ctx * c, void ** d, size_t bytes) {
    *d = NULL;
    int st = vb_cuda_ctx_check_(c, "vb_cuda_alloc");
    if (st != VB_OK || bytes == 0) return st;
    char what[64];
    snprintf(what, sizeof what, "cudaMalloc(%zu bytes)", bytes);
    return vb_cuda_check_(cudaMalloc(d, bytes), what);
}

void vb_cuda_free(void * d) {
    if (d) cudaFree(d);
}

int vb_cuda_upload(struct vb_cuda_ctx * c, void * d, const void * h, size_t bytes) {
    int st = vb_cuda_ctx_check_(c, "vb_cuda_upload");
    if (st != VB_OK || bytes == 0) return st;
    st = vb_cuda_check_(cudaMemcpyAsync(d, h, bytes, cudaMemcpyHostToDevice, c->stream), "upload");
    return st == VB_OK ? vb_cuda_check_(cudaStreamSynchronize(c->stream), "upload") : st;
}

int vb_cuda_download(struct vb_cuda_ctx * c, void * h, const void * d, size_t bytes) {
    int st = vb_cuda_ctx_check_(c, "vb_cuda_download");
    if (st != VB_OK || bytes == 0) return st;
    st = vb_cuda_check_(cudaMemcpyAsync(h, d, bytes, cudaMemcpyDeviceToHost, c->stream), "download");
    return st == VB_OK ? vb_cuda_check_(cudaStreamSynchronize(c->stream), "download") : st;
}

/* ---- events ---- */

struct vb_cuda_event {
    cudaEvent_t ev;
};

int vb_cuda_event_new(struct vb_cuda_event ** e) {
    *e = NULL;
    struct vb_cuda_info I;
    if (!vb_cuda_query(&I)) return vb_fail(VB_ERR_UNSUPPORTED, "%s", I.reason);
    struct vb_cuda_event * x = vb_calloc(1, sizeof *x);
    int                    st = vb_cuda_check_(cudaEventCreate(&x->ev), "cudaEventCreate");
    if (st != VB_OK) {
        free(x);
        return st;
    }
    *e = x;
    return VB_OK;
}

void vb_cuda_event_free(struct vb_cuda_event * e) {
    if (!e) return;
    cudaEventDestroy(e->ev);
    free(e);
}

int vb_cuda_event_record(struct vb_cuda_ctx * c, struct vb_cuda_event * e) {
    int st = vb_cuda_ctx_check_(c, "vb_cuda_event_record");
    if (st != VB_OK) return st;
    return vb_cuda_check_(cudaEventRecord(e->ev, c->stream), "cudaEventRecord");
}

int vb_cuda_event_ms(struct vb_cuda_event * a, struct vb_cuda_event * b, float * ms) {
    *ms = 0;
    int st = vb_cuda_check_(cudaEventSynchronize(b->ev), "cudaEventSynchronize");
    if (st != VB_OK) return st;
    return vb_cuda_check_(cudaEventElapsedTime(ms, a->ev, b->ev), "cudaEventElapsedTime");
}
