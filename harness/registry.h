/* registry.h — the methods this program knows, by name.  A new method is one new file with its ops table
** (methods/method.h: struct vb_method_ops) plus one line in harness/registry.c; nothing else in the harness names a
** method. */
#ifndef VB_REGISTRY_H
#define VB_REGISTRY_H

#include "methods/method.h"

#include <stdint.h>

/* Number of registered methods. */
int32_t vb_registry_count(void);
/* The i-th method (0 <= i < vb_registry_count()), in registration order; NULL outside. */
const struct vb_method_ops * vb_registry_get(int32_t i);
/* The method called name, or NULL with VB_ERR_ARG in vb_errmsg() listing the known names. */
const struct vb_method_ops * vb_registry_find(const char * name);
/* "uniform, sevila, vlap": the registered names, comma-separated, into buf (n bytes, truncated); returns buf. */
const char * vb_registry_names(char * buf, size_t n);

#endif
