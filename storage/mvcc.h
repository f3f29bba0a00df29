/*
 * mvcc.h — serializable MVCC transactions over a KV engine, versioned by Raft log index.
 *
 * The replicated state machine of a cairn node. Every committed read-write transaction is
 * one Raft log entry; the version of everything it wrote is that entry's log index. The
 * life of a transaction:
 *
 *   1. mvcc_begin() at a read version v (normally the applied version after a ReadIndex
 *      round; an older v is a time-travel "AS OF" read). Reads see exactly the state after
 *      applying log entries 1..v, plus the transaction's own buffered writes.
 *   2. mvcc_get / mvcc_scan_* read, mvcc_put / mvcc_delete buffer writes in the
 *      transaction. Nothing touches the store. Read-write transactions record what they
 *      read: keys and scanned key ranges (the read set).
 *   3. Commit: a read-only transaction just ends (mvcc_txn_free); its snapshot was
 *      consistent. A read-write one is encoded with mvcc_txn_encode_commit() and proposed
 *      to Raft; once committed at log index i every replica calls mvcc_apply(record, i).
 *   4. mvcc_apply() validates: if any key or range in the read set was written by a
 *      transaction committed at an index in (v, i), the transaction aborts with ERR_CONFLICT
 *      ("serialization failure, retry transaction"); otherwise its writes are installed at
 *      version i. Every replica decides identically, so the outcome is a pure function of
 *      the log. Committed transactions are therefore serializable in log-index order, and
 *      strictly serializable when read versions come from ReadIndex.
 *
 * Outcomes are values: a malformed record, a conflict or a stale transaction is an aborted
 * outcome, never a crash and never an `err *` (those mean the node itself is in trouble:
 * the KV engine failed or memory ran out, and the caller should stop applying).
 *
 * Idempotency: outcomes are remembered by transaction id for as long as the transaction is
 * in the validation history (options.history_max_entries entries). Applying a record
 * whose id was applied before returns the first outcome (duplicate = true) and changes
 * no data (the store notes that the index held a duplicate). A record whose read version
 * is older than the history returns ERR_UNKNOWN_OUTCOME and changes nothing: it may be a
 * late retry of a transaction whose answer was forgotten, so "aborted" could be a lie.
 *
 * Durability: mvcc_apply() writes into the KV with kv_apply(); mvcc_flush() makes every
 * applied entry durable in one kv_commit() (group commit). After a crash the node reopens
 * and re-applies its log from mvcc_applied_version() + 1, which reproduces the same state.
 *
 * Determinism: given the same options and the same sequence of mvcc_apply / mvcc_advance /
 * mvcc_gc calls, two stores hold byte-identical KV contents (mvcc_state_hash agrees) but
 * for the meta row of the applied version, which follows lazily: mvcc_flush, mvcc_close
 * and mvcc_state_hash bring it up to date first. The options that shape validation
 * (history_*) must be identical on every replica.
 *
 * Ownership: while an mvcc is open it is the only writer of its KV engine. Transactions,
 * scans and outcomes are single-threaded like everything else in a node.
 */
#ifndef CAIRN_STORAGE_MVCC_H
#define CAIRN_STORAGE_MVCC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/prng.h"
#include "storage/kv.h"

/* A user key is 1..MVCC_KEY_MAX bytes; a value is 0..MVCC_VALUE_MAX bytes (ERR_LIMIT). */
#define MVCC_KEY_MAX 500
#define MVCC_VALUE_MAX (KV_VALUE_MAX - 1)
/* One transaction writes at most this many distinct keys and this many key+value bytes. */
#define MVCC_TXN_MAX_WRITES 262144
#define MVCC_TXN_MAX_WRITE_BYTES ((size_t)32 << 20)
/*
 * The read set holds at most this many key ranges and bytes. Past either bound it is
 * escalated: neighbouring ranges merge into ranges that cover them (and the keys between),
 * so a large transaction may see spurious conflicts, never missed ones.
 */
