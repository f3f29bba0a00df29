/*
 * planner_expr.c — binding AST expressions to plan expressions, with type checking.
 *
 * sql__bind() walks an AST expression and builds the bound tree of expr.h. At each node
 * it resolves names (scope.h), picks the runtime operator and computes the static type,
 * rejecting operand types no value could make meaningful: arithmetic on TEXT, TEXT
 * compared with a number, SUM of TEXT. NULL literals have the static type NULL and fit
 * anywhere. INTEGER mixed with FLOAT is FLOAT; BOOLEAN in arithmetic counts as 0/1 (as in
 * SQLite, where comparisons are integers).
 *
 * In an aggregation scope (scope->agg) each node is first matched against the GROUP BY
 * expressions as written; aggregate calls become references to aggregate slots of the
 * aggregate node, bare columns references to ANY slots.
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "sql/ast_format.h"
#include "sql/scope.h"

/* ---- helpers ---- */

err *sql__oom(void)
{
	return err_new(ERR_NOMEM, "out of memory planning the statement");
}

err *sql__alloc(struct sql_planner *p, size_t size, void **out)
{
	*out = sql_arena_alloc(p->arena, size ? size : 1);
	return *out ? NULL : sql__oom();
}

struct sql_bexpr *sql__new_bexpr(struct sql_planner *p, enum sql_bexpr_kind kind)
{
	struct sql_bexpr *e = sql_arena_alloc(p->arena, sizeof *e);
	if (e) {
		e->kind = kind;
		e->type = SQL_NULL;
	}
	return e;
}

struct sql_bexpr *sql__column_ref(struct sql_planner *p, uint32_t column, const char *label,
                                  enum sql_value_type type)
{
	struct sql_bexpr *e = sql__new_bexpr(p, SQL_BX_COLUMN);
	if (e) {
		e->column = column;
		e->label = label;
		e->type = type;
	}
	return e;
}

static err *args_alloc(struct sql_planner *p, struct sql_bexpr *e, uint32_t n)
{
	e->arg_count = n;
	void *mem;
	TRY(sql__alloc(p, sizeof *e->args * n, &mem));
	e->args = mem;
	return NULL;
}

const char *sql__expr_name(struct sql_planner *p, const struct sql_expr *ast)
{
	if (ast->kind == SQL_EXPR_COLUMN)
		return ast->column.name;
	struct buf b;
	buf_init(&b, 4096);
	const char *name = "?"; /* an expression longer than 4 KiB goes by "?" */
	err *e = sql_format_expr(ast, &b);
	if (!e) {
		char *s = sql_arena_strndup(p->arena, b.len ? (const char *)b.data : "", b.len);
		if (s)
			name = s;
	}
	err_free(e);
	buf_free(&b);
	return name;
}

enum sql_value_type sql_plan_value_type(enum sql_type t)
{
	switch (t) {
	case SQL_TYPE_BOOLEAN: return SQL_BOOL;
	case SQL_TYPE_INTEGER: return SQL_INT;
	case SQL_TYPE_FLOAT: return SQL_FLOAT;
	case SQL_TYPE_STRING: return SQL_TEXT;
	}
	return SQL_TEXT;
}

/* ---- structural equality and aggregate detection ---- */

static bool str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return !strcmp(a, b);
}

static bool list_equal(const struct sql_expr_list *a, const struct sql_expr_list *b)
{
	if (a->count != b->count)
		return false;
	for (uint32_t i = 0; i < a->count; i++)
		if (!sql__ast_equal(a->items[i], b->items[i]))
			return false;
	return true;
}

bool sql__ast_equal(const struct sql_expr *a, const struct sql_expr *b)
{
	if (!a || !b)
		return a == b;
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case SQL_EXPR_NULL:
	case SQL_EXPR_DEFAULT: return true;
	case SQL_EXPR_BOOL: return a->boolean == b->boolean;
	case SQL_EXPR_INT: return a->integer == b->integer;
	case SQL_EXPR_FLOAT: return a->floating == b->floating;
	case SQL_EXPR_STRING:
		return a->string.len == b->string.len &&
		       !memcmp(a->string.ptr, b->string.ptr, a->string.len);
	case SQL_EXPR_COLUMN:
		return str_eq(a->column.name, b->column.name) &&
		       str_eq(a->column.table, b->column.table);
	case SQL_EXPR_UNARY:
		return a->unary.op == b->unary.op &&
		       sql__ast_equal(a->unary.operand, b->unary.operand);
	case SQL_EXPR_BINARY:
		return a->binary.op == b->binary.op &&
		       sql__ast_equal(a->binary.left, b->binary.left) &&
		       sql__ast_equal(a->binary.right, b->binary.right);
	case SQL_EXPR_IS_NULL:
		return a->is_null.negated == b->is_null.negated &&
		       sql__ast_equal(a->is_null.operand, b->is_null.operand);
	case SQL_EXPR_IS:
		return a->is.negated == b->is.negated && sql__ast_equal(a->is.left, b->is.left) &&
		       sql__ast_equal(a->is.right, b->is.right);
	case SQL_EXPR_LIKE:
		return a->like.negated == b->like.negated &&
		       sql__ast_equal(a->like.operand, b->like.operand) &&
		       sql__ast_equal(a->like.pattern, b->like.pattern);
	case SQL_EXPR_BETWEEN:
		return a->between.negated == b->between.negated &&
		       sql__ast_equal(a->between.operand, b->between.operand) &&
		       sql__ast_equal(a->between.low, b->between.low) &&
		       sql__ast_equal(a->between.high, b->between.high);
	case SQL_EXPR_IN_LIST:
		return a->in_list.negated == b->in_list.negated &&
		       sql__ast_equal(a->in_list.operand, b->in_list.operand) &&
		       list_equal(&a->in_list.list, &b->in_list.list);
	case SQL_EXPR_CASE:
		if (a->case_.when_count != b->case_.when_count ||
		    !sql__ast_equal(a->case_.operand, b->case_.operand) ||
		    !sql__ast_equal(a->case_.else_result, b->case_.else_result))
			return false;
		for (uint32_t i = 0; i < a->case_.when_count; i++)
			if (!sql__ast_equal(a->case_.whens[i].when, b->case_.whens[i].when) ||
			    !sql__ast_equal(a->case_.whens[i].then, b->case_.whens[i].then))
				return false;
		return true;
	case SQL_EXPR_CAST:
		return a->cast.type.type == b->cast.type.type &&
		       a->cast.type.max_len == b->cast.type.max_len &&
		       sql__ast_equal(a->cast.operand, b->cast.operand);
	case SQL_EXPR_FUNCTION:
		return str_eq(a->function.name, b->function.name) &&
		       a->function.distinct == b->function.distinct &&
		       a->function.star == b->function.star &&
		       list_equal(&a->function.args, &b->function.args);
	case SQL_EXPR_IN_SELECT:
	case SQL_EXPR_EXISTS:
	case SQL_EXPR_SUBQUERY: return a == b; /* subqueries are equal only to themselves */
	}
	return false;
}

