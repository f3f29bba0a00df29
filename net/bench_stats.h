/*
 * bench_stats.h — latency samples and their percentiles, for cairn-bench's workloads.
 *
 * A `struct bench_latencies` is a bounded array of samples in microseconds, owned by one
 * thread while a workload runs (no locking); the workload merges the threads' arrays into
 * one at the end and asks for the summary. Percentiles are nearest-rank on the sorted
 * samples: p50 of {1, 2, 3, 4} is 2, p99 of 100 samples is the 99th smallest.
 */
#ifndef CAIRN_NET_BENCH_STATS_H
#define CAIRN_NET_BENCH_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* Samples one array may hold (a run of more transactions than this is refused). */
#define BENCH_LATENCIES_MAX ((size_t)1 << 26)

struct bench_latencies {
	uint64_t *us;
	size_t count;
	size_t cap;
};

/* Makes room for `cap` samples (at most BENCH_LATENCIES_MAX): ERR_LIMIT or ERR_NOMEM. */
err *bench_latencies_init(struct bench_latencies *l, size_t cap);
void bench_latencies_free(struct bench_latencies *l);

/* Records one sample; a sample past the capacity is dropped (the caller sized it). */
void bench_latencies_add(struct bench_latencies *l, uint64_t us);

/* Appends every sample of `from` to `into`; ERR_LIMIT or ERR_NOMEM when it cannot grow. */
err *bench_latencies_merge(struct bench_latencies *into, const struct bench_latencies *from);

struct bench_summary {
	size_t count;
	uint64_t p50_us;
	uint64_t p90_us;
	uint64_t p99_us;
	uint64_t max_us;
	double mean_us;
};

/* Sorts the samples in place and summarises them (all zero for no samples). */
struct bench_summary bench_latencies_summary(struct bench_latencies *l);

/* Microseconds on CLOCK_MONOTONIC. */
uint64_t bench_now_us(void);

#endif
