/*
 * planner.c — planning SELECT: FROM, WHERE, aggregation, the select list, DISTINCT,
 * ORDER BY and LIMIT (see planner.h for the order and the scoping rules).
 */
#include "sql/planner.h"

#include <assert.h>
#include <string.h>

#include "sql/scope.h"

/* Makes a node of `width` columns with room for names and types. */
static err *new_node(struct sql_planner *p, enum sql_plan_kind kind, uint32_t width,
                     struct sql_plan **out)
{
	assert(p && p->arena && out);
	void *n, *names;
	TRY(sql__alloc(p, sizeof(struct sql_plan), &n));
	TRY(sql__alloc(p, sizeof(char *) * width, &names));
	*out = n;
	(*out)->kind = kind;
	(*out)->width = width;
	(*out)->names = names;
	return NULL;
}

static err *on_top(struct sql_planner *p, enum sql_plan_kind kind, struct sql_plan *input,
                   struct sql_plan **out)
{
	TRY(new_node(p, kind, input->width, out));
	memcpy((*out)->names, input->names, sizeof(char *) * input->width);
	(*out)->input = input;
	return NULL;
}

static err *scope_alloc(struct sql_planner *p, struct sql__scope *s, uint32_t count)
{
	void *mem;
	TRY(sql__alloc(p, sizeof *s->cols * count, &mem));
	s->cols = mem;
	s->count = count;
	return NULL;
}

/* ---- FROM ---- */

static err *plan_from(struct sql_planner *p, const struct sql_from *f, struct sql__scope *outer,
                      struct sql_plan **out, struct sql__scope *scope, bool *correlated);

static err *plan_table(struct sql_planner *p, const struct sql_from *f, struct sql_plan **out,
                       struct sql__scope *scope)
{
	const struct sql_table *t;
	TRY(sql_catalog_read(p->txn, p->arena, f->table.name, &t));
	if (!t)
		return err_new(ERR_NOT_FOUND, "no such table: %s", f->table.name);
	struct sql_plan *n;
	TRY(new_node(p, SQL_PLAN_SCAN, t->column_count, &n));
	n->table = t;
	n->alias = f->table.alias ? f->table.alias : t->name;
	TRY(scope_alloc(p, scope, t->column_count));
	for (uint32_t i = 0; i < t->column_count; i++) {
		n->names[i] = t->columns[i].name;
		scope->cols[i] =
		    (struct sql__scope_col){n->alias, t->columns[i].name, t->columns[i].type};
	}
	*out = n;
	return NULL;
}

static err *plan_derived(struct sql_planner *p, const struct sql_from *f, struct sql__scope *outer,
                         struct sql_plan **out, struct sql__scope *scope, bool *correlated)
{
	struct sql_plan *n;
	bool corr = false;
	TRY(sql_plan_select(p, f->subquery.select, outer, &n, &corr));
	*correlated |= corr;
	TRY(scope_alloc(p, scope, n->width));
	for (uint32_t i = 0; i < n->width; i++)
		scope->cols[i] =
		    (struct sql__scope_col){f->subquery.alias, n->names[i], n->types[i]};
	*out = n;
	return NULL;
}