static bool is_aggregate_call(const struct sql_expr *e)
{
	if (e->kind != SQL_EXPR_FUNCTION)
		return false;
	const char *n = e->function.name;
	if (!strcmp(n, "count"))
		return e->function.star || e->function.args.count == 1;
	if (!strcmp(n, "min") || !strcmp(n, "max"))
		return e->function.args.count == 1;
	return (!strcmp(n, "sum") || !strcmp(n, "avg") || !strcmp(n, "total")) &&
	       e->function.args.count == 1;
}

bool sql__has_aggregate(const struct sql_expr *e)
{
	if (!e)
		return false;
	if (is_aggregate_call(e))
		return true;
	switch (e->kind) {
	case SQL_EXPR_UNARY: return sql__has_aggregate(e->unary.operand);
	case SQL_EXPR_BINARY:
		return sql__has_aggregate(e->binary.left) || sql__has_aggregate(e->binary.right);
	case SQL_EXPR_IS_NULL: return sql__has_aggregate(e->is_null.operand);
	case SQL_EXPR_IS: return sql__has_aggregate(e->is.left) || sql__has_aggregate(e->is.right);
	case SQL_EXPR_LIKE:
		return sql__has_aggregate(e->like.operand) || sql__has_aggregate(e->like.pattern);
	case SQL_EXPR_BETWEEN:
		return sql__has_aggregate(e->between.operand) ||
		       sql__has_aggregate(e->between.low) || sql__has_aggregate(e->between.high);
	case SQL_EXPR_IN_LIST:
		if (sql__has_aggregate(e->in_list.operand))
			return true;
		for (uint32_t i = 0; i < e->in_list.list.count; i++)
			if (sql__has_aggregate(e->in_list.list.items[i]))
				return true;
		return false;
	case SQL_EXPR_IN_SELECT: return sql__has_aggregate(e->in_select.operand);
	case SQL_EXPR_CASE:
		if (sql__has_aggregate(e->case_.operand) ||
		    sql__has_aggregate(e->case_.else_result))
			return true;
		for (uint32_t i = 0; i < e->case_.when_count; i++)
			if (sql__has_aggregate(e->case_.whens[i].when) ||
			    sql__has_aggregate(e->case_.whens[i].then))
				return true;
		return false;
	case SQL_EXPR_CAST: return sql__has_aggregate(e->cast.operand);
	case SQL_EXPR_FUNCTION:
		for (uint32_t i = 0; i < e->function.args.count; i++)
			if (sql__has_aggregate(e->function.args.items[i]))
				return true;
		return false;
	default: return false;
	}
}

/* ---- names ---- */

/* The label EXPLAIN shows for a column: "table.name", or the name alone. */
static const char *column_label(struct sql_planner *p, const struct sql__scope_col *c)
{
	if (!c->table)
		return c->name;
	size_t tl = strlen(c->table), nl = strlen(c->name);
	char *s = sql_arena_alloc(p->arena, tl + nl + 2);
	if (!s)
		return c->name;
	memcpy(s, c->table, tl);
	s[tl] = '.';
	memcpy(s + tl + 1, c->name, nl + 1);
	return s;
}

err *sql__scope_find(const struct sql__scope *s, const char *table, const char *name, int64_t *pos)
{
	*pos = -1;
	for (uint32_t i = 0; i < s->count; i++) {
		const struct sql__scope_col *c = &s->cols[i];
		if (!c->name || strcmp(c->name, name))
			continue;
		if (table && (!c->table || strcmp(c->table, table)))
			continue;
		if (*pos >= 0)
			return err_new(ERR_INVALID, "ambiguous column name: %s%s%s",
			               table ? table : "", table ? "." : "", name);
		*pos = i;
	}
	return NULL;
}

