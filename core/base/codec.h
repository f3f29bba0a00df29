/*
 * codec.h — encoding and decoding cairn's structs as msgpack.
 *
 * Every struct that crosses the wire or goes to disk is a msgpack array whose elements are
 * its fields in a fixed order. Encoding appends to a capped `struct buf`, byte for byte
 * what msgpack-c's packer writes (the smallest form of every value); decoding never
 * trusts its input:
 *
 *   - codec_parse() first scans the bytes and rejects anything whose declared lengths do
 *     not fit in the bytes present, that nests deeper than CODEC_MAX_DEPTH, that uses
 *     extension types, or that leaves trailing bytes. Only then does it build the object
 *     tree (msgpack-c's msgpack_object, filled as msgpack_unpack_next would), in one
 *     allocation sized by the scan, so a 5-byte header claiming four billion elements
 *     costs nothing; a small document needs no allocation at all.
 *   - struct codec_in reads an array field by field with type checks and length bounds.
 *     Errors are sticky: after the first failure every getter returns a zero value, and
 *     codec_in_end() reports the first error. A decoder therefore reads all its fields
 *     straight through and checks once.
 *
 * Decoded strings and binaries point into the original bytes: keep them alive while the
 * decoded values are used.
 */
#ifndef CAIRN_BASE_CODEC_H
#define CAIRN_BASE_CODEC_H

#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

/* Nesting deeper than this is rejected (msgpack-c's own parser stack holds 32). */
#define CODEC_MAX_DEPTH 24

/* A document of at most this many values below its root needs no allocation. */
#define CODEC_DOC_INLINE 32

/* ---- encoding ---- */

struct codec_out {
	struct buf *buf;
	err *error; /* the first failure; later puts do nothing */
};

/* Starts encoding at the end of `buf`. */
void codec_out_init(struct codec_out *out, struct buf *buf);

void codec_put_array(struct codec_out *out, uint32_t count);
void codec_put_nil(struct codec_out *out);
void codec_put_bool(struct codec_out *out, bool v);
void codec_put_u64(struct codec_out *out, uint64_t v);
void codec_put_i64(struct codec_out *out, int64_t v);
void codec_put_f64(struct codec_out *out, double v);
void codec_put_str(struct codec_out *out, const char *s, size_t len);
void codec_put_bin(struct codec_out *out, const void *bytes, size_t len);

/* Returns the first error of the encoding (the buffer's cap was hit), or NULL. */
err *codec_out_end(struct codec_out *out);

/* ---- decoding ---- */

/* A parsed document; its objects may live inside it, so it must not move while in use. */
struct codec_doc {
	msgpack_object root;
	msgpack_object *heap; /* the values below the root when more than fit inline */
	msgpack_object inline_values[CODEC_DOC_INLINE];
};

/*
 * Validates `bytes` as exactly one msgpack value and parses it. On success *root is the
 * value, valid until codec_doc_free() and while the doc stays where it is. On failure the
 * doc holds nothing and needs no free (freeing it anyway is harmless).
 */
err *codec_parse(struct codec_doc *doc, const void *bytes, size_t len, const msgpack_object **root);
void codec_doc_free(struct codec_doc *doc);

struct codec_in {
	const msgpack_object *items;
	uint32_t count;
	uint32_t next;
	err *error;
};

/* Begins reading `obj` as an array of between min_count and max_count elements. */
void codec_in_init(struct codec_in *in, const msgpack_object *obj, uint32_t min_count,
                   uint32_t max_count);

/* Number of elements not yet read. */
uint32_t codec_in_remaining(const struct codec_in *in);

uint64_t codec_get_u64(struct codec_in *in);
int64_t codec_get_i64(struct codec_in *in);
double codec_get_f64(struct codec_in *in);
bool codec_get_bool(struct codec_in *in);
/* Strings and binaries longer than max_len are errors. */
struct slice codec_get_str(struct codec_in *in, size_t max_len);
struct slice codec_get_bin(struct codec_in *in, size_t max_len);
/* Consumes a nil and returns true, or consumes nothing and returns false. */
bool codec_get_nil(struct codec_in *in);
/* Reads a nested array into `sub` (its own error becomes ours at codec_in_end(sub)). */
void codec_get_array(struct codec_in *in, struct codec_in *sub, uint32_t min_count,
                     uint32_t max_count);
/* Returns the next element as a raw object (NULL after an error). */
const msgpack_object *codec_get_object(struct codec_in *in);

/* Records a decoder-specific failure (e.g. an enum out of range) unless one is recorded. */
void codec_in_fail(struct codec_in *in, const char *what);

/*
 * Ends reading: returns the first error, or an error if elements are left unread and
 * `allow_extra` is false (a newer writer may append fields; old readers may skip them).
 */
err *codec_in_end(struct codec_in *in, bool allow_extra);

/* ---- reading a known layout straight from the bytes ---- */

/*
 * For a hot decoder of a fixed layout: reads values in order from the bytes, checking each
 * against what remains, without building a tree. It accepts exactly what codec_parse() and
 * the codec_get_*() of the same calls accept. Errors are sticky as for struct codec_in.
 */
struct codec_reader {
	const uint8_t *start;
	const uint8_t *pos;
	const uint8_t *end;
	err *error;
};

void codec_reader_init(struct codec_reader *r, const void *bytes, size_t len);

/* Reads an array header of between min_count and max_count elements; its count. */
uint32_t codec_read_array(struct codec_reader *r, uint32_t min_count, uint32_t max_count);
uint64_t codec_read_u64(struct codec_reader *r);
bool codec_read_bool(struct codec_reader *r);
/* A binary longer than max_len is an error; the slice points into the bytes. */
struct slice codec_read_bin(struct codec_reader *r, size_t max_len);
/* Consumes a nil if one is next: true; else (or after an error) false, consuming nothing. */
bool codec_read_nil(struct codec_reader *r);

/* Bytes not yet read (0 after an error). */
size_t codec_reader_remaining(const struct codec_reader *r);

/* Records a decoder-specific failure (ERR_DECODE) unless one is recorded. */
void codec_reader_fail(struct codec_reader *r, const char *what);

/*
 * Records that the decoder could not allocate `what` (ERR_NOMEM) unless a failure is
 * recorded: the bytes may be fine, so callers must not take it for a bad document.
 */
void codec_reader_nomem(struct codec_reader *r, const char *what);

/* Ends reading: the first error, or an error if bytes are left. */
err *codec_reader_end(struct codec_reader *r);

#endif
