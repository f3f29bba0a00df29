#include "base/codec.h"

#include <assert.h>
#include <string.h>

/* ---- encoding ---- */

static int codec__write(void *data, const char *bytes, size_t len)
{
	struct codec_out *out = data;
	if (out->error)
		return -1;
	out->error = buf_append(out->buf, bytes, len);
	return out->error ? -1 : 0;
}

void codec_out_init(struct codec_out *out, struct buf *buf)
{
	out->buf = buf;
	out->error = NULL;
	msgpack_packer_init(&out->packer, out, codec__write);
}

void codec_put_array(struct codec_out *out, uint32_t count)
{
	msgpack_pack_array(&out->packer, count);
}

void codec_put_nil(struct codec_out *out)
{
	msgpack_pack_nil(&out->packer);
}

void codec_put_bool(struct codec_out *out, bool v)
{
	if (v)
		msgpack_pack_true(&out->packer);
	else
		msgpack_pack_false(&out->packer);
}

void codec_put_u64(struct codec_out *out, uint64_t v)
{
	msgpack_pack_uint64(&out->packer, v);
}

void codec_put_i64(struct codec_out *out, int64_t v)
{
	msgpack_pack_int64(&out->packer, v);
}

void codec_put_f64(struct codec_out *out, double v)
{
	msgpack_pack_double(&out->packer, v);
}

void codec_put_str(struct codec_out *out, const char *s, size_t len)
{
	if (len > UINT32_MAX) {
		if (!out->error)
			out->error = err_new(ERR_LIMIT, "string of %zu bytes is too long", len);
		return;
	}
	msgpack_pack_str_with_body(&out->packer, s, len);
}

void codec_put_bin(struct codec_out *out, const void *bytes, size_t len)
{
	if (len > UINT32_MAX) {
		if (!out->error)
			out->error = err_new(ERR_LIMIT, "binary of %zu bytes is too long", len);
		return;
	}
	msgpack_pack_bin_with_body(&out->packer, bytes, len);
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

/* Checks that bytes hold exactly one well-formed value within the depth bound. */
static err *codec__validate(const uint8_t *bytes, size_t len)
{
	struct codec__scan s = {bytes, bytes + len};
	uint64_t pending[CODEC_MAX_DEPTH + 1]; /* values still to read at each open level */
	int depth = 0;
	pending[0] = 1;
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
		}
	}
	if (s.pos != s.end)
		return err_new(ERR_DECODE, "%zu trailing bytes after msgpack value",
		               (size_t)(s.end - s.pos));
	return NULL;
}

err *codec_parse(struct codec_doc *doc, const void *bytes, size_t len, const msgpack_object **root)
{
	doc->parsed = false;
	*root = NULL;
	TRY(codec__validate(bytes, len));
	msgpack_unpacked_init(&doc->unpacked);
	size_t off = 0;
	msgpack_unpack_return r = msgpack_unpack_next(&doc->unpacked, bytes, len, &off);
	if (r != MSGPACK_UNPACK_SUCCESS || off != len) {
		msgpack_unpacked_destroy(&doc->unpacked);
		return err_new(ERR_DECODE, "msgpack-c rejected the value (code %d)", (int)r);
	}
	doc->parsed = true;
	*root = &doc->unpacked.data;
	return NULL;
}

void codec_doc_free(struct codec_doc *doc)
{
	if (doc->parsed)
		msgpack_unpacked_destroy(&doc->unpacked);
	doc->parsed = false;
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
