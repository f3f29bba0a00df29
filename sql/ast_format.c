/*
 * ast_format.c — the AST printed as canonical SQL.
 *
 * Output goes through `struct out`, which keeps the first error and ignores later
 * appends, so the printing code reads like the grammar instead of a ladder of TRY()s.
 *
 * Parentheses: every expression has a precedence (enum sql_precedence, the parser's
 * levels). A child is wrapped when its precedence is below what its position needs:
 * the left operand of a level-P operator needs P, the right operand P + 1 (operators are
 * left-associative), the operand of unary -/+ needs an atom (so `- -x` prints `-(-x)`,
 * never the comment `--x`), the operand of NOT needs level 3.
 */
#include "sql/ast_format.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/lexer.h"

struct out {
	struct buf *b;
	err *e;
};

static void put_n(struct out *o, const char *s, size_t n)
{
	if (!o->e)
		o->e = buf_append(o->b, s, n);
}

static void put(struct out *o, const char *s)
{
	put_n(o, s, strlen(s));
}

static enum sql_precedence expr_prec(const struct sql_expr *e)
{
	switch (e->kind) {
	case SQL_EXPR_INT: return e->integer < 0 ? SQL_PREC_UNARY : SQL_PREC_ATOM;
	case SQL_EXPR_UNARY: return e->unary.op == SQL_UNARY_NOT ? SQL_PREC_NOT : SQL_PREC_UNARY;
	case SQL_EXPR_BINARY: return sql_binary_op_precedence(e->binary.op);
	case SQL_EXPR_IS_NULL:
	case SQL_EXPR_IS:
	case SQL_EXPR_LIKE:
	case SQL_EXPR_BETWEEN:
	case SQL_EXPR_IN_LIST:
	case SQL_EXPR_IN_SELECT: return SQL_PREC_EQ;
	default: return SQL_PREC_ATOM;
	}
}

/* ----------------------------------------------------------------- atoms -- */

