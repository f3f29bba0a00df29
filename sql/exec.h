/*
 * exec.h — the executor: plans run as trees of pull-based iterators (Volcano).
 *
 * sql_iter_open() builds one iterator per plan node; sql_iter_next() pulls one row from
 * the root, which pulls from its children as it needs. A row is `width` values owned by
 * the iterator that returned it and valid until the next call on that iterator: callers
 * copy what they keep. Nodes that need all their input before producing anything (sort,
 * aggregate, the build side of a join, set operations) materialise it, bounded by
 * SQL_EXEC_MAX_ROWS rows.
 *
 * Everything reads through one statement transaction (txn.h). Subqueries in expressions
 * run through sql_exec_subquery() (expr.h); an uncorrelated subquery runs once per
 * statement and its result is cached, a correlated one runs for each outer row.
 */
#ifndef CAIRN_SQL_EXEC_H
#define CAIRN_SQL_EXEC_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "sql/plan.h"
#include "sql/txn.h"

/* A node may hold at most this many rows in memory. */
#define SQL_EXEC_MAX_ROWS ((uint64_t)4 << 20)

/*
 * A statement may look at most this many rows (each row an iterator returns, each pair a
 * nested loop join tries): a node runs one statement at a time, and a cross join of two
 * large tables held it, and every client and Raft with it, for hours. Some seconds' work.
 */
#define SQL_EXEC_MAX_WORK ((uint64_t)100 * 1000 * 1000)

struct sql__subquery_cache;

/* One statement's execution state. */
struct sql_exec {
	struct sql_txn *txn;
	struct sql__subquery_cache *cache; /* results of uncorrelated subqueries */
	uint32_t cache_count, cache_cap;
	uint64_t work; /* rows looked at so far, up to SQL_EXEC_MAX_WORK */
};

struct sql_iter;

void sql_exec_init(struct sql_exec *x, struct sql_txn *txn);
/* Releases the subquery cache. */
void sql_exec_free(struct sql_exec *x);

/* Opens an iterator over `plan`; `outer` is the enclosing query's row context (or NULL). */
err *sql_iter_open(struct sql_exec *x, const struct sql_plan *plan,
                   const struct sql_eval_ctx *outer, struct sql_iter **out);

/* Pulls the next row: *row points to plan->width values, or *done is set. */
err *sql_iter_next(struct sql_iter *it, const struct sql_value **row, bool *done);

/* Closes an iterator and its children; NULL is allowed. */
void sql_iter_close(struct sql_iter *it);

/* A growable array of rows of one width, owning their values. */
struct sql_rows {
	uint32_t width;
	uint64_t count, cap;
	struct sql_value *values; /* count * width */
};

void sql_rows_init(struct sql_rows *r, uint32_t width);
/* Appends a deep copy of `row` (ERR_LIMIT past SQL_EXEC_MAX_ROWS). */
err *sql_rows_push(struct sql_rows *r, const struct sql_value *row);
void sql_rows_free(struct sql_rows *r);
/* Drops every row from index `count` on (no-op if there are fewer). */
void sql_rows_truncate(struct sql_rows *r, uint64_t count);

static inline struct sql_value *sql_rows_at(const struct sql_rows *r, uint64_t i)
{
	return &r->values[i * r->width];
}

/* Runs `plan` to completion, appending every row to `rows` (initialised by the caller). */
err *sql_exec_collect(struct sql_exec *x, const struct sql_plan *plan,
                      const struct sql_eval_ctx *outer, struct sql_rows *rows);

/* Equality used by DISTINCT, GROUP BY and set operations: NULL equals NULL, 1 = 1.0. */
bool sql_values_same(const struct sql_value *a, const struct sql_value *b, uint32_t n);
/* A hash consistent with sql_values_same(). */
uint64_t sql_values_hash(const struct sql_value *v, uint32_t n);

/*
 * Stable merge sort of rows by `keys` (ORDER BY semantics: sql_value_order, DESC,
 * NULLS FIRST/LAST). Sorts `rows` in place.
 */
err *sql_rows_sort(struct sql_rows *rows, const struct sql_sort_key *keys, uint32_t key_count);

#endif