static err *plan_join(struct sql_planner *p, const struct sql_from *f, struct sql__scope *outer,
                      struct sql_plan **out, struct sql__scope *scope, bool *correlated)
{
	struct sql_plan *l, *r;
	struct sql__scope ls = {0}, rs = {0};
	TRY(plan_from(p, f->join.left, outer, &l, &ls, correlated));
	TRY(plan_from(p, f->join.right, outer, &r, &rs, correlated));
	struct sql_plan *n;
	TRY(new_node(p, SQL_PLAN_JOIN, l->width + r->width, &n));
	memcpy(n->names, l->names, sizeof(char *) * l->width);
	memcpy(n->names + l->width, r->names, sizeof(char *) * r->width);
	n->input = l;
	n->right = r;
	TRY(scope_alloc(p, scope, ls.count + rs.count));
	memcpy(scope->cols, ls.cols, sizeof *ls.cols * ls.count);
	memcpy(scope->cols + ls.count, rs.cols, sizeof *rs.cols * rs.count);
	scope->outer = outer;
	switch (f->join.kind) {
	case SQL_JOIN_LEFT: n->join = SQL_JOIN_TYPE_LEFT; break;
	case SQL_JOIN_RIGHT: n->join = SQL_JOIN_TYPE_RIGHT; break;
	default: n->join = SQL_JOIN_TYPE_INNER;
	}
	if (f->join.on) {
		if (sql__has_aggregate(f->join.on))
			return err_new(ERR_INVALID, "aggregate functions are not allowed in ON");
		TRY(sql__bind(p, f->join.on, scope, &n->predicate));
		if (n->predicate->type == SQL_TEXT)
			return err_new(ERR_TYPE, "ON condition must be BOOLEAN, not TEXT");
	}
	*correlated |= scope->correlated;
	*out = n;
	return NULL;
}

static err *plan_from(struct sql_planner *p, const struct sql_from *f, struct sql__scope *outer,
                      struct sql_plan **out, struct sql__scope *scope, bool *correlated)
{
	switch (f->kind) {
	case SQL_FROM_TABLE: return plan_table(p, f, out, scope);
	case SQL_FROM_SUBQUERY: return plan_derived(p, f, outer, out, scope, correlated);
	case SQL_FROM_JOIN: return plan_join(p, f, outer, out, scope, correlated);
	}
	return err_new(ERR_INTERNAL, "unknown FROM kind %d", (int)f->kind);
}

/* ---- the select list ---- */

struct item {
	struct sql_bexpr *expr;
	const char *name;
	const struct sql_expr *ast; /* as written (NULL for expanded stars) */
	const char *alias;
};

struct items {
	struct item *v;
	uint32_t count, cap;
};

static err *items_push(struct sql_planner *p, struct items *it, struct item x)
{
	if (it->count == it->cap) {
		uint32_t cap = it->cap ? it->cap * 2 : 16;
		if (cap > SQL_MAX_COLUMNS * 4)
			return err_new(ERR_LIMIT, "too many result columns");
		void *mem;
		TRY(sql__alloc(p, sizeof *it->v * cap, &mem));
		if (it->count)
			memcpy(mem, it->v, sizeof *it->v * it->count);
		it->v = mem;
		it->cap = cap;
	}
	it->v[it->count++] = x;
	return NULL;
}

/* Expands * or t.* over the FROM scope into column items bound in `scope`. */
static err *expand_star(struct sql_planner *p, const struct sql_select_item *si,
                        const struct sql__scope *from_scope, struct sql__scope *scope,
                        struct items *items)
{
	bool any = false;
	for (uint32_t i = 0; i < from_scope->count; i++) {
		const struct sql__scope_col *c = &from_scope->cols[i];
		if (si->kind == SQL_ITEM_TABLE_STAR && (!c->table || strcmp(c->table, si->table)))
			continue;
		any = true;
		struct sql_bexpr *e;
		if (scope->agg) {
			struct sql_expr *col;
			TRY(sql__alloc(p, sizeof *col, (void **)&col));
			col->kind = SQL_EXPR_COLUMN;
			col->column.table = c->table;
			col->column.name = c->name;
			TRY(sql__bind(p, col, scope, &e));
		} else {
			e = sql__column_ref(p, i, c->name, c->type);
			if (!e)
				return sql__oom();
		}
		TRY(items_push(p, items, (struct item){e, c->name, NULL, NULL}));
	}
	if (!any && si->kind == SQL_ITEM_TABLE_STAR)
		return err_new(ERR_NOT_FOUND, "no such table: %s", si->table);
	if (!any)
		return err_new(ERR_INVALID, "SELECT * without any columns");
	return NULL;
}