static err *agg_slot(struct sql_planner *p, struct sql__agg_ctx *agg, const struct sql_expr *ast,
                     struct sql_agg a, uint32_t *slot);

/*
 * Resolves a column in `s`: a plain scope gives a position in its row; an aggregation
 * scope maps the input position to a group key (a GROUP BY that is the same column) or
 * to an ANY aggregate. *found is false when the name is not in this scope.
 */
static err *resolve_here(struct sql_planner *p, struct sql__scope *s, const struct sql_expr *ast,
                         struct sql_bexpr **out, bool *found)
{
	const char *table = ast->column.table, *name = ast->column.name;
	*found = false;
	if (!s->agg) {
		int64_t pos;
		TRY(sql__scope_find(s, table, name, &pos));
		if (pos < 0)
			return NULL;
		*found = true;
		*out = sql__column_ref(p, (uint32_t)pos, column_label(p, &s->cols[pos]),
		                       s->cols[pos].type);
		return *out ? NULL : sql__oom();
	}
	struct sql__agg_ctx *agg = s->agg;
	int64_t pos;
	TRY(sql__scope_find(agg->input, table, name, &pos));
	if (pos < 0)
		return NULL;
	*found = true;
	enum sql_value_type type = agg->input->cols[pos].type;
	name = column_label(p, &agg->input->cols[pos]);
	for (uint32_t g = 0; g < agg->node->group_count; g++) {
		const struct sql_bexpr *ge = agg->node->groups[g];
		if (ge->kind == SQL_BX_COLUMN && ge->outer_depth == 0 && ge->column == pos) {
			*out = sql__column_ref(p, g, name, type);
			return *out ? NULL : sql__oom();
		}
	}
	struct sql_bexpr *arg = sql__column_ref(p, (uint32_t)pos, name, type);
	if (!arg)
		return sql__oom();
	uint32_t slot;
	TRY(agg_slot(p, agg, NULL, (struct sql_agg){SQL_AGG_ANY, false, arg, type}, &slot));
	*out = sql__column_ref(p, slot, name, type);
	return *out ? NULL : sql__oom();
}

static err *bind_column(struct sql_planner *p, const struct sql_expr *ast, struct sql__scope *scope,
                        struct sql_bexpr **out)
{
	uint32_t depth = 0;
	for (struct sql__scope *s = scope; s; s = s->outer, depth++) {
		bool found;
		TRY(resolve_here(p, s, ast, out, &found));
		if (!found)
			continue;
		(*out)->outer_depth = depth;
		for (struct sql__scope *m = scope; m != s; m = m->outer)
			m->correlated = true;
		return NULL;
	}
	if (ast->column.table)
		return err_new(ERR_NOT_FOUND, "no such column: %s.%s", ast->column.table,
		               ast->column.name);
	return err_new(ERR_NOT_FOUND, "no such column: %s", ast->column.name);
}

/* ---- aggregates ---- */

static err *agg_slot(struct sql_planner *p, struct sql__agg_ctx *agg, const struct sql_expr *ast,
                     struct sql_agg a, uint32_t *slot)
{
	struct sql_plan *n = agg->node;
	for (uint32_t i = 0; i < n->agg_count; i++) {
		bool same = ast ? (agg->agg_ast[i] && sql__ast_equal(agg->agg_ast[i], ast))
		                : (!agg->agg_ast[i] && n->aggs[i].func == SQL_AGG_ANY &&
		                   n->aggs[i].arg->column == a.arg->column);
		if (same) {
			*slot = n->group_count + i;
			return NULL;
		}
	}
	if (n->agg_count == agg->agg_cap) {
		uint32_t cap = agg->agg_cap ? agg->agg_cap * 2 : 8;
		void *aggs, *asts;
		TRY(sql__alloc(p, sizeof *n->aggs * cap, &aggs));
		TRY(sql__alloc(p, sizeof *agg->agg_ast * cap, &asts));
		if (n->agg_count) {
			memcpy(aggs, n->aggs, sizeof *n->aggs * n->agg_count);
			memcpy(asts, agg->agg_ast, sizeof *agg->agg_ast * n->agg_count);
		}
		n->aggs = aggs;
		agg->agg_ast = asts;
		agg->agg_cap = cap;
	}
	n->aggs[n->agg_count] = a;
	agg->agg_ast[n->agg_count] = ast;
	*slot = n->group_count + n->agg_count;
	n->agg_count++;
	return NULL;
}

/* Counts e's column references to this query's row (*local) and to enclosing ones. */
static void count_columns(const struct sql_bexpr *e, uint32_t *local, uint32_t *outer)
{
	if (e->kind == SQL_BX_COLUMN) {
		++*(e->outer_depth ? outer : local);
		return;
	}
	for (uint32_t i = 0; i < e->arg_count; i++) /* as deep as the parser nests */
		count_columns(e->args[i], local, outer);
}

