/*
 * row.c — row encoding (see row.h).
 */
#include "sql/row.h"

#include <assert.h>

void sql_row_put_value(struct codec_out *out, const struct sql_value *v)
{
	switch (v->type) {
	case SQL_NULL: codec_put_nil(out); break;
	case SQL_BOOL: codec_put_bool(out, v->u.b); break;
	case SQL_INT: codec_put_i64(out, v->u.i); break;
	case SQL_FLOAT: codec_put_f64(out, v->u.f); break;
	case SQL_TEXT: codec_put_str(out, v->u.s.ptr, v->u.s.len); break;
	}
}

err *sql_row_get_value(const msgpack_object *o, struct sql_value *out)
{
	*out = sql_null();
	switch (o->type) {
	case MSGPACK_OBJECT_NIL: return NULL;
	case MSGPACK_OBJECT_BOOLEAN: *out = sql_bool(o->via.boolean); return NULL;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		if (o->via.u64 > INT64_MAX)
			return err_new(ERR_DECODE, "stored integer out of range");
		*out = sql_int((int64_t)o->via.u64);
		return NULL;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER: *out = sql_int(o->via.i64); return NULL;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64: *out = sql_float(o->via.f64); return NULL;
	case MSGPACK_OBJECT_STR: return sql_text(o->via.str.ptr, o->via.str.size, out);
	default: return err_new(ERR_DECODE, "stored value of msgpack type %d", (int)o->type);
	}
}

err *sql_row_encode(const struct sql_value *values, uint32_t count, struct buf *out)
{
	buf_clear(out);
	struct codec_out co;
	codec_out_init(&co, out);
	codec_put_array(&co, count);
	for (uint32_t i = 0; i < count; i++)
		sql_row_put_value(&co, &values[i]);
	return codec_out_end(&co);
}

err *sql_row_decode(struct slice bytes, struct sql_value *values, uint32_t count)
{
	for (uint32_t i = 0; i < count; i++)
		values[i] = sql_null();
	struct codec_doc doc;
	const msgpack_object *root;
	TRY(codec_parse(&doc, bytes.ptr, bytes.len, &root));
	struct codec_in in;
	codec_in_init(&in, root, count, count);
	err *e = NULL;
	for (uint32_t i = 0; i < count && !e; i++) {
		const msgpack_object *o = codec_get_object(&in);
		if (!o)
			break;
		e = sql_row_get_value(o, &values[i]);
	}
	err *e2 = codec_in_end(&in, false);
	if (!e)
		e = e2;
	else
		err_free(e2);
	codec_doc_free(&doc);
	if (e)
		sql_values_free(values, count);
	return err_wrap(e, "stored row");
}
