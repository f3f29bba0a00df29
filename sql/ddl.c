/*
 * ddl.c — CREATE TABLE, DROP TABLE, CREATE INDEX, DROP INDEX.
 *
 * Schemas are validated here, once, so the rest of the engine can rely on them: unique
 * column names, one single-column primary key at most (a table without one is keyed by a
 * hidden row id), constant defaults of the column's type, foreign keys that name an
 * existing table's primary key with the same type. UNIQUE columns get a unique index
 * named sql_unique_<table>_<column>. Dropping a table (or deleting a row) that another
 * table references is refused.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/keys.h"
#include "sql/row.h"
#include "sql/statement.h"
#include "storage/mvcc.h"

#define KEY_BUF (MVCC_KEY_MAX + 64)

static err *oom(void)
{
	return err_new(ERR_NOMEM, "out of memory");
}

static err *check_name(const char *what, const char *name)
{
	if (strlen(name) > SQL_MAX_NAME_BYTES)
		return err_new(ERR_LIMIT, "%s name longer than %d bytes", what, SQL_MAX_NAME_BYTES);
	return NULL;
}

/* ---- CREATE TABLE ---- */

static err *column_default(struct sql__stmt *st, struct sql_table *t, uint32_t i,
                           const struct sql_expr *ast)
{
	struct sql_column *c = &t->columns[i];
	struct sql_bexpr *e;
	TRY(sql_plan_const_expr(&st->planner, ast, "DEFAULT", &e));
	struct sql_eval_ctx ctx = {.exec = &st->exec};
	struct sql_value v;
	TRY(sql_bexpr_eval(e, &ctx, &v));
	err *er = sql__coerce(t, i, &v);
	if (er) {
		sql_value_free(&v);
		return err_wrap(er, "DEFAULT of %s", c->name);
	}
	c->has_default = true;
	c->default_value = v;
	if (v.type == SQL_TEXT) {
		char *s = sql_arena_strndup(st->arena, v.u.s.ptr, v.u.s.len);
		sql_value_free(&v);
		if (!s)
			return oom();
		c->default_value.type = SQL_TEXT;
		c->default_value.u.s.ptr = s;
		c->default_value.u.s.len = (uint32_t)strlen(s);
	}
	return NULL;
}

/* Validates a foreign key from column i of t to `ref_table` (ref_column may be NULL). */
static err *foreign_key(struct sql__stmt *st, struct sql_table *t, uint32_t i,
                        const char *ref_table, const char *ref_column)
{
	struct sql_column *c = &t->columns[i];
	const struct sql_table *ref = t;
	if (strcmp(ref_table, t->name)) {
		struct sql_table *r;
		TRY(sql_catalog_get(st->txn, st->arena, ref_table, &r));
		if (!r)
			return err_new(ERR_NOT_FOUND, "no such table: %s (referenced by %s.%s)",
			               ref_table, t->name, c->name);
		ref = r;
	}
	if (ref->pk < 0)
		return err_new(ERR_INVALID, "%s has no PRIMARY KEY for %s.%s to reference",
		               ref_table, t->name, c->name);
	if (ref_column && strcmp(ref_column, ref->columns[ref->pk].name))
		return err_new(ERR_INVALID, "%s.%s may only reference the primary key %s.%s",
		               t->name, c->name, ref_table, ref->columns[ref->pk].name);
	if (ref->columns[ref->pk].type != c->type)
		return err_new(ERR_TYPE, "%s.%s is %s but %s.%s is %s", t->name, c->name,
		               sql_value_type_name(c->type), ref_table, ref->columns[ref->pk].name,
		               sql_value_type_name(ref->columns[ref->pk].type));
	c->ref_table = ref_table;
	return NULL;
}

