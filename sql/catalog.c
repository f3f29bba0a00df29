/*
 * catalog.c — schemas in the MVCC store (see catalog.h).
 *
 * Encoding of one schema (a msgpack array, fields in this order):
 *
 *   [id, name, pk, [column...], [index...]]
 *   column = [name, type, max_len, not_null, unique, default, ref_table]
 *            default is nil (none) or [value]; ref_table is nil or a string
 *   index  = [id, name, unique, [position...]]
 */
#include "sql/catalog.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/codec.h"
#include "sql/keys.h"
#include "sql/row.h"
#include "storage/kv.h"

#define SCHEMA_MAX_BYTES ((size_t)1 << 20)

/* ---- encoding ---- */

static void put_cstr(struct codec_out *co, const char *s)
{
	codec_put_str(co, s, strlen(s));
}

static err *encode_table(const struct sql_table *t, struct buf *out)
{
	struct codec_out co;
	buf_clear(out);
	codec_out_init(&co, out);
	codec_put_array(&co, 5);
	codec_put_u64(&co, t->id);
	put_cstr(&co, t->name);
	codec_put_i64(&co, t->pk);
	codec_put_array(&co, t->column_count);
	for (uint32_t i = 0; i < t->column_count; i++) {
		const struct sql_column *c = &t->columns[i];
		codec_put_array(&co, 7);
		put_cstr(&co, c->name);
		codec_put_u64(&co, (uint64_t)c->type);
		codec_put_u64(&co, c->max_len);
		codec_put_bool(&co, c->not_null);
		codec_put_bool(&co, c->unique);
		if (c->has_default) {
			codec_put_array(&co, 1);
			sql_row_put_value(&co, &c->default_value);
		} else {
			codec_put_nil(&co);
		}
		if (c->ref_table)
			put_cstr(&co, c->ref_table);
		else
			codec_put_nil(&co);
	}
	codec_put_array(&co, t->index_count);
	for (uint32_t i = 0; i < t->index_count; i++) {
		const struct sql_index *x = &t->indexes[i];
		codec_put_array(&co, 4);
		codec_put_u64(&co, x->id);
		put_cstr(&co, x->name);
		codec_put_bool(&co, x->unique);
		codec_put_array(&co, x->column_count);
		for (uint32_t k = 0; k < x->column_count; k++)
			codec_put_u64(&co, x->columns[k]);
	}
	return codec_out_end(&co);
}

/* ---- decoding ---- */

static const char *arena_name(struct sql_arena *a, struct slice s, struct codec_in *in)
{
	if (in->error)
		return "";
	if (s.len == 0 || !sql_utf8_valid((const char *)s.ptr, s.len)) {
		codec_in_fail(in, "bad name");
		return "";
	}
	char *p = sql_arena_strndup(a, (const char *)s.ptr, s.len);
	if (!p) {
		codec_in_fail(in, "out of memory");
		return "";
	}
	return p;
}

/* Makes an arena-backed copy of a value (text never freed individually). */
static err *arena_value(struct sql_arena *a, struct sql_value *v)
{
	if (v->type != SQL_TEXT)
		return NULL;
	char *p = sql_arena_strndup(a, v->u.s.ptr, v->u.s.len);
	sql_value_free(v);
	if (!p)
		return err_new(ERR_NOMEM, "out of memory for a default value");
	v->type = SQL_TEXT;
	v->u.s.ptr = p;
	v->u.s.len = (uint32_t)strlen(p);
	return NULL;
}

