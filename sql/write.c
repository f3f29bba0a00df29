/*
 * write.c — writing rows and index entries, and the constraints checked on the way.
 *
 * Constraint errors are ERR_CONSTRAINT and name the constraint, the column and the
 * offending value, e.g. "UNIQUE constraint failed: users.email = 'a@b'". Writes go to the
 * statement overlay (txn.h), so later rows of the same statement see earlier ones: two
 * rows of one INSERT with the same key are a violation like any other. FOREIGN KEY
 * constraints are checked when the statement's writes are done (sql__check_deferred), as
 * SQL does, so a row may reference itself or a row the same statement writes after it.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "sql/keys.h"
#include "sql/row.h"
#include "sql/statement.h"
#include "storage/mvcc.h"

#define KEY_BUF (SQL_KEY_MAX_BYTES + 64)

/* Appends a value as SQL text for messages ('text' quoted). */
static void describe(const struct sql_value *v, struct buf *out)
{
	err *e = NULL;
	if (v->type == SQL_TEXT) {
		e = buf_append(out, "'", 1);
		if (!e)
			e = buf_append(out, v->u.s.ptr, v->u.s.len < 64 ? v->u.s.len : 64);
		if (!e)
			e = buf_append(out, "'", 1);
	} else {
		e = sql_value_format(v, out);
	}
	if (!e)
		e = buf_append(out, "", 1);
	err_free(e);
}

static err *violation(const char *what, const char *table, const char *column,
                      const struct sql_value *v, const char *detail)
{
	struct buf b;
	buf_init(&b, 256);
	describe(v, &b);
	err *e = err_new(ERR_CONSTRAINT, "%s constraint failed: %s.%s = %s%s", what, table, column,
	                 b.len ? (const char *)b.data : "?", detail);
	buf_free(&b);
	return e;
}

err *sql__coerce(const struct sql_table *t, uint32_t col, struct sql_value *v)
{
	const struct sql_column *c = &t->columns[col];
	if (v->type == SQL_NULL || v->type == c->type) {
		if (v->type == SQL_TEXT && v->u.s.len > c->max_len)
			return err_new(ERR_CONSTRAINT,
			               "value too long for %s.%s: %u bytes, the limit is %u",
			               t->name, c->name, v->u.s.len, c->max_len);
		return NULL;
	}
	if (c->type == SQL_FLOAT && v->type == SQL_INT) {
		*v = sql_float((double)v->u.i);
		return NULL;
	}
	int64_t whole;
	if (c->type == SQL_INT && v->type == SQL_FLOAT && sql_float_is_int(v->u.f, &whole)) {
		*v = sql_int(whole);
		return NULL;
	}
	if (c->type == SQL_BOOL && v->type == SQL_INT && (v->u.i == 0 || v->u.i == 1)) {
		*v = sql_bool(v->u.i == 1);
		return NULL;
	}
	struct buf b;
	buf_init(&b, 256);
	describe(v, &b);
	err *e = err_new(ERR_TYPE, "cannot store %s %s in column %s.%s of type %s",
	                 sql_value_type_name(v->type), b.len ? (const char *)b.data : "?", t->name,
	                 c->name, sql_value_type_name(c->type));
	buf_free(&b);
	return e;
}

/* True when the table `ref` has a row with primary key `v`. */
static err *row_exists(struct sql__stmt *st, const struct sql_table *ref, const struct sql_value *v,
                       bool *found)
{
	struct buf key, val;
	buf_init(&key, KEY_BUF);
	buf_init(&val, KV_VALUE_MAX);
	struct sql_value probe = *v;
	/* the parent's key column type decides the encoding */
	if (ref->pk >= 0 && ref->columns[ref->pk].type == SQL_FLOAT && v->type == SQL_INT)
		probe = sql_float((double)v->u.i);
	err *e = sql_key_row(&key, ref->id, &probe);
	if (!e)
		e = sql_txn_get(st->txn, buf_slice(&key), &val, found);
	buf_free(&key);
	buf_free(&val);
	return e;
}