#define MVCC_READ_SET_MAX_RANGES 4096
#define MVCC_READ_SET_MAX_BYTES ((size_t)1 << 20)
/* A commit record is at most this large. */
#define MVCC_RECORD_MAX_BYTES (MVCC_TXN_MAX_WRITE_BYTES + MVCC_READ_SET_MAX_BYTES + (8u << 20))
/* Range deletions (mvcc_delete_range) one transaction may make. */
#define MVCC_TXN_MAX_RANGE_DELETES 256
/*
 * Committed range deletions a store holds until GC purges them; new ones are refused
 * (when a transaction makes one: replicas may purge at different times) past this many.
 */
#define MVCC_RANGE_DELETES_PENDING_MAX 16384
/* Outcome messages are truncated to this many bytes (including the terminating NUL). */
#define MVCC_MESSAGE_MAX 160

/* Defaults for struct mvcc_options. */
#define MVCC_DEFAULT_HISTORY_MAX_ENTRIES 65536
#define MVCC_DEFAULT_HISTORY_MAX_BYTES ((uint64_t)64 << 20)

/* mvcc_begin() read_version: the latest applied version. */
#define MVCC_LATEST UINT64_MAX

/* mvcc_begin() flags. */
#define MVCC_READ_ONLY 1u

struct mvcc;
struct mvcc_txn;
struct mvcc_scan;

struct mvcc_txn_id {
	uint64_t hi;
	uint64_t lo;
};

/*
 * Where the records a store applied can be read again: load(ctx, index, out) appends to
 * `out` the commit record of log entry `index` (nothing for an entry that carried none,
 * such as a Raft no-op). For a replica, its Raft log.
 */
struct mvcc_log_source {
	void *ctx;
	err *(*load)(void *ctx, uint64_t index, struct buf *out);
};

struct mvcc_options {
	/*
	 * Draws transaction ids (128 random bits each). Owned by the caller and must outlive
	 * the mvcc. Ids must never repeat, so the stream must differ across restarts of a
	 * node (the env's PRNG does); required.
	 */
	struct prng *prng;
	/*
	 * The validation history: the last history_max_entries applied records, and fewer if
	 * their written keys exceed history_max_bytes. A transaction whose read version is
	 * older than the history cannot be validated and gets ERR_UNKNOWN_OUTCOME. 0 means
	 * the default. Must be identical on every replica.
	 */
	uint32_t history_max_entries;
	uint64_t history_max_bytes;
	/*
	 * The history is not stored: mvcc_open() rebuilds it by reading again the records
	 * of the window (from the oldest one it held to the applied version) from `log`. A
	 * store opened without a log (load NULL: one serving no replica, whose transactions
	 * cannot outlive the process) starts with an empty history at the applied version,
	 * so nothing older can be validated. Every replica must give its log, so that all
	 * decide alike after restarts.
	 */
	struct mvcc_log_source log;
};

/* The result of applying one log entry. */
struct mvcc_outcome {
	struct mvcc_txn_id txn_id; /* zero if the record could not be decoded */
	uint64_t index;            /* the log index that decided it (the first application) */
	bool committed;
	bool duplicate;                 /* this is the remembered outcome of an earlier entry */
	enum err_code code;             /* 0 when committed: ERR_CONFLICT, ERR_DECODE, ... */
	char message[MVCC_MESSAGE_MAX]; /* why it aborted; empty when committed */
};

/* ---- the store ---- */

/*
 * Opens MVCC over `kv` (which it does not own and which must outlive it): reads the
 * applied version from the store and the last commit's metadata, and rebuilds the
 * validation history from options->log. ERR_CORRUPT if the store holds something MVCC
 * did not write (or an older format); errors of the log source are passed on.
 */
err *mvcc_open(struct kv *kv, const struct mvcc_options *options, struct mvcc **out);

/* Closes; all transactions must have been freed. Applied, unflushed entries stay in the kv. */
void mvcc_close(struct mvcc *m);

