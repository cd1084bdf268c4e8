/* vitcache.c — LRU cache of ViT body features (see vitcache.h): entries live in a doubly linked LRU list (head =
** most recently used) and a chained hash table of 2^k buckets, doubled when the load exceeds 1. */
#include "harness/vitcache.h"

#include "base/common.h"

#include <string.h>

struct entry {
    struct vb_vitcache_key key;
    int64_t                n; /* floats */
    int64_t                cost_us;
    float *                data;        /* (n) */
    struct entry *         prev, *next; /* LRU list: head = most recent */
    struct entry *         chain;       /* hash bucket chain */
};

struct vb_vitcache {
    size_t                   max_bytes, bytes;
    struct entry *           head, *tail;
    struct entry **          buckets;
    size_t                   n_buckets; /* power of two */
    int32_t                  n_entries;
    struct vb_vitcache_stats st;
};

uint64_t vb_fnv1a64(const char * s) {
    uint64_t h = 14695981039346656037ULL; /* FNV-1a 64 offset basis */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static uint64_t key_hash(const struct vb_vitcache_key * k) {
    uint64_t h = k->video ^ ((uint64_t)(uint32_t)k->group * 0x9e3779b97f4a7c15ULL);
    h ^= (uint64_t)k->frame + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

static int key_eq(const struct vb_vitcache_key * a, const struct vb_vitcache_key * b) {
    return a->group == b->group && a->video == b->video && a->frame == b->frame;
}

struct vb_vitcache * vb_vitcache_new(size_t max_bytes) {
    struct vb_vitcache * c = vb_calloc(1, sizeof *c);
    c->max_bytes = max_bytes;
    c->n_buckets = 64;
    c->buckets = vb_calloc(c->n_buckets, sizeof *c->buckets);
    return c;
}

void vb_vitcache_free(struct vb_vitcache * c) {
    if (!c) return;
    for (struct entry *e = c->head, *nx; e; e = nx) {
        nx = e->next;
        free(e->data);
        free(e);
    }
    free(c->buckets);
    free(c);
}

static struct entry ** find_slot(struct vb_vitcache * c, const struct vb_vitcache_key * k) {
    struct entry ** p = &c->buckets[key_hash(k) & (c->n_buckets - 1)];
    while (*p && !key_eq(&(*p)->key, k))
        p = &(*p)->chain;
    return p;
}

static void lru_unlink(struct vb_vitcache * c, struct entry * e) {
    if (e->prev)
        e->prev->next = e->next;
    else
        c->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        c->tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push_front(struct vb_vitcache * c, struct entry * e) {
    e->prev = NULL;
    e->next = c->head;
    if (c->head) c->head->prev = e;
    c->head = e;
    if (!c->tail) c->tail = e;
}

static void remove_entry(struct vb_vitcache * c, struct entry * e) {
    struct entry ** p = find_slot(c, &e->key);
    VB_ASSERT(*p == e);
    *p = e->chain;
    lru_unlink(c, e);
    c->bytes -= (size_t)e->n * sizeof(float);
    c->n_entries--;
    free(e->data);
    free(e);
}

static void grow(struct vb_vitcache * c) {
    size_t          nb = c->n_buckets * 2;
    struct entry ** b = vb_calloc(nb, sizeof *b);
    for (struct entry * e = c->head; e; e = e->next) {
        size_t i = key_hash(&e->key) & (nb - 1);
        e->chain = b[i];
        b[i] = e;
    }
    free(c->buckets);
    c->buckets = b;
    c->n_buckets = nb;
}

int vb_vitcache_get(struct vb_vitcache * c, const struct vb_vitcache_key * key, float * out, int64_t n,
                    int64_t * cost_us) {
    struct entry * e = *find_slot(c, key);
    if (!e || e->n != n) {
        c->st.n_misses++;
        return 0;
    }
    memcpy(out, e->data, sizeof(float) * (size_t)n);
    if (cost_us) *cost_us = e->cost_us;
    lru_unlink(c, e);
    lru_push_front(c, e);
    c->st.n_hits++;
    return 1;
}

int vb_vitcache_put(struct vb_vitcache * c, const struct vb_vitcache_key * key, const float * feats, int64_t n,
                    int64_t cost_us) {
    size_t sz = (size_t)n * sizeof(float);
    if (n <= 0 || sz > c->max_bytes) return 0;
    struct entry * old = *find_slot(c, key);
    if (old) remove_entry(c, old);
    while (c->bytes + sz > c->max_bytes && c->tail) {
        remove_entry(c, c->tail);
        c->st.n_evictions++;
    }
    struct entry * e = vb_calloc(1, sizeof *e);
    e->key = *key;
    e->n = n;
    e->cost_us = cost_us;
    e->data = vb_malloc(sz);
    memcpy(e->data, feats, sz);
    if ((size_t)c->n_entries + 1 > c->n_buckets) grow(c);
    struct entry ** p = &c->buckets[key_hash(key) & (c->n_buckets - 1)];
    e->chain = *p;
    *p = e;
    lru_push_front(c, e);
    c->bytes += sz;
    c->n_entries++;
    c->st.n_puts++;
    return 1;
}

int vb_vitcache_has(const struct vb_vitcache * c, const struct vb_vitcache_key * key) {
    const struct entry * e = c->buckets[key_hash(key) & (c->n_buckets - 1)];
    while (e && !key_eq(&e->key, key))
        e = e->chain;
    return e != NULL;
}

void vb_vitcache_clear(struct vb_vitcache * c) {
    while (c->tail)
        remove_entry(c, c->tail);
}

int vb_vitcache_set_cost(struct vb_vitcache * c, const struct vb_vitcache_key * key, int64_t cost_us) {
    struct entry * e = *find_slot(c, key);
    if (!e) return 0;
    e->cost_us = cost_us;
    return 1;
}

void vb_vitcache_stats(const struct vb_vitcache * c, struct vb_vitcache_stats * out) {
    *out = c->st;
    out->bytes = c->bytes;
    out->max_bytes = c->max_bytes;
    out->n_entries = c->n_entries;
}
