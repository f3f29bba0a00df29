/*
 * optimizer.h — heuristic rewrites of a plan, each a separate, separately tested rule.
 *
 * sql_optimize() applies, bottom-up over the whole tree (subquery plans included):
 *
 *   1. sql_opt_fold()       constant folding: constant subexpressions are evaluated once;
 *                           TRUE AND x is x, FALSE AND x is FALSE, TRUE OR x is TRUE, ...
 *   2. sql_opt_push_filters() filter pushdown: WHERE conjuncts move into scans and below
 *                           joins (to the side whose columns they use; below the preserved
 *                           side only for outer joins), ON conjuncts of inner joins too
 *   3. sql_opt_constant_filter() a filter that is always FALSE/NULL becomes an empty node,
 *                           one that is always TRUE disappears
 *   4. sql_opt_access_path() a scan whose filter pins the primary key or the first column
 *                           of an index (=, IN, <, <=, >, >=, BETWEEN) reads just those
 *                           keys or that key range
 *   5. sql_opt_merge_join() an inner join of two scans read in primary key order (full or
 *                           primary key range scans) whose condition equates the two
 *                           INTEGER primary keys becomes a merge join of the two ordered
 *                           streams; the other conjuncts stay as its residual condition
 *   6. sql_opt_hash_join()  a join whose condition has equalities between a left and a
 *                           right expression becomes a hash join on them
 *   7. sql_opt_join_order() a chain of inner joins is rebuilt so each table joins one it
 *                           is connected to by a condition when there is one (no
 *                           cartesian products between filtered tables when avoidable)
 *   8. sql_opt_limit()      LIMIT pushdown: a sort under a LIMIT (possibly through a
 *                           projection) keeps only the first limit + offset rows (top-N)
 *
 * Every rule keeps the result of the query identical (same rows; the same order where the
 * plan defines one). Access paths never replace the filter: the scan still checks the full
 * predicate, so an access path only has to deliver a superset of the matching rows.
 */
#ifndef CAIRN_SQL_OPTIMIZER_H
#define CAIRN_SQL_OPTIMIZER_H

#include "base/err.h"
#include "sql/plan.h"
#include "sql/planner.h"

/* Runs every rule over `plan` (and its subqueries); *out is the optimized plan. */
err *sql_optimize(struct sql_planner *p, struct sql_plan *plan, struct sql_plan **out);

/* The rules, each applied to one node (its children already optimized). */
err *sql_opt_fold(struct sql_planner *p, struct sql_bexpr *e, struct sql_bexpr **out);
err *sql_opt_push_filters(struct sql_planner *p, struct sql_plan *n, struct sql_plan **out);
err *sql_opt_constant_filter(struct sql_planner *p, struct sql_plan *n, struct sql_plan **out);
err *sql_opt_access_path(struct sql_planner *p, struct sql_plan *scan);
err *sql_opt_merge_join(struct sql_planner *p, struct sql_plan *join);
err *sql_opt_hash_join(struct sql_planner *p, struct sql_plan *join);
err *sql_opt_join_order(struct sql_planner *p, struct sql_plan *n, struct sql_plan **out);
void sql_opt_limit(struct sql_plan *limit);

#endif