static err *add_index(struct sql__stmt *st, struct sql_table *t, const char *name, bool unique,
                      const uint32_t *cols, uint32_t count)
{
	if (t->index_count >= SQL_MAX_INDEXES)
		return err_new(ERR_LIMIT, "more than %d indexes on %s", SQL_MAX_INDEXES, t->name);
	if (count > SQL_INDEX_MAX_COLUMNS)
		return err_new(ERR_LIMIT, "an index has at most %d columns", SQL_INDEX_MAX_COLUMNS);
	struct sql_index *xs = sql_arena_alloc(st->arena, sizeof *xs * (t->index_count + 1));
	if (!xs)
		return oom();
	if (t->index_count)
		memcpy(xs, t->indexes, sizeof *xs * t->index_count);
	struct sql_index *x = &xs[t->index_count];
	memset(x, 0, sizeof *x);
	TRY(sql_catalog_next_id(st->txn, &x->id));
	x->name = name;
	x->unique = unique;
	x->column_count = count;
	memcpy(x->columns, cols, sizeof *cols * count);
	t->indexes = xs;
	t->index_count++;
	return NULL;
}

static const char *unique_index_name(struct sql__stmt *st, const char *table, const char *column)
{
	char tmp[2 * SQL_MAX_NAME_BYTES + 16];
	snprintf(tmp, sizeof tmp, "sql_unique_%s_%s", table, column);
	return sql_arena_strndup(st->arena, tmp, strlen(tmp));
}

static err *table_constraint(struct sql__stmt *st, struct sql_table *t,
                             const struct sql_table_constraint *k)
{
	uint32_t cols[SQL_INDEX_MAX_COLUMNS];
	if (k->columns.count > SQL_INDEX_MAX_COLUMNS)
		return err_new(ERR_LIMIT, "a constraint has at most %d columns",
		               SQL_INDEX_MAX_COLUMNS);
	for (uint32_t i = 0; i < k->columns.count; i++) {
		int32_t c = sql_table_column(t, k->columns.names[i]);
		if (c < 0)
			return err_new(ERR_NOT_FOUND, "no such column: %s", k->columns.names[i]);
		cols[i] = (uint32_t)c;
	}
	switch (k->kind) {
	case SQL_CONSTRAINT_PRIMARY_KEY:
		if (k->columns.count != 1)
			return err_new(ERR_INVALID, "a PRIMARY KEY must be a single column");
		if (t->pk >= 0 && t->pk != (int32_t)cols[0])
			return err_new(ERR_INVALID, "table %s has more than one primary key",
			               t->name);
		t->pk = (int32_t)cols[0];
		return NULL;
	case SQL_CONSTRAINT_UNIQUE:
		if (k->columns.count == 1) {
			t->columns[cols[0]].unique = true;
			return add_index(st, t,
			                 unique_index_name(st, t->name, t->columns[cols[0]].name),
			                 true, cols, 1);
		}
		return add_index(st, t, unique_index_name(st, t->name, k->columns.names[0]), true,
		                 cols, k->columns.count);
	case SQL_CONSTRAINT_FOREIGN_KEY:
		if (k->columns.count != 1 || k->ref_columns.count > 1)
			return err_new(ERR_INVALID, "a FOREIGN KEY must be a single column");
		return foreign_key(st, t, cols[0], k->references_table,
		                   k->ref_columns.count ? k->ref_columns.names[0] : NULL);
	}
	return err_new(ERR_INTERNAL, "unknown table constraint");
}

