/*
 * mvcc_record.c — encoding and (distrustful) decoding of commit records and outcomes.
 */
#include "storage/mvcc_record.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool mvcc__range_nonempty(const struct mvcc__range *r)
{
	return !r->bounded || slice_cmp(r->from, r->to) < 0;
}

err *mvcc__record_encode(struct buf *out, struct mvcc_txn_id id, uint64_t read_version,
                         const struct mvcc__range *ranges, uint32_t range_count,
                         const struct mvcc__write_source *writes, const struct mvcc__range *deleted,
                         uint32_t deleted_count)
{
	assert(range_count <= MVCC_READ_SET_MAX_RANGES);
	assert(writes->count <= MVCC_TXN_MAX_WRITES);
	assert(deleted_count <= MVCC_TXN_MAX_RANGE_DELETES);
	struct codec_out o;
	codec_out_init(&o, out);
	codec_put_array(&o, deleted_count ? 7 : 6);
	codec_put_u64(&o, deleted_count ? MVCC__RECORD_FORMAT_RANGES : MVCC__RECORD_FORMAT);
	codec_put_u64(&o, id.hi);
	codec_put_u64(&o, id.lo);
	codec_put_u64(&o, read_version);
	codec_put_array(&o, 2 * range_count);
	for (uint32_t i = 0; i < range_count; i++) {
		assert(mvcc__range_nonempty(&ranges[i]));
		codec_put_bin(&o, ranges[i].from.ptr, ranges[i].from.len);
		if (ranges[i].bounded)
			codec_put_bin(&o, ranges[i].to.ptr, ranges[i].to.len);
		else
			codec_put_nil(&o);
	}
	codec_put_array(&o, 2 * writes->count);
	for (uint32_t i = 0; i < writes->count; i++) {
		struct mvcc__write w;
		err *e = writes->next(writes->ctx, &w);
		if (e) {
			err_free(codec_out_end(&o));
			return e;
		}
		codec_put_bin(&o, w.key.ptr, w.key.len);
		if (w.deleted)
			codec_put_nil(&o);
		else
			codec_put_bin(&o, w.value.ptr, w.value.len);
	}
	if (deleted_count) {
		codec_put_array(&o, 2 * deleted_count);
		for (uint32_t i = 0; i < deleted_count; i++) {
			assert(deleted[i].bounded && mvcc__range_nonempty(&deleted[i]));
			codec_put_bin(&o, deleted[i].from.ptr, deleted[i].from.len);
			codec_put_bin(&o, deleted[i].to.ptr, deleted[i].to.len);
		}
	}
	return codec_out_end(&o);
}

/*
 * Decoding reads the record's bytes in order with a checked cursor (codec_reader), which
 * accepts exactly what parsing the document and reading it field by field accepts, without
 * building the document's tree: records are decoded once per node per commit.
 */

/* Reads the flattened read ranges (n elements); problems go to the sticky error of `in`. */
static void mvcc__decode_ranges(struct codec_reader *in, uint32_t n, struct mvcc__record *r)
{
	if (in->error)
		return;
	if (n % 2) {
		codec_reader_fail(in, "read set has an odd number of elements");
		return;
	}
	r->range_count = n / 2;
	r->ranges = r->range_count <= MVCC__RECORD_INLINE
	                ? r->inline_ranges
	                : malloc(r->range_count * sizeof *r->ranges);
	if (!r->ranges) {
		codec_reader_nomem(in, "the read set");
		r->range_count = 0;
		return;
	}
	for (uint32_t i = 0; i < r->range_count; i++) {
		struct mvcc__range *g = &r->ranges[i];
		*g = (struct mvcc__range){0};
		g->from = codec_read_bin(in, MVCC_KEY_MAX + 1);
		g->bounded = !codec_read_nil(in);
		if (g->bounded)
			g->to = codec_read_bin(in, MVCC_KEY_MAX + 1);
		if (in->error)
			return;
		if (!mvcc__range_nonempty(g)) {
			codec_reader_fail(in, "empty read range");
			return;
		}
	}
}

/* Reads the flattened writes (n elements); keys must be strictly increasing. */
static void mvcc__decode_writes(struct codec_reader *in, uint32_t n, struct mvcc__record *r)
{
	if (in->error)
		return;
	if (n % 2) {
		codec_reader_fail(in, "write set has an odd number of elements");
		return;
	}
	r->write_count = n / 2;
	r->writes = r->write_count <= MVCC__RECORD_INLINE
	                ? r->inline_writes
	                : malloc(r->write_count * sizeof *r->writes);
	if (!r->writes) {
		codec_reader_nomem(in, "the write set");
		r->write_count = 0;
		return;
	}
	for (uint32_t i = 0; i < r->write_count; i++) {
		struct mvcc__write *w = &r->writes[i];
		*w = (struct mvcc__write){0};
		w->key = codec_read_bin(in, MVCC_KEY_MAX);
		w->deleted = codec_read_nil(in);
		if (!w->deleted)
			w->value = codec_read_bin(in, MVCC_VALUE_MAX);
		if (in->error)
			return;
		if (w->key.len == 0) {
			codec_reader_fail(in, "empty key in the write set");
			return;
		}
		if (i > 0 && slice_cmp(r->writes[i - 1].key, w->key) >= 0) {
			codec_reader_fail(in, "write set keys are not strictly increasing");
			return;
		}
	}
}

