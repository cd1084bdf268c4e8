/* blas.c — OpenBLAS kernel detection and thread control (see blas.h for why). */
#include "engine/blas.h"

#include "base/common.h"
#include "engine/cpu.h"
#include "engine/pool.h"

#include <cblas.h>
#include <cpuid.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

char * openblas_get_corename(void);
char * openblas_get_config(void);
void   openblas_set_num_threads(int);
int    openblas_get_num_threads(void);

const char * vb_blas_core(void) {
    return openblas_get_corename();
}
const char * vb_blas_config(void) {
    return openblas_get_config();
}

int vb_blas_core_is_fallback(const char * core) {
    static const char * fallback[] = {"Prescott",  "Core2",   "Penryn",  "Dunnington", "Katmai",  "Coppermine",
                                      "Northwood", "Banias",  "Atom",    "Nano",       "Opteron", "Opteron_SSE3",
                                      "Barcelona", "generic", "Unknown", NULL};
    if (!core) return 1;
    for (int i = 0; fallback[i]; i++)
        if (strcasecmp(core, fallback[i]) == 0) return 1;
    return 0;
}

static uint64_t xgetbv0(void) {
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}

const char * vb_blas_cpu_best_core(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return NULL;
    int osxsave = (c >> 27) & 1, fma = (c >> 12) & 1, avx = (c >> 28) & 1;
    if (!osxsave || !avx) return NULL;
    uint64_t xcr0 = xgetbv0();
    int      ymm_ok = (xcr0 & 6) == 6, zmm_ok = (xcr0 & 0xe6) == 0xe6;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return NULL;
    int avx2 = (b >> 5) & 1, avx512f = (b >> 16) & 1, avx512dq = (b >> 17) & 1, avx512bw = (b >> 30) & 1,
        avx512vl = (b >> 31) & 1;
    if (zmm_ok && avx512f && avx512dq && avx512bw && avx512vl && vb_cpu_allowed(VB_CPU_AVX512)) return "SkylakeX";
    if (ymm_ok && avx2 && fma) return vb_cpu_allowed(VB_CPU_AVX2) ? "Haswell" : "Nehalem"; /* Nehalem: SSE4.2 */
    return NULL;
}

int vb_blas_core_is_avx2_only(const char * core) {
    static const char * avx2[] = {"Haswell",    "Zen",       "SandyBridge", "Excavator", "Steamroller",
                                  "Piledriver", "Bulldozer", "Nehalem",     NULL};
    if (!core) return 0;
    for (int i = 0; avx2[i]; i++)
        if (strcasecmp(core, avx2[i]) == 0) return 1;
    return 0;
}

/* 1 if `core` runs AVX-512 kernels (OpenBLAS 0.3.21's names) */
static int core_is_avx512(const char * core) {
    static const char * avx512[] = {"SkylakeX", "Cooperlake", "SapphireRapids", NULL};
    for (int i = 0; core && avx512[i]; i++)
        if (strcasecmp(core, avx512[i]) == 0) return 1;
    return 0;
}

/* 1 if the kernel OpenBLAS chose leaves this CPU's best kernel unused: a fallback core, or an AVX2 (or older) core on
** a CPU with AVX-512 (0.3.21 takes Zen 4 / Zen 5 for Haswell-class "Zen"); or if it runs instructions that
** VB_CPU_DISABLE takes away (engine/cpu.h: AVX-512 kernels without avx512, AVX2 ones without avx2) */
static int core_misjudged(const char * core, const char * best) {
    if (vb_blas_core_is_fallback(core)) return 1;
    if (!vb_cpu_allowed(VB_CPU_AVX512) && core_is_avx512(core)) return 1;
    if (!vb_cpu_allowed(VB_CPU_AVX2) && (core_is_avx512(core) || !strcasecmp(core, "Haswell") ||
                                         !strcasecmp(core, "Zen") || !strcasecmp(core, "Excavator")))
        return 1;
    return best && !strcmp(best, "SkylakeX") && vb_blas_core_is_avx2_only(core);
}

void vb_blas_fix_core_and_reexec(char ** argv) {
    const char * core = vb_blas_core();
    const char * best = vb_blas_cpu_best_core();
    if (!best || !core_misjudged(core, best)) return;
    if (getenv("OPENBLAS_CORETYPE")) {
        if (!vb_cpu_allowed(VB_CPU_AVX512)) /* the best core is VB_CPU_DISABLE's, not the CPU's */
            vb_log(VB_LOG_WARN,
                   "OpenBLAS runs the %s kernel where VB_CPU_DISABLE (%s taken away) asks for %s; "
                   "OPENBLAS_CORETYPE is set, so it is left as it is",
                   core, vb_cpu_disabled(), best);
        else
            vb_log(VB_LOG_WARN,
                   "OpenBLAS runs the %s kernel although the CPU supports %s; "
                   "OPENBLAS_CORETYPE is set, so it is left as it is",
                   core, best);
        return;
    }
    if (getenv("VB_BLAS_REEXEC")) return; /* guard against a loop if the variable had no effect */
    setenv("OPENBLAS_CORETYPE", best, 1);
    setenv("VB_BLAS_REEXEC", core, 1);
    execv("/proc/self/exe", argv);
    vb_log(VB_LOG_WARN, "re-exec with OPENBLAS_CORETYPE=%s failed; running the slow %s kernel", best, core);
}

int vb_blas_set_threads(int n) {
    openblas_set_num_threads(1); /* OpenBLAS's own workers never wake, so they never spin beside ours */
    return vb_pool_set_threads(n);
}

int vb_blas_threads(void) {
    return vb_pool_threads();
}

int vb_blas_library_threads(int n) {
    openblas_set_num_threads(n < 1 ? 1 : n);
    return openblas_get_num_threads();
}

void vb_blas_settle(void) {
    struct timespec t = {0, VB_BLAS_SETTLE_MS * 1000000L};
    while (nanosleep(&t, &t) != 0) {
    }
}

void vb_cpu_model(char * buf, int len) {
    snprintf(buf, (size_t)len, "unknown");
    FILE * f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0) {
            char * p = strchr(line, ':');
            if (p) {
                p++;
                while (*p == ' ' || *p == '\t')
                    p++;
                p[strcspn(p, "\n")] = 0;
                snprintf(buf, (size_t)len, "%s", p);
            }
            break;
        }
    }
    fclose(f);
}
