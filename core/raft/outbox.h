/*
 * outbox.h — the outputs of a ready batch while they accumulate (see raft.h for the
 * batch contract).
 *
 * Messages are encoded as soon as they are produced, into buffers the outbox reuses, so a
 * batch holds bytes and never pointers into the log. Everything is bounded: at most
 * RAFT__OUTBOX_MAX messages (more are dropped and counted, which Raft tolerates as message
 * loss), and read results and failures at most `max_pending` together, which holds because
 * each comes from one entry of the pending table (pending.h).
 */
#ifndef CAIRN_RAFT_OUTBOX_H
#define CAIRN_RAFT_OUTBOX_H

#include "raft/message.h"
#include "raft/raft.h"

#define RAFT__OUTBOX_MAX 1024

struct raft__outbox {
	struct raft_outgoing *msgs;
	struct buf *bufs;
	size_t n_bufs; /* buffers initialised so far; n_msgs <= n_bufs */
	size_t n_msgs;
	size_t n_late;        /* messages that must wait for the batch to be persisted */
	size_t max_msg_bytes; /* cap of each encoded message */
	struct raft_read *reads;
	size_t n_reads;
	struct raft_failure *failures;
	size_t n_failures;
	size_t max_results; /* capacity of reads + failures */
	uint64_t dropped;
};

err *raft__outbox_init(struct raft__outbox *o, size_t max_msg_bytes, size_t max_results);
void raft__outbox_free(struct raft__outbox *o);

/* Encodes `m` for node m->to; drops it (counted) if the outbox is full. */
void raft__outbox_message(struct raft__outbox *o, const struct raft_message *m);
/* Precondition: n_reads + n_failures < max_results. */
void raft__outbox_read(struct raft__outbox *o, uint64_t id, uint64_t index);
void raft__outbox_failure(struct raft__outbox *o, uint64_t id, uint8_t kind);

/*
 * Moves the messages that must wait for persistence from `from` to the end of `to`,
 * keeping the order of both (late ones beyond `to`'s room are dropped, counted).
 */
void raft__outbox_move_late(struct raft__outbox *from, struct raft__outbox *to);

bool raft__outbox_empty(const struct raft__outbox *o);
/* Forgets the contents, keeping the buffers for reuse. */
void raft__outbox_clear(struct raft__outbox *o);

#endif
