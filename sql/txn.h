/*
 * txn.h — the SQL engine's view of one MVCC transaction: statement atomicity.
 *
 * MVCC buffers a transaction's writes until commit, but a statement must be atomic
 * within its transaction too: a constraint violated on the third row of a multi-row
 * INSERT must leave the transaction as it was before the statement. So a statement
 * writes into its own small overlay first. Reads and scans see the overlay merged over
 * the MVCC transaction (a statement sees its own writes, e.g. to detect a duplicate key
 * between two rows of one INSERT). When the statement succeeds, sql_txn_flush() moves
 * the overlay into the MVCC write buffer; when it fails, sql_txn_discard() drops it.
 *
 * Reads go straight to the MVCC transaction, which records them in its read set for
 * commit-time validation (storage/mvcc.h).
 */
#ifndef CAIRN_SQL_TXN_H
#define CAIRN_SQL_TXN_H

#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

struct mvcc_txn;
struct sql__write;
struct sql__range;
struct sql_catalog_cache;

/* One statement may write at most this many keys (MVCC bounds the transaction too). */
#define SQL_STATEMENT_MAX_WRITES 262144

struct sql_txn {
	struct mvcc_txn *mvcc;
	/* the statement overlay: entries in write order, a hash index over their keys */
	struct sql__write *writes;
	uint32_t write_count;
	uint32_t write_cap;
	uint32_t *slots; /* open addressing: index + 1 into writes, 0 empty */
	uint32_t slot_count;
	/* indexes of writes[0..sorted_count) in key order: a scan's overlay is a binary
	 * search there plus the few writes after them, not a sort of every write */
	uint32_t *sorted;
	uint32_t sorted_count;
	/* ranges the statement deleted whole, in order; the flush applies them first */
	struct sql__range *ranges;
	uint32_t range_count;
	/* decoded schemas shared across statements (catalog.h), or NULL; kept by discard */
	struct sql_catalog_cache *catalog_cache;
};

/* Wraps an MVCC transaction (not owned) with an empty overlay and no schema cache. */
void sql_txn_init(struct sql_txn *t, struct mvcc_txn *mvcc);

/* Moves the overlay into the MVCC transaction, in key order. On error the MVCC
 * transaction may hold part of the overlay: the caller must abandon the transaction. */
err *sql_txn_flush(struct sql_txn *t);

/* Drops the overlay (the statement failed). */
void sql_txn_discard(struct sql_txn *t);

err *sql_txn_get(struct sql_txn *t, struct slice key, struct buf *out, bool *found);
err *sql_txn_put(struct sql_txn *t, struct slice key, struct slice value);
err *sql_txn_delete(struct sql_txn *t, struct slice key);
/*
 * Deletes every key in [from, to) however many there are (mvcc_delete_range at the
 * flush): the statement's earlier writes in the range are dropped, its later ones kept,
 * and its reads no longer see the range's stored keys.
 */
err *sql_txn_delete_range(struct sql_txn *t, struct slice from, struct slice to);

/*
 * A scan over [from, to) in key order, merging the overlay over MVCC. Keys and values
 * returned by next() are valid until the next call. Writes made while the scan is open
 * are not seen by it (callers materialise before writing).
 */
struct sql_txn_scan;
err *sql_txn_scan_open(struct sql_txn *t, struct slice from, struct slice to,
                       struct sql_txn_scan **out);
/* Scans every key starting with `prefix`. */
err *sql_txn_scan_prefix(struct sql_txn *t, struct slice prefix, struct sql_txn_scan **out);
err *sql_txn_scan_next(struct sql_txn_scan *sc, struct slice *key, struct slice *value, bool *done);
/*
 * sql_txn_scan_next() in two halves (see mvcc_scan_step): step returns the next entry's
 * value; sql_txn_scan_key() the key of the entry step returned last, decoded only when
 * asked for. Both stay valid until the next step.
 */
err *sql_txn_scan_step(struct sql_txn_scan *sc, struct slice *value, bool *done);
err *sql_txn_scan_key(struct sql_txn_scan *sc, struct slice *key);
void sql_txn_scan_close(struct sql_txn_scan *sc);

#endif
