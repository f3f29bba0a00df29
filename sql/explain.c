/*
 * explain.c — EXPLAIN: plans and bound expressions as text.
 *
 * One line per plan node, children indented by two spaces under their parent, e.g.
 *
 *     Project: name, (price * 2)
 *       HashJoin inner on o.item = i.id
 *         Scan orders AS o
 *         Scan items AS i (primary key range [10, 20]) filter: (i.price > 5)
 */
#include <stdio.h>
#include <string.h>

#include "sql/plan.h"

#define EXPLAIN_MAX_DEPTH 256

static err *put(struct buf *out, const char *s)
{
	return buf_append(out, s, strlen(s));
}

static const char *op_text(enum sql_op op)
{
	switch (op) {
	case SQL_OP_NEG: return "-";
	case SQL_OP_NOT: return "NOT ";
	case SQL_OP_ADD: return " + ";
	case SQL_OP_SUB: return " - ";
	case SQL_OP_MUL: return " * ";
	case SQL_OP_DIV: return " / ";
	case SQL_OP_MOD: return " % ";
	case SQL_OP_CONCAT: return " || ";
	case SQL_OP_EQ: return " = ";
	case SQL_OP_NE: return " <> ";
	case SQL_OP_LT: return " < ";
	case SQL_OP_LE: return " <= ";
	case SQL_OP_GT: return " > ";
	case SQL_OP_GE: return " >= ";
	case SQL_OP_AND: return " AND ";
	case SQL_OP_OR: return " OR ";
	case SQL_OP_IS: return " IS ";
	case SQL_OP_IS_NOT: return " IS NOT ";
	}
	return " ? ";
}

static const char *func_name(enum sql_func f)
{
	static const char *names[] = {
	    [SQL_FUNC_ABS] = "abs",         [SQL_FUNC_COALESCE] = "coalesce",
	    [SQL_FUNC_NULLIF] = "nullif",   [SQL_FUNC_LENGTH] = "length",
	    [SQL_FUNC_UPPER] = "upper",     [SQL_FUNC_LOWER] = "lower",
	    [SQL_FUNC_SUBSTR] = "substr",   [SQL_FUNC_ROUND] = "round",
	    [SQL_FUNC_IFNULL] = "ifnull",   [SQL_FUNC_TRIM] = "trim",
	    [SQL_FUNC_LTRIM] = "ltrim",     [SQL_FUNC_RTRIM] = "rtrim",
	    [SQL_FUNC_REPLACE] = "replace", [SQL_FUNC_INSTR] = "instr",
	    [SQL_FUNC_TYPEOF] = "typeof",   [SQL_FUNC_MIN] = "min",
	    [SQL_FUNC_MAX] = "max",
	};
	return names[f];
}

static err *value_text(const struct sql_value *v, struct buf *out)
{
	if (v->type != SQL_TEXT)
		return sql_value_format(v, out);
	TRY(put(out, "'"));
	for (uint32_t i = 0; i < v->u.s.len; i++) {
		if (v->u.s.ptr[i] == '\'')
			TRY(put(out, "'"));
		TRY(buf_append(out, &v->u.s.ptr[i], 1));
	}
	return put(out, "'");
}

static err *args_text(const struct sql_bexpr *e, uint32_t from, struct buf *out)
{
	for (uint32_t i = from; i < e->arg_count; i++) {
		if (i > from)
			TRY(put(out, ", "));
		TRY(sql_bexpr_format(e->args[i], out));
	}
	return NULL;
}

