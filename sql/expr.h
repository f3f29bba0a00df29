/*
 * expr.h — bound expressions and their evaluation.
 *
 * The planner turns AST expressions into `struct sql_bexpr` trees in which every name is
 * resolved: a column reference is a position in the row the expression is evaluated
 * against (or in an enclosing query's row, for correlated subqueries), every function is
 * known and every node carries its static type. Type errors such as `1 + 'a'` are caught
 * while binding, so evaluation only meets the errors that depend on data (overflow, a
 * scalar subquery returning two rows, text too long).
 *
 * Expressions are allocated in the statement's arena and never freed one by one.
 * Evaluation returns an owned value (text must be released with sql_value_free()).
 *
 * NULL follows SQL's three-valued logic: comparisons with NULL are NULL, NULL AND FALSE is
 * FALSE, NULL OR TRUE is TRUE, NOT NULL is NULL; a filter keeps a row only when its
 * condition is TRUE.
 */
#ifndef CAIRN_SQL_EXPR_H
#define CAIRN_SQL_EXPR_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "sql/value.h"

/* Expressions nest at most this deep (the parser has its own, lower, limit). */
#define SQL_BX_MAX_DEPTH 256

enum sql_bexpr_kind {
	SQL_BX_CONST,    /* value */
	SQL_BX_COLUMN,   /* column (in the row `outer_depth` queries out) */
	SQL_BX_UNARY,    /* op, args[0] */
	SQL_BX_BINARY,   /* op, args[0], args[1] */
	SQL_BX_IS_NULL,  /* args[0] IS [NOT] NULL (negated) */
	SQL_BX_LIKE,     /* args[0] [NOT] LIKE args[1] (negated) */
	SQL_BX_IN_LIST,  /* args[0] [NOT] IN (args[1..]) (negated) */
	SQL_BX_CASE,     /* [operand args[0] if has_operand] WHEN/THEN pairs, [ELSE last] */
	SQL_BX_CAST,     /* CAST(args[0] AS cast_to) */
	SQL_BX_FUNC,     /* func(args) */
	SQL_BX_SUBQUERY, /* scalar, EXISTS or IN subquery (subquery_kind) */
};

enum sql_op {
	SQL_OP_NEG,
	SQL_OP_NOT,
	SQL_OP_ADD,
	SQL_OP_SUB,
	SQL_OP_MUL,
	SQL_OP_DIV,
	SQL_OP_MOD,
	SQL_OP_CONCAT,
	SQL_OP_EQ,
	SQL_OP_NE,
	SQL_OP_LT,
	SQL_OP_LE,
	SQL_OP_GT,
	SQL_OP_GE,
	SQL_OP_AND,
	SQL_OP_OR,
	SQL_OP_IS,     /* NULL-safe equality: NULL IS NULL is TRUE */
	SQL_OP_IS_NOT, /* NULL-safe inequality */
};

enum sql_func {
	SQL_FUNC_ABS,
	SQL_FUNC_COALESCE,
	SQL_FUNC_NULLIF,
	SQL_FUNC_LENGTH,
	SQL_FUNC_UPPER,
	SQL_FUNC_LOWER,
	SQL_FUNC_SUBSTR,
	SQL_FUNC_ROUND,
	SQL_FUNC_IFNULL,
	SQL_FUNC_TRIM,
	SQL_FUNC_LTRIM,
	SQL_FUNC_RTRIM,
	SQL_FUNC_REPLACE,
	SQL_FUNC_INSTR,
	SQL_FUNC_TYPEOF,
	SQL_FUNC_MIN, /* min(a, b, ...): scalar, two or more arguments */
	SQL_FUNC_MAX,
};

enum sql_subquery_kind { SQL_SUBQUERY_SCALAR, SQL_SUBQUERY_EXISTS, SQL_SUBQUERY_IN };

struct sql_plan;
struct sql_exec;

struct sql_bexpr {
	enum sql_bexpr_kind kind;
	enum sql_value_type type; /* static type; SQL_NULL when only NULL can result */
	enum sql_op op;
	bool negated;
	bool has_operand; /* CASE x WHEN ... */
	bool has_else;
	enum sql_value_type cast_to;
	enum sql_func func;
	enum sql_subquery_kind subquery_kind;
	uint32_t column;        /* SQL_BX_COLUMN: position in the row */
	const char *label;      /* SQL_BX_COLUMN: the name, for EXPLAIN */
	uint32_t outer_depth;   /* SQL_BX_COLUMN: 0 = this query's row, 1 = the enclosing one */
	struct sql_value value; /* SQL_BX_CONST (text owned by the plan, see sql_plan_free) */
	uint32_t arg_count;
	struct sql_bexpr **args;
	struct sql_plan *subquery; /* SQL_BX_SUBQUERY; for IN, args[0] is the probe */
	bool correlated;           /* the subquery refers to an enclosing row */
};

/*
 * The rows an expression may see: `row` is the current row; `outer` is the enclosing
 * query's context (NULL at top level), reached by columns with outer_depth > 0.
 */
struct sql_eval_ctx {
	const struct sql_value *row;
	uint32_t column_count;
	const struct sql_eval_ctx *outer;
	struct sql_exec *exec; /* runs subqueries; NULL when there are none */
};

/*
 * For a plain column of ctx's own row (not an outer query's), that value in place;
 * NULL for every other expression, which must be evaluated. Executors use it to read
 * column arguments without copying them.
 */
static inline const struct sql_value *sql_bexpr_in_place(const struct sql_bexpr *e,
                                                         const struct sql_eval_ctx *ctx)
{
	if (e->kind != SQL_BX_COLUMN || e->outer_depth != 0 || e->column >= ctx->column_count)
		return NULL;
	return &ctx->row[e->column];
}

/* Evaluates `e` against `ctx`. On error *out is NULL. */
err *sql_bexpr_eval(const struct sql_bexpr *e, const struct sql_eval_ctx *ctx,
                    struct sql_value *out);

/*
 * Evaluates a condition: *truth is true only when the value is TRUE (NULL and FALSE are
 * not). A numeric condition is true when not zero (SQLite's rule, used by the corpus).
 */
err *sql_bexpr_truth(const struct sql_bexpr *e, const struct sql_eval_ctx *ctx, bool *truth);

/* The truth of an already computed value, by the same rule. */
bool sql_value_truth(const struct sql_value *v);

/* SQL LIKE: '%' any run, '_' one code point, ASCII case-insensitive (as SQLite). */
bool sql_like(const char *text, size_t text_len, const char *pattern, size_t pattern_len);

/* Runs a subquery expression (implemented by the executor). */
err *sql_exec_subquery(struct sql_exec *exec, const struct sql_bexpr *e,
                       const struct sql_eval_ctx *ctx, struct sql_value *out);

/* Scalar functions (sql/functions.c): evaluates `func` over already computed arguments. */
err *sql_func_call(enum sql_func func, struct sql_value *args, uint32_t arg_count,
                   struct sql_value *out);

#endif
