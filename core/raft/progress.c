#include "raft/progress.h"

#include <assert.h>

static void raft__inflight_clear(struct raft__progress *pr)
{
	pr->inflight_head = 0;
	pr->inflight_count = 0;
	pr->inflight_total = 0;
}

void raft__progress_reset(struct raft__progress *pr, uint32_t id, uint64_t next)
{
	assert(id != 0);
	assert(next >= 1);
	/* Field by field: the in-flight arrays need no clearing, only their counters. */
	pr->id = id;
	pr->match = 0;
	pr->next = next;
	pr->state = RAFT__PROBE;
	pr->probe_sent = false;
	pr->active = false;
	pr->read_ack = 0;
	pr->told = pr->want_lo = pr->want_hi = 0;
	raft__inflight_clear(pr);
}

bool raft__progress_paused(const struct raft__progress *pr, uint32_t max_msgs, size_t max_bytes)
{
	assert(max_msgs >= 1 && max_msgs <= RAFT_MAX_INFLIGHT);
	if (pr->state == RAFT__PROBE)
		return pr->probe_sent;
	return pr->inflight_count >= max_msgs || pr->inflight_total >= max_bytes;
}

void raft__progress_sent(struct raft__progress *pr, uint64_t last, size_t bytes)
{
	assert(pr->match < pr->next);
	if (pr->state == RAFT__PROBE) {
		pr->probe_sent = true;
		return;
	}
	assert(pr->inflight_count < RAFT_MAX_INFLIGHT);
	if (last < pr->next)
		return; /* an empty append carries no entries to track */
	uint32_t slot = (pr->inflight_head + pr->inflight_count) % RAFT_MAX_INFLIGHT;
	pr->inflight_last[slot] = last;
	pr->inflight_bytes[slot] = bytes;
	pr->inflight_count++;
	pr->inflight_total += bytes;
	pr->next = last + 1;
}

bool raft__progress_ack(struct raft__progress *pr, uint64_t index)
{
	assert(pr->match < pr->next);
	if (index < pr->match)
		return false; /* an old answer: the logs already agree further */
	bool news = index > pr->match;
	pr->match = index;
	if (pr->state == RAFT__PROBE) {
		/* The probe found where the logs agree: stream from there on. */
		pr->state = RAFT__REPLICATE;
		pr->probe_sent = false;
		pr->next = pr->match + 1;
		raft__inflight_clear(pr);
	}
	if (pr->next <= pr->match)
		pr->next = pr->match + 1;
	while (pr->inflight_count > 0 && pr->inflight_last[pr->inflight_head] <= index) {
		pr->inflight_total -= pr->inflight_bytes[pr->inflight_head];
		pr->inflight_head = (pr->inflight_head + 1) % RAFT_MAX_INFLIGHT;
		pr->inflight_count--;
	}
	assert(pr->match < pr->next);
	return news;
}

bool raft__progress_reject(struct raft__progress *pr, uint64_t rejected, uint64_t hint_next)
{
	assert(pr->match < pr->next);
	bool lost = rejected <= pr->match;
	if (lost && hint_next > pr->match)
		return false; /* the logs already agree past it: an old answer */
	if (!lost && pr->state == RAFT__PROBE && rejected + 1 != pr->next)
		return false; /* not the answer to the probe in flight */
	if (lost) {
		/*
		 * The follower says its log ends before entries it acknowledged: its disk lost
		 * them (a data directory wiped or restored from a copy), or this is an answer
		 * from before it had them. Ignoring it left a wiped follower unrepaired for as
		 * long as this leader lived. Probing again from what it says is safe either way:
		 * match only counts towards commits to come, and an old answer costs one probe.
		 */
		pr->match = 0;
	}
	uint64_t next = hint_next;
	if (next > rejected)
		next = rejected;
	if (next <= pr->match)
		next = pr->match + 1;
	pr->next = next;
	pr->state = RAFT__PROBE;
	pr->probe_sent = false;
	raft__inflight_clear(pr);
	assert(pr->match < pr->next);
	return true;
}

void raft__progress_heartbeat_ack(struct raft__progress *pr)
{
	assert(pr->match < pr->next);
	pr->probe_sent = false;
	if (pr->inflight_count == 0)
		return;
	assert(pr->inflight_total >= pr->inflight_bytes[pr->inflight_head]);
	pr->inflight_total -= pr->inflight_bytes[pr->inflight_head];
	pr->inflight_head = (pr->inflight_head + 1) % RAFT_MAX_INFLIGHT;
	pr->inflight_count--;
}

const char *raft__progress_state_name(uint8_t state)
{
	return state == RAFT__REPLICATE ? "replicate" : "probe";
}
