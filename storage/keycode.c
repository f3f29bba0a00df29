/*
 * keycode.c — the order-preserving encoding of keycode.h.
 *
 * Why the transformations order correctly:
 *   - two's complement integers order as unsigned once the sign bit is flipped (INT64_MIN
 *     becomes 0x00.., -1 becomes 0x7f.., 0 becomes 0x80..);
 *   - IEEE-754 doubles of the same sign order like their magnitudes' bit patterns; flipping
 *     the sign bit of positives lifts them above all negatives, and flipping every bit of
 *     negatives reverses their order (a larger magnitude is a smaller number);
 *   - in an escaped string the terminator 0x00 0x01 is below every continuation (0x00 0xFF
 *     for a NUL, or any byte >= 0x01), so a string sorts before its extensions, and an
 *     escaped NUL sorts below any other byte as 0x00 does.
 */
#include "storage/keycode.h"

#include <assert.h>
#include <math.h>
#include <string.h>

#define KEYCODE_SIGN ((uint64_t)1 << 63)
#define KEYCODE_NAN_BITS ((uint64_t)0x7ff8000000000000)

static err *keycode__tagged_u64(struct buf *out, enum keycode_type tag, uint64_t v)
{
	uint8_t b[9];
	b[0] = (uint8_t)tag;
	store_u64be(b + 1, v);
	return buf_append(out, b, sizeof b);
}

err *keycode_put_null(struct buf *out)
{
	uint8_t tag = KEYCODE_NULL;
	return buf_append(out, &tag, 1);
}

err *keycode_put_bool(struct buf *out, bool v)
{
	uint8_t b[2] = {KEYCODE_BOOL, v ? 1 : 0};
	return buf_append(out, b, sizeof b);
}

err *keycode_put_int(struct buf *out, int64_t v)
{
	return keycode__tagged_u64(out, KEYCODE_INT, (uint64_t)v ^ KEYCODE_SIGN);
}

err *keycode_put_float(struct buf *out, double v)
{
	uint64_t bits;
	if (isnan(v))
		bits = KEYCODE_NAN_BITS;
	else if (v == 0.0)
		bits = 0; /* -0.0 and +0.0 both */
	else
		memcpy(&bits, &v, sizeof bits);
	bits = (bits & KEYCODE_SIGN) ? ~bits : bits ^ KEYCODE_SIGN;
	return keycode__tagged_u64(out, KEYCODE_FLOAT, bits);
}

/* Appends tag, escaped bytes and the terminator; the buffer is unchanged on error. */
static err *keycode__put_escaped(struct buf *out, enum keycode_type tag, struct slice s)
{
	/*
	 * Room for the worst case (every byte a NUL) when the buffer's limit allows, which
	 * spares counting the NULs first; SQL keys are full of them (every U64 and small INT).
	 */
	size_t worst = 1 + 2 * s.len + 2;
	if (worst > out->max_bytes - out->len) {
		size_t zeros = 0;
		for (size_t i = 0; i < s.len; i++)
			zeros += s.ptr[i] == 0;
		worst = 1 + s.len + zeros + 2;
	}
	TRY(buf_reserve(out, worst));
	uint8_t *p = out->data + out->len;
	*p++ = (uint8_t)tag;
	for (size_t i = 0; i < s.len; i++) {
		/* branch-free: the 0xFF is kept only after a NUL (else the next byte overwrites it) */
		uint8_t c = s.ptr[i];
		p[0] = c;
		p[1] = 0xFF;
		p += 1 + (c == 0);
	}
	*p++ = 0x00;
	*p++ = 0x01;
	out->len = (size_t)(p - out->data);
	assert(out->len <= out->cap);
	return NULL;
}

err *keycode_put_string(struct buf *out, struct slice text)
{
	return keycode__put_escaped(out, KEYCODE_STRING, text);
}

err *keycode_put_bytes(struct buf *out, struct slice bytes)
{
	return keycode__put_escaped(out, KEYCODE_BYTES, bytes);
}

err *keycode_put_u64(struct buf *out, uint64_t v)
{
	return keycode__tagged_u64(out, KEYCODE_U64, v);
}

