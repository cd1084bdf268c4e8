/* internal.h — what the CUDA backend's own files share (not part of the engine's interface; includes the CUDA
** runtime and cuBLASLt headers, so only files compiled with CUDA=1 include it): the context, the cuBLASLt entry
** points loaded at run time, error helpers.
*/
#ifndef VB_CUDA_INTERNAL_H
#define VB_CUDA_INTERNAL_H

#include "engine/cuda/cuda.h"
#include "engine/cuda/kernels.h"

#include <cublasLt.h>
#include <cuda_runtime.h>

/* cuBLASLt, resolved with dlopen / dlsym at the first context (engine/cuda/device.c). */
struct vb_cublaslt {
    __typeof__(&cublasLtCreate)                       create;
    __typeof__(&cublasLtDestroy)                      destroy;
    __typeof__(&cublasLtGetVersion)                   get_version;
    __typeof__(&cublasLtGetStatusName)                status_name;
    __typeof__(&cublasLtMatmulDescCreate)             desc_create;
    __typeof__(&cublasLtMatmulDescDestroy)            desc_destroy;
    __typeof__(&cublasLtMatmulDescSetAttribute)       desc_set;
    __typeof__(&cublasLtMatrixLayoutCreate)           layout_create;
    __typeof__(&cublasLtMatrixLayoutDestroy)          layout_destroy;
    __typeof__(&cublasLtMatmulPreferenceCreate)       pref_create;
    __typeof__(&cublasLtMatmulPreferenceDestroy)      pref_destroy;
    __typeof__(&cublasLtMatmulPreferenceSetAttribute) pref_set;
    __typeof__(&cublasLtMatmulAlgoGetHeuristic)       heuristic;
    __typeof__(&cublasLtMatmul)                       matmul;
};
/* The loaded table (NULL until vb_cuda_ctx_new succeeded once). */
extern const struct vb_cublaslt * vb_cublaslt_;

struct vb_cuda_ctx {
    int              device;
    cudaStream_t     stream;
    cublasLtHandle_t lt;
    void *           workspace; /* cuBLASLt workspace, ws_bytes */
    size_t           ws_bytes;
    void *           scratch; /* bf16 activations for vb_cuda_linear, bucket tables: grown on demand */
    size_t           scratch_bytes;
};

/* VB_OK, or VB_ERR_UNSUPPORTED / VB_ERR_NOMEM / VB_ERR_ARG naming what (a short phrase) and the CUDA error. */
int vb_cuda_check_(cudaError_t e, const char * what);
/* Same for a cuBLASLt status. */
int vb_cublaslt_check_(cublasStatus_t s, const char * what);
/* Grow c->scratch to at least bytes (contents not kept). */
int vb_cuda_scratch_(struct vb_cuda_ctx * c, size_t bytes);
/* Check the context and that a non-negative size is below the 32-bit grid limits used by the kernels. */
int vb_cuda_ctx_check_(const struct vb_cuda_ctx * c, const char * fn);

#endif
