#include "base/prng.h"

#include <assert.h>
#include <math.h>
#include <string.h>
#include <xxhash.h>

static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

void prng_seed(struct prng *p, uint64_t seed)
{
	uint64_t sm = seed;
	for (int i = 0; i < 4; i++)
		p->s[i] = splitmix64(&sm);
}

uint64_t prng_subseed(uint64_t root, const char *name, uint64_t index)
{
	uint64_t mixed =
	    XXH3_64bits_withSeed(name, strlen(name), root) ^ (index * 0x9e3779b97f4a7c15ull);
	return splitmix64(&mixed);
}

uint64_t prng_next(struct prng *p)
{
	uint64_t *s = p->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

uint64_t prng_below(struct prng *p, uint64_t bound)
{
	assert(bound > 0);
	/* Lemire's multiply-and-reject: exact uniformity, usually one multiplication. */
	unsigned __int128 m = (unsigned __int128)prng_next(p) * bound;
	uint64_t low = (uint64_t)m;
	if (low < bound) {
		uint64_t threshold = -bound % bound;
		while (low < threshold) {
			m = (unsigned __int128)prng_next(p) * bound;
			low = (uint64_t)m;
		}
	}
	return (uint64_t)(m >> 64);
}

int64_t prng_between(struct prng *p, int64_t lo, int64_t hi)
{
	assert(lo <= hi);
	uint64_t span = (uint64_t)hi - (uint64_t)lo;
	uint64_t offset = span == UINT64_MAX ? prng_next(p) : prng_below(p, span + 1);
	return (int64_t)((uint64_t)lo + offset);
}

double prng_double(struct prng *p)
{
	return (double)(prng_next(p) >> 11) * 0x1.0p-53;
}

bool prng_chance(struct prng *p, double probability)
{
	if (probability <= 0)
		return false;
	if (probability >= 1)
		return true;
	return prng_double(p) < probability;
}

double prng_exponential(struct prng *p, double mean)
{
	assert(mean > 0);
	return -mean * log1p(-prng_double(p));
}
