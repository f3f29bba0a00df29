/*
 * optimizer.c — the rewrite rules of optimizer.h and the driver that applies them.
 *
 * The driver makes two passes. The first, bottom-up, folds constants in every
 * expression (optimizing subquery plans on the way), pushes filters down and removes
 * constant filters. The second, once every scan holds all the predicates it will get,
 * reorders inner join chains, turns equi-joins into merge or hash joins and picks scan
 * access paths.
 *
 * Conjuncts that contain a subquery are never moved: a subquery's correlated columns are
 * positions in the row of the node that evaluates it, and moving the conjunct would
 * change that row.
 */
#include "sql/optimizer.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sql/keys.h"
#include "sql/scope.h"

static err *oom(void)
{
	return err_new(ERR_NOMEM, "out of memory optimizing the statement");
}

/* ---- expression analysis ---- */

struct refs {
	uint32_t min, max; /* depth-0 columns used (min > max when none) */
	bool subquery;
	bool outer; /* columns of enclosing queries */
};

static void collect_refs(const struct sql_bexpr *e, struct refs *r)
{
	if (e->kind == SQL_BX_SUBQUERY)
		r->subquery = true;
	if (e->kind == SQL_BX_COLUMN) {
		if (e->outer_depth) {
			r->outer = true;
		} else {
			if (e->column < r->min)
				r->min = e->column;
			if (r->max == UINT32_MAX || e->column > r->max)
				r->max = e->column;
		}
	}
	for (uint32_t i = 0; i < e->arg_count; i++)
		collect_refs(e->args[i], r);
}

static struct refs refs_of(const struct sql_bexpr *e)
{
	struct refs r = {UINT32_MAX, UINT32_MAX, false, false};
	collect_refs(e, &r);
	return r;
}

static bool no_columns(const struct refs *r)
{
	return r->min == UINT32_MAX;
}

/* Copies `e` with every depth-0 column c replaced by map[c] (a new tree; e is shared). */
static err *remap(struct sql_planner *p, const struct sql_bexpr *e, const uint32_t *map,
                  struct sql_bexpr **out)
{
	struct sql_bexpr *c = sql__new_bexpr(p, e->kind);
	if (!c)
		return oom();
	*c = *e;
	if (c->kind == SQL_BX_COLUMN && c->outer_depth == 0)
		c->column = map[e->column];
	if (e->arg_count) {
		TRY(sql__alloc(p, sizeof *c->args * e->arg_count, (void **)&c->args));
		for (uint32_t i = 0; i < e->arg_count; i++)
			TRY(remap(p, e->args[i], map, &c->args[i]));
	}
	*out = c;
	return NULL;
}

/* A map shifting columns down by `offset` (for moving a conjunct to a join's right side). */
static err *shift_map(struct sql_planner *p, uint32_t width, uint32_t offset, uint32_t **out)
{
	TRY(sql__alloc(p, sizeof **out * (width + 1), (void **)out));
	for (uint32_t i = 0; i < width; i++)
		(*out)[i] = i >= offset ? i - offset : 0;
	return NULL;
}

/* ---- conjunct lists ---- */

struct conj {
	struct sql_bexpr **v;
	uint32_t count, cap;
};

static err *conj_push(struct sql_planner *p, struct conj *c, struct sql_bexpr *e)
{
	if (c->count == c->cap) {
		uint32_t cap = c->cap ? c->cap * 2 : 8;
		struct sql_bexpr **n;
		TRY(sql__alloc(p, sizeof *n * cap, (void **)&n));
		if (c->count)
			memcpy(n, c->v, sizeof *n * c->count);
		c->v = n;
		c->cap = cap;
	}
	c->v[c->count++] = e;
	return NULL;
}

static err *split(struct sql_planner *p, struct sql_bexpr *e, struct conj *c)
{
	if (!e)
		return NULL;
	if (e->kind == SQL_BX_BINARY && e->op == SQL_OP_AND) {
		TRY(split(p, e->args[0], c));
		return split(p, e->args[1], c);
	}
	return conj_push(p, c, e);
}

static struct sql_bexpr *and_of(struct sql_planner *p, struct sql_bexpr *a, struct sql_bexpr *b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	struct sql_bexpr *e = sql__new_bexpr(p, SQL_BX_BINARY);
	if (!e || sql__alloc(p, sizeof *e->args * 2, (void **)&e->args))
		return NULL;
	e->op = SQL_OP_AND;
	e->type = SQL_BOOL;
	e->arg_count = 2;
	e->args[0] = a;
	e->args[1] = b;
	return e;
}

