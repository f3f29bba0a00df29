/*
 * keys.c — the SQL engine's key layout over storage/keycode.h (see keys.h).
 */
#include "sql/keys.h"

#include <assert.h>
#include <string.h>

#include "storage/keycode.h"

err *sql_key_put_value(struct buf *out, const struct sql_value *v)
{
	switch (v->type) {
	case SQL_NULL: return keycode_put_null(out);
	case SQL_BOOL: return keycode_put_bool(out, v->u.b);
	case SQL_INT: return keycode_put_int(out, v->u.i);
	case SQL_FLOAT: return keycode_put_float(out, v->u.f);
	case SQL_TEXT: return keycode_put_string(out, slice_of(v->u.s.ptr, v->u.s.len));
	}
	return err_new(ERR_INTERNAL, "unknown value type %d", (int)v->type);
}

err *sql_key_get_value(struct slice *cursor, struct sql_value *out)
{
	struct keycode_value kv;
	keycode_value_init(&kv);
	*out = sql_null();
	err *e = keycode_next(cursor, &kv);
	if (!e) {
		switch (kv.type) {
		case KEYCODE_NULL: break;
		case KEYCODE_BOOL: *out = sql_bool(kv.b); break;
		case KEYCODE_INT: *out = sql_int(kv.i); break;
		case KEYCODE_FLOAT: *out = sql_float(kv.f); break;
		case KEYCODE_STRING:
			e = sql_text(kv.bytes.len ? (const char *)kv.bytes.data : "", kv.bytes.len,
			             out);
			break;
		default: e = err_new(ERR_DECODE, "unexpected key value type 0x%x", kv.type);
		}
	}
	keycode_value_free(&kv);
	return e;
}

static err *space(struct buf *out, enum sql_key_space s)
{
	buf_clear(out);
	return keycode_put_u64(out, (uint64_t)s);
}

err *sql_key_catalog(struct buf *out, const char *table_name)
{
	TRY(space(out, SQL_KEYS_CATALOG));
	return keycode_put_string(out, slice_of(table_name, strlen(table_name)));
}

err *sql_key_catalog_prefix(struct buf *out)
{
	return space(out, SQL_KEYS_CATALOG);
}

err *sql_key_id_counter(struct buf *out)
{
	return space(out, SQL_KEYS_ID_COUNTER);
}

err *sql_key_rowid_counter(struct buf *out, uint64_t table_id)
{
	TRY(space(out, SQL_KEYS_ROWID_COUNTER));
	return keycode_put_u64(out, table_id);
}

err *sql_key_row_prefix(struct buf *out, uint64_t table_id)
{
	TRY(space(out, SQL_KEYS_ROW));
	return keycode_put_u64(out, table_id);
}

err *sql_key_row(struct buf *out, uint64_t table_id, const struct sql_value *pk)
{
	TRY(sql_key_row_prefix(out, table_id));
	err *e = sql_key_put_value(out, pk);
	if (err_is(e, ERR_LIMIT)) {
		err_free(e);
		return err_new(ERR_LIMIT, "primary key value too long for a key (at most %d bytes)",
		               SQL_KEY_MAX_BYTES);
	}
	return e;
}

err *sql_key_index_prefix(struct buf *out, uint64_t index_id)
{
	TRY(space(out, SQL_KEYS_INDEX));
	return keycode_put_u64(out, index_id);
}

err *sql_key_prefix_end(struct slice prefix, struct buf *end)
{
	bool unbounded = false;
	TRY(keycode_prefix_end(prefix, end, &unbounded));
	/* every prefix we build starts with a namespace tag, so it always has an end */
	assert(!unbounded);
	if (unbounded)
		return err_new(ERR_INTERNAL, "key prefix without an end");
	return NULL;
}
