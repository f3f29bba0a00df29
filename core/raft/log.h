/*
 * log.h — Raft's in-memory view of its log: the term of every entry, and a bounded cache
 * of recent entries with their payloads.
 *
 * Raft needs the term of any index at any time (the consistency check of AppendEntries,
 * §5.3; the up-to-date check of RequestVote, §5.4.1; the commitment rule, §5.4.2), so the
 * terms (and payload sizes) of all entries stay in memory: 12 bytes an entry. Payloads are
 * kept only for a suffix of the log, the cache: every entry not yet persisted (it exists
 * nowhere else) plus as many persisted ones as `max_cache_bytes` allows, so a leader
 * replicating to followers that keep up never reads the disk. Older payloads are loaded
 * through the raft_log_source (the durable log).
 *
 * Indexes start at 1; index 0 has term 0 and is the empty prefix every log shares.
 */
#ifndef CAIRN_RAFT_LOG_H
#define CAIRN_RAFT_LOG_H

#include "raft/raft.h"

struct raft__meta {
	uint64_t term;
	uint32_t len; /* payload bytes */
};

struct raft__log {
	struct raft__meta *meta; /* meta[i] describes entry i+1 */
	uint64_t meta_cap;
	uint64_t last;    /* last index */
	uint64_t stable;  /* last persisted index (durable) */
	uint64_t written; /* last index handed out to be written; stable <= written <= last */
	/* The cache is a ring holding entries cache_first..last with owned payloads. */
	struct raft_entry *ring;
	uint64_t ring_cap; /* a power of two */
	uint64_t cache_first;
	size_t cache_bytes;
	size_t max_cache_bytes;
	struct raft_log_source source;
};

/* Starts from the persisted entries' terms (all persisted, none cached). */
err *raft__log_init(struct raft__log *log, const struct raft_initial *initial,
                    struct raft_log_source source, size_t max_cache_bytes);
void raft__log_free(struct raft__log *log);

/* The term of `index`; 0 for index 0. Precondition: index <= last. */
uint64_t raft__log_term(const struct raft__log *log, uint64_t index);
uint64_t raft__log_last_term(const struct raft__log *log);
uint32_t raft__log_len(const struct raft__log *log, uint64_t index);

/* True if the log holds `index` with `term` (the AppendEntries check, §5.3). */
bool raft__log_matches(const struct raft__log *log, uint64_t index, uint64_t term);

/* True if a log ending at (last_index, last_term) is at least as up-to-date (§5.4.1). */
bool raft__log_up_to_date(const struct raft__log *log, uint64_t last_index, uint64_t last_term);

/*
 * Appends a copy of `e` (payload copied). Precondition: e->index == last + 1 and its term
 * is at least the last term (terms never decrease along a log).
 */
err *raft__log_append(struct raft__log *log, const struct raft_entry *e);

/* Removes entries from `index` on (index > 0); persisted ones are rewritten later. */
void raft__log_truncate(struct raft__log *log, uint64_t index);

/*
 * Returns entry `index` (1..last) in *out. If *owned comes back true the payload was
 * loaded from disk and the caller frees it (free((void *)out->data)); otherwise it is
 * borrowed from the cache and valid until the log changes.
 */
err *raft__log_get(struct raft__log *log, uint64_t index, struct raft_entry *out, bool *owned);

/*
 * Entries up to `index` are durable; drops old payloads beyond the cache budget. An index
 * beyond `written` is clamped to it: a truncation since the write took those entries away.
 */
void raft__log_persisted(struct raft__log *log, uint64_t index);

/* The first index of the run of entries sharing index's term, not below `floor` (§5.3). */
uint64_t raft__log_term_start(const struct raft__log *log, uint64_t index, uint64_t floor);

/* The last index whose term is `term`, or 0 if no entry has that term. */
uint64_t raft__log_last_of_term(const struct raft__log *log, uint64_t term);

#endif