/* The highest log index applied (or advanced past); 0 for a new store. */
uint64_t mvcc_applied_version(const struct mvcc *m);

/* The oldest version still readable (raised by mvcc_gc); 0 if never collected. */
uint64_t mvcc_gc_low_water(const struct mvcc *m);

/*
 * Applies the committed log entry `index` holding a commit record: decodes it (trusting
 * nothing), validates it and installs its writes at version `index`, filling *out. Every
 * replica gets the same outcome. `index` must be greater than the applied version
 * (ERR_INVALID otherwise, nothing changes). An `err *` means the engine failed or memory
 * ran out (ERR_NOMEM, even while decoding: a record is judged malformed only by its
 * bytes); the in-memory state is then unchanged too.
 */
err *mvcc_apply(struct mvcc *m, const uint8_t *record, size_t len, uint64_t index,
                struct mvcc_outcome *out);

/* Marks `index` (> applied version) as applied when its log entry holds no MVCC record. */
err *mvcc_advance(struct mvcc *m, uint64_t index);

/*
 * Makes everything applied so far durable in one kv_commit() whose metadata records the
 * applied version. With sync=false the commit may be lost by a crash (never torn).
 */
err *mvcc_flush(struct mvcc *m, bool sync);

/*
 * Removes versions that no snapshot at or above `low_water` can read: for each key, all
 * versions older than its newest version <= low_water, and that one too if it is a
 * deletion. low_water is clamped to the applied version and to the oldest read version
 * of an open transaction; it never moves backwards. Afterwards mvcc_begin() below the
 * low-water mark fails. Like an apply, the work is made durable by the next flush.
 */
err *mvcc_gc(struct mvcc *m, uint64_t low_water);

/*
 * Like mvcc_gc(), but visits at most max_entries stored versions, resuming where the last
 * call stopped and wrapping to the first key after reaching the end, so a node can collect
 * a large store a slice at a time instead of stalling on one full pass. Repeated calls at
 * one mark finish the pass; a higher mark starts collecting at the new level from the
 * cursor on. While slices find nothing to collect, each visits half as many versions as
 * the last, down to max_entries / 16; a slice that collects restores max_entries.
 */
err *mvcc_gc_some(struct mvcc *m, uint64_t low_water, uint64_t max_entries);

/*
 * The periodic collection every replica runs at the same log indexes (and an embedded
 * store after its commits): if the applied version crossed a multiple of `interval`
 * since `before`, one mvcc_gc_some() slice of at most `slice` versions at that multiple
 * less `retain` (which AS OF reads can therefore reach back); nothing otherwise.
 */
err *mvcc_gc_periodic(struct mvcc *m, uint64_t before, uint64_t interval, uint64_t retain,
                      uint64_t slice);

/*
 * A 64-bit xxHash of the full KV contents (keys and values in order), for comparing
 * replicas; writes the applied version's meta row first if it lags (see "Determinism").
 */
err *mvcc_state_hash(struct mvcc *m, uint64_t *out);

/*
 * A 64-bit xxHash of the data as of the applied version: every live user key and its
 * value, in key order. Unlike mvcc_state_hash() it ignores old versions and bookkeeping,
 * so replicas whose GC kept different old versions (each keeps what its own open
 * transactions still read) agree whenever their data does.
 */
err *mvcc_data_hash(struct mvcc *m, uint64_t *out);

/* ---- transactions ---- */

/*
 * Begins a transaction reading at `read_version` (MVCC_LATEST for the applied version).
 * flags: MVCC_READ_ONLY (puts and deletes fail, nothing is recorded). ERR_INVALID if the
 * version is not applied yet or is below the GC low-water mark (garbage-collected).
 */
err *mvcc_begin(struct mvcc *m, uint64_t read_version, unsigned flags, struct mvcc_txn **out);

/* Rolls back (if not committed) and releases; NULL is allowed. Scans must be closed. */
void mvcc_txn_free(struct mvcc_txn *txn);