err *sql_bexpr_format(const struct sql_bexpr *e, struct buf *out)
{
	switch (e->kind) {
	case SQL_BX_CONST: return value_text(&e->value, out);
	case SQL_BX_COLUMN: {
		char tmp[32];
		if (e->outer_depth)
			TRY(put(out, "outer."));
		if (e->label && *e->label)
			return put(out, e->label);
		snprintf(tmp, sizeof tmp, "#%u", e->column);
		return put(out, tmp);
	}
	case SQL_BX_UNARY: TRY(put(out, op_text(e->op))); return sql_bexpr_format(e->args[0], out);
	case SQL_BX_BINARY:
		TRY(put(out, "("));
		TRY(sql_bexpr_format(e->args[0], out));
		TRY(put(out, op_text(e->op)));
		TRY(sql_bexpr_format(e->args[1], out));
		return put(out, ")");
	case SQL_BX_IS_NULL:
		TRY(sql_bexpr_format(e->args[0], out));
		return put(out, e->negated ? " IS NOT NULL" : " IS NULL");
	case SQL_BX_LIKE:
		TRY(sql_bexpr_format(e->args[0], out));
		TRY(put(out, e->negated ? " NOT LIKE " : " LIKE "));
		return sql_bexpr_format(e->args[1], out);
	case SQL_BX_IN_LIST:
		TRY(sql_bexpr_format(e->args[0], out));
		TRY(put(out, e->negated ? " NOT IN (" : " IN ("));
		TRY(args_text(e, 1, out));
		return put(out, ")");
	case SQL_BX_CASE: {
		uint32_t i = 0;
		TRY(put(out, "CASE"));
		if (e->has_operand) {
			TRY(put(out, " "));
			TRY(sql_bexpr_format(e->args[i++], out));
		}
		uint32_t end = e->arg_count - (e->has_else ? 1 : 0);
		for (; i + 1 < end; i += 2) {
			TRY(put(out, " WHEN "));
			TRY(sql_bexpr_format(e->args[i], out));
			TRY(put(out, " THEN "));
			TRY(sql_bexpr_format(e->args[i + 1], out));
		}
		if (e->has_else) {
			TRY(put(out, " ELSE "));
			TRY(sql_bexpr_format(e->args[e->arg_count - 1], out));
		}
		return put(out, " END");
	}
	case SQL_BX_CAST:
		TRY(put(out, "CAST("));
		TRY(sql_bexpr_format(e->args[0], out));
		TRY(put(out, " AS "));
		TRY(put(out, sql_value_type_name(e->cast_to)));
		return put(out, ")");
	case SQL_BX_FUNC:
		TRY(put(out, func_name(e->func)));
		TRY(put(out, "("));
		TRY(args_text(e, 0, out));
		return put(out, ")");
	case SQL_BX_SUBQUERY:
		switch (e->subquery_kind) {
		case SQL_SUBQUERY_EXISTS: return put(out, "EXISTS (subquery)");
		case SQL_SUBQUERY_SCALAR: return put(out, "(subquery)");
		case SQL_SUBQUERY_IN:
			TRY(sql_bexpr_format(e->args[0], out));
			return put(out, e->negated ? " NOT IN (subquery)" : " IN (subquery)");
		}
	}
	return put(out, "?");
}

/* ---- plans ---- */

static const char *agg_name(enum sql_agg_func f)
{
	switch (f) {
	case SQL_AGG_COUNT_STAR:
	case SQL_AGG_COUNT: return "count";
	case SQL_AGG_SUM: return "sum";
	case SQL_AGG_AVG: return "avg";
	case SQL_AGG_MIN: return "min";
	case SQL_AGG_MAX: return "max";
	case SQL_AGG_TOTAL: return "total";
	case SQL_AGG_ANY: return "any";
	}
	return "?";
}

static err *access_text(const struct sql_plan *n, struct buf *out)
{
	const struct sql_access *a = &n->access;
	const char *via = a->kind == SQL_ACCESS_PK_POINTS || a->kind == SQL_ACCESS_PK_RANGE
	                      ? "primary key"
	                      : NULL;
	if (a->kind == SQL_ACCESS_FULL)
		return NULL;
	TRY(put(out, " ("));
	if (via) {
		TRY(put(out, via));
	} else {
		TRY(put(out, "index "));
		TRY(put(out, n->table->indexes[a->index_pos].name));
	}
	if (a->kind == SQL_ACCESS_PK_POINTS || a->kind == SQL_ACCESS_INDEX_POINTS) {
		TRY(put(out, " in ("));
		for (uint32_t i = 0; i < a->point_count; i++) {
			if (i)
				TRY(put(out, ", "));
			TRY(value_text(&a->points[i], out));
		}
		return put(out, "))");
	}
	TRY(put(out, " range "));
	TRY(put(out, a->has_lo ? "[" : "(-inf"));
	if (a->has_lo)
		TRY(value_text(&a->lo, out));
	TRY(put(out, ", "));
	if (a->has_hi)
		TRY(value_text(&a->hi, out));
	return put(out, a->has_hi ? "])" : "+inf))");
}

