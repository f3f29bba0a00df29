#include "net/frame.h"

#include <assert.h>

#include "base/checksum.h"

err *net_frame_encode(struct buf *out, const void *payload, size_t len, size_t max_payload_bytes)
{
	assert(max_payload_bytes <= UINT32_MAX);
	if (len > max_payload_bytes)
		return err_new(ERR_LIMIT, "frame payload of %zu bytes exceeds the limit of %zu",
		               len, max_payload_bytes);
	TRY(buf_reserve(out, len + NET_FRAME_OVERHEAD_BYTES));
	uint8_t word[4];
	store_u32be(word, (uint32_t)len);
	err *e = buf_append(out, word, sizeof word);
	assert(!e); /* reserved above */
	e = buf_append(out, payload, len);
	assert(!e);
	store_u32be(word, checksum32(payload, len));
	e = buf_append(out, word, sizeof word);
	assert(!e);
	(void)e;
	return NULL;
}

void net_frame_decoder_init(struct net_frame_decoder *d, size_t max_payload_bytes)
{
	assert(max_payload_bytes > 0 && max_payload_bytes <= UINT32_MAX);
	buf_init(&d->in, max_payload_bytes + NET_FRAME_OVERHEAD_BYTES + NET_FRAME_FEED_MAX_BYTES);
	d->start = 0;
	d->max_payload_bytes = max_payload_bytes;
	d->failed = false;
}

void net_frame_decoder_free(struct net_frame_decoder *d)
{
	buf_free(&d->in);
	d->start = 0;
}

void net_frame_decoder_set_max(struct net_frame_decoder *d, size_t max_payload_bytes)
{
	assert(max_payload_bytes > 0 && max_payload_bytes <= UINT32_MAX);
	size_t cap = max_payload_bytes + NET_FRAME_OVERHEAD_BYTES + NET_FRAME_FEED_MAX_BYTES;
	assert(d->in.len <= cap);
	d->in.max_bytes = cap;
	d->max_payload_bytes = max_payload_bytes;
}

err *net_frame_decoder_feed(struct net_frame_decoder *d, const void *bytes, size_t len)
{
	assert(len <= NET_FRAME_FEED_MAX_BYTES);
	if (d->failed)
		return err_new(ERR_CORRUPT, "frame stream failed earlier");
	if (d->start > 0) {
		buf_consume(&d->in, d->start);
		d->start = 0;
	}
	return err_wrap(buf_append(&d->in, bytes, len), "frame stream not drained");
}

err *net_frame_decoder_next(struct net_frame_decoder *d, struct slice *payload, bool *ready)
{
	*ready = false;
	*payload = (struct slice){NULL, 0};
	if (d->failed)
		return err_new(ERR_CORRUPT, "frame stream failed earlier");
	assert(d->start <= d->in.len);
	size_t avail = d->in.len - d->start;
	if (avail < NET_FRAME_HEADER_BYTES)
		return NULL;
	const uint8_t *p = d->in.data + d->start;
	uint32_t len = load_u32be(p);
	if (len > d->max_payload_bytes) {
		d->failed = true;
		return err_new(ERR_LIMIT, "frame of %u bytes exceeds the limit of %zu", len,
		               d->max_payload_bytes);
	}
	size_t total = (size_t)len + NET_FRAME_OVERHEAD_BYTES;
	if (avail < total)
		return NULL;
	uint32_t want = load_u32be(p + NET_FRAME_HEADER_BYTES + len);
	uint32_t got = checksum32(p + NET_FRAME_HEADER_BYTES, len);
	if (want != got) {
		d->failed = true;
		return err_new(ERR_CORRUPT, "frame checksum mismatch (%08x, computed %08x)", want,
		               got);
	}
	*payload = slice_of(p + NET_FRAME_HEADER_BYTES, len);
	*ready = true;
	d->start += total;
	return NULL;
}

size_t net_frame_decoder_pending(const struct net_frame_decoder *d)
{
	return d->in.len - d->start;
}
