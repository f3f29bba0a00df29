/*
 * keys.h — where the SQL engine puts things in the MVCC key space.
 *
 * Every key starts with a U64 namespace tag (storage/keycode.h), so each kind of entry
 * lives in its own contiguous key range and a prefix scan finds exactly one table's rows or
 * one index's entries:
 *
 *     catalog entry     U64(1) STRING(table name)              -> table schema (msgpack)
 *     id counter        U64(2)                                 -> U64 next table/index id
 *     row id counter    U64(3) U64(table id)                   -> U64 next hidden row id
 *     table row         U64(4) U64(table id) VALUE(primary key) -> row (msgpack array)
 *     index entry       U64(5) U64(index id) VALUE(col)... VALUE(primary key) -> empty
 *
 * VALUE(v) is the order-preserving encoding of an SQL value. Because keycode orders every
 * INTEGER before every FLOAT, callers encode a FLOAT column's values as FLOAT always (the
 * row layer converts integers stored into FLOAT columns); then key order is SQL order.
 * A table without a primary key is keyed by a hidden INTEGER row id.
 */
#ifndef CAIRN_SQL_KEYS_H
#define CAIRN_SQL_KEYS_H

#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "sql/value.h"
#include "storage/mvcc.h"

/* The longest key the store accepts. */
#define SQL_KEY_MAX_BYTES MVCC_KEY_MAX

enum sql_key_space {
	SQL_KEYS_CATALOG = 1,
	SQL_KEYS_ID_COUNTER = 2,
	SQL_KEYS_ROWID_COUNTER = 3,
	SQL_KEYS_ROW = 4,
	SQL_KEYS_INDEX = 5,
};

/* Appends the order-preserving encoding of one value. */
err *sql_key_put_value(struct buf *out, const struct sql_value *v);

/* Decodes one value from the front of *cursor (advancing it); text is copied. */
err *sql_key_get_value(struct slice *cursor, struct sql_value *out);

/* Each of these clears `out` and writes the key (or key prefix) described above. */
err *sql_key_catalog(struct buf *out, const char *table_name);
err *sql_key_catalog_prefix(struct buf *out);
err *sql_key_id_counter(struct buf *out);
err *sql_key_rowid_counter(struct buf *out, uint64_t table_id);
err *sql_key_row_prefix(struct buf *out, uint64_t table_id);
err *sql_key_row(struct buf *out, uint64_t table_id, const struct sql_value *pk);
err *sql_key_index_prefix(struct buf *out, uint64_t index_id);

/* Writes into `end` the first key after every key starting with `prefix`. */
err *sql_key_prefix_end(struct slice prefix, struct buf *end);

#endif
