/*
 * prng.h — the seeded pseudo-random number generator, the only source of randomness below
 * net/ and sim/.
 *
 * xoshiro256** (Blackman and Vigna), seeded through SplitMix64 so any 64-bit seed, zero
 * included, gives a good state. prng_subseed() derives an independent seed for a named
 * subsystem, so the simulator can hand each part (network, disk, workload, node 3) its own
 * stream: changing how often one part draws never perturbs another.
 */
#ifndef CAIRN_BASE_PRNG_H
#define CAIRN_BASE_PRNG_H

#include <stdbool.h>
#include <stdint.h>

struct prng {
	uint64_t s[4];
};

void prng_seed(struct prng *p, uint64_t seed);

/* A seed for the subsystem called `name` (and `index`, e.g. a node id) under `root`. */
uint64_t prng_subseed(uint64_t root, const char *name, uint64_t index);

/* 64 uniformly random bits. */
uint64_t prng_next(struct prng *p);

/* Uniform in [0, bound) without modulo bias; bound must be > 0. */
uint64_t prng_below(struct prng *p, uint64_t bound);

/* Uniform in [lo, hi], both inclusive; lo <= hi. */
int64_t prng_between(struct prng *p, int64_t lo, int64_t hi);

/* Uniform in [0, 1). */
double prng_double(struct prng *p);

/* True with probability `probability` (clamped to [0, 1]). */
bool prng_chance(struct prng *p, double probability);

/* Exponentially distributed with the given mean (> 0). */
double prng_exponential(struct prng *p, double mean);

#endif