static err *bind_aggregate(struct sql_planner *p, const struct sql_expr *ast,
                           struct sql__scope *scope, struct sql_bexpr **out)
{
	struct sql__agg_ctx *agg = scope->agg;
	if (!agg)
		return err_new(ERR_INVALID, "misuse of aggregate function %s()",
		               ast->function.name);
	const char *n = ast->function.name;
	struct sql_agg a = {.distinct = ast->function.distinct};
	if (ast->function.star) {
		a.func = SQL_AGG_COUNT_STAR;
		a.type = SQL_INT;
	} else {
		const struct sql_expr *arg = ast->function.args.items[0];
		if (sql__has_aggregate(arg))
			return err_new(ERR_INVALID, "aggregate functions cannot be nested");
		TRY(sql__bind(p, arg, agg->input, &a.arg));
		uint32_t local = 0, outer = 0;
		count_columns(a.arg, &local, &outer);
		if (outer > 0 && local == 0) /* SQL makes it an aggregate of the outer query */
			return err_new(ERR_INVALID,
			               "%s() over columns of an enclosing query only is not "
			               "supported: aggregate in that query instead",
			               n);
		enum sql_value_type t = a.arg->type;
		if (!strcmp(n, "count")) {
			a.func = SQL_AGG_COUNT;
			a.type = SQL_INT;
		} else if (!strcmp(n, "min") || !strcmp(n, "max")) {
			a.func = n[1] == 'i' ? SQL_AGG_MIN : SQL_AGG_MAX;
			a.type = t;
		} else {
			if (t == SQL_TEXT)
				return err_new(ERR_TYPE, "%s() of TEXT", n);
			if (!strcmp(n, "sum")) {
				a.func = SQL_AGG_SUM;
				a.type = t == SQL_FLOAT ? SQL_FLOAT : SQL_INT;
			} else {
				a.func = !strcmp(n, "avg") ? SQL_AGG_AVG : SQL_AGG_TOTAL;
				a.type = SQL_FLOAT;
			}
		}
	}
	uint32_t slot;
	TRY(agg_slot(p, agg, ast, a, &slot));
	*out = sql__column_ref(p, slot, sql__expr_name(p, ast), a.type);
	return *out ? NULL : sql__oom();
}

/* ---- types ---- */

static bool numeric_or_null(enum sql_value_type t)
{
	return t == SQL_INT || t == SQL_FLOAT || t == SQL_NULL || t == SQL_BOOL;
}

static err *check_comparable(enum sql_value_type a, enum sql_value_type b, const char *what)
{
	if (a == SQL_NULL || b == SQL_NULL || a == b)
		return NULL;
	if (numeric_or_null(a) && numeric_or_null(b))
		return NULL;
	return err_new(ERR_TYPE, "cannot compare %s with %s in %s", sql_value_type_name(a),
	               sql_value_type_name(b), what);
}

/* The common type of two arms (CASE, COALESCE): the first non-NULL, FLOAT over INTEGER. */
static enum sql_value_type common_type(enum sql_value_type a, enum sql_value_type b)
{
	if (a == SQL_NULL)
		return b;
	if (b == SQL_NULL || a == b)
		return a;
	if ((a == SQL_INT && b == SQL_FLOAT) || (a == SQL_FLOAT && b == SQL_INT))
		return SQL_FLOAT;
	return a;
}

/* ---- node binders ---- */

static err *bind_binary(struct sql_planner *p, const struct sql_expr *ast, struct sql__scope *scope,
                        struct sql_bexpr **out)
{
	static const struct {
		enum sql_op op;
		const char *text;
	} map[] = {
	    [SQL_BINARY_OR] = {SQL_OP_OR, "OR"},  [SQL_BINARY_AND] = {SQL_OP_AND, "AND"},
	    [SQL_BINARY_EQ] = {SQL_OP_EQ, "="},   [SQL_BINARY_NE] = {SQL_OP_NE, "<>"},
	    [SQL_BINARY_LT] = {SQL_OP_LT, "<"},   [SQL_BINARY_LE] = {SQL_OP_LE, "<="},
	    [SQL_BINARY_GT] = {SQL_OP_GT, ">"},   [SQL_BINARY_GE] = {SQL_OP_GE, ">="},
	    [SQL_BINARY_ADD] = {SQL_OP_ADD, "+"}, [SQL_BINARY_SUB] = {SQL_OP_SUB, "-"},
	    [SQL_BINARY_MUL] = {SQL_OP_MUL, "*"}, [SQL_BINARY_DIV] = {SQL_OP_DIV, "/"},
	    [SQL_BINARY_MOD] = {SQL_OP_MOD, "%"}, [SQL_BINARY_CONCAT] = {SQL_OP_CONCAT, "||"},
	};
	if ((unsigned)ast->binary.op >= sizeof map / sizeof map[0] || ast->binary.op == 0)
		return err_new(ERR_INTERNAL, "unknown binary operator %d", (int)ast->binary.op);
	struct sql_bexpr *e = sql__new_bexpr(p, SQL_BX_BINARY);
	if (!e)
		return sql__oom();
	TRY(args_alloc(p, e, 2));
	TRY(sql__bind(p, ast->binary.left, scope, &e->args[0]));
	TRY(sql__bind(p, ast->binary.right, scope, &e->args[1]));
	e->op = map[ast->binary.op].op;
	enum sql_value_type a = e->args[0]->type, b = e->args[1]->type;
	switch (e->op) {
	case SQL_OP_AND:
	case SQL_OP_OR:
		if (a == SQL_TEXT || b == SQL_TEXT)
			return err_new(ERR_TYPE, "cannot apply %s to %s and %s",
			               map[ast->binary.op].text, sql_value_type_name(a),
			               sql_value_type_name(b));
		e->type = SQL_BOOL;
		break;
	case SQL_OP_CONCAT: e->type = SQL_TEXT; break;
	case SQL_OP_ADD:
	case SQL_OP_SUB:
	case SQL_OP_MUL:
	case SQL_OP_DIV:
	case SQL_OP_MOD:
		if (!numeric_or_null(a) || !numeric_or_null(b))
			return err_new(ERR_TYPE, "cannot apply %s to %s and %s",
			               map[ast->binary.op].text, sql_value_type_name(a),
			               sql_value_type_name(b));
		if (a == SQL_FLOAT || b == SQL_FLOAT)
			e->type = SQL_FLOAT;
		else if (a == SQL_NULL && b == SQL_NULL)
			e->type = SQL_NULL;
		else
			e->type = SQL_INT;
		break;
	default: TRY(check_comparable(a, b, map[ast->binary.op].text)); e->type = SQL_BOOL;
	}
	*out = e;
	return NULL;
}

