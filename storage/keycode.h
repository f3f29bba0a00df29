/*
 * keycode.h — order-preserving key encoding: memcmp order of encodings is value order.
 *
 * The KV engines order keys by memcmp. To make a range scan over keys a range scan over
 * values (SQL values, (table, key, version) tuples), values are encoded so that comparing
 * the bytes compares the values. A tuple is the concatenation of its encoded values; every
 * encoding is self-delimiting, so tuples compare element by element and a tuple sorts
 * before every longer tuple that starts with it (prefix-safe).
 *
 * Every value starts with a one-byte type tag, so values of different types order by tag:
 *
 *     NULL < BOOLEAN < INTEGER < FLOAT < STRING < BYTES < U64
 *
 * INTEGER and FLOAT do NOT share one numeric order: every integer sorts before every
 * float. A column or key position holding one type throughout (what the SQL engine's
 * typing gives) orders correctly; a caller mixing them must convert first.
 *
 * Encodings (after the tag):
 *   NULL      nothing
 *   BOOLEAN   one byte, 0x00 false, 0x01 true
 *   INTEGER   int64 with its sign bit flipped, 8 bytes big-endian
 *   FLOAT     IEEE-754 bits, big-endian, with the sign bit flipped for positives and all
 *             bits flipped for negatives. -0.0 is encoded as +0.0 (they compare equal and
 *             decode as +0.0). -inf < finite < +inf < NaN: every NaN is encoded as one
 *             canonical NaN above +inf (and decodes as that NaN).
 *   STRING,   the bytes with every 0x00 written as 0x00 0xFF, then the terminator
 *   BYTES     0x00 0x01. Embedded NULs are allowed. STRING is text, BYTES a blob; they
 *             differ only in their tag.
 *   U64       8 bytes big-endian (Raft indexes, MVCC versions).
 *
 * The encoder appends to a capped buffer (ERR_LIMIT past its cap). The decoder trusts
 * nothing: a bad tag, a truncated value or a bad escape is ERR_DECODE, and decoding is
 * exact (decode(encode(v)) == v, with the -0.0 and NaN canonicalisation above).
 */
#ifndef CAIRN_STORAGE_KEYCODE_H
#define CAIRN_STORAGE_KEYCODE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

/* A decoded STRING or BYTES value may hold at most this many bytes. */
#define KEYCODE_BYTES_MAX ((size_t)1 << 20)

enum keycode_type {
	KEYCODE_NULL = 0x05,
	KEYCODE_BOOL = 0x10,
	KEYCODE_INT = 0x20,
	KEYCODE_FLOAT = 0x30,
	KEYCODE_STRING = 0x40,
	KEYCODE_BYTES = 0x50,
	KEYCODE_U64 = 0x60,
};

err *keycode_put_null(struct buf *out);
err *keycode_put_bool(struct buf *out, bool v);
err *keycode_put_int(struct buf *out, int64_t v);
err *keycode_put_float(struct buf *out, double v);
err *keycode_put_string(struct buf *out, struct slice text);
err *keycode_put_bytes(struct buf *out, struct slice bytes);
err *keycode_put_u64(struct buf *out, uint64_t v);

/*
 * A decoded value. `bytes` holds the unescaped bytes of a STRING or BYTES value and is
 * owned by the value: init once, decode many times, free once.
 */
struct keycode_value {
	enum keycode_type type;
	bool b;
	int64_t i;
	double f;
	uint64_t u;
	struct buf bytes;
};

void keycode_value_init(struct keycode_value *v);
void keycode_value_free(struct keycode_value *v);

/*
 * Decodes the value at the front of *cursor into out and advances the cursor past it.
 * ERR_DECODE on malformed input (the cursor is then unchanged).
 */
err *keycode_next(struct slice *cursor, struct keycode_value *out);

/* The type of the value at the front of *cursor; ERR_DECODE if empty or unknown. */
err *keycode_peek(struct slice cursor, enum keycode_type *type);

/*
 * Typed decoders: like keycode_next() for one expected type; a value of another type is
 * ERR_TYPE and leaves the cursor unchanged. Strings and bytes are appended to out.
 */
err *keycode_get_null(struct slice *cursor);
err *keycode_get_bool(struct slice *cursor, bool *v);
err *keycode_get_int(struct slice *cursor, int64_t *v);
err *keycode_get_float(struct slice *cursor, double *v);
err *keycode_get_string(struct slice *cursor, struct buf *out);
err *keycode_get_bytes(struct slice *cursor, struct buf *out);
err *keycode_get_u64(struct slice *cursor, uint64_t *v);

/*
 * Writes into out (cleared first) the smallest key greater than every key starting with
 * `prefix`: the prefix without its trailing 0xFF bytes, last byte plus one. When no such
 * key exists (the prefix is empty or all 0xFF) *unbounded is set and out is empty: scan
 * to the end.
 */
err *keycode_prefix_end(struct slice prefix, struct buf *out, bool *unbounded);

#endif
