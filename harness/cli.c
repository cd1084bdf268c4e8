/* cli.c — option helpers and the `version` command. */
#include "harness/cli.h"

#include "base/common.h"
#include "engine/attn_small.h"
#include "engine/blas.h"
#include "engine/cpu.h"
#include "engine/cuda/cuda.h"
#include "engine/wmat.h"
#include "harness/kernels.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#ifndef VB_GIT_COMMIT
#define VB_GIT_COMMIT "unknown"
#endif
#ifndef VB_GIT_DIRTY
#define VB_GIT_DIRTY 0
#endif

int vb_cli_wants_help(int argc, char ** argv) {
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) return 1;
    return 0;
}

int vb_cli_opt(int argc, char ** argv, int * i, const char * name, const char ** val) {
    const char * a = argv[*i];
    size_t       n = strlen(name);
    if (strncmp(a, name, n) != 0) return 0;
    if (a[n] == '=') {
        *val = a + n + 1;
        return 1;
    }
    if (a[n] != 0 || *i + 1 >= argc) return 0;
    *val = argv[++*i];
    return 1;
}

int vb_cli_set_compute(const char * cmd, const char * v) {
    int mode;
    if (vb_wmat_compute_parse(v, &mode) != VB_OK || vb_wmat_set_compute(mode) != VB_OK) {
        fprintf(stderr, "%s: %s\n", cmd, vb_errmsg());
        return 2;
    }
    return 0;
}

int cmd_version(int argc, char ** argv) {
    if (vb_cli_wants_help(argc, argv)) {
        printf("usage: vlapbench version [--threads N]\n"
               "Prints the program version, git commit, build flags, the OpenBLAS kernel in use (and the core it was\n"
               "corrected from, if any), the engine's GEMM kernel and whether --compute bf16 is available, the "
               "engine's thread\n"
               "count (set explicitly; --threads N, default: all online CPUs; OpenBLAS itself runs one thread inside\n"
               "the engine's threads), SQLite version and CPU model; whether the CUDA backend is built and the GPU it "
               "sees\n"
               "(name, compute capability, SMs, memory, driver and CUDA runtime versions) or why none is usable.\n");
        return 0;
    }
    int threads = 0;
    for (int i = 1; i < argc; i++) {
        const char * v;
        if (vb_cli_opt(argc, argv, &i, "--threads", &v))
            threads = atoi(v);
        else {
            fprintf(stderr, "version: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    int  nt = vb_blas_set_threads(threads);
    char cpu[256];
    vb_cpu_model(cpu, sizeof cpu);
    const char * best = vb_blas_cpu_best_core();
    printf("vlapbench 0.1.0\n");
    printf("commit: %s%s\n", VB_GIT_COMMIT, VB_GIT_DIRTY ? " (dirty)" : "");
    printf("build: %s\n", VB_BUILD_FLAGS);
    printf("blas_core: %s\n", vb_blas_core());
    printf("blas_threads: %d\n", nt); /* the engine's threads (stored with every result as blas_threads) */
    printf("engine_threads: %d (engine/pool.h; OpenBLAS itself runs 1 thread inside them)\n", nt);
    printf("blas_config: %s\n", vb_blas_config());
    printf("blas_fallback: %s\n", vb_blas_core_is_fallback(vb_blas_core()) ? "yes" : "no");
    printf("cpu_best_core: %s\n", best ? best : "none");
    const char * re = getenv("VB_BLAS_REEXEC");
    printf("blas_reexec_from: %s\n", re ? re : "none");
    const char * fb16;
    int          bf16_ok = vb_wmat_kernel_available("avx512bf16", &fb16) == 1;
    printf("cpu_disabled: %s\n",
           vb_cpu_disabled()[0] ? vb_cpu_disabled() : "none (VB_CPU_DISABLE takes features away)");
    printf("wmat_kernel: %s (engine GEMM; VB_WMAT_KERNEL forces one)\n", vb_wmat_kernel());
    printf("attention_kernel: %s (the ViT's, Q-Former's and T5 encoder's attention; VB_ATTN_KERNEL forces one)\n",
           vb_attention_batch_kernel(64));
    const char *k16, *a16; /* the kernels --compute bf16 gets: amx where the CPU has AMX-BF16, else avx512bf16 */
    vb_kernels_of(VB_COMPUTE_BF16, &k16, &a16);
    if (bf16_ok && k16) {
        printf("compute_bf16: available (--compute bf16; kernel %s; attention %s", k16, a16);
        if (!strcmp(a16, "amx")) printf(" from %d x %d tokens", VB_ATTN_AMX_MIN, VB_ATTN_AMX_MIN);
        printf(")\n");
    } else
        printf("compute_bf16: no (needs %s%s%s)\n", fb16, vb_cpu_disabled()[0] ? "; VB_CPU_DISABLE takes away " : "",
               vb_cpu_disabled());
    printf("cpu: %s\n", cpu);
    printf("sqlite: %s\n", sqlite3_libversion());
    struct vb_cuda_info ci;
    char                gpu[512];
    vb_cuda_query(&ci);
    vb_cuda_describe(&ci, gpu, sizeof gpu);
    if (ci.built)
        printf("cuda_backend: built (CUDA runtime %d.%d linked statically; cuBLASLt loaded at first use)\n",
               ci.runtime_version / 1000, ci.runtime_version % 1000 / 10);
    else
        printf("cuda_backend: not built (make CUDA=1 with nvcc)\n");
    printf("cuda_gpu: %s\n", gpu);
    return 0;
}

int vb_cli_device(const char * cmd, const char * v, int * cuda) {
    *cuda = 0;
    if (!strcmp(v, "cpu")) return 0;
    if (strcmp(v, "cuda") != 0) {
        fprintf(stderr, "%s: --device '%s': expected cpu or cuda\n", cmd, v);
        return 2;
    }
    struct vb_cuda_info ci;
    if (!vb_cuda_query(&ci)) {
        fprintf(stderr, "%s: --device cuda: %s\n", cmd, ci.reason);
        return 1;
    }
    *cuda = 1;
    return 0;
}