static bool name_needs_quotes(const char *name)
{
	if (!name[0] || !((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_'))
		return true;
	for (const char *c = name; *c; c++) {
		bool ok =
		    (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '$';
		if (!ok)
			return true;
	}
	return sql_keyword_reserved(sql_keyword_lookup(name, strlen(name)));
}

static void put_name(struct out *o, const char *name)
{
	assert(name);
	if (!name_needs_quotes(name)) {
		put(o, name);
		return;
	}
	put(o, "\"");
	for (const char *c = name; *c; c++) {
		put_n(o, c, 1);
		if (*c == '"')
			put(o, "\""); /* "" stands for one " */
	}
	put(o, "\"");
}

static void put_string(struct out *o, const char *s, size_t len)
{
	put(o, "'");
	size_t run = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\'') {
			put_n(o, s + run, i + 1 - run);
			put(o, "'");
			run = i + 1;
		}
	}
	put_n(o, s + run, len - run);
	put(o, "'");
}

/* Writes the shortest "%.Ng" (fmt 'g') or "%.Nf" (fmt 'f') text that reads back as
 * exactly `v`; false when none up to 17 digits does. */
static bool shortest(double v, char fmt, char *text, size_t size)
{
	for (int digits = fmt == 'g' ? 1 : 0; digits <= 17; digits++) {
		snprintf(text, size, fmt == 'g' ? "%.*g" : "%.*f", digits, v);
		if (strtod(text, NULL) == v)
			return true;
	}
	return false;
}

/*
 * The shortest decimal text that reads back as exactly `v` and lexes as a float:
 * plain notation for 1e-4 <= v < 1e15 (94.96, 1000.0), exponent notation otherwise
 * (1e+23), "1e999" for infinity.
 */
static void put_float(struct out *o, double v)
{
	assert(v >= 0);
	if (v > 1.7976931348623157e308) {
		put(o, "1e999");
		return;
	}
	char text[400];
	bool plain = v == 0 || (v >= 1e-4 && v < 1e15);
	if (!plain || !shortest(v, 'f', text, sizeof text)) {
		bool found = shortest(v, 'g', text, sizeof text);
		assert(found);
		(void)found;
	}
	put(o, text);
	if (!strpbrk(text, ".e"))
		put(o, ".0");
}

static void put_type(struct out *o, struct sql_type_name t)
{
	if (t.type == SQL_TYPE_STRING && t.max_len > 0) {
		char text[32];
		snprintf(text, sizeof text, "VARCHAR(%" PRIu32 ")", t.max_len);
		put(o, text);
		return;
	}
	put(o, sql_type_text(t.type));
}

/* ----------------------------------------------------------- expressions -- */

static void put_expr(struct out *o, const struct sql_expr *e);
static void put_select(struct out *o, const struct sql_select *s);

/* `e` in a position that needs precedence `min`: parenthesized when it binds looser. */
static void put_operand(struct out *o, const struct sql_expr *e, enum sql_precedence min)
{
	bool paren = expr_prec(e) < min;
	if (paren)
		put(o, "(");
	put_expr(o, e);
	if (paren)
		put(o, ")");
}

static void put_expr_list(struct out *o, const struct sql_expr_list *l)
{
	for (uint32_t i = 0; i < l->count; i++) {
		if (i)
			put(o, ", ");
		put_expr(o, l->items[i]);
	}
}

static void put_paren_select(struct out *o, const struct sql_select *s)
{
	put(o, "(");
	put_select(o, s);
	put(o, ")");
}

static void put_not(struct out *o, bool negated)
{
	if (negated)
		put(o, " NOT");
}

static void put_case(struct out *o, const struct sql_expr *e)
{
	put(o, "CASE");
	if (e->case_.operand) {
		put(o, " ");
		put_expr(o, e->case_.operand);
	}
	for (uint32_t i = 0; i < e->case_.when_count; i++) {
		put(o, " WHEN ");
		put_expr(o, e->case_.whens[i].when);
		put(o, " THEN ");
		put_expr(o, e->case_.whens[i].then);
	}
	if (e->case_.else_result) {
		put(o, " ELSE ");
		put_expr(o, e->case_.else_result);
	}
	put(o, " END");
}

static void put_function(struct out *o, const struct sql_expr *e)
{
	put_name(o, e->function.name);
	put(o, "(");
	if (e->function.star)
		put(o, "*");
	if (e->function.distinct)
		put(o, "DISTINCT ");
	put_expr_list(o, &e->function.args);
	put(o, ")");
}

static void put_literal(struct out *o, const struct sql_expr *e)
{
	char text[32];
	switch (e->kind) {
	case SQL_EXPR_NULL: put(o, "NULL"); return;
	case SQL_EXPR_BOOL: put(o, e->boolean ? "TRUE" : "FALSE"); return;
	case SQL_EXPR_INT:
		snprintf(text, sizeof text, "%" PRId64, e->integer);
		put(o, text);
		return;
	case SQL_EXPR_FLOAT: put_float(o, e->floating); return;
	case SQL_EXPR_STRING: put_string(o, e->string.ptr, e->string.len); return;
	case SQL_EXPR_DEFAULT: put(o, "DEFAULT"); return;
	default: assert(!"not a literal"); return;
	}
}

static void put_expr(struct out *o, const struct sql_expr *e)
{
	switch (e->kind) {
	case SQL_EXPR_COLUMN:
		if (e->column.table) {
			put_name(o, e->column.table);
			put(o, ".");
		}
		put_name(o, e->column.name);
		return;
	case SQL_EXPR_UNARY:
		put(o, sql_unary_op_text(e->unary.op));
		if (e->unary.op == SQL_UNARY_NOT) {
			put(o, " ");
			put_operand(o, e->unary.operand, SQL_PREC_NOT);
		} else {
			put_operand(o, e->unary.operand, SQL_PREC_ATOM);
		}
		return;
	case SQL_EXPR_BINARY: {
		enum sql_precedence prec = sql_binary_op_precedence(e->binary.op);
		put_operand(o, e->binary.left, prec);
		put(o, " ");
		put(o, sql_binary_op_text(e->binary.op));
		put(o, " ");
		put_operand(o, e->binary.right, (enum sql_precedence)(prec + 1));
		return;
	}
	case SQL_EXPR_IS_NULL:
		put_operand(o, e->is_null.operand, SQL_PREC_EQ);
		put(o, e->is_null.negated ? " IS NOT NULL" : " IS NULL");
		return;
	case SQL_EXPR_IS:
		put_operand(o, e->is.left, SQL_PREC_EQ);
		put(o, e->is.negated ? " IS NOT " : " IS ");
		put_operand(o, e->is.right, SQL_PREC_CMP);
		return;
	case SQL_EXPR_LIKE:
		put_operand(o, e->like.operand, SQL_PREC_EQ);
		put_not(o, e->like.negated);
		put(o, " LIKE ");
		put_operand(o, e->like.pattern, SQL_PREC_CMP);
		return;
	case SQL_EXPR_BETWEEN:
		put_operand(o, e->between.operand, SQL_PREC_EQ);
		put_not(o, e->between.negated);
		put(o, " BETWEEN ");
		put_operand(o, e->between.low, SQL_PREC_CMP);
		put(o, " AND ");
		put_operand(o, e->between.high, SQL_PREC_CMP);
		return;
	case SQL_EXPR_IN_LIST:
		put_operand(o, e->in_list.operand, SQL_PREC_EQ);
		put_not(o, e->in_list.negated);
		put(o, " IN (");
		put_expr_list(o, &e->in_list.list);
		put(o, ")");
		return;
	case SQL_EXPR_IN_SELECT:
		put_operand(o, e->in_select.operand, SQL_PREC_EQ);
		put_not(o, e->in_select.negated);
		put(o, " IN ");
		put_paren_select(o, e->in_select.select);
		return;
	case SQL_EXPR_EXISTS:
		put(o, "EXISTS ");
		put_paren_select(o, e->exists.select);
		return;
	case SQL_EXPR_SUBQUERY: put_paren_select(o, e->subquery.select); return;
	case SQL_EXPR_CASE: put_case(o, e); return;
	case SQL_EXPR_CAST:
		put(o, "CAST(");
		put_expr(o, e->cast.operand);
		put(o, " AS ");
		put_type(o, e->cast.type);
		put(o, ")");
		return;
	case SQL_EXPR_FUNCTION: put_function(o, e); return;
	default: put_literal(o, e); return;
	}
}

/* ---------------------------------------------------------------- SELECT -- */

static void put_alias(struct out *o, const char *alias)
{
	if (alias) {
		put(o, " AS ");
		put_name(o, alias);
	}
}

static void put_from(struct out *o, const struct sql_from *f)
{
	switch (f->kind) {
	case SQL_FROM_TABLE:
		put_name(o, f->table.name);
		put_alias(o, f->table.alias);
		return;
	case SQL_FROM_SUBQUERY:
		put_paren_select(o, f->subquery.select);
		put_alias(o, f->subquery.alias);
		return;
	case SQL_FROM_JOIN: break;
	}
	static const char *const ops[] = {
	    [SQL_JOIN_CROSS] = " CROSS JOIN ",
	    [SQL_JOIN_INNER] = " JOIN ",
	    [SQL_JOIN_LEFT] = " LEFT JOIN ",
	    [SQL_JOIN_RIGHT] = " RIGHT JOIN ",
	};
	assert(f->join.kind >= SQL_JOIN_CROSS && f->join.kind <= SQL_JOIN_RIGHT);
	put_from(o, f->join.left);
	put(o, f->join.comma ? ", " : ops[f->join.kind]);
	bool paren = f->join.right->kind == SQL_FROM_JOIN;
	if (paren)
		put(o, "(");
	put_from(o, f->join.right);
	if (paren)
		put(o, ")");
	if (f->join.on) {
		put(o, " ON ");
		put_expr(o, f->join.on);
	}
}

static void put_select_core(struct out *o, const struct sql_select *s)
{
	put(o, s->distinct ? "SELECT DISTINCT " : "SELECT ");
	for (uint32_t i = 0; i < s->item_count; i++) {
		const struct sql_select_item *it = &s->items[i];
		if (i)
			put(o, ", ");
		if (it->kind == SQL_ITEM_STAR) {
			put(o, "*");
		} else if (it->kind == SQL_ITEM_TABLE_STAR) {
			put_name(o, it->table);
			put(o, ".*");
		} else {
			put_expr(o, it->expr);
			put_alias(o, it->alias);
		}
	}
	if (s->from) {
		put(o, " FROM ");
		put_from(o, s->from);
	}
	if (s->where) {
		put(o, " WHERE ");
		put_expr(o, s->where);
	}
	if (s->group_by.count) {
		put(o, " GROUP BY ");
		put_expr_list(o, &s->group_by);
	}
	if (s->having) {
		put(o, " HAVING ");
		put_expr(o, s->having);
	}
}

static void put_select(struct out *o, const struct sql_select *s)
{
	static const char *const ops[] = {
	    [SQL_COMPOUND_UNION] = " UNION ",
	    [SQL_COMPOUND_UNION_ALL] = " UNION ALL ",
	    [SQL_COMPOUND_INTERSECT] = " INTERSECT ",
	    [SQL_COMPOUND_EXCEPT] = " EXCEPT ",
	};
	if (s->kind == SQL_SELECT_COMPOUND) {
		assert(s->op >= SQL_COMPOUND_UNION && s->op <= SQL_COMPOUND_EXCEPT);
		put_select(o, s->left);
		put(o, ops[s->op]);
		put_select(o, s->right);
	} else {
		put_select_core(o, s);
	}
	for (uint32_t i = 0; i < s->order_count; i++) {
		const struct sql_order_item *it = &s->order_by[i];
		put(o, i ? ", " : " ORDER BY ");
		put_expr(o, it->expr);
		if (it->desc)
			put(o, " DESC");
		if (it->nulls != SQL_NULLS_DEFAULT)
			put(o, it->nulls == SQL_NULLS_FIRST ? " NULLS FIRST" : " NULLS LAST");
	}
	if (s->limit) {
		put(o, " LIMIT ");
		put_expr(o, s->limit);
	}
	if (s->offset) {
		put(o, " OFFSET ");
		put_expr(o, s->offset);
	}
}

/* ------------------------------------------------------------ statements -- */

static void put_name_list(struct out *o, const struct sql_name_list *l)
{
	put(o, "(");
	for (uint32_t i = 0; i < l->count; i++) {
		if (i)
			put(o, ", ");
		put_name(o, l->names[i]);
	}
	put(o, ")");
}

static void put_column_def(struct out *o, const struct sql_column_def *c)
{
	put_name(o, c->name);
	put(o, " ");
	put_type(o, c->type);
	if (c->primary_key)
		put(o, " PRIMARY KEY");
	if (c->not_null)
		put(o, " NOT NULL");
	if (c->nullable)
		put(o, " NULL");
	if (c->unique)
		put(o, " UNIQUE");
	if (c->default_value) {
		put(o, " DEFAULT ");
		put_operand(o, c->default_value, SQL_PREC_ADD);
	}
	if (c->references_table) {
		put(o, " REFERENCES ");
		put_name(o, c->references_table);
		if (c->references_column) {
			put(o, " (");
			put_name(o, c->references_column);
			put(o, ")");
		}
	}
}

static void put_create_table(struct out *o, const struct sql_stmt *s)
{
	put(o, s->create_table.if_not_exists ? "CREATE TABLE IF NOT EXISTS " : "CREATE TABLE ");
	put_name(o, s->create_table.name);
	put(o, " (");
	for (uint32_t i = 0; i < s->create_table.column_count; i++) {
		if (i)
			put(o, ", ");
		put_column_def(o, &s->create_table.columns[i]);
	}
	for (uint32_t i = 0; i < s->create_table.constraint_count; i++) {
		const struct sql_table_constraint *c = &s->create_table.constraints[i];
		put(o, c->kind == SQL_CONSTRAINT_PRIMARY_KEY ? ", PRIMARY KEY "
		       : c->kind == SQL_CONSTRAINT_UNIQUE    ? ", UNIQUE "
		                                             : ", FOREIGN KEY ");
		put_name_list(o, &c->columns);
		if (c->kind == SQL_CONSTRAINT_FOREIGN_KEY) {
			put(o, " REFERENCES ");
			put_name(o, c->references_table);
			if (c->ref_columns.count) {
				put(o, " ");
				put_name_list(o, &c->ref_columns);
			}
		}
	}
	put(o, ")");
}

static void put_create_index(struct out *o, const struct sql_stmt *s)
{
	put(o, s->create_index.unique ? "CREATE UNIQUE INDEX " : "CREATE INDEX ");
	if (s->create_index.if_not_exists)
		put(o, "IF NOT EXISTS ");
	put_name(o, s->create_index.name);
	put(o, " ON ");
	put_name(o, s->create_index.table);
	put(o, " (");
	for (uint32_t i = 0; i < s->create_index.column_count; i++) {
		if (i)
			put(o, ", ");
		put_name(o, s->create_index.columns[i].name);
		if (s->create_index.columns[i].desc)
			put(o, " DESC");
	}
	put(o, ")");
}

static void put_insert(struct out *o, const struct sql_stmt *s)
{
	put(o, "INSERT INTO ");
	put_name(o, s->insert.table);
	if (s->insert.columns.count) {
		put(o, " ");
		put_name_list(o, &s->insert.columns);
	}
	switch (s->insert.source) {
	case SQL_INSERT_DEFAULT_VALUES: put(o, " DEFAULT VALUES"); return;
	case SQL_INSERT_SELECT:
		put(o, " ");
		put_select(o, s->insert.select);
		return;
	case SQL_INSERT_VALUES: break;
	}
	put(o, " VALUES ");
	for (uint32_t i = 0; i < s->insert.row_count; i++) {
		put(o, i ? ", (" : "(");
		put_expr_list(o, &s->insert.rows[i]);
		put(o, ")");
	}
}

static void put_where(struct out *o, const struct sql_expr *where)
{
	if (where) {
		put(o, " WHERE ");
		put_expr(o, where);
	}
}

static void put_update(struct out *o, const struct sql_stmt *s)
{
	put(o, "UPDATE ");
	put_name(o, s->update.table);
	for (uint32_t i = 0; i < s->update.set_count; i++) {
		put(o, i ? ", " : " SET ");
		put_name(o, s->update.set[i].column);
		put(o, " = ");
		put_expr(o, s->update.set[i].value);
	}
	put_where(o, s->update.where);
}

static void put_begin(struct out *o, const struct sql_stmt *s)
{
	put(o, "BEGIN");
	if (s->begin.read_only)
		put(o, " READ ONLY");
	if (s->begin.read_write)
		put(o, " READ WRITE");
	if (s->begin.has_as_of) {
		char text[48];
		snprintf(text, sizeof text, " AS OF SYSTEM TIME %" PRIu64, s->begin.as_of);
		put(o, text);
	}
}

static void put_stmt(struct out *o, const struct sql_stmt *s)
{
	switch (s->kind) {
	case SQL_STMT_CREATE_TABLE: put_create_table(o, s); return;
	case SQL_STMT_DROP_TABLE:
		put(o, s->drop_table.if_exists ? "DROP TABLE IF EXISTS " : "DROP TABLE ");
		put_name(o, s->drop_table.name);
		return;
	case SQL_STMT_CREATE_INDEX: put_create_index(o, s); return;
	case SQL_STMT_DROP_INDEX:
		put(o, s->drop_index.if_exists ? "DROP INDEX IF EXISTS " : "DROP INDEX ");
		put_name(o, s->drop_index.name);
		return;
	case SQL_STMT_INSERT: put_insert(o, s); return;
	case SQL_STMT_UPDATE: put_update(o, s); return;
	case SQL_STMT_DELETE:
		put(o, "DELETE FROM ");
		put_name(o, s->delete_.table);
		put_where(o, s->delete_.where);
		return;
	case SQL_STMT_SELECT: put_select(o, s->select); return;
	case SQL_STMT_BEGIN: put_begin(o, s); return;
	case SQL_STMT_COMMIT: put(o, "COMMIT"); return;
	case SQL_STMT_ROLLBACK: put(o, "ROLLBACK"); return;
	case SQL_STMT_EXPLAIN:
		put(o, "EXPLAIN ");
		put_stmt(o, s->explain);
		return;
	}
	assert(!"unknown statement kind");
}

/* ---------------------------------------------------------------- public -- */

err *sql_format_expr(const struct sql_expr *e, struct buf *out)
{
	struct out o = {out, NULL};
	put_expr(&o, e);
	return o.e;
}

err *sql_format_select(const struct sql_select *s, struct buf *out)
{
	struct out o = {out, NULL};
	put_select(&o, s);
	return o.e;
}

err *sql_format_stmt(const struct sql_stmt *s, struct buf *out)
{
	struct out o = {out, NULL};
	put_stmt(&o, s);
	return o.e;
}

err *sql_format_type(struct sql_type_name type, struct buf *out)
{
	struct out o = {out, NULL};
	put_type(&o, type);
	return o.e;
}

err *sql_format_name(const char *name, struct buf *out)
{
	struct out o = {out, NULL};
	put_name(&o, name);
	return o.e;
}

err *sql_format_column_def(const struct sql_column_def *c, struct buf *out)
{
	struct out o = {out, NULL};
	put_column_def(&o, c);
	return o.e;
}
