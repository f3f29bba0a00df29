/*
 * expr.c — evaluation of bound expressions (see expr.h).
 *
 * A straightforward tree walk. Each case evaluates its arguments into owned values,
 * computes, and releases the arguments; AND/OR/CASE/COALESCE short-circuit where SQL's
 * three-valued logic allows. The planner has already checked types, so the type errors
 * returned here are defensive: they can only come from values whose type was unknown at
 * plan time (NULL literals, parameters of CASE arms).
 */
#include "sql/expr.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

bool sql_value_truth(const struct sql_value *v)
{
	switch (v->type) {
	case SQL_BOOL: return v->u.b;
	case SQL_INT: return v->u.i != 0;
	case SQL_FLOAT: return v->u.f != 0.0;
	case SQL_TEXT: {
		struct sql_value n;
		if (sql_value_cast(v, SQL_FLOAT, &n))
			return false;
		return n.type == SQL_FLOAT && n.u.f != 0.0;
	}
	case SQL_NULL: return false;
	}
	return false;
}

/* -1 false, 0 NULL, 1 true: the three truth values */
static int tri(const struct sql_value *v)
{
	if (v->type == SQL_NULL)
		return 0;
	return sql_value_truth(v) ? 1 : -1;
}

static struct sql_value tri_value(int t)
{
	return t == 0 ? sql_null() : sql_bool(t > 0);
}

static err *eval_logic(const struct sql_bexpr *e, const struct sql_eval_ctx *ctx,
                       struct sql_value *out)
{
	struct sql_value a;
	TRY(sql_bexpr_eval(e->args[0], ctx, &a));
	int ta = tri(&a);
	sql_value_free(&a);
	if (e->op == SQL_OP_AND && ta < 0) {
		*out = sql_bool(false);
		return NULL;
	}
	if (e->op == SQL_OP_OR && ta > 0) {
		*out = sql_bool(true);
		return NULL;
	}
	struct sql_value b;
	TRY(sql_bexpr_eval(e->args[1], ctx, &b));
	int tb = tri(&b);
	sql_value_free(&b);
	if (e->op == SQL_OP_AND)
		*out = tri_value(ta < tb ? ta : tb);
	else
		*out = tri_value(ta > tb ? ta : tb);
	return NULL;
}

static struct sql_value compare_result(enum sql_op op, int c)
{
	switch (op) {
	case SQL_OP_EQ: return sql_bool(c == 0);
	case SQL_OP_NE: return sql_bool(c != 0);
	case SQL_OP_LT: return sql_bool(c < 0);
	case SQL_OP_LE: return sql_bool(c <= 0);
	case SQL_OP_GT: return sql_bool(c > 0);
	case SQL_OP_GE: return sql_bool(c >= 0);
	default: break;
	}
	assert(!"not a comparison");
	return sql_null();
}

static err *binary(enum sql_op op, const struct sql_value *a, const struct sql_value *b,
                   struct sql_value *out)
{
	struct sql_value ca = *a, cb = *b;
	switch (op) {
	case SQL_OP_ADD:
	case SQL_OP_SUB:
	case SQL_OP_MUL:
	case SQL_OP_DIV:
	case SQL_OP_MOD: {
		static const enum sql_arith map[] = {[SQL_OP_ADD] = SQL_ADD,
		                                     [SQL_OP_SUB] = SQL_SUB,
		                                     [SQL_OP_MUL] = SQL_MUL,
		                                     [SQL_OP_DIV] = SQL_DIV,
		                                     [SQL_OP_MOD] = SQL_MOD};
		if (ca.type == SQL_BOOL)
			ca = sql_int(ca.u.b);
		if (cb.type == SQL_BOOL)
			cb = sql_int(cb.u.b);
		return sql_value_arith(map[op], &ca, &cb, out);
	}
	case SQL_OP_CONCAT: return sql_value_concat(a, b, out);
	case SQL_OP_IS:
	case SQL_OP_IS_NOT: {
		int c = 0;
		bool is_null = false;
		if (a->type == SQL_NULL || b->type == SQL_NULL)
			c = a->type == b->type ? 0 : 1;
		else
			TRY(sql_value_compare(a, b, &c, &is_null));
		*out = sql_bool((c == 0) == (op == SQL_OP_IS));
		return NULL;
	}
	case SQL_OP_EQ:
	case SQL_OP_NE:
	case SQL_OP_LT:
	case SQL_OP_LE:
	case SQL_OP_GT:
	case SQL_OP_GE: {
		int c;
		bool is_null;
		TRY(sql_value_compare(a, b, &c, &is_null));
		*out = is_null ? sql_null() : compare_result(op, c);
		return NULL;
	}
	default: break;
	}
	return err_new(ERR_INTERNAL, "operator %d is not binary", (int)op);
}

