/* cpu.c — VB_CPU_DISABLE (cpu.h): read once, names checked, what needs a disabled feature disabled with it. */
#include "engine/cpu.h"

#include "base/common.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char * const NAME[VB_CPU_NFEATURES] = {"avx2", "avx512", "avx512bf16", "amx"};
/* the feature each one needs (-1: none): disabling that one disables this one too */
static const int NEEDS[VB_CPU_NFEATURES] = {-1, VB_CPU_AVX2, VB_CPU_AVX512, VB_CPU_AVX512BF16};

static int  g_off[VB_CPU_NFEATURES];
static char g_list[64];

static void read_env(void) {
    const char * e = getenv("VB_CPU_DISABLE");
    if (e && *e) {
        char   buf[256];
        size_t n = strlen(e) < sizeof buf - 1 ? strlen(e) : sizeof buf - 1;
        memcpy(buf, e, n);
        buf[n] = 0;
        char * save = NULL;
        for (char * t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
            int f = 0;
            while (f < VB_CPU_NFEATURES && strcasecmp(t, NAME[f]) != 0)
                f++;
            if (f < VB_CPU_NFEATURES)
                g_off[f] = 1;
            else if (!getenv("VB_BLAS_REEXEC")) /* once: not again after engine/blas.c's re-exec */
                vb_log(VB_LOG_WARN, "VB_CPU_DISABLE: '%s' is not a feature (avx2, avx512, avx512bf16, amx); ignored",
                       t);
        }
    }
    for (int f = 0; f < VB_CPU_NFEATURES; f++) /* NEEDS[f] < f: one pass in enum order closes the chain */
        if (NEEDS[f] >= 0 && g_off[NEEDS[f]]) g_off[f] = 1;
    for (int f = 0; f < VB_CPU_NFEATURES; f++)
        if (g_off[f]) {
            if (g_list[0]) strcat(g_list, ",");
            strcat(g_list, NAME[f]);
        }
}

static pthread_once_t g_once = PTHREAD_ONCE_INIT;

int vb_cpu_allowed(int f) {
    pthread_once(&g_once, read_env);
    return f >= 0 && f < VB_CPU_NFEATURES && !g_off[f];
}

const char * vb_cpu_disabled(void) {
    pthread_once(&g_once, read_env);
    return g_list;
}
