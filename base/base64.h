/* base64.h — standard base64 (RFC 4648 alphabet, '=' padding): the precompiled charsmap of tokenizer.json is
** stored in it (read by engine/tokenizer_t5.c, written by engine/spm_convert.c). */
#ifndef VB_BASE64_H
#define VB_BASE64_H

#include <stddef.h>

/* Decode s (NUL-terminated; padding optional, nothing after it) into *out (malloc'd, *out_len bytes).  Returns 0, or
** -1 on a character outside the alphabet (nothing allocated). */
int vb_base64_decode(const char * s, unsigned char ** out, size_t * out_len);
/* Encode n bytes of d with padding; returns a malloc'd NUL-terminated string. */
char * vb_base64_encode(const unsigned char * d, size_t n);

#endif
