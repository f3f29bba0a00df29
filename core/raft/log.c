#include "raft/log.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define RAFT__RING_MIN 64
/* Persisted entries kept in the cache beyond this count are evicted, however small. */
#define RAFT__CACHE_MAX_ENTRIES 4096

err *raft__log_init(struct raft__log *log, const struct raft_initial *initial,
                    struct raft_log_source source, size_t max_cache_bytes)
{
	assert(initial->last_index == 0 || initial->terms != NULL);
	memset(log, 0, sizeof *log);
	if (initial->last_index > RAFT_MAX_LOG_ENTRIES)
		return err_new(ERR_LIMIT, "log of %llu entries exceeds the limit",
		               (unsigned long long)initial->last_index);
	log->meta_cap = initial->last_index < 1024 ? 1024 : initial->last_index;
	log->meta = calloc(log->meta_cap, sizeof *log->meta);
	log->ring = calloc(RAFT__RING_MIN, sizeof *log->ring);
	if (!log->meta || !log->ring) {
		raft__log_free(log);
		return err_new(ERR_NOMEM, "raft log");
	}
	log->ring_cap = RAFT__RING_MIN;
	for (uint64_t i = 0; i < initial->last_index; i++) {
		if (i > 0 && initial->terms[i] < initial->terms[i - 1]) {
			raft__log_free(log);
			return err_new(ERR_CORRUPT, "log terms decrease at index %llu",
			               (unsigned long long)(i + 1));
		}
		log->meta[i].term = initial->terms[i];
	}
	log->last = initial->last_index;
	log->stable = initial->last_index;
	log->written = initial->last_index;
	log->cache_first = log->last + 1;
	log->max_cache_bytes = max_cache_bytes;
	log->source = source;
	return NULL;
}

static struct raft_entry *raft__slot(const struct raft__log *log, uint64_t index)
{
	assert(index >= log->cache_first && index <= log->last);
	return &log->ring[index & (log->ring_cap - 1)];
}

void raft__log_free(struct raft__log *log)
{
	if (log->ring)
		for (uint64_t i = log->cache_first; i <= log->last; i++)
			free((void *)raft__slot(log, i)->data);
	free(log->ring);
	free(log->meta);
	memset(log, 0, sizeof *log);
}

uint64_t raft__log_term(const struct raft__log *log, uint64_t index)
{
	assert(index <= log->last);
	return index == 0 ? 0 : log->meta[index - 1].term;
}

uint64_t raft__log_last_term(const struct raft__log *log)
{
	return raft__log_term(log, log->last);
}

uint32_t raft__log_len(const struct raft__log *log, uint64_t index)
{
	assert(index >= 1 && index <= log->last);
	return log->meta[index - 1].len;
}

bool raft__log_matches(const struct raft__log *log, uint64_t index, uint64_t term)
{
	return index <= log->last && raft__log_term(log, index) == term;
}

bool raft__log_up_to_date(const struct raft__log *log, uint64_t last_index, uint64_t last_term)
{
	uint64_t my_term = raft__log_last_term(log);
	return last_term > my_term || (last_term == my_term && last_index >= log->last);
}

/* Doubles the ring, keeping every cached entry at its index's new slot. */
static err *raft__ring_grow(struct raft__log *log)
{
	uint64_t cap = log->ring_cap * 2;
	assert(cap > log->last + 1 - log->cache_first);
	struct raft_entry *ring = calloc(cap, sizeof *ring);
	if (!ring)
		return err_new(ERR_NOMEM, "raft log cache");
	for (uint64_t i = log->cache_first; i <= log->last; i++)
		ring[i & (cap - 1)] = *raft__slot(log, i);
	free(log->ring);
	log->ring = ring;
	log->ring_cap = cap;
	return NULL;
}

static err *raft__meta_reserve(struct raft__log *log)
{
	assert(log->last <= log->meta_cap);
	assert(log->meta != NULL);
	if (log->last < log->meta_cap)
		return NULL;
	if (log->last >= RAFT_MAX_LOG_ENTRIES)
		return err_new(ERR_LIMIT, "raft log is full (%llu entries)",
		               (unsigned long long)log->last);
	uint64_t cap = log->meta_cap * 2;
	struct raft__meta *meta = realloc(log->meta, cap * sizeof *meta);
	if (!meta)
		return err_new(ERR_NOMEM, "raft log terms");
	log->meta = meta;
	log->meta_cap = cap;
	return NULL;
}

