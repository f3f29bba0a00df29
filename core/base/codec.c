#include "base/codec.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* ---- encoding ---- */

static void codec__write(struct codec_out *out, const uint8_t *bytes, size_t len)
{
	if (!out->error)
		out->error = buf_append(out->buf, bytes, len);
}

/* Writes a type byte followed by `width` big-endian bytes of v (width 0, 1, 2, 4 or 8). */
static void codec__write_head(struct codec_out *out, uint8_t type, uint64_t v, unsigned width)
{
	struct buf *b = out->buf;
	if (out->error)
		return;
	if (b->cap - b->len < 9) {
		/* near the end of the allocation: append, which grows it within its cap */
		uint8_t head[9];
		head[0] = type;
		for (unsigned i = 0; i < width; i++)
			head[1 + i] = (uint8_t)(v >> (8 * (width - 1 - i)));
		codec__write(out, head, 1 + width);
		return;
	}
	uint8_t *p = b->data + b->len;
	p[0] = type;
	switch (width) {
	case 0: break;
	case 1: p[1] = (uint8_t)v; break;
	case 2:
		p[1] = (uint8_t)(v >> 8);
		p[2] = (uint8_t)v;
		break;
	case 4: store_u32be(p + 1, (uint32_t)v); break;
	default:
		assert(width == 8);
		store_u64be(p + 1, v);
		break;
	}
	b->len += 1 + width;
}

/* A length in 8, 16 or 32 bits after one of three consecutive type bytes from `type8`. */
static void codec__write_len(struct codec_out *out, uint8_t type8, uint32_t len)
{
	if (len < 256)
		codec__write_head(out, type8, len, 1);
	else if (len < 65536)
		codec__write_head(out, (uint8_t)(type8 + 1), len, 2);
	else
		codec__write_head(out, (uint8_t)(type8 + 2), len, 4);
}

void codec_out_init(struct codec_out *out, struct buf *buf)
{
	out->buf = buf;
	out->error = NULL;
}

void codec_put_array(struct codec_out *out, uint32_t count)
{
	if (count < 16)
		codec__write_head(out, (uint8_t)(0x90 | count), 0, 0);
	else if (count < 65536)
		codec__write_head(out, 0xdc, count, 2);
	else
		codec__write_head(out, 0xdd, count, 4);
}

void codec_put_nil(struct codec_out *out)
{
	codec__write_head(out, 0xc0, 0, 0);
}

void codec_put_bool(struct codec_out *out, bool v)
{
	codec__write_head(out, v ? 0xc3 : 0xc2, 0, 0);
}

void codec_put_u64(struct codec_out *out, uint64_t v)
{
	if (v < 128)
		codec__write_head(out, (uint8_t)v, 0, 0);
	else if (v < 256)
		codec__write_head(out, 0xcc, v, 1);
	else if (v < 65536)
		codec__write_head(out, 0xcd, v, 2);
	else if (v <= UINT32_MAX)
		codec__write_head(out, 0xce, v, 4);
	else
		codec__write_head(out, 0xcf, v, 8);
}

void codec_put_i64(struct codec_out *out, int64_t v)
{
	if (v >= -32) {
		if (v < 128)
			codec__write_head(out, (uint8_t)(v & 0xff), 0, 0);
		else
			codec_put_u64(out, (uint64_t)v);
	} else if (v >= INT8_MIN) {
		codec__write_head(out, 0xd0, (uint64_t)v, 1);
	} else if (v >= INT16_MIN) {
		codec__write_head(out, 0xd1, (uint64_t)v, 2);
	} else if (v >= INT32_MIN) {
		codec__write_head(out, 0xd2, (uint64_t)v, 4);
	} else {
		codec__write_head(out, 0xd3, (uint64_t)v, 8);
	}
}

void codec_put_f64(struct codec_out *out, double v)
{
	uint64_t bits;
	memcpy(&bits, &v, sizeof bits);
	codec__write_head(out, 0xcb, bits, 8);
}

