/*
 * buf.h — growable byte buffers with a hard cap, and byte slices.
 *
 * A `struct buf` owns its bytes and never grows past `max_bytes`: appending beyond the cap
 * is an ERR_LIMIT error and leaves the buffer unchanged, so a peer or a file cannot make
 * a node allocate without bound. A `struct slice` borrows bytes it does not own.
 */
#ifndef CAIRN_BASE_BUF_H
#define CAIRN_BASE_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/err.h"

/* The largest buffer anyone may ask for: 1 GiB. */
#define BUF_ABSOLUTE_MAX ((size_t)1 << 30)

struct slice {
	const uint8_t *ptr;
	size_t len;
};

struct buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	size_t max_bytes;
};

/* Makes an empty buffer that may grow up to `max_bytes` (at most BUF_ABSOLUTE_MAX). */
void buf_init(struct buf *b, size_t max_bytes);

/* Releases the bytes; the buffer is empty and reusable afterwards. */
void buf_free(struct buf *b);

/* Empties the buffer, keeping its allocation. */
static inline void buf_clear(struct buf *b)
{
	b->len = 0;
}

/* Ensures room for `extra` more bytes without changing the contents. */
err *buf_reserve(struct buf *b, size_t extra);

/* Appends `len` bytes; on error the buffer is unchanged. */
err *buf__append_slow(struct buf *b, const void *bytes, size_t len);
static inline err *buf_append(struct buf *b, const void *bytes, size_t len)
{
	/* the common case, bytes that fit, is a copy; encoders append a few bytes at a time */
	if (len <= b->cap - b->len) {
		if (len)
			memcpy(b->data + b->len, bytes, len);
		b->len += len;
		return NULL;
	}
	return buf__append_slow(b, bytes, len);
}

/* Appends a big-endian integer. */
err *buf_append_u32be(struct buf *b, uint32_t v);
err *buf_append_u64be(struct buf *b, uint64_t v);

/* Drops the first `n` bytes (n <= len), moving the rest to the front. */
void buf_consume(struct buf *b, size_t n);

static inline struct slice buf_slice(const struct buf *b)
{
	return (struct slice){b->data, b->len};
}

static inline struct slice slice_of(const void *ptr, size_t len)
{
	return (struct slice){(const uint8_t *)ptr, len};
}

/* memcmp order on slices; a proper prefix sorts first. */
int slice_cmp(struct slice a, struct slice b);

static inline int slice_eq(struct slice a, struct slice b)
{
	return slice_cmp(a, b) == 0;
}

/* Big-endian loads and stores for fixed layouts (pages, frames). */
static inline uint32_t load_u32be(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline uint64_t load_u64be(const uint8_t *p)
{
	return ((uint64_t)load_u32be(p) << 32) | load_u32be(p + 4);
}

static inline void store_u32be(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void store_u64be(uint8_t *p, uint64_t v)
{
	store_u32be(p, (uint32_t)(v >> 32));
	store_u32be(p + 4, (uint32_t)v);
}

#endif
