/*
 * row.c — row encoding (see row.h).
 */
#include "sql/row.h"

#include <assert.h>
#include <string.h>

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

/*
 * ---- decoding ----
 *
 * Rows are decoded straight from the bytes rather than through msgpack-c's object tree:
 * a scan decodes every row it reads, and building a tree costs an allocation per row. The
 * reader accepts exactly the msgpack forms of the five value kinds (any integer width,
 * float32/64, str8/16/32 and fixstr) inside one array header, and checks every length
 * against the bytes present.
 */

struct row_reader {
	const uint8_t *at, *end;
};

/* Reads an n-byte big-endian unsigned integer; false when the bytes run out. */
static bool read_be(struct row_reader *r, uint32_t n, uint64_t *out)
{
	assert(n == 1 || n == 2 || n == 4 || n == 8);
	if ((size_t)(r->end - r->at) < n)
		return false;
	const uint8_t *p = r->at;
	switch (n) {
	case 1: *out = p[0]; break;
	case 2: *out = (uint64_t)p[0] << 8 | p[1]; break;
	case 4: *out = load_u32be(p); break;
	default: *out = load_u64be(p); break;
	}
	r->at += n;
	return true;
}

/* The element count of the array header at the reader; false if it is not one. */
static bool read_array_header(struct row_reader *r, uint64_t *count)
{
	if (r->at >= r->end)
		return false;
	uint8_t tag = *r->at++;
	if (tag >= 0x90 && tag <= 0x9f) {
		*count = tag & 0x0f;
		return true;
	}
	if (tag == 0xdc || tag == 0xdd)
		return read_be(r, tag == 0xdc ? 2 : 4, count);
	return false;
}

static err *bad_value(uint32_t i)
{
	return err_new(ERR_DECODE, "field %u: not a stored value", i);
}

/* Decodes value number i of a row into *out (owned). */
static err *read_value(struct row_reader *r, uint32_t i, struct sql_value *out)
{
	*out = sql_null();
	if (r->at >= r->end)
		return bad_value(i);
	uint8_t tag = *r->at++;
	uint64_t u;
	if (tag <= 0x7f) {
		*out = sql_int(tag);
		return NULL;
	}
	if (tag >= 0xe0) {
		*out = sql_int((int8_t)tag);
		return NULL;
	}
	if (tag >= 0xa0 && tag <= 0xbf) {
		u = tag & 0x1f;
	} else {
		static const uint8_t widths[] = {
		    [0xcc - 0xc0] = 1, [0xcd - 0xc0] = 2, [0xce - 0xc0] = 4, [0xcf - 0xc0] = 8,
		    [0xd0 - 0xc0] = 1, [0xd1 - 0xc0] = 2, [0xd2 - 0xc0] = 4, [0xd3 - 0xc0] = 8,
		    [0xca - 0xc0] = 4, [0xcb - 0xc0] = 8, [0xd9 - 0xc0] = 1, [0xda - 0xc0] = 2,
		    [0xdb - 0xc0] = 4,
		};
		if (tag == 0xc0)
			return NULL;
		if (tag == 0xc2 || tag == 0xc3) {
			*out = sql_bool(tag == 0xc3);
			return NULL;
		}
		if (tag < 0xc0 || tag > 0xdb || !widths[tag - 0xc0] ||
		    !read_be(r, widths[tag - 0xc0], &u))
			return bad_value(i);
	}
	switch (tag) {
	case 0xcc:
	case 0xcd:
	case 0xce:
	case 0xcf:
		if (u > INT64_MAX)
			return err_new(ERR_DECODE, "stored integer out of range");
		*out = sql_int((int64_t)u);
		return NULL;
	case 0xd0: *out = sql_int((int8_t)u); return NULL;
	case 0xd1: *out = sql_int((int16_t)u); return NULL;
	case 0xd2: *out = sql_int((int32_t)u); return NULL;
	case 0xd3: *out = sql_int((int64_t)u); return NULL;
	case 0xca: {
		uint32_t bits = (uint32_t)u;
		float f;
		memcpy(&f, &bits, sizeof f);
		*out = sql_float(f);
		return NULL;
	}
	case 0xcb: {
		double d;
		memcpy(&d, &u, sizeof d);
		*out = sql_float(d);
		return NULL;
	}
	default: /* a string of u bytes */
		if ((uint64_t)(r->end - r->at) < u)
			return bad_value(i);
		r->at += u;
		return sql_text((const char *)r->at - u, (size_t)u, out);
	}
}

/*
 * The common row of small integers (a fixarray of fixints, uint8, 16 and 32): decoded in
 * one tight loop. False if the row is anything else; values[] then holds only integers,
 * which own nothing, and the general decoder starts over.
 */
static bool decode_small_ints(struct slice bytes, struct sql_value *values, uint32_t count)
{
	const uint8_t *at = bytes.ptr, *end = at + bytes.len;
	if (count > 15 || at == end || *at != 0x90 + count)
		return false;
	at++;
	for (uint32_t i = 0; i < count; i++) {
		if (at == end)
			return false;
		uint8_t tag = *at;
		int64_t v;
		if (tag <= 0x7f) {
			v = tag;
			at += 1;
		} else if (tag == 0xcc && end - at >= 2) {
			v = at[1];
			at += 2;
		} else if (tag == 0xcd && end - at >= 3) {
			v = (int64_t)at[1] << 8 | at[2];
			at += 3;
		} else if (tag == 0xce && end - at >= 5) {
			v = load_u32be(at + 1);
			at += 5;
		} else {
			return false;
		}
		/* field by field: a whole-struct copy from a temporary stalls on store forwarding */
		values[i].type = SQL_INT;
		values[i].u.i = v;
	}
	return at == end;
}

err *sql_row_decode(struct slice bytes, struct sql_value *values, uint32_t count)
{
	if (decode_small_ints(bytes, values, count))
		return NULL;
	struct row_reader r = {bytes.ptr, (const uint8_t *)bytes.ptr + bytes.len};
	uint64_t n;
	err *e = NULL;
	uint32_t decoded = 0; /* values[0, decoded) are set */
	if (!read_array_header(&r, &n))
		e = err_new(ERR_DECODE, "not an array");
	else if (n != count)
		e = err_new(ERR_DECODE, "%llu values for %u columns", (unsigned long long)n, count);
	for (; decoded < count && !e; decoded++)
		e = read_value(&r, decoded, &values[decoded]); /* sets the value even on error */
	if (!e && r.at != r.end)
		e = err_new(ERR_DECODE, "trailing bytes");
	if (!e)
		return NULL;
	sql_values_free(values, decoded);
	for (uint32_t i = 0; i < count; i++)
		values[i] = sql_null();
	return err_wrap(e, "stored row");
}