struct mvcc_txn_id mvcc_txn_id(const struct mvcc_txn *txn);
uint64_t mvcc_txn_read_version(const struct mvcc_txn *txn);
/* True if begun read-only or if it has written nothing (then it needs no log entry). */
bool mvcc_txn_is_read_only(const struct mvcc_txn *txn);

/* Reads `key` at the read version, seeing the transaction's own writes first. */
err *mvcc_get(struct mvcc_txn *txn, struct slice key, struct buf *value, bool *found);

/* Buffers a write in the transaction. ERR_LIMIT past the write-set bounds. */
err *mvcc_put(struct mvcc_txn *txn, struct slice key, struct slice value);
err *mvcc_delete(struct mvcc_txn *txn, struct slice key);

/*
 * Buffers the deletion of every key in [from, to) (from < to, each 1..MVCC_KEY_MAX + 1
 * bytes) at once, however many there are: the commit record carries the range, not its
 * keys. Writes the transaction buffered in the range before are dropped; writes it makes
 * in the range afterwards survive. From the commit's version on, the range reads empty
 * except for what was written at or after that version; older snapshots still see the
 * keys. For validation the range counts as written (a transaction that read a key in it
 * conflicts). GC purges the range's old versions once the low-water mark passes the
 * commit. ERR_LIMIT past MVCC_TXN_MAX_RANGE_DELETES ranges in one transaction, or while
 * the store already holds MVCC_RANGE_DELETES_PENDING_MAX ranges awaiting their purge.
 */
err *mvcc_delete_range(struct mvcc_txn *txn, struct slice from, struct slice to);

/*
 * Opens a scan over user keys in [from, to) (NULL: unbounded), ascending or, with
 * reverse, descending. It merges the snapshot at the read version with the transaction's
 * write buffer, hiding deleted keys. Writes the transaction makes while a scan is open are
 * seen by the scan if they lie ahead of its position. The range the caller actually
 * consumed (up to the last key returned, or all of it once the scan reports done) joins
 * the read set when the scan ends or is closed.
 */
err *mvcc_scan_open(struct mvcc_txn *txn, const struct slice *from, const struct slice *to,
                    bool reverse, struct mvcc_scan **out);

/* Returns the next entry, or *done = true. key and value stay valid until the next call. */
err *mvcc_scan_next(struct mvcc_scan *scan, struct slice *key, struct slice *value, bool *done);

/*
 * mvcc_scan_next() in two halves, for callers that often need only the value: step
 * returns the next entry's value (or *done = true); mvcc_scan_key() then gives the key of
 * the entry step returned last, decoded only when asked for. Both stay valid until the
 * next step. mvcc_scan_key() must not be called before a step returned an entry.
 */
err *mvcc_scan_step(struct mvcc_scan *scan, struct slice *value, bool *done);
err *mvcc_scan_key(struct mvcc_scan *scan, struct slice *key);

/* NULL is allowed. */
void mvcc_scan_close(struct mvcc_scan *scan);

/*
 * Appends the commit record of `txn` to `out`: msgpack [format 1, id hi, id lo, read
 * version, [read ranges: from, to|nil, ...], [writes in key order: key, value|nil, ...]],
 * or format 2 with a seventh element [deleted ranges: from, to, ...] when the transaction
 * deleted ranges (mvcc_delete_range). ERR_INVALID if a scan is still open or the
 * transaction has ended.
 */
err *mvcc_txn_encode_commit(struct mvcc_txn *txn, struct buf *out);

/*
 * For a single-node (embedded) database: commits `txn` without Raft. A read-only
 * transaction just succeeds. Otherwise its record is applied at the next index and
 * flushed with sync. The outcome says whether it committed; either way the transaction has
 * ended and must still be freed.
 */
err *mvcc_commit_local(struct mvcc *m, struct mvcc_txn *txn, struct mvcc_outcome *out);

#endif