static err *bind_items(struct sql_planner *p, const struct sql_select *s,
                       const struct sql__scope *from_scope, struct sql__scope *scope,
                       struct items *items)
{
	for (uint32_t i = 0; i < s->item_count; i++) {
		const struct sql_select_item *si = &s->items[i];
		if (si->kind != SQL_ITEM_EXPR) {
			TRY(expand_star(p, si, from_scope, scope, items));
			continue;
		}
		struct sql_bexpr *e;
		TRY(sql__bind(p, si->expr, scope, &e));
		const char *name = si->alias ? si->alias : sql__expr_name(p, si->expr);
		TRY(items_push(p, items, (struct item){e, name, si->expr, si->alias}));
	}
	return NULL;
}

/* ---- ORDER BY ---- */

/*
 * Resolves an ORDER BY term to a visible output position (a 1-based literal, an alias,
 * or an expression equal to a select item); -1 when it is none of these.
 */
static err *order_position(const struct sql_order_item *o, const struct items *items,
                           uint32_t visible, int64_t *pos)
{
	*pos = -1;
	const struct sql_expr *e = o->expr;
	if (e->kind == SQL_EXPR_INT) {
		if (e->integer < 1 || e->integer > (int64_t)visible)
			return err_new(ERR_INVALID,
			               "ORDER BY term out of range - should be between 1 and %u",
			               visible);
		*pos = e->integer - 1;
		return NULL;
	}
	if (e->kind == SQL_EXPR_COLUMN && !e->column.table) {
		for (uint32_t i = 0; i < visible; i++)
			if (items->v[i].alias && !strcmp(items->v[i].alias, e->column.name)) {
				*pos = i;
				return NULL;
			}
	}
	for (uint32_t i = 0; i < visible; i++)
		if (items->v[i].ast && sql__ast_equal(items->v[i].ast, e)) {
			*pos = i;
			return NULL;
		}
	if (e->kind == SQL_EXPR_COLUMN && !e->column.table) {
		for (uint32_t i = 0; i < visible; i++)
			if (!items->v[i].ast && !strcmp(items->v[i].name, e->column.name)) {
				*pos = i;
				return NULL;
			}
	}
	return NULL;
}

static err *plan_order(struct sql_planner *p, const struct sql_select *s, struct sql__scope *scope,
                       struct items *items, uint32_t visible, struct sql_sort_key **keys)
{
	*keys = NULL;
	if (!s->order_count)
		return NULL;
	TRY(sql__alloc(p, sizeof **keys * s->order_count, (void **)keys));
	for (uint32_t i = 0; i < s->order_count; i++) {
		const struct sql_order_item *o = &s->order_by[i];
		int64_t pos;
		TRY(order_position(o, items, visible, &pos));
		if (pos < 0) {
			if (!scope)
				return err_new(
				    ERR_INVALID,
				    "ORDER BY term does not match any column in the result");
			struct sql_bexpr *e;
			TRY(sql__bind(p, o->expr, scope, &e));
			pos = items->count;
			TRY(items_push(p, items, (struct item){e, "", NULL, NULL}));
		}
		bool nulls_first =
		    o->nulls == SQL_NULLS_DEFAULT ? !o->desc : o->nulls == SQL_NULLS_FIRST;
		(*keys)[i] = (struct sql_sort_key){(uint32_t)pos, o->desc, nulls_first};
	}
	return NULL;
}

/* ---- LIMIT ---- */

static err *const_int(struct sql_planner *p, const struct sql_expr *ast, const char *what,
                      int64_t *out)
{
	struct sql_bexpr *e;
	TRY(sql_plan_const_expr(p, ast, what, &e));
	struct sql_eval_ctx ctx = {0};
	struct sql_value v;
	TRY(sql_bexpr_eval(e, &ctx, &v));
	int64_t whole;
	if (v.type == SQL_FLOAT && sql_float_is_int(v.u.f, &whole))
		v = sql_int(whole);
	if (v.type != SQL_INT) {
		sql_value_free(&v);
		return err_new(ERR_TYPE, "%s must be an INTEGER", what);
	}
	*out = v.u.i;
	return NULL;
}

