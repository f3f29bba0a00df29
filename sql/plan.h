/*
 * plan.h — query plans: the tree the planner builds, the optimizer rewrites and the
 * executor runs.
 *
 * Every node produces rows of a fixed width (`width` values, named by `names`). Leaves
 * read tables or produce constant rows; inner nodes filter, project, join, aggregate,
 * sort, deduplicate and limit their inputs. A join's row is its left row followed by its
 * right row, so a bound column reference is just a position in the row of the node whose
 * expressions contain it.
 *
 *     Limit 10
 *       Project: name, total
 *         Sort: total DESC
 *           Aggregate: group by name; SUM(amount)
 *             HashJoin inner: c.id = o.customer
 *               Scan customers AS c
 *               Scan orders AS o (filter o.amount > 0)
 *
 * All nodes, expressions and names live in the statement's arena; constant text values
 * inside plans are arena memory too and must never be passed to sql_value_free().
 */
#ifndef CAIRN_SQL_PLAN_H
#define CAIRN_SQL_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "sql/ast.h"
#include "sql/catalog.h"
#include "sql/expr.h"

enum sql_plan_kind {
	SQL_PLAN_VALUES,     /* row_count constant rows of `exprs` (row-major) */
	SQL_PLAN_SCAN,       /* a table through an access path, with an optional filter */
	SQL_PLAN_FILTER,     /* input rows for which `predicate` is TRUE */
	SQL_PLAN_PROJECT,    /* `exprs` evaluated over each input row */
	SQL_PLAN_JOIN,       /* nested loop join of input (left) and right, on `predicate` */
	SQL_PLAN_HASH_JOIN,  /* equi-join on left_keys = right_keys, then `predicate` */
	SQL_PLAN_MERGE_JOIN, /* inner join of two primary-key-ordered scans on their keys */
	SQL_PLAN_AGGREGATE,  /* groups then aggregates, one row per group, in group order */
	SQL_PLAN_SORT,       /* stable sort on `sort` keys (column positions) */
	SQL_PLAN_DISTINCT,   /* drops repeated rows, keeping the first */
	SQL_PLAN_LIMIT,      /* skips `offset` rows, then passes at most `limit` */
	SQL_PLAN_NOTHING,    /* no rows (a filter the optimizer proved always false) */
	SQL_PLAN_SET_OP,     /* UNION [ALL] / INTERSECT / EXCEPT of input and right */
};

enum sql_join_type { SQL_JOIN_TYPE_INNER, SQL_JOIN_TYPE_LEFT, SQL_JOIN_TYPE_RIGHT };

/* How a scan reaches its rows. Points and bounds are already of the key column's type. */
enum sql_access_kind {
	SQL_ACCESS_FULL,         /* every row, in primary key order */
	SQL_ACCESS_PK_POINTS,    /* rows whose primary key is one of `points` */
	SQL_ACCESS_PK_RANGE,     /* rows whose primary key is within the bounds */
	SQL_ACCESS_INDEX_POINTS, /* rows whose first index column is one of `points` */
	SQL_ACCESS_INDEX_RANGE,  /* rows whose first index column is within the bounds */
};

struct sql_access {
	enum sql_access_kind kind;
	uint32_t index_pos; /* INDEX_*: which of the table's indexes */
	uint32_t point_count;
	struct sql_value *points;
	bool has_lo, lo_inclusive, has_hi, hi_inclusive;
	struct sql_value lo, hi;
};

enum sql_agg_func {
	SQL_AGG_COUNT_STAR,
	SQL_AGG_COUNT,
	SQL_AGG_SUM,
	SQL_AGG_AVG,
	SQL_AGG_MIN,
	SQL_AGG_MAX,
	SQL_AGG_TOTAL,
	SQL_AGG_ANY, /* a "bare" column in an aggregate query: the group's last value */
};

struct sql_agg {
	enum sql_agg_func func;
	bool distinct;
	struct sql_bexpr *arg; /* NULL for COUNT(*) */
	enum sql_value_type type;
};

struct sql_sort_key {
	uint32_t column;
	bool desc;
	bool nulls_first;
};

struct sql_plan {
	enum sql_plan_kind kind;
	uint32_t width;
	const char **names;
	enum sql_value_type *types; /* static output types: set on a query's root node */
	struct sql_plan *input;     /* unary nodes; a join's left; a set operation's left */
	struct sql_plan *right;     /* joins and set operations */

	/* SQL_PLAN_SCAN */
	const struct sql_table *table;
	const char *alias; /* the name the query knows the table by */
	struct sql_access access;
	bool with_key; /* append the row's primary key (or hidden row id) as a last column */

	/* SCAN filter, FILTER, JOIN ON condition, HASH_ / MERGE_JOIN residual condition */
	struct sql_bexpr *predicate;

	/*
	 * SQL_PLAN_JOIN / SQL_PLAN_HASH_JOIN / SQL_PLAN_MERGE_JOIN; a merge join has one key
	 * pair, each the plain primary key column of its side's scan
	 */
	enum sql_join_type join;
	uint32_t key_count;
	struct sql_bexpr **left_keys;  /* over the left row */
	struct sql_bexpr **right_keys; /* over the right row */

	/* SQL_PLAN_PROJECT (expr_count == width), SQL_PLAN_VALUES (row_count * width) */
	struct sql_bexpr **exprs;
	uint32_t expr_count;
	uint32_t row_count;

	/* SQL_PLAN_AGGREGATE: width == group_count + agg_count */
	uint32_t group_count;
	struct sql_bexpr **groups;
	uint32_t agg_count;
	struct sql_agg *aggs;

	/* SQL_PLAN_SORT */
	uint32_t sort_count;
	struct sql_sort_key *sort;
	uint64_t top; /* only the first `top` rows are wanted (0: all), see sql_opt_limit */

	/* SQL_PLAN_DISTINCT: rows are compared on their first distinct_width columns */
	uint32_t distinct_width;

	/* SQL_PLAN_LIMIT */
	uint64_t limit;
	uint64_t offset;

	/* SQL_PLAN_SET_OP */
	enum sql_compound_op set_op;
};

/* Appends the plan as an indented tree, one node per line (EXPLAIN). */
err *sql_plan_explain(const struct sql_plan *plan, struct buf *out);

/* Appends an expression in SQL-like syntax, naming columns by their labels. */
err *sql_bexpr_format(const struct sql_bexpr *e, struct buf *out);

#endif
