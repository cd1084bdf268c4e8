/* helpers.h — small path helpers shared by the cmocka test programs (header-only: each test is its own program).
 */
#ifndef VB_TESTS_HELPERS_H
#define VB_TESTS_HELPERS_H

#include <dirent.h>
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

#endif
