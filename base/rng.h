/* rng.h — the project's one deterministic pseudo-random generator: splitmix64 and xoshiro256** (Vigna's reference
** algorithms, bit for bit).  Pure integer arithmetic, no global state, no allocation: a given seed gives the same
** stream on every platform and build.  Users: metrics/stats.c (bootstrap), harness/cmd_init_model.c (random
** weights), datasets/loaders.c (How2QA option permutation), datasets/synth.c (synthetic benchmark).
*/
#ifndef VB_RNG_H
#define VB_RNG_H

#include <stdint.h>

/* xoshiro256** state (256 bits).  Plain value type: copy it to fork a stream; no cleanup needed. */
struct vb_rng {
    uint64_t s[4];
};

/* splitmix64 step: adds the golden-ratio increment to *state and returns the mixed value.  Used directly as a
** small generator (one 64-bit word of state) and to derive seeds.  Never fails. */
uint64_t vb_rng_splitmix64(uint64_t * state);

/* Seed r: its four state words are the successive vb_rng_splitmix64 outputs started at state = seed.  Any seed
** (0 included) gives a valid, non-zero state.  Never fails. */
void vb_rng_seed(struct vb_rng * r, uint64_t seed);

/* Next 64-bit output of xoshiro256** (advances r).  Never fails. */
uint64_t vb_rng_next(struct vb_rng * r);

/* Uniform integer in [0, n) without modulo bias (rejects the top partial block of 2^64); n must be > 0
** (VB_ASSERT).  Advances r by one or more steps. */
uint64_t vb_rng_below(struct vb_rng * r, uint64_t n);

#endif
