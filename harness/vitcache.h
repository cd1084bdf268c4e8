/* vitcache.h — the runner's memory-bounded LRU cache of ViT body features, shared by every method and frame count
** of one run (see docs/runner.md).
**
** An entry is the ViT body output of one frame, (n_tok, d_vis) floats, keyed by (vision group, video, frame index):
** the vision group identifies ViT weights + shape (two bundles with byte-identical vision_model.* tensors share a
** group, so SeViLA and VLAP share the features of their common candidates), the video is a 64-bit hash of its path.
** Each entry also keeps the time it took to compute (cost_us), so a method that takes it from the cache can be
** charged the cold cost.  When adding an entry would exceed the byte bound, least recently used entries are
** evicted; an entry larger than the whole bound is not stored.  A bound of 0 disables the cache.
** Not thread-safe (one cache per runner thread).
*/
#ifndef VB_VITCACHE_H
#define VB_VITCACHE_H

#include <stddef.h>
#include <stdint.h>

struct vb_vitcache; /* opaque */

struct vb_vitcache_key {
    int32_t  group; /* vision group */
    uint64_t video; /* hash of the video path */
    int64_t  frame; /* frame index in the video */
};

struct vb_vitcache_stats {
    int64_t n_hits, n_misses, n_puts, n_evictions;
    size_t  bytes, max_bytes;
    int32_t n_entries;
};

/* New empty cache holding at most max_bytes of features.  Caller frees with vb_vitcache_free. */
struct vb_vitcache * vb_vitcache_new(size_t max_bytes);
/* Free the cache and every cached feature (c may be NULL). */
void vb_vitcache_free(struct vb_vitcache * c);

/* Look up key: on a hit copies n floats into out, sets *cost_us (may be NULL) to the entry's recorded cost, marks
** the entry most recently used and returns 1.  Returns 0 (out untouched) on a miss or when the stored entry has a
** different size n. */
int vb_vitcache_get(struct vb_vitcache * c, const struct vb_vitcache_key * key, float * out, int64_t n,
                    int64_t * cost_us);
/* Store a copy of feats (n floats) under key with cost_us (replacing an existing entry), evicting LRU entries to stay
** within the bound.  Returns 1 if stored, 0 if not (cache disabled, or entry larger than the bound). */
int vb_vitcache_put(struct vb_vitcache * c, const struct vb_vitcache_key * key, const float * feats, int64_t n,
                    int64_t cost_us);
/* 1 if key is cached (no copy, LRU order and counters unchanged). */
int vb_vitcache_has(const struct vb_vitcache * c, const struct vb_vitcache_key * key);
/* Drop every entry (counters kept). */
void vb_vitcache_clear(struct vb_vitcache * c);
/* Set the recorded cost of an entry (the runner knows a frame's ViT time only after the batch).  Returns 1 if the
** entry exists. */
int vb_vitcache_set_cost(struct vb_vitcache * c, const struct vb_vitcache_key * key, int64_t cost_us);
/* Counters. */
void vb_vitcache_stats(const struct vb_vitcache * c, struct vb_vitcache_stats * out);

/* 64-bit FNV-1a of a string (video keys, shard assignment). */
uint64_t vb_fnv1a64(const char * s);

#endif