static err *decode_column(struct codec_in *in, struct sql_arena *a, struct sql_column *c)
{
	struct codec_in ci;
	codec_get_array(in, &ci, 7, 7);
	c->name = arena_name(a, codec_get_str(&ci, SQL_MAX_NAME_BYTES), &ci);
	uint64_t type = codec_get_u64(&ci);
	if (type < SQL_BOOL || type > SQL_TEXT)
		codec_in_fail(&ci, "bad column type");
	c->type = (enum sql_value_type)type;
	uint64_t max_len = codec_get_u64(&ci);
	if (max_len > SQL_TEXT_MAX_BYTES)
		codec_in_fail(&ci, "bad column length");
	c->max_len = (uint32_t)max_len;
	c->not_null = codec_get_bool(&ci);
	c->unique = codec_get_bool(&ci);
	c->has_default = false;
	c->default_value = sql_null();
	err *e = NULL;
	if (!codec_get_nil(&ci)) {
		struct codec_in di;
		codec_get_array(&ci, &di, 1, 1);
		const msgpack_object *o = codec_get_object(&di);
		if (o) {
			e = sql_row_get_value(o, &c->default_value);
			if (!e)
				e = arena_value(a, &c->default_value);
			c->has_default = true;
		}
		err *de = codec_in_end(&di, false);
		if (de && !e)
			e = de;
		else
			err_free(de);
	}
	c->ref_table = NULL;
	if (!codec_get_nil(&ci))
		c->ref_table = arena_name(a, codec_get_str(&ci, SQL_MAX_NAME_BYTES), &ci);
	err *ce = codec_in_end(&ci, false);
	if (e) {
		err_free(ce);
		return e;
	}
	return ce;
}

static err *decode_index(struct codec_in *in, struct sql_arena *a, uint32_t column_count,
                         struct sql_index *x)
{
	struct codec_in xi, pi;
	codec_get_array(in, &xi, 4, 4);
	x->id = codec_get_u64(&xi);
	x->name = arena_name(a, codec_get_str(&xi, SQL_MAX_NAME_BYTES), &xi);
	x->unique = codec_get_bool(&xi);
	codec_get_array(&xi, &pi, 1, SQL_INDEX_MAX_COLUMNS);
	x->column_count = codec_in_remaining(&pi);
	for (uint32_t k = 0; k < x->column_count; k++) {
		uint64_t p = codec_get_u64(&pi);
		if (p >= column_count)
			codec_in_fail(&pi, "index column out of range");
		x->columns[k] = (uint32_t)p;
	}
	err *e = codec_in_end(&pi, false);
	err *e2 = codec_in_end(&xi, false);
	if (e) {
		err_free(e2);
		return e;
	}
	return e2;
}

static err *decode_table(struct slice bytes, struct sql_arena *a, struct sql_table **out)
{
	struct codec_doc doc;
	const msgpack_object *root;
	TRY(codec_parse(&doc, bytes.ptr, bytes.len, &root));
	struct sql_table *t = sql_arena_alloc(a, sizeof *t);
	err *e = NULL;
	if (!t) {
		codec_doc_free(&doc);
		return err_new(ERR_NOMEM, "out of memory loading a schema");
	}
	struct codec_in in, cols, idx;
	codec_in_init(&in, root, 5, 5);
	t->id = codec_get_u64(&in);
	t->name = arena_name(a, codec_get_str(&in, SQL_MAX_NAME_BYTES), &in);
	int64_t pk = codec_get_i64(&in);
	codec_get_array(&in, &cols, 1, SQL_MAX_COLUMNS);
	t->column_count = codec_in_remaining(&cols);
	if (pk < -1 || pk >= (int64_t)t->column_count)
		codec_in_fail(&in, "bad primary key position");
	t->pk = (int32_t)pk;
	t->columns = sql_arena_alloc(a, sizeof *t->columns * (t->column_count + 1));
	if (!t->columns)
		e = err_new(ERR_NOMEM, "out of memory loading a schema");
	for (uint32_t i = 0; i < t->column_count && !e; i++)
		e = decode_column(&cols, a, &t->columns[i]);
	err *ce = codec_in_end(&cols, false);
	codec_get_array(&in, &idx, 0, SQL_MAX_INDEXES);
	t->index_count = codec_in_remaining(&idx);
	t->indexes = sql_arena_alloc(a, sizeof *t->indexes * (t->index_count + 1));
	if (!t->indexes && !e)
		e = err_new(ERR_NOMEM, "out of memory loading a schema");
	for (uint32_t i = 0; i < t->index_count && !e; i++)
		e = decode_index(&idx, a, t->column_count, &t->indexes[i]);
	err *xe = codec_in_end(&idx, false);
	err *ie = codec_in_end(&in, false);
	codec_doc_free(&doc);
	err *all[] = {ce, xe, ie};
	for (size_t i = 0; i < 3; i++) {
		if (!e)
			e = all[i];
		else
			err_free(all[i]);
	}
	if (e)
		return err_wrap(e, "stored schema");
	*out = t;
	return NULL;
}

