/* registry.c — the table of methods (see registry.h). */
#include "harness/registry.h"

#include "base/common.h"
#include "baselines/sevila.h"
#include "baselines/uniform.h"
#include "vlap/vlap.h"

#include <string.h>

static const struct vb_method_ops * const METHODS[] = {
    &vb_uniform_ops,
    &vb_sevila_ops,
    &vb_vlap_ops,
};

#define N_METHODS ((int32_t)(sizeof METHODS / sizeof METHODS[0]))

int32_t vb_registry_count(void) {
    return N_METHODS;
}

const struct vb_method_ops * vb_registry_get(int32_t i) {
    return i >= 0 && i < N_METHODS ? METHODS[i] : NULL;
}

const char * vb_registry_names(char * buf, size_t n) {
    size_t len = 0;
    buf[0] = 0;
    for (int32_t i = 0; i < N_METHODS && len < n; i++)
        len += (size_t)snprintf(buf + len, n - len, "%s%s", i ? ", " : "", METHODS[i]->name);
    return buf;
}

const struct vb_method_ops * vb_registry_find(const char * name) {
    for (int32_t i = 0; i < N_METHODS; i++)
        if (name && !strcmp(name, METHODS[i]->name)) return METHODS[i];
    char names[256];
    vb_fail(VB_ERR_ARG, "unknown method '%s' (%s)", name ? name : "", vb_registry_names(names, sizeof names));
    return NULL;
}