err *raft__log_append(struct raft__log *log, const struct raft_entry *e)
{
	assert(e->index == log->last + 1);
	assert(e->term >= raft__log_last_term(log));
	assert(e->len <= RAFT_MAX_ENTRY_BYTES);
	TRY(raft__meta_reserve(log));
	if (log->last + 1 - log->cache_first >= log->ring_cap)
		TRY(raft__ring_grow(log));
	uint8_t *copy = malloc(e->len ? e->len : 1);
	if (!copy)
		return err_new(ERR_NOMEM, "raft entry of %zu bytes", e->len);
	if (e->len)
		memcpy(copy, e->data, e->len);
	log->meta[log->last] = (struct raft__meta){e->term, (uint32_t)e->len};
	log->last++;
	struct raft_entry *slot = raft__slot(log, log->last);
	*slot = *e;
	slot->data = copy;
	log->cache_bytes += e->len;
	return NULL;
}

void raft__log_truncate(struct raft__log *log, uint64_t index)
{
	assert(index >= 1 && index <= log->last);
	assert(index >= log->cache_first || index <= log->stable);
	while (log->last >= index) {
		if (log->last >= log->cache_first) {
			struct raft_entry *slot = raft__slot(log, log->last);
			log->cache_bytes -= slot->len;
			free((void *)slot->data);
			slot->data = NULL;
		}
		log->last--;
	}
	if (log->cache_first > log->last + 1)
		log->cache_first = log->last + 1;
	if (log->written > log->last)
		log->written = log->last;
	if (log->stable > log->last)
		log->stable = log->last;
}

err *raft__log_get(struct raft__log *log, uint64_t index, struct raft_entry *out, bool *owned)
{
	assert(index >= 1 && index <= log->last);
	if (index >= log->cache_first) {
		*out = *raft__slot(log, index);
		*owned = false;
		return NULL;
	}
	assert(index <= log->stable);
	memset(out, 0, sizeof *out);
	TRY(err_wrap(log->source.load(log->source.impl, index, out), "loading raft entry %llu",
	             (unsigned long long)index));
	*owned = true;
	if (out->index != index || out->term != raft__log_term(log, index)) {
		free((void *)out->data);
		out->data = NULL;
		return err_new(ERR_CORRUPT, "entry %llu read back as %llu/%llu",
		               (unsigned long long)index, (unsigned long long)out->index,
		               (unsigned long long)out->term);
	}
	return NULL;
}

void raft__log_persisted(struct raft__log *log, uint64_t index)
{
	assert(log->written <= log->last);
	if (index > log->written)
		index = log->written;
	if (index > log->stable)
		log->stable = index;
	/* Evict persisted entries from the front while over budget. */
	while (log->cache_first <= log->stable &&
	       (log->cache_bytes > log->max_cache_bytes ||
	        log->last + 1 - log->cache_first > RAFT__CACHE_MAX_ENTRIES)) {
		struct raft_entry *slot = raft__slot(log, log->cache_first);
		log->cache_bytes -= slot->len;
		free((void *)slot->data);
		slot->data = NULL;
		log->cache_first++;
	}
	assert(log->cache_first <= log->stable + 1);
}

uint64_t raft__log_term_start(const struct raft__log *log, uint64_t index, uint64_t floor)
{
	assert(index >= 1 && index <= log->last);
	uint64_t term = raft__log_term(log, index);
	while (index > floor + 1 && index > 1 && raft__log_term(log, index - 1) == term)
		index--;
	return index;
}

uint64_t raft__log_last_of_term(const struct raft__log *log, uint64_t term)
{
	uint64_t i = log->last;
	while (i > 0 && raft__log_term(log, i) > term)
		i--;
	return i > 0 && raft__log_term(log, i) == term ? i : 0;
}