static err *join_all(struct sql_planner *p, const struct conj *c, struct sql_bexpr **out)
{
	*out = NULL;
	for (uint32_t i = 0; i < c->count; i++) {
		*out = and_of(p, *out, c->v[i]);
		if (!*out)
			return oom();
	}
	return NULL;
}

/* ---- rule 1: constant folding ---- */

static bool is_const(const struct sql_bexpr *e, int truth)
{
	if (e->kind != SQL_BX_CONST)
		return false;
	if (truth < 0)
		return e->value.type != SQL_NULL && !sql_value_truth(&e->value);
	return e->value.type != SQL_NULL && sql_value_truth(&e->value) == (truth > 0);
}

static err *make_const(struct sql_planner *p, struct sql_value *v, enum sql_value_type type,
                       struct sql_bexpr **out)
{
	struct sql_bexpr *c = sql__new_bexpr(p, SQL_BX_CONST);
	if (!c) {
		sql_value_free(v);
		return oom();
	}
	c->type = type;
	c->value = *v;
	if (v->type == SQL_TEXT) {
		char *s = sql_arena_strndup(p->arena, v->u.s.ptr, v->u.s.len);
		uint32_t len = v->u.s.len;
		sql_value_free(v);
		if (!s)
			return oom();
		c->value.type = SQL_TEXT;
		c->value.u.s.ptr = s;
		c->value.u.s.len = len;
	}
	*out = c;
	return NULL;
}

err *sql_opt_fold(struct sql_planner *p, struct sql_bexpr *e, struct sql_bexpr **out)
{
	*out = e;
	if (e->kind == SQL_BX_SUBQUERY)
		TRY(sql_optimize(p, e->subquery, &e->subquery));
	for (uint32_t i = 0; i < e->arg_count; i++)
		TRY(sql_opt_fold(p, e->args[i], &e->args[i]));
	if (e->kind == SQL_BX_CONST)
		return NULL;
	if (e->kind == SQL_BX_BINARY && (e->op == SQL_OP_AND || e->op == SQL_OP_OR)) {
		int absorbing = e->op == SQL_OP_AND ? -1 : 1; /* FALSE for AND, TRUE for OR */
		for (int i = 0; i < 2; i++) {
			if (is_const(e->args[i], absorbing)) {
				struct sql_value v = sql_bool(absorbing > 0);
				return make_const(p, &v, SQL_BOOL, out);
			}
		}
		for (int i = 0; i < 2; i++) {
			/* the neutral element: TRUE AND x is x when x is boolean-typed */
			if (is_const(e->args[i], -absorbing) && e->args[1 - i]->type == SQL_BOOL) {
				*out = e->args[1 - i];
				return NULL;
			}
		}
	}
	struct refs r = refs_of(e);
	if (!no_columns(&r) || r.subquery || r.outer)
		return NULL;
	struct sql_eval_ctx ctx = {0};
	struct sql_value v;
	err *er = sql_bexpr_eval(e, &ctx, &v);
	if (er) {
		err_free(er); /* leave it: the error belongs to execution, if it happens */
		return NULL;
	}
	return make_const(p, &v, e->type, out);
}

/* Folds every expression held directly by node `n`. */
static err *fold_node(struct sql_planner *p, struct sql_plan *n)
{
	if (n->predicate)
		TRY(sql_opt_fold(p, n->predicate, &n->predicate));
	uint32_t count = n->kind == SQL_PLAN_VALUES ? n->row_count * n->width : n->expr_count;
	for (uint32_t i = 0; n->exprs && i < count; i++)
		TRY(sql_opt_fold(p, n->exprs[i], &n->exprs[i]));
	for (uint32_t i = 0; i < n->group_count; i++)
		TRY(sql_opt_fold(p, n->groups[i], &n->groups[i]));
	for (uint32_t i = 0; i < n->agg_count; i++)
		if (n->aggs[i].arg)
			TRY(sql_opt_fold(p, n->aggs[i].arg, &n->aggs[i].arg));
	return NULL;
}

/* ---- rule 2: filter pushdown ---- */

static err *make_filter(struct sql_planner *p, struct sql_plan *input, struct sql_bexpr *pred,
                        struct sql_plan **out)
{
	struct sql_plan *f;
	TRY(sql__alloc(p, sizeof *f, (void **)&f));
	f->kind = SQL_PLAN_FILTER;
	f->width = input->width;
	f->names = input->names;
	f->types = input->types;
	f->input = input;
	f->predicate = pred;
	*out = f;
	return NULL;
}