/* ---- the schema cache ---- */

/*
 * An entry owns `bytes` and `arena` once `bytes` is set, and holds a table once `table`
 * is; it is free when it holds no table.
 */
struct sql_catalog_cache_entry {
	uint8_t *bytes; /* the stored encoding; `table` is its decoding */
	size_t len;
	struct sql_arena arena; /* holds `table` */
	const struct sql_table *table;
	uint64_t used; /* the last statement that read it */
};

struct sql_catalog_cache {
	struct sql_catalog_cache_entry entries[SQL_CATALOG_CACHE_ENTRIES];
	uint64_t statement;
};

err *sql_catalog_cache_new(struct sql_catalog_cache **out)
{
	*out = calloc(1, sizeof **out);
	if (!*out)
		return err_new(ERR_NOMEM, "out of memory for a schema cache");
	(*out)->statement = 1;
	return NULL;
}

static void cache_entry_clear(struct sql_catalog_cache_entry *x)
{
	if (x->bytes) {
		free(x->bytes);
		sql_arena_free(&x->arena);
	}
	memset(x, 0, sizeof *x);
}

void sql_catalog_cache_free(struct sql_catalog_cache *c)
{
	if (!c)
		return;
	for (int i = 0; i < SQL_CATALOG_CACHE_ENTRIES; i++)
		cache_entry_clear(&c->entries[i]);
	free(c);
}

void sql_catalog_cache_next_statement(struct sql_catalog_cache *c)
{
	c->statement++;
}

/*
 * The decoding of `bytes`: a cached one, else a new entry in place of the least recently
 * read one that this statement has not read; else (every entry is this statement's)
 * decoded into `arena`.
 */
static err *cache_decode(struct sql_catalog_cache *c, struct slice bytes, struct sql_arena *arena,
                         const struct sql_table **out)
{
	struct sql_catalog_cache_entry *victim = NULL;
	for (int i = 0; i < SQL_CATALOG_CACHE_ENTRIES; i++) {
		struct sql_catalog_cache_entry *x = &c->entries[i];
		if (x->table && x->len == bytes.len &&
		    memcmp(x->bytes, bytes.ptr, bytes.len) == 0) {
			x->used = c->statement;
			*out = x->table;
			return NULL;
		}
		if (x->used < c->statement && (!victim || x->used < victim->used))
			victim = x;
	}
	struct sql_table *table;
	if (!victim) {
		TRY(decode_table(bytes, arena, &table));
		*out = table;
		return NULL;
	}
	cache_entry_clear(victim);
	victim->bytes = malloc(bytes.len ? bytes.len : 1);
	if (!victim->bytes)
		return err_new(ERR_NOMEM, "out of memory for a schema cache");
	memcpy(victim->bytes, bytes.ptr, bytes.len);
	sql_arena_init(&victim->arena, SQL_ARENA_DEFAULT_MAX_BYTES);
	err *e = decode_table(bytes, &victim->arena, &table);
	if (e) {
		cache_entry_clear(victim);
		return e;
	}
	victim->len = bytes.len;
	victim->table = table;
	victim->used = c->statement;
	*out = table;
	return NULL;
}

/* ---- operations ---- */

/* Reads the stored schema of `name` into *val; *found says whether there is one. */
static err *read_schema(struct sql_txn *t, const char *name, struct buf *val, bool *found)
{
	struct buf key;
	buf_init(&key, KV_KEY_MAX);
	err *e = sql_key_catalog(&key, name);
	if (!e)
		e = sql_txn_get(t, buf_slice(&key), val, found);
	buf_free(&key);
	return e;
}

err *sql_catalog_get(struct sql_txn *t, struct sql_arena *arena, const char *name,
                     struct sql_table **out)
{
	*out = NULL;
	struct buf val;
	buf_init(&val, SCHEMA_MAX_BYTES);
	bool found = false;
	err *e = read_schema(t, name, &val, &found);
	if (!e && found)
		e = decode_table(buf_slice(&val), arena, out);
	buf_free(&val);
	return e;
}

