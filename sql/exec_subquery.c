/*
 * exec_subquery.c — subqueries inside expressions, and compound queries (UNION,
 * INTERSECT, EXCEPT).
 *
 * A subquery runs with the row being evaluated as its outer context. An uncorrelated one
 * gives the same answer for every row, so its result is computed once per statement and
 * cached (keyed by the expression node; lookups compare node identity only, so nothing
 * depends on pointer values). Semantics follow SQLite: a scalar subquery yields its first
 * row's value or NULL when it has no rows; `x IN (subquery)` is TRUE if some row equals x,
 * NULL if none does but x or some row is NULL, FALSE otherwise (always FALSE when the
 * subquery is empty).
 *
 * Compound queries: UNION ALL streams both inputs; UNION, INTERSECT and EXCEPT remove
 * duplicates and emit their rows sorted on all columns, as SQLite does.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "sql/exec_internal.h"

struct sql__subquery_cache {
	const struct sql_bexpr *expr;
	struct sql_value scalar;
	bool exists;
	struct sql__rowset set; /* IN: the non-NULL values */
	bool set_has_null;
};

void sql_exec_free(struct sql_exec *x)
{
	for (uint32_t i = 0; i < x->cache_count; i++) {
		sql_value_free(&x->cache[i].scalar);
		sql__rowset_free(&x->cache[i].set);
	}
	free(x->cache);
	x->cache = NULL;
	x->cache_count = x->cache_cap = 0;
}

/* Runs the subquery of `e` once and records what every kind needs. */
static err *compute(struct sql_exec *x, const struct sql_bexpr *e, const struct sql_eval_ctx *ctx,
                    struct sql__subquery_cache *c)
{
	memset(c, 0, sizeof *c);
	c->expr = e;
	sql__rowset_init(&c->set, 1);
	struct sql_iter *it;
	TRY(sql_iter_open(x, e->subquery, ctx, &it));
	err *er = NULL;
	for (;;) {
		const struct sql_value *row;
		bool done;
		er = sql_iter_next(it, &row, &done);
		if (er || done)
			break;
		if (!c->exists && e->subquery_kind == SQL_SUBQUERY_SCALAR)
			er = sql_value_copy(&c->scalar, &row[0]);
		c->exists = true;
		if (er || e->subquery_kind != SQL_SUBQUERY_IN)
			break; /* scalar and EXISTS need only the first row */
		bool added;
		if (row[0].type == SQL_NULL)
			c->set_has_null = true;
		else
			er = sql__rowset_add(&c->set, row, &added);
		if (er)
			break;
	}
	sql_iter_close(it);
	if (er) {
		sql_value_free(&c->scalar);
		sql__rowset_free(&c->set);
	}
	return er;
}

static err *cached(struct sql_exec *x, const struct sql_bexpr *e, const struct sql_eval_ctx *ctx,
                   struct sql__subquery_cache **out)
{
	for (uint32_t i = 0; i < x->cache_count; i++)
		if (x->cache[i].expr == e) {
			*out = &x->cache[i];
			return NULL;
		}
	/* computed first: the subqueries it holds add their own entries to the cache */
	struct sql__subquery_cache c;
	TRY(compute(x, e, ctx, &c));
	if (x->cache_count == x->cache_cap) {
		uint32_t cap = x->cache_cap ? x->cache_cap * 2 : 8;
		struct sql__subquery_cache *n = realloc(x->cache, sizeof *n * cap);
		if (!n) {
			sql_value_free(&c.scalar);
			sql__rowset_free(&c.set);
			return err_new(ERR_NOMEM, "out of memory caching a subquery");
		}
		x->cache = n;
		x->cache_cap = cap;
	}
	x->cache[x->cache_count] = c;
	*out = &x->cache[x->cache_count++];
	return NULL;
}

static struct sql_value in_result(const struct sql_bexpr *e, bool any_rows, bool found,
                                  bool probe_null, bool saw_null)
{
	if (!any_rows)
		return sql_bool(e->negated);
	if (probe_null)
		return sql_null();
	if (found)
		return sql_bool(!e->negated);
	return saw_null ? sql_null() : sql_bool(e->negated);
}