static err *eval_binary(const struct sql_bexpr *e, const struct sql_eval_ctx *ctx,
                        struct sql_value *out)
{
	if (e->op == SQL_OP_AND || e->op == SQL_OP_OR)
		return eval_logic(e, ctx, out);
	/* column operands are read in place; others are evaluated into a and b */
	struct sql_value a = sql_null(), b = sql_null();
	const struct sql_value *pa = sql_bexpr_in_place(e->args[0], ctx);
	if (!pa) {
		TRY(sql_bexpr_eval(e->args[0], ctx, &a));
		pa = &a;
	}
	const struct sql_value *pb = sql_bexpr_in_place(e->args[1], ctx);
	err *er = NULL;
	if (!pb) {
		er = sql_bexpr_eval(e->args[1], ctx, &b);
		pb = &b;
	}
	int64_t r;
	bool done = false;
	if (!er && pa->type == SQL_INT && pb->type == SQL_INT) {
		/* integer +, -, * without overflow, inline; everything else through binary() */
		if (e->op == SQL_OP_ADD)
			done = !__builtin_add_overflow(pa->u.i, pb->u.i, &r);
		else if (e->op == SQL_OP_SUB)
			done = !__builtin_sub_overflow(pa->u.i, pb->u.i, &r);
		else if (e->op == SQL_OP_MUL)
			done = !__builtin_mul_overflow(pa->u.i, pb->u.i, &r);
		if (done)
			*out = sql_int(r);
	}
	if (!er && !done)
		er = binary(e->op, pa, pb, out);
	sql_value_free(&a);
	sql_value_free(&b);
	return er;
}

static err *eval_unary(const struct sql_bexpr *e, const struct sql_eval_ctx *ctx,
                       struct sql_value *out)
{
	struct sql_value a;
	TRY(sql_bexpr_eval(e->args[0], ctx, &a));
	err *er = NULL;
	if (e->op == SQL_OP_NOT) {
		int t = tri(&a);
		*out = tri_value(-t);
	} else {
		assert(e->op == SQL_OP_NEG);
		if (a.type == SQL_BOOL)
			a = sql_int(a.u.b);
		er = sql_value_negate(&a, out);
	}
	sql_value_free(&a);
	return er;
}

/* ---- LIKE ---- */

static size_t utf8_step(const char *s, size_t len)
{
	size_t n = 1;
	while (n < len && ((unsigned char)s[n] & 0xC0) == 0x80)
		n++;
	return n;
}

static char ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/*
 * Iterative matcher with one backtrack point (the last '%'): linear in practice and
 * O(text * pattern) at worst, never exponential.
 */