static err *build_table(struct sql__stmt *st, const struct sql_stmt *s, struct sql_table *t)
{
	uint32_t n = s->create_table.column_count;
	if (n > SQL_MAX_COLUMNS)
		return err_new(ERR_LIMIT, "a table has at most %d columns", SQL_MAX_COLUMNS);
	t->name = s->create_table.name;
	t->column_count = n;
	t->pk = -1;
	t->columns = sql_arena_alloc(st->arena, sizeof *t->columns * n);
	if (!t->columns)
		return oom();
	for (uint32_t i = 0; i < n; i++) {
		const struct sql_column_def *d = &s->create_table.columns[i];
		TRY(check_name("column", d->name));
		for (uint32_t k = 0; k < i; k++)
			if (!strcmp(t->columns[k].name, d->name))
				return err_new(ERR_INVALID, "duplicate column name: %s", d->name);
		struct sql_column *c = &t->columns[i];
		c->name = d->name;
		c->type = sql_plan_value_type(d->type.type);
		c->max_len = c->type != SQL_TEXT ? 0
		             : d->type.max_len
		                 ? (d->type.max_len < SQL_TEXT_MAX_BYTES ? d->type.max_len
		                                                         : SQL_TEXT_MAX_BYTES)
		                 : SQL_VARCHAR_DEFAULT_BYTES;
		c->not_null = d->not_null;
		if (d->primary_key) {
			if (t->pk >= 0)
				return err_new(ERR_INVALID,
				               "table %s has more than one primary key", t->name);
			t->pk = (int32_t)i;
		}
	}
	/* The key first: a column's REFERENCES to its own table (and UNIQUE) depend on it. */
	for (uint32_t i = 0; i < s->create_table.constraint_count; i++)
		if (s->create_table.constraints[i].kind == SQL_CONSTRAINT_PRIMARY_KEY)
			TRY(table_constraint(st, t, &s->create_table.constraints[i]));
	for (uint32_t i = 0; i < n; i++) {
		const struct sql_column_def *d = &s->create_table.columns[i];
		if (d->default_value)
			TRY(column_default(st, t, i, d->default_value));
		if (d->references_table)
			TRY(foreign_key(st, t, i, d->references_table, d->references_column));
		if (d->unique && (int32_t)i != t->pk) {
			t->columns[i].unique = true;
			TRY(add_index(st, t, unique_index_name(st, t->name, d->name), true, &i, 1));
		}
	}
	for (uint32_t i = 0; i < s->create_table.constraint_count; i++)
		if (s->create_table.constraints[i].kind != SQL_CONSTRAINT_PRIMARY_KEY)
			TRY(table_constraint(st, t, &s->create_table.constraints[i]));
	if (t->pk >= 0)
		t->columns[t->pk].not_null = true;
	return NULL;
}

err *sql__create_table(struct sql__stmt *st, const struct sql_stmt *s)
{
	TRY(check_name("table", s->create_table.name));
	struct sql_table *old;
	TRY(sql_catalog_get(st->txn, st->arena, s->create_table.name, &old));
	if (old) {
		if (s->create_table.if_not_exists)
			return NULL;
		return err_new(ERR_EXISTS, "table %s already exists", s->create_table.name);
	}
	struct sql_table *t = sql_arena_alloc(st->arena, sizeof *t);
	if (!t)
		return oom();
	TRY(sql_catalog_next_id(st->txn, &t->id));
	TRY(build_table(st, s, t));
	return sql_catalog_put(st->txn, t);
}

/* ---- DROP TABLE ---- */

err *sql__drop_table(struct sql__stmt *st, const struct sql_stmt *s)
{
	const char *name = s->drop_table.name;
	struct sql_table *t;
	TRY(sql_catalog_get(st->txn, st->arena, name, &t));
	if (!t) {
		if (s->drop_table.if_exists)
			return NULL;
		return err_new(ERR_NOT_FOUND, "no such table: %s", name);
	}
	struct sql_table **all;
	uint32_t n;
	TRY(sql_catalog_list(st->txn, st->arena, &all, &n));
	for (uint32_t i = 0; i < n; i++) {
		if (!strcmp(all[i]->name, name))
			continue;
		for (uint32_t c = 0; c < all[i]->column_count; c++)
			if (all[i]->columns[c].ref_table &&
			    !strcmp(all[i]->columns[c].ref_table, name))
				return err_new(ERR_CONSTRAINT,
				               "cannot drop table %s: it is referenced by %s.%s",
				               name, all[i]->name, all[i]->columns[c].name);
	}
	struct buf prefix;
	buf_init(&prefix, KEY_BUF);
	err *e = sql__delete_all_rows(st, t);
	if (!e)
		e = sql_key_rowid_counter(&prefix, t->id);
	if (!e)
		e = sql_txn_delete(st->txn, buf_slice(&prefix));
	if (!e)
		e = sql_catalog_remove(st->txn, name);
	buf_free(&prefix);
	return e;
}

