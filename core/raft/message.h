/*
 * message.h — the messages Raft nodes exchange, and their msgpack encoding.
 *
 * All message types share one layout (a msgpack array of fixed fields followed by an array
 * of entries), so one decoder validates everything a peer can send:
 *
 *     [type, term, from, to, index, log_term, commit, reject, hint_index, hint_term, ctx,
 *      [[term, type, origin, id, data], ...]]
 *
 * Which fields mean what per type:
 *   APPEND          index/log_term = the entry preceding `entries` (§5.3), commit,
 *                   ctx = flags: RAFT_APPEND_LAZY if the follower may persist lazily,
 *                   RAFT_APPEND_QUIET if a success needs no answer
 *   APPEND_RESP     reject; index = last matching index (success) or the rejected
 *                   prev index; hint_index/hint_term = fast backtracking hint (§5.3 end)
 *   HEARTBEAT       commit (capped at the follower's match), ctx = ReadIndex round (§6.4)
 *   HEARTBEAT_RESP  ctx echoed, index = the follower's last index
 *   VOTE, PRE_VOTE  index/log_term = the candidate's last entry (§5.4.1, §9.6)
 *   *_VOTE_RESP     reject
 *   PROPOSE         entries forwarded by a follower (their terms are ignored)
 *   PROPOSE_RESP    reject, ctx = the proposal id refused (never entered the log)
 *   READ_INDEX      ctx = the follower's read request id
 *   READ_INDEX_RESP ctx = request id, index = read point, reject
 *
 * Decoding never trusts its input: lengths, counts, enum values and node ids are checked,
 * and entry payloads borrow from the input bytes (keep them alive while stepping).
 */
#ifndef CAIRN_RAFT_MESSAGE_H
#define CAIRN_RAFT_MESSAGE_H

#include "raft/raft.h"

enum raft_msg_type {
	RAFT_MSG_APPEND = 1,
	RAFT_MSG_APPEND_RESP,
	RAFT_MSG_HEARTBEAT,
	RAFT_MSG_HEARTBEAT_RESP,
	RAFT_MSG_VOTE,
	RAFT_MSG_VOTE_RESP,
	RAFT_MSG_PRE_VOTE,
	RAFT_MSG_PRE_VOTE_RESP,
	RAFT_MSG_PROPOSE,
	RAFT_MSG_PROPOSE_RESP,
	RAFT_MSG_READ_INDEX,
	RAFT_MSG_READ_INDEX_RESP,
	RAFT_MSG_TYPE_MAX = RAFT_MSG_READ_INDEX_RESP,
};

/* APPEND's ctx: the follower may defer writing the entries (raft.h, "Lazy followers"). */
#define RAFT_APPEND_LAZY 1
/*
 * APPEND's ctx: an append without entries whose predecessor the leader knows the follower
 * holds (its match index), sent only to carry a commit index. Accepting it tells the
 * leader nothing, so the follower does not answer; a rejection is still answered.
 */
#define RAFT_APPEND_QUIET 2

struct raft_message {
	uint8_t type; /* enum raft_msg_type */
	uint64_t term;
	uint32_t from;
	uint32_t to;
	uint64_t index;
	uint64_t log_term;
	uint64_t commit;
	bool reject;
	uint64_t hint_index;
	uint64_t hint_term;
	uint64_t ctx;
	struct raft_entry *entries; /* entries[i].index is filled in as index + 1 + i */
	size_t n_entries;
};

/* Appends the encoding of `m` to `out` (ERR_LIMIT if the buffer's cap is hit). */
err *raft_message_encode(const struct raft_message *m, struct buf *out);

/*
 * Decodes `bytes` into *m. m->entries is allocated (free with raft_message_free()) and its
 * payloads point into `bytes`. On error *m holds nothing to free.
 */
err *raft_message_decode(const uint8_t *bytes, size_t len, struct raft_message *m);

void raft_message_free(struct raft_message *m);

const char *raft_message_type_name(uint8_t type);

#endif