bool sql_like(const char *t, size_t tl, const char *p, size_t pl)
{
	size_t ti = 0, pi = 0;
	size_t star_p = SIZE_MAX, star_t = 0;
	while (ti < tl) {
		if (pi < pl && p[pi] == '%') {
			star_p = ++pi;
			star_t = ti;
			continue;
		}
		if (pi < pl && p[pi] == '_') {
			ti += utf8_step(t + ti, tl - ti);
			pi += utf8_step(p + pi, pl - pi);
			continue;
		}
		if (pi < pl) {
			size_t n = utf8_step(p + pi, pl - pi);
			if (ti + n <= tl && (n == 1 ? ascii_lower(p[pi]) == ascii_lower(t[ti])
			                            : memcmp(p + pi, t + ti, n) == 0)) {
				ti += n;
				pi += n;
				continue;
			}
		}
		if (star_p == SIZE_MAX)
			return false;
		star_t += utf8_step(t + star_t, tl - star_t);
		ti = star_t;
		pi = star_p;
	}
	while (pi < pl && p[pi] == '%')
		pi++;
	return pi == pl;
}

static err *eval_like(const struct sql_bexpr *e, const struct sql_eval_ctx *ctx,
                      struct sql_value *out)
{
	struct sql_value a, b;
	TRY(sql_bexpr_eval(e->args[0], ctx, &a));
	err *er = sql_bexpr_eval(e->args[1], ctx, &b);
	if (er) {
		sql_value_free(&a);
		return er;
	}
	*out = sql_null();
	if (a.type != SQL_NULL && b.type != SQL_NULL) {
		struct sql_value ta, tb;
		er = sql_value_cast(&a, SQL_TEXT, &ta);
		if (!er) {
			er = sql_value_cast(&b, SQL_TEXT, &tb);
			if (!er) {
				bool m = sql_like(ta.u.s.ptr, ta.u.s.len, tb.u.s.ptr, tb.u.s.len);
				*out = sql_bool(m != e->negated);
				sql_value_free(&tb);
			}
			sql_value_free(&ta);
		}
	}
	sql_value_free(&a);
	sql_value_free(&b);
	return er;
}

/* ---- IN, CASE, CAST, functions ---- */

static err *eval_in_list(const struct sql_bexpr *e, const struct sql_eval_ctx *ctx,
                         struct sql_value *out)
{
	if (e->arg_count == 1) { /* x IN () is FALSE whatever x is */
		*out = sql_bool(e->negated);
		return NULL;
	}
	struct sql_value probe;
	TRY(sql_bexpr_eval(e->args[0], ctx, &probe));
	*out = sql_null();
	if (probe.type == SQL_NULL)
		return NULL;
	bool saw_null = false, found = false;
	err *er = NULL;
	for (uint32_t i = 1; i < e->arg_count && !found && !er; i++) {
		struct sql_value v;
		er = sql_bexpr_eval(e->args[i], ctx, &v);
		if (er)
			break;
		int c;
		bool is_null;
		er = sql_value_compare(&probe, &v, &c, &is_null);
		if (!er) {
			saw_null |= is_null;
			found = !is_null && c == 0;
		}
		sql_value_free(&v);
	}
	sql_value_free(&probe);
	if (er)
		return er;
	if (found)
		*out = sql_bool(!e->negated);
	else if (!saw_null)
		*out = sql_bool(e->negated);
	return NULL;
}

static err *eval_case(const struct sql_bexpr *e, const struct sql_eval_ctx *ctx,
                      struct sql_value *out)
{
	uint32_t i = 0;
	struct sql_value operand = sql_null();
	if (e->has_operand)
		TRY(sql_bexpr_eval(e->args[i++], ctx, &operand));
	uint32_t pairs_end = e->arg_count - (e->has_else ? 1 : 0);
	err *er = NULL;
	for (; i + 1 < pairs_end; i += 2) {
		struct sql_value w;
		er = sql_bexpr_eval(e->args[i], ctx, &w);
		if (er)
			break;
		bool hit;
		if (e->has_operand) {
			int c;
			bool is_null;
			er = sql_value_compare(&operand, &w, &c, &is_null);
			hit = !er && !is_null && c == 0;
		} else {
			hit = sql_value_truth(&w);
		}
		sql_value_free(&w);
		if (er)
			break;
		if (hit) {
			sql_value_free(&operand);
			return sql_bexpr_eval(e->args[i + 1], ctx, out);
		}
	}
	sql_value_free(&operand);
	if (er)
		return er;
	if (e->has_else)
		return sql_bexpr_eval(e->args[e->arg_count - 1], ctx, out);
	*out = sql_null();
	return NULL;
}