static err *bind_unary(struct sql_planner *p, const struct sql_expr *ast, struct sql__scope *scope,
                       struct sql_bexpr **out)
{
	struct sql_bexpr *arg;
	TRY(sql__bind(p, ast->unary.operand, scope, &arg));
	if (ast->unary.op == SQL_UNARY_PLUS) {
		*out = arg;
		return NULL;
	}
	struct sql_bexpr *e = sql__new_bexpr(p, SQL_BX_UNARY);
	if (!e)
		return sql__oom();
	TRY(args_alloc(p, e, 1));
	e->args[0] = arg;
	if (ast->unary.op == SQL_UNARY_NOT) {
		if (arg->type == SQL_TEXT)
			return err_new(ERR_TYPE, "cannot apply NOT to TEXT");
		e->op = SQL_OP_NOT;
		e->type = SQL_BOOL;
	} else {
		if (!numeric_or_null(arg->type))
			return err_new(ERR_TYPE, "cannot negate %s",
			               sql_value_type_name(arg->type));
		e->op = SQL_OP_NEG;
		e->type = arg->type == SQL_BOOL ? SQL_INT : arg->type;
	}
	*out = e;
	return NULL;
}

static struct sql_bexpr *make_binary(struct sql_planner *p, enum sql_op op, struct sql_bexpr *a,
                                     struct sql_bexpr *b, enum sql_value_type type)
{
	struct sql_bexpr *e = sql__new_bexpr(p, SQL_BX_BINARY);
	if (!e || args_alloc(p, e, 2))
		return NULL;
	e->op = op;
	e->args[0] = a;
	e->args[1] = b;
	e->type = type;
	return e;
}

static err *bind_between(struct sql_planner *p, const struct sql_expr *ast,
                         struct sql__scope *scope, struct sql_bexpr **out)
{
	struct sql_bexpr *x, *lo, *hi;
	TRY(sql__bind(p, ast->between.operand, scope, &x));
	TRY(sql__bind(p, ast->between.low, scope, &lo));
	TRY(sql__bind(p, ast->between.high, scope, &hi));
	TRY(check_comparable(x->type, lo->type, "BETWEEN"));
	TRY(check_comparable(x->type, hi->type, "BETWEEN"));
	struct sql_bexpr *ge = make_binary(p, SQL_OP_GE, x, lo, SQL_BOOL);
	struct sql_bexpr *le = make_binary(p, SQL_OP_LE, x, hi, SQL_BOOL);
	struct sql_bexpr *both = ge && le ? make_binary(p, SQL_OP_AND, ge, le, SQL_BOOL) : NULL;
	if (!both)
		return sql__oom();
	if (!ast->between.negated) {
		*out = both;
		return NULL;
	}
	struct sql_bexpr *e = sql__new_bexpr(p, SQL_BX_UNARY);
	if (!e || args_alloc(p, e, 1))
		return sql__oom();
	e->op = SQL_OP_NOT;
	e->type = SQL_BOOL;
	e->args[0] = both;
	*out = e;
	return NULL;
}

static err *bind_in_list(struct sql_planner *p, const struct sql_expr *ast,
                         struct sql__scope *scope, struct sql_bexpr **out)
{
	struct sql_bexpr *e = sql__new_bexpr(p, SQL_BX_IN_LIST);
	if (!e)
		return sql__oom();
	TRY(args_alloc(p, e, ast->in_list.list.count + 1));
	TRY(sql__bind(p, ast->in_list.operand, scope, &e->args[0]));
	for (uint32_t i = 0; i < ast->in_list.list.count; i++) {
		TRY(sql__bind(p, ast->in_list.list.items[i], scope, &e->args[i + 1]));
		TRY(check_comparable(e->args[0]->type, e->args[i + 1]->type, "IN"));
	}
	e->negated = ast->in_list.negated;
	e->type = SQL_BOOL;
	*out = e;
	return NULL;
}

