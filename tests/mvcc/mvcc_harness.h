/*
 * mvcc_harness.h — shared helpers for the MVCC test suites: a store over a memory engine
 * and a small "replica" that applies commit records at increasing log indexes, the way a
 * node applies committed Raft entries.
 */
#ifndef CAIRN_TESTS_MVCC_HARNESS_H
#define CAIRN_TESTS_MVCC_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "storage/kv_memory.h"
#include "storage/mvcc.h"

/* The records applied through apply_next(), by log index: the store's "Raft log". */
struct store_log {
	struct buf *records; /* records[i] is entry i; empty for an entry without one */
	uint64_t cap;
};

struct store {
	struct kv *kv;
	struct mvcc *m;
	struct prng prng;
	struct mvcc_options options;
	struct store_log log;
};

static inline struct slice S(const char *s) {
	return slice_of(s, strlen(s));
}

/* Fails the test with the error's message. */
static inline void
ok(err *e)
{
	if (e) {
		char msg[256];
		snprintf(msg, sizeof msg, "%s", err_msg(e));
		err_free(e);
		ck_abort_msg("unexpected error: %s", msg);
	}
}

/* Checks that e is an error with `code`, and releases it. */
static inline void fails_with(err *e, enum err_code code)
{
	ck_assert_ptr_nonnull(e);
	ck_assert_msg(err_is(e, code), "expected %s, got %s: %s", err_code_name(code),
	              err_code_name(err_code(e)), err_msg(e));
	err_free(e);
}

static inline err *store_log_load(void *ctx, uint64_t index, struct buf *out)
{
	const struct store_log *log = ctx;
	if (index >= log->cap || log->records[index].len == 0)
		return NULL;
	return buf_append(out, log->records[index].data, log->records[index].len);
}

/* Options reading the history back from the store's log (set log.ctx's address first). */
static inline struct mvcc_options store_options(struct store *s, uint32_t history_max_entries)
{
	return (struct mvcc_options){.prng = &s->prng,
	                             .history_max_entries = history_max_entries,
	                             .log = {&s->log, store_log_load}};
}

static inline void store_log_record(struct store *s, uint64_t index, const struct buf *rec)
{
	if (index >= s->log.cap) {
		uint64_t cap = s->log.cap ? s->log.cap : 64;
		while (cap <= index)
			cap *= 2;
		struct buf *records = realloc(s->log.records, cap * sizeof *records);
		ck_assert_ptr_nonnull(records);
		for (uint64_t i = s->log.cap; i < cap; i++)
			buf_init(&records[i], MVCC_RECORD_MAX_BYTES);
		s->log.records = records;
		s->log.cap = cap;
	}
	buf_clear(&s->log.records[index]);
	if (rec->len > 0)
		ok(buf_append(&s->log.records[index], rec->data, rec->len));
}

/* Opens a store on engine `kv` with a validation window of `window` records (0: default). */
static inline void store_open_on_window(struct store *s, struct kv *kv, uint64_t seed,
                                        uint32_t window)
{
	s->kv = kv;
	s->log = (struct store_log){0};
	prng_seed(&s->prng, seed);
	s->options = store_options(s, window);
	ok(mvcc_open(kv, &s->options, &s->m));
}

static inline void store_open_on(struct store *s, struct kv *kv, uint64_t seed)
{
	store_open_on_window(s, kv, seed, 0);
}

/* Opens a store on a new memory engine with a window of `window` records (0: default). */
static inline void store_open_window(struct store *s, uint64_t seed, uint32_t window)
{
	struct kv *kv;
	ok(kvmem_open(&kv));
	store_open_on_window(s, kv, seed, window);
}

static inline void store_open(struct store *s, uint64_t seed)
{
	store_open_window(s, seed, 0);
}

/* Closes the MVCC and opens it again on the same engine and log (no transaction open). */
static inline void store_reopen(struct store *s)
{
	mvcc_close(s->m);
	ok(mvcc_open(s->kv, &s->options, &s->m));
}