static err *plan_limit(struct sql_planner *p, const struct sql_select *s, struct sql_plan **plan)
{
	if (!s->limit)
		return NULL;
	int64_t limit, offset = 0;
	TRY(const_int(p, s->limit, "LIMIT", &limit));
	if (s->offset)
		TRY(const_int(p, s->offset, "OFFSET", &offset));
	if (limit < 0 || offset < 0)
		return err_new(ERR_INVALID, "%s must not be negative",
		               limit < 0 ? "LIMIT" : "OFFSET");
	struct sql_plan *n;
	TRY(on_top(p, SQL_PLAN_LIMIT, *plan, &n));
	n->limit = (uint64_t)limit;
	n->offset = (uint64_t)offset;
	*plan = n;
	return NULL;
}

/* ---- the core SELECT ---- */

static bool query_aggregates(const struct sql_select *s)
{
	if (s->group_by.count || s->having) /* HAVING alone makes one group */
		return true;
	for (uint32_t i = 0; i < s->item_count; i++)
		if (s->items[i].kind == SQL_ITEM_EXPR && sql__has_aggregate(s->items[i].expr))
			return true;
	for (uint32_t i = 0; i < s->order_count; i++)
		if (sql__has_aggregate(s->order_by[i].expr))
			return true;
	return false;
}

/*
 * What a GROUP BY term stands for: an output position's expression; an output alias's
 * expression when no column of the FROM clause has that name (a column wins, as in
 * PostgreSQL); otherwise the term itself.
 */
static err *group_term(const struct sql_select *s, const struct sql__scope *from_scope,
                       const struct sql_expr *term, const struct sql_expr **out)
{
	*out = term;
	if (term->kind == SQL_EXPR_INT) {
		if (term->integer < 1 || term->integer > (int64_t)s->item_count)
			return err_new(ERR_INVALID,
			               "GROUP BY term out of range - should be between 1 and %u",
			               s->item_count);
		if (s->items[term->integer - 1].kind != SQL_ITEM_EXPR)
			return err_new(ERR_INVALID,
			               "GROUP BY position %lld is a * item, not an expression",
			               (long long)term->integer);
		*out = s->items[term->integer - 1].expr;
		return NULL;
	}
	if (term->kind != SQL_EXPR_COLUMN || term->column.table)
		return NULL;
	int64_t pos;
	TRY(sql__scope_find(from_scope, NULL, term->column.name, &pos));
	if (pos >= 0)
		return NULL;
	const struct sql_expr *aliased = NULL;
	for (uint32_t i = 0; i < s->item_count; i++) {
		const struct sql_select_item *si = &s->items[i];
		if (si->kind != SQL_ITEM_EXPR || !si->alias || strcmp(si->alias, term->column.name))
			continue;
		if (aliased && !sql__ast_equal(aliased, si->expr))
			return err_new(ERR_INVALID,
			               "GROUP BY %s is ambiguous: two outputs have that name",
			               term->column.name);
		aliased = si->expr;
	}
	if (aliased)
		*out = aliased;
	return NULL;
}

static err *start_aggregate(struct sql_planner *p, const struct sql_select *s,
                            struct sql__scope *from_scope, struct sql_plan **plan,
                            struct sql__agg_ctx *agg)
{
	struct sql_plan *n;
	TRY(new_node(p, SQL_PLAN_AGGREGATE, 0, &n));
	n->input = *plan;
	n->group_count = s->group_by.count;
	TRY(sql__alloc(p, sizeof *n->groups * (n->group_count + 1), (void **)&n->groups));
	TRY(sql__alloc(p, sizeof *agg->group_ast * (n->group_count + 1), (void **)&agg->group_ast));
	for (uint32_t g = 0; g < n->group_count; g++) {
		const struct sql_expr *ge;
		TRY(group_term(s, from_scope, s->group_by.items[g], &ge));
		if (sql__has_aggregate(ge))
			return err_new(ERR_INVALID,
			               "aggregate functions are not allowed in GROUP BY");
		TRY(sql__bind(p, ge, from_scope, &n->groups[g]));
		/* the expression, not a position: later terms equal to it use the group */
		agg->group_ast[g] = ge;
	}
	agg->input = from_scope;
	agg->node = n;
	*plan = n;
	return NULL;
}

