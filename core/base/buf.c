#include "base/buf.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b, size_t max_bytes)
{
	assert(max_bytes > 0);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max_bytes = max_bytes < BUF_ABSOLUTE_MAX ? max_bytes : BUF_ABSOLUTE_MAX;
}

void buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

err *buf_reserve(struct buf *b, size_t extra)
{
	assert(b->len <= b->cap && b->cap <= b->max_bytes);
	if (extra > b->max_bytes - b->len)
		return err_new(ERR_LIMIT, "buffer limit of %zu bytes exceeded (need %zu more)",
		               b->max_bytes, extra);
	size_t need = b->len + extra;
	if (need <= b->cap)
		return NULL;
	/* capacity never exceeds the cap: buf_append's fast path relies on it */
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > b->max_bytes / 2 ? b->max_bytes : cap * 2;
	if (cap > b->max_bytes)
		cap = b->max_bytes;
	uint8_t *data = realloc(b->data, cap);
	if (!data)
		return err_new(ERR_NOMEM, "cannot grow buffer to %zu bytes", cap);
	b->data = data;
	b->cap = cap;
	return NULL;
}

err *buf__append_slow(struct buf *b, const void *bytes, size_t len)
{
	if (len == 0)
		return NULL;
	TRY(buf_reserve(b, len));
	memcpy(b->data + b->len, bytes, len);
	b->len += len;
	return NULL;
}

err *buf_append_u32be(struct buf *b, uint32_t v)
{
	uint8_t tmp[4];
	store_u32be(tmp, v);
	return buf_append(b, tmp, sizeof tmp);
}

err *buf_append_u64be(struct buf *b, uint64_t v)
{
	uint8_t tmp[8];
	store_u64be(tmp, v);
	return buf_append(b, tmp, sizeof tmp);
}

void buf_consume(struct buf *b, size_t n)
{
	assert(n <= b->len);
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

int slice_cmp(struct slice a, struct slice b)
{
	size_t n = a.len < b.len ? a.len : b.len;
	int c = n ? memcmp(a.ptr, b.ptr, n) : 0;
	if (c)
		return c;
	return (a.len > b.len) - (a.len < b.len);
}
