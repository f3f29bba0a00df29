/*
 * exec_internal.h — (internal to the executor) the iterator struct shared by the node
 * families: exec.c (leaves, filter, project, sort, distinct, limit), exec_join.c,
 * exec_agg.c and exec_subquery.c (subqueries and set operations).
 */
#ifndef CAIRN_SQL_EXEC_INTERNAL_H
#define CAIRN_SQL_EXEC_INTERNAL_H

#include "sql/exec.h"

/* A hash set of rows (deep copies), for DISTINCT, IN and set operations. */
struct sql__rowset {
	struct sql_rows rows;
	uint64_t *slots; /* open addressing: row index + 1, 0 empty */
	uint64_t slot_count;
};

void sql__rowset_init(struct sql__rowset *s, uint32_t width);
void sql__rowset_free(struct sql__rowset *s);
/* Adds a copy of `row` unless an equal row is present; *added says which. */
err *sql__rowset_add(struct sql__rowset *s, const struct sql_value *row, bool *added);
bool sql__rowset_contains(const struct sql__rowset *s, const struct sql_value *row);

struct sql_iter {
	const struct sql_plan *plan;
	struct sql_exec *x;
	const struct sql_eval_ctx *outer;
	err *(*next)(struct sql_iter *it, const struct sql_value **row, bool *done);
	void (*cleanup)(struct sql_iter *it); /* node-specific release, may be NULL */
	struct sql_iter *input, *right;

	struct sql_value *own; /* width owned values: the current row of value-producing nodes */
	struct sql_rows rows;  /* materialised rows (sort, aggregate, join build side, ...) */
	uint64_t pos;          /* cursor into rows, VALUES rows, scan points */
	uint64_t emitted;      /* LIMIT: rows passed; OFFSET: rows skipped */
	bool started;

	/* scans */
	struct sql_txn_scan *scan;
	struct buf key, value, end;
	struct buf prefix; /* the key prefix of the table or index the scan reads */

	/* joins (exec_join.c) */
	struct sql_value *joined; /* width shallow values: left row then right row */
	const struct sql_value *left;
	bool left_matched;
	bool left_done;
	bool *right_matched; /* RIGHT joins: which build rows found a partner */
	/*
	 * hash join: bucket heads and chains (row index + 1), 32 bits (rows are fewer than
	 * SQL_EXEC_MAX_ROWS) and one bucket per row, so the probed arrays stay cache-sized
	 */
	uint32_t *buckets, *chain;
	uint64_t bucket_count;
	struct sql_rows keys;    /* hash join: build-side key values per build row */
	int64_t key_column;      /* hash join: or, for one plain column key, its column (else -1) */
	struct sql_value *probe; /* hash join: the current left row's key values */
	bool probe_null;
	const struct sql_value *right_row; /* merge join: the right input's current row */

	/* DISTINCT and set operations */
	struct sql__rowset seen;
};

/* Allocates an iterator for `plan` with the common fields set. */
err *sql__iter_new(struct sql_exec *x, const struct sql_plan *plan,
                   const struct sql_eval_ctx *outer, struct sql_iter **out);

/* Frees the current values of `own` (width of the plan) so a new row can be written. */
void sql__iter_clear_own(struct sql_iter *it);

/* Counts one row looked at against SQL_EXEC_MAX_WORK: ERR_LIMIT past it. */
err *sql__exec_work(struct sql_exec *x);

/* Node families' open functions: set it->next (and it->cleanup), open children. */
err *sql__join_open(struct sql_iter *it);
err *sql__hash_join_open(struct sql_iter *it);
err *sql__merge_join_open(struct sql_iter *it);
err *sql__aggregate_open(struct sql_iter *it);
err *sql__set_op_open(struct sql_iter *it);

/* The evaluation context for a row of `it`'s node. */
static inline struct sql_eval_ctx sql__ctx(const struct sql_iter *it, const struct sql_value *row,
                                           uint32_t width)
{
	return (struct sql_eval_ctx){row, width, it->outer, it->x};
}

#endif