void keycode_value_init(struct keycode_value *v)
{
	memset(v, 0, sizeof *v);
	buf_init(&v->bytes, KEYCODE_BYTES_MAX);
}

void keycode_value_free(struct keycode_value *v)
{
	buf_free(&v->bytes);
}

err *keycode_peek(struct slice cursor, enum keycode_type *type)
{
	if (cursor.len == 0)
		return err_new(ERR_DECODE, "key ends where a value was expected");
	switch (cursor.ptr[0]) {
	case KEYCODE_NULL:
	case KEYCODE_BOOL:
	case KEYCODE_INT:
	case KEYCODE_FLOAT:
	case KEYCODE_STRING:
	case KEYCODE_BYTES:
	case KEYCODE_U64: *type = (enum keycode_type)cursor.ptr[0]; return NULL;
	default: return err_new(ERR_DECODE, "unknown key type tag 0x%02x", cursor.ptr[0]);
	}
}

/* Reads the 8 bytes after the tag. */
static err *keycode__fixed8(struct slice s, uint64_t *v)
{
	if (s.len < 9)
		return err_new(ERR_DECODE, "key ends inside an 8-byte value");
	*v = load_u64be(s.ptr + 1);
	return NULL;
}

/*
 * Unescapes the string whose tag is at s.ptr[0] into out (appending); *used is set to the
 * encoded length including tag and terminator. On error out is as before.
 */
static err *keycode__unescape(struct slice s, struct buf *out, size_t *used)
{
	/* the decoded string is never longer than its encoding: reserve once, copy bytewise */
	TRY(buf_reserve(out, s.len));
	uint8_t *dst = out->data + out->len;
	size_t n = 0;
	for (size_t i = 1; i < s.len; i++) {
		uint8_t c = s.ptr[i];
		if (c != 0) {
			dst[n++] = c;
			continue;
		}
		if (i + 1 >= s.len)
			return err_new(ERR_DECODE, "string in key ends inside an escape");
		if (s.ptr[i + 1] == 0x01) {
			out->len += n;
			*used = i + 2;
			assert(*used <= s.len && out->len <= out->cap);
			return NULL;
		}
		if (s.ptr[i + 1] != 0xFF)
			return err_new(ERR_DECODE, "bad escape 0x00 0x%02x in key", s.ptr[i + 1]);
		dst[n++] = 0;
		i++;
	}
	return err_new(ERR_DECODE, "unterminated string in key");
}

err *keycode_next(struct slice *cursor, struct keycode_value *out)
{
	assert(cursor != NULL && out != NULL);
	enum keycode_type type = KEYCODE_NULL;
	TRY(keycode_peek(*cursor, &type));
	struct slice s = *cursor;
	size_t used = 0;
	uint64_t raw = 0;
	switch (type) {
	case KEYCODE_NULL: used = 1; break;
	case KEYCODE_BOOL:
		if (s.len < 2 || s.ptr[1] > 1)
			return err_new(ERR_DECODE, "bad boolean in key");
		out->b = s.ptr[1] == 1;
		used = 2;
		break;
	case KEYCODE_INT:
		TRY(keycode__fixed8(s, &raw));
		out->i = (int64_t)(raw ^ KEYCODE_SIGN);
		used = 9;
		break;
	case KEYCODE_FLOAT:
		TRY(keycode__fixed8(s, &raw));
		raw = (raw & KEYCODE_SIGN) ? raw ^ KEYCODE_SIGN : ~raw;
		memcpy(&out->f, &raw, sizeof raw);
		used = 9;
		break;
	case KEYCODE_STRING:
	case KEYCODE_BYTES:
		buf_clear(&out->bytes);
		TRY(keycode__unescape(s, &out->bytes, &used));
		break;
	case KEYCODE_U64:
		TRY(keycode__fixed8(s, &out->u));
		used = 9;
		break;
	}
	assert(used > 0 && used <= s.len);
	out->type = type;
	cursor->ptr += used;
	cursor->len -= used;
	return NULL;
}

