#include "raft/outbox.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

err *raft__outbox_init(struct raft__outbox *o, size_t max_msg_bytes, size_t max_results)
{
	assert(max_msg_bytes > 0 && max_results > 0);
	memset(o, 0, sizeof *o);
	o->msgs = calloc(RAFT__OUTBOX_MAX, sizeof *o->msgs);
	o->bufs = calloc(RAFT__OUTBOX_MAX, sizeof *o->bufs);
	o->reads = calloc(max_results, sizeof *o->reads);
	o->failures = calloc(max_results, sizeof *o->failures);
	if (!o->msgs || !o->bufs || !o->reads || !o->failures) {
		raft__outbox_free(o);
		return err_new(ERR_NOMEM, "raft outbox");
	}
	o->max_msg_bytes = max_msg_bytes;
	o->max_results = max_results;
	return NULL;
}

void raft__outbox_free(struct raft__outbox *o)
{
	if (o->bufs)
		for (size_t i = 0; i < o->n_bufs; i++)
			buf_free(&o->bufs[i]);
	free(o->bufs);
	free(o->msgs);
	free(o->reads);
	free(o->failures);
	memset(o, 0, sizeof *o);
}

void raft__outbox_message(struct raft__outbox *o, const struct raft_message *m)
{
	assert(m->to != 0 && m->to != m->from);
	if (o->n_msgs >= RAFT__OUTBOX_MAX) {
		o->dropped++;
		return;
	}
	struct buf *b = &o->bufs[o->n_msgs];
	if (o->n_msgs == o->n_bufs) /* buffers are set up on first use, then reused */
		buf_init(&o->bufs[o->n_bufs++], o->max_msg_bytes);
	buf_clear(b);
	err *e = raft_message_encode(m, b);
	if (e) {
		/* Only the cap can fail, and appends are sized below it: treat as loss. */
		err_free(e);
		o->dropped++;
		return;
	}
	/* Everything but a promise about this node's own disk or term (raft.h). */
	bool early = m->type == RAFT_MSG_APPEND || m->type == RAFT_MSG_HEARTBEAT ||
	             m->type == RAFT_MSG_PROPOSE || m->type == RAFT_MSG_PROPOSE_RESP ||
	             m->type == RAFT_MSG_READ_INDEX || m->type == RAFT_MSG_READ_INDEX_RESP;
	o->msgs[o->n_msgs] = (struct raft_outgoing){m->to, b->data, b->len, early};
	o->n_msgs++;
	o->n_late += !early;
}

void raft__outbox_read(struct raft__outbox *o, uint64_t id, uint64_t index)
{
	assert(o->n_reads + o->n_failures < o->max_results);
	o->reads[o->n_reads++] = (struct raft_read){id, index};
}

void raft__outbox_failure(struct raft__outbox *o, uint64_t id, uint8_t kind)
{
	assert(o->n_reads + o->n_failures < o->max_results);
	assert(kind >= RAFT_FAIL_NOT_PROPOSED && kind <= RAFT_FAIL_READ);
	o->failures[o->n_failures++] = (struct raft_failure){id, kind};
}

void raft__outbox_move_late(struct raft__outbox *from, struct raft__outbox *to)
{
	size_t kept = 0;
	for (size_t i = 0; i < from->n_msgs; i++) {
		struct raft_outgoing m = from->msgs[i];
		struct buf tmp = from->bufs[i];
		if (m.before_persist) { /* the buffer moves with its message; the data stays put */
			from->bufs[i] = from->bufs[kept];
			from->bufs[kept] = tmp;
			from->msgs[kept++] = m;
			continue;
		}
		if (to->n_msgs >= RAFT__OUTBOX_MAX) {
			to->dropped++;
			continue;
		}
		if (to->n_msgs == to->n_bufs)
			buf_init(&to->bufs[to->n_bufs++], to->max_msg_bytes);
		from->bufs[i] = to->bufs[to->n_msgs];
		to->bufs[to->n_msgs] = tmp;
		to->msgs[to->n_msgs++] = m;
		to->n_late++;
	}
	from->n_msgs = kept;
	from->n_late = 0;
}

bool raft__outbox_empty(const struct raft__outbox *o)
{
	return o->n_msgs == 0 && o->n_reads == 0 && o->n_failures == 0;
}

void raft__outbox_clear(struct raft__outbox *o)
{
	o->n_msgs = 0;
	o->n_late = 0;
	o->n_reads = 0;
	o->n_failures = 0;
}
