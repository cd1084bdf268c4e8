/* helpers.h — small path helpers shared by the cmocka test programs (header-only: each test is its own program).
 */
#ifndef VB_TESTS_HELPERS_H
#define VB_TESTS_HELPERS_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Fixture path "tests/data/NAME" relative to the repository root (VB_ROOT, else the current directory).  Returns a
** static buffer, overwritten by the next call. */
static inline const char * fx(const char * name) {
    static char  path[1024];
    const char * root = getenv("VB_ROOT");
    snprintf(path, sizeof path, "%s%stests/data/%s", root ? root : "", root ? "/" : "", name);
    return path;
}

/* Path of $VB_SHARED/datasets/REL (VB_SHARED defaults to ../shared) written into buf[cap]; returns buf when the
** file exists, NULL when it does not (the caller then skips). */
static inline const char * shared_file(const char * rel, char * buf, size_t cap) {
    const char * sh = getenv("VB_SHARED");
    snprintf(buf, cap, "%s/datasets/%s", sh ? sh : "../shared", rel);
    struct stat st;
    return stat(buf, &st) == 0 ? buf : NULL;
}

/* Make a fresh scratch directory $TMPDIR/vb_test_TAG_XXXXXX (TMPDIR defaults to /tmp) into dir[cap].  0, or -1 when
** it cannot be made. */
static inline int scratch_dir_make(char * dir, size_t cap, const char * tag) {
    const char * t = getenv("TMPDIR");
    snprintf(dir, cap, "%s/vb_test_%s_XXXXXX", t ? t : "/tmp", tag);
    return mkdtemp(dir) ? 0 : -1;
}

/* Remove the files a test wrote into a scratch directory (one level, no subdirectories), then the directory. */
static inline void scratch_dir_remove(const char * dir) {
    DIR * d = opendir(dir);
    if (d) {
        struct dirent * e;
        char            p[1024];
        while ((e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

/* The tests' reproducible noise: one xorshift64 step of *state, returned as a double in (0, 1). */
static inline double test_urand(uint64_t * state) {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return ((*state >> 11) + 0.5) / 9007199254740992.0;
}

/* n floats (malloc'd, at least one) uniform in [-sd * sqrt(3), sd * sqrt(3)): standard deviation sd, drawn from *state.
 */
static inline float * test_randv(uint64_t * state, int64_t n, double sd) {
    float * v = malloc(sizeof(float) * (size_t)(n ? n : 1));
    for (int64_t i = 0; i < n; i++)
        v[i] = (float)(sd * (2 * test_urand(state) - 1) * 1.7320508);
    return v;
}

#endif
