/*
 * statement.h — (internal) executing one statement inside a transaction.
 *
 * The session (session.c) owns transactions; for each statement it sets up a
 * `struct sql__stmt` (arena, statement overlay, planner, executor) and calls one of the
 * functions below. They all promise the same thing: on error, whatever they wrote is only
 * in the statement overlay, which the session then discards, so a failed statement
 * leaves its transaction as it was.
 *
 *   write.c  row writes and the constraints checked on them
 *   ddl.c    CREATE / DROP TABLE and INDEX
 *   dml.c    INSERT, UPDATE, DELETE, and planning + optimizing queries
 */
#ifndef CAIRN_SQL_STATEMENT_H
#define CAIRN_SQL_STATEMENT_H

#include "sql/ast.h"
#include "sql/exec.h"
#include "sql/planner.h"

/* One statement may defer at most this many foreign key checks (a few per row it writes). */
#define SQL__MAX_DEFERRED_CHECKS (4 * SQL_STATEMENT_MAX_WRITES)

/*
 * A foreign key check a write deferred to the end of its statement (SQL checks foreign
 * keys when the statement ends, so a row may reference itself or a row written after it).
 */
struct sql__deferred {
	const struct sql_table *table; /* the referencing table, or the referenced one */
	int32_t column;                /* the referencing column, or -1: `value` is an old key */
	struct sql_value value;        /* owned: the referencing value, or a key that went away */
};

struct sql__stmt {
	struct sql_arena *arena;
	struct sql_txn *txn;
	struct sql_planner planner;
	struct sql_exec exec;
	bool unoptimized; /* plan queries without any optimizer rule (sql_session_set_optimizer) */
	/* the foreign key checks the statement's writes deferred (malloc'd, in write order) */
	struct sql__deferred *deferred;
	uint32_t deferred_count;
	uint32_t deferred_cap;
};

/* ---- write.c ---- */

/*
 * Converts `v` (owned) to the type of column `col` for storing: INTEGER into FLOAT
 * columns, integral FLOATs into INTEGER columns; checks VARCHAR(n) lengths. ERR_TYPE
 * (naming the column) when the value cannot be stored there.
 */
err *sql__coerce(const struct sql_table *t, uint32_t col, struct sql_value *v);

/*
 * Checks the NOT NULL constraints of a full row and defers its FOREIGN KEY checks (the
 * parent rows must exist) to sql__check_deferred().
 */
err *sql__check_row(struct sql__stmt *st, const struct sql_table *t, const struct sql_value *row);

/*
 * Stores a row under primary key `pk` (the pk column's value, or a hidden row id) with
 * its index entries, after checking PRIMARY KEY and UNIQUE constraints.
 */
err *sql__insert_row(struct sql__stmt *st, const struct sql_table *t, const struct sql_value *row,
                     const struct sql_value *pk);

/*
 * Deletes every key under `prefix` as one range deletion: a record of a few bytes however
 * many keys there are.
 */
err *sql__delete_prefix(struct sql__stmt *st, struct slice prefix);

/* Deletes every row of `t` and every entry of its indexes, as range deletions. */
err *sql__delete_all_rows(struct sql__stmt *st, const struct sql_table *t);

/* Removes a row and its index entries. */
err *sql__delete_row(struct sql__stmt *st, const struct sql_table *t, const struct sql_value *row,
                     const struct sql_value *pk);

/* Whether some table (t itself included) has a foreign key to `t`. */
err *sql__referenced(struct sql__stmt *st, const struct sql_table *t, bool *out);

/*
 * Defers to sql__check_deferred() the check that no row references primary key `pk` of
 * `t` (the key of a row deleted, or changed, by the statement). Callers ask
 * sql__referenced() once per statement and defer only for a referenced table.
 */
err *sql__defer_unreferenced(struct sql__stmt *st, const struct sql_table *t,
                             const struct sql_value *pk);

/*
 * Runs the foreign key checks the statement's writes deferred, once they are all done:
 * ERR_CONSTRAINT for the first one that fails. The checks stay recorded.
 */
err *sql__check_deferred(struct sql__stmt *st);

/* Forgets the deferred checks (checked or not) and frees them. */
void sql__forget_deferred(struct sql__stmt *st);

/* ERR_CONSTRAINT if unique index `x` already holds the row's values (NULLs never clash). */
err *sql__check_unique(struct sql__stmt *st, const struct sql_table *t, const struct sql_index *x,
                       const struct sql_value *row);

/* Writes the index entry of `row` for index `x` (or deletes it). */
err *sql__index_entry(struct sql__stmt *st, const struct sql_index *x, const struct sql_value *row,
                      const struct sql_value *pk, bool remove);

/* ---- ddl.c ---- */

/* IF [NOT] EXISTS turns a missing or existing object into a successful no-op. */
err *sql__create_table(struct sql__stmt *st, const struct sql_stmt *s);
err *sql__drop_table(struct sql__stmt *st, const struct sql_stmt *s);
err *sql__create_index(struct sql__stmt *st, const struct sql_stmt *s);
err *sql__drop_index(struct sql__stmt *st, const struct sql_stmt *s);

/* ---- dml.c ---- */

err *sql__insert(struct sql__stmt *st, const struct sql_stmt *s, uint64_t *count);
err *sql__update(struct sql__stmt *st, const struct sql_stmt *s, uint64_t *count);
err *sql__delete(struct sql__stmt *st, const struct sql_stmt *s, uint64_t *count);

/* Plans and optimizes a query (plans it only when st->unoptimized). */
err *sql__plan_query(struct sql__stmt *st, const struct sql_select *s, struct sql_plan **out);

/*
 * Plans and optimizes (unless st->unoptimized) the row source of an UPDATE or DELETE (a
 * scan with the key).
 */
err *sql__plan_target(struct sql__stmt *st, const struct sql_table *t, const struct sql_expr *where,
                      struct sql_plan **out);

#endif