static err *bind_subquery(struct sql_planner *p, const struct sql_expr *ast,
                          struct sql__scope *scope, struct sql_bexpr **out)
{
	const struct sql_select *sel = ast->kind == SQL_EXPR_IN_SELECT ? ast->in_select.select
	                               : ast->kind == SQL_EXPR_EXISTS  ? ast->exists.select
	                                                               : ast->subquery.select;
	struct sql_bexpr *e = sql__new_bexpr(p, SQL_BX_SUBQUERY);
	if (!e)
		return sql__oom();
	if (p->depth >= SQL_BX_MAX_DEPTH)
		return err_new(ERR_LIMIT, "subqueries nested too deeply");
	p->depth++;
	err *er = sql_plan_select(p, sel, scope, &e->subquery, &e->correlated);
	p->depth--;
	TRY(er);
	if (ast->kind == SQL_EXPR_EXISTS) {
		e->subquery_kind = SQL_SUBQUERY_EXISTS;
		e->type = SQL_BOOL;
	} else {
		if (e->subquery->width != 1)
			return err_new(ERR_INVALID, "subquery returns %u columns, expected 1",
			               e->subquery->width);
		if (ast->kind == SQL_EXPR_IN_SELECT) {
			e->subquery_kind = SQL_SUBQUERY_IN;
			e->negated = ast->in_select.negated;
			TRY(args_alloc(p, e, 1));
			TRY(sql__bind(p, ast->in_select.operand, scope, &e->args[0]));
			TRY(check_comparable(e->args[0]->type, e->subquery->types[0], "IN"));
			e->type = SQL_BOOL;
		} else {
			e->subquery_kind = SQL_SUBQUERY_SCALAR;
			e->type = e->subquery->types[0];
		}
	}
	*out = e;
	return NULL;
}

static err *bind_case(struct sql_planner *p, const struct sql_expr *ast, struct sql__scope *scope,
                      struct sql_bexpr **out)
{
	struct sql_bexpr *e = sql__new_bexpr(p, SQL_BX_CASE);
	if (!e)
		return sql__oom();
	e->has_operand = ast->case_.operand != NULL;
	e->has_else = ast->case_.else_result != NULL;
	uint32_t n = ast->case_.when_count * 2 + e->has_operand + e->has_else;
	TRY(args_alloc(p, e, n));
	uint32_t k = 0;
	if (e->has_operand)
		TRY(sql__bind(p, ast->case_.operand, scope, &e->args[k++]));
	enum sql_value_type t = SQL_NULL;
	for (uint32_t i = 0; i < ast->case_.when_count; i++) {
		TRY(sql__bind(p, ast->case_.whens[i].when, scope, &e->args[k]));
		if (e->has_operand)
			TRY(check_comparable(e->args[0]->type, e->args[k]->type, "CASE"));
		k++;
		TRY(sql__bind(p, ast->case_.whens[i].then, scope, &e->args[k]));
		t = common_type(t, e->args[k]->type);
		k++;
	}
	if (e->has_else) {
		TRY(sql__bind(p, ast->case_.else_result, scope, &e->args[k]));
		t = common_type(t, e->args[k]->type);
	}
	e->type = t;
	*out = e;
	return NULL;
}

static const struct {
	const char *name;
	enum sql_func func;
	uint32_t min_args, max_args;
} functions[] = {
    {"abs", SQL_FUNC_ABS, 1, 1},          {"coalesce", SQL_FUNC_COALESCE, 1, 64},
    {"ifnull", SQL_FUNC_IFNULL, 2, 2},    {"trim", SQL_FUNC_TRIM, 1, 2},
    {"ltrim", SQL_FUNC_LTRIM, 1, 2},      {"rtrim", SQL_FUNC_RTRIM, 1, 2},
    {"replace", SQL_FUNC_REPLACE, 3, 3},  {"instr", SQL_FUNC_INSTR, 2, 2},
    {"typeof", SQL_FUNC_TYPEOF, 1, 1},    {"min", SQL_FUNC_MIN, 2, 64},
    {"max", SQL_FUNC_MAX, 2, 64},         {"nullif", SQL_FUNC_NULLIF, 2, 2},
    {"length", SQL_FUNC_LENGTH, 1, 1},    {"upper", SQL_FUNC_UPPER, 1, 1},
    {"lower", SQL_FUNC_LOWER, 1, 1},      {"substr", SQL_FUNC_SUBSTR, 2, 3},
    {"substring", SQL_FUNC_SUBSTR, 2, 3}, {"round", SQL_FUNC_ROUND, 1, 2},
};

