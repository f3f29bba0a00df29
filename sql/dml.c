/*
 * dml.c — INSERT, UPDATE and DELETE, and the planning entry points for queries.
 *
 * UPDATE and DELETE first read every target row (through an optimized scan, so a
 * `WHERE id = 5` touches one key), then change them: reading completely before writing
 * means a statement never sees its own changes (no Halloween problem) and scans are never
 * open while the overlay changes. INSERT ... SELECT likewise runs its query to completion
 * before inserting. Foreign keys are checked once every row is written (finish()).
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "sql/keys.h"
#include "sql/optimizer.h"
#include "sql/statement.h"

err *sql__plan_query(struct sql__stmt *st, const struct sql_select *s, struct sql_plan **out)
{
	struct sql_plan *plan;
	TRY(sql_plan_select(&st->planner, s, NULL, &plan, NULL));
	*out = plan;
	return st->unoptimized ? NULL : sql_optimize(&st->planner, plan, out);
}

err *sql__plan_target(struct sql__stmt *st, const struct sql_table *t, const struct sql_expr *where,
                      struct sql_plan **out)
{
	struct sql_plan *scan = sql_arena_alloc(st->arena, sizeof *scan);
	const char **names = sql_arena_alloc(st->arena, sizeof *names * (t->column_count + 1));
	if (!scan || !names)
		return err_new(ERR_NOMEM, "out of memory planning the statement");
	scan->kind = SQL_PLAN_SCAN;
	scan->table = t;
	scan->alias = t->name;
	scan->with_key = true;
	scan->width = t->column_count + 1;
	scan->names = names;
	for (uint32_t i = 0; i < t->column_count; i++)
		names[i] = t->columns[i].name;
	names[t->column_count] = "key";
	if (where) {
		TRY(sql_plan_table_expr(&st->planner, t, where, &scan->predicate));
		if (scan->predicate->type == SQL_TEXT)
			return err_new(ERR_TYPE, "WHERE condition must be BOOLEAN, not TEXT");
	}
	*out = scan;
	return st->unoptimized ? NULL : sql_optimize(&st->planner, scan, out);
}

static err *load_table(struct sql__stmt *st, const char *name, const struct sql_table **t)
{
	TRY(sql_catalog_read(st->txn, st->arena, name, t));
	if (!*t)
		return err_new(ERR_NOT_FOUND, "no such table: %s", name);
	return NULL;
}

/*
 * Ends a data statement whose writes returned `e`: when they succeeded, runs the foreign
 * key checks they deferred (the statement fails with the first violation). Frees the
 * checks either way.
 */
static err *finish(struct sql__stmt *st, err *e)
{
	if (!e)
		e = sql__check_deferred(st);
	sql__forget_deferred(st);
	return e;
}

/* ---- INSERT ---- */

/* Maps each supplied value position to a table column. */
static err *insert_targets(const struct sql_table *t, const struct sql_stmt *s, uint32_t *map,
                           uint32_t *count)
{
	const struct sql_name_list *cols = &s->insert.columns;
	if (!cols->count) {
		for (uint32_t i = 0; i < t->column_count; i++)
			map[i] = i;
		*count = t->column_count;
		return NULL;
	}
	if (cols->count > t->column_count)
		return err_new(ERR_INVALID, "too many columns for table %s", t->name);
	for (uint32_t i = 0; i < cols->count; i++) {
		int32_t c = sql_table_column(t, cols->names[i]);
		if (c < 0)
			return err_new(ERR_NOT_FOUND, "no such column: %s in table %s",
			               cols->names[i], t->name);
		for (uint32_t k = 0; k < i; k++)
			if (map[k] == (uint32_t)c)
				return err_new(ERR_INVALID, "column %s given twice",
				               cols->names[i]);
		map[i] = (uint32_t)c;
	}
	*count = cols->count;
	return NULL;
}

/* Completes `row` (values set where `given`), checks it and inserts it. */
static err *insert_one(struct sql__stmt *st, const struct sql_table *t, struct sql_value *row,
                       const bool *given)
{
	for (uint32_t i = 0; i < t->column_count; i++) {
		if (!given[i] && t->columns[i].has_default)
			TRY(sql_value_copy(&row[i], &t->columns[i].default_value));
		TRY(sql__coerce(t, i, &row[i]));
	}
	TRY(sql__check_row(st, t, row));
	struct sql_value pk;
	if (t->pk >= 0) {
		pk = row[t->pk];
	} else {
		int64_t id;
		TRY(sql_catalog_next_rowid(st->txn, t->id, &id));
		pk = sql_int(id);
	}
	return sql__insert_row(st, t, row, &pk);
}