/* Sets the aggregate node's (and the HAVING filter's) width once every slot is known. */
static err *finish_aggregate(struct sql_planner *p, struct sql__agg_ctx *agg,
                             struct sql_plan *having)
{
	struct sql_plan *n = agg->node;
	n->width = n->group_count + n->agg_count;
	TRY(sql__alloc(p, sizeof(char *) * (n->width + 1), (void **)&n->names));
	for (uint32_t i = 0; i < n->group_count; i++)
		n->names[i] = n->groups[i]->label ? n->groups[i]->label : "group";
	for (uint32_t i = 0; i < n->agg_count; i++)
		n->names[n->group_count + i] =
		    agg->agg_ast[i] ? sql__expr_name(p, agg->agg_ast[i])
		                    : (n->aggs[i].arg->label ? n->aggs[i].arg->label : "any");
	if (having) {
		having->width = n->width;
		having->names = n->names;
	}
	return NULL;
}

static err *make_project(struct sql_planner *p, struct sql_plan *input, const struct items *items,
                         uint32_t count, struct sql_plan **out)
{
	struct sql_plan *n;
	TRY(new_node(p, SQL_PLAN_PROJECT, count, &n));
	n->input = input;
	n->expr_count = count;
	TRY(sql__alloc(p, sizeof *n->exprs * (count + 1), (void **)&n->exprs));
	for (uint32_t i = 0; i < count; i++) {
		n->exprs[i] = items->v[i].expr;
		n->names[i] = items->v[i].name;
	}
	*out = n;
	return NULL;
}

/* Projects `plan` to its first `count` columns (dropping hidden sort columns). */
static err *trim(struct sql_planner *p, struct sql_plan **plan, const struct items *items,
                 uint32_t count)
{
	struct items refs = {0};
	for (uint32_t i = 0; i < count; i++) {
		struct sql_bexpr *c =
		    sql__column_ref(p, i, items->v[i].name, items->v[i].expr->type);
		if (!c)
			return sql__oom();
		TRY(items_push(p, &refs, (struct item){c, items->v[i].name, NULL, NULL}));
	}
	return make_project(p, *plan, &refs, count, plan);
}

static err *set_types(struct sql_planner *p, struct sql_plan *root, const struct items *items)
{
	TRY(sql__alloc(p, sizeof *root->types * (root->width + 1), (void **)&root->types));
	for (uint32_t i = 0; i < root->width; i++)
		root->types[i] = items->v[i].expr->type;
	return NULL;
}