/* Adds `pred` as a filter over `child` and pushes it as deep as it goes. */
static err *push_into(struct sql_planner *p, struct sql_plan *child, struct sql_bexpr *pred,
                      struct sql_plan **out)
{
	if (!pred) {
		*out = child;
		return NULL;
	}
	struct sql_plan *f;
	TRY(make_filter(p, child, pred, &f));
	return sql_opt_push_filters(p, f, out);
}

/*
 * Distributes conjuncts over a join's sides. `to_left`/`to_right` say where moving is
 * allowed; the rest stays in *keep (and both-sided ones in *both when `both` is given).
 */
static err *distribute(struct sql_planner *p, struct sql_plan *join, const struct conj *in,
                       bool to_left, bool to_right, struct conj *left, struct conj *right,
                       struct conj *keep)
{
	uint32_t lw = join->input->width;
	uint32_t *map = NULL;
	for (uint32_t i = 0; i < in->count; i++) {
		struct sql_bexpr *e = in->v[i];
		struct refs r = refs_of(e);
		if (r.subquery || no_columns(&r)) {
			TRY(conj_push(p, keep, e));
		} else if (to_left && r.max < lw) {
			TRY(conj_push(p, left, e));
		} else if (to_right && r.min >= lw) {
			if (!map)
				TRY(shift_map(p, join->width, lw, &map));
			struct sql_bexpr *m;
			TRY(remap(p, e, map, &m));
			TRY(conj_push(p, right, m));
		} else {
			TRY(conj_push(p, keep, e));
		}
	}
	return NULL;
}

static err *push_join_condition(struct sql_planner *p, struct sql_plan *join)
{
	if (!join->predicate)
		return NULL;
	struct conj all = {0}, left = {0}, right = {0}, keep = {0};
	TRY(split(p, join->predicate, &all));
	/* an ON conjunct may filter the side whose unmatched rows are not preserved */
	bool l = join->join == SQL_JOIN_TYPE_INNER || join->join == SQL_JOIN_TYPE_RIGHT;
	bool r = join->join == SQL_JOIN_TYPE_INNER || join->join == SQL_JOIN_TYPE_LEFT;
	TRY(distribute(p, join, &all, l, r, &left, &right, &keep));
	struct sql_bexpr *lp, *rp;
	TRY(join_all(p, &left, &lp));
	TRY(join_all(p, &right, &rp));
	TRY(join_all(p, &keep, &join->predicate));
	TRY(push_into(p, join->input, lp, &join->input));
	return push_into(p, join->right, rp, &join->right);
}

err *sql_opt_push_filters(struct sql_planner *p, struct sql_plan *n, struct sql_plan **out)
{
	*out = n;
	if (n->kind == SQL_PLAN_JOIN)
		return push_join_condition(p, n);
	if (n->kind != SQL_PLAN_FILTER)
		return NULL;
	struct sql_plan *in = n->input;
	switch (in->kind) {
	case SQL_PLAN_SCAN: {
		/* the scan's row is the filter's row: even subqueries may move here */
		in->predicate = and_of(p, in->predicate, n->predicate);
		if (!in->predicate)
			return oom();
		*out = in;
		return NULL;
	}
	case SQL_PLAN_FILTER:
		in->predicate = and_of(p, in->predicate, n->predicate);
		if (!in->predicate)
			return oom();
		return sql_opt_push_filters(p, in, out);
	case SQL_PLAN_JOIN: {
		struct conj all = {0}, left = {0}, right = {0}, keep = {0};
		TRY(split(p, n->predicate, &all));
		bool inner = in->join == SQL_JOIN_TYPE_INNER;
		bool l = inner || in->join == SQL_JOIN_TYPE_LEFT;
		bool r = inner || in->join == SQL_JOIN_TYPE_RIGHT;
		TRY(distribute(p, in, &all, l, r, &left, &right, &keep));
		struct sql_bexpr *lp, *rp, *kp;
		TRY(join_all(p, &left, &lp));
		TRY(join_all(p, &right, &rp));
		TRY(push_into(p, in->input, lp, &in->input));
		TRY(push_into(p, in->right, rp, &in->right));
		if (inner) {
			/* both-sided conjuncts without subqueries become join conditions */
			struct conj stay = {0}, cond = {0};
			for (uint32_t i = 0; i < keep.count; i++) {
				struct refs kr = refs_of(keep.v[i]);
				TRY(conj_push(p, kr.subquery || no_columns(&kr) ? &stay : &cond,
				              keep.v[i]));
			}
			struct sql_bexpr *cp;
			TRY(join_all(p, &cond, &cp));
			if (cp && !(in->predicate = and_of(p, in->predicate, cp)))
				return oom();
			keep = stay;
		}
		TRY(join_all(p, &keep, &kp));
		if (!kp) {
			*out = in;
			return NULL;
		}
		n->predicate = kp;
		return NULL;
	}
	default: return NULL;
	}
}