err *sql_catalog_read(struct sql_txn *t, struct sql_arena *arena, const char *name,
                      const struct sql_table **out)
{
	*out = NULL;
	struct buf val;
	buf_init(&val, SCHEMA_MAX_BYTES);
	bool found = false;
	err *e = read_schema(t, name, &val, &found);
	if (!e && found) {
		if (t->catalog_cache) {
			e = cache_decode(t->catalog_cache, buf_slice(&val), arena, out);
		} else {
			struct sql_table *table;
			e = decode_table(buf_slice(&val), arena, &table);
			if (!e)
				*out = table;
		}
	}
	buf_free(&val);
	return e;
}

err *sql_catalog_list(struct sql_txn *t, struct sql_arena *arena, struct sql_table ***out,
                      uint32_t *count)
{
	*out = NULL;
	*count = 0;
	struct buf prefix;
	buf_init(&prefix, 64);
	struct sql_txn_scan *sc = NULL;
	err *e = sql_key_catalog_prefix(&prefix);
	if (!e)
		e = sql_txn_scan_prefix(t, buf_slice(&prefix), &sc);
	uint32_t cap = 0;
	struct sql_table **list = NULL;
	while (!e) {
		struct slice k, v;
		bool done;
		e = sql_txn_scan_next(sc, &k, &v, &done);
		if (e || done)
			break;
		if (*count == cap) {
			uint32_t ncap = cap ? cap * 2 : 16;
			struct sql_table **n = sql_arena_alloc(arena, sizeof *n * ncap);
			if (!n) {
				e = err_new(ERR_NOMEM, "out of memory listing tables");
				break;
			}
			if (cap)
				memcpy(n, list, sizeof *n * cap);
			list = n;
			cap = ncap;
		}
		e = decode_table(v, arena, &list[*count]);
		if (!e)
			(*count)++;
	}
	sql_txn_scan_close(sc);
	buf_free(&prefix);
	*out = list;
	return e;
}

static err *next_counter(struct sql_txn *t, struct buf *key, uint64_t *value)
{
	struct buf val;
	buf_init(&val, 64);
	bool found = false;
	err *e = sql_txn_get(t, buf_slice(key), &val, &found);
	uint64_t next = 1;
	if (!e && found) {
		if (val.len != 8)
			e = err_new(ERR_CORRUPT, "stored counter of %zu bytes", val.len);
		else
			next = load_u64be(val.data);
	}
	if (!e) {
		uint8_t bytes[8];
		store_u64be(bytes, next + 1);
		e = sql_txn_put(t, buf_slice(key), slice_of(bytes, 8));
	}
	*value = next;
	buf_free(&val);
	return e;
}

err *sql_catalog_next_id(struct sql_txn *t, uint64_t *id)
{
	struct buf key;
	buf_init(&key, 64);
	err *e = sql_key_id_counter(&key);
	if (!e)
		e = next_counter(t, &key, id);
	buf_free(&key);
	return e;
}

err *sql_catalog_next_rowid(struct sql_txn *t, uint64_t table_id, int64_t *rowid)
{
	struct buf key;
	buf_init(&key, 64);
	uint64_t v = 0;
	err *e = sql_key_rowid_counter(&key, table_id);
	if (!e)
		e = next_counter(t, &key, &v);
	buf_free(&key);
	if (!e && v > INT64_MAX)
		e = err_new(ERR_LIMIT, "row ids exhausted");
	*rowid = (int64_t)v;
	return e;
}

err *sql_catalog_put(struct sql_txn *t, const struct sql_table *table)
{
	assert(table->column_count >= 1);
	if (strlen(table->name) > SQL_MAX_NAME_BYTES)
		return err_new(ERR_LIMIT, "table name longer than %d bytes", SQL_MAX_NAME_BYTES);
	if (table->column_count > SQL_MAX_COLUMNS)
		return err_new(ERR_LIMIT, "more than %d columns", SQL_MAX_COLUMNS);
	if (table->index_count > SQL_MAX_INDEXES)
		return err_new(ERR_LIMIT, "more than %d indexes on a table", SQL_MAX_INDEXES);
	struct buf key, val;
	buf_init(&key, KV_KEY_MAX);
	buf_init(&val, SCHEMA_MAX_BYTES);
	err *e = sql_key_catalog(&key, table->name);
	if (!e)
		e = encode_table(table, &val);
	if (!e)
		e = sql_txn_put(t, buf_slice(&key), buf_slice(&val));
	buf_free(&key);
	buf_free(&val);
	return e;
}

