/* unicode_text.h — small text helpers shared by the tokenizers: UTF-8 decoding/encoding, a growable byte buffer and
** a string -> id hash map for vocabularies.
**
** Nothing here allocates behind the caller's back except the buffer/map functions, which abort on out-of-memory
** (vb_malloc semantics) like the rest of the engine.
*/
#ifndef VB_UNICODE_TEXT_H
#define VB_UNICODE_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Decode one UTF-8 code point from s[0..len). Returns the number of bytes consumed (1..4) and stores the code point
** in *cp; returns 0 if s[0..len) does not start with a valid, shortest-form UTF-8 sequence of a Unicode scalar value
** (surrogates and values above U+10FFFF are invalid) or len == 0. */
int vb_unicode_utf8_decode(const char * s, size_t len, int32_t * cp);

/* Encode code point cp (0..0x10FFFF, not a surrogate) into out[0..4). Returns the byte count (1..4), 0 if invalid. */
int vb_unicode_utf8_encode(int32_t cp, char out[4]);

/* 1 if s[0..len) is entirely valid UTF-8 (see vb_unicode_utf8_decode), else 0. */
int vb_unicode_utf8_valid(const char * s, size_t len);

/* Growable byte buffer; always NUL-terminated after any append (p may be NULL while empty). */
struct vb_unicode_buf {
    char * p;   /* (cap) bytes, p[n] == 0 once anything was appended */
    size_t n;   /* bytes used, excluding the NUL */
    size_t cap; /* bytes allocated */
};
/* Append n bytes of s. */
void vb_unicode_buf_add(struct vb_unicode_buf * b, const char * s, size_t n);
/* Append one code point as UTF-8 (invalid code points append U+FFFD). */
void vb_unicode_buf_add_cp(struct vb_unicode_buf * b, int32_t cp);
/* Free the storage and reset to empty. */
void vb_unicode_buf_free(struct vb_unicode_buf * b);

/* Growable vector of token ids (the tokenizers' output buffer); start from {0}, free v with free(). */
struct vb_unicode_ids {
    int32_t * v;   /* (cap) owned, NULL while empty */
    int32_t   n;   /* ids used */
    int32_t   cap; /* ids allocated */
};
/* Append x, growing v (64, then doubling).  Aborts through vb_realloc on out-of-memory; never fails otherwise. */
void vb_unicode_ids_push(struct vb_unicode_ids * a, int32_t x);
/* The tokenizers' last step (T5 and BERT alike): the body ids truncated to max_length - n_pre - n_post (max_length 0
** = no limit; keeping the first ids, or the last when truncate_left), wrapped in the special ids pre (n_pre) and post
** (n_post).  *ids malloc'd for the caller (at least one element), *n its length; body is freed and reset.  The
** caller has checked max_length >= n_pre + n_post. */
void vb_unicode_ids_wrap(struct vb_unicode_ids * body, const int32_t * pre, int32_t n_pre, const int32_t * post,
                         int32_t n_post, int32_t max_length, int truncate_left, int32_t ** ids, int32_t * n);

/* String -> int32 map with open addressing; keys are copied. Inserting an existing key overwrites its value (like
** a Rust/Python dict, so for duplicate vocabulary entries the last id wins). */
struct vb_unicode_map {
    char **    keys;     /* (cap) owned copies, NULL = empty slot */
    uint32_t * lens;     /* (cap) key byte lengths */
    int32_t *  vals;     /* (cap) */
    size_t     cap;      /* power of two */
    size_t     n;        /* entries used */
    int        borrowed; /* 1: keys are the caller's pointers (not copied, not freed) */
};
/* Prepare an empty map sized for about n_hint entries. */
void vb_unicode_map_init(struct vb_unicode_map * m, size_t n_hint);
/* Same, but the map stores the key pointers given to vb_unicode_map_put without copying them: the caller keeps the
** key bytes alive (e.g. in one arena) until vb_unicode_map_free. */
void vb_unicode_map_init_borrowed(struct vb_unicode_map * m, size_t n_hint);
/* Insert or overwrite key[0..len) -> val. */
void vb_unicode_map_put(struct vb_unicode_map * m, const char * key, size_t len, int32_t val);
/* Value of key[0..len), or -1 if absent. */
int32_t vb_unicode_map_get(const struct vb_unicode_map * m, const char * key, size_t len);
/* Free all storage. */
void vb_unicode_map_free(struct vb_unicode_map * m);

#endif