static err *eval_func(const struct sql_bexpr *e, const struct sql_eval_ctx *ctx,
                      struct sql_value *out)
{
	enum { MAX_ARGS = 16 };
	struct sql_value args[MAX_ARGS];
	if (e->arg_count > MAX_ARGS)
		return err_new(ERR_LIMIT, "too many function arguments");
	if (e->func == SQL_FUNC_COALESCE || e->func == SQL_FUNC_IFNULL) {
		for (uint32_t i = 0; i < e->arg_count; i++) {
			TRY(sql_bexpr_eval(e->args[i], ctx, out));
			if (out->type != SQL_NULL)
				return NULL;
		}
		*out = sql_null();
		return NULL;
	}
	uint32_t n = 0;
	err *er = NULL;
	for (; n < e->arg_count; n++) {
		er = sql_bexpr_eval(e->args[n], ctx, &args[n]);
		if (er)
			break;
	}
	if (!er)
		er = sql_func_call(e->func, args, n, out);
	for (uint32_t i = 0; i < n; i++)
		sql_value_free(&args[i]);
	return er;
}

static err *eval_depth(const struct sql_bexpr *e, const struct sql_eval_ctx *ctx,
                       struct sql_value *out)
{
	switch (e->kind) {
	case SQL_BX_CONST: return sql_value_copy(out, &e->value);
	case SQL_BX_COLUMN: {
		const struct sql_eval_ctx *c = ctx;
		for (uint32_t d = 0; d < e->outer_depth && c; d++)
			c = c->outer;
		if (!c || e->column >= c->column_count)
			return err_new(ERR_INTERNAL, "column %u out of range", e->column);
		return sql_value_copy(out, &c->row[e->column]);
	}
	case SQL_BX_UNARY: return eval_unary(e, ctx, out);
	case SQL_BX_BINARY: return eval_binary(e, ctx, out);
	case SQL_BX_IS_NULL: {
		struct sql_value a;
		TRY(sql_bexpr_eval(e->args[0], ctx, &a));
		*out = sql_bool((a.type == SQL_NULL) != e->negated);
		sql_value_free(&a);
		return NULL;
	}
	case SQL_BX_LIKE: return eval_like(e, ctx, out);
	case SQL_BX_IN_LIST: return eval_in_list(e, ctx, out);
	case SQL_BX_CASE: return eval_case(e, ctx, out);
	case SQL_BX_CAST: {
		struct sql_value a;
		TRY(sql_bexpr_eval(e->args[0], ctx, &a));
		err *er = sql_value_cast(&a, e->cast_to, out);
		sql_value_free(&a);
		return er;
	}
	case SQL_BX_FUNC: return eval_func(e, ctx, out);
	case SQL_BX_SUBQUERY:
		if (!ctx->exec)
			return err_new(ERR_INTERNAL, "subquery without an executor");
		return sql_exec_subquery(ctx->exec, e, ctx, out);
	}
	return err_new(ERR_INTERNAL, "unknown expression kind %d", (int)e->kind);
}

err *sql_bexpr_eval(const struct sql_bexpr *e, const struct sql_eval_ctx *ctx,
                    struct sql_value *out)
{
	assert(e && ctx && out);
	*out = sql_null();
	err *er = eval_depth(e, ctx, out);
	if (er)
		sql_value_free(out);
	return er;
}

err *sql_bexpr_truth(const struct sql_bexpr *e, const struct sql_eval_ctx *ctx, bool *truth)
{
	struct sql_value v;
	*truth = false;
	TRY(sql_bexpr_eval(e, ctx, &v));
	*truth = sql_value_truth(&v);
	sql_value_free(&v);
	return NULL;
}