void codec_put_str(struct codec_out *out, const char *s, size_t len)
{
	if (len > UINT32_MAX) {
		if (!out->error)
			out->error = err_new(ERR_LIMIT, "string of %zu bytes is too long", len);
		return;
	}
	if (len < 32)
		codec__write_head(out, (uint8_t)(0xa0 | len), 0, 0);
	else
		codec__write_len(out, 0xd9, (uint32_t)len);
	codec__write(out, (const uint8_t *)s, len);
}

void codec_put_bin(struct codec_out *out, const void *bytes, size_t len)
{
	if (len > UINT32_MAX) {
		if (!out->error)
			out->error = err_new(ERR_LIMIT, "binary of %zu bytes is too long", len);
		return;
	}
	codec__write_len(out, 0xc4, (uint32_t)len);
	codec__write(out, bytes, len);
}

err *codec_out_end(struct codec_out *out)
{
	err *e = out->error;
	out->error = NULL;
	return e;
}

/* ---- validation ---- */

struct codec__scan {
	const uint8_t *pos;
	const uint8_t *end;
};

static bool codec__take(struct codec__scan *s, size_t n, const uint8_t **bytes)
{
	if ((size_t)(s->end - s->pos) < n)
		return false;
	*bytes = s->pos;
	s->pos += n;
	return true;
}

static uint64_t codec__be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

/*
 * Reads one value header. For a container, *children is how many values follow inside it
 * (2 per map entry); scalars and payloads are skipped entirely. Returns an error message or
 * NULL.
 */
static const char *codec__header(struct codec__scan *s, uint64_t *children)
{
	const uint8_t *p;
	*children = 0;
	if (!codec__take(s, 1, &p))
		return "truncated";
	uint8_t t = p[0];
	size_t width = 0; /* bytes of length or scalar after the type byte */
	uint64_t payload = 0;
	if (t <= 0x7f || t >= 0xe0 || (t >= 0xc0 && t <= 0xc3 && t != 0xc1))
		return NULL;
	if (t >= 0x80 && t <= 0x8f) {
		*children = 2u * (t & 0x0f);
		return NULL;
	}
	if (t >= 0x90 && t <= 0x9f) {
		*children = t & 0x0f;
		return NULL;
	}
	if (t >= 0xa0 && t <= 0xbf) {
		payload = t & 0x1f;
		goto skip_payload;
	}
	switch (t) {
	case 0xca: width = 4; break;
	case 0xcb: width = 8; break;
	case 0xcc:
	case 0xd0: width = 1; break;
	case 0xcd:
	case 0xd1: width = 2; break;
	case 0xce:
	case 0xd2: width = 4; break;
	case 0xcf:
	case 0xd3: width = 8; break;
	case 0xc4:
	case 0xd9: width = 1; goto sized;
	case 0xc5:
	case 0xda: width = 2; goto sized;
	case 0xc6:
	case 0xdb: width = 4; goto sized;
	case 0xdc:
	case 0xde: width = 2; goto container;
	case 0xdd:
	case 0xdf: width = 4; goto container;
	default: return "unsupported type";
	}
	if (!codec__take(s, width, &p))
		return "truncated";
	return NULL;
sized:
	if (!codec__take(s, width, &p))
		return "truncated";
	payload = codec__be(p, width);
	goto skip_payload;
container:
	if (!codec__take(s, width, &p))
		return "truncated";
	*children = codec__be(p, width) * ((t == 0xde || t == 0xdf) ? 2 : 1);
	/* every child needs at least one byte */
	if (*children > (uint64_t)(s->end - s->pos))
		return "container larger than the input";
	return NULL;
skip_payload:
	if (payload > (uint64_t)(s->end - s->pos))
		return "truncated";
	s->pos += payload;
	return NULL;
}

/*
 * Checks that bytes hold exactly one well-formed value within the depth bound; *values is
 * how many values lie below the root.
 */
