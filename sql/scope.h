/*
 * scope.h — (internal to the planner) the names a query can see, and expression binding.
 *
 * A scope is the row layout of one point in a query's plan: for each position, the name
 * of the column and the table (or alias) it came from. Scopes chain outward to the
 * enclosing query for correlated subqueries. A scope with `agg` set describes the output
 * of an aggregation: names are looked up in the aggregation's input scope and then mapped
 * to a group key or to an aggregate (see planner.h).
 */
#ifndef CAIRN_SQL_SCOPE_H
#define CAIRN_SQL_SCOPE_H

#include <stdbool.h>
#include <stdint.h>

#include "sql/planner.h"

struct sql__scope_col {
	const char *table; /* NULL for unnamed (expression) columns */
	const char *name;
	enum sql_value_type type;
};

struct sql__agg_ctx {
	struct sql__scope *input;          /* the scope the aggregation reads */
	struct sql_plan *node;             /* the aggregate plan node; groups and aggs grow here */
	const struct sql_expr **group_ast; /* group_count GROUP BY expressions as written */
	const struct sql_expr **agg_ast;   /* per aggregate: the call as written, NULL for ANY */
	uint32_t agg_cap;
};

struct sql__scope {
	struct sql__scope_col *cols;
	uint32_t count;
	struct sql__scope *outer;
	struct sql__agg_ctx *agg;
	bool correlated; /* some name resolved in an enclosing scope */
};

/*
 * Finds `table.name` (table may be NULL) among the scope's own columns, not its outer
 * scopes': *pos is its position, or -1. A name that two columns share is ambiguous.
 */
err *sql__scope_find(const struct sql__scope *s, const char *table, const char *name, int64_t *pos);

/* Binds `ast` in `scope`. Aggregate calls are allowed only in aggregation scopes. */
err *sql__bind(struct sql_planner *p, const struct sql_expr *ast, struct sql__scope *scope,
               struct sql_bexpr **out);

/* True if `ast` contains an aggregate call (not looking into subqueries). */
bool sql__has_aggregate(const struct sql_expr *ast);

/* Structural equality of two AST expressions (names compared exactly). */
bool sql__ast_equal(const struct sql_expr *a, const struct sql_expr *b);

/* Allocation helpers over the planner's arena (ERR_NOMEM on failure, sql__oom()'s). */
err *sql__oom(void);
err *sql__alloc(struct sql_planner *p, size_t size, void **out);
struct sql_bexpr *sql__new_bexpr(struct sql_planner *p, enum sql_bexpr_kind kind);
struct sql_bexpr *sql__column_ref(struct sql_planner *p, uint32_t column, const char *label,
                                  enum sql_value_type type);

/* A printable name for an expression (alias, column name, or its SQL text). */
const char *sql__expr_name(struct sql_planner *p, const struct sql_expr *ast);

#endif