/* Evaluates one VALUES row into `row` (DEFAULT leaves a column to its default). */
static err *values_row(struct sql__stmt *st, const struct sql_expr_list *exprs, const uint32_t *map,
                       uint32_t count, struct sql_value *row, bool *given)
{
	if (exprs->count != count)
		return err_new(ERR_INVALID, "%u values for %u columns", exprs->count, count);
	for (uint32_t i = 0; i < count; i++) {
		const struct sql_expr *ast = exprs->items[i];
		if (ast->kind == SQL_EXPR_DEFAULT)
			continue;
		struct sql_bexpr *e;
		TRY(sql_plan_const_expr(&st->planner, ast, NULL, &e));
		struct sql_eval_ctx ctx = {.exec = &st->exec};
		TRY(sql_bexpr_eval(e, &ctx, &row[map[i]]));
		given[map[i]] = true;
	}
	return NULL;
}

err *sql__insert(struct sql__stmt *st, const struct sql_stmt *s, uint64_t *count)
{
	*count = 0;
	const struct sql_table *t;
	TRY(load_table(st, s->insert.table, &t));
	uint32_t *map = calloc(t->column_count + 1, sizeof *map);
	struct sql_value *row = calloc(t->column_count + 1, sizeof *row);
	bool *given = calloc(t->column_count + 1, sizeof *given);
	struct sql_rows source;
	sql_rows_init(&source, 0);
	uint32_t n = 0;
	err *e = map && row && given ? insert_targets(t, s, map, &n)
	                             : err_new(ERR_NOMEM, "out of memory inserting");
	if (!e && s->insert.source == SQL_INSERT_SELECT) {
		struct sql_plan *plan;
		e = sql__plan_query(st, s->insert.select, &plan);
		if (!e && plan->width != n)
			e = err_new(ERR_INVALID, "%u values for %u columns", plan->width, n);
		sql_rows_init(&source, n);
		if (!e)
			e = sql_exec_collect(&st->exec, plan, NULL, &source);
	}
	uint64_t rows = s->insert.source == SQL_INSERT_VALUES   ? s->insert.row_count
	                : s->insert.source == SQL_INSERT_SELECT ? source.count
	                                                        : 1;
	for (uint64_t r = 0; r < rows && !e; r++) {
		memset(given, 0, sizeof *given * t->column_count);
		if (s->insert.source == SQL_INSERT_VALUES) {
			e = values_row(st, &s->insert.rows[r], map, n, row, given);
		} else if (s->insert.source == SQL_INSERT_SELECT) {
			for (uint32_t i = 0; i < n && !e; i++) {
				e = sql_value_copy(&row[map[i]], &sql_rows_at(&source, r)[i]);
				given[map[i]] = true;
			}
		}
		if (!e)
			e = insert_one(st, t, row, given);
		if (!e)
			(*count)++;
		if (row)
			sql_values_free(row, t->column_count);
	}
	sql_rows_free(&source);
	free(map);
	free(row);
	free(given);
	return finish(st, e);
}

/* ---- UPDATE and DELETE ---- */

static err *collect_targets(struct sql__stmt *st, const struct sql_table *t,
                            const struct sql_expr *where, struct sql_rows *rows)
{
	struct sql_plan *plan;
	sql_rows_init(rows, t->column_count + 1);
	TRY(sql__plan_target(st, t, where, &plan));
	return sql_exec_collect(&st->exec, plan, NULL, rows);
}

/*
 * Whether some foreign key names `t`, asked of the catalog once per statement and only
 * when a row's key goes away: reading the catalog puts it in the transaction's read set.
 */
struct referenced_once {
	bool asked;
	bool answer;
};

static err *referenced(struct sql__stmt *st, const struct sql_table *t, struct referenced_once *r,
                       bool *out)
{
	if (!r->asked)
		TRY(sql__referenced(st, t, &r->answer));
	r->asked = true;
	*out = r->answer;
	return NULL;
}

/* Applies the SET list to one old row of `t`. */
static err *update_one(struct sql__stmt *st, const struct sql_table *t, struct referenced_once *ref,
                       struct sql_bexpr **sets, const uint32_t *cols, uint32_t set_count,
                       const struct sql_value *old, struct sql_value *row)
{
	const struct sql_value *pk = &old[t->column_count];
	for (uint32_t i = 0; i < t->column_count; i++)
		TRY(sql_value_copy(&row[i], &old[i]));
	struct sql_eval_ctx ctx = {old, t->column_count, NULL, &st->exec};
	for (uint32_t i = 0; i < set_count; i++) {
		sql_value_free(&row[cols[i]]);
		TRY(sql_bexpr_eval(sets[i], &ctx, &row[cols[i]]));
		TRY(sql__coerce(t, cols[i], &row[cols[i]]));
	}
	TRY(sql__check_row(st, t, row));
	const struct sql_value *new_pk = t->pk >= 0 ? &row[t->pk] : pk;
	bool is_referenced = false;
	if (t->pk >= 0 && sql_value_order(pk, new_pk) != 0)
		TRY(referenced(st, t, ref, &is_referenced));
	if (is_referenced)
		TRY(sql__defer_unreferenced(st, t, pk));
	TRY(sql__delete_row(st, t, old, pk));
	return sql__insert_row(st, t, row, new_pk);
}