static err *bind_function(struct sql_planner *p, const struct sql_expr *ast,
                          struct sql__scope *scope, struct sql_bexpr **out)
{
	if (is_aggregate_call(ast))
		return bind_aggregate(p, ast, scope, out);
	const char *name = ast->function.name;
	size_t f = 0, nf = sizeof functions / sizeof functions[0];
	while (f < nf && strcmp(functions[f].name, name))
		f++;
	if (f == nf)
		return err_new(ERR_NOT_FOUND, "no such function: %s", name);
	uint32_t argc = ast->function.args.count;
	if (ast->function.star || ast->function.distinct || argc < functions[f].min_args ||
	    argc > functions[f].max_args)
		return err_new(ERR_INVALID, "wrong arguments to function %s()", name);
	struct sql_bexpr *e = sql__new_bexpr(p, SQL_BX_FUNC);
	if (!e)
		return sql__oom();
	e->func = functions[f].func;
	TRY(args_alloc(p, e, argc));
	for (uint32_t i = 0; i < argc; i++)
		TRY(sql__bind(p, ast->function.args.items[i], scope, &e->args[i]));
	enum sql_value_type t0 = e->args[0]->type;
	switch (e->func) {
	case SQL_FUNC_ABS:
		if (!numeric_or_null(t0))
			return err_new(ERR_TYPE, "abs() of %s", sql_value_type_name(t0));
		e->type = t0 == SQL_BOOL ? SQL_INT : t0;
		break;
	case SQL_FUNC_COALESCE:
	case SQL_FUNC_IFNULL:
		e->type = SQL_NULL;
		for (uint32_t i = 0; i < argc; i++)
			e->type = common_type(e->type, e->args[i]->type);
		break;
	case SQL_FUNC_NULLIF:
		TRY(check_comparable(t0, e->args[1]->type, "NULLIF"));
		e->type = t0;
		break;
	case SQL_FUNC_LENGTH:
	case SQL_FUNC_INSTR: e->type = SQL_INT; break;
	case SQL_FUNC_TRIM:
	case SQL_FUNC_LTRIM:
	case SQL_FUNC_RTRIM:
	case SQL_FUNC_REPLACE:
	case SQL_FUNC_TYPEOF: e->type = SQL_TEXT; break;
	case SQL_FUNC_MIN:
	case SQL_FUNC_MAX:
		e->type = SQL_NULL;
		for (uint32_t i = 0; i < argc; i++) {
			TRY(check_comparable(e->type, e->args[i]->type, name));
			e->type = common_type(e->type, e->args[i]->type);
		}
		break;
	case SQL_FUNC_UPPER:
	case SQL_FUNC_LOWER:
	case SQL_FUNC_SUBSTR: e->type = SQL_TEXT; break;
	case SQL_FUNC_ROUND:
		if (!numeric_or_null(t0))
			return err_new(ERR_TYPE, "round() of %s", sql_value_type_name(t0));
		e->type = SQL_FLOAT;
		break;
	}
	*out = e;
	return NULL;
}

/* A BOOLEAN constant. */
static struct sql_bexpr *make_bool(struct sql_planner *p, bool b)
{
	struct sql_bexpr *e = sql__new_bexpr(p, SQL_BX_CONST);
	if (e) {
		e->value = sql_bool(b);
		e->type = SQL_BOOL;
	}
	return e;
}

/*
 * x IS [NOT] TRUE|FALSE: a truth test, as in SQLite (and PostgreSQL, for a BOOLEAN x):
 * x IS TRUE when x counts as true (TRUE, or a number other than 0), x IS FALSE when it
 * counts as false; never NULL. Bound as CASE WHEN [NOT] x THEN TRUE ELSE FALSE END, the
 * two constants swapped by IS NOT.
 */
static err *bind_truth_test(struct sql_planner *p, const struct sql_expr *ast,
                            struct sql__scope *scope, struct sql_bexpr **out)
{
	struct sql_bexpr *x;
	TRY(sql__bind(p, ast->is.left, scope, &x));
	if (x->type == SQL_TEXT)
		return err_new(ERR_TYPE,
		               "IS TRUE and IS FALSE test a BOOLEAN or a number, not TEXT");
	struct sql_bexpr *when = x;
	if (!ast->is.right->boolean) {
		if (!(when = sql__new_bexpr(p, SQL_BX_UNARY)))
			return sql__oom();
		TRY(args_alloc(p, when, 1));
		when->args[0] = x;
		when->op = SQL_OP_NOT;
		when->type = SQL_BOOL;
	}
	struct sql_bexpr *e = sql__new_bexpr(p, SQL_BX_CASE);
	if (!e)
		return sql__oom();
	e->has_else = true;
	TRY(args_alloc(p, e, 3));
	e->args[0] = when;
	e->args[1] = make_bool(p, !ast->is.negated);
	e->args[2] = make_bool(p, ast->is.negated);
	if (!e->args[1] || !e->args[2])
		return sql__oom();
	e->type = SQL_BOOL;
	*out = e;
	return NULL;
}

static err *bind_literal(struct sql_planner *p, const struct sql_expr *ast, struct sql_bexpr **out)
{
	struct sql_bexpr *e = sql__new_bexpr(p, SQL_BX_CONST);
	if (!e)
		return sql__oom();
	switch (ast->kind) {
	case SQL_EXPR_NULL: e->value = sql_null(); break;
	case SQL_EXPR_BOOL: e->value = sql_bool(ast->boolean); break;
	case SQL_EXPR_INT: e->value = sql_int(ast->integer); break;
	case SQL_EXPR_FLOAT: e->value = sql_float(ast->floating); break;
	case SQL_EXPR_STRING: {
		if (ast->string.len > SQL_TEXT_MAX_BYTES)
			return err_new(ERR_LIMIT, "string literal too long");
		if (!sql_utf8_valid(ast->string.ptr, ast->string.len))
			return err_new(ERR_TYPE, "string literal is not valid UTF-8");
		char *s = sql_arena_strndup(p->arena, ast->string.ptr, ast->string.len);
		if (!s)
			return sql__oom();
		e->value.type = SQL_TEXT;
		e->value.u.s.ptr = s;
		e->value.u.s.len = (uint32_t)ast->string.len;
		break;
	}
	default: return err_new(ERR_INTERNAL, "not a literal");
	}
	e->type = e->value.type;
	*out = e;
	return NULL;
}

