/*
 * planner.h — from AST to plan: name binding and type checking.
 *
 * The planner resolves every name against the catalog (as the statement's transaction
 * sees it) and the FROM clause, checks every operator's operand types, and builds the
 * logical plan described in plan.h. Anything wrong with a query that does not depend on
 * data is reported here, before a single row is read:
 *
 *   ERR_NOT_FOUND  unknown table or column                 "no such column: x"
 *   ERR_INVALID    ambiguous column, misplaced aggregate, bad ORDER BY position, ...
 *   ERR_TYPE       operands of the wrong type              "cannot apply + to INTEGER and TEXT"
 *
 * A SELECT is planned in SQL's logical order: FROM (scans and joins), WHERE (filter),
 * GROUP BY / aggregates (aggregate), HAVING (filter), the select list (project, with any
 * ORDER BY expressions that are not in the select list appended as hidden columns),
 * DISTINCT, ORDER BY (sort), LIMIT/OFFSET, and a final project dropping hidden columns.
 * The plan is then handed to the optimizer (optimizer.h).
 *
 * Scopes: a query's names resolve first in its own FROM clause, then in the enclosing
 * queries' (correlated subqueries); a column of an enclosing query is a bound column with
 * outer_depth > 0. In an aggregate query, names after the aggregation resolve to group
 * keys or aggregate results; a column that is neither (a "bare" column, allowed as in
 * SQLite) takes the value of the group's last row.
 */
#ifndef CAIRN_SQL_PLANNER_H
#define CAIRN_SQL_PLANNER_H

#include "base/err.h"
#include "sql/arena.h"
#include "sql/ast.h"
#include "sql/plan.h"
#include "sql/txn.h"

struct sql__scope;

struct sql_planner {
	struct sql_arena *arena; /* everything the plan holds is allocated here */
	struct sql_txn *txn;     /* catalog reads */
	uint32_t depth;          /* subquery nesting, bounded by SQL_BX_MAX_DEPTH */
};

/*
 * Plans a query; `outer` is the enclosing query's scope (NULL at top level). The root
 * node's `types` gives the static type of each output column. *correlated (if not NULL)
 * tells whether the query refers to a column of an enclosing query.
 */
err *sql_plan_select(struct sql_planner *p, const struct sql_select *s, struct sql__scope *outer,
                     struct sql_plan **out, bool *correlated);

/*
 * Binds an expression over the columns of one table (UPDATE ... SET, WHERE of UPDATE and
 * DELETE, CHECK-like uses). The row is the table's columns in order.
 */
err *sql_plan_table_expr(struct sql_planner *p, const struct sql_table *table,
                         const struct sql_expr *e, struct sql_bexpr **out);

/*
 * Binds a constant expression (no columns): INSERT values, DEFAULT, LIMIT. A subquery is
 * allowed when `what` is NULL; otherwise it is ERR_INVALID naming `what` ("DEFAULT").
 */
err *sql_plan_const_expr(struct sql_planner *p, const struct sql_expr *e, const char *what,
                         struct sql_bexpr **out);

/* Converts an AST type name to a value type. */
enum sql_value_type sql_plan_value_type(enum sql_type t);

#endif