err *sql__update(struct sql__stmt *st, const struct sql_stmt *s, uint64_t *count)
{
	*count = 0;
	const struct sql_table *t;
	TRY(load_table(st, s->update.table, &t));
	uint32_t n = s->update.set_count;
	struct sql_bexpr **sets = sql_arena_alloc(st->arena, sizeof *sets * (n + 1));
	uint32_t *cols = sql_arena_alloc(st->arena, sizeof *cols * (n + 1));
	if (!sets || !cols)
		return err_new(ERR_NOMEM, "out of memory updating");
	for (uint32_t i = 0; i < n; i++) {
		const struct sql_assignment *a = &s->update.set[i];
		int32_t c = sql_table_column(t, a->column);
		if (c < 0)
			return err_new(ERR_NOT_FOUND, "no such column: %s", a->column);
		cols[i] = (uint32_t)c;
		TRY(sql_plan_table_expr(&st->planner, t, a->value, &sets[i]));
		enum sql_value_type vt = sets[i]->type, ct = t->columns[c].type;
		bool ok = vt == SQL_NULL || vt == ct || (ct == SQL_FLOAT && vt == SQL_INT) ||
		          (ct == SQL_INT && vt == SQL_FLOAT) || (ct == SQL_BOOL && vt == SQL_INT);
		if (!ok)
			return err_new(ERR_TYPE, "cannot assign %s to column %s.%s of type %s",
			               sql_value_type_name(vt), t->name, a->column,
			               sql_value_type_name(ct));
	}
	struct referenced_once ref = {0};
	struct sql_rows rows;
	err *e = collect_targets(st, t, s->update.where, &rows);
	struct sql_value *row = calloc(t->column_count + 1, sizeof *row);
	if (!row && !e)
		e = err_new(ERR_NOMEM, "out of memory updating");
	for (uint64_t r = 0; r < rows.count && !e; r++) {
		e = update_one(st, t, &ref, sets, cols, n, sql_rows_at(&rows, r), row);
		sql_values_free(row, t->column_count);
		if (!e)
			(*count)++;
	}
	free(row);
	sql_rows_free(&rows);
	return finish(st, e);
}

/*
 * DELETE without WHERE of a table no foreign key references: counts the rows (which
 * reads the whole table, so a concurrent write to it conflicts), then deletes the rows'
 * and every index's key ranges whole instead of row by row.
 */
static err *delete_all(struct sql__stmt *st, const struct sql_table *t, uint64_t *count)
{
	struct buf prefix;
	buf_init(&prefix, SQL_KEY_MAX_BYTES + 64);
	struct sql_txn_scan *sc = NULL;
	err *e = sql_key_row_prefix(&prefix, t->id);
	if (!e)
		e = sql_txn_scan_prefix(st->txn, buf_slice(&prefix), &sc);
	/* every round consumes a row of the scan, which ends */
	while (!e) {
		struct slice v;
		bool done;
		e = sql_txn_scan_step(sc, &v, &done);
		if (e || done)
			break;
		(*count)++;
	}
	sql_txn_scan_close(sc);
	buf_free(&prefix);
	return e ? e : sql__delete_all_rows(st, t);
}

err *sql__delete(struct sql__stmt *st, const struct sql_stmt *s, uint64_t *count)
{
	*count = 0;
	const struct sql_table *t;
	TRY(load_table(st, s->delete_.table, &t));
	struct referenced_once ref = {0};
	bool is_referenced = false;
	if (!s->delete_.where) {
		TRY(referenced(st, t, &ref, &is_referenced));
		if (!is_referenced)
			return delete_all(st, t, count);
	}
	struct sql_rows rows;
	err *e = collect_targets(st, t, s->delete_.where, &rows);
	for (uint64_t r = 0; r < rows.count && !e; r++) {
		const struct sql_value *old = sql_rows_at(&rows, r);
		const struct sql_value *pk = &old[t->column_count];
		e = referenced(st, t, &ref, &is_referenced);
		if (!e && is_referenced)
			e = sql__defer_unreferenced(st, t, pk);
		if (!e)
			e = sql__delete_row(st, t, old, pk);
		if (!e)
			(*count)++;
	}
	sql_rows_free(&rows);
	return finish(st, e);
}