static err *codec__validate(const uint8_t *bytes, size_t len, uint64_t *values)
{
	struct codec__scan s = {bytes, bytes + len};
	uint64_t pending[CODEC_MAX_DEPTH + 1]; /* values still to read at each open level */
	int depth = 0;
	pending[0] = 1;
	*values = 0;
	for (;;) {
		while (depth > 0 && pending[depth] == 0)
			depth--;
		if (pending[depth] == 0)
			break;
		pending[depth]--;
		uint64_t children;
		const char *why = codec__header(&s, &children);
		if (why)
			return err_new(ERR_DECODE, "malformed msgpack at byte %zu: %s",
			               (size_t)(s.pos - bytes), why);
		if (children > 0) {
			if (depth == CODEC_MAX_DEPTH)
				return err_new(ERR_DECODE, "msgpack nested deeper than %d",
				               CODEC_MAX_DEPTH);
			pending[++depth] = children;
			*values += children;
		}
	}
	if (s.pos != s.end)
		return err_new(ERR_DECODE, "%zu trailing bytes after msgpack value",
		               (size_t)(s.end - s.pos));
	return NULL;
}

/* Reads `width` big-endian bytes at *p as a signed integer of that width. */
static int64_t codec__be_signed(const uint8_t *p, size_t width)
{
	uint64_t v = codec__be(p, width);
	unsigned shift = (unsigned)(64 - 8 * width);
	return (int64_t)(v << shift) >> shift;
}

static void codec__set_int(msgpack_object *o, int64_t v)
{
	if (v < 0) {
		o->type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
		o->via.i64 = v;
	} else {
		o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
		o->via.u64 = (uint64_t)v;
	}
}

/*
 * Decodes the value at *p, already validated, into o and advances *p past its header (and
 * past its payload for strings and binaries). For an array or a map, *children is how
 * many values follow inside it (2 per map entry) and o's pointer is left for the caller.
 */
static void codec__read_value(const uint8_t **p, msgpack_object *o, uint64_t *children)
{
	const uint8_t *b = *p;
	uint8_t t = *b++;
	uint64_t len = 0;
	*children = 0;
	if (t <= 0x7f) {
		o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
		o->via.u64 = t;
	} else if (t >= 0xe0) {
		o->type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
		o->via.i64 = (int8_t)t;
	} else if (t <= 0x8f) {
		o->type = MSGPACK_OBJECT_MAP;
		o->via.map.size = t & 0x0f;
		*children = 2u * o->via.map.size;
	} else if (t <= 0x9f) {
		o->type = MSGPACK_OBJECT_ARRAY;
		o->via.array.size = t & 0x0f;
		*children = o->via.array.size;
	} else if (t <= 0xbf) {
		o->type = MSGPACK_OBJECT_STR;
		len = t & 0x1f;
	} else {
		switch (t) {
		case 0xc0: o->type = MSGPACK_OBJECT_NIL; break;
		case 0xc2:
		case 0xc3:
			o->type = MSGPACK_OBJECT_BOOLEAN;
			o->via.boolean = t == 0xc3;
			break;
		case 0xc4:
		case 0xc5:
		case 0xc6: {
			size_t w = (size_t)1 << (t - 0xc4);
			o->type = MSGPACK_OBJECT_BIN;
			len = codec__be(b, w);
			b += w;
			break;
		}
		case 0xca: {
			uint32_t bits = (uint32_t)codec__be(b, 4);
			float f;
			memcpy(&f, &bits, sizeof f);
			o->type = MSGPACK_OBJECT_FLOAT32;
			o->via.f64 = f;
			b += 4;
			break;
		}
		case 0xcb: {
			uint64_t bits = codec__be(b, 8);
			o->type = MSGPACK_OBJECT_FLOAT64;
			memcpy(&o->via.f64, &bits, sizeof bits);
			b += 8;
			break;
		}
		case 0xcc:
		case 0xcd:
		case 0xce:
		case 0xcf: {
			size_t w = (size_t)1 << (t - 0xcc);
			o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
			o->via.u64 = codec__be(b, w);
			b += w;
			break;
		}
		case 0xd0:
		case 0xd1:
		case 0xd2:
		case 0xd3: {
			size_t w = (size_t)1 << (t - 0xd0);
			codec__set_int(o, codec__be_signed(b, w));
			b += w;
			break;
		}
		case 0xd9:
		case 0xda:
		case 0xdb: {
			size_t w = (size_t)1 << (t - 0xd9);
			o->type = MSGPACK_OBJECT_STR;
			len = codec__be(b, w);
			b += w;
			break;
		}
		case 0xdc:
		case 0xdd: {
			size_t w = t == 0xdc ? 2 : 4;
			o->type = MSGPACK_OBJECT_ARRAY;
			o->via.array.size = (uint32_t)codec__be(b, w);
			*children = o->via.array.size;
			b += w;
			break;
		}
		default: {
			assert(t == 0xde || t == 0xdf);
			size_t w = t == 0xde ? 2 : 4;
			o->type = MSGPACK_OBJECT_MAP;
			o->via.map.size = (uint32_t)codec__be(b, w);
			*children = 2u * (uint64_t)o->via.map.size;
			b += w;
			break;
		}
		}
	}
	if (o->type == MSGPACK_OBJECT_STR) {
		o->via.str.size = (uint32_t)len;
		o->via.str.ptr = (const char *)b;
	} else if (o->type == MSGPACK_OBJECT_BIN) {
		o->via.bin.size = (uint32_t)len;
		o->via.bin.ptr = (const char *)b;
	}
	b += len;
	*p = b;
}

