#include "raft/pending.h"

#include <assert.h>
#include <stdlib.h>

#include "raft/internal.h"

err *raft__pending_init(struct raft__pending *p, uint32_t cap)
{
	assert(cap > 0);
	p->slots = calloc(cap, sizeof *p->slots);
	if (!p->slots)
		return err_new(ERR_NOMEM, "raft pending table");
	p->cap = cap;
	p->count = 0;
	p->end = 0;
	return NULL;
}

void raft__pending_free(struct raft__pending *p)
{
	free(p->slots);
	p->slots = NULL;
	p->cap = p->count = p->end = 0;
}

static struct raft__pending_entry *raft__pending_find(struct raft__pending *p, uint8_t kind,
                                                      uint64_t id)
{
	assert(kind != 0);
	for (uint32_t i = 0; i < p->end; i++)
		if (p->slots[i].kind == kind && p->slots[i].id == id)
			return &p->slots[i];
	return NULL;
}

/* The first free slot (the caller checked that one is left). */
static struct raft__pending_entry *raft__pending_free_slot(struct raft__pending *p)
{
	for (uint32_t i = 0; i < p->end; i++)
		if (p->slots[i].kind == 0)
			return &p->slots[i];
	assert(p->end < p->cap);
	return &p->slots[p->end++];
}

err *raft__pending_add(struct raft *r, uint8_t kind, uint64_t id, uint64_t deadline)
{
	struct raft__pending *p = &r->pending;
	assert(kind == RAFT__PENDING_PROPOSAL || kind == RAFT__PENDING_READ);
	if (raft__pending_find(p, kind, id))
		return err_new(ERR_EXISTS, "request %llu is already pending",
		               (unsigned long long)id);
	size_t used = p->count + r->filling.n_reads + r->filling.n_failures;
	if (used >= p->cap)
		return err_new(ERR_LIMIT, "%u requests pending", p->count);
	struct raft__pending_entry *slot = raft__pending_free_slot(p);
	*slot = (struct raft__pending_entry){id, kind, deadline};
	p->count++;
	return NULL;
}

bool raft__pending_remove(struct raft__pending *p, uint8_t kind, uint64_t id)
{
	assert(kind != 0);
	struct raft__pending_entry *slot = raft__pending_find(p, kind, id);
	if (!slot)
		return false;
	assert(p->count > 0);
	*slot = (struct raft__pending_entry){0, 0, 0};
	p->count--;
	while (p->end > 0 && p->slots[p->end - 1].kind == 0)
		p->end--;
	return true;
}

void raft__pending_committed(struct raft *r, uint64_t id)
{
	raft__pending_remove(&r->pending, RAFT__PENDING_PROPOSAL, id);
}

void raft__pending_read_ready(struct raft *r, uint64_t id, uint64_t index)
{
	if (raft__pending_remove(&r->pending, RAFT__PENDING_READ, id))
		raft__outbox_read(&r->filling, id, index);
}

void raft__pending_fail(struct raft *r, uint8_t kind, uint64_t id, uint8_t failure)
{
	if (raft__pending_remove(&r->pending, kind, id))
		raft__outbox_failure(&r->filling, id, failure);
}

/* Fails slot i; the order of failures is the slot order, which is deterministic. */
static void raft__pending_fail_slot(struct raft *r, uint32_t i)
{
	struct raft__pending_entry e = r->pending.slots[i];
	assert(e.kind != 0);
	raft__pending_fail(r, e.kind, e.id,
	                   e.kind == RAFT__PENDING_READ ? RAFT_FAIL_READ : RAFT_FAIL_UNKNOWN);
}

void raft__pending_fail_all(struct raft *r)
{
	for (uint32_t i = 0; i < r->pending.end && r->pending.count > 0; i++)
		if (r->pending.slots[i].kind != 0)
			raft__pending_fail_slot(r, i);
	assert(r->pending.count == 0);
}

void raft__pending_tick(struct raft *r)
{
	for (uint32_t i = 0; i < r->pending.end && r->pending.count > 0; i++) {
		const struct raft__pending_entry *e = &r->pending.slots[i];
		if (e->kind != 0 && e->deadline != 0 && e->deadline <= r->ticks)
			raft__pending_fail_slot(r, i);
	}
}