/* ---- rule 3: constant filters ---- */

err *sql_opt_constant_filter(struct sql_planner *p, struct sql_plan *n, struct sql_plan **out)
{
	*out = n;
	bool filterish = n->kind == SQL_PLAN_FILTER || n->kind == SQL_PLAN_SCAN;
	if (!filterish || !n->predicate || n->predicate->kind != SQL_BX_CONST)
		return NULL;
	const struct sql_value *v = &n->predicate->value;
	if (v->type != SQL_NULL && sql_value_truth(v)) {
		n->predicate = NULL;
		if (n->kind == SQL_PLAN_FILTER)
			*out = n->input;
		return NULL;
	}
	struct sql_plan *nothing;
	TRY(sql__alloc(p, sizeof *nothing, (void **)&nothing));
	nothing->kind = SQL_PLAN_NOTHING;
	nothing->width = n->width;
	nothing->names = n->names;
	nothing->types = n->types;
	*out = nothing;
	return NULL;
}

/* ---- rule 4: access paths ---- */

/*
 * Converts constant `v` to the key type of a column, as SQL compares them (a BOOLEAN is 0
 * or 1); false if it cannot match any key, or, for a bound (`round` -1 for a lower one, 1
 * for an upper one), if the column's keys cannot take it: then the predicate alone decides.
 */
static bool key_value(enum sql_value_type col, const struct sql_value *v, int round,
                      struct sql_value *out)
{
	if (v->type == SQL_NULL)
		return false;
	if (v->type == SQL_BOOL && (col == SQL_INT || col == SQL_FLOAT)) {
		struct sql_value n = sql_int(v->u.b);
		return key_value(col, &n, round, out);
	}
	if (col == SQL_BOOL && (v->type == SQL_INT || v->type == SQL_FLOAT)) {
		double x = v->type == SQL_INT ? (double)v->u.i : v->u.f;
		if (round != 0 || (x != 0 && x != 1))
			return false;
		*out = sql_bool(x == 1);
		return true;
	}
	/* a text longer than any key cannot be stored as one, nor bound a range usefully */
	if (v->type == SQL_TEXT && v->u.s.len > SQL_KEY_MAX_BYTES)
		return false;
	if (v->type == col) {
		*out = *v;
		return true;
	}
	if (col == SQL_FLOAT && v->type == SQL_INT) {
		*out = sql_float((double)v->u.i);
		return true;
	}
	if (col == SQL_INT && v->type == SQL_FLOAT) {
		/* a float equal to no integer matches no key; beyond them it bounds no range */
		double f = round < 0 ? floor(v->u.f) : round > 0 ? ceil(v->u.f) : v->u.f;
		int64_t i;
		if (!sql_float_is_int(f, &i))
			return false;
		*out = sql_int(i);
		return true;
	}
	return false;
}

/* The key column a scan can use for table column `col`: 0 pk, 1 + index, -1 none. */
static int key_for(const struct sql_table *t, uint32_t col)
{
	if (t->pk == (int32_t)col)
		return 0;
	for (uint32_t i = 0; i < t->index_count; i++)
		if (t->indexes[i].columns[0] == col)
			return 1 + (int)i;
	return -1;
}

struct candidate {
	int key; /* as key_for() */
	uint32_t column;
	bool points;
	struct sql_bexpr *e;
};

static enum sql_op flip(enum sql_op op)
{
	switch (op) {
	case SQL_OP_LT: return SQL_OP_GT;
	case SQL_OP_LE: return SQL_OP_GE;
	case SQL_OP_GT: return SQL_OP_LT;
	case SQL_OP_GE: return SQL_OP_LE;
	default: return op;
	}
}