/* Records a check for the statement's end (see struct sql__deferred); copies `v`. */
static err *defer(struct sql__stmt *st, const struct sql_table *t, int32_t column,
                  const struct sql_value *v)
{
	if (st->deferred_count >= SQL__MAX_DEFERRED_CHECKS)
		return err_new(ERR_LIMIT, "a statement may defer at most %d foreign key checks",
		               SQL__MAX_DEFERRED_CHECKS);
	if (st->deferred_count == st->deferred_cap) {
		uint32_t cap = st->deferred_cap ? st->deferred_cap * 2 : 16;
		struct sql__deferred *d = realloc(st->deferred, sizeof *d * cap);
		if (!d)
			return err_new(ERR_NOMEM, "out of memory deferring a foreign key check");
		st->deferred = d;
		st->deferred_cap = cap;
	}
	struct sql__deferred *d = &st->deferred[st->deferred_count];
	d->table = t;
	d->column = column;
	TRY(sql_value_copy(&d->value, v));
	st->deferred_count++;
	return NULL;
}

err *sql__check_row(struct sql__stmt *st, const struct sql_table *t, const struct sql_value *row)
{
	for (uint32_t i = 0; i < t->column_count; i++) {
		const struct sql_column *c = &t->columns[i];
		if (row[i].type == SQL_NULL && (c->not_null || (int32_t)i == t->pk))
			return err_new(ERR_CONSTRAINT, "NOT NULL constraint failed: %s.%s", t->name,
			               c->name);
		if (c->ref_table && row[i].type != SQL_NULL)
			TRY(defer(st, t, (int32_t)i, &row[i]));
	}
	return NULL;
}

/* ERR_CONSTRAINT unless the table column `col` of `t` refers to has a row with key `v`. */
static err *check_reference(struct sql__stmt *st, const struct sql_table *t, uint32_t col,
                            const struct sql_value *v)
{
	const struct sql_column *c = &t->columns[col];
	const struct sql_table *ref;
	TRY(sql_catalog_read(st->txn, st->arena, c->ref_table, &ref));
	if (!ref)
		return err_new(ERR_CONSTRAINT,
		               "FOREIGN KEY constraint failed: %s.%s refers to "
		               "missing table %s",
		               t->name, c->name, c->ref_table);
	bool found;
	TRY(row_exists(st, ref, v, &found));
	if (!found)
		return violation("FOREIGN KEY", t->name, c->name, v,
		                 " has no matching primary key in the referenced table");
	return NULL;
}

/* Writes the index key prefix: index id, then the indexed values. */
static err *index_prefix(const struct sql_index *x, const struct sql_value *row, struct buf *key)
{
	TRY(sql_key_index_prefix(key, x->id));
	err *e = NULL;
	for (uint32_t k = 0; k < x->column_count && !e; k++)
		e = sql_key_put_value(key, &row[x->columns[k]]);
	if (err_is(e, ERR_LIMIT)) {
		err_free(e);
		e = err_new(ERR_LIMIT,
		            "indexed values too long for a key of index %s (at most %d bytes)",
		            x->name, SQL_KEY_MAX_BYTES);
	}
	return e;
}

err *sql__index_entry(struct sql__stmt *st, const struct sql_index *x, const struct sql_value *row,
                      const struct sql_value *pk, bool remove)
{
	struct buf key;
	buf_init(&key, KEY_BUF);
	err *e = index_prefix(x, row, &key);
	if (!e)
		e = sql_key_put_value(&key, pk);
	if (err_is(e, ERR_LIMIT)) {
		err_free(e);
		e = err_new(ERR_LIMIT,
		            "indexed values too long for a key of index %s (at most %d bytes)",
		            x->name, SQL_KEY_MAX_BYTES);
	}
	if (!e)
		e = remove ? sql_txn_delete(st->txn, buf_slice(&key))
		           : sql_txn_put(st->txn, buf_slice(&key), slice_of(NULL, 0));
	buf_free(&key);
	return e;
}