static err *bind_node(struct sql_planner *p, const struct sql_expr *ast, struct sql__scope *scope,
                      struct sql_bexpr **out)
{
	struct sql_bexpr *e;
	switch (ast->kind) {
	case SQL_EXPR_NULL:
	case SQL_EXPR_BOOL:
	case SQL_EXPR_INT:
	case SQL_EXPR_FLOAT:
	case SQL_EXPR_STRING: return bind_literal(p, ast, out);
	case SQL_EXPR_COLUMN: return bind_column(p, ast, scope, out);
	case SQL_EXPR_UNARY: return bind_unary(p, ast, scope, out);
	case SQL_EXPR_BINARY: return bind_binary(p, ast, scope, out);
	case SQL_EXPR_IS_NULL:
		if (!(e = sql__new_bexpr(p, SQL_BX_IS_NULL)))
			return sql__oom();
		TRY(args_alloc(p, e, 1));
		TRY(sql__bind(p, ast->is_null.operand, scope, &e->args[0]));
		e->negated = ast->is_null.negated;
		e->type = SQL_BOOL;
		*out = e;
		return NULL;
	case SQL_EXPR_IS: {
		if (ast->is.right->kind == SQL_EXPR_BOOL)
			return bind_truth_test(p, ast, scope, out);
		struct sql_bexpr *a, *b;
		TRY(sql__bind(p, ast->is.left, scope, &a));
		TRY(sql__bind(p, ast->is.right, scope, &b));
		TRY(check_comparable(a->type, b->type, "IS"));
		*out = make_binary(p, ast->is.negated ? SQL_OP_IS_NOT : SQL_OP_IS, a, b, SQL_BOOL);
		return *out ? NULL : sql__oom();
	}
	case SQL_EXPR_LIKE:
		if (!(e = sql__new_bexpr(p, SQL_BX_LIKE)))
			return sql__oom();
		TRY(args_alloc(p, e, 2));
		TRY(sql__bind(p, ast->like.operand, scope, &e->args[0]));
		TRY(sql__bind(p, ast->like.pattern, scope, &e->args[1]));
		e->negated = ast->like.negated;
		e->type = SQL_BOOL;
		*out = e;
		return NULL;
	case SQL_EXPR_BETWEEN: return bind_between(p, ast, scope, out);
	case SQL_EXPR_IN_LIST: return bind_in_list(p, ast, scope, out);
	case SQL_EXPR_IN_SELECT:
	case SQL_EXPR_EXISTS:
	case SQL_EXPR_SUBQUERY: return bind_subquery(p, ast, scope, out);
	case SQL_EXPR_CASE: return bind_case(p, ast, scope, out);
	case SQL_EXPR_CAST:
		if (!(e = sql__new_bexpr(p, SQL_BX_CAST)))
			return sql__oom();
		TRY(args_alloc(p, e, 1));
		TRY(sql__bind(p, ast->cast.operand, scope, &e->args[0]));
		e->cast_to = sql_plan_value_type(ast->cast.type.type);
		e->type = e->cast_to;
		*out = e;
		return NULL;
	case SQL_EXPR_FUNCTION: return bind_function(p, ast, scope, out);
	case SQL_EXPR_DEFAULT: return err_new(ERR_INVALID, "DEFAULT is only allowed as a value");
	}
	return err_new(ERR_INTERNAL, "unknown expression kind %d", (int)ast->kind);
}

err *sql__bind(struct sql_planner *p, const struct sql_expr *ast, struct sql__scope *scope,
               struct sql_bexpr **out)
{
	assert(ast && out);
	*out = NULL;
	struct sql__agg_ctx *agg = scope ? scope->agg : NULL;
	if (agg) {
		for (uint32_t g = 0; g < agg->node->group_count; g++) {
			if (sql__ast_equal(agg->group_ast[g], ast)) {
				*out = sql__column_ref(p, g, sql__expr_name(p, ast),
				                       agg->node->groups[g]->type);
				return *out ? NULL : sql__oom();
			}
		}
	}
	return bind_node(p, ast, scope, out);
}

/* ---- entry points for single-table and constant expressions ---- */

err *sql_plan_table_expr(struct sql_planner *p, const struct sql_table *table,
                         const struct sql_expr *e, struct sql_bexpr **out)
{
	struct sql__scope scope = {0};
	void *mem;
	TRY(sql__alloc(p, sizeof *scope.cols * table->column_count, &mem));
	scope.cols = mem;
	scope.count = table->column_count;
	for (uint32_t i = 0; i < table->column_count; i++)
		scope.cols[i] = (struct sql__scope_col){table->name, table->columns[i].name,
		                                        table->columns[i].type};
	if (sql__has_aggregate(e))
		return err_new(ERR_INVALID, "aggregate functions are not allowed here");
	return sql__bind(p, e, &scope, out);
}

/* Whether e contains a subquery. */
static bool has_subquery(const struct sql_bexpr *e)
{
	if (e->kind == SQL_BX_SUBQUERY)
		return true;
	for (uint32_t i = 0; i < e->arg_count; i++) /* as deep as the parser nests */
		if (has_subquery(e->args[i]))
			return true;
	return false;
}

err *sql_plan_const_expr(struct sql_planner *p, const struct sql_expr *e, const char *what,
                         struct sql_bexpr **out)
{
	struct sql__scope scope = {0};
	if (sql__has_aggregate(e))
		return err_new(ERR_INVALID, "aggregate functions are not allowed here");
	TRY(sql__bind(p, e, &scope, out));
	if (what && has_subquery(*out))
		return err_new(ERR_INVALID, "%s takes a constant expression, not a subquery", what);
	return NULL;
}