/* Reads the flattened deleted ranges (n elements): bounded, non-empty, `from` not empty. */
static void mvcc__decode_deleted(struct codec_reader *in, uint32_t n, struct mvcc__record *r)
{
	if (in->error)
		return;
	if (n % 2 || n == 0) {
		codec_reader_fail(in, "deleted ranges have an odd number of elements, or none");
		return;
	}
	r->deleted = malloc(n / 2 * sizeof *r->deleted);
	if (!r->deleted) {
		codec_reader_nomem(in, "the deleted ranges");
		return;
	}
	r->deleted_count = n / 2;
	for (uint32_t i = 0; i < r->deleted_count; i++) {
		struct mvcc__range *g = &r->deleted[i];
		*g = (struct mvcc__range){.bounded = true};
		g->from = codec_read_bin(in, MVCC_KEY_MAX + 1);
		g->to = codec_read_bin(in, MVCC_KEY_MAX + 1);
		if (in->error)
			return;
		if (g->from.len == 0 || !mvcc__range_nonempty(g)) {
			codec_reader_fail(in, "empty deleted range");
			return;
		}
	}
}

err *mvcc__record_decode(const uint8_t *bytes, size_t len, struct mvcc__record *r)
{
	/* not a memset of the whole record: its document's inline storage is unused */
	r->id = (struct mvcc_txn_id){0};
	r->read_version = 0;
	r->range_count = 0;
	r->ranges = NULL;
	r->write_count = 0;
	r->writes = NULL;
	r->deleted_count = 0;
	r->deleted = NULL;
	r->doc.heap = NULL;
	if (len > MVCC_RECORD_MAX_BYTES)
		return err_new(ERR_DECODE, "commit record of %zu bytes is too large", len);
	struct codec_reader in;
	codec_reader_init(&in, bytes, len);
	uint32_t fields = codec_read_array(&in, 6, 7);
	uint64_t format = codec_read_u64(&in);
	if (!in.error && format != (fields == 6 ? MVCC__RECORD_FORMAT : MVCC__RECORD_FORMAT_RANGES))
		codec_reader_fail(&in, "unknown commit record format");
	r->id.hi = codec_read_u64(&in);
	r->id.lo = codec_read_u64(&in);
	r->read_version = codec_read_u64(&in);
	uint32_t n = codec_read_array(&in, 0, 2 * MVCC_READ_SET_MAX_RANGES);
	mvcc__decode_ranges(&in, n, r);
	n = codec_read_array(&in, 0, 2 * MVCC_TXN_MAX_WRITES);
	mvcc__decode_writes(&in, n, r);
	if (fields == 7) {
		n = codec_read_array(&in, 0, 2 * MVCC_TXN_MAX_RANGE_DELETES);
		mvcc__decode_deleted(&in, n, r);
	}
	err *e = codec_reader_end(&in);
	if (!e && r->id.hi == 0 && r->id.lo == 0)
		e = err_new(ERR_DECODE, "transaction id is zero");
	if (e) {
		mvcc__record_free(r);
		return err_wrap(e, "commit record");
	}
	assert(r->range_count <= MVCC_READ_SET_MAX_RANGES);
	assert(r->write_count <= MVCC_TXN_MAX_WRITES);
	return NULL;
}

void mvcc__record_free(struct mvcc__record *r)
{
	if (r->ranges != r->inline_ranges)
		free(r->ranges);
	if (r->writes != r->inline_writes)
		free(r->writes);
	free(r->deleted);
	codec_doc_free(&r->doc);
	r->ranges = NULL;
	r->writes = NULL;
	r->deleted = NULL;
	r->range_count = r->write_count = r->deleted_count = 0;
}

err *mvcc__outcome_encode(struct buf *out, const struct mvcc_outcome *o)
{
	assert(o->committed == (o->code == 0));
	struct codec_out c;
	codec_out_init(&c, out);
	codec_put_array(&c, 3);
	codec_put_u64(&c, o->index);
	codec_put_u64(&c, (uint64_t)o->code);
	codec_put_str(&c, o->message, strnlen(o->message, MVCC_MESSAGE_MAX - 1));
	return codec_out_end(&c);
}

err *mvcc__outcome_decode(struct slice bytes, struct mvcc_outcome *o)
{
	struct codec_doc doc;
	const msgpack_object *root;
	err *e = codec_parse(&doc, bytes.ptr, bytes.len, &root);
	if (e) {
		err_free(e);
		return err_new(ERR_CORRUPT, "stored transaction outcome is malformed");
	}
	struct codec_in in;
	codec_in_init(&in, root, 3, 3);
	o->index = codec_get_u64(&in);
	uint64_t code = codec_get_u64(&in);
	struct slice msg = codec_get_str(&in, MVCC_MESSAGE_MAX - 1);
	e = codec_in_end(&in, false);
	if (!e && code > ERR_INTERNAL)
		e = err_new(ERR_DECODE, "unknown error code");
	if (!e) {
		o->code = (enum err_code)code;
		o->committed = code == 0;
		if (msg.len)
			memcpy(o->message, msg.ptr, msg.len);
		o->message[msg.len] = 0;
	}
	codec_doc_free(&doc);
	if (e) {
		err_free(e);
		return err_new(ERR_CORRUPT, "stored transaction outcome is malformed");
	}
	return NULL;
}

void mvcc__outcome_say(struct mvcc_outcome *o, enum err_code code, const char *fmt, ...)
{
	assert(code != 0);
	o->committed = false;
	o->code = code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(o->message, sizeof o->message, fmt, ap);
	va_end(ap);
}