/*
 * Builds the tree of a validated value into doc; `store` has room for every value below
 * the root. A container's elements are consecutive in `store` (a map's as key, value).
 */
static void codec__build(struct codec_doc *doc, const uint8_t *bytes, msgpack_object *store)
{
	struct {
		msgpack_object *next; /* the next object to fill at this level */
		uint64_t left;
	} level[CODEC_MAX_DEPTH + 1];
	const uint8_t *p = bytes;
	msgpack_object *free_slot = store;
	int depth = 0;
	level[0].next = &doc->root;
	level[0].left = 1;
	for (;;) {
		while (depth > 0 && level[depth].left == 0)
			depth--;
		if (level[depth].left == 0)
			break;
		level[depth].left--;
		msgpack_object *o = level[depth].next++;
		uint64_t children;
		codec__read_value(&p, o, &children);
		if (o->type == MSGPACK_OBJECT_ARRAY)
			o->via.array.ptr = children ? free_slot : NULL;
		else if (o->type == MSGPACK_OBJECT_MAP)
			o->via.map.ptr = children ? (msgpack_object_kv *)free_slot : NULL;
		if (children > 0) {
			assert(depth < CODEC_MAX_DEPTH);
			level[++depth].next = free_slot;
			level[depth].left = children;
			free_slot += children;
		}
	}
}

err *codec_parse(struct codec_doc *doc, const void *bytes, size_t len, const msgpack_object **root)
{
	doc->heap = NULL;
	*root = NULL;
	uint64_t values;
	TRY(codec__validate(bytes, len, &values));
	msgpack_object *store = doc->inline_values;
	if (values > CODEC_DOC_INLINE) {
		/* every value takes at least one byte, so this is bounded by the input */
		doc->heap = malloc((size_t)values * sizeof *doc->heap);
		if (!doc->heap)
			return err_new(ERR_NOMEM, "parsing %zu msgpack values", (size_t)values);
		store = doc->heap;
	}
	codec__build(doc, bytes, store);
	*root = &doc->root;
	return NULL;
}

void codec_doc_free(struct codec_doc *doc)
{
	free(doc->heap);
	doc->heap = NULL;
}

/* ---- typed reading ---- */

static void codec__fail(struct codec_in *in, const char *what)
{
	if (!in->error)
		in->error = err_new(ERR_DECODE, "field %u: %s", in->next, what);
}

void codec_in_fail(struct codec_in *in, const char *what)
{
	codec__fail(in, what);
}

void codec_in_init(struct codec_in *in, const msgpack_object *obj, uint32_t min_count,
                   uint32_t max_count)
{
	in->items = NULL;
	in->count = 0;
	in->next = 0;
	in->error = NULL;
	if (!obj || obj->type != MSGPACK_OBJECT_ARRAY) {
		in->error = err_new(ERR_DECODE, "expected an array");
		return;
	}
	if (obj->via.array.size < min_count || obj->via.array.size > max_count) {
		in->error = err_new(ERR_DECODE, "array of %u elements, expected %u to %u",
		                    obj->via.array.size, min_count, max_count);
		return;
	}
	in->items = obj->via.array.ptr;
	in->count = obj->via.array.size;
}

uint32_t codec_in_remaining(const struct codec_in *in)
{
	return in->error ? 0 : in->count - in->next;
}