err *sql__check_unique(struct sql__stmt *st, const struct sql_table *t, const struct sql_index *x,
                       const struct sql_value *row)
{
	for (uint32_t k = 0; k < x->column_count; k++)
		if (row[x->columns[k]].type == SQL_NULL)
			return NULL;
	struct buf key;
	buf_init(&key, KEY_BUF);
	struct sql_txn_scan *sc = NULL;
	bool done = true;
	err *e = index_prefix(x, row, &key);
	if (!e)
		e = sql_txn_scan_prefix(st->txn, buf_slice(&key), &sc);
	if (!e) {
		struct slice k, v;
		e = sql_txn_scan_next(sc, &k, &v, &done);
	}
	sql_txn_scan_close(sc);
	buf_free(&key);
	TRY(e);
	if (done)
		return NULL;
	if (x->column_count == 1)
		return violation("UNIQUE", t->name, t->columns[x->columns[0]].name,
		                 &row[x->columns[0]], " already exists");
	/* several columns: t.(a, b) = (1, 'x') */
	struct buf names, values;
	buf_init(&names, 1024);
	buf_init(&values, 1024);
	for (uint32_t k = 0; k < x->column_count; k++) {
		const char *sep = k ? ", " : "(";
		const char *name = t->columns[x->columns[k]].name;
		e = buf_append(&names, sep, strlen(sep));
		if (!e)
			e = buf_append(&names, name, strlen(name));
		if (!e)
			e = buf_append(&values, sep, strlen(sep));
		struct buf one;
		buf_init(&one, 256);
		describe(&row[x->columns[k]], &one);
		if (!e && one.len)
			e = buf_append(&values, one.data, strlen((const char *)one.data));
		buf_free(&one);
		err_free(e); /* a message cut short at 1 KiB is still a message */
	}
	e = err_new(ERR_CONSTRAINT, "UNIQUE constraint failed: %s.%.*s) = %.*s) already exists",
	            t->name, (int)names.len, (const char *)names.data, (int)values.len,
	            (const char *)values.data);
	buf_free(&names);
	buf_free(&values);
	return e;
}

err *sql__insert_row(struct sql__stmt *st, const struct sql_table *t, const struct sql_value *row,
                     const struct sql_value *pk)
{
	struct buf key, val;
	buf_init(&key, KEY_BUF);
	buf_init(&val, KV_VALUE_MAX);
	bool found = false;
	err *e = sql_key_row(&key, t->id, pk);
	if (!e)
		e = sql_txn_get(st->txn, buf_slice(&key), &val, &found);
	if (!e && found)
		e = violation("PRIMARY KEY", t->name, t->pk >= 0 ? t->columns[t->pk].name : "rowid",
		              pk, " already exists");
	for (uint32_t i = 0; i < t->index_count && !e; i++)
		if (t->indexes[i].unique)
			e = sql__check_unique(st, t, &t->indexes[i], row);
	if (!e) {
		e = sql_row_encode(row, t->column_count, &val);
		if (err_is(e, ERR_LIMIT)) {
			err_free(e);
			e = err_new(ERR_LIMIT,
			            "row too large for table %s: more than %d bytes encoded",
			            t->name, KV_VALUE_MAX);
		}
	}
	if (!e)
		e = sql_txn_put(st->txn, buf_slice(&key), buf_slice(&val));
	for (uint32_t i = 0; i < t->index_count && !e; i++)
		e = sql__index_entry(st, &t->indexes[i], row, pk, false);
	buf_free(&key);
	buf_free(&val);
	return e;
}

err *sql__delete_prefix(struct sql__stmt *st, struct slice prefix)
{
	struct buf end;
	buf_init(&end, KEY_BUF);
	err *e = sql_key_prefix_end(prefix, &end);
	if (!e)
		e = sql_txn_delete_range(st->txn, prefix, buf_slice(&end));
	buf_free(&end);
	return e;
}

err *sql__delete_all_rows(struct sql__stmt *st, const struct sql_table *t)
{
	struct buf prefix;
	buf_init(&prefix, KEY_BUF);
	err *e = sql_key_row_prefix(&prefix, t->id);
	if (!e)
		e = sql__delete_prefix(st, buf_slice(&prefix));
	for (uint32_t i = 0; i < t->index_count && !e; i++) {
		e = sql_key_index_prefix(&prefix, t->indexes[i].id);
		if (!e)
			e = sql__delete_prefix(st, buf_slice(&prefix));
	}
	buf_free(&prefix);
	return e;
}

err *sql__delete_row(struct sql__stmt *st, const struct sql_table *t, const struct sql_value *row,
                     const struct sql_value *pk)
{
	for (uint32_t i = 0; i < t->index_count; i++)
		TRY(sql__index_entry(st, &t->indexes[i], row, pk, true));
	struct buf key;
	buf_init(&key, KEY_BUF);
	err *e = sql_key_row(&key, t->id, pk);
	if (!e)
		e = sql_txn_delete(st->txn, buf_slice(&key));
	buf_free(&key);
	return e;
}

