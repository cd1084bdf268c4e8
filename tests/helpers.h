/* helpers.h — small path helpers shared by the cmocka test programs (header-only: each test is its own program).
*/
#ifndef VB_TESTS_HELPERS_H
#define VB_TESTS_HELPERS_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

/* Fixture path "tests/data/NAME" relative to the repository root (VB_ROOT, else the current directory).  Returns a
** static buffer, overwritten by the next call. */
static inline const char * fx(const char * name) {
    static char path[1024];
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

#endif