/* Returns the next element, or NULL (recording an error) when there is none. */
static const msgpack_object *codec__next(struct codec_in *in)
{
	if (in->error)
		return NULL;
	if (in->next >= in->count) {
		codec__fail(in, "missing");
		return NULL;
	}
	return &in->items[in->next++];
}

uint64_t codec_get_u64(struct codec_in *in)
{
	const msgpack_object *o = codec__next(in);
	if (!o)
		return 0;
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
		codec__fail(in, "expected an unsigned integer");
		return 0;
	}
	return o->via.u64;
}

int64_t codec_get_i64(struct codec_in *in)
{
	const msgpack_object *o = codec__next(in);
	if (!o)
		return 0;
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		return o->via.i64;
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT64_MAX)
		return (int64_t)o->via.u64;
	codec__fail(in, "expected a signed 64-bit integer");
	return 0;
}

double codec_get_f64(struct codec_in *in)
{
	const msgpack_object *o = codec__next(in);
	if (!o)
		return 0;
	if (o->type != MSGPACK_OBJECT_FLOAT64 && o->type != MSGPACK_OBJECT_FLOAT32) {
		codec__fail(in, "expected a float");
		return 0;
	}
	return o->via.f64;
}

bool codec_get_bool(struct codec_in *in)
{
	const msgpack_object *o = codec__next(in);
	if (!o)
		return false;
	if (o->type != MSGPACK_OBJECT_BOOLEAN) {
		codec__fail(in, "expected a boolean");
		return false;
	}
	return o->via.boolean;
}

static struct slice codec__bytes(struct codec_in *in, size_t max_len, msgpack_object_type type)
{
	const msgpack_object *o = codec__next(in);
	if (!o)
		return (struct slice){NULL, 0};
	if (o->type != type) {
		codec__fail(in,
		            type == MSGPACK_OBJECT_STR ? "expected a string" : "expected binary");
		return (struct slice){NULL, 0};
	}
	/* str and bin share a layout in msgpack-c */
	uint32_t size = type == MSGPACK_OBJECT_STR ? o->via.str.size : o->via.bin.size;
	const char *ptr = type == MSGPACK_OBJECT_STR ? o->via.str.ptr : o->via.bin.ptr;
	if (size > max_len) {
		codec__fail(in, "too long");
		return (struct slice){NULL, 0};
	}
	return (struct slice){(const uint8_t *)ptr, size};
}

struct slice codec_get_str(struct codec_in *in, size_t max_len)
{
	return codec__bytes(in, max_len, MSGPACK_OBJECT_STR);
}

struct slice codec_get_bin(struct codec_in *in, size_t max_len)
{
	return codec__bytes(in, max_len, MSGPACK_OBJECT_BIN);
}

bool codec_get_nil(struct codec_in *in)
{
	if (in->error || in->next >= in->count)
		return false;
	if (in->items[in->next].type != MSGPACK_OBJECT_NIL)
		return false;
	in->next++;
	return true;
}

void codec_get_array(struct codec_in *in, struct codec_in *sub, uint32_t min_count,
                     uint32_t max_count)
{
	const msgpack_object *o = codec__next(in);
	if (!o) {
		codec_in_init(sub, NULL, 0, 0);
		err_free(sub->error);
		sub->error = err_new(ERR_DECODE, "enclosing array failed");
		return;
	}
	codec_in_init(sub, o, min_count, max_count);
}

const msgpack_object *codec_get_object(struct codec_in *in)
{
	return codec__next(in);
}

err *codec_in_end(struct codec_in *in, bool allow_extra)
{
	err *e = in->error;
	in->error = NULL;
	if (!e && !allow_extra && in->next != in->count)
		e = err_new(ERR_DECODE, "%u unexpected trailing fields", in->count - in->next);
	return e;
}

/* ---- reading a known layout ---- */

void codec_reader_init(struct codec_reader *r, const void *bytes, size_t len)
{
	r->start = bytes;
	r->pos = bytes;
	r->end = r->pos + len;
	r->error = NULL;
}

void codec_reader_fail(struct codec_reader *r, const char *what)
{
	if (!r->error)
		r->error = err_new(ERR_DECODE, "msgpack at byte %zu: %s",
		                   (size_t)(r->pos - r->start), what);
}

