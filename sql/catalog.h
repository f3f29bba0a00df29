/*
 * catalog.h — table schemas, stored in the MVCC store itself.
 *
 * Each table's schema is one key (keys.h: U64(1) STRING(name)) whose value is the schema
 * encoded with core/base/codec.h. Because the catalog is ordinary MVCC data, DDL is
 * transactional: a CREATE TABLE inside BEGIN ... ROLLBACK never happened, and two
 * transactions creating the same table conflict at commit like any other write-write race.
 *
 * Schemas are read per statement through the statement's transaction, so a session
 * always sees its own transaction's catalog, and every read is in its read set. Decoding
 * (and validating: stored data is never trusted) is what a session's schema cache
 * saves: a schema is a pure function of its stored bytes, so a statement that reads the
 * same bytes as an earlier one shares the table decoded then (sql_catalog_read).
 *
 * A table's indexes are part of its schema: the primary key is the row key itself; every
 * UNIQUE column and every CREATE INDEX adds a `struct sql_index` whose entries live under
 * their own id (keys.h).
 */
#ifndef CAIRN_SQL_CATALOG_H
#define CAIRN_SQL_CATALOG_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "sql/arena.h"
#include "sql/txn.h"
#include "sql/value.h"

#define SQL_MAX_COLUMNS 1024
#define SQL_MAX_INDEXES 64
#define SQL_INDEX_MAX_COLUMNS 16
#define SQL_MAX_NAME_BYTES 128

struct sql_column {
	const char *name;
	enum sql_value_type type; /* never SQL_NULL */
	uint32_t max_len;         /* TEXT: byte limit (SQL_VARCHAR_DEFAULT_BYTES unless given) */
	bool not_null;
	bool unique;
	bool has_default;
	struct sql_value default_value; /* text lives in the arena: never sql_value_free() it */
	const char *ref_table;          /* REFERENCES ref_table(primary key), or NULL */
};

struct sql_index {
	uint64_t id;
	const char *name;
	bool unique;
	uint32_t column_count;
	uint32_t columns[SQL_INDEX_MAX_COLUMNS]; /* positions in the table */
};

struct sql_table {
	uint64_t id;
	const char *name;
	uint32_t column_count;
	struct sql_column *columns;
	int32_t pk; /* position of the primary key column, or -1: hidden row id */
	uint32_t index_count;
	struct sql_index *indexes;
};

/* Loads table `name` into `arena`, to be changed (DDL); *out is NULL when it does not exist. */
err *sql_catalog_get(struct sql_txn *t, struct sql_arena *arena, const char *name,
                     struct sql_table **out);

/*
 * Reads table `name` like sql_catalog_get(), to be read only: through t->catalog_cache
 * when there is one (the table is then shared; it stays valid until the cache's next
 * statement), else decoded into `arena`. *out is NULL when the table does not exist.
 */
err *sql_catalog_read(struct sql_txn *t, struct sql_arena *arena, const char *name,
                      const struct sql_table **out);

/*
 * A session's decoded schemas: the last SQL_CATALOG_CACHE_ENTRIES distinct stored
 * encodings it read. A table handed out during a statement is never evicted before
 * sql_catalog_cache_next_statement() says that statement is over.
 */
#define SQL_CATALOG_CACHE_ENTRIES 4
struct sql_catalog_cache;

err *sql_catalog_cache_new(struct sql_catalog_cache **out);
void sql_catalog_cache_free(struct sql_catalog_cache *c);
void sql_catalog_cache_next_statement(struct sql_catalog_cache *c);

/* Loads every table, in name order. */
err *sql_catalog_list(struct sql_txn *t, struct sql_arena *arena, struct sql_table ***out,
                      uint32_t *count);

/* Draws a fresh id for a table or an index (a counter in the store). */
err *sql_catalog_next_id(struct sql_txn *t, uint64_t *id);

/* Draws the next hidden row id of a table without a primary key. */
err *sql_catalog_next_rowid(struct sql_txn *t, uint64_t table_id, int64_t *rowid);

/* Stores a schema (create or replace). Validates names, counts and references. */
err *sql_catalog_put(struct sql_txn *t, const struct sql_table *table);

/* Removes a schema entry (the caller deletes rows and index entries). */
err *sql_catalog_remove(struct sql_txn *t, const char *name);

/* Finds a column by name; -1 if absent. */
int32_t sql_table_column(const struct sql_table *table, const char *name);

/* Finds the table and position of an index by name across all tables. */
err *sql_catalog_find_index(struct sql_txn *t, struct sql_arena *arena, const char *name,
                            struct sql_table **table, uint32_t *index_pos);

/* Appends CREATE TABLE / CREATE INDEX statements that recreate `table`. */
err *sql_table_describe(const struct sql_table *table, struct buf *out);

#endif
