/* base64.c — standard base64 (see base64.h). */
#include "base/base64.h"

#include "base/common.h"

#include <string.h>

static int b64val(int c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

int vb_base64_decode(const char * s, unsigned char ** out, size_t * out_len) {
    size_t          n = strlen(s);
    unsigned char * o = vb_malloc(n / 4 * 3 + 3);
    size_t          k = 0;
    uint32_t        acc = 0;
    int             bits = 0;
    size_t          i = 0;
    for (; i < n; i++) {
        if (s[i] == '=') break;
        int v = b64val((unsigned char)s[i]);
        if (v < 0) {
            free(o);
            return -1;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            o[k++] = (unsigned char)(acc >> bits);
        }
    }
    for (; i < n; i++)
        if (s[i] != '=') {
            free(o);
            return -1;
        }
    *out = o;
    *out_len = k;
    return 0;
}

char * vb_base64_encode(const unsigned char * d, size_t n) {
    static const char tb[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *            o = vb_malloc((n + 2) / 3 * 4 + 1);
    size_t            k = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)d[i] << 16;
        if (i + 1 < n) v |= (uint32_t)d[i + 1] << 8;
        if (i + 2 < n) v |= d[i + 2];
        o[k++] = tb[(v >> 18) & 63];
        o[k++] = tb[(v >> 12) & 63];
        o[k++] = i + 1 < n ? tb[(v >> 6) & 63] : '=';
        o[k++] = i + 2 < n ? tb[v & 63] : '=';
    }
    o[k] = 0;
    return o;
}
