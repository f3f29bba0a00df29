/*
 * frame.h — the framing of every TCP stream in cairn (design.md §8).
 *
 *     +----------------+---------------------------+----------------------+
 *     | length: u32 BE | payload: `length` bytes   | checksum32(payload)  |
 *     +----------------+---------------------------+----------------------+
 *
 * The payload is one msgpack value, but this layer does not look inside it. A stream is
 * untrusted: the decoder rejects a length above the stream's maximum as soon as the four
 * length bytes arrive (before buffering anything more), and a checksum mismatch as soon as
 * the frame is complete. Either error is final for the stream: the caller closes it.
 */
#ifndef CAIRN_NET_FRAME_H
#define CAIRN_NET_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

#define NET_FRAME_HEADER_BYTES 4
#define NET_FRAME_TRAILER_BYTES 4
#define NET_FRAME_OVERHEAD_BYTES (NET_FRAME_HEADER_BYTES + NET_FRAME_TRAILER_BYTES)

/* Raft messages (a batch of log entries, a snapshot chunk) fit in 16 MiB. */
#define NET_FRAME_MAX_RAFT_BYTES ((size_t)16 << 20)
/* Client requests are SQL text; 1 MiB is plenty. Responses may carry result sets. */
#define NET_FRAME_MAX_REQUEST_BYTES ((size_t)1 << 20)
#define NET_FRAME_MAX_RESPONSE_BYTES ((size_t)16 << 20)

/* The most bytes net_frame_decoder_feed() accepts per call. */
#define NET_FRAME_FEED_MAX_BYTES ((size_t)64 << 10)

/*
 * Appends one frame holding `payload` to `out`. ERR_LIMIT if the payload is longer than
 * max_payload_bytes or `out` cannot hold the frame; `out` is unchanged on error.
 */
err *net_frame_encode(struct buf *out, const void *payload, size_t len, size_t max_payload_bytes);

/* An incremental decoder for one byte stream. */
struct net_frame_decoder {
	struct buf in;            /* received bytes not yet consumed */
	size_t start;             /* bytes of `in` already handed out as frames */
	size_t max_payload_bytes; /* frames announcing more are an error */
	bool failed;              /* an error was returned; the stream is dead */
};

void net_frame_decoder_init(struct net_frame_decoder *d, size_t max_payload_bytes);
void net_frame_decoder_free(struct net_frame_decoder *d);

/* Changes the largest payload accepted, for the frames not yet handed out; never below
 * what is buffered now. */
void net_frame_decoder_set_max(struct net_frame_decoder *d, size_t max_payload_bytes);

/*
 * Adds received bytes (at most NET_FRAME_FEED_MAX_BYTES). The caller drains complete
 * frames with net_frame_decoder_next() between feeds; feeding a decoder whose buffer
 * would exceed one maximal frame plus one feed is ERR_LIMIT.
 */
err *net_frame_decoder_feed(struct net_frame_decoder *d, const void *bytes, size_t len);

/*
 * Takes the next complete frame: returns NULL and sets *ready with *payload pointing at
 * the payload (valid until the next feed or next call), or returns NULL with *ready false
 * when more bytes are needed. Returns ERR_LIMIT for an oversized length prefix and
 * ERR_CORRUPT for a checksum mismatch; after an error every later call fails too.
 */
err *net_frame_decoder_next(struct net_frame_decoder *d, struct slice *payload, bool *ready);

/* Bytes received but not yet returned as frames (a partial frame at end of stream). */
size_t net_frame_decoder_pending(const struct net_frame_decoder *d);

#endif