/* ERR_TYPE unless the value at the cursor has type `want`. */
static err *keycode__expect(struct slice cursor, enum keycode_type want)
{
	enum keycode_type type = KEYCODE_NULL;
	TRY(keycode_peek(cursor, &type));
	if (type != want)
		return err_new(ERR_TYPE, "key holds type 0x%02x where 0x%02x was expected", type,
		               want);
	return NULL;
}

/*
 * Reads the fixed-size value of type `want` at the cursor (the tag, then `width` bytes,
 * big-endian) into *raw and advances past it; the errors of keycode_next(), or ERR_TYPE.
 * The typed getters sit on scan paths (every MVCC version key ends in a U64), so they read
 * the bytes directly instead of going through the generic decoder.
 */
static err *keycode__get_fixed(struct slice *cursor, enum keycode_type want, size_t width,
                               uint64_t *raw)
{
	assert(width <= 8);
	if (cursor->len == 0 || cursor->ptr[0] != (uint8_t)want) {
		err *e = keycode__expect(*cursor, want);
		assert(e != NULL); /* the tag is not `want` */
		return e;
	}
	if (cursor->len < 1 + width)
		return err_new(ERR_DECODE, width == 8 ? "key ends inside an 8-byte value"
		                                      : "bad boolean in key");
	uint64_t v = 0;
	if (width == 8)
		v = load_u64be(cursor->ptr + 1);
	else if (width == 1)
		v = cursor->ptr[1];
	*raw = v;
	cursor->ptr += 1 + width;
	cursor->len -= 1 + width;
	return NULL;
}

err *keycode_get_null(struct slice *cursor)
{
	uint64_t raw;
	return keycode__get_fixed(cursor, KEYCODE_NULL, 0, &raw);
}

err *keycode_get_bool(struct slice *cursor, bool *out)
{
	if (cursor->len >= 2 && cursor->ptr[0] == KEYCODE_BOOL && cursor->ptr[1] > 1)
		return err_new(ERR_DECODE, "bad boolean in key");
	uint64_t raw;
	TRY(keycode__get_fixed(cursor, KEYCODE_BOOL, 1, &raw));
	*out = raw == 1;
	return NULL;
}

err *keycode_get_int(struct slice *cursor, int64_t *out)
{
	uint64_t raw;
	TRY(keycode__get_fixed(cursor, KEYCODE_INT, 8, &raw));
	*out = (int64_t)(raw ^ KEYCODE_SIGN);
	return NULL;
}

err *keycode_get_float(struct slice *cursor, double *out)
{
	uint64_t raw;
	TRY(keycode__get_fixed(cursor, KEYCODE_FLOAT, 8, &raw));
	raw = (raw & KEYCODE_SIGN) ? raw ^ KEYCODE_SIGN : ~raw;
	memcpy(out, &raw, sizeof raw);
	return NULL;
}

err *keycode_get_u64(struct slice *cursor, uint64_t *out)
{
	return keycode__get_fixed(cursor, KEYCODE_U64, 8, out);
}

static err *keycode__get_escaped(struct slice *cursor, enum keycode_type want, struct buf *out)
{
	TRY(keycode__expect(*cursor, want));
	size_t used;
	TRY(keycode__unescape(*cursor, out, &used));
	cursor->ptr += used;
	cursor->len -= used;
	return NULL;
}

err *keycode_get_string(struct slice *cursor, struct buf *out)
{
	return keycode__get_escaped(cursor, KEYCODE_STRING, out);
}

err *keycode_get_bytes(struct slice *cursor, struct buf *out)
{
	return keycode__get_escaped(cursor, KEYCODE_BYTES, out);
}

err *keycode_prefix_end(struct slice prefix, struct buf *out, bool *unbounded)
{
	assert(out != NULL && unbounded != NULL);
	buf_clear(out);
	size_t n = prefix.len;
	while (n > 0 && prefix.ptr[n - 1] == 0xFF)
		n--;
	*unbounded = n == 0;
	if (n == 0)
		return NULL;
	TRY(buf_append(out, prefix.ptr, n));
	out->data[n - 1]++;
	assert(out->len == n);
	return NULL;
}