err *sql_catalog_remove(struct sql_txn *t, const char *name)
{
	struct buf key;
	buf_init(&key, KV_KEY_MAX);
	err *e = sql_key_catalog(&key, name);
	if (!e)
		e = sql_txn_delete(t, buf_slice(&key));
	buf_free(&key);
	return e;
}

int32_t sql_table_column(const struct sql_table *table, const char *name)
{
	for (uint32_t i = 0; i < table->column_count; i++)
		if (!strcmp(table->columns[i].name, name))
			return (int32_t)i;
	return -1;
}

err *sql_catalog_find_index(struct sql_txn *t, struct sql_arena *arena, const char *name,
                            struct sql_table **table, uint32_t *index_pos)
{
	struct sql_table **all;
	uint32_t n;
	*table = NULL;
	TRY(sql_catalog_list(t, arena, &all, &n));
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t k = 0; k < all[i]->index_count; k++)
			if (!strcmp(all[i]->indexes[k].name, name)) {
				*table = all[i];
				*index_pos = k;
				return NULL;
			}
	return NULL;
}

/* ---- describing ---- */

static err *append(struct buf *out, const char *s)
{
	return buf_append(out, s, strlen(s));
}

static const char *column_type_sql(const struct sql_column *c, char *tmp, size_t size)
{
	switch (c->type) {
	case SQL_BOOL: return "BOOLEAN";
	case SQL_INT: return "INTEGER";
	case SQL_FLOAT: return "FLOAT";
	case SQL_TEXT:
		if (c->max_len == SQL_VARCHAR_DEFAULT_BYTES)
			return "TEXT";
		snprintf(tmp, size, "VARCHAR(%u)", c->max_len);
		return tmp;
	default: return "?";
	}
}

static err *describe_value(const struct sql_value *v, struct buf *out)
{
	if (v->type != SQL_TEXT)
		return sql_value_format(v, out);
	TRY(append(out, "'"));
	for (uint32_t i = 0; i < v->u.s.len; i++) {
		if (v->u.s.ptr[i] == '\'')
			TRY(append(out, "'"));
		TRY(buf_append(out, &v->u.s.ptr[i], 1));
	}
	return append(out, "'");
}

err *sql_table_describe(const struct sql_table *t, struct buf *out)
{
	char tmp[64];
	TRY(append(out, "CREATE TABLE "));
	TRY(append(out, t->name));
	TRY(append(out, " (\n"));
	for (uint32_t i = 0; i < t->column_count; i++) {
		const struct sql_column *c = &t->columns[i];
		TRY(append(out, "  "));
		TRY(append(out, c->name));
		TRY(append(out, " "));
		TRY(append(out, column_type_sql(c, tmp, sizeof tmp)));
		if ((int32_t)i == t->pk)
			TRY(append(out, " PRIMARY KEY"));
		else if (c->not_null)
			TRY(append(out, " NOT NULL"));
		if (c->unique && (int32_t)i != t->pk)
			TRY(append(out, " UNIQUE"));
		if (c->has_default) {
			TRY(append(out, " DEFAULT "));
			TRY(describe_value(&c->default_value, out));
		}
		if (c->ref_table) {
			TRY(append(out, " REFERENCES "));
			TRY(append(out, c->ref_table));
		}
		TRY(append(out, i + 1 < t->column_count ? ",\n" : "\n"));
	}
	TRY(append(out, ");\n"));
	for (uint32_t i = 0; i < t->index_count; i++) {
		const struct sql_index *x = &t->indexes[i];
		if (x->column_count == 1 && t->columns[x->columns[0]].unique &&
		    !strncmp(x->name, "sql_unique_", 11))
			continue; /* the index behind a UNIQUE column constraint */
		TRY(append(out, x->unique ? "CREATE UNIQUE INDEX " : "CREATE INDEX "));
		TRY(append(out, x->name));
		TRY(append(out, " ON "));
		TRY(append(out, t->name));
		TRY(append(out, " ("));
		for (uint32_t k = 0; k < x->column_count; k++) {
			TRY(append(out, t->columns[x->columns[k]].name));
			TRY(append(out, k + 1 < x->column_count ? ", " : ""));
		}
		TRY(append(out, ");\n"));
	}
	return NULL;
}
