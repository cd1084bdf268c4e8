/* rng.c — splitmix64 and xoshiro256** (contracts in rng.h). */
#include "base/rng.h"

#include "base/common.h"

uint64_t vb_rng_splitmix64(uint64_t * state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void vb_rng_seed(struct vb_rng * r, uint64_t seed) {
    uint64_t st = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = vb_rng_splitmix64(&st);
}

static inline uint64_t rotl(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

uint64_t vb_rng_next(struct vb_rng * r) {
    uint64_t * s = r->s;
    uint64_t   result = rotl(s[1] * 5, 7) * 9;
    uint64_t   t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t vb_rng_below(struct vb_rng * r, uint64_t n) {
    VB_ASSERT(n > 0);
    /* reject the top partial block so every residue is equally likely */
    uint64_t lim = UINT64_MAX - (UINT64_MAX % n);
    uint64_t x;
    do
        x = vb_rng_next(r);
    while (x >= lim);
    return x % n;
}