static err *plan_core(struct sql_planner *p, const struct sql_select *s, struct sql__scope *outer,
                      struct sql_plan **out, bool *correlated, struct items *items)
{
	struct sql_plan *plan;
	struct sql__scope from_scope = {0};
	bool corr = false;
	if (s->from) {
		TRY(plan_from(p, s->from, outer, &plan, &from_scope, &corr));
	} else {
		TRY(new_node(p, SQL_PLAN_VALUES, 0, &plan));
		plan->row_count = 1;
	}
	from_scope.outer = outer;
	if (s->where) {
		if (sql__has_aggregate(s->where))
			return err_new(ERR_INVALID, "aggregate functions are not allowed in WHERE");
		struct sql_plan *f;
		TRY(on_top(p, SQL_PLAN_FILTER, plan, &f));
		TRY(sql__bind(p, s->where, &from_scope, &f->predicate));
		if (f->predicate->type == SQL_TEXT)
			return err_new(ERR_TYPE, "WHERE condition must be BOOLEAN, not TEXT");
		plan = f;
	}
	struct sql__scope agg_scope = {0};
	struct sql__agg_ctx agg = {0};
	struct sql__scope *scope = &from_scope;
	struct sql_plan *having = NULL;
	bool aggregated = query_aggregates(s);
	if (aggregated) {
		TRY(start_aggregate(p, s, &from_scope, &plan, &agg));
		agg_scope.agg = &agg;
		agg_scope.outer = outer;
		scope = &agg_scope;
		if (s->having) {
			TRY(new_node(p, SQL_PLAN_FILTER, 0, &having));
			having->input = plan;
			TRY(sql__bind(p, s->having, scope, &having->predicate));
			plan = having;
		}
	}
	TRY(bind_items(p, s, &from_scope, scope, items));
	uint32_t visible = items->count;
	struct sql_sort_key *keys;
	TRY(plan_order(p, s, scope, items, visible, &keys));
	if (aggregated)
		TRY(finish_aggregate(p, &agg, having));
	TRY(make_project(p, plan, items, items->count, &plan));
	if (s->distinct) {
		struct sql_plan *d;
		TRY(on_top(p, SQL_PLAN_DISTINCT, plan, &d));
		d->distinct_width = visible;
		plan = d;
	}
	if (s->order_count) {
		struct sql_plan *o;
		TRY(on_top(p, SQL_PLAN_SORT, plan, &o));
		o->sort = keys;
		o->sort_count = s->order_count;
		plan = o;
	}
	TRY(plan_limit(p, s, &plan));
	if (items->count > visible)
		TRY(trim(p, &plan, items, visible));
	items->count = visible;
	*correlated = corr || from_scope.correlated || agg_scope.correlated;
	*out = plan;
	return NULL;
}

/* ---- compound selects ---- */

static err *plan_compound(struct sql_planner *p, const struct sql_select *s,
                          struct sql__scope *outer, struct sql_plan **out, bool *correlated,
                          struct items *items)
{
	struct sql_plan *l, *r;
	struct items li = {0}, ri = {0};
	bool lc = false, rc = false;
	if (s->left->kind == SQL_SELECT_COMPOUND)
		TRY(plan_compound(p, s->left, outer, &l, &lc, &li));
	else
		TRY(plan_core(p, s->left, outer, &l, &lc, &li));
	TRY(plan_core(p, s->right, outer, &r, &rc, &ri));
	if (l->width != r->width)
		return err_new(ERR_INVALID,
		               "SELECTs to the left and right of a compound operator do not have "
		               "the same number of result columns");
	for (uint32_t i = 0; i < l->width; i++) {
		enum sql_value_type a = li.v[i].expr->type, b = ri.v[i].expr->type;
		if (a == SQL_NULL)
			li.v[i].expr->type = b;
		else if (a == SQL_INT && b == SQL_FLOAT)
			li.v[i].expr->type = SQL_FLOAT;
	}
	struct sql_plan *n;
	TRY(on_top(p, SQL_PLAN_SET_OP, l, &n));
	n->right = r;
	n->set_op = s->op;
	*correlated = lc || rc;
	*items = li;
	*out = n;
	return NULL;
}

err *sql_plan_select(struct sql_planner *p, const struct sql_select *s, struct sql__scope *outer,
                     struct sql_plan **out, bool *correlated)
{
	struct items items = {0};
	bool corr = false;
	struct sql_plan *plan;
	if (s->kind == SQL_SELECT_CORE) {
		TRY(plan_core(p, s, outer, &plan, &corr, &items));
	} else {
		TRY(plan_compound(p, s, outer, &plan, &corr, &items));
		if (s->order_count) {
			struct sql_sort_key *keys;
			TRY(plan_order(p, s, NULL, &items, items.count, &keys));
			struct sql_plan *o;
			TRY(on_top(p, SQL_PLAN_SORT, plan, &o));
			o->sort = keys;
			o->sort_count = s->order_count;
			plan = o;
		}
		TRY(plan_limit(p, s, &plan));
	}
	assert(plan->width == items.count);
	TRY(set_types(p, plan, &items));
	if (correlated)
		*correlated = corr;
	*out = plan;
	return NULL;
}
