/*
 * queue.c — the event pool and the priority queue that orders a world's events.
 *
 * Events live in a fixed pool of slots allocated once, when the world is made; nothing on
 * the hot path allocates except the copy of a message's bytes, and that only when the
 * slot's buffer, kept from its earlier messages, is too small. The pool's size is the sum
 * of every kind's bound (in-flight messages per link, timers per node, pending client
 * steps, fault events), so taking a slot cannot fail once the caller has checked its
 * kind's bound.
 *
 * The heap orders slot numbers by (at_us, seq); each entry carries that key, so sifting
 * reads no event. The sequence number is assigned when an event is queued and strictly
 * increases, so the order is total and does not depend on anything but the order in which
 * the world queued events: two events due at the same microsecond run in the order they
 * were queued. Each slot remembers its heap position, so a re-armed or cancelled timer
 * leaves the heap at once instead of lingering.
 */
#include "sim/sim_internal.h"

#include <assert.h>
#include <stdlib.h>

/* Message buffers start this large (most messages fit) and are kept up to the second size. */
#define SIM__MSG_BUF_MIN 256
#define SIM__MSG_BUF_KEEP (64u << 10)

static bool sim__before(const struct sim__heap_entry *a, const struct sim__heap_entry *b)
{
	if (a->at_us != b->at_us)
		return a->at_us < b->at_us;
	assert(a->seq != b->seq);
	return a->seq < b->seq;
}

static void sim__place(struct sim__queue *q, uint32_t pos, struct sim__heap_entry entry)
{
	q->heap[pos] = entry;
	q->events[entry.slot].heap_pos = pos;
}

static void sim__sift_up(struct sim__queue *q, uint32_t pos)
{
	struct sim__heap_entry entry = q->heap[pos];
	while (pos > 0) {
		uint32_t parent = (pos - 1) / 2;
		if (!sim__before(&entry, &q->heap[parent]))
			break;
		sim__place(q, pos, q->heap[parent]);
		pos = parent;
	}
	sim__place(q, pos, entry);
}

static void sim__sift_down(struct sim__queue *q, uint32_t pos)
{
	struct sim__heap_entry entry = q->heap[pos];
	for (;;) {
		uint32_t child = 2 * pos + 1;
		if (child >= q->count)
			break;
		if (child + 1 < q->count && sim__before(&q->heap[child + 1], &q->heap[child]))
			child++;
		if (!sim__before(&q->heap[child], &entry))
			break;
		sim__place(q, pos, q->heap[child]);
		pos = child;
	}
	sim__place(q, pos, entry);
}

err *sim__queue_init(struct sim__queue *q, uint32_t capacity)
{
	assert(capacity > 0 && capacity < SIM__NONE);
	*q = (struct sim__queue){0};
	q->events = calloc(capacity, sizeof *q->events);
	q->heap = calloc(capacity, sizeof *q->heap);
	q->bufs = calloc(capacity, sizeof *q->bufs);
	if (!q->events || !q->heap || !q->bufs) {
		sim__queue_free(q);
		return err_new(ERR_NOMEM, "sim: no memory for %u events", capacity);
	}
	q->capacity = capacity;
	for (uint32_t i = 0; i < capacity; i++) {
		q->events[i].heap_pos = SIM__NONE;
		q->events[i].next = i + 1 < capacity ? i + 1 : SIM__NONE;
	}
	q->free_head = 0;
	return NULL;
}

void sim__queue_free(struct sim__queue *q)
{
	if (q->bufs)
		for (uint32_t i = 0; i < q->capacity; i++)
			free(q->bufs[i].bytes);
	free(q->bufs);
	free(q->events);
	free(q->heap);
	*q = (struct sim__queue){0};
}

uint32_t sim__queue_alloc(struct sim__queue *q, enum sim__event_kind kind, uint32_t node)
{
	assert(q->free_head != SIM__NONE); /* every kind's bound was checked by the caller */
	assert(q->used < q->capacity);
	uint32_t slot = q->free_head;
	struct sim__event *e = &q->events[slot];
	q->free_head = e->next;
	q->used++;
	*e = (struct sim__event){
	    .heap_pos = SIM__NONE, .next = SIM__NONE, .node = node, .kind = kind};
	return slot;
}

void sim__queue_release(struct sim__queue *q, uint32_t slot)
{
	assert(slot < q->capacity && q->used > 0);
	struct sim__event *e = &q->events[slot];
	assert(e->heap_pos == SIM__NONE);
	assert(e->kind != SIM__EV_MESSAGE || e->u.msg.bytes == q->bufs[slot].bytes);
	if (q->bufs[slot].cap > SIM__MSG_BUF_KEEP) {
		free(q->bufs[slot].bytes); /* rare and large: not worth holding */
		q->bufs[slot] = (struct sim__msg_buf){0};
	}
	*e = (struct sim__event){.heap_pos = SIM__NONE, .next = q->free_head, .kind = SIM__EV_CALL};
	q->free_head = slot;
	q->used--;
}

uint8_t *sim__queue_msg_buf(struct sim__queue *q, uint32_t slot, size_t len)
{
	assert(slot < q->capacity && len <= UINT32_MAX);
	struct sim__msg_buf *b = &q->bufs[slot];
	if (len > b->cap || !b->bytes) {
		size_t cap = len < SIM__MSG_BUF_MIN ? SIM__MSG_BUF_MIN : len;
		uint8_t *bytes = malloc(cap);
		if (!bytes)
			return NULL;
		free(b->bytes);
		*b = (struct sim__msg_buf){bytes, (uint32_t)cap};
	}
	return b->bytes;
}

void sim__queue_push(struct sim__queue *q, uint32_t slot, uint64_t at_us)
{
	assert(slot < q->capacity && q->count < q->capacity);
	struct sim__event *e = &q->events[slot];
	assert(e->heap_pos == SIM__NONE);
	e->at_us = at_us;
	e->seq = q->next_seq++;
	sim__place(q, q->count, (struct sim__heap_entry){at_us, e->seq, slot});
	q->count++;
	sim__sift_up(q, e->heap_pos);
}

void sim__queue_remove(struct sim__queue *q, uint32_t slot)
{
	assert(slot < q->capacity && q->count > 0);
	uint32_t pos = q->events[slot].heap_pos;
	assert(pos < q->count && q->heap[pos].slot == slot);
	q->events[slot].heap_pos = SIM__NONE;
	q->count--;
	if (pos == q->count)
		return;
	struct sim__heap_entry moved = q->heap[q->count];
	sim__place(q, pos, moved);
	/* The last slot, moved into the hole, may belong above or below it. */
	if (pos > 0 && sim__before(&moved, &q->heap[(pos - 1) / 2]))
		sim__sift_up(q, pos);
	else
		sim__sift_down(q, pos);
}

uint32_t sim__queue_peek(const struct sim__queue *q)
{
	assert(q->count <= q->capacity);
	return q->count ? q->heap[0].slot : SIM__NONE;
}