/* Scans table `child` for a row whose column `col` equals `pk`. */
static err *child_references(struct sql__stmt *st, const struct sql_table *child, uint32_t col,
                             const struct sql_value *pk, bool *found)
{
	*found = false;
	struct buf prefix;
	buf_init(&prefix, KEY_BUF);
	struct sql_txn_scan *sc = NULL;
	struct sql_value *row = calloc(child->column_count, sizeof *row);
	err *e = row ? sql_key_row_prefix(&prefix, child->id)
	             : err_new(ERR_NOMEM, "out of memory checking references");
	if (!e)
		e = sql_txn_scan_prefix(st->txn, buf_slice(&prefix), &sc);
	while (!e && !*found) {
		struct slice k, v;
		bool done;
		e = sql_txn_scan_next(sc, &k, &v, &done);
		if (e || done)
			break;
		e = sql_row_decode(v, row, child->column_count);
		if (!e && row[col].type != SQL_NULL) {
			int c;
			bool is_null;
			e = sql_value_compare(&row[col], pk, &c, &is_null);
			*found = !e && c == 0;
		}
		if (row)
			sql_values_free(row, child->column_count);
	}
	sql_txn_scan_close(sc);
	free(row);
	buf_free(&prefix);
	return e;
}

err *sql__referenced(struct sql__stmt *st, const struct sql_table *t, bool *out)
{
	*out = false;
	if (t->pk < 0)
		return NULL; /* only primary keys can be referenced */
	struct sql_table **all;
	uint32_t n;
	TRY(sql_catalog_list(st->txn, st->arena, &all, &n));
	for (uint32_t i = 0; i < n && !*out; i++)
		for (uint32_t c = 0; c < all[i]->column_count && !*out; c++)
			*out = all[i]->columns[c].ref_table &&
			       !strcmp(all[i]->columns[c].ref_table, t->name);
	return NULL;
}

/*
 * ERR_CONSTRAINT if some row of a table of `all` (`t` included) references primary key `pk`
 * of `t`.
 */
static err *check_unreferenced(struct sql__stmt *st, struct sql_table *const *all, uint32_t n,
                               const struct sql_table *t, const struct sql_value *pk)
{
	assert(t->pk >= 0); /* only primary keys can be referenced (sql__referenced) */
	for (uint32_t i = 0; i < n; i++) {
		for (uint32_t c = 0; c < all[i]->column_count; c++) {
			const char *ref = all[i]->columns[c].ref_table;
			if (!ref || strcmp(ref, t->name))
				continue;
			bool found;
			TRY(child_references(st, all[i], c, pk, &found));
			if (found) {
				struct buf b;
				buf_init(&b, 256);
				describe(pk, &b);
				err *e = err_new(
				    ERR_CONSTRAINT,
				    "FOREIGN KEY constraint failed: %s.%s = %s is referenced "
				    "by %s.%s",
				    t->name, t->columns[t->pk].name,
				    b.len ? (const char *)b.data : "?", all[i]->name,
				    all[i]->columns[c].name);
				buf_free(&b);
				return e;
			}
		}
	}
	return NULL;
}

err *sql__defer_unreferenced(struct sql__stmt *st, const struct sql_table *t,
                             const struct sql_value *pk)
{
	return defer(st, t, -1, pk);
}

err *sql__check_deferred(struct sql__stmt *st)
{
	struct sql_table **all = NULL; /* the catalog, read once for every old key's check */
	uint32_t n = 0;
	for (uint32_t i = 0; i < st->deferred_count; i++) {
		const struct sql__deferred *d = &st->deferred[i];
		if (d->column >= 0) {
			TRY(check_reference(st, d->table, (uint32_t)d->column, &d->value));
			continue;
		}
		if (!all)
			TRY(sql_catalog_list(st->txn, st->arena, &all, &n));
		TRY(check_unreferenced(st, all, n, d->table, &d->value));
	}
	return NULL;
}

void sql__forget_deferred(struct sql__stmt *st)
{
	for (uint32_t i = 0; i < st->deferred_count; i++)
		sql_value_free(&st->deferred[i].value);
	free(st->deferred);
	st->deferred = NULL;
	st->deferred_count = 0;
	st->deferred_cap = 0;
}