static err *node_text(const struct sql_plan *n, struct buf *out)
{
	static const char *joins[] = {"inner", "left", "right"};
	char tmp[64];
	switch (n->kind) {
	case SQL_PLAN_VALUES:
		snprintf(tmp, sizeof tmp, "Values: %u row%s", n->row_count,
		         n->row_count == 1 ? "" : "s");
		return put(out, tmp);
	case SQL_PLAN_NOTHING: return put(out, "Nothing");
	case SQL_PLAN_SCAN:
		TRY(put(out, "Scan "));
		TRY(put(out, n->table->name));
		if (n->alias && strcmp(n->alias, n->table->name)) {
			TRY(put(out, " AS "));
			TRY(put(out, n->alias));
		}
		TRY(access_text(n, out));
		if (n->predicate) {
			TRY(put(out, " filter: "));
			TRY(sql_bexpr_format(n->predicate, out));
		}
		return NULL;
	case SQL_PLAN_FILTER: TRY(put(out, "Filter: ")); return sql_bexpr_format(n->predicate, out);
	case SQL_PLAN_PROJECT:
		TRY(put(out, "Project: "));
		for (uint32_t i = 0; i < n->expr_count; i++) {
			if (i)
				TRY(put(out, ", "));
			TRY(sql_bexpr_format(n->exprs[i], out));
		}
		return NULL;
	case SQL_PLAN_JOIN:
		TRY(put(out, "NestedLoopJoin "));
		TRY(put(out, joins[n->join]));
		if (n->predicate) {
			TRY(put(out, " on "));
			TRY(sql_bexpr_format(n->predicate, out));
		}
		return NULL;
	case SQL_PLAN_HASH_JOIN:
	case SQL_PLAN_MERGE_JOIN:
		TRY(put(out, n->kind == SQL_PLAN_HASH_JOIN ? "HashJoin " : "MergeJoin "));
		TRY(put(out, joins[n->join]));
		TRY(put(out, " on "));
		for (uint32_t i = 0; i < n->key_count; i++) {
			if (i)
				TRY(put(out, " AND "));
			TRY(sql_bexpr_format(n->left_keys[i], out));
			TRY(put(out, " = "));
			TRY(sql_bexpr_format(n->right_keys[i], out));
		}
		if (n->predicate) {
			TRY(put(out, " filter: "));
			TRY(sql_bexpr_format(n->predicate, out));
		}
		return NULL;
	case SQL_PLAN_AGGREGATE:
		TRY(put(out, "Aggregate:"));
		if (n->group_count) {
			TRY(put(out, " group by "));
			for (uint32_t i = 0; i < n->group_count; i++) {
				if (i)
					TRY(put(out, ", "));
				TRY(sql_bexpr_format(n->groups[i], out));
			}
			TRY(put(out, ";"));
		}
		for (uint32_t i = 0; i < n->agg_count; i++) {
			TRY(put(out, i ? ", " : " "));
			TRY(put(out, agg_name(n->aggs[i].func)));
			TRY(put(out, n->aggs[i].distinct ? "(DISTINCT " : "("));
			if (n->aggs[i].arg)
				TRY(sql_bexpr_format(n->aggs[i].arg, out));
			else
				TRY(put(out, "*"));
			TRY(put(out, ")"));
		}
		return NULL;
	case SQL_PLAN_SORT:
		TRY(put(out, "Sort:"));
		for (uint32_t i = 0; i < n->sort_count; i++) {
			const struct sql_sort_key *k = &n->sort[i];
			const char *name = n->names[k->column];
			snprintf(tmp, sizeof tmp, "#%u", k->column + 1);
			TRY(put(out, i ? ", " : " "));
			TRY(put(out, name && *name ? name : tmp));
			if (k->desc)
				TRY(put(out, " DESC"));
		}
		if (n->top) {
			snprintf(tmp, sizeof tmp, " (top %llu)", (unsigned long long)n->top);
			TRY(put(out, tmp));
		}
		return NULL;
	case SQL_PLAN_DISTINCT: return put(out, "Distinct");
	case SQL_PLAN_LIMIT:
		snprintf(tmp, sizeof tmp, "Limit %llu", (unsigned long long)n->limit);
		TRY(put(out, tmp));
		if (n->offset) {
			snprintf(tmp, sizeof tmp, " offset %llu", (unsigned long long)n->offset);
			TRY(put(out, tmp));
		}
		return NULL;
	case SQL_PLAN_SET_OP: {
		static const char *ops[] = {"?", "Union", "UnionAll", "Intersect", "Except"};
		return put(out, ops[n->set_op]);
	}
	}
	return put(out, "?");
}

static err *explain_at(const struct sql_plan *n, uint32_t depth, struct buf *out)
{
	if (depth > EXPLAIN_MAX_DEPTH)
		return err_new(ERR_LIMIT, "plan too deep to explain");
	for (uint32_t i = 0; i < depth; i++)
		TRY(put(out, "  "));
	TRY(node_text(n, out));
	TRY(put(out, "\n"));
	if (n->input)
		TRY(explain_at(n->input, depth + 1, out));
	if (n->right)
		TRY(explain_at(n->right, depth + 1, out));
	return NULL;
}

err *sql_plan_explain(const struct sql_plan *plan, struct buf *out)
{
	return explain_at(plan, 0, out);
}
