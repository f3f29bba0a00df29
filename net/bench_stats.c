/*
 * bench_stats.c — latency samples and nearest-rank percentiles (see bench_stats.h).
 */
#include "net/bench_stats.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

err *bench_latencies_init(struct bench_latencies *l, size_t cap)
{
	memset(l, 0, sizeof *l);
	if (cap > BENCH_LATENCIES_MAX)
		return err_new(ERR_LIMIT, "bench: %zu latency samples exceed the limit of %zu", cap,
		               BENCH_LATENCIES_MAX);
	l->us = malloc((cap ? cap : 1) * sizeof *l->us);
	if (!l->us)
		return err_new(ERR_NOMEM, "bench: no memory for %zu latency samples", cap);
	l->cap = cap;
	return NULL;
}

void bench_latencies_free(struct bench_latencies *l)
{
	free(l->us);
	memset(l, 0, sizeof *l);
}

void bench_latencies_add(struct bench_latencies *l, uint64_t us)
{
	assert(l->count <= l->cap);
	if (l->count < l->cap)
		l->us[l->count++] = us;
}

err *bench_latencies_merge(struct bench_latencies *into, const struct bench_latencies *from)
{
	size_t need = into->count + from->count;
	if (need > BENCH_LATENCIES_MAX)
		return err_new(ERR_LIMIT, "bench: %zu latency samples exceed the limit of %zu",
		               need, BENCH_LATENCIES_MAX);
	if (need > into->cap) {
		uint64_t *us = realloc(into->us, need * sizeof *us);
		if (!us)
			return err_new(ERR_NOMEM, "bench: no memory for %zu latency samples", need);
		into->us = us;
		into->cap = need;
	}
	if (from->count)
		memcpy(into->us + into->count, from->us, from->count * sizeof *from->us);
	into->count = need;
	return NULL;
}

static int bench__cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* The nearest-rank percentile p (0 < p <= 100) of `n` sorted samples. */
static uint64_t bench__rank(const uint64_t *sorted, size_t n, unsigned p)
{
	assert(n > 0 && p > 0 && p <= 100);
	size_t rank = ((size_t)p * n + 99) / 100; /* ceil(p/100 * n), 1-based */
	return sorted[rank - 1];
}

struct bench_summary bench_latencies_summary(struct bench_latencies *l)
{
	struct bench_summary s = {.count = l->count};
	if (l->count == 0)
		return s;
	qsort(l->us, l->count, sizeof *l->us, bench__cmp_u64);
	double total = 0;
	for (size_t i = 0; i < l->count; i++)
		total += (double)l->us[i];
	s.mean_us = total / (double)l->count;
	s.p50_us = bench__rank(l->us, l->count, 50);
	s.p90_us = bench__rank(l->us, l->count, 90);
	s.p99_us = bench__rank(l->us, l->count, 99);
	s.max_us = l->us[l->count - 1];
	assert(s.p50_us <= s.p90_us && s.p90_us <= s.p99_us && s.p99_us <= s.max_us);
	return s;
}

uint64_t bench_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}