void codec_reader_nomem(struct codec_reader *r, const char *what)
{
	if (!r->error)
		r->error = err_new(ERR_NOMEM, "msgpack at byte %zu: no memory for %s",
		                   (size_t)(r->pos - r->start), what);
}

size_t codec_reader_remaining(const struct codec_reader *r)
{
	return r->error ? 0 : (size_t)(r->end - r->pos);
}

/* Takes n bytes, or records a truncation and returns NULL. */
static const uint8_t *codec__take_bytes(struct codec_reader *r, size_t n)
{
	if (r->error)
		return NULL;
	if ((size_t)(r->end - r->pos) < n) {
		codec_reader_fail(r, "truncated");
		return NULL;
	}
	const uint8_t *p = r->pos;
	r->pos += n;
	return p;
}

uint32_t codec_read_array(struct codec_reader *r, uint32_t min_count, uint32_t max_count)
{
	const uint8_t *p = codec__take_bytes(r, 1);
	if (!p)
		return 0;
	uint64_t n;
	if (*p >= 0x90 && *p <= 0x9f) {
		n = *p & 0x0f;
	} else if (*p == 0xdc || *p == 0xdd) {
		size_t w = *p == 0xdc ? 2 : 4;
		const uint8_t *q = codec__take_bytes(r, w);
		if (!q)
			return 0;
		n = codec__be(q, w);
	} else {
		codec_reader_fail(r, "expected an array");
		return 0;
	}
	if (n < min_count || n > max_count) {
		codec_reader_fail(r, "array of an unexpected length");
		return 0;
	}
	/* every element needs at least one byte */
	if (n > (uint64_t)(r->end - r->pos)) {
		codec_reader_fail(r, "array larger than the input");
		return 0;
	}
	return (uint32_t)n;
}

uint64_t codec_read_u64(struct codec_reader *r)
{
	const uint8_t *p = codec__take_bytes(r, 1);
	if (!p)
		return 0;
	uint8_t t = *p;
	if (t <= 0x7f)
		return t;
	if (t >= 0xcc && t <= 0xd3) {
		size_t w = (size_t)1 << ((t - 0xcc) & 3);
		const uint8_t *q = codec__take_bytes(r, w);
		if (!q)
			return 0;
		if (t <= 0xcf)
			return codec__be(q, w);
		int64_t v = codec__be_signed(q, w);
		if (v >= 0)
			return (uint64_t)v;
	}
	codec_reader_fail(r, "expected an unsigned integer");
	return 0;
}

bool codec_read_bool(struct codec_reader *r)
{
	const uint8_t *p = codec__take_bytes(r, 1);
	if (!p)
		return false;
	if (*p != 0xc2 && *p != 0xc3) {
		codec_reader_fail(r, "expected a boolean");
		return false;
	}
	return *p == 0xc3;
}

struct slice codec_read_bin(struct codec_reader *r, size_t max_len)
{
	const uint8_t *p = codec__take_bytes(r, 1);
	if (!p)
		return (struct slice){NULL, 0};
	if (*p < 0xc4 || *p > 0xc6) {
		codec_reader_fail(r, "expected binary");
		return (struct slice){NULL, 0};
	}
	size_t w = (size_t)1 << (*p - 0xc4);
	const uint8_t *q = codec__take_bytes(r, w);
	if (!q)
		return (struct slice){NULL, 0};
	uint64_t len = codec__be(q, w);
	if (len > max_len) {
		codec_reader_fail(r, "too long");
		return (struct slice){NULL, 0};
	}
	const uint8_t *body = codec__take_bytes(r, (size_t)len);
	return body ? (struct slice){body, (size_t)len} : (struct slice){NULL, 0};
}

bool codec_read_nil(struct codec_reader *r)
{
	if (r->error || r->pos == r->end || *r->pos != 0xc0)
		return false;
	r->pos++;
	return true;
}

err *codec_reader_end(struct codec_reader *r)
{
	if (!r->error && r->pos != r->end)
		codec_reader_fail(r, "trailing bytes after the value");
	err *e = r->error;
	r->error = NULL;
	return e;
}