err *sql_exec_subquery(struct sql_exec *x, const struct sql_bexpr *e,
                       const struct sql_eval_ctx *ctx, struct sql_value *out)
{
	*out = sql_null();
	/* the probe first: evaluating it may run (and cache) other subqueries */
	struct sql_value probe = sql_null();
	if (e->subquery_kind == SQL_SUBQUERY_IN)
		TRY(sql_bexpr_eval(e->args[0], ctx, &probe));
	struct sql__subquery_cache *c = NULL, local;
	err *er = e->correlated ? compute(x, e, ctx, &local) : cached(x, e, ctx, &c);
	if (er) {
		sql_value_free(&probe);
		return er;
	}
	if (e->correlated)
		c = &local;
	switch (e->subquery_kind) {
	case SQL_SUBQUERY_SCALAR: er = sql_value_copy(out, &c->scalar); break;
	case SQL_SUBQUERY_EXISTS: *out = sql_bool(c->exists); break;
	case SQL_SUBQUERY_IN: {
		bool probe_null = probe.type == SQL_NULL;
		bool found = !probe_null && sql__rowset_contains(&c->set, &probe);
		*out = in_result(e, c->exists, found, probe_null, c->set_has_null);
		break;
	}
	}
	sql_value_free(&probe);
	if (e->correlated) {
		sql_value_free(&local.scalar);
		sql__rowset_free(&local.set);
	}
	return er;
}

/* ---- compound queries ---- */

static err *union_all_next(struct sql_iter *it, const struct sql_value **row, bool *done)
{
	if (!it->started) {
		TRY(sql_iter_next(it->input, row, done));
		if (!*done)
			return NULL;
		it->started = true;
	}
	return sql_iter_next(it->right, row, done);
}

/* Reads all of `from` into `set` (deduplicated). */
static err *fill_set(struct sql_iter *from, struct sql__rowset *set)
{
	for (;;) {
		const struct sql_value *r;
		bool done, added;
		TRY(sql_iter_next(from, &r, &done));
		if (done)
			return NULL;
		TRY(sql__rowset_add(set, r, &added));
	}
}

static err *set_compute(struct sql_iter *it)
{
	const struct sql_plan *p = it->plan;
	struct sql__rowset right;
	sql__rowset_init(&right, p->width);
	err *e = fill_set(it->input, &it->seen);
	if (!e && p->set_op == SQL_COMPOUND_UNION)
		e = fill_set(it->right, &it->seen);
	else if (!e)
		e = fill_set(it->right, &right);
	for (uint64_t r = 0; r < it->seen.rows.count && !e; r++) {
		const struct sql_value *row = sql_rows_at(&it->seen.rows, r);
		bool keep =
		    p->set_op == SQL_COMPOUND_UNION ||
		    (p->set_op == SQL_COMPOUND_INTERSECT) == sql__rowset_contains(&right, row);
		if (keep)
			e = sql_rows_push(&it->rows, row);
	}
	sql__rowset_free(&right);
	struct sql_sort_key *keys = calloc(p->width + 1, sizeof *keys);
	if (!keys && !e)
		e = err_new(ERR_NOMEM, "out of memory sorting a compound query");
	for (uint32_t i = 0; keys && i < p->width; i++)
		keys[i] = (struct sql_sort_key){i, false, true};
	if (!e)
		e = sql_rows_sort(&it->rows, keys, p->width);
	free(keys);
	return e;
}

static err *set_next(struct sql_iter *it, const struct sql_value **row, bool *done)
{
	if (!it->started) {
		it->started = true;
		TRY(set_compute(it));
	}
	if (it->pos >= it->rows.count) {
		*done = true;
		return NULL;
	}
	*row = sql_rows_at(&it->rows, it->pos++);
	return NULL;
}

err *sql__set_op_open(struct sql_iter *it)
{
	const struct sql_plan *p = it->plan;
	TRY(sql_iter_open(it->x, p->input, it->outer, &it->input));
	TRY(sql_iter_open(it->x, p->right, it->outer, &it->right));
	it->next = p->set_op == SQL_COMPOUND_UNION_ALL ? union_all_next : set_next;
	return NULL;
}
