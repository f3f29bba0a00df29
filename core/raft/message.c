#include "raft/message.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/codec.h"

#define RAFT__MSG_FIELDS 12
#define RAFT__ENTRY_FIELDS 5

static const char *const raft__msg_names[] = {
    [RAFT_MSG_APPEND] = "append",
    [RAFT_MSG_APPEND_RESP] = "append_resp",
    [RAFT_MSG_HEARTBEAT] = "heartbeat",
    [RAFT_MSG_HEARTBEAT_RESP] = "heartbeat_resp",
    [RAFT_MSG_VOTE] = "vote",
    [RAFT_MSG_VOTE_RESP] = "vote_resp",
    [RAFT_MSG_PRE_VOTE] = "pre_vote",
    [RAFT_MSG_PRE_VOTE_RESP] = "pre_vote_resp",
    [RAFT_MSG_PROPOSE] = "propose",
    [RAFT_MSG_PROPOSE_RESP] = "propose_resp",
    [RAFT_MSG_READ_INDEX] = "read_index",
    [RAFT_MSG_READ_INDEX_RESP] = "read_index_resp",
};

const char *raft_message_type_name(uint8_t type)
{
	if (type == 0 || type > RAFT_MSG_TYPE_MAX)
		return "invalid";
	return raft__msg_names[type];
}

err *raft_message_encode(const struct raft_message *m, struct buf *out)
{
	assert(m->type >= 1 && m->type <= RAFT_MSG_TYPE_MAX);
	assert(m->n_entries <= RAFT_MAX_MSG_ENTRIES);
	struct codec_out o;
	codec_out_init(&o, out);
	codec_put_array(&o, RAFT__MSG_FIELDS);
	codec_put_u64(&o, m->type);
	codec_put_u64(&o, m->term);
	codec_put_u64(&o, m->from);
	codec_put_u64(&o, m->to);
	codec_put_u64(&o, m->index);
	codec_put_u64(&o, m->log_term);
	codec_put_u64(&o, m->commit);
	codec_put_bool(&o, m->reject);
	codec_put_u64(&o, m->hint_index);
	codec_put_u64(&o, m->hint_term);
	codec_put_u64(&o, m->ctx);
	codec_put_array(&o, (uint32_t)m->n_entries);
	for (size_t i = 0; i < m->n_entries; i++) {
		const struct raft_entry *e = &m->entries[i];
		codec_put_array(&o, RAFT__ENTRY_FIELDS);
		codec_put_u64(&o, e->term);
		codec_put_u64(&o, e->type);
		codec_put_u64(&o, e->origin);
		codec_put_u64(&o, e->id);
		codec_put_bin(&o, e->data, e->len);
	}
	return codec_out_end(&o);
}

/* Reads an unsigned field that must fit in `max`. */
static uint64_t raft__get_bounded(struct codec_reader *in, uint64_t max, const char *what)
{
	uint64_t v = codec_read_u64(in);
	if (v > max) {
		codec_reader_fail(in, what);
		return 0;
	}
	return v;
}

static void raft__decode_entry(struct codec_reader *in, struct raft_entry *e, uint64_t index)
{
	assert(in != NULL && e != NULL);
	assert(index >= 1);
	codec_read_array(in, RAFT__ENTRY_FIELDS, RAFT__ENTRY_FIELDS);
	e->index = index;
	e->term = codec_read_u64(in);
	e->type = (uint8_t)raft__get_bounded(in, RAFT_ENTRY_NOOP, "bad entry type");
	if (e->type == 0)
		codec_reader_fail(in, "bad entry type");
	e->origin = (uint32_t)raft__get_bounded(in, UINT32_MAX, "bad entry origin");
	e->id = codec_read_u64(in);
	struct slice data = codec_read_bin(in, RAFT_MAX_ENTRY_BYTES);
	e->data = data.ptr;
	e->len = data.len;
}

/* Reads the fields in order straight from the bytes (the hot path: one call per message). */
static err *raft__decode_fields(struct codec_reader *in, struct raft_message *m)
{
	assert(m->entries == NULL);
	assert(m->n_entries == 0);
	codec_read_array(in, RAFT__MSG_FIELDS, RAFT__MSG_FIELDS);
	m->type = (uint8_t)raft__get_bounded(in, RAFT_MSG_TYPE_MAX, "bad message type");
	if (m->type == 0)
		codec_reader_fail(in, "bad message type");
	m->term = codec_read_u64(in);
	m->from = (uint32_t)raft__get_bounded(in, UINT32_MAX, "bad sender");
	m->to = (uint32_t)raft__get_bounded(in, UINT32_MAX, "bad recipient");
	m->index = raft__get_bounded(in, RAFT_MAX_LOG_ENTRIES, "index out of range");
	m->log_term = codec_read_u64(in);
	m->commit = raft__get_bounded(in, RAFT_MAX_LOG_ENTRIES, "commit out of range");
	m->reject = codec_read_bool(in);
	m->hint_index = raft__get_bounded(in, RAFT_MAX_LOG_ENTRIES, "hint out of range");
	m->hint_term = codec_read_u64(in);
	m->ctx = codec_read_u64(in);
	uint32_t n = codec_read_array(in, 0, RAFT_MAX_MSG_ENTRIES);
	/* every entry takes at least 6 bytes: the count cannot ask for more than the input */
	if (n > codec_reader_remaining(in) / 6)
		codec_reader_fail(in, "more entries than the input holds");
	else if (n > 0) {
		m->entries = calloc(n, sizeof *m->entries);
		if (!m->entries)
			return err_new(ERR_NOMEM, "decoding %u entries", n);
		m->n_entries = n;
		for (uint32_t i = 0; i < n; i++)
			raft__decode_entry(in, &m->entries[i], m->index + 1 + i);
	}
	return NULL;
}

err *raft_message_decode(const uint8_t *bytes, size_t len, struct raft_message *m)
{
	assert(m != NULL);
	assert(bytes != NULL || len == 0);
	memset(m, 0, sizeof *m);
	struct codec_reader in;
	codec_reader_init(&in, bytes, len);
	err *e = raft__decode_fields(&in, m);
	err *end = codec_reader_end(&in);
	if (!e)
		e = end;
	else
		err_free(end);
	if (!e && (m->from == 0 || m->to == 0 || m->from == m->to))
		e = err_new(ERR_DECODE, "bad sender or recipient %u -> %u", m->from, m->to);
	if (!e && m->index + m->n_entries > RAFT_MAX_LOG_ENTRIES)
		e = err_new(ERR_DECODE, "entries run past the log limit");
	if (e) {
		raft_message_free(m);
		return err_wrap(e, "raft message");
	}
	return NULL;
}

void raft_message_free(struct raft_message *m)
{
	free(m->entries);
	m->entries = NULL;
	m->n_entries = 0;
}