static inline void store_close(struct store *s)
{
	mvcc_close(s->m);
	kv_close(s->kv);
	for (uint64_t i = 0; i < s->log.cap; i++)
		buf_free(&s->log.records[i]);
	free(s->log.records);
	s->log = (struct store_log){0};
	s->m = NULL;
	s->kv = NULL;
}

static inline struct mvcc_txn *begin(struct store *s, uint64_t version, unsigned flags)
{
	struct mvcc_txn *t;
	ok(mvcc_begin(s->m, version, flags, &t));
	return t;
}

/* Reads key as a NUL-terminated string; "" if absent. */
static inline const char *get(struct mvcc_txn *t, const char *key, char *out, size_t size)
{
	struct buf v;
	buf_init(&v, 4096);
	bool found;
	ok(mvcc_get(t, S(key), &v, &found));
	out[0] = 0;
	if (found) {
		ck_assert_uint_lt(v.len, size);
		memcpy(out, v.data, v.len);
		out[v.len] = 0;
	}
	buf_free(&v);
	return out;
}

static inline void put(struct mvcc_txn *t, const char *key, const char *value)
{
	ok(mvcc_put(t, S(key), S(value)));
}

/* Encodes t's commit record into rec (cleared first). */
static inline void encode(struct mvcc_txn *t, struct buf *rec)
{
	buf_clear(rec);
	ok(mvcc_txn_encode_commit(t, rec));
}

/* Applies a record at the next index; returns whether it committed. */
static inline bool apply_next(struct store *s, const struct buf *rec, struct mvcc_outcome *o)
{
	uint64_t index = mvcc_applied_version(s->m) + 1;
	store_log_record(s, index, rec);
	ok(mvcc_apply(s->m, rec->data, rec->len, index, o));
	ck_assert_uint_eq(mvcc_applied_version(s->m), index);
	ck_assert(o->duplicate ? o->index < index : o->index == index);
	return o->committed;
}

/* Commits t through a record at the next index, frees it and returns the outcome code. */
static inline enum err_code commit(struct store *s, struct mvcc_txn *t)
{
	struct buf rec;
	buf_init(&rec, MVCC_RECORD_MAX_BYTES);
	encode(t, &rec);
	mvcc_txn_free(t);
	struct mvcc_outcome o;
	apply_next(s, &rec, &o);
	buf_free(&rec);
	return o.code;
}

/* Writes key=value in a transaction of its own, committed at the next index. */
static inline void write_one(struct store *s, const char *key, const char *value)
{
	struct mvcc_txn *t = begin(s, MVCC_LATEST, 0);
	put(t, key, value);
	ck_assert_int_eq(commit(s, t), 0);
}

/* Reads key at `version` in a fresh read-only transaction. */
static inline const char *read_at(struct store *s, uint64_t version, const char *key, char *out,
                                  size_t size)
{
	struct mvcc_txn *t = begin(s, version, MVCC_READ_ONLY);
	get(t, key, out, size);
	mvcc_txn_free(t);
	return out;
}

/* The keys of a scan joined with commas ("k=v,k=v"). */
static inline const char *scan_all(struct mvcc_txn *t, const char *from, const char *to,
                                   bool reverse, char *out, size_t size)
{
	struct slice f = from ? S(from) : slice_of(NULL, 0);
	struct slice u = to ? S(to) : slice_of(NULL, 0);
	struct mvcc_scan *sc;
	ok(mvcc_scan_open(t, from ? &f : NULL, to ? &u : NULL, reverse, &sc));
	size_t len = 0;
	out[0] = 0;
	for (;;) {
		struct slice k, v;
		bool done;
		ok(mvcc_scan_next(sc, &k, &v, &done));
		if (done)
			break;
		int n = snprintf(out + len, size - len, "%s%.*s=%.*s", len ? "," : "", (int)k.len,
		                 (const char *)k.ptr, (int)v.len, (const char *)v.ptr);
		ck_assert(n > 0 && (size_t)n < size - len);
		len += (size_t)n;
	}
	mvcc_scan_close(sc);
	return out;
}

#endif