/* Recognises `col op const`, `const op col` and `col IN (consts)` on a key column. */
static bool candidate_of(const struct sql_table *t, struct sql_bexpr *e, struct candidate *c,
                         enum sql_op *op, const struct sql_bexpr **k)
{
	if (e->kind == SQL_BX_IN_LIST && !e->negated && e->args[0]->kind == SQL_BX_COLUMN &&
	    e->args[0]->outer_depth == 0) {
		for (uint32_t i = 1; i < e->arg_count; i++)
			if (e->args[i]->kind != SQL_BX_CONST)
				return false;
		c->column = e->args[0]->column;
		c->points = true;
		*op = SQL_OP_EQ;
		*k = NULL;
	} else if (e->kind == SQL_BX_BINARY && e->op >= SQL_OP_EQ && e->op <= SQL_OP_GE &&
	           e->op != SQL_OP_NE) {
		const struct sql_bexpr *a = e->args[0], *b = e->args[1];
		*op = e->op;
		if (b->kind == SQL_BX_COLUMN && a->kind == SQL_BX_CONST) {
			const struct sql_bexpr *x = a;
			a = b;
			b = x;
			*op = flip(*op);
		}
		if (a->kind != SQL_BX_COLUMN || a->outer_depth || b->kind != SQL_BX_CONST)
			return false;
		c->column = a->column;
		c->points = *op == SQL_OP_EQ;
		*k = b;
	} else {
		return false;
	}
	if (c->column >= t->column_count)
		return false;
	c->key = key_for(t, c->column);
	c->e = e;
	return c->key >= 0;
}