/* ---- CREATE INDEX / DROP INDEX ---- */

/* Adds entries for every existing row to the new index `x` (checking uniqueness). */
static err *build_index(struct sql__stmt *st, const struct sql_table *t, const struct sql_index *x)
{
	struct sql_plan scan = {.kind = SQL_PLAN_SCAN,
	                        .width = t->column_count + 1,
	                        .table = t,
	                        .alias = t->name,
	                        .with_key = true};
	struct sql_rows rows;
	sql_rows_init(&rows, scan.width);
	err *e = sql_exec_collect(&st->exec, &scan, NULL, &rows);
	for (uint64_t r = 0; r < rows.count && !e; r++) {
		const struct sql_value *row = sql_rows_at(&rows, r);
		if (x->unique) {
			e = sql__check_unique(st, t, x, row);
			if (e)
				e = err_wrap(e, "cannot create unique index %s", x->name);
		}
		if (!e)
			e = sql__index_entry(st, x, row, &row[t->column_count], false);
	}
	sql_rows_free(&rows);
	return e;
}

err *sql__create_index(struct sql__stmt *st, const struct sql_stmt *s)
{
	TRY(check_name("index", s->create_index.name));
	struct sql_table *owner;
	uint32_t pos;
	TRY(sql_catalog_find_index(st->txn, st->arena, s->create_index.name, &owner, &pos));
	if (owner) {
		if (s->create_index.if_not_exists)
			return NULL;
		return err_new(ERR_EXISTS, "index %s already exists", s->create_index.name);
	}
	struct sql_table *t;
	TRY(sql_catalog_get(st->txn, st->arena, s->create_index.table, &t));
	if (!t)
		return err_new(ERR_NOT_FOUND, "no such table: %s", s->create_index.table);
	uint32_t cols[SQL_INDEX_MAX_COLUMNS];
	if (s->create_index.column_count > SQL_INDEX_MAX_COLUMNS)
		return err_new(ERR_LIMIT, "an index has at most %d columns", SQL_INDEX_MAX_COLUMNS);
	for (uint32_t i = 0; i < s->create_index.column_count; i++) {
		int32_t c = sql_table_column(t, s->create_index.columns[i].name);
		if (c < 0)
			return err_new(ERR_NOT_FOUND, "no such column: %s",
			               s->create_index.columns[i].name);
		cols[i] = (uint32_t)c;
	}
	TRY(add_index(st, t, s->create_index.name, s->create_index.unique, cols,
	              s->create_index.column_count));
	TRY(build_index(st, t, &t->indexes[t->index_count - 1]));
	return sql_catalog_put(st->txn, t);
}

err *sql__drop_index(struct sql__stmt *st, const struct sql_stmt *s)
{
	struct sql_table *t;
	uint32_t pos;
	TRY(sql_catalog_find_index(st->txn, st->arena, s->drop_index.name, &t, &pos));
	if (!t) {
		if (s->drop_index.if_exists)
			return NULL;
		return err_new(ERR_NOT_FOUND, "no such index: %s", s->drop_index.name);
	}
	if (!strncmp(t->indexes[pos].name, "sql_unique_", 11))
		return err_new(ERR_INVALID,
		               "index %s belongs to a UNIQUE constraint and cannot be "
		               "dropped",
		               s->drop_index.name);
	struct buf prefix;
	buf_init(&prefix, KEY_BUF);
	err *e = sql_key_index_prefix(&prefix, t->indexes[pos].id);
	if (!e)
		e = sql__delete_prefix(st, buf_slice(&prefix));
	buf_free(&prefix);
	TRY(e);
	memmove(&t->indexes[pos], &t->indexes[pos + 1],
	        sizeof *t->indexes * (t->index_count - pos - 1));
	t->index_count--;
	return sql_catalog_put(st->txn, t);
}
