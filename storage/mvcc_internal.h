/*
 * mvcc_internal.h — the structures shared by mvcc.c (the store and apply), mvcc_txn.c
 * (transactions) and mvcc_scan.c (merged scans). Not a public header.
 */
#ifndef CAIRN_STORAGE_MVCC_INTERNAL_H
#define CAIRN_STORAGE_MVCC_INTERNAL_H

#include "storage/kv.h"
#include "storage/mvcc.h"
#include "storage/mvcc_history.h"
#include "storage/mvcc_readset.h"
#include "storage/mvcc_tombstone.h"

/* At most this many transactions may be open on one store at once. */
#define MVCC__MAX_OPEN_TXNS 65536
/* At most this many scans may be open in one transaction at once. */
#define MVCC__MAX_OPEN_SCANS 256

struct mvcc {
	struct kv *kv;
	struct prng *prng;
	struct mvcc__history history;
	uint64_t applied;
	/*
	 * The index of the last entry whose record was installed (or found a duplicate), and
	 * what the "applied" row in the kv holds: the row follows lazily (mvcc__row_note).
	 */
	uint64_t last_record, applied_row;
	uint64_t gc_low_water;
	/* where the next bounded sweep (mvcc_gc_some) resumes; empty: from the first key */
	struct buf gc_cursor;
	/* versions the next bounded sweep visits at most: fewer while sweeps find nothing */
	uint64_t gc_budget;
	/*
	 * Bumped whenever MVCC applies or commits to the kv, which invalidates kv iterators;
	 * scans compare it to know when to reopen theirs.
	 */
	uint64_t kv_generation;
	/*
	 * The last mvcc_data_hash(): its value, and the generation and applied version it was
	 * computed at. Only MVCC changes the kv (each change bumps kv_generation), so while
	 * both still match, the hash does too.
	 */
	bool data_hash_valid;
	uint64_t data_hash_generation, data_hash_applied, data_hash;
	/* committed range deletions GC has not purged yet, by index */
	struct mvcc__tombstones deleted;
	/* where purging the first of them resumes (empty: at its start) */
	struct buf purge_cursor;
	struct mvcc_txn *txns; /* open transactions, a doubly linked list */
	uint32_t open_txns;
	struct kv_batch batch; /* reused by every apply */
	struct buf key;        /* scratch for building keys */
	struct buf value;      /* scratch for building values */
};

struct mvcc_txn {
	struct mvcc *m;
	struct mvcc_txn *prev, *next;
	struct mvcc_txn_id id;
	uint64_t read_version;
	bool read_only; /* begun with MVCC_READ_ONLY */
	bool ended;     /* committed through mvcc_commit_local */
	/* the first error recording a read; a transaction with an incomplete read set cannot commit */
	err *poisoned;
	struct mvcc__readset reads;
	/* read-write only: user key -> tag byte + value, in a memory engine for key order */
	struct kv *writes;
	uint32_t write_keys;             /* distinct keys in the buffer */
	uint64_t write_bytes;            /* their key, tag and value bytes */
	uint64_t write_generation;       /* bumped by every put and delete */
	struct mvcc__tombstones deleted; /* its own range deletions (MVCC__TOMBSTONE_OWN) */
	uint32_t open_scans;
	struct buf key;         /* scratch */
	struct buf value;       /* scratch */
	struct kv_batch buffer; /* scratch: one write for the buffer, reused */
};

/*
 * Reads the newest version of user_key at or below `version` from the store. *found is
 * false if there is none, it is a deletion, or a range deletion of the store or of `own`
 * (a transaction's, may be NULL) hides it; otherwise the value (without tag) is in out.
 */
err *mvcc__read_committed(struct mvcc *m, struct slice user_key, uint64_t version,
                          const struct mvcc__tombstones *own, struct buf *scratch_key,
                          struct buf *out, bool *found);

/*
 * Adds [from, to) to the read set of a read-write transaction (a read-only one records
 * nothing). A failure poisons the transaction: it can no longer commit.
 */
void mvcc__txn_record_read(struct mvcc_txn *txn, struct slice from, const struct slice *to);

/* NULL if the transaction may still read and write; ERR_INVALID once it has ended. */
err *mvcc__txn_usable(const struct mvcc_txn *txn);

#endif