/* Sorts and deduplicates points (a tiny insertion sort: IN lists are short). */
static uint32_t unique_points(struct sql_value *v, uint32_t n)
{
	for (uint32_t i = 1; i < n; i++)
		for (uint32_t j = i; j > 0 && sql_value_order(&v[j - 1], &v[j]) > 0; j--) {
			struct sql_value t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	uint32_t m = 0;
	for (uint32_t i = 0; i < n; i++)
		if (!m || sql_value_order(&v[m - 1], &v[i]) != 0)
			v[m++] = v[i];
	return m;
}

static err *use_points(struct sql_planner *p, struct sql_plan *scan, const struct candidate *c,
                       enum sql_value_type type)
{
	struct sql_access *a = &scan->access;
	const struct sql_bexpr *e = c->e;
	uint32_t n = e->kind == SQL_BX_IN_LIST ? e->arg_count - 1 : 1;
	TRY(sql__alloc(p, sizeof *a->points * n, (void **)&a->points));
	a->point_count = 0;
	for (uint32_t i = 0; i < n; i++) {
		const struct sql_bexpr *k = e->kind == SQL_BX_IN_LIST          ? e->args[i + 1]
		                            : e->args[0]->kind == SQL_BX_CONST ? e->args[0]
		                                                               : e->args[1];
		struct sql_value v;
		if (key_value(type, &k->value, 0, &v))
			a->points[a->point_count++] = v;
	}
	a->point_count = unique_points(a->points, a->point_count);
	a->kind = c->key == 0 ? SQL_ACCESS_PK_POINTS : SQL_ACCESS_INDEX_POINTS;
	a->index_pos = c->key > 0 ? (uint32_t)c->key - 1 : 0;
	return NULL;
}

err *sql_opt_access_path(struct sql_planner *p, struct sql_plan *scan)
{
	assert(scan->kind == SQL_PLAN_SCAN);
	if (!scan->predicate || scan->access.kind != SQL_ACCESS_FULL)
		return NULL;
	const struct sql_table *t = scan->table;
	struct conj all = {0};
	TRY(split(p, scan->predicate, &all));
	struct candidate best = {.key = -1};
	int best_rank = 0;
	for (uint32_t i = 0; i < all.count; i++) {
		struct candidate c;
		enum sql_op op;
		const struct sql_bexpr *k;
		if (!candidate_of(t, all.v[i], &c, &op, &k))
			continue;
		/* points beat ranges, the primary key beats an index */
		int rank = (c.points ? 4 : 2) + (c.key == 0 ? 1 : 0);
		if (rank > best_rank) {
			best = c;
			best_rank = rank;
		}
	}
	if (best.key < 0)
		return NULL;
	enum sql_value_type type = t->columns[best.column].type;
	if (best.points)
		return use_points(p, scan, &best, type);
	/* a range: gather every bound on that column */
	struct sql_access *a = &scan->access;
	for (uint32_t i = 0; i < all.count; i++) {
		struct candidate c;
		enum sql_op op;
		const struct sql_bexpr *k;
		if (!candidate_of(t, all.v[i], &c, &op, &k) || c.column != best.column || !k)
			continue;
		struct sql_value v;
		bool lo = op == SQL_OP_GT || op == SQL_OP_GE;
		if (!key_value(type, &k->value, lo ? -1 : 1, &v))
			continue;
		if (lo && !a->has_lo) {
			a->has_lo = true;
			a->lo_inclusive = true;
			a->lo = v;
		} else if (!lo && !a->has_hi) {
			a->has_hi = true;
			a->hi_inclusive = true;
			a->hi = v;
		}
	}
	if (a->has_lo || a->has_hi) {
		a->kind = best.key == 0 ? SQL_ACCESS_PK_RANGE : SQL_ACCESS_INDEX_RANGE;
		a->index_pos = best.key > 0 ? (uint32_t)best.key - 1 : 0;
	}
	return NULL;
}

/* ---- rule 5: merge joins ---- */

/* True if `scan` is a scan delivering its rows in order of an INTEGER primary key. */
static bool pk_ordered_scan(const struct sql_plan *scan)
{
	if (scan->kind != SQL_PLAN_SCAN)
		return false;
	if (scan->access.kind != SQL_ACCESS_FULL && scan->access.kind != SQL_ACCESS_PK_RANGE)
		return false;
	const struct sql_table *t = scan->table;
	return t->pk >= 0 && (uint32_t)t->pk < t->column_count && t->columns[t->pk].type == SQL_INT;
}

/* True if `e` is the plain depth-0 column `column`. */
static bool is_column(const struct sql_bexpr *e, uint32_t column)
{
	return e->kind == SQL_BX_COLUMN && e->outer_depth == 0 && e->column == column;
}

/*
 * Integer keys only: their key encoding orders them as SQL compares them, so both scans
 * deliver their keys ascending, each key at most once (a primary key is unique).
 */
err *sql_opt_merge_join(struct sql_planner *p, struct sql_plan *join)
{
	assert(join->kind == SQL_PLAN_JOIN);
	if (join->join != SQL_JOIN_TYPE_INNER || !join->predicate ||
	    !pk_ordered_scan(join->input) || !pk_ordered_scan(join->right))
		return NULL;
	uint32_t lw = join->input->width;
	uint32_t lpk = (uint32_t)join->input->table->pk;
	uint32_t rpk = lw + (uint32_t)join->right->table->pk;
	assert(lpk < lw && rpk < join->width);
	struct conj all = {0}, rest = {0};
	TRY(split(p, join->predicate, &all));
	struct sql_bexpr *key = NULL;
	for (uint32_t i = 0; i < all.count; i++) {
		struct sql_bexpr *e = all.v[i];
		bool pk_eq = e->kind == SQL_BX_BINARY && e->op == SQL_OP_EQ &&
		             ((is_column(e->args[0], lpk) && is_column(e->args[1], rpk)) ||
		              (is_column(e->args[0], rpk) && is_column(e->args[1], lpk)));
		if (pk_eq && !key)
			key = e;
		else
			TRY(conj_push(p, &rest, e));
	}
	if (!key)
		return NULL;
	struct sql_bexpr *l = is_column(key->args[0], lpk) ? key->args[0] : key->args[1];
	struct sql_bexpr *r = l == key->args[0] ? key->args[1] : key->args[0];
	uint32_t *map;
	TRY(shift_map(p, join->width, lw, &map));
	TRY(sql__alloc(p, sizeof *join->left_keys, (void **)&join->left_keys));
	TRY(sql__alloc(p, sizeof *join->right_keys, (void **)&join->right_keys));
	join->left_keys[0] = l;
	TRY(remap(p, r, map, &join->right_keys[0]));
	join->kind = SQL_PLAN_MERGE_JOIN;
	join->key_count = 1;
	return join_all(p, &rest, &join->predicate);
}

/* ---- rule 6: hash joins ---- */

err *sql_opt_hash_join(struct sql_planner *p, struct sql_plan *join)
{
	assert(join->kind == SQL_PLAN_JOIN);
	if (!join->predicate)
		return NULL;
	uint32_t lw = join->input->width;
	struct conj all = {0}, rest = {0}, lk = {0}, rk = {0};
	TRY(split(p, join->predicate, &all));
	uint32_t *map = NULL;
	for (uint32_t i = 0; i < all.count; i++) {
		struct sql_bexpr *e = all.v[i];
		bool used = false;
		if (e->kind == SQL_BX_BINARY && e->op == SQL_OP_EQ) {
			struct refs a = refs_of(e->args[0]), b = refs_of(e->args[1]);
			bool ok = !a.subquery && !b.subquery && !no_columns(&a) && !no_columns(&b);
			struct sql_bexpr *l = NULL, *r = NULL;
			if (ok && a.max < lw && b.min >= lw) {
				l = e->args[0];
				r = e->args[1];
			} else if (ok && b.max < lw && a.min >= lw) {
				l = e->args[1];
				r = e->args[0];
			}
			if (l) {
				if (!map)
					TRY(shift_map(p, join->width, lw, &map));
				struct sql_bexpr *rm;
				TRY(remap(p, r, map, &rm));
				TRY(conj_push(p, &lk, l));
				TRY(conj_push(p, &rk, rm));
				used = true;
			}
		}
		if (!used)
			TRY(conj_push(p, &rest, e));
	}
	if (!lk.count)
		return NULL;
	join->kind = SQL_PLAN_HASH_JOIN;
	join->key_count = lk.count;
	join->left_keys = lk.v;
	join->right_keys = rk.v;
	return join_all(p, &rest, &join->predicate);
}

/* ---- rule 7: join order ---- */

#define JOIN_ORDER_MAX_TABLES 64

struct chain {
	struct sql_plan *leaf[JOIN_ORDER_MAX_TABLES];
	uint32_t offset[JOIN_ORDER_MAX_TABLES]; /* first column of each leaf in the layout */
	uint32_t count;
	struct conj conds; /* every join condition, over the original layout */
};

/* Flattens a left-deep chain of inner joins; false if `n` is not one. */
static err *flatten(struct sql_planner *p, struct sql_plan *n, struct chain *c, bool *ok)
{
	if (n->kind == SQL_PLAN_JOIN && n->join == SQL_JOIN_TYPE_INNER) {
		TRY(flatten(p, n->input, c, ok));
		if (!*ok)
			return NULL;
		if (c->count >= JOIN_ORDER_MAX_TABLES) {
			*ok = false;
			return NULL;
		}
		uint32_t at = c->offset[c->count - 1] + c->leaf[c->count - 1]->width;
		c->leaf[c->count] = n->right;
		c->offset[c->count++] = at;
		return split(p, n->predicate, &c->conds);
	}
	c->leaf[0] = n;
	c->offset[0] = 0;
	c->count = 1;
	*ok = true;
	return NULL;
}

/* Adds to *set the leaves whose columns `e` uses (leaves are few: 64 at most). */
static void leaves_walk(const struct chain *c, const struct sql_bexpr *e, uint64_t *set)
{
	if (e->kind == SQL_BX_COLUMN && e->outer_depth == 0) {
		for (uint32_t i = 0; i < c->count; i++)
			if (e->column >= c->offset[i] &&
			    e->column < c->offset[i] + c->leaf[i]->width)
				*set |= (uint64_t)1 << i;
	}
	for (uint32_t i = 0; i < e->arg_count; i++)
		leaves_walk(c, e->args[i], set);
}

err *sql_opt_join_order(struct sql_planner *p, struct sql_plan *n, struct sql_plan **out)
{
	*out = n;
	struct chain c = {0};
	bool ok = false;
	TRY(flatten(p, n, &c, &ok));
	if (!ok || c.count < 3)
		return NULL;
	uint64_t *uses;
	TRY(sql__alloc(p, sizeof *uses * (c.conds.count + 1), (void **)&uses));
	for (uint32_t i = 0; i < c.conds.count; i++) {
		if (refs_of(c.conds.v[i]).subquery)
			return NULL; /* a subquery in a join condition: keep the written order */
		uses[i] = 0;
		leaves_walk(&c, c.conds.v[i], &uses[i]);
	}
	/* greedy: keep the first table, then always a table connected to those joined */
	uint32_t order[JOIN_ORDER_MAX_TABLES];
	uint64_t joined = 1;
	order[0] = 0;
	bool changed = false;
	for (uint32_t k = 1; k < c.count; k++) {
		uint32_t pick = UINT32_MAX;
		for (uint32_t i = 1; i < c.count && pick == UINT32_MAX; i++) {
			if (joined & ((uint64_t)1 << i))
				continue;
			for (uint32_t j = 0; j < c.conds.count; j++) {
				uint64_t u = uses[j];
				if ((u & ((uint64_t)1 << i)) && (u & joined) &&
				    !(u & ~(joined | ((uint64_t)1 << i)))) {
					pick = i;
					break;
				}
			}
		}
		if (pick == UINT32_MAX)
			for (uint32_t i = 1; i < c.count && pick == UINT32_MAX; i++)
				if (!(joined & ((uint64_t)1 << i)))
					pick = i;
		assert(pick < c.count); /* k < c.count tables are joined: one is left */
		changed |= pick != k;
		order[k] = pick;
		joined |= (uint64_t)1 << pick;
	}
	if (!changed)
		return NULL;
	/* the new layout: map each original column to its new position */
	uint32_t *map;
	TRY(sql__alloc(p, sizeof *map * (n->width + 1), (void **)&map));
	uint32_t at = 0;
	for (uint32_t k = 0; k < c.count; k++) {
		const struct sql_plan *leaf = c.leaf[order[k]];
		for (uint32_t i = 0; i < leaf->width; i++)
			map[c.offset[order[k]] + i] = at++;
	}
	bool *placed;
	TRY(sql__alloc(p, sizeof *placed * (c.conds.count + 1), (void **)&placed));
	struct sql_plan *tree = c.leaf[order[0]];
	joined = (uint64_t)1 << order[0];
	for (uint32_t k = 1; k < c.count; k++) {
		struct sql_plan *j;
		TRY(sql__alloc(p, sizeof *j, (void **)&j));
		j->kind = SQL_PLAN_JOIN;
		j->join = SQL_JOIN_TYPE_INNER;
		j->input = tree;
		j->right = c.leaf[order[k]];
		j->width = tree->width + j->right->width;
		TRY(sql__alloc(p, sizeof *j->names * (j->width + 1), (void **)&j->names));
		memcpy(j->names, tree->names, sizeof *j->names * tree->width);
		memcpy(j->names + tree->width, j->right->names, sizeof *j->names * j->right->width);
		joined |= (uint64_t)1 << order[k];
		for (uint32_t i = 0; i < c.conds.count; i++) {
			if (placed[i] || (uses[i] & ~joined))
				continue;
			struct sql_bexpr *m;
			TRY(remap(p, c.conds.v[i], map, &m));
			if (!(j->predicate = and_of(p, j->predicate, m)))
				return oom();
			placed[i] = true;
		}
		tree = j;
	}
	/* a projection restores the original column order for everything above */
	struct sql_plan *proj;
	TRY(sql__alloc(p, sizeof *proj, (void **)&proj));
	proj->kind = SQL_PLAN_PROJECT;
	proj->input = tree;
	proj->width = n->width;
	proj->names = n->names;
	proj->expr_count = n->width;
	TRY(sql__alloc(p, sizeof *proj->exprs * (n->width + 1), (void **)&proj->exprs));
	for (uint32_t i = 0; i < n->width; i++) {
		proj->exprs[i] = sql__column_ref(p, map[i], n->names[i], SQL_NULL);
		if (!proj->exprs[i])
			return oom();
	}
	*out = proj;
	return NULL;
}

/* ---- rule 8: LIMIT pushdown ---- */

void sql_opt_limit(struct sql_plan *limit)
{
	assert(limit->kind == SQL_PLAN_LIMIT);
	struct sql_plan *n = limit->input;
	while (n->kind == SQL_PLAN_PROJECT) /* a projection keeps the row count */
		n = n->input;
	if (n->kind != SQL_PLAN_SORT || limit->limit > UINT64_MAX - limit->offset)
		return;
	uint64_t top = limit->limit + limit->offset;
	if (!n->top || top < n->top)
		n->top = top ? top : 1;
}

/* ---- the driver ---- */

static err *first_pass(struct sql_planner *p, struct sql_plan *n, struct sql_plan **out)
{
	TRY(fold_node(p, n));
	if (n->input)
		TRY(first_pass(p, n->input, &n->input));
	if (n->right)
		TRY(first_pass(p, n->right, &n->right));
	struct sql_plan *r;
	TRY(sql_opt_push_filters(p, n, &r));
	return sql_opt_constant_filter(p, r, out);
}

static err *second_pass(struct sql_planner *p, struct sql_plan *n, struct sql_plan **out)
{
	*out = n;
	if (n->kind == SQL_PLAN_JOIN) {
		TRY(sql_opt_join_order(p, n, out));
		if (*out != n) /* reordered: optimize the new tree (its joins are in order now) */
			return second_pass(p, *out, out);
	}
	if (n->input)
		TRY(second_pass(p, n->input, &n->input));
	if (n->right)
		TRY(second_pass(p, n->right, &n->right));
	if (n->kind == SQL_PLAN_JOIN)
		TRY(sql_opt_merge_join(p, n));
	if (n->kind == SQL_PLAN_JOIN)
		TRY(sql_opt_hash_join(p, n));
	if (n->kind == SQL_PLAN_LIMIT)
		sql_opt_limit(n);
	if (n->kind == SQL_PLAN_SCAN) {
		TRY(sql_opt_access_path(p, n));
		TRY(sql_opt_constant_filter(p, n, out));
	}
	return NULL;
}

err *sql_optimize(struct sql_planner *p, struct sql_plan *plan, struct sql_plan **out)
{
	enum sql_value_type *types = plan->types;
	struct sql_plan *r;
	TRY(first_pass(p, plan, &r));
	TRY(second_pass(p, r, out));
	if (!(*out)->types)
		(*out)->types = types;
	return NULL;
}
