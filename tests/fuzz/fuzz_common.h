/* fuzz_common.h — helpers shared by the libFuzzer harnesses tests/fuzz/fuzz_*.c (header-only; each harness is its own
** program, built by `make fuzz` with clang -fsanitize=fuzzer,address,undefined). */
#ifndef VB_FUZZ_COMMON_H
#define VB_FUZZ_COMMON_H

#include "base/common.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A private scratch directory for the files a harness hands to path-based readers (made once per process). */
static inline const char * fuzz_dir(void) {
    static char dir[256];
    if (!dir[0]) {
        const char * t = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/vb_fuzz_XXXXXX", t ? t : "/tmp");
        if (!mkdtemp(dir)) abort();
    }
    return dir;
}

/* Write data[0..n) to fuzz_dir()/name and return the path (static buffer). */
static inline const char * fuzz_file(const char * name, const uint8_t * data, size_t n) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", fuzz_dir(), name);
    FILE * f = fopen(path, "wb");
    if (!f) abort();
    if (n && fwrite(data, 1, n, f) != n) abort();
    fclose(f);
    return path;
}

/* Quiet logging: messages are expected (every input is bad); a crash or sanitizer report is the only failure. */
static inline void fuzz_quiet(void) {
    vb_log_level_cur = -1;
}

#endif
